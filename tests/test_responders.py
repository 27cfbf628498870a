"""responders(): tiny cohorts with known answers, and the sample cohort against R.

Golden values: tests/reference/responders/reference.json, made by make_reference.R
from the change-from-baseline tables that export_tables.py writes (the sample cohort
and a "gappy" copy with three baselines removed). R counts the responders itself and
each reference number is stored under the R expression that produced it.

Tolerances (one per quantity):
- counts and denominators: exact;
- proportions, Wilson and Newcombe limits: 1e-9 absolute (closed-form, same formula,
  differences are rounding; the target was 1e-6);
- p-values (fisher.test, chisq.test): 1e-9 relative (the target was 1e-6);
- Newcombe (1998) Table II: the published 4-decimal limits to 5e-5.
"""

from __future__ import annotations

import importlib.util
import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import dryneedle_outcomes as dno
from dryneedle_outcomes.errors import AnalysisError
from dryneedle_outcomes.responders import (
    RespondersResult,
    number_needed_to_treat,
    responders,
)
from dryneedle_outcomes.stats.intervals import newcombe_difference

REF_DIR = Path(__file__).parent / "reference" / "responders"
REF = json.loads((REF_DIR / "reference.json").read_text())
_spec = importlib.util.spec_from_file_location("export_tables", REF_DIR / "export_tables.py")
export_tables = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(export_tables)

# Wilson / Newcombe / Clopper-Pearson limits are closed form or beta quantiles (scipy's
# special functions, ~1e-14): 1e-9 absolute on probabilities.
ABS = 1e-9
P_RTOL = 1e-9


# ---------------------------------------------------------------------- tiny cohorts
def tiny(scores: dict[str, tuple[str, list]], outcome: str = "first_step_pain") -> dno.Cohort:
    """Cohort from {patient: (arm, [value at visit 0, 1, ...])}; None = no record."""
    patients = pd.DataFrame({"patient_id": list(scores),
                             "arm": [arm for arm, _ in scores.values()]})
    rows = []
    for pid, (_, values) in scores.items():
        for visit, value in enumerate(values):
            if value is None:
                continue
            rows.append({"patient_id": pid, "visit": visit, outcome: float(value)})
    a = pd.DataFrame(rows)
    for col in ("first_step_pain", "vas_pain"):
        if col not in a:
            a[col] = 50.0
    return dno.load_cohort(a, patients)


def row(res, arm, visit):
    t = res.table
    return t[(t["arm"] == arm) & (t["visit"] == visit)].iloc[0]


def test_all_responders_and_none():
    c = tiny({"a1": ("dry_needling", [80, 50]), "a2": ("dry_needling", [70, 40]),
              "s1": ("sham", [80, 79]), "s2": ("sham", [70, 70])})
    res = responders(c)
    assert isinstance(res, RespondersResult)
    dn, sh = row(res, "dry_needling", 1), row(res, "sham", 1)
    assert (dn["n_responders"], dn["denominator"], dn["estimate"]) == (2, 2, 1.0)
    assert (sh["n_responders"], sh["denominator"], sh["estimate"]) == (0, 2, 0.0)
    assert dn["ci_upper"] == 1.0 and sh["ci_lower"] == 0.0      # R's exact ends
    d = res.comparison.iloc[0]
    assert d["estimate"] == 1.0 and d["reference"] == "sham"
    assert d["nnt"] == 1.0 and d["nnt_label"] == "NNTB 1"
    assert d["p_value"] == pytest.approx(1 / 3)                   # fisher.test, 2x2 of 2+2


def test_everyone_responds_in_both_arms_gives_infinite_nnt():
    c = tiny({"a1": ("dry_needling", [80, 50]), "s1": ("sham", [80, 50])})
    d = responders(c).comparison.iloc[0]
    assert d["estimate"] == 0 and np.isinf(d["nnt"]) and d["nnt_label"] == "NNT infinity"
    assert d["nnt_ci_label"].startswith("NNTB") and "infinity to NNTH" in d["nnt_ci_label"]
    assert np.isnan(responders(c, test="chisq").comparison.iloc[0]["p_value"])


def test_missing_visits_under_both_rules():
    c = tiny({"a1": ("dry_needling", [80, 50, 50]), "a2": ("dry_needling", [80, None, 50]),
              "a3": ("dry_needling", [80, 75, None]),
              "s1": ("sham", [80, 79, 60]), "s2": ("sham", [70, 40, 40])})
    obs = responders(c, missing="observed")
    nri = responders(c)                            # the default: non-responder imputation
    # visit 1, dry needling: a1 responds, a2 missing, a3 does not
    r = row(obs, "dry_needling", 1)
    assert (r["n_responders"], r["n_missing"], r["denominator"]) == (1, 1, 2)
    r = row(nri, "dry_needling", 1)
    assert (r["n_responders"], r["n_missing"], r["denominator"]) == (1, 1, 3)
    assert r["estimate"] == pytest.approx(1 / 3)
    # visit 2: a1, a2 respond, a3 missing
    assert row(obs, "dry_needling", 2)[["n_responders", "denominator"]].tolist() == [2, 2]
    assert row(nri, "dry_needling", 2)[["n_responders", "denominator"]].tolist() == [2, 3]
    assert any("observed cases" in n for n in obs.notes)
    assert any("non-responder imputation" in n for n in nri.notes)


def test_patients_without_baseline_are_reported_never_responders():
    c = tiny({"a1": ("dry_needling", [80, 50]), "a2": ("dry_needling", [None, 10]),
              "s1": ("sham", [80, 79])})
    for missing in ("observed", "non_responder"):
        res = responders(c, missing=missing)
        r = row(res, "dry_needling", 1)
        assert (r["n_responders"], r["denominator"]) == (1, 1)
        assert res.excluded["patient_id"].tolist() == ["a2"]
        assert any("1 patient(s) without a baseline" in n and "dry_needling: 1" in n
                   for n in res.notes)


def test_higher_is_better_instrument_scores_going_up_respond():
    c = tiny({"a1": ("dry_needling", [40, 60]),      # +20: responder (MCID 13)
              "a2": ("dry_needling", [40, 53]),      # +13: responder (tie)
              "a3": ("dry_needling", [40, 50]),      # +10: not
              "s1": ("sham", [60, 40]),              # worse: not
              "s2": ("sham", [50, 52])}, outcome="fhsq_pain")
    res = responders(c, "fhsq_pain")
    assert row(res, "dry_needling", 1)["n_responders"] == 2
    assert row(res, "sham", 1)["n_responders"] == 0
    # absolute threshold: >= for a higher-is-better scale
    res = responders(c, "fhsq_pain", threshold=52)
    assert row(res, "dry_needling", 1)["n_responders"] == 2
    assert row(res, "sham", 1)["n_responders"] == 1
    assert "fhsq_pain >= 52" in res.definition


def test_cut_offs_are_inclusive_and_float_safe():
    assert 80.1 - 61.1 < 19                          # 18.999999999999993 in binary
    c = tiny({"a1": ("dry_needling", [80.1, 61.1]),  # improvement 19: a responder (MCID 19)
              "a2": ("dry_needling", [50, 35]),      # exactly 30% reduction
              "a3": ("dry_needling", [50, 36]),      # 28%
              "s1": ("sham", [60.3, 20.0])})
    assert row(responders(c), "dry_needling", 1)["n_responders"] == 1
    assert row(responders(c, mcid=15), "dry_needling", 1)["n_responders"] == 2
    assert row(responders(c, percent_reduction=30), "dry_needling", 1)["n_responders"] == 1
    assert row(responders(c, threshold=35), "dry_needling", 1)["n_responders"] == 1
    assert row(responders(c, threshold=20), "sham", 1)["n_responders"] == 1


def test_mcid_argument_and_default():
    c = tiny({"a1": ("dry_needling", [80, 70]), "s1": ("sham", [80, 80])})
    assert row(responders(c), "dry_needling", 1)["n_responders"] == 0           # 10 < 19
    assert row(responders(c, mcid=True), "dry_needling", 1)["n_responders"] == 0
    assert row(responders(c, mcid=10), "dry_needling", 1)["n_responders"] == 1
    res = responders(c, "vas_pain")
    assert "8 mm" in res.definition


def test_reference_arm_and_three_arms():
    c = tiny({"a1": ("dry_needling", [80, 50]), "b1": ("placebo", [80, 80]),
              "c1": ("stretching", [80, 50])})
    res = responders(c)
    assert res.reference_arm == "placebo"
    assert res.comparison["arm"].tolist() == ["dry_needling", "stretching"]
    res = responders(c, reference_arm="stretching")
    assert set(res.comparison["arm"]) == {"dry_needling", "placebo"}
    assert res.comparison.set_index("arm").loc["placebo", "estimate"] == -1.0
    assert res.comparison.set_index("arm").loc["placebo", "nnt_label"] == "NNTH 1"


@pytest.mark.parametrize("kwargs, match", [
    ({"mcid": 10, "threshold": 20}, "one responder definition"),
    ({"percent_reduction": 0}, r"\(0, 100\]"),
    ({"threshold": 150}, "outside the range"),
    ({"mcid": -3}, "positive"),
    ({"missing": "locf"}, "missing must be"),
    ({"test": "t"}, "test must be"),
    ({"reference_arm": "nope"}, "not an arm"),
    ({"visits": [0, 1]}, "post-baseline"),
    ({"visits": [1, 5]}, r"no value of first_step_pain at visit\(s\) \[5\]"),
    ({"definition": dno.Relief(mcid=True, sustained=True)}, "time course"),
    ({"definition": dno.Relief(mcid=True), "threshold": 20}, "definition= and threshold="),
    ({"definition": {"mcid": True}}, "definition must be a dno.Relief"),
])
def test_argument_errors(kwargs, match):
    c = tiny({"a1": ("dry_needling", [80, 50]), "s1": ("sham", [80, 80])})
    with pytest.raises(AnalysisError, match=match):
        responders(c, **kwargs)


def test_single_arm_cohort_and_visit_selection():
    c = tiny({"a1": ("clinic", [80, 50, 40]), "a2": ("clinic", [80, 75, 40])})
    res = responders(c, visits=[2])
    assert res.table[["visit", "n_responders", "denominator"]].values.tolist() == [[2, 2, 2]]
    assert res.comparison.empty and res.reference_arm == "clinic"
    assert "Clinic" in res.summary() and len(res.plot().containers) == 1


def test_instrument_without_mcid_asks_for_a_definition():
    c = tiny({"a1": ("dry_needling", [8, 5]), "s1": ("sham", [8, 8])}, outcome="pain_nrs")
    with pytest.raises(AnalysisError, match="percent_reduction=30"):
        responders(c, "pain_nrs")
    res = responders(c, "pain_nrs", percent_reduction=30)
    assert row(res, "dry_needling", 1)["n_responders"] == 1


# ---------------------------------------------------------------------- NNT (Altman 1998)
def test_nnt_wording():
    t = number_needed_to_treat([0.25, -0.2, 0.1, -0.1, 0.1],
                               [0.1, -0.3, -0.05, -0.25, 0.0],
                               [0.4, -0.1, 0.25, 0.05, 0.2])
    # whole numbers rounded up (Cochrane Handbook 15.4.4); decimals in nnt_ci_*
    assert t["nnt_label"].tolist() == ["NNTB 4", "NNTH 5", "NNTB 10", "NNTH 10", "NNTB 10"]
    assert t["nnt_ci_label"].tolist() == [
        "NNTB 3 to 10", "NNTH 4 to 10", "NNTB 4 to infinity to NNTH 20",
        "NNTB 20 to infinity to NNTH 4", "NNTB 5 to infinity"]
    assert t["nnt_ci_lower"].iloc[0] == 2.5 and t["nnt_ci_upper"].iloc[0] == 10.0
    # crossing zero: limits of opposite signs, lower > upper
    assert t["nnt_ci_lower"].iloc[2] == pytest.approx(4.0)
    assert t["nnt_ci_upper"].iloc[2] == pytest.approx(-20.0)


def test_nnt_in_result_when_rd_ci_crosses_zero():
    c = tiny({"a1": ("dry_needling", [80, 50]), "a2": ("dry_needling", [80, 79]),
              "s1": ("sham", [80, 79]), "s2": ("sham", [80, 79])})
    d = responders(c).comparison.iloc[0]
    assert d["ci_lower"] < 0 < d["ci_upper"]
    assert d["nnt_label"] == "NNTB 2"
    assert d["nnt_ci_label"] == (f"NNTB {int(np.ceil(1 / d['ci_upper']))} to infinity to "
                                 f"NNTH {int(np.ceil(-1 / d['ci_lower']))}")


# ---------------------------------------------------------------------- against R
@pytest.fixture(scope="module")
def cohorts(sample_cohort):
    return {"sample": sample_cohort, "gappy": export_tables.gappy_cohort()}


KIND_ARG = {"mcid": "mcid", "percent_reduction": "percent_reduction", "threshold": "threshold"}


@pytest.mark.parametrize("case", sorted(REF["cases"]))
def test_against_r(cohorts, case):
    ref = REF["cases"][case]
    call = ref["call"]
    cohort = cohorts[call.get("data", "sample")]
    res = responders(cohort, call["outcome"], **{KIND_ARG[call["kind"]]: call["cut"]},
                     missing=call["missing"], conf_level=call["conf_level"])
    assert len(res.excluded) == ref["sum(!patients$patient_id %in% has_base)"]
    p = ref["proportions"]
    t = res.table
    assert t["arm"].tolist() == p["arm"]
    assert t["visit"].tolist() == p["visit"]
    assert t["n_responders"].tolist() == p["sum(responder)"]
    assert t["denominator"].tolist() == p["denominator"]
    np.testing.assert_allclose(t["estimate"], p["estimate"], rtol=0, atol=ABS)
    np.testing.assert_allclose(t["ci_lower"], p["prop.test(x, n, correct = FALSE)$conf.int[1]"],
                               rtol=0, atol=ABS)
    np.testing.assert_allclose(t["ci_upper"], p["prop.test(x, n, correct = FALSE)$conf.int[2]"],
                               rtol=0, atol=ABS)
    d = ref["difference"]
    ours = res.comparison
    assert ours["visit"].tolist() == d["visit"]
    np.testing.assert_allclose(ours["estimate"], d["estimate"], rtol=0, atol=ABS)
    np.testing.assert_allclose(ours["ci_lower"], d["newcombe(x1, n1, x2, n2)[1]"], rtol=0,
                               atol=ABS)
    np.testing.assert_allclose(ours["ci_upper"], d["newcombe(x1, n1, x2, n2)[2]"], rtol=0,
                               atol=ABS)
    np.testing.assert_allclose(ours["p_value"], d["fisher.test(tab)$p.value"], rtol=P_RTOL)
    chisq = responders(cohort, call["outcome"], **{KIND_ARG[call["kind"]]: call["cut"]},
                       missing=call["missing"], conf_level=call["conf_level"], test="chisq")
    r_chi = np.array([np.nan if v is None else v
                      for v in d["chisq.test(tab, correct = FALSE)$p.value"]], dtype=float)
    np.testing.assert_allclose(chisq.comparison["p_value"], r_chi, rtol=P_RTOL)


def test_newcombe_table_ii():
    ex = REF["newcombe_table2"]
    lo, hi = newcombe_difference(ex["x1"], ex["n1"], ex["x2"], ex["n2"])
    np.testing.assert_allclose(lo, ex["newcombe(x1, n1, x2, n2)[1]"], rtol=0, atol=ABS)
    np.testing.assert_allclose(hi, ex["newcombe(x1, n1, x2, n2)[2]"], rtol=0, atol=ABS)
    np.testing.assert_allclose(lo, ex["published_lower"], rtol=0, atol=5e-5)
    np.testing.assert_allclose(hi, ex["published_upper"], rtol=0, atol=5e-5)


def test_sample_headline(cohorts):
    res = responders(cohorts["sample"], missing="observed")
    v6 = res.table[res.table["visit"] == 6].set_index("arm")
    # counts checked by hand with pandas (improvement >= 19 mm at visit 6, observed cases)
    assert v6.loc["dry_needling", ["n_responders", "denominator"]].tolist() == [28, 38]
    assert v6.loc["sham", ["n_responders", "denominator"]].tolist() == [18, 40]
    d = res.comparison.set_index("visit").loc[6]
    # NNT 3.5 (CI 2.1 to 14.6; the Newcombe limits are checked against R in
    # test_against_r) printed as whole numbers rounded up
    assert d["nnt_label"] == "NNTB 4" and d["nnt_ci_label"] == "NNTB 3 to 15"
    assert d["nnt_ci_lower"] == pytest.approx(2.1, abs=0.05)
    assert d["nnt_ci_upper"] == pytest.approx(14.6, abs=0.05)
    nri = responders(cohorts["sample"])        # the default estimand: composite
    v6 = nri.table[nri.table["visit"] == 6].set_index("arm")
    assert v6.loc["dry_needling", ["n_responders", "denominator"]].tolist() == [28, 42]
    assert v6.loc["sham", ["n_responders", "denominator"]].tolist() == [18, 42]


# ---------------------------------------------------------------------- renderings
def test_renderings_contain_the_numbers(cohorts):
    res = responders(cohorts["sample"], missing="observed")
    md, tex, htm, txt = res.to_markdown(), res.to_latex(), res.to_html(), res.summary()
    for text in (md, htm, txt):
        assert "73.7%" in text and "45.0%" in text      # visit 6: 28/38 and 18/40
        assert "NNTB 3 to 15" in text
        assert "Wilson" in text and "Newcombe" in text and "Hedges" in text
    assert r"73.7\%" in tex and r"\begin{tabular}" in tex and "NNTB 4" in tex
    assert "<table" in res._repr_html_()


# ---------------------------------------------------------------------- the figure
def test_plot_draws_one_errorbar_series_per_arm(cohorts):
    import matplotlib.pyplot as plt

    res = responders(cohorts["sample"], missing="observed")
    fig, ax = plt.subplots()
    out = res.plot(ax=ax)
    assert out is ax
    containers = ax.containers
    assert len(containers) == 2
    n_visits = res.table["visit"].nunique()
    for container, arm in zip(containers, ["dry_needling", "sham"]):
        line, _caps, (bars,) = container
        sub = res.table[res.table["arm"] == arm]
        np.testing.assert_allclose(line.get_ydata(), 100 * sub["estimate"])
        assert len(line.get_xdata()) == n_visits
        segments = bars.get_segments()
        assert len(segments) == n_visits
        np.testing.assert_allclose([s[0][1] for s in segments], 100 * sub["ci_lower"])
        np.testing.assert_allclose([s[1][1] for s in segments], 100 * sub["ci_upper"])
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["Dry needling", "Sham"]


def test_plot_on_new_axes_without_warnings():
    c = dno.simulate_cohort(n_patients=30, seed=3)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ax = responders(c, missing="non_responder").plot()
    assert len(ax.containers) == 2


@pytest.mark.parametrize("relief, kwargs", [
    (dno.Relief(percent_reduction=50), {"percent_reduction": 50}),
    (dno.Relief(threshold=20), {"threshold": 20}),
    (dno.Relief(mcid=True), {}),
    (dno.Relief(mcid=25), {"mcid": 25}),
])
def test_one_definition_object_serves_responders_and_time_to_relief(relief, kwargs):
    """``definition=dno.Relief(...)`` is the same responder as the keyword it stands for."""
    cohort = dno.simulate_cohort(n_patients=30, seed=5)
    by_object = responders(cohort, definition=relief)
    by_keyword = responders(cohort, **kwargs)
    pd.testing.assert_frame_equal(by_object.table, by_keyword.table)
    assert by_object.definition == by_keyword.definition == relief.describe("first_step_pain")


@pytest.mark.parametrize("kwargs, match", [
    ({"percent_reduction": 120}, r"percent_reduction=\.\.\.\) must be in \(0, 100\]"),
    ({"mcid": -2}, r"mcid=\.\.\.\) must be a positive improvement"),
    ({"mcid": "x"}, r"mcid=\.\.\.\) must be a number"),
])
def test_relief_and_responders_reject_a_definition_with_the_same_rule(kwargs, match):
    c = tiny({"a1": ("dry_needling", [80, 50]), "s1": ("sham", [80, 80])})
    with pytest.raises(AnalysisError, match="Relief\\(" + match):
        dno.Relief(**kwargs)
    bare = match.replace("=\\.\\.\\.\\)", "")
    with pytest.raises(AnalysisError, match=bare):
        responders(c, **kwargs)
