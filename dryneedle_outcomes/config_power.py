"""The ``[power]`` configuration of ``dryneedle-outcomes power``.

One job: check the ``[power]`` and ``[power.design]`` tables (schema:
:data:`dryneedle_outcomes.config_schema.FIELDS`, documented with the rest of the
configuration in :mod:`dryneedle_outcomes.config`) and hold them as
:class:`PowerOptions`; read a power configuration file (:class:`PowerConfig`), which
needs ``[data]`` only when the design comes from a fit (``from_fit = true``; without
``[data]`` its ``[instruments]`` are registered here). Every problem is a one-line
:class:`~dryneedle_outcomes.errors.ConfigError` naming the file, the table and the key.

``[power.design] effect`` is the target difference between the arms' mean changes
(DELTA2 guidance: Cook et al. 2018, BMJ 363:k3750), never an instrument's
individual-level MCID nor the effect observed in earlier data (see
:mod:`dryneedle_outcomes.power.design`). The MCID belongs to the *individual* criterion
of ``analysis = "responders"`` and ``"time_to_relief"``: their definition is given in
``[power]`` as ``[analysis.responders]`` and ``[analysis.time_to_relief]`` spell theirs
(one of ``mcid``, ``percent_reduction``, ``threshold``; ``sustained`` for time to
relief; ``test`` for responders), resolved against ``[power.design] instrument`` (with
``from_fit``: ``[analysis] outcome``), and refused with the other analyses, which would
ignore it.

The allowed analyses are ``dryneedle_outcomes.power.analyses.ANALYSES``, imported when a
``[power]`` table is read (the simulation's own list, never a copy).

Examples
--------
>>> opts = parse_power({"n_per_arm": [40, 60], "design": {"visits": [2, 4, 6],
...                     "effect": -12.0, "sd": 20.0, "correlation": "ar1", "rho": 0.6}})
>>> opts.n_per_arm, opts.analysis, opts.design.assumptions["rho"]
((40, 60), 'mmrm', 0.6)
>>> parse_power({"n_per_arm": [40], "design": {"visits": [6]}})
Traceback (most recent call last):
...
dryneedle_outcomes.errors.ConfigError: [power.design]: effect is required: the target ...
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .config_schema import (
    DEFINITIONS,
    FIELDS,
    POWER_ENDPOINTS,
    TOP,
    check_keys,
    choice,
    default,
    field_of,
    number,
    one_definition,
    parse_table,
    unknown,
    wrong,
)
from .errors import ConfigError

#: The tables a power configuration without ``[data]`` may have.
POWER_ONLY = ("power", "instruments", "figures", "simulation")
#: The keys of ``[power.design]`` that a fit gives (not allowed with ``from_fit``).
FROM_FIT = ("visits", "sd", "correlation", "rho", "baseline_mean", "instrument")
#: The keys of ``[power]`` for the responder and time-to-relief analyses only.
ENDPOINT_KEYS = (*DEFINITIONS, "sustained", "test")
_P, _D = "[power]", "[power.design]"


def power_analyses() -> tuple[str, ...]:
    """The analyses ``dno.simulate_power`` applies (imports the simulation's list)."""
    from .power.analyses import ANALYSES

    return tuple(ANALYSES)


def _jobs(value: Any) -> int:
    f = field_of("power", "n_jobs")
    if isinstance(value, bool) or not isinstance(value, int) \
            or not (value == -1 or 1 <= value <= 1024):
        raise wrong(_P, "n_jobs", value, f.expected)
    return value


def _sizes(value: Any) -> tuple[int, ...]:
    f = field_of("power", "n_per_arm")
    if not isinstance(value, list) or not value or any(
            isinstance(v, bool) or not isinstance(v, int) or v < 3 for v in value):
        raise wrong(_P, "n_per_arm", value, f.expected)
    return tuple(sorted(set(value)))


def _range(value: Any) -> tuple[int, int]:
    f = field_of("power", "n_range")
    if not isinstance(value, list) or len(value) != 2 or any(
            isinstance(v, bool) or not isinstance(v, int) for v in value) \
            or not 3 <= value[0] < value[1]:
        raise wrong(_P, "n_range", value, f.expected)
    return int(value[0]), int(value[1])


def _finite(v: Any) -> bool:
    return not isinstance(v, bool) and isinstance(v, int | float) and math.isfinite(v)


def _vector(key: str, value: Any) -> float | tuple[float, ...]:
    f = field_of("power.design", key)
    if _finite(value):
        return float(value)
    if isinstance(value, list) and value and all(_finite(v) for v in value):
        return tuple(float(v) for v in value)
    raise wrong(_D, key, value, f.expected)


def _correlation(value: Any) -> str | tuple[tuple[float, ...], ...]:
    f = field_of("power.design", "correlation")
    if isinstance(value, str):
        return choice(_D, "correlation", value, ("exchangeable", "ar1"))
    if isinstance(value, list) and value and all(
            isinstance(row, list) and row and all(_finite(v) for v in row) for row in value):
        return tuple(tuple(float(v) for v in row) for row in value)
    raise wrong(_D, "correlation", value, f.expected)


@dataclass(frozen=True)
class DesignOptions:
    """``[power.design]``: the assumptions given (``assumptions``, keywords of
    :class:`~dryneedle_outcomes.TrialDesign`) and whether the rest comes from a fit."""

    from_fit: bool = default("power.design", "from_fit")
    assumptions: dict = field(default_factory=dict)

    def design(self, fit=None):
        """The :class:`~dryneedle_outcomes.TrialDesign`: from the assumptions, or from
        ``fit`` (a ``fit_trajectory(model="mmrm")`` result) with the effect, shape and
        allocation given and the dropout (and its mechanism) replaced when given.

        Raises
        ------
        ConfigError
            An assumption the design refuses, naming ``[power.design]``.
        """
        from .errors import AnalysisError
        from .power import TrialDesign

        a = dict(self.assumptions)
        if self.from_fit:
            # an AnalysisError here is the fit's: it cannot give a design (the caller says so)
            built = fit.design(**{k: a.pop(k) for k in ("effect", "shape", "allocation")
                                  if k in a})
        try:
            if not self.from_fit:
                return TrialDesign(**a)
            return dataclasses.replace(built, **a) if a else built
        except AnalysisError as exc:
            raise ConfigError(f"{_D}: {exc}") from None


@dataclass(frozen=True)
class PowerOptions:
    """``[power]``: what to simulate (a curve at ``n_per_arm``, the sample size for
    ``target_power`` over ``n_range``, or both) and how."""

    design: DesignOptions
    analysis: str = default("power", "analysis")
    n_trials: int = default("power", "n_trials")
    seed: int = default("power", "seed")
    alpha: float = default("power", "alpha")
    n_jobs: int = default("power", "n_jobs")
    target_power: float | None = None
    n_range: tuple[int, int] | None = None
    n_per_arm: tuple[int, ...] | None = None
    visit: float | None = None
    adjust_baseline: bool = default("power", "adjust_baseline")
    definition: tuple[str, Any] | None = None
    sustained: bool = default("power", "sustained")
    test: str = default("power", "test")

    def check_visit(self, design) -> None:
        """Raise a :class:`ConfigError` unless ``visit`` is a visit of ``design``."""
        import numpy as np

        if self.visit is not None and not np.isclose(design.visits, self.visit).any():
            raise ConfigError(f"{_P}: visit = {self.visit:g} is not a visit of the design; "
                              f"its visits: {', '.join(f'{v:g}' for v in design.visits)}")

    def relief(self):
        """The :class:`~dryneedle_outcomes.Relief` of ``analysis = "responders"`` or
        ``"time_to_relief"`` (``definition=`` of ``dno.simulate_power``), else None.

        ``definition`` holds the criterion and its value with ``mcid = true`` resolved
        to the instrument's MCID (the number the simulation uses either way).
        """
        if self.analysis not in POWER_ENDPOINTS:
            return None
        from .survival.relief import Relief

        criterion, value = self.definition
        return Relief(**{criterion: value},
                      sustained=self.analysis == "time_to_relief" and self.sustained)

    def keywords(self) -> dict:
        """The keywords shared by ``dno.simulate_power`` and ``dno.sample_size`` (but
        the design, ``visit`` and the sample sizes): with ``definition`` (a ``Relief``)
        for responders and time_to_relief, and ``test`` for responders."""
        out = {"n_trials": self.n_trials, "seed": self.seed, "analysis": self.analysis,
               "alpha": self.alpha, "n_jobs": self.n_jobs,
               "adjust_baseline": self.adjust_baseline}
        if self.analysis in POWER_ENDPOINTS:
            out["definition"] = self.relief()
        if self.analysis == "responders":
            out["test"] = self.test
        return out

    @property
    def resolved(self) -> dict:
        """The options with defaults filled in, as plain data (for manifest.json): the
        definition of response or relief (``mcid = true`` as the MCID's number), with
        ``sustained`` (time_to_relief) or ``test`` (responders), only for those
        analyses."""
        endpoint_fields = ("design", "definition", "sustained", "test")
        out = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)
               if f.name not in endpoint_fields}
        out = {k: list(v) if isinstance(v, tuple) else v for k, v in out.items()}
        if self.analysis in POWER_ENDPOINTS:
            criterion, value = self.definition
            out[criterion] = value
            if self.analysis == "time_to_relief":
                out["sustained"] = self.sustained
            else:
                out["test"] = self.test
        given = self.design.assumptions
        defaults = {f.key: f.default for f in FIELDS if f.table == "power.design"
                    and f.default is not None and f.key not in given
                    and not (self.design.from_fit and f.key in FROM_FIT)}
        out["design"] = {**defaults, "from_fit": self.design.from_fit,
                         **{k: _plain(v) for k, v in given.items()}}
        return out


def _plain(value: Any) -> Any:
    return [_plain(v) for v in value] if isinstance(value, tuple) else value


def parse_power(table: Any, *, outcome: str | None = None) -> PowerOptions:
    """Check ``[power]`` (with ``[power.design]``) and return its options.

    Parameters
    ----------
    table : dict
        The ``[power]`` table as read.
    outcome : str, optional
        ``[analysis] outcome`` when the file has ``[analysis]``: the instrument of a
        design ``from_fit`` (registered before, with the file's ``[instruments]``).

    Raises
    ------
    ConfigError
        A misspelt key, a value of the wrong type, ``target_power`` without ``n_range``
        (or the reverse), nothing to compute, a design without ``effect`` or
        ``visits``, a key that ``from_fit = true`` takes from the fit, a definition of
        response or relief (or ``test``) for an analysis that does not use it, or one
        that needs an instrument the design does not name.

    Examples
    --------
    >>> opts = parse_power({"analysis": "responders", "n_per_arm": [40], "test": "chisq",
    ...                     "design": {"visits": [6], "effect": -10.0, "sd": 20.0,
    ...                                "instrument": "first_step_pain"}})
    >>> opts.relief(), opts.keywords()["test"]
    (Relief(mcid=19.0), 'chisq')
    >>> parse_power({"analysis": "time_to_relief", "n_per_arm": [40],
    ...              "design": {"visits": [3, 6], "effect": -10.0}})
    Traceback (most recent call last):
    ...
    dryneedle_outcomes.errors.ConfigError: [power]: mcid = true (the default) defines relief ...
    """
    if not isinstance(table, dict):
        raise ConfigError(f"[power] must be a table, got {table!r}")
    check_keys(table, "power")
    plain = parse_table("power", table)  # the keys of the shared kinds; then the others
    plain["analysis"] = (choice(_P, "analysis", table["analysis"], power_analyses())
                         if "analysis" in table else default("power", "analysis"))
    plain["n_jobs"] = _jobs(table["n_jobs"]) if "n_jobs" in table else default("power",
                                                                             "n_jobs")
    plain["n_per_arm"] = _sizes(table["n_per_arm"]) if "n_per_arm" in table else None
    plain["n_range"] = _range(table["n_range"]) if "n_range" in table else None
    if (plain["target_power"] is None) != ("n_range" not in table):
        given, missing = (("target_power", "n_range") if plain["target_power"] is not None
                          else ("n_range", "target_power"))
        raise ConfigError(f"{_P}: {given} needs {missing}: the sample size is searched for "
                          "target_power over n_range, e.g. target_power = 0.9 and "
                          "n_range = [20, 200]")
    if "n_per_arm" not in table and "n_range" not in table:
        raise ConfigError(f"{_P}: nothing to compute: give n_per_arm = [40, 60, 80] (a "
                          "power curve) and/or target_power = 0.9 with n_range = [20, 200] "
                          "(the sample size)")
    if plain["analysis"] != "ancova" and plain["adjust_baseline"] is not True:
        raise ConfigError(f"{_P}: adjust_baseline = false is for analysis = \"ancova\" "
                          f"(the t test); the {plain['analysis']} analysis adjusts for "
                          "the baseline")
    design = table.get("design")
    if not isinstance(design, dict):
        raise ConfigError(f"{_P}: the assumptions of the trial go in a [power.design] "
                          "table (visits, effect, sd, correlation, dropout, ...), or "
                          "[power.design] from_fit = true with effect")
    design = _design(design)
    instrument = outcome if design.from_fit else design.assumptions.get("instrument")
    known = not design.from_fit or outcome is not None
    plain["definition"] = _endpoint(table, plain["analysis"], instrument, known)
    return PowerOptions(design=design, **plain)


def _endpoint(t: dict, analysis: str, instrument: str | None, known: bool
              ) -> tuple[str, Any] | None:
    """The definition of response or relief (criterion, value) of ``[power]``, checked
    as ``[analysis.responders]`` / ``[analysis.time_to_relief]`` check theirs; None for
    the other analyses, which refuse the keys (they would be ignored silently).

    ``known``: whether ``instrument`` is known here (not with ``from_fit`` before
    ``[analysis]`` is read: then ``mcid = true`` is left unresolved, and the
    configuration is refused for want of ``[analysis]`` or ``[data]``).
    """
    given = [k for k in ENDPOINT_KEYS if k in t]
    if analysis not in POWER_ENDPOINTS:
        if given:
            key = given[0]
            which = ('"responders"' if key == "test" else '"time_to_relief"'
                     if key == "sustained" else '"responders" or "time_to_relief"')
            raise ConfigError(
                f"{_P}: {key} is for analysis = {which}; analysis = \"{analysis}\" would "
                f"ignore it: remove {key}, or set analysis" + (
                    " (the effect to detect is [power.design] effect, a difference "
                    "between the arms' mean changes, not an individual patient's "
                    "criterion)" if key in DEFINITIONS else ""))
        return None
    if analysis == "responders" and "sustained" in t:
        raise ConfigError(f"{_P}: sustained is for analysis = \"time_to_relief\" (relief "
                          "confirmed at the next observed visit); responders are counted "
                          "at the primary visit: remove sustained")
    if analysis == "time_to_relief" and "test" in t:
        raise ConfigError(f"{_P}: test is for analysis = \"responders\"; time_to_relief "
                          "uses the interval-censored log-rank test (Finkelstein scores): "
                          "remove test")
    what = "a responder" if analysis == "responders" else "relief"
    criterion, value = one_definition(t, _P, what)
    inst = None
    if instrument is not None:
        from .instruments import INSTRUMENTS

        inst = INSTRUMENTS[instrument]
    name = 'instrument = "first_step_pain" (a registered instrument'
    if criterion == "mcid" and value is True:
        if not known:
            return criterion, value
        if inst is None:
            raise ConfigError(
                f"{_P}: mcid = true{'' if 'mcid' in t else ' (the default)'} defines {what} "
                "by the instrument's MCID, but [power.design] names no instrument: give "
                f"[power.design] {name}: its MCID, direction and range), or the MCID as a "
                "number, e.g. mcid = 12")
        if inst.mcid is None:
            raise ConfigError(f"{_P}: mcid = true but {instrument} has no registered MCID; "
                              "give mcid = <number>, or percent_reduction = 30")
        return criterion, float(inst.mcid)
    if criterion == "percent_reduction" and inst is None and known:
        raise ConfigError(f"{_P}: percent_reduction is measured against the room to "
                          "improve, which needs the instrument's range: give [power.design] "
                          f"{name}), or define {what} by mcid = <number> or threshold")
    if criterion == "percent_reduction":
        return criterion, number(_P, criterion, value, 0.0, 100.0, open_lo=True)
    if inst is not None:
        if criterion == "mcid":
            return criterion, number(_P, "mcid", value, 0.0, inst.upper - inst.lower,
                                     open_lo=True)
        return criterion, number(_P, "threshold", value, inst.lower, inst.upper)
    if not _finite(value) or (criterion == "mcid" and value <= 0):
        # no instrument: the outcome's range is not known (a higher-is-worse score)
        raise wrong(_P, criterion, value, "a number > 0" if criterion == "mcid"
                    else "a number")
    return criterion, float(value)


def _design(t: dict) -> DesignOptions:
    check_keys(t, "power.design")
    plain = parse_table("power.design", t)
    from_fit = plain.pop("from_fit")
    if "effect" not in t:
        raise ConfigError(f"{_D}: effect is required: the target difference between the "
                          "arms' mean changes from baseline, treated minus control, that "
                          "the trial should detect, important and realistic (DELTA2: Cook "
                          "et al. 2018, BMJ 363:k3750); not an instrument's MCID, which is "
                          "a threshold for one patient's change, and never the effect "
                          "observed in earlier data (post-hoc power; Hoenig & Heisey 2001)")
    if from_fit:
        taken = [k for k in FROM_FIT if k in t]
        if taken:
            names = (f"{', '.join(taken[:-1])} and {taken[-1]} come" if len(taken) > 1
                     else f"{taken[0]} comes")
            raise ConfigError(f"{_D}: {names} from the fit with from_fit = true"
                              + (" (the instrument is [analysis] outcome)"
                                 if "instrument" in taken else "")
                              + f"; remove {'them' if len(taken) > 1 else 'it'}, or set "
                              "from_fit = false and give every assumption")
    elif "visits" not in t:
        raise ConfigError(f"{_D}: visits is required (the times of the post-baseline "
                          "visits, e.g. visits = [1, 2, 3, 4, 5, 6]), or from_fit = true")
    out: dict[str, Any] = {}
    for key in t:
        if key == "from_fit":
            continue
        if key in ("effect", "sd", "dropout"):
            out[key] = _vector(key, t[key])
        elif key == "correlation":
            out[key] = _correlation(t[key])
        else:
            out[key] = plain[key]
    return DesignOptions(from_fit=from_fit, assumptions=out)


def register_instruments(table: Any, where: str) -> dict:
    """Check and register a power configuration's ``[instruments]`` (without ``[data]``;
    with it, :class:`~dryneedle_outcomes.config.AnalysisConfig` registers them, the
    mapping's too), so that ``[power.design] instrument`` may name one.

    Raises
    ------
    ConfigError
        A bad declaration, or one that differs from a registered instrument's.
    """
    from .errors import MappingError
    from .instrument_definitions import parse_instruments
    from .instruments import ensure_registered

    try:
        declared = parse_instruments(table, where)
        ensure_registered(declared, where)
    except MappingError as exc:
        raise ConfigError(str(exc)) from None
    return declared


@dataclass(frozen=True)
class PowerConfig:
    """A validated power configuration: ``power`` options, the ``figures`` options, and
    ``analysis``: the whole :class:`~dryneedle_outcomes.config.AnalysisConfig` when the
    file has ``[data]`` (needed with ``from_fit = true``), else None."""

    power: PowerOptions
    figures: Any
    source: Path
    raw: dict
    analysis: Any = None

    @property
    def inputs(self) -> dict[str, Path]:
        """Input files by role: the data's when ``from_fit``, and the configuration."""
        if self.analysis is not None and self.power.design.from_fit:
            return self.analysis.inputs
        return {"config": self.source}

    @property
    def resolved(self) -> dict:
        """The configuration with defaults filled in (what manifest.json records)."""
        out: dict[str, Any] = {}
        if self.analysis is not None:
            out.update(self.analysis.resolved)
        elif "instruments" in self.raw:
            out["instruments"] = self.raw["instruments"]
        out["power"] = self.power.resolved
        out["figures"] = {f.name: _plain(getattr(self.figures, f.name))
                          for f in dataclasses.fields(self.figures)}
        return out

    @classmethod
    def from_file(cls, path: str | Path) -> PowerConfig:
        """Read and check a configuration with a ``[power]`` table.

        Raises
        ------
        ConfigError
            Naming the file, the table and the key.
        """
        from .config import AnalysisConfig, FigureOptions, read_toml

        path = Path(path)
        data = read_toml(path)
        try:
            if "power" not in data:
                raise ConfigError("has no [power] table; dryneedle-outcomes power needs "
                                  "one (see data/sample/power.toml)")
            if "data" in data:
                analysis = AnalysisConfig.from_file(path)
                if analysis.power.design.from_fit and analysis.analysis is None:
                    raise ConfigError(f"{_D}: from_fit = true needs [analysis] (its "
                                      "outcome, reference_arm and primary_visit; "
                                      "[analysis.trajectory] covariance)")
                cfg = cls(power=analysis.power, figures=analysis.figures, source=path,
                          raw=data, analysis=analysis)
                if not cfg.power.design.from_fit:  # every assumption checked before running
                    cfg.power.check_visit(cfg.power.design.design())
                return cfg
            for section in data:
                if section not in TOP:
                    raise unknown(section, TOP, "the configuration")
                if section not in POWER_ONLY:
                    raise ConfigError(f"[{section}] needs [data] (the cohort it applies "
                                      "to); a power configuration without data has "
                                      f"{', '.join(f'[{t}]' for t in POWER_ONLY)} only")
            register_instruments(data.get("instruments", {}), str(path))
            power = parse_power(data["power"])
            if power.design.from_fit:
                raise ConfigError(f"{_D}: from_fit = true needs [data] (the cohort whose "
                                  "MMRM fit gives the variability and dropout) and "
                                  "[analysis] outcome")
            figures = data.get("figures", {})
            if not isinstance(figures, dict):
                raise ConfigError(f"[figures] must be a table, got {figures!r}")
            check_keys(figures, "figures")
            opts = FigureOptions(**parse_table("figures", figures))
            power.check_visit(power.design.design())  # checked before running
        except ConfigError as exc:
            text = str(exc)
            raise ConfigError(text if text.startswith(str(path)) else f"{path}: {text}") \
                from None
        return cls(power=power, figures=opts, source=path, raw=data)


__all__ = ["DesignOptions", "ENDPOINT_KEYS", "FROM_FIT", "POWER_ONLY", "PowerConfig",
           "PowerOptions", "parse_power", "power_analyses", "register_instruments"]
