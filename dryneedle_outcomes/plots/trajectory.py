"""Pain trajectories: model-based means with CIs per arm over visits, MCID marked."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..instruments import get_instrument
from .style import NOTE_FONTSIZE, arm_colours, arm_legend, literal, paper_style, single_column


def plot_trajectory(result, ax=None, *, observed: bool = True, mcid: bool = True,
                    individuals: bool = True, max_individuals: int = 150):
    """Draw a :class:`~dryneedle_outcomes.models.trajectory.TrajectoryResult`.

    Model-based marginal means per arm are lines with a CI band; observed means
    of the modelled rows are open markers; with baseline as a covariate, the
    level at which the mean improvement from the mean baseline reaches the MCID
    is a dashed line (for a pain scale, mean baseline minus the MCID). With
    ``individuals``, each patient's observed values are a faint line behind (at most
    ``max_individuals`` patients per arm, a fixed random subset, so large cohorts
    stay readable). Returns the Axes.

    Examples
    --------
    >>> import dryneedle_outcomes as dno
    >>> fit = dno.fit_trajectory(dno.simulate_cohort(n_patients=40, seed=2), model="mmrm")
    >>> ax = plot_trajectory(fit)
    >>> from matplotlib.collections import PolyCollection
    >>> sum(isinstance(c, PolyCollection) for c in ax.collections)   # a CI band per arm
    2
    >>> import matplotlib.pyplot as plt; plt.close("all")
    """
    import matplotlib.pyplot as plt

    inst = get_instrument(result.outcome)
    with paper_style():
        if ax is None:
            _, ax = plt.subplots(figsize=single_column(60))
        colours = arm_colours(result.frame.arms, reference=result.reference_arm)
        mm = result.marginal_means
        n_arms = len(result.frame.arms)
        offsets = np.linspace(-0.08, 0.08, n_arms) if n_arms > 1 else [0.0]
        if individuals:
            _draw_individuals(ax, result, colours, max_individuals)
        for off, arm in zip(offsets, result.frame.arms):
            sub = mm[mm["arm"] == arm]
            x = sub["visit"].to_numpy(dtype=float) + off
            ax.plot(x, sub["estimate"], color=colours[arm], marker="o", ms=3,
                    label=f"{arm} (model)")
            ax.fill_between(x, sub["ci_lower"], sub["ci_upper"], color=colours[arm],
                            alpha=0.18, linewidth=0)
            if observed:
                obs = result.frame.data[result.frame.data["arm"] == arm]
                means = obs.groupby("visit")["y"].mean()
                ax.plot(means.index.to_numpy(dtype=float) + off, means.to_numpy(), ls="none",
                        marker="o", ms=3.5, mfc="none", color=colours[arm],
                        label=f"{arm} (observed)")
        if mcid and inst.mcid is not None and result.frame.adjust_baseline:
            # improvement = (value - baseline) * direction reaches the MCID at this value
            level = result.frame.data["baseline"].mean() + inst.direction * inst.mcid
            ax.axhline(level, color="0.4", ls="--", lw=0.8)
            ax.annotate(f"MCID ({inst.mcid:g}) from mean baseline", (0.01, level),
                        xycoords=("axes fraction", "data"), va="bottom", fontsize=NOTE_FONTSIZE,
                        color="0.3")
        ax.set_xlabel("Visit (sessions)" if result.frame.time == "visit" else "Visit")
        ax.set_ylabel(literal(inst.label))
        ax.set_xticks(result.frame.visits)
        arm_legend(ax, loc="best")
    return ax


def _draw_individuals(ax, result, colours: dict, max_individuals: int) -> None:
    """Each patient's observed trajectory as a faint line (one LineCollection per arm)."""
    from matplotlib.collections import LineCollection

    data = result.frame.data
    rng = np.random.default_rng(0)  # the same subset every time: figures are reproducible
    for arm in result.frame.arms:
        rows = data[data["arm"] == arm]
        ids = np.asarray(pd.unique(rows["patient_id"]))
        if len(ids) > max_individuals:
            ids = np.sort(rng.choice(ids, max_individuals, replace=False))
        rows = rows[rows["patient_id"].isin(ids)]
        segments = [np.column_stack([g["visit"].to_numpy(dtype=float),
                                     g["y"].to_numpy(dtype=float)])
                    for _, g in rows.groupby("patient_id", sort=True)]
        ax.add_collection(LineCollection(segments, colors=colours[arm], linewidths=0.4,
                                         alpha=0.15, zorder=0, label=f"_{arm} individuals"))
