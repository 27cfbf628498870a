"""Number needed to treat from a risk difference: Altman's intervals, whole numbers rounded up.

Used by :func:`~dryneedle_outcomes.responders.responders` (and re-exported there).

References
----------
- Altman DG (1998). Confidence intervals for the number needed to treat. BMJ
  317:1309-1312.
- Higgins JPT et al. (eds). Cochrane Handbook for Systematic Reviews of Interventions,
  version 6, section 15.4.4 (version 5.1: 12.5.4.1 and 12.5.4.5).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

# ---------------------------------------------------------------------- NNT (Altman 1998)
#: Slack of the rounding up (1/0.1 is 10.000000000000002 in floating point, and is 10).
_NNT_ROUNDING_SLACK = 1e-9


def _whole(value: float) -> int:
    """``value`` (> 0) rounded up to a whole number, as the Cochrane Handbook asks."""
    return int(np.ceil(value - _NNT_ROUNDING_SLACK))


def _nnt_side(value: float) -> str:
    """'NNTB x' for a positive NNT, 'NNTH x' for a negative one, 'infinity' for 1/0, with
    the number of patients rounded up to a whole number."""
    if not np.isfinite(value):
        return "infinity"
    return f"NNTB {_whole(value)}" if value > 0 else f"NNTH {_whole(abs(value))}"


def number_needed_to_treat(rd, ci_lower, ci_upper) -> pd.DataFrame:
    """Number needed to treat from a risk difference of *good* outcomes and its CI.

    ``nnt = 1 / rd``: positive is a number needed to treat to benefit (NNTB),
    negative a number needed to treat to harm (NNTH), infinite when ``rd == 0``.
    The confidence set is the reciprocal of the risk-difference interval (Altman
    1998): ``nnt_ci_lower = 1 / ci_upper`` and ``nnt_ci_upper = 1 / ci_lower``.
    When the interval excludes 0 both limits have the sign of ``nnt`` and are
    reported as "NNTB a to b" (or "NNTH a to b"); when it includes 0 the set runs
    through infinity and is reported as "NNTB a to infinity to NNTH b" with
    ``a = nnt_ci_lower`` and ``b = -nnt_ci_upper`` (Altman 1998, BMJ 317:1309, and the
    Cochrane Handbook: label each limit NNTB or NNTH).

    The labels (``nnt_label``, ``nnt_ci_label``: what tables and the report print) give
    whole numbers of patients, each rounded **up** (Cochrane Handbook for Systematic
    Reviews of Interventions, section 15.4.4 (12.5.4.1 in version 5.1): "It is
    convention to round the NNT up to the nearest whole number"; a risk difference of
    0.12 is an NNT of 9, one of 0.22 an NNT of 5). The limits are rounded up the same
    way, so that a label never claims fewer patients than the arithmetic gives. The
    columns ``nnt``, ``nnt_ci_lower`` and ``nnt_ci_upper`` keep the unrounded
    reciprocals for machine-readable tables.

    Parameters
    ----------
    rd, ci_lower, ci_upper : array_like
        Risk difference (treatment minus reference, in proportions of responders)
        and its confidence limits.

    Returns
    -------
    pandas.DataFrame
        ``nnt``, ``nnt_ci_lower``, ``nnt_ci_upper`` (decimals), ``nnt_label``,
        ``nnt_ci_label`` (whole numbers).

    Examples
    --------
    Altman (1998), figures 1-2: a risk difference of 10% with CI -5% to 25%.

    >>> t = number_needed_to_treat([0.10], [-0.05], [0.25])
    >>> t[["nnt_label", "nnt_ci_label"]].iloc[0].tolist()
    ['NNTB 10', 'NNTB 4 to infinity to NNTH 20']
    >>> t = number_needed_to_treat([0.12], [0.0375], [0.2025])
    >>> t[["nnt", "nnt_ci_lower", "nnt_ci_upper"]].round(3).iloc[0].tolist()
    [8.333, 4.938, 26.667]
    >>> t[["nnt_label", "nnt_ci_label"]].iloc[0].tolist()
    ['NNTB 9', 'NNTB 5 to 27']
    >>> number_needed_to_treat([-0.2], [-0.3], [-0.1])["nnt_ci_label"].iloc[0]
    'NNTH 4 to 10'
    """
    rd = np.atleast_1d(np.asarray(rd, dtype=float))
    lo = np.atleast_1d(np.asarray(ci_lower, dtype=float))
    hi = np.atleast_1d(np.asarray(ci_upper, dtype=float))
    with np.errstate(divide="ignore", invalid="ignore"):
        nnt = np.where(rd == 0, np.inf, 1.0 / rd)
        n_lo = np.where(hi == 0, np.inf, 1.0 / hi)
        n_hi = np.where(lo == 0, -np.inf, 1.0 / lo)
    labels, ci_labels = [], []
    # one label per comparison (a handful of visits x arms, never per patient)
    for r, a, b, low, high in zip(rd, n_lo, n_hi, lo, hi):
        if not np.isfinite(r):
            labels.append("")
            ci_labels.append("")
            continue
        labels.append("NNT infinity" if r == 0 else _nnt_side(1.0 / r))
        if not (np.isfinite(low) and np.isfinite(high)):
            ci_labels.append("")
        elif low > 0:                      # benefit: NNTB 1/upper to 1/lower
            ci_labels.append(f"NNTB {_whole(a)} to {_whole(b)}")
        elif high < 0:                     # harm: NNTH 1/|lower| to 1/|upper|
            ci_labels.append(f"NNTH {_whole(abs(b))} to {_whole(abs(a))}")
        else:                              # the interval contains 0: through infinity
            parts = [_nnt_side(a) if high > 0 else None, "infinity",
                     _nnt_side(b) if low < 0 else None]
            ci_labels.append(" to ".join(p for p in parts if p))
    return pd.DataFrame({"nnt": nnt, "nnt_ci_lower": n_lo, "nnt_ci_upper": n_hi,
                         "nnt_label": labels, "nnt_ci_label": ci_labels})


__all__ = ["number_needed_to_treat"]
