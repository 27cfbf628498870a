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


def _patient_status(ids: pd.Series, patients: Records) -> tuple[np.ndarray, np.ndarray]:
    """Per record of the (categorical) ``ids``: is its patient kept / known at all?

    Works on categories: the patients' IDs are counted per category and the records'
    categories are matched to them once (no per-record string comparison).
    """
    pid = patients.data["patient_id"]
    if not isinstance(pid.dtype, pd.CategoricalDtype):
        pid = pid.astype(object).astype("category")
    pcodes = pid.cat.codes.to_numpy()
    n_cat = len(pid.cat.categories)
    valid = pcodes >= 0
    present = np.bincount(pcodes[valid], minlength=n_cat) > 0
    kept = np.bincount(pcodes[valid & patients.kept_mask], minlength=n_cat) > 0
    where = pd.Index(pid.cat.categories.astype(object)).get_indexer(
        pd.Index(ids.cat.categories.astype(object)))
    # where == -1 (not a patient) picks the appended False
    known_cat = np.append(np.append(kept, False)[where], False)
    any_cat = np.append(np.append(present, False)[where], False)
    codes = ids.cat.codes.to_numpy()
    return known_cat[codes], any_cat[codes]


def check_patient_links(rec: Records, patients: Records) -> None:
    """Reject records whose patient is unknown or was itself rejected.

    An ID that matches a known patient only when case and spaces are ignored is
    rejected too (never merged silently), with the likely match in the message.
    """
    ids = rec.data["patient_id"]
    alive = ~rec.rejected_mask & ids.notna().to_numpy()
    known, listed = _patient_status(ids, patients)
    rejected_patient = alive & ~known & listed
    rec.reject(rejected_patient, "patient_id", "patient_rejected",
               "patient '{value}' was rejected in the patients table, so this record is set "
               "aside with it", values=ids)
    unknown = alive & ~known & ~rejected_patient
    if not unknown.any():
        return
    pid = patients.data["patient_id"].astype(object)
    kept_ids = pid[patients.kept_mask & pid.notna().to_numpy()]
    folded_known = pd.Series(kept_ids.to_numpy(), index=fold(kept_ids).to_numpy())
    folded_known = folded_known[~folded_known.index.duplicated()]
    likely = fold(ids[unknown]).map(folded_known)
    messages = np.empty(len(ids), dtype=object)
    idx = np.flatnonzero(unknown)
    messages[idx] = [
        f"patient '{value}' is not in the patients table"
        + (f"; it differs only by case or spaces from '{m}' - correct the ID (they are never "
           "merged automatically)" if isinstance(m, str) else "")
        for value, m in zip(ids.astype(object).to_numpy()[idx], likely.to_numpy())
    ]
    rec.reject(unknown, "patient_id", "unknown_patient", messages, values=ids)


_DAY_NS = 86_400 * 10**9


def patient_visit_order(codes: np.ndarray, visit: np.ndarray) -> np.ndarray:
    """``np.lexsort((visit, codes))``: stable order by patient code, then visit.

    Visits are whole numbers 0..10,000 after normalisation, so one int64 key sorted
    stably gives the same order, and in linear time when the file is already in
    patient/visit order (timsort finds the runs).

    Examples
    --------
    >>> patient_visit_order(np.array([1, 0, 1, 0]), np.array([0.0, 2.0, 1.0, 0.0])).tolist()
    [3, 1, 0, 2]
    """
    if len(visit) and np.all(visit == np.floor(visit)) and visit.min() >= 0 \
            and visit.max() < 2**31:
        key = codes.astype(np.int64) * (int(visit.max()) + 1) + visit.astype(np.int64)
        return np.argsort(key, kind="stable")
    return np.lexsort((visit, codes))


def _before_running_max(group: np.ndarray, stamp: np.ndarray) -> np.ndarray:
    """Per row (sorted so that each group is contiguous): is ``stamp`` earlier than the
    largest stamp of an earlier row of the same group?

    Dates without a time of day are compared in days with an offset per group, so one
    ``np.maximum.accumulate`` replaces a grouped cummax and shift; other stamps take
    the grouped path.
    """
    if len(stamp) == 0:
        return np.zeros(0, dtype=bool)
    lowest = int(stamp.min())
    span = (int(stamp.max()) - lowest) // _DAY_NS + 1
    segment = np.concatenate(([0], np.cumsum(group[1:] != group[:-1])))
    if np.all((stamp - lowest) % _DAY_NS == 0) and (int(segment[-1]) + 1) * span < 2**62:
        # each group's keys lie above every earlier group's, so the running maximum of
        # the row before a group's first row never exceeds that row's key
        key = segment * span + (stamp - lowest) // _DAY_NS
        previous = np.concatenate(([key[0]], np.maximum.accumulate(key)[:-1]))
        return key < previous
    series = pd.Series(stamp)
    previous = series.groupby(group, sort=False).cummax().groupby(group, sort=False).shift(1)
    return (series < previous).to_numpy()


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
    order = idx[patient_visit_order(codes[idx], visit[idx])]
    backwards = order[_before_running_max(codes[order], dates[order].view("int64"))]
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


#: Patient flags whose needled visits are protocol deviations, with what they are.
#: Contraindications and precautions to dry needling (DESIGN.md; APTA 2013 resource
#: paper and the Cotchett et al. 2014 exclusion criteria list the same conditions).
CONTRAINDICATIONS: dict[str, str] = {
    "pregnant": "pregnant",
    "immunocompromised": "immunocompromised",
    "anticoagulants": "on anticoagulants",
    "bleeding_disorder": "with a bleeding disorder",
    "diabetic_neuropathy": "diabetic with peripheral neuropathy",
    "peripheral_vascular_disease": "with peripheral vascular disease",
    "lymphoedema": "with lymphoedema",
    "local_infection": "with a local infection over the needling site",
    "needle_fear": "needle-fearful",
}
#: A control-arm (sham) patient recorded as needled: crossover.
CROSSOVER = "crossover"
#: Every reason a needled visit can be a protocol deviation.
DEVIATION_REASONS: tuple[str, ...] = (*CONTRAINDICATIONS, CROSSOVER)
#: The reasons flagged by default. Needle fear is a precaution rather than an exclusion
#: in many trials (the sample's trial enrols needle-fearful patients: their vasovagal
#: risk is what the harms tables show), so it is off unless the configuration names it.
DEFAULT_DEVIATION_REASONS: tuple[str, ...] = tuple(r for r in DEVIATION_REASONS
                                                   if r != "needle_fear")


def check_deviation_reasons(reasons) -> tuple[str, ...]:
    """Validate a list of deviation reasons (None: the defaults).

    ``"contraindications"`` stands for every patient flag but needle_fear.

    Examples
    --------
    >>> check_deviation_reasons(["contraindications", "crossover"]) == DEFAULT_DEVIATION_REASONS
    True
    """
    from ..errors import ConfigError

    if reasons is None:
        return DEFAULT_DEVIATION_REASONS
    items = [reasons] if isinstance(reasons, str) else list(reasons)
    if "contraindications" in items:
        items += [r for r in CONTRAINDICATIONS if r != "needle_fear"]
    bad = [r for r in items if r not in DEVIATION_REASONS and r != "contraindications"]
    if bad:
        raise ConfigError(f"unknown protocol-deviation reason(s) {', '.join(map(repr, bad))}; "
                          f"choose among {', '.join(DEVIATION_REASONS)}")
    return tuple(r for r in DEVIATION_REASONS if r in items)


def flag_protocol_deviations(rec: Records, patients: pd.DataFrame,
                             reasons: tuple[str, ...] = DEFAULT_DEVIATION_REASONS) -> None:
    """Flag needled visits of contraindicated patients and of control-arm patients.

    One ledger flag (rule ``protocol_deviation``) per needled record and reason, whose
    message names the reason: a patient flag of :data:`CONTRAINDICATIONS` in ``reasons``,
    or ``crossover`` (a patient of a sham/control arm, by
    :func:`~dryneedle_outcomes.models.design.is_control_arm`, recorded as needled).
    """
    from ..arms import is_control_arm

    data = rec.data
    if "needled" not in data:
        return
    needled = data["needled"].fillna(False).to_numpy(dtype=bool) & ~rec.rejected_mask
    for flag, what in CONTRAINDICATIONS.items():
        if flag not in reasons or flag not in patients:
            continue
        flagged_ids = patients.loc[patients[flag].fillna(False).astype(bool), "patient_id"]
        hit = _category_mask(data["patient_id"], flagged_ids) & needled
        rec.flag(hit, "needled", "protocol_deviation",
                 f"patient '{{value}}' is marked {flag} ({what}: a contraindication) but was "
                 "needled at this visit; kept and reported as a protocol deviation",
                 values=data["patient_id"])
    if CROSSOVER in reasons and "arm" in patients:
        arms = patients["arm"].astype(str)
        control = arms.map({a: is_control_arm(a) for a in arms.unique()}).to_numpy(dtype=bool)
        hit = _category_mask(data["patient_id"], patients.loc[control, "patient_id"]) & needled
        rec.flag(hit, "needled", "protocol_deviation",
                 "patient '{value}' is in a sham/control arm but was recorded as needled at "
                 "this visit (crossover); kept in its randomised arm and reported as a "
                 "protocol deviation", values=data["patient_id"])


def flag_unassessed_events(events: Records, assessments: pd.DataFrame) -> None:
    """Flag adverse events at a visit with no assessment record for that patient."""
    keys = pd.MultiIndex.from_frame(assessments[["patient_id", "visit"]].astype(object))
    ev = pd.MultiIndex.from_frame(events.data[["patient_id", "visit"]].astype(object))
    missing = ~ev.isin(keys) & ~events.rejected_mask
    events.flag(missing, "visit", "visit_not_assessed",
                "event at visit {value}, for which the patient has no assessment record",
                values=events.data["visit"])
