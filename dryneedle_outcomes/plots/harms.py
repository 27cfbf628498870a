"""Harms figures: adverse-event incidence by term and arm (a dot plot with CI whiskers),
odds ratios per unit of dose, and protocol deviations by reason and arm."""

from __future__ import annotations

import numpy as np

from .legend import ci_label
from .style import (
    NOTE_FONTSIZE,
    arm_colours,
    arm_label,
    arm_legend,
    literal,
    paper_style,
    single_column,
)

#: Characters per line of the x-axis label of the adverse-event figures.
XLABEL_WIDTH = 28

XLABELS = {
    "patient": "Participants with the event (%)",
    "session": "Appointments with the event (%)",
    "100_needles": "Events per 100 needle insertions",
}


#: The labelled blocks of an adverse-event figure, top to bottom: each group of the
#: rates table goes in its block, under the block's heading (CONSORT Harms 2022 reports
#: events by term, severity and seriousness separately).
BLOCKS = (("Overall", ("any",)), ("By term", ("term",)), ("By severity", ("severity",)),
          ("Serious events and withdrawals", ("serious", "withdrawal")))

#: Words written with a hyphen when a term is put into sentence case.
_COMPOUNDS = {"post needling": "post-needling", "pre needling": "pre-needling"}

_FIXED = {("any", "any"): "Any adverse event", ("serious", "serious"): "Serious adverse event",
          ("withdrawal", "withdrawal"): "Withdrawal due to an adverse event"}


def sentence_case(text: str) -> str:
    """A vocabulary name as a label: underscores as spaces, the first letter capitalised,
    compound adjectives hyphenated ("post_needling_soreness" -> "Post-needling soreness").

    Examples
    --------
    >>> sentence_case("post_needling_soreness"), sentence_case("needle_site_pain")
    ('Post-needling soreness', 'Needle site pain')
    >>> sentence_case("mild")
    'Mild'
    """
    words = " ".join(str(text).replace("_", " ").split())
    for plain, hyphenated in _COMPOUNDS.items():
        words = words.replace(plain, hyphenated)
    return words[:1].upper() + words[1:]


def term_label(group: str, term: str) -> str:
    """Readable label of a rates-table row, in sentence case, drawn literally.

    Inside its block (``BLOCKS``) a row needs no prefix: a severity row is "Mild".

    Examples
    --------
    >>> term_label("term", "post_needling_soreness"), term_label("severity", "mild")
    ('Post-needling soreness', 'Mild')
    >>> term_label("any", "any"), term_label("serious", "serious")
    ('Any adverse event', 'Serious adverse event')
    """
    if (group, term) in _FIXED:
        return _FIXED[(group, term)]
    return literal(sentence_case(term))


def _layout(keys: list) -> tuple[dict, list, list]:
    """Rows top to bottom in ``BLOCKS`` order, a heading row over each block and a
    blank row between blocks: each key's y, and every labelled row's y and label (the
    headings' labels are the blocks' names)."""
    groups = {g for g, _ in keys}
    known = {g for _, gs in BLOCKS for g in gs}
    blocks = [(name, gs) for name, gs in BLOCKS if groups & set(gs)]
    other = [g for g in dict.fromkeys(g for g, _ in keys) if g not in known]
    blocks += [(sentence_case(g), (g,)) for g in other]
    rows: list = []          # top to bottom: ("heading", name) or ("key", key)
    for i, (name, gs) in enumerate(blocks):
        if i:
            rows.append(("gap", None))
        rows.append(("heading", name))
        rows += [("key", k) for k in keys if k[0] in gs]
    y = {row: len(rows) - 1 - i for i, row in enumerate(rows)}
    position = {row[1]: y[row] for row in rows if row[0] == "key"}
    ticks = [(y[row], row) for row in reversed(rows) if row[0] != "gap"]   # bottom up
    return position, [t for t, _ in ticks], [r for _, r in ticks]


def _dot_plot(ax, table, arms: list, drawn: list, colours: dict, scale: float,
              labels: dict | None = None) -> None:
    """Markers and whiskers per arm, one labelled block per group of rows."""
    keys = list(dict.fromkeys(zip(table["group"], table["term"], strict=True)))
    position, ticks, rows = _layout(keys)
    offsets = dict(zip(drawn, np.linspace(0.15, -0.15, len(drawn)) if len(drawn) > 1
                       else [0.0], strict=True))
    for arm in drawn:
        sub = table.loc[table["arm"] == arm]
        y = np.array([position[k] for k in zip(sub["group"], sub["term"], strict=True)],
                     dtype=float) + offsets[arm]
        ax.hlines(y, scale * sub["ci_lower"], scale * sub["ci_upper"],
                  color=colours[arm], lw=0.9, clip_on=False)
        ax.plot(scale * sub["estimate"].to_numpy(dtype=float), y, ls="none", marker="o",
                ms=3.5, color=colours[arm], label=str(arm), clip_on=False)
    labels = labels or {}
    ax.set_yticks(ticks)
    ax.set_yticklabels([row[1] if row[0] == "heading" else labels.get(row[1],
                        term_label(*row[1])) for row in rows])
    for tick, row in zip(ax.get_yticklabels(), rows, strict=True):
        if row[0] == "heading":
            tick.set_fontweight("bold")
    ax.tick_params(axis="y", length=0)      # rows are named, not measured
    ax.set_ylim(-0.6, max(ticks) + 0.6)
    ax.set_xlim(left=0)


def figure_height_mm(keys) -> float:
    """Height (mm) of an adverse-event figure of the rows ``keys`` ((group, term)
    pairs): 25 mm for the axis, 6 mm per row, block heading and gap between blocks.

    Examples
    --------
    >>> figure_height_mm([("any", "any"), ("term", "bruising"), ("term", "bleeding")])
    61.0
    """
    keys = list(dict.fromkeys(map(tuple, keys)))
    return 25.0 + 6.0 * (len(_layout(keys)[1]) + _n_blocks(keys) - 1)


def _n_blocks(keys: list) -> int:
    return len(_layout(keys)[1]) - len(keys)


def plot_adverse_events(rates, ax=None, *, groups=None):
    """Dot plot of adverse-event rates by term (y axis) and arm, with CI whiskers.

    The rows are grouped in labelled blocks (``BLOCKS``: overall, by term, by
    severity, serious events and withdrawals), each under a bold heading, with labels
    in sentence case ("Post-needling soreness"). One marker series per arm (a
    ``Line2D`` labelled with the arm, one point per row) and its whiskers (a
    ``LineCollection``). Proportions are drawn as percentages, rates per needle as
    events per 100 needles; the x label states the CI level ("95% CI"). An arm whose
    rate is undefined for every row (no needles, sham) is left out and named in a note
    under the axes.

    Parameters
    ----------
    rates : AdverseEventRates
        From :func:`dryneedle_outcomes.adverse_event_rates`.
    ax : matplotlib Axes, optional
    groups : sequence of str, optional
        Groups of rows to draw ("any", "term", "severity", "serious", "withdrawal");
        default all.

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
    >>> [t.get_text() for t in ax.get_yticklabels()][::-1][:3]   # from the top: a heading
    ['Overall', 'Any adverse event', 'By term']
    >>> ax.get_xlabel()
    'Appointments with the event\\n(%, 95% CI)'
    """
    import matplotlib.pyplot as plt

    table = rates.table
    if groups is not None:
        table = table.loc[table["group"].isin(list(groups))]
    keys = list(dict.fromkeys(zip(table["group"], table["term"], strict=True)))
    arms = list(dict.fromkeys(table["arm"]))
    scale = 1.0 if rates.per == "100_needles" else 100.0
    colours = arm_colours(arms, reference=getattr(rates, "reference_arm", None))
    drawn = [a for a in arms if np.isfinite(table.loc[table["arm"] == a, "estimate"]).any()]
    with paper_style():
        if ax is None:
            _, ax = plt.subplots(figsize=single_column(figure_height_mm(keys)),
                                 layout="constrained")
        _dot_plot(ax, table, arms, drawn, colours, scale)
        ax.set_xlabel(_xlabel(XLABELS.get(rates.per, "Rate"), rates.conf_level))
        arm_legend(ax, prefer="lower right")
        left_out = [a for a in arms if a not in drawn]
        if left_out:
            # under the x-axis label, ending at the axes' right edge
            ax.annotate(f"Not estimable (no needles): {', '.join(map(arm_label, left_out))}",
                        (1.0, 0.0), xycoords=("axes fraction", ax.xaxis.label),
                        xytext=(0, -4), textcoords="offset points", fontsize=NOTE_FONTSIZE,
                        color="0.3", va="top", ha="right", annotation_clip=False)
    return ax


def _xlabel(what: str, conf_level: float) -> str:
    """"Participants with the event (%)" and a 0.95 level: "Participants with the event"
    over "(%, 95% CI)", wrapped to ``XLABEL_WIDTH`` characters (the long row labels
    leave the axes narrow)."""
    import textwrap

    level = ci_label(conf_level)
    text = f"{what[:-4]} (%, {level})" if what.endswith(" (%)") else f"{what} ({level})"
    return "\n".join(textwrap.wrap(text, XLABEL_WIDTH, break_on_hyphens=False))


def plot_harms_table(result, ax=None, *, reference=None):
    """Participants with each harm (%) per arm, exact CI whiskers (a :class:`HarmsTable`),
    in the labelled blocks of :func:`plot_adverse_events`.

    ``reference`` (the control arm; default: chosen as the analyses choose it, a
    control arm by its name, else the last) takes the first colour, as in every figure
    of the package.

    Examples
    --------
    >>> import dryneedle_outcomes as dno
    >>> from dryneedle_outcomes.harms import harms_table
    >>> ax = plot_harms_table(harms_table(dno.simulate_cohort(n_patients=40, seed=3)),
    ...                       reference="sham")
    >>> [line.get_label() for line in ax.lines]
    ['dry_needling', 'sham']
    >>> [t.get_text() for t in ax.get_yticklabels()][-2:]     # the top block
    ['Any adverse event', 'Overall']
    """
    import matplotlib.pyplot as plt

    from ..models.design import choose_reference

    table = result.long
    keys = list(dict.fromkeys(zip(table["group"], table["term"], strict=True)))
    arms = list(dict.fromkeys(table["arm"]))
    # the reference arm as every analysis chooses it when none is given (a control arm by
    # its name, else the last), so that each arm has its colour of the other figures
    colours = arm_colours(arms, reference=choose_reference(arms, reference))
    with paper_style():
        if ax is None:
            _, ax = plt.subplots(figsize=single_column(figure_height_mm(keys)),
                                 layout="constrained")
        _dot_plot(ax, table, arms, arms, colours, 100.0)
        ax.set_xlabel(_xlabel(XLABELS["patient"], getattr(result, "conf_level", 0.95)))
        arm_legend(ax, prefer="lower right")
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
        ax.set_xlabel(f"Odds ratio per unit, association ({ci_label(result.conf_level)})")
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
            arm_legend(ax)
    return ax
