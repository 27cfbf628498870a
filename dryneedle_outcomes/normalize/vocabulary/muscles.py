"""The muscle vocabulary: muscle codes, their synonyms and :func:`map_muscles`.

One job: map lists of needled muscles onto ``assessments.muscles``.

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
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd

from ...errors import MappingError
from .matcher import (
    END_PUNCT,
    MISSING_TEXT,
    as_series,
    check_mapping,
    factorize_values,
    keyword_pattern,
    normalize_text,
    spread,
)

MUSCLES: tuple[str, ...] = ("gastrocnemius", "soleus", "intrinsic_foot", "plantar_fascia", "other")
"""Controlled vocabulary (and sort order) of ``assessments.muscles``."""

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
    series = as_series(values)
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
    pattern = keyword_pattern(k for k in table if len(k) >= 5 and k not in _MUSCLE_EXACT_ONLY)

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
            part = raw.strip().strip(END_PUNCT + " ")
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

    series = as_series(values)
    codes, uniques = factorize_values(series)
    results = [parse(u) for u in uniques]
    muscles_u = np.empty(len(uniques), dtype=object)
    muscles_u[:] = [r[0] for r in results]
    unmatched_u = np.empty(len(uniques), dtype=object)
    unmatched_u[:] = [r[1] for r in results]
    return (spread(muscles_u, codes, np.nan), spread(unmatched_u, codes, np.nan),
            spread(pd.notna(unmatched_u), codes, False), (codes, uniques))
