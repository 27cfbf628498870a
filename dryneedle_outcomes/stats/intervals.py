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

Matches R's ``binom.test``, ``poisson.test``, ``prop.test``. Golden values:
``tests/reference/harms/`` and ``tests/reference/responders/`` (``reference.json``, made
by the ``make_reference.R`` there from the data beside it); checked in
``tests/test_harms.py`` and ``tests/test_responders.py``.
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
    """Wilson score interval for x/n (R's prop.test without continuity correction).

    Examples
    --------
    >>> lo, hi = wilson(0, 3)
    >>> float(lo), round(float(hi), 4)
    (0.0, 0.5615)
    """
    x = np.asarray(x, dtype=float)
    n = np.asarray(n, dtype=float)
    z = _z(conf_level)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = x / n
        centre = (p + z * z / (2 * n)) / (1 + z * z / n)
        half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    # exactly 0 at x = 0 and 1 at x = n, as R's prop.test: rounding leaves +-6e-17 there
    lower = np.where((x == 0) & (n > 0), 0.0, np.clip(centre - half, 0.0, 1.0))
    upper = np.where((x == n) & (n > 0), 1.0, np.clip(centre + half, 0.0, 1.0))
    return lower, upper


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


def risk_ratio(x1, n1, x2, n2, conf_level: float = 0.95, correction: float = 0.5):
    """Risk ratio (x1/n1) / (x2/n2) with the log (Katz) interval and a zero-cell rule.

    When exactly one of ``x1``, ``x2`` is 0 the ratio or its log standard error is
    infinite, so ``correction`` (Haldane's 0.5) is added to every cell of the 2x2
    table - events and non-events, so each n grows by ``2 * correction`` - for the
    ratio and its interval alike. With no events in either group the ratio is
    undefined (NaN). The correction is used for the risk ratio only, never for the
    risk difference.

    Returns
    -------
    estimate, lower, upper, corrected : numpy arrays (``corrected`` is bool)

    Examples
    --------
    >>> est, lo, hi, corr = risk_ratio(10, 50, 5, 50)
    >>> round(float(est), 3), round(float(lo), 3), round(float(hi), 3), bool(corr)
    (2.0, 0.736, 5.433, False)
    >>> est, lo, hi, corr = risk_ratio(4, 20, 0, 20)     # (4.5/21) / (0.5/21)
    >>> round(float(est), 3), bool(corr)
    (9.0, True)
    """
    x1, n1, x2, n2 = (np.asarray(v, dtype=float) for v in (x1, n1, x2, n2))
    corrected = ((x1 == 0) ^ (x2 == 0)) & (n1 > 0) & (n2 > 0)
    c = np.where(corrected, correction, 0.0)
    a, m1, b, m2 = x1 + c, n1 + 2 * c, x2 + c, n2 + 2 * c
    z = _z(conf_level)
    with np.errstate(invalid="ignore", divide="ignore"):
        est = (a / m1) / (b / m2)
        se = np.sqrt(1 / a - 1 / m1 + 1 / b - 1 / m2)
        lower = np.exp(np.log(est) - z * se)
        upper = np.exp(np.log(est) + z * se)
    bad = ((x1 == 0) & (x2 == 0)) | (n1 <= 0) | (n2 <= 0)
    nan = np.nan
    return (np.where(bad, nan, est), np.where(bad, nan, lower), np.where(bad, nan, upper),
            corrected)


def poisson_rate_ratio(x1, t1, x2, t2, conf_level: float = 0.95):
    """Exact conditional interval for the rate ratio (x1/t1) / (x2/t2) (R's poisson.test).

    Conditional on x1 + x2, x1 is binomial with p = r t1 / (r t1 + t2); the
    Clopper-Pearson limits for p are mapped back to r. Undefined (NaN) when either
    exposure is 0 or there are no events at all; the upper limit is infinite when
    x2 = 0.

    Examples
    --------
    >>> est, lo, hi = poisson_rate_ratio(20, 1000, 10, 1000)
    >>> round(float(est), 3), round(float(lo), 4), round(float(hi), 4)
    (2.0, 0.8935, 4.7846)
    """
    x1, t1, x2, t2 = (np.asarray(v, dtype=float) for v in (x1, t1, x2, t2))
    n = x1 + x2
    p_lo, p_hi = clopper_pearson(x1, n, conf_level)
    with np.errstate(invalid="ignore", divide="ignore"):
        est = (x1 / t1) / (x2 / t2)
        lower = p_lo * t2 / ((1 - p_lo) * t1)
        upper = np.where(p_hi < 1, p_hi * t2 / ((1 - p_hi) * t1), np.inf)
    bad = (t1 <= 0) | (t2 <= 0) | (n <= 0)
    return np.where(bad, np.nan, est), np.where(bad, np.nan, lower), np.where(bad, np.nan, upper)
