"""The ``dryneedle-outcomes`` command: run, validate, simulate.

``run CONFIG --out DIR`` loads the cohort named by the configuration, runs every
analysis it names (baseline table, trajectory models, harms, responders; see
:mod:`dryneedle_outcomes.config`) and writes into DIR ``data/`` (the canonical cohort),
``quality/`` (the ledger), ``tables/`` (CSV and LaTeX), ``figures/``, ``report.html``,
``summary.txt``, ``warnings.txt`` and ``manifest.json`` (layout:
:mod:`dryneedle_outcomes.report.outputs`). DIR is replaced atomically. Progress goes to
stderr, the headline numbers and the report's path to stdout; ``--quiet`` prints errors
only. ``validate CONFIG`` checks the data only and exits 0 when nothing was rejected,
1 otherwise. ``simulate`` writes a synthetic cohort in the messy forms clinics export.

Exit codes: 0 success, 1 data problems (validate, or ``errors = "raise"`` data), 2 usage,
configuration or analysis errors (one line naming the problem).
"""

from __future__ import annotations

import argparse
import dataclasses
import shutil
import sys
import tempfile
import time
import warnings
from pathlib import Path

from . import __version__
from .config import AnalysisConfig
from .errors import DataValidationError, DryNeedleError
from .load import load_cohort


class Progress:
    """Numbered steps on stderr (``[2/7] harms ...``); silent when ``quiet``."""

    def __init__(self, total: int, quiet: bool) -> None:
        self.total, self.quiet, self.done = total, quiet, 0

    def step(self, message: str) -> None:
        self.done += 1
        _say(self.quiet, f"[{self.done}/{max(self.total, self.done)}] {message}")


def _say(quiet: bool, message: str) -> None:
    if not quiet:
        print(message, file=sys.stderr, flush=True)


def _load(cfg: AnalysisConfig, progress: Progress):
    progress.step(f"loading {', '.join(p.name for k, p in cfg.inputs.items() if k != 'config')}")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        cohort = load_cohort(cfg.assessments, cfg.patients, cfg.adverse_events,
                             mapping=cfg.mapping, errors=cfg.errors)
    for w in caught:
        _say(progress.quiet, f"warning: {w.message}")
    return cohort, [str(w.message) for w in caught]


def _replace(out: Path, write) -> None:
    """Call ``write(folder)`` on a temporary folder beside ``out``, then swap it in.

    An interrupted or failed run never leaves a half-written folder that looks complete.
    """
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        write(tmp)
        if out.exists():
            old = out.with_name(f".{out.name}.old")
            shutil.rmtree(old, ignore_errors=True)
            out.rename(old)
            tmp.rename(out)
            shutil.rmtree(old)
        else:
            tmp.rename(out)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)


def _summary(cohort, sections, out: Path) -> str:
    q = cohort.quality
    lines = [cohort.summary().splitlines()[0],
             f"Quality ledger: {len(q.rejected)} rejected row(s) set aside "
             f"({out / 'quality' / 'rejected.csv'}), {len(q.flags)} flag(s), "
             f"{len(q.corrections)} correction(s)"]
    headline = [h for s in sections for h in s.headline]
    if headline:
        lines += ["", "Headline:"] + [f"  - {h}" for h in headline]
    lines += ["", f"Report: {out / 'report.html'}",
              f"Tables, figures and manifest.json: {out}"]
    return "\n".join(lines)


def cmd_run(args: argparse.Namespace) -> int:
    from .report import n_steps, run_analyses, write_run
    from .report.outputs import now

    clock = time.perf_counter()
    started = now()
    cfg = AnalysisConfig.from_file(args.config)
    progress = Progress(1 + n_steps(cfg.analysis) + (2 if cfg.analysis else 1), args.quiet)
    cohort, messages = _load(cfg, progress)
    sections = run_analyses(cohort, cfg.analysis, step=progress.step,
                            progress=not args.quiet)
    for s in sections:
        for w in s.warnings:
            _say(args.quiet, f"warning: {w}")
    out = Path(args.out)
    _replace(out, lambda tmp: write_run(tmp, cohort, cfg, sections, load_warnings=messages,
                                        started=started, step=progress.step))
    _say(args.quiet, f"done in {time.perf_counter() - clock:.1f} s")
    if not args.quiet:
        print(_summary(cohort, sections, out))
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    cfg = AnalysisConfig.from_file(args.config)
    cfg = dataclasses.replace(cfg, errors="quarantine")
    cohort, _ = _load(cfg, Progress(1, args.quiet))
    print(cohort.quality.summary())
    rejected = cohort.quality.rejected
    if len(rejected):
        print("\nRejected rows:")
        print(rejected.drop(columns=["raw"]).to_string(index=False))
        return 1
    return 0


def cmd_simulate(args: argparse.Namespace) -> int:
    from .simulate import write_sample

    _say(args.quiet, f"simulating {args.patients} patients (seed {args.seed}) into {args.out}")
    paths = write_sample(args.out, n_patients=args.patients, seed=args.seed)
    for name, path in paths.items():
        _say(args.quiet, f"  {name}: {path}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="dryneedle-outcomes",
        description="Outcomes research on dry needling for plantar fasciitis.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="load, check, analyse and report as a configuration says")
    run.add_argument("config", help="analysis.toml")
    run.add_argument("--out", required=True, help="output folder (replaced atomically)")
    run.add_argument("--quiet", action="store_true", help="print nothing but errors")
    run.set_defaults(func=cmd_run)
    val = sub.add_parser("validate", help="check the data only; exit 1 when rows are rejected")
    val.add_argument("config")
    val.add_argument("--quiet", action="store_true")
    val.set_defaults(func=cmd_validate)
    sim = sub.add_parser("simulate", help="write a synthetic cohort as messy raw exports")
    sim.add_argument("--patients", type=int, default=84)
    sim.add_argument("--seed", type=int, default=2014)
    sim.add_argument("--out", required=True)
    sim.add_argument("--quiet", action="store_true")
    sim.set_defaults(func=cmd_simulate)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``dryneedle-outcomes`` console script."""
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except DataValidationError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except DryNeedleError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
