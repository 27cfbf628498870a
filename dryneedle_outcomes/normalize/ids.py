"""Patient identifiers: trimmed (and recorded), never merged by case.

IDs are held as a categorical with lexically sorted categories while a table is
normalised: every later step (duplicates, links between tables, sorting, grouping)
then works on integer codes instead of millions of strings. The finished tables
carry them as plain text again.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .records import Records


def _text(value) -> str | None:
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return None
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return str(int(value))
    text = str(value).strip()
    return text or None


def normalize_ids(rec: Records, values: pd.Series) -> pd.Series:
    """Patient IDs as text with surrounding whitespace removed.

    Each trimmed ID is recorded as a per-row correction; a missing ID is rejected
    with rule ``missing_id``. Case is never changed: "dn-0012" and "DN-0012" stay
    two IDs, and :func:`case_variants` points them out. Returns a categorical
    Series whose categories are sorted.
    """
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    uniques = pd.Series(np.asarray(uniques, dtype=object))
    if pd.api.types.infer_dtype(uniques, skipna=True) == "string":
        forms = uniques.str.strip()  # the usual case: text IDs, done vectorised
    else:
        forms = pd.Series([_text(u) for u in uniques], dtype=object)
    forms = forms.where(forms.notna() & (forms != ""))
    padded = np.append((forms.notna() & (forms != uniques)).to_numpy(dtype=bool), False)
    form_codes, form_uniques = pd.factorize(forms, use_na_sentinel=True)
    order = np.argsort(np.asarray(form_uniques, dtype=object), kind="stable")
    categories = np.asarray(form_uniques, dtype=object)[order]
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order))
    # (np.maximum: when every ID is empty there are no ranks to index)
    recode = np.append(np.where(form_codes >= 0, rank[np.maximum(form_codes, 0)]
                                if len(rank) else -1, -1), -1)
    final = recode[codes]
    ids = pd.Series(pd.Categorical.from_codes(final, categories=categories),
                    index=values.index)
    changed = padded[codes]
    if changed.any():
        new = np.full(len(values), None, dtype=object)
        new[changed] = categories[final[changed]]
        rec.correct_rows(changed, "patient_id", values.to_numpy(dtype=object), new,
                         "whitespace trimmed in ID")
    rec.reject(final < 0, "patient_id", "missing_id", "the patient ID is missing",
               values=values)
    return ids


_SPACES = (" ", "\t", "\xa0", "\n", "\r")


def fold_text(ids: pd.Index | pd.Series) -> pd.Index | pd.Series:
    """IDs folded for comparison only: no spaces (incl. tabs, no-break), lower case."""
    out = ids.astype(str).str.lower()
    for space in _SPACES:  # plain replaces are several times faster than one regex
        out = out.str.replace(space, "", regex=False)
    return out


def case_variants(ids: pd.Series) -> pd.Series:
    """For each ID, True when another distinct ID equals it ignoring case and spaces.

    Examples
    --------
    >>> case_variants(pd.Series(["DN-1", "dn-1", "DN-2", None])).tolist()
    [True, True, False, False]
    """
    cat = ids.astype("category") if not isinstance(ids.dtype, pd.CategoricalDtype) else ids
    present_codes = np.unique(cat.cat.codes.to_numpy())
    present_codes = present_codes[present_codes >= 0]
    folded = fold_text(pd.Index(cat.cat.categories[present_codes]))
    dup = folded.duplicated(keep=False)
    flagged = np.zeros(len(cat.cat.categories) + 1, dtype=bool)
    flagged[present_codes[np.asarray(dup)]] = True
    return pd.Series(flagged[cat.cat.codes.to_numpy()], index=ids.index)


def fold(ids: pd.Series) -> pd.Series:
    """IDs folded for comparison only (no spaces, lower case); missing stays missing."""
    as_text = ids.astype(object)
    return fold_text(as_text.where(as_text.notna(), "")).where(as_text.notna())
