"""Harms: adverse-event rates, between-arm comparisons, dose-response, protocol deviations.

Following CONSORT Harms 2022 (Junqueira et al., BMJ 2023;381:e073725): events are
counted per participant and per appointment, recurrent events both ways, with the
denominators and every zero count reported.

Modules: ``events`` (which events and appointments count), ``counting``, ``compare``
(between-arm measures), ``notes`` (table footnotes), ``rates``
(:func:`~dryneedle_outcomes.adverse_event_rates`), ``dose``
(:func:`~dryneedle_outcomes.dose_response`), ``deviations``
(:func:`~dryneedle_outcomes.protocol_deviations`), ``listing``
(:func:`~dryneedle_outcomes.event_listing`), ``table``
(:func:`~dryneedle_outcomes.harms_table`: terms as rows, arms as columns),
``soreness_rule`` (when post-needling soreness counts as an adverse event).
"""

from .deviations import ProtocolDeviations, protocol_deviations
from .dose import DoseResponse, dose_response
from .listing import event_listing
from .rates import AdverseEventRates, adverse_event_rates
from .soreness_rule import SorenessRule
from .table import HarmsTable, harms_table

__all__ = [
    "AdverseEventRates",
    "DoseResponse",
    "HarmsTable",
    "ProtocolDeviations",
    "SorenessRule",
    "adverse_event_rates",
    "dose_response",
    "event_listing",
    "harms_table",
    "protocol_deviations",
]
