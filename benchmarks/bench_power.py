"""Benchmark simulation-based power: seconds per run of ``dno.simulate_power``.

Usage::

    python benchmarks/bench_power.py [--trials 100 1000] [--analysis ancova mmrm]
                                     [--jobs 1 2] [--n 100] [--visits 6]

Each case simulates ``--trials`` trials of 2 x ``--n`` patients with ``--visits``
post-baseline visits (AR(1) correlation 0.6 over baseline and visits, SD 1, 20%
dropout by the last visit, MCAR), analyses each with ``--analysis`` and runs on
``--jobs`` processes (joblib). Time is wall clock (``time.perf_counter``) of one run,
joblib's process start-up included; the machine is shared, so single runs vary.

Issue 15's target: 1,000 trials of 2 x 100 patients x 6 visits by unstructured MMRM in
under 60 s with ``n_jobs=2``. The time grows linearly with the number of trials (each
trial is one independent fit), so ``seconds * 1000 / trials`` is printed as the
projection when fewer trials are run.
"""

from __future__ import annotations

import argparse
import time

import dryneedle_outcomes as dno


def run(trials: int, analysis: str, jobs: int, n: int, visits: int) -> float:
    t0 = time.perf_counter()
    res = dno.simulate_power(n_per_arm=n, n_trials=trials, seed=1, analysis=analysis,
                             n_jobs=jobs, visits=list(range(1, visits + 1)), effect=0.3,
                             sd=1.0, correlation="ar1", rho=0.6, dropout=0.2)
    seconds = time.perf_counter() - t0
    assert res.table["n_trials"].iloc[0] == trials
    return seconds


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--trials", type=int, nargs="+", default=[100])
    p.add_argument("--analysis", nargs="+", default=["ancova", "mmrm"])
    p.add_argument("--jobs", type=int, nargs="+", default=[1, 2])
    p.add_argument("--n", type=int, default=100)
    p.add_argument("--visits", type=int, default=6)
    args = p.parse_args(argv)
    print(f"2 x {args.n} patients x {args.visits} visits, 20% dropout")
    print(f"{'n_trials':>8} {'analysis':>8} {'n_jobs':>6} {'seconds':>8} "
          f"{'s/1000 trials':>14}")
    for trials in args.trials:
        for analysis in args.analysis:
            for jobs in args.jobs:
                s = run(trials, analysis, jobs, args.n, args.visits)
                print(f"{trials:>8} {analysis:>8} {jobs:>6} {s:>8.2f} "
                      f"{s * 1000 / trials:>14.1f}", flush=True)


if __name__ == "__main__":
    main()
