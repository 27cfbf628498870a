"""The saw-tooth of pain before and after needling across a course of sessions, per arm."""

from __future__ import annotations

import numpy as np

from ..instruments import get_instrument
from .legend import ci_label
from .style import arm_colours, arm_legend, literal, paper_style, single_column

#: Where a rating sits within its visit on the x axis (visit + offset).
TIMING_OFFSET = {"pre_session": -0.2, "single": 0.0, "post_session": 0.2}


def plot_saw_tooth(result, ax=None, *, ci: bool = True):
    """Draw an :class:`~dryneedle_outcomes.models.immediate_cumulative.ImmediateCumulativeResult`.

    Model-based means per arm at every visit and timing, joined in time order: the drop
    within a session (pre to post needling) and the rise, or not, to the next
    pre-needling value make the saw-tooth whose lower envelope is the immediate effect
    and whose upper envelope (the pre-needling values) the cumulative one. Pre-session
    means sit left of the visit, post-session means right; ``ci`` adds error bars.
    Returns the Axes.

    Examples
    --------
    >>> import dryneedle_outcomes as dno
    >>> c = dno.simulate_cohort(n_patients=60, seed=5, n_sessions=3, within_session=True)
    >>> ax = plot_saw_tooth(dno.immediate_cumulative(c))
    >>> [len(line.get_xdata()) for line in ax.lines if not line.get_label().startswith("_")]
    [7, 7]
    >>> import matplotlib.pyplot as plt; plt.close("all")
    """
    import matplotlib.pyplot as plt

    inst = get_instrument(result.outcome)
    with paper_style():
        if ax is None:
            _, ax = plt.subplots(figsize=single_column(60), layout="constrained")
        colours = arm_colours(list(result.arms), reference=result.reference_arm)
        mm = result.marginal_means
        for arm in result.arms:
            sub = mm[mm["arm"] == arm]
            x = sub["visit"].to_numpy(dtype=float) + sub["timing"].map(TIMING_OFFSET).to_numpy()
            y = sub["estimate"].to_numpy(dtype=float)
            ax.plot(x, y, color=colours[arm], marker="o", ms=3, lw=1, label=str(arm))
            if ci:
                err = np.vstack([y - sub["ci_lower"].to_numpy(float),
                                 sub["ci_upper"].to_numpy(float) - y])
                ax.errorbar(x, y, yerr=err, fmt="none", ecolor=colours[arm], elinewidth=0.6,
                            capsize=0, label=f"_{arm} CI")
        post = mm["timing"] == "post_session"
        visits = sorted(mm["visit"].unique())
        ax.set_xticks(visits)
        ax.set_xlabel("Visit (left: before needling, right: after)" if post.any()
                      else "Visit")
        level = f", {ci_label(result.conf_level)}" if ci else ""
        ax.set_ylabel(literal(f"{inst.label} (model mean{level})"))
        arm_legend(ax)
    return ax
