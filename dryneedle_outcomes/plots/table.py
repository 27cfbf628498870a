"""A table result drawn on a matplotlib Axes, as it prints (for slides and posters)."""

from __future__ import annotations

from .style import literal, paper_style, single_column


def plot_table(result, ax=None, *, fontsize: float = 6.0):
    """A table result's formatted cells drawn on an Axes (no axis), title above.

    Parameters
    ----------
    result : TableResult
        E.g. :class:`~dryneedle_outcomes.baseline_table.BaselineTable`; its
        ``formatted()`` cells are drawn as they print.
    ax : matplotlib Axes, optional
    fontsize : float, default 6

    Returns
    -------
    matplotlib Axes
    """
    import matplotlib.pyplot as plt

    cells = result.formatted().astype(str)
    with paper_style():
        if ax is None:
            _, ax = plt.subplots(figsize=single_column(10 + 4 * (len(cells) + 1)))
        ax.axis("off")
        drawn = ax.table(cellText=[[literal(c) for c in row] for row in cells.to_numpy()],
                         colLabels=[literal(c) for c in cells.columns], loc="upper center",
                         cellLoc="left", edges="horizontal")
        drawn.auto_set_font_size(False)
        drawn.set_fontsize(fontsize)
        if result.title:
            ax.set_title(literal(result.title), loc="left", fontsize=fontsize + 1)
    return ax
