"""Write assessments.csv and patients.csv: the simulated trial of the sample (84
patients, seed 2014) with first-step pain, site, sex, symptom duration and a
three-level age group, as the input of make_reference.R and of tests/test_subgroups.py;
and, for make_clustering.R, a clinician per patient (six therapists, allocated at random
with seed 7) and clustered_assessments.csv: the same scores plus a therapist effect
(normal, SD 8 mm, seed 7) at every visit after baseline, kept within 0-100.

    python tests/reference/subgroups/export_subgroups_data.py   (from the repository root)
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
    rng = np.random.default_rng(7)
    p["clinician"] = np.array([f"T{k + 1}" for k in range(6)])[rng.integers(0, 6, len(p))]
    p.drop(columns="age").to_csv(here / "patients.csv", index=False)
    effect = dict(zip([f"T{k + 1}" for k in range(6)], rng.normal(0.0, 8.0, 6)))
    shift = a["patient_id"].map(p.set_index("patient_id")["clinician"]).map(effect)
    clustered = a.copy()
    after = clustered["visit"] >= 1
    clustered.loc[after, "first_step_pain"] = (
        clustered.loc[after, "first_step_pain"] + shift[after]).clip(0, 100).round(1)
    clustered.to_csv(here / "clustered_assessments.csv", index=False)


if __name__ == "__main__":  # not at import: pytest collects this folder for doctests
    main()
