"""Benchmark the loader against the plain pyarrow CSV read of the same file.

Usage::

    python benchmarks/bench_load.py [--rows 1000000] [--repeat 5] [--rounds 2] [--profile]

The first run writes a long-format assessments CSV of ``--rows`` rows and the
matching patients CSV into ``benchmarks/_data/`` (git-ignored; never commit it),
generated with :func:`dryneedle_outcomes.simulate_tables`. Later runs with the same
``--rows`` and ``--seed`` reuse the files.

Cases, each run in a fresh subprocess so that its peak memory is its own:

``reference``
    ``pyarrow.csv.read_csv(assessments).to_pandas()`` with default options: the plain
    reference every ratio is taken against.
``read_table``
    ``dno.read_table(assessments, table="assessments", string_columns=["patient_id"])``,
    the reader ``load_cohort`` uses.
``load_cohort``
    ``dno.load_cohort(assessments, patients)``: read + normalise + validate + ledger.

Time is the best of ``--repeat`` runs in each of ``--rounds`` fresh subprocesses per
case, the cases taking turns (``time.perf_counter``): on a shared machine the best run
is the one least disturbed by other processes. Peak memory is the
peak RSS of the subprocess during the first run (``getrusage(RUSAGE_SELF).ru_maxrss``)
minus its peak RSS after importing numpy, pandas, pyarrow and dryneedle_outcomes (``tracemalloc``
does not see pyarrow's allocations). Ratios are against the reference read time and the
in-memory size of the canonical assessments table
(``cohort.assessments.memory_usage(deep=True).sum()``). Targets: load time <= 3x
the reference read, peak memory <= 4x the canonical table.

``--profile`` runs ``load_cohort`` once untimed (imports on first use) and then once
under cProfile (in this process) and prints the top entries by cumulative time
(``--sort tottime`` for own time).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_DATA_DIR = HERE / "_data"
FORMAT_VERSION = 1  # bump when the generated files change shape
CASES = ("reference", "read_table", "load_cohort")
TIME_TARGET = 3.0  # load <= 3x the reference read
MEMORY_TARGET = 4.0  # peak <= 4x canonical assessments table


# ----------------------------------------------------------------------------- data


def data_paths(data_dir: Path, rows: int, seed: int) -> dict[str, Path]:
    stem = f"{rows}_s{seed}"
    return {
        "assessments": data_dir / f"assessments_{stem}.csv",
        "patients": data_dir / f"patients_{stem}.csv",
        "meta": data_dir / f"meta_{stem}.json",
    }


def _soreness_text(lower, upper):
    """Clinician-style text for soreness intervals: '24-48h', '>48h', 'none', '36h'."""
    import numpy as np
    import pandas as pd

    lo = pd.Series(lower, dtype=float)
    hi = pd.Series(upper, dtype=float)
    lo_s = lo.fillna(0).clip(upper=1e6).round().astype(np.int64).astype(str)
    hi_s = hi.where(np.isfinite(hi), 0).fillna(0).round().astype(np.int64).astype(str)
    has = lo.notna().to_numpy()
    none = has & (hi == 0).to_numpy()
    exact = has & (lo == hi).to_numpy() & ~none
    ranged = has & np.isfinite(hi).to_numpy() & (lo < hi).to_numpy()
    open_ = has & np.isinf(hi).to_numpy()
    text = np.select(
        [none, exact, ranged, open_ & (lo > 0).to_numpy(), open_],
        ["none", lo_s + "h", lo_s + "-" + hi_s + "h", ">" + lo_s + "h", "ongoing"],
        "",
    )
    return text.astype(object)


def _simulate_rows(rows: int, seed: int):
    """Simulated canonical tables with at least ``rows`` assessment records."""
    import dryneedle_outcomes as dno

    n_patients = max(2, math.ceil(rows / 7.3) + 10)  # ~7.5 visits per patient
    while True:
        sim = dno.simulate_tables(n_patients=n_patients, seed=seed)
        if len(sim.assessments) >= rows:
            return sim
        n_patients = math.ceil(n_patients * rows / max(len(sim.assessments), 1) * 1.05) + 10


def make_data(data_dir: Path, rows: int, seed: int, *, quiet: bool = False) -> dict[str, Path]:
    """Write the benchmark CSVs (or reuse them when present with the same size)."""
    import numpy as np
    import pandas as pd

    paths = data_paths(data_dir, rows, seed)
    want = {"format_version": FORMAT_VERSION, "rows": rows, "seed": seed}
    if paths["meta"].exists() and paths["assessments"].exists() and paths["patients"].exists():
        try:
            meta = json.loads(paths["meta"].read_text())
        except ValueError:
            meta = {}
        if all(meta.get(k) == v for k, v in want.items()):
            if not quiet:
                print(f"reusing {paths['assessments']} ({rows:,} rows)")
            return paths

    t0 = time.perf_counter()
    data_dir.mkdir(parents=True, exist_ok=True)
    sim = _simulate_rows(rows, seed)
    a = sim.assessments.iloc[:rows].reset_index(drop=True)
    rng = np.random.default_rng(seed)

    ids = a["patient_id"].to_numpy()
    uniq, inverse = np.unique(ids, return_inverse=True)
    base_offset = rng.integers(0, 5 * 365, len(uniq))[inverse]
    offset = (base_offset + a["day"].to_numpy()).astype("timedelta64[D]")
    days = np.datetime64("2019-01-07") + offset
    out = pd.DataFrame({
        "patient_id": a["patient_id"],
        "visit": a["visit"],
        "date": days.astype("datetime64[D]").astype(str),  # ISO text
        "vas_pain": a["vas_pain"],
        "first_step_pain": a["first_step_pain"],
        "needled": a["needled"],
        "needles": a["needles"],
        "twitch_responses": a["twitch_responses"],
        "muscles": a["muscles"],  # e.g. "gastrocnemius;soleus"
        "soreness": _soreness_text(a["soreness_lower_h"], a["soreness_upper_h"]),
    })
    pats = sim.patients[sim.patients["patient_id"].isin(uniq)].copy()
    pats["arm"] = pats["arm"].astype(str)

    for key, frame in (("assessments", out), ("patients", pats)):
        tmp = paths[key].with_suffix(".csv.tmp")
        frame.to_csv(tmp, index=False, float_format="%.1f")
        os.replace(tmp, paths[key])
    paths["meta"].write_text(json.dumps({**want, "patients": int(len(pats))}, indent=2))
    if not quiet:
        size = paths["assessments"].stat().st_size / 2**20
        print(f"wrote {paths['assessments']} ({rows:,} rows, {size:.0f} MB) and "
              f"{paths['patients']} ({len(pats):,} patients) in {time.perf_counter() - t0:.1f} s")
    return paths


# ------------------------------------------------------------------------ measuring


def _peak_rss_mb() -> float:
    # ru_maxrss is in KiB on Linux, in bytes on macOS
    scale = 1 if sys.platform == "darwin" else 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale / 2**20


def _run_case(case: str, paths: dict[str, str]):
    import pyarrow.csv as pv

    import dryneedle_outcomes as dno

    if case == "reference":
        return pv.read_csv(paths["assessments"]).to_pandas()
    if case == "read_table":
        return dno.read_table(paths["assessments"], table="assessments",
                              string_columns=["patient_id"])
    if case == "load_cohort":
        return dno.load_cohort(paths["assessments"], paths["patients"])
    raise ValueError(f"unknown case {case!r}")


def child_main(case: str, paths: dict[str, str], repeat: int) -> None:
    """Run one case ``repeat`` times in this (fresh) process; print JSON on stdout."""
    import gc
    import warnings

    import numpy  # noqa: F401
    import pandas  # noqa: F401
    import pyarrow  # noqa: F401
    import pyarrow.csv  # noqa: F401

    import dryneedle_outcomes  # noqa: F401

    # the benchmark data are clean; any data warning would be printed once, not hidden
    warnings.simplefilter("once")
    baseline = _peak_rss_mb()
    times = []
    extra: dict = {}
    peak = None
    for _ in range(repeat):
        gc.collect()
        t0 = time.perf_counter()
        result = _run_case(case, paths)
        times.append(time.perf_counter() - t0)
        if peak is None:  # the first run's peak: later runs add allocator fragmentation
            peak = _peak_rss_mb()
        if case == "load_cohort":
            q = result.quality
            extra = {
                "canonical_mb": float(result.assessments.memory_usage(deep=True).sum()) / 2**20,
                "rows": int(len(result.assessments)),
                "balanced": bool(q.balanced),
                "rejected": int(q.counts["rejected"].sum()),
            }
        else:
            frame = result.frame if hasattr(result, "frame") else result
            extra = {"rows": int(len(frame))}
        del result
    print(json.dumps({"case": case, "times": times, "baseline_mb": baseline,
                      "peak_mb": peak, **extra}))


def measure(case: str, paths: dict[str, Path], repeat: int) -> dict:
    """Run ``case`` in a fresh interpreter and return what it measured.

    Linux keeps ``ru_maxrss`` across fork and exec, so this (parent) process must
    stay small: it never imports pandas or builds data itself.
    """
    cmd = [sys.executable, str(Path(__file__).resolve()), "--_child", case,
           "--_paths", json.dumps({k: str(v) for k, v in paths.items()}),
           "--repeat", str(repeat)]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr)
        raise SystemExit(f"case {case} failed (exit code {proc.returncode})")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def make_data_in_subprocess(data_dir: Path, rows: int, seed: int) -> dict[str, Path]:
    """:func:`make_data` in a child process, so this process's peak RSS stays small."""
    cmd = [sys.executable, str(Path(__file__).resolve()), "--_make", "--rows", str(rows),
           "--seed", str(seed), "--data-dir", str(data_dir)]
    proc = subprocess.run(cmd)
    if proc.returncode != 0:
        raise SystemExit(f"writing the benchmark data failed (exit code {proc.returncode})")
    return data_paths(data_dir, rows, seed)


def report(results: dict[str, dict], file_mb: float) -> str:
    canonical = results["load_cohort"]["canonical_mb"]
    ref = min(results["reference"]["times"])
    head = (f"{'case':<12} {'rows':>10} {'seconds':>8} {'x ref':>7} "
            f"{'peak MB':>8} {'x canon':>8}")
    lines = [head, "-" * len(head)]
    for case in CASES:
        r = results[case]
        best = min(r["times"])
        peak = r["peak_mb"] - r["baseline_mb"]
        lines.append(f"{case:<12} {r['rows']:>10,} {best:>8.2f} {best / ref:>7.2f} "
                     f"{peak:>8.0f} {peak / canonical:>8.2f}")
    load = results["load_cohort"]
    t_ratio = min(load["times"]) / ref
    m_ratio = (load["peak_mb"] - load["baseline_mb"]) / canonical
    lines += [
        "",
        f"assessments CSV: {file_mb:.0f} MB on disk; canonical assessments table: "
        f"{canonical:.0f} MB in memory ({load['rows']:,} rows kept, "
        f"{load['rejected']} rejected, ledger balanced: {load['balanced']})",
        f"import baseline RSS (subtracted): {load['baseline_mb']:.0f} MB",
        "reference: pyarrow.csv.read_csv(assessments).to_pandas(), default options",
        f"target time   load <= {TIME_TARGET:g}x reference:   {t_ratio:.2f}x  "
        f"{'OK' if t_ratio <= TIME_TARGET else 'MISSED'}",
        f"target memory peak <= {MEMORY_TARGET:g}x canonical table: {m_ratio:.2f}x  "
        f"{'OK' if m_ratio <= MEMORY_TARGET else 'MISSED'}",
    ]
    return "\n".join(lines)


def profile(paths: dict[str, Path], sort: str, top: int) -> None:
    import cProfile
    import pstats
    import warnings

    import dryneedle_outcomes as dno

    # the benchmark data are clean; any data warning would be printed once, not hidden
    warnings.simplefilter("once")
    # one untimed run first: the modules load_cohort imports on first use would
    # otherwise take a third of the profile
    dno.load_cohort(str(paths["assessments"]), str(paths["patients"]))
    prof = cProfile.Profile()
    prof.enable()
    dno.load_cohort(str(paths["assessments"]), str(paths["patients"]))
    prof.disable()
    stats = pstats.Stats(prof)
    stats.strip_dirs().sort_stats(sort).print_stats(top)


# ----------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000,
                        help="assessment rows to generate (default 1,000,000)")
    parser.add_argument("--repeat", type=int, default=5,
                        help="runs per case and subprocess; the best is shown")
    parser.add_argument("--rounds", type=int, default=2,
                        help="fresh subprocesses per case, the cases taking turns")
    parser.add_argument("--seed", type=int, default=2014)
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR,
                        help="where the generated CSVs live (default benchmarks/_data)")
    parser.add_argument("--profile", action="store_true",
                        help="run load_cohort under cProfile instead of the timing table")
    parser.add_argument("--sort", default="cumulative", choices=("cumulative", "tottime"),
                        help="profile sort order (default cumulative)")
    parser.add_argument("--top", type=int, default=25, help="profile entries to print")
    parser.add_argument("--_child", help=argparse.SUPPRESS)
    parser.add_argument("--_paths", help=argparse.SUPPRESS)
    parser.add_argument("--_make", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args._child:
        child_main(args._child, json.loads(args._paths), max(1, args.repeat))
        return 0
    if args.rows < 1:
        parser.error("--rows must be positive")
    args.data_dir = args.data_dir.resolve()

    if args._make:
        make_data(args.data_dir, args.rows, args.seed)
        return 0
    paths = make_data_in_subprocess(args.data_dir, args.rows, args.seed)
    if args.profile:
        profile(paths, args.sort, args.top)
        return 0
    results: dict[str, dict] = {}
    for _ in range(max(1, args.rounds)):
        for case in CASES:
            r = measure(case, paths, max(1, args.repeat))
            if case in results:  # keep the first round's memory, pool the times
                results[case]["times"] += r["times"]
            else:
                results[case] = r
    for case in CASES:
        times = results[case]["times"]
        print(f"  {case}: best {min(times):.2f} s of {len(times)}", flush=True)
    print()
    print(report(results, paths["assessments"].stat().st_size / 2**20))
    return 0


if __name__ == "__main__":
    sys.exit(main())
