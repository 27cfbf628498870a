"""Subgroup forest plot (:meth:`~dryneedle_outcomes.SubgroupResult.plot`)."""

from __future__ import annotations

import numpy as np

from ..instruments import get_instrument
from ..tables import format_p
from .legend import ci_label
from .style import literal, paper_style, single_column


def _p(p: float) -> str:
    s = format_p(p)
    return "not estimable" if not s else (f"p {s}" if s.startswith("<") else f"p = {s}")


def plot_subgroups(result, ax=None, *, arm: str | None = None):
    """Forest plot of a :class:`~dryneedle_outcomes.SubgroupResult`.

    One row for the overall difference (a diamond), then per subgroup variable a header
    with its interaction p-value (and the continuous-scale one) and a row per level (a
    square and its CI); each row's label gives the patients per arm
    (``n arm/reference``). A vertical line marks no difference; the x label gives the CI
    level; the top corners say which side favours which arm. With more than two arms,
    ``arm`` chooses the comparison (default the first). Returns the Axes.

    Examples
    --------
    >>> import dryneedle_outcomes as dno
    >>> res = dno.subgroup_analysis(dno.simulate_cohort(n_patients=40, seed=4),
    ...                             subgroups=["sex"], visit=6, covariance="cs",
    ...                             df="satterthwaite")
    >>> ax = res.plot()
    >>> [t.get_text() for t in ax.get_yticklabels()][:2]
    ['All patients (n 20/20)', 'sex: interaction p = ...']
    >>> ax.get_xlabel()
    'Difference in First-step pain (VAS, mm) at visit 6 (95% CI)'
    """
    import matplotlib.pyplot as plt

    est = result.estimates
    arm = arm or str(est["arm"].iloc[0])
    est = est[est["arm"] == arm].reset_index(drop=True)
    inter = result.interaction
    inst = get_instrument(result.outcome)
    labels, ys, marks = [], [], []   # marks: (y, row or None, kind)
    y = 0
    for var, part in est.groupby("subgroup", sort=False):
        if var == "overall":
            r = part.iloc[0]
            labels.append(f"All patients (n {r.n_arm}/{r.n_reference})")
            marks.append((y, r, "overall"))
            ys.append(y)
            y -= 1.5
            continue
        ps = [f"interaction {_p(result.interaction_p(var))}"]
        cont = inter[(inter["subgroup"] == var) & (inter["scale"] == "continuous")]
        if len(cont):
            ps.append(f"continuous {_p(float(cont['p_value'].iloc[0]))}")
        labels.append(f"{literal(var)}: " + "; ".join(ps))
        ys.append(y)
        y -= 1
        for r in part.itertuples():
            labels.append(f"   {literal(r.level)} (n {r.n_arm}/{r.n_reference})")
            marks.append((y, r, "level"))
            ys.append(y)
            y -= 1
        y -= 0.5
    with paper_style():
        if ax is None:
            _, ax = plt.subplots(figsize=single_column(20 + 5.5 * len(labels)))
        for yy, r, kind in marks:
            lo, hi, e = float(r.ci_lower), float(r.ci_upper), float(r.estimate)
            if kind == "overall":
                ax.fill([lo, e, hi, e], [yy, yy + 0.3, yy, yy - 0.3], color="0.2")
            else:
                ax.hlines(yy, lo, hi, color="0.2", lw=1.0)
                ax.plot([e], [yy], "s", color="0.2", ms=4)
        overall = est[est["subgroup"] == "overall"]
        if len(overall):
            ax.axvline(float(overall["estimate"].iloc[0]), color="0.6", lw=0.6, ls=":")
        ax.axvline(0.0, color="0.3", lw=0.8)
        ax.set_yticks(ys)
        ax.set_yticklabels(labels)
        for text, label in zip(ax.get_yticklabels(), labels):
            if "interaction" in label:     # a subgroup variable's header
                text.set_fontweight("bold")
        ax.tick_params(axis="y", length=0)
        ax.set_ylim(min(ys) - 0.8, max(ys) + 0.8)
        ax.set_xlabel(f"Difference in {literal(inst.label)} at visit {result.visit} "
                      f"({ci_label(result.conf_level)})")
        left, right = ((arm, result.reference_arm) if not inst.higher_is_better
                       else (result.reference_arm, arm))
        left, right = (literal(str(x).replace("_", " ")) for x in (left, right))
        ax.annotate(f"\u2190 favours {left}", (0.01, 1.01), xycoords="axes fraction",
                    ha="left", va="bottom", fontsize=7, color="0.3")
        ax.annotate(f"favours {right} \u2192", (0.99, 1.01), xycoords="axes fraction",
                    ha="right", va="bottom", fontsize=7, color="0.3")
        finite = est[["ci_lower", "ci_upper"]].to_numpy(dtype=float)
        if np.isfinite(finite).any():
            lo, hi = np.nanmin(finite), np.nanmax(finite)
            pad = 0.05 * (hi - lo if hi > lo else 1.0)
            ax.set_xlim(min(lo, 0.0) - pad, max(hi, 0.0) + pad)
    return ax


__all__ = ["plot_subgroups"]
