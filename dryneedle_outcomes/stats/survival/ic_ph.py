"""Semi-parametric PH model for interval-censored times (the NPMLE of icenReg's
``ic_sp``), checked against R's ``glm`` (cloglog, grouped time) and ``survreg``.

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

With ``strata``, each stratum has its own baseline ``Lambda0_s`` (its own Turnbull
intervals and increments) and ``beta`` is shared, as in a stratified Cox model.

On a common visit grid (every interval is ``(t_{k-1}, t_k]`` or right-censored at a
grid point) the model is the grouped-time PH model of Prentice & Gloeckler (1978):
a binomial GLM with a complementary log-log link on person-period rows with one
intercept ``log d_k`` per period. ``tests/reference/ic_ph/`` checks this against R's
``glm``.

Algorithm
---------
Newton's method on ``(d, beta)`` with the bound ``d >= 0`` in each step (as projected
Newton, Bertsekas 1982): the step maximises the quadratic model subject to
``d + s >= 0`` by an active set (increments whose step would turn negative are fixed at
0, fixed ones whose model gradient points up are released; after 20 rounds only fixing,
since block pivoting can cycle), with Cholesky solves and Levenberg damping when the
Hessian is not negative definite, then Armijo backtracking (and doubling while the gain
beats the quadratic model). Increments reach exactly zero (the boundary, where the
NPMLE puts no hazard) instead of creeping towards it as in EM or on log-increments.
Gradient and Hessian are analytic and vectorised: with
observations compressed to distinct (interval, covariates) rows, each iteration costs
O(rows x p + m^2) for m Turnbull intervals (suffix sums, no per-row loop). The fit
stops when the Newton decrement falls below ``tol`` (log-likelihood units), at which
point the quadratic convergence of Newton puts ``beta`` within about
``sqrt(tol / information)`` of the maximiser. More than 2,000 Turnbull intervals (the
dense Hessian then costs too much) are refused with a message; visit-based relief
times have a few hundred at most. (L-BFGS-B on the same gradient was tried as a
fallback and stopped far from the maximum on R's lung data: not offered.)

Inference
---------
At the boundary (increments at zero), and because the number of baseline parameters
grows with the sample, the Hessian is not a valid basis for standard errors of
``beta`` in general; ``ic_sp`` uses the bootstrap, and so do we: confidence intervals
are bootstrap percentile intervals (observations resampled within ``boot_strata``,
e.g. arm; each replicate warm-started from the full fit; replicates drawn before the
refits, which ``n_jobs`` processes share: ``stats.survival.ic_ph_boot``). A replicate whose MLE
is infinite (e.g. no event in one arm of the resample) counts as ``+-inf`` in the
percentiles (a limit it reaches is a hazard ratio of 0 or infinity) and makes the
bootstrap SE undefined; a warning gives their number. The p-value of each term is
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
Anderson-Bergman, C. (2017). icenReg: regression models for interval censored data in
R. J Stat Softw 81(12).
Murphy, S. A. & van der Vaart, A. W. (2000). On profile likelihood. JASA 95, 449-465.
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
from scipy import stats
from tqdm.auto import tqdm

from ...errors import AnalysisError
from ..checks import check_conf_level, check_whole_number
from . import ic_ph_boot
from .ic_ph_engine import (
    baseline_table,
    build_design,
    drop_column,
    fit_model,
    profile_cov,
)
from .turnbull import validate_intervals

__all__ = ["ICPHFit", "fit_ic_ph"]

# |log hazard ratio| beyond which the estimate is reported as possibly infinite
_BIG_COEF = 15.0
# stand-in for an infinite replicate inside np.quantile (exp of it overflows to inf)
_HUGE = 1e300
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


def _labels(values, name: str, n: int) -> tuple[np.ndarray, list[str] | None]:
    """Integer codes of a grouping argument (zeros when None) and its level names."""
    if values is None:
        return np.zeros(n), None
    labels = pd.Series(np.asarray(values))
    if labels.size != n or labels.isna().any():
        raise AnalysisError(f"{name} must give a non-missing label for every observation "
                            f"({n}); got {labels.size} labels, {int(labels.isna().sum())} "
                            "missing")
    codes, uniques = pd.factorize(labels)
    return codes.astype(float), [str(u) for u in uniques]


def _compress(lo, up, X, w, group):
    """Distinct (lower, upper, X, group columns) rows with summed weights."""
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
    strata: np.ndarray | pd.Series | list | None = None,
    boot_strata: np.ndarray | pd.Series | list | None = None,
    n_boot: int = 200,
    conf_level: float = 0.95,
    seed: int | None = None,
    progress: bool = True,
    label: str = "bootstrap: interval-censored PH hazard ratios",
    tol: float = 1e-10,
    max_iter: int = 200,
    n_jobs: int = 1,
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
    strata : array-like, optional
        A stratum label per observation: each stratum has its own baseline hazard
        ``Lambda0_s`` (its own Turnbull intervals) and ``beta`` is common, as
        ``coxph(... + strata(s))``.
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
    n_jobs : int, default 1
        Processes that refit the bootstrap replicates. The replicates are drawn in
        this process before the refits (one generator, in replicate order), so the
        results are the same for any ``n_jobs``; see ``stats.survival.ic_ph_boot``. About 5 ms
        a replicate at 10,000 patients with one continuous covariate.

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
    lo, up, w = validate_intervals(lower, upper, weights)
    Xa, names = _covariates(X, lo.size)
    n_boot = check_whole_number(n_boot, "n_boot", minimum=0)
    if n_boot == 1:
        raise AnalysisError("n_boot must be 0 (no bootstrap) or at least 2")
    conf_level = check_conf_level(conf_level)
    if not (np.isfinite(tol) and tol > 0):
        raise AnalysisError(f"tol must be a positive number; got {tol!r}")
    max_iter = check_whole_number(max_iter, "max_iter", minimum=1)
    n_jobs = check_whole_number(n_jobs, "n_jobs", minimum=1)
    group, _ = _labels(boot_strata, "boot_strata", lo.size)
    stratum, stratum_names = _labels(strata, "strata", lo.size)
    if not ((up > lo) & (w > 0)).any():
        raise AnalysisError("no observation is censored or has an event with positive "
                            "weight; nothing to fit")
    keep = w > 0
    uniq, cw, _ = _compress(lo[keep], up[keep], Xa[keep], w[keep],
                            np.column_stack([group, stratum])[keep])
    p = Xa.shape[1]
    cl, cu, cX, cg, cs = uniq[:, 0], uniq[:, 1], uniq[:, 2:2 + p], uniq[:, -2], uniq[:, -1]
    cs = None if strata is None else cs.astype(int)
    D = build_design(cl, cu, cX, cw, cs)
    warn: list[str] = []
    d, beta, ll, n_iter, ok = fit_model(D, tol=tol, max_iter=max_iter)
    if not ok:
        warn.append(f"did not converge in {max_iter} iterations (Newton decrement above "
                    f"{tol:g}); estimates may be inaccurate")
    big = [n for n, b in zip(names, beta) if abs(b) > _BIG_COEF]
    if big:
        warn.append(f"hazard ratio of {', '.join(big)} may be infinite (|log HR| > "
                    f"{_BIG_COEF:g}: e.g. a group without events, a monotone likelihood); "
                    "its estimate and CI are not usable")
    baseline = baseline_table(D, d, stratum_names)
    # profile likelihood-ratio test of each term (Lambda0 maximised out in both fits)
    pvals = np.full(p, np.nan)
    for j in range(p):
        llj = fit_model(drop_column(D, j), d, np.delete(beta, j), tol=tol, max_iter=max_iter)[2]
        pvals[j] = stats.chi2.sf(max(2.0 * (ll - llj), 0.0), 1)
    boot = np.full((n_boot, p), np.nan)
    if n_boot and p:
        if seed is None:
            seed = int(np.random.SeedSequence().entropy % (2**63))
        rng = np.random.default_rng(seed)
        ctx = ic_ph_boot.BootContext(cl, cu, cX, cs, D, d, beta, tol, max_iter, _BIG_COEF)
        with tqdm(total=n_boot, disable=not progress, desc=label) as bar:
            boot = ic_ph_boot.run(ctx, rng, cw, cg.astype(int), n_boot, n_jobs, bar.update)
        infinite = int((np.isinf(boot).any(axis=1) & ~np.isnan(boot).any(axis=1)).sum())
        failed = int(np.isnan(boot).any(axis=1).sum())
        if infinite:
            warn.append(f"{infinite} of {n_boot} bootstrap replicates have an infinite "
                        "maximum-likelihood log hazard ratio (e.g. no relief in one arm of "
                        "the resample); they count as +-inf in the percentile intervals, "
                        "and the bootstrap standard error is then not defined (NaN)")
        if failed:
            warn.append(f"{failed} of {n_boot} bootstrap fits did not converge and are "
                        "left out of the percentile intervals")
    alpha = (1.0 - conf_level) / 2.0
    # replicates with a fit (finite, or an infinite MLE recorded as +-inf); failed
    # replicates (NaN rows, warned about above) are left out
    good = boot[~np.isnan(boot).any(axis=1)] if n_boot else boot
    if len(good) >= 2:
        # percentiles with the infinite replicates at the ends (np.quantile would
        # interpolate inf - inf into NaN): a limit interpolated between an infinite
        # and a finite replicate is infinite (hazard ratio 0 or inf: the interval is
        # open on that side); any finite replicate is far below _HUGE * 1e-10
        qs = np.quantile(np.clip(good, -_HUGE, _HUGE), [alpha, 1.0 - alpha], axis=0)
        qs = np.where(np.abs(qs) > _HUGE * 1e-10, np.copysign(np.inf, qs), qs)
        with np.errstate(invalid="ignore"):     # inf - inf: the SD is NaN, as documented
            se = good.std(axis=0, ddof=1)
        se = np.where(np.isfinite(good).all(axis=0), se, np.nan)
    else:
        qs, se = np.full((2, p), np.nan), np.full(p, np.nan)
    table = pd.DataFrame({
        "term": names, "estimate": np.exp(beta), "log_hr": beta, "std_error": se,
        "ci_lower": np.exp(qs[0]), "ci_upper": np.exp(qs[1]), "p_value": pvals,
        "method": "interval-censored PH (NPMLE); bootstrap percentile CI; profile LR p",
    })
    cov = pd.DataFrame(profile_cov(d, beta, D), index=names, columns=names)
    return ICPHFit(table=table, coef=beta, loglik=ll, baseline=baseline, cov_observed=cov,
                   converged=bool(ok), n_iter=int(n_iter), n_obs=int(keep.sum()),
                   n_boot=int(n_boot), seed=None if not n_boot else seed,
                   conf_level=float(conf_level), boot_coef=boot, warnings=warn)
