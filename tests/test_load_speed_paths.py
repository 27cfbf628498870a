"""The loader's fast paths give exactly what the plain pandas forms give.

Each fast path (per-row arrays instead of status text, pyarrow for ASCII IDs, one int64
key for duplicates, the repeated-header shortcut) is compared with the slow form it
replaces, on values chosen to hit its fallbacks too.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from dryneedle_outcomes.normalize.assessments import _duplicated_keys
from dryneedle_outcomes.normalize.dates import parse_dates, parse_dates_arrays
from dryneedle_outcomes.normalize.ids import _strip, _text_order
from dryneedle_outcomes.normalize.soreness import parse_soreness, parse_soreness_arrays
from dryneedle_outcomes.normalize.source_rows import repeated_header_mask
from dryneedle_outcomes.normalize.vocabulary import map_muscles, map_muscles_arrays

DATES = ["2024-03-01", "03/01/2024", "45000", "2024-02-30", None, "NA", "junk",
         "2024-03-01", 45001.0, pd.Timestamp("2024-01-05")]
SORENESS = ["24-48h", ">48h", "none", "sore-ish", "-5", None, "36", "24-48h", "ongoing"]
MUSCLES = ["soleus", "tib post / soleus", None, "calf", "Gastroc + soleus", "none", "soleus"]


@pytest.mark.parametrize("convention", ["iso", "dayfirst", "monthfirst"])
def test_parse_dates_arrays_match_parse_dates(convention):
    values = pd.Series(DATES, dtype=object)
    frame = parse_dates(values, convention=convention)
    dates, invalid, serial = parse_dates_arrays(values, convention=convention)
    np.testing.assert_array_equal(dates, frame["date"].to_numpy())
    np.testing.assert_array_equal(invalid, (frame["status"] == "invalid").to_numpy())
    np.testing.assert_array_equal(serial, (frame["status"] == "excel_serial").to_numpy())
    assert serial.any() and invalid.any()


def test_parse_dates_arrays_on_a_datetime_column():
    values = pd.Series(pd.to_datetime(["2024-03-01", None]))
    dates, invalid, serial = parse_dates_arrays(values)
    np.testing.assert_array_equal(dates, parse_dates(values)["date"].to_numpy())
    assert not invalid.any() and not serial.any()


@pytest.mark.parametrize("values", [pd.Series(SORENESS, dtype=object),
                                    pd.Series([36.0, -1.0, np.nan, 12.5])])
def test_parse_soreness_arrays_match_parse_soreness(values):
    frame = parse_soreness(values)
    lower, upper, ok, invalid, coded = parse_soreness_arrays(values)
    np.testing.assert_array_equal(lower, frame["soreness_lower_h"].to_numpy())
    np.testing.assert_array_equal(upper, frame["soreness_upper_h"].to_numpy())
    np.testing.assert_array_equal(ok, (frame["soreness_status"] == "ok").to_numpy())
    np.testing.assert_array_equal(invalid, (frame["soreness_status"] == "invalid").to_numpy())
    if values.dtype == object:
        codes, uniques = pd.factorize(values, use_na_sentinel=True)
        np.testing.assert_array_equal(coded[0], codes)
        assert list(coded[1]) == list(uniques)
    else:
        assert coded is None


def test_map_muscles_arrays_match_map_muscles():
    values = pd.Series(MUSCLES, dtype=object)
    frame = map_muscles(values)
    muscles, unmatched, has_unmatched, (codes, uniques) = map_muscles_arrays(values)
    assert pd.Series(muscles, dtype=object).equals(frame["muscles"])
    assert pd.Series(unmatched, dtype=object).equals(frame["unmatched"])
    np.testing.assert_array_equal(has_unmatched, frame["unmatched"].notna().to_numpy())
    assert has_unmatched.any()
    expected_codes, expected_uniques = pd.factorize(values, use_na_sentinel=True)
    np.testing.assert_array_equal(codes, expected_codes)
    assert list(uniques) == list(expected_uniques)


@pytest.mark.parametrize("ids", [
    [" DN-1", "DN-2", "DN-2\t", "", "dn-1", "\x1cDN-3\x1f", "DN-10"],  # ASCII: pyarrow
    ["DN-1\xa0", "\u3000DN-2", "Ée", "DN-1", "e"],  # Unicode spaces: Python's strip
    ["b\ud800", " a"],  # a lone surrogate pyarrow cannot hold
])
def test_id_strip_and_order_match_python(ids):
    uniques = pd.Series(ids, dtype=object)
    stripped, unchanged = _strip(uniques)
    assert stripped.tolist() == uniques.str.strip().tolist()
    assert not unchanged
    texts = np.array(ids, dtype=object)
    np.testing.assert_array_equal(_text_order(texts), np.argsort(texts, kind="stable"))


def test_id_strip_reports_untouched_ids():
    stripped, unchanged = _strip(pd.Series(["DN-2", "DN-1"], dtype=object))
    assert unchanged and stripped.tolist() == ["DN-2", "DN-1"]


@pytest.mark.parametrize("with_missing", [False, True])
def test_duplicated_keys_match_frame_duplicated(with_missing):
    ids = pd.Series(pd.Categorical(["P1", "P2", "P1", "P3", "P2", "P1"]))
    visits = pd.Series([0, 1, 0, 2, 1, 1], dtype="Int64")
    if with_missing:
        visits.iloc[3] = pd.NA
        ids.iloc[4] = np.nan
    data = pd.DataFrame({"patient_id": ids, "visit": visits})
    keys = data[["patient_id", "visit"]]
    expected = keys.duplicated(keep=False).to_numpy() & keys.notna().all(axis=1).to_numpy()
    np.testing.assert_array_equal(_duplicated_keys(data), expected)
    assert expected.any()


def _naive_header_mask(frame: pd.DataFrame) -> np.ndarray:
    hits = np.zeros(len(frame), dtype=np.int64)
    for name in frame.columns:
        if frame[name].dtype == object and isinstance(name, str):
            hits += (frame[name] == name).to_numpy(dtype=bool, na_value=False)
    need = max(2, (frame.shape[1] + 1) // 2) if frame.shape[1] > 1 else 1
    return hits >= need


def test_repeated_header_shortcut_matches_counting_every_column():
    rng = np.random.default_rng(3)
    names = ["id", "visit", "date", "pain", "notes"]
    found = 0
    for _ in range(200):
        n = 12
        frame = pd.DataFrame({c: rng.choice([c, "x", None], size=n).astype(object)
                              for c in names})
        if rng.random() < 0.5:  # a typed column cannot hold a header
            frame["pain"] = rng.random(n)
        expected = _naive_header_mask(frame)
        np.testing.assert_array_equal(repeated_header_mask(frame), expected)
        found += int(expected.sum())
    assert found > 0
    typed = pd.DataFrame({"id": ["id", "P1"], "visit": [0, 1], "pain": [1.0, 2.0]})
    assert not repeated_header_mask(typed).any()
