"""Time of reference-based conditional mean imputation with the jackknife, or of
Bayesian multiple imputation (``--approach bayes``: MCMC, rbmi's ``method_bayes``).

    python benchmarks/bench_reference_based.py [--sizes 200 1000 10000] [--visits 6]
                                               [--max-seconds 120] [--repeat 1]
    python benchmarks/bench_reference_based.py --approach bayes [--n-samples 100]
                                               [--warmup 200] [--thin 50] [--trial]

For each size, N patients (two arms, a baseline covariate) x T visits are simulated
with an unstructured-looking covariance (AR(1)-like correlation 0.6, variances growing
over visits) and monotone dropout (about 30 % by the last visit); dropouts get jump to
reference. ``reference_based_mi`` (MMRM imputation model with arm x visit and baseline x
visit, unstructured covariance; conditional mean imputation; ANCOVA per visit; one
warm-started refit, imputation and analysis per left-out patient) is timed end to end.
Issue 13's target: 200 patients x 6 visits under 10 s on 2 cores.

The jackknife does N refits, so its time grows as N^2 in the worst case (each refit
re-imputes and re-analyses all N patients): when a size would take longer than
``--max-seconds`` (extrapolated from a timed run of the first 300 leave-one-out samples),
the table says how long it would take instead of running it. ``cpu_s`` is the process's
CPU time; the load average is printed (the machine is shared). Small matrices dominate:
run with ``OMP_NUM_THREADS=1`` (BLAS threads only add contention here).

``--approach bayes`` times the whole Bayesian MI (REML fit, one Gibbs chain of
``warmup + thin * n_samples`` iterations, ``n_samples`` imputations and ANCOVAs, Rubin's
rules) at each size, the chain's share reported separately; ``--trial`` adds rbmi's
antidepressant trial (172 patients x 4 visits, J2R) when its file is present.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np

from dryneedle_outcomes.stats.imputation import engine as eng
from dryneedle_outcomes.stats.imputation.ancova import ancova
from dryneedle_outcomes.stats.imputation.strategies import impute, missing_patterns, patient_means
from dryneedle_outcomes.stats.mixed.mmrm_refit import MMRMRefitter


def simulate(n: int, T: int, seed: int = 1):
    rng = np.random.default_rng(seed)
    arm = np.repeat([0, 1], [n - n // 2, n // 2])
    base = rng.normal(25.0, 4.0, n)
    sd = np.linspace(3.0, 5.0, T)
    C = 0.6 ** np.abs(np.subtract.outer(np.arange(T), np.arange(T)))
    Sigma = C * np.outer(sd, sd)
    trend = -np.linspace(1.0, 6.0, T)
    y = (0.3 * (base[:, None] - 25.0) + trend * (1.0 + 0.4 * arm[:, None])
         + rng.multivariate_normal(np.zeros(T), Sigma, n))
    drop = rng.integers(1, T + 1, n)                     # first missing visit
    drop = np.where(rng.random(n) < 0.3, drop, T)        # ~30 % drop out
    y[np.arange(T)[None, :] >= drop[:, None]] = np.nan
    return y, arm, base[:, None], drop


def run(n: int, T: int, limit: int | None = None):
    """Seconds (wall, CPU) of the whole analysis, or of its first ``limit`` jackknife
    samples (the full fit plus ``limit`` leave-one-out refit-impute-analyse cycles, made
    with the engine's public pieces exactly as the engine makes them)."""
    y, arm, x, drop = simulate(n, T)
    st = np.where(drop < T, 1, 0)
    ref = np.array([0, 0])
    t0, c0 = time.perf_counter(), time.process_time()
    if limit is None:
        eng.reference_based_mi(y, arm, x, reference=ref, ice_visit=drop, strategy=st)
        return time.perf_counter() - t0, time.process_time() - c0, n
    use = ~np.isnan(y) & ~((np.arange(T)[None, :] >= drop[:, None]) & (st != 0)[:, None])
    pi, vi = np.nonzero(use)
    X = np.column_stack([np.eye(2 * T)[arm[pi] * T + vi], x[pi] * np.eye(T)[vi]])
    refitter = MMRMRefitter(y[pi, vi], X, pi, vi, n_visits=T)
    pats = missing_patterns(y)
    for j in range(limit):
        w = np.ones(n)
        w[j] = 0.0
        r = refitter.refit(w[refitter.patients])
        mean = patient_means(r.beta[:2 * T].reshape(2, T), r.beta[2 * T:].reshape(1, T),
                             arm, x, ref, drop, st)
        ancova(impute(y, mean, r.Sigma, patterns=pats), arm, x, 2, weights=w)
    return time.perf_counter() - t0, time.process_time() - c0, limit


TRIAL = Path("/work/shared/external/rbmi/antidepressant_data.csv")


def antidepressant():
    """rbmi's antidepressant trial as the tests build it (J2R from the first missing
    visit, patient 3618's intermittent value under MAR)."""
    import pandas as pd

    d = pd.read_csv(TRIAL)
    wide = d.pivot(index="PATIENT", columns="VISIT", values="CHANGE").reindex(
        columns=[4, 5, 6, 7])
    pat = d.groupby("PATIENT")[["THERAPY", "BASVAL"]].first().loc[wide.index]
    y = wide.to_numpy(float)
    miss = np.isnan(y)
    ice = np.where(miss.any(axis=1), miss.argmax(axis=1), 4)
    ice[wide.index.to_numpy() == 3618] = 4
    arm = (pat["THERAPY"] == "PLACEBO").to_numpy().astype(int)
    return y, arm, pat["BASVAL"].to_numpy(float)[:, None], ice, np.array([1, 1])


def run_bayes(data, n_samples: int, warmup: int, thin: int):
    """Seconds (wall, CPU) of the whole Bayesian MI and (wall) of its Gibbs chain."""
    from dryneedle_outcomes.stats.imputation import bayes

    y, arm, x, drop, ref = data
    T = y.shape[1]
    st = np.where(drop < T, 1, 0)
    chain = {}
    inner = bayes.mmrm_gibbs

    def timed(*args, **kw):
        t = time.perf_counter()
        out = inner(*args, **kw)
        chain["s"] = time.perf_counter() - t
        return out

    eng.mmrm_gibbs = timed
    try:
        t0, c0 = time.perf_counter(), time.process_time()
        eng.reference_based_mi(y, arm, x, reference=ref, ice_visit=drop, strategy=st,
                               approach="bayes", variance="rubin", n_samples=n_samples,
                               warmup=warmup, thin=thin, seed=1)
        return time.perf_counter() - t0, time.process_time() - c0, chain["s"]
    finally:
        eng.mmrm_gibbs = inner


def main_bayes(a):
    iters = a.warmup + a.thin * a.n_samples
    print(f"load average {os.getloadavg()[0]:.2f}; Bayesian MI (J2R), {a.n_samples} draws, "
          f"warmup {a.warmup}, thin {a.thin}: {iters} Gibbs iterations")
    print(f"{'data':>22} {'seconds':>9} {'cpu_s':>8} {'chain_s':>8} {'ms/iter':>8}")
    cases = [(f"{n} x {a.visits} simulated", lambda n=n: simulate(n, a.visits) +
              (np.array([0, 0]),)) for n in a.sizes]
    if a.trial and TRIAL.is_file():
        cases.insert(0, ("antidepressant 172 x 4", antidepressant))
    for name, make in cases:
        data = make()
        best = None
        for _ in range(a.repeat):
            r = run_bayes(data, a.n_samples, a.warmup, a.thin)
            best = r if best is None or r[0] < best[0] else best
        print(f"{name:>22} {best[0]:>9.2f} {best[1]:>8.2f} {best[2]:>8.2f} "
              f"{1000 * best[2] / iters:>8.2f}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", type=int, nargs="+", default=[200, 1000, 10000])
    ap.add_argument("--visits", type=int, default=6)
    ap.add_argument("--max-seconds", type=float, default=120.0)
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--approach", choices=["conditional_mean", "bayes"],
                    default="conditional_mean")
    ap.add_argument("--n-samples", type=int, default=100)
    ap.add_argument("--warmup", type=int, default=200)
    ap.add_argument("--thin", type=int, default=50)
    ap.add_argument("--trial", action="store_true")
    a = ap.parse_args()
    if a.approach == "bayes":
        return main_bayes(a)
    print(f"load average {os.getloadavg()[0]:.2f}; {a.visits} visits; conditional mean "
          "imputation (J2R) + jackknife")
    print(f"{'patients':>9} {'seconds':>9} {'cpu_s':>8} {'samples':>8}  note")
    for n in a.sizes:
        est = None
        if n > 300:
            wall, cpu, k = run(n, a.visits, limit=300)
            est = wall * n / k
        if est is not None and est > a.max_seconds:
            print(f"{n:>9} {'-':>9} {'-':>8} {k:>8}  would take ~{est:,.0f} s "
                  f"(full fit + {k} leave-one-out samples: {wall:.1f} s; not run)")
            continue
        best = None
        for _ in range(a.repeat):
            r = run(n, a.visits)
            best = r if best is None or r[0] < best[0] else best
        print(f"{n:>9} {best[0]:>9.2f} {best[1]:>8.2f} {best[2]:>8}")


if __name__ == "__main__":
    main()
