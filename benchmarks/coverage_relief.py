"""Coverage of the time-to-relief intervals when the truth is known.

    python benchmarks/coverage_relief.py [--trials 200] [--patients 100] [--n-boot 200]

Each trial simulates two arms of ``--patients`` patients whose true relief times are
Weibull (shape 1.3; scale 30 days in the reference arm, times 0.6 in the other: time
ratio 0.6, hazard ratio 0.6^-1.3 = 1.94), observed at weekly visits (days 7, 14, ...,
84, +-1 day jitter, 10% of visits missed, exponential dropout with mean 150 days): each
patient's relief is known only to lie between two visits, exactly the intervals
:func:`~dryneedle_outcomes.survival.events.derive_relief_events` produces. It then
checks how often the nominal 95% intervals contain the truth:

- Turnbull bootstrap bands at days 14, 28 and 42, and the bootstrap median CI
  (reference arm);
- the interval-censored Weibull AFT Wald CI of the time ratio;
- for contrast, the right-censored view most papers report: Kaplan-Meier log-log CIs at
  the same days and the median CI (relief dated at the visit that shows it), and the Cox
  CI of the hazard ratio. These are expected to cover *less*: dating relief at the next
  visit shifts every time upwards.

Prints coverage with its Monte-Carlo standard error. Target for the interval-censored
methods: 93.5-96.5% at 200+ trials (pointwise Turnbull bootstrap bands are known to be
somewhat conservative or liberal at small n; the numbers say which).
"""

from __future__ import annotations

import argparse
import math
import time

import numpy as np
import pandas as pd
from tqdm.auto import trange

from dryneedle_outcomes.stats.survival.aft import fit_aft
from dryneedle_outcomes.stats.survival.cox import fit_cox
from dryneedle_outcomes.stats.survival.kaplan_meier import kaplan_meier
from dryneedle_outcomes.stats.survival.turnbull import turnbull_bootstrap

SHAPE, SCALE, TIME_RATIO = 1.3, 30.0, 0.6
TIMES = np.array([14.0, 28.0, 42.0])
VISITS = np.arange(7.0, 85.0, 7.0)


def true_survival(t, scale):
    return np.exp(-(np.asarray(t) / scale) ** SHAPE)


def simulate(rng: np.random.Generator, n: int) -> pd.DataFrame:
    """One trial: 2n patients, intervals (lower, upper] from weekly visits (vectorised)."""
    arm = np.repeat([0, 1], n)
    scale = np.where(arm == 1, SCALE * TIME_RATIO, SCALE)
    t_true = scale * rng.weibull(SHAPE, 2 * n)
    visits = VISITS[None, :] + rng.integers(-1, 2, (2 * n, len(VISITS)))
    dropout = rng.exponential(150.0, 2 * n)
    seen = (rng.random(visits.shape) > 0.10) & (visits <= dropout[:, None])
    after = seen & (visits >= t_true[:, None])
    has = after.any(axis=1)
    first = np.where(has, np.argmax(after, axis=1), 0)
    upper = np.where(has, visits[np.arange(2 * n), first], np.inf)
    before = seen & (visits < t_true[:, None])
    lower = np.where(before, visits, 0.0).max(axis=1)
    return pd.DataFrame({"arm": arm, "lower": lower, "upper": upper})


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trials", type=int, default=200)
    ap.add_argument("--patients", type=int, default=100, help="per arm")
    ap.add_argument("--n-boot", type=int, default=200)
    ap.add_argument("--seed", type=int, default=2014)
    args = ap.parse_args()
    rng = np.random.default_rng(args.seed)
    s_true = true_survival(TIMES, SCALE)
    median_true = SCALE * math.log(2) ** (1 / SHAPE)
    log_hr = -SHAPE * math.log(TIME_RATIO)
    hits: dict[str, list] = {k: [] for k in (
        "turnbull_band_d14", "turnbull_band_d28", "turnbull_band_d42", "turnbull_median",
        "weibull_time_ratio", "km_upper_d14", "km_upper_d28", "km_upper_d42",
        "km_upper_median", "cox_upper_hazard_ratio")}
    t0 = time.perf_counter()
    for i in trange(args.trials, desc="trials"):
        d = simulate(rng, args.patients)
        ref = d[d["arm"] == 0]
        b = turnbull_bootstrap(ref["lower"].to_numpy(), ref["upper"].to_numpy(), times=TIMES,
                               n_boot=args.n_boot, seed=args.seed + i, progress=False)
        inside = (b.bands["ci_lower"] <= s_true) & (s_true <= b.bands["ci_upper"])
        for k, ok in zip(("d14", "d28", "d42"), inside):
            hits[f"turnbull_band_{k}"].append(bool(ok))
        m = b.median.iloc[0]
        hits["turnbull_median"].append(bool(m["ci_lower"] <= median_true <= m["ci_upper"]))

        X = pd.DataFrame({"arm": d["arm"].to_numpy(dtype=float)})
        keep = ~((d["lower"] == 0) & np.isinf(d["upper"])).to_numpy()
        fit = fit_aft(d["lower"].to_numpy()[keep], d["upper"].to_numpy()[keep],
                      X[keep].reset_index(drop=True), distribution="weibull")
        row = fit.table.set_index("term").loc["arm"]
        hits["weibull_time_ratio"].append(bool(row["ci_lower"] <= TIME_RATIO
                                               <= row["ci_upper"]))

        event = np.isfinite(d["upper"].to_numpy())
        t_rc = np.where(event, d["upper"], d["lower"])
        km = kaplan_meier(t_rc[d["arm"] == 0], event[d["arm"] == 0].astype(int))
        at = km.survival_at(TIMES)
        inside = (at["ci_lower"] <= s_true) & (s_true <= at["ci_upper"])
        for k, ok in zip(("d14", "d28", "d42"), inside):
            hits[f"km_upper_{k}"].append(bool(ok))
        med = km.median()
        hits["km_upper_median"].append(bool(med["ci_lower"] <= median_true
                                            <= med["ci_upper"]))
        cox = fit_cox(t_rc, event.astype(int), X)
        r = cox.table.iloc[0]
        hits["cox_upper_hazard_ratio"].append(bool(r["ci_lower"] <= math.exp(log_hr)
                                                   <= r["ci_upper"]))
    elapsed = time.perf_counter() - t0
    rows = []
    for k, v in hits.items():
        p = float(np.mean(v))
        rows.append({"interval": k, "coverage_%": 100 * p,
                     "mc_se_%": 100 * math.sqrt(p * (1 - p) / len(v))})
    print(pd.DataFrame(rows).to_string(index=False, float_format=lambda x: f"{x:.1f}"))
    print(f"{args.trials} trials of 2 x {args.patients} patients, {args.n_boot} bootstrap "
          f"replicates, {elapsed:.0f} s; truth: S(14, 28, 42) = "
          f"{', '.join(f'{s:.3f}' for s in s_true)}, median {median_true:.1f} days, "
          f"time ratio {TIME_RATIO}, hazard ratio {math.exp(log_hr):.2f}")
    print("target for the interval-censored methods: 93.5-96.5%")


if __name__ == "__main__":
    main()
