"""Likelihood, derivatives and optimiser of the interval-censored PH model (see
:mod:`.ic_ph` for the model, the algorithm and the references; this module holds its
numerical core, arrays in and arrays out).

Examples
--------
>>> import numpy as np
>>> from dryneedle_outcomes.stats.survival.ic_ph_engine import fit_model, _make_data
>>> D = _make_data(np.array([0., 1, 1, 2]), np.array([1., np.inf, 2, np.inf]),
...                np.zeros((4, 0)), np.ones(4))
>>> d, beta, loglik, n_iter, converged = fit_model(D)
>>> np.round(np.cumsum(d), 6).tolist(), bool(converged)     # -log(3/4), -log(3/8)
([0.287682, 0.980829], True)
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from ...errors import AnalysisError
from .turnbull import innermost_design

# Above this many Turnbull intervals the dense (m x m) Hessian is too costly: refused.
_MAX_DENSE = 2000


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
    """Turnbull intervals of ``(lo, up]`` and the run each row covers."""
    des = innermost_design(lo, up)
    # Increments of intervals that no observation is known to outlive (a_i > j for
    # none) only raise the likelihood: their maximum is infinite (the baseline
    # survival drops to 0 there, as Kaplan-Meier after the last time), so Lambda0 is
    # infinite from the first of them on, as after a final (L, inf).
    m = int(min(np.isfinite(des.t_hi).sum(), des.a.max()))
    return _Data(des.a, des.b, des.b >= m, X, w, m, des.t_lo[:m], des.t_hi[:m])


@dataclass(frozen=True)
class _Strata:
    """Strata with their own baseline hazards: ``d`` is the strata's increments in turn."""

    parts: tuple[_Data, ...]
    ids: tuple[int, ...]  # the stratum code of each part
    X: np.ndarray        # 0 x p (only its width is used)

    @property
    def m(self) -> int:
        return sum(D.m for D in self.parts)

    def split(self, d: np.ndarray) -> list[np.ndarray]:
        return np.split(d, np.cumsum([D.m for D in self.parts])[:-1])


#: A fitted design: one Turnbull design, or one per stratum.
Design = _Data | _Strata


def _evaluate(d: np.ndarray, beta: np.ndarray, D: _Data | _Strata, order: int):
    """Log-likelihood (order 0), with gradient (1) and Hessian (2) in (d, beta)."""
    if isinstance(D, _Strata):
        return _evaluate_strata(d, beta, D, order)
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


def _evaluate_strata(d, beta, S: _Strata, order: int):
    """Sum over strata; the increments' Hessian is block diagonal (a loop over strata)."""
    m, p = S.m, S.X.shape[1]
    ll, grad = 0.0, np.zeros(m + p)
    H = np.zeros((m + p, m + p)) if order == 2 else None
    start = 0
    for D, ds in zip(S.parts, S.split(d)):
        lls, gs, Hs = _evaluate(ds, beta, D, order)
        ll += lls
        if order == 0 or not np.isfinite(ll):
            continue
        blk = slice(start, start + D.m)
        grad[blk] += gs[:D.m]
        grad[m:] += gs[D.m:]
        if order == 2:
            H[blk, blk] = Hs[:D.m, :D.m]
            H[blk, m:] = Hs[:D.m, D.m:]
            H[m:, blk] = Hs[D.m:, :D.m]
            H[m:, m:] += Hs[D.m:, D.m:]
        start += D.m
    if order == 0 or not np.isfinite(ll):
        return ll, None, None
    return ll, grad, H


def _suffix(x: np.ndarray) -> np.ndarray:
    """``out[j] = sum(x[j:])``."""
    return x[::-1].cumsum()[::-1]


# ---------------------------------------------------------------------- optimiser
def _start_d(D: _Data | _Strata) -> np.ndarray:
    """Equal increments whose total matches the share of right-censored weight."""
    if isinstance(D, _Strata):
        return np.concatenate([_start_d(P) for P in D.parts])
    frac = float(D.w[D.inf].sum() / D.w.sum())
    total = -np.log(min(max(frac, 0.05), 0.95)) + 0.5
    return np.full(D.m, total / max(D.m, 1))


def _newton(d, beta, D: _Data, tol: float, max_iter: int, first=None):
    """Constrained Newton iterations (module notes of :mod:`.ic_ph`); ``first`` is
    ``_evaluate(d, beta, D, 2)`` when the caller has it."""
    m = D.m
    z = np.concatenate([d, beta])
    ll, g, H = _evaluate(z[:m], z[m:], D, 2) if first is None else first
    if not np.isfinite(ll):
        raise AnalysisError("the starting values give an observation probability 0; "
                            "report this data set as a bug")
    for it in range(1, max_iter + 1):
        if not (np.isfinite(g).all() and np.isfinite(H).all()):
            return z[:m], z[m:], ll, it, False     # overflow: an estimate runs to infinity
        step, decrement = _qp_step(-H, g, z, m)
        if not np.isfinite(step).all():
            return z[:m], z[m:], ll, it, False
        slope = float(g @ step)
        if decrement is not None and decrement < tol:
            # the safe step's Newton decrement over the free coordinates is below tol:
            # the KKT point, to the tolerance
            return z[:m], z[m:], ll, it, True
        t, accepted = 1.0, False
        for _ in range(60):
            zn = z + t * step
            zn[:m] = np.maximum(zn[:m], 0.0)      # rounding only: the step is feasible
            # the full step is usually accepted: evaluate its derivatives at once
            lln, gn, Hn = _evaluate(zn[:m], zn[m:], D, 2 if t == 1.0 else 0)
            # sufficient increase (Armijo); the slack of a few units in the last place
            # of ll lets a converged fit take its last, rounding-level step
            if np.isfinite(lln) and lln >= ll + 1e-4 * t * slope - 1e-13 * abs(ll):
                accepted = True
                break
            t *= 0.5
            if t * slope < 1e-3 * tol:
                break       # the gain the step could still bring is below the tolerance
        if not accepted:
            return z[:m], z[m:], ll, it, slope < 10 * tol
        if t == 1.0 and lln - ll > 0.6 * slope:
            # the gain beats the quadratic model's (slope / 2) by a fifth: the surface
            # is not quadratic along the step (an increment far from its optimum, e.g.
            # near 0 where the likelihood is like log(d) and Newton only doubles d);
            # extrapolate while it pays
            for _ in range(30):
                zt = z + 2.0 * t * step
                zt[:m] = np.maximum(zt[:m], 0.0)
                llt = _evaluate(zt[:m], zt[m:], D, 0)[0]
                if not (np.isfinite(llt) and llt > lln):
                    break
                t, zn, lln = 2.0 * t, zt, llt
        z = zn
        ll, g, H = (lln, gn, Hn) if t == 1.0 else _evaluate(z[:m], z[m:], D, 2)
        if slope < tol and t == 1.0:
            return z[:m], z[m:], ll, it, True
    return z[:m], z[m:], ll, max_iter, False


def _qp_step(Hn: np.ndarray, g: np.ndarray, z: np.ndarray, m: int):
    """Newton step for the quadratic model ``g's - s'Hn s / 2`` subject to ``d + s >= 0``.

    Block active-set iterations: increments whose step would turn negative are fixed at
    0 (``s = -d``), fixed ones whose model gradient points up are released, until
    neither happens (Wang 2008 does the same with NNLS for the NPMLE); the free block
    is solved with Levenberg damping where it is not negative definite. The
    log-likelihood is not jointly concave in ``(d, beta)`` (at increments near 0 the
    model can be far from it), so that step, which moves increments to exactly 0, is
    not always an ascent direction (``g's <= 0``); then, or when block pivoting does
    not settle, the safe step is taken instead (:func:`_safe_step`). Returns
    ``(step, decrement)``: ``decrement`` is None for the active-set step, and for the
    safe step the Newton decrement ``g's`` of its uncut step.
    """
    is_d = np.arange(z.size) < m
    fixed = is_d & (z <= 0) & (g <= 0)
    step = np.zeros_like(z)
    for rounds in range(100):
        free = ~fixed
        step[:] = 0.0
        step[fixed] = -z[fixed]
        rhs = g[free] - Hn[np.ix_(free, fixed)] @ step[fixed]
        step[free] = _damped_solve(Hn[np.ix_(free, free)], rhs)
        if not np.isfinite(step).all():
            return step, None   # the caller stops: the model has no finite maximum here
        viol = free & is_d & (z + step < 0)
        # after 20 rounds only fix, never release: block pivoting can cycle, and a
        # growing fixed set ends with a feasible (if not optimal) step
        model_grad = g - Hn @ step
        release = fixed & (model_grad > 1e-12 * (1.0 + np.abs(g))) if rounds < 20 \
            else np.zeros_like(fixed)
        if not viol.any() and not release.any():
            break
        fixed = (fixed | viol) & ~release
    if float(g @ step) > 0.0:
        return step, None
    return _safe_step(Hn, g, z, m)


def _safe_step(Hn: np.ndarray, g: np.ndarray, z: np.ndarray, m: int):
    """An ascent step that never fails: the damped Newton step over the coordinates not
    held at the bound, cut back to the boundary.

    Increments at 0 whose gradient points down (or that the step pushes down) are held
    at 0; the other coordinates take the damped Newton step (an ascent direction,
    since the damped block is negative definite), scaled to the longest feasible
    multiple up to 1 (projected Newton, Bertsekas 1982). Returns the step and its
    Newton decrement before the cut.
    """
    is_d = np.arange(z.size) < m
    step = np.zeros_like(z)
    fixed = is_d & (z <= 0) & (g <= 0)
    for _ in range(m + 1):      # each round holds one more increment at 0, or ends
        free = ~fixed
        step[:] = 0.0
        step[free] = _damped_solve(Hn[np.ix_(free, free)], g[free])
        stuck = free & is_d & (z <= 0) & (step < 0)
        if not stuck.any():
            break
        fixed |= stuck          # at 0 and pushed down: hold it there
    decrement = float(g @ step)
    neg = is_d & (step < 0)
    if neg.any():               # longest feasible multiple of the step, up to 1
        step *= min(1.0, float(np.min(z[neg] / -step[neg])))
    return step, decrement


def _damped_solve(H: np.ndarray, g: np.ndarray) -> np.ndarray:
    """Solve ``H x = g`` for positive definite ``H``, adding ``lam * I`` if it is not."""
    if H.size == 0:
        return np.zeros(0)
    scale = max(float(np.abs(np.diag(H)).max()), 1e-300)
    lam = 0.0
    for _ in range(40):
        A = H if lam == 0.0 else H + lam * np.eye(len(H))
        try:
            L = np.linalg.cholesky(A)       # raises unless positive definite
        except np.linalg.LinAlgError:
            lam = max(lam * 10.0, 1e-10 * scale)
            continue
        # numpy's solves: less call overhead than scipy's (this runs per bootstrap step)
        return np.linalg.solve(L.T, np.linalg.solve(L, g))
    raise AnalysisError("the interval-censored PH fit could not find an ascent direction")


def fit_model(D: _Data, d0=None, beta0=None, tol=1e-10, max_iter=200):
    """Maximise the likelihood from ``(d0, beta0)`` (default: a flat start); returns
    ``(d, beta, loglik, n_iter, converged)``."""
    p = D.X.shape[1]
    d = _start_d(D) if d0 is None else np.asarray(d0, dtype=float)
    beta = np.zeros(p) if beta0 is None else np.asarray(beta0, dtype=float)
    first = _evaluate(d, beta, D, 2)
    if not np.isfinite(first[0]):     # a warm start at the boundary
        # lift the zero increments well off 0: near 0 the likelihood behaves like
        # log(d) and Newton only doubles d per step; unneeded ones return to 0 at once
        pos = d[d > 0]
        d = np.where(d > 0, d, 0.1 * (float(pos.mean()) if pos.size else 1.0))
        first = _evaluate(d, beta, D, 2)
    if not np.isfinite(first[0]):
        d, beta, first = _start_d(D), np.zeros(p), None
    return _newton(d, beta, D, tol, max_iter, first)


def build_design(lo, up, X, w, stratum) -> _Data | _Strata:
    """The design: one Turnbull design, or one per stratum present (a loop over strata)."""
    if stratum is None:
        D = _make_data(lo, up, X, w)
    else:
        ids = tuple(int(k) for k in np.unique(stratum))
        parts = tuple(_make_data(lo[stratum == k], up[stratum == k], X[stratum == k],
                                 w[stratum == k]) for k in ids)
        D = _Strata(parts, ids, np.zeros((0, X.shape[1])))
    if D.m > _MAX_DENSE:
        raise AnalysisError(
            f"the data have {D.m} Turnbull intervals (distinct endpoint pairs); the "
            f"interval-censored PH fit handles up to {_MAX_DENSE} (its Newton steps use a "
            "dense Hessian); record times on a coarser scale (e.g. whole days)")
    return D


def drop_column(D: _Data | _Strata, j: int) -> _Data | _Strata:
    """The design without covariate ``j`` (for the likelihood-ratio test of that term)."""
    if isinstance(D, _Strata):
        return _Strata(tuple(drop_column(P, j) for P in D.parts), D.ids,
                       np.zeros((0, D.X.shape[1] - 1)))
    return replace(D, X=np.delete(D.X, j, axis=1))


def warm_start(full: _Data | _Strata, d: np.ndarray, new: _Data | _Strata) -> np.ndarray:
    """Increments for ``new`` from a fit ``d`` on ``full`` (stratum by stratum)."""
    if isinstance(new, _Strata):
        by_id = dict(zip(full.ids, zip(full.parts, full.split(d))))
        return np.concatenate([_warm_d(by_id[k][0].t_hi, np.cumsum(by_id[k][1]), P)
                               if k in by_id else _start_d(P)
                               for k, P in zip(new.ids, new.parts)])
    return _warm_d(full.t_hi, np.cumsum(d), new)


def _warm_d(fit_t_hi, fit_cumhaz, D: _Data) -> np.ndarray:
    """Increments over ``D``'s intervals from a fitted cumulative hazard (step function)."""
    pos = np.searchsorted(fit_t_hi, D.t_hi, side="right") - 1
    cum = np.where(pos >= 0, fit_cumhaz[np.maximum(pos, 0)], 0.0)
    return np.diff(np.concatenate([[0.0], cum]))


def profile_cov(d, beta, D: _Data) -> np.ndarray:
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


def baseline_table(D: _Data | _Strata, d: np.ndarray, names: list[str] | None) -> pd.DataFrame:
    if isinstance(D, _Strata):
        return pd.concat([baseline_table(P, ds, None).assign(stratum=names[k])
                          for k, P, ds in zip(D.ids, D.parts, D.split(d))],
                         ignore_index=True)
    return pd.DataFrame({"time_lower": D.t_lo, "time_upper": D.t_hi, "increment": d,
                         "cumhaz": np.cumsum(d)})
