"""The footnotes of the harms tables: definitions, methods and what was left out."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .events import EventSet
from .soreness_rule import derived_note


def _pct(conf_level: float) -> str:
    return f"{100 * conf_level:g}%"


def rate_notes(per: str, table: pd.DataFrame, es: EventSet, info: dict,
               conf_level: float) -> tuple[str, ...]:
    """Notes for a rates table."""
    ci = _pct(conf_level)
    notes = ["Treatment-emergent events only: events recorded at visit 1 or later "
             "(visit 0 is the baseline before the first needling)."]
    if per == "patient":
        notes += [
            "Denominator: all randomised participants in the arm (every patient in "
            "cohort.patients, whether or not they attended a session).",
            "count = participants with >= 1 event of the kind (n_with_event); a participant "
            "with recurrent events counts once there and every event counts in n_events.",
            f"{ci} CI: exact Clopper-Pearson (R binom.test).",
        ]
    else:
        k = info.get("last_session")
        notes += [
            f"Appointments: treatment sessions attended, i.e. assessment records at visits "
            f"1..{k} (visit {k} is the last at which anyone was needled); a sham "
            "appointment counts as an appointment; a missed visit does not.",
        ]
        if per == "session":
            notes += [
                "Denominator: appointments attended in the arm (Cotchett et al. 2014). "
                "count = appointments with >= 1 event of the kind (n_with_event); an "
                "appointment with several events counts once there and every event counts "
                "in n_events.",
                f"{ci} CI: exact Clopper-Pearson, treating appointments as independent; "
                "they are clustered within patients, so the interval is too narrow when "
                "patients differ in risk (a patient-clustered GEE is in "
                "dryneedle_outcomes.harms.dose_response).",
            ]
        else:
            notes += [
                "Rate: events at treatment appointments per 100 needle insertions (sum of "
                "needles over the appointments attended); count = events (n_events), every "
                "recurrent event counted; n_with_event = appointments with >= 1 event.",
                f"{ci} CI: exact Poisson (Garwood; R poisson.test), scaled by 100.",
            ]
            undefined = table.loc[table["denominator"] <= 0, "arm"].unique()
            if len(undefined):
                notes.append(f"No needles were inserted in arm(s) {', '.join(undefined)}, "
                             "so their rate per needle is undefined (NaN); compare "
                             "them per session instead.")
            if info.get("n_needles_missing"):
                notes.append(f"{info['n_needles_missing']} needled appointment(s) have no "
                             "needle count and add 0 needles to the denominator.")
        out = info.get("n_after_last_session", 0) + info.get("n_unassessed_visit", 0)
        if out:
            notes.append(f"{out} treatment-emergent event(s) are not at a treatment "
                         f"appointment ({info.get('n_after_last_session', 0)} after visit "
                         f"{k}, {info.get('n_unassessed_visit', 0)} at a visit without an "
                         "assessment record) and are counted per patient only.")
    rule = es.soreness.get("soreness_rule")
    if rule:
        sore = (f"Soreness rule (stated before analysis): {rule}; "
                f"{es.soreness.get('n_soreness_not_meeting_rule', 0)} of "
                f"{es.soreness.get('n_soreness_recorded', 0)} recorded treatment-emergent "
                "soreness events did not meet it and are not counted")
        if es.soreness.get("n_soreness_duration_unknown"):
            sore += (f" ({es.soreness['n_soreness_duration_unknown']} of them with no "
                     "recorded duration)")
        notes.append(sore + ".")
        if derived_note(es.soreness):
            notes.append(derived_note(es.soreness))
    else:
        notes.append("Soreness rule: none declared, so every recorded post-needling "
                     "soreness event counts as an adverse event (declare one with "
                     "soreness_as_ae, e.g. min_hours = 48).")
    if "withdrawal" in set(table["group"]):
        notes.append("withdrawal: participants/appointments with >= 1 event recorded as "
                     "leading to withdrawal (adverse_events.withdrawal; 0 when the column "
                     "is absent).")
    if set(table["group"]) & {"severity"}:
        notes.append("Severity rows count participants/appointments with >= 1 event of "
                     "that severity; they are not mutually exclusive.")
    left = []
    if es.n_before_treatment:
        left.append(f"{es.n_before_treatment} at visit 0")
    if es.n_without_term:
        left.append(f"{es.n_without_term} without a term")
    if es.n_unknown_patient:
        left.append(f"{es.n_unknown_patient} of patients not in cohort.patients")
    if left:
        notes.append(f"Of {es.n_recorded} recorded events, left out: {'; '.join(left)}.")
    return tuple(notes)


NO_P = ("No p-values: CONSORT Harms 2022 and SAMPL advise against a test per harm "
        "term (trials are not powered for harms; many tests of rare events mislead); "
        "pass p_values=True to add them.")


def comparison_notes(per: str, comparison: pd.DataFrame, reference: str, *,
                     p_values: bool = False) -> tuple[str, ...]:
    """Notes for the between-arm comparison."""
    if not len(comparison):
        return ("Only one arm: no comparison between arms.",)
    if per == "100_needles":
        notes = [f"Rate ratio: arm over {reference}, exact conditional CI"
                 + (" and p" if p_values else "") + " (R poisson.test with two rates); "
                 "undefined (NaN) when an arm had no needles."]
        if comparison["estimate"].isna().all():
            notes.append("No rate ratio is estimable here; see per='session'.")
        notes.append("p_value: exact conditional test." if p_values else NO_P)
        return tuple(notes)
    notes = [f"Risk difference: arm minus {reference}, Newcombe hybrid score CI (Newcombe "
             "1998, method 10)."]
    if (comparison["measure"] == "risk_ratio").any():
        notes.append("Risk ratio (on request): arm over reference, log (Katz) CI; when "
                     "exactly one arm has no events, 0.5 is added to every cell of the 2x2 "
                     "table (Haldane's correction) for the risk ratio only (corrected = "
                     "True): such a ratio reflects the 0.5 as much as the data; undefined "
                     "when neither arm has events.")
    notes.append("p_value: Fisher's exact test, two-sided." if p_values else NO_P)
    if per == "session":
        notes.append("Appointments are clustered within patients: these CIs (and p-values) "
                     "treat them as independent and are anti-conservative; use the "
                     "patient-clustered GEE (dryneedle_outcomes.harms.dose_response) or "
                     "per='patient' for inference.")
    n_corr = int(np.sum(comparison["corrected"].to_numpy(dtype=bool)))
    if n_corr:
        notes.append(f"{n_corr} risk ratio(s) use Haldane's zero-cell correction (0.5 added "
                     "to every cell).")
    return tuple(notes)
