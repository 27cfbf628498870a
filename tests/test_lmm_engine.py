"""``fit_lmm`` against lme4 / lmerTest golden values (no R needed to run these tests).

The reference fits are made by ``tests/reference/lmm_engine/make_reference.R`` on the
CSVs in that folder (lme4's ``sleepstudy`` and nlme's ``Orthodont`` exported by the
script, and two datasets simulated by ``make_simulated.py``); every number in
``reference.json`` carries the R call that produced it.

Which reference: each model is fitted twice in R. lme4's *default* optimiser settings
stop early -- for ``distance ~ age * Sex + (age | Subject)`` its log-likelihood is
2.8e-6 below the optimum and ``VarCorr`` differs by 3e-3 relative -- so the golden
values are the *tight* fits (same optimiser, tolerances ~1e-14), which locate the
optimum exactly; against the default fits we only require that ``fit_lmm`` is never
worse (its log-likelihood is >= lme4's minus 1e-9).

Tolerances (all against the tight fits), with the reason for each:

* fixed effects: 1e-5 relative (issue target 1e-4). ``beta`` is a smooth function of
  ``theta``; both optimisers reach ``theta`` to ~1e-6, so ``beta`` agrees to ~1e-8.
* standard errors (``sqrt(diag(vcov))``, lme4's ``vcov`` = ``sigma^2 (X'V^-1X)^-1``):
  1e-4 relative. First order in the error of ``theta`` (achieved <= 7e-7).
* log-likelihood (``logLik(m)``, REML): 1e-6 absolute, and AIC 2e-6. At the optimum the
  deviance is flat, so its error is second order in ``theta`` (achieved <= 2e-10).
  ``fit_lmm`` finishes every optimiser run with bounded Newton steps to reach this.
* Satterthwaite df (lmerTest ``summary()`` and ``contest1D``): 1e-2 relative.
  lmerTest differentiates numerically (numDeriv); so do we, differently (analytic
  gradient, Richardson-extrapolated Jacobian), so agreement is limited by finite
  differences, not by the model (achieved <= 3e-6).
* ``G`` (``VarCorr``) and ``sigma``: 1e-3 relative; each element of ``G`` is compared
  relative to ``sqrt(G_ii G_jj)`` so that a near-zero covariance is not divided by ~0.
  Variance parameters are where the flat optimum shows (achieved <= 1e-5).
* BLUPs (``ranef`` of the first 5 groups): 1e-3 relative to the largest BLUP of that
  column (achieved <= 2e-5).

statsmodels' ``MixedLM`` is a second, independent check of ``beta`` and the REML
log-likelihood; its ``bse`` use the full observed information and differ from lme4's
``vcov`` by design, so they are not compared.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from tolerances import TWO_FITS, assert_within_se, lmm_se

import dryneedle_outcomes.stats.mixed.lmm as lmm
import dryneedle_outcomes.stats.mixed.lmm_criterion as lmm_criterion
from dryneedle_outcomes.errors import AnalysisError
from dryneedle_outcomes.stats.mixed.engine import numerical_hessian, numerical_jacobian
from dryneedle_outcomes.stats.mixed.lmm import fit_lmm, simulate_lmm

REF_DIR = Path(__file__).parent / "reference" / "lmm_engine"
REF = json.loads((REF_DIR / "reference.json").read_text())

# Against lme4/lmerTest: the difference is set by lme4's own optimiser and stopping rule
# (these are upper bounds for it); ours adds at most lmm_se SEs (tests/tolerances.py).
TOL_BETA = 1e-5
TOL_SE = 1e-4
TOL_LOGLIK = 1e-6
TOL_DF = 1e-2
TOL_VARCOMP = 1e-3
TOL_BLUP = 1e-3


def _design(name: str):
    """y, X, Z, group codes and group labels exactly as each R formula builds them."""
    spec = REF["fits"][name]
    data = pd.read_csv(REF_DIR / spec["csv"])
    if spec["csv"] == "sleepstudy.csv":
        y = data["Reaction"].to_numpy()
        X = np.column_stack([np.ones(len(data)), data["Days"]])
        Z = X
        labels = data["Subject"].astype(str)
    elif spec["csv"] == "orthodont.csv":
        y = data["distance"].to_numpy()
        female = (data["Sex"] == "Female").to_numpy(dtype=float)
        age = data["age"].to_numpy(dtype=float)
        X = np.column_stack([np.ones(len(data)), age, female, age * female])
        Z = X[:, :2]
        labels = data["Subject"].astype(str)
    else:
        y = data["y"].to_numpy()
        arm = (data["arm"] == "needling").to_numpy(dtype=float)
        t = data["t"].to_numpy(dtype=float)
        X = np.column_stack([np.ones(len(data)), arm, t, arm * t])
        Z = X[:, [0, 2]]
        labels = data["g"].astype(str)
    if "(1 |" in spec["formula"]:
        Z = Z[:, :1]
    codes, levels = pd.factorize(labels, sort=True)
    return y, X, Z, codes, list(levels)


_FITS: dict[str, tuple] = {}


def _fit(name: str):
    if name not in _FITS:
        spec = REF["fits"][name]
        y, X, Z, codes, levels = _design(name)
        ref = spec["tight"]
        fit = fit_lmm(y, X, Z, codes, reml=spec["reml"], x_names=ref["fixef_names"],
                      z_names=ref["ranef_names"])
        _FITS[name] = (fit, ref, levels)
    return _FITS[name]


def _rel(a, b) -> float:
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return float(np.max(np.abs(a - b) / np.abs(b)))


NAMES = list(REF["fits"])


def test_reference_has_every_fit_and_the_calls():
    assert {"sleepstudy_slope", "sleepstudy_intercept", "orthodont_slope",
            "orthodont_intercept", "simulated_slope", "simulated_singular"} <= set(NAMES)
    for spec in REF["fits"].values():
        for which in ("tight", "default"):
            ref = spec[which]
            assert ref["call"].startswith("lme4::lmer(")
            assert ref["fixef"]["call"] == "unname(fixef(m))"
            assert "contest1D" in ref["contrast"]["call"]


@pytest.mark.parametrize("name", NAMES)
def test_fixed_effects_and_standard_errors(name):
    fit, ref, _ = _fit(name)
    assert fit.converged, fit.messages
    assert _rel(fit.beta, ref["fixef"]["value"]) < TOL_BETA
    assert _rel(np.sqrt(np.diag(fit.vcov)), ref["se"]["value"]) < TOL_SE
    np.testing.assert_allclose(fit.vcov, np.asarray(ref["vcov"]["value"]), rtol=TOL_SE,
                               atol=TOL_SE * np.max(np.abs(fit.vcov)))


@pytest.mark.parametrize("name", NAMES)
def test_loglik_and_aic(name):
    fit, ref, _ = _fit(name)
    assert abs(fit.loglik - ref["loglik"]["value"]) < TOL_LOGLIK
    assert abs(fit.aic - ref["aic"]["value"]) < 2 * TOL_LOGLIK
    assert fit.n_params == ref["loglik_df"]["value"]
    assert abs(fit.extra["deviance"] - ref["deviance_criterion"]["value"]) < 2 * TOL_LOGLIK


@pytest.mark.parametrize("name", NAMES)
def test_never_worse_than_lme4_defaults(name):
    fit, _, _ = _fit(name)
    default = REF["fits"][name]["default"]
    assert fit.loglik >= default["loglik"]["value"] - 1e-9


@pytest.mark.parametrize("name", NAMES)
def test_variance_components(name):
    fit, ref, _ = _fit(name)
    G_ref = np.atleast_2d(np.asarray(ref["G"]["value"], dtype=float))
    scale = np.sqrt(np.outer(np.diag(G_ref), np.diag(G_ref)))
    assert np.max(np.abs(fit.extra["G"] - G_ref) / scale) < TOL_VARCOMP
    assert _rel(np.sqrt(fit.extra["sigma2"]), ref["sigma"]["value"]) < TOL_VARCOMP
    assert fit.extra["singular"] == ref["is_singular"]["value"]
    assert fit.varpar[-1] == pytest.approx(ref["sigma"]["value"], rel=TOL_VARCOMP)


@pytest.mark.parametrize("name", NAMES)
def test_blups(name):
    fit, ref, levels = _fit(name)
    rows = [levels.index(g) for g in ref["ranef_groups"]["value"]]
    ours = fit.extra["blups"][rows]
    theirs = np.asarray(ref["ranef"]["value"], dtype=float).reshape(ours.shape)
    scale = np.max(np.abs(fit.extra["blups"]), axis=0)
    assert np.all(np.abs(ours - theirs) <= TOL_BLUP * scale)


@pytest.mark.parametrize("name", NAMES)
def test_satterthwaite_df(name):
    fit, ref, _ = _fit(name)
    res = fit.contrast(np.eye(len(fit.beta)))
    assert _rel(res["df"], ref["satterthwaite_df"]["value"]) < TOL_DF
    L = np.asarray(ref["contrast_L"]["value"], dtype=float)
    one = fit.contrast(L)
    c = ref["contrast"]["value"]
    assert _rel(one["df"], c["df"]) < TOL_DF
    assert _rel(one["estimate"], c["Estimate"]) < TOL_BETA
    assert _rel(one["std_error"], c["Std. Error"]) < TOL_SE
    assert _rel(one["p_value"], c["Pr(>|t|)"]) < 1e-3


def test_singular_fit_matches_lme4_and_is_reported():
    fit, ref, _ = _fit("simulated_singular")
    assert ref["is_singular"]["value"] is True
    assert fit.extra["singular"]
    assert fit.extra["theta"][-1] == 0.0
    text = " ".join(fit.messages)
    assert "singular" in text and "model='random_intercept'" in text
    assert fit.converged


def test_zero_slope_variance_is_reported():
    """Random slope fitted to data simulated without any slope variance."""
    rng = np.random.default_rng(11)
    n_g, m = 60, 5
    g = np.repeat(np.arange(n_g), m)
    t = np.tile(np.arange(m, dtype=float), n_g)
    y = 50.0 - 2.0 * t + rng.normal(0, 6, n_g)[g] + rng.normal(0, 3, g.size)
    X = np.column_stack([np.ones_like(t), t])
    fit = fit_lmm(y, X, X, g, z_names=["(Intercept)", "time"])
    assert fit.extra["singular"]
    assert any("singular" in msg and "random_intercept" in msg for msg in fit.messages)
    assert fit.converged


def test_zero_intercept_variance_is_reported_and_equals_ols():
    rng = np.random.default_rng(5)
    g = np.repeat(np.arange(40), 4)
    t = np.tile(np.arange(4.0), 40)
    y = 10 + t + rng.normal(0, 1, g.size)  # no patient effect at all
    X = np.column_stack([np.ones_like(t), t])
    y = y - 0.9 * (np.bincount(g, y)[g] / 4 - (10 + 1.5))  # make patients *less* alike
    fit = fit_lmm(y, X, X[:, :1], g)
    assert fit.extra["singular"] and fit.extra["theta"][0] == 0.0
    assert any("random intercept variance is estimated at zero" in m for m in fit.messages)
    beta_ols = np.linalg.lstsq(X, y, rcond=None)[0]
    np.testing.assert_allclose(fit.beta, beta_ols, rtol=1e-10)


def test_rank_deficient_x_raises():
    y, X, Z, codes, _ = _design("simulated_slope")
    X_bad = np.column_stack([X, X[:, 1] + X[:, 2]])
    with pytest.raises(AnalysisError, match="rank deficient"):
        fit_lmm(y, X_bad, Z, codes, x_names=["a", "b", "c", "d", "b_plus_c"])
    with pytest.raises(AnalysisError, match="identically zero"):
        fit_lmm(y, np.column_stack([X, np.zeros(len(y))]), Z, codes)


@pytest.mark.parametrize("bad, match", [
    ("nan_y", "non-finite"), ("short_Z", "same number of rows"), ("float_groups", "integer"),
    ("one_per_group", "number of groups"), ("too_many_re", "random effects"),
])
def test_bad_input_raises(bad, match):
    y, X, Z, codes, _ = _design("sleepstudy_slope")
    if bad == "nan_y":
        y = y.copy()
        y[3] = np.nan
    elif bad == "short_Z":
        Z = Z[:-1]
    elif bad == "float_groups":
        codes = codes + 0.5
    elif bad == "one_per_group":
        codes = np.arange(len(y))
    elif bad == "too_many_re":
        codes = np.arange(len(y)) // 2  # 2 observations per group, 2 random effects each
    with pytest.raises(AnalysisError, match=match):
        fit_lmm(y, X, Z, codes)


def test_row_order_does_not_matter():
    y, X, Z, codes, _ = _design("simulated_slope")
    fit, _, _ = _fit("simulated_slope")
    perm = np.random.default_rng(3).permutation(len(y))
    other = fit_lmm(y[perm], X[perm], Z[perm], codes[perm])
    # both fits stop within lmm_se SEs of the optimum (tests/tolerances.py)
    bound = lmm_se(-2 * fit.loglik)
    assert_within_se(other.beta, fit.beta, np.sqrt(np.diag(fit.vcov)), bound, "beta")
    # vcov and the BLUPs are smooth in theta: relative change below the bound
    np.testing.assert_allclose(other.vcov, fit.vcov, rtol=TWO_FITS * bound)
    # the deviance is within 1e-12 (1 + |deviance|) of its minimum (the polish's noise)
    assert other.loglik == pytest.approx(fit.loglik, abs=TWO_FITS * 1e-12 * (1 - 2 * fit.loglik))
    blups = fit.extra["blups"]
    np.testing.assert_allclose(other.extra["blups"], blups, rtol=TWO_FITS * bound,
                               atol=TWO_FITS * bound * np.abs(blups).max())


def test_statsmodels_cross_check():
    smf = pytest.importorskip("statsmodels.formula.api")
    data = pd.read_csv(REF_DIR / "simulated.csv")
    fit, _, _ = _fit("simulated_slope")
    res = smf.mixedlm("y ~ arm * t", data, groups="g", re_formula="~t").fit(
        reml=True, method=["lbfgs"])
    np.testing.assert_allclose(res.fe_params.to_numpy(), fit.beta, rtol=1e-4)
    # statsmodels stops at its own tolerance; its optimum can only be lower than ours
    assert res.llf <= fit.loglik + 1e-8
    assert res.llf == pytest.approx(fit.loglik, abs=1e-4)


def test_analytic_gradient_and_hessian_match_finite_differences():
    y, X, Z, codes, _ = _design("simulated_slope")
    rng = np.random.default_rng(0)
    Z3 = np.column_stack([Z, Z[:, 1] ** 2])
    for Zq in (Z[:, :1], Z, Z3):
        q = Zq.shape[1]
        for reml in (True, False):
            prof = lmm_criterion.Profile(y, X, Zq, codes, codes.max() + 1, reml)
            theta = rng.uniform(0.2, 1.0, q * (q + 1) // 2)
            g_num = numerical_jacobian(prof.deviance, theta, step=1e-3)
            np.testing.assert_allclose(prof.gradient(theta), g_num, rtol=1e-6,
                                       atol=1e-6 * np.max(np.abs(g_num)))
    prof = lmm_criterion.Profile(y, X, Z, codes, codes.max() + 1, True)
    theta = np.array([1.4, -0.07, 0.2])
    H, h_prof = prof.hessian_vp(theta)
    pt = prof.parts(theta)
    varpar = np.append(theta, np.sqrt(pt["r2"] / (prof.n - prof.p)))
    H_num = numerical_hessian(prof.deviance_vp, varpar, step=1e-2)
    np.testing.assert_allclose(H, H_num, rtol=1e-4, atol=1e-4 * np.max(np.abs(H)))
    np.testing.assert_allclose(h_prof, numerical_jacobian(prof.gradient, theta), rtol=1e-6,
                               atol=1e-6 * np.max(np.abs(h_prof)))


def test_attempts_recorded_and_fallback(monkeypatch):
    y, X, Z, codes, _ = _design("sleepstudy_slope")
    ref = REF["fits"]["sleepstudy_slope"]["tight"]
    real = lmm._minimize

    def broken_lbfgsb(prof, name, x0):
        if name.startswith("L-BFGS-B"):
            raise ValueError("simulated failure")
        return real(prof, name, x0)

    monkeypatch.setattr(lmm, "_minimize", broken_lbfgsb)
    fit = fit_lmm(y, X, Z, codes)
    assert [a["name"] for a in fit.attempts] == ["L-BFGS-B", "L-BFGS-B (bounded)",
                                                 "Nelder-Mead"]
    assert fit.attempts[0]["success"] is False and "simulated failure" in fit.attempts[0]["message"]
    assert fit.attempts[2]["gradient_ok"]
    assert fit.converged
    assert any("Nelder-Mead" in m for m in fit.messages)
    assert abs(fit.loglik - ref["loglik"]["value"]) < TOL_LOGLIK
    for key in ("name", "success", "deviance", "n_iter", "message"):
        assert key in fit.attempts[2]


@pytest.mark.parametrize("method", ["Nelder-Mead", "Powell", "L-BFGS-B (bounded)"])
def test_every_optimiser_reaches_the_lme4_optimum(monkeypatch, method):
    monkeypatch.setattr(lmm, "_OPTIMIZERS", (method,))
    for name in ("orthodont_slope", "simulated_singular"):
        y, X, Z, codes, _ = _design(name)
        fit = fit_lmm(y, X, Z, codes)
        ref = REF["fits"][name]["tight"]
        assert fit.converged
        assert fit.attempts[-1]["name"].startswith(method)
        assert abs(fit.loglik - ref["loglik"]["value"]) < TOL_LOGLIK
        assert _rel(fit.beta, ref["fixef"]["value"]) < TOL_BETA
        assert fit.extra["singular"] == ref["is_singular"]["value"]


def test_not_converged_is_said_plainly(monkeypatch):
    y, X, Z, codes, _ = _design("sleepstudy_slope")

    class Stuck:
        success = False
        message = "stopped after 1 iteration"
        nit = 1

    def stuck(prof, name, x0):
        res = Stuck()
        res.x = x0
        return res, np.asarray(x0, dtype=float)

    monkeypatch.setattr(lmm, "_polish", lambda prof, check: check)
    monkeypatch.setattr(lmm, "_minimize", stuck)
    fit = fit_lmm(y, X, Z, codes)
    assert not fit.converged
    assert [a["name"] for a in fit.attempts] == list(lmm._OPTIMIZERS)
    assert len(fit.attempts) == 4
    assert any("did not converge" in m for m in fit.messages)


def test_saddle_on_the_boundary_is_escaped(monkeypatch):
    """From this start, bounded L-BFGS-B's projected steps land on Lambda_22 = 0, where
    the gradient in it is exactly 0 (the deviance is even in it) but a covariance matrix
    nearby is better: the fit must notice and restart."""
    monkeypatch.setattr(lmm, "_OPTIMIZERS", ("L-BFGS-B (bounded)",))
    y, X, Z, codes, _ = _design("simulated_slope")
    fit = fit_lmm(y, X, Z, codes, start=[2.0, 0.0, 1.0])
    ref = REF["fits"]["simulated_slope"]["tight"]
    assert fit.attempts[0]["saddle"] and not fit.attempts[0]["gradient_ok"]
    assert fit.attempts[-1]["name"] == "L-BFGS-B (bounded) (restarted off the boundary)"
    assert fit.attempts[-1]["gradient_ok"] and fit.converged
    assert not fit.extra["singular"]
    assert abs(fit.loglik - ref["loglik"]["value"]) < TOL_LOGLIK


@pytest.mark.parametrize("start", [[0.0, -0.2, 0.0], [0.0, 0.3, 0.0], [0.0, 0.0, 0.0],
                                   [1e-9, 0.0, 0.0], [5.0, 0.0, 0.0]])
def test_singular_starts_do_not_trap_the_fit(start):
    """Zero intercept variance with the slope in the off-diagonal element is a local
    minimum in theta (not in the covariance matrix) that once trapped the engine."""
    y, X, Z, codes, _ = _design("simulated_slope")
    ref = REF["fits"]["simulated_slope"]["tight"]
    fit = fit_lmm(y, X, Z, codes, start=start)
    assert fit.converged
    assert abs(fit.loglik - ref["loglik"]["value"]) < TOL_LOGLIK


def test_boundary_descent_finds_the_better_covariance():
    y, X, Z, codes, _ = _design("simulated_slope")
    prof = lmm_criterion.Profile(y, X, Z, codes, codes.max() + 1, True)
    trap = np.array([0.0, -0.2, 0.0])
    check = lmm._assess(prof, trap)
    assert check["saddle"] and not check["grad_ok"]
    assert prof.deviance(check["restart"]) < check["deviance"]
    # at the optimum of a genuinely singular fit there is nothing to improve
    fit, _, _ = _fit("simulated_singular")
    y, X, Z, codes, _ = _design("simulated_singular")
    prof = lmm_criterion.Profile(y, X, Z, codes, codes.max() + 1, True)
    assert not lmm._assess(prof, fit.extra["theta"])["saddle"]


def test_psi_gradient_is_consistent_with_theta_gradient():
    y, X, Z, codes, _ = _design("simulated_slope")
    prof = lmm_criterion.Profile(y, X, Z, codes, codes.max() + 1, True)
    theta = np.array([1.1, -0.3, 0.4])
    pt = prof.parts(theta)
    F = prof.psi_gradient_from(pt)
    full = 2.0 * F @ pt["lam"]
    np.testing.assert_allclose([full[i, j] for i, j in prof.index], prof.gradient(theta),
                               rtol=1e-8)


def test_start_refit_and_no_satterthwaite():
    y, X, Z, codes, _ = _design("orthodont_slope")
    fit, _, _ = _fit("orthodont_slope")
    for start in (fit, fit.varpar, fit.extra["theta"]):
        refit = fit_lmm(y, X, Z, codes, start=start, satterthwaite=False)
        assert refit.loglik == pytest.approx(fit.loglik,
                                             abs=TWO_FITS * 1e-12 * (1 - 2 * fit.loglik))
        assert refit.attempts[0]["n_iter"] <= 3
        assert refit.cov_varpar.size == 0
        assert np.all(np.isinf(refit.contrast([0, 1, 0, 0])["df"]))
    with pytest.raises(AnalysisError, match="start"):
        fit_lmm(y, X, Z, codes, start=[1.0])


def test_simulate_lmm_reproduces_the_model():
    y, X, Z, codes, _ = _design("sleepstudy_slope")
    fit, _, _ = _fit("sleepstudy_slope")
    rng = np.random.default_rng(42)
    draws = np.array([simulate_lmm(fit, X, Z, codes, rng) for _ in range(400)])
    assert draws.shape == (400, len(y))
    # mean X beta; marginal variance diag(Z G Z') + sigma^2
    var = np.einsum("ij,jk,ik->i", Z, fit.extra["G"], Z) + fit.extra["sigma2"]
    z = (draws.mean(axis=0) - X @ fit.beta) / np.sqrt(var / len(draws))
    assert np.max(np.abs(z)) < 4.5
    np.testing.assert_allclose(draws.var(axis=0), var, rtol=0.35)
    # covariance of two visits of one patient: Z_1 G Z_2'
    c = np.cov(draws[:, 0], draws[:, 9])[0, 1]
    assert c == pytest.approx(Z[0] @ fit.extra["G"] @ Z[9], rel=0.3)
    refit = fit_lmm(draws[0], X, Z, codes, start=fit, satterthwaite=False)
    assert refit.converged
    a = simulate_lmm(fit, X, Z, codes, 7)
    b = simulate_lmm(fit, X, Z, codes, 7)
    np.testing.assert_array_equal(a, b)


def test_engine_fit_fields():
    fit, ref, _ = _fit("sleepstudy_slope")
    assert fit.n_cov_params == 4 and fit.n_groups == 18 and fit.n_obs == 180
    assert fit.varpar_names == ["theta:(Intercept)", "theta:Days.(Intercept)", "theta:Days",
                                "sigma"]
    assert fit.jac_vcov.shape == (4, 2, 2) and fit.cov_varpar.shape == (4, 4)
    np.testing.assert_allclose(fit.varpar[:-1], ref["theta"]["value"], rtol=1e-4)
    assert fit.extra["x_names"] == ["(Intercept)", "Days"]
    assert fit.extra["blups"].shape == (18, 2)
    assert fit.reml and not fit.extra["singular"] and fit.messages == []


@pytest.mark.slow
def test_large_problem_converges_and_recovers_the_truth():
    """10,000 patients x 6 visits with a random slope (vectorised: no per-patient loops)."""
    rng = np.random.default_rng(1)
    n_g, m = 10_000, 6
    g = np.repeat(np.arange(n_g), m)
    t = np.tile(np.arange(m, dtype=float), n_g)
    arm = rng.integers(0, 2, n_g)[g]
    u = rng.multivariate_normal([0, 0], [[64, -3], [-3, 2.25]], size=n_g)
    y = 60 - 3 * t - 2 * arm * t + u[g, 0] + u[g, 1] * t + rng.normal(0, 4, g.size)
    X = np.column_stack([np.ones_like(t), arm, t, arm * t])
    fit = fit_lmm(y, X, X[:, [0, 2]], g)  # speed: benchmarks/bench_trajectory.py
    assert fit.converged
    # 10,000 patients pin the truth down: fixed effects within ~4 SE, G within 10%
    se = np.sqrt(np.diag(fit.vcov))
    assert np.all(np.abs(fit.beta - np.array([60, 0, -3, -2])) <= 4 * se), (fit.beta, se)
    np.testing.assert_allclose(fit.extra["G"], [[64, -3], [-3, 2.25]], rtol=0.1, atol=0.5)
    assert fit.extra["sigma2"] == pytest.approx(16, rel=0.05)
