"""Visit dates under a declared convention, vectorised and never guessed.

:func:`parse_dates` reads a column of dates as clinics export them: ISO text,
day-first or month-first text, an explicit ``strftime`` format, real datetimes from
Excel or Parquet, and Excel serial numbers. The convention is *declared* by the
caller; nothing ambiguous is resolved by guessing.

Rules
-----
Conventions
    ``"iso"``, ``"dayfirst"``, ``"monthfirst"`` or an explicit ``strftime`` format
    (any string containing ``%``, e.g. ``"%d.%m.%Y"``). Anything else raises
    :class:`~dryneedle_outcomes.errors.MappingError` listing the allowed values.
Already dates
    ``datetime64`` columns pass through (time zones are dropped keeping the local
    wall time; values outside the ``datetime64[ns]`` range, years 1677-2262, are
    invalid); ``datetime.date``/``datetime``/``Timestamp``/``numpy.datetime64``
    objects in an object column are taken as they are. Status ``"ok"``.
ISO text, under every convention
    ``YYYY-MM-DD`` (one- or two-digit month and day), optionally followed by
    ``T``/space and ``HH:MM[:SS[.fff]]`` (no UTC offset), and the year-first
    ``YYYY/MM/DD`` and ``YYYY.MM.DD``: year-first dates are always year-month-day.
Day-first / month-first text
    ``D/M/YYYY`` with ``/``, ``.`` or ``-`` as separator (the same one twice),
    optionally followed by ``HH:MM`` or ``HH:MM:SS``; ``"dayfirst"`` reads it as
    day/month, ``"monthfirst"`` as month/day. Under ``"iso"`` such text is
    **invalid**: it is ambiguous and the convention does not resolve it.
Two-digit years
    ``D/M/YY`` is accepted with the declared convention and the ``%y`` rule of
    pandas/Python: 69-99 -> 1969-1999, 00-68 -> 2000-2068.
Month names (named conventions only)
    Unambiguous text such as ``05 Jan 2024``, ``5 January 2024``, ``05-JAN-2024``,
    ``05JAN2024`` (SAS ``DATE9``), ``Jan 5 2024``, ``January 5, 2024``; English
    month names or abbreviations, case-insensitive, ordinal suffixes (``5th``)
    allowed, two-digit years as above.
Explicit format
    Text that is not ISO must match the format exactly (pandas ``exact=True``);
    numbers are formatted as integers first (so ``20240105`` reads with
    ``"%Y%m%d"``).
Excel serial numbers
    With ``excel_serial`` (default: on for the named conventions, off for explicit
    formats), numbers - or number-only text such as ``"45296"`` - from 20000 to
    80000 (1954-10-03 to 2119-01-11) are days since 1899-12-30 (the Windows 1900
    date system); a fractional part is kept as the time of day. Status
    ``"excel_serial"``, so the caller can record the correction. Other numbers are
    invalid.
Missing
    NaN/None/NaT, blank text and the tokens of
    :data:`~dryneedle_outcomes.normalize.vocabulary.MISSING_TEXT` (``"n/a"``,
    ``"unknown"``, ``"not recorded"``, ``"-"``, ``"?"`` ...) and ``"none"``:
    status ``"missing"``.
Invalid
    Everything else, including impossible calendar dates (``31/02/2024``), a
    month above 12 under the declared convention (``13/25/2024`` is *not* repaired
    by swapping), text with a UTC offset, and bools: ``NaT`` with status
    ``"invalid"``. Free text is never evaluated.

Statuses are ``"ok"``, ``"missing"``, ``"invalid"`` and ``"excel_serial"``; no
"repaired" status exists because nothing is repaired by guessing.

Examples
--------
>>> import pandas as pd
>>> from dryneedle_outcomes.normalize.dates import parse_dates
>>> parse_dates(pd.Series(["2024-01-05", "05/01/2024", "31/02/2024", 45296, None]),
...             convention="dayfirst")
        date        status
0 2024-01-05            ok
1 2024-01-05            ok
2        NaT       invalid
3 2024-01-05  excel_serial
4        NaT       missing
"""

from __future__ import annotations

import datetime as _dt
import re
from typing import Any

import numpy as np
import pandas as pd

from ..errors import MappingError
from .vocabulary.matcher import (
    MISSING_TEXT,
    as_series,
    factorize_values,
    is_number,
    normalize_text,
    spread,
)

__all__ = ["parse_dates", "CONVENTIONS", "EXCEL_SERIAL_RANGE", "EXCEL_EPOCH"]

CONVENTIONS: tuple[str, ...] = ("iso", "dayfirst", "monthfirst")
"""Named date conventions; any string containing ``%`` is an explicit strftime format."""

EXCEL_SERIAL_RANGE: tuple[float, float] = (20000.0, 80000.0)
"""Numbers in this closed range are read as Excel serial day numbers."""

EXCEL_EPOCH = pd.Timestamp("1899-12-30")
"""Day zero of the Windows (1900) Excel date system, as pandas and openpyxl use it."""

_ISO_DATE = re.compile(r"(\d{4})([-/.])(\d{1,2})\2(\d{1,2})")
_ISO_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?")
_NUMERIC_DATE = re.compile(
    r"(?P<a>\d{1,2})(?P<sep>[./-])(?P<b>\d{1,2})(?P=sep)(?P<y>\d{4}|\d{2})"
    r"(?:[ T](?P<time>\d{1,2}:\d{2}(?P<sec>:\d{2})?))?"
)
_SERIAL_TEXT = re.compile(r"\d{5}(?:\.\d+)?")
_ORDINAL = re.compile(r"(?<=\d)(?:st|nd|rd|th)\b")
_MONTH_FORMATS = (
    "%d %b %Y",
    "%d %B %Y",
    "%d-%b-%Y",
    "%d%b%Y",
    "%b %d %Y",
    "%B %d %Y",
    "%d %b %y",
    "%d %B %y",
    "%d-%b-%y",
    "%d%b%y",
)
_NS_MIN = pd.Timestamp.min
_NS_MAX = pd.Timestamp.max
# whole seconds inside the datetime64[ns] range, safe to cast to any coarser unit
_NS_LOWEST = np.datetime64("1677-09-21T00:12:44", "s")
_NS_HIGHEST = np.datetime64("2262-04-11T23:47:16", "s")


def _check_convention(convention: Any) -> str:
    if isinstance(convention, str) and (convention in CONVENTIONS or "%" in convention):
        return convention
    raise MappingError(
        f"unknown date convention {convention!r}; allowed values: "
        f"{', '.join(repr(c) for c in CONVENTIONS)} or an explicit strftime format such as "
        "'%d.%m.%Y'."
    )


def _to_datetime(texts: list[str], fmt: str) -> np.ndarray:
    """Parse ``texts`` with one format; NaT where they do not match (datetime64[ns])."""
    if not texts:
        return np.array([], dtype="datetime64[ns]")
    try:
        parsed = pd.to_datetime(pd.Series(texts, dtype=object), format=fmt, errors="coerce")
    except ValueError as exc:  # a malformed format such as "%Q"
        raise MappingError(f"date format {fmt!r} is not a valid strftime format: {exc}") from exc
    if isinstance(parsed.dtype, pd.DatetimeTZDtype):
        parsed = parsed.dt.tz_localize(None)
    return parsed.to_numpy(dtype="datetime64[ns]")


def _excel(serials: np.ndarray) -> np.ndarray:
    days = serials.astype(float)
    ns = np.round(days * 86_400e9).astype(np.int64)
    return EXCEL_EPOCH.to_datetime64().astype("datetime64[ns]") + ns.astype("timedelta64[ns]")


def _in_excel_range(x: np.ndarray) -> np.ndarray:
    lo, hi = EXCEL_SERIAL_RANGE
    return np.isfinite(x) & (x >= lo) & (x <= hi)


def _from_object(value: Any) -> np.datetime64 | None:
    """A datetime-like object as datetime64[ns]; None when out of range or not datetime-like."""
    try:
        ts = pd.Timestamp(value)
    except (ValueError, OverflowError, TypeError):
        return None
    if ts is pd.NaT:
        return None
    if ts.tzinfo is not None:
        ts = ts.tz_localize(None)
    if ts < _NS_MIN or ts > _NS_MAX:
        return None
    return ts.to_datetime64().astype("datetime64[ns]")


def _parse_datetime_column(series: pd.Series) -> pd.DataFrame:
    values = series
    if isinstance(values.dtype, pd.DatetimeTZDtype):
        values = values.dt.tz_localize(None)
    raw = values.to_numpy()
    nat = np.isnat(raw)
    status = np.where(nat, "missing", "ok").astype(object)
    if raw.dtype != np.dtype("datetime64[ns]"):
        lo = _NS_LOWEST.astype(raw.dtype)
        hi = _NS_HIGHEST.astype(raw.dtype)
        out_of_range = ~nat & ((raw < lo) | (raw > hi))
        status[out_of_range] = "invalid"
        raw = raw.copy()
        raw[out_of_range] = np.datetime64("NaT")
        raw = raw.astype("datetime64[ns]")
    return pd.DataFrame({"date": raw, "status": status}, index=series.index)


def parse_dates(
    values: Any, *, convention: str = "iso", excel_serial: bool | None = None
) -> pd.DataFrame:
    """Parse a column of dates under a declared convention.

    Parameters
    ----------
    values : pandas.Series
        Dates as text, datetimes, Excel serial numbers or a mix.
    convention : str, default "iso"
        ``"iso"``, ``"dayfirst"``, ``"monthfirst"`` or an explicit strftime format
        (e.g. ``"%d.%m.%Y"``). ISO text (``YYYY-MM-DD``) is read as ISO whatever
        the convention.
    excel_serial : bool, optional
        Read numbers from 20000 to 80000 as Excel serial dates. Default: True for
        the named conventions, False for an explicit format.

    Returns
    -------
    pandas.DataFrame
        Aligned to ``values.index``, columns ``date`` (``datetime64[ns]``, NaT unless
        parsed) and ``status`` (``"ok"``, ``"missing"``, ``"invalid"`` or
        ``"excel_serial"``).

    Raises
    ------
    MappingError
        If ``convention`` is not one of the allowed values, or an explicit format
        is not a valid strftime format.

    Notes
    -----
    Distinct values are grouped by shape and each group is parsed with one
    ``pandas.to_datetime(format=...)`` call; no value is parsed by guessing. See
    the module docstring for every rule.

    Examples
    --------
    >>> import pandas as pd
    >>> s = pd.Series(["2024-03-01", "03/01/2024", "3/1/24", "Jan 5 2024", "2024-02-30"])
    >>> parse_dates(s, convention="monthfirst")
            date   status
    0 2024-03-01       ok
    1 2024-03-01       ok
    2 2024-03-01       ok
    3 2024-01-05       ok
    4        NaT  invalid
    >>> parse_dates(pd.Series(["01.03.2024", "2024-03-01"]), convention="%d.%m.%Y")["date"]
    0   2024-03-01
    1   2024-03-01
    Name: date, dtype: datetime64[ns]
    >>> parse_dates(pd.Series(["01/03/2024"]), convention="iso")["status"].tolist()
    ['invalid']
    """
    series = as_series(values)
    parsed = _parse_unique(series, convention, excel_serial)
    if isinstance(parsed, pd.DataFrame):
        return parsed
    codes, dates, status = parsed
    return pd.DataFrame(
        {
            "date": spread(dates, codes, np.datetime64("NaT")),
            "status": spread(status, codes, "missing"),
        },
        index=series.index,
    )


def parse_dates_arrays(values: pd.Series, *, convention: str = "iso"
                       ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`parse_dates` as per-row arrays for the loader: ``date``, ``invalid`` and
    ``excel_serial`` (booleans instead of the status text, built per distinct value).

    Examples
    --------
    >>> date, invalid, serial = parse_dates_arrays(pd.Series(["2024-03-01", "x", "45000"]))
    >>> invalid.tolist(), serial.tolist()
    ([False, True, False], [False, False, True])
    """
    series = as_series(values)
    parsed = _parse_unique(series, convention, None)
    if isinstance(parsed, pd.DataFrame):
        status = parsed["status"].to_numpy(dtype=object)
        return parsed["date"].to_numpy(), status == "invalid", status == "excel_serial"
    codes, dates, status = parsed
    return (spread(dates, codes, np.datetime64("NaT")),
            spread(status == "invalid", codes, False),
            spread(status == "excel_serial", codes, False))


def _parse_unique(series: pd.Series, convention: str, excel_serial: bool | None
                  ) -> pd.DataFrame | tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The parse of a datetime column (a frame), or ``(codes, dates, status)`` with one
    date and status per distinct value."""
    convention = _check_convention(convention)
    explicit = convention not in CONVENTIONS
    allow_excel = (not explicit) if excel_serial is None else bool(excel_serial)
    if explicit:
        _to_datetime(["2000-01-01"], convention)  # validate the format up front

    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        return _parse_datetime_column(series)

    codes, uniques = factorize_values(series)
    n = len(uniques)
    dates = np.full(n, np.datetime64("NaT"), dtype="datetime64[ns]")
    status = np.full(n, "invalid", dtype=object)

    text_idx: list[int] = []
    text_val: list[str] = []
    number_idx: list[int] = []
    number_val: list[float] = []
    for i, u in enumerate(uniques):
        if isinstance(u, str):
            text_idx.append(i)
            text_val.append(u)
        elif is_number(u):
            number_idx.append(i)
            number_val.append(float(u))
        elif isinstance(u, (_dt.date, np.datetime64, pd.Timestamp)):
            converted = _from_object(u)
            if converted is not None:
                dates[i] = converted
                status[i] = "ok"

    if number_idx:
        _parse_numbers(
            np.array(number_idx), np.array(number_val), dates, status, convention, allow_excel
        )
    if text_idx:
        _parse_texts(np.array(text_idx), text_val, dates, status, convention, allow_excel)
    return codes, dates, status


def _parse_numbers(
    idx: np.ndarray,
    x: np.ndarray,
    dates: np.ndarray,
    status: np.ndarray,
    convention: str,
    allow_excel: bool,
) -> None:
    missing = np.isnan(x)
    status[idx[missing]] = "missing"
    done = missing.copy()
    if convention not in CONVENTIONS:
        integral = ~done & np.isfinite(x) & (np.mod(np.where(np.isfinite(x), x, 0), 1) == 0)
        if integral.any():
            texts = [str(int(v)) for v in x[integral]]
            parsed = _to_datetime(texts, convention)
            ok = ~np.isnat(parsed)
            dates[idx[integral][ok]] = parsed[ok]
            status[idx[integral][ok]] = "ok"
            done[np.flatnonzero(integral)[ok]] = True
    if allow_excel:
        serial = ~done & _in_excel_range(x)
        dates[idx[serial]] = _excel(x[serial])
        status[idx[serial]] = "excel_serial"


class _TextBatch:
    """The distinct text values being parsed, with what is still pending."""

    def __init__(
        self, idx: np.ndarray, texts: list[str], dates: np.ndarray, status: np.ndarray
    ) -> None:
        self.idx = idx
        self.texts = [re.sub(r"\s+", " ", t).strip() for t in texts]
        self.dates = dates
        self.status = status
        self.pending = np.ones(len(self.texts), dtype=bool)

    def mask(self, pattern: re.Pattern[str]) -> np.ndarray:
        return np.array([pattern.fullmatch(t) is not None for t in self.texts], dtype=bool)

    def assign(
        self,
        mask: np.ndarray,
        fmt: str,
        candidates: list[str] | None = None,
        *,
        final: bool = True,
    ) -> None:
        """Parse the pending texts selected by ``mask`` with one format.

        With ``final`` a text of this shape that fails its format is settled as
        invalid (e.g. ``31/02/2024``); otherwise it stays pending for the next format.
        """
        sel = np.flatnonzero(mask & self.pending)
        if len(sel) == 0:
            return
        src = candidates if candidates is not None else self.texts
        parsed = _to_datetime([src[k] for k in sel], fmt)
        ok = ~np.isnat(parsed)
        self.dates[self.idx[sel[ok]]] = parsed[ok]
        self.status[self.idx[sel[ok]]] = "ok"
        self.pending[sel if final else sel[ok]] = False


def _parse_texts(
    idx: np.ndarray,
    texts: list[str],
    dates: np.ndarray,
    status: np.ndarray,
    convention: str,
    allow_excel: bool,
) -> None:
    batch = _TextBatch(idx, texts, dates, status)
    missing = np.array(
        [(m := normalize_text(t)) in MISSING_TEXT or m == "none" for t in batch.texts],
        dtype=bool,
    )
    status[idx[missing]] = "missing"
    batch.pending &= ~missing

    # year-first text is ISO under every convention
    iso_canonical = [
        f"{m[1]}-{m[3]}-{m[4]}" if (m := _ISO_DATE.fullmatch(t)) else t for t in batch.texts
    ]
    batch.assign(batch.mask(_ISO_DATE), "%Y-%m-%d", iso_canonical)
    batch.assign(batch.mask(_ISO_DATETIME), "ISO8601")

    if convention not in CONVENTIONS:
        serial_like = batch.mask(_SERIAL_TEXT) if allow_excel else np.zeros(len(texts), bool)
        batch.assign(~serial_like, convention)
        batch.assign(serial_like, convention, final=False)
    else:
        _parse_named(batch, convention)

    if allow_excel:
        sel = np.flatnonzero(batch.mask(_SERIAL_TEXT) & batch.pending)
        if len(sel):
            x = np.array([float(batch.texts[k]) for k in sel])
            inside = _in_excel_range(x)
            dates[idx[sel[inside]]] = _excel(x[inside])
            status[idx[sel[inside]]] = "excel_serial"
            batch.pending[sel] = False
    # anything still pending keeps status "invalid"


def _parse_named(batch: _TextBatch, convention: str) -> None:
    matches = [_NUMERIC_DATE.fullmatch(t) for t in batch.texts]
    is_numeric = np.array([m is not None for m in matches], dtype=bool)
    if convention == "iso":
        # numeric day/month text is ambiguous and "iso" does not resolve it: invalid
        batch.pending &= ~is_numeric
    else:
        first, second = ("%d", "%m") if convention == "dayfirst" else ("%m", "%d")
        canonical = [
            (f"{m['a']}/{m['b']}/{m['y']}" + (f" {m['time']}" if m["time"] else "")) if m else ""
            for m in matches
        ]
        shapes = [(len(m["y"]), _time_kind(m)) if m else None for m in matches]
        for year_len, year in ((4, "%Y"), (2, "%y")):
            for time in ("", " %H:%M", " %H:%M:%S"):
                mask = np.array([shape == (year_len, time) for shape in shapes], dtype=bool)
                batch.assign(mask, f"{first}/{second}/{year}{time}", canonical)

    has_letters = np.array([re.search(r"[a-zA-Z]", t) is not None for t in batch.texts])
    month_text = [
        re.sub(r"\s+", " ", _ORDINAL.sub("", t.replace(",", " "))).strip() for t in batch.texts
    ]
    for fmt in _MONTH_FORMATS:
        if not (has_letters & batch.pending).any():
            break
        batch.assign(has_letters, fmt, month_text, final=False)


def _time_kind(m: re.Match[str]) -> str:
    if not m["time"]:
        return ""
    return " %H:%M:%S" if m["sec"] else " %H:%M"
