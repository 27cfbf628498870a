"""Tests for dryneedle_outcomes.normalize.soreness.parse_soreness."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dryneedle_outcomes.normalize import soreness as soreness_module
from dryneedle_outcomes.normalize.soreness import (
    RULE_REVERSED_OR_NEGATIVE,
    RULE_UNRECOGNISED,
    SORENESS_RULES_DOC,
    parse_soreness,
)

INF = math.inf
COLUMNS = ["soreness_lower_h", "soreness_upper_h", "soreness_status"]

OK_CASES = [
    # exact numbers (hours)
    ("36", 36, 36),
    ("36.5", 36.5, 36.5),
    ("36.", 36, 36),
    (".5h", 0.5, 0.5),
    ("0", 0, 0),
    ("1,5 days", 36, 36),
    ("1,5", 1.5, 1.5),
    # units
    ("36h", 36, 36),
    ("36 h", 36, 36),
    ("36 hr", 36, 36),
    ("36hrs", 36, 36),
    ("3 hrs.", 3, 3),
    ("36 hours", 36, 36),
    ("1 hour", 1, 1),
    ("5 hour(s)", 5, 5),
    ("2d", 48, 48),
    ("2 d.", 48, 48),
    ("2 day", 48, 48),
    ("2 days", 48, 48),
    ("2 day(s)", 48, 48),
    ("30 min", 0.5, 0.5),
    ("30 mins", 0.5, 0.5),
    ("90 minutes", 1.5, 1.5),
    ("1 minute", 1 / 60, 1 / 60),
    ("1 week", 168, 168),
    ("2 weeks", 336, 336),
    ("1 wk", 168, 168),
    ("2wks", 336, 336),
    # spelled numbers
    ("a day", 24, 24),
    ("an hour", 1, 1),
    ("one day", 24, 24),
    ("two days", 48, 48),
    ("Three Days", 72, 72),
    ("fourteen days", 336, 336),
    ("twelve hours", 12, 12),
    ("a week", 168, 168),
    ("half a day", 12, 12),
    ("half day", 12, 12),
    ("a half day", 12, 12),
    ("half an hour", 0.5, 0.5),
    ("one and a half days", 36, 36),
    ("a day and a half", 36, 36),
    ("1 and a half days", 36, 36),
    # sums
    ("1 day 6 hours", 30, 30),
    ("1d 6h", 30, 30),
    ("1 day and 6 hours", 30, 30),
    ("1 day, 6 hours", 30, 30),
    # ranges
    ("24-48h", 24, 48),
    ("24–48 hrs", 24, 48),
    ("24—48h", 24, 48),
    ("24 - 48 h", 24, 48),
    ("  24  -  48   H ", 24, 48),
    ("24 to 48 hours", 24, 48),
    ("1-2 days", 24, 48),
    ("1–2d", 24, 48),
    ("1d-2d", 24, 48),
    ("1 or 2 days", 24, 48),
    ("between 1 and 2 days", 24, 48),
    ("between 24 and 48 hours", 24, 48),
    ("one to two days", 24, 48),
    ("12h-2 days", 12, 48),
    ("24-48", 24, 48),
    ("24-24h", 24, 24),
    ("1,5-2 days", 36, 48),
    # lower bounds (still sore)
    (">48h", 48, INF),
    ("> 48 hours", 48, INF),
    (">=48h", 48, INF),
    ("≥48h", 48, INF),
    ("more than 2 days", 48, INF),
    ("More Than Two Days", 48, INF),
    ("over 48 hours", 48, INF),
    ("greater than 48h", 48, INF),
    ("longer than 2 days", 48, INF),
    ("at least 2 days", 48, INF),
    ("beyond 48h", 48, INF),
    ("48h+", 48, INF),
    ("48+ h", 48, INF),
    ("2+ days", 48, INF),
    ("48h or more", 48, INF),
    ("2 days or longer", 48, INF),
    ("still sore at 48h", 48, INF),
    ("still sore after 2 days", 48, INF),
    ("ongoing >48h", 48, INF),
    ("ongoing (>48h)", 48, INF),
    ("ongoing 48h", 48, INF),
    ("persisting at 2 days", 48, INF),
    # unbounded
    ("ongoing", 0, INF),
    ("ONGOING", 0, INF),
    ("Ongoing.", 0, INF),
    ("persisting", 0, INF),
    ("persistent", 0, INF),
    ("continuing", 0, INF),
    ("unresolved", 0, INF),
    ("not resolved", 0, INF),
    ("not yet resolved", 0, INF),
    ("still sore", 0, INF),
    ("still present", 0, INF),
    ("still sore at the next contact", 0, INF),
    ("still sore at next visit", 0, INF),
    ("still sore at next session", 0, INF),
    ("Still sore at the next appointment", 0, INF),
    ("still sore at next follow up", 0, INF),
    # upper bounds
    ("<24h", 0, 24),
    ("< 24 hours", 0, 24),
    ("<=24h", 0, 24),
    ("≤ 24 h", 0, 24),
    ("less than a day", 0, 24),
    ("less than 1 day", 0, 24),
    ("under 24 hours", 0, 24),
    ("within 24h", 0, 24),
    ("up to 3 days", 0, 72),
    ("no more than 2 days", 0, 48),
    ("at most 12h", 0, 12),
    ("same day", 0, 24),
    # none
    ("none", 0, 0),
    ("None", 0, 0),
    ("no soreness", 0, 0),
    ("No soreness", 0, 0),
    ("nil", 0, 0),
    ("no", 0, 0),
    ("not sore", 0, 0),
    ("no pain", 0, 0),
    ("no DOMS", 0, 0),
    ("zero hours", 0, 0),
    # overnight
    ("overnight", 8, 16),
    ("Overnight", 8, 16),
    # qualifiers ignored
    ("approx 24h", 24, 24),
    ("approx. 24h", 24, 24),
    ("approximately 2 days", 48, 48),
    ("about 2 days", 48, 48),
    ("~2 days", 48, 48),
    ("c. 24h", 24, 24),
    ("sore for 2 days", 48, 48),
    ("lasted 2 days", 48, 48),
    ("2 days post needling", 48, 48),
    ("2 days post-needling", 48, 48),
    ("(24-48h)", 24, 48),
    # scientific notation (what str(float) produces)
    ("1e-05", 1e-05, 1e-05),
    ("1e+16", 1e16, 1e16),
    ("1e-05-2.0h", 1e-05, 2.0),
]


@pytest.mark.parametrize(("text", "lower", "upper"), OK_CASES)
def test_accepted_forms(text: str, lower: float, upper: float) -> None:
    out = parse_soreness(pd.Series([text]))
    assert list(out.columns) == COLUMNS
    assert out["soreness_status"].iloc[0] == "ok"
    assert out["soreness_lower_h"].iloc[0] == pytest.approx(lower)
    assert out["soreness_upper_h"].iloc[0] == pytest.approx(upper)


MISSING_CASES = ["", "   ", None, np.nan, pd.NA, "unknown", "Unknown", "not recorded",
                 "Not Recorded", "n/a", "N/A", "na", "NR", "not known", "not assessed", "?",
                 "-", "--", "---", "missing"]


@pytest.mark.parametrize("value", MISSING_CASES)
def test_missing_forms(value: object) -> None:
    out = parse_soreness(pd.Series([value], dtype=object), reasons=True)
    row = out.iloc[0]
    assert row["soreness_status"] == "missing"
    assert np.isnan(row["soreness_lower_h"]) and np.isnan(row["soreness_upper_h"])
    assert row["soreness_reason"] == "missing"


REVERSED_OR_NEGATIVE = ["48-24h", "48–24 hrs", "2-1 days", "48 to 24 hours", "3 - 2 days",
                        "-24h", "-5", "- 5 hours", "-1-2 days", "24--48", ">-5h"]


@pytest.mark.parametrize("text", REVERSED_OR_NEGATIVE)
def test_reversed_or_negative_is_invalid(text: str) -> None:
    out = parse_soreness(pd.Series([text]), reasons=True)
    row = out.iloc[0]
    assert row["soreness_status"] == "invalid"
    assert np.isnan(row["soreness_lower_h"]) and np.isnan(row["soreness_upper_h"])
    assert row["soreness_reason"] == RULE_REVERSED_OR_NEGATIVE


UNRECOGNISED = ["gibberish", "a few hours", "couple of days", "two", "24/48", "1 1/2 days",
                "=24", "=1+1", "+24h", "@24h", "4 months", "36m", "1e999", "inf", "2 days 3",
                "sore", "hours", "overnight-ish", "'; DROP TABLE x"]


@pytest.mark.parametrize("text", UNRECOGNISED)
def test_unrecognised_text_is_invalid(text: str) -> None:
    out = parse_soreness(pd.Series([text]), reasons=True)
    row = out.iloc[0]
    assert row["soreness_status"] == "invalid"
    assert np.isnan(row["soreness_lower_h"]) and np.isnan(row["soreness_upper_h"])
    assert row["soreness_reason"] == RULE_UNRECOGNISED


def test_numeric_dtypes_are_exact_hours() -> None:
    s = pd.Series([36, 0, 12.5, np.nan, -3.0, np.inf], index=[10, 11, 12, 13, 14, 15])
    out = parse_soreness(s, reasons=True)
    assert list(out.index) == [10, 11, 12, 13, 14, 15]
    np.testing.assert_array_equal(
        out["soreness_lower_h"].to_numpy(), [36, 0, 12.5, np.nan, np.nan, np.nan]
    )
    np.testing.assert_array_equal(
        out["soreness_upper_h"].to_numpy(), [36, 0, 12.5, np.nan, np.nan, np.nan]
    )
    assert out["soreness_status"].tolist() == ["ok", "ok", "ok", "missing", "invalid", "invalid"]
    assert out["soreness_reason"].tolist() == [
        None, None, None, "missing", RULE_REVERSED_OR_NEGATIVE, RULE_UNRECOGNISED,
    ]


def test_nullable_integer_dtype() -> None:
    out = parse_soreness(pd.Series([24, None, 48], dtype="Int64"))
    assert out["soreness_status"].tolist() == ["ok", "missing", "ok"]
    np.testing.assert_array_equal(out["soreness_upper_h"].to_numpy(), [24, np.nan, 48])


def test_bool_dtype_is_invalid() -> None:
    out = parse_soreness(pd.Series([True, False]))
    assert out["soreness_status"].tolist() == ["invalid", "invalid"]
    assert out["soreness_lower_h"].isna().all()


def test_mixed_object_column() -> None:
    s = pd.Series([36, "24-48h", 12.5, True, None, ">48h"], dtype=object)
    out = parse_soreness(s)
    assert out["soreness_status"].tolist() == ["ok", "ok", "ok", "invalid", "missing", "ok"]
    np.testing.assert_array_equal(
        out["soreness_lower_h"].to_numpy(), [36, 24, 12.5, np.nan, np.nan, 48]
    )
    np.testing.assert_array_equal(
        out["soreness_upper_h"].to_numpy(), [36, 48, 12.5, np.nan, np.nan, np.inf]
    )


def test_output_dtypes_and_index_alignment() -> None:
    s = pd.Series(["24-48h", "ongoing", "x"], index=["a", "b", "c"])
    out = parse_soreness(s)
    assert list(out.index) == ["a", "b", "c"]
    assert out["soreness_lower_h"].dtype == np.float64
    assert out["soreness_upper_h"].dtype == np.float64
    assert out["soreness_status"].dtype == object
    assert "soreness_reason" not in out


@pytest.mark.parametrize("dtype", ["string", "category"])
def test_string_and_categorical_dtypes(dtype: str) -> None:
    s = pd.Series(["24-48h", None, "2 days", "24-48h"], dtype=dtype)
    out = parse_soreness(s)
    assert out["soreness_status"].tolist() == ["ok", "missing", "ok", "ok"]
    np.testing.assert_array_equal(out["soreness_upper_h"].to_numpy(), [48, np.nan, 48, 48])


def test_list_input_is_accepted() -> None:
    out = parse_soreness(["1 day", "2 days"])
    assert out["soreness_lower_h"].tolist() == [24.0, 48.0]


def test_empty_series() -> None:
    out = parse_soreness(pd.Series([], dtype=object))
    assert list(out.columns) == COLUMNS
    assert len(out) == 0


def test_each_distinct_value_is_parsed_once(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    original = soreness_module._parse_text

    def counting(text: str):
        calls.append(text)
        return original(text)

    monkeypatch.setattr(soreness_module, "_parse_text", counting)
    s = pd.Series(["24-48h", "ongoing", "2 days", None] * 50_000)
    out = parse_soreness(s)
    assert sorted(calls) == ["2 days", "24-48h", "ongoing"]
    assert len(out) == 200_000
    assert out["soreness_upper_h"].iloc[4] == 48.0
    assert out["soreness_upper_h"].iloc[5] == np.inf
    assert out["soreness_status"].iloc[7] == "missing"


def test_rules_doc_lists_forms() -> None:
    for token in ("24-48h", "ongoing", "overnight", "half a day", "1,5", "invalid", "missing"):
        assert token in SORENESS_RULES_DOC


# --------------------------------------------------------------------------- properties

finite_non_negative = st.one_of(
    st.integers(min_value=0, max_value=10**15),
    st.floats(min_value=0, allow_nan=False, allow_infinity=False),
)


@settings(max_examples=300, deadline=None)
@given(finite_non_negative)
def test_property_str_of_number_is_exact(x: float) -> None:
    out = parse_soreness(pd.Series([str(x)]))
    assert out["soreness_status"].iloc[0] == "ok"
    assert out["soreness_lower_h"].iloc[0] == float(x)
    assert out["soreness_upper_h"].iloc[0] == float(x)


@settings(max_examples=300, deadline=None)
@given(finite_non_negative)
def test_property_numeric_value_is_exact(x: float) -> None:
    out = parse_soreness(pd.Series([x], dtype=object))
    assert out["soreness_status"].iloc[0] == "ok"
    assert out["soreness_lower_h"].iloc[0] == float(x)
    assert out["soreness_upper_h"].iloc[0] == float(x)


@settings(max_examples=300, deadline=None)
@given(finite_non_negative, finite_non_negative)
def test_property_range_in_hours(a: float, b: float) -> None:
    if float(a) >= float(b):
        a, b = b, a
    if float(a) == float(b):
        return
    out = parse_soreness(pd.Series([f"{a}-{b}h"]))
    assert out["soreness_status"].iloc[0] == "ok"
    assert out["soreness_lower_h"].iloc[0] == float(a)
    assert out["soreness_upper_h"].iloc[0] == float(b)
    reversed_out = parse_soreness(pd.Series([f"{b}-{a}h"]))
    assert reversed_out["soreness_status"].iloc[0] == "invalid"


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=0, max_value=1000), st.integers(min_value=1, max_value=1000))
def test_property_day_ranges(a: int, width: int) -> None:
    out = parse_soreness(pd.Series([f"{a} to {a + width} days"]))
    assert out["soreness_lower_h"].iloc[0] == 24.0 * a
    assert out["soreness_upper_h"].iloc[0] == 24.0 * (a + width)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=30))
def test_property_any_text_gives_a_consistent_row(text: str) -> None:
    out = parse_soreness(pd.Series([text]))
    row = out.iloc[0]
    assert row["soreness_status"] in {"ok", "missing", "invalid"}
    if row["soreness_status"] == "ok":
        assert 0 <= row["soreness_lower_h"] <= row["soreness_upper_h"]
    else:
        assert np.isnan(row["soreness_lower_h"]) and np.isnan(row["soreness_upper_h"])
