"""Randomised patients without a baseline value kept by mean imputation (issue 13).

fit_trajectory(missing_baseline="mean") against nlme::gls on the same data with the
mean imputed in R (tests/reference/baseline_imputation/, README there for the source
and tolerances), and hand-built cohorts for the rule itself.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import dryneedle_outcomes as dno
from dryneedle_outcomes.errors import AnalysisError, DryNeedleWarning

REF_DIR = Path(__file__).parent / "reference" / "baseline_imputation"


@pytest.fixture(scope="module")
def reference_fit():
    cohort = dno.load_cohort(pd.read_csv(REF_DIR / "data.csv"))
    fit = dno.fit_trajectory(cohort, model="mmrm", df="satterthwaite",
                             missing_baseline="mean", reference_arm="sham")
    return fit, pd.read_csv(REF_DIR / "gls_mean_imputed.csv")


def test_mean_imputed_mmrm_matches_nlme_gls(reference_fit):
    fit, ref = reference_fit
    got = fit.comparison.merge(ref, on="visit", suffixes=("", "_r"))
    assert len(got) == 6
    # nlme::gls stops at its own tolerance: 1e-4 SE and 1e-4 relative (README)
    assert np.all(np.abs(got["estimate"] - got["estimate_r"]) <= 1e-4 * got["std_error_r"])
    np.testing.assert_allclose(got["std_error"], got["std_error_r"], rtol=1e-4)
    assert abs(fit.loglik - ref["loglik"].iloc[0]) <= 1e-5
    assert fit.n_patients == ref["n_patients"].iloc[0]
    assert fit.n_observations == ref["n_observations"].iloc[0]


def test_the_imputed_value_and_patients_are_stated(reference_fit):
    fit, ref = reference_fit
    np.testing.assert_allclose(fit.frame.baseline_mean, ref["baseline_mean"].iloc[0],
                               rtol=1e-12)  # a mean: arithmetic
    assert len(fit.frame.imputed_baseline) == ref["n_imputed"].iloc[0] == 6
    assert any("White & Thompson 2005" in n and "6 randomised patient(s)" in n
               for n in fit.notes)
    assert len(fit.excluded) == 0


PATIENTS = pd.DataFrame({"patient_id": ["A", "B", "C", "D", "E", "F"],
                         "arm": ["dry_needling", "sham"] * 3})
VISITS = pd.DataFrame({
    "patient_id": np.repeat(PATIENTS["patient_id"], 3),
    "visit": [0, 1, 2] * 6,
    "first_step_pain": [70.0, 60, 50, 60, 58, 57, np.nan, 55, 45,
                        80, 75, 72, 65, 50, 40, 50, 48, 44],
})


def test_hand_built_mean_is_over_patients_with_a_baseline_both_arms_pooled():
    cohort = dno.load_cohort(VISITS, PATIENTS)
    fit = dno.fit_trajectory(cohort, model="session_means", missing_baseline="mean")
    assert fit.frame.imputed_baseline == ["C"]
    assert fit.frame.baseline_mean == (70 + 60 + 80 + 65 + 50) / 5  # exact arithmetic
    c_rows = fit.frame.data.loc[fit.frame.data["patient_id"] == "C", "baseline"]
    assert c_rows.tolist() == [65.0, 65.0]
    assert fit.n_patients == 6


def test_the_default_keeps_them_and_exclude_leaves_them_out_and_says_so():
    """ICH E9(R1)'s randomised population: the default keeps a patient without a
    baseline (mean-imputed covariate); "exclude" (R's complete-case behaviour) is the
    opt-in, and says so."""
    cohort = dno.load_cohort(VISITS, PATIENTS)
    fit = dno.fit_trajectory(cohort, model="session_means")
    assert fit.n_patients == 6 and fit.frame.imputed_baseline == ["C"]
    with pytest.warns(DryNeedleWarning, match="no baseline value"):
        fit = dno.fit_trajectory(cohort, model="session_means", missing_baseline="exclude")
    assert fit.n_patients == 5 and fit.frame.imputed_baseline == []
    assert fit.excluded["patient_id"].tolist() == ["C"]


def test_an_unknown_rule_is_refused():
    cohort = dno.load_cohort(VISITS, PATIENTS)
    with pytest.raises(AnalysisError, match="missing_baseline must be 'exclude' or 'mean'"):
        dno.fit_trajectory(cohort, model="session_means", missing_baseline="arm_mean")


def test_the_configured_run_passes_the_rule_and_states_it():
    from dryneedle_outcomes.config import AnalysisOptions, TrajectoryOptions
    from dryneedle_outcomes.report import run_analyses

    cohort = dno.load_cohort(VISITS, PATIENTS)
    options = AnalysisOptions(primary_visit=2, trajectory=TrajectoryOptions(
        models=("session_means",), missing_baseline="mean"))
    section = {s.key: s for s in run_analyses(cohort, options)}["trajectory"]
    assert "6 patients" in section.diagnostics[0].details
    assert any("kept with the mean of the observed baselines, 65 " in n
               for n in section.tables[0].table.notes)
