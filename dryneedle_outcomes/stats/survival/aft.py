"""Parametric accelerated-failure-time (AFT) models for interval-censored times.

:func:`fit_aft` fits ``log T = X beta + scale * W`` by maximum likelihood, with W a
standard extreme-value (Weibull, exponential), logistic (log-logistic) or normal
(log-normal) error, exactly as R's
``survival::survreg(Surv(lower, upper, type = "interval2") ~ ..., dist = ...)``.

Observations are intervals ``(lower, upper]`` with ``0 <= lower <= upper <= inf``:

=============================  ===============================================
``lower == upper > 0``         exact time
``0 < lower < upper < inf``    interval-censored: the event happened in
                               (lower, upper]
``upper == inf``               right-censored at ``lower`` (still ongoing)
``lower == 0 < upper``         left-censored at ``upper`` ("by upper"). R's
                               interval2 writes this with ``lower = NA``:
                               survreg stops with "Invalid survival times for
                               this distribution" on a 0 lower bound (log 0)
``lower == upper == 0``        an exact zero (e.g. "no soreness at all", 0 h):
                               impossible for a log-time model. R's survreg
                               stops on it; so do we, with an AnalysisError,
                               unless ``zero_resolution`` is given
=============================  ===============================================

No row is ever dropped: anything that R would drop or refuse raises an
:class:`~dryneedle_outcomes.errors.AnalysisError` that names the argument, the count
and the first position.

The log-likelihood is maximised by Newton-Raphson with step halving on
``(beta, log(scale))`` with the analytic gradient and Hessian, the same
parametrisation and the same reported ``loglik`` as survreg (which includes the
Jacobian ``-sum(w * log t)`` of the exact times, so ``fit.loglik == fit$loglik[2]``
and ``fit.aic == AIC(fit)``). Censored contributions are computed on the log scale
without cancellation in either tail: ``log(S(l) - S(u))`` as
``-e^l + log1mexp(e^u - e^l)`` (extreme value, with ``e^u - e^l`` formed in logs),
``u + log1mexp(u - l) - softplus(l) - softplus(u)`` (logistic), and
``log S(l) + log1mexp(log S(l) - log S(u))`` on the mirrored tail (normal).

Robust variance: with interval-censored rows and an estimated scale, survival 3.5-3's
``cluster()`` standard errors differ from ours because its ``residuals.survreg``
has the sign of d loglik / d log(scale) wrong for interval-censored rows (checked
numerically in ``tests/reference/survival_aft/make_reference.R``); ours is survreg's
formula with the correct score. For exact, left- and right-censored rows, and for
the exponential, the two agree exactly.

Examples
--------
>>> import numpy as np, pandas as pd
>>> from dryneedle_outcomes.stats.survival.aft import fit_aft
>>> lower = [0, 7, 14, 14, 21, 28, 7, 35, 3.5, 42, 0, 21]
>>> upper = [7, 14, 21, np.inf, 28, 35, 7, np.inf, 3.5, 49, 14, 28]
>>> X = pd.DataFrame({"arm": [0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1]})
>>> fit = fit_aft(lower, upper, X, distribution="weibull")
>>> fit.converged, fit.n
(True, 12)
>>> fit.table[["term", "coef", "estimate"]].round(3)
          term   coef  estimate
0  (Intercept)  3.010    20.287
1          arm  0.237     1.268
>>> round(fit.scale, 3), round(fit.loglik, 3)
(0.76, -24.354)
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import special, stats

from dryneedle_outcomes.errors import AnalysisError, ConvergenceWarning
from dryneedle_outcomes.stats.checks import check_conf_level, check_whole_number, count_first
from dryneedle_outcomes.stats.survival.options import DISTRIBUTIONS
from dryneedle_outcomes.stats.survival.validation import float_vector

__all__ = ["AFTFit", "DISTRIBUTIONS", "fit_aft"]

INTERCEPT = "(Intercept)"
LOG_SCALE = "Log(scale)"

# survreg's names for the error distribution of log T
_FAMILY = {
    "weibull": "extreme",
    "exponential": "extreme",
    "loglogistic": "logistic",
    "lognormal": "gaussian",
}
_LN2 = float(np.log(2.0))
_TINY = float(np.finfo(float).tiny)
_EXP_OVERFLOW = float(np.log(np.finfo(float).max))
_EXP_CAP = 700.0          # exp() arguments are capped here: exp(700) ~ 1e304, finite
_Z_CAP = 1e6              # |z| beyond this only occurs at absurd trial parameters
_EV_Z_MAX = 500.0         # exp(500) ~ 1e217: z^2 exp(z) stays finite
_MAX_HALVINGS = 40
_MAX_LOG_SCALE_STEP = 3.0  # one Newton step changes the scale by at most exp(3)
_EULER = float(np.euler_gamma)


# --------------------------------------------------------------------------------------
# Error distributions of W = (log T - eta) / scale
# --------------------------------------------------------------------------------------
def _log1mexp(x: np.ndarray) -> np.ndarray:
    """log(1 - exp(-x)) for x > 0, accurate everywhere (Maechler 2012)."""
    x = np.maximum(x, _TINY)
    near = x < _LN2
    far = ~near
    t = np.empty_like(x)
    np.expm1(-x, out=t, where=near)
    np.exp(-x, out=t, where=far)
    np.negative(t, out=t)                 # near: 1 - exp(-x) > 0; far: -exp(-x)
    out = np.empty_like(x)
    np.log(t, out=out, where=near)
    np.log1p(t, out=out, where=far)
    return out


def _log1mexp_of_log(log_x: np.ndarray) -> np.ndarray:
    """log(1 - exp(-x)) given log(x): also right where x underflows (log x < -745)."""
    small = log_x < -30.0  # log(1 - e^-x) = log(x) - x/2 + O(x^2), x < 1e-13
    x = np.exp(log_x)
    return np.where(small, log_x - 0.5 * x, _log1mexp(np.where(small, 1.0, x)))


def _softplus(z: np.ndarray) -> np.ndarray:
    """log(1 + exp(z)) without overflow."""
    return np.maximum(z, 0.0) + np.log1p(np.exp(-np.abs(z)))


def _clip_z(family: str, z: np.ndarray) -> np.ndarray:
    return np.clip(z, -_Z_CAP, _EV_Z_MAX if family == "extreme" else _Z_CAP)


def _density_terms(family: str, z: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """log f(z) and the first two derivatives of log f at z (z already clipped)."""
    if family == "extreme":
        ez = np.exp(z)
        return z - ez, 1.0 - ez, -ez
    if family == "logistic":
        az = np.abs(z)
        logf = -az - 2.0 * np.log1p(np.exp(-az))
        return logf, -np.tanh(z / 2.0), -2.0 * np.exp(logf)
    logf = -0.5 * z * z - 0.5 * np.log(2.0 * np.pi)
    return logf, -z, np.full_like(z, -1.0)


def _log_surv(family: str, z: np.ndarray) -> np.ndarray:
    """log S(z) = log P(W > z)."""
    if family == "extreme":
        return -np.exp(z)
    if family == "logistic":
        return -_softplus(z)
    return special.log_ndtr(-z)


def _log_cdf(family: str, z: np.ndarray) -> np.ndarray:
    """log F(z) = log P(W <= z)."""
    if family == "extreme":
        return _log1mexp_of_log(z)        # log(1 - exp(-e^z))
    if family == "logistic":
        return -_softplus(-z)
    return special.log_ndtr(z)


def _log_interval_prob(family: str, zl: np.ndarray, zu: np.ndarray) -> np.ndarray:
    """log(S(zl) - S(zu)) for zl < zu, without cancellation in either tail."""
    if family == "extreme":
        # S(zl) - S(zu) = S(zl) * (1 - exp(-(e^zu - e^zl))), e^zu - e^zl = e^zu (1 - e^(zl-zu))
        return -np.exp(zl) + _log1mexp_of_log(zu + _log1mexp(zu - zl))
    if family == "logistic":
        # S(zl) - S(zu) = (e^zu - e^zl) / ((1 + e^zl)(1 + e^zu))
        return zu + _log1mexp(zu - zl) - _softplus(zl) - _softplus(zu)
    # normal: in the left half use the mirror image, F(u) - F(l) = S(-u) - S(-l), so the
    # tail probabilities handed to log_ndtr never round to 1
    mirror = zl + zu < 0.0
    lo = np.where(mirror, -zu, zl)
    hi = np.where(mirror, -zl, zu)
    log_s_lo = special.log_ndtr(-lo)
    return log_s_lo + _log1mexp(log_s_lo - special.log_ndtr(-hi))


def _quantile_w(family: str, p: np.ndarray) -> np.ndarray:
    """Quantile of W: log T_p = eta + scale * w_p."""
    if family == "extreme":
        return np.log(-np.log1p(-p))
    if family == "logistic":
        return np.log(p) - np.log1p(-p)
    return special.ndtri(p)


# --------------------------------------------------------------------------------------
# Likelihood, gradient and Hessian, vectorised over rows
# --------------------------------------------------------------------------------------
@dataclass
class _Data:
    """Rows sorted into contiguous blocks: exact, right-, left-, interval-censored."""

    X: np.ndarray            # (n, p) design with intercept, rows in block order
    w: np.ndarray            # (n,) case weights, block order
    bounds: tuple[int, ...]  # block ends: exact [0, b0), right [b0, b1), left, interval
    y: np.ndarray            # log time of the exact rows
    yr: np.ndarray           # log lower bound of the right-censored rows
    yl: np.ndarray           # log upper bound of the left-censored rows
    yi: np.ndarray           # (m, 2) log bounds of the interval-censored rows
    family: str
    fixed_scale: bool        # exponential: scale == 1
    jacobian: float          # -sum(w * log t) over exact rows (survreg's logcorrect)


def _wsum(w: np.ndarray, v: np.ndarray) -> float:
    """sum(w * v). Not np.dot: 1-D BLAS ddot is ~50 times slower on some OpenBLAS
    builds (the ones OPENBLAS_CORETYPE works around)."""
    return float((w * v).sum())


def _censored_derivs(a, b, zl, zu, g1l, g1u, sigma):
    """Derivatives of log(S(zl) - S(zu)) in (eta, tau): a = f(zl)/D, b = f(zu)/D; a side
    that is absent (left- or right-censoring) is passed as None."""
    d_eta = (a if a is not None else 0.0) - (b if b is not None else 0.0)
    d_eta = d_eta / sigma
    d_tau = (a * zl if a is not None else 0.0) - (b * zu if b is not None else 0.0)
    h_ee = 0.0
    h_et = 0.0
    h_tt = 0.0
    if a is not None:
        h_ee = h_ee - a * g1l
        h_et = h_et - a * (g1l * zl + 1.0)
        h_tt = h_tt - a * zl * (g1l * zl + 1.0)
    if b is not None:
        h_ee = h_ee + b * g1u
        h_et = h_et + b * (g1u * zu + 1.0)
        h_tt = h_tt + b * zu * (g1u * zu + 1.0)
    return (d_eta, d_tau, h_ee / sigma**2 - d_eta**2, h_et / sigma - d_eta * d_tau,
            h_tt - d_tau**2)


def _row_derivatives(data: _Data, eta: np.ndarray, log_scale: float, derivs: bool):
    """Weighted log-likelihood (log-time scale) and, if asked, the per-row derivatives
    (dl/deta, dl/dtau, d2l/deta2, d2l/deta dtau, d2l/dtau2; tau = log scale) as a
    tuple of five arrays in block order, unweighted."""
    fam = data.family
    sigma = float(np.exp(log_scale))
    b0, b1, b2, n = data.bounds
    w = data.w
    ll = 0.0
    parts = []
    cap = _EXP_CAP

    if b0:  # exact
        z = _clip_z(fam, (data.y - eta[:b0]) / sigma)
        logf, g1, g2 = _density_terms(fam, z)
        ll += _wsum(w[:b0], logf) - log_scale * float(w[:b0].sum())
        if derivs:
            parts.append((-g1 / sigma, -z * g1 - 1.0, g2 / sigma**2, (g1 + z * g2) / sigma,
                          z * g1 + z * z * g2))
    if b1 > b0:  # right-censored at lower
        zl = _clip_z(fam, (data.yr - eta[b0:b1]) / sigma)
        log_d = _log_surv(fam, zl)
        ll += _wsum(w[b0:b1], log_d)
        if derivs:
            logf, g1, _ = _density_terms(fam, zl)
            a = np.exp(np.minimum(logf - log_d, cap))
            parts.append(_censored_derivs(a, None, zl, None, g1, None, sigma))
    if b2 > b1:  # left-censored at upper
        zu = _clip_z(fam, (data.yl - eta[b1:b2]) / sigma)
        log_d = _log_cdf(fam, zu)
        ll += _wsum(w[b1:b2], log_d)
        if derivs:
            logf, g1, _ = _density_terms(fam, zu)
            b = np.exp(np.minimum(logf - log_d, cap))
            parts.append(_censored_derivs(None, b, None, zu, None, g1, sigma))
    if n > b2:  # interval-censored
        ei = eta[b2:]
        zl = _clip_z(fam, (data.yi[:, 0] - ei) / sigma)
        zu = _clip_z(fam, (data.yi[:, 1] - ei) / sigma)
        log_d = _log_interval_prob(fam, zl, zu)
        ll += _wsum(w[b2:], log_d)
        if derivs:
            logf_l, g1_l, _ = _density_terms(fam, zl)
            logf_u, g1_u, _ = _density_terms(fam, zu)
            a = np.exp(np.minimum(logf_l - log_d, cap))
            b = np.exp(np.minimum(logf_u - log_d, cap))
            parts.append(_censored_derivs(a, b, zl, zu, g1_l, g1_u, sigma))
    if not derivs:
        return ll, None
    return ll, tuple(np.concatenate([p[j] for p in parts]) for j in range(5))


def _evaluate(data: _Data, theta: np.ndarray, derivs: bool = True):
    """Log-likelihood (log-time scale), gradient, Hessian and row derivatives at theta."""
    p = data.X.shape[1]
    eta = data.X @ theta[:p]
    log_scale = 0.0 if data.fixed_scale else float(theta[p])
    ll, D = _row_derivatives(data, eta, log_scale, derivs)
    if not derivs:
        return ll, None, None, None
    w = data.w
    X = data.X
    grad_b = X.T @ (w * D[0])
    h_bb = X.T @ ((w * D[2])[:, None] * X)
    if data.fixed_scale:
        return ll, grad_b, h_bb, D
    hess = np.empty((p + 1, p + 1))
    hess[:p, :p] = h_bb
    hess[:p, p] = hess[p, :p] = X.T @ (w * D[3])
    hess[p, p] = _wsum(w, D[4])
    return ll, np.append(grad_b, _wsum(w, D[1])), hess, D


def _scores(data: _Data, D) -> np.ndarray:
    """Per-row weighted score contributions (n, k), block order."""
    score_beta = (data.w * D[0])[:, None] * data.X
    if data.fixed_scale:
        return score_beta
    return np.column_stack([score_beta, data.w * D[1]])


def _ascent_step(grad: np.ndarray, hess: np.ndarray) -> np.ndarray:
    """Newton step; where -H is not positive definite, a step on |eigenvalues|."""
    info = -hess
    try:
        chol = np.linalg.cholesky(info)
    except np.linalg.LinAlgError:
        vals, vecs = np.linalg.eigh(info)
        floor = max(float(np.max(np.abs(vals))) * 1e-8, 1e-12)
        return vecs @ ((vecs.T @ grad) / np.maximum(np.abs(vals), floor))
    return np.linalg.solve(chol.T, np.linalg.solve(chol, grad))


def _start(data: _Data) -> np.ndarray:
    """Starting values: weighted least squares of a representative log time on X."""
    ymid = np.concatenate([data.y, data.yr, data.yl, data.yi.mean(axis=1)])
    sw = np.sqrt(data.w)
    beta, *_ = np.linalg.lstsq(data.X * sw[:, None], ymid * sw, rcond=None)
    resid = ymid - data.X @ beta
    sd = float(np.sqrt(_wsum(data.w, resid**2) / data.w.sum()))
    sd_w = {"extreme": np.pi / np.sqrt(6.0), "logistic": np.pi / np.sqrt(3.0), "gaussian": 1.0}
    sigma = sd / sd_w[data.family] if np.isfinite(sd) and sd > 1e-8 else 1.0
    if data.fixed_scale:
        sigma = 1.0
    if data.family == "extreme":  # E[W] = -Euler's gamma
        beta[0] += _EULER * sigma
    return beta if data.fixed_scale else np.append(beta, np.log(sigma))


def _newton(data: _Data, theta: np.ndarray, max_iter: int, tol: float):
    """Maximise the log-likelihood. survreg's rule: stop when the relative change in
    loglik after a full (unhalved) Newton step is <= tol. The point returned is the one
    after that step, so the estimates are accurate to about tol squared."""
    ll, grad, hess, D = _evaluate(data, theta)
    messages: list[str] = []
    if not np.isfinite(ll):
        messages.append("the log-likelihood is not finite at the starting values")
        return theta, ll, hess, D, False, 0, messages
    p = data.X.shape[1]
    converged = False
    iterations = 0
    for iterations in range(1, max_iter + 1):
        step = _ascent_step(grad, hess)
        if not data.fixed_scale and abs(step[p]) > _MAX_LOG_SCALE_STEP:
            step = step * (_MAX_LOG_SCALE_STEP / abs(step[p]))
        floor = ll - 1e-13 * abs(ll)  # accept ties up to rounding
        full = _evaluate(data, theta + step)
        t = 1.0
        if np.isfinite(full[0]) and full[0] >= floor:
            new = full
        else:
            new = None
            for _ in range(_MAX_HALVINGS):
                t *= 0.5
                ll_try, *_ = _evaluate(data, theta + t * step, derivs=False)
                if np.isfinite(ll_try) and ll_try >= floor:
                    new = _evaluate(data, theta + t * step)
                    break
        if new is None:
            # no step increases the log-likelihood: at the optimum up to rounding, or stuck
            decrement = float(np.dot(grad, _ascent_step(grad, hess)))
            converged = decrement <= max(tol, 1e-12) * (abs(ll) + 1.0)
            if not converged:
                messages.append(
                    f"step halving failed at iteration {iterations}: no step along the "
                    "Newton direction increases the log-likelihood"
                )
            break
        theta = theta + t * step
        ll_old = ll
        ll, grad, hess, D = new
        if t == 1.0 and abs(ll - ll_old) <= tol * (abs(ll_old) + tol):
            converged = True
            break
    if not converged and not messages:
        messages.append(
            f"no convergence in max_iter={max_iter} iterations (relative change in the "
            f"log-likelihood still above tol={tol:g}); the estimates may not be the MLE"
        )
    return theta, ll, hess, D, converged, iterations, messages

# --------------------------------------------------------------------------------------
# Input checks
# --------------------------------------------------------------------------------------
def _check_times(lower: np.ndarray, upper: np.ndarray) -> None:
    n = lower.shape[0]
    if n == 0:
        raise AnalysisError("lower and upper are empty; give at least one observation")
    for name, arr, hint in (
        ("lower", lower, "use 0 for an observation left-censored at upper (R's NA)"),
        ("upper", upper, "use numpy.inf for a right-censored observation (R's NA)"),
    ):
        if np.isnan(arr).any():
            raise AnalysisError(f"{name} has {count_first(np.isnan(arr))} missing; {hint}. "
                                "fit_aft drops no rows: remove them explicitly if intended")
        if (arr < 0).any():
            raise AnalysisError(f"{name} has {count_first(arr < 0)} negative; times must be >= 0")
    if np.isinf(lower).any():
        raise AnalysisError(f"lower has {count_first(np.isinf(lower))} infinite; a lower bound "
                            "must be finite (upper = inf marks right-censoring)")
    if (lower > upper).any():
        raise AnalysisError(f"lower > upper in {count_first(lower > upper)}; each observation "
                            "is the interval (lower, upper] with lower <= upper")
    void = (lower == 0) & np.isinf(upper)
    if void.any():
        raise AnalysisError(
            f"(lower, upper) = (0, inf) in {count_first(void)}: such rows carry no information "
            "(R's survreg refuses a 0 bound and drops (NA, NA) rows); remove them explicitly"
        )


def _design(X: pd.DataFrame | None, n: int) -> tuple[np.ndarray, list[str]]:
    if X is None:
        return np.ones((n, 1)), [INTERCEPT]
    if not isinstance(X, pd.DataFrame):
        raise AnalysisError(f"X must be a pandas DataFrame of numeric covariates (or None "
                            f"for an intercept-only model); got {type(X).__name__}")
    if X.shape[0] != n:
        raise AnalysisError(f"X has {X.shape[0]} rows but lower has {n}; give one row "
                            "per observation")
    terms = [str(c) for c in X.columns]
    if len(set(terms)) != len(terms) or INTERCEPT in terms:
        raise AnalysisError(f"X column names must be unique and not {INTERCEPT!r} (an "
                            f"intercept is added); got {terms}")
    bad = [t for t, dt in zip(terms, X.dtypes, strict=True)
           if not (pd.api.types.is_numeric_dtype(dt) or pd.api.types.is_bool_dtype(dt))]
    if bad:
        raise AnalysisError(f"X columns {bad} are not numeric; code categorical covariates "
                            "as 0/1 indicator columns")
    values = X.to_numpy(dtype=float, na_value=np.nan)
    nonfinite = ~np.isfinite(values)
    if nonfinite.any():
        col = terms[int(np.flatnonzero(nonfinite.any(axis=0))[0])]
        raise AnalysisError(f"X column {col!r} has {count_first(nonfinite[:, terms.index(col)])} "
                            "missing or infinite; fit_aft drops no rows")
    design = np.column_stack([np.ones(n), values])
    r = np.linalg.qr(design, mode="r")
    diag = np.abs(np.diag(r))
    aliased = diag <= 1e-10 * max(float(diag.max()), 1.0) * np.sqrt(n)
    if aliased.any():
        names = [([INTERCEPT, *terms])[i] for i in np.flatnonzero(aliased)]
        raise AnalysisError(f"X is rank deficient: column(s) {names} are constant or linear "
                            "combinations of earlier columns (and the intercept); drop them")
    return design, [INTERCEPT, *terms]


# --------------------------------------------------------------------------------------
# The fit
# --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class AFTFit:
    """A fitted accelerated-failure-time model (see :func:`fit_aft`).

    Attributes
    ----------
    table : pandas.DataFrame
        One row per term (``(Intercept)`` first) with ``term``, ``coef`` (on the
        log-time scale, survreg's ``coef(fit)``), ``std_error`` (robust when a cluster
        was given, as ``summary(fit)``), ``estimate`` = ``exp(coef)``, ``ci_lower``,
        ``ci_upper`` (Wald limits of ``estimate``: ``exp(coef -/+ z * std_error)``),
        ``z`` and ``p_value`` (two-sided, normal). For a covariate ``estimate`` is the
        time ratio (acceleration factor): the multiplicative change in every quantile
        of T per unit of the covariate. For the intercept it is the time scale at all
        covariates 0: the 63.2% quantile for Weibull and exponential, the median for
        log-logistic and log-normal.
    distribution : str
    scale : float
        survreg's ``scale`` (1 for the exponential). The Weibull shape is ``1/scale``.
    log_scale_std_error : float
        Standard error of ``log(scale)`` (robust with a cluster; nan for exponential).
    loglik : float
        survreg's ``fit$loglik[2]``: the log-likelihood in the time scale (log-time
        scale plus ``-sum(w * log t)`` over exact times).
    aic : float
        ``-2 * loglik + 2 * df``, df = number of coefficients + 1 for an estimated scale.
    n : int
        Number of observations (rows).
    n_clusters : int or None
    observation_types : dict
        Counts of ``exact``, ``left``, ``interval`` and ``right`` observations, and of
        ``exact_zero_as_left``: exact zeros made left-censored by ``zero_resolution``
        (already counted in ``left``).
    converged : bool
    iterations : int
    warnings : list of str
    cov : pandas.DataFrame
        Covariance of the coefficients and ``Log(scale)`` (survreg's ``vcov(fit)``):
        robust sandwich with a cluster, else the inverse observed information.
    naive_cov : pandas.DataFrame
        The inverse observed information (survreg's ``naive.var``).
    conf_level : float
    zero_resolution : float or None
    """

    table: pd.DataFrame
    distribution: str
    scale: float
    log_scale_std_error: float
    loglik: float
    aic: float
    n: int
    n_clusters: int | None
    observation_types: dict[str, int]
    converged: bool
    iterations: int
    cov: pd.DataFrame
    naive_cov: pd.DataFrame
    conf_level: float
    zero_resolution: float | None = None
    warnings: list[str] = field(default_factory=list)

    @property
    def robust(self) -> bool:
        """True when ``cov`` and ``std_error`` are the cluster-robust sandwich."""
        return self.n_clusters is not None

    @property
    def terms(self) -> list[str]:
        return list(self.table["term"])

    @property
    def coef(self) -> pd.Series:
        """Coefficients on the log-time scale, indexed by term."""
        return pd.Series(self.table["coef"].to_numpy(), index=self.terms, name="coef")

    @property
    def naive_std_error(self) -> pd.Series:
        """Model-based standard errors (survreg's "(Naive SE)" column), by term."""
        se = np.sqrt(np.diag(self.naive_cov.to_numpy()))[: len(self.terms)]
        return pd.Series(se, index=self.terms, name="naive_std_error")

    def weibull_hazard_ratios(self) -> pd.DataFrame:
        """Hazard ratios of the Weibull (or exponential) model, the proportional-hazards
        reading of the same fit.

        The Weibull AFT model is also a proportional-hazards model with
        ``log HR = -coef / scale`` per unit of a covariate. Its standard error comes
        from the delta method on ``(coef, log scale)`` with ``cov`` (robust when a
        cluster was given): gradient ``(-1/scale, coef/scale)``; the confidence limits
        are ``exp(log HR -/+ z * se)``. For the exponential the scale is fixed at 1, so
        ``HR = exp(-coef)``.

        Returns
        -------
        pandas.DataFrame
            One row per covariate (no intercept): ``term``, ``coef`` (log HR),
            ``std_error``, ``estimate`` (HR), ``ci_lower``, ``ci_upper``, ``z``,
            ``p_value``.

        Examples
        --------
        >>> import numpy as np, pandas as pd
        >>> from dryneedle_outcomes.stats.survival.aft import fit_aft
        >>> X = pd.DataFrame({"arm": [0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1]})
        >>> fit = fit_aft([0, 7, 14, 14, 21, 28, 7, 35, 3.5, 42, 0, 21],
        ...               [7, 14, 21, np.inf, 28, 35, 7, np.inf, 3.5, 49, 14, 28], X)
        >>> hr = fit.weibull_hazard_ratios()
        >>> hr[["term", "estimate"]].round(3)
          term  estimate
        0  arm     0.732
        """
        if self.distribution not in ("weibull", "exponential"):
            raise AnalysisError(f"weibull_hazard_ratios() needs a weibull or exponential "
                                f"fit; this one is {self.distribution!r}")
        p = len(self.terms)
        beta = self.table["coef"].to_numpy()[1:]
        cov = self.cov.to_numpy()
        if self.distribution == "exponential":
            log_hr = -beta
            se = np.sqrt(np.diag(cov)[1:p])
        else:
            log_hr = -beta / self.scale
            var_b = np.diag(cov)[1:p]
            cov_bt = cov[1:p, p]
            var_t = cov[p, p]
            # grad of -b * exp(-tau): (-1/scale, b/scale)
            se = np.sqrt(var_b - 2.0 * beta * cov_bt + beta**2 * var_t) / self.scale
        return _wald_table(self.terms[1:], log_hr, se, self.conf_level)

    def predict_quantile(self, X_new: pd.DataFrame | None = None, p=0.5) -> np.ndarray:
        """Predicted quantiles of T (R's ``predict(fit, newdata, type = "quantile", p)``).

        Parameters
        ----------
        X_new : pandas.DataFrame or None
            Covariates by the fit's term names (other columns are not used). ``None``
            for an intercept-only fit gives one row.
        p : float or sequence of float
            Probabilities in (0, 1).

        Returns
        -------
        numpy.ndarray
            Shape (m,) for a scalar ``p``, else (m, len(p)).

        Examples
        --------
        >>> import numpy as np, pandas as pd
        >>> from dryneedle_outcomes.stats.survival.aft import fit_aft
        >>> X = pd.DataFrame({"arm": [0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1]})
        >>> fit = fit_aft([0, 7, 14, 14, 21, 28, 7, 35, 3.5, 42, 0, 21],
        ...               [7, 14, 21, np.inf, 28, 35, 7, np.inf, 3.5, 49, 14, 28], X)
        >>> fit.predict_quantile(pd.DataFrame({"arm": [0, 1]}), p=[0.25, 0.5]).round(2)
        array([[ 7.87, 15.36],
               [ 9.98, 19.47]])
        """
        probs = np.asarray(p, dtype=float)
        if probs.ndim > 1 or not np.all((probs > 0) & (probs < 1)):
            raise AnalysisError(f"p must be a probability or a 1-D sequence of "
                                f"probabilities in (0, 1); got {p!r}")
        covariates = self.terms[1:]
        if X_new is None:
            if covariates:
                raise AnalysisError(f"X_new is needed: the fit has covariates {covariates}")
            design = np.ones((1, 1))
        else:
            if not isinstance(X_new, pd.DataFrame):
                raise AnalysisError(f"X_new must be a pandas DataFrame; got "
                                    f"{type(X_new).__name__}")
            missing = [t for t in covariates if t not in X_new.columns]
            if missing:
                raise AnalysisError(f"X_new lacks column(s) {missing}; the fit's "
                                    f"covariates are {covariates}")
            values = X_new[covariates].to_numpy(dtype=float, na_value=np.nan)
            if not np.isfinite(values).all():
                raise AnalysisError("X_new has missing or infinite values")
            design = np.column_stack([np.ones(len(X_new)), values])
        eta = design @ self.table["coef"].to_numpy()
        w_p = _quantile_w(_FAMILY[self.distribution], np.atleast_1d(probs))
        out = np.exp(eta[:, None] + self.scale * w_p[None, :])
        return out[:, 0] if probs.ndim == 0 else out

    def predict_median(self, X_new: pd.DataFrame | None = None) -> np.ndarray:
        """Predicted median of T: ``predict_quantile(X_new, p=0.5)``.

        Examples
        --------
        >>> import numpy as np, pandas as pd
        >>> from dryneedle_outcomes.stats.survival.aft import fit_aft
        >>> X = pd.DataFrame({"arm": [0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1]})
        >>> fit = fit_aft([0, 7, 14, 14, 21, 28, 7, 35, 3.5, 42, 0, 21],
        ...               [7, 14, 21, np.inf, 28, 35, 7, np.inf, 3.5, 49, 14, 28], X)
        >>> fit.predict_median(pd.DataFrame({"arm": [0, 1]})).round(2)
        array([15.36, 19.47])
        """
        return self.predict_quantile(X_new, p=0.5)


def safe_exp(x: np.ndarray) -> np.ndarray:
    """exp(x), inf past the float range without an overflow warning."""
    big = x > _EXP_OVERFLOW
    return np.where(big, np.inf, np.exp(np.where(big, 0.0, x)))


def _wald_table(terms: list[str], coef: np.ndarray, se: np.ndarray,
                conf_level: float) -> pd.DataFrame:
    q = float(stats.norm.ppf(0.5 + conf_level / 2.0))
    z = coef / se
    return pd.DataFrame({
        "term": terms,
        "coef": coef,
        "std_error": se,
        "estimate": safe_exp(coef),
        "ci_lower": safe_exp(coef - q * se),
        "ci_upper": safe_exp(coef + q * se),
        "z": z,
        "p_value": 2.0 * stats.norm.sf(np.abs(z)),
    })


def fit_aft(
    lower,
    upper,
    X: pd.DataFrame | None = None,
    *,
    distribution: str = "weibull",
    weights=None,
    cluster=None,
    conf_level: float = 0.95,
    zero_resolution: float | None = None,
    max_iter: int = 100,
    tol: float = 1e-9,
) -> AFTFit:
    """Fit a parametric AFT model to interval-censored times, as R's survreg.

    Equivalent R call: ``survreg(Surv(lower, upper, type = "interval2") ~ x1 + x2,
    dist = distribution, weights = weights, cluster = cluster)`` with ``lower`` = NA
    where ours is 0 and ``upper`` = NA where ours is inf.

    Parameters
    ----------
    lower, upper : array-like of float, length n
        Each observation is the interval ``(lower, upper]``, ``0 <= lower <= upper``:
        ``lower == upper`` exact; ``upper = inf`` right-censored at ``lower``;
        ``lower = 0 < upper`` left-censored at ``upper``. Used by position.
    X : pandas.DataFrame or None
        Numeric covariates, one column per term (code factors as 0/1 columns); an
        intercept ``(Intercept)`` is added. ``None`` fits the intercept only. Used by
        position (its index is ignored).
    distribution : {"weibull", "loglogistic", "lognormal", "exponential"}
    weights : array-like of float, optional
        Case weights (> 0), as survreg's ``weights``.
    cluster : array-like, optional
        Cluster ids (e.g. patient for sessions within patients). The covariance is then
        the robust sandwich ``V (sum_c U_c U_c') V``, V the inverse information and
        U_c the summed weighted scores of cluster c: survreg's ``cluster(id)`` variance,
        ``crossprod(rowsum(residuals(fit, "dfbeta", weighted = TRUE), id))``, on the
        correct score. It equals survreg's ``fit$var`` when no row is
        interval-censored or the model is exponential; otherwise survival 3.5-3
        differs through a sign error in its score for interval-censored rows (see the
        module notes). With weights, survival 3.5-3 also uses UNweighted dfbeta
        residuals (its robust SE changes when all weights are multiplied by a
        constant); ours is the weighted-score sandwich (as ``survey::svysurvreg``),
        which equals the unweighted sandwich on rows replicated by integer weights with
        ``cluster`` = the original id. ``cluster = numpy.arange(n)`` gives survreg's
        ``robust = TRUE`` without clusters.
    conf_level : float
        Level of the Wald confidence limits.
    zero_resolution : float, optional
        What to do with exact zeros (``lower == upper == 0``, e.g. soreness of 0 h).
        A log-time model cannot hold them (log 0 = -inf) and R's survreg stops on
        them; ``None`` (default) raises an AnalysisError. A positive number, the
        resolution the times were recorded to (e.g. 0.5 for half hours), treats each
        exact zero as left-censored on ``(0, zero_resolution]``: "over before the
        first time we could have recorded". That keeps these fastest cases in the fit
        with exactly the information they carry; dropping them would bias times upward,
        and replacing 0 by a small constant makes the estimates depend on an arbitrary
        log(constant). Same as giving R ``lower = NA, upper = zero_resolution``.
    max_iter : int
        Maximum Newton iterations.
    tol : float
        Convergence: relative change in the log-likelihood after a full Newton step
        (survreg's ``rel.tolerance``, default 1e-9). The estimates returned are those
        after that step, accurate to roughly ``tol**2`` relative.

    Returns
    -------
    AFTFit
        Non-convergence is reported in ``converged`` and ``warnings`` (and a
        :class:`~dryneedle_outcomes.errors.ConvergenceWarning`), not raised.

    Raises
    ------
    AnalysisError
        On invalid input: missing, negative or inverted bounds, (0, inf) rows, exact
        zeros without ``zero_resolution``, non-numeric or rank-deficient X, bad weights,
        clusters or options.

    Examples
    --------
    Soreness in hours: exact, interval ("between 6 and 12 h"), ongoing at 72 h, and
    one "no soreness" (0 h), recorded to the half hour:

    >>> import numpy as np, pandas as pd
    >>> from dryneedle_outcomes.stats.survival.aft import fit_aft
    >>> lower = [0, 6, 12, 24, 30.5, 72, 8, 0, 6, 48, 4.5, 12]  # R: lower NA where 0
    >>> upper = [0, 12, 12, 48, 30.5, np.inf, 8, 6, 12, 72, 4.5, 24]
    >>> X = pd.DataFrame({"needles": [2, 4, 5, 7, 8, 9, 3, 2, 6, 8, 3, 5]})
    >>> fit = fit_aft(lower, upper, X, distribution="lognormal", zero_resolution=0.5)
    >>> fit.observation_types
    {'exact': 4, 'left': 2, 'interval': 5, 'right': 1, 'exact_zero_as_left': 1}
    >>> fit.table[["term", "estimate"]].round(3)
              term  estimate
    0  (Intercept)     0.497
    1      needles     1.818
    """
    if distribution not in DISTRIBUTIONS:
        raise AnalysisError(f"distribution must be one of {DISTRIBUTIONS}; "
                            f"got {distribution!r}")
    conf_level = check_conf_level(conf_level)
    max_iter = check_whole_number(max_iter, "max_iter", minimum=1)
    if not (isinstance(tol, float | int) and 0 < tol < 1):
        raise AnalysisError(f"tol must be in (0, 1); got {tol!r}")

    lo = float_vector("lower", lower)
    n = lo.shape[0]
    up = float_vector("upper", upper, n, length_of="lower")
    _check_times(lo, up)

    zero = (lo == 0) & (up == 0)
    n_zero = int(zero.sum())
    if zero_resolution is not None:
        if not (isinstance(zero_resolution, float | int) and np.isfinite(zero_resolution)
                and zero_resolution > 0):
            raise AnalysisError(f"zero_resolution must be a positive finite number (the "
                                f"time resolution); got {zero_resolution!r}")
        up = np.where(zero, float(zero_resolution), up)
    elif n_zero:
        raise AnalysisError(
            f"lower == upper == 0 (an exact zero time) in {count_first(zero)}: a log-time "
            "model cannot hold time 0 and R's survreg stops on it ('Invalid survival "
            "times for this distribution'). Pass zero_resolution=<recording resolution> "
            "to treat them as left-censored on (0, resolution], or remove them explicitly"
        )

    design, terms = _design(X, n)

    if weights is None:
        w = np.ones(n)
    else:
        w = float_vector("weights", weights, n, length_of="lower")
        bad = ~np.isfinite(w) | (w <= 0)
        if bad.any():
            raise AnalysisError(f"weights has {count_first(bad)} missing, infinite or <= 0; "
                                "weights must be finite and > 0 (remove rows explicitly)")

    codes = None
    if cluster is not None:
        cl = cluster.to_numpy() if isinstance(cluster, pd.Series | pd.Index) else cluster
        cl = np.asarray(cl)
        if cl.ndim != 1 or cl.shape[0] != n:
            raise AnalysisError(f"cluster must be one-dimensional with one id per "
                                f"observation ({n}); got shape {cl.shape}")
        codes, uniques = pd.factorize(cl, use_na_sentinel=True)
        if (codes < 0).any():
            raise AnalysisError(f"cluster has {count_first(codes < 0)} missing; every "
                                "observation needs a cluster id")

    exact = lo == up
    left = (lo == 0) & ~exact
    right = np.isinf(up)
    interval = ~exact & ~left & ~right
    # rows in contiguous blocks (exact, right, left, interval): no fancy indexing per
    # iteration; nothing reported depends on the row order
    order = np.concatenate([np.flatnonzero(m) for m in (exact, right, left, interval)])
    counts = np.cumsum([exact.sum(), right.sum(), left.sum(), interval.sum()])
    b0, b1, b2, _ = (int(c) for c in counts)
    lo_s, up_s = lo[order], up[order]
    yi = np.log(np.column_stack([lo_s[b2:], up_s[b2:]]))
    if (yi[:, 0] >= yi[:, 1]).any():
        raise AnalysisError("some intervals (lower, upper] are too narrow to tell apart "
                            "on the log scale; record them as exact (lower == upper)")
    w_s = w[order]
    y = np.log(lo_s[:b0])
    family = _FAMILY[distribution]
    data = _Data(
        X=design[order], w=w_s, bounds=(b0, b1, b2, n), y=y, yr=np.log(lo_s[b0:b1]),
        yl=np.log(up_s[b1:b2]), yi=yi, family=family,
        fixed_scale=distribution == "exponential",
        jacobian=-_wsum(w_s[:b0], y),
    )
    theta, ll, hess, D, converged, iterations, messages = _newton(
        data, _start(data), max_iter, tol
    )

    names = terms if data.fixed_scale else [*terms, LOG_SCALE]
    k = len(names)
    try:
        chol = np.linalg.cholesky(-hess)
        inv_chol = np.linalg.solve(chol, np.eye(k))
        naive = inv_chol.T @ inv_chol
    except np.linalg.LinAlgError:
        messages.append("the information matrix is not positive definite at the estimates; "
                        "standard errors are not available (is a covariate separating "
                        "censored from observed times?)")
        naive = np.full((k, k), np.nan)
    if codes is not None:
        n_clusters = int(codes.max()) + 1
        scores = _scores(data, D)
        codes_s = codes[order]
        summed = np.column_stack(
            [np.bincount(codes_s, weights=scores[:, j], minlength=n_clusters)
             for j in range(k)]
        )  # a loop over the k parameters only
        meat = summed.T @ summed
        cov = naive @ meat @ naive
    else:
        n_clusters = None
        cov = naive

    if messages:
        warnings.warn("fit_aft: " + "; ".join(messages), ConvergenceWarning, stacklevel=2)

    p = design.shape[1]
    beta = theta[:p]
    se = np.sqrt(np.diag(cov))[:p]
    log_scale = 0.0 if data.fixed_scale else float(theta[p])
    log_scale_se = float("nan") if data.fixed_scale else float(np.sqrt(cov[p, p]))
    loglik = float(ll + data.jacobian)
    n_par = k
    return AFTFit(
        table=_wald_table(terms, beta, se, float(conf_level)),
        distribution=distribution,
        scale=float(np.exp(log_scale)),
        log_scale_std_error=log_scale_se,
        loglik=loglik,
        aic=-2.0 * loglik + 2.0 * n_par,
        n=n,
        n_clusters=n_clusters,
        observation_types={
            "exact": int(exact.sum()),
            "left": int(left.sum()),
            "interval": int(interval.sum()),
            "right": int(right.sum()),
            "exact_zero_as_left": n_zero if zero_resolution is not None else 0,
        },
        converged=bool(converged),
        iterations=int(iterations),
        cov=pd.DataFrame(cov, index=names, columns=names),
        naive_cov=pd.DataFrame(naive, index=names, columns=names),
        conf_level=float(conf_level),
        zero_resolution=None if zero_resolution is None else float(zero_resolution),
        warnings=list(messages),
    )
