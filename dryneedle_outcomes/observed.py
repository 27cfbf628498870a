"""Observed data per instrument, arm and visit: n, mean (SD), median [IQR], range.

CONSORT 2025 item 23a asks, for each outcome, the results for each group; SAMPL (Lang &
Altman 2015) asks for the observed summaries beside the model estimates, so that a
reader sees the data the model was fitted to (the means of the patients still assessed
at a visit differ from the model's marginal means under dropout). The SD uses the
n - 1 denominator; the quartiles are Hyndman & Fan (1996) type 7 (linear interpolation
between order statistics; R's ``quantile(type = 7)``, the default of R, NumPy and
pandas). With pre- and post-session ratings, one rating per visit: the one the declared
timing rule names (:meth:`~dryneedle_outcomes.Cohort.visit_ratings`).

Examples
--------
>>> import dryneedle_outcomes as dno
>>> obs = dno.observed_summary(dno.simulate_cohort(n_patients=40, seed=7),
...                            "first_step_pain")
>>> obs.table.columns.tolist()[:6]
['instrument', 'arm', 'visit', 'n', 'n_missing', 'mean']
>>> row = obs.display().iloc[0]
>>> row["arm"], int(row["visit"]), int(row["n"])
('dry_needling', 0, 20)
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .cohort import Cohort
from .errors import AnalysisError
from .instruments import get_instrument
from .models.design import visit_days
from .results import AnalysisResult, NoComparison, nothing_fitted
from .tables import TableResult

#: The columns of :attr:`ObservedSummary.table`.
COLUMNS = ("instrument", "arm", "visit", "n", "n_missing", "mean", "sd", "median", "q1",
           "q3", "min", "max")
#: The quantile definition (Hyndman & Fan 1996 type 7; R ``quantile(type = 7)``).
QUANTILE_TYPE = 7


@dataclass(frozen=True)
class ObservedSummary(NoComparison, AnalysisResult):
    """Observed values per instrument, arm and visit (see the module docstring).

    Attributes
    ----------
    table : pandas.DataFrame
        ``COLUMNS`` (``instrument``, ``arm``, ``visit`` and the statistics): ``n`` values
        observed, ``n_missing`` (patients allocated to the
        arm without a value at the visit), ``mean``, ``sd`` (n - 1), ``median``, ``q1``,
        ``q3`` (type 7), ``min``, ``max``. Unrounded.
    digits : int
        Decimals of the display.
    notes, warnings : tuple of str
    """

    table: pd.DataFrame
    digits: int = 1
    notes: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    converged: bool = nothing_fitted()
    #: Mean day since baseline of each visit and the treatment sessions (None when not
    #: recorded): where :meth:`plot` puts the visits in time.
    visit_days: dict = field(default_factory=dict, repr=False, compare=False)
    session_visits: tuple | None = field(default=None, repr=False, compare=False)

    def display(self) -> pd.DataFrame:
        """``instrument``, ``arm``, ``visit``, ``n``, ``mean (SD)``, ``median [IQR]`` and
        ``range`` as text."""
        t = self.table
        d = self.digits

        def f(x: pd.Series) -> pd.Series:
            return x.map(lambda v: "" if pd.isna(v) else f"{v:.{d}f}")

        out = t[["instrument", "arm", "visit", "n"]].copy()
        has = t["n"].to_numpy() > 0
        sd = f(t["sd"]).replace("", "NA")
        out["mean (SD)"] = np.where(has, f(t["mean"]) + " (" + sd + ")", "")
        out["median [IQR]"] = np.where(has, f(t["median"]) + " [" + f(t["q1"]) + ", "
                                       + f(t["q3"]) + "]", "")
        out["range"] = np.where(has, f(t["min"]) + " to " + f(t["max"]), "")
        return out

    def beside(self, fit) -> pd.DataFrame:
        """The observed values of the fit's outcome next to its model estimates.

        Parameters
        ----------
        fit : TrajectoryResult or ReferenceBasedResult
            Its ``marginal_means`` (or ``means``): ``arm``, ``visit``, ``estimate``,
            ``ci_lower``, ``ci_upper``.

        Returns
        -------
        pandas.DataFrame
            Per arm and visit of the fit: ``arm``, ``visit``, ``n``, ``mean``, ``sd``
            (observed) and ``estimate``, ``ci_lower``, ``ci_upper`` (model).

        Examples
        --------
        >>> import dryneedle_outcomes as dno
        >>> cohort = dno.simulate_cohort(n_patients=40, seed=7)
        >>> fit = dno.fit_trajectory(cohort, model="session_means", adjust=())
        >>> both = dno.observed_summary(cohort).beside(fit)
        >>> both.columns.tolist()
        ['arm', 'visit', 'n', 'mean', 'sd', 'estimate', 'ci_lower', 'ci_upper']
        """
        means = getattr(fit, "marginal_means", None)
        if means is None:
            means = fit.means
        obs = self.table[self.table["instrument"] == fit.outcome]
        if obs.empty:
            raise AnalysisError(f"no observed values of {fit.outcome!r} in this summary; "
                                "build it with observed_summary(cohort, outcome) for it")
        model = means[["arm", "visit", "estimate", "ci_lower", "ci_upper"]].copy()
        model["arm"] = model["arm"].astype(str)
        model["visit"] = model["visit"].astype(int)
        out = obs[["arm", "visit", "n", "mean", "sd"]].merge(model, on=["arm", "visit"],
                                                             how="inner")
        return out.reset_index(drop=True)

    def tables(self) -> dict[str, TableResult]:
        """The display table (the unrounded numbers are :attr:`table`)."""
        return {"observed_data": TableResult(self.display(), title="Observed data per arm "
                                             "and visit: n, mean (SD), median [IQR], range",
                                             notes=self.notes)}

    def plot(self, ax=None, *, instrument: str | None = None, **kwargs):
        """Observed median with IQR (bars) and mean (open markers) per arm and visit, for
        ``instrument`` (default the first), each visit at its time (weeks since baseline
        when the visits are dated) with the follow-up visits shaded; returns the Axes."""
        from types import SimpleNamespace

        import matplotlib.pyplot as plt

        from .plots.style import arm_colours, arm_legend, paper_style
        from .plots.trajectory import mark_visits, visit_positions

        t = self.table
        instrument = instrument or str(t["instrument"].iloc[0])
        t = t[t["instrument"] == instrument]
        arms = list(pd.unique(t["arm"]))
        colours = arm_colours(arms)
        visits = sorted(int(v) for v in pd.unique(t["visit"]))
        frame = SimpleNamespace(visits=visits, visit_days=self.visit_days,
                                session_visits=self.session_visits)
        where, label = visit_positions(frame)
        with paper_style():
            if ax is None:
                _, ax = plt.subplots()
            for i, arm in enumerate(arms):
                s = t[t["arm"] == arm]
                x = s["visit"].map(where).to_numpy(float) + (i - (len(arms) - 1) / 2) * 0.15
                ax.errorbar(x, s["median"], yerr=[s["median"] - s["q1"], s["q3"] - s["median"]],
                            fmt="o", color=colours[arm], label=f"{arm} (median, IQR)",
                            markersize=3, capsize=0, linewidth=0.8, **kwargs)
                ax.plot(x, s["mean"], linestyle="none", marker="D", markerfacecolor="none",
                        color=colours[arm], markersize=3, label=f"{arm} (mean)")
            mark_visits(ax, frame, where, label)
            ax.set_ylabel(get_instrument(instrument).label)
            arm_legend(ax, fontsize=6)
        return ax


def observed_summary(cohort: Cohort, outcome: str | list[str] | None = None, *,
                     digits: int = 1) -> ObservedSummary:
    """Observed values of ``outcome`` (default every instrument) per arm and visit.

    Parameters
    ----------
    cohort : Cohort
    outcome : str or list of str, optional
        Instrument column(s); default :attr:`Cohort.instruments`.
    digits : int, default 1
        Decimals of the display (the table keeps every digit).

    Returns
    -------
    ObservedSummary

    Raises
    ------
    AnalysisError
        When an outcome is not in the assessments, or the cohort has no instrument.

    Examples
    --------
    >>> import dryneedle_outcomes as dno
    >>> obs = dno.observed_summary(dno.simulate_cohort(n_patients=40, seed=7))
    >>> sorted(obs.table["instrument"].unique())
    ['first_step_pain', 'vas_pain']
    """
    outcomes = ([outcome] if isinstance(outcome, str) else list(outcome)) if outcome \
        else list(cohort.instruments)
    if not outcomes:
        raise AnalysisError("the cohort has no instrument with a value to summarise")
    bad = [o for o in outcomes if o not in cohort.assessments]
    if bad:
        raise AnalysisError(f"outcome(s) {bad} not in this cohort's assessments; available: "
                            f"{', '.join(cohort.instruments) or 'none'}")
    a = cohort.visit_ratings().assessments
    arm = a["patient_id"].map(cohort.patients.set_index("patient_id")["arm"]).astype(str)
    arms = [x for x in cohort.arms]
    visits = sorted(int(v) for v in pd.unique(a["visit"]))
    long = pd.DataFrame({"arm": np.repeat(arm.to_numpy(), len(outcomes)),
                         "visit": np.repeat(a["visit"].to_numpy(), len(outcomes)),
                         "instrument": np.tile(outcomes, len(a)),
                         "value": a[outcomes].to_numpy(dtype=float).ravel()})
    # rows without a value are not observations: counted in n_missing, not summarised
    long = long.dropna(subset=["value"])
    g = long.groupby(["instrument", "arm", "visit"])["value"]
    stats = pd.DataFrame({"n": g.size(), "mean": g.mean(), "sd": g.std(ddof=1),
                          "median": g.median(), "q1": g.quantile(0.25),
                          "q3": g.quantile(0.75), "min": g.min(), "max": g.max()})
    grid = pd.MultiIndex.from_product([outcomes, arms, visits],
                                      names=["instrument", "arm", "visit"])
    stats = stats.reindex(grid)
    stats["n"] = stats["n"].fillna(0).astype(np.int64)
    allocated = cohort.patients["arm"].astype(str).value_counts()
    stats["n_missing"] = (grid.get_level_values("arm").map(allocated).to_numpy()
                          - stats["n"].to_numpy())
    table = stats.reset_index()[list(COLUMNS)]
    notes = ("n: patients with a value; n_missing: patients allocated to the arm without "
             "one. SD with the n - 1 denominator; median and IQR [Q1, Q3] by quantile "
             f"type {QUANTILE_TYPE} (Hyndman & Fan 1996; R's default). Observed values, "
             "before any model or imputation (SAMPL; CONSORT 2025 item 23a).",)
    timing = cohort.visit_ratings().note
    if timing:
        notes += (timing + ".",)
    try:
        sessions = tuple(cohort.session_visits())
    except AnalysisError:        # needling not recorded: no follow-up to mark
        sessions = None
    return ObservedSummary(table=table, digits=digits, notes=notes,
                           visit_days=visit_days(a, visits), session_visits=sessions)


__all__ = ["COLUMNS", "ObservedSummary", "QUANTILE_TYPE", "observed_summary"]
