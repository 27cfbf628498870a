"""Parametric AFT models for interval-censored times (dryneedle_outcomes.stats.survival.aft).

Golden values: tests/reference/survival_aft/reference.json, made by make_reference.R
(R 4.2, survival 3.5-3, ``survreg.control(rel.tolerance = 1e-13)``) from the CSVs beside
it: survival::lung binned to 30-day intervals, a simulated time-to-relief trial
(days; left-, interval-, right-censored and exact), a simulated soreness data set
(hours; sessions clustered within patients; exact 0 h), and survival::ovarian
(right-censored only). Every reference number is stored under the R expression that
produced it (see the script). The CSVs hold R's interval2 coding: lower NA means
left-censored (our lower = 0), upper NA means right-censored (our upper = inf).

Tolerances, once per quantity:
- coefficients, scale: 1e-5 relative; standard errors (naive and robust) and the
  covariance: 1e-4 relative; log-likelihood and AIC: 1e-7 absolute; z: 1e-4 relative;
  p-values 1e-4 relative; predicted quantiles 1e-5 relative; hazard ratios 1e-5 and
  their SEs / limits 1e-4 relative. Both sides maximise the same likelihood
  with Newton steps to a relative change below 1e-9 (ours, after which one more full
  step is taken) and 1e-13 (R); the differences seen are 1e-9 or smaller (loglik
  ~1e-12), so these tolerances leave room for BLAS/libm differences only.
- Robust variances with interval-censored rows are compared with survreg's formula
  evaluated on the correct score (see make_reference.R: survival 3.5-3 has the sign
  of d loglik / d log(scale) wrong for interval-censored rows in residuals.survreg,
  which its robust variance uses); where no row is interval-censored (exponential,
  ovarian) they are compared with survreg's fit$var itself.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from tolerances import NEWTON_TOL, TWO_FITS, assert_within_se, newton_se

from dryneedle_outcomes.errors import AnalysisError, ConvergenceWarning
from dryneedle_outcomes.stats.survival import aft
from dryneedle_outcomes.stats.survival.aft import DISTRIBUTIONS, AFTFit, fit_aft

REF_DIR = Path(__file__).parent / "reference" / "survival_aft"
REF = json.loads((REF_DIR / "reference.json").read_text())

# Against survreg, which stops by the same rule as ours (relative loglik change <= 1e-9
# after a full step): each is within newton_se(ll) ~ 2e-9 |ll| SEs of the MLE
# (tests/tolerances.py), far inside these.
RTOL_COEF = 1e-5
RTOL_SE = 1e-4
ATOL_LOGLIK = 1e-7
RTOL_TEST = 1e-4

_LOG_PHI_MINUS_40 = (-800.0 - math.log(40.0 * math.sqrt(2.0 * math.pi))
                     + math.log1p(-1 / 40**2 + 3 / 40**4 - 15 / 40**6 + 105 / 40**8))

COVARIATES = {
    "lung_binned": ["female", "age"],
    "relief": ["arm", "pain0"],
    "ovarian": ["age", "ecog", "rx2"],
    "soreness": ["needles", "session", "arm"],
}


def _read(name: str) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """A reference CSV and its bounds in our convention (NA lower -> 0, NA upper -> inf)."""
    data = pd.read_csv(REF_DIR / f"{name}.csv")
    lower = data["lower"].fillna(0.0).to_numpy(dtype=float)
    upper = data["upper"].fillna(np.inf).to_numpy(dtype=float)
    return data, lower, upper


def _vec(mapping: dict) -> np.ndarray:
    return np.array(list(mapping.values()), dtype=float)


def _assert_cov(ours: pd.DataFrame, ref, rtol: float = RTOL_SE) -> None:
    """Covariances relative to the product of the reference SDs (works for ~0 entries)."""
    ref = np.asarray(ref, dtype=float)
    sd = np.sqrt(np.diag(ref))
    np.testing.assert_array_less(np.abs(ours.to_numpy() - ref), rtol * np.outer(sd, sd))


def _assert_matches(fit: AFTFit, ref: dict, *, robust_ref=None) -> None:
    assert fit.converged and fit.warnings == []
    assert fit.terms == list(ref["coef"])
    assert fit.n == ref["n"]
    # relative, or (for a coefficient near 0) the two programs' stopping margins in SEs
    margin = TWO_FITS * newton_se(ref["loglik"]) * fit.table["std_error"].to_numpy()
    np.testing.assert_array_less(np.abs(fit.table["coef"] - _vec(ref["coef"])),
                                 RTOL_COEF * np.abs(_vec(ref["coef"])) + margin)
    np.testing.assert_allclose(fit.scale, ref["scale"], rtol=RTOL_COEF)
    assert abs(fit.loglik - ref["loglik"]) < ATOL_LOGLIK           # f$loglik[2]
    assert abs(fit.aic - ref["aic"]) < 2 * ATOL_LOGLIK             # AIC(f)
    assert list(fit.cov.index) == ref["var_names"]
    if robust_ref is None:                                         # f$var
        np.testing.assert_allclose(np.sqrt(np.diag(fit.cov)), _vec(ref["se"]), rtol=RTOL_SE)
        _assert_cov(fit.cov, ref["var"])
    else:
        _assert_cov(fit.cov, robust_ref)
    if "naive_var" in ref:                                         # f$naive.var
        _assert_cov(fit.naive_cov, ref["naive_var"])
        np.testing.assert_allclose(fit.naive_std_error, _vec(ref["naive_se"])[: len(fit.terms)],
                                   rtol=RTOL_SE)


# --------------------------------------------------------------------------------------
# Against survreg
# --------------------------------------------------------------------------------------
@pytest.mark.parametrize("dataset", ["lung_binned", "relief", "ovarian"])
@pytest.mark.parametrize("distribution", DISTRIBUTIONS)
def test_matches_survreg(dataset: str, distribution: str) -> None:
    data, lower, upper = _read(dataset)
    ref = REF[dataset][distribution]
    fit = fit_aft(lower, upper, data[COVARIATES[dataset]], distribution=distribution)
    _assert_matches(fit, ref)
    # summary(f)$table: z and p, coefficient rows
    k = len(fit.terms)
    np.testing.assert_allclose(fit.table["z"], _vec(ref["z"])[:k], rtol=RTOL_TEST)
    np.testing.assert_allclose(fit.table["p_value"], _vec(ref["p"])[:k], rtol=RTOL_TEST)
    if distribution != "exponential":
        se_log_scale = _vec(ref["se"])[-1]
        np.testing.assert_allclose(fit.log_scale_std_error, se_log_scale, rtol=RTOL_SE)
        assert fit.aic == pytest.approx(-2 * fit.loglik + 2 * (k + 1))
    else:
        assert fit.scale == 1.0 and np.isnan(fit.log_scale_std_error)


def test_table_columns_and_time_ratios() -> None:
    data, lower, upper = _read("lung_binned")
    fit = fit_aft(lower, upper, data[["female", "age"]], conf_level=0.9)
    table = fit.table
    assert list(table.columns) == ["term", "coef", "std_error", "estimate", "ci_lower",
                                   "ci_upper", "z", "p_value"]
    np.testing.assert_allclose(table["estimate"], np.exp(table["coef"]), rtol=1e-14)
    q = 1.6448536269514722  # qnorm(0.95)
    np.testing.assert_allclose(table["ci_lower"], np.exp(table["coef"] - q * table["std_error"]),
                               rtol=1e-12)
    np.testing.assert_allclose(table["ci_upper"], np.exp(table["coef"] + q * table["std_error"]),
                               rtol=1e-12)
    assert fit.observation_types == {"exact": 8, "left": 9, "interval": 148, "right": 63,
                                     "exact_zero_as_left": 0}


def test_intercept_only() -> None:
    data, lower, upper = _read("lung_binned")
    fit = fit_aft(lower, upper, None)
    _assert_matches(fit, REF["lung_binned_null"]["weibull"])
    # the intercept-only loglik is survreg's f$loglik[1] of the full model
    assert abs(fit.loglik - REF["lung_binned"]["weibull"]["loglik_null"]) < ATOL_LOGLIK
    # an X with no columns is the same model
    empty = fit_aft(lower, upper, data[[]])
    np.testing.assert_allclose(empty.table["coef"], fit.table["coef"], rtol=1e-12)


@pytest.mark.parametrize("distribution", ["weibull", "lognormal", "loglogistic"])
def test_predicted_quantiles(distribution: str) -> None:
    data, lower, upper = _read("lung_binned")
    ref = REF["lung_binned"][distribution]
    newdata = pd.DataFrame(REF["lung_binned"]["weibull"]["newdata"])
    fit = fit_aft(lower, upper, data[["female", "age"]], distribution=distribution)
    # predict(f, newdata = nd, type = "quantile", p = 0.5)
    np.testing.assert_allclose(fit.predict_median(newdata), ref["median"], rtol=RTOL_COEF)
    if distribution == "weibull":
        # predict(f, newdata = nd, type = "quantile", p = c(0.1, 0.9))
        got = fit.predict_quantile(newdata[["age", "female"]], p=ref["quantile_p"])
        np.testing.assert_allclose(got, np.array(ref["quantile"]), rtol=RTOL_COEF)


@pytest.mark.parametrize("distribution", ["weibull", "exponential"])
def test_weibull_hazard_ratios(distribution: str) -> None:
    data, lower, upper = _read("lung_binned")
    ref = REF["lung_binned"][distribution]["hazard_ratios"]  # see hr_table() in the script
    fit = fit_aft(lower, upper, data[["female", "age"]], distribution=distribution)
    hr = fit.weibull_hazard_ratios()
    assert list(hr["term"]) == ["female", "age"]
    np.testing.assert_allclose(hr["coef"], _vec(ref["log_hr"]), rtol=RTOL_COEF)
    np.testing.assert_allclose(hr["estimate"], _vec(ref["hr"]), rtol=RTOL_COEF)
    np.testing.assert_allclose(hr["std_error"], _vec(ref["se"]), rtol=RTOL_SE)
    np.testing.assert_allclose(hr["ci_lower"], _vec(ref["lower"]), rtol=RTOL_SE)
    np.testing.assert_allclose(hr["ci_upper"], _vec(ref["upper"]), rtol=RTOL_SE)


def test_hazard_ratios_need_weibull() -> None:
    data, lower, upper = _read("ovarian")
    fit = fit_aft(lower, upper, data[["age"]], distribution="lognormal")
    with pytest.raises(AnalysisError, match="weibull or exponential"):
        fit.weibull_hazard_ratios()


# --------------------------------------------------------------------------------------
# Clusters, weights, exact zeros
# --------------------------------------------------------------------------------------
@pytest.mark.parametrize("distribution", DISTRIBUTIONS)
def test_soreness_cluster_robust(distribution: str) -> None:
    data, lower, upper = _read("soreness")  # raw: exact 0 h kept as (0, 0]
    ref = REF["soreness"][distribution]
    fit = fit_aft(lower, upper, data[COVARIATES["soreness"]], distribution=distribution,
                  cluster=data["patient"], zero_resolution=0.5)
    assert fit.robust and fit.n_clusters == data["patient"].nunique()
    assert fit.observation_types["exact_zero_as_left"] == REF["soreness_n_exact_zero"]
    _assert_matches(fit, ref, robust_ref=ref["robust_var"])
    if distribution == "exponential":
        # no log(scale) score: survreg's own robust variance is right and must match
        _assert_cov(fit.cov, ref["var"])
    else:
        # survreg 3.5-3 reports a different (wrong-signed score) robust variance here
        sd = np.sqrt(np.diag(np.asarray(ref["var"])))
        assert np.max(np.abs(np.sqrt(np.diag(fit.cov)) - sd) / sd) > 0.01


def test_exact_zero_needs_a_decision() -> None:
    data, lower, upper = _read("soreness")
    X = data[COVARIATES["soreness"]]
    with pytest.raises(AnalysisError, match=r"exact zero.*14 values.*zero_resolution"):
        fit_aft(lower, upper, X)
    for bad in (0, -1.0, np.inf, "half"):
        with pytest.raises(AnalysisError, match="zero_resolution must be"):
            fit_aft(lower, upper, X, zero_resolution=bad)
    # a resolution is the same as writing the exact zeros as left-censored at it
    upper_left = np.where((lower == 0) & (upper == 0), 0.5, upper)
    a = fit_aft(lower, upper, X, zero_resolution=0.5)
    b = fit_aft(lower, upper_left, X)
    # two fits of the same likelihood, each within newton_se SEs of the MLE
    assert_within_se(a.table["coef"], b.table["coef"], b.table["std_error"],
                     newton_se(b.loglik), "coef")
    assert a.loglik == pytest.approx(b.loglik, abs=TWO_FITS * NEWTON_TOL * abs(b.loglik))


@pytest.mark.parametrize("distribution", ["weibull", "lognormal"])
def test_cluster_without_interval_rows_is_survreg_robust(distribution: str) -> None:
    data, lower, upper = _read("ovarian")
    ref = REF["ovarian_cluster"][distribution]  # survreg(..., cluster = pair)
    fit = fit_aft(lower, upper, data[COVARIATES["ovarian"]], distribution=distribution,
                  cluster=np.repeat(np.arange(13), 2))
    _assert_matches(fit, ref)  # ours == f$var and f$naive.var


def test_weights() -> None:
    data, lower, upper = _read("relief")
    X = data[["arm", "pain0"]]
    ref = REF["relief_weighted"]
    fit = fit_aft(lower, upper, X, weights=data["w"])
    _assert_matches(fit, ref)
    robust = fit_aft(lower, upper, X, weights=data["w"], cluster=data["id"])
    # the cluster only changes the covariance: the same Newton iterations, same arithmetic
    np.testing.assert_allclose(robust.table["coef"], fit.table["coef"], rtol=1e-12)
    _assert_cov(robust.naive_cov, ref["var"])
    _assert_cov(robust.cov, ref["robust_var"])   # weighted, corrected-score sandwich


def test_integer_weights_equal_replicated_rows() -> None:
    data, lower, upper = _read("relief")
    ref = REF["relief_weighted_int"]
    w2 = np.where(data["pain0"] > 7, 2, 1)
    fit = fit_aft(lower, upper, data[["arm", "pain0"]], weights=w2, cluster=data["id"])
    np.testing.assert_allclose(fit.table["coef"], _vec(ref["coef"]), rtol=RTOL_COEF)
    assert abs(fit.loglik - ref["loglik"]) < ATOL_LOGLIK
    _assert_cov(fit.naive_cov, ref["naive_var"])
    _assert_cov(fit.cov, ref["robust_var"])
    # survreg on the rows replicated w2 times with cluster = id: the same sandwich
    _assert_cov(fit.cov, ref["replicated_robust_var"])
    rows = np.repeat(np.arange(len(data)), w2)
    rep = fit_aft(lower[rows], upper[rows], data[["arm", "pain0"]].iloc[rows],
                  cluster=data["id"].to_numpy()[rows])
    # another likelihood with the same maximiser: two fits, each within newton_se SEs
    bound = newton_se(rep.loglik)
    assert_within_se(rep.table["coef"], fit.table["coef"], fit.table["std_error"], bound,
                     "coef")
    _assert_cov(rep.cov, np.asarray(fit.cov), rtol=max(1e-8, 4 * TWO_FITS * bound))


# --------------------------------------------------------------------------------------
# Properties that hold whatever R says
# --------------------------------------------------------------------------------------
@pytest.mark.parametrize("distribution", DISTRIBUTIONS)
def test_rescaling_time_moves_only_the_intercept(distribution: str) -> None:
    data, lower, upper = _read("relief")
    X = data[["arm", "pain0"]]
    a = fit_aft(lower, upper, X, distribution=distribution)
    b = fit_aft(lower * 24.0, upper * 24.0, X, distribution=distribution)  # days -> hours
    shift = np.zeros(3)
    shift[0] = np.log(24.0)
    # two fits (another time unit), each within newton_se SEs of its MLE; the SEs are a
    # smooth function of the estimates (change of the same order)
    bound = newton_se(a.loglik)
    assert_within_se(b.table["coef"], a.table["coef"] + shift, a.table["std_error"], bound,
                     "coef")
    np.testing.assert_allclose(b.table["std_error"], a.table["std_error"],
                               rtol=max(1e-7, 4 * TWO_FITS * bound))
    n_exact = a.observation_types["exact"]
    assert b.loglik == pytest.approx(a.loglik - n_exact * np.log(24.0),
                                     abs=TWO_FITS * NEWTON_TOL * abs(a.loglik) + 1e-10)


def test_row_order_and_index_do_not_matter() -> None:
    data, lower, upper = _read("soreness")
    X = data[COVARIATES["soreness"]]
    perm = np.random.default_rng(3).permutation(len(data))
    a = fit_aft(lower, upper, X, cluster=data["patient"], zero_resolution=0.5)
    b = fit_aft(pd.Series(lower[perm], index=perm), upper[perm], X.iloc[perm],
                cluster=data["patient"].to_numpy()[perm], zero_resolution=0.5)
    bound = newton_se(a.loglik)  # rows in another order: sums in another order
    assert_within_se(b.table["coef"], a.table["coef"], a.table["std_error"], bound, "coef")
    _assert_cov(b.cov, np.asarray(a.cov), rtol=max(1e-8, 4 * TWO_FITS * bound))


@pytest.mark.slow
def test_large_cohort_equals_its_compressed_form() -> None:
    """100,000 rows on a visit grid with discrete covariates vs the distinct rows with
    their counts as weights: same estimates and loglik, and converged."""
    rng = np.random.default_rng(11)
    n = 100_000
    arm = rng.integers(0, 2, n)
    sex = rng.integers(0, 2, n)
    site = rng.integers(0, 3, n)
    t = np.exp(3.2 - 0.4 * arm + 0.2 * sex + 0.1 * site + 0.6 * np.log(rng.exponential(size=n)))
    visits = np.arange(7.0, 85.0, 7.0)
    k = np.searchsorted(visits, t)
    lower = np.where(k == 0, 0.0, visits[np.clip(k - 1, 0, 11)])
    upper = np.where(k >= 12, np.inf, visits[np.clip(k, 0, 11)])
    lower = np.where(k >= 12, 84.0, lower)
    X = pd.DataFrame({"arm": arm, "sex": sex, "site": site})
    full = fit_aft(lower, upper, X, distribution="loglogistic")
    frame = X.assign(lower=lower, upper=upper)
    groups = frame.groupby(list(frame.columns), sort=False).size().reset_index(name="count")
    small = fit_aft(groups["lower"], groups["upper"], groups[["arm", "sex", "site"]],
                    distribution="loglogistic", weights=groups["count"])
    assert full.converged and small.converged and len(groups) < 200
    bound = newton_se(full.loglik)  # two fits of one likelihood (sums of 100,000 terms)
    assert_within_se(full.table["coef"], small.table["coef"], small.table["std_error"],
                     bound, "coef")
    np.testing.assert_allclose(full.table["std_error"], small.table["std_error"],
                               rtol=max(1e-7, 4 * TWO_FITS * bound))
    assert full.loglik == pytest.approx(small.loglik, rel=TWO_FITS * NEWTON_TOL)


@pytest.mark.parametrize(
    ("family", "zl", "zu", "expected"),
    [
        # extreme value, far left: S(l) - S(u) ~ e^zu - e^zl
        ("extreme", -800.0, -799.0, -799.0 + np.log(-np.expm1(-1.0))),
        ("extreme", -40.0, -40.0 + 1e-6, -40.0 + np.log(np.expm1(1e-6))),
        # extreme value, far right: log S(l) = -e^zl when S(u) is negligible
        ("extreme", 5.0, 6.0, -np.exp(5.0) + np.log(-np.expm1(-(np.exp(6.0) - np.exp(5.0))))),
        # logistic, both tails: (e^zu - e^zl) / ((1 + e^zl)(1 + e^zu))
        ("logistic", -800.0, -799.0, -799.0 + np.log(-np.expm1(-1.0))),
        ("logistic", 799.0, 800.0, -799.0 + np.log(-np.expm1(-1.0))),
        # normal, far tails: Phi(-41) / Phi(-40) ~ 1e-18 vanishes; log Phi(-40) from its
        # asymptotic series
        ("gaussian", 40.0, 41.0, _LOG_PHI_MINUS_40),
        ("gaussian", -41.0, -40.0, _LOG_PHI_MINUS_40),
        ("gaussian", -0.5, 0.5, math.log(math.erf(0.5 / math.sqrt(2.0)))),
    ],
)
def test_interval_probability_is_stable_in_the_tails(family, zl, zu, expected) -> None:
    with np.errstate(over="raise", divide="raise", invalid="raise"):  # underflow is fine
        got = aft._log_interval_prob(family, np.array([zl]), np.array([zu]))[0]
    assert got == pytest.approx(expected, rel=1e-9)


@pytest.mark.filterwarnings("error")  # any warning fails the test
@pytest.mark.parametrize("distribution", DISTRIBUTIONS)
def test_extreme_data_raise_no_floating_point_warnings(distribution: str) -> None:
    rng = np.random.default_rng(5)
    n = 400
    x = rng.normal(size=n)
    t = np.exp(2.0 + 3.0 * x + 2.5 * rng.normal(size=n))        # times over ~20 decades
    lower = t * np.where(rng.random(n) < 0.5, 1.0, 0.999999)     # some very narrow intervals
    upper = np.where(rng.random(n) < 0.1, np.inf, t)
    lower = np.where((rng.random(n) < 0.1) & np.isfinite(upper), 0.0, lower)
    with np.errstate(over="raise", divide="raise", invalid="raise"):
        fit = fit_aft(lower, upper, pd.DataFrame({"x": x}), distribution=distribution)
    assert min(fit.observation_types.values()) == 0  # exact_zero_as_left
    assert all(fit.observation_types[k] > 10 for k in ("exact", "left", "interval", "right"))
    assert fit.converged
    assert np.isfinite(fit.loglik) and np.isfinite(fit.table["std_error"]).all()


def test_non_convergence_is_reported_not_raised() -> None:
    data, lower, upper = _read("relief")
    with pytest.warns(ConvergenceWarning, match="max_iter=1"):
        fit = fit_aft(lower, upper, data[["arm", "pain0"]], max_iter=1)
    assert not fit.converged
    assert fit.iterations == 1 and "max_iter=1" in fit.warnings[0]


def test_unbounded_likelihood_is_reported() -> None:
    # every observation right-censored: the likelihood grows without bound
    lower = np.array([3.0, 5.0, 8.0, 9.0, 12.0])
    upper = np.full(5, np.inf)
    with pytest.warns(ConvergenceWarning):
        fit = fit_aft(lower, upper, None, distribution="exponential", max_iter=20)
    assert not fit.converged and fit.warnings


# --------------------------------------------------------------------------------------
# Input checks
# --------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("lower", "upper", "match"),
    [
        ([1.0, np.nan], [2.0, 3.0], r"lower has 1 value \(first at position 1\) missing"),
        ([1.0, 2.0], [2.0, np.nan], "upper has 1 value .* missing; use numpy.inf"),
        ([1.0, -2.0], [2.0, 3.0], "lower has 1 value .* negative"),
        ([1.0, 4.0], [2.0, 3.0], r"lower > upper in 1 value \(first at position 1\)"),
        ([1.0, 0.0], [2.0, np.inf], r"\(0, inf\)"),
        ([1.0, np.inf], [2.0, np.inf], "lower has 1 value .* infinite"),
        ([], [], "empty"),
        ([1.0, 2.0], [2.0, 3.0, 4.0], "upper has 3 values but lower has 2"),
    ],
)
def test_bad_times(lower, upper, match) -> None:
    with pytest.raises(AnalysisError, match=match):
        fit_aft(lower, upper, None)


def test_bad_arguments() -> None:
    lower, upper = [1.0, 2.0, 0.0, 4.0], [2.0, 2.0, 3.0, np.inf]
    X = pd.DataFrame({"x": [1.0, 2.0, 3.0, 5.0]})
    cases = [
        (dict(distribution="gamma"), "distribution must be one of"),
        (dict(X=X.values), "X must be a pandas DataFrame"),
        (dict(X=X.iloc[:3]), "X has 3 rows but lower has 4"),
        (dict(X=X.assign(g=["a", "b", "a", "b"])), r"X columns \['g'\] are not numeric"),
        (dict(X=X.assign(z=[1.0, np.nan, 2.0, 3.0])), "X column 'z' has 1 value"),
        (dict(X=X.assign(c=1.0)), r"rank deficient: column\(s\) \['c'\]"),
        (dict(X=X.assign(x2=2 * X["x"])), r"rank deficient: column\(s\) \['x2'\]"),
        (dict(X=X.rename(columns={"x": "(Intercept)"})), "must be unique and not"),
        (dict(weights=[1.0, 0.0, 1.0, 1.0]), "weights has 1 value .* <= 0"),
        (dict(weights=[1.0, 1.0]), "weights has 2 values but lower has 4"),
        (dict(cluster=[1, None, 2, 2]), "cluster has 1 value .* missing"),
        (dict(cluster=[1, 2]), "cluster must be one-dimensional with one id"),
        (dict(conf_level=95), "conf_level must be a number strictly between"),
        (dict(max_iter=0), "max_iter must be"),
        (dict(tol=0.0), "tol must be"),
    ]
    for kwargs, match in cases:
        kwargs = {"X": X, **kwargs}
        with pytest.raises(AnalysisError, match=match):
            fit_aft(lower, upper, **kwargs)


def test_bad_prediction_input() -> None:
    data, lower, upper = _read("ovarian")
    fit = fit_aft(lower, upper, data[["age", "ecog"]])
    with pytest.raises(AnalysisError, match=r"lacks column\(s\) \['ecog'\]"):
        fit.predict_median(data[["age"]])
    with pytest.raises(AnalysisError, match="p must be a probability"):
        fit.predict_quantile(data[["age", "ecog"]], p=1.0)
    with pytest.raises(AnalysisError, match="X_new is needed"):
        fit.predict_median(None)
