"""``report.docx`` (issue 14 item 8): real Word tables co-authors can edit.

Each document is opened again with python-docx and compared with
:meth:`TableResult.formatted` (the text every rendering shows) and with the run's
``report/`` files; the layout rules (caption above, bold repeated header row, numbers
right-aligned, small notes below, landscape for wide tables) are read from the
document's XML. LibreOffice, when installed, must convert it to PDF.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from datetime import datetime

import numpy as np
import pandas as pd
import pytest
from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.table import Table
from docx.text.paragraph import Paragraph

from dryneedle_outcomes.report.word import MAX_ROWS, NOTE_PT, write_docx
from dryneedle_outcomes.tables import TableResult

WHEN = datetime(2000, 1, 1)


def _blocks(doc) -> list:
    """Paragraphs and tables of the body, in document order."""
    out = []
    for child in doc.element.body.iterchildren():
        if child.tag == qn("w:p"):
            out.append(Paragraph(child, doc))
        elif child.tag == qn("w:tbl"):
            out.append(Table(child, doc))
    return out


def _cells(table: Table) -> list[list[str]]:
    return [[c.text for c in row.cells] for row in table.rows]


def _expected(t: TableResult) -> list[list[str]]:
    f = t.formatted()
    return [[str(c) for c in f.columns]] + f.astype(str).to_numpy().tolist()


@pytest.fixture
def tables() -> list[TableResult]:
    narrow = TableResult(
        pd.DataFrame({"arm": ["dry needling", "sham"], "n": [42.0, 42.0],
                      "estimate": [-14.4123, 0.5], "p_value": [0.0004, 0.31]}),
        title="Narrow \x07table", notes=("First note.", "Second note."))
    wide = TableResult(pd.DataFrame({f"a rather long column name {i}": ["x" * 12, "y"]
                                     for i in range(12)}), title="Wide table")
    return [narrow, wide]


def test_tables_are_word_tables_with_the_formatted_cells(tables, tmp_path):
    narrow, wide = tables
    methods = [("Statistical analysis", ["First paragraph.", "Second paragraph."])]
    path = write_docx(tmp_path / "t.docx", [("Results", [narrow]), ("Appendix", [wide])],
                      title="Tables of the trial", methods=methods, timestamp=WHEN)
    doc = Document(path)
    assert [_cells(t) for t in doc.tables] == [_expected(narrow), _expected(wide)]
    assert _cells(doc.tables[0])[1] == ["Dry needling", "42", "-14.41", "<0.001"]
    assert _cells(doc.tables[0])[0] == ["Arm", "n", "Estimate", "p"]     # human headers
    blocks = _blocks(doc)
    texts = [b.text if isinstance(b, Paragraph) else "<table>" for b in blocks]
    # Methods first, then each group: heading, caption above the table, notes below
    assert texts[:5] == ["Tables of the trial", "Methods", "Statistical analysis",
                         "First paragraph.", "Second paragraph."]
    i = texts.index("<table>")
    # the control character of the title (from a data export) is replaced, not dropped
    assert texts[i - 2:i + 3] == ["Results", "Table 1. Narrow \ufffdtable", "<table>",
                                  "First note.", "Second note."]
    assert texts[texts.index("Table 2. Wide table") + 1] == "<table>"
    caption = blocks[i - 1]
    assert caption.runs[0].bold and caption.runs[0].text == "Table 1."
    assert caption.paragraph_format.keep_with_next
    for note in blocks[i + 1:i + 3]:
        assert {r.font.size.pt for r in note.runs} == {NOTE_PT}


def test_header_row_is_bold_repeated_and_numbers_right_aligned(tables, tmp_path):
    narrow, _ = tables
    doc = Document(write_docx(tmp_path / "t.docx", [("Results", [narrow])], timestamp=WHEN))
    grid = doc.tables[0]
    header = grid.rows[0]
    assert header._tr.trPr.find(qn("w:tblHeader")) is not None      # repeated on each page
    assert all(r.bold for c in header.cells for p in c.paragraphs for r in p.runs)
    assert all(row._tr.trPr.find(qn("w:cantSplit")) is not None for row in grid.rows[1:])
    align = [[c.paragraphs[0].alignment for c in row.cells] for row in grid.rows]
    right, left = WD_ALIGN_PARAGRAPH.RIGHT, WD_ALIGN_PARAGRAPH.LEFT
    assert all(a == [left, right, right, right] for a in align)
    assert not any(r.bold for row in grid.rows[1:] for c in row.cells
                   for p in c.paragraphs for r in p.runs)


def test_a_wide_table_gets_a_landscape_section(tables, tmp_path):
    narrow, wide = tables
    doc = Document(write_docx(tmp_path / "t.docx", [("Results", [narrow]),
                                                    ("Appendix", [wide]),
                                                    ("More", [narrow])], timestamp=WHEN))
    orient = [s.orientation for s in doc.sections]
    assert orient == [WD_ORIENT.PORTRAIT, WD_ORIENT.LANDSCAPE, WD_ORIENT.PORTRAIT]
    landscape = doc.sections[1]
    assert landscape.page_width > landscape.page_height
    assert round(landscape.page_width.mm) == 297           # A4
    # the columns fit inside the landscape page's text width
    text = landscape.page_width - landscape.left_margin - landscape.right_margin
    widths = [c.width for c in doc.tables[1].columns]
    assert sum(widths) <= text * 1.001 and min(widths) > 0
    # a wide table first: the title's page turns landscape, no page with the title alone
    doc = Document(write_docx(tmp_path / "w.docx", [("Appendix", [wide])], timestamp=WHEN))
    assert [s.orientation for s in doc.sections] == [WD_ORIENT.LANDSCAPE]


def test_long_tables_are_cut_with_a_note(tmp_path):
    n = MAX_ROWS + 5
    t = TableResult(pd.DataFrame({"patient_id": [f"P{i}" for i in range(n)],
                                  "time": np.arange(n, dtype=float)}), title="Listing")
    doc = Document(write_docx(tmp_path / "t.docx", [("Listings", [t])], timestamp=WHEN))
    assert len(doc.tables[0].rows) == MAX_ROWS + 1
    assert f"The first {MAX_ROWS} of {n} rows are shown" in doc.paragraphs[-1].text


def test_the_same_tables_give_the_same_bytes(tables, tmp_path):
    groups = [("Results", tables)]
    first = write_docx(tmp_path / "a.docx", groups, timestamp=WHEN).read_bytes()
    second = write_docx(tmp_path / "b.docx", groups, timestamp=WHEN).read_bytes()
    assert first == second
    props = Document(tmp_path / "a.docx").core_properties
    # read back as UTC (python-docx >= 1.2) or naive (1.1)
    assert props.created.replace(tzinfo=None) == props.modified.replace(tzinfo=None) == WHEN


def test_the_run_writes_every_table_into_report_docx(small_run):
    """Cells equal the run's report/tab-<name>.csv (the formatted tables), captions are
    "Table k. <caption>" in report order, and two runs give the same bytes (test_cli)."""
    doc = Document(small_run / "report.docx")
    index = pd.read_csv(small_run / "report" / "index.csv", dtype=str, keep_default_na=False)
    shown = index[index["kind"] == "table"].reset_index(drop=True)
    assert len(doc.tables) == len(shown) > 20
    captions = [p.text for p in doc.paragraphs if p.text.startswith("Table ")]
    assert captions == [f"Table {k + 1}. {c}" for k, c in enumerate(shown["caption"])]
    for table, ident in zip(doc.tables, shown["identifier"]):
        csv = pd.read_csv(small_run / "report" / f"{ident}.csv", dtype=str,
                          keep_default_na=False)
        # the CSV's text is neutralised against spreadsheet formulas (an interval
        # "-26.7 to -9.4" is written "'-26.7 to -9.4"): undone here, as a spreadsheet
        # reads it
        csv = csv.apply(lambda c: c.str.replace(r"^'(?=[=+\-@\t\r])", "", regex=True))
        expected = [list(csv.columns)] + csv.head(MAX_ROWS).to_numpy().tolist()
        assert _cells(table) == expected, ident


@pytest.mark.skipif(shutil.which("libreoffice") is None and shutil.which("soffice") is None,
                    reason="LibreOffice not installed (apt-get install libreoffice-writer-nogui)")
def test_libreoffice_converts_it_to_pdf(tables, tmp_path):
    path = write_docx(tmp_path / "t.docx", [("Results", tables)], timestamp=WHEN)
    office = shutil.which("libreoffice") or shutil.which("soffice")
    profile = f"-env:UserInstallation={(tmp_path / 'lo').as_uri()}"   # not the user's
    done = subprocess.run([office, "--headless", profile, "--convert-to", "pdf",
                           "--outdir", str(tmp_path), str(path)],
                          capture_output=True, text=True, timeout=180)
    pdf = tmp_path / "t.pdf"
    assert pdf.exists(), done.stderr
    assert pdf.read_bytes().startswith(b"%PDF")
    if shutil.which("pdftotext"):
        text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True,
                              text=True, timeout=60).stdout
        assert "Table 1." in text and "Table 2. Wide table" in text and "<0.001" in text


def test_the_run_writes_the_methods_and_results_text_into_report_docx(small_run):
    """Word gets the same Methods and Results paragraphs as methods.md, citations in
    author-year form, and the reference list (issue 14 items 5 and 8)."""
    from dryneedle_outcomes.report.text import RunText

    doc = Document(small_run / "report.docx")
    md = (small_run / "methods.md").read_text(encoding="utf-8")
    expected = [RunText.plain(line) for line in md.splitlines()
                if line.strip() and not line.startswith("#")]
    paragraphs = [p.text for p in doc.paragraphs]
    start = paragraphs.index("Methods")
    end = paragraphs.index("References")
    body = [p for p in paragraphs[start:end]
            if p and p not in ("Methods", "Results")
            and not any(p == h.lstrip("# ") for h in md.splitlines() if h.startswith("## "))]
    assert body == expected
    assert not any("[@" in p for p in paragraphs)
    bib_keys = re.findall(r"^@\w+\{([^,]+),", (small_run / "references.bib")
                          .read_text(encoding="utf-8"), re.M)
    n_refs = sum(1 for p in doc.paragraphs[end + 1:] if p.style.name == "List Number")
    assert n_refs == len(bib_keys) > 5
