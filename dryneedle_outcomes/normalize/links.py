"""Rules that look across records or tables: links to patients, visit order, deviations."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .ids import fold
from .records import Records


def check_patient_links(rec: Records, patients: Records) -> None:
    """Reject records whose patient is unknown or was itself rejected.

    An ID that matches a known patient only when case and spaces are ignored is
    rejected too (never merged silently), with the likely match in the message.
    """
    ids = rec.data["patient_id"]
    pid = patients.data["patient_id"]
    kept_ids = pid[patients.kept_mask & pid.notna().to_numpy()]
    all_ids = pid[pid.notna()]
    alive = ~rec.rejected_mask & ids.notna().to_numpy()
    known = ids.isin(kept_ids).to_numpy()
    rejected_patient = alive & ~known & ids.isin(all_ids).to_numpy()
    rec.reject(rejected_patient, "patient_id", "patient_rejected",
               "patient '{value}' was rejected in the patients table, so this record is set "
               "aside with it", values=ids)
    unknown = alive & ~known & ~rejected_patient
    if not unknown.any():
        return
    folded_known = pd.Series(kept_ids.to_numpy(), index=fold(kept_ids).to_numpy())
    folded_known = folded_known[~folded_known.index.duplicated()]
    likely = fold(ids[unknown]).map(folded_known)
    messages = np.empty(len(ids), dtype=object)
    idx = np.flatnonzero(unknown)
    messages[idx] = [
        f"patient '{pid}' is not in the patients table"
        + (f"; it differs only by case or spaces from '{m}' - correct the ID (they are never "
           "merged automatically)" if isinstance(m, str) else "")
        for pid, m in zip(ids.to_numpy()[idx], likely.to_numpy())
    ]
    rec.reject(unknown, "patient_id", "unknown_patient", messages, values=ids)


def derive_days(rec: Records) -> None:
    """Days since the baseline visit from dates, and the rule that dates never go back.

    A record dated before an earlier visit of the same patient is rejected with
    rule ``date_before_previous_visit``. ``day`` is the number of days since the
    patient's visit-0 date; patients without a baseline date get no ``day`` and
    a flag.
    """
    data = rec.data
    if "date" not in data:
        return
    alive = ~rec.rejected_mask
    sub = data.loc[alive & data["date"].notna().to_numpy(), ["patient_id", "visit", "date"]]
    sub = sub.sort_values(["patient_id", "visit"], kind="stable")
    running_max = sub.groupby("patient_id", sort=False)["date"].cummax()
    previous_max = running_max.groupby(sub["patient_id"], sort=False).shift(1)
    backwards = sub["date"] < previous_max
    mask = np.zeros(len(data), dtype=bool)
    mask[backwards.index[backwards.to_numpy()]] = True
    rec.reject(mask, "date", "date_before_previous_visit",
               "the date {value} is earlier than the date of an earlier visit of the same "
               "patient", values=data["date"].dt.strftime("%Y-%m-%d"))
    alive = ~rec.rejected_mask
    baseline = data.loc[alive & (data["visit"] == 0).fillna(False).to_numpy()
                        & data["date"].notna().to_numpy()].groupby("patient_id")["date"].first()
    base = data["patient_id"].map(baseline)
    data["day"] = (data["date"] - base).dt.days.astype(float)
    no_base = alive & data["date"].notna().to_numpy() & base.isna().to_numpy()
    first_of_patient = ~data["patient_id"].where(no_base).duplicated().to_numpy()
    rec.flag(no_base & first_of_patient, "date", "no_baseline_date",
             "patient has dates but no dated baseline (visit 0), so 'day' is left empty for "
             "this patient", values=data["patient_id"])


def flag_protocol_deviations(rec: Records, patients: pd.DataFrame) -> None:
    """Flag needled sessions of patients marked pregnant or immunocompromised."""
    data = rec.data
    if "needled" not in data:
        return
    for flag in ("pregnant", "immunocompromised"):
        if flag not in patients:
            continue
        flagged_ids = patients.loc[patients[flag].fillna(False).astype(bool), "patient_id"]
        hit = (data["patient_id"].isin(flagged_ids) & data["needled"].fillna(False)).to_numpy()
        hit &= ~rec.rejected_mask
        rec.flag(hit, "needled", "protocol_deviation",
                 f"patient '{{value}}' is marked {flag} (a contraindication) but was needled at "
                 "this visit; kept and reported as a protocol deviation",
                 values=data["patient_id"])


def flag_unassessed_events(events: Records, assessments: pd.DataFrame) -> None:
    """Flag adverse events at a visit with no assessment record for that patient."""
    keys = pd.MultiIndex.from_frame(assessments[["patient_id", "visit"]].astype(object))
    ev = pd.MultiIndex.from_frame(events.data[["patient_id", "visit"]].astype(object))
    missing = ~ev.isin(keys) & ~events.rejected_mask
    events.flag(missing, "visit", "visit_not_assessed",
                "event at visit {value}, for which the patient has no assessment record",
                values=events.data["visit"])
