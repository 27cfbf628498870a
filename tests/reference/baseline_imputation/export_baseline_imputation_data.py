"""Write data.csv: a simulated trial (60 patients, seed 13) with the baseline of 6
patients (3 per arm) removed, as the input of make_reference.R and of the test.

    python tests/reference/baseline_imputation/export_baseline_imputation_data.py
    (from the repository root)
"""

from pathlib import Path

import numpy as np

import dryneedle_outcomes as dno


def main() -> None:
    here = Path(__file__).parent
    cohort = dno.simulate_cohort(n_patients=60, seed=13)
    a = cohort.assessments.merge(cohort.patients[["patient_id", "arm"]], on="patient_id")
    a = a.loc[a["visit"] <= 6, ["patient_id", "arm", "visit", "first_step_pain"]]
    gone = [p for arm in ("dry_needling", "sham")
            for p in cohort.patients.loc[cohort.patients["arm"] == arm, "patient_id"][:3]]
    a.loc[a["patient_id"].isin(gone) & (a["visit"] == 0), "first_step_pain"] = np.nan
    a["arm"] = a["arm"].astype(str)
    a.to_csv(here / "data.csv", index=False)


if __name__ == "__main__":  # not at import: pytest collects this folder for doctests
    main()
