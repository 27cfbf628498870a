"""``report/``: the report's tables and figures as files for a journal's supplement.

Every table and figure of ``report.html`` has a stable identifier, ``tab-<name>`` or
``fig-<name>`` (``<name>`` is the stem of its files in ``tables/`` and ``figures/``),
which is its ``id`` in the page (``report.html#fig-trajectory_mmrm``) and the name of
its files here, so a manuscript, a reviewer's comment and a file name can point at the
same item whatever the numbering ("Figure 3" changes when a figure is added; the
identifier does not).

What a journal's supplementary material needs, and what is written:

- each figure as a separate file, in the formats of ``[figures] formats`` (PDF for
  vector art, PNG at ``dpi``, SVG), sized to the journal column: ``fig-<name>.pdf``;
- each table as the reader sees it (the report's formatted text: rounded numbers,
  the rendered columns) in ``tab-<name>.csv``, text neutralised against spreadsheet
  formulas; the unrounded numbers stay in ``tables/`` and every table, editable, is in
  ``report.docx``;
- ``index.csv``: one row per item in report order, ``identifier``, ``kind``,
  ``section``, ``caption``, ``notes`` and ``files``, the legends a submission system
  asks for next to the files (ICMJE: figure legends and table footnotes travel with
  the items).

Numbers ("Table 3") are not part of the files: the report and the manuscript number
items in their own order.

Examples
--------
>>> from dryneedle_outcomes.report.sections import NamedFigure, Section
>>> s = Section("demo", "Demo", items=[NamedFigure("line", "A line.", print)])
>>> [(a.identifier, a.kind, a.caption) for a in report_items([s])]
[('fig-line', 'figure', 'A line.')]
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ..errors import DryNeedleError
from ..export_safety import neutralise_formulas
from ..tables import TableResult
from .main_results import report_parts
from .sections import NamedFigure, NamedTable, Section


@dataclass(frozen=True)
class ReportItem:
    """One table or figure of the report: its identifier and legend."""

    identifier: str          # tab-<name> / fig-<name>
    name: str                # the stem of its files in tables/ or figures/
    kind: str                # "table" or "figure"
    section: str             # the title of its section ("Appendix" for model checks)
    caption: str
    notes: tuple[str, ...] = ()
    table: TableResult | None = None


def identifier(item: NamedTable | NamedFigure) -> str:
    """``tab-<name>`` or ``fig-<name>``: the item's id in the report and in ``report/``.

    Examples
    --------
    >>> from dryneedle_outcomes.report.sections import NamedFigure
    >>> identifier(NamedFigure("soreness_curve", "Soreness.", print))
    'fig-soreness_curve'
    """
    return f"tab-{item.name}" if isinstance(item, NamedTable) else f"fig-{item.name}"


def report_items(sections: Sequence[Section]) -> list[ReportItem]:
    """Every table and figure of the run in report order (the main results, then each
    section's other items under "Appendix: <section>", then the model checks), with its
    identifier; identifiers are checked unique."""
    out = []
    for main, s, items in report_parts(list(sections)):
        title = s.title if main else f"Appendix: {s.title}"
        for item in items:
            if isinstance(item, NamedTable):
                out.append(ReportItem(identifier(item), item.name, "table", title,
                                      item.table.title, tuple(item.table.notes), item.table))
            else:
                out.append(ReportItem(identifier(item), item.name, "figure", title,
                                      item.caption))
    out += [ReportItem(identifier(f), f.name, "figure", "Appendix", f.caption)
            for s in sections for f in s.appendix]
    ids = pd.Series([i.identifier for i in out], dtype=object)
    repeated = sorted(set(ids[ids.duplicated()]))
    if repeated:
        raise DryNeedleError(f"two report items share an identifier: {', '.join(repeated)}")
    return out


def write_assets(folder: str | Path, sections: Sequence[Section],
                 figures: Mapping[str, Mapping[str, bytes]],
                 formats: Sequence[str]) -> list[Path]:
    """Write ``report/`` (see the module docstring) into ``folder``; the paths written.

    ``figures`` maps each figure's name to its rendered bytes per format
    (:func:`~dryneedle_outcomes.report.figures.render`); ``formats`` are those written.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    rows = []
    for item in report_items(sections):
        if item.table is not None:
            files = [f"{item.identifier}.csv"]
            neutralise_formulas(item.table.formatted()).to_csv(folder / files[0],
                                                               index=False)
        else:
            files = [f"{item.identifier}.{fmt}" for fmt in formats]
            for fmt, file in zip(formats, files):
                (folder / file).write_bytes(figures[item.name][fmt])
        written += [folder / f for f in files]
        rows.append({"identifier": item.identifier, "kind": item.kind,
                     "section": item.section, "caption": item.caption,
                     "notes": " ".join(item.notes), "files": " ".join(files)})
    index = pd.DataFrame(rows, columns=["identifier", "kind", "section", "caption", "notes",
                                        "files"])
    neutralise_formulas(index).to_csv(folder / "index.csv", index=False)
    return [*written, folder / "index.csv"]
