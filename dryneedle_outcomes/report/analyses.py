"""Run the analyses a configuration names, each into a :class:`Section`.

Order (and order in the report): the estimand (when the configuration has an
``[estimand]`` table: its ICH E9(R1) table, the populations and the values set aside,
before any result), the participant flow (CONSORT 2025; counted last, from the results
the run computed, and placed here), the intervention as delivered (STRICTA 2010),
baseline table, the observed data, trajectory,
multiple imputation under MAR and reference-based assumptions with its tipping point,
the primary endpoints with multiplicity-adjusted p-values, subgroups, time to relief
(once per timescale), responders, blinding, harms, soreness duration.

An analysis that cannot run does not stop the others. The errors that mean "this
cohort cannot support this analysis" (:data:`.sections.FAILURES`: any
:class:`~dryneedle_outcomes.errors.DryNeedleError`, and the numerical errors an engine
raises on such data: ``numpy.linalg.LinAlgError`` such as a singular matrix,
``ValueError``, ``FloatingPointError``) are caught for that analysis only, or for one
trajectory model or one time-to-relief timescale while the others run, and recorded
in :attr:`Section.failures` (the exception's type is named unless it is one of ours).
The run writes every other output, lists the failures first in ``warnings.txt``, in a
banner of the report and on the console, and the command line exits with code 1. Any
other exception propagates.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable

from ..baseline_table import baseline_table
from ..blinding import blinding_index
from ..cohort import Cohort
from ..config import AnalysisOptions
from ..errors import AnalysisError
from ..instruments import get_instrument
from ..plots import plot_responders
from ..responders import MISSING_LABELS, RespondersResult, responders
from .consort import consort_section, observed_section, place_consort
from .harms import harms_section
from .main_results import mark_main
from .reference_based import reference_based_section
from .relief import relief_section, soreness_section
from .sections import (
    FAILURES,
    Diagnostic,
    NamedFigure,
    NamedTable,
    Section,
    arm_prose,
    p_text,
    plain_table,
    unique,
)
from .trajectory import trajectory_section


def n_steps(options: AnalysisOptions | None) -> int:
    """Progress steps of :func:`run_analyses` (one per model, one per other analysis)."""
    if options is None:
        return 0
    n = len(options.trajectory.models) if options.trajectory else 0
    n += len(options.reference_based.methods) if options.reference_based else 0
    n += len(options.time_to_relief.timescale) if options.time_to_relief else 0
    return n + sum(getattr(options, k, None) is not None
                   for k in ("baseline_table", "harms", "responders", "blinding",
                             "soreness_duration", "subgroups", "multiplicity", "stricta"))


#: Section titles of analyses that could not run.
TITLES = {"baseline_table": "Baseline characteristics", "trajectory": "Trajectory",
          "reference_based": "Missing data: multiple imputation",
          "time_to_relief": "Time to relief", "responders": "Responders", "harms": "Harms",
          "blinding": "Blinding",
          "soreness_duration": "Post-needling soreness", "estimand": "Estimand",
          "consort": "Participant flow (CONSORT 2025)", "observed_data": "Observed data",
          "subgroups": "Subgroups", "multiplicity": "Multiplicity: primary endpoints",
          "stricta": "Intervention as delivered (STRICTA)"}


def _attempt(sections: list[Section], key: str, build: Callable[[], Section]) -> None:
    """Append ``build()``, or a section without items naming why it could not run."""
    try:
        sections.append(build())
    except FAILURES as exc:
        failed = Section(key, TITLES[key])
        failed.fail(exc)
        sections.append(failed)


def run_analyses(cohort: Cohort, options: AnalysisOptions | None, *,
                 step: Callable[[str], None] = lambda message: None,
                 progress: bool = True, estimand: dict | None = None,
                 consort: dict | None = None) -> list[Section]:
    """Every analysis of ``options`` on ``cohort``; ``step`` is called before each one.

    An analysis that fails with one of :data:`~.sections.FAILURES` gives a section
    with ``failures`` set and no items; the others run (see the module docstring).
    ``estimand`` (the configuration's checked ``[estimand]`` table) puts the estimand
    section first; ``consort`` (the checked ``[consort]`` table) gives the enrolment
    numbers of the participant flow.
    """
    if options is None:
        return []
    sections: list[Section] = []
    everyone = cohort
    responder_cohort = cohort
    if estimand is not None:
        from .estimand import estimand_run

        try:
            section, cohort, responder_cohort = estimand_run(everyone, estimand,
                                                             options.outcome)
            sections.append(section)
        except FAILURES as exc:  # the analyses below then use every value, and say so
            failed = Section("estimand", TITLES["estimand"])
            failed.fail(exc)
            sections.append(failed)
    if options.baseline_table is not None:
        step("baseline table")
        _attempt(sections, "baseline_table", lambda: _baseline(everyone, options))
    if options.trajectory is not None:
        if options.outcome in everyone.assessments:   # observed, before the model's
            _attempt(sections, "observed_data", lambda: observed_section(everyone, options))
        _attempt(sections, "trajectory", lambda: trajectory_section(
            cohort, options, step=step, progress=progress))
    if options.reference_based is not None:   # right under the primary result
        _attempt(sections, "reference_based", lambda: reference_based_section(
            everyone, options, step=step, progress=progress, estimand=estimand))
    if getattr(options, "multiplicity", None) is not None:
        from .subgroups import multiplicity_section

        step("multiplicity: primary endpoints")
        _attempt(sections, "multiplicity", lambda: multiplicity_section(cohort, options))
    if getattr(options, "subgroups", None) is not None:
        from .subgroups import subgroups_section

        step("subgroups")
        _attempt(sections, "subgroups", lambda: subgroups_section(cohort, options))
    if options.time_to_relief is not None:
        _attempt(sections, "time_to_relief", lambda: relief_section(
            cohort, options, step=step, progress=progress))
    if options.responders is not None:
        step("responders")
        _attempt(sections, "responders", lambda: _responders(responder_cohort, options))
    if options.blinding is not None:
        step("blinding")
        _attempt(sections, "blinding", lambda: _blinding(everyone, options))
    if options.harms is not None:
        step("harms: adverse-event rates, protocol deviations"
             + (", dose-response" if options.harms.dose_response else ""))
        _attempt(sections, "harms", lambda: harms_section(everyone, options))
    if options.soreness_duration is not None:
        _attempt(sections, "soreness_duration", lambda: soreness_section(
            everyone, options, step=step, progress=progress))
    flow: list[Section] = []   # counted from the results above, placed before them
    _attempt(flow, "consort", lambda: consort_section(everyone, options, sections, consort))
    place_consort(sections, flow[0])
    if getattr(options, "stricta", None) is not None:   # after the flow, before results
        from .stricta import place_stricta, stricta_section

        step("intervention as delivered (STRICTA)")
        delivered: list[Section] = []
        _attempt(delivered, "stricta", lambda: stricta_section(everyone, options))
        place_stricta(sections, delivered[0])
    mark_main(sections)   # the report's main results; the rest is its appendix
    for section in sections:   # arms in the headline as the tables and figures name them
        section.headline[:] = [arm_prose(h, everyone.arms) for h in section.headline]
    return sections


def _caught(function, *args, **kwargs):
    """Call ``function`` and return its result and the warning messages it issued."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = function(*args, **kwargs)
    return result, [str(w.message) for w in caught]


def _baseline(cohort: Cohort, options: AnalysisOptions) -> Section:
    table, caught = _caught(baseline_table, cohort, p_values=options.baseline_table.p_values)
    return Section("baseline_table", "Baseline characteristics",
                   items=[NamedTable("baseline_table", plain_table(table))],
                   diagnostics=[Diagnostic("baseline table", None,
                                           "summary rule per variable in the notes",
                                           unique(caught))] if caught else [])


def responders_headline(res: RespondersResult, *, visit: int) -> str:
    """The responders at ``visit`` (the pre-specified primary visit in a run), as one
    sentence; an :class:`~dryneedle_outcomes.errors.AnalysisError` when ``visit`` has no
    responder rows."""
    rows = res.table[res.table["visit"] == visit]
    if rows.empty:
        raise AnalysisError(f"visit {visit} has no responder rows; visits: "
                            f"{sorted(int(v) for v in res.table['visit'].unique())}")
    cells = [f"{r.arm} {r.n_responders}/{r.denominator} ({100 * r.estimate:.1f}%)"
             for r in rows.itertuples()]
    text = (f"Responders at visit {visit} (the pre-specified primary visit; "
            f"{res.definition}; {MISSING_LABELS.get(res.missing, res.missing)}): "
            + ", ".join(cells))
    level = f"{res.conf_level:.0%}"
    adj = (res.adjusted[(res.adjusted["visit"] == visit)
                        & (res.adjusted["measure"] == "risk_difference")]
           if len(res.adjusted) else res.adjusted)
    diff = res.comparison[res.comparison["visit"] == visit]
    for r in diff.itertuples():
        a = adj[adj["arm"] == r.arm] if len(adj) else adj
        if len(a):
            x = a.iloc[0]
            text += (f"; {r.arm} minus {r.reference}, adjusted for {x['adjusted_for']} "
                     f"(standardised), {100 * x['estimate']:.1f} percentage points ({level} CI "
                     f"{100 * x['ci_lower']:.1f} to {100 * x['ci_upper']:.1f}; "
                     f"{p_text(x['p_value'])}); unadjusted {100 * r.estimate:.1f} "
                     f"({100 * r.ci_lower:.1f} to {100 * r.ci_upper:.1f}; {r.nnt_label}, "
                     f"{level} CI {r.nnt_ci_label})")
        else:
            text += (f"; {r.arm} minus {r.reference} {100 * r.estimate:.1f} percentage "
                     f"points ({level} CI {100 * r.ci_lower:.1f} to {100 * r.ci_upper:.1f}; "
                     f"{r.nnt_label}, {level} CI {r.nnt_ci_label}; {p_text(r.p_value)})")
    return text


def _untitled(ax):
    """Drop the Axes title: the caption states it, and a long one overflows the column."""
    ax.set_title("", loc="left")
    ax.set_title("")
    return ax


def _responders(cohort: Cohort, options: AnalysisOptions) -> Section:
    r = options.responders
    inst = get_instrument(options.outcome)
    section = Section("responders", f"Responders on {inst.label}")
    results = []
    for missing in r.missing:
        res, caught = _caught(responders, cohort, options.outcome, **r.definition(),
                              missing=missing, conf_level=options.conf_level,
                              reference_arm=options.reference_arm, adjust=r.adjust,
                              variance=r.variance)
        results.append(res)
        section.results[f"responders_{missing}"] = res
        section.items.append(NamedTable(f"responders_{missing}", plain_table(res)))
        section.items.append(NamedFigure(
            f"responders_{missing}",
            f"{res.title}: proportion of responders per visit with {res.conf_level:.0%} "
            "Wilson CIs.", lambda ax, x=res: _untitled(plot_responders(x, ax=ax)), 60.0))
        if len(res.comparison):
            section.items.append(NamedTable(
                f"responders_{missing}_difference",
                plain_table(res.comparison_table(),
                            title=f"{res.title}: risk difference vs {res.reference_arm} "
                                  f"({res.conf_level:.0%} CI) and number needed to treat",
                            notes=res.notes)))
        if len(res.adjusted):
            section.items.append(NamedTable(f"responders_{missing}_adjusted",
                                            plain_table(res.adjusted_table())))
            if (res.adjusted["measure"] == "risk_ratio").any():
                section.items.append(NamedTable(
                    f"responders_{missing}_adjusted_ratio",
                    plain_table(res.adjusted_table("risk_ratio"))))
        if len(res.effect_sizes) and len(results) == 1:   # observed cases: one table
            section.items.append(NamedTable("responders_effect_sizes",
                                            plain_table(res.effect_size_table())))
        caught = [*caught, *res.warnings]
        if caught:
            section.diagnostics.append(Diagnostic(f"responders ({missing})", None, "",
                                                  unique(caught)))
    section.headline.append(responders_headline(results[0], visit=options.primary_visit))
    return section


def _blinding(cohort: Cohort, options: AnalysisOptions) -> Section:
    res, caught = _caught(blinding_index, cohort, conf_level=options.conf_level,
                          alternative=options.blinding.alternative)
    section = Section("blinding", "Blinding")
    section.items.append(NamedTable("blinding", plain_table(res)))
    section.headline.append(res.sentence())
    if caught:
        section.diagnostics.append(Diagnostic("blinding", None, "", unique(caught)))
    return section
