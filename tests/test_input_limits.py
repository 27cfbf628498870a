"""Issue 10, section 4: reading is bounded (gzip and XLSX bombs) with a clear error.

The bombs are built in tmp_path at test time and kept small: the limits are set low
for the test rather than writing a real 50-million-cell workbook.
"""

from __future__ import annotations

import gzip
import time
import zipfile

import pandas as pd
import pytest

import dryneedle_outcomes as dno
from dryneedle_outcomes.errors import ConfigError, InputLimitError, ReadError
from dryneedle_outcomes.io import limits as limits_module


def _gzip_bomb(path, n_bytes: int):
    header = b"patient_id,visit,first_step_pain\n"
    with gzip.open(path, "wb", compresslevel=9) as fh:
        fh.write(header)
        chunk = b"P01,0,70\n" * (1 << 16)
        written = 0
        while written < n_bytes:
            fh.write(chunk)
            written += len(chunk)
    return path


def test_gzip_beyond_max_bytes_is_refused_naming_the_limit(tmp_path):
    path = _gzip_bomb(tmp_path / "visits.csv.gz", 40 * 1024**2)
    assert path.stat().st_size < 1024**2  # a small file that expands 40x and more
    start = time.perf_counter()
    with pytest.raises(InputLimitError) as info:
        dno.read_table(path, table="assessments", limits=dno.ReadLimits(max_bytes=8 * 1024**2))
    assert time.perf_counter() - start < 10
    msg = str(info.value)
    assert str(path) in msg and "ReadLimits.max_bytes = 8.0 MiB" in msg
    assert "limits=dno.ReadLimits(max_bytes=...)" in msg
    assert isinstance(info.value, ReadError) and info.value.source == str(path)


def test_gzip_within_the_limit_reads(tmp_path):
    path = tmp_path / "visits.csv.gz"
    path.write_bytes(gzip.compress(b"patient_id,visit\nP01,0\nP02,0\n"))
    raw = dno.read_table(path, table="assessments", limits=dno.ReadLimits(max_bytes=1024))
    assert raw.frame["patient_id"].tolist() == ["P01", "P02"]


def test_truncated_gzip_is_a_read_error(tmp_path):
    path = tmp_path / "visits.csv.gz"
    path.write_bytes(gzip.compress(b"patient_id,visit\n" + b"P01,0\n" * 1000)[:60])
    with pytest.raises(ReadError, match="cannot be decompressed"):
        dno.read_table(path, table="assessments")


def test_load_cohort_passes_limits_to_the_reader(tmp_path):
    path = _gzip_bomb(tmp_path / "visits.csv.gz", 4 * 1024**2)
    with pytest.raises(InputLimitError, match=r"visits\.csv\.gz.*max_bytes"):
        dno.load_cohort(path, limits=dno.ReadLimits(max_bytes=1024**2))


def _workbook(path, n_rows: int, n_cols: int = 3):
    frame = pd.DataFrame({f"c{j}": range(n_rows) for j in range(n_cols)})
    frame.insert(0, "patient_id", [f"P{i}" for i in range(n_rows)])
    frame.to_excel(path, index=False)
    return path


def test_workbook_with_too_many_cells_is_refused(tmp_path):
    path = _workbook(tmp_path / "big.xlsx", 300)
    with pytest.raises(InputLimitError) as info:
        dno.read_table(path, table="assessments", limits=dno.ReadLimits(max_cells=500))
    msg = str(info.value)
    assert str(path) in msg and "ReadLimits.max_cells = 500" in msg


def test_workbook_with_too_many_rows_is_refused(tmp_path):
    path = _workbook(tmp_path / "long.xlsx", 300, n_cols=1)
    with pytest.raises(InputLimitError, match=r"ReadLimits\.max_rows = 100\b"):
        dno.read_table(path, table="assessments", limits=dno.ReadLimits(max_rows=100))


def test_workbook_expanding_beyond_max_bytes_is_refused_before_parsing(tmp_path):
    path = tmp_path / "bomb.xlsx"
    _workbook(path, 10)
    with zipfile.ZipFile(path, "a", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("xl/padding.bin", b"\0" * (4 * 1024**2))
    with pytest.raises(InputLimitError, match=r"uncompressed workbook.*max_bytes = 1\.0 MiB"):
        dno.read_table(path, table="assessments", limits=dno.ReadLimits(max_bytes=1024**2))


def test_default_limits_can_be_changed_for_the_session(tmp_path):
    path = _workbook(tmp_path / "big.xlsx", 50)
    old = dno.set_default_limits(dno.ReadLimits(max_cells=20))
    try:
        with pytest.raises(InputLimitError, match="max_cells = 20"):
            dno.read_table(path, table="assessments")
    finally:
        dno.set_default_limits(old)
    assert limits_module.DEFAULT_LIMITS == old
    assert len(dno.read_table(path, table="assessments").frame) == 50


@pytest.mark.parametrize("bad", [0, -1, 1.5, True, "10"])
def test_limits_must_be_positive_whole_numbers(bad):
    with pytest.raises(ConfigError, match="ReadLimits.max_rows"):
        dno.ReadLimits(max_rows=bad)
