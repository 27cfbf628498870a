"""Read one sheet of an XLSX/XLSM workbook into a :class:`~.readers.RawTable`.

Rules (see also :mod:`dryneedle_outcomes.io.readers`)
-----------------------------------------------------
Header
    ``header_row`` (1-based Excel row) or, when omitted, among the first 20 rows the
    row whose non-empty cells are all text and that has the most non-empty cells.
Row numbers
    The Excel row number.
Blank rows
    A row between the header and the last data row whose cells are all empty (or
    hold only missing-value words such as ``NA``) is not a data row but is counted:
    it is listed in :attr:`RawTable.set_aside` with rule ``blank_record`` so that
    rows in the sheet = rows read. Empty rows after the last data row are formatting,
    not rows, and are ignored.
Limits
    The total uncompressed size of the workbook's parts, the sheet's rows and its
    cells are checked against :class:`~.limits.ReadLimits` while reading, before
    the whole sheet is in memory.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import ReadError
from .limits import ReadLimits, check_sheet_size, check_workbook_size
from .raw_table import (
    NA_VALUES,
    RawTable,
    as_text,
    blank_records,
    clean_names,
    corrections_frame,
)

_HEADER_SCAN_ROWS = 20
_XLSX_NA = frozenset((*NA_VALUES, "#N/A"))
_CHECK_EVERY = 10_000  # rows between two checks of the cell limit


def read_xlsx(
    path: str,
    *,
    table: str,
    sheet: str | int | None,
    header_row: int | None,
    string_columns: frozenset[str],
    limits: ReadLimits,
    allow_empty: bool = False,
) -> RawTable:
    """Read one sheet; see the module notes. Raises :class:`ReadError` when it cannot."""
    try:
        import openpyxl
    except ImportError:  # pragma: no cover - openpyxl is a core dependency
        raise ReadError(
            f"Reading {path} needs openpyxl: pip install dryneedle_outcomes[io]", source=path
        ) from None
    check_workbook_size(path, limits)
    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds (zip, xml, key errors)
        raise ReadError(
            f"Cannot open {path} as an Excel .xlsx workbook ({type(exc).__name__}: {exc}). "
            "Check that the file is a real .xlsx (not .xls or CSV renamed).",
            source=path,
        ) from exc
    try:
        ws = _sheet(wb, sheet, path)
        sheet_name = ws.title
        if hasattr(ws, "reset_dimensions"):
            ws.reset_dimensions()  # stored dimensions can be wrong; read every cell
        rows, present = _rows(ws, path, sheet_name, limits)
    finally:
        wb.close()

    where = f"{path} (sheet {sheet_name!r})"
    filled = [any(v is not None for v in r) for r in rows]
    if not any(filled):
        raise ReadError(f"{where} is empty: no cells hold a value.", source=path)
    if header_row is None:
        header_idx = _detect_header(rows)
        if header_idx is None:
            raise ReadError(
                f"{where}: cannot find the header row within the first {_HEADER_SCAN_ROWS} "
                "rows (a row whose non-empty cells are all text). Pass header_row= "
                "(1-based Excel row number).",
                source=path,
            )
    else:
        header_idx = header_row - 1
        if header_idx >= len(rows) or not filled[header_idx]:
            raise ReadError(f"{where}: header_row={header_row} is empty.", source=path)

    header = list(rows[header_idx])
    last = max(i for i, p in enumerate(present) if p)  # later rows are only formatting
    body = [(i + 1, rows[i]) for i in range(header_idx + 1, last + 1) if filled[i]]
    blank = np.array([i + 1 for i in range(header_idx + 1, last + 1) if not filled[i]],
                     dtype=np.int64)
    if not body and not allow_empty:
        raise ReadError(
            f"{where} has a header (row {header_idx + 1}) but no data rows below it.",
            source=path,
        )
    width = _last_filled(header)
    for _, r in body:
        width = max(width, _last_filled(r))
    header = (header + [None] * width)[:width]
    names = clean_names([None if v is None else str(v) for v in header], path, where)
    records = [tuple((list(r) + [None] * width)[:width]) for _, r in body]
    frame = pd.DataFrame.from_records(records, columns=range(width))
    frame.columns = names
    frame = frame.infer_objects()
    for name in names:
        if name in string_columns:
            frame[name] = as_text(frame[name])
    return RawTable(
        frame=frame,
        source=path,
        row_numbers=np.array([n for n, _ in body], dtype=np.int64),
        corrections=corrections_frame([]),
        value_labels={},
        encoding=None,
        set_aside=blank_records(blank),
    )


def _sheet(wb, sheet: str | int | None, path: str):
    names = list(wb.sheetnames)
    if sheet is None:
        return wb.worksheets[0]
    if isinstance(sheet, int) and not isinstance(sheet, bool):
        if not -len(names) <= sheet < len(names):
            raise ReadError(
                f"{path} has no sheet number {sheet} (0-based); it has {len(names)} "
                f"sheet(s): {names}.",
                source=path,
            )
        return wb[names[sheet]]
    if str(sheet) not in names:
        raise ReadError(
            f"{path} has no sheet named {sheet!r}. Sheets in the workbook: {names}.",
            source=path,
        )
    return wb[str(sheet)]


def _rows(ws, path: str, sheet_name: str, limits: ReadLimits
          ) -> tuple[list[list], list[bool]]:
    """Every row as a list of cleaned values, and whether it holds anything at all
    (a missing-value word counts), checking the row and cell limits."""
    rows: list[list] = []
    present: list[bool] = []
    cells = 0
    try:
        for r in ws.iter_rows(values_only=True):
            rows.append(_clean_cells(r))
            present.append(any(v is not None and not (isinstance(v, str) and not v.strip())
                               for v in r))
            cells += len(r)
            if len(rows) % _CHECK_EVERY == 0 or cells > limits.max_cells:
                check_sheet_size(path, len(rows), cells, limits)
    except ReadError:
        raise
    except Exception as exc:  # openpyxl raises many kinds on a corrupt sheet
        raise ReadError(f"Cannot read sheet {sheet_name!r} of {path}: {exc}",
                        source=path) from exc
    check_sheet_size(path, len(rows), cells, limits)
    return rows, present


def _clean_cells(row: tuple) -> list:
    out = []
    for v in row:
        if isinstance(v, str):
            v = v.strip()
            if v in _XLSX_NA:
                v = None
        out.append(v)
    return out


def _last_filled(row: list) -> int:
    for i in range(len(row) - 1, -1, -1):
        if row[i] is not None:
            return i + 1
    return 0


def _detect_header(rows: list[list]) -> int | None:
    best_idx, best_count = None, 0
    for i, row in enumerate(rows[:_HEADER_SCAN_ROWS]):
        filled = [v for v in row if v is not None]
        if filled and all(isinstance(v, str) for v in filled) and len(filled) > best_count:
            best_idx, best_count = i, len(filled)
    return best_idx
