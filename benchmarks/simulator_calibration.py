"""Check the simulator's between-patient variability against Cotchett et al. (2014).

    python benchmarks/simulator_calibration.py                 # one large trial per setting
    python benchmarks/simulator_calibration.py --trials 200    # also 200 trials of 84

Target: Cotchett MP, Munteanu SE, Landorf KB. Phys Ther 2014;94(8):1083-94 report a
real-minus-sham difference in first-step pain at 6 weeks of -14.4 mm (95% CI -23.5 to
-5.2) with 84 participants (42 per arm): a standard error of (23.5 - 5.2) / (2 x 1.99)
= 4.60 mm (t quantile with about 80 df). The primary analysis of the sample
(``data/sample/analysis.toml``: MMRM, unstructured covariance, baseline adjusted,
Kenward-Roger df) fitted to trials drawn by ``dno.simulate.simulate_cohort`` with its
default parameters should have an expected SE of about 4.6 mm at visit 6 with 42 per
arm.

Two checks, each without dropout (``dropout=0``: the complete-data SE the variance
components are calibrated to) and with the default 10% MCAR dropout:

* ``large``: one trial of ``--large`` patients (default 8,400); its model-based SE times
  ``sqrt(n / 84)`` is the SE at 42 per arm (the SE of a fixed effect scales as
  ``1 / sqrt(n)``; the large trial makes the Monte Carlo error of that SE small);
* ``trials``: ``--trials`` trials of 84 (default 0 = skip): the mean model-based SE and
  the empirical SD of the estimates (Monte Carlo SE of an SD of K estimates about
  ``SD / sqrt(2 (K - 1))``).

Results are printed and written to ``tests/reference/simulator_calibration/results.csv``
(``--out``); see that folder's README for the tolerance.
"""

from __future__ import annotations

import argparse
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

import dryneedle_outcomes as dno
from dryneedle_outcomes.simulate import SimulationParameters
from dryneedle_outcomes.simulate.parameters import conditional_sd

TARGET_SE = 4.60
N_TRIAL = 84
OUT = Path(__file__).resolve().parents[1] / "tests" / "reference" / "simulator_calibration"


def visit6(n: int, seed: int, dropout: float) -> tuple[float, float]:
    """(estimate, model-based SE) of the visit-6 difference of one simulated trial."""
    with warnings.catch_warnings(record=True):  # protocol-deviation notices of the loader
        warnings.simplefilter("always")
        cohort = dno.simulate_cohort(n, seed=seed, dropout=dropout)
        fit = dno.fit_trajectory(cohort, model="mmrm", covariance="unstructured",
                                 df="kenward_roger", adjust=("baseline",),
                                 reference_arm="sham")
    row = fit.comparison.set_index("visit").loc[6]
    return float(row["estimate"]), float(row["std_error"])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--large", type=int, default=8400)
    ap.add_argument("--trials", type=int, default=0)
    ap.add_argument("--seed", type=int, default=2014)
    ap.add_argument("--out", default=str(OUT / "results.csv"))
    args = ap.parse_args()
    sd6 = conditional_sd(SimulationParameters(), 6.0)
    print(f"implied SD at week 6 given baseline: {sd6:.2f} mm; complete-data SE at 42/arm "
          f"about {sd6 * np.sqrt(2 / 42):.2f} mm (target {TARGET_SE})")
    rows = []
    for dropout in (0.0, 0.10):
        t0 = time.perf_counter()
        est, se = visit6(args.large, args.seed, dropout)
        rows.append({"check": "large", "dropout": dropout, "n_patients": args.large,
                     "trials": 1, "estimate": est, "se_at_84": se * np.sqrt(args.large / N_TRIAL),
                     "sd_estimates_at_84": np.nan, "mc_se": np.nan,
                     "seconds": time.perf_counter() - t0})
        print(rows[-1], flush=True)
        if args.trials:
            t0 = time.perf_counter()
            seeds = np.random.SeedSequence([args.seed, int(dropout * 100)]).generate_state(
                args.trials)
            res = np.array([visit6(N_TRIAL, int(s), dropout) for s in seeds])
            sd = res[:, 0].std(ddof=1)
            rows.append({"check": "trials", "dropout": dropout, "n_patients": N_TRIAL,
                         "trials": args.trials, "estimate": res[:, 0].mean(),
                         "se_at_84": res[:, 1].mean(), "sd_estimates_at_84": sd,
                         "mc_se": sd / np.sqrt(2 * (args.trials - 1)),
                         "seconds": time.perf_counter() - t0})
            print(rows[-1], flush=True)
    out = pd.DataFrame(rows)
    print(out.to_string(index=False, float_format=lambda x: f"{x:.3f}"))
    out.to_csv(args.out, index=False, float_format="%.4f")


if __name__ == "__main__":
    main()
