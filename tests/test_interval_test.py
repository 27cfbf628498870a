"""``interval_test``: generalised log-rank tests for interval-censored data (``ictest``).

References (``tests/reference/interval_test/README.md``): the published printouts of
Fay & Shaw (2010) on the breast cosmesis data (``published.csv``; bcos read from
``../shared/external/survival/bcos.csv``, skipped when absent) and R values that are
equal by theory (``reference.json``, made by ``make_reference.R``).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import dryneedle_outcomes as dno
from dryneedle_outcomes.stats.survival.interval_test import interval_test, permutation_test

HERE = Path(__file__).resolve().parent / "reference" / "interval_test"
REF = json.loads((HERE / "reference.json").read_text())
PUBLISHED = pd.read_csv(HERE / "published.csv", dtype={"group": str})
BCOS = Path(__file__).resolve().parents[1] / ".." / "shared" / "external" / "survival" / \
    "bcos.csv"


def half_unit(printed: float) -> float:
    """Half a unit of the last printed digit of a number copied from the paper."""
    text = repr(float(printed)).rstrip("0")
    decimals = len(text.split(".")[1]) if "." in text else 0
    return 0.5 * 10.0 ** -decimals


def published(case: str, scores: str | float, method: str) -> pd.DataFrame:
    sel = (PUBLISHED["case"] == case) & (PUBLISHED["method"] == method)
    if isinstance(scores, str):
        sel &= PUBLISHED["scores"] == scores
    return PUBLISHED[sel]


@pytest.fixture(scope="module")
def bcos() -> pd.DataFrame:
    if not BCOS.exists():
        pytest.skip(f"breast cosmesis data not found at {BCOS} (shared external data)")
    return pd.read_csv(BCOS)


# R prints score sums to 7-8 significant digits, finer than its NPMLE is converged
# (icfit stops at epsilon = 1e-6 on the unnormalised KKT gradient; the masses, hence
# the sums, move by ~1e-7: the largest difference seen is 1.1e-7): those are compared
# at 2e-7 when that is wider than half a unit.
R_NPMLE_PRECISION = 2e-7


def check_printed(res, rows: pd.DataFrame, flip: str) -> None:
    """Compare a result with the printed numbers; R's z is the group ``flip``'s."""
    assert len(rows)
    for r in rows.itertuples():
        tol = half_unit(r.value)
        if r.quantity == "z":
            ours = -res.z if r.group == flip else res.z
        elif r.quantity == "score_sum":
            ours = float(res.table.set_index("group").loc[r.group, "score_sum"])
            tol = max(tol, R_NPMLE_PRECISION)
        else:
            ours = getattr(res, r.quantity)
        assert abs(ours - r.value) <= tol, (r.quantity, r.group, ours, r.value)


# ---------------------------------------------------------------- published (Fay & Shaw 2010)
@pytest.mark.parametrize("scores,method", [("logrank1", "pclt"), ("logrank2", "pclt"),
                                           ("wmw", "pclt"), ("logrank2", "scoretest")])
def test_two_sample_breast_cosmesis_matches_fay_shaw(bcos, scores, method):
    res = dno.interval_test(bcos["left"], bcos["right"], bcos["treatment"], scores=scores,
                            method=method)
    assert res.df == 1 and res.scores == scores and res.method == method
    check_printed(res, published("two_sample", scores, method), flip="Rad")


def test_k_sample_breast_cosmesis_matches_fay_shaw(bcos):
    fake = pd.read_csv(HERE / "bcos_fake_groups.csv")["fake_group"]
    res = interval_test(bcos["left"], bcos["right"], fake, scores="logrank1")
    assert res.df == 3 and res.z is None
    assert res.table["n"].tolist() == [24, 25, 20, 25]       # a, b, c, d as printed
    check_printed(res, published("k_sample", "logrank1", "pclt"), flip="")


def test_subset_breast_cosmesis_matches_coin_z(bcos):
    sub = bcos.iloc[np.r_[0:5, 49:65]]                       # R's c(1:5, 50:65)
    res = interval_test(sub["left"], sub["right"], sub["treatment"], scores="logrank1")
    check_printed(res, published("subset", "logrank1", "pclt"), flip="Rad")


def test_permutation_clt_matches_perm_package_on_chick_weights():
    chick = pd.read_csv(HERE / "chickweight21.csv")
    two = chick[chick["Diet"].isin([3, 4])]
    stat, df, p, z = permutation_test(two["weight"], two["Diet"])
    rows = published("chick_two", np.nan, "pclt")
    assert abs(-z - rows.loc[rows.quantity == "z", "value"].item()) <= 0.00005
    assert abs(p - rows.loc[rows.quantity == "p_value", "value"].item()) <= 0.00005
    stat, df, p, z = permutation_test(chick["weight"], chick["Diet"])
    rows = published("chick_k", np.nan, "pclt")
    assert df == 3 and z is None
    assert abs(stat - rows.loc[rows.quantity == "statistic", "value"].item()) <= 0.0005
    assert abs(p - rows.loc[rows.quantity == "p_value", "value"].item()) <= 0.00005


# ---------------------------------------------------------------- exact by theory (R)
def right_censored(frame: pd.DataFrame, event_code: int) -> tuple[np.ndarray, np.ndarray]:
    lower = frame["time"].to_numpy(dtype=float)
    return lower, np.where(frame["status"] == event_code, lower, np.inf)


@pytest.fixture(scope="module")
def aml():
    return pd.read_csv(HERE / "aml.csv")


@pytest.fixture(scope="module")
def lung():
    return pd.read_csv(HERE / "lung.csv")


@pytest.mark.parametrize("scores,key", [("logrank1", "aml_survdiff_rho0"),
                                        ("wmw", "aml_survdiff_rho1")])
def test_right_censored_score_sums_are_survdiff_observed_minus_expected(aml, scores, key):
    lower, upper = right_censored(aml, 1)
    res = interval_test(lower, upper, aml["x"], scores=scores)
    assert res.table["group"].tolist() == REF["aml_groups"]
    # pure arithmetic on the same counts: 1e-9
    np.testing.assert_allclose(res.table["score_sum"], REF[key], rtol=0, atol=1e-9)


@pytest.mark.parametrize("scores,key", [("logrank1", "lung_strat_survdiff_rho0"),
                                        ("wmw", "lung_strat_survdiff_rho1")])
def test_stratified_score_sums_are_stratified_survdiff(lung, scores, key):
    lower, upper = right_censored(lung, 2)
    res = interval_test(lower, upper, lung["ph.ecog"], scores=scores, strata=lung["sex"])
    assert res.n_strata == 2 and res.df == 2
    np.testing.assert_allclose(res.table["score_sum"], REF[key], rtol=0, atol=1e-9)


def test_sun_score_test_is_the_rao_test_of_the_logistic_hazard_model(aml, lung):
    lower, upper = right_censored(aml, 1)
    res = interval_test(lower, upper, aml["x"], scores="logrank1", method="scoretest")
    ref = REF["aml_rao_logistic"]
    # R's glm IRLS stopped at epsilon = 1e-14 on the deviance: 1e-7 relative
    assert res.statistic == pytest.approx(ref["statistic"], rel=1e-7)
    assert res.p_value == pytest.approx(ref["p_value"], rel=1e-7)
    lower, upper = right_censored(lung, 2)
    res = interval_test(lower, upper, lung["ph.ecog"], scores="logrank1",
                        method="scoretest", strata=lung["sex"])
    ref = REF["lung_strat_rao_logistic"]
    assert res.df == ref["df"] == 2
    assert res.statistic == pytest.approx(ref["statistic"], rel=1e-7)


@pytest.mark.parametrize("group,key", [("ph.ecog", "lung_dead_kruskal"),
                                       ("sex", "lung_dead_kruskal_sex")])
def test_wmw_on_exact_times_is_kruskal_wallis(lung, group, key):
    dead = lung[lung["status"] == 2]
    res = interval_test(dead["time"], dead["time"], dead[group], scores="wmw")
    ref = REF[key]
    assert res.df == ref["df"]
    assert res.statistic == pytest.approx(ref["statistic"], rel=1e-9)   # arithmetic
    assert res.p_value == pytest.approx(ref["p_value"], rel=1e-9)


# ---------------------------------------------------------------- properties and errors
def test_row_order_does_not_matter(bcos):
    order = np.random.default_rng(3).permutation(len(bcos))
    shuffled = bcos.iloc[order]
    for method in ("pclt", "scoretest"):
        a = interval_test(bcos["left"], bcos["right"], bcos["treatment"], method=method)
        b = interval_test(shuffled["left"], shuffled["right"], shuffled["treatment"],
                          method=method)
        assert b.statistic == pytest.approx(a.statistic, rel=1e-10)
        np.testing.assert_allclose(b.rank_scores, a.rank_scores[order], rtol=1e-10)


def test_scores_sum_to_zero_and_the_result_reads_like_the_log_rank(bcos):
    res = interval_test(bcos["left"], bcos["right"], bcos["treatment"])
    assert abs(res.rank_scores.sum()) < 1e-8
    assert sorted(res.keys()) == ["df", "method", "p_value", "scores", "statistic", "z"]
    assert res["p_value"] == res.p_value
    text = res.summary()
    assert "Finkelstein (1986)" in text and "chi-square = 7.2033 on 1 df" in text
    assert "<table" in res._repr_html_()
    assert res.z == pytest.approx(np.sqrt(res.statistic))   # RadChem relieved... earlier


def test_a_stratum_with_one_group_adds_nothing():
    lower = np.array([0, 2, 4, 0, 3, 5, 1, 2], dtype=float)
    upper = np.array([2, 4, 6, 3, 5, np.inf, 2, 3], dtype=float)
    group = ["a", "a", "b", "b", "a", "b", "a", "a"]
    strata = ["s1"] * 6 + ["s2"] * 2
    both = interval_test(lower, upper, group, strata=strata)
    first = interval_test(lower[:6], upper[:6], group[:6])
    assert both.statistic == pytest.approx(first.statistic, rel=1e-12)


def test_no_information_gives_p_one_with_a_warning():
    res = interval_test([0, 0, 0, 0], [5, 5, 5, 5], ["a", "b", "a", "b"])
    assert res.p_value == 1.0 and res.df == 0
    assert "no information" in res.warnings[0]


@pytest.mark.parametrize("lower,upper,group,match", [
    ([0, 5], [3, 2], ["a", "b"], "upper is below lower"),
    ([-1, 0], [3, 2], ["a", "b"], "negative"),
    ([np.nan, 0], [3, 2], ["a", "b"], "lower has 1 missing"),
    ([0, 0], [3, np.nan], ["a", "b"], "upper has 1 missing"),
    ([0, 1, 2], [3, 4, 5], ["a", "a", "a"], "only one distinct value"),
    ([0, 1, 2], [3, 4, 5], ["a", None, "b"], "group has 1 missing"),
    ([0, 1, 2], [3, 4, 5], ["a", "b"], "group has 2 values but lower has 3"),
])
def test_input_errors_name_the_problem(lower, upper, group, match):
    with pytest.raises(dno.AnalysisError, match=match):
        interval_test(lower, upper, group)


def test_unknown_options_are_refused():
    with pytest.raises(dno.AnalysisError, match="scores"):
        interval_test([0, 1], [2, 3], ["a", "b"], scores="gehan")
    with pytest.raises(dno.AnalysisError, match="method"):
        interval_test([0, 1], [2, 3], ["a", "b"], method="exact")


def test_large_cohort_is_fast():
    rng = np.random.default_rng(1)
    n = 100_000
    visits = np.array([0, 7, 14, 28, 42, 84], dtype=float)
    t = rng.exponential(30, n)
    idx = np.searchsorted(visits, t)
    lower = visits[np.clip(idx - 1, 0, 5)]
    upper = np.where(idx > 5, np.inf, visits[np.clip(idx, 0, 5)])
    lower = np.where(idx > 5, 84.0, lower)
    res = interval_test(lower, upper, rng.integers(0, 2, n), strata=rng.integers(0, 3, n),
                        method="scoretest")
    assert res.df == 1 and 0 <= res.p_value <= 1


# ---------------------------------------------------------------- time_to_relief wiring
@pytest.fixture(scope="module")
def relief_cohort():
    return dno.simulate_cohort(n_patients=84, seed=2014)


def test_time_to_relief_runs_the_engine_on_the_relief_intervals(relief_cohort):
    res = dno.time_to_relief(relief_cohort, n_boot=0, distributions=())
    ev = res.events
    direct = interval_test(ev["lower"], ev["upper"],
                           pd.Categorical(ev["arm"].astype(str), categories=res.arms))
    it = res.interval_test
    assert (it.scores, it.method) == ("logrank2", "pclt")
    assert it.statistic == pytest.approx(direct.statistic, rel=1e-12)
    assert it.z == pytest.approx(direct.z, rel=1e-12)      # second arm vs the reference
    first = res.comparison.iloc[0]
    assert first["measure"] == "score_z" and first["estimate"] == pytest.approx(it.z)
    assert first["p_value"] == pytest.approx(it.p_value)
    assert res.tests["role"].tolist() == ["primary", "secondary"]
    assert res.tests["test"].iloc[1] == "log-rank test, right-censored view (secondary)"


def test_the_summary_and_report_headline_put_the_interval_test_first(relief_cohort):
    from dryneedle_outcomes.report.relief import relief_headline

    res = dno.time_to_relief(relief_cohort, n_boot=0, distributions=())
    text = res.summary()
    primary = text.index("Interval-censored log-rank test (Finkelstein's scores, "
                         "permutation CLT), primary comparison")
    assert primary < text.index("Log-rank test, right-censored view (secondary)")
    methods = " ".join(res.methods())
    assert "Primary comparison: the generalised log-rank test" in methods
    assert "Fay & Shaw 2010" in methods and "Finkelstein's (1986)" in methods
    head = relief_headline(res)
    assert head.index("interval-censored log-rank test") < head.index(
        "log-rank, right-censored view (secondary)")
    assert "primary comparison" in res._repr_html_()


def test_right_censored_analysis_keeps_the_log_rank_primary(relief_cohort):
    res = dno.time_to_relief(relief_cohort, n_boot=0, distributions=(),
                             interval_censored=False)
    assert res.tests["role"].tolist() == ["primary", "secondary"]
    assert res.tests["test"].iloc[0] == "log-rank test"
    assert "score_z" not in set(res.comparison["measure"])
    assert "Also reported: the generalised log-rank test" in " ".join(res.methods())


def test_time_to_relief_options_and_strata(relief_cohort):
    res = dno.time_to_relief(relief_cohort, n_boot=0, distributions=(), strata="site",
                             interval_scores="wmw", interval_method="scoretest")
    it = res.interval_test
    assert (it.scores, it.method, it.n_strata) == ("wmw", "scoretest", 2)
    assert "stratified by site" in res.tests["test"].iloc[0]
    with pytest.raises(dno.AnalysisError, match="interval_scores"):
        dno.time_to_relief(relief_cohort, n_boot=0, interval_scores="gehan")
    with pytest.raises(dno.AnalysisError, match="interval_method"):
        dno.time_to_relief(relief_cohort, n_boot=0, interval_method="exact")


def test_config_keys_reach_the_analysis(tmp_path):
    from dryneedle_outcomes.config import AnalysisConfig

    (tmp_path / "a.csv").write_text("patient_id,visit\n")     # only needs to exist

    def config(table: dict):
        return AnalysisConfig.from_dict({"data": {"assessments": "a.csv"},
                                         "analysis": {"time_to_relief": table}},
                                        base_dir=tmp_path).analysis.time_to_relief

    t = config({"interval_scores": "logrank1", "interval_method": "scoretest"})
    assert (t.interval_scores, t.interval_method) == ("logrank1", "scoretest")
    default = config({})
    assert (default.interval_scores, default.interval_method) == ("logrank2", "pclt")
    with pytest.raises(dno.ConfigError, match="interval_scores"):
        config({"interval_scores": "gehan"})
