"""Tests for dryneedle_outcomes.io.readers (read_table / RawTable)."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from dryneedle_outcomes.errors import DryNeedleError, ReadError
from dryneedle_outcomes.io import RawTable, read_table
from dryneedle_outcomes.io.raw_table import CORRECTION_COLUMNS

DATA = Path(__file__).parent / "data" / "readers"


def _write(path: Path, data: bytes | str) -> Path:
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return path


# ------------------------------------------------------------------ delimited text


def test_comma_csv_types_ids_and_row_numbers():
    raw = read_table(DATA / "comma.csv", table="assessments", string_columns=["patient_id"])
    assert isinstance(raw, RawTable)
    assert raw.source == str(DATA / "comma.csv")
    assert raw.encoding == "utf-8"
    frame = raw.frame
    assert list(frame.columns) == ["patient_id", "visit", "arm", "first_step_pain", "visit_date"]
    assert isinstance(frame.index, pd.RangeIndex) and frame.index.start == 0
    # leading zeros kept because patient_id is a string column
    assert frame["patient_id"].tolist() == ["007", "007", "012"]
    assert frame["visit"].dtype == np.int64
    assert frame["first_step_pain"].dtype == np.float64
    assert np.isnan(frame.loc[2, "first_step_pain"])  # "NA" -> missing
    # whitespace around strings is stripped, silently
    assert frame["arm"].tolist() == ["real", "real", "sham"]
    # ISO dates stay text: another module parses dates with a declared convention
    assert frame["visit_date"].tolist() == ["2023-01-05", "2023-01-12", "2023-01-19"]
    assert raw.row_numbers.dtype == np.int64
    assert raw.row_numbers.tolist() == [2, 3, 4]
    assert list(raw.corrections.columns) == list(CORRECTION_COLUMNS)
    assert raw.corrections.empty
    assert raw.value_labels == {}


def test_leading_zero_ids_are_numbers_unless_listed_in_string_columns():
    raw = read_table(DATA / "comma.csv", table="assessments")
    assert raw.frame["patient_id"].tolist() == [7, 7, 12]
    raw = read_table(DATA / "comma.csv", table="assessments", string_columns="patient_id")
    assert raw.frame["patient_id"].tolist() == ["007", "007", "012"]


def test_semicolon_with_decimal_comma_is_detected_and_recorded():
    path = DATA / "semicolon_decimal_comma.csv"
    raw = read_table(path, table="assessments")
    frame = raw.frame
    assert list(frame.columns) == ["patient_id", "visit", "first_step_pain", "arm"]
    assert frame["first_step_pain"].dtype == np.float64
    assert frame["first_step_pain"].tolist() == [72.5, 60.0, 55.25]
    corr = raw.corrections
    assert len(corr) == 1
    rec = corr.iloc[0]
    assert rec["action"] == "decimal comma converted"
    assert rec["column"] == "first_step_pain"
    assert rec["table"] == "assessments" and rec["source"] == str(path)
    assert rec["old"] == "72,5" and rec["new"] == 72.5
    assert pd.isna(rec["row"])


def test_explicit_decimal_comma_is_not_a_correction(tmp_path):
    path = _write(tmp_path / "d.csv", "id;score\nA;7,5\nB;8\n")
    raw = read_table(path, table="patients", decimal=",")
    assert raw.frame["score"].tolist() == [7.5, 8.0]
    assert raw.corrections.empty


def test_tsv():
    raw = read_table(DATA / "tabs.tsv", table="assessments")
    assert list(raw.frame.columns) == ["patient_id", "visit", "vas_pain"]
    assert raw.frame["vas_pain"].tolist() == [50.5, 61.0]
    assert raw.row_numbers.tolist() == [2, 3]


def test_txt_sniffs_pipe_delimiter(tmp_path):
    path = _write(tmp_path / "export.txt", "id|arm|note\nP1|real|a, b\nP2|sham|c\n")
    raw = read_table(path, table="patients")
    assert list(raw.frame.columns) == ["id", "arm", "note"]
    assert raw.frame["note"].tolist() == ["a, b", "c"]


def test_sniff_ignores_delimiters_inside_quotes(tmp_path):
    path = _write(tmp_path / "q.csv", 'id;note\nP1;"x; y; z"\nP2;"w"\n')
    raw = read_table(path, table="patients")
    assert raw.frame["note"].tolist() == ["x; y; z", "w"]


def test_utf8_bom_is_removed_and_recorded():
    raw = read_table(DATA / "bom.csv", table="assessments")
    assert list(raw.frame.columns) == ["patient_id", "visit"]  # no "\ufeffpatient_id"
    assert raw.frame["patient_id"].tolist() == ["P01", "P02"]
    assert raw.corrections["action"].tolist() == ["utf-8 BOM removed"]
    assert raw.encoding == "utf-8-sig"


def test_cp1252_fallback_decodes_text_and_records_line():
    path = DATA / "cp1252.csv"
    raw = read_table(path, table="patients")
    assert raw.frame["surname"].tolist() == ["Müller", "Smith"]
    assert raw.frame["note"].tolist() == ["café ok", "échymose"]
    assert raw.encoding == "cp1252"
    corr = raw.corrections
    assert len(corr) == 1
    rec = corr.iloc[0]
    assert rec["action"] == "decoded as cp1252 (not valid UTF-8)"
    assert rec["row"] == 2  # the line holding the first invalid byte (ü)
    assert rec["old"] == "\\xfc" and rec["new"] == "ü"
    assert rec["table"] == "patients" and rec["source"] == str(path)


def test_explicit_encoding_is_used_without_correction():
    raw = read_table(DATA / "cp1252.csv", table="patients", encoding="cp1252")
    assert raw.frame["surname"].tolist() == ["Müller", "Smith"]
    assert raw.corrections.empty
    assert raw.encoding == "cp1252"


def test_wrong_explicit_utf8_encoding_names_the_line():
    with pytest.raises(ReadError, match=r"line 2"):
        read_table(DATA / "cp1252.csv", table="patients", encoding="utf-8")


def test_utf16_with_bom_is_decoded(tmp_path):
    path = _write(tmp_path / "u16.txt", "id\tname\nP1\tZoë\n".encode("utf-16"))
    raw = read_table(path, table="patients")
    assert raw.frame["name"].tolist() == ["Zoë"]
    assert raw.encoding == "utf-16"


def test_blank_lines_are_skipped_but_row_numbers_stay_true():
    raw = read_table(DATA / "blank_lines.csv", table="assessments")
    assert raw.frame["patient_id"].tolist() == ["P01", "P02", "P03"]
    assert raw.row_numbers.tolist() == [2, 4, 7]


def test_crlf_whitespace_and_delimiter_only_lines_count_as_blank(tmp_path):
    text = "id,v\r\n\r\nA,1\r\n   \r\n,\r\nB,2\r\n"
    raw = read_table(_write(tmp_path / "crlf.csv", text), table="patients")
    assert raw.frame["id"].tolist() == ["A", "B"]
    assert raw.frame["v"].tolist() == [1, 2]
    assert raw.row_numbers.tolist() == [3, 6]


def test_quoted_newlines_keep_the_line_where_the_record_starts(tmp_path):
    text = 'id,note\nA,"line one\nline two"\n\nB,plain\nC,"say ""hi""\nthere"\nD,x\n'
    raw = read_table(_write(tmp_path / "q.csv", text), table="adverse_events")
    assert raw.frame["id"].tolist() == ["A", "B", "C", "D"]
    assert raw.frame.loc[0, "note"] == "line one\nline two"
    assert raw.frame.loc[2, "note"] == 'say "hi"\nthere'
    assert raw.row_numbers.tolist() == [2, 5, 6, 8]


def test_stray_quote_inside_a_value_keeps_line_numbers(tmp_path):
    path = _write(tmp_path / "stray.csv", 'id,note\nA,5" nail\nB,ok\n\nC,x\n')
    raw = read_table(path, table="adverse_events")
    assert raw.frame["note"].tolist() == ['5" nail', "ok", "x"]
    assert raw.row_numbers.tolist() == [2, 3, 5]


def test_ragged_line_raises_with_line_number():
    with pytest.raises(ReadError) as info:
        read_table(DATA / "ragged.csv", table="assessments")
    msg = str(info.value)
    assert "line 4" in msg
    assert "4 fields" in msg and "header has 3" in msg
    assert "Expected 3 columns, got 4" in msg  # pyarrow's own words are kept
    assert info.value.source == str(DATA / "ragged.csv")


def test_short_line_after_a_blank_line_reports_the_physical_line(tmp_path):
    path = _write(tmp_path / "short.csv", "a,b,c\n1,2,3\n\n4,5\n")
    with pytest.raises(ReadError, match=r"line 4 has 2 fields"):
        read_table(path, table="assessments")


def test_na_tokens_and_padding_become_missing_and_numbers_survive(tmp_path):
    text = "id,score,group\nA, 5 ,x\nB, NA ,n/a\nC,.,-\nD,null, y \n"
    raw = read_table(_write(tmp_path / "na.csv", text), table="assessments")
    frame = raw.frame
    assert frame["score"].dtype == np.int64 or frame["score"].dtype == np.float64
    assert frame["score"].iloc[0] == 5
    assert frame["score"].iloc[1:].isna().all()
    assert frame["group"].tolist()[0] == "x" and frame["group"].tolist()[3] == "y"
    assert frame["group"].iloc[1:3].isna().all()


def test_bad_value_keeps_column_as_text(tmp_path):
    path = _write(tmp_path / "bad.csv", "id,vas\nA,10\nB,abc\nC,30\n")
    raw = read_table(path, table="assessments")
    assert raw.frame["vas"].dtype == object
    assert raw.frame["vas"].tolist() == ["10", "abc", "30"]


def test_times_and_timestamps_stay_text(tmp_path):
    text = "id,t,ts,d\nA,12:30,2023-01-05 10:00,2023-01-05\nB,13:45,2023-01-06T11:00,2023-02-01\n"
    raw = read_table(_write(tmp_path / "t.csv", text), table="assessments")
    assert raw.frame["t"].tolist() == ["12:30", "13:45"]
    assert raw.frame["ts"].tolist() == ["2023-01-05 10:00", "2023-01-06T11:00"]
    assert raw.frame["d"].tolist() == ["2023-01-05", "2023-02-01"]


def test_header_row_for_text_with_title_lines(tmp_path):
    text = "Clinic export\nGenerated 2024-01-01\nid,v\nA,1\n\nB,2\n"
    raw = read_table(_write(tmp_path / "titled.csv", text), table="assessments", header_row=3)
    assert list(raw.frame.columns) == ["id", "v"]
    assert raw.row_numbers.tolist() == [4, 6]


def test_gzip_csv(tmp_path):
    import gzip

    path = tmp_path / "a.csv.gz"
    path.write_bytes(gzip.compress(b"id,v\nA,1\nB,2\n"))
    raw = read_table(path, table="assessments")
    assert raw.frame["v"].tolist() == [1, 2]


def test_duplicate_column_names_raise(tmp_path):
    path = _write(tmp_path / "dup.csv", "id, id,v\nA,B,1\n")
    with pytest.raises(ReadError, match=r"duplicate column names \['id'\]"):
        read_table(path, table="patients")


def test_empty_header_cells_get_unnamed_names(tmp_path):
    path = _write(tmp_path / "trail.csv", "id,v,\nA,1,\nB,2,\n")
    raw = read_table(path, table="patients")
    assert list(raw.frame.columns) == ["id", "v", "Unnamed: 2"]
    assert raw.frame["Unnamed: 2"].isna().all()


# -------------------------------------------------------------------- bad files


def test_empty_file():
    with pytest.raises(ReadError, match="empty") as info:
        read_table(DATA / "empty.csv", table="assessments")
    assert "empty.csv" in str(info.value)


def test_whitespace_only_file(tmp_path):
    with pytest.raises(ReadError, match="empty"):
        read_table(_write(tmp_path / "ws.csv", "  \n\n \t\n"), table="assessments")


def test_header_only_file():
    with pytest.raises(ReadError, match="no data rows") as info:
        read_table(DATA / "header_only.csv", table="assessments")
    assert "header_only.csv" in str(info.value)


def test_header_without_newline_is_header_only(tmp_path):
    with pytest.raises(ReadError, match="no data rows"):
        read_table(_write(tmp_path / "h.csv", "a,b"), table="assessments")


def test_only_empty_rows_is_no_data(tmp_path):
    with pytest.raises(ReadError, match="no data rows"):
        read_table(_write(tmp_path / "e.csv", "a,b\n,\n\n,\n"), table="assessments")


def test_binary_file(tmp_path):
    path = _write(tmp_path / "binary.csv", b"PK\x03\x04\x00\x00\x14\x00garbage\x00\x01\x02")
    with pytest.raises(ReadError, match="binary") as info:
        read_table(path, table="assessments")
    assert "binary.csv" in str(info.value)
    assert "xlsx" in str(info.value)  # the hint recognises a zip/workbook


def test_missing_file(tmp_path):
    path = tmp_path / "nope.csv"
    with pytest.raises(ReadError, match="File not found") as info:
        read_table(path, table="assessments")
    assert str(path) in str(info.value)
    assert isinstance(info.value, DryNeedleError)
    assert isinstance(info.value, FileNotFoundError) or isinstance(info.value, OSError)


def test_unknown_extension(tmp_path):
    path = _write(tmp_path / "data.json", "{}")
    with pytest.raises(ReadError) as info:
        read_table(path, table="assessments")
    msg = str(info.value)
    assert "data.json" in msg and ".json" in msg
    assert ".csv" in msg and ".xlsx" in msg and ".sav" in msg


def test_explicit_fmt_overrides_extension(tmp_path):
    path = _write(tmp_path / "data.dat", "id,v\nA,1\n")
    assert read_table(path, table="patients", fmt="csv").frame["v"].tolist() == [1]
    with pytest.raises(ReadError, match="Unknown format"):
        read_table(path, table="patients", fmt="json")


def test_bad_argument_types():
    with pytest.raises(ReadError, match="file path or a pandas DataFrame"):
        read_table(42, table="patients")  # type: ignore[arg-type]
    with pytest.raises(ReadError, match="decimal"):
        read_table(DATA / "comma.csv", table="patients", decimal=";")


# ------------------------------------------------------------------------- XLSX


@pytest.fixture
def workbook(tmp_path):
    openpyxl = pytest.importorskip("openpyxl")
    wb = openpyxl.Workbook()
    cover = wb.active
    cover.title = "Cover"
    cover.append(["This sheet is not the data"])
    ws = wb.create_sheet("Visits")
    ws.append(["Dry needling trial - visit data"])  # row 1: title
    ws.append(["Exported", dt.datetime(2024, 1, 2)])  # row 2: title with a date
    ws.append(["patient_id", " visit ", "first_step_pain", "visit_date", "arm"])  # row 3
    ws.append([7, 0, 72.5, dt.datetime(2023, 1, 5), " real "])  # row 4
    ws.append([None, None, None, None, None])  # row 5: empty
    ws.append(["012", 1, "NA", dt.datetime(2023, 1, 12), "sham"])  # row 6
    ws.append([13, 2, 40, dt.datetime(2023, 1, 19), "sham"])  # row 7
    path = tmp_path / "visits.xlsx"
    wb.save(path)
    return path


def test_xlsx_select_sheet_by_name_autodetect_header(workbook):
    raw = read_table(workbook, table="assessments", sheet="Visits", string_columns=["patient_id"])
    frame = raw.frame
    assert list(frame.columns) == ["patient_id", "visit", "first_step_pain", "visit_date", "arm"]
    assert raw.row_numbers.tolist() == [4, 6, 7]  # Excel rows; the empty row 5 is skipped
    assert frame["patient_id"].tolist() == ["7", "012", "13"]
    assert pd.api.types.is_datetime64_any_dtype(frame["visit_date"])
    assert frame["visit_date"].iloc[0] == pd.Timestamp("2023-01-05")
    assert frame["arm"].tolist() == ["real", "sham", "sham"]
    assert frame["first_step_pain"].isna().tolist() == [False, True, False]
    assert frame["visit"].tolist() == [0, 1, 2]
    assert raw.encoding is None and raw.corrections.empty


def test_xlsx_sheet_by_index_and_explicit_header_row(workbook):
    raw = read_table(workbook, table="assessments", sheet=1, header_row=3)
    assert raw.row_numbers.tolist() == [4, 6, 7]
    assert raw.frame["patient_id"].tolist() == [7, "012", 13]


def test_xlsx_default_is_first_sheet(workbook):
    with pytest.raises(ReadError, match="no data rows"):
        read_table(workbook, table="assessments")


def test_xlsx_missing_sheet_lists_names(workbook):
    with pytest.raises(ReadError) as info:
        read_table(workbook, table="assessments", sheet="Visit")
    msg = str(info.value)
    assert "'Visit'" in msg and "Cover" in msg and "Visits" in msg


def test_xlsx_that_is_not_a_workbook(tmp_path):
    path = _write(tmp_path / "fake.xlsx", "id,v\nA,1\n")
    with pytest.raises(ReadError, match="xlsx"):
        read_table(path, table="assessments")


# ----------------------------------------------------------- Parquet, SPSS, Stata


def test_parquet_round_trip(tmp_path):
    df = pd.DataFrame(
        {
            "patient_id": ["P01", "P02 ", "P03"],
            "visit": [0, 1, 2],
            "vas_pain": [50.5, None, 12.0],
            "visit_date": pd.to_datetime(["2023-01-05", "2023-01-12", "2023-01-19"]),
        }
    )
    path = tmp_path / "a.parquet"
    df.to_parquet(path)
    raw = read_table(path, table="assessments")
    expected = df.assign(patient_id=["P01", "P02", "P03"])
    pd.testing.assert_frame_equal(raw.frame, expected, check_dtype=False)
    assert raw.frame["visit"].dtype == np.int64
    assert raw.row_numbers.tolist() == [1, 2, 3]


def test_parquet_named_index_becomes_column_and_ids_as_text(tmp_path):
    df = pd.DataFrame({"patient_id": [7, 8], "visit": [0, 1]}).set_index("patient_id")
    path = tmp_path / "b.pq"
    df.to_parquet(path)
    raw = read_table(path, table="assessments", string_columns=["patient_id"])
    assert list(raw.frame.columns) == ["patient_id", "visit"]
    assert raw.frame["patient_id"].tolist() == ["7", "8"]


def test_spss_value_labels(tmp_path):
    pyreadstat = pytest.importorskip("pyreadstat")
    df = pd.DataFrame(
        {"patient_id": [101.0, 102.0, 103.0], "arm": [1.0, 2.0, 1.0], "note": ["a  ", "", "c"]}
    )
    labels = {"arm": {1.0: "real", 2.0: "sham"}}
    path = tmp_path / "trial.sav"
    pyreadstat.write_sav(df, path, variable_value_labels=labels)

    raw = read_table(path, table="patients", string_columns=["patient_id"])
    assert raw.frame["arm"].astype(str).tolist() == ["real", "sham", "real"]
    assert raw.value_labels == {"arm": {1.0: "real", 2.0: "sham"}}
    assert raw.frame["patient_id"].tolist() == ["101", "102", "103"]
    assert raw.frame["note"].tolist()[0] == "a" and pd.isna(raw.frame["note"].iloc[1])
    assert raw.row_numbers.tolist() == [1, 2, 3]

    coded = read_table(path, table="patients", apply_value_labels=False)
    assert coded.frame["arm"].tolist() == [1.0, 2.0, 1.0]
    assert coded.value_labels == raw.value_labels


def test_stata_dta(tmp_path):
    pyreadstat = pytest.importorskip("pyreadstat")
    df = pd.DataFrame({"patient_id": ["P01", "P02"], "sex": [1, 2], "age": [41.5, 52.0]})
    path = tmp_path / "patients.dta"
    pyreadstat.write_dta(df, path, variable_value_labels={"sex": {1: "female", 2: "male"}})
    raw = read_table(path, table="patients")
    assert raw.frame["patient_id"].tolist() == ["P01", "P02"]
    assert raw.frame["sex"].astype(str).tolist() == ["female", "male"]
    assert raw.frame["age"].tolist() == [41.5, 52.0]
    assert raw.value_labels == {"sex": {1: "female", 2: "male"}}
    assert raw.row_numbers.tolist() == [1, 2]


def test_missing_pyreadstat_gives_install_hint(tmp_path, monkeypatch):
    path = _write(tmp_path / "x.sav", b"$FL2 not really")
    monkeypatch.setitem(sys.modules, "pyreadstat", None)
    with pytest.raises(ReadError, match=r"pip install dryneedle_outcomes\[io\]"):
        read_table(path, table="patients")


def test_corrupt_spss_file_is_a_read_error(tmp_path):
    pytest.importorskip("pyreadstat")
    path = _write(tmp_path / "bad.sav", b"not an spss file at all")
    with pytest.raises(ReadError, match="SPSS") as info:
        read_table(path, table="patients")
    assert "bad.sav" in str(info.value)


# -------------------------------------------------------------------- DataFrame


def test_dataframe_input_is_copied_and_only_names_are_stripped():
    df = pd.DataFrame({" patient_id ": ["007", " 008"], "visit": [0, 1]}, index=[10, 11])
    raw = read_table(df, table="assessments")
    assert raw.source == "<DataFrame:assessments>"
    assert list(raw.frame.columns) == ["patient_id", "visit"]
    assert raw.frame["patient_id"].tolist() == ["007", " 008"]  # values untouched
    assert isinstance(raw.frame.index, pd.RangeIndex)
    assert raw.row_numbers.tolist() == [2, 3]  # as if written to CSV with a header
    assert raw.corrections.empty and list(raw.corrections.columns) == list(CORRECTION_COLUMNS)
    raw.frame.loc[0, "visit"] = 99
    assert df["visit"].tolist() == [0, 1]  # the caller's frame is not modified
    assert "rows=2" in repr(raw)


def test_dataframe_named_index_becomes_a_column():
    df = pd.DataFrame({"visit": [0, 1]}, index=pd.Index(["P1", "P2"], name="patient_id"))
    raw = read_table(df, table="assessments")
    assert list(raw.frame.columns) == ["patient_id", "visit"]
    assert raw.frame["patient_id"].tolist() == ["P1", "P2"]


# -------------------------------------------------------------------- speed path


def test_large_file_fast_path_row_numbers(tmp_path):
    n = 200_000
    ids = np.char.add("P", np.arange(n).astype(str))
    body = "\n".join(f"{i},{v}" for i, v in zip(ids.tolist(), range(n), strict=True))
    path = _write(tmp_path / "big.csv", "id,v\n" + body + "\n\nP_last,1\n")
    raw = read_table(path, table="assessments")
    assert len(raw.frame) == n + 1
    assert raw.row_numbers[:3].tolist() == [2, 3, 4]
    assert raw.row_numbers[-1] == n + 3  # after the blank line
    assert raw.frame["id"].iloc[-1] == "P_last"


@pytest.mark.parametrize(
    ("body", "first"),
    [
        ('{i},"x\n,y"', [0, "x\n,y"]),
        ('{i},"x\ny,z"', [0, "x\ny,z"]),
        ('"{i}\n","x"', [0, "x"]),  # "0\n" is a number: pyarrow ignores the padding
    ],
)
def test_quoted_newlines_across_parser_blocks(tmp_path, body, first):
    n = 150_000  # a few MB: records straddle pyarrow's block boundaries
    text = "a,b\n" + "\n".join(body.format(i=i) for i in range(n)) + f"\n\n{n},row\n"
    raw = read_table(_write(tmp_path / "multi.csv", text), table="adverse_events")
    assert len(raw.frame) == n + 1
    assert raw.frame["b"].iloc[-1] == "row"
    assert raw.row_numbers[:2].tolist() == [2, 4]  # each record spans two lines
    assert raw.row_numbers[-1] == 2 * n + 3  # after the blank line
    assert raw.frame.iloc[0].tolist() == first
    assert raw.frame["a"].iloc[n - 1] == n - 1


def test_quoted_file_with_blank_lines_uses_single_line_parse(tmp_path):
    n = 50_000
    text = '"id","v"\n' + "\n".join(f'"P{i}",{i}' for i in range(n)) + '\n\n"Q",1\n'
    raw = read_table(_write(tmp_path / "quoted.csv", text), table="assessments")
    assert raw.frame["id"].iloc[[0, -1]].tolist() == ["P0", "Q"]
    assert raw.row_numbers[-1] == n + 3
