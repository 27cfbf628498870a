"""Estimands (ICH E9(R1) 2019): the attributes, the strategies, the populations.

:class:`~dryneedle_outcomes.estimands.estimand.Estimand` states the five attributes
and a strategy per intercurrent event; :func:`~dryneedle_outcomes.estimands.apply.apply_estimand`
turns the strategies into analysis data (values set aside, flagged or used as observed);
:func:`~dryneedle_outcomes.estimands.populations.per_protocol_population` reports a
per-protocol population beside the randomised one. The intercurrent events themselves
are a canonical table of the cohort (``cohort.intercurrent_events``).
"""

from .apply import EstimandData, apply_estimand, composite_visits, ice_table
from .cace import CACEResult, complier_average_effect
from .estimand import POPULATIONS, STRATEGIES, Estimand, PerProtocolRule
from .populations import Populations, per_protocol_population, sessions_received

__all__ = ["CACEResult", "complier_average_effect", "Estimand", "EstimandData",
           "PerProtocolRule", "POPULATIONS", "Populations",
           "STRATEGIES", "apply_estimand", "composite_visits", "ice_table",
           "per_protocol_population", "sessions_received"]
