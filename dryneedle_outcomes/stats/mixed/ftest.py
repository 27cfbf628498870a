"""F tests of ``L beta = 0`` for fitted mixed models: Satterthwaite (multi-df) and fixed df.

One job: given a contrast matrix ``L`` (any rank) and a fit's estimates, covariance and
df machinery, return the Wald F statistic, its numerator and denominator df and p-value.
The Kenward-Roger F is :meth:`.kenward_roger.KenwardRoger.test`; the between-within F
(with a model-based or empirical covariance) is :meth:`.robust.BetweenWithin.test`.

Satterthwaite for ``rank(L) = q > 1`` is the method of Fai & Cornelius (1996, J Stat
Comput Simul 54:363), as SAS PROC MIXED computes it for ``DDFM=SATTERTHWAITE`` (and
lmerTest and R's mmrm): with the spectral decomposition ``L C L' = P' D P``
(``C`` the covariance of the fixed effects), the ``q`` rows of ``P L`` are independent
1-df contrasts with Satterthwaite df ``nu_m = 2 d_m^2 / (g_m' A g_m)``; then
``E = sum_{nu_m > 2} nu_m / (nu_m - 2)`` and the denominator df is ``2 E / (E - q)``
(SAS's formula; when ``E <= q`` SAS reports 0 df, i.e. no test: here NaN). When all
``nu_m`` are equal this gives that common value, and for ``q = 1`` it is the 1-df
Satterthwaite df. Golden values: SAS PROC MIXED's Type 3 tables on mmrm's ``fev_data``
(``tests/reference/mmrm_sas_type3_empirical/``, ``tests/test_type3_sas.py``).
"""

from __future__ import annotations

import numpy as np
from scipy import stats

from ...errors import AnalysisError
from .engine import EngineFit, satterthwaite_df


def _check_L(L, p: int) -> tuple[np.ndarray, int]:
    L = np.atleast_2d(np.asarray(L, dtype=float))
    if L.shape[1] != p:
        raise AnalysisError(f"L must have {p} columns (one per fixed effect); got {L.shape}")
    q = int(np.linalg.matrix_rank(L))
    if q < L.shape[0]:
        raise AnalysisError(f"L must have full row rank; it has {L.shape[0]} rows of rank {q}")
    return L, q


def wald_f(L, beta: np.ndarray, vcov: np.ndarray, den_df: float) -> dict:
    """Wald F test of ``L beta = 0`` with a given covariance and denominator df.

    ``F = (L b)' (L C L')^-1 (L b) / q`` on ``(q, den_df)`` df, ``q = rank(L)``.

    Parameters
    ----------
    L : array_like, shape (q, p) or (p,)
        Contrast matrix of full row rank.
    beta : ndarray, shape (p,)
    vcov : ndarray, shape (p, p)
        Covariance of ``beta`` (model-based, empirical, ...).
    den_df : float
        Denominator df (``inf`` for a chi-square test divided by ``q``).

    Returns
    -------
    dict
        ``num_df``, ``den_df``, ``statistic`` (F), ``p_value``.

    Examples
    --------
    >>> import numpy as np
    >>> res = wald_f(np.eye(2), np.array([1.0, 0.0]), np.eye(2), 30.0)
    >>> res["num_df"], round(res["statistic"], 6)
    (2, 0.5)
    """
    L, q = _check_L(L, len(beta))
    est = L @ beta
    F = float(est @ np.linalg.solve(L @ vcov @ L.T, est)) / q
    return {"num_df": q, "den_df": float(den_df), "statistic": F,
            "p_value": float(stats.f.sf(F, q, den_df))}


def satterthwaite_f(fit: EngineFit, L) -> dict:
    """F test of ``L beta = 0`` with Satterthwaite (Fai-Cornelius) denominator df.

    The covariance is the model-based ``fit.vcov``; the df use ``fit.jac_vcov`` and
    ``fit.cov_varpar`` (the inverse observed information of the variance parameters, as
    SAS's ``DDFM=SATTERTHWAITE``); see the module docstring for the multi-df rule.

    Parameters
    ----------
    fit : EngineFit
        From :func:`.mmrm.fit_mmrm` or :func:`.lmm.fit_lmm`.
    L : array_like, shape (q, p) or (p,)
        Contrast matrix of full row rank.

    Returns
    -------
    dict
        ``num_df`` (q), ``den_df``, ``statistic`` (F), ``p_value``, and ``df_components``
        (the ``nu_m`` of the ``q`` orthogonal 1-df contrasts).

    Examples
    --------
    >>> import numpy as np
    >>> from dryneedle_outcomes.stats.mixed.mmrm import fit_mmrm
    >>> rng = np.random.default_rng(3)
    >>> groups, visits = np.repeat(np.arange(40), 3), np.tile(np.arange(3), 40)
    >>> arm = np.repeat(rng.integers(0, 2, 40), 3)
    >>> X = np.column_stack([np.ones(120), arm, visits == 1, visits == 2])
    >>> y = 5 + arm + np.repeat(rng.normal(0, 1, 40), 3) + rng.normal(0, 1, 120)
    >>> fit = fit_mmrm(y, X, groups, visits, structure="cs")
    >>> res = satterthwaite_f(fit, [[0, 0, 1, 0], [0, 0, 0, 1]])
    >>> res["num_df"], bool(70 < res["den_df"] < 90)
    (2, True)
    """
    beta = np.asarray(fit.beta, dtype=float)
    Lt, d, F = orthogonal_contrasts(L, beta, fit.vcov)
    q = len(d)
    nu = satterthwaite_df(Lt, d, fit.jac_vcov, fit.cov_varpar)
    den = fai_cornelius_df(nu)
    p = float(stats.f.sf(F, q, den))  # NaN when there is no df
    return {"num_df": q, "den_df": den, "statistic": F, "p_value": p,
            "df_components": nu}


def orthogonal_contrasts(L, beta: np.ndarray, vcov: np.ndarray):
    """``P L`` (rows: independent 1-df contrasts), the eigenvalues ``d`` of ``L C L'`` and
    the F statistic: the decomposition behind :func:`satterthwaite_f`."""
    L, q = _check_L(L, len(beta))
    C = L @ vcov @ L.T
    d, P = np.linalg.eigh(0.5 * (C + C.T))
    d, P = d[::-1], P[:, ::-1]
    Lt = P.T @ L
    return Lt, d, float(np.sum((Lt @ beta) ** 2 / d)) / q


def fai_cornelius_df(nu) -> float:
    """Denominator df from the df ``nu_m`` of ``q`` independent 1-df contrasts (SAS's rule,
    module docstring): ``2 E / (E - q)``, ``E = sum_{nu_m > 2} nu_m / (nu_m - 2)``.

    Examples
    --------
    >>> round(fai_cornelius_df([30.0, 30.0]), 6), round(fai_cornelius_df([20.0, 60.0]), 3)
    (30.0, 29.474)
    """
    nu = np.asarray(nu, dtype=float)
    q = len(nu)
    if q == 1:
        return float(nu[0])
    if np.all(np.isinf(nu)):
        return np.inf
    big = nu > 2
    E = float(np.sum(nu[big] / (nu[big] - 2.0)))
    return 2.0 * E / (E - q) if E > q else np.nan


__all__ = ["fai_cornelius_df", "orthogonal_contrasts", "satterthwaite_f", "wald_f"]
