"""Survival curves (Kaplan-Meier or Turnbull) by arm, with CI bands and numbers at risk,
and the per-session probability of relief of the discrete-time model.

The numbers-at-risk table is drawn under the x axis as annotations whose x is in data
coordinates (each number centred under its tick) and whose y hangs from the bottom of
the x-axis label, so the table stays aligned and clear of the axis label whatever the
figure's size; its texts belong to the Axes, so ``tight_layout`` and constrained
layout (and therefore :func:`~dryneedle_outcomes.save_figure`) reserve room for
it.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from ..errors import AnalysisError
from ..stats.checks import count_first
from .legend import ci_label, place_legend
from .style import (
    NOTE_FONTSIZE,
    arm_colours,
    arm_label,
    arm_legend,
    paper_style,
    single_column,
)

CURVE_COLUMNS = ("arm", "time", "estimate", "ci_lower", "ci_upper")

#: Height of a new figure's plotting area and of one row of the numbers-at-risk table (mm).
PLOT_HEIGHT_MM = 55.0
TABLE_ROW_MM = 3.6

#: Vertical layout of the table in points: gap under the x-axis label, then one line
#: per row (the title, then an arm per row); numbers sit this far left of the axis.
_TABLE_GAP_PT = 5.0
_TABLE_LINE_PT = 1.45 * NOTE_FONTSIZE
_DIGIT_WIDTH_EM = 0.65          # a digit's width in ems (0.56 in Arial, 0.64 in DejaVu Sans)


def plot_survival(curve: pd.DataFrame, ax=None, *, at_risk: pd.DataFrame | None = None,
                  median: pd.DataFrame | None = None, reference=None,
                  xlabel: str = "Days since baseline",
                  ylabel: str = "Proportion without relief", ci: bool = True,
                  times: Sequence[float] | None = None,
                  censor_marks: pd.DataFrame | None = None,
                  arm_order: Sequence | None = None, conf_level: float | None = None,
                  at_risk_title: str = "Number at risk"):
    """Survival curves by arm with CI bands, medians and a numbers-at-risk table.

    Each arm's curve starts at (0, 1) and is drawn as a right-continuous step function
    (``drawstyle="steps-post"``), its pointwise CI as a translucent band of the same
    steps in the arm's colour. When ``curve`` has ``time_lower`` and ``time_upper``
    columns it is read as a Turnbull (interval-censored) fit: the NPMLE only says that
    each drop happens somewhere inside ``(time_lower, time_upper]``, so the drop is
    drawn as a straight segment from ``(time_lower, S before)`` to ``(time_upper, S
    after)`` instead of a vertical step (a common convention for interval-censored
    curves), and the band follows the same segments. Curves are extended flat to the
    last of ``times``.

    Parameters
    ----------
    curve : DataFrame
        Columns ``arm``, ``time``, ``estimate``, ``ci_lower``, ``ci_upper`` (and for a
        Turnbull fit ``time_lower``, ``time_upper``): one row per arm and time at which
        the estimate changes, as a Kaplan-Meier or Turnbull engine returns it. The
        point (0, 1) is added. A missing CI limit (NaN, e.g. the log CI where the
        estimate is 0) leaves a gap in the band.
    ax : matplotlib Axes, optional
        Drawn on a new single-column figure (constrained layout) when omitted.
    at_risk : DataFrame, optional
        Columns ``arm``, ``time``, ``n_at_risk``. Drawn as a table under the axes, one
        row per arm, each number centred under the x tick at its time; the x ticks are
        set to those times (or to ``times``, which must then all be in ``at_risk``).
        Lay the figure out with ``tight_layout``, constrained layout or
        :func:`~dryneedle_outcomes.save_figure` so the page has room for it.
    median : DataFrame, optional
        Columns ``arm``, ``estimate`` (``ci_lower``, ``ci_upper`` are allowed and not
        drawn), one row per arm. Each median is a dotted line in the arm's colour from
        the curve's 0.5 point down to the x axis, with one grey dotted line at 0.5; a
        NaN median (not reached) is named in a note above the axes.
    reference : optional
        The reference arm: it takes the first colour, as in every figure of the package.
    xlabel, ylabel : str
    ci : bool
        Draw the CI bands.
    times : sequence of float, optional
        The x ticks (and times of the numbers at risk); the x axis ends at the last one.
    censor_marks : DataFrame, optional
        Columns ``arm``, ``time``: censoring times, drawn as '|' marks on the curve.
    arm_order : sequence, optional
        Order of the arms in the legend and the table (default: their order in
        ``curve``); must name every arm of ``curve`` once.
    conf_level : float, optional
        The level of the bands, stated in the legend ("95% CI", a grey band entry)
        when a band is drawn. Give it whenever ``ci`` draws bands: a figure states the
        level of the intervals it shows (SAMPL).
    at_risk_title : str, default "Number at risk"
        The table's first line (e.g. "Sessions still sore" when the units at risk are
        sessions, not patients).

    The legend sits inside the axes only where it covers no curve or band, else above
    the axes (:func:`~dryneedle_outcomes.plots.place_legend`).

    Returns
    -------
    matplotlib Axes

    Raises
    ------
    AnalysisError
        A frame lacks a column, has negative or missing times, estimates outside
        [0, 1] or increasing over time, repeated rows, or names arms ``curve`` lacks.

    Examples
    --------
    >>> import pandas as pd
    >>> curve = pd.DataFrame({
    ...     "arm": ["sham", "sham", "dry_needling", "dry_needling"],
    ...     "time": [21.0, 42.0, 14.0, 28.0], "estimate": [0.75, 0.5, 0.6, 0.3],
    ...     "ci_lower": [0.55, 0.3, 0.4, 0.15], "ci_upper": [0.9, 0.7, 0.8, 0.5]})
    >>> at_risk = pd.DataFrame({"arm": ["sham"] * 3 + ["dry_needling"] * 3,
    ...                         "time": [0, 30, 60] * 2, "n_at_risk": [20, 15, 8, 20, 9, 4]})
    >>> ax = plot_survival(curve, at_risk=at_risk, reference="sham")
    >>> line = ax.lines[0]                     # the reference arm's curve, from (0, 1)
    >>> line.get_label(), line.get_xdata().tolist(), line.get_ydata().tolist()
    ('Sham', [0.0, 21.0, 42.0, 60.0], [1.0, 0.75, 0.5, 0.5])
    >>> [t.get_text() for t in ax.texts][:5]
    ['Number at risk', 'Sham', '20', '15', '8']
    >>> import matplotlib.pyplot as plt; plt.close("all")
    """
    import matplotlib.pyplot as plt

    turnbull = _check_curve(curve)
    arms = _arm_order(curve, arm_order)
    if reference is not None and reference not in arms:
        raise AnalysisError(f"reference {reference!r} is not an arm of curve; its arms are "
                            f"{arms}")
    tick_times = _check_times(times)
    if at_risk is not None:
        at_risk, tick_times = _check_at_risk(at_risk, arms, tick_times)
    if median is not None:
        median = _check_median(median, arms)
    if censor_marks is not None:
        _check_frame(censor_marks, "censor_marks", ("arm", "time"))
        _check_arms(censor_marks, "censor_marks", arms)
        _check_nonnegative(censor_marks["time"], "censor_marks.time")
    t_end = tick_times[-1] if tick_times is not None else None
    colours = arm_colours(arms, reference=reference)

    with paper_style():
        if ax is None:
            rows = len(arms) + 1 if at_risk is not None else 0
            _, ax = plt.subplots(figsize=single_column(PLOT_HEIGHT_MM + TABLE_ROW_MM * rows),
                                 layout="constrained")
        # one pass per arm (a handful of groups); each arm's points are vectorised
        for arm in arms:
            x, y, lower, upper = _nodes(curve.loc[curve["arm"] == arm], turnbull, t_end)
            colour = colours[arm]
            ax.plot(x, y, color=colour, drawstyle="default" if turnbull else "steps-post",
                    label=arm_label(arm), zorder=3)
            if ci:
                bx, blo, bhi = (x, lower, upper) if turnbull else _steps_post(x, lower, upper)
                ax.fill_between(bx, blo, bhi, color=colour, alpha=0.18, linewidth=0,
                                label=f"_{arm_label(arm)} CI")
            if censor_marks is not None:
                c = censor_marks.loc[censor_marks["arm"] == arm, "time"].to_numpy(dtype=float)
                ax.plot(c, _value_at(x, y, c, turnbull), ls="none", marker="|", ms=4,
                        mew=0.8, color=colour, label=f"_{arm_label(arm)} censored", zorder=3)
        if median is not None:
            _draw_medians(ax, median, arms, colours)
        ax.set_ylim(0, 1.02)
        if tick_times is not None:
            ax.set_xticks(tick_times)
            ax.set_xlim(0, t_end)
        else:
            ax.set_xlim(left=0)
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        handles, labels = ax.get_legend_handles_labels()
        banded = curve[["ci_lower", "ci_upper"]].notna().to_numpy().any()
        if ci and conf_level is not None and banded:
            from matplotlib.patches import Patch

            handles.append(Patch(facecolor="0.35", alpha=0.25, linewidth=0))
            labels.append(ci_label(conf_level))
        if at_risk is not None:
            _draw_at_risk(ax, at_risk, arms, colours, tick_times, title=at_risk_title)
        place_legend(ax, handles, labels, prefer="upper right")
    return ax


# ------------------------------------------------------------------ drawing
def _nodes(sub: pd.DataFrame, turnbull: bool, t_end: float | None):
    """Vertices of one arm's curve and CI limits, from (0, 1), extended flat to ``t_end``.

    Kaplan-Meier: the points of a ``steps-post`` line. Turnbull: each drop is the segment
    (time_lower, S before) -> (time_upper, S after), joined by flat segments.
    """
    key = "time_upper" if turnbull else "time"
    sub = sub.sort_values(key, kind="stable")
    s = sub["estimate"].to_numpy(dtype=float)
    lower = sub["ci_lower"].to_numpy(dtype=float)
    upper = sub["ci_upper"].to_numpy(dtype=float)
    if turnbull:
        t = np.column_stack([sub["time_lower"].to_numpy(dtype=float),
                             sub["time_upper"].to_numpy(dtype=float)]).ravel()

        def drop(v):    # value before and after each drop, interleaved
            return np.column_stack([np.r_[1.0, v[:-1]], v]).ravel()

        s, lower, upper = drop(s), drop(lower), drop(upper)
    else:
        t = sub["time"].to_numpy(dtype=float)
    if not (len(t) and t[0] == 0 and s[0] == 1):
        t, s, lower, upper = (np.r_[v0, v] for v0, v in
                              ((0.0, t), (1.0, s), (1.0, lower), (1.0, upper)))
    if t_end is not None and t_end > t[-1]:
        t, s, lower, upper = (np.r_[v, v0] for v, v0 in
                              ((t, t_end), (s, s[-1]), (lower, lower[-1]), (upper, upper[-1])))
    return t, s, lower, upper


def _steps_post(x: np.ndarray, *ys: np.ndarray) -> tuple[np.ndarray, ...]:
    """Vertices of right-continuous steps: each y held from its x to the next x.

    What ``fill_between(step="post")`` draws, except where a limit is missing: there
    matplotlib ends the band at the last valid x, dropping the step that the valid
    value before the gap still covers; here only the missing value's own step is a gap.
    """
    xs = np.r_[np.repeat(x, 2)[1:], x[-1]]
    return (xs, *(np.repeat(y, 2) for y in ys))


def _value_at(x: np.ndarray, y: np.ndarray, at: np.ndarray, turnbull: bool) -> np.ndarray:
    """The drawn curve's height at times ``at`` (right-continuous steps, or the segments)."""
    if turnbull:
        return np.interp(at, x, y)
    return y[np.clip(np.searchsorted(x, at, side="right") - 1, 0, None)]


def _draw_medians(ax, median: pd.DataFrame, arms: list, colours: dict) -> None:
    m = median.set_index("arm")["estimate"].astype(float)
    reached = [a for a in arms if np.isfinite(m[a])]
    if reached:
        right = max(m[a] for a in reached)
        ax.plot([0.0, right], [0.5, 0.5], ls=":", lw=0.8, color="0.5", label="_median level",
                zorder=2)
    for arm in reached:
        ax.plot([m[arm], m[arm]], [0.0, 0.5], ls=":", lw=0.8, color=colours[arm],
                label=f"_{arm_label(arm)} median", zorder=2)
    missing = [arm_label(a) for a in arms if a not in reached]
    if missing:
        ax.annotate(f"Median not reached: {', '.join(missing)}", (1.0, 1.0),
                    xycoords="axes fraction", xytext=(0, 2), textcoords="offset points",
                    ha="right", va="bottom", fontsize=NOTE_FONTSIZE, color="0.3")


def _draw_at_risk(ax, at_risk: pd.DataFrame, arms: list, colours: dict,
                  tick_times: np.ndarray, title: str = "Number at risk") -> None:
    """The numbers-at-risk table: a title line, then one line per arm.

    x of a number is its time in data coordinates (centred under the tick); y hangs from
    the bottom of the x-axis label (an Annotation positioned against that label's
    window extent at draw time), so neither resizing nor a taller label misaligns it.
    """
    label = ax.xaxis.label
    n = (at_risk.set_index(["arm", "time"])["n_at_risk"]
         .reindex(pd.MultiIndex.from_product([arms, tick_times])).to_numpy(dtype=float))
    text = _format_counts(n).reshape(len(arms), len(tick_times))
    # arm names end left of the widest number centred on the first tick
    widest = max(len(s) for s in text[:, 0])
    left = -(0.5 * widest * _DIGIT_WIDTH_EM * NOTE_FONTSIZE + 4.0)
    common = dict(annotation_clip=False, textcoords="offset points", fontsize=NOTE_FONTSIZE,
                  va="top")
    # the title starts where the longest arm name does (known only when drawn)
    names = _Extent()
    ax.annotate(title, (0.0, 0.0), xycoords=(names, label),
                xytext=(0, -_TABLE_GAP_PT), ha="left", color="0.2", **common)
    # a Text per cell: arms x times is a small table
    for i, arm in enumerate(arms):
        dy = -_TABLE_GAP_PT - (i + 1) * _TABLE_LINE_PT
        names.texts.append(
            ax.annotate(arm_label(arm), (0.0, 0.0), xycoords=("axes fraction", label),
                        xytext=(left, dy), ha="right", color=colours[arm], **common))
        for t, s in zip(tick_times, text[i]):
            ax.annotate(s, (t, 0.0), xycoords=("data", label), xytext=(0, dy), ha="center",
                        **common)


class _Extent:
    """The window extent of some texts, as an annotation's ``xycoords`` (a callable taking
    the renderer); a class rather than a closure so the figure can still be pickled."""

    def __init__(self) -> None:
        self.texts: list = []

    def __call__(self, renderer):
        from matplotlib.transforms import Bbox

        return Bbox.union([t.get_window_extent(renderer) for t in self.texts])


def _format_counts(n: np.ndarray) -> np.ndarray:
    whole = np.isclose(n, np.round(n), rtol=0, atol=1e-9)
    return np.where(whole, np.char.mod("%.0f", np.round(n)), np.char.mod("%.1f", n))


# ------------------------------------------------------------------ checks
def _check_frame(frame, name: str, columns: Sequence[str]) -> None:
    if not isinstance(frame, pd.DataFrame):
        raise AnalysisError(f"{name} must be a pandas DataFrame with columns {list(columns)}, "
                            f"got {type(frame).__name__}")
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise AnalysisError(f"{name} lacks column(s) {missing}; it needs {list(columns)} "
                            f"(it has {list(frame.columns)})")
    if frame.empty:
        raise AnalysisError(f"{name} has no rows")


def _check_nonnegative(values: pd.Series, name: str) -> None:
    v = _numeric(values, name)
    bad = ~np.isfinite(v)
    if bad.any():
        raise AnalysisError(f"{name} has {count_first(bad, 'missing or infinite', where='row')}"
                            "; times must be finite numbers")
    if (v < 0).any():
        raise AnalysisError(f"{name} has {count_first(v < 0, 'negative', where='row')}; "
                            "times must be >= 0")


def _numeric(values: pd.Series, name: str) -> np.ndarray:
    """``values`` as floats; an entry that is there but is not a number is an error."""
    v = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
    bad = np.isnan(v) & values.notna().to_numpy()
    if bad.any():
        raise AnalysisError(f"{name} has {count_first(bad, 'non-numeric', where='row')}, e.g. "
                            f"{values.iloc[int(np.flatnonzero(bad)[0])]!r}; it must be numbers")
    return v


def _check_proportion(values: pd.Series, name: str, *, allow_nan: bool) -> None:
    v = _numeric(values, name)
    bad = (v < 0) | (v > 1) | np.isinf(v)
    if not allow_nan:
        bad |= np.isnan(v)
    if bad.any():
        rule = "must be in [0, 1]" + (" or NaN" if allow_nan else "")
        bad_values = count_first(bad, "out-of-range", where="row")
        raise AnalysisError(f"{name} has {bad_values}: outside [0, 1]"
                            f"{'' if allow_nan else ' or missing'}; it {rule}")


def _check_curve(curve) -> bool:
    """Check ``curve``; return whether it is a Turnbull fit (has time_lower/time_upper)."""
    _check_frame(curve, "curve", CURVE_COLUMNS)
    has = [c in curve.columns for c in ("time_lower", "time_upper")]
    if any(has) and not all(has):
        raise AnalysisError("curve has only one of time_lower and time_upper; a Turnbull "
                            "curve needs both (a Kaplan-Meier curve neither)")
    turnbull = all(has)
    _check_nonnegative(curve["time"], "curve.time")
    _check_proportion(curve["estimate"], "curve.estimate", allow_nan=False)
    for col in ("ci_lower", "ci_upper"):
        _check_proportion(curve[col], f"curve.{col}", allow_nan=True)
    if curve["arm"].isna().any():
        raise AnalysisError("curve.arm has "
                            f"{count_first(curve['arm'].isna().to_numpy(), 'missing', where='row')}"
                            "; every row needs its arm")
    key = ["arm", "time_upper" if turnbull else "time"]
    if turnbull:
        _check_nonnegative(curve["time_lower"], "curve.time_lower")
        _check_nonnegative(curve["time_upper"], "curve.time_upper")
        reversed_ = (curve["time_lower"] > curve["time_upper"]).to_numpy()
        if reversed_.any():
            rows = count_first(reversed_, noun="row", where="row")
            raise AnalysisError(f"curve has {rows} with time_lower > time_upper; each drop "
                                "lies in (time_lower, time_upper]")
    dup = curve.duplicated(key).to_numpy()
    if dup.any():
        rows = count_first(dup, "repeated", noun="row", where="row")
        raise AnalysisError(f"curve has {rows} of ({key[0]}, {key[1]}); give one row per arm "
                            "and time")
    ordered = curve.sort_values(key, kind="stable")
    by_arm = ordered.groupby("arm", sort=False, observed=True)
    rises = (by_arm["estimate"].diff() > 1e-12).to_numpy()
    if rises.any():
        where = ordered.iloc[int(np.flatnonzero(rises)[0])]
        raise AnalysisError(f"curve.estimate increases over time in arm {where['arm']!r} "
                            f"(at time {where[key[1]]:g}); a survival curve never rises")
    if turnbull:
        overlap = (ordered["time_lower"] < by_arm["time_upper"].shift()).to_numpy()
        if overlap.any():
            where = ordered.iloc[int(np.flatnonzero(overlap)[0])]
            raise AnalysisError(f"curve has overlapping Turnbull intervals in arm "
                                f"{where['arm']!r} (time_lower {where['time_lower']:g} is "
                                "before the previous time_upper); the intervals of an NPMLE "
                                "are disjoint")
    return turnbull


def _arm_order(curve: pd.DataFrame, arm_order) -> list:
    arms = list(dict.fromkeys(curve["arm"]))
    if arm_order is None:
        return arms
    order = list(arm_order)
    unknown = [a for a in order if a not in arms]
    missing = [a for a in arms if a not in order]
    if unknown or missing or len(set(order)) != len(order):
        raise AnalysisError(f"arm_order must name each arm of curve once ({arms}); got "
                            f"{order} (unknown: {unknown}, missing: {missing})")
    return order


def _check_arms(frame: pd.DataFrame, name: str, arms: list) -> None:
    unknown = [a for a in dict.fromkeys(frame["arm"]) if a not in arms]
    if unknown:
        raise AnalysisError(f"{name} has arm(s) {unknown} that curve lacks; curve's arms are "
                            f"{arms}")


def _check_times(times) -> np.ndarray | None:
    if times is None:
        return None
    t = np.asarray(times, dtype=float).ravel()
    if t.size == 0:
        raise AnalysisError("times is empty; give the x tick times or None")
    _check_nonnegative(pd.Series(t), "times")
    return np.unique(t)


def _check_at_risk(at_risk, arms: list, times: np.ndarray | None):
    """Check ``at_risk``; return it and the table's times (``times`` if given)."""
    _check_frame(at_risk, "at_risk", ("arm", "time", "n_at_risk"))
    _check_arms(at_risk, "at_risk", arms)
    _check_nonnegative(at_risk["time"], "at_risk.time")
    n = _numeric(at_risk["n_at_risk"], "at_risk.n_at_risk")
    bad = ~np.isfinite(n) | (n < 0)
    if bad.any():
        raise AnalysisError("at_risk.n_at_risk has "
                            f"{count_first(bad, 'missing or negative', where='row')}; "
                            "numbers at risk must be counts >= 0")
    dup = at_risk.duplicated(["arm", "time"]).to_numpy()
    if dup.any():
        rows = count_first(dup, "repeated", noun="row", where="row")
        raise AnalysisError(f"at_risk has {rows} of (arm, time); give one number per arm and "
                            "time")
    at_risk = at_risk.assign(time=at_risk["time"].astype(float))
    if times is None:
        times = np.unique(at_risk["time"].to_numpy(dtype=float))
    have = pd.MultiIndex.from_frame(at_risk[["arm", "time"]])
    want = pd.MultiIndex.from_product([arms, times], names=["arm", "time"])
    absent = want.difference(have, sort=False)
    if len(absent):
        raise AnalysisError(f"at_risk has no number for {len(absent)} (arm, time) pair(s), "
                            f"e.g. ({absent[0][0]!r}, {absent[0][1]:g}); give every arm a "
                            f"row at every time {times.tolist()}")
    return at_risk, times


def _check_median(median, arms: list) -> pd.DataFrame:
    _check_frame(median, "median", ("arm", "estimate"))
    _check_arms(median, "median", arms)
    dup = median.duplicated("arm").to_numpy()
    if dup.any():
        rows = count_first(dup, "repeated", noun="row", where="row")
        raise AnalysisError(f"median has {rows} of an arm; give one row per arm")
    missing = [a for a in arms if a not in set(median["arm"])]
    if missing:
        raise AnalysisError(f"median has no row for arm(s) {missing}; give every arm a row "
                            "(estimate NaN when the median is not reached)")
    m = _numeric(median["estimate"], "median.estimate")
    bad = (m < 0) | np.isinf(m)
    if bad.any():
        raise AnalysisError("median.estimate has "
                            f"{count_first(bad, 'negative or infinite', where='row')}; "
                            "a median is a time >= 0, or NaN when not reached")
    return median


def plot_session_hazard(result, ax=None):
    """Model-based probability of relief at each session per arm, with CIs.

    Parameters
    ----------
    result : DiscreteHazard
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib Axes
    """
    import matplotlib.pyplot as plt

    h = result.hazard
    arms = list(dict.fromkeys(h["arm"]))
    colours = arm_colours(arms, reference=result.reference_arm or None)
    with paper_style():
        if ax is None:
            _, ax = plt.subplots(figsize=single_column(60), layout="constrained")
        for i, arm in enumerate(arms):
            sub = h[h["arm"] == arm]
            x = sub["session"].to_numpy(dtype=float) + 0.08 * (i - (len(arms) - 1) / 2)
            est = sub["estimate"].to_numpy(dtype=float)
            err = np.vstack([est - sub["ci_lower"], sub["ci_upper"] - est])
            ax.errorbar(x, est, yerr=err, fmt="o-", color=colours[arm], ms=3, lw=1,
                        capsize=2, label=arm)
        ax.set_xlabel("Session")
        ax.set_ylabel(f"Probability of relief at the session ({ci_label(result.conf_level)})")
        ax.set_ylim(0, 1)
        arm_legend(ax)
    return ax
