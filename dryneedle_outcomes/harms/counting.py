"""Counting adverse events per participant, per appointment and per needle inserted.

Each function returns one row per arm and category (``group``, ``term``) with the
pinned ``count`` and ``denominator`` and both ways of counting recurrent events:

- ``n_events``: every event (a participant with three bruises counts three times);
- ``n_with_event``: participants (``per="patient"``) or appointments (``per="session"``
  and ``per="100_needles"``) with at least one event.

``count`` is what the rate divides: ``n_with_event`` for proportions (patient, session),
``n_events`` for the rate per needle.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..cohort import Cohort
from .events import EventSet, appointments, arms_of, categories


@dataclass(frozen=True)
class Counts:
    """Counts with the facts the notes report."""

    table: pd.DataFrame
    info: dict = field(default_factory=dict)


def _rows(arm, group, term, sub: pd.DataFrame, unit_cols: list[str]) -> dict:
    units = sub[unit_cols].drop_duplicates()
    return {"arm": arm, "group": group, "term": term, "n_events": int(len(sub)),
            "n_with_event": int(len(units)),
            "n_patients_with_event": int(sub["patient_id"].nunique())}


def per_patient(cohort: Cohort, es: EventSet, by) -> Counts:
    """Participants with >= 1 event, over all randomised participants of the arm."""
    n_arm = cohort.patients["arm"].astype(str).value_counts()
    rows = []
    for arm in arms_of(cohort):
        ev = es.events.loc[es.events["arm"] == arm].reset_index(drop=True)
        for group, term, mask in categories(ev, by, cohort):
            row = _rows(arm, group, term, ev.loc[mask], ["patient_id"])
            row.update(count=row["n_with_event"], denominator=int(n_arm.get(arm, 0)),
                       n_patients=int(n_arm.get(arm, 0)))
            rows.append(row)
    return Counts(pd.DataFrame(rows))


def _session_events(cohort: Cohort, es: EventSet, appts: pd.DataFrame):
    keys = appts[["patient_id", "visit"]]
    ev = es.events.merge(keys, on=["patient_id", "visit"], how="left", indicator=True)
    inside = (ev["_merge"] == "both").to_numpy()
    k = int(appts["visit"].max()) if len(appts) else 0
    after = ~inside & (ev["visit"] > k).to_numpy()
    info = {"last_session": k, "n_after_last_session": int(after.sum()),
            "n_unassessed_visit": int((~inside & ~after).sum())}
    return ev.loc[inside].drop(columns="_merge").reset_index(drop=True), info


def per_session(cohort: Cohort, es: EventSet, by, last_session: int | None = None) -> Counts:
    """Appointments with >= 1 event, over treatment-session appointments attended."""
    appts = appointments(cohort, last_session)
    events, info = _session_events(cohort, es, appts)
    rows = []
    for arm in arms_of(cohort):
        ap = appts.loc[appts["arm"] == arm]
        ev = events.loc[events["arm"] == arm].reset_index(drop=True)
        for group, term, mask in categories(ev, by, cohort):
            row = _rows(arm, group, term, ev.loc[mask], ["patient_id", "visit"])
            row.update(count=row["n_with_event"], denominator=int(len(ap)),
                       n_patients=int(ap["patient_id"].nunique()))
            rows.append(row)
    return Counts(pd.DataFrame(rows), info)


def per_needles(cohort: Cohort, es: EventSet, by, last_session: int | None = None) -> Counts:
    """Events at treatment-session appointments, over needle insertions at them."""
    appts = appointments(cohort, last_session)
    events, info = _session_events(cohort, es, appts)
    info["n_needles_missing"] = int((appts["needled"] & appts["needles"].isna()).sum())
    rows = []
    for arm in arms_of(cohort):
        ap = appts.loc[appts["arm"] == arm]
        needles = float(np.nansum(ap["needles"].to_numpy(dtype=float)))
        ev = events.loc[events["arm"] == arm].reset_index(drop=True)
        for group, term, mask in categories(ev, by, cohort):
            row = _rows(arm, group, term, ev.loc[mask], ["patient_id", "visit"])
            row.update(count=row["n_events"], denominator=int(round(needles)), n_patients=int(
                ap["patient_id"].nunique()), n_appointments=int(len(ap)))
            rows.append(row)
    return Counts(pd.DataFrame(rows), info)
