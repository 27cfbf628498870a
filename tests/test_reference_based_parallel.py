"""``n_jobs`` of ``dno.reference_based``: worker processes give exactly the numbers of
one process (each sample has its own seed; the jackknife is deterministic). Exact
equality, not a tolerance: the same arithmetic runs on the same inputs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import dryneedle_outcomes as dno
from dryneedle_outcomes.stats.imputation.parallel import n_workers, run_tasks


@pytest.fixture(scope="module")
def cohort():
    return dno.simulate_cohort(n_patients=30, seed=5, n_sessions=3)


@pytest.mark.parametrize("kw", [
    dict(variance="jackknife"),
    dict(variance="bootstrap", n_samples=6, seed=2),
    dict(approach="approximate_bayes", n_samples=6, seed=2),
    dict(approach="bayes", n_samples=6, seed=2, warmup=10, thin=2),
], ids=["jackknife", "bootstrap", "approximate_bayes", "bayes"])
def test_two_workers_give_exactly_the_numbers_of_one(cohort, kw):
    args = dict(method="jump_to_reference", reference_arm="sham", progress=False, **kw)
    one = dno.reference_based(cohort, "first_step_pain", n_jobs=1, **args)
    two = dno.reference_based(cohort, "first_step_pain", n_jobs=2, **args)
    assert one.arm_difference["estimate"].notna().all()
    pd.testing.assert_frame_equal(one.arm_difference, two.arm_difference, check_exact=True)
    np.testing.assert_array_equal(one.engine.samples, two.engine.samples)
    np.testing.assert_array_equal(one.engine.imputed, two.engine.imputed)
    tp1 = one.tipping_point([0.0, 1.0]).table
    tp2 = two.tipping_point([0.0, 1.0]).table
    pd.testing.assert_frame_equal(tp1, tp2, check_exact=True)


def test_run_tasks_keeps_task_order_across_workers():
    tasks = list(range(37))
    assert run_tasks(lambda t: (t, t * t), tasks, n_jobs=2) == [(t, t * t) for t in tasks]
    assert n_workers(None) == 1 and n_workers(-1) >= 1
