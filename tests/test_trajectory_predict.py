"""TrajectoryResult.predict: conditional and marginal predictions from a fitted cohort.

The formulas are validated against SAS PROC MIXED in ``tests/test_predict_sas.py`` (the
engine); here the analysis layer: which rows, which covariance of the fixed effects,
which quantiles, and that the marginal predictions on the reference grid are the
marginal means (themselves checked against emmeans and SAS). A quantity computed twice
from one fit is compared at 1e-10 relative (rounding of different orders of the same
sums), and the dense normal-theory formula for one patient likewise.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import dryneedle_outcomes as dno
from dryneedle_outcomes.errors import AnalysisError
from dryneedle_outcomes.models.design import reference_grid

SAME_FIT_RTOL = 1e-10


@pytest.fixture(scope="module")
def cohort():
    return dno.simulate_cohort(n_patients=90, seed=7)


@pytest.fixture(scope="module")
def fits(cohort):
    return {df: dno.fit_trajectory(cohort, model="mmrm", df=df)
            for df in ("satterthwaite", "kenward_roger")}


def test_every_patient_at_every_visit_with_observed_values_kept(fits):
    fit = fits["satterthwaite"]
    pred = fit.predict()
    assert len(pred) == fit.n_patients * len(fit.frame.visits)
    assert int(pred["observed"].sum()) == fit.n_observations
    assert 0 < int((~pred["observed"]).sum())  # the simulated cohort has missed visits
    merged = pred[pred["observed"]].merge(fit.frame.data[["patient_id", "visit", "y"]],
                                          on=["patient_id", "visit"], validate="one_to_one")
    assert (merged["estimate"] == merged["y"]).all()
    obs = pred[pred["observed"]]
    assert (obs["std_error"] == 0).all() and (obs["pi_lower"] == obs["estimate"]).all()
    miss = pred[~pred["observed"]]
    z = stats.norm.ppf(0.975)
    assert (miss["std_error"] > 0).all()
    np.testing.assert_allclose(miss["pi_upper"] - miss["estimate"], z * miss["std_error"],
                               rtol=SAME_FIT_RTOL)


def test_a_missing_visit_is_the_normal_conditional_mean(fits):
    """Dense normal theory for one patient: E[y_m | y_o] and Var, plus x V x' of beta."""
    fit = fits["satterthwaite"]
    pred = fit.predict()
    miss = pred[~pred["observed"]]
    pid = miss["patient_id"].iloc[0]
    rows = pred[pred["patient_id"] == pid]
    frame = fit.frame
    from dryneedle_outcomes.models.design import design_matrix

    grid = rows[["patient_id", "arm", "visit"]].assign(
        baseline=frame.data.loc[frame.data["patient_id"] == pid, "baseline"].iloc[0],
        time=rows["visit"].astype(float))
    X = design_matrix(frame, grid, "mmrm")[0]
    S = fit.fit.extra["Sigma"]
    o, m = rows["observed"].to_numpy(), ~rows["observed"].to_numpy()
    y_o = rows.loc[rows["observed"], "estimate"].to_numpy()
    B = S[np.ix_(m, o)] @ np.linalg.inv(S[np.ix_(o, o)])
    mean = X[m] @ fit.fit.beta + B @ (y_o - X[o] @ fit.fit.beta)
    lrow = X[m] - B @ X[o]
    var = np.diag(S[np.ix_(m, m)] - B @ S[np.ix_(o, m)] + lrow @ fit.fit.vcov @ lrow.T)
    np.testing.assert_allclose(rows.loc[m, "estimate"], mean, rtol=SAME_FIT_RTOL)
    np.testing.assert_allclose(rows.loc[m, "std_error"], np.sqrt(var), rtol=SAME_FIT_RTOL)


@pytest.mark.parametrize("df", ["satterthwaite", "kenward_roger"])
def test_marginal_confidence_on_the_reference_grid_is_the_marginal_means(fits, df):
    """conditional=False, interval="confidence": x beta with the fit's SE and df (the
    Kenward-Roger adjusted covariance under df="kenward_roger", as SAS's OUTPM=)."""
    fit = fits[df]
    grid = reference_grid(fit.frame)
    pred = fit.predict(grid, conditional=False, interval="confidence")
    mm = fit.marginal_means
    for col in ("estimate", "std_error", "df", "ci_lower", "ci_upper"):
        np.testing.assert_allclose(pred[col], mm[col], rtol=SAME_FIT_RTOL, err_msg=col)
    assert not pred["observed"].any()


def test_newdata_conditions_on_the_values_it_gives(fits):
    fit = fits["satterthwaite"]
    grid = reference_grid(fit.frame).iloc[:len(fit.frame.visits)].copy()  # one arm
    grid["patient_id"] = "new"
    blank = fit.predict(grid)  # nothing observed: the marginal mean, variance Sigma + xVx'
    marginal = fit.predict(grid, conditional=False)
    np.testing.assert_allclose(blank["estimate"], marginal["estimate"], rtol=SAME_FIT_RTOL)
    np.testing.assert_allclose(blank["std_error"], marginal["std_error"], rtol=SAME_FIT_RTOL)
    seen = grid.assign(first_step_pain=np.r_[blank["estimate"].iloc[0] + 10.0,
                                             [np.nan] * (len(grid) - 1)])
    cond = fit.predict(seen)
    assert cond["observed"].tolist() == [True] + [False] * (len(grid) - 1)
    rho = fit.fit.extra["correlation"][0, 1:]
    # a value 10 above the mean pulls the later visits up where they correlate positively
    assert np.all(np.sign(cond["estimate"].iloc[1:] - blank["estimate"].iloc[1:])
                  == np.sign(rho))
    assert (cond["std_error"].iloc[1:] < blank["std_error"].iloc[1:]).all()


def test_errors_say_what_to_pass(fits, cohort):
    fit = fits["satterthwaite"]
    with pytest.raises(AnalysisError, match="lacks column"):
        fit.predict(pd.DataFrame({"arm": ["sham"], "visit": [6]}))
    with pytest.raises(AnalysisError, match="interval must be"):
        fit.predict(interval="both")
    slope = dno.fit_trajectory(cohort, model="random_slope")
    with pytest.raises(AnalysisError, match="conditional=False"):
        slope.predict()
    pred = slope.predict(conditional=False)
    assert (pred["std_error"] > 0).all()


def test_a_covariance_per_arm_is_refused_where_it_would_be_needed(cohort):
    fit = dno.fit_trajectory(cohort, model="mmrm", covariance="cs", covariance_by_arm=True)
    with pytest.raises(AnalysisError, match="per arm or spatial"):
        fit.predict()
    pred = fit.predict(conditional=False, interval="confidence")
    assert np.isfinite(pred["std_error"]).all()
