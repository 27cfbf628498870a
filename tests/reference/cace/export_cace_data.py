"""Write the analysis rows of a simulated cohort (for make_reference.R).

Run: ``python tests/reference/cace/export_cace_data.py`` (writes cace_data.csv here).
"""

from pathlib import Path

HERE = Path(__file__).parent

if __name__ == "__main__":
    import dryneedle_outcomes as dno

    cohort = dno.simulate_cohort(n_patients=200, seed=4)
    for name, adherence in (("binary", {"min_sessions": 4}), ("sessions", "sessions")):
        r = dno.complier_average_effect(cohort, visit=6, adherence=adherence)
        r.data.to_csv(HERE / f"cace_data_{name}.csv", index=False, float_format="%.17g")
