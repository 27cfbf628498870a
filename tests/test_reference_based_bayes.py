"""Bayesian multiple imputation (``approach="bayes"``, rbmi's ``method_bayes``).

The Gibbs sampler of :mod:`dryneedle_outcomes.stats.imputation.bayes` is checked against
posterior means known in closed form (the model's priors are conjugate): with complete
data, and with monotone missing data in two visits, where the posterior factorises
into two conjugate regressions (so the data augmentation is checked, not only the
P-step). Posterior means of MCMC draws carry Monte Carlo error ``sd / sqrt(ESS)`` (ESS
of the draws themselves, :func:`~dryneedle_outcomes.stats.imputation.mcmc_diagnostics
.ess`), hence the tolerance of ``MCSE_TOL`` Monte Carlo SEs throughout.

The whole analysis is then checked on rbmi's antidepressant trial against rbmi's own
``method_bayes`` (quickstart vignette), the SAS five macros' Bayesian MI (results_SAS.pdf
shipped with rbmi) and SAS PROC MIXED's direct-likelihood estimates (MAR), each within
Monte Carlo error (see ``tests/reference/rbmi/README.md``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from test_reference_based_engine import (  # noqa: F401  (trial is a fixture)
    COLUMNS,
    MC_SE_RTOL,
    REF,
    VISITS,
    _ours,
    _sas,
    trial,
)

import dryneedle_outcomes as dno
from dryneedle_outcomes.errors import AnalysisError
from dryneedle_outcomes.stats.imputation.bayes import mmrm_gibbs
from dryneedle_outcomes.stats.imputation.engine import reference_based_mi, tipping
from dryneedle_outcomes.stats.imputation.mcmc_diagnostics import ess

#: agreement of Monte Carlo averages with their target: this many Monte Carlo SEs
#: (a normal deviate beyond 4 has probability 6e-5)
MCSE_TOL = 4.0
#: our total SE against the SAS five macros' (thousands of imputations) and PROC
#: MIXED's Kenward-Roger SE: the Monte Carlo error of ours is below 0.5 % (B is ~6 % of
#: the total variance here and is estimated from M = 250 draws with ~sqrt(2 / 250) = 9 %
#: relative error); the rest is the models' difference (a covariance per arm in the five
#: macros; Kenward-Roger's small-sample adjustment), measured at 1.2 % at most
SAS_SE_RTOL = 0.03


def _within(draws, target, what):
    """Mean of ``draws`` (n, ...) against ``target`` within MCSE_TOL Monte Carlo SEs."""
    d = np.asarray(draws, float).reshape(len(draws), -1)
    t = np.asarray(target, float).ravel()
    e = ess(d)
    mcse = d.std(axis=0, ddof=1) / np.sqrt(e)
    z = (d.mean(axis=0) - t) / mcse
    assert np.all(np.abs(z) < MCSE_TOL), (what, z, d.mean(axis=0), t)
    return z


def _design(N, rng):
    arm = np.repeat([0, 1], N // 2)
    x = rng.normal(0.0, 1.0, (N, 1))
    Z = np.column_stack([arm == 0, arm == 1, x]).astype(float)
    return arm, x, Z


def test_with_complete_data_the_draws_have_the_conjugate_posterior_moments():
    """No missing value: the chain draws (B, Sigma) independently from the posterior
    ``Sigma | Y ~ IW(nu + N - p, S + E'E)``, ``vec(B) | Sigma, Y ~ N(vec(B_hat), Sigma
    (x) (Z'Z)^-1)``, whose means are ``(S + E'E) / (nu + N - p - T - 1)`` and ``B_hat``
    and whose variance of ``B[k, t]`` is ``E[Sigma_tt] (Z'Z)^-1_kk`` (computed here
    from the formulas, independently of the sampler's code)."""
    rng = np.random.default_rng(11)
    N, T = 120, 3
    arm, x, Z = _design(N, rng)
    L = np.array([[2.0, 0, 0], [1.0, 1.5, 0], [0.5, 0.8, 1.2]])
    y = Z @ rng.normal(0, 2, (3, T)) + rng.normal(size=(N, T)) @ L.T
    S = np.array([[3.0, 1.0, 0.5], [1.0, 2.0, 0.3], [0.5, 0.3, 4.0]])
    n = 3000
    d = mmrm_gibbs(y, arm, x, 2, beta0=np.zeros(3 * T), Sigma0=S, prior_scale=S,
                   n_samples=n, warmup=0, thin=1, rng=np.random.default_rng(1))
    nu, p = T + 2, 3
    ZtZi = np.linalg.inv(Z.T @ Z)
    Bhat = ZtZi @ Z.T @ y
    E = y - Z @ Bhat
    ESigma = (S + E.T @ E) / (nu + N - p - T - 1)
    _within(d.Sigma, ESigma, "E[Sigma | Y]")
    _within(d.beta, Bhat.ravel(), "E[B | Y]")
    # variances of B: the sample variance of n (independent) draws has relative SE
    # ~sqrt(2 / n) (2.6 %); 4 of them
    var_B = np.outer(np.diag(ZtZi), np.diag(ESigma)).ravel()
    assert d.beta.var(axis=0, ddof=1) == pytest.approx(var_B, rel=MCSE_TOL * np.sqrt(2 / n))
    assert np.all(d.ess > 0.8 * n)   # independent draws


def test_with_monotone_missing_data_the_chain_reaches_the_exact_posterior():
    """Two visits, the second missing for about a third of the patients (more often
    when the first is high: MAR). The observed-data posterior factorises (Anderson
    1957; Little & Rubin 2002, section 7.2) into the regression of visit 1 on Z (all
    patients) and of visit 2 on visit 1 and Z (completers), and rbmi's prior factorises
    with it: for ``Sigma ~ IW(nu, S)``, ``s11 ~ IW_1(nu - 1, S11)`` independent of
    ``(phi = s12 / s11, s22.1 = s22 - s12^2 / s11)``, ``s22.1 ~ IW_1(nu, S22.1)``,
    ``phi | s22.1 ~ N(S12 / S11, s22.1 / S11)`` (e.g. Press 1982, *Applied Multivariate
    Analysis*, section 5.3). Each part is a conjugate normal regression, so every
    posterior mean of B and Sigma is known exactly; the data-augmentation chain, which
    never sees this factorisation, must reproduce them."""
    rng = np.random.default_rng(4)
    N, T = 300, 2
    arm, x, Z = _design(N, rng)
    B_true = np.array([[1.0, 2.0], [1.5, 3.5], [0.8, 0.6]])
    y = Z @ B_true + rng.normal(size=(N, T)) @ np.array([[2.0, 0.0], [1.2, 1.5]]).T
    gone = rng.random(N) < 1 / (1 + np.exp(-(y[:, 0] - y[:, 0].mean()))) * 0.7
    y[gone, 1] = np.nan
    S = np.array([[4.0, 2.0], [2.0, 5.0]])
    nu, p = T + 2, 3
    n = 4000
    d = mmrm_gibbs(y, arm, x, 2, beta0=B_true.ravel(), Sigma0=S, prior_scale=S,
                   n_samples=n, warmup=50, thin=1, rng=np.random.default_rng(2))
    # visit 1: all N patients, flat prior on B1, s11 ~ IW_1(nu - 1, S11)
    b1 = np.linalg.lstsq(Z, y[:, 0], rcond=None)[0]
    rss1 = np.sum((y[:, 0] - Z @ b1) ** 2)
    E_s11 = (S[0, 0] + rss1) / ((nu - 1) + N - p - 2)
    # visit 2 given visit 1 among completers: y2 = phi y1 + Z g + e, e ~ N(0, s22.1);
    # prior phi | s22.1 ~ N(m0, s22.1 / S11), flat on g, s22.1 ~ IW_1(nu, S22.1)
    c = ~np.isnan(y[:, 1])
    X2 = np.column_stack([y[c, 0], Z[c]])
    P0 = np.zeros((p + 1, p + 1))
    P0[0, 0] = S[0, 0]
    m0 = np.zeros(p + 1)
    m0[0] = S[0, 1] / S[0, 0]
    Vn = np.linalg.inv(P0 + X2.T @ X2)
    mn = Vn @ (P0 @ m0 + X2.T @ y[c, 1])
    Q = y[c, 1] @ y[c, 1] + m0 @ P0 @ m0 - mn @ np.linalg.solve(Vn, mn)
    S221 = S[1, 1] - S[0, 1] ** 2 / S[0, 0]
    E_s221 = (S221 + Q) / (nu + c.sum() - p - 2)
    E_phi = mn[0]
    E_phi2 = E_s221 * Vn[0, 0] + E_phi ** 2          # marginal t: Var = E[s22.1] Vn_00
    B = d.beta.reshape(n, p, T)
    s11 = d.Sigma[:, 0, 0]
    phi = d.Sigma[:, 0, 1] / s11
    s221 = d.Sigma[:, 1, 1] - d.Sigma[:, 0, 1] ** 2 / s11
    _within(B[:, :, 0], b1, "E[B1]")
    _within(s11, E_s11, "E[s11]")
    _within(phi, E_phi, "E[phi]")
    _within(s221, E_s221, "E[s22.1]")
    # B2 = g + B1 phi and Sigma's other entries, from the two independent parts
    _within(B[:, :, 1], mn[1:] + b1 * E_phi, "E[B2]")
    _within(d.Sigma[:, 0, 1], E_s11 * E_phi, "E[s12]")
    _within(d.Sigma[:, 1, 1], E_s221 + E_phi2 * E_s11, "E[s22]")
    # the completers-only and all-patient answers differ by far more than the MC error
    # (so the check can fail): visit 1's mean of the completers is biased under MAR
    b1_cc = np.linalg.lstsq(Z[c], y[c, 0], rcond=None)[0]
    assert np.max(np.abs(b1_cc - b1) / (B[:, :, 0].std(axis=0) / np.sqrt(n))) > 20


STRATEGY_CODES = {"MAR": 0, "JTR": 1, "CR": 2, "CIR": 3}
#: imputations kept per analysis on the antidepressant trial, MCMC settings: the raw
#: chain's integrated autocorrelation time is below 2 for every parameter here, so
#: thin = 2 gives nearly independent draws (the ESS below accounts for what is left)
M_TRIAL, WARMUP, THIN = 250, 100, 2


@pytest.fixture(scope="module")
def bayes_fits(trial):  # noqa: F811
    out = {}
    for name, code in STRATEGY_CODES.items():
        out[name] = reference_based_mi(
            trial["y"], trial["arm"], trial["x"],
            strategy=np.where(trial["ice"] < trial["T"], code, 0), approach="bayes",
            variance="rubin", n_samples=M_TRIAL, warmup=WARMUP, thin=THIN, seed=1821,
            **trial["kw"])
    return out


def _mc_se(res, label, v):
    """Monte Carlo SE of the pooled estimate: sqrt(B / ESS) of the imputations'
    estimates (the draws are a Markov chain)."""
    s = res.samples[:, res.labels.index(label), v]
    if np.ptp(s) <= 1e-12 * max(1.0, np.abs(s).max()):
        return 0.0   # nothing imputed at this visit: every imputation the same (to rounding)
    return float(np.sqrt(s.var(ddof=1) / ess(s)[0]))


def test_jump_to_reference_agrees_with_rbmi_method_bayes(bayes_fits):
    """rbmi's quickstart (``method_bayes(n_samples = 150)``, J2R, Rubin's rules): the
    same model and priors, sampled by Stan there and by our Gibbs sampler here. Each
    side carries Monte Carlo error: estimates within 4 sqrt(B / ESS + B / 150), total
    SEs within 10 % (the between-imputation variance is estimated with ~sqrt(2 / M)
    relative error on each side)."""
    res = bayes_fits["JTR"]
    assert res.approach == "bayes" and res.n_samples == M_TRIAL and not res.messages
    rows = REF[REF["analysis"] == "jr_bayes_rubin"]
    assert len(rows) == 12
    for _, r in rows.iterrows():
        ours = _ours(res, r["parameter"])
        kind, visit = r["parameter"].rsplit("_", 1)
        label = {"trt": "trt:PLACEBO", "lsm_ref": "lsm:DRUG", "lsm_alt": "lsm:PLACEBO"}[kind]
        v = VISITS.index(int(visit))
        B = res.samples[:, res.labels.index(label), v].var(ddof=1)
        mc = np.sqrt(_mc_se(res, label, v) ** 2 + B / 150)
        # (+ 5e-9: week 4 has no missing value, so both sides give the observed-data
        # ANCOVA, printed to 8 significant digits)
        assert abs(ours["estimate"] - float(r["est"])) < MCSE_TOL * mc + 5e-9, \
            (r["parameter"], ours["estimate"], r["est"], mc)
        assert ours["std_error"] == pytest.approx(float(r["se"]), rel=MC_SE_RTOL), \
            r["parameter"]
    assert np.all(np.isfinite(res.pooled["df"]))


@pytest.mark.parametrize("name", list(STRATEGY_CODES))
def test_strategies_agree_with_the_sas_five_macros_bayesian_mi(bayes_fits, name):
    """results_SAS.pdf pages 5-8: the five macros' Bayesian MI (MAR, J2R, CR, CIR with
    PLACEBO as reference). Both are Bayesian MI of the same trial; theirs uses a
    separate covariance per arm, ours rbmi's shared one. Estimates within 4 combined
    Monte Carlo SEs (SAS's printed MCSE_Diff and ours), total SEs within 3 %
    (``SAS_SE_RTOL``); week 4 has no missing value, so every imputation gives the
    observed-data ANCOVA, SAS's value to its 5 decimals."""
    res = bayes_fits[name]
    k = res.labels.index("trt:PLACEBO")
    for v in range(4):
        p = f"DRUG-PLACEBO_{4 + v}"
        sas, mcse = (_sas(f"sas_five_macros_{name}", p, q) for q in ("estimate", "mcse"))
        ours = -res.pooled["estimate"][k, v]
        if mcse == 0:
            assert ours == pytest.approx(sas, abs=5e-6), (name, p)
            continue
        tol = MCSE_TOL * np.hypot(mcse, _mc_se(res, "trt:PLACEBO", v))
        assert ours == pytest.approx(sas, abs=tol), (name, p, ours, sas)
        assert res.pooled["std_error"][k, v] == pytest.approx(
            _sas(f"sas_five_macros_{name}", p, "std_error"), rel=SAS_SE_RTOL), (name, p)


def test_mar_bayesian_mi_estimates_the_direct_likelihood_mmrm(bayes_fits):
    """Under MAR, Bayesian MI with the MMRM as imputation model and the ANCOVA as
    analysis targets the MMRM's own estimate (Wolbers et al. 2022, section 2.4) and
    its SE: SAS PROC MIXED's DRUG - PLACEBO differences (REML, unstructured) within 4
    Monte Carlo SEs, and its Kenward-Roger SEs within 3 % (``SAS_SE_RTOL``)."""
    res = bayes_fits["MAR"]
    k = res.labels.index("trt:PLACEBO")
    for v in range(4):
        p = f"DRUG-PLACEBO_{4 + v}"
        ours = -res.pooled["estimate"][k, v]
        mmrm = _sas("sas_mmrm_reml", p, "estimate")
        tol = MCSE_TOL * _mc_se(res, "trt:PLACEBO", v) if v else 5e-5   # week 4: printed
        assert ours == pytest.approx(mmrm, abs=tol), (p, ours, mmrm)
        assert res.pooled["std_error"][k, v] == pytest.approx(
            _sas("sas_mmrm_reml", p, "se_kenward_roger"), rel=SAS_SE_RTOL), p


def test_a_seed_gives_the_same_numbers_for_any_n_jobs(trial):  # noqa: F811
    kw = dict(strategy=np.where(trial["ice"] < trial["T"], 1, 0), approach="bayes",
              variance="rubin", n_samples=8, warmup=10, thin=2, **trial["kw"])
    one = reference_based_mi(trial["y"], trial["arm"], trial["x"], seed=5, **kw)
    again = reference_based_mi(trial["y"], trial["arm"], trial["x"], seed=5, **kw)
    two = reference_based_mi(trial["y"], trial["arm"], trial["x"], seed=5, n_jobs=2, **kw)
    other = reference_based_mi(trial["y"], trial["arm"], trial["x"], seed=6, **kw)
    for r in (again, two):
        np.testing.assert_array_equal(one.mcmc.beta, r.mcmc.beta)
        np.testing.assert_array_equal(one.imputed, r.imputed)
        for c in COLUMNS.values():
            np.testing.assert_array_equal(one.pooled[c], r.pooled[c])
    assert not np.array_equal(one.mcmc.beta, other.mcmc.beta)
    # the kept draws: warmup + thin * n_samples iterations, every thin-th kept
    assert one.mcmc.beta.shape == (8, 12) and one.mcmc.Sigma.shape == (8, 4, 4)
    # the imputations keep the observed values
    obs = ~np.isnan(trial["y"])
    assert np.all(one.imputed[:, obs] == trial["y"][obs])
    # tipping points re-analyse the stored imputations (as for approximate Bayes): the
    # same as imputing with the delta added (the delta does not touch the random
    # numbers, and the ANCOVA is linear in y), up to rounding
    tip = tipping(one, [0.0, 1.5], arms=[0], arm=trial["arm"], x=trial["x"])
    delta = np.where(np.isnan(trial["y"]) & (trial["arm"] == 0)[:, None], 1.5, 0.0)
    direct = reference_based_mi(trial["y"], trial["arm"], trial["x"], seed=5, delta=delta,
                                **kw)
    for c in COLUMNS.values():
        np.testing.assert_allclose(tip[0][c], one.pooled[c], rtol=1e-12)
        np.testing.assert_allclose(tip[1][c], direct.pooled[c], rtol=1e-9, atol=1e-12)
    assert not np.allclose(tip[1]["estimate"], one.pooled["estimate"])


def test_a_slowly_mixing_chain_warns_and_bad_settings_are_refused(trial):  # noqa: F811
    """Data augmentation mixes slowly when much information is missing (its rate is the
    largest fraction of missing information; Schafer 1997, section 3.5): with 80 % of
    the later visits removed and no thinning, consecutive draws are strongly
    correlated and rbmi's check (ESS below 40 % of the draws) fires. The trial's own
    chains (above: about a quarter missing, thin = 2) do not trigger it."""
    y = trial["y"].copy()
    gone = np.random.default_rng(0).random(y.shape) < 0.8
    gone[:, 0] = False
    y[gone] = np.nan
    kw = {**trial["kw"], "ice_visit": np.full(len(y), trial["T"])}
    kw.update(strategy=np.zeros(len(y), int), approach="bayes", variance="rubin", seed=3)
    slow = reference_based_mi(y, trial["arm"], trial["x"], n_samples=40, warmup=0,
                              thin=1, **kw)
    low = np.sum(slow.mcmc.ess < 0.4 * 40)
    assert low >= 5
    msg = [m for m in slow.messages if "effective sample size" in m]
    assert len(msg) == 1 and f"for {low} parameter(s)" in msg[0]
    with pytest.raises(AnalysisError, match="unstructured"):
        reference_based_mi(y, trial["arm"], trial["x"], n_samples=4, structure="ar1", **kw)
    with pytest.raises(AnalysisError, match="thin"):
        reference_based_mi(y, trial["arm"], trial["x"], n_samples=4, thin=0, **kw)


@pytest.fixture(scope="module")
def cohort():
    return dno.simulate_cohort(n_patients=40, seed=3)


def test_the_public_analysis_with_tipping_point_responders_and_imputed(cohort):
    kw = dict(method="jump_to_reference", reference_arm="sham", approach="bayes",
              n_samples=12, warmup=20, thin=2, seed=7, progress=False)
    res = dno.reference_based(cohort, "first_step_pain", **kw)
    again = dno.reference_based(cohort, "first_step_pain", **kw)
    pd.testing.assert_frame_equal(res.arm_difference, again.arm_difference,
                                  check_exact=True)
    assert "df" in res.arm_difference and (res.arm_difference["df"] > 0).all()
    assert res.approach == "bayes" and "MCMC" in res.notes[0]
    assert res.imputed["imputation"].nunique() == 12
    tp = res.tipping_point([0.0, 5.0])
    zero = tp.table[tp.table["delta"] == 0.0].reset_index(drop=True)
    np.testing.assert_allclose(zero["estimate"], res.arm_difference["estimate"],
                               rtol=1e-12)
    rd = res.responders().risk_difference
    assert len(rd) == len(res.visits) and "Bayesian (MCMC)" in res.responders().notes[0]
    with pytest.raises(AnalysisError, match="warmup and thin"):
        dno.reference_based(cohort, "first_step_pain", approach="approximate_bayes",
                            thin=5)
