"""The analysis configuration (``analysis.toml``) read by the command line.

Schema (every key is checked; a misspelt key is an error naming it)::

    [data]
    assessments = "assessments.csv"     # required; paths relative to the config file
    patients = "patients.xlsx"          # optional
    adverse_events = "adverse_events.csv"   # optional
    mapping = "mapping.toml"            # optional; or an inline [mapping] table
    errors = "quarantine"               # "raise" (default) or "quarantine"

    [simulation]                        # how data/sample was generated (recorded only)
    seed = 2014
    n_patients = 84

Examples
--------
>>> cfg = AnalysisConfig.from_file("data/sample/analysis.toml")
>>> cfg.errors, cfg.assessments.name
('quarantine', 'assessments.csv')
>>> AnalysisConfig.from_dict({"data": {"assesments": "a.csv"}}, base_dir=".")
Traceback (most recent call last):
...
dryneedle_outcomes.errors.ConfigError: [data]: unknown key 'assesments' (did you mean ...
"""

from __future__ import annotations

import difflib
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import ConfigError

_SECTIONS = {
    "data": ("assessments", "patients", "adverse_events", "mapping", "errors"),
    "simulation": ("seed", "n_patients"),
    "mapping": None,  # validated by Mapping
}


def _unknown(key: str, allowed, where: str) -> ConfigError:
    close = difflib.get_close_matches(key, list(allowed), n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return ConfigError(f"{where}: unknown key {key!r}{hint}; allowed: {', '.join(allowed)}")


@dataclass(frozen=True)
class AnalysisConfig:
    """A validated analysis configuration; paths resolved against ``base_dir``."""

    assessments: Path
    patients: Path | None
    adverse_events: Path | None
    mapping: Any
    errors: str
    base_dir: Path
    raw: dict = field(default_factory=dict)

    @property
    def inputs(self) -> dict[str, Path]:
        """Input files by table (those given)."""
        out = {"assessments": self.assessments, "patients": self.patients,
               "adverse_events": self.adverse_events}
        if isinstance(self.mapping, Path):
            out["mapping"] = self.mapping
        return {k: v for k, v in out.items() if v is not None}

    @classmethod
    def from_file(cls, path: str | Path) -> AnalysisConfig:
        """Read and validate a TOML configuration file."""
        path = Path(path)
        try:
            with path.open("rb") as fh:
                data = tomllib.load(fh)
        except FileNotFoundError:
            raise ConfigError(f"configuration file {path} does not exist") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path} is not valid TOML: {exc}") from None
        return cls.from_dict(data, base_dir=path.parent, where=str(path))

    @classmethod
    def from_dict(cls, data: dict, *, base_dir: str | Path,
                  where: str = "config") -> AnalysisConfig:
        """Validate a configuration given as a dict."""
        base = Path(base_dir)
        for section, value in data.items():
            if section not in _SECTIONS:
                raise _unknown(section, list(_SECTIONS), where)
            if not isinstance(value, dict):
                raise ConfigError(f"{where}: [{section}] must be a table, got {value!r}")
            allowed = _SECTIONS[section]
            if allowed is not None:
                for key in value:
                    if key not in allowed:
                        raise _unknown(key, allowed, f"[{section}]")
        d = data.get("data")
        if not d or "assessments" not in d:
            raise ConfigError(f"{where}: [data] must name the assessments file "
                              "(assessments = \"visits.csv\")")

        def path_of(key: str) -> Path | None:
            value = d.get(key)
            if value is None:
                return None
            if not isinstance(value, str):
                raise ConfigError(f"[data]: {key} must be a path (text), got {value!r}")
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
            assessments=path_of("assessments"),
            patients=path_of("patients"),
            adverse_events=path_of("adverse_events"),
            mapping=mapping,
            errors=errors,
            base_dir=base,
            raw=data,
        )
