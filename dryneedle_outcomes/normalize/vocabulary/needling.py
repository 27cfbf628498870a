"""Needling details: the technique and the side as clinicians write them.

One job: map ``assessments.technique`` and ``assessments.laterality`` text onto their
codes (STRICTA 2010 item 2: "needle stimulation", "needle retention time", MacPherson
et al. 2010; the side is part of "names or location of points used").

Technique (:func:`map_technique`)
    ``pistoning``: the needle moved in and out within the muscle ("fast-in fast-out",
    Hong's technique, "pecking", "FIFO"), the usual trigger-point technique to elicit
    local twitch responses; ``static``: inserted and left without manipulation
    ("no manipulation", "retained", "in situ"); ``rotation``: the needle wound
    ("winding", "twirling"); text matching none of them is ``other`` and is listed
    as unmatched (the loader flags it in the ledger).
Side (:func:`map_laterality`)
    ``left``, ``right``, ``bilateral`` from the words of
    :data:`~dryneedle_outcomes.normalize.vocabulary.matcher.LATERALITY_WORDS` (and
    ``b/l``); anything else is unmatched (missing, flagged).
"""

from __future__ import annotations

import re
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd

from .matcher import (
    LATERALITY_WORDS,
    MISSING_TEXT,
    as_series,
    factorize_values,
    normalize_text,
    spread,
)

#: The values of ``assessments.technique``.
TECHNIQUES: tuple[str, ...] = ("pistoning", "static", "rotation", "other")

DEFAULT_TECHNIQUE_SYNONYMS = MappingProxyType({
    **dict.fromkeys(("pistoning", "piston", "fast in fast out", "fast in and fast out",
                     "fast in/fast out", "fifo", "in out", "in and out", "pecking",
                     "sparrow pecking", "hong", "hong technique", "hong's technique",
                     "rapid insertion", "rapid in out", "dynamic", "up and down"),
                    "pistoning"),
    **dict.fromkeys(("static", "no manipulation", "without manipulation", "retained",
                     "static retention", "in situ", "left in situ", "left in",
                     "no stimulation"), "static"),
    **dict.fromkeys(("rotation", "rotated", "winding", "twirling", "needle rotation",
                     "rotation winding"), "rotation"),
})
"""Normalised technique text -> technique code."""

_SLASH = re.compile(r"\s*/\s*")
_BILATERAL_SLASH = re.compile(r"(?<![a-z])b\s*/\s*l(?![a-z])")


def _lookup(values: Any, read) -> tuple[np.ndarray, np.ndarray]:
    """``read(text)`` on each distinct value: codes and a per-row "unmatched" flag."""
    series = as_series(values)
    codes, uniques = factorize_values(series)
    out = np.empty(len(uniques), dtype=object)
    bad = np.zeros(len(uniques), dtype=bool)
    for i, value in enumerate(uniques):   # distinct values, not rows
        norm = normalize_text(value)
        if norm in MISSING_TEXT:
            out[i] = np.nan
            continue
        code, ok = read(norm)
        out[i], bad[i] = code, not ok
    return spread(out, codes, np.nan), spread(bad, codes, False)


def map_technique(values: Any) -> pd.DataFrame:
    """Needling technique text to :data:`TECHNIQUES`.

    Parameters
    ----------
    values : pandas.Series
        The technique as recorded ("fast-in fast-out", "static, 10 min").

    Returns
    -------
    pandas.DataFrame
        Aligned to ``values``: ``technique`` (a code, NaN when blank) and ``matched``
        (False where the text was not recognised and became ``other``).

    Examples
    --------
    >>> map_technique(pd.Series(["Fast-in fast-out", "static (no manipulation)",
    ...                          "electro", None]))
      technique  matched
    0 pistoning     True
    1    static     True
    2     other    False
    3       NaN     True
    """
    pattern = re.compile(r"(?<![a-z])(?:" + "|".join(
        re.escape(k) for k in sorted(DEFAULT_TECHNIQUE_SYNONYMS, key=len, reverse=True)
        if len(k) >= 5) + r")(?![a-z])")

    def read(norm: str) -> tuple[str, bool]:
        norm = _SLASH.sub(" ", norm)
        if norm in DEFAULT_TECHNIQUE_SYNONYMS:
            return DEFAULT_TECHNIQUE_SYNONYMS[norm], True
        found = {DEFAULT_TECHNIQUE_SYNONYMS[m.group(0)] for m in pattern.finditer(norm)}
        if len(found) == 1:
            return found.pop(), True
        return "other", False

    technique, bad = _lookup(values, read)
    series = as_series(values)
    return pd.DataFrame({"technique": technique, "matched": ~bad}, index=series.index)


def map_laterality(values: Any) -> pd.DataFrame:
    """The side needled ("L", "Right", "b/l", "both") to ``left``/``right``/``bilateral``.

    Examples
    --------
    >>> map_laterality(pd.Series(["L", "Rt", "B/L", "left and right", "foot", None]))
      laterality  matched
    0       left     True
    1      right     True
    2  bilateral     True
    3  bilateral     True
    4        NaN    False
    5        NaN     True
    """
    def read(norm: str) -> tuple[Any, bool]:
        words = re.findall(r"[a-z]+", _BILATERAL_SLASH.sub(" bilateral ", norm))
        words = [w for w in words if w not in ("and", "side", "sides", "foot", "leg")] or words
        sides = {LATERALITY_WORDS.get(w) for w in words}
        if None in sides or not sides:
            return np.nan, False
        return (sides.pop() if len(sides) == 1 else "bilateral"), True

    side, bad = _lookup(values, read)
    series = as_series(values)
    return pd.DataFrame({"laterality": side, "matched": ~bad}, index=series.index)


__all__ = ["DEFAULT_TECHNIQUE_SYNONYMS", "TECHNIQUES", "map_laterality", "map_technique"]
