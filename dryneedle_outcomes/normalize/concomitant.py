"""Concomitant treatments recorded per visit in the assessments, as intercurrent events.

Trials often record other treatments on the visit form ("Other treatment since the
last visit: NSAIDs; night splint") rather than in a table of their own. Declared in the
mapping (``[assessments.columns] concomitant = "Other treatment"``), the column stays in
the assessments as text and also feeds ``cohort.intercurrent_events``:

* each cell is split on ``;`` and ``,`` and each part mapped to the event vocabulary
  (:func:`~dryneedle_outcomes.normalize.vocabulary.ice_events.map_ice_events`, with the
  mapping's ``[intercurrent_events.synonyms]``); "no", "none", "nil" and blanks are no
  treatment;
* the **first** visit >= 1 at which a patient's treatment appears is the visit the
  event first affects (one event per patient and treatment; the later mentions of an
  ongoing treatment are one ledger correction);
* a treatment already recorded at baseline (visit 0) preceded randomised treatment: it
  is a baseline characteristic, not an intercurrent event (ICH E9(R1) A.3.1: events
  *after* treatment initiation), so it makes no event, and the ledger flags it
  (``concomitant_at_baseline``);
* a wording that matches no event is rejected (``unknown_event``: the file, row and
  column are named; ``errors="quarantine"`` sets the event aside, the assessment stays).

The derived events are a table of their own in the ledger's counts (source
``(derived from <assessments> column '...')``); an event also in the
intercurrent-events file at the same visit is kept once (rule ``exact_duplicate``).

Examples
--------
>>> import pandas as pd
>>> import dryneedle_outcomes as dno
>>> pts = pd.DataFrame({"patient_id": ["P1", "P2"], "arm": ["dry_needling", "sham"]})
>>> visits = pd.DataFrame({"patient_id": ["P1", "P1", "P1", "P2", "P2", "P2"],
...                        "visit": [0, 1, 2] * 2,
...                        "first_step_pain": [70.0, 60, 50, 68, 66, 64],
...                        "Other treatment": ["insoles", "insoles", "NSAIDs; insoles",
...                                            "none", "ibuprofen", "ibuprofen"]})
>>> cohort = dno.load_cohort(visits, pts, mapping={"assessments": {"columns": {
...     "concomitant": "Other treatment"}}})
>>> cohort.intercurrent_events[["patient_id", "visit", "event"]]
  patient_id  visit              event
0         P1      2  rescue_medication
1         P2      1  rescue_medication
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .records import Records
from .vocabulary.ice_events import map_ice_events
from .vocabulary.matcher import normalize_text

#: Words that mean "no other treatment" in a concomitant-treatment cell.
NO_TREATMENT = frozenset({"", "no", "none", "nil", "nothing", "0", "false", "n", "na", "n/a",
                          "no other treatment"})


def ice_from_concomitant(assess: Records, synonyms=None) -> Records | None:
    """Intercurrent-event records from the assessments' ``concomitant`` column (or None)."""
    data = assess.data
    if "concomitant" not in data:
        return None
    text = data["concomitant"]
    alive = ~assess.rejected_mask & text.notna().to_numpy()
    idx = np.flatnonzero(alive)
    parts = text.iloc[idx].astype(str).str.split(r"[;,]").explode()
    parts = parts.str.strip()
    # each distinct wording is normalised once, not each cell
    nothing = [u for u in pd.unique(parts) if normalize_text(u) in NO_TREATMENT]
    keep = ~parts.isin(nothing).to_numpy(dtype=bool)
    parts = parts[keep]
    pos = parts.index.to_numpy()          # positions in ``data`` (its RangeIndex)
    long = pd.DataFrame({"pos": pos, "patient_id": data["patient_id"].to_numpy()[pos],
                         "visit": data["visit"].to_numpy(dtype=float, na_value=np.nan)[pos],
                         "given": parts.to_numpy(dtype=object)})
    mapped = map_ice_events(long["given"], synonyms)
    long["event"] = mapped["event"].to_numpy(dtype=object)
    long["status"] = mapped["status"].to_numpy(dtype=object)
    source_col = assess.source_columns.get("concomitant", "concomitant")
    known = long["status"] == "ok"
    # treatments recorded at baseline: no event for that patient and treatment, a flag
    at_base = known & (long["visit"] == 0)
    flag = np.zeros(len(data), dtype=bool)
    flag[long.loc[at_base, "pos"].to_numpy(dtype=np.int64)] = True
    assess.flag(flag, "concomitant", "concomitant_at_baseline",
                "'{value}' is recorded at baseline: it precedes treatment, so it is a baseline "
                "characteristic and not an intercurrent event (no event made for it)",
                values=data["concomitant"])
    keys = pd.MultiIndex.from_frame(long[["patient_id", "event"]].astype(object))
    pre_existing = pd.Series(keys.isin(keys[at_base.to_numpy()]), index=long.index)
    long = long.loc[~(known & (pre_existing | (long["visit"] == 0)))]
    known = long["status"] == "ok"
    # the first visit of each patient's treatment; later mentions are the same event
    ordered = long.sort_values(["patient_id", "visit", "pos"], kind="stable")
    later = known.reindex(ordered.index) & ordered.duplicated(["patient_id", "event"])
    n_later = int(later.sum())
    long = ordered.loc[~later].sort_values("pos", kind="stable").reset_index(drop=True)
    if n_later:
        assess.correct_column("concomitant", f"{n_later} later mention(s) of a treatment "
                              "already recorded", "the first visit's event",
                              "an ongoing concomitant treatment is one intercurrent event, "
                              "at the first visit it is recorded", n_later)
    n = len(long)
    rows = long["pos"].to_numpy(dtype=np.int64)
    raw = pd.DataFrame({"patient_id": long["patient_id"].astype(object).to_numpy(),
                        "visit": long["visit"].to_numpy(),
                        source_col: long["given"].to_numpy(dtype=object)})
    out = pd.DataFrame({
        "patient_id": pd.Categorical(long["patient_id"].astype(object),
                                     categories=data["patient_id"].cat.categories),
        "visit": pd.array(long["visit"].to_numpy(), dtype="Int64"),
        "day": data["day"].to_numpy(dtype=float)[rows] if "day" in data else np.nan,
        "event": long["event"].to_numpy(dtype=object),
        "reason": f"recorded in the assessments' column '{source_col}'",
    })
    rec = Records(table="intercurrent_events",
                  source=f"(derived from {assess.source} column '{source_col}')",
                  raw=raw, raw_pos=np.arange(n), row_numbers=assess.row_numbers[rows],
                  data=out, source_columns={"event": source_col}, source_rows=n,
                  row_columns=frozenset({"patient_id", "visit", "event"}))
    rec.reject((long["status"] == "unknown").to_numpy(), "event", "unknown_event",
               "'{value}' in the concomitant-treatment column is not an intercurrent event "
               "(add the wording to [intercurrent_events.synonyms] in the mapping)",
               values=long["given"])
    return rec


def drop_repeats_of_file(derived: Records, events: Records | None) -> None:
    """Set aside derived events the intercurrent-events file also has (same visit)."""
    if events is None or not len(derived):
        return
    f = events.data.loc[events.kept_mask, ["patient_id", "visit", "event"]].astype(str)
    d = derived.data[["patient_id", "visit", "event"]].astype(str)
    both = pd.MultiIndex.from_frame(d).isin(pd.MultiIndex.from_frame(f)) & derived.kept_mask
    derived.reject(both, "event", "exact_duplicate",
                   "also in the intercurrent-events file at this visit; kept once from there")
