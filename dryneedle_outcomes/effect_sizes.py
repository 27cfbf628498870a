"""Mean difference and standardised mean difference (Hedges' g) of improvement per visit.

Per visit and arm, the improvement from baseline (``Cohort.change_from_baseline``'s
``improvement``: positive is better whatever the instrument's direction) of the
patients observed at the visit (observed cases) is summarised by its mean and standard
deviation; each arm is compared with the reference arm by

- the mean difference (arm minus reference) with the pooled-variance Student t
  interval (R's ``t.test(var.equal = TRUE)``), and
- Hedges' g, the standardised mean difference with the small-sample correction
  ``g = J(m) (mean_1 - mean_2) / s_pooled``, ``J(m) = Gamma(m/2) / (sqrt(m/2)
  Gamma((m-1)/2))``, ``m = n_1 + n_2 - 2`` (Hedges 1981; Hedges & Olkin 1985, ch. 5),
  with the large-sample variance ``1/n_1 + 1/n_2 + g^2 / (2 (n_1 + n_2))`` and a normal
  (Wald) interval, exactly as R's ``metafor::escalc(measure = "SMD", vtype = "LS")``
  (tests/reference/effect_sizes).

Observed cases: the means assume visits missing completely at random; the model-based
mean differences of :func:`~dryneedle_outcomes.fit_trajectory` (MMRM, valid under
missing at random) are the primary continuous analysis, and g here is a scale-free
companion for meta-analysis and comparison across instruments.

References
----------
- Hedges LV (1981). Distribution theory for Glass's estimator of effect size and
  related estimators. J Educ Stat 6:107-128.
- Hedges LV, Olkin I (1985). Statistical Methods for Meta-Analysis. Academic Press.
- Viechtbauer W (2010). Conducting meta-analyses in R with the metafor package.
  J Stat Softw 36(3):1-48.

Examples
--------
>>> g = hedges_g([10.0], [4.0], [20], [8.0], [6.0], [22])
>>> round(float(g["estimate"].iloc[0]), 4)
0.3812
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import special, stats

from .tables import TableResult

EFFECT_COLUMNS = ("arm", "reference", "visit", "n_arm", "mean_arm", "sd_arm", "n_reference",
                  "mean_reference", "sd_reference", "mean_difference", "md_ci_lower",
                  "md_ci_upper", "estimate", "std_error", "ci_lower", "ci_upper")


def _correction(m):
    """Hedges' exact small-sample factor J(m) (m = degrees of freedom), via log-gamma."""
    m = np.asarray(m, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.exp(special.gammaln(m / 2) - 0.5 * np.log(m / 2)
                      - special.gammaln((m - 1) / 2))


def hedges_g(mean1, sd1, n1, mean2, sd2, n2, *, conf_level: float = 0.95) -> pd.DataFrame:
    """Hedges' g of group 1 minus group 2, its large-sample SE and Wald CI (vectorised).

    Parameters
    ----------
    mean1, sd1, n1, mean2, sd2, n2 : array_like
        Means, standard deviations (n - 1 denominators) and sizes of the two groups.
    conf_level : float

    Returns
    -------
    pandas.DataFrame
        ``estimate`` (g), ``std_error`` (sqrt of metafor's ``vtype = "LS"`` variance),
        ``ci_lower``, ``ci_upper``, and ``sd_pooled``.

    Examples
    --------
    >>> hedges_g([5.0], [2.0], [10], [3.0], [2.0], [10])[["estimate"]].round(4).iloc[0].tolist()
    [0.9576]
    """
    m1, s1, k1 = (np.asarray(x, dtype=float) for x in (mean1, sd1, n1))
    m2, s2, k2 = (np.asarray(x, dtype=float) for x in (mean2, sd2, n2))
    df = k1 + k2 - 2
    with np.errstate(invalid="ignore", divide="ignore"):
        sp = np.sqrt(((k1 - 1) * s1 ** 2 + (k2 - 1) * s2 ** 2) / df)
        g = _correction(df) * (m1 - m2) / sp
        v = 1 / k1 + 1 / k2 + g ** 2 / (2 * (k1 + k2))
    se = np.sqrt(v)
    z = stats.norm.ppf(0.5 + conf_level / 2)
    return pd.DataFrame({"estimate": g, "std_error": se, "ci_lower": g - z * se,
                         "ci_upper": g + z * se, "sd_pooled": sp})


def standardised_differences(post: pd.DataFrame, *, visits, arms, reference: str,
                             conf_level: float = 0.95) -> pd.DataFrame:
    """Mean difference in improvement and Hedges' g per visit, each arm vs ``reference``.

    Parameters
    ----------
    post : DataFrame
        Observed post-baseline rows with a baseline: ``arm`` (str), ``visit``,
        ``improvement``.
    visits, arms, reference, conf_level
        As :func:`~dryneedle_outcomes.responders.responders`.

    Returns
    -------
    pandas.DataFrame
        :data:`EFFECT_COLUMNS`: per visit and arm the sizes, means and SDs of the
        improvement in the arm and the reference, the mean difference with its
        pooled-variance t interval, and g (``estimate``) with its SE and CI.
    """
    others = [a for a in arms if a != reference]
    sub = post.loc[post["visit"].isin(list(visits)), ["arm", "visit", "improvement"]]
    agg = sub.groupby(["visit", "arm"])["improvement"].agg(["size", "mean", "std"])
    grid = pd.MultiIndex.from_product([list(visits), list(arms)], names=["visit", "arm"])
    agg = agg.reindex(grid)
    ref = agg.xs(reference, level="arm")
    frames = []
    for arm in others:                           # arms, not patients
        cur = agg.xs(arm, level="arm")
        frames.append(pd.DataFrame({
            "arm": arm, "reference": reference, "visit": cur.index.to_numpy(),
            "n_arm": cur["size"].to_numpy(), "mean_arm": cur["mean"].to_numpy(),
            "sd_arm": cur["std"].to_numpy(), "n_reference": ref["size"].to_numpy(),
            "mean_reference": ref["mean"].to_numpy(), "sd_reference": ref["std"].to_numpy()}))
    if not frames:
        return pd.DataFrame(columns=list(EFFECT_COLUMNS))
    d = pd.concat(frames, ignore_index=True)
    g = hedges_g(d["mean_arm"], d["sd_arm"], d["n_arm"], d["mean_reference"],
                 d["sd_reference"], d["n_reference"], conf_level=conf_level)
    d["mean_difference"] = d["mean_arm"] - d["mean_reference"]
    df = d["n_arm"] + d["n_reference"] - 2
    with np.errstate(invalid="ignore", divide="ignore"):
        se_md = g["sd_pooled"] * np.sqrt(1 / d["n_arm"] + 1 / d["n_reference"])
        t = stats.t.ppf(0.5 + conf_level / 2, df.where(df > 0))
    d["md_ci_lower"] = d["mean_difference"] - t * se_md
    d["md_ci_upper"] = d["mean_difference"] + t * se_md
    for col in ("estimate", "std_error", "ci_lower", "ci_upper"):
        d[col] = g[col].to_numpy()
    for col in ("n_arm", "n_reference"):
        d[col] = d[col].fillna(0).astype(int)
    return d[list(EFFECT_COLUMNS)]


def effect_size_table(frame: pd.DataFrame, reference: str, conf_level: float) -> TableResult:
    """``frame`` (:func:`standardised_differences`) as a TableResult for papers."""
    level = f"{conf_level:.0%}"
    notes = (
        "Improvement from baseline (positive = better), observed cases at each visit "
        "(assumes missing completely at random; the trajectory model's differences are "
        "the primary continuous analysis).",
        f"Mean difference: arm minus {reference}, {level} CI by the pooled-variance t "
        f"interval. Hedges' g: standardised mean difference with the exact small-sample "
        f"correction (Hedges & Olkin 1985), {level} CI from the large-sample variance "
        "1/n1 + 1/n2 + g^2/(2(n1 + n2)) (metafor escalc SMD, vtype LS).",
    )
    cols = ("arm", "reference", "visit", "n_arm", "n_reference", "mean_difference",
            "md_ci_lower", "md_ci_upper", "estimate", "ci_lower", "ci_upper")
    return TableResult(table=frame.copy(), columns=cols,
                       title=f"Mean difference in improvement and Hedges' g vs {reference} "
                             f"({level} CI)", notes=notes, conf_level=conf_level, digits=2,
                       labels={"estimate": "Hedges' g", "ci": "{level} CI (g)",
                               "md_ci": "{level} CI (difference)"})


__all__ = ["EFFECT_COLUMNS", "effect_size_table", "hedges_g", "standardised_differences"]
