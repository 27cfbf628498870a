"""The adverse-event vocabulary: terms, their synonyms and :func:`map_ae_terms`.

One job: map verbatim adverse-event text onto ``adverse_events.term``.

Adverse-event terms (:func:`map_ae_terms`)
    1. exact match of the normalised text against the synonym table
       (:data:`DEFAULT_AE_SYNONYMS` extended/overridden by the user's synonyms);
    2. otherwise whole-word containment of any synonym in the text
       (``"small bruise left calf"`` -> ``bruising``). Mentions in a negated clause
       are ignored: ``"no bruising, felt faint"`` -> ``vasovagal``; a negation
       (no, not, nil, denies, denied, without, negative for, absence of, free of)
       reaches to the next ``, ; . :`` or "but";
    3. when several terms are contained, the first in :data:`AE_PRECEDENCE` wins:
       vasovagal > infection > bleeding > bruising > needle_site_pain >
       post_needling_soreness > other (the rarer, more clinically important event
       is kept; ``"bruising and bleeding"`` -> ``bleeding``);
    4. anything else that is not empty becomes ``"other"`` with ``matched=False`` so
       the caller can record it.
    Judgement calls: nausea, pallor, sweating/clamminess and dizziness map to
    ``vasovagal`` (in a needling clinic they are the vasovagal prodrome); bare
    "pain" is *not* mapped (needle-site pain and post-needling soreness cannot be
    told apart) and bare "redness" is not mapped; text that says there was no event
    (:data:`NO_EVENT_TEXT`: "none", "nil", "no AE", "nothing" ...) gives a missing
    term (NaN, ``matched=False``), because it is not an event at all.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd

from ...errors import MappingError
from .matcher import MISSING_TEXT, apply_unique, check_mapping, keyword_pattern, normalize_text

AE_TERMS: tuple[str, ...] = (
    "post_needling_soreness",
    "bruising",
    "bleeding",
    "vasovagal",
    "infection",
    "needle_site_pain",
    "other",
)
"""Controlled vocabulary of ``adverse_events.term``."""

AE_PRECEDENCE: tuple[str, ...] = (
    "vasovagal",
    "infection",
    "bleeding",
    "bruising",
    "needle_site_pain",
    "post_needling_soreness",
    "other",
)
"""Which term wins when a verbatim text contains synonyms of several terms."""

NO_EVENT_TEXT: frozenset[str] = frozenset(
    {
        "none",
        "nil",
        "no",
        "nothing",
        "no ae",
        "no aes",
        "no adverse event",
        "no adverse events",
        "no adverse reaction",
        "no adverse reactions",
        "no reaction",
        "none reported",
        "nil reported",
        "nad",
    }
)
"""Verbatim AE texts that report the absence of an event; they map to a missing term."""

_AE_SYNONYM_LISTS: dict[str, tuple[str, ...]] = {
    "bruising": (
        "bruise",
        "bruises",
        "bruised",
        "bruising",
        "small bruise",
        "minor bruising",
        "haematoma",
        "hematoma",
        "haematomas",
        "hematomas",
        "ecchymosis",
        "ecchymoses",
        "discolouration",
        "discoloration",
        "skin discolouration",
        "skin discoloration",
    ),
    "bleeding": (
        "bleed",
        "bleeds",
        "bleeding",
        "bled",
        "minor bleeding",
        "pinpoint bleeding",
        "pinpoint bleed",
        "pin point bleeding",
        "blood",
        "blood spot",
        "blood spots",
        "spot of blood",
        "drop of blood",
        "blood at needle site",
        "bleeding at needle site",
        "haemorrhage",
        "hemorrhage",
    ),
    "vasovagal": (
        "vasovagal",
        "vasovagal reaction",
        "vasovagal response",
        "vasovagal episode",
        "vaso vagal",
        "vvr",
        "faint",
        "fainted",
        "fainting",
        "felt faint",
        "feeling faint",
        "syncope",
        "syncopal episode",
        "presyncope",
        "pre syncope",
        "near syncope",
        "dizzy",
        "dizziness",
        "felt dizzy",
        "light headed",
        "lightheaded",
        "light headedness",
        "lightheadedness",
        "pale and sweaty",
        "pallor",
        "sweating",
        "sweaty",
        "clammy",
        "nausea",
        "nauseous",
        "nauseated",
        "felt sick",
        "passed out",
        "collapse",
        "collapsed",
        "loss of consciousness",
        "lost consciousness",
    ),
    "post_needling_soreness": (
        "doms",
        "delayed onset muscle soreness",
        "sore",
        "soreness",
        "sore calf",
        "sore foot",
        "sore heel",
        "muscle soreness",
        "post needling soreness",
        "post treatment soreness",
        "post needling pain",
        "post needling ache",
        "ache",
        "aches",
        "aching",
        "achy",
        "muscle ache",
        "stiffness",
        "stiff",
        "tender",
        "tenderness",
    ),
    "infection": (
        "infection",
        "infected",
        "local infection",
        "site infection",
        "needle site infection",
        "skin infection",
        "cellulitis",
        "redness and swelling",
        "red and swollen",
        "abscess",
        "pus",
    ),
    "needle_site_pain": (
        "needle site pain",
        "pain at needle site",
        "pain at the needle site",
        "pain at insertion",
        "pain at insertion site",
        "insertion pain",
        "pain on insertion",
        "sharp pain on insertion",
        "needle pain",
        "painful needling",
        "needling pain",
        "needle site soreness",
        "needle site tenderness",
        "burning at insertion",
        "burning on insertion",
        "burning at needle site",
        "burning sensation",
        "burning",
        "stinging",
    ),
}

DEFAULT_AE_SYNONYMS: Mapping[str, str] = MappingProxyType(
    {key: term for term, keys in _AE_SYNONYM_LISTS.items() for key in keys}
)
"""Normalised verbatim text -> AE term. Extend or override with ``synonyms=``."""

_NEGATION = re.compile(
    r"(?<![a-z])(?:no|not|nil|never|denies|denied|without|negative for|absence of|free of)"
    r"(?![a-z])"
)
_CLAUSE_BREAK = re.compile(r"[,;.:]|(?<![a-z])(?:but|however|then)(?![a-z])")
_AE_RANK = {term: rank for rank, term in enumerate(AE_PRECEDENCE)}


def _ae_table(synonyms: Mapping[str, str] | None) -> dict[str, str]:
    table = dict(DEFAULT_AE_SYNONYMS)
    if synonyms is None:
        return table
    for key, value in check_mapping(synonyms, "AE synonyms").items():
        term = value.strip().lower() if isinstance(value, str) else value
        if term not in AE_TERMS:
            raise MappingError(
                f"AE synonym {key!r} maps to {value!r}, which is not an adverse-event term; "
                f"allowed terms: {', '.join(AE_TERMS)}."
            )
        norm = normalize_text(key) if isinstance(key, str) else ""
        if not norm:
            raise MappingError(f"AE synonym key {key!r} must be non-empty text.")
        table[norm] = term
    return table


def _negated(text: str, start: int) -> bool:
    before = text[:start]
    breaks = list(_CLAUSE_BREAK.finditer(before))
    clause = before[breaks[-1].end() :] if breaks else before
    return _NEGATION.search(clause) is not None


def map_ae_terms(verbatim: Any, synonyms: Mapping[str, str] | None = None) -> pd.DataFrame:
    """Map verbatim adverse-event text onto the controlled AE vocabulary.

    Parameters
    ----------
    verbatim : pandas.Series
        Verbatim adverse-event descriptions as reported (any dtype).
    synonyms : mapping of str to str, optional
        Extra synonyms ``{text: term}``; they extend and override
        :data:`DEFAULT_AE_SYNONYMS`. Keys are normalised like the data.

    Returns
    -------
    pandas.DataFrame
        Aligned to ``verbatim.index``, columns ``term`` (one of :data:`AE_TERMS`,
        NaN when the verbatim is missing or says there was no event) and ``matched``
        (bool; False when the term fell back to ``"other"`` or is missing).

    Raises
    ------
    MappingError
        If a user synonym maps to a term that is not in :data:`AE_TERMS`.

    Notes
    -----
    Exact synonym match first, then whole-word containment outside negated clauses,
    with ties broken by :data:`AE_PRECEDENCE`. See the module docstring.

    Examples
    --------
    >>> import pandas as pd
    >>> v = pd.Series(["Haematoma", "pinpoint bleed + bruise", "no bruising, felt dizzy",
    ...                "Calf cramp", "none", ""])
    >>> map_ae_terms(v)
            term  matched
    0   bruising     True
    1   bleeding     True
    2  vasovagal     True
    3      other    False
    4        NaN    False
    5        NaN    False
    >>> map_ae_terms(pd.Series(["calf cramp"]), synonyms={"cramp": "post_needling_soreness"})
                         term  matched
    0  post_needling_soreness     True
    """
    table = _ae_table(synonyms)
    pattern = keyword_pattern(table)

    def parse(value: Any) -> tuple[Any, bool]:
        text = normalize_text(value)
        if text in MISSING_TEXT or text in NO_EVENT_TEXT:
            return np.nan, False
        if text in table:
            return table[text], True
        found = {
            table[m.group(0)]
            for m in (pattern.finditer(text) if pattern is not None else ())
            if not _negated(text, m.start())
        }
        if found:
            return min(found, key=_AE_RANK.__getitem__), True
        return "other", False

    series, (term, matched) = apply_unique(verbatim, parse, 2, (np.nan, False))
    return pd.DataFrame(
        {"term": term, "matched": matched.astype(bool)},
        index=series.index,
    )
