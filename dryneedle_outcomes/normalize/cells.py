"""Column-level normalisers shared by the table loaders.

Each function takes the :class:`~dryneedle_outcomes.normalize.records.Records`
of a table and a raw column, returns the canonical values and records every
rejection or correction in the ledger. They work on unique values or whole
arrays, never row by row.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from ..instruments import Instrument, default_scale
from .records import Records

MISSING_TEXT = frozenset({"", "na", "n/a", "nan", "none", "null", ".", "-", "missing", "nr"})


def text_form(values: pd.Series) -> pd.Series:
    """Values as stripped text; integer-valued floats lose their ``.0``; missing stays NaN.

    Examples
    --------
    >>> text_form(pd.Series([1.0, " a ", None, 2.5])).tolist()
    ['1', 'a', nan, '2.5']
    """
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    forms = []
    for u in uniques:
        if isinstance(u, (float, np.floating)) and float(u).is_integer():
            forms.append(str(int(u)))
        elif isinstance(u, (bool, np.bool_)):
            forms.append(str(bool(u)).lower())
        else:
            forms.append(str(u).strip())
    table = np.array(forms + [np.nan], dtype=object)
    return pd.Series(table[codes], index=values.index, dtype=object)


def apply_codes(rec: Records, column: str, values: pd.Series, codes: Mapping | None,
                allowed: tuple | None = None) -> pd.Series:
    """Recode values through ``codes`` (source text -> canonical value).

    A non-missing value that is neither a code nor already one of the canonical
    values is rejected with rule ``unknown_code``. Each recoding is listed once in
    the corrections with the number of rows it touched.
    """
    if not codes:
        return values
    text = text_form(values)
    targets = set(codes.values()) | set(allowed or ())
    target_text = {str(t) for t in targets}
    mapped = text.map(codes)
    is_code = text.isin(list(codes)).to_numpy()
    already = text.isin(target_text).to_numpy() & ~is_code
    unknown = text.notna().to_numpy() & ~is_code & ~already
    rec.reject(
        unknown, column, "unknown_code",
        f"value '{{value}}' of {column} is not one of the declared codes "
        f"({', '.join(map(str, codes))}); add it to codes.{column} in the mapping",
        values=text,
    )
    counts = text[is_code].value_counts()
    for key, n in counts.items():
        rec.correct_column(column, key, codes[key], "recoded", int(n))
    out = pd.Series(mapped.where(is_code, text.where(already)), index=values.index, dtype=object)
    if already.any():
        # canonical values written as text (e.g. "0" for visit 0) take the type of the codes
        by_text = {str(t): t for t in targets}
        out = out.where(~pd.Series(already, index=values.index), text.map(by_text))
    return out


def to_number(rec: Records, column: str, values: pd.Series) -> pd.Series:
    """Convert to float; non-numeric text is rejected with rule ``not_a_number``.

    Words that mean "missing" (blank, NA, n/a, ., -, none, missing) become NaN.
    Work is done once per distinct value.
    """
    if pd.api.types.is_bool_dtype(values.dtype) or pd.api.types.is_numeric_dtype(values.dtype):
        return values.astype(float)
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    text = pd.Series(np.asarray(uniques, dtype=object)).astype(str).str.strip()
    missing_word = text.str.lower().isin(MISSING_TEXT).to_numpy()
    numbers = pd.to_numeric(text.mask(missing_word), errors="coerce").to_numpy(dtype=float)
    bad_unique = ~missing_word & np.isnan(numbers)
    table = np.append(numbers, np.nan)
    bad = np.append(bad_unique, False)[codes]
    rec.reject(bad, column, "not_a_number", f"{column} '{{value}}' is not a number",
               values=values)
    return pd.Series(table[codes], index=values.index, dtype=float)


def to_integer(rec: Records, column: str, values: pd.Series, *, minimum: int = 0,
               maximum: int = 100_000) -> pd.Series:
    """Convert to a nullable integer; reject non-integers and values outside the bounds."""
    if pd.api.types.is_integer_dtype(values.dtype) and not isinstance(values.dtype,
                                                                      pd.CategoricalDtype):
        ints = values.astype("Int64")
        below = (ints < minimum).fillna(False).to_numpy(dtype=bool)
        above = (ints > maximum).fillna(False).to_numpy(dtype=bool)
        rec.reject(below, column, "negative", f"{column} '{{value}}' is below {minimum}",
                   values=values)
        rec.reject(above, column, "out_of_range",
                   f"{column} '{{value}}' is above {maximum}, the largest plausible value",
                   values=values)
        return ints.mask(below | above)
    numbers = to_number(rec, column, values)
    finite = numbers.notna()
    not_int = finite & ((numbers != np.round(numbers)) | np.isinf(numbers))
    rec.reject(not_int.to_numpy(), column, "not_an_integer",
               f"{column} '{{value}}' is not a whole number", values=values)
    below = finite & ~not_int & (numbers < minimum)
    rec.reject(below.to_numpy(), column, "negative",
               f"{column} '{{value}}' is below {minimum}", values=values)
    above = finite & ~not_int & (numbers > maximum)
    rec.reject(above.to_numpy(), column, "out_of_range",
               f"{column} '{{value}}' is above {maximum}, the largest plausible value",
               values=values)
    numbers = numbers.where(finite & ~not_int & ~below & ~above)
    return numbers.round().astype("Int64")


def record_recodes(rec: Records, column: str, old: pd.Series, new, action: str,
                   *, changed_only: bool = True,
                   factorized: tuple[np.ndarray, np.ndarray] | None = None) -> None:
    """List each distinct recoding ``old -> new`` once, with the number of rows it touched.

    ``new`` is an array aligned with ``old``, or a function that takes record positions
    and returns the new values there (so that text is only built for one record per
    distinct value). Work is proportional to the number of distinct source values.
    ``factorized`` is ``pd.factorize(old, use_na_sentinel=True)`` when the caller
    already has it.
    """
    codes, uniques = (pd.factorize(old, use_na_sentinel=True) if factorized is None
                      else factorized)
    if not len(uniques):
        return
    present = codes >= 0
    counts = np.bincount(codes[present], minlength=len(uniques))
    first = np.full(len(uniques), -1, dtype=np.int64)
    positions = np.flatnonzero(present)
    # the first position of each distinct value (reversed assignment keeps the earliest)
    first[codes[positions[::-1]]] = positions[::-1]
    new_values = (np.asarray(new(first), dtype=object) if callable(new)
                  else np.asarray(new, dtype=object)[first])
    for value, target, n in zip(uniques, new_values, counts):
        if pd.isna(target) if not isinstance(target, str) else False:
            continue
        if changed_only and str(value) == str(target):
            continue
        rec.correct_column(column, value, target, action, int(n))


def to_boolean(rec: Records, column: str, values: pd.Series, codes: Mapping | None) -> pd.Series:
    """Yes/no-like values to a nullable boolean; unreadable values are rejected."""
    from .vocabulary import map_bool

    if pd.api.types.is_bool_dtype(values.dtype):
        return values.astype("boolean")
    parsed = map_bool(values, codes)
    record_recodes(rec, column, values, parsed["value"].astype(object), "recoded yes/no")
    rec.reject(
        (parsed["status"] == "invalid").to_numpy(), column, "not_a_boolean",
        f"{column} '{{value}}' is not a yes/no value; declare it in codes.{column}",
        values=values,
    )
    return parsed["value"].astype("boolean")


def to_instrument(
    rec: Records,
    instrument: Instrument,
    values: pd.Series,
    *,
    scale: str | None,
    site_scales: Mapping[str, Mapping[str, str]] | None = None,
    site: pd.Series | None = None,
    routed: dict[str, pd.Series] | None = None,
) -> pd.Series:
    """Convert a score to the instrument's canonical scale and check its range.

    The source scale is the one declared for the column, overridden per site by
    ``site_scales``; never guessed. The range is checked on the source scale, so
    a value typed in mm into a cm column is caught (68 cm is outside 0-10 cm).

    A scale that is another instrument (``nrs10`` declared for a VAS: the NRS,
    :attr:`Scale.instrument <dryneedle_outcomes.instruments.Scale.instrument>`) is not
    converted: its values are range-checked on that scale, left missing in this
    column and put, as scored, in ``routed[<that instrument>]``; one correction per
    such scale says where they went (and which sites).
    """
    column = instrument.column
    numbers = to_number(rec, column, values)
    base_name = scale or default_scale(instrument)
    per_site = {site_name: declared[column] for site_name, declared in (site_scales or {}).items()
                if column in declared} if site is not None else {}
    if per_site:
        scale_names = pd.Series(base_name, index=values.index, dtype=object)
        for site_name, name in per_site.items():
            scale_names = scale_names.mask(site.astype(object) == site_name, name)
        codes, names = pd.factorize(scale_names)
    else:  # one scale for every record: one code, no text column
        codes = np.zeros(len(values), dtype=np.intp)
        names = np.array([base_name] if len(values) else [], dtype=object)
    scales = [instrument.scale(name) for name in names]
    lower = np.array([sc.lower for sc in scales])[codes]
    upper = np.array([sc.upper for sc in scales])[codes]
    factor = np.array([sc.factor for sc in scales])[codes]
    out = ((numbers < lower) | (numbers > upper)).to_numpy()
    if out.any():
        idx = np.flatnonzero(out)
        messages = np.empty(len(out), dtype=object)
        messages[idx] = [
            f"{column} {numbers.iat[i]:g} is outside {lower[i]:g}-{upper[i]:g}, the range of its "
            f"declared scale '{names[codes[i]]}'; check the value or the scale in the mapping"
            for i in idx[:1000]
        ] + [f"{column} is outside the range of its declared scale"] * max(0, len(idx) - 1000)
        rec.reject(out, column, "out_of_range", messages, values=values)
    converted = numbers * factor
    valid = numbers.notna().to_numpy() & ~out
    _flag_implausible_scale(rec, instrument, numbers, codes, scales, valid)
    other = np.zeros(len(values), dtype=bool)
    for i, sc in enumerate(scales):
        group = codes == i
        n = int((valid & group).sum())
        if sc.instrument is not None:
            other |= group
            if routed is not None:
                kept = numbers.where(pd.Series(group & valid, index=values.index))
                routed[sc.instrument] = (kept if sc.instrument not in routed
                                         else routed[sc.instrument].fillna(kept))
            sites = sorted(s for s, name in per_site.items() if name == sc.name)
            where = f" at site(s) {', '.join(map(repr, sites))}" if sites else ""
            rec.correct_column(column, f"{sc.name}{where}", sc.instrument,
                               f"kept as its own instrument (not converted into {column})", n)
        elif sc.factor != 1.0:
            rec.correct_column(column, sc.name, instrument.units,
                               f"scale converted {sc.name} -> {instrument.units} "
                               f"(x{sc.factor:g})", n)
    return converted.where(~out & ~other)


def _flag_implausible_scale(rec: Records, instrument: Instrument, numbers: pd.Series,
                            codes: np.ndarray, scales: list, valid: np.ndarray,
                            min_n: int = 10) -> None:
    """Flag a 0-100 declared scale with 90% or more of its values within 0-10 (cm or NRS?).

    Scales are never guessed, so nothing is converted; the first record of each such
    group is flagged so the mistake shows in the ledger.
    """
    x = numbers.to_numpy(dtype=float)
    for i, sc in enumerate(scales):
        if sc.upper < 100.0 or sc.instrument is not None:
            continue
        group = valid & (codes == i)
        # a share, not the maximum, so that one typo (a "25" among cm values) cannot hide it
        share = float((x[group] <= 10.0).mean()) if group.any() else 0.0
        if group.sum() >= min_n and share >= 0.9:
            first = np.zeros(len(valid), dtype=bool)
            first[np.flatnonzero(group)[0]] = True
            rec.flag(first, instrument.column, "implausible_scale",
                     f"{share:.0%} of the {int(group.sum())} values of {instrument.column} "
                     "declared on "
                     f"scale '{sc.name}' (0-{sc.upper:g}) lie within 0-10; is the scale really "
                     "'cm' or 'nrs10'? Declare it in [assessments.scales] or site_scales")
