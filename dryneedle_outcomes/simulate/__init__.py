"""Synthetic dry-needling cohorts: canonical tables, messy raw exports and the sample.

:func:`simulate_tables` draws a randomised trial of trigger-point dry needling for
plantar heel pain (plantar fasciitis) straight into the three canonical tables
(``patients``, ``assessments``, ``adverse_events``) plus the ``truth`` it was drawn
from. :func:`simulate_cohort` loads those tables into a :class:`~dryneedle_outcomes.cohort.Cohort`.
:func:`write_raw_exports` writes them the way European clinics and trial offices
really export (semicolons, decimal commas, cp1252, day-first dates, per-site pain
scales, clinicians' free text, an Excel register with title rows) together with a
``mapping.toml`` that tells :func:`dryneedle_outcomes.load_cohort` how to read them,
and plants a handful of realistic data problems. :func:`write_sample` makes
``data/sample/``; ``python -m dryneedle_outcomes.simulate DIR`` does the same.

Everything is vectorised (numpy / pandas): 100,000 patients take a few seconds.
The same ``seed`` always gives identical tables (``numpy.random.default_rng``).

The package has one module per job: :mod:`.parameters` (the parameters with their
realism targets and sources, their checks, the visit labels), :mod:`.draws` (numeric
building blocks), :mod:`.truth` (the generative model), :mod:`.after_needling`
(soreness reports and adverse events), :mod:`.exports` (the messy raw exports and their
``mapping.toml``), :mod:`.problems` (the planted data problems) and :mod:`.sample`
(``data/sample/``: ``analysis.toml``, README, manifest and the command line).

Examples
--------
>>> from dryneedle_outcomes.simulate import simulate_tables
>>> sim = simulate_tables(84, seed=2014)
>>> len(sim.patients), sim.patients["arm"].value_counts().to_dict()
(84, {'dry_needling': 42, 'sham': 42})
>>> float(sim.truth["arm_difference"].set_index("visit").loc[6, "first_step_pain"])
-14.4
"""

from __future__ import annotations

from ..normalize.vocabulary import AE_TERMS, MUSCLES
from .after_needling import AE_VERBATIMS, COMBINED_VERBATIMS
from .exports import ExportPaths, write_raw_exports
from .parameters import SimulatedTables, SimulationParameters, visit_labels
from .sample import SAMPLE_FILES as SAMPLE_FILES
from .sample import write_sample
from .sample import write_sample_folder as write_sample_folder
from .truth import simulate_cohort, simulate_tables

__all__ = [
    "AE_TERMS",
    "AE_VERBATIMS",
    "COMBINED_VERBATIMS",
    "MUSCLES",
    "ExportPaths",
    "SimulatedTables",
    "SimulationParameters",
    "simulate_cohort",
    "simulate_tables",
    "visit_labels",
    "write_raw_exports",
    "write_sample",
]
