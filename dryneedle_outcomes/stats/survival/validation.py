"""Input checks shared by the survival engines: numeric vectors and where a rule breaks.

Examples
--------
>>> import numpy as np, pandas as pd
>>> from dryneedle_outcomes.stats.survival.validation import first_position, float_vector
>>> float_vector("time", pd.Series([1, None], dtype="Int64")).tolist()
[1.0, nan]
>>> first_position(np.array([False, True, True]))
1
>>> float_vector("time", [[1, 2]])
Traceback (most recent call last):
...
dryneedle_outcomes.errors.AnalysisError: time must be one-dimensional; got shape (1, 2)
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ...errors import AnalysisError


def float_vector(name: str, values, n: int | None = None, *,
                 length_of: str = "the first argument") -> np.ndarray:
    """``values`` as a 1-D float array (pandas missing values become NaN).

    Parameters
    ----------
    name : str
        Argument name used in error messages.
    values : array-like or pandas Series
    n : int, optional
        Required length.
    length_of : str
        What ``n`` is the length of, for the error message.

    Raises
    ------
    AnalysisError
        When the values are not numeric, not one-dimensional or of the wrong length.
    """
    try:
        if isinstance(values, pd.Series | pd.Index):
            arr = values.to_numpy(dtype=float, na_value=np.nan)
        else:
            arr = np.asarray(values, dtype=float)
    except (TypeError, ValueError) as exc:
        raise AnalysisError(f"{name} must be numeric; could not convert it ({exc})") from exc
    if arr.ndim != 1:
        raise AnalysisError(f"{name} must be one-dimensional; got shape {arr.shape}")
    if n is not None and arr.shape[0] != n:
        raise AnalysisError(f"{name} has {arr.shape[0]} values but {length_of} has {n}; "
                            "give one value per observation")
    return arr


def first_position(mask: np.ndarray) -> int:
    """Position of the first True of ``mask`` (for "first at position k" messages)."""
    return int(np.flatnonzero(mask)[0])
