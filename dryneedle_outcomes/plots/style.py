"""One figure style for the package: colour-blind-safe, sans-serif 7-8 pt, no clutter.

Styles are applied through a context manager (:func:`paper_style`), never by
changing matplotlib's global state behind the user's back. Every text the figure
functions draw, annotations included, is 7-8 pt; greys are reserved for reference
lines (no difference, MCID) and notes, colours for arms.
"""

from __future__ import annotations

from contextlib import contextmanager

from ..arms import arm_text

#: Okabe & Ito (2008) colour-blind-safe palette.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442",
           "#000000")

#: Journal column widths in millimetres.
WIDTHS_MM = {"single": 85.0, "double": 174.0}

PAPER_RC = {
    "font.family": "sans-serif",
    "font.sans-serif": ["Arial", "Helvetica", "DejaVu Sans"],
    "font.size": 7.5,
    "axes.titlesize": 8,
    "axes.labelsize": 7.5,
    "xtick.labelsize": 7,
    "ytick.labelsize": 7,
    "legend.fontsize": 7,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.linewidth": 0.6,
    "xtick.major.width": 0.6,
    "ytick.major.width": 0.6,
    "lines.linewidth": 1.2,
    "legend.frameon": False,
    "pdf.fonttype": 42,
    "svg.fonttype": "none",
}

#: Size of the smallest text (notes, annotations) in points.
NOTE_FONTSIZE = 7

#: rcParams read when a figure is written (see :func:`~dryneedle_outcomes.plots.save_figure`):
#: fonts embedded as TrueType (journals reject Type 3 fonts), text kept as text in SVG,
#: and the canvas written at its exact size (a "tight" bounding box would crop it to
#: the drawn artists and change the width away from the journal column).
SAVE_RC = {
    "pdf.fonttype": 42,
    "ps.fonttype": 42,
    "svg.fonttype": "none",
    "savefig.bbox": "standard",
}


@contextmanager
def paper_style():
    """Context manager applying the package's paper style to figures made inside it.

    Every rcParam is restored on exit except interactive mode, which is session state
    (see the comment in the code), never changed by the style itself.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> with paper_style():
    ...     fig, ax = plt.subplots()
    >>> plt.close(fig)
    """
    import matplotlib as mpl

    interactive = mpl.is_interactive()
    try:
        with mpl.rc_context(PAPER_RC):
            try:
                yield
            finally:
                # Interactive mode is session state, not style. Jupyter's inline backend
                # is loaded with the first figure of a session and switches interactive
                # mode on; if that figure is made in here, keep the switch, or no later
                # figure of the session is shown.
                interactive = mpl.is_interactive()
    finally:
        mpl.interactive(interactive)


def single_column(height_mm: float) -> tuple[float, float]:
    """``figsize`` (inches) of a new single-column figure ``height_mm`` tall.

    Examples
    --------
    >>> [round(x, 3) for x in single_column(60)]
    [3.346, 2.362]
    """
    return WIDTHS_MM["single"] / 25.4, height_mm / 25.4


def literal(text) -> str:
    r"""Text from the data (arm, site, term names) made safe to draw exactly as written.

    Matplotlib reads a string with an even number of unescaped ``$`` as mathtext, so a
    label such as ``"$x$ arm"`` is typeset, and one with backslashes inside dollars
    (``"$\frac{1}{$"``) crashes the drawing. Escaping every ``$`` keeps such text out
    of mathtext; backslashes outside mathtext are drawn as they are. Every figure
    function passes text that comes from data through this function (:func:`arm_label`
    does so too).

    Examples
    --------
    >>> print(literal("$x$ arm"))
    \$x\$ arm
    >>> from matplotlib.figure import Figure
    >>> fig = Figure()
    >>> t = fig.text(0, 0, literal(r"$\frac{1}{$ C:\temp"))
    >>> fig.canvas.draw()   # drawn literally, no mathtext error
    """
    return str(text).replace("$", r"\$")


def arm_label(arm) -> str:
    """How an arm is named in a figure: underscores as spaces, first letter capitalised.

    The name is drawn literally (see :func:`literal`).

    Examples
    --------
    >>> arm_label("dry_needling"), arm_label("sham")
    ('Dry needling', 'Sham')
    """
    return literal(arm_text(arm))


def arm_legend(ax, **kwargs):
    """A legend whose entries name the arms as :func:`arm_label` does.

    The artists keep their labels (the data's arm names, which tests and users look up);
    only the legend's text is made readable ("dry_needling (model)" is shown as
    "Dry needling (model)"). Without ``loc`` the legend goes where it covers no data
    (:func:`~dryneedle_outcomes.plots.place_legend`: a free place inside the
    axes, else above them); ``loc`` puts it there as ``ax.legend`` does.

    Examples
    --------
    >>> from matplotlib.figure import Figure
    >>> ax = Figure().subplots()
    >>> _ = ax.plot([0, 1], [0, 1], label="dry_needling (model)")
    >>> [t.get_text() for t in arm_legend(ax).get_texts()]
    ['Dry needling (model)']
    >>> ax.lines[0].get_label()
    'dry_needling (model)'
    """
    from .legend import place_legend

    handles, labels = ax.get_legend_handles_labels()
    labels = [arm_label(label) for label in labels]
    if "loc" in kwargs:
        return ax.legend(handles, labels, **kwargs)
    return place_legend(ax, handles, labels, **kwargs)


def arm_colours(arms, reference=None) -> dict:
    """A colour per arm from the Okabe-Ito palette, the same in every figure.

    The reference (control) arm takes the first colour and the other arms the next ones
    in their order, so an arm keeps its colour whichever order a result lists the arms
    in (a trajectory fit puts the reference first, a rates table keeps the cohort's
    order).

    Examples
    --------
    >>> arm_colours(["dry_needling", "sham"], reference="sham")
    {'sham': '#0072B2', 'dry_needling': '#E69F00'}
    >>> arm_colours(["sham", "dry_needling"], reference="sham")
    {'sham': '#0072B2', 'dry_needling': '#E69F00'}
    >>> arm_colours(["dry_needling", "sham"])
    {'dry_needling': '#0072B2', 'sham': '#E69F00'}
    """
    arms = list(dict.fromkeys(arms))
    if reference is not None and reference in arms:
        arms = [reference] + [a for a in arms if a != reference]
    return {arm: PALETTE[i % len(PALETTE)] for i, arm in enumerate(arms)}
