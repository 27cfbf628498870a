"""The allocation-guess vocabulary: what a patient believes they received.

One job: map recorded answers to the blinding question ("Which treatment do you think
you received?") onto ``allocation_guess``: ``real`` (the active, penetrating needling),
``sham``, or ``dont_know``.

real: real, active, true, verum, needling, dry needling, real needling, treatment,
intervention, experimental, DN; sham: sham, placebo, fake, control, sham needling,
non-penetrating, pretend; dont_know: don't know (any apostrophe), do not know, dont
know, DK, unsure, not sure, uncertain, can't tell, no idea. "unknown" and the other
missing-value tokens mean the question was not answered (missing), not "don't know".
Anything else is ``invalid``; site codes extend the table with ``codes=``.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd

from .matcher import MISSING_TEXT, apply_unique, code_key, user_codes

GUESSES: tuple[str, ...] = ("real", "sham", "dont_know")
"""Controlled vocabulary of ``allocation_guess``."""

_WORDS: dict[str, tuple[str, ...]] = {
    "real": ("real", "active", "true", "verum", "needling", "dry needling", "real needling",
             "true needling", "active needling", "treatment", "intervention",
             "experimental", "dn"),
    "sham": ("sham", "placebo", "fake", "control", "sham needling", "non penetrating",
             "nonpenetrating", "pretend", "sham dry needling"),
    "dont_know": ("dont know", "do not know", "dk", "unsure", "not sure", "uncertain",
                  "cant tell", "cannot tell", "no idea", "dont_know", "don t know"),
}

DEFAULT_GUESS_CODES: Mapping[str, str] = MappingProxyType(
    {word: guess for guess, words in _WORDS.items() for word in words})
"""Normalised answer -> guess. Extend or override with ``codes=``."""


def _to_guess(value: Any) -> str | None:
    if isinstance(value, str) and value.strip().lower() in GUESSES:
        return value.strip().lower()
    return None


def map_allocation_guess(values: Any, codes: Mapping | None = None) -> pd.DataFrame:
    """Map recorded allocation guesses to real / sham / dont_know.

    Parameters
    ----------
    values : pandas.Series
    codes : mapping, optional
        ``{raw code: guess}`` overriding the defaults (``{1: "real", 2: "sham", 3:
        "dont_know"}``); None marks a code as missing.

    Returns
    -------
    pandas.DataFrame
        Aligned to ``values.index``: ``allocation_guess`` (real/sham/dont_know or NaN)
        and ``status`` ("ok", "missing" or "invalid").

    Examples
    --------
    >>> import pandas as pd
    >>> map_allocation_guess(pd.Series(["Real", "placebo", "Don’t know", "DK", None, "??x"]))
      allocation_guess   status
    0             real       ok
    1             sham       ok
    2        dont_know       ok
    3        dont_know       ok
    4              NaN  missing
    5              NaN  invalid
    """
    table: dict[str, Any] = dict(DEFAULT_GUESS_CODES)
    table.update(user_codes(codes, "allocation_guess codes", _to_guess, ", ".join(GUESSES)))

    def parse(value: Any) -> tuple[Any, str]:
        if isinstance(value, (bool, np.bool_)):
            return np.nan, "invalid"
        key = code_key(value)
        if key is None:
            return np.nan, "missing"
        key = key.replace("\u2019", "").replace("'", "").replace("\u2018", "")
        if key in table:
            guess = table[key]
            return (np.nan, "missing") if guess is None else (guess, "ok")
        if key in MISSING_TEXT:
            return np.nan, "missing"
        return np.nan, "invalid"

    series, (guess, status) = apply_unique(values, parse, 2, (np.nan, "missing"))
    return pd.DataFrame({"allocation_guess": guess, "status": status}, index=series.index)


__all__ = ["DEFAULT_GUESS_CODES", "GUESSES", "map_allocation_guess"]
