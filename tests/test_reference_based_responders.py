"""Responders from the imputations of ``dno.reference_based``: with nothing to impute
the pooled risk difference is the observed one (exactly: the same counts over the same
denominators), a seed reproduces the result, and conditional mean imputation is
refused with the reason."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import dryneedle_outcomes as dno
from dryneedle_outcomes.errors import AnalysisError


@pytest.fixture(scope="module")
def complete(tmp_path_factory):
    """16 patients, baseline and 3 visits each, no missing value."""
    folder = tmp_path_factory.mktemp("complete")
    rng = np.random.default_rng(8)
    n = 16
    ids = [f"P{i:02d}" for i in range(n)]
    pts = pd.DataFrame({"patient_id": ids, "arm": ["dry_needling", "sham"] * (n // 2)})
    base = rng.uniform(50, 80, n).round()
    drop = np.where(np.arange(n) % 2 == 0, 25.0, 10.0)
    vals = base[:, None] - drop[:, None] * np.array([0.4, 0.8, 1.0]) + \
        rng.normal(0, 8, (n, 3)).round()
    a = pd.DataFrame({"patient_id": np.repeat(ids, 4), "visit": np.tile([0, 1, 2, 3], n),
                      "first_step_pain": np.column_stack([base, vals]).ravel()})
    pts.to_csv(folder / "patients.csv", index=False)
    a.to_csv(folder / "assessments.csv", index=False)
    return dno.load_cohort(folder / "assessments.csv", folder / "patients.csv")


def test_with_nothing_missing_the_pooled_difference_is_the_observed_one(complete):
    res = dno.reference_based(complete, method="jump_to_reference", reference_arm="sham",
                              approach="approximate_bayes", n_samples=3, seed=4,
                              progress=False)
    assert not res.engine.missing.any()
    rd = res.responders().risk_difference
    obs = dno.responders(complete, "first_step_pain", missing="observed",
                         reference_arm="sham").comparison
    obs = obs[obs["arm"] == "dry_needling"].sort_values("visit")
    assert rd["visit"].tolist() == obs["visit"].tolist()
    assert 0 < obs["estimate"].abs().max()
    # exact: the same counts over the same denominators
    np.testing.assert_array_equal(rd["estimate"].to_numpy(), obs["estimate"].to_numpy())
    # nothing imputed: no between-imputation variance, the Wald SE, a normal interval
    p1 = res.responders().proportions
    a = p1[p1["arm"] == "dry_needling"]["proportion"].to_numpy()
    b = p1[p1["arm"] == "sham"]["proportion"].to_numpy()
    np.testing.assert_allclose(rd["std_error"], np.sqrt(a * (1 - a) / 8 + b * (1 - b) / 8),
                               rtol=1e-12)   # the same formula: rounding only
    assert np.isinf(rd["df"]).all()


@pytest.fixture(scope="module")
def cohort():
    return dno.simulate_cohort(n_patients=40, seed=3)


def test_a_seed_reproduces_the_responders_and_imputed_values_count(cohort):
    kw = dict(method="jump_to_reference", reference_arm="sham", approach="approximate_bayes",
              n_samples=5, seed=9, progress=False)
    a = dno.reference_based(cohort, **kw).responders()
    b = dno.reference_based(cohort, **kw).responders()
    pd.testing.assert_frame_equal(a.risk_difference, b.risk_difference, check_exact=True)
    assert a.n_imputations == 5
    rd = a.risk_difference
    # where imputations changed someone's response: between-imputation variance, finite
    # df; where none did: none (df infinite, a normal interval)
    assert np.isfinite(rd["df"]).any() and (rd["df"] > 0).all()
    assert (rd["df"] < 1e6).sum() == np.isfinite(rd["df"]).sum()   # no rounding-level B
    assert ((rd["ci_lower"] <= rd["estimate"]) & (rd["estimate"] <= rd["ci_upper"])).all()
    assert set(a.tables()) == {"proportions", "risk_difference"}


def test_conditional_mean_is_refused_with_the_reason(cohort):
    res = dno.reference_based(cohort, method="mar", reference_arm="sham", progress=False)
    with pytest.raises(AnalysisError, match="conditional mean.*expected value.*"
                                            "approximate_bayes"):
        res.responders()
