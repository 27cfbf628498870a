"""Patient identifiers: trimmed (and recorded), never merged by case.

IDs are held as a categorical with lexically sorted categories while a table is
normalised: every later step (duplicates, links between tables, sorting, grouping)
then works on integer codes instead of millions of strings. The finished tables
carry them as plain text again.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .records import Records


def _text(value) -> str | None:
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return None
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return str(int(value))
    text = str(value).strip()
    return text or None


#: The characters Python's ``str.strip()`` removes within ASCII.
_ASCII_WHITESPACE = "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f "


def _arrow_text(values: np.ndarray) -> pa.Array | None:
    """``values`` (str, no missing) as a pyarrow string array; None for text pyarrow
    cannot hold (lone surrogates)."""
    try:
        return pa.array(values, type=pa.string())
    except (pa.ArrowException, UnicodeError):
        return None


def _strip(uniques: pd.Series) -> tuple[pd.Series, bool]:
    """``uniques.str.strip()`` for distinct str values, by pyarrow when all are ASCII,
    and whether that left every value as it was and none empty (known only then)."""
    arr = _arrow_text(uniques.to_numpy(dtype=object))
    if arr is None or not pc.all(pc.string_is_ascii(arr)).as_py():
        return uniques.str.strip(), False  # Unicode spaces: Python's own definition
    stripped = pc.ascii_trim(arr, characters=_ASCII_WHITESPACE)
    unchanged = not (pc.any(pc.not_equal(stripped, arr)).as_py()
                     or pc.any(pc.equal(stripped, "")).as_py())
    if unchanged:
        return uniques, True
    return (pd.Series(stripped.to_numpy(zero_copy_only=False), index=uniques.index,
                      dtype=object), False)


def _text_order(texts: np.ndarray) -> np.ndarray:
    """``np.argsort(texts)`` for distinct str values (code point order), sorted by pyarrow.

    UTF-8 bytes sort in code point order, so pyarrow's byte-wise order is Python's.
    """
    arr = _arrow_text(texts)
    if arr is None:
        return np.argsort(texts, kind="stable")
    return pc.sort_indices(arr).to_numpy().astype(np.intp)


def normalize_ids(rec: Records, values: pd.Series) -> pd.Series:
    """Patient IDs as text with surrounding whitespace removed.

    Each trimmed ID is recorded as a per-row correction; a missing ID is rejected
    with rule ``missing_id``. Case is never changed: "dn-0012" and "DN-0012" stay
    two IDs, and :func:`case_variants` points them out. Returns a categorical
    Series whose categories are sorted.
    """
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    uniques = pd.Series(np.asarray(uniques, dtype=object))
    unchanged = False
    if pd.api.types.infer_dtype(uniques, skipna=True) == "string":
        forms, unchanged = _strip(uniques)  # the usual case: text IDs, done vectorised
    else:
        forms = pd.Series([_text(u) for u in uniques], dtype=object)
    if unchanged:  # no ID trimmed, none empty: the distinct forms are the distinct values
        padded = np.zeros(len(uniques) + 1, dtype=bool)
        form_codes, form_uniques = np.arange(len(uniques)), uniques.to_numpy(dtype=object)
    else:
        forms = forms.where(forms.notna() & (forms != ""))
        padded = np.append((forms.notna() & (forms != uniques)).to_numpy(dtype=bool), False)
        form_codes, form_uniques = pd.factorize(forms, use_na_sentinel=True)
    order = _text_order(np.asarray(form_uniques, dtype=object))
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
#: The spaces that :data:`_SPACES` holds within ASCII (no-break space is not ASCII).
_ASCII_SPACES = "[ \t\n\r]"


def _fold_slow(values: pd.Series) -> pd.Series:
    out = values.str.lower()
    for space in _SPACES:  # plain replaces are several times faster than one regex
        out = out.str.replace(space, "", regex=False)
    return out


def _fold_arrow(values: np.ndarray) -> pa.Array:
    """Fold an object array of str (no missing values) into a pyarrow string array.

    ASCII IDs (nearly always all of them) are folded by pyarrow compute; the few others
    by Python's ``str.lower``, whose full Unicode case mapping pyarrow's ``utf8_lower``
    does not reproduce (e.g. 'İ' lower-cases to 'i' plus a combining dot in Python).
    """
    arr = pa.array(values, type=pa.string())
    out = pc.replace_substring_regex(pc.ascii_lower(arr), pattern=_ASCII_SPACES,
                                     replacement="")
    non_ascii = np.flatnonzero(~pc.string_is_ascii(arr).to_numpy(zero_copy_only=False))
    if len(non_ascii):
        slow = _fold_slow(pd.Series(values[non_ascii], dtype=object)).to_numpy(dtype=object)
        patched = out.to_numpy(zero_copy_only=False).copy()
        patched[non_ascii] = slow
        out = pa.array(patched, type=pa.string())
    return out


def fold_text(ids: pd.Index | pd.Series) -> pd.Index | pd.Series:
    """IDs folded for comparison only: no spaces (incl. tabs, no-break), lower case.

    Examples
    --------
    >>> fold_text(pd.Index(["DN 1", "dn\t1", "Ab\xa0C"])).tolist()
    ['dn1', 'dn1', 'abc']
    """
    text = ids.astype(str)
    folded = _fold_arrow(text.to_numpy(dtype=object)).to_numpy(zero_copy_only=False)
    if isinstance(text, pd.Index):
        return pd.Index(folded, dtype=object, name=text.name)
    return pd.Series(folded, index=text.index, name=text.name, dtype=object)


def case_variants(ids: pd.Series) -> pd.Series:
    """For each ID, True when another distinct ID equals it ignoring case and spaces.

    Examples
    --------
    >>> case_variants(pd.Series(["DN-1", "dn-1", "DN-2", None])).tolist()
    [True, True, False, False]
    """
    cat = ids.astype("category") if not isinstance(ids.dtype, pd.CategoricalDtype) else ids
    codes = cat.cat.codes.to_numpy()
    n_categories = len(cat.cat.categories)
    present_codes = np.flatnonzero(np.bincount(codes + 1, minlength=n_categories + 1)[1:])
    present = np.asarray(cat.cat.categories[present_codes].astype(str), dtype=object)
    # duplicated(keep=False) of the folded forms, counted on pyarrow's dictionary codes
    folded = pc.dictionary_encode(_fold_arrow(present)).indices.to_numpy()
    dup = np.bincount(folded)[folded] > 1 if len(folded) else np.zeros(0, dtype=bool)
    flagged = np.zeros(n_categories + 1, dtype=bool)
    flagged[present_codes[dup]] = True
    return pd.Series(flagged[codes], index=ids.index)


def fold(ids: pd.Series) -> pd.Series:
    """IDs folded for comparison only (no spaces, lower case); missing stays missing."""
    as_text = ids.astype(object)
    return fold_text(as_text.where(as_text.notna(), "")).where(as_text.notna())
