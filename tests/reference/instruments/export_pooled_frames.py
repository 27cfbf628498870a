"""Write the pooled sample frames that make_reference.R fits (run from the repository root).

    python tests/reference/instruments/export_pooled_frames.py

The bundled sample (data/sample) with its mapping, which pools Site B's first-step pain
NRS x10 into the VAS (``[assessments.pool_as]``). Two frames, each exactly the rows our
analyses use, built by their own code, with each patient's instrument
(``first_step_pain_instrument``):

- ``sample_pooled_mmrm.csv``: the rows ``fit_trajectory`` models (visits >= 1 with a
  baseline), with ``y`` (pooled first-step pain, mm) and ``baseline``;
- ``sample_pooled_relief.csv``: one row per patient of ``time_to_relief`` (days,
  right-censored view: ``time``, ``event``), as its Cox model sees them; relief is
  pinned to :data:`RELIEF` (the MCID confirmed at the next assessment) so that the
  reference does not move with the package default.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import dryneedle_outcomes as dno
from dryneedle_outcomes.models.design import model_frame

HERE = Path(__file__).resolve().parent
SAMPLE = HERE.parents[2] / "data" / "sample"
COVARIATE = "first_step_pain_instrument"
#: The relief definition of the reference (tests/test_instruments.py uses the same).
RELIEF = dict(mcid=True, sustained=True)


def sample_cohort() -> dno.Cohort:
    with warnings.catch_warnings(record=True):  # the sample's protocol deviation
        warnings.simplefilter("always")
        return dno.load_cohort("assessments.csv", "patients.xlsx", "adverse_events.csv",
                               mapping="mapping.toml", errors="quarantine", base_dir=SAMPLE)


def main() -> None:
    cohort = sample_cohort()
    assert cohort.pooled, "the sample mapping must pool the NRS (pool_as)"
    frame = model_frame(cohort, "first_step_pain", adjust=("baseline", COVARIATE),
                        time="visit")
    cols = ["patient_id", "arm", "visit", "y", "baseline", COVARIATE]
    frame.data[cols].to_csv(HERE / "sample_pooled_mmrm.csv", index=False)
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        res = dno.time_to_relief(cohort, "first_step_pain", relief=dno.Relief(**RELIEF),
                                 n_boot=0, distributions=())
    ev = res.events[["patient_id", "arm", "time", "event"]].copy()
    ev[COVARIATE] = ev["patient_id"].map(cohort.patients.set_index("patient_id")[COVARIATE])
    ev.to_csv(HERE / "sample_pooled_relief.csv", index=False)


if __name__ == "__main__":
    main()
