"""``TrajectoryResult.diagnostics()`` against R: nlme's normalized residuals and R's
pairwise-complete covariance of the residuals.

Golden values: tests/reference/model_terms/residuals.csv (``fitted(m)``,
``residuals(m, type = "response")``, ``residuals(m, type = "normalized")`` of
``nlme::gls`` unstructured fits with the baseline-by-visit interaction: the sample
cohort and mmrm's fev_data) and residual_cov.csv (``cov``/``cor(w, use =
"pairwise.complete.obs")`` of the response residuals by visit, pooled and per arm), made
by make_reference.R there.

Tolerances: fitted values and residuals 1e-4 of the outcome's SD (absolute): the
coefficients agree to 1e-4 relative or 1e-4 of their SE (tests/test_model_terms.py);
normalized residuals 1e-3 absolute (they are on the unit scale and carry the
differences of the estimated covariance too, which the optimisers' stopping rules leave
at about 1e-4 relative); the pairwise covariances and correlations of the residuals
1e-3 relative (the same residuals, summed).
"""

from __future__ import annotations

import warnings
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
import pytest

import dryneedle_outcomes as dno
from dryneedle_outcomes.stats.mixed.residuals import cholesky_residuals

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from test_model_terms import fev_cohort  # noqa: E402

REF_DIR = Path(__file__).parent / "reference" / "model_terms"
RESID = pd.read_csv(REF_DIR / "residuals.csv")
COV = pd.read_csv(REF_DIR / "residual_cov.csv")
SCALED_ATOL, COV_RTOL = 1e-3, 1e-3


def _fit(dataset, sample_cohort):
    if dataset == "fev":
        return dno.fit_trajectory(fev_cohort(), "vas_pain", model="mmrm", reference_arm="PBO")
    return dno.fit_trajectory(sample_cohort, model="mmrm")


@pytest.mark.parametrize("dataset", ["sample", "fev"])
def test_scaled_residuals_are_nlme_normalized_residuals(sample_cohort_r, dataset):
    diag = _fit(dataset, sample_cohort_r).diagnostics()
    ref = RESID[RESID["dataset"] == dataset].astype({"patient_id": str})
    both = diag.residuals.merge(ref, on=["patient_id", "visit"], suffixes=("", "_r"))
    assert len(both) == len(ref) == len(diag.residuals)
    sd = both["observed"].std()
    np.testing.assert_allclose(both["observed"], both["observed_r"], rtol=1e-12)
    np.testing.assert_allclose(both["fitted"], both["fitted_r"], atol=1e-4 * sd)
    np.testing.assert_allclose(both["residual"], both["residual_r"], atol=1e-4 * sd)
    np.testing.assert_allclose(both["scaled_residual"], both["normalized"], atol=SCALED_ATOL)


@pytest.mark.parametrize("dataset", ["sample", "fev"])
def test_observed_covariance_is_pairwise_complete(sample_cohort_r, dataset):
    diag = _fit(dataset, sample_cohort_r).diagnostics()
    ref = COV[COV["dataset"] == dataset]
    both = diag.covariance.merge(ref, on=["group", "visit_1", "visit_2"],
                                 suffixes=("", "_r"))
    assert len(both) == len(ref) and set(ref["group"]) <= set(diag.covariance["group"])
    np.testing.assert_allclose(both["observed_covariance"], both["observed_covariance_r"],
                               rtol=COV_RTOL)
    np.testing.assert_allclose(both["observed_correlation"],
                               both["observed_correlation_r"], rtol=COV_RTOL)
    # the fitted covariance is the MMRM's Sigma, in every group
    fit_sigma = diag.covariance.query("group == 'pooled'")
    var = fit_sigma[fit_sigma["visit_1"] == fit_sigma["visit_2"]]["fitted_covariance"]
    sigma = _fit(dataset, sample_cohort_r).fit.extra["Sigma"]
    np.testing.assert_allclose(var, np.diag(sigma))


def test_random_effects_scaled_residuals_whiten_their_covariance():
    """For a random-effects model V_i = Z_i G Z_i' + s2 I: scaling by the Cholesky factor
    of V_i turns draws from N(0, V_i) into independent standard normals (checked on
    simulated draws: their covariance is the identity within sampling error)."""
    rng = np.random.default_rng(5)
    n_pat, m = 4000, 3
    t = np.tile(np.arange(m, dtype=float), n_pat)
    Z = np.column_stack([np.ones(n_pat * m), t])
    G = np.array([[4.0, 0.5], [0.5, 1.0]])
    s2 = 2.0
    V = Z[:m] @ G @ Z[:m].T + s2 * np.eye(m)
    r = (rng.standard_normal((n_pat, m)) @ np.linalg.cholesky(V).T).ravel()
    groups = np.repeat(np.arange(n_pat), m)
    scaled = cholesky_residuals(r, groups, Z=Z, G=G, sigma2=s2).reshape(n_pat, m)
    # 4000 draws: the SE of a sample (co)variance of standard normals is about 0.016-0.022
    np.testing.assert_allclose(np.cov(scaled.T), np.eye(m), atol=0.08)


def test_diagnostics_result(sample_cohort):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fit = dno.fit_trajectory(sample_cohort, model="random_slope")
    diag = fit.diagnostics()
    assert len(diag.residuals) == fit.n_observations
    assert diag.qq.groupby("visit").size().to_dict() == \
        diag.residuals.groupby("visit").size().to_dict()
    # QQ points are sorted within visit, theoretical quantiles symmetric about 0
    for _, g in diag.qq.groupby("visit"):
        assert g["scaled_residual"].is_monotonic_increasing
        np.testing.assert_allclose(g["theoretical"].to_numpy(),
                                   -g["theoretical"].to_numpy()[::-1], atol=1e-12)
    groups = list(dict.fromkeys(diag.covariance["group"]))
    assert groups == ["pooled", *fit.frame.arms]
    text = diag.summary()
    assert "Scaled residuals" in text and "Correlation over visits" in text
    assert set(diag.tables()) == {"covariance"}
    axes = diag.plot()
    assert len(axes) == 3
    assert len(axes[0].collections[0].get_offsets()) == fit.n_observations
    assert sum(len(c.get_offsets()) for c in axes[1].collections) == fit.n_observations
    n_pairs = len(fit.frame.visits) * (len(fit.frame.visits) - 1) // 2
    assert len(axes[2].collections[0].get_offsets()) == n_pairs
    fig, ax = plt.subplots()
    assert len(diag.plot(ax=ax)) == 3 and ax not in fig.axes  # split into three panels
    plt.close("all")


def test_report_appendix_draws_the_model_checks(small_run):
    """The run's report ends its appendix with the model checks: one model-check figure
    of the primary trajectory model, written beside the other figures."""
    text = (small_run / "report.html").read_text(encoding="utf-8")
    assert '<h2 id="model-checks">Model checks</h2>' in text
    assert text.index('id="appendix"') < text.index('id="diagnostics"') \
        < text.index('id="model-checks"')
    assert "scaled (Cholesky-decorrelated) residuals" in text
    assert len(list((small_run / "figures").glob("diagnostics_*.png"))) == 1
