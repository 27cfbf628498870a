"""Adverse-event incidence by term and arm: a dot plot with CI whiskers."""

from __future__ import annotations

import numpy as np

from .style import (
    NOTE_FONTSIZE,
    arm_colours,
    arm_label,
    arm_legend,
    literal,
    paper_style,
    single_column,
)

XLABELS = {
    "patient": "Participants with the event (%)",
    "session": "Appointments with the event (%)",
    "100_needles": "Events per 100 needle insertions",
}


def term_label(group: str, term: str) -> str:
    """Readable label of a rates-table row ("post_needling_soreness" -> "Post-needling soreness").

    Examples
    --------
    >>> term_label("term", "post_needling_soreness"), term_label("severity", "mild")
    ('Post-needling soreness', 'Severity: mild')
    """
    if group == "any":
        return "Any event"
    if group == "severity":
        return f"Severity: {literal(term)}"
    text = term.replace("post_needling", "post-needling").replace("_", " ")
    return literal(text[:1].upper() + text[1:])


def plot_adverse_events(rates, ax=None, *, groups=None):
    """Dot plot of adverse-event rates by term (y axis) and arm, with CI whiskers.

    One marker series per arm (a ``Line2D`` labelled with the arm, one point per term)
    and its whiskers (a ``LineCollection``). Proportions are drawn as percentages,
    rates per needle as events per 100 needles. An arm whose rate is undefined for
    every term (no needles, sham) is left out and named in a note under the axes.

    Parameters
    ----------
    rates : AdverseEventRates
        From :func:`dryneedle_outcomes.adverse_event_rates`.
    ax : matplotlib Axes, optional
    groups : sequence of str, optional
        Groups of rows to draw ("any", "term", "severity", "serious"); default all.

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> import dryneedle_outcomes as dno
    >>> from dryneedle_outcomes.harms import adverse_event_rates
    >>> rates = adverse_event_rates(dno.simulate_cohort(n_patients=40, seed=3), "session")
    >>> ax = plot_adverse_events(rates)
    >>> [line.get_label() for line in ax.lines]
    ['dry_needling', 'sham']
    """
    import matplotlib.pyplot as plt

    table = rates.table
    if groups is not None:
        table = table.loc[table["group"].isin(list(groups))]
    keys = list(dict.fromkeys(zip(table["group"], table["term"], strict=True)))
    arms = list(dict.fromkeys(table["arm"]))
    scale = 1.0 if rates.per == "100_needles" else 100.0
    position = {key: len(keys) - 1 - i for i, key in enumerate(keys)}
    colours = arm_colours(arms, reference=getattr(rates, "reference_arm", None))
    drawn = [a for a in arms if np.isfinite(table.loc[table["arm"] == a, "estimate"]).any()]
    offsets = dict(zip(drawn, np.linspace(0.15, -0.15, len(drawn)) if len(drawn) > 1
                       else [0.0], strict=True))
    with paper_style():
        if ax is None:
            _, ax = plt.subplots(figsize=single_column(25 + 6 * len(keys)))
        for arm in drawn:
            sub = table.loc[table["arm"] == arm]
            y = np.array([position[k] for k in zip(sub["group"], sub["term"], strict=True)],
                         dtype=float) + offsets[arm]
            ax.hlines(y, scale * sub["ci_lower"], scale * sub["ci_upper"],
                      color=colours[arm], lw=0.9, clip_on=False)
            ax.plot(scale * sub["estimate"].to_numpy(dtype=float), y, ls="none", marker="o",
                    ms=3.5, color=colours[arm], label=str(arm), clip_on=False)
        ax.set_yticks(range(len(keys)))
        ax.set_yticklabels([term_label(*k) for k in reversed(keys)])
        ax.set_ylim(-0.6, len(keys) - 0.4)
        ax.set_xlim(left=0)
        ax.set_xlabel(XLABELS.get(rates.per, "Rate"))
        arm_legend(ax, loc="lower right")
        left_out = [a for a in arms if a not in drawn]
        if left_out:
            ax.annotate(f"Not estimable (no needles): {', '.join(map(arm_label, left_out))}",
                        (0, -0.12 - 0.4 / max(len(keys), 1)), xycoords="axes fraction",
                        fontsize=NOTE_FONTSIZE, color="0.3", va="top")
    return ax
