"""Benchmark simulation-based power: seconds per run of ``dno.simulate_power``.

Usage::

    python benchmarks/bench_power.py [--trials 100 1000] [--analysis ancova mmrm]
                                     [--jobs 1 2] [--n 100] [--visits 6]
                                     [--client local]

Each case simulates ``--trials`` trials of 2 x ``--n`` patients with ``--visits``
post-baseline visits (AR(1) correlation 0.6 over baseline and visits, SD 1, 20%
dropout by the last visit, MCAR), analyses each with ``--analysis`` and runs on
``--jobs`` processes (joblib). Time is wall clock (``time.perf_counter``) of one run,
joblib's process start-up included; the machine is shared, so single runs vary.

Issue 15's target: 1,000 trials of 2 x 100 patients x 6 visits by unstructured MMRM in
under 60 s with ``n_jobs=2``. The time grows linearly with the number of trials (each
trial is one independent fit), so ``seconds * 1000 / trials`` is printed as the
projection when fewer trials are run.

``--client local`` adds, for each case, a run on a 2-worker Dask ``LocalCluster``
(processes, one thread each; ``pip install -e ".[cluster]"``) next to the joblib runs,
and checks that its table equals the ``n_jobs=1``-equivalent local one. The cluster is
started once, before the timings (its start-up is not counted; joblib's is). Issue
15's target: the cluster within 1.5x of joblib with ``n_jobs=2``.
"""

from __future__ import annotations

import argparse
import time

import dryneedle_outcomes as dno


def run(trials: int, analysis: str, jobs: int, n: int, visits: int,
        client=None) -> tuple[float, object]:
    t0 = time.perf_counter()
    res = dno.simulate_power(n_per_arm=n, n_trials=trials, seed=1, analysis=analysis,
                             n_jobs=jobs, visits=list(range(1, visits + 1)), effect=0.3,
                             sd=1.0, correlation="ar1", rho=0.6, dropout=0.2,
                             client=client)
    seconds = time.perf_counter() - t0
    assert res.table["n_trials"].iloc[0] == trials
    return seconds, res


def cases(args, client) -> None:
    for trials in args.trials:
        for analysis in args.analysis:
            tables = []
            for jobs in args.jobs:
                s, res = run(trials, analysis, jobs, args.n, args.visits)
                tables.append(res.table)
                print(f"{trials:>8} {analysis:>8} {jobs:>6} {s:>8.2f} "
                      f"{s * 1000 / trials:>14.1f}", flush=True)
            if client is not None:
                s, res = run(trials, analysis, 1, args.n, args.visits, client=client)
                assert all(res.table.equals(t) for t in tables)
                print(f"{trials:>8} {analysis:>8} {'dask2':>6} {s:>8.2f} "
                      f"{s * 1000 / trials:>14.1f}", flush=True)


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--trials", type=int, nargs="+", default=[100])
    p.add_argument("--analysis", nargs="+", default=["ancova", "mmrm"])
    p.add_argument("--jobs", type=int, nargs="+", default=[1, 2])
    p.add_argument("--n", type=int, default=100)
    p.add_argument("--visits", type=int, default=6)
    p.add_argument("--client", choices=["local"], default=None,
                   help="also run on a 2-worker Dask LocalCluster (row 'dask2')")
    args = p.parse_args(argv)
    print(f"2 x {args.n} patients x {args.visits} visits, 20% dropout")
    print(f"{'n_trials':>8} {'analysis':>8} {'n_jobs':>6} {'seconds':>8} "
          f"{'s/1000 trials':>14}")
    if args.client is None:
        cases(args, None)
        return
    from dask.distributed import Client, LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=None) as cluster, Client(cluster) as client:
        cases(args, client)


if __name__ == "__main__":
    main()
