"""The patients table: one row per patient with arm, demographics and flags."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..mapping import TableMapping
from .cells import apply_codes, text_form, to_boolean, to_number
from .ids import case_variants, normalize_ids
from .records import Records
from .source_rows import add_carried
from .vocabulary.allocation_guess import map_allocation_guess

#: Plausible ranges of numeric patient columns (inclusive); outside -> rejected.
PATIENT_RANGES = {
    "age": (0.0, 120.0),
    "bmi": (10.0, 90.0),
    "symptom_months": (0.0, 1200.0),
}
BOOLEAN_COLUMNS = ("pregnant", "immunocompromised", "needle_fear", "anticoagulants",
                   "bleeding_disorder", "diabetic_neuropathy", "peripheral_vascular_disease",
                   "lymphoedema", "local_infection")
_SEX_WORDS = {
    "f": "female", "female": "female", "woman": "female", "w": "female", "femme": "female",
    "m": "male", "male": "male", "man": "male", "homme": "male",
}


def normalize_patients(rec: Records, tm: TableMapping) -> None:
    """Turn the raw patient records of ``rec`` into canonical columns in place."""
    raw = rec.data
    out = pd.DataFrame(index=raw.index)
    out["patient_id"] = normalize_ids(rec, apply_codes(rec, "patient_id", raw["patient_id"],
                                                      tm.codes.get("patient_id")))
    arm = apply_codes(rec, "arm", raw["arm"], tm.codes.get("arm"))
    arm = text_form(arm)
    no_arm = arm.isna().to_numpy() & ~rec.rejected_mask
    rec.reject(no_arm, "arm", "missing_arm",
               "the patient has no arm (allocation); every patient needs one")
    out["arm"] = arm
    if "site" in raw:
        out["site"] = text_form(apply_codes(rec, "site", raw["site"], tm.codes.get("site")))
    for column, (lo, hi) in PATIENT_RANGES.items():
        if column in raw:
            values = to_number(rec, column, apply_codes(rec, column, raw[column],
                                                        tm.codes.get(column)))
            bad = values.notna() & ((values < lo) | (values > hi))
            rec.reject(bad.to_numpy(), column, "out_of_range",
                       f"{column} {{value}} is outside the plausible range {lo:g}-{hi:g}",
                       values=values)
            out[column] = values.where(~bad)
    if "sex" in raw:
        sex = text_form(apply_codes(rec, "sex", raw["sex"], tm.codes.get("sex")))
        lowered = sex.str.lower()
        known = lowered.map(_SEX_WORDS)
        changed = known.notna() & (known != sex)
        for (old, new), n in pd.DataFrame({"old": sex[changed], "new": known[changed]}) \
                .value_counts().items():
            rec.correct_column("sex", old, new, "recoded", int(n))
        out["sex"] = known.where(known.notna(), sex)
    for column in BOOLEAN_COLUMNS:
        if column in raw:
            out[column] = to_boolean(rec, column, raw[column], tm.codes.get(column))
    if "allocation_guess" in raw:
        _allocation_guess(rec, raw["allocation_guess"], tm.codes.get("allocation_guess"), out)
    add_carried(out, rec.extras)
    rec.data = out
    _check_duplicates(rec)
    variants = case_variants(out["patient_id"]).to_numpy() & ~rec.rejected_mask
    rec.flag(variants, "patient_id", "id_case_variant",
             "patient ID '{value}' differs from another only by case or spaces; they are "
             "kept as two patients - correct the IDs if they are the same person",
             values=out["patient_id"])


def _allocation_guess(rec: Records, values: pd.Series, codes, out: pd.DataFrame) -> None:
    """``allocation_guess`` (real / sham / dont_know): recoded answers are ledger
    corrections; an answer outside the vocabulary is flagged and kept as missing (the
    patient stays: a blinding answer never removes a randomised patient)."""
    mapped = map_allocation_guess(values, codes)
    guess = mapped["allocation_guess"]
    bad = (mapped["status"] == "invalid").to_numpy() & ~rec.rejected_mask
    rec.flag(bad, "allocation_guess", "unknown_allocation_guess",
             "allocation guess '{value}' is not real, sham or don't know; it is treated as "
             "not answered (add it to [patients.codes.allocation_guess])", values=values)
    raw_text = values.astype(str)
    changed = guess.notna() & (raw_text != guess.astype(str))
    for (old, new), n in pd.DataFrame({"old": raw_text[changed], "new": guess[changed]}) \
            .value_counts().items():
        rec.correct_column("allocation_guess", old, new, "recoded", int(n))
    out["allocation_guess"] = guess.astype(object)


def _check_duplicates(rec: Records) -> None:
    """Exact duplicate patients are collapsed; conflicting ones are rejected."""
    data = rec.data
    ids = data["patient_id"]
    alive = ~rec.rejected_mask & ids.notna().to_numpy()
    dup_any = ids.duplicated(keep=False).to_numpy() & alive
    if not dup_any.any():
        return
    sub = data.loc[dup_any].astype(str)
    exact_later = sub.duplicated(keep="first")
    n_versions = sub.drop_duplicates().groupby("patient_id").size()
    conflicting = sub["patient_id"].map(n_versions).to_numpy() > 1
    mask_conflict = np.zeros(len(data), dtype=bool)
    mask_conflict[np.flatnonzero(dup_any)[conflicting]] = True
    mask_exact = np.zeros(len(data), dtype=bool)
    mask_exact[np.flatnonzero(dup_any)[exact_later.to_numpy() & ~conflicting]] = True
    rec.reject(mask_conflict, "patient_id", "duplicate_patient",
               "patient '{value}' appears more than once with different values; keep one row",
               values=ids)
    rec.reject(mask_exact, "patient_id", "exact_duplicate",
               "patient '{value}' is an exact copy of an earlier row; the copy was collapsed",
               values=ids)
