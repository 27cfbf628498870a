"""Every validation rule of the loaders, each on a tiny fixture file in tests/data/rules/.

Each broken fixture is the valid cohort plus one bad line appended as the last line
of the file (file row 10: the header is row 1), so every test can check that the
error names the file, the row, the column and the rule.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import dryneedle_outcomes as dno
from dryneedle_outcomes.errors import DataValidationError, ReadError

BAD_ROW = 10  # the appended line of every assessments_*.csv fixture


def load(rules_dir, assessments="assessments_valid.csv", patients="patients.csv",
         adverse_events=None, **kw):
    return dno.load_cohort(
        rules_dir / assessments,
        rules_dir / patients if patients else None,
        rules_dir / adverse_events if adverse_events else None,
        **kw,
    )


def test_valid_cohort_loads_with_balanced_ledger(rules_dir):
    cohort = load(rules_dir, adverse_events="adverse_events.csv")
    assert cohort.n_patients == 4
    assert cohort.n_assessments == 8
    counts = cohort.quality.counts.set_index("table")
    assert counts.loc["assessments", ["read", "kept", "rejected"]].tolist() == [8, 8, 0]
    assert counts.loc["patients", ["read", "kept", "rejected"]].tolist() == [4, 4, 0]
    assert cohort.quality.balanced
    assert len(cohort.quality.rejected) == 0
    a = cohort.assessments
    assert a["visit"].dtype == np.int64
    assert a.loc[(a.patient_id == "P01") & (a.visit == 2), "day"].item() == 14.0
    p01 = a[a.patient_id == "P01"].set_index("visit")
    assert p01.loc[1, ["soreness_lower_h", "soreness_upper_h"]].tolist() == [24.0, 48.0]
    assert p01.loc[2, "soreness_upper_h"] == np.inf
    assert p01.loc[1, "muscles"] == "gastrocnemius;soleus"
    assert bool(p01.loc[1, "needled"]) is True
    assert cohort.patients["arm"].dtype == "category"
    assert cohort.patients.set_index("patient_id").loc["P02", "sex"] == "male"


@pytest.mark.parametrize(
    ("fixture", "column", "rule"),
    [
        ("assessments_out_of_range.csv", "first_step_pain", "out_of_range"),
        ("assessments_not_a_number.csv", "first_step_pain", "not_a_number"),
        ("assessments_invalid_date.csv", "date", "invalid_date"),
        ("assessments_unknown_patient.csv", "patient_id", "unknown_patient"),
        ("assessments_id_case.csv", "patient_id", "unknown_patient"),
        ("assessments_negative_visit.csv", "visit", "negative"),
        ("assessments_fractional_visit.csv", "visit", "not_an_integer"),
        ("assessments_date_backwards.csv", "date", "date_before_previous_visit"),
        ("assessments_reversed_soreness.csv", "soreness", "invalid_soreness"),
        ("assessments_negative_needles.csv", "needles", "negative"),
    ],
)
def test_each_rule_raises_naming_file_row_column_rule(rules_dir, fixture, column, rule):
    with pytest.raises(DataValidationError) as info:
        load(rules_dir, fixture)
    problems = info.value.problems
    assert len(problems) == 1
    problem = problems.iloc[0]
    assert problem["source"].endswith(fixture)
    assert problem["row"] == BAD_ROW
    assert problem["column"] == column
    assert problem["rule"] == rule
    text = str(info.value)
    assert fixture in text and f"row {BAD_ROW}" in text and rule in text


@pytest.mark.parametrize(
    "fixture", ["assessments_invalid_date.csv", "assessments_unknown_patient.csv"],
)
def test_quarantine_sets_the_row_aside_and_accounts_for_it(rules_dir, fixture):
    cohort = load(rules_dir, fixture, errors="quarantine")
    counts = cohort.quality.counts.set_index("table").loc["assessments"]
    assert (counts["read"], counts["kept"], counts["rejected"]) == (9, 8, 1)
    assert counts["kept"] == cohort.n_assessments
    rejected = cohort.quality.rejected
    assert rejected["row"].tolist() == [BAD_ROW]
    assert rejected["scope"].tolist() == ["row"]
    assert rejected.iloc[0]["raw"]["patient_id"] in ("P04", "P99")
    assert cohort.quality.balanced


# Issue 10: a problem outside the identity columns sets aside the value, not the row
# (formerly these fixtures rejected the whole row, losing its other outcomes).
@pytest.mark.parametrize(
    ("fixture", "column"),
    [("assessments_out_of_range.csv", "first_step_pain"),
     ("assessments_reversed_soreness.csv", "soreness_upper_h")],
)
def test_quarantine_sets_a_bad_outcome_cell_aside_and_keeps_the_row(rules_dir, fixture,
                                                                     column):
    cohort = load(rules_dir, fixture, errors="quarantine")
    counts = cohort.quality.counts.set_index("table").loc["assessments"]
    assert (counts["read"], counts["kept"], counts["rejected"]) == (9, 9, 0)
    rejected = cohort.quality.rejected
    assert rejected["row"].tolist() == [BAD_ROW]
    assert rejected["scope"].tolist() == ["cell"]
    assert rejected.iloc[0]["raw"]["patient_id"] == "P04"
    row = cohort.assessments.query("patient_id == 'P04' and visit == 1")
    assert len(row) == 1 and row[column].isna().all()
    assert cohort.quality.balanced


def test_out_of_range_message_gives_value_and_scale(rules_dir):
    with pytest.raises(DataValidationError) as info:
        load(rules_dir, "assessments_out_of_range.csv")
    message = info.value.problems.iloc[0]["message"]
    assert "150" in message and "0-100" in message and "'mm'" in message


def test_case_variant_id_is_rejected_with_a_hint_never_merged(rules_dir):
    cohort = load(rules_dir, "assessments_id_case.csv", errors="quarantine")
    rejected = cohort.quality.rejected.iloc[0]
    assert rejected["value"] == "p04"
    assert "differs only by case or spaces from 'P04'" in rejected["message"]
    assert "p04" not in set(cohort.assessments["patient_id"])
    # the trailing space was trimmed and recorded as a correction
    corr = cohort.quality.corrections
    trimmed = corr[corr["action"] == "whitespace trimmed in ID"]
    assert trimmed[["row", "old", "new"]].values.tolist() == [[BAD_ROW, "p04 ", "p04"]]


def test_conflicting_duplicate_visit_rejects_both_records(rules_dir):
    with pytest.raises(DataValidationError) as info:
        load(rules_dir, "assessments_duplicate_visit.csv")
    problems = info.value.problems
    assert problems["rule"].unique().tolist() == ["duplicate_visit"]
    assert sorted(problems["row"]) == [9, BAD_ROW]


def test_exact_duplicate_is_collapsed_and_recorded_not_raised(rules_dir):
    cohort = load(rules_dir, "assessments_exact_duplicate.csv")
    assert cohort.n_assessments == 8
    rejected = cohort.quality.rejected
    assert rejected["rule"].tolist() == ["exact_duplicate"]
    assert rejected["row"].tolist() == [BAD_ROW]
    assert "row 9" in rejected.iloc[0]["message"]
    assert cohort.quality.balanced


def test_missing_required_column_names_file_and_suggests(rules_dir):
    with pytest.raises(DataValidationError) as info:
        load(rules_dir, "assessments_missing_column.csv", errors="quarantine")
    problem = info.value.problems.iloc[0]
    assert problem["rule"] == "missing_required_column"
    assert problem["column"] == "patient_id"
    assert "assessments_missing_column.csv" in problem["source"]
    assert "subject" in problem["message"]


@pytest.mark.parametrize("fixture", ["empty.csv", "header_only.csv", "binary.csv"])
def test_unreadable_files_raise_read_error_naming_the_file(rules_dir, fixture):
    with pytest.raises(ReadError) as info:
        load(rules_dir, fixture)
    assert fixture in str(info.value)


def test_missing_file_raises_read_error(rules_dir):
    with pytest.raises(ReadError, match="no_such_file.csv"):
        load(rules_dir, "no_such_file.csv")


def test_non_utf8_file_is_decoded_and_the_fallback_recorded(rules_dir):
    cohort = load(rules_dir, "assessments_cp1252.csv")
    assert cohort.n_assessments == 8
    actions = cohort.quality.corrections["action"].str.cat(sep="|")
    assert "cp1252" in actions


def test_patient_without_arm_is_rejected(rules_dir):
    with pytest.raises(DataValidationError) as info:
        load(rules_dir, patients="patients_no_arm.csv")
    problem = info.value.problems.iloc[0]
    assert (problem["rule"], problem["row"], problem["column"]) == ("missing_arm", 6, "arm")


def test_exact_duplicate_patient_collapsed_conflicting_rejected_with_records(rules_dir):
    cohort = load(rules_dir, patients="patients_exact_duplicate.csv")
    assert cohort.n_patients == 4
    with pytest.raises(DataValidationError) as info:
        load(rules_dir, patients="patients_conflicting_duplicate.csv")
    assert set(info.value.problems["rule"]) == {"duplicate_patient", "patient_rejected"}
    cohort = load(rules_dir, patients="patients_conflicting_duplicate.csv",
                  errors="quarantine")
    assert "P04" not in set(cohort.patients["patient_id"])
    assert "P04" not in set(cohort.assessments["patient_id"])
    assert cohort.quality.balanced


def test_protocol_deviation_is_kept_flagged_and_warned(rules_dir):
    with pytest.warns(dno.DataQualityWarning, match=r"protocol deviations \(pregnant\)"):
        cohort = load(rules_dir, patients="patients_pregnant.csv")
    assert cohort.n_assessments == 8
    dev = cohort.protocol_deviations
    assert dev["value"].tolist() == ["P03"]
    assert dev["row"].tolist() == [8]


def test_adverse_events_mapped_to_vocabulary_with_verbatim_kept(rules_dir):
    cohort = load(rules_dir, adverse_events="adverse_events.csv")
    ae = cohort.adverse_events
    # "felt faint after needling" is dizziness (issue 12: vasovagal is not a bin for the
    # prodrome; Brady et al. 2014 report such symptoms apart)
    assert ae["term"].astype(str).tolist() == ["bruising", "post_needling_soreness",
                                               "dizziness", "other"]
    assert ae["verbatim"].iloc[0] == "small bruise medial calf"
    assert ae["severity"].astype(str).tolist() == ["mild", "mild", "moderate", "mild"]
    flags = cohort.quality.flags
    unmatched = flags[flags["rule"] == "unmatched_term"]
    assert unmatched["value"].tolist() == ["black toe nail"]


def test_adverse_event_synonyms_from_the_mapping_extend_the_vocabulary(rules_dir):
    cohort = load(rules_dir, adverse_events="adverse_events.csv",
                  mapping={"adverse_events": {"synonyms": {"black toe nail": "bruising"}}})
    assert cohort.adverse_events["term"].astype(str).tolist()[-1] == "bruising"


def test_bad_severity_rejected(rules_dir):
    with pytest.raises(DataValidationError) as info:
        load(rules_dir, adverse_events="adverse_events_bad_severity.csv")
    problem = info.value.problems.iloc[0]
    assert (problem["rule"], problem["row"], problem["column"]) == ("invalid_severity", 6,
                                                                    "severity")


def test_raise_lists_every_problem_at_once():
    patients = pd.DataFrame({"patient_id": ["A", "B"], "arm": ["x", "y"]})
    visits = pd.DataFrame({
        "patient_id": ["A", "A", "B", "C"],
        "visit": [0, 1, 0, 0],
        "vas_pain": [50.0, 150.0, -3.0, 40.0],
    })
    with pytest.raises(DataValidationError) as info:
        dno.load_cohort(visits, patients)
    problems = info.value.problems
    assert problems[["row", "rule"]].values.tolist() == [
        [3, "out_of_range"], [4, "out_of_range"], [5, "unknown_patient"]]
    assert isinstance(info.value, dno.DryNeedleError)


def test_canonical_dataframes_load_as_they_are():
    patients = pd.DataFrame({"patient_id": ["A", "B"], "arm": ["dry_needling", "sham"],
                             "age": [40.0, 50.0], "smoker": [True, False]})
    visits = pd.DataFrame({
        "patient_id": ["A", "A", "B", "B"], "visit": [0, 1, 0, 1], "day": [0, 7, 0, 8],
        "first_step_pain": [70.0, 50.0, 60.0, 58.0], "vas_pain": [50.0, 40.0, 45.0, 44.0],
        "soreness_lower_h": [np.nan, 24.0, np.nan, np.nan],
        "soreness_upper_h": [np.nan, 48.0, np.nan, np.nan],
    })
    cohort = dno.load_cohort(visits, patients)
    pd.testing.assert_series_equal(cohort.assessments["first_step_pain"],
                                   visits["first_step_pain"])
    assert cohort.assessments["day"].tolist() == [0, 7, 0, 8]
    assert "smoker" in cohort.patients  # extra patient columns are kept
    assert cohort.quality.corrections.empty


def test_formula_like_text_stays_plain_text():
    patients = pd.DataFrame({"patient_id": ["=1+1", "@SUM(A1)"], "arm": ["+a", "-b"]})
    visits = pd.DataFrame({"patient_id": ["=1+1", "@SUM(A1)"], "visit": [0, 0]})
    cohort = dno.load_cohort(visits, patients)
    assert sorted(cohort.patients["patient_id"]) == ["=1+1", "@SUM(A1)"]
    assert sorted(cohort.arms) == ["+a", "-b"]


def test_errors_argument_is_checked():
    visits = pd.DataFrame({"patient_id": ["A"], "visit": [0]})
    with pytest.raises(dno.ConfigError, match="quarantine"):
        dno.load_cohort(visits, errors="ignore")


def test_no_patients_table_derives_patients_and_arm_from_assessments():
    visits = pd.DataFrame({"patient_id": ["A", "A", "B"], "visit": [0, 1, 0],
                           "arm": ["dn", "dn", "sham"]})
    cohort = dno.load_cohort(visits)
    assert cohort.patients[["patient_id", "arm"]].astype(str).values.tolist() == [
        ["A", "dn"], ["B", "sham"]]
    conflicting = visits.assign(arm=["dn", "sham", "sham"])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        cohort = dno.load_cohort(conflicting, errors="quarantine")
    assert set(cohort.quality.rejected["rule"]) == {"conflicting_arm", "patient_rejected"}
    assert cohort.patients["patient_id"].tolist() == ["B"]


def test_scales_declared_per_column_and_per_site():
    patients = pd.DataFrame({"patient_id": ["A", "B"], "arm": ["x", "y"]})
    visits = pd.DataFrame({"id": ["A", "B"], "v": [0, 0], "clinic": ["one", "two"],
                           "fsp": ["6,8", "7"]})
    mapping = {"assessments": {
        "columns": {"patient_id": "id", "visit": "v", "site": "clinic",
                    "first_step_pain": "fsp"},
        "scales": {"first_step_pain": "cm"},
        "site_scales": {"two": {"first_step_pain": "nrs10"}},
    }}
    with pytest.raises(DataValidationError, match="not a number"):
        dno.load_cohort(visits, patients, mapping=mapping)
    visits["fsp"] = [6.8, 7]
    # issue 12: site two's NRS is its own instrument (first_step_pain_nrs), not VAS x10
    with pytest.warns(dno.UnpooledInstrumentWarning):  # the VAS column misses site two
        cohort = dno.load_cohort(visits, patients, mapping=mapping)
        cohort.change_from_baseline("first_step_pain")
    assert cohort.assessments["first_step_pain"].tolist()[0] == 68.0
    assert np.isnan(cohort.assessments["first_step_pain"].tolist()[1])
    assert cohort.assessments["first_step_pain_nrs"].tolist()[1] == 7.0
    actions = set(cohort.quality.corrections["action"])
    assert {"scale converted cm -> mm (x10)",
            "kept as its own instrument (not converted into first_step_pain)"} <= actions
    assert cohort.provenance["instruments"]["first_step_pain"]["site_scales"] == {
        "two": "nrs10"}
    # pooled only when the mapping says so: then x10 into the VAS column
    mapping["assessments"]["pool_as"] = {"first_step_pain_nrs": "first_step_pain"}
    cohort = dno.load_cohort(visits, patients, mapping=mapping)
    assert cohort.assessments["first_step_pain"].tolist() == [68.0, 70.0]
    assert "pooled as first_step_pain (pool_as in the mapping): x10" in set(
        cohort.quality.corrections["action"])


def test_utf16_file_with_bom_is_read(rules_dir):
    cohort = load(rules_dir, "utf16.csv", patients=None)
    assert cohort.assessments["first_step_pain"].tolist() == [72.0]


def _cm_values_declared_mm():
    patients = pd.DataFrame({"patient_id": [f"P{i}" for i in range(12)], "arm": "x"})
    visits = pd.DataFrame({"patient_id": patients["patient_id"], "visit": 0,
                           "first_step_pain": [6.5, 7, 8, 5.5, 9, 6, 7, 8, 4, 6, 7, 25]})
    return visits, patients


def test_mm_scale_with_values_of_a_0_to_10_scale_is_flagged_not_converted():
    visits, patients = _cm_values_declared_mm()
    with pytest.warns(dno.ImplausibleScaleWarning, match=r"first_step_pain.*'cm' or 'nrs10'"):
        cohort = dno.load_cohort(visits, patients, errors="quarantine")
    flags = cohort.quality.flags
    assert flags["rule"].tolist() == ["implausible_scale"]
    assert "'cm' or 'nrs10'" in flags.iloc[0]["message"]
    assert cohort.assessments["first_step_pain"].max() == 25.0  # nothing converted


def test_implausible_scale_is_an_error_with_errors_raise():
    # issue 10: a declared scale the data contradict must not pass silently
    visits, patients = _cm_values_declared_mm()
    with pytest.raises(DataValidationError, match=r"column 'first_step_pain': "
                                                  r"\[implausible_scale\]") as info:
        dno.load_cohort(visits, patients)
    assert info.value.problems["rule"].tolist() == ["implausible_scale"]


def test_patient_ids_differing_only_by_case_are_flagged_and_kept_apart():
    patients = pd.DataFrame({"patient_id": ["DN-1", "dn-1"], "arm": ["a", "b"]})
    visits = pd.DataFrame({"patient_id": ["DN-1", "dn-1"], "visit": [0, 0]})
    cohort = dno.load_cohort(visits, patients)
    assert cohort.n_patients == 2
    flags = cohort.quality.flags
    assert flags["rule"].tolist() == ["id_case_variant", "id_case_variant"]
    assert flags["row"].tolist() == [2, 3]


def test_a_list_inside_a_dataframe_cell_is_a_read_error_naming_row_and_column():
    visits = pd.DataFrame({"patient_id": ["A", "A"], "visit": [0, 1],
                           "first_step_pain": [70.0, 60.0]})
    visits["muscles"] = pd.Series([None, ["soleus", "gastrocnemius"]], dtype=object)
    with pytest.raises(ReadError, match=r"row 3, column 'muscles'.*list"):
        dno.load_cohort(visits)


def test_every_patient_id_empty_rejects_every_row_without_crashing():
    visits = pd.DataFrame({"patient_id": ["", " "], "visit": [0, 1]})
    cohort = dno.load_cohort(visits, errors="quarantine")
    assert cohort.n_assessments == 0
    assert set(cohort.quality.rejected["rule"]) == {"missing_id"}
    assert cohort.quality.balanced
