"""The ``dryneedle-outcomes`` command: run, validate, simulate, power.

``run CONFIG --out DIR`` loads the cohort named by the configuration, runs every
analysis it names (baseline table, trajectory models, harms, responders; see
:mod:`dryneedle_outcomes.config`) and writes into DIR ``data/`` (the canonical cohort),
``quality/`` (the ledger), ``tables/`` (CSV and LaTeX), ``figures/``, ``report.html``,
``summary.txt``, ``warnings.txt`` and ``manifest.json`` (layout:
:mod:`dryneedle_outcomes.report.outputs`). DIR is written, and replaced, only as
:mod:`dryneedle_outcomes.outdir` allows: a new or empty folder, or one this package
wrote (``--force`` when its files were edited since); never a folder holding anything
else. Progress goes to stderr (plain lines; progress bars only on a terminal), the
headline numbers and the report's path to stdout; ``--quiet`` prints errors and alerts
only. ``validate CONFIG`` checks the data only, lists every rejected and flagged record
and exits 0 when nothing was rejected and no declared scale is contradicted by the
data, 1 otherwise. ``simulate --out DIR`` writes a synthetic cohort in the messy forms
clinics export, into a new or empty folder (``--force`` to replace a sample it wrote
before). ``power CONFIG --out DIR`` simulates the power of a planned trial and/or its
sample size as the ``[power]`` table says (:mod:`dryneedle_outcomes.config_power`) and
writes ``power.csv``, ``trials.csv``, the power curve, ``assumptions.md``, a small
``report.html`` and ``manifest.json`` (layout: :mod:`dryneedle_outcomes.report.power`)
under the same folder rules as ``run``; a progress bar over the simulated trials on a
terminal, the answer (power per n, the n required) on stdout.

Alerts (:mod:`dryneedle_outcomes.report.alerts`) are printed even with ``--quiet``: a
declared scale the data contradict (ledger flag ``implausible_scale``) and an analysis
that could not run.

Exit codes: 0 success; 1 data problems: rows rejected under ``errors = "raise"``, or
an analysis the data could not support (the other analyses' outputs are written and
the failure is listed in ``warnings.txt``, the report and on the console), or, for
``validate``, rejected rows or an implausible scale; 2 nothing was done: usage,
configuration or output-folder problems (one line naming the problem); 130
interrupted (Ctrl-C; the output folder is left as it was); 143 terminated (SIGTERM;
likewise, temporary folders removed).

Only ``argparse`` and the light modules are imported at start, so ``--help``,
``--version`` and ``validate`` start quickly; the analyses are imported by ``run``.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import signal
import sys
import threading
import time
import warnings
from pathlib import Path

from .errors import AnalysisError, DataValidationError, DryNeedleError


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


def _alert(message: str) -> None:
    """A line the user must see: printed on stderr even with ``--quiet``."""
    print(f"ALERT: {message}", file=sys.stderr, flush=True)


def _bars(quiet: bool) -> bool:
    """Progress bars only on a terminal: a log file gets plain step lines, no ``\\r``."""
    isatty = getattr(sys.stderr, "isatty", None)
    return not quiet and bool(isatty and isatty())


def _load(cfg, progress: Progress):
    from .load import load_cohort
    from .report.alerts import scale_alerts

    progress.step(f"loading {', '.join(p.name for k, p in cfg.inputs.items() if k != 'config')}")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        cohort = load_cohort(cfg.assessments, cfg.patients, cfg.adverse_events,
                             mapping=cfg.mapping, errors=cfg.errors,
                             config_file=cfg.source, limits=cfg.limits,
                             deviations=cfg.deviations,
                             intercurrent_events=cfg.intercurrent_events)
    for w in caught:
        _say(progress.quiet, f"warning: {w.message}")
    for alert in scale_alerts(cohort.quality.flags):
        _alert(alert)
    return cohort, [str(w.message) for w in caught]


def _summary(cohort, sections, out: Path, alerts) -> str:
    q = cohort.quality
    rejected_rows = int(q.counts["rejected"].sum())
    rejected_cells = int((q.rejected["scope"] == "cell").sum()) if "scope" in q.rejected else 0
    lines = [cohort.summary().splitlines()[0],
             f"Quality ledger: {rejected_rows} rejected row(s) and {rejected_cells} rejected "
             f"value(s) set aside ({out / 'quality' / 'rejected.csv'}), {len(q.flags)} flag(s) "
             f"({out / 'quality' / 'flags.csv'}), {len(q.corrections)} correction(s)"]
    if alerts:
        lines += ["", "Check before using these results:"] + [f"  ! {a}" for a in alerts]
    headline = [h for s in sections for h in s.headline]
    if headline:
        lines += ["", "Headline:"] + [f"  - {h}" for h in headline]
    lines += ["", f"Report: {out / 'report.html'}",
              f"Tables, figures and manifest.json: {out}"]
    return "\n".join(lines)


def _config(path: str):
    from .config import AnalysisConfig

    return AnalysisConfig.from_file(path)


def cmd_run(args: argparse.Namespace) -> int:
    from .outdir import checked_path, replace_folder
    from .report import n_steps, run_analyses, write_run
    from .report.outputs import now, run_alerts

    clock = time.perf_counter()
    started = now()
    cfg = _config(args.config)
    inputs = list(cfg.inputs.values())
    out = checked_path(args.out, protect=inputs)
    progress = Progress(1 + n_steps(cfg.analysis) + (2 if cfg.analysis else 1), args.quiet)
    done: dict = {}

    def produce(folder: Path) -> None:
        cohort, messages = _load(cfg, progress)
        sections = run_analyses(cohort, cfg.analysis, step=progress.step,
                                progress=_bars(args.quiet), estimand=cfg.estimand,
                                consort=cfg.consort)
        for s in sections:
            for w in s.warnings:
                _say(args.quiet, f"warning: {w}")
        write_run(folder, cohort, cfg, sections, load_warnings=messages, started=started,
                  step=progress.step)
        done.update(cohort=cohort, sections=sections)

    kept = replace_folder(out, produce, kind="run", force=args.force, protect=inputs)
    cohort, sections = done["cohort"], done["sections"]
    if kept is not None:
        _alert(f"files appeared in {out} during the run; the previous folder with them was "
               f"kept as {kept}")
    failed = [line for s in sections for line in s.failures]
    for line in failed:
        print(f"error: {line}", file=sys.stderr, flush=True)
    _say(args.quiet, f"done in {time.perf_counter() - clock:.1f} s"
         + (f"; {len(failed)} part(s) could not run (listed above), the rest was written "
            f"to {out}" if failed else ""))
    if not args.quiet:
        print(_summary(cohort, sections, out, run_alerts(cohort, sections)))
    return 1 if failed else 0


def cmd_validate(args: argparse.Namespace) -> int:
    from .report.alerts import SCALE_RULE, flag_listing

    cfg = _config(args.config)
    cfg = dataclasses.replace(cfg, errors="quarantine")
    cohort, _ = _load(cfg, Progress(1, args.quiet))
    q = cohort.quality
    print(q.summary())
    if len(q.flags):
        print(f"\nFlagged records ({len(q.flags)}; kept, worth a look):")
        print(flag_listing(q.flags))
    rejected = q.rejected
    if len(rejected):
        print(f"\nRejected rows ({len(rejected)}):")
        print(rejected.drop(columns=["raw"]).to_string(index=False))
    n_scale = int((q.flags["rule"] == SCALE_RULE).sum())
    if n_scale:
        print(f"\n{n_scale} declared scale(s) contradicted by the data ({SCALE_RULE}): "
              "every result on that outcome would be wrong; fix the scale in the mapping")
    return 1 if len(rejected) or n_scale else 0


def cmd_simulate(args: argparse.Namespace) -> int:
    from .outdir import replace_folder
    from .simulate import write_sample_folder

    if args.patients < 2:
        raise DryNeedleError(f"--patients must be 2 or more, got {args.patients}")
    paths: dict = {}

    def produce(folder: Path) -> None:
        _say(args.quiet, f"simulating {args.patients} patients (seed {args.seed}) into "
                         f"{args.out}")
        paths.update(write_sample_folder(folder, n_patients=args.patients, seed=args.seed))

    replace_folder(args.out, produce, kind="sample", force=args.force, require_force=True)
    out = Path(args.out)
    for name, path in paths.items():
        _say(args.quiet, f"  {name}: {out / Path(path).name}")
    return 0


def cmd_power(args: argparse.Namespace) -> int:
    from .config_power import PowerConfig
    from .outdir import checked_path, replace_folder

    clock = time.perf_counter()
    cfg = PowerConfig.from_file(args.config)
    inputs = list(cfg.inputs.values())
    out = checked_path(args.out, protect=inputs)
    p = cfg.power
    progress = Progress(1 + (p.n_per_arm is not None) + (p.target_power is not None)
                        + 2 * p.design.from_fit, args.quiet)
    done: dict = {}

    def produce(folder: Path) -> None:
        from .report.outputs import now
        from .report.power import run_power, write_power

        started = now()
        run = run_power(cfg, progress=_bars(args.quiet), step=progress.step)
        for w in [w for r in run.results for w in r.warnings] + list(run.fit_warnings):
            _say(args.quiet, f"warning: {w}")
        progress.step("writing power.csv, figures, assumptions.md, report.html and "
                      "manifest.json")
        write_power(folder, run, cfg, started=started)
        done["run"] = run

    try:
        kept = replace_folder(out, produce, kind="power", force=args.force, protect=inputs)
    except AnalysisError as exc:  # the configured data could not give the design
        print(f"error: {exc}", file=sys.stderr, flush=True)
        return 1
    if kept is not None:
        _alert(f"files appeared in {out} during the run; the previous folder with them was "
               f"kept as {kept}")
    run = done["run"]
    for alert in run.all_alerts():
        _alert(alert)
    _say(args.quiet, f"done in {time.perf_counter() - clock:.1f} s")
    if not args.quiet:
        print("\n".join(run.answer()))
        print(f"Report: {out / 'report.html'}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    from . import __version__

    parser = argparse.ArgumentParser(
        prog="dryneedle-outcomes",
        description="Outcomes research on dry needling for plantar fasciitis.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="load, check, analyse and report as a configuration says")
    run.add_argument("config", help="analysis.toml")
    run.add_argument("--out", required=True,
                     help="output folder: new, empty, or written by an earlier run "
                          "(replaced atomically; a folder with other files is refused)")
    run.add_argument("--force", action="store_true",
                     help="replace an earlier run's folder whose files were edited")
    run.add_argument("--quiet", action="store_true",
                     help="print nothing but errors and alerts")
    run.set_defaults(func=cmd_run)
    val = sub.add_parser("validate", help="check the data only; exit 1 when rows are "
                                          "rejected or a declared scale is implausible")
    val.add_argument("config")
    val.add_argument("--quiet", action="store_true")
    val.set_defaults(func=cmd_validate)
    pw = sub.add_parser("power", help="power and sample size of the next trial by "
                                      "simulation, as the [power] table says")
    pw.add_argument("config", help="a configuration with a [power] table (power.toml)")
    pw.add_argument("--out", required=True,
                    help="output folder: new, empty, or written by an earlier power run "
                         "(replaced atomically; a folder with other files is refused)")
    pw.add_argument("--force", action="store_true",
                    help="replace an earlier power folder whose files were edited")
    pw.add_argument("--quiet", action="store_true",
                    help="print nothing but errors and alerts (no progress)")
    pw.set_defaults(func=cmd_power)
    sim = sub.add_parser("simulate", help="write a synthetic cohort as messy raw exports")
    sim.add_argument("--patients", type=int, default=84)
    sim.add_argument("--seed", type=int, default=2014)
    sim.add_argument("--out", required=True, help="a new or empty folder")
    sim.add_argument("--force", action="store_true",
                     help="replace a sample folder written by an earlier simulate")
    sim.add_argument("--quiet", action="store_true")
    sim.set_defaults(func=cmd_simulate)
    return parser


def _terminated(signum, frame) -> None:
    """SIGTERM (``kill PID``): unwind like Ctrl-C, so temporary folders are removed."""
    raise SystemExit(128 + signum)


@contextlib.contextmanager
def _sigterm_unwinds():
    """Make SIGTERM raise SystemExit while a command runs (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _terminated)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``dryneedle-outcomes`` console script."""
    args = build_parser().parse_args(argv)
    try:
        with _sigterm_unwinds():
            return args.func(args)
    except DataValidationError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except DryNeedleError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        out = getattr(args, "out", None)
        print("interrupted" + (f"; {out} was left as it was" if out else ""),
              file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
