"""``report.docx``: the run's tables (and the Methods text) as a Word document.

Most clinical co-authors edit in Word, so the tables are real Word tables, not images,
laid out as journals print them (CONSORT 2025 item 'tables' and the ICMJE
recommendations ask for self-explanatory tables with their own title and footnotes):

- the caption above the table ("Table 3. ..."), kept on the page of the table;
- the header row bold, repeated at the top of every page the table runs over, and no
  row split across pages;
- three horizontal rules (above and below the header, below the body) and no
  vertical ones, as booktabs gives in the LaTeX tables;
- numbers right-aligned and text left-aligned by the rule of the HTML report
  (:func:`~dryneedle_outcomes.tables.alignments`);
- the notes below the table in small text;
- column widths from the longest cell of each column; when the table is wider than
  the page, the widest columns wrap (:func:`fit_widths`), the narrow ones keep theirs;
- at most :data:`MAX_ROWS` rows (a note says how many more are in the table's files);
- a group of tables (a section of the run) holding a table too wide for a portrait
  A4 page put in a landscape section.

The cells are :meth:`~dryneedle_outcomes.tables.TableResult.formatted`, the text every
other rendering shows. Methods text is given as ``(heading, [paragraphs])`` pairs.

Rendering is written here with python-docx rather than a table library: great_tables
(the Python port of R's gt) writes HTML, LaTeX and images but no Word documents, and
python-docx is the maintained library for ``.docx`` (it has no option for repeated
header rows or for table borders, which are set on the document's XML here).

The file is byte-reproducible: its document properties and the times inside the zip
archive are the ``timestamp`` given (:func:`~dryneedle_outcomes.export_safety.stamp_xlsx`),
so the same tables give the same bytes (a run's outputs are hashed in its manifest).

Examples
--------
>>> import tempfile
>>> import pandas as pd
>>> from datetime import datetime
>>> from docx import Document
>>> from dryneedle_outcomes.tables import TableResult
>>> t = TableResult(pd.DataFrame({"arm": ["sham"], "n": [42]}), title="Counts",
...                 notes=("One note.",))
>>> path = write_docx(Path(tempfile.mkdtemp()) / "t.docx", [("Results", [t])],
...                   timestamp=datetime(2000, 1, 1))
>>> doc = Document(path)
>>> [c.text for c in doc.tables[0].rows[1].cells]
['Sham', '42']
>>> [p.text for p in doc.paragraphs]
['Tables', 'Results', 'Table 1. Counts', 'One note.']
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from ..export_safety import stamp_xlsx
from ..tables import TableResult, alignments

#: A4 portrait, in millimetres, and the margins: the text is 160 mm wide (247 mm in
#: landscape).
PAGE_MM = (210.0, 297.0)
MARGIN_MM = 25.0
#: Point sizes of the table cells, of the notes under a table, and of the body text.
CELL_PT, NOTE_PT, BODY_PT = 9.0, 8.0, 11.0
#: Width of one character of a table cell, as a fraction of the font size (digits and
#: lower-case letters are 0.5-0.6 em in Calibri, Arial and the fonts LibreOffice
#: substitutes; bold headers a little more), and the cell's margins on both sides in
#: points (Word's default 0.08 inch each, and a little room): the column widths and
#: whether a table fits a portrait page.
CHAR_EM, CELL_PADDING_PT = 0.6, 14.4
#: How much wider a bold header's letters are (bold serif fonts run ~15% wider).
BOLD = 1.2
#: Rows of a table written into the document (listings such as one row per patient
#: belong in the CSV and XLSX files, not in a manuscript's tables).
MAX_ROWS = 200

# characters XML 1.0 cannot hold (lxml refuses them): controls other than tab/newline
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def xml_text(value) -> str:
    """``value`` as text a Word document can hold: XML-illegal characters (control
    characters from a data export) become U+FFFD.

    Examples
    --------
    >>> xml_text("a\\x07b")
    'a�b'
    """
    return _NOT_XML.sub("\ufffd", str(value))


def column_widths_pt(cells: list[list[str]], font_pt: float = CELL_PT) -> list[float]:
    """The width, in points, each column needs with no cell text wrapped, except the
    header's (wrapped at spaces: a header counts its longest word).

    Examples
    --------
    >>> column_widths_pt([["arm", "n"], ["dry needling", "42"]], font_pt=10)
    [86.4, 26.4]
    """
    head, *body = cells
    widths = []
    for j, label in enumerate(head):
        word = max([len(w) for w in str(label).split()] or [0]) * BOLD
        longest = max([word] + [len(row[j]) for row in body])
        widths.append(round(longest * CHAR_EM * font_pt + CELL_PADDING_PT, 1))
    return widths


def fit_widths(widths: list[float], total: float) -> list[float]:
    """Column widths that fit ``total``: the narrow columns keep what they need and the
    widest share what is left (each capped at the same width, their text wrapping).

    Examples
    --------
    >>> fit_widths([30.0, 40.0, 500.0], 200.0)
    [30.0, 40.0, 130.0]
    >>> fit_widths([30.0, 40.0], 200.0)
    [30.0, 40.0]
    """
    if sum(widths) <= total:
        return list(widths)
    remaining, left = total, len(widths)
    cap = total / left
    for w in sorted(widths):
        cap = remaining / left
        if w > cap:
            break
        remaining, left = remaining - w, left - 1
    return [min(w, cap) for w in widths]


def _text_width_pt(landscape: bool) -> float:
    side = PAGE_MM[1] if landscape else PAGE_MM[0]
    return (side - 2 * MARGIN_MM) / 25.4 * 72


def _set_page(section, landscape: bool) -> None:
    from docx.enum.section import WD_ORIENT
    from docx.shared import Mm

    short, long = PAGE_MM
    section.orientation = WD_ORIENT.LANDSCAPE if landscape else WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = (Mm(long), Mm(short)) if landscape \
        else (Mm(short), Mm(long))
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(section, side, Mm(MARGIN_MM))


def _element(tag: str, **attrs):
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    el = OxmlElement(tag)
    for key, value in attrs.items():
        el.set(qn(f"w:{key}"), value)
    return el


def _rules(table) -> None:
    """Booktabs-like borders: a rule above and below the table, none inside (the rule
    under the header row is set on its cells)."""
    borders = _element("w:tblBorders")
    for edge in ("top", "left", "bottom", "right", "insideH", "insideV"):
        if edge in ("top", "bottom"):
            borders.append(_element(f"w:{edge}", val="single", sz="8", space="0",
                                    color="000000"))
        else:
            borders.append(_element(f"w:{edge}", val="nil"))
    table._tbl.tblPr.append(borders)


def _header_row(row) -> None:
    """Repeat the row at the top of each page; a rule under each of its cells."""
    row._tr.get_or_add_trPr().append(_element("w:tblHeader"))
    for cell in row.cells:
        tc_pr = cell._tc.get_or_add_tcPr()
        borders = _element("w:tcBorders")
        borders.append(_element("w:bottom", val="single", sz="4", space="0",
                                color="000000"))
        tc_pr.append(borders)


def _cell(cell, text: str, *, right: bool, bold: bool = False) -> None:
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Pt

    paragraph = cell.paragraphs[0]
    paragraph.alignment = WD_ALIGN_PARAGRAPH.RIGHT if right else WD_ALIGN_PARAGRAPH.LEFT
    paragraph.paragraph_format.space_after = Pt(0)
    run = paragraph.add_run(xml_text(text))
    run.font.size = Pt(CELL_PT)
    run.bold = bold


def _cells(shown) -> list[list[str]]:
    """The header and the rows shown (at most :data:`MAX_ROWS`), as text."""
    head = [str(c) for c in shown.columns]
    return [head] + shown.head(MAX_ROWS).astype(str).to_numpy().tolist()


def _add_table(doc, number: int, table: TableResult, shown, text_pt: float) -> None:
    """Caption, table and notes of ``table``; ``shown`` is its formatted frame and
    ``text_pt`` the width of the page's text."""
    from docx.shared import Pt

    align = alignments(shown)
    cells = _cells(shown)
    widths = fit_widths(column_widths_pt(cells), text_pt)
    caption = doc.add_paragraph()
    caption.paragraph_format.keep_with_next = True
    caption.paragraph_format.space_before = Pt(12)
    label = caption.add_run(f"Table {number}.")
    label.bold = True
    if table.title:
        caption.add_run(" " + xml_text(table.title))
    grid = doc.add_table(rows=len(cells), cols=len(cells[0]))
    grid.autofit = False
    _rules(grid)
    for j, column in enumerate(grid.columns):
        column.width = Pt(widths[j])
    # python-docx has no vectorised table builder: one cell at a time (rows capped)
    for i, (row, values) in enumerate(zip(grid.rows, cells)):
        if i:
            row._tr.get_or_add_trPr().append(_element("w:cantSplit"))
        for j, (cell, text) in enumerate(zip(row.cells, values)):
            cell.width = Pt(widths[j])
            _cell(cell, text, right=align[j] == "num", bold=i == 0)
    _header_row(grid.rows[0])
    notes = list(table.notes)
    if len(shown) > MAX_ROWS:
        notes.append(f"The first {MAX_ROWS} of {len(shown)} rows are shown; every row is "
                     "in the CSV and XLSX files of this table.")
    for note in notes:
        paragraph = doc.add_paragraph()
        paragraph.paragraph_format.space_after = Pt(0)
        run = paragraph.add_run(xml_text(note))
        run.font.size = Pt(NOTE_PT)


def write_docx(path: str | Path,
               tables: Sequence[tuple[str, Sequence[TableResult]]], *,
               title: str = "Tables",
               methods: Sequence[tuple[str, Sequence[str]]] = (),
               results: Sequence[tuple[str, Sequence[str]]] = (),
               references: Sequence[str] = (),
               timestamp: datetime | None = None) -> Path:
    """Write the tables (and the Methods text first, when given) as a Word document.

    Parameters
    ----------
    path : str or Path
    tables : sequence of (heading, tables)
        Groups of tables, each under its heading; the tables are numbered 1, 2, ...
        across groups, in order.
    title : str
        The document's title (its first line and its document property).
    methods : sequence of (heading, paragraphs)
        Methods text, written before the tables: each heading (level 2) and its
        paragraphs, under a "Methods" heading.
    results : sequence of (heading, paragraphs)
        Results text, after the Methods, under a "Results" heading.
    references : sequence of str
        The reference list of that text, numbered, after the Results.
    timestamp : datetime, optional
        The creation and modification time written into the document (its properties
        and its zip archive), so the same tables give the same bytes; the current time
        when omitted.

    Returns
    -------
    Path
    """
    from docx import Document
    from docx.enum.section import WD_SECTION
    from docx.shared import Pt

    path = Path(path)
    when = timestamp if timestamp is not None else datetime.now().replace(microsecond=0)
    doc = Document()
    doc.styles["Normal"].font.size = Pt(BODY_PT)
    props = doc.core_properties
    props.title = xml_text(title)
    props.author = props.last_modified_by = "dryneedle_outcomes"
    props.created = props.modified = when
    props.revision = 1
    _set_page(doc.sections[0], landscape=False)
    doc.add_heading(xml_text(title), level=0)
    for part, sections in (("Methods", methods), ("Results", results)):
        if not sections:
            continue
        doc.add_heading(part, level=1)
        for heading, paragraphs in sections:
            doc.add_heading(xml_text(heading), level=2)
            for text in paragraphs:
                doc.add_paragraph(xml_text(text))
    if references:
        doc.add_heading("References", level=1)
        for reference in references:
            doc.add_paragraph(xml_text(reference), style="List Number")
    text_first = bool(methods or results or references)
    landscape = False
    number = 0
    portrait_pt = _text_width_pt(landscape=False)
    for heading, group in tables:
        if not group:
            continue
        shown = [t.formatted() for t in group]
        # one orientation per group (fewer page breaks): landscape if a table is wide
        wide = any(sum(column_widths_pt(_cells(f))) > portrait_pt for f in shown)
        if wide != landscape:
            # a new section (page) unless only the title is written so far
            first = number == 0 and not text_first
            _set_page(doc.sections[0] if first else doc.add_section(WD_SECTION.NEW_PAGE),
                      landscape=wide)
            landscape = wide
        doc.add_heading(xml_text(heading), level=1)
        for table, frame in zip(group, shown):
            number += 1
            _add_table(doc, number, table, frame, _text_width_pt(landscape))
    doc.save(path)
    return stamp_xlsx(path, when)
