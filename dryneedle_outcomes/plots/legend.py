"""Legends that never hide data, and the CI level every interval figure states.

The rule (:func:`place_legend`): a legend goes inside the axes at the first of its
candidate corners where its box, grown by ``PAD_PT`` points, touches nothing
drawn in data coordinates (no line vertex or segment, no marker, no CI band or
error bar, no bar) and no text inside the axes; when every candidate touches data,
it goes above the axes, left-aligned (moved left, over the y-axis label, only as far
as the axes' right edge needs), in as many columns as fit, over
any text already there (a note, a title). The test is made in display coordinates
on the figure as it is laid out; ``lay_out`` makes it again when a figure is laid
out anew (the report and :func:`~dryneedle_outcomes.save_figure` lay figures out with
it), because a legend's size is fixed in points while the axes shrink or grow. A title
or note added above the axes after the figure function ran is seen by the next
``lay_out`` (or ``relocate_legends``).

A figure that draws intervals says which: :func:`ci_label` ("95% CI") from the
result's ``conf_level``, in a legend entry or an axis label (SAMPL: "state the
confidence level of every interval shown").
"""

from __future__ import annotations

import weakref

import numpy as np
from matplotlib.artist import Artist

#: Margin around a legend's box that must be free of data, in points (about a marker's
#: radius: a marker whose centre is this close would touch the legend's text).
PAD_PT = 3.0

#: Where a legend may sit inside the axes, in the order tried (after the caller's own
#: preference, when it gives one).
CANDIDATES = ("upper right", "upper left", "lower left", "lower right", "center right",
              "center left", "upper center", "lower center")

#: Gap between the top of the axes (or the highest text above it) and a legend put
#: above the axes, in points.
ABOVE_GAP_PT = 2.0

# The legends placed by this rule and the location asked for first: relocate_legends
# makes the test again for these only. Weak keys: a closed figure's legends go away.
_AUTO: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def ci_label(conf_level: float) -> str:
    """How a figure names its intervals: "95% CI" for ``conf_level`` 0.95.

    Examples
    --------
    >>> ci_label(0.95), ci_label(0.9), ci_label(0.975)
    ('95% CI', '90% CI', '97.5% CI')
    """
    pct = 100.0 * float(conf_level)
    return f"{pct:.0f}% CI" if abs(pct - round(pct)) < 1e-9 else f"{pct:.1f}% CI"


def place_legend(ax, handles=None, labels=None, *, prefer: str | None = None, **kwargs):
    """A legend of ``ax`` where it covers no data: a free place inside, else above the axes.

    Parameters
    ----------
    ax : matplotlib Axes
    handles, labels : sequences, optional
        As ``ax.legend(handles, labels)``; default ``ax.get_legend_handles_labels()``.
    prefer : str, optional
        A location tried before ``CANDIDATES`` (e.g. "lower right").
    **kwargs
        Passed to ``ax.legend`` (not ``loc``, ``ncols``, ``bbox_to_anchor``: this
        function sets them).

    Returns
    -------
    matplotlib Legend

    Examples
    --------
    >>> from matplotlib.figure import Figure
    >>> ax = Figure(figsize=(3, 2)).subplots()
    >>> _ = ax.plot([0, 1], [0, 1], label="rising")      # the upper left corner is free
    >>> box = place_legend(ax).get_window_extent()
    >>> bool(box.x0 < ax.bbox.x0 + ax.bbox.width / 2 and box.y1 <= ax.bbox.y1)
    True
    >>> _ = ax.fill_between([0, 1], [-1, -1], [2, 2], label="band")   # covers every corner
    >>> leg = place_legend(ax)
    >>> bool(leg.get_window_extent().y0 >= ax.bbox.y1)          # above the axes
    True
    >>> overlaps_data(leg)
    False
    """
    import matplotlib as mpl

    if handles is None or labels is None:
        found_handles, found_labels = ax.get_legend_handles_labels()
        handles = found_handles if handles is None else handles
        labels = found_labels if labels is None else labels
    handles, labels = list(handles), list(labels)
    ax.get_xlim(), ax.get_ylim()          # autoscale now: the test needs the final limits
    if ax.get_legend() is not None:       # replaced: it must not weigh in the layout below
        ax.get_legend().remove()
    _constrained(ax.figure)
    order = [prefer] if prefer else []
    order += [c for c in CANDIDATES if c != prefer]
    legend = ax.legend(handles, labels, loc=order[0], **kwargs)
    for loc in order:
        legend.set_loc(loc)
        if not overlaps_data(legend):
            break
    else:
        legend = _above(ax, handles, labels, kwargs)
    # the style in force (paper_style's fonts, no frame), for placing it again later
    style = {k: v for k, v in mpl.rcParams.items() if k.startswith(("legend.", "font."))}
    _AUTO[legend] = (handles, labels, prefer, kwargs, style)
    return legend


def lay_out(fig) -> None:
    """Lay ``fig`` out (``tight_layout``, or its own layout engine such as constrained
    layout) with its legends placed by :func:`place_legend` for that layout.

    The axes are first laid out without those legends (a legend placed for another
    size, e.g. one long row above wide axes, would squeeze them), the legends are placed
    for the axes as laid out, and the figure is laid out again with them (up to three
    times, until no legend moves).

    Examples
    --------
    >>> from matplotlib.figure import Figure
    >>> fig = Figure(figsize=(6, 3))
    >>> ax = fig.subplots()
    >>> _ = ax.fill_between([0, 1], [0, 0], [1, 1], label="a band over everything")
    >>> leg = place_legend(ax)                   # above the axes, at 6 x 3 inches
    >>> fig.set_size_inches(3.35, 2.4)
    >>> lay_out(fig)
    >>> overlaps_data(ax.get_legend())
    False
    """
    auto = [ax.get_legend() for ax in fig.axes
            if ax.get_legend() is not None and ax.get_legend() in _AUTO]
    for legend in auto:
        legend.set_in_layout(False)
    _engine_lay_out(fig)
    for legend in auto:
        legend.set_in_layout(True)
    if not auto:
        return
    relocate_legends(fig)      # placed for the axes as laid out without them
    _engine_lay_out(fig)       # room made for them
    for _ in range(2):         # a legend's rows depend on the axes' width: settle them
        if not relocate_legends(fig):
            break
        _engine_lay_out(fig)


def _constrained(fig) -> None:
    """Run a constrained layout now, so the test sees the axes where they will be drawn
    (the engine runs again at draw time, with the legend)."""
    from matplotlib.layout_engine import ConstrainedLayoutEngine

    engine = fig.get_layout_engine()
    if isinstance(engine, ConstrainedLayoutEngine):
        engine.execute(fig)


def _engine_lay_out(fig) -> None:
    """The figure's layout engine when it has one that lays out (constrained, tight),
    else ``tight_layout`` (which leaves a placeholder engine behind that does nothing)."""
    from matplotlib.layout_engine import ConstrainedLayoutEngine, TightLayoutEngine

    engine = fig.get_layout_engine()
    if isinstance(engine, (ConstrainedLayoutEngine, TightLayoutEngine)):
        engine.execute(fig)
    else:
        fig.tight_layout()


def relocate_legends(fig) -> bool:
    """Place again every legend of ``fig`` placed by :func:`place_legend` (after a new
    layout); return whether any moved (then lay the figure out once more)."""
    import matplotlib as mpl

    moved = False
    for ax in fig.axes:
        legend = ax.get_legend()
        if legend is None or legend not in _AUTO:
            continue
        before = legend.get_window_extent().bounds
        handles, labels, prefer, kwargs, style = _AUTO[legend]
        with mpl.rc_context(style):
            after = place_legend(ax, handles, labels, prefer=prefer, **kwargs)
        moved |= before != after.get_window_extent().bounds
    return moved


def _above(ax, handles: list, labels: list, kwargs: dict):
    """A legend above ``ax``, left-aligned, over any text already above the axes, in as
    many columns as fit between the figure's left edge and the axes' right edge."""
    from matplotlib.transforms import ScaledTranslation

    fig = ax.figure
    top = ax.bbox.y1
    if ax.get_legend() is not None:
        ax.get_legend().remove()
    highest = max([t.get_window_extent().y1 for t in _texts(ax)
                   if t.get_window_extent().y0 >= top - 1.0], default=top)
    dy = (highest - top) / fig.dpi + ABOVE_GAP_PT / 72.0
    import matplotlib as mpl

    # tight_layout's padding at the figure's edge (1.08 font sizes), so that a legend
    # reaching the edge does not make the layout move the axes
    margin = 1.1 * mpl.rcParams["font.size"] * fig.dpi / 72.0
    # up to the axes' right edge (a legend wider than the axes would make a layout engine
    # narrow them), and to the left as far as the figure's edge (over the y-axis label)
    room = ax.bbox.x1 - fig.bbox.x0 - margin
    compact = {"columnspacing": 0.9, "handlelength": 1.4, "handletextpad": 0.4, **kwargs}
    for ncols in range(max(len(labels), 1), 0, -1):
        legend = ax.legend(handles, labels, loc="lower left", bbox_to_anchor=(0.0, 1.0),
                           bbox_transform=ax.transAxes, ncols=ncols, borderaxespad=0.0,
                           **compact)
        width = legend.get_window_extent().width
        if width <= room:
            break
    # left-aligned with the axes; moved left only as far as the axes' right edge needs
    dx = max(min(0.0, ax.bbox.x1 - (ax.bbox.x0 + width)), fig.bbox.x0 + margin - ax.bbox.x0)
    legend.set_bbox_to_anchor((0.0, 1.0), transform=ax.transAxes + ScaledTranslation(
        dx / fig.dpi, dy, fig.dpi_scale_trans))
    _ABOVE[legend] = (dx / fig.dpi, dy)
    if not any(isinstance(a, _KeepAbove) for a in ax.get_children()):
        ax.add_artist(_KeepAbove())
    return legend


# Legends put above their axes: their (dx, dy) offset in inches.
_ABOVE: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


class _KeepAbove(Artist):
    """Keeps a legend that sits above the axes over the texts there when they are drawn.

    A title or note set after the figure function ran (``ax.set_title`` in a notebook)
    would otherwise be drawn under the legend. Drawn first (lowest zorder), after the
    axes have placed their title, it raises the legend over the highest text above the
    axes; nothing changes (and nothing is marked stale) when the legend is clear already.
    Draws nothing itself and takes no room in a layout.
    """

    def __init__(self) -> None:
        super().__init__()
        self.set_zorder(-1e9)
        self.set_in_layout(False)

    def draw(self, renderer) -> None:
        from matplotlib.transforms import ScaledTranslation

        ax = self.axes
        legend = ax.get_legend() if ax is not None else None
        if legend is None or legend not in _ABOVE:
            return
        dx, dy = _ABOVE[legend]
        fig = ax.figure
        top = ax.bbox.y1
        extents = [t.get_window_extent(renderer) for t in _texts(ax)]
        highest = max([e.y1 for e in extents if e.y0 >= top - 1.0], default=top)
        want = (highest - top) / fig.dpi + ABOVE_GAP_PT / 72.0
        if abs(want - dy) > 1e-3:                 # 1e-3 inch: a fraction of a pixel
            legend.set_bbox_to_anchor((0.0, 1.0), transform=ax.transAxes + ScaledTranslation(
                dx, want, fig.dpi_scale_trans))
            _ABOVE[legend] = (dx, want)


def _texts(ax) -> list:
    """The visible, non-empty texts of ``ax`` (annotations, titles), legends excepted."""
    from matplotlib.text import Text

    return [c for c in ax.get_children() if isinstance(c, Text) and c.get_visible()
            and c.get_text().strip()]


def overlaps_data(legend) -> bool:
    """Whether ``legend``'s box (grown by ``PAD_PT``) touches data or a text inside
    its axes, in display coordinates.

    Data are the artists drawn in data coordinates: lines (their points, and their
    segments when drawn with a line style, steps as drawn), collections (CI bands and
    bars filled, error bars and trajectories as segments, scatter points) and patches.
    Reference lines across the axes (``axhline``) and shaded regions (``axvspan``) are
    drawn in axes coordinates and may lie under a legend.
    """
    from matplotlib.transforms import Bbox

    ax = legend.axes
    box = legend.get_window_extent()
    pad = PAD_PT * ax.figure.dpi / 72.0
    box = Bbox.from_extents(box.x0 - pad, box.y0 - pad, box.x1 + pad, box.y1 + pad)
    inside = ax.bbox
    for text in _texts(ax):
        ext = text.get_window_extent()
        if ext.overlaps(inside) and ext.y0 < inside.y1 and ext.overlaps(box):
            return True
    return any(_touches(artist, ax, box) for artist in ax.get_children())


def _in_data_coordinates(artist, ax) -> bool:
    return artist.get_transform().contains_branch(ax.transData)


def _touches(artist, ax, box) -> bool:
    from matplotlib.collections import Collection, PathCollection, PolyCollection
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch
    if not artist.get_visible():
        return False
    if isinstance(artist, Line2D):
        if not _in_data_coordinates(artist, ax):
            return False
        return _line_touches(artist, box)
    if isinstance(artist, PathCollection):           # scatter: marker centres
        pts = artist.get_offset_transform().transform(np.asarray(artist.get_offsets(),
                                                                 dtype=float))
        return bool(_points_in(pts, box).any())
    if isinstance(artist, Collection):
        if not _in_data_coordinates(artist, ax):
            return False
        filled = isinstance(artist, PolyCollection)
        trans = artist.get_transform()
        return any(_path_touches(trans.transform_path(p), box, filled)
                   for p in artist.get_paths())
    if isinstance(artist, Patch) and _in_data_coordinates(artist, ax):   # bars
        return _path_touches(artist.get_transform().transform_path(artist.get_path()),
                             box, True)
    return False


def _points_in(pts: np.ndarray, box) -> np.ndarray:
    ok = np.isfinite(pts).all(axis=1)
    return ok & (pts[:, 0] >= box.x0) & (pts[:, 0] <= box.x1) & (pts[:, 1] >= box.y0) \
        & (pts[:, 1] <= box.y1)


def _line_touches(line, box) -> bool:
    from matplotlib.cbook import STEP_LOOKUP_MAP

    xy = np.asarray(line.get_xydata(), dtype=float)
    if not len(xy):
        return False
    trans = line.get_transform()
    if line.get_marker() not in (None, "None", "none", "", " ") and \
            _points_in(trans.transform(xy), box).any():
        return True
    if line.get_linestyle() in ("None", "none", "", " "):
        return False
    style = line.get_drawstyle()
    if style in STEP_LOOKUP_MAP and style != "default":
        xy = np.column_stack(STEP_LOOKUP_MAP[style](xy[:, 0], xy[:, 1]))
    return _polyline_touches(trans.transform(xy), box)


def _polyline_touches(pts: np.ndarray, box) -> bool:
    """Whether a polyline (NaN vertices break it) enters ``box``."""
    from matplotlib.path import Path

    ok = np.isfinite(pts).all(axis=1)
    if not ok.any():
        return False
    # a MOVETO at each run's first vertex, so the gaps are not drawn across
    start = ok & ~np.r_[False, ok[:-1]]
    codes = np.where(start, Path.MOVETO, Path.LINETO)[ok]
    return _path_touches(Path(pts[ok], codes.astype(Path.code_type)), box, False)


def _path_touches(path, box, filled: bool) -> bool:
    verts = np.asarray(path.vertices, dtype=float)
    if not np.isfinite(verts).all():
        if filled:
            return False
        return _polyline_touches(verts, box)
    if _points_in(verts, box).any():
        return True
    return bool(path.intersects_bbox(box, filled=filled))
