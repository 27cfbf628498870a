"""The intercurrent-events table: loader, vocabulary, every rule, the ledger (issue 13).

Every cohort here is built by hand, so each expected row, rule and count is known
from the input; rules are checked both ways: ``errors="raise"`` names the file, row,
column and rule, ``errors="quarantine"`` sets the row aside in the ledger.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import dryneedle_outcomes as dno
from dryneedle_outcomes.errors import DataValidationError, MappingError
from dryneedle_outcomes.normalize.vocabulary import ICE_EVENTS, map_ice_events

PATIENTS = pd.DataFrame({"patient_id": ["P1", "P2", "P3"],
                         "arm": ["dry_needling", "sham", "sham"]})
VISITS = pd.DataFrame({
    "patient_id": ["P1"] * 4 + ["P2"] * 4 + ["P3"] * 2,
    "visit": [0, 1, 2, 3, 0, 1, 2, 3, 0, 1],
    "first_step_pain": [70.0, 60, 50, 40, 65, 60, 58, 55, 70, 66],
})


def ice(**columns) -> pd.DataFrame:
    return pd.DataFrame(columns)


def load(events, **kw):
    return dno.load_cohort(VISITS, PATIENTS, intercurrent_events=events, **kw)


def test_canonical_rows_load_with_balanced_ledger():
    ev = ice(patient_id=["P1", "P2"], visit=[2, 3], day=[14.0, 21.0],
             event=["rescue_medication", "discontinued_treatment"], reason=["heel pain", ""])
    c = load(ev)
    t = c.intercurrent_events
    assert t.columns.tolist() == ["patient_id", "visit", "day", "event", "reason"]
    assert t["patient_id"].tolist() == ["P1", "P2"]
    assert t["visit"].dtype == np.int64 and t["visit"].tolist() == [2, 3]
    assert t["day"].tolist() == [14.0, 21.0]
    assert list(t["event"].cat.categories) == list(ICE_EVENTS)
    assert t["event"].astype(str).tolist() == ["rescue_medication", "discontinued_treatment"]
    assert t["reason"].iloc[0] == "heel pain" and pd.isna(t["reason"].iloc[1])
    counts = c.quality.counts.set_index("table")
    assert counts.loc["intercurrent_events", ["read", "kept", "rejected"]].tolist() == [2, 2, 0]
    assert c.quality.balanced


def test_without_the_table_the_cohort_has_an_empty_one():
    c = dno.load_cohort(VISITS, PATIENTS)
    assert len(c.intercurrent_events) == 0
    assert c.intercurrent_events.columns.tolist() == ["patient_id", "visit", "day", "event",
                                                      "reason"]
    assert "intercurrent_events" not in set(c.quality.counts["table"])


def test_a_header_only_file_is_no_events(tmp_path):
    path = tmp_path / "ice.csv"
    path.write_text("patient_id,visit,event,reason\n", encoding="utf-8")
    c = load(path)
    assert len(c.intercurrent_events) == 0
    assert c.quality.counts.set_index("table").loc["intercurrent_events", "read"] == 0


def test_verbatims_are_mapped_and_each_recoding_is_a_correction():
    ev = ice(patient_id=["P1", "P2", "P3"], visit=[1, 2, 1],
             event=["NSAIDs", "Stopped treatment", "Lost to follow-up"])
    c = load(ev)
    assert c.intercurrent_events["event"].astype(str).tolist() == [
        "rescue_medication", "discontinued_treatment", "withdrew_from_study"]
    corr = c.quality.corrections
    corr = corr[corr["table"] == "intercurrent_events"]
    assert sorted(zip(corr["old"], corr["new"])) == [
        ("Lost to follow-up", "withdrew_from_study"), ("NSAIDs", "rescue_medication"),
        ("Stopped treatment", "discontinued_treatment")]


def test_the_vocabulary_never_guesses():
    out = map_ice_events(pd.Series(["stopped NSAIDs", "night splint", "ESWT", "", None,
                                    "cortisone injection", "withdrew due to adverse event"]))
    assert out["status"].tolist() == ["unknown", "ok", "ok", "missing", "missing", "ok", "ok"]
    assert out["event"].tolist()[1:3] == ["night_splint", "shockwave"]
    assert out["event"].iloc[5] == "steroid_injection"
    assert out["event"].iloc[6] == "adverse_event_withdrawal"


def test_a_synonym_to_a_name_outside_the_vocabulary_is_a_mapping_error():
    with pytest.raises(MappingError, match="not an event"):
        map_ice_events(pd.Series(["x"]), {"x": "holiday"})


def test_mapping_columns_and_synonyms():
    ev = pd.DataFrame({"ID": ["P1"], "Visit": [2], "What": ["cortisone shot"],
                       "Why": ["flare"]})
    mapping = {"intercurrent_events": {
        "columns": {"patient_id": "ID", "visit": "Visit", "event": "What", "reason": "Why"},
        "synonyms": {"cortisone shot": "steroid_injection"}}}
    c = load(ev, mapping=mapping)
    assert c.intercurrent_events[["patient_id", "visit", "event", "reason"]].astype(
        str).values.tolist() == [["P1", "2", "steroid_injection", "flare"]]


def test_an_unknown_mapping_key_names_the_allowed_ones():
    with pytest.raises(MappingError, match="unknown key 'synonym'"):
        load(ice(patient_id=["P1"], visit=[1], event=["orthoses"]),
             mapping={"intercurrent_events": {"synonym": {}}})


BAD = [
    # (rows appended to one valid event, the column and the rule of the bad row)
    (dict(patient_id="P1", visit=2, event="felt better"), "event", "unknown_event"),
    (dict(patient_id="P1", visit=2, event=None), "event", "missing_event"),
    (dict(patient_id="P9", visit=2, event="orthoses"), "patient_id", "unknown_patient"),
    (dict(patient_id="P1", visit=9, event="orthoses"), "visit", "visit_not_in_schedule"),
    (dict(patient_id="P1", visit=0, event="orthoses"), "visit", "ice_at_baseline"),
    (dict(patient_id="P2", visit=2, event="rescue_medication", reason="other reason"),
     "event", "duplicate_event"),
    (dict(patient_id="P2", visit=3, event="discontinued_treatment"), "event",
     "repeated_event"),
    (dict(patient_id="P3", visit=3, event="orthoses"), "visit", "event_after_withdrawal"),
]
VALID = ice(patient_id=["P2", "P2", "P3"], visit=[2, 2, 2],
            event=["rescue_medication", "discontinued_treatment", "withdrew_from_study"],
            reason=["pain", "moved", "moved away"])


@pytest.mark.parametrize(("row", "column", "rule"), BAD, ids=[b[2] for b in BAD])
def test_each_rule_raises_with_row_and_column(row, column, rule):
    ev = pd.concat([VALID, pd.DataFrame([row])], ignore_index=True)
    with pytest.raises(DataValidationError) as info:
        load(ev)
    probs = info.value.problems
    assert probs["rule"].tolist() == [rule]
    assert probs["table"].tolist() == ["intercurrent_events"]
    assert probs["row"].tolist() == [5]  # header is row 1; the appended row is the 4th
    assert probs["column"].tolist() == [column]


@pytest.mark.parametrize(("row", "column", "rule"), BAD, ids=[b[2] for b in BAD])
def test_each_rule_quarantines_the_row_in_the_ledger(row, column, rule):
    ev = pd.concat([VALID, pd.DataFrame([row])], ignore_index=True)
    c = load(ev, errors="quarantine")
    assert len(c.intercurrent_events) == 3
    rej = c.quality.rejected
    assert rej["rule"].tolist() == [rule] and rej["row"].tolist() == [5]
    counts = c.quality.counts.set_index("table").loc["intercurrent_events"]
    assert counts[["read", "kept", "rejected"]].tolist() == [4, 3, 1]


def test_an_exact_copy_collapses_without_raising():
    ev = pd.concat([VALID, VALID.iloc[[0]]], ignore_index=True)
    c = load(ev)
    assert len(c.intercurrent_events) == 3
    assert c.quality.rejected["rule"].tolist() == ["exact_duplicate"]


def test_the_earliest_once_only_event_is_kept():
    ev = ice(patient_id=["P1", "P1"], visit=[3, 2], event=["discontinued_treatment"] * 2)
    c = load(ev, errors="quarantine")
    assert c.intercurrent_events["visit"].tolist() == [2]
    assert c.quality.rejected["row"].tolist() == [2]  # the visit-3 row, first in the file


def test_concomitant_treatments_may_recur():
    ev = ice(patient_id=["P1", "P1"], visit=[1, 3], event=["rescue_medication"] * 2)
    assert len(load(ev).intercurrent_events) == 2


def test_assessments_after_withdrawal_are_flagged_not_rejected():
    ev = ice(patient_id=["P1"], visit=[2], event=["withdrew_from_study"])
    c = load(ev)
    flags = c.quality.flags
    assert flags["rule"].tolist() == ["assessed_after_withdrawal"]
    assert len(c.intercurrent_events) == 1


def test_a_negative_day_is_set_aside_as_a_cell():
    ev = ice(patient_id=["P1"], visit=[2], day=[-3.0], event=["orthoses"])
    c = load(ev, errors="quarantine")
    assert np.isnan(c.intercurrent_events["day"].iloc[0])
    rej = c.quality.rejected
    assert rej[["rule", "scope"]].values.tolist() == [["out_of_range", "cell"]]


def test_a_file_error_names_the_file(tmp_path):
    path = tmp_path / "ice.csv"
    path.write_text("patient_id,visit,event\nP1,2,holiday\n", encoding="utf-8")
    with pytest.raises(DataValidationError, match=r"ice\.csv, row 2, column 'event'"):
        load(path)


# ------------------------------------------------------------ concomitant column
CONC = VISITS.assign(**{"Other tx": ["orthotics", "orthotics; NSAIDs", "NSAIDs", None,
                                     "none", "", "night splint", "night splint, massage",
                                     "no", "yoga"]})
CONC_MAP = {"assessments": {"columns": {"concomitant": "Other tx"}}}


def test_a_concomitant_column_feeds_the_table_from_the_first_visit():
    c = dno.load_cohort(CONC.iloc[:8], PATIENTS, mapping=CONC_MAP)
    t = c.intercurrent_events
    # P1: orthotics at baseline is no event (precedes treatment); NSAIDs first at 1;
    # P2: night splint first at 2, massage (other_treatment) at 3
    assert t[["patient_id", "visit"]].values.tolist() == [["P1", 1], ["P2", 2], ["P2", 3]]
    assert t["event"].astype(str).tolist() == ["rescue_medication", "night_splint",
                                               "other_treatment"]
    assert set(t["reason"]) == {"recorded in the assessments' column 'Other tx'"}
    # the text stays in the assessments
    assert c.assessments["concomitant"].iloc[1] == "orthotics; NSAIDs"
    q = c.quality
    assert q.flags["rule"].tolist() == ["concomitant_at_baseline"]
    assert q.flags["row"].tolist() == [2]
    later = q.corrections[q.corrections["column"] == "Other tx"]
    assert later["n_rows"].tolist() == [2]  # NSAIDs at 2 and night splint at 3: ongoing
    derived = q.counts[q.counts["source"].str.startswith("(derived from")]
    assert derived[["table", "read", "kept", "rejected"]].values.tolist() == [
        ["intercurrent_events", 3, 3, 0]]
    assert q.balanced


def test_an_unknown_concomitant_wording_names_the_row_and_column():
    with pytest.raises(DataValidationError) as info:
        dno.load_cohort(CONC, PATIENTS, mapping=CONC_MAP)
    probs = info.value.problems
    assert probs[["row", "column", "rule"]].values.tolist() == [[11, "Other tx",
                                                                  "unknown_event"]]


def test_quarantine_keeps_the_assessment_and_sets_the_event_aside():
    c = dno.load_cohort(CONC, PATIENTS, mapping=CONC_MAP, errors="quarantine")
    assert len(c.assessments) == 10
    assert c.quality.rejected["rule"].tolist() == ["unknown_event"]
    assert len(c.intercurrent_events) == 3


def test_an_event_in_both_the_file_and_the_column_is_kept_once():
    ev = ice(patient_id=["P2"], visit=[2], event=["night_splint"], reason=["worse"])
    c = dno.load_cohort(CONC.iloc[:8], PATIENTS, mapping=CONC_MAP, intercurrent_events=ev)
    t = c.intercurrent_events
    assert (t["event"] == "night_splint").sum() == 1
    assert t.loc[t["event"] == "night_splint", "reason"].item() == "worse"
    assert c.quality.rejected["rule"].tolist() == ["exact_duplicate"]
