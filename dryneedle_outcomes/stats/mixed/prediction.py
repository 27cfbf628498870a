"""Conditional predictions of missing outcomes given a patient's observed ones (MMRM).

One job: given the fitted mean ``X beta``, the covariance ``Sigma`` of the outcome over
the T scheduled visits and the covariance of ``beta``, predict each missing value from
the same patient's observed values -- the conditional mean of the multivariate normal
(the best linear unbiased predictor, "kriging" in SAS's words) -- with its variance.
Arrays in, arrays out; no cohort, no visit vocabulary.

For a patient with observed visits ``o`` and a missing visit ``t``::

    B      = Sigma[t, o] Sigma[o, o]^-1
    y_hat  = x_t beta + B (y_o - X_o beta) = l_t beta + B y_o,   l_t = x_t - B X_o
    C      = Sigma[t, t] - B Sigma[o, t]                 (conditional variance)
    var_confidence = l_t V_beta l_t'                      (from estimating beta)
    var_prediction = C + l_t V_beta l_t'

``var_prediction`` is the mean squared error of ``y_hat`` as a predictor of the
unobserved ``y_t`` when the covariance parameters are known (Harville 1976; the
universal-kriging variance), the plug-in prediction variance that SAS PROC MIXED prints
as ``StdErrPred`` in ``OUTP=`` for a missing response (``DDFM=SATTERTHWAITE``), and R's
mmrm returns from its C++ ``predict`` at the estimates. ``V_beta`` is whatever
covariance of ``beta`` the caller passes: model-based ``(X' V^-1 X)^-1``, or the
Kenward-Roger adjusted one (SAS uses it for ``OUTPM=`` with ``DDFM=KR``). It leaves out
the uncertainty of the covariance parameters in ``B`` and ``C`` (the Kackar-Harville
term), which SAS adds to ``StdErrPred`` of a missing response under ``DDFM=KR``.

A patient with no observed value gets the marginal prediction ``x_t beta`` with
variance ``Sigma[t, t] + x_t V_beta x_t'``; an observed value is returned as it is,
with zero variance (as mmrm's ``predict(conditional = TRUE)``; SAS's ``OUTP=`` gives
the fitted mean there instead, which is ``conditional=False``).

How it is made fast: ``B`` and ``C`` depend only on the set of visits observed, so they
are computed once per missingness pattern (a trial has few) as T x T matrices, and every
missing row is then gathered from its pattern's matrices with array indexing; there is
no loop over patients.

Validated against SAS PROC MIXED ``OUTP=`` / ``OUTPM=`` on mmrm's ``fev_data``
(``tests/reference/mmrm_predict_sas/``, ``tests/test_predict_sas.py``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ...errors import AnalysisError
from .mmrm_data import as_codes


@dataclass(frozen=True, eq=False)
class PredictionBlock:
    """The missing rows of patients who share a pattern, with their joint covariance.

    Attributes
    ----------
    visits : ndarray of int, shape (m,)
        The missing visits predicted (codes 0..T-1), ascending.
    rows : ndarray of int, shape (n_patients, m)
        Positions in the input arrays of those rows, one line per patient.
    conditional_cov : ndarray, shape (m, m)
        Covariance of the missing values given the observed ones (``C`` above, jointly),
        the same for every patient of the block; what an imputation draws residuals from.
    """

    visits: np.ndarray
    rows: np.ndarray
    conditional_cov: np.ndarray


@dataclass(frozen=True, eq=False)
class ConditionalPrediction:
    """The result of :func:`conditional_predict`; one entry per input row.

    Attributes
    ----------
    estimate : ndarray, shape (n,)
        The conditional mean (``conditional=True``; an observed value is itself) or the
        marginal mean ``x beta``.
    observed : ndarray of bool, shape (n,)
        Whether the row's outcome was observed (finite ``y``).
    L : ndarray, shape (n, p)
        ``d estimate / d beta``: ``x_t - B X_o`` (zero for an observed value when
        conditional); ``estimate = L beta + offset``.
    offset : ndarray, shape (n,)
        ``B y_o`` (the observed values' part; zero when marginal), or the observed value.
    conditional_variance : ndarray, shape (n,)
        ``C``: variance of the value given the observed ones (``Sigma[t, t]`` when
        marginal or nothing is observed; zero for an observed value).
    var_confidence : ndarray, shape (n,)
        ``L V_beta L'``.
    var_prediction : ndarray, shape (n,)
        ``conditional_variance + var_confidence``.
    blocks : tuple of PredictionBlock
        The missing rows grouped by pattern with their joint conditional covariance
        (``conditional=True`` only; empty otherwise).
    """

    estimate: np.ndarray
    observed: np.ndarray
    L: np.ndarray
    offset: np.ndarray
    conditional_variance: np.ndarray
    var_confidence: np.ndarray
    var_prediction: np.ndarray
    blocks: tuple[PredictionBlock, ...]


def _pattern_matrices(masks: np.ndarray, Sigma: np.ndarray):
    """``B`` (T x T, zero outside the observed columns) and ``C`` per observed pattern."""
    K, T = masks.shape
    B = np.zeros((K, T, T))
    C = np.empty((K, T, T))
    for k, mask in enumerate(masks):  # one small solve per missingness pattern
        o = np.flatnonzero(mask)
        if len(o) == 0:
            C[k] = Sigma
            continue
        Bo = np.linalg.solve(Sigma[np.ix_(o, o)], Sigma[o, :]).T  # (T, m)
        B[k][:, o] = Bo
        C[k] = Sigma - Bo @ Sigma[o, :]
    return B, 0.5 * (C + C.transpose(0, 2, 1))


def conditional_predict(y, X, groups, visits, Sigma, beta, vcov_beta, *,
                        conditional: bool = True) -> ConditionalPrediction:
    """Predict each row's outcome from the same patient's observed values.

    Parameters
    ----------
    y : array_like, shape (n,)
        Outcome; NaN where missing (the rows to predict), finite where observed (the
        values conditioned on).
    X : array_like, shape (n, p)
        Fixed-effects design rows (of the observed and the missing rows).
    groups : array_like of int, shape (n,)
        Patient codes.
    visits : array_like of int, shape (n,)
        Visit codes 0..T-1; at most one row per patient and visit.
    Sigma : array_like, shape (T, T)
        Covariance of the outcome over the visits (positive definite).
    beta : array_like, shape (p,)
    vcov_beta : array_like, shape (p, p)
        Covariance of ``beta`` (model-based or Kenward-Roger adjusted).
    conditional : bool
        True: the conditional mean given the patient's observed values (observed values
        returned as they are); False: the marginal mean ``x beta`` for every row.

    Returns
    -------
    ConditionalPrediction

    Raises
    ------
    AnalysisError
        On malformed inputs (shapes, codes out of range, a patient with two rows at one
        visit, a covariance matrix that is not positive definite).

    Examples
    --------
    Two visits with correlation 0.5 and unit variances; the patient's first visit is 1
    above the mean, so the second is predicted 0.5 above it, with conditional variance
    1 - 0.5^2:

    >>> import numpy as np
    >>> Sigma = np.array([[1.0, 0.5], [0.5, 1.0]])
    >>> res = conditional_predict([11.0, np.nan], np.ones((2, 1)), [0, 0], [0, 1], Sigma,
    ...                           beta=[10.0], vcov_beta=[[0.0]])
    >>> res.estimate, res.conditional_variance, res.observed
    (array([11. , 10.5]), array([0.  , 0.75]), array([ True, False]))
    """
    y = np.asarray(y, dtype=float).ravel()
    n = len(y)
    X = np.asarray(X, dtype=float)
    if X.ndim == 1:
        X = X[:, None]
    if X.ndim != 2 or X.shape[0] != n or not np.all(np.isfinite(X)):
        raise AnalysisError(f"X must be a finite array of shape (n, p) with n = len(y) = {n};"
                            f" got shape {X.shape}")
    p = X.shape[1]
    beta = np.asarray(beta, dtype=float).ravel()
    V = np.asarray(vcov_beta, dtype=float)
    if beta.shape != (p,) or V.shape != (p, p):
        raise AnalysisError(f"beta must have {p} entries and vcov_beta shape ({p}, {p}); got "
                            f"{beta.shape} and {V.shape}")
    Sigma = np.asarray(Sigma, dtype=float)
    T = Sigma.shape[0] if Sigma.ndim == 2 else 0
    if Sigma.shape != (T, T) or T == 0:
        raise AnalysisError(f"Sigma must be a square matrix; got shape {Sigma.shape}")
    try:
        np.linalg.cholesky(Sigma)
    except np.linalg.LinAlgError:
        raise AnalysisError("Sigma is not positive definite") from None
    g = as_codes(groups, "groups", n)
    v = as_codes(visits, "visits", n)
    if n and (v.min() < 0 or v.max() >= T):
        raise AnalysisError(f"visit codes must lie in 0..{T - 1} (the size of Sigma)")
    _, g = np.unique(g, return_inverse=True)
    g = g.ravel()
    G = int(g.max()) + 1 if n else 0
    key = g * T + v
    if len(np.unique(key)) < n:
        raise AnalysisError("a patient has two rows at one visit; at most one row per "
                            "patient and visit")

    obs = np.isfinite(y)
    xb = X @ beta
    if not conditional:
        var_conf = np.einsum("ij,jk,ik->i", X, V, X)
        cvar = np.diag(Sigma)[v]
        return ConditionalPrediction(
            estimate=xb, observed=obs, L=X.copy(), offset=np.zeros(n),
            conditional_variance=cvar, var_confidence=var_conf,
            var_prediction=cvar + var_conf, blocks=())

    seen = np.zeros((G, T), dtype=bool)
    seen[g[obs], v[obs]] = True
    masks, pat = np.unique(seen, axis=0, return_inverse=True)
    pat = pat.ravel()
    B, C = _pattern_matrices(masks, Sigma)
    resid = np.zeros((G, T))
    resid[g[obs], v[obs]] = y[obs] - xb[obs]
    Xg = np.zeros((G, T, p))
    Xg[g[obs], v[obs]] = X[obs]

    miss = np.flatnonzero(~obs)
    gm, vm = g[miss], v[miss]
    Bt = B[pat[gm], vm]  # (n_miss, T): each missing row's regression on its observed values
    estimate = y.copy()
    estimate[miss] = xb[miss] + np.einsum("rt,rt->r", Bt, resid[gm])
    L = np.zeros((n, p))
    L[miss] = X[miss] - np.einsum("rt,rtp->rp", Bt, Xg[gm])
    offset = y.copy()
    offset[miss] = estimate[miss] - L[miss] @ beta
    cvar = np.zeros(n)
    cvar[miss] = C[pat[gm], vm, vm]
    var_conf = np.einsum("ij,jk,ik->i", L, V, L)
    return ConditionalPrediction(
        estimate=estimate, observed=obs, L=L, offset=offset, conditional_variance=cvar,
        var_confidence=var_conf, var_prediction=cvar + var_conf,
        blocks=_blocks(g[miss], vm, miss, pat, C, G, T))


def _blocks(gm, vm, rows, pat, C, G, T) -> tuple[PredictionBlock, ...]:
    """Group the missing rows by (observed pattern, visits predicted)."""
    if len(rows) == 0:
        return ()
    M = np.zeros((G, T), dtype=bool)
    M[gm, vm] = True
    row_of = np.full((G, T), -1)
    row_of[gm, vm] = rows
    patients = np.unique(gm)
    key = np.column_stack([pat[patients], M[patients]])
    keys, which = np.unique(key, axis=0, return_inverse=True)
    which = which.ravel()
    out = []
    for j, k in enumerate(keys):  # one block per (observed, predicted) pattern
        vis = np.flatnonzero(k[1:])
        members = patients[which == j]
        out.append(PredictionBlock(visits=vis, rows=row_of[np.ix_(members, vis)],
                                   conditional_cov=C[k[0]][np.ix_(vis, vis)]))
    return tuple(out)


__all__ = ["ConditionalPrediction", "PredictionBlock", "conditional_predict"]
