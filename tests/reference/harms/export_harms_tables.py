"""Write the canonical tables and our counts that make_reference.R checks (run from the root).

    python tests/reference/harms/export_harms_tables.py
    Rscript tests/reference/harms/make_reference.R

Two data sets:

- ``sample``: the bundled sample cohort (data/sample, loaded as the README does);
- ``edge``: a simulated 300-patient trial (seed 11) with events planted to exercise
  every counting rule: severe events marked serious, events at baseline (visit 0,
  not treatment-emergent), at follow-up (after the last session) and at a visit the
  patient missed (no assessment record), a patient with recurrent events, one verbatim
  naming two events (split into two rows by the loader), an event that led to
  withdrawal, and events of the terms Brady et al. (2014) report (headache, nausea,
  paraesthesia, drowsiness, aggravation of symptoms).

For each, ``<name>_patients.csv``, ``<name>_assessments.csv`` and
``<name>_adverse_events.csv`` hold the canonical tables (booleans as 0/1), from which
R recounts everything independently, and ``<name>_counts_<per>.csv`` hold the counts
adverse_event_rates computed, on which R computes the intervals and tests.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd

import dryneedle_outcomes as dno
from dryneedle_outcomes.harms import adverse_event_rates

HERE = Path(__file__).resolve().parent
SAMPLE = HERE.parents[2] / "data" / "sample"
PERS = ("patient", "session", "100_needles")


def sample_cohort() -> dno.Cohort:
    with warnings.catch_warnings(record=True):  # the sample's protocol deviation
        warnings.simplefilter("always")
        return dno.load_cohort("assessments.csv", "patients.xlsx", "adverse_events.csv",
                               mapping="mapping.toml", errors="quarantine", base_dir=SAMPLE)


def edge_cohort() -> dno.Cohort:
    sim = dno.simulate_tables(n_patients=300, seed=11)
    a, ev = sim.assessments, sim.adverse_events.copy()
    ev["serious"] = ev["severity"].eq("severe")
    dn = sim.patients.loc[sim.patients["arm"] == "dry_needling", "patient_id"].tolist()
    sham = sim.patients.loc[sim.patients["arm"] == "sham", "patient_id"].tolist()
    seen = set(zip(a["patient_id"], a["visit"], strict=True))
    missed = next((p, v) for p in dn for v in range(1, 7) if (p, v) not in seen)
    dn_seen = [p for p in dn if {(p, 1), (p, 7)} <= seen]      # attended session 1 and
    sham_seen = [p for p in sham if {(p, 2), (p, 7)} <= seen]  # follow-up
    extra = pd.DataFrame([
        (dn[0], 0, "needle_site_pain", "pain before first needling", "mild", False),
        (sham[0], 0, "other", "headache at baseline", "mild", False),
        (dn_seen[1], 7, "infection", "=HYPERLINK(\"x\") infection at follow-up", "moderate", True),
        (sham_seen[1], 7, "bruising", "bruise at follow-up", "mild", False),
        (missed[0], missed[1], "bruising", "bruise reported by phone", "mild", False),
        (dn_seen[2], 1, "bruising", "second bruise", "mild", False),
        (dn_seen[2], 1, "bruising", "third bruise", "mild", False),
        (sham_seen[2], 2, "vasovagal", "felt faint", "moderate", False),
        (dn_seen[3], 1, "bruising and bleeding", "bruising and bleeding", "mild", False),
        (dn_seen[4], 1, "fainting", "fainted, stopped needling", "moderate", False),
        (dn_seen[5], 1, "headache", "headache", "mild", False),
        (dn_seen[6], 1, "nausea", "felt sick", "mild", False),
        (sham_seen[3], 2, "paraesthesia", "tingling", "mild", False),
        (dn_seen[7], 1, "drowsiness", "drowsy", "mild", False),
        (dn_seen[8], 1, "aggravation_of_symptoms", "heel pain worse", "moderate", False),
    ], columns=["patient_id", "visit", "term", "verbatim", "severity", "serious"])
    ev = pd.concat([ev, extra], ignore_index=True)
    ev["withdrawal"] = ev["verbatim"].eq("fainted, stopped needling")
    with warnings.catch_warnings(record=True):  # the planted unassessed visit is flagged
        warnings.simplefilter("always")
        return dno.load_cohort(a, sim.patients, ev)


COHORTS = {"sample": sample_cohort, "edge": edge_cohort}


def _bool(s: pd.Series) -> np.ndarray:
    return s.astype("boolean").fillna(False).astype(int).to_numpy()


def export(name: str, cohort: dno.Cohort) -> None:
    p = cohort.patients
    pd.DataFrame({"patient_id": p["patient_id"], "arm": p["arm"].astype(str),
                  "pregnant": _bool(p["pregnant"]),
                  "immunocompromised": _bool(p["immunocompromised"])}
                 ).to_csv(HERE / f"{name}_patients.csv", index=False)
    a = cohort.assessments
    pd.DataFrame({"patient_id": a["patient_id"], "visit": a["visit"],
                  "needled": _bool(a["needled"]), "needles": a["needles"].astype(float),
                  "twitch_responses": a["twitch_responses"].astype(float),
                  "soreness_lower_h": a["soreness_lower_h"].astype(float),
                  "soreness_upper_h": a["soreness_upper_h"].astype(float)}
                 ).to_csv(HERE / f"{name}_assessments.csv", index=False)
    e = cohort.adverse_events
    pd.DataFrame({"patient_id": e["patient_id"], "visit": e["visit"],
                  "term": e["term"].astype(str), "severity": e["severity"].astype(str),
                  "serious": _bool(e["serious"]),
                  "withdrawal": (_bool(e["withdrawal"]) if "withdrawal" in e
                                 else np.zeros(len(e), dtype=int)),
                  "duration_h": (e["duration_h"].astype(float) if "duration_h" in e
                                 else np.full(len(e), np.nan))}
                 ).to_csv(HERE / f"{name}_adverse_events.csv", index=False)
    for per in PERS:
        t = adverse_event_rates(cohort, per, by="all").table
        t[["arm", "group", "term", "count", "denominator", "n_events", "n_with_event"]].to_csv(
            HERE / f"{name}_counts_{per}.csv", index=False)


def main() -> None:
    for name, make in COHORTS.items():
        export(name, make())


if __name__ == "__main__":
    main()
