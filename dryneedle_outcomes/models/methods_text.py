"""What a trajectory fit did, in sentences: the methods notes its tables, summary and the
report print alike.

They were written by the report layer, so ``fit.summary()`` and the notebook said less
than ``report.html``; the analysis now says it once (SAMPL: state the model, the
estimation method, how missing data were handled and the degrees of freedom used).

Examples
--------
>>> import dryneedle_outcomes as dno
>>> fit = dno.fit_trajectory(dno.simulate_cohort(n_patients=30, seed=2), model="mmrm")
>>> describe(fit)
'MMRM (unstructured covariance)'
>>> methods_notes(fit)[0][:61]
'Model: y ~ baseline + arm * factor(visit), unstructured resid'
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
            "kenward_roger_linear": "Kenward-Roger (linear, SAS's KR(LINEAR))"}


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
    if fit.model == "mmrm":
        return f"y ~ {terms}arm * factor(visit), {covariance_phrase(fit)}"
    time = "factor(visit)" if fit.model == "session_means" else "time"
    return f"y ~ {terms}arm * {time} + {RANDOM[fit.model]}"


def methods_notes(fit: TrajectoryResult) -> tuple[str, ...]:
    """The model, estimation, missing data, df and reference arm, the covariance structure
    chosen by a pre-specified order (:mod:`.covariance_order`); then the fit's notes."""
    df = DF_NAMES.get(fit.df_method, fit.df_method)
    notes = [
        f"Model: {formula(fit)}; REML on every available observation (missing at "
        f"random); {fit.n_patients} patients, {fit.n_observations} observations; converged: "
        f"{'yes' if fit.converged else 'NO'}.",
        f"{fit.conf_level:.0%} CIs and tests with {df} degrees of freedom; reference arm "
        f"{fit.reference_arm} (differences are arm minus {fit.reference_arm}).",
    ]
    order = order_sentence(fit.covariance_attempts)
    if order:
        notes.insert(1, order)
    if fit.frame.adjust_baseline:
        notes.append("The visit-0 value is a covariate; visits >= 1 are modelled.")
    notes += [n[0].upper() + n[1:] + "." for n in fit.notes]
    return tuple(notes)
