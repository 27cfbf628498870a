"""The rows harms analyses count: treatment-emergent events and treatment appointments.

Definitions (stated in every result's notes):

Treatment-emergent event
    An adverse event recorded at visit 1 or later. Visit 0 is the baseline before the
    first needling (DESIGN.md), so an event recorded there cannot be a harm of the
    treatment; such events are left out of every rate and counted in the notes.
Treatment-session appointment
    An assessment record at visit 1..k, where k is the last treatment-session visit:
    the largest visit at which any patient of the cohort was needled (or had needles
    inserted), unless ``last_session`` is given. Every appointment attended counts,
    needled or not: a sham (non-penetrating) appointment is an appointment, as in
    Cotchett et al. (2014). A missed visit has no assessment record and is not an
    appointment.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..cohort import Cohort
from ..errors import AnalysisError
from ..normalize.vocabulary import AE_TERMS, SEVERITIES

#: Values of the ``group`` column, in table order.
GROUPS = ("any", "term", "severity", "serious", "withdrawal")


def arms_of(cohort: Cohort) -> list[str]:
    """Arms with at least one patient, in the order of the arm categories."""
    present = set(cohort.patients["arm"].dropna().astype(str))
    return [a for a in cohort.arms if a in present]


def _arm_lookup(cohort: Cohort) -> pd.Series:
    return cohort.patients.set_index("patient_id")["arm"].astype(str)


def last_treatment_session(cohort: Cohort, last_session: int | None = None) -> int:
    """The last treatment-session visit k (see the module docstring).

    Examples
    --------
    >>> import dryneedle_outcomes as dno
    >>> last_treatment_session(dno.simulate_cohort(n_patients=20, seed=1))
    6
    """
    if last_session is not None:
        k = int(last_session)
        if k < 1 or k != last_session:
            raise AnalysisError(f"last_session must be a whole visit number >= 1, got "
                                f"{last_session!r}")
        return k
    return cohort.session_visits(argument="last_session")[-1]


def appointments(cohort: Cohort, last_session: int | None = None) -> pd.DataFrame:
    """Treatment-session appointments: one row per patient and visit 1..k attended.

    Returns
    -------
    pandas.DataFrame
        ``patient_id``, ``arm``, ``visit``, ``needled`` (bool), ``needles`` and
        ``twitch_responses`` (float, NaN when not recorded), sorted by patient and visit.
    """
    k = last_treatment_session(cohort, last_session)
    a = cohort.visit_ratings().assessments  # one row per visit
    rows = a.loc[(a["visit"] >= 1) & (a["visit"] <= k)]
    out = pd.DataFrame({"patient_id": rows["patient_id"].astype(str).to_numpy(),
                        "visit": rows["visit"].to_numpy(dtype=int)})
    out.insert(1, "arm", out["patient_id"].map(_arm_lookup(cohort)).to_numpy())
    needled = (rows["needled"].fillna(False).astype(bool).to_numpy() if "needled" in rows
               else np.zeros(len(rows), dtype=bool))
    out["needled"] = needled
    for col in ("needles", "twitch_responses"):
        out[col] = (rows[col].astype("Float64").to_numpy(dtype=float, na_value=np.nan)
                    if col in rows else np.nan)
    out = out.loc[out["arm"].notna()]
    return out.sort_values(["patient_id", "visit"], kind="stable").reset_index(drop=True)


@dataclass(frozen=True)
class EventSet:
    """Treatment-emergent events with their arm, and what was left out and why."""

    events: pd.DataFrame          # patient_id, arm, visit, term, severity, serious
    n_recorded: int
    n_before_treatment: int       # visit 0
    n_without_term: int
    n_unknown_patient: int
    soreness: dict = field(default_factory=dict)   # the soreness rule and what it left out


def emergent_events(cohort: Cohort, soreness=None, last_session: int | None = None) -> EventSet:
    """Treatment-emergent events (visit >= 1) of patients in the cohort, with their arm.

    ``soreness`` is a :class:`~.soreness_rule.SorenessRule` (or its mapping): recorded
    post-needling soreness events that do not meet it are left out and counted; with
    ``from_sessions=True`` soreness events are also derived from the session records of
    the treatment appointments (visits 1..``last_session``) without a recorded one. The
    events carry ``derived`` (True for those derived).
    """
    from .soreness_rule import SorenessRule, apply_rule, derive_from_sessions

    ev = cohort.adverse_events
    n = len(ev)
    arm = ev["patient_id"].astype(str).map(_arm_lookup(cohort))
    no_term = ev["term"].isna() if "term" in ev else pd.Series(True, index=ev.index)
    before = ev["visit"] < 1
    unknown = arm.isna()
    keep = ~(before | no_term | unknown)
    out = pd.DataFrame({
        "patient_id": ev["patient_id"].astype(str),
        "arm": arm,
        "visit": ev["visit"].astype(int),
        "term": ev["term"].astype(object) if "term" in ev else np.nan,
        "severity": ev["severity"].astype(object) if "severity" in ev else np.nan,
        "serious": (ev["serious"].astype("boolean").fillna(False).astype(bool)
                    if "serious" in ev else False),
        "withdrawal": (ev["withdrawal"].astype("boolean").fillna(False).astype(bool)
                       if "withdrawal" in ev else False),
        "duration_h": (ev["duration_h"].astype(float) if "duration_h" in ev else np.nan),
    }).loc[keep].reset_index(drop=True)
    rule = SorenessRule.from_any(soreness)
    kept, info = apply_rule(out, cohort.assessments, rule)
    kept = kept.assign(derived=False)
    if rule is not None and rule.from_sessions:
        derived, more = derive_from_sessions(out, appointments(cohort, last_session),
                                             cohort.assessments, rule)
        info = {**info, **more}
        parts = [f for f in (kept, derived[list(kept.columns)]) if len(f)]
        kept = (pd.concat(parts, ignore_index=True) if parts else kept)
    out = kept
    return EventSet(out, n, int(before.sum()), int((no_term & ~before).sum()),
                    int((unknown & ~before & ~no_term).sum()), info)


def categories(events: pd.DataFrame, by, cohort: Cohort) -> list[tuple[str, str, np.ndarray]]:
    """``(group, term, mask over events)`` for every row of a rates table, in table order.

    ``by`` names the groups after "any": any of "term", "severity", "serious",
    "withdrawal" (events that led to withdrawal, CONSORT Harms 2022).
    Every vocabulary term and severity gets a row, with or without events.
    """
    rows = [("any", "any", np.ones(len(events), dtype=bool))]
    ev = cohort.adverse_events
    if "term" in by:
        terms = list(AE_TERMS)
        if isinstance(ev["term"].dtype, pd.CategoricalDtype):
            terms += [str(t) for t in ev["term"].cat.categories if t not in terms]
        terms += sorted({str(t) for t in events["term"].dropna()} - set(terms))
        rows += [("term", t, (events["term"] == t).to_numpy()) for t in terms]
    if "severity" in by:
        sev = list(SEVERITIES)
        sev += sorted({str(s) for s in events["severity"].dropna()} - set(sev))
        rows += [("severity", s, (events["severity"] == s).to_numpy()) for s in sev]
    if "serious" in by:
        rows.append(("serious", "serious", events["serious"].to_numpy(dtype=bool)))
    if "withdrawal" in by:
        rows.append(("withdrawal", "withdrawal", events["withdrawal"].to_numpy(dtype=bool)))
    return rows


def parse_by(by) -> tuple[str, ...]:
    """Normalise ``by`` ("term", "severity", "serious", "withdrawal", "all" or a list)."""
    allowed = GROUPS[1:]
    items = [by] if isinstance(by, str) else list(by)
    if "all" in items:
        return allowed
    bad = [b for b in items if b not in allowed]
    if bad or not items:
        raise AnalysisError(f"by must be 'term', 'severity', 'serious', 'withdrawal', 'all' "
                            f"or a list of them, got {by!r}")
    return tuple(g for g in allowed if g in items)
