"""Checks that make a delimited-text read account for every line of the file.

The pyarrow parser is fast and strict, but a few shapes of file make lines vanish
without an error. The functions here find them, vectorised over the bytes or the
parsed columns (no Python loop over the lines of a million-row file):

* an unterminated quote swallows the lines after it into one value
  (:func:`swallowed_lines`): a :class:`ReadError` naming the line where it opens;
* empty lines between records (:func:`empty_lines`) are counted as blank records;
* ragged lines and comment lines (:class:`BadLines`) are, when asked, set aside as
  records of their own instead of failing the whole file;
* UTF-16/UTF-32 text with or without a byte order mark (:func:`wide_encoding`);
* a decimal-comma column with a few unreadable cells (:func:`decimal_commas`) keeps
  its other values readable.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ..errors import ReadError

#: Numbers as written with a decimal comma or point (after stripping).
_NUMBER = r"^[+-]?(?:\d+(?:[.,]\d*)?|[.,]\d+)(?:[eE][+-]?\d+)?$"


def wide_encoding(head: bytes) -> str | None:
    """The UTF-16/32 codec of text starting with ``head``, or None for byte encodings.

    A byte order mark decides; without one, text whose every second byte is NUL
    (ASCII characters in UTF-16) is UTF-16, little- or big-endian by where the NULs are.

    Examples
    --------
    >>> wide_encoding("id,v\\n".encode("utf-16-le")), wide_encoding(b"id,v\\n")
    ('utf-16-le', None)
    """
    if head.startswith((b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff")):
        return "utf-32"
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    sample = np.frombuffer(head[: len(head) // 2 * 2][:4096], dtype=np.uint8)
    if len(sample) < 4:
        return None
    even_nul = float((sample[0::2] == 0).mean())
    odd_nul = float((sample[1::2] == 0).mean())
    if odd_nul >= 0.9 and even_nul <= 0.1:
        return "utf-16-le"
    if even_nul >= 0.9 and odd_nul <= 0.1:
        return "utf-16-be"
    return None


def decimal_commas(col: pa.ChunkedArray, has_comma: pa.ChunkedArray
                   ) -> tuple[pa.ChunkedArray, tuple[str, Any] | None]:
    """Rewrite ``8,4`` as ``8.4`` in a mostly numeric text column that does not cast whole.

    Cells that are not numbers (``abc``, a repeated header) stay as they are, so that
    validation rejects them one by one; the column stays text and is parsed later.
    Returns the column and an example ``(old, new)``, or ``(col, None)`` when fewer
    than half of the values are numbers (a free-text column is left alone).
    """
    looks = pc.match_substring_regex(col, _NUMBER)
    n_values = len(col) - col.null_count
    n_numbers = pc.sum(looks).as_py() or 0
    if n_values == 0 or n_numbers * 2 < n_values:
        return col, None
    convert = pc.and_(looks, has_comma)
    if not pc.any(convert).as_py():
        return col, None
    fixed = pc.if_else(convert, pc.replace_substring(col, ",", "."), col)
    idx = pc.index(convert, True).as_py()
    return fixed, (col[idx].as_py(), fixed[idx].as_py())


def swallowed_lines(tbl: pa.Table, delimiter: str, odd_quotes: bool
                    ) -> list[tuple[int, str, int]]:
    """Text cells that hold whole lines of the file: signs of an unterminated quote.

    A quoted value may legitimately hold line breaks (a note over two lines), but a
    line inside it with as many delimiters as the header (a full record, in a file of
    three columns or more) means a quote opened and was not closed where it should
    have been. With an odd number of quotes in the file (``odd_quotes``) the last
    quote is never closed at all: the last value holding a line break is reported.
    Returns ``(record index, column, number of swallowed lines)`` for each such cell.
    """
    n_delims = tbl.num_columns - 1
    found, last = [], None
    for name, col in zip(tbl.column_names, tbl.columns, strict=True):
        if not pa.types.is_string(col.type) and not pa.types.is_large_string(col.type):
            continue
        multi = pc.match_substring(col, "\n")
        if not pc.any(multi).as_py():
            continue
        rows = np.flatnonzero(multi.to_numpy(zero_copy_only=False).astype(bool, copy=False))
        parts = pc.split_pattern(pc.take(col, pa.array(rows)), "\n")
        parent = pc.list_parent_indices(parts).to_numpy()
        if last is None or rows[-1] > last[0]:
            last = (int(rows[-1]), str(name), int((parent == len(rows) - 1).sum()) - 1)
        if n_delims < 2:
            continue
        first = np.r_[True, parent[1:] != parent[:-1]]
        inner = pc.count_substring(pc.list_flatten(parts), delimiter).to_numpy()
        full = (inner >= n_delims) & ~first
        if full.any():
            counts = np.bincount(parent[full], minlength=len(rows))
            found += [(int(rows[i]), str(name), int(counts[i])) for i in np.flatnonzero(counts)]
    if not found and odd_quotes and last is not None:
        found.append(last)
    return sorted(found)


def unterminated_quote_error(path: str, raw: bytes, tbl: pa.Table,
                             swallowed: list[tuple[int, str, int]], line_offset: int
                             ) -> ReadError:
    """The error naming the line where the (first) unterminated quote opens."""
    rec, column, n = swallowed[0]
    cell = str(tbl.column(column)[rec].as_py())
    head = cell.split("\n", 1)[0]
    pos = raw.find(b'"' + head.encode("utf-8") + b"\n")
    if pos < 0:
        pos = raw.find(b'"' + head.encode("utf-8"))
    line = raw.count(b"\n", 0, pos) + 1 + line_offset if pos >= 0 else None
    where = f"line {line}" if line is not None else f"record {rec + 1}"
    more = f" ({len(swallowed)} such values in the file)" if len(swallowed) > 1 else ""
    return ReadError(
        f"{path}: {where}, column {column!r}: a quote (\") opens a value here and is not "
        f"closed before the end of the line, so the {n} line(s) after it would be read "
        f"as part of this one value and vanish as records{more}. Close or remove the "
        "quote and read the file again. [rule: unterminated_quote]",
        source=path,
    )


def empty_lines(arr: np.ndarray, nl_pos: np.ndarray, quote_pos: np.ndarray | None,
                newline: int) -> np.ndarray:
    """1-based numbers of empty or whitespace-only lines between the header and the last
    non-empty line, not inside a quoted value (an even number of quotes before them)."""
    if len(nl_pos) == 0:
        return np.empty(0, dtype=np.int64)
    starts = np.concatenate(([0], nl_pos + 1))
    ends = np.concatenate((nl_pos, [len(arr)]))
    length = ends - starts
    # whitespace-only lines: every byte is space, tab or CR
    blank_byte = (arr == 32) | (arr == 9) | (arr == 13) | (arr == 12) | (arr == 11)
    if newline != 10:
        blank_byte |= arr == 10
    cum = np.concatenate(([0], np.cumsum(~blank_byte & (arr != newline))))
    content = cum[ends] - cum[starts]
    empty = content == 0
    if quote_pos is not None and len(quote_pos):
        outside = (np.searchsorted(quote_pos, starts) & 1) == 0
        empty &= outside
    lines = np.arange(1, len(starts) + 1, dtype=np.int64)
    nonempty = np.flatnonzero(~empty & (length > 0))
    if len(nonempty) < 2:
        return np.empty(0, dtype=np.int64)
    first, last = nonempty[0], nonempty[-1]  # the header, the last record
    keep = empty.copy()
    keep[: first + 1] = False
    keep[last:] = False
    return lines[keep]


class BadLines:
    """Collects ragged and comment lines instead of failing the parse.

    Pass :meth:`handler` as pyarrow's ``invalid_row_handler``; then :meth:`frame`
    gives one ``ragged_line`` record per line (line number, text, message).
    Whitespace-only lines fail the parse, so that the reader empties them and parses
    again; they are counted as blank records by :func:`empty_lines`.
    """

    def __init__(self) -> None:
        self.rows: list[tuple[int, int, str]] = []

    def handler(self, row: Any) -> str:
        if not row.text.strip():
            return "error"  # the reader blanks whitespace-only lines and parses again
        self.rows.append((row.expected_columns, row.actual_columns, row.text))
        return "skip"

    def spanning(self) -> list[str]:
        """Texts of bad records spanning several lines: an unterminated quote swallowed
        the lines after it, which must not be set aside as one record."""
        return [text for _, _, text in self.rows if "\n" in text]

    def unterminated_error(self, raw: bytes, path: str, line_offset: int) -> ReadError:
        """The error for the first record in :meth:`spanning`."""
        text = self.spanning()[0]
        pos = raw.find(text.encode("utf-8"))
        line = raw.count(b"\n", 0, pos) + 1 + line_offset if pos >= 0 else None
        n = text.count("\n")
        where = f"line {line}" if line is not None else "a record"
        return ReadError(
            f"{path}: {where}: a quote (\") opens a value here and is not closed before the "
            f"end of the line, so the {n} line(s) after it would be read as part of one "
            "record and vanish. Close or remove the quote and read the file again. "
            "[rule: unterminated_quote]",
            source=path,
        )

    def __len__(self) -> int:
        return len(self.rows)

    def lines(self, raw: bytes, line_offset: int) -> np.ndarray:
        """Physical line numbers of the collected lines (searched in file order)."""
        out = []
        pos, line = 0, 1
        for _, _, text in self.rows:
            needle = text.encode("utf-8")
            hit = raw.find(needle, pos)
            while hit > 0 and raw[hit - 1 : hit] not in (b"\n", b"\r"):
                hit = raw.find(needle, hit + 1)
            if hit < 0:
                out.append(-1)
                continue
            line += raw.count(b"\n", pos, hit)
            out.append(line + line_offset)
            pos = hit
        return np.asarray(out, dtype=np.int64)

    def frame(self, raw: bytes, line_offset: int, delimiter: str) -> pd.DataFrame:
        """One set-aside record per collected line (columns of ``RawTable.set_aside``)."""
        lines = self.lines(raw, line_offset)
        messages = []
        for (expected, got, text) in self.rows:
            comment = " (a comment line?)" if text.lstrip().startswith(("#", "//")) else ""
            messages.append(f"the line has {got} field(s) but the header has {expected} "
                            f"(delimiter {delimiter!r}){comment}; the line is set aside")
        return pd.DataFrame({
            "row": pd.Series(lines).where(lines > 0).astype("Int64"),
            "rule": "ragged_line",
            "value": [t[:200] for _, _, t in self.rows],
            "message": messages,
        })
