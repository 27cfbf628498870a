"""The :class:`RawTable` every reader returns, and the bookkeeping the readers share.

One job: the container of a table as read and its reading ledger - the
corrections frame, the set-aside frame (blank records), column-name cleaning and
the text form of cells - so that every format family (delimited text, workbooks,
columnar files, DataFrames) reports rows and corrections the same way. The rules
themselves (row numbers, missing values, blank rows) are stated once, in
:mod:`dryneedle_outcomes.io.readers`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from dryneedle_outcomes.errors import ReadError

#: Text values read as missing (after stripping surrounding whitespace).
NA_VALUES: tuple[str, ...] = ("", "NA", "N/A", "na", "n/a", "NaN", "null", "NULL", ".", "-")

#: Columns of :attr:`RawTable.corrections`.
CORRECTION_COLUMNS: tuple[str, ...] = ("table", "source", "row", "column", "old", "new", "action")

#: Columns of :attr:`RawTable.set_aside`.
SET_ASIDE_COLUMNS: tuple[str, ...] = ("row", "rule", "value", "message")


@dataclass(frozen=True, eq=False, repr=False)
class RawTable:
    """One table exactly as read, plus what is needed to point back into the file.

    Attributes
    ----------
    frame : pandas.DataFrame
        The data as read, with a ``RangeIndex`` 0..n-1 and column names stripped of
        surrounding whitespace.
    source : str
        The file path as given, or ``"<DataFrame:{table}>"`` for DataFrame input.
    row_numbers : numpy.ndarray
        ``int64``, one per row of ``frame``: the row number as a person finds it in
        the source (see the rules in :mod:`dryneedle_outcomes.io.readers`: line number
        for text, Excel row number for workbooks, position + 1 for Parquet/SPSS/Stata,
        position + 2 for DataFrames).
    corrections : pandas.DataFrame
        Changes of content made while reading, columns :data:`CORRECTION_COLUMNS`
        (possibly empty).
    value_labels : dict
        SPSS/Stata value labels per column (``{column: {code: label}}``); applied to
        ``frame`` when ``apply_value_labels=True``. ``{}`` for other formats.
    encoding : str or None
        The text encoding actually used (delimited text only).
    set_aside : pandas.DataFrame
        Records of the file that are not rows of ``frame``: blank records and (with
        ``bad_lines="set_aside"``) ragged lines; columns :data:`SET_ASIDE_COLUMNS`.
    """

    frame: pd.DataFrame
    source: str
    row_numbers: np.ndarray
    corrections: pd.DataFrame = field(default_factory=lambda: corrections_frame([]))
    value_labels: dict[str, dict] = field(default_factory=dict)
    encoding: str | None = None
    set_aside: pd.DataFrame = field(default_factory=lambda: set_aside_frame([]))

    def __repr__(self) -> str:
        cols = list(self.frame.columns)
        shown = ", ".join(map(repr, cols[:8])) + (", ..." if len(cols) > 8 else "")
        return (
            f"RawTable(source={self.source!r}, rows={len(self.frame)}, columns=[{shown}], "
            f"corrections={len(self.corrections)}, encoding={self.encoding!r})"
        )


def set_aside_frame(records: list[dict[str, Any]]) -> pd.DataFrame:
    """A :attr:`RawTable.set_aside` frame from records (possibly none)."""
    frame = pd.DataFrame.from_records(records, columns=list(SET_ASIDE_COLUMNS))
    frame["row"] = frame["row"].astype("Int64")
    return frame


def blank_records(rows: np.ndarray) -> pd.DataFrame:
    """``set_aside`` entries (rule ``blank_record``) for the blank rows numbered ``rows``."""
    return pd.DataFrame({
        "row": pd.array(np.asarray(rows, dtype=np.int64), dtype="Int64"),
        "rule": "blank_record",
        "value": None,
        "message": "the row is blank (no value, or only missing-value words such as NA); "
                   "it is counted and set aside",
    })


def corrections_frame(records: list[dict[str, Any]]) -> pd.DataFrame:
    frame = pd.DataFrame.from_records(records, columns=list(CORRECTION_COLUMNS))
    frame["row"] = frame["row"].astype("Int64")
    for col in ("table", "source", "column", "old", "new", "action"):
        frame[col] = frame[col].astype(object)
    return frame


def sorted_set_aside(parts: list[pd.DataFrame]) -> pd.DataFrame:
    parts = [p for p in parts if len(p)]
    if not parts:
        return set_aside_frame([])
    out = pd.concat(parts, ignore_index=True).reindex(columns=list(SET_ASIDE_COLUMNS))
    out["row"] = out["row"].astype("Int64")
    return out.sort_values("row", kind="stable").reset_index(drop=True)


def clean_names(names: Iterable[Any], path: str, where: str | None = None) -> list[Any]:
    """Strip names, name empty ones ``Unnamed: i`` (as pandas does), refuse duplicates."""
    out: list[Any] = []
    for i, name in enumerate(names):
        if name is None or (isinstance(name, float) and np.isnan(name)):
            out.append(f"Unnamed: {i}")
            continue
        if not isinstance(name, str):
            out.append(name)
            continue
        stripped = name.strip()
        out.append(stripped if stripped else f"Unnamed: {i}")
    seen: set[Any] = set()
    dupes: list[Any] = []
    for name in out:
        if name in seen and name not in dupes:
            dupes.append(name)
        seen.add(name)
    if dupes:
        raise ReadError(
            f"{where or path}: duplicate column names {dupes} (after stripping surrounding "
            "spaces). "
            "Rename the columns so that each name is unique.",
            source=path,
        )
    return out


def open_error(path: str, exc: BaseException, what: str) -> ReadError:
    return ReadError(f"Cannot read {path} as {what}: {exc}", source=path)


def as_text(s: pd.Series) -> pd.Series:
    def conv(v: Any) -> Any:
        if v is None or v is pd.NA or v is pd.NaT:
            return None
        if isinstance(v, str):
            return v
        if isinstance(v, float | np.floating):
            if np.isnan(v):
                return None
            if float(v).is_integer():
                return str(int(v))
        if isinstance(v, bool | np.bool_):
            return str(bool(v))
        if isinstance(v, np.integer):
            return str(int(v))
        return str(v)

    return s.astype(object).map(conv).astype(object)


def default_index(frame: pd.DataFrame) -> pd.DataFrame:
    """RangeIndex 0..n-1; a named index becomes columns, an unnamed one is dropped."""
    idx = frame.index
    if isinstance(idx, pd.RangeIndex) and idx.start == 0 and idx.step == 1:
        return frame
    if any(n is not None for n in idx.names):
        return frame.reset_index()
    return frame.reset_index(drop=True)
