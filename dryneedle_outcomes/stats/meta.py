"""Fixed-effect (inverse-variance) meta-analysis of independent estimates, with
Cochran's Q and I-squared: how much per-site (or per-subgroup) estimates differ.

One job: from estimates ``y_i`` with variances ``v_i``, the pooled estimate
``sum(w y) / sum(w)`` with ``w = 1 / v`` and SE ``1 / sqrt(sum(w))``, Cochran's
``Q = sum(w (y - pooled)^2)`` on ``k - 1`` df (chi-square p-value), and
``I2 = max(0, (Q - (k - 1)) / Q)`` (Higgins & Thompson 2002, Stat Med 21:1539-58;
Cochrane Handbook for Systematic Reviews of Interventions, section 10.10.2). As R's
``metafor::rma(yi, vi, method = "FE")`` (``tests/reference/subgroups/``).

Examples
--------
>>> out = fixed_effect([1.0, 3.0], [1.0, 1.0])
>>> out["estimate"], round(out["Q"], 6), round(out["I2"], 6)
(2.0, 2.0, 0.5)
"""

from __future__ import annotations

import numpy as np
from scipy import stats

from ..errors import AnalysisError


def fixed_effect(estimates, variances, conf_level: float = 0.95) -> dict:
    """Inverse-variance pooled estimate, Cochran's Q and I-squared (module docstring).

    Parameters
    ----------
    estimates, variances : array_like, shape (k,)
        ``k >= 2`` estimates and their (positive, finite) variances.
    conf_level : float

    Returns
    -------
    dict
        ``estimate``, ``std_error``, ``ci_lower``, ``ci_upper`` (normal), ``Q``,
        ``Q_df``, ``Q_p_value``, ``I2`` (a proportion, 0 to 1), ``k``.
    """
    y = np.asarray(estimates, dtype=float).ravel()
    v = np.asarray(variances, dtype=float).ravel()
    if y.size != v.size or y.size < 2:
        raise AnalysisError("a meta-analysis needs two or more estimates, each with a "
                            f"variance; got {y.size} estimates and {v.size} variances")
    if not (np.all(np.isfinite(y)) and np.all(np.isfinite(v)) and np.all(v > 0)):
        raise AnalysisError("estimates and variances must be finite, variances positive")
    w = 1.0 / v
    pooled = float(np.sum(w * y) / np.sum(w))
    se = float(1.0 / np.sqrt(np.sum(w)))
    q = float(np.sum(w * (y - pooled) ** 2))
    k = y.size
    z = stats.norm.ppf(0.5 + conf_level / 2.0)
    return {"estimate": pooled, "std_error": se, "ci_lower": pooled - z * se,
            "ci_upper": pooled + z * se, "Q": q, "Q_df": k - 1,
            "Q_p_value": float(stats.chi2.sf(q, k - 1)),
            "I2": max(0.0, (q - (k - 1)) / q) if q > 0 else 0.0, "k": k}


__all__ = ["fixed_effect"]
