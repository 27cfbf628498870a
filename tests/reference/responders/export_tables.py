"""Write the canonical tables that make_reference.R and baseline_table.R read.

    python tests/reference/responders/export_tables.py     (from the repository root)

- ``sample_cfb_<outcome>.csv``: ``Cohort.change_from_baseline(outcome)`` of the bundled
  sample cohort (every row, visit 0 included), the table R counts responders from;
- ``sample_patients.csv``: ``patient_id`` and ``arm`` of every randomised patient (the
  non-responder-imputation denominators);
- ``sample_patients_baseline.csv``: the patients table with the visit-0 value of each
  instrument of the cohort, the data of the baseline table.

The same three files with the prefix ``gappy_`` come from :func:`gappy_cohort`: the
sample with three baselines removed and missing ages, sexes and needle-fear flags.
"""

from __future__ import annotations

import importlib.util
import warnings
from pathlib import Path

import numpy as np

import dryneedle_outcomes as dno

HERE = Path(__file__).resolve().parent
OUTCOMES = ("first_step_pain", "vas_pain")

_spec = importlib.util.spec_from_file_location(
    "export_frames", HERE.parent / "trajectory" / "export_frames.py")
_frames = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_frames)


def sample_cohort() -> dno.Cohort:
    """The bundled sample cohort, loaded as the trajectory references load it."""
    return _frames.sample_cohort()


#: patients of the sample whose baseline (visit 0) assessment gappy_cohort() removes
NO_BASELINE = ("DN-0003", "DN-0010", "DN-0020")


def gappy_cohort() -> dno.Cohort:
    """The sample with missing data: 3 baselines removed, some ages, sexes, flags blank."""
    cohort = sample_cohort()
    p = cohort.patients.copy()
    i = np.arange(len(p))
    p.loc[i % 7 == 3, "age"] = np.nan
    p.loc[i % 11 == 5, "sex"] = None
    p.loc[i % 13 == 2, "needle_fear"] = None
    a = cohort.assessments
    a = a.loc[~(a["patient_id"].isin(NO_BASELINE) & (a["visit"] == 0))]
    with warnings.catch_warnings(record=True):  # the sample's protocol deviation
        warnings.simplefilter("always")
        return dno.load_cohort(a.reset_index(drop=True), p)


def export(cohort: dno.Cohort, prefix: str) -> None:
    for outcome in OUTCOMES:
        cfb = cohort.change_from_baseline(outcome)
        cols = ["patient_id", "arm", "visit", "aval", "base", "improvement"]
        cfb[cols].to_csv(HERE / f"{prefix}_cfb_{outcome}.csv", index=False)
    cohort.patients[["patient_id", "arm"]].to_csv(HERE / f"{prefix}_patients.csv", index=False)
    a = cohort.assessments
    base = a.loc[a["visit"] == 0].set_index("patient_id")[list(cohort.instruments)]
    pats = cohort.patients.copy()
    for col in cohort.instruments:
        pats[col] = pats["patient_id"].map(base[col])
    pats.to_csv(HERE / f"{prefix}_patients_baseline.csv", index=False)


def main() -> None:
    export(sample_cohort(), "sample")
    export(gappy_cohort(), "gappy")


if __name__ == "__main__":
    main()
