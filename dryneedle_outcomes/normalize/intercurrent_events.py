"""The intercurrent-events table: one row per event affecting the estimand.

ICH E9(R1) (2019, A.3.1) calls *intercurrent* the events after treatment initiation that
affect either the interpretation or the existence of the measurements associated with
the clinical question: stopping the needling, rescue analgesia, a steroid injection,
orthoses or a night splint started during the trial, leaving the study. Each row here
is one such event: ``patient_id``, ``visit`` (the first visit whose measurement it
affects), ``day`` (days since baseline, when dated), ``event`` (the vocabulary of
:mod:`~dryneedle_outcomes.normalize.vocabulary.ice_events`) and ``reason`` (text).

Rules (each a rejected record with its file, row, column and rule; ``errors="raise"``
raises for all of them, ``errors="quarantine"`` sets the record aside in the ledger):

``unknown_event``
    the event text matches nothing in the vocabulary (never guessed; add a synonym);
``missing_event``
    no event given;
``unknown_patient`` / ``patient_rejected``
    as for the other tables (:func:`~dryneedle_outcomes.normalize.links.check_patient_links`);
``ice_at_baseline``
    visit 0: an intercurrent event happens after treatment starts, so the first visit
    it can affect is visit 1;
``visit_not_in_schedule``
    a visit at which no patient of the cohort was assessed;
``duplicate_event``
    the same patient, event and visit twice (an exact copy is collapsed,
    ``exact_duplicate``, which does not raise);
``repeated_event``
    discontinuing treatment or leaving the study twice for one patient (they happen
    once; the earliest is kept);
``event_after_withdrawal``
    an event at a visit after the patient left the study.

Kept records worth a look are flagged (rule ``assessed_after_withdrawal``: the patient
has assessments after the visit at which they left the study).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..mapping import TableMapping
from .assessments import normalize_visits
from .cells import apply_codes, record_recodes, text_form, to_number
from .ids import normalize_ids
from .records import Records
from .source_rows import add_carried
from .vocabulary.ice_events import ICE_EVENTS, map_ice_events

#: Events that happen at most once per patient (the earliest record is kept).
ONCE_ONLY: tuple[str, ...] = ("discontinued_treatment", "withdrew_from_study",
                              "adverse_event_withdrawal")

#: The canonical columns, in order.
ICE_COLUMNS: tuple[str, ...] = ("patient_id", "visit", "day", "event", "reason")


def empty_intercurrent_events() -> pd.DataFrame:
    """The canonical intercurrent-events table with no rows.

    Examples
    --------
    >>> list(empty_intercurrent_events().columns)
    ['patient_id', 'visit', 'day', 'event', 'reason']
    """
    return pd.DataFrame({
        "patient_id": pd.Series(dtype=object), "visit": pd.Series(dtype="int64"),
        "day": pd.Series(dtype=float),
        "event": pd.Series(pd.Categorical([], categories=list(ICE_EVENTS))),
        "reason": pd.Series(dtype=object),
    })


def normalize_intercurrent_events(rec: Records, tm: TableMapping) -> None:
    """Turn the raw intercurrent-event records of ``rec`` into canonical columns in place."""
    raw = rec.data
    out = pd.DataFrame(index=raw.index)
    out["patient_id"] = normalize_ids(rec, apply_codes(rec, "patient_id", raw["patient_id"],
                                                      tm.codes.get("patient_id")))
    out["visit"] = normalize_visits(rec, raw["visit"], tm.codes.get("visit"))
    if "day" in raw:
        day = to_number(rec, "day", raw["day"])
        negative = (day < 0).fillna(False).to_numpy(dtype=bool)
        rec.reject(negative, "day", "out_of_range", "day '{value}' is before the baseline",
                   values=raw["day"])
        out["day"] = day.mask(pd.Series(negative, index=day.index))
    else:
        out["day"] = np.nan
    given = apply_codes(rec, "event", raw["event"], tm.codes.get("event"), allowed=ICE_EVENTS)
    mapped = map_ice_events(given, tm.synonyms or None)
    text = text_form(given)
    record_recodes(rec, "event", text, mapped["event"].to_numpy(dtype=object),
                   "event mapped to the intercurrent-event vocabulary")
    status = mapped["status"].to_numpy()
    rec.reject(status == "unknown", "event", "unknown_event",
               f"'{{value}}' is not an intercurrent event; the events are "
               f"{', '.join(ICE_EVENTS)} (add the wording to "
               "[intercurrent_events.synonyms] in the mapping)", values=text)
    rec.reject(status == "missing", "event", "missing_event", "the event is missing")
    out["event"] = mapped["event"]
    if "reason" in raw:
        reason = text_form(raw["reason"])
        out["reason"] = reason.where(reason != "")  # an empty cell is no reason
    else:
        out["reason"] = np.nan
    rec.reject((out["visit"] == 0).fillna(False).to_numpy(dtype=bool), "visit",
               "ice_at_baseline", "an intercurrent event happens after treatment starts: the "
               "first visit it affects is 1 or later, not the baseline (visit {value})",
               values=out["visit"])
    add_carried(out, rec.extras)
    rec.data = out


def check_schedule(rec: Records, assessments: pd.DataFrame) -> None:
    """Reject events at a visit at which no patient was assessed (``visit_not_in_schedule``)."""
    schedule = np.unique(assessments["visit"].to_numpy(dtype=np.int64))
    visit = rec.data["visit"].to_numpy(dtype=float, na_value=np.nan)
    alive = ~rec.rejected_mask & ~np.isnan(visit)
    outside = alive & ~np.isin(visit, schedule.astype(float))
    shown = ", ".join(map(str, schedule.tolist())) if len(schedule) <= 30 else (
        f"{schedule.min()}..{schedule.max()}")
    rec.reject(outside, "visit", "visit_not_in_schedule",
               f"visit {{value}} is not a visit of the schedule (the assessments have visits "
               f"{shown})", values=rec.data["visit"])


def check_consistency(rec: Records, assessments: pd.DataFrame) -> None:
    """Duplicates, repeated once-only events and events after leaving the study."""
    d = rec.data
    code = d["patient_id"].cat.codes.to_numpy(dtype=np.int64)
    visit = d["visit"].to_numpy(dtype=float, na_value=np.nan)
    event = pd.Categorical(d["event"], categories=list(ICE_EVENTS)).codes.astype(np.int64)
    alive = ~rec.rejected_mask & (code >= 0) & ~np.isnan(visit) & (event >= 0)
    frame = pd.DataFrame({"code": code, "visit": visit, "event": event,
                          "day": d["day"].to_numpy(dtype=float),
                          "reason": d["reason"].astype(object).to_numpy(),
                          "row": rec.row_numbers})
    live = frame.loc[alive]
    # the same patient, event and visit twice: exact copies collapse, others conflict
    keys = ["code", "event", "visit"]
    dup = live.duplicated(keys, keep=False)
    if dup.any():
        sub = live.loc[dup]
        exact_later = sub.duplicated(keys + ["day", "reason"], keep="first")
        first_row = sub.groupby(keys)["row"].transform("min")
        later = sub["row"] > first_row
        mask = np.zeros(len(d), dtype=bool)
        mask[sub.index[later & ~exact_later]] = True
        rec.reject(mask, "event", "duplicate_event",
                   "the patient already has this event at this visit (in another row, "
                   "with another day or reason); keep one", values=d["event"])
        mask = np.zeros(len(d), dtype=bool)
        mask[sub.index[exact_later]] = True
        rec.reject(mask, "event", "exact_duplicate",
                   "exact copy of an earlier row; collapsed into it", values=d["event"])
    alive &= ~rec.rejected_mask
    live = frame.loc[alive]
    # discontinuation and withdrawal happen once: the earliest visit is kept
    once = live["event"].isin([ICE_EVENTS.index(e) for e in ONCE_ONLY])
    ordered = live.loc[once].sort_values(["code", "event", "visit", "row"], kind="stable")
    repeated = ordered.duplicated(["code", "event"], keep="first")
    mask = np.zeros(len(d), dtype=bool)
    mask[ordered.index[repeated]] = True
    rec.reject(mask, "event", "repeated_event",
               "'{value}' happens once per patient and is already recorded at an earlier "
               "visit for this patient; keep the first", values=d["event"])
    alive &= ~rec.rejected_mask
    # nothing happens after the patient left the study
    left = frame.loc[alive & (event == ICE_EVENTS.index("withdrew_from_study"))]
    left_at = left.groupby("code")["visit"].min()
    exit_visit = left_at.reindex(code).to_numpy(dtype=float)
    after = alive & (visit > exit_visit)
    rec.reject(after, "visit", "event_after_withdrawal",
               "the event is at visit {value}, after the patient withdrew from the study",
               values=d["visit"])
    if not len(left_at):
        return
    ids = d["patient_id"].cat.categories.astype(object)
    last = assessments.groupby("patient_id")["visit"].max()
    last_of = last.reindex(ids[left_at.index.to_numpy()]).to_numpy(dtype=float)
    late = left_at.index.to_numpy()[last_of > left_at.to_numpy()]
    first_exit = left.sort_values(["code", "visit"]).drop_duplicates("code")
    mask = np.zeros(len(d), dtype=bool)
    mask[first_exit.index[first_exit["code"].isin(late)]] = True
    rec.flag(mask, "visit", "assessed_after_withdrawal",
             "the patient withdrew from the study at visit {value} but has assessments "
             "after it; check the visit of the withdrawal", values=d["visit"])
