"""soreness_duration(): session rows, groupings and models, on hand-built data and R.

Golden values: tests/reference/relief/reference.json ("soreness"), made by
make_reference.R from sample_soreness.csv (the sample cohort's soreness reports as
soreness_events exports them): survfit interval2 medians (EM tightened to 1e-10, as in
test_time_to_relief.py) overall and by session number, and survreg's interval-censored
Weibull model of durations > 0 h on session number and needles.

Tolerances: medians exactly (both put the median at a Turnbull-interval midpoint or an
exact time; rtol 1e-12); AFT coefficients and scale 1e-5 relative, naive SE 1e-4
relative, log-likelihood 1e-6 absolute (iterative fits, as in test_survival_aft.py).
The robust (patient-clustered) SE is not compared with survreg: survival 3.5-3 uses the
wrong sign of the log-scale score for interval-censored rows (see test_survival_aft.py).
"""

from __future__ import annotations

import importlib.util
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import dryneedle_outcomes as dno
from dryneedle_outcomes.errors import AnalysisError
from dryneedle_outcomes.stats.survival.turnbull import turnbull
from dryneedle_outcomes.survival.soreness import soreness_events

REF_DIR = Path(__file__).parent / "reference" / "relief"
REF = json.loads((REF_DIR / "reference.json").read_text())["soreness"]
_spec = importlib.util.spec_from_file_location("export_relief_events_s",
                                               REF_DIR / "export_relief_events.py")
export = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(export)


@pytest.fixture(scope="module")
def sample(sample_cohort):
    return sample_cohort


@pytest.fixture(scope="module")
def result(sample):
    return dno.soreness_duration(sample, n_boot=30, seed=4, progress=False)


def tiny() -> dno.Cohort:
    """Two needled patients and one sham patient, soreness written per visit."""
    rows = [
        # patient, visit, needled, needles, lower, upper
        ("a", 0, False, 0, None, None),
        ("a", 1, True, 4, 24.0, 48.0),
        ("a", 2, False, 0, None, None),          # withheld: not a needling session
        ("a", 3, True, 6, 12.0, 12.0),
        ("a", 4, True, 2, None, None),           # needled, no report
        ("b", 0, False, 0, None, None),
        ("b", 1, True, 8, 48.0, math.inf),       # still sore when last asked
        ("b", 2, True, 1, 0.0, 0.0),             # no soreness
        ("c", 0, False, 0, None, None),
        ("c", 1, False, 0, None, None),
    ]
    a = pd.DataFrame(rows, columns=["patient_id", "visit", "needled", "needles",
                                    "soreness_lower_h", "soreness_upper_h"])
    a["first_step_pain"] = 60.0
    a["vas_pain"] = 50.0
    patients = pd.DataFrame({"patient_id": ["a", "b", "c"],
                             "arm": ["dry_needling", "dry_needling", "sham"]})
    return dno.load_cohort(a, patients)


def test_session_rows_number_the_needling_sessions():
    events, unused = soreness_events(tiny())
    assert events[["patient_id", "visit", "session"]].values.tolist() == [
        ["a", 1, 1], ["a", 3, 2], ["b", 1, 1], ["b", 2, 2]]
    assert events["upper"].tolist() == [48.0, 12.0, math.inf, 0.0]
    assert events["ongoing"].tolist() == [False, False, True, False]
    assert unused[["patient_id", "visit"]].values.tolist() == [["a", 4]]
    assert unused["reason"].iloc[0] == "needled, soreness not reported"


def test_every_session_row_is_accounted_for(sample):
    events, unused = soreness_events(sample)
    a = sample.assessments
    needled = a["needled"].fillna(False).to_numpy(dtype=bool)
    reported = a["soreness_lower_h"].notna().to_numpy()
    assert len(events) == reported.sum()
    assert len(events) + len(unused) == (needled | reported).sum()
    assert len(events) == REF["n"]


def test_medians_against_r(result):
    med = result.median.set_index("arm")
    assert med.loc["dry_needling", "estimate"] == pytest.approx(REF["median"], rel=1e-12)
    by = result.by_session[result.by_session["arm"] == "dry_needling"]
    assert by["session"].tolist() == REF["session"]
    np.testing.assert_allclose(by["estimate"], REF["median_by_session"], rtol=1e-12)


def test_duration_model_against_r(result):
    m = result.model
    assert m.n == REF["aft_n"]
    np.testing.assert_allclose(m.table["coef"], REF["aft_coef"], rtol=1e-5)
    np.testing.assert_allclose(m.naive_std_error[:3], REF["aft_naive_se"], rtol=1e-4)
    assert m.scale == pytest.approx(REF["aft_scale"], rel=1e-5)
    assert m.loglik == pytest.approx(REF["aft_loglik"], abs=1e-6)
    assert m.robust      # patient-clustered sandwich
    tr = result.time_ratios.set_index("term")
    # the sample was simulated with soreness shrinking by 7% per session
    assert tr.loc["session", "estimate"] < 1 and tr.loc["session", "ci_upper"] < 1


def test_groupings_use_turnbull_on_their_rows(result):
    ev = result.events
    g = ev[(ev["arm"] == "dry_needling") & (ev["session"] == 2)]
    fit = turnbull(g["lower"].to_numpy(), g["upper"].to_numpy())
    row = result.by_session.query("arm == 'dry_needling' and session == 2").iloc[0]
    assert row["estimate"] == fit.median()
    assert row["n_sessions"] == len(g) and row["n_patients"] == g["patient_id"].nunique()
    # needle-count groups hold needled sessions only (sham sessions insert 0 needles)
    assert result.by_needles["n_sessions"].sum() == ev["needles"].gt(0).sum()
    any_ = result.any_soreness.set_index("arm").loc["dry_needling"]
    dn = ev[ev["arm"] == "dry_needling"]
    assert any_["n_with_soreness"] == (dn["upper"] > 0).sum()
    c = result.curve
    assert ((c["ci_lower"] <= c["estimate"] + 1e-12)
            & (c["estimate"] <= c["ci_upper"] + 1e-12)).all()


def test_reproducible_with_a_seed(sample):
    a = dno.soreness_duration(sample, n_boot=20, seed=9, progress=False)
    b = dno.soreness_duration(sample, n_boot=20, seed=9, progress=False)
    pd.testing.assert_frame_equal(a.median, b.median)
    pd.testing.assert_frame_equal(a.by_session, b.by_session)


def test_summary_html_and_plot(result):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    text = result.summary()
    assert "Median hours of soreness" in text and "By session number" in text
    assert "<table" in result._repr_html_()
    fig, ax = plt.subplots()
    assert result.plot(ax=ax) is ax
    plt.close(fig)


def test_errors(sample):
    with pytest.raises(AnalysisError, match="n_boot"):
        dno.soreness_duration(sample, n_boot=-2)
    with pytest.raises(AnalysisError, match="conf_level"):
        dno.soreness_duration(sample, conf_level=95)
    c = dno.load_cohort(pd.DataFrame({"patient_id": ["a", "a"], "visit": [0, 1],
                                      "first_step_pain": [60.0, 50.0]}),
                        pd.DataFrame({"patient_id": ["a"], "arm": ["sham"]}))
    with pytest.raises(AnalysisError, match="soreness"):
        dno.soreness_duration(c)


def test_by_arm_median_ci_is_the_curve_bootstrap_of_that_arm(result):
    # the by-arm medians reuse the curve's bootstrap: the same rows, patients and seed
    # (seed + i over the sorted arms) as a bootstrap of that arm alone
    from dryneedle_outcomes.stats.survival.turnbull_boot import turnbull_bootstrap

    ev = result.events
    for i, arm in enumerate(sorted(ev["arm"].unique())):
        g = ev[ev["arm"] == arm]
        alone = turnbull_bootstrap(g["lower"], g["upper"], times=[0.0],
                                   cluster=g["patient_id"], n_boot=30, seed=4 + i,
                                   progress=False).median.iloc[0]
        row = result.median.set_index("arm").loc[arm]
        assert (row["ci_lower"], row["ci_upper"]) == (alone["ci_lower"], alone["ci_upper"])


def test_unknown_duration_report_is_left_out_of_the_duration_model():
    # "sore for an unknown time", (0, inf) hours, carries no information on the
    # duration: the model is the one fitted without that report (survreg refuses it)
    sim = dno.simulate_tables(n_patients=60, seed=5)
    a = sim.assessments.copy()
    row = a.index[(a["needled"]) & (a["soreness_upper_h"] > 0)][0]
    unknown, missing = a.copy(), a.copy()
    unknown.loc[row, ["soreness_lower_h", "soreness_upper_h"]] = [0.0, math.inf]
    missing.loc[row, ["soreness_lower_h", "soreness_upper_h"]] = [np.nan, np.nan]
    res = dno.soreness_duration(dno.load_cohort(unknown, sim.patients), n_boot=0)
    ref = dno.soreness_duration(dno.load_cohort(missing, sim.patients), n_boot=0)
    assert any("(0, inf) hours" in n for n in res.notes)
    # the same rows reach the same iterative fit: equal to rounding
    pd.testing.assert_frame_equal(res.time_ratios, ref.time_ratios, rtol=1e-12)
    assert len(res.events) == len(ref.events) + 1
