"""Many Turnbull NPMLEs at once: the refits of a bootstrap, on one set of distinct intervals.

A bootstrap replicate reweights the distinct ``(lower, upper)`` pairs of the data (a
pair drawn ``c`` times gets weight ``c``; pairs not drawn get 0). Refitting each
replicate from scratch with the constrained Newton method of
:mod:`~dryneedle_outcomes.stats.survival.turnbull` costs some ten Newton steps of
Python-level work per replicate. Here all replicates are solved together:

1. **The replicate's Turnbull intervals, from the full data's, without sorting.** The
   endpoints of all pairs are sorted once. A replicate's Turnbull interval is a kept
   left endpoint followed by a kept right endpoint with no kept endpoint between; each
   of the full data's (finer) Turnbull intervals either lies inside one of them or
   inside none, and every fine interval inside the same replicate interval is met by
   the same kept observations. Forward and backward running maxima over the kept
   endpoints find, for every replicate at once, which replicate interval each fine
   interval belongs to; one fine interval stands for each replicate interval.
2. **Warm start.** The full-data NPMLE's masses, summed into the replicate's intervals,
   start every replicate (a replicate's estimate is near the full-data one). Where that
   start gives some kept observation zero probability, a little mass is spread over the
   replicate's intervals.
3. **Batched Newton steps on the start's support**, in the scaled coordinates
   ``p_j (1 + u_j)`` (so masses of 1e-4 and 0.3 are equally well conditioned), with
   the equality constraint ``sum p = 1`` and a fraction-to-the-boundary step length;
   one ``numpy.linalg.solve`` on a stack of small systems per step.
4. **The same stopping rule as** :func:`~dryneedle_outcomes.stats.survival.turnbull.turnbull`:
   a replicate is done when ``max_j d_j - 1 <= tol`` over all of its Turnbull
   intervals (the Karush-Kuhn-Tucker gap). Intervals enter the support (with a little
   mass) where ``d_j > 1`` and leave it where the full step would take their mass to
   zero. A replicate not done in 30 steps (its support cycling, mostly in small
   samples) is refitted alone by the constrained Newton method of ``turnbull``, started
   from the batch's last iterate when that is feasible.

Both routes stop at the same certified optimum (the NPMLE, to the KKT tolerance), so a
replicate's estimates agree with a one-at-a-time refit to about the tolerance (checked
in ``tests/test_turnbull_engine.py``); the jump times (hence medians) are the same.

The curve of a replicate follows survfit's convention exactly as
:class:`~dryneedle_outcomes.stats.survival.turnbull.TurnbullFit` does (drops at the
midpoints of the replicate's own Turnbull intervals with mass; the median rule of
``print(survfit)``).
"""

from __future__ import annotations

import numpy as np

from dryneedle_outcomes.stats.survival.turnbull import curve_jumps as _jumps
from dryneedle_outcomes.stats.survival.turnbull import curve_median as _median
from dryneedle_outcomes.stats.survival.turnbull import endpoints as _endpoints
from dryneedle_outcomes.stats.survival.turnbull import innermost_design as _design
from dryneedle_outcomes.stats.survival.turnbull import interval_probabilities as _prob
from dryneedle_outcomes.stats.survival.turnbull import npmle_masses as _masses

# Dense batched steps are used up to this many Turnbull intervals (every analysis of
# the package has fewer than 60; beyond it each replicate is refitted alone).
MAX_BATCHED = 120
# Newton steps before a replicate is handed to the one-at-a-time fit.
_MAX_STEPS = 30
# Share of the start spread over all the replicate's intervals when the mapped start
# leaves a kept observation without probability.
_SPREAD = 1e-3


def replicate_curves(
    lower: np.ndarray,
    upper: np.ndarray,
    full_mass: np.ndarray,
    weights: np.ndarray,
    times: np.ndarray,
    *,
    tol: float,
    max_iter: int,
) -> tuple[np.ndarray, np.ndarray, int, int]:
    """Survival at ``times`` and the median of the NPMLE of each weight vector.

    Parameters
    ----------
    lower, upper : numpy.ndarray
        The distinct pairs (every pair with positive weight in the full data).
    full_mass : numpy.ndarray
        The full-data NPMLE's masses of the Turnbull intervals of these pairs.
    weights : numpy.ndarray
        Shape ``(n_replicates, n_pairs)``: each replicate's weights (0: not drawn).
    times : numpy.ndarray
        Where to evaluate each replicate's survival curve.
    tol, max_iter
        As in :func:`~dryneedle_outcomes.stats.survival.turnbull.turnbull`.

    Returns
    -------
    (surv, medians, n_failed, n_alone)
        ``surv`` of shape ``(n_replicates, len(times))``, ``medians`` (NaN when not
        reached), the number of replicates whose fit did not converge, and how many
        were refitted one at a time.

    Examples
    --------
    >>> import numpy as np
    >>> from dryneedle_outcomes.stats.survival.turnbull import turnbull
    >>> lo, up = np.array([0.0, 0, 7, 14]), np.array([7.0, 14, 14, np.inf])
    >>> full = turnbull(lo, up).intervals["mass"].to_numpy()
    >>> w = np.array([[1.0, 1, 1, 1], [2, 0, 1, 1]])
    >>> surv, med, failed, alone = replicate_curves(lo, up, full, w, np.array([10.0]),
    ...                                             tol=1e-10, max_iter=100)
    >>> surv.round(4).ravel().tolist(), med.tolist(), failed
    ([0.625, 0.5], [10.5, 7.0], 0)
    >>> again = turnbull([0, 0, 7, 14], [7, 7, 14, np.inf])   # the second replicate, refitted
    >>> float(again.survival_at(10.0)[0]), again.median()
    (0.5, 7.0)
    """
    weights = np.asarray(weights, dtype=float)
    n_rep = weights.shape[0]
    surv = np.empty((n_rep, times.size))
    medians = np.empty(n_rep)
    genuine = ((lower < upper) & np.isfinite(upper)).any()
    todo = np.arange(n_rep)
    starts: dict[int, np.ndarray] = {}
    if genuine and full_mass.size <= MAX_BATCHED:
        done, surv_b, med_b, starts = _batched(lower, upper, full_mass, weights, times, tol)
        surv[done], medians[done] = surv_b, med_b
        todo = np.setdiff1d(todo, done)
    n_failed = 0
    for r in todo:   # one at a time: few replicates (or all, without genuine intervals)
        des, mass, converged = _refit_alone(lower, upper, weights[r], starts.get(int(r)),
                                            tol=tol, max_iter=max_iter)
        n_failed += not converged
        _, jt, est = _jumps(des.t_lo, des.t_hi, mass)
        surv[r] = np.concatenate([[1.0], est])[np.searchsorted(jt, times, side="right")]
        medians[r] = _median(jt, est)
    return surv, medians, n_failed, int(todo.size)


def replicate_statistics(
    lower: np.ndarray,
    upper: np.ndarray,
    full_mass: np.ndarray,
    weights: np.ndarray,
    statistic,
    *,
    tol: float,
    max_iter: int,
) -> tuple[np.ndarray, int]:
    """``statistic(t_lo, t_hi, mass)`` of the NPMLE of each weight vector.

    The same fits as :func:`replicate_curves` (batched Newton steps from the full-data
    NPMLE, the few unsettled replicates refitted alone), for a statistic of a replicate's
    own Turnbull intervals (``t_lo``, ``t_hi``) and masses: an RMST, a curve on another
    convention.

    Returns
    -------
    (values, n_failed)
        ``values`` of shape ``(n_replicates, m)`` (``statistic`` returns ``m`` numbers),
        and the number of replicates whose fit did not converge.

    Examples
    --------
    >>> import numpy as np
    >>> from dryneedle_outcomes.stats.survival.turnbull import turnbull
    >>> lo, up = np.array([0.0, 0, 7, 14]), np.array([7.0, 14, 14, np.inf])
    >>> full = turnbull(lo, up).intervals["mass"].to_numpy()
    >>> w = np.array([[1.0, 1, 1, 1], [2, 0, 1, 1]])
    >>> vals, failed = replicate_statistics(lo, up, full, w, lambda a, b, m: [m.sum()],
    ...                                     tol=1e-10, max_iter=1000)
    >>> vals.round(12).tolist(), failed
    ([[1.0], [1.0]], 0)
    """
    weights = np.asarray(weights, dtype=float)
    n_rep = weights.shape[0]
    out: np.ndarray | None = None

    def put(r: int, t_lo: np.ndarray, t_hi: np.ndarray, mass: np.ndarray) -> None:
        nonlocal out
        value = np.atleast_1d(np.asarray(statistic(t_lo, t_hi, mass), dtype=float))
        if out is None:
            out = np.full((n_rep, value.size), np.nan)
        out[r] = value

    genuine = ((lower < upper) & np.isfinite(upper)).any()
    todo = np.arange(n_rep)
    starts: dict[int, np.ndarray] = {}
    if genuine and full_mass.size <= MAX_BATCHED:
        done, t_lo, t_hi, mass, rep, starts = _batched_fits(lower, upper, full_mass,
                                                            weights, tol)
        for i, r in enumerate(done):   # the statistic of each replicate's own intervals
            put(int(r), t_lo[i, rep[i]], t_hi[i, rep[i]], mass[i, rep[i]])
        todo = np.setdiff1d(todo, done)
    n_failed = 0
    for r in todo:
        des, mass_r, converged = _refit_alone(lower, upper, weights[r], starts.get(int(r)),
                                              tol=tol, max_iter=max_iter)
        n_failed += not converged
        put(int(r), des.t_lo, des.t_hi, np.asarray(mass_r, dtype=float))
    return out, n_failed


def _refit_alone(lower: np.ndarray, upper: np.ndarray, w: np.ndarray,
                 start: np.ndarray | None, *, tol: float, max_iter: int):
    """One replicate refitted by the constrained Newton method of ``turnbull``, from the
    batch's last iterate when that is a feasible start; returns its design, masses and
    whether it converged."""
    keep = w > 0
    des = _design(lower[keep], upper[keep])
    if start is not None and (start.size != des.t_lo.size or not (
            _prob(start, des.a, des.b) > 0).all()):
        start = None
    mass, converged, _, _ = _masses(des, w[keep], tol=tol, max_iter=max_iter, start=start)
    return des, mass, converged


def _batched(
    lower: np.ndarray, upper: np.ndarray, full_mass: np.ndarray, weights: np.ndarray,
    times: np.ndarray, tol: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict[int, np.ndarray]]:
    """Replicates solved together; returns the indices done, their curves and medians,
    and the last iterate of the others (masses of their Turnbull intervals)."""
    done, t_lo, t_hi, mass, _, starts = _batched_fits(lower, upper, full_mass, weights, tol)
    # curves and medians as TurnbullFit's, on each replicate's own intervals
    after = np.concatenate([np.cumsum(mass[:, ::-1], axis=1)[:, ::-1][:, 1:],
                            np.zeros((done.size, 1))], axis=1)
    jump = (mass > 0) & np.isfinite(t_hi)
    mid = np.where(jump, 0.5 * (t_lo + t_hi), np.inf)
    surv = np.empty((done.size, times.size))
    medians = np.empty(done.size)
    for i in range(done.size):   # a few microseconds each: compressed curve of one replicate
        jt, est = mid[i, jump[i]], after[i, jump[i]]
        surv[i] = np.concatenate([[1.0], est])[np.searchsorted(jt, times, side="right")]
        medians[i] = _median(jt, est)
    return done, surv, medians, starts


def _batched_fits(
    lower: np.ndarray, upper: np.ndarray, full_mass: np.ndarray, weights: np.ndarray,
    tol: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray,
           dict[int, np.ndarray]]:
    """Replicates solved together: the indices done; for them, per fine interval, the
    replicate interval's ends and mass (non-zero only on one fine interval per replicate
    interval, ``rep``); and the last iterate of the others."""
    full = _design(lower, upper)
    k = full.t_lo.size
    value, kind, pair = _endpoints(lower, upper)
    n_end = value.size
    start = np.flatnonzero((kind[:-1] != 1) & (kind[1:] == 1))   # as in _design
    runs = _Runs(full.a, full.b, k)

    # 1. each replicate's Turnbull intervals, as runs of the fine ones
    kept = weights > 0
    kept_end = kept[:, pair]
    pos = np.arange(n_end)
    last = np.maximum.accumulate(np.where(kept_end, pos, -1), axis=1)[:, start]
    first = np.minimum.accumulate(np.where(kept_end, pos, n_end)[:, ::-1], axis=1)[:, ::-1]
    first = first[:, start + 1]
    found = (last >= 0) & (first < n_end)
    inside = found & (kind[np.clip(last, 0, None)] != 1) & (kind[np.clip(first, 0, n_end - 1)]
                                                            == 1)
    previous = np.concatenate([np.full((kept.shape[0], 1), -2), last[:, :-1]], axis=1)
    prev_inside = np.concatenate([np.zeros((kept.shape[0], 1), bool), inside[:, :-1]], axis=1)
    rep = inside & ~(prev_inside & (previous == last))   # one fine interval per run
    t_lo = value[np.clip(last, 0, None)]
    t_hi = value[np.clip(first, 0, n_end - 1)]

    # 2. warm start: full-data masses summed into the replicate's intervals
    owner = np.maximum.accumulate(np.where(rep, np.arange(k), -1), axis=1)
    rows = np.repeat(np.arange(kept.shape[0])[:, None], k, axis=1)
    use = inside & (full_mass > 0)[None, :]
    p = np.zeros((kept.shape[0], k))
    np.add.at(p, (rows[use], owner[use]), np.broadcast_to(full_mass, use.shape)[use])
    w = weights / weights.sum(axis=1, keepdims=True)
    short = ((runs.prob(p) <= 0) & kept).any(axis=1)
    if short.any():
        spread = rep[short] / rep[short].sum(axis=1, keepdims=True)
        p[short] = (1 - _SPREAD) * p[short] / p[short].sum(axis=1, keepdims=True) + \
            _SPREAD * spread
    p /= p.sum(axis=1, keepdims=True)

    # 3-4. Newton steps on each support, until the KKT gap is below tol
    ok = np.zeros(kept.shape[0], bool)
    active = np.arange(kept.shape[0])
    for _ in range(_MAX_STEPS):
        pa, wa = p[active], w[active]
        prob = runs.prob(pa)
        lost = ((prob <= 0) & (wa > 0)).any(axis=1)   # an observation without probability
        if lost.any():                                   # left the support: alone
            active, pa, wa, prob = active[~lost], pa[~lost], wa[~lost], prob[~lost]
        d = runs.gradient(np.where(wa > 0, wa / np.where(wa > 0, prob, 1.0), 0.0))
        gap = np.where(rep[active], d, -np.inf).max(axis=1) - 1.0
        ok[active[gap <= tol]] = True
        go = gap > tol
        if not go.any():
            break
        active, pa, wa, prob, d = active[go], pa[go], wa[go], prob[go], d[go]
        # a replicate interval outside the support with d_j > 1 enters it with a little
        # mass (as the constrained Newton method adds such intervals)
        enter = rep[active] & (pa <= 0) & (d > 1.0 + tol)
        if enter.any():
            pa = np.where(enter, _SPREAD * pa.max(axis=1, keepdims=True), pa)
            pa /= pa.sum(axis=1, keepdims=True)
            prob = runs.prob(pa)
            d = runs.gradient(np.where(wa > 0, wa / np.where(wa > 0, prob, 1.0), 0.0))
        support = pa > 0
        curv = np.where(wa > 0, wa / np.where(wa > 0, prob, 1.0) ** 2, 0.0)
        n_s = active.size
        system = np.zeros((n_s, k + 1, k + 1))
        system[:, :k, :k] = runs.hessian(curv) * pa[:, :, None] * pa[:, None, :]
        system[:, :k, k] = pa
        system[:, k, :k] = pa
        off = ~support
        system[:, :k, :k][off] = 0.0
        idx = np.nonzero(off)
        system[idx[0], :k, idx[1]] = 0.0
        system[idx[0], idx[1], idx[1]] = 1.0
        rhs = np.concatenate([np.where(support, pa * d, 0.0), np.zeros((n_s, 1))], axis=1)
        try:
            u = np.linalg.solve(system, rhs[:, :, None])[:, :k, 0]
        except np.linalg.LinAlgError:   # a singular system: these go one at a time
            break
        # Newton step. A mass the full step takes to zero or below leaves the support
        # (an active-set step) unless some observation would then have no probability;
        # the other masses move at most halfway to zero.
        leave = support & (u <= -1.0)
        keep = support & ~leave
        infeasible = ((runs.prob(np.where(keep, pa, 0.0)) <= 0) & (wa > 0)).any(axis=1)
        keep[infeasible] = support[infeasible]
        worst = np.where(keep, -u, 0.0).max(axis=1)
        step = np.minimum(1.0, 0.5 / np.maximum(worst, 1e-300))
        new = np.where(keep, pa * (1.0 + step[:, None] * u), 0.0)
        p[active] = new / new.sum(axis=1, keepdims=True)
    done = np.flatnonzero(ok)

    mass = np.where(rep, p, 0.0)[done]
    # the last iterate of the others, on their own intervals: a start for their refit
    rest = np.flatnonzero(~ok)
    starts = {int(r): p[r, rep[r]] / p[r, rep[r]].sum() for r in rest if p[r, rep[r]].sum() > 0}
    return done, t_lo[done], t_hi[done], mass, rep[done], starts


class _Runs:
    """The data's pairs as runs ``[a_i, b_i]`` of Turnbull intervals, for many mass
    vectors at once with cumulative sums only (small products on a busy machine are
    dominated by BLAS thread start-up, so no matrix products here)."""

    def __init__(self, a: np.ndarray, b: np.ndarray, k: int) -> None:
        self.a, self.b, self.k = a, b, k
        self.by_a = _Groups(a)
        self.by_end = _Groups(b + 1)
        ab = a * k + b
        self.by_ab = _Groups(ab)
        self.ab_a, self.ab_b = self.by_ab.keys // k, self.by_ab.keys % k
        j = np.arange(k)
        self.lo, self.hi = np.minimum.outer(j, j), np.maximum.outer(j, j)

    def prob(self, p: np.ndarray) -> np.ndarray:
        """P_i = sum of p over the run of pair i, for each row of ``p``."""
        c = np.concatenate([np.zeros((p.shape[0], 1)), np.cumsum(p, axis=1)], axis=1)
        return c[:, self.b + 1] - c[:, self.a]

    def gradient(self, r: np.ndarray) -> np.ndarray:
        """sum_i r_i 1[a_i <= j <= b_i] for every j, for each row of ``r``."""
        diff = np.zeros((r.shape[0], self.k + 1))
        diff[:, self.by_a.keys] += self.by_a.sum(r)
        diff[:, self.by_end.keys] -= self.by_end.sum(r)
        return np.cumsum(diff, axis=1)[:, :self.k]

    def hessian(self, q: np.ndarray) -> np.ndarray:
        """sum_i q_i 1[a_i <= j, l <= b_i] for every (j, l), for each row of ``q``."""
        grid = np.zeros((q.shape[0], self.k, self.k))
        grid[:, self.ab_a, self.ab_b] = self.by_ab.sum(q)
        grid = np.cumsum(grid, axis=1)                                # a <= min(j, l)
        grid = np.cumsum(grid[:, :, ::-1], axis=2)[:, :, ::-1]        # b >= max(j, l)
        return grid[:, self.lo, self.hi]


class _Groups:
    """Sums of the columns of a matrix that share a key (``numpy.add.reduceat``)."""

    def __init__(self, key: np.ndarray) -> None:
        self.order = np.argsort(key, kind="stable")
        sorted_key = key[self.order]
        self.starts = np.flatnonzero(np.r_[True, sorted_key[1:] != sorted_key[:-1]])
        self.keys = sorted_key[self.starts]

    def sum(self, x: np.ndarray) -> np.ndarray:
        return np.add.reduceat(x[:, self.order], self.starts, axis=1)
