"""The same cohort given long, wide, REDCap and XLSX gives identical canonical tables."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import dryneedle_outcomes as dno

PER_VISIT = {
    "day": "day", "first_step_pain": "fsp", "vas_pain": "vas", "needled": "needled",
    "needles": "needles", "twitch_responses": "ltr", "muscles": "muscles",
    "soreness_lower_h": "sore_lo", "soreness_upper_h": "sore_hi",
    "laterality": "side", "technique": "technique", "retention_min": "retention",
}
MUSCLE_CODES = {"1": "gastrocnemius", "2": "soleus", "3": "intrinsic_foot",
                "4": "plantar_fascia", "5": "other", "6": "abductor_hallucis",
                "7": "flexor_digitorum_brevis", "8": "quadratus_plantae",
                "9": "abductor_digiti_minimi"}


@pytest.fixture(scope="module")
def sim():
    return dno.simulate_tables(n_patients=16, seed=11)


@pytest.fixture(scope="module")
def reference(sim):
    return dno.load_cohort(sim.assessments, sim.patients, sim.adverse_events)


def assert_same_cohort(got: dno.Cohort, want: dno.Cohort) -> None:
    cols = list(want.assessments.columns)
    pd.testing.assert_frame_equal(got.assessments[cols], want.assessments, check_dtype=False)
    pcols = ["patient_id", "arm", "site", "age", "sex", "bmi", "symptom_months", "pregnant",
             "immunocompromised", "needle_fear"]
    pd.testing.assert_frame_equal(got.patients[pcols].astype({"arm": str}),
                                  want.patients[pcols].astype({"arm": str}), check_dtype=False)
    ecols = ["patient_id", "visit", "term", "severity", "serious"]
    pd.testing.assert_frame_equal(got.adverse_events[ecols], want.adverse_events[ecols],
                                  check_dtype=False)
    assert got.quality.balanced
    assert got.quality.rejected.empty


def test_long_csv_matches_dataframes(sim, reference, tmp_path):
    paths = {}
    for name in ("assessments", "patients", "adverse_events"):
        paths[name] = tmp_path / f"{name}.csv"
        getattr(sim, name).to_csv(paths[name], index=False)
    got = dno.load_cohort(paths["assessments"], paths["patients"], paths["adverse_events"])
    assert_same_cohort(got, reference)


def test_xlsx_with_title_rows_matches(sim, reference, tmp_path):
    path = tmp_path / "trial.xlsx"
    with pd.ExcelWriter(path) as xl:
        pd.DataFrame({"a": ["Visit register"]}).to_excel(xl, sheet_name="Visits", index=False,
                                                         header=False)
        sim.assessments.to_excel(xl, sheet_name="Visits", index=False, startrow=2)
        sim.patients.to_excel(xl, sheet_name="Patients", index=False)
        sim.adverse_events.to_excel(xl, sheet_name="AEs", index=False)
    mapping = {"assessments": {"sheet": "Visits", "header_row": 3},
               "patients": {"sheet": "Patients"}, "adverse_events": {"sheet": "AEs"}}
    got = dno.load_cohort(path, path, path, mapping=mapping)
    assert_same_cohort(got, reference)


def _wide(sim) -> pd.DataFrame:
    a = sim.assessments.copy()
    a["muscles"] = a["muscles"].astype(object)
    wide = a.pivot(index="patient_id", columns="visit", values=list(PER_VISIT))
    wide.columns = [f"{PER_VISIT[col]}_v{visit}" for col, visit in wide.columns]
    return wide.reset_index().rename(columns={"patient_id": "id"})


def test_wide_matches(sim, reference, tmp_path):
    wide = _wide(sim)
    path = tmp_path / "wide.csv"
    wide.to_csv(path, index=False)
    mapping = {"assessments": {
        "layout": "wide",
        "columns": {"patient_id": "id"},
        "wide": {col: f"{short}_v{{visit}}" for col, short in PER_VISIT.items()},
    }}
    got = dno.load_cohort(path, sim.patients, sim.adverse_events, mapping=mapping)
    assert_same_cohort(got, reference)
    counts = got.quality.counts.set_index("table").loc["assessments"]
    assert counts["source_rows"] == 16
    assert counts["read"] == len(sim.assessments)


def _redcap(sim):
    events = {0: "baseline_arm_1", 7: "followup_12wk_arm_1"}
    events.update({v: f"session_{v}_arm_1" for v in range(1, 7)})
    a = sim.assessments.copy()
    rec = pd.DataFrame({"record_id": a["patient_id"],
                        "redcap_event_name": a["visit"].map(events),
                        "redcap_repeat_instrument": np.nan,
                        "redcap_repeat_instance": np.nan})
    p = sim.patients.set_index("patient_id")
    is_base = (a["visit"] == 0).to_numpy()
    for col, code in (("arm", {"dry_needling": 1, "sham": 2}), ("site", None), ("age", None),
                      ("sex", None), ("bmi", None), ("symptom_months", None),
                      ("pregnant", "yesno"), ("immunocompromised", "yesno"),
                      ("needle_fear", "yesno")):
        values = a["patient_id"].map(p[col].astype(object))
        if code == "yesno":
            values = values.astype(bool).astype(int)
        elif code:
            values = values.map(code)
        rec[col] = values.where(is_base)
    for col, short in PER_VISIT.items():
        if col == "muscles":
            continue
        values = a[col]
        if col == "needled":
            values = values.astype(int)
        rec[short] = values
    for code, name in MUSCLE_CODES.items():
        ticked = a["muscles"].fillna("").str.split(";").map(lambda parts, n=name: n in parts)
        rec[f"muscles___{code}"] = ticked.astype(int)
    rec["visit_form_complete"] = 2
    ae = sim.adverse_events
    ae_rows = pd.DataFrame({
        "record_id": ae["patient_id"], "redcap_event_name": ae["visit"].map(events),
        "redcap_repeat_instrument": "adverse_events",
        "redcap_repeat_instance": ae.groupby(["patient_id", "visit"]).cumcount() + 1,
        "ae_text": ae["verbatim"], "ae_severity": ae["severity"].map(
            {"mild": 1, "moderate": 2, "severe": 3}),
        "ae_serious": ae["serious"].astype(int),
    })
    export = pd.concat([rec, ae_rows], ignore_index=True)
    dictionary = pd.DataFrame({
        "Variable / Field Name": ["record_id", "arm", "pregnant", "immunocompromised",
                                  "needle_fear", "needled", "muscles", "ae_severity",
                                  "ae_serious"],
        "Form Name": ["enrolment"] * 5 + ["visit"] * 2 + ["adverse_events"] * 2,
        "Field Type": ["text", "radio", "yesno", "yesno", "yesno", "yesno", "checkbox",
                       "radio", "yesno"],
        "Choices, Calculations, OR Slider Labels": [
            None, "1, dry_needling | 2, sham", None, None, None, None,
            " | ".join(f"{k}, {v}" for k, v in MUSCLE_CODES.items()),
            "1, Mild | 2, Moderate | 3, Severe", None],
    })
    mapping = {
        "patients": {"columns": {"patient_id": "record_id", "arm": "arm", "site": "site",
                                 "age": "age", "sex": "sex", "bmi": "bmi",
                                 "symptom_months": "symptom_months", "pregnant": "pregnant",
                                 "immunocompromised": "immunocompromised",
                                 "needle_fear": "needle_fear"}},
        "assessments": {"columns": {"patient_id": "record_id",
                                    **{c: s for c, s in PER_VISIT.items()}}},
        "adverse_events": {"columns": {"patient_id": "record_id", "verbatim": "ae_text",
                                       "severity": "ae_severity", "serious": "ae_serious"}},
    }
    return export, dictionary, mapping


def test_redcap_matches(sim, reference, tmp_path):
    export, dictionary, mapping = _redcap(sim)
    records, dd = tmp_path / "export.csv", tmp_path / "dictionary.csv"
    export.to_csv(records, index=False)
    dictionary.to_csv(dd, index=False)
    got = dno.read_redcap(records, dd, mapping=mapping,
                          events={"followup_12wk_arm_1": 7})
    assert_same_cohort(got, reference)
    actions = set(got.quality.corrections["action"])
    assert "REDCap form status column ignored" in actions


def test_redcap_undeclared_event_is_rejected_with_advice(sim, tmp_path):
    export, dictionary, mapping = _redcap(sim)
    records = tmp_path / "export.csv"
    export.to_csv(records, index=False)
    with pytest.raises(dno.DataValidationError) as info:
        dno.read_redcap(records, dictionary, mapping=mapping)
    problems = info.value.problems
    assert set(problems["rule"]) >= {"unknown_code"}
    first = problems[problems["rule"] == "unknown_code"].iloc[0]
    assert first["value"] == "followup_12wk_arm_1"
    assert first["column"] == "redcap_event_name"
    # the row points at the export's own row (header = row 1)
    row = int(first["row"])
    assert export.iloc[row - 2]["redcap_event_name"] == "followup_12wk_arm_1"
