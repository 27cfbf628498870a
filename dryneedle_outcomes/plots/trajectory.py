"""Pain trajectories: model-based means with CIs per arm, visits at their times."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from ..errors import AnalysisError
from ..instruments import get_instrument
from .legend import ci_label, place_legend
from .style import NOTE_FONTSIZE, arm_colours, arm_label, literal, paper_style, single_column

#: Why the MCID line left the trajectory figure (the warning of ``mcid=``).
MCID_LINE_DEPRECATED = (
    "plot_trajectory(mcid=) is deprecated and ignored: the figure no longer draws the MCID "
    "from the mean baseline, which judged each arm's mean against an individual-level MCID "
    "(IMMPACT cautions against it: Dworkin et al., Pain 2009;146:238-244); dno.responders() "
    "gives the share of patients reaching the MCID per visit")


def visit_positions(frame) -> tuple[dict[int, float], str]:
    """Where each modelled visit goes on the time axis, and the axis label.

    Weeks since baseline (the mean ``day`` / 7 of the visit's dated assessments) when
    every modelled visit has dated assessments; otherwise the visit index, and the label
    says the visits are drawn equally spaced because the data have no dates.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> frame = SimpleNamespace(visits=[1, 2, 7], visit_days={0: 0.0, 1: 7.0, 2: 14.0,
    ...                                                       7: 84.0})
    >>> visit_positions(frame)
    ({1: 1.0, 2: 2.0, 7: 12.0}, 'Weeks since baseline')
    """
    days = frame.visit_days
    if all(v in days for v in frame.visits):
        return {v: days[v] / 7.0 for v in frame.visits}, "Weeks since baseline"
    return ({v: float(v) for v in frame.visits},
            "Visit (no visit dates: drawn equally spaced)")


#: Above this many patients in any arm, :func:`plot_trajectory` leaves the individual
#: trajectories out unless asked (``individuals=True``): a hundred faint lines per arm
#: already hide the means they surround.
INDIVIDUALS_UP_TO = 100

#: Horizontal shift of the observed means from the model means at a visit, in x units
#: (weeks, or visits when undated), so their bars sit beside, not on, the model's.
OBSERVED_DODGE = 0.22


def plot_trajectory(result, ax=None, *, observed: bool = True, mcid: bool | None = None,
                    individuals: bool | None = None, max_individuals: int = 150,
                    observed_error: str | None = "ci"):
    """Draw a :class:`~dryneedle_outcomes.models.trajectory.TrajectoryResult`.

    Model-based marginal means per arm are lines with a CI band, each visit placed at
    its time (weeks since baseline: the mean day of its dated assessments / 7; the
    visit index, said on the axis, when the data have no dates), for every model. The
    observed means of the modelled rows are open markers with their own interval
    (``observed_error``), drawn just beside the model's mean at each visit (shifted by
    ``OBSERVED_DODGE``), so the model can be read against the data (SAMPL: show the
    data behind a model). Visits after the last treatment session
    (:meth:`~dryneedle_outcomes.Cohort.session_visits`) are follow-up: a shaded region
    labelled "follow-up". The legend names the arms and the intervals with their level
    ("Model mean (95% CI)") and sits inside the axes only where it covers no data
    (:func:`~dryneedle_outcomes.plots.place_legend`), else above them.

    Parameters
    ----------
    result : TrajectoryResult
    ax : matplotlib Axes, optional
        Drawn on a new single-column figure when omitted.
    observed : bool, default True
        Draw the observed means.
    mcid : optional
        Deprecated and ignored (a ``FutureWarning`` when given): the figure no longer
        marks the MCID from the mean baseline, which judged each arm's mean against an
        individual-level MCID (IMMPACT, Dworkin et al., Pain 2009;146:238-244).
    individuals : bool, optional
        Each patient's observed values as a faint line behind, at the patient's own
        times. Default: drawn when no arm has more than ``INDIVIDUALS_UP_TO`` (100)
        patients. When drawn, at most ``max_individuals`` patients per arm (a fixed
        random subset, the same every time).
    max_individuals : int, default 150
    observed_error : {"ci", "sd", None}, default "ci"
        The observed means' bars: the t-based CI of the mean at the result's
        ``conf_level``, one standard deviation either side, or none.

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> import dryneedle_outcomes as dno
    >>> fit = dno.fit_trajectory(dno.simulate_cohort(n_patients=40, seed=2))
    >>> ax = plot_trajectory(fit)
    >>> from matplotlib.collections import PolyCollection
    >>> sum(isinstance(c, PolyCollection) for c in ax.collections)   # a CI band per arm
    2
    >>> [round(t) for t in ax.get_xticks()]   # weekly sessions, then week 12
    [1, 2, 3, 4, 5, 6, 12]
    >>> [t.get_text() for t in ax.get_legend().get_texts()]
    ['Sham', 'Dry needling', 'Model mean (95% CI)', 'Observed mean (95% CI)', 'Patients']
    >>> import matplotlib.pyplot as plt; plt.close("all")
    """
    import matplotlib.pyplot as plt

    if mcid is not None:
        warnings.warn(MCID_LINE_DEPRECATED, FutureWarning, stacklevel=2)
    if observed_error not in ("ci", "sd", None):
        raise AnalysisError(f"observed_error must be 'ci', 'sd' or None, got "
                            f"{observed_error!r}")
    inst = get_instrument(result.outcome)
    frame = result.frame
    where, label = visit_positions(frame)
    level = ci_label(result.conf_level)
    if individuals is None:
        per_arm = frame.data.groupby("arm", observed=True)["patient_id"].nunique()
        individuals = bool(per_arm.max() <= INDIVIDUALS_UP_TO) if len(per_arm) else False
    with paper_style():
        if ax is None:
            _, ax = plt.subplots(figsize=single_column(60), layout="constrained")
        colours = arm_colours(frame.arms, reference=result.reference_arm)
        mm = result.marginal_means
        n_arms = len(frame.arms)
        offsets = np.linspace(-0.08, 0.08, n_arms) if n_arms > 1 else [0.0]
        if individuals:
            _draw_individuals(ax, result, colours, max_individuals, where=where,
                              dated=label.startswith("Weeks"))
        stats = _observed_means(frame.data, result.conf_level) if observed else None
        for off, arm in zip(offsets, frame.arms):
            sub = mm[mm["arm"] == arm]
            x = sub["visit"].map(where).to_numpy(dtype=float) + off
            ax.plot(x, sub["estimate"], color=colours[arm], marker="o", ms=3,
                    label=f"{arm} (model)")
            ax.fill_between(x, sub["ci_lower"], sub["ci_upper"], color=colours[arm],
                            alpha=0.18, linewidth=0, label=f"_{arm} (model CI)")
            if observed:
                obs = stats.loc[stats["arm"] == arm]
                ox = obs["visit"].map(where).to_numpy(dtype=float) + off + OBSERVED_DODGE
                mean = obs["mean"].to_numpy(dtype=float)
                if observed_error is not None:
                    half = obs["half_ci" if observed_error == "ci" else "sd"].to_numpy(
                        dtype=float)
                    ax.errorbar(ox, mean, yerr=half, fmt="none", color=colours[arm],
                                elinewidth=0.7, capsize=1.5, capthick=0.7,
                                label=f"_{arm} (observed {observed_error})")
                ax.plot(ox, mean, ls="none", marker="o", ms=3.5, mfc="white",
                        color=colours[arm], label=f"{arm} (observed)")
        ticks = mark_visits(ax, frame, where, label)
        ax.set_ylabel(literal(inst.label))
        ax.set_xlim(min(ticks) - 0.5, max(ticks) + OBSERVED_DODGE + 0.6)
        _legend(ax, frame.arms, colours, level=level, observed=observed,
                observed_error=observed_error, individuals=individuals)
    return ax


def _observed_means(data: pd.DataFrame, conf_level: float) -> pd.DataFrame:
    """Observed mean, SD, n and the half-width of the t-based CI of the mean per arm and
    visit of the modelled rows (``y``); a visit with one value has no interval (NaN)."""
    from scipy import stats

    g = (data.groupby(["arm", "visit"], observed=True, sort=True)["y"]
         .agg(["mean", "std", "count"]).reset_index())
    n = g["count"].to_numpy(dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        t = stats.t.ppf(0.5 + conf_level / 2.0, np.where(n > 1, n - 1, np.nan))
        half = t * g["std"].to_numpy(dtype=float) / np.sqrt(n)
    return g.rename(columns={"std": "sd", "count": "n"}).assign(half_ci=half)


def _legend(ax, arms, colours: dict, *, level: str, observed: bool,
            observed_error: str | None, individuals: bool):
    """Arms by colour, then what the marks are (in grey), with the CI level."""
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    grey = "0.35"
    handles = [Line2D([], [], color=colours[a], marker="o", ms=3) for a in arms]
    labels = [arm_label(a) for a in arms]
    handles.append((Patch(facecolor=grey, alpha=0.25, linewidth=0),
                    Line2D([], [], color=grey, marker="o", ms=3)))
    labels.append(f"Model mean ({level})")
    if observed:
        what = {"ci": f" ({level})", "sd": " (SD)", None: ""}[observed_error]
        handles.append(Line2D([], [], color=grey, ls="none", marker="o", ms=3.5,
                              mfc="white"))
        labels.append(f"Observed mean{what}")
    if individuals:
        handles.append(Line2D([], [], color=grey, lw=0.5, alpha=0.5))
        labels.append("Patients")
    place_legend(ax, handles, labels, prefer="upper right")


def mark_visits(ax, frame, where: dict[int, float], label: str) -> list[float]:
    """The visit time axis: a tick at each visit's time (whole weeks without decimals),
    the axis label, and the follow-up visits shaded (``visit_positions`` gives
    ``where`` and ``label``); returns the tick positions.

    ``frame`` has ``visits``, ``visit_days`` and ``session_visits`` (None: the data do
    not record needling, no follow-up is marked).

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> from matplotlib.figure import Figure
    >>> frame = SimpleNamespace(visits=[1, 2, 3], visit_days={1: 7.0, 2: 14.0, 3: 84.0},
    ...                         session_visits=[1, 2])
    >>> ax = Figure().subplots()
    >>> mark_visits(ax, frame, *visit_positions(frame))
    [1.0, 2.0, 12.0]
    >>> [t.get_text() for t in ax.texts]
    ['follow-up']
    """
    _mark_follow_up(ax, frame, where)
    ticks = [where[v] for v in frame.visits]
    ax.set_xticks(ticks)
    ax.set_xticklabels([f"{t:.0f}" if abs(t - round(t)) < 0.25 else f"{t:.1f}"
                        for t in ticks])
    ax.set_xlabel(label)
    return ticks


def _mark_follow_up(ax, frame, where: dict[int, float]) -> None:
    """Shade and label the visits after the last treatment session (none when the data
    do not record needling, ``frame.session_visits`` is None)."""
    if not frame.session_visits:
        return
    last = max(frame.session_visits)
    follow = [v for v in frame.visits if v > last]
    if not follow:
        return
    before = [where[v] for v in frame.visits if v <= last]
    first = where[follow[0]]
    start = (before[-1] + first) / 2.0 if before else first - 0.5
    end = max(where[v] for v in follow) + max(0.5, 0.05 * (first - start))
    ax.axvspan(start, end, color="0.92", zorder=-2, linewidth=0, label="_follow-up")
    ax.annotate("follow-up", (end, 1.0), xycoords=("data", "axes fraction"),
                xytext=(-2, -2), textcoords="offset points", ha="right", va="top",
                fontsize=NOTE_FONTSIZE, color="0.3")


def _draw_individuals(ax, result, colours: dict, max_individuals: int, *,
                      where: dict[int, float], dated: bool) -> None:
    """Each patient's observed trajectory as a faint line (one LineCollection per arm),
    at the patient's own weeks since baseline when ``dated``, else at ``where[visit]``."""
    from matplotlib.collections import LineCollection

    data = result.frame.data
    rng = np.random.default_rng(0)  # the same subset every time: figures are reproducible
    for arm in result.frame.arms:
        rows = data[data["arm"] == arm]
        ids = np.asarray(pd.unique(rows["patient_id"]))
        if len(ids) > max_individuals:
            ids = np.sort(rng.choice(ids, max_individuals, replace=False))
        rows = rows[rows["patient_id"].isin(ids)]
        at_visit = rows["visit"].map(where).astype(float)
        # a row without a day among dated rows sits at its visit's mean time
        x = ((rows["day"].astype(float) / 7.0).fillna(at_visit) if dated
             else at_visit).to_numpy(dtype=float)
        segments = [np.column_stack([x[idx], rows["y"].to_numpy(dtype=float)[idx]])
                    for idx in rows.groupby("patient_id", sort=True).indices.values()]
        ax.add_collection(LineCollection(segments, colors=colours[arm], linewidths=0.4,
                                         alpha=0.15, zorder=0, label=f"_{arm} individuals"))


def plot_visit_means(means: pd.DataFrame, ax=None, *, outcome: str, conf_level: float,
                     visits, visit_days: dict | None = None, session_visits=None,
                     reference=None, what: str = "Mean"):
    """Means per arm and visit with CI error bars, each visit at its time.

    The x axis is the one of :func:`plot_trajectory` (``visit_positions``: weeks
    since baseline when every visit is dated, else the visit index, said on the axis),
    follow-up visits after the last treatment session are shaded, arms are dodged
    slightly, and the legend states the CI level ("Mean (95% CI)"), placed where it
    covers no data.

    Parameters
    ----------
    means : DataFrame
        ``arm``, ``visit``, ``estimate``, ``ci_lower``, ``ci_upper``.
    ax : matplotlib Axes, optional
    outcome : str
        The instrument (its label names the y axis).
    conf_level : float
    visits : sequence of int
        The visits drawn (ticks).
    visit_days : dict, optional
        Mean day since baseline of each visit (as ``ModelFrame.visit_days``).
    session_visits : sequence of int, optional
        The treatment sessions (later visits are follow-up).
    reference : optional
        The reference arm (the first colour).
    what : str
        What the points are, for the legend ("Mean", "Least-squares mean").

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> import pandas as pd
    >>> means = pd.DataFrame({"arm": ["a", "a", "b", "b"], "visit": [1, 7] * 2,
    ...                       "estimate": [50.0, 40, 52, 50], "ci_lower": [45.0, 35, 47, 45],
    ...                       "ci_upper": [55.0, 45, 57, 55]})
    >>> ax = plot_visit_means(means, outcome="first_step_pain", conf_level=0.9,
    ...                       visits=[1, 7], visit_days={1: 7.0, 7: 84.0},
    ...                       session_visits=[1])
    >>> ax.get_xticks().tolist(), ax.get_xlabel()
    ([1.0, 12.0], 'Weeks since baseline')
    >>> [t.get_text() for t in ax.get_legend().get_texts()]
    ['A', 'B', 'Mean (90% CI)']
    >>> import matplotlib.pyplot as plt; plt.close("all")
    """
    from types import SimpleNamespace

    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D

    frame = SimpleNamespace(visits=list(visits), visit_days=dict(visit_days or {}),
                            session_visits=list(session_visits) if session_visits else None)
    where, label = visit_positions(frame)
    arms = list(dict.fromkeys(means["arm"]))
    with paper_style():
        if ax is None:
            _, ax = plt.subplots(figsize=single_column(60), layout="constrained")
        colours = arm_colours(arms, reference=reference)
        offsets = np.linspace(-0.12, 0.12, len(arms)) if len(arms) > 1 else [0.0]
        for off, arm in zip(offsets, arms):
            d = means.loc[means["arm"] == arm].sort_values("visit")
            x = d["visit"].map(where).to_numpy(dtype=float) + off
            est = d["estimate"].to_numpy(dtype=float)
            ax.errorbar(x, est, yerr=[est - d["ci_lower"].to_numpy(dtype=float),
                                      d["ci_upper"].to_numpy(dtype=float) - est],
                        color=colours[arm], marker="o", ms=3, capsize=2, elinewidth=0.8,
                        label=str(arm))
        mark_visits(ax, frame, where, label)
        ax.set_ylabel(literal(get_instrument(outcome).label))
        handles = [Line2D([], [], color=colours[a], marker="o", ms=3) for a in arms]
        handles.append(Line2D([], [], color="0.35", marker="o", ms=3, ls="none"))
        labels = [arm_label(a) for a in arms] + [f"{what} ({ci_label(conf_level)})"]
        place_legend(ax, handles, labels, prefer="upper right")
    return ax
