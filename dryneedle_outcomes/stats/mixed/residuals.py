"""Cholesky-scaled (decorrelated) residuals of a linear model with correlated errors.

For a subject with marginal residual vector ``r_i = y_i - X_i beta`` and marginal
covariance ``V_i``, the scaled residuals are ``C_i^-1 r_i`` with ``C_i`` the lower
Cholesky factor of ``V_i`` (``V_i = C_i C_i'``). Under the model they are uncorrelated
with unit variance, so they can be plotted against fitted values and on a normal QQ plot
as residuals of an ordinary regression: the "scaled residuals" of SAS PROC MIXED
(``RESIDUAL`` option, ``VCIRY``; Fitzmaurice, Laird & Ware, Applied Longitudinal
Analysis, 2nd ed., 2011, sec. 10.4) and, for a ``gls`` fit, ``nlme``'s
``residuals(fit, type = "normalized")`` (Pinheiro & Bates, Mixed-Effects Models in S and
S-PLUS, 2000, sec. 5.3). The order of a subject's rows is the order of the Cholesky
factor (visit order here, as SAS and nlme use).

``V_i`` is ``Sigma[v_i, v_i]`` for an MMRM (visits ``v_i`` attended) or
``Z_i G Z_i' + sigma^2 I`` for a random-effects model. Subjects are processed in batches
of equal size (one batched Cholesky and triangular solve per size): no loop over
subjects.

Golden values: ``tests/reference/model_terms/residuals.csv`` (``nlme::gls`` normalized
residuals), checked in ``tests/test_diagnostics.py``.

Examples
--------
>>> import numpy as np
>>> Sigma = np.array([[4.0, 2.0], [2.0, 4.0]])
>>> r = np.array([2.0, 2.0, 2.0])
>>> scaled = cholesky_residuals(r, np.array([0, 0, 1]), visits=np.array([0, 1, 1]),
...                             Sigma=Sigma)
>>> np.round(scaled, 4).tolist()
[1.0, 0.5774, 1.0]
"""

from __future__ import annotations

import numpy as np

from ...errors import AnalysisError


def cholesky_residuals(resid, groups, *, visits=None, Sigma=None, Z=None, G=None,
                       sigma2: float | None = None) -> np.ndarray:
    """Scaled residuals ``C_i^-1 r_i``, per subject (see the module docstring).

    Parameters
    ----------
    resid : array_like, shape (n,)
        Marginal residuals ``y - X beta``.
    groups : array_like of int, shape (n,)
        Subject codes; a subject's rows are taken in the order they appear.
    visits, Sigma : array_like, optional
        For an MMRM: visit codes ``0..T-1`` per row and the ``T x T`` covariance.
    Z, G, sigma2 : optional
        For a random-effects model: the random-effects design (n x q), their covariance
        (q x q) and the residual variance.

    Returns
    -------
    ndarray, shape (n,)
        In the order of ``resid``.
    """
    r = np.asarray(resid, dtype=float)
    groups = np.asarray(groups)
    mmrm = Sigma is not None
    if mmrm == (Z is not None):
        raise AnalysisError("give visits and Sigma (an MMRM) or Z, G and sigma2 (a "
                            "random-effects model)")
    order = np.argsort(groups, kind="stable")
    codes, starts, sizes = np.unique(groups[order], return_index=True, return_counts=True)
    out = np.empty_like(r)
    for m in np.unique(sizes):
        first = starts[sizes == m]
        rows = order[first[:, None] + np.arange(m)[None, :]]  # (P, m) row indices
        if mmrm:
            v = np.asarray(visits)[rows]
            V = np.asarray(Sigma, dtype=float)[v[:, :, None], v[:, None, :]]
        else:
            Zi = np.asarray(Z, dtype=float)[rows]  # (P, m, q)
            V = Zi @ np.asarray(G, dtype=float) @ np.swapaxes(Zi, 1, 2) \
                + float(sigma2) * np.eye(m)
        C = np.linalg.cholesky(V)
        out[rows] = np.linalg.solve(C, r[rows][:, :, None])[:, :, 0]
    return out


def pairwise_covariance(wide: np.ndarray) -> dict[str, np.ndarray]:
    """Pairwise-complete covariance and correlation of the columns of ``wide`` (NaN =
    missing), as R's ``cov``/``cor(use = "pairwise.complete.obs")``: each pair of
    columns uses the rows where both are present, centred at those rows' means.

    Returns a dict with ``n`` (pairs per entry), ``covariance`` and ``correlation``
    (NaN where fewer than 2 pairs, or a zero variance).

    Examples
    --------
    >>> w = np.array([[1.0, 2.0], [2.0, np.nan], [3.0, 5.0], [4.0, 3.0]])
    >>> np.round(pairwise_covariance(w)["covariance"], 4).tolist()
    [[1.6667, 1.1667], [1.1667, 2.3333]]
    """
    w = np.asarray(wide, dtype=float)
    M = (~np.isnan(w)).astype(float)
    R = np.where(np.isnan(w), 0.0, w)
    n = M.T @ M
    s_j = R.T @ M          # sum of column j over rows where k is present
    s_k = s_j.T
    ss_j = (R**2).T @ M
    ss_k = ss_j.T
    cross = R.T @ R
    with np.errstate(divide="ignore", invalid="ignore"):
        cov = (cross - s_j * s_k / n) / (n - 1)
        var_j = (ss_j - s_j**2 / n) / (n - 1)
        var_k = (ss_k - s_k**2 / n) / (n - 1)
        corr = cov / np.sqrt(var_j * var_k)
    few = n < 2
    cov[few] = np.nan
    corr[few | ~np.isfinite(corr)] = np.nan
    return {"n": n.astype(int), "covariance": cov, "correlation": corr}


__all__ = ["cholesky_residuals", "pairwise_covariance"]
