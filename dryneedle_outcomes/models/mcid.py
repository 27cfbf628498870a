"""Percentile intervals for the first session at which the MCID is reached.

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

import numpy as np
import pandas as pd


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
