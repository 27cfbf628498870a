"""Log-rank and Fleming-Harrington G-rho tests, matching R's ``survival::survdiff``.

:func:`logrank` reproduces ``survdiff(Surv(time, event) ~ group + strata(s), rho=)``
(survival 3.5-3, C routine ``survdiff2``): observed and expected events per group
summed over strata, the hypergeometric variance matrix, and the chi-square statistic
on k - 1 degrees of freedom.

References
----------
- Mantel N (1966). Cancer Chemother Rep 50:163-170.
- Harrington DP, Fleming TR (1982). Biometrika 69:553-566 (the G-rho family).
- Therneau TM (2023). A Package for Survival Analysis in R, version 3.5-3
  (``survdiff``, ``survdiff.fit``, ``src/survdiff2.c``).

Examples
--------
>>> res = logrank([1, 2, 3, 4, 5, 6, 7, 8], [1, 1, 1, 0, 1, 1, 0, 1],
...               ["a", "b", "a", "b", "a", "b", "a", "b"])
>>> round(float(res["statistic"]), 4), res["df"]   # R: survdiff(...)$chisq
(0.4476, 1)
>>> res.table.columns.tolist()
['group', 'n', 'observed', 'expected', 'o_minus_e_sq_over_e', 'o_minus_e_sq_over_v']

Matches R's ``survdiff``. Golden values: ``tests/reference/survival_km/``
(``reference.json``, made by the ``make_reference.R`` there from the data beside it);
checked in ``tests/test_survival_km.py``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from ...errors import AnalysisError
from .kaplan_meier import as_event, as_time, distinct_times

_KEYS = ("statistic", "df", "p_value", "table", "variance", "rho", "n_strata", "warnings")


@dataclass(frozen=True, eq=False)
class LogRankResult:
    """Result of :func:`logrank` (R's ``survdiff`` object).

    Supports mapping access: ``res["p_value"]``, ``res.keys()``, ``dict(res)``.

    Attributes
    ----------
    statistic : float
        Chi-square statistic (R's ``chisq``).
    df : int
        Number of groups with expected > 0, minus 1.
    p_value : float
        Upper tail of chi-square(df) (``pchisq(chisq, df, lower.tail=FALSE)``); NaN
        when df = 0 (R reports 0 there).
    table : DataFrame
        One row per group (sorted labels, or category order for a pandas
        Categorical): ``group``, ``n``, ``observed``, ``expected``,
        ``o_minus_e_sq_over_e`` ((O-E)^2/E), ``o_minus_e_sq_over_v`` ((O-E)^2/V with V
        the diagonal of the variance matrix), summed over strata as print.survdiff.
    variance : DataFrame
        The k x k variance matrix of O - E (R's ``var``), labelled by group.
    rho : float
    n_strata : int
    warnings : list of str
    """

    statistic: float
    df: int
    p_value: float
    table: pd.DataFrame
    variance: pd.DataFrame
    rho: float
    n_strata: int
    warnings: list[str] = field(default_factory=list)

    def keys(self) -> tuple[str, ...]:
        return _KEYS

    def __getitem__(self, key: str):
        if key not in _KEYS:
            raise KeyError(f"{key!r}; available: {', '.join(_KEYS)}")
        return getattr(self, key)

    def as_dict(self) -> dict:
        """The result as a plain dict (same keys as :meth:`keys`)."""
        return {k: getattr(self, k) for k in _KEYS}


def _codes(values, name: str, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Integer codes 0..k-1 and the sorted labels (category order for a Categorical),
    refusing missing values."""
    if isinstance(getattr(values, "dtype", None), pd.CategoricalDtype):
        cat = pd.Categorical(values).remove_unused_categories()
        codes, labels = cat.codes.astype(np.int64), np.asarray(cat.categories)
    else:
        arr = values.to_numpy() if isinstance(values, pd.Series) else np.asarray(values)
        if arr.ndim != 1:
            raise AnalysisError(f"{name} must be one-dimensional, got shape {arr.shape}")
        codes, uniques = pd.factorize(arr, sort=False)
        # sort the (few) distinct labels, as R's factor levels, and recode
        order = pd.Index(uniques).argsort()
        recode = np.empty(order.size, dtype=np.int64)
        recode[order] = np.arange(order.size)
        labels = np.asarray(uniques)[order]
        codes = np.where(codes >= 0, recode[np.maximum(codes, 0)], -1)
    if codes.size != n:
        raise AnalysisError(f"{name} must have one value per time ({n}), got {codes.size}")
    miss = codes < 0
    if miss.any():
        first = int(np.flatnonzero(miss)[0])
        raise AnalysisError(f"{name} has {int(miss.sum())} missing value(s) (first at position "
                            f"{first}); exclude those subjects explicitly before the test "
                            "(R's survdiff drops them through na.action)")
    return codes, labels


def logrank(time, event, group, *, strata=None, rho: float = 0.0) -> LogRankResult:
    """Log-rank (rho = 0) or Fleming-Harrington G-rho test, as R's ``survdiff``.

    Parameters
    ----------
    time : array-like of float
        Follow-up times, finite and >= 0 (merged up to rounding as survdiff's
        ``timefix=TRUE``).
    event : array-like of 0/1 or bool
    group : array-like
        Group labels; two or more distinct values, none missing.
    strata : array-like, optional
        Stratum labels (``+ strata(s)`` in the formula): expected counts and
        variances are computed within strata and summed. None missing: exclude
        such subjects yourself, so nothing is dropped silently.
    rho : float, default 0
        Weight S(t-)^rho at each event time, S the left-continuous Kaplan-Meier of
        the pooled stratum: 0 is the log-rank test, 1 the Peto-Peto modification of
        the Gehan-Wilcoxon test.

    Returns
    -------
    LogRankResult

    Notes
    -----
    As in ``survdiff``, groups with expected count 0 are left out of the test; of
    the remaining k groups the first is dropped and the (k-1) x (k-1) block of the
    variance matrix is solved, chisq = (O-E)' V^- (O-E) (V has rank k-1, so this is
    a generalised inverse of the full matrix). If that block is singular (R stops
    with an error) the Moore-Penrose inverse is used and a warning is recorded.

    Examples
    --------
    >>> res = logrank([5, 8, 8, 12, 3, 4, 4, 9], [1, 1, 0, 1, 1, 1, 1, 0],
    ...               [0, 0, 0, 0, 1, 1, 1, 1])
    >>> res.table[["group", "observed", "expected"]]
       group  observed  expected
    0      0       3.0  4.192857
    1      1       3.0  1.807143
    >>> round(res.p_value, 4)    # R: chisq 1.414895, p 0.2342
    0.2342
    """
    t = as_time(time)
    e = as_event(event, t.size)
    n = t.size
    g, labels = _codes(group, "group", n)
    k = labels.size
    if k < 2:
        raise AnalysisError(f"group has {k} distinct value; the test needs at least 2 groups")
    if strata is None:
        s = np.zeros(n, dtype=np.int64)
    else:
        s, _ = _codes(strata, "strata", n)
    rho = float(rho)
    if not np.isfinite(rho):
        raise AnalysisError(f"rho must be a finite number, got {rho!r}")
    utime, tcode = distinct_times(t)
    m = utime.size

    # one block per distinct (stratum, time), ordered by stratum then time
    blocks, block_of = np.unique(s * m + tcode, return_inverse=True)
    block_of = block_of.reshape(-1)
    nb = blocks.size
    block_stratum = blocks // m
    cells = block_of * k + g
    at_time = np.bincount(cells, minlength=nb * k).reshape(nb, k).astype(float)
    deaths_g = np.bincount(cells, weights=e, minlength=nb * k).reshape(nb, k)

    # at risk per group: reverse cumulative count within the stratum
    rev = np.vstack([np.cumsum(at_time[::-1], axis=0)[::-1], np.zeros((1, k))])
    stratum_start = np.r_[True, block_stratum[1:] != block_stratum[:-1]]
    stratum_index = np.cumsum(stratum_start) - 1
    next_start = np.append(np.flatnonzero(stratum_start)[1:], nb)
    # only event blocks enter the test (the pooled KM does not move elsewhere)
    ev = deaths_g.sum(axis=1) > 0
    risk = rev[:nb][ev] - rev[next_start[stratum_index[ev]]]
    deaths_g = deaths_g[ev]
    stratum_ev = stratum_index[ev]
    nrisk = risk.sum(axis=1)
    deaths = deaths_g.sum(axis=1)

    if rho != 0:
        # left-continuous pooled KM within the stratum (survdiff2's kaplan[])
        km = pd.Series((nrisk - deaths) / nrisk).groupby(stratum_ev).cumprod()
        wt = km.groupby(stratum_ev).shift(1, fill_value=1.0).to_numpy() ** rho
    else:
        wt = np.ones(nrisk.size)

    observed = wt @ deaths_g
    expected = (wt * deaths / nrisk) @ risk
    # hypergeometric variance; a block with one subject at risk adds nothing (survdiff2)
    has_var = nrisk > 1
    c = np.zeros(nrisk.size)
    nr, dr = nrisk[has_var], deaths[has_var]
    c[has_var] = wt[has_var] ** 2 * dr * (nr - dr) / (nr * (nr - 1))
    var = np.diag(c @ risk) - (risk * (c / nrisk)[:, None]).T @ risk

    warns: list[str] = []
    use = expected > 0
    df = int(use.sum()) - 1
    if df < 1:
        stat = 0.0
        p = np.nan
        warns.append(f"only {df + 1} group(s) have expected events > 0; there is no test "
                     "(R's survdiff reports chisq = 0 and p = 0)")
    else:
        diff = (observed - expected)[use][1:]
        vv = var[np.ix_(use, use)][1:, 1:]
        try:
            sol = np.linalg.solve(vv, diff)
        except np.linalg.LinAlgError:
            sol = np.linalg.pinv(vv) @ diff
            warns.append("the variance matrix of O - E is singular (R's survdiff stops here); "
                         "the Moore-Penrose inverse was used")
        stat = float(sol @ diff)
        p = float(stats.chi2.sf(stat, df))

    o_e2 = (observed - expected) ** 2
    vdiag = np.diag(var)
    table = pd.DataFrame({
        "group": labels,
        "n": np.bincount(g, minlength=k),
        "observed": observed,
        "expected": expected,
        "o_minus_e_sq_over_e": _ratio(o_e2, expected),
        "o_minus_e_sq_over_v": _ratio(o_e2, vdiag),
    })
    variance = pd.DataFrame(var, index=labels, columns=labels)
    return LogRankResult(statistic=stat, df=max(df, 0), p_value=p, table=table,
                         variance=variance, rho=rho, n_strata=int(s.max()) + 1,
                         warnings=warns)


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """num / den, NaN where den = 0 (R gives NaN or Inf there)."""
    out = np.full(num.shape, np.nan)
    np.divide(num, den, out=out, where=den != 0)
    return out


#: Integer codes and labels of a grouping column, for :mod:`.interval_test`.
group_codes = _codes
