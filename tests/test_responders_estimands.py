"""Issue 12, responders and effects with the right estimand.

NNT rounding (Cochrane Handbook 15.4.4 and Altman 1998's figure-1 example), percent
improvement against the room to improve, the missing-data rule as an estimand choice,
covariate-adjusted responders against base R (tests/reference/responders_adjusted),
Hedges' g against metafor (tests/reference/effect_sizes), blinding indices against the
R package BI on Bang et al. (2004) Table 7 and Houweling et al. (2014) Table 2
(tests/reference/blinding), and the labels of dose_response.

Tolerances:
- NNT labels, counts: exact (pure arithmetic);
- adjusted responders: 1e-6 relative (R's glm stops at |dev change| / (|dev| + 0.1) <
  1e-12, ours at 1e-10; estimates agree to ~1e-9, standard errors to ~1e-7 since R's
  vcov uses the weights of the last IRLS iteration);
- Hedges' g, its variance and CI, the t interval: 1e-9 relative (closed form);
- blinding indices: 1e-9 absolute (closed form; agreement is ~1e-16);
- printed values of BlindingIndex.jl's README: half a unit of the last printed digit.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import dryneedle_outcomes as dno
from dryneedle_outcomes.effect_sizes import hedges_g
from dryneedle_outcomes.errors import AnalysisError
from dryneedle_outcomes.responders import number_needed_to_treat, responders
from dryneedle_outcomes.stats.blinding import bang_index, james_index
from dryneedle_outcomes.stats.standardisation import standardised_risks

REF = Path(__file__).parent / "reference"


def tiny(scores, outcome="first_step_pain", extra=None):
    """Cohort from {patient: (arm, [value at visit 0, 1, ...])}; None = no record."""
    patients = pd.DataFrame({"patient_id": list(scores),
                             "arm": [arm for arm, _ in scores.values()]})
    for col, values in (extra or {}).items():
        patients[col] = values
    rows = [{"patient_id": pid, "visit": v, outcome: float(x)}
            for pid, (_, values) in scores.items() for v, x in enumerate(values)
            if x is not None]
    a = pd.DataFrame(rows)
    for col in ("first_step_pain", "vas_pain"):
        if col not in a:
            a[col] = 50.0
    return dno.load_cohort(a, patients)


def row(res, arm, visit):
    t = res.table
    return t[(t["arm"] == arm) & (t["visit"] == visit)].iloc[0]


# ---------------------------------------------------------------------- 1. NNT
def test_nnt_rounded_up_as_cochrane():
    # Cochrane Handbook (v5.1 12.5.4.1, v6 15.4.4): RD -0.12 gives NNT 9, RD -0.22 NNT 5
    t = number_needed_to_treat([0.12, 0.22, -0.12], [0.05, 0.1, -0.2], [0.2, 0.3, -0.05])
    assert t["nnt_label"].tolist() == ["NNTB 9", "NNTB 5", "NNTH 9"]
    # the decimals stay in the machine-readable columns
    assert t["nnt"].iloc[0] == pytest.approx(1 / 0.12, rel=1e-15)


def test_nnt_interval_as_altman_figure_1():
    # Altman (1998) BMJ 317:1309, figs 1-2: RD 10% (95% CI -5% to 25%) is NNTB 10 with
    # CI "NNTB 4 to infinity to NNTH 20" (also quoted by Newcombe, BMJ rapid response 1999)
    t = number_needed_to_treat([0.10], [-0.05], [0.25]).iloc[0]
    assert t["nnt_label"] == "NNTB 10"
    assert t["nnt_ci_label"] == "NNTB 4 to infinity to NNTH 20"
    assert (t["nnt_ci_lower"], t["nnt_ci_upper"]) == (4.0, -20.0)


def test_nnt_limits_round_up_and_whole_numbers_are_not_bumped():
    t = number_needed_to_treat([0.3, 0.25], [0.0926, 0.1], [0.47, 0.5]).iloc[:, 3:]
    assert t["nnt_label"].tolist() == ["NNTB 4", "NNTB 4"]        # 3.33 -> 4; 4.0 stays
    assert t["nnt_ci_label"].tolist() == ["NNTB 3 to 11", "NNTB 2 to 10"]


# ---------------------------------------------------------------------- 2. percent
def test_percent_improvement_of_higher_is_better_uses_room_to_improve():
    # FHSQ pain (0 = worst, 100 = best), 50% improvement:
    c = tiny({"a1": ("dry_needling", [40, 70]),   # 30 of 60 possible: 50% -> responder
              "a2": ("dry_needling", [40, 65]),   # 25/60 = 42%; 25/40 = 62% of baseline
              "a3": ("dry_needling", [100, 100]),  # no room: never a responder
              "a4": ("dry_needling", [0, 50]),     # 50 of 100: 50% (baseline 0 is fine)
              "s1": ("sham", [80, 90])},           # 10 of 20: 50%
             outcome="fhsq_pain")
    res = responders(c, "fhsq_pain", percent_reduction=50)
    assert row(res, "dry_needling", 1)["n_responders"] == 2
    assert row(res, "sham", 1)["n_responders"] == 1
    assert "possible improvement" in res.definition and "100 - baseline" in res.definition
    assert any("1 patient(s) with a baseline at the best end" in n for n in res.notes)
    cfb = c.change_from_baseline("fhsq_pain").set_index(["patient_id", "visit"])
    assert cfb.loc[("a1", 1), "pct_improvement"] == pytest.approx(50.0)
    assert cfb.loc[("a2", 1), "pct_improvement"] == pytest.approx(100 * 25 / 60)
    assert np.isnan(cfb.loc[("a3", 1), "pct_improvement"])


def test_percent_reduction_of_higher_is_worse_is_unchanged():
    c = tiny({"a1": ("dry_needling", [80, 40]), "a2": ("dry_needling", [80, 41]),
              "a3": ("dry_needling", [0, 0]), "s1": ("sham", [60, 30])})
    res = responders(c, percent_reduction=50)
    assert row(res, "dry_needling", 1)["n_responders"] == 1
    assert res.definition == ">= 50% reduction from baseline"


# ---------------------------------------------------------------------- 4. missing
def test_default_is_non_responder_imputation_named_composite():
    c = tiny({"a1": ("dry_needling", [80, 50]), "a2": ("dry_needling", [80, None]),
              "s1": ("sham", [80, 79]), "s2": ("sham", [70, 40])})
    res = responders(c)
    assert res.missing == "non_responder"
    assert row(res, "dry_needling", 1)["denominator"] == 2
    assert "composite" in res.title
    assert any("composite strategy" in n and "ICH E9(R1)" in n for n in res.notes)
    assert not any("sensitivity analysis" in n for n in res.notes)
    obs = responders(c, missing="observed")
    assert row(obs, "dry_needling", 1)["denominator"] == 1
    assert "missing completely at random" in obs.title
    assert any("MCAR" in n for n in obs.notes)


def test_config_default_missing_rule_is_non_responder():
    from dryneedle_outcomes.config_schema import FIELDS

    f = next(f for f in FIELDS if f.table == "analysis.responders" and f.key == "missing")
    assert f.default == ["non_responder"]


# ---------------------------------------------------------------------- 3. adjusted
def _ref_adjusted():
    return pd.read_csv(REF / "responders_adjusted" / "reference.csv")


@pytest.mark.parametrize("variance", ["robust", "model"])
@pytest.mark.parametrize("case", ["visit6_non_responder_baseline_site",
                                  "visit3_observed_baseline"])
def test_adjusted_responders_against_base_r(sample_cohort, case, variance):
    ref = _ref_adjusted()
    r = ref[(ref["case"] == case) & (ref["variance"] == variance)].iloc[0]
    adjust = ["baseline", "site"] if "site" in r["adjust"] else ["baseline"]
    res = responders(sample_cohort, visits=[int(r["visit"])], missing=r["missing"],
                     adjust=adjust, variance=variance)
    a = res.adjusted.set_index("measure")
    assert int(a.loc["risk_difference", "n"]) == r["n"]
    rd, rr = a.loc["risk_difference"], a.loc["risk_ratio"]
    ours = [rd["risk_arm"], rd["risk_reference"], rd["estimate"], rd["std_error"],
            rd["ci_lower"], rd["ci_upper"], rd["p_value"], rr["estimate"], rr["std_error"],
            rr["ci_lower"], rr["ci_upper"], rr["p_value"]]
    theirs = r[["risk_arm", "risk_reference", "rd", "rd_se", "rd_lower", "rd_upper", "rd_p",
                "rr", "log_rr_se", "rr_lower", "rr_upper", "rr_p"]].to_numpy(dtype=float)
    np.testing.assert_allclose(ours, theirs, rtol=1e-6)
    assert res.adjusted["variance"].eq(variance).all()
    assert "adjusted" in res.tables()


def test_adjusted_without_covariates_equals_unadjusted_difference():
    # arm-only logistic model: standardised risks are the raw proportions (saturated)
    rng = np.random.default_rng(1)
    y = rng.integers(0, 2, 60)
    arm = np.repeat([0, 1], 30)
    fit = standardised_risks(y, arm, np.empty((60, 0)), n_arms=2, variance="model")
    np.testing.assert_allclose(fit.risks, [y[:30].mean(), y[30:].mean()], rtol=1e-10)
    # model-based delta-method SE of the RD is then the Wald SE sqrt(p(1-p)/n) summed
    p0, p1 = y[:30].mean(), y[30:].mean()
    se = np.sqrt(p0 * (1 - p0) / 30 + p1 * (1 - p1) / 30)
    assert fit.difference(1, 0)[1] == pytest.approx(se, rel=1e-8)


def test_adjusted_refuses_missing_covariates_and_unknown_names():
    c = tiny({"a1": ("dry_needling", [80, 50]), "a2": ("dry_needling", [70, 60]),
              "s1": ("sham", [80, 79]), "s2": ("sham", [70, 40])},
             extra={"age": [40.0, None, 50.0, 60.0]})
    with pytest.raises(AnalysisError, match="'age' is missing for 1 patient"):
        responders(c, adjust=["baseline", "age"])
    with pytest.raises(AnalysisError, match="neither 'baseline' nor a column"):
        responders(c, adjust=["weight"])
    with pytest.raises(AnalysisError, match="variance must be"):
        responders(c, adjust=["baseline"], variance="hc3")


# ---------------------------------------------------------------------- 5. Hedges' g
def test_hedges_g_against_metafor(sample_cohort):
    ref = pd.read_csv(REF / "effect_sizes" / "reference.csv")
    res = responders(sample_cohort, missing="observed")
    es = res.effect_sizes.set_index("visit")
    # the reference rows with a visit are the per-visit effect sizes (the hand case has none)
    per_visit = ref.dropna(subset=["visit"]).set_index("visit")
    assert es["n_arm"].tolist() == per_visit["n_arm"].tolist()
    assert es["n_reference"].tolist() == per_visit["n_reference"].tolist()
    for ours, theirs in (("estimate", "yi"), ("ci_lower", "ci_lb"), ("ci_upper", "ci_ub"),
                         ("mean_difference", "mean_difference"),
                         ("md_ci_lower", "md_ci_lower"), ("md_ci_upper", "md_ci_upper")):
        # arithmetic at 1e-9; CI limits also carry a normal/t quantile, which scipy 1.12
        # (the oldest version allowed) computes to ~1e-9 relative of R's qt/qnorm (measured
        # 1.2e-9 on md_ci_upper): 1e-8 for the limits
        tol = 1e-8 if "ci_" in ours else 1e-9
        np.testing.assert_allclose(es[ours], per_visit[theirs], rtol=tol)
    np.testing.assert_allclose(es["std_error"] ** 2, per_visit["vi"], rtol=1e-9)
    hand = ref[ref["visit"].isna()].iloc[0]
    g = hedges_g([10.0], [4.0], [20], [8.0], [6.0], [22]).iloc[0]
    assert g["estimate"] == pytest.approx(hand["yi"], rel=1e-9)
    assert g["std_error"] ** 2 == pytest.approx(hand["vi"], rel=1e-9)
    assert "effect_sizes" in res.tables()


def test_hedges_g_by_hand():
    # equal SDs 2, n 10 + 10: d = (5 - 3) / 2 = 1; J(18) = 0.957646...
    g = hedges_g([5.0], [2.0], [10], [3.0], [2.0], [10]).iloc[0]
    from scipy.special import gamma
    j = gamma(9) / (np.sqrt(9) * gamma(8.5))
    assert g["estimate"] == pytest.approx(j, rel=1e-12)
    assert g["std_error"] ** 2 == pytest.approx(0.2 + j ** 2 / 40, rel=1e-12)


# ---------------------------------------------------------------------- 6. dose-response
def test_dose_response_is_labelled_association(sample_cohort):
    from dryneedle_outcomes.harms import dose_response

    dr = dose_response(sample_cohort, terms="any")
    assert "association" in dr.title and "not a randomised effect" in dr.title
    assert any(n.startswith("Associations, not effects") for n in dr.notes)
    assert "associations, not effects" in dose_response.__doc__


# ---------------------------------------------------------------------- 7. blinding
def _bi_reference():
    return pd.read_csv(REF / "blinding" / "reference.csv")


@pytest.mark.parametrize("alternative", ["two.sided", "greater", "less"])
def test_blinding_indices_against_r_bi(alternative):
    ref = _bi_reference()
    ref = ref[ref["alternative"] == alternative]
    alt = {"two.sided": "two-sided"}.get(alternative, alternative)
    for example, r in ref.groupby("example"):
        x = np.array(r["counts"].iloc[0].split(), dtype=float).reshape(3, 2)
        j = james_index(x, alternative=alt)
        b = bang_index(x, alternative=alt)
        cols = ["estimate", "std_error", "ci_lower", "ci_upper"]
        np.testing.assert_allclose([j[c] for c in cols],
                                   r[r["index"] == "james"][cols].to_numpy()[0], atol=1e-9,
                                   err_msg=example)
        np.testing.assert_allclose(np.column_stack([b[c] for c in cols]),
                                   r[r["index"] == "bang"][cols].to_numpy(), atol=1e-9,
                                   err_msg=example)


def test_blinding_printed_values_of_an_independent_port():
    # BlindingIndex.jl README (JuliaHealth), Houweling 2014 investigators, 3 decimals:
    # James 0.896 (SE 0.011, 0.875 to 0.918); Bang treatment 0.115 (0.018; 0.08 to 0.15),
    # placebo 0.022 (0.019; -0.016 to 0.06)
    x = np.array([[48, 22], [4, 30], [330, 319]])
    j, b = james_index(x), bang_index(x)
    half = 0.5e-3 + 1e-12
    assert abs(j["estimate"] - 0.896) <= half and abs(j["std_error"] - 0.011) <= half
    assert abs(j["ci_lower"] - 0.875) <= half and abs(j["ci_upper"] - 0.918) <= half
    np.testing.assert_allclose(b["estimate"], [0.115, 0.022], atol=half)
    np.testing.assert_allclose(b["std_error"], [0.018, 0.019], atol=half)
    np.testing.assert_allclose(b["ci_lower"], [0.08, -0.016], atol=0.5e-2)
    np.testing.assert_allclose(b["ci_upper"], [0.15, 0.06], atol=0.5e-2)


def test_blinding_by_hand_and_edge_cases():
    # active arm: 3 real, 1 sham, 1 don't know -> Bang (3 - 1) / 5 = 0.4
    b = bang_index(np.array([[3, 0], [1, 0], [1, 5]]))
    assert b["estimate"][0] == pytest.approx(0.4)
    assert b["estimate"][1] == 0.0                        # the sham arm: all don't know
    # everyone answers don't know: James = 1, SE 0 (James 1996 p. 1425)
    j = james_index(np.array([[0, 0], [0, 0], [4, 6]]))
    assert (j["estimate"], j["std_error"]) == (1.0, 0.0)
    with pytest.raises(AnalysisError, match="3 rows"):
        bang_index(np.ones((2, 2)))


def test_blinding_index_from_the_cohort_with_spellings_and_visits():
    ids = [f"p{i}" for i in range(10)]
    patients = pd.DataFrame({
        "patient_id": ids, "arm": ["dry_needling"] * 5 + ["sham"] * 5,
        "allocation_guess": ["Real", "active", "Placebo", "Don’t know", None,
                             "sham", "REAL", "DK", "not sure", "sham"]})
    a = pd.DataFrame({"patient_id": ids, "visit": 0, "first_step_pain": 60.0})
    c = dno.load_cohort(a, patients)
    assert c.patients["allocation_guess"].tolist()[:4] == ["real", "real", "sham",
                                                           "dont_know"]
    res = dno.blinding_index(c)
    t = res.table.set_index(["index", "arm"])
    dn = t.loc[("bang", "dry_needling")]
    assert (dn["n"], dn["n_guess_real"], dn["n_guess_sham"], dn["n_dont_know"],
            dn["n_no_answer"]) == (4, 2, 1, 1, 1)
    assert dn["estimate"] == pytest.approx((2 - 1) / 4)
    assert t.loc[("bang", "sham"), "estimate"] == pytest.approx((2 - 1) / 5)
    assert "Blinding" in res.sentence() and "James' index" in res.sentence()
    assert "blinding" in res.tables()
    # guesses at two visits: one set of indices per visit
    g = pd.DataFrame({"patient_id": ids * 2, "visit": [3] * 10 + [6] * 10,
                      "allocation_guess": ["real"] * 5 + ["sham"] * 5
                      + ["dont know"] * 10})
    res2 = dno.blinding_index(c, guesses=g)
    assert sorted(res2.table["visit"].unique()) == [3, 6]
    v3 = res2.table[(res2.table["visit"] == 3) & (res2.table["index"] == "bang")]
    assert v3["estimate"].tolist() == [1.0, 1.0]            # complete unblinding
    with pytest.raises(AnalysisError, match="not real, sham or don't know"):
        dno.blinding_index(c, guesses=g.assign(allocation_guess="maybe"))


def test_loader_flags_unknown_guesses_and_keeps_the_patient():
    patients = pd.DataFrame({"patient_id": ["p1", "p2"], "arm": ["dry_needling", "sham"],
                             "allocation_guess": ["real", "perhaps real"]})
    a = pd.DataFrame({"patient_id": ["p1", "p2"], "visit": 0, "first_step_pain": 60.0})
    c = dno.load_cohort(a, patients)
    assert len(c.patients) == 2 and pd.isna(c.patients["allocation_guess"].iloc[1])
    assert (c.quality.flags["rule"] == "unknown_allocation_guess").any()


# ---------------------------------------------------------------------- config and report
def test_config_reads_adjust_variance_and_blinding(tmp_path):
    from dryneedle_outcomes.config import _analysis

    opts = _analysis({"outcome": "first_step_pain", "primary_visit": 1,
                      "responders": {"mcid": True, "adjust": ["baseline", "site"],
                                     "variance": "model"},
                      "blinding": {"alternative": "greater"}})
    assert opts.responders.adjust == ("baseline", "site")
    assert opts.responders.variance == "model"
    assert opts.responders.missing == ("non_responder",)
    assert opts.blinding.alternative == "greater"
    default = _analysis({"outcome": "first_step_pain", "primary_visit": 1,
                         "responders": {"mcid": True}})
    assert default.responders.adjust == ("baseline",)


def test_report_sections_for_responders_and_blinding():
    from dryneedle_outcomes.config import _analysis
    from dryneedle_outcomes.report.analyses import run_analyses

    ids = [f"p{i}" for i in range(12)]
    arms = ["dry_needling"] * 6 + ["sham"] * 6
    patients = pd.DataFrame({"patient_id": ids, "arm": arms,
                             "allocation_guess": ["real", "sham", "dk"] * 4})
    base = [80, 70, 60, 75, 65, 85, 80, 70, 60, 75, 65, 85]
    after = [50, 40, 55, 45, 64, 60, 79, 60, 58, 50, 64, 84]
    a = pd.DataFrame({"patient_id": ids * 2, "visit": [0] * 12 + [1] * 12,
                      "first_step_pain": base + after})
    c = dno.load_cohort(a, patients)
    opts = _analysis({"outcome": "first_step_pain", "primary_visit": 1,
                      "responders": {"mcid": True}, "blinding": {}})
    sections = {s.key: s for s in run_analyses(c, opts, progress=False)}
    assert not sections["blinding"].failures and not sections["responders"].failures
    names = [getattr(i, "name", "") for i in sections["responders"].items]
    assert "responders_non_responder_adjusted" in names
    assert "responders_effect_sizes" in names
    head = sections["responders"].headline[0]
    assert "adjusted for baseline (standardised)" in head and "composite" in head
    assert sections["blinding"].headline[0].startswith("Blinding: Bang's index")


def test_blinding_plot_and_one_sided_intervals():
    import matplotlib.pyplot as plt

    ids = [f"p{i}" for i in range(8)]
    patients = pd.DataFrame({"patient_id": ids, "arm": ["dry_needling"] * 4 + ["sham"] * 4,
                             "allocation_guess": ["real", "real", "real", "sham",
                                                  "sham", "real", "dk", "sham"]})
    a = pd.DataFrame({"patient_id": ids, "visit": 0, "first_step_pain": 60.0})
    c = dno.load_cohort(a, patients)
    res = dno.blinding_index(c, alternative="greater")
    bang = res.table[res.table["index"] == "bang"]
    assert (bang["ci_upper"] == 1.0).all()                  # one-sided: upper fixed at 1
    assert res.table.loc[res.table["index"] == "james", "ci_upper"].item() == 1.0
    two = dno.blinding_index(c).table
    assert (bang["ci_lower"].to_numpy() > two.loc[two["index"] == "bang", "ci_lower"]).all()
    ax = res.plot()
    (line, _caps, (bars,)) = ax.containers[0]
    np.testing.assert_allclose(np.asarray(line.get_xdata(), dtype=float), bang["estimate"])
    assert len(bars.get_segments()) == 2
    plt.close("all")
    with pytest.raises(AnalysisError, match="alternative must be"):
        dno.blinding_index(c, alternative="both")
