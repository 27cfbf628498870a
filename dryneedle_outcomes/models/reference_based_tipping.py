"""Tipping-point (delta-adjusted) analyses of a reference-based multiple imputation
(:meth:`~dryneedle_outcomes.ReferenceBasedResult.tipping_point`).

A fixed ``delta`` is added to every imputed value of the chosen arm(s) (or ``j * delta``
at a patient's j-th imputed visit), and the analysis is repeated over a grid of deltas
until the difference between arms is no longer significant: the "tipping point" (Cro et
al. 2020, Stat Med 39:2815-42; ICH E9(R1) A.5.2.3 asks for sensitivity analyses of the
assumptions about missing data). Conditional mean imputation is linear in delta (no
refit); random imputations are re-analysed one by one (``stats.imputation.engine.tipping``).
Also the shared conversion of pooled engine arrays into the result's tables.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import AnalysisError
from ..results import AnalysisResult, comparison_frame
from ..stats.imputation.engine import MIResult, tipping
from ..tables import TableResult

APPROACH_TEXT = {"conditional_mean": "conditional mean",
                  "approximate_bayes": "approximate Bayesian", "bayes": "Bayesian (MCMC)"}


@dataclass(frozen=True)
class TippingPointResult(AnalysisResult):
    """Delta-adjusted analyses
    (:meth:`~dryneedle_outcomes.ReferenceBasedResult.tipping_point`).

    Attributes
    ----------
    table : DataFrame
        ``delta``, ``arm``, ``reference``, ``visit``, ``estimate``, ``std_error``,
        ``ci_lower``, ``ci_upper``, ``p_value`` (and ``df`` for Rubin's rules).
    tipping : DataFrame
        Per arm and visit: ``delta``, the first delta of the grid (in the order given) at
        which the difference is no longer significant at ``alpha`` (missing when it
        stays significant, or was not significant at delta 0), and ``delta_interpolated``
        (where ``p_value`` crosses ``alpha``, linearly between the grid points).
    """

    outcome: str
    delta_arms: tuple[str, ...]
    cumulative: bool
    alpha: float
    conf_level: float
    table: pd.DataFrame
    tipping: pd.DataFrame
    notes: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    converged: bool = True

    @property
    def comparison(self) -> pd.DataFrame:
        """The table in the comparison schema (one row per delta, arm and visit)."""
        return comparison_frame(self.table, measure="mean_difference")

    def tables(self) -> dict[str, TableResult]:
        """The tipping deltas (with the notes) and the full table by delta, each a
        :class:`~dryneedle_outcomes.tables.TableResult`."""
        level = f"{self.conf_level:.0%} CI"
        width = _scale_width(self.outcome)   # 1 decimal on a 0-100 mm scale (Instrument.digits)
        digits = 2 if width is None or width <= 20 else 1
        return {
            "tipping": TableResult(self.tipping.reset_index(drop=True),
                                   title=f"{self.outcome}: delta at which significance "
                                         f"(p < {self.alpha:g}) is lost",
                                   notes=self.notes, conf_level=self.conf_level,
                                   digits=digits),
            "table": TableResult(self.table.reset_index(drop=True),
                                 title=f"{self.outcome}: difference between arms by delta "
                                       f"({level})", conf_level=self.conf_level,
                                 digits=digits),
        }

    def plot(self, ax=None, *, visit=None):
        """Estimate and CI band against delta at ``visit`` (default: the last), the tipping
        delta marked (dotted), the CI level in the legend. Returns the Axes."""
        import matplotlib.pyplot as plt
        from matplotlib.patches import Patch

        from ..plots.legend import ci_label, place_legend
        from ..plots.style import arm_colours, arm_label, paper_style, single_column

        v = self.table["visit"].max() if visit is None else visit
        refs = list(dict.fromkeys(self.table["reference"]))
        arms = list(dict.fromkeys(self.table["arm"]))
        colours = arm_colours(refs + arms, reference=refs[0] if refs else None)
        with paper_style():
            if ax is None:
                _, ax = plt.subplots(figsize=single_column(60), layout="constrained")
            for arm, d in self.table[self.table["visit"] == v].groupby("arm", sort=False):
                d = d.sort_values("delta")
                ax.plot(d["delta"], d["estimate"], marker="o", ms=3, color=colours[arm],
                        label=f"{arm_label(arm)} minus {arm_label(d['reference'].iloc[0])}")
                ax.fill_between(d["delta"], d["ci_lower"], d["ci_upper"], alpha=0.18,
                                linewidth=0, color=colours[arm], label=f"_{arm} CI")
                tp = self.tipping[(self.tipping["arm"] == arm) & (self.tipping["visit"] == v)]
                if len(tp) and np.isfinite(tp["delta_interpolated"].iloc[0]):
                    ax.axvline(tp["delta_interpolated"].iloc[0], ls=":", color=colours[arm],
                               label="_tipping point")
            ax.axhline(0.0, color="0.5", lw=0.8)
            ax.set_xlabel("Delta added to the imputed values" + (" (cumulative)"
                                                                 if self.cumulative else ""))
            ax.set_ylabel(f"Difference at visit {v}")
            handles, labels = ax.get_legend_handles_labels()
            handles.append(Patch(facecolor="0.35", alpha=0.25, linewidth=0))
            labels.append(ci_label(self.conf_level))
            place_legend(ax, handles, labels, prefer="upper left")
        return ax


def tipping_point(res, deltas=None, *, arm=None, cumulative: bool = False,
                  alpha: float | None = None) -> TippingPointResult:
    """The delta-adjusted analyses of ``res`` (a ReferenceBasedResult); see
    :meth:`~dryneedle_outcomes.ReferenceBasedResult.tipping_point` for the arguments."""
    r = res.engine
    alpha = 1.0 - res.conf_level if alpha is None else float(alpha)
    others = [a for a in res.arms if a != res.reference_arm]
    arms = others if arm is None else ([arm] if isinstance(arm, str) else list(arm))
    unknown = [a for a in arms if a not in res.arms]
    if unknown:
        raise AnalysisError(f"tipping_point: unknown arm(s) {unknown}; arms: "
                            f"{list(res.arms)}")
    if deltas is None:
        # a delta moves the difference by about (fraction imputed) x delta: the grid
        # reaches twice the difference at the last visit over that fraction
        last = res.arm_difference[res.arm_difference["visit"] == res.visits[-1]]
        est = last["estimate"].to_numpy()
        big = float(np.max(np.abs(est))) if len(est) else 1.0
        sign = float(-np.sign(est[np.argmax(np.abs(est))])) if len(est) else 1.0
        m = res.missing[(res.missing["visit"] == res.visits[-1])
                        & res.missing["arm"].isin(arms)]
        frac = float(m["n_missing"].sum() / max(m["n"].sum(), 1))
        end = 2.0 * big / max(frac, 0.05)
        width = _scale_width(res.outcome)
        if width is not None:   # a shift wider than the whole scale is impossible
            end = min(end, width)
        deltas = np.linspace(0.0, end * (sign or 1.0), 21)
    deltas = [float(d) for d in deltas]
    codes = [res.arms.index(a) for a in arms]
    x = res.patients.filter(like="x_").to_numpy(float)
    pooled = tipping(r, deltas, codes, cumulative=cumulative,
                     arm=res.patients["arm_code"].to_numpy(), x=x)
    rows = []
    for d, p in zip(deltas, pooled):
        rows.append(pooled_frames(p, r, res, delta=d)[0])
    table = pd.concat(rows, ignore_index=True)
    tip = []
    for (a, v), g in table.groupby(["arm", "visit"], sort=False):
        pv = g["p_value"].to_numpy()
        dl = g["delta"].to_numpy()
        lost = np.flatnonzero(pv >= alpha)
        first = dl[lost[0]] if len(lost) and pv[0] < alpha else np.nan
        interp = np.nan
        if len(lost) and pv[0] < alpha:
            k = lost[0]
            interp = float(np.interp(alpha, [pv[k - 1], pv[k]], [dl[k - 1], dl[k]]))
        tip.append({"arm": a, "visit": v, "p_value_at_0": pv[0], "delta": first,
                    "delta_interpolated": interp})
    notes = (f"Delta added to the imputed values of {', '.join(arms)}"
             + (" (j times delta at the j-th imputed visit)" if cumulative else "")
             + f"; {APPROACH_TEXT[res.approach]} imputation under {res.method}.",)
    return TippingPointResult(res.outcome, tuple(arms), cumulative, alpha,
                              res.conf_level, table, pd.DataFrame(tip), notes=notes)


def pooled_frames(pooled: dict, r: MIResult, res, delta=None):
    """arm_difference and means frames from pooled (K, T) arrays."""
    arms, ref, visits = list(res.arms), res.reference_arm, list(res.visits)
    T = len(visits)
    cols = ["estimate", "std_error", "ci_lower", "ci_upper", "p_value"]
    has_df = "df" in pooled
    diff, means = [], []
    for k, lab in enumerate(r.labels):
        kind, code = lab.split(":", 1)
        arm = arms[int(code)] if code.isdigit() and code not in arms else code
        rec = {"arm": np.repeat(arm, T), "visit": visits}
        for c in cols + (["df"] if has_df else []):
            rec[c] = np.asarray(pooled[c])[k]
        f = pd.DataFrame(rec)
        if kind == "trt":
            f.insert(1, "reference", ref)
            diff.append(f)
        else:
            means.append(f)
    d = pd.concat(diff, ignore_index=True)
    if delta is not None:
        d.insert(0, "delta", delta)
    return d, pd.concat(means, ignore_index=True)


def _scale_width(outcome: str) -> float | None:
    """Upper minus lower limit of ``outcome``'s registered instrument, None if unregistered."""
    from ..errors import MappingError
    from ..instruments import get_instrument

    try:
        inst = get_instrument(outcome)
    except MappingError:   # not a registered instrument: no natural limit to the grid
        return None
    width = float(inst.upper) - float(inst.lower)
    return width if np.isfinite(width) and width > 0 else None


__all__ = ["APPROACH_TEXT", "TippingPointResult", "tipping_point", "pooled_frames"]
