"""Harms figures: adverse-event incidence by term and arm (a dot plot with CI whiskers),
odds ratios per unit of dose, and protocol deviations by reason and arm."""

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


def plot_harms_table(result, ax=None):
    """Participants with each harm (%) per arm, exact CI whiskers (a :class:`HarmsTable`).

    Examples
    --------
    >>> import dryneedle_outcomes as dno
    >>> from dryneedle_outcomes.harms import harms_table
    >>> ax = plot_harms_table(harms_table(dno.simulate_cohort(n_patients=40, seed=3)))
    >>> [line.get_label() for line in ax.lines]
    ['dry_needling', 'sham']
    """
    import matplotlib.pyplot as plt

    table = result.long
    keys = list(dict.fromkeys(zip(table["group"], table["term"], strict=True)))
    arms = list(dict.fromkeys(table["arm"]))
    position = {key: len(keys) - 1 - i for i, key in enumerate(keys)}
    colours = arm_colours(arms)
    offsets = dict(zip(arms, np.linspace(0.15, -0.15, len(arms)) if len(arms) > 1
                       else [0.0], strict=True))
    with paper_style():
        if ax is None:
            _, ax = plt.subplots(figsize=single_column(25 + 6 * len(keys)))
        for arm in arms:
            sub = table.loc[table["arm"] == arm]
            y = np.array([position[k] for k in zip(sub["group"], sub["term"], strict=True)],
                         dtype=float) + offsets[arm]
            ax.hlines(y, 100 * sub["ci_lower"], 100 * sub["ci_upper"], color=colours[arm],
                      lw=0.9, clip_on=False)
            ax.plot(100 * sub["estimate"].to_numpy(dtype=float), y, ls="none", marker="o",
                    ms=3.5, color=colours[arm], label=str(arm), clip_on=False)
        labels = {("serious", "serious"): "Serious", ("withdrawal", "withdrawal"):
                  "Withdrawal due to AE"}
        ax.set_yticks(range(len(keys)))
        ax.set_yticklabels([labels.get(k, term_label(*k)) for k in reversed(keys)])
        ax.set_ylim(-0.6, len(keys) - 0.4)
        ax.set_xlim(left=0)
        ax.set_xlabel(XLABELS["patient"])
        arm_legend(ax, loc="lower right")
    return ax


def plot_dose_response(result, ax=None):
    """Odds ratio per unit of dose, per term and covariate, on a log axis with CIs.

    Parameters
    ----------
    result : DoseResponse
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> import dryneedle_outcomes as dno
    >>> from dryneedle_outcomes.harms import dose_response
    >>> ax = plot_dose_response(dose_response(dno.simulate_cohort(n_patients=60, seed=3),
    ...                                       terms="any"))
    >>> len(ax.get_yticks())
    2
    """
    import matplotlib.pyplot as plt

    drawn = result.table["estimate"].notna()
    t = result.table.loc[drawn].reset_index(drop=True)
    # a term without an estimate (too few events: see result.warnings) is named, not lost
    missing = result.table.loc[~drawn, "term"].astype(str).unique().tolist()
    with paper_style():
        if ax is None:
            _, ax = plt.subplots(figsize=single_column(20 + 6 * max(len(t), 1)))
        y = np.arange(len(t))[::-1]
        ax.hlines(y, t["ci_lower"], t["ci_upper"], color="0.2", lw=1.2)
        ax.plot(t["estimate"], y, "s", color="0.2", ms=4)
        ax.axvline(1.0, color="0.3", lw=0.8)
        ax.set_xscale("log")
        ax.set_yticks(y)
        ax.set_yticklabels([f"{term_label('term', a)}: {literal(c.replace('_', ' '))}"
                            for a, c in zip(t["term"], t["covariate"])])
        ax.set_xlabel(f"Odds ratio per unit, association ({result.conf_level:.0%} CI)")
        if missing:
            ax.annotate("Not estimable (not drawn): " + ", ".join(literal(m) for m in missing),
                        xy=(0, 1), xycoords="axes fraction", xytext=(0, 4),
                        textcoords="offset points", fontsize=NOTE_FONTSIZE, color="0.3",
                        va="bottom")
    return ax


def plot_protocol_deviations(result, ax=None):
    """Needled sessions of contraindicated patients per reason, one bar per arm.

    Parameters
    ----------
    result : ProtocolDeviations
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib Axes
    """
    import matplotlib.pyplot as plt

    t = result.table
    arms = list(dict.fromkeys(t["arm"]))
    reasons = list(dict.fromkeys(t["reason"]))
    colours = arm_colours(arms)
    with paper_style():
        if ax is None:
            _, ax = plt.subplots(figsize=single_column(50))
        width = 0.8 / max(len(arms), 1)
        for i, arm in enumerate(arms):
            sub = t[t["arm"] == arm].set_index("reason").reindex(reasons)
            ax.barh(np.arange(len(reasons)) + i * width, sub["needled_sessions"],
                    height=width, color=colours[arm], label=arm)
        ax.set_yticks(np.arange(len(reasons)) + width * (len(arms) - 1) / 2)
        ax.set_yticklabels([literal(r) for r in reasons])
        ax.set_xlabel("Needled sessions of flagged patients")
        if arms:
            arm_legend(ax, loc="best")
    return ax
