"""Interval-censored proportional hazards (``dno.fit_ic_ph``) against outside references.

References live in ``tests/reference/ic_ph/`` (README there), made by its
``make_reference.R`` (R 4.2, survival):

(a) grouped-time PH on a common visit grid = binomial GLM with cloglog link on
    person-period rows (Prentice & Gloeckler 1978), R ``glm``: coefficients, observed-
    information SEs, log-likelihood, a baseline increment, and the likelihood-ratio test;
    and with exact and right-censored times (R's lung data), one period per event time;
(b) no printed ``ic_sp`` PH output on the shared data sets was found, so on the breast
    cosmesis data the maximised log-likelihood must be at least that of R's Weibull PH
    fit (``survreg``), a member of the model's family.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import dryneedle_outcomes as dno
from dryneedle_outcomes.errors import AnalysisError
from dryneedle_outcomes.stats.survival import ic_ph_engine as ic_ph
from dryneedle_outcomes.stats.survival.turnbull import validate_intervals

REF = Path(__file__).parent / "reference" / "ic_ph"
REPO = Path(__file__).resolve().parents[1]
BCOS = REPO.parent / "shared" / "external" / "survival" / "bcos.csv"
IR = REPO.parent / "shared" / "external" / "survival" / "IR_diabetes.csv"
LUNG = REPO.parent / "shared" / "external" / "survival" / "lung.csv"

# Tolerances. The fit stops when the Newton decrement is < 1e-10 log-likelihood units,
# after which Newton's quadratic convergence leaves beta within ~1e-8 of the maximiser;
# R's glm ran with epsilon = 1e-15. So 1e-6 on coefficients (absolute, they are O(1)
# or the small baseline slope), 1e-6 relative on SEs and the LR statistic, 1e-8 on the
# log-likelihood (it is flat at the maximum: error ~ information x (1e-8)^2).
COEF_ATOL = 1e-6
SE_RTOL = 1e-6
LL_ATOL = 1e-8


def _grouped():
    d = pd.read_csv(REF / "grouped_data.csv")
    X = pd.DataFrame({"arm": d["arm"], "baseline": d["baseline"],
                      "siteB": (d["site"] == "B").astype(float),
                      "siteC": (d["site"] == "C").astype(float)})
    return d, X


def test_grouped_time_matches_r_cloglog_glm():
    d, X = _grouped()
    fit = dno.fit_ic_ph(d["lower"], d["upper"], X, n_boot=0)
    ref = pd.read_csv(REF / "grouped_glm.csv")
    assert fit.converged
    assert fit.table["term"].tolist() == ref["term"].tolist()
    # coef(glm(...)) for arm, baseline, siteB, siteC
    np.testing.assert_allclose(fit.coef, ref["estimate"], rtol=0, atol=COEF_ATOL)
    # sqrt(diag(solve(t(X) %*% (w_obs * X)))): observed information, intercepts free
    np.testing.assert_allclose(np.sqrt(np.diag(fit.cov_observed)),
                               ref["std_error_observed"], rtol=SE_RTOL)
    # logLik(glm): the person-period Bernoulli likelihood is the interval likelihood
    assert fit.loglik == pytest.approx(ref["loglik"].iloc[0], abs=LL_ATOL)
    # coef(glm)["period1"] = log of the first increment of Lambda0 (t in (0, 7])
    assert np.log(fit.baseline["increment"].iloc[0]) == pytest.approx(
        ref["log_increment_period1"].iloc[0], abs=COEF_ATOL)


def test_stratified_baselines_match_r_glm_with_period_by_site_intercepts():
    d, X = _grouped()
    fit = dno.fit_ic_ph(d["lower"], d["upper"], X[["arm", "baseline"]], strata=d["site"],
                        boot_strata=d["arm"], n_boot=5, seed=1, progress=False)
    ref = pd.read_csv(REF / "grouped_glm_strata.csv")
    assert fit.converged
    # glm(y ~ 0 + period:site + arm + baseline, binomial(cloglog))
    np.testing.assert_allclose(fit.coef, ref["estimate"], rtol=0, atol=COEF_ATOL)
    np.testing.assert_allclose(np.sqrt(np.diag(fit.cov_observed)),
                               ref["std_error_observed"], rtol=SE_RTOL)
    assert fit.loglik == pytest.approx(ref["loglik"].iloc[0], abs=LL_ATOL)
    assert set(fit.baseline["stratum"]) == {"A", "B", "C"}
    assert np.isfinite(fit.boot_coef).all()


def test_profile_likelihood_ratio_p_matches_r():
    d, X = _grouped()
    fit = dno.fit_ic_ph(d["lower"], d["upper"], X, n_boot=0)
    ref = pd.read_csv(REF / "grouped_lr.csv")
    # pchisq(2 * (logLik(fit) - logLik(fit0)), 1, lower.tail = FALSE)
    assert fit.table.loc[0, "p_value"] == pytest.approx(ref["p_value"].iloc[0], rel=1e-5)


@pytest.mark.skipif(not LUNG.exists(), reason=f"external data set absent: {LUNG}")
def test_exact_times_match_r_cloglog_glm_on_event_time_periods():
    lung = pd.read_csv(LUNG)
    event = lung["status"] == 2
    fit = dno.fit_ic_ph(lung["time"], np.where(event, lung["time"], np.inf),
                        lung[["age", "sex"]].astype(float), n_boot=0)
    ref = pd.read_csv(REF / "lung_glm.csv")
    # a jump of Lambda0 at each of the 139 event times, none at the boundary
    assert fit.converged and len(fit.baseline) == 139
    # glm(y ~ 0 + period + age + sex, binomial(cloglog)) on person-event-time rows
    np.testing.assert_allclose(fit.coef, ref["estimate"], rtol=0, atol=COEF_ATOL)
    np.testing.assert_allclose(np.sqrt(np.diag(fit.cov_observed)),
                               ref["std_error_observed"], rtol=SE_RTOL)
    assert fit.loglik == pytest.approx(ref["loglik"].iloc[0], abs=LL_ATOL)


@pytest.mark.skipif(not BCOS.exists(), reason=f"external data set absent: {BCOS}")
def test_bcos_loglik_at_least_weibull_ph_and_boundary_increments():
    b = pd.read_csv(BCOS)
    x = {"rad_chemo": (b["treatment"] == "RadChem").astype(float)}
    fit = dno.fit_ic_ph(b["left"], b["right"], x, n_boot=0)
    ref = pd.read_csv(REF / "weibull_bounds.csv")
    assert fit.converged
    # logLik(survreg(Surv(left, right, type = "interval2") ~ rad_chemo, dist = "weibull"))
    assert fit.loglik >= ref["weibull_loglik"].iloc[0]
    # this NPMLE puts no hazard on many Turnbull intervals: increments exactly 0 ...
    inc = fit.baseline["increment"].to_numpy()
    assert (inc == 0).sum() >= 5 and (inc > 0).sum() >= 5
    # ... and is a KKT point: zero gradient where positive, no ascent where at zero
    lo, up, w = validate_intervals(b["left"], b["right"], None)
    D = ic_ph._make_data(lo, up, np.asarray(x["rad_chemo"], float)[:, None], w)
    _, grad, _ = ic_ph._evaluate(inc, fit.coef, D, 1)
    assert np.abs(grad[:D.m][inc > 0]).max() < 1e-5
    assert grad[:D.m][inc == 0].max() < 1e-5
    assert abs(grad[D.m:]).max() < 1e-5


@pytest.mark.skipif(not IR.exists(), reason=f"external data set absent: {IR}")
def test_exact_times_and_bootstrap_on_ir_diabetes():
    ir = pd.read_csv(IR)
    assert (ir["left"] == ir["right"]).any()         # exact times among intervals
    fit = dno.fit_ic_ph(ir["left"], ir["right"], {"male": (ir["gender"] == "male").astype(float)},
                        boot_strata=ir["gender"], n_boot=20, seed=3, progress=False)
    assert fit.converged and np.isfinite(fit.loglik)
    row = fit.table.iloc[0]
    assert row["ci_lower"] < row["estimate"] < row["ci_upper"]
    assert fit.boot_coef.shape == (20, 1) and np.isfinite(fit.boot_coef).all()


def test_row_order_and_covariate_input_forms_do_not_change_the_fit():
    d, X = _grouped()
    a = dno.fit_ic_ph(d["lower"], d["upper"], X, boot_strata=d["arm"], n_boot=10, seed=5,
                      progress=False)
    perm = np.random.default_rng(0).permutation(len(d))
    b = dno.fit_ic_ph(d["lower"].to_numpy()[perm], d["upper"].to_numpy()[perm],
                      X.to_numpy()[perm], boot_strata=d["arm"].to_numpy()[perm],
                      n_boot=10, seed=5, progress=False)
    # the same data in another order: the same fit up to the stopping rule (COEF_ATOL;
    # another summation order may stop a Newton step earlier or later)
    np.testing.assert_allclose(b.coef, a.coef, rtol=0, atol=COEF_ATOL)
    np.testing.assert_allclose(b.table[["ci_lower", "ci_upper"]], a.table[["ci_lower",
                               "ci_upper"]], rtol=COEF_ATOL)
    assert b.table["term"].tolist() == ["x1", "x2", "x3", "x4"]
    c = dno.fit_ic_ph(d["lower"], d["upper"], dict(X), n_boot=0)
    np.testing.assert_allclose(c.coef, a.coef, rtol=0, atol=COEF_ATOL)


def test_bootstrap_is_reproducible_and_case_weights_equal_repeated_rows():
    d, X = _grouped()
    f1 = dno.fit_ic_ph(d["lower"], d["upper"], X[["arm"]], n_boot=15, seed=9,
                       progress=False)
    f2 = dno.fit_ic_ph(d["lower"], d["upper"], X[["arm"]], n_boot=15, seed=9,
                       progress=False)
    np.testing.assert_array_equal(f1.boot_coef, f2.boot_coef)
    assert f1.seed == 9 and f1.n_boot == 15
    twice = dno.fit_ic_ph(np.r_[d["lower"], d["lower"]], np.r_[d["upper"], d["upper"]],
                          pd.concat([X[["arm"]]] * 2, ignore_index=True), n_boot=0)
    weighted = dno.fit_ic_ph(d["lower"], d["upper"], X[["arm"]],
                             weights=np.full(len(d), 2.0), n_boot=0)
    np.testing.assert_allclose(weighted.coef, twice.coef, rtol=0, atol=COEF_ATOL)
    # flat at the maximum: two stops within 1e-8 in beta differ by ~1e-16 relative here
    assert weighted.loglik == pytest.approx(twice.loglik, rel=1e-10)


@pytest.mark.parametrize(("lower", "upper", "rule"), [
    ([1, 2], [0, 3], "upper is below lower"),
    ([-1, 2], [1, 3], "negative"),
    ([np.nan, 2], [1, 3], "missing"),
    ([np.inf, 2], [np.inf, 3], "lower must be finite"),
])
def test_invalid_intervals_raise_naming_the_rule(lower, upper, rule):
    with pytest.raises(AnalysisError, match=rule):
        dno.fit_ic_ph(lower, upper, {"x": [0.0, 1.0]}, n_boot=0)


@pytest.mark.parametrize(("X", "message"), [
    ({"c": [1.0, 1.0, 1.0, 1.0]}, "constant column"),
    ({"a": [0.0, 1.0, 0.0, 1.0], "b": [1.0, 0.0, 1.0, 0.0]}, "collinear"),
    ({"g": ["a", "b", "a", "b"]}, "not numeric"),
    ({"x": [0.0, np.nan, 1.0, 1.0]}, "missing or infinite"),
])
def test_bad_covariates_raise(X, message):
    with pytest.raises(AnalysisError, match=message):
        dno.fit_ic_ph([0, 1, 2, 0], [1, 2, np.inf, 3], X, n_boot=0)


def test_no_covariates_gives_the_life_table():
    # events in (0, 1] and (1, 2], censorings at 1 and 2: without covariates the NPMLE
    # of grouped data is the life table, hazard 1/4 then 1/2, so
    # Lambda0(1) = -log(3/4) and Lambda0(2) = -log(3/8). Tolerance: the optimiser's.
    fit = dno.fit_ic_ph([0, 1, 1, 2], [1, np.inf, 2, np.inf], n_boot=0)
    assert fit.table.empty and fit.converged
    np.testing.assert_allclose(fit.baseline["cumhaz"], [-np.log(3 / 4), -np.log(3 / 8)],
                               rtol=1e-7)
    np.testing.assert_array_equal(fit.baseline["time_upper"], [1.0, 2.0])


# ---------------------------------------------------------------- time_to_relief wiring
def test_time_to_relief_shows_the_interval_censored_hr_as_primary():
    from dryneedle_outcomes.report.relief import relief_headline

    cohort = dno.simulate_cohort(n_patients=84, seed=2014)
    with pytest.warns(dno.DryNeedleWarning, match="proportional hazards questionable"):
        res = dno.time_to_relief(cohort, adjust=("baseline",), n_boot=20, seed=1,
                                 progress=False)
    # every bootstrap replicate converged (an active-set cycle once made two fail)
    assert not [w for w in res.warnings if "did not converge" in w]
    ic = res.ic_hazard_ratios
    assert ic.columns.tolist() == ["term", "estimate", "ci_lower", "ci_upper", "p_value",
                                   "method"]
    assert ic["term"].tolist() == ["arm[dry_needling]", "baseline"]
    # the same model fitted directly on the result's own intervals and design
    ev = res.events
    X = pd.DataFrame({"arm[dry_needling]": (ev["arm"] == "dry_needling").astype(float),
                      "baseline": ev["baseline"]})
    direct = dno.fit_ic_ph(ev["lower"], ev["upper"], X, n_boot=0)
    np.testing.assert_allclose(ic["estimate"], np.exp(direct.coef), rtol=1e-9)
    # Cox stays in hazard_ratios (the pinned table), labelled secondary everywhere
    assert res.hazard_ratios["term"].tolist() == ["arm[dry_needling]", "baseline"]
    comp = res.comparison
    # the interval-censored test's row comes first (no CI); the first hazard ratio is this
    assert comp.loc[comp["measure"] == "hazard_ratio", "model"].iloc[0] == \
        "interval-censored PH"
    assert comp["view"].iloc[0] == "interval-censored (primary)"
    assert comp.set_index("model").loc["cox", "view"] == "right-censored view (secondary)"
    assert comp.set_index("model").loc["interval-censored PH", "view"] == \
        "interval-censored (primary)"
    text = res.summary()
    assert text.index("Interval-censored PH model (primary)") < text.index("Cox model")
    assert "right-censored view (secondary)" in text
    assert "right-censored view (secondary)" in res.tables()["hazard_ratios"].title
    assert "ic_hazard_ratios" in res.tables()
    head = relief_headline(res)
    assert head.index("interval-censored PH model") < head.index("right-censored view")


def test_time_to_relief_without_bootstrap_or_intervals_has_no_ic_hr():
    cohort = dno.simulate_cohort(n_patients=40, seed=7)
    res = dno.time_to_relief(cohort, n_boot=0, progress=False)
    assert res.ic_hazard_ratios.empty
    assert any("interval-censored PH model not fitted" in n for n in res.notes)
    rc = dno.time_to_relief(cohort, interval_censored=False, n_boot=0, progress=False)
    assert rc.ic_hazard_ratios.empty and "view" in rc.comparison.columns
    assert (rc.comparison["view"] == "").all()


def test_too_many_turnbull_intervals_are_refused_with_the_fix(monkeypatch):
    monkeypatch.setattr(ic_ph, "_MAX_DENSE", 2)
    with pytest.raises(AnalysisError, match="3 Turnbull intervals.*coarser scale"):
        dno.fit_ic_ph([0, 1, 2, 3, 0], [1, 2, 3, 4, np.inf], {"x": [0, 1, 0, 1, 1.0]},
                      n_boot=0)


# ---------------------------------------------------------------- bootstrap refits
def test_safe_step_is_a_feasible_ascent_direction():
    # the fallback of the constrained Newton step: whatever the (indefinite) Hessian
    # and however many increments sit at 0, it keeps d >= 0 and raises the linear
    # model (g's > 0) unless the point is already a KKT point
    rng = np.random.default_rng(12)
    for _ in range(200):
        m, p = 6, 2
        A = rng.normal(size=(m + p, m + p))
        Hn = A @ A.T - 2.0 * np.eye(m + p)       # often not positive definite
        z = np.concatenate([np.where(rng.random(m) < 0.5, 0.0, rng.random(m)),
                            rng.normal(size=p)])
        g = rng.normal(size=m + p)
        step, dec = ic_ph._safe_step(Hn, g, z, m)
        # feasible up to rounding (the cut lands an increment on 0 to ~1e-16; the
        # engine clips that), and an ascent direction
        assert (z[:m] + step[:m] >= -1e-12).all()
        assert g @ step > 0 and dec > 0


def test_bootstrap_refits_converge_on_the_84_patient_cohort():
    # 250 replicates of the baseline-adjusted model. With the active-set step alone
    # (not always an ascent direction) and an Armijo rule that accepted rounding-level
    # decreases, about 0.7% of such refits ran 200 iterations without moving (which
    # ones depends on the last bits of the arithmetic, so this cohort need not hit
    # one); every replicate here has a finite MLE, so every refit must converge
    cohort = dno.simulate_cohort(n_patients=84, seed=2014)
    with pytest.warns(dno.DryNeedleWarning):
        res = dno.time_to_relief(cohort, adjust=("baseline",), n_boot=2, hr_n_boot=250,
                                 seed=1, progress=False)
    assert not [w for w in res.warnings if "did not converge" in w]
    assert not [w for w in res.warnings if "infinite maximum-likelihood" in w]
    assert np.isfinite(res.ic_ph.boot_coef).all()


def test_replicates_without_a_finite_mle_count_as_infinite():
    # arm 1: 6 patients, one relief. A resample that misses that patient has no
    # relief in arm 1, and its likelihood rises without bound as log HR -> -inf: no
    # finite MLE. Such replicates are recorded as -inf (not dropped, not a large
    # finite number), the lower limit is 0 and the bootstrap SE is not defined.
    lo = np.array([0, 1, 2, 0, 1, 2, 0, 1, 3, 3, 3, 3, 3, 0.])
    up = np.array([1, 2, 3, 2, 3, np.inf, 1, 3, np.inf, np.inf, np.inf, np.inf, np.inf,
                   1])
    arm = np.array([0] * 8 + [1] * 6)
    fit = dno.fit_ic_ph(lo, up, {"arm": arm}, boot_strata=arm, n_boot=200, seed=1,
                        progress=False)
    n_inf = int(np.isneginf(fit.boot_coef[:, 0]).sum())
    assert not np.isnan(fit.boot_coef).any() and not np.isposinf(fit.boot_coef).any()
    assert any(w.startswith(f"{n_inf} of 200 bootstrap replicates have an infinite")
               for w in fit.warnings)
    # P(no relief in arm 1) = (5/6)^6 = 0.335 per replicate; binomial SD with 200
    # replicates is 0.033: the share is within 4 SD of it
    assert abs(n_inf / 200 - (5 / 6) ** 6) < 4 * np.sqrt(0.335 * 0.665 / 200)
    assert fit.table["ci_lower"].iloc[0] == 0.0
    assert np.isfinite(fit.table["ci_upper"].iloc[0])
    assert np.isnan(fit.table["std_error"].iloc[0])


def test_bootstrap_is_the_same_for_any_n_jobs():
    # the replicates are drawn in the parent, in order, before the refits: two worker
    # processes give the replicates of one, exactly (pure bookkeeping, no tolerance);
    # 60 replicates span three chunks, so chunk order is checked too
    d, X = _grouped()
    kw = dict(boot_strata=d["arm"], n_boot=60, seed=11, progress=False)
    one = dno.fit_ic_ph(d["lower"], d["upper"], X[["arm", "baseline"]], **kw)
    two = dno.fit_ic_ph(d["lower"], d["upper"], X[["arm", "baseline"]], n_jobs=2, **kw)
    np.testing.assert_array_equal(one.boot_coef, two.boot_coef)
    pd.testing.assert_frame_equal(one.table, two.table)
    with pytest.raises(AnalysisError, match="n_jobs"):
        dno.fit_ic_ph(d["lower"], d["upper"], X[["arm"]], n_jobs=0, **kw)
