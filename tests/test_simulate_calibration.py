"""The simulator's calibration: variability (Cotchett 2014), dropout mechanisms, harms data.

References: Cotchett et al. 2014 (Phys Ther 94:1083-94), the visit-6 difference -14.4 mm,
95% CI -23.5 to -5.2 with 84 participants; tests/reference/simulator_calibration/README.md.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from scipy import stats

import dryneedle_outcomes as dno
from dryneedle_outcomes.errors import ConfigError
from dryneedle_outcomes.simulate import SimulationParameters, simulate_tables
from dryneedle_outcomes.simulate.dropout import (
    calibrate_intercept,
    draw_dropout,
    dropout_covariate,
)
from dryneedle_outcomes.simulate.parameters import conditional_sd, slope_time_function

# Cotchett 2014: -14.4 mm (95% CI -23.5 to -5.2), 42 per arm, t with 84 - 2 df
COTCHETT_SE = (23.5 - 5.2) / (2 * stats.t.ppf(0.975, 82))
# the CI limits are printed to 0.1 mm: the width is known to +-0.1 mm, so the SE to
# +-0.1 / (2 t) (half a unit of the last printed digit on each limit)
COTCHETT_SE_TOL = 0.1 / (2 * stats.t.ppf(0.975, 82))


def test_implied_se_matches_cotchett():
    sd6 = conditional_sd(SimulationParameters(), 6.0)
    assert abs(sd6 * math.sqrt(2 / 42) - COTCHETT_SE) <= COTCHETT_SE_TOL


def test_conditional_sd_is_the_schur_complement_of_the_covariance():
    # independent arithmetic: Sigma = Z G Z' + s^2 I, var(y6 | y0) by the Schur complement
    p = SimulationParameters()
    weeks = np.array([0.0, 6.0, 12.0])
    z = np.column_stack([np.ones(3), slope_time_function(weeks, p.slope_tau_weeks)])
    c = p.slope_intercept_corr * p.intercept_sd * p.slope_sd
    g = np.array([[p.intercept_sd ** 2, c], [c, p.slope_sd ** 2]])
    sigma = z @ g @ z.T + p.residual_sd ** 2 * np.eye(3)
    for j, w in ((1, 6.0), (2, 12.0)):
        cond = sigma[j, j] - sigma[j, 0] ** 2 / sigma[0, 0]
        np.testing.assert_allclose(conditional_sd(p, w), math.sqrt(cond), rtol=1e-12)  # exact
    # truth records the same numbers
    sim = simulate_tables(10, seed=1)
    assert sim.truth["variance"]["conditional_sd"][6] == pytest.approx(
        conditional_sd(p, 6.0), rel=1e-12)


def test_slope_time_function_is_an_initial_rate():
    np.testing.assert_allclose(slope_time_function([0.0, 1e-6], 4.0), [0.0, 1e-6], rtol=1e-6)
    assert slope_time_function(6.0, math.inf) == 6.0


def _logistic(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Maximum-likelihood logistic regression by Newton's method: (coef, SE)."""
    xx = np.column_stack([np.ones(len(y)), x])
    beta = np.zeros(xx.shape[1])
    for _ in range(50):
        mu = 1 / (1 + np.exp(-xx @ beta))
        info = xx.T @ (xx * (mu * (1 - mu))[:, None])
        step = np.linalg.solve(info, xx.T @ (y - mu))
        beta += step
        if np.abs(step).max() < 1e-10:
            break
    return beta, np.sqrt(np.diag(np.linalg.inv(info)))


def _person_periods(mechanism: str, n: int = 40000, seed: int = 7):
    """A hand-built cohort: AR(1)-like pain at 7 visits (corr 0.8), then dropout."""
    rng = np.random.default_rng(seed)
    pain = np.empty((n, 7))
    pain[:, 0] = rng.normal(65, 20, n)
    for j in range(1, 7):
        pain[:, j] = 0.8 * pain[:, j - 1] + 0.6 * 20 * rng.standard_normal(n) + 10
    drop_at, hazard, _ = draw_dropout(rng, mechanism, 0.3, 0.04, pain, np.ones_like(pain, bool))
    last = np.where(drop_at < 0, 7, drop_at)  # first visit not attended (7 = none)
    t = np.arange(1, 7)
    at_risk = t[None, :] <= last[:, None]
    event = (t[None, :] == drop_at[:, None]) & at_risk
    prev, cur = pain[:, :-1][at_risk], pain[:, 1:][at_risk]
    return np.column_stack([prev - 60, cur - 60]), event[at_risk].astype(float), drop_at


@pytest.mark.parametrize("mechanism, prev_coef, cur_coef", [
    ("mcar", 0.0, 0.0), ("mar", 0.04, 0.0), ("mnar", 0.0, 0.04)])
def test_dropout_mechanism_depends_on_the_right_value(mechanism, prev_coef, cur_coef):
    x, y, drop_at = _person_periods(mechanism)
    beta, se = _logistic(x, y)
    # the fitted model is the true one (logit linear in the value the hazard uses, the
    # other's coefficient 0): each coefficient within 4 SE of its true value
    assert abs(beta[1] - prev_coef) < 4 * se[1]
    assert abs(beta[2] - cur_coef) < 4 * se[2]
    # expected fraction 0.3: within 4 binomial SE
    assert abs((drop_at >= 0).mean() - 0.3) < 4 * math.sqrt(0.3 * 0.7 / len(drop_at))


def test_dropout_covariate_uses_last_observed_value():
    pain = np.array([[70.0, 50.0, 40.0, 30.0]])
    seen = np.array([[True, False, False, True]])
    assert dropout_covariate("mar", pain, seen).tolist() == [[70.0, 70.0, 70.0]]
    assert dropout_covariate("mnar", pain, seen).tolist() == [[50.0, 40.0, 30.0]]


def test_calibrated_intercept_gives_the_expected_fraction():
    x = np.random.default_rng(3).normal(60, 20, (500, 7))
    a = calibrate_intercept(x, 0.04, 0.2)
    h = 1 / (1 + np.exp(-(a + 0.04 * (x - 60))))
    np.testing.assert_allclose(np.mean(1 - np.prod(1 - h, axis=1)), 0.2, atol=1e-9)  # bisection
    with pytest.raises(ConfigError):
        calibrate_intercept(x, 0.04, 0.0)


@pytest.mark.parametrize("mechanism", ["mcar", "mar", "mnar"])
def test_simulator_dropout_fraction_and_truth(mechanism):
    n = 20000
    sim = simulate_tables(n, seed=11, dropout=0.1, dropout_mechanism=mechanism)
    frac = (sim.truth["dropout_visit"] >= 0).mean()
    assert abs(frac - 0.1) < 4 * math.sqrt(0.09 / n)
    assert sim.truth["dropout_mechanism"] == mechanism
    # MAR: the dropouts had more pain at their last visit than those who stayed then
    a = sim.assessments.pivot(index="patient_id", columns="visit", values="first_step_pain")
    drop = sim.truth["dropout_visit"].reindex(a.index)
    at3 = drop == 3
    stay = drop.lt(0) | drop.gt(3)
    gap = a.loc[at3, 2].mean() - a.loc[stay, 2].mean()
    se = math.sqrt(a.loc[at3, 2].var() / at3.sum() + a.loc[stay, 2].var() / stay.sum())
    if mechanism == "mcar":
        assert abs(gap) < 4 * se
    else:
        assert gap > 2 * se


def test_unknown_dropout_mechanism():
    with pytest.raises(ConfigError, match="dropout_mechanism"):
        simulate_tables(10, dropout_mechanism="informative")


def test_sham_sessions_record_soreness_and_no_needles():
    sim = simulate_tables(400, seed=4)
    a = sim.assessments.merge(sim.patients[["patient_id", "arm"]], on="patient_id")
    sess = a[a["visit"].between(1, 6)]
    sham = sess[sess["arm"] == "sham"]
    assert not sham["needled"].any() and (sham["needles"] == 0).all()
    assert sham["soreness_lower_h"].notna().mean() > 0.9
    real = sess[sess["needled"]]
    # shorter after sham: the share of sessions with no soreness is higher
    assert (sham["soreness_upper_h"] == 0).mean() > (real["soreness_upper_h"] == 0).mean()


def test_soreness_events_follow_the_simulated_soreness():
    sim = simulate_tables(400, seed=4)
    ae = sim.adverse_events
    sore = ae[ae["term"] == "post_needling_soreness"]
    assert len(sore) > 0 and (sore["duration_h"] >= 48).all()
    rec = sim.assessments.set_index(["patient_id", "visit"])
    lo = rec.loc[list(zip(sore["patient_id"], sore["visit"])), "soreness_upper_h"]
    assert (lo.fillna(np.inf) >= 48).all()  # a soreness event never contradicts the record


def test_sample_loads_harms_details_blinding_and_combined_verbatims(tmp_path):
    sim = simulate_tables(300, seed=8)
    combined = sim.adverse_events["verbatim"].str.contains(" and |\\+").sum()
    assert combined >= 2  # at this size a bruise and a bleed together are certain enough
    paths = dno.simulate.write_raw_exports(sim, tmp_path, inject_problems=False)
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        cohort = dno.load_cohort(paths["assessments"], paths["patients"],
                                 paths["adverse_events"], mapping=paths["mapping"])
    ev = cohort.adverse_events
    assert len(ev) == len(sim.adverse_events)
    for col in ("relatedness", "onset_h", "duration_h", "action_taken", "withdrawal",
                "ascertainment"):
        assert ev[col].notna().all(), col
    key = ["patient_id", "visit", "term_text"]
    want = sim.adverse_events.assign(term_text=sim.adverse_events["term"].astype(str),
                                     patient_id=sim.adverse_events["patient_id"].astype(str))
    got = ev.assign(term_text=ev["term"].astype(str), patient_id=ev["patient_id"].astype(str))
    want, got = want.sort_values(key), got.sort_values(key)
    np.testing.assert_array_equal(got["term"].astype(str), want["term"].astype(str))
    np.testing.assert_allclose(got["duration_h"].astype(float),
                               want["duration_h"].astype(float), rtol=1e-9)
    assert set(got["action_taken"]) <= set(want["action_taken"])
    guess = cohort.patients.set_index("patient_id")["allocation_guess"].astype(str)
    assert set(guess) <= {"real", "sham", "dont_know"}
    sham = cohort.patients["arm"].astype(str).eq("sham").to_numpy()
    assert (guess[sham] != "sham").mean() > 0.6  # most sham patients guess real or don't know
    bi = dno.blinding_index(cohort)
    assert bi is not None
