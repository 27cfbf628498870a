"""The optional harms columns of the adverse-events table (CONSORT Harms 2022).

CONSORT Harms 2022 (Junqueira et al., BMJ 2023;381:e073725, items 11 and 17) asks
how harms were ascertained, their relatedness, timing and duration, what was done
about them and which led to withdrawal. Each column below is optional; when mapped,
its values are validated here and every unreadable value is set aside as a cell
(``scope = "cell"``: the event is kept, the value left missing) with its rule in
the ledger.

``relatedness``
    Relatedness to needling, as the investigator judged it: ``related``,
    ``possibly_related``, ``unlikely_related``, ``not_related`` (the WHO-UMC causality
    categories certain/probable, possible, unlikely, unrelated, collapsed to four).
``onset_h``, ``duration_h``
    Hours from the end of the session to the onset, and how long the event lasted;
    numbers are hours, text may carry a unit (``"30 min"``, ``"2 h"``, ``"3 days"``,
    ``"1 wk"``). Negative or unreadable values are set aside.
``action_taken``
    ``none``, ``first_aid`` (pressure, ice, lying down), ``medication``,
    ``treatment_modified`` (fewer needles, other muscles), ``treatment_interrupted``
    (session stopped or postponed), ``treatment_stopped`` (needling discontinued),
    ``referred`` (GP, emergency department), ``other``.
``withdrawal``
    Whether the participant withdrew (from treatment or the study) because of the
    event: yes/no.
``ascertainment``
    ``systematic`` (asked of every participant with a questionnaire or checklist at
    every visit) or ``spontaneous`` (reported by the participant unprompted).
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from ..mapping import TableMapping
from .cells import apply_codes, record_recodes, text_form, to_boolean
from .records import Records
from .vocabulary import normalize_text

RELATEDNESS = ("related", "possibly_related", "unlikely_related", "not_related")
ACTIONS = ("none", "first_aid", "medication", "treatment_modified", "treatment_interrupted",
           "treatment_stopped", "referred", "other")
ASCERTAINMENT = ("systematic", "spontaneous")
#: The optional harms columns, in table order.
DETAIL_COLUMNS = ("relatedness", "onset_h", "duration_h", "action_taken", "withdrawal",
                  "ascertainment")

_RELATEDNESS_WORDS = {
    "related": ("related", "definite", "definitely", "definitely related", "certain",
                "certainly", "probable", "probably", "probably related", "likely", "yes",
                "y"),
    "possibly_related": ("possible", "possibly", "possibly related", "maybe"),
    "unlikely_related": ("unlikely", "unlikely related", "unlikely to be related",
                         "doubtful"),
    "not_related": ("not related", "unrelated", "none", "no", "n", "not"),
}
_ACTION_WORDS = {
    "none": ("none", "no action", "nil", "nothing", "no", "observation", "observed",
             "reassurance"),
    "first_aid": ("first aid", "pressure", "pressure applied", "ice", "lay supine",
                  "lay down", "rest", "elevation", "plaster", "dressing"),
    "medication": ("medication", "analgesia", "analgesic", "paracetamol", "ibuprofen",
                   "nsaid", "antibiotic", "antibiotics", "painkillers"),
    "treatment_modified": ("treatment modified", "modified", "fewer needles",
                           "technique modified", "dose reduced", "reduced"),
    "treatment_interrupted": ("treatment interrupted", "interrupted", "session stopped",
                              "stopped session", "postponed", "paused", "withheld",
                              "session postponed"),
    "treatment_stopped": ("treatment stopped", "stopped", "discontinued",
                          "treatment discontinued", "needling stopped", "withdrawn"),
    "referred": ("referred", "gp referral", "referred to gp", "hospital", "emergency",
                 "a and e", "ed"),
    "other": ("other",),
}
_ASCERTAINMENT_WORDS = {
    "systematic": ("systematic", "questionnaire", "checklist", "solicited", "active",
                   "asked", "prompted", "structured"),
    "spontaneous": ("spontaneous", "spontaneously", "unsolicited", "volunteered",
                    "passive", "unprompted", "self reported", "reported"),
}
_UNIT_HOURS = {"min": 1 / 60, "mins": 1 / 60, "minute": 1 / 60, "minutes": 1 / 60,
               "h": 1.0, "hr": 1.0, "hrs": 1.0, "hour": 1.0, "hours": 1.0,
               "d": 24.0, "day": 24.0, "days": 24.0,
               "w": 168.0, "wk": 168.0, "wks": 168.0, "week": 168.0, "weeks": 168.0}
_DURATION = re.compile(r"^\s*(?P<x>\d+(?:\.\d+)?)\s*(?P<u>[a-z]*)\s*$")


def _lookup(words: dict[str, tuple[str, ...]]) -> dict[str, str]:
    return {normalize_text(w): k for k, ws in words.items() for w in ws}


def _coded(rec: Records, column: str, raw: pd.Series, tm: TableMapping,
           words: dict[str, tuple[str, ...]], allowed: tuple[str, ...]) -> pd.Series:
    """A categorical column: the user's codes, then the word table; the rest set aside."""
    given = text_form(apply_codes(rec, column, raw[column], tm.codes.get(column),
                                  allowed=allowed))
    table = _lookup(words) | {a: a for a in allowed}
    uniques = pd.Series(pd.unique(given.dropna()))  # distinct non-missing values only
    canon = dict(zip(uniques, uniques.map(lambda v: table.get(normalize_text(v)))))
    out = given.map(canon)
    bad = (given.notna() & out.isna()).to_numpy()
    rec.reject(bad, column, f"invalid_{column}",
               f"{column} '{{value}}' is not one of {', '.join(allowed)}; declare it in "
               f"codes.{column} of the mapping", values=given, scope="cell")
    record_recodes(rec, column, given, out.astype(object), f"{column} recoded")
    return out.astype(object)


def _hours(rec: Records, column: str, raw: pd.Series) -> pd.Series:
    """Hours from numbers or text with a unit; negative or unreadable values set aside."""
    values = raw[column]
    numbers = pd.to_numeric(values, errors="coerce").astype(float)
    text = text_form(values).where(numbers.isna())
    uniques = pd.Series(pd.unique(text.dropna()))  # distinct non-missing texts only
    parsed, said_missing = {}, set()
    for u in uniques:  # each distinct text once
        key = normalize_text(u)
        if key in ("", "na", "unknown", "not known", "not recorded"):
            said_missing.add(u)
        m = _DURATION.match(key.replace(" ", "")) or _DURATION.match(key)
        unit = m.group("u") if m else None
        parsed[u] = (float(m.group("x")) * _UNIT_HOURS[unit or "h"]
                     if m and (unit == "" or unit in _UNIT_HOURS) else np.nan)
    from_text = text.map(parsed).astype(float)
    hours = numbers.where(numbers.notna(), from_text)
    unreadable = text.notna() & hours.isna() & ~text.isin(said_missing)
    negative = hours < 0
    rec.reject(unreadable.to_numpy(), column, f"invalid_{column}",
               f"{column} '{{value}}' is not a number of hours or a time with a unit "
               "(min, h, d, wk)", values=values, scope="cell")
    rec.reject(negative.to_numpy(), column, f"negative_{column}",
               f"{column} {{value}} is negative; hours after the session cannot be",
               values=values, scope="cell")
    changed = text.notna() & hours.notna()
    record_recodes(rec, column, text.where(changed), hours.where(changed).astype(object),
                   "converted to hours")
    return hours.where(~negative)


def normalize_details(rec: Records, raw: pd.DataFrame, tm: TableMapping,
                      out: pd.DataFrame) -> None:
    """Add the optional harms columns that ``raw`` has to ``out`` (validated, ledgered).

    Examples
    --------
    >>> import pandas as pd
    >>> import dryneedle_outcomes as dno
    >>> pats = pd.DataFrame({"patient_id": ["P1"], "arm": ["dry_needling"]})
    >>> visits = pd.DataFrame({"patient_id": ["P1", "P1"], "visit": [0, 1]})
    >>> ae = pd.DataFrame({"patient_id": ["P1"], "visit": [1], "verbatim": ["bruise"],
    ...                    "relatedness": ["probable"], "onset_h": ["2 days"],
    ...                    "withdrawal": ["no"], "ascertainment": ["questionnaire"]})
    >>> ev = dno.load_cohort(visits, pats, ae).adverse_events
    >>> ev[["relatedness", "onset_h", "withdrawal", "ascertainment"]]
      relatedness  onset_h  withdrawal ascertainment
    0     related     48.0       False    systematic
    """
    if "relatedness" in raw:
        out["relatedness"] = _coded(rec, "relatedness", raw, tm, _RELATEDNESS_WORDS,
                                    RELATEDNESS)
    for column in ("onset_h", "duration_h"):
        if column in raw:
            out[column] = _hours(rec, column, raw)
    if "action_taken" in raw:
        out["action_taken"] = _coded(rec, "action_taken", raw, tm, _ACTION_WORDS, ACTIONS)
    if "withdrawal" in raw:
        out["withdrawal"] = to_boolean(rec, "withdrawal", raw["withdrawal"],
                                       tm.codes.get("withdrawal"))
    if "ascertainment" in raw:
        out["ascertainment"] = _coded(rec, "ascertainment", raw, tm, _ASCERTAINMENT_WORDS,
                                      ASCERTAINMENT)
