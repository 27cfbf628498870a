"""Write the model frame that make_reference.R fits (run from the repository root).

    python tests/reference/model_terms/export_sample_frame.py

``sample_frame.csv``: the rows fit_trajectory models for first-step pain of the bundled
sample cohort (data/sample) adjusted for baseline, site, sex and age (built by its own
model_frame, so the R fits and ours see the same rows; the sample has no missing
covariates, so the fits without covariates model the same rows). mmrm's ``fev_data`` is
read by the R script from ``../shared/external/mmrm/fev_data.csv``.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from dryneedle_outcomes.models.design import model_frame

HERE = Path(__file__).resolve().parent
COLUMNS = ["patient_id", "arm", "visit", "y", "baseline", "site", "sex", "age"]


def sample_cohort():
    """The bundled sample cohort, loaded as tests/reference/trajectory/ loads it."""
    path = HERE.parent / "trajectory" / "export_frames.py"
    spec = importlib.util.spec_from_file_location("trajectory_frames", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.sample_cohort()


def main() -> None:
    frame = model_frame(sample_cohort(), "first_step_pain",
                        adjust=("baseline", "site", "sex", "age"))
    frame.data[COLUMNS].to_csv(HERE / "sample_frame.csv", index=False)


if __name__ == "__main__":
    main()
