"""TrajectoryResult.type3 and fit_trajectory(vcov=...) against R: lmerTest and clubSandwich.

Golden values: tests/reference/trajectory_type3/reference.json, made by the
make_reference.R there from the model frames of tests/reference/trajectory/ (the sample
cohort and a cohort with heavy dropout): lmerTest's ``anova(m, type = "III")`` of the
lmer fits of the random-intercept, random-slope and session-means models (Satterthwaite
df), and of the session-means fit with ``ddf = "Kenward-Roger"`` (pbkrtest; the CS MMRM is
that model); clubSandwich's ``vcovCR(type = "CR0")`` and ``"CR3"`` of the ``nlme::gls``
fits of the unstructured, CS and AR(1) MMRM. The SAS comparisons of the same quantities
are in tests/test_type3_sas.py.

Tolerances, and why:
- Type III F: 1e-4 relative (both sides optimise the same REML criterion; the F moves
  with the estimates and SEs, which agree to ~1e-6 here; observed 7.6e-7);
- Satterthwaite den df: 1e-3 relative (lmerTest differentiates numerically; observed
  5.7e-5);
- Kenward-Roger den df: 1.5e-2 relative: pbkrtest inverts the expected information of the
  variance parameters, the engine the observed one (as SAS, against which it is checked
  in tests/test_type3_sas.py); with these cohorts' missed visits they differed by 1.8e-3
  on the sample before issue 12 and by 1.1e-2 / 1.2e-2 (sample / dropout cohort) on
  the sample regenerated with the calibrated simulator (more between-patient variance,
  so the two information matrices differ more), while the scaled F agree to 1e-4;
- sandwich covariances: 1e-4 of ``sqrt(C_ii C_jj)`` (nlme stops at its own tolerance;
  observed 4.0e-6, unstructured), and the Satterthwaite df for them (clubSandwich's
  ``df_Satt``, which R mmrm reproduces): 1e-4 relative (observed 2.7e-6).
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import dryneedle_outcomes as dno

REF_DIR = Path(__file__).parent / "reference"
REF = json.loads((REF_DIR / "trajectory_type3" / "reference.json").read_text())
_spec = importlib.util.spec_from_file_location(
    "export_frames", REF_DIR / "trajectory" / "export_frames.py")
export_frames = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(export_frames)

F_RTOL = 1e-4
DF_RTOL = {"satterthwaite": 1e-3, "kenward_roger": 1.5e-2}
VCOV_TOL = 1e-4
SANDWICH_DF_RTOL = 1e-4
TYPE3_CASES = [
    # the R reference fits time as the visit index (make_reference.R)
    ("random_intercept", {"model": "random_intercept", "time": "visit"}),
    ("random_slope", {"model": "random_slope", "time": "visit"}),
    ("session_means", {"model": "session_means", "baseline_by_visit": False}),
    ("mmrm_cs_kenward_roger", {"model": "mmrm", "covariance": "cs", "df": "kenward_roger",
                               "baseline_by_visit": False}),
]
#: The R references fit y ~ baseline + arm * visit: without the baseline-by-visit
#: interaction the visit-factor models have by default (baseline_by_visit=False).
#: lmerTest's term names -> the Type III table's (numeric visit: the time term).
R_TERMS = {"baseline": "baseline", "arm": "arm", "visit": "visit", "arm:visit": "visit:arm"}
R_TIME_TERMS = {**R_TERMS, "visit": "time", "arm:visit": "time:arm"}


@pytest.fixture(scope="module")
def cohorts(sample_cohort_r):
    return {"sample": sample_cohort_r, "dropout": export_frames.dropout_cohort()}


@pytest.mark.parametrize("dataset", ["sample", "dropout"])
@pytest.mark.parametrize(("key", "kwargs"), TYPE3_CASES, ids=[c[0] for c in TYPE3_CASES])
def test_type3_against_lmertest(cohorts, dataset, key, kwargs):
    fit = dno.fit_trajectory(cohorts[dataset], **kwargs)
    ref = pd.DataFrame(REF[dataset][key])
    ref["term"] = ref["term"].map(R_TIME_TERMS if key.startswith("random") else R_TERMS)
    ours = fit.type3.merge(ref, on="term", suffixes=("", "_r"))
    assert len(ours) == len(ref) == len(fit.type3)
    assert (ours["num_df"] == ours["num_df_r"]).all()
    np.testing.assert_allclose(ours["statistic"], ours["statistic_r"], rtol=F_RTOL)
    rtol = DF_RTOL["kenward_roger" if "kenward" in key else "satterthwaite"]
    np.testing.assert_allclose(ours["den_df"], ours["den_df_r"], rtol=rtol)
    assert set(fit.type3["df_method"]) == {kwargs.get("df", "satterthwaite")}


def test_type3_is_not_the_coefficient_test(cohorts):
    """The Type III ``arm`` hypothesis of the session-means model (arms averaged over
    visits, lmerTest's and SAS's) is not the treatment-coded ``arm`` coefficient (the arm
    difference at the first visit), which misses lmerTest's F."""
    fit = dno.fit_trajectory(cohorts["dropout"], model="session_means",
                             baseline_by_visit=False)
    coef = fit.fixed_effects.set_index("term").loc["arm[dry_needling]", "statistic"] ** 2
    r = REF["dropout"]["session_means"]
    assert abs(coef / r["statistic"][1] - 1) > 100 * F_RTOL


@pytest.mark.parametrize("dataset", ["sample", "dropout"])
@pytest.mark.parametrize("covariance", ["unstructured", "cs", "ar1"])
@pytest.mark.parametrize(("vcov", "cr"), [("empirical", "CR0"),
                                          ("empirical_jackknife", "CR3")])
def test_sandwich_against_clubsandwich(cohorts, dataset, covariance, vcov, cr):
    """The covariance, and with df="satterthwaite" mmrm's df for it (clubSandwich's)."""
    fit = dno.fit_trajectory(cohorts[dataset], model="mmrm", covariance=covariance,
                             vcov=vcov, df="satterthwaite", baseline_by_visit=False)
    ref = REF[dataset][f"mmrm_{covariance}"]
    df_r = ref[f'coef_test(m, vcov = "{cr}", test = "Satterthwaite")$df_Satt']
    np.testing.assert_allclose(fit.fixed_effects["df"], df_r, rtol=SANDWICH_DF_RTOL)
    # the model-based Satterthwaite df are another quantity: they miss clubSandwich's
    model = dno.fit_trajectory(cohorts[dataset], model="mmrm", covariance=covariance,
                               baseline_by_visit=False)
    assert np.max(np.abs(model.fixed_effects["df"] / df_r - 1)) > 100 * SANDWICH_DF_RTOL
    R = np.array(ref[f'vcovCR(m, type = "{cr}")'])
    other = np.array(ref[f'vcovCR(m, type = "{"CR3" if cr == "CR0" else "CR0"}")'])
    scale = np.sqrt(np.outer(np.diag(R), np.diag(R)))
    V = fit.robust.vcov
    assert np.max(np.abs(V - R) / scale) <= VCOV_TOL
    assert np.max(np.abs(V - other) / scale) > 10 * VCOV_TOL  # CR0 is not CR3
    # every table uses it: coefficients and arm differences (the same matrix read two
    # ways: arithmetic, so to rounding)
    np.testing.assert_allclose(fit.fixed_effects["std_error"], np.sqrt(np.diag(V)),
                               rtol=1e-12)
    assert fit.vcov_method == vcov
    assert set(fit.type3["vcov"]) == {vcov}


def test_between_within_df_of_the_trajectory_mmrm(cohorts):
    """SAS's DDFM=BETWITHIN: patients minus the between-patient columns (intercept,
    baseline, arm) for every effect when the covariance is unstructured; the within df
    (observations - patients - within columns) for visit terms otherwise."""
    cohort = cohorts["dropout"]
    un = dno.fit_trajectory(cohort, model="mmrm", vcov="empirical", df="between_within",
                            baseline_by_visit=False)
    n_pat, n_obs = un.n_patients, un.n_observations
    assert set(un.comparison["df"]) == {n_pat - 3}
    assert set(un.type3["den_df"]) == {n_pat - 3}
    cs = dno.fit_trajectory(cohort, model="mmrm", covariance="cs", df="between_within",
                            baseline_by_visit=False)
    n_within = 2 * (len(cs.frame.visits) - 1)
    df = cs.type3.set_index("term")["den_df"]
    assert df["arm"] == df["baseline"] == n_pat - 3
    assert df["visit"] == df["visit:arm"] == n_obs - n_pat - n_within
    assert cs.vcov_method == "model"


def test_vcov_and_type3_in_the_result(cohorts):
    cohort = cohorts["sample"]
    fit = dno.fit_trajectory(cohort, model="mmrm", vcov="empirical", df="between_within")
    assert list(fit.type3.columns) == ["term", "num_df", "den_df", "statistic", "p_value",
                                       "df_method", "vcov"]
    assert "Type III tests of fixed effects" in fit.summary()
    assert "type3" in fit.tables()
    assert any("empirical (sandwich)" in n for n in fit.methods())
    model = dno.fit_trajectory(cohort, model="mmrm")
    assert (fit.comparison["estimate"] == model.comparison["estimate"]).all()
    assert not np.allclose(fit.comparison["std_error"], model.comparison["std_error"])
    assert not any("sandwich" in n for n in model.methods())


def test_type3_does_not_depend_on_names_or_reference_arm(cohorts):
    """Arm names with ":" (the separator of interaction columns) and another reference
    arm give the same Type III tests (the F of a 2-arm factor does not depend on it)."""
    cohort = cohorts["dropout"]
    base = dno.fit_trajectory(cohort, model="mmrm", covariance="cs")
    patients = cohort.patients.copy()
    patients["arm"] = patients["arm"].cat.rename_categories(
        {"dry_needling": "DN: weekly", "sham": "sham: needle"})
    renamed = dno.load_cohort(cohort.assessments, patients)
    other = dno.fit_trajectory(renamed, model="mmrm", covariance="cs",
                               reference_arm="DN: weekly")
    assert list(other.type3["term"]) == list(base.type3["term"])
    # two fits of the same data (columns coded differently) stop within mmrm_se (5e-6 SE)
    # of the optimum: F within 1e-5 relative
    np.testing.assert_allclose(other.type3["statistic"], base.type3["statistic"], rtol=1e-5)


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"model": "random_slope", "vcov": "empirical", "df": "between_within"}, "mmrm"),
    ({"model": "session_means", "df": "between_within"}, "mmrm"),
    ({"model": "mmrm", "vcov": "empirical_jackknife", "df": "kenward_roger_linear"},
     "between_within"),
    ({"model": "mmrm", "vcov": "empirical", "df": "kenward_roger"}, "between_within"),
    ({"model": "mmrm", "vcov": "sandwich", "df": "between_within"}, "vcov must be"),
])
def test_vcov_errors(cohorts, kwargs, match):
    with pytest.raises(dno.AnalysisError, match=match):
        dno.fit_trajectory(cohorts["sample"], **kwargs)


def test_sandwich_refuses_a_covariance_per_arm(cohorts):
    """The sandwich takes each patient's covariance over the shared visits; with a
    covariance per arm it says it is not available rather than use the wrong one."""
    with pytest.raises(dno.AnalysisError, match="covariance per arm"):
        dno.fit_trajectory(cohorts["sample"], model="mmrm", covariance="cs",
                           covariance_by_arm=True, vcov="empirical")
