"""Take a pandas DataFrame as a raw table.

One job: the DataFrame input of :func:`~dryneedle_outcomes.io.readers.read_table`:
a copy with a default index and clean column names, row numbers as if the frame
were written to CSV (position + 2), and a refusal of cells holding lists or dicts.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from dryneedle_outcomes.errors import ReadError

from .raw_table import RawTable, clean_names, corrections_frame, default_index


def from_dataframe(df: pd.DataFrame, *, table: str) -> RawTable:
    name = f"<DataFrame:{table}>"
    frame = default_index(df.copy())
    frame.columns = clean_names(frame.columns, name)
    _check_scalar_cells(frame, name)
    return RawTable(
        frame=frame,
        source=name,
        row_numbers=np.arange(2, len(frame) + 2, dtype=np.int64),
        corrections=corrections_frame([]),
        value_labels={},
        encoding=None,
    )


_SCALAR_KINDS = frozenset({"string", "empty", "floating", "integer", "mixed-integer-float",
                           "boolean", "datetime", "datetime64", "date", "decimal",
                           "timedelta", "time", "categorical"})


def _check_scalar_cells(frame: pd.DataFrame, name: str) -> None:
    """Cells must hold single values: a list or dict (JSON, API exports) is an error."""
    for col in frame.columns:
        s = frame[col]
        if s.dtype != object or pd.api.types.infer_dtype(s, skipna=True) in _SCALAR_KINDS:
            continue
        nested = s.map(lambda v: isinstance(v, (list, tuple, dict, set, np.ndarray)))
        if nested.any():
            pos = int(np.flatnonzero(nested.to_numpy())[0])
            raise ReadError(
                f"{name}, row {pos + 2}, column {col!r}: the cell holds a "
                f"{type(s.iat[pos]).__name__} ({str(s.iat[pos])[:40]!r}), not a single value; "
                f"{int(nested.sum())} such cell(s) in this column. Flatten the data (one "
                "value per cell) before loading.", source=name)
