"""``soreness_duration``: how long post-needling soreness lasts, and does it shrink?

The loaders turn each soreness report into an interval of hours
``[soreness_lower_h, soreness_upper_h]`` (exact reports have equal bounds, "ongoing"
when last asked has ``upper = inf``, "none" is ``[0, 0]``; see
``dryneedle_outcomes.normalize.soreness``). Every session with a report is one
observation, interval-censored as survival's ``interval2`` treats it. Sessions are
clustered within patients, so every confidence interval here comes from a bootstrap
of whole patients (or a cluster-robust sandwich variance).

The analyses
------------
- the Turnbull NPMLE of the probability that soreness is still present ``h`` hours
  after the session, per group, with patient-bootstrap percentile bands;
- median soreness duration with a patient-bootstrap CI, by arm, by needles per
  session (bins) and by session number (the patient's 1st, 2nd, ... needling session);
- ``any_soreness``: the proportion of sessions with any soreness, per arm (Wilson CI;
  sessions cluster within patients, so read it as descriptive);
- a Weibull AFT model of the duration when soreness is present (duration > 0), with
  session number and needles per session as covariates (and arm when more than one
  arm reports soreness) and patient-clustered robust standard errors: the time ratio
  per additional session answers "does soreness shrink over a course?" (< 1: yes).
  Sessions without soreness are the zero part of this two-part description (they are
  counted in ``any_soreness``, not in the duration model, since a log-time model has no
  place for a duration of exactly 0 h).

Bootstrap: 2,000 patient-bootstrap replicates per group by default, because the
intervals are percentile intervals of medians (Efron & Tibshirani 1993, ch. 13 and 19;
Davison & Hinkley 1997, ch. 5: 1,000 to 2,000 replicates for percentile limits; see
:mod:`~dryneedle_outcomes.stats.survival.turnbull_boot`). The by-arm median and the
curve's bands come from the same replicates. Time on 2 cores of a shared machine, all
groups (2 arms, needle bins and session numbers): about 1.5 s of CPU for the 84-patient
sample and 6 s for 10,000 (``benchmarks/bench_relief.py``); pass a smaller ``n_boot`` to explore.

Examples
--------
>>> import dryneedle_outcomes as dno
>>> cohort = dno.simulate_cohort(n_patients=84, seed=2014)
>>> res = dno.soreness_duration(cohort, n_boot=20, seed=1, progress=False)
>>> res.median.columns.tolist()
['arm', 'n_sessions', 'n_patients', 'estimate', 'ci_lower', 'ci_upper']
>>> res.time_ratios["term"].tolist()
['session', 'needles', 'arm[sham]']
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..alerts import one_channel
from ..cohort import Cohort, needled_rows
from ..errors import AnalysisError
from ..results import DEFAULT_SEED, AnalysisResult, arm_terms, titled_tables
from ..stats.checks import check_conf_level, check_whole_number
from ..stats.intervals import wilson
from ..stats.survival.aft import fit_aft
from ..stats.survival.kaplan_meier import kaplan_meier
from ..stats.survival.turnbull import turnbull
from ..stats.survival.turnbull_boot import DEFAULT_N_BOOT, turnbull_bootstrap
from ..tables import TableResult, format_median, format_p, trailer_lines

NEEDLE_BINS = (1, 3, 5, 7)
EVENT_COLUMNS = ("patient_id", "arm", "visit", "session", "needles", "lower", "upper",
                 "ongoing")


def soreness_events(cohort: Cohort) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One row per session with a soreness report, and the needled sessions without one.

    Returns
    -------
    (events, unused)
        ``events``: ``patient_id``, ``arm``, ``visit``, ``session`` (the patient's
        needling session number: 1 for the first needled visit), ``needles``,
        ``lower``, ``upper`` (hours; ``inf`` when ongoing), ``ongoing``.
        ``unused``: ``patient_id``, ``visit``, ``reason`` for needled sessions without
        a soreness report.

    Examples
    --------
    >>> import dryneedle_outcomes as dno
    >>> events, unused = soreness_events(dno.simulate_cohort(n_patients=20, seed=1))
    >>> bool((events["lower"] <= events["upper"]).all())
    True
    """
    a = cohort.visit_ratings().assessments  # one row per visit
    for col in ("soreness_lower_h", "soreness_upper_h"):
        if col not in a:
            raise AnalysisError(f"the cohort has no {col} column: soreness was not loaded "
                                "(map a soreness column in the mapping)")
    needled = needled_rows(a)
    reported = a["soreness_lower_h"].notna().to_numpy()
    arm = a["patient_id"].map(cohort.patients.set_index("patient_id")["arm"]).astype(str)
    rows = a.assign(arm=arm.to_numpy(), _needled=needled)
    order = np.lexsort((rows["visit"].to_numpy(), rows["patient_id"].to_numpy()))
    rows = rows.iloc[order]
    keep = (reported | needled)[order]
    rows = rows.loc[keep]
    session = rows.groupby("patient_id", sort=False, observed=True).cumcount() + 1
    rows = rows.assign(session=session.to_numpy())
    has = rows["soreness_lower_h"].notna().to_numpy()
    unused = rows.loc[~has, ["patient_id", "visit"]].assign(
        reason="needled, soreness not reported").reset_index(drop=True)
    ev = rows.loc[has]
    needles = ev["needles"] if "needles" in ev else pd.Series(pd.NA, index=ev.index)
    events = pd.DataFrame({
        "patient_id": ev["patient_id"].to_numpy(), "arm": ev["arm"].to_numpy(),
        "visit": ev["visit"].to_numpy(), "session": ev["session"].to_numpy(),
        "needles": pd.array(needles, dtype="Int64"),
        "lower": ev["soreness_lower_h"].to_numpy(dtype=float),
        "upper": ev["soreness_upper_h"].to_numpy(dtype=float)})
    events["ongoing"] = np.isinf(events["upper"].to_numpy())
    return events, unused


@dataclass(frozen=True, eq=False)
class SorenessResult(AnalysisResult):
    """Soreness duration after needling (see :func:`soreness_duration`).

    Attributes
    ----------
    events : DataFrame
        One row per session with a report (``patient_id``, ``arm``, ``visit``,
        ``session``, ``needles``, ``lower``, ``upper``, ``ongoing``).
    unused : DataFrame
        Needled sessions without a soreness report.
    curve : DataFrame
        Turnbull estimate of soreness still present: ``arm``, ``time`` (hours),
        ``time_lower``, ``time_upper``, ``estimate``, ``ci_lower``, ``ci_upper``.
    median : DataFrame
        Median hours per arm: ``arm``, ``n_sessions``, ``n_patients``, ``estimate``,
        ``ci_lower``, ``ci_upper``.
    by_needles, by_session : DataFrame
        The same medians by needles-per-session bin and by session number.
    any_soreness : DataFrame
        ``arm``, ``n_sessions``, ``n_with_soreness``, ``estimate``, ``ci_lower``,
        ``ci_upper``.
    time_ratios : DataFrame
        Weibull AFT of positive durations with patient-clustered robust SEs: ``term``,
        ``estimate`` (time ratio), ``ci_lower``, ``ci_upper``, ``p_value``.
    comparison : DataFrame
        The arm terms of that model (each arm against the reference, when more than one
        arm reports soreness) in the comparison schema
        (:mod:`dryneedle_outcomes.results`), then ``model``, ``coef``, ``std_error``;
        empty when no arm is compared.
    notes, warnings : tuple of str

    Examples
    --------
    >>> import dryneedle_outcomes as dno
    >>> res = dno.soreness_duration(dno.simulate_cohort(n_patients=60, seed=5), n_boot=0)
    >>> res.any_soreness.columns.tolist()
    ['arm', 'n_sessions', 'n_with_soreness', 'estimate', 'ci_lower', 'ci_upper']
    >>> res.summary().splitlines()[0].startswith("Post-needling soreness:")
    True
    """

    events: pd.DataFrame
    unused: pd.DataFrame
    curve: pd.DataFrame
    median: pd.DataFrame
    by_needles: pd.DataFrame
    by_session: pd.DataFrame
    any_soreness: pd.DataFrame
    model: object
    conf_level: float
    n_boot: int
    notes: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    reference_arm: str = ""

    @property
    def time_ratios(self) -> pd.DataFrame:
        """Time ratios of the duration model (< 1: shorter soreness)."""
        if self.model is None:
            return pd.DataFrame(columns=["term", "estimate", "ci_lower", "ci_upper", "p_value"])
        t = self.model.table
        return t.loc[t["term"] != "(Intercept)",
                     ["term", "estimate", "ci_lower", "ci_upper", "p_value", "coef",
                      "std_error"]].reset_index(drop=True)

    @property
    def comparison(self) -> pd.DataFrame:
        """Duration ratios of each arm against the reference (Weibull AFT of durations
        > 0 h, robust SE by patient) in the comparison schema."""
        return arm_terms(self.time_ratios, self.reference_arm, "time_ratio",
                         "weibull aft, durations > 0 h")

    @property
    def converged(self) -> bool:
        """True when the duration model converged (or was not fitted)."""
        return self.model is None or bool(self.model.converged)

    def summary(self) -> str:
        """A plain-text report."""
        lines = [f"Post-needling soreness: {len(self.events)} sessions with a report from "
                 f"{self.events['patient_id'].nunique()} patients "
                 f"({int(self.events['ongoing'].sum())} ongoing when last asked)", "",
                 f"Median hours of soreness ({self.conf_level:.0%} patient-bootstrap CI):"]
        for _, r in self.median.iterrows():
            lines.append(f"  {r['arm']:<16} {r['n_sessions']:>5} sessions  "
                         f"{_h(r['estimate'])} ({_h(r['ci_lower'])} to {_h(r['ci_upper'])})")
        lines.append("By session number:")
        for _, r in self.by_session.iterrows():
            lines.append(f"  {r['arm']:<16} session {int(r['session']):<3} "
                         f"{_h(r['estimate'])} ({_h(r['ci_lower'])} to {_h(r['ci_upper'])})")
        tr = self.time_ratios
        if len(tr):
            lines.append("Weibull AFT of durations > 0 h, time ratio (robust SE by patient):")
            for _, r in tr.iterrows():
                lines.append(f"  {r['term']:<22} {r['estimate']:.3f} ({r['ci_lower']:.3f} to "
                             f"{r['ci_upper']:.3f}), {format_p(r['p_value'])}")
        lines += trailer_lines(self.methods(), self.warnings)
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()

    def _heading_html(self) -> str:
        return "<h4>Post-needling soreness</h4>"

    def methods(self) -> tuple[str, ...]:
        """What was estimated, in sentences, then :attr:`notes`: printed under the tables,
        by :meth:`summary` and in the report."""
        return (f"{len(self.events)} sessions with a soreness report from "
                f"{self.events['patient_id'].nunique()} patients; 'ongoing' reports are "
                "right-censored; medians from the Turnbull NPMLE with patient-bootstrap "
                f"percentile CIs ({self.n_boot} replicates).",
                "Time ratios: Weibull AFT model of durations > 0 h with patient-clustered "
                "robust standard errors; < 1 means shorter soreness.", *self.notes)

    def tables(self) -> dict[str, TableResult]:
        """Medians (by arm with the notes, by session, by needles), sessions with any
        soreness, the duration model and the comparison; empty tables are left out."""
        level = f"{self.conf_level:.0%} patient-bootstrap CI"
        frames = {
            "median": (self.median, f"Soreness duration (hours): median by arm ({level})", 1),
            "by_session": (self.by_session, "Soreness duration (hours): median by session "
                           "number", 1),
            "by_needles": (self.by_needles, "Soreness duration (hours): median by needles "
                           "per session", 1),
            "any_soreness": (self.any_soreness, "Sessions followed by any soreness (Wilson "
                             "CI; sessions cluster within patients)", 3),
            "time_ratios": (self.time_ratios, "Soreness duration: time ratios (Weibull AFT "
                            "of durations > 0 h, robust SE by patient)", 3),
            "comparison": (self.comparison, "Soreness duration: arms versus "
                           f"{self.reference_arm} (time ratios)", 3),
        }
        return titled_tables(frames, self.methods(), self.conf_level,
                             medians=("median", "by_session", "by_needles"))

    def default_times(self) -> np.ndarray:
        """Tick times (hours) of the plot and the at-risk table: every 24 h (48 h past a
        week) up to the last bound observed."""
        up = self.events["upper"].to_numpy(dtype=float)
        last = float(np.nanmax(np.where(np.isinf(up), self.events["lower"], up)))
        return np.arange(0, last + 1e-9, 24.0 if last <= 168 else 48.0)

    def at_risk(self, times=None) -> pd.DataFrame:
        """Sessions still sore ("at risk" of resolving), per arm at ``times`` (hours).

        The right-censored view of the intervals, as :meth:`ReliefResult.at_risk
        <dryneedle_outcomes.survival.relief_result.ReliefResult.at_risk>` uses:
        soreness resolves at the upper bound when it is finite, and a session still
        sore when last asked is censored at its lower bound. ``n_at_risk`` at ``t``
        counts the sessions whose soreness was not seen to have ended before ``t``;
        ``n_events`` and ``n_censored`` are cumulative up to ``t``.

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
        parts = []
        for arm in self.median["arm"]:
            g = self.events[self.events["arm"] == arm]
            up = g["upper"].to_numpy(dtype=float)
            ended = np.isfinite(up)
            fit = kaplan_meier(np.where(ended, up, g["lower"].to_numpy(dtype=float)),
                               ended.astype(int), conf_level=self.conf_level)
            parts.append(fit.at_risk(times).assign(arm=arm))
        return pd.concat(parts, ignore_index=True)[
            ["arm", "time", "n_at_risk", "n_events", "n_censored"]]

    def plot(self, ax=None, at_risk: bool = True, *, ci: bool = True):
        """Probability that soreness is still present by hours after the session.

        Parameters
        ----------
        ax : matplotlib Axes, optional
        at_risk : bool, default True
            Draw the numbers of sessions still sore (:meth:`at_risk`) under the axes,
            aligned to the x ticks, as :meth:`ReliefResult.plot
            <dryneedle_outcomes.survival.relief_result.ReliefResult.plot>` does (the
            units at risk are needled sessions, so the table is titled "Sessions still
            sore").
        ci : bool, default True
            Draw the patient-bootstrap bands.

        Returns
        -------
        matplotlib Axes
        """
        from ..plots.survival import plot_survival

        times = self.default_times()
        med = self.median[["arm", "estimate", "ci_lower", "ci_upper"]]
        table = self.at_risk(times) if at_risk else None
        return plot_survival(self.curve, ax=ax, at_risk=table, median=med,
                             xlabel="Hours after the session",
                             ylabel="Proportion still sore", ci=ci, times=times,
                             conf_level=self.conf_level,
                             at_risk_title="Sessions still sore",
                             reference=self.reference_arm or None)


def _h(x: float) -> str:
    return format_median(x, 1, " h")


def _group_medians(events: pd.DataFrame, keys: list[str], *, n_boot: int, conf_level: float,
                   seed: int | None, progress: bool,
                   done: dict | None = None) -> pd.DataFrame:
    """Median and patient-bootstrap CI per group; ``done`` maps a group's key to the
    bootstrap already run on exactly its rows with its seed (the curve's, by arm)."""
    rows = []
    # a handful of groups (arms x bins or sessions), each fitted on its own rows
    for i, (key, g) in enumerate(events.groupby(keys, observed=True, sort=True)):
        key = key if isinstance(key, tuple) else (key,)
        lo, up = g["lower"].to_numpy(), g["upper"].to_numpy()
        est = float(turnbull(lo, up).median())
        ci_lo = ci_hi = np.nan
        if n_boot and done and key in done:   # the same rows, seed and replicates
            m = done[key].median.iloc[0]
            ci_lo, ci_hi = float(m["ci_lower"]), float(m["ci_upper"])
        elif n_boot:
            b = turnbull_bootstrap(lo, up, times=np.array([0.0]),
                                   cluster=g["patient_id"].to_numpy(), n_boot=n_boot,
                                   conf_level=conf_level,
                                   seed=None if seed is None else seed + i, progress=progress,
                                   label="bootstrap: CI of the median soreness, "
                                   + " ".join(map(str, key)))
            m = b.median.iloc[0]
            ci_lo, ci_hi = float(m["ci_lower"]), float(m["ci_upper"])
        rows.append({**dict(zip(keys, key)), "n_sessions": len(g),
                     "n_patients": g["patient_id"].nunique(), "estimate": est,
                     "ci_lower": ci_lo, "ci_upper": ci_hi})
    return pd.DataFrame(rows)


@one_channel
def soreness_duration(cohort: Cohort, *, conf_level: float = 0.95,
                      n_boot: int = DEFAULT_N_BOOT,
                      seed: int | None = DEFAULT_SEED, progress: bool = True,
                      needle_bins: Sequence[int] = NEEDLE_BINS) -> SorenessResult:
    """Time to resolution of post-needling soreness (interval-censored, hours).

    Parameters
    ----------
    cohort : Cohort
    conf_level : float, default 0.95
    n_boot : int, default 2000
        Patient-bootstrap replicates for bands and median CIs (0 for none); 2,000
        because the CIs are percentile intervals of medians (see the module docstring
        for the reason and the time it takes).
    seed : int, optional
    progress : bool, default True
        Progress bars during the bootstraps.
    needle_bins : sequence of int
        Left edges of the needles-per-session bins (default 1-2, 3-4, 5-6, 7+).

    Returns
    -------
    SorenessResult

    Examples
    --------
    >>> import dryneedle_outcomes as dno
    >>> res = dno.soreness_duration(dno.simulate_cohort(n_patients=60, seed=5), n_boot=0)
    >>> res.by_session.groupby("arm", observed=True)["session"].max().to_dict()
    {'dry_needling': 6, 'sham': 6}
    """
    conf_level = check_conf_level(conf_level)
    n_boot = check_whole_number(n_boot, "n_boot", minimum=0)
    edges = sorted(int(b) for b in needle_bins)
    if not edges or edges[0] < 0:
        raise AnalysisError(f"needle_bins must be non-negative left edges, got {needle_bins!r}")
    events, unused = soreness_events(cohort)
    if events.empty:
        raise AnalysisError("no session in this cohort has a soreness report")
    notes: list[str] = []
    warns: list[str] = []
    if len(unused):
        notes.append(f"{len(unused)} needled session(s) without a soreness report are not "
                     "analysed (listed in unused)")
    arms = sorted(events["arm"].unique())

    parts = []
    by_arm = {}
    for i, a in enumerate(arms):   # one Turnbull fit per arm
        g = events[events["arm"] == a]
        fit = turnbull(g["lower"].to_numpy(), g["upper"].to_numpy())
        warns += [f"Turnbull ({a}): {w}" for w in fit.warnings]
        c = fit.curve[["time", "time_lower", "time_upper", "estimate"]].copy()
        c.insert(0, "arm", a)
        c["ci_lower"] = np.nan
        c["ci_upper"] = np.nan
        if n_boot:
            b = turnbull_bootstrap(g["lower"].to_numpy(), g["upper"].to_numpy(),
                                   times=c["time"].to_numpy(), cluster=g["patient_id"].to_numpy(),
                                   n_boot=int(n_boot), conf_level=conf_level,
                                   seed=None if seed is None else seed + i, progress=progress,
                                   label=f"bootstrap: CIs of the soreness curve, {a}")
            c["ci_lower"] = b.bands["ci_lower"].to_numpy()
            c["ci_upper"] = b.bands["ci_upper"].to_numpy()
            by_arm[(a,)] = b
        parts.append(c)
    curve = pd.concat(parts, ignore_index=True)

    kw = {"n_boot": int(n_boot), "conf_level": conf_level, "seed": seed, "progress": progress}
    # by arm: the rows, seed (seed + i, arms sorted) and clusters of the curve's bootstrap,
    # so its replicates are the same; their medians give the CI
    median = _group_medians(events, ["arm"], **kw, done=by_arm)
    labels = [f"{lo}-{hi - 1}" if hi - 1 > lo else f"{lo}" for lo, hi in zip(edges, edges[1:])]
    labels.append(f"{edges[-1]}+")
    binned = events[events["needles"].notna()].copy()
    n_no_needles = len(events) - len(binned)
    if n_no_needles:
        notes.append(f"{n_no_needles} session(s) without a needle count are not in by_needles")
    codes = np.searchsorted(edges, binned["needles"].to_numpy(dtype=float), side="right") - 1
    below = codes < 0
    if below.any():
        notes.append(f"{int(below.sum())} session(s) with fewer needles than the first bin "
                     f"({edges[0]}) are not in by_needles")
    binned = binned[~below]
    binned["needles_bin"] = pd.Categorical.from_codes(codes[~below], categories=labels)
    by_needles = _group_medians(binned, ["arm", "needles_bin"], **kw)
    by_session = _group_medians(events, ["arm", "session"], **kw)

    any_rows = []
    for a in arms:
        g = events[events["arm"] == a]
        k = int((g["upper"] > 0).sum())
        lo, hi = wilson(k, len(g), conf_level)
        any_rows.append({"arm": a, "n_sessions": len(g), "n_with_soreness": k,
                         "estimate": k / len(g), "ci_lower": float(lo), "ci_upper": float(hi)})
    any_soreness = pd.DataFrame(any_rows)

    model = None
    reference = arms[0]
    # sessions with soreness (upper > 0) and a needle count; a (0, inf) report ("sore
    # for an unknown time", e.g. an ongoing report without a lower bound) carries no
    # information on the duration and survreg refuses it, so it is left out (noted)
    unknown = (events["lower"] <= 0) & np.isinf(events["upper"])
    if unknown.any():
        notes.append(f"{int(unknown.sum())} session(s) reported as (0, inf) hours (sore for "
                     "an unknown time) carry no information on the duration: not in the "
                     "duration model")
    pos = events[(events["upper"] > 0) & events["needles"].notna() & ~unknown
                 ].reset_index(drop=True)
    if len(pos) > 10 and pos["patient_id"].nunique() > 2:
        X = pd.DataFrame({"session": pos["session"].to_numpy(dtype=float),
                          "needles": pos["needles"].to_numpy(dtype=float)})
        pos_arms = [a for a in arms if (pos["arm"] == a).any()]
        reference = pos_arms[0]
        for a in pos_arms[1:]:
            X[f"arm[{a}]"] = (pos["arm"] == a).to_numpy(dtype=float)
        constant = [c for c in ("session", "needles") if X[c].nunique() < 2]
        if constant:   # a column without variation has no ratio to estimate
            X = X.drop(columns=constant)
            notes.append("duration model without " + " and ".join(
                f"{c} (every analysed session has {c} = {pos[c].iloc[0]:g})" for c in constant)
                + ": no duration ratio for it")
        if len(pos_arms) < len(arms):
            notes.append(f"arm(s) {', '.join(a for a in arms if a not in pos_arms)} have no "
                         "session with soreness: not in the duration model")
        model = fit_aft(pos["lower"].to_numpy(), pos["upper"].to_numpy(), X,
                        distribution="weibull", cluster=pos["patient_id"].to_numpy(),
                        conf_level=conf_level)
        warns += [f"Weibull AFT: {w}" for w in model.warnings]
    else:
        notes.append("too few sessions with soreness for the duration model")
    return SorenessResult(events=events, unused=unused, curve=curve, median=median,
                          by_needles=by_needles, by_session=by_session,
                          any_soreness=any_soreness, model=model, conf_level=conf_level,
                          n_boot=int(n_boot), notes=tuple(notes), warnings=tuple(warns),
                          reference_arm=reference)
