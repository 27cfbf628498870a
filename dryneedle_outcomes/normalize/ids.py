"""Patient identifiers: trimmed (and recorded), never merged by case."""

from __future__ import annotations

import pandas as pd

from .cells import text_form
from .records import Records


def normalize_ids(rec: Records, values: pd.Series) -> pd.Series:
    """Patient IDs as text with surrounding whitespace removed.

    Each trimmed ID is recorded as a per-row correction; a missing ID is rejected
    with rule ``missing_id``. Case is never changed: "dn-0012" and "DN-0012" stay
    two IDs, and :func:`flag_case_variants` points them out.
    """
    raw_text = values.astype(object).where(values.notna())
    ids = text_form(values)
    as_text = raw_text.astype(str)
    changed = (raw_text.notna() & (as_text.str.strip() != as_text)).to_numpy()
    rec.correct_rows(changed, "patient_id", raw_text.to_numpy(dtype=object),
                     ids.to_numpy(dtype=object), "whitespace trimmed in ID")
    empty = ids.isna() | (ids == "")
    rec.reject(empty.to_numpy(), "patient_id", "missing_id", "the patient ID is missing",
               values=values)
    return ids.where(~empty)


def case_variants(ids: pd.Series) -> pd.Series:
    """For each ID, True when another distinct ID equals it ignoring case and spaces.

    Examples
    --------
    >>> case_variants(pd.Series(["DN-1", "dn-1", "DN-2"])).tolist()
    [True, True, False]
    """
    present = ids.notna()
    folded = ids.where(present).astype(str).str.replace(r"\s+", "", regex=True).str.lower()
    distinct = pd.DataFrame({"id": ids, "folded": folded})[present].drop_duplicates()
    n_spellings = distinct.groupby("folded")["id"].nunique()
    out = folded.map(n_spellings).fillna(0).to_numpy() > 1
    return pd.Series(out & present.to_numpy(), index=ids.index)


def fold(ids: pd.Series) -> pd.Series:
    """IDs folded for comparison only: no spaces, lower case."""
    return ids.astype(object).where(ids.notna()).astype(str).str.replace(
        r"\s+", "", regex=True).str.lower().where(ids.notna())

