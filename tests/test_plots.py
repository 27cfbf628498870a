"""Figures: what was drawn (artists and their data), not pixels; styles; journal sizes.

Following seaborn's plot tests, each figure function is checked through the artists
it leaves on the Axes: the line data of the model means, the vertices of the CI
bands, the segments of the interval collections, the reference lines. Sizes of saved
files are read from the files themselves (PNG header, PDF MediaBox, SVG width).

Tolerances:
- drawn data against the result tables: 1e-12 relative (the same floats, only scaled);
- PNG width: 1 pixel (matplotlib truncates width_in * dpi to whole pixels);
- PDF/SVG width: 0.01 pt (written with at least 6 decimals).
"""

from __future__ import annotations

import re
import struct
import warnings

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.collections import LineCollection, PolyCollection
from matplotlib.colors import to_hex
from matplotlib.container import ErrorbarContainer
from matplotlib.font_manager import FontProperties
from matplotlib.text import Text

import dryneedle_outcomes as dno
from dryneedle_outcomes.errors import DryNeedleError
from dryneedle_outcomes.plots import (
    PALETTE,
    WIDTHS_MM,
    arm_colours,
    paper_style,
    plot_adverse_events,
    plot_arm_differences,
    plot_responders,
    plot_trajectory,
    save_figure,
)
from dryneedle_outcomes.plots.harms import term_label
from dryneedle_outcomes.plots.trajectory import INDIVIDUALS_UP_TO, OBSERVED_DODGE

MM_PER_INCH = 25.4


# ------------------------------------------------------------------ fixtures
@pytest.fixture(scope="module")
def cohort():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        simulated = dno.simulate_cohort(n_patients=60, seed=5)
    assert not caught, [str(w.message) for w in caught]      # a clean cohort to draw
    return simulated


@pytest.fixture(scope="module")
def fit(cohort):
    result = dno.fit_trajectory(cohort, "first_step_pain", model="mmrm")
    assert result.converged, result.warnings
    return result


@pytest.fixture(scope="module")
def rates(cohort):
    return dno.adverse_event_rates(cohort, per="session")


@pytest.fixture(scope="module")
def resp(cohort):
    return dno.responders(cohort, "first_step_pain")


@pytest.fixture
def drawers(fit, rates, resp):
    """Every figure function, bound to a result: ``name -> f(ax=None) -> Axes``."""
    return {
        "trajectory": lambda ax=None: plot_trajectory(fit, ax=ax),
        "arm_differences": lambda ax=None: plot_arm_differences(fit, ax=ax),
        "adverse_events": lambda ax=None: plot_adverse_events(rates, ax=ax),
        "responders": lambda ax=None: plot_responders(resp, ax=ax),
        "trajectory_method": lambda ax=None: fit.plot(ax=ax),
        "adverse_events_method": lambda ax=None: rates.plot(ax=ax),
        "responders_method": lambda ax=None: resp.plot(ax=ax),
    }


DRAWERS = ["trajectory", "arm_differences", "adverse_events", "responders",
           "trajectory_method", "adverse_events_method", "responders_method"]


def _hex(colour) -> str:
    return to_hex(colour, keep_alpha=False).upper()


def _rc_snapshot() -> dict:
    return dict(matplotlib.rcParams)


# ------------------------------------------------------------------ plot_trajectory
def test_trajectory_one_model_line_per_arm_with_the_marginal_means(fit):
    ax = plot_trajectory(fit)
    mm = fit.marginal_means
    arms = list(fit.frame.arms)
    model_lines = [ln for ln in ax.lines if ln.get_label().endswith("(model)")]
    assert [ln.get_label() for ln in model_lines] == [f"{a} (model)" for a in arms]
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    # the arms by readable name and colour, then the marks with the CI level
    assert legend == ["Sham", "Dry needling", "Model mean (95% CI)",
                      "Observed mean (95% CI)", "Patients"]
    for line, arm in zip(model_lines, arms, strict=True):
        sub = mm[mm["arm"] == arm].sort_values("visit")
        np.testing.assert_allclose(line.get_ydata(), sub["estimate"], rtol=1e-12)
        # each visit at its mean day / 7 (weeks since baseline); arms are dodged by at
        # most 0.08 weeks so their markers do not overlap
        days = fit.frame.data.groupby("visit")["day"].mean()
        np.testing.assert_allclose(line.get_xdata(), sub["visit"].map(days) / 7,
                                   atol=0.08 + 1e-12)
        assert _hex(line.get_color()) == arm_colours(arms, reference=fit.reference_arm)[arm]


def test_trajectory_one_ci_polygon_per_arm_spanning_the_ci(fit):
    ax = plot_trajectory(fit)
    mm = fit.marginal_means
    arms = list(fit.frame.arms)
    bands = [c for c in ax.collections if isinstance(c, PolyCollection)]
    assert len(bands) == len(arms)
    for band, arm in zip(bands, arms, strict=True):
        sub = mm[mm["arm"] == arm]
        y = band.get_paths()[0].vertices[:, 1]
        assert np.isclose(y.min(), sub["ci_lower"].min())
        assert np.isclose(y.max(), sub["ci_upper"].max())
        assert _hex(band.get_facecolor()[0]) == arm_colours(arms, reference="sham")[arm]
        assert 0 < band.get_alpha() < 1          # translucent: both arms stay visible


def test_trajectory_observed_means_are_open_markers(fit):
    ax = plot_trajectory(fit)
    observed = [ln for ln in ax.lines if ln.get_label().endswith("(observed)")]
    model = [ln for ln in ax.lines if ln.get_label().endswith("(model)")]
    assert len(observed) == len(fit.frame.arms)
    data = fit.frame.data
    for line, mline, arm in zip(observed, model, fit.frame.arms, strict=True):
        assert line.get_linestyle() == "None"
        assert line.get_markerfacecolor() == "white"           # open: white inside
        want = data[data["arm"] == arm].groupby("visit")["y"].mean()
        np.testing.assert_allclose(line.get_ydata(), want.to_numpy(), rtol=1e-12)
        # beside the model's mean at each visit, not on it
        np.testing.assert_allclose(line.get_xdata() - mline.get_xdata(), OBSERVED_DODGE,
                                   rtol=1e-12)
    ax = plot_trajectory(fit, observed=False)
    assert not [ln for ln in ax.lines if ln.get_label().endswith("(observed)")]


@pytest.mark.parametrize("error", ["ci", "sd"])
def test_trajectory_observed_means_have_their_interval(fit, error):
    # t-based CI of each observed mean (scipy's t.interval, computed here per group) or
    # one SD either side
    from scipy import stats

    ax = plot_trajectory(fit, observed_error=error)
    data = fit.frame.data
    bars = [c for c in ax.collections if isinstance(c, LineCollection)
            and not c.get_label().endswith("individuals")]
    assert len(bars) == len(fit.frame.arms)
    for coll, arm in zip(bars, fit.frame.arms, strict=True):
        rows = data[data["arm"] == arm]
        lower, upper = [], []
        for _, g in rows.groupby("visit"):
            y = g["y"].to_numpy(dtype=float)
            m, sd = y.mean(), y.std(ddof=1)
            if error == "ci":
                lo, hi = stats.t.interval(0.95, len(y) - 1, loc=m, scale=sd / np.sqrt(len(y)))
            else:
                lo, hi = m - sd, m + sd
            lower.append(lo)
            upper.append(hi)
        segs = coll.get_segments()
        np.testing.assert_allclose([s[0, 1] for s in segs], lower, rtol=1e-10)
        np.testing.assert_allclose([s[1, 1] for s in segs], upper, rtol=1e-10)
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert ("Observed mean (95% CI)" if error == "ci" else "Observed mean (SD)") in legend


def test_trajectory_individuals_off_by_default_above_100_per_arm():
    big = dno.simulate_cohort(n_patients=220, seed=3)          # 110 per arm
    fit = dno.fit_trajectory(big, "first_step_pain", model="session_means")
    assert big.patients["arm"].value_counts().min() > INDIVIDUALS_UP_TO

    def individuals(ax):
        return [c for c in ax.collections if c.get_label().endswith("individuals")]

    ax = plot_trajectory(fit)
    assert not individuals(ax)
    assert "Patients" not in [t.get_text() for t in ax.get_legend().get_texts()]
    ax = plot_trajectory(fit, individuals=True, max_individuals=30)
    lines = individuals(ax)
    assert [len(c.get_segments()) for c in lines] == [30, 30]     # a subset per arm
    plt.close("all")


def test_trajectory_individuals_on_by_default_up_to_100_per_arm(fit):
    ax = plot_trajectory(fit)                                   # 30 per arm
    lines = [c for c in ax.collections if c.get_label().endswith("individuals")]
    per_arm = fit.frame.data.groupby("arm")["patient_id"].nunique()
    assert [len(c.get_segments()) for c in lines] == [per_arm[a] for a in fit.frame.arms]
    assert not plot_trajectory(fit, individuals=False).collections[0].get_label() \
        .endswith("individuals")


def test_trajectory_marks_the_follow_up_and_no_mcid_line(fit):
    # no line of the MCID from the mean baseline: a group mean is not judged against an
    # individual-level MCID (IMMPACT, Dworkin et al. 2009)
    ax = plot_trajectory(fit)
    assert not [ln for ln in ax.lines if ln.get_linestyle() == "--"]
    assert [t.get_text() for t in ax.texts] == ["follow-up"]
    (span,) = [p for p in ax.patches if p.get_label() == "_follow-up"]
    x = {v: d / 7 for v, d in fit.frame.visit_days.items()}
    # the region starts between the last session (visit 6) and the follow-up (visit 7)
    # its x extent in data units (a Rectangle in newer matplotlib, a Polygon in the oldest
    # allowed: read its path)
    xs = ax.transData.inverted().transform(
        span.get_transform().transform(span.get_path().vertices))[:, 0]
    assert x[6] < xs.min() < x[7] < xs.max()


def test_trajectory_axes_labels_and_ticks(fit):
    ax = plot_trajectory(fit)
    assert ax.get_ylabel() == dno.get_instrument("first_step_pain").label
    days = fit.frame.data.groupby("visit")["day"].mean()
    np.testing.assert_allclose(ax.get_xticks(), days.loc[fit.frame.visits] / 7, rtol=1e-12)
    assert ax.get_xlabel() == "Weeks since baseline"
    assert [t.get_text() for t in ax.get_xticklabels()] == ["1", "2", "3", "4", "5", "6",
                                                            "12"]
    assert ax.get_legend() is not None


# ------------------------------------------------------------------ plot_arm_differences
def test_arm_differences_one_interval_per_visit(fit):
    ax = plot_arm_differences(fit)
    diff = fit.comparison
    intervals = [c for c in ax.collections if isinstance(c, LineCollection)]
    assert len(intervals) == 1                   # one comparison: needling minus sham
    segments = intervals[0].get_segments()
    assert len(segments) == len(diff) == diff["visit"].nunique()
    lower = np.array([seg[0, 0] for seg in segments])
    upper = np.array([seg[1, 0] for seg in segments])
    np.testing.assert_allclose(lower, diff["ci_lower"], rtol=1e-12)
    np.testing.assert_allclose(upper, diff["ci_upper"], rtol=1e-12)
    assert all(seg[0, 1] == seg[1, 1] for seg in segments)      # horizontal intervals
    markers = [ln for ln in ax.lines if ln.get_marker() == "s"]
    assert len(markers) == 1
    np.testing.assert_allclose(markers[0].get_xdata(), diff["estimate"], rtol=1e-12)
    assert [t.get_text() for t in ax.get_yticklabels()] == [
        f"Visit {v}" for v in diff["visit"]]


def test_arm_differences_zero_line_and_no_mcid_lines(fit):
    ax = plot_arm_differences(fit)
    vertical: dict[str, list[float]] = {}            # line style -> x of vertical lines
    for ln in ax.lines:
        x = np.asarray(ln.get_xdata(), dtype=float)
        if len(x) == 2 and x[0] == x[1]:
            vertical.setdefault(ln.get_linestyle(), []).append(x[0])
    # no difference only: a between-arm difference is not judged against an
    # individual-level MCID (IMMPACT), so no lines at +/- the MCID
    assert vertical == {"-": [0.0]}
    assert ax.get_xlabel() == "Difference in first-step pain (VAS, mm)\n(95% CI)"


# ------------------------------------------------------------------ plot_adverse_events
def test_adverse_events_one_marker_series_per_arm_one_point_per_term(cohort):
    rates = dno.adverse_event_rates(cohort, per="session", by="term")
    ax = plot_adverse_events(rates, groups=("term",))
    table = rates.table[rates.table["group"] == "term"]
    terms = list(dict.fromkeys(table["term"]))
    arms = list(dict.fromkeys(table["arm"]))
    assert [ln.get_label() for ln in ax.lines] == [str(a) for a in arms]
    for line in ax.lines:
        sub = table[table["arm"] == line.get_label()]
        assert len(line.get_xdata()) == len(terms)
        np.testing.assert_allclose(line.get_xdata(), 100 * sub["estimate"].to_numpy())
        assert _hex(line.get_color()) in PALETTE
    whiskers = [c for c in ax.collections if isinstance(c, LineCollection)]
    assert len(whiskers) == len(arms)
    for coll, arm in zip(whiskers, arms, strict=True):
        sub = table[table["arm"] == arm]
        segs = coll.get_segments()
        assert len(segs) == len(terms)
        np.testing.assert_allclose([s[1, 0] for s in segs], 100 * sub["ci_upper"], rtol=1e-12)
    labels = [t.get_text() for t in ax.get_yticklabels()]
    # the terms bottom up, under their block's heading
    assert labels == [term_label("term", t) for t in reversed(terms)] + ["By term"]
    assert ax.get_xlabel() == "Appointments with the event\n(%, 95% CI)"


# ------------------------------------------------------------------ plot_responders
def test_responders_error_bars_per_arm(resp):
    ax = plot_responders(resp)
    table = resp.table
    arms = list(dict.fromkeys(table["arm"]))
    bars = [c for c in ax.containers if isinstance(c, ErrorbarContainer)]
    assert len(bars) == len(arms)
    for container, arm in zip(bars, arms, strict=True):
        sub = table[table["arm"] == arm].sort_values("visit")
        assert container.has_yerr and not container.has_xerr
        assert container.get_label() == str(arm)
        data_line, _, (barlines,) = container.lines
        np.testing.assert_allclose(data_line.get_ydata(), 100 * sub["estimate"], rtol=1e-12)
        segs = barlines.get_segments()
        assert len(segs) == len(sub)
        np.testing.assert_allclose([s[0, 1] for s in segs], 100 * sub["ci_lower"], rtol=1e-12)
        np.testing.assert_allclose([s[1, 1] for s in segs], 100 * sub["ci_upper"], rtol=1e-12)
        assert _hex(data_line.get_color()) == arm_colours(arms, reference="sham")[arm]
    assert ax.get_ylim() == pytest.approx((0.0, 102.0))
    assert ax.get_ylabel() == "Responders (%, 95% CI)"


def test_responders_as_proportions(resp):
    ax = plot_responders(resp, percent=False)
    data_line = ax.containers[0].lines[0]
    assert np.nanmax(data_line.get_ydata()) <= 1.0
    assert ax.get_ylim() == pytest.approx((0.0, 1.02))


# ------------------------------------------------------------------ every function
@pytest.mark.parametrize("name", DRAWERS)
def test_returns_the_axes_it_was_given(drawers, name):
    fig, (ax1, ax2) = plt.subplots(1, 2)
    n_figures = len(plt.get_fignums())
    assert drawers[name](ax=ax2) is ax2
    assert len(plt.get_fignums()) == n_figures            # no figure of its own
    assert ax2.has_data() and not ax1.has_data()          # drew into ax2 only


@pytest.mark.parametrize("name", DRAWERS)
def test_draws_into_a_new_single_column_figure(drawers, name):
    existing = set(plt.get_fignums())
    ax = drawers[name]()
    assert ax.figure.number not in existing
    assert len(plt.get_fignums()) == len(existing) + 1
    assert ax.has_data()
    width_mm = ax.figure.get_figwidth() * MM_PER_INCH
    assert width_mm == pytest.approx(WIDTHS_MM["single"])


@pytest.mark.parametrize("name", DRAWERS)
@pytest.mark.parametrize("given_ax", [False, True])
def test_leaves_global_rcparams_alone(drawers, name, given_ax):
    before = _rc_snapshot()
    ax = plt.subplots()[1] if given_ax else None
    drawers[name](ax=ax)
    assert _rc_snapshot() == before


@pytest.mark.parametrize("name", DRAWERS)
def test_new_figures_use_the_paper_style(drawers, name):
    ax = drawers[name]()
    ax.figure.canvas.draw()
    ticks = ax.get_xticklabels() + ax.get_yticklabels()
    assert ticks
    assert all(7 <= t.get_fontsize() <= 8 for t in ticks)
    assert all(t.get_fontfamily() == ["sans-serif"] for t in ticks)
    # every visible text (labels, legend, notes) is 7-8 pt
    texts = [t for t in ax.figure.findobj(Text) if t.get_visible() and t.get_text()]
    sizes = {t.get_text(): t.get_fontsize() for t in texts}
    assert all(7 <= s <= 8 for s in sizes.values()), sizes
    assert not ax.spines["top"].get_visible() and not ax.spines["right"].get_visible()


# ------------------------------------------------------------------ style
def test_paper_style_is_a_context_manager_that_restores_rcparams():
    before = _rc_snapshot()
    with paper_style():
        assert matplotlib.rcParams["font.family"] == ["sans-serif"]
        fig, ax = plt.subplots()
        ax.plot([0, 1], [0, 1])
        ax.set_xlabel("Visit")
    assert _rc_snapshot() == before
    fig.canvas.draw()
    ticks = ax.get_xticklabels() + ax.get_yticklabels()
    assert ticks and all(7 <= t.get_fontsize() <= 8 for t in ticks)
    assert 7 <= ax.xaxis.label.get_fontsize() <= 8
    # outside the context, matplotlib's own sizes are back
    fig2, ax2 = plt.subplots()
    default = FontProperties(size=matplotlib.rcParams["axes.labelsize"]).get_size_in_points()
    assert ax2.xaxis.label.get_fontsize() == default != ax.xaxis.label.get_fontsize()


def test_paper_style_keeps_interactive_mode_switched_on_inside():
    # Jupyter's inline backend switches interactive mode on when a session's first figure
    # is made; when that happens inside paper_style, later figures must still be shown
    was = matplotlib.is_interactive()
    font_size = matplotlib.rcParams["font.size"]
    try:
        matplotlib.interactive(False)
        with paper_style():
            matplotlib.interactive(True)
        assert matplotlib.is_interactive()
        assert matplotlib.rcParams["font.size"] == font_size       # the style is gone
        with paper_style():
            pass
        assert matplotlib.is_interactive()                         # untouched: unchanged
    finally:
        matplotlib.interactive(was)


def test_paper_style_restores_rcparams_after_an_error():
    before = _rc_snapshot()
    with pytest.raises(ValueError, match="inside"), paper_style():
        raise ValueError("inside")
    assert _rc_snapshot() == before


def test_one_okabe_ito_palette():
    okabe_ito = {"#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00",
                 "#F0E442", "#000000"}
    assert set(PALETTE) == okabe_ito
    assert len(PALETTE) == len(okabe_ito)
    colours = arm_colours([f"arm{i}" for i in range(10)])
    assert list(colours.values())[:8] == list(PALETTE)
    assert colours["arm8"] == PALETTE[0]                  # cycles, never invents a colour


def test_an_arm_has_one_colour_in_every_figure(fit, rates, resp):
    # the fit lists the reference arm first, the rates and responders tables do not
    assert list(fit.frame.arms) == ["sham", "dry_needling"]
    assert list(dict.fromkeys(rates.table["arm"])) == ["dry_needling", "sham"]
    colours = {}
    ax = plot_trajectory(fit)
    for line in ax.lines:
        if line.get_label().endswith("(model)"):
            colours.setdefault(line.get_label().split(" ")[0], set()).add(_hex(line.get_color()))
    for line in plot_adverse_events(rates).lines:
        colours[line.get_label()].add(_hex(line.get_color()))
    for container in plot_responders(resp).containers:
        colours[container.get_label()].add(_hex(container.lines[0].get_color()))
    forest = [ln for ln in plot_arm_differences(fit).lines if ln.get_marker() == "s"]
    colours["dry_needling"].add(_hex(forest[0].get_color()))   # needling minus sham
    assert colours == {"sham": {PALETTE[0]}, "dry_needling": {PALETTE[1]}}


def test_arm_colours_reference_first_whatever_the_order():
    got = arm_colours(["b", "a", "c"], reference="a")
    assert got == {"a": PALETTE[0], "b": PALETTE[1], "c": PALETTE[2]}
    assert arm_colours(["b", "a"], reference="not an arm") == {"b": PALETTE[0], "a": PALETTE[1]}


@pytest.mark.parametrize("name", ["trajectory", "arm_differences", "adverse_events",
                                  "responders"])
def test_arm_colours_come_from_the_palette(drawers, name):
    ax = drawers[name]()
    grey_or_palette = set(PALETTE)
    for line in ax.lines:
        colour = _hex(line.get_color())
        r, g, b = (int(colour[i:i + 2], 16) for i in (1, 3, 5))
        assert colour in grey_or_palette or r == g == b, colour   # arms coloured, refs grey


# ------------------------------------------------------------------ save_figure
def _png_width(data: bytes) -> int:
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])[0]


def _pdf_width_pt(data: bytes) -> float:
    x0, _, x1, _ = map(float, re.search(rb"/MediaBox\s*\[\s*([^\]]+)\]", data)[1].split())
    return x1 - x0


def _svg_width_pt(data: bytes) -> float:
    return float(re.search(rb'<svg[^>]*\swidth="([0-9.]+)pt"', data)[1])


def _busy_figure(fit, layout=None):
    """A 6 x 4 inch paper-style figure with a two-line axis label and a title."""
    with paper_style():
        fig, ax = plt.subplots(figsize=(6, 4), layout=layout)
        plot_trajectory(fit, ax=ax)
        ax.set_ylabel("First-step pain (mm)\nhigher = worse")
        ax.set_title("First-step pain by arm (MMRM)")
    return fig


@pytest.mark.parametrize("width", ["single", "double"])
@pytest.mark.parametrize("dpi", [300, 600])
def test_save_png_exact_journal_width(fit, tmp_path, width, dpi):
    fig = _busy_figure(fit)
    path = save_figure(fig, tmp_path / "fig.png", width=width, dpi=dpi)
    assert path == tmp_path / "fig.png"
    want = WIDTHS_MM[width] / MM_PER_INCH * dpi
    assert abs(_png_width(path.read_bytes()) - want) <= 1


@pytest.mark.parametrize("width", ["single", "double"])
def test_save_pdf_and_svg_exact_journal_width(fit, tmp_path, width):
    fig = _busy_figure(fit)
    want_pt = WIDTHS_MM[width] / MM_PER_INCH * 72
    pdf = save_figure(fig, tmp_path / "fig.pdf", width=width).read_bytes()
    assert pdf[:4] == b"%PDF"
    assert _pdf_width_pt(pdf) == pytest.approx(want_pt, abs=0.01)
    svg = save_figure(fig, tmp_path / "fig.svg", width=width).read_bytes()
    assert b"<svg" in svg
    assert _svg_width_pt(svg) == pytest.approx(want_pt, abs=0.01)


def test_save_width_in_mm_and_height(fit, tmp_path):
    fig = _busy_figure(fit)
    pdf = save_figure(fig, tmp_path / "fig.pdf", width=120, height_mm=80).read_bytes()
    x0, y0, x1, y1 = map(float, re.search(rb"/MediaBox\s*\[\s*([^\]]+)\]", pdf)[1].split())
    assert x1 - x0 == pytest.approx(120 / MM_PER_INCH * 72, abs=0.01)
    assert y1 - y0 == pytest.approx(80 / MM_PER_INCH * 72, abs=0.01)


def test_save_keeps_the_aspect_ratio_by_default(fit, tmp_path):
    fig = _busy_figure(fit)                                  # 6 x 4 inches
    png = save_figure(fig, tmp_path / "fig.png", width="single", dpi=300).read_bytes()
    w, h = struct.unpack(">II", png[16:24])
    assert h / w == pytest.approx(4 / 6, abs=0.005)


@pytest.mark.parametrize("layout", [None, "constrained"])
def test_saved_figure_fits_its_page(fit, tmp_path, layout):
    # at the exact width nothing may be cut off: labels are laid out inside the page
    fig = _busy_figure(fit, layout)
    png = save_figure(fig, tmp_path / "fig.png", width="single", dpi=300).read_bytes()
    assert abs(_png_width(png) - 85 / MM_PER_INCH * 300) <= 1
    renderer = fig.canvas.get_renderer()
    page = fig.bbox
    for ax in fig.axes:
        box = ax.get_tightbbox(renderer)
        assert box.x0 >= page.x0 - 1 and box.x1 <= page.x1 + 1
        assert box.y0 >= page.y0 - 1 and box.y1 <= page.y1 + 1


def test_save_two_panel_figure_double_column(fit, tmp_path):
    fig, (ax1, ax2) = plt.subplots(1, 2)
    assert plot_arm_differences(fit, ax=ax1) is ax1
    assert plot_trajectory(fit, ax=ax2) is ax2
    png = save_figure(fig, tmp_path / "fig2.png", width="double", dpi=300).read_bytes()
    assert abs(_png_width(png) - 174 / MM_PER_INCH * 300) <= 1
    assert ax1.get_position().x1 < ax2.get_position().x0        # panels do not overlap


def test_save_embeds_truetype_fonts_in_pdf_and_text_in_svg(fit, tmp_path):
    fig = _busy_figure(fit)
    pdf = save_figure(fig, tmp_path / "fig.pdf").read_bytes()
    assert b"/FontFile2" in pdf                 # TrueType (pdf.fonttype 42)
    assert b"/Type3" not in pdf                 # journals reject Type 3 fonts
    svg = save_figure(fig, tmp_path / "fig.svg").read_text(encoding="utf-8")
    assert "Weeks since baseline" in svg        # text kept as text (svg.fonttype none)


def test_save_leaves_global_rcparams_alone(fit, tmp_path):
    fig = _busy_figure(fit)
    before = _rc_snapshot()
    save_figure(fig, tmp_path / "fig.pdf", width="double")
    assert _rc_snapshot() == before


def test_save_creates_the_folder(fit, tmp_path):
    fig = _busy_figure(fit)
    path = save_figure(fig, tmp_path / "figures" / "paper" / "fig.svg")
    assert path.is_file()


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"path": "fig.jpg"}, "pdf, .svg or .png"),
    ({"path": "fig.pdf", "width": "triple"}, "single', 'double' or millimetres"),
    ({"path": "fig.pdf", "width": -10}, "positive"),
])
def test_save_rejects_bad_arguments(fit, tmp_path, kwargs, match):
    fig = _busy_figure(fit)
    kwargs = {**kwargs, "path": tmp_path / kwargs["path"]}
    with pytest.raises(DryNeedleError, match=match):
        save_figure(fig, **kwargs)
    assert not list(tmp_path.iterdir())


def test_forest_plot_says_which_side_favours_which_arm():
    import dryneedle_outcomes as dno

    fit = dno.fit_trajectory(dno.simulate_cohort(n_patients=40, seed=5), model="mmrm",
                             covariance="cs")
    ax = dno.plots.plot_arm_differences(fit)
    texts = [t.get_text() for t in ax.texts]
    assert "\u2190 favours dry needling" in texts and "favours sham \u2192" in texts


def test_dose_response_plot_names_terms_it_cannot_draw():
    """A term without an estimate is not drawn, and the figure says so (not silently lost)."""
    import dataclasses

    import matplotlib.pyplot as plt

    import dryneedle_outcomes as dno
    from dryneedle_outcomes.plots.harms import plot_dose_response

    res = dno.dose_response(dno.simulate_cohort(n_patients=60, seed=3), terms="any")
    table = res.table.copy()
    table.loc[0, ["estimate", "ci_lower", "ci_upper"]] = float("nan")
    _, ax = plt.subplots()
    plot_dose_response(dataclasses.replace(res, table=table), ax=ax)
    texts = [t.get_text() for t in ax.texts]
    assert any(t.startswith("Not estimable (not drawn): any") for t in texts), texts
    assert len(ax.get_yticks()) == len(table) - 1


# ------------------------------------------------------------------ legends clear of data
def _data_in_display(ax):
    """Every drawn data point (line vertices and markers, band and bar outlines, error
    bar ends) in display coordinates, and the filled paths (CI bands), read from the
    artists here, independently of the package's own overlap test."""
    points, filled = [], []
    for line in ax.lines:
        if line.get_transform().contains_branch(ax.transData):
            points.append(line.get_transform().transform(np.asarray(line.get_xydata(),
                                                                    dtype=float)))
    for coll in ax.collections:
        if not coll.get_transform().contains_branch(ax.transData):
            continue
        for path in coll.get_paths():
            p = coll.get_transform().transform_path(path)
            points.append(p.vertices)
            if isinstance(coll, PolyCollection):
                filled.append(p)
    pts = np.vstack(points)
    return pts[np.isfinite(pts).all(axis=1)], filled


def _assert_legend_clear(ax):
    fig = ax.figure
    fig.canvas.draw()
    box = ax.get_legend().get_window_extent()
    pts, filled = _data_in_display(ax)
    inside = ((pts[:, 0] >= box.x0) & (pts[:, 0] <= box.x1) & (pts[:, 1] >= box.y0)
              & (pts[:, 1] <= box.y1))
    assert not inside.any(), pts[inside][:5]
    for path in filled:            # a band's area (not only its vertices) stays clear
        assert not path.intersects_bbox(box, filled=True)
    # and the legend is on the page
    page = fig.bbox
    assert box.x0 >= page.x0 - 1 and box.x1 <= page.x1 + 1
    assert box.y0 >= page.y0 - 1 and box.y1 <= page.y1 + 1


@pytest.mark.parametrize("width", ["single", "double"])
def test_trajectory_legend_does_not_cover_data_as_saved(fit, tmp_path, width):
    # the individual trajectories fill the axes: the legend goes above them, at either
    # journal width, after save_figure's new layout
    with paper_style():
        fig, ax = plt.subplots(figsize=(4, 3))
        plot_trajectory(fit, ax=ax)
    save_figure(fig, tmp_path / "fig.png", width=width, dpi=100)
    _assert_legend_clear(ax)
    assert ax.get_legend().get_window_extent().y0 >= ax.bbox.y1     # above the axes


@pytest.mark.parametrize("individuals", [False, True])
def test_trajectory_legend_clear_of_data_on_its_own_figure(fit, individuals):
    ax = plot_trajectory(fit, individuals=individuals)
    _assert_legend_clear(ax)
    plt.close("all")


def test_place_legend_stays_inside_where_a_corner_is_free():
    from dryneedle_outcomes.plots import place_legend

    with paper_style():
        fig, ax = plt.subplots(figsize=(3.3, 2.4))
        ax.plot([0, 1], [0, 1], marker="o", label="rising")       # upper left is free
        legend = place_legend(ax)
    _assert_legend_clear(ax)
    box, inside = legend.get_window_extent(), ax.bbox
    assert inside.x0 <= box.x0 and box.x1 <= inside.x1 and box.y1 <= inside.y1
    assert box.x1 < inside.x0 + inside.width / 2                  # the left half
    plt.close(fig)


@pytest.mark.parametrize("name", ["trajectory", "responders", "adverse_events"])
def test_legends_do_not_cover_data_in_report_figures(drawers, name):
    from dryneedle_outcomes.report.figures import render
    from dryneedle_outcomes.report.sections import NamedFigure

    drawn = {}

    def draw(ax):
        drawn["ax"] = drawers[name](ax=ax)

    render(NamedFigure(name, "", draw, 60.0 if name != "adverse_events" else 150.0),
           ("png",), width="single", dpi=100)
    _assert_legend_clear(drawn["ax"])


def test_place_legend_moves_above_when_every_corner_has_data():
    from dryneedle_outcomes.plots import place_legend

    with paper_style():
        fig, ax = plt.subplots(figsize=(3.3, 2.4))
        ax.fill_between([0, 1], [0, 0], [1, 1], label="a band over the whole axes")
        ax.plot([0, 1], [0.5, 0.5], label="a line")
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1)
        legend = place_legend(ax)
    fig.canvas.draw()
    assert legend.get_window_extent().y0 >= ax.bbox.y1
    _assert_legend_clear(ax)
    plt.close(fig)


# ------------------------------------------------------------------ the CI level stated
@pytest.fixture(scope="module")
def at_90(cohort):
    """Results at a 90% confidence level: every figure must say 90%, not 95%."""
    return {"fit": dno.fit_trajectory(cohort, "first_step_pain", model="mmrm",
                                      conf_level=0.9),
            "rates": dno.adverse_event_rates(cohort, per="patient", conf_level=0.9),
            "resp": dno.responders(cohort, "first_step_pain", conf_level=0.9)}


def _texts(ax) -> str:
    parts = [ax.get_xlabel(), ax.get_ylabel()]
    if ax.get_legend() is not None:
        parts += [t.get_text() for t in ax.get_legend().get_texts()]
    return " | ".join(parts)


@pytest.mark.parametrize("name", ["trajectory", "arm_differences", "adverse_events",
                                  "responders"])
def test_every_interval_figure_states_its_ci_level(at_90, name):
    draw = {"trajectory": lambda: plot_trajectory(at_90["fit"]),
            "arm_differences": lambda: plot_arm_differences(at_90["fit"]),
            "adverse_events": lambda: plot_adverse_events(at_90["rates"]),
            "responders": lambda: plot_responders(at_90["resp"])}[name]
    text = _texts(draw())
    assert "90% CI" in text and "95%" not in text, text
    plt.close("all")


def test_reference_based_and_tipping_figures_state_their_ci_level(cohort):
    res = dno.reference_based(cohort, "first_step_pain", method="jump_to_reference",
                              reference_arm="sham", conf_level=0.9, progress=False)
    text = _texts(res.plot())
    assert "Least-squares mean (90% CI)" in text and "95%" not in text
    text = _texts(res.tipping_point(deltas=[0, 10, 20]).plot())
    assert "90% CI" in text and "95%" not in text, text
    plt.close("all")


def test_reference_based_means_at_their_visit_times(cohort):
    res = dno.reference_based(cohort, "first_step_pain", method="jump_to_reference",
                              reference_arm="sham", progress=False)
    ax = res.plot()
    # the mean day of each visit's assessments / 7, computed from the cohort here
    a = cohort.assessments
    days = a[a["visit"].isin(res.visits)].groupby("visit")["day"].mean()
    np.testing.assert_allclose(ax.get_xticks(), days.loc[list(res.visits)] / 7, rtol=1e-12)
    assert ax.get_xlabel() == "Weeks since baseline"
    assert [t.get_text() for t in ax.texts] == ["follow-up"]
    plt.close("all")


def test_tipping_point_legend_clear_of_data_in_the_report(cohort):
    from dryneedle_outcomes.report.figures import render
    from dryneedle_outcomes.report.sections import NamedFigure

    tip = dno.reference_based(cohort, "first_step_pain", method="jump_to_reference",
                              reference_arm="sham", progress=False).tipping_point(
        deltas=[0, 20, 40, 60, 80, 100])
    drawn = {}

    def draw(ax):
        drawn["ax"] = tip.plot(ax=ax)

    render(NamedFigure("tipping_point", "", draw, 60.0), ("png",), width="single", dpi=100)
    _assert_legend_clear(drawn["ax"])


def test_responders_at_visit_times(resp, cohort):
    ax = plot_responders(resp)
    a = cohort.assessments
    visits = sorted(resp.table["visit"].unique())
    days = a[a["visit"].isin(visits)].groupby("visit")["day"].mean()
    np.testing.assert_allclose(ax.get_xticks(), days.loc[visits] / 7, rtol=1e-12)
    assert ax.get_xlabel() == "Weeks since baseline"
    line = ax.containers[0].lines[0]                 # the first arm, dodged to the left
    np.testing.assert_allclose(line.get_xdata(), days.loc[visits] / 7 - 0.08, rtol=1e-12)
    plt.close("all")


def test_observed_summary_at_visit_times(cohort):
    obs = dno.observed_summary(cohort, "first_step_pain")
    ax = obs.plot()
    a = cohort.assessments
    visits = sorted(obs.table["visit"].unique())
    days = a[a["visit"].isin(visits)].groupby("visit")["day"].mean()
    np.testing.assert_allclose(ax.get_xticks(), days.loc[visits] / 7, rtol=1e-12)
    plt.close("all")


# ------------------------------------------------------------------ AE labels and blocks
def test_adverse_event_rows_in_labelled_blocks_in_sentence_case(rates):
    ax = plot_adverse_events(rates)
    labels = [t.get_text() for t in ax.get_yticklabels()][::-1]      # top down
    headings = [t.get_text() for t in ax.get_yticklabels()[::-1]
                if t.get_fontweight() == "bold"]
    assert headings == ["Overall", "By term", "By severity",
                        "Serious events and withdrawals"]
    # each block's rows under its heading, in the table's order
    table = rates.table.drop_duplicates(["group", "term"])
    terms = table.loc[table["group"] == "term", "term"].tolist()
    start = labels.index("By term") + 1
    assert labels[start:start + len(terms)] == [term_label("term", t) for t in terms]
    assert labels[labels.index("By severity") + 1:labels.index("By severity") + 4] == [
        "Mild", "Moderate", "Severe"]
    assert "Post-needling soreness" in labels and "Any adverse event" in labels
    for label in labels:                     # sentence case: capital first, no codes
        assert "_" not in label and label[0].isupper(), label
        assert label[1:] == label[1:].lower() or label in headings, label
    # the markers sit on their rows: a block heading has no data
    heading_y = {t.get_text(): y for t, y in zip(ax.get_yticklabels(), ax.get_yticks())}
    for line in ax.lines:
        for heading in headings:
            assert np.min(np.abs(line.get_ydata() - heading_y[heading])) >= 0.5
    plt.close("all")


def test_sentence_case_of_vocabulary_terms():
    from dryneedle_outcomes.plots.harms import sentence_case

    assert sentence_case("post_needling_soreness") == "Post-needling soreness"
    assert sentence_case("aggravation_of_symptoms") == "Aggravation of symptoms"
    assert term_label("severity", "moderate") == "Moderate"
    assert term_label("withdrawal", "withdrawal") == "Withdrawal due to an adverse event"


def test_harms_table_figure_colours_the_reference_arm_first(cohort):
    from dryneedle_outcomes.harms import harms_table
    from dryneedle_outcomes.plots import plot_harms_table

    for reference in ("sham", None):        # sham is the control arm by its name
        ax = plot_harms_table(harms_table(cohort), reference=reference)
        colours = {ln.get_label(): _hex(ln.get_color()) for ln in ax.lines}
        assert colours == {"sham": PALETTE[0], "dry_needling": PALETTE[1]}
    assert ax.get_xlabel() == "Participants with the event\n(%, 95% CI)"
    plt.close("all")


# ------------------------------------------------------------------ double width
def test_double_width_report_figures_are_taller_and_reproducible():
    from dryneedle_outcomes.report.figures import render
    from dryneedle_outcomes.report.sections import NamedFigure

    fig = NamedFigure("line", "", lambda ax: ax.plot([0, 1], [0, 1]), 60.0)
    single = render(fig, ("png",), width="single", dpi=100)["png"]
    double = render(fig, ("png",), width="double", dpi=100)["png"]
    w1, h1 = struct.unpack(">II", single[16:24])
    w2, h2 = struct.unpack(">II", double[16:24])
    assert abs(w2 - 174 / MM_PER_INCH * 100) <= 1
    # 60 mm at 85 mm wide; at 174 mm the plot grows with the width up to half of it
    assert abs(h2 - min(60 * 174 / 85, 87.0) / MM_PER_INCH * 100) <= 1
    assert h2 / w2 < h1 / w1                 # wider, not a scaled-up copy of the page
    assert double == render(fig, ("png",), width="double", dpi=100)["png"]
    rows = NamedFigure("ae", "", lambda ax: None, 145.0, fixed_mm=120.0)
    assert rows.height_for(174.0) == pytest.approx(120.0 + 25.0 * 174 / 85)


def test_a_title_set_after_the_plot_stays_clear_of_a_legend_above(fit):
    # as in a notebook: the figure function first, then a panel title, then tight_layout
    with paper_style():
        fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(174 / MM_PER_INCH, 70 / MM_PER_INCH))
        plot_trajectory(fit, ax=ax2)
        ax2.set_title("B. First-step pain by arm", loc="left")
        fig.tight_layout()
    fig.canvas.draw()
    legend = ax2.get_legend().get_window_extent()
    title = [t for t in ax2.get_children() if isinstance(t, Text)
             and t.get_text() == "B. First-step pain by arm"][0].get_window_extent()
    assert legend.y0 >= ax2.bbox.y1                         # the legend is above the axes
    assert not legend.overlaps(title) and legend.y0 >= title.y1 - 0.5
    stale_before = fig.stale
    fig.canvas.draw()                  # drawing again moves nothing, so nothing goes stale
    assert ax2.get_legend().get_window_extent().bounds == legend.bounds
    assert fig.stale == stale_before is False
    plt.close(fig)
