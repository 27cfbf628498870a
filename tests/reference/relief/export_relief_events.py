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

import importlib.util
from pathlib import Path

import numpy as np

import dryneedle_outcomes as dno
from dryneedle_outcomes.survival.events import derive_relief_events
from dryneedle_outcomes.survival.relief import Relief

HERE = Path(__file__).resolve().parent

CASES = {
    "sample_days_mcid": ("sample", Relief(mcid=True), "days"),
    "sample_sessions_pct50": ("sample", Relief(percent_reduction=50), "sessions"),
    "dropout_days_thr20s": ("dropout", Relief(threshold=20, sustained=True), "days"),
}


def _trajectory_export():
    """The trajectory references' export script: the same two cohorts are used here."""
    path = HERE.parent / "trajectory" / "export_frames.py"
    spec = importlib.util.spec_from_file_location("trajectory_export_frames", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def sample_cohort() -> dno.Cohort:
    """The bundled sample cohort (data/sample), loaded with quarantine."""
    return _trajectory_export().sample_cohort()


def dropout_cohort() -> dno.Cohort:
    """240 simulated patients with 35% dropout and 8% isolated missed visits."""
    return _trajectory_export().dropout_cohort()


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
