"""Conditional and marginal predictions of the MMRM against SAS PROC MIXED OUTP= / OUTPM=.

Reference values: ``tests/reference/mmrm_predict_sas/sas_fev_predict.csv`` (SAS output
shipped in openpharma/mmrm's ``design/predict_interval/``; the README there gives the SAS
statements, which rows were kept and why). Data: ``fev_data`` of R's mmrm package, read
from ``../shared/external/mmrm/fev_data.csv`` relative to the repository; the tests skip
when it is absent.

Model (REML): ``MODEL FEV1 = ARMCD / DDFM=...; REPEATED AVISIT / SUBJECT=USUBJID TYPE=t``,
t in UN, CS, AR(1), TOEP; ``OUTP=`` (``P``, ``PSD``: conditional prediction of a missing
FEV1 given the patient's observed ones, and its standard error) and ``OUTPM=`` (``PM``,
``PMSD``: the marginal mean ``x beta`` and its SE).

Tolerances, and why
-------------------
Every quantity ``Q`` compared is a smooth function of the covariance parameters ``phi``
(``beta`` is their GLS function). SAS stops by ``CONVH=1E-8`` and the engine by its own
rule, which leave each fit within ``r`` standard errors of the REML optimum in the
metric of the covariance ``W`` of ``phi`` (``tolerances.sas_mixed_se`` +
``tolerances.mmrm_se``: 4.1e-3 here). To first order ``Q`` then moves by at most
``r * sqrt(g' W g)`` (Cauchy-Schwarz), ``g = dQ / dphi``, which the test computes per
value by central differences (through the GLS ``beta`` and ``(X' V^-1 X)^-1`` at
each ``phi``); ``TWO_FITS`` allows the two fits on either side of the optimum. The
values were saved by SAS with 15 significant digits, so rounding adds nothing (1e-12
relative is allowed for the arithmetic). Under ``DDFM=KR`` the marginal SE is the
Kenward-Roger LS-mean SE of ``tests/test_kenward_roger_sas.py`` and takes its
tolerance (relative ``TWO_FITS * r * 0.1``, from ``mmrm_sas/sensitivity.py``).

Observed (this machine): every difference is at most 0.21 of its tolerance (UN; TOEP
0.09, AR(1) 0.002, CS 4e-5): conditional predictions and their SEs, marginal ones and
theirs.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from tolerances import TWO_FITS, mmrm_se, sas_mixed_se

from dryneedle_outcomes.stats.mixed.covariance import make_structure
from dryneedle_outcomes.stats.mixed.engine import numerical_jacobian
from dryneedle_outcomes.stats.mixed.kenward_roger import kenward_roger_adjustment
from dryneedle_outcomes.stats.mixed.mmrm import fit_mmrm
from dryneedle_outcomes.stats.mixed.prediction import conditional_predict

REPO = Path(__file__).resolve().parents[1]
FEV_DATA = REPO.parent / "shared" / "external" / "mmrm" / "fev_data.csv"
REF_CSV = REPO / "tests" / "reference" / "mmrm_predict_sas" / "sas_fev_predict.csv"

pytestmark = pytest.mark.skipif(
    not FEV_DATA.exists(),
    reason=f"mmrm's fev_data is not at {FEV_DATA} (outside the repository; see "
           "tests/reference/mmrm_predict_sas/README.md)")

STRUCTURES = {"UN": "unstructured", "CS": "cs", "AR(1)": "ar1", "TOEP": "toeplitz"}
#: Bound on the relative change of a Kenward-Roger SE per SE of the covariance parameters
#: (tests/test_kenward_roger_sas.py, measured by tests/reference/mmrm_sas/sensitivity.py).
KR_SE_SENSITIVITY = 0.1


@pytest.fixture(scope="module")
def fev():
    """All 800 rows of fev_data (263 FEV1 missing), in the file's (SAS's) order."""
    d = pd.read_csv(FEV_DATA)
    assert len(d) == 800 and d["FEV1"].isna().sum() == 263
    y = d["FEV1"].to_numpy(dtype=float)
    groups = pd.factorize(d["USUBJID"], sort=True)[0]
    visits = d["AVISIT"].str.removeprefix("VIS").astype(int).to_numpy() - 1
    X = np.column_stack([np.ones(len(d)), (d["ARMCD"] == "TRT").to_numpy(dtype=float)])
    # patient x VIS1..VIS4 in blocks of four rows (what _gls relies on)
    assert (visits == np.tile(np.arange(4), 200)).all()
    assert (groups.reshape(-1, 4) == groups[::4, None]).all()
    return y, X, groups, visits


@pytest.fixture(scope="module")
def reference():
    return pd.read_csv(REF_CSV)


@pytest.fixture(scope="module")
def fits(fev):
    y, X, g, v = fev
    obs = np.isfinite(y)  # SAS fits the rows with FEV1, as the engine does
    return {s: fit_mmrm(y[obs], X[obs], g[obs], v[obs], structure=st)
            for s, st in STRUCTURES.items()}


def _gls(fev, st, phi):
    """Sigma, GLS beta and (X' V^-1 X)^-1 at covariance parameters phi.

    Per patient (rows of fev_data are patient x VIS1..VIS4 in order): the inverse of
    ``Sigma`` restricted to the observed visits, padded with the identity at the missing
    ones, where ``X`` and ``y`` are set to zero.
    """
    y, X, g, v = fev
    Sigma = st.sigma_phi(phi)[0]
    o = np.isfinite(y).reshape(-1, 4)
    M = np.where(o[:, :, None] & o[:, None, :], Sigma, 0.0) + np.eye(4) * ~o[:, None, :]
    Mi = np.linalg.inv(M)
    Xi = np.where(o[:, :, None], X.reshape(-1, 4, X.shape[1]), 0.0)
    yi = np.where(o, y.reshape(-1, 4), 0.0)
    XtW = np.swapaxes(Xi, 1, 2) @ Mi
    Phi = np.linalg.inv((XtW @ Xi).sum(0))
    return Sigma, Phi @ np.einsum("ipt,it->p", XtW, yi), Phi


def _predictions(fev, st, phi, conditional):
    y, X, g, v = fev
    Sigma, beta, Phi = _gls(fev, st, phi)
    res = conditional_predict(y, X, g, v, Sigma, beta, Phi, conditional=conditional)
    return np.concatenate([res.estimate, np.sqrt(res.var_prediction),
                           np.sqrt(res.var_confidence)])


def _allowed(fev, fit, structure, conditional):
    """``TWO_FITS * r * sqrt(g' W g)`` for every estimate, prediction SE and confidence SE."""
    st = make_structure(STRUCTURES[structure], 4)
    J = numerical_jacobian(lambda p: _predictions(fev, st, p, conditional), fit.varpar)
    s = np.sqrt(np.einsum("ki,kl,li->i", J, fit.cov_varpar, J))
    dev = -2.0 * fit.loglik
    r = sas_mixed_se(dev) + mmrm_se(dev)
    return np.split(TWO_FITS * r * s, 3), r


def _ref(reference, structure, ddfm, quantity):
    sel = reference[(reference["structure"] == structure) & (reference["ddfm"] == ddfm)
                    & (reference["quantity"] == quantity)]
    assert len(sel), (structure, ddfm, quantity)
    return sel["row"].to_numpy() - 1, sel["value"].to_numpy(dtype=float)


def _check(ours, sas, allowed, what):
    tol = allowed + 1e-12 * np.abs(sas)
    diff = np.abs(ours - sas)
    worst = int(np.argmax(diff / tol))
    assert np.all(diff <= tol), (
        f"{what}: {int(np.sum(diff > tol))} value(s) outside; worst {ours[worst]!r} vs SAS "
        f"{sas[worst]!r} (allowed {tol[worst]:.3g})")


@pytest.mark.parametrize("structure", list(STRUCTURES))
def test_conditional_predictions_match_sas_outp(fev, fits, reference, structure):
    """Missing FEV1 given the observed ones: estimate and prediction SE (OUTP=)."""
    y, X, g, v = fev
    fit = fits[structure]
    assert fit.converged, fit.messages
    res = conditional_predict(y, X, g, v, fit.extra["Sigma"], fit.beta, fit.vcov)
    (a_est, a_pse, _), _ = _allowed(fev, fit, structure, conditional=True)
    rows, sas = _ref(reference, structure, "satterthwaite", "P")
    assert not res.observed[rows].any()
    _check(res.estimate[rows], sas, a_est[rows], f"{structure} conditional prediction")
    rows, sas = _ref(reference, structure, "satterthwaite", "PSD")
    _check(np.sqrt(res.var_prediction[rows]), sas, a_pse[rows],
           f"{structure} prediction SE")
    # an observed value is itself, with no variance (mmrm's predict(conditional = TRUE))
    obs = res.observed
    assert np.array_equal(res.estimate[obs], y[obs])
    assert not res.var_prediction[obs].any()
    if structure != "UN":  # the conditional mean does not depend on the df method
        rows, sas_kr = _ref(reference, structure, "kenwardroger", "P")
        _check(res.estimate[rows], sas_kr, a_est[rows], f"{structure} KR-run prediction")


@pytest.mark.parametrize("structure", list(STRUCTURES))
def test_marginal_predictions_match_sas_outpm(fev, fits, reference, structure):
    """``x beta`` and its SE (OUTPM=), model-based (DDFM=SATTERTHWAITE) and Kenward-Roger."""
    y, X, g, v = fev
    fit = fits[structure]
    res = conditional_predict(y, X, g, v, fit.extra["Sigma"], fit.beta, fit.vcov,
                              conditional=False)
    (a_est, _, a_cse), r = _allowed(fev, fit, structure, conditional=False)
    rows, sas = _ref(reference, structure, "satterthwaite", "PM")
    _check(res.estimate[rows], sas, a_est[rows], f"{structure} marginal prediction")
    rows, sas = _ref(reference, structure, "satterthwaite", "PMSD")
    _check(np.sqrt(res.var_confidence[rows]), sas, a_cse[rows], f"{structure} marginal SE")
    if structure == "UN":
        return  # no Kenward-Roger run of UN among the references (README)
    obs = np.isfinite(y)
    kr = kenward_roger_adjustment(fit, X[obs], g[obs], v[obs])
    res_kr = conditional_predict(y, X, g, v, fit.extra["Sigma"], fit.beta, kr.vcov_adjusted,
                                 conditional=False)
    rows, sas = _ref(reference, structure, "kenwardroger", "PM")
    _check(res_kr.estimate[rows], sas, a_est[rows], f"{structure} KR marginal prediction")
    rows, sas = _ref(reference, structure, "kenwardroger", "PMSD")
    _check(np.sqrt(res_kr.var_confidence[rows]), sas,
           TWO_FITS * r * KR_SE_SENSITIVITY * np.abs(sas), f"{structure} KR marginal SE")
