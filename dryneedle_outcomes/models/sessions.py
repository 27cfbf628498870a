"""The treatment-session visits a model's "after k sessions" questions count.

Examples
--------
>>> import dryneedle_outcomes as dno
>>> known_sessions(dno.simulate_cohort(n_patients=12, seed=2))
(1, 2, 3, 4, 5, 6)
"""

from __future__ import annotations

from ..cohort import Cohort
from ..errors import AnalysisError


def known_sessions(cohort: Cohort) -> tuple[int, ...]:
    """The cohort's session visits (:meth:`Cohort.session_visits`), or ``()`` when the data
    do not record needling; callers then take the visits >= 1 as the sessions (DESIGN.md:
    visits 1..k are treatment sessions)."""
    try:
        return tuple(cohort.session_visits())
    except AnalysisError:   # no needling recorded: the documented fallback applies
        return ()
