"""The adverse-events table: one row per event in a controlled vocabulary."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..mapping import TableMapping
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
        recoded = (~in_vocab & given.notna() & mapped["matched"]).to_numpy()
        rec.correct_rows(recoded, "term", given.to_numpy(dtype=object),
                         term.to_numpy(dtype=object), "term mapped to the controlled vocabulary")
        unmatched = (~in_vocab & given.notna() & ~mapped["matched"]).to_numpy()
        if verbatim is None:
            verbatim = given
    elif verbatim is not None:
        mapped = map_ae_terms(verbatim, tm.synonyms or None)
        term = mapped["term"]
        record_recodes(rec, "verbatim", verbatim, term.where(mapped["matched"]),
                       "verbatim term mapped to the vocabulary")
        unmatched = (verbatim.notna() & ~mapped["matched"]).to_numpy()
    else:
        term = pd.Series(pd.NA, index=raw.index, dtype=object)
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
    if "severity" in raw:
        sev = map_severity(raw["severity"], tm.codes.get("severity"))
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
    add_carried(out, rec.extras)
    rec.data = out
