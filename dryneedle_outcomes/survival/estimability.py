"""What the time-to-relief comparisons can estimate when the data barely vary.

When every analysed patient reaches relief at the same time (e.g. 100% relief at
session 1), the data say nothing about *when* relief comes in one arm compared with
another: there is no risk set with both a patient who had relief and one who did
not. The log-rank test then has zero variance, the Cox partial likelihood (Efron
ties) returns a hazard ratio of exactly 1 that only reflects the tie correction,
the Schoenfeld test is not defined and the parametric AFT models drift to a zero
scale. These checks say so up front, so that :func:`time_to_relief` reports what
can be estimated (curves, medians, RMST) and explains the rest in ``warnings``
instead of publishing an artefact or failing on a singular matrix.

Examples
--------
>>> import numpy as np
>>> no_timing_information(np.array([1.0, 1.0, 1.0]), np.array([1, 1, 1]))
'every analysed patient with relief (3) had it at the same time (1)'
>>> no_timing_information(np.array([1.0, 2.0, 1.0]), np.array([1, 1, 0])) is None
True
"""

from __future__ import annotations

import numpy as np
import pandas as pd

#: A log-scale standard error above this is an unidentified coefficient (exp(1000)).
HUGE_STD_ERROR = 1e3


def no_timing_information(time: np.ndarray, event: np.ndarray) -> str | None:
    """Why the arms' timing of relief cannot be compared, or None when it can.

    Parameters
    ----------
    time : numpy.ndarray
        Event or censoring time per patient (right-censored view).
    event : numpy.ndarray
        1 for relief, 0 for censored.

    Returns
    -------
    str or None
        A phrase naming the problem, for warnings; None when the data hold at least
        one risk set with both a relief and a patient still without relief (only a
        single relief time with nobody still waiting at it fails this).
    """
    time = np.asarray(time, dtype=float)
    event = np.asarray(event, dtype=int)
    if time.size == 0:
        return "no patient is analysed"
    if not event.any():
        return "no analysed patient had relief"
    event_times = np.unique(time[event == 1])
    if event_times.size > 1:
        return None
    t = event_times[0]
    still_waiting = (time > t) | ((time == t) & (event == 0))
    if still_waiting.any():
        return None
    n_relief = int(event.sum())
    censored = time.size - n_relief
    earlier = f" ({censored} censored before it)" if censored else ""
    return (f"every analysed patient with relief ({n_relief}) had it at the same time "
            f"({t:g}){earlier}")


def unidentified_terms(table: pd.DataFrame, *, limit: float = HUGE_STD_ERROR) -> list[str]:
    """Terms of a coefficient table whose standard error is missing, infinite or huge.

    Parameters
    ----------
    table : pandas.DataFrame
        ``term`` and ``std_error`` (log scale) columns.
    limit : float
        Standard errors above this are taken as unidentified.

    Returns
    -------
    list of str

    Examples
    --------
    >>> t = pd.DataFrame({"term": ["a", "b"], "std_error": [0.3, 3e37]})
    >>> unidentified_terms(t)
    ['b']
    """
    se = pd.to_numeric(table["std_error"], errors="coerce").to_numpy(dtype=float)
    bad = ~np.isfinite(se) | (se > limit)
    return [str(t) for t in table["term"].to_numpy()[bad]]
