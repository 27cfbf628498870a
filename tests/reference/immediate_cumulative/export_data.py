"""Write the long data that make_reference.R fits (run from the repository root).

    python tests/reference/immediate_cumulative/export_data.py

A synthetic trial with pain rated before and after each of 2 needling sessions
(``dno.simulate_cohort(n_patients=80, seed=11, n_sessions=2, follow_up_weeks=(6,),
dropout=0.15, within_session=True)``), as the rows ``dno.immediate_cumulative`` models:
one per patient x occasion (visit x timing) with a value, the visit-0 value as
``baseline``. Missing ratings (dropout, missed visits) are simply absent.
"""

from pathlib import Path

import dryneedle_outcomes as dno

HERE = Path(__file__).resolve().parent
COHORT = {"n_patients": 80, "seed": 11, "n_sessions": 2, "follow_up_weeks": (6,),
          "dropout": 0.15, "within_session": True}


def main() -> None:
    cohort = dno.simulate_cohort(**COHORT)
    fit = dno.immediate_cumulative(cohort, df="satterthwaite")
    a = cohort.assessments
    rows = a[a["visit"] >= 1][["patient_id", "visit", "timing", "first_step_pain"]].copy()
    rows["timing"] = rows["timing"].astype(object).where(rows["timing"].notna(), "single")
    base = a[a["visit"] == 0].set_index("patient_id")["first_step_pain"]
    rows["baseline"] = rows["patient_id"].map(base)
    # the rows the model uses: immediate_cumulative lists the others in .excluded (no
    # baseline, outcome missing); R's gls gets the same rows
    rows = rows.dropna(subset=["first_step_pain", "baseline"])
    arm = cohort.patients.set_index("patient_id")["arm"].astype(str)
    rows.insert(1, "arm", rows["patient_id"].map(arm))
    rows = rows.merge(fit.occasions[["visit", "timing", "occasion"]], on=["visit", "timing"])
    assert len(rows) == fit.n_observations
    rows.rename(columns={"first_step_pain": "y"}).to_csv(HERE / "within_session.csv",
                                                         index=False)


if __name__ == "__main__":
    main()
