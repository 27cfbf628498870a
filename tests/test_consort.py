"""The CONSORT 2025 participant flow (issue 14 item 1) and the observed data (item 3).

A hand-built cohort whose every count is known (dropouts, a discontinuation, a
withdrawal, an intermittent missed visit, a register row rejected by the ledger) is
counted by ``dno.consort_flow`` and compared, number by number, with a hand count
written next to each assertion. The sample cohort and the results of real analyses
check the identities (allocated = analysed + excluded) and that the counts equal the
ledger's. The observed-data table is checked against an independent numpy computation
and against R (``aggregate`` and ``quantile(type = 7)``; tests/reference/observed).
"""

from __future__ import annotations

import dataclasses
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import dryneedle_outcomes as dno
from dryneedle_outcomes.plots.consort import BOX_GID, box_count

REFERENCE = Path(__file__).parent / "reference" / "observed"


def _hand_cohort(with_events: bool = True) -> dno.Cohort:
    """Visits 0 (baseline), 1 and 2 (needling sessions), 3 (follow-up).

    P1 dn: every visit, needled at 1 and 2.           sessions 2
    P2 dn: visits 0, 1; nothing after: lost from 2.   sessions 1
    P3 dn: every visit; discontinued at 2 (soreness). sessions 1 (2 is after stopping)
    P4 sham: baseline only: lost from 1.              sessions 0
    P5 sham: visits 0-2; withdrew at 3 (moved away).  sessions 2
    P6 sham: visits 0, 1, 3 (missed 2, came back).    sessions 1
    P7: register row without an arm: rejected by the ledger (missing_arm).
    """
    pts = pd.DataFrame({"patient_id": [f"P{i}" for i in range(1, 8)],
                        "arm": ["dry_needling"] * 3 + ["sham"] * 3 + [None]})
    rows = ([("P1", v) for v in (0, 1, 2, 3)] + [("P2", v) for v in (0, 1)]
            + [("P3", v) for v in (0, 1, 2, 3)] + [("P4", 0)]
            + [("P5", v) for v in (0, 1, 2)] + [("P6", v) for v in (0, 1, 3)])
    a = pd.DataFrame(rows, columns=["patient_id", "visit"])
    k = a["patient_id"].str[1:].astype(int)
    a["first_step_pain"] = 70.0 - 5 * a["visit"] + (7 * k) % 11 + (a["visit"] * k) % 3
    a.loc[(a["patient_id"] == "P6") & (a["visit"] == 3), "first_step_pain"] = np.nan
    a["needled"] = a["visit"].isin([1, 2]) & a["patient_id"].isin(["P1", "P2", "P3"])
    ice = pd.DataFrame({"patient_id": ["P3", "P5"], "visit": [2, 3],
                        "event": ["discontinued_treatment", "withdrew_from_study"],
                        "reason": ["soreness", "moved away"]})
    return dno.load_cohort(a, pts, intercurrent_events=ice if with_events else None,
                           errors="quarantine")


def _count(flow, stage, box, arm="all", reason=None, analysis=None, visit=None):
    c = flow.counts
    rows = c[(c["stage"] == stage) & (c["box"] == box) & (c["arm"] == arm)]
    rows = rows[rows["reason"].isna()] if reason is None else rows[rows["reason"] == reason]
    if analysis is not None:
        rows = rows[rows["analysis"] == analysis]
    if visit is not None:
        rows = rows[rows["visit"] == visit]
    assert len(rows) == 1, (stage, box, arm, reason, rows)
    return rows.iloc[0]


@pytest.fixture(scope="module")
def hand():
    return _hand_cohort()


def test_enrolment_and_the_ledger(hand):
    flow = dno.consort_flow(hand, assessed=10,
                            excluded_before_randomisation={"declined": 3, "ineligible": 1})
    # 7 register rows read, 1 rejected (P7: no arm), 6 randomised
    assert flow.randomised == 6
    assert flow.randomised == int(hand.quality.counts.set_index("table").loc[
        "patients", "kept"])
    rej = _count(flow, "enrolment", "register rows rejected", reason="missing_arm")
    assert rej["count"] == 1 and rej["source"].startswith("ledger: rejected rows")
    assert _count(flow, "enrolment", "register rows rejected")["count"] == 1
    assert _count(flow, "enrolment", "assessed for eligibility")["count"] == 10
    assert _count(flow, "enrolment", "excluded before randomisation")["count"] == 4
    assert _count(flow, "enrolment", "excluded before randomisation",
                  reason="declined")["count"] == 3
    check = flow.check()
    assert check["holds"].all()
    assert "assessed = excluded before randomisation + randomised" in set(check["identity"])
    assert any("patients register were rejected" in n for n in flow.notes)


def test_enrolment_not_recorded_and_a_wrong_total_warns(hand):
    flow = dno.consort_flow(hand)
    row = _count(flow, "enrolment", "assessed for eligibility")
    assert np.isnan(row["count"]) and row["source"] == "not recorded"
    assert flow.total("enrolment", "assessed for eligibility") is None
    with pytest.warns(dno.DataQualityWarning, match="assessed = excluded"):
        bad = dno.consort_flow(hand, assessed=10, excluded_before_randomisation={"x": 1})
    assert not bad.check()["holds"].all() and bad.warnings


def test_allocation_sessions_and_not_received(hand):
    flow = dno.consort_flow(hand)
    assert flow.allocated == {"dry_needling": 3, "sham": 3}
    # received: dn P1, P2, P3; sham P5, P6 (P4 attended no session)
    assert _count(flow, "allocation", "received allocated intervention",
                  "dry_needling")["count"] == 3
    assert _count(flow, "allocation", "received allocated intervention", "sham")["count"] == 2
    assert _count(flow, "allocation", "did not receive allocated intervention", "sham",
                  reason="lost to follow-up before the first session")["count"] == 1
    sessions = flow.sessions().set_index("arm")
    # dn sessions [2, 1, 1] (P3's visit-2 session is after discontinuing); sham [0, 2, 1]
    assert sessions.loc["dry_needling"].tolist() == [1.0, 1.0, 2.0]
    assert sessions.loc["sham"].tolist() == [1.0, 0.0, 2.0]


def test_follow_up_with_the_intercurrent_events(hand):
    flow = dno.consort_flow(hand, primary_visit=3)
    # lost: dn P2 from visit 2 (no further assessment); sham P4 from 1, P5 withdrew at 3
    assert _count(flow, "follow_up", "lost to follow-up", "dry_needling")["count"] == 1
    assert _count(flow, "follow_up", "lost to follow-up", "sham")["count"] == 2
    moved = _count(flow, "follow_up", "lost to follow-up", "sham", reason="withdrew: moved "
                   "away")
    assert moved["visit"] == 3 and "withdrew_from_study" in moved["source"]
    p2 = _count(flow, "follow_up", "lost to follow-up", "dry_needling",
                reason="no further assessment (reason not recorded)")
    assert p2["visit"] == 2 and p2["source"].startswith("assessments")
    disc = _count(flow, "follow_up", "discontinued intervention", "dry_needling",
                  reason="soreness")
    assert disc["count"] == 1 and disc["visit"] == 2
    assert _count(flow, "follow_up", "discontinued intervention", "sham")["count"] == 0
    # outcome at visit 3: dn P1, P3; sham none (P6 came but without a value)
    assert _count(flow, "follow_up", "first_step_pain assessed at visit 3",
                  "dry_needling")["count"] == 2
    assert _count(flow, "follow_up", "first_step_pain assessed at visit 3", "sham")["count"] == 0
    bv = flow.by_visit.set_index(["arm", "visit"])
    assert bv["attended"].loc["dry_needling"].tolist() == [3, 3, 2, 2]
    assert bv["attended"].loc["sham"].tolist() == [3, 2, 1, 1]
    assert bv["assessed"].loc["sham"].tolist() == [3, 2, 1, 0]
    assert bv["lost"].loc["sham"].tolist() == [0, 1, 0, 1]
    assert bv["lost_so_far"].loc["dry_needling"].tolist() == [0, 0, 1, 1]
    assert bv["discontinued_so_far"].loc["dry_needling"].tolist() == [0, 0, 1, 1]
    p = flow.patients.set_index("patient_id")
    assert np.isnan(p.loc["P6", "lost_visit"])            # missed visit 2, came back


def test_follow_up_without_an_intercurrent_events_table():
    flow = dno.consort_flow(_hand_cohort(with_events=False))
    # P5 is lost from visit 3 by the assessments alone; nobody discontinued; P3 had 2
    p5 = _count(flow, "follow_up", "lost to follow-up", "sham",
                reason="no further assessment (reason not recorded)", visit=3)
    assert p5["count"] == 1
    assert _count(flow, "follow_up", "discontinued intervention", "dry_needling")["count"] == 0
    assert flow.patients.set_index("patient_id").loc["P3", "sessions"] == 2


def test_analysed_and_excluded_per_analysis(hand):
    given = pd.DataFrame({"patient_id": ["P1", "P3", "P5", "P6"]})
    fit = dno.fit_trajectory(hand, model="random_intercept", adjust=(),
                             time="visit")
    flow = dno.consort_flow(hand, analyses={"given": given, "trajectory": fit})
    a = flow.analyses.set_index(["analysis", "arm"])
    assert a.loc[("given", "dry_needling"), ["analysed", "excluded"]].tolist() == [2, 1]
    assert a.loc[("given", "sham"), ["analysed", "excluded"]].tolist() == [2, 1]
    # adjust=() models every visit: every patient has a value, so everyone is analysed
    assert a.loc[("trajectory", "sham"), "analysed"] == fit.frame.data.loc[
        fit.frame.data["arm"] == "sham", "patient_id"].nunique() == 3
    assert (flow.analyses["allocated"]
            == flow.analyses["analysed"] + flow.analyses["excluded"]).all()
    with pytest.raises(dno.AnalysisError, match="not in this cohort's register"):
        dno.consort_flow(hand, analyses={"x": pd.DataFrame({"patient_id": ["Z9"]})})
    with pytest.raises(dno.AnalysisError, match="cannot read who"):
        dno.consort_flow(hand, analyses={"x": 3})


@pytest.fixture(scope="module")
def sample_analyses(sample_cohort):
    return {"mmrm": dno.fit_trajectory(sample_cohort, model="mmrm"),
            "responders_observed": dno.responders(sample_cohort, missing="observed"),
            "responders_nri": dno.responders(sample_cohort),
            "relief": dno.time_to_relief(sample_cohort, n_boot=0, progress=False)}


def test_sample_cohort_identities_and_ledger(sample_cohort, sample_analyses):
    flow = dno.consort_flow(sample_cohort, analyses=sample_analyses, primary_visit=6)
    check = flow.check()
    assert check["holds"].all(), check[~check["holds"]]
    counts = sample_cohort.quality.counts.set_index("table")
    assert flow.randomised == counts.loc["patients", "kept"] == len(sample_cohort.patients)
    assert flow.allocated == sample_cohort.patients["arm"].astype(str).value_counts().to_dict()
    a = flow.analyses.set_index(["analysis", "arm"])
    mmrm = sample_analyses["mmrm"]
    assert a.loc["mmrm", "analysed"].sum() == mmrm.n_patients
    res = sample_analyses["responders_observed"].table
    den = res[res["visit"] == 6].set_index("arm")["denominator"]
    assert a.loc["responders_observed", "analysed"].to_dict() == den.to_dict()
    assert a.loc["relief", "analysed"].sum() == sample_analyses["relief"].n_patients
    # every patient counted once in the follow-up table's allocation
    bv = flow.by_visit
    assert (bv.groupby("arm")["allocated"].first().sum()) == flow.randomised
    assert (bv["attended"] <= bv["allocated"]).all()
    # attended per visit equals an independent count of the assessment records
    a0 = sample_cohort.assessments.merge(sample_cohort.patients[["patient_id", "arm"]])
    hand = a0.groupby([a0["arm"].astype(str), "visit"])["patient_id"].nunique()
    assert bv.set_index(["arm", "visit"])["attended"].to_dict() == hand.to_dict()


def test_reference_based_analysed_patients():
    cohort = dno.simulate_cohort(n_patients=24, seed=3, n_sessions=3)
    res = dno.reference_based(cohort, "first_step_pain", method="jump_to_reference",
                              reference_arm="sham", variance="bootstrap", n_samples=5,
                              seed=1, progress=False)
    flow = dno.consort_flow(cohort, analyses={"j2r": res})
    a = flow.analyses.set_index("arm")
    assert a["analysed"].sum() == res.n_patients == len(res.patients)
    assert (a["analysed"] == res.patients["arm"].astype(str).value_counts()
            .reindex(a.index, fill_value=0)).all()
    assert flow.check()["holds"].all()


def test_plot_draws_the_boxes(hand, sample_cohort, sample_analyses):
    import matplotlib.pyplot as plt

    flow = dno.consort_flow(sample_cohort, analyses=sample_analyses, primary_visit=6)
    ax = flow.plot()
    # assessed, excluded, randomised, then allocation, follow-up, analysis per arm
    assert box_count(ax) == 3 + 3 * len(flow.arms)
    assert all(p.get_gid() == BOX_GID for p in ax.patches if p.get_gid())
    texts = "\n".join(t.get_text() for t in ax.texts)
    assert "Randomised (n=84)" in texts and "Allocated to Sham (n=42)" in texts
    assert "mmrm: analysed n=" in texts
    plt.close(ax.figure)
    fig, ax = plt.subplots()
    dno.consort_flow(hand).plot(ax=ax, fontsize=5)
    assert box_count(ax) == 9 and all(t.get_fontsize() == 5 for t in ax.texts)
    plt.close(fig)


def test_result_contract(hand):
    flow = dno.consort_flow(hand, assessed=8, excluded_before_randomisation={"declined": 2})
    assert set(flow.tables()) == {"consort_flow", "consort_by_visit"}
    assert "Participant flow (CONSORT 2025)" in flow.summary()
    assert "<table>" in flow._repr_html_()
    table = flow.table()
    assert table.loc[table["box"] == "randomised", "all"].item() == 6


def test_one_hundred_thousand_patients_build():
    """Vectorised: a cohort of 100,000 patients (4 visits each) is counted at once."""
    small = dno.simulate_cohort(n_patients=4, seed=1, n_sessions=2)
    n = 100_000
    ids = np.char.add("P", np.arange(n).astype(str)).astype(object)
    pts = pd.DataFrame({"patient_id": ids, "arm": pd.Categorical(
        np.where(np.arange(n) % 2 == 0, "dry_needling", "sham"))})
    visits = np.tile(np.arange(4), n)
    keep = ~((np.repeat(np.arange(n), 4) % 10 == 3) & (visits == 3))  # 10% miss visit 3
    a = pd.DataFrame({"patient_id": np.repeat(ids, 4), "visit": visits,
                      "first_step_pain": 60.0 - 5 * visits,
                      "needled": (visits >= 1) & (visits <= 2)})[keep]
    counts = small.quality.counts.copy()
    counts.loc[counts["table"] == "patients", ["read", "kept", "rejected"]] = [n, n, 0]
    big = dataclasses.replace(small, patients=pts, assessments=a.reset_index(drop=True),
                              quality=dataclasses.replace(small.quality, counts=counts))
    with warnings.catch_warnings():
        warnings.simplefilter("error", dno.DataQualityWarning)   # every identity holds
        flow = dno.consort_flow(big)
    assert flow.randomised == n
    assert _count(flow, "follow_up", "lost to follow-up", "sham")["count"] \
        + _count(flow, "follow_up", "lost to follow-up", "dry_needling")["count"] == n // 10


def test_the_run_places_the_flow_after_the_estimand_and_counts_its_analyses(hand):
    from dryneedle_outcomes.config import AnalysisOptions, RespondersOptions
    from dryneedle_outcomes.report import run_analyses

    options = AnalysisOptions(primary_visit=2, responders=RespondersOptions(
        value=5.0, missing=("non_responder", "observed"), adjust=()))
    estimand = {"variable": "first_step_pain", "visit": 2, "intercurrent": {
        "discontinued_treatment": "hypothetical", "withdrew_from_study": "treatment_policy"}}
    sections = run_analyses(hand, options, progress=False, estimand=estimand,
                            consort={"assessed": 9})
    assert [s.key for s in sections] == ["estimand", "consort", "responders"]
    flow = sections[1].results["consort"]
    assert [i.name for i in sections[1].items] == ["consort_flow", "consort_flow",
                                                    "consort_by_visit"]
    assert flow.total("enrolment", "assessed for eligibility") == 9
    a = flow.analyses.set_index(["analysis", "arm"])
    # the responders ran on the estimand's data: P3's visit-2 value is set aside
    # (discontinued at 2, hypothetical); observed cases at visit 2: dn P1 only (P2 lost,
    # P3 set aside), sham P5 only (P4 lost, P6 missed visit 2)
    assert a.loc[("responders_observed", "dry_needling"), "analysed"] == 1
    assert a.loc[("responders_observed", "sham"), "analysed"] == 1
    # non-responder imputation: every patient with a baseline is in the denominator
    assert a.loc["responders_non_responder", "analysed"].tolist() == [3, 3]
    assert flow.check()["holds"].all()


# ---------------------------------------------------------------------- observed data
def test_observed_summary_equals_numpy(sample_cohort):
    obs = dno.observed_summary(sample_cohort, "first_step_pain")
    a = sample_cohort.assessments.merge(sample_cohort.patients[["patient_id", "arm"]])
    for (arm, visit), g in a.groupby([a["arm"].astype(str), "visit"]):
        x = g["first_step_pain"].to_numpy(float)
        x = x[~np.isnan(x)]
        row = obs.table[(obs.table["arm"] == arm) & (obs.table["visit"] == visit)].iloc[0]
        assert row["n"] == len(x)
        # the same arithmetic in another order: equal to the last bits
        np.testing.assert_allclose(row[["mean", "sd", "median", "q1", "q3", "min", "max"]]
                                   .to_numpy(float),
                                   [np.mean(x), np.std(x, ddof=1), np.median(x),
                                    np.percentile(x, 25), np.percentile(x, 75), x.min(),
                                    x.max()], rtol=1e-12)
        assert row["n_missing"] == (sample_cohort.patients["arm"] == arm).sum() - len(x)
    shown = obs.display().iloc[0]
    assert shown["mean (SD)"].endswith(")") and shown["median [IQR]"].count(",") == 1


def test_observed_summary_equals_r(sample_cohort):
    """R 4 ``aggregate`` with ``quantile(type = 7)`` on the same values
    (tests/reference/observed/observed.R); printed to 10 significant digits, so a relative
    tolerance of 1e-9 (half a unit of the last digit printed)."""
    path = REFERENCE / "observed_r.csv"   # committed with its R script
    ref = pd.read_csv(path)
    obs = dno.observed_summary(sample_cohort, "first_step_pain").table
    got = obs.merge(ref, on=["arm", "visit"], suffixes=("", "_r"))
    assert len(got) == len(ref) == len(obs)
    for col in ("n", "mean", "sd", "median", "q1", "q3", "min", "max"):
        np.testing.assert_allclose(got[col].to_numpy(float), got[f"{col}_r"].to_numpy(float),
                                   rtol=1e-9, err_msg=col)


def test_observed_beside_the_model_estimates(sample_cohort, sample_analyses):
    fit = sample_analyses["mmrm"]
    both = dno.observed_summary(sample_cohort, "first_step_pain").beside(fit)
    mm = fit.marginal_means.assign(arm=lambda d: d["arm"].astype(str))
    assert len(both) == len(mm)
    got = both.merge(mm, on=["arm", "visit"], suffixes=("", "_mm"))
    assert (got["estimate"] == got["estimate_mm"]).all()      # the model's own numbers
    obs = dno.observed_summary(sample_cohort, "first_step_pain").table
    got = both.merge(obs, on=["arm", "visit"], suffixes=("", "_obs"))
    assert (got["mean"] == got["mean_obs"]).all() and (got["n"] == got["n_obs"]).all()


def test_observed_summary_plot_and_errors(hand):
    import matplotlib.pyplot as plt

    obs = dno.observed_summary(hand)
    ax = obs.plot()
    assert len(ax.lines) >= 2
    plt.close(ax.figure)
    with pytest.raises(dno.AnalysisError, match="not in this cohort"):
        dno.observed_summary(hand, "nope")
