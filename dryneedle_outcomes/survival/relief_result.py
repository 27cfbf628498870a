"""``ReliefResult``: everything :func:`~dryneedle_outcomes.time_to_relief` estimated.

Tables are DataFrame attributes; :meth:`ReliefResult.rmst` and
:meth:`ReliefResult.at_risk` compute on request; :meth:`ReliefResult.summary` prints a
plain-text report and the object renders as HTML in a notebook.
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..errors import AnalysisError
from ..results import AnalysisResult, arm_terms, empty_comparison, titled_tables
from ..tables import TableResult, format_median, format_p, trailer_lines
from .relief import Relief
from .relief_summaries import TAU_REQUIRED, median_notes, relief_rmst
from .relief_tests import IntervalTestViews
from .whole_sessions import relieved_by_session

CURVE_COLUMNS = ["arm", "time", "estimate", "ci_lower", "ci_upper"]
#: The analysis's own columns of ``comparison``, after the schema's.
COMPARISON_EXTRA = ["model", "coef", "std_error"]
#: ``comparison["model"]`` of the interval-censored PH model's rows.
IC_MODEL = "interval-censored PH"
TIME_UNITS = {"days": "days", "sessions": "sessions"}


def _fmt(x: float, digits: int = 1) -> str:
    return format_median(x, digits)


@dataclass(frozen=True, eq=False)
class ReliefResult(IntervalTestViews, AnalysisResult):
    """Time to relief by arm (see :func:`~dryneedle_outcomes.time_to_relief`).

    Attributes
    ----------
    events : DataFrame
        One row per patient (ADTTE-like): ``patient_id``, ``arm``, ``lower``, ``upper``,
        ``time``, ``event``, ``censor_reason``, ``visit_lower``, ``visit_upper``,
        ``baseline``.
    excluded : DataFrame
        Patients not analysed (``patient_id``, ``arm``, ``reason``).
    curve : DataFrame
        Probability of no relief yet: ``arm``, ``time``, ``estimate``, ``ci_lower``,
        ``ci_upper``, one row per arm and time where it changes.
    median : DataFrame
        ``arm``, ``estimate``, ``ci_lower``, ``ci_upper`` (NaN when not reached) and
        ``note`` (why an interval is zero-width or "not reached to not reached"; empty
        otherwise). On the sessions timescale whole sessions.
    relieved_by_session : DataFrame
        Sessions timescale: ``arm``, ``session``, ``estimate`` (proportion with relief
        seen by that whole session), ``ci_lower``, ``ci_upper``.
    per_session_hazard : DataFrame or None
        Sessions timescale: the discrete-time (cloglog) probability of relief at each
        session among patients without relief before it.
    logrank : dict
        ``statistic``, ``df``, ``p_value`` (right-censored view).
    interval_test : IntervalTestResult or None
        The generalised log-rank test for interval-censored data on the patients'
        ``(lower, upper]`` (:func:`~dryneedle_outcomes.interval_test`; k-sample over all
        arms, stratified with ``strata``): ``statistic``, ``df``, ``p_value``, ``z``. The
        primary comparison when ``interval_censored=True``.
    tests : DataFrame
        The tests of no difference between arms, primary first: ``test``, ``role``,
        ``statistic``, ``df``, ``p_value``.
    hazard_ratios : DataFrame
        Cox model (Efron ties): ``term``, ``estimate``, ``ci_lower``, ``ci_upper``,
        ``p_value`` (plus ``coef``, ``std_error``). With ``interval_censored=True`` this
        is the right-censored view (secondary).
    ic_hazard_ratios : DataFrame
        The primary hazard ratios with ``interval_censored=True``: the semi-parametric
        PH model of the intervals (:func:`~dryneedle_outcomes.fit_ic_ph`): ``term``,
        ``estimate``, ``ci_lower``, ``ci_upper`` (bootstrap percentile), ``p_value``
        (profile likelihood ratio), ``method``; empty otherwise.
    time_ratios : DataFrame
        AFT models: ``distribution``, ``term``, ``estimate``, ``ci_lower``,
        ``ci_upper``, ``p_value``.
    comparison : DataFrame
        Each arm against the reference arm in the comparison schema
        (:mod:`dryneedle_outcomes.results`): with ``interval_censored=True`` first the
        interval-censored log-rank test of the arm against the reference (``measure``
        ``score_z``: its standardised score, > 0 relief sooner; no CI), then the
        interval-censored PH model's hazard ratio, the Cox hazard ratio, each AFT model's
        time ratio and (``timescale="sessions"``) the discrete-time hazard ratio, with
        ``model``, ``coef`` (log scale) and its ``std_error`` after the schema's columns,
        then ``view`` (``"interval-censored (primary)"`` for the interval-censored PH
        model, ``"right-censored view (secondary)"`` for Cox when both are shown).
    notes, warnings : tuple of str
        Choices the reader must know; problems (non-proportional hazards,
        non-convergence).

    Examples
    --------
    >>> import dryneedle_outcomes as dno
    >>> cohort = dno.simulate_cohort(n_patients=84, seed=2014)
    >>> res = dno.time_to_relief(cohort, interval_censored=False, distributions=("weibull",))
    >>> res.rmst(tau=42)[["arm", "tau"]].to_numpy().tolist()     # tau pre-specified
    [['sham', 42.0], ['dry_needling', 42.0], ['dry_needling - sham', 42.0]]
    >>> res.at_risk([0, 28]).columns.tolist()
    ['arm', 'time', 'n_at_risk', 'n_events', 'n_censored']
    >>> res.summary().splitlines()[0].split(", relief = ")[1]
    'improvement from baseline >= 19 mm (MCID), sustained at two consecutive assessments'
    """

    outcome: str
    relief: Relief
    definition: str
    timescale: str
    interval_censored: bool
    arms: list[str]
    reference_arm: str
    conf_level: float
    conf_type: str
    derived: Any
    km: dict
    turnbull_fits: dict
    bands: dict
    logrank_result: Any
    cox: Any
    ph_test: pd.DataFrame | None
    aft: dict
    discrete_hazard: Any
    design_missing: pd.DataFrame
    strata: str | None
    covariates: tuple
    n_boot: int
    seed: int | None
    notes: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    interval_test_result: Any = None
    interval_pairwise: dict = field(default_factory=dict)
    session_curves: dict = field(default_factory=dict)
    rmst_tau: float | None = None
    _cache: dict = field(default_factory=dict, repr=False, compare=False)
    ic_ph: Any = None

    # ------------------------------------------------------------------ data
    @property
    def events(self) -> pd.DataFrame:
        """The per-patient intervals (ADTTE-like); see the class docstring."""
        return self.derived.events

    @property
    def excluded(self) -> pd.DataFrame:
        """Patients not analysed: ``patient_id``, ``arm``, ``reason``."""
        return self.derived.excluded

    @property
    def unused(self) -> pd.DataFrame:
        """Post-baseline assessments not used (``patient_id``, ``visit``, ``reason``)."""
        return self.derived.unused

    @property
    def excluded_from_models(self) -> pd.DataFrame:
        """Patients left out of the regression models for a missing covariate."""
        return self.design_missing

    @property
    def converged(self) -> bool:
        """True when every fitted model converged (see ``warnings``)."""
        fits = [f for f in (self.cox, *self.aft.values(), *self.turnbull_fits.values(),
                            self.discrete_hazard) if f is not None]
        return all(bool(f.converged) for f in fits)

    @property
    def n_patients(self) -> int:
        """Patients analysed."""
        return len(self.events)

    @property
    def n_events(self) -> int:
        """Patients with relief."""
        return int(self.events["event"].sum())

    # ------------------------------------------------------------------ curves
    @property
    def kaplan_meier(self) -> pd.DataFrame:
        """Kaplan-Meier tables per arm (right-censored view), every distinct time."""
        return pd.concat([fit.table.assign(arm=a)[["arm", *fit.table.columns]]
                          for a, fit in self.km.items()], ignore_index=True)

    @property
    def turnbull(self) -> pd.DataFrame | None:
        """Turnbull curves per arm with the NPMLE's intervals and bootstrap bands."""
        if not self.turnbull_fits:
            return None
        parts = []
        for a, fit in self.turnbull_fits.items():
            c = fit.curve[["time", "time_lower", "time_upper", "estimate"]].copy()
            c.insert(0, "arm", a)
            if a in self.bands:
                b = self.bands[a].bands
                c["ci_lower"] = b["ci_lower"].to_numpy()
                c["ci_upper"] = b["ci_upper"].to_numpy()
            else:
                c["ci_lower"] = np.nan
                c["ci_upper"] = np.nan
            parts.append(c)
        return pd.concat(parts, ignore_index=True)

    @property
    def curve(self) -> pd.DataFrame:
        """Probability of no relief yet per arm and time where it changes.

        On the sessions timescale one row per arm and whole session where the step
        function changes (see :mod:`~dryneedle_outcomes.survival.whole_sessions`).
        """
        if self.session_curves:
            parts = []
            for a, sc in self.session_curves.items():
                c = sc.curve
                prev = np.r_[1.0, c["estimate"].to_numpy()[:-1]]
                changed = ~np.isclose(c["estimate"].to_numpy(), prev, rtol=0, atol=1e-12)
                parts.append(pd.DataFrame({"arm": a, "time": c["session"], "estimate":
                                           c["estimate"], "ci_lower": c["ci_lower"],
                                           "ci_upper": c["ci_upper"]})[changed])
            return pd.concat(parts, ignore_index=True)[CURVE_COLUMNS]
        if self.interval_censored:
            return self.turnbull[CURVE_COLUMNS].reset_index(drop=True)
        parts = []
        for a, fit in self.km.items():
            t = fit.table
            parts.append(t.loc[t["n_event"] > 0, CURVE_COLUMNS[1:]].assign(arm=a))
        return pd.concat(parts, ignore_index=True)[CURVE_COLUMNS]

    @property
    def median(self) -> pd.DataFrame:
        """Median time to relief per arm with its CI (NaN: not reached) and a ``note``."""
        rows = []
        unit = TIME_UNITS[self.timescale]
        for a in self.arms:
            n_nr, n_boot = 0, None
            if self.session_curves:
                m = self.session_curves[a].median
                est, lo, hi = (float(m[k]) if np.isfinite(m[k]) else np.nan
                               for k in ("estimate", "ci_lower", "ci_upper"))
                n_nr = int(m["n_not_reached"])
                n_boot = self.n_boot if self.interval_censored else None
                if self.interval_censored and n_boot:
                    lo, hi = float(m["ci_lower"]), float(m["ci_upper"])
            elif self.interval_censored:
                est = float(self.turnbull_fits[a].median())
                lo = hi = np.nan
                n_boot = self.n_boot
                if a in self.bands:
                    m = self.bands[a].median.iloc[0]
                    lo, hi = float(m["ci_lower"]), float(m["ci_upper"])
                    n_nr = int(m["n_not_reached"])
            else:
                m = self.km[a].median()
                est, lo, hi = float(m["estimate"]), float(m["ci_lower"]), float(m["ci_upper"])
            note = median_notes(est, lo, hi, n_not_reached=n_nr, n_boot=n_boot, unit=unit,
                                conf_level=self.conf_level)
            if self.interval_censored and not self.session_curves and self.n_boot \
                    and a not in self.bands:
                note = ("no relief in this arm: its curve stays at 1, so there is no median "
                        "and nothing to bootstrap")
            rows.append({"arm": a, "estimate": est, "ci_lower": lo, "ci_upper": hi,
                         "note": note})
        return pd.DataFrame(rows)

    @property
    def relieved_by_session(self) -> pd.DataFrame:
        """Sessions timescale: proportion with relief seen by each whole session, per arm,
        with its CI (empty on the days timescale)."""
        return relieved_by_session(self.session_curves)

    @property
    def per_session_hazard(self) -> pd.DataFrame | None:
        """Sessions timescale: the discrete-time (cloglog) probability of relief at each
        session among patients without relief before it (None otherwise)."""
        return None if self.discrete_hazard is None else self.discrete_hazard.hazard

    # ------------------------------------------------------------------ tests and models
    @property
    def logrank(self) -> dict:
        """The log-rank test (right-censored view): statistic, df, p_value."""
        if self.logrank_result is None:
            return {"statistic": np.nan, "df": 0, "p_value": np.nan}
        r = self.logrank_result
        return {"statistic": float(r["statistic"]), "df": int(r["df"]),
                "p_value": float(r["p_value"])}

    @property
    def hazard_ratios(self) -> pd.DataFrame:
        """Cox model (Efron ties) hazard ratios; > 1: relief sooner."""
        cols = ["term", "estimate", "ci_lower", "ci_upper", "p_value", "coef", "std_error"]
        if self.cox is None:
            return pd.DataFrame(columns=cols)
        return self.cox.table[cols].reset_index(drop=True)

    @property
    def ic_hazard_ratios(self) -> pd.DataFrame:
        """Interval-censored PH model hazard ratios (the primary ones); > 1: relief sooner."""
        cols = ["term", "estimate", "ci_lower", "ci_upper", "p_value", "method"]
        if self.ic_ph is None:
            return pd.DataFrame(columns=cols)
        return self.ic_ph.table[cols].reset_index(drop=True)

    @property
    def time_ratios(self) -> pd.DataFrame:
        """AFT time ratios per distribution; < 1: relief sooner."""
        parts = []
        for dist, fit in self.aft.items():
            t = fit.table
            t = t[t["term"] != "(Intercept)"]
            parts.append(t.assign(distribution=dist)[
                ["distribution", "term", "estimate", "ci_lower", "ci_upper", "p_value",
                 "coef", "std_error"]])
        if not parts:
            return pd.DataFrame(columns=["distribution", "term", "estimate", "ci_lower",
                                         "ci_upper", "p_value", "coef", "std_error"])
        return pd.concat(parts, ignore_index=True)

    @property
    def comparison(self) -> pd.DataFrame:
        """Each arm against the reference: hazard ratios (Cox, discrete-time) and time
        ratios (AFT), in the comparison schema; ``model`` says which model."""
        parts = [("cox", "hazard_ratio", self.hazard_ratios)]
        if self.ic_ph is not None:
            ic = self.ic_ph.table.rename(columns={"log_hr": "coef"})
            parts.insert(0, (IC_MODEL, "hazard_ratio", ic))
        parts += [(f"{d} aft", "time_ratio", t.drop(columns="distribution"))
                  for d, t in self.time_ratios.groupby("distribution", sort=False)]
        if self.discrete_hazard is not None:
            parts.append(("discrete-time cloglog", "hazard_ratio",
                          self.discrete_hazard.coefficients))
        frames = [arm_terms(table, self.reference_arm, measure, model)
                  for model, measure, table in parts]
        if self._interval_primary():
            frames.insert(0, self._interval_comparison())
        frames = [f for f in frames if len(f)]
        if not frames:
            return empty_comparison([*COMPARISON_EXTRA, "view"])
        out = pd.concat(frames, ignore_index=True)
        views = {IC_MODEL: "interval-censored (primary)"}
        if self._interval_primary():
            views[self._interval_label()] = "interval-censored (primary)"
        if self.ic_ph is not None:
            views["cox"] = "right-censored view (secondary)"
        return out.assign(view=out["model"].map(views).fillna(""))

    @property
    def model_fit(self) -> pd.DataFrame:
        """Log-likelihood and AIC of each parametric model (lower AIC fits better)."""
        return pd.DataFrame([{"distribution": d, "loglik": f.loglik, "aic": f.aic,
                              "scale": f.scale, "converged": f.converged}
                             for d, f in self.aft.items()])

    # ------------------------------------------------------------------ on request
    def default_tau(self) -> float:
        """Largest time every arm still observes (the minimum over arms of the last time).

        Exploratory only: a ``tau`` read off the data is not a pre-specified estimand,
        so :meth:`rmst` does not use it by default and the report never does.
        """
        ev = self.events
        return float(ev.groupby("arm", observed=True)["time"].max().min())

    def rmst(self, tau: float | None = None) -> pd.DataFrame:
        """Restricted mean time without relief up to ``tau``, per arm and the differences.

        ``interval_censored=True``: the area under each arm's Turnbull NPMLE up to
        ``tau`` (days: survfit's convention, each drop at the midpoint of its Turnbull
        interval, R's ``print(survfit(Surv(l, r, type = "interval2") ~ 1), rmean =
        tau)``; sessions: the whole-session step curve, the restricted mean number of
        sessions without relief), with ``bound_lower``/``bound_upper`` the smallest
        and largest area any NPMLE gives (it is not unique inside Turnbull intervals), a bootstrap
        percentile CI (``n_boot`` replicates, patients resampled within arm, the
        result's seed) and for each arm minus the reference the percentile CI of the
        difference of the arms' replicates (no p-value). ``interval_censored=False``:
        the area under each arm's Kaplan-Meier curve (right-censored view) with the
        variance of R's ``print(survfit, rmean = tau)``, and Wald CIs and p-values of
        the differences. A negative difference: relief comes sooner. See
        :mod:`~dryneedle_outcomes.survival.relief_summaries`.

        Parameters
        ----------
        tau : float
            Restriction time, pre-specified (protocol/SAP; config ``rmst_tau``). Not
            chosen from the data: there is no default (:meth:`default_tau` is
            exploratory).

        Returns
        -------
        DataFrame
            ``arm`` (or ``"<arm> - <reference>"``), ``tau``, ``estimate``,
            ``std_error``, ``ci_lower``, ``ci_upper``, ``p_value``, ``bound_lower``,
            ``bound_upper``, ``method`` ("turnbull" or "kaplan-meier"), ``note``.

        Raises
        ------
        AnalysisError
            When ``tau`` is not given (it must be pre-specified) or not positive.
        """
        if tau is None:
            raise AnalysisError(TAU_REQUIRED)
        key = ("rmst", float(tau))
        if key not in self._cache:
            self._cache[key] = relief_rmst(self, tau)
        return self._cache[key].copy()

    def default_times(self) -> np.ndarray:
        """Tick times for at-risk tables: whole sessions, or 1- or 2-week steps in days."""
        last = float(self.events["time"].max())
        if self.timescale == "sessions":
            return np.arange(0, math.floor(last) + 1, dtype=float)
        step = 7.0 if last <= 42 else 14.0 if last <= 120 else 28.0
        return np.arange(0, last + 1e-9, step)

    def at_risk(self, times=None) -> pd.DataFrame:
        """Patients at risk, and cumulative events and censorings, per arm at ``times``.

        Parameters
        ----------
        times : sequence of float, optional
            Default :meth:`default_times`.

        Returns
        -------
        DataFrame
            ``arm``, ``time``, ``n_at_risk``, ``n_events``, ``n_censored``.
        """
        times = self.default_times() if times is None else np.asarray(times, dtype=float)
        return pd.concat([self.km[a].at_risk(times).assign(arm=a)[
            ["arm", "time", "n_at_risk", "n_events", "n_censored"]] for a in self.arms],
            ignore_index=True)

    # ------------------------------------------------------------------ display
    def _time_label(self) -> str:
        return "Sessions received" if self.timescale == "sessions" else "Days since baseline"

    def summary(self) -> str:
        """A plain-text report of the analysis."""
        unit = TIME_UNITS[self.timescale]
        ev = self.events
        lines = [f"Time to relief: {self.outcome}, relief = {self.definition}",
                 f"Timescale: {unit}; "
                 + ("interval-censored (Turnbull, bootstrap CI)" if self.interval_censored
                    else "right-censored (Kaplan-Meier)"),
                 f"Patients analysed: {len(ev)} ({self.n_events} with relief); excluded: "
                 f"{len(self.excluded)}", ""]
        counts = ev.groupby("arm", observed=True)["event"].agg(["size", "sum"])
        lines.append(f"Median time to relief ({unit}, {self.conf_level:.0%} CI):")
        digits = 0 if self.timescale == "sessions" else 1
        for _, r in self.median.iterrows():
            n, e = counts.loc[r["arm"]] if r["arm"] in counts.index else (0, 0)
            lines.append(f"  {r['arm']:<16} n={int(n):<5} relief={int(e):<5} "
                         f"{_fmt(r['estimate'], digits)} ({_fmt(r['ci_lower'], digits)} to "
                         f"{_fmt(r['ci_upper'], digits)})"
                         + (f"  [{r['note']}]" if r["note"] else ""))
        if self.session_curves:
            rb = self.relieved_by_session
            lines.append(f"Proportion with relief by session ({self.conf_level:.0%} CI):")
            for a, g in rb.groupby("arm", sort=False):
                lines.append(f"  {a:<16} " + ", ".join(
                    f"{int(r.session)}: {r.estimate:.0%}"
                    + (f" ({r.ci_lower:.0%} to {r.ci_upper:.0%})"
                       if np.isfinite(r.ci_lower) else "") for r in g.itertuples()))
        lr = self.logrank
        it = self.interval_test_result
        if self._interval_primary():
            z = "" if it.z is None else f", z = {it.z:.2f}"
            label = self._interval_label()
            lines += ["", f"{label[:1].upper()}{label[1:]}, primary comparison: chi-square "
                      f"{it.statistic:.2f} on {it.df} df{z}, {format_p(it.p_value)}"]
        if self.logrank_result is not None:
            label = self._logrank_label()
            if not self._interval_primary():
                lines.append("")
            lines.append(f"{label[:1].upper()}{label[1:]}: chi-square {lr['statistic']:.2f} "
                         f"on {lr['df']} df, {format_p(lr['p_value'])}")
        ic = self.ic_hazard_ratios
        if len(ic):
            lines.append("Interval-censored PH model (primary), hazard ratio of relief "
                         "(> 1: sooner; bootstrap percentile CI, profile LR p):")
            for _, r in ic.iterrows():
                lines.append(f"  {r['term']:<24} {r['estimate']:.2f} ({r['ci_lower']:.2f} to "
                             f"{r['ci_upper']:.2f}), {format_p(r['p_value'])}")
        hr = self.hazard_ratios
        if len(hr):
            lines.append("Cox model (Efron ties), hazard ratio of relief (> 1: sooner)"
                         + (", right-censored view (secondary):" if len(ic) else ":"))
            for _, r in hr.iterrows():
                lines.append(f"  {r['term']:<24} {r['estimate']:.2f} ({r['ci_lower']:.2f} to "
                             f"{r['ci_upper']:.2f}), {format_p(r['p_value'])}")
        tr = self.time_ratios
        if len(tr):
            lines.append("AFT models, time ratio (< 1: relief sooner):")
            for _, r in tr.iterrows():
                lines.append(f"  {r['distribution']:<12} {r['term']:<24} {r['estimate']:.2f} "
                             f"({r['ci_lower']:.2f} to {r['ci_upper']:.2f}), "
                             f"{format_p(r['p_value'])}")
        if len(self.arms) > 1 and self.rmst_tau is not None:
            rm = self.rmst(self.rmst_tau)
            lines.append(f"Restricted mean time without relief up to {self.rmst_tau:g} {unit} "
                         "(pre-specified tau"
                         + (", Turnbull curve, bootstrap CI):" if self.interval_censored
                            else ", Kaplan-Meier):"))
            for _, r in rm.iterrows():
                lines.append(f"  {r['arm']:<28} {r['estimate']:.2f} ({r['ci_lower']:.2f} to "
                             f"{r['ci_upper']:.2f})")
        elif len(self.arms) > 1:
            lines.append("Restricted mean time without relief: not shown, no restriction time "
                         "tau was pre-specified (rmst_tau); tau is not chosen from the data.")
        lines += trailer_lines(self.methods(), self.warnings)
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()

    def _repr_headline(self) -> str:
        return (f"time to relief of {self.outcome} ({self.timescale}), {self.n_patients} "
                f"patients, {self.n_events} with relief")

    def _heading_html(self) -> str:
        parts = [f"<h4>Time to relief: {html.escape(self.outcome)}</h4>",
                 f"<p>Relief = {html.escape(self.definition)}; timescale "
                 f"{html.escape(self.timescale)}; {self.n_patients} patients, "
                 f"{self.n_events} with relief.</p>"]
        if self._interval_primary():
            it = self.interval_test_result
            label = html.escape(self._interval_label())
            parts.append(f"<p>{label[:1].upper()}{label[1:]}, primary comparison: "
                         f"chi-square {it.statistic:.2f} on {it.df} df, "
                         f"{html.escape(format_p(it.p_value))}</p>")
        if self.logrank_result is not None:
            lr = self.logrank
            label = ("Log-rank, right-censored view (secondary)" if self._interval_primary()
                     else "Log-rank")
            parts.append(f"<p>{label}: chi-square {lr['statistic']:.2f} on {lr['df']} df, "
                         f"{html.escape(format_p(lr['p_value']))}</p>")
        return "".join(parts)

    def methods(self) -> tuple[str, ...]:
        """What was estimated, in sentences (definition, timescale, patients, the curve's
        method, the right-censored view of the tests, reference arm, adjustment, strata),
        then :attr:`notes`: printed under the tables, by :meth:`summary` and in the report.
        """
        unit = TIME_UNITS[self.timescale]
        notes = [f"Relief: {self.definition}. Time: {unit} "
                 + ("since baseline" if self.timescale == "days" else "of needling received")
                 + f"; {self.n_patients} patients analysed, {self.n_events} with relief, "
                 f"{len(self.excluded)} excluded (each listed with its reason).",
                 ("Curve and median: Turnbull NPMLE of the interval-censored relief times "
                  f"with patient-bootstrap percentile CIs ({self.n_boot} replicates, seed "
                  f"{self.seed})." if self.interval_censored else
                  f"Curve and median: Kaplan-Meier with {self.conf_type} Greenwood CIs."),
                 *self._interval_methods(),
                 "Log-rank and Cox (Efron ties) use the right-censored view: relief at "
                 "the first assessment meeting the definition, censoring at the last "
                 "assessment" + ("; they are secondary." if self._interval_primary()
                                 else ".")
                 + " The RMST (only with a pre-specified tau) is the area under "
                 + (("the whole-session Turnbull step curve" if self.session_curves else
                     "the Turnbull curve (drops at interval midpoints, as survfit)")
                    + " with a patient-bootstrap percentile CI." if self.interval_censored else
                    "the Kaplan-Meier curve."),
                 *(("Primary hazard ratio: semi-parametric proportional hazards model of the "
                    "interval-censored relief times (Finkelstein 1986; NPMLE as icenReg's "
                    "ic_sp, Anderson-Bergman 2017), with bootstrap percentile CIs (patients "
                    f"resampled within arm, {self.ic_ph.n_boot} replicates) and profile "
                    "likelihood-ratio p-values (Murphy & van der Vaart 2000); the Cox hazard "
                    "ratio is the right-censored view (secondary).",)
                   if self.ic_ph is not None else ()),
                 f"Reference arm {self.reference_arm}; hazard ratio > 1 and time ratio < 1 "
                 "mean relief comes sooner."]
        if self.covariates:
            notes.append(f"Regression models adjusted for {', '.join(self.covariates)}.")
        if self.strata:
            notes.append(f"Log-rank test{'s' if self.interval_test_result else ''}, Cox "
                         "model" + (" and interval-censored PH model" if self.ic_ph is not None
                                    else "") + f" stratified by {self.strata}.")
        if len(self.arms) > 1 and self.rmst_tau is None:
            notes.append("Restricted mean time without relief not reported: no restriction "
                         "time tau was pre-specified (config rmst_tau for days, "
                         "rmst_tau_sessions for sessions); tau is not chosen from the data.")
        return (*notes, *self.notes)

    def tables(self) -> dict[str, TableResult]:
        """The medians (with the notes), the comparison between arms, the Cox and AFT
        tables and, with two arms or more, the RMST; empty tables are left out."""
        unit = TIME_UNITS[self.timescale]
        level = f"{self.conf_level:.0%} CI"
        what = f"Time to relief of {self.outcome} ({unit})"
        frames = {
            "median": (self.median, f"{what}: median by arm ({level})", 1),
            "tests": (self.tests if len(self.arms) > 1 else self.tests.iloc[:0],
                      f"{what}: tests of no difference between arms", 3),
            "comparison": (self.comparison, f"{what}: arms versus {self.reference_arm} "
                           f"({level})", 2),
            "ic_hazard_ratios": (self.ic_hazard_ratios, f"{what}: interval-censored PH "
                                 "model hazard ratios (primary; bootstrap percentile CI; "
                                 "> 1: relief sooner)", 2),
            "hazard_ratios": (self.hazard_ratios, f"{what}: Cox model hazard ratios "
                              "(Efron ties; > 1: relief sooner)"
                              + ("; right-censored view (secondary)" if self.ic_ph is not None
                                 else ""), 2),
            "time_ratios": (self.time_ratios, f"{what}: AFT model time ratios "
                            "(< 1: relief sooner)", 2),
        }
        if self.session_curves:
            frames["relieved_by_session"] = (
                self.relieved_by_session, f"{what}: proportion with relief by each session "
                f"({level})", 3)
        if self.discrete_hazard is not None:
            frames["per_session_hazard"] = (
                self.per_session_hazard, f"{what}: probability of relief at each session "
                f"among patients without relief before it (discrete-time cloglog, {level})", 3)
        if len(self.arms) > 1 and self.rmst_tau is not None:
            frames["rmst"] = (self.rmst(self.rmst_tau), f"{what}: restricted mean time "
                              f"without relief up to the pre-specified tau = "
                              f"{self.rmst_tau:g} {unit}", 2)
        return titled_tables(frames, self.methods(), self.conf_level, medians=("median",))

    def plot(self, ax=None, at_risk: bool = True, *, ci: bool = True):
        """Curves of the probability of no relief yet, with CI bands and the at-risk table.

        Parameters
        ----------
        ax : matplotlib Axes, optional
        at_risk : bool, default True
            Draw the numbers at risk under the axes, aligned to the x ticks.
        ci : bool, default True
            Draw the confidence bands.

        Returns
        -------
        matplotlib Axes
        """
        from ..plots.survival import plot_survival

        # sessions: whole-session steps, never sloped segments between sessions
        curve = (self.turnbull if self.interval_censored and not self.session_curves
                 else self.curve)
        times = self.default_times()
        flat = [a for a in self.arms if a not in set(curve["arm"])]
        if flat:      # arms without relief: a flat line at 1 to the end of follow-up
            last = float(times[-1])
            extra = pd.DataFrame({"arm": flat, "time": last, "estimate": 1.0,
                                  "ci_lower": np.nan, "ci_upper": np.nan})
            if "time_lower" in curve:
                extra["time_lower"] = extra["time_upper"] = last
            curve = pd.concat([curve, extra[curve.columns]], ignore_index=True)
        return plot_survival(curve, ax=ax, at_risk=self.at_risk(times) if at_risk else None,
                             median=self.median, reference=self.reference_arm,
                             xlabel=self._time_label(), ylabel="Proportion without relief",
                             ci=ci, times=times, arm_order=self.arms,
                             conf_level=self.conf_level)
