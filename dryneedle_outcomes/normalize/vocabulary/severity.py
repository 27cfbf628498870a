"""The severity vocabulary: words, CTCAE-like grades and :func:`map_severity`.

One job: map recorded severities onto ``adverse_events.severity`` (mild, moderate, severe).

Severity (:func:`map_severity`)
    mild: mild, minor, slight(ly); moderate: moderate, mod, medium, moderately;
    severe: severe, marked, major, very severe, life threatening, death, fatal. Grades
    follow CTCAE: 1 mild, 2 moderate, 3 severe and 4/5 also severe, written ``3``,
    ``3.0``, ``"grade 3"``, ``"gr 3"``, ``"G3"``, ``"grade III"``, ``"CTCAE 3"``.
    The grade, where the text gives one, is kept (``grade``): CTCAE grade 4 is
    life-threatening and grade 5 is death, so "life threatening" is grade 4 and
    "death"/"fatal"/"died" grade 5. Grades 4 and 5 always make an event serious
    (ICH E2A: an event that results in death or is life-threatening is serious); the
    loader enforces that and flags a record that says otherwise.
    ``"serious"`` is deliberately *not* severe - seriousness is a separate
    regulatory flag - so it is ``invalid``. Combined grades ("mild-moderate") are
    ``invalid``: they are never resolved by guessing.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd

from .matcher import MISSING_TEXT, apply_unique, code_key, user_codes

SEVERITIES: tuple[str, ...] = ("mild", "moderate", "severe")
"""Controlled vocabulary of ``adverse_events.severity``."""

_SEVERITY_WORDS: dict[str, tuple[str, ...]] = {
    "mild": ("mild", "minor", "slight", "slightly"),
    "moderate": ("moderate", "mod", "medium", "moderately"),
    "severe": ("severe", "marked", "major", "very severe", "life threatening", "death",
               "fatal", "died"),
}

#: Severity words that carry a CTCAE grade (4 life-threatening, 5 death).
_GRADE_WORDS = {"life threatening": 4, "death": 5, "fatal": 5, "died": 5}

DEFAULT_SEVERITY_CODES: Mapping[str, str] = MappingProxyType(
    {
        **{word: sev for sev, words in _SEVERITY_WORDS.items() for word in words},
        "1": "mild",
        "2": "moderate",
        "3": "severe",
        "4": "severe",
        "5": "severe",
    }
)
"""Normalised severity text or CTCAE grade -> severity. Extend or override with ``codes=``."""

_GRADE = re.compile(r"(?:ctcae\s*(?:grade|gr|g)?|grade|gr|g)\s*\.?\s*(?P<g>[1-5]|iv|v|i{1,3})")
_ROMAN = {"i": 1, "ii": 2, "iii": 3, "iv": 4, "v": 5}


def _to_severity(value: Any) -> str | None:
    if isinstance(value, str) and value.strip().lower() in SEVERITIES:
        return value.strip().lower()
    return None


def map_severity(values: Any, codes: Mapping | None = None) -> pd.DataFrame:
    """Map severity words, CTCAE-like grades and site codes to mild/moderate/severe.

    Parameters
    ----------
    values : pandas.Series
        Severity as recorded: words, grades (``2``, ``"grade 2"``, ``"G2"``) or codes.
    codes : mapping, optional
        ``{raw code: severity}`` overriding the defaults; ``1`` and ``"1"`` are the
        same code. A value of None marks the code as meaning "missing".

    Returns
    -------
    pandas.DataFrame
        Aligned to ``values.index``, columns ``severity`` (mild/moderate/severe or
        NaN), ``status`` ("ok", "missing" or "invalid") and ``grade`` (the CTCAE grade
        1-5 where the value is a grade or a grade-4/5 word, else NaN; float).

    Raises
    ------
    MappingError
        If a user code maps to something other than a severity or None.

    Notes
    -----
    Grades: 1 mild, 2 moderate, 3-5 severe. "serious" is a regulatory flag, not a
    severity, and is ``invalid``; so are combined grades such as "mild-moderate".

    Examples
    --------
    >>> import pandas as pd
    >>> map_severity(pd.Series(["Mild", "grade 2", 3, "serious", None, "A"]), codes={"a": "mild"})
       severity   status  grade
    0      mild       ok    NaN
    1  moderate       ok    2.0
    2    severe       ok    3.0
    3       NaN  invalid    NaN
    4       NaN  missing    NaN
    5      mild       ok    NaN
    >>> map_severity(pd.Series(["Grade 4", "life-threatening", "G5"]))["grade"].tolist()
    [4.0, 4.0, 5.0]
    """
    table: dict[str, Any] = dict(DEFAULT_SEVERITY_CODES)
    mine = user_codes(codes, "severity codes", _to_severity, ", ".join(SEVERITIES))
    table.update(mine)

    def grade_of(key: str) -> float:
        if key in _GRADE_WORDS:
            return float(_GRADE_WORDS[key])
        if key in ("1", "2", "3", "4", "5") and key not in mine:  # a user's "3" is a code
            return float(key)
        m = _GRADE.fullmatch(key)
        if m:
            g = m.group("g")
            return float(int(g) if g.isdigit() else _ROMAN[g])
        return np.nan

    def parse(value: Any) -> tuple[Any, str, float]:
        if isinstance(value, (bool, np.bool_)):
            return np.nan, "invalid", np.nan
        key = code_key(value)
        if key is None:
            return np.nan, "missing", np.nan
        if key in table:
            sev = table[key]
            return (np.nan, "missing", np.nan) if sev is None else (sev, "ok", grade_of(key))
        if key in MISSING_TEXT:
            return np.nan, "missing", np.nan
        grade = grade_of(key)
        if not np.isnan(grade):
            return DEFAULT_SEVERITY_CODES[str(int(grade))], "ok", grade
        return np.nan, "invalid", np.nan

    series, (severity, status, grade) = apply_unique(values, parse, 3,
                                                     (np.nan, "missing", np.nan))
    return pd.DataFrame({"severity": severity, "status": status,
                         "grade": grade.astype(float)}, index=series.index)
