"""Read delimited text (CSV, TSV, TXT; gzip too) into a :class:`RawTable`.

One job: parse text with pyarrow under the rules of :mod:`dryneedle_outcomes.io.readers`:
sniff the delimiter, keep date-like and identifier columns as text, strip
whitespace and missing-value words, detect and convert decimal commas, report
ragged lines and unterminated quotes by line, and set aside blank records.
Decoding is in :mod:`~dryneedle_outcomes.io.encodings`, line numbering in
:mod:`~dryneedle_outcomes.io.line_numbers`, the line and quote checks in
:mod:`~dryneedle_outcomes.io.csv_checks`.
"""

from __future__ import annotations

import csv
import io
import os
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pv

from dryneedle_outcomes.errors import ReadError

from .csv_checks import (
    BadLines,
    decimal_commas,
    swallowed_lines,
    unterminated_quote_error,
)
from .encodings import (
    SNIFF_BYTES,
    buffer_head,
    decode_to_utf8,
    is_blank_buffer,
    line_of_offset,
    read_buffer,
    scan_bytes,
)
from .limits import ReadLimits
from .line_numbers import empty_line_numbers, newline_inside_quotes, record_line_numbers
from .raw_table import (
    NA_VALUES,
    RawTable,
    blank_records,
    clean_names,
    corrections_frame,
    sorted_set_aside,
)

_DELIMITER_CANDIDATES = (",", "\t", ";", "|")  # also the preference order on ties
# A strptime format no real value can match: stops pyarrow inferring timestamps.
_NO_TIMESTAMPS = ["%Y-%m-%dT%H:%M:%S|never-a-timestamp|"]
_NA_ARRAY = pa.array(NA_VALUES, pa.string())
_DATE_LIKE = re.compile(r"\s*(?:\d{4}-\d{1,2}-\d{1,2}|\d{1,2}:\d{2}(?::\d{2})?\s*$)")
_QUOTED_FIELD = re.compile(r'"(?:[^"]|"")*"')
_WHITESPACE_ONLY_LINE = re.compile(rb"(?m)^[ \t\f\v]+(?=\r?$)")


@dataclass(frozen=True)
class TextOptions:
    bad_lines: str
    allow_empty: bool
    limits: ReadLimits


def read_delimited(
    path: str,
    *,
    table: str,
    kind: str,
    header_row: int | None,
    delimiter: str | None,
    decimal: str | None,
    encoding: str | None,
    string_columns: frozenset[str],
    options: TextOptions,
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

    buf = read_buffer(path, options.limits)
    if is_blank_buffer(buf):
        raise ReadError(
            f"{path} is empty (it holds only whitespace): export the data again "
            "or point to the right file.",
            source=path,
        )
    buf, used_encoding = decode_to_utf8(buf, path, encoding, note)

    line_offset = 0
    if header_row is not None and header_row > 1:
        buf, line_offset = _skip_lines(buf, header_row - 1, path)
    if is_blank_buffer(buf):
        raise ReadError(
            f"{path} has no header and no data rows below line {line_offset}.", source=path
        )

    stats = scan_bytes(buf)
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
        clean_header = clean_names(header, path)
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
        and newline_inside_quotes(buf, stats)
    ):
        tbl, buf, multiline = read(buf, column_types=column_types, multiline=True)
    names = clean_names(tbl.column_names, path)
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
        return clean_text_column(
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
    row_numbers = record_line_numbers(buf, tbl.num_rows, stats, skipped) + line_offset
    blank_lines = empty_line_numbers(buf, tbl.num_rows, stats, len(skipped))
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
        corrections=corrections_frame(corrections),
        value_labels={},
        encoding=used_encoding,
        set_aside=sorted_set_aside(set_aside),
    )


def _skip_lines(buf: pa.Buffer, n: int, path: str) -> tuple[pa.Buffer, int]:
    raw = buffer_head(buf, 1 << 20)
    pos = 0
    for _ in range(n):
        nxt = raw.find(b"\n", pos)
        if nxt < 0 and len(raw) < buf.size:
            raw = buf.to_pybytes()
            nxt = raw.find(b"\n", pos)
        if nxt < 0:
            raise ReadError(
                f"{path}: header_row={n + 1} but the file has only {line_of_offset(raw, len(raw))} "
                "line(s).",
                source=path,
            )
        pos = nxt + 1
    return buf.slice(pos), n


def _text_sample(buf: pa.Buffer, nl: bytes) -> str:
    chunk = buffer_head(buf, SNIFF_BYTES)
    if buf.size > SNIFF_BYTES:
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


def clean_text_column(
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
