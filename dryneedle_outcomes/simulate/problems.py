"""The planted data problems: eight realistic errors written into the raw exports.

:func:`plant_problems` is called by :func:`~dryneedle_outcomes.simulate.write_raw_exports`
(``inject_problems=True``): a value in the wrong unit, an impossible date, conflicting and
exact duplicates, a patient not in the register, an ID typo and a protocol deviation;
:func:`plant_ice_problem` adds an intercurrent event recorded at the baseline visit.
Each is described by a row of ``ExportPaths.problems`` (columns :data:`PROBLEM_COLUMNS`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .parameters import SimulatedTables

PROBLEM_COLUMNS = ("problem", "file", "row", "patient_id", "visit", "column", "value",
                    "expected")


def plant_problems(rng, sim: SimulatedTables, raw: pd.DataFrame, order_key: np.ndarray,
                    reg: pd.DataFrame, fsp_scale: np.ndarray):
    """Plant the seven problems; return the new raw tables and a description of each."""
    a = sim.assessments.reset_index(drop=True)
    ids = sim.patients["patient_id"].to_numpy()
    used_rows: set[int] = set()
    used_patients: set[str] = set()
    problems: list[dict] = []
    extra_rows: list[pd.DataFrame] = []
    extra_keys: list[float] = []

    ae_keys = pd.MultiIndex.from_frame(sim.adverse_events[["patient_id", "visit"]])
    has_ae = pd.MultiIndex.from_frame(a[["patient_id", "visit"]]).isin(ae_keys)

    def pick(mask: np.ndarray) -> int | None:
        ok = mask & ~a["patient_id"].isin(used_patients).to_numpy()
        ok[list(used_rows)] = False
        # Prefer visits without adverse events, so that rejecting the planted row
        # does not orphan an event.
        cand = np.flatnonzero(ok & ~has_ae)
        if not len(cand):
            cand = np.flatnonzero(ok)
        if not len(cand):
            return None
        r = int(cand[rng.integers(len(cand))])
        used_rows.add(r)
        used_patients.add(str(a.at[r, "patient_id"]))
        return r

    def add(problem, file, key_or_row, pid, visit, column, value, expected):
        rec = {"problem": problem, "file": file, "row": None, "patient_id": pid,
               "visit": visit, "column": column, "value": value, "expected": expected}
        if file == "assessments.csv":
            rec["_key"] = key_or_row
        else:
            rec["row"] = key_or_row
        problems.append(rec)

    later = (a["visit"] > 0).to_numpy()
    # The ID typo goes to the 12th patient ("dn-0012 "): keep that patient for it.
    target = str(ids[min(11, len(ids) - 1)]) if len(ids) else None
    if target is not None:
        used_patients.add(target)
    # 1. mm typed into the cm/NRS column (x10 after conversion)
    scaled = np.isin(fsp_scale, ["cm", "nrs10"])
    high = (a["first_step_pain"] >= 20).to_numpy()
    r = pick(later & scaled & high)
    if r is not None:
        value = str(int(round(a.at[r, "first_step_pain"])))
        raw.at[r, "First-step pain"] = value
        add("out_of_range", "assessments.csv", order_key[r], a.at[r, "patient_id"],
            int(a.at[r, "visit"]), "First-step pain", value,
            f"{value} on a 0-10 scale ({fsp_scale[r]}) is {int(value) * 10} mm: the value "
            "is rejected as out of range, the rest of the visit kept")
    elif (r := pick(later & high)) is not None:  # every site records in mm
        value = str(int(round(a.at[r, "first_step_pain"] * 10)))
        raw.at[r, "First-step pain"] = value
        add("out_of_range", "assessments.csv", order_key[r], a.at[r, "patient_id"],
            int(a.at[r, "visit"]), "First-step pain", value,
            f"{value} mm is above 100 mm (a misplaced decimal): the "
            "value is rejected as out of range, the rest of the visit kept")
    # 2. a date that is not a date
    r = pick(later & (a["visit"] <= sim.truth["n_sessions"]).to_numpy())
    if r is not None:
        raw.at[r, "Visit date"] = "31/02/2024"
        add("invalid_date", "assessments.csv", order_key[r], a.at[r, "patient_id"],
            int(a.at[r, "visit"]), "Visit date", "31/02/2024", "rejected: not a valid date")
    # 3. duplicate visit with a conflicting value
    r = pick(later & a["first_step_pain"].notna().to_numpy())
    if r is not None:
        dup = raw.iloc[[r]].copy()
        old = a.at[r, "first_step_pain"]
        new_mm = old - 20 if old >= 40 else old + 20
        scale = fsp_scale[r]
        if scale == "cm":
            text = f"{new_mm / 10:.1f}".replace(".", ",")
        elif scale == "nrs10":
            text = str(int(round(new_mm / 10)))
        else:
            text = f"{new_mm:.1f}".replace(".", ",")
        dup["First-step pain"] = text
        extra_rows.append(dup)
        extra_keys.append(order_key[r] + 0.5)
        add("conflicting_duplicate", "assessments.csv", order_key[r] + 0.5,
            a.at[r, "patient_id"], int(a.at[r, "visit"]), "First-step pain", text,
            "second record of the same patient and visit with a different value: both "
            "records flagged or rejected as conflicting duplicates")
    # 4. exact duplicate row
    r = pick(later)
    if r is not None:
        extra_rows.append(raw.iloc[[r]].copy())
        extra_keys.append(order_key[r] + 0.5)
        add("exact_duplicate", "assessments.csv", order_key[r] + 0.5, a.at[r, "patient_id"],
            int(a.at[r, "visit"]), "", "", "identical copy of the previous row: one kept, "
            "the copy removed and recorded")
    # 5. a patient who is not in the register
    width = len(ids[0]) - 3 if len(ids) else 4
    ghost = f"DN-{len(ids) + 8:0{width}d}"
    ghost_row = raw.iloc[[0]].copy()
    ghost_row["Study ID"] = ghost
    ghost_row["Visit"] = sim.truth["visit_labels"][0]
    ghost_row[["Needled", "No. of needles", "LTRs"]] = ["N", "0", "0"]
    ghost_row[["Muscles needled", "Soreness after session", "Comment"]] = ["", "", ""]
    extra_rows.append(ghost_row)
    extra_keys.append(float(len(raw)) + 1.0)
    add("unknown_patient", "assessments.csv", float(len(raw)) + 1.0, ghost, 0, "Study ID",
        ghost, "rejected: patient not in the register")
    # 6. ID typed in lower case with a trailing space
    if target is not None:
        rows = np.flatnonzero((a["patient_id"] == target).to_numpy() & later)
        rows = sorted((x for x in rows if x not in used_rows), key=lambda x: has_ae[x])
        if rows:
            r = int(rows[0])
            used_rows.add(r)
            typo = target.lower() + " "
            raw.at[r, "Study ID"] = typo
            add("id_typo", "assessments.csv", order_key[r], target, int(a.at[r, "visit"]),
                "Study ID", typo, "trailing space trimmed (correction); 'dn-...' differs from "
                "'DN-...' only by case: flagged (not merged) and, not being in the register, "
                "rejected as unknown")
    # 7. a participant marked pregnant who was needled (protocol deviation)
    needled_ids = set(a.loc[a["needled"], "patient_id"])
    p = sim.patients
    cand = np.flatnonzero(
        (p["sex"] == "female").to_numpy() & (p["age"] <= 45).to_numpy()
        & p["patient_id"].isin(needled_ids).to_numpy() & ~p["pregnant"].to_numpy()
        & ~p["patient_id"].isin(used_patients).to_numpy())
    if not len(cand):
        cand = np.flatnonzero(p["patient_id"].isin(needled_ids).to_numpy()
                              & ~p["patient_id"].isin(used_patients).to_numpy())
    if len(cand):
        i = int(cand[rng.integers(len(cand))])
        reg.at[i, "Pregnant"] = "Y"
        pid = str(p.at[i, "patient_id"])
        add("protocol_deviation", "patients.xlsx", i + 4, pid, None, "Pregnant", "Y",
            "kept; every needled visit of this participant flagged as a protocol deviation")
    if extra_rows:
        raw = pd.concat([raw] + extra_rows, ignore_index=True)
        order_key = np.concatenate([order_key, np.asarray(extra_keys)])
    return raw, order_key, reg, problems


def plant_ice_problem(rng, raw: pd.DataFrame, baseline_label: str, patient_ids: np.ndarray,
                      used_patients: set[str]):
    """An intercurrent event recorded at the baseline visit (``ice_at_baseline``).

    Insoles the patient already wore at entry, written in the intercurrent-events
    export as an event at "Baseline": a baseline characteristic, not an event after
    treatment started (ICH E9(R1) A.3.1), which the loader rejects. The row goes
    before the patient's other events (or at the end when they have none); returns the
    new table and the problem's description (``row`` spreadsheet-style, header row 1).
    """
    free = np.asarray([p for p in patient_ids if str(p) not in used_patients], dtype=object)
    if not len(free):
        return raw, None
    pid = str(free[rng.integers(len(free))])
    row = pd.DataFrame([{c: "" for c in raw.columns}])
    row["Study ID"] = pid
    row["Visit"] = baseline_label
    row["Study day"] = "0"
    row["Event"] = "insoles"
    row["Details"] = "already wearing insoles at entry"
    mine = np.flatnonzero((raw["Study ID"] == pid).to_numpy())
    at = int(mine[0]) if len(mine) else len(raw)
    out = pd.concat([raw.iloc[:at], row, raw.iloc[at:]], ignore_index=True)
    problem = {"problem": "ice_at_baseline", "file": "intercurrent_events.csv",
               "row": at + 2, "patient_id": pid, "visit": 0, "column": "Visit",
               "value": baseline_label,
               "expected": "rejected: an intercurrent event happens after treatment "
                           "starts (rule ice_at_baseline); the insoles worn at entry are "
                           "a baseline characteristic"}
    return out, problem
