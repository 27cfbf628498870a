"""Harms: adverse-event rates, comparisons, dose-response GEE, protocol deviations, plot.

Golden values: tests/reference/harms/reference.json, made by make_reference.R from
the canonical tables and our counts that export_harms_tables.py writes (the sample cohort
and an "edge" cohort with planted events). Every reference number is stored under
the R expression that produced it.

Tolerances, once per quantity:
- exact and score intervals (binom.test, prop.test, poisson.test, Newcombe from
  prop.test): 1e-6 relative (both sides invert the same beta/gamma/quadratic; agreement
  is ~1e-12 in practice); absolute 1e-12 for limits that are exactly 0;
- Fisher and conditional Poisson p-values: 1e-6 relative (the same sums of
  hypergeometric/binomial probabilities, ties resolved with the same 1e-7 rule);
- GEE coefficients, robust standard errors, exchangeable correlation and p-values:
  1e-6 relative (statsmodels with ddof_scale=0 solves geepack's estimating equations
  with its moment estimator of the correlation; both converged to 1e-10 or better);
- counts: exact.
"""

from __future__ import annotations

import importlib.util
import json
import math
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import dryneedle_outcomes as dno
from dryneedle_outcomes.errors import AnalysisError, ConvergenceWarning
from dryneedle_outcomes.harms import (
    AdverseEventRates,
    DoseResponse,
    ProtocolDeviations,
    adverse_event_rates,
    dose_response,
    event_listing,
    protocol_deviations,
)
from dryneedle_outcomes.harms.compare import fisher_p, rate_ratio_p
from dryneedle_outcomes.plots.harms import plot_adverse_events
from dryneedle_outcomes.stats.intervals import (
    clopper_pearson,
    newcombe_difference,
    poisson_exact,
    poisson_rate_ratio,
    risk_ratio,
    wilson,
)
from dryneedle_outcomes.tables import TableResult

REF_DIR = Path(__file__).parent / "reference" / "harms"
REF = json.loads((REF_DIR / "reference.json").read_text())
_spec = importlib.util.spec_from_file_location("export_harms_tables",
                                               REF_DIR / "export_harms_tables.py")
export_harms_tables = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(export_harms_tables)

# Rates, exact CIs and tests are closed form; the dose-response GEE (statsmodels, ctol 1e-10
# on the parameter change) and R's geeglm (geese.control(epsilon = 1e-12)) stop by their
# own rules, each a parameter change far below 1e-6 relative: RTOL covers both margins.
RTOL = 1e-6
ATOL_ZERO = 1e-12
PINNED = ["arm", "term", "count", "denominator", "estimate", "ci_lower", "ci_upper", "per"]
KEYS = ["arm", "group", "term"]
COUNT_COLUMNS = ["count", "denominator", "n_events", "n_with_event"]


def num(values):
    return np.array([np.nan if v is None else v for v in values], dtype=float)


def close(ours, theirs, what, rtol=RTOL):
    np.testing.assert_allclose(np.asarray(ours, dtype=float), num(theirs), rtol=rtol,
                               atol=ATOL_ZERO, equal_nan=True, err_msg=what)


@pytest.fixture(scope="module")
def cohorts(sample_cohort):
    return {name: sample_cohort if name == "sample" else make()
            for name, make in export_harms_tables.COHORTS.items()}


# ============================================================ against R
@pytest.mark.parametrize("dataset", ["sample", "edge"])
@pytest.mark.parametrize("per", ["patient", "session", "100_needles"])
def test_counts_recounted_by_r(cohorts, dataset, per):
    """R recounts from the canonical tables with its own code: every count agrees."""
    ours = adverse_event_rates(cohorts[dataset], per, by="all").table
    theirs = pd.DataFrame(REF["datasets"][dataset]["recount"][per])
    merged = ours.merge(theirs, on=KEYS, how="outer", suffixes=("", "_r"), indicator=True)
    assert (merged["_merge"] == "both").all(), merged.loc[merged["_merge"] != "both", KEYS]
    for col in COUNT_COLUMNS:
        np.testing.assert_array_equal(merged[col].to_numpy(float),
                                      merged[f"{col}_r"].to_numpy(float), err_msg=col)


@pytest.mark.parametrize("dataset", ["sample", "edge"])
@pytest.mark.parametrize("per", ["patient", "session", "100_needles"])
def test_exported_counts_are_current(cohorts, dataset, per):
    """The counts R computed intervals on are the ones the package computes today."""
    ours = adverse_event_rates(cohorts[dataset], per, by="all").table
    exported = pd.read_csv(REF_DIR / f"{dataset}_counts_{per}.csv")
    pd.testing.assert_frame_equal(ours[exported.columns].reset_index(drop=True), exported,
                                  check_dtype=False)


@pytest.mark.parametrize("dataset", ["sample", "edge"])
@pytest.mark.parametrize("per", ["patient", "session"])
def test_clopper_pearson_equals_binom_test(cohorts, dataset, per):
    ref = REF["datasets"][dataset]["intervals"][per]
    t = adverse_event_rates(cohorts[dataset], per, by="all").table
    close(t["ci_lower"], ref["binom.test(x, n)$conf.int"]["lower"], "lower")
    close(t["ci_upper"], ref["binom.test(x, n)$conf.int"]["upper"], "upper")
    t90 = adverse_event_rates(cohorts[dataset], per, by="all", conf_level=0.9).table
    close(t90["ci_lower"], ref["binom.test(x, n, conf.level = 0.9)$conf.int"]["lower"], "90%")
    close(t90["ci_upper"], ref["binom.test(x, n, conf.level = 0.9)$conf.int"]["upper"], "90%")
    lo, hi = wilson(t["count"], t["denominator"])
    close(lo, ref["prop.test(x, n, correct = FALSE)$conf.int"]["lower"], "wilson lower")
    close(hi, ref["prop.test(x, n, correct = FALSE)$conf.int"]["upper"], "wilson upper")


@pytest.mark.parametrize("dataset", ["sample", "edge"])
def test_per_needle_interval_equals_poisson_test(cohorts, dataset):
    ref = REF["datasets"][dataset]["intervals"]["100_needles"]["poisson.test(x, T)$conf.int"]
    t = adverse_event_rates(cohorts[dataset], "100_needles", by="all").table
    close(t["ci_lower"] / 100, ref["lower"], "lower")
    close(t["ci_upper"] / 100, ref["upper"], "upper")
    assert t.loc[t["denominator"] == 0, "estimate"].isna().all()


@pytest.mark.parametrize("dataset", ["sample", "edge"])
@pytest.mark.parametrize("per", ["patient", "session"])
def test_comparison_against_r(cohorts, dataset, per):
    ref = REF["datasets"][dataset]["comparison"][per]
    rates = adverse_event_rates(cohorts[dataset], per, by="all", p_values=True,
                                risk_ratio=True)
    keys = pd.DataFrame({k: ref[k] for k in KEYS})
    c = rates.comparison
    rd = keys.merge(c[c["measure"] == "risk_difference"], on=KEYS, how="left")
    rr = keys.merge(c[c["measure"] == "risk_ratio"], on=KEYS, how="left")
    assert (rd["reference"] == "sham").all()
    close(rd["p_value"], ref["fisher.test(matrix(c(x1, x2, n1 - x1, n2 - x2), 2))$p.value"],
          "fisher")
    close(rd["ci_lower"], ref["newcombe"]["lower"], "newcombe lower")
    close(rd["ci_upper"], ref["newcombe"]["upper"], "newcombe upper")
    close(rr["estimate"], ref["risk_ratio"]["estimate"], "rr")
    close(rr["ci_lower"], ref["risk_ratio"]["lower"], "rr lower")
    close(rr["ci_upper"], ref["risk_ratio"]["upper"], "rr upper")


@pytest.mark.parametrize("dataset", ["sample", "edge"])
def test_last_session_as_r_finds_it(cohorts, dataset):
    rates = adverse_event_rates(cohorts[dataset], "session")
    assert rates.extra["last_session"] == REF["datasets"][dataset]["last_session"]


@pytest.mark.parametrize("dataset", ["sample", "edge"])
def test_dose_response_against_geepack(cohorts, dataset):
    ref = REF["datasets"][dataset]["gee"]
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        dr = dose_response(cohorts[dataset])
    assert dr.converged
    assert list(dict.fromkeys(dr.table["term"])) == list(ref["needled_only"])
    for term, r in ref["needled_only"].items():
        cf = dr.coefficients[dr.coefficients["term"] == term]
        close(cf["coefficient"], r["coef(m)"], f"{term} coef")
        close(cf["std_error"], r['summary(m)$coefficients[, "Std.err"]'], f"{term} se")
        close(cf["p_value"], r['summary(m)$coefficients[, "Pr(>|W|)"]'], f"{term} p")
        row = dr.table[dr.table["term"] == term].iloc[0]
        assert math.isclose(row["correlation"], r["summary(m)$corr$Estimate"], rel_tol=RTOL)
        assert (row["n_appointments"], row["n_events"], row["n_patients"]) == (
            r["nobs"], r["n_events"], r["n_patients"])
    r = ref["all_appointments"]["any"]
    dr = dose_response(cohorts[dataset], terms="any", needled_only=False)
    close(dr.coefficients["coefficient"], r["coef(m)"], "all appointments coef")
    close(dr.coefficients["std_error"], r['summary(m)$coefficients[, "Std.err"]'], "se")
    assert dr.table["n_appointments"].iloc[0] == r["nobs"]


def test_interval_grids_against_r():
    g = REF["binom_grid"]
    lo, hi = clopper_pearson(g["x"], g["n"])
    close(lo, g["binom.test(x, n)$conf.int"]["lower"], "cp lower")
    close(hi, g["binom.test(x, n)$conf.int"]["upper"], "cp upper")
    lo, hi = clopper_pearson(g["x"], g["n"], conf_level=0.99)
    close(lo, g["binom.test(x, n, conf.level = 0.99)$conf.int"]["lower"], "cp99 lower")
    close(hi, g["binom.test(x, n, conf.level = 0.99)$conf.int"]["upper"], "cp99 upper")
    lo, hi = wilson(g["x"], g["n"])
    close(lo, g["prop.test(x, n, correct = FALSE)$conf.int"]["lower"], "wilson lower")
    close(hi, g["prop.test(x, n, correct = FALSE)$conf.int"]["upper"], "wilson upper")
    g = REF["poisson_grid"]
    lo, hi = poisson_exact(g["x"], g["T"])
    close(lo, g["poisson.test(x, T)$conf.int"]["lower"], "poisson lower")
    close(hi, g["poisson.test(x, T)$conf.int"]["upper"], "poisson upper")


def test_rate_ratio_and_fisher_grids_against_r():
    g = REF["poisson_two_sample"]
    est, lo, hi = poisson_rate_ratio(g["x1"], g["T1"], g["x2"], g["T2"])
    key = "poisson.test(c(x1, x2), c(T1, T2))"
    close(est, [np.inf if v is None else v for v in g[f"{key}$estimate"]], "rate ratio")
    close(lo, g[f"{key}$conf.int"]["lower"], "rr lower")
    close(hi, [np.inf if v is None else v for v in g[f"{key}$conf.int"]["upper"]], "rr upper")
    p = [rate_ratio_p(*v) for v in zip(g["x1"], g["T1"], g["x2"], g["T2"], strict=True)]
    close(p, g[f"{key}$p.value"], "rate ratio p")
    g = REF["fisher_grid"]
    p = [fisher_p(*v) for v in zip(g["x1"], g["n1"], g["x2"], g["n2"], strict=True)]
    close(p, g["fisher.test(matrix(c(x1, x2, n1 - x1, n2 - x2), 2))$p.value"], "fisher")


def test_newcombe_published_examples():
    ex = REF["newcombe_examples"]
    lo, hi = newcombe_difference(ex["x1"], ex["n1"], ex["x2"], ex["n2"])
    computed = ex["newcombe(x1, n1, x2, n2) from prop.test(correct = FALSE)$conf.int"]
    close(lo, computed["lower"], "newcombe lower vs R")
    close(hi, computed["upper"], "newcombe upper vs R")
    for i, label in enumerate("abcdef"):
        if label in ex["not_reproduced"]:
            continue
        assert round(float(lo[i]), 4) == ex["quoted"]["lower"][i], label
        assert round(float(hi[i]), 4) == ex["quoted"]["upper"][i], label
    # (c) 6/7 - 2/7 from the definition: Wilson 6/7 = (0.48687, 0.97432), 2/7 =
    # (0.08221, 0.64105); 4/7 -+ sqrt(...) = 0.0582, 0.8062 (not the 0.0342, 0.8210 quoted)
    assert (round(float(lo[2]), 4), round(float(hi[2]), 4)) == (0.0582, 0.8062)


# ============================================================ a tiny cohort, counted by hand
def tiny_cohort(**extra_patients) -> dno.Cohort:
    """Three needled patients, two sham; sessions at visits 1-2, follow-up at visit 3.

    D1 has recurrent events (two bruises at visit 1, soreness at visit 2); D2 bleeds at
    visit 2, when not needled (0 needles), and has an event at baseline; D3 is pregnant,
    misses visit 2 and has a serious infection at follow-up; the sham arm has no events.
    """
    patients = pd.DataFrame({"patient_id": ["D1", "D2", "D3", "S1", "S2"],
                             "arm": ["dry_needling"] * 3 + ["sham"] * 2,
                             "pregnant": [False, False, True, False, False],
                             "immunocompromised": [False] * 5, **extra_patients})
    a = pd.DataFrame([
        ("D1", 0, False, 0, 0), ("D1", 1, True, 5, 2), ("D1", 2, True, 4, 1),
        ("D1", 3, False, 0, 0),
        ("D2", 0, False, 0, 0), ("D2", 1, True, 6, 3), ("D2", 2, False, 0, 0),
        ("D2", 3, False, 0, 0),
        ("D3", 0, False, 0, 0), ("D3", 1, True, 3, 0), ("D3", 3, False, 0, 0),
        ("S1", 0, False, 0, 0), ("S1", 1, False, 0, 0), ("S1", 2, False, 0, 0),
        ("S1", 3, False, 0, 0),
        ("S2", 0, False, 0, 0), ("S2", 1, False, 0, 0), ("S2", 2, False, 0, 0),
    ], columns=["patient_id", "visit", "needled", "needles", "twitch_responses"])
    a["first_step_pain"] = 60.0
    ev = pd.DataFrame([
        ("D1", 1, "bruising", "bruise calf", "mild", False),
        ("D1", 1, "bruising", "second bruise", "mild", False),
        ("D1", 2, "post_needling_soreness", "sore calf", "moderate", False),
        ("D2", 2, "bleeding", "=1+1 bleeding", "mild", False),
        ("D2", 0, "other", "headache before needling", "mild", False),
        ("D3", 3, "infection", "infected site", "severe", True),
    ], columns=["patient_id", "visit", "term", "verbatim", "severity", "serious"])
    with pytest.warns(dno.DataQualityWarning, match="pregnant"):  # D3: pregnant, needled
        return dno.load_cohort(a, patients, ev)


@pytest.fixture
def tiny():
    return tiny_cohort()


def row(rates, arm, term):
    t = rates.table
    hit = t[(t["arm"] == arm) & (t["term"] == term)]
    assert len(hit) == 1, (arm, term)
    return hit.iloc[0]


def test_pinned_columns(tiny):
    for per in ("patient", "session", "100_needles"):
        rates = adverse_event_rates(tiny, per)
        assert isinstance(rates, AdverseEventRates) and isinstance(rates, TableResult)
        assert list(rates.table.columns[:9]) == ["arm", "group", "term", "per", "count",
                                                 "denominator", "estimate", "ci_lower",
                                                 "ci_upper"]
        assert set(PINNED + ["n_events", "n_with_event"]) <= set(rates.table.columns)
        assert (rates.table["per"] == per).all() and rates.per == per
        assert rates.table.loc[rates.table["group"] == "any", "term"].eq("any").all()


def test_per_patient_by_hand(tiny):
    r = adverse_event_rates(tiny, "patient", by="all")
    expected = {  # term: (participants with event, events) in dry_needling, of 3
        "any": (3, 5), "bruising": (1, 2), "post_needling_soreness": (1, 1),
        "bleeding": (1, 1), "infection": (1, 1), "other": (0, 0), "vasovagal": (0, 0),
        "mild": (2, 3), "moderate": (1, 1), "severe": (1, 1), "serious": (1, 1)}
    for term, (n_with, n_events) in expected.items():
        x = row(r, "dry_needling", term)
        assert (x["count"], x["n_with_event"], x["n_events"], x["denominator"]) == (
            n_with, n_with, n_events, 3), term
        assert x["estimate"] == pytest.approx(n_with / 3)
        lo, hi = clopper_pearson(n_with, 3)
        assert (x["ci_lower"], x["ci_upper"]) == pytest.approx((float(lo), float(hi)))
    sham = r.table[r.table["arm"] == "sham"]
    assert (sham["count"] == 0).all() and (sham["denominator"] == 2).all()
    assert sham["ci_lower"].eq(0).all()
    assert sham["ci_upper"].to_numpy() == pytest.approx(1 - 0.025 ** 0.5)  # 0 of 2
    assert any("all randomised participants" in n for n in r.notes)
    assert any("1 at visit 0" in n for n in r.notes)


def test_per_session_by_hand(tiny):
    r = adverse_event_rates(tiny, "session", by="all")
    # DN appointments at visits 1-2: D1v1, D1v2, D2v1, D2v2, D3v1 (D3 missed visit 2)
    x = row(r, "dry_needling", "any")
    assert (x["count"], x["denominator"], x["n_events"]) == (3, 5, 4)
    x = row(r, "dry_needling", "bruising")            # two bruises, one appointment
    assert (x["count"], x["n_with_event"], x["n_events"]) == (1, 1, 2)
    x = row(r, "dry_needling", "bleeding")            # at an appointment with 0 needles
    assert (x["count"], x["denominator"]) == (1, 5)
    assert row(r, "dry_needling", "infection")["count"] == 0   # at follow-up: per patient only
    x = row(r, "sham", "any")                          # sham appointments are appointments
    assert (x["count"], x["denominator"]) == (0, 4)
    assert r.extra["last_session"] == 2
    assert any("visits 1..2" in n for n in r.notes)
    assert any("1 after visit 2" in n for n in r.notes)
    assert any("clustered within patients" in n for n in r.comparison_table().notes)


def test_per_100_needles_by_hand(tiny):
    r = adverse_event_rates(tiny, "100_needles")
    x = row(r, "dry_needling", "any")
    assert (x["count"], x["denominator"], x["n_with_event"]) == (4, 18, 3)
    assert x["estimate"] == pytest.approx(100 * 4 / 18)
    lo, hi = poisson_exact(4, 18)
    assert (x["ci_lower"], x["ci_upper"]) == pytest.approx((100 * lo, 100 * hi))
    s = row(r, "sham", "any")
    assert s["denominator"] == 0 and np.isnan([s["estimate"], s["ci_lower"], s["ci_upper"]]).all()
    assert any("No needles were inserted in arm(s) sham" in n for n in r.notes)
    assert r.comparison["estimate"].isna().all() and (r.comparison["measure"] == "rate_ratio").all()
    r.to_markdown(), r.to_latex(), r.to_html(), r.summary()   # NaN renders as blank


def test_comparison_by_hand(tiny):
    c = adverse_event_rates(tiny, "patient", p_values=True, risk_ratio=True).comparison
    anyc = c[c["term"] == "any"].set_index("measure")
    assert anyc.loc["risk_difference", "estimate"] == pytest.approx(1.0)
    lo, hi = newcombe_difference(3, 3, 0, 2)
    assert anyc.loc["risk_difference", ["ci_lower", "ci_upper"]].tolist() == pytest.approx(
        [float(lo), float(hi)])
    assert not anyc.loc["risk_difference", "corrected"]
    # Haldane: (3.5 / 4) / (0.5 / 3)
    assert anyc.loc["risk_ratio", "estimate"] == pytest.approx(5.25)
    assert anyc.loc["risk_ratio", "corrected"]
    assert anyc.loc["risk_ratio", "p_value"] == pytest.approx(0.1)   # 1 / choose(5, 2)
    both_zero = c[(c["term"] == "vasovagal") & (c["measure"] == "risk_ratio")].iloc[0]
    assert np.isnan(both_zero["estimate"]) and both_zero["p_value"] == 1.0
    assert set(c["reference"]) == {"sham"} and set(c["arm"]) == {"dry_needling"}


def test_no_test_and_no_ratio_per_harm_by_default(tiny):
    # CONSORT Harms 2022 and SAMPL: no p-value per harm term unless asked; the risk ratio
    # (Haldane-corrected on a zero cell) only on request, the correction then stated
    r = adverse_event_rates(tiny, "patient")
    c = r.comparison
    assert set(c["measure"]) == {"risk_difference"}
    assert c["p_value"].isna().all() and set(c["test"]) == {"none"}
    notes = " ".join(r.comparison_table().notes)
    assert "No p-values" in notes and "Haldane" not in notes
    asked = adverse_event_rates(tiny, "patient", risk_ratio=True)
    assert set(asked.comparison["measure"]) == {"risk_difference", "risk_ratio"}
    assert asked.comparison["p_value"].isna().all()
    notes = " ".join(asked.comparison_table().notes)
    assert "Haldane" in notes and "0.5 added to every cell" in notes
    n = adverse_event_rates(tiny, "100_needles")
    assert n.comparison["p_value"].isna().all()


def test_haldane_risk_ratio_against_r():
    # issue 12's "63, CI 4 to 997": soreness in 31/42 real vs 0/42 sham participants
    ref = REF["risk_ratio_haldane"]
    key = "risk_ratio(x1, n1, x2, n2): Katz log CI, 0.5 added to every cell on a zero cell"
    est, lo, hi, corr = risk_ratio(ref["x1"], ref["n1"], ref["x2"], ref["n2"])
    want = np.array(ref[key], dtype=float)
    close(est, want[:, 0], "estimate")
    close(lo, want[:, 1], "lower")
    close(hi, want[:, 2], "upper")
    assert list(corr) == [x2 == 0 for x2 in ref["x2"]]
    # as the issue printed it (whole numbers: half a unit)
    assert (ref["x1"][0], ref["n1"][0], ref["x2"][0]) == (31, 42, 0)
    assert abs(est[0] - 63) < 0.5 and abs(lo[0] - 4) < 0.5 and abs(hi[0] - 997) < 0.5


def test_risk_ratio_rules():
    est, lo, hi, corr = risk_ratio([10, 4, 0, 0], [50, 20, 20, 20], [5, 0, 3, 0], [50, 20, 20, 20])
    assert est[0] == pytest.approx(2.0) and not corr[0]
    assert est[1] == pytest.approx(4.5 / 0.5) and corr[1]
    assert est[2] == pytest.approx(0.5 / 3.5) and corr[2]
    assert np.isnan(est[3]) and np.isnan(lo[3]) and np.isnan(hi[3])


def test_reference_arm_and_errors(tiny):
    r = adverse_event_rates(tiny, "patient", reference_arm="dry_needling")
    assert r.reference_arm == "dry_needling" and set(r.comparison["arm"]) == {"sham"}
    with pytest.raises(AnalysisError, match="reference_arm"):
        adverse_event_rates(tiny, reference_arm="placebo")
    with pytest.raises(AnalysisError, match="per must be one of"):
        adverse_event_rates(tiny, per="visit")
    with pytest.raises(AnalysisError, match="by must be"):
        adverse_event_rates(tiny, by="muscle")
    with pytest.raises(AnalysisError, match="conf_level"):
        adverse_event_rates(tiny, conf_level=95)


def test_by_selects_groups(tiny):
    # default: every group CONSORT Harms asks for (terms, severities, serious, withdrawal)
    assert set(adverse_event_rates(tiny).table["group"]) == {"any", "term", "severity",
                                                             "serious", "withdrawal"}
    assert set(adverse_event_rates(tiny, by="term").table["group"]) == {"any", "term"}
    t = adverse_event_rates(tiny, by=["severity", "serious"]).table
    assert list(dict.fromkeys(t["term"])) == ["any", "mild", "moderate", "severe", "serious"]
    t = adverse_event_rates(tiny, by="all").table
    assert list(dict.fromkeys(t["group"])) == ["any", "term", "severity", "serious",
                                               "withdrawal"]


def test_single_arm_and_missing_needling_columns():
    pts = pd.DataFrame({"patient_id": ["P1", "P2"], "arm": ["dry_needling"] * 2})
    a = pd.DataFrame({"patient_id": ["P1", "P1", "P2", "P2"], "visit": [0, 1, 0, 1],
                      "first_step_pain": [70.0, 50.0, 60.0, 55.0]})
    ev = pd.DataFrame({"patient_id": ["P1"], "visit": [1], "term": ["bruising"],
                       "severity": ["mild"], "serious": [False]})
    cohort = dno.load_cohort(a, pts, ev)
    r = adverse_event_rates(cohort)
    assert row(r, "dry_needling", "any")["count"] == 1
    assert r.comparison.empty and r.reference_arm is None
    with pytest.raises(AnalysisError, match="last_session"):
        adverse_event_rates(cohort, "session")
    s = adverse_event_rates(cohort, "session", last_session=1)
    x = row(s, "dry_needling", "any")
    assert (x["count"], x["denominator"]) == (1, 2)


# ============================================================ renderings and exports
def test_renderings_contain_the_numbers(cohorts):
    r = adverse_event_rates(cohorts["sample"], "session")
    md, tex, html_ = r.to_markdown(), r.to_latex(), r.to_html()
    dn = row(r, "dry_needling", "any")
    pct = f"{100 * dn['estimate']:.1f}%"
    assert pct == "20.5%"  # 48/234 (the sample regenerated with the calibrated simulator)
    assert pct in md and pct.replace("%", r"\%") in tex and pct in html_
    for text in (md, tex, html_):
        assert "234" in text and "48" in text and "Clopper-Pearson" in text
    assert r"\begin{tabular}" in tex and "\nDry needling & " in tex   # the arm label
    assert "comparison between arms" in r.summary()
    assert "<0.001" in adverse_event_rates(cohorts["sample"], "session", p_values=True
                                           ).comparison_table().to_markdown()
    n = adverse_event_rates(cohorts["sample"], "100_needles")
    assert f"{row(n, 'dry_needling', 'any')['estimate']:.2f}" in n.to_markdown()


def test_exports_neutralise_formula_text(tmp_path):
    cohort = tiny_cohort()
    listing = event_listing(cohort)
    assert "=1+1 bleeding" in listing.table["verbatim"].tolist()
    text = listing.to_csv(tmp_path / "listing.csv").read_text()
    assert "'=1+1 bleeding" in text and "\n=1+1" not in text and ",=1+1" not in text
    xlsx = pd.read_excel(listing.to_excel(tmp_path / "listing.xlsx"))
    assert "'=1+1 bleeding" in xlsx["verbatim"].tolist()
    # a formula-like arm label in the rates table
    pts = pd.DataFrame({"patient_id": ["A", "B"], "arm": ["=HYPERLINK(\"x\")", "sham"]})
    a = pd.DataFrame({"patient_id": ["A", "A", "B", "B"], "visit": [0, 1, 0, 1],
                      "needled": [False, True, False, False], "needles": [0, 4, 0, 0]})
    rates = adverse_event_rates(dno.load_cohort(a, pts), "session")
    out = pd.read_csv(rates.to_csv(tmp_path / "rates.csv"))
    assert out["arm"].str.startswith("'=").any() and not out["arm"].str.startswith("=").any()


def test_serious_or_severe_listing():
    listing = event_listing(tiny_cohort(), serious_or_severe_only=True)
    assert listing.table[["patient_id", "term"]].values.tolist() == [["D3", "infection"]]


# ============================================================ plot
@pytest.mark.parametrize("per", ["patient", "session"])
def test_plot_one_marker_series_per_arm(tiny, per):
    rates = adverse_event_rates(tiny, per, by="all")
    ax = plot_adverse_events(rates)
    assert [line.get_label() for line in ax.lines] == ["dry_needling", "sham"]
    n_rows = len(rates.table) // 2
    for line in ax.lines:
        sub = rates.table[rates.table["arm"] == line.get_label()]
        assert len(line.get_xdata()) == n_rows
        np.testing.assert_allclose(line.get_xdata(), 100 * sub["estimate"].to_numpy())
    assert len(ax.collections) == 2                    # whiskers, one collection per arm
    # every row and a heading per block (overall, term, severity, serious + withdrawal)
    assert len(ax.get_yticklabels()) == n_rows + 4
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels[0] == "Withdrawal due to an adverse event"     # last row at the bottom
    assert labels[-2:] == ["Any adverse event", "Overall"]       # the first block on top


def test_plot_per_needle_leaves_out_sham(tiny):
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    rates = adverse_event_rates(tiny, "100_needles", by="term")
    assert rates.plot(ax=ax) is ax
    assert [line.get_label() for line in ax.lines] == ["dry_needling"]
    assert len(ax.lines[0].get_xdata()) == 15          # any + 14 terms
    assert any("no needles" in t.get_text() for t in ax.texts)


# ============================================================ protocol deviations
def test_protocol_deviations_tiny(tiny):
    dev = protocol_deviations(tiny)
    assert isinstance(dev, ProtocolDeviations)
    t = dev.table.set_index(["arm", "reason"])
    assert t.loc[("dry_needling", "pregnant"), "needled_sessions"] == 1   # D3 visit 1
    assert t.loc[("dry_needling", "pregnant"), "needles"] == 3
    assert t.loc[("dry_needling", "any"), "patients_flagged"] == 1
    assert t.loc[("sham", "any"), "needled_sessions"] == 0
    assert dev.sessions[["patient_id", "visit"]].values.tolist() == [["D3", 1]]
    assert len(tiny.protocol_deviations) == 1
    assert "lists 1 protocol-deviation flag(s)" in " ".join(dev.notes)


def test_protocol_deviations_sample(cohorts):
    dev = protocol_deviations(cohorts["sample"])
    t = dev.table.set_index(["arm", "reason"])
    assert t.loc[("dry_needling", "any"), "needled_sessions"] == len(
        cohorts["sample"].protocol_deviations) == 6
    assert set(dev.sessions["patient_id"]) == {"DN-0029"}
    assert t.loc[("sham", "immunocompromised"), "patients_flagged"] == 2
    assert t.loc[("sham", "immunocompromised"), "needled_sessions"] == 0


# ============================================================ dose-response edge cases
def test_dose_response_terms_and_failures(tiny):
    with pytest.raises(AnalysisError, match="unknown term"):
        dose_response(tiny, terms="itching")
    with pytest.raises(AnalysisError, match="covariate"):
        dose_response(tiny, covariates=("depth_mm",))
    with pytest.warns(ConvergenceWarning, match="not estimable"):
        dr = dose_response(tiny, terms=["vasovagal"])
    assert isinstance(dr, DoseResponse) and not dr.converged
    assert dr.table["estimate"].isna().all() and len(dr.table) == 2


def test_dose_response_default_terms_rule(cohorts):
    # the sample's events: bruising 16, bleeding 14, soreness 10, needle-site pain 10
    dr = dose_response(cohorts["sample"], min_events=14)
    assert list(dict.fromkeys(dr.table["term"])) == ["any", "bruising", "bleeding"]
    row_ = dr.table.iloc[0]
    assert row_["estimate"] == pytest.approx(math.exp(row_["coefficient"]))
    assert row_["ci_lower"] < row_["estimate"] < row_["ci_upper"]
    assert "twitch_responses" in dr.to_markdown()


def test_sample_headline_numbers(cohorts):
    """The sample's AE counts, as the simulator drew them (Brady 2014's per-treatment rates).

    The counts are those of ``simulate_tables(84, seed=2014)`` counted by hand with pandas
    (48 of the 235 needled appointments with an event, 16 with bruising, 14 with
    bleeding; 1 of 238 sham appointments); the loader sets aside one needled and two
    sham appointments (planted problems: an unregistered patient's visit, a duplicate),
    none with an event.
    """
    r = adverse_event_rates(cohorts["sample"], "session")
    assert row(r, "dry_needling", "any")["estimate"] == pytest.approx(48 / 234)
    assert row(r, "sham", "any")["estimate"] == pytest.approx(1 / 236)
    assert row(r, "dry_needling", "bruising")["estimate"] == pytest.approx(16 / 234)
    assert row(r, "dry_needling", "bleeding")["estimate"] == pytest.approx(14 / 234)
