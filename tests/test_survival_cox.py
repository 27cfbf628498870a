"""The Cox engine (``dryneedle_outcomes.stats.survival.cox``) against R, and its own guarantees.

Golden values come from ``tests/reference/survival_cox/make_reference.R`` (R 4.2,
survival 3.5-3), stored with the R call that produced each number in ``reference.json``.
Data: ``survival::lung`` (``Surv(time, status) ~ sex + age + ph.karno``; the one row with
``ph.karno`` missing is excluded explicitly, in R and in ``lung.csv``, before fitting:
227 rows), ``survival::veteran`` (``trt + karno``, stratified by ``celltype`` and with
``celltype`` as a 3-df covariate), ``survival::ovarian``, a seeded simulated data set with
heavy ties (400 patients, integer days 1..90, two arms and a continuous baseline, sites as
strata, integer and fractional case weights) and a small data set in which one arm has no
events. CI needs no R.

Tolerances, and why
-------------------
Relative differences ``|ours - R| <= tol * |R|``, entry by entry:

* coefficients 1e-6 (the brief; both fits stop on coxph's rule ``|1 - l_old / l_new| <=
  1e-9`` after the same number of Newton steps, so they land on the same iterate),
* standard errors, variance matrices and confidence limits 1e-5,
* test statistics, p-values and cox.zph chi-squares 1e-4, log partial likelihoods 1e-8,
* Schoenfeld residuals 1e-6 (relative, with an absolute floor of 1e-9 for exact zeros).

Observed worst differences over every fit here are ~1e-12 (coefficients 7e-15, SE 3e-15,
CI 5e-15, vcov 6e-13, log-likelihoods 4e-15, test statistics 1e-13 and their p-values 2e-12,
zph chi-squares 2e-13, Schoenfeld residuals 7e-13 absolute):
the engine follows coxfit6 / zph1 / coxscho step by step, so the tolerances above are
margins, not fudge.

R's behaviours reproduced on purpose: with non-integer case weights coxph switches to the
robust (sandwich) variance and adds a robust score test (checked); summary() rounds the
Wald statistic to 2 decimals, so the unrounded ``fit$wald.test`` is the reference. Known,
documented difference: when coxph runs out of iterations its ``vcov`` is not the inverse
information at its own coefficients (coxfit6 inverts the information of the last, rejected,
Newton step); ours is, and the test compares with R's inverse information at R's
coefficients (a refit with ``init = coef(fit), iter.max = 0``).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from dryneedle_outcomes.errors import AnalysisError, ConvergenceWarning
from dryneedle_outcomes.stats.survival.cox import fit_cox

REF_DIR = Path(__file__).parent / "reference" / "survival_cox"
REF = json.loads((REF_DIR / "reference.json").read_text())

# Against coxph: the same Newton-Raphson from beta = 0 with the same step-halving and stopping
# rule takes the same number of iterations (asserted: n_iter == fit$iter), so the two
# iterates differ by rounding carried through a few Newton steps, not by the stopping
# margin (tests/tolerances.py: newton_se); 1e-6 relative leaves room for conditioning.
TOL_COEF = 1e-6
TOL_SE = 1e-5
TOL_TEST = 1e-4
TOL_LOGLIK = 1e-8
TOL_RESID = 1e-6

VETERAN_CELLTYPES = ["squamous", "smallcell", "adeno", "large"]   # R's factor levels


def _csv(name: str) -> pd.DataFrame:
    return pd.read_csv(REF_DIR / f"{name}.csv")


LUNG = _csv("lung")
VET = _csv("veteran")
OVA = _csv("ovarian")
TIED = _csv("tied")
NOEV = _csv("no_events_arm")


def _veteran_celltype_x() -> pd.DataFrame:
    x = VET[["trt2", "karno"]].copy()
    for level in VETERAN_CELLTYPES[1:]:
        x[f"celltype[{level}]"] = (VET["celltype"] == level).astype(float)
    return x


# each entry: the R fit name in reference.json -> how the same fit is made here
FITS = {
    "lung": lambda: fit_cox(LUNG["time"], LUNG["event"], LUNG[["sex", "age", "ph.karno"]]),
    "lung_breslow": lambda: fit_cox(LUNG["time"], LUNG["event"],
                                    LUNG[["sex", "age", "ph.karno"]], ties="breslow"),
    "lung_conf90": lambda: fit_cox(LUNG["time"], LUNG["event"],
                                   LUNG[["sex", "age", "ph.karno"]], conf_level=0.90),
    "veteran_strata": lambda: fit_cox(
        VET["time"], VET["status"], VET[["trt2", "karno"]],
        strata=pd.Categorical(VET["celltype"], categories=VETERAN_CELLTYPES)),
    "veteran_celltype": lambda: fit_cox(VET["time"], VET["status"], _veteran_celltype_x()),
    "ovarian": lambda: fit_cox(OVA["futime"], OVA["fustat"], OVA[["age", "rx2", "ecog.ps"]]),
    "tied_efron": lambda: fit_cox(TIED["day"], TIED["event"], TIED[["arm", "baseline"]]),
    "tied_breslow": lambda: fit_cox(TIED["day"], TIED["event"], TIED[["arm", "baseline"]],
                                    ties="breslow"),
    "tied_weights": lambda: fit_cox(TIED["day"], TIED["event"], TIED[["arm", "baseline"]],
                                    weights=TIED["w_int"]),
    "tied_weights_robust": lambda: fit_cox(TIED["day"], TIED["event"],
                                           TIED[["arm", "baseline"]], weights=TIED["w"]),
    "tied_strata": lambda: fit_cox(TIED["day"], TIED["event"], TIED[["arm", "baseline"]],
                                   strata=TIED["site"]),
}
_CACHE: dict = {}


def _fit(name: str):
    if name not in _CACHE:
        _CACHE[name] = FITS[name]()
    return _CACHE[name]


def _close(ours, ref, rtol, atol=0.0):
    np.testing.assert_allclose(np.asarray(ours, float), np.asarray(ref, float),
                               rtol=rtol, atol=atol)


def test_every_reference_fit_is_checked():
    assert set(FITS) == set(REF["fits"])


@pytest.mark.parametrize("name", sorted(FITS))
def test_fit_matches_coxph(name):
    ref = REF["fits"][name]
    fit = _fit(name)
    t = fit.table
    assert fit.converged and fit.warnings == []
    assert fit.ties == ref["method"]
    assert len(t) == len(ref["terms"])
    _close(t["coef"], ref["coef"], TOL_COEF)                  # coef(fit)
    _close(t["std_error"], ref["std_error"], TOL_SE)          # sqrt(diag(vcov(fit)))
    _close(t["estimate"], ref["hazard_ratio"], TOL_COEF)      # exp(coef(fit))
    _close(t["ci_lower"], ref["ci_lower"], TOL_SE)            # summary(fit)$conf.int
    _close(t["ci_upper"], ref["ci_upper"], TOL_SE)
    _close(t["z"], ref["z"], TOL_SE)                          # summary(fit)$coefficients
    _close(t["p_value"], ref["p_value"], TOL_TEST)
    _close(fit.cov.to_numpy(), ref["vcov"], TOL_SE)           # vcov(fit)
    _close(fit.loglik, ref["loglik"], TOL_LOGLIK)             # fit$loglik
    assert fit.n == ref["n"] and fit.n_events == ref["nevent"]
    assert fit.n_iter == ref["iter"]                          # fit$iter
    tests = fit.tests.set_index("test")
    for label, key in [("likelihood_ratio", "logtest"), ("wald", "waldtest"),
                       ("score", "sctest")]:
        stat, df, p = ref[key]         # summary(fit)$logtest, fit$wald.test, $sctest
        _close(tests.loc[label, "statistic"], stat, TOL_TEST)
        _close(tests.loc[label, "p_value"], p, TOL_TEST)
        assert tests.loc[label, "df"] == df


def test_non_integer_weights_use_robust_variance_as_coxph():
    ref = REF["fits"]["tied_weights_robust"]
    fit = _fit("tied_weights_robust")
    assert fit.robust
    _close(fit.naive_cov.to_numpy(), ref["naive_vcov"], TOL_SE)     # fit$naive.var
    robust = fit.tests.set_index("test").loc["robust_score"]
    _close(robust["statistic"], ref["robscore"][0], TOL_TEST)        # summary(fit)$robscore
    _close(robust["p_value"], ref["robscore"][2], TOL_TEST)
    # integer weights keep the model-based variance, as R
    integer = _fit("tied_weights")
    assert not integer.robust and "robust_score" not in set(integer.tests["test"])
    np.testing.assert_array_equal(integer.cov.to_numpy(), integer.naive_cov.to_numpy())


ZPH = {  # reference.json zph entry -> (fit, transform, terms)
    **{f"lung_{tr}": ("lung", tr, True) for tr in ("km", "identity", "rank")},
    **{f"veteran_strata_{tr}": ("veteran_strata", tr, True)
       for tr in ("km", "identity", "rank")},
    "veteran_celltype_km_terms": ("veteran_celltype", "km", True),
    "veteran_celltype_km_columns": ("veteran_celltype", "km", False),
    "tied_breslow_km": ("tied_breslow", "km", True),
    "tied_efron_km": ("tied_efron", "km", True),
    "tied_weights_km": ("tied_weights", "km", True),
    "tied_weights_robust_km": ("tied_weights_robust", "km", True),
    "tied_strata_identity": ("tied_strata", "identity", True),
}


def test_every_reference_zph_is_checked():
    assert set(ZPH) == set(REF["zph"])


@pytest.mark.parametrize("name", sorted(ZPH))
def test_proportional_hazards_test_matches_cox_zph(name):
    ref = REF["zph"][name]        # cox.zph(fit, transform, terms)$table
    fit_name, transform, terms = ZPH[name]
    out = _fit(fit_name).proportional_hazards_test(transform=transform, terms=terms)
    assert len(out) == len(ref["rows"]) and out["term"].iloc[-1] == "GLOBAL"
    # our column names spell factor levels as celltype[adeno]; R as celltypeadeno
    assert [t.replace("[", "").replace("]", "") for t in out["term"]] == ref["rows"]
    assert out["df"].tolist() == ref["df"]
    _close(out["chisq"], ref["chisq"], TOL_TEST)
    _close(out["p_value"], ref["p"], TOL_TEST)


def test_zph_terms_mapping_equals_bracket_grouping():
    fit = _fit("veteran_celltype")
    mapping = {"trt2": ["trt2"], "karno": ["karno"],
               "celltype": [f"celltype[{lv}]" for lv in VETERAN_CELLTYPES[1:]]}
    pd.testing.assert_frame_equal(fit.proportional_hazards_test(terms=mapping),
                                  fit.proportional_hazards_test(terms=True))


@pytest.mark.parametrize("name", ["lung", "tied_efron", "tied_breslow", "veteran_strata",
                                  "tied_weights"])
def test_schoenfeld_residuals_match_r(name):
    ref = REF["schoenfeld"][name]      # residuals(fit, type = "schoenfeld")
    res = _fit(name).schoenfeld_residuals()
    terms = _fit(name).table["term"].tolist()
    assert len(res) == _fit(name).n_events
    _close(res["time"], ref["time"], 0)
    _close(res[terms].to_numpy(), ref["resid"], TOL_RESID, atol=1e-9)
    assert ("stratum" in res.columns) == (name == "veteran_strata")


def test_one_arm_without_events_is_flagged_as_r_does():
    ref = REF["no_events_arm"]
    # R: warning "Loglik converged before variable 1 ; coefficient may be infinite."
    assert "variable  1 ; coefficient may be infinite" in ref["warnings"]
    with pytest.warns(ConvergenceWarning, match="'arm' may be infinite"):
        fit = fit_cox(NOEV["time"], NOEV["event"], NOEV[["arm", "x"]])
    assert not fit.converged
    assert len(fit.warnings) == 1 and "'arm'" in fit.warnings[0]   # x is not flagged
    # the same Newton path as coxph: it stops at the same (finite) iterate
    _close(fit.table["coef"], ref["coef"], TOL_COEF)
    _close(fit.loglik, ref["loglik"], TOL_LOGLIK)
    assert fit.n_iter == ref["iter"]


def test_running_out_of_iterations_is_reported():
    ref = REF["ran_out"]
    assert ref["warnings"] == "Ran out of iterations and did not converge"
    with pytest.warns(ConvergenceWarning, match="did not converge in 2"):
        fit = fit_cox(OVA["futime"], OVA["fustat"], OVA[["age", "rx2", "ecog.ps"]],
                      max_iter=2)
    assert not fit.converged and len(fit.warnings) == 1
    _close(fit.table["coef"], ref["coef"], TOL_COEF)
    _close(fit.loglik, ref["loglik"], TOL_LOGLIK)
    # R reports iter.max + 1 iterations; we report the iterations actually run
    assert fit.n_iter == ref["iter"] - 1
    _close(fit.table["std_error"], ref["std_error_at_coef"], TOL_SE)
    assert not np.allclose(ref["std_error_at_coef"], ref["std_error_R"], rtol=1e-3)


# ---- the engine's own guarantees -------------------------------------------------------

def test_row_order_does_not_matter():
    rng = np.random.default_rng(3)
    perm = rng.permutation(len(TIED))
    d = TIED.iloc[perm].reset_index(drop=True)
    fit = fit_cox(d["day"], d["event"], d[["arm", "baseline"]], strata=d["site"])
    ref = _fit("tied_strata")
    _close(fit.table["coef"], ref.table["coef"], 1e-12)
    _close(fit.cov.to_numpy(), ref.cov.to_numpy(), 1e-10)
    _close(fit.proportional_hazards_test()["chisq"],
           ref.proportional_hazards_test()["chisq"], 1e-10)


def test_integer_weights_equal_replicated_rows_under_breslow():
    # (not under Efron: as in coxph, a weighted row is one death in Efron's correction)
    reps = TIED["w_int"].to_numpy(int)
    d = TIED.loc[TIED.index.repeat(reps)].reset_index(drop=True)
    expanded = fit_cox(d["day"], d["event"], d[["arm", "baseline"]], ties="breslow")
    weighted = fit_cox(TIED["day"], TIED["event"], TIED[["arm", "baseline"]],
                       weights=TIED["w_int"], ties="breslow")
    _close(weighted.table["coef"], expanded.table["coef"], 1e-10)
    _close(weighted.table["std_error"], expanded.table["std_error"], 1e-10)
    _close(weighted.loglik, expanded.loglik, 1e-12)


def test_efron_equals_breslow_without_ties():
    rng = np.random.default_rng(11)
    n = 200
    X = pd.DataFrame({"arm[dry_needling]": rng.integers(0, 2, n), "baseline": rng.normal(size=n)})
    time = rng.exponential(size=n)
    event = rng.integers(0, 2, n)
    efron = fit_cox(time, event, X)
    breslow = fit_cox(time, event, X, ties="breslow")
    _close(efron.table["coef"], breslow.table["coef"], 1e-12)
    # but they differ with ties
    assert not np.allclose(_fit("tied_efron").table["coef"], _fit("tied_breslow").table["coef"],
                           rtol=1e-4)


def test_times_equal_up_to_rounding_noise_are_tied_as_in_coxph():
    noisy = TIED["day"].to_numpy(float) * (1 + 1e-12 * (np.arange(len(TIED)) % 3))
    fit = fit_cox(noisy, TIED["event"], TIED[["arm", "baseline"]])
    _close(fit.table["coef"], REF["fits"]["tied_efron"]["coef"], TOL_COEF)


def _efron_by_loop(time, event, x, strata, weights, beta):
    """Textbook Efron log partial likelihood and score: a loop over strata and event times."""
    loglik, score = 0.0, np.zeros(x.shape[1])
    eta = x @ beta
    for s in np.unique(strata):
        for t in np.unique(time[(strata == s) & (event == 1)]):
            at_risk = (strata == s) & (time >= t)
            dead = at_risk & (time == t) & (event == 1)
            d = dead.sum()
            wt = weights[dead].sum() / d
            r = weights * np.exp(eta)
            loglik += (weights[dead] * eta[dead]).sum()
            score += (weights[dead, None] * x[dead]).sum(axis=0)
            for k in range(d):
                denom = r[at_risk].sum() - k / d * r[dead].sum()
                num = (r[at_risk, None] * x[at_risk]).sum(axis=0) \
                    - k / d * (r[dead, None] * x[dead]).sum(axis=0)
                loglik -= wt * np.log(denom)
                score -= wt * num / denom
    return loglik, score


def test_heavy_ties_with_strata_and_weights_match_a_direct_loop():
    rng = np.random.default_rng(5)
    n = 3000
    X = pd.DataFrame({"arm[dry_needling]": rng.integers(0, 2, n),
                      "baseline": rng.normal(6, 1.5, n)})
    sessions = rng.integers(1, 7, n).astype(float)        # sessions 1..6: heavy ties
    event = rng.integers(0, 2, n)
    strata = rng.integers(0, 3, n)
    weights = rng.integers(1, 4, n).astype(float)
    fit = fit_cox(sessions, event, X, strata=strata, weights=weights)
    assert fit.converged
    loglik, score = _efron_by_loop(sessions, event, X.to_numpy(float), strata, weights,
                                   fit.table["coef"].to_numpy())
    _close(fit.loglik[1], loglik, 1e-12)
    # the Newton iterate that met the loglik criterion has a near-zero score
    assert np.max(np.abs(score)) < 1e-6 * np.sqrt(fit.n_events)
    loglik0, _ = _efron_by_loop(sessions, event, X.to_numpy(float), strata, weights,
                                np.zeros(2))
    _close(fit.loglik[0], loglik0, 1e-12)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"time": [1, -2, 3, 4]}, r"time has 1 negative value \(first at position 1\)"),
        ({"time": pd.Series([1, 2, None, 4], dtype="Int64")},
         r"time has 1 missing or non-finite value \(first at position 2\)"),
        ({"X": pd.DataFrame({"x": pd.array([1, None, 0, 1], dtype="Int64")})},
         "column 'x' at position 1"),
        ({"event": [1, 2, 0, 1]}, r"event has 1 non-0/1 value \(first at position"),
        ({"event": [0, 0, 0, 0]}, "no events"),
        ({"X": pd.DataFrame({"x": [1.0, np.nan, 2, 3]})}, "column 'x' at position 1"),
        ({"X": pd.DataFrame({"x": ["a", "b", "a", "b"]})}, "not numeric"),
        ({"X": pd.DataFrame({"x": [1.0, 2, 3, 4], "y": [2.0, 4, 6, 8]})}, "collinear"),
        ({"X": [[1.0], [2.0], [3.0], [4.0]]}, "X must be a pandas DataFrame"),
        ({"weights": [1, 0, 1, 1]}, r"weights has 1 zero or negative value \(first at position"),
        ({"strata": ["a", None, "b", "b"]}, "strata has 1 missing"),
        ({"time": [1, 2, 3]}, "time has 3 values but X has 4 rows"),
        ({"ties": "exact"}, "ties must be one of"),
        ({"conf_level": 95}, "conf_level must be a number strictly between 0 and 1"),
        ({"max_iter": 0}, "max_iter must be a whole number >= 1"),
    ],
)
def test_bad_input_raises_a_specific_error(kwargs, message):
    args = {"time": [1, 2, 3, 4], "event": [1, 0, 1, 1],
            "X": pd.DataFrame({"x": [0.5, 1.0, 0.2, 0.9]})}
    args.update(kwargs)
    with pytest.raises(AnalysisError, match=message):
        fit_cox(args.pop("time"), args.pop("event"), args.pop("X"), **args)


def test_bad_zph_arguments_raise():
    fit = _fit("lung")
    with pytest.raises(AnalysisError, match="transform must be one of"):
        fit.proportional_hazards_test(transform="log")
    with pytest.raises(AnalysisError, match="unassigned"):
        fit.proportional_hazards_test(terms={"sex": ["sex"]})
