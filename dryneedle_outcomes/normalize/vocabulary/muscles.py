"""The muscle vocabulary: muscle codes, their synonyms, the side, :func:`map_muscles`.

One job: map lists of needled muscles onto ``assessments.muscles`` and
``assessments.laterality``.

Muscles (:func:`map_muscles`)
    Lists are split on ``, ; / + & |``, "and" and "plus". Each muscle keeps its own
    code: the intrinsic foot muscles (abductor hallucis, flexor digitorum brevis,
    quadratus plantae, abductor digiti minimi, ...) are not pooled, since STRICTA
    (MacPherson et al. 2010, item 2a) asks for the points needled; text that names no
    particular intrinsic muscle ("intrinsics") is ``intrinsic_foot``.
    :data:`MUSCLE_GROUPS` and :func:`muscle_groups` give the coarse groups (calf,
    intrinsic_foot, plantar_fascia, other). Side words (left, right, L, R, Lt, Rt,
    bilateral, b/l, both) are read into the side (``laterality``) and position words
    (medial, lateral, med, lat, head, of, deep, superficial, proximal, distal, belly,
    muscle, m, mm, trigger point, TP, TrP) are ignored. Each part is matched exactly
    against :data:`DEFAULT_MUSCLE_SYNONYMS` (plus user synonyms), then by whole-word
    containment of the longer synonyms (five letters or more; abbreviations such as
    ``PF``, ``FDB``, ``QP`` and the generic word ``fascia`` only match a whole part).
    "triceps surae" is gastrocnemius and soleus by definition. Judgement call: bare
    **"calf" is not mapped** (it may mean gastrocnemius, soleus or both); it becomes
    ``other`` and is listed in ``unmatched``. Pass ``synonyms={"calf": "gastrocnemius"}``
    (or ``("gastrocnemius", "soleus")``) if the clinic's notes mean something definite.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from ...errors import MappingError
from .matcher import (
    END_PUNCT,
    LATERALITY_WORDS,
    MISSING_TEXT,
    as_series,
    check_mapping,
    factorize_values,
    keyword_pattern,
    normalize_text,
    spread,
)

#: The individual intrinsic foot muscles, each its own code (in vocabulary order).
INTRINSIC_FOOT_MUSCLES: tuple[str, ...] = (
    "abductor_hallucis", "flexor_digitorum_brevis", "quadratus_plantae",
    "abductor_digiti_minimi", "flexor_hallucis_brevis", "adductor_hallucis",
    "flexor_digiti_minimi_brevis", "lumbricals", "interossei", "extensor_digitorum_brevis",
    "extensor_hallucis_brevis",
)

MUSCLES: tuple[str, ...] = ("gastrocnemius", "soleus", *INTRINSIC_FOOT_MUSCLES,
                            "intrinsic_foot", "plantar_fascia", "other")
"""Controlled vocabulary (and sort order) of ``assessments.muscles``.

Each muscle keeps its own code (STRICTA item 2a asks for the points needled, MacPherson
et al. 2010); ``intrinsic_foot`` is an intrinsic foot muscle *not named* in the notes
("intrinsics", "foot intrinsics"). :data:`MUSCLE_GROUPS` gives the coarse grouping.
"""

MUSCLE_GROUPS: Mapping[str, str] = MappingProxyType({
    "gastrocnemius": "calf", "soleus": "calf",
    **{m: "intrinsic_foot" for m in INTRINSIC_FOOT_MUSCLES},
    "intrinsic_foot": "intrinsic_foot", "plantar_fascia": "plantar_fascia", "other": "other",
})
"""Muscle code -> group (``calf``, ``intrinsic_foot``, ``plantar_fascia``, ``other``)."""

#: Muscle groups in vocabulary order.
GROUPS: tuple[str, ...] = ("calf", "intrinsic_foot", "plantar_fascia", "other")

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
    "abductor_hallucis": ("abductor hallucis", "abd hallucis", "abd hal", "abdh"),
    "flexor_digitorum_brevis": ("flexor digitorum brevis", "fdb", "flex dig brevis"),
    "quadratus_plantae": ("quadratus plantae", "qp", "flexor accessorius"),
    "abductor_digiti_minimi": ("abductor digiti minimi", "abductor digiti minimi pedis",
                               "abd digiti minimi", "adm", "adqp", "abductor digiti quinti"),
    "flexor_hallucis_brevis": ("flexor hallucis brevis", "fhb"),
    "adductor_hallucis": ("adductor hallucis", "add hallucis"),
    "flexor_digiti_minimi_brevis": ("flexor digiti minimi brevis", "fdmb"),
    "lumbricals": ("lumbricals", "lumbricales", "lumbrical"),
    "interossei": ("interossei", "plantar interossei", "dorsal interossei", "interosseus"),
    "extensor_digitorum_brevis": ("extensor digitorum brevis", "edb"),
    "extensor_hallucis_brevis": ("extensor hallucis brevis", "ehb"),
    "intrinsic_foot": (
        "intrinsic",
        "intrinsics",
        "foot intrinsic",
        "foot intrinsics",
        "intrinsic foot",
        "intrinsic foot muscle",
        "intrinsic foot muscles",
        "plantar intrinsics",
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

#: The values of ``assessments.laterality``.
LATERALITIES: tuple[str, ...] = ("left", "right", "bilateral")

_MUSCLE_QUALIFIERS = frozenset(
    {
        *LATERALITY_WORDS,
        "sides",
        "side",
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
        "trp",
        "trps",
        "mtrp",
        "mtrps",
    }
)

_MUSCLE_EXACT_ONLY = frozenset({"fascia"})
_MUSCLE_MISSING = frozenset({"none", "nil", "not needled", "no needling", "nothing"})

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
    for key, value in check_mapping(synonyms, "muscle synonyms").items():
        norm = normalize_text(key) if isinstance(key, str) else ""
        if not norm:
            raise MappingError(f"muscle synonym key {key!r} must be non-empty text.")
        table[norm] = _muscle_codes(value, key)
    return table


_WORD = re.compile(r"[a-z0-9]+")


class MuscleArrays(NamedTuple):
    """Per-row results of :func:`muscle_arrays` (the loader's fast path)."""

    muscles: np.ndarray
    unmatched: np.ndarray
    has_unmatched: np.ndarray
    laterality: np.ndarray
    factorized: tuple[np.ndarray, np.ndarray]


def map_muscles(values: Any, synonyms: Mapping | None = None) -> pd.DataFrame:
    """Map lists of needled muscles onto the canonical muscle codes and the side.

    Parameters
    ----------
    values : pandas.Series
        Muscle lists as recorded ("Gastroc + soleus", "FDB; L abductor hallucis").
    synonyms : mapping, optional
        ``{text: code}`` (or a sequence of codes, or codes joined by ``";"``)
        extending and overriding :data:`DEFAULT_MUSCLE_SYNONYMS`; each code must be
        in :data:`MUSCLES`.

    Returns
    -------
    pandas.DataFrame
        Aligned to ``values.index``, columns ``muscles`` (distinct codes in
        :data:`MUSCLES` order joined by ``";"``, NaN when missing), ``unmatched``
        (the parts that matched nothing, as written, joined by ``";"``, else NaN) and
        ``laterality`` (``left``, ``right`` or ``bilateral`` when the text names a
        side: ``"L soleus"``, ``"soleus (right)"``, ``"b/l gastrocs"``; both sides
        named in one row, ``"L gastroc / R soleus"``, is ``bilateral``; NaN when no
        side is written). Unmatched parts contribute ``"other"`` to ``muscles``.

    Raises
    ------
    MappingError
        If a user synonym targets a code outside :data:`MUSCLES`.

    Notes
    -----
    "calf" is deliberately not mapped (see the module docstring); "none", "nil"
    and "not needled" are missing. "lateral"/"lat" name a head of a muscle, not a
    side. A part made of side words only ("L / R soleus") gives its side and no
    muscle.

    Examples
    --------
    >>> import pandas as pd
    >>> v = pd.Series(["medial gastrocnemius, soleus", "PF and L abd hallucis",
    ...                "tib post / soleus (right)", None])
    >>> map_muscles(v)
                                 muscles unmatched laterality
    0               gastrocnemius;soleus       NaN        NaN
    1  abductor_hallucis;plantar_fascia       NaN       left
    2                       soleus;other  tib post      right
    3                                NaN       NaN        NaN
    >>> map_muscles(pd.Series(["calf"]), synonyms={"calf": ("gastrocnemius", "soleus")})
                    muscles unmatched laterality
    0  gastrocnemius;soleus       NaN        NaN
    """
    series = as_series(values)
    out = muscle_arrays(series, synonyms)
    return pd.DataFrame({"muscles": out.muscles, "unmatched": out.unmatched,
                         "laterality": out.laterality}, index=series.index)


def map_muscles_arrays(values: Any, synonyms: Mapping | None = None
                       ) -> tuple[np.ndarray, np.ndarray, np.ndarray,
                                  tuple[np.ndarray, np.ndarray]]:
    """:func:`map_muscles` as per-row arrays for the loader (without the side).

    Returns ``muscles``, ``unmatched``, ``has_unmatched`` (a boolean per row, built
    per distinct value) and ``(codes, uniques)`` of ``values``, which the loader
    passes on to :func:`~dryneedle_outcomes.normalize.cells.record_recodes` so that
    the column is factorised once. :func:`muscle_arrays` adds the side.

    Examples
    --------
    >>> muscles, unmatched, has, (codes, uniques) = map_muscles_arrays(
    ...     pd.Series(["soleus", None, "tib post"]))
    >>> muscles.tolist(), has.tolist(), codes.tolist()
    (['soleus', nan, 'other'], [False, False, True], [0, -1, 1])
    """
    out = muscle_arrays(values, synonyms)
    return out.muscles, out.unmatched, out.has_unmatched, out.factorized


def muscle_arrays(values: Any, synonyms: Mapping | None = None) -> MuscleArrays:
    """:func:`map_muscles` as per-row arrays, each distinct value parsed once.

    Examples
    --------
    >>> out = muscle_arrays(pd.Series(["L soleus", None, "R FDB, L QP"]))
    >>> out.muscles.tolist(), out.laterality.tolist()
    (['soleus', nan, 'flexor_digitorum_brevis;quadratus_plantae'], ['left', nan, 'bilateral'])
    """
    table = _muscle_table(synonyms)
    pattern = keyword_pattern(k for k in table if len(k) >= 5 and k not in _MUSCLE_EXACT_ONLY)

    def parse_part(part: str) -> tuple[tuple[str, ...], set[str]]:
        norm = normalize_text(part)
        words = _WORD.findall(norm.replace(".", " "))
        sides = {LATERALITY_WORDS[w] for w in words if w in LATERALITY_WORDS}
        if norm == "other":  # the canonical code itself
            return ("other",), sides
        if norm in table:
            return table[norm], sides
        kept = [w for w in words if w not in _MUSCLE_QUALIFIERS]
        stripped = " ".join(kept)
        if stripped in table:
            return table[stripped], sides
        if not kept and sides:   # side words only: "L / R soleus"
            return ("",), sides
        if pattern is None:
            return (), sides
        found: list[str] = []
        for m in pattern.finditer(norm):
            found.extend(table[m.group(0)])
        return tuple(found), sides

    def parse(value: Any) -> tuple[Any, Any, Any]:
        text = unicodedata.normalize("NFKC", str(value))
        norm = normalize_text(text)
        if norm in MISSING_TEXT or norm in _MUSCLE_MISSING:
            return np.nan, np.nan, np.nan
        text = _BILATERAL_SLASH.sub(" bilateral ", text)
        codes: set[str] = set()
        sides: set[str] = set()
        unmatched: list[str] = []
        for raw in _MUSCLE_SPLIT.split(text):
            part = raw.strip().strip(END_PUNCT + " ")
            if not normalize_text(part):
                continue
            found, named = parse_part(part)
            sides |= named
            if found:
                codes.update(c for c in found if c)
            else:
                codes.add("other")
                unmatched.append(part)
        side = (np.nan if not sides else sides.pop() if len(sides) == 1 else "bilateral")
        if not codes:
            return np.nan, np.nan, side
        joined = ";".join(sorted(codes, key=_MUSCLE_RANK.__getitem__))
        return joined, (";".join(unmatched) if unmatched else np.nan), side

    series = as_series(values)
    codes, uniques = factorize_values(series)
    results = [parse(u) for u in uniques]
    columns = []
    for k in range(3):
        column = np.empty(len(uniques), dtype=object)
        column[:] = [r[k] for r in results]
        columns.append(column)
    muscles_u, unmatched_u, side_u = columns
    return MuscleArrays(spread(muscles_u, codes, np.nan), spread(unmatched_u, codes, np.nan),
                        spread(pd.notna(unmatched_u), codes, False),
                        spread(side_u, codes, np.nan), (codes, uniques))


def muscle_groups(muscles: Any) -> pd.Series:
    """The groups (:data:`MUSCLE_GROUPS`) of ``;``-joined muscle codes, joined the same way.

    Examples
    --------
    >>> muscle_groups(pd.Series(["gastrocnemius;soleus;quadratus_plantae", None])).tolist()
    ['calf;intrinsic_foot', nan]
    """
    series = as_series(muscles)
    codes, uniques = factorize_values(series)
    rank = {g: i for i, g in enumerate(GROUPS)}
    out = np.empty(len(uniques), dtype=object)
    out[:] = [";".join(sorted({MUSCLE_GROUPS.get(m, "other") for m in str(u).split(";")},
                              key=rank.__getitem__)) for u in uniques]
    return pd.Series(spread(out, codes, np.nan), index=series.index, dtype=object)
