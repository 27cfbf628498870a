"""dryneedle_outcomes: outcomes research on dry needling for plantar fasciitis.

Loaders turn the files clinics and trials produce into one canonical
:class:`Cohort` with a quality ledger that accounts for every row; analyses take a
Cohort.

Examples
--------
>>> import dryneedle_outcomes as dno
>>> cohort = dno.simulate_cohort(n_patients=40, seed=7)
>>> cohort.quality.balanced
True
"""

from importlib.metadata import PackageNotFoundError, version

from . import harms, plots, survival
from .baseline_table import BaselineTable, baseline_table
from .cohort import Cohort
from .errors import (
    AnalysisError,
    ConfigError,
    ConvergenceWarning,
    DataQualityWarning,
    DataValidationError,
    DryNeedleError,
    DryNeedleWarning,
    ImplausibleScaleWarning,
    InputLimitError,
    MappingError,
    MostlyRejectedWarning,
    ReadError,
)
from .harms import (
    AdverseEventRates,
    DoseResponse,
    ProtocolDeviations,
    adverse_event_rates,
    dose_response,
    event_listing,
    protocol_deviations,
)
from .instruments import INSTRUMENTS, Instrument, get_instrument
from .io.limits import ReadLimits, set_default_limits
from .io.readers import RawTable, read_table
from .io.redcap import read_redcap
from .load import load_cohort
from .mapping import Mapping
from .models.trajectory import TrajectoryResult, fit_trajectory
from .plots import save_figure
from .quality import QualityLedger
from .responders import RespondersResult, responders
from .simulate import simulate_cohort, simulate_tables, write_sample
from .survival.relief import Relief
from .survival.relief_result import ReliefResult
from .survival.soreness import SorenessResult, soreness_duration
from .survival.time_to_relief import time_to_relief

try:
    __version__ = version("dryneedle_outcomes")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0+unknown"

__all__ = [
    "AdverseEventRates",
    "AnalysisError",
    "DoseResponse",
    "ProtocolDeviations",
    "adverse_event_rates",
    "dose_response",
    "event_listing",
    "harms",
    "protocol_deviations",
    "BaselineTable",
    "RespondersResult",
    "baseline_table",
    "responders",
    "Cohort",
    "ConfigError",
    "ConvergenceWarning",
    "DataQualityWarning",
    "DataValidationError",
    "DryNeedleError",
    "DryNeedleWarning",
    "INSTRUMENTS",
    "Instrument",
    "Mapping",
    "MappingError",
    "QualityLedger",
    "Relief",
    "ReliefResult",
    "SorenessResult",
    "soreness_duration",
    "survival",
    "time_to_relief",
    "ImplausibleScaleWarning",
    "InputLimitError",
    "MostlyRejectedWarning",
    "RawTable",
    "ReadError",
    "ReadLimits",
    "set_default_limits",
    "TrajectoryResult",
    "fit_trajectory",
    "get_instrument",
    "plots",
    "save_figure",
    "load_cohort",
    "read_redcap",
    "read_table",
    "simulate_cohort",
    "simulate_tables",
    "write_sample",
    "__version__",
]
