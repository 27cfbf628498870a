"""The estimand section of a run: printed before any result (ICH E9(R1) 2019, A.3.2).

The estimand table (the five attributes and each intercurrent event's strategy), the
per-protocol population beside the randomised one when the configuration declares a
rule, and, when the cohort has intercurrent events, how many values of the outcome
each arm's analysis uses and sets aside under the strategies. The outcome analyses of
the run (trajectory, time to relief, responders) then take the estimand's data
(:meth:`~dryneedle_outcomes.EstimandData.analysis_cohort`): values at and after a
hypothetical or while-on-treatment event are left out (the MMRM then estimates the
hypothetical strategy under missing at random), and for responders a visit at or after
a composite-strategy event is missing, which ``missing = "non_responder"`` counts as
non-response. Baseline characteristics, harms and blinding use every patient and value.
"""

from __future__ import annotations

from ..cohort import Cohort
from ..estimands import Estimand, apply_estimand, per_protocol_population
from ..instruments import get_instrument
from ..tables import TableResult
from .sections import NamedTable, Section


def estimand_run(cohort: Cohort, table: dict, outcome: str) -> tuple[Section, Cohort, Cohort]:
    """The section of ``[estimand]`` (``table``: the configuration's checked keys), and the
    cohorts the outcome analyses and the responder analysis use."""
    est = Estimand.from_dict(table)
    section = Section("estimand", "Estimand")
    section.items.append(NamedTable("estimand", est.tables()["estimand"]))
    if est.per_protocol is not None:
        pop = per_protocol_population(cohort, est.per_protocol)
        section.items.append(NamedTable("populations", pop.tables()["populations"]))
    data = apply_estimand(cohort, est, outcome=outcome)
    if len(data.events) or est.population != "randomised":
        notes = data.notes + (
            "Trajectory, time to relief and responders use these data; a visit at or after "
            "a composite-strategy event counts as non-response in the responders' "
            "non_responder table. The values set aside stay in the cohort "
            "(apply_estimand(...).ledger lists them).",)
        section.items.append(NamedTable("estimand_data", TableResult(
            data.counts(), title=f"Values of {get_instrument(outcome).label} used and set "
            "aside under the estimand", notes=notes)))
    return (section, data.analysis_cohort(cohort),
            data.analysis_cohort(cohort, composite=True))
