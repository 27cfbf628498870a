"""Responders: the proportion reaching the definition per visit by arm, with Wilson CIs."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from .legend import ci_label
from .style import arm_colours, arm_legend, literal, paper_style, single_column
from .trajectory import mark_visits, visit_positions


def plot_responders(result, ax=None, *, percent: bool = True, dodge: float = 0.08):
    """Draw a :class:`~dryneedle_outcomes.responders.RespondersResult`.

    One line of points per arm (the proportion of responders at each visit) with
    Wilson score error bars (their level in the y label, "95% CI"); each visit at its
    time (weeks since baseline when the visits are dated, as in
    :func:`~dryneedle_outcomes.plots.plot_trajectory`), follow-up visits shaded; arms
    are dodged horizontally by ``dodge`` (weeks, or visits) so their bars do not
    overlap.

    Parameters
    ----------
    result : RespondersResult
    ax : matplotlib Axes, optional
        Drawn on a new single-column figure when omitted.
    percent : bool
        Y axis in percent (default) or as proportions.
    dodge : float
        Total horizontal spread of the arms at a visit.

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> import dryneedle_outcomes as dno
    >>> from dryneedle_outcomes.responders import responders
    >>> res = responders(dno.simulate_cohort(n_patients=60, seed=5))
    >>> ax = plot_responders(res)
    >>> len(ax.containers)          # one error-bar container per arm
    2
    >>> import matplotlib.pyplot as plt; plt.close("all")
    """
    import matplotlib.pyplot as plt

    table = result.table
    arms = list(result.extra.get("arms", ())) or list(dict.fromkeys(table["arm"]))
    scale = 100.0 if percent else 1.0
    with paper_style():
        if ax is None:
            _, ax = plt.subplots(figsize=single_column(60), layout="constrained")
        colours = arm_colours(arms, reference=getattr(result, "reference_arm", None) or None)
        visits = sorted(int(v) for v in table["visit"].unique())
        frame = SimpleNamespace(visits=visits,
                                visit_days=dict(result.extra.get("visit_days") or {}),
                                session_visits=result.extra.get("session_visits"))
        where, label = visit_positions(frame)
        offsets = np.linspace(-dodge, dodge, len(arms)) if len(arms) > 1 else [0.0]
        for off, arm in zip(offsets, arms):
            sub = table[table["arm"] == arm].sort_values("visit")
            x = sub["visit"].map(where).to_numpy(dtype=float) + off
            y = sub["estimate"].to_numpy(dtype=float) * scale
            lower = np.clip(y - sub["ci_lower"].to_numpy(dtype=float) * scale, 0, None)
            upper = np.clip(sub["ci_upper"].to_numpy(dtype=float) * scale - y, 0, None)
            ax.errorbar(x, y, yerr=np.vstack([lower, upper]), color=colours[arm], marker="o",
                        ms=3, capsize=2, elinewidth=0.8, label=str(arm))
        mark_visits(ax, frame, where, label)
        level = ci_label(getattr(result, "conf_level", 0.95))
        ax.set_ylabel(f"Responders (%, {level})" if percent
                      else f"Proportion of responders ({level})")
        ax.set_ylim(0, scale * 1.02)
        ax.set_title(f"Responders: {literal(result.definition)}", loc="left")
        arm_legend(ax)
    return ax
