"""The trajectory part of a run: every configured model fitted once, its tables and figures."""

from __future__ import annotations

import warnings

import pandas as pd

from ..cohort import Cohort
from ..config import AnalysisOptions
from ..instruments import get_instrument
from ..models.covariance_order import order_sentence
from ..models.diagnostics import OUTLIER_LIMIT
from ..models.methods_text import DF_NAMES, describe, methods_notes
from ..models.trajectory import TrajectoryResult, fit_trajectory
from ..plots import plot_arm_differences, plot_trajectory
from ..tables import TableResult
from .sections import (
    FAILURES,
    Diagnostic,
    NamedFigure,
    NamedTable,
    Section,
    p_text,
    unique,
)
from .within_session import add_within_session

#: Height (mm) of the rows of a legend above the trajectory figure: text that keeps its
#: height when the figure is drawn wider (``NamedFigure.height_for``).
LEGEND_MM = 10.0

#: The columns of the difference table as printed (the CSV keeps every column).
DIFFERENCE_COLUMNS = ("arm", "reference", "visit", "estimate", "ci_lower", "ci_upper",
                      "p_value", "std_error", "df")


def _tables(fit: TrajectoryResult, stem: str, what: str, cumulative, unit: str = ""):
    notes = methods_notes(fit)
    conf = fit.conf_level
    scale = get_instrument(fit.outcome).digits   # 1 decimal on a 0-100 mm scale

    def table(frame: pd.DataFrame, suffix: str, title: str, digits: int = scale,
              unit: str = "", columns: tuple[str, ...] = ()) -> NamedTable:
        frame = frame.reset_index(drop=True)
        return NamedTable(f"{stem}_{suffix}", TableResult(
            frame, title=f"{what}: {title}", notes=notes, conf_level=conf, digits=digits,
            unit=unit, columns=tuple(c for c in columns if c in frame)))

    out = [table(fit.comparison, "arm_difference", "difference between arms per visit",
                 unit=unit, columns=DIFFERENCE_COLUMNS),
           table(fit.marginal_means, "marginal_means", "marginal (least-squares) means",
                 unit=unit),
           table(fit.fixed_effects, "fixed_effects", "fixed effects", digits=3),
           table(fit.type3, "type3", "Type III tests of fixed effects", digits=3),
           table(fit.variance_components, "variance_components", "variance components",
                 digits=3)]
    if cumulative:
        out.append(table(pd.concat(cumulative, ignore_index=True), "cumulative_effect",
                         "change from baseline after the sessions given (cumulative effect)",
                         unit=unit))
    return out


def _model(cohort: Cohort, options: AnalysisOptions, model: str, progress: bool):
    """Fit one model: its result, items (tables and figures) and diagnostic."""
    t = options.trajectory
    inst = get_instrument(options.outcome)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fit = fit_trajectory(cohort, options.outcome, model=model, adjust=t.adjust,
                             time=t.time,
                             baseline_by_visit=t.baseline_by_visit_for(model),
                             missing_baseline=t.missing_baseline,
                             covariance=t.covariance,
                             reference_arm=options.reference_arm,
                             conf_level=options.conf_level, df=t.df_for(model),
                             primary_visit=options.primary_visit,
                             covariance_by_arm=t.covariance_by_arm and model == "mmrm",
                             vcov=t.vcov_for(model))
        cumulative = [fit.cumulative_effect(after) for after in t.cumulative_after]
    what = f"{inst.label}, {describe(fit)}"
    tables = _tables(fit, f"trajectory_{model}", what, cumulative, inst.units)
    n_rows = len(fit.comparison) + fit.comparison["arm"].nunique()
    items = [tables[0],
             NamedFigure(f"trajectory_{model}",
                         f"{what}: marginal means by arm and visit with {fit.conf_level:.0%} "
                         "CIs (lines and bands) and observed means with their "
                         f"{fit.conf_level:.0%} CIs (open markers, beside), each "
                         "visit at its mean time since baseline; shaded: follow-up visits "
                         "after the last treatment session.",
                         lambda ax, f=fit: plot_trajectory(f, ax=ax), 70.0,
                         fixed_mm=LEGEND_MM),
             NamedFigure(f"arm_differences_{model}",
                         f"{what}: difference between arms per visit with "
                         f"{fit.conf_level:.0%} CIs; the pre-specified primary visit "
                         f"(visit {fit.primary_visit}) is labelled.",
                         lambda ax, f=fit: plot_arm_differences(f, ax=ax),
                         max(60.0, 20.0 + 5.0 * n_rows), fixed_mm=5.0 * n_rows),
             *tables[1:]]
    order = order_sentence(fit.covariance_attempts)
    diagnostic = Diagnostic(
        f"trajectory {model}", fit.converged,
        f"{fit.n_patients} patients, {fit.n_observations} observations; REML "
        f"log-likelihood {fit.loglik:.3f}, AIC {fit.aic:.2f}, BIC {fit.bic:.2f}"
        + (f". {order}" if order else ""),
        unique([*fit.warnings, *(w.message for w in caught)]))
    return fit, items, diagnostic


def trajectory_section(cohort: Cohort, options: AnalysisOptions, *, step,
                       progress: bool = True) -> Section:
    """Fit every model of ``options.trajectory`` once; ``step(message)`` reports progress.

    A model that fails with one of :data:`~.sections.FAILURES` is listed in
    ``failures`` while the other models are reported (when every model fails, the
    section has only its failures).
    """
    t = options.trajectory
    inst = get_instrument(options.outcome)
    section = Section("trajectory", f"Trajectory of {inst.label} across sessions")
    fits = {}
    for model in t.models:
        step(f"trajectory: fitting the {model} model")
        try:
            fit, items, diagnostic = _model(cohort, options, model, progress)
        except FAILURES as exc:
            section.fail(exc, f"the {model} model")
            continue
        fits[model] = fit
        section.results[f"trajectory_{model}"] = fit
        section.items += items
        section.diagnostics.append(diagnostic)
    add_within_session(section, cohort, options)   # pre- and post-needling ratings only
    if not fits:  # every model failed: the failures say why
        return section
    primary = fits.get("mmrm") or next(iter(fits.values()))
    section.headline.append(headline(primary))
    section.appendix.append(diagnostics_figure(primary))
    return section


def diagnostics_figure(fit: TrajectoryResult) -> NamedFigure:
    """The model checks of ``fit`` (:meth:`TrajectoryResult.diagnostics`) as one figure."""
    diag = fit.diagnostics()
    s = diag.residuals["scaled_residual"]
    far = int((s.abs() > OUTLIER_LIMIT).sum())
    return NamedFigure(
        f"diagnostics_{fit.model}",
        f"Model checks of the {describe(fit)} of {fit.outcome} (SAMPL; Mallinckrodt et al. "
        "2008). Left: scaled (Cholesky-decorrelated) residuals against fitted values "
        f"(SD {s.std():.2f}, 1 under the model; {far} beyond +/-{OUTLIER_LIMIT:g}). "
        "Middle: normal QQ plot of the scaled residuals, one colour per visit. Right: "
        "observed (pairwise-complete) against fitted correlation of each pair of visits; "
        "under dropout that depends on earlier values the observed ones are biased, the "
        "fitted ones are not.",
        lambda ax, d=diag: d.plot(ax=ax), 70.0)


def headline(fit: TrajectoryResult, visit: int | None = None) -> str:
    """The arm difference at ``visit`` (default the fit's pre-specified primary visit),
    as one sentence naming the visit, the model and the df method.

    Raises
    ------
    AnalysisError
        When no visit is given and the fit has no primary visit (never inferred).
    """
    inst = get_instrument(fit.outcome)
    rows = fit.primary(visit)
    visit = int(rows["visit"].iloc[0])
    what = ("the pre-specified primary visit" if visit == fit.primary_visit
            else "a visit asked for, not the pre-specified primary visit")
    parts = [f"{r.arm} minus {r.reference} {r.estimate:.1f} {inst.units} "
             f"({fit.conf_level:.0%} CI {r.ci_lower:.1f} to {r.ci_upper:.1f}; "
             f"{p_text(r.p_value)})"
             for r in rows.itertuples()]
    df = DF_NAMES.get(fit.df_method, fit.df_method)
    return (f"{inst.label} at visit {visit} ({what}), {describe(fit)}, {df} df: "
            + "; ".join(parts))
