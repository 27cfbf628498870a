"""The ``[analysis.subgroups]`` and ``[analysis.multiplicity]`` sections of a run.

Subgroups: :func:`~dryneedle_outcomes.subgroup_analysis` at the primary visit with the
primary analysis' options (``[analysis.trajectory]``'s adjust, covariance and missing
baseline rule when given), its forest plot and three tables (by level, interaction
tests, heterogeneity). Multiplicity: :func:`~dryneedle_outcomes.multiple_endpoints` on
the declared endpoints with the declared procedure; the table of raw and adjusted
p-values carries the procedure in its notes (the Methods sentence).
"""

from __future__ import annotations

import warnings

from ..cohort import Cohort
from ..config import AnalysisOptions
from ..instruments import get_instrument
from ..models.subgroups import subgroup_analysis
from ..multiplicity import multiple_endpoints
from .sections import Diagnostic, NamedFigure, NamedTable, Section, unique


def _primary_keywords(options: AnalysisOptions) -> dict:
    """The primary analysis' options shared by these sections."""
    t = options.trajectory
    out = {"reference_arm": options.reference_arm, "conf_level": options.conf_level}
    if t is not None:
        out.update(adjust=t.adjust, covariance=(list(t.covariance)
                                                if isinstance(t.covariance, tuple)
                                                else t.covariance),
                   missing_baseline=t.missing_baseline)
    return out


def subgroups_section(cohort: Cohort, options: AnalysisOptions) -> Section:
    """The subgroup analysis of ``options.outcome`` at ``options.primary_visit``."""
    s = options.subgroups
    inst = get_instrument(options.outcome)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = subgroup_analysis(cohort, options.outcome, subgroups=list(s.variables),
                                visit=options.primary_visit, cuts=s.cuts, df=s.df,
                                continuous_interaction=s.continuous_interaction,
                                cluster=s.cluster,
                                **_primary_keywords(options))
    section = Section("subgroups", f"Subgroups: {inst.label}")
    n_rows = len(res.estimates) + res.estimates["subgroup"].nunique()
    section.items.append(NamedFigure(
        "subgroups",
        f"Difference between arms in {inst.label} at visit {res.visit} by pre-specified "
        f"subgroup ({res.conf_level:.0%} CI; n: patients per arm, {res.estimates['arm'].iloc[0]}"
        f"/{res.reference_arm}), with the interaction p-value of each subgroup variable.",
        lambda ax, r=res: r.plot(ax=ax), 20.0 + 5.5 * n_rows))
    for name, table in res.tables().items():
        section.items.append(NamedTable(f"subgroups_{name}" if name != "subgroups"
                                        else "subgroups", table))
    section.headline.append(res.sentence())
    msgs = unique([str(w.message) for w in caught] + list(res.warnings))
    section.diagnostics.append(Diagnostic(
        "subgroups", res.converged, f"{len(res.fits)} subgroup model(s), "
        f"{res.df_method.replace('_', '-')} df", msgs))
    return section


def multiplicity_section(cohort: Cohort, options: AnalysisOptions) -> Section:
    """The declared primary endpoints with raw and adjusted p-values."""
    m = options.multiplicity
    t = options.trajectory
    keywords = _primary_keywords(options)
    if t is not None:
        keywords["df"] = t.df_for("mmrm")
        keywords["vcov"] = t.vcov_for("mmrm")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = multiple_endpoints(cohort, list(m.endpoints), procedure=m.procedure,
                                 alpha=m.alpha, **keywords)
    section = Section("multiplicity", "Multiplicity: primary endpoints")
    section.items.append(NamedTable("multiplicity", res.tables()["multiplicity"]))
    rejected = res.table.loc[res.table["reject"], "hypothesis"].tolist()
    section.headline.append(
        f"{res.methods_text()[:-1]}: {len(rejected)} of {len(res.table)} rejected"
        + (f" ({'; '.join(rejected)})." if rejected else "."))
    msgs = unique([str(w.message) for w in caught] + list(res.warnings))
    section.diagnostics.append(Diagnostic("multiplicity", res.converged,
                                          f"{m.procedure}, alpha {m.alpha:g}", msgs))
    return section


__all__ = ["multiplicity_section", "subgroups_section"]
