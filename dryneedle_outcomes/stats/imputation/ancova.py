"""The analysis model of imputed data (ANCOVA at each visit) and the pooling rules.

ANCOVA at each visit: ``y_v ~ arm + covariates`` by least squares, weighted by each
patient's resampling weight (a bootstrap count, 0 for the left-out patient of a
jackknife sample: identical to fitting the resampled data). Estimates per visit: the
difference of each arm from the comparator arm and the least-squares mean of each arm,
the prediction averaged over the analysed patients' covariates with the arm set
(rbmi's ``ancova`` with ``weights = "counterfactual"``; with numeric covariates only this
is the prediction at their mean, as every weighting of rbmi gives). Responses are
columns of one matrix, so all visits (and the delta-adjustment patterns of a tipping
point analysis) are fitted by one solve.

Pooling (rbmi's ``pool``; Wolbers et al. 2022, Pharm Stat 21:1246-57, and rbmi's
stat_specs vignette, section 3.9):

* ``jackknife``: ``se = sqrt((n-1)/n sum (theta_j - mean theta_j)^2)``, normal CI and p
  around the full-data estimate (Efron & Tibshirani 1993, ch. 11);
* ``bootstrap`` ``"normal"``: SD of the bootstrap estimates, normal CI and p;
  ``"percentile"``: CI from the quantiles (R's type 6) of the bootstrap estimates, p as
  twice the smaller tail level at which the quantile crosses 0 (rbmi's
  ``pval_percentile``);
* ``rubin``: Rubin's rules (Little & Rubin 2002) with the Barnard & Rubin (1999) df for
  complete-data df ``v_com`` (the ANCOVA's residual df), t-based CI and p.
"""

from __future__ import annotations

import numpy as np
from scipy import stats

from ...errors import AnalysisError


def ancova(Y: np.ndarray, arm: np.ndarray, x: np.ndarray, n_arms: int, *,
           weights: np.ndarray | None = None, comparator: int = 0,
           with_se: bool = False):
    """Per-column ANCOVA of ``Y`` (N, R) on arm and covariates ``x`` (N, c).

    Returns ``est`` of shape (K, R) with K = ``n_arms - 1`` differences (each
    non-comparator arm in code order minus the comparator) then ``n_arms`` least-squares
    means; with ``with_se`` also their model-based standard errors and the residual df.

    Examples
    --------
    >>> Y = np.array([[1.0], [2.0], [4.0], [6.0]]); arm = np.array([0, 0, 1, 1])
    >>> ancova(Y, arm, np.zeros((4, 0)), 2)[:, 0].tolist()
    [3.5, 1.5, 5.0]
    """
    N = len(arm)
    w = np.ones(N) if weights is None else np.asarray(weights, float)
    others = [a for a in range(n_arms) if a != comparator]
    D = np.column_stack([np.ones(N)] + [(arm == a).astype(float) for a in others] + [x])
    Dw = D * w[:, None]
    A = D.T @ Dw
    try:
        cA = np.linalg.cholesky(A)
    except np.linalg.LinAlgError:
        raise AnalysisError("the ANCOVA of the imputed data is singular (an arm without "
                            "patients, or collinear covariates)") from None
    coef = np.linalg.solve(cA.T, np.linalg.solve(cA, Dw.T @ Y))
    xbar = (w @ x) / w.sum() if x.shape[1] else np.zeros(0)
    n_o = len(others)
    C = np.zeros((n_o + n_arms, D.shape[1]))
    for k in range(n_o):
        C[k, 1 + k] = 1.0
    for a in range(n_arms):
        C[n_o + a, 0] = 1.0
        if a != comparator:
            C[n_o + a, 1 + others.index(a)] = 1.0
        C[n_o + a, 1 + n_o:] = xbar
    est = C @ coef
    if not with_se:
        return est
    resid = Y - D @ coef
    df = w.sum() - D.shape[1]
    if df <= 0:
        raise AnalysisError("the ANCOVA of the imputed data has no residual df")
    s2 = (w @ resid**2) / df
    Ainv = np.linalg.inv(A)
    v = np.einsum("kp,pq,kq->k", C, Ainv, C)
    return est, np.sqrt(np.outer(v, s2)), float(df)


def _normal(est, se, conf_level):
    z = stats.norm.ppf(0.5 + conf_level / 2.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = 2.0 * stats.norm.sf(np.abs(est / se))
    return {"estimate": est, "std_error": se, "ci_lower": est - z * se,
            "ci_upper": est + z * se, "p_value": p}


def pool_jackknife(point: np.ndarray, samples: np.ndarray, conf_level: float = 0.95) -> dict:
    """Jackknife SE (samples on axis 0) and normal CI/p around ``point``.

    Examples
    --------
    >>> r = pool_jackknife(np.array(1.0), np.array([0.9, 1.0, 1.1]))
    >>> round(float(r["std_error"]), 6)
    0.11547
    """
    n = samples.shape[0]
    se = np.sqrt((n - 1) / n * np.sum((samples - samples.mean(axis=0))**2, axis=0))
    return _normal(point, se, conf_level)


def pool_bootstrap(point: np.ndarray, samples: np.ndarray, conf_level: float = 0.95,
                   type: str = "percentile") -> dict:
    """Bootstrap normal or percentile inference (rbmi's ``pool(type=...)``).

    Examples
    --------
    >>> s = np.array([-1.0, 1.0, 2.0, 3.0])
    >>> r = pool_bootstrap(np.array(1.5), s, type="percentile")
    >>> round(float(r["p_value"]), 3)
    0.6
    """
    if type == "normal":
        return _normal(point, samples.std(axis=0, ddof=1), conf_level)
    if type != "percentile":
        raise AnalysisError(f"bootstrap type must be 'percentile' or 'normal', got {type!r}")
    alpha = 1.0 - conf_level
    lo = np.quantile(samples, alpha / 2, axis=0, method="weibull")   # R's type 6
    hi = np.quantile(samples, 1 - alpha / 2, axis=0, method="weibull")
    n = samples.shape[0]
    flat = samples.reshape(n, -1)
    p = np.empty(flat.shape[1])
    levels = np.arange(1, n + 1) / (n + 1)
    for j in range(flat.shape[1]):   # one column per estimate and visit (not patients)
        s = np.sort(flat[:, j])
        if np.all(s == 0):
            p[j] = 1.0
        elif s[0] > 0 or s[-1] < 0:
            p[j] = 0.0
        else:
            zero = np.flatnonzero(s == 0)
            if len(zero):
                q = (levels[zero[0]], 1.0 - levels[zero[-1]])
            else:
                x = float(np.interp(0.0, s, levels))
                q = (x, 1.0 - x)
            p[j] = min(2.0 * min(q), 1.0)
    return {"estimate": point, "std_error": np.full(np.shape(point), np.nan),
            "ci_lower": lo, "ci_upper": hi, "p_value": p.reshape(np.shape(point))}


def pool_rubin(ests: np.ndarray, ses: np.ndarray, v_com: float,
               conf_level: float = 0.95) -> dict:
    """Rubin's rules with Barnard-Rubin df (imputations on axis 0), as rbmi's
    ``rubin_rules``/``rubin_df``.

    Examples
    --------
    >>> r = pool_rubin(np.array([1.0, 1.2, 0.8]), np.array([0.5, 0.5, 0.5]), 100.0)
    >>> round(float(r["std_error"]), 4), round(float(r["df"]), 2)
    (0.5508, 35.93)
    """
    M = ests.shape[0]
    point = ests.mean(axis=0)
    var_w = np.mean(ses**2, axis=0)
    var_b = ests.var(axis=0, ddof=1)
    var_t = var_w + var_b * (1.0 + 1.0 / M)
    lam = (1.0 + 1.0 / M) * var_b / var_t
    v_obs = (v_com + 1.0) / (v_com + 3.0) * v_com * (1.0 - lam)
    with np.errstate(divide="ignore", invalid="ignore"):   # lam = 0: nothing imputed,
        v_old = (M - 1) / lam**2                              # df = v_obs (np.where)
        df = np.where(lam > 0, v_old * v_obs / (v_old + v_obs), v_obs)
    se = np.sqrt(var_t)
    t = stats.t.ppf(0.5 + conf_level / 2.0, df)
    return {"estimate": point, "std_error": se, "ci_lower": point - t * se,
            "ci_upper": point + t * se, "p_value": 2.0 * stats.t.sf(np.abs(point / se), df),
            "df": df}


__all__ = ["ancova", "pool_jackknife", "pool_bootstrap", "pool_rubin"]
