"""CACE by 2SLS against R AER::ivreg (tests/reference/cace) and the Wald estimator by hand."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import dryneedle_outcomes as dno
from dryneedle_outcomes.errors import AnalysisError
from dryneedle_outcomes.stats.iv import tsls, wald

REF = Path(__file__).parent / "reference" / "cace"
# 2SLS is closed form (two least-squares solves, no optimiser): agreement with R to
# 1e-8 relative is floating-point rounding only.
RTOL = 1e-8
CASES = [(f"{name}_{adj}", f"cace_data_{name}.csv", adj == "baseline")
         for name in ("binary", "sessions") for adj in ("baseline", "none")]


@pytest.mark.parametrize(("case", "file", "adjusted"), CASES)
def test_tsls_matches_ivreg(case, file, adjusted):
    d = pd.read_csv(REF / file)
    ref = pd.read_csv(REF / "reference.csv").query("case == @case")
    fit = tsls(d["y"], d["received"], d["z"], d[["baseline"]] if adjusted else None)
    np.testing.assert_allclose(fit.coef, ref["estimate"], rtol=RTOL)
    np.testing.assert_allclose(np.sqrt(np.diag(fit.vcov)), ref["std_error"], rtol=RTOL)
    np.testing.assert_allclose([fit.first_stage_coef, fit.first_stage_se],
                               ref[["first_stage_z", "first_stage_se"]].iloc[0], rtol=RTOL)
    assert fit.df_resid == ref["df_resid"].iloc[0]


def test_tsls_matches_ivreg_cigarettes():
    """AER's ?CigarettesSW / ?ivreg example (Stock & Watson), 1995 cross-section."""
    d = pd.read_csv(REF / "cigarettes_sw_1995.csv")
    ref = pd.read_csv(REF / "reference.csv").query("case == 'cigarettes'")
    fit = tsls(d["lpacks"], d["lrprice"], d["tdiff"], d[["lrincome"]])
    np.testing.assert_allclose(fit.coef, ref["estimate"], rtol=RTOL)
    np.testing.assert_allclose(np.sqrt(np.diag(fit.vcov)), ref["std_error"], rtol=RTOL)


def test_public_api_matches_ivreg():
    """dno.complier_average_effect on the exported cohort reproduces ivreg's CACE."""
    cohort = dno.simulate_cohort(n_patients=200, seed=4)
    r = dno.complier_average_effect(cohort, visit=6, adherence={"min_sessions": 4})
    ref = pd.read_csv(REF / "reference.csv").query(
        "case == 'binary_baseline' and term == 'received'")
    cace = r.estimates.set_index("quantity").loc["cace"]
    np.testing.assert_allclose([cace["estimate"], cace["std_error"]],
                               ref[["estimate", "std_error"]].iloc[0], rtol=RTOL)
    assert r.first_stage_f > 10
    assert "exclusion restriction" in r.summary()
    assert r.plot() is not None
    # every randomised patient is either analysed or listed with the reason
    a = cohort.assessments
    has_y = set(a.loc[(a["visit"] == 6) & a["first_step_pain"].notna(), "patient_id"])
    assert set(r.data["patient_id"]) == has_y
    assert len(r.data) + len(r.excluded) == len(cohort.patients)
    assert set(r.excluded["patient_id"]) == set(cohort.patients["patient_id"]) - has_y
    assert len(r.excluded) > 0 and (r.excluded["reason"] == "no first_step_pain at visit 6").all()


def test_wald_by_hand():
    # treated arm: y = 4, 6, 8 with received 1, 1, 0; control: y = 1, 3 received 0, 0.
    # ITT = 6 - 2 = 4; compliance difference = 2/3; CACE = 4 / (2/3) = 6 (exact)
    y = [4.0, 6.0, 8.0, 1.0, 3.0]
    d = [1.0, 1.0, 0.0, 0.0, 0.0]
    z = [1, 1, 1, 0, 0]
    itt, comp, cace = wald(y, d, z)
    assert itt == 4.0
    assert comp == pytest.approx(2 / 3, rel=1e-15)
    assert cace == pytest.approx(6.0, rel=1e-15)
    # without covariates 2SLS is the Wald estimator (Angrist, Imbens & Rubin 1996)
    assert tsls(y, d, z).coef[1] == pytest.approx(6.0, rel=1e-12)


def test_wald_equals_tsls_on_exported_data():
    d = pd.read_csv(REF / "cace_data_binary.csv")
    itt, comp, cace = wald(d["y"], d["received"], d["z"])
    ref = pd.read_csv(REF / "reference.csv").query("case == 'binary_none'")
    assert cace == pytest.approx(ref.loc[ref.term == "received", "estimate"].iloc[0],
                                 rel=RTOL)
    assert comp == pytest.approx(ref["first_stage_z"].iloc[0], rel=RTOL)


def test_needs_adherence_and_two_arms():
    cohort = dno.simulate_cohort(n_patients=30, seed=1)
    with pytest.raises(AnalysisError, match="adherence"):
        dno.complier_average_effect(cohort, visit=6)
    with pytest.raises(AnalysisError, match="neither"):
        dno.complier_average_effect(cohort, visit=6, adherence="no_such_column")
