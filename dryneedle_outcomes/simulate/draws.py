"""Numeric building blocks of the generative model: normal cdf/pdf, draws, rounding.

Truncated normal draws by rejection, half-up rounding and fixed-size random allocation
to arms, shared by :mod:`.truth` and :mod:`.after_needling`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np


def norm_cdf(x: float) -> float:
    return 0.5 * (1.0 + math.erf(x / math.sqrt(2.0)))


def norm_pdf(x: float) -> float:
    return math.exp(-0.5 * x * x) / math.sqrt(2.0 * math.pi)


def truncated_normal(rng: np.random.Generator, mean: float, sd: float, limits, size: int):
    """Normal draws restricted to ``limits`` by redrawing (vectorised rejection)."""
    lo, hi = limits
    x = rng.normal(mean, sd, size)
    bad = (x < lo) | (x > hi)
    while bad.any():
        x[bad] = rng.normal(mean, sd, int(bad.sum()))
        bad = (x < lo) | (x > hi)
    return x


def round_half_up(x):
    return np.floor(np.asarray(x, dtype=float) + 0.5)


def allocate(rng: np.random.Generator, n: int, allocation: Sequence[float]) -> np.ndarray:
    """Arm index per patient: fixed group sizes (largest remainder), randomly ordered."""
    alloc = np.asarray(allocation, dtype=float)
    raw = alloc / alloc.sum() * n
    counts = np.floor(raw).astype(int)
    short = n - counts.sum()
    if short:
        order = np.argsort(-(raw - counts), kind="stable")
        counts[order[:short]] += 1
    return rng.permutation(np.repeat(np.arange(len(alloc)), counts))
