"""Figures as reproducible files: the same inputs give byte-identical PDF, PNG and SVG.

Matplotlib stamps files with the time and its version unless told not to: PDF
``CreationDate``, PNG ``Software``, SVG ``Date`` and random SVG element ids. They are
switched off (the version stays in ``manifest.json``). A figure is written exactly as
wide as the journal column asked for (its subplots laid out again for that width), as
:func:`~dryneedle_outcomes.plots.save_figure` does, and as tall as
``NamedFigure.height_for`` says for that width
(a double-column figure is taller, so its aspect stays readable). Legends are placed
again for the layout (``lay_out``).
Figures are drawn on :class:`matplotlib.figure.Figure` objects, not through pyplot, so a
run neither needs a display nor leaves figures open.

Examples
--------
>>> from dryneedle_outcomes.report.figures import render
>>> from dryneedle_outcomes.report.sections import NamedFigure
>>> fig = NamedFigure("line", "A line.", lambda ax: ax.plot([0, 1], [0, 1]), 40.0)
>>> first = render(fig, ("pdf", "png"), width="single", dpi=72)
>>> first == render(fig, ("pdf", "png"), width="single", dpi=72)
True
>>> first["pdf"][:4], first["png"][1:4]
(b'%PDF', b'PNG')
>>> import struct
>>> struct.unpack(">I", first["png"][16:20])[0]     # 85 mm at 72 dpi
240
"""

from __future__ import annotations

import io

from ..errors import DryNeedleError
from ..plots.legend import lay_out
from ..plots.style import WIDTHS_MM, paper_style
from .sections import NamedFigure

#: Metadata that would make two runs differ, switched off per format.
METADATA = {"pdf": {"CreationDate": None}, "png": {"Software": None},
            "svg": {"Date": None}}
#: rcParams while a figure is written: fonts embedded as TrueType in PDF (journals reject
#: Type 3), text kept as text in SVG, fixed SVG ids, and the page written at its exact
#: size (a "tight" bounding box would crop it away from the journal column width).
SAVE_RC = {"pdf.fonttype": 42, "ps.fonttype": 42, "svg.fonttype": "none",
           "svg.hashsalt": "dryneedle_outcomes", "savefig.bbox": "standard"}


def width_mm(width: str | float) -> float:
    """A journal column name ("single", "double") or millimetres, in millimetres."""
    if isinstance(width, str):
        if width not in WIDTHS_MM:
            raise DryNeedleError(f"width must be 'single', 'double' or millimetres, got "
                                 f"{width!r}")
        return WIDTHS_MM[width]
    return float(width)


def render(figure: NamedFigure, formats, *, width: str | float,
           dpi: int) -> dict[str, bytes]:
    """Draw ``figure`` once at ``width``; the file's bytes per format (pdf, png, svg)."""
    import matplotlib as mpl
    from matplotlib.figure import Figure

    bad = [f for f in formats if f not in METADATA]
    if bad:
        raise DryNeedleError(f"figure formats must be among {', '.join(METADATA)}, got {bad}")
    out = {}
    with paper_style(), mpl.rc_context(SAVE_RC):
        wide = width_mm(width)
        fig = Figure(figsize=(wide / 25.4, figure.height_for(wide) / 25.4))
        ax = fig.subplots()
        figure.draw(ax)
        lay_out(fig)              # tight_layout, the legends placed for it
        for fmt in formats:
            buffer = io.BytesIO()
            fig.savefig(buffer, format=fmt, dpi=dpi, metadata=METADATA[fmt])
            out[fmt] = buffer.getvalue()
    return out
