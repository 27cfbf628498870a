"""Write the model frames that make_reference.R fits (run from the repository root).

    python tests/reference/trajectory/export_frames.py

Two data sets: the bundled sample cohort (data/sample, first-step pain) and a
simulated cohort with heavy dropout and missed visits. Each frame is exactly the
rows fit_trajectory models (built by its own model_frame), so the R fits and ours
see the same data; ``week`` is the time scale of the linear-time models by default
(the assessment's day since baseline / 7).
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np

import dryneedle_outcomes as dno
from dryneedle_outcomes.models.design import model_frame

HERE = Path(__file__).resolve().parent
SAMPLE = HERE.parents[2] / "data" / "sample"


def sample_cohort() -> dno.Cohort:
    with warnings.catch_warnings(record=True):  # the sample's protocol deviation
        warnings.simplefilter("always")
        return dno.load_cohort("assessments.csv", "patients.xlsx", "adverse_events.csv",
                               mapping="mapping.toml", errors="quarantine", base_dir=SAMPLE)


def dropout_cohort() -> dno.Cohort:
    sim = dno.simulate_tables(n_patients=240, seed=99, dropout=0.35)
    a = sim.assessments
    rng = np.random.default_rng(99)
    missed = (a["visit"] > 0) & (rng.random(len(a)) < 0.08)  # isolated missed visits
    a = a.loc[~missed].reset_index(drop=True)
    return dno.load_cohort(a, sim.patients)


def main() -> None:
    for name, cohort in (("sample", sample_cohort()), ("dropout", dropout_cohort())):
        for adjust, suffix in ((("baseline",), "ancova"), ((), "all_visits")):
            frame = model_frame(cohort, "first_step_pain", adjust=adjust, time="week")
            data = frame.data.rename(columns={"time": "week"})
            cols = ["patient_id", "arm", "visit", "week", "y"] + (["baseline"] if adjust
                                                                   else [])
            data[cols].to_csv(HERE / f"{name}_{suffix}.csv", index=False)


if __name__ == "__main__":
    main()
