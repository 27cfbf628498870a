"""Turnbull nonparametric maximum likelihood estimator for interval-censored data.

Each observation is a half-open interval ``(lower, upper]`` known to contain the event
time, with ``0 <= lower <= upper <= inf``:

- ``lower == upper``: an exact event time (``lower == upper == 0`` is an event at 0);
- ``upper == inf``: right-censored at ``lower`` (``(lower, inf)``);
- ``lower == 0`` with finite ``upper``: the event happened by ``upper``;
- otherwise the event happened after ``lower`` and no later than ``upper``.

:func:`turnbull` returns the NPMLE of the survival function (Turnbull, 1976) as
computed by ``survival::survfit(Surv(lower, upper, type = "interval2") ~ 1)`` in R,
written with ``upper = NA`` for right-censored observations, and
:func:`turnbull_bootstrap` adds nonparametric bootstrap percentile bands.

Algorithm
---------
The data are first compressed to their distinct ``(lower, upper)`` pairs with summed
weights, so the cost depends on the number of distinct intervals, not of patients.
The NPMLE puts its mass on the Turnbull (innermost) intervals: the ``(L, R]`` where a
left endpoint ``L`` is followed by a right endpoint ``R`` with no endpoint between
(an exact time ``t`` is both, giving the point ``[t, t]``). Each observation covers a
contiguous run of them, so likelihood and gradient cost O(pairs + intervals).
The masses are found with the constrained Newton method of Wang (2008): from a
feasible start, add the intervals where the gradient of the log-likelihood exceeds
the Lagrange multiplier, take a Newton step solved as a nonnegative least-squares
problem, back-track, drop the intervals whose mass became zero. It converges in a
handful of iterations and sets the masses outside the support exactly to zero, where
the EM algorithm (and survfit's accelerated EM) only approaches zero geometrically.
Convergence is certified by the Karush-Kuhn-Tucker conditions: with
``d_j = (1/W) sum_i w_i 1[j in I_i] / P_i`` (``P_i`` the fitted probability of
observation ``i``, ``W`` the total weight), the NPMLE has ``d_j <= 1`` for every
interval and ``d_j = 1`` where the mass is positive (self-consistency), and by
concavity ``loglik(NPMLE) - loglik(p) <= W * (max_j d_j - 1)``. The fit stops when
``max_j d_j - 1 <= tol``. When no observation is a genuine interval (all exact or
right-censored) the NPMLE is the Kaplan-Meier estimator and is computed in closed form.
With more than 500 Turnbull intervals (thousands of distinct exact times mixed with
intervals) dense Newton steps get too costly and EM accelerated by SQUAREM is used,
with the same KKT stopping rule; it leaves tiny positive masses (~1e-10) where the
NPMLE has none, so its curve may carry rows with negligible drops.

Conventions shared with survfit
-------------------------------
- The curve drops at the midpoint ``(L + R) / 2`` of each Turnbull interval ``(L, R]``
  with positive mass, and at ``t`` for an exact point ``[t, t]``; the mass of a final
  interval ``(L, inf)`` is never placed, so the curve stays at that mass (as
  Kaplan-Meier stays flat after the last censoring). Inside a Turnbull interval the
  NPMLE is not identified; :meth:`TurnbullFit.survival_at` evaluates survfit's step
  function, which is right-continuous with these jump times.
- The median is ``print(survfit)``'s: the first jump time where the estimate is
  ``<= 0.5`` (to ``sqrt(machine eps)``); if the estimate equals 0.5 exactly there, the
  midpoint of that time and the next jump time; NaN if the estimate never reaches 0.5.

Where we deliberately differ from survfit 3.5-3
-----------------------------------------------
- survfit's convergence test (the survival values change by less than 5e-5 between
  EM iterations) is loose: its estimates can be some 1e-4 away from the NPMLE and it
  keeps small positive masses where the NPMLE has none. Ours converge to ~1e-10.
- With ``type = "interval2"`` data that hold no interval-censored observation (all
  exact or right-censored) survfit still runs its Turnbull code, which then adds one
  artificial observation of weight 1 spread over the event times; its estimate is not
  the Kaplan-Meier estimate (e.g. 0.796 instead of 0.833). We return Kaplan-Meier, the
  NPMLE, which is what ``survfit(Surv(time, status) ~ 1)`` gives.

References
----------
Turnbull, B. W. (1976). The empirical distribution function with arbitrarily grouped,
censored and truncated data. JRSS B 38, 290-295.
Wang, Y. (2008). Dimension-reduced nonparametric maximum likelihood computation for
interval-censored data. Computational Statistics & Data Analysis 52, 2388-2402.

Matches R's ``survfit`` on ``Surv(l, u, type = "interval2")``. Golden values:
``tests/reference/survival_turnbull/`` (``reference.json``, made by the
``make_reference.R`` there from the data beside it); checked in
``tests/test_survival_turnbull.py``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.optimize import nnls
from tqdm.auto import trange

from dryneedle_outcomes.errors import AnalysisError
from dryneedle_outcomes.stats.checks import check_conf_level, check_whole_number, first_position
from dryneedle_outcomes.stats.survival.validation import float_vector

__all__ = ["TurnbullBands", "TurnbullFit", "turnbull", "turnbull_bootstrap"]

_MEDIAN_TOL = np.sqrt(np.finfo(float).eps)  # survival:::survmean's tolerance
# Above this many Turnbull intervals dense Newton steps cost too much memory and time;
# accelerated EM is used instead.
_MAX_NEWTON = 500


# ---------------------------------------------------------------------- results
@dataclass(frozen=True)
class TurnbullFit:
    """The Turnbull NPMLE of a survival function.

    Attributes
    ----------
    intervals : pandas.DataFrame
        One row per Turnbull (innermost) interval, in time order: ``time_lower``,
        ``time_upper`` (equal for an exact point ``[t, t]``, otherwise the interval is
        ``(time_lower, time_upper]``; ``time_upper`` is ``inf`` for a final
        ``(L, inf)``) and ``mass`` (the probability the NPMLE gives the interval; zero
        for intervals outside its support).
    curve : pandas.DataFrame
        One row per time where the estimate drops: ``time`` (survfit's jump time: the
        midpoint of the interval), ``time_lower``, ``time_upper``, ``estimate`` (the
        survival probability after the interval), and ``n_risk``, ``n_event`` as
        survfit reports them for interval data (weighted observations with a time at
        or after ``time`` plus the expected events imputed at or after it; expected
        plus exact events at ``time``).
    converged : bool
        Whether the Karush-Kuhn-Tucker conditions hold to ``tol``.
    n_iter : int
        Newton iterations (EM map evaluations when more than 500 Turnbull intervals
        switch the engine to accelerated EM; 0 for the closed-form Kaplan-Meier case).
    warnings : list of str
        Problems met while fitting (non-convergence).
    loglik : float
        The weighted log-likelihood ``sum_i w_i log P_i`` at the estimate.
    max_gradient : float
        ``max_j d_j - 1``, the KKT gap: ``W * max_gradient`` bounds how far
        ``loglik`` is below the maximum.
    n : float
        The total weight (the number of observations when unweighted).
    """

    intervals: pd.DataFrame
    curve: pd.DataFrame
    converged: bool
    n_iter: int
    warnings: list[str]
    loglik: float
    max_gradient: float
    n: float

    def survival_at(self, times: np.ndarray | list[float] | float) -> np.ndarray:
        """Evaluate survfit's step function at ``times``.

        The estimate is 1 before the first jump time, right-continuous, and constant
        after the last one. Inside a Turnbull interval ``(L, R]`` the NPMLE is not
        identified; like ``summary(survfit(...), times = )`` this returns ``S(L)`` for
        times before the midpoint and ``S(R)`` from the midpoint on.

        Parameters
        ----------
        times : array-like of float
            Times at which to evaluate the estimate.

        Returns
        -------
        numpy.ndarray
            The survival estimates, one per time.

        Examples
        --------
        >>> fit = turnbull([0, 0, 7, 14], [7, 14, 14, np.inf])
        >>> fit.survival_at([0, 3.5, 10, 10.5, 100]).round(4)
        array([1.   , 0.625, 0.625, 0.25 , 0.25 ])
        """
        t = np.atleast_1d(np.asarray(times, dtype=float))
        if np.isnan(t).any():
            raise AnalysisError(
                f"times has {int(np.isnan(t).sum())} missing values; pass finite times"
            )
        jump = self.curve["time"].to_numpy()
        est = np.concatenate([[1.0], self.curve["estimate"].to_numpy()])
        return est[np.searchsorted(jump, t, side="right")]

    def median(self) -> float:
        """The median survival time as ``print(survfit)`` reports it.

        Returns
        -------
        float
            The first jump time where the estimate is ``<= 0.5``; when the estimate
            is exactly 0.5 there (to ``sqrt(machine epsilon)``), the midpoint of
            that time and the next jump time; NaN if the estimate stays above 0.5.

        Examples
        --------
        >>> turnbull([0, 0, 7, 14], [7, 14, 14, np.inf]).median()
        10.5
        """
        return _median(self.curve["time"].to_numpy(), self.curve["estimate"].to_numpy())


@dataclass(frozen=True)
class TurnbullBands:
    """Bootstrap percentile bands for a Turnbull NPMLE.

    Attributes
    ----------
    bands : pandas.DataFrame
        ``time``, ``estimate`` (the NPMLE on the full data), ``ci_lower`` and
        ``ci_upper`` (percentiles of the bootstrap estimates at that time).
    median : pandas.DataFrame
        One row: ``estimate`` (:meth:`TurnbullFit.median`), ``ci_lower``,
        ``ci_upper`` and ``n_not_reached`` (replicates whose median was not reached;
        they count as ``+inf``, see :func:`turnbull_bootstrap`).
    n_boot : int
        Number of bootstrap replicates.
    seed : int
        The seed of the ``numpy.random.Generator`` (drawn when none was given), so
        ``turnbull_bootstrap(..., seed=bands.seed)`` reproduces the result.
    conf_level : float
        The confidence level of the bands.
    fit : TurnbullFit
        The fit on the full data.
    surv_replicates : numpy.ndarray
        The bootstrap estimates, shape ``(n_boot, len(times))``.
    median_replicates : numpy.ndarray
        The bootstrap medians (NaN where not reached).
    warnings : list of str
        Problems met (replicates whose fit did not converge).
    """

    bands: pd.DataFrame
    median: pd.DataFrame
    n_boot: int
    seed: int
    conf_level: float
    fit: TurnbullFit
    surv_replicates: np.ndarray
    median_replicates: np.ndarray
    warnings: list[str] = field(default_factory=list)


# ---------------------------------------------------------------------- validation
def _validate(
    lower: object, upper: object, weights: object | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    lo = float_vector("lower", lower)
    up = float_vector("upper", upper)
    if lo.shape != up.shape:
        raise AnalysisError(
            f"lower and upper must have the same length; got {lo.size} and {up.size}"
        )
    if lo.size == 0:
        raise AnalysisError("lower and upper are empty; need at least one observation")
    for name, arr in (("lower", lo), ("upper", up)):
        bad = np.isnan(arr)
        if bad.any():
            raise AnalysisError(
                f"{name} has {int(bad.sum())} missing values (first at position "
                f"{first_position(bad)}); use upper = inf for right-censored observations and "
                "lower = 0 for events known only to have happened by upper"
            )
    rules = (
        (~np.isfinite(lo), "lower has {n} infinite values (first at position {i}); "
         "lower must be finite"),
        (lo < 0, "lower has {n} negative values (first at position {i}); times must be >= 0"),
        (up < lo, "upper is below lower in {n} observations (first at position {i}); "
         "need lower <= upper"),
    )
    for bad, msg in rules:
        if bad.any():
            raise AnalysisError(msg.format(n=int(bad.sum()), i=first_position(bad)))
    if weights is None:
        w = np.ones(lo.size)
    else:
        w = float_vector("weights", weights)
        if w.shape != lo.shape:
            raise AnalysisError(
                f"weights must have one value per observation; got {w.size} for {lo.size}"
            )
        bad = ~np.isfinite(w) | (w < 0)
        if bad.any():
            raise AnalysisError(
                f"weights has {int(bad.sum())} missing, infinite or negative values "
                f"(first at position {first_position(bad)}); weights must be finite and >= 0"
            )
        if not (w > 0).any():
            raise AnalysisError("weights are all zero; need at least one positive weight")
    return lo, up, w


#: The input checks of :func:`turnbull`, for the other interval-censored engines
#: (:mod:`.ic_ph`): the same rules and messages everywhere.
validate_intervals = _validate


# ---------------------------------------------------------------------- structure
@dataclass(frozen=True)
class _Design:
    """Distinct (lower, upper) pairs and the Turnbull intervals they cover."""

    lower: np.ndarray  # distinct pairs
    upper: np.ndarray
    a: np.ndarray  # first covered Turnbull interval (index)
    b: np.ndarray  # last covered Turnbull interval (index, inclusive)
    t_lo: np.ndarray  # Turnbull intervals
    t_hi: np.ndarray


def _compress(
    lo: np.ndarray, up: np.ndarray, w: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Distinct (lower, upper) pairs, their summed weights, and each row's pair index."""
    pairs, inverse = np.unique(np.column_stack([lo, up]), axis=0, return_inverse=True)
    inverse = inverse.reshape(-1)
    wsum = np.bincount(inverse, weights=w, minlength=len(pairs))
    return pairs[:, 0], pairs[:, 1], wsum, inverse


def _design(lower: np.ndarray, upper: np.ndarray) -> _Design:
    """Turnbull intervals of distinct pairs and the run of them each pair covers."""
    exact = lower == upper
    # Endpoint markers. Kind 0: an exact time seen as a left end just below it;
    # kind 1: a right end (closed); kind 2: an open left end. At tied values this
    # order puts (x, t] before [t, t] before (t, y], as half-open intervals need.
    value = np.concatenate([lower[exact], upper[exact], lower[~exact], upper[~exact]])
    kind = np.concatenate([
        np.zeros(exact.sum()), np.ones(exact.sum()),
        np.full((~exact).sum(), 2.0), np.ones((~exact).sum()),
    ])
    order = np.lexsort((kind, value))
    value, kind = value[order], kind[order]
    start = np.flatnonzero((kind[:-1] != 1) & (kind[1:] == 1))
    t_lo, t_hi = value[start], value[start + 1]
    # A point inside each Turnbull interval (t_hi, or t for [t, t]); an observation
    # either contains a Turnbull interval or is disjoint from it, so containment of
    # this point decides coverage.
    a = np.where(exact, np.searchsorted(t_hi, lower, side="left"),
                 np.searchsorted(t_hi, lower, side="right"))
    b = np.searchsorted(t_hi, upper, side="right") - 1
    return _Design(lower, upper, a, b, t_lo, t_hi)


#: The Turnbull intervals and the run each observation covers, for :mod:`.ic_ph`.
innermost_design = _design


# ---------------------------------------------------------------------- engine
def _probabilities(p: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """P_i = sum of p over the Turnbull intervals observation i covers."""
    c = np.concatenate([[0.0], np.cumsum(p)])
    return c[b + 1] - c[a]


def _gradient(r: np.ndarray, a: np.ndarray, b: np.ndarray, k: int) -> np.ndarray:
    """sum_i r_i 1[a_i <= j <= b_i] for every j (a difference array)."""
    diff = np.bincount(a, weights=r, minlength=k + 1) - np.bincount(
        b + 1, weights=r, minlength=k + 1
    )
    return np.cumsum(diff)[:k]


def _loglik(p: np.ndarray, a: np.ndarray, b: np.ndarray, w: np.ndarray) -> float:
    prob = _probabilities(p, a, b)
    if (prob <= 0).any():
        return -np.inf
    return float(np.sum(w * np.log(prob)))


def _start(a: np.ndarray, b: np.ndarray, k: int) -> np.ndarray:
    """A smallest set of Turnbull intervals meeting every observation (greedy stabbing).

    Pick the earliest right end, then repeatedly the earliest right end among the
    observations that start after the last pick. The loop runs once per picked
    interval (at most the number of disjoint observations), not once per row.
    """
    # min_b_after[x] = smallest b among observations with a > x (k when none)
    min_b = np.full(k + 1, k)
    np.minimum.at(min_b, a, b)
    min_b_from = np.minimum.accumulate(min_b[::-1])[::-1]  # smallest b with a >= x
    picks = [int(min_b_from[0])]
    while picks[-1] + 1 <= k and min_b_from[picks[-1] + 1] < k:
        picks.append(int(min_b_from[picks[-1] + 1]))
    return np.asarray(picks)


def _cnm(
    a: np.ndarray, b: np.ndarray, w: np.ndarray, k: int, tol: float, max_iter: int
) -> tuple[np.ndarray, bool, int, float, list[str]]:
    """Constrained Newton method (Wang 2008) for the masses of k Turnbull intervals."""
    total = w.sum()
    p = np.zeros(k)
    p[_start(a, b, k)] = 1.0
    p /= p.sum()
    ll = _loglik(p, a, b, w)
    warn: list[str] = []
    n_iter = 0
    while True:
        prob = _probabilities(p, a, b)
        d = _gradient(w / prob, a, b, k) / total
        gap = float(d.max() - 1.0)
        if gap <= tol:
            return p, True, n_iter, gap, warn
        if n_iter >= max_iter:
            warn.append(
                f"turnbull did not converge in max_iter={max_iter} iterations: the KKT gap "
                f"max_j d_j - 1 is {gap:.3g} > tol={tol:g}; raise max_iter or tol"
            )
            return p, False, n_iter, gap, warn
        n_iter += 1
        # Add, between consecutive support intervals, the interval of largest gradient
        # when it exceeds 1 (the local maxima of the gradient function).
        support = np.flatnonzero(p > 0)
        outside = np.flatnonzero((p == 0) & (d > 1.0))
        if outside.size:
            segment = np.searchsorted(support, outside)
            order = np.lexsort((-d[outside], segment))
            _, first = np.unique(segment[order], return_index=True)
            support = np.union1d(support, outside[order][first])
        # Newton step as nonnegative least squares.
        s = support.size
        design, root_w = _run_design(p, a, b, w, support)
        # min ||design x - 2 root_w||^2 over the simplex equals min ||C x||^2 with
        # C = design - 2 root_w 1', and that is solved exactly by the NNLS
        # min ||C y||^2 + rho^2 (1'y - 1)^2, x = y / 1'y, for any rho > 0.
        rho = float(np.sqrt(total))
        system = np.vstack([design - 2.0 * root_w[:, None], np.full((1, s), rho)])
        target = np.zeros(system.shape[0])
        target[-1] = rho
        x, _ = nnls(system, target, maxiter=50 * s)
        if not x.sum() > 0:
            warn.append("turnbull: the Newton step collapsed to zero; stopping early")
            return p, False, n_iter, gap, warn
        x /= x.sum()
        direction = np.zeros(k)
        direction[support] = x
        direction -= p
        slope = total * float(d @ direction)  # directional derivative of loglik
        step = 1.0
        while True:
            trial = p + step * direction
            trial[trial < 0] = 0.0  # rounding only: p + step * (x - p) >= 0
            ll_trial = _loglik(trial, a, b, w)
            if ll_trial >= ll + step * slope / 3.0 or step < 1e-12:
                break
            step /= 2.0
        if ll_trial <= ll:
            # The NNLS solution is only accurate to ~1e-10, so close to the optimum its
            # step stops gaining: finish with equality-constrained Newton steps on the
            # support (the active set is right by then).
            trial, improved = _polish(p, a, b, w)
            ll_trial = _loglik(trial, a, b, w)
            if not improved:
                warn.append(
                    f"turnbull stalled at a KKT gap max_j d_j - 1 of {gap:.3g} > tol={tol:g}: "
                    "no step increases the log-likelihood any more (rounding)"
                )
                return p, False, n_iter, gap, warn
        p, ll = trial / trial.sum(), ll_trial


def _run_design(
    p: np.ndarray, a: np.ndarray, b: np.ndarray, w: np.ndarray, support: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Rows sqrt(w) 1[j in I] / P of the distinct runs of support intervals covered.

    Observations covering the same run of support intervals give equal rows, so
    there are at most s (s + 1) / 2 rows for s support intervals.
    """
    s = support.size
    sa = np.searchsorted(support, a, side="left")
    sb = np.searchsorted(support, b, side="right") - 1
    run, run_index = np.unique(sa * s + sb, return_inverse=True)
    root_w = np.sqrt(np.bincount(run_index.reshape(-1), weights=w))
    ra, rb = run // s, run % s
    rp = _probabilities(p[support], ra, rb)
    cols = np.arange(s)
    design = ((cols >= ra[:, None]) & (cols <= rb[:, None])) * (root_w / rp)[:, None]
    return design, root_w


def _kkt_residual(p: np.ndarray, a: np.ndarray, b: np.ndarray, w: np.ndarray) -> float:
    """max(max_j d_j - 1, max over the support of |d_j - 1|); inf if some P_i <= 0."""
    prob = _probabilities(p, a, b)
    if (prob <= 0).any():
        return np.inf
    d = _gradient(w / prob, a, b, p.size) / w.sum() - 1.0
    return float(max(d.max(), np.abs(d[p > 0]).max()))


def _polish(
    p: np.ndarray, a: np.ndarray, b: np.ndarray, w: np.ndarray
) -> tuple[np.ndarray, bool]:
    """Newton steps for the masses on the current support, summing to one.

    Close to the optimum the log-likelihood changes by less than its rounding error,
    so a step is accepted when it reduces the KKT residual instead.
    """
    support = np.flatnonzero(p > 0)
    s = support.size
    design, root_w = _run_design(p, a, b, w, support)
    # maximise g'delta - delta'H delta / 2 subject to 1'delta = 0
    kkt = np.zeros((s + 1, s + 1))
    kkt[:s, :s] = design.T @ design
    kkt[:s, s] = kkt[s, :s] = 1.0
    rhs = np.concatenate([design.T @ root_w, [0.0]])
    delta = np.zeros(p.size)
    delta[support] = np.linalg.lstsq(kkt, rhs, rcond=None)[0][:s]
    shrink = delta < 0
    step = min(1.0, float(np.min(-p[shrink] / delta[shrink]))) if shrink.any() else 1.0
    residual = _kkt_residual(p, a, b, w)
    for _ in range(30):
        trial = np.clip(p + step * delta, 0.0, None)
        trial /= trial.sum()
        if _kkt_residual(trial, a, b, w) < residual:
            return trial, True
        step /= 2.0
    return p, False


def _squarem(
    a: np.ndarray, b: np.ndarray, w: np.ndarray, k: int, tol: float, max_iter: int
) -> tuple[np.ndarray, bool, int, float, list[str]]:
    """EM (self-consistency) accelerated by SQUAREM (Varadhan & Roland 2008, SqS3).

    Used when there are too many Turnbull intervals for dense Newton steps (e.g.
    thousands of distinct exact times mixed with intervals). An iteration costs
    O(pairs + intervals); ``n_iter`` counts EM map evaluations.
    """
    total = w.sum()

    def em(p: np.ndarray) -> tuple[np.ndarray, float]:
        prob = _probabilities(p, a, b)
        d = _gradient(w / prob, a, b, k) / total
        new = p * d
        return new / new.sum(), float(d.max() - 1.0)

    p = np.zeros(k)
    p[np.unique(b)] = 1.0  # every observation contains its own last interval
    p /= p.sum()
    ll = _loglik(p, a, b, w)
    n_iter = 0
    while True:
        p1, gap = em(p)
        if gap <= tol:
            return p, True, n_iter, gap, []
        if n_iter >= max_iter:
            msg = (
                f"turnbull did not converge in max_iter={max_iter} EM iterations: the KKT "
                f"gap max_j d_j - 1 is {gap:.3g} > tol={tol:g}; raise max_iter or tol"
            )
            return p, False, n_iter, gap, [msg]
        p2, _ = em(p1)
        n_iter += 2
        r = p1 - p
        v = p2 - p1 - r
        alpha = -np.sqrt(r @ r) / max(np.sqrt(v @ v), np.finfo(float).tiny)
        alpha = min(alpha, -1.0)
        while True:
            trial = p - 2.0 * alpha * r + alpha * alpha * v
            if alpha == -1.0:
                break  # trial == p2, an EM point: feasible and no worse
            if (trial >= 0).all():
                ll_trial = _loglik(trial / trial.sum(), a, b, w)
                if ll_trial >= ll:
                    break
            alpha = (alpha - 1.0) / 2.0
            if alpha > -1.0 - 1e-8:
                alpha = -1.0
        trial = np.clip(trial, 0.0, None)
        p, _ = em(trial / trial.sum())  # stabilising EM step
        n_iter += 1
        ll = _loglik(p, a, b, w)


def _kaplan_meier(des: _Design, w: np.ndarray) -> np.ndarray:
    """Masses of the Turnbull intervals when every observation is exact or right-censored."""
    exact = des.lower == des.upper
    # Each distinct time: weighted events (exact) and number at risk (time >= t; a
    # right-censored (c, inf) is at risk at c, events before censorings at ties).
    times = des.lower
    order = np.argsort(times, kind="stable")
    t_sorted, w_sorted = times[order], w[order]
    at_risk_sorted = np.cumsum(w_sorted[::-1])[::-1]
    first = np.searchsorted(t_sorted, des.t_hi[np.isfinite(des.t_hi)], side="left")
    n_risk = at_risk_sorted[first]
    events = np.bincount(
        np.searchsorted(des.t_hi, times[exact]), weights=w[exact], minlength=des.t_hi.size
    )[: first.size]
    surv = np.cumprod(1.0 - events / n_risk)
    before = np.concatenate([[1.0], surv[:-1]])
    mass = np.zeros(des.t_hi.size)
    mass[: first.size] = before - surv
    if first.size < des.t_hi.size:  # a final (L, inf)
        mass[-1] = surv[-1] if surv.size else 1.0
    return mass


def fit_support(lower: np.ndarray, upper: np.ndarray, w: np.ndarray, *, tol: float,
                max_iter: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, bool]:
    """The NPMLE masses of distinct ``(lower, upper]`` pairs with positive weights, for
    the other interval-censored engines: the engine of :func:`turnbull` (constrained
    Newton, accelerated EM beyond its size limit, closed-form Kaplan-Meier without genuine
    intervals) without the curve and counts it also builds.

    Returns the Turnbull intervals' left and right ends, their masses and whether the
    fit converged.
    """
    des = _design(lower, upper)
    k = des.t_lo.size
    if ((des.lower < des.upper) & np.isfinite(des.upper)).any():
        engine = _cnm if k <= _MAX_NEWTON else _squarem
        mass, converged, *_ = engine(des.a, des.b, w, k, tol, max_iter)
    else:
        mass, converged = _kaplan_meier(des, w), True
    return des.t_lo, des.t_hi, np.asarray(mass, dtype=float), bool(converged)


def _fit_pairs(
    lower: np.ndarray, upper: np.ndarray, w: np.ndarray, *, tol: float, max_iter: int
) -> TurnbullFit:
    """The NPMLE from distinct (lower, upper) pairs with positive weights."""
    des = _design(lower, upper)
    k = des.t_lo.size
    genuine = (des.lower < des.upper) & np.isfinite(des.upper)
    if genuine.any():
        engine = _cnm if k <= _MAX_NEWTON else _squarem
        mass, converged, n_iter, _, warn = engine(des.a, des.b, w, k, tol, max_iter)
    else:
        mass, converged, n_iter, warn = _kaplan_meier(des, w), True, 0, []
    prob = _probabilities(mass, des.a, des.b)
    total = w.sum()
    gap = float(_gradient(w / prob, des.a, des.b, k).max() / total - 1.0)
    loglik = float(np.sum(w * np.log(prob)))
    intervals = pd.DataFrame({"time_lower": des.t_lo, "time_upper": des.t_hi, "mass": mass})

    # survfit's curve: one row per interval with mass (not the final (L, inf)).
    after = np.concatenate([np.cumsum(mass[::-1])[::-1][1:], [0.0]])  # S after interval
    jump = np.flatnonzero((mass > 0) & np.isfinite(des.t_hi))
    time = 0.5 * (des.t_lo[jump] + des.t_hi[jump])
    # survfit's counts: observations with a time at or after the jump time (exact
    # times, right-censoring times) plus the expected events imputed to interval
    # observations by the fitted masses.
    imputed = mass * _gradient(np.where(genuine, w / prob, 0.0), des.a, des.b, k)
    real = ~genuine
    real_t = np.sort(des.lower[real])
    real_w = np.cumsum(w[real][np.argsort(des.lower[real], kind="stable")][::-1])[::-1]
    real_w = np.concatenate([real_w, [0.0]])
    imputed_after = np.concatenate([np.cumsum(imputed[jump][::-1])[::-1], [0.0]])[:-1]
    exact = des.lower == des.upper
    exact_events = np.bincount(
        des.a[exact], weights=w[exact], minlength=k
    )[jump]
    curve = pd.DataFrame({
        "time": time,
        "time_lower": des.t_lo[jump],
        "time_upper": des.t_hi[jump],
        "estimate": after[jump],
        "n_risk": real_w[np.searchsorted(real_t, time, side="left")] + imputed_after,
        "n_event": exact_events + imputed[jump],
    })
    return TurnbullFit(
        intervals=intervals, curve=curve, converged=converged, n_iter=n_iter,
        warnings=warn, loglik=loglik, max_gradient=gap, n=float(total),
    )


def _median(time: np.ndarray, estimate: np.ndarray) -> float:
    """survival:::survmean's median rule (``minmin``) on a curve."""
    keep = estimate < 0.5 + _MEDIAN_TOL
    if not keep.any():
        return float("nan")
    i = first_position(keep)
    if abs(estimate[i] - 0.5) < _MEDIAN_TOL:
        lower_after = np.flatnonzero(estimate < estimate[i])
        if lower_after.size:
            return float((time[i] + time[lower_after[0]]) / 2.0)
    return float(time[i])


def _check_control(tol: float, max_iter: int) -> None:
    if not (np.isfinite(tol) and tol > 0):
        raise AnalysisError(f"tol must be a positive finite number; got {tol!r}")
    max_iter = check_whole_number(max_iter, "max_iter", minimum=1)


# ---------------------------------------------------------------------- public API
def turnbull(
    lower: np.ndarray | pd.Series | list[float],
    upper: np.ndarray | pd.Series | list[float],
    *,
    weights: np.ndarray | pd.Series | list[float] | None = None,
    tol: float = 1e-10,
    max_iter: int = 10000,
) -> TurnbullFit:
    """Turnbull NPMLE of the survival function from interval-censored data.

    Matches ``survfit(Surv(lower, upper, type = "interval2") ~ 1)`` (with ``upper``
    written as ``NA`` for right-censored observations), converged to the NPMLE; see
    the module docstring for the conventions and the two places we differ from R.

    Parameters
    ----------
    lower, upper : array-like of float
        Each observation is ``(lower, upper]``: ``lower == upper`` is an exact event
        time, ``upper = inf`` is right-censored at ``lower``, ``lower = 0`` with a
        finite ``upper`` is an event by ``upper``. ``0 <= lower <= upper``.
    weights : array-like of float, optional
        Nonnegative case weights (default 1).
    tol : float
        Convergence tolerance on the KKT gap ``max_j d_j - 1`` (the log-likelihood is
        then within ``n * tol`` of its maximum).
    max_iter : int
        Maximum number of Newton iterations.

    Returns
    -------
    TurnbullFit
        Turnbull intervals and their masses, survfit's curve, convergence details.

    Raises
    ------
    AnalysisError
        If the inputs break the rules above.

    Examples
    --------
    >>> fit = turnbull([0, 0, 7, 14], [7, 14, 14, np.inf])
    >>> fit.intervals
       time_lower  time_upper   mass
    0         0.0         7.0  0.375
    1         7.0        14.0  0.375
    2        14.0         inf  0.250
    >>> fit.curve[["time", "estimate"]]
       time  estimate
    0   3.5     0.625
    1  10.5     0.250
    >>> fit.converged, fit.median()
    (True, 10.5)
    """
    _check_control(tol, max_iter)
    lo, up, w = _validate(lower, upper, weights)
    pl, pu, pw, _ = _compress(lo, up, w)
    keep = pw > 0
    return _fit_pairs(pl[keep], pu[keep], pw[keep], tol=tol, max_iter=int(max_iter))


def _type7(sorted_values: np.ndarray, q: float) -> float:
    """R's type-7 quantile of sorted values that may end in +inf.

    Interpolating towards an infinite order statistic gives inf; an exact hit on a
    finite order statistic gives that value.
    """
    h = (sorted_values.size - 1) * q
    lo = int(np.floor(h))
    frac = h - lo
    if frac == 0:
        return float(sorted_values[lo])
    hi_value = sorted_values[lo + 1]
    if np.isinf(hi_value):
        return float("inf")
    return float(sorted_values[lo] + frac * (hi_value - sorted_values[lo]))


def turnbull_bootstrap(
    lower: np.ndarray | pd.Series | list[float],
    upper: np.ndarray | pd.Series | list[float],
    *,
    times: np.ndarray | list[float],
    cluster: np.ndarray | pd.Series | list | None = None,
    n_boot: int = 200,
    conf_level: float = 0.95,
    seed: int | None = None,
    progress: bool = True,
    label: str = "Turnbull bootstrap",
    tol: float = 1e-10,
    max_iter: int = 10000,
) -> TurnbullBands:
    """Nonparametric bootstrap percentile bands for a Turnbull NPMLE.

    Each replicate resamples observations (or whole clusters, e.g. patients with
    several sessions, when ``cluster`` is given) with replacement. The draw is turned
    into weights on the distinct ``(lower, upper)`` pairs and the NPMLE refitted on
    them, so a replicate costs O(distinct intervals) and copies no data.

    Parameters
    ----------
    lower, upper : array-like of float
        The observations, as in :func:`turnbull`.
    times : array-like of float
        Times at which to give bands for the survival probability.
    cluster : array-like, optional
        A cluster label per observation; whole clusters are resampled.
    n_boot : int
        Number of bootstrap replicates.
    conf_level : float
        Confidence level of the percentile intervals.
    seed : int, optional
        Seed of the ``numpy.random.Generator``; when None one is drawn and reported.
    progress : bool
        Show a ``tqdm`` progress bar.
    label : str
        What the progress bar says the replicates estimate (e.g. ``"relief curve CIs,
        sham"``).
    tol, max_iter
        Passed to the fits, as in :func:`turnbull`.

    Returns
    -------
    TurnbullBands
        Bands at ``times`` and a confidence interval for the median.

    Notes
    -----
    Limits are R's type-7 (numpy's ``linear``) percentiles of the replicates at
    ``(1 - conf_level) / 2`` and ``(1 + conf_level) / 2``. A replicate whose median is
    not reached (the estimate stays above 0.5) counts as a median of ``+inf``: the
    upper (or even lower) limit is ``inf`` when the percentile falls on or
    interpolates towards such replicates, meaning the limit lies beyond the follow-up.
    The point estimate of the median is NaN when not reached, as in survfit.

    Examples
    --------
    >>> lower = [0, 0, 7, 14, 7, 0, 14, 21]
    >>> upper = [7, 14, 14, np.inf, 21, 7, 21, np.inf]
    >>> res = turnbull_bootstrap(lower, upper, times=[10, 20], n_boot=50, seed=1,
    ...                          progress=False)
    >>> res.bands.columns.tolist()
    ['time', 'estimate', 'ci_lower', 'ci_upper']
    >>> bool((res.bands.ci_lower <= res.bands.estimate).all())
    True
    """
    _check_control(tol, max_iter)
    lo, up, w = _validate(lower, upper, None)
    t = float_vector("times", np.atleast_1d(np.asarray(times, dtype=float)))
    if np.isnan(t).any() or t.size == 0:
        raise AnalysisError("times must be a non-empty array of non-missing times")
    n_boot = check_whole_number(n_boot, "n_boot", minimum=2)
    conf_level = check_conf_level(conf_level)
    pl, pu, pw, pair = _compress(lo, up, w)
    m = pl.size
    if cluster is None:
        prob = pw / pw.sum()
        n_units = lo.size
    else:
        labels = pd.Series(np.asarray(cluster))
        if labels.size != lo.size:
            raise AnalysisError(
                f"cluster must have one label per observation; got {labels.size} for {lo.size}"
            )
        if labels.isna().any():
            raise AnalysisError(
                f"cluster has {int(labels.isna().sum())} missing labels (first at position "
                f"{first_position(labels.isna().to_numpy())}); every observation needs a cluster"
            )
        codes, uniques = pd.factorize(labels)
        n_units = len(uniques)
        # distinct (cluster, pair) combinations with their counts
        combo, combo_n = np.unique(codes * m + pair, return_counts=True)
        combo_cluster, combo_pair = combo // m, combo % m
    if seed is None:
        seed = int(np.random.SeedSequence().entropy % (2**63))
    rng = np.random.default_rng(seed)
    full = _fit_pairs(pl, pu, pw, tol=tol, max_iter=int(max_iter))

    surv = np.empty((int(n_boot), t.size))
    medians = np.empty(int(n_boot))
    n_failed = 0
    for r in trange(int(n_boot), disable=not progress, desc=label):
        if cluster is None:
            wb = rng.multinomial(n_units, prob).astype(float)
        else:
            draws = np.bincount(rng.integers(0, n_units, n_units), minlength=n_units)
            wb = np.bincount(combo_pair, weights=draws[combo_cluster] * combo_n, minlength=m)
        keep = wb > 0
        fit = _fit_pairs(pl[keep], pu[keep], wb[keep], tol=tol, max_iter=int(max_iter))
        n_failed += not fit.converged
        surv[r] = fit.survival_at(t)
        medians[r] = fit.median()

    alpha = (1.0 - conf_level) / 2.0
    ci = np.quantile(surv, [alpha, 1.0 - alpha], axis=0)
    bands = pd.DataFrame({
        "time": t, "estimate": full.survival_at(t), "ci_lower": ci[0], "ci_upper": ci[1],
    })
    not_reached = np.isnan(medians)
    med_sorted = np.sort(np.where(not_reached, np.inf, medians))
    median = pd.DataFrame({
        "estimate": [full.median()],
        "ci_lower": [_type7(med_sorted, alpha)],
        "ci_upper": [_type7(med_sorted, 1.0 - alpha)],
        "n_not_reached": [int(not_reached.sum())],
    })
    warn = list(full.warnings)
    if n_failed:
        warn.append(
            f"{n_failed} of {n_boot} bootstrap fits did not converge; raise max_iter or tol"
        )
    return TurnbullBands(
        bands=bands, median=median, n_boot=int(n_boot), seed=int(seed),
        conf_level=float(conf_level), fit=full, surv_replicates=surv,
        median_replicates=medians, warnings=warn,
    )


#: Distinct (lower, upper) pairs with summed weights, and the fit on such pairs, for the
#: other interval-censored engines (:mod:`.interval_test`).
compress_pairs = _compress
fit_pairs = _fit_pairs
