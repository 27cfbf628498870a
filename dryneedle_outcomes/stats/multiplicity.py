"""Multiplicity-adjusted p-values: Bonferroni, Holm, Hochberg and the fixed sequence.

One job: from ``m`` raw p-values (and, for the fixed sequence, their pre-specified
order) return the adjusted p-values; a hypothesis is rejected at family-wise level
``alpha`` when its adjusted p-value is at most ``alpha``. Arrays in, arrays out.

With ``p_(1) <= ... <= p_(m)`` the ordered p-values (ties kept in input order):

``bonferroni``
    ``min(1, m p_i)``.
``holm`` (Holm 1979, Scand J Stat 6:65-70; step-down)
    ``p~_(i) = max_{j <= i} min(1, (m - j + 1) p_(j))``.
``hochberg`` (Hochberg 1988, Biometrika 75:800-2; step-up; controls the family-wise
error rate under independence or positive dependence of the tests, e.g. two outcomes of
the same patients with positively correlated test statistics, Sarkar 1998)
    ``p~_(i) = min_{j >= i} min(1, (m - j + 1) p_(j))``.
``fixed_sequence`` (hierarchical gatekeeping: Maurer, Hothorn & Lehmacher 1995;
Westfall & Krishen 2001, J Stat Plan Inference 99:25-40; Dmitrienko & D'Agostino 2013,
Stat Med 32:5172-5218, section 3.3)
    The hypotheses are tested in the declared order, each at the full ``alpha``, and
    testing stops at the first one not rejected. Its adjusted p-value is the running
    maximum of the p-values in that order, ``p~_k = max(p_1, ..., p_k)`` (the
    definition Dmitrienko's R package Mediana implements as ``cummax(p)``,
    ``FixedSeqAdj``).

The first three are R's ``p.adjust`` (``tests/reference/multiplicity/``).
"""

from __future__ import annotations

import numpy as np

from ..errors import AnalysisError

#: The procedures of :func:`adjust_p`.
PROCEDURES = ("hochberg", "holm", "bonferroni", "fixed_sequence")


def check_p(p) -> np.ndarray:
    """``p`` as a 1-d float array of p-values in [0, 1]; an error for anything else."""
    arr = np.asarray(p, dtype=float).ravel()
    if arr.size == 0:
        raise AnalysisError("no p-values to adjust")
    if not np.all(np.isfinite(arr)):
        raise AnalysisError(f"every p-value must be a number; got {arr.tolist()} (a missing "
                            "p-value cannot be adjusted: a test that could not be done "
                            "is not rejected, and in a fixed sequence it stops the sequence)")
    if np.any((arr < 0) | (arr > 1)):
        raise AnalysisError(f"p-values must be between 0 and 1; got {arr.tolist()}")
    return arr


def adjust_p(p, procedure: str = "hochberg", order=None) -> np.ndarray:
    """Adjusted p-values of ``p`` under ``procedure`` (module docstring).

    Parameters
    ----------
    p : array_like, shape (m,)
        Raw p-values.
    procedure : {"hochberg", "holm", "bonferroni", "fixed_sequence"}
    order : array_like of int, optional
        ``fixed_sequence`` only: the positions of ``p`` in the order they are tested
        (``order[0]`` first); default the order given.

    Returns
    -------
    ndarray, shape (m,)
        Adjusted p-values, in the positions of ``p``.

    Examples
    --------
    >>> adjust_p([0.01, 0.04, 0.03], "hochberg").round(4).tolist()
    [0.03, 0.04, 0.04]
    >>> adjust_p([0.01, 0.04, 0.03], "holm").round(4).tolist()
    [0.03, 0.06, 0.06]
    >>> adjust_p([0.02, 0.30, 0.01], "fixed_sequence").tolist()
    [0.02, 0.3, 0.3]
    """
    arr = check_p(p)
    m = arr.size
    if procedure not in PROCEDURES:
        raise AnalysisError(f"procedure must be one of {', '.join(PROCEDURES)}, got "
                            f"{procedure!r}")
    if order is not None and procedure != "fixed_sequence":
        raise AnalysisError(f"order= is the testing order of procedure='fixed_sequence'; "
                            f"{procedure!r} does not depend on an order")
    if procedure == "bonferroni":
        return np.minimum(1.0, m * arr)
    if procedure == "fixed_sequence":
        seq = np.arange(m) if order is None else np.asarray(order, dtype=int).ravel()
        if sorted(seq.tolist()) != list(range(m)):
            raise AnalysisError(f"order must list each of the {m} positions 0..{m - 1} "
                                f"once; got {np.asarray(order).tolist()}")
        out = np.empty(m)
        out[seq] = np.maximum.accumulate(arr[seq])
        return out
    idx = np.argsort(arr, kind="stable")
    factor = m - np.arange(m)                   # m - j + 1 for j = 1..m
    scaled = np.minimum(1.0, factor * arr[idx])
    if procedure == "holm":
        adj = np.maximum.accumulate(scaled)
    else:   # hochberg: running minimum from the largest p-value down
        adj = np.minimum.accumulate(scaled[::-1])[::-1]
    out = np.empty(m)
    out[idx] = adj
    return out


def rejected(p, procedure: str = "hochberg", order=None, alpha: float = 0.05) -> np.ndarray:
    """Which hypotheses are rejected at family-wise level ``alpha``: adjusted p <= alpha.

    For the fixed sequence this is the gatekeeping rule itself (every hypothesis before
    a non-rejected one is rejected, none after it).

    Examples
    --------
    >>> rejected([0.02, 0.30, 0.01], "fixed_sequence").tolist()
    [True, False, False]
    """
    if not 0.0 < alpha < 1.0:
        raise AnalysisError(f"alpha must be between 0 and 1, got {alpha!r}")
    return adjust_p(p, procedure, order) <= alpha


__all__ = ["PROCEDURES", "adjust_p", "check_p", "rejected"]
