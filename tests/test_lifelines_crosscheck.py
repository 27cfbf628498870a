"""An independent implementation as a second opinion: lifelines' Kaplan-Meier, log-rank
and Cox fits on the reference survival data agree with ours (R is the first opinion,
tests/test_survival_km.py and tests/test_survival_cox.py).

Tolerances:
- Kaplan-Meier estimates, exponential-Greenwood (log-log) limits and the log-rank
  statistic are closed form: rounding only (ARITHMETIC_RTOL; lifelines sums logs of
  the factors where we multiply them, a few ulps per factor).
- lifelines' Cox fit is a damped Newton-Raphson that stops when the step norm or the
  Newton decrement ``g' H^-1 g / 2`` falls below ``precision``, or the relative loglik
  change below ``r_precision``. Run with precision 1e-12 and r_precision 1e-14, the
  decrement rule leaves it within ``sqrt(2 * 1e-12)`` ~ 1.4e-6 SEs of the MLE and the
  loglik rule within ``sqrt(2e-14 |ll|)`` SEs (before a damped step), ours within
  ``newton_se`` (tests/tolerances.py); the loglik within the decrement, 1e-12 absolute.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from lifelines import CoxPHFitter, KaplanMeierFitter
from lifelines.statistics import logrank_test
from tolerances import ARITHMETIC_RTOL, TWO_FITS, assert_within_se, newton_se

from dryneedle_outcomes.stats.survival.cox import fit_cox
from dryneedle_outcomes.stats.survival.kaplan_meier import kaplan_meier
from dryneedle_outcomes.stats.survival.logrank import logrank

REF = Path(__file__).parent / "reference"
AML = pd.read_csv(REF / "survival_km" / "aml.csv")
LUNG_KM = pd.read_csv(REF / "survival_km" / "lung.csv")
LUNG = pd.read_csv(REF / "survival_cox" / "lung.csv")
OVARIAN = pd.read_csv(REF / "survival_cox" / "ovarian.csv")
VETERAN = pd.read_csv(REF / "survival_cox" / "veteran.csv")

LIFELINES_FIT = {"precision": 1e-12, "r_precision": 1e-14}


def lifelines_cox_se(loglik: float) -> float:
    """Distance (in SEs) of lifelines' Cox fit from the MLE under LIFELINES_FIT."""
    return max(math.sqrt(2 * LIFELINES_FIT["precision"]),
               math.sqrt(2 * LIFELINES_FIT["r_precision"] * abs(loglik)))


KM_CASES = {
    "aml": (AML["time"], AML["status"]),
    "lung": (LUNG_KM["time"], (LUNG_KM["status"] == 2).astype(int)),
}


@pytest.mark.parametrize("name", sorted(KM_CASES))
def test_kaplan_meier_matches_lifelines(name):
    time, event = KM_CASES[name]
    ours = kaplan_meier(time, event).table  # log-log limits: lifelines' exponential Greenwood
    theirs = KaplanMeierFitter().fit(time, event)
    np.testing.assert_allclose(ours["estimate"],
                               theirs.survival_function_at_times(ours["time"]).to_numpy(),
                               rtol=ARITHMETIC_RTOL)
    limits = theirs.confidence_interval_survival_function_.reindex(ours["time"])
    # where S = 1 or 0 the log-log limits are undefined (lifelines: NaN or the bound)
    inside = ((ours["estimate"] > 0) & (ours["estimate"] < 1)).to_numpy()
    np.testing.assert_allclose(ours["ci_lower"].to_numpy()[inside],
                               limits.iloc[:, 0].to_numpy()[inside], rtol=ARITHMETIC_RTOL)
    np.testing.assert_allclose(ours["ci_upper"].to_numpy()[inside],
                               limits.iloc[:, 1].to_numpy()[inside], rtol=ARITHMETIC_RTOL)


@pytest.mark.parametrize(("time", "event", "group"), [
    (AML["time"], AML["status"], AML["x"]),
    (LUNG_KM["time"], (LUNG_KM["status"] == 2).astype(int), LUNG_KM["sex"]),
])
def test_logrank_matches_lifelines(time, event, group):
    ours = logrank(time, event, group)
    first = (group == group.iloc[0]).to_numpy()
    theirs = logrank_test(time[first], time[~first], event[first], event[~first])
    assert ours.statistic == pytest.approx(theirs.test_statistic, rel=ARITHMETIC_RTOL)
    assert ours.p_value == pytest.approx(theirs.p_value, rel=ARITHMETIC_RTOL)


def _veteran_celltype() -> pd.DataFrame:
    x = VETERAN[["time", "status", "trt2", "karno"]].copy()
    for level in ("smallcell", "adeno", "large"):
        x[f"celltype_{level}"] = (VETERAN["celltype"] == level).astype(float)
    return x


COX_CASES = {
    "lung": (LUNG, "time", "event", None),
    "ovarian": (OVARIAN, "futime", "fustat", None),
    "veteran_celltype": (_veteran_celltype(), "time", "status", None),
    "veteran_strata": (VETERAN, "time", "status", "celltype"),
}


@pytest.mark.parametrize("name", sorted(COX_CASES))
def test_cox_efron_matches_lifelines(name):
    data, time, event, strata = COX_CASES[name]
    covariates = [c for c in data.columns if c not in (time, event, strata)]
    ours = fit_cox(data[time], data[event], data[covariates],
                   strata=None if strata is None else data[strata])
    theirs = CoxPHFitter().fit(data, time, event, strata=strata, fit_options=LIFELINES_FIT)
    assert ours.converged
    coef = ours.table.set_index("term")
    se = coef["std_error"].to_numpy()
    loglik = ours.loglik[1]
    # each fit within its own stopping margin of the MLE
    bound = max(newton_se(loglik), lifelines_cox_se(loglik))
    assert_within_se(coef["coef"], theirs.params_[covariates], se, bound, f"{name} coef")
    # SEs from the information at the estimates: a relative change of the same order
    np.testing.assert_allclose(se, theirs.standard_errors_[covariates].to_numpy(),
                               rtol=4 * TWO_FITS * bound)
    assert loglik == pytest.approx(theirs.log_likelihood_, abs=1e-12 + 1e-14 * abs(loglik))
