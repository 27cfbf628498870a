"""The time-to-relief and soreness parts of a run: tables, curves, headline, diagnostics."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from ..cohort import Cohort
from ..config import AnalysisOptions
from ..instruments import get_instrument
from ..survival.relief_result import IC_MODEL, ReliefResult
from ..survival.soreness import SorenessResult, soreness_duration
from ..survival.time_to_relief import time_to_relief
from ..tables import MEDIAN_COLUMNS, TableResult, format_median
from .sections import (
    FAILURES,
    Diagnostic,
    NamedFigure,
    NamedTable,
    Section,
    p_text,
    unique,
)

#: Height (mm) of a survival figure's numbers-at-risk table and x-axis label: text that
#: keeps its height when the figure is drawn wider (``NamedFigure.height_for``).
AT_RISK_MM = 20.0

UNITS = {"days": "days", "sessions": "sessions"}


def relief_headline(res: ReliefResult) -> str:
    """Medians by arm, the hazard ratio, the tests and, with a pre-specified ``tau``, the
    RMST difference, as one sentence.

    With ``interval_censored=True`` the interval-censored log-rank test is the primary
    test and the right-censored log-rank test follows, labelled secondary.
    """
    unit = UNITS[res.timescale]
    digits = 0 if res.timescale == "sessions" else 1     # whole sessions stay whole

    def med(x: float) -> str:
        return format_median(x, digits)

    meds = [f"{r.arm} {med(r.estimate)} ({res.conf_level:.0%} CI {med(r.ci_lower)} to "
            f"{med(r.ci_upper)})" for r in res.median.itertuples()]
    text = f"Median time to relief ({res.definition}; {unit}): " + ", ".join(meds)
    c = res.comparison
    ic = c[c["model"] == IC_MODEL]
    for r in ic.itertuples():
        text += (f"; hazard ratio of relief {r.arm} vs {r.reference} "
                 f"{r.estimate:.2f} ({res.conf_level:.0%} bootstrap CI {r.ci_lower:.2f} to "
                 f"{r.ci_upper:.2f}; interval-censored PH model, {p_text(r.p_value)})")
    for r in c[c["model"] == "cox"].itertuples():
        text += (f"; {'right-censored view (secondary), Cox ' if len(ic) else ''}"
                 f"hazard ratio of relief {r.arm} vs {r.reference} "
                 f"{r.estimate:.2f} ({res.conf_level:.0%} CI {r.ci_lower:.2f} to "
                 f"{r.ci_upper:.2f})")
    it = res.interval_test
    primary = res.interval_censored and it is not None
    if primary:
        text += f"; {res.interval_test_label} {p_text(it.p_value)}"
    if res.logrank_result is not None:
        text += (f"; log-rank, right-censored view (secondary) {p_text(res.logrank['p_value'])}"
                 if primary else f"; log-rank {p_text(res.logrank['p_value'])}")
    if res.rmst_tau is not None and len(res.arms) > 1:
        rm = res.rmst(res.rmst_tau)
        for r in rm.iloc[len(res.arms):].itertuples():
            text += (f"; restricted mean time without relief to {res.rmst_tau:g} {unit} "
                     f"(pre-specified), {r.arm} {r.estimate:.2f} {unit} "
                     f"({res.conf_level:.0%} CI {r.ci_lower:.2f} to {r.ci_upper:.2f})")
    return text


def rmst_tau_for(options: AnalysisOptions, timescale: str) -> float | None:
    """The pre-specified RMST restriction time of ``timescale`` (None: not given)."""
    t = options.time_to_relief
    return t.rmst_tau_sessions if timescale == "sessions" else t.rmst_tau


#: What ``estimate`` is in the survival tables, by the end of the table's name (its
#: header; ``{unit}`` is the timescale: days, sessions, hours).
ESTIMATES = {"_median": "Median{unit}", "hazard_ratios": "Hazard ratio",
             "_time_ratios": "Time ratio", "_rmst": "RMST{unit}",
             "_relieved_by_session": "Relieved", "_per_session": "Probability of relief",
             "soreness_by_session": "Median{unit}", "soreness_by_needles": "Median{unit}",
             "soreness_any": "Proportion"}


def _table(frame: pd.DataFrame, name: str, title: str, notes, conf: float,
           digits: int = 2, not_reached: tuple[str, ...] = ()) -> NamedTable:
    ending = next((k for k in ESTIMATES if name.endswith(k)), None)
    labels = {"estimate": ESTIMATES[ending]} if ending else {}
    unit = ("days" if "_days_" in name else "sessions" if "_sessions_" in name
            else "h" if name.startswith("soreness_") else "")
    return NamedTable(name, TableResult(frame.reset_index(drop=True), title=title,
                                        notes=tuple(notes), conf_level=conf, digits=digits,
                                        not_reached=not_reached, unit=unit, labels=labels))


def _timescale(cohort: Cohort, options: AnalysisOptions, timescale: str,
               progress: bool) -> tuple[ReliefResult, Section]:
    """One timescale of ``[analysis.time_to_relief]``: its result and its items."""
    t = options.time_to_relief
    part = Section("time_to_relief", "")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = time_to_relief(
            cohort, options.outcome, relief=t.relief(), timescale=timescale,
            interval_censored=t.interval_censored, adjust=t.adjust,
            strata=t.strata, reference_arm=options.reference_arm,
            conf_level=options.conf_level, conf_type=t.conf_type,
            distributions=t.distributions, n_boot=t.n_boot, hr_n_boot=t.hr_n_boot,
            seed=t.seed,
            progress=progress, interval_scores=t.interval_scores,
            interval_method=t.interval_method, rmst_tau=rmst_tau_for(options, timescale))
        rmst = None if res.rmst_tau is None else res.rmst(res.rmst_tau)
    stem = f"time_to_relief_{timescale}"
    notes = res.methods()
    conf = options.conf_level
    what = f"Time to relief ({UNITS[timescale]})"
    tests = res.tests
    times = res.default_times()
    if res.timescale == "sessions":
        bands = ("bootstrap bands (Turnbull estimate at whole sessions, steps)"
                 if res.interval_censored else
                 f"{res.conf_type} Greenwood bands (Kaplan-Meier, steps at whole sessions)")
    else:
        bands = ("bootstrap bands (Turnbull estimate; sloped segments: the drop "
                 "happens somewhere in that interval)" if res.interval_censored
                 else f"{res.conf_type} Greenwood bands (Kaplan-Meier)")
    part.items += [
        _table(res.median, f"{stem}_median", f"{what}: median by arm", notes, conf,
               0 if timescale == "sessions" else 1, MEDIAN_COLUMNS),
        NamedFigure(f"{stem}_curve",
                    f"{what}: proportion of patients without relief ({res.definition}) "
                    f"by arm with {conf:.0%} {bands}"
                    + "; dotted lines: medians; numbers at risk below.",
                    lambda ax, r=res: r.plot(ax=ax), 75.0, fixed_mm=AT_RISK_MM),
        _table(res.ic_hazard_ratios, f"{stem}_ic_hazard_ratios",
               f"{what}: interval-censored proportional hazards model hazard ratios "
               "(primary; bootstrap percentile CIs, profile likelihood-ratio p)", notes,
               conf),
        _table(res.hazard_ratios, f"{stem}_hazard_ratios",
               f"{what}: Cox model hazard ratios (Efron ties)"
               + ("; right-censored view (secondary)" if res.ic_ph is not None else ""),
               notes, conf),
        _table(res.time_ratios, f"{stem}_time_ratios",
               f"{what}: time ratios of the "
               + ("interval-censored " if res.interval_censored else "")
               + "parametric AFT models", notes, conf),
        _table(res.model_fit, f"{stem}_model_fit",
               f"{what}: fit of the parametric models", notes, conf, 3),
        _table(tests, f"{stem}_logrank", f"{what}: tests of no difference between arms "
               "(primary first)", notes, conf),
    ]
    if rmst is not None:
        part.items.append(_table(
            rmst, f"{stem}_rmst", f"{what}: restricted mean time without relief up to the "
            f"pre-specified tau = {res.rmst_tau:g} {UNITS[timescale]}", notes, conf))
    if res.timescale == "sessions":
        part.items.append(_table(
            res.relieved_by_session, f"{stem}_relieved_by_session",
            f"{what}: proportion with relief by each whole session", notes, conf, 3))
    part.items += [
        _table(res.at_risk(times), f"{stem}_at_risk",
               f"{what}: numbers at risk, cumulative events and censorings", notes, conf),
    ]
    if res.ph_test is not None:
        part.items.append(_table(res.ph_test, f"{stem}_ph_test",
                                    f"{what}: test of proportional hazards (Schoenfeld "
                                    "residuals, cox.zph with KM transform)", notes, conf, 3))
    if res.discrete_hazard is not None:
        part.items.append(_table(
            res.discrete_hazard.hazard, f"{stem}_per_session",
            f"{what}: probability of relief at each session among patients without "
            "relief before it (discrete-time cloglog model)", notes, conf, 3))
    events = res.events.assign(upper=res.events["upper"].where(
        np.isfinite(res.events["upper"])))
    part.items.append(_table(events, f"{stem}_events",
                                f"{what}: one row per patient (interval (lower, upper]; "
                                "upper and visit_upper empty when right-censored)", notes,
                                conf, 1))
    if len(res.excluded):
        part.items.append(_table(res.excluded, f"{stem}_excluded",
                                    f"{what}: patients not analysed", notes, conf))
    part.diagnostics.append(Diagnostic(
        f"time to relief ({timescale})", res.converged,
        f"{res.n_patients} patients, {res.n_events} with relief; "
        + ", ".join(f"{d} AFT logLik {f.loglik:.2f}" for d, f in res.aft.items()),
        unique([*res.warnings, *(w.message for w in caught)])))
    return res, part


def relief_section(cohort: Cohort, options: AnalysisOptions, *, step,
                   progress: bool = True) -> Section:
    """Run ``[analysis.time_to_relief]`` once per timescale.

    A timescale that fails with one of :data:`~.sections.FAILURES` is listed in
    ``failures`` while the other is reported.
    """
    t = options.time_to_relief
    inst = get_instrument(options.outcome)
    section = Section("time_to_relief", f"Time to relief of {inst.label}")
    for timescale in t.timescale:
        step(f"time to relief ({timescale})"
             + (f": bootstrap of the CIs of the Turnbull curves and medians ({t.n_boot} "
                "replicates per arm)" if t.interval_censored and t.n_boot else ""))
        try:
            res, part = _timescale(cohort, options, timescale, progress)
        except FAILURES as exc:
            section.fail(exc, f"on the {timescale} timescale")
            continue
        section.items += part.items
        section.diagnostics += part.diagnostics
        section.results[f"time_to_relief_{timescale}"] = res
        if not section.headline:
            section.headline.append(relief_headline(res))
    return section


def soreness_headline(res: SorenessResult) -> str:
    """Median soreness by arm and the time ratio per session, as one sentence."""
    def med(x: float) -> str:
        return format_median(x, 1, " h")

    meds = [f"{r.arm} {med(r.estimate)} ({res.conf_level:.0%} CI {med(r.ci_lower)} to "
            f"{med(r.ci_upper)})" for r in res.median.itertuples()]
    text = "Median post-needling soreness: " + ", ".join(meds)
    tr = res.time_ratios
    row = tr[tr["term"] == "session"]
    if len(row):
        r = row.iloc[0]
        text += (f"; duration ratio per additional session {r['estimate']:.2f} "
                 f"({res.conf_level:.0%} CI {r['ci_lower']:.2f} to {r['ci_upper']:.2f}; "
                 f"{p_text(r['p_value'])})")
    return text


def soreness_section(cohort: Cohort, options: AnalysisOptions, *, step,
                     progress: bool = True) -> Section:
    """Run ``[analysis.soreness_duration]``."""
    s = options.soreness_duration
    step("soreness duration" + (f": patient bootstrap of the CIs of the median soreness "
                                f"durations and curves ({s.n_boot} replicates per group)"
                                if s.n_boot else ""))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = soreness_duration(cohort, conf_level=options.conf_level, n_boot=s.n_boot,
                                seed=s.seed, progress=progress)
    conf = options.conf_level
    notes = res.methods()
    section = Section("soreness_duration", "Post-needling soreness")
    section.items += [
        _table(res.median, "soreness_median", "Soreness duration (hours): median by arm",
               notes, conf, 1, MEDIAN_COLUMNS),
        NamedFigure("soreness_curve",
                    f"Proportion of needling sessions with soreness still present by hours "
                    f"after the session, with {conf:.0%} patient-bootstrap bands (Turnbull "
                    "estimate); dotted lines: medians; numbers of sessions still sore "
                    "below.",
                    lambda ax, r=res: r.plot(ax=ax, at_risk=True), 75.0,
                    fixed_mm=AT_RISK_MM),
        _table(res.by_session, "soreness_by_session",
               "Soreness duration (hours): median by session number", notes, conf, 1,
               MEDIAN_COLUMNS),
        _table(res.by_needles, "soreness_by_needles",
               "Soreness duration (hours): median by needles per session", notes, conf, 1,
               MEDIAN_COLUMNS),
        _table(res.any_soreness, "soreness_any",
               "Sessions followed by any soreness (Wilson CI; sessions cluster within "
               "patients)", notes, conf, 3),
        _table(res.time_ratios, "soreness_time_ratios",
               "Soreness duration: time ratios (Weibull AFT, robust SE by patient)", notes,
               conf, 3),
    ]
    section.diagnostics.append(Diagnostic(
        "soreness duration", res.converged,
        f"{len(res.events)} sessions, {res.events['patient_id'].nunique()} patients",
        unique([*res.warnings, *(w.message for w in caught)])))
    section.headline.append(soreness_headline(res))
    return section
