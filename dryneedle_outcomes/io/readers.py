"""Read one raw table from a file (or a DataFrame) into a :class:`RawTable`.

This is the first step of loading: bytes in, a pandas DataFrame out, with the
facts later steps need to report problems precisely (the row number a person
finds in the file) and a list of the corrections made while reading. Nothing
here knows about the canonical columns; mapping and validation come later.

Supported formats
-----------------
``csv``, ``tsv``, ``txt`` (delimited text; ``.gz`` compressed text works too),
``xlsx`` (also ``.xlsm``), ``parquet`` (``.pq``), ``spss`` (``.sav``, ``.zsav``)
and ``stata`` (``.dta``). SPSS and Stata need the optional dependency
``pyreadstat`` (``pip install dryneedle_outcomes[io]``).

Rules, in one place
-------------------
Row numbers (``RawTable.row_numbers``)
    Spreadsheet style, as a person finds the row when opening the file.

    * Delimited text: the physical line number on which the record starts
      (header on line 1 means the first data row is 2). Blank lines are skipped
      but still counted, so later numbers stay true. A quoted field that spans
      several lines makes the record's number the line it starts on. If the
      line structure cannot be reconciled with the parsed records (stray
      unbalanced quotes), numbers fall back to record counting
      (header = 1, first record = 2).
    * XLSX: the Excel row number.
    * Parquet, SPSS, Stata: position + 1 (these files have no header line).
    * DataFrame input: position + 2, as if the frame were written to CSV with a
      header line.
Missing values
    Empty strings and the tokens in :data:`NA_VALUES` (after stripping
    surrounding whitespace) become missing in every string column, whatever the
    format (``"#N/A"`` too in workbooks). DataFrame input is left as given.
Whitespace
    Surrounding whitespace is stripped from column names and from string
    values; this is not recorded as a correction.
Blank rows (``RawTable.set_aside``)
    Lines holding nothing, only whitespace, only delimiters or only missing-value
    words (``NA,-,.``) between the header and the last record, and empty workbook
    rows between the header and the last data row, are not rows of ``frame`` but
    are listed in ``set_aside`` with rule ``blank_record`` (the loader counts them
    as read and rejected, so that rows in the file = rows read). Row numbers stay true.
Bad lines
    With ``bad_lines="error"`` (the default) a line with a different number of
    fields than the header is a :class:`ReadError` naming it. With
    ``bad_lines="set_aside"`` such lines (ragged lines, comment lines) are listed
    in ``set_aside`` with rule ``ragged_line`` and the rest of the file is read.
Unterminated quotes
    A quote that opens a value and is not closed where it should be makes the
    parser read the following lines as part of that value. When a value holds a
    line with as many delimiters as the header (a whole record), reading stops
    with a :class:`ReadError` naming the line where the quote opens, whatever
    ``bad_lines`` says.
Limits
    gzip-compressed text and workbooks are checked against
    :class:`~dryneedle_outcomes.io.limits.ReadLimits` while they are expanded.
Types
    Delimited text is parsed by pyarrow's type inference, except that date,
    time and timestamp-like text is *kept as text* (dates are parsed later with
    a declared day-first/month-first convention) and the columns named in
    ``string_columns`` are read as text (``"007"`` keeps its zeros). A numeric
    column holding a value such as ``"abc"`` stays a text column; validation
    reports the bad cell later. In a decimal-comma column, the values that are
    numbers are converted even when a few cells are not (those stay text and are
    reported by validation one by one).
Corrections (``RawTable.corrections``)
    One row per change of content: a removed UTF-8 byte order mark, a fallback
    decoding, a column whose decimal commas were converted. Columns are
    ``table, source, row, column, old, new, action``; ``row`` is missing for
    whole-file or whole-column corrections.
"""

from __future__ import annotations

import codecs
import csv
import io
import os
import re
import zlib
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pv

from dryneedle_outcomes.errors import ReadError

from .csv_checks import (
    BadLines,
    decimal_commas,
    empty_lines,
    swallowed_lines,
    unterminated_quote_error,
    wide_encoding,
)
from .limits import ReadLimits, gunzip, resolve

__all__ = ["CORRECTION_COLUMNS", "NA_VALUES", "SET_ASIDE_COLUMNS", "SUPPORTED_FORMATS",
           "RawTable", "read_table"]

#: Text values read as missing (after stripping surrounding whitespace).
NA_VALUES: tuple[str, ...] = ("", "NA", "N/A", "na", "n/a", "NaN", "null", "NULL", ".", "-")

#: Columns of :attr:`RawTable.corrections`.
CORRECTION_COLUMNS: tuple[str, ...] = ("table", "source", "row", "column", "old", "new", "action")

#: Columns of :attr:`RawTable.set_aside`.
SET_ASIDE_COLUMNS: tuple[str, ...] = ("row", "rule", "value", "message")

#: File extension -> format name understood by ``read_table(fmt=...)``.
SUPPORTED_FORMATS: dict[str, str] = {
    ".csv": "csv",
    ".tsv": "tsv",
    ".tab": "tsv",
    ".txt": "txt",
    ".xlsx": "xlsx",
    ".xlsm": "xlsx",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".sav": "spss",
    ".zsav": "spss",
    ".dta": "stata",
}

_FORMAT_ALIASES = {
    "csv": "csv",
    "tsv": "tsv",
    "tab": "tsv",
    "txt": "txt",
    "text": "txt",
    "xlsx": "xlsx",
    "xlsm": "xlsx",
    "excel": "xlsx",
    "parquet": "parquet",
    "pq": "parquet",
    "sav": "spss",
    "zsav": "spss",
    "spss": "spss",
    "dta": "stata",
    "stata": "stata",
}

_SUPPORTED_TEXT = ".csv, .tsv, .txt, .xlsx/.xlsm, .parquet/.pq, .sav/.zsav (SPSS), .dta (Stata)"
_SNIFF_BYTES = 64 * 1024
_BINARY_PROBE_BYTES = 8 * 1024
_SCAN_STEP = 1 << 20
_DELIMITER_CANDIDATES = (",", "\t", ";", "|")  # also the preference order on ties
_UTF8_BOM = b"\xef\xbb\xbf"
# A strptime format no real value can match: stops pyarrow inferring timestamps.
_NO_TIMESTAMPS = ["%Y-%m-%dT%H:%M:%S|never-a-timestamp|"]
_NA_ARRAY = pa.array(NA_VALUES, pa.string())
_NA_SET = frozenset(NA_VALUES)
_DATE_LIKE = re.compile(r"\s*(?:\d{4}-\d{1,2}-\d{1,2}|\d{1,2}:\d{2}(?::\d{2})?\s*$)")
_QUOTED_FIELD = re.compile(r'"(?:[^"]|"")*"')
_WHITESPACE_ONLY_LINE = re.compile(rb"(?m)^[ \t\f\v]+(?=\r?$)")


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
        the source (see the module notes: line number for text, Excel row number for
        workbooks, position + 1 for Parquet/SPSS/Stata, position + 2 for DataFrames).
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
    corrections: pd.DataFrame = field(default_factory=lambda: _corrections_frame([]))
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


def read_table(
    source: str | os.PathLike[str] | pd.DataFrame,
    *,
    table: str,
    fmt: str | None = None,
    sheet: str | int | None = None,
    header_row: int | None = None,
    delimiter: str | None = None,
    decimal: str | None = None,
    encoding: str | None = None,
    string_columns: Iterable[str] = (),
    apply_value_labels: bool = True,
    bad_lines: str = "error",
    allow_empty: bool = False,
    limits: ReadLimits | None = None,
) -> RawTable:
    """Read one raw table from a file or a DataFrame.

    Parameters
    ----------
    source : str, os.PathLike or pandas.DataFrame
        Path of a CSV/TSV/TXT, XLSX/XLSM, Parquet, SPSS (``.sav``/``.zsav``) or Stata
        (``.dta``) file, or a DataFrame (copied; column names stripped, a named index
        becomes columns, nothing else changes).
    table : str
        Canonical name of the table (``"assessments"``, ``"patients"``,
        ``"adverse_events"``), used in corrections and error messages.
    fmt : str, optional
        Format name (``"csv"``, ``"tsv"``, ``"txt"``, ``"xlsx"``, ``"parquet"``,
        ``"spss"``, ``"stata"``); inferred from the extension when omitted.
    sheet : str or int, optional
        Workbook sheet by name or 0-based index; the first sheet by default.
    header_row : int, optional
        1-based row (line) holding the column names. For workbooks it is
        auto-detected when omitted: among the first 20 rows, the row whose non-empty
        cells are all text and that has the most non-empty cells (the first such row
        on a tie). For delimited text the header is the first non-blank line unless
        given.
    delimiter : str, optional
        Field delimiter for delimited text. Sniffed from the first 64 KB among
        ``,`` ``;`` tab and ``|`` when omitted (the one giving a consistent field
        count; ties go to the comma). ``.tsv`` files default to tab.
    decimal : {".", ","}, optional
        Decimal mark for delimited text. When omitted and the delimiter is ``;``,
        text columns whose values are all numbers written with a decimal comma
        (``7,5``) are converted to numbers and the conversion is recorded.
    encoding : str, optional
        Text encoding. By default UTF-8 (a byte order mark is removed and recorded),
        falling back to cp1252 and then latin-1 for bytes that are not valid UTF-8
        (recorded, with the line of the first invalid byte).
    string_columns : iterable of str
        Columns to keep as text exactly as written (e.g. patient IDs with leading
        zeros). Names not in the file are ignored. For workbooks and binary formats
        numbers in these columns are converted to text (``7.0`` -> ``"7"``). Ignored
        for DataFrame input.
    apply_value_labels : bool, default True
        For SPSS/Stata, replace coded values by their value labels.
    bad_lines : {"error", "set_aside"}, default "error"
        Delimited text: what a line with the wrong number of fields (a ragged or
        comment line) does: raise a :class:`ReadError`, or go to ``set_aside``.
    allow_empty : bool, default False
        Accept a file with a header and no data rows (an empty adverse-event log)
        and return an empty frame with its columns.
    limits : ReadLimits, optional
        Bounds on decompressed bytes and workbook rows/cells; the session default
        (:data:`dryneedle_outcomes.io.limits.DEFAULT_LIMITS`) when omitted.

    Returns
    -------
    RawTable
        The frame, the source, the row number of every row, the corrections made,
        the value labels and the encoding used.

    Raises
    ------
    ReadError
        The file is missing, empty, binary, has no data rows, has ragged lines
        (naming the line), an unterminated quote (naming the line), duplicate column
        names, an unknown format or sheet, or cannot be parsed.
        :class:`~dryneedle_outcomes.errors.InputLimitError` (a ReadError) when it
        expands beyond ``limits``.

    Examples
    --------
    >>> import pandas as pd
    >>> raw = read_table(pd.DataFrame({" patient_id ": ["007"], "visit": [0]}),
    ...                  table="assessments")
    >>> list(raw.frame.columns), raw.row_numbers.tolist(), raw.source
    (['patient_id', 'visit'], [2], '<DataFrame:assessments>')

    From a file (``patients.csv`` holding ``id;age`` / ``007;41,5``)::

        raw = read_table("patients.csv", table="patients", string_columns=["id"])
        raw.frame          # id "007" (text), age 41.5 (float)
        raw.corrections    # one row: column 'age', action 'decimal comma converted'
    """
    string_cols = _name_set(string_columns)
    if isinstance(source, pd.DataFrame):
        return _from_dataframe(source, table=table)
    try:
        path = os.fspath(source)
    except TypeError:
        raise ReadError(
            f"Cannot read {source!r}: expected a file path or a pandas DataFrame, "
            f"got {type(source).__name__}."
        ) from None
    if isinstance(path, bytes):
        path = os.fsdecode(path)
    kind = _resolve_format(path, fmt)
    _check_file(path)
    if decimal not in (None, ".", ","):
        raise ReadError(f"decimal must be '.' or ',', got {decimal!r}.", source=path)
    if header_row is not None and (not isinstance(header_row, int) or header_row < 1):
        raise ReadError(
            f"header_row must be a 1-based row number, got {header_row!r}.", source=path
        )
    if bad_lines not in ("error", "set_aside"):
        raise ReadError(f"bad_lines must be 'error' or 'set_aside', got {bad_lines!r}.",
                        source=path)
    lim = resolve(limits)

    if kind in ("csv", "tsv", "txt"):
        return _read_delimited(
            path,
            table=table,
            kind=kind,
            header_row=header_row,
            delimiter=delimiter,
            decimal=decimal,
            encoding=encoding,
            string_columns=string_cols,
            options=_TextOptions(bad_lines, allow_empty, lim),
        )
    if kind == "xlsx":
        from .xlsx import read_xlsx

        return read_xlsx(path, table=table, sheet=sheet, header_row=header_row,
                         string_columns=string_cols, limits=lim, allow_empty=allow_empty)
    from .columnar import read_parquet, read_readstat

    if kind == "parquet":
        return read_parquet(path, table=table, string_columns=string_cols,
                            allow_empty=allow_empty)
    return read_readstat(
        path,
        kind=kind,
        allow_empty=allow_empty,
        encoding=encoding,
        string_columns=string_cols,
        apply_value_labels=apply_value_labels,
    )


# --------------------------------------------------------------------------- helpers


def _name_set(names: Iterable[str] | str | None) -> frozenset[str]:
    if names is None:
        return frozenset()
    if isinstance(names, str):
        names = [names]
    return frozenset(str(n).strip() for n in names)


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


def _corrections_frame(records: list[dict[str, Any]]) -> pd.DataFrame:
    frame = pd.DataFrame.from_records(records, columns=list(CORRECTION_COLUMNS))
    frame["row"] = frame["row"].astype("Int64")
    for col in ("table", "source", "column", "old", "new", "action"):
        frame[col] = frame[col].astype(object)
    return frame


def _resolve_format(path: str, fmt: str | None) -> str:
    if fmt is not None:
        key = str(fmt).lower().lstrip(".")
        if key not in _FORMAT_ALIASES:
            raise ReadError(
                f"Unknown format {fmt!r} for {path}. Supported formats: {_SUPPORTED_TEXT}.",
                source=path,
            )
        return _FORMAT_ALIASES[key]
    name = os.path.basename(path).lower()
    if name.endswith(".gz"):
        name = name[:-3]
        ext = os.path.splitext(name)[1]
        if ext in (".csv", ".tsv", ".tab", ".txt"):
            return SUPPORTED_FORMATS[ext]
    ext = os.path.splitext(name)[1]
    if ext in SUPPORTED_FORMATS:
        return SUPPORTED_FORMATS[ext]
    hint = ""
    if ext == ".xls":
        hint = " Old binary .xls workbooks are not supported: save the file as .xlsx in Excel."
    elif ext == "":
        hint = " Pass fmt=... (e.g. fmt='csv') when the file has no extension."
    raise ReadError(
        f"Cannot read {path}: unknown file extension {ext or '(none)'!r}. "
        f"Supported formats: {_SUPPORTED_TEXT}.{hint}",
        source=path,
    )


def _check_file(path: str) -> None:
    if not os.path.exists(path):
        raise ReadError(
            f"File not found: {path} (looked in {os.path.abspath(path)}). "
            "Check the path and the working directory.",
            source=path,
        )
    if os.path.isdir(path):
        raise ReadError(f"{path} is a directory, not a data file.", source=path)
    if not os.access(path, os.R_OK):
        raise ReadError(f"{path} exists but cannot be read: check its permissions.", source=path)
    if os.path.getsize(path) == 0:
        raise ReadError(
            f"{path} is empty (0 bytes): export the data again or point to the right file.",
            source=path,
        )


def _clean_names(names: Iterable[Any], path: str, where: str | None = None) -> list[Any]:
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


def _open_error(path: str, exc: BaseException, what: str) -> ReadError:
    return ReadError(f"Cannot read {path} as {what}: {exc}", source=path)


# ------------------------------------------------------------------ delimited text


@dataclass(frozen=True)
class _ByteStats:
    """Facts about a text buffer, gathered in one cache-friendly numpy pass."""

    newline: bytes  # b"\n", or b"\r" for files using bare carriage returns
    newlines: int  # how many line-ending bytes
    ends_with_newline: bool
    quoted: bool  # any '"' in the buffer
    ascii: bool  # every byte < 0x80


@dataclass(frozen=True)
class _TextOptions:
    bad_lines: str
    allow_empty: bool
    limits: ReadLimits


def _read_delimited(
    path: str,
    *,
    table: str,
    kind: str,
    header_row: int | None,
    delimiter: str | None,
    decimal: str | None,
    encoding: str | None,
    string_columns: frozenset[str],
    options: _TextOptions,
) -> RawTable:
    corrections: list[dict[str, Any]] = []

    def note(row: int | None, column: str | None, old: Any, new: Any, action: str) -> None:
        corrections.append(
            {
                "table": table,
                "source": path,
                "row": row,
                "column": column,
                "old": old,
                "new": new,
                "action": action,
            }
        )

    buf = _read_buffer(path, options.limits)
    if _is_blank(buf):
        raise ReadError(
            f"{path} is empty (it holds only whitespace): export the data again "
            "or point to the right file.",
            source=path,
        )
    buf, used_encoding = _decode(buf, path, encoding, note)

    line_offset = 0
    if header_row is not None and header_row > 1:
        buf, line_offset = _skip_lines(buf, header_row - 1, path)
    if _is_blank(buf):
        raise ReadError(
            f"{path} has no header and no data rows below line {line_offset}.", source=path
        )

    stats = _scan(buf)
    sample = _text_sample(buf, stats.newline)
    if delimiter is None:
        delimiter = "\t" if kind == "tsv" else _sniff_delimiter(sample)
    else:
        delimiter = {"tab": "\t", "\\t": "\t"}.get(delimiter, delimiter)
        if len(delimiter) != 1:
            raise ReadError(
                f"delimiter must be a single character, got {delimiter!r}.", source=path
            )

    header = _parse_header(sample, delimiter)
    try:
        clean_header = _clean_names(header, path)
    except ReadError:
        clean_header = [h.strip() for h in header]  # pyarrow's names decide below
    column_types = {
        raw_name: pa.string()
        for raw_name, name in zip(header, clean_header, strict=True)
        if name in string_columns
    }
    # date/time-like columns seen in the sample are read as text straight away
    # (cheaper than letting pyarrow parse dates and casting them back)
    for raw_name in _date_like_columns(sample, delimiter, header):
        column_types[raw_name] = pa.string()

    bad = BadLines() if options.bad_lines == "set_aside" else None
    read = partial(
        _arrow_read_csv, path=path, delimiter=delimiter, decimal=decimal, line_offset=line_offset,
        bad=bad,
    )
    # Quoted files are first parsed without newlines_in_values (faster); when the
    # line count shows records spanning lines and a newline really sits inside
    # quotes, they are parsed again with it.
    tbl, buf, multiline = read(buf, column_types=column_types, quoted=stats.quoted)
    if (
        stats.quoted
        and not multiline
        and tbl.num_rows + 1 != stats.newlines + (not stats.ends_with_newline)
        and _newline_inside_quotes(buf, stats)
    ):
        tbl, buf, multiline = read(buf, column_types=column_types, multiline=True)
    names = _clean_names(tbl.column_names, path)
    if tbl.num_rows == 0 and not options.allow_empty:
        raise ReadError(
            f"{path} has a header but no data rows: nothing to read. "
            "Check that the export included the data.",
            source=path,
        )

    # Keep date/time-like text as text. pyarrow infers date32 only from exact ISO
    # text, so a cast back to string restores it; time32 ("12:30" -> 12:30:00) and
    # columns in string_columns the header parse missed are re-read as text.
    redo_types = dict(column_types)
    for raw_name, name, col in zip(tbl.column_names, names, tbl.columns, strict=True):
        wrong_id = name in string_columns and not pa.types.is_string(col.type)
        if wrong_id or pa.types.is_time(col.type) or pa.types.is_timestamp(col.type):
            redo_types[raw_name] = pa.string()
    if redo_types != column_types:
        if bad is not None:
            bad.rows.clear()
        tbl, buf, multiline = read(buf, column_types=redo_types, multiline=multiline)
    n_lines = stats.newlines + (not stats.ends_with_newline)
    if stats.quoted and tbl.num_rows + 1 != n_lines:
        odd = bool(np.count_nonzero(np.frombuffer(buf, dtype=np.uint8) == 34) & 1)
        swallowed = swallowed_lines(tbl, delimiter, odd)
        if swallowed:
            raise unterminated_quote_error(path, buf.to_pybytes(), tbl, swallowed, line_offset)

    comma_mode = None
    if decimal == ",":
        comma_mode = "given"
    elif decimal is None and delimiter == ";":
        comma_mode = "detect"

    def clean(name: Any, col: pa.ChunkedArray) -> tuple[pa.ChunkedArray, Any]:
        if pa.types.is_date(col.type):
            col = pc.cast(col, pa.string())
        if not pa.types.is_string(col.type):
            return col, None
        return _clean_text_column(
            col, numeric=name not in string_columns, comma_mode=comma_mode,
            ascii_only=stats.ascii, keep_spaces=name in string_columns,
        )

    # pyarrow compute releases the GIL: clean the text columns side by side
    jobs = list(zip(names, tbl.columns, strict=True))
    if tbl.num_rows >= 100_000 and len(jobs) > 1 and (os.cpu_count() or 1) > 1:
        with ThreadPoolExecutor(max_workers=min(len(jobs), os.cpu_count() or 1)) as pool:
            cleaned = list(pool.map(lambda job: clean(*job), jobs))
    else:
        cleaned = [clean(*job) for job in jobs]
    columns = []
    for name, (col, example) in zip(names, cleaned, strict=True):
        if example is not None and comma_mode == "detect":
            note(None, name, example[0], example[1], "decimal comma converted")
        columns.append(col)
    tbl = pa.table(columns, names=[str(n) for n in names])

    set_aside = []
    skipped = np.empty(0, dtype=np.int64)
    if bad is not None and bad.spanning():
        raise bad.unterminated_error(buf.to_pybytes(), path, line_offset)
    if bad is not None and len(bad):
        bad_frame = bad.frame(buf.to_pybytes(), line_offset, delimiter)
        set_aside.append(bad_frame)
        skipped = bad_frame["row"].dropna().to_numpy(dtype=np.int64) - line_offset
    row_numbers = _record_line_numbers(buf, tbl.num_rows, stats, skipped) + line_offset
    blank_lines = _empty_line_numbers(buf, tbl.num_rows, stats, len(skipped))
    if len(blank_lines):
        set_aside.append(blank_records(blank_lines + line_offset))
    empty = _all_null_rows(tbl)
    if empty is not None:
        empty_np = empty.to_numpy(zero_copy_only=False)
        set_aside.append(blank_records(row_numbers[empty_np]))
        tbl = tbl.filter(pc.invert(empty))
        row_numbers = row_numbers[~empty_np]
    if tbl.num_rows == 0 and not options.allow_empty:
        raise ReadError(
            f"{path} has a header but no data rows (only empty rows): nothing to read.",
            source=path,
        )
    del buf
    frame = tbl.to_pandas()
    frame.columns = names
    return RawTable(
        frame=frame,
        source=path,
        row_numbers=np.ascontiguousarray(row_numbers, dtype=np.int64),
        corrections=_corrections_frame(corrections),
        value_labels={},
        encoding=used_encoding,
        set_aside=_sorted_set_aside(set_aside),
    )


def _sorted_set_aside(parts: list[pd.DataFrame]) -> pd.DataFrame:
    parts = [p for p in parts if len(p)]
    if not parts:
        return set_aside_frame([])
    out = pd.concat(parts, ignore_index=True).reindex(columns=list(SET_ASIDE_COLUMNS))
    out["row"] = out["row"].astype("Int64")
    return out.sort_values("row", kind="stable").reset_index(drop=True)


def _head(buf: pa.Buffer, n: int) -> bytes:
    return buf.slice(0, min(n, buf.size)).to_pybytes()


def _read_buffer(path: str, limits: ReadLimits) -> pa.Buffer:
    try:
        with pa.OSFile(path) as fh:
            buf = fh.read_buffer()
    except (OSError, pa.ArrowException) as exc:
        raise ReadError(f"Cannot read {path}: {exc}", source=path) from exc
    if _head(buf, 2) == b"\x1f\x8b":
        try:
            buf = pa.py_buffer(gunzip(memoryview(buf), path, limits))
        except ReadError:
            raise
        except (OSError, EOFError, zlib.error) as exc:
            raise ReadError(
                f"{path} looks gzip-compressed but cannot be decompressed: {exc}", source=path
            ) from exc
    return buf


def _is_blank(buf: pa.Buffer) -> bool:
    if _head(buf, _SNIFF_BYTES).strip():
        return False
    return buf.size <= _SNIFF_BYTES or not buf.to_pybytes().strip()


def _scan(buf: pa.Buffer) -> _ByteStats:
    arr = np.frombuffer(buf, dtype=np.uint8)
    newlines = 0
    quoted = False
    top = 0
    for i in range(0, len(arr), _SCAN_STEP):
        chunk = arr[i : i + _SCAN_STEP]
        newlines += int(np.count_nonzero(chunk == 10))
        if not quoted:
            quoted = bool((chunk == 34).any())
        top = max(top, int(chunk.max()))
    newline = b"\n"
    if newlines == 0:
        carriage = int(np.count_nonzero(arr == 13))
        if carriage:
            newline, newlines = b"\r", carriage
    ends = bool(len(arr)) and int(arr[-1]) == newline[0]
    return _ByteStats(newline, newlines, ends, quoted, top < 0x80)


def _binary_hint(raw: bytes) -> str:
    if raw[:4] == b"PK\x03\x04":
        return " It looks like a zip archive or an Excel workbook: save it as .xlsx or CSV."
    if raw[:4] == b"PAR1":
        return " It looks like a Parquet file: give it a .parquet extension or fmt='parquet'."
    if raw[:4] in (b"$FL2", b"$FL3"):
        return " It looks like an SPSS .sav file: give it a .sav extension or fmt='spss'."
    if raw[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        return " It looks like an old Excel .xls workbook: save it as .xlsx or CSV."
    return ""


def _binary_error(path: str, head: bytes) -> ReadError:
    return ReadError(
        f"{path} looks like a binary file (it contains NUL bytes), not delimited text."
        f"{_binary_hint(head)} Export the data as CSV or pass the right fmt= (for "
        "UTF-16 or UTF-32 text that was not recognised, pass encoding='utf-16' or 'utf-32').",
        source=path,
    )


def _line_of(raw: bytes, pos: int) -> int:
    return raw.count(b"\n", 0, pos) + 1


def _valid_utf8(buf: pa.Buffer) -> bool:
    offsets = pa.py_buffer(np.array([0, buf.size], dtype=np.int64))
    arr = pa.Array.from_buffers(pa.large_binary(), 1, [None, offsets, buf])
    try:
        arr.cast(pa.large_string())
    except pa.ArrowInvalid:
        return False
    return True


def _utf8_failure(raw: bytes) -> UnicodeDecodeError:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return exc
    return UnicodeDecodeError("utf-8", raw, 0, 1, "invalid")  # pragma: no cover


def _decode(buf: pa.Buffer, path: str, encoding: str | None, note) -> tuple[pa.Buffer, str]:
    """Return the content as a UTF-8 buffer and the name of the encoding used."""
    head = _head(buf, _BINARY_PROBE_BYTES)
    if encoding is not None:
        try:
            codec = codecs.lookup(encoding).name
        except LookupError:
            raise ReadError(
                f"Unknown encoding {encoding!r} for {path}: use a Python codec name "
                "such as 'utf-8', 'cp1252' or 'latin-1'.",
                source=path,
            ) from None
        if not codec.startswith(("utf-16", "utf-32")) and b"\x00" in head:
            raise _binary_error(path, head)
        if codec == "utf-8":
            if head.startswith(_UTF8_BOM):
                buf = buf.slice(len(_UTF8_BOM))
                note(None, None, "EF BB BF", None, "utf-8 BOM removed")
            if not _valid_utf8(buf):
                raw = buf.to_pybytes()
                exc = _utf8_failure(raw)
                raise ReadError(
                    f"{path} is not valid {encoding} text: byte {raw[exc.start : exc.end]!r} "
                    f"on line {_line_of(raw, exc.start)}. Try encoding='cp1252' or "
                    "encoding='latin-1', or leave encoding unset to detect it.",
                    source=path,
                )
            return buf, encoding
        raw = buf.to_pybytes()
        try:
            text = raw.decode(encoding)
        except UnicodeDecodeError as exc:
            raise ReadError(
                f"{path} cannot be decoded as {encoding}: byte {raw[exc.start : exc.end]!r} on "
                f"line {_line_of(raw, exc.start)}. Leave encoding unset to detect it.",
                source=path,
            ) from None
        return pa.py_buffer(text.lstrip("\ufeff").encode("utf-8")), encoding

    wide = wide_encoding(head)
    if wide is not None:
        try:
            text = buf.to_pybytes().decode(wide)
        except UnicodeDecodeError as exc:
            raise ReadError(
                f"{path} looks like {wide.upper()} text but byte {exc.start} cannot be "
                f"decoded as {wide}: save it as UTF-8 CSV, or pass encoding=.", source=path,
            ) from None
        bom = "byte order mark" if wide in ("utf-16", "utf-32") else "NUL pattern, no BOM"
        note(None, None, f"{wide.upper()} ({bom})", "utf-8", f"decoded as {wide}")
        return pa.py_buffer(text.lstrip("\ufeff").encode("utf-8")), wide
    used = "utf-8"
    if head.startswith(_UTF8_BOM):
        buf = buf.slice(len(_UTF8_BOM))
        head = head[len(_UTF8_BOM) :]
        note(None, None, "EF BB BF", None, "utf-8 BOM removed")
        used = "utf-8-sig"
    if b"\x00" in head:
        raise _binary_error(path, head)
    if _valid_utf8(buf):
        return buf, used

    raw = buf.to_pybytes()
    exc = _utf8_failure(raw)
    bad = raw[exc.start : exc.end]
    try:
        text = raw.decode("cp1252")
        used, action = "cp1252", "decoded as cp1252 (not valid UTF-8)"
        new = bad.decode("cp1252")
    except UnicodeDecodeError:
        text = raw.decode("latin-1")
        used, action = "latin-1", "decoded as latin-1 (not valid UTF-8 or cp1252)"
        new = bad.decode("latin-1")
    old = "".join(f"\\x{b:02x}" for b in bad)
    note(_line_of(raw, exc.start), None, old, new, action)
    return pa.py_buffer(text.encode("utf-8")), used


def _skip_lines(buf: pa.Buffer, n: int, path: str) -> tuple[pa.Buffer, int]:
    raw = _head(buf, 1 << 20)
    pos = 0
    for _ in range(n):
        nxt = raw.find(b"\n", pos)
        if nxt < 0 and len(raw) < buf.size:
            raw = buf.to_pybytes()
            nxt = raw.find(b"\n", pos)
        if nxt < 0:
            raise ReadError(
                f"{path}: header_row={n + 1} but the file has only {_line_of(raw, len(raw))} "
                "line(s).",
                source=path,
            )
        pos = nxt + 1
    return buf.slice(pos), n


def _text_sample(buf: pa.Buffer, nl: bytes) -> str:
    chunk = _head(buf, _SNIFF_BYTES)
    if buf.size > _SNIFF_BYTES:
        cut = chunk.rfind(nl)
        if cut < 0:  # a header longer than the sample: take the first line whole
            raw = buf.to_pybytes()
            cut = raw.find(nl)
            chunk = raw if cut < 0 else raw[:cut]
        else:
            chunk = chunk[:cut]
    return chunk.decode("utf-8", errors="ignore")


def _sniff_delimiter(sample: str) -> str:
    """The candidate giving the same field count on every sampled line.

    Quoted fields are ignored. Among consistent candidates the one splitting the
    header into most fields wins, then the order ``, tab ; |`` (so ties go to the
    comma). Without a consistent candidate, the one agreeing with the header on
    most lines wins (the parse then reports the odd lines).
    """
    text = _QUOTED_FIELD.sub('""', sample)
    lines = [ln for ln in text.splitlines() if ln.strip()][:500]
    if not lines:
        return ","
    best: tuple | None = None
    best_delim = ","
    for rank, delim in enumerate(_DELIMITER_CANDIDATES):
        counts = [ln.count(delim) for ln in lines]
        if counts[0] == 0:
            continue
        matching = sum(c == counts[0] for c in counts)
        consistent = matching == len(counts)
        key = (consistent, counts[0] if consistent else matching / len(counts), -rank)
        if best is None or key > best:
            best, best_delim = key, delim
    return best_delim


def _parse_header(sample: str, delimiter: str) -> list[str]:
    try:
        for fields in csv.reader(io.StringIO(sample, newline=""), delimiter=delimiter):
            if fields and any(f.strip() for f in fields):
                return fields
    except csv.Error:
        pass
    return []


def _date_like_columns(sample: str, delimiter: str, header: list[str]) -> list[str]:
    """Header names of columns holding ISO-like dates or clock times in the sample."""
    if not header or len(set(header)) != len(header):
        return []
    found: set[int] = set()
    try:
        reader = csv.reader(io.StringIO(sample, newline=""), delimiter=delimiter)
        seen_header = False
        for n, fields in enumerate(reader):
            if not fields or not any(f.strip() for f in fields):
                continue
            if not seen_header:
                seen_header = True
                continue
            for i, value in enumerate(fields[: len(header)]):
                if i not in found and _DATE_LIKE.match(value):
                    found.add(i)
            if n > 1000 or len(found) == len(header):
                break
    except csv.Error:
        return []
    return [header[i] for i in sorted(found)]


def _arrow_read_csv(
    buf: pa.Buffer,
    *,
    path: str,
    delimiter: str,
    decimal: str | None,
    column_types: dict[str, pa.DataType],
    line_offset: int,
    quoted: bool = False,
    multiline: bool = False,
    bad: BadLines | None = None,
) -> tuple[pa.Table, pa.Buffer, bool]:
    """Parse with pyarrow.

    Returns the table, the buffer actually parsed and whether ``newlines_in_values``
    was used (``multiline=True`` forces it; with ``quoted=True`` a failed parse is
    retried with it).
    """
    convert = pv.ConvertOptions(
        column_types=column_types,
        null_values=list(NA_VALUES),
        strings_can_be_null=True,
        quoted_strings_can_be_null=True,
        timestamp_parsers=_NO_TIMESTAMPS,
        decimal_point=decimal or ".",
    )
    blanked = False
    while True:
        parse = pv.ParseOptions(
            delimiter=delimiter, newlines_in_values=multiline, ignore_empty_lines=True,
            invalid_row_handler=None if bad is None else bad.handler,
        )
        if bad is not None:
            bad.rows.clear()
        try:
            tbl = pv.read_csv(pa.BufferReader(buf), parse_options=parse, convert_options=convert)
            return tbl, buf, multiline
        except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError) as exc:
            msg = str(exc)
        if quoted and not multiline:
            multiline = True  # a quoted value may span lines: parse again allowing it
            continue
        if "Empty CSV file" in msg:
            raise ReadError(
                f"{path} has a header but no data rows: nothing to read. "
                "Check that the export included the data.",
                source=path,
            )
        if "columns, got" not in msg:
            raise ReadError(
                f"{path}: cannot parse as delimited text (delimiter {delimiter!r}): {msg}",
                source=path,
            )
        raw = buf.to_pybytes()
        if not blanked and _WHITESPACE_ONLY_LINE.search(raw):
            # lines holding only spaces count as blank lines: empty them (their
            # newlines stay, so line numbers do not move) and parse again
            buf = pa.py_buffer(_WHITESPACE_ONLY_LINE.sub(b"", raw))
            blanked = True
            continue
        raise _ragged_error(raw, path, delimiter, line_offset, msg)


def _ragged_error(raw: bytes, path: str, delimiter: str, line_offset: int, msg: str) -> ReadError:
    expected: int | None = None
    bad: list[tuple[int, int]] = []
    prev = 0
    try:
        reader = csv.reader(io.StringIO(raw.decode("utf-8"), newline=""), delimiter=delimiter)
        for fields in reader:
            start, prev = prev + 1, reader.line_num
            if not fields or not any(f.strip() for f in fields):
                continue
            if expected is None:
                expected = len(fields)
            elif len(fields) != expected:
                bad.append((start + line_offset, len(fields)))
                if len(bad) >= 5:
                    break
    except (csv.Error, UnicodeDecodeError):
        pass
    detail = msg.removeprefix("CSV parse error: ")
    if bad and expected is not None:
        first_line, got = bad[0]
        listed = ", ".join(f"line {ln} ({n} fields)" for ln, n in bad)
        more = " and possibly more" if len(bad) >= 5 else ""
        text = (
            f"{path}: line {first_line} has {got} fields but the header has {expected} "
            f"(delimiter {delimiter!r}). Lines with a different number of fields: "
            f"{listed}{more}. No line is dropped silently: fix the file (a stray "
            "delimiter, an unquoted value containing the delimiter, or title lines above "
            f"the header - then pass header_row=) and read it again. [CSV parse error: {detail}]"
        )
    else:
        text = (
            f"{path}: lines have different numbers of fields (delimiter {delimiter!r}). "
            f"Fix the file and read it again. [CSV parse error: {detail}]"
        )
    return ReadError(text, source=path)


def _string_data_length(col: pa.ChunkedArray) -> int:
    total = 0
    for chunk in col.chunks:
        data = chunk.buffers()[1]
        if data is None or len(chunk) == 0:
            continue
        dtype = np.int64 if pa.types.is_large_string(chunk.type) else np.int32
        offsets = np.frombuffer(data, dtype=dtype)
        total += int(offsets[chunk.offset + len(chunk)]) - int(offsets[chunk.offset])
    return total


def _clean_text_column(
    col: pa.ChunkedArray,
    *,
    numeric: bool,
    comma_mode: str | None,
    ascii_only: bool,
    keep_spaces: bool = False,
) -> tuple[pa.ChunkedArray, tuple[str, float] | None]:
    """Strip whitespace, null the NA tokens and, when allowed, recover numbers.

    Returns the column and, when decimal commas were converted, an example
    ``(old_text, new_value)``.
    """
    trim = pc.ascii_trim_whitespace if ascii_only else pc.utf8_trim_whitespace
    trimmed = trim(col)
    if keep_spaces:
        # identifier columns keep their spaces: the loader trims them and records each
        # trim in the quality ledger. Padded NA tokens still become missing.
        if _string_data_length(trimmed) != _string_data_length(col):
            is_na = pc.is_in(trimmed, value_set=_NA_ARRAY)
            if pc.any(is_na).as_py():
                col = pc.if_else(is_na, pa.scalar(None, col.type), col)
        return col, None
    if _string_data_length(trimmed) != _string_data_length(col):
        col = trimmed
        is_na = pc.is_in(col, value_set=_NA_ARRAY)
        if pc.any(is_na).as_py():
            col = pc.if_else(is_na, pa.scalar(None, col.type), col)
        if numeric and col.null_count < len(col):
            for target in (pa.int64(), pa.float64()):
                try:
                    return pc.cast(col, target), None
                except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                    pass
    if numeric and comma_mode is not None and col.null_count < len(col):
        has_comma = pc.match_substring(col, ",")
        if pc.any(has_comma).as_py():
            try:
                converted = pc.cast(pc.replace_substring(col, ",", "."), pa.float64())
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                # a few unreadable cells: convert the numbers, leave those for validation
                return decimal_commas(col, has_comma)
            idx = pc.index(has_comma, True).as_py()
            return converted, (col[idx].as_py(), converted[idx].as_py())
    return col, None


def _all_null_rows(tbl: pa.Table) -> pa.ChunkedArray | None:
    if tbl.num_columns == 0 or any(c.null_count == 0 for c in tbl.columns):
        return None
    mask = pc.is_null(tbl.column(0))
    for col in tbl.columns[1:]:
        mask = pc.and_(mask, pc.is_null(col))
    if not pc.any(mask).as_py():
        return None
    return mask


def _newline_inside_quotes(buf: pa.Buffer, stats: _ByteStats) -> bool:
    """True when some line break sits inside a quoted value (odd quote count before it)."""
    arr = np.frombuffer(buf, dtype=np.uint8)
    nl_pos = np.flatnonzero(arr == stats.newline[0])
    quote_pos = np.flatnonzero(arr == ord('"'))
    return bool((np.searchsorted(quote_pos, nl_pos) & 1).any())


def _empty_line_numbers(buf: pa.Buffer, n_rows: int, stats: _ByteStats,
                        n_skipped: int) -> np.ndarray:
    """Line numbers (1-based, in ``buf``) of empty lines between the header and the end."""
    n_lines = stats.newlines + (0 if stats.ends_with_newline else 1)
    if n_lines == n_rows + 1 + n_skipped:
        return np.empty(0, dtype=np.int64)
    arr = np.frombuffer(buf, dtype=np.uint8)
    nl_pos = np.flatnonzero(arr == stats.newline[0])
    quote_pos = np.flatnonzero(arr == ord('"')) if stats.quoted else None
    return empty_lines(arr, nl_pos, quote_pos, stats.newline[0])


def _record_line_numbers(buf: pa.Buffer, n_rows: int, stats: _ByteStats,
                         skipped: np.ndarray | None = None) -> np.ndarray:
    """Physical line number (1-based) on which each parsed record starts.

    Fast path: when the text has exactly ``n_rows + 1`` lines there are neither
    blank lines nor multi-line fields, so record i (0-based) is on line i + 2.
    ``skipped`` are the line numbers of lines set aside by the parser (ragged lines).
    """
    n_lines = stats.newlines + (0 if stats.ends_with_newline else 1)
    fallback = np.arange(2, n_rows + 2, dtype=np.int64)
    skipped = np.empty(0, dtype=np.int64) if skipped is None else skipped
    if n_lines == n_rows + 1 and not len(skipped):
        return fallback
    arr = np.frombuffer(buf, dtype=np.uint8)
    nl_pos = np.flatnonzero(arr == stats.newline[0])
    every_line = np.arange(len(nl_pos))
    attempts = [every_line]
    if stats.quoted:
        quote_pos = np.flatnonzero(arr == ord('"'))
        # a newline ends a record only when an even number of quotes precede it
        # ("" escapes keep the parity, as in RFC 4180); a stray quote inside an
        # unquoted value breaks the parity, hence the plain line split as second try
        parity = np.searchsorted(quote_pos, nl_pos) & 1
        del quote_pos
        attempts.insert(0, np.flatnonzero(parity == 0))
    for term_idx in attempts:
        lines = _nonblank_record_lines(arr, nl_pos, term_idx, stats.newline)
        if len(skipped):
            lines = lines[~np.isin(lines, skipped)]
        if len(lines) == n_rows + 1:
            return lines[1:]
    return fallback


def _nonblank_record_lines(
    arr: np.ndarray, nl_pos: np.ndarray, term_idx: np.ndarray, newline: bytes
) -> np.ndarray:
    """1-based start line of every non-blank record, given which newlines end records."""
    term = nl_pos[term_idx]
    starts = np.concatenate(([0], term + 1))
    ends = np.concatenate((term, [len(arr)]))
    start_line = np.concatenate(([1], term_idx + 2)).astype(np.int64)
    if starts[-1] >= len(arr):  # the text ends with a newline: no final record
        starts, ends, start_line = starts[:-1], ends[:-1], start_line[:-1]
    length = ends - starts
    if newline == b"\n" and len(length):
        nonzero = length > 0
        has_cr = np.zeros(len(length), dtype=np.int64)
        has_cr[nonzero] = arr[ends[nonzero] - 1] == 13
        length = length - has_cr
    return start_line[length > 0]


# ------------------------------------------------------------------ shared helpers


def _as_text(s: pd.Series) -> pd.Series:
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


def _default_index(frame: pd.DataFrame) -> pd.DataFrame:
    """RangeIndex 0..n-1; a named index becomes columns, an unnamed one is dropped."""
    idx = frame.index
    if isinstance(idx, pd.RangeIndex) and idx.start == 0 and idx.step == 1:
        return frame
    if any(n is not None for n in idx.names):
        return frame.reset_index()
    return frame.reset_index(drop=True)


# ------------------------------------------------------------------------ DataFrame


def _from_dataframe(df: pd.DataFrame, *, table: str) -> RawTable:
    name = f"<DataFrame:{table}>"
    frame = _default_index(df.copy())
    frame.columns = _clean_names(frame.columns, name)
    _check_scalar_cells(frame, name)
    return RawTable(
        frame=frame,
        source=name,
        row_numbers=np.arange(2, len(frame) + 2, dtype=np.int64),
        corrections=_corrections_frame([]),
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
