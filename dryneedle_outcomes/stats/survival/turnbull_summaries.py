"""Summaries of a Turnbull NPMLE: restricted mean, whole-time curves, and their bootstrap.

:func:`turnbull_rmst` is the restricted mean survival time (RMST) up to ``tau``, the
area under the Turnbull NPMLE of the survival function on ``[0, tau]`` (Royston &
Parmar 2013; for interval-censored data e.g. Zhang et al. 2020). Inside a Turnbull
interval ``(L, R]`` the NPMLE is not identified (Turnbull 1976; Gentleman & Geyer
1994), so neither is the area. We report:

- ``estimate``: the area under survfit's step curve, which drops at the midpoint
  ``(L + R) / 2`` of each Turnbull interval with mass (the convention of
  ``survival::survfit(Surv(l, r, type = "interval2") ~ 1)`` and of ``print(fit,
  rmean = tau)`` on that fit). It equals the area under the linear interpolation
  (mass spread evenly over ``(L, R]``) whenever ``tau`` is not strictly inside an
  interval with mass. The mass of a final ``(L, inf)`` is never placed: the curve
  stays flat after ``L``, as Kaplan-Meier stays flat after the last censoring.
- ``bound_lower`` / ``bound_upper``: the smallest and largest areas any NPMLE gives,
  every mass at the left (``L``) or right (``R``; ``inf`` for a final interval) end of
  its interval. Their distance shows how much the visit schedule leaves unknown.
- with ``convention="right"`` the estimate is the area under the curve that drops at
  the right end ``R`` of each interval (the time by which the event is known to have
  happened; ``bound_upper``): on whole sessions, the area under the whole-session step
  function of :func:`step_survival`, i.e. the restricted mean number of sessions
  without relief seen.

:func:`step_survival` evaluates the NPMLE at chosen times when each interval's mass
is counted at its right end ``R`` (the time by which the event is known to have
happened): on a grid of whole sessions this is the proportion *seen* without the
event by session ``k``. It is the NPMLE itself wherever it is identified (every
``k`` outside the inside of Turnbull intervals, e.g. when all intervals are
``(k - 1, k]``) and its upper bound elsewhere.

:func:`bootstrap_statistics` refits the NPMLE on nonparametric bootstrap resamples
(observations with replacement, the draw turned into weights on the distinct
intervals as in :func:`~dryneedle_outcomes.stats.survival.turnbull.turnbull_bootstrap`)
and returns a statistic of each refit, for percentile intervals (Efron & Tibshirani
1993, ch. 13).

References
----------
Royston P, Parmar MKB (2013). Restricted mean survival time: an alternative to the
hazard ratio for the design and analysis of randomized trials with a time-to-event
outcome. BMC Med Res Methodol 13:152.
Turnbull BW (1976). JRSS B 38:290-295. Gentleman R, Geyer CJ (1994). Maximum
likelihood for interval censored data: consistency and computation. Biometrika
81:618-623.
Zhang C, Wu Y, Yin G (2020). Restricted mean survival time for interval-censored data.
Stat Med 39:3879-3895.

Examples
--------
>>> import numpy as np
>>> from dryneedle_outcomes.stats.survival.turnbull import turnbull
>>> fit = turnbull([0, 0, 7, 14], [7, 14, 14, np.inf])
>>> turnbull_rmst(fit, 14).round(4).to_dict()
{'tau': 14.0, 'estimate': 8.75, 'bound_lower': 6.125, 'bound_upper': 11.375}
>>> step_survival(fit, [7, 14]).round(4)
array([0.625, 0.25 ])
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np
import pandas as pd
from tqdm.auto import trange

from dryneedle_outcomes.errors import AnalysisError
from dryneedle_outcomes.stats.checks import check_whole_number
from dryneedle_outcomes.stats.survival.turnbull import (
    TurnbullFit,
    compress_pairs,
    fit_support,
    validate_intervals,
)

__all__ = ["TurnbullMasses", "bootstrap_statistics", "rmst_estimate", "step_median",
           "step_survival", "turnbull_rmst"]


class TurnbullMasses(NamedTuple):
    """The Turnbull intervals and their NPMLE masses, as arrays (a bootstrap refit).

    :func:`turnbull_rmst` and :func:`step_survival` accept it as well as a
    :class:`TurnbullFit`; building no DataFrame keeps a bootstrap replicate cheap.
    """

    time_lower: np.ndarray
    time_upper: np.ndarray
    mass: np.ndarray
    converged: bool


def _arrays(fit: TurnbullFit | TurnbullMasses) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    if isinstance(fit, TurnbullMasses):
        return fit.time_lower, fit.time_upper, fit.mass
    iv = fit.intervals
    return (iv["time_lower"].to_numpy(dtype=float), iv["time_upper"].to_numpy(dtype=float),
            iv["mass"].to_numpy(dtype=float))


def _masses(lower: np.ndarray, upper: np.ndarray, w: np.ndarray, *, tol: float,
            max_iter: int) -> TurnbullMasses:
    """The NPMLE masses of distinct pairs with positive weights: the engine of
    :func:`~dryneedle_outcomes.stats.survival.turnbull.turnbull` (constrained Newton,
    accelerated EM beyond its size limit, closed-form Kaplan-Meier without genuine
    intervals) without the curve and counts it also builds."""
    return TurnbullMasses(*fit_support(lower, upper, w, tol=tol, max_iter=max_iter))

_MEDIAN_TOL = np.sqrt(np.finfo(float).eps)  # as survival:::survmean


def _check_tau(tau: float) -> float:
    tau = float(tau)
    if not (np.isfinite(tau) and tau > 0):
        raise AnalysisError(f"tau must be a finite number > 0, got {tau!r}")
    return tau


def turnbull_rmst(fit: TurnbullFit | TurnbullMasses, tau: float, *,
                  convention: str = "midpoint") -> pd.Series:
    """Area under the Turnbull NPMLE on ``[0, tau]``, with the bounds of its non-uniqueness.

    Parameters
    ----------
    fit : TurnbullFit or TurnbullMasses
        From :func:`~dryneedle_outcomes.stats.survival.turnbull.turnbull` (or a
        bootstrap refit).
    tau : float
        Restriction time, > 0; pre-specified (not chosen from the data).
    convention : {"midpoint", "right"}
        Where the estimate puts each interval's drop: at its midpoint (survfit's
        curve) or at its right end (whole sessions).

    Returns
    -------
    Series
        ``tau``, ``estimate`` (``"midpoint"``: survfit's curve, R's ``print(fit, rmean
        = tau)``; ``"right"``: equal to ``bound_upper``), ``bound_lower`` and
        ``bound_upper`` (masses at the left / right ends of their intervals).

    Examples
    --------
    >>> from dryneedle_outcomes.stats.survival.turnbull import turnbull
    >>> fit = turnbull([0, 2, 4], [2, 4, 6])      # thirds in (0, 2], (2, 4], (4, 6]
    >>> float(turnbull_rmst(fit, 6)["estimate"])  # mean of the midpoints 1, 3, 5
    3.0
    """
    tau = _check_tau(tau)
    if convention not in ("midpoint", "right"):
        raise AnalysisError(f"convention must be 'midpoint' or 'right', got {convention!r}")
    lo, hi, m = _arrays(fit)
    # E[min(T, tau)] with each mass placed at one point; an unplaced final (L, inf) mass
    # (the flat tail of survfit's curve) counts as beyond tau.
    drop = np.where(np.isfinite(hi), 0.5 * (lo + hi), np.inf) if convention == "midpoint" \
        else hi
    return pd.Series({"tau": tau, **_rmst_values(lo, hi, m, tau, drop)})


def _rmst_values(lo: np.ndarray, hi: np.ndarray, m: np.ndarray, tau: float,
                 drop: np.ndarray) -> dict[str, float]:
    return {"estimate": float(np.sum(m * np.minimum(drop, tau))),
            "bound_lower": float(np.sum(m * np.minimum(lo, tau))),
            "bound_upper": float(np.sum(m * np.minimum(hi, tau)))}


def rmst_estimate(fit: TurnbullFit | TurnbullMasses, tau: float,
                  convention: str = "midpoint") -> float:
    """Just the ``estimate`` of :func:`turnbull_rmst` (no checks; for bootstrap loops)."""
    lo, hi, m = _arrays(fit)
    if convention == "midpoint":
        drop = np.where(np.isfinite(hi), 0.5 * (lo + hi), np.inf)
    else:
        drop = hi
    return float(np.sum(m * np.minimum(drop, tau)))


def step_survival(fit: TurnbullFit | TurnbullMasses,
                  times: np.ndarray | list[float]) -> np.ndarray:
    """The NPMLE at ``times`` with each interval's mass counted at its right end.

    ``S(t) = 1 - sum of the masses of intervals (L, R] with R <= t`` (finite ``R``):
    the probability of no event seen by ``t``. A right-continuous step function
    whose steps are at the interval ends (whole sessions on a session grid).

    Parameters
    ----------
    fit : TurnbullFit or TurnbullMasses
    times : array-like of float

    Returns
    -------
    numpy.ndarray

    Examples
    --------
    >>> from dryneedle_outcomes.stats.survival.turnbull import turnbull
    >>> fit = turnbull([0, 1, 2, 3], [1, 2, 3, np.inf])
    >>> step_survival(fit, [0, 1, 2.5, 3]).round(4)
    array([1.  , 0.75, 0.5 , 0.25])
    """
    t = np.atleast_1d(np.asarray(times, dtype=float))
    _, hi, m = _arrays(fit)
    finite = np.isfinite(hi)
    order = np.argsort(hi[finite], kind="stable")
    ends, cum = hi[finite][order], np.cumsum(m[finite][order])
    seen = np.concatenate([[0.0], cum])[np.searchsorted(ends, t, side="right")]
    return np.clip(1.0 - seen, 0.0, 1.0)


def step_median(times: np.ndarray, surv: np.ndarray) -> np.ndarray:
    """Smallest of ``times`` with ``surv <= 0.5`` (``inf`` when never reached).

    No averaging across a flat stretch at exactly 0.5 (which would give half
    sessions): on a grid of whole sessions the answer is a whole session.

    Parameters
    ----------
    times : numpy.ndarray
        Increasing times, shape ``(k,)``.
    surv : numpy.ndarray
        Survival at ``times``, shape ``(k,)`` or ``(n, k)`` (one row per replicate).

    Returns
    -------
    numpy.ndarray
        One median per row (a 0-d array for a 1-d ``surv``).

    Examples
    --------
    >>> step_median(np.array([1., 2., 3.]), np.array([[0.8, 0.5, 0.2], [0.9, 0.8, 0.7]]))
    array([ 2., inf])
    """
    t = np.asarray(times, dtype=float)
    s = np.asarray(surv, dtype=float)
    reached = s < 0.5 + _MEDIAN_TOL
    first = np.argmax(reached, axis=-1)
    out = np.where(reached.any(axis=-1), t[first], np.inf)
    return out


def bootstrap_statistics(
    lower: np.ndarray | list[float],
    upper: np.ndarray | list[float],
    statistic: Callable[[TurnbullMasses], np.ndarray],
    *,
    n_boot: int,
    seed: int | None,
    progress: bool = False,
    label: str = "Turnbull bootstrap",
    tol: float = 1e-10,
    max_iter: int = 10000,
) -> tuple[np.ndarray, int]:
    """``statistic`` of the Turnbull NPMLE refitted on ``n_boot`` bootstrap resamples.

    Parameters
    ----------
    lower, upper : array-like of float
        The observations ``(lower, upper]`` as in ``turnbull``.
    statistic : callable
        Maps a :class:`TurnbullMasses` (the refit's intervals and masses) to a 1-d
        array of fixed length.
    n_boot : int
        Replicates (>= 2).
    seed : int, optional
        Seed of the ``numpy.random.Generator``.
    progress : bool
        Show a ``tqdm`` progress bar.
    label : str
        The progress bar's text.
    tol, max_iter
        Passed to the fits.

    Returns
    -------
    (numpy.ndarray, int)
        The replicates, shape ``(n_boot, len(statistic(fit)))``, and the number of
        refits that did not converge.

    Examples
    --------
    >>> reps, failed = bootstrap_statistics([0, 0, 7, 14], [7, 14, 14, np.inf],
    ...                                     lambda f: step_survival(f, [7, 14]),
    ...                                     n_boot=5, seed=1)
    >>> reps.shape, failed
    ((5, 2), 0)
    """
    n_boot = check_whole_number(n_boot, "n_boot", minimum=2)
    lo, up, w = validate_intervals(lower, upper, None)
    pl, pu, pw, _ = compress_pairs(lo, up, w)
    prob = pw / pw.sum()
    rng = np.random.default_rng(seed)
    out = None
    failed = 0
    for r in trange(int(n_boot), disable=not progress, desc=label):
        wb = rng.multinomial(lo.size, prob).astype(float)
        keep = wb > 0
        fit = _masses(pl[keep], pu[keep], wb[keep], tol=tol, max_iter=int(max_iter))
        failed += not fit.converged
        value = np.atleast_1d(np.asarray(statistic(fit), dtype=float))
        if out is None:
            out = np.empty((int(n_boot), value.size))
        out[r] = value
    return out, failed
