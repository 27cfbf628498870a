"""``time_to_relief``: when do patients first reach relief, by arm?

Relief (a :class:`~dryneedle_outcomes.Relief`) is only seen at assessments, so each
patient's relief time is known to lie in an interval ``(lower, upper]`` (see
``dryneedle_outcomes.survival.events``). The analyses:

Interval-censored (``interval_censored=True``, the default)
    the Turnbull NPMLE of the probability of no relief yet, per arm, with bootstrap
    percentile bands (patients resampled within arm) and the median with a
    bootstrap CI; the generalised log-rank test for interval-censored data
    (:func:`~dryneedle_outcomes.interval_test`, R's ``interval::ictest``: Finkelstein's
    1986 scores and the permutation central limit theorem by default, Fay & Shaw 2010;
    stratified with ``strata=``) on each patient's ``(lower, upper]``, the primary
    comparison of the arms; the primary hazard ratio from the semi-parametric
    proportional hazards model of the intervals (NPMLE as icenReg's ``ic_sp``; bootstrap
    percentile CI, patients resampled within arm; profile likelihood-ratio p; see
    :mod:`dryneedle_outcomes.stats.survival.ic_ph`), in ``ic_hazard_ratios``; parametric
    AFT models (Weibull and log-logistic) of the intervals with arm and covariates: time
    ratios with Wald CIs (a time ratio < 1 means relief comes sooner).
Right-censored view (always; secondary when ``interval_censored=True``; the curve,
median and headline test when ``interval_censored=False``)
    the event time is the first assessment meeting the definition (``upper``),
    censoring at the last assessment without relief: Kaplan-Meier with Greenwood
    CIs (log-log by default), the median with R's CI rule, the log-rank test
    (stratified on request), Cox regression (Efron ties) with hazard ratios (> 1:
    relief comes sooner; a secondary view when ``interval_censored=True``) and the
    Schoenfeld-residual test of proportional hazards (``cox.zph``), restricted mean
    time to relief (:meth:`ReliefResult.rmst`) and numbers at risk
    (:meth:`ReliefResult.at_risk`).
``timescale="sessions"``
    relief times are whole sessions (:mod:`~dryneedle_outcomes.survival.whole_sessions`):
    the curve is a step function of whole sessions, the median the smallest whole
    session ``k`` with ``S(k) <= 0.5`` (CI limits whole sessions too, never "1.5
    sessions"), the proportion relieved by session ``k`` per arm with its CI
    (:attr:`ReliefResult.relieved_by_session`) and the discrete-time hazard model
    (complementary log-log GLM on person-session rows): the probability of relief at
    each session by arm (:attr:`ReliefResult.per_session_hazard`).

Relief by default is **confirmed** relief
    ``relief=None`` means ``Relief(mcid=True, sustained=True)``: the improvement
    reaches the instrument's MCID at an assessment and again at the next one. A
    single crossing can be measurement noise: pain scores fluctuate from one
    assessment to the next, so a patient whose pain has not changed can cross the
    MCID once (and regress back); a responder definition must be pre-specified and
    distinguish real change from such fluctuation (FDA 2009, Guidance for Industry:
    Patient-Reported Outcome Measures, on responder definitions; Dworkin et al. 2008,
    J Pain 9:105-121, IMMPACT recommendations on clinically important change). A
    crossing at the patient's last assessment cannot be confirmed: the patient is
    censored at the last assessment without relief and counted in the notes. The
    unconfirmed definition stays available: ``relief=Relief(mcid=True)``
    (``sustained=False``, the constructor's default).

RMST
    :meth:`ReliefResult.rmst` needs a pre-specified ``tau``; with
    ``interval_censored=True`` it is the area under the Turnbull curve with a
    bootstrap CI (see :mod:`~dryneedle_outcomes.survival.relief_summaries`).

Examples
--------
>>> import dryneedle_outcomes as dno
>>> cohort = dno.simulate_cohort(n_patients=84, seed=2014)
>>> res = dno.time_to_relief(cohort, relief=dno.Relief(mcid=True), n_boot=20, seed=1,
...                          progress=False)
>>> list(res.curve.columns)[:5]
['arm', 'time', 'estimate', 'ci_lower', 'ci_upper']
>>> sorted(res.logrank)
['df', 'p_value', 'statistic']
>>> res.hazard_ratios["term"].tolist()
['arm[dry_needling]']
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import replace

import numpy as np
import pandas as pd

from ..alerts import one_channel
from ..cohort import Cohort
from ..errors import AnalysisError
from ..models.design import arms_without_data, choose_reference
from ..pooling import with_pooled_covariate
from ..results import DEFAULT_SEED
from ..stats.checks import check_choice, check_conf_level, check_whole_number
from ..stats.survival.aft import fit_aft
from ..stats.survival.cox import fit_cox
from ..stats.survival.ic_ph import fit_ic_ph
from ..stats.survival.interval_test import METHODS as IC_METHODS
from ..stats.survival.interval_test import SCORES as IC_SCORES
from ..stats.survival.interval_test import IntervalTestResult, interval_test
from ..stats.survival.kaplan_meier import kaplan_meier
from ..stats.survival.logrank import logrank
from ..stats.survival.options import CONF_TYPES, DISTRIBUTIONS
from ..stats.survival.turnbull import turnbull
from ..stats.survival.turnbull_boot import DEFAULT_N_BOOT, turnbull_bootstrap
from ..timing import describe_rule
from .design import covariate_matrix
from .discrete import fit_discrete_hazard
from .estimability import no_timing_information, unidentified_terms
from .events import REASON_UNCONFIRMED, TIMESCALES, ReliefEvents, derive_relief_events
from .relief import Relief
from .relief_result import ReliefResult
from .whole_sessions import km_sessions, session_grid, turnbull_sessions

#: Schoenfeld-test p-value below which non-proportional hazards are reported.
PH_ALPHA = 0.05


@one_channel
def time_to_relief(
    cohort: Cohort,
    outcome: str = "first_step_pain",
    *,
    relief: Relief | None = None,
    timescale: str = "days",
    interval_censored: bool = True,
    adjust: Sequence[str] = (),
    covariates: Sequence[str] | None = None,
    strata: str | None = None,
    reference_arm: str | None = None,
    conf_level: float = 0.95,
    conf_type: str = "log-log",
    distributions: Sequence[str] = ("weibull", "loglogistic"),
    n_boot: int = DEFAULT_N_BOOT,
    hr_n_boot: int | None = None,
    seed: int | None = DEFAULT_SEED,
    progress: bool = True,
    session_visits: Sequence[int] | None = None,
    interval_scores: str = "logrank2",
    interval_method: str = "pclt",
    rmst_tau: float | None = None,
    adjust_instrument: bool = True,
    n_jobs: int = 1,
) -> ReliefResult:
    """Time to relief of heel pain by arm; see the module docstring for the analyses.

    Parameters
    ----------
    cohort : Cohort
    outcome : str, default "first_step_pain"
        Instrument column of ``cohort.assessments``.
    relief : Relief, optional
        Definition of relief; default ``Relief(mcid=True, sustained=True)``: the
        instrument's MCID reached and confirmed at the next assessment (see the module
        docstring for why; pass ``Relief(mcid=True)`` for a single crossing).
    timescale : {"days", "sessions"}
        Days since baseline, or needling sessions received.
    interval_censored : bool, default True
        Curve and median from the Turnbull NPMLE of the intervals; with False from
        Kaplan-Meier on the right-censored view (event at the first assessment
        meeting the definition, censoring at the last assessment).
    adjust : sequence of str
        Adjust the Cox and AFT models (and the discrete-time model) for these:
        ``"baseline"`` (the outcome at visit 0) or columns of ``cohort.patients``
        (the argument's name in :func:`~dryneedle_outcomes.fit_trajectory` too).
        When ``outcome`` pools two instruments (the mapping's ``pool_as``: a site's
        0-10 NRS x10 with the VAS), the patient's instrument
        (``first_step_pain_instrument``) is added **by default** (``adjust_instrument``;
        :mod:`dryneedle_outcomes.pooling`), said in ``notes``.
    covariates : sequence of str, optional
        Deprecated name of ``adjust`` (a ``DeprecationWarning``; giving both is an error).
    strata : str, optional
        A column of ``cohort.patients`` (e.g. ``"site"``) to stratify the log-rank
        tests (right-censored and interval-censored), the Cox model and the
        interval-censored PH model on (a baseline hazard per stratum).
    reference_arm : str, optional
        Reference arm of hazard ratios, time ratios and differences (default: a
        sham/control-like arm name).
    conf_level : float, default 0.95
    conf_type : {"log-log", "log", "plain"}
        Transformation of the Kaplan-Meier confidence limits (R's ``conf.type``;
        log-log is the default of SAS and Stata and keeps limits in [0, 1]).
    distributions : sequence of str
        Parametric AFT models to fit (``weibull``, ``loglogistic``, ``lognormal``,
        ``exponential``).
    n_boot : int, default 2000
        Bootstrap replicates for the Turnbull bands, the median CI and the RMST CI (0 for
        none): 2,000 because these are percentile intervals and the median's is of a
        quantile (Efron & Tibshirani 1993, ch. 13 and 19; Davison & Hinkley 1997, ch. 5).
    hr_n_boot : int, optional
        Bootstrap replicates for the percentile CIs of the interval-censored PH hazard
        ratios (each replicate refits the semi-parametric model). Default ``n_boot``
        capped at 1,000, the number Efron & Tibshirani (1993, ch. 13) give for
        percentile intervals of a smooth statistic. 0 (or ``n_boot = 0``) leaves the
        model out: its CIs need the bootstrap.
    seed : int, optional
        Seed of the bootstrap (default
        :data:`~dryneedle_outcomes.results.DEFAULT_SEED`).
    progress : bool, default True
        Show a progress bar during the bootstrap.
    session_visits : sequence of int, optional
        Visits that are needling sessions (``sessions`` timescale).
    interval_scores : {"logrank2", "logrank1", "wmw"}
        Scores of the interval-censored test (:func:`~dryneedle_outcomes.interval_test`):
        Finkelstein's (1986) log-rank scores by default (the score test of the grouped
        proportional hazards model, the natural model for relief detected at visits),
        Sun's (1996), or the Wilcoxon-Mann-Whitney scores.
    interval_method : {"pclt", "scoretest"}
        Its inference: the permutation central limit theorem (default, as R's
        ``ictest``; valid when the arms share the visit schedule, as randomisation
        gives) or the asymptotic score test.
    rmst_tau : float, optional
        The pre-specified RMST restriction time (in the timescale's units): the RMST
        is then part of :meth:`ReliefResult.summary` and ``tables()``. Without it the
        summary says the RMST is not shown because no ``tau`` was pre-specified.
    adjust_instrument : bool, default True
        With a pooled outcome, add the instrument to ``adjust`` (see ``adjust``);
        ``False`` leaves it out, said in ``notes``.
    n_jobs : int, default 1
        Processes that refit the interval-censored PH bootstrap replicates (the
        costliest step with a continuous covariate: about 5 s per 1,000 replicates at
        10,000 patients on one core). The results are the same for any ``n_jobs``
        (the replicates are drawn before the refits, from one generator).

    Returns
    -------
    ReliefResult

    Raises
    ------
    AnalysisError
        On an unknown outcome, option or covariate, or when no patient can be analysed.

    Examples
    --------
    >>> import dryneedle_outcomes as dno
    >>> cohort = dno.simulate_cohort(n_patients=84, seed=2014)
    >>> res = dno.time_to_relief(cohort, relief=dno.Relief(percent_reduction=50),
    ...                          timescale="sessions", interval_censored=False)
    >>> res.median.columns.tolist()
    ['arm', 'estimate', 'ci_lower', 'ci_upper', 'note']
    >>> est = res.median["estimate"]              # whole sessions (NaN: not reached)
    >>> bool(((est % 1 == 0) | est.isna()).all())
    True
    >>> res.discrete_hazard.hazard.columns.tolist()[:4]
    ['session', 'arm', 'n_at_risk', 'n_relief']
    """
    covariates = _adjust(adjust, covariates)
    # a pooled outcome (pool_as): the instrument is a covariate by default (pooling.py)
    covariates, pool_note = with_pooled_covariate(cohort, outcome, covariates,
                                                  adjust_instrument)
    if relief is None:
        relief = Relief(mcid=True, sustained=True)
    if rmst_tau is not None and not (np.isfinite(float(rmst_tau)) and float(rmst_tau) > 0):
        raise AnalysisError(f"rmst_tau must be a finite number > 0 (or None), got {rmst_tau!r}")
    if conf_type not in CONF_TYPES:
        raise AnalysisError(f"conf_type must be one of {', '.join(CONF_TYPES)}, got "
                            f"{conf_type!r}")
    conf_level = check_conf_level(conf_level)
    unknown = [d for d in distributions if d not in DISTRIBUTIONS]
    if unknown:
        raise AnalysisError(f"unknown distribution {unknown[0]!r}; choose from "
                            f"{', '.join(DISTRIBUTIONS)}")
    if timescale not in TIMESCALES:
        raise AnalysisError(f"timescale must be one of {', '.join(TIMESCALES)}, got "
                            f"{timescale!r}")
    n_boot = check_whole_number(n_boot, "n_boot", minimum=0)
    hr_n_boot = (min(n_boot, 1000) if hr_n_boot is None
                 else check_whole_number(hr_n_boot, "hr_n_boot", minimum=0))
    n_jobs = check_whole_number(n_jobs, "n_jobs", minimum=1)
    interval_scores = check_choice(interval_scores, IC_SCORES, "interval_scores")
    interval_method = check_choice(interval_method, IC_METHODS, "interval_method")

    derived = derive_relief_events(cohort, outcome, relief, timescale=timescale,
                                   session_visits=session_visits)
    events = derived.events
    if events.empty:
        reasons = derived.excluded["reason"].value_counts()
        raise AnalysisError("no patient can be analysed for time to relief: "
                            + "; ".join(f"{n} x {r}" for r, n in reasons.items()))
    # an arm whose patients are all censored at time 0 holds no information on relief
    informative_rows = ~((events["lower"] <= 0) & np.isinf(events["upper"]))
    present = set(events.loc[informative_rows, "arm"].astype(str))
    with_patients = [str(a) for a in cohort.patients["arm"].cat.categories
                     if (cohort.patients["arm"] == a).any()]
    reference = choose_reference(with_patients, reference_arm)
    notes: list[str] = [pool_note] if pool_note else []
    warns: list[str] = []
    empty_arms = arms_without_data(with_patients, reference, present,
                                   what="patient followed up after baseline")
    if empty_arms:
        derived = _leave_out_arms(derived, empty_arms)
        events = derived.events
        warns.append(f"arm(s) {', '.join(map(repr, empty_arms))} have patients but none "
                     "followed up after baseline for time to relief; left out of every "
                     "comparison (their patients are listed in excluded)")
    arms = [reference] + [a for a in with_patients if a != reference and a in present]

    arm = events["arm"].astype(str).to_numpy()
    time = events["time"].to_numpy(dtype=float)
    event = events["event"].to_numpy(dtype=int)
    lower = events["lower"].to_numpy(dtype=float)
    upper = events["upper"].to_numpy(dtype=float)
    if relief.sustained:
        unconfirmed = int((events["censor_reason"] == REASON_UNCONFIRMED).sum())
        notes.append(f"Relief must be confirmed at the next assessment: {unconfirmed} "
                     "patient(s) met the definition only at their last assessment(s), where "
                     "it cannot be confirmed, and are censored at their last assessment "
                     "without relief (censor_reason 'relief at the last assessment not "
                     "confirmed').")
    for a in arms:
        if event[arm == a].sum() == 0:
            warns.append(f"no relief events in arm {a}: its curve stays at 1 and ratios "
                         "against it are not estimable")

    # ---- right-censored view: Kaplan-Meier, log-rank, Cox
    km = {a: kaplan_meier(time[arm == a], event[arm == a], conf_level=conf_level,
                          conf_type=conf_type) for a in arms}
    strata_values = None
    if strata is not None:
        if strata not in cohort.patients.columns:
            raise AnalysisError(f"strata {strata!r} is not a column of cohort.patients")
        strata_values = events["patient_id"].map(
            cohort.patients.set_index("patient_id")[strata])
        if strata_values.isna().any():
            n_miss = int(strata_values.isna().sum())
            raise AnalysisError(f"strata {strata!r} is missing for {n_miss} analysed "
                                "patient(s); fill it in or do not stratify")
        strata_values = strata_values.astype(str).to_numpy()
    no_timing = no_timing_information(time, event) if len(arms) > 1 else None
    lr = None
    if no_timing is not None:
        warns.append(f"log-rank test not done: {no_timing}, so the arms' timing of relief "
                     "cannot be compared")
    elif len(arms) > 1:
        lr = logrank(time, event, arm, strata=strata_values)
        warns += [f"log-rank test: {w}" for w in lr.warnings]

    ic_test, ic_pairwise = None, {}
    if no_timing is not None:
        warns.append(f"interval-censored log-rank test not done: {no_timing}")
    elif len(arms) > 1:
        ic_test, ic_pairwise = _interval_tests(lower, upper, arm, arms, strata_values,
                                               interval_scores, interval_method)
        warns += [f"interval-censored log-rank test: {w}" for w in ic_test.warnings]

    design = covariate_matrix(events, cohort.patients, arms, covariates)
    if len(design.missing):
        notes.append(f"{len(design.missing)} patient(s) with a missing covariate are left out "
                     "of the regression models (listed in excluded_from_models)")
    rows = design.rows
    cox = None
    if no_timing is not None:
        warns.append(f"hazard ratio not estimable: {no_timing}; no Cox model was fitted")
    elif len(arms) > 1 or len(covariates):
        cox = fit_cox(time[rows], event[rows], design.X,
                      strata=None if strata_values is None else strata_values[rows],
                      conf_level=conf_level)
        warns += [f"Cox model: {w}" for w in cox.warnings]
    ph = None
    event_times = np.unique(time[rows][event[rows] == 1])
    if cox is not None and cox.converged and event[rows].sum() > design.X.shape[1]:
        if len(event_times) < 2:
            warns.append("proportional hazards not tested: every relief event is at the same "
                         f"time ({event_times[0]:g}), so the Schoenfeld residual test is not "
                         "defined")
        else:
            try:
                ph = cox.proportional_hazards_test(transform="km")
            except AnalysisError as exc:   # reported, and the hazard ratios still stand
                warns.append(f"proportional hazards not tested: {exc}")
    if ph is not None:
        failing = ph[ph["p_value"] < PH_ALPHA]
        if len(failing):
            which = ", ".join(f"{t} (p = {p:.3g})" for t, p in
                              zip(failing["term"], failing["p_value"]))
            warns.append(f"proportional hazards questionable (Schoenfeld residual test, "
                         f"cox.zph with KM transform): {which}; report the hazard ratio as "
                         "an average over follow-up or prefer the time ratios / RMST")

    # ---- interval-censored: Turnbull and parametric AFT
    turnbull_fits, bands = {}, {}
    aft_lower, aft_upper = (lower, upper) if interval_censored else (
        time, np.where(event == 1, time, np.inf))
    if interval_censored:
        for i, a in enumerate(arms):
            m = arm == a
            turnbull_fits[a] = turnbull(lower[m], upper[m])
            warns += [f"Turnbull ({a}): {w}" for w in turnbull_fits[a].warnings]
            times = turnbull_fits[a].curve["time"].to_numpy()
            if timescale == "sessions":    # whole sessions: its own bootstrap below
                continue
            if n_boot and len(times):      # an arm without relief has no curve to band
                bands[a] = turnbull_bootstrap(
                    lower[m], upper[m], times=times, n_boot=int(n_boot),
                    conf_level=conf_level,
                    seed=None if seed is None else int(seed) + i, progress=progress,
                    label=f"bootstrap: CIs of the relief curve and median, {a}")
    ic_ph = None
    wants_ic_ph = interval_censored and no_timing is None and (len(arms) > 1 or len(covariates))
    if wants_ic_ph and not (n_boot and hr_n_boot):
        notes.append("interval-censored PH model not fitted: its CIs are bootstrap "
                     "intervals and n_boot or hr_n_boot is 0; the hazard ratio shown is "
                     "Cox's, on the right-censored view")
    elif wants_ic_ph:
        # the primary hazard ratio: semi-parametric PH on the intervals (see ic_ph)
        ic_ph = fit_ic_ph(lower[rows], upper[rows], design.X, boot_strata=arm[rows],
                          strata=None if strata_values is None else strata_values[rows],
                          n_boot=int(hr_n_boot), conf_level=conf_level,
                          seed=None if seed is None else int(seed) + len(arms),
                          progress=progress, n_jobs=n_jobs,
                          label="bootstrap: interval-censored PH hazard ratios")
        warns += [f"interval-censored PH model: {w}" for w in ic_ph.warnings]
    aft = {}
    informative = ~((aft_lower[rows] <= 0) & np.isinf(aft_upper[rows]))
    if not informative.all():
        notes.append(f"{int((~informative).sum())} patient(s) censored at time 0 carry no "
                     "information for the parametric models and are not passed to them")
    Xa = design.X.loc[informative].reset_index(drop=True)
    if no_timing is not None and distributions:
        warns.append(f"time ratios not estimable: {no_timing}; no AFT model was fitted")
    for dist in distributions if no_timing is None else ():
        fit = fit_aft(aft_lower[rows][informative], aft_upper[rows][informative], Xa,
                      distribution=dist, conf_level=conf_level)
        aft[dist] = fit
        warns += [f"{dist} AFT model: {w}" for w in fit.warnings]
        vague = unidentified_terms(fit.table)
        if vague:
            warns.append(f"{dist} AFT model: {', '.join(vague)} not estimable (standard error "
                         "missing or huge): the data do not identify it; do not report it")

    session_curves = {}
    if timescale == "sessions":
        grid = session_grid(lower, upper)
        for i, a in enumerate(arms):
            m = arm == a
            if interval_censored:
                session_curves[a] = turnbull_sessions(
                    lower[m], upper[m], turnbull_fits[a], n_boot=int(n_boot),
                    seed=None if seed is None else int(seed) + i,
                    conf_level=conf_level, progress=progress, grid=grid,
                    label=f"bootstrap: CIs of the relief curve and median, {a}")
                warns += [f"whole-session curve ({a}): {w}" for w in session_curves[a].warnings]
            else:
                session_curves[a] = km_sessions(km[a], grid)
        wide = sum(sc.wide_intervals for sc in session_curves.values())
        if wide:
            notes.append(f"{wide} Turnbull interval(s) span more than one session (scores "
                         "missing at a session): inside them the curve is not identified "
                         "and S(k) counts relief at the session it was seen (an upper bound "
                         "of the proportion without relief).")

    discrete = None
    if timescale == "sessions" and not event[rows].any():
        warns.append("discrete-time model not fitted: no relief event on the sessions "
                     "timescale")
    elif timescale == "sessions":
        ev_rows = events.iloc[rows].reset_index(drop=True)
        cov = design.X.drop(columns=[c for c in design.X.columns if c.startswith("arm[")])
        discrete = fit_discrete_hazard(ev_rows, arms, cov if cov.shape[1] else None,
                                       conf_level=conf_level)
        warns += [f"discrete-time model: {w}" for w in discrete.warnings]

    if timescale == "sessions":
        notes.append(f"Sessions timescale: {describe_rule(cohort.assessed)}.")
    timing_note = cohort.visit_ratings().note
    if timing_note:
        notes.append(timing_note + ".")
    if timescale == "sessions":
        notes.append("On the sessions timescale relief is seen at whole sessions: the curve "
                     "is a step function of whole sessions (no half sessions), the median is "
                     "the smallest whole session k with S(k) <= 0.5 "
                     + ("(CI: inverted-CDF percentiles of the bootstrap medians, whole "
                        "sessions)" if interval_censored else
                        "(CI: the same rule on the Greenwood limit curves)")
                     + "; the per-session hazard comes from the discrete-time cloglog model.")
    return ReliefResult(
        outcome=outcome, relief=relief, definition=derived.definition, timescale=timescale,
        interval_censored=interval_censored, arms=arms, reference_arm=reference,
        conf_level=conf_level, conf_type=conf_type, derived=derived, km=km,
        turnbull_fits=turnbull_fits, bands=bands, logrank_result=lr, cox=cox, ph_test=ph,
        aft=aft, discrete_hazard=discrete, design_missing=design.missing, strata=strata,
        covariates=tuple(covariates), n_boot=int(n_boot), seed=seed, notes=tuple(notes),
        warnings=tuple(warns), interval_test_result=ic_test, interval_pairwise=ic_pairwise,
        session_curves=session_curves, ic_ph=ic_ph,
        rmst_tau=None if rmst_tau is None else float(rmst_tau))


def _interval_tests(lower: np.ndarray, upper: np.ndarray, arm: np.ndarray, arms: list[str],
                    strata: np.ndarray | None, scores: str, method: str
                    ) -> tuple[IntervalTestResult, dict[str, IntervalTestResult]]:
    """The k-sample interval-censored test, and each arm against the reference alone
    (the whole test when there are two arms), on the patients' ``(lower, upper]``."""
    group = pd.Categorical(arm, categories=arms)
    overall = interval_test(lower, upper, group, scores=scores, method=method, strata=strata)
    if len(arms) == 2:
        return overall, {arms[1]: overall}
    pairwise = {}
    for a in arms[1:]:
        m = (arm == arms[0]) | (arm == a)
        pairwise[a] = interval_test(
            lower[m], upper[m], pd.Categorical(arm[m], categories=[arms[0], a]),
            scores=scores, method=method, strata=None if strata is None else strata[m])
    return overall, pairwise


def _adjust(adjust: Sequence[str], covariates: Sequence[str] | None) -> tuple[str, ...]:
    """``adjust=``, or the deprecated ``covariates=`` (with a warning); never both."""
    if covariates is None:
        return tuple(adjust)
    if tuple(adjust):
        raise AnalysisError("give adjust= only: covariates= is its deprecated name, and "
                            "both were given")
    warnings.warn("time_to_relief(covariates=) is deprecated; use adjust= (the name "
                  "fit_trajectory uses)", DeprecationWarning, stacklevel=4)
    return tuple(covariates)


def _leave_out_arms(derived: ReliefEvents, arms: list[str]) -> ReliefEvents:
    """``derived`` without the patients of ``arms``, who move to ``excluded`` with a reason."""
    drop = derived.events["arm"].astype(str).isin(arms)
    moved = derived.events.loc[drop, ["patient_id", "arm"]].assign(
        reason="arm has no patient followed up after baseline")
    excluded = pd.concat([derived.excluded, moved], ignore_index=True)
    return replace(derived, events=derived.events.loc[~drop].reset_index(drop=True),
                   excluded=excluded)
