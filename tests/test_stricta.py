"""dno.stricta_table on a hand-built cohort: counts by hand, medians and quartiles by NumPy.

The expected quartiles are Hyndman & Fan (1996) type 7 (R's ``quantile(type = 7)``),
written out here and checked against ``numpy.percentile`` (its default ``linear``) on
the values typed below, never taken from the package; the counts are read off the table
of visits by hand (comments).
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pytest

import dryneedle_outcomes as dno
from dryneedle_outcomes.errors import AnalysisError

INF = np.inf
# patient, visit, day, needled, needles, twitch, muscles, technique, retention, sore lo, hi
ROWS = [
    # dry needling: A three sessions, B two (missed visit 3), C not needled at visit 1
    ("A", 0, 0, False, 0, 0, None, None, None, np.nan, np.nan),
    ("A", 1, 7, True, 4, 2, "L gastroc, FDB", "pistoning", None, 24.0, 48.0),
    ("A", 2, 14, True, 6, 0, "L soleus", "pistoning", None, 0.0, 0.0),
    ("A", 3, 21, True, 5, 3, "L gastroc + QP", "fast-in fast-out", None, 12.0, 12.0),
    ("A", 4, 84, False, 0, 0, None, None, None, np.nan, np.nan),
    ("B", 0, 0, False, 0, 0, None, None, None, np.nan, np.nan),
    ("B", 1, 5, True, 3, 1, "R abductor hallucis; plantar fascia", "static", 10.0, 48.0, INF),
    ("B", 2, 12, True, 8, 1, "R abductor hallucis", "no manipulation", 15.0, 6.0, 6.0),
    ("B", 4, 84, False, 0, 0, None, None, None, np.nan, np.nan),
    ("C", 0, 0, False, 0, 0, None, None, None, np.nan, np.nan),
    ("C", 1, 7, False, 0, 0, None, None, None, np.nan, np.nan),
    ("C", 2, 14, True, 7, 4, "b/l gastrocs", "FIFO", None, 48.0, 48.0),
    ("C", 3, 22, True, 5, 0, "soleus", None, None, np.nan, np.nan),
    # sham (non-penetrating): attended visits are sessions received, nothing inserted
    ("D", 0, 0, False, 0, 0, None, None, None, np.nan, np.nan),
    ("D", 1, 7, False, 0, 0, None, None, None, 0.0, 0.0),
    ("D", 2, 14, False, 0, 0, None, None, None, 12.0, 12.0),
    ("D", 3, 21, False, 0, 0, None, None, None, np.nan, np.nan),
    ("E", 0, 0, False, 0, 0, None, None, None, np.nan, np.nan),
    ("E", 1, 6, False, 0, 0, None, None, None, 24.0, 24.0),
    ("E", 2, 13, False, 0, 0, None, None, None, 0.0, 0.0),
]
COLUMNS = ["patient_id", "visit", "day", "needled", "needles", "twitch_responses", "muscles",
           "technique", "retention_min", "soreness_lower_h", "soreness_upper_h"]


def _cohort(drop=()) -> dno.Cohort:
    visits = pd.DataFrame(ROWS, columns=COLUMNS).drop(columns=list(drop))
    visits["first_step_pain"] = 50.0
    # a carried column naming the practitioner: C was needled by a second one
    visits["clinician"] = np.where(visits["patient_id"] == "C", "Y", "X")
    patients = pd.DataFrame({"patient_id": list("ABCDE"),
                             "arm": ["dry_needling"] * 3 + ["sham"] * 2})
    return dno.load_cohort(visits, patients)


@pytest.fixture(scope="module")
def result() -> dno.StrictaTable:
    return dno.stricta_table(_cohort(), planned_sessions=3)


def _dose(res, arm, quantity) -> pd.Series:
    d = res.dose
    return d[(d["arm"] == arm) & (d["quantity"] == quantity)].iloc[0]


def _quantile7(values, p: float) -> float:
    """Hyndman & Fan (1996) type 7, written out: h = (n - 1) p, interpolate between the
    order statistics around h (R: quantile(x, p, type = 7)). NumPy's percentile is the
    same for finite values but gives NaN when an upper bound is inf even at a weight of
    0 (inf * 0), so an open soreness interval needs the definition itself."""
    x = np.sort(np.asarray(values, dtype=float))
    h = (len(x) - 1) * p
    lo = int(np.floor(h))
    frac = h - lo
    return float(x[lo]) if frac == 0 else float(x[lo] + frac * (x[lo + 1] - x[lo]))


def _type7(values) -> dict:
    v = np.asarray(values, dtype=float)
    if np.isfinite(v).all():   # the definition above agrees with NumPy's
        assert [_quantile7(v, p) for p in (0.25, 0.5, 0.75)] == pytest.approx(
            np.percentile(v, [25, 50, 75]), rel=1e-12)
    return {"n": len(v), "median": _quantile7(v, 0.5), "q1": _quantile7(v, 0.25),
            "q3": _quantile7(v, 0.75), "min": v.min(), "max": v.max()}


@pytest.mark.parametrize(("arm", "quantity", "values"), [
    ("dry_needling", "sessions_per_patient", [3, 2, 2]),       # A 1-3, B 1-2, C 2-3
    ("sham", "sessions_per_patient", [3, 2]),                  # D 1-3, E 1-2
    ("dry_needling", "interval_days", [7, 7, 7, 8]),           # A 7, 7; B 7; C 22 - 14
    ("sham", "interval_days", [7, 7, 7]),
    ("dry_needling", "needles_per_session", [4, 6, 5, 3, 8, 7, 5]),
    ("dry_needling", "twitch_responses_per_session", [2, 0, 3, 1, 1, 4, 0]),
    ("dry_needling", "retention_min", [10, 15]),
    # soreness among sessions followed by soreness (upper bound > 0)
    ("dry_needling", "soreness_lower_h", [24, 12, 48, 6, 48]),
    ("dry_needling", "soreness_upper_h", [48, 12, INF, 6, 48]),
    ("sham", "soreness_lower_h", [12, 24]),
    ("sham", "soreness_upper_h", [12, 24]),
])
def test_dose_statistics_match_numpy_type7(result, arm, quantity, values):
    got = _dose(result, arm, quantity)
    want = _type7(values)
    assert int(got["n"]) == want["n"]
    for key in ("median", "q1", "q3", "min", "max"):
        # exact arithmetic on a handful of values: equal to the last bit but for the
        # interpolation, which both sides do in float64
        assert got[key] == pytest.approx(want[key], rel=1e-12), key


def test_sham_arm_has_no_needle_counts(result):
    assert int(_dose(result, "sham", "needles_per_session")["n"]) == 0
    row = result.table[result.table["characteristic"].str.startswith("Needles inserted")]
    assert row["sham"].iloc[0] == "no needle inserted"


# muscle: (patients, sessions) in the dry-needling arm; 3 patients and 7 sessions record them
MUSCLE_COUNTS = {
    "gastrocnemius": (2, 3),            # A v1, A v3, C v2
    "soleus": (2, 2),                   # A v2, C v3
    "abductor_hallucis": (1, 2),        # B v1, B v2
    "flexor_digitorum_brevis": (1, 1),  # A v1
    "quadratus_plantae": (1, 1),        # A v3
    "plantar_fascia": (1, 1),           # B v1
}


def test_each_muscle_its_own_row_with_hand_counts(result):
    m = result.muscles[result.muscles["arm"] == "dry_needling"].set_index("muscle")
    assert set(m.index) == set(MUSCLE_COUNTS)
    for muscle, (patients, sessions) in MUSCLE_COUNTS.items():
        assert int(m.loc[muscle, "patients"]) == patients, muscle
        assert int(m.loc[muscle, "sessions"]) == sessions, muscle
    assert (m["patients_denominator"] == 3).all()
    assert (m["sessions_denominator"] == 7).all()
    assert m.loc["quadratus_plantae", "muscle_group"] == "intrinsic_foot"
    assert m.loc["soleus", "muscle_group"] == "calf"
    sham = result.muscles[result.muscles["arm"] == "sham"]
    assert (sham["sessions"] == 0).all() and (sham["sessions_denominator"] == 0).all()
    row = result.table[result.table["characteristic"].str.startswith(
        "Muscle needled: quadratus plantae")]
    assert row["dry_needling"].iloc[0] == "1/3 (33%); 1/7 (14%)"


@pytest.mark.parametrize(("variable", "value", "sessions", "denominator"), [
    ("laterality", "left", 3, 6),        # A x3; C v3 has no side written
    ("laterality", "right", 2, 6),       # B x2
    ("laterality", "bilateral", 1, 6),   # C v2 "b/l"
    ("technique", "pistoning", 4, 6),    # A x3, C v2 (FIFO); C v3 not recorded
    ("technique", "static", 2, 6),       # B ("static", "no manipulation")
    ("soreness", "sore", 5, 6),          # C v3 not recorded
])
def test_category_counts(result, variable, value, sessions, denominator):
    c = result.categories
    row = c[(c["arm"] == "dry_needling") & (c["variable"] == variable) & (c["value"] == value)]
    assert int(row["sessions"].iloc[0]) == sessions
    assert int(row["denominator"].iloc[0]) == denominator


def test_sham_soreness_counts(result):
    c = result.categories
    row = c[(c["arm"] == "sham") & (c["variable"] == "soreness") & (c["value"] == "sore")]
    assert (int(row["sessions"].iloc[0]), int(row["denominator"].iloc[0])) == (2, 4)


def test_display_rows(result):
    t = result.table.set_index("characteristic")
    assert t.loc["Patients allocated", "dry_needling"] == "3"
    assert t.loc["Sessions planned per patient", "sham"] == "3"
    assert t.loc["Sessions with at least one local twitch response", "dry_needling"] == \
        "5/7 (71%)"   # 2, 3, 1, 1, 4 of 2, 0, 3, 1, 1, 4, 0
    assert t.loc["Side needled (sessions): left", "dry_needling"] == "3/6 (50%)"
    assert t.loc["Sessions followed by soreness", "sham"] == "2/4 (50%)"
    # the sham inserts no needle: its per-needled-session rows say so
    assert t.loc["Side needled (sessions): left", "sham"] == "no needled session"
    assert t.loc["Needle retention time (min), median [IQR] (range)", "sham"] == \
        "no needled session"
    assert t.loc["Practitioners (distinct, from the data)", "dry_needling"] == "2"   # X, Y
    assert t.loc["Practitioners (distinct, from the data)", "sham"] == "1"
    # every STRICTA item the data do not carry is stated, not left out
    for item in ("2c", "2g", "4a", "5", "6a-b"):
        row = result.table[(result.table["item"] == item)
                           & ~result.table["characteristic"].str.startswith("Practitioners")]
        assert (row[["dry_needling", "sham"]] == "not recorded").all().all(), item
    assert any(line.startswith("2c ") for line in result.not_recorded)


def test_planned_sessions_unknown_is_said():
    res = dno.stricta_table(_cohort())
    row = res.table[res.table["characteristic"] == "Sessions planned per patient"]
    assert row["dry_needling"].iloc[0].startswith("not given")
    assert res.planned_sessions is None


def test_missing_columns_say_not_recorded():
    res = dno.stricta_table(_cohort(drop=("technique", "retention_min", "twitch_responses")))
    t = res.table.set_index("characteristic")
    assert t.loc["Technique (sessions)", "dry_needling"] == "not recorded"
    assert t.loc["Needle retention time (min), median [IQR] (range)", "sham"] == "not recorded"
    assert any("Technique" in line for line in res.not_recorded)
    assert any("twitch" in line for line in res.not_recorded)


@pytest.mark.parametrize("bad", [0, 2.5, True, "6"])
def test_bad_planned_sessions(bad):
    with pytest.raises(AnalysisError, match="planned_sessions"):
        dno.stricta_table(_cohort(), planned_sessions=bad)


def test_result_contract(result):
    assert "STRICTA" in result.summary()
    assert "<table" in result._repr_html_()
    assert list(result.tables()) == ["stricta"]
    ax = result.plot()
    # one bar per listed muscle for the one arm with needled sessions (sham: none)
    assert len(ax.patches) == len(result.muscles["muscle"].unique())
    widths = {round(p.get_width(), 6) for p in ax.patches}
    assert round(100.0 * 3 / 7, 6) in widths   # gastrocnemius: 3 of 7 sessions
    assert "Sham" in ax.get_title()
