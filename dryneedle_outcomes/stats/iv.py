"""Instrumental-variable estimation in closed form: two-stage least squares and the Wald
estimator (arrays in, numbers out).

References
----------
- Angrist JD, Imbens GW, Rubin DB (1996). Identification of causal effects using
  instrumental variables. J Am Stat Assoc 91:444-455.
- Dunn G, Maracy M, Tomenson B (2005). Estimating treatment effects from randomized
  clinical trials with noncompliance and loss to follow-up: the role of instrumental
  variable methods. Stat Methods Med Res 14:369-395.
- Wooldridge JM (2010). Econometric Analysis of Cross Section and Panel Data, 2nd ed.,
  section 5.2 (the 2SLS variance, sigma^2 (X'P_Z X)^-1 with the structural residuals).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats


@dataclass(frozen=True)
class TSLSFit:
    """A 2SLS fit: ``coef`` and ``vcov`` over the columns ``[intercept, treatment,
    covariates...]``, ``sigma`` (residual SD on ``df_resid`` degrees of freedom) and the
    first stage (``first_stage_coef``, its SE and ``first_stage_f``)."""

    coef: np.ndarray
    vcov: np.ndarray
    sigma: float
    df_resid: int
    first_stage_coef: float
    first_stage_se: float
    first_stage_f: float


def _ols(y: np.ndarray, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Least-squares coefficients and residuals (QR; closed form)."""
    beta, *_ = np.linalg.lstsq(x, y, rcond=None)
    return beta, y - x @ beta


def tsls(y, treatment, instrument, covariates=None) -> TSLSFit:
    """Two-stage least squares of ``y`` on ``treatment`` instrumented by ``instrument``.

    The standard errors are those of 2SLS, ``sigma^2 (X' P_Z X)^-1`` with ``sigma^2`` from
    the residuals ``y - X b`` of the *actual* treatment (``n - p`` divisor, as R's
    ``AER::ivreg``), not the naive second-stage residuals ``y - X_hat b``. The first
    stage regresses the treatment on the instrument and covariates; its F statistic for
    the single instrument (the squared t) checks for a weak instrument.

    Parameters
    ----------
    y, treatment, instrument : array_like, shape (n,)
    covariates : array_like, shape (n, k), optional
        Exogenous covariates (an intercept is always added).

    Returns
    -------
    TSLSFit

    Examples
    --------
    >>> fit = tsls([1., 2., 4., 5.], [0., 0., 1., 1.], [0., 0., 1., 1.])
    >>> float(fit.coef[1])
    3.0
    """
    y = np.asarray(y, dtype=float)
    d = np.asarray(treatment, dtype=float)
    z = np.asarray(instrument, dtype=float)
    n = len(y)
    w = np.ones((n, 1)) if covariates is None else np.column_stack(
        [np.ones(n), np.asarray(covariates, dtype=float).reshape(n, -1)])
    x = np.column_stack([w[:, :1], d, w[:, 1:]])
    zz = np.column_stack([w[:, :1], z, w[:, 1:]])
    gamma, v = _ols(d, zz)
    p = x.shape[1]
    df = n - p
    s2_first = float(v @ v) / df
    zinv = np.linalg.inv(zz.T @ zz)
    fs_se = float(np.sqrt(s2_first * zinv[1, 1]))
    x_hat = zz @ np.linalg.lstsq(zz, x, rcond=None)[0]
    beta, _ = _ols(y, x_hat)
    u = y - x @ beta                     # structural residuals (actual treatment)
    s2 = float(u @ u) / df
    vcov = s2 * np.linalg.inv(x_hat.T @ x_hat)
    return TSLSFit(coef=beta, vcov=vcov, sigma=float(np.sqrt(s2)), df_resid=df,
                   first_stage_coef=float(gamma[1]), first_stage_se=fs_se,
                   first_stage_f=float((gamma[1] / fs_se) ** 2))


def wald(y, treatment, instrument) -> tuple[float, float, float]:
    """The Wald (Angrist-Imbens-Rubin 1996) estimator for a binary instrument:
    ``(ITT, compliance difference, ITT / compliance difference)``, the differences in
    means of ``y`` and of ``treatment`` between ``instrument == 1`` and ``== 0``.

    Examples
    --------
    >>> wald([1., 3., 0., 2.], [1., 0., 0., 0.], [1, 1, 0, 0])
    (1.0, 0.5, 2.0)
    """
    y = np.asarray(y, dtype=float)
    d = np.asarray(treatment, dtype=float)
    z = np.asarray(instrument).astype(bool)
    itt = float(y[z].mean() - y[~z].mean())
    compliance = float(d[z].mean() - d[~z].mean())
    return itt, compliance, itt / compliance


def t_interval(estimate: float, se: float, df: int, conf_level: float):
    """``(ci_lower, ci_upper, p_value)`` from the t distribution on ``df``.

    Examples
    --------
    >>> [round(v, 3) for v in t_interval(1.0, 0.5, 1000, 0.95)]
    [0.019, 1.981, 0.046]
    """
    q = stats.t.ppf(0.5 + conf_level / 2, df)
    p = 2 * stats.t.sf(abs(estimate / se), df)
    return float(estimate - q * se), float(estimate + q * se), float(p)


__all__ = ["TSLSFit", "t_interval", "tsls", "wald"]
