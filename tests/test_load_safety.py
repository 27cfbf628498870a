"""Issue 10, sections 2-4 (loaders): no row vanishes, no column is dropped, loud scales.

Each case has a small fixture in tests/data/load_safety/ (or a file built in tmp_path
when it must be binary). Every test checks what the message names (file, line/row,
column, rule) and, when the cohort loads, that rows in the file = rows read and
read = kept + rejected.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import dryneedle_outcomes as dno
from dryneedle_outcomes.errors import DataValidationError, ReadError

DATA = Path(__file__).parent / "data" / "load_safety"
PATIENTS = DATA / "patients.csv"


def _data_lines(path: Path) -> int:
    """Lines after the header up to the last non-empty one: the rows of the file."""
    lines = path.read_text(encoding="utf-8").splitlines()[1:]
    while lines and not lines[-1].strip():
        lines.pop()
    return len(lines)


def _balanced(cohort, table: str, path: Path | None = None) -> pd.Series:
    counts = cohort.quality.counts.set_index("table").loc[table]
    assert counts["read"] == counts["kept"] + counts["rejected"]
    if path is not None:
        assert counts["read"] == _data_lines(path)  # rows in the file = rows read
    return counts


def _quiet_load(*args, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dno.DataQualityWarning)
        return dno.load_cohort(*args, **kw)


# ------------------------------------------------------------- unterminated quotes


@pytest.mark.parametrize("errors", ["raise", "quarantine"])
def test_unterminated_quote_is_a_read_error_naming_file_and_line(errors):
    path = DATA / "unterminated_quote.csv"
    with pytest.raises(ReadError) as info:
        dno.load_cohort(path, PATIENTS, errors=errors)
    msg = str(info.value)
    assert str(path) in msg and "line 8" in msg and "'notes'" in msg
    assert "unterminated_quote" in msg and "the 4 line(s) after it" in msg
    assert info.value.source == str(path)


@pytest.mark.parametrize("errors", ["raise", "quarantine"])
def test_unterminated_quote_making_a_ragged_record_is_never_set_aside_whole(tmp_path, errors):
    path = tmp_path / "visits.csv"
    path.write_text('patient_id,visit,first_step_pain,notes\nP01,0,70,ok\nP02,0,"68,ok\n'
                    'P03,0,80,ok\nP04,0,55,ok\nP01,1,60,"fine"\nP02,1,50,ok\n')
    with pytest.raises(ReadError, match=r"visits\.csv: line 3\b") as info:
        dno.load_cohort(path, PATIENTS, errors=errors)
    if errors == "quarantine":  # (with errors="raise" the ragged-line error names line 3)
        assert "unterminated_quote" in str(info.value)


def test_quote_never_closed_in_a_two_column_file_names_its_line():
    path = DATA / "unterminated_quote_eof.csv"
    with pytest.raises(ReadError, match=r"line 3, column 'visit'.*unterminated_quote"):
        dno.read_table(path, table="assessments")


def test_a_legitimate_multiline_note_is_not_an_unterminated_quote(tmp_path):
    path = tmp_path / "notes.csv"
    path.write_text('patient_id,visit,first_step_pain,notes\nP01,0,72,"two\nlines"\n'
                    "P02,0,68,x\n")
    raw = dno.read_table(path, table="assessments")
    assert raw.frame["notes"].tolist() == ["two\nlines", "x"]
    assert raw.row_numbers.tolist() == [2, 4]


# -------------------------------------------------------------------- blank rows


@pytest.mark.parametrize("errors", ["raise", "quarantine"])
def test_blank_rows_are_counted_read_and_listed(errors):
    path = DATA / "blank_rows.csv"
    cohort = _quiet_load(path, PATIENTS, errors=errors)
    counts = _balanced(cohort, "assessments", path)
    assert counts[["read", "kept", "rejected"]].tolist() == [7, 4, 3]
    rej = cohort.quality.rejected
    assert rej[["table", "row", "rule", "scope"]].values.tolist() == [
        ["assessments", 3, "blank_record", "row"],
        ["assessments", 5, "blank_record", "row"],
        ["assessments", 6, "blank_record", "row"],
    ]
    assert rej["source"].eq(str(path)).all()


def test_blank_workbook_rows_between_data_rows_are_counted(tmp_path):
    path = tmp_path / "visits.xlsx"
    frame = pd.DataFrame({"patient_id": ["P01", None, "P02", "NA"],
                          "visit": [0, None, 0, None]})
    frame.to_excel(path, index=False)
    raw = dno.read_table(path, table="assessments")
    assert raw.row_numbers.tolist() == [2, 4]
    assert raw.set_aside[["row", "rule"]].values.tolist() == [[3, "blank_record"],
                                                              [5, "blank_record"]]


# -------------------------------------------------------------- unmapped columns

UNMAPPED_MAPPING = {"assessments": {"columns": {
    "patient_id": "Study ID", "visit": "Visit no", "first_step_pain": "First-step pain"}}}


def test_unmapped_columns_travel_with_their_rows_and_are_listed():
    path = DATA / "unmapped_columns.csv"
    cohort = dno.load_cohort(path, PATIENTS, mapping=UNMAPPED_MAPPING)
    a = cohort.assessments
    assert a["Clinician"].tolist() == ["Dr Smith", "Dr Jones", "Dr Smith", "Dr Jones",
                                       "Dr Smith"]
    assert a.loc[1, "Notes"] is None or pd.isna(a.loc[1, "Notes"])
    assert a.loc[2, "Notes"] == "needle-shy"
    # 'visit' is a canonical column mapped from 'Visit no': the source 'visit' is renamed
    assert a["unmapped_visit"].tolist()[:2] == ["baseline", "session 1"]
    assert a["visit"].tolist() == [0, 1, 0, 0, 0]
    cols = cohort.quality.columns
    sub = cols[cols["table"] == "assessments"].set_index("source_column")
    assert sub.loc["Visit no", ["column", "action"]].tolist() == ["visit", "mapped"]
    assert sub.loc["Clinician", ["column", "action"]].tolist() == ["Clinician", "carried"]
    assert sub.loc["visit", "column"] == "unmapped_visit"
    assert sub.loc["visit", "action"].startswith("carried")
    _balanced(cohort, "assessments", path)


def test_carried_columns_are_written_with_the_ledger(tmp_path):
    cohort = dno.load_cohort(DATA / "unmapped_columns.csv", PATIENTS,
                             mapping=UNMAPPED_MAPPING)
    paths = cohort.quality.write(tmp_path)
    written = pd.read_csv(paths["columns"])
    assert {"Clinician", "Notes", "unmapped_visit"} <= set(written["column"])


WIDE_MAPPING = {"assessments": {"layout": "wide", "columns": {"patient_id": "id"},
                                "wide": {"first_step_pain": "pain_v{visit}"},
                                "codes": {"visit": {"v0": 0, "v1": 1}}}}


def test_unmapped_columns_of_a_wide_file_travel_to_every_visit(tmp_path):
    path = tmp_path / "wide.csv"
    path.write_text("id,clinician,pain_v0,pain_v1\nP01,Dr Smith,72,65\nP02,Dr Jones,68,\n")
    cohort = dno.load_cohort(path, PATIENTS, mapping=WIDE_MAPPING)
    a = cohort.assessments
    assert a[["patient_id", "visit", "clinician"]].values.tolist() == [
        ["P01", 0, "Dr Smith"], ["P01", 1, "Dr Smith"], ["P02", 0, "Dr Jones"]]
    cols = cohort.quality.columns.set_index("source_column")
    assert cols.loc["clinician", "action"] == "carried"


def test_a_wide_row_without_any_visit_value_is_counted_not_lost(tmp_path):
    path = tmp_path / "wide.csv"
    path.write_text("id,pain_v0,pain_v1\nP01,72,65\nP02,,\nP03,80,\n")
    cohort = dno.load_cohort(path, PATIENTS, mapping=WIDE_MAPPING)  # not an error: nothing lost
    counts = cohort.quality.counts.set_index("table").loc["assessments"]
    assert counts[["source_rows", "read", "kept", "rejected"]].tolist() == [3, 4, 3, 1]
    rej = cohort.quality.rejected
    assert rej[["row", "column", "value", "rule"]].values.tolist() == [
        [3, "id", "P02", "no_visit_values"]]


def test_dataframe_extra_columns_are_carried():
    visits = pd.DataFrame({"patient_id": ["P01", "P02"], "visit": [0, 0],
                           "first_step_pain": [70.0, 60.0], "site_code": ["A1", "B2"]})
    cohort = dno.load_cohort(visits, pd.read_csv(PATIENTS))
    assert cohort.assessments["site_code"].tolist() == ["A1", "B2"]


# ---------------------------------------------- decimal commas, repeated headers


def test_one_bad_cell_in_a_decimal_comma_column_rejects_only_that_cell():
    path = DATA / "decimal_comma_bad_cell.csv"
    with pytest.raises(DataValidationError) as info:
        dno.load_cohort(path, PATIENTS)
    problems = info.value.problems.sort_values("row")
    assert problems[["row", "rule"]].values.tolist() == [[6, "not_a_number"],
                                                         [10, "repeated_header"]]
    assert problems["column"].iloc[0] == "first_step_pain"
    assert "'8,4' is not a number" not in str(info.value)

    cohort = dno.load_cohort(path, PATIENTS, errors="quarantine")
    counts = _balanced(cohort, "assessments", path)
    assert counts[["read", "kept", "rejected"]].tolist() == [13, 12, 1]  # the header line
    a = cohort.assessments.set_index(["patient_id", "visit"])
    assert a.loc[("P01", 0), "first_step_pain"] == pytest.approx(70.1)
    assert a.loc[("P04", 2), "first_step_pain"] == pytest.approx(54.2)
    assert a.loc[("P02", 1), "vas_pain"] == pytest.approx(45.5)  # the row is kept
    assert np.isnan(a.loc[("P02", 1), "first_step_pain"])
    assert a["first_step_pain"].notna().sum() == 11
    rej = cohort.quality.rejected.set_index("row")
    assert rej.loc[6, ["column", "rule", "scope"]].tolist() == ["first_step_pain",
                                                                "not_a_number", "cell"]
    assert rej.loc[10, ["rule", "scope"]].tolist() == ["repeated_header", "row"]


# ----------------------------------------------------- secondary-column problems


def test_secondary_column_problems_reject_the_cell_and_keep_the_primary_outcome():
    path = DATA / "secondary_cells.csv"
    cohort = dno.load_cohort(path, PATIENTS, errors="quarantine")
    counts = _balanced(cohort, "assessments", path)
    assert counts[["read", "kept", "rejected"]].tolist() == [7, 7, 0]
    rej = cohort.quality.rejected.sort_values("row")
    assert rej[["row", "column", "rule", "scope"]].values.tolist() == [
        [3, "fhsq_pain", "out_of_range", "cell"],
        [5, "soreness", "invalid_soreness", "cell"],
        [7, "soreness", "out_of_range", "cell"],
    ]
    assert "longer than a year" in rej.iloc[2]["message"]
    a = cohort.assessments.set_index(["patient_id", "visit"])
    assert a.loc[("P01", 1), "first_step_pain"] == 65.0 and np.isnan(a.loc[("P01", 1),
                                                                            "fhsq_pain"])
    assert a.loc[("P02", 1), "first_step_pain"] == 66.0
    assert np.isnan(a.loc[("P02", 1), "soreness_upper_h"])
    assert np.isnan(a.loc[("P03", 1), "soreness_lower_h"])
    # errors="raise" still raises for every one of them
    with pytest.raises(DataValidationError) as info:
        dno.load_cohort(path, PATIENTS)
    assert sorted(info.value.problems["row"].tolist()) == [3, 5, 7]


def test_identity_problems_still_reject_the_whole_row(tmp_path):
    path = tmp_path / "visits.csv"
    path.write_text("patient_id,visit,first_step_pain\nP01,0,72\nP01,x,60\nP09,0,50\n")
    cohort = dno.load_cohort(path, PATIENTS, errors="quarantine")
    assert _balanced(cohort, "assessments", path)[["kept", "rejected"]].tolist() == [1, 2]
    assert set(cohort.quality.rejected["scope"]) == {"row"}


# ------------------------------------------------------------ adverse-event files


def test_header_only_adverse_event_file_means_zero_events():
    cohort = dno.load_cohort(DATA / "secondary_cells.csv", PATIENTS,
                             DATA / "ae_header_only.csv", errors="quarantine")
    assert len(cohort.adverse_events) == 0
    counts = cohort.quality.counts.set_index("table").loc["adverse_events"]
    assert counts[["read", "kept", "rejected"]].tolist() == [0, 0, 0]
    rates = dno.adverse_event_rates(cohort, per="patient")
    table = getattr(rates, "table", rates)
    assert (table["count"] == 0).all()


@pytest.mark.parametrize("suffix", [".xlsx", ".parquet"])
def test_header_only_adverse_event_workbook_or_parquet_means_zero_events(tmp_path, suffix):
    path = tmp_path / f"events{suffix}"
    empty = pd.DataFrame({c: pd.Series(dtype=object) for c in
                          ("patient_id", "visit", "verbatim", "severity", "serious")})
    empty.to_excel(path, index=False) if suffix == ".xlsx" else empty.to_parquet(path)
    cohort = dno.load_cohort(DATA / "secondary_cells.csv", PATIENTS, path,
                             errors="quarantine")
    assert len(cohort.adverse_events) == 0


def test_header_only_assessments_file_is_still_an_error(tmp_path):
    path = tmp_path / "visits.csv"
    path.write_text("patient_id,visit\n")
    with pytest.raises(ReadError, match="header but no data rows"):
        dno.load_cohort(path, PATIENTS)


# ------------------------------------------------------ ragged and comment lines


def test_ragged_and_comment_lines_are_set_aside_in_quarantine():
    path = DATA / "ragged_and_comment.csv"
    cohort = dno.load_cohort(path, PATIENTS, errors="quarantine")
    counts = _balanced(cohort, "assessments", path)
    assert counts[["read", "kept", "rejected"]].tolist() == [5, 3, 2]
    rej = cohort.quality.rejected
    assert rej[["row", "rule"]].values.tolist() == [[3, "ragged_line"], [5, "ragged_line"]]
    assert "comment line" in rej.iloc[0]["message"]
    assert "4 field(s) but the header has 3" in rej.iloc[1]["message"]
    assert cohort.assessments["patient_id"].tolist() == ["P01", "P02", "P04"]


def test_ragged_line_still_fails_the_file_with_errors_raise():
    with pytest.raises(ReadError, match=r"line 3 has 1 fields but the header has 3"):
        dno.load_cohort(DATA / "ragged_and_comment.csv", PATIENTS)


# ---------------------------------------------------------------------- encodings


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be", "utf-32"])
def test_utf16_and_utf32_are_read_not_called_binary(tmp_path, encoding):
    path = tmp_path / "visits.csv"
    path.write_bytes("patient_id,visit,first_step_pain\nP01,0,72\nP02,0,6\u00e9\n"
                     .replace("6\u00e9", "68").encode(encoding))
    cohort = dno.load_cohort(path, PATIENTS)
    assert cohort.assessments["first_step_pain"].tolist() == [72.0, 68.0]
    corr = cohort.quality.corrections
    assert corr["action"].str.startswith("decoded as utf-").any()


# ------------------------------------------------------------ loud scale problems


def test_implausible_scale_raises_and_warns_in_quarantine():
    path = DATA / "mm_declared_for_cm.csv"
    with pytest.raises(DataValidationError, match=r"mm_declared_for_cm\.csv, row 2, column "
                                                  r"'first_step_pain': \[implausible_scale\]"):
        dno.load_cohort(path, PATIENTS)
    with pytest.warns(dno.ImplausibleScaleWarning, match=r"mm_declared_for_cm\.csv, column "
                                                         r"'first_step_pain'"):
        cohort = dno.load_cohort(path, PATIENTS, errors="quarantine")
    assert cohort.quality.flags["rule"].tolist() == ["implausible_scale"]
    assert issubclass(dno.ImplausibleScaleWarning, dno.DataQualityWarning)


def test_most_of_a_column_rejected_is_one_warning_line_naming_cause():
    path = DATA / "cm_declared_for_mm.csv"
    mapping = {"assessments": {"scales": {"first_step_pain": "cm"}}}
    with pytest.warns(dno.MostlyRejectedWarning) as record:
        cohort = dno.load_cohort(path, PATIENTS, mapping=mapping, errors="quarantine")
    lines = [str(w.message) for w in record if issubclass(w.category,
                                                           dno.MostlyRejectedWarning)]
    assert len(lines) == 1
    assert ("cm_declared_for_mm.csv, column 'first_step_pain': 12 of 12 values rejected "
            "(left missing) by rule out_of_range") in lines[0]
    assert "declared scale does not fit" in lines[0]
    _balanced(cohort, "assessments", path)
    with pytest.raises(DataValidationError, match=r"^.*12 of 12 values rejected \(left "
                                                  r"missing\) by rule out_of_range"), \
            pytest.warns(dno.MostlyRejectedWarning):
        dno.load_cohort(path, PATIENTS, mapping=mapping)


# -------------------------------------------------------------------- error hints


def test_config_run_hint_names_the_toml_key_not_the_python_argument():
    path = DATA / "secondary_cells.csv"
    with pytest.raises(DataValidationError) as info:
        dno.load_cohort(path, PATIENTS, config_file="analysis.toml")
    msg = str(info.value)
    assert 'errors = "quarantine" under [data] in analysis.toml' in msg
    assert "errors='quarantine'" not in msg
    with pytest.raises(DataValidationError, match=r"pass errors='quarantine'"):
        dno.load_cohort(path, PATIENTS)


def test_missing_column_error_never_suggests_quarantine():
    mapping = {"assessments": {"columns": {"first_step_pain": "First step pain"}}}
    with pytest.raises(DataValidationError) as info:
        dno.load_cohort(DATA / "secondary_cells.csv", PATIENTS, mapping=mapping,
                        config_file="analysis.toml")
    msg = str(info.value)
    assert "missing_required_column" in msg and "'First step pain'" in msg
    assert 'errors = "quarantine"' not in msg and "errors='quarantine'" not in msg
    assert "would not help" in msg
