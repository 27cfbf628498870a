"""Confidence intervals for proportions, rates and their differences.

All functions are vectorised over numpy arrays and return ``(lower, upper)``.

References
----------
- Clopper CJ, Pearson ES (1934). Biometrika 26:404-413 (exact binomial).
- Wilson EB (1927). J Am Stat Assoc 22:209-212 (score interval).
- Garwood F (1936). Biometrika 28:437-442 (exact Poisson).
- Newcombe RG (1998). Interval estimation for the difference between independent
  proportions: comparison of eleven methods. Stat Med 17:873-890 (method 10, the
  hybrid score interval built from Wilson intervals).

Examples
--------
>>> lo, hi = clopper_pearson(7, 20)
>>> round(float(lo), 4), round(float(hi), 4)
(0.1539, 0.5922)
>>> lo, hi = newcombe_difference(56, 70, 48, 80)   # Newcombe 1998, Table II, example (a)
>>> round(float(lo), 4), round(float(hi), 4)
(0.0524, 0.3339)
"""

from __future__ import annotations

import numpy as np
from scipy import stats


def _z(conf_level: float) -> float:
    return float(stats.norm.ppf(0.5 + conf_level / 2.0))


def clopper_pearson(x, n, conf_level: float = 0.95):
    """Exact (Clopper-Pearson) interval for a binomial proportion x/n (R's binom.test)."""
    x = np.asarray(x, dtype=float)
    n = np.asarray(n, dtype=float)
    alpha = 1.0 - conf_level
    with np.errstate(invalid="ignore", divide="ignore"):
        lower = np.where(x > 0, stats.beta.ppf(alpha / 2, x, n - x + 1), 0.0)
        upper = np.where(x < n, stats.beta.ppf(1 - alpha / 2, x + 1, n - x), 1.0)
    bad = n <= 0
    return np.where(bad, np.nan, lower), np.where(bad, np.nan, upper)


def wilson(x, n, conf_level: float = 0.95):
    """Wilson score interval for x/n (R's prop.test without continuity correction)."""
    x = np.asarray(x, dtype=float)
    n = np.asarray(n, dtype=float)
    z = _z(conf_level)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = x / n
        centre = (p + z * z / (2 * n)) / (1 + z * z / n)
        half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return centre - half, centre + half


def poisson_exact(count, exposure, conf_level: float = 0.95):
    """Exact (Garwood) interval for a rate count/exposure (R's poisson.test)."""
    count = np.asarray(count, dtype=float)
    exposure = np.asarray(exposure, dtype=float)
    alpha = 1.0 - conf_level
    with np.errstate(invalid="ignore", divide="ignore"):
        lower = np.where(count > 0, stats.gamma.ppf(alpha / 2, count), 0.0) / exposure
        upper = stats.gamma.ppf(1 - alpha / 2, count + 1) / exposure
    return lower, upper


def newcombe_difference(x1, n1, x2, n2, conf_level: float = 0.95):
    """Newcombe's hybrid score interval for p1 - p2 (method 10 of Newcombe 1998)."""
    p1 = np.asarray(x1, dtype=float) / np.asarray(n1, dtype=float)
    p2 = np.asarray(x2, dtype=float) / np.asarray(n2, dtype=float)
    l1, u1 = wilson(x1, n1, conf_level)
    l2, u2 = wilson(x2, n2, conf_level)
    d = p1 - p2
    lower = d - np.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    upper = d + np.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    return lower, upper
