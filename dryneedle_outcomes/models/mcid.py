"""The deprecated ``TrajectoryResult.sessions_to_mcid``: the first session at which an
arm's modelled mean improvement reaches the MCID, with percentile intervals.

Deprecated (:data:`SESSIONS_TO_MCID_DEPRECATED` says why): a group mean judged against
an individual-level MCID (IMMPACT, Dworkin et al., Pain 2009;146:238-244). Kept callable
because the design contract lists it; no longer in the report.

A bootstrap of ``sessions_to_mcid`` has, per arm, some fits that reach the MCID
(a session number) and some that never do (missing). An interval is only given
next to an estimate: when the fitted model itself does not reach the MCID there is
no estimate, and an interval from the few bootstrap fits that do would describe a
quantity that was not estimated. Each row says why a value is missing.

Examples
--------
>>> import numpy as np
>>> draws = np.array([[2.0, np.nan], [3.0, np.nan], [3.0, 5.0]])
>>> out = first_session_intervals(np.array([3.0, np.nan]), draws, 0.95, last_visit=7)
>>> out["ci_lower"].tolist()[1], out["note"].tolist()[1]
(nan, 'MCID not reached by the last visit (7): no estimate, so no interval')
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from ..errors import AnalysisError
from ..instruments import get_instrument
from .design import design_matrix, reference_grid

#: Why ``TrajectoryResult.sessions_to_mcid`` is deprecated, and what to use instead.
SESSIONS_TO_MCID_DEPRECATED = (
    "TrajectoryResult.sessions_to_mcid is deprecated and left the report: it judges each "
    "arm's mean improvement (sham included) against an individual-level MCID, which IMMPACT "
    "cautions against (Dworkin et al., Pain 2009;146:238-244), and its interval can exist "
    "without an estimate. For the patient-level answer use dno.time_to_relief(cohort, "
    "relief=dno.Relief(mcid=True), timescale='sessions') and dno.responders(cohort, "
    "mcid=True) per visit")


def first_sessions(fit, mcid: float | None, *, n_boot: int, seed: int, progress: bool,
                   refit: Callable[[np.ndarray], np.ndarray],
                   simulate: Callable[[np.random.Generator], np.ndarray]) -> pd.DataFrame:
    """The table of ``TrajectoryResult.sessions_to_mcid``: per arm, the first visit whose
    mean improvement reaches ``mcid`` and a parametric-bootstrap percentile interval.

    Improvement is measured from the mean baseline (or from visit 0 when baseline is not
    a covariate). ``n_boot`` outcome vectors are drawn from the fitted model and the
    model refitted to each (progress shown when ``progress``), with ``seed``.
    ``estimate`` is missing when the MCID is not reached by the last visit, and then so
    is the interval (:func:`first_session_intervals`); ``share_never`` is the share of
    bootstrap fits that never reach it, ``note`` says why a value is missing.
    ``refit(y)`` returns the fixed effects refitted to outcome vector ``y``,
    ``simulate(rng)`` draws an outcome vector from the fitted model."""
    inst = get_instrument(fit.outcome)
    mcid = inst.mcid if mcid is None else float(mcid)
    if mcid is None:
        raise AnalysisError(f"{fit.outcome} has no default MCID; pass mcid=")
    frame = fit.frame
    visits = [v for v in frame.visits if v >= 1] or frame.visits
    L = design_matrix(frame, reference_grid(frame, visits), fit.model)[0]
    if frame.adjust_baseline:
        start = np.full(len(L), float(frame.data["baseline"].mean()))
        L0 = None
    else:
        L0 = design_matrix(frame, reference_grid(frame, [0]), fit.model)[0]
        start = None

    def first_reached(beta: np.ndarray) -> np.ndarray:
        means = (L @ beta).reshape(len(frame.arms), len(visits))
        base = (start.reshape(len(frame.arms), len(visits)) if start is not None
                else (L0 @ beta)[:, None])
        reached = (means - base) * inst.direction >= mcid
        first = np.where(reached.any(axis=1), np.argmax(reached, axis=1), -1)
        return np.array([visits[i] if i >= 0 else np.nan for i in first])

    point = first_reached(fit.fit.beta)
    rng = np.random.default_rng(seed)
    draws = np.empty((n_boot, len(frame.arms)))
    iterator = range(n_boot)
    if progress:
        from tqdm.auto import tqdm

        iterator = tqdm(iterator, leave=False,
                        desc="parametric bootstrap: CI of the sessions to reach the MCID")
    for b in iterator:
        draws[b] = first_reached(refit(simulate(rng)))
    ci = first_session_intervals(point, draws, fit.conf_level, last_visit=visits[-1])
    return pd.DataFrame({
        "arm": frame.arms, "mcid": mcid, "estimate": point,
        "ci_lower": ci["ci_lower"].to_numpy(), "ci_upper": ci["ci_upper"].to_numpy(),
        "share_never": ci["share_never"].to_numpy(), "n_boot": n_boot,
        "note": ci["note"].to_numpy(),
    })


def first_session_intervals(point: np.ndarray, draws: np.ndarray, conf_level: float, *,
                            last_visit: int) -> pd.DataFrame:
    """Percentile limits per arm, missing (with a reason) where there is no estimate.

    Parameters
    ----------
    point : numpy.ndarray
        The estimate per arm (NaN: the MCID is not reached by ``last_visit``).
    draws : numpy.ndarray
        Bootstrap estimates, one row per replicate and one column per arm (NaN: not
        reached in that replicate).
    conf_level : float
    last_visit : int
        The last modelled visit (for the messages).

    Returns
    -------
    pandas.DataFrame
        One row per arm: ``ci_lower``, ``ci_upper``, ``share_never`` (share of
        replicates that never reach the MCID) and ``note`` (empty when both limits
        are given).
    """
    point = np.asarray(point, dtype=float)
    draws = np.asarray(draws, dtype=float).reshape(-1, point.size)
    alpha = 1.0 - conf_level
    reached = np.isfinite(draws)
    n_reached = reached.sum(axis=0)
    share_never = (1.0 - n_reached / draws.shape[0]) if draws.shape[0] else np.full(
        point.size, np.nan)
    lower = np.full(point.size, np.nan)
    upper = np.full(point.size, np.nan)
    notes = np.full(point.size, "", dtype=object)
    has_point = np.isfinite(point)
    usable = has_point & (n_reached > 0)
    if usable.any():   # quantiles only of columns with values: no all-NaN slice
        cols = np.flatnonzero(usable)
        lower[cols] = np.nanquantile(draws[:, cols], alpha / 2, axis=0)
        upper[cols] = np.nanquantile(draws[:, cols], 1 - alpha / 2, axis=0)
    notes[~has_point] = (f"MCID not reached by the last visit ({last_visit}): no estimate, "
                         "so no interval")
    if draws.shape[0] == 0:
        notes[has_point] = "no bootstrap replicates (n_boot=0): no interval"
    else:
        notes[has_point & (n_reached == 0)] = "no bootstrap fit reached the MCID: no interval"
    never = has_point & (n_reached > 0) & (share_never > 0)
    notes[never] = [f"{s:.0%} of bootstrap fits never reach the MCID by visit {last_visit}; "
                    "the interval is over those that do" for s in share_never[never]]
    return pd.DataFrame({"ci_lower": lower, "ci_upper": upper, "share_never": share_never,
                         "note": notes})
