"""Write assessments.csv and patients.csv: the simulated trial of the sample (84
patients, seed 2014) with first-step pain, site, sex, symptom duration and a
three-level age group, as the input of make_reference.R and of tests/test_subgroups.py.

    python tests/reference/subgroups/export_data.py   (from the repository root)
"""

from pathlib import Path

import numpy as np

import dryneedle_outcomes as dno


def main() -> None:
    here = Path(__file__).parent
    cohort = dno.simulate_cohort(n_patients=84, seed=2014)
    a = cohort.assessments[["patient_id", "visit", "first_step_pain"]]
    a.to_csv(here / "assessments.csv", index=False)
    p = cohort.patients[["patient_id", "arm", "site", "sex", "symptom_months", "age"]].copy()
    p["arm"] = p["arm"].astype(str)
    p["age_group"] = np.select([p["age"] < 40, p["age"] < 55], ["a<40", "b40-54"], "c55+")
    p.drop(columns="age").to_csv(here / "patients.csv", index=False)


if __name__ == "__main__":  # not at import: pytest collects this folder for doctests
    main()
