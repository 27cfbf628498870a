"""Row numbers of delimited text: the physical line on which each record starts.

One job: map parsed records back to the lines a person sees in the file (blank
lines counted, quoted values spanning lines, lines set aside by the parser), and
find the blank lines between the header and the last record.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from .csv_checks import empty_lines
from .encodings import ByteStats


def newline_inside_quotes(buf: pa.Buffer, stats: ByteStats) -> bool:
    """True when some line break sits inside a quoted value (odd quote count before it)."""
    arr = np.frombuffer(buf, dtype=np.uint8)
    nl_pos = np.flatnonzero(arr == stats.newline[0])
    quote_pos = np.flatnonzero(arr == ord('"'))
    return bool((np.searchsorted(quote_pos, nl_pos) & 1).any())


def empty_line_numbers(buf: pa.Buffer, n_rows: int, stats: ByteStats,
                        n_skipped: int) -> np.ndarray:
    """Line numbers (1-based, in ``buf``) of empty lines between the header and the end."""
    n_lines = stats.newlines + (0 if stats.ends_with_newline else 1)
    if n_lines == n_rows + 1 + n_skipped:
        return np.empty(0, dtype=np.int64)
    arr = np.frombuffer(buf, dtype=np.uint8)
    nl_pos = np.flatnonzero(arr == stats.newline[0])
    quote_pos = np.flatnonzero(arr == ord('"')) if stats.quoted else None
    return empty_lines(arr, nl_pos, quote_pos, stats.newline[0])


def record_line_numbers(buf: pa.Buffer, n_rows: int, stats: ByteStats,
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
