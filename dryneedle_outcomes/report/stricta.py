"""The intervention as delivered (STRICTA 2010) part of a run.

Placed right after the participant flow: CONSORT 2025 (item 12) and STRICTA
(MacPherson et al. 2010) ask for the interventions as delivered before any result.
The table only: its numbers are counts from the session data, not an analysis, so the
participant flow does not list it among the analyses.
"""

from __future__ import annotations

from ..cohort import Cohort
from ..config import AnalysisOptions
from ..stricta import stricta_table
from .sections import NamedTable, Section, plain_table

#: The section's key and title.
KEY, TITLE = "stricta", "Intervention as delivered (STRICTA)"


def stricta_section(cohort: Cohort, options: AnalysisOptions) -> Section:
    """The STRICTA table of ``cohort`` with ``[analysis.stricta]``'s planned sessions."""
    result = stricta_table(cohort, planned_sessions=options.stricta.planned_sessions)
    section = Section(KEY, TITLE)
    section.items.append(NamedTable("stricta", plain_table(result.tables()["stricta"])))
    return section


def place_stricta(sections: list[Section], section: Section) -> None:
    """Insert ``section`` right after the participant flow (else after the estimand)."""
    keys = [s.key for s in sections]
    after = next((k for k in ("consort", "estimand") if k in keys), None)
    sections.insert(keys.index(after) + 1 if after else 0, section)


__all__ = ["KEY", "TITLE", "place_stricta", "stricta_section"]
