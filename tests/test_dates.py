"""Tests for dryneedle_outcomes.normalize.dates.parse_dates."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dryneedle_outcomes.errors import MappingError
from dryneedle_outcomes.normalize import dates as dates_module
from dryneedle_outcomes.normalize.dates import parse_dates

T = pd.Timestamp
NAT = pd.NaT

# value, convention, expected date (None for NaT), expected status
CASES = [
    # ISO under every convention
    ("2024-01-05", "iso", "2024-01-05", "ok"),
    ("2024-01-05", "dayfirst", "2024-01-05", "ok"),
    ("2024-01-05", "monthfirst", "2024-01-05", "ok"),
    ("2024-01-05", "%d.%m.%Y", "2024-01-05", "ok"),
    ("2024-1-5", "iso", "2024-01-05", "ok"),
    (" 2024-01-05 ", "iso", "2024-01-05", "ok"),
    ("2024/01/05", "iso", "2024-01-05", "ok"),
    ("2024.01.05", "dayfirst", "2024-01-05", "ok"),
    ("2024-01-05T10:30", "iso", "2024-01-05 10:30", "ok"),
    ("2024-01-05 10:30:15", "monthfirst", "2024-01-05 10:30:15", "ok"),
    ("2024-01/05", "iso", None, "invalid"),
    ("2024-02-30", "iso", None, "invalid"),
    ("2024-13-01", "dayfirst", None, "invalid"),
    ("2023-02-29", "iso", None, "invalid"),
    ("2024-02-29", "iso", "2024-02-29", "ok"),
    ("2024-01-05+01:00", "iso", None, "invalid"),
    # day-first
    ("05/01/2024", "dayfirst", "2024-01-05", "ok"),
    ("5/1/2024", "dayfirst", "2024-01-05", "ok"),
    ("05.01.2024", "dayfirst", "2024-01-05", "ok"),
    ("05-01-2024", "dayfirst", "2024-01-05", "ok"),
    ("31/01/2024", "dayfirst", "2024-01-31", "ok"),
    ("05/01/2024 14:30", "dayfirst", "2024-01-05 14:30", "ok"),
    ("05/01/2024 14:30:05", "dayfirst", "2024-01-05 14:30:05", "ok"),
    ("31/02/2024", "dayfirst", None, "invalid"),
    ("01/13/2024", "dayfirst", None, "invalid"),
    ("05/01-2024", "dayfirst", None, "invalid"),
    # month-first
    ("01/05/2024", "monthfirst", "2024-01-05", "ok"),
    ("1/5/2024", "monthfirst", "2024-01-05", "ok"),
    ("12/31/2024", "monthfirst", "2024-12-31", "ok"),
    ("31/12/2024", "monthfirst", None, "invalid"),
    ("02/30/2024", "monthfirst", None, "invalid"),
    # iso does not resolve numeric day/month text
    ("05/01/2024", "iso", None, "invalid"),
    ("31/12/2024", "iso", None, "invalid"),
    # two-digit years: %y rule (69-99 -> 19xx, 00-68 -> 20xx)
    ("05/01/24", "dayfirst", "2024-01-05", "ok"),
    ("05/01/68", "dayfirst", "2068-01-05", "ok"),
    ("05/01/69", "dayfirst", "1969-01-05", "ok"),
    ("01/05/99", "monthfirst", "1999-01-05", "ok"),
    # month names (any named convention)
    ("05 Jan 2024", "iso", "2024-01-05", "ok"),
    ("5 January 2024", "dayfirst", "2024-01-05", "ok"),
    ("05-JAN-2024", "monthfirst", "2024-01-05", "ok"),
    ("05JAN2024", "iso", "2024-01-05", "ok"),
    ("Jan 5, 2024", "iso", "2024-01-05", "ok"),
    ("January 5th 2024", "dayfirst", "2024-01-05", "ok"),
    ("5th Jan 24", "dayfirst", "2024-01-05", "ok"),
    ("31 Feb 2024", "iso", None, "invalid"),
    ("Smarch 5 2024", "iso", None, "invalid"),
    # explicit formats
    ("05.01.2024", "%d.%m.%Y", "2024-01-05", "ok"),
    ("5.1.2024", "%d.%m.%Y", "2024-01-05", "ok"),
    ("05/01/2024", "%d.%m.%Y", None, "invalid"),
    ("32.01.2024", "%d.%m.%Y", None, "invalid"),
    ("05 Jan 2024", "%d.%m.%Y", None, "invalid"),
    ("20240105", "%Y%m%d", "2024-01-05", "ok"),
    ("05/01/24", "%d/%m/%y", "2024-01-05", "ok"),
    # excel serials
    (45296, "iso", "2024-01-05", "excel_serial"),
    (45296.0, "dayfirst", "2024-01-05", "excel_serial"),
    (45296.5, "monthfirst", "2024-01-05 12:00", "excel_serial"),
    ("45296", "dayfirst", "2024-01-05", "excel_serial"),
    (20000, "iso", "1954-10-03", "excel_serial"),
    (80000, "iso", "2119-01-11", "excel_serial"),
    (19999, "iso", None, "invalid"),
    (80001, "iso", None, "invalid"),
    ("12345", "iso", None, "invalid"),
    (12.0, "iso", None, "invalid"),
    (45296, "%d.%m.%Y", None, "invalid"),
    (20240105, "%Y%m%d", "2024-01-05", "ok"),
    # missing and nonsense
    (None, "iso", None, "missing"),
    (np.nan, "iso", None, "missing"),
    (pd.NaT, "iso", None, "missing"),
    ("", "dayfirst", None, "missing"),
    ("  ", "dayfirst", None, "missing"),
    ("n/a", "iso", None, "missing"),
    ("unknown", "iso", None, "missing"),
    ("not recorded", "%d.%m.%Y", None, "missing"),
    ("-", "iso", None, "missing"),
    ("?", "iso", None, "missing"),
    ("none", "iso", None, "missing"),
    ("garbage", "dayfirst", None, "invalid"),
    ("=TODAY()", "dayfirst", None, "invalid"),
    ("+2024-01-05", "iso", None, "invalid"),
    ("@2024-01-05", "iso", None, "invalid"),
    ("yesterday", "iso", None, "invalid"),
    (True, "iso", None, "invalid"),
    # datetime objects in an object column
    (dt.date(2024, 1, 5), "dayfirst", "2024-01-05", "ok"),
    (dt.datetime(2024, 1, 5, 8, 0), "iso", "2024-01-05 08:00", "ok"),
    (T("2024-01-05 08:00"), "iso", "2024-01-05 08:00", "ok"),
    (T("2024-01-05 08:00", tz="Europe/Berlin"), "iso", "2024-01-05 08:00", "ok"),
    (np.datetime64("2024-01-05"), "monthfirst", "2024-01-05", "ok"),
    (dt.date(3000, 1, 1), "iso", None, "invalid"),
]


@pytest.mark.parametrize(("value", "convention", "expected", "status"), CASES)
def test_parse_dates_table(value: object, convention: str, expected: str | None,
                           status: str) -> None:
    out = parse_dates(pd.Series([value], dtype=object), convention=convention)
    assert list(out.columns) == ["date", "status"]
    assert out["date"].dtype == "datetime64[ns]"
    assert out["status"].iloc[0] == status
    if expected is None:
        assert out["date"].iloc[0] is NAT
    else:
        assert out["date"].iloc[0] == T(expected)


def test_mixed_column_is_grouped_and_aligned() -> None:
    s = pd.Series(
        ["2024-01-05", "06/01/2024", 45298, None, "31/02/2024", "07 Jan 2024", "2024-01-05"],
        index=[10, 11, 12, 13, 14, 15, 16],
        dtype=object,
    )
    out = parse_dates(s, convention="dayfirst")
    assert list(out.index) == [10, 11, 12, 13, 14, 15, 16]
    assert out["status"].tolist() == [
        "ok", "ok", "excel_serial", "missing", "invalid", "ok", "ok",
    ]
    expected = pd.to_datetime(
        ["2024-01-05", "2024-01-06", "2024-01-07", None, None, "2024-01-07", "2024-01-05"]
    )
    pd.testing.assert_series_equal(
        out["date"], pd.Series(expected, index=s.index, name="date"), check_freq=False
    )


def test_same_text_different_conventions() -> None:
    s = pd.Series(["03/04/2024"])
    assert parse_dates(s, convention="dayfirst")["date"].iloc[0] == T("2024-04-03")
    assert parse_dates(s, convention="monthfirst")["date"].iloc[0] == T("2024-03-04")
    assert parse_dates(s, convention="iso")["status"].iloc[0] == "invalid"


@pytest.mark.parametrize("unit", ["ns", "us", "ms", "s"])
def test_datetime_columns_pass_through(unit: str) -> None:
    s = pd.Series(
        pd.to_datetime(["2024-01-05", None, "2024-02-01 13:00"], format="ISO8601")
    ).astype(f"datetime64[{unit}]")
    s.index = [3, 4, 5]
    out = parse_dates(s, convention="dayfirst")
    assert out["date"].dtype == "datetime64[ns]"
    assert list(out.index) == [3, 4, 5]
    assert out["status"].tolist() == ["ok", "missing", "ok"]
    assert out["date"].iloc[0] == T("2024-01-05")
    assert out["date"].iloc[2] == T("2024-02-01 13:00")


def test_datetime_column_out_of_ns_range_is_invalid() -> None:
    s = pd.Series(np.array(["2024-01-05", "3000-01-01"], dtype="datetime64[s]"))
    out = parse_dates(s)
    assert out["status"].tolist() == ["ok", "invalid"]
    assert out["date"].iloc[1] is NAT


def test_tz_aware_column_keeps_wall_time() -> None:
    s = pd.Series(pd.to_datetime(["2024-01-05 08:00"]).tz_localize("America/New_York"))
    out = parse_dates(s)
    assert out["date"].dtype == "datetime64[ns]"
    assert out["date"].iloc[0] == T("2024-01-05 08:00")


def test_numeric_column_of_excel_serials() -> None:
    out = parse_dates(pd.Series([45296.0, np.nan, 45297.0, 5.0]))
    assert out["status"].tolist() == ["excel_serial", "missing", "excel_serial", "invalid"]
    assert out["date"].iloc[2] == T("2024-01-06")


def test_excel_serial_switch() -> None:
    s = pd.Series([45296, "45296"], dtype=object)
    off = parse_dates(s, convention="dayfirst", excel_serial=False)
    assert off["status"].tolist() == ["invalid", "invalid"]
    on = parse_dates(s, convention="%d.%m.%Y", excel_serial=True)
    assert on["status"].tolist() == ["excel_serial", "excel_serial"]
    assert (on["date"] == T("2024-01-05")).all()


def test_string_and_categorical_dtypes() -> None:
    for dtype in ("string", "category"):
        s = pd.Series(["05/01/2024", None, "2024-01-06"], dtype=dtype)
        out = parse_dates(s, convention="dayfirst")
        assert out["status"].tolist() == ["ok", "missing", "ok"]
        assert out["date"].iloc[0] == T("2024-01-05")


def test_empty_input() -> None:
    out = parse_dates(pd.Series([], dtype=object))
    assert list(out.columns) == ["date", "status"]
    assert len(out) == 0
    assert out["date"].dtype == "datetime64[ns]"


@pytest.mark.parametrize("bad", ["ISO", "european", "ymd", "", None, 3])
def test_unknown_convention_raises(bad: object) -> None:
    with pytest.raises(MappingError) as info:
        parse_dates(pd.Series(["2024-01-05"]), convention=bad)  # type: ignore[arg-type]
    message = str(info.value)
    for allowed in ("'iso'", "'dayfirst'", "'monthfirst'", "strftime"):
        assert allowed in message


def test_malformed_format_raises() -> None:
    with pytest.raises(MappingError, match="%Q"):
        parse_dates(pd.Series(["2024-01-05"]), convention="%Q-%m")


@pytest.mark.slow
def test_distinct_values_are_parsed_once(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []
    original = dates_module._to_datetime

    def counting(texts: list[str], fmt: str):
        calls.append(len(texts))
        return original(texts, fmt)

    monkeypatch.setattr(dates_module, "_to_datetime", counting)
    s = pd.Series(["2024-01-05", "06/01/2024", "07/01/2024", None] * 100_000)
    out = parse_dates(s, convention="dayfirst")
    assert sum(calls) == 3  # one ISO text + two day-first texts, each parsed once
    assert len(out) == 400_000
    assert out["date"].iloc[399_998] == T("2024-01-07")
    assert out["status"].iloc[399_999] == "missing"


@settings(max_examples=200, deadline=None)
@given(st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2200, 12, 31)))
def test_property_round_trip_each_convention(day: dt.date) -> None:
    ts = T(day)
    texts = {
        "iso": day.isoformat(),
        "dayfirst": day.strftime("%d/%m/%Y"),
        "monthfirst": day.strftime("%m/%d/%Y"),
        "%d.%m.%Y": day.strftime("%d.%m.%Y"),
    }
    for convention, text in texts.items():
        out = parse_dates(pd.Series([text]), convention=convention)
        assert out["status"].iloc[0] == "ok"
        assert out["date"].iloc[0] == ts


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=20000, max_value=80000))
def test_property_excel_serial_matches_pandas_origin(serial: int) -> None:
    out = parse_dates(pd.Series([serial]))
    assert out["status"].iloc[0] == "excel_serial"
    assert out["date"].iloc[0] == pd.to_datetime(serial, unit="D", origin="1899-12-30")


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=20))
def test_property_any_text_never_raises(text: str) -> None:
    out = parse_dates(pd.Series([text]), convention="dayfirst")
    status = out["status"].iloc[0]
    assert status in {"ok", "missing", "invalid", "excel_serial"}
    assert (status in {"ok", "excel_serial"}) == (out["date"].iloc[0] is not NAT)
