"""Checking a user's instrument definition: ``register_instrument``'s keywords and
``[instruments.NAME]`` tables of a mapping or ``analysis.toml``.

The registry itself is :mod:`dryneedle_outcomes.instruments`; this module only
validates definitions and builds :class:`~dryneedle_outcomes.instruments.Instrument`
objects (nothing is registered here).
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Mapping
from types import MappingProxyType

from .errors import MappingError
from .instruments import Instrument, Scale

#: Names an instrument may not take: canonical columns of the assessments table.
RESERVED_NAMES: frozenset[str] = frozenset({
    "patient_id", "arm", "visit", "day", "date", "site", "needled", "needles",
    "twitch_responses", "muscles", "soreness", "soreness_lower_h", "soreness_upper_h",
    "laterality", "technique", "retention_min",
    "timing", "baseline", "aval", "base", "chg", "pchg", "improvement", "pct_improvement",
})
_NAME = re.compile(r"[a-z][a-z0-9_]{0,63}")
#: The keys of ``[instruments.NAME]`` (and the keywords of :func:`register_instrument`).
DEFINITION_KEYS = ("label", "lower", "upper", "units", "higher_is_better", "mcid",
                   "mcid_source", "percent_thresholds")
REQUIRED_KEYS = ("label", "lower", "upper", "units", "higher_is_better")



def _number(where: str, key: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise MappingError(f"{where}: {key} must be a number, got {value!r}")
    if not math.isfinite(float(value)):
        raise MappingError(f"{where}: {key} must be a finite number, got {value!r}")
    return float(value)


def make_instrument(name: str, *, label: str, lower: float, upper: float, units: str,
                    higher_is_better: bool, mcid: float | None = None,
                    mcid_source: str | None = None,
                    percent_thresholds=(), where: str | None = None) -> Instrument:
    """Check a user's instrument definition and build it (not registered).

    Every broken rule raises a :class:`MappingError` that names the instrument and
    the key: the name (lower-case letters, digits and ``_``, starting with a letter,
    not a canonical column such as ``visit``), a non-empty ``label`` and ``units``,
    finite ``lower < upper``, a boolean ``higher_is_better``, ``mcid`` None or
    ``0 < mcid <= upper - lower``, thresholds in (0, 100].

    Examples
    --------
    >>> make_instrument("lefs", label="LEFS", lower=0, upper=80, units="points",
    ...                 higher_is_better=True, mcid=9).mcid
    9.0
    >>> make_instrument("lefs", label="LEFS", lower=80, upper=0, units="points",
    ...                 higher_is_better=True)
    Traceback (most recent call last):
    ...
    dryneedle_outcomes.errors.MappingError: instrument 'lefs': lower (80) must be below upper (0)
    """
    where = where or f"instrument {name!r}"
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise MappingError(f"{where}: the name must be lower-case letters, digits and '_' "
                           f"starting with a letter (a column name), got {name!r}")
    if name in RESERVED_NAMES or name.endswith("_instrument"):
        raise MappingError(f"{where}: {name!r} is a canonical column of the assessments (or "
                           "ends in '_instrument', kept for pooled outcomes); choose "
                           "another name")
    for key, value in (("label", label), ("units", units)):
        if not isinstance(value, str) or not value.strip():
            raise MappingError(f"{where}: {key} must be non-empty text, got {value!r}")
    lo, hi = _number(where, "lower", lower), _number(where, "upper", upper)
    if not lo < hi:
        raise MappingError(f"{where}: lower ({lower:g}) must be below upper ({upper:g})")
    if not isinstance(higher_is_better, bool):
        raise MappingError(f"{where}: higher_is_better must be true or false (is a higher "
                           f"score better?), got {higher_is_better!r}")
    if mcid is not None:
        mcid = _number(where, "mcid", mcid)
        if not 0.0 < mcid <= hi - lo:
            raise MappingError(f"{where}: mcid must be above 0 and at most the range "
                               f"{hi - lo:g} ({lo:g} to {hi:g}), got {mcid:g}")
    if mcid_source is not None and not isinstance(mcid_source, str):
        raise MappingError(f"{where}: mcid_source must be text (the citation), got "
                           f"{mcid_source!r}")
    source = (mcid_source or "").strip()
    if not source:
        source = ("user-declared MCID (no source given)" if mcid is not None
                  else "no MCID registered")
    if isinstance(percent_thresholds, (str, bytes)) or not hasattr(percent_thresholds,
                                                                   "__iter__"):
        raise MappingError(f"{where}: percent_thresholds must be a list of percentages, got "
                           f"{percent_thresholds!r}")
    thresholds = tuple(_number(where, "percent_thresholds", t) for t in percent_thresholds)
    if any(not 0.0 < t <= 100.0 for t in thresholds):
        raise MappingError(f"{where}: percent_thresholds must lie in (0, 100], got "
                           f"{list(thresholds)}")
    scale = Scale(units.strip(), lo, hi, 1.0)
    return Instrument(column=name, label=label.strip(), lower=lo, upper=hi,
                      units=units.strip(), higher_is_better=higher_is_better, mcid=mcid,
                      mcid_source=source, percent_thresholds=thresholds,
                      scales=MappingProxyType({scale.name: scale}))



def parse_instruments(table, where: str) -> dict[str, Instrument]:
    """The ``[instruments]`` table of a mapping or configuration, checked (not registered).

    Each ``[instruments.NAME]`` has the keys of :func:`register_instrument`:
    ``label``, ``lower``, ``upper``, ``units``, ``higher_is_better`` (required),
    ``mcid``, ``mcid_source``, ``percent_thresholds``; an unknown or missing key is a
    :class:`MappingError` naming it.

    Examples
    --------
    >>> parse_instruments({"lefs": {"label": "LEFS", "lower": 0, "upper": 80,
    ...                             "units": "points", "higher_is_better": True}},
    ...                   "mapping")["lefs"].upper
    80.0
    >>> parse_instruments({"lefs": {"label": "LEFS", "upper": 80}}, "mapping")
    Traceback (most recent call last):
    ...
    dryneedle_outcomes.errors.MappingError: mapping [instruments.lefs]: missing key(s) lower, ...
    """
    if not isinstance(table, Mapping):
        raise MappingError(f"{where}: [instruments] must be a table of [instruments.NAME] "
                           f"tables, got {table!r}")
    out: dict[str, Instrument] = {}
    for name, spec in table.items():
        w = f"{where} [instruments.{name}]"
        if not isinstance(spec, Mapping):
            raise MappingError(f"{w}: must be a table with keys {', '.join(DEFINITION_KEYS)}, "
                               f"got {spec!r}")
        for key in spec:
            if key not in DEFINITION_KEYS:
                close = difflib.get_close_matches(str(key), DEFINITION_KEYS, n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                raise MappingError(f"{w}: unknown key {key!r}{hint}; allowed: "
                                   f"{', '.join(DEFINITION_KEYS)}")
        missing = [k for k in REQUIRED_KEYS if k not in spec]
        if missing:
            raise MappingError(f"{w}: missing key(s) {', '.join(missing)} (required: "
                               f"{', '.join(REQUIRED_KEYS)})")
        out[str(name)] = make_instrument(str(name), where=w, **dict(spec))
    return out
