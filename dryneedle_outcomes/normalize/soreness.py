"""Post-needling soreness durations -> intervals in hours.

Clinics record how long soreness lasted after a needling session in free text
("24-48h", "2 days", ">48h", "ongoing"). :func:`parse_soreness` turns each report
into an interval ``[soreness_lower_h, soreness_upper_h]`` in hours, the form the
interval-censored soreness analysis needs: exact reports have ``lower == upper``,
reports of soreness still present when last asked have ``upper = inf``.

Accepted forms (case-insensitive, whitespace tolerant)
------------------------------------------------------
Numbers
    ``36``, ``36.5``, ``1,5`` (decimal comma), ``1e2`` and numeric dtypes are hours,
    exact. Numbers with a unit are converted. Thousands separators are not
    supported (``1,000`` is read as 1.0).
Units
    hours: ``h``, ``hr``, ``hrs``, ``hour``, ``hours``, ``hour(s)`` (with or without
    a trailing dot); days (x 24): ``d``, ``day``, ``days``, ``day(s)``; minutes
    (/ 60): ``min``, ``mins``, ``minute``, ``minutes``; weeks (x 168): ``w``,
    ``wk``, ``wks``, ``week``, ``weeks``. Months are not accepted (their length
    is ambiguous), nor is a bare ``m``.
Spelled numbers
    ``a``/``an`` (1) and ``zero`` ... ``fourteen`` before a unit: ``"a day"`` = 24,
    ``"two days"`` = 48; ``"half a day"``/``"half day"`` = 12, ``"half an hour"``
    = 0.5, ``"one and a half days"``/``"a day and a half"`` = 36. A spelled number
    without a unit is invalid.
Sums
    ``"1 day 6 hours"``, ``"1d 6h"``, ``"1 day and 6 hours"`` = 30.
Exact
    any of the above alone -> ``[x, x]``.
Ranges -> ``[a, b]``
    ``"24-48h"``, ``"24–48 hrs"`` (any dash), ``"24 to 48 hours"``, ``"1-2 days"``,
    ``"1–2d"``, ``"1 or 2 days"``, ``"between 1 and 2 days"``, ``"12h-2 days"``. A
    side without a unit takes the other side's unit; with no unit at all both are
    hours. ``a == b`` is exact. A slash is *not* a range separator (``"24/48"`` is
    invalid: it could be a fraction).
Lower bounds -> ``[x, inf]`` (still sore at the time of the report)
    ``">48h"``, ``">= 48h"``, ``"≥48h"``, ``"more than 2 days"``, ``"over 48 hours"``,
    ``"greater than"``/``"longer than"``/``"at least"``/``"beyond"``/``"past"``/
    ``"in excess of"`` x, ``"48h+"``, ``"2+ days"``, ``"48h or more"``/
    ``"or longer"``, ``"still sore at 48h"``/``"after 2 days"``, ``"ongoing >48h"``,
    ``"ongoing (48h)"``, ``"persisting at 2 days"``.
Unbounded -> ``[0, inf]``
    ``"ongoing"``, ``"persisting"``, ``"persistent"``, ``"continuing"``,
    ``"unresolved"``, ``"not (yet) resolved"``, ``"still sore"``, ``"still present"``,
    ``"still sore at (the) next contact|visit|session|appointment|treatment|review|
    follow up|call"``. Documented choice: with no bound known the soreness lasted
    at least zero hours, so ``lower = 0`` and ``upper = inf`` (right-censored at 0).
Upper bounds -> ``[0, x]``
    ``"<24h"``, ``"<= 24h"``, ``"≤24h"``, ``"less than a day"``, ``"under 24 hours"``,
    ``"within 24h"``, ``"up to 24h"``, ``"no more than"``/``"not more than"``/
    ``"at most"``/``"below"``/``"shorter than"`` x. ``"same day"`` -> ``[0, 24]``.
No soreness -> ``[0, 0]``
    ``"0"``, ``"none"``, ``"nil"``, ``"no"``, ``"no soreness"``, ``"nil soreness"``,
    ``"not sore"``, ``"no pain"``, ``"no doms"``, ``"none reported"``, ``"nothing"``.
Overnight -> ``[8, 16]``
    Documented choice: soreness that settled "overnight" lasted at least the
    evening (8 h) and at most until the next morning (16 h).
Qualifiers that are ignored
    approximations at the start (``"approx"``, ``"approximately"``, ``"about"``,
    ``"around"``, ``"roughly"``, ``"circa"``, ``"ca."``, ``"c."``, ``"~"``,
    ``"≈"``) - such reports are treated as exact; fillers ``"sore for"``,
    ``"soreness for"``, ``"soreness lasted"``, ``"lasted"``, ``"lasting"``, ``"for"``,
    ``"duration"``; and at the end ``"post needling"``, ``"after needling"``,
    ``"post treatment"``, ``"after treatment"``, ``"only"``. Brackets are ignored.
Missing -> status ``"missing"``, both NaN
    NaN/None/NA, blank, ``"unknown"``, ``"not recorded"``, ``"n/a"``, ``"na"``,
    ``"nr"``, ``"not known"``, ``"not assessed"``, ``"?"``, ``"-"``, ``"--"``
    (every token of :data:`~dryneedle_outcomes.normalize.vocabulary.MISSING_TEXT`).
Invalid -> status ``"invalid"``, both NaN
    reversed ranges (``"48-24h"``) and negative numbers (``"-24h"``, ``-3``) - the
    caller reports them with the rule :data:`RULE_REVERSED_OR_NEGATIVE`; anything
    else that is not understood (vague words such as ``"a few hours"``, ``"+24h"``,
    ``"=24"``, bools, infinite numbers) - rule :data:`RULE_UNRECOGNISED`. Text is
    never evaluated.

Examples
--------
>>> import pandas as pd
>>> from dryneedle_outcomes.normalize.soreness import parse_soreness
>>> parse_soreness(pd.Series(["24-48h", "2 days", ">48h", "ongoing", "overnight",
...                           "half a day", "none", "1,5 days", "48-24h", "n/a"]))
   soreness_lower_h  soreness_upper_h soreness_status
0              24.0              48.0              ok
1              48.0              48.0              ok
2              48.0               inf              ok
3               0.0               inf              ok
4               8.0              16.0              ok
5              12.0              12.0              ok
6               0.0               0.0              ok
7              36.0              36.0              ok
8               NaN               NaN         invalid
9               NaN               NaN         missing
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

import numpy as np
import pandas as pd

from .vocabulary.matcher import MISSING_TEXT, as_series, factorize_values, is_number, spread

__all__ = [
    "parse_soreness",
    "SORENESS_RULES_DOC",
    "RULE_REVERSED_OR_NEGATIVE",
    "RULE_UNRECOGNISED",
]

RULE_REVERSED_OR_NEGATIVE = "reversed or negative soreness interval"
"""Reason given (with ``reasons=True``) for reversed ranges and negative numbers."""

RULE_UNRECOGNISED = "unrecognised soreness duration"
"""Reason given (with ``reasons=True``) for any other text that is not understood."""

SORENESS_RULES_DOC: str = __doc__ or ""
"""Every accepted form, as listed in the module docstring."""

_INF = float("inf")

_NUM = r"(?:\d+(?:\.\d*)?|\.\d+)(?:e[+-]?\d+)?"
_WORD_NUMBERS = {
    "zero": 0,
    "a": 1,
    "an": 1,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "thirteen": 13,
    "fourteen": 14,
}
_WORDS = "|".join(sorted(_WORD_NUMBERS, key=len, reverse=True))
_QTY = rf"(?:{_NUM}|(?:{_WORDS})(?![a-z]))"
_UNIT_HOURS = {
    "hours": 1.0,
    "hour": 1.0,
    "hrs": 1.0,
    "hr": 1.0,
    "h": 1.0,
    "days": 24.0,
    "day": 24.0,
    "d": 24.0,
    "minutes": 1 / 60,
    "minute": 1 / 60,
    "mins": 1 / 60,
    "min": 1 / 60,
    "weeks": 168.0,
    "week": 168.0,
    "wks": 168.0,
    "wk": 168.0,
    "w": 168.0,
}
_UNIT_ALT = "|".join(sorted(_UNIT_HOURS, key=len, reverse=True))


def _unit(name: str) -> str:
    return rf"(?P<{name}>{_UNIT_ALT})\.?(?![a-z])"


_NUMBER_ONLY = re.compile(_NUM)
_HALF = re.compile(rf"(?:a\s+)?half\s+(?:a\s+|an\s+|one\s+)?{_unit('u')}")
_PAIR = re.compile(
    rf"\s*(?:(?:,|and)\s*)?(?P<q>{_QTY})(?P<h1>\s+and\s+a\s+half)?\s*{_unit('u')}"
    rf"(?P<h2>\s+and\s+a\s+half)?"
)
_RANGE = re.compile(
    rf"(?P<btw>between\s+)?(?P<a>{_QTY})\s*(?:{_unit('ua')})?\s*"
    rf"(?P<sep>-|to|and|or)\s*(?P<b>{_QTY})\s*(?:{_unit('ub')})?"
)
_PLUS_UNIT = re.compile(rf"(?P<q>{_QTY})\s*\+\s*{_unit('u')}")
_LOWER_PREFIX = re.compile(
    r"(?:>=|>|more than|greater than|longer than|over|at least|beyond|past|in excess of|"
    r"(?:ongoing|persisting|persistent|continuing|still sore|still present)"
    r"(?:\s*(?:at|after|beyond|past|>=|>|:|,))?)\s*(?P<d>.+)"
)
_LOWER_SUFFIX = re.compile(r"(?P<d>.+?)\s*(?:\+|or more|or longer|plus|and ongoing)")
_UPPER_PREFIX = re.compile(
    r"(?:<=|<|less than|under|within|up to|fewer than|shorter than|below|no more than|"
    r"not more than|at most)\s*(?P<d>.+)"
)
_ONGOING = re.compile(
    r"(?:ongoing|persisting|persistent|continuing|unresolved|not (?:yet )?resolved|"
    r"still (?:sore|present|ongoing))"
    r"(?: (?:at|by) (?:the )?next (?:contact|visit|session|appointment|treatment|review|"
    r"follow ?up|call))?"
)
_ZERO = frozenset(
    {
        "none",
        "nil",
        "no",
        "no soreness",
        "nil soreness",
        "not sore",
        "no pain",
        "no doms",
        "none reported",
        "nothing",
    }
)
_SPECIAL: dict[str, tuple[float, float]] = {
    "overnight": (8.0, 16.0),
    "same day": (0.0, 24.0),
}
_APPROX = re.compile(r"^(?:approximately|approx\.?|about|around|roughly|circa|ca\.|c\.|~|≈)\s*")
_FILLER_START = re.compile(
    r"^(?:sore for|soreness for|soreness lasted|lasted|lasting|for|duration)\s+"
)
_FILLER_END = re.compile(
    r"\s+(?:post[- ]needling|after needling|post[- ]treatment|after treatment|only)$"
)
_NEGATIVE = re.compile(r"^-\s*\.?\d|(?:-|\bto|\band|\bor|<|>|=)\s*-\s*\.?\d")
_PLACEHOLDER = re.compile(r"[-.?/\s]*")
_DASHES = re.compile(r"[\u2010\u2011\u2012\u2013\u2014\u2015\u2212]")


def _normalise(text: str) -> str:
    t = unicodedata.normalize("NFKC", text).lower()
    t = _DASHES.sub("-", t)
    t = t.replace("≥", ">=").replace("≤", "<=").replace("(s)", "s")
    t = re.sub(r"[()\[\]{}]", " ", t)
    t = re.sub(r"(?<=\d),(?=\d)", ".", t)
    t = re.sub(r"\s+", " ", t).strip()
    return t.rstrip(" .;,!")


def _qty(text: str) -> float:
    return float(_WORD_NUMBERS[text]) if text in _WORD_NUMBERS else float(text)


def _duration(text: str) -> float | None:
    """Hours in a single duration ("36", "2 days", "1d 6h", "half a day"), else None."""
    t = text.strip()
    if not t:
        return None
    if _NUMBER_ONLY.fullmatch(t):
        return float(t)
    m = _HALF.fullmatch(t)
    if m:
        return 0.5 * _UNIT_HOURS[m.group("u")]
    total, pos = 0.0, 0
    while pos < len(t):
        m = _PAIR.match(t, pos)
        if m is None or m.end() == pos:
            return None
        q = _qty(m.group("q")) + (0.5 if (m.group("h1") or m.group("h2")) else 0.0)
        total += q * _UNIT_HOURS[m.group("u")]
        pos = m.end()
    return total


def _range(t: str) -> tuple[float, float] | None:
    m = _RANGE.fullmatch(t)
    if m is None or (m.group("sep") == "and" and not m.group("btw")):
        return None
    ua, ub = m.group("ua"), m.group("ub")
    a_text, b_text = m.group("a"), m.group("b")
    if ua is None and ub is None:
        if a_text in _WORD_NUMBERS or b_text in _WORD_NUMBERS:
            return None
        ua = ub = "h"
    ua, ub = ua or ub, ub or ua
    return _qty(a_text) * _UNIT_HOURS[ua], _qty(b_text) * _UNIT_HOURS[ub]


def _parse_text(text: str) -> tuple[float, float, str, str | None]:
    t = _normalise(text)
    if t in MISSING_TEXT or _PLACEHOLDER.fullmatch(t):
        return np.nan, np.nan, "missing", "missing"
    if t in _ZERO:
        return 0.0, 0.0, "ok", None
    if _ONGOING.fullmatch(t):
        return 0.0, _INF, "ok", None
    if t in _SPECIAL:
        lo, hi = _SPECIAL[t]
        return lo, hi, "ok", None
    t = _APPROX.sub("", t)
    t = _FILLER_START.sub("", t)
    t = _FILLER_END.sub("", t).strip()
    if _NEGATIVE.search(t):
        return np.nan, np.nan, "invalid", RULE_REVERSED_OR_NEGATIVE
    lo: float | None
    hi: float | None
    open_upper = False
    d = _duration(t)
    if d is not None:
        lo = hi = d
    elif (r := _range(t)) is not None:
        lo, hi = r
        if lo > hi:
            return np.nan, np.nan, "invalid", RULE_REVERSED_OR_NEGATIVE
    elif (m := _PLUS_UNIT.fullmatch(t)) is not None:
        lo, hi, open_upper = _qty(m.group("q")) * _UNIT_HOURS[m.group("u")], _INF, True
    elif (m := _LOWER_PREFIX.fullmatch(t)) and (lo := _duration(m.group("d"))) is not None:
        hi, open_upper = _INF, True
    elif (m := _LOWER_SUFFIX.fullmatch(t)) and (lo := _duration(m.group("d"))) is not None:
        hi, open_upper = _INF, True
    elif (m := _UPPER_PREFIX.fullmatch(t)) and (hi := _duration(m.group("d"))) is not None:
        lo = 0.0
    else:
        return np.nan, np.nan, "invalid", RULE_UNRECOGNISED
    if not np.isfinite(lo) or not (open_upper or np.isfinite(hi)):
        # numbers too large for a float (e.g. "1e999") overflow to inf
        return np.nan, np.nan, "invalid", RULE_UNRECOGNISED
    return float(lo), float(hi), "ok", None


def _parse_number(x: float) -> tuple[float, float, str, str | None]:
    if np.isnan(x):
        return np.nan, np.nan, "missing", "missing"
    if x < 0:
        return np.nan, np.nan, "invalid", RULE_REVERSED_OR_NEGATIVE
    if not np.isfinite(x):
        return np.nan, np.nan, "invalid", RULE_UNRECOGNISED
    return x, x, "ok", None


def _parse_value(value: Any) -> tuple[float, float, str, str | None]:
    if isinstance(value, str):
        return _parse_text(value)
    if is_number(value):
        return _parse_number(float(value))
    return np.nan, np.nan, "invalid", RULE_UNRECOGNISED


def parse_soreness(values: Any, *, reasons: bool = False) -> pd.DataFrame:
    """Parse post-needling soreness duration reports into intervals in hours.

    Parameters
    ----------
    values : pandas.Series
        Soreness reports: free text, numbers (hours) or a mix.
    reasons : bool, default False
        Also return ``soreness_reason``: None when ok, ``"missing"``,
        :data:`RULE_REVERSED_OR_NEGATIVE` or :data:`RULE_UNRECOGNISED`.

    Returns
    -------
    pandas.DataFrame
        Aligned to ``values.index``, columns ``soreness_lower_h`` and
        ``soreness_upper_h`` (float hours; equal when exact, upper ``inf`` when
        still sore, both NaN unless ok) and ``soreness_status`` (``"ok"``,
        ``"missing"`` or ``"invalid"``).

    Notes
    -----
    Every accepted form is listed in the module docstring
    (:data:`SORENESS_RULES_DOC`). Distinct values are parsed once, so the cost
    depends on the number of distinct spellings, not on the number of rows.

    Examples
    --------
    >>> import pandas as pd
    >>> out = parse_soreness(pd.Series(["24–48 hrs", "36", "<24h", "-5", "sore-ish"]),
    ...                      reasons=True)
    >>> out[["soreness_lower_h", "soreness_upper_h"]].to_numpy().tolist()
    [[24.0, 48.0], [36.0, 36.0], [0.0, 24.0], [nan, nan], [nan, nan]]
    >>> out["soreness_reason"].tolist()
    [None, None, None, 'reversed or negative soreness interval', 'unrecognised soreness duration']
    >>> parse_soreness(pd.Series([36, 12.5]))["soreness_upper_h"].tolist()
    [36.0, 12.5]
    """
    series = as_series(values)
    index = series.index
    if pd.api.types.is_bool_dtype(series.dtype):
        n = len(series)
        status = np.full(n, "invalid", dtype=object)
        status[series.isna().to_numpy()] = "missing"
        lower = np.full(n, np.nan)
        reason = np.where(status == "missing", "missing", RULE_UNRECOGNISED).astype(object)
        return _frame(index, lower, lower.copy(), status, reason if reasons else None)
    if pd.api.types.is_numeric_dtype(series.dtype):
        x = series.to_numpy(dtype=float, na_value=np.nan)
        ok = np.isfinite(x) & (x >= 0)
        missing = np.isnan(x)
        negative = x < 0
        lower = np.where(ok, x, np.nan)
        status = np.where(ok, "ok", np.where(missing, "missing", "invalid")).astype(object)
        reason = np.where(
            ok,
            None,
            np.where(
                missing,
                "missing",
                np.where(negative, RULE_REVERSED_OR_NEGATIVE, RULE_UNRECOGNISED),
            ),
        ).astype(object)
        return _frame(index, lower, lower.copy(), status, reason if reasons else None)

    codes, uniques, lower_u, upper_u, status_u, reason_u = _parse_unique(series)
    return _frame(
        index,
        spread(lower_u, codes, np.nan),
        spread(upper_u, codes, np.nan),
        spread(status_u, codes, "missing"),
        spread(reason_u, codes, "missing") if reasons else None,
    )


def _parse_unique(series: pd.Series) -> tuple[np.ndarray, ...]:
    """Codes and distinct values of ``series`` and, per distinct value, lower, upper,
    status and reason."""
    codes, uniques = factorize_values(series)
    parsed = [_parse_value(u) for u in uniques]
    lower_u = np.array([p[0] for p in parsed], dtype=float)
    upper_u = np.array([p[1] for p in parsed], dtype=float)
    status_u = np.empty(len(parsed), dtype=object)
    status_u[:] = [p[2] for p in parsed]
    reason_u = np.empty(len(parsed), dtype=object)
    reason_u[:] = [p[3] for p in parsed]
    return codes, uniques, lower_u, upper_u, status_u, reason_u


def parse_soreness_arrays(values: pd.Series) -> tuple[np.ndarray, np.ndarray, np.ndarray,
                                                      np.ndarray, tuple | None]:
    """:func:`parse_soreness` as per-row arrays for the loader.

    Returns ``lower``, ``upper``, ``ok`` and ``invalid`` (booleans instead of the
    status text) and, for text values, ``(codes, uniques)`` of ``values`` (else None),
    so that the column is factorised once and no status text is built per row.

    Examples
    --------
    >>> lower, upper, ok, invalid, coded = parse_soreness_arrays(pd.Series(["24-48h", "x"]))
    >>> lower.tolist(), ok.tolist(), invalid.tolist(), coded[1].tolist()
    ([24.0, nan], [True, False], [False, True], ['24-48h', 'x'])
    """
    series = as_series(values)
    if pd.api.types.is_bool_dtype(series.dtype) or pd.api.types.is_numeric_dtype(series.dtype):
        frame = parse_soreness(series)
        status = frame["soreness_status"].to_numpy(dtype=object)
        return (frame["soreness_lower_h"].to_numpy(), frame["soreness_upper_h"].to_numpy(),
                status == "ok", status == "invalid", None)
    codes, uniques, lower_u, upper_u, status_u, _ = _parse_unique(series)
    return (spread(lower_u, codes, np.nan), spread(upper_u, codes, np.nan),
            spread(status_u == "ok", codes, False), spread(status_u == "invalid", codes, False),
            (codes, uniques))


def _frame(
    index: pd.Index,
    lower: np.ndarray,
    upper: np.ndarray,
    status: np.ndarray,
    reason: np.ndarray | None,
) -> pd.DataFrame:
    data: dict[str, Any] = {
        "soreness_lower_h": lower.astype(float),
        "soreness_upper_h": upper.astype(float),
        "soreness_status": status.astype(object),
    }
    if reason is not None:
        data["soreness_reason"] = reason
    return pd.DataFrame(data, index=index)
