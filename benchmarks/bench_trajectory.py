"""Fit times of fit_trajectory, next to R's lme4 and nlme::gls on the same rows.

    python benchmarks/bench_trajectory.py [--sizes 100 1000 10000 100000] [--no-r]
                                          [--gls-max 1000]

For each size a cohort of that many patients x 6 sessions (+ baseline and a
follow-up) is simulated with ``dno.simulate_tables``; ``random_slope`` and ``mmrm``
(unstructured, with its default Kenward-Roger df) are fitted by ``fit_trajectory``
(REML), timed end to end (model frame, fit, Kenward-Roger adjustment, marginal means and
contrasts). When ``Rscript`` is on the PATH the same model
frame is written to CSV and R times ``lme4::lmer(y ~ baseline + arm * visit +
(1 + visit | patient_id))`` and ``nlme::gls(y ~ baseline + arm * factor(visit),
corSymm + varIdent)`` with ``system.time`` (gls only up to ``--gls-max`` patients:
it takes minutes beyond). Issue targets: random slope at most half of lme4's time at
10,000 patients; MMRM at 10,000 patients under 6 s; linear growth.

    python benchmarks/bench_trajectory.py --kr-targets [--repeat 3]

times instead the cases of issue 11 (best of ``--repeat``, end to end through
``fit_trajectory``: model frame, REML fit, Kenward-Roger adjustment once per fit,
marginal means and contrasts): the MMRM with unstructured covariance and
``df="kenward_roger"`` at 1,000 and 10,000 patients (target: within 2x of 0.42 s, the
Satterthwaite fit's time at 10,000 before Kenward-Roger), ``toeplitz_hetero`` and
``ante1_hetero`` (Satterthwaite df) at 10,000 patients (under 2 s), and the sample
cohort's MMRM (``data/sample``) with Kenward-Roger df (under 0.5 s); with the
Satterthwaite time of each for comparison. The machine's load average is printed with
the table: on a shared machine wall-clock times move with it; ``cpu_s`` (CPU seconds
of all this process's threads, best of ``--repeat``) moves much less.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import tempfile
import time
import warnings
from pathlib import Path

import pandas as pd

import dryneedle_outcomes as dno
from dryneedle_outcomes.models.design import model_frame

R_SCRIPT = r"""
suppressPackageStartupMessages({library(lme4); library(nlme)})
args <- commandArgs(trailingOnly = TRUE)
d <- read.csv(args[1]); d$arm <- factor(d$arm, levels = c("sham", "dry_needling"))
t_lmer <- system.time(lmer(y ~ baseline + arm * visit + (1 + visit | patient_id), data = d,
                           REML = TRUE))[["elapsed"]]
t_gls <- NA
if (args[2] == "yes") {
  d$vidx <- match(d$visit, sort(unique(d$visit))); d$fvisit <- factor(d$visit)
  t_gls <- system.time(gls(y ~ baseline + arm * fvisit, data = d, method = "REML",
                           correlation = corSymm(form = ~ vidx | patient_id),
                           weights = varIdent(form = ~ 1 | fvisit)))[["elapsed"]]
}
cat(t_lmer, t_gls, "\n")
"""


SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample"
#: (label, cohort size or "sample", covariance, df, target in seconds, what it is)
KR_CASES = [
    ("mmrm unstructured, KR", 1000, "unstructured", "kenward_roger", 0.84, "2 x 0.42 s"),
    ("mmrm unstructured, KR", 10000, "unstructured", "kenward_roger", 0.84, "2 x 0.42 s"),
    ("mmrm toeplitz_hetero", 10000, "toeplitz_hetero", "satterthwaite", 2.0, "< 2 s"),
    ("mmrm ante1_hetero", 10000, "ante1_hetero", "satterthwaite", 2.0, "< 2 s"),
    ("sample's mmrm, KR", "sample", "unstructured", "kenward_roger", 0.5, "< 0.5 s"),
]


def _best(cohort, repeat: int, **kw) -> tuple[float, float, bool]:
    """Best wall-clock and best CPU seconds (all threads of this process) of ``repeat``."""
    best, best_cpu, converged = float("inf"), float("inf"), False
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        with warnings.catch_warnings(record=True):
            warnings.simplefilter("always")
            fit = dno.fit_trajectory(cohort, model="mmrm", **kw)
        best = min(best, time.perf_counter() - t0)
        best_cpu = min(best_cpu, time.process_time() - c0)
        converged = bool(fit.converged)
    return best, best_cpu, converged


def kr_targets(repeat: int) -> None:
    """The issue-11 table: best-of-``repeat`` times against their targets."""
    cohorts: dict = {}
    rows = []
    for label, size, covariance, df, target, what in KR_CASES:
        if size not in cohorts:
            if size == "sample":
                with warnings.catch_warnings(record=True):
                    warnings.simplefilter("always")
                    cohorts[size] = dno.load_cohort(
                        "assessments.csv", "patients.xlsx", "adverse_events.csv",
                        mapping="mapping.toml", errors="quarantine", base_dir=SAMPLE)
            else:
                sim = dno.simulate_tables(n_patients=size, seed=size, record_scales="mm")
                cohorts[size] = dno.load_cohort(sim.assessments, sim.patients)
        cohort = cohorts[size]
        t, cpu, ok = _best(cohort, repeat, covariance=covariance, df=df)
        row = {"case": label, "patients": cohort.n_patients, "seconds": t, "cpu_s": cpu,
               "target": what, "met": t <= target, "converged": ok}
        if df != "satterthwaite":
            row["satterthwaite_s"], row["satterthwaite_cpu_s"], _ = _best(
                cohort, repeat, covariance=covariance, df="satterthwaite")
        rows.append(row)
        print(pd.DataFrame([row]).to_string(index=False), flush=True)
    print()
    print(pd.DataFrame(rows).to_string(index=False, float_format=lambda x: f"{x:.3f}"))
    print(f"best of {repeat}; load average (1, 5, 15 min): "
          + ", ".join(f"{x:.1f}" for x in os.getloadavg()) + f" on {os.cpu_count()} cores")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[100, 1000, 10000, 100000])
    ap.add_argument("--no-r", action="store_true", help="do not time R")
    ap.add_argument("--gls-max", type=int, default=1000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--kr-targets", action="store_true",
                    help="time the issue-11 cases (Kenward-Roger, Toeplitz, ante-dependence)")
    args = ap.parse_args()
    if args.kr_targets:
        kr_targets(args.repeat)
        return
    have_r = shutil.which("Rscript") is not None and not args.no_r
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "bench.R"
        script.write_text(R_SCRIPT)
        for n in args.sizes:
            sim = dno.simulate_tables(n_patients=n, seed=n, record_scales="mm")
            cohort = dno.load_cohort(sim.assessments, sim.patients)
            row = {"patients": n, "rows": len(model_frame(cohort, "first_step_pain",
                                                          adjust=("baseline",)).data)}
            for model in ("random_slope", "mmrm"):
                best = float("inf")
                for _ in range(args.repeat if n <= 10000 else 1):
                    t0 = time.perf_counter()
                    with warnings.catch_warnings(record=True):
                        warnings.simplefilter("always")
                        # random_slope on the visit index, as the lme4 formula
                        fit = dno.fit_trajectory(
                            cohort, model=model,
                            **({"time": "visit"} if model == "random_slope" else {}))
                    best = min(best, time.perf_counter() - t0)
                row[f"{model}_s"] = best
                row[f"{model}_converged"] = fit.converged
            if have_r:
                path = Path(tmp) / f"frame_{n}.csv"
                frame = model_frame(cohort, "first_step_pain", adjust=("baseline",)).data
                frame[["patient_id", "arm", "visit", "y", "baseline"]].to_csv(path, index=False)
                out = subprocess.run(
                    ["Rscript", str(script), str(path), "yes" if n <= args.gls_max else "no"],
                    capture_output=True, text=True, check=True).stdout.split()
                row["lme4_s"] = float(out[0])
                row["gls_s"] = float(out[1]) if out[1] != "NA" else float("nan")
            rows.append(row)
            print(pd.DataFrame([row]).to_string(index=False), flush=True)
    table = pd.DataFrame(rows)
    if have_r:
        table["slope_vs_lme4"] = table["random_slope_s"] / table["lme4_s"]
        table["mmrm_vs_gls"] = table["mmrm_s"] / table["gls_s"]
    print()
    print(table.to_string(index=False, float_format=lambda x: f"{x:.3g}"))
    print("targets: random_slope <= 0.5 x lme4 at 10,000 patients; mmrm < 6 s at 10,000")


if __name__ == "__main__":
    main()
