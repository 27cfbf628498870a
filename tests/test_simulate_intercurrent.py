"""The simulator's intercurrent events: consistent with its dropout and adverse events,
drawn from their own random stream, and accounted for when the sample is loaded.

The rules are those of ``dryneedle_outcomes/simulate/intercurrent.py``: every dropout
has one leaving event at the first visit missed for good; an adverse event that led to
withdrawal ends the patient's attendance at the next visit (``adverse_event_withdrawal``
there); concomitant treatments are reported at an attended post-baseline visit, at most
once per patient and treatment, and do not change the simulated pain.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import dryneedle_outcomes as dno
from dryneedle_outcomes.config import AnalysisConfig
from dryneedle_outcomes.normalize.vocabulary import ICE_EVENTS
from dryneedle_outcomes.simulate import simulate_cohort, simulate_tables
from dryneedle_outcomes.simulate.intercurrent import CONCOMITANT

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample"
LEAVING = ("withdrew_from_study", "discontinued_treatment", "adverse_event_withdrawal")


@pytest.fixture(scope="module")
def sim():
    # every severe adverse event leads to withdrawal (30% by default), so that a few
    # thousand patients give some adverse-event withdrawals to check
    return simulate_tables(4000, seed=21, ae_withdrawal_severe=1.0, dropout=0.2,
                           dropout_mechanism="mar")


def test_events_are_vocabulary_terms_with_a_visit_day_and_reason(sim):
    ev = sim.intercurrent_events
    assert list(ev.columns) == ["patient_id", "visit", "day", "event", "reason"]
    assert list(ev["event"].cat.categories) == list(ICE_EVENTS)
    assert ev["event"].notna().all() and ev["reason"].notna().all()
    assert (ev["visit"] >= 1).all() and ev["day"].notna().all()
    assert set(ev["patient_id"]) <= set(sim.patients["patient_id"])
    assert not ev.duplicated(["patient_id", "event"]).any()  # each at most once


def test_every_dropout_has_one_leaving_event_at_its_first_missed_visit(sim):
    ev = sim.intercurrent_events
    leaving = ev[ev["event"].isin(LEAVING)].set_index("patient_id")
    assert not leaving.index.duplicated().any()
    drop = sim.truth["dropout_visit"]
    dropped = drop[drop >= 1]
    assert len(dropped) > 500  # about 20% of 4,000
    assert set(leaving.index) == set(dropped.index)
    assert (leaving.loc[dropped.index, "visit"].to_numpy() == dropped.to_numpy()).all()
    # nothing is assessed from that visit on, and the visit before it was attended
    a = sim.assessments.merge(leaving["visit"].rename("left_at"), left_on="patient_id",
                              right_index=True)
    assert (a["visit"] < a["left_at"]).all()
    # both leaving events occur, about 40% of the others recorded as discontinuation
    share = (leaving["event"] == "discontinued_treatment").sum() / (
        leaving["event"] != "adverse_event_withdrawal").sum()
    assert abs(share - 0.4) < 0.06  # 4 binomial SEs (SE about 0.014 with ~800 dropouts)


def test_an_adverse_event_withdrawal_ends_attendance_at_the_next_visit(sim):
    ae = sim.adverse_events
    w = ae[ae["withdrawal"]].groupby("patient_id")["visit"].min()
    n_visits = len(sim.truth["visits"])
    w = w[w + 1 < n_visits]  # an AE at the last visit leaves nothing to affect
    assert len(w) >= 5
    ev = sim.intercurrent_events
    got = ev[ev["event"] == "adverse_event_withdrawal"].set_index("patient_id")["visit"]
    assert got.sort_index().to_dict() == (w + 1).sort_index().to_dict()
    assert (sim.truth["dropout_visit"].loc[w.index] == w + 1).all()
    a = sim.assessments
    stop = a["patient_id"].map(w + 1)
    assert not (a["visit"] >= stop).any()
    stop_ae = ae["patient_id"].map(w + 1)
    assert not (ae["visit"] >= stop_ae).any()
    # the soreness of the last visit had no later contact to be reported at
    last = a[a["patient_id"].isin(w.index)].groupby("patient_id").tail(1)
    assert last["soreness_lower_h"].isna().all()


def test_concomitant_treatments_are_reported_at_attended_visits_at_their_rates(sim):
    ev = sim.intercurrent_events
    conc = ev[~ev["event"].isin(LEAVING)]
    assert set(conc["event"].astype(str)) == {e for e, _ in CONCOMITANT}
    seen = pd.MultiIndex.from_frame(sim.assessments[["patient_id", "visit"]])
    assert pd.MultiIndex.from_frame(conc[["patient_id", "visit"]]).isin(seen).all()
    days = sim.assessments.set_index(["patient_id", "visit"])["day"]
    at_visit = days.reindex(pd.MultiIndex.from_frame(conc[["patient_id", "visit"]]))
    assert (conc["day"].to_numpy() <= at_visit.to_numpy()).all()
    # patients who attended every visit start each treatment with its stated probability
    n_visits = len(sim.truth["visits"])
    full = sim.assessments.groupby("patient_id").size()
    full = full[full == n_visits].index
    params = sim.truth["parameters"]
    for event, param in CONCOMITANT:
        p = params[param]
        took = conc.loc[conc["event"] == event, "patient_id"].isin(full).sum() / len(full)
        se = np.sqrt(p * (1 - p) / len(full))
        assert abs(took - p) < 4 * se, (event, took, p)


def test_the_events_do_not_change_the_other_tables():
    """Their own random stream: other rates of concomitant treatment (or none) leave
    every other table of the seed identical."""
    base = simulate_tables(200, seed=8)
    other = simulate_tables(200, seed=8, ice_rescue_medication=0.9, ice_orthoses=0.0,
                            dropout_discontinued=1.0)
    for name in ("patients", "assessments", "adverse_events"):
        pd.testing.assert_frame_equal(getattr(base, name), getattr(other, name))
    assert not base.intercurrent_events.equals(other.intercurrent_events)


def test_simulate_cohort_carries_the_events():
    sim = simulate_tables(60, seed=9)
    cohort = simulate_cohort(60, seed=9)
    got = cohort.intercurrent_events.sort_values(["patient_id", "visit"]).reset_index(drop=True)
    want = sim.intercurrent_events.sort_values(["patient_id", "visit"]).reset_index(drop=True)
    assert len(want) > 0
    assert got["patient_id"].astype(str).tolist() == want["patient_id"].tolist()
    assert got["visit"].tolist() == want["visit"].tolist()
    assert got["event"].astype(str).tolist() == want["event"].astype(str).tolist()
    counts = cohort.quality.counts.set_index("table")
    assert counts.loc["intercurrent_events", "read"] == len(want)
    assert counts.loc["intercurrent_events", "rejected"] == 0


def test_the_sample_ledger_accounts_for_every_intercurrent_event_row():
    with pytest.warns(dno.DataQualityWarning, match="pregnant"):  # the planted deviation
        cohort = dno.load_cohort("assessments.csv", "patients.xlsx", "adverse_events.csv",
                                 intercurrent_events="intercurrent_events.csv",
                                 mapping="mapping.toml", errors="quarantine",
                                 base_dir=SAMPLE)
    raw = pd.read_csv(SAMPLE / "intercurrent_events.csv", sep=";", dtype=str,
                      keep_default_na=False)
    counts = cohort.quality.counts.set_index("table").loc["intercurrent_events"]
    assert counts["read"] == len(raw)
    assert counts["read"] == counts["kept"] + counts["rejected"]
    assert counts["kept"] == len(cohort.intercurrent_events)
    rejected = cohort.quality.rejected
    rejected = rejected[rejected["table"] == "intercurrent_events"]
    probs = pd.read_csv(SAMPLE / "planted_problems.csv")
    planted = probs[probs["file"] == "intercurrent_events.csv"]
    assert len(rejected) == counts["rejected"] == len(planted) == 1
    assert rejected["row"].astype(int).tolist() == planted["row"].astype(int).tolist()
    assert rejected["rule"].tolist() == ["ice_at_baseline"]
    # every wording was read (vocabulary or the mapping's synonyms): nothing unknown
    assert set(cohort.intercurrent_events["event"].astype(str)) <= set(ICE_EVENTS)
    # the sample's estimand names a strategy for every event the sample has
    cfg = AnalysisConfig.from_file(SAMPLE / "analysis.toml")
    assert set(cohort.intercurrent_events["event"].astype(str)) <= set(
        cfg.estimand["intercurrent"])


def test_jump_to_reference_imputes_the_values_missing_after_leaving_under_treatment_policy():
    """Treatment policy keeps the values after an event; the values missing after a
    patient stopped treatment or left are imputed under the method (rbmi's data_ice of a
    treatment-policy estimand), concomitant treatments leave their missing values MAR."""
    cohort = simulate_cohort(60, seed=4, n_sessions=3, dropout=0.3)
    events = cohort.intercurrent_events
    est = dno.Estimand(intercurrent={e: "treatment_policy"
                                     for e in events["event"].astype(str).unique()})
    kw = dict(reference_arm="sham", estimand=est, variance="bootstrap", n_samples=2, seed=1,
              progress=False)
    j2r = dno.reference_based(cohort, "first_step_pain", method="jump_to_reference", **kw)
    mar = dno.reference_based(cohort, "first_step_pain", method="mar", **kw)
    leaving = events[events["event"].isin(LEAVING)]
    assert len(leaving) > 0
    ice = j2r.intercurrent.set_index("patient_id")
    assert sorted(ice.index) == sorted(leaving["patient_id"].astype(str))
    assert (ice["strategy"] == "JR").all()
    assert (ice.loc[leaving["patient_id"].astype(str), "visit"].to_numpy()
            == leaving["visit"].to_numpy()).all()
    assert (mar.intercurrent["strategy"] == "MAR").all()
    # the same analysis as the intercurrent= path (the one validated against rbmi's
    # published results, tests/reference/rbmi) given the leaving events directly
    same = dno.reference_based(cohort, "first_step_pain", method="jump_to_reference",
                               reference_arm="sham", variance="bootstrap", n_samples=2,
                               seed=1, progress=False,
                               intercurrent=leaving[["patient_id", "visit"]])
    pd.testing.assert_frame_equal(same.arm_difference, j2r.arm_difference)
    # dry-needling patients who left are imputed as sham patients: the difference moves
    dn_left = set(leaving["patient_id"]) & set(
        cohort.patients.loc[cohort.patients["arm"] == "dry_needling", "patient_id"])
    assert dn_left
    last = j2r.visits[-1]
    e_j2r = j2r.arm_difference.set_index("visit").loc[last, "estimate"]
    e_mar = mar.arm_difference.set_index("visit").loc[last, "estimate"]
    assert e_j2r != pytest.approx(e_mar, abs=1e-6)
    assert not any("under the hypothetical strategy" in n for n in j2r.notes)
    assert any("leaving the trial under treatment policy" in n for n in j2r.notes)
