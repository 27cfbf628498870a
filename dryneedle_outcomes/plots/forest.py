"""Per-visit arm differences as a forest plot."""

from __future__ import annotations

import warnings

import numpy as np

from ..instruments import get_instrument
from .legend import ci_label
from .style import arm_colours, arm_legend, literal, paper_style, single_column

#: Why the +/- MCID lines left the forest plot (the warning of ``mcid=``).
MCID_LINES_DEPRECATED = (
    "plot_arm_differences(mcid=) is deprecated and ignored: a difference between arms is "
    "not judged against an individual-level MCID (IMMPACT, Dworkin et al., Pain "
    "2009;146:238-244), so the figure no longer draws lines at plus and minus the MCID")


def plot_arm_differences(result, ax=None, *, mcid: bool | None = None):
    """Forest plot of ``result.comparison`` (a :func:`~.fit_trajectory` result).

    One row per visit (and comparison arm): the estimate as a marker, its CI as a
    horizontal line, and a vertical line at no difference; the pre-specified primary
    visit (``result.primary_visit``) is labelled "(primary)". No line marks the MCID: a
    between-arm difference is not judged against an individual-level MCID (IMMPACT,
    Dworkin et al., Pain 2009;146:238-244); ``mcid`` is deprecated and ignored (a
    ``FutureWarning`` when given). Returns the Axes.

    Examples
    --------
    >>> import dryneedle_outcomes as dno
    >>> cohort = dno.simulate_cohort(n_patients=60, seed=2)
    >>> ax = plot_arm_differences(dno.fit_trajectory(cohort, primary_visit=6))
    >>> len(ax.get_yticks()), ax.get_yticklabels()[5].get_text()
    (7, 'Visit 6 (primary)')
    """
    import matplotlib.pyplot as plt

    if mcid is not None:
        warnings.warn(MCID_LINES_DEPRECATED, FutureWarning, stacklevel=2)
    primary = getattr(result, "primary_visit", None)
    diff = result.comparison
    inst = get_instrument(result.outcome)
    with paper_style():
        if ax is None:
            _, ax = plt.subplots(figsize=single_column(70))
        arms = list(dict.fromkeys(diff["arm"]))
        colours = arm_colours([result.reference_arm, *arms], reference=result.reference_arm)
        labels, ypos = [], []
        y = 0
        for arm in arms:
            sub = diff[diff["arm"] == arm]
            yy = y + np.arange(len(sub))[::-1]
            ax.hlines(yy, sub["ci_lower"], sub["ci_upper"], color=colours[arm], lw=1.2)
            ax.plot(sub["estimate"], yy, "s", color=colours[arm], ms=4,
                    label=f"{arm} - {result.reference_arm}")
            labels += [f"Visit {v}" + (" (primary)" if v == primary else "")
                       for v in sub["visit"]]
            ypos += list(yy)
            y += len(sub) + 1
        ax.axvline(0.0, color="0.3", lw=0.8)
        ax.set_yticks(ypos)
        ax.set_yticklabels(labels)
        label = inst.label[:1].lower() + inst.label[1:]
        ax.set_xlabel(f"Difference in {literal(label)}\n({ci_label(result.conf_level)})")
        if len(arms) == 1:
            # which side favours which arm (lower is better for pain scales)
            left, right = ((arms[0], result.reference_arm) if not inst.higher_is_better
                           else (result.reference_arm, arms[0]))
            left, right = (literal(str(x).replace("_", " ")) for x in (left, right))
            ax.annotate(f"\u2190 favours {left}", (0.01, 1.01), xycoords="axes fraction",
                        ha="left", va="bottom", fontsize=7, color="0.3")
            ax.annotate(f"favours {right} \u2192", (0.99, 1.01), xycoords="axes fraction",
                        ha="right", va="bottom", fontsize=7, color="0.3")
        if len(arms) > 1:
            arm_legend(ax)
    return ax
