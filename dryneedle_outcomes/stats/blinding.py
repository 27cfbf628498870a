"""Blinding indices from a table of guessed against actual allocation (engine: counts in).

The table has three guess rows (active, sham/placebo, don't know) and two columns
(actually active, actually sham), as in Bang et al. (2004) and the R package ``BI``.

**Bang's index** (Bang, Ni & Davis 2004, Control Clin Trials 25:143-156), per arm:
``BI = (correct - incorrect) / n`` with ``n`` every respondent of the arm (don't-know
included), i.e. ``(2 p_correct|guessed - 1) * p_guessed``. It runs from -1 (everyone
guesses the other arm) through 0 (guesses at random, or all don't know) to 1 (complete
unblinding). Its variance is that of a difference of two multinomial proportions,
``(p_c (1 - p_c) + p_i (1 - p_i) + 2 p_c p_i) / n``. Bang et al. suggest |BI| <= 0.2
as consistent with successful blinding; one-sided intervals answer "is there
unblinding (BI > 0)?".

**James' index** (James, Bloch, Lee, Kraemer & Fuller 1996, Stat Med 15:1421-1434),
over both arms: a weighted kappa-type measure of disagreement between guess and
allocation in which correct guesses weigh 0, incorrect ones 0.5 and don't-know 1,

    BI_J = (1 + P_dk + (1 - P_dk) K_d) / 2,   K_d = (P_o - P_e) / P_e,

with ``P_dk`` the proportion answering don't know, ``P_o`` and ``P_e`` the observed and
chance-expected weighted disagreement among those who guessed. It runs from 0 (complete
unblinding) through 0.5 (random guessing) to 1 (complete blinding); blinding is in
doubt when the upper confidence limit is below 0.5. Its large-sample variance is the
formula of James et al. (1996, appendix), as implemented in the R package ``BI``. When
everyone answers don't know, the index is 1 with variance 0 (James 1996, p. 1425).

Examples
--------
CRISP, Bang et al. (2004), Table 7 (rows: guessed active, guessed placebo, don't know;
columns: active, placebo):

>>> import numpy as np
>>> b = bang_index(np.array([[82, 27], [25, 29], [170, 83]]))
>>> np.round(b["estimate"], 4).tolist()
[0.2058, 0.0144]
>>> j = james_index(np.array([[82, 27], [25, 29], [170, 83]]))
>>> round(j["estimate"], 3)
0.748
"""

from __future__ import annotations

import numpy as np
from scipy import stats

from ..errors import AnalysisError

ALTERNATIVES = ("two-sided", "greater", "less")
#: James' default weights: rows guessed active / guessed sham, columns actual active /
#: sham (correct 0, incorrect 0.5); don't know weighs 1.
JAMES_WEIGHTS = np.array([[0.0, 0.5], [0.5, 0.0]])


def _check(counts) -> np.ndarray:
    x = np.asarray(counts, dtype=float)
    if x.shape != (3, 2):
        raise AnalysisError("a blinding table has 3 rows (guessed active, guessed sham, "
                            f"don't know) and 2 columns (active, sham); got shape {x.shape}")
    if (x < 0).any() or not np.all(np.isfinite(x)):
        raise AnalysisError("blinding counts must be finite and non-negative")
    return x


def _limits(est, se, conf_level: float, alternative: str, lo: float, hi: float):
    if alternative not in ALTERNATIVES:
        raise AnalysisError(f"alternative must be one of {', '.join(ALTERNATIVES)}, got "
                            f"{alternative!r}")
    if alternative == "two-sided":
        z = stats.norm.ppf(0.5 + conf_level / 2)
        return est - z * se, est + z * se
    z = stats.norm.ppf(conf_level)
    if alternative == "greater":            # one-sided lower bound
        return est - z * se, np.full_like(np.asarray(est, dtype=float), hi)
    return np.full_like(np.asarray(est, dtype=float), lo), est + z * se


def bang_index(counts, *, conf_level: float = 0.95,
               alternative: str = "two-sided") -> dict[str, np.ndarray]:
    """Bang's blinding index per arm (column) with its standard error and CI.

    Parameters
    ----------
    counts : array_like, shape (3, 2)
        Rows: guessed active, guessed sham, don't know; columns: actually active,
        actually sham.
    conf_level : float
    alternative : {"two-sided", "greater", "less"}
        One-sided intervals fix the other limit at 1 or -1 (as R's ``BI``).

    Returns
    -------
    dict
        ``estimate``, ``std_error``, ``ci_lower``, ``ci_upper``, ``n``: arrays of two
        (active arm, sham arm).
    """
    x = _check(counts)
    n = x.sum(axis=0)
    correct = np.array([x[0, 0], x[1, 1]])
    incorrect = np.array([x[1, 0], x[0, 1]])
    with np.errstate(divide="ignore", invalid="ignore"):
        pc, pi = correct / n, incorrect / n
        est = pc - pi
        se = np.sqrt((pc * (1 - pc) + pi * (1 - pi) + 2 * pc * pi) / n)
    lo, hi = _limits(est, se, conf_level, alternative, -1.0, 1.0)
    return {"estimate": est, "std_error": se, "ci_lower": np.asarray(lo, dtype=float),
            "ci_upper": np.asarray(hi, dtype=float), "n": n}


def james_index(counts, *, conf_level: float = 0.95, alternative: str = "two-sided",
                weights=None) -> dict[str, float]:
    """James' blinding index over both arms with its standard error and CI.

    Parameters
    ----------
    counts : array_like, shape (3, 2)
        As :func:`bang_index`.
    conf_level : float
    alternative : {"two-sided", "greater", "less"}
        One-sided intervals fix the other limit at 1 or 0.
    weights : array_like, shape (2, 2), optional
        Disagreement weights of the guessed rows (default: correct 0, incorrect 0.5).

    Returns
    -------
    dict
        ``estimate``, ``std_error``, ``ci_lower``, ``ci_upper``, ``n``.
    """
    x = _check(counts)
    w = JAMES_WEIGHTS if weights is None else np.asarray(weights, dtype=float)
    total = x.sum()
    if total == 0:
        raise AnalysisError("the blinding table is empty")
    if (x[:2] == 0).all():                   # everyone answered don't know
        est, se = 1.0, 0.0
    else:
        p = x[:2] / total                    # guessed rows, as proportions of everyone
        p_dk = x[2].sum() / total
        row = p.sum(axis=1)                  # P_i. among all respondents
        col = p.sum(axis=0)                  # P_.j minus the column's don't-know
        g = 1 - p_dk
        expected = np.outer(row, col)
        p_o = (w * p).sum() / g
        p_e = (w * expected).sum() / g ** 2
        kd = (p_o - p_e) / p_e
        est = (1 + p_dk + g * kd) / 2
        # James et al. (1996), appendix: the variance of the index
        extra = (w * row[:, None]).sum(axis=0)[None, :] + (w * col[None, :]).sum(axis=1)[:, None]
        num = (p * g ** 2 * (g * w - (1 + kd) * extra) ** 2).sum()
        den = 4 * (w * expected).sum() ** 2
        v2 = p_dk * g - g * (1 + kd) * (p_dk + g * (1 + kd) / 4)
        se = float(np.sqrt((num / den + v2) / total))
        est = float(est)
    lo, hi = _limits(np.float64(est), np.float64(se), conf_level, alternative, 0.0, 1.0)
    return {"estimate": est, "std_error": se, "ci_lower": float(lo), "ci_upper": float(hi),
            "n": float(total)}


__all__ = ["ALTERNATIVES", "JAMES_WEIGHTS", "bang_index", "james_index"]
