"""The ``dryneedle-outcomes`` command: run, validate, simulate.

``run CONFIG --out DIR`` loads the cohort named by the configuration, writes the
canonical tables, the quality ledger and ``manifest.json`` into DIR, and prints
the cohort summary. (Analyses join the run as they land.) ``validate CONFIG``
checks the data only and exits 0 when nothing was rejected, 1 otherwise.
``simulate`` writes a synthetic cohort in the messy forms clinics export.

Exit codes: 0 success, 1 data problems (validate), 2 usage or configuration
errors (one line naming the problem).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import warnings
from datetime import UTC, datetime
from pathlib import Path

from . import __version__
from .config import AnalysisConfig
from .errors import DataValidationError, DryNeedleError
from .load import load_cohort
from .manifest import build_manifest
from .quality import neutralise_formulas


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _say(quiet: bool, message: str) -> None:
    if not quiet:
        print(message, file=sys.stderr, flush=True)


def _load(cfg: AnalysisConfig, quiet: bool):
    _say(quiet, f"[1/3] loading {', '.join(p.name for p in cfg.inputs.values())}")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        cohort = load_cohort(cfg.assessments, cfg.patients, cfg.adverse_events,
                             mapping=cfg.mapping, errors=cfg.errors)
    for w in caught:
        _say(quiet, f"warning: {w.message}")
    return cohort, [str(w.message) for w in caught]


def _write_outputs(cohort, cfg: AnalysisConfig, out: Path, started: str,
                   messages: list[str]) -> list[str]:
    tables = out / "tables"
    tables.mkdir(parents=True)
    written = []
    for name in ("patients", "assessments", "adverse_events"):
        path = tables / f"{name}.csv"
        neutralise_formulas(getattr(cohort, name)).to_csv(path, index=False)
        written.append(str(path.relative_to(out)))
    for path in cohort.quality.write(out / "quality").values():
        written.append(str(path.relative_to(out)))
    (out / "summary.txt").write_text(cohort.summary() + "\n", encoding="utf-8")
    written.append("summary.txt")
    (out / "warnings.txt").write_text("\n".join(messages) + ("\n" if messages else ""),
                                      encoding="utf-8")
    written.append("warnings.txt")
    manifest = build_manifest(inputs=cfg.inputs, config=cfg.raw, started=started,
                              finished=_now(), outputs=written + ["manifest.json"])
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2, default=str) + "\n",
                                       encoding="utf-8")
    return written


def cmd_run(args: argparse.Namespace) -> int:
    started = _now()
    cfg = AnalysisConfig.from_file(args.config)
    cohort, messages = _load(cfg, args.quiet)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    _say(args.quiet, f"[2/3] writing tables, quality ledger and manifest to {out}")
    # write into a temporary folder beside DIR, then swap it in: an interrupted run never
    # leaves a half-written folder that looks complete
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        _write_outputs(cohort, cfg, tmp, started, messages)
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
    _say(args.quiet, "[3/3] done")
    if not args.quiet:
        print(cohort.summary())
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    cfg = AnalysisConfig.from_file(args.config)
    cfg = AnalysisConfig(**{**cfg.__dict__, "errors": "quarantine"})
    cohort, _ = _load(cfg, args.quiet)
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
    run = sub.add_parser("run", help="load, check and write the outputs for a configuration")
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
