"""Resource limits for reading files: decompressed bytes, workbook rows and cells.

A 5 MB gzip file can expand to many gigabytes and a 15 MB workbook can hold fifty
million cells. The readers check these limits while reading, before the content is
held in memory, and raise :class:`~dryneedle_outcomes.errors.InputLimitError`
naming the limit and how to raise it.

The defaults (:data:`DEFAULT_LIMITS`) are far above any real trial or clinic cohort
(a million assessment rows of CSV take about 50 MB): 1 GiB of decompressed text,
2,000,000 workbook rows (Excel stops at 1,048,576) and 10,000,000 workbook cells
(openpyxl reads about 100,000 cells a second, so that is already minutes).
Pass other limits per call (``dno.load_cohort(..., limits=dno.ReadLimits(max_cells=...))``)
or change the defaults for the session with :func:`set_default_limits`.

Examples
--------
>>> import dryneedle_outcomes as dno
>>> dno.ReadLimits(max_cells=1_000).max_cells
1000
>>> dno.ReadLimits().max_bytes == 1024 ** 3
True
"""

from __future__ import annotations

import zipfile
import zlib
from dataclasses import dataclass

from ..errors import ConfigError, InputLimitError

__all__ = ["DEFAULT_LIMITS", "ReadLimits", "set_default_limits"]

_CHUNK = 1 << 24  # 16 MiB of decompressed data at a time


@dataclass(frozen=True)
class ReadLimits:
    """Upper bounds on what one input file may expand to.

    Parameters
    ----------
    max_bytes : int
        Decompressed size of a gzip-compressed text file, and total uncompressed
        size of the parts of an XLSX workbook (a workbook is a zip archive).
    max_rows : int
        Rows of a workbook sheet (Excel itself stops at 1,048,576).
    max_cells : int
        Cells (rows x columns, empty ones included) of a workbook sheet.
    """

    max_bytes: int = 1024**3
    max_rows: int = 2_000_000
    max_cells: int = 10_000_000

    def __post_init__(self) -> None:
        for name in ("max_bytes", "max_rows", "max_cells"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigError(f"ReadLimits.{name} must be a positive whole number, "
                                  f"got {value!r}")


#: Limits used when a reader is given none (replace with :func:`set_default_limits`).
DEFAULT_LIMITS = ReadLimits()


def set_default_limits(limits: ReadLimits) -> ReadLimits:
    """Make ``limits`` the default for every later read; return the previous default.

    Examples
    --------
    >>> from dryneedle_outcomes.io.limits import ReadLimits, set_default_limits
    >>> old = set_default_limits(ReadLimits(max_rows=10))
    >>> _ = set_default_limits(old)  # restore
    """
    global DEFAULT_LIMITS
    if not isinstance(limits, ReadLimits):
        raise ConfigError(f"expected a ReadLimits, got {type(limits).__name__}")
    previous, DEFAULT_LIMITS = DEFAULT_LIMITS, limits
    return previous


def resolve(limits: ReadLimits | None) -> ReadLimits:
    """``limits``, or the current default when None."""
    if limits is None:
        return DEFAULT_LIMITS
    if not isinstance(limits, ReadLimits):
        raise ConfigError(f"limits must be a dno.ReadLimits, got {type(limits).__name__}")
    return limits


def _size(n: int) -> str:
    for unit, scale in (("GiB", 1024**3), ("MiB", 1024**2), ("KiB", 1024)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{n} bytes"


def limit_error(path: str, what: str, name: str, value: int, shown: str | None = None
                ) -> InputLimitError:
    """The error for a file beyond ``ReadLimits.<name>`` (``value``)."""
    shown = shown or f"{value:,}"
    return InputLimitError(
        f"{path}: {what} exceeds the reading limit ReadLimits.{name} = {shown}. Nothing "
        "was loaded. If the file is genuine, raise the limit: "
        f"dno.load_cohort(..., limits=dno.ReadLimits({name}=...)), or for the whole "
        f"session dno.set_default_limits(dno.ReadLimits({name}=...)); in an analysis "
        f"configuration, [data.limits] {name} = ....",
        source=path,
    )


def gunzip(data: bytes | memoryview, path: str, limits: ReadLimits) -> bytes:
    """Decompress gzip ``data`` (all members), refusing output beyond ``max_bytes``.

    Raises
    ------
    InputLimitError
        When the decompressed size would exceed ``limits.max_bytes``.
    ReadError
        When the data are not valid gzip (OSError/EOFError from :mod:`zlib`).
    """
    parts: list[bytes] = []
    total = 0
    view = memoryview(data)
    while len(view):
        d = zlib.decompressobj(16 + zlib.MAX_WBITS)
        chunk = view
        while True:
            out = d.decompress(chunk, _CHUNK)
            total += len(out)
            if total > limits.max_bytes:
                raise limit_error(path, "the decompressed content", "max_bytes",
                                  limits.max_bytes, _size(limits.max_bytes))
            parts.append(out)
            chunk = d.unconsumed_tail
            if d.eof:
                break
            if not chunk:
                raise EOFError("compressed file ended before the end-of-stream marker")
        rest = d.unused_data
        view = memoryview(rest) if rest.strip(b"\x00") else memoryview(b"")
    return b"".join(parts)


def check_workbook_size(path: str, limits: ReadLimits) -> None:
    """Refuse a workbook beyond the limits before openpyxl parses it.

    Reads the zip directory (total uncompressed size against ``max_bytes``), then
    streams each worksheet's XML counting row and cell tags (``<row``, ``<c``)
    against ``max_rows`` and ``max_cells`` - about a second per gigabyte of XML,
    where openpyxl needs minutes. An unreadable archive is left for openpyxl to report.
    """
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError):
        return
    with zf:
        infos = zf.infolist()
        total = sum(info.file_size for info in infos)
        if total > limits.max_bytes:
            raise limit_error(path, f"the uncompressed workbook ({_size(total)})",
                              "max_bytes", limits.max_bytes, _size(limits.max_bytes))
        for info in infos:
            if info.filename.startswith("xl/worksheets/") and info.filename.endswith(".xml"):
                try:
                    rows, cells = _count_tags(zf, info)
                except (zipfile.BadZipFile, OSError, zlib.error, EOFError):
                    return
                check_sheet_size(path, rows, cells, limits)


def _count_tags(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> tuple[int, int]:
    rows = cells = 0
    tail = b""
    with zf.open(info) as fh:
        while chunk := fh.read(_CHUNK):
            text = tail + chunk
            rows += text.count(b"<row ") + text.count(b"<row>")
            cells += text.count(b"<c ") + text.count(b"<c>") + text.count(b"<c/>")
            # a tag split across two chunks is found through the tail (a tag wholly in
            # the tail may count twice: one in 16 MiB, irrelevant for a limit)
            tail = text[-4:]
    return rows, cells


def check_sheet_size(path: str, rows: int, cells: int, limits: ReadLimits) -> None:
    """Raise when a sheet read so far has more rows or cells than allowed."""
    if rows > limits.max_rows:
        raise limit_error(path, f"the sheet (more than {limits.max_rows:,} rows)", "max_rows",
                          limits.max_rows)
    if cells > limits.max_cells:
        raise limit_error(path, f"the sheet (more than {limits.max_cells:,} cells)",
                          "max_cells", limits.max_cells)
