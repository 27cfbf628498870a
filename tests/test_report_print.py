"""``report.html`` printed, in a narrow window, and its stable identifiers (issue 14).

Every table and figure has a caption and an identifier (``tab-<name>``, ``fig-<name>``)
that names its files in ``report/``. Printed to PDF by headless Chromium (as a
browser's "Save as PDF" does) the report must give non-blank A4 pages, each figure
drawn whole on one page, every caption in the page text; laid out at the printed
page's width (its print style sheet applied) and in a 400-pixel window nothing may
stick out at the right (a table in a narrow window scrolls inside its own box).
Chromium and poppler-utils (pdftoppm, pdftotext, pdfimages) are installed by
``.ci/run`` where apt-get can; without them the printing tests skip, saying so.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import unicodedata
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from dryneedle_outcomes.report.html import CSS

CHROMIUM = next((p for p in map(shutil.which, ("chromium", "chromium-browser",
                                                "google-chrome")) if p), None)
POPPLER = all(shutil.which(t) for t in ("pdftoppm", "pdftotext", "pdfimages"))
needs_browser = pytest.mark.skipif(
    CHROMIUM is None or not POPPLER,
    reason="headless Chromium and poppler-utils are needed (apt-get install chromium "
           "poppler-utils; .ci/run installs them where apt-get runs as root)")
#: Chromium without anything that reaches the network or the user's profile.
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-extensions", "--mute-audio"]
#: The printed page's text width in CSS pixels: A4 (210 mm) less the @page margins of
#: the print style sheet (12 mm each side), at 96 px per inch.
PRINT_WIDTH_PX = round((210 - 2 * 12) / 25.4 * 96)


class _Report(HTMLParser):
    """Ids, captions of figure elements, and what holds each <table>."""

    def __init__(self):
        super().__init__()
        self.ids: list[str] = []
        self.figures: list[dict] = []        # {"id", "class", "caption"}
        self.tables: list[tuple[str | None, str | None]] = []   # (figure id, heading id)
        self._stack: list[tuple[str, dict]] = []
        self._heading: str | None = None
        self._caption: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if "id" in a:
            self.ids.append(a["id"])
        if tag in ("h1", "h2", "h3", "h4"):
            self._heading = a.get("id")
        if tag == "figure":
            self.figures.append({"id": a.get("id"), "class": a.get("class"), "caption": ""})
        if tag == "figcaption":
            self._caption = []
        if tag == "table":
            figure = [b for t, b in self._stack if t == "figure"]
            self.tables.append((figure[-1].get("id") if figure else None, self._heading))
        if tag not in ("img", "br", "meta", "hr", "input", "link"):
            self._stack.append((tag, a))

    def handle_endtag(self, tag):
        if tag == "figcaption" and self._caption is not None:
            self.figures[-1]["caption"] = " ".join("".join(self._caption).split())
            self._caption = None
        while self._stack and self._stack.pop()[0] != tag:
            pass

    def handle_data(self, data):
        if self._caption is not None:
            self._caption.append(data)


def _parse(path: Path) -> _Report:
    parser = _Report()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser


def test_every_table_and_figure_has_a_caption_and_a_unique_stable_id(small_run):
    report = _parse(small_run / "report.html")
    repeated = sorted({i for i in report.ids if report.ids.count(i) > 1})
    assert not repeated
    assert report.figures
    for fig in report.figures:
        kind = "tab" if fig["class"] == "table" else "fig"
        assert re.fullmatch(rf"{kind}-[a-z0-9_]+", fig["id"] or ""), fig
        assert re.fullmatch(r"(Table|Figure) \d+\. \S.*", fig["caption"]), fig
    # every other table (the ledger's, the diagnostics) sits under a heading with an id
    for figure_id, heading_id in report.tables:
        assert figure_id or heading_id, (figure_id, heading_id)
    # report/ holds each item under its identifier, and index.csv lists their captions
    index = pd.read_csv(small_run / "report" / "index.csv", keep_default_na=False)
    assert sorted(index["identifier"]) == sorted(f["id"] for f in report.figures)
    in_page = {f["id"]: f["caption"].split(". ", 1)[1] for f in report.figures}
    for row in index.itertuples():
        assert " ".join(row.caption.split()) == in_page[row.identifier], row.identifier
        for name in row.files.split():
            assert name.startswith(row.identifier + ".")
            assert (small_run / "report" / name).stat().st_size > 0
    files = {p.name for p in (small_run / "report").iterdir()} - {"index.csv"}
    assert files == {n for f in index["files"] for n in f.split()}


def _chromium(args: list[str], tmp_path: Path, name: str, *, timeout: float = 120):
    profile = tmp_path / f"profile-{name}"           # a fresh profile per run
    return subprocess.Popen([CHROMIUM, *FLAGS, f"--user-data-dir={profile}", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            cwd=tmp_path)


#: Appended to a copy of the report: after loading, the elements whose right edge lies
#: beyond the window (inside a table's scroll box only the box itself counts, on screen).
PROBE = """<script>window.addEventListener('load', () => {
  const width = document.documentElement.clientWidth, bad = [];
  for (const el of document.body.querySelectorAll('*')) {
    const box = el.parentElement && el.parentElement.closest('.scroll');
    if (box && getComputedStyle(box).overflowX !== 'visible') continue;
    const r = el.getBoundingClientRect();
    if (r.width > 0 && r.right > width + 1)
      bad.push(el.tagName + '#' + el.id + '.' + el.className + ':' + Math.round(r.right));
  }
  document.body.dataset.width = width;
  document.body.dataset.overflow = bad.length;
  document.body.dataset.first = bad.slice(0, 5).join(' ');
});</script>"""


def _print_rules() -> str:
    """The body of the style sheet's ``@media print`` block, without its @page rule."""
    start = CSS.index("@media print {") + len("@media print {")
    depth, end = 1, start
    while depth:
        depth += {"{": 1, "}": -1}.get(CSS[end], 0)
        end += 1
    return re.sub(r"@page\s*\{[^}]*\}", "", CSS[start:end - 1])


def _layout(out: subprocess.Popen) -> dict[str, str]:
    stdout, stderr = out.communicate(timeout=120)
    body = re.search(r"<body([^>]*)>", stdout)
    assert body, stderr[-2000:]
    return dict(re.findall(r'data-(\w+)="([^"]*)"', body.group(1)))


def _pages(pdf: Path, tmp_path: Path) -> list[np.ndarray]:
    """Every page of ``pdf`` as a grey-level array (pdftoppm, 20 dpi)."""
    subprocess.run(["pdftoppm", "-r", "20", "-gray", str(pdf), str(tmp_path / "page")],
                   check=True, timeout=120)
    pages = []
    for path in sorted(tmp_path.glob("page-*.pgm")):
        data = path.read_bytes()
        # binary PGM: "P5\n<width> <height>\n<maxval>\n" then one byte per pixel
        magic, width, height, maxval, pixels = data.split(maxsplit=4)
        assert magic == b"P5" and int(maxval) == 255
        shape = (int(height), int(width))
        pages.append(np.frombuffer(pixels[:shape[0] * shape[1]], np.uint8).reshape(shape))
    return pages


@pytest.fixture(scope="module")
def chromium_runs(small_run, tmp_path_factory):
    """The report printed to PDF (A4) and, at the same time, laid out at the printed
    page's width (its print rules applied) and in a narrow window: the three Chromium
    runs overlap. Yields the PDF's path and the two layouts."""
    tmp_path = tmp_path_factory.mktemp("print")
    page = (small_run / "report.html").read_text(encoding="utf-8")
    printed = tmp_path / "printed-width.html"
    printed.write_text(page.replace("</head>", f"<style>{_print_rules()}</style></head>")
                       .replace("</body>", PROBE + "</body>"), encoding="utf-8")
    narrow = tmp_path / "narrow.html"
    narrow.write_text(page.replace("</body>", PROBE + "</body>"), encoding="utf-8")
    pdf = tmp_path / "report.pdf"
    runs: dict[str, subprocess.Popen] = {}
    try:
        runs["pdf"] = _chromium([f"--print-to-pdf={pdf}", "--no-pdf-header-footer",
                                 (small_run / "report.html").as_uri()], tmp_path, "pdf")
        runs["print"] = _chromium([f"--window-size={PRINT_WIDTH_PX},2000", "--dump-dom",
                                   "--virtual-time-budget=5000", printed.as_uri()],
                                  tmp_path, "print")
        runs["narrow"] = _chromium(["--window-size=400,3000", "--dump-dom",
                                    "--virtual-time-budget=5000", narrow.as_uri()],
                                   tmp_path, "narrow")
        layouts = {name: _layout(runs[name]) for name in ("print", "narrow")}
        _, stderr = runs["pdf"].communicate(timeout=120)
        assert pdf.exists() and pdf.read_bytes()[:5] == b"%PDF-", stderr[-2000:]
        yield pdf, layouts
    finally:
        for run in runs.values():   # only the Chromium processes started here
            if run.returncode is None:
                run.kill()
                run.communicate()


@needs_browser
def test_nothing_sticks_out_of_the_printed_page_or_a_narrow_window(chromium_runs):
    _, layouts = chromium_runs
    # (headless Chromium keeps a window at least 500 pixels wide: the narrow window is
    # ~485 pixels inside its scroll bar, below the narrow rules' 40rem = 640 pixels)
    for name, low, high in (("print", 0.95 * PRINT_WIDTH_PX, PRINT_WIDTH_PX),
                            ("narrow", 300, 640)):
        layout = layouts[name]
        assert low <= int(layout["width"]) <= high, (name, layout)
        assert layout["overflow"] == "0", (name, layout)


@needs_browser
def test_printed_report_has_whole_figures_and_every_caption(small_run, chromium_runs,
                                                           tmp_path):
    pdf, _ = chromium_runs
    report = _parse(small_run / "report.html")
    n_figures = sum(f["class"] == "figure" for f in report.figures)
    pages = _pages(pdf, tmp_path)
    assert len(pages) >= 10
    # not blank: ink on every page (at 20 dpi small text is grey, not black: a pixel
    # below 230 of 255 counts; the sample's emptiest page has ~5% of them, a page with
    # one line of text ~1%); A4 portrait
    for k, grey in enumerate(pages, start=1):
        assert (grey < 230).mean() > 0.005, f"page {k} is blank"
        assert grey.shape[0] / grey.shape[1] == pytest.approx(297 / 210, rel=0.02)
    # each figure's image drawn once, on one page: a figure split over two pages would
    # be drawn on both
    listed = subprocess.run(["pdfimages", "-list", str(pdf)], capture_output=True,
                            text=True, check=True, timeout=60).stdout.splitlines()[2:]
    assert len(listed) == n_figures
    # every caption is in the text of the pages
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True,
                          check=True, timeout=60).stdout

    def squeeze(s: str) -> str:
        # without spaces and hyphens (pdftotext joins "right-" at a line's end and
        # "censored" on the next into "rightcensored"), ligatures unfolded
        return "".join(unicodedata.normalize("NFKC", s).replace("-", " ").split())

    flat = squeeze(text)
    missing = [f["caption"] for f in report.figures if squeeze(f["caption"]) not in flat]
    assert not missing, missing
