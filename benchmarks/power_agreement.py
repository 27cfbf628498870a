"""Agreement of simulated power with outside references, at many trials: a printed table.

Usage::

    python benchmarks/power_agreement.py [--trials-mmrm 1000] [--trials-fast 20000]
                                         [--jobs 2] [--only SECTION ...]

SECTION: ancova, ttest, llc, responders, relief, type1 (default all).

Each row compares the power ``dno.simulate_power`` estimates with a reference computed
independently of the package (the functions of ``tests/reference/power/
power_reference_values.py``, which the test suite checks against R longpower's printed
numbers and statsmodels):

- ``ancova`` / ``mmrm-1visit``: one post-baseline visit, no dropout, baseline-adjusted:
  ``-exact`` against the exact power with a random baseline (Shieh 2020; checked
  against R pwrss's printed numbers), ``-bal`` against the issue's closed form, which
  assumes balanced baselines (noncentral t, ``ncp = effect / (sd sqrt(1 - rho^2)
  sqrt(2/n))``, ``df = 2n - 3``) and overstates the power by about 0.01 at 10-20
  patients per arm.
- ``ttest``: ``analysis="ancova", adjust_baseline=False`` against statsmodels'
  ``TTestIndPower``.
- ``llc``: the unstructured MMRM with three visits and MCAR dropout against Lu, Luo & Chen
  (2008; R's ``longpower::power.mmrm``), on the covariance given the baseline.
- ``responders``: responders at the last visit (improvement >= 12 on a 0-100-like
  scale, 20% MCAR dropout counted as non-response), Fisher's exact test, against its
  exact power by enumerating both binomial counts.
- ``relief``: time to relief with one visit and no dropout (unconfirmed relief), the
  interval-censored log-rank test, against its exact power by enumeration.
- ``type1``: effect 0, rejection rate against ``alpha`` (MMRM, ANCOVA, time to relief
  with six visits and confirmed relief; Fisher's test is conservative, so its size is
  compared with the exact size instead, in the ``responders`` rows at effect 0).

``z`` is (simulated - reference) / Monte Carlo SE, the SE ``sqrt(p (1 - p) / trials)`` at
the reference ``p``; ``|z| < 3`` is agreement within Monte Carlo error. The tests
(``tests/test_power.py``, ``tests/test_power_reference.py``) make the same comparisons
with fewer trials; this script is the large-trial version quoted in
``benchmarks/README.md``.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

import dryneedle_outcomes as dno

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "reference" / "power"))
import power_reference_values as ref  # noqa: E402


def row(name: str, n: int, simulated: float, reference: float, trials: int,
        seconds: float) -> None:
    se = np.sqrt(reference * (1 - reference) / trials)
    z = (simulated - reference) / se
    print(f"{name:<18} {n:>5} {trials:>7} {simulated:>9.4f} {reference:>9.4f} {se:>7.4f} "
          f"{z:>6.2f} {seconds:>7.1f}", flush=True)


def timed(**kwargs):
    t0 = time.perf_counter()
    res = dno.simulate_power(**kwargs)
    return res, time.perf_counter() - t0


def ancova_rows(args) -> None:
    for analysis, trials in (("ancova", args.trials_fast), ("mmrm", args.trials_mmrm)):
        res, s = timed(n_per_arm=[10, 20, 40, 80], n_trials=trials, seed=101,
                       analysis=analysis, n_jobs=args.jobs, visits=[6], effect=0.5,
                       sd=1.0, rho=0.5)
        name = "ancova" if analysis == "ancova" else "mmrm-1visit"
        for n, p in res.table[["n_per_arm", "power"]].itertuples(index=False):
            row(f"{name}-exact", n, p, ref.ancova_power_unconditional(n, 0.5, 1.0, 0.5),
                trials, s / len(res.table))
            row(f"{name}-bal", n, p, ref.analytic_ancova_power(n, 0.5, 1.0, 0.5), trials,
                s / len(res.table))


def ttest_rows(args) -> None:
    from statsmodels.stats.power import TTestIndPower

    res, s = timed(n_per_arm=[10, 20, 40, 80], n_trials=args.trials_fast, seed=102,
                   analysis="ancova", adjust_baseline=False, n_jobs=args.jobs,
                   visits=[6], effect=0.5, sd=1.0, rho=0.5)
    for n, p in res.table[["n_per_arm", "power"]].itertuples(index=False):
        expected = TTestIndPower().power(effect_size=0.5, nobs1=n, alpha=0.05, ratio=1.0)
        row("ttest", n, p, expected, args.trials_fast, s / len(res.table))


def llc_rows(args) -> None:
    d = dno.TrialDesign(visits=[2, 4, 6], effect=0.5, sd=1.0, correlation="exchangeable",
                        rho=0.5, dropout=[0.1, 0.2, 0.3])
    corr, sigma = ref.condition_on_baseline(d.covariance)
    res, s = timed(n_per_arm=[20, 40, 60, 80], n_trials=args.trials_mmrm, seed=103,
                   analysis="mmrm", n_jobs=args.jobs, design=d)
    for n, p in res.table[["n_per_arm", "power"]].itertuples(index=False):
        expected = ref.lu_luo_chen_power(2 * n, corr, 1 - d.dropout, sigma=sigma, delta=0.5)
        row("llc-mmrm", n, p, expected, args.trials_mmrm, s / len(res.table))


def responder_rows(args) -> None:
    for effect in (-10.0, 0.0):
        res, s = timed(n_per_arm=[20, 40, 60, 80], n_trials=args.trials_fast, seed=105,
                       analysis="responders", definition=dno.Relief(mcid=12.0),
                       n_jobs=args.jobs, visits=[2, 4, 6], effect=effect, sd=20.0,
                       rho=0.5, baseline_mean=60.0, dropout=0.2)
        p1, p0 = ref.responder_probabilities(effect=effect, sd=20.0, rho=0.5, dropout=0.2,
                                             mcid=12.0)
        for n, p in res.table[["n_per_arm", "power"]].itertuples(index=False):
            row(f"fisher-d{effect:g}", n, p, ref.exact_two_binomial_power(n, p1, p0),
                args.trials_fast, s / len(res.table))


def relief_rows(args) -> None:
    trials = args.trials_mmrm * 4
    res, s = timed(n_per_arm=[25, 50, 75], n_trials=trials, seed=106,
                   analysis="time_to_relief", definition=dno.Relief(mcid=12.0),
                   n_jobs=args.jobs, visits=[6], effect=-10.0, sd=20.0, rho=0.5,
                   baseline_mean=60.0)
    p1, p0 = ref.responder_probabilities(effect=-10.0, sd=20.0, rho=0.5, dropout=0.0,
                                         mcid=12.0)
    for n, p in res.table[["n_per_arm", "power"]].itertuples(index=False):
        row("relief-1visit", n, p, ref.exact_relief_power_one_visit(n, p1, p0), trials,
            s / len(res.table))


def type1_rows(args) -> None:
    for analysis, trials in (("ancova", args.trials_fast), ("mmrm", args.trials_mmrm)):
        res, s = timed(n_per_arm=[20, 60], n_trials=trials, seed=104, analysis=analysis,
                       n_jobs=args.jobs, visits=[2, 4, 6], effect=0.0, sd=1.0,
                       correlation="ar1", rho=0.6, dropout=0.2)
        for n, p in res.table[["n_per_arm", "power"]].itertuples(index=False):
            row(f"type1-{analysis}", n, p, 0.05, trials, s / len(res.table))
    trials = args.trials_mmrm * 4
    res, s = timed(n_per_arm=[20, 60], n_trials=trials, seed=107, analysis="time_to_relief",
                   definition=dno.Relief(mcid=12.0, sustained=True), n_jobs=args.jobs,
                   visits=[1, 2, 3, 4, 5, 6], effect=0.0, sd=20.0, rho=0.6,
                   baseline_mean=60.0, dropout=0.2)
    for n, p in res.table[["n_per_arm", "power"]].itertuples(index=False):
        row("type1-relief", n, p, 0.05, trials, s / len(res.table))


SECTIONS = {"ancova": ancova_rows, "ttest": ttest_rows, "llc": llc_rows,
            "responders": responder_rows, "relief": relief_rows, "type1": type1_rows}


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--trials-mmrm", type=int, default=1000)
    p.add_argument("--trials-fast", type=int, default=20000)
    p.add_argument("--jobs", type=int, default=2)
    p.add_argument("--only", nargs="+", choices=list(SECTIONS), default=list(SECTIONS))
    args = p.parse_args(argv)
    print(f"{'comparison':<18} {'n/arm':>5} {'trials':>7} {'simulated':>9} {'reference':>9} "
          f"{'MC SE':>7} {'z':>6} {'s/n':>7}")
    for name in args.only:
        SECTIONS[name](args)


if __name__ == "__main__":
    main()
