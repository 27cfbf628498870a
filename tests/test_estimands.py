"""Estimands (ICH E9(R1)): validation, the table, the strategies applied, populations.

Hand-built cohorts: every row used, set aside or flagged is known from the input.
"""

from __future__ import annotations

import matplotlib
import numpy as np
import pandas as pd
import pytest

import dryneedle_outcomes as dno
from dryneedle_outcomes.errors import AnalysisError, ConfigError

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

PATIENTS = pd.DataFrame({"patient_id": ["P1", "P2", "P3", "P4"],
                         "arm": ["dry_needling", "dry_needling", "sham", "sham"]})
VISITS = pd.DataFrame({
    "patient_id": np.repeat(["P1", "P2", "P3", "P4"], 4),
    "visit": [0, 1, 2, 3] * 4,
    "first_step_pain": [70.0, 60, 50, 40, 65, 60, 58, 55, 70, 66, 64, 60, 60, 59, 58, 57],
    # P1 and P3 attend every session; P2 is not needled at visit 2; sham is never needled
    "needled": [False, True, True, True, False, True, False, True] + [False] * 8,
})
EVENTS = pd.DataFrame({
    "patient_id": ["P1", "P2", "P3", "P3", "P4"],
    "visit": [2, 3, 1, 3, 2],
    "event": ["rescue_medication", "orthoses", "steroid_injection", "rescue_medication",
              "discontinued_treatment"],
})


@pytest.fixture(scope="module")
def cohort():
    return dno.load_cohort(VISITS, PATIENTS, intercurrent_events=EVENTS)


def estimand(**strategies):
    base = {"rescue_medication": "hypothetical", "orthoses": "treatment_policy",
            "steroid_injection": "while_on_treatment",
            "discontinued_treatment": "composite"}
    return dno.Estimand(variable="first_step_pain", treatment="dry needling vs sham",
                        intercurrent={**base, **strategies}, summary="difference at visit 3")


# ------------------------------------------------------------------ the estimand
def test_the_table_has_the_five_attributes_in_ich_order():
    t = estimand().table()
    assert t.columns.tolist() == ["attribute", "value", "event", "strategy"]
    assert t["attribute"].drop_duplicates().tolist() == [
        "treatment", "population", "variable", "intercurrent_event", "summary"]
    ice = t[t["attribute"] == "intercurrent_event"]
    assert dict(zip(ice["event"], ice["strategy"])) == {
        "rescue_medication": "hypothetical", "orthoses": "treatment_policy",
        "steroid_injection": "while_on_treatment", "discontinued_treatment": "composite"}
    assert t.loc[t["attribute"] == "summary", "value"].item() == "difference at visit 3"
    assert t.loc[t["attribute"] == "treatment", "value"].item() == "dry needling vs sham"


def test_summary_and_rich_display_show_every_strategy():
    est = estimand()
    text = est.summary()
    html = est._repr_html_()
    for word in ("hypothetical", "treatment_policy", "while_on_treatment", "composite",
                 "difference at visit 3", "ICH E9(R1)"):
        assert word in text and word in html
    assert est.summary_measure == "difference at visit 3"


@pytest.mark.parametrize(("kw", "match"), [
    ({"intercurrent": {"holiday": "hypothetical"}}, "intercurrent event 'holiday' is not "
     "allowed; choose among discontinued_treatment, withdrew_from_study"),
    ({"intercurrent": {"orthoses": "ignore"}}, "strategy for 'orthoses' 'ignore' is not "
     "allowed; choose among treatment_policy, hypothetical, composite, while_on_treatment"),
    ({"population": "itt"}, "population 'itt' is not allowed; choose among randomised, "
     "per_protocol"),
    ({"variable": "grip_strength"}, "variable 'grip_strength' is not a registered"),
    ({"population": "per_protocol"}, "needs a per-protocol rule"),
    ({"per_protocol": {"min_sessions": 0}}, "min_sessions must be a whole number >= 1"),
    ({"per_protocol": {"sessions": 4}}, "unknown key"),
    ({"visit": 0}, "visit must be a visit >= 1"),
])
def test_bad_estimands_are_config_errors_listing_the_allowed(kw, match):
    with pytest.raises(ConfigError, match=match):
        dno.Estimand(**kw)


def test_from_dict_round_trips_and_takes_defaults_from_the_analysis():
    est = dno.Estimand.from_dict({"intercurrent": {"orthoses": "composite"},
                                  "per_protocol": {"min_sessions": 2}},
                                 outcome="vas_pain", visit=3)
    assert est.variable == "vas_pain" and est.visit == 3
    assert est.summary_measure == "difference in means between arms at visit 3"
    assert dno.Estimand.from_dict(est.to_dict()) == est
    with pytest.raises(ConfigError, match="unknown key"):
        dno.Estimand.from_dict({"strategy": {}})


# ------------------------------------------------------------------ applied
def test_strategies_set_aside_flag_or_keep(cohort):
    res = dno.apply_estimand(cohort, estimand())
    aside = res.set_aside.set_index(["patient_id", "visit"])
    # P1: rescue at 2 (hypothetical) -> visits 2, 3 set aside;
    # P3: steroid at 1 (while on treatment) -> 1, 2, 3 set aside (rescue at 3 is later)
    assert sorted(aside.index) == [("P1", 2), ("P1", 3), ("P3", 1), ("P3", 2), ("P3", 3)]
    assert aside.loc[("P1", 2), "strategy"] == "hypothetical"
    assert aside.loc[("P3", 3), ["event", "strategy", "ice_visit"]].tolist() == [
        "steroid_injection", "while_on_treatment", 1]
    used = res.data.set_index(["patient_id", "visit"])
    # P2: orthoses (treatment policy) -> every value used as observed
    assert used.loc["P2", "first_step_pain"].tolist() == [65.0, 60, 58, 55]
    # P4: discontinued (composite) at 2 -> kept and flagged from visit 2 on
    assert used.loc["P4", "composite_event"].tolist() == [False, False, True, True]
    assert not used.drop(index="P4", level=0)["composite_event"].any()
    assert len(res.data) + len(res.set_aside) == len(cohort.assessments)


def test_nothing_is_deleted_from_the_cohort(cohort):
    before = cohort.assessments.copy()
    dno.apply_estimand(cohort, estimand())
    pd.testing.assert_frame_equal(cohort.assessments, before)


def test_one_ledger_line_per_set_aside_row(cohort):
    res = dno.apply_estimand(cohort, estimand())
    led = res.ledger
    assert len(led) == len(res.set_aside) == 5
    assert set(led["rule"]) == {"not_used_for_estimand"}
    assert led["value"].tolist() == res.set_aside["first_step_pain"].tolist()
    assert led.loc[0, "message"].startswith("not used for this estimand: at or after the "
                                            "patient's rescue_medication (first affected "
                                            "visit 2)")


def test_ice_table_for_imputation_is_one_row_per_patient(cohort):
    res = dno.apply_estimand(cohort, estimand())
    assert res.ice.columns.tolist() == ["patient_id", "visit", "strategy"]
    assert res.ice.values.tolist() == [["P1", 2, "hypothetical"],
                                       ["P3", 1, "while_on_treatment"]]
    pd.testing.assert_frame_equal(dno.ice_table(cohort, estimand()), res.ice)


def test_treatment_policy_everywhere_uses_every_value(cohort):
    est = estimand(rescue_medication="treatment_policy", steroid_injection="treatment_policy",
                   discontinued_treatment="treatment_policy")
    res = dno.apply_estimand(cohort, est)
    assert len(res.set_aside) == 0 and len(res.ice) == 0
    assert len(res.data) == len(cohort.assessments)
    assert not res.data["composite_event"].any()


def test_a_tie_at_one_visit_is_while_on_treatment():
    ev = pd.DataFrame({"patient_id": ["P1", "P1"], "visit": [2, 2],
                       "event": ["rescue_medication", "steroid_injection"]})
    c = dno.load_cohort(VISITS, PATIENTS, intercurrent_events=ev)
    res = dno.apply_estimand(c, estimand())
    assert res.ice.values.tolist() == [["P1", 2, "while_on_treatment"]]


def test_an_event_without_a_strategy_is_an_error(cohort):
    est = dno.Estimand(intercurrent={"rescue_medication": "hypothetical"})
    with pytest.raises(AnalysisError, match="without a strategy in the estimand: "
                       "discontinued_treatment, orthoses, steroid_injection"):
        dno.apply_estimand(cohort, est)


def test_a_cohort_without_events_needs_no_strategy():
    c = dno.load_cohort(VISITS, PATIENTS)
    res = dno.apply_estimand(c, dno.Estimand())
    assert len(res.data) == 16 and len(res.set_aside) == 0


def test_result_contract(cohort):
    res = dno.apply_estimand(cohort, estimand())
    assert set(res.tables()) == {"estimand", "estimand_data"}
    counts = res.counts().set_index("arm")
    assert counts.loc["dry_needling", ["patients", "rows_used", "rows_set_aside"]].tolist() \
        == [2, 6, 2]
    assert counts.loc["sham", ["rows_used", "rows_set_aside", "composite_rows"]].tolist() \
        == [5, 3, 2]
    assert "Estimand" in res.summary() and "<table" in res._repr_html_()
    ax = res.plot()
    # one bar per visit (1, 2, 3) and strategy: hypothetical 0, 1, 1 (P1 from visit 2);
    # while on treatment 1, 1, 1 (P3 from visit 1)
    assert [p.get_height() for p in ax.patches] == [0, 1, 1, 1, 1, 1]
    plt.close("all")


def test_timing_rows_use_the_declared_rating():
    c = dno.simulate_cohort(n_patients=10, seed=3, within_session=True)
    # the simulated cohort has intercurrent events: the estimand needs a strategy for each
    events = c.intercurrent_events["event"].astype(str).unique()
    assert len(events)
    res = dno.apply_estimand(c, dno.Estimand(intercurrent={e: "treatment_policy"
                                                           for e in events}))
    assert not res.data.duplicated(["patient_id", "visit"]).any()


# ------------------------------------------------------------------ populations
def test_sessions_received_and_per_protocol_counts(cohort):
    pop = dno.per_protocol_population(cohort, min_sessions=3)
    got = pop.patients.set_index("patient_id")
    # P1 needled at 1, 2, 3; P2 not needled at 2; P3 (sham) attended 1-3;
    # P4 (sham) discontinued treatment at visit 2: only visit 1 counts
    assert got["sessions"].to_dict() == {"P1": 3, "P2": 2, "P3": 3, "P4": 1}
    assert got["per_protocol"].to_dict() == {"P1": True, "P2": False, "P3": True, "P4": False}
    assert pop.counts.values.tolist() == [["dry_needling", 2, 1, 1, 3], ["sham", 2, 1, 1, 3]]
    assert pop.per_protocol_ids == ["P1", "P3"]
    assert "never" not in pop.summary() and "beside it, not instead of it" in pop.summary()
    ax = pop.plot()
    assert [p.get_height() for p in ax.patches] == [2, 2, 1, 1]
    plt.close("all")


def test_declared_session_visits_override_the_needling_record(cohort):
    pop = dno.per_protocol_population(cohort, {"min_sessions": 1, "session_visits": [3]})
    assert pop.patients.set_index("patient_id")["sessions"].to_dict() == {
        "P1": 1, "P2": 1, "P3": 1, "P4": 0}


def test_a_per_protocol_estimand_keeps_only_its_population(cohort):
    est = dno.Estimand(population="per_protocol", per_protocol={"min_sessions": 3},
                       intercurrent=estimand().intercurrent)
    res = dno.apply_estimand(cohort, est)
    assert sorted(res.population["patient_id"]) == ["P1", "P3"]
    assert set(res.data["patient_id"]) | set(res.set_aside["patient_id"]) == {"P1", "P3"}


def test_a_rule_is_required():
    c = dno.load_cohort(VISITS, PATIENTS)
    with pytest.raises(ConfigError, match="needs a rule"):
        dno.per_protocol_population(c)
