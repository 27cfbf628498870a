"""The adverse-events table: one row per event in a controlled vocabulary.

One verbatim that names several events (``"bruising and bleeding"``) becomes one
event per term (:func:`split_terms`), each keeping the verbatim and a ``verbatim_id``
(the source row the verbatim came from) that links them; each such split is one
correction in the ledger. Severity grades 4 and 5 (CTCAE: life-threatening, death)
make an event serious (ICH E2A); a record that says "not serious" with such a grade
is flagged (rule ``grade_implies_serious``) and kept as serious. The optional harms
columns (relatedness, onset, duration, action taken, withdrawal, ascertainment) are
validated in :mod:`.ae_details`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..mapping import TableMapping
from .ae_details import normalize_details
from .assessments import normalize_visits
from .cells import apply_codes, record_recodes, text_form, to_boolean
from .ids import normalize_ids
from .records import Records
from .source_rows import add_carried
from .vocabulary import AE_TERMS, NO_EVENT_TEXT, map_ae_terms, map_severity, normalize_text


def normalize_adverse_events(rec: Records, tm: TableMapping) -> None:
    """Turn the raw adverse-event records of ``rec`` into canonical columns in place."""
    raw = rec.data
    out = pd.DataFrame(index=raw.index)
    out["patient_id"] = normalize_ids(rec, apply_codes(rec, "patient_id", raw["patient_id"],
                                                      tm.codes.get("patient_id")))
    out["visit"] = normalize_visits(rec, raw["visit"], tm.codes.get("visit"))
    verbatim = text_form(raw["verbatim"]) if "verbatim" in raw else None
    if "term" in raw:
        given = text_form(apply_codes(rec, "term", raw["term"], tm.codes.get("term")))
        in_vocab = given.isin(AE_TERMS)
        mapped = map_ae_terms(given.where(~in_vocab), tm.synonyms or None)
        term = given.where(in_vocab, mapped["term"])
        terms = given.where(in_vocab, mapped["terms"])
        recoded = (~in_vocab & given.notna() & mapped["matched"]).to_numpy()
        rec.correct_rows(recoded, "term", given.to_numpy(dtype=object),
                         term.to_numpy(dtype=object), "term mapped to the controlled vocabulary")
        unmatched = (~in_vocab & given.notna() & ~mapped["matched"]).to_numpy()
        if verbatim is None:
            verbatim = given
    elif verbatim is not None:
        mapped = map_ae_terms(verbatim, tm.synonyms or None)
        term = mapped["term"]
        terms = mapped["terms"]
        record_recodes(rec, "verbatim", verbatim, terms.where(mapped["matched"]),
                       "verbatim term mapped to the vocabulary")
        unmatched = (verbatim.notna() & ~mapped["matched"]).to_numpy()
    else:
        term = pd.Series(pd.NA, index=raw.index, dtype=object)
        terms = term
        unmatched = term.notna().to_numpy()
    unmatched = unmatched & term.notna().to_numpy()
    rec.flag(unmatched, "verbatim" if "verbatim" in raw else "term", "unmatched_term",
             "'{value}' matches no adverse-event term; recorded as 'other' (add it to "
             "[adverse_events.synonyms] in the mapping)",
             values=verbatim if verbatim is not None else term)
    described = verbatim if verbatim is not None else pd.Series(np.nan, index=raw.index)
    no_event_words = pd.Series(pd.unique(described[described.notna()].astype(str)))
    no_event_set = {w for w in no_event_words if normalize_text(w) in NO_EVENT_TEXT}
    no_event = (term.isna() & described.isin(no_event_set)).to_numpy()
    rec.reject(no_event, "verbatim", "no_event",
               "the row reports no event ('{value}'); rows of the adverse-event table must "
               "each be one event", values=described)
    no_term = term.isna().to_numpy() & ~no_event
    rec.reject(no_term, "verbatim" if "verbatim" in raw else "term", "missing_term",
               "the event has neither a term nor a verbatim description")
    out["term"] = term
    out["verbatim"] = verbatim if verbatim is not None else term
    out["verbatim_id"] = rec.row_numbers.astype(np.int64)
    _record_splits(rec, terms, out["verbatim"])
    out["_terms"] = terms.where(terms.notna(), term)
    grade = pd.Series(np.nan, index=raw.index)
    if "severity" in raw:
        sev = map_severity(raw["severity"], tm.codes.get("severity"))
        grade = sev["grade"].where((sev["status"] == "ok").to_numpy())
        record_recodes(rec, "severity", raw["severity"], sev["severity"], "severity recoded")
        rec.reject((sev["status"] == "invalid").to_numpy(), "severity", "invalid_severity",
                   "severity '{value}' is not mild/moderate/severe or a grade 1-5; declare it "
                   "in codes.severity", values=raw["severity"])
        out["severity"] = sev["severity"]
    else:
        out["severity"] = pd.Series(pd.NA, index=raw.index, dtype=object)
    if "serious" in raw:
        out["serious"] = to_boolean(rec, "serious", raw["serious"], tm.codes.get("serious"))
    else:
        out["serious"] = pd.Series(pd.NA, index=raw.index, dtype="boolean")
    out["serious"] = _serious_from_grade(rec, grade, out["serious"])
    normalize_details(rec, raw, tm, out)
    add_carried(out, rec.extras)
    rec.data = out


def _record_splits(rec: Records, terms: pd.Series, verbatim: pd.Series) -> None:
    """One correction per record whose verbatim names several events."""
    several = terms.fillna("").str.contains(";", regex=False).to_numpy() & ~rec.rejected_mask
    rec.correct_rows(several, "verbatim", verbatim.to_numpy(dtype=object),
                     terms.to_numpy(dtype=object),
                     "one verbatim names several events: one event per term "
                     "(verbatim_id links them)")


def _serious_from_grade(rec: Records, grade: pd.Series, serious: pd.Series) -> pd.Series:
    """Grade 4/5 events are serious (ICH E2A); a record saying otherwise is flagged."""
    implied = (grade >= 4).to_numpy()
    if not implied.any():
        return serious
    said_no = (serious == False).fillna(False).to_numpy(dtype=bool)  # noqa: E712
    contradiction = implied & said_no & ~rec.rejected_mask
    rec.flag(contradiction, "serious", "grade_implies_serious",
             "severity grade {value} (CTCAE 4 life-threatening, 5 death) makes the event "
             "serious (ICH E2A), but serious is recorded as no; kept as serious - check the "
             "record", values=grade.round().astype("Int64").astype(object))
    unset = implied & serious.isna().to_numpy()
    old = serious.astype(object).to_numpy()
    rec.correct_rows((contradiction | unset), "serious", old,
                     np.full(len(serious), True, dtype=object),
                     "serious set by severity grade 4/5 (life-threatening or death)")
    return serious.mask(pd.Series(implied, index=serious.index), True).astype("boolean")


def split_terms(events: pd.DataFrame) -> pd.DataFrame:
    """One row per event: a record whose verbatim names several terms becomes several rows.

    ``events`` holds the kept records with ``term`` (the first term) and ``_terms``
    (every term, joined by ``;``); the result has one row per term, ``_terms``
    dropped, the other columns repeated (``verbatim_id`` links the rows of one verbatim).

    Examples
    --------
    >>> import pandas as pd
    >>> ev = pd.DataFrame({"patient_id": ["P1", "P2"], "term": ["bleeding", "bruising"],
    ...                    "_terms": ["bleeding;bruising", "bruising"], "verbatim_id": [2, 3]})
    >>> split_terms(ev)
      patient_id      term  verbatim_id
    0         P1  bleeding            2
    1         P1  bruising            2
    2         P2  bruising            3
    """
    if "_terms" not in events:
        return events
    terms = events.pop("_terms")
    several = terms.fillna("").str.contains(";", regex=False)
    if not several.any():
        return events
    parts = terms.where(several).str.split(";")
    n = parts.str.len().fillna(1).to_numpy(dtype=np.int64)
    out = events.iloc[np.repeat(np.arange(len(events)), n)].reset_index(drop=True)
    exploded = parts.explode()  # one row per term, in record order (NaN: one-term record)
    out["term"] = np.where(exploded.isna().to_numpy(),
                           events["term"].to_numpy(dtype=object)[np.repeat(
                               np.arange(len(events)), n)], exploded.to_numpy(dtype=object))
    return out
