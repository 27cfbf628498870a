"""Subgroup analyses with interaction tests (issue 14 item 6).

dno.subgroup_analysis against nlme::gls (unstructured, REML) + emmeans, and the
heterogeneity summary against metafor: tests/reference/subgroups/ (README there for the
source and the tolerances).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import dryneedle_outcomes as dno
from dryneedle_outcomes.stats.meta import fixed_effect

REF_DIR = Path(__file__).parent / "reference" / "subgroups"
SUBGROUPS = ["site", "sex", "age_group", "symptom_months", "baseline"]


@pytest.fixture(scope="module")
def cohort():
    return dno.load_cohort(pd.read_csv(REF_DIR / "assessments.csv"),
                           pd.read_csv(REF_DIR / "patients.csv"))


@pytest.fixture(scope="module")
def result(cohort):
    # Satterthwaite: model-based SEs and the Wald F, as gls and emmeans report them
    with pytest.warns(dno.DryNeedleWarning, match="baseline is split at its median"):
        return dno.subgroup_analysis(cohort, subgroups=SUBGROUPS, visit=6,
                                     df="satterthwaite", cuts={"symptom_months": 12})


def test_level_differences_match_gls_emmeans(result):
    ref = pd.read_csv(REF_DIR / "levels.csv")
    got = result.estimates.merge(ref, on=["subgroup", "level"], suffixes=("", "_r"))
    assert len(got) == len(ref) == 11
    # nlme::gls stops at its own tolerance: estimates within 1e-4 SE, SEs 1e-4 relative
    assert np.all(np.abs(got["estimate"] - got["estimate_r"]) <= 1e-4 * got["std_error_r"])
    np.testing.assert_allclose(got["std_error"], got["std_error_r"], rtol=1e-4)
    for var, fit in result.fits.items():
        if "continuous" in var:
            continue
        loglik = ref.loc[ref["subgroup"] == var, "loglik"].iloc[0]
        assert abs(fit.fit.loglik - loglik) <= 1e-5, var


def test_interaction_f_tests_match_emmeans_joint_tests(result):
    ref = pd.read_csv(REF_DIR / "interaction.csv")
    got = result.interaction.merge(ref, on=["subgroup", "scale"], suffixes=("", "_r"))
    assert len(got) == len(ref) == 7
    assert (got["num_df"] == got["num_df_r"]).all()
    assert got.loc[got["subgroup"] == "age_group", "num_df"].iloc[0] == 2
    # F is a quadratic form in estimates (1e-4 SE) and their covariance (1e-4): 5e-4
    # relative, and 1e-5 absolute for an F near 0 (estimates 1e-4 SE apart move F ~ 2e-4 t)
    np.testing.assert_allclose(got["statistic"], got["statistic_r"], rtol=5e-4, atol=1e-4)
    # emmeans' own joint test prints F to 3 decimals: half a unit of the last digit
    printed = got["F_ratio_emmeans"].notna()
    assert printed.sum() == 5
    assert np.all(np.abs(got.loc[printed, "statistic"] - got.loc[printed, "F_ratio_emmeans"])
                  <= 5e-4 + 5e-4 * got.loc[printed, "statistic"])


def test_heterogeneity_matches_metafor(result):
    ref = pd.read_csv(REF_DIR / "heterogeneity.csv")
    levels = pd.read_csv(REF_DIR / "levels.csv")
    # the engine on R's own per-level estimates: arithmetic, 1e-9 (15 digits written)
    for var, part in levels.groupby("subgroup"):
        r = ref[ref["subgroup"] == var].iloc[0]
        out = fixed_effect(part["estimate"], part["std_error"] ** 2)
        for key in ("estimate", "std_error", "Q", "Q_p_value", "I2"):
            assert out[key] == pytest.approx(r[key], rel=1e-9, abs=1e-12), (var, key)
        assert out["Q_df"] == r["Q_df"]
    # and through our own fits: the inputs differ by the gls tolerance (1e-4 SE)
    got = result.heterogeneity.merge(ref, on="subgroup", suffixes=("", "_r"))
    assert len(got) == 5
    np.testing.assert_allclose(got["estimate"], got["estimate_r"], rtol=1e-4)
    np.testing.assert_allclose(got["Q"], got["Q_r"], rtol=1e-3, atol=1e-6)


def test_the_overall_row_is_the_primary_analysis(cohort, result):
    fit = dno.fit_trajectory(cohort, df="satterthwaite", primary_visit=6)
    row = result.estimates.iloc[0]
    assert (row["subgroup"], row["level"]) == ("overall", "all patients")
    assert row["estimate"] == fit.primary()["estimate"].iloc[0]   # the same fit
    assert row["n_arm"] + row["n_reference"] == fit.n_patients


def test_counts_cuts_and_notes(cohort, result):
    p = cohort.patients
    # patients modelled: one of the 84 has no post-baseline value to model
    modelled = p[p["patient_id"].isin(result.primary.frame.data["patient_id"])]
    assert len(modelled) == 83
    sex = result.estimates[result.estimates["subgroup"] == "sex"]
    expected = pd.crosstab(modelled["sex"], modelled["arm"].astype(str))
    for r in sex.itertuples():
        assert r.n_arm == expected.loc[r.level, "dry_needling"]
        assert r.n_reference == expected.loc[r.level, "sham"]
    cuts = result.cuts.set_index("subgroup")
    assert cuts.loc["symptom_months", "rule"] == "pre-specified"
    assert cuts.loc["symptom_months", "cut"] == 12
    a = cohort.assessments
    base = a.loc[(a["visit"] == 0) & a["patient_id"].isin(modelled["patient_id"]),
                 "first_step_pain"]   # the median of the modelled patients (as the R script)
    assert cuts.loc["baseline", "rule"] == "median"
    assert cuts.loc["baseline", "cut"] == base.median()
    assert set(result.estimates.loc[result.estimates["subgroup"] == "symptom_months",
                                    "level"]) == {"< 12", ">= 12"}
    assert any("Wang et al. 2007" in n for n in result.notes)
    assert "interaction" in result.methods_text()


def test_forest_plot_draws_every_row_with_its_interaction_p(result):
    ax = result.plot()
    labels = [t.get_text() for t in ax.get_yticklabels()]
    n_levels = int((result.estimates["subgroup"] != "overall").sum())
    assert len(ax.collections) >= n_levels          # one CI line per level
    assert sum("interaction p" in x for x in labels) == 5
    site_p = result.interaction_p("site")
    assert any(x.startswith("site: interaction p = " + f"{site_p:.3f}") for x in labels)
    assert "(95% CI)" in ax.get_xlabel()
    assert labels[0].startswith("All patients (n 4")


def test_kenward_roger_is_the_default_and_widens_nothing_it_should_not():
    small = dno.simulate_cohort(n_patients=40, seed=4)
    res = dno.subgroup_analysis(small, subgroups=["sex"], visit=6, covariance="cs")
    sat = dno.subgroup_analysis(small, subgroups=["sex"], visit=6, covariance="cs",
                                df="satterthwaite")
    assert res.df_method == "kenward_roger"
    assert res.interaction["df_method"].tolist() == ["kenward_roger"]
    # same model and estimates; KR's adjusted SEs are not smaller for compound symmetry
    np.testing.assert_allclose(res.estimates["estimate"], sat.estimates["estimate"],
                               rtol=1e-10)
    assert (res.estimates["std_error"] >= sat.estimates["std_error"] - 1e-12).all()


@pytest.mark.parametrize("kwargs, match", [
    ({"subgroups": ["sex"]}, "visit= is required"),
    ({"subgroups": ["nope"], "visit": 6}, "not a column"),
    ({"subgroups": ["sex"], "visit": 6, "model": "random_slope"}, "primary MMRM"),
    ({"subgroups": ["sex"], "visit": 6, "cuts": {"age": 50}}, "not among the subgroups"),
    ({"subgroups": ["sex"], "visit": 6, "cuts": {"sex": 1}}, "not a continuous"),
    ({"subgroups": ["sex"], "visit": 6, "df": "between_within"}, "df must be"),
])
def test_bad_arguments_are_clear_errors(cohort, kwargs, match):
    with pytest.raises(dno.AnalysisError, match=match):
        dno.subgroup_analysis(cohort, **kwargs)


def test_a_level_without_patients_in_an_arm_is_not_analysed_and_said(cohort):
    patients = pd.read_csv(REF_DIR / "patients.csv")
    patients["clinician"] = np.where(patients["arm"] == "sham", "T1", "T2")
    patients.loc[patients.index[:6], "clinician"] = "T3"
    patients.loc[patients.index[:6], "arm"] = "sham"
    c = dno.load_cohort(pd.read_csv(REF_DIR / "assessments.csv"), patients)
    with pytest.warns(dno.DryNeedleWarning, match="subgroup clinician not analysed"):
        res = dno.subgroup_analysis(c, subgroups=["clinician"], visit=6,
                                    df="satterthwaite")
    assert res.interaction.empty
    assert res.estimates["subgroup"].tolist() == ["overall"]


def test_the_run_writes_subgroup_and_multiplicity_sections(tmp_path):
    """[analysis.subgroups] and [analysis.multiplicity] in a configuration on the sample
    data (the sample's own analysis.toml is left as it is)."""
    from dryneedle_outcomes.cli import main

    sample = Path(__file__).resolve().parents[1] / "data" / "sample"
    files = {k: (sample / f).as_posix() for k, f in [
        ("assessments", "assessments.csv"), ("patients", "patients.xlsx"),
        ("adverse_events", "adverse_events.csv"), ("mapping", "mapping.toml")]}
    config = tmp_path / "analysis.toml"
    config.write_text(
        "[data]\n" + "".join(f'{k} = "{v}"\n' for k, v in files.items())
        + 'errors = "quarantine"\n\n[analysis]\noutcome = "first_step_pain"\n'
        "primary_visit = 6\n\n[analysis.subgroups]\nvariables = [\"sex\"]\n"
        'df = "satterthwaite"\n\n[analysis.multiplicity]\n'
        'endpoints = [{ outcome = "first_step_pain", visit = 6 }, '
        '{ outcome = "vas_pain", visit = 6 }]\nprocedure = "fixed_sequence"\n',
        encoding="utf-8")
    out = tmp_path / "out"
    assert main(["run", str(config), "--out", str(out), "--quiet"]) == 0
    tables = out / "tables"
    mult = pd.read_csv(tables / "multiplicity.csv")
    assert mult["hypothesis"].tolist() == ["first_step_pain at visit 6",
                                           "vas_pain at visit 6"]
    assert mult["order"].tolist() == [1, 2]
    assert (mult["p_adjusted"] == mult["p_value"].cummax()).all()   # arithmetic
    levels = pd.read_csv(tables / "subgroups.csv")
    assert levels["subgroup"].tolist() == ["overall", "sex", "sex"]
    inter = pd.read_csv(tables / "subgroups_interaction.csv")
    assert inter["subgroup"].tolist() == ["sex"]
    assert list((out / "figures").glob("subgroups.*"))
    report = (out / "report.html").read_text(encoding="utf-8")
    assert "fixed-sequence" in report and "interaction" in report


def test_config_checks_the_new_tables():
    from dryneedle_outcomes.config import AnalysisConfig

    base = {"data": {"assessments": "data/sample/assessments.csv"}}

    def read(analysis):
        return AnalysisConfig.from_dict({**base, "analysis": analysis}, base_dir=".")

    cfg = read({"primary_visit": 6, "subgroups": {"cuts": {"symptom_months": 12}},
                "multiplicity": {"endpoints": [{"outcome": "first_step_pain", "visit": 6},
                                               {"outcome": "vas_pain", "visit": 6}]}})
    assert cfg.analysis.subgroups.variables == ("site", "sex", "symptom_months", "baseline")
    assert cfg.analysis.subgroups.cuts == {"symptom_months": 12.0}
    assert cfg.analysis.multiplicity.endpoints == (("first_step_pain", 6), ("vas_pain", 6))
    assert cfg.analysis.multiplicity.procedure == "hochberg"
    with pytest.raises(dno.ConfigError, match="primary_visit is required"):
        read({"subgroups": {}})
    with pytest.raises(dno.ConfigError, match="two or more"):
        read({"multiplicity": {"endpoints": [{"outcome": "first_step_pain", "visit": 6}]}})
    with pytest.raises(dno.ConfigError, match="procedure"):
        read({"multiplicity": {"procedure": "hommel"}})
    with pytest.raises(dno.ConfigError, match="names an outcome twice"):
        read({"multiplicity": {"endpoints": [{"outcome": "vas_pain", "visit": 6},
                                             {"outcome": "vas_pain", "visit": 7}]}})


def test_therapist_clustering_matches_lmer():
    """cluster="clinician": lmer(y ~ baseline + arm + (1 | clinician)) at visit 6 on scores
    with a therapist effect (make_clustering.R). lme4 and the engine stop at their own
    tolerances (tests/tolerances.py: the LMM within sqrt(1e-12 (1 + |deviance|)) SE):
    variances 1e-4 relative, the estimate 1e-4 SE, its SE 1e-4 relative; lmerTest's
    Satterthwaite df by numerical differentiation: 1e-2 relative (as tests/test_trajectory.py)."""
    ref = pd.read_csv(REF_DIR / "clustering.csv").iloc[0]
    c = dno.load_cohort(pd.read_csv(REF_DIR / "clustered_assessments.csv"),
                        pd.read_csv(REF_DIR / "patients.csv"))
    res = dno.subgroup_analysis(c, subgroups=["clinician"], visit=6, covariance="cs",
                                df="satterthwaite", cluster="clinician")
    row = res.clustering.iloc[0]
    assert (row["n_patients"], row["n_clusters"]) == (ref["n_patients"], ref["n_clusters"])
    for key in ("variance_cluster", "variance_residual", "icc"):
        assert row[key] == pytest.approx(ref[key], rel=1e-4), key
    assert abs(row["estimate"] - ref["estimate"]) <= 1e-4 * ref["std_error"]
    assert row["std_error"] == pytest.approx(ref["std_error"], rel=1e-4)
    assert row["df"] == pytest.approx(ref["df"], rel=1e-2)
    assert "clustering" in res.tables()
    # the clinician is also a subgroup: six levels, a 5-df interaction test
    assert res.interaction["num_df"].tolist() == [5]


def test_kenward_roger_interaction_f_matches_pbkrtest(cohort):
    """A compound-symmetry MMRM is lmer's random-intercept model with visit as a factor:
    pbkrtest's KRmodcomp of the interaction contrasts (make_kenward_roger.R). pbkrtest
    inverts the expected information, the engine the observed one (as SAS, R's mmrm):
    with these missing visits F and its df agree to 1e-3 and 1e-2 relative, the
    tolerances tests/test_trajectory.py uses for the same comparison."""
    ref = pd.read_csv(REF_DIR / "kenward_roger.csv")
    res = dno.subgroup_analysis(cohort, subgroups=["site", "age_group"], visit=6,
                                covariance="cs", continuous_interaction=False)
    got = res.interaction.merge(ref, on="subgroup", suffixes=("", "_r"))
    assert len(got) == 2 and (got["num_df"] == got["num_df_r"]).all()
    np.testing.assert_allclose(got["statistic"], got["statistic_r"], rtol=1e-3)
    np.testing.assert_allclose(got["den_df"], got["den_df_r"], rtol=1e-2)
    np.testing.assert_allclose(got["p_value"], got["p_value_r"], rtol=1e-2)
