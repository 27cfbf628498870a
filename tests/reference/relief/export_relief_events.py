"""Write the relief events that tests/reference/relief/make_reference.R analyses.

    python tests/reference/relief/export_relief_events.py   (from the repository root)
    Rscript tests/reference/relief/make_reference.R

Three cases: the sample cohort (data/sample, days, MCID), the same cohort on the
sessions timescale with relief = 50% reduction, and a heavy-dropout simulated cohort
(days, first-step pain <= 20 mm sustained, adjusted for baseline, stratified by site).
Right-censored upper bounds are written as NA, as survival's interval2 expects. Also the
sample's soreness reports (sample_soreness.csv, one row per needled session).
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np

import dryneedle_outcomes as dno
from dryneedle_outcomes.survival.events import derive_relief_events
from dryneedle_outcomes.survival.relief import Relief

HERE = Path(__file__).resolve().parent
SAMPLE = HERE.parents[2] / "data" / "sample"

CASES = {
    "sample_days_mcid": ("sample", Relief(mcid=True), "days"),
    "sample_sessions_pct50": ("sample", Relief(percent_reduction=50), "sessions"),
    "dropout_days_thr20s": ("dropout", Relief(threshold=20, sustained=True), "days"),
}


def sample_cohort() -> dno.Cohort:
    with warnings.catch_warnings(record=True):  # the sample's planted protocol deviation
        warnings.simplefilter("always")
        return dno.load_cohort("assessments.csv", "patients.xlsx", "adverse_events.csv",
                               mapping="mapping.toml", errors="quarantine", base_dir=SAMPLE)


def dropout_cohort() -> dno.Cohort:
    sim = dno.simulate_tables(n_patients=240, seed=99, dropout=0.35)
    a = sim.assessments
    rng = np.random.default_rng(99)
    missed = (a["visit"] > 0) & (rng.random(len(a)) < 0.08)  # isolated missed visits
    return dno.load_cohort(a.loc[~missed].reset_index(drop=True), sim.patients)


def cohorts() -> dict[str, dno.Cohort]:
    return {"sample": sample_cohort(), "dropout": dropout_cohort()}


def main() -> None:
    made = cohorts()
    from dryneedle_outcomes.survival.soreness import soreness_events

    sore, _ = soreness_events(made["sample"])
    sore = sore.assign(upper=sore["upper"].where(np.isfinite(sore["upper"])))
    sore.drop(columns="ongoing").to_csv(HERE / "sample_soreness.csv", index=False, na_rep="NA")
    for name, (which, relief, timescale) in CASES.items():
        cohort = made[which]
        ev = derive_relief_events(cohort, "first_step_pain", relief, timescale=timescale).events
        ev = ev.merge(cohort.patients[["patient_id", "site"]], on="patient_id", how="left")
        out = ev[["patient_id", "arm", "lower", "upper", "time", "event", "baseline", "site"]]
        out = out.assign(upper=out["upper"].where(np.isfinite(out["upper"])))
        out.to_csv(HERE / f"{name}.csv", index=False, na_rep="NA")


if __name__ == "__main__":
    main()
