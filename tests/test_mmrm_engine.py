"""The MMRM engine (``dryneedle_outcomes.stats.mixed.mmrm``) against R, and its own guarantees.

Golden values come from ``tests/reference/mmrm_engine/make_reference.R`` (nlme 3.1-162,
lme4 1.1-31, pbkrtest 0.5.2, emmeans 1.8.4-1), stored with the R call that produced each
number in ``reference.json``; the data are nlme's Orthodont and a simulated trial
(``make_trial_data.py``: 400 patients, 2 arms, baseline covariate, 6 visits, ~26% monotone
dropout plus intermittent missed visits). CI needs no R.

Tolerances, and why
-------------------
Differences are relative (``|ours - R| <= tol * |R|`` entry by entry) unless stated.

* Coefficients 1e-5, standard errors and vcov 1e-4, Sigma 1e-3, logLik 1e-6 absolute.
  Observed maxima over the five structures and both data sets: coefficients 6.3e-6,
  SE 1.9e-5, Sigma 8.1e-5, logLik 3.3e-7 (all on the trial, ar1_hetero); emmeans'
  estimates 5.4e-7 and SEs 1.8e-5. These are limits of nlme's optimiser, not ours: in
  every case our REML log-likelihood is the *higher* one (by up to 3.3e-7; tightening
  ``glsControl(tolerance, msTol)`` does not move nlme's optimum), and ours is refined by
  Newton steps until the Newton decrement is below 1e-14 (shuffling the patients moves our
  estimates by ~1e-11).
* Satterthwaite df 1e-2 against emmeans computed with ``glsControl(.relStep = 1e-4)``
  (observed max 2.6e-3). emmeans' df for gls are built on nlme's ``apVar``, a
  finite-difference Hessian (``fdHess``) whose default step (``.Machine$double.eps^(1/3)``)
  makes it noisy: on Orthodont with an unstructured covariance emmeans reports
  df = 24.28-24.93 by default, 25.0016-25.02 with ``.relStep = 1e-4``, and the exact
  value is 25 (complete balanced data: the cell means are exact t statistics on
  27 - 2 df; we get 25.0000000). Against emmeans' default output we therefore allow
  1e-2 for the homogeneous CS/AR(1) fits (observed 3e-3) and 4e-2 for the unstructured
  and heterogeneous fits (observed 3.0e-2 on Orthodont unstructured, 1.0e-2 on the trial).
* Kenward-Roger (compound symmetry vs lme4 random intercept + pbkrtest): 1e-3 relative;
  observed: adjusted vcov 1.2e-7, KR df 7e-8, F 7e-8, variance components 1.4e-7 (the
  residue is lmer's optimiser tolerance). Only on Orthodont: pbkrtest uses the *expected*
  information of the variance parameters, the engine (as SAS and R's mmrm) the
  *observed* one; they coincide on complete balanced data and differ with dropout (the
  trial: the adjustment ``Phi_A - Phi`` differs by 1.4%). Against SAS with dropout:
  ``tests/test_kenward_roger_sas.py``.
* ML: nlme's ``vcov`` for ``method = "ML"`` gls fits is ``N / (N - p)`` times
  ``(X' W X)^-1``; the engine reports ``(X' W X)^-1`` at the ML estimates (as lme4, SAS and
  the mmrm package do), and the test checks that relation.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from tolerances import TWO_FITS, assert_within_se, mmrm_se

from dryneedle_outcomes.errors import AnalysisError
from dryneedle_outcomes.stats.mixed import mmrm as M
from dryneedle_outcomes.stats.mixed.covariance import make_structure
from dryneedle_outcomes.stats.mixed.engine import numerical_hessian, numerical_jacobian
from dryneedle_outcomes.stats.mixed.kenward_roger import kenward_roger, kenward_roger_adjustment
from dryneedle_outcomes.stats.mixed.mmrm import fit_mmrm
from dryneedle_outcomes.stats.mixed.mmrm_data import prepare

REF_DIR = Path(__file__).parent / "reference" / "mmrm_engine"
REF = json.loads((REF_DIR / "reference.json").read_text())

# Against R's mmrm: the difference is set by its own optimiser and stopping rule (these are
# upper bounds for it); ours adds at most mmrm_se SEs (tests/tolerances.py).
TOL_COEF = 1e-5
TOL_SE = 1e-4
TOL_LOGLIK = 1e-6
TOL_SIGMA = 1e-3
TOL_DF_FINE = 1e-2
TOL_DF_DEFAULT = {"cs": 1e-2, "ar1": 1e-2, "unstructured": 4e-2, "cs_hetero": 4e-2,
                  "ar1_hetero": 4e-2}
TOL_KR = 1e-3


def _orthodont():
    d = pd.read_csv(REF_DIR / "orthodont.csv")
    fem = (d["Sex"] == "Female").to_numpy(float)
    cols = [np.ones(len(d)), fem]
    names = ["(Intercept)", "SexFemale"]
    for a in (10, 12, 14):
        cols.append((d["age"] == a).to_numpy(float))
        names.append(f"factor(age){a}")
    for a in (10, 12, 14):
        cols.append(fem * (d["age"] == a).to_numpy(float))
        names.append(f"SexFemale:factor(age){a}")
    groups = pd.factorize(d["Subject"])[0]
    return d["distance"].to_numpy(float), np.column_stack(cols), groups, \
        d["visit"].to_numpy() - 1, names


def _trial():
    d = pd.read_csv(REF_DIR / "trial.csv")
    arm = (d["arm"] == "dry_needling").to_numpy(float)
    cols = [np.ones(len(d)), d["base"].to_numpy(float), arm]
    names = ["(Intercept)", "base", "armdry_needling"]
    for t in range(2, 7):
        cols.append((d["visit"] == t).to_numpy(float))
        names.append(f"factor(visit){t}")
    for t in range(2, 7):
        cols.append(arm * (d["visit"] == t).to_numpy(float))
        names.append(f"armdry_needling:factor(visit){t}")
    groups = pd.factorize(d["id"])[0]
    return d["y"].to_numpy(float), np.column_stack(cols), groups, d["visit"].to_numpy() - 1, names


DATA = {"orthodont": _orthodont(), "trial": _trial()}
_FITS: dict = {}


def _fit(dataset: str, structure: str, reml: bool = True):
    key = (dataset, structure, reml)
    if key not in _FITS:
        y, X, g, v, names = DATA[dataset]
        _FITS[key] = fit_mmrm(y, X, g, v, structure=structure, reml=reml, x_names=names)
    return _FITS[key]


def _rel(a, b):
    a, b = np.asarray(a, float), np.asarray(b, float)
    return float(np.max(np.abs(a - b) / np.abs(b)))


CASES = [(d, s) for d in ("orthodont", "trial")
         for s in ("unstructured", "cs", "ar1", "cs_hetero", "ar1_hetero")]


# --------------------------------------------------------------------------- against R


@pytest.mark.parametrize("dataset", ["orthodont", "trial"])
def test_design_matches_r(dataset):
    for ref in REF[dataset]["fits"].values():
        assert ref["coef"]["names"] == DATA[dataset][4]


@pytest.mark.parametrize(("dataset", "structure"), CASES)
def test_fit_matches_nlme_gls(dataset, structure):
    ref = REF[dataset]["fits"][structure]
    fit = _fit(dataset, structure)
    assert fit.converged, fit.messages
    assert _rel(fit.beta, ref["coef"]["value"]) < TOL_COEF
    assert _rel(np.sqrt(np.diag(fit.vcov)), ref["se"]["value"]) < TOL_SE
    V = np.asarray(ref["vcov"]["value"])
    scale = np.sqrt(np.outer(np.diag(V), np.diag(V)))
    assert np.max(np.abs(fit.vcov - V) / scale) < TOL_SE
    assert abs(fit.loglik - ref["logLik"]["value"]) < TOL_LOGLIK
    assert fit.n_cov_params == ref["n_cov_params"]["value"]
    assert fit.n_params == ref["logLik"]["df"]
    assert abs(fit.aic - ref["AIC"]["value"]) < 2 * TOL_LOGLIK
    assert _rel(fit.extra["Sigma"], ref["Sigma"]["value"]) < TOL_SIGMA


@pytest.mark.parametrize(("dataset", "structure"), CASES)
def test_marginal_means_and_contrasts_match_emmeans(dataset, structure):
    ref = REF[dataset]["fits"][structure]
    fit = _fit(dataset, structure)
    for part, df_fine in (("emmeans", "emmeans_df"), ("contrasts", "contrasts_df")):
        r = ref[part]
        res = fit.contrast(np.asarray(r["linfct"]))
        assert _rel(res["estimate"], r["estimate"]) < TOL_COEF
        assert _rel(res["std_error"], r["se"]) < TOL_SE
        assert _rel(res["df"], r["df"]) < TOL_DF_DEFAULT[structure]
        assert _rel(res["df"], ref["relstep_1e4"][df_fine]) < TOL_DF_FINE


def test_unstructured_df_exact_on_complete_balanced_data():
    # Orthodont is complete and balanced with only between-subject factors crossed with
    # age, so each cell mean is an exact t statistic on 27 - 2 = 25 df
    fit = _fit("orthodont", "unstructured")
    L = np.asarray(REF["orthodont"]["fits"]["unstructured"]["emmeans"]["linfct"])
    np.testing.assert_allclose(fit.contrast(L)["df"], 25.0, rtol=1e-6)


def test_ml_fit_matches_nlme():
    ref = REF["orthodont"]["fits"]["unstructured_ml"]
    fit = _fit("orthodont", "unstructured", reml=False)
    assert fit.converged and not fit.reml
    assert _rel(fit.beta, ref["coef"]["value"]) < TOL_COEF
    assert abs(fit.loglik - ref["logLik"]["value"]) < TOL_LOGLIK
    assert _rel(fit.extra["Sigma"], ref["Sigma"]["value"]) < TOL_SIGMA
    n, p = DATA["orthodont"][1].shape
    # nlme's ML vcov carries an extra factor N / (N - p)
    assert _rel(np.diag(fit.vcov) * n / (n - p), np.square(ref["se"]["value"])) < 2 * TOL_SE


@pytest.mark.parametrize("dataset", ["orthodont"])
def test_kenward_roger_matches_pbkrtest(dataset):
    """pbkrtest's KR where its expected information equals the observed one (complete,
    balanced data; on the trial with dropout see the next test)."""
    ref = REF[dataset]["kr"]
    assert ref["names"] == DATA[dataset][4]
    y, X, g, v, names = DATA[dataset]
    fit = _fit(dataset, "cs")
    # the CS MMRM is lmer's random-intercept model: same REML optimum
    assert fit.varpar_names == ["covariance", "within_variance"]
    assert _rel(fit.varpar, ref["varcorr"]["value"]) < 1e-5
    assert abs(fit.loglik - ref["logLik"]["value"]) < TOL_LOGLIK
    assert _rel(fit.vcov, ref["vcov"]["value"]) < TOL_SE

    L1 = np.asarray(ref["L1"]["value"])
    adjustment = kenward_roger_adjustment(fit, X, g, v)
    kr1 = adjustment.test(L1)
    Va, V0 = np.asarray(ref["vcov_adj"]["value"]), np.asarray(ref["vcov"]["value"])
    ours = adjustment.vcov_adjusted
    assert _rel(ours, Va) < TOL_KR
    # the adjustment itself (Phi_A - Phi), not just Phi_A, agrees (on complete balanced
    # Orthodont it is zero: there KR is exact and changes nothing)
    adj_r, adj = Va - V0, ours - fit.vcov
    assert np.max(np.abs(adj - adj_r)) <= (TOL_KR * np.max(np.abs(adj_r))
                                           + 1e-12 * np.max(np.abs(V0)))
    r1 = ref["L1"]["krmodcomp"]
    assert abs(kr1["df"] / r1["ddf"] - 1) < TOL_KR
    assert abs(kr1["df"] / ref["L1"]["lb_ddf"]["value"] - 1) < TOL_KR
    assert abs(kr1["F"] / r1["F"] - 1) < TOL_KR
    assert abs(kr1["F_scaling"] - r1["F_scaling"]) < TOL_KR
    assert abs(kr1["vcov_adjusted"][0, 0] / ref["L1"]["var_adj"]["value"] - 1) < TOL_KR
    assert kr1["ndf"] == 1
    assert kr1["statistic"] ** 2 == pytest.approx(kr1["F"], rel=1e-10)

    L2 = np.asarray(ref["L2"]["value"])
    kr2 = adjustment.test(L2)
    r2 = ref["L2"]["krmodcomp"]
    assert kr2["ndf"] == r2["ndf"]
    assert abs(kr2["df"] / r2["ddf"] - 1) < TOL_KR
    assert abs(kr2["F"] / r2["F"] - 1) < TOL_KR
    assert abs(kr2["F_scaling"] - r2["F_scaling"]) < TOL_KR
    assert abs(kr2["p_value"] / r2["p_value"] - 1) < 10 * TOL_KR


def test_kenward_roger_observed_not_expected_information():
    """With dropout (the trial) the fit is lmer's, but the KR adjustment is not pbkrtest's:
    pbkrtest inverts the expected information, SAS, mmrm and the engine the observed one."""
    ref = REF["trial"]["kr"]
    y, X, g, v, names = DATA["trial"]
    fit = _fit("trial", "cs")
    assert _rel(fit.varpar, ref["varcorr"]["value"]) < 1e-5
    assert _rel(fit.vcov, ref["vcov"]["value"]) < TOL_SE
    Va, V0 = np.asarray(ref["vcov_adj"]["value"]), np.asarray(ref["vcov"]["value"])
    adj = kenward_roger_adjustment(fit, X, g, v).vcov_adjusted - fit.vcov
    gap = np.max(np.abs(adj - (Va - V0))) / np.max(np.abs(Va - V0))
    assert 10 * TOL_KR < gap < 0.1  # distinguishable, and of the same order


@pytest.mark.parametrize("structure", ["unstructured", "ar1", "cs_hetero"])
def test_kenward_roger_other_structures_is_sane(structure):
    y, X, g, v, names = DATA["trial"]
    fit = _fit("trial", structure)
    L = np.zeros(len(names))
    L[[2, 12]] = 1.0  # arm difference at visit 6
    kr = kenward_roger(fit, L, X, g, v)
    sat = fit.contrast(L)
    # KR changes the variance a little (usually up; AR(1) can bring it down) and gives
    # df of the same order as Satterthwaite
    assert 0.95 * sat["std_error"][0] ** 2 < kr["vcov_adjusted"][0, 0]
    assert kr["vcov_adjusted"][0, 0] < 1.05 * sat["std_error"][0] ** 2
    assert 0.5 < kr["df"] / sat["df"][0] < 2.0


def test_kenward_roger_second_order_terms():
    y, X, g, v, names = DATA["trial"]
    L = np.zeros(len(names))
    L[[2, 12]] = 1.0
    # linear structure: R_ij = 0, the option changes nothing
    fit = _fit("trial", "cs")
    a = kenward_roger(fit, L, X, g, v)
    b = kenward_roger(fit, L, X, g, v, linear=True)
    assert a["vcov_adjusted"][0, 0] == pytest.approx(b["vcov_adjusted"][0, 0], rel=1e-12)
    # AR(1) in (sigma2, rho) is non-linear: the R_ij terms move Phi_A, not the df
    fit = _fit("trial", "ar1")
    a = kenward_roger(fit, L, X, g, v)
    b = kenward_roger(fit, L, X, g, v, linear=True)
    assert a["df"] == pytest.approx(b["df"], rel=1e-12)
    assert a["vcov_adjusted"][0, 0] != pytest.approx(b["vcov_adjusted"][0, 0], rel=1e-8)


def test_kenward_roger_needs_reml():
    y, X, g, v, _ = DATA["orthodont"]
    fit = _fit("orthodont", "cs", reml=False)
    with pytest.raises(AnalysisError, match="REML"):
        kenward_roger(fit, np.eye(X.shape[1])[:1], X, g, v)


# --------------------------------------------------------------- internal consistency


def _criterion(dataset, structure, reml=True):
    y, X, g, v, names = DATA[dataset]
    data = prepare(y, X, g, v, None, names)
    st = make_structure(structure, data.T)
    return M._Criterion(data, st, reml), data, st


@pytest.mark.parametrize("structure", ["unstructured", "cs", "ar1", "cs_hetero", "ar1_hetero",
                                       "toeplitz", "toeplitz_hetero", "ante1_hetero"])
@pytest.mark.parametrize("reml", [True, False])
def test_analytic_gradient(structure, reml):
    crit, data, st = _criterion("trial", structure, reml)
    rng = np.random.default_rng(7)
    theta = st.theta_from_sigma(np.asarray(_fit("trial", "unstructured").extra["Sigma"])
                                / data.scale**2)
    theta = theta + rng.normal(0.0, 0.05, len(theta))
    num = numerical_jacobian(crit.f, theta, step=1e-4)
    np.testing.assert_allclose(crit.g(theta), num, rtol=1e-5, atol=1e-5 * np.abs(num).max())


@pytest.mark.parametrize("structure", ["unstructured", "cs", "ar1_hetero", "toeplitz",
                                       "ante1_hetero"])
def test_satterthwaite_ingredients(structure):
    """cov_varpar and jac_vcov against independent numerical derivatives in varpar."""
    fit = _fit("trial", structure)
    crit, data, st = _criterion("trial", structure)

    def deviance(phi):
        S, _ = st.sigma_phi(phi)
        return crit.core(S / data.scale**2, grad=False)[0]

    def vcov(phi):
        S, _ = st.sigma_phi(phi)
        return crit.core(S / data.scale**2, grad=False)[3] * data.scale**2

    H = numerical_hessian(deviance, fit.varpar, step=1e-3)
    np.testing.assert_allclose(fit.cov_varpar, 2.0 * np.linalg.inv(H), rtol=1e-3,
                               atol=1e-6 * np.abs(fit.cov_varpar).max())
    J = numerical_jacobian(vcov, fit.varpar, step=1e-4)
    np.testing.assert_allclose(fit.jac_vcov, J, rtol=1e-5, atol=1e-7 * np.abs(J).max())


def test_invariant_to_row_order_and_codes():
    y, X, g, v, names = DATA["trial"]
    ref = _fit("trial", "unstructured")
    perm = np.random.default_rng(11).permutation(len(y))
    # shuffled rows, other (non-contiguous, increasing) patient codes: the same sorted data,
    # so the same numbers to the last bit
    fit = fit_mmrm(y[perm], X[perm], (1000 + 7 * g)[perm], v[perm], x_names=names)
    np.testing.assert_array_equal(fit.beta, ref.beta)
    np.testing.assert_array_equal(fit.vcov, ref.vcov)
    assert fit.loglik == ref.loglik
    # patient codes in another order: sums are accumulated in another order, so the
    # optimiser stops elsewhere within its rule (tests/tolerances.py: mmrm_se SEs per fit)
    relabel = np.random.default_rng(12).permutation(g.max() + 1)
    fit = fit_mmrm(y[perm], X[perm], relabel[g][perm], v[perm], x_names=names)
    bound = mmrm_se(-2 * ref.loglik)
    assert_within_se(fit.beta, ref.beta, np.sqrt(np.diag(ref.vcov)), bound, "beta")
    assert_within_se(fit.varpar, ref.varpar, np.sqrt(np.diag(ref.cov_varpar)), bound,
                     "varpar")
    # vcov is a smooth function of varpar: its relative change is that of the variances,
    # at most bound * SE(var) / var < bound (SE(var) / var ~ sqrt(2 / n) < 1)
    np.testing.assert_allclose(fit.vcov, ref.vcov, rtol=TWO_FITS * bound,
                               atol=TWO_FITS * bound * np.abs(ref.vcov).max())
    # the deviance is within decrement / 2 of its minimum: quadratic in the distance
    assert fit.loglik == pytest.approx(ref.loglik, abs=(TWO_FITS * bound) ** 2 + 1e-10)
    L = np.zeros(len(names))
    L[[2, 12]] = 1.0
    # Satterthwaite df: from derivatives of vcov, moves with varpar (relative < bound)
    assert fit.contrast(L)["df"][0] == pytest.approx(ref.contrast(L)["df"][0],
                                                     rel=max(1e-5, TWO_FITS * bound))


def test_start_from_previous_fit():
    y, X, g, v, names = DATA["trial"]
    ref = _fit("trial", "unstructured")
    fit = fit_mmrm(y, X, g, v, x_names=names, start=ref.varpar)
    assert fit.converged
    assert fit.attempts[0]["n_iter"] <= 3
    assert_within_se(fit.beta, ref.beta, np.sqrt(np.diag(ref.vcov)), mmrm_se(-2 * ref.loglik),
                     "beta")
    fit2 = fit_mmrm(y, X, g, v, structure="ar1", start=ref.extra["Sigma"])
    assert fit2.converged


def test_extra_contents():
    fit = _fit("trial", "unstructured")
    S = fit.extra["Sigma"]
    assert S.shape == (6, 6)
    np.testing.assert_allclose(S, S.T)
    np.testing.assert_allclose(np.diag(fit.extra["correlation"]), 1.0)
    assert fit.extra["structure"] == "unstructured"
    assert fit.extra["x_names"] == DATA["trial"][4]
    assert fit.varpar_names[:3] == ["var[0]", "cov[0,1]", "var[1]"]
    assert fit.converged and fit.messages == []  # messages only report problems
    a = fit.attempts[0]
    assert a["name"] == "L-BFGS-B" and a["accepted"]
    assert set(a) >= {"name", "success", "deviance", "n_iter", "message"}
    assert a["deviance"] == pytest.approx(-2 * fit.loglik, abs=1e-6)


# ------------------------------------------------------------------ errors and failures


def test_duplicate_group_visit_raises():
    y, X, g, v, names = DATA["orthodont"]
    g2, v2 = g.copy(), v.copy()
    v2[1] = v2[0]  # subject 0 now has two rows at the first visit
    with pytest.raises(AnalysisError, match="duplicate group x visit"):
        fit_mmrm(y, X, g2, v2)


def test_rank_deficient_design_raises():
    y, X, g, v, names = DATA["orthodont"]
    X2 = np.column_stack([X, X[:, 1] + X[:, 2]])
    with pytest.raises(AnalysisError, match=r"not of full column rank.*'dup'"):
        fit_mmrm(y, X2, g, v, x_names=[*names, "dup"])


def test_bad_inputs_raise():
    y, X, g, v, names = DATA["orthodont"]
    with pytest.raises(AnalysisError, match="unknown covariance structure"):
        fit_mmrm(y, X, g, v, structure="spatial_gaussian")
    y2 = y.copy()
    y2[3] = np.nan
    with pytest.raises(AnalysisError, match="missing"):
        fit_mmrm(y2, X, g, v)
    with pytest.raises(AnalysisError, match="no observations"):
        fit_mmrm(y, X, g, v, n_visits=5)
    with pytest.raises(AnalysisError, match="out of range"):
        fit_mmrm(y, X, g, v, n_visits=3)


def test_tiny_cohort_unstructured_reports_non_convergence():
    # 4 patients, 6 visits: the residual covariance has rank <= 4 < 6, so the unstructured
    # REML likelihood is unbounded (Sigma runs to a singular matrix)
    rng = np.random.default_rng(0)
    G, T = 4, 6
    g = np.repeat(np.arange(G), T)
    v = np.tile(np.arange(T), G)
    X = np.column_stack([np.ones(G * T)] + [(v == j).astype(float) for j in range(1, T)])
    y = rng.normal(size=G * T) + v
    fit = fit_mmrm(y, X, g, v)
    assert not fit.converged
    assert [a["name"] for a in fit.attempts] == ["L-BFGS-B", "BFGS", "Nelder-Mead"]
    assert not any(a["accepted"] for a in fit.attempts)
    text = " ".join(fit.messages)
    assert "unstructured covariance did not converge" in text
    assert "structure='cs'" in text
    # the simpler structure is fine on the same data
    assert fit_mmrm(y, X, g, v, structure="cs").converged


# --------------------------------------------------------------------------- speed


@pytest.mark.slow
def test_unstructured_10000_patients_recovers_sigma():
    rng = np.random.default_rng(5)
    n, T = 10_000, 6
    arm = rng.integers(0, 2, n)
    base = rng.normal(60, 12, n)
    sd = np.linspace(8, 14, T)
    lag = np.abs(np.subtract.outer(np.arange(T), np.arange(T)))
    S = (0.35 + 0.55 * 0.8**lag) * np.outer(sd, sd)
    np.fill_diagonal(S, sd**2)
    t = np.arange(1, T + 1)
    Y = 12 + 0.75 * base[:, None] - 3 * t - 2.4 * arm[:, None] * t
    Y = Y + rng.multivariate_normal(np.zeros(T), S, n)
    obs = np.ones((n, T), bool)
    last = np.where(rng.random(n) < 0.25, rng.integers(1, T, n), T)
    obs &= np.arange(T)[None, :] < last[:, None]
    g, v = np.nonzero(obs)
    a = arm[g].astype(float)
    X = np.column_stack([np.ones(len(g)), base[g], a]
                        + [(v == j).astype(float) for j in range(1, T)]
                        + [a * (v == j) for j in range(1, T)])
    fit = fit_mmrm(Y[g, v], X, g, v)  # speed is measured in benchmarks/bench_trajectory.py
    assert fit.converged
    np.testing.assert_allclose(fit.extra["Sigma"], S, rtol=0.1)
