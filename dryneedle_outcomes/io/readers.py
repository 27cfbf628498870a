"""Read one raw table from a file (or a DataFrame) into a :class:`RawTable`.

This is the first step of loading: bytes in, a pandas DataFrame out, with the
facts later steps need to report problems precisely (the row number a person
finds in the file) and a list of the corrections made while reading. Nothing
here knows about the canonical columns; mapping and validation come later.

This module is the dispatcher: :func:`read_table` checks the arguments, resolves
the format from ``fmt=`` or the extension and hands over to the family reader:
:mod:`~dryneedle_outcomes.io.delimited` (CSV/TSV/TXT),
:mod:`~dryneedle_outcomes.io.xlsx` (workbooks),
:mod:`~dryneedle_outcomes.io.columnar` (Parquet, SPSS, Stata) and
:mod:`~dryneedle_outcomes.io.dataframe_input` (DataFrames). All of them return a
:class:`~dryneedle_outcomes.io.raw_table.RawTable` and follow the rules below.

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

import os
from collections.abc import Iterable

import pandas as pd

from dryneedle_outcomes.errors import ReadError

from .dataframe_input import from_dataframe
from .delimited import TextOptions, read_delimited
from .limits import ReadLimits, resolve
from .raw_table import CORRECTION_COLUMNS, NA_VALUES, SET_ASIDE_COLUMNS, RawTable

__all__ = ["CORRECTION_COLUMNS", "NA_VALUES", "SET_ASIDE_COLUMNS", "SUPPORTED_FORMATS",
           "RawTable", "read_table"]

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
        return from_dataframe(source, table=table)
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
        return read_delimited(
            path,
            table=table,
            kind=kind,
            header_row=header_row,
            delimiter=delimiter,
            decimal=decimal,
            encoding=encoding,
            string_columns=string_cols,
            options=TextOptions(bad_lines, allow_empty, lim),
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


def _name_set(names: Iterable[str] | str | None) -> frozenset[str]:
    if names is None:
        return frozenset()
    if isinstance(names, str):
        names = [names]
    return frozenset(str(n).strip() for n in names)


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
