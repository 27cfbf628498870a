"""Rules that look across records or tables: links to patients, visit order, deviations."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .ids import fold
from .records import Records


def _category_mask(ids: pd.Series, wanted) -> np.ndarray:
    """Per record: is its (categorical) ID among ``wanted``? Missing IDs are False."""
    cats = ids.cat.categories
    hit = np.append(cats.isin(pd.Index(wanted).astype(object)), False)
    return hit[ids.cat.codes.to_numpy()]


def check_patient_links(rec: Records, patients: Records) -> None:
    """Reject records whose patient is unknown or was itself rejected.

    An ID that matches a known patient only when case and spaces are ignored is
    rejected too (never merged silently), with the likely match in the message.
    """
    ids = rec.data["patient_id"]
    pid = patients.data["patient_id"].astype(object)
    kept_ids = pid[patients.kept_mask & pid.notna().to_numpy()]
    all_ids = pid[pid.notna()]
    alive = ~rec.rejected_mask & ids.notna().to_numpy()
    known = _category_mask(ids, kept_ids)
    rejected_patient = alive & ~known & _category_mask(ids, all_ids)
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
        for pid, m in zip(ids.astype(object).to_numpy()[idx], likely.to_numpy())
    ]
    rec.reject(unknown, "patient_id", "unknown_patient", messages, values=ids)


def derive_days(rec: Records) -> None:
    """Days since the baseline visit from dates, and the rule that dates never go back.

    A record dated before an earlier visit of the same patient is rejected with
    rule ``date_before_previous_visit``. ``day`` is the number of days since the
    patient's visit-0 date; patients without a baseline date get no ``day`` and
    a flag. Works on the integer codes of the (categorical) IDs.
    """
    data = rec.data
    if "date" not in data:
        return
    codes = data["patient_id"].cat.codes.to_numpy()
    n_ids = len(data["patient_id"].cat.categories)
    visit = data["visit"].to_numpy(dtype=float, na_value=np.nan)
    dates = data["date"].to_numpy(dtype="datetime64[ns]")
    dated = ~np.isnat(dates)
    usable = ~rec.rejected_mask & dated & (codes >= 0) & ~np.isnan(visit)
    idx = np.flatnonzero(usable)
    order = idx[np.lexsort((visit[idx], codes[idx]))]
    stamp = pd.Series(dates[order].view("int64"))
    group = codes[order]
    running = stamp.groupby(group, sort=False).cummax()
    previous = running.groupby(group, sort=False).shift(1).to_numpy()
    backwards = order[stamp.to_numpy() < previous]
    mask = np.zeros(len(data), dtype=bool)
    mask[backwards] = True
    if mask.any():
        shown = np.full(len(data), None, dtype=object)
        shown[mask] = data["date"][mask].dt.strftime("%Y-%m-%d").to_numpy()
        rec.reject(mask, "date", "date_before_previous_visit",
                   "the date {value} is earlier than the date of an earlier visit of the same "
                   "patient", values=shown)
    alive = ~rec.rejected_mask
    base_rows = np.flatnonzero(alive & dated & (codes >= 0) & (visit == 0))
    base = np.full(n_ids + 1, np.datetime64("NaT"), dtype="datetime64[ns]")
    base[codes[base_rows][::-1]] = dates[base_rows][::-1]
    record_base = base[codes]
    data["day"] = (dates - record_base) / np.timedelta64(1, "D")
    no_base = alive & dated & (codes >= 0) & np.isnat(record_base)
    first_of_patient = np.zeros(len(data), dtype=bool)
    if no_base.any():
        rows = np.flatnonzero(no_base)
        _, first = np.unique(codes[rows], return_index=True)
        first_of_patient[rows[first]] = True
    rec.flag(first_of_patient, "date", "no_baseline_date",
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
