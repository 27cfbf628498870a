"""Model terms of fit_trajectory against R: baseline-by-visit interaction (the default of
``session_means`` and ``mmrm``), factor and numeric covariates, aliased columns.

Golden values: tests/reference/model_terms/reference.csv, made by make_reference.R there
(nlme::gls with corSymm + varIdent and emmeans; lme4 + lmerTest + emmeans; stats::lm),
every number beside the R expression that produced it. Data: the bundled sample cohort
(the model frame export_sample_frame.py writes), mmrm's fev_data
(``../shared/external/mmrm/fev_data.csv``; FEV1_BL is the baseline; its values, 14 to
84, are carried in the 0-100 ``vas_pain`` column, since the models do not depend on the
instrument's label), and the sample without sham's visit-7 values and with age in
months beside age in years (two aliased columns).

Tolerances (as tests/test_trajectory.py, for the same reasons):
- estimates (coefficients, marginal means, differences): 1e-4 relative, or 1e-4 of
  their standard error for values near 0 (both sides optimise the same REML criterion;
  the difference is where the optimisers stop, a small fraction of an SE);
- standard errors: 1e-3 relative; REML log-likelihood 1e-5 absolute (nlme's gls
  stops at its own tolerance) and 1e-6 for lmer fits;
- Satterthwaite df and p values of lmer fits: 1e-2 and 2e-2 relative (lmerTest and
  emmeans differentiate numerically). The gls reference has no df (emmeans' numerical
  Satterthwaite for gls is too slow and fails on some of these fits; see the R script):
  the engine's df are checked against emmeans and SAS in test_trajectory.py and
  test_kenward_roger_sas.py;
- Kenward-Roger (sample, CS): pbkrtest uses the expected information, the engine the
  observed (as SAS); with the sample's missing visits they differ within 1e-3 (SE) and
  1e-2 (df) relative, as in test_trajectory.py.
"""

from __future__ import annotations

import importlib.util
import math
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import dryneedle_outcomes as dno

REF_DIR = Path(__file__).parent / "reference" / "model_terms"
REF = pd.read_csv(REF_DIR / "reference.csv")
FEV = Path(__file__).resolve().parents[1] / ".." / "shared" / "external" / "mmrm" / \
    "fev_data.csv"
EST_RTOL, SE_RTOL, DF_RTOL, P_RTOL = 1e-4, 1e-3, 1e-2, 2e-2
_spec = importlib.util.spec_from_file_location("model_terms_frames",
                                               REF_DIR / "export_sample_frame.py")
export_frames = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(export_frames)

COVARIATES = ("baseline", "site", "sex", "age")
CASES = [
    # (data set, R fit, fit_trajectory arguments, R fit is lmer (df compared))
    ("sample", "mmrm_unstructured", {"model": "mmrm"}, False),
    ("sample", "mmrm_unstructured_covariates", {"model": "mmrm", "adjust": COVARIATES},
     False),
    ("sample", "session_means", {"model": "session_means"}, True),
    ("sample", "session_means_covariates", {"model": "session_means",
                                            "adjust": COVARIATES}, True),
    ("sample", "mmrm_cs_kenward_roger", {"model": "mmrm", "covariance": "cs",
                                         "df": "kenward_roger"}, True),
    ("fev", "mmrm_unstructured", {"model": "mmrm"}, False),
    ("fev", "mmrm_unstructured_covariates", {"model": "mmrm",
                                             "adjust": ("baseline", "race", "sex")}, False),
    ("fev", "session_means_covariates", {"model": "session_means",
                                         "adjust": ("baseline", "race", "sex")}, True),
    ("aliased", "session_means", {"model": "session_means",
                                  "adjust": ("baseline", "age", "age_months")}, True),
    ("aliased", "mmrm_unstructured", {"model": "mmrm",
                                      "adjust": ("baseline", "age", "age_months")}, False),
]


def fev_cohort() -> dno.Cohort:
    """mmrm's fev_data as a cohort: FEV1_BL at visit 0, FEV1 at visits 1-4 (VISITN)."""
    if not FEV.exists():
        pytest.skip(f"mmrm's fev_data is not at {FEV} (outside this repository)")
    d = pd.read_csv(FEV)
    first = d.drop_duplicates("USUBJID")
    base = pd.DataFrame({"patient_id": first["USUBJID"], "visit": 0,
                         "vas_pain": first["FEV1_BL"]})
    post = pd.DataFrame({"patient_id": d["USUBJID"], "visit": d["VISITN"],
                         "vas_pain": d["FEV1"]})
    patients = pd.DataFrame({"patient_id": first["USUBJID"], "arm": first["ARMCD"],
                             "race": first["RACE"], "sex": first["SEX"]})
    return dno.load_cohort(pd.concat([base, post], ignore_index=True), patients)


def aliased_cohort(sample: dno.Cohort) -> dno.Cohort:
    """The sample without sham's visit-7 values, with age in months beside age."""
    patients = sample.patients.copy()
    patients["age_months"] = 12 * patients["age"]
    sham = patients.loc[patients["arm"] == "sham", "patient_id"]
    a = sample.assessments
    a = a.loc[~(a["patient_id"].isin(sham) & (a["visit"] == 7))].reset_index(drop=True)
    with warnings.catch_warnings(record=True):  # the sample's own load warnings
        warnings.simplefilter("always")
        return dno.load_cohort(a, patients)


@pytest.fixture(scope="module")
def cohorts(sample_cohort_r):
    return {"sample": sample_cohort_r, "aliased": aliased_cohort(sample_cohort_r)}


def _fit(cohorts, dataset, kwargs):
    # the R references of the mmrm are gls fits: model-based SEs, so Satterthwaite df
    # unless a case asks for Kenward-Roger (the mmrm's default)
    if kwargs.get("model") == "mmrm":
        kwargs = {"df": "satterthwaite", **kwargs}
    if dataset == "fev":
        return dno.fit_trajectory(fev_cohort(), "vas_pain", reference_arm="PBO", **kwargs)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fit = dno.fit_trajectory(cohorts[dataset], "first_step_pain", **kwargs)
    assert {str(w.message) for w in caught} <= set(fit.warnings)
    return fit


def ref_of(dataset: str, fit: str, table: str) -> pd.DataFrame:
    r = REF[(REF["dataset"] == dataset) & (REF["fit"] == fit) & (REF["table"] == table)]
    keys = [c for c in ("arm", "visit", "term") if r[c].notna().any()]
    return r.pivot_table(index=keys, columns="quantity", values="value", dropna=False,
                         sort=False).reset_index()


def close_estimates(ours, theirs, se, what):
    ours, theirs, se = (np.asarray(x, dtype=float) for x in (ours, theirs, se))
    tol = np.maximum(EST_RTOL * np.abs(theirs), EST_RTOL * se)
    bad = ~(np.abs(ours - theirs) <= tol)
    assert not bad.any(), (what, ours[bad], theirs[bad])


@pytest.mark.parametrize(("dataset", "name", "kwargs", "lmer"), CASES,
                         ids=[f"{c[0]}-{c[1]}" for c in CASES])
def test_against_r(cohorts, dataset, name, kwargs, lmer):
    fit = _fit(cohorts, dataset, kwargs)
    assert fit.converged, fit.warnings
    assert fit.frame.baseline_by_visit  # the default of both visit-factor models

    fe = ref_of(dataset, name, "fixed_effects")
    ours = fit.fixed_effects.dropna(subset=["estimate"])
    assert len(ours) == len(fe)
    close_estimates(ours["estimate"], fe["estimate"], fe["std_error"], "coefficients")
    np.testing.assert_allclose(ours["std_error"], fe["std_error"], rtol=SE_RTOL)
    loglik = ref_of(dataset, name, "fit")["loglik"].iloc[0]
    assert math.isclose(fit.loglik, loglik, abs_tol=1e-6 if lmer else 1e-5), (fit.loglik,
                                                                              loglik)

    if not (REF["fit"].eq(name) & REF["dataset"].eq(dataset)
            & REF["table"].eq("marginal_means")).any():
        return  # gls on lm's kept columns: R has coefficients and logLik only
    mm = ref_of(dataset, name, "marginal_means")
    mine = fit.marginal_means.assign(arm=fit.marginal_means["arm"].astype(str))
    both = mine.merge(mm, on=["arm", "visit"], suffixes=("", "_r"))
    assert len(both) == len(mm) == len(fit.marginal_means)
    # not estimable in R (NA) exactly where missing here
    np.testing.assert_array_equal(both["estimate"].isna(), both["estimate_r"].isna())
    ok = both["estimate_r"].notna()
    close_estimates(both["estimate"][ok], both["estimate_r"][ok], both["std_error_r"][ok],
                    "marginal means")
    np.testing.assert_allclose(both["std_error"][ok], both["std_error_r"][ok], rtol=SE_RTOL)
    if lmer:
        np.testing.assert_allclose(both["df"][ok], both["df_r"][ok], rtol=DF_RTOL)

    con = ref_of(dataset, name, "comparison")
    diff = fit.comparison.merge(con, on="visit", suffixes=("", "_r"))
    assert len(diff) == len(con) == len(fit.comparison)
    assert set(con["arm"]) == {f"{fit.comparison['arm'][0]} - {fit.reference_arm}"}
    np.testing.assert_array_equal(diff["estimate"].isna(), diff["estimate_r"].isna())
    ok = diff["estimate_r"].notna()
    close_estimates(diff["estimate"][ok], diff["estimate_r"][ok], diff["std_error_r"][ok],
                    "arm differences")
    np.testing.assert_allclose(diff["std_error"][ok], diff["std_error_r"][ok], rtol=SE_RTOL)
    if lmer:
        np.testing.assert_allclose(diff["df"][ok], diff["df_r"][ok], rtol=DF_RTOL)
        np.testing.assert_allclose(diff["p_value"][ok], diff["p_value_r"][ok], rtol=P_RTOL)


def test_aliased_columns_are_those_lm_reports(cohorts):
    """The same columns as R's lm (NA coefficients), named in a warning; the fixed
    effects of the other columns are those of lm's reduced fit (an OLS check of the
    dropping rule, independent of the covariance)."""
    ref = ref_of("aliased", "lm", "fixed_effects")
    fit = _fit(cohorts, "aliased", {"model": "session_means",
                                    "adjust": ("baseline", "age", "age_months")})
    aliased = fit.fixed_effects["estimate"].isna().to_numpy()
    np.testing.assert_array_equal(aliased, ref["aliased"].to_numpy() == 1)
    assert fit.fixed_effects["term"][aliased].tolist() == ["age_months",
                                                           "visit[7]:arm[dry_needling]"]
    warning = next(w for w in fit.warnings if "rank deficient" in w)
    assert "age_months" in warning and "visit[7]:arm[dry_needling]" in warning
    assert any("not estimable" in n and "sham: visit(s) 7" in n for n in fit.notes)
    # a prediction that needs an aliased column is missing, not a number
    pred = fit.predict(pd.DataFrame({"arm": ["sham", "dry_needling"], "visit": [7, 7],
                                     "baseline": [60.0, 60.0], "age": [40.0, 40.0],
                                     "age_months": [480.0, 480.0]}),
                       conditional=False, interval=None)["estimate"]
    assert np.isnan(pred.iloc[0]) and np.isfinite(pred.iloc[1])


def test_aliased_kenward_roger(cohorts):
    """Kenward-Roger on a rank-deficient MMRM: the estimable differences get an adjusted
    SE at least the model-based one for the unstructured covariance (whose KR
    adjustment only adds to it) and finite df; the non-estimable one is missing."""
    kwargs = {"model": "mmrm", "adjust": ("baseline", "age", "age_months")}
    sat = _fit(cohorts, "aliased", kwargs)
    kr = _fit(cohorts, "aliased", {**kwargs, "df": "kenward_roger"})
    np.testing.assert_allclose(kr.comparison["estimate"], sat.comparison["estimate"])
    ok = sat.comparison["estimate"].notna()
    assert not ok.all() and ok.sum() == len(ok) - 1
    assert (kr.comparison["std_error"][ok] >= sat.comparison["std_error"][ok]).all()
    assert np.isfinite(kr.comparison["df"][ok]).all()
    assert kr.comparison["df"][~ok].isna().all()


def test_baseline_by_visit_can_be_turned_off(cohorts):
    """``baseline_by_visit=False`` fits R's ``y ~ baseline + arm * visit`` (the model of
    tests/reference/trajectory, compared with R in test_trajectory.py): no interaction
    columns, and the methods text names the model fitted."""
    off = dno.fit_trajectory(cohorts["sample"], model="mmrm", baseline_by_visit=False)
    on = dno.fit_trajectory(cohorts["sample"], model="mmrm")
    assert not any(t.startswith("baseline:") for t in off.fixed_effects["term"])
    assert sum(t.startswith("baseline:visit[") for t in on.fixed_effects["term"]) == 6
    assert "baseline:factor(visit)" in on.methods()[0]
    assert "baseline:factor(visit)" not in off.methods()[0]
    slope = dno.fit_trajectory(cohorts["sample"], model="random_slope")
    assert not slope.frame.baseline_by_visit
    with pytest.raises(dno.AnalysisError, match="visit factor"):
        dno.fit_trajectory(cohorts["sample"], model="random_slope", baseline_by_visit=True)
    with pytest.raises(dno.AnalysisError, match="baseline"):
        dno.fit_trajectory(cohorts["sample"], model="mmrm", adjust=(),
                           baseline_by_visit=True)


def test_factor_levels_are_weighted_equally(cohorts):
    """emmeans' rule: the marginal mean averages the site levels with equal weights, so it
    is the mean of the per-site predictions whatever the number of patients per site."""
    fit = dno.fit_trajectory(cohorts["sample"], model="mmrm", adjust=("baseline", "site"))
    base = fit.frame.data["baseline"].mean()
    rows = pd.DataFrame({"arm": "sham", "visit": 3, "baseline": base,
                         "site": fit.frame.factor_levels["site"]})
    per_site = fit.predict(rows, conditional=False, interval=None)["estimate"]
    mm = fit.marginal_means.query("arm == 'sham' and visit == 3")["estimate"].iloc[0]
    assert math.isclose(mm, per_site.mean(), rel_tol=1e-12)  # one linear map, two ways
