"""Controlled vocabularies for adverse events, severities, yes/no flags and muscles.

Clinic spreadsheets spell the same thing many ways ("Bruise L calf", "haematoma",
"pinpoint bleed"). The parsers here map such free text onto the fixed codes of the
canonical tables and say, row by row, whether the mapping was certain, so the loader
can record every fallback in the quality ledger instead of dropping or guessing.

All parsers are vectorised: the input is factorised, the distinct values are parsed
once in Python and the results are mapped back to the rows with ``numpy.take``.
Free text is never evaluated; text beginning with ``=``, ``+``, ``-`` or ``@`` is
just text.

Text normalisation (:func:`normalize_text`)
    Unicode NFKC, lower case, hyphens/dashes/underscores become spaces, runs of
    whitespace collapse to one space, punctuation at either end is stripped
    (``"Bruising."`` -> ``"bruising"``).

Missing values
    NaN/None/NA and blank text, plus the tokens in :data:`MISSING_TEXT`
    (``"n/a"``, ``"unknown"``, ``"not recorded"``, ``"nr"``, ``"?"``, ``"-"`` ...).

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

Severity (:func:`map_severity`)
    mild: mild, minor, slight(ly); moderate: moderate, mod, medium, moderately;
    severe: severe, marked, major, very severe, life threatening. Grades follow
    CTCAE: 1 mild, 2 moderate, 3 severe and 4/5 also severe, written ``3``,
    ``3.0``, ``"grade 3"``, ``"gr 3"``, ``"G3"``, ``"grade III"``, ``"CTCAE 3"``.
    ``"serious"`` is deliberately *not* severe - seriousness is a separate
    regulatory flag - so it is ``invalid``. Combined grades ("mild-moderate") are
    ``invalid``: they are never resolved by guessing.

Yes/no flags (:func:`map_bool`)
    True: yes, y, true, t, 1, ja, j, oui, si, x, checked, ticked, present,
    positive, pos, ✓, ✔. False: no, n, false, f, 0, nein, non, unchecked,
    unticked, absent, negative, neg. A blank checkbox cell is *missing*, not
    False. Anything else (including 2, -1, "maybe") is ``invalid``.

Muscles (:func:`map_muscles`)
    Lists are split on ``, ; / + & |``, "and" and "plus". Laterality and position
    words (left, right, L, R, bilateral, b/l, medial, lateral, med, lat, head, of,
    deep, superficial, proximal, distal, belly, muscle, m, mm, trigger point, TP)
    are ignored. Each part is matched exactly against :data:`DEFAULT_MUSCLE_SYNONYMS`
    (plus user synonyms), then by whole-word containment of the longer synonyms
    (five letters or more; abbreviations such as ``PF``, ``FDB``, ``QP`` and the
    generic word ``fascia`` only match a whole part). "triceps surae" is
    gastrocnemius and soleus by definition. Judgement call: bare **"calf" is not
    mapped** (it may mean gastrocnemius, soleus or both); it becomes ``other`` and is
    listed in ``unmatched``. Pass ``synonyms={"calf": "gastrocnemius"}`` (or
    ``("gastrocnemius", "soleus")``) if the clinic's notes mean something definite.

Examples
--------
>>> import pandas as pd
>>> from dryneedle_outcomes.normalize.vocabulary import map_ae_terms, map_muscles
>>> map_ae_terms(pd.Series(["Bruise", "felt faint", "itchy ankle", None]))
               term  matched
0          bruising     True
1         vasovagal     True
2             other    False
3               NaN    False
>>> map_muscles(pd.Series(["Gastroc + soleus", "FDB; abductor hallucis", "calf"]))
                muscles unmatched
0  gastrocnemius;soleus       NaN
1        intrinsic_foot       NaN
2                 other      calf
"""

from __future__ import annotations

import re
import string
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd

from ..errors import MappingError

__all__ = [
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
]

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

SEVERITIES: tuple[str, ...] = ("mild", "moderate", "severe")
"""Controlled vocabulary of ``adverse_events.severity``."""

MUSCLES: tuple[str, ...] = ("gastrocnemius", "soleus", "intrinsic_foot", "plantar_fascia", "other")
"""Controlled vocabulary (and sort order) of ``assessments.muscles``."""

MISSING_TEXT: frozenset[str] = frozenset(
    {
        "",
        "na",
        "n/a",
        "n.a",
        "nan",
        "nat",
        "null",
        "unknown",
        "unk",
        "not known",
        "nk",
        "n/k",
        "not recorded",
        "not reported",
        "nr",
        "not assessed",
        "not asked",
        "not available",
        "missing",
        "blank",
    }
)
"""Normalised texts that mean "no value" in every vocabulary (blank, "n/a", "?" ...)."""

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

_SEVERITY_WORDS: dict[str, tuple[str, ...]] = {
    "mild": ("mild", "minor", "slight", "slightly"),
    "moderate": ("moderate", "mod", "medium", "moderately"),
    "severe": ("severe", "marked", "major", "very severe", "life threatening"),
}

DEFAULT_SEVERITY_CODES: Mapping[str, str] = MappingProxyType(
    {
        **{word: sev for sev, words in _SEVERITY_WORDS.items() for word in words},
        "1": "mild",
        "2": "moderate",
        "3": "severe",
        "4": "severe",
        "5": "severe",
    }
)
"""Normalised severity text or CTCAE grade -> severity. Extend or override with ``codes=``."""

_BOOL_WORDS: dict[bool, tuple[str, ...]] = {
    True: (
        "yes",
        "y",
        "true",
        "t",
        "1",
        "ja",
        "j",
        "oui",
        "si",
        "sí",
        "x",
        "checked",
        "ticked",
        "present",
        "positive",
        "pos",
        "✓",
        "✔",
    ),
    False: (
        "no",
        "n",
        "false",
        "f",
        "0",
        "nein",
        "non",
        "unchecked",
        "unticked",
        "absent",
        "negative",
        "neg",
    ),
}

DEFAULT_BOOL_CODES: Mapping[str, bool] = MappingProxyType(
    {word: flag for flag, words in _BOOL_WORDS.items() for word in words}
)
"""Normalised text -> bool. Extend or override with ``codes=``."""

_MUSCLE_SYNONYM_LISTS: dict[str, tuple[str, ...]] = {
    "gastrocnemius": (
        "gastrocnemius",
        "gastrocnemii",
        "gastroc",
        "gastrocs",
        "gastrocnemius muscle",
        "mg",
        "lg",
        "mgas",
        "lgas",
    ),
    "soleus": ("soleus", "sol", "soleus muscle"),
    "intrinsic_foot": (
        "intrinsic",
        "intrinsics",
        "foot intrinsic",
        "foot intrinsics",
        "intrinsic foot",
        "intrinsic foot muscle",
        "intrinsic foot muscles",
        "plantar intrinsics",
        "fdb",
        "flexor digitorum brevis",
        "abductor hallucis",
        "abd hallucis",
        "abd hal",
        "abdh",
        "quadratus plantae",
        "qp",
        "abductor digiti minimi",
        "abductor digiti minimi pedis",
        "abd digiti minimi",
        "adm",
        "adqp",
        "flexor hallucis brevis",
        "fhb",
        "adductor hallucis",
        "flexor digiti minimi brevis",
        "lumbricals",
        "lumbricales",
        "interossei",
        "plantar interossei",
        "dorsal interossei",
        "extensor digitorum brevis",
        "edb",
        "extensor hallucis brevis",
        "ehb",
    ),
    "plantar_fascia": (
        "plantar fascia",
        "pf",
        "fascia",
        "plantar aponeurosis",
        "plantar fascia insertion",
        "plantar fascia origin",
    ),
}

DEFAULT_MUSCLE_SYNONYMS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        **{key: (code,) for code, keys in _MUSCLE_SYNONYM_LISTS.items() for key in keys},
        "triceps surae": ("gastrocnemius", "soleus"),
    }
)
"""Normalised muscle text -> canonical codes. Extend or override with ``synonyms=``."""

_MUSCLE_QUALIFIERS = frozenset(
    {
        "left",
        "right",
        "l",
        "r",
        "lt",
        "rt",
        "both",
        "bilateral",
        "bilat",
        "medial",
        "lateral",
        "med",
        "lat",
        "head",
        "heads",
        "of",
        "the",
        "deep",
        "superficial",
        "proximal",
        "distal",
        "belly",
        "muscle",
        "muscles",
        "m",
        "mm",
        "trigger",
        "point",
        "points",
        "tp",
        "tps",
        "mtrp",
        "mtrps",
    }
)
_MUSCLE_EXACT_ONLY = frozenset({"fascia"})
_MUSCLE_MISSING = frozenset({"none", "nil", "not needled", "no needling", "nothing"})

_END_PUNCT = string.punctuation + "\u2018\u2019\u201a\u201c\u201d\u201e\u2026\u00b7\u00bf\u00a1"
_DASHES = re.compile(r"[-_\u2010\u2011\u2012\u2013\u2014\u2015\u2212]")
_SPACES = re.compile(r"\s+")
_PLAIN_NUMBER = re.compile(r"\d+(?:[.,]\d+)?")


# ---------------------------------------------------------------------------
# shared helpers (also used by soreness.py and dates.py)
# ---------------------------------------------------------------------------


def normalize_text(text: str) -> str:
    """Normalise free text for vocabulary look-ups.

    Parameters
    ----------
    text : str
        Any text.

    Returns
    -------
    str
        NFKC-normalised, lower case, hyphens/dashes/underscores turned into spaces,
        whitespace collapsed, punctuation stripped from both ends.

    Examples
    --------
    >>> normalize_text("  Light-headed ,  pale_and   sweaty.  ")
    'light headed , pale and sweaty'
    """
    t = unicodedata.normalize("NFKC", str(text)).lower()
    t = _DASHES.sub(" ", t)
    t = _SPACES.sub(" ", t)
    return t.strip(_END_PUNCT + " ")


def _as_series(values: Any) -> pd.Series:
    """Return ``values`` as a Series (lists and arrays are wrapped)."""
    if isinstance(values, pd.Series):
        return values
    if isinstance(values, pd.Index):
        return pd.Series(values, index=range(len(values)))
    return pd.Series(values)


def _factorize(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Codes (-1 for missing) and the distinct non-missing values as an object array."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    return np.asarray(codes, dtype=np.intp), np.asarray(uniques, dtype=object)


def _spread(per_unique: np.ndarray, codes: np.ndarray, fill: Any) -> np.ndarray:
    """Map one result per distinct value back to the rows (``fill`` where code is -1)."""
    extended = np.empty(len(per_unique) + 1, dtype=per_unique.dtype)
    extended[:-1] = per_unique
    extended[-1] = fill
    return extended.take(np.where(codes < 0, len(per_unique), codes))


def _apply_unique(
    values: Any, func: Callable[[Any], tuple], n_out: int, missing: tuple
) -> tuple[pd.Series, list[np.ndarray]]:
    """Apply ``func`` to each distinct non-missing value; return per-row object arrays."""
    series = _as_series(values)
    codes, uniques = _factorize(series)
    results = [func(u) for u in uniques]
    columns = []
    for k in range(n_out):
        per_unique = np.empty(len(uniques), dtype=object)
        per_unique[:] = [r[k] for r in results]
        columns.append(_spread(per_unique, codes, missing[k]))
    return series, columns


def _is_number(value: Any) -> bool:
    """True for real numbers (Python or numpy), False for bools and everything else."""
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(
        value, (bool, np.bool_)
    )


def _number_key(x: float) -> str:
    """Canonical text of a number: ``1``, ``1.0`` and ``"1"`` all become ``"1"``."""
    if np.isfinite(x) and float(x).is_integer():
        return str(int(x))
    return repr(float(x))


def _code_key(value: Any) -> str | None:
    """Look-up key of a raw code (number, bool or text); None when missing.

    Text that starts with a sign or a formula character is kept literally (it is
    just text and so only matches a user code written the same way).
    """
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, (bool, np.bool_)):
        return "true" if value else "false"
    if _is_number(value):
        x = float(value)
        return None if np.isnan(x) else _number_key(x)
    text = unicodedata.normalize("NFKC", str(value)).strip().lower()
    compact = text.replace(" ", "")
    if _PLAIN_NUMBER.fullmatch(compact):
        return _number_key(float(compact.replace(",", ".")))
    if text[:1] in {"-", "+", "=", "@"} and normalize_text(text):
        return _SPACES.sub(" ", text)
    return normalize_text(text)


def _check_mapping(obj: Any, name: str) -> Mapping:
    if not isinstance(obj, Mapping):
        raise MappingError(f"{name} must be a mapping (dict), got {type(obj).__name__}.")
    return obj


def _is_missing_value(value: Any) -> bool:
    if value is None:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


# ---------------------------------------------------------------------------
# adverse-event terms
# ---------------------------------------------------------------------------

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
    for key, value in _check_mapping(synonyms, "AE synonyms").items():
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


def _keyword_pattern(keys: Iterable[str]) -> re.Pattern[str] | None:
    ordered = sorted(set(keys), key=len, reverse=True)
    if not ordered:
        return None
    alternation = "|".join(re.escape(k) for k in ordered)
    return re.compile(rf"(?<![a-z0-9])(?:{alternation})(?![a-z0-9])")


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
    pattern = _keyword_pattern(table)

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

    series, (term, matched) = _apply_unique(verbatim, parse, 2, (np.nan, False))
    return pd.DataFrame(
        {"term": term, "matched": matched.astype(bool)},
        index=series.index,
    )


# ---------------------------------------------------------------------------
# severity
# ---------------------------------------------------------------------------

_GRADE = re.compile(r"(?:ctcae\s*(?:grade|gr|g)?|grade|gr|g)\s*\.?\s*(?P<g>[1-5]|iv|v|i{1,3})")
_ROMAN = {"i": 1, "ii": 2, "iii": 3, "iv": 4, "v": 5}


def _user_codes(
    codes: Mapping | None, name: str, convert: Callable[[Any], Any], allowed: str
) -> dict[str, Any]:
    """Normalise user codes: key -> converted value (None means "missing")."""
    out: dict[str, Any] = {}
    if codes is None:
        return out
    for key, value in _check_mapping(codes, name).items():
        k = _code_key(key)
        if k is None or k == "":
            raise MappingError(f"{name}: key {key!r} is empty or missing; keys must be codes.")
        if _is_missing_value(value):
            out[k] = None
            continue
        converted = convert(value)
        if converted is None:
            raise MappingError(
                f"{name}: code {key!r} maps to {value!r}, which is not allowed; "
                f"allowed values: {allowed} (or None for missing)."
            )
        out[k] = converted
    return out


def _to_severity(value: Any) -> str | None:
    if isinstance(value, str) and value.strip().lower() in SEVERITIES:
        return value.strip().lower()
    return None


def map_severity(values: Any, codes: Mapping | None = None) -> pd.DataFrame:
    """Map severity words, CTCAE-like grades and site codes to mild/moderate/severe.

    Parameters
    ----------
    values : pandas.Series
        Severity as recorded: words, grades (``2``, ``"grade 2"``, ``"G2"``) or codes.
    codes : mapping, optional
        ``{raw code: severity}`` overriding the defaults; ``1`` and ``"1"`` are the
        same code. A value of None marks the code as meaning "missing".

    Returns
    -------
    pandas.DataFrame
        Aligned to ``values.index``, columns ``severity`` (mild/moderate/severe or
        NaN) and ``status`` ("ok", "missing" or "invalid").

    Raises
    ------
    MappingError
        If a user code maps to something other than a severity or None.

    Notes
    -----
    Grades: 1 mild, 2 moderate, 3-5 severe. "serious" is a regulatory flag, not a
    severity, and is ``invalid``; so are combined grades such as "mild-moderate".

    Examples
    --------
    >>> import pandas as pd
    >>> map_severity(pd.Series(["Mild", "grade 2", 3, "serious", None, "A"]), codes={"a": "mild"})
       severity   status
    0      mild       ok
    1  moderate       ok
    2    severe       ok
    3       NaN  invalid
    4       NaN  missing
    5      mild       ok
    """
    table: dict[str, Any] = dict(DEFAULT_SEVERITY_CODES)
    table.update(_user_codes(codes, "severity codes", _to_severity, ", ".join(SEVERITIES)))

    def parse(value: Any) -> tuple[Any, str]:
        if isinstance(value, (bool, np.bool_)):
            return np.nan, "invalid"
        key = _code_key(value)
        if key is None:
            return np.nan, "missing"
        if key in table:
            sev = table[key]
            return (np.nan, "missing") if sev is None else (sev, "ok")
        if key in MISSING_TEXT:
            return np.nan, "missing"
        m = _GRADE.fullmatch(key)
        if m:
            g = m.group("g")
            grade = int(g) if g.isdigit() else _ROMAN[g]
            return DEFAULT_SEVERITY_CODES[str(grade)], "ok"
        return np.nan, "invalid"

    series, (severity, status) = _apply_unique(values, parse, 2, (np.nan, "missing"))
    return pd.DataFrame({"severity": severity, "status": status}, index=series.index)


# ---------------------------------------------------------------------------
# yes/no flags
# ---------------------------------------------------------------------------


def _to_bool(value: Any) -> bool | None:
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    return None


def map_bool(values: Any, codes: Mapping | None = None) -> pd.DataFrame:
    """Map yes/no style flags (several languages, checkboxes, 1/0) to booleans.

    Parameters
    ----------
    values : pandas.Series
        Flags as recorded.
    codes : mapping, optional
        ``{raw code: True | False | None}`` overriding the defaults (None means
        "missing"); e.g. ``{"2": False}`` for a 1 = yes / 2 = no coding.

    Returns
    -------
    pandas.DataFrame
        Aligned to ``values.index``, columns ``value`` (pandas ``"boolean"`` dtype,
        ``<NA>`` unless ok) and ``status`` ("ok", "missing" or "invalid").

    Raises
    ------
    MappingError
        If a user code maps to something other than True, False or None.

    Examples
    --------
    >>> import pandas as pd
    >>> map_bool(pd.Series(["Yes", "n", 1, "ja", "X", "", "maybe"]))
       value   status
    0   True       ok
    1  False       ok
    2   True       ok
    3   True       ok
    4   True       ok
    5   <NA>  missing
    6   <NA>  invalid
    >>> map_bool(pd.Series([1, 2]), codes={2: False})["value"].tolist()
    [True, False]
    """
    table: dict[str, Any] = dict(DEFAULT_BOOL_CODES)
    table.update(_user_codes(codes, "boolean codes", _to_bool, "True, False"))

    def parse(value: Any) -> tuple[Any, str]:
        key = _code_key(value)
        if key is None:
            return None, "missing"
        if key in table:
            flag = table[key]
            return (None, "missing") if flag is None else (bool(flag), "ok")
        if key in MISSING_TEXT:
            return None, "missing"
        return None, "invalid"

    series, (flag, status) = _apply_unique(values, parse, 2, (None, "missing"))
    mask = status != "ok"
    value = pd.arrays.BooleanArray(np.where(mask, False, flag).astype(bool), mask.astype(bool))
    return pd.DataFrame({"value": value, "status": status}, index=series.index)


# ---------------------------------------------------------------------------
# muscles
# ---------------------------------------------------------------------------

_MUSCLE_SPLIT = re.compile(r"\s*(?:[,;/+&|\n]|(?<![a-z])(?:and|plus)(?![a-z]))\s*", re.IGNORECASE)
_BILATERAL_SLASH = re.compile(r"(?<![a-z])b\s*/\s*l(?![a-z])", re.IGNORECASE)
_MUSCLE_RANK = {code: rank for rank, code in enumerate(MUSCLES)}


def _muscle_codes(value: Any, key: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        parts = [p.strip().lower() for p in value.split(";") if p.strip()]
    elif isinstance(value, Iterable):
        parts = [str(p).strip().lower() for p in value]
    else:
        parts = []
    if not parts or any(p not in MUSCLES for p in parts):
        raise MappingError(
            f"muscle synonym {key!r} maps to {value!r}; each target must be one of "
            f"{', '.join(MUSCLES)} (a code, a sequence of codes or codes joined by ';')."
        )
    return tuple(parts)


def _muscle_table(synonyms: Mapping | None) -> dict[str, tuple[str, ...]]:
    table = dict(DEFAULT_MUSCLE_SYNONYMS)
    if synonyms is None:
        return table
    for key, value in _check_mapping(synonyms, "muscle synonyms").items():
        norm = normalize_text(key) if isinstance(key, str) else ""
        if not norm:
            raise MappingError(f"muscle synonym key {key!r} must be non-empty text.")
        table[norm] = _muscle_codes(value, key)
    return table


def map_muscles(values: Any, synonyms: Mapping | None = None) -> pd.DataFrame:
    """Map lists of needled muscles onto the canonical muscle codes.

    Parameters
    ----------
    values : pandas.Series
        Muscle lists as recorded ("Gastroc + soleus", "FDB; abductor hallucis").
    synonyms : mapping, optional
        ``{text: code}`` (or a sequence of codes, or codes joined by ``";"``)
        extending and overriding :data:`DEFAULT_MUSCLE_SYNONYMS`; each code must be
        in :data:`MUSCLES`.

    Returns
    -------
    pandas.DataFrame
        Aligned to ``values.index``, columns ``muscles`` (distinct codes in
        :data:`MUSCLES` order joined by ``";"``, NaN when missing) and ``unmatched``
        (the parts that matched nothing, as written, joined by ``";"``, else NaN).
        Unmatched parts contribute ``"other"`` to ``muscles``.

    Raises
    ------
    MappingError
        If a user synonym targets a code outside :data:`MUSCLES`.

    Notes
    -----
    "calf" is deliberately not mapped (see the module docstring); "none", "nil"
    and "not needled" are missing.

    Examples
    --------
    >>> import pandas as pd
    >>> v = pd.Series(["medial gastrocnemius, soleus", "PF and L abd hallucis",
    ...                "tib post / soleus", None])
    >>> map_muscles(v)
                          muscles unmatched
    0        gastrocnemius;soleus       NaN
    1 intrinsic_foot;plantar_fascia       NaN
    2                soleus;other  tib post
    3                         NaN       NaN
    >>> map_muscles(pd.Series(["calf"]), synonyms={"calf": ("gastrocnemius", "soleus")})
                    muscles unmatched
    0  gastrocnemius;soleus       NaN
    """
    series = _as_series(values)
    muscles, unmatched, _, _ = map_muscles_arrays(series, synonyms)
    return pd.DataFrame({"muscles": muscles, "unmatched": unmatched}, index=series.index)


def map_muscles_arrays(values: Any, synonyms: Mapping | None = None
                       ) -> tuple[np.ndarray, np.ndarray, np.ndarray,
                                  tuple[np.ndarray, np.ndarray]]:
    """:func:`map_muscles` as per-row arrays for the loader.

    Returns ``muscles``, ``unmatched``, ``has_unmatched`` (a boolean per row, built
    per distinct value) and ``(codes, uniques)`` of ``values``, which the loader
    passes on to :func:`~dryneedle_outcomes.normalize.cells.record_recodes` so that
    the column is factorised once.

    Examples
    --------
    >>> muscles, unmatched, has, (codes, uniques) = map_muscles_arrays(
    ...     pd.Series(["soleus", None, "tib post"]))
    >>> muscles.tolist(), has.tolist(), codes.tolist()
    (['soleus', nan, 'other'], [False, False, True], [0, -1, 1])
    """
    table = _muscle_table(synonyms)
    pattern = _keyword_pattern(k for k in table if len(k) >= 5 and k not in _MUSCLE_EXACT_ONLY)

    def parse_part(part: str) -> tuple[str, ...]:
        norm = normalize_text(part)
        if norm == "other":  # the canonical code itself
            return ("other",)
        if norm in table:
            return table[norm]
        words = [w for w in norm.replace(".", " ").split() if w not in _MUSCLE_QUALIFIERS]
        stripped = " ".join(words)
        if stripped in table:
            return table[stripped]
        if pattern is None:
            return ()
        found: list[str] = []
        for m in pattern.finditer(norm):
            found.extend(table[m.group(0)])
        return tuple(found)

    def parse(value: Any) -> tuple[Any, Any]:
        text = unicodedata.normalize("NFKC", str(value))
        norm = normalize_text(text)
        if norm in MISSING_TEXT or norm in _MUSCLE_MISSING:
            return np.nan, np.nan
        text = _BILATERAL_SLASH.sub(" bilateral ", text)
        codes: set[str] = set()
        unmatched: list[str] = []
        for raw in _MUSCLE_SPLIT.split(text):
            part = raw.strip().strip(_END_PUNCT + " ")
            if not normalize_text(part):
                continue
            found = parse_part(part)
            if found:
                codes.update(found)
            else:
                codes.add("other")
                unmatched.append(part)
        if not codes:
            return np.nan, np.nan
        joined = ";".join(sorted(codes, key=_MUSCLE_RANK.__getitem__))
        return joined, (";".join(unmatched) if unmatched else np.nan)

    series = _as_series(values)
    codes, uniques = _factorize(series)
    results = [parse(u) for u in uniques]
    muscles_u = np.empty(len(uniques), dtype=object)
    muscles_u[:] = [r[0] for r in results]
    unmatched_u = np.empty(len(uniques), dtype=object)
    unmatched_u[:] = [r[1] for r in results]
    return (_spread(muscles_u, codes, np.nan), _spread(unmatched_u, codes, np.nan),
            _spread(pd.notna(unmatched_u), codes, False), (codes, uniques))
