"""Read Parquet, SPSS (``.sav``/``.zsav``) and Stata (``.dta``) files into a RawTable.

These formats carry their own types and have no header line: row numbers are the
position + 1. Text values are stripped and the missing-value words of
:data:`~dryneedle_outcomes.io.readers.NA_VALUES` become missing, as for text files.
SPSS and Stata need the optional dependency ``pyreadstat``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ..errors import ReadError
from .delimited import clean_text_column
from .raw_table import (
    NA_VALUES,
    RawTable,
    as_text,
    clean_names,
    corrections_frame,
    default_index,
    open_error,
)

_NA_SET = frozenset(NA_VALUES)


def read_parquet(path: str, *, table: str, string_columns: frozenset[str],
                 allow_empty: bool = False) -> RawTable:
    import pyarrow.parquet as pq

    try:
        tbl = pq.read_table(path)
    except (pa.ArrowException, OSError) as exc:
        raise ReadError(
            f"Cannot read {path} as Parquet: {exc}. Check that the file is a Parquet file.",
            source=path,
        ) from exc
    cols = []
    for name, col in zip(tbl.column_names, tbl.columns, strict=True):
        stripped = name.strip() if isinstance(name, str) else name
        if stripped in string_columns and not pa.types.is_string(col.type):
            try:
                col = pc.cast(col, pa.string())
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                pass
        if pa.types.is_string(col.type) or pa.types.is_large_string(col.type):
            col, _ = clean_text_column(col, numeric=False, comma_mode=None, ascii_only=False,
                                        keep_spaces=stripped in string_columns)
        cols.append(col)
    tbl = pa.Table.from_arrays(
        cols,
        schema=pa.schema(
            [f.with_type(c.type) for f, c in zip(tbl.schema, cols, strict=True)],
            metadata=tbl.schema.metadata,
        ),
    )
    try:
        frame = tbl.to_pandas()
    except (pa.ArrowException, ValueError, TypeError) as exc:
        raise open_error(path, exc, "a pandas DataFrame") from exc
    frame = default_index(frame)
    frame.columns = clean_names(frame.columns, path)
    return _positional_table(frame, path, allow_empty=allow_empty, value_labels={})


def read_readstat(
    path: str,
    *,
    kind: str,
    allow_empty: bool = False,
    encoding: str | None,
    string_columns: frozenset[str],
    apply_value_labels: bool,
) -> RawTable:
    try:
        import pyreadstat
    except ImportError:
        raise ReadError(
            f"Reading {path} ({'SPSS' if kind == 'spss' else 'Stata'}) needs the optional "
            "package pyreadstat: pip install dryneedle_outcomes[io]",
            source=path,
        ) from None
    reader = pyreadstat.read_sav if kind == "spss" else pyreadstat.read_dta
    try:
        frame, meta = reader(
            path,
            apply_value_formats=apply_value_labels,
            formats_as_category=True,
            dates_as_pandas_datetime=True,
            encoding=encoding,
        )
    except Exception as exc:  # pyreadstat raises its own and generic errors
        label = "an SPSS .sav file" if kind == "spss" else "a Stata .dta file"
        raise ReadError(f"Cannot read {path} as {label}: {exc}", source=path) from exc
    value_labels = {
        str(col).strip(): dict(labels)
        for col, labels in (getattr(meta, "variable_value_labels", None) or {}).items()
    }
    frame = default_index(frame)
    frame.columns = clean_names(frame.columns, path)
    for name in frame.columns:
        s = frame[name]
        if s.dtype == object:
            frame[name] = _clean_object_series(s)
        if name in string_columns:
            frame[name] = as_text(frame[name])
    return _positional_table(frame, path, allow_empty=allow_empty, value_labels=value_labels)


def _positional_table(frame, path: str, *, allow_empty: bool, value_labels: dict) -> RawTable:
    """A header-less format's table: rows numbered by position (1, 2, ...)."""
    if len(frame) == 0 and not allow_empty:
        raise ReadError(f"{path} has no data rows: nothing to read.", source=path)
    return RawTable(
        frame=frame,
        source=path,
        row_numbers=np.arange(1, len(frame) + 1, dtype=np.int64),
        corrections=corrections_frame([]),
        value_labels=value_labels,
        encoding=None,
    )


def _clean_object_series(s: pd.Series) -> pd.Series:
    if pd.api.types.infer_dtype(s, skipna=True) == "string":
        out = s.str.strip()
        return out.mask(out.isin(_NA_SET), None)

    def fix(v: Any) -> Any:
        if isinstance(v, str):
            v = v.strip()
            return None if v in _NA_SET else v
        return v

    return s.map(fix)
