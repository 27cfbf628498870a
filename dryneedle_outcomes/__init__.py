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

import sys
import types
from importlib import import_module
from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("dryneedle_outcomes")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0+unknown"

#: Public name -> the module defining it. Imported on first use (PEP 562), so that
#: ``import dryneedle_outcomes`` and the command line's ``--help`` start quickly.
_SOURCES = {
    "BaselineTable": "baseline_table", "baseline_table": "baseline_table",
    "Cohort": "cohort",
    "AnalysisError": "errors", "ConfigError": "errors", "ConvergenceWarning": "errors",
    "DataQualityWarning": "errors", "DataValidationError": "errors",
    "DryNeedleError": "errors", "DryNeedleWarning": "errors", "MappingError": "errors",
    "OutputFolderError": "errors", "ReadError": "errors",
    "ImplausibleScaleWarning": "errors", "InputLimitError": "errors",
    "MostlyRejectedWarning": "errors",
    "ReadLimits": "io.limits", "set_default_limits": "io.limits",
    "AdverseEventRates": "harms", "DoseResponse": "harms", "ProtocolDeviations": "harms",
    "adverse_event_rates": "harms", "dose_response": "harms", "event_listing": "harms",
    "protocol_deviations": "harms", "harms_table": "harms", "HarmsTable": "harms",
    "SorenessRule": "harms",
    "INSTRUMENTS": "instruments", "Instrument": "instruments",
    "get_instrument": "instruments", "register_instrument": "instruments",
    "unregister_instrument": "instruments", "instrument_scope": "instruments",
    "UnpooledInstrumentWarning": "errors",
    "RawTable": "io.raw_table", "read_table": "io.readers", "read_redcap": "io.redcap",
    "load_cohort": "load", "Mapping": "mapping",
    "TrajectoryResult": "models.trajectory", "fit_trajectory": "models.trajectory",
    "ReferenceBasedResult": "models.reference_based",
    "TippingPointResult": "models.reference_based_tipping",
    "ImputedRespondersResult": "models.reference_based_responders",
    "reference_based": "models.reference_based",
    "ImmediateCumulativeResult": "models.immediate_cumulative",
    "immediate_cumulative": "models.immediate_cumulative",
    "save_figure": "plots", "QualityLedger": "quality",
    "RespondersResult": "responders", "responders": "responders",
    "BlindingResult": "blinding", "blinding_index": "blinding",
    "simulate_cohort": "simulate", "simulate_tables": "simulate",
    "write_sample": "simulate",
    "Relief": "survival.relief", "ReliefResult": "survival.relief_result",
    "SorenessResult": "survival.soreness", "soreness_duration": "survival.soreness",
    "time_to_relief": "survival.time_to_relief",
    "IntervalTestResult": "stats.survival.interval_test",
    "interval_test": "stats.survival.interval_test",
    "ICPHFit": "stats.survival.ic_ph", "fit_ic_ph": "stats.survival.ic_ph",
    "Estimand": "estimands", "EstimandData": "estimands", "PerProtocolRule": "estimands",
    "Populations": "estimands", "apply_estimand": "estimands", "ice_table": "estimands",
    "composite_visits": "estimands",
    "per_protocol_population": "estimands",
    "CACEResult": "estimands", "complier_average_effect": "estimands",
    "ConsortFlow": "consort", "consort_flow": "consort",
    "ObservedSummary": "observed", "observed_summary": "observed",
    "StrictaTable": "stricta", "stricta_table": "stricta",
    "MultiplicityResult": "multiplicity", "adjust_p_values": "multiplicity",
    "multiple_endpoints": "multiplicity",
    "SubgroupResult": "models.subgroups", "subgroup_analysis": "models.subgroups",
    "PowerResult": "power", "TrialDesign": "power", "simulate_power": "power",
    "sample_size": "power",
}
#: Subpackages reachable as attributes (``dno.plots``, ``dno.harms``, ``dno.survival``).
_SUBMODULES = ("harms", "plots", "survival")


def __getattr__(name: str):
    if name in _SOURCES:
        value = getattr(import_module(f".{_SOURCES[name]}", __name__), name)
    elif name in _SUBMODULES:
        value = import_module(f".{name}", __name__)
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


#: Public functions named like the module defining them: importing the module
#: (``dryneedle_outcomes.responders``) must not replace ``dno.responders`` by it.
_SAME_NAME = frozenset(n for n, m in _SOURCES.items() if n == m)


class _Package(types.ModuleType):
    """This package's module type: keeps ``dno.responders`` the function (see above)."""

    def __setattr__(self, name: str, value) -> None:
        if name in _SAME_NAME and isinstance(value, types.ModuleType):
            value = getattr(value, name)
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package


__all__ = [
    "PowerResult",
    "TrialDesign",
    "simulate_power",
    "sample_size",
    "AdverseEventRates",
    "AnalysisError",
    "DoseResponse",
    "HarmsTable",
    "ProtocolDeviations",
    "SorenessRule",
    "adverse_event_rates",
    "dose_response",
    "event_listing",
    "harms",
    "harms_table",
    "protocol_deviations",
    "BaselineTable",
    "RespondersResult",
    "BlindingResult",
    "blinding_index",
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
    "OutputFolderError",
    "QualityLedger",
    "Relief",
    "ReliefResult",
    "SorenessResult",
    "soreness_duration",
    "survival",
    "time_to_relief",
    "IntervalTestResult",
    "interval_test",
    "ICPHFit",
    "fit_ic_ph",
    "ImplausibleScaleWarning",
    "InputLimitError",
    "MostlyRejectedWarning",
    "RawTable",
    "ReadError",
    "ReadLimits",
    "set_default_limits",
    "TrajectoryResult",
    "fit_trajectory",
    "ImmediateCumulativeResult",
    "immediate_cumulative",
    "ReferenceBasedResult",
    "TippingPointResult",
    "ImputedRespondersResult",
    "reference_based",
    "get_instrument",
    "register_instrument",
    "unregister_instrument",
    "instrument_scope",
    "UnpooledInstrumentWarning",
    "plots",
    "save_figure",
    "load_cohort",
    "read_redcap",
    "read_table",
    "simulate_cohort",
    "simulate_tables",
    "write_sample",
    "Estimand",
    "EstimandData",
    "PerProtocolRule",
    "Populations",
    "apply_estimand",
    "ice_table",
    "composite_visits",
    "per_protocol_population",
    "CACEResult",
    "complier_average_effect",
    "ConsortFlow",
    "consort_flow",
    "ObservedSummary",
    "observed_summary",
    "StrictaTable",
    "stricta_table",
    "MultiplicityResult",
    "adjust_p_values",
    "multiple_endpoints",
    "SubgroupResult",
    "subgroup_analysis",
    "__version__",
]
