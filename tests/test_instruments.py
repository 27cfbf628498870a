"""Instruments (issue 12): the registry, user instruments, and the NRS kept apart from
the VAS unless the mapping pools it.

Every rule is checked on hand-built cohorts whose right answer is known by
construction: an NRS score of 7 pooled into the 0-100 mm VAS is exactly 70 (pure
arithmetic, compared exactly), a ledger entry counts exactly the rows built, an
out-of-range score of a registered instrument is rejected. The pooled analysis with the
instrument covariate is compared with R (nlme::gls + emmeans, survival::coxph) in
tests/reference/instruments (README there).
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import dryneedle_outcomes as dno
from dryneedle_outcomes.errors import AnalysisError, ConfigError, MappingError

REF = Path(__file__).parent / "reference" / "instruments"
#: nlme::gls and our REML fit both stop on a convergence criterion of the objective; on
#: this data they agree to about 1e-5 relative on the parameters (as the other gls
#: references, tests/test_model_terms.py), so estimates and SEs are compared at 1e-4
MMRM_RTOL = 1e-4
#: the REML log-likelihood is flat at the optimum: agreement to 1e-6 relative
LOGLIK_RTOL = 1e-6
#: Cox: Newton-Raphson to coxph's eps = 1e-9 on the log partial likelihood, both
#: converging quadratically in a few steps: 1e-6 relative on ratios and SEs
COX_RTOL = 1e-6


# ---------------------------------------------------------------- hand-built cohorts
def two_sites(n_per_arm: int = 6, visits: int = 4, *, seed: int = 3):
    """Site A scores first-step pain on a 0-100 mm VAS, site B on a 0-10 NRS.

    Half of each arm at each site; pain falls faster under dry needling. NRS scores are
    whole points (as patients give them), VAS scores whole millimetres.
    """
    rng = np.random.default_rng(seed)
    ids, arms, sites = [], [], []
    for arm in ("dry_needling", "sham"):
        for i in range(n_per_arm):
            ids.append(f"{arm[0].upper()}{i:02d}")
            arms.append(arm)
            sites.append("A" if i % 2 == 0 else "B")
    patients = pd.DataFrame({"patient_id": ids, "arm": arms, "site": sites})
    rows = []
    for pid, arm, site in zip(ids, arms, sites):
        base = rng.uniform(55, 80)
        slope = 9.0 if arm == "dry_needling" else 3.0
        for v in range(visits):
            mm = float(np.clip(base - slope * v + rng.normal(0, 6), 0, 100))
            value = round(mm / 10) if site == "B" else round(mm)
            rows.append({"patient_id": pid, "visit": v, "day": 7 * v, "site": site,
                         "fsp": value})
    return pd.DataFrame(rows), patients


def mapping(pool: bool) -> dict:
    m = {"assessments": {
        "columns": {"first_step_pain": "fsp"},
        "site_scales": {"B": {"first_step_pain": "nrs10"}},
    }}
    if pool:
        m["assessments"]["pool_as"] = {"first_step_pain_nrs": "first_step_pain"}
    return m


def load(pool: bool, **kw):
    visits, patients = two_sites(**kw)
    return dno.load_cohort(visits, patients, mapping=mapping(pool)), visits


# ---------------------------------------------------------------- the NRS instrument
def test_the_first_step_pain_nrs_is_its_own_instrument_with_a_cited_mcid():
    nrs = dno.get_instrument("first_step_pain_nrs")
    assert (nrs.lower, nrs.upper, nrs.units, nrs.higher_is_better) == (0.0, 10.0, "points",
                                                                        False)
    # Farrar et al. 2001: "a reduction of approximately two points or ... 30%"
    assert nrs.mcid == 2.0
    assert "Pain. 2001;94(2):149-158" in nrs.mcid_source
    assert "Eur J Pain 2004;8(4):283-291" in nrs.mcid_source
    assert nrs.alternative_to == ("first_step_pain",)
    assert dno.get_instrument("first_step_pain").mcid == 19.0   # the VAS keeps its own


def test_unpooled_nrs_stays_its_own_column_and_a_vas_analysis_names_its_rows():
    cohort, visits = load(pool=False)
    a = cohort.assessments
    at_b = (a["site"] == "B").to_numpy()
    # not converted: the NRS values are the scores as given, the VAS column is empty there
    assert a.loc[at_b, "first_step_pain_nrs"].tolist() == visits.loc[
        visits["site"] == "B", "fsp"].astype(float).tolist()
    assert a.loc[at_b, "first_step_pain"].isna().all()
    assert a.loc[~at_b, "first_step_pain_nrs"].isna().all()
    assert "first_step_pain_instrument" not in a and "first_step_pain_instrument" not in \
        cohort.patients
    corr = cohort.quality.corrections
    kept = corr[corr["action"] == "kept as its own instrument (not converted into "
                                  "first_step_pain)"]
    assert kept[["column", "old", "new", "n_rows"]].values.tolist() == [
        ["fsp", "nrs10 at site(s) 'B'", "first_step_pain_nrs", int(at_b.sum())]]
    assert cohort.pooled == {}
    b_patients = sorted(set(a.loc[at_b, "patient_id"]))
    # the specific class from the cohort; analyses pass it on in their one warnings
    # channel (result.warnings, re-issued as DryNeedleWarning: dryneedle_outcomes.alerts)
    with pytest.warns(dno.UnpooledInstrumentWarning) as caught:
        cohort.change_from_baseline("first_step_pain")
    message = str(caught[0].message)
    with pytest.warns(dno.DryNeedleWarning) as seen:
        fit = dno.fit_trajectory(cohort, "first_step_pain", model="random_intercept",
                                 time="visit")
    # the unpooled NRS rows, and site B's patients left out (no VAS baseline)
    texts = [str(w.message) for w in seen]
    assert len(texts) == 2 and message in texts
    assert any(t.startswith(f"{int(at_b.sum())} row(s) of {len(b_patients)} patient(s) were "
                            "not modelled") for t in texts)
    assert f"{int(at_b.sum())} assessment(s) of {len(b_patients)} patient(s)" in message
    assert b_patients[0] in message and "site 'B'" in message
    assert "Site(s) 'B' scored first_step_pain_nrs only" in message
    assert "pool_as" in message
    assert message in fit.warnings
    # only site A's patients are modelled: the NRS did not slip in
    assert fit.n_patients == int((cohort.patients["site"] == "A").sum())
    with pytest.warns(dno.DryNeedleWarning, match="first_step_pain_nrs"):
        dno.responders(cohort, "first_step_pain", mcid=True)


def test_the_unpooled_nrs_is_analysed_as_itself_with_its_own_mcid():
    cohort, _ = load(pool=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error", dno.UnpooledInstrumentWarning)
        res = dno.responders(cohort, "first_step_pain_nrs", mcid=True)
    assert res.definition == "improvement from baseline >= 2 (MCID)"
    assert not any("first_step_pain_nrs" in w for w in res.warnings)
    with pytest.warns(dno.DryNeedleWarning, match="not modelled"):  # site A: no NRS
        fit = dno.fit_trajectory(cohort, "first_step_pain_nrs", model="random_intercept",
                                 time="visit")
    assert fit.n_patients == int((cohort.patients["site"] == "B").sum())


def test_a_vas_analysis_of_nrs_only_data_is_refused_with_the_reason():
    visits, patients = two_sites()
    m = {"assessments": {"columns": {"first_step_pain": "fsp"},
                         "scales": {"first_step_pain": "nrs10"}}}
    visits["fsp"] = (visits["fsp"].where(visits["site"] == "B", visits["fsp"] / 10)
                     .round())
    cohort = dno.load_cohort(visits, patients, mapping=m)
    with pytest.raises(AnalysisError, match=r"no value of first_step_pain to analyse.*"
                                            r"first_step_pain_nrs"):
        dno.fit_trajectory(cohort, "first_step_pain")
    with pytest.raises(AnalysisError, match="no value of first_step_pain"):
        cohort.change_from_baseline("first_step_pain")


# ---------------------------------------------------------------- pooled
def test_pool_as_pools_the_nrs_times_ten_with_a_ledger_entry_per_site():
    cohort, visits = load(pool=True)
    a = cohort.assessments
    at_b = (a["site"] == "B").to_numpy()
    src_b = visits.loc[visits["site"] == "B", "fsp"].astype(float).to_numpy()
    src_a = visits.loc[visits["site"] == "A", "fsp"].astype(float).to_numpy()
    # exact: x10 is pure arithmetic on whole NRS points
    assert a.loc[at_b, "first_step_pain"].tolist() == (src_b * 10).tolist()
    assert a.loc[~at_b, "first_step_pain"].tolist() == src_a.tolist()
    assert a.loc[at_b, "first_step_pain_nrs"].tolist() == src_b.tolist()
    assert set(a.loc[at_b, "first_step_pain_instrument"]) == {"first_step_pain_nrs"}
    assert set(a.loc[~at_b, "first_step_pain_instrument"]) == {"first_step_pain"}
    pats = cohort.patients.set_index("patient_id")
    assert pats["first_step_pain_instrument"].cat.categories.tolist() == [
        "first_step_pain", "first_step_pain_nrs"]   # the VAS is the reference level
    assert (pats["first_step_pain_instrument"].astype(str).eq("first_step_pain_nrs")
            == pats["site"].eq("B")).all()
    corr = cohort.quality.corrections
    pooled = corr[corr["action"] == "pooled as first_step_pain (pool_as in the mapping): x10"]
    assert pooled[["table", "source", "column", "old", "new", "n_rows"]].values.tolist() == [
        ["assessments", "<DataFrame:assessments>", "fsp",
         "first_step_pain_nrs (0-10 points) at site 'B'", "first_step_pain (0-100 mm)",
         int(at_b.sum())]]
    assert cohort.pooled["first_step_pain"]["sources"]["first_step_pain_nrs"]["rows"] == \
        int(at_b.sum())
    assert cohort.provenance["pool_as"] == {"first_step_pain_nrs": "first_step_pain"}


def test_pooled_rows_with_both_instruments_keep_the_vas_and_are_flagged():
    visits = pd.DataFrame({"patient_id": ["P1", "P1", "P2", "P2"], "visit": [0, 1, 0, 1],
                           "first_step_pain": [70.0, None, 60.0, 40.0],
                           "first_step_pain_nrs": [6.0, 5.0, None, 3.0]})
    patients = pd.DataFrame({"patient_id": ["P1", "P2"], "arm": ["a", "b"]})
    cohort = dno.load_cohort(visits, patients, mapping={"assessments": {"pool_as": {
        "first_step_pain_nrs": "first_step_pain"}}})
    assert cohort.assessments["first_step_pain"].tolist() == [70.0, 50.0, 60.0, 40.0]
    assert cohort.assessments["first_step_pain_instrument"].tolist() == [
        "first_step_pain", "first_step_pain_nrs", "first_step_pain", "first_step_pain"]
    flags = cohort.quality.flags
    both = flags[flags["rule"] == "pooled_both_recorded"]
    assert both["row"].tolist() == [2, 5] and both["column"].tolist() == [
        "first_step_pain_nrs"] * 2
    corr = cohort.quality.corrections
    assert corr.loc[corr["action"].str.startswith("pooled as"), "n_rows"].tolist() == [1]


def test_pooled_models_adjust_for_the_instrument_by_default():
    cohort, _ = load(pool=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error", dno.UnpooledInstrumentWarning)
        fit = dno.fit_trajectory(cohort, "first_step_pain", model="mmrm")
    assert "first_step_pain_instrument" in fit.frame.covariates
    assert "first_step_pain_instrument[first_step_pain_nrs]" in "".join(fit.fixed_effects[
        "term"])
    assert any("x10" in n and "covariate by default" in n for n in fit.notes)
    off = dno.fit_trajectory(cohort, "first_step_pain", model="mmrm",
                             adjust_instrument=False)
    assert off.frame.covariates == []
    assert any("NOT a covariate" in n for n in off.notes)
    explicit = dno.fit_trajectory(cohort, "first_step_pain", model="mmrm",
                                  adjust=("baseline", "first_step_pain_instrument"))
    assert explicit.frame.covariates == ["first_step_pain_instrument"]
    assert np.allclose(explicit.comparison["estimate"], fit.comparison["estimate"],
                       rtol=0, atol=0)  # the same model: the same numbers, exactly
    # a 20% reduction: events in both arms of this small cohort (4 visits)
    crossing = dno.Relief(percent_reduction=20)
    relief = dno.time_to_relief(cohort, "first_step_pain", relief=crossing, n_boot=0,
                                distributions=())
    assert "first_step_pain_instrument[first_step_pain_nrs]" in relief.hazard_ratios[
        "term"].tolist()
    assert any("covariate by default" in n for n in relief.notes)
    plain = dno.time_to_relief(cohort, "first_step_pain", relief=crossing, n_boot=0,
                               distributions=(), adjust_instrument=False)
    assert plain.hazard_ratios["term"].tolist() == ["arm[dry_needling]"]


# ---------------------------------------------------------------- the mapping's rules
@pytest.mark.parametrize("pool, match", [
    ({"first_step_pian_nrs": "first_step_pain"}, r"unknown instrument 'first_step_pian_nrs'"
                                                 r" \(did you mean 'first_step_pain_nrs'"),
    ({"first_step_pain_nrs": "first_step_pain_nrs"}, "pools an instrument into itself"),
    ({"first_step_pain_nrs": "fhsq_pain"}, "opposite directions"),
    ({"pain_nrs": "first_step_pain_nrs", "first_step_pain_nrs": "first_step_pain"},
     "pool each instrument into the final one directly"),
])
def test_pool_as_is_checked(pool, match):
    with pytest.raises(MappingError, match=match):
        dno.Mapping.from_any({"assessments": {"pool_as": pool}})


# ---------------------------------------------------------------- user instruments
LEFS = dict(label="LEFS (0-80)", lower=0, upper=80, units="points", higher_is_better=True,
            mcid=9, mcid_source="Binkley JM et al. Phys Ther. 1999;79(4):371-383.")


def lefs_cohort(values=None):
    rng = np.random.default_rng(7)
    rows = []
    for arm in ("dry_needling", "sham"):
        for i in range(8):
            base = rng.uniform(30, 45)
            for v in range(4):
                gain = (7.0 if arm == "dry_needling" else 2.0) * v
                rows.append({"id": f"{arm[0]}{i}", "arm": arm, "visit": v, "day": 7 * v,
                             "LEFS score": round(min(80.0, base + gain + rng.normal(0, 3)))})
    visits = pd.DataFrame(rows)
    if values is not None:
        visits["LEFS score"] = values
    return visits


def test_a_registered_instrument_goes_through_load_fit_responders_and_relief():
    inst = dno.register_instrument("lefs", **LEFS)
    assert dno.get_instrument("lefs") is inst and inst.mcid == 9.0
    visits = lefs_cohort()
    cohort = dno.load_cohort(visits, mapping={"assessments": {"columns": {
        "patient_id": "id", "lefs": "LEFS score"}}})
    assert cohort.assessments["lefs"].tolist() == visits["LEFS score"].astype(float).tolist()
    assert "lefs" in cohort.instruments
    assert cohort.provenance["definitions"]["lefs"]["upper"] == 80.0
    # higher is better: improvement is the rise
    cfb = cohort.change_from_baseline("lefs")
    assert (cfb["improvement"] == cfb["chg"]).all()
    fit = dno.fit_trajectory(cohort, "lefs", model="mmrm")
    assert fit.converged and fit.comparison["estimate"].iloc[-1] > 0
    res = dno.responders(cohort, "lefs", mcid=True)
    assert res.definition == "improvement from baseline >= 9 (MCID)"
    # responders by hand: a rise of 9 points or more at visit 3, per arm
    at3 = cfb[cfb["visit"] == 3]
    expected = (at3["improvement"] >= 9).groupby(at3["arm"].astype(str)).sum()
    got = res.table[res.table["visit"] == 3].set_index("arm")["n_responders"]
    assert got.astype(int).to_dict() == expected.astype(int).to_dict()
    assert 0 < expected.sum() < len(at3)   # the definition separates patients
    relief = dno.time_to_relief(cohort, "lefs", relief=dno.Relief(mcid=True), n_boot=0,
                                distributions=())
    assert "9" in relief.relief.describe("lefs")


def test_a_registered_instrument_without_mcid_is_refused_for_mcid_definitions():
    dno.register_instrument("hamd", label="HAM-D 17", lower=0, upper=52, units="points",
                            higher_is_better=False)
    assert dno.get_instrument("hamd").mcid is None
    visits = lefs_cohort().rename(columns={"LEFS score": "hamd"})
    visits["hamd"] = 52 - visits["hamd"] * 0.5
    cohort = dno.load_cohort(visits.rename(columns={"id": "patient_id"}))
    with pytest.raises(AnalysisError, match="'hamd' has no registered MCID"):
        dno.time_to_relief(cohort, "hamd", relief=dno.Relief(mcid=True), n_boot=0)
    with pytest.raises(AnalysisError, match=r"no registered MCID.*dno.register_instrument"):
        dno.responders(cohort, "hamd", mcid=True)
    res = dno.responders(cohort, "hamd", percent_reduction=50)
    assert res.definition == ">= 50% reduction from baseline"


def test_loader_range_checks_apply_to_a_registered_instrument():
    dno.register_instrument("lefs", **LEFS)
    visits = lefs_cohort()
    visits.loc[5, "LEFS score"] = 95
    with pytest.raises(dno.DataValidationError, match=r"\[out_of_range\].*lefs 95 is outside "
                                                      r"0-80"):
        dno.load_cohort(visits, mapping={"assessments": {"columns": {
            "patient_id": "id", "lefs": "LEFS score"}}})


def test_an_unregistered_instrument_column_is_an_unknown_mapping_column():
    with pytest.raises(MappingError, match="unknown canonical column 'lefs'"):
        dno.Mapping.from_any({"assessments": {"columns": {"lefs": "LEFS score"}}})


@pytest.mark.parametrize("change, match", [
    ({"lower": 80, "upper": 0}, r"lower \(80\) must be below upper \(0\)"),
    ({"lower": 10, "upper": 10}, r"lower \(10\) must be below upper \(10\)"),
    ({"mcid": 0}, "mcid must be above 0"),
    ({"mcid": -3}, "mcid must be above 0"),
    ({"mcid": 81}, "at most the range 80"),
    ({"upper": float("inf")}, "upper must be a finite number"),
    ({"higher_is_better": "yes"}, "higher_is_better must be true or false"),
    ({"label": ""}, "label must be non-empty text"),
    ({"units": None}, "units must be non-empty text"),
    ({"lower": "0"}, "lower must be a number"),
    ({"percent_thresholds": [30, 120]}, r"percent_thresholds must lie in \(0, 100\]"),
])
def test_register_instrument_checks_the_definition(change, match):
    with pytest.raises(MappingError, match=match):
        dno.register_instrument("lefs", **{**LEFS, **change})
    assert "lefs" not in dno.INSTRUMENTS


@pytest.mark.parametrize("name, match", [
    ("LEFS", "lower-case letters"), ("2lefs", "lower-case letters"),
    ("visit", "canonical column"), ("pain_instrument", "ends in '_instrument'"),
])
def test_register_instrument_checks_the_name(name, match):
    with pytest.raises(MappingError, match=match):
        dno.register_instrument(name, **LEFS)


def test_builtins_are_redefined_only_with_replace_and_come_back_on_unregister():
    with pytest.raises(MappingError, match="'first_step_pain' is built in.*replace=True"):
        dno.register_instrument("first_step_pain", **LEFS)
    assert dno.get_instrument("first_step_pain").mcid == 19.0
    dno.register_instrument("first_step_pain", **{**LEFS, "upper": 100, "units": "mm",
                                                  "higher_is_better": False}, replace=True)
    assert dno.get_instrument("first_step_pain").mcid == 9.0
    dno.unregister_instrument("first_step_pain")
    assert dno.get_instrument("first_step_pain").mcid == 19.0
    with pytest.raises(MappingError, match="built-in instrument and cannot be unregistered"):
        dno.unregister_instrument("first_step_pain")
    with pytest.raises(MappingError, match="'nope' is not a registered instrument"):
        dno.unregister_instrument("nope")


def test_re_registering_is_a_no_op_when_identical_and_an_error_when_not():
    first = dno.register_instrument("lefs", **LEFS)
    assert dno.register_instrument("lefs", **LEFS) is first
    with pytest.raises(MappingError, match=r"already registered with another definition "
                                           r"\(upper 80\.0 vs 70\.0\).*unregister_instrument"):
        dno.register_instrument("lefs", **{**LEFS, "upper": 70})
    assert dno.register_instrument("lefs", **{**LEFS, "upper": 70}, replace=True).upper == 70


def test_instrument_scope_restores_the_registry_even_on_error():
    before = dict(dno.INSTRUMENTS)
    with pytest.raises(RuntimeError):
        with dno.instrument_scope():
            dno.register_instrument("lefs", **LEFS)
            dno.register_instrument("first_step_pain", **{**LEFS, "upper": 100},
                                    replace=True)
            raise RuntimeError("boom")
    assert dict(dno.INSTRUMENTS) == before


# ---------------------------------------------------------------- [instruments.NAME]
def test_mapping_instruments_table_registers_and_loads():
    m = {"instruments": {"lefs": {k: v for k, v in LEFS.items()}},
         "assessments": {"columns": {"patient_id": "id", "lefs": "LEFS score"}}}
    assert "lefs" not in dno.INSTRUMENTS        # declared, not registered, by parsing
    parsed = dno.Mapping.from_any(m)
    assert parsed.instruments["lefs"].mcid == 9.0
    assert parsed.to_dict()["instruments"]["lefs"]["upper"] == 80.0
    cohort = dno.load_cohort(lefs_cohort(), mapping=m)
    assert dno.get_instrument("lefs").mcid == 9.0
    assert dno.responders(cohort, "lefs", mcid=True).definition == (
        "improvement from baseline >= 9 (MCID)")
    # loading again with the same declaration is fine; a different one is an error
    dno.load_cohort(lefs_cohort(), mapping=m)
    m2 = {**m, "instruments": {"lefs": {**LEFS, "mcid": 12}}}
    with pytest.raises(MappingError, match=r"\[instruments\.lefs\] is already registered "
                                           r"with another definition \(mcid 9\.0 vs 12\.0\)"):
        dno.load_cohort(lefs_cohort(), mapping=m2)


@pytest.mark.parametrize("spec, match", [
    ({"label": "LEFS", "upper": 80}, r"\[instruments\.lefs\]: missing key\(s\) lower, units, "
                                     r"higher_is_better"),
    ({**LEFS, "mcdi": 9}, r"unknown key 'mcdi' \(did you mean 'mcid'\?\)"),
    ({**LEFS, "lower": 90}, r"\[instruments\.lefs\]: lower \(90\) must be below upper"),
    ("LEFS", r"\[instruments\.lefs\]: must be a table"),
])
def test_mapping_instruments_table_is_checked(spec, match):
    with pytest.raises(MappingError, match=match):
        dno.Mapping.from_any({"instruments": {"lefs": spec}})


def test_mapping_cannot_redeclare_a_builtin():
    with pytest.raises(MappingError, match=r"\[instruments\.first_step_pain\] is built in"):
        dno.load_cohort(lefs_cohort(), mapping={"instruments": {"first_step_pain": LEFS},
                                                "assessments": {"columns": {
                                                    "patient_id": "id"}}})


def _config(tmp_path, extra: str, outcome: str = "lefs") -> Path:
    lefs_cohort().rename(columns={"id": "patient_id", "LEFS score": "lefs"}).to_csv(
        tmp_path / "visits.csv", index=False)
    path = tmp_path / "analysis.toml"
    path.write_text(f'[data]\nassessments = "visits.csv"\n\n{extra}\n'
                    f'[analysis]\noutcome = "{outcome}"\nprimary_visit = 3\n\n'
                    '[analysis.responders]\nmcid = true\n', encoding="utf-8")
    return path


def test_config_instruments_table_names_the_outcome(tmp_path):
    from dryneedle_outcomes.config import AnalysisConfig

    table = "[instruments.lefs]\n" + "\n".join(
        f"{k} = {str(v).lower() if isinstance(v, bool) else repr(v)}"
        for k, v in LEFS.items()).replace("'", '"') + "\n"
    cfg = AnalysisConfig.from_file(_config(tmp_path, table))
    assert cfg.analysis.outcome == "lefs"
    assert cfg.analysis.responders.value == 9.0     # mcid = true: the declared MCID
    assert cfg.instruments["lefs"].upper == 80.0
    assert cfg.resolved["instruments"]["lefs"]["mcid"] == 9
    assert dno.get_instrument("lefs").label == "LEFS (0-80)"


def test_config_without_the_instrument_names_what_is_allowed(tmp_path):
    from dryneedle_outcomes.config import AnalysisConfig

    with pytest.raises(ConfigError, match=r"outcome = 'lefs' is not allowed.*allowed: "
                                          r"first_step_pain"):
        AnalysisConfig.from_file(_config(tmp_path, ""))
    with pytest.raises(ConfigError, match=r"\[instruments\.lefs\]: missing key\(s\) lower"):
        AnalysisConfig.from_file(_config(tmp_path, '[instruments.lefs]\nlabel = "L"\n'
                                                   "upper = 80\n"))


# ---------------------------------------------------------------- against R (pooled sample)
def _ref(fit: str, quantity: str) -> dict:
    ref = pd.read_csv(REF / "reference.csv", dtype={"key": str}, keep_default_na=False)
    sub = ref[(ref["fit"] == fit) & (ref["quantity"] == quantity)]
    return dict(zip(sub["key"], sub["value"].astype(float)))


def test_pooled_sample_mmrm_with_the_instrument_agrees_with_nlme(sample_cohort):
    # gls gives model-based SEs: compare with Satterthwaite df (no Kenward-Roger
    # inflation of the SEs); tolerance 1e-4 relative as the other gls references
    fit = dno.fit_trajectory(sample_cohort, "first_step_pain", model="mmrm",
                             df="satterthwaite")
    assert fit.frame.covariates == ["first_step_pain_instrument"]
    est, se = _ref("mmrm", "estimate"), _ref("mmrm", "std_error")
    diff = fit.comparison.set_index("visit")
    for visit in diff.index:
        assert diff.loc[visit, "estimate"] == pytest.approx(est[str(visit)], rel=MMRM_RTOL)
        assert diff.loc[visit, "std_error"] == pytest.approx(se[str(visit)], rel=MMRM_RTOL)
    fe = fit.fixed_effects.set_index("term")
    term = next(t for t in fe.index if t.startswith("first_step_pain_instrument"))
    # a coefficient near 0 (-0.22, SE 1.9): 1e-4 of its SE, not of itself, since the
    # two optimisers agree to that fraction of the sampling scale
    assert fe.loc[term, "estimate"] == pytest.approx(est["instrument"],
                                                     abs=MMRM_RTOL * se["instrument"])
    assert fe.loc[term, "std_error"] == pytest.approx(se["instrument"], rel=MMRM_RTOL)
    assert fit.loglik == pytest.approx(_ref("mmrm", "loglik")[""], rel=LOGLIK_RTOL)


def test_pooled_sample_cox_with_the_instrument_agrees_with_coxph(sample_cohort):
    # relief as the reference pins it (export_pooled_frames.RELIEF: MCID, confirmed)
    res = dno.time_to_relief(sample_cohort, "first_step_pain",
                             relief=dno.Relief(mcid=True, sustained=True), n_boot=0,
                             distributions=())
    hr = res.hazard_ratios.set_index("term")
    ref_hr, ref_se = _ref("cox", "hazard_ratio"), _ref("cox", "std_error")
    arm = "arm[dry_needling]"
    inst = "first_step_pain_instrument[first_step_pain_nrs]"
    assert hr.loc[arm, "estimate"] == pytest.approx(ref_hr["arm"], rel=COX_RTOL)
    assert hr.loc[inst, "estimate"] == pytest.approx(ref_hr["instrument"], rel=COX_RTOL)
    assert hr.loc[arm, "std_error"] == pytest.approx(ref_se["arm"], rel=COX_RTOL)
    assert hr.loc[inst, "std_error"] == pytest.approx(ref_se["instrument"], rel=COX_RTOL)
    assert hr.loc[arm, "p_value"] == pytest.approx(_ref("cox", "p_value")["arm"], rel=COX_RTOL)
