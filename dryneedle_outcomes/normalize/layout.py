"""From a raw table to records with canonical column names: long and wide layouts.

The raw values are not converted here; this step only finds the columns the
mapping names (or the canonical names), reshapes wide files to one record per
patient x visit, and remembers where every record came from.
"""

from __future__ import annotations

import difflib
import re

import numpy as np
import pandas as pd

from ..errors import DataValidationError
from ..instruments import INSTRUMENTS
from ..io.raw_table import RawTable
from ..mapping import CANONICAL_COLUMNS, TableMapping
from ..quality import PROBLEM_COLUMNS
from .records import Records
from .source_rows import (
    ROW_COLUMNS,
    add_rows,
    carried_columns,
    column_ledger,
    repeated_header_mask,
    set_aside_rows,
    without_rows,
)

REQUIRED: dict[str, tuple[str, ...]] = {
    "patients": ("patient_id", "arm"),
    "assessments": ("patient_id", "visit"),
    "adverse_events": ("patient_id", "visit"),
    "intercurrent_events": ("patient_id", "visit", "event"),
}


def _candidates(table: str) -> tuple[str, ...]:
    extra = tuple(INSTRUMENTS) if table == "assessments" else ()
    return CANONICAL_COLUMNS[table] + extra


def _missing_column_error(raw: RawTable, table: str,
                          missing: list[tuple[str, str]]) -> DataValidationError:
    available = list(raw.frame.columns)
    rows = []
    for canonical, source in missing:
        close = difflib.get_close_matches(source, [str(c) for c in available], n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        rows.append({
            "table": table, "source": raw.source, "row": 1, "column": source, "value": None,
            "rule": "missing_required_column",
            "message": (f"column {source!r} (for {canonical}) is not in the file; the columns "
                        f"are: {', '.join(map(str, available))}.{hint} Name the right column in "
                        f"the mapping, e.g. [{table}.columns] {canonical} = \"...\""),
        })
    return DataValidationError(pd.DataFrame(rows, columns=list(PROBLEM_COLUMNS)))


def build_records(raw: RawTable, tm: TableMapping, table: str) -> Records:
    """Records with canonical column names (raw values) for ``table``.

    Raises
    ------
    DataValidationError
        When a required column, or a column the mapping names, is not in the file.
    """
    header_again = repeated_header_mask(raw.frame)
    set_aside = set_aside_rows(raw, header_again)
    if tm.layout == "wide":
        return _build_wide(raw, tm, table, header_again, set_aside)
    frame, row_numbers = without_rows(raw, header_again)
    missing = []
    data = {}
    source_columns: dict[str, str] = {}
    for canonical in _candidates(table):
        source = tm.source_of(canonical)
        if source in frame.columns:
            data[canonical] = frame[source]
            source_columns[canonical] = source
        elif canonical in tm.columns or canonical in REQUIRED[table]:
            missing.append((canonical, source))
    if missing:
        raise _missing_column_error(raw, table, missing)
    carried = carried_columns(frame.columns, set(source_columns.values()), _candidates(table))
    # the raw frame already has a RangeIndex: no realignment, and no copy of the values
    data_frame = pd.DataFrame(data, copy=False)
    rec = Records(
        table=table,
        source=raw.source,
        raw=frame,
        raw_pos=np.arange(len(frame)),
        row_numbers=row_numbers,
        data=data_frame,
        source_columns=source_columns,
        source_rows=len(frame) + len(set_aside),
        row_columns=ROW_COLUMNS.get(table),
        set_aside=set_aside,
    )
    rec.extras = frame[list(carried)].set_axis(list(carried.values()), axis=1) \
        if carried else None
    rec.column_ledger = column_ledger(table, raw.source, source_columns, carried)
    rec.add_corrections(raw.corrections)
    return rec


def _build_wide(raw: RawTable, tm: TableMapping, table: str, header_again: np.ndarray,
                set_aside: pd.DataFrame) -> Records:
    frame, row_numbers = without_rows(raw, header_again)
    n = len(frame)
    # constant (per patient) columns: everything mapped that is not a wide pattern
    constant: dict[str, str] = {}
    missing = []
    for canonical in _candidates(table):
        if canonical in tm.wide:
            continue
        source = tm.source_of(canonical)
        if source in frame.columns:
            constant[canonical] = source
        elif canonical in tm.columns or canonical == "patient_id":
            missing.append((canonical, source))
    if missing:
        raise _missing_column_error(raw, table, missing)
    # visit labels per wide pattern
    per_pattern: dict[str, dict[str, str]] = {}
    labels: list[str] = []
    for canonical, pattern in tm.wide.items():
        head, _, tail = pattern.partition("{visit}")
        regex = re.compile("^" + re.escape(head) + r"(?P<visit>.+?)" + re.escape(tail) + "$")
        found = {}
        for col in frame.columns:
            m = regex.match(str(col))
            if m:
                found[m.group("visit")] = col
        if not found:
            raise _missing_column_error(raw, table, [(canonical, pattern)])
        per_pattern[canonical] = found
        for label in found:
            if label not in labels:
                labels.append(label)
    k = len(labels)
    raw_pos = np.tile(np.arange(n), k)
    label_col = pd.Series(np.repeat(np.array(labels, dtype=object), n), dtype=object)
    data = {c: pd.Series(np.tile(frame[s].to_numpy(dtype=object), k), dtype=object)
            for c, s in constant.items()}
    source_columns: dict[str, str | pd.Series] = dict(constant)
    any_value = np.zeros(n * k, dtype=bool)
    for canonical, found in per_pattern.items():
        blocks, names = [], []
        for label in labels:
            if label in found:
                blocks.append(frame[found[label]].to_numpy(dtype=object))
                names.append(found[label])
            else:
                blocks.append(np.full(n, None, dtype=object))
                names.append(tm.wide[canonical].replace("{visit}", label))
        values = pd.Series(np.concatenate(blocks), dtype=object)
        data[canonical] = values
        any_value |= values.notna().to_numpy()
        source_columns[canonical] = pd.Series(np.repeat(np.array(names, dtype=object), n))
    pattern_columns = {c for found in per_pattern.values() for c in found.values()}
    carried = carried_columns(frame.columns, set(constant.values()) | pattern_columns,
                              _candidates(table))
    for col, name in carried.items():
        data[name] = pd.Series(np.tile(frame[col].to_numpy(dtype=object), k), dtype=object)
    data["visit"] = label_col
    source_columns["visit"] = pd.Series(
        np.repeat(np.array([next(iter(per_pattern.values())).get(lb, lb) for lb in labels],
                           dtype=object), n))
    keep = any_value
    source_rows = n + len(set_aside)  # rows of the file (set-aside ones not in ``frame``)
    no_visits = ~any_value.reshape(k, n).any(axis=0)
    if no_visits.any():
        set_aside = add_rows(set_aside, frame, row_numbers, no_visits, "no_visit_values",
                             "the row has no value in any visit column, so no assessment "
                             "comes from it (a patient without visits?); it is counted and "
                             "set aside")
    data_frame = pd.DataFrame(data).loc[keep].reset_index(drop=True)
    source_columns = {
        c: (s.loc[keep].reset_index(drop=True) if isinstance(s, pd.Series) else s)
        for c, s in source_columns.items()
    }
    rec = Records(
        table=table,
        source=raw.source,
        raw=frame,
        raw_pos=raw_pos[keep],
        row_numbers=row_numbers[raw_pos[keep]],
        data=data_frame,
        source_columns=source_columns,
        source_rows=source_rows,
        row_columns=ROW_COLUMNS.get(table),
        set_aside=set_aside,
    )
    rec.extras = data_frame[list(carried.values())] if carried else None
    rec.column_ledger = column_ledger(
        table, raw.source, {**constant, **{c: tm.wide[c] for c in per_pattern}}, carried)
    rec.add_corrections(raw.corrections)
    rec.correct_column(
        "visit", f"{n} wide rows x {k} visits", f"{int(keep.sum())} long records",
        "reshaped wide to long (patient x visit cells that are all empty are absent visits)",
        int(keep.sum()),
    )
    return rec
