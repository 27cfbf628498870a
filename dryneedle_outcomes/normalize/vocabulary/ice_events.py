"""The intercurrent-event vocabulary and :func:`map_ice_events`.

One job: map recorded intercurrent events (ICH E9(R1) 2019, section A.3.1: events after
treatment initiation that affect the interpretation or existence of the measurements)
onto ``intercurrent_events.event``.

Vocabulary (:data:`ICE_EVENTS`)
    ``discontinued_treatment``, ``withdrew_from_study``, ``rescue_medication``,
    ``steroid_injection``, ``orthoses``, ``night_splint``, ``shockwave``,
    ``other_treatment``, ``adverse_event_withdrawal``.

Verbatims (:data:`DEFAULT_ICE_SYNONYMS`)
    The canonical names with spaces ("discontinued treatment") and the common ways a
    clinic writes them. Decisions worth stating:

    * "stopped treatment", "stopped needling", "discontinued" -> ``discontinued_treatment``
      (the patient stays in the study; treatment stops).
    * "lost to follow-up", "withdrew consent", "dropped out", "moved away" ->
      ``withdrew_from_study``. ICH E9(R1) (A.3.1) treats leaving the study as a cause
      of missing data rather than an intercurrent event; it is recorded here so that the
      first visit without data and its reason are known, and the estimand's strategy
      for it says how those missing values are handled (a ledger correction shows
      every such recoding).
    * "NSAIDs", "ibuprofen", "paracetamol", "analgesics", "painkillers" ->
      ``rescue_medication``; "cortisone injection", "corticosteroid injection" ->
      ``steroid_injection``; "orthotics", "insoles", "heel cups" -> ``orthoses``;
      "ESWT", "shock wave therapy" -> ``shockwave``; "physiotherapy", "acupuncture"
      -> ``other_treatment``; "withdrew due to adverse event", "AE withdrawal" ->
      ``adverse_event_withdrawal``.

    Matching is on the whole normalised text (lower case, dashes as spaces, outer
    punctuation stripped), never on a word inside a longer sentence: "stopped NSAIDs"
    is not "rescue medication". A verbatim that matches nothing is *not* guessed: the
    loader rejects its row (rule ``unknown_event``), which ``errors="quarantine"`` sets
    aside in the ledger; a mapping's ``[intercurrent_events.synonyms]`` adds words.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd

from ...errors import MappingError
from .matcher import apply_unique, normalize_text

#: Controlled vocabulary of ``intercurrent_events.event`` (DESIGN.md).
ICE_EVENTS: tuple[str, ...] = (
    "discontinued_treatment", "withdrew_from_study", "rescue_medication",
    "steroid_injection", "orthoses", "night_splint", "shockwave", "other_treatment",
    "adverse_event_withdrawal",
)

_WORDS: dict[str, tuple[str, ...]] = {
    "discontinued_treatment": (
        "discontinued", "treatment discontinued", "discontinued treatment",
        "stopped treatment", "stopped needling", "stopped dry needling",
        "treatment stopped", "stopped sessions", "discontinued needling",
        "discontinuation", "treatment discontinuation"),
    "withdrew_from_study": (
        "withdrew", "withdrawn", "withdrew from study", "withdrawn from study",
        "withdrew consent", "consent withdrawn", "study withdrawal", "lost to follow up",
        "lost to followup", "ltfu", "dropped out", "drop out", "dropout", "moved away"),
    "rescue_medication": (
        "rescue", "rescue medication", "rescue medicine", "analgesic", "analgesics",
        "analgesia", "painkiller", "painkillers", "pain killers", "nsaid", "nsaids",
        "ibuprofen", "naproxen", "diclofenac", "paracetamol", "acetaminophen",
        "oral nsaids", "took painkillers"),
    "steroid_injection": (
        "steroid injection", "corticosteroid injection", "cortisone injection",
        "cortisone", "cortico steroid injection", "csi"),
    "orthoses": (
        "orthosis", "orthoses", "orthotic", "orthotics", "insoles", "insole",
        "foot orthoses", "arch support", "arch supports", "heel cup", "heel cups"),
    "night_splint": ("night splint", "night splints", "night splinting"),
    "shockwave": (
        "shockwave", "shock wave", "shockwave therapy", "shock wave therapy", "eswt",
        "extracorporeal shockwave therapy", "extracorporeal shock wave therapy"),
    "other_treatment": (
        "other treatment", "physiotherapy", "physio", "acupuncture", "massage",
        "other therapy", "co intervention", "cointervention"),
    "adverse_event_withdrawal": (
        "adverse event withdrawal", "ae withdrawal", "withdrew due to adverse event",
        "withdrawn due to adverse event", "withdrew due to ae", "discontinued due to ae",
        "discontinued due to adverse event", "stopped due to adverse event"),
}

#: Normalised verbatim -> event (the words above and the names with spaces). Extend it
#: with a mapping's ``[intercurrent_events.synonyms]``.
DEFAULT_ICE_SYNONYMS: Mapping[str, str] = MappingProxyType({
    **{normalize_text(w): event for event, words in _WORDS.items() for w in words},
    **{normalize_text(e): e for e in ICE_EVENTS},
})


def map_ice_events(values: Any, synonyms: Mapping[str, str] | None = None) -> pd.DataFrame:
    """Map recorded intercurrent events onto the controlled vocabulary.

    Parameters
    ----------
    values : pandas.Series
        The events as recorded (canonical names or verbatims).
    synonyms : mapping, optional
        ``{verbatim: event}`` added to (and overriding) :data:`DEFAULT_ICE_SYNONYMS`.

    Returns
    -------
    pandas.DataFrame
        Aligned to ``values.index``: ``event`` (a vocabulary name, or NaN) and
        ``status``: ``"ok"``, ``"missing"`` (no value) or ``"unknown"`` (text that
        matches no event; never guessed).

    Raises
    ------
    MappingError
        When a synonym maps to a name outside :data:`ICE_EVENTS`.

    Examples
    --------
    >>> import pandas as pd
    >>> map_ice_events(pd.Series(["Lost to follow-up", "NSAIDs", None, "felt better",
    ...                           "rescue_medication"]))
                     event   status
    0  withdrew_from_study       ok
    1    rescue_medication       ok
    2                  NaN  missing
    3                  NaN  unknown
    4    rescue_medication       ok
    """
    table = dict(DEFAULT_ICE_SYNONYMS)
    for key, event in (synonyms or {}).items():
        if event not in ICE_EVENTS:
            raise MappingError(f"intercurrent-event synonym {key!r} = {event!r}: "
                               f"{event!r} is not an event; choose among "
                               f"{', '.join(ICE_EVENTS)}")
        table[normalize_text(str(key))] = event

    def parse(value: Any) -> tuple[Any, str]:
        text = normalize_text(str(value))
        if not text:
            return np.nan, "missing"
        event = table.get(text)
        return (event, "ok") if event is not None else (np.nan, "unknown")

    series, (event, status) = apply_unique(values, parse, 2, (np.nan, "missing"))
    return pd.DataFrame({"event": event, "status": status}, index=series.index)
