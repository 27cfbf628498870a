"""Mappings: how the columns, scales and codes of a source file become canonical.

A mapping is a dict, or a TOML file with the same structure, with one section per
canonical table (``assessments``, ``patients``, ``adverse_events``,
``intercurrent_events``)::

    [assessments]
    layout = "long"                 # "long" (one row per patient x visit) or "wide"
    delimiter = ";"                 # reader options: delimiter, decimal, encoding,
    decimal = ","                   #   sheet, header_row, format
    encoding = "cp1252"
    date_convention = "dayfirst"    # iso | dayfirst | monthfirst | a strftime format
    assessed = "before_session"     # a session-k score reflects k - 1 sessions (default)

    [assessments.columns]           # canonical name = "source column"
    patient_id = "Study ID"
    visit = "Visit"
    date = "Visit date"
    first_step_pain = "First-step pain"
    soreness = "Soreness after session"   # free text -> soreness_lower_h / _upper_h
    concomitant = "Other treatment"       # per visit: also feeds intercurrent_events
    technique = "Technique"               # pistoning / static / rotation (STRICTA 2b)
    laterality = "Side"                   # left / right / bilateral (else read from muscles)
    retention_min = "Retention (min)"     # needle retention time in minutes

    [assessments.scales]            # canonical column = source scale
    first_step_pain = "cm"          # mm | cm | nrs10 | percent

    [assessments.site_scales."Site B"]
    first_step_pain = "nrs10"       # a scale that differs at one site; nrs10 for a VAS
                                    #   means the NRS, its own instrument (first_step_pain_nrs)

    [assessments.pool_as]           # pool an instrument into another (stated in the report)
    first_step_pain_nrs = "first_step_pain"   # NRS x10 joins the VAS; instrument = covariate

    [assessments.codes.visit]       # source value = canonical value
    "Baseline" = 0
    "Session 1" = 1

    [assessments.wide]              # layout = "wide": canonical column = pattern
    first_step_pain = "fsp_v{visit}"

    [adverse_events.synonyms]       # extra verbatim terms -> controlled vocabulary
    "black toe" = "bruising"

    [intercurrent_events.columns]   # one row per intercurrent event (ICH E9(R1))
    event = "What happened"
    [intercurrent_events.synonyms]  # extra wordings -> the intercurrent-event vocabulary
    "cortisone shot" = "steroid_injection"

    [assessments.muscle_synonyms]
    "medial head" = "gastrocnemius"

    [instruments.faam_adl]          # a user instrument (as dno.register_instrument)
    label = "FAAM ADL (%)"
    lower = 0
    upper = 100
    units = "%"
    higher_is_better = true
    mcid = 8
    mcid_source = "Martin RL et al. Foot Ankle Int. 2005;26(11):968-983."

An ``[instruments.NAME]`` table declares an instrument for this mapping's columns; it
is registered (process-globally, see :mod:`dryneedle_outcomes.instruments`) when a
cohort is loaded with the mapping. ``pool_as`` pools one instrument into another only
when said: the values are rescaled linearly between the two ranges (a 0-10 NRS x10 into
a 0-100 mm VAS), each pooled row group is a correction in the ledger, the report's
methods state it, and the models adjust for the instrument
(:mod:`dryneedle_outcomes.pooling`).

Every key is checked: a misspelt key is an error that names the key and lists
the allowed ones, never silently ignored. The keys of each section, their types and
defaults are listed once, in :data:`KEYS`, which :func:`reference_rows` gives to the
documentation; the input files themselves are arguments of
:func:`~dryneedle_outcomes.load_cohort` (or ``[data]`` in ``analysis.toml``), not
mapping keys.

Examples
--------
>>> from dryneedle_outcomes.mapping import Mapping
>>> m = Mapping.from_any({"assessments": {"columns": {"patient_id": "Study ID"},
...                                       "scales": {"first_step_pain": "cm"}}})
>>> m.table("assessments").columns
{'patient_id': 'Study ID'}
>>> Mapping.from_any({"assesments": {}})
Traceback (most recent call last):
...
dryneedle_outcomes.errors.MappingError: mapping: unknown section 'assesments' (did ...
"""

from __future__ import annotations

import difflib
import os
import tomllib
from collections.abc import Mapping as AbcMapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import MappingError
from .timing import ASSESSED_RULES

TABLES = ("assessments", "patients", "adverse_events", "intercurrent_events")
#: Top-level sections: the tables, and ``instruments`` (user instrument definitions).
SECTIONS = TABLES + ("instruments",)

#: Canonical columns each table may map, beyond registered instruments.
CANONICAL_COLUMNS: dict[str, tuple[str, ...]] = {
    "patients": (
        "patient_id", "arm", "site", "age", "sex", "bmi", "symptom_months",
        "pregnant", "immunocompromised", "needle_fear", "allocation_guess",
        "anticoagulants", "bleeding_disorder", "diabetic_neuropathy",
        "peripheral_vascular_disease", "lymphoedema", "local_infection",
    ),
    "assessments": (
        "patient_id", "arm", "visit", "day", "date", "site", "needled", "needles",
        "twitch_responses", "muscles", "soreness", "soreness_lower_h", "soreness_upper_h",
        "timing", "concomitant", "laterality", "technique", "retention_min",
    ),
    "adverse_events": ("patient_id", "visit", "term", "verbatim", "severity", "serious",
                       "relatedness", "onset_h", "duration_h", "action_taken", "withdrawal",
                       "ascertainment"),
    "intercurrent_events": ("patient_id", "visit", "day", "event", "reason"),
}

_ALL = TABLES


@dataclass(frozen=True)
class MappingKey:
    """One key of a mapping section: the schema of the mapping is a tuple of these.

    ``kind`` is ``"reader"`` (passed to the reader), ``"text"`` or ``"table"`` (a TOML
    table checked by its own rules); ``types`` are the Python types a reader option
    may have.
    """

    key: str
    tables: tuple[str, ...]
    kind: str
    type: str
    description: str
    default: Any = None
    allowed: str = ""
    types: tuple[type, ...] = (str,)


#: Every key of every mapping section, in the order the messages list them.
KEYS: tuple[MappingKey, ...] = (
    MappingKey("format", _ALL, "reader", "text", "the file format", None,
               "csv, tsv, txt, xlsx, parquet, spss, stata (default: from the extension)"),
    MappingKey("delimiter", _ALL, "reader", "text", "the field delimiter of delimited text",
               None, "a character (default: sniffed among , ; tab |)"),
    MappingKey("decimal", _ALL, "reader", "text", "the decimal mark of delimited text", None,
               "'.' or ',' (default: decimal commas detected after a ';' delimiter)"),
    MappingKey("encoding", _ALL, "reader", "text", "the text encoding", None,
               "a Python codec name (default: UTF-8, else cp1252, else latin-1)"),
    MappingKey("sheet", _ALL, "reader", "text or integer", "the workbook sheet", None,
               "a sheet name or 0-based index (default: the first sheet)", (str, int)),
    MappingKey("header_row", _ALL, "reader", "integer", "the 1-based row holding the "
               "column names", None, "a row number >= 1 (default: detected)", (int,)),
    MappingKey("layout", ("assessments",), "text", "text", "one row per patient x visit "
               "(long) or one row per patient (wide)", "long", "long, wide"),
    MappingKey("date_convention", ("assessments",), "text", "text", "how dates are written",
               "iso", "iso, dayfirst, monthfirst or a strftime format"),
    MappingKey("assessed", ("assessments",), "text", "text", "what a score recorded at "
               "session k reflects: taken before that session's needling (k - 1 sessions "
               "received) or after it (k sessions); see dryneedle_outcomes.timing",
               "before_session", "before_session, after_session"),
    MappingKey("columns", _ALL, "table", "table", "canonical name = \"source column\"", {},
               "the canonical columns of the table and, for assessments, the instruments"),
    MappingKey("scales", ("assessments",), "table", "table", "instrument = source scale",
               {}, "a scale of the instrument (mm, cm, nrs10, percent, ...)"),
    MappingKey("site_scales", ("assessments",), "table", "table of tables", "a scale that "
               "differs at one site: [site_scales.\"Site B\"] instrument = scale", {},
               "as scales, per site"),
    MappingKey("pool_as", ("assessments",), "table", "table", "pool an instrument into "
               "another: first_step_pain_nrs = \"first_step_pain\" (rescaled by the ranges, "
               "x10; a ledger correction per row group; the instrument becomes a model "
               "covariate)", {}, "registered instruments with the same direction"),
    MappingKey("codes", _ALL, "table", "table of tables", "source value = canonical value, "
               "per column: [codes.visit] \"Baseline\" = 0", {}, "the canonical columns"),
    MappingKey("wide", ("assessments",), "table", "table", "layout = \"wide\": canonical "
               "column = pattern (\"fsp_v{visit}\")", {},
               "per-visit canonical columns; patterns contain {visit}"),
    MappingKey("muscle_synonyms", ("assessments",), "table", "table", "extra muscle names = "
               "canonical muscle", {}, "the controlled muscle vocabulary"),
    MappingKey("synonyms", ("adverse_events", "intercurrent_events"), "table", "table",
               "extra verbatim terms = controlled term", {},
               "the controlled adverse-event or intercurrent-event vocabulary"),
)

_READER_KEYS = tuple(k.key for k in KEYS if k.kind == "reader")
_DEFAULTS = {k.key: k.default for k in KEYS}
_TABLE_KEYS = {name: tuple(k.key for k in KEYS if name in k.tables) for name in TABLES}


def reference_rows() -> list[dict]:
    """The mapping schema, one row per section and key, for the reference documentation.

    Returns
    -------
    list of dict
        Each with ``table`` (the section: ``"assessments"``, ``"patients"`` or
        ``"adverse_events"``), ``key``, ``type``, ``default`` (None when the reader
        decides), ``allowed`` (in words), ``required`` (always False: every key is
        optional) and ``description`` (one line).

    See Also
    --------
    dryneedle_outcomes.config.reference_rows : the same for ``analysis.toml``.

    Examples
    --------
    >>> from dryneedle_outcomes.mapping import reference_rows
    >>> rows = reference_rows()
    >>> [r["key"] for r in rows if r["table"] == "patients"]
    ['format', 'delimiter', 'decimal', 'encoding', 'sheet', 'header_row', 'columns', 'codes']
    >>> next(r for r in rows if r["key"] == "layout")["default"]
    'long'
    """
    return [{"table": name, "key": k.key, "type": k.type,
             "default": dict(k.default) if isinstance(k.default, dict) else k.default,
             "allowed": k.allowed, "required": False, "description": k.description}
            for name in TABLES for k in KEYS if name in k.tables]


def _unknown(kind: str, key: str, allowed: tuple[str, ...] | list[str], where: str) -> MappingError:
    close = difflib.get_close_matches(key, list(allowed), n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return MappingError(
        f"{where}: unknown {kind} {key!r}{hint}; allowed: {', '.join(allowed)}"
    )


def _expect(value: Any, types: type | tuple[type, ...], where: str, what: str) -> Any:
    kinds = (types,) if isinstance(types, type) else types
    if not isinstance(value, types) or (isinstance(value, bool) and bool not in kinds):
        names = " or ".join(t.__name__ for t in kinds)
        raise MappingError(
            f"{where}: {what} must be of type {names}, got {type(value).__name__} {value!r}")
    return value


@dataclass(frozen=True)
class TableMapping:
    """The mapping of one canonical table. Build it through :meth:`Mapping.from_any`."""

    name: str
    columns: dict[str, str] = field(default_factory=dict)
    reader: dict[str, Any] = field(default_factory=dict)
    layout: str = _DEFAULTS["layout"]
    date_convention: str = _DEFAULTS["date_convention"]
    assessed: str = _DEFAULTS["assessed"]
    scales: dict[str, str] = field(default_factory=dict)
    site_scales: dict[str, dict[str, str]] = field(default_factory=dict)
    pool_as: dict[str, str] = field(default_factory=dict)
    codes: dict[str, dict[str, Any]] = field(default_factory=dict)
    wide: dict[str, str] = field(default_factory=dict)
    synonyms: dict[str, str] = field(default_factory=dict)
    muscle_synonyms: dict[str, str] = field(default_factory=dict)

    def read_options(self) -> dict[str, Any]:
        """The reader options as keywords of :func:`~dryneedle_outcomes.io.readers.read_table`.

        The mapping's ``format`` is the reader's ``fmt``.
        """
        return {("fmt" if k == "format" else k): v for k, v in self.reader.items()}

    def source_of(self, canonical: str) -> str:
        """The source column name mapped to ``canonical`` (itself when not mapped)."""
        return self.columns.get(canonical, canonical)


@dataclass(frozen=True)
class Mapping:
    """A validated mapping for all tables; see the module docstring for the schema."""

    tables: dict[str, TableMapping]
    origin: str | None = None
    instruments: dict[str, Any] = field(default_factory=dict)

    def table(self, name: str) -> TableMapping:
        """The mapping of table ``name`` (an empty identity mapping when not given)."""
        return self.tables.get(name) or TableMapping(name=name)

    def to_dict(self) -> dict[str, Any]:
        """The mapping as plain data (for manifests)."""
        out: dict[str, Any] = {}
        for name, tm in self.tables.items():
            d: dict[str, Any] = dict(tm.reader)
            for key in ("columns", "scales", "site_scales", "pool_as", "codes", "wide",
                        "synonyms", "muscle_synonyms"):
                if getattr(tm, key):
                    d[key] = getattr(tm, key)
            if name == "assessments":
                d["layout"] = tm.layout
                d["date_convention"] = tm.date_convention
                d["assessed"] = tm.assessed
            out[name] = d
        if self.instruments:
            out["instruments"] = {n: i.definition() for n, i in self.instruments.items()}
        return out

    @classmethod
    def from_any(cls, mapping: Mapping | AbcMapping | str | os.PathLike | None) -> Mapping:
        """Build a mapping from a dict, a TOML file path, an existing Mapping or None.

        Raises
        ------
        MappingError
            On an unreadable file, an unknown key (with a suggestion) or a wrong type.
        """
        if mapping is None:
            return cls(tables={})
        if isinstance(mapping, Mapping):
            return mapping
        origin = None
        if isinstance(mapping, (str, os.PathLike)):
            path = Path(mapping)
            origin = str(path)
            try:
                with path.open("rb") as fh:
                    data = tomllib.load(fh)
            except FileNotFoundError:
                raise MappingError(f"mapping file {origin} does not exist") from None
            except tomllib.TOMLDecodeError as exc:
                raise MappingError(f"mapping file {origin} is not valid TOML: {exc}") from None
        else:
            data = _expect(mapping, AbcMapping, "mapping", "the mapping")
        where = origin or "mapping"
        from .instrument_definitions import parse_instruments

        for name in data:
            if name not in SECTIONS:
                raise _unknown("section", name, SECTIONS, where)
        declared = parse_instruments(data.get("instruments", {}), where)
        tables: dict[str, TableMapping] = {}
        for name, section in data.items():
            if name == "instruments":
                continue
            section = _expect(section, AbcMapping, f"{where} [{name}]", "the section")
            tables[name] = _table_mapping(name, dict(section), f"{where} [{name}]", declared)
        return cls(tables=tables, origin=origin, instruments=declared)


def _str_dict(value: Any, where: str, what: str) -> dict[str, Any]:
    value = _expect(value, AbcMapping, where, what)
    return {str(k): v for k, v in value.items()}


def _table_mapping(name: str, section: dict[str, Any], where: str,
                   declared: AbcMapping | None = None) -> TableMapping:
    from .instruments import INSTRUMENTS as REGISTERED

    # the registered instruments, with this mapping's own [instruments.NAME] over them
    INSTRUMENTS = {**REGISTERED, **(declared or {})}
    allowed = _TABLE_KEYS[name]
    for key in section:
        if key not in allowed:
            raise _unknown("key", key, allowed, where)
    canonical = CANONICAL_COLUMNS[name] + (tuple(INSTRUMENTS) if name == "assessments" else ())
    columns = _str_dict(section.get("columns", {}), where, "columns")
    for key, val in columns.items():
        if key not in canonical:
            raise _unknown("canonical column", key, canonical, f"{where}.columns")
        _expect(val, str, f"{where}.columns", f"the source column for {key!r}")
    layout = section.get("layout", _DEFAULTS["layout"])
    if layout not in ("long", "wide"):
        raise MappingError(f"{where}: layout must be 'long' or 'wide', got {layout!r}")
    wide = _str_dict(section.get("wide", {}), where, "wide")
    if layout == "wide" and not wide:
        raise MappingError(
            f"{where}: layout = 'wide' needs a [wide] table of patterns such as "
            "first_step_pain = \"fsp_v{visit}\""
        )
    for key, pattern in wide.items():
        if key not in canonical or key in ("patient_id", "visit"):
            per_visit = [c for c in canonical if c not in ("patient_id", "visit")]
            raise _unknown("wide column", key, per_visit, f"{where}.wide")
        if "{visit}" not in _expect(pattern, str, f"{where}.wide", f"the pattern for {key!r}"):
            raise MappingError(
                f"{where}.wide: pattern {pattern!r} for {key!r} must contain '{{visit}}'")
    scales = _str_dict(section.get("scales", {}), where, "scales")
    site_scales = {
        site: _str_dict(sc, f"{where}.site_scales", f"the scales of site {site!r}")
        for site, sc in _str_dict(section.get("site_scales", {}), where, "site_scales").items()
    }
    for block_where, block in [(f"{where}.scales", scales)] + [
        (f"{where}.site_scales.{s!r}", sc) for s, sc in site_scales.items()
    ]:
        for col, scale in block.items():
            if col not in INSTRUMENTS:
                raise _unknown("instrument", col, tuple(INSTRUMENTS), block_where)
            INSTRUMENTS[col].scale(_expect(scale, str, block_where, f"the scale of {col!r}"))
    pool_as = _pool_as(section.get("pool_as", {}), where, INSTRUMENTS) \
        if name == "assessments" else {}
    codes = {
        col: _str_dict(table, f"{where}.codes", f"the codes of {col!r}")
        for col, table in _str_dict(section.get("codes", {}), where, "codes").items()
    }
    for col in codes:
        if col not in canonical:
            raise _unknown("coded column", col, canonical, f"{where}.codes")
    date_convention = section.get("date_convention", _DEFAULTS["date_convention"])
    _expect(date_convention, str, where, "date_convention")
    assessed = _expect(section.get("assessed", _DEFAULTS["assessed"]), str, where, "assessed")
    if assessed not in ASSESSED_RULES:
        raise MappingError(f"{where}: assessed must be 'before_session' (a score at session k "
                           "was taken before that session's needling) or 'after_session', "
                           f"got {assessed!r}")
    reader = {k.key: _expect(section[k.key], k.types, where, k.key)
              for k in KEYS if k.kind == "reader" and k.key in section}
    return TableMapping(
        name=name,
        columns=columns,
        reader=reader,
        layout=layout,
        date_convention=date_convention,
        assessed=assessed,
        scales=scales,
        site_scales=site_scales,
        pool_as=pool_as,
        codes=codes,
        wide=wide,
        synonyms=_str_dict(section.get("synonyms", {}), where, "synonyms"),
        muscle_synonyms=_str_dict(section.get("muscle_synonyms", {}), where, "muscle_synonyms"),
    )


def _pool_as(value: Any, where: str, instruments: AbcMapping) -> dict[str, str]:
    """``[assessments.pool_as]``: source instrument = target instrument, checked.

    Both must be instruments, different, with the same direction; a target is not
    itself pooled into a third, and a target takes one source at most per source.
    """
    pool = _str_dict(value, where, "pool_as")
    w = f"{where}.pool_as"
    for source, target in pool.items():
        if source not in instruments:
            raise _unknown("instrument", source, tuple(instruments), w)
        _expect(target, str, w, f"the instrument {source!r} is pooled as")
        if target not in instruments:
            raise _unknown("instrument", target, tuple(instruments), f"{w}.{source}")
        if target == source:
            raise MappingError(f"{w}: {source} = {target!r} pools an instrument into itself")
        s, t = instruments[source], instruments[target]
        if s.higher_is_better != t.higher_is_better:
            way = {True: "higher is better", False: "higher is worse"}
            raise MappingError(
                f"{w}: {source} ({way[s.higher_is_better]}) cannot be pooled as {target} "
                f"({way[t.higher_is_better]}): the two scales point in opposite directions")
        if target in pool:
            raise MappingError(f"{w}: {target!r} is pooled into {pool[target]!r} and is itself "
                               f"the target of {source!r}; pool each instrument into the final "
                               "one directly")
    return pool
