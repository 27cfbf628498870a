"""Exports a spreadsheet or LaTeX cannot misread (issue 10, section 4, exports).

CSV/XLSX: every text value that a spreadsheet would run as a formula is neutralised,
wherever it sits (cells of object, string and categorical columns, headers, index
labels), while text that reads as a plain number is left alone. XLSX: no cell is a
formula. LaTeX: special characters (backslash included) escaped in one pass, common
symbols mapped to kernel commands, accents compiled by pdflatex when it is installed.
"""

from __future__ import annotations

import csv
import shutil
import subprocess

import numpy as np
import openpyxl
import pandas as pd
import pytest

import dryneedle_outcomes as dno
from dryneedle_outcomes import quality
from dryneedle_outcomes.export_safety import (
    is_formula_text,
    latex_escape,
    neutralise_formulas,
    write_excel,
)
from dryneedle_outcomes.tables import TableResult

HOSTILE_ARM = '=HYPERLINK("http://x","click")'


@pytest.fixture
def hostile_frame():
    return pd.DataFrame({
        "arm": pd.Categorical([HOSTILE_ARM, "sham", HOSTILE_ARM]),
        "=cmd|' /C calc'!A0": ["+1+1", "@SUM(A1)", "\t=1"],
        "delta": ["-14.4", "+3", "-2+3"],
        "value": [1.5, -2.0, np.nan],
        "note": pd.array(["-x", None, "ok"], dtype="string"),
    }, index=pd.Index(["=idx", "b", "c"], name="@name"))


def test_every_text_place_is_neutralised(hostile_frame):
    before = hostile_frame.copy()
    out = neutralise_formulas(hostile_frame)
    pd.testing.assert_frame_equal(hostile_frame, before)   # the input is not modified
    assert list(out.columns) == ["arm", "'=cmd|' /C calc'!A0", "delta", "value", "note"]
    assert out.index.tolist() == ["'=idx", "b", "c"] and out.index.name == "'@name"
    assert out["arm"].tolist() == ["'" + HOSTILE_ARM, "sham", "'" + HOSTILE_ARM]
    assert isinstance(out["arm"].dtype, pd.CategoricalDtype)
    assert out.iloc[:, 1].tolist() == ["'+1+1", "'@SUM(A1)", "'\t=1"]
    # a cell that reads as a plain number is not a formula: no apostrophe
    assert out["delta"].tolist() == ["-14.4", "+3", "'-2+3"]
    assert out["value"].iloc[:2].tolist() == [1.5, -2.0] and np.isnan(out["value"].iloc[2])
    assert out["note"].tolist()[0] == "'-x" and pd.isna(out["note"].tolist()[1])


@pytest.mark.parametrize("text, risky", [
    ("=1", True), ("+a", True), ("-a", True), ("@a", True), ("\rx", True),
    ("-14.4", False), ("-1e-5", False), ("+.5", False), ("a=1", False), ("", False),
])
def test_formula_rule(text, risky):
    assert is_formula_text(text) is risky


def test_quality_keeps_the_old_name():
    assert quality.neutralise_formulas is neutralise_formulas


def test_ledger_negative_numbers_are_not_prefixed(tmp_path):
    pts = pd.DataFrame({"patient_id": ["P1", "P2"], "arm": ["sham", "=2+5"]})
    visits = pd.DataFrame({"patient_id": ["P1", "P1", "P2", "P2"], "visit": [0, 1, 0, 1],
                           "first_step_pain": ["70", "-14.4", "60", "=1+1"]})
    cohort = dno.load_cohort(visits, pts, errors="quarantine")
    paths = cohort.quality.write(tmp_path)
    rejected = pd.read_csv(paths["rejected"], dtype=str, keep_default_na=False)
    values = rejected["value"].tolist()
    assert "-14.4" in values and "'-14.4" not in values
    assert "'=1+1" in values and "=1+1" not in values


def test_table_csv_neutralises_categorical_arms_and_headers(tmp_path, hostile_frame):
    t = TableResult(hostile_frame.reset_index(drop=True))
    path = t.to_csv(tmp_path / "t.csv")
    with path.open(newline="") as fh:
        rows = list(csv.reader(fh))
    assert rows[0][:2] == ["arm", "'=cmd|' /C calc'!A0"]
    cells = [cell for row in rows for cell in row]
    assert not [cell for cell in cells if is_formula_text(cell)]
    assert "'" + HOSTILE_ARM in cells and "-14.4" in cells and "+3" in cells


def test_table_excel_has_no_formula_cell(tmp_path, hostile_frame):
    t = TableResult(hostile_frame.reset_index(drop=True))
    path = t.to_excel(tmp_path / "t.xlsx")
    ws = openpyxl.load_workbook(path).active
    cells = [c for row in ws.iter_rows() for c in row]
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    values = [c.value for c in cells]
    assert "'" + HOSTILE_ARM in values and "'=cmd|' /C calc'!A0" in values
    assert "-14.4" in values and "'-2+3" in values


def test_rates_table_excel_with_hostile_arm_name(tmp_path):
    pts = pd.DataFrame({"patient_id": ["A", "B"], "arm": [HOSTILE_ARM, "sham"]})
    a = pd.DataFrame({"patient_id": ["A", "A", "B", "B"], "visit": [0, 1, 0, 1],
                      "needled": [False, True, False, False], "needles": [0, 4, 0, 0]})
    rates = dno.adverse_event_rates(dno.load_cohort(a, pts), "session")
    assert isinstance(rates.table["arm"].dtype, pd.CategoricalDtype) or \
        rates.table["arm"].dtype == object
    ws = openpyxl.load_workbook(rates.to_excel(tmp_path / "rates.xlsx")).active
    cells = [c for row in ws.iter_rows() for c in row]
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    assert "'" + HOSTILE_ARM in [c.value for c in cells]


def test_write_excel_stores_text_even_if_unneutralised_text_slips_through(tmp_path):
    # write_excel neutralises first; the cell-type pass is the second line of defence
    path = write_excel(pd.DataFrame({"a": ["=1+1", "x"]}), tmp_path / "x.xlsx")
    ws = openpyxl.load_workbook(path).active
    assert [c.data_type for c in ws["A"]] == ["s", "s", "s"]


# ---------------------------------------------------------------- LaTeX
def test_backslash_is_escaped_once():
    assert latex_escape("C:\\temp") == r"C:\textbackslash{}temp"
    assert latex_escape("{x}") == r"\{x\}"
    assert latex_escape("a_b & 50% #1 $x$ ~ ^ < >") == (
        r"a\_b \& 50\% \#1 \$x\$ \textasciitilde{} \^{} \textless{} \textgreater{}")


def test_symbols_become_kernel_commands_and_accents_stay_utf8():
    assert latex_escape("≥ 19 mm, ≤ 2, ± 1.5, 2 × 3, −4") == (
        r"$\geq$ 19 mm, $\leq$ 2, $\pm$ 1.5, 2 $\times$ 3, -4")
    assert latex_escape("Réponse naïve, Müller") == "Réponse naïve, Müller"


def _table():
    return TableResult(
        pd.DataFrame({"arm": ["C:\\temp\\{x}", "$x$ & 50% #1 ~^_<>", "Réponse naïve ü ñ",
                              "≥ ≤ ± × − – — → ∞ α µ ° …"],
                      "estimate": [0.5, -14.4, 1.0, 2.0]}),
        title=r"Pain \textbf{x} ≥ 19 mm", notes=("p ≥ 0.05; 95% CI", "back\\slash"))


def test_table_latex_escapes_title_cells_and_notes():
    tex = _table().to_latex()
    assert r"\caption{Pain \textbackslash{}textbf\{x\} $\geq$ 19 mm}" in tex
    assert r"C:\textbackslash{}temp\textbackslash{}\{x\} & 0.50 \\" in tex
    assert "\\footnotesize\\raggedright\n" in tex and "\nback\\textbackslash{}slash\\par\n" in tex
    assert "\\textbackslash\\{\\}" not in tex


@pytest.mark.skipif(shutil.which("pdflatex") is None, reason="pdflatex is not installed")
@pytest.mark.parametrize("preamble", ["", r"\usepackage[T1]{fontenc}"])
def test_table_latex_compiles_with_pdflatex(tmp_path, preamble):
    doc = ("\\documentclass{article}\n\\usepackage{booktabs}\n" + preamble
           + "\n\\begin{document}\n" + _table().to_latex() + "\n\\end{document}\n")
    (tmp_path / "t.tex").write_text(doc, encoding="utf-8")
    run = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "t.tex"],
                         cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout[-2000:]
    assert (tmp_path / "t.pdf").stat().st_size > 0
