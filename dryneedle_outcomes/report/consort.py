"""The participant flow (CONSORT 2025) and observed-data parts of a run.

The flow is counted after the analyses ran, from the results the run computed (who
each one analysed), and placed early in the report: after the estimand, before any
result (CONSORT 2025 items 22a, 22b and 26). The observed data (n, mean (SD), median
[IQR] per arm and visit of every instrument) are placed right before the trajectory
results, the model estimates they sit beside (SAMPL).
"""

from __future__ import annotations

from ..cohort import Cohort
from ..config import AnalysisOptions
from ..consort import consort_flow
from ..observed import observed_summary
from ..plots.consort import figure_height_mm, plot_consort_flow
from ..tables import TableResult
from .sections import NamedFigure, NamedTable, Section

#: The result names (prefixes) drawn in the diagram: the first of each kind, the
#: primary model first (the table lists every analysis).
DRAWN = ("trajectory_", "reference_based_", "responders_", "time_to_relief_")


def _drawn(names: list[str]) -> list[str]:
    out = []
    for prefix in DRAWN:
        mine = [n for n in names if n.startswith(prefix)]
        if prefix == "trajectory_" and "trajectory_mmrm" in mine:
            mine = ["trajectory_mmrm"]
        out += mine[:1]
    return out


def consort_section(cohort: Cohort, options: AnalysisOptions, sections: list[Section],
                    consort: dict | None = None) -> Section:
    """The participant flow of ``cohort`` with the results of ``sections`` as analyses."""
    consort = consort or {}
    results = {k: v for s in sections for k, v in s.results.items()}
    outcome = options.outcome if options.outcome in cohort.assessments else None
    flow = consort_flow(cohort, analyses=results, primary_visit=options.primary_visit,
                        outcome=outcome, assessed=consort.get("assessed"),
                        excluded_before_randomisation=consort.get(
                            "excluded_before_randomisation") or None)
    tables = flow.tables()
    section = Section("consort", "Participant flow (CONSORT 2025)")
    drawn = _drawn(list(results))
    extra = [n for n in results if n not in drawn]
    caption = ("CONSORT 2025 flow diagram: enrolment, allocation, follow-up and analysis "
               "per arm, counted from the patients register, the quality ledger, the "
               "intercurrent events, the assessments and the analyses of this run"
               + (f" (drawn: {', '.join(drawn)}; every analysis is in the table)"
                  if extra else "") + ".")
    section.items += [
        NamedFigure("consort_flow", caption,
                    lambda ax, f=flow, d=drawn: plot_consort_flow(f, ax=ax, analyses=d),
                    figure_height_mm(flow, drawn, width_mm=85.0)),
        NamedTable("consort_flow", tables["consort_flow"]),
        NamedTable("consort_by_visit", tables["consort_by_visit"]),
    ]
    section.results["consort"] = flow
    bad = flow.check()
    bad = bad[~bad["holds"]]
    if len(bad):
        from .sections import Diagnostic

        section.diagnostics.append(Diagnostic("participant flow", None, "",
                                              tuple(flow.warnings)))
    return section


def observed_section(cohort: Cohort, options: AnalysisOptions) -> Section:
    """Observed data of every instrument per arm and visit (the configured outcome first)."""
    outcomes = [options.outcome] + [i for i in cohort.instruments if i != options.outcome]
    outcomes = [o for o in outcomes if o in cohort.assessments]
    obs = observed_summary(cohort, outcomes)
    t = obs.tables()["observed_data"]
    section = Section("observed_data", "Observed data")
    section.items.append(NamedTable("observed_data", TableResult(
        t.table, title=t.title + " (every patient and value as recorded)", notes=t.notes)))
    return section


def place_consort(sections: list[Section], section: Section) -> None:
    """Insert ``section`` after the estimand section (when there is one), else first."""
    keys = [s.key for s in sections]
    sections.insert(keys.index("estimand") + 1 if "estimand" in keys else 0, section)


__all__ = ["consort_section", "observed_section", "place_consort"]
