"""``report.html``: one self-contained file, readable offline in any browser.

Every table (with its caption and notes) and every figure (PNG as a base64 data URI)
is inside the file, with the quality-ledger summary and the model diagnostics and
warnings. No external CSS, JavaScript, fonts or images: the style sheet is inline.

Layout: the title, the alerts, a table of contents in two parts, the headline
numbers and the Methods and Results text (when the run wrote it), then **Main
results** (the items flagged ``main`` by
:mod:`.main_results`: estimand, participant flow, baseline table, the primary
analysis at the pre-specified visit and the key secondary analyses, each section's
tables and figures in its order), then the **Appendix**: every other table and figure
of each section, the data and quality ledger (rejected rows included), the model
diagnostics and warnings and the model checks. Tables and figures are numbered in
the order they appear. Every note is printed once per section: notes shared by
several tables of a section are in the section's notes block at its end, a note of one
table stays under that table (:func:`split_notes`), and the appendix part of a section
leaves out the notes its main results print, pointing to them instead.
"""

from __future__ import annotations

import base64
import html
from dataclasses import dataclass, replace

import pandas as pd

from ..cohort import NO_DEVIATION_RULES, Cohort
from ..tables import frame_html, table_html
from .instruments import instrument_sentences
from .sections import NamedTable, Section

CSS = """
body { font-family: -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; color: #222;
       max-width: 60rem; margin: 2rem auto; padding: 0 1rem; line-height: 1.45; }
h1 { font-size: 1.6rem; margin-bottom: 0.2rem; }
h2 { font-size: 1.3rem; border-bottom: 1px solid #ccc; padding-bottom: 0.2rem;
     margin-top: 2.5rem; }
h3 { font-size: 1.05rem; margin-top: 1.5rem; }
p.meta, p.files, .notes { color: #555; font-size: 0.85rem; }
nav ol { columns: 2; font-size: 0.9rem; }
figure { margin: 1.5rem 0; }
figcaption { font-weight: 600; margin-bottom: 0.4rem; }
figure.figure figcaption { font-weight: normal; margin-top: 0.4rem; }
figure.figure img { width: 100%; height: auto; border: 0; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; font-size: 0.8rem; font-variant-numeric: tabular-nums; }
th, td { padding: 0.2rem 0.5rem; border-bottom: 1px solid #e3e3e3; vertical-align: top; }
th { border-bottom: 1.5px solid #444; background: #f6f6f6; }
.num { text-align: right; }
td.num { white-space: nowrap; }
.txt { text-align: left; }
.notes p { margin: 0.15rem 0; }
ul.headline li { margin-bottom: 0.4rem; }
.bad { color: #b00020; font-weight: 600; }
.alert { border: 2px solid #b00020; background: #fdecee; padding: 0.6rem 1rem;
         margin: 1rem 0; }
.alert strong { color: #b00020; }
.ok { color: #1b7a3a; }
h1.part { font-size: 1.45rem; margin-top: 3rem; border-bottom: 3px solid #444;
          padding-bottom: 0.3rem; }
th.span { text-align: center; background: #fff; border-bottom: 1px solid #444; }
.section-notes { border-top: 1px solid #ccc; margin-top: 1rem; padding-top: 0.3rem; }
nav h2 { font-size: 1rem; margin: 0.8rem 0 0.2rem; border: 0; }
@media print { h1.part#appendix { break-before: page; page-break-before: always; } }
body { overflow-wrap: break-word; }
/* a narrow window (a phone, a side panel): one column, smaller tables that scroll
   inside their box, figures at the window's width */
@media (max-width: 40rem) {
  body { margin: 1rem auto; padding: 0 0.6rem; }
  h1 { font-size: 1.3rem; }
  h2 { font-size: 1.15rem; margin-top: 1.8rem; }
  nav ol { columns: 1; padding-left: 1.2rem; }
  figure { margin: 1rem 0; }
  table { font-size: 0.72rem; }
  th, td { padding: 0.15rem 0.3rem; }
}
/* printed (or saved as PDF from a browser): A4, no navigation, nothing cut at the
   right margin, a figure or a table row never split across two pages, a caption and a
   heading kept with what follows, the header row of a long table repeated */
@media print {
  @page { size: A4; margin: 14mm 12mm; }
  body { max-width: none; margin: 0; padding: 0; font-size: 9.5pt; color: #000;
         line-height: 1.3; }
  nav { display: none; }
  h1, h2, h3, figcaption { break-after: avoid; page-break-after: avoid; }
  h2 { margin-top: 1.2rem; }
  figure { margin: 0.8rem 0; }
  figure.figure, figure.figure img, tr, .alert { break-inside: avoid;
                                                page-break-inside: avoid; }
  figure.figure img { max-height: 230mm; width: auto; max-width: 100%; }
  .scroll { overflow: visible; }
  table { width: 100%; font-size: 7.5pt; }
  thead { display: table-header-group; }
  th, td { padding: 0.1rem 0.25rem; overflow-wrap: anywhere; }
  th { background: none; }
  .alert { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
}
"""


@dataclass(frozen=True)
class RunInfo:
    """What the report says about the run itself."""

    config: str
    version: str
    started: str
    inputs: dict[str, tuple[str, str]]  # role -> (path, sha256)
    load_warnings: tuple[str, ...] = ()
    alerts: tuple[str, ...] = ()  # shown first, in a banner (report.alerts)
    outcome: str | None = None    # the configured outcome (for the instruments' methods)
    methods_results: str = ""     # the Methods and Results sections (HTML, report.text)


#: Rows of the flags table shown in the report (all of them are in quality/flags.csv).
FLAGS_SHOWN = 500


def _banner(alerts) -> str:
    """The alerts (implausible scales, failed analyses) in a box at the top."""
    if not alerts:
        return ""
    items = "".join(f"<li>{_e(a)}</li>" for a in alerts)
    return (f'<div class="alert" id="alerts"><strong>Check before using these results '
            f"({len(alerts)}):</strong><ul>{items}</ul></div>")


def _e(text) -> str:
    return html.escape(str(text))


def _table(name: str, number: int, table, notes: tuple[str, ...] | None = None) -> str:
    files = f'<p class="files">Files: tables/{_e(name)}.csv, tables/{_e(name)}.xlsx, ' \
            f"tables/{_e(name)}.tex</p>"
    return table_html(table, caption=f"Table {number}. {table.title}",
                      element_id=f"tab-{name}", footer=files, notes=notes)


def split_notes(tables) -> tuple[list[str], dict[str, tuple[str, ...]]]:
    """The notes of a section's tables: those of two or more tables (printed once for
    the section) and, per table name, its own.

    Examples
    --------
    >>> from types import SimpleNamespace as NS
    >>> t = [NS(name="a", table=NS(notes=("x", "y"))), NS(name="b", table=NS(notes=("x",)))]
    >>> split_notes(t)
    (['x'], {'a': ('y',), 'b': ()})
    """
    seen: dict[str, int] = {}
    for t in tables:
        for note in dict.fromkeys(t.table.notes):
            seen[note] = seen.get(note, 0) + 1
    shared = [n for n, k in seen.items() if k > 1]
    own = {t.name: tuple(n for n in t.table.notes if seen[n] == 1) for t in tables}
    return shared, own


def _figure(name: str, number: int, caption: str, png: bytes, files: list[str],
            max_px: int) -> str:
    data = base64.b64encode(png).decode("ascii")
    listed = ", ".join(files)
    return (f'<figure class="figure" id="fig-{_e(name)}" style="max-width: {max_px}px">'
            f'<img src="data:image/png;base64,{data}" alt="{_e(caption)}">'
            f"<figcaption>Figure {number}. {_e(caption)}</figcaption>"
            + (f'<p class="files">Files: {_e(listed)}</p>' if listed else "")
            + "</figure>")


def _quality(cohort: Cohort, info: RunInfo) -> str:
    q = cohort.quality
    parts = ["<h2 id=\"data\">Data and quality ledger</h2>",
             f"<p>{_e(cohort.summary().splitlines()[0])}.</p>",
             frame_html(cohort.describe().round(1)),
             '<h3 id="ledger-counts">Rows read, kept and rejected</h3>', frame_html(q.counts),
             "<p>read = kept + rejected for every table: "
             + ('<span class="ok">yes</span>' if q.balanced else '<span class="bad">NO</span>')
             + "</p>"]
    sentences = instrument_sentences(cohort, info.outcome)
    if sentences:
        parts += ['<h3 id="instruments">Instruments</h3>',
                  "<ul>" + "".join(f"<li>{_e(t)}</li>" for t in sentences) + "</ul>"]
    rules = q.rules()
    if len(rules):
        parts += ['<h3 id="ledger-rules">Rejections, corrections and flags by rule</h3>',
                  frame_html(rules)]
    if len(q.rejected):
        shown = q.rejected.drop(columns=["raw"], errors="ignore")
        parts += [f'<h3 id="ledger-rejected">Rejected rows ({len(shown)})</h3>',
                  frame_html(shown.head(200)),
                  '<p class="files">All of them: quality/rejected.csv (with the raw row); '
                  "corrections and flags: quality/corrections.csv, quality/flags.csv</p>"]
    n_dev = len(cohort.protocol_deviations)
    if cohort.deviation_rules_checked == ():
        parts.append(f"<p>{_e(NO_DEVIATION_RULES)}</p>")
    if n_dev:
        parts.append(f"<p>Protocol deviations flagged: {n_dev} (needling a patient with a "
                     "contraindication, or a sham-arm patient recorded as needled; kept in "
                     "the analyses).</p>")
    if len(q.flags):
        parts += [f'<h3 id="ledger-flags">Flagged records ({len(q.flags)}): kept, worth a '
                  "look</h3>",
                  frame_html(q.flags.head(FLAGS_SHOWN)),
                  '<p class="files">All of them: quality/flags.csv'
                  + (f" (first {FLAGS_SHOWN} shown)" if len(q.flags) > FLAGS_SHOWN else "")
                  + "</p>"]
    inputs = pd.DataFrame([{"input": k, "path": p, "sha256": h}
                           for k, (p, h) in info.inputs.items()])
    parts += ['<h3 id="ledger-inputs">Inputs</h3>', frame_html(inputs)]
    return "\n".join(parts)


def _diagnostics(sections: list[Section], info: RunInfo) -> str:
    rows = [{"analysis": d.analysis,
             "converged": "" if d.converged is None else ("yes" if d.converged else "NO"),
             "details": d.details, "warnings": len(d.warnings)}
            for s in sections for d in s.diagnostics]
    parts = ['<h2 id="diagnostics">Model diagnostics and warnings</h2>']
    parts.append(frame_html(pd.DataFrame(rows)) if rows else "<p>No model fits.</p>")
    warned = [("loading the data", list(info.load_warnings))]
    warned += [(d.analysis, list(d.warnings)) for s in sections for d in s.diagnostics]
    listed = [(what, ws) for what, ws in warned if ws]
    if not listed:
        parts.append("<p>No warnings.</p>")
    for what, ws in listed:
        items = "".join(f"<li>{_e(w)}</li>" for w in ws)
        parts.append(f"<h3>Warnings: {_e(what)}</h3><ul>{items}</ul>")
    return "\n".join(parts)


class _Counter:
    """Table and figure numbers, in the order they appear."""

    def __init__(self) -> None:
        self.tables = 0
        self.figures = 0


def _items_html(items, figures: dict[str, bytes], files: dict[str, list[str]],
                count: _Counter, max_px: int, printed=frozenset(),
                above: str | None = None) -> tuple[list[str], set[str]]:
    """Tables and figures in order, then the section's notes block (shared notes once);
    also the notes printed.

    Notes in ``printed`` (those the section's main results print) are left out and the
    block points to the section ``above`` instead.
    """
    tables = [i for i in items if isinstance(i, NamedTable)]
    kept = {t.name: tuple(n for n in t.table.notes if n not in printed) for t in tables}
    shared, own = split_notes([replace(t, table=replace(t.table, notes=kept[t.name]))
                               for t in tables])
    skipped = any(len(kept[t.name]) < len(t.table.notes) for t in tables)
    body = []
    for item in items:
        if isinstance(item, NamedTable):
            count.tables += 1
            body.append(_table(item.name, count.tables, item.table, own[item.name]))
        else:
            count.figures += 1
            body.append(_figure(item.name, count.figures, item.caption, figures[item.name],
                                files.get(item.name, []), max_px))
    lines = [f"<p>{_e(n)}</p>" for n in shared]
    if skipped and above:
        lines.append(f'<p>The notes printed with this section\'s <a href="#{_e(above)}">main '
                     "results</a> apply to these tables too.</p>")
    if lines:
        body.append('<div class="notes section-notes"><p><strong>Notes to the tables of '
                    "this section</strong></p>" + "".join(lines) + "</div>")
    return body, {n for t in tables for n in kept[t.name]}


def _part(sections: list[Section], main: bool, figures, files, count: _Counter,
          max_px: int, printed: dict[str, set[str]] | None = None
          ) -> tuple[list[str], list[str], dict[str, set[str]]]:
    """The main results (``main=True``) or the appendix's sections: body, TOC entries and
    the notes printed per section (``printed``: those of the main results, not repeated
    in the appendix)."""
    body, toc, notes = [], [], {}
    printed = printed or {}
    for s in sections:
        items = [i for i in s.items if i.main == main]
        failures = s.failures if main else []
        if not items and not failures:
            continue
        ident = s.key if main else f"appendix-{s.key}"
        toc.append(f'<li><a href="#{_e(ident)}">{_e(s.title)}</a></li>')
        body.append(f'<h2 id="{_e(ident)}">{_e(s.title)}</h2>')
        for line in failures:
            body.append(f'<p class="bad">{_e(line)}. Everything else in this report is '
                        "complete.</p>")
        html_items, notes[s.key] = _items_html(
            items, figures, files, count, max_px, printed.get(s.key, set()),
            s.key if s.key in printed else None)
        body += html_items
    return body, toc, notes


def render_report(cohort: Cohort, sections: list[Section], figures: dict[str, bytes],
                  files: dict[str, list[str]], info: RunInfo, *, max_px: int = 640) -> str:
    """The report as one HTML string (layout in the module docstring).

    ``figures`` maps each figure's name to its PNG bytes and ``files`` to the paths of
    its files in the output folder.
    """
    count = _Counter()
    main_body, main_toc, printed = _part(sections, True, figures, files, count, max_px)
    app_body, app_toc, _ = _part(sections, False, figures, files, count, max_px, printed)
    checks = [f for s in sections for f in s.appendix]
    app_toc += ['<li><a href="#data">Data and quality ledger</a></li>',
                '<li><a href="#diagnostics">Model diagnostics and warnings</a></li>']
    if checks:
        app_toc.append('<li><a href="#model-checks">Model checks</a></li>')
    text_toc = "".join(f'<li><a href="#{key}">{title}</a></li>'
                       for key, title in (("methods", "Methods"), ("results", "Results"))
                       if f'id="{key}"' in info.methods_results)
    toc = ('<nav><h2>Main results</h2><ol><li><a href="#summary">Summary</a></li>'
           + text_toc + "".join(main_toc) + '</ol><h2><a href="#appendix">Appendix</a></h2><ol>'
           + "".join(app_toc) + "</ol></nav>")
    headline = [h for s in sections for h in s.headline]
    body = [
        f"<h1>Analysis report</h1><p class=\"meta\">Configuration {_e(info.config)}; "
        f"dryneedle_outcomes {_e(info.version)}; run started {_e(info.started)}.</p>",
        _banner(info.alerts),
        toc,
        '<h1 class="part" id="main-results">Main results</h1>',
        '<h2 id="summary">Summary</h2>',
        ("<ul class=\"headline\">" + "".join(f"<li>{_e(h)}</li>" for h in headline)
         + "</ul>" if headline else "<p>No analyses were configured: the data were loaded "
         "and checked only.</p>"),
        info.methods_results,
        *main_body,
        '<h1 class="part" id="appendix">Appendix</h1>',
        "<p>Every other table and figure of the analyses, the data and quality ledger, "
        "the model diagnostics and the model checks.</p>",
        *app_body,
        _quality(cohort, info),
        _diagnostics(sections, info),
    ]
    if checks:
        body.append('<h2 id="model-checks">Model checks</h2>')
    for item in checks:
        count.figures += 1
        body.append(_figure(item.name, count.figures, item.caption, figures[item.name],
                            files.get(item.name, []), max_px))
    return ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
            f"<title>Analysis report: {_e(info.config)}</title>\n<style>{CSS}</style>\n"
            "</head>\n<body>\n" + "\n".join(body) + "\n</body>\n</html>\n")
