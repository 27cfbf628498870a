"""How closely two results of an iterative fit can be expected to agree, per engine.

An optimiser stops when its own rule is met, not at the exact optimum; two fits of the
same data (rows in another order, another BLAS kernel, replicated rows instead of
weights) stop at different points inside that margin. A test that compares two such
fits, or a fit with R (which stops by a rule of its own), must allow that margin; a
tighter tolerance fails on another machine (numpy 2.4 / OpenBLAS 0.3.31's Haswell kernel
moved an MMRM estimate by 2.2e-9 relative). Pure arithmetic (Kaplan-Meier, exact
binomial limits, counts, a quantity computed twice from the same fit) is compared bit
for bit or at 1e-12.

The bounds are in units of each estimate's standard error (SE): the stopping rules
bound the distance to the optimum in the metric of the information matrix, which is
the SE scale (relative tolerances would be meaningless for an estimate near 0).

Newton engines (``fit_cox``: coxph's rule, ``fit_aft``: survreg's rule)
    Stop after a full Newton step whose relative change in the log-likelihood is at
    most ``tol`` (default 1e-9). A full step from a point at distance ``r`` (in SE units)
    gains about ``r**2 / 2``, so before that step ``r <= sqrt(2 tol |ll|)``, and
    Newton's quadratic convergence leaves ``r' <= K r**2 = 2 K tol |ll|`` after it, with
    ``K`` (the third derivative in SE units, of order ``1/sqrt(n)``) below 1 for the
    test data. Per fit: :func:`newton_se` = ``2 tol (|ll| + 1)`` SEs.

MMRM (``fit_mmrm``)
    L-BFGS-B, then Newton steps until the Newton decrement ``g' H^-1 g`` is below
    ``1e-14 max(1, |deviance|)`` (the acceptance check allows 1e-6). The step not
    taken, ``H^-1 g``, is the distance left; with ``cov(theta) = 2 H^-1`` each
    covariance parameter is within ``sqrt(decrement / 2)`` SEs of the optimum, and the
    GLS ``beta(theta)`` moves by the same order in its SE units. Per fit:
    :func:`mmrm_se`.

SAS PROC MIXED (reference values in ``tests/reference/mmrm_sas/``)
    Stops by its default relative Hessian criterion ``CONVH=1E-8``:
    ``g' H^-1 g <= 1e-8 |f|`` with ``f`` the -2 (restricted) log-likelihood it minimises.
    By the argument for the MMRM above, SAS's covariance parameters (and the GLS
    estimates) are within ``sqrt(1e-8 |f| / 2)`` SEs of the optimum and its ``f`` at
    most ``1e-8 |f| / 2`` above the minimum. Per fit: :func:`sas_mixed_se`.

LMM (``fit_lmm``)
    L-BFGS-B (``ftol`` 1e-12), then up to four Newton steps kept while the deviance
    drops by more than ``1e-12 (1 + |deviance|)``. A point whose deviance is within
    ``delta`` of the minimum is within ``sqrt(2 delta)`` of it in the deviance's
    Hessian metric, i.e. within ``sqrt(delta)`` SEs (``cov = 2 H^-1``). Per fit:
    :func:`lmm_se` = ``sqrt(1e-12 (1 + |deviance|))``.

Turnbull (``fit_turnbull``)
    Stops when the KKT gap ``max_j d_j - 1 <= tol`` (1e-9 unless given), which bounds
    the log-likelihood's distance to the NPMLE's by ``W * tol`` and, in the same
    metric, the survival probabilities by about ``sqrt(tol)`` (3e-5); the engine reaches
    <= 4e-9 in practice, and tests/test_survival_turnbull.py compares with survfit
    (run to convergence) at 1e-6.
"""

from __future__ import annotations

import math

import numpy as np

#: Closed-form results (Kaplan-Meier, log-rank, RMST, exact limits) against R's: both
#: sides do the same sums in another order, a few ulps apart.
ARITHMETIC_RTOL = 1e-12
#: Two fits may sit on either side of the optimum.
TWO_FITS = 2.0
#: Rounding of the linear algebra, relative (a few hundred ulps).
ROUNDING = 1e-13
#: fit_cox's and fit_aft's default ``tol`` (coxph's ``eps``, survreg's ``rel.tolerance``).
NEWTON_TOL = 1e-9


def newton_se(loglik: float, tol: float = NEWTON_TOL) -> float:
    """Distance (in SEs) of a Cox / AFT fit from the MLE its stopping rule allows."""
    return 2.0 * tol * (abs(loglik) + 1.0)


def mmrm_se(deviance: float) -> float:
    """Distance (in SEs) of an MMRM fit from the REML/ML optimum its polish allows."""
    return math.sqrt(1e-14 * max(1.0, abs(deviance)) / 2.0)


#: SAS PROC MIXED's default convergence criterion (``CONVH=1E-8``, relative Hessian).
SAS_CONVH = 1e-8


def sas_mixed_se(deviance: float) -> float:
    """Distance (in SEs) of a SAS PROC MIXED fit from the optimum its CONVH rule allows."""
    return math.sqrt(SAS_CONVH * max(1.0, abs(deviance)) / 2.0)


def lmm_se(deviance: float) -> float:
    """Distance (in SEs) of an LMM fit from the REML/ML optimum its polish allows."""
    return math.sqrt(1e-12 * (1.0 + abs(deviance)))


def assert_within_se(actual, expected, se, bound: float, what: str = "") -> None:
    """``|actual - expected| <= TWO_FITS * bound * se`` (plus rounding), elementwise."""
    actual = np.asarray(actual, dtype=float)
    expected = np.asarray(expected, dtype=float)
    se = np.broadcast_to(np.asarray(se, dtype=float), expected.shape)
    allowed = TWO_FITS * bound * se + ROUNDING * np.abs(expected)
    diff = np.abs(actual - expected)
    assert np.all(diff <= allowed), (
        f"{what}: differences {diff.ravel().tolist()} exceed {TWO_FITS:g} x {bound:.3g} SE "
        f"= {allowed.ravel().tolist()}"
    )
