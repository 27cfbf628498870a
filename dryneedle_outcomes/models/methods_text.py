"""What a trajectory fit did, in sentences: the methods notes its tables, summary and the
report print alike.

They were written by the report layer, so ``fit.summary()`` and the notebook said less
than ``report.html``; the analysis now says it once (SAMPL: state the model, the
estimation method, how missing data were handled and the degrees of freedom used).

Examples
--------
>>> import dryneedle_outcomes as dno
>>> fit = dno.fit_trajectory(dno.simulate_cohort(n_patients=30, seed=2), primary_visit=6)
>>> describe(fit)
'MMRM (unstructured covariance)'
>>> methods_notes(fit)[0][:61]
'Model: y ~ baseline + arm * factor(visit) + baseline:factor(v'
>>> methods_notes(fit)[2]
'Primary time point: visit 6, pre-specified (not chosen from the data).'
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .covariance_order import order_sentence
from .mmrm_covariance import covariance_phrase

if TYPE_CHECKING:  # the result's module imports this one
    from .trajectory import TrajectoryResult

NAMES = {"random_intercept": "random-intercept model", "random_slope": "random-slope model",
         "session_means": "session-means model", "mmrm": "MMRM"}
RANDOM = {"random_intercept": "(1 | patient)", "random_slope": "(1 + time | patient)",
          "session_means": "(1 | patient)"}
DF_NAMES = {"satterthwaite": "Satterthwaite", "kenward_roger": "Kenward-Roger",
            "kenward_roger_linear": "Kenward-Roger (linear, SAS's KR(LINEAR))",
            "between_within": "between-within (SAS's DDFM=BETWITHIN)"}
VCOV_NAMES = {"empirical": "the empirical (sandwich) covariance of the fixed effects "
                           "(SAS's EMPIRICAL; Liang & Zeger 1986)",
              "empirical_jackknife": "the leave-one-patient-out jackknife covariance of "
                                     "the fixed effects (R mmrm's Empirical-Jackknife)"}


def describe(fit: TrajectoryResult) -> str:
    """A short name of the model ("MMRM (unstructured covariance)")."""
    name = NAMES[fit.model]
    if not fit.covariance:
        return name
    per_arm = ", per arm" if fit.covariance_options.by_arm else ""
    return f"{name} ({fit.covariance} covariance{per_arm})"


def adjusted_for(fit: TrajectoryResult) -> list[str]:
    """What the model adjusts for, as ``adjust=`` named it (``["baseline", "age"]``)."""
    return (["baseline"] if fit.frame.adjust_baseline else []) + list(fit.frame.covariates)


def formula(fit: TrajectoryResult) -> str:
    """The model as a formula."""
    terms = "".join(f"{a} + " for a in adjusted_for(fit))
    inter = " + baseline:factor(visit)" if fit.frame.baseline_by_visit else ""
    if fit.model == "mmrm":
        return f"y ~ {terms}arm * factor(visit){inter}, {covariance_phrase(fit)}"
    time = "factor(visit)" if fit.model == "session_means" else "time"
    return f"y ~ {terms}arm * {time}{inter} + {RANDOM[fit.model]}"


#: How each time scale of the linear-time models is described.
TIME_SCALES = {"week": "weeks since baseline (the assessment's day / 7)",
               "day": "days since baseline",
               "visit": "the visit index (0, 1, 2, ...), not the time since baseline"}


def primary_sentence(fit: TrajectoryResult) -> str:
    """The pre-specified primary time point, or that none was declared."""
    if fit.primary_visit is None:
        return ("No primary time point was pre-specified: every visit is reported alike "
                "and none is singled out.")
    return (f"Primary time point: visit {fit.primary_visit}, pre-specified (not chosen "
            "from the data).")


def methods_notes(fit: TrajectoryResult) -> tuple[str, ...]:
    """The model (its covariance or time scale), estimation, missing data, df, reference
    arm and primary time point, the covariance structure chosen by a pre-specified order
    (:mod:`.covariance_order`); then the fit's notes."""
    df = DF_NAMES.get(fit.df_method, fit.df_method)
    notes = [
        f"Model: {formula(fit)}; REML on every available observation (missing at "
        f"random); {fit.n_patients} patients, {fit.n_observations} observations; converged: "
        f"{'yes' if fit.converged else 'NO'}.",
        f"{fit.conf_level:.0%} CIs and tests with {df} degrees of freedom; reference arm "
        f"{fit.reference_arm} (differences are arm minus {fit.reference_arm}).",
        primary_sentence(fit),
    ]
    if fit.model in ("random_intercept", "random_slope"):
        notes.insert(1, f"Time: {TIME_SCALES[fit.frame.time]}.")
    if fit.vcov_method in VCOV_NAMES:
        df_rule = ("" if fit.df_method != "satterthwaite" else
                   ", with Satterthwaite df for it as R mmrm computes them (Bell & McCaffrey "
                   "2002)")
        notes.insert(1, f"Standard errors, CIs and tests use {VCOV_NAMES[fit.vcov_method]}, "
                        f"robust to a misspecified covariance structure{df_rule}.")
    order = order_sentence(fit.covariance_attempts)
    if order:
        notes.insert(1, order)
    if fit.frame.adjust_baseline:
        notes.append("The visit-0 value is a covariate; visits >= 1 are modelled"
                     + ("; its effect may differ by visit (baseline-by-visit interaction, "
                        "Mallinckrodt et al. 2008), and marginal means hold it at its mean."
                        if fit.frame.baseline_by_visit else "."))
    factors = [c for c in fit.frame.covariates if c in fit.frame.factor_levels]
    if factors:
        notes.append(f"Factor covariate(s) {', '.join(factors)}: marginal means weight "
                     "their levels equally (as emmeans and SAS's LSMEANS).")
    notes += [n[0].upper() + n[1:] + "." for n in fit.notes]
    return tuple(notes)
