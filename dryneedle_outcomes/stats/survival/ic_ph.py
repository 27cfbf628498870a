"""Semi-parametric proportional hazards model for interval-censored event times.

Model and likelihood
--------------------
Each observation is an interval ``(lower, upper]`` known to hold the event time, with
the conventions of :mod:`.turnbull` (``lower == upper``: exact; ``upper = inf``:
right-censored). Under proportional hazards ``S(t | x) = exp(-Lambda0(t) exp(x'beta))``
and the likelihood is ``prod_i [S(lower_i | x_i) - S(upper_i | x_i)]`` (Finkelstein
1986). It depends on ``Lambda0`` only through its values at the observed endpoints,
and only through the increments of ``Lambda0`` over the Turnbull (innermost) intervals:
between two of them no observation's probability changes. So the model is fitted with
one non-negative increment ``d_j`` of ``Lambda0`` per Turnbull interval (the final
``(L, inf)`` has none: ``Lambda0`` is infinite after it). Maximising over
``d_j >= 0`` and ``beta`` gives the semi-parametric NPMLE that icenReg's ``ic_sp``
computes (Pan 1999; Anderson-Bergman 2017, J Stat Softw 81(12)); a piecewise-constant
hazard with breakpoints at every distinct endpoint has the same maximum, because
splitting a Turnbull interval's increment changes no likelihood term. Unlike
``ic_sp``, which assumes closed intervals ``[L, R]``, intervals here are half-open
``(L, R]`` as in ``survival::Surv(type = "interval2")``, the package's Turnbull curve
and the relief events (relief in ``(last visit without, first visit with]``); the two
conventions differ only where a left endpoint equals another observation's right one.

On a common visit grid (every interval is ``(t_{k-1}, t_k]`` or right-censored at a
grid point) the model is the grouped-time PH model of Prentice & Gloeckler (1978):
a binomial GLM with a complementary log-log link on person-period rows with one
intercept ``log d_k`` per period. ``tests/reference/ic_ph/`` checks this against R's
``glm``.

Algorithm
---------
Projected Newton with an active set (Bertsekas 1982) on ``(d, beta)``: increments at
zero whose gradient pushes them below zero are held at zero, a Newton step (Cholesky,
with Levenberg damping when the Hessian is not positive definite) is taken in the
others, projected onto ``d >= 0`` and backtracked (Armijo). Increments reach exactly
zero (the boundary, where the NPMLE puts no hazard) instead of creeping towards it as
in EM or on log-increments. Gradient and Hessian are analytic and vectorised: with
observations compressed to distinct (interval, covariates) rows, each iteration costs
O(rows x p + m^2) for m Turnbull intervals (suffix sums, no per-row loop). The fit
stops when the Newton decrement falls below ``tol`` (log-likelihood units), at which
point the quadratic convergence of Newton puts ``beta`` within about
``sqrt(tol / information)`` of the maximiser. Above ``_MAX_DENSE`` intervals, where a
dense Hessian costs too much, L-BFGS-B with the same gradient is used.

Inference
---------
At the boundary (increments at zero), and because the number of baseline parameters
grows with the sample, the Hessian is not a valid basis for standard errors of
``beta`` in general; ``ic_sp`` uses the bootstrap, and so do we: confidence intervals
are bootstrap percentile intervals (observations resampled within ``boot_strata``,
e.g. arm; each replicate warm-started from the full fit). The p-value of each term is
the profile likelihood-ratio test (twice the gain in log-likelihood from adding the
term, with ``Lambda0`` maximised out under both fits; chi-square with 1 df), whose
asymptotic chi-square law in semiparametric models is shown by Murphy & van der Vaart
(2000, JASA 95:449-465) and for this model by Zeng, Mao & Lin (2016, Biometrika
103:253-271). ``cov_observed`` is the inverse observed information of ``beta`` with
``Lambda0`` profiled over the positive increments: valid when no increment is at the
boundary and their number is fixed (the grouped-time case), shown for validation only.

References
----------
Finkelstein, D. M. (1986). A proportional hazards model for interval-censored failure
time data. Biometrics 42, 845-854.
Pan, W. (1999). Extending the iterative convex minorant algorithm to the Cox model
for interval-censored data. J Comput Graph Stat 8, 109-120.
Prentice, R. L. & Gloeckler, L. A. (1978). Regression analysis of grouped survival
data with application to breast cancer data. Biometrics 34, 57-67.
Bertsekas, D. P. (1982). Projected Newton methods for optimization problems with
simple constraints. SIAM J Control Optim 20, 221-246.

Examples
--------
>>> import numpy as np
>>> from dryneedle_outcomes.stats.survival.ic_ph import fit_ic_ph
>>> lower = [0, 2, 4, 0, 2, 6, 0, 4, 2, 6]
>>> upper = [2, 4, np.inf, 4, 6, np.inf, 2, 6, np.inf, np.inf]
>>> arm = [1, 1, 1, 1, 1, 0, 0, 0, 0, 0]
>>> fit = fit_ic_ph(lower, upper, {"arm": arm}, n_boot=20, seed=1, progress=False)
>>> fit.table.columns.tolist()
['term', 'estimate', 'log_hr', 'std_error', 'ci_lower', 'ci_upper', 'p_value', 'method']
>>> bool(fit.converged), bool(fit.table.estimate.iloc[0] > 1)
(True, True)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import linalg, optimize, stats
from tqdm.auto import trange

from ...errors import AnalysisError
from ..checks import check_conf_level, check_whole_number
from .turnbull import _design, _validate

__all__ = ["ICPHFit", "fit_ic_ph"]

# Above this many Turnbull intervals the dense (m x m) Hessian is too costly: L-BFGS-B.
_MAX_DENSE = 2000
# |log hazard ratio| beyond which the estimate is reported as possibly infinite
_BIG_COEF = 15.0
_METHOD = "semi-parametric PH for interval-censored data (NPMLE as icenReg ic_sp)"


@dataclass(frozen=True)
class ICPHFit:
    """A fitted interval-censored proportional hazards model.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per term: ``term``, ``estimate`` (hazard ratio), ``log_hr``,
        ``std_error`` (bootstrap SD of ``log_hr``; NaN without bootstrap), ``ci_lower``,
        ``ci_upper`` (bootstrap percentile limits of the hazard ratio), ``p_value``
        (profile likelihood-ratio test) and ``method``.
    coef : numpy.ndarray
        ``beta`` (log hazard ratios).
    loglik : float
        Maximised log-likelihood ``sum_i w_i log P_i``.
    baseline : pandas.DataFrame
        One row per Turnbull interval with a finite end: ``time_lower``, ``time_upper``,
        ``increment`` (of the baseline cumulative hazard; 0 at the boundary) and
        ``cumhaz`` (``Lambda0(time_upper)``).
    cov_observed : pandas.DataFrame
        Inverse observed information of ``beta`` with ``Lambda0`` profiled over the
        positive increments (see the module notes for when it is valid).
    converged : bool
    n_iter : int
    n_obs : int
    n_boot, seed, conf_level
        Bootstrap settings (``n_boot = 0``: no bootstrap).
    boot_coef : numpy.ndarray
        The bootstrap replicates of ``beta`` (``n_boot x p``).
    warnings : list of str
    """

    table: pd.DataFrame
    coef: np.ndarray
    loglik: float
    baseline: pd.DataFrame
    cov_observed: pd.DataFrame
    converged: bool
    n_iter: int
    n_obs: int
    n_boot: int
    seed: int | None
    conf_level: float
    boot_coef: np.ndarray
    warnings: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """The hazard ratios as plain text."""
        t = self.table
        lines = [f"{_METHOD}; n = {self.n_obs}, log-likelihood = {self.loglik:.4f}"]
        pct = f"{100 * self.conf_level:g}%"
        for r in t.itertuples():
            lines.append(f"  {r.term}: HR {r.estimate:.3f} ({pct} CI {r.ci_lower:.3f} to "
                         f"{r.ci_upper:.3f}), p = {r.p_value:.3g}")
        if self.n_boot:
            lines.append(f"  CIs: bootstrap percentile, {self.n_boot} replicates (seed "
                         f"{self.seed}); p: profile likelihood-ratio test")
        return "\n".join(lines + [f"  warning: {w}" for w in self.warnings])


# ---------------------------------------------------------------------- data
@dataclass(frozen=True)
class _Data:
    a: np.ndarray        # first Turnbull interval covered by each row
    b: np.ndarray        # last one (inclusive)
    inf: np.ndarray      # upper is infinite: S(upper) = 0
    X: np.ndarray        # rows x p
    w: np.ndarray
    m: int               # Turnbull intervals with a finite end (one increment each)
    t_lo: np.ndarray
    t_hi: np.ndarray


def _make_data(lo: np.ndarray, up: np.ndarray, X: np.ndarray, w: np.ndarray) -> _Data:
    des = _design(lo, up)
    # Increments of intervals that no observation is known to outlive (a_i > j for
    # none) only raise the likelihood: their maximum is infinite (the baseline
    # survival drops to 0 there, as Kaplan-Meier after the last time), so Lambda0 is
    # infinite from the first of them on, as after a final (L, inf).
    m = int(min(np.isfinite(des.t_hi).sum(), des.a.max()))
    return _Data(des.a, des.b, des.b >= m, X, w, m, des.t_lo[:m], des.t_hi[:m])


def _evaluate(d: np.ndarray, beta: np.ndarray, D: _Data, order: int):
    """Log-likelihood (order 0), with gradient (1) and Hessian (2) in (d, beta)."""
    m, p = D.m, D.X.shape[1]
    C = np.concatenate([[0.0], np.cumsum(d)])
    A = C[D.a]
    B = np.where(D.inf, np.inf, C[np.minimum(D.b + 1, m)])
    # a trial step of the line search may overflow; it then gets ll = -inf or nan
    # and is rejected, so these floating-point warnings are expected, not lost
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        r = np.exp(D.X @ beta)
        u = A * r
        dr = (B - A) * r
        logp = -u + np.log(-np.expm1(-dr))
    ll = float(D.w @ logp)
    if order == 0 or not np.isfinite(ll):
        return ll, None, None
    fin = np.isfinite(dr)
    drf = np.where(fin, dr, 1.0)
    with np.errstate(over="ignore"):
        rho = np.where(fin, 1.0 / np.expm1(drf), 0.0)   # S(upper) / P
    s = np.where(fin, drf * rho, 0.0)                    # dr / expm1(dr)
    s2 = np.where(fin, drf * s, 0.0)
    lA, lB, le = -r * (1.0 + rho), r * rho, s - u
    w = D.w
    ga = np.bincount(D.a, weights=w * lA, minlength=m + 1)
    gb = np.bincount(D.b[fin], weights=(w * lB)[fin], minlength=m + 1)
    grad_d = _suffix(ga)[1:m + 1] + _suffix(gb)[:m]
    grad = np.concatenate([grad_d, D.X.T @ (w * le)])
    if order == 1:
        return ll, grad, None
    q = w * r * r * rho * (1.0 + rho)            # -l_AA = -l_BB = l_AB
    lee = s - u - s2 - s * s
    lAe = -r * (1.0 + rho) * (1.0 - s)
    lBe = r * (rho - s - rho * s)
    H = np.empty((m + p, m + p))
    k = np.arange(m)
    mx = np.maximum.outer(k, k)
    ta = _suffix(np.bincount(D.a, weights=q, minlength=m + 1))      # sum over a_i >= j
    tb = _suffix(np.bincount(D.b[fin], weights=q[fin], minlength=m + 1))
    # M[k, l] = sum_i q_i 1[a_i > k] 1[b_i >= l] (rows: a - 1; 2-D suffix sums)
    grid = np.bincount(D.a[fin] * (m + 1) + D.b[fin], weights=q[fin],
                       minlength=(m + 1) ** 2).reshape(m + 1, m + 1)
    M = grid[::-1, ::-1].cumsum(0).cumsum(1)[::-1, ::-1][1:m + 1, :m]
    H[:m, :m] = -ta[mx + 1] - tb[mx] + M + M.T
    cross = np.empty((m, p))
    for j in range(p):       # a loop over covariates, not over observations
        xa = np.bincount(D.a, weights=w * lAe * D.X[:, j], minlength=m + 1)
        xb = np.bincount(D.b[fin], weights=(w * lBe * D.X[:, j])[fin], minlength=m + 1)
        cross[:, j] = _suffix(xa)[1:m + 1] + _suffix(xb)[:m]
    H[:m, m:] = cross
    H[m:, :m] = cross.T
    H[m:, m:] = (D.X * (w * lee)[:, None]).T @ D.X
    return ll, grad, H


def _suffix(x: np.ndarray) -> np.ndarray:
    """``out[j] = sum(x[j:])``."""
    return x[::-1].cumsum()[::-1]


# ---------------------------------------------------------------------- optimiser
def _start_d(D: _Data) -> np.ndarray:
    """Equal increments whose total matches the share of right-censored weight."""
    frac = float(D.w[D.inf].sum() / D.w.sum())
    total = -np.log(min(max(frac, 0.05), 0.95)) + 0.5
    return np.full(D.m, total / max(D.m, 1))


def _newton(d, beta, D: _Data, tol: float, max_iter: int):
    m = D.m
    z = np.concatenate([d, beta])
    ll, g, H = _evaluate(z[:m], z[m:], D, 2)
    if not np.isfinite(ll):
        raise AnalysisError("the starting values give an observation probability 0; "
                            "report this data set as a bug")
    for it in range(1, max_iter + 1):
        if not (np.isfinite(g).all() and np.isfinite(H).all()):
            return z[:m], z[m:], ll, it, False     # overflow: an estimate runs to infinity
        step = _qp_step(-H, g, z, m)
        if not np.isfinite(step).all():
            return z[:m], z[m:], ll, it, False
        slope = float(g @ step)
        t, accepted = 1.0, False
        for _ in range(60):
            zn = z + t * step
            zn[:m] = np.maximum(zn[:m], 0.0)      # rounding only: the step is feasible
            # the full step is usually accepted: evaluate its derivatives at once
            lln, gn, Hn = _evaluate(zn[:m], zn[m:], D, 2 if t == 1.0 else 0)
            if np.isfinite(lln) and lln >= ll + 1e-4 * t * slope - 1e-12 * abs(ll):
                accepted = True
                break
            t *= 0.5
        if not accepted:
            return z[:m], z[m:], ll, it, slope < 10 * tol
        z = zn
        ll, g, H = (lln, gn, Hn) if t == 1.0 else _evaluate(z[:m], z[m:], D, 2)
        if slope < tol and t == 1.0:
            return z[:m], z[m:], ll, it, True
    return z[:m], z[m:], ll, max_iter, False


def _qp_step(Hn: np.ndarray, g: np.ndarray, z: np.ndarray, m: int) -> np.ndarray:
    """Newton step for the quadratic model ``g's - s'Hn s / 2`` subject to ``d + s >= 0``.

    Block active-set iterations: increments whose step would turn negative are fixed at
    0 (``s = -d``), fixed ones whose model gradient points up are released, until
    neither happens (Wang 2008 does the same with NNLS for the NPMLE).
    """
    is_d = np.arange(z.size) < m
    fixed = is_d & (z <= 0) & (g <= 0)
    step = np.zeros_like(z)
    for _ in range(50):
        free = ~fixed
        step[:] = 0.0
        step[fixed] = -z[fixed]
        rhs = g[free] - Hn[np.ix_(free, fixed)] @ step[fixed]
        step[free] = _damped_solve(Hn[np.ix_(free, free)], rhs)
        if not np.isfinite(step).all():
            return step     # the caller stops: the model has no finite maximum here
        viol = free & is_d & (z + step < 0)
        model_grad = g - Hn @ step
        release = fixed & (model_grad > 1e-12 * (1.0 + np.abs(g)))
        if not viol.any() and not release.any():
            return step
        fixed = (fixed | viol) & ~release
    return step     # no stable active set: the caller's projection keeps d >= 0


def _damped_solve(H: np.ndarray, g: np.ndarray) -> np.ndarray:
    """Solve ``H x = g`` for positive definite ``H``, adding ``lam * I`` if it is not."""
    if H.size == 0:
        return np.zeros(0)
    scale = max(float(np.abs(np.diag(H)).max()), 1e-300)
    lam = 0.0
    for _ in range(40):
        try:
            c = linalg.cho_factor(H + lam * np.eye(len(H)), check_finite=False)
            return linalg.cho_solve(c, g, check_finite=False)
        except linalg.LinAlgError:
            lam = max(lam * 10.0, 1e-10 * scale)
    raise AnalysisError("the interval-censored PH fit could not find an ascent direction")


def _lbfgs(d, beta, D: _Data, tol: float, max_iter: int):
    m = D.m

    def fun(z):
        ll, g, _ = _evaluate(z[:m], z[m:], D, 1)
        return (-ll, -g) if np.isfinite(ll) else (np.inf, np.zeros_like(z))

    bounds = [(0.0, None)] * m + [(None, None)] * len(beta)
    res = optimize.minimize(fun, np.concatenate([d, beta]), jac=True, method="L-BFGS-B",
                            bounds=bounds, options={"maxiter": max_iter * 50,
                                                    "ftol": tol * 1e-3, "gtol": 1e-8})
    return res.x[:m], res.x[m:], -float(res.fun), int(res.nit), bool(res.success)


def _fit(D: _Data, d0=None, beta0=None, tol=1e-10, max_iter=200):
    p = D.X.shape[1]
    d = _start_d(D) if d0 is None else np.asarray(d0, dtype=float)
    beta = np.zeros(p) if beta0 is None else np.asarray(beta0, dtype=float)
    if not np.isfinite(_evaluate(d, beta, D, 0)[0]):     # a warm start at the boundary
        d = np.maximum(d, 1e-3 * max(float(np.mean(d)), 1e-8))
    if not np.isfinite(_evaluate(d, beta, D, 0)[0]):
        d, beta = _start_d(D), np.zeros(p)
    if D.m > _MAX_DENSE:
        return _lbfgs(d, beta, D, tol, max_iter)
    return _newton(d, beta, D, tol, max_iter)


def _warm_d(fit_t_hi, fit_cumhaz, D: _Data) -> np.ndarray:
    """Increments over ``D``'s intervals from a fitted cumulative hazard (step function)."""
    pos = np.searchsorted(fit_t_hi, D.t_hi, side="right") - 1
    cum = np.where(pos >= 0, fit_cumhaz[np.maximum(pos, 0)], 0.0)
    return np.diff(np.concatenate([[0.0], cum]))


def _profile_cov(d, beta, D: _Data) -> np.ndarray:
    """Inverse of the Schur complement of the positive increments' block."""
    p = D.X.shape[1]
    _, _, H = _evaluate(d, beta, D, 2)
    info = -H
    keep = np.concatenate([d > 0, np.ones(p, dtype=bool)])
    info = info[np.ix_(keep, keep)]
    if not p:
        return np.zeros((0, 0))
    if not np.isfinite(info).all() or np.linalg.cond(info) > 1e12:
        return np.full((p, p), np.nan)    # not identified (e.g. an infinite estimate)
    return np.linalg.inv(info)[-p:, -p:]


# ---------------------------------------------------------------------- inputs
def _covariates(X, n: int) -> tuple[np.ndarray, list[str]]:
    if X is None:
        return np.zeros((n, 0)), []
    if isinstance(X, Mapping):
        X = pd.DataFrame(dict(X))
    if isinstance(X, pd.DataFrame):
        names = [str(c) for c in X.columns]
        bad = [c for c in X.columns if not pd.api.types.is_numeric_dtype(X[c])
               or pd.api.types.is_bool_dtype(X[c])]
        if bad:
            raise AnalysisError(f"X columns {bad} are not numeric; code factors as 0/1 "
                                "indicator columns")
        arr = X.to_numpy(dtype=float, na_value=np.nan)
    else:
        arr = np.asarray(X, dtype=float)
        if arr.ndim == 1:
            arr = arr[:, None]
        names = [f"x{j + 1}" for j in range(arr.shape[1])]
    if arr.ndim != 2 or arr.shape[0] != n:
        raise AnalysisError(f"X must have one row per observation ({n}); got shape "
                            f"{arr.shape}")
    if not np.isfinite(arr).all():
        raise AnalysisError("X has missing or infinite values; leave those observations out "
                            "(and say so) before fitting")
    if arr.shape[1] and np.linalg.matrix_rank(np.column_stack([np.ones(n), arr])) \
            < arr.shape[1] + 1:
        raise AnalysisError(f"X columns {names} include a constant column or columns that "
                            "are collinear (with each other or with a constant, which the "
                            "baseline hazard absorbs); drop the redundant ones")
    return arr, names


def _compress(lo, up, X, w, group):
    """Distinct (lower, upper, X, group) rows with summed weights."""
    key = np.column_stack([lo, up, X, group])
    uniq, inv = np.unique(key, axis=0, return_inverse=True)
    inv = inv.reshape(-1)
    return uniq, np.bincount(inv, weights=w, minlength=len(uniq)), inv


# ---------------------------------------------------------------------- public
def fit_ic_ph(
    lower: np.ndarray | pd.Series | list[float],
    upper: np.ndarray | pd.Series | list[float],
    X: pd.DataFrame | Mapping | np.ndarray | None = None,
    *,
    weights: np.ndarray | list[float] | None = None,
    boot_strata: np.ndarray | pd.Series | list | None = None,
    n_boot: int = 200,
    conf_level: float = 0.95,
    seed: int | None = None,
    progress: bool = True,
    label: str = "bootstrap: interval-censored PH hazard ratios",
    tol: float = 1e-10,
    max_iter: int = 200,
) -> ICPHFit:
    """Fit the semi-parametric proportional hazards model to interval-censored data.

    The NPMLE of ``S(t | x) = exp(-Lambda0(t) exp(x'beta))`` over ``beta`` and a
    non-decreasing ``Lambda0`` (icenReg's ``ic_sp(model = "ph")``), with bootstrap
    percentile CIs for the hazard ratios and profile likelihood-ratio p-values; see
    the module docstring for the algorithm and why the inference is done this way.

    Parameters
    ----------
    lower, upper : array-like of float
        The event is in ``(lower, upper]``; ``lower == upper`` is an exact time,
        ``upper = inf`` right-censoring at ``lower`` (R's ``Surv(type = "interval2")``
        with ``NA`` written as ``inf``).
    X : DataFrame, mapping of name to column, or array (n x p), optional
        Covariates (numeric; factors as 0/1 columns). None: no covariates (the fit is
        then the Turnbull NPMLE).
    weights : array-like of float, optional
        Case weights (frequency weights).
    boot_strata : array-like, optional
        Resample observations within these groups (e.g. the arm), keeping their sizes.
    n_boot : int, default 200
        Bootstrap replicates (0: none; the CIs are then NaN).
    conf_level : float, default 0.95
    seed : int, optional
        Seed of the bootstrap ``numpy.random.Generator``; drawn and reported when None.
    progress : bool, default True
        Show a ``tqdm`` progress bar during the bootstrap.
    label : str
        What the progress bar says.
    tol : float, default 1e-10
        Stop when the Newton decrement (log-likelihood units) is below this.
    max_iter : int, default 200

    Returns
    -------
    ICPHFit

    Raises
    ------
    AnalysisError
        On invalid intervals (missing, negative, infinite ``lower``, ``upper < lower``;
        the message names the rule and the first position), non-numeric, missing,
        constant or collinear covariates, or bad options.

    Examples
    --------
    >>> import numpy as np
    >>> from dryneedle_outcomes.stats.survival.ic_ph import fit_ic_ph
    >>> lower = np.array([0, 1, 2, 0, 1, 3, 0, 2, 1, 3.])
    >>> upper = np.array([1, 2, np.inf, 2, 3, np.inf, 1, 3, np.inf, np.inf])
    >>> fit = fit_ic_ph(lower, upper, {"arm": [1, 1, 1, 1, 1, 0, 0, 0, 0, 0]},
    ...                 n_boot=0)
    >>> fit.table[["term", "p_value"]].columns.tolist()
    ['term', 'p_value']
    >>> bool(fit.baseline["increment"].ge(0).all())
    True
    """
    lo, up, w = _validate(lower, upper, weights)
    Xa, names = _covariates(X, lo.size)
    n_boot = check_whole_number(n_boot, "n_boot", minimum=0)
    if n_boot == 1:
        raise AnalysisError("n_boot must be 0 (no bootstrap) or at least 2")
    conf_level = check_conf_level(conf_level)
    if not (np.isfinite(tol) and tol > 0):
        raise AnalysisError(f"tol must be a positive number; got {tol!r}")
    max_iter = check_whole_number(max_iter, "max_iter", minimum=1)
    if boot_strata is None:
        group = np.zeros(lo.size)
    else:
        labels = pd.Series(np.asarray(boot_strata))
        if labels.size != lo.size or labels.isna().any():
            raise AnalysisError("boot_strata must give a non-missing group for every "
                                f"observation ({lo.size})")
        group = pd.factorize(labels)[0].astype(float)
    if not ((up > lo) & (w > 0)).any():
        raise AnalysisError("no observation is censored or has an event with positive "
                            "weight; nothing to fit")
    keep = w > 0
    uniq, cw, _ = _compress(lo[keep], up[keep], Xa[keep], w[keep], group[keep])
    p = Xa.shape[1]
    cl, cu, cX, cg = uniq[:, 0], uniq[:, 1], uniq[:, 2:2 + p], uniq[:, -1]
    D = _make_data(cl, cu, cX, cw)
    warn: list[str] = []
    d, beta, ll, n_iter, ok = _fit(D, tol=tol, max_iter=max_iter)
    if not ok:
        warn.append(f"did not converge in {max_iter} iterations (Newton decrement above "
                    f"{tol:g}); estimates may be inaccurate")
    big = [n for n, b in zip(names, beta) if abs(b) > _BIG_COEF]
    if big:
        warn.append(f"hazard ratio of {', '.join(big)} may be infinite (|log HR| > "
                    f"{_BIG_COEF:g}: e.g. a group without events, a monotone likelihood); "
                    "its estimate and CI are not usable")
    cum = np.cumsum(d)
    baseline = pd.DataFrame({"time_lower": D.t_lo, "time_upper": D.t_hi,
                             "increment": d, "cumhaz": cum})
    # profile likelihood-ratio test of each term (Lambda0 maximised out in both fits)
    pvals = np.full(p, np.nan)
    for j in range(p):
        Dj = _Data(D.a, D.b, D.inf, np.delete(cX, j, axis=1), cw, D.m, D.t_lo, D.t_hi)
        llj = _fit(Dj, d, np.delete(beta, j), tol=tol, max_iter=max_iter)[2]
        pvals[j] = stats.chi2.sf(max(2.0 * (ll - llj), 0.0), 1)
    boot = np.full((n_boot, p), np.nan)
    if n_boot and p:
        if seed is None:
            seed = int(np.random.SeedSequence().entropy % (2**63))
        rng = np.random.default_rng(seed)
        gcodes = cg.astype(int)
        n_g = np.bincount(gcodes, weights=cw)
        prob = cw / n_g[gcodes]
        failed = 0
        for r in trange(n_boot, disable=not progress, desc=label):
            wb = np.zeros(cw.size)
            for g in range(n_g.size):     # a loop over resampling groups (arms)
                idx = np.flatnonzero(gcodes == g)
                wb[idx] = rng.multinomial(int(round(n_g[g])), prob[idx])
            sel = wb > 0
            Db = _make_data(cl[sel], cu[sel], cX[sel], wb[sel])
            try:
                # a looser stop for replicates: beta then within ~sqrt(2e4 tol / info)
                # of the replicate's maximiser, far below the bootstrap spread
                _, bb, _, _, okb = _fit(Db, _warm_d(D.t_hi, cum, Db), beta,
                                        tol=tol * 1e4, max_iter=max_iter)
            except AnalysisError:
                okb = False
            if okb:
                boot[r] = bb
            failed += not okb
        if failed:
            warn.append(f"{failed} of {n_boot} bootstrap fits did not converge and are "
                        "left out of the percentile intervals")
    alpha = (1.0 - conf_level) / 2.0
    good = boot[np.isfinite(boot).all(axis=1)] if n_boot else boot
    if len(good) >= 2:
        qs = np.quantile(good, [alpha, 1.0 - alpha], axis=0)
        se = good.std(axis=0, ddof=1)
    else:
        qs, se = np.full((2, p), np.nan), np.full(p, np.nan)
    table = pd.DataFrame({
        "term": names, "estimate": np.exp(beta), "log_hr": beta, "std_error": se,
        "ci_lower": np.exp(qs[0]), "ci_upper": np.exp(qs[1]), "p_value": pvals,
        "method": "interval-censored PH (NPMLE); bootstrap percentile CI; profile LR p",
    })
    cov = pd.DataFrame(_profile_cov(d, beta, D), index=names, columns=names)
    return ICPHFit(table=table, coef=beta, loglik=ll, baseline=baseline, cov_observed=cov,
                   converged=bool(ok), n_iter=int(n_iter), n_obs=int(keep.sum()),
                   n_boot=int(n_boot), seed=None if not n_boot else seed,
                   conf_level=float(conf_level), boot_coef=boot, warnings=warn)
