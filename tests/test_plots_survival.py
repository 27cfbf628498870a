"""Survival-curve figure: what was drawn (line vertices, bands, table texts), not pixels.

Like ``tests/test_plots.py``, the figure is checked through its artists: the vertices of
each arm's step line and CI band, the texts of the numbers-at-risk table and where the
renderer puts them (window extents in display pixels) after the figure is saved at a
journal width with :func:`dryneedle_outcomes.plots.save_figure`.

Tolerances:
- drawn data against the input frames: 1e-12 relative (the same floats, only copied);
- positions in display coordinates: 0.01 pixel (a number centred under a tick and the
  tick label are both placed by the same transform, so they agree to rounding error);
- "inside the canvas": 0.5 pixel (Agg rounds text extents to the pixel grid).
"""

from __future__ import annotations

import re

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.collections import PolyCollection
from matplotlib.colors import to_hex
from matplotlib.text import Text

import dryneedle_outcomes as dno
from dryneedle_outcomes.errors import AnalysisError
from dryneedle_outcomes.plots import (
    PALETTE,
    WIDTHS_MM,
    arm_colours,
    paper_style,
    plot_survival,
    save_figure,
)
from dryneedle_outcomes.plots.survival import arm_label

MM_PER_INCH = 25.4
TIMES = [0, 30, 60, 90, 120]


# ------------------------------------------------------------------ fixtures
@pytest.fixture
def curve() -> pd.DataFrame:
    """A Kaplan-Meier-like curve: drug arm listed first, the reference arm second."""
    return pd.DataFrame({
        "arm": ["dry_needling"] * 4 + ["sham"] * 3,
        "time": [9.0, 23.0, 41.0, 77.0, 15.0, 52.0, 96.0],
        "estimate": [0.85, 0.62, 0.45, 0.30, 0.90, 0.71, 0.58],
        "ci_lower": [0.72, 0.47, 0.31, 0.17, 0.80, 0.57, np.nan],
        "ci_upper": [0.93, 0.75, 0.59, 0.44, 0.96, 0.82, 0.71],
    })


@pytest.fixture
def at_risk() -> pd.DataFrame:
    return pd.DataFrame({
        "arm": ["dry_needling"] * 5 + ["sham"] * 5,
        "time": TIMES * 2,
        "n_at_risk": [120, 81, 47, 30, 12, 118, 102, 88, 61, 1040],
    })


@pytest.fixture
def median() -> pd.DataFrame:
    return pd.DataFrame({"arm": ["dry_needling", "sham"], "estimate": [41.0, np.nan],
                         "ci_lower": [23.0, 52.0], "ci_upper": [77.0, np.nan]})


@pytest.fixture
def turnbull() -> pd.DataFrame:
    return pd.DataFrame({
        "arm": ["sham", "sham", "dry_needling", "dry_needling"],
        "time": [28.0, 70.0, 14.0, 42.0],
        "time_lower": [14.0, 56.0, 7.0, 28.0],
        "time_upper": [28.0, 70.0, 14.0, 42.0],
        "estimate": [0.8, 0.6, 0.7, 0.4],
        "ci_lower": [0.6, 0.4, 0.5, 0.2],
        "ci_upper": [0.9, 0.8, 0.85, 0.6],
    })


def _hex(colour) -> str:
    return to_hex(colour, keep_alpha=False).upper()


def _curves(ax) -> dict:
    """The arm lines, by legend label."""
    return {ln.get_label(): ln for ln in ax.lines if not ln.get_label().startswith("_")}


def _bands(ax) -> list:
    return [c for c in ax.collections if isinstance(c, PolyCollection)]


def _table(ax, renderer) -> tuple[Text, dict]:
    """The numbers-at-risk title and ``arm label -> (label Text, [number Texts])``."""
    texts = [t for t in ax.texts if t.get_text() != "" and not t.get_text().startswith("Med")]
    title = next(t for t in texts if t.get_text() == "Number at risk")
    rows: dict[float, list[Text]] = {}
    for t in texts:
        if t is not title:
            y = t.get_window_extent(renderer).y1
            rows.setdefault(round(y, 6), []).append(t)
    table = {}
    for y in sorted(rows, reverse=True):                 # top row first
        label, *numbers = sorted(rows[y], key=lambda t: t.get_window_extent(renderer).x0)
        table[label.get_text()] = (label, numbers)
    return title, table


# ------------------------------------------------------------------ curves and bands
def test_steps_are_the_data_from_zero_one_extended_to_the_last_time(curve, at_risk):
    ax = plot_survival(curve, at_risk=at_risk, reference="sham")
    lines = _curves(ax)
    assert list(lines) == ["Dry needling", "Sham"]             # the curve's order
    colours = arm_colours(["sham", "dry_needling"], reference="sham")
    for arm, line in zip(["dry_needling", "sham"], lines.values(), strict=True):
        sub = curve[curve["arm"] == arm]
        assert line.get_drawstyle() == "steps-post"            # right-continuous steps
        # (0, 1), the data, then flat to the last time at risk (120)
        np.testing.assert_allclose(line.get_xdata(), [0.0, *sub["time"], 120.0], rtol=1e-12)
        np.testing.assert_allclose(line.get_ydata(),
                                   [1.0, *sub["estimate"], sub["estimate"].iloc[-1]],
                                   rtol=1e-12)
        assert _hex(line.get_color()) == colours[arm]
    # the reference arm takes the first palette colour, whatever the order of the frame
    assert _hex(lines["Sham"].get_color()) == PALETTE[0]
    assert ax.get_xlim() == (0.0, 120.0)
    assert ax.get_ylim() == pytest.approx((0.0, 1.02))
    assert ax.get_xlabel() == "Days since baseline"
    assert ax.get_ylabel() == "Proportion without relief"


def test_a_curve_given_from_zero_one_is_not_doubled(curve):
    start = pd.DataFrame({"arm": ["sham"], "time": [0.0], "estimate": [1.0],
                          "ci_lower": [1.0], "ci_upper": [1.0]})
    ax = plot_survival(pd.concat([start, curve], ignore_index=True))
    np.testing.assert_allclose(_curves(ax)["Sham"].get_xdata(), [0, 15, 52, 96])
    np.testing.assert_allclose(_curves(ax)["Sham"].get_ydata(), [1, 0.9, 0.71, 0.58])


def test_rows_in_any_order_are_drawn_in_time_order(curve):
    ax = plot_survival(curve.iloc[::-1])
    np.testing.assert_allclose(_curves(ax)["Sham"].get_xdata(), [0, 15, 52, 96])
    assert list(_curves(ax)) == ["Sham", "Dry needling"]        # order of first appearance


def test_ci_bands_are_translucent_steps_in_the_arm_colour(curve):
    curve = curve.assign(ci_lower=curve["ci_lower"].fillna(0.45))     # no gap here
    ax = plot_survival(curve, reference="sham")
    bands = _bands(ax)
    assert len(bands) == 2
    colours = arm_colours(curve["arm"], reference="sham")
    for band, arm in zip(bands, ["dry_needling", "sham"], strict=True):
        sub = curve[curve["arm"] == arm]
        v = np.concatenate([p.vertices for p in band.get_paths()])
        assert v[:, 1].max() == 1.0                             # from (0, 1)
        assert v[:, 1].min() == pytest.approx(sub["ci_lower"].min(), rel=1e-12)
        assert set(np.round(v[:, 1], 12)) == {1.0, *sub["ci_lower"], *sub["ci_upper"]}
        # a step band: each limit is held until the next time, so it has vertical edges
        assert set(sub["time"]) <= set(v[:, 0])
        assert _hex(band.get_facecolor()[0]) == colours[arm]
        assert 0 < band.get_alpha() < 1
    assert len(_bands(plot_survival(curve, ci=False))) == 0


def test_missing_ci_limit_leaves_a_gap_only_where_it_is_missing(curve):
    # sham's lower limit from t = 96 is NaN: the band covers [0, 96) and stops there,
    # the line goes on to 120
    ax = plot_survival(curve, times=[0, 60, 120])
    band = _bands(ax)[1]
    v = np.concatenate([p.vertices for p in band.get_paths()])
    assert v[:, 0].max() == 96.0
    # the limits from t = 52 (0.57, 0.82) are held until 96
    assert set(np.round(v[v[:, 0] == 96.0, 1], 12)) == {0.57, 0.82}
    assert set(np.round(v[v[:, 0] == 52.0, 1], 12)) == {0.8, 0.96, 0.57, 0.82}
    assert _curves(ax)["Sham"].get_xdata()[-1] == 120.0


def test_turnbull_drops_are_segments_across_their_intervals(turnbull):
    ax = plot_survival(turnbull, reference="sham")
    sham, needling = _curves(ax)["Sham"], _curves(ax)["Dry needling"]
    assert sham.get_drawstyle() == "default"                    # straight segments
    np.testing.assert_allclose(sham.get_xdata(), [0, 14, 28, 56, 70])
    np.testing.assert_allclose(sham.get_ydata(), [1, 1, 0.8, 0.8, 0.6])
    np.testing.assert_allclose(needling.get_xdata(), [0, 7, 14, 28, 42])
    np.testing.assert_allclose(needling.get_ydata(), [1, 1, 0.7, 0.7, 0.4])
    band = _bands(ax)[0]                                        # sham's band, same segments
    v = band.get_paths()[0].vertices
    upper_edge = v[1:6]
    np.testing.assert_allclose(upper_edge[:, 0], [0, 14, 28, 56, 70])
    np.testing.assert_allclose(np.sort(v[:, 1])[[0, -1]], [0.4, 1.0])


def test_turnbull_curves_extend_flat_to_the_last_time(turnbull):
    ax = plot_survival(turnbull, times=[0, 50, 100])
    np.testing.assert_allclose(_curves(ax)["Sham"].get_xdata(), [0, 14, 28, 56, 70, 100])
    np.testing.assert_allclose(_curves(ax)["Sham"].get_ydata(), [1, 1, 0.8, 0.8, 0.6, 0.6])
    assert list(ax.get_xticks()) == [0, 50, 100]


def test_censor_marks_sit_on_the_curve(curve):
    marks = pd.DataFrame({"arm": ["sham", "sham", "sham", "dry_needling"],
                          "time": [15.0, 30.0, 110.0, 5.0]})
    ax = plot_survival(curve, censor_marks=marks, times=[0, 60, 120])
    ticks = [ln for ln in ax.lines if ln.get_marker() == "|"]
    assert len(ticks) == 2
    by_label = {ln.get_label(): ln for ln in ticks}
    sham = by_label["_Sham censored"]
    assert sham.get_linestyle() == "None"
    np.testing.assert_allclose(sham.get_xdata(), [15, 30, 110])
    np.testing.assert_allclose(sham.get_ydata(), [0.9, 0.9, 0.58])   # right-continuous
    np.testing.assert_allclose(by_label["_Dry needling censored"].get_ydata(), [1.0])


# ------------------------------------------------------------------ medians
def _dotted(ax) -> list:
    return [ln for ln in ax.lines if ln.get_linestyle() == ":"]


def test_median_lines_and_the_level_at_one_half(curve):
    median = pd.DataFrame({"arm": ["sham", "dry_needling"], "estimate": [96.0, 41.0]})
    ax = plot_survival(curve, median=median, reference="sham")
    dotted = _dotted(ax)
    level = [ln for ln in dotted if list(ln.get_ydata()) == [0.5, 0.5]]
    assert len(level) == 1                                          # once, in grey
    assert _hex(level[0].get_color()) == "#808080"
    np.testing.assert_allclose(level[0].get_xdata(), [0, 96])
    drops = {_hex(ln.get_color()): ln for ln in dotted if ln not in level}
    assert set(drops) == {PALETTE[0], PALETTE[1]}
    np.testing.assert_allclose(drops[PALETTE[0]].get_xdata(), [96, 96])   # sham
    np.testing.assert_allclose(drops[PALETTE[1]].get_xdata(), [41, 41])   # dry needling
    np.testing.assert_allclose(drops[PALETTE[1]].get_ydata(), [0, 0.5])
    assert not [t for t in ax.texts if t.get_text().startswith("Median not reached")]


def test_median_not_reached_is_skipped_and_noted(curve, median):
    ax = plot_survival(curve, median=median, reference="sham")
    drops = [ln for ln in _dotted(ax) if ln.get_xdata()[0] == ln.get_xdata()[1]]
    assert len(drops) == 1 and drops[0].get_xdata()[0] == 41.0
    notes = [t.get_text() for t in ax.texts if t.get_text().startswith("Median")]
    assert notes == ["Median not reached: Sham"]


# ------------------------------------------------------------------ numbers at risk
def _draw_saved(fig, tmp_path, suffix="png", width="single"):
    save_figure(fig, tmp_path / f"fig.{suffix}", width=width, dpi=150)
    renderer = fig.canvas.get_renderer()
    fig.draw(renderer)          # positions as the file was written (the same layout)
    return renderer


def test_at_risk_numbers_are_centred_under_the_ticks(curve, at_risk, tmp_path):
    ax = plot_survival(curve, at_risk=at_risk, reference="sham")
    renderer = _draw_saved(ax.figure, tmp_path)
    assert list(ax.get_xticks()) == TIMES
    tick_x = [lbl.get_window_extent(renderer).x0 / 2 + lbl.get_window_extent(renderer).x1 / 2
              for lbl in ax.get_xticklabels()]
    data_x = ax.transData.transform(np.column_stack([TIMES, np.zeros(5)]))[:, 0]
    title, table = _table(ax, renderer)
    assert list(table) == ["Dry needling", "Sham"]
    colours = arm_colours(["sham", "dry_needling"], reference="sham")
    for arm, (label, numbers) in zip(["dry_needling", "sham"], table.values(), strict=True):
        want = at_risk.loc[at_risk["arm"] == arm, "n_at_risk"]
        assert [t.get_text() for t in numbers] == [str(n) for n in want]
        centres = [(t.get_window_extent(renderer).x0 + t.get_window_extent(renderer).x1) / 2
                   for t in numbers]
        np.testing.assert_allclose(centres, tick_x, atol=0.01)
        np.testing.assert_allclose(centres, data_x, atol=0.01)
        assert _hex(label.get_color()) == colours[arm]
        # the arm's name ends left of its first number
        assert label.get_window_extent(renderer).x1 < numbers[0].get_window_extent(renderer).x0
    # the title starts where the longest arm name does
    lefts = [label.get_window_extent(renderer).x0 for label, _ in table.values()]
    assert title.get_window_extent(renderer).x0 == pytest.approx(min(lefts), abs=0.01)
    assert all(7 <= t.get_fontsize() <= 8 for t in ax.texts)


@pytest.mark.parametrize("suffix", ["png", "pdf"])
@pytest.mark.parametrize("own_figure", [True, False])
def test_saved_table_is_inside_the_canvas_and_below_the_axis_label(curve, at_risk, tmp_path,
                                                                    suffix, own_figure):
    ax = None
    if not own_figure:             # a user's figure without a layout engine
        with paper_style():
            _, ax = plt.subplots(figsize=(6, 4))
    ax = plot_survival(curve, ax=ax, at_risk=at_risk)
    renderer = _draw_saved(ax.figure, tmp_path, suffix)
    fig = ax.figure
    assert fig.get_figwidth() * MM_PER_INCH == pytest.approx(WIDTHS_MM["single"])
    page = fig.bbox
    title, table = _table(ax, renderer)
    texts = [title] + [t for label, numbers in table.values() for t in [label, *numbers]]
    assert len(texts) == 1 + 2 * (1 + len(TIMES))
    for t in texts:
        box = t.get_window_extent(renderer)
        assert page.x0 - 0.5 <= box.x0 and box.x1 <= page.x1 + 0.5, t.get_text()
        assert page.y0 - 0.5 <= box.y0 and box.y1 <= page.y1 + 0.5, t.get_text()
    # the table hangs under the x-axis label and its lines do not overlap
    assert title.get_window_extent(renderer).y1 <= ax.xaxis.label.get_window_extent(renderer).y0
    tops = [title.get_window_extent(renderer)] + [
        label.get_window_extent(renderer) for label, _ in table.values()]
    assert all(a.y0 >= b.y1 - 0.5 for a, b in zip(tops, tops[1:]))


def test_table_follows_a_resize_and_a_taller_axis_label(curve, at_risk, tmp_path):
    ax = plot_survival(curve, at_risk=at_risk)
    renderer = _draw_saved(ax.figure, tmp_path, width="double")
    ax.set_xlabel("Days since baseline\n(first needling session)")
    renderer = _draw_saved(ax.figure, tmp_path, width="single")
    title, table = _table(ax, renderer)
    assert title.get_window_extent(renderer).y1 <= ax.xaxis.label.get_window_extent(renderer).y0
    data_x = ax.transData.transform(np.column_stack([TIMES, np.zeros(5)]))[:, 0]
    for _, numbers in table.values():
        centres = [(t.get_window_extent(renderer).x0 + t.get_window_extent(renderer).x1) / 2
                   for t in numbers]
        np.testing.assert_allclose(centres, data_x, atol=0.01)
        assert min(t.get_window_extent(renderer).y0 for t in numbers) >= -0.5


def test_times_choose_the_ticks_and_the_numbers(curve, at_risk):
    ax = plot_survival(curve, at_risk=at_risk, times=[0, 60, 120], arm_order=["sham",
                                                                           "dry_needling"])
    assert list(ax.get_xticks()) == [0, 60, 120]
    ax.figure.canvas.draw()
    _, table = _table(ax, ax.figure.canvas.get_renderer())
    assert {k: [t.get_text() for t in v[1]] for k, v in table.items()} == {
        "Sham": ["118", "88", "1040"], "Dry needling": ["120", "47", "12"]}
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["Sham", "Dry needling"]


def test_numbers_at_risk_that_are_not_whole_keep_a_decimal(curve, at_risk):
    weighted = at_risk.assign(n_at_risk=at_risk["n_at_risk"] + np.r_[0.25, np.zeros(9)])
    ax = plot_survival(curve, at_risk=weighted)
    assert "120.2" in [t.get_text() for t in ax.texts]     # 120.25 at one decimal


# ------------------------------------------------------------------ figure conventions
def test_returns_the_axes_it_was_given_and_makes_no_figure(curve, at_risk, median):
    fig, (ax1, ax2) = plt.subplots(1, 2)
    n_figures = len(plt.get_fignums())
    assert plot_survival(curve, ax=ax2, at_risk=at_risk, median=median) is ax2
    assert len(plt.get_fignums()) == n_figures
    assert ax2.has_data() and not ax1.has_data()


def test_new_figure_is_single_column_in_the_paper_style(curve, at_risk):
    existing = set(plt.get_fignums())
    ax = plot_survival(curve, at_risk=at_risk)
    assert ax.figure.number not in existing
    assert ax.figure.get_figwidth() * MM_PER_INCH == pytest.approx(WIDTHS_MM["single"])
    ax.figure.canvas.draw()
    texts = [t for t in ax.figure.findobj(Text) if t.get_visible() and t.get_text()]
    sizes = {t.get_text(): t.get_fontsize() for t in texts}
    assert all(7 <= s <= 8 for s in sizes.values()), sizes
    assert not ax.spines["top"].get_visible() and not ax.spines["right"].get_visible()


@pytest.mark.parametrize("given_ax", [False, True])
def test_leaves_global_rcparams_alone(curve, at_risk, median, given_ax):
    before = dict(matplotlib.rcParams)
    ax = plt.subplots()[1] if given_ax else None
    plot_survival(curve, ax=ax, at_risk=at_risk, median=median)
    assert dict(matplotlib.rcParams) == before


def test_colours_are_the_palette_or_grey(curve, median):
    ax = plot_survival(curve, median=median.assign(estimate=[41.0, 96.0]))
    for line in ax.lines:
        colour = _hex(line.get_color())
        r, g, b = (int(colour[i:i + 2], 16) for i in (1, 3, 5))
        assert colour in PALETTE or r == g == b, colour


def test_arm_label():
    assert arm_label("dry_needling") == "Dry needling"
    assert arm_label("usual_care_plus") == "Usual care plus"
    assert arm_label(2) == "2"


def test_saved_svg_keeps_the_table_as_text(curve, at_risk, tmp_path):
    ax = plot_survival(curve, at_risk=at_risk)
    svg = save_figure(ax.figure, tmp_path / "fig.svg").read_text(encoding="utf-8")
    assert "Number at risk" in svg and re.search(r">\s*1040\s*<", svg)


# ------------------------------------------------------------------ errors
def _bad(frame: pd.DataFrame, column: str, row: int, value) -> pd.DataFrame:
    """``frame`` with one cell changed."""
    frame = frame.copy()
    frame.loc[row, column] = value
    return frame


@pytest.mark.parametrize(("make", "match"), [
    (lambda c, a: dict(curve=c.drop(columns="ci_upper")), r"curve lacks column\(s\) \['ci_up"),
    (lambda c, a: dict(curve=c.iloc[:0]), "curve has no rows"),
    (lambda c, a: dict(curve=c.to_dict()), "curve must be a pandas DataFrame"),
    (lambda c, a: dict(curve=_bad(c, "time", 2, -1.0)),
     r"curve.time has 1 negative value \(first at row 2\); times must be >= 0"),
    (lambda c, a: dict(curve=_bad(c, "time", 1, np.nan)),
     r"curve.time has 1 missing or infinite value \(first at row 1\)"),
    (lambda c, a: dict(curve=_bad(c, "estimate", 3, 1.2)), "curve.estimate has 1"),
    (lambda c, a: dict(curve=_bad(c, "estimate", 3, 0.9)),
     "increases over time in arm 'dry_needling' \\(at time 77\\)"),
    (lambda c, a: dict(curve=_bad(c, "time", 1, 9.0)),
     r"1 repeated row \(first at row 1\) of \(arm, time\)"),
    (lambda c, a: dict(curve=c.assign(time_lower=c["time"])), "only one of time_lower"),
    (lambda c, a: dict(curve=c, arm_order=["sham"]), "arm_order must name each arm"),
    (lambda c, a: dict(curve=c, reference="control"), "reference 'control' is not an arm"),
    (lambda c, a: dict(curve=c, times=[]), "times is empty"),
    (lambda c, a: dict(curve=c, times=[0, -5]), r"times has 1 negative value \(first at row 1\)"),
    (lambda c, a: dict(curve=c, at_risk=a.iloc[:-1]),
     r"at_risk has no number for 1 \(arm, time\) pair\(s\), e.g. \('sham', 120\)"),
    (lambda c, a: dict(curve=c, at_risk=a, times=[0, 45]), "no number for 2"),
    (lambda c, a: dict(curve=c, at_risk=_bad(a, "n_at_risk", 4, -1)),
     "at_risk.n_at_risk has 1 .*numbers at risk must be counts"),
    (lambda c, a: dict(curve=c, at_risk=_bad(a, "arm", 0, "placebo")),
     r"at_risk has arm\(s\) \['placebo'\] that curve lacks"),
    (lambda c, a: dict(curve=c, median=pd.DataFrame({"arm": ["sham"], "estimate": [1.0]})),
     r"median has no row for arm\(s\) \['dry_needling'\]"),
    (lambda c, a: dict(curve=c, median=pd.DataFrame({"arm": ["sham", "dry_needling"],
                                                      "estimate": ["long", 3.0]})),
     r"median.estimate has 1 non-numeric value \(first at row 0\), e.g. 'long'"),
    (lambda c, a: dict(curve=c, censor_marks=pd.DataFrame({"arm": ["sham"], "time": [-2]})),
     r"censor_marks.time has 1 negative value \(first at row 0\)"),
])
def test_bad_input_is_named(curve, at_risk, make, match):
    with pytest.raises(AnalysisError, match=match):
        plot_survival(**make(curve, at_risk))
    assert not plt.get_fignums()                  # checked before anything is drawn


def test_overlapping_turnbull_intervals_are_rejected(turnbull):
    bad = _bad(turnbull, "time_lower", 1, 20.0)
    with pytest.raises(AnalysisError, match="overlapping Turnbull intervals in arm 'sham'"):
        plot_survival(bad)
    reversed_ = _bad(turnbull, "time_lower", 0, 30.0)
    with pytest.raises(AnalysisError, match="time_lower > time_upper"):
        plot_survival(reversed_)


def test_is_exported():
    assert dno.plots.plot_survival is plot_survival


# ------------------------------------------------------------------ result figures
def _table_rows(ax, title: str) -> dict[str, list[str]]:
    """The numbers-at-risk table as drawn: arm label -> its numbers, left to right."""
    texts = [t.get_text() for t in ax.texts]
    start = texts.index(title) + 1
    n_times = len(ax.get_xticks())
    rows = {}
    for i in range(start, len(texts), n_times + 1):
        rows[texts[i]] = texts[i + 1:i + 1 + n_times]
    return rows


def test_soreness_figure_has_the_sessions_still_sore_under_the_axes(sample_cohort):
    res = dno.soreness_duration(sample_cohort, n_boot=0, progress=False)
    ax = res.plot()
    rows = _table_rows(ax, "Sessions still sore")
    # counted here from the assessments: a session's soreness "time" is its upper bound
    # when it ended, else (still sore when last asked) its lower bound; a session is at
    # risk at t while that time is >= t
    a = sample_cohort.assessments
    a = a[a["soreness_lower_h"].notna()]
    arm = a["patient_id"].map(sample_cohort.patients.set_index("patient_id")["arm"])
    upper = a["soreness_upper_h"].to_numpy(dtype=float)
    time = np.where(np.isfinite(upper), upper, a["soreness_lower_h"].to_numpy(dtype=float))
    ticks = ax.get_xticks()
    assert len(rows) == arm.nunique()
    for name in arm.unique():
        t = time[(arm == name).to_numpy()]
        want = [str(int((t >= tick).sum())) for tick in ticks]
        assert rows[arm_label(name)] == want
    plt.close("all")


def test_relief_figure_states_its_ci_level(sample_cohort):
    res = dno.time_to_relief(sample_cohort, "first_step_pain", relief=dno.Relief(mcid=True),
                             interval_censored=False, conf_level=0.9)
    ax = res.plot()
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "90% CI" in legend and not any("95%" in t for t in legend)
    rows = _table_rows(ax, "Number at risk")
    n = res.at_risk(ax.get_xticks())
    for arm, numbers in zip(res.arms, rows.values(), strict=True):
        assert numbers == [f"{v:.0f}" for v in n.loc[n["arm"] == arm, "n_at_risk"]]
    plt.close("all")


def test_the_band_entry_only_when_bands_are_drawn(curve):
    ax = plot_survival(curve, conf_level=0.9)
    assert [t.get_text() for t in ax.get_legend().get_texts()][-1] == "90% CI"
    ax = plot_survival(curve, conf_level=0.9, ci=False)
    assert "90% CI" not in [t.get_text() for t in ax.get_legend().get_texts()]
    plt.close("all")
