"""Between-arm comparisons of adverse-event counts: each arm against the reference arm.

No p-value per harm term by default: CONSORT Harms 2022 (Junqueira et al., BMJ
2023;381:e073725, item 17 explanation) and SAMPL (Lang & Altman 2013) advise against
testing each harm, since a trial is not powered for them and many tests of rare events
mislead both ways; report the counts, the risk difference with its interval, and test
only on request (``p_values=True``).

Proportions (``per="patient"``, ``per="session"``)
    ``risk_difference``: arm minus reference, Newcombe's hybrid score interval
    (method 10 of Newcombe 1998), always. ``risk_ratio`` only on request
    (``risk_ratio=True``): arm over reference with the log (Katz) interval; when exactly
    one arm has no events, 0.5 is added to every cell (Haldane's correction,
    ``corrected`` is True, stated in the notes: the estimate then depends on the 0.5
    rather than the data, e.g. 63, CI 4 to 997); undefined when neither arm has
    events. ``p_value`` (only with ``p_values=True``, else NaN and ``test`` "none"):
    Fisher's exact test, two-sided (``scipy.stats.fisher_exact``, equal to R's
    ``fisher.test``), the same for both rows.
Rates per needle (``per="100_needles"``)
    ``rate_ratio``: exact conditional interval (R's ``poisson.test`` with two rates),
    its exact p only with ``p_values=True``; undefined when an arm had no needles
    inserted (sham).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from ..results import COMPARISON_COLUMNS
from ..stats.intervals import newcombe_difference, poisson_rate_ratio
from ..stats.intervals import risk_ratio as _risk_ratio

#: The comparison schema's columns first, then the counts behind each comparison.
COLUMNS = (*COMPARISON_COLUMNS, "group", "term", "per", "test", "count", "denominator",
           "count_reference", "denominator_reference", "corrected")


def fisher_p(x1: int, n1: int, x2: int, n2: int) -> float:
    """Two-sided Fisher exact p-value of the 2x2 table [[x1, n1-x1], [x2, n2-x2]].

    Examples
    --------
    >>> round(fisher_p(7, 10, 1, 10), 6)     # R: fisher.test(matrix(c(7,1,3,9),2))$p.value
    0.019767
    """
    if n1 <= 0 or n2 <= 0:
        return float("nan")
    table = np.array([[x1, n1 - x1], [x2, n2 - x2]], dtype=np.int64)
    return float(stats.fisher_exact(table, alternative="two-sided").pvalue)


def rate_ratio_p(x1: float, t1: float, x2: float, t2: float) -> float:
    """Exact conditional two-sided p-value for equal rates (R's ``poisson.test``)."""
    n = int(x1 + x2)
    if t1 <= 0 or t2 <= 0 or n == 0:
        return float("nan")
    return float(stats.binomtest(int(x1), n, t1 / (t1 + t2)).pvalue)


def _pairs(counts: pd.DataFrame, reference: str):
    ref = counts.loc[counts["arm"] == reference].set_index(["group", "term"])
    for row in counts.loc[counts["arm"] != reference].itertuples(index=False):
        r = ref.loc[(row.group, row.term)]
        yield row, r


def compare_proportions(counts: pd.DataFrame, reference: str, per: str,
                        conf_level: float = 0.95, *, p_values: bool = False,
                        risk_ratio: bool = False) -> pd.DataFrame:
    """Risk difference of every arm against ``reference``; ratio and Fisher p on request."""
    rows = []
    for row, r in _pairs(counts, reference):
        x1, n1, x2, n2 = int(row.count), int(row.denominator), int(r["count"]), int(
            r["denominator"])
        p = fisher_p(x1, n1, x2, n2) if p_values else np.nan
        base = {"arm": row.arm, "reference": reference, "group": row.group, "term": row.term,
                "per": per, "p_value": p, "test": "fisher_exact" if p_values else "none",
                "count": x1,
                "denominator": n1, "count_reference": x2, "denominator_reference": n2}
        ok = n1 > 0 and n2 > 0
        lo, hi = newcombe_difference(x1, n1, x2, n2, conf_level) if ok else (np.nan, np.nan)
        rd = x1 / n1 - x2 / n2 if ok else np.nan
        rows.append({**base, "measure": "risk_difference", "estimate": rd,
                     "ci_lower": float(lo), "ci_upper": float(hi), "corrected": False})
        if not risk_ratio:
            continue
        est, lo, hi, corr = _risk_ratio(x1, n1, x2, n2, conf_level)
        rows.append({**base, "measure": "risk_ratio", "estimate": float(est),
                     "ci_lower": float(lo), "ci_upper": float(hi), "corrected": bool(corr)})
    return pd.DataFrame(rows, columns=list(COLUMNS))


def compare_rates(counts: pd.DataFrame, reference: str, per: str,
                  conf_level: float = 0.95, *, p_values: bool = False,
                  risk_ratio: bool = False) -> pd.DataFrame:
    """Rate ratio per needle (exact conditional) of every arm against ``reference``.

    ``risk_ratio`` is accepted for a common signature and ignored (the rate ratio is
    the measure per needle).
    """
    rows = []
    for row, r in _pairs(counts, reference):
        x1, t1, x2, t2 = row.count, row.denominator, r["count"], r["denominator"]
        est, lo, hi = poisson_rate_ratio(x1, t1, x2, t2, conf_level)
        rows.append({"arm": row.arm, "reference": reference, "group": row.group,
                     "term": row.term, "per": per, "measure": "rate_ratio",
                     "estimate": float(est), "ci_lower": float(lo), "ci_upper": float(hi),
                     "p_value": rate_ratio_p(x1, t1, x2, t2) if p_values else np.nan,
                "test": "poisson_exact" if p_values else "none",
                     "count": int(x1), "denominator": int(t1), "count_reference": int(x2),
                     "denominator_reference": int(t2), "corrected": False})
    return pd.DataFrame(rows, columns=list(COLUMNS))
