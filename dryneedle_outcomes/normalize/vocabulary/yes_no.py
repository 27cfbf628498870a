"""The yes/no vocabulary: flag words in several languages and :func:`map_bool`.

One job: map recorded yes/no flags (words, checkboxes, 1/0) onto booleans.

Yes/no flags (:func:`map_bool`)
    True: yes, y, true, t, 1, ja, j, oui, si, x, checked, ticked, present,
    positive, pos, ✓, ✔. False: no, n, false, f, 0, nein, non, unchecked,
    unticked, absent, negative, neg. A blank checkbox cell is *missing*, not
    False. Anything else (including 2, -1, "maybe") is ``invalid``.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd

from .matcher import MISSING_TEXT, apply_unique, code_key, user_codes

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
    table.update(user_codes(codes, "boolean codes", _to_bool, "True, False"))

    def parse(value: Any) -> tuple[Any, str]:
        key = code_key(value)
        if key is None:
            return None, "missing"
        if key in table:
            flag = table[key]
            return (None, "missing") if flag is None else (bool(flag), "ok")
        if key in MISSING_TEXT:
            return None, "missing"
        return None, "invalid"

    series, (flag, status) = apply_unique(values, parse, 2, (None, "missing"))
    mask = status != "ok"
    value = pd.arrays.BooleanArray(np.where(mask, False, flag).astype(bool), mask.astype(bool))
    return pd.DataFrame({"value": value, "status": status}, index=series.index)
