"""Controlled vocabularies for adverse events, severities, yes/no flags and muscles.

Clinic spreadsheets spell the same thing many ways ("Bruise L calf", "haematoma",
"pinpoint bleed"). The parsers here map such free text onto the fixed codes of the
canonical tables and say, row by row, whether the mapping was certain, so the loader
can record every fallback in the quality ledger instead of dropping or guessing.

All parsers are vectorised: the input is factorised, the distinct values are parsed
once in Python and the results are mapped back to the rows with ``numpy.take``.
Free text is never evaluated; text beginning with ``=``, ``+``, ``-`` or ``@`` is
just text.

One vocabulary per module, sharing one matcher:

:mod:`~dryneedle_outcomes.normalize.vocabulary.matcher`
    text normalisation, missing values, code keys, parsing each distinct value once;
:mod:`~dryneedle_outcomes.normalize.vocabulary.ae_terms`
    adverse-event terms (:func:`map_ae_terms`);
:mod:`~dryneedle_outcomes.normalize.vocabulary.severity`
    severities and CTCAE grades (:func:`map_severity`);
:mod:`~dryneedle_outcomes.normalize.vocabulary.yes_no`
    yes/no flags (:func:`map_bool`);
:mod:`~dryneedle_outcomes.normalize.vocabulary.muscles`
    needled muscles and the side (:func:`map_muscles`);
:mod:`~dryneedle_outcomes.normalize.vocabulary.needling`
    needling technique and side columns (:func:`map_technique`, :func:`map_laterality`);
:mod:`~dryneedle_outcomes.normalize.vocabulary.ice_events`
    intercurrent events (:func:`map_ice_events`);
:mod:`~dryneedle_outcomes.normalize.vocabulary.allocation_guess`
    the blinding question's answer (:func:`map_allocation_guess`).

This package re-exports their public names, so
``from dryneedle_outcomes.normalize.vocabulary import map_ae_terms`` works as before.

Examples
--------
>>> import pandas as pd
>>> from dryneedle_outcomes.normalize.vocabulary import map_ae_terms, map_muscles
>>> map_ae_terms(pd.Series(["Bruise", "felt faint", "itchy ankle", "bruising and bleeding"]))
        term  matched              terms  n_terms
0   bruising     True           bruising        1
1  dizziness     True          dizziness        1
2      other    False              other        1
3   bleeding     True  bleeding;bruising        2
>>> map_muscles(pd.Series(["Gastroc + soleus", "FDB; L abductor hallucis", "calf"]))
                                     muscles unmatched laterality
0                       gastrocnemius;soleus       NaN        NaN
1  abductor_hallucis;flexor_digitorum_brevis       NaN       left
2                                      other      calf        NaN
"""

from __future__ import annotations

from .ae_terms import AE_PRECEDENCE, AE_TERMS, DEFAULT_AE_SYNONYMS, NO_EVENT_TEXT, map_ae_terms
from .allocation_guess import DEFAULT_GUESS_CODES, GUESSES, map_allocation_guess
from .ice_events import DEFAULT_ICE_SYNONYMS, ICE_EVENTS, map_ice_events
from .matcher import MISSING_TEXT, normalize_text
from .muscles import (
    DEFAULT_MUSCLE_SYNONYMS,
    INTRINSIC_FOOT_MUSCLES,
    LATERALITIES,
    LATERALITY_WORDS,
    MUSCLE_GROUPS,
    MUSCLES,
    map_muscles,
    muscle_arrays,
    muscle_groups,
)
from .muscles import map_muscles_arrays as map_muscles_arrays
from .needling import DEFAULT_TECHNIQUE_SYNONYMS, TECHNIQUES, map_laterality, map_technique
from .severity import DEFAULT_SEVERITY_CODES, SEVERITIES, map_severity
from .yes_no import DEFAULT_BOOL_CODES, map_bool

__all__ = [
    "DEFAULT_GUESS_CODES",
    "GUESSES",
    "map_allocation_guess",
    "AE_TERMS",
    "AE_PRECEDENCE",
    "SEVERITIES",
    "MUSCLES",
    "MISSING_TEXT",
    "NO_EVENT_TEXT",
    "DEFAULT_AE_SYNONYMS",
    "DEFAULT_SEVERITY_CODES",
    "DEFAULT_BOOL_CODES",
    "DEFAULT_MUSCLE_SYNONYMS",
    "normalize_text",
    "map_ae_terms",
    "map_severity",
    "map_bool",
    "map_muscles",
    "muscle_arrays",
    "muscle_groups",
    "INTRINSIC_FOOT_MUSCLES",
    "LATERALITIES",
    "LATERALITY_WORDS",
    "MUSCLE_GROUPS",
    "DEFAULT_TECHNIQUE_SYNONYMS",
    "TECHNIQUES",
    "map_laterality",
    "map_technique",
    "ICE_EVENTS",
    "DEFAULT_ICE_SYNONYMS",
    "map_ice_events",
]
