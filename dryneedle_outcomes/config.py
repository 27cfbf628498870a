"""The analysis configuration (``analysis.toml``) read by the command line.

Every key is checked. A misspelt key, a value of the wrong type, a value outside the
allowed ones or a file that does not exist is a :class:`~dryneedle_outcomes.errors.ConfigError`
with a one-line message naming the file, the table, the key, the value seen and what
is allowed (the command line prints it and exits with code 2). Paths are relative to
the configuration file. An analysis table that is omitted is an analysis not run.

The schema is written once, in :data:`dryneedle_outcomes.config_schema.FIELDS`, which
drives the checks, the defaults of the option classes below and :func:`reference_rows`
(the documentation's reference); ``tests/test_config_schema.py`` checks that the block
below names the same tables, keys and defaults.

Schema (defaults after ``=`` for optional keys)::

    [data]
    assessments = "assessments.csv"      # required: session-level scores
    patients = "patients.xlsx"           # optional: the register (id, arm, ...)
    adverse_events = "adverse_events.csv"  # optional: one row per event
    intercurrent_events = "ice.csv"      # optional: one row per intercurrent event
                                         # (ICH E9(R1)): patient_id, visit (first visit
                                         # affected), day, event, reason
    mapping = "mapping.toml"             # optional; or an inline [mapping] table
    errors = "raise"                     # or "quarantine": set bad rows aside, go on
    deviations = ["contraindications", "crossover"]  # needled visits that are protocol
                                         # deviations: "contraindications" = every patient
                                         # flag but needle_fear (or name flags one by one:
                                         # pregnant, anticoagulants, ..., needle_fear);
                                         # crossover: a sham-arm patient needled;
                                         # [] = no deviation rule checked (said in
                                         # the ledger summary and the report)

    [data.limits]                        # optional: reading limits (dno.ReadLimits)
    max_bytes = 1073741824               # decompressed gzip / uncompressed XLSX bytes
    max_rows = 2000000                   # rows of a workbook sheet
    max_cells = 10000000                 # cells of a workbook sheet

    [mapping]                            # inline mapping (schema: dryneedle_outcomes.mapping)

    [instruments]                        # optional: user instruments, one table each,
                                         # [instruments.NAME] with the keys of
                                         # dno.register_instrument (label, lower, upper,
                                         # units, higher_is_better; mcid, mcid_source,
                                         # percent_thresholds optional); registered
                                         # (process-globally) when the file is read

    [simulation]                         # how a simulated sample was made (recorded only)
    seed = 2014
    n_patients = 84

    [analysis]                           # omit: load, check and write the data only
    outcome = "first_step_pain"          # a registered instrument (dno.INSTRUMENTS) or
                                         # one declared in [instruments.NAME]
    conf_level = 0.95                    # of every interval; between 0 and 1
    reference_arm = "sham"               # optional; default a sham/control-like arm name,
                                         # else the last arm
    primary_visit = 6                    # the pre-specified primary visit: required with
                                         # [analysis.trajectory] or [analysis.responders]
                                         # (their headline is at this visit; never inferred)

    [analysis.trajectory]                # dno.fit_trajectory, once per model
    models = ["mmrm"]                    # one or more of random_intercept, random_slope,
                                         # session_means, mmrm
    covariance = "unstructured"          # of mmrm: unstructured, cs, cs_hetero, ar1,
                                         # ar1_hetero, toeplitz, toeplitz_hetero,
                                         # ante1_hetero, ante1 or spatial_exp (SAS UN, CS,
                                         # CSH, AR(1), ARH(1), TOEP, TOEPH, ANTE(1), mmrm's
                                         # ad, SP(EXP)(day) on each row's day); an array
                                         # (["unstructured", "toeplitz_hetero",
                                         # "ar1_hetero", "cs_hetero"]) uses the first that
                                         # converges, in that order
    covariance_by_arm = false            # mmrm: a separate covariance per arm (SAS
                                         # REPEATED / GROUP=arm)
    adjust = ["baseline"]                # "baseline" and/or patient covariates ("age");
                                         # [] models every visit, baseline included;
                                         # text columns ("site") are factors
    baseline_by_visit = true             # baseline x visit interaction in session_means
                                         # and mmrm (Mallinckrodt et al. 2008)
    missing_baseline = "mean"            # a randomised patient without a baseline value:
                                         # kept with the mean of the observed baselines
                                         # (White & Thompson 2005, Stat Med 24:993-1007),
                                         # stated in the notes; or "exclude": left out
    df = "kenward_roger"                 # or "kenward_roger_linear" / "satterthwaite"
                                         # / "between_within" (SAS's DDFM=KR / KR(LINEAR) /
                                         # SATTERTHWAITE / BETWITHIN):
                                         # used by mmrm; the random-effects models use
                                         # Satterthwaite
    time = "week"                        # time scale of random_intercept/random_slope:
                                         # "week" or "day" since baseline (needs dates),
                                         # or "visit" (the visit index)
    vcov = "model"                       # or "empirical" / "empirical_jackknife" (SAS's
                                         # EMPIRICAL; with df = "between_within" or
                                         # "satterthwaite"): mmrm
    cumulative_after = []                # sessions received, for cumulative_effect
                                         # (the visit follows the assessed rule)
    # sessions_to_mcid = false           # deprecated and ignored (FutureWarning): an arm's
    # n_boot = 200                       # mean against an individual MCID; so are n_boot
    # seed = 2014                        # and seed, used only by it

    [analysis.reference_based]           # dno.reference_based, once per method; shown
                                         # right under the trajectory result
    methods = ["mar", "jump_to_reference"]  # mar, jump_to_reference, copy_reference,
                                         # copy_increments_from_reference
    # reference_arm = "sham"             # default: [analysis] reference_arm
    approach = "conditional_mean"        # or "approximate_bayes" / "bayes" (MCMC);
                                         # both with Rubin's rules
    variance = "auto"                    # jackknife (conditional mean) / rubin; or
                                         # "bootstrap" with the conditional mean
    warmup = 200                         # bayes: MCMC iterations discarded
    thin = 50                            # bayes: MCMC iterations per kept draw
    n_samples = 0                        # 0: 500 bootstrap samples / 100 imputations
    seed = 2014                          # bootstrap and random imputations
    adjust = ["baseline"]                # imputation model (by visit) and ANCOVA
    tipping_deltas = []                  # tipping-point grid of the first method (MAR
                                         # + delta); []: an automatic grid of 21 deltas
    n_jobs = 1                           # worker processes (same numbers for any)

    [analysis.harms]                     # adverse_event_rates (one table per denominator),
                                         # protocol_deviations and dose_response
    per = ["patient", "session", "100_needles"]  # one or more denominators
    dose_response = true                 # logistic GEE of events on needles and twitches
    # soreness_as_ae = { min_hours = 48 }  # when soreness counts as an adverse event (or
                                         # min_severity: "moderate"; both: either one);
                                         # absent: every recorded soreness event counts;
                                         # add from_sessions: true (with min_hours) to
                                         # also derive events from the session soreness
                                         # records where none was recorded (flagged)
    p_values = false                     # a test per harm term (CONSORT Harms, SAMPL: no)
    risk_ratio = false                   # the risk ratio too (Haldane 0.5 on a zero cell)

    [analysis.responders]                # dno.responders; one definition of a responder:
    mcid = true                          # true: the instrument's MCID; or a number
    # percent_reduction = 30             # or: >= this % reduction from baseline (0-100]
    # threshold = 20                     # or: this level reached at the visit
    missing = ["non_responder"]          # non_responder (composite strategy: missing =
                                         # non-response; the headline) and/or observed
                                         # (observed cases, assumes MCAR): one table each
    adjust = ["baseline"]                # covariate-adjusted RD/RR by standardisation
                                         # (logistic + g-computation, FDA 2023):
                                         # "baseline" and/or patient columns; [] = none
    variance = "robust"                  # delta-method covariance: "robust" (HC0
                                         # sandwich) or "model"

    [analysis.blinding]                  # dno.blinding_index: Bang's and James' indices
    alternative = "two-sided"            # from patients.allocation_guess; or "greater"
                                         # / "less" (one-sided, as Bang 2004 prefers)

    [analysis.stricta]                   # dno.stricta_table: the needling as delivered
    planned_sessions = 6                 # per patient, from the protocol (STRICTA 3a);
                                         # absent: "planned: not given"

    [analysis.baseline_table]            # dno.baseline_table
    p_values = false                     # CONSORT advises against testing at baseline

    [analysis.time_to_relief]            # dno.time_to_relief, once per timescale
    mcid = true                          # relief: improvement >= the instrument's MCID, or
    # percent_reduction = 50             # a number; or >= this % reduction; or
    # threshold = 20                     # this level reached (one definition only)
    sustained = true                     # confirmed: met at two consecutive assessments
                                         # (one crossing can be noise); false: one crossing
    timescale = ["days"]                 # "days" and/or "sessions" (discrete-time model)
    interval_censored = true             # Turnbull curve/median; false: Kaplan-Meier
    adjust = []                          # "baseline" and/or patient columns, for Cox/AFT
    # covariates = []                    # deprecated: the old name of adjust
    strata = ""                          # a patient column for the log-rank and Cox
                                         # ("" = none)
    interval_scores = "logrank2"         # interval-censored log-rank test (primary):
                                         # logrank2 (Finkelstein), logrank1 (Sun) or wmw
    interval_method = "pclt"             # pclt (permutation CLT) or scoretest
    distributions = ["weibull", "loglogistic"]  # parametric AFT models (time ratios)
    conf_type = "log-log"                # Kaplan-Meier CI: log-log, log or plain
    rmst_tau = 0                         # pre-specified RMST restriction time in days;
                                         # 0 = none (never chosen from the data)
    rmst_tau_sessions = 0                # the same in sessions (sessions timescale)
    n_boot = 2000                        # bootstrap replicates of the Turnbull bands and
                                         # median CI (0-100000; percentile CIs of a
                                         # median need ~2,000: Davison & Hinkley 1997)
    hr_n_boot = 1000                     # bootstrap replicates of the interval-censored
                                         # PH hazard ratio CIs (0-100000)
    seed = 2014                          # bootstrap seed (recorded in manifest.json)

    [analysis.soreness_duration]         # dno.soreness_duration (post-needling soreness)
    n_boot = 2000                        # patient-bootstrap replicates (0 to 100000)
    seed = 2014

    [analysis.subgroups]                 # dno.subgroup_analysis at the primary visit:
                                         # the primary mmrm with arm x visit x subgroup,
                                         # one per variable; interaction F tests, forest
    variables = ["site", "sex", "symptom_months", "baseline"]  # patient columns and/or
                                         # "baseline" (the outcome's baseline score)
    # cuts = { symptom_months = 12 }     # pre-specified cut-points of continuous ones;
                                         # without one: the median (data-derived, said)
    df = "kenward_roger"                 # or "satterthwaite"
    continuous_interaction = true        # also the 1-df test on the continuous scale
    cluster = ""                         # a patients column of therapists (clinician):
                                         # their variance component and ICC; "" = none

    [analysis.multiplicity]              # dno.multiple_endpoints: each primary endpoint
                                         # by the primary analysis, adjusted p-values
    endpoints = []                       # two or more, e.g. [{ outcome =
                                         # "first_step_pain", visit = 6 }, { outcome =
                                         # "fhsq_pain", visit = 6 }] (fixed_sequence: the
                                         # order given is the testing order)
    procedure = "hochberg"               # or "holm", "bonferroni", "fixed_sequence"
    alpha = 0.05                         # the family-wise error rate

    [estimand]                           # optional: the estimand (ICH E9(R1)), printed
                                         # before the results (dno.Estimand)
    population = "randomised"            # or "per_protocol" (needs per_protocol; the
                                         # randomised population is reported beside it)
    # variable = "first_step_pain"       # the endpoint; default [analysis] outcome
    # treatment = "dry needling vs sham, 6 weekly sessions"  # in words
    # summary = "difference in means at visit 6"  # default: at the primary visit
    # visit = 6                          # default [analysis] primary_visit
    intercurrent = {}                    # event = strategy: { rescue_medication =
                                         # "hypothetical", discontinued_treatment =
                                         # "treatment_policy" }; strategies
                                         # treatment_policy, hypothetical, composite,
                                         # while_on_treatment
    # per_protocol = { min_sessions = 4 }  # sessions received (optional session_visits);
                                         # counts per arm beside the randomised ones

    [consort]                            # optional: the enrolment numbers of the CONSORT
                                         # 2025 flow diagram (dno.consort_flow), which
                                         # the data do not hold ("not recorded" if absent)
    # assessed = 120                     # patients assessed for eligibility
    # excluded_before_randomisation = { declined = 11 }  # by reason: { reason = n, ... }

    [power]                              # dryneedle-outcomes power (dno.simulate_power,
                                         # dno.sample_size); without [data] when the
                                         # design is assumed (data/sample/power.toml):
                                         # then [instruments] may declare its instrument
    analysis = "mmrm"                    # applied to each simulated trial: an analysis
                                         # of dryneedle_outcomes.power.analyses.ANALYSES:
                                         # mmrm, ancova, responders, time_to_relief
    n_trials = 1000                      # simulated trials per sample size
    seed = 2014                          # one SeedSequence, a child per trial
    alpha = 0.05                         # two-sided
    n_jobs = 1                           # processes; -1 = all cores (same numbers)
    # target_power = 0.9                 # with n_range: the sample size (bisection)
    # n_range = [20, 200]                # n per arm searched
    # n_per_arm = [40, 60, 80]           # a power curve (give it, target_power, or both)
    # visit = 6                          # primary visit (a visit time); default [analysis]
                                         # primary_visit with from_fit, else the last
    adjust_baseline = true               # ancova only; false: the two-sample t test
    # mcid = true                        # responders / time_to_relief only: a patient
    # percent_reduction = 30             # responds (has relief) on improving by the
    # threshold = 20                     # instrument's MCID (true, the default) or this
                                         # number; or by >= this % (needs instrument);
                                         # or reaching this level (one definition only,
                                         # spelt as in [analysis.responders]); a patient's
                                         # criterion, never the effect
    sustained = true                     # time_to_relief: relief confirmed at the next
                                         # observed visit; false: one crossing
    test = "fisher"                      # responders: Fisher's exact test, or "chisq"
                                         # (Pearson, no continuity correction)

    [power.design]                       # dno.TrialDesign: the assumptions
    from_fit = false                     # true: sd, correlation, baseline mean and dropout
                                         # from the MMRM fit of [data] ([analysis]
                                         # outcome); effect still required, dropout,
                                         # mechanism, shape, allocation may be given
    # visits = [1, 2, 3, 4, 5, 6]        # post-baseline visit times (required unless
                                         # from_fit)
    # effect = -12.0                     # required: the target difference between the
                                         # arms' mean changes (treated - control; DELTA2,
                                         # Cook et al. 2018) at the last visit, or one per
                                         # visit; not an instrument's MCID (one patient's
                                         # threshold), never the observed one (post-hoc)
    shape = "linear"                     # or "constant": how one effect reaches the end
    sd = 1.0                             # SD at baseline and each visit, or one for all
    correlation = "exchangeable"         # or "ar1" (with rho), or a matrix
    # rho = 0.6                          # of a named correlation
    baseline_mean = 0.0
    dropout = 0.0                        # cumulative proportion missing by each visit,
                                         # or by the last (reached linearly)
    mechanism = "mcar"                   # or "mar" (on the last observed value) or
                                         # "mnar" (on the unrecorded current value)
    dropout_slope = 1.0                  # mar/mnar: log-odds of leaving per SD
    allocation = 1.0                     # treated per control patient
    # instrument = "first_step_pain"     # a registered instrument (or [instruments.NAME]):
                                         # its direction, range and MCID for responders
                                         # and time_to_relief; with from_fit: [analysis]
                                         # outcome

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
import tomllib
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# The schema and its checks live in config_schema; the names below are re-exported so
# that ``dryneedle_outcomes.config.MODELS`` (and the rest) keep working.
from .config_schema import ANALYSES as ANALYSES
from .config_schema import (
    CHECKS,
    DEPRECATED_TRAJECTORY,
    TOP,
    check_keys,
    default,
    field_of,
    number,
    one_definition,
    parse_table,
    unknown,
    wrong,
)
from .config_schema import CONF_TYPES as CONF_TYPES
from .config_schema import COVARIANCES as COVARIANCES
from .config_schema import DF_METHODS as DF_METHODS
from .config_schema import DISTRIBUTIONS as DISTRIBUTIONS
from .config_schema import FORMATS as FORMATS
from .config_schema import MISSING_RULES as MISSING_RULES
from .config_schema import MODELS as MODELS
from .config_schema import PER as PER
from .config_schema import SCHEMA as SCHEMA
from .config_schema import TIMESCALES as TIMESCALES
from .config_schema import reference_rows as reference_rows
from .errors import ConfigError
from .instruments import INSTRUMENTS

#: The analyses whose headline result is at the primary visit (they need primary_visit).
HEADLINED = ("trajectory", "responders", "subgroups")

#: Names users may reach for, and the table they mean.
ALIASES = {"survival": "time_to_relief", "relief": "time_to_relief",
           "soreness": "soreness_duration"}


def _limits(table: Any):
    """``[data.limits]`` as a :class:`~dryneedle_outcomes.io.limits.ReadLimits` (None if absent)."""
    if table is None:
        return None
    if not isinstance(table, dict):
        raise wrong("[data]", "limits", table, "a table ([data.limits])")
    check_keys(table, "data.limits")
    for key, value in table.items():
        f = field_of("data.limits", key)
        CHECKS[f.kind](f, value)
    from .io.limits import ReadLimits

    return ReadLimits(**table)


# ---------------------------------------------------------------------- options
# The defaults come from the schema (dryneedle_outcomes.config_schema.FIELDS).
_T, _H, _R = "analysis.trajectory", "analysis.harms", "analysis.responders"
_RB = "analysis.reference_based"
_B, _TTR, _S = "analysis.baseline_table", "analysis.time_to_relief", "analysis.soreness_duration"
_SG, _MU = "analysis.subgroups", "analysis.multiplicity"


@dataclass(frozen=True)
class TrajectoryOptions:
    """``[analysis.trajectory]``: the models of :func:`~dryneedle_outcomes.fit_trajectory`."""

    models: tuple[str, ...] = default(_T, "models")
    covariance: str | tuple[str, ...] = default(_T, "covariance")
    covariance_by_arm: bool = default(_T, "covariance_by_arm")
    adjust: tuple[str, ...] = default(_T, "adjust")
    baseline_by_visit: bool = default(_T, "baseline_by_visit")
    missing_baseline: str = default(_T, "missing_baseline")
    df: str = default(_T, "df")
    time: str = default(_T, "time")
    vcov: str = default(_T, "vcov")
    cumulative_after: tuple[int, ...] = default(_T, "cumulative_after")
    sessions_to_mcid: bool = default(_T, "sessions_to_mcid")
    n_boot: int = default(_T, "n_boot")
    seed: int = default(_T, "seed")

    def df_for(self, model: str) -> str:
        """Degrees-of-freedom method of ``model`` (Kenward-Roger exists for mmrm only)."""
        return self.df if model == "mmrm" else "satterthwaite"

    def vcov_for(self, model: str) -> str:
        """Covariance of the fixed effects of ``model`` (sandwiches exist for mmrm only)."""
        return self.vcov if model == "mmrm" else "model"

    def baseline_by_visit_for(self, model: str) -> bool | None:
        """``fit_trajectory``'s ``baseline_by_visit`` for ``model``: its default (on for the
        visit-factor models with baseline) unless the config turns it off."""
        return None if self.baseline_by_visit else False


@dataclass(frozen=True)
class ReferenceBasedOptions:
    """``[analysis.reference_based]``: :func:`~dryneedle_outcomes.reference_based`, once per
    method, with a tipping point."""

    methods: tuple[str, ...] = default(_RB, "methods")
    reference_arm: str | None = default(_RB, "reference_arm")
    approach: str = default(_RB, "approach")
    variance: str = default(_RB, "variance")
    warmup: int = default(_RB, "warmup")
    thin: int = default(_RB, "thin")
    n_samples: int = default(_RB, "n_samples")
    seed: int = default(_RB, "seed")
    adjust: tuple[str, ...] = default(_RB, "adjust")
    tipping_deltas: tuple[float, ...] = default(_RB, "tipping_deltas")
    n_jobs: int = default(_RB, "n_jobs")

    def __post_init__(self) -> None:
        w = f"[{_RB}]"
        allowed = {"conditional_mean": ("auto", "jackknife", "bootstrap"),
                   "approximate_bayes": ("auto", "rubin"),
                   "bayes": ("auto", "rubin")}[self.approach]
        if self.variance not in allowed:
            raise ConfigError(f"{w}: approach = \"{self.approach}\" takes variance "
                              f"{' or '.join(allowed)}, got \"{self.variance}\"")

    def keywords(self) -> dict:
        """Keyword arguments of :func:`~dryneedle_outcomes.reference_based` (but method
        and reference_arm); ``warmup`` and ``thin`` with ``approach = "bayes"`` only."""
        out = {"approach": self.approach,
               "variance": None if self.variance == "auto" else self.variance,
               "n_samples": self.n_samples or None, "seed": self.seed,
               "adjust": self.adjust, "n_jobs": self.n_jobs}
        if self.approach == "bayes":
            out.update(warmup=self.warmup, thin=self.thin)
        return out


@dataclass(frozen=True)
class HarmsOptions:
    """``[analysis.harms]``."""

    per: tuple[str, ...] = default(_H, "per")
    dose_response: bool = default(_H, "dose_response")
    soreness_as_ae: dict | None = None
    p_values: bool = default(_H, "p_values")
    risk_ratio: bool = default(_H, "risk_ratio")


@dataclass(frozen=True)
class RespondersOptions:
    """``[analysis.responders]``: one definition (``criterion``, ``value``) and missing rules."""

    criterion: str = "mcid"
    value: float = 0.0
    missing: tuple[str, ...] = default(_R, "missing")
    adjust: tuple[str, ...] = default(_R, "adjust")
    variance: str = default(_R, "variance")

    def definition(self) -> dict[str, float]:
        """Keyword argument of :func:`~dryneedle_outcomes.responders.responders`."""
        return {self.criterion: self.value}


@dataclass(frozen=True)
class BlindingOptions:
    """``[analysis.blinding]``: :func:`~dryneedle_outcomes.blinding_index`."""

    alternative: str = default("analysis.blinding", "alternative")


@dataclass(frozen=True)
class StrictaOptions:
    """``[analysis.stricta]``: :func:`~dryneedle_outcomes.stricta_table`."""

    planned_sessions: int | None = default("analysis.stricta", "planned_sessions")


@dataclass(frozen=True)
class BaselineTableOptions:
    """``[analysis.baseline_table]``."""

    p_values: bool = default(_B, "p_values")


@dataclass(frozen=True)
class TimeToReliefOptions:
    """``[analysis.time_to_relief]``: the relief definition and the analysis options."""

    criterion: str = "mcid"
    value: float = 0.0
    sustained: bool = default(_TTR, "sustained")
    timescale: tuple[str, ...] = default(_TTR, "timescale")
    interval_censored: bool = default(_TTR, "interval_censored")
    adjust: tuple[str, ...] = default(_TTR, "adjust")
    strata: str | None = default(_TTR, "strata") or None
    distributions: tuple[str, ...] = default(_TTR, "distributions")
    conf_type: str = default(_TTR, "conf_type")
    interval_scores: str = default(_TTR, "interval_scores")
    interval_method: str = default(_TTR, "interval_method")
    rmst_tau: float | None = default(_TTR, "rmst_tau") or None
    rmst_tau_sessions: float | None = default(_TTR, "rmst_tau_sessions") or None
    n_boot: int = default(_TTR, "n_boot")
    hr_n_boot: int = default(_TTR, "hr_n_boot")
    seed: int = default(_TTR, "seed")

    def relief(self):
        """The :class:`~dryneedle_outcomes.Relief` this table defines."""
        from .survival.relief import Relief

        return Relief(**{self.criterion: self.value}, sustained=self.sustained)


@dataclass(frozen=True)
class SorenessOptions:
    """``[analysis.soreness_duration]``."""

    n_boot: int = default(_S, "n_boot")
    seed: int = default(_S, "seed")


@dataclass(frozen=True)
class SubgroupsOptions:
    """``[analysis.subgroups]``: :func:`~dryneedle_outcomes.subgroup_analysis`."""

    variables: tuple[str, ...] = default(_SG, "variables")
    cuts: dict | None = None
    df: str = default(_SG, "df")
    continuous_interaction: bool = default(_SG, "continuous_interaction")
    cluster: str | None = default(_SG, "cluster") or None


@dataclass(frozen=True)
class MultiplicityOptions:
    """``[analysis.multiplicity]``: :func:`~dryneedle_outcomes.multiple_endpoints`."""

    endpoints: tuple[tuple[str, int], ...] = default(_MU, "endpoints")
    procedure: str = default(_MU, "procedure")
    alpha: float = default(_MU, "alpha")


@dataclass(frozen=True)
class AnalysisOptions:
    """``[analysis]``: the outcome, the interval level and the analyses to run (or None)."""

    outcome: str = default("analysis", "outcome")
    conf_level: float = default("analysis", "conf_level")
    reference_arm: str | None = default("analysis", "reference_arm")
    primary_visit: int | None = default("analysis", "primary_visit")
    trajectory: TrajectoryOptions | None = None
    reference_based: ReferenceBasedOptions | None = None
    harms: HarmsOptions | None = None
    responders: RespondersOptions | None = None
    blinding: BlindingOptions | None = None
    baseline_table: BaselineTableOptions | None = None
    stricta: StrictaOptions | None = None
    time_to_relief: TimeToReliefOptions | None = None
    soreness_duration: SorenessOptions | None = None
    subgroups: SubgroupsOptions | None = None
    multiplicity: MultiplicityOptions | None = None

    def __post_init__(self) -> None:
        needs = [f"[analysis.{k}]" for k in HEADLINED if getattr(self, k) is not None]
        if needs and self.primary_visit is None:
            raise ConfigError(
                f"[analysis]: primary_visit is required with {' and '.join(needs)}: their "
                "headline result is reported at the primary visit the analysis plan "
                "declares, never one inferred from the data; add e.g. primary_visit = 6 "
                "(the visit of the primary time point) to [analysis]")


@dataclass(frozen=True)
class FigureOptions:
    """``[figures]``."""

    formats: tuple[str, ...] = default("figures", "formats")
    width: str | float = default("figures", "width")
    dpi: int = default("figures", "dpi")


def _definition(t: dict, outcome: str, w: str, what: str) -> tuple[str, float]:
    """The one definition (mcid, percent_reduction or threshold) of a table, checked."""
    inst = INSTRUMENTS[outcome]
    criterion, value = one_definition(t, w, what)
    if criterion == "mcid" and value is True:
        if inst.mcid is None:
            raise ConfigError(f"{w}: mcid = true but {outcome} has no registered MCID; give "
                              "mcid = <number>, or percent_reduction = 30")
        value = float(inst.mcid)
    elif criterion == "mcid":
        value = number(w, "mcid", value, 0.0, inst.upper - inst.lower, open_lo=True)
    elif criterion == "percent_reduction":
        value = number(w, "percent_reduction", value, 0.0, 100.0, open_lo=True)
    else:
        value = number(w, "threshold", value, inst.lower, inst.upper)
    return criterion, value


def _analysis_table(name: str, t: dict, outcome: str):
    """The options of ``[analysis.<name>]``: its plain keys from the schema, then the rest."""
    table = f"analysis.{name}"
    if name == "time_to_relief" and isinstance(t.get("timescale"), str):
        t = {**t, "timescale": [t["timescale"]]}
    if name in ("responders", "time_to_relief"):
        criterion, value = _definition(t, outcome, f"[{table}]",
                                       "a responder" if name == "responders" else "relief")
        plain = parse_table(table, t)
        if name == "responders":
            return RespondersOptions(criterion=criterion, value=value, **plain)
        plain.update(strata=plain["strata"] or None, rmst_tau=plain["rmst_tau"] or None,
                     rmst_tau_sessions=plain["rmst_tau_sessions"] or None)
        old = plain.pop("covariates")
        if "covariates" in t:
            if "adjust" in t:
                raise ConfigError(f"[{table}]: give adjust only (covariates is its old name)")
            warnings.warn(f"[{table}]: covariates is deprecated; call it adjust, as in "
                          "[analysis.trajectory]", FutureWarning, stacklevel=2)
            plain["adjust"] = old
        return TimeToReliefOptions(criterion=criterion, value=value, **plain)
    plain = parse_table(table, t)
    if name == "multiplicity" and len(plain["endpoints"]) < 2:
        raise ConfigError(f"[{table}]: endpoints must name two or more primary endpoints "
                          "(a family of one needs no adjustment), e.g. endpoints = "
                          "[{ outcome = \"first_step_pain\", visit = 6 }, "
                          "{ outcome = \"vas_pain\", visit = 6 }]")
    if name == "subgroups":
        plain["cluster"] = plain["cluster"] or None
    if name == "trajectory":
        given = [k for k in DEPRECATED_TRAJECTORY if k in t]
        if given:
            warnings.warn(f"[{table}]: {', '.join(given)} {'is' if len(given) == 1 else 'are'} "
                          "deprecated and ignored: sessions_to_mcid judged each arm's mean "
                          "improvement against an individual-level MCID, which IMMPACT "
                          "cautions against (Dworkin et al., Pain 2009;146:238-244), and "
                          "n_boot and seed were its bootstrap's; the report gives time to "
                          "relief on the sessions timescale ([analysis.time_to_relief] "
                          "timescale = [\"sessions\"]) and responders per visit "
                          "([analysis.responders]) instead", FutureWarning, stacklevel=2)
    kinds = {"trajectory": TrajectoryOptions, "harms": HarmsOptions,
             "baseline_table": BaselineTableOptions, "soreness_duration": SorenessOptions,
             "blinding": BlindingOptions, "reference_based": ReferenceBasedOptions,
             "stricta": StrictaOptions,
             "subgroups": SubgroupsOptions, "multiplicity": MultiplicityOptions}
    return kinds[name](**plain)


def _analysis(a: dict) -> AnalysisOptions:
    for key, meant in ALIASES.items():
        if key in a:
            raise ConfigError(f"[analysis.{key}] is not a table; did you mean "
                              f"[analysis.{meant}]? (analyses: {', '.join(ANALYSES)})")
    check_keys(a, "analysis")
    top = parse_table("analysis", a)
    parts: dict[str, Any] = {}
    for name in ANALYSES:
        if name not in a:
            continue
        if not isinstance(a[name], dict):
            raise wrong("[analysis]", name, a[name], f"a table ([analysis.{name}])")
        check_keys(a[name], f"analysis.{name}")
        parts[name] = _analysis_table(name, a[name], top["outcome"])
    return AnalysisOptions(**top, **parts)


def _estimand(t: dict, analysis: AnalysisOptions | None) -> dict:
    """``[estimand]`` checked, as the keywords of ``dno.Estimand.from_dict`` (plain data).

    ``variable`` and ``visit`` default to ``[analysis] outcome`` and ``primary_visit``;
    the per-protocol population needs its rule.
    """
    plain = parse_table("estimand", t)
    if analysis is not None:
        if plain["variable"] is None:
            plain["variable"] = analysis.outcome
        if plain["visit"] is None:
            plain["visit"] = analysis.primary_visit
    if plain["population"] == "per_protocol" and plain["per_protocol"] is None:
        raise ConfigError("[estimand]: population = \"per_protocol\" needs its rule: "
                          "per_protocol = { min_sessions = 4 }")
    return {k: v for k, v in plain.items() if v is not None}


def _figures(f: dict) -> FigureOptions:
    return FigureOptions(**parse_table("figures", f))


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


# ---------------------------------------------------------------------- instruments
def _register_instruments(table: Any, mapping: Any, where: str) -> dict:
    """Check and register the ``[instruments]`` of the configuration and of its mapping.

    They are registered now, before ``[analysis]`` is read, so that ``outcome`` may name
    one (the registry is process-global: :mod:`dryneedle_outcomes.instruments`). A
    mapping file that cannot be read is left to the loader, which reports it.
    """
    from .errors import MappingError
    from .instrument_definitions import parse_instruments
    from .instruments import ensure_registered

    declared = {}
    try:
        declared.update(parse_instruments(table, where))
        if isinstance(mapping, Path):
            try:
                mapping_table = read_toml(mapping).get("instruments", {})
            except ConfigError:
                mapping_table = {}   # the loader reports an unreadable mapping
            origin = str(mapping)
        else:
            mapping_table = (mapping or {}).get("instruments", {}) \
                if isinstance(mapping, dict) else {}
            origin = f"{where} [mapping]"
        from_mapping = parse_instruments(mapping_table, origin)
        for name, inst in from_mapping.items():
            if name in declared and declared[name] != inst:
                raise ConfigError(f"{where}: [instruments.{name}] differs from the mapping's "
                                  f"[instruments.{name}] in {origin}; declare it once")
        ensure_registered(declared, where)
        ensure_registered(from_mapping, origin)
    except MappingError as exc:
        raise ConfigError(str(exc)) from None
    return {**from_mapping, **declared}


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
    instruments: dict = field(default_factory=dict)
    deviations: tuple[str, ...] | None = None
    intercurrent_events: Path | None = None
    estimand: dict | None = None
    consort: dict | None = None
    power: Any = None

    @property
    def inputs(self) -> dict[str, Path]:
        """Input files by role (those given), the configuration file included."""
        out = {"assessments": self.assessments, "patients": self.patients,
               "adverse_events": self.adverse_events,
               "intercurrent_events": self.intercurrent_events}
        if isinstance(self.mapping, Path):
            out["mapping"] = self.mapping
        out["config"] = self.source
        return {k: v for k, v in out.items() if v is not None}

    @property
    def resolved(self) -> dict:
        """The configuration with defaults filled in, as plain data."""
        out: dict[str, Any] = {"data": {**self.raw.get("data", {}), "errors": self.errors}}
        for key in ("mapping", "instruments", "simulation"):
            if key in self.raw:
                out[key] = self.raw[key]
        if self.estimand is not None:
            out["estimand"] = dict(self.estimand)
        if self.consort is not None:
            out["consort"] = dict(self.consort)
        if self.analysis is not None:
            a = _plain(self.analysis)
            out["analysis"] = {k: v for k, v in a.items()
                               if v is not None or k == "reference_arm"}
        if self.power is not None:
            out["power"] = self.power.resolved
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
            if section not in TOP:
                raise unknown(section, TOP, where)
            if not isinstance(value, dict):
                raise ConfigError(f"{where}: [{section}] must be a table, got {value!r}")
            if section in ("data", "simulation", "figures", "estimand", "consort"):
                check_keys(value, section)
        d = data.get("data")
        if not d or "assessments" not in d:
            raise ConfigError(f"{where}: [data] must name the assessments file "
                              "(assessments = \"visits.csv\")")

        def path_of(key: str) -> Path | None:
            value = d.get(key)
            if value is None:
                return None
            if not isinstance(value, str):
                raise wrong("[data]", key, value, "a path (text)")
            p = Path(value)
            p = p if p.is_absolute() else base / p
            if not p.exists():
                raise ConfigError(f"[data]: {key} file {value!r} does not exist (looked for {p})")
            return p

        data_keys = parse_table("data", d)
        errors = data_keys["errors"]
        if "mapping" in d and "mapping" in data:
            raise ConfigError(f"{where}: give the mapping either as [data] mapping = \"file\" "
                              "or as an inline [mapping] table, not both")
        mapping = path_of("mapping") if "mapping" in d else data.get("mapping")
        instruments = _register_instruments(data.get("instruments", {}), mapping, where)
        analysis = _analysis(data["analysis"]) if "analysis" in data else None
        estimand = _estimand(data["estimand"], analysis) if "estimand" in data else None
        consort = ({k: v for k, v in parse_table("consort", data["consort"]).items()
                    if v is not None} if "consort" in data else None)
        if "power" in data:  # used by dryneedle-outcomes power, checked for every command
            from .config_power import parse_power

            power = parse_power(data["power"], outcome=analysis.outcome
                                if analysis is not None else None)
        else:
            power = None
        return cls(
            limits=_limits(d.get("limits")),
            assessments=path_of("assessments"),
            patients=path_of("patients"),
            adverse_events=path_of("adverse_events"),
            mapping=mapping,
            errors=errors,
            deviations=data_keys["deviations"],
            base_dir=base,
            raw=data,
            analysis=analysis,
            figures=_figures(data.get("figures", {})),
            instruments=instruments,
            intercurrent_events=path_of("intercurrent_events"),
            estimand=estimand,
            consort=consort,
            power=power,
        )
