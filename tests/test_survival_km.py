"""Kaplan-Meier (survfit) and log-rank (survdiff) engines against R's survival 3.5-3.

Golden values: tests/reference/survival_km/reference.json, made by make_reference.R
(run from the repo root) from survival::lung and survival::aml (saved as lung.csv,
aml.csv), tied.csv (a seeded, heavily tied two-arm data set written by
simulate_tied_survival.py: days 7..84, sessions 1..6, integer and non-integer case
weights, three sites) and edge_cases.csv (all censored, no censoring, one subject,
S exactly 0.5 on a flat stretch, a curve ending flat at 0.5, last observation an
event so S = 0, events at time 0, times equal up to rounding). lung has one missing
ph.ecog: the ph.ecog-stratified and by-ph.ecog tests exclude that row explicitly,
in R (subset(lung, !is.na(ph.ecog))) and here; logrank() refuses missing strata.

Each reference number is stored under the R expression that produced it (see the
R script): survfit(...)$time/n.risk/n.event/n.censor/surv/std.err/lower/upper for
every conf.type, quantile(fit, 0.5), the median of print(fit) (survival:::survmean),
summary(fit, times=, extend=TRUE), survmean(fit, rmean=tau) (= print(fit, rmean=tau))
and survdiff(...)$chisq/obs/exp/var.

Tolerances (one per quantity). Everything here is closed-form (no iteration), so the
engine reproduces R to rounding; the stored JSON keeps 15 significant digits:
- counts (n_risk, n_event, n_censor, at risk, n, df): 1e-12 relative (exact up to
  float sums of case weights);
- estimates, standard errors, CI limits, medians, RMST, chi-square statistics and
  p-values: 1e-9 relative (the worst seen is ~5e-13; far inside the project's
  1e-4 / 1e-3 targets, tight enough to catch any formula difference);
- NaN / Inf must sit exactly where R has NA / NaN / Inf.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from dryneedle_outcomes.errors import AnalysisError
from dryneedle_outcomes.stats.survival.kaplan_meier import (
    KaplanMeier,
    distinct_times,
    kaplan_meier,
    rmst_difference,
)
from dryneedle_outcomes.stats.survival.logrank import LogRankResult, logrank

REF_DIR = Path(__file__).parent / "reference" / "survival_km"
REF = json.loads((REF_DIR / "reference.json").read_text())
# Kaplan-Meier, Greenwood, log-rank, RMST are closed-form sums: R's and ours differ by
# rounding only (tests/tolerances.py: ARITHMETIC_RTOL).
RTOL = 1e-12
COUNT_RTOL = 1e-12
CONF_TYPES = ["log-log", "log", "plain"]

LUNG = pd.read_csv(REF_DIR / "lung.csv").assign(event=lambda d: d["status"] - 1)
LUNG_ECOG = LUNG[LUNG["ph.ecog"].notna()]  # 1 row with missing ph.ecog, excluded explicitly
AML = pd.read_csv(REF_DIR / "aml.csv")
TIED = pd.read_csv(REF_DIR / "tied.csv")
EDGE = pd.read_csv(REF_DIR / "edge_cases.csv")


def num(values) -> np.ndarray:
    """jsonlite numbers with na="string" ("NA", "NaN", "Inf") as a float array."""
    values = values if isinstance(values, list) else [values]
    special = {"NA": np.nan, "NaN": np.nan, "Inf": np.inf, "-Inf": -np.inf}
    return np.array([special[v] if isinstance(v, str) else v for v in values], dtype=float)


def close(actual, expected, rtol: float = RTOL, what: str = "") -> None:
    actual = np.asarray(actual, dtype=float)
    expected = np.asarray(expected, dtype=float)
    np.testing.assert_array_equal(np.isnan(actual), np.isnan(expected),
                                  err_msg=f"NaN pattern differs: {what}")
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=1e-13, err_msg=what)


def _arm(d: pd.DataFrame, col: str, value, time: str = "time", event: str = "event"):
    sel = d[d[col] == value]
    return sel[time], sel[event], None


KM_INPUTS = {
    "lung": lambda: (LUNG["time"], LUNG["event"], None),
    "lung_sex1": lambda: _arm(LUNG, "sex", 1),
    "lung_sex2": lambda: _arm(LUNG, "sex", 2),
    "aml": lambda: (AML["time"], AML["status"], None),
    "aml_maintained": lambda: _arm(AML, "x", "Maintained", event="status"),
    "aml_nonmaintained": lambda: _arm(AML, "x", "Nonmaintained", event="status"),
    "tied": lambda: (TIED["time"], TIED["event"], None),
    "tied_control": lambda: _arm(TIED, "arm", "control"),
    "tied_needling": lambda: _arm(TIED, "arm", "needling"),
    "tied_session": lambda: (TIED["session"], TIED["event"], None),
    "tied_wt_int": lambda: (TIED["time"], TIED["event"], TIED["wt_int"]),
    "tied_wt_frac": lambda: (TIED["time"], TIED["event"], TIED["wt_frac"]),
}
for _case in EDGE["case"].unique():
    if _case != "zero_expected":
        KM_INPUTS[f"edge_{_case}"] = (lambda c=_case: _arm(EDGE, "case", c))
assert set(KM_INPUTS) == set(REF["km"]), "every R curve has a Python input"

_FITS: dict[tuple[str, str], KaplanMeier] = {}


def fit_for(name: str, conf_type: str = "log-log") -> KaplanMeier:
    if (name, conf_type) not in _FITS:
        t, e, w = KM_INPUTS[name]()
        _FITS[name, conf_type] = kaplan_meier(t, e, weights=w, conf_type=conf_type)
    return _FITS[name, conf_type]


KM_CASES = [(name, ct) for name in REF["km"] for ct in CONF_TYPES]


# ---------------------------------------------------------------------- survfit table
@pytest.mark.parametrize(("name", "conf_type"), KM_CASES)
def test_table_matches_survfit(name, conf_type):
    ref = REF["km"][name][conf_type]["table"]
    table = fit_for(name, conf_type).table
    assert table.columns.tolist() == ["time", "n_risk", "n_event", "n_censor", "estimate",
                                      "std_error", "ci_lower", "ci_upper"]
    for col in ("time", "n_risk", "n_event", "n_censor"):
        close(table[col], num(ref[col]), COUNT_RTOL, f"{name} {col}")
    for col in ("estimate", "std_error", "ci_lower", "ci_upper"):
        close(table[col], num(ref[col]), RTOL, f"{name} {conf_type} {col}")


@pytest.mark.parametrize(("name", "conf_type"), KM_CASES)
def test_median_matches_quantile_and_print(name, conf_type):
    ref = REF["km"][name][conf_type]
    fit = fit_for(name, conf_type)
    # quantile(fit, 0.5): quantile, lower, upper
    close(fit.median().to_numpy(), num(ref["median_quantile"]), RTOL, f"{name} quantile")
    # print(fit): median, 0.95LCL, 0.95UCL (survival:::survmean)
    close(fit.median(rule="print").to_numpy(), num(ref["median_print"]), RTOL, f"{name} print")


@pytest.mark.parametrize(("name", "conf_type"), KM_CASES)
def test_survival_at_and_at_risk_match_summary(name, conf_type):
    ref = REF["km"][name]
    fit = fit_for(name, conf_type)
    times = num(ref["times"])
    got = fit.survival_at(times)
    close(got["time"], times, 0.0)
    for col, values in ref[conf_type]["survival_at"].items():   # summary(fit, times=)$surv...
        close(got[col], num(values), RTOL, f"{name} survival_at {col}")
    risk = fit.at_risk(times)
    for col, values in ref[conf_type]["at_risk"].items():   # n.risk, cumsum(n.event / censor)
        close(risk[col], num(values), COUNT_RTOL, f"{name} at_risk {col}")


@pytest.mark.parametrize("name", list(REF["km"]))
def test_rmst_matches_survmean(name):
    ref = REF["km"][name]
    fit = fit_for(name)
    for tau, est, se in zip(num(ref["taus"]), num(ref["rmst"]["estimate"]),
                            num(ref["rmst"]["std_error"]), strict=True):
        got = fit.rmst(tau)   # print(fit, rmean=tau): rmean, se(rmean)
        close(got["estimate"], est, RTOL, f"{name} rmean tau={tau}")
        close(got["std_error"], se, RTOL, f"{name} se(rmean) tau={tau}")


@pytest.mark.parametrize(("key", "a", "b"), [
    ("lung_sex1_minus_sex2_365", "lung_sex1", "lung_sex2"),
    ("lung_sex1_minus_sex2_730", "lung_sex1", "lung_sex2"),
    ("aml_maint_minus_non_48", "aml_maintained", "aml_nonmaintained"),
    ("tied_needling_minus_control_84", "tied_needling", "tied_control"),
])
def test_rmst_difference(key, a, b):
    ref = REF["rmst_difference"][key]
    got = rmst_difference(fit_for(a), fit_for(b), ref["tau"], conf_level=0.95)
    for col in ("estimate", "std_error", "ci_lower", "ci_upper", "p_value"):
        close(got[col], ref[col], RTOL, f"{key} {col}")


# ---------------------------------------------------------------------- survdiff
LR_INPUTS = {
    "lung_sex": lambda: (LUNG, "time", "event", "sex", None, 0),
    "lung_sex_rho1": lambda: (LUNG, "time", "event", "sex", None, 1),
    "lung_sex_strata_ecog": lambda: (LUNG_ECOG, "time", "event", "sex", "ph.ecog", 0),
    "lung_ecog": lambda: (LUNG_ECOG, "time", "event", "ph.ecog", None, 0),
    "aml_x": lambda: (AML, "time", "status", "x", None, 0),
    "tied_arm": lambda: (TIED, "time", "event", "arm", None, 0),
    "tied_arm_rho_half": lambda: (TIED, "time", "event", "arm", None, 0.5),
    "tied_arm_strata_site": lambda: (TIED, "time", "event", "arm", "site", 0),
    "tied_arm_strata_site_rho1": lambda: (TIED, "time", "event", "arm", "site", 1),
    "tied_session_arm": lambda: (TIED, "session", "event", "arm", None, 0),
    "tied_site": lambda: (TIED, "time", "event", "site", None, 0),
    "edge_zero_expected": lambda: (EDGE[EDGE["case"] == "zero_expected"], "time", "event",
                                   "group", None, 0),
}
assert set(LR_INPUTS) == set(REF["logrank"]), "every R test has a Python input"


@pytest.mark.parametrize("name", list(REF["logrank"]))
def test_logrank_matches_survdiff(name):
    ref = REF["logrank"][name]
    d, t, e, g, s, rho = LR_INPUTS[name]()
    res = logrank(d[t], d[e], d[g], strata=None if s is None else d[s], rho=rho)
    close(res["statistic"], ref["statistic"], RTOL, f"{name} chisq")
    assert res["df"] == ref["df"]
    close(res["p_value"], ref["p_value"], RTOL, f"{name} p")
    got_groups = res.table["group"].tolist()
    if pd.api.types.is_numeric_dtype(res.table["group"]):   # R labels: "sex=1" -> "1"
        assert got_groups == [float(x) for x in ref["group"]]
    else:
        assert got_groups == ref["group"]
    close(res.table["n"], num(ref["n"]), COUNT_RTOL, f"{name} n")
    for col in ("observed", "expected", "o_minus_e_sq_over_e", "o_minus_e_sq_over_v"):
        close(res.table[col], num(ref[col]), RTOL, f"{name} {col}")
    close(res.variance.to_numpy(), np.array(ref["variance"], dtype=float), RTOL, f"{name} var")
    assert res.warnings == []


def test_logrank_drops_zero_expected_group_from_df():
    # group C is censored before the first event: E = 0, so df = 3 groups - 1 - 1
    d = EDGE[EDGE["case"] == "zero_expected"]
    res = logrank(d["time"], d["event"], d["group"])
    assert res.df == 1
    assert res.table.loc[res.table["group"] == "C", "expected"].item() == 0.0
    assert np.isnan(res.table.loc[res.table["group"] == "C", "o_minus_e_sq_over_e"].item())


def test_logrank_no_test_when_one_group_has_expected_events():
    res = logrank([1, 2, 3, 5, 6], [0, 0, 1, 1, 0], ["b", "b", "a", "a", "a"])
    assert res.df == 0 and res.statistic == 0.0 and np.isnan(res.p_value)
    assert "no test" in res.warnings[0]


def test_logrank_mapping_access():
    res = logrank([1, 2, 3, 4, 5, 6], [1, 1, 0, 1, 1, 1], [0, 1, 0, 1, 0, 1])
    assert isinstance(res, LogRankResult)
    assert res["p_value"] == res.p_value
    assert set(dict(res)) == set(res.keys()) == set(res.as_dict())
    with pytest.raises(KeyError, match="available"):
        res["pvalue"]


def test_logrank_categorical_keeps_category_order():
    d = TIED.assign(arm=pd.Categorical(TIED["arm"], categories=["needling", "control", "x"]))
    res = logrank(d["time"], d["event"], d["arm"])
    assert res.table["group"].tolist() == ["needling", "control"]   # unused "x" dropped
    close(res.statistic, REF["logrank"]["tied_arm"]["statistic"])


# ---------------------------------------------------------------------- behaviour
def test_edge_conventions_are_rs():
    # log-log limits are NaN where S = 1 and where S = 0; the Greenwood SE is Inf at S = 0
    t = fit_for("edge_last_event", "log-log").table
    assert np.isnan(t.loc[t["estimate"] == 0, ["ci_lower", "ci_upper"]]).all(axis=None)
    assert np.isinf(t["std_error"].iloc[-1])
    t = fit_for("edge_all_censored", "log-log").table
    assert (t["estimate"] == 1).all() and t["ci_lower"].isna().all()
    t = fit_for("edge_all_censored", "log").table
    assert (t["ci_lower"] == 1).all() and (t["ci_upper"] == 1).all()
    # S = 0.5 from t = 3 until the drop at t = 5: median (3 + 5) / 2
    assert fit_for("edge_flat_half").median()["estimate"] == 4.0
    # a curve ending flat at 0.5: quantile() averages with the last time, print() does not
    assert fit_for("edge_flat_half_end").median()["estimate"] == 3.0
    assert fit_for("edge_flat_half_end").median(rule="print")["estimate"] == 2.0
    # times equal up to rounding are one row, as survfit's timefix
    assert fit_for("edge_near_ties").table["time"].tolist() == [1.0, 2.0, 2.5, 3.0]


def test_integer_weights_equal_replicated_rows():
    d = TIED.loc[TIED.index.repeat(TIED["wt_int"])]
    rep = kaplan_meier(d["time"], d["event"]).table
    wtd = fit_for("tied_wt_int").table
    pd.testing.assert_frame_equal(rep, wtd, rtol=1e-12)
    assert fit_for("tied_wt_int").variance == "greenwood"
    assert fit_for("tied_wt_frac").variance == "robust"


def test_survival_at_is_right_continuous():
    fit = kaplan_meier([2, 4, 4, 7], [1, 1, 0, 1])
    got = fit.survival_at([1.999, 2, 3.999, 4, 100])["estimate"].to_numpy()
    np.testing.assert_allclose(got, [1, 0.75, 0.75, 0.5, 0])


def test_conf_level_changes_limits():
    t, e, _ = KM_INPUTS["aml"]()
    narrow = kaplan_meier(t, e, conf_level=0.80).table
    wide = kaplan_meier(t, e, conf_level=0.99).table
    inner = narrow["estimate"].between(0, 1, inclusive="neither")
    assert (narrow.loc[inner, "ci_lower"] > wide.loc[inner, "ci_lower"]).all()


def test_distinct_times_merges_like_aeqsurv():
    utime, index = distinct_times(np.array([3.0, 1.0, 1.0 + 1e-10, 2.0]))
    assert utime.tolist() == [1.0, 2.0, 3.0]
    assert index.tolist() == [2, 0, 0, 1]


@pytest.mark.slow
def test_large_cohort_runs_vectorised():
    rng = np.random.default_rng(7)
    n = 100_000
    time = rng.integers(7, 85, n).astype(float)
    event = rng.integers(0, 2, n)
    arm = rng.integers(0, 2, n)
    fit = kaplan_meier(time, event)
    assert len(fit.table) == 78 and fit.table["n_risk"].iloc[0] == n
    res = logrank(time, event, arm, strata=rng.integers(0, 3, n))
    assert res.df == 1 and 0 <= res.p_value <= 1


# ---------------------------------------------------------------------- input errors
@pytest.mark.parametrize(("kwargs", "message"), [
    ({"time": [1, -2, 3], "event": [1, 0, 1]},
     r"time has 1 negative value \(first at position 1\)"),
    ({"time": [1, np.nan, 3], "event": [1, 0, 1]}, "missing or infinite"),
    ({"time": [1, 2, 3], "event": [1, 2, 1]}, "non-0/1"),
    ({"time": [1, 2, 3], "event": [1, 0]}, "one value per time"),
    ({"time": [], "event": []}, "time is empty"),
    ({"time": [1, 2], "event": [1, 0], "conf_type": "logit"}, "conf_type must be one of"),
    ({"time": [1, 2], "event": [1, 0], "conf_level": 95}, "conf_level must be"),
    ({"time": [1, 2], "event": [1, 0], "weights": [1, -1]}, "weights has 1"),
    ({"time": [1, 2], "event": [1, 0], "weights": [0, 0]}, "weights are all 0"),
])
def test_kaplan_meier_errors(kwargs, message):
    with pytest.raises(AnalysisError, match=message):
        kaplan_meier(kwargs.pop("time"), kwargs.pop("event"), **kwargs)


def test_method_errors():
    fit = kaplan_meier([1, 2], [1, 0])
    with pytest.raises(AnalysisError, match="tau must be"):
        fit.rmst(0)
    with pytest.raises(AnalysisError, match="rule must be"):
        fit.median(rule="mean")


def test_logrank_errors():
    with pytest.raises(AnalysisError, match="at least 2 groups"):
        logrank([1, 2], [1, 1], ["a", "a"])
    with pytest.raises(AnalysisError, match="group has 1 missing"):
        logrank([1, 2, 3], [1, 1, 0], ["a", None, "b"])
    with pytest.raises(AnalysisError, match=r"strata has 1 missing .*exclude"):
        logrank(LUNG["time"], LUNG["event"], LUNG["sex"], strata=LUNG["ph.ecog"])
    with pytest.raises(AnalysisError, match="rho must be"):
        logrank([1, 2], [1, 1], ["a", "b"], rho=np.inf)


def test_summary_is_text_and_summary_table_the_series():
    fit = kaplan_meier([2, 3, 3, 5, 8], [1, 1, 0, 1, 0])
    table = fit.summary_table()
    assert isinstance(table, pd.Series)
    assert table["n"] == 5 and table["n_events"] == 3.0
    m = fit.median()
    assert table["median"] == m["estimate"] and table["ci_lower"] == m["ci_lower"]
    text = fit.summary()
    assert isinstance(text, str)
    assert "n = 5" in text and "events = 3" in text and f"median {table['median']:g}" in text
