"""Power and sample size of a planned trial by simulation (:func:`.run.simulate_power`,
:func:`.run.sample_size`), from stated assumptions (:class:`.design.TrialDesign`)."""

from .design import TrialDesign
from .result import PowerResult
from .run import sample_size, simulate_power

__all__ = ["PowerResult", "TrialDesign", "sample_size", "simulate_power"]
