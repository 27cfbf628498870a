"""The CONSORT 2025 flow diagram drawn with matplotlib boxes and arrows.

The layout follows the CONSORT 2025 template (Hopewell et al. 2025, figure 1): a shared
enrolment box (assessed for eligibility, with the exclusions before randomisation to
its right) above the randomised box, then one column per arm for allocation, follow-up
and analysis, the stage named at the left. The text is sized to fit the boxes at the
size the Axes has (the figure's width and height), never below 3 pt; long reasons wrap.
Save it as PDF, SVG or PNG with :func:`~dryneedle_outcomes.save_figure`.
"""

from __future__ import annotations

import textwrap

import numpy as np

from .style import arm_label, literal, paper_style

#: The ``gid`` of every box (tests and users count them).
BOX_GID = "consort_box"
MAX_FONT = 7.0
MIN_FONT = 3.0
#: Average glyph width of the sans-serif font, as a fraction of the font size.
CHAR_WIDTH = 0.6
LINE_HEIGHT = 1.22
STAGE_LABELS = {"enrolment": "Enrolment", "allocation": "Allocation",
                "follow_up": "Follow-up", "analysis": "Analysis"}


def _n(x) -> str:
    return "not recorded" if x is None else f"n={int(x)}"


def _reasons(flow, stage, box, arm, analysis=None) -> list[str]:
    c = flow.counts
    rows = c[(c["stage"] == stage) & (c["box"] == box) & (c["arm"] == arm)
             & c["reason"].notna()]
    if analysis is not None:
        rows = rows[rows["analysis"] == analysis]
    per = rows.groupby("reason", sort=False)["count"].sum()
    return [f"- {literal(r)} ({int(n)})" for r, n in per.items()]


def box_texts(flow, analyses=None) -> dict[str, list]:
    """The lines of every box: ``enrolment`` (assessed, excluded, randomised) and, per
    arm, ``allocation``, ``follow_up``, ``analysis``."""
    tot = flow.total
    assessed = tot("enrolment", "assessed for eligibility")
    excluded = tot("enrolment", "excluded before randomisation")
    rand = [f"Randomised ({_n(flow.randomised)})"]
    rejected = tot("enrolment", "register rows rejected")
    if rejected:
        rand.append(f"{rejected} register row(s) rejected by the ledger:")
        rand += _reasons(flow, "enrolment", "register rows rejected", "all")
    out: dict[str, list] = {
        "assessed": [f"Assessed for eligibility ({_n(assessed)})"],
        "excluded": [f"Excluded ({_n(excluded)})",
                     *_reasons(flow, "enrolment", "excluded before randomisation", "all")],
        "randomised": rand, "arms": []}
    names = list(flow.analyses["analysis"].unique()) if analyses is None else list(analyses)
    sessions = flow.sessions() if flow.patients["sessions"].notna().any() else None
    for arm in flow.arms:
        alloc = [f"Allocated to {arm_label(arm)} ({_n(tot('allocation', 'allocated', arm))})"]
        got = tot("allocation", "received allocated intervention", arm)
        if got is not None:
            s = sessions.set_index("arm").loc[arm]
            alloc += [f"Received allocated intervention ({_n(got)})",
                      f"Sessions received: median {s['median']:g} (range {s['min']:g} to "
                      f"{s['max']:g})",
                      "Did not receive allocated intervention "
                      f"({_n(tot('allocation', 'did not receive allocated intervention', arm))})",
                      *_reasons(flow, "allocation", "did not receive allocated intervention",
                                arm)]
        else:
            alloc.append("Sessions received: not recorded")
        follow = [f"Lost to follow-up ({_n(tot('follow_up', 'lost to follow-up', arm))})",
                  *_reasons(flow, "follow_up", "lost to follow-up", arm),
                  "Discontinued intervention "
                  f"({_n(tot('follow_up', 'discontinued intervention', arm))})",
                  *_reasons(flow, "follow_up", "discontinued intervention", arm)]
        if flow.primary_visit is not None and flow.outcome is not None:
            box = f"{flow.outcome} assessed at visit {flow.primary_visit}"
            n_at = _n(tot("follow_up", box, arm))
            follow.append(f"Assessed at visit {flow.primary_visit} ({n_at})")
        analysis = []
        for name in names:
            analysis += [f"{literal(name)}: analysed {_n(tot('analysis', 'analysed', arm, name))}; "
                         "excluded "
                         f"{_n(tot('analysis', 'excluded from analysis', arm, name))}",
                         *_reasons(flow, "analysis", "excluded from analysis", arm, name)]
        if not analysis:
            analysis = ["Analysed: no analysis given"]
        out["arms"].append({"allocation": alloc, "follow_up": follow, "analysis": analysis})
    return out


def _wrap(lines: list[str], chars: int) -> list[str]:
    out = []
    for line in lines:
        indent = "   " if line.startswith("- ") else ""
        out += textwrap.wrap(line, max(chars, 8), subsequent_indent=indent) or [""]
    return out


def _fit(rows, widths_pt, height_pt: float):
    """The largest font size (MAX_FONT down to MIN_FONT) at which every row's boxes,
    wrapped to their widths, fit the height; the wrapped lines per box."""
    size = MAX_FONT
    while True:
        wrapped = [[_wrap(lines, int(w / (CHAR_WIDTH * size)) - 1)
                    for lines, w in zip(row, widths_pt[i])] for i, row in enumerate(rows)]
        need = sum(max(len(b) for b in row) * LINE_HEIGHT * size + 1.2 * size
                   for row in wrapped) + 2.2 * size * len(rows)
        if need <= height_pt or size <= MIN_FONT:
            return size, wrapped
        size = max(MIN_FONT, size - 0.25)


def figure_height_mm(flow, analyses=None, width_mm: float = 174.0) -> float:
    """A height (mm) at which the diagram's text is readable at ``width_mm``."""
    t = box_texts(flow, analyses)
    per_arm = max(len(a["allocation"]) + len(a["follow_up"]) + len(a["analysis"])
                  for a in t["arms"])
    lines = max(len(t["assessed"]) + len(t["randomised"]), len(t["excluded"])) + per_arm
    narrow = 174.0 / max(width_mm, 40.0)          # narrower columns wrap more lines
    return float(min(260.0, 25.0 + 3.2 * lines * max(1.0, 0.8 * narrow)))


def plot_consort_flow(flow, ax=None, *, analyses=None, fontsize: float | None = None):
    """The CONSORT 2025 flow diagram of a :class:`~dryneedle_outcomes.ConsortFlow`.

    Parameters
    ----------
    flow : ConsortFlow
    ax : matplotlib Axes, optional
        A new double-column figure (174 mm wide) when None.
    analyses : list of str, optional
        The analyses drawn in the analysis boxes (default every one of the flow).
    fontsize : float, optional
        Fixed text size; default the largest (up to 7 pt) that fits.

    Returns
    -------
    matplotlib Axes
        Its boxes are patches with ``gid`` ``"consort_box"``.

    Examples
    --------
    >>> import dryneedle_outcomes as dno
    >>> flow = dno.consort_flow(dno.simulate_cohort(n_patients=30, seed=1))
    >>> ax = plot_consort_flow(flow)
    >>> sum(p.get_gid() == "consort_box" for p in ax.patches)   # 3 shared + 3 per arm
    9
    >>> import matplotlib.pyplot as plt; plt.close(ax.figure)
    """
    import matplotlib.pyplot as plt
    from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

    t = box_texts(flow, analyses)
    with paper_style():
        if ax is None:
            height = figure_height_mm(flow, analyses)
            fig = plt.figure(figsize=(174.0 / 25.4, height / 25.4))
            ax = fig.add_axes((0.01, 0.01, 0.98, 0.98))
        ax.set_axis_off()
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1)
        fig = ax.figure
        if len(fig.axes) == 1 and ax.get_subplotspec() is not None:
            # the diagram alone on its figure: let it fill the page now, so that the text
            # is sized for the room it will have (a later tight_layout, as the run's
            # figures get, then moves the edges by a pad only)
            fig.subplots_adjust(left=0.01, right=0.99, bottom=0.01, top=0.99)
        bbox = ax.get_position()
        w_pt = bbox.width * fig.get_figwidth() * 72.0
        h_pt = bbox.height * fig.get_figheight() * 72.0
        n = len(flow.arms)
        left, gap = 0.07, 0.03
        col_w = (0.99 - left - gap * (n - 1)) / n
        xs = [left + col_w / 2 + i * (col_w + gap) for i in range(n)]
        mid = (left + 0.99) / 2
        top_w = 0.36
        rows = [[t["assessed"], t["excluded"]], [t["randomised"]],
                [a["allocation"] for a in t["arms"]], [a["follow_up"] for a in t["arms"]],
                [a["analysis"] for a in t["arms"]]]
        widths = [[top_w, 0.99 - mid - top_w / 2 - 0.035], [top_w], [col_w] * n, [col_w] * n,
                  [col_w] * n]
        size, wrapped = _fit(rows, [[w * w_pt for w in r] for r in widths], h_pt)
        if fontsize is not None:
            size = fontsize
        line = LINE_HEIGHT * size / h_pt           # one line as a fraction of the height
        pad = 0.6 * size / h_pt
        heights = [max(len(b) for b in row) * line + 2 * pad for row in wrapped]
        spare = 1.0 - sum(heights)
        step = max(spare / (len(rows) - 1 + 0.5), 1.2 * size / h_pt) if len(rows) > 1 else 0
        y = 1.0
        tops = []
        for h in heights:
            tops.append(y)
            y -= h + step
        # assessed and randomised centred, the excluded box right of the assessed one
        centers = [[mid, mid + top_w / 2 + 0.03 + widths[0][1] / 2], [mid], xs, xs, xs]
        drawn = []
        for r, row in enumerate(wrapped):
            boxes = []
            for k, lines in enumerate(row):
                w, h = widths[r][k], heights[r] if r >= 2 else len(lines) * line + 2 * pad
                x0, y1 = centers[r][k] - w / 2, tops[r]
                ax.add_patch(FancyBboxPatch((x0, y1 - h), w, h, boxstyle="square,pad=0",
                                            facecolor="white", edgecolor="#333333",
                                            linewidth=0.6, gid=BOX_GID,
                                            transform=ax.transAxes))
                ax.text(x0 + pad * h_pt / w_pt, y1 - pad, "\n".join(lines), va="top",
                        ha="left", fontsize=size, linespacing=LINE_HEIGHT * 0.95,
                        transform=ax.transAxes)
                boxes.append((x0, y1 - h, w, h))
            drawn.append(boxes)

        def arrow(p, q):
            ax.add_patch(FancyArrowPatch(p, q, arrowstyle="-|>", mutation_scale=6,
                                         linewidth=0.6, color="#333333",
                                         transform=ax.transAxes))

        (ax0, ay0, aw, ah), (ex0, ey0, ew, eh) = drawn[0]
        rx0, ry0, rw, rh = drawn[1][0]
        arrow((ax0 + aw / 2, ay0), (rx0 + rw / 2, ry0 + rh))
        ymid = (ay0 + ry0 + rh) / 2
        ax.plot([ax0 + aw / 2, ex0], [ymid, ymid], color="#333333", linewidth=0.6,
                transform=ax.transAxes)
        arrow((ex0 - 1e-3, ymid), (ex0, ymid))
        for r in (2, 3, 4):
            for k, (x0, y0, w, h) in enumerate(drawn[r]):
                src = drawn[1][0] if r == 2 else drawn[r - 1][k]
                arrow((src[0] + src[2] / 2, src[1]), (x0 + w / 2, y0 + h))
        labels = [("enrolment", tops[0], drawn[1][0][1]), ("allocation", tops[2],
                                                          tops[2] - heights[2]),
                  ("follow_up", tops[3], tops[3] - heights[3]),
                  ("analysis", tops[4], tops[4] - heights[4])]
        for key, y_top, y_bottom in labels:
            ax.text(0.012, (y_top + y_bottom) / 2, STAGE_LABELS[key], rotation=90,
                    ha="center", va="center", fontsize=size, fontweight="bold",
                    transform=ax.transAxes)
        for artist in (*ax.texts, *ax.patches, *ax.lines):
            artist.set_in_layout(False)   # a tight_layout keeps the page the diagram fills
    return ax


def box_count(ax) -> int:
    """How many CONSORT boxes ``ax`` has (``BOX_GID``).

    Examples
    --------
    >>> from matplotlib.figure import Figure
    >>> box_count(Figure().subplots())
    0
    """
    return int(np.sum([p.get_gid() == BOX_GID for p in ax.patches]))


__all__ = ["BOX_GID", "box_count", "box_texts", "figure_height_mm", "plot_consort_flow"]
