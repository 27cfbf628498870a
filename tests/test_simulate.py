"""Tests of the synthetic-trial generator, its raw exports and the shipped sample."""

from __future__ import annotations

import doctest
import math
import re
import tomllib
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from dryneedle_outcomes import simulate as sim_mod
from dryneedle_outcomes.errors import ConfigError
from dryneedle_outcomes.simulate import (
    AE_TERMS,
    COMBINED_VERBATIMS,
    MUSCLES,
    simulate_tables,
    visit_labels,
    write_raw_exports,
    write_sample,
)

SAMPLE_DIR = Path(__file__).resolve().parents[1] / "data" / "sample"

PATIENT_DTYPES = {
    "patient_id": "object",
    "arm": "category",
    "site": "object",
    "age": "float64",
    "sex": "object",
    "bmi": "float64",
    "symptom_months": "float64",
    "pregnant": "bool",
    "immunocompromised": "bool",
    "needle_fear": "bool",
    "allocation_guess": "object",
}
ASSESSMENT_DTYPES = {
    "patient_id": "object",
    "visit": "int64",
    "day": "int64",
    "vas_pain": "float64",
    "first_step_pain": "float64",
    "needled": "bool",
    "needles": "int64",
    "twitch_responses": "int64",
    "muscles": "object",
    "laterality": "object",
    "technique": "object",
    "retention_min": "float64",
    "soreness_lower_h": "float64",
    "soreness_upper_h": "float64",
}
AE_DTYPES = {
    "patient_id": "object",
    "visit": "int64",
    "term": "object",
    "verbatim": "object",
    "severity": "object",
    "serious": "bool",
    "relatedness": "object",
    "onset_h": "float64",
    "duration_h": "float64",
    "action_taken": "object",
    "withdrawal": "bool",
    "ascertainment": "object",
}


@pytest.fixture(scope="module")
def small():
    return simulate_tables(84, seed=2014)


@pytest.fixture(scope="module")
def large():
    # 20,000 patients: about 150,000 visits and 55,000 real-needling appointments.
    return simulate_tables(20_000, seed=11)


@pytest.fixture(scope="module")
def large_merged(large):
    return large.assessments.merge(
        large.patients[["patient_id", "arm", "needle_fear"]], on="patient_id"
    )


def _keys(frame: pd.DataFrame) -> pd.Series:
    return frame["patient_id"] + "|" + frame["visit"].astype(str)


# --------------------------------------------------------------------------- structure


def test_same_seed_gives_identical_tables_and_other_seed_differs(small):
    again = simulate_tables(84, seed=2014)
    pd.testing.assert_frame_equal(small.patients, again.patients)
    pd.testing.assert_frame_equal(small.assessments, again.assessments)
    pd.testing.assert_frame_equal(small.adverse_events, again.adverse_events)
    other = simulate_tables(84, seed=2015)
    assert not other.assessments["first_step_pain"].equals(small.assessments["first_step_pain"])


def test_canonical_columns_and_dtypes(small):
    for frame, dtypes in ((small.patients, PATIENT_DTYPES),
                          (small.assessments, ASSESSMENT_DTYPES),
                          (small.adverse_events, AE_DTYPES)):
        assert list(frame.columns) == list(dtypes)
        assert {c: str(t) for c, t in frame.dtypes.items()} == dtypes
    assert list(small.patients["arm"].cat.categories) == ["dry_needling", "sham"]


def test_empty_adverse_events_keep_their_dtypes():
    sim = simulate_tables(5, seed=1, arms=("sham", "control"), allocation=(1, 1), ae_sham=0.0)
    assert len(sim.adverse_events) == 0
    assert {c: str(t) for c, t in sim.adverse_events.dtypes.items()} == AE_DTYPES


def test_patients_one_row_each_with_plausible_demographics(small, large):
    p = small.patients
    assert len(p) == 84 and p["patient_id"].is_unique
    assert p["patient_id"].str.fullmatch(r"DN-\d{4}").all()
    assert p["arm"].value_counts().to_dict() == {"dry_needling": 42, "sham": 42}
    assert set(p["site"]) == {"Site A", "Site B"}
    assert set(p["sex"]) <= {"female", "male"}
    big = large.patients
    assert big["age"].between(18, 85).all() and abs(big["age"].mean() - 50) < 0.5
    assert big["bmi"].between(18, 55).all() and abs(big["bmi"].mean() - 30) < 0.3
    assert abs((big["sex"] == "female").mean() - 0.60) < 0.02  # SE 0.0035
    assert abs(big["symptom_months"].median() - 10) < 0.6
    assert abs(big["needle_fear"].mean() - 0.15) < 0.015  # SE 0.0025
    assert abs(big["immunocompromised"].mean() - 0.02) < 0.006  # SE 0.001
    preg = big.loc[big["pregnant"]]
    assert (preg["sex"] == "female").all() and (preg["age"] <= 45).all()


def test_wide_ids_for_large_cohorts():
    sim = simulate_tables(12_345, seed=3, n_sessions=1, follow_up_weeks=())
    assert sim.patients["patient_id"].iloc[-1] == "DN-12345"
    assert sim.patients["patient_id"].str.len().eq(8).all()


def test_visits_and_days_monotone_per_patient(small, large):
    for sim in (small, large):
        a = sim.assessments
        first = a.groupby("patient_id")[["visit", "day"]].first()
        assert (first["visit"] == 0).all() and (first["day"] == 0).all()
        assert a["patient_id"].nunique() == len(sim.patients)
        same = a["patient_id"].eq(a["patient_id"].shift())
        assert (a["visit"].diff()[same] > 0).all()
        assert (a["day"].diff()[same] > 0).all()
    days = large.assessments.groupby("visit")["day"].agg(["min", "max"])
    assert days.loc[1].tolist() == [6, 8]          # 7 +- 1
    assert days.loc[6].tolist() == [41, 43]        # 42 +- 1
    assert days.loc[7].tolist() == [81, 87]        # 84 +- 3


def test_monotone_dropout(large):
    a = large.assessments
    drop = large.truth["dropout_visit"]
    assert abs((drop >= 0).mean() - 0.10) < 0.015  # SE 0.002
    last = a.groupby("patient_id")["visit"].max()
    dropped = drop[drop >= 0]
    assert (last[dropped.index] < dropped).all()
    # completers miss only isolated visits (2%), so nearly all attend the final visit
    completers = drop.index[drop < 0]
    assert (last[completers] == 7).mean() > 0.97


def test_needling_fields_are_consistent(large_merged):
    a = large_merged
    session = a["visit"].between(1, 6)
    assert not a.loc[~session, "needled"].any()
    assert not a.loc[a["arm"] == "sham", "needled"].any()
    real_sessions = a[session & (a["arm"] == "dry_needling")]
    assert real_sessions["needled"].mean() > 0.95  # only contraindicated patients are not
    n = a.loc[a["needled"]]
    assert n["needles"].between(3, 10).all()
    assert (n["twitch_responses"] <= n["needles"]).all()
    assert (a.loc[~a["needled"], ["needles", "twitch_responses"]] == 0).all().all()
    assert a.loc[~a["needled"], "muscles"].isna().all()
    assert n["muscles"].notna().all()
    for value in n["muscles"].unique():
        parts = value.split(";")
        assert parts == sorted(parts, key=MUSCLES.index) and len(set(parts)) == len(parts)
    # local twitch responses are more frequent early in the course
    ltr = n.groupby("visit")["twitch_responses"].sum() / n.groupby("visit")["needles"].sum()
    assert ltr.is_monotonic_decreasing and ltr[1] > 0.5 > 0.25 > ltr[6]
    # soreness: after needled and sham sessions only (the sham is a procedure too)
    sham_session = session & (a["arm"] == "sham")
    assert a.loc[~(a["needled"] | sham_session),
                 ["soreness_lower_h", "soreness_upper_h"]].isna().all().all()
    rep = n.dropna(subset=["soreness_lower_h"])
    assert (rep["soreness_lower_h"] <= rep["soreness_upper_h"]).all()
    assert (rep["soreness_lower_h"] >= 0).all()


def test_contraindicated_patients_are_not_needled(large):
    p = large.patients
    contra = p.loc[p["pregnant"] | p["immunocompromised"], "patient_id"]
    a = large.assessments
    assert not a.loc[a["patient_id"].isin(contra), "needled"].any()


def test_truth_contents(small):
    t = small.truth
    for key in ("seed", "parameters", "arm_means", "arm_difference", "variance",
                "dropout_visit", "visits", "record_scales"):
        assert key in t
    assert t["seed"] == 2014
    diff = t["arm_difference"].set_index("visit")["estimate"]
    assert diff[0] == 0.0 and diff[6] == pytest.approx(-14.4)
    assert diff.loc[1:6].is_monotonic_decreasing  # reached gradually
    means = t["arm_means"].pivot(index="visit", columns="arm", values="first_step_pain")
    assert (means["dry_needling"] - means["sham"]).to_numpy() == pytest.approx(diff.to_numpy())
    assert t["variance"]["intercept_sd"] == 12 and t["variance"]["residual_sd"] == 10


# --------------------------------------------------------------------------- realism


def test_arm_difference_and_sham_improvement_at_large_n(large, large_merged):
    a = large_merged
    means = a.groupby(["visit", "arm"], observed=True)["first_step_pain"].mean().unstack()
    diff = means["dry_needling"] - means["sham"]
    # SD at session 6 is about 16 mm with ~9,000 patients per arm: SE of the
    # difference about 0.25 mm, so 1 mm is 4 SE (recording on cm/NRS scales is unbiased).
    assert diff[6] == pytest.approx(-14.4, abs=1.0)
    assert abs(diff[0]) < 1.0
    truth = large.truth["arm_means"].pivot(index="visit", columns="arm",
                                           values="first_step_pain")
    assert np.abs(means.to_numpy() - truth[means.columns].to_numpy()).max() < 1.0
    base = a[a["visit"] == 0].set_index("patient_id")["first_step_pain"]
    chg = a["first_step_pain"] - a["patient_id"].map(base)
    sham6 = chg[(a["arm"] == "sham") & (a["visit"] == 6)].mean()
    assert -20 <= sham6 <= -15
    assert base.between(25, 100).all()
    assert abs(base.mean() - 68) < 1.5 and 13 < base.std() < 17
    vas = a.loc[a["visit"] == 0, "vas_pain"]
    assert vas.mean() < base.mean()
    assert a[["first_step_pain", "vas_pain"]].corr().iloc[0, 1] > 0.8


def test_custom_effect_and_schedule():
    sim = simulate_tables(20_000, seed=5, effect_mm=0.0, n_sessions=4, sessions_per_week=2,
                          follow_up_weeks=(8, 26), dropout=0.0)
    a = sim.assessments.merge(sim.patients[["patient_id", "arm"]])
    assert sorted(a["visit"].unique()) == list(range(7))
    means = a.groupby(["visit", "arm"], observed=True)["first_step_pain"].mean().unstack()
    assert abs(means.loc[4, "dry_needling"] - means.loc[4, "sham"]) < 1.0
    assert sim.truth["visit_labels"][6] == "Follow-up 26 wk"
    diff = simulate_tables(10, effect_mm=-20).truth["arm_difference"].set_index("visit")
    assert diff.loc[6, "estimate"] == pytest.approx(-20)


def test_adverse_event_rates_at_large_n(large, large_merged):
    a = large_merged
    ae = large.adverse_events
    assert set(ae["term"]) <= set(AE_TERMS)
    real = a[(a["arm"] == "dry_needling") & a["needled"]]
    keys = _keys(real)
    n_appt = len(real)
    assert n_appt > 50_000
    # Binomial SE of a proportion p over ~55,000 appointments: sqrt(p(1-p)/n),
    # 0.0020 at 30%, 0.0011 at 7.6%, 0.0009 at 4.7%; tolerances are 5 SE or more
    # (the 30% target itself is approximate: Cotchett 2014 reported 32%).
    any_ae = keys.isin(set(_keys(ae))).mean()
    by_term = {t: keys.isin(set(_keys(ae[ae["term"] == t]))).mean() for t in AE_TERMS}
    # Brady et al. 2014 per treatment (at the mean number of needles); SE at most 0.0011
    assert by_term["bruising"] == pytest.approx(0.0755, abs=0.006)
    assert by_term["bleeding"] == pytest.approx(0.0465, abs=0.005)
    assert by_term["needle_site_pain"] == pytest.approx(0.0301, abs=0.004)
    assert by_term["aggravation_of_symptoms"] == pytest.approx(0.0088, abs=0.002)
    # soreness AEs: exactly the needled sessions whose true soreness lasted >= 48 h, so
    # their rate is P(duration >= 48 h) = 0.9 (1 - Phi(log(48 / m_k) / 0.541)), m_k the
    # median at session k (24 h x 0.93^(k-1)), averaged over sessions 1-6
    med = 24.0 * 0.93 ** np.arange(6)
    p_long = np.mean(0.9 * stats.norm.sf(np.log(48.0 / med) / 0.541))
    assert by_term["post_needling_soreness"] == pytest.approx(p_long, abs=0.006)
    # any AE: at least the commonest term, at most the sum of the terms' rates
    assert max(by_term.values()) < any_ae < sum(by_term.values())
    assert by_term["vasovagal"] < 0.01 and by_term["infection"] < 0.002
    # vasovagal reactions concentrate in needle-fearful patients
    vv = set(_keys(ae[ae["term"] == "vasovagal"]))
    fear_rate = keys[real["needle_fear"]].isin(vv).mean()
    calm_rate = keys[~real["needle_fear"]].isin(vv).mean()
    assert fear_rate > 5 * calm_rate
    # the probability rises with needles inserted
    by_needles = real.assign(ae=keys.isin(set(_keys(ae)))).groupby("needles")["ae"].mean()
    # local terms (bruising, bleeding, needle-site pain: about 15% together at the mean of
    # about 6.5 needles) scale with needles: 10 vs 3 needles adds about 0.15 x 7 / 6.5,
    # less the overlap of terms at one appointment; soreness does not depend on needles
    assert by_needles[10] > by_needles[3] + 0.10
    # sham: about one event per 250 appointments
    sham = a[(a["arm"] == "sham") & a["visit"].between(1, 6)]
    assert _keys(sham).isin(set(_keys(ae))).mean() < 0.01
    assert (ae["severity"] == "mild").mean() > 0.9
    assert ae["serious"].mean() < 0.005
    assert ae["visit"].between(1, 6).all()
    assert _keys(ae).isin(set(_keys(a))).all()  # every event at an attended session


def test_soreness_mostly_resolves_within_48h(large):
    a = large.assessments
    rep = a.loc[a["needled"]].dropna(subset=["soreness_lower_h"])
    assert len(rep) / a["needled"].sum() > 0.95  # missing only without a next contact
    assert (rep["soreness_upper_h"] <= 48).mean() > 0.85
    assert (rep["soreness_lower_h"] < 48).mean() > 0.9
    assert np.isinf(rep["soreness_upper_h"]).mean() < 0.06
    exact = rep[rep["soreness_lower_h"] == rep["soreness_upper_h"]]
    assert 0.3 < len(exact) / len(rep) < 0.6
    # reports shrink over the course
    mid = rep.assign(mid=np.where(np.isinf(rep["soreness_upper_h"]), rep["soreness_lower_h"],
                                  (rep["soreness_lower_h"] + rep["soreness_upper_h"]) / 2))
    by_visit = mid.groupby("visit")["mid"].mean()
    assert by_visit[6] < by_visit[1]


def test_bad_arguments_raise():
    with pytest.raises(ConfigError):
        simulate_tables(10, allocation=(1.0,))
    with pytest.raises(ConfigError):
        simulate_tables(10, dropout=1.5)
    with pytest.raises(ConfigError):
        simulate_tables(10, follow_up_weeks=(4,))  # before the last session
    with pytest.raises(ConfigError):
        simulate_tables(0)
    with pytest.raises(TypeError, match="unknown parameter"):
        simulate_tables(10, residual_sdd=3)


# --------------------------------------------------------------------------- raw exports


def _parse_soreness(text) -> tuple[float, float]:
    """The soreness grammar of the exports, parsed independently of the loader."""
    if not isinstance(text, str) or not text.strip():
        return math.nan, math.nan
    t = text.strip()
    if t == "none":
        return 0.0, 0.0
    if t == "ongoing":
        return 0.0, math.inf
    if m := re.fullmatch(r">(\d+)h", t):
        return float(m[1]), math.inf
    if m := re.fullmatch(r"(\d+)[-\u2013](\d+) ?(h|hrs|days)", t):
        f = 24.0 if m[3] == "days" else 1.0
        return float(m[1]) * f, float(m[2]) * f
    if m := re.fullmatch(r"(\d+) ?(h|days?)?", t):
        f = 24.0 if m[2] in ("day", "days") else 1.0
        return float(m[1]) * f, float(m[1]) * f
    raise AssertionError(f"unexpected soreness text {text!r}")


@pytest.fixture(scope="module")
def exports(small, tmp_path_factory):
    directory = tmp_path_factory.mktemp("raw")
    return write_raw_exports(small, directory)


def _read_assessments(path) -> pd.DataFrame:
    return pd.read_csv(path, sep=";", decimal=",", encoding="cp1252", dtype={"Study ID": str},
                       keep_default_na=False, na_values=[""])


def test_exports_files_and_encodings(exports):
    assert sorted(exports) == ["adverse_events", "assessments", "intercurrent_events",
                               "mapping", "patients", "problems"]
    raw_bytes = exports["assessments"].read_bytes()
    assert b"M\xfcller" in raw_bytes  # cp1252 "ü": reading it as UTF-8 would fail
    with pytest.raises(UnicodeDecodeError):
        raw_bytes.decode("utf-8")
    assert b"\r\n" in raw_bytes
    assert exports["adverse_events"].read_bytes().startswith(b"\xef\xbb\xbf")
    mapping = tomllib.loads(exports["mapping"].read_text(encoding="utf-8"))
    assert mapping["assessments"]["delimiter"] == ";"
    assert mapping["assessments"]["scales"]["first_step_pain"] == "cm"
    assert mapping["assessments"]["site_scales"]["Site B"]["first_step_pain"] == "nrs10"
    assert mapping["assessments"]["codes"]["visit"]["Follow-up 12 wk"] == 7
    assert mapping["patients"]["header_row"] == 3
    assert mapping["patients"]["codes"]["arm"] == {"1": "dry_needling", "2": "sham"}
    assert mapping["adverse_events"]["codes"]["visit"]["Session 6"] == 6


def test_exports_planted_problems_present(small, exports):
    probs = exports.problems
    assert len(probs) == 8
    assert set(probs["problem"]) == {"out_of_range", "invalid_date", "conflicting_duplicate",
                                     "exact_duplicate", "unknown_patient", "id_typo",
                                     "protocol_deviation", "ice_at_baseline"}
    on_disk = pd.read_csv(exports["problems"])
    assert on_disk["problem"].tolist() == probs["problem"].tolist()
    raw = _read_assessments(exports["assessments"])
    assert len(raw) == len(small.assessments) + 3  # two duplicates and one unknown patient
    row = {p.problem: p for p in probs.itertuples()}

    def line(name):  # spreadsheet row -> DataFrame row
        return raw.iloc[int(row[name].row) - 2]

    assert float(line("out_of_range")["First-step pain"]) > 10  # beyond a 0-10 scale
    assert line("invalid_date")["Visit date"] == "31/02/2024"
    assert line("id_typo")["Study ID"] == "dn-0012 "
    assert line("unknown_patient")["Study ID"] not in set(small.patients["patient_id"])
    dup = int(row["exact_duplicate"].row) - 2
    pd.testing.assert_series_equal(raw.iloc[dup], raw.iloc[dup - 1], check_names=False)
    conf = int(row["conflicting_duplicate"].row) - 2
    assert raw.iloc[conf]["Study ID"] == raw.iloc[conf - 1]["Study ID"]
    assert raw.iloc[conf]["Visit"] == raw.iloc[conf - 1]["Visit"]
    assert raw.iloc[conf]["First-step pain"] != raw.iloc[conf - 1]["First-step pain"]
    reg = pd.read_excel(exports["patients"], sheet_name="Participants", header=2)
    dev = reg.iloc[int(row["protocol_deviation"].row) - 4]
    assert dev["Pregnant"] == "Y"
    assert not small.patients.set_index("patient_id").loc[dev["Participant"], "pregnant"]
    a = small.assessments
    assert a.loc[a["patient_id"] == dev["Participant"], "needled"].any()
    # an intercurrent event written at the baseline visit: one extra row of that file
    ice = pd.read_csv(exports["intercurrent_events"], sep=";", encoding="utf-8",
                      dtype=str, keep_default_na=False)
    assert len(ice) == len(small.intercurrent_events) + 1
    planted = ice.iloc[int(row["ice_at_baseline"].row) - 2]
    assert planted["Visit"] == "Baseline"
    assert planted["Study ID"] == row["ice_at_baseline"].patient_id
    assert row["ice_at_baseline"].patient_id not in set(
        probs.loc[probs["problem"] != "ice_at_baseline", "patient_id"])


def test_exports_round_trip_to_the_canonical_tables(small, tmp_path):
    paths = write_raw_exports(small, tmp_path, inject_problems=False)
    assert "problems" not in paths and len(paths.problems) == 0
    raw = _read_assessments(paths["assessments"])
    a = small.assessments
    assert len(raw) == len(a) and "day" not in raw.columns
    assert raw["Study ID"].tolist() == a["patient_id"].tolist()
    labels = {v: k for k, v in visit_labels(6, (12,)).items()}
    assert raw["Visit"].map(labels).tolist() == a["visit"].tolist()
    dates = pd.to_datetime(raw["Visit date"], format="%d/%m/%Y")
    base = dates.groupby(raw["Study ID"]).transform("first")
    assert ((dates - base).dt.days == a["day"]).all()
    scale = raw["Clinic"].map({"Site A": 10.0, "Site B": 10.0})
    fsp = pd.to_numeric(raw["First-step pain"]) * scale
    assert np.allclose(fsp, a["first_step_pain"])
    # Site A in cm with one decimal, Site B as whole NRS points
    text = pd.read_csv(paths["assessments"], sep=";", encoding="cp1252", dtype=str)
    site_a = text.loc[raw["Clinic"] == "Site A", "First-step pain"]
    assert site_a.str.fullmatch(r"\d{1,2},\d").all()
    assert text.loc[raw["Clinic"] == "Site B", "First-step pain"].str.fullmatch(r"\d{1,2}").all()
    assert np.allclose(raw["Usual pain"], a["vas_pain"])
    assert (raw["Needled"].map({"Y": True, "N": False}) == a["needled"]).all()
    assert (raw["No. of needles"] == a["needles"]).all()
    assert (raw["LTRs"] == a["twitch_responses"]).all()
    assert (raw["Muscles needled"].notna() == a["needled"]).all()
    parsed = raw["Soreness after session"].map(_parse_soreness)
    lower = parsed.map(lambda x: x[0])
    upper = parsed.map(lambda x: x[1])
    assert np.array_equal(lower.to_numpy(), a["soreness_lower_h"].to_numpy(), equal_nan=True)
    assert np.array_equal(upper.to_numpy(), a["soreness_upper_h"].to_numpy(), equal_nan=True)
    assert raw["Clinician"].str.contains("[^\x00-\x7f]").any()
    reg = pd.read_excel(paths["patients"], sheet_name="Participants", header=2)
    assert reg.columns.tolist() == [
        "Participant", "Allocation", "Site", "Age (y)", "Sex", "BMI",
        "Duration of symptoms (months)", "Pregnant", "Immunocompromised", "Needle phobia",
        "Guess of allocation (end of treatment)"]
    p = small.patients
    assert reg["Participant"].tolist() == p["patient_id"].tolist()
    assert (reg["Allocation"].map({1: "dry_needling", 2: "sham"}) == p["arm"].astype(str)).all()
    assert (reg["Sex"].map({"F": "female", "M": "male"}) == p["sex"]).all()
    assert (reg["Pregnant"] == p["pregnant"].map({True: "Y", False: "N"})).all()
    assert np.allclose(reg["BMI"], p["bmi"]) and np.allclose(reg["Age (y)"], p["age"])
    title = pd.read_excel(paths["patients"], sheet_name="Participants", header=None, nrows=2)
    assert title.iloc[0, 0].startswith("DN-PF trial")
    assert "Notes" in pd.ExcelFile(paths["patients"]).sheet_names
    ae = pd.read_csv(paths["adverse_events"], encoding="utf-8-sig")
    assert ae.columns.tolist() == ["Study ID", "Visit", "Event (verbatim)", "Severity",
                                   "Serious", "Related to needling", "Onset after session",
                                   "Duration", "Action taken", "Led to withdrawal",
                                   "How reported"]
    # a verbatim naming two events ("bruising and bleeding") is one record in the export
    canon = small.adverse_events
    one = ~(canon["verbatim"].isin(COMBINED_VERBATIMS)
            & canon.duplicated(["patient_id", "visit", "verbatim"]))
    canon = canon[one.to_numpy()]
    assert ae["Event (verbatim)"].tolist() == canon["verbatim"].tolist()
    assert ae["Visit"].map(labels).tolist() == canon["visit"].tolist()
    sev = ae["Severity"].str.lower().replace(
        {"grade 1": "mild", "grade 2": "moderate", "grade 3": "severe"})
    assert sev.tolist() == canon["severity"].tolist()


def test_soreness_text_forms_cover_the_clinical_spellings(large, tmp_path):
    a = large.assessments.iloc[:40_000]
    text = sim_mod.exports._soreness_text(np.random.default_rng(0),
                                          a["soreness_lower_h"].to_numpy(),
                                          a["soreness_upper_h"].to_numpy())
    forms = set(text)
    for expected in ("none", "24-48h", "24\u201348 hrs", "1-2 days", "2 days", "1 day",
                     ">48h", "36", "36h"):
        assert expected in forms
    back = [_parse_soreness(t) for t in text]
    assert np.array_equal(np.array([b[0] for b in back]), a["soreness_lower_h"].to_numpy(),
                          equal_nan=True)


def test_write_sample_is_reproducible_and_matches_the_shipped_sample(tmp_path):
    paths = write_sample(tmp_path)
    assert {"analysis", "readme"} <= set(paths)
    readme = paths["readme"].read_text(encoding="utf-8")
    for word in ("Synthetic", "seed 2014", "Cotchett", "cp1252", "Planted problems",
                 "python -m dryneedle_outcomes.simulate"):
        assert word in readme
    for prob in paths.problems.itertuples():
        assert f"`{prob.problem}`" in readme
    config = tomllib.loads(paths["analysis"].read_text(encoding="utf-8"))
    assert config["data"]["errors"] == "quarantine"
    assert config["simulation"] == {"seed": 2014, "n_patients": 84}
    for path in paths.values():
        shipped = SAMPLE_DIR / path.name
        assert shipped.exists(), f"{shipped} is missing: run python -m dryneedle_outcomes.simulate"
        assert _written_content(shipped) == _written_content(path), (
            f"{shipped} is out of date: run python -m dryneedle_outcomes.simulate data/sample")


def _written_content(path: Path) -> bytes | dict[str, bytes]:
    """A file's bytes; for .xlsx every zip member's bytes except docProps/app.xml, which
    names the openpyxl version that wrote it (the sheets are byte-identical across the
    versions pyproject allows)."""
    if path.suffix != ".xlsx":
        return path.read_bytes()
    with zipfile.ZipFile(path) as z:
        return {n: z.read(n) for n in z.namelist() if n != "docProps/app.xml"}


def test_cli_writes_a_sample(tmp_path, capsys):
    assert sim_mod.sample.main([str(tmp_path), "--n-patients", "12", "--seed", "3"]) == 0
    assert (tmp_path / "assessments.csv").exists() and (tmp_path / "README.md").exists()
    assert "mapping" in capsys.readouterr().out


@pytest.mark.parametrize("module", [sim_mod, sim_mod.parameters, sim_mod.truth,
                                    sim_mod.after_needling, sim_mod.exports, sim_mod.sample,
                                    sim_mod.intercurrent],
                         ids=lambda m: m.__name__.rpartition(".")[2])
def test_docstring_examples_run(module):
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0


# --------------------------------------------------------------------------- with the loader


def test_simulate_cohort_loads_the_simulated_tables():
    from dryneedle_outcomes.simulate import simulate_cohort

    sim = simulate_tables(60, seed=9)
    cohort = simulate_cohort(60, seed=9)
    assert cohort.n_patients == 60
    assert list(cohort.patients["arm"].cat.categories) == ["dry_needling", "sham"]
    counts = cohort.quality.counts.set_index("table")
    assert (counts["rejected"] == 0).all()
    assert (counts["read"] == counts["kept"]).all()
    got = cohort.assessments.sort_values(["patient_id", "visit"]).reset_index(drop=True)
    want = sim.assessments
    assert got["patient_id"].tolist() == want["patient_id"].tolist()
    assert got["visit"].tolist() == want["visit"].tolist()
    for col in ("first_step_pain", "vas_pain", "soreness_lower_h", "soreness_upper_h"):
        assert np.array_equal(got[col].to_numpy(float), want[col].to_numpy(float),
                              equal_nan=True)
    assert len(cohort.adverse_events) == len(sim.adverse_events)


def test_loader_reads_the_clean_exports_back_exactly(small, tmp_path):
    from dryneedle_outcomes.load import load_cohort

    paths = write_raw_exports(small, tmp_path, inject_problems=False)
    cohort = load_cohort(paths["assessments"], paths["patients"], paths["adverse_events"],
                         mapping=paths["mapping"], errors="raise")
    got = cohort.assessments
    want = small.assessments
    assert got["patient_id"].tolist() == want["patient_id"].tolist()
    assert got["visit"].tolist() == want["visit"].tolist()
    for col in ("day", "first_step_pain", "vas_pain", "needles", "twitch_responses",
                "soreness_lower_h", "soreness_upper_h"):
        assert np.array_equal(got[col].to_numpy(float), want[col].to_numpy(float),
                              equal_nan=True), col
    assert got["needled"].astype(bool).tolist() == want["needled"].tolist()
    assert got["muscles"].fillna("").tolist() == want["muscles"].fillna("").tolist()
    # the STRICTA details: technique and retention exactly; the side where the text wrote one
    assert got["technique"].fillna("").tolist() == want["technique"].fillna("").tolist()
    assert np.array_equal(got["retention_min"].to_numpy(float),
                          want["retention_min"].to_numpy(float), equal_nan=True)
    side = got["laterality"].notna().to_numpy()
    assert side.sum() > 0.5 * want["laterality"].notna().sum()
    assert (got["laterality"][side] == want["laterality"][side]).all()
    pats = cohort.patients.set_index("patient_id").loc[small.patients["patient_id"]]
    for col in ("arm", "site", "sex", "pregnant", "immunocompromised", "needle_fear"):
        assert pats[col].astype(str).tolist() == small.patients[col].astype(str).tolist(), col
    for col in ("age", "bmi", "symptom_months"):
        assert np.allclose(pats[col].astype(float), small.patients[col]), col
    ev = cohort.adverse_events
    assert ev["term"].astype(str).tolist() == small.adverse_events["term"].tolist()
    assert ev["severity"].astype(str).tolist() == small.adverse_events["severity"].tolist()


def test_loader_accounts_for_every_planted_problem_in_the_sample():
    from dryneedle_outcomes.load import load_cohort

    with pytest.warns(Warning):  # the protocol deviation is reported
        cohort = load_cohort("assessments.csv", "patients.xlsx", "adverse_events.csv",
                             mapping=SAMPLE_DIR / "mapping.toml", errors="quarantine",
                             base_dir=SAMPLE_DIR)
    probs = pd.read_csv(SAMPLE_DIR / "planted_problems.csv")
    q = cohort.quality
    listed = pd.concat([q.rejected[["table", "row"]], q.flags[["table", "row"]]])
    rows = set(listed.loc[listed["table"] == "assessments", "row"].astype(int))
    for prob in probs[probs["file"] == "assessments.csv"].itertuples():
        assert int(prob.row) in rows, prob.problem
    deviant = probs.loc[probs["problem"] == "protocol_deviation", "patient_id"].iloc[0]
    deviations = cohort.protocol_deviations
    assert len(deviations) > 0
    assert deviant in " ".join(deviations.astype(str).to_numpy().ravel())
    counts = q.counts.set_index("table")
    assert (counts["read"] == counts["kept"] + counts["rejected"]).all()


def test_write_sample_with_three_arms_describes_each_difference(tmp_path):
    """The README writer took one arm difference as a float and failed with 3 arms."""
    import dryneedle_outcomes as dno

    dno.write_sample(tmp_path / "three", n_patients=30, seed=1,
                     arms=("dry_needling", "stretching", "sham"), allocation=(1, 1, 1))
    text = (tmp_path / "three" / "README.md").read_text(encoding="utf-8")
    assert "dry_needling minus sham" in text and "stretching minus sham" in text


def test_needling_details_have_their_own_random_stream():
    """Other details (more bilateral, static needling, other intrinsic muscles) leave the
    pain, attendance, needles and adverse events of a seed unchanged."""
    base = simulate_tables(60, seed=9)
    other = simulate_tables(60, seed=9, bilateral=0.9, static_technique=0.9,
                            intrinsic_probabilities=(0.1, 0.9, 0.9, 0.9))
    kept = ["patient_id", "visit", "day", "first_step_pain", "vas_pain", "needled", "needles",
            "twitch_responses", "soreness_lower_h", "soreness_upper_h"]
    pd.testing.assert_frame_equal(base.assessments[kept], other.assessments[kept])
    pd.testing.assert_frame_equal(base.adverse_events, other.adverse_events)
    pd.testing.assert_frame_equal(base.intercurrent_events, other.intercurrent_events)
    # the sites needled are the main stream's: the same rows name an intrinsic muscle
    intrinsic = "abductor|flexor_digitorum|quadratus|digiti"
    assert (base.assessments["muscles"].fillna("").str.contains(intrinsic)
            == other.assessments["muscles"].fillna("").str.contains(intrinsic)).all()
    n = other.assessments[other.assessments["needled"]]
    assert n["technique"].eq("static").mean() > 0.6
    assert n["retention_min"].notna().eq(n["technique"].eq("static")).all()
    assert not base.assessments.loc[~base.assessments["needled"],
                                    ["laterality", "technique"]].notna().any().any()
