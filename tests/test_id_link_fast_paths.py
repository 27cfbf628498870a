"""The vectorised fast paths of ID folding and the cross-record date rule agree with the
plain pandas formulations they replace (kept here as the reference), including the
inputs that take the fallback paths (non-ASCII IDs, dates with a time of day)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from dryneedle_outcomes.normalize.ids import _SPACES, case_variants, fold_text
from dryneedle_outcomes.normalize.links import _before_running_max, patient_visit_order


def reference_fold(ids: pd.Index) -> pd.Index:
    out = ids.astype(str).str.lower()
    for space in _SPACES:
        out = out.str.replace(space, "", regex=False)
    return out


ID_TEXT = st.text(alphabet=st.sampled_from(list("aAbBzZ09-_ \t\n\r\xa0İßÉéΣσς")), max_size=6)


@settings(max_examples=200, deadline=None)
@given(st.lists(ID_TEXT, max_size=30))
def test_fold_text_matches_python_lower_and_space_removal(values):
    ids = pd.Index(values, dtype=object)
    assert fold_text(ids).tolist() == reference_fold(ids).tolist()
    series = pd.Series(values, dtype=object, index=np.arange(len(values)) * 3, name="id")
    got = fold_text(series)
    assert got.index.equals(series.index) and got.name == "id"
    assert got.tolist() == reference_fold(pd.Index(values, dtype=object)).tolist()


def test_non_ascii_ids_keep_python_case_mapping():
    # pyarrow's utf8_lower maps 'İ' to 'i'; Python to 'i' + combining dot: two IDs differ
    assert fold_text(pd.Index(["İD-1", "ID-1", "DN\xa01"])).tolist() == \
        ["i\u0307d-1", "id-1", "dn1"]


@settings(max_examples=100, deadline=None)
@given(st.lists(st.one_of(st.none(), ID_TEXT), max_size=30))
def test_case_variants_matches_reference(values):
    ids = pd.Series(values, dtype=object)
    got = case_variants(ids).tolist()
    present = ids.dropna().unique()  # reference: folded forms shared by distinct IDs
    folded = reference_fold(pd.Index(present, dtype=object))
    shared = set(pd.Index(present)[folded.duplicated(keep=False)])
    assert got == [v is not None and v in shared for v in values]


def testpatient_visit_order_is_lexsort():
    rng = np.random.default_rng(5)
    codes = rng.integers(0, 50, 2000)
    visits = rng.integers(0, 9, 2000).astype(float)
    np.testing.assert_array_equal(patient_visit_order(codes, visits),
                                  np.lexsort((visits, codes)))
    fractional = visits + 0.5  # not whole visits: the lexsort path
    np.testing.assert_array_equal(patient_visit_order(codes, fractional),
                                  np.lexsort((fractional, codes)))
    assert len(patient_visit_order(codes[:0], visits[:0])) == 0


def reference_before_running_max(group, stamp):
    s = pd.Series(stamp)
    previous = s.groupby(group, sort=False).cummax().groupby(group, sort=False).shift(1)
    return (s < previous).to_numpy()


def test_before_running_max_matches_grouped_cummax():
    rng = np.random.default_rng(6)
    group = np.sort(rng.integers(0, 300, 5000))
    day = np.datetime64("2019-01-07", "ns").astype(np.int64)
    whole_days = day + rng.integers(-400, 400, 5000) * 86_400 * 10**9  # fast path
    with_times = whole_days + rng.integers(0, 86_400, 5000) * 10**9  # fallback path
    for stamp in (whole_days, with_times):
        expected = reference_before_running_max(group, stamp)
        assert expected.any()
        np.testing.assert_array_equal(_before_running_max(group, stamp), expected)
    assert len(_before_running_max(group[:0], whole_days[:0])) == 0
