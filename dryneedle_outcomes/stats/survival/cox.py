"""Cox proportional-hazards regression matching R's ``survival::coxph`` and ``cox.zph``.

The fit mirrors ``coxph.fit`` and its C routine ``coxfit6`` (survival 3.x): Efron (default)
or Breslow handling of tied event times, optional strata and case weights, Newton-Raphson
from ``beta = 0`` with step-halving, stopping when the relative change of the log partial
likelihood ``|1 - loglik_old / loglik_new|`` is at most ``tol`` (``coxph.control(eps)``).
As ``coxph`` (``timefix = TRUE``), event times that differ by floating-point noise only are
first merged (``aeqSurv``). Coefficients R would report as possibly infinite (monotone
likelihood, e.g. no events in one arm) or a fit that runs out of iterations give
``converged=False``, a plain-language entry in ``warnings`` and a
:class:`~dryneedle_outcomes.errors.ConvergenceWarning`.

:meth:`CoxFit.proportional_hazards_test` reproduces ``cox.zph`` of survival 3.x: the score
test, at the fitted coefficients, of adding ``g(t) * x`` terms to the model (C routine
``zph1``), with ``g`` the centred transform of time ("km", "rank" or "identity"); it is
not the older Grambsch-Therneau approximation based on scaled Schoenfeld residuals.

All risk-set sums are vectorised: the rows are sorted once by stratum and time, sums over
tied groups come from ``np.add.reduceat`` and risk sets from reversed cumulative sums over
the groups; within a tied group the Efron sums over its d terms reduce to scalar sums of
powers of ``1 / denominator`` (one value per event), so there is no Python loop over
subjects or event times. With non-integer case weights the variance is the robust
sandwich estimate, as coxph's default.

Differences from R, on purpose: X columns that are constant or collinear raise
:class:`~dryneedle_outcomes.errors.AnalysisError` (coxph reports NA coefficients); when
the iterations run out, ``cov`` is the inverse information at the returned coefficients
(coxph's is that of the last rejected step) and ``n_iter`` is ``max_iter`` (R: iter.max + 1);
``max_iter`` defaults to 30 (R: 20), which only matters for fits that do not converge.

Examples
--------
>>> import numpy as np
>>> import pandas as pd
>>> from dryneedle_outcomes.stats.survival.cox import fit_cox
>>> time = np.array([5, 8, 8, 12, 15, 20, 21, 30, 31, 40])
>>> event = np.array([1, 1, 0, 1, 1, 0, 1, 1, 0, 1])
>>> X = pd.DataFrame({"arm[dry_needling]": [1, 0, 1, 0, 1, 1, 0, 0, 1, 0]})
>>> fit = fit_cox(time, event, X)
>>> fit.converged, fit.n, fit.n_events
(True, 10, 7)
>>> fit.table[["term", "coef", "estimate"]].round(4)   # coxph: coef -0.3374558
                term    coef  estimate
0  arm[dry_needling] -0.3375    0.7136

Matches R's ``coxph`` and ``cox.zph``. Golden values: ``tests/reference/survival_cox/``
(``reference.json``, made by the ``make_reference.R`` there from the data beside it);
checked in ``tests/test_survival_cox.py``.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from ...errors import AnalysisError, ConvergenceWarning
from ..checks import check_conf_level, check_whole_number, count_first, first_position

__all__ = ["CoxFit", "fit_cox"]

TIES = ("efron", "breslow")
TRANSFORMS = ("km", "rank", "identity")
_TOLER_CHOL = np.finfo(float).eps ** 0.75       # coxph.control(toler.chol)
_TIMEFIX_TOL = np.sqrt(np.finfo(float).eps)      # aeqSurv(tolerance)


# ---- data preparation ------------------------------------------------------------------

@dataclass(frozen=True)
class _CoxData:
    """Rows sorted by (stratum, time) and the tied-group structure, built once per fit."""

    time: np.ndarray          # (n,) times after aeqSurv, sorted within strata
    event: np.ndarray         # (n,) bool
    x: np.ndarray             # (n, p) covariates centred by their weighted means
    weights: np.ndarray       # (n,)
    strata: np.ndarray        # (n,) integer stratum codes 0..S-1 (sorted)
    strata_labels: np.ndarray | None
    stratum_start: np.ndarray  # first sorted row of each stratum
    gid: np.ndarray           # (n,) (stratum, time) group of each sorted row
    gstart: np.ndarray        # (G,) first sorted row of each (stratum, time) group
    gend_stratum: np.ndarray  # (G,) index of the first group after the group's stratum
    ev_group: np.ndarray      # (E,) group of each event, events in sorted order
    ev_k: np.ndarray          # (E,) 0..d-1 position of the event within its tied group
    ev_d: np.ndarray          # (E,) number of events in the event's group
    ev_rows: np.ndarray       # (E,) sorted row index of each event
    ev_seg: np.ndarray        # (E,) index of the event's group among the groups with events
    seg_start: np.ndarray     # (S,) first event of each group with events
    seg_group: np.ndarray     # (S,) the group of each group with events
    event_x_sum: np.ndarray   # (p,) sum of weight * x over the events
    tri: tuple[np.ndarray, np.ndarray]  # upper-triangle indices of a p x p matrix


def _fail(msg: str) -> None:
    raise AnalysisError(msg)


def _as_1d(values, name: str, n: int | None) -> np.ndarray:
    if isinstance(values, pd.Series | pd.Index):
        numeric = pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)
        # nullable integer columns: pd.NA -> nan, reported as missing below
        arr = values.to_numpy(dtype=float, na_value=np.nan) if numeric else values.to_numpy()
    else:
        arr = np.asarray(values)
    if arr.ndim != 1:
        _fail(f"{name} must be one-dimensional; got an array of shape {arr.shape}")
    if n is not None and arr.shape[0] != n:
        _fail(f"{name} has {arr.shape[0]} values but X has {n} rows; they must match")
    return arr


def _numeric(arr: np.ndarray, name: str) -> np.ndarray:
    try:
        out = arr.astype(float)
    except (TypeError, ValueError) as exc:
        raise AnalysisError(f"{name} must be numeric; got values of dtype {arr.dtype}") from exc
    bad = ~np.isfinite(out)
    if bad.any():
        _fail(f"{name} has {count_first(bad, 'missing or non-finite')}; remove or impute "
              "those rows explicitly before fitting")
    return out


def _timefix(time: np.ndarray) -> np.ndarray:
    """R's ``aeqSurv``: merge distinct times closer than sqrt(machine eps) (as coxph)."""
    uniq = np.unique(time)
    if uniq.size < 2:
        return time
    dy = np.diff(uniq)
    scale = np.mean(np.abs(uniq))
    tied = (dy <= _TIMEFIX_TOL) | (dy / scale <= _TIMEFIX_TOL if scale > 0 else False)
    if not tied.any():
        return time
    cuts = uniq[np.concatenate(([True], ~tied))]
    return cuts[np.searchsorted(cuts, time, side="right") - 1]


def _prepare(time, event, X, strata, weights) -> tuple[_CoxData, list[str]]:
    if not isinstance(X, pd.DataFrame):
        _fail(f"X must be a pandas DataFrame of numeric covariates; got {type(X).__name__}")
    n, p = X.shape
    if p == 0:
        _fail("X has no columns; a Cox model needs at least one covariate")
    if n == 0:
        _fail("X has no rows")
    names = [str(c) for c in X.columns]
    if len(set(names)) != p:
        dup = sorted({c for c in names if names.count(c) > 1})
        _fail(f"X has duplicated column names {dup}; term names must be unique")
    non_num = [c for c in X.columns
               if not (pd.api.types.is_numeric_dtype(X[c]) or pd.api.types.is_bool_dtype(X[c]))]
    if non_num:
        _fail(f"X columns {non_num} are not numeric; code factors as 0/1 indicator columns "
              "(e.g. 'arm[dry_needling]') before fitting")
    x = X.to_numpy(dtype=float, na_value=np.nan)
    bad = ~np.isfinite(x)
    if bad.any():
        rows, cols = np.nonzero(bad)
        _fail(f"X has {int(bad.sum())} missing or non-finite values (first in column "
              f"{names[cols[0]]!r} at position {rows[0]}); exclude or impute those rows "
              "explicitly before fitting")

    t = _numeric(_as_1d(time, "time", n), "time")
    neg = t < 0
    if neg.any():
        _fail(f"time has {count_first(neg, 'negative')}; times must be >= 0")
    ev_raw = _as_1d(event, "event", n)
    ev_num = _numeric(ev_raw, "event")
    not01 = (ev_num != 0) & (ev_num != 1)
    if not01.any():
        _fail(f"event has {count_first(not01, 'non-0/1')} (first seen: "
              f"{ev_raw[first_position(not01)]!r}); code 1 = event, 0 = censored")
    ev = ev_num == 1
    if not ev.any():
        _fail("event has no events (all values are 0); a Cox model needs at least one event")

    if weights is None:
        w = np.ones(n)
    else:
        w = _numeric(_as_1d(weights, "weights", n), "weights")
        nonpos = w <= 0
        if nonpos.any():
            _fail(f"weights has {count_first(nonpos, 'zero or negative')}; case weights "
                  "must be > 0 (as in coxph)")

    if strata is None:
        s_codes = np.zeros(n, dtype=np.int64)
        s_labels = None
    else:
        # a Categorical keeps its category order (as an R factor's levels), else sorted
        cat = pd.Categorical(strata)
        if len(cat) != n:
            _fail(f"strata has {len(cat)} values but X has {n} rows; they must match")
        miss = np.asarray(cat.isna())
        if miss.any():
            _fail(f"strata has {count_first(miss, 'missing')}; give every row a stratum")
        cat = cat.remove_unused_categories()
        s_codes = cat.codes.astype(np.int64)
        s_labels = np.asarray(cat.categories)

    t = _timefix(t)
    order = np.lexsort((t, s_codes))                      # stable: ties keep input order
    t, ev, x, w, s = t[order], ev[order], x[order], w[order], s_codes[order]
    x = x - (w @ x) / w.sum()                             # as coxfit6 (numerical stability)

    new_group = np.ones(n, dtype=bool)
    new_group[1:] = (t[1:] != t[:-1]) | (s[1:] != s[:-1])
    gstart = np.flatnonzero(new_group)
    gid = np.cumsum(new_group) - 1
    g_stratum = s[gstart]
    # first group of the next stratum, for each group
    s_first_group = np.searchsorted(g_stratum, np.arange(g_stratum.max() + 2), side="left")
    gend_stratum = s_first_group[g_stratum + 1]

    ev_rows = np.flatnonzero(ev)
    ev_group = gid[ev_rows]
    d_per_group = np.bincount(ev_group, minlength=gstart.size)
    ev_d = d_per_group[ev_group]
    first_ev = np.concatenate(([0], np.cumsum(d_per_group)[:-1]))
    ev_k = np.arange(ev_rows.size) - first_ev[ev_group]
    new_seg = np.r_[True, np.diff(ev_group) != 0]
    seg_start = np.flatnonzero(new_seg)

    data = _CoxData(time=t, event=ev, x=x, weights=w, strata=s, strata_labels=s_labels,
                    stratum_start=np.flatnonzero(np.r_[True, np.diff(s) != 0]), gid=gid,
                    gstart=gstart, gend_stratum=gend_stratum, ev_group=ev_group, ev_k=ev_k,
                    ev_d=ev_d, ev_rows=ev_rows, ev_seg=np.cumsum(new_seg) - 1,
                    seg_start=seg_start, seg_group=ev_group[seg_start],
                    event_x_sum=w[ev_rows] @ x[ev_rows], tri=np.triu_indices(p))
    return data, names


# ---- the Efron / Breslow sums ----------------------------------------------------------

@dataclass(frozen=True)
class _Terms:
    """One term per event (Efron's k-th share of a tied group; Breslow: the group's sums)."""

    wt: np.ndarray      # (E,) weight of the term: sum of event weights in the group / d
    log_denom: np.ndarray  # (E,) log of the weighted risk-set sum
    mean: np.ndarray    # (E, p) weighted mean of x over the (Efron-reduced) risk set
    var: np.ndarray     # (E, p, p) weighted covariance over the risk set
    frac: np.ndarray    # (E,) share of the group's deaths removed from the risk set (Efron)
    inv_denom: np.ndarray  # (E,) 1 / risk-set sum, on the scale of `risk`
    risk: np.ndarray    # (n,) exp(eta - stratum shift), unweighted


@dataclass(frozen=True)
class _Moments:
    """Weighted risk-set and death sums of (1, x, x x') for each tied group with events."""

    risk_sum: np.ndarray   # (S, m) sums over the risk set (everyone still at risk)
    death_sum: np.ndarray  # (S, m) sums over the group's events
    frac: np.ndarray       # (E,) Efron share k/d of the deaths removed for each event's term
    wt: np.ndarray         # (E,) term weight: summed event weights of the group / d
    shift: np.ndarray      # (n,) stratum shift of eta
    risk: np.ndarray       # (n,) exp(eta - shift)


def _moments(data: _CoxData, eta: np.ndarray, efron: bool) -> _Moments:
    x, w, (iu, ju) = data.x, data.weights, data.tri
    # a constant shift of eta within a stratum cancels from the partial likelihood; shifting
    # by the stratum maximum keeps exp() finite
    shift = np.maximum.reduceat(eta, data.stratum_start)[data.strata]
    e = np.exp(eta - shift)
    r = w * e
    # columns: 1, x (p), x_i x_j (upper triangle)
    z = np.concatenate((r[:, None], r[:, None] * x, r[:, None] * x[:, iu] * x[:, ju]), axis=1)
    group_sum = np.add.reduceat(z, data.gstart, axis=0)
    death_sum = np.add.reduceat(z[data.ev_rows], data.seg_start, axis=0)
    # reversed cumulative sums over groups; a risk set ends at the end of its stratum
    rc = np.concatenate((np.cumsum(group_sum[::-1], axis=0)[::-1],
                         np.zeros((1, z.shape[1]))), axis=0)
    risk_sum = rc[data.seg_group] - rc[data.gend_stratum[data.seg_group]]
    frac = (data.ev_k / data.ev_d) if efron else np.zeros(data.ev_rows.size)
    group_w = np.add.reduceat(w[data.ev_rows], data.seg_start)
    wt = group_w[data.ev_seg] / data.ev_d
    return _Moments(risk_sum=risk_sum, death_sum=death_sum, frac=frac, wt=wt, shift=shift,
                    risk=e)


def _sym(upper: np.ndarray, p: int, tri) -> np.ndarray:
    """(k, p(p+1)/2) upper triangles -> (k, p, p) symmetric matrices."""
    out = np.empty((upper.shape[0], p, p))
    out[:, tri[0], tri[1]] = upper
    out[:, tri[1], tri[0]] = upper
    return out


def _risk_terms(data: _CoxData, eta: np.ndarray, efron: bool) -> _Terms:
    """The Efron terms expanded to one per event (for zph and residuals, not the fit)."""
    p = data.x.shape[1]
    mo = _moments(data, eta, efron)
    tot = mo.risk_sum[data.ev_seg] - mo.frac[:, None] * mo.death_sum[data.ev_seg]
    denom = tot[:, 0]
    mean = tot[:, 1:1 + p] / denom[:, None]
    var = _sym(tot[:, 1 + p:] / denom[:, None], p, data.tri) - mean[:, :, None] * mean[:, None, :]
    return _Terms(wt=mo.wt, log_denom=np.log(denom) + mo.shift[data.ev_rows], mean=mean,
                  var=var, frac=mo.frac, inv_denom=1.0 / denom, risk=mo.risk)


def _loglik_score_info(data: _CoxData, beta: np.ndarray, efron: bool):
    """Log partial likelihood, score and information at beta (coxfit6_iter).

    Per tied group, the Efron sums over its d terms ``(S - f_k D)`` reduce to a handful of
    scalar sums of powers of ``1 / denom_k`` (``f_k = k / d``; 0 for Breslow), so only
    scalars are expanded to one term per event.
    """
    p = data.x.shape[1]
    eta = data.x @ beta
    mo = _moments(data, eta, efron)
    s0 = mo.risk_sum[:, 0]
    s1, s2 = mo.risk_sum[:, 1:1 + p], _sym(mo.risk_sum[:, 1 + p:], p, data.tri)
    d1, d2 = mo.death_sum[:, 1:1 + p], _sym(mo.death_sum[:, 1 + p:], p, data.tri)
    denom = s0[data.ev_seg] - mo.frac * mo.death_sum[data.ev_seg, 0]
    inv, f = 1.0 / denom, mo.frac
    per_seg = np.add.reduceat(
        mo.wt[:, None] * np.column_stack((inv, f * inv, inv * inv, f * inv * inv,
                                          f * f * inv * inv)), data.seg_start, axis=0)
    a0, a1, b0, b1, b2 = per_seg.T
    loglik = float(data.weights[data.ev_rows] @ eta[data.ev_rows]
                   - mo.wt @ (np.log(denom) + mo.shift[data.ev_rows]))
    score = data.event_x_sum - a0 @ s1 + a1 @ d1
    s1s1 = s1[:, :, None] * s1[:, None, :]
    s1d1 = s1[:, :, None] * d1[:, None, :]
    d1d1 = d1[:, :, None] * d1[:, None, :]
    info = (np.einsum("g,gij->ij", a0, s2) - np.einsum("g,gij->ij", a1, d2)
            - np.einsum("g,gij->ij", b0, s1s1)
            + np.einsum("g,gij->ij", b1, s1d1 + s1d1.transpose(0, 2, 1))
            - np.einsum("g,gij->ij", b2, d1d1))
    return loglik, score, info


def _expected_x(data: _CoxData, terms: _Terms, efron: bool) -> np.ndarray:
    """The x-bar subtracted in each event's Schoenfeld residual (survival's ``coxscho``).

    Breslow: the risk-set mean; Efron: the average of the d Efron means of the tied group.
    """
    if not efron:
        return terms.mean
    avg = np.add.reduceat(terms.mean, data.seg_start, axis=0) / np.diff(
        np.r_[data.seg_start, data.ev_seg.size])[:, None]
    return avg[data.ev_seg]


def _score_residuals(data: _CoxData, beta: np.ndarray, efron: bool) -> np.ndarray:
    """Unweighted score residuals per sorted row (``residuals(fit, "score")``).

    ``L_i = delta_i (x_i - xbar_i) - exp(eta_i) sum_t c_it dLambda_t (x_i - xbar_t)`` over the
    Efron terms t of the groups at or before subject i's time in its stratum, with
    ``c_it = 1 - frac_t`` for the terms of i's own group when i is an event, else 1.
    """
    terms = _risk_terms(data, data.x @ beta, efron)
    n_groups = data.gstart.size
    p = data.x.shape[1]
    h = terms.wt * terms.inv_denom                       # dLambda per term (shifted scale)
    hm = h[:, None] * terms.mean
    cols = np.column_stack((h, hm, terms.frac * h, terms.frac[:, None] * hm))
    per_group = np.zeros((n_groups, cols.shape[1]))
    per_group[data.seg_group] = np.add.reduceat(cols, data.seg_start, axis=0)
    # forward cumulative sums within strata (reset at each stratum's first group)
    csum = np.concatenate((np.zeros((1, cols.shape[1])), np.cumsum(per_group, axis=0)))
    g_stratum = data.strata[data.gstart]
    s_first = np.searchsorted(g_stratum, g_stratum, side="left")
    cum = csum[1:] - csum[s_first]
    g = data.gid
    ev = data.event[:, None]
    h0 = cum[g, 0:1] - ev * per_group[g, 1 + p:2 + p]
    h1 = cum[g, 1:1 + p] - ev * per_group[g, 2 + p:]
    resid = -terms.risk[:, None] * (data.x * h0 - h1)
    resid[data.ev_rows] += data.x[data.ev_rows] - _expected_x(data, terms, efron)
    return resid


def _singular_columns(info: np.ndarray) -> np.ndarray:
    """Columns R's ``cholesky2`` (toler.chol) flags as redundant; a loop over p columns."""
    m = info.copy()
    p = m.shape[0]
    top = np.max(np.diag(m))
    eps = _TOLER_CHOL * top if top > 0 else _TOLER_CHOL
    sing = np.zeros(p, dtype=bool)
    for i in range(p):
        pivot = m[i, i]
        if not np.isfinite(pivot) or pivot < eps:
            sing[i] = True
            continue
        col = m[i + 1:, i] / pivot
        m[i + 1:, i + 1:] -= np.outer(col, col) * pivot
    return sing


def _solve(info: np.ndarray, rhs: np.ndarray) -> np.ndarray:
    try:
        return np.linalg.solve(info, rhs)
    except np.linalg.LinAlgError:
        return np.full_like(rhs, np.nan)


#: Relative size of the smallest eigenvalue of a (symmetric, positive semi-definite)
#: information matrix below which it is treated as singular: R's ``toler.chol``
#: (``.Machine$double.eps^0.75``, about 1.8e-12). Whether LAPACK's solve reports an
#: exactly singular matrix depends on rounding (it differs between BLAS builds), so
#: singularity is decided by this rule, not by whether ``solve`` happens to raise.
SINGULAR_TOL = np.finfo(float).eps ** 0.75


def _solve_or_fail(info: np.ndarray, rhs: np.ndarray, term: str) -> np.ndarray:
    """``solve(info, rhs)`` for a score test, an AnalysisError naming the term if singular."""
    eig = np.linalg.eigvalsh(info)
    if not np.all(np.isfinite(eig)) or eig[0] <= SINGULAR_TOL * max(eig[-1], 0.0):
        _fail(f"the proportional-hazards test of {term!r} cannot be computed: its information "
              "matrix is singular (too few distinct event times or no variation in the "
              "term among the subjects at risk)")
    return np.linalg.solve(info, rhs)


def _inverse(info: np.ndarray) -> np.ndarray:
    try:
        return np.linalg.inv(info)
    except np.linalg.LinAlgError:
        return np.full_like(info, np.nan)


# ---- the result ------------------------------------------------------------------------

@dataclass(frozen=True)
class CoxFit:
    """A fitted Cox model (the numbers of ``summary(coxph(...))``).

    Attributes
    ----------
    table : pandas.DataFrame
        One row per term: ``term``, ``coef`` (log hazard ratio), ``std_error``,
        ``estimate`` (hazard ratio ``exp(coef)``), ``ci_lower``, ``ci_upper`` (Wald,
        exponentiated), ``z``, ``p_value``.
    loglik : tuple of float
        Log partial likelihood at ``beta = 0`` and at the estimates (``fit$loglik``).
    tests : pandas.DataFrame
        ``test`` (likelihood_ratio, wald, score; plus robust_score when ``robust``),
        ``statistic``, ``df``, ``p_value`` as ``summary(fit)`` (the Wald statistic
        unrounded, i.e. ``fit$wald.test``).
    n, n_events : int
        Subjects and events used (unweighted, as coxph's ``n`` and ``nevent``).
    converged : bool
        False when Newton-Raphson ran out of iterations or a coefficient may be infinite.
    warnings : list of str
        Plain-language problems with the fit (empty when none).
    n_iter : int
        Newton-Raphson iterations (``fit$iter``).
    cov : pandas.DataFrame
        Variance matrix of ``coef`` (``vcov(fit)``), indexed by term.
    ties, conf_level : str, float
        The tie handling and the confidence level used.
    robust : bool
        True when the case weights are not all integers: then, as ``coxph``, ``cov``,
        ``std_error``, the intervals and the Wald test use the robust (sandwich) variance
        ``t(dfbeta) %*% dfbeta``, and ``tests`` gains a ``robust_score`` row.
    naive_cov : pandas.DataFrame
        The model-based variance (inverse information; ``fit$naive.var`` when robust).
    """

    table: pd.DataFrame
    loglik: tuple[float, float]
    tests: pd.DataFrame
    n: int
    n_events: int
    converged: bool
    warnings: list[str]
    n_iter: int
    cov: pd.DataFrame
    ties: str
    conf_level: float
    robust: bool
    naive_cov: pd.DataFrame
    _data: _CoxData = field(repr=False, compare=False)

    @property
    def coef(self) -> np.ndarray:
        """The coefficients (log hazard ratios) as an array in term order."""
        return self.table["coef"].to_numpy()

    def _terms(self) -> _Terms:
        return _risk_terms(self._data, self._data.x @ self.coef, self.ties == "efron")

    def schoenfeld_residuals(self) -> pd.DataFrame:
        """Schoenfeld residuals, one row per event (``residuals(fit, "schoenfeld")``).

        Rows are ordered by stratum then time (input order within tied times), as R.
        With Efron ties the expected value is the average of the Efron-weighted means
        of the tied group, as survival's ``coxscho``.

        Returns
        -------
        pandas.DataFrame
            ``time``, ``stratum`` (only for stratified fits) and one column per term.

        Examples
        --------
        >>> import pandas as pd
        >>> from dryneedle_outcomes.stats.survival.cox import fit_cox
        >>> X = pd.DataFrame({"x": [0.5, 1.0, 0.0, 2.0, 1.5]})
        >>> res = fit_cox([1, 2, 3, 4, 5], [1, 1, 0, 1, 1], X).schoenfeld_residuals()
        >>> list(res.columns), len(res)
        (['time', 'x'], 4)
        """
        data = self._data
        mean = _expected_x(data, self._terms(), self.ties == "efron")
        resid = data.x[data.ev_rows] - mean
        out = pd.DataFrame({"time": data.time[data.ev_rows]})
        if data.strata_labels is not None:
            out["stratum"] = data.strata_labels[data.strata[data.ev_rows]]
        names = self.table["term"].tolist()
        return pd.concat([out, pd.DataFrame(resid, columns=names)], axis=1)

    def proportional_hazards_test(
        self,
        transform: str = "km",
        terms: bool | Mapping[str, Sequence[str]] = True,
    ) -> pd.DataFrame:
        """Test proportional hazards as ``cox.zph(fit, transform, terms)`` of survival 3.x.

        For each term, the score test at the fitted coefficients of adding
        ``g(t) * x`` for the term's columns, with ``g`` the transformed event time
        centred at its mean over events; ``GLOBAL`` tests all columns at once.

        Parameters
        ----------
        transform : {"km", "rank", "identity"}
            ``"km"``: one minus the left-continuous Kaplan-Meier estimate of all subjects
            (unweighted, strata ignored, as R); ``"rank"``: ranks of the times;
            ``"identity"``: the times.
        terms : bool or mapping
            True: columns whose names share the part before ``[`` (e.g.
            ``celltype[adeno]``, ``celltype[large]``) form one multi-df term, as R's
            ``terms=TRUE`` for factors; False: one test per column; a mapping
            ``{term: [columns]}`` groups the columns explicitly.

        Returns
        -------
        pandas.DataFrame
            ``term`` (then ``GLOBAL``), ``chisq``, ``df``, ``p_value``.

        Examples
        --------
        >>> import pandas as pd
        >>> from dryneedle_outcomes.stats.survival.cox import fit_cox
        >>> X = pd.DataFrame({"x": [0.5, 1.0, 0.0, 2.0, 1.5, 0.2]})
        >>> fit = fit_cox([1, 2, 3, 4, 5, 6], [1, 1, 0, 1, 1, 1], X)
        >>> fit.proportional_hazards_test()["term"].tolist()
        ['x', 'GLOBAL']
        """
        if transform not in TRANSFORMS:
            _fail(f"transform must be one of {TRANSFORMS}; got {transform!r}")
        names = self.table["term"].tolist()
        groups = _term_groups(names, terms)
        data = self._data
        p = len(names)
        g_all = _time_transform(data.time, data.event, transform)
        g = g_all - g_all[data.event].mean()
        t = self._terms()
        ev = data.ev_rows
        g_ev = g[ev]   # every event of a tied group has the same time, hence the same g
        if g_ev.size == 0 or np.ptp(g_ev) == 0:
            _fail("the proportional-hazards test needs events at two or more distinct times; "
                  f"the {g_ev.size} event(s) of this fit are all at one time, so the hazard "
                  "ratio cannot vary over time and the test is not defined")
        w_ev = data.weights[ev]
        u2 = (g_ev * w_ev) @ data.x[ev] - (g_ev * t.wt) @ t.mean
        i11 = np.einsum("e,eij->ij", t.wt, t.var)
        i12 = np.einsum("e,eij->ij", t.wt * g_ev, t.var)
        i22 = np.einsum("e,eij->ij", t.wt * g_ev**2, t.var)
        imat = np.block([[i11, i12], [i12.T, i22]])
        u = np.concatenate((np.zeros(p), u2))
        rows = []
        col_of = {c: i for i, c in enumerate(names)}
        for term, cols in groups.items():     # a loop over the handful of terms
            jj = [col_of[c] for c in cols]
            kk = list(range(p)) + [p + j for j in jj]
            sub_u = u[kk]
            chisq = float(sub_u @ _solve_or_fail(imat[np.ix_(kk, kk)], sub_u, term))
            rows.append((term, chisq, len(jj)))
        rows.append(("GLOBAL", float(u @ _solve_or_fail(imat, u, "GLOBAL")), p))
        out = pd.DataFrame(rows, columns=["term", "chisq", "df"])
        out["p_value"] = stats.chi2.sf(out["chisq"], out["df"])
        return out


def _term_groups(names: list[str], terms) -> dict[str, list[str]]:
    if isinstance(terms, Mapping):
        seen = [c for cols in terms.values() for c in cols]
        unknown = [c for c in seen if c not in names]
        if unknown:
            _fail(f"terms names columns {unknown} that are not terms of the fit; "
                  f"terms are {names}")
        missing = [c for c in names if c not in seen]
        if missing or len(seen) != len(set(seen)):
            _fail(f"terms must assign every column of the fit exactly once; unassigned "
                  f"{missing}, assigned twice {sorted({c for c in seen if seen.count(c) > 1})}")
        return {str(k): list(v) for k, v in terms.items()}
    if terms is True:
        groups: dict[str, list[str]] = {}
        for c in names:
            groups.setdefault(c.split("[", 1)[0] if "[" in c else c, []).append(c)
        return groups
    if terms is False:
        return {c: [c] for c in names}
    _fail(f"terms must be True, False or a mapping of term -> columns; got {terms!r}")
    return {}


def _time_transform(time: np.ndarray, event: np.ndarray, transform: str) -> np.ndarray:
    if transform == "identity":
        return time.astype(float)
    if transform == "rank":
        return stats.rankdata(time)
    # "km": 1 - S(t-) of the unweighted Kaplan-Meier estimate over all subjects
    uniq, inv = np.unique(time, return_inverse=True)
    n_at = np.bincount(inv, minlength=uniq.size)
    d_at = np.bincount(inv, weights=event.astype(float), minlength=uniq.size)
    n_risk = n_at[::-1].cumsum()[::-1]
    surv = np.cumprod(1.0 - d_at / n_risk)
    surv_before = np.concatenate(([1.0], surv[:-1]))
    return 1.0 - surv_before[inv]


# ---- the fit ---------------------------------------------------------------------------

def fit_cox(
    time,
    event,
    X: pd.DataFrame,
    *,
    strata=None,
    weights=None,
    ties: str = "efron",
    conf_level: float = 0.95,
    max_iter: int = 30,
    tol: float = 1e-9,
) -> CoxFit:
    """Fit a Cox proportional-hazards model as ``survival::coxph``.

    Parameters
    ----------
    time : array-like of float
        Follow-up times (>= 0), one per subject.
    event : array-like of {0, 1} or bool
        1 (True) for an event, 0 for a censored time.
    X : pandas.DataFrame
        Numeric covariates, one column per term (the names are the term names, e.g.
        ``"arm[dry_needling]"``, ``"baseline"``). Rows with missing values must be
        excluded before the call (an error names the first one).
    strata : array-like, optional
        Stratum labels: a separate baseline hazard per stratum (``strata()`` in R). Strata
        are ordered by category order for a pandas Categorical, else sorted (this only
        orders the rows of ``schoenfeld_residuals``).
    weights : array-like of float, optional
        Case weights, > 0 (``weights=`` in coxph). Non-integer weights switch the
        variance to the robust sandwich estimate, as coxph does (see ``CoxFit.robust``).
    ties : {"efron", "breslow"}
        Handling of tied event times.
    conf_level : float
        Level of the Wald intervals of the hazard ratios.
    max_iter : int
        Maximum Newton-Raphson iterations (R's ``iter.max`` defaults to 20).
    tol : float
        Convergence tolerance on the relative change of the log partial likelihood
        (``coxph.control(eps)``); coefficients whose last Newton step is larger than
        ``tol`` and ``sqrt(tol) * |coef|`` are reported as possibly infinite, as R.

    Returns
    -------
    CoxFit

    Examples
    --------
    >>> import pandas as pd
    >>> from dryneedle_outcomes.stats.survival.cox import fit_cox
    >>> X = pd.DataFrame({"arm[dry_needling]": [1, 1, 1, 0, 0, 0, 1, 0],
    ...                   "baseline": [5.0, 6.5, 7.0, 6.0, 8.0, 5.5, 6.0, 7.5]})
    >>> fit = fit_cox([3, 5, 5, 6, 8, 9, 12, 14], [1, 1, 0, 1, 1, 0, 1, 1], X)
    >>> fit.table["coef"].round(4).tolist()    # coxph: 0.7878723, -0.2876526
    [0.7879, -0.2877]
    >>> fit.tests["test"].tolist()
    ['likelihood_ratio', 'wald', 'score']
    >>> [round(v, 4) for v in fit.loglik]       # coxph: -7.714231, -7.049094
    [-7.7142, -7.0491]
    """
    if ties not in TIES:
        _fail(f"ties must be one of {TIES}; got {ties!r}")
    conf_level = check_conf_level(conf_level)
    max_iter = check_whole_number(max_iter, "max_iter", minimum=1)
    if not tol > 0:
        _fail(f"tol must be > 0; got {tol!r}")
    data, names = _prepare(time, event, X, strata, weights)
    efron = ties == "efron"
    p = len(names)

    beta = np.zeros(p)
    loglik0, u, info = _loglik_score_info(data, beta, efron)
    sing = _singular_columns(info)
    if sing.any():
        _fail(f"X columns {[n for n, s in zip(names, sing) if s]} are constant (within "
              "strata) or collinear with other columns; coxph would report NA for them. "
              "Drop them from X")
    step = _solve(info, u)
    score_test = float(u @ step)
    best = loglik0
    new_beta = beta + step
    halving = 0
    converged_lik = False
    n_iter = max_iter
    for it in range(1, max_iter + 1):
        new_lik, u, info = _loglik_score_info(data, new_beta, efron)
        finite = np.isfinite(new_lik) and np.isfinite(u).all() and np.isfinite(info).all()
        if finite and abs(1 - best / new_lik) <= tol:
            beta, best, converged_lik, n_iter = new_beta, new_lik, True, it
            break
        if not finite or new_lik < best:
            halving += 1          # step-halving, more aggressive each time (as coxfit6)
            new_beta = (new_beta + halving * beta) / (halving + 1.0)
        else:
            halving = 0
            best = new_lik
            beta = new_beta
            new_beta = new_beta + _solve(info, u)
    if not converged_lik:
        best, u, info = _loglik_score_info(data, beta, efron)
    var = _inverse(info)

    messages: list[str] = []
    lp = data.x @ beta
    next_step = np.abs(u @ var)
    if not converged_lik:
        messages.append(
            f"The Cox model did not converge in {max_iter} Newton-Raphson iterations "
            f"(R: 'Ran out of iterations and did not converge'); the estimates are the last "
            "improvement and are not reliable.")
        if np.max(lp) > 500 or not np.isfinite(next_step).all():
            messages.append("One or more coefficients may be infinite (R: 'one or more "
                            "coefficients may be infinite').")
    else:
        inf = ~np.isfinite(u) | ((next_step > tol) & (next_step > np.sqrt(tol) * np.abs(beta)))
        for j in np.flatnonzero(inf):
            messages.append(
                f"The coefficient of {names[j]!r} may be infinite: the log partial "
                "likelihood stopped improving while the estimate kept drifting "
                "(monotone likelihood, typically a group with no events). Its hazard ratio, "
                "standard error, interval and p-value are not meaningful (R: 'Loglik "
                f"converged before variable {j + 1}; coefficient may be infinite').")
    for msg in messages:
        warnings.warn(msg, ConvergenceWarning, stacklevel=2)

    naive_var = var
    robust = weights is not None and bool(np.any(data.weights != np.floor(data.weights)))
    if robust:
        # as coxph: non-integer case weights switch to the robust (sandwich) variance,
        # t(dfbeta) %*% dfbeta, and add the robust score test
        dfbeta = (_score_residuals(data, beta, efron) * data.weights[:, None]) @ naive_var
        var = dfbeta.T @ dfbeta
        resid0 = _score_residuals(data, np.zeros(p), efron) * data.weights[:, None]
        u0 = resid0.sum(axis=0)
        robust_score = float(u0 @ _solve(resid0.T @ resid0, u0))
    se = np.sqrt(np.diag(var))
    zq = stats.norm.ppf(0.5 + conf_level / 2)
    z = beta / se
    with np.errstate(over="ignore"):   # an infinite upper limit is the correct answer then
        table = pd.DataFrame({
            "term": names, "coef": beta, "std_error": se, "estimate": np.exp(beta),
            "ci_lower": np.exp(beta - zq * se), "ci_upper": np.exp(beta + zq * se),
            "z": z, "p_value": 2 * stats.norm.sf(np.abs(z)),
        })
    lr = 2 * (best - loglik0)
    wald = float(beta @ _solve(var, beta))
    labels = ["likelihood_ratio", "wald", "score"]
    stat = [lr, wald, score_test]
    if robust:
        labels.append("robust_score")
        stat.append(robust_score)
    tests = pd.DataFrame({"test": labels, "statistic": stat, "df": p,
                          "p_value": stats.chi2.sf(stat, p)})
    return CoxFit(
        table=table, loglik=(float(loglik0), float(best)), tests=tests,
        n=int(data.time.size), n_events=int(data.event.sum()),
        converged=converged_lik and not messages, warnings=messages, n_iter=int(n_iter),
        cov=pd.DataFrame(var, index=names, columns=names), ties=ties, robust=robust,
        naive_cov=pd.DataFrame(naive_var, index=names, columns=names),
        conf_level=float(conf_level), _data=data,
    )
