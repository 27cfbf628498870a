"""The ``[analysis.reference_based]`` section: :func:`~dryneedle_outcomes.reference_based`
once per method, and the tipping point of the first method, shown right under the
trajectory result (ICH E9(R1) A.5.2: the primary result under MAR, then its sensitivity
analyses under other assumptions about the missing values; the tipping point as Cro et
al. 2020, Stat Med 39:2815-42, describe).

With an ``[estimand]`` table the intercurrent events come from the cohort's
``intercurrent_events`` and the values after a hypothetical-strategy event are set
aside and imputed (``reference_based(..., estimand=...)``).
"""

from __future__ import annotations

import warnings
from dataclasses import replace

import pandas as pd

from ..arms import arm_text
from ..cohort import Cohort
from ..config import AnalysisOptions
from ..estimands.estimand import Estimand
from ..instruments import get_instrument
from ..models.reference_based import reference_based
from ..tables import TableResult
from .sections import FAILURES, Diagnostic, NamedFigure, NamedTable, Section, p_text, unique


def reference_based_section(cohort: Cohort, options: AnalysisOptions, *, step,
                            progress: bool = True,
                            estimand: dict | None = None) -> Section:
    """Every method of ``options.reference_based`` on ``cohort`` (the randomised cohort,
    not the estimand's: the imputation sets aside what the estimand says); a method that
    fails with one of :data:`~.sections.FAILURES` is listed in ``failures``."""
    rb = options.reference_based
    inst = get_instrument(options.outcome)
    section = Section("reference_based", f"Missing data: {inst.label} under MAR and "
                                         "reference-based assumptions")
    est = Estimand.from_dict(estimand) if estimand is not None else None
    # a patient without a baseline is handled as in the primary analysis
    missing_baseline = (options.trajectory.missing_baseline if options.trajectory is not None
                        else "mean")
    results = {}
    for method in rb.methods:
        step(f"multiple imputation: {method.replace('_', ' ')}")
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                res = reference_based(cohort, options.outcome, method=method,
                                      reference_arm=rb.reference_arm or options.reference_arm,
                                      conf_level=options.conf_level, estimand=est,
                                      progress=progress, missing_baseline=missing_baseline,
                                      **rb.keywords())
        except FAILURES as exc:
            section.fail(exc, f"the {method} imputation")
            continue
        results[method] = res
        section.results[f"reference_based_{method}"] = res
        msgs = unique([str(w.message) for w in caught] + list(res.warnings))
        section.diagnostics.append(Diagnostic(
            f"multiple imputation ({method})", res.converged,
            f"{res.approach.replace('_', ' ')}, {res.variance}, {res.n_samples} samples",
            msgs))
    if not results:
        return section
    first = next(iter(results.values()))
    diff = pd.concat([r.arm_difference.assign(method=m) for m, r in results.items()],
                     ignore_index=True)
    diff = diff[["method"] + [c for c in diff.columns if c != "method"]]
    notes = tuple(dict.fromkeys(n for r in results.values() for n in r.notes))
    section.items.append(NamedTable("reference_based", TableResult(
        diff, title=f"{get_instrument(options.outcome).label}: difference between arms per "
                    f"visit after multiple imputation, by assumption (arm minus "
                    f"{arm_text(first.reference_arm)}, {options.conf_level:.0%} CI)",
        notes=notes,
        conf_level=options.conf_level, digits=get_instrument(options.outcome).digits,
        unit=get_instrument(options.outcome).units)))
    inst = get_instrument(options.outcome)

    def titled(table: TableResult, unit: str = "") -> TableResult:
        """The table titled with the instrument's label, not its column name."""
        title = table.title
        if title.startswith(options.outcome):
            title = inst.label + title[len(options.outcome):]
        return replace(table, title=title, unit=unit or table.unit)

    section.items.append(NamedTable("reference_based_missing",
                                    titled(first.tables()["missing"])))
    visit = options.primary_visit if options.primary_visit in first.visits \
        else first.visits[-1]
    m0, r0 = next(iter(results.items()))
    tip = r0.tipping_point(list(rb.tipping_deltas) or None)
    tabs = tip.tables()
    section.items.append(NamedTable("tipping_point", titled(tabs["tipping"])))
    section.items.append(NamedTable("tipping_point_table",
                                    titled(tabs["table"], inst.units)))
    section.items.append(NamedFigure(
        "tipping_point",
        f"Tipping point ({m0.replace('_', ' ')} imputation): the difference at visit "
        f"{visit} with its {options.conf_level:.0%} CI as delta is added to every imputed "
        f"value of {', '.join(tip.delta_arms)}; the dotted line marks where significance "
        "is lost (Cro et al. 2020).",
        lambda ax, t=tip, v=visit: t.plot(ax=ax, visit=v), 60.0))
    section.headline.append(headline(results, tip, visit))
    return section


def headline(results: dict, tip, visit: int) -> str:
    """The differences at ``visit`` under each assumption and the tipping delta, as one
    sentence."""
    first = next(iter(results.values()))
    units = get_instrument(first.outcome).units
    parts = []
    for m, r in results.items():
        rows = r.arm_difference[r.arm_difference["visit"] == visit]
        for x in rows.itertuples():
            parts.append(f"under {m.replace('_', ' ')}, {x.arm} minus {x.reference} "
                         f"{x.estimate:.1f} {units} ({r.conf_level:.0%} CI "
                         f"{x.ci_lower:.1f} to {x.ci_upper:.1f}; {p_text(x.p_value)})")
    text = (f"Multiple imputation at visit {visit} ({first.approach.replace('_', ' ')}, "
            f"{first.variance}): " + "; ".join(parts))
    t = tip.tipping[tip.tipping["visit"] == visit]
    for x in t.itertuples():
        if pd.notna(x.delta_interpolated):
            text += (f". Tipping point: significance is lost when about "
                     f"{x.delta_interpolated:.1f} {units} is added to the imputed values "
                     f"of {x.arm}")
        elif x.p_value_at_0 < tip.alpha:
            text += f". Tipping point: {x.arm} stays significant over the deltas tried"
    return text + "."
