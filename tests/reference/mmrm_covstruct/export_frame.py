"""Write the model frame that make_nlme.R fits (run from the repository root).

    python tests/reference/mmrm_covstruct/export_frame.py

The bundled sample cohort (data/sample, first-step pain), exactly the rows
fit_trajectory(model="mmrm") models (its own model_frame), with each row's ``day``: the
coordinate of covariance="spatial_exp". Days differ between patients at the same visit.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import dryneedle_outcomes as dno
from dryneedle_outcomes.models.design import model_frame

HERE = Path(__file__).resolve().parent
SAMPLE = HERE.parents[2] / "data" / "sample"


def sample_frame():
    """The sample cohort's ANCOVA frame (visits >= 1, baseline a covariate)."""
    with warnings.catch_warnings(record=True):  # the sample's planted problems
        warnings.simplefilter("always")
        cohort = dno.load_cohort("assessments.csv", "patients.xlsx", "adverse_events.csv",
                                 mapping="mapping.toml", errors="quarantine", base_dir=SAMPLE)
    frame = model_frame(cohort, "first_step_pain", adjust=("baseline",))
    return cohort, frame


if __name__ == "__main__":
    _, frame = sample_frame()
    cols = ["patient_id", "arm", "visit", "day", "y", "baseline"]
    frame.data[cols].to_csv(HERE / "sample_spatial.csv", index=False)
