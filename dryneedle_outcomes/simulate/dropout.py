"""Monotone dropout of the generative model: MCAR, MAR or MNAR, at a calibrated rate.

A patient still in the trial at visit ``t >= 1`` drops out there (misses visit ``t`` and
every later one) with the discrete hazard

    ``h_t = expit(alpha + beta * (x_t - 60))``

* ``"mcar"`` (missing completely at random): ``beta = 0``, the same hazard at every
  visit, whatever the pain.
* ``"mar"`` (missing at random): ``x_t`` is the last *observed* first-step pain before
  visit ``t`` (as recorded, on the site's scale; the baseline at visit 1, the last
  attended visit when ``t - 1`` was missed in isolation): patients in more pain leave
  more often, and the chance depends only on data the analyst has.
* ``"mnar"`` (missing not at random): ``x_t`` is the first-step pain at visit ``t``
  itself, which is never recorded because the patient has left.

``beta`` is ``dropout_slope`` (default 0.04 per mm, an odds ratio of 1.49 per 10 mm:
an assumption, of the order of the MAR mechanism of the package's coverage benchmark,
``benchmarks/coverage_trajectory.py``, 0.06 per mm). ``alpha`` is calibrated so that
the expected fraction of patients who drop out, given the simulated pain of the
patients, equals ``dropout``: it solves
``mean_i(1 - prod_t(1 - h_it)) = dropout`` (monotone in ``alpha``; bisection on a
vectorised expression, no loop over patients). The realised fraction then differs
from ``dropout`` by Bernoulli noise only. Under MAR, a mixed model for repeated
measures that uses every observed value is unbiased; under MNAR it is not (Little &
Rubin 2019, Statistical Analysis with Missing Data, 3rd ed., ch. 1 and 15; ICH E9(R1)
A.5 asks that sensitivity analyses explore such departures).
"""

from __future__ import annotations

import numpy as np

from ..errors import ConfigError

DROPOUT_MECHANISMS = ("mcar", "mar", "mnar")
_CENTRE = 60.0  # mm: centres x_t so that alpha is near the log-odds of a typical hazard


def dropout_covariate(mechanism: str, pain: np.ndarray, attended: np.ndarray) -> np.ndarray:
    """The pain value the hazard at each visit ``t >= 1`` depends on (``(n, T-1)``).

    Parameters
    ----------
    mechanism : {"mcar", "mar", "mnar"}
    pain : ndarray (n, T)
        First-step pain as it would be recorded at each visit.
    attended : ndarray of bool (n, T)
        Visits not missed in isolation (before any dropout).

    Examples
    --------
    >>> pain = np.array([[70.0, 50.0, 40.0]])
    >>> seen = np.array([[True, False, True]])
    >>> dropout_covariate("mar", pain, seen).tolist()   # visit 2 sees baseline (1 missed)
    [[70.0, 70.0]]
    >>> dropout_covariate("mnar", pain, seen).tolist()
    [[50.0, 40.0]]
    """
    if mechanism == "mcar":
        return np.full((pain.shape[0], pain.shape[1] - 1), _CENTRE)
    if mechanism == "mnar":
        return pain[:, 1:].astype(float)
    last = pain[:, 0].astype(float).copy()
    out = np.empty((pain.shape[0], pain.shape[1] - 1))
    for j in range(1, pain.shape[1]):  # loop over visits (columns), never over patients
        out[:, j - 1] = last
        last = np.where(attended[:, j], pain[:, j], last)
    return out


def calibrate_intercept(x: np.ndarray, slope: float, dropout: float) -> float:
    """Intercept ``alpha`` with ``mean_i(1 - prod_t(1 - expit(alpha + slope (x - 60)))) = dropout``.

    Examples
    --------
    >>> x = np.full((1000, 7), 60.0)
    >>> a = calibrate_intercept(x, 0.04, 0.10)
    >>> round(float(1 - (1 - 1 / (1 + np.exp(-a))) ** 7), 10)   # 1 - (1 - h)^7 = 0.10
    0.1
    """
    if not 0.0 < dropout < 1.0:
        raise ConfigError(f"calibrate_intercept needs 0 < dropout < 1, got {dropout!r}")
    lin = slope * (x - _CENTRE)

    def frac(alpha: float) -> float:
        # log(1 - h) = -log(1 + exp(eta)), computed stably
        log_stay = -np.logaddexp(0.0, alpha + lin).sum(axis=1)
        return float(np.mean(-np.expm1(log_stay)))

    lo, hi = -50.0, 50.0
    for _ in range(200):  # bisection to machine precision of alpha
        mid = 0.5 * (lo + hi)
        if frac(mid) < dropout:
            lo = mid
        else:
            hi = mid
        if hi - lo < 1e-12:
            break
    return 0.5 * (lo + hi)


def draw_dropout(rng: np.random.Generator, mechanism: str, dropout: float, slope: float,
                 pain: np.ndarray, attended: np.ndarray):
    """First visit missed for good per patient (-1 for completers) and the hazards.

    Returns
    -------
    drop_at : ndarray of int (n,)
    hazard : ndarray (n, T-1)
        The hazard at visits 1..T-1 (what a patient still in would face).
    alpha : float
        The calibrated intercept (``-inf`` when ``dropout`` is 0, ``inf`` when 1).
    """
    if mechanism not in DROPOUT_MECHANISMS:
        raise ConfigError(f"dropout_mechanism must be one of {', '.join(DROPOUT_MECHANISMS)}, "
                          f"got {mechanism!r}")
    n, t = pain.shape
    u = rng.random((n, max(t - 1, 0)))
    if t < 2 or dropout <= 0.0:
        return np.full(n, -1), np.zeros((n, max(t - 1, 0))), -np.inf
    x = dropout_covariate(mechanism, pain, attended)
    beta = 0.0 if mechanism == "mcar" else float(slope)
    if dropout >= 1.0:
        alpha, hazard = np.inf, np.ones_like(x)
    else:
        alpha = calibrate_intercept(x, beta, dropout)
        hazard = 1.0 / (1.0 + np.exp(-(alpha + beta * (x - _CENTRE))))
    drop = u < hazard
    drop_at = np.where(drop.any(axis=1), np.argmax(drop, axis=1) + 1, -1)
    return drop_at, hazard, alpha
