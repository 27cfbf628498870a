"""Simulation-based power and sample size (dryneedle_outcomes.power).

Outside references: the analytic ANCOVA power (noncentral t, ncp = effect / (sd
sqrt(1 - rho^2) sqrt(2/n)), df = 2n - 3) and statsmodels' ``TTestIndPower`` for the
two-sample t test. Every comparison of a simulated power allows 3 Monte Carlo SEs,
``3 sqrt(p (1 - p) / n_trials)`` with ``p`` the reference power (a false failure about
once in 370 checks; the seeds are fixed, so a passing test stays passing).

The analytic ANCOVA power treats the baseline as fixed; with a random (normal) baseline
the exact power is lower, by a term of order 1/n (0.014 at n = 10, 0.002 at n = 50 here):
the conditional noncentrality is ``ncp / sqrt(1 + T^2 / (2n - 2))`` with ``T`` the
t statistic of the baseline imbalance, ``T ~ t(2n - 2)`` (Shieh 2020, Br J Math Stat
Psychol 73:66-84, "Power analysis and sample size planning in ANCOVA designs"),
:func:`exact_ancova_power` integrates over it. The simulations are compared with the exact
power within 3 MC SE, and with the fixed-baseline formula within 3 MC SE plus the
formula's known bias ``|formula - exact|``.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest
from statsmodels.stats.power import TTestIndPower

import dryneedle_outcomes as dno
from dryneedle_outcomes.errors import AnalysisError

_REF = Path(__file__).parent / "reference" / "power" / "power_reference_values.py"
_spec = importlib.util.spec_from_file_location("power_reference_values", _REF)
ref = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(ref)


def ancova_power(effect, sd, rho, n, alpha=0.05):
    """The issue's closed form: balanced baseline (tests/reference/power)."""
    return ref.analytic_ancova_power(n, effect, sd, rho, alpha)


def exact_ancova_power(effect, sd, rho, n, alpha=0.05):
    """ANCOVA power with a normal baseline, averaged over the baseline imbalance (Shieh
    2020; tests/reference/power, checked there against R pwrss's printed numbers)."""
    return ref.ancova_power_unconditional(n, effect, sd, rho, alpha)


def mc_bound(p, n_trials):
    return 3.0 * np.sqrt(p * (1 - p) / n_trials)


ONE_VISIT = dict(visits=[6], effect=0.6, sd=1.0, rho=0.5)


def test_ancova_matches_analytic_power_at_several_n():
    ns = [10, 25, 50]
    res = dno.simulate_power(n_per_arm=ns, n_trials=3000, seed=11, analysis="ancova",
                             **ONE_VISIT)
    for n, power in zip(res.table["n_per_arm"], res.table["power"]):
        exact = exact_ancova_power(0.6, 1.0, 0.5, n)
        assert abs(power - exact) < mc_bound(exact, 3000), (n, power, exact)
        ref = ancova_power(0.6, 1.0, 0.5, n)
        assert abs(power - ref) < mc_bound(ref, 3000) + abs(ref - exact), (n, power, ref)
    assert res.converged and res.table["failures"].eq(0).all()


def test_mmrm_with_one_visit_is_the_ancova_and_matches_analytic_power():
    # one post-baseline visit, no dropout: the unstructured MMRM is the ANCOVA (REML
    # variance = residual mean square, KR df = n - p): the same p-value per trial, to
    # the optimiser's tolerance (1e-6: its gradient stopping rule, not exact arithmetic)
    kw = dict(n_per_arm=[15, 30], n_trials=300, seed=5, **ONE_VISIT)
    mm = dno.simulate_power(analysis="mmrm", **kw)
    an = dno.simulate_power(analysis="ancova", **kw)
    np.testing.assert_allclose(mm.trials["p_value"], an.trials["p_value"], atol=1e-6)
    np.testing.assert_allclose(mm.trials["df"], an.trials["df"], rtol=1e-6)
    for n, power in zip(mm.table["n_per_arm"], mm.table["power"]):
        exact = exact_ancova_power(0.6, 1.0, 0.5, n)
        assert abs(power - exact) < mc_bound(exact, 300), (n, power, exact)


@pytest.mark.parametrize("adjust_baseline", [False, True])
def test_two_sample_t_test_against_statsmodels(adjust_baseline):
    # rho = 0: the baseline carries no information. Unadjusted: exactly the two-sample
    # t test (statsmodels). Adjusted: one df and the random-covariate term are lost, the
    # exact power (Shieh 2020) is 0.007 (n = 20) and 0.005 (n = 40) below statsmodels';
    # that gap is added to the bound
    ns = [20, 40]
    res = dno.simulate_power(n_per_arm=ns, n_trials=3000, seed=21, analysis="ancova",
                             visits=[4], effect=0.5, sd=1.0, rho=0.0,
                             adjust_baseline=adjust_baseline)
    for n, power in zip(res.table["n_per_arm"], res.table["power"]):
        ref = TTestIndPower().power(effect_size=0.5, nobs1=n, alpha=0.05, ratio=1.0)
        gap = abs(ref - exact_ancova_power(0.5, 1.0, 0.0, n)) if adjust_baseline else 0.0
        assert abs(power - ref) < mc_bound(ref, 3000) + gap, (n, power, ref)


def test_type_one_error_ancova_and_mmrm_with_dropout():
    an = dno.simulate_power(n_per_arm=40, n_trials=4000, seed=3, analysis="ancova",
                            visits=[2, 4, 6], effect=0.0, sd=1.0, correlation="ar1",
                            rho=0.6, dropout=0.25)
    assert abs(an.power - 0.05) < mc_bound(0.05, 4000)
    # the MMRM costs ~0.02 s a trial here: 500 trials, bound 3 * 0.0097 = 0.029
    mm = dno.simulate_power(n_per_arm=20, n_trials=500, seed=3, analysis="mmrm",
                            visits=[2, 4, 6], effect=0.0, sd=1.0, correlation="ar1",
                            rho=0.6, dropout=0.25)
    assert abs(mm.power - 0.05) < mc_bound(0.05, 500)
    assert mm.table["failures"].iloc[0] == 0


def test_dropout_removes_patients_at_the_primary_visit():
    res = dno.simulate_power(n_per_arm=100, n_trials=400, seed=9, analysis="ancova",
                             visits=[1, 2], effect=0.0, rho=0.5, dropout=[0.1, 0.3])
    se_full = dno.simulate_power(n_per_arm=100, n_trials=400, seed=9, analysis="ancova",
                                 visits=[1, 2], effect=0.0, rho=0.5).table
    # 30% missing at the last visit: the SE grows by about 1 / sqrt(0.7) (+/- 3%: the
    # binomial spread of the completers and the mean of 400 SEs)
    ratio = res.table["mean_std_error"].iloc[0] / se_full["mean_std_error"].iloc[0]
    assert abs(ratio - 1 / np.sqrt(0.7)) < 0.03


def test_same_numbers_for_any_n_jobs_and_seed():
    # 1,200 ANCOVA trials are 3 tasks of 500 and 60 MMRM trials 6 tasks of 10: both run
    # on two processes
    kw = dict(n_per_arm=[10, 15], n_trials=1200, seed=7, analysis="ancova", visits=[1, 2],
              effect=0.5, rho=0.4, dropout=0.2)
    one = dno.simulate_power(n_jobs=1, **kw).trials
    two = dno.simulate_power(n_jobs=2, **kw).trials
    assert one.equals(two)
    assert one.equals(dno.simulate_power(**kw).trials)
    other = dno.simulate_power(**{**kw, "seed": 8}).trials
    assert not np.allclose(one["estimate"], other["estimate"])
    mkw = dict(n_per_arm=12, n_trials=60, seed=7, analysis="mmrm", visits=[1, 2],
               effect=0.5, rho=0.4, dropout=0.2)
    m1 = dno.simulate_power(n_jobs=1, **mkw).trials
    m2 = dno.simulate_power(n_jobs=2, **mkw).trials
    assert m1.equals(m2)


def test_common_random_numbers_a_smaller_n_is_a_prefix():
    # the n = 10 trials inside a [10, 30] run are those of a run at n = 10 alone
    kw = dict(n_trials=50, seed=4, analysis="ancova", visits=[1, 3], effect=0.5, rho=0.3,
              dropout=0.3, allocation=1.5)
    both = dno.simulate_power(n_per_arm=[10, 30], **kw).trials
    alone = dno.simulate_power(n_per_arm=10, **kw).trials
    np.testing.assert_array_equal(both[both["n_per_arm"] == 10]["estimate"],
                                  alone["estimate"])


def test_sample_size_consistent_with_simulate_power():
    kw = dict(n_trials=1000, seed=13, analysis="ancova", visits=[6], effect=0.5, sd=1.0,
              rho=0.5)
    res = dno.sample_size(0.9, n_range=(10, 120), **kw)
    n = res.n_required
    at_n = dno.simulate_power(n_per_arm=n, **kw)
    below = dno.simulate_power(n_per_arm=n - 1, **kw)
    assert at_n.power >= 0.9 > below.power
    assert at_n.power == res.table.set_index("n_per_arm").loc[n, "power"]
    # the analytic n for 90% power (ANCOVA formula): within the Monte Carlo spread
    analytic = next(m for m in range(10, 200) if ancova_power(0.5, 1, 0.5, m) >= 0.9)
    assert abs(n - analytic) <= 6, (n, analytic)  # +/-6: MC error of n at 1000 trials
    assert n in res.n_plausible or not res.n_plausible
    assert "Smallest n per arm" in res.notes[-1]


def test_sample_size_not_reached_warns():
    res = dno.sample_size(0.9, n_range=(5, 10), n_trials=200, seed=1, analysis="ancova",
                          visits=[1], effect=0.2, rho=0.0)
    assert res.n_required is None
    assert "below the target" in res.warnings[0]


def test_design_object_and_effect_override():
    d = dno.TrialDesign(visits=[2, 4], effect=[0.5, 1.0], sd=1.0, rho=0.5)
    a = dno.simulate_power(n_per_arm=10, n_trials=60, seed=2, analysis="ancova", design=d)
    b = dno.simulate_power(n_per_arm=10, n_trials=60, seed=2, analysis="ancova", visits=[2, 4],
                           effect=[0.5, 1.0], sd=1.0, rho=0.5)
    assert a.trials.equals(b.trials)
    c = dno.simulate_power(n_per_arm=10, n_trials=60, seed=2, analysis="ancova", design=d,
                           effect=0.0)
    assert c.table["mean_estimate"].iloc[0] < a.table["mean_estimate"].iloc[0] - 0.5
    with pytest.raises(AnalysisError, match="not both"):
        dno.simulate_power(n_per_arm=10, n_trials=5, seed=1, design=d, visits=[1])


def test_mnar_dropout_is_on_the_value_at_the_missed_visit():
    # One visit, 30% dropout, slope 1.5 log-odds per SD of the visit's own (unrecorded)
    # value. Independent reference by quadrature: the intercept a solving
    # E[expit(a + 1.5 Z)] = 0.3 (Z standard normal), then E[Z | dropped out].
    from scipy import integrate, optimize, special, stats

    from dryneedle_outcomes.power.simulate import draw_trials

    b_, p_ = 1.5, 0.3

    def moment(a, k):
        return integrate.quad(lambda z: z**k * special.expit(a + b_ * z) * stats.norm.pdf(z),
                              -12, 12, epsabs=1e-12)[0]

    a = optimize.brentq(lambda a: moment(a, 0) - p_, -20, 20, xtol=1e-12)
    z_dropped = moment(a, 1) / p_
    d = dno.TrialDesign(visits=[1], effect=0.0, sd=[2.0, 3.0], rho=0.5, baseline_mean=10.0,
                        dropout=p_, mechanism="mnar", dropout_slope=b_)
    batch = draw_trials(d, np.random.SeedSequence(8).spawn(100), 1000, 0)
    z = (batch.y[:, :, 1] - 10.0) / 3.0
    gone = ~batch.observed[:, :, 0]
    # 100,000 patients here, 20,000 in the calibration: SE of the proportion
    # sqrt(0.21 / 20000 + 0.21 / 100000) = 0.0035 -> bound 3 SE (0.011); the mean of Z
    # over ~30,000 leavers has SE ~0.9 / sqrt(30000) = 0.005, plus the calibration's
    # effect on it (dE/dp ~ 2.5 x 0.0032): bound 0.03
    assert abs(gone.mean() - p_) < 0.011
    assert abs(z[gone].mean() - z_dropped) < 0.03, (z[gone].mean(), z_dropped)
    # under MAR the same slope acts on the baseline: the leavers' visit values are
    # shifted only through the correlation (0.5), a clearly different selection
    mar = dno.TrialDesign(visits=[1], effect=0.0, sd=[2.0, 3.0], rho=0.5,
                          baseline_mean=10.0, dropout=p_, mechanism="mar", dropout_slope=b_)
    mb = draw_trials(mar, np.random.SeedSequence(8).spawn(100), 1000, 0)
    mz = (mb.y[:, :, 1] - 10.0) / 3.0
    assert abs(mz[~mb.observed[:, :, 0]].mean() - 0.5 * z_dropped) < 0.03


def test_the_mmrm_is_biased_under_mnar_dropout():
    # the design of the MAR test above with the same slope on the unrecorded value: the
    # MMRM (valid under MAR) now underestimates the effect; a sensitivity scenario ICH
    # E9(R1) A.5 asks planners to consider. Seen here: 0.89 (bias -0.11); 200 trials, SE
    # of the mean estimate ~0.21 / sqrt(200) = 0.015: bound 3 SE
    d = dno.TrialDesign(visits=[2, 4, 6], effect=1.0, sd=1.0, correlation="ar1", rho=0.8,
                        dropout=[0.1, 0.2, 0.3], mechanism="mnar", dropout_slope=1.5)
    mm = dno.simulate_power(n_per_arm=40, n_trials=200, seed=5, analysis="mmrm", design=d)
    se = mm.table["empirical_sd"].iloc[0] / np.sqrt(200)
    assert mm.table["mean_estimate"].iloc[0] < 1.0 - 3 * se
    assert "MNAR" in " ".join(mm.notes)
    assert "never recorded" in " ".join(mm.notes)


@pytest.mark.parametrize("kwargs, message", [
    (dict(visits=[2, 1], effect=1.0, rho=0.5), "increasing"),
    (dict(visits=[1, 2], effect=[1, 2, 3], rho=0.5), "effect must be one number"),
    (dict(visits=[1], effect=1.0, sd=-1.0, rho=0.5), "sd must be positive"),
    (dict(visits=[1], effect=1.0), "needs rho"),
    (dict(visits=[1], effect=1.0, correlation="banana", rho=0.5), "correlation must be"),
    (dict(visits=[1], effect=1.0, correlation=[[1, 2], [2, 1]]), "positive definite"),
    (dict(visits=[1, 2], effect=1.0, rho=0.5, dropout=[0.3, 0.1]), "must not decrease"),
    (dict(visits=[1], effect=1.0, rho=0.5, dropout=1.0), r"in \[0, 1\)"),
    (dict(visits=[1], effect=1.0, rho=0.5, mechanism="nmar"), "not built"),
    (dict(visits=[1], effect=1.0, rho=0.5, mechanism="mar", dropout_slope=np.nan), "dropout_slope"),
    (dict(visits=[1], effect=1.0, rho=0.5, allocation=0), "allocation"),
])
def test_design_validation(kwargs, message):
    with pytest.raises(AnalysisError, match=message):
        dno.TrialDesign(**kwargs)


@pytest.mark.parametrize("kwargs, message", [
    (dict(client=object()), "must be a dask.distributed.Client"),
    (dict(analysis="logistic"), "analysis must be"),
    (dict(n_trials=0), "n_trials"),
    (dict(alpha=1.5), "alpha"),
    (dict(n_per_arm=2), "at least 3"),
    (dict(n_per_arm=10.5), "whole numbers"),
    (dict(visit=5), "not a visit"),
])
def test_simulate_power_argument_errors(kwargs, message):
    base = dict(n_per_arm=10, n_trials=5, seed=1, analysis="ancova", visits=[1, 2],
                effect=1.0, rho=0.5)
    with pytest.raises(AnalysisError, match=message):
        dno.simulate_power(**{**base, **kwargs})


def test_result_contract_and_plot():
    import matplotlib

    matplotlib.use("Agg")
    res = dno.sample_size(0.8, n_range=(5, 40), n_trials=100, seed=1, analysis="ancova",
                          visits=[1], effect=1.0, rho=0.5)
    assert list(res.tables()) == ["power"]
    assert "Hoenig & Heisey" in res.summary()
    assert "<table" in res._repr_html_()
    assert res.comparison.empty
    assert 0 <= res.ci_lower <= res.power <= res.ci_upper <= 1
    ax = res.plot()
    assert ax.get_ylabel().startswith("Power")
    assert len(ax.lines) >= 1


def test_design_from_a_fitted_mmrm():
    cohort = dno.simulate_cohort(n_patients=60, seed=2)
    fit = dno.fit_trajectory(cohort, primary_visit=6)
    with pytest.raises(AnalysisError, match="effect= is required"):
        fit.design(effect=None)
    d = fit.design(effect=-10.0)
    assert d.visits.tolist() == [float(v) for v in fit.frame.visits]
    # the visits given baseline (Schur complement) are the fitted residual covariance
    # (algebra: 1e-9 relative, rounding only)
    C = d.covariance
    cond = C[1:, 1:] - np.outer(C[1:, 0], C[0, 1:]) / C[0, 0]
    np.testing.assert_allclose(cond, fit.fit.extra["Sigma"], rtol=1e-9)
    # the baseline's SD and the dropout, counted from the cohort's own table
    rows = fit.frame.data
    base = rows.drop_duplicates("patient_id")["baseline"]
    assert d.sd[0] == pytest.approx(base.std(ddof=1), rel=1e-12)
    present = rows.pivot_table(index="patient_id", columns="visit", values="y",
                               aggfunc="size").notna()
    missing = 1 - present.mean().to_numpy()
    np.testing.assert_allclose(d.dropout, np.maximum.accumulate(missing), atol=1e-12)
    res = dno.simulate_power(n_per_arm=30, n_trials=40, seed=1, analysis="mmrm", design=d,
                             visit=6)
    assert res.table["n_trials"].iloc[0] == 40
    # linear shape: -10 * 6/7 at visit 6; 40 trials, SE of the mean estimate ~ 1.3 here
    assert abs(res.table["mean_estimate"].iloc[0] - (-10 * 6 / 7)) < 4
    slope = dno.fit_trajectory(cohort, model="random_slope")
    with pytest.raises(AnalysisError, match="model='mmrm'"):
        slope.design(effect=-10.0)


def test_design_from_a_fit_with_the_planned_dropout():
    cohort = dno.simulate_cohort(n_patients=60, seed=2)
    fit = dno.fit_trajectory(cohort, primary_visit=6)
    observed = fit.design(effect=-10.0)
    T = observed.n_visits
    # one number: the proportion missing by the last visit, reached linearly (exact
    # arithmetic: 0.2 * k / T)
    d = fit.design(effect=-10.0, dropout=0.2)
    np.testing.assert_allclose(d.dropout, 0.2 * np.arange(1, T + 1) / T, rtol=1e-15)
    assert d.dropout[-1] == 0.2
    # one per visit: taken as given
    per_visit = np.minimum(0.25 * np.arange(1, T + 1) / 6, 0.25)
    np.testing.assert_array_equal(fit.design(effect=-10.0, dropout=per_visit).dropout,
                                  per_visit)
    # only the dropout changes: the covariance, means and effect are the fit's, bit for bit
    np.testing.assert_array_equal(d.covariance, observed.covariance)
    np.testing.assert_array_equal(d.means(True), observed.means(True))
    assert observed.dropout.tolist() != d.dropout.tolist()
    # the mechanism passes through; MAR is calibrated to the planned dropout
    mar = fit.design(effect=-10.0, dropout=0.2, mechanism="mar", dropout_slope=0.5)
    assert (mar.mechanism, mar.dropout_slope) == ("mar", 0.5)
    np.testing.assert_array_equal(mar.covariance, observed.covariance)
    assert "MAR" in " ".join(mar.describe(T - 1))
    with pytest.raises(AnalysisError, match="must not decrease"):
        fit.design(effect=-10.0, dropout=per_visit[::-1])
    with pytest.raises(AnalysisError, match="not built"):
        fit.design(effect=-10.0, dropout=0.2, mechanism="informative")


def test_design_from_a_fit_with_covariates_is_conditional_on_them():
    import statsmodels.formula.api as smf

    cohort = dno.simulate_cohort(n_patients=60, seed=2)
    fit = dno.fit_trajectory(cohort, primary_visit=6, adjust=("baseline", "sex", "age"))
    d = fit.design(effect=-10.0, dropout=0.2)
    # the visits given baseline are the fitted residual covariance (algebra, 1e-9)
    cov = d.covariance  # (not C: patsy's C() is looked up in this scope)
    cond = cov[1:, 1:] - np.outer(cov[1:, 0], cov[0, 1:]) / cov[0, 0]
    np.testing.assert_allclose(cond, fit.fit.extra["Sigma"], rtol=1e-9)
    # the baseline's variance given sex and age: statsmodels' OLS residual mean square
    # (the same least squares; 1e-10 relative, rounding only)
    pats = fit.frame.data.drop_duplicates("patient_id")
    ols = smf.ols("baseline ~ C(sex) + age", data=pats).fit()
    assert d.sd[0] ** 2 == pytest.approx(ols.mse_resid, rel=1e-10)
    assert d.sd[0] ** 2 < pats["baseline"].var(ddof=1)
    by_arm = dno.fit_trajectory(cohort, primary_visit=6, covariance_by_arm=True)
    with pytest.raises(AnalysisError, match="one covariance for both arms"):
        by_arm.design(effect=-10.0)


@pytest.mark.parametrize("n", [40, 70])
def test_mmrm_with_dropout_matches_lu_luo_chen(n):
    # Lu, Luo & Chen (2008) as longpower::power.mmrm (tests/reference/power/, checked there
    # against longpower's printed numbers), for the baseline-adjusted MMRM: its inputs are
    # the visits' correlation and last-visit SD given baseline (condition_on_baseline).
    # 300 trials: bound 3 MC SE (0.085 at power 0.59, 0.065 at 0.83). The formula is a z
    # approximation: the Kenward-Roger df (47-116 here) lower the true power by about
    # 0.01-0.02 (a critical value of ~2.01 instead of 1.96), inside the bound.
    d = dno.TrialDesign(visits=[2, 4, 6], effect=0.5, sd=1.0, correlation="exchangeable",
                        rho=0.5, dropout=[0.1, 0.2, 0.3])
    corr, sigma = ref.condition_on_baseline(d.covariance)
    expected = ref.lu_luo_chen_power(2 * n, corr, 1 - d.dropout, sigma=sigma, delta=0.5)
    res = dno.simulate_power(n_per_arm=n, n_trials=300, seed=15, analysis="mmrm", design=d)
    assert abs(res.power - expected) < mc_bound(expected, 300), (res.power, expected)
    assert res.table["failures"].iloc[0] == 0


def test_mar_dropout_calibrated_and_the_mmrm_unbiased_under_it():
    # MAR on the last observed value (slope 1.5 log-odds per SD: strong selection); AR(1)
    # 0.8, so the value before the last visit predicts it well
    d = dno.TrialDesign(visits=[2, 4, 6], effect=1.0, sd=1.0, correlation="ar1", rho=0.8,
                        dropout=[0.1, 0.2, 0.3], mechanism="mar", dropout_slope=1.5)
    from dryneedle_outcomes.power.simulate import draw_trials

    b = draw_trials(d, np.random.SeedSequence(3).spawn(40), 500, 500)
    control_missing = 1 - b.observed[:, :500].mean(axis=(0, 1))
    # 20,000 simulated control patients per visit here, 20,000 in the calibration:
    # SE of the difference <= sqrt(2 * 0.21 / 20000) = 0.0046; bound 3 SE
    np.testing.assert_allclose(control_missing, [0.1, 0.2, 0.3], atol=0.014)
    assert np.all(b.observed[:, :, 1:] <= b.observed[:, :, :-1])  # monotone
    # the MMRM uses every observed visit and is unbiased under MAR; the completers'
    # ANCOVA (baseline only) is not: dropout selected on the visit before the last.
    # (seen: -0.07, 5 SE). 300 trials, SE of a mean estimate ~0.013 (empirical SD ~0.22 /
    # sqrt(300)): bound 3 SE
    mm = dno.simulate_power(n_per_arm=40, n_trials=300, seed=5, analysis="mmrm", design=d)
    an = dno.simulate_power(n_per_arm=40, n_trials=300, seed=5, analysis="ancova", design=d)
    se_mm = mm.table["empirical_sd"].iloc[0] / np.sqrt(300)
    se_an = an.table["empirical_sd"].iloc[0] / np.sqrt(300)
    assert abs(mm.table["mean_estimate"].iloc[0] - 1.0) < 3 * se_mm
    assert abs(an.table["mean_estimate"].iloc[0] - 1.0) > 3 * se_an
    assert "MAR" in " ".join(mm.notes)


def test_wilson_interval_matches_statsmodels_and_contains_the_estimate():
    from statsmodels.stats.proportion import proportion_confint

    from dryneedle_outcomes.power.result import wilson_interval

    k = np.arange(0, 2001)
    lo, hi = wilson_interval(k, 2000)
    ref_lo, ref_hi = proportion_confint(k, 2000, alpha=0.05, method="wilson")
    # the same formula: rounding only
    np.testing.assert_allclose(lo, ref_lo, rtol=0, atol=1e-12)
    np.testing.assert_allclose(hi, ref_hi, rtol=0, atol=1e-12)
    # exactly, not to rounding: at power 1 (or 0) a limit 1e-16 past the estimate made
    # a negative error bar, which matplotlib refuses
    assert np.all(lo <= k / 2000) and np.all(hi >= k / 2000)
    res = dno.simulate_power(n_per_arm=[20, 30], n_trials=50, seed=1, analysis="ancova",
                             visits=[6], effect=5.0, sd=1.0, rho=0.5)
    assert res.table["power"].tolist() == [1.0, 1.0]
    assert len(res.plot().lines) >= 1


def test_ancova_does_not_depend_on_the_level_of_the_baseline():
    # shifting every value by a constant changes neither the arm coefficient nor its SE;
    # the singularity check once called well-posed designs with a baseline mean of 60
    # (and SD 16) singular and counted them as failures
    kw = dict(n_per_arm=[10, 20], n_trials=2000, seed=11, analysis="ancova", visits=[6],
              effect=-15.0, sd=[15.6, 20.5], rho=0.32, dropout=0.2)
    at0 = dno.simulate_power(baseline_mean=0.0, **kw)
    at60 = dno.simulate_power(baseline_mean=60.0, **kw)
    # the same draws shifted by 60: p-values equal to rounding of the shifted sums
    np.testing.assert_allclose(at60.trials["p_value"], at0.trials["p_value"], rtol=1e-8,
                               atol=1e-12)
    assert at60.table["failures"].tolist() == at0.table["failures"].tolist() == [0, 0]
