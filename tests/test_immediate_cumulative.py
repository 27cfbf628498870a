"""dno.immediate_cumulative against nlme::gls + emmeans on the same long data.

Reference: tests/reference/immediate_cumulative/ (make_reference.R fits
``gls(y ~ baseline + arm * occ, correlation = corSymm(form = ~ occn | patient_id),
weights = varIdent(form = ~ 1 | occ), method = "REML")`` to the rows export_data.py wrote,
and takes LS-means and contrasts from emmeans with ``mode = "satterthwaite"``).

Tolerances, and why:

- ``EST_ATOL`` 1e-4 mm on estimates and ``SE_RTOL`` 1e-4 on standard errors: two REML
  optimisers stopping by their own rules (nlme: relative change 1e-8 of the objective;
  ours, tests/tolerances.py MMRM) leave the covariance parameters a little apart; both
  well below the digits a paper prints (0.1 mm).
- ``LOGLIK_ATOL`` 1e-5: the REML log-likelihood at the two optima.
- ``DF_RTOL`` 0.07 on the Satterthwaite df: emmeans has no analytical Satterthwaite for
  gls and says so ("using appx-satterthwaite"): it differentiates the covariance of the
  LS-means numerically through nlme's ``apVar`` (itself a numerical Hessian in nlme's
  own parametrisation), while ours uses the exact observed information. They agree
  within 6% here; a check, not a validation, of the df. nlme has no Kenward-Roger; the
  KR df and SEs of the engine are validated against SAS (tests/test_kenward_roger_sas.py).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import dryneedle_outcomes as dno

REF_DIR = Path(__file__).parent / "reference" / "immediate_cumulative"
sys.path.insert(0, str(REF_DIR))
from export_data import COHORT  # noqa: E402

EST_ATOL = 1e-4
SE_RTOL = 1e-4
LOGLIK_ATOL = 1e-5
DF_RTOL = 0.07
KEYS = ["effect", "arm", "session", "visit", "timing"]


@pytest.fixture(scope="module")
def reference() -> pd.DataFrame:
    long = pd.read_csv(REF_DIR / "reference.csv", keep_default_na=False,
                       na_values={"session": ["NA"], "visit": ["NA"], "value": ["NA"]})
    wide = long.pivot_table(index=["quantity", *KEYS], columns="statistic", values="value",
                            dropna=False).reset_index()
    # rows of the pivot for statistic combinations R did not report (no estimate): the
    # reference has no value there, nothing of the package's data is dropped
    return wide.dropna(subset=["estimate"])


@pytest.fixture(scope="module")
def cohort():
    return dno.simulate_cohort(**COHORT)


@pytest.fixture(scope="module")
def fit(cohort):
    return dno.immediate_cumulative(cohort, df="satterthwaite")


def test_the_data_are_the_exported_ones(cohort, fit):
    rows = pd.read_csv(REF_DIR / "within_session.csv")
    assert fit.n_observations == len(rows)
    assert fit.n_patients == rows["patient_id"].nunique()
    assert fit.occasions[["visit", "timing"]].values.tolist() == [
        [1, "pre_session"], [1, "post_session"], [2, "pre_session"], [2, "post_session"],
        [3, "single"]]


def _match(ours: pd.DataFrame, ref: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    ref = ref.copy()
    for k in ("session", "visit"):
        if k in keys:
            ref[k] = ref[k].astype(int)
            ours = ours.assign(**{k: ours[k].astype(int)})
    out = ours.merge(ref, on=keys, suffixes=("", "_r"), validate="one_to_one")
    assert len(out) == len(ref) == len(ours)
    return out


def _compare(m: pd.DataFrame) -> None:
    np.testing.assert_allclose(m["estimate"], m["estimate_r"], atol=EST_ATOL, rtol=0)
    np.testing.assert_allclose(m["std_error"], m["std_error_r"], rtol=SE_RTOL)
    np.testing.assert_allclose(m["df"], m["df_r"], rtol=DF_RTOL)


def test_loglik(fit, reference):
    ref = reference.loc[reference["quantity"] == "logLik", "estimate"].item()
    assert fit.loglik == pytest.approx(ref, abs=LOGLIK_ATOL)


def test_marginal_means(fit, reference):
    ref = reference[reference["quantity"] == "marginal_mean"].rename(
        columns={"estimate": "estimate_r", "std_error": "std_error_r", "df": "df_r"})
    _compare(_match(fit.marginal_means, ref[["arm", "visit", "timing", "estimate_r",
                                              "std_error_r", "df_r"]],
                    ["arm", "visit", "timing"]))


@pytest.mark.parametrize("quantity", ["effect", "difference"])
def test_effects_and_arm_differences(fit, reference, quantity):
    ref = reference[reference["quantity"] == quantity].rename(
        columns={"estimate": "estimate_r", "std_error": "std_error_r", "df": "df_r"})
    ours = fit.effects if quantity == "effect" else fit.comparison
    m = _match(ours, ref[[*KEYS, "estimate_r", "std_error_r", "df_r"]], KEYS)
    _compare(m)
    assert set(m["effect"]) == {"immediate", "carry_over", "cumulative"}


def test_kenward_roger_is_the_default_and_only_widens_the_tests(cohort, fit):
    kr = dno.immediate_cumulative(cohort)
    assert kr.df_method == "kenward_roger" and kr.kenward_roger is not None
    # the same model and estimates; the KR standard errors of these contrasts are the
    # model-based ones adjusted for the estimated covariance (larger here)
    # the df method does not enter the REML fit: the same deterministic optimisation on
    # the same data gives the same estimates to rounding
    np.testing.assert_allclose(kr.effects["estimate"], fit.effects["estimate"], rtol=1e-12)
    # (two fits, each stopped by the optimiser's rule: where the adjustment is ~0 the
    # SEs may differ in the 6th digit, so "not smaller" is checked to 1e-5 relative)
    assert (kr.effects["std_error"] >= fit.effects["std_error"] * (1 - 1e-5)).all()
    assert (kr.effects["std_error"] > fit.effects["std_error"]).any()
    assert any("Kenward-Roger" in n for n in kr.notes)


def test_the_effects_are_contrasts_of_the_marginal_means(fit):
    mm = fit.marginal_means.set_index(["arm", "visit", "timing"])["estimate"]
    eff = fit.effects.set_index(["effect", "arm", "session"])["estimate"]
    arm = "dry_needling"
    # identities between contrasts of one fit: pure arithmetic, equal to rounding (1e-12)
    assert eff[("immediate", arm, 1)] == pytest.approx(
        mm[(arm, 1, "post_session")] - mm[(arm, 1, "pre_session")], rel=1e-12)
    assert eff[("carry_over", arm, 2)] == pytest.approx(
        mm[(arm, 3, "single")] - mm[(arm, 2, "pre_session")], rel=1e-12)
    comp = fit.comparison.set_index(["effect", "session"])["estimate"]
    assert comp[("immediate", 2)] == pytest.approx(
        eff[("immediate", arm, 2)] - eff[("immediate", "sham", 2)], rel=1e-12)


def test_recovers_the_simulated_effects():
    """On a large simulated trial the estimates are near the truth (immediate: -10 vs
    -4 mm; cumulative after the course: -14.4 mm x 0.85 persistence at follow-up); the
    bound is four standard errors, wide enough never to fail by chance."""
    sim = dno.simulate_tables(600, seed=21, n_sessions=2, within_session=True, dropout=0.0)
    cohort = dno.load_cohort(sim.assessments, sim.patients,
                             mapping={"assessments": {"assessed": "before_session"}})
    fit = dno.immediate_cumulative(cohort, df="satterthwaite")
    comp = fit.comparison.set_index(["effect", "session"])
    truth = sim.truth["within_session"].set_index(["arm", "session"])
    for k in (1, 2):
        row = comp.loc[("immediate", k)]
        true = truth.loc[("dry_needling", k), "immediate"] - truth.loc[("sham", k), "immediate"]
        assert abs(row["estimate"] - true) < 4 * row["std_error"]
    row = comp.loc[("cumulative", 2)]
    assert abs(row["estimate"] - (-14.4 * 0.85)) < 4 * row["std_error"]


def test_needs_pre_and_post_ratings(sample_cohort):
    with pytest.raises(dno.AnalysisError, match="timing"):
        dno.immediate_cumulative(sample_cohort)


def test_headline_tables_and_saw_tooth(fit):
    assert fit.headline().startswith("Immediate effect of session 1")
    assert set(fit.tables()) == {"comparison", "effects", "marginal_means", "fixed_effects"}
    assert "immediate and cumulative effects: dry_needling minus sham" in fit.summary()
    ax = fit.plot()
    lines = [ln for ln in ax.lines if not ln.get_label().startswith("_")]
    assert [ln.get_label() for ln in lines] == ["sham", "dry_needling"]
    x = lines[1].get_xdata()
    np.testing.assert_allclose(x, [0.8, 1.2, 1.8, 2.2, 3.0])     # pre left, post right
    mm = fit.marginal_means
    np.testing.assert_allclose(lines[1].get_ydata(),
                               mm.loc[mm["arm"] == "dry_needling", "estimate"])
