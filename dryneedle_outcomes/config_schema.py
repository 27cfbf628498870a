"""The schema of ``analysis.toml``, written once, and the checks it drives.

:data:`FIELDS` lists every key of every table: its type, default, allowed values or
bounds, whether it is required, a one-line description and the analysis option it
feeds. From it come the allowed keys of each table (:data:`SCHEMA`), the checks of the
plain keys (:func:`parse_table`), the defaults of the option dataclasses
(:func:`default`) and the reference the documentation renders (:func:`reference_rows`).
The module docstring of :mod:`dryneedle_outcomes.config` shows the same schema as an
annotated TOML file; ``tests/test_config_schema.py`` checks that the two agree.

Every check raises a one-line :class:`~dryneedle_outcomes.errors.ConfigError` naming the
table, the key, the value seen and what is allowed, with a did-you-mean hint for a
misspelt key or value. This module imports nothing heavy: reading a configuration
(``validate``, ``--help``) imports neither pandas, scipy nor statsmodels.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .errors import ConfigError
from .instruments import INSTRUMENTS
from .stats.mixed.options import COVARIANCES, DF_METHODS, VCOV_METHODS
from .stats.survival.options import CONF_TYPES, DISTRIBUTIONS, IC_METHODS, IC_SCORES

# The analyses' own lists are copied here because their packages import pandas and
# scipy on import; tests/test_cli_errors.py checks that they equal the analyses' own.
#: ``dryneedle_outcomes.models.trajectory.MODELS``.
MODELS = ("random_intercept", "random_slope", "session_means", "mmrm")
#: ``dryneedle_outcomes.harms.rates.PER``.
PER = ("patient", "session", "100_needles")
#: ``dryneedle_outcomes.responders.MISSING_RULES``.
MISSING_RULES = ("non_responder", "observed")
#: ``dryneedle_outcomes.models.design``'s time scales of the linear-time models.
TIME_SCALES = ("week", "day", "visit")
#: The keys of ``[analysis.trajectory]`` that only the deprecated ``sessions_to_mcid`` used.
DEPRECATED_TRAJECTORY = ("sessions_to_mcid", "n_boot", "seed")
#: ``dryneedle_outcomes.survival.events.TIMESCALES``.
TIMESCALES = ("days", "sessions")
#: ``dryneedle_outcomes.normalize.links.DEVIATION_REASONS`` and its defaults.
DEVIATION_REASONS = ("pregnant", "immunocompromised", "anticoagulants", "bleeding_disorder",
                     "diabetic_neuropathy", "peripheral_vascular_disease", "lymphoedema",
                     "local_infection", "needle_fear", "crossover")
DEFAULT_DEVIATIONS = ("contraindications", "crossover")
#: ``dryneedle_outcomes.normalize.vocabulary.SEVERITIES``.
SEVERITY_LEVELS = ("mild", "moderate", "severe")
#: ``dryneedle_outcomes.normalize.vocabulary.ICE_EVENTS`` (the intercurrent events).
ICE_EVENTS = ("discontinued_treatment", "withdrew_from_study", "rescue_medication",
              "steroid_injection", "orthoses", "night_splint", "shockwave", "other_treatment",
              "adverse_event_withdrawal")
#: ``dryneedle_outcomes.estimands.STRATEGIES`` and ``POPULATIONS``.
STRATEGIES = ("treatment_policy", "hypothetical", "composite", "while_on_treatment")
POPULATIONS = ("randomised", "per_protocol")
FORMATS = ("pdf", "png", "svg")
DEFINITIONS = ("mcid", "percent_reduction", "threshold")
#: dryneedle_outcomes.models.reference_based.METHODS and the approaches implemented
#: (tests/test_config_schema.py checks they agree)
RB_METHODS = ("mar", "jump_to_reference", "copy_reference", "copy_increments_from_reference")
RB_APPROACHES = ("conditional_mean", "approximate_bayes", "bayes")
#: ``dryneedle_outcomes.stats.multiplicity.PROCEDURES`` (tests/test_multiplicity.py checks)
MULTIPLICITY_PROCEDURES = ("hochberg", "holm", "bonferroni", "fixed_sequence")
#: ``dryneedle_outcomes.power.design.SHAPES`` and ``MECHANISMS`` (tests/test_cli_power.py
#: checks). The analyses of ``[power]`` are not copied: they are checked against
#: ``dryneedle_outcomes.power.analyses.ANALYSES`` (:mod:`dryneedle_outcomes.config_power`).
POWER_SHAPES = ("linear", "constant")
POWER_MECHANISMS = ("mcar", "mar", "mnar")
#: ``dryneedle_outcomes.power.endpoints.ENDPOINTS`` and ``RESPONDER_TESTS``: the analyses
#: of ``[power]`` that take a definition of response or relief, and the responder tests
#: (tests/test_cli_power.py checks).
POWER_ENDPOINTS = ("responders", "time_to_relief")
POWER_TESTS = ("fisher", "chisq")
SEED_MAX = 2**32 - 1
#: ``dryneedle_outcomes.results.DEFAULT_SEED`` (that module imports pandas); the default
#: seed of every bootstrap; tests/test_config_schema.py checks the two are equal.
DEFAULT_SEED = 2014


@dataclass(frozen=True)
class Field:
    """One key of one table of ``analysis.toml``.

    Parameters
    ----------
    table : str
        The table, dotted (``"analysis.trajectory"``).
    key : str
        The key inside the table.
    kind : str
        How the value is checked: a key of :data:`CHECKS` (checked by
        :func:`parse_table`), or ``"path"``, ``"table"``, ``"definition"``,
        ``"record"`` (checked by :mod:`dryneedle_outcomes.config` itself).
    description : str
        One line for the reference.
    default : object
        The value used when the key is absent, as TOML writes it (None: no default).
    allowed : tuple of str
        The allowed values of a choice.
    bounds : tuple of float, optional
        The lowest and highest allowed number.
    open_bounds : tuple of bool
        Whether the lowest and the highest bound are excluded.
    required : bool
        Whether the key must be given.
    option : str, optional
        The option it feeds (``"TrajectoryOptions.models"``).
    expected : str, optional
        What is allowed, in words, when the kind does not say it.
    """

    table: str
    key: str
    kind: str
    description: str
    default: Any = None
    allowed: tuple[str, ...] = ()
    bounds: tuple[float, float] | None = None
    open_bounds: tuple[bool, bool] = (False, False)
    required: bool = False
    option: str | None = None
    expected: str | None = None

    @property
    def where(self) -> str:
        """The table as the messages name it (``"[analysis.trajectory]"``)."""
        return f"[{self.table}]"


def _f(table: str, key: str, kind: str, description: str, **kw: Any) -> Field:
    return Field(table, key, kind, description, **kw)


def _definition_fields(table: str, what: str, options: str) -> tuple[Field, ...]:
    """The three keys of a definition of response or relief (one of them is given)."""
    option = f"{options}.criterion"
    return (
        _f(table, "mcid", "definition", f"{what} the instrument's MCID (true) or by this "
           "number", default=True, option=option,
           expected="true, or a number > 0 and <= the instrument's range"),
        _f(table, "percent_reduction", "definition", "or: a reduction from baseline of at "
           "least this %", expected="a number > 0 and <= 100", option=option),
        _f(table, "threshold", "definition", "or: this level reached at the visit",
           expected="a number within the instrument's range", option=option),
    )


_UNIT = (0.0, 1.0)
_N_BOOT = (1, 100_000)
_N_BOOT0 = (0, 100_000)
_SEED = (0, SEED_MAX)

#: Every key of every table, in the order the tables and keys are checked.
FIELDS: tuple[Field, ...] = (
    _f("data", "assessments", "path", "the session-level scores (CSV, XLSX, Parquet, ...)",
       required=True),
    _f("data", "patients", "path", "the register: one row per patient (id, arm, ...)"),
    _f("data", "adverse_events", "path", "the adverse events: one row per event"),
    _f("data", "intercurrent_events", "path", "the intercurrent events (ICH E9(R1)): one "
       "row per event"),
    _f("data", "mapping", "path", "a mapping TOML file; or an inline [mapping] table"),
    _f("data", "errors", "either", "what a bad row does: stop, or set it aside and go on",
       default="raise", allowed=("raise", "quarantine")),
    _f("data", "deviations", "reasons", "which needled visits are protocol deviations: "
       "patient flags (contraindications) and crossover (a sham-arm patient needled); [] "
       "checks no deviation rule (stated in the ledger's summary and the deviations "
       "table's notes)",
       default=list(DEFAULT_DEVIATIONS), allowed=("contraindications", *DEVIATION_REASONS)),
    _f("data.limits", "max_bytes", "positive",
       "decompressed gzip / uncompressed XLSX bytes (default: dno.ReadLimits)"),
    _f("data.limits", "max_rows", "positive", "rows of a workbook sheet (default: "
       "dno.ReadLimits)"),
    _f("data.limits", "max_cells", "positive", "cells of a workbook sheet (default: "
       "dno.ReadLimits)"),
    _f("simulation", "seed", "record", "the seed a simulated sample was made with "
       "(recorded only)"),
    _f("simulation", "n_patients", "record", "the patients of a simulated sample "
       "(recorded only)"),
    _f("analysis", "outcome", "instrument", "the outcome analysed: a registered instrument "
       "(built in, or declared in [instruments.NAME] or the mapping's)",
       default="first_step_pain", allowed=tuple(INSTRUMENTS), option="AnalysisOptions.outcome"),
    _f("analysis", "conf_level", "number", "the confidence level of every interval",
       default=0.95, bounds=_UNIT, open_bounds=(True, True),
       option="AnalysisOptions.conf_level"),
    _f("analysis", "reference_arm", "name", "the reference arm; default a sham/control-like "
       "arm name, else the last arm", expected="an arm name (text)",
       option="AnalysisOptions.reference_arm"),
    _f("analysis", "primary_visit", "visit", "the pre-specified primary visit of the "
       "headline results (trajectory, responders); required with either, never inferred",
       bounds=(1, math.inf), option="AnalysisOptions.primary_visit"),
    _f("analysis.trajectory", "models", "choices", "the models fitted, one "
       "dno.fit_trajectory each", default=["mmrm"], allowed=MODELS,
       option="TrajectoryOptions.models"),
    _f("analysis.trajectory", "covariance", "order", "the residual covariance of the mmrm; "
       "an array: the first that converges, in this order", default="unstructured",
       allowed=COVARIANCES, option="TrajectoryOptions.covariance"),
    _f("analysis.trajectory", "covariance_by_arm", "boolean", "a separate covariance per "
       "arm in the mmrm (SAS GROUP=arm)", default=False,
       option="TrajectoryOptions.covariance_by_arm"),
    _f("analysis.trajectory", "adjust", "names", "\"baseline\" and/or patient covariates; [] "
       "models every visit, baseline included", default=["baseline"],
       option="TrajectoryOptions.adjust"),
    _f("analysis.trajectory", "baseline_by_visit", "boolean", "the baseline-by-visit "
       "interaction in session_means and mmrm when adjust has \"baseline\" (Mallinckrodt "
       "et al. 2008); false leaves it out", default=True,
       option="TrajectoryOptions.baseline_by_visit"),
    _f("analysis.trajectory", "missing_baseline", "choice", "a randomised patient without a "
       "baseline value: kept with the mean of the observed baselines (mean, the default; "
       "White & Thompson 2005; ICH E9(R1) randomised population) or left out (exclude)",
       default="mean", allowed=("mean", "exclude"),
       option="TrajectoryOptions.missing_baseline"),
    _f("analysis.trajectory", "df", "choice", "degrees of freedom of the mmrm (the "
       "random-effects models use Satterthwaite)", default="kenward_roger",
       allowed=DF_METHODS, option="TrajectoryOptions.df"),
    _f("analysis.trajectory", "time", "choice", "time scale of random_intercept and "
       "random_slope: weeks or days since baseline, or the visit index", default="week",
       allowed=TIME_SCALES, option="TrajectoryOptions.time"),
    _f("analysis.trajectory", "vcov", "choice", "covariance of the mmrm's fixed effects: "
       "model-based, or a sandwich (with df = \"between_within\" or \"satterthwaite\")",
       default="model",
       allowed=VCOV_METHODS, option="TrajectoryOptions.vcov"),
    _f("analysis.trajectory", "cumulative_after", "visits", "sessions received for "
       "TrajectoryResult.cumulative_effect (the visit read follows the mapping's "
       "assessed rule)", default=[], bounds=(1, math.inf),
       option="TrajectoryOptions.cumulative_after"),
    _f("analysis.trajectory", "sessions_to_mcid", "boolean", "deprecated and ignored: an "
       "arm's mean judged against an individual MCID (IMMPACT); use time_to_relief on "
       "sessions and responders", default=False, option="TrajectoryOptions.sessions_to_mcid"),
    _f("analysis.trajectory", "n_boot", "integer", "deprecated and ignored: the bootstrap "
       "of sessions_to_mcid", default=200, bounds=_N_BOOT, option="TrajectoryOptions.n_boot"),
    _f("analysis.trajectory", "seed", "integer", "deprecated and ignored: the bootstrap seed "
       "of sessions_to_mcid", default=DEFAULT_SEED, bounds=_SEED,
       option="TrajectoryOptions.seed"),
    _f("analysis.reference_based", "methods", "choices", "the assumptions about the "
       "values missing after discontinuation: one dno.reference_based analysis each (mar "
       "first: the primary under MAR; the others its sensitivity analyses, ICH E9(R1) "
       "A.5.2)", default=["mar", "jump_to_reference"], allowed=RB_METHODS,
       option="ReferenceBasedOptions.methods"),
    _f("analysis.reference_based", "reference_arm", "name", "the reference arm whose "
       "mean the reference-based methods borrow; default [analysis] reference_arm",
       expected="an arm name (text)", option="ReferenceBasedOptions.reference_arm"),
    _f("analysis.reference_based", "approach", "choice", "conditional mean imputation "
       "(deterministic with the jackknife), approximate Bayes (bootstrapped MMRM fits, "
       "Rubin's rules) or Bayes (MCMC draws of the MMRM, Rubin's rules), as R's rbmi",
       default="conditional_mean", allowed=RB_APPROACHES,
       option="ReferenceBasedOptions.approach"),
    _f("analysis.reference_based", "variance", "choice", "auto: jackknife for the "
       "conditional mean, Rubin's rules for (approximate) Bayes; or bootstrap "
       "(conditional mean)", default="auto", allowed=("auto", "jackknife", "bootstrap",
                                                     "rubin"),
       option="ReferenceBasedOptions.variance"),
    _f("analysis.reference_based", "warmup", "integer", "approach = \"bayes\": MCMC "
       "iterations discarded before the first kept draw (rbmi's control_bayes warmup)",
       default=200, bounds=(0, 1_000_000), option="ReferenceBasedOptions.warmup"),
    _f("analysis.reference_based", "thin", "integer", "approach = \"bayes\": MCMC "
       "iterations per kept draw (rbmi's control_bayes thin)", default=50,
       bounds=(1, 100_000), option="ReferenceBasedOptions.thin"),
    _f("analysis.reference_based", "n_samples", "integer", "bootstrap samples or "
       "imputations (for bayes: MCMC draws kept); 0 = the default (500 bootstrap "
       "samples, 100 imputations)",
       default=0, bounds=_N_BOOT0, option="ReferenceBasedOptions.n_samples"),
    _f("analysis.reference_based", "seed", "integer", "seed of the bootstrap and the random "
       "imputations (recorded in manifest.json)", default=DEFAULT_SEED, bounds=_SEED,
       option="ReferenceBasedOptions.seed"),
    _f("analysis.reference_based", "adjust", "names", "\"baseline\" and/or patient "
       "columns, in the imputation model (by visit) and the ANCOVA", default=["baseline"],
       option="ReferenceBasedOptions.adjust"),
    _f("analysis.reference_based", "tipping_deltas", "numbers", "the tipping-point grid "
       "(outcome units added to the imputed values of the active arm(s)) of the first "
       "method; [] = an automatic grid of 21 deltas", default=[],
       option="ReferenceBasedOptions.tipping_deltas"),
    _f("analysis.reference_based", "n_jobs", "integer", "worker processes for the "
       "resampling (the numbers do not depend on it)", default=1, bounds=(1, 256),
       option="ReferenceBasedOptions.n_jobs"),
    _f("analysis.harms", "per", "choices", "the denominators: one adverse_event_rates table "
       "each", default=list(PER), allowed=PER, option="HarmsOptions.per"),
    _f("analysis.harms", "dose_response", "boolean", "logistic GEE of events on needles and "
       "twitches", default=True, option="HarmsOptions.dose_response"),
    _f("analysis.harms", "soreness_as_ae", "soreness", "when post-needling soreness counts as "
       "an adverse event (stated in the report); absent: every recorded soreness event; "
       "from_sessions = true (with min_hours) also derives events from the session "
       "soreness records, flagged as derived",
       option="HarmsOptions.soreness_as_ae",
       expected="a table { min_hours = 48 } and/or { min_severity = \"moderate\" }; "
       "from_sessions = true also derives soreness events from the session soreness "
       "records where none was recorded"),
    _f("analysis.harms", "p_values", "boolean", "a p-value per harm term (CONSORT Harms 2022 "
       "and SAMPL advise against)", default=False, option="HarmsOptions.p_values"),
    _f("analysis.harms", "risk_ratio", "boolean", "the risk ratio next to the risk "
       "difference (Haldane's 0.5 on a zero cell, stated)", default=False,
       option="HarmsOptions.risk_ratio"),
    *_definition_fields("analysis.responders", "a responder improves by", "RespondersOptions"),
    _f("analysis.responders", "missing", "choices", "the missing-data rules: one table each",
       default=["non_responder"], allowed=MISSING_RULES, option="RespondersOptions.missing"),
    _f("analysis.responders", "adjust", "names", "\"baseline\" and/or patient columns for "
       "the covariate-adjusted risk difference and ratio (standardisation); [] = none",
       default=["baseline"], option="RespondersOptions.adjust"),
    _f("analysis.responders", "variance", "choice", "delta-method covariance of the "
       "adjusted comparison: robust (HC0 sandwich) or model", default="robust",
       allowed=("robust", "model"), option="RespondersOptions.variance"),
    _f("analysis.blinding", "alternative", "choice", "two-sided CIs, or one-sided "
       "(greater / less) as Bang et al. 2004 prefer", default="two-sided",
       allowed=("two-sided", "greater", "less"), option="BlindingOptions.alternative"),
    _f("analysis.stricta", "planned_sessions", "integer", "the sessions per patient the "
       "protocol planned (STRICTA 3a); absent: the table says the plan is not given",
       bounds=(1, 1000), option="StrictaOptions.planned_sessions"),
    _f("analysis.baseline_table", "p_values", "boolean", "test at baseline (CONSORT advises "
       "against it)", default=False, option="BaselineTableOptions.p_values"),
    *_definition_fields("analysis.time_to_relief", "relief: an improvement by",
                        "TimeToReliefOptions"),
    _f("analysis.time_to_relief", "sustained", "boolean", "relief confirmed: met at two "
       "consecutive assessments (a single crossing can be noise); false: one crossing",
       default=True, option="TimeToReliefOptions.sustained"),
    _f("analysis.time_to_relief", "timescale", "choices", "the timescales, one analysis each "
       "(\"sessions\": a discrete-time model); one name is accepted too", default=["days"],
       allowed=TIMESCALES, option="TimeToReliefOptions.timescale"),
    _f("analysis.time_to_relief", "interval_censored", "boolean", "Turnbull curve and median; "
       "false: Kaplan-Meier", default=True, option="TimeToReliefOptions.interval_censored"),
    _f("analysis.time_to_relief", "adjust", "names", "\"baseline\" and/or patient "
       "columns the Cox, AFT and discrete-time models adjust for", default=[],
       option="TimeToReliefOptions.adjust"),
    _f("analysis.time_to_relief", "covariates", "names", "deprecated: the old name of "
       "adjust (as in [analysis.trajectory])", default=[], option="TimeToReliefOptions.adjust"),
    _f("analysis.time_to_relief", "strata", "text", "a patient column for the log-rank and "
       "Cox (\"\" = none)", default="",
       expected="a patient column name (text), or \"\" for none",
       option="TimeToReliefOptions.strata"),
    _f("analysis.time_to_relief", "interval_scores", "choice", "rank scores of the "
       "interval-censored log-rank test (primary with interval_censored): logrank2 = "
       "Finkelstein 1986, logrank1 = Sun 1996, wmw = Wilcoxon", default="logrank2",
       allowed=IC_SCORES, option="TimeToReliefOptions.interval_scores"),
    _f("analysis.time_to_relief", "interval_method", "choice", "its inference: pclt = "
       "permutation central limit theorem, scoretest = asymptotic score test",
       default="pclt", allowed=IC_METHODS, option="TimeToReliefOptions.interval_method"),
    _f("analysis.time_to_relief", "distributions", "choices", "the parametric AFT models "
       "(time ratios)", default=["weibull", "loglogistic"], allowed=DISTRIBUTIONS,
       option="TimeToReliefOptions.distributions"),
    _f("analysis.time_to_relief", "conf_type", "choice", "the Kaplan-Meier CI transform",
       default="log-log", allowed=CONF_TYPES, option="TimeToReliefOptions.conf_type"),
    _f("analysis.time_to_relief", "rmst_tau", "number", "pre-specified restriction time of "
       "the RMST in days; 0 = none (no RMST reported; tau is never chosen from the data)",
       default=0, bounds=(0.0, 1e9), option="TimeToReliefOptions.rmst_tau"),
    _f("analysis.time_to_relief", "rmst_tau_sessions", "number", "the same in sessions, for "
       "the sessions timescale; 0 = none", default=0, bounds=(0.0, 1e9),
       option="TimeToReliefOptions.rmst_tau_sessions"),
    _f("analysis.time_to_relief", "n_boot", "integer", "bootstrap replicates of the Turnbull "
       "bands and median CI (percentile intervals of a median: 2,000)", default=2000,
       bounds=_N_BOOT0, option="TimeToReliefOptions.n_boot"),
    _f("analysis.time_to_relief", "hr_n_boot", "integer", "bootstrap replicates of the "
       "interval-censored PH hazard ratio CIs (percentile intervals of a smooth statistic: "
       "1,000)", default=1000, bounds=_N_BOOT0, option="TimeToReliefOptions.hr_n_boot"),
    _f("analysis.time_to_relief", "seed", "integer", "bootstrap seed (recorded in "
       "manifest.json)", default=DEFAULT_SEED, bounds=_SEED, option="TimeToReliefOptions.seed"),
    _f("analysis.soreness_duration", "n_boot", "integer", "patient-bootstrap replicates "
       "(percentile intervals of medians: 2,000)", default=2000, bounds=_N_BOOT0,
       option="SorenessOptions.n_boot"),
    _f("analysis.soreness_duration", "seed", "integer", "bootstrap seed (recorded in "
       "manifest.json)", default=DEFAULT_SEED, bounds=_SEED, option="SorenessOptions.seed"),
    _f("analysis.subgroups", "variables", "names", "the pre-specified subgroups: patient "
       "columns and/or \"baseline\" (the outcome's baseline score); a numeric column with "
       "more than two values is split at its cut", default=["site", "sex", "symptom_months",
                                                             "baseline"],
       option="SubgroupsOptions.variables"),
    _f("analysis.subgroups", "cuts", "cuts", "pre-specified cut-points of continuous "
       "subgroups; a continuous subgroup without one is split at its median (data-derived: "
       "said in the report)", option="SubgroupsOptions.cuts",
       expected="a table of subgroup = number, e.g. { symptom_months = 12 }"),
    _f("analysis.subgroups", "df", "choice", "degrees of freedom of the subgroup t and F "
       "tests", default="kenward_roger", allowed=("kenward_roger", "satterthwaite"),
       option="SubgroupsOptions.df"),
    _f("analysis.subgroups", "continuous_interaction", "boolean", "also test the interaction "
       "of a continuous subgroup on its continuous scale (1 df)", default=True,
       option="SubgroupsOptions.continuous_interaction"),
    _f("analysis.subgroups", "cluster", "text", "a patients column naming each "
       "patient's therapist: its variance component and ICC at the primary visit "
       "(\"\" = none)", default="", expected="a patients column name (text), or \"\" "
       "for none", option="SubgroupsOptions.cluster"),
    _f("analysis.multiplicity", "endpoints", "endpoints", "the primary endpoints, two or "
       "more, each analysed by the primary analysis (the trajectory table's mmrm); for "
       "fixed_sequence the order given is the testing order", default=[],
       option="MultiplicityOptions.endpoints",
       expected="an array of two or more tables { outcome = \"<instrument>\", visit = "
       "<whole number >= 1> }, each outcome once"),
    _f("analysis.multiplicity", "procedure", "choice", "the multiplicity procedure declared "
       "in the analysis plan", default="hochberg", allowed=MULTIPLICITY_PROCEDURES,
       option="MultiplicityOptions.procedure"),
    _f("analysis.multiplicity", "alpha", "number", "the family-wise error rate",
       default=0.05, bounds=_UNIT, open_bounds=(True, True),
       option="MultiplicityOptions.alpha"),
    _f("estimand", "population", "choice", "the population targeted: every randomised "
       "patient, or the per-protocol subset (reported beside the randomised one)",
       default="randomised", allowed=POPULATIONS),
    _f("estimand", "variable", "instrument", "the endpoint: a registered instrument; "
       "default [analysis] outcome", allowed=tuple(INSTRUMENTS)),
    _f("estimand", "treatment", "text", "the treatment condition, in words",
       expected="text"),
    _f("estimand", "summary", "text", "the population-level summary, in words; default "
       "the difference in means at the primary visit", expected="text"),
    _f("estimand", "visit", "visit", "the visit of the summary; default [analysis] "
       "primary_visit", bounds=(1, math.inf)),
    _f("estimand", "intercurrent", "strategies", "a strategy per intercurrent event: "
       "{ rescue_medication = \"hypothetical\" }", default={},
       expected="a table of event = strategy; events: " + ", ".join(ICE_EVENTS)
       + "; strategies: " + ", ".join(STRATEGIES)),
    _f("estimand", "per_protocol", "per_protocol", "the per-protocol rule: "
       "{ min_sessions = 4 } (sessions received; optional session_visits)",
       expected="a table { min_sessions = <whole number >= 1> } with optional "
       "session_visits = [visits >= 1]"),
    _f("consort", "assessed", "integer", "patients assessed for eligibility (CONSORT 2025 "
       "flow diagram; not in the data: \"not recorded\" when absent)", bounds=(0, 10**9)),
    _f("consort", "excluded_before_randomisation", "reason_counts", "patients assessed but "
       "not randomised, by reason: { not_meeting_inclusion_criteria = 20, declined = 8 }",
       expected="a table of reason = whole number >= 0"),
    _f("power", "analysis", "power_analysis", "the analysis applied to each simulated "
       "trial (dno.simulate_power's analysis=)", default="mmrm",
       expected="an analysis of dno.simulate_power "
       "(dryneedle_outcomes.power.analyses.ANALYSES)"),
    _f("power", "n_trials", "integer", "simulated trials per sample size (the Monte Carlo "
       "SE of a power p is sqrt(p (1 - p) / n_trials))", default=1000,
       bounds=(1, 10_000_000)),
    _f("power", "seed", "integer", "one SeedSequence(seed), a child per trial (recorded in "
       "manifest.json)", default=DEFAULT_SEED, bounds=_SEED),
    _f("power", "alpha", "number", "two-sided significance level", default=0.05,
       bounds=_UNIT, open_bounds=(True, True)),
    _f("power", "n_jobs", "jobs", "processes on this machine, -1 for all cores (the "
       "numbers do not depend on it)", default=1,
       expected="-1 (all cores) or a whole number from 1 to 1024"),
    _f("power", "target_power", "number", "with n_range: the smallest n per arm reaching "
       "this power (dno.sample_size)", bounds=_UNIT, open_bounds=(True, True)),
    _f("power", "n_range", "range", "with target_power: the n per arm searched "
       "(bisection)", expected="an array [low, high] of whole numbers, 3 <= low < high"),
    _f("power", "n_per_arm", "sizes", "control-arm sizes of a power curve "
       "(dno.simulate_power); with or without target_power",
       expected="an array of one or more whole numbers >= 3"),
    _f("power", "visit", "number", "the pre-specified primary visit (a visit time of the "
       "design); default [analysis] primary_visit with from_fit, else the last visit",
       bounds=(0.0, 1e9), open_bounds=(True, False)),
    _f("power", "adjust_baseline", "boolean", "ancova: the baseline as covariate; false: "
       "the two-sample t test", default=True),
    _f("power", "mcid", "definition", "responders / time_to_relief: a patient responds (has "
       "relief) on improving from baseline by the instrument's MCID (true, the default) or "
       "by this number; an individual patient's criterion, not the effect",
       expected="true (the MCID of [power.design] instrument), or a number > 0 and <= the "
       "instrument's range"),
    _f("power", "percent_reduction", "definition", "or: a reduction from baseline of at "
       "least this % (needs [power.design] instrument: its range)",
       expected="a number > 0 and <= 100"),
    _f("power", "threshold", "definition", "or: this level reached at the visit",
       expected="a number (within the instrument's range)"),
    _f("power", "sustained", "boolean", "time_to_relief: relief confirmed at the next "
       "observed visit (as [analysis.time_to_relief]); false: one crossing", default=True),
    _f("power", "test", "choice", "responders: two-sided Fisher's exact test, or Pearson's "
       "chi-square without continuity correction", default="fisher", allowed=POWER_TESTS),
    _f("power.design", "from_fit", "boolean", "variability, correlation, baseline mean "
       "and dropout from the MMRM fit of the configured [data] (effect still required)",
       default=False),
    _f("power.design", "visits", "numbers", "times of the post-baseline visits "
       "(required unless from_fit)", expected="an array of increasing numbers > 0"),
    _f("power.design", "effect", "vector", "the target difference between the arms' mean "
       "changes, treated minus control (DELTA2), at the last visit (spread by shape) or "
       "one per visit; not an individual MCID, never the effect observed (post-hoc power)",
       required=True,
       expected="a number, or an array with one per visit"),
    _f("power.design", "shape", "choice", "how one effect reaches the last visit",
       default="linear", allowed=POWER_SHAPES),
    _f("power.design", "sd", "vector", "SD at baseline and each visit, or one for all",
       default=1.0, expected="a number > 0, or an array with one for baseline and each "
       "visit"),
    _f("power.design", "correlation", "correlation", "correlation over baseline and "
       "visits: exchangeable or ar1 (with rho), or a matrix", default="exchangeable",
       expected="\"exchangeable\" or \"ar1\" (with rho), or an array of arrays "
       "(a matrix over baseline and visits)"),
    _f("power.design", "rho", "number", "the parameter of a named correlation",
       bounds=(-1.0, 1.0), open_bounds=(True, True)),
    _f("power.design", "baseline_mean", "number", "mean at baseline (both arms)",
       default=0.0, bounds=(-1e9, 1e9)),
    _f("power.design", "dropout", "vector", "cumulative proportion missing by each visit, "
       "or one number, by the last visit (with from_fit: replaces the cohort's)",
       default=0.0, expected="a number in [0, 1), or an array with one per visit"),
    _f("power.design", "mechanism", "choice", "dropout missing completely at random, at "
       "random on the last observed value (mar), or not at random on the unrecorded "
       "current value (mnar)", default="mcar", allowed=POWER_MECHANISMS),
    _f("power.design", "dropout_slope", "number", "mar/mnar: log-odds of dropping out per "
       "SD of the value the mechanism looks at", default=1.0, bounds=(-100.0, 100.0)),
    _f("power.design", "allocation", "number", "treated patients per control patient",
       default=1.0, bounds=(0.0, 100.0), open_bounds=(True, False)),
    _f("power.design", "instrument", "instrument", "the registered instrument the outcome "
       "is measured on: its direction, range and MCID for responders and time_to_relief "
       "(with from_fit: [analysis] outcome)", allowed=tuple(INSTRUMENTS)),
    _f("figures", "formats", "choices", "the figure files written (the report embeds PNG)",
       default=["pdf", "png"], allowed=FORMATS, option="FigureOptions.formats"),
    _f("figures", "width", "width", "\"single\" (85 mm), \"double\" (174 mm) or a width in mm",
       default="single", allowed=("single", "double"), bounds=(30.0, 300.0),
       option="FigureOptions.width"),
    _f("figures", "dpi", "integer", "resolution of PNG figures", default=300,
       bounds=(72, 1200), option="FigureOptions.dpi"),
)

#: One line on each table (the tables without keys of their own included).
TABLES: dict[str, str] = {
    "data": "the input files, relative to the configuration file",
    "data.limits": "reading limits (dno.ReadLimits)",
    "mapping": "an inline mapping (schema: dryneedle_outcomes.mapping)",
    "instruments": "user instruments: [instruments.NAME] with the keys of "
                   "dno.register_instrument (label, lower, upper, units, higher_is_better, "
                   "mcid, mcid_source, percent_thresholds)",
    "simulation": "how a simulated sample was made (recorded only)",
    "analysis": "omit: load, check and write the data only",
    "analysis.trajectory": "dno.fit_trajectory, once per model",
    "analysis.reference_based": "dno.reference_based: multiple imputation under MAR and "
                                "reference-based assumptions, with a tipping point",
    "analysis.harms": "adverse_event_rates, protocol_deviations and dose_response",
    "analysis.responders": "dno.responders; one definition of a responder",
    "analysis.blinding": "dno.blinding_index: Bang's and James' blinding indices",
    "analysis.baseline_table": "dno.baseline_table",
    "analysis.stricta": "dno.stricta_table: the intervention as delivered (STRICTA 2010), "
                        "placed after the participant flow",
    "analysis.time_to_relief": "dno.time_to_relief, once per timescale; one definition of "
                               "relief",
    "analysis.soreness_duration": "dno.soreness_duration (post-needling soreness)",
    "analysis.subgroups": "dno.subgroup_analysis at the primary visit: the primary contrast "
                          "by subgroup with interaction tests (a forest plot)",
    "analysis.multiplicity": "dno.multiple_endpoints: the primary endpoints with "
                             "multiplicity-adjusted p-values",
    "estimand": "the estimand (ICH E9(R1)): dno.Estimand; its table is printed before the "
                "results",
    "consort": "the enrolment numbers of the CONSORT 2025 flow diagram (not in the data): "
               "dno.consort_flow",
    "power": "dryneedle-outcomes power: simulated power (n_per_arm) and/or the sample "
             "size for target_power (dno.simulate_power, dno.sample_size)",
    "power.design": "the assumptions of the planned trial (dno.TrialDesign), or "
                    "from_fit = true",
    "figures": "the figure files",
}
#: The top-level tables.
TOP = ("data", "simulation", "mapping", "instruments", "analysis", "estimand", "consort",
       "power", "figures")
#: The analysis tables (an omitted one is an analysis not run).
# (``estimand`` is a top-level table, not an analysis: it is not under ``analysis.``)
ANALYSES = tuple(t.split(".", 1)[1] for t in TABLES if t.startswith("analysis."))


def _keys(table: str) -> tuple[str, ...]:
    own = tuple(f.key for f in FIELDS if f.table == table)
    return own + tuple(t.rsplit(".", 1)[1] for t in TABLES if t.rpartition(".")[0] == table)


#: Every key of every table; ``None``: checked elsewhere (the mapping).
SCHEMA: dict[str, tuple[str, ...] | None] = {
    t: None if t in ("mapping", "instruments") else _keys(t) for t in TABLES}
_BY_KEY = {(f.table, f.key): f for f in FIELDS}


def field_of(table: str, key: str) -> Field:
    """The :class:`Field` of ``key`` in ``table`` (``KeyError`` if there is none)."""
    return _BY_KEY[(table, key)]


def default(table: str, key: str) -> Any:
    """The default of a key as the options hold it (arrays as tuples)."""
    value = field_of(table, key).default
    return tuple(value) if isinstance(value, list) else value


# ---------------------------------------------------------------------- messages
def _kind(value: Any) -> str:
    names = {bool: "a boolean", int: "an integer", float: "a number", str: "text",
             list: "an array", dict: "a table"}
    return names.get(type(value), type(value).__name__)


def hint(value: str, allowed) -> str:
    """`` (did you mean 'x'?)`` for the closest allowed value, or ``""``."""
    close = difflib.get_close_matches(value, list(allowed), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def unknown(key: str, allowed, where: str) -> ConfigError:
    """The error of a key that ``where`` does not have."""
    return ConfigError(f"{where}: unknown key {key!r}{hint(key, allowed)}; allowed: "
                       f"{', '.join(allowed)}")


def wrong(where: str, key: str, value: Any, expected: str) -> ConfigError:
    """The error of a value of the wrong type or outside its bounds."""
    return ConfigError(f"{where}: {key} must be {expected}, got {value!r} ({_kind(value)})")


def check_keys(table: dict, section: str) -> None:
    """Raise on the first key of ``table`` that ``[section]`` does not have."""
    allowed = SCHEMA[section]
    for key in table:
        if key not in allowed:
            raise unknown(key, allowed, f"[{section}]")


# ---------------------------------------------------------------------- checks
def _number_text(lo: float, hi: float, open_lo: bool, open_hi: bool) -> str:
    return f"a number {'>' if open_lo else '>='} {lo:g} and {'<' if open_hi else '<='} {hi:g}"


def choice(where: str, key: str, value: Any, allowed) -> str:
    """One of ``allowed``."""
    if not isinstance(value, str):
        raise wrong(where, key, value, "one of " + ", ".join(allowed))
    if value not in allowed:
        raise ConfigError(f"{where}: {key} = {value!r} is not allowed{hint(value, allowed)}; "
                          f"allowed: {', '.join(allowed)}")
    return value


def choices(where: str, key: str, value: Any, allowed, *,
            allow_empty: bool = False) -> tuple[str, ...]:
    """An array of distinct values of ``allowed``: non-empty unless ``allow_empty``."""
    expected = (f"an array of {'zero' if allow_empty else 'one'} or more of "
                f"{', '.join(allowed)}")
    if not isinstance(value, list) or not (value or allow_empty):
        raise wrong(where, key, value, expected)
    for item in value:
        if not isinstance(item, str):
            raise wrong(where, key, value, expected)
        if item not in allowed:
            raise ConfigError(f"{where}: {key} has {item!r}{hint(item, allowed)}; allowed: "
                              f"{', '.join(allowed)}")
    if len(set(value)) < len(value):
        raise ConfigError(f"{where}: {key} names a value twice: {value!r}")
    return tuple(value)


def order(where: str, key: str, value: Any, allowed) -> str | tuple[str, ...]:
    """One of ``allowed``, or a non-empty array of distinct values of it (tried in order)."""
    if isinstance(value, list):
        return choices(where, key, value, allowed)
    if not isinstance(value, str):
        raise wrong(where, key, value, "one of " + ", ".join(allowed)
                    + ", or an array of them (tried in order)")
    return choice(where, key, value, allowed)


def boolean(where: str, key: str, value: Any) -> bool:
    """true or false."""
    if not isinstance(value, bool):
        raise wrong(where, key, value, "true or false")
    return value


def number(where: str, key: str, value: Any, lo: float, hi: float, *,
           open_lo: bool = False, open_hi: bool = False) -> float:
    """A finite number within the bounds (a bound is excluded when open)."""
    text = _number_text(lo, hi, open_lo, open_hi)
    if isinstance(value, bool) or not isinstance(value, int | float) \
            or not math.isfinite(value):
        raise wrong(where, key, value, text)
    if value < lo or value > hi or (open_lo and value == lo) or (open_hi and value == hi):
        raise wrong(where, key, value, text)
    return float(value)


def integer(where: str, key: str, value: Any, lo: int, hi: int) -> int:
    """A whole number from ``lo`` to ``hi``."""
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise wrong(where, key, value, f"a whole number from {lo} to {hi}")
    return value


def _visit(f: Field, value: Any) -> int | None:
    if value is not None and (isinstance(value, bool) or not isinstance(value, int)
                              or value < f.bounds[0]):
        raise wrong(f.where, f.key, value, f"a whole number >= {int(f.bounds[0])} (a visit)")
    return value


def _visits(where: str, key: str, value: Any, lo: int) -> tuple[int, ...]:
    expected = f"an array of whole numbers >= {lo} (visits)"
    if not isinstance(value, list) or any(isinstance(v, bool) or not isinstance(v, int)
                                          or v < lo for v in value):
        raise wrong(where, key, value, expected)
    return tuple(sorted(set(value)))


def _numbers(f: Field, value: Any) -> tuple[float, ...]:
    if not isinstance(value, list) or any(isinstance(v, bool) or not isinstance(v, (int, float))
                                          or not math.isfinite(v) for v in value):
        raise wrong(f.where, f.key, value, "an array of numbers ([] = the default)")
    return tuple(float(v) for v in value)


def _names(where: str, key: str, value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise wrong(where, key, value, "an array of names")
    return tuple(value)


def _either(f: Field, value: Any) -> str:
    if value not in f.allowed:
        raise ConfigError(f"{f.where}: {f.key} must be "
                          f"{' or '.join(map(repr, f.allowed))}, got {value!r}")
    return value


def _positive(f: Field, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise wrong(f.where, f.key, value, "a positive whole number")
    return value


def _name(f: Field, value: Any) -> str | None:
    if value is not None and (not isinstance(value, str) or not value):
        raise wrong(f.where, f.key, value, f.expected)
    return value


def _text(f: Field, value: Any) -> str:
    if not isinstance(value, str):
        raise wrong(f.where, f.key, value, f.expected)
    return value


def _width(f: Field, value: Any) -> str | float:
    if isinstance(value, str):
        return choice(f.where, f.key, value, f.allowed)
    return number(f.where, f.key, value, *f.bounds)


def _soreness(f: Field, value: Any) -> dict | None:
    """``{ min_hours = 48 }`` and/or ``{ min_severity = "moderate" }``."""
    if value is None:
        return None
    if not isinstance(value, dict) or not value:
        raise wrong(f.where, f.key, value, f.expected)
    keys = ("min_hours", "min_severity", "from_sessions")
    unknown = [k for k in value if k not in keys]
    if unknown:
        raise ConfigError(f"{f.where}: {f.key} has {unknown[0]!r}"
                          f"{hint(unknown[0], keys)}; allowed: {', '.join(keys)}")
    out: dict[str, Any] = {}
    if "min_hours" in value:
        out["min_hours"] = number(f.where, f"{f.key}.min_hours", value["min_hours"], 0.0,
                                  10_000.0)
    if "min_severity" in value:
        out["min_severity"] = choice(f.where, f"{f.key}.min_severity", value["min_severity"],
                                     SEVERITY_LEVELS)
    if "from_sessions" in value:
        out["from_sessions"] = boolean(f.where, f"{f.key}.from_sessions",
                                       value["from_sessions"])
        if out["from_sessions"] and "min_hours" not in out:
            raise ConfigError(f"{f.where}: {f.key}.from_sessions needs min_hours (a "
                              "session's soreness record has a duration, not a grade)")
    if set(out) == {"from_sessions"}:
        raise wrong(f.where, f.key, value, f.expected)
    return out


def _strategies(f: Field, value: Any) -> dict[str, str]:
    """``{ event = "strategy" }`` with events and strategies of the vocabularies."""
    if not isinstance(value, dict):
        raise wrong(f.where, f.key, value, f.expected)
    for event, strategy in value.items():
        if event not in ICE_EVENTS:
            raise ConfigError(f"{f.where}: {f.key} has event {event!r}{hint(event, ICE_EVENTS)}"
                              f"; allowed: {', '.join(ICE_EVENTS)}")
        choice(f.where, f"{f.key}.{event}", strategy, STRATEGIES)
    return dict(value)


def _per_protocol(f: Field, value: Any) -> dict | None:
    """``{ min_sessions = 4 }`` and optional ``session_visits``."""
    if value is None:
        return None
    if not isinstance(value, dict) or "min_sessions" not in value:
        raise wrong(f.where, f.key, value, f.expected)
    bad = [k for k in value if k not in ("min_sessions", "session_visits")]
    if bad:
        raise ConfigError(f"{f.where}: {f.key} has {bad[0]!r}"
                          f"{hint(bad[0], ('min_sessions', 'session_visits'))}; allowed: "
                          "min_sessions, session_visits")
    out: dict[str, Any] = {"min_sessions": integer(f.where, f"{f.key}.min_sessions",
                                                   value["min_sessions"], 1, 10_000)}
    if "session_visits" in value:
        out["session_visits"] = list(_visits(f.where, f"{f.key}.session_visits",
                                             value["session_visits"], 1))
    return out


def _reason_counts(f: Field, value: Any) -> dict[str, int]:
    """``{ reason = n }`` with whole numbers >= 0."""
    if not isinstance(value, dict):
        raise wrong(f.where, f.key, value, f.expected)
    return {str(k): integer(f.where, f"{f.key}.{k}", v, 0, 10**9) for k, v in value.items()}


def _cuts(f: Field, value: Any) -> dict | None:
    """``{ symptom_months = 12 }``: subgroup names and finite numbers."""
    if value is None:
        return None
    if not isinstance(value, dict) or not all(
            isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)
            for v in value.values()):
        raise wrong(f.where, f.key, value, f.expected)
    return {str(k): float(v) for k, v in value.items()}


def _endpoints(f: Field, value: Any) -> tuple[tuple[str, int], ...]:
    """``[{ outcome = "first_step_pain", visit = 6 }, ...]`` as ``((outcome, visit), ...)``."""
    if not isinstance(value, list):
        raise wrong(f.where, f.key, value, f.expected)
    out = []
    for item in value:
        if not isinstance(item, dict) or set(item) != {"outcome", "visit"}:
            raise wrong(f.where, f.key, value, f.expected)
        outcome = choice(f.where, f"{f.key}.outcome", item["outcome"], tuple(INSTRUMENTS))
        visit = item["visit"]
        if isinstance(visit, bool) or not isinstance(visit, int) or visit < 1:
            raise wrong(f.where, f"{f.key}.visit", visit, "a whole number >= 1 (a visit)")
        out.append((outcome, visit))
    outcomes = [o for o, _ in out]
    if len(set(outcomes)) < len(outcomes):
        raise ConfigError(f"{f.where}: {f.key} names an outcome twice: {outcomes}")
    return tuple(out)


#: The check of each plain kind: ``check(field, value) -> the option's value``.
CHECKS: dict[str, Callable[[Field, Any], Any]] = {
    "boolean": lambda f, v: boolean(f.where, f.key, v),
    "choice": lambda f, v: choice(f.where, f.key, v, f.allowed),
    # the registry as it is now (a configuration's [instruments] are registered first)
    "instrument": lambda f, v: choice(f.where, f.key, v, tuple(INSTRUMENTS)),
    "choices": lambda f, v: choices(f.where, f.key, v, f.allowed),
    # an array that may be empty ([data] deviations = []: no deviation rule checked)
    "reasons": lambda f, v: choices(f.where, f.key, v, f.allowed, allow_empty=True),
    "order": lambda f, v: order(f.where, f.key, v, f.allowed),
    "integer": lambda f, v: integer(f.where, f.key, v, *f.bounds),
    "number": lambda f, v: number(f.where, f.key, v, *f.bounds, open_lo=f.open_bounds[0],
                                  open_hi=f.open_bounds[1]),
    "names": lambda f, v: _names(f.where, f.key, v),
    "numbers": _numbers,
    "visits": lambda f, v: _visits(f.where, f.key, v, int(f.bounds[0])),
    "visit": _visit,
    "either": _either,
    "positive": _positive,
    "name": _name,
    "text": _text,
    "width": _width,
    "soreness": _soreness,
    "strategies": _strategies,
    "per_protocol": _per_protocol,
    "reason_counts": _reason_counts,
    "cuts": _cuts,
    "endpoints": _endpoints,
}


def parse_table(table: str, values: dict) -> dict[str, Any]:
    """Check the plain keys of ``[table]``; an absent key gets its default.

    Returns ``{key: value}`` for every field of the table whose kind is in
    :data:`CHECKS` (arrays as tuples). Keys of other kinds (paths, definitions) are the
    caller's; unknown keys are :func:`check_keys`'.
    """
    out: dict[str, Any] = {}
    for f in FIELDS:
        if f.table == table and f.kind in CHECKS:
            out[f.key] = CHECKS[f.kind](f, values[f.key]) if f.key in values \
                else default(table, f.key)
    return out


# ---------------------------------------------------------------------- reference
_TYPES = {"boolean": "boolean", "choice": "text", "instrument": "text", "choices": "array of text",
          "reasons": "array of text",
          "order": "text or array of text",
          "integer": "integer", "number": "number", "names": "array of text",
          "numbers": "array of numbers",
          "visits": "array of integers", "visit": "integer", "either": "text",
          "positive": "integer",
          "name": "text", "text": "text", "width": "text or number", "path": "path",
          "definition": "boolean or number", "record": "integer",
          "soreness": "table", "strategies": "table", "per_protocol": "table",
          "reason_counts": "table", "cuts": "table", "endpoints": "array of tables",
          "power_analysis": "text", "jobs": "integer", "range": "array of integers",
          "sizes": "array of integers", "vector": "number or array of numbers",
          "correlation": "text or array of arrays"}


def _allowed(f: Field) -> str:
    if f.kind in ("choice", "either"):
        return "one of " + ", ".join(f.allowed)
    if f.kind == "instrument":
        return ("a registered instrument: one of " + ", ".join(f.allowed)
                + ", or one declared in [instruments.NAME] (or the mapping's)")
    if f.kind == "choices":
        return "one or more of " + ", ".join(f.allowed)
    if f.kind == "reasons":
        return "zero or more of " + ", ".join(f.allowed) + " ([] = none checked)"
    if f.kind == "order":
        return "one of " + ", ".join(f.allowed) + "; or an array of them, tried in order"
    if f.kind == "integer":
        return f"a whole number from {f.bounds[0]} to {f.bounds[1]}"
    if f.kind == "number":
        return _number_text(*f.bounds, *f.open_bounds)
    if f.kind == "visits":
        return f"whole numbers >= {int(f.bounds[0])} (visits)"
    if f.kind == "visit":
        return f"a whole number >= {int(f.bounds[0])} (a visit)"
    if f.kind == "positive":
        return "a positive whole number"
    if f.kind == "width":
        return f"{' or '.join(f.allowed)}, or {_number_text(*f.bounds, False, False)} (mm)"
    if f.kind == "path":
        return "a file, relative to the configuration file"
    if f.kind == "power_analysis":  # the simulation's own list (imported for the reference)
        from .config_power import power_analyses

        return "one of " + ", ".join(power_analyses())
    if f.kind == "names":
        return "names (text)"
    if f.kind == "numbers":
        return "numbers"
    if f.kind == "record":
        return "any (recorded in manifest.json, not used)"
    return f.expected or ""


def reference_rows() -> list[dict]:
    """The configuration schema, one row per key, for the reference documentation.

    Returns
    -------
    list of dict
        In the order the keys are checked, each with ``table`` (dotted, such as
        ``"analysis.trajectory"``), ``key``, ``type`` (``"boolean"``, ``"integer"``,
        ``"number"``, ``"text"``, ``"array of text"``, ``"path"``, ...), ``default`` (as
        TOML writes it; None when the key has none), ``allowed`` (in words, as the error
        messages say it), ``required`` (bool) and ``description`` (one line).

    See Also
    --------
    dryneedle_outcomes.mapping.reference_rows : the same for the mapping.

    Examples
    --------
    >>> from dryneedle_outcomes.config import reference_rows
    >>> rows = reference_rows()
    >>> row = next(r for r in rows if (r["table"], r["key"]) == ("analysis.trajectory",
    ...                                                        "n_boot"))
    >>> row["type"], row["default"], row["allowed"], row["required"]
    ('integer', 200, 'a whole number from 1 to 100000', False)
    >>> [(r["table"], r["key"]) for r in rows if r["required"]]
    [('data', 'assessments'), ('power.design', 'effect')]
    """
    return [{"table": f.table, "key": f.key, "type": _TYPES[f.kind],
             "default": list(f.default) if isinstance(f.default, list) else f.default,
             "allowed": _allowed(f), "required": f.required, "description": f.description}
            for f in FIELDS]


def one_definition(t: dict, where: str, what: str) -> tuple[str, Any]:
    """The one definition of ``what`` (a responder, relief) a table gives: the key among
    :data:`DEFINITIONS` and its raw value; ``("mcid", True)`` when none is given.

    Raises
    ------
    ConfigError
        When more than one is given.

    Examples
    --------
    >>> one_definition({"threshold": 20}, "[x]", "relief")
    ('threshold', 20)
    >>> one_definition({}, "[x]", "relief")
    ('mcid', True)
    """
    given = [k for k in DEFINITIONS if k in t and t[k] is not False]
    if len(given) > 1:
        raise ConfigError(f"{where}: give one definition of {what}, got "
                          f"{' and '.join(given)}; keep one of mcid, percent_reduction, "
                          "threshold")
    criterion = given[0] if given else "mcid"
    return criterion, t.get(criterion, True)
