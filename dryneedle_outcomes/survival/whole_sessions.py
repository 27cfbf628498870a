"""Time to relief on the sessions timescale: whole sessions, step functions, no halves.

On ``timescale="sessions"`` relief is seen at whole sessions: a patient's relief lies in
``(k - 1, k]`` sessions (or a wider ``(j, k]`` when scores are missing), and nothing
happens "after 1.5 sessions". The Turnbull curve of survfit drops at interval
midpoints (1.5, 2.5, ...) and its median can be a half session, with bootstrap limits
such as 1.4875: numbers no clinician can act on. Here the analysis answers the
discrete-time question (Singer & Willett 1993; Allison 1982):

- ``S(k)``, the proportion of patients **without relief seen by session k**, at whole
  sessions ``k = 1, 2, ...``: the Turnbull NPMLE with each interval's mass counted at
  its right end (:func:`~dryneedle_outcomes.stats.survival.turnbull_summaries.step_survival`),
  or the Kaplan-Meier estimate (``interval_censored=False``), both step functions of
  ``k``. With intervals ``(k - 1, k]`` only, the NPMLE is identified at every whole
  session and this is it; where a Turnbull interval spans several sessions (a missed
  score) the NPMLE is not identified at the sessions inside it and ``S(k)`` is then
  its upper bound (relief counted when it was seen); the number of such intervals is
  reported in the notes.
- the proportion relieved by session ``k``, ``1 - S(k)``, per arm with a CI
  (bootstrap percentiles, patients resampled within arm, for Turnbull; the Greenwood
  limits of :func:`kaplan_meier` for Kaplan-Meier).
- the median: the smallest whole session ``k`` with ``S(k) <= 0.5``, never averaged
  across a flat stretch at 0.5. Its CI limits are whole sessions too: for Turnbull the
  same rule on each bootstrap replicate and the inverted-CDF (R's type-1) percentiles
  of those whole-session medians; for Kaplan-Meier the same rule applied to the
  pointwise limit curves (Brookmeyer & Crowley 1982, as R does for the median).

The per-session hazard (the probability of relief at session ``k`` for a patient
without relief before it) comes from the complementary log-log model of
:mod:`~dryneedle_outcomes.survival.discrete` (Prentice & Gloeckler 1978).

References
----------
Allison PD (1982). Discrete-time methods for the analysis of event histories.
Sociological Methodology 13:61-98.
Singer JD, Willett JB (1993). It's about time: using discrete-time survival analysis
to study duration and the timing of events. J Educ Stat 18:155-195.
Brookmeyer R, Crowley J (1982). A confidence interval for the median survival time.
Biometrics 38:29-41.

Examples
--------
>>> import numpy as np
>>> from dryneedle_outcomes.stats.survival.turnbull import turnbull
>>> lower, upper = np.array([0, 1, 1, 2, 3.]), np.array([1, 2, 2, 3, np.inf])
>>> sc = turnbull_sessions(lower, upper, turnbull(lower, upper), n_boot=0, seed=1)
>>> sc.curve[["session", "estimate"]].to_numpy().tolist()
[[1.0, 0.8], [2.0, 0.4], [3.0, 0.2]]
>>> sc.median
{'estimate': 2.0, 'ci_lower': nan, 'ci_upper': nan, 'n_not_reached': 0}
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..stats.survival.kaplan_meier import KaplanMeier
from ..stats.survival.turnbull import TurnbullFit
from ..stats.survival.turnbull_summaries import bootstrap_statistics, step_median, step_survival


@dataclass(frozen=True)
class SessionCurve:
    """One arm's whole-session curve and median (see the module docstring).

    Attributes
    ----------
    curve : DataFrame
        ``session`` (1, 2, ... to the last session observed), ``estimate`` (``S(k)``,
        no relief seen by session k), ``ci_lower``, ``ci_upper``.
    median : dict
        ``estimate``, ``ci_lower``, ``ci_upper`` (whole sessions; ``inf``: not reached
        within follow-up) and ``n_not_reached`` (bootstrap replicates whose median was
        not reached; 0 for Kaplan-Meier).
    wide_intervals : int
        Turnbull intervals with mass spanning more than one session (S(k) inside them
        is the upper bound); 0 for Kaplan-Meier.
    failed : int
        Bootstrap refits that did not converge.
    warnings : list of str
    """

    curve: pd.DataFrame
    median: dict
    wide_intervals: int = 0
    failed: int = 0
    warnings: list[str] = field(default_factory=list)


def session_grid(lower: np.ndarray, upper: np.ndarray) -> np.ndarray:
    """Whole sessions 1 .. the largest finite interval end (at least 1)."""
    ends = np.concatenate([lower, upper[np.isfinite(upper)]])
    last = int(np.ceil(ends.max())) if ends.size else 1
    return np.arange(1, max(last, 1) + 1, dtype=float)


def turnbull_sessions(lower: np.ndarray, upper: np.ndarray, fit: TurnbullFit, *,
                      n_boot: int, seed: int | None, conf_level: float = 0.95,
                      progress: bool = False, label: str = "bootstrap",
                      grid: np.ndarray | None = None) -> SessionCurve:
    """Whole-session curve and median of one arm from its Turnbull fit.

    Parameters
    ----------
    lower, upper : numpy.ndarray
        The arm's intervals ``(lower, upper]`` in sessions.
    fit : TurnbullFit
        The NPMLE of those intervals.
    n_boot : int
        Bootstrap replicates (0: no CIs).
    seed : int, optional
    conf_level : float
    progress : bool
    label : str
        Progress-bar text.
    grid : numpy.ndarray, optional
        Whole sessions to evaluate (default :func:`session_grid`).

    Returns
    -------
    SessionCurve
    """
    k = session_grid(lower, upper) if grid is None else np.asarray(grid, dtype=float)
    est = step_survival(fit, k)
    iv = fit.intervals
    wide = int(((iv["mass"] > 0) & np.isfinite(iv["time_upper"])
                & (iv["time_upper"] - iv["time_lower"] > 1 + 1e-9)).sum())
    lo = hi = np.full(k.size, np.nan)
    med = {"estimate": float(step_median(k, est)), "ci_lower": np.nan, "ci_upper": np.nan,
           "n_not_reached": 0}
    failed, warns = 0, []
    if n_boot:
        reps, failed = bootstrap_statistics(lower, upper, lambda f: step_survival(f, k),
                                            n_boot=n_boot, seed=seed, progress=progress,
                                            label=label)
        alpha = (1.0 - conf_level) / 2.0
        lo, hi = np.quantile(reps, [alpha, 1.0 - alpha], axis=0)
        meds = step_median(k, reps)
        # whole sessions stay whole: inverted-CDF (type-1) percentiles, no interpolation
        q = np.quantile(meds, [alpha, 1.0 - alpha], method="inverted_cdf")
        med.update(ci_lower=float(q[0]), ci_upper=float(q[1]),
                   n_not_reached=int(np.isinf(meds).sum()))
        if failed:
            warns.append(f"{failed} of {n_boot} bootstrap fits did not converge")
    curve = pd.DataFrame({"session": k, "estimate": est, "ci_lower": lo, "ci_upper": hi})
    return SessionCurve(curve=curve, median=med, wide_intervals=wide, failed=failed,
                        warnings=warns)


def km_sessions(fit: KaplanMeier, grid: np.ndarray) -> SessionCurve:
    """Whole-session curve and median of one arm from its Kaplan-Meier fit.

    The Kaplan-Meier estimate on whole-session event times is already a step function
    of whole sessions; only the median rule changes (no averaging across a flat
    stretch at exactly 0.5), and its limits are that rule on the limit curves.

    Parameters
    ----------
    fit : KaplanMeier
    grid : numpy.ndarray
        Whole sessions.

    Returns
    -------
    SessionCurve
    """
    at = fit.survival_at(grid)
    k = at["time"].to_numpy(dtype=float)
    # the upper limit curve reaches 0.5 last: it gives the upper limit of the median
    med = {"estimate": float(step_median(k, at["estimate"].to_numpy())),
           "ci_lower": float(step_median(k, at["ci_lower"].to_numpy())),
           "ci_upper": float(step_median(k, at["ci_upper"].to_numpy())),
           "n_not_reached": 0}
    curve = pd.DataFrame({"session": k, "estimate": at["estimate"].to_numpy(),
                          "ci_lower": at["ci_lower"].to_numpy(),
                          "ci_upper": at["ci_upper"].to_numpy()})
    return SessionCurve(curve=curve, median=med)


def relieved_by_session(curves: dict[str, SessionCurve]) -> pd.DataFrame:
    """Proportion relieved by each whole session per arm: ``1 - S(k)`` with its CI.

    Parameters
    ----------
    curves : dict of str to SessionCurve

    Returns
    -------
    DataFrame
        ``arm``, ``session``, ``estimate``, ``ci_lower``, ``ci_upper``.
    """
    parts = []
    for arm, sc in curves.items():
        c = sc.curve
        parts.append(pd.DataFrame({"arm": arm, "session": c["session"].astype(int),
                                   "estimate": 1.0 - c["estimate"],
                                   "ci_lower": 1.0 - c["ci_upper"],
                                   "ci_upper": 1.0 - c["ci_lower"]}))
    if not parts:
        return pd.DataFrame(columns=["arm", "session", "estimate", "ci_lower", "ci_upper"])
    return pd.concat(parts, ignore_index=True)
