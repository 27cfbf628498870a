"""The result of a power simulation: power with its Monte Carlo CI per design point.

One job: hold and present the per-trial outcomes of :func:`~.run.simulate_power` (a table
per sample size, the assumptions in ``notes``, the power curve).

The Monte Carlo CI of a power is the Wilson score interval of ``rejections`` out of
``n_trials`` (Wilson 1927; Brown, Cai & DasGupta 2001, Stat Sci 16:101, recommend it
over the Wald interval for proportions near 0 or 1).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..results import AnalysisResult, NoComparison
from ..stats.intervals import wilson
from ..tables import TableResult

#: How each analysis is named in titles.
ANALYSIS_LABELS = {"mmrm": "MMRM", "ancova": "ANCOVA", "responders": "responders",
                   "time_to_relief": "time to relief"}


def wilson_interval(k, n, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval of ``k`` successes out of ``n`` (the package's one
    implementation, ``stats.intervals.wilson``: exactly 1 at ``k = n``, so the power
    curve's error bars are never negative).

    Examples
    --------
    >>> lo, hi = wilson_interval(80, 100)
    >>> round(float(lo), 4), round(float(hi), 4)
    (0.7112, 0.8666)
    >>> float(wilson_interval(200, 200)[1])
    1.0
    """
    return wilson(k, n, level)


@dataclass(frozen=True)
class PowerResult(NoComparison, AnalysisResult):
    """Simulated power per sample size (from :func:`dno.simulate_power
    <dryneedle_outcomes.simulate_power>` or :func:`dno.sample_size
    <dryneedle_outcomes.sample_size>`).

    Attributes
    ----------
    table : pandas.DataFrame
        One row per sample size: ``n_per_arm`` (control arm), ``n_treated``,
        ``n_trials``, ``rejections``, ``power``, ``ci_lower``, ``ci_upper`` (Wilson, 95%),
        ``mean_estimate``, ``empirical_sd`` (SD of the estimates), ``mean_std_error``,
        ``failures`` (fits that did not converge: counted as not rejecting, never dropped).
    trials : pandas.DataFrame
        One row per sample size and trial: ``n_per_arm``, ``trial``, ``estimate``,
        ``std_error``, ``df``, ``p_value``, ``rejected``, ``converged``.
    analysis : str
    alpha : float
    target_power : float or None
        Set by :func:`~dryneedle_outcomes.sample_size`.
    n_required : int or None
        The smallest evaluated ``n_per_arm`` whose simulated power reaches the target
        (None when none does).
    n_plausible : tuple of int
        The evaluated ``n_per_arm`` whose power CI covers the target: the Monte Carlo
        uncertainty of ``n_required``.
    notes, warnings : tuple of str
    """

    table: pd.DataFrame
    trials: pd.DataFrame
    analysis: str
    alpha: float
    target_power: float | None = None
    n_required: int | None = None
    n_plausible: tuple[int, ...] = ()
    notes: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()

    @property
    def converged(self) -> bool:
        """True when every simulated trial's fit converged."""
        return bool((self.table["failures"] == 0).all())

    def _last(self, column: str) -> float:
        return float(self.table[column].iloc[-1])

    @property
    def power(self) -> float:
        """Power at the (largest) sample size simulated."""
        return self._last("power")

    @property
    def ci_lower(self) -> float:
        """Lower Wilson 95% Monte Carlo limit of :attr:`power`."""
        return self._last("ci_lower")

    @property
    def ci_upper(self) -> float:
        """Upper Wilson 95% Monte Carlo limit of :attr:`power`."""
        return self._last("ci_upper")

    def tables(self) -> dict[str, TableResult]:
        """The power table."""
        name = ANALYSIS_LABELS.get(self.analysis, self.analysis)
        title = (f"Simulated power ({name}, two-sided alpha {self.alpha:g})"
                 if self.target_power is None else
                 f"Sample size for {100 * self.target_power:g}% power "
                 f"({name}, two-sided alpha {self.alpha:g})")
        return {"power": TableResult(self.table, title=title, notes=self.notes, digits=3,
                                     labels={"n_per_arm": "Control n",
                                             "n_treated": "Treated n"})}

    def _repr_headline(self) -> str:
        if self.target_power is not None:
            return (f"n per arm for {100 * self.target_power:g}% power: "
                    f"{self.n_required if self.n_required is not None else 'not reached'}")
        return (f"power {self.power:.3f} (95% MC CI {self.ci_lower:.3f} to "
                f"{self.ci_upper:.3f}) at n = {int(self.table['n_per_arm'].iloc[-1])} per arm")

    def plot(self, ax=None, **kwargs):
        """Power curve: simulated power with its Monte Carlo CI against ``n_per_arm``;
        the target (``sample_size``) as a grey line. Returns the Axes."""
        import matplotlib.pyplot as plt

        from ..plots.style import PALETTE, paper_style

        t = self.table.sort_values("n_per_arm")
        with paper_style():
            if ax is None:
                _, ax = plt.subplots()
            n = t["n_per_arm"].to_numpy()
            p = t["power"].to_numpy(dtype=float)  # arrays: one row is not a Series' float
            ax.errorbar(n, p, yerr=[p - t["ci_lower"].to_numpy(dtype=float),
                                    t["ci_upper"].to_numpy(dtype=float) - p],
                        marker="o", ms=3, capsize=2, color=PALETTE[0], **kwargs)
            if self.target_power is not None:
                ax.axhline(self.target_power, color="0.6", lw=0.8, ls="--")
            if self.n_required is not None:
                ax.axvline(self.n_required, color="0.6", lw=0.8, ls=":")
            ax.set_ylim(0, 1)
            ax.set_xlabel("Patients per arm (control)")
            ax.set_ylabel("Power (95% Monte Carlo CI)")
        return ax


def power_table(trials: pd.DataFrame, n_treated: dict) -> pd.DataFrame:
    """The per-design-point summary of the per-trial frame (see :class:`PowerResult`)."""
    g = trials.groupby("n_per_arm", sort=True)
    out = pd.DataFrame({
        "n_trials": g.size(), "rejections": g["rejected"].sum().astype(int),
        "mean_estimate": g["estimate"].mean(), "empirical_sd": g["estimate"].std(),
        "mean_std_error": g["std_error"].mean(),
        "failures": (~trials["converged"]).groupby(trials["n_per_arm"]).sum().astype(int),
    }).reset_index()
    out.insert(1, "n_treated", out["n_per_arm"].map(n_treated).astype(int))
    out["power"] = out["rejections"] / out["n_trials"]
    lo, hi = wilson_interval(out["rejections"], out["n_trials"])
    out["ci_lower"], out["ci_upper"] = lo, hi
    return out[["n_per_arm", "n_treated", "n_trials", "rejections", "power", "ci_lower",
                "ci_upper", "mean_estimate", "empirical_sd", "mean_std_error", "failures"]]


__all__ = ["ANALYSIS_LABELS", "PowerResult", "power_table", "wilson_interval"]
