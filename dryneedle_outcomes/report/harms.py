"""The report's harms section (CONSORT Harms 2022).

In report order: the harms table as papers print it (terms as rows, arms as columns:
participants n (%) and events per 100 appointments, withdrawals due to adverse events)
and its long machine-readable form; the rates per denominator with their figures and
between-arm comparisons (risk difference; risk ratio and p-values only when the
configuration asks); protocol deviations; dose-response. The headline states the
soreness rule and the withdrawals per arm.
"""

from __future__ import annotations

import warnings

from ..cohort import Cohort
from ..config import AnalysisOptions
from ..harms import adverse_event_rates, dose_response, harms_table, protocol_deviations
from ..harms.rates import AdverseEventRates
from ..harms.soreness_rule import SorenessRule
from ..harms.table import HarmsTable
from ..plots import plot_adverse_events, plot_harms_table
from ..plots.harms import figure_height_mm as ae_figure_height_mm
from .sections import Diagnostic, NamedFigure, NamedTable, Section, plain_table, unique


def _caught(function, *args, **kwargs):
    """Call ``function`` and return its result and the warning messages it issued."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = function(*args, **kwargs)
    return result, [str(w.message) for w in caught]


def rates_headline(rates: AdverseEventRates) -> str:
    """The "any adverse event" rates per arm, as one sentence."""
    rows = rates.table[rates.table["group"] == "any"]
    if rates.per == "100_needles":
        cells = [f"{r.arm} {r.estimate:.1f} ({rates.conf_level:.0%} CI {r.ci_lower:.1f} to "
                 f"{r.ci_upper:.1f})" if r.estimate == r.estimate else f"{r.arm} not estimable"
                 for r in rows.itertuples()]
        return "Adverse events per 100 needle insertions: " + ", ".join(cells)
    what = ("Treatment appointments" if rates.per == "session" else "Participants")
    cells = [f"{r.arm} {r.count}/{r.denominator} ({100 * r.estimate:.1f}%, "
             f"{rates.conf_level:.0%} CI {100 * r.ci_lower:.1f} to {100 * r.ci_upper:.1f}%)"
             for r in rows.itertuples()]
    return f"{what} with at least one adverse event: " + ", ".join(cells)


def harms_headline(table: HarmsTable) -> list[str]:
    """The soreness rule and the withdrawals due to adverse events per arm.

    Examples
    --------
    >>> import dryneedle_outcomes as dno
    >>> t = dno.harms_table(dno.simulate_cohort(n_patients=20, seed=1),
    ...                     soreness_as_ae={"min_hours": 48})
    >>> harms_headline(t)[0]
    'Post-needling soreness counts as an adverse event when it lasted at least 48 h.'
    """
    rule = table.extra.get("soreness_rule")
    lines = [(rule[:1].upper() + rule[1:] + ".") if rule else
             "No soreness rule was declared: every recorded post-needling soreness event "
             "counts as an adverse event."]
    w = table.long.loc[table.long["group"] == "withdrawal"]
    lines.append("Withdrawals due to adverse events: " + ", ".join(
        f"{r.arm} {r.n_participants_with_event}/{r.n_participants}" for r in w.itertuples()))
    return lines


def harms_section(cohort: Cohort, options: AnalysisOptions) -> Section:
    """Every harms output the configuration names, as one report section."""
    h = options.harms
    section = Section("harms", "Harms")
    soreness = SorenessRule.from_any(h.soreness_as_ae)
    table, caught = _caught(harms_table, cohort, soreness_as_ae=soreness,
                            conf_level=options.conf_level)
    messages: list[str] = list(caught)
    section.items.append(NamedTable("harms_table", plain_table(table)))
    section.items.append(NamedTable("harms_table_long", table.tables()["harms_long"]))
    height = ae_figure_height_mm(zip(table.long["group"], table.long["term"], strict=True))
    section.items.append(NamedFigure(
        "harms_participants",
        f"Participants with each adverse event, by arm, with {table.conf_level:.0%} exact "
        "CIs; rows grouped overall, by term, and serious events and withdrawals.",
        lambda ax, t=table, ref=options.reference_arm: plot_harms_table(t, ax=ax,
                                                                        reference=ref),
        height, fixed_mm=height - 25.0))
    rates_by_per = {}
    for per in h.per:
        rates, caught = _caught(adverse_event_rates, cohort, per=per,
                                conf_level=options.conf_level,
                                reference_arm=options.reference_arm, soreness_as_ae=soreness,
                                p_values=h.p_values, risk_ratio=h.risk_ratio)
        messages += caught
        rates_by_per[per] = rates
        section.items.append(NamedTable(f"ae_rates_{per}", plain_table(rates)))
        height = ae_figure_height_mm(zip(rates.table["group"], rates.table["term"],
                                         strict=True))
        section.items.append(NamedFigure(
            f"ae_incidence_{per}",
            f"{rates.title}, with {rates.conf_level:.0%} exact CIs; rows grouped overall, "
            "by term, by severity, and serious events and withdrawals.",
            lambda ax, r=rates: plot_adverse_events(r, ax=ax), height,
            fixed_mm=height - 25.0))
        if len(rates.comparison):
            section.items.append(NamedTable(f"ae_rates_{per}_comparison",
                                            plain_table(rates.comparison_table())))
    if messages:
        section.diagnostics.append(Diagnostic("adverse-event rates", None, "", unique(messages)))
    deviations, caught = _caught(protocol_deviations, cohort)
    section.items.append(NamedTable("protocol_deviations", plain_table(deviations)))
    if h.dose_response:
        dose, caught = _caught(dose_response, cohort, conf_level=options.conf_level)
        section.items.append(NamedTable("ae_dose_response", plain_table(dose)))
        n_terms = dose.table["term"].nunique()
        section.diagnostics.append(Diagnostic(
            "dose-response GEE", dose.converged,
            f"{n_terms} term(s); {len(dose.data)} appointments of "
            f"{dose.data['patient_id'].nunique()} patients",
            unique([*dose.warnings, *caught])))
    if rates_by_per:
        main = rates_by_per.get("session") or next(iter(rates_by_per.values()))
        section.headline.append(rates_headline(main))
    section.headline.extend(harms_headline(table))
    return section
