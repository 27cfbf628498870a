"""Figures for papers: every function takes ``ax=None`` and returns the Axes.

Examples
--------
>>> import matplotlib.pyplot as plt
>>> import dryneedle_outcomes as dno
>>> fig, ax = plt.subplots()
>>> _ = ax.plot([0, 1], [0, 1])
>>> import tempfile, pathlib
>>> with tempfile.TemporaryDirectory() as d:
...     path = dno.save_figure(fig, pathlib.Path(d) / "fig.pdf", width="single")
...     path.read_bytes()[:4]
b'%PDF'
>>> plt.close(fig)
"""

from __future__ import annotations

from pathlib import Path

from ..errors import DryNeedleError
from .consort import plot_consort_flow
from .forest import plot_arm_differences
from .harms import plot_adverse_events, plot_harms_table
from .legend import ci_label, lay_out, place_legend
from .responders import plot_responders
from .style import (
    PALETTE,
    SAVE_RC,
    WIDTHS_MM,
    arm_colours,
    arm_label,
    arm_legend,
    literal,
    paper_style,
)
from .survival import plot_survival
from .trajectory import plot_trajectory
from .within_session import plot_saw_tooth


def save_figure(fig, path, *, width: str | float = "single", height_mm: float | None = None,
                dpi: int = 600) -> Path:
    """Save ``fig`` at a journal column width as PDF, SVG or PNG (by the file extension).

    The saved page is exactly ``width`` wide (85 mm single column, 174 mm double): the
    figure is resized, its subplots are laid out again for that size (``tight_layout``,
    unless the figure already has a layout engine such as ``layout="constrained"``),
    and it is written without a "tight" bounding box, which would crop the page to the
    drawn artists and change its width. Legends placed by
    :func:`~dryneedle_outcomes.plots.place_legend` are placed again for the new
    size (inside where they cover no data, else above the axes). Fonts are embedded as
    TrueType in PDF and kept as text in SVG. The figure keeps its new size after saving.

    Parameters
    ----------
    fig : matplotlib Figure
    path : str or Path
        ``.pdf``, ``.svg`` (vector) or ``.png`` (``dpi``, 300 or 600 for journals).
    width : "single" (85 mm), "double" (174 mm) or a width in mm
    height_mm : float, optional
        Default keeps the figure's aspect ratio.
    dpi : int
        Resolution of a PNG (a PNG ``width`` mm wide is ``width / 25.4 * dpi`` pixels).

    Returns
    -------
    Path
        ``path``.
    """
    import matplotlib as mpl

    path = Path(path)
    if path.suffix.lower() not in (".pdf", ".svg", ".png"):
        raise DryNeedleError(f"save_figure writes .pdf, .svg or .png, got {path.suffix!r}")
    if isinstance(width, str):
        if width not in WIDTHS_MM:
            raise DryNeedleError(f"width must be 'single', 'double' or millimetres, got "
                                 f"{width!r}")
        width_mm = WIDTHS_MM[width]
    else:
        width_mm = float(width)
    if not width_mm > 0 or (height_mm is not None and not height_mm > 0):
        raise DryNeedleError(f"width and height_mm must be positive millimetres, got "
                             f"width={width!r}, height_mm={height_mm!r}")
    w, h = fig.get_size_inches()
    height_in = height_mm / 25.4 if height_mm is not None else width_mm / 25.4 * h / w
    fig.set_size_inches(width_mm / 25.4, height_in)
    path.parent.mkdir(parents=True, exist_ok=True)
    with mpl.rc_context(SAVE_RC):
        lay_out(fig)       # tight or the figure's own layout, legends placed for it
        fig.savefig(path, dpi=dpi)
    return path


__all__ = ["PALETTE", "WIDTHS_MM", "arm_colours", "arm_label", "arm_legend", "ci_label",
           "literal", "place_legend",
           "paper_style",
           "plot_adverse_events",
           "plot_harms_table",
           "plot_arm_differences", "plot_consort_flow",
           "plot_responders", "plot_saw_tooth", "plot_survival",
           "plot_trajectory", "save_figure"]
