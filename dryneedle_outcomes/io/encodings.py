"""Bytes of a delimited-text file to one UTF-8 buffer.

One job: get the text: read the file (expanding gzip within the reading limits),
refuse blank and binary files with a hint of what they are, detect or apply the
encoding (UTF-8 with or without byte order mark, UTF-16/32, cp1252 and latin-1
fallbacks, each recorded as a correction) and gather the byte facts the line
numbering needs in one pass (:class:`ByteStats`).
"""

from __future__ import annotations

import codecs
import zlib
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from dryneedle_outcomes.errors import ReadError

from .csv_checks import wide_encoding
from .limits import ReadLimits, gunzip

SNIFF_BYTES = 64 * 1024
_BINARY_PROBE_BYTES = 8 * 1024
_SCAN_STEP = 1 << 20
_UTF8_BOM = b"\xef\xbb\xbf"


@dataclass(frozen=True)
class ByteStats:
    """Facts about a text buffer, gathered in one cache-friendly numpy pass."""

    newline: bytes  # b"\n", or b"\r" for files using bare carriage returns
    newlines: int  # how many line-ending bytes
    ends_with_newline: bool
    quoted: bool  # any '"' in the buffer
    ascii: bool  # every byte < 0x80


def buffer_head(buf: pa.Buffer, n: int) -> bytes:
    return buf.slice(0, min(n, buf.size)).to_pybytes()


def read_buffer(path: str, limits: ReadLimits) -> pa.Buffer:
    try:
        with pa.OSFile(path) as fh:
            buf = fh.read_buffer()
    except (OSError, pa.ArrowException) as exc:
        raise ReadError(f"Cannot read {path}: {exc}", source=path) from exc
    if buffer_head(buf, 2) == b"\x1f\x8b":
        try:
            buf = pa.py_buffer(gunzip(memoryview(buf), path, limits))
        except ReadError:
            raise
        except (OSError, EOFError, zlib.error) as exc:
            raise ReadError(
                f"{path} looks gzip-compressed but cannot be decompressed: {exc}", source=path
            ) from exc
    return buf


def is_blank_buffer(buf: pa.Buffer) -> bool:
    if buffer_head(buf, SNIFF_BYTES).strip():
        return False
    return buf.size <= SNIFF_BYTES or not buf.to_pybytes().strip()


def scan_bytes(buf: pa.Buffer) -> ByteStats:
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
    return ByteStats(newline, newlines, ends, quoted, top < 0x80)


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


def line_of_offset(raw: bytes, pos: int) -> int:
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


def decode_to_utf8(buf: pa.Buffer, path: str, encoding: str | None, note) -> tuple[pa.Buffer, str]:
    """Return the content as a UTF-8 buffer and the name of the encoding used."""
    head = buffer_head(buf, _BINARY_PROBE_BYTES)
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
                    f"on line {line_of_offset(raw, exc.start)}. Try encoding='cp1252' or "
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
                f"line {line_of_offset(raw, exc.start)}. Leave encoding unset to detect it.",
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
    note(line_of_offset(raw, exc.start), None, old, new, action)
    return pa.py_buffer(text.encode("utf-8")), used
