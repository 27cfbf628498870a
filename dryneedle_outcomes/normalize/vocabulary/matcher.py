"""The matcher every vocabulary shares: text normalisation, missing values, codes.

One job: the parsing machinery of the vocabularies (also used by
:mod:`~dryneedle_outcomes.normalize.dates` and
:mod:`~dryneedle_outcomes.normalize.soreness`): normalise free text, recognise
missing values, turn raw codes into look-up keys, check user mappings, build
whole-word patterns, and parse each distinct value once (the input is factorised,
the distinct values are parsed in Python and the results are mapped back to the
rows with ``numpy.take``).

Text normalisation (:func:`normalize_text`)
    Unicode NFKC, lower case, hyphens/dashes/underscores become spaces, runs of
    whitespace collapse to one space, punctuation at either end is stripped
    (``"Bruising."`` -> ``"bruising"``).

Missing values
    NaN/None/NA and blank text, plus the tokens in :data:`MISSING_TEXT`
    (``"n/a"``, ``"unknown"``, ``"not recorded"``, ``"nr"``, ``"?"``, ``"-"`` ...).
"""

from __future__ import annotations

import re
import string
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd

from ...errors import MappingError

MISSING_TEXT: frozenset[str] = frozenset(
    {
        "",
        "na",
        "n/a",
        "n.a",
        "nan",
        "nat",
        "null",
        "unknown",
        "unk",
        "not known",
        "nk",
        "n/k",
        "not recorded",
        "not reported",
        "nr",
        "not assessed",
        "not asked",
        "not available",
        "missing",
        "blank",
    }
)
"""Normalised texts that mean "no value" in every vocabulary (blank, "n/a", "?" ...)."""

END_PUNCT = string.punctuation + "\u2018\u2019\u201a\u201c\u201d\u201e\u2026\u00b7\u00bf\u00a1"
#: Laterality words: the side they name (``L``, ``Rt``, ``b/l``, ``both`` ...).
LATERALITY_WORDS: Mapping[str, str] = MappingProxyType({
    "left": "left", "l": "left", "lt": "left", "lhs": "left", "links": "left",
    "gauche": "left", "izquierdo": "left", "izq": "left",
    "right": "right", "r": "right", "rt": "right", "rhs": "right", "rechts": "right",
    "droit": "right", "droite": "right", "derecho": "right", "dcho": "right",
    "bilateral": "bilateral", "bilat": "bilateral", "both": "bilateral", "bil": "bilateral",
    "beidseits": "bilateral", "bilaterally": "bilateral",
})

_DASHES = re.compile(r"[-_\u2010\u2011\u2012\u2013\u2014\u2015\u2212]")
_SPACES = re.compile(r"\s+")
_PLAIN_NUMBER = re.compile(r"\d+(?:[.,]\d+)?")


def normalize_text(text: str) -> str:
    """Normalise free text for vocabulary look-ups.

    Parameters
    ----------
    text : str
        Any text.

    Returns
    -------
    str
        NFKC-normalised, lower case, hyphens/dashes/underscores turned into spaces,
        whitespace collapsed, punctuation stripped from both ends.

    Examples
    --------
    >>> normalize_text("  Light-headed ,  pale_and   sweaty.  ")
    'light headed , pale and sweaty'
    """
    t = unicodedata.normalize("NFKC", str(text)).lower()
    t = _DASHES.sub(" ", t)
    t = _SPACES.sub(" ", t)
    return t.strip(END_PUNCT + " ")


def as_series(values: Any) -> pd.Series:
    """Return ``values`` as a Series (lists and arrays are wrapped)."""
    if isinstance(values, pd.Series):
        return values
    if isinstance(values, pd.Index):
        return pd.Series(values, index=range(len(values)))
    return pd.Series(values)


def factorize_values(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Codes (-1 for missing) and the distinct non-missing values as an object array."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    return np.asarray(codes, dtype=np.intp), np.asarray(uniques, dtype=object)


def spread(per_unique: np.ndarray, codes: np.ndarray, fill: Any) -> np.ndarray:
    """Map one result per distinct value back to the rows (``fill`` where code is -1)."""
    extended = np.empty(len(per_unique) + 1, dtype=per_unique.dtype)
    extended[:-1] = per_unique
    extended[-1] = fill
    return extended.take(np.where(codes < 0, len(per_unique), codes))


def apply_unique(
    values: Any, func: Callable[[Any], tuple], n_out: int, missing: tuple
) -> tuple[pd.Series, list[np.ndarray]]:
    """Apply ``func`` to each distinct non-missing value; return per-row object arrays."""
    series = as_series(values)
    codes, uniques = factorize_values(series)
    results = [func(u) for u in uniques]
    columns = []
    for k in range(n_out):
        per_unique = np.empty(len(uniques), dtype=object)
        per_unique[:] = [r[k] for r in results]
        columns.append(spread(per_unique, codes, missing[k]))
    return series, columns


def is_number(value: Any) -> bool:
    """True for real numbers (Python or numpy), False for bools and everything else."""
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(
        value, (bool, np.bool_)
    )


def _number_key(x: float) -> str:
    """Canonical text of a number: ``1``, ``1.0`` and ``"1"`` all become ``"1"``."""
    if np.isfinite(x) and float(x).is_integer():
        return str(int(x))
    return repr(float(x))


def code_key(value: Any) -> str | None:
    """Look-up key of a raw code (number, bool or text); None when missing.

    Text that starts with a sign or a formula character is kept literally (it is
    just text and so only matches a user code written the same way).
    """
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, (bool, np.bool_)):
        return "true" if value else "false"
    if is_number(value):
        x = float(value)
        return None if np.isnan(x) else _number_key(x)
    text = unicodedata.normalize("NFKC", str(value)).strip().lower()
    compact = text.replace(" ", "")
    if _PLAIN_NUMBER.fullmatch(compact):
        return _number_key(float(compact.replace(",", ".")))
    if text[:1] in {"-", "+", "=", "@"} and normalize_text(text):
        return _SPACES.sub(" ", text)
    return normalize_text(text)


def check_mapping(obj: Any, name: str) -> Mapping:
    if not isinstance(obj, Mapping):
        raise MappingError(f"{name} must be a mapping (dict), got {type(obj).__name__}.")
    return obj


def _is_missing_value(value: Any) -> bool:
    if value is None:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def keyword_pattern(keys: Iterable[str]) -> re.Pattern[str] | None:
    ordered = sorted(set(keys), key=len, reverse=True)
    if not ordered:
        return None
    alternation = "|".join(re.escape(k) for k in ordered)
    return re.compile(rf"(?<![a-z0-9])(?:{alternation})(?![a-z0-9])")


def user_codes(
    codes: Mapping | None, name: str, convert: Callable[[Any], Any], allowed: str
) -> dict[str, Any]:
    """Normalise user codes: key -> converted value (None means "missing")."""
    out: dict[str, Any] = {}
    if codes is None:
        return out
    for key, value in check_mapping(codes, name).items():
        k = code_key(key)
        if k is None or k == "":
            raise MappingError(f"{name}: key {key!r} is empty or missing; keys must be codes.")
        if _is_missing_value(value):
            out[k] = None
            continue
        converted = convert(value)
        if converted is None:
            raise MappingError(
                f"{name}: code {key!r} maps to {value!r}, which is not allowed; "
                f"allowed values: {allowed} (or None for missing)."
            )
        out[k] = converted
    return out
