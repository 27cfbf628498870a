"""The adverse-event vocabulary: terms, their synonyms and :func:`map_ae_terms`.

One job: map verbatim adverse-event text onto ``adverse_events.term``.

The terms (:data:`AE_TERMS`)
    The categories the dry-needling safety literature reports separately. Brady et al.
    (2014, "Adverse events following trigger point dry needling: a prospective survey
    of chartered physiotherapists", J Man Manip Ther 22(3):134-140, abstract) report
    bruising (7.55% of 7,629 treatments), bleeding (4.65%), pain during treatment
    (3.01%), pain after treatment (2.19%), aggravation of symptoms (0.88%), drowsiness
    (0.26%), headache (0.14%), nausea (0.13%), fatigue (0.04%), altered emotions
    (0.04%), and shaking, itching, claustrophobia and numbness (0.01% each). Here:
    pain during treatment is ``needle_site_pain``; pain after treatment is
    ``post_needling_soreness``; numbness, tingling and pins and needles are
    ``paraesthesia``; drowsiness and fatigue are one term, ``drowsiness`` (as
    DESIGN.md's vocabulary has it; map ``fatigue`` elsewhere with ``synonyms=`` to keep
    it apart); altered emotions, shaking, itching and claustrophobia are ``other``.
    Added from the clinic's own concerns (DESIGN.md): ``infection``, ``fainting``
    (syncope, loss of consciousness), ``dizziness`` (light-headedness, feeling faint,
    presyncope) and ``vasovagal`` (a vasovagal reaction named as such, or its
    autonomic signs: pallor, sweating, clamminess). Nausea and dizziness are their own
    terms, not folded into ``vasovagal``.

Mapping (:func:`map_ae_terms`)
    1. exact match of the normalised text against the synonym table
       (:data:`DEFAULT_AE_SYNONYMS` extended/overridden by the user's synonyms): one term;
    2. otherwise whole-word containment of every synonym in the text, longest first
       (``"small bruise left calf"`` -> ``bruising``). Mentions in a negated clause
       are ignored: ``"no bruising, felt faint"`` -> ``dizziness``; a negation
       (no, not, nil, denies, denied, without, negative for, absence of, free of)
       reaches to the next ``, ; . :`` or "but";
    3. a text that names several events (``"bruising and bleeding"``) gives every
       term it names, in the order of :data:`AE_PRECEDENCE`: the ``terms`` column
       joins them with ``;`` and ``n_terms`` counts them; ``term`` is the first (the
       rarer, more clinically important event). The loader turns such a row into one
       event per term, linked by ``verbatim_id``;
    4. anything else that is not empty becomes ``"other"`` with ``matched=False`` so
       the caller can record it.
    Bare "pain" is *not* mapped (pain during and after needling cannot be told
    apart) and bare "redness" is not mapped; text that says there was no event
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
    "aggravation_of_symptoms",
    "paraesthesia",
    "drowsiness",
    "headache",
    "nausea",
    "dizziness",
    "fainting",
    "other",
)
"""Controlled vocabulary of ``adverse_events.term`` (see the module docstring)."""

AE_PRECEDENCE: tuple[str, ...] = (
    "fainting",
    "vasovagal",
    "infection",
    "bleeding",
    "bruising",
    "paraesthesia",
    "dizziness",
    "nausea",
    "headache",
    "drowsiness",
    "aggravation_of_symptoms",
    "needle_site_pain",
    "post_needling_soreness",
    "other",
)
"""The order of the terms one verbatim names; the first is ``term``."""

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
        "vasovagal syncope",
        "vaso vagal",
        "vvr",
        "pale and sweaty",
        "pallor",
        "pale",
        "sweating",
        "sweaty",
        "clammy",
    ),
    "fainting": (
        "faint",
        "fainted",
        "fainting",
        "syncope",
        "syncopal episode",
        "passed out",
        "collapse",
        "collapsed",
        "loss of consciousness",
        "lost consciousness",
    ),
    "dizziness": (
        "dizzy",
        "dizziness",
        "felt dizzy",
        "felt faint",
        "feeling faint",
        "nearly fainted",
        "almost fainted",
        "presyncope",
        "pre syncope",
        "near syncope",
        "light headed",
        "lightheaded",
        "light headedness",
        "lightheadedness",
        "giddy",
    ),
    "nausea": (
        "nausea",
        "nauseous",
        "nauseated",
        "felt sick",
        "feeling sick",
        "queasy",
        "vomiting",
        "vomited",
    ),
    "headache": (
        "headache",
        "headaches",
        "head ache",
        "migraine",
    ),
    "drowsiness": (
        "drowsy",
        "drowsiness",
        "sleepy",
        "sleepiness",
        "fatigue",
        "fatigued",
        "tired",
        "tiredness",
        "lethargy",
        "lethargic",
    ),
    "paraesthesia": (
        "paraesthesia",
        "paraesthesiae",
        "paresthesia",
        "paresthesias",
        "pins and needles",
        "tingling",
        "tingly",
        "numb",
        "numbness",
        "altered sensation",
    ),
    "aggravation_of_symptoms": (
        "aggravation of symptoms",
        "aggravation",
        "aggravated symptoms",
        "symptoms aggravated",
        "symptoms worse",
        "worse symptoms",
        "flare",
        "flare up",
        "flared up",
        "exacerbation",
        "exacerbation of symptoms",
        "increased heel pain",
        "heel pain worse",
        "worse heel pain",
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
        "pain after treatment",
        "pain after needling",
        "pain after the session",
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
        "pain during treatment",
        "pain during needling",
        "pain during the session",
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
        NaN when the verbatim is missing or says there was no event; the first of
        the terms named, in :data:`AE_PRECEDENCE`), ``matched`` (bool; False when the
        term fell back to ``"other"`` or is missing), ``terms`` (every term the text
        names, joined by ``;``, in :data:`AE_PRECEDENCE` order) and ``n_terms`` (how
        many; 0 when missing).

    Raises
    ------
    MappingError
        If a user synonym maps to a term that is not in :data:`AE_TERMS`.

    Notes
    -----
    Exact synonym match first, then whole-word containment outside negated clauses;
    a text naming several events gives every term (see the module docstring).

    Examples
    --------
    >>> import pandas as pd
    >>> v = pd.Series(["Haematoma", "pinpoint bleed + bruise", "no bruising, felt dizzy",
    ...                "Calf cramp", "none", ""])
    >>> map_ae_terms(v)[["term", "matched", "terms"]]
            term  matched              terms
    0   bruising     True           bruising
    1   bleeding     True  bleeding;bruising
    2  dizziness     True          dizziness
    3      other    False              other
    4        NaN    False                NaN
    5        NaN    False                NaN
    >>> map_ae_terms(pd.Series(["calf cramp"]), synonyms={"cramp": "post_needling_soreness"})
                         term  matched                   terms  n_terms
    0  post_needling_soreness     True  post_needling_soreness        1
    """
    table = _ae_table(synonyms)
    pattern = keyword_pattern(table)

    def parse(value: Any) -> tuple[Any, bool, Any, int]:
        text = normalize_text(value)
        if text in MISSING_TEXT or text in NO_EVENT_TEXT:
            return np.nan, False, np.nan, 0
        if text in table:
            return table[text], True, table[text], 1
        found = {
            table[m.group(0)]
            for m in (pattern.finditer(text) if pattern is not None else ())
            if not _negated(text, m.start())
        }
        if found:
            ordered = sorted(found, key=_AE_RANK.__getitem__)
            return ordered[0], True, ";".join(ordered), len(ordered)
        return "other", False, "other", 1

    series, (term, matched, terms, n_terms) = apply_unique(
        verbatim, parse, 4, (np.nan, False, np.nan, 0))
    return pd.DataFrame(
        {"term": term, "matched": matched.astype(bool), "terms": terms,
         "n_terms": n_terms.astype(np.int64)},
        index=series.index,
    )
