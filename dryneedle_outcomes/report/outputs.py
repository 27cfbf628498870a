"""Write a run's outputs into a folder (the command line writes into a temporary one).

Layout::

    data/         patients.csv, assessments.csv, adverse_events.csv (the canonical cohort;
                  intercurrent_events.csv when the configuration names one)
    quality/      counts.csv, rejected.csv, corrections.csv, flags.csv (the ledger)
    tables/       <table>.csv and <table>.xlsx (unrounded numbers, every column of the
                  result's table) and <table>.tex (booktabs, as the report shows it)
    figures/      <figure>.pdf / .png / .svg as [figures] formats asks
    report/       the report's items for a journal's supplementary material, named by
                  their stable identifiers (:mod:`.assets`): fig-<figure>.pdf / .png /
                  .svg, tab-<table>.csv (as printed), index.csv (identifier, caption,
                  notes, files of every item)
    report.html   everything above in one self-contained page
    methods.md    the Methods and Results text (Pandoc citations) built from the results;
    references.bib  the BibTeX entries methods.md cites (both only when analyses ran)
    report.docx   every table as a Word table (caption, notes, landscape when wide) and
                  the Methods text when given (:mod:`.word`), for co-authors who edit
                  in Word
    summary.txt   the alerts, the cohort summary and the headline numbers
    warnings.txt  every warning of the run, one a line, with the step it came from; the
                  alerts (implausible scales, parts that could not run) first, "[ALERT] ..."
    manifest.json the marker ("generator", "kind": "run"), software, inputs' SHA-256,
                  resolved configuration, seeds, times, outputs and folders, alerts

The command line writes these into a temporary folder and swaps it in
(:mod:`dryneedle_outcomes.outdir`); the manifest's outputs and folders are what a later
run may replace.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from .. import __version__
from ..cohort import Cohort
from ..config import AnalysisConfig
from ..export_safety import write_excel
from ..manifest import build_manifest, output_hashes, sha256
from ..quality import neutralise_formulas
from ..tables import table_latex
from .alerts import failure_alerts, scale_alerts
from .assets import write_assets
from .figures import render, width_mm
from .html import RunInfo, render_report
from .main_results import report_parts
from .sections import NamedTable, Section
from .text import RunText, reference_line, run_text
from .word import write_docx

#: The time written into the run's XLSX tables and ``report.docx``, so two runs on the
#: same data give the same bytes (as the CSV and LaTeX files do); the manifest records
#: the run's times.
EXCEL_TIME = datetime(2000, 1, 1)


def now() -> str:
    """The current UTC time, ISO 8601 to the second."""
    return datetime.now(UTC).isoformat(timespec="seconds")


def _text(path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8", newline="\n")


def _plain(sections) -> list[tuple[str, list[str]]]:
    """``(heading, paragraphs)`` with the citations in author-year form (for Word)."""
    return [(heading, [RunText.plain(p) for p in paragraphs]) for heading, paragraphs in sections]


def seeds(cfg: AnalysisConfig) -> dict:
    """Every seed of the run: the simulation's (recorded) and the bootstraps'."""
    out = {"simulation": cfg.raw.get("simulation", {})}
    a = cfg.analysis
    for name in ("time_to_relief", "soreness_duration"):
        options = getattr(a, name) if a is not None else None
        if options is not None and options.n_boot:
            out[f"{name}_bootstrap"] = {"seed": options.seed, "n_boot": options.n_boot}
    return out


def all_warnings(sections: list[Section], load_warnings, alerts=()) -> list[str]:
    """Every warning of the run, prefixed with the step it came from.

    ``alerts`` (:func:`run_alerts`) come first, as ``[ALERT] ...`` lines.
    """
    return ([f"[ALERT] {a}" for a in alerts] + [f"[load] {w}" for w in load_warnings]
            + [w for s in sections for w in s.warnings])


def run_alerts(cohort: Cohort, sections: list[Section]) -> list[str]:
    """Implausible scales and analyses that could not run (:mod:`.alerts`)."""
    return scale_alerts(cohort.quality.flags) + failure_alerts(sections)


def write_run(out: Path, cohort: Cohort, cfg: AnalysisConfig, sections: list[Section], *,
              load_warnings=(), started: str,
              step: Callable[[str], None] = lambda message: None) -> list[str]:
    """Write every output of the run into ``out``; return their paths relative to it."""
    out = Path(out)
    written: list[str] = []

    def keep(path: Path) -> None:
        written.append(path.relative_to(out).as_posix())

    (out / "data").mkdir(parents=True, exist_ok=True)
    for name in ("patients", "assessments", "adverse_events", "intercurrent_events"):
        if name == "intercurrent_events" and cfg.intercurrent_events is None \
                and not len(cohort.intercurrent_events):
            continue  # none given, none derived from the assessments
        path = out / "data" / f"{name}.csv"
        neutralise_formulas(getattr(cohort, name)).to_csv(path, index=False)
        keep(path)
    for path in cohort.quality.write(out / "quality").values():
        keep(path)

    if sections:
        step("writing tables (CSV, XLSX, LaTeX) and figures ("
             + ", ".join(cfg.figures.formats).upper() + ")")
    tables = out / "tables"
    tables.mkdir(exist_ok=True)
    for s in sections:
        for t in s.tables:
            t.table.to_csv(tables / f"{t.name}.csv")
            write_excel(t.table.table, tables / f"{t.name}.xlsx", sheet_name="table",
                        timestamp=EXCEL_TIME)
            _text(tables / f"{t.name}.tex", table_latex(t.table) + "\n")
            for ext in ("csv", "xlsx", "tex"):
                keep(tables / f"{t.name}.{ext}")

    figures: dict[str, bytes] = {}
    rendered_all: dict[str, dict[str, bytes]] = {}
    files: dict[str, list[str]] = {}
    formats = tuple(cfg.figures.formats)
    for s in sections:
        for f in s.figures:
            (out / "figures").mkdir(exist_ok=True)
            rendered = render(f, tuple(dict.fromkeys((*formats, "png"))),
                              width=cfg.figures.width, dpi=cfg.figures.dpi)
            figures[f.name] = rendered["png"]
            rendered_all[f.name] = rendered
            files[f.name] = []
            for fmt in formats:
                path = out / "figures" / f"{f.name}.{fmt}"
                path.write_bytes(rendered[fmt])
                keep(path)
                files[f.name].append(f"figures/{f.name}.{fmt}")

    text = run_text(cohort, sections, options=cfg.analysis, estimand=cfg.estimand,
                    inputs=cfg.inputs) if sections else None
    if text is not None:
        _text(out / "methods.md", text.markdown())
        _text(out / "references.bib", text.bibtex())
        keep(out / "methods.md")
        keep(out / "references.bib")
    info = RunInfo(config=str(cfg.source or "configuration"), version=__version__,
                   started=started,
                   inputs={k: (str(p), sha256(p)) for k, p in cfg.inputs.items()},
                   load_warnings=tuple(load_warnings),
                   alerts=tuple(run_alerts(cohort, sections)),
                   outcome=cfg.analysis.outcome if cfg.analysis is not None else None,
                   methods_results=text.html() if text is not None else "")
    step("writing report.html, summary and manifest")
    max_px = round(640 * width_mm(cfg.figures.width) / 85.0)
    _text(out / "report.html", render_report(cohort, sections, figures, files, info,
                                             max_px=min(max_px, 1000)))
    keep(out / "report.html")
    for path in write_assets(out / "report", sections, rendered_all, formats):
        keep(path)
    write_docx(out / "report.docx",
               [(s.title if main else f"Appendix: {s.title}",
                 [i.table for i in items if isinstance(i, NamedTable)])
                for main, s, items in report_parts(sections)],
               title=f"Analysis report ({Path(info.config).name})",
               methods=_plain(text.methods) if text is not None else (),
               results=_plain(text.results) if text is not None else (),
               references=([reference_line(k) for k in text.citations()]
                           if text is not None else ()),
               timestamp=EXCEL_TIME)
    keep(out / "report.docx")
    headline = [h for s in sections for h in s.headline]
    alerts = "".join(f"ALERT: {a}\n" for a in info.alerts) + ("\n" if info.alerts else "")
    _text(out / "summary.txt", alerts + cohort.summary() + "\n"
          + ("\nHeadline\n" + "\n".join(f"- {h}" for h in headline) + "\n" if headline else ""))
    keep(out / "summary.txt")
    messages = all_warnings(sections, load_warnings, info.alerts)
    _text(out / "warnings.txt", "".join(f"{m}\n" for m in messages))
    keep(out / "warnings.txt")

    names = [*written, "manifest.json"]
    folders = sorted({Path(name).parent.as_posix() for name in written} - {"."}
                     | {p.relative_to(out).as_posix() for p in out.iterdir() if p.is_dir()})
    manifest = build_manifest(inputs=cfg.inputs, config=cfg.resolved, started=started,
                              finished=now(), outputs=output_hashes(out, written) | {
                                  "manifest.json": None}, seeds=seeds(cfg), kind="run",
                              folders=folders)
    manifest["alerts"] = list(info.alerts)
    _text(out / "manifest.json", json.dumps(manifest, indent=2, default=str) + "\n")
    return sorted(names)
