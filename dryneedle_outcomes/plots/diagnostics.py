"""Model-check figures of a trajectory fit (:mod:`..models.diagnostics`).

Three panels, each also drawn alone: scaled residuals against fitted values, a normal QQ
plot of the scaled residuals per visit, and the observed (pairwise-complete) against the
fitted correlation for every pair of visits.

Examples
--------
>>> import dryneedle_outcomes as dno
>>> fit = dno.fit_trajectory(dno.simulate_cohort(n_patients=40, seed=2), model="mmrm")
>>> axes = plot_diagnostics(fit.diagnostics())
>>> len(axes), len(axes[0].collections[0].get_offsets()) == fit.n_observations
(3, True)
>>> import matplotlib.pyplot as plt; plt.close("all")
"""

from __future__ import annotations

import numpy as np

from .style import NOTE_FONTSIZE, paper_style, single_column


def plot_scaled_residuals(diag, ax=None):
    """Scaled residuals against fitted values, a line at 0 and at +/-3; returns the Axes."""
    import matplotlib.pyplot as plt

    with paper_style():
        if ax is None:
            _, ax = plt.subplots(figsize=single_column(60))
        r = diag.residuals
        ax.scatter(r["fitted"], r["scaled_residual"], s=6, alpha=0.5, color="0.3",
                   linewidths=0)
        ax.axhline(0.0, color="0.2", lw=0.8)
        for y in (-3.0, 3.0):
            ax.axhline(y, color="0.5", lw=0.6, ls=":")
        ax.set_xlabel("fitted value")
        ax.set_ylabel("scaled residual")
        ax.set_title("Residuals vs fitted", fontsize=NOTE_FONTSIZE + 1)
    return ax


def plot_qq(diag, ax=None):
    """Normal QQ plot of the scaled residuals, one colour per visit, with the identity
    line (scaled residuals are standard normal under the model); returns the Axes."""
    import matplotlib.pyplot as plt

    with paper_style():
        if ax is None:
            _, ax = plt.subplots(figsize=single_column(60))
        q = diag.qq
        visits = list(dict.fromkeys(q["visit"]))
        cmap = plt.get_cmap("viridis")
        for k, (visit, g) in enumerate(q.groupby("visit", sort=True)):
            ax.scatter(g["theoretical"], g["scaled_residual"], s=6, linewidths=0,
                       color=cmap(k / max(len(visits) - 1, 1)), label=f"visit {visit}")
        lim = float(np.nanmax(np.abs(q[["theoretical", "scaled_residual"]].to_numpy())))
        ax.plot([-lim, lim], [-lim, lim], color="0.2", lw=0.8)
        ax.set_xlabel("standard normal quantile")
        ax.set_ylabel("scaled residual")
        ax.set_title("Normal QQ per visit", fontsize=NOTE_FONTSIZE + 1)
        ax.legend(fontsize=NOTE_FONTSIZE - 1, frameon=False, markerscale=1.5,
                  handletextpad=0.2, ncol=1 if len(visits) <= 4 else 2)
    return ax


def plot_correlation_fit(diag, ax=None, *, group: str = "pooled"):
    """Observed (pairwise-complete) against fitted correlation of each pair of visits of
    ``group`` ("pooled" or an arm), with the identity line; returns the Axes."""
    import matplotlib.pyplot as plt

    with paper_style():
        if ax is None:
            _, ax = plt.subplots(figsize=single_column(60))
        c = diag.covariance
        c = c[(c["group"] == group) & (c["visit_1"] != c["visit_2"])]
        ax.scatter(c["fitted_correlation"], c["observed_correlation"], s=10, color="0.3",
                   linewidths=0)
        values = c[["fitted_correlation", "observed_correlation"]].to_numpy(dtype=float)
        lo = min(0.0, float(np.nanmin(values))) if len(c) else 0.0
        ax.plot([lo, 1.0], [lo, 1.0], color="0.2", lw=0.8)
        ax.set_xlabel("fitted correlation")
        ax.set_ylabel("observed correlation")
        ax.set_title(f"Correlation over visits ({group})", fontsize=NOTE_FONTSIZE + 1)
    return ax


def plot_diagnostics(diag, ax=None):
    """The three panels side by side; ``ax`` (one Axes) is split into three, or a new
    figure is made. Returns the three Axes."""
    import matplotlib.pyplot as plt

    with paper_style():
        if ax is None:
            fig = plt.figure(figsize=(7.0, 2.6))
            spec = fig.add_gridspec(1, 3)
        else:
            fig = ax.figure
            spec = ax.get_subplotspec().subgridspec(1, 3, wspace=0.45)
            ax.remove()
        axes = [fig.add_subplot(spec[0, k]) for k in range(3)]
        plot_scaled_residuals(diag, axes[0])
        plot_qq(diag, axes[1])
        plot_correlation_fit(diag, axes[2])
    return axes


__all__ = ["plot_correlation_fit", "plot_diagnostics", "plot_qq", "plot_scaled_residuals"]
