"""One figure style for the package: colour-blind-safe, sans-serif 7-8 pt, no clutter.

Styles are applied through a context manager (:func:`paper_style`), never by
changing matplotlib's global state behind the user's back.
"""

from __future__ import annotations

from contextlib import contextmanager

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
    "savefig.bbox": "tight",
    "pdf.fonttype": 42,
    "svg.fonttype": "none",
}


@contextmanager
def paper_style():
    """Context manager applying the package's paper style to figures made inside it.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> with paper_style():
    ...     fig, ax = plt.subplots()
    >>> plt.close(fig)
    """
    import matplotlib as mpl

    with mpl.rc_context(PAPER_RC):
        yield


def arm_colours(arms) -> dict:
    """A colour per arm, stable in arm order."""
    return {arm: PALETTE[i % len(PALETTE)] for i, arm in enumerate(arms)}
