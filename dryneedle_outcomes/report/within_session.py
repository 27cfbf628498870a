"""The within-session part of the trajectory section: shown only when pain was rated both
before and after the needling of a session (``cohort.has_timing``).

It adds the immediate / carry-over / cumulative effects of
:func:`~dryneedle_outcomes.immediate_cumulative` (the between-arm table and the per-arm
effects), the saw-tooth figure of the pre- and post-needling means per arm, a headline
sentence stating the immediate and cumulative effects, and a diagnostic line.
"""

from __future__ import annotations

import warnings

from ..cohort import Cohort
from ..config import AnalysisOptions
from ..models.immediate_cumulative import immediate_cumulative
from ..plots import plot_saw_tooth
from .sections import FAILURES, Diagnostic, NamedFigure, NamedTable, Section, unique


def add_within_session(section: Section, cohort: Cohort, options: AnalysisOptions) -> None:
    """Append the within-session items to ``section`` when the data have both timings.

    A failure of the model is listed in ``section.failures`` (the rest of the section
    stands); without pre- and post-session ratings nothing is added.
    """
    if not cohort.has_timing:
        return
    t = options.trajectory
    df = t.df_for("mmrm")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            fit = immediate_cumulative(cohort, options.outcome, covariance=t.covariance,
                                       df=df, reference_arm=options.reference_arm,
                                       conf_level=options.conf_level)
        except FAILURES as exc:
            section.fail(exc, "the immediate and cumulative effects model")
            return
    tables = fit.tables()
    section.items += [
        NamedTable("within_session_comparison", tables["comparison"]),
        NamedFigure("within_session_saw_tooth",
                    f"{options.outcome}: model means before (left of each visit) and after "
                    f"(right) needling per arm with {fit.conf_level:.0%} CIs; the drop within "
                    "a session is the immediate effect, the pre-needling values trace the "
                    "cumulative one.",
                    lambda ax, f=fit: plot_saw_tooth(f, ax=ax), 60.0),
        NamedTable("within_session_effects", tables["effects"]),
    ]
    section.headline.append(fit.headline())
    section.diagnostics.append(Diagnostic(
        "immediate and cumulative effects", fit.converged,
        f"{fit.n_patients} patients, {fit.n_observations} ratings over "
        f"{len(fit.occasions)} occasions (visit x timing); {fit.covariance} covariance; REML "
        f"log-likelihood {fit.loglik:.3f}",
        unique([*fit.warnings, *(str(w.message) for w in caught)])))
