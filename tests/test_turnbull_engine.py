"""The batched refits of the Turnbull bootstrap against one-at-a-time refits by turnbull().

Each bootstrap replicate is a weight vector on the data's distinct intervals.
:func:`replicate_curves` solves all of them together (batched Newton steps from the
full-data NPMLE); :func:`turnbull` solves one with the constrained Newton method from a
cold start. Both stop at the same certified optimum (KKT gap ``max_j d_j - 1 <= 1e-10``),
so their curves agree to well within ``TOL_CURVE`` and their medians (jump times,
i.e. interval midpoints) are equal.

Data: the golden Turnbull data sets (``tests/reference/survival_turnbull/``) and the
breast cosmesis data of Finkelstein & Wolfe (1985) from R's ``interval`` package at
``../shared/external/survival/bcos.csv`` (the tests that need it skip without it).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from dryneedle_outcomes.stats.survival import turnbull as tb
from dryneedle_outcomes.stats.survival.turnbull import turnbull
from dryneedle_outcomes.stats.survival.turnbull_boot import turnbull_bootstrap
from dryneedle_outcomes.stats.survival.turnbull_engine import (
    replicate_curves,
    replicate_statistics,
)
from dryneedle_outcomes.stats.survival.turnbull_summaries import (
    TurnbullMasses,
    rmst_estimate,
    step_survival,
)

REPO = Path(__file__).resolve().parents[1]
REF_DIR = REPO / "tests" / "reference" / "survival_turnbull"
BCOS = REPO.parent / "shared" / "external" / "survival" / "bcos.csv"
STALLED = REPO / "tests" / "data" / "turnbull_stalled_replicate.csv"

# Both fits stop at a KKT gap <= 1e-10, where the log-likelihood is within n * 1e-10
# of its maximum; the survival probabilities then agree to about 1e-11 (the largest
# difference seen on these data is 4e-11). 1e-8 leaves room and still fails on any
# real difference (a misplaced mass moves S by at least 1 / n).
TOL_CURVE = 1e-8
TOL_KKT = 1e-10  # turnbull()'s default stopping rule


def _read(name: str) -> pd.DataFrame:
    d = pd.read_csv(REF_DIR / f"{name}.csv")
    return d.assign(upper=d["upper"].fillna(np.inf))


def _bcos() -> pd.DataFrame:
    if not BCOS.exists():
        pytest.skip(f"the breast cosmesis data are not at {BCOS} (outside the repository)")
    d = pd.read_csv(BCOS)
    return pd.DataFrame({"lower": d["left"].astype(float),
                         "upper": d["right"].astype(float)})   # Inf reads as inf


def _weights(n_pairs: int, pair: np.ndarray, n_rep: int, seed: int) -> np.ndarray:
    """Replicate weights on the distinct pairs: observations drawn with replacement."""
    rng = np.random.default_rng(seed)
    draws = rng.integers(0, pair.size, (n_rep, pair.size))
    return np.stack([np.bincount(pair[row], minlength=n_pairs) for row in draws]).astype(float)


def _one_at_a_time(lower, upper, weights, times):
    surv, med, failed = [], [], 0
    for w in weights:
        keep = w > 0
        fit = turnbull(lower[keep], upper[keep], weights=w[keep])
        failed += not fit.converged
        surv.append(fit.survival_at(times))
        med.append(fit.median())
    return np.array(surv), np.array(med), failed


@pytest.mark.parametrize("name", ["relief", "soreness", "hand", "bcos"])
def test_batched_refits_equal_one_at_a_time_refits(name):
    d = _bcos() if name == "bcos" else _read(name)
    lo, up = d["lower"].to_numpy(float), d["upper"].to_numpy(float)
    pl, pu, pw, pair = tb._compress(lo, up, np.ones(lo.size))
    full = turnbull(pl, pu, weights=pw)
    times = np.unique(np.r_[full.curve["time"].to_numpy(), 0.0, np.nanmax(pl) + 1.0])
    weights = _weights(pl.size, pair, 60, seed=len(name))
    surv, med, failed, alone = replicate_curves(
        pl, pu, full.intervals["mass"].to_numpy(), weights, times, tol=TOL_KKT, max_iter=10000)
    ref_surv, ref_med, ref_failed = _one_at_a_time(pl, pu, weights, times)
    np.testing.assert_allclose(surv, ref_surv, rtol=0, atol=TOL_CURVE)
    np.testing.assert_array_equal(med, ref_med)   # jump times: equal, not close
    assert failed == ref_failed == 0
    assert alone < weights.shape[0]   # the batched path did the work


def test_replicates_without_some_intervals_use_their_own_turnbull_intervals():
    # dropping the only (7, 14] observation merges intervals: the replicate's curve
    # drops at the midpoints of its own Turnbull intervals, as a refit's does
    lo = np.array([0.0, 0, 7, 14, 3, 3])
    up = np.array([7.0, 14, 14, np.inf, 3, 20])
    full = turnbull(lo, up)
    weights = np.array([[1.0, 1, 1, 1, 1, 1], [2, 1, 0, 1, 0, 2], [0, 3, 0, 1, 1, 1]])
    times = np.array([1.0, 3.0, 3.5, 5.0, 10.0, 10.5, 12.0, 17.0, 30.0])
    surv, med, _, _ = replicate_curves(lo, up, full.intervals["mass"].to_numpy(), weights,
                                       times, tol=TOL_KKT, max_iter=1000)
    ref_surv, ref_med, _ = _one_at_a_time(lo, up, weights, times)
    np.testing.assert_allclose(surv, ref_surv, rtol=0, atol=TOL_CURVE)
    np.testing.assert_array_equal(med, ref_med)


def test_a_replicate_that_stalled_before_now_converges():
    # One patient-bootstrap replicate of the soreness of 10,000 simulated patients
    # (dno.simulate_tables(n_patients=10000, seed=10000), dry-needling arm): the Newton
    # polish solved its step by the normal equations and stalled at a KKT gap of
    # 1.6e-8 (masses near 1e-4 make them ill-conditioned); 12 of 50 such replicates did.
    d = pd.read_csv(STALLED)
    fit = turnbull(d["lower"], d["upper"].fillna(np.inf), weights=d["weight"])
    assert fit.converged and fit.warnings == []
    assert fit.max_gradient <= TOL_KKT


def test_bootstrap_replicates_are_patient_draws_refitted_in_any_batch():
    # More replicates than one batch (250). Replicate r's weights come from the r-th
    # draw of whole patients, exactly as before the engine changed; its curve and
    # median equal a one-at-a-time refit on those weights, whatever batch it is in.
    d = _read("soreness")
    times = np.array([6.0, 24.0, 48.0])
    res = turnbull_bootstrap(d["lower"], d["upper"], times=times, cluster=d["patient"],
                             n_boot=260, seed=8, progress=False)
    again = turnbull_bootstrap(d["lower"], d["upper"], times=times, cluster=d["patient"],
                               n_boot=260, seed=8, progress=False)
    np.testing.assert_array_equal(res.surv_replicates, again.surv_replicates)
    lo, up = d["lower"].to_numpy(float), d["upper"].to_numpy(float)
    pl, pu, _, pair = tb._compress(lo, up, np.ones(lo.size))
    codes, uniques = pd.factorize(d["patient"])
    rng = np.random.default_rng(8)
    weights = []
    for _ in range(260):
        drawn = np.bincount(rng.integers(0, len(uniques), len(uniques)),
                            minlength=len(uniques))
        weights.append(np.bincount(pair, weights=drawn[codes], minlength=pl.size))
    check = [0, 249, 250, 259]   # both sides of the batch boundary
    ref_surv, ref_med, _ = _one_at_a_time(pl, pu, np.array(weights)[check], times)
    np.testing.assert_allclose(res.surv_replicates[check], ref_surv, rtol=0, atol=TOL_CURVE)
    np.testing.assert_array_equal(res.median_replicates[check], ref_med)
    assert res.warnings == []


@pytest.mark.parametrize("name", ["relief", "soreness", "bcos"])
def test_batched_statistics_equal_one_at_a_time_refits(name):
    """The RMST and the right-end step curve of each replicate (``replicate_statistics``,
    used by the RMST and whole-session bootstraps) as a refit of that replicate alone."""
    d = _bcos() if name == "bcos" else _read(name)
    lo, up, w = tb.validate_intervals(d["lower"], d["upper"], None)
    pl, pu, pw, pair = tb.compress_pairs(lo, up, w)
    full = turnbull(pl, pu, weights=pw).intervals["mass"].to_numpy()
    weights = _weights(pl.size, pair, 60, seed=11)
    finite = pu[np.isfinite(pu)]
    tau = float(np.quantile(finite, 0.7))
    times = np.unique(finite)[:8]

    def stat(t_lo, t_hi, mass):
        fit = TurnbullMasses(t_lo, t_hi, mass, True)
        return np.concatenate([[rmst_estimate(fit, tau)], step_survival(fit, times)])

    ours, failed = replicate_statistics(pl, pu, full, weights, stat, tol=TOL_KKT,
                                        max_iter=10000)
    assert failed == 0
    for r, wr in enumerate(weights):
        keep = wr > 0
        alone = turnbull(pl[keep], pu[keep], weights=wr[keep])
        assert alone.converged
        np.testing.assert_allclose(ours[r], stat(*_masses_of(alone)), rtol=0,
                                   atol=TOL_CURVE * max(1.0, tau))


def _masses_of(fit):
    iv = fit.intervals
    return (iv["time_lower"].to_numpy(dtype=float), iv["time_upper"].to_numpy(dtype=float),
            iv["mass"].to_numpy(dtype=float))
