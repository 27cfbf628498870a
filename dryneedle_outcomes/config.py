"""The analysis configuration (``analysis.toml``) read by the command line.

Every key is checked. A misspelt key, a value of the wrong type, a value outside the
allowed ones or a file that does not exist is a :class:`~dryneedle_outcomes.errors.ConfigError`
with a one-line message naming the file, the table, the key, the value seen and what
is allowed (the command line prints it and exits with code 2). Paths are relative to
the configuration file. An analysis table that is omitted is an analysis not run.

Schema (defaults after ``=`` for optional keys)::

    [data]
    assessments = "assessments.csv"      # required: session-level scores
    patients = "patients.xlsx"           # optional: the register (id, arm, ...)
    adverse_events = "adverse_events.csv"  # optional: one row per event
    mapping = "mapping.toml"             # optional; or an inline [mapping] table
    errors = "raise"                     # or "quarantine": set bad rows aside, go on

    [data.limits]                        # optional: reading limits (dno.ReadLimits)
    max_bytes = 1073741824               # decompressed gzip / uncompressed XLSX bytes
    max_rows = 2000000                   # rows of a workbook sheet
    max_cells = 10000000                 # cells of a workbook sheet

    [mapping]                            # inline mapping (schema: dryneedle_outcomes.mapping)

    [simulation]                         # how a simulated sample was made (recorded only)
    seed = 2014
    n_patients = 84

    [analysis]                           # omit: load, check and write the data only
    outcome = "first_step_pain"          # a registered instrument (dno.INSTRUMENTS)
    conf_level = 0.95                    # of every interval; between 0 and 1
    reference_arm = "sham"               # optional; default a sham/control-like arm name,
                                         # else the last arm

    [analysis.trajectory]                # dno.fit_trajectory, once per model
    models = ["mmrm"]                    # one or more of random_intercept, random_slope,
                                         # session_means, mmrm
    covariance = "unstructured"          # of mmrm: unstructured, cs or ar1
    adjust = ["baseline"]                # "baseline" and/or patient covariates ("age");
                                         # [] models every visit, baseline included
    df = "satterthwaite"                 # or "kenward_roger": used by mmrm; the random-
                                         # effects models always use Satterthwaite
    cumulative_after = []                # visits for TrajectoryResult.cumulative_effect
    sessions_to_mcid = false             # parametric bootstrap of the first session
                                         # reaching the MCID (slow: n_boot refits)
    n_boot = 200                         # bootstrap replicates (1 to 100000)
    seed = 0                             # bootstrap seed (recorded in manifest.json)

    [analysis.harms]                     # adverse_event_rates (one table per denominator),
                                         # protocol_deviations and dose_response
    per = ["patient", "session", "100_needles"]  # one or more denominators
    dose_response = true                 # logistic GEE of events on needles and twitches

    [analysis.responders]                # dno.responders; one definition of a responder:
    mcid = true                          # true: the instrument's MCID; or a number
    # percent_reduction = 30             # or: >= this % reduction from baseline (0-100]
    # threshold = 20                     # or: this level reached at the visit
    missing = ["observed"]               # observed and/or non_responder: one table each

    [analysis.baseline_table]            # dno.baseline_table
    p_values = false                     # CONSORT advises against testing at baseline

    [analysis.time_to_relief]            # dno.time_to_relief, once per timescale
    mcid = true                          # relief: improvement >= the instrument's MCID, or
    # percent_reduction = 50             # a number; or >= this % reduction; or
    # threshold = 20                     # this level reached (one definition only)
    sustained = false                    # met at two consecutive assessments
    timescale = ["days"]                 # "days" and/or "sessions" (discrete-time model)
    interval_censored = true             # Turnbull curve/median; false: Kaplan-Meier
    covariates = []                      # "baseline" and/or patient columns, for Cox/AFT
    strata = ""                          # a patient column for the log-rank and Cox
                                         # ("" = none)
    distributions = ["weibull", "loglogistic"]  # parametric AFT models (time ratios)
    conf_type = "log-log"                # Kaplan-Meier CI: log-log, log or plain
    rmst_tau = 0                         # restriction time of the RMST; 0 = the largest
                                         # time every arm still observes
    n_boot = 200                         # bootstrap replicates of the Turnbull bands (0-100000)
    seed = 2014                          # bootstrap seed (recorded in manifest.json)

    [analysis.soreness_duration]         # dno.soreness_duration (post-needling soreness)
    n_boot = 200                         # patient-bootstrap replicates (0 to 100000)
    seed = 2014

    [figures]
    formats = ["pdf", "png"]             # any of pdf, png, svg (the report embeds PNG)
    width = "single"                     # "single" (85 mm), "double" (174 mm) or mm
    dpi = 300                            # of PNG figures, 72 to 1200

``[analysis.survival]`` is not a table: the survival analyses are
``[analysis.time_to_relief]`` and ``[analysis.soreness_duration]``.

Examples
--------
>>> cfg = AnalysisConfig.from_file("data/sample/analysis.toml")
>>> cfg.errors, cfg.assessments.name
('quarantine', 'assessments.csv')
>>> cfg.analysis.trajectory.models, cfg.analysis.responders.criterion
(('mmrm', 'random_slope'), 'mcid')
>>> AnalysisConfig.from_dict({"data": {"assesments": "a.csv"}}, base_dir=".")
Traceback (most recent call last):
...
dryneedle_outcomes.errors.ConfigError: [data]: unknown key 'assesments' (did you mean ...
>>> AnalysisConfig.from_dict({"data": {"assessments": "data/sample/assessments.csv"},
...                           "analysis": {"trajectory": {"models": ["mmrn"]}}}, base_dir=".")
Traceback (most recent call last):
...
dryneedle_outcomes.errors.ConfigError: [analysis.trajectory]: models has 'mmrn' (did you ...
"""

from __future__ import annotations

import dataclasses
import difflib
import math
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import ConfigError
from .instruments import INSTRUMENTS
from .stats.mixed.options import COVARIANCES, DF_METHODS
from .stats.survival.options import CONF_TYPES, DISTRIBUTIONS

# The engines' option lists come from their light ``options`` modules (no scipy, no
# statsmodels). The analyses' lists are copied here because their packages import pandas
# and scipy on import; tests/test_cli_errors.py checks that they equal the analyses' own.
#: ``dryneedle_outcomes.models.trajectory.MODELS``.
MODELS = ("random_intercept", "random_slope", "session_means", "mmrm")
#: ``dryneedle_outcomes.harms.rates.PER``.
PER = ("patient", "session", "100_needles")
#: ``dryneedle_outcomes.responders.MISSING_RULES``.
MISSING_RULES = ("observed", "non_responder")

ANALYSES = ("trajectory", "harms", "responders", "baseline_table", "time_to_relief",
            "soreness_duration")
#: Names users may reach for, and the table they mean.
ALIASES = {"survival": "time_to_relief", "relief": "time_to_relief",
           "soreness": "soreness_duration"}
TIMESCALES = ("days", "sessions")
FORMATS = ("pdf", "png", "svg")
DEFINITIONS = ("mcid", "percent_reduction", "threshold")

#: Every key of every table (the schema above); ``None``: checked elsewhere.
SCHEMA: dict[str, tuple[str, ...] | None] = {
    "data": ("assessments", "patients", "adverse_events", "mapping", "errors", "limits"),
    "data.limits": ("max_bytes", "max_rows", "max_cells"),
    "simulation": ("seed", "n_patients"),
    "mapping": None,  # validated by Mapping when the data are loaded
    "analysis": ("outcome", "conf_level", "reference_arm", *ANALYSES),
    "analysis.trajectory": ("models", "covariance", "adjust", "df", "cumulative_after",
                            "sessions_to_mcid", "n_boot", "seed"),
    "analysis.harms": ("per", "dose_response"),
    "analysis.responders": ("mcid", "percent_reduction", "threshold", "missing"),
    "analysis.baseline_table": ("p_values",),
    "analysis.time_to_relief": ("mcid", "percent_reduction", "threshold", "sustained",
                                "timescale", "interval_censored", "covariates", "strata",
                                "distributions", "conf_type", "rmst_tau", "n_boot", "seed"),
    "analysis.soreness_duration": ("n_boot", "seed"),
    "figures": ("formats", "width", "dpi"),
}
_TOP = ("data", "simulation", "mapping", "analysis", "figures")


# ---------------------------------------------------------------------- checks
def _kind(value: Any) -> str:
    names = {bool: "a boolean", int: "an integer", float: "a number", str: "text",
             list: "an array", dict: "a table"}
    return names.get(type(value), type(value).__name__)


def _hint(value: str, allowed) -> str:
    close = difflib.get_close_matches(value, list(allowed), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _unknown(key: str, allowed, where: str) -> ConfigError:
    return ConfigError(f"{where}: unknown key {key!r}{_hint(key, allowed)}; allowed: "
                       f"{', '.join(allowed)}")


def _wrong(where: str, key: str, value: Any, expected: str) -> ConfigError:
    return ConfigError(f"{where}: {key} must be {expected}, got {value!r} ({_kind(value)})")


def _limits(table: Any):
    """``[data.limits]`` as a :class:`~dryneedle_outcomes.io.limits.ReadLimits` (None if absent)."""
    if table is None:
        return None
    if not isinstance(table, dict):
        raise _wrong("[data]", "limits", table, "a table ([data.limits])")
    _check_keys(table, "data.limits")
    for key, value in table.items():
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise _wrong("[data.limits]", key, value, "a positive whole number")
    from .io.limits import ReadLimits

    return ReadLimits(**table)


def _check_keys(table: dict, section: str) -> None:
    allowed = SCHEMA[section]
    for key in table:
        if key not in allowed:
            raise _unknown(key, allowed, f"[{section}]")


def _choice(where: str, key: str, value: Any, allowed) -> str:
    if not isinstance(value, str):
        raise _wrong(where, key, value, "one of " + ", ".join(allowed))
    if value not in allowed:
        raise ConfigError(f"{where}: {key} = {value!r} is not allowed{_hint(value, allowed)}; "
                          f"allowed: {', '.join(allowed)}")
    return value


def _choices(where: str, key: str, value: Any, allowed) -> tuple[str, ...]:
    expected = f"an array of one or more of {', '.join(allowed)}"
    if not isinstance(value, list) or not value:
        raise _wrong(where, key, value, expected)
    for item in value:
        if not isinstance(item, str):
            raise _wrong(where, key, value, expected)
        if item not in allowed:
            raise ConfigError(f"{where}: {key} has {item!r}{_hint(item, allowed)}; allowed: "
                              f"{', '.join(allowed)}")
    if len(set(value)) < len(value):
        raise ConfigError(f"{where}: {key} names a value twice: {value!r}")
    return tuple(value)


def _boolean(where: str, key: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise _wrong(where, key, value, "true or false")
    return value


def _number(where: str, key: str, value: Any, lo: float, hi: float, *,
            open_lo: bool = False, open_hi: bool = False) -> float:
    text = f"a number {'>' if open_lo else '>='} {lo:g} and {'<' if open_hi else '<='} {hi:g}"
    if isinstance(value, bool) or not isinstance(value, int | float) \
            or not math.isfinite(value):
        raise _wrong(where, key, value, text)
    if value < lo or value > hi or (open_lo and value == lo) or (open_hi and value == hi):
        raise _wrong(where, key, value, text)
    return float(value)


def _integer(where: str, key: str, value: Any, lo: int, hi: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise _wrong(where, key, value, f"a whole number from {lo} to {hi}")
    return value


def _integers(where: str, key: str, value: Any, lo: int) -> tuple[int, ...]:
    expected = f"an array of whole numbers >= {lo} (visits)"
    if not isinstance(value, list) or any(isinstance(v, bool) or not isinstance(v, int)
                                          or v < lo for v in value):
        raise _wrong(where, key, value, expected)
    return tuple(sorted(set(value)))


def _texts(where: str, key: str, value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise _wrong(where, key, value, "an array of names")
    return tuple(value)


# ---------------------------------------------------------------------- options
@dataclass(frozen=True)
class TrajectoryOptions:
    """``[analysis.trajectory]``: the models of :func:`~dryneedle_outcomes.fit_trajectory`."""

    models: tuple[str, ...] = ("mmrm",)
    covariance: str = "unstructured"
    adjust: tuple[str, ...] = ("baseline",)
    df: str = "satterthwaite"
    cumulative_after: tuple[int, ...] = ()
    sessions_to_mcid: bool = False
    n_boot: int = 200
    seed: int = 0

    def df_for(self, model: str) -> str:
        """Degrees-of-freedom method of ``model`` (Kenward-Roger exists for mmrm only)."""
        return self.df if model == "mmrm" else "satterthwaite"


@dataclass(frozen=True)
class HarmsOptions:
    """``[analysis.harms]``."""

    per: tuple[str, ...] = PER
    dose_response: bool = True


@dataclass(frozen=True)
class RespondersOptions:
    """``[analysis.responders]``: one definition (``criterion``, ``value``) and missing rules."""

    criterion: str = "mcid"
    value: float = 0.0
    missing: tuple[str, ...] = ("observed",)

    def definition(self) -> dict[str, float]:
        """Keyword argument of :func:`~dryneedle_outcomes.responders.responders`."""
        return {self.criterion: self.value}


@dataclass(frozen=True)
class BaselineTableOptions:
    """``[analysis.baseline_table]``."""

    p_values: bool = False


@dataclass(frozen=True)
class TimeToReliefOptions:
    """``[analysis.time_to_relief]``: the relief definition and the analysis options."""

    criterion: str = "mcid"
    value: float = 0.0
    sustained: bool = False
    timescale: tuple[str, ...] = ("days",)
    interval_censored: bool = True
    covariates: tuple[str, ...] = ()
    strata: str | None = None
    distributions: tuple[str, ...] = ("weibull", "loglogistic")
    conf_type: str = "log-log"
    rmst_tau: float | None = None
    n_boot: int = 200
    seed: int = 2014

    def relief(self):
        """The :class:`~dryneedle_outcomes.Relief` this table defines."""
        from .survival.relief import Relief

        return Relief(**{self.criterion: self.value}, sustained=self.sustained)


@dataclass(frozen=True)
class SorenessOptions:
    """``[analysis.soreness_duration]``."""

    n_boot: int = 200
    seed: int = 2014


@dataclass(frozen=True)
class AnalysisOptions:
    """``[analysis]``: the outcome, the interval level and the analyses to run (or None)."""

    outcome: str = "first_step_pain"
    conf_level: float = 0.95
    reference_arm: str | None = None
    trajectory: TrajectoryOptions | None = None
    harms: HarmsOptions | None = None
    responders: RespondersOptions | None = None
    baseline_table: BaselineTableOptions | None = None
    time_to_relief: TimeToReliefOptions | None = None
    soreness_duration: SorenessOptions | None = None


@dataclass(frozen=True)
class FigureOptions:
    """``[figures]``."""

    formats: tuple[str, ...] = ("pdf", "png")
    width: str | float = "single"
    dpi: int = 300


def _trajectory(t: dict) -> TrajectoryOptions:
    w = "[analysis.trajectory]"
    d = TrajectoryOptions()
    return TrajectoryOptions(
        models=_choices(w, "models", t["models"], MODELS) if "models" in t else d.models,
        covariance=_choice(w, "covariance", t.get("covariance", d.covariance), COVARIANCES),
        adjust=_texts(w, "adjust", t["adjust"]) if "adjust" in t else d.adjust,
        df=_choice(w, "df", t.get("df", d.df), DF_METHODS),
        cumulative_after=(_integers(w, "cumulative_after", t["cumulative_after"], 1)
                          if "cumulative_after" in t else d.cumulative_after),
        sessions_to_mcid=_boolean(w, "sessions_to_mcid",
                                  t.get("sessions_to_mcid", d.sessions_to_mcid)),
        n_boot=_integer(w, "n_boot", t.get("n_boot", d.n_boot), 1, 100_000),
        seed=_integer(w, "seed", t.get("seed", d.seed), 0, 2**32 - 1),
    )


def _definition(t: dict, outcome: str, w: str, what: str) -> tuple[str, float]:
    """The one definition (mcid, percent_reduction or threshold) of a table, checked."""
    inst = INSTRUMENTS[outcome]
    given = [k for k in DEFINITIONS if k in t and t[k] is not False]
    if len(given) > 1:
        raise ConfigError(f"{w}: give one definition of {what}, got "
                          f"{' and '.join(given)}; keep one of mcid, percent_reduction, "
                          "threshold")
    criterion = given[0] if given else "mcid"
    value = t.get(criterion, True)
    if criterion == "mcid" and value is True:
        if inst.mcid is None:
            raise ConfigError(f"{w}: mcid = true but {outcome} has no registered MCID; give "
                              "mcid = <number>, or percent_reduction = 30")
        value = float(inst.mcid)
    elif criterion == "mcid":
        value = _number(w, "mcid", value, 0.0, inst.upper - inst.lower, open_lo=True)
    elif criterion == "percent_reduction":
        value = _number(w, "percent_reduction", value, 0.0, 100.0, open_lo=True)
    else:
        value = _number(w, "threshold", value, inst.lower, inst.upper)
    return criterion, value


def _responders(t: dict, outcome: str) -> RespondersOptions:
    w = "[analysis.responders]"
    criterion, value = _definition(t, outcome, w, "a responder")
    missing = (_choices(w, "missing", t["missing"], MISSING_RULES) if "missing" in t
               else RespondersOptions.missing)
    return RespondersOptions(criterion=criterion, value=value, missing=missing)


def _time_to_relief(t: dict, outcome: str) -> TimeToReliefOptions:
    w = "[analysis.time_to_relief]"
    d = TimeToReliefOptions()
    criterion, value = _definition(t, outcome, w, "relief")
    timescale = t.get("timescale", list(d.timescale))
    if isinstance(timescale, str):
        timescale = [timescale]
    strata = t.get("strata", "")
    if not isinstance(strata, str):
        raise _wrong(w, "strata", strata, "a patient column name (text), or \"\" for none")
    tau = _number(w, "rmst_tau", t.get("rmst_tau", 0), 0.0, 1e9)
    return TimeToReliefOptions(
        criterion=criterion, value=value,
        sustained=_boolean(w, "sustained", t.get("sustained", d.sustained)),
        timescale=_choices(w, "timescale", timescale, TIMESCALES),
        interval_censored=_boolean(w, "interval_censored",
                                   t.get("interval_censored", d.interval_censored)),
        covariates=_texts(w, "covariates", t["covariates"]) if "covariates" in t
        else d.covariates,
        strata=strata or None,
        distributions=_choices(w, "distributions", t["distributions"], DISTRIBUTIONS)
        if "distributions" in t else d.distributions,
        conf_type=_choice(w, "conf_type", t.get("conf_type", d.conf_type), CONF_TYPES),
        rmst_tau=tau or None,
        n_boot=_integer(w, "n_boot", t.get("n_boot", d.n_boot), 0, 100_000),
        seed=_integer(w, "seed", t.get("seed", d.seed), 0, 2**32 - 1))


def _analysis(a: dict) -> AnalysisOptions:
    for key, meant in ALIASES.items():
        if key in a:
            raise ConfigError(f"[analysis.{key}] is not a table; did you mean "
                              f"[analysis.{meant}]? (analyses: {', '.join(ANALYSES)})")
    _check_keys(a, "analysis")
    w = "[analysis]"
    outcome = _choice(w, "outcome", a.get("outcome", "first_step_pain"), tuple(INSTRUMENTS))
    conf = _number(w, "conf_level", a.get("conf_level", 0.95), 0.0, 1.0, open_lo=True,
                   open_hi=True)
    ref = a.get("reference_arm")
    if ref is not None and (not isinstance(ref, str) or not ref):
        raise _wrong(w, "reference_arm", ref, "an arm name (text)")
    parts: dict[str, Any] = {}
    for name in ANALYSES:
        if name not in a:
            continue
        if not isinstance(a[name], dict):
            raise _wrong(w, name, a[name], f"a table ([analysis.{name}])")
        _check_keys(a[name], f"analysis.{name}")
        t = a[name]
        if name == "trajectory":
            parts[name] = _trajectory(t)
        elif name == "harms":
            h = "[analysis.harms]"
            parts[name] = HarmsOptions(
                per=_choices(h, "per", t["per"], PER) if "per" in t else PER,
                dose_response=_boolean(h, "dose_response", t.get("dose_response", True)))
        elif name == "responders":
            parts[name] = _responders(t, outcome)
        elif name == "time_to_relief":
            parts[name] = _time_to_relief(t, outcome)
        elif name == "soreness_duration":
            s = "[analysis.soreness_duration]"
            parts[name] = SorenessOptions(
                n_boot=_integer(s, "n_boot", t.get("n_boot", 200), 0, 100_000),
                seed=_integer(s, "seed", t.get("seed", 2014), 0, 2**32 - 1))
        else:
            parts[name] = BaselineTableOptions(
                p_values=_boolean("[analysis.baseline_table]", "p_values",
                                  t.get("p_values", False)))
    return AnalysisOptions(outcome=outcome, conf_level=conf, reference_arm=ref, **parts)


def _figures(f: dict) -> FigureOptions:
    w = "[figures]"
    d = FigureOptions()
    width = f.get("width", d.width)
    if isinstance(width, str):
        width = _choice(w, "width", width, ("single", "double"))
    else:
        width = _number(w, "width", width, 30.0, 300.0)
    return FigureOptions(
        formats=_choices(w, "formats", f["formats"], FORMATS) if "formats" in f else d.formats,
        width=width, dpi=_integer(w, "dpi", f.get("dpi", d.dpi), 72, 1200))


def _plain(value: Any) -> Any:
    """Options as JSON-friendly data (tuples as lists, dataclasses as dicts)."""
    if dataclasses.is_dataclass(value):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    return value


# ---------------------------------------------------------------------- the file
#: Deepest nesting of arrays and tables a configuration may have (the schema needs 3).
MAX_DEPTH = 32


def _depth(value: Any) -> int:
    """How deeply arrays and tables nest inside the document ``value`` (iteratively)."""
    deepest, stack = 0, [(value, -1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, level + 1)
            stack.extend((v, level + 1) for v in (item.values() if isinstance(item, dict)
                                                  else item))
    return deepest


def read_toml(path: str | Path) -> dict:
    r"""Read a TOML file; every problem is a one-line :class:`ConfigError` naming the file.

    Missing file, a folder, unreadable, not UTF-8 (the line and column of the first bad
    byte), not TOML (tomllib's line and column), nesting deeper than :data:`MAX_DEPTH`.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     bad = Path(tmp) / "analysis.toml"
    ...     _ = bad.write_bytes(b'[data]\nassessments = "caf\xe9.csv"\n')
    ...     read_toml(bad)
    Traceback (most recent call last):
    ...
    dryneedle_outcomes.errors.ConfigError: ...is not UTF-8 text: byte 0xe9 at line 2, column 19;...
    """
    path = Path(path)
    if path.is_dir():
        raise ConfigError(f"configuration {path} is a folder, not a file; give the "
                          "analysis.toml inside it")
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"configuration file {path} does not exist") from None
    except OSError as exc:
        raise ConfigError(f"cannot read the configuration {path}: {exc.strerror}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        column = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        raise ConfigError(f"{path} is not UTF-8 text: byte 0x{raw[exc.start]:02x} at line "
                          f"{line}, column {column}; save it as UTF-8") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}") from None
    except RecursionError:
        raise ConfigError(f"{path} nests arrays or tables too deeply to read (more than "
                          f"{MAX_DEPTH} levels are never needed)") from None
    depth = _depth(data)
    if depth > MAX_DEPTH:
        raise ConfigError(f"{path} nests arrays or tables {depth} levels deep; at most "
                          f"{MAX_DEPTH} are allowed")
    return data


# ---------------------------------------------------------------------- the config
@dataclass(frozen=True)
class AnalysisConfig:
    """A validated analysis configuration; paths resolved against ``base_dir``.

    ``analysis`` is None when the configuration has no ``[analysis]`` table (load and
    check only). ``resolved`` is the configuration with every default filled in (what
    ``manifest.json`` records); ``raw`` is the file as read.
    """

    assessments: Path
    patients: Path | None
    adverse_events: Path | None
    mapping: Any
    errors: str
    base_dir: Path
    raw: dict = field(default_factory=dict)
    analysis: AnalysisOptions | None = None
    figures: FigureOptions = field(default_factory=FigureOptions)
    source: Path | None = None
    limits: Any = None

    @property
    def inputs(self) -> dict[str, Path]:
        """Input files by role (those given), the configuration file included."""
        out = {"assessments": self.assessments, "patients": self.patients,
               "adverse_events": self.adverse_events}
        if isinstance(self.mapping, Path):
            out["mapping"] = self.mapping
        out["config"] = self.source
        return {k: v for k, v in out.items() if v is not None}

    @property
    def resolved(self) -> dict:
        """The configuration with defaults filled in, as plain data."""
        out: dict[str, Any] = {"data": {**self.raw.get("data", {}), "errors": self.errors}}
        for key in ("mapping", "simulation"):
            if key in self.raw:
                out[key] = self.raw[key]
        if self.analysis is not None:
            a = _plain(self.analysis)
            out["analysis"] = {k: v for k, v in a.items()
                               if v is not None or k == "reference_arm"}
        out["figures"] = _plain(self.figures)
        return out

    @classmethod
    def from_file(cls, path: str | Path) -> AnalysisConfig:
        """Read and validate a TOML configuration file."""
        path = Path(path)
        data = read_toml(path)
        try:
            cfg = cls.from_dict(data, base_dir=path.parent, where=str(path))
        except ConfigError as exc:
            text = str(exc)
            raise ConfigError(text if text.startswith(str(path)) else f"{path}: {text}") \
                from None
        return dataclasses.replace(cfg, source=path)

    @classmethod
    def from_dict(cls, data: dict, *, base_dir: str | Path,
                  where: str = "config") -> AnalysisConfig:
        """Validate a configuration given as a dict."""
        base = Path(base_dir)
        for section, value in data.items():
            if section not in _TOP:
                raise _unknown(section, _TOP, where)
            if not isinstance(value, dict):
                raise ConfigError(f"{where}: [{section}] must be a table, got {value!r}")
            if section in ("data", "simulation", "figures"):
                _check_keys(value, section)
        d = data.get("data")
        if not d or "assessments" not in d:
            raise ConfigError(f"{where}: [data] must name the assessments file "
                              "(assessments = \"visits.csv\")")

        def path_of(key: str) -> Path | None:
            value = d.get(key)
            if value is None:
                return None
            if not isinstance(value, str):
                raise _wrong("[data]", key, value, "a path (text)")
            p = Path(value)
            p = p if p.is_absolute() else base / p
            if not p.exists():
                raise ConfigError(f"[data]: {key} file {value!r} does not exist (looked for {p})")
            return p

        errors = d.get("errors", "raise")
        if errors not in ("raise", "quarantine"):
            raise ConfigError(f"[data]: errors must be 'raise' or 'quarantine', got {errors!r}")
        if "mapping" in d and "mapping" in data:
            raise ConfigError(f"{where}: give the mapping either as [data] mapping = \"file\" "
                              "or as an inline [mapping] table, not both")
        mapping = path_of("mapping") if "mapping" in d else data.get("mapping")
        return cls(
            limits=_limits(d.get("limits")),
            assessments=path_of("assessments"),
            patients=path_of("patients"),
            adverse_events=path_of("adverse_events"),
            mapping=mapping,
            errors=errors,
            base_dir=base,
            raw=data,
            analysis=_analysis(data["analysis"]) if "analysis" in data else None,
            figures=_figures(data.get("figures", {})),
        )
