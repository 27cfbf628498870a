"""From a Cohort to the rows and design matrices a trajectory model is fitted to.

Baseline handling follows trials: with ``adjust=("baseline", ...)`` the visit-0
value is a covariate (ANCOVA style) and visits >= 1 are modelled; with
``adjust=()`` every visit, baseline included, is modelled. Every patient or row
left out of the model is listed with the reason in ``ModelFrame.excluded``:
nothing is dropped silently.

Column order of the fixed effects follows R's ``y ~ baseline + covariates + arm * time``
(with ``+ baseline:visit`` when the baseline-by-visit interaction is modelled) so that
coefficients line up with ``lme4``/``nlme`` fits of that formula.

Covariates named in ``adjust`` are patient columns: numeric ones enter linearly, others
(text, categorical, boolean: a stratification factor such as ``site``) as a factor with
treatment coding against their first level (sorted, or the category order of a
categorical column), as R's default contrasts.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..arms import CONTROL_PHRASES, CONTROL_WORDS, is_control_arm  # noqa: F401 (re-exported)
from ..cohort import Cohort
from ..errors import AnalysisError
from ..instruments import get_instrument

LINEAR_MODELS = ("random_intercept", "random_slope")
FACTOR_MODELS = ("session_means", "mmrm")


@dataclass
class ModelFrame:
    """Rows modelled, with everything needed to rebuild design rows for any grid."""

    data: pd.DataFrame            # patient_id, arm, visit, time, y, baseline?, covariates
    excluded: pd.DataFrame        # patient_id, rows, reason
    outcome: str
    arms: list[str]               # reference first
    visits: list[int]             # visits modelled, sorted
    adjust_baseline: bool
    covariates: list[str]
    factor_levels: dict[str, list] = field(default_factory=dict)
    time: str = "visit"
    time_transform: object = None
    n_missing_outcome: int = 0
    visit_days: dict[int, float] = field(default_factory=dict)  # mean day of each visit
    session_visits: list[int] | None = None  # treatment sessions (None: not recorded)
    baseline_by_visit: bool = False
    # patients whose missing baseline was imputed (missing_baseline="mean"), and the value
    imputed_baseline: list = field(default_factory=list)
    baseline_mean: float | None = None




def choose_reference(arms: list[str], reference_arm: str | None) -> str:
    """The reference (control) arm: given, else the first arm whose name says it is a
    control (:func:`is_control_arm`), else the last arm."""
    if reference_arm is not None:
        if reference_arm not in arms:
            raise AnalysisError(f"reference_arm {reference_arm!r} is not an arm of this "
                                f"cohort; arms: {', '.join(arms)}")
        return reference_arm
    for arm in arms:
        if is_control_arm(arm):
            return arm
    return arms[-1]


def arms_without_data(arms: list[str], reference: str, arms_with_data, *,
                      what: str) -> list[str]:
    """Arms (with patients) that ``what`` has no data for; an error if one is the reference.

    The reference arm never changes silently: when the reference (given or chosen)
    has patients but none of them can be analysed, this raises; other arms without
    data are returned so that the caller can name them in its warnings.

    Parameters
    ----------
    arms : list of str
        Arms that have patients, in cohort order.
    reference : str
        The reference arm (from :func:`choose_reference` on ``arms``).
    arms_with_data : iterable of str
        Arms with at least one analysable patient or row.
    what : str
        What is missing, for the messages (e.g. ``"value of first_step_pain"``).

    Returns
    -------
    list of str
        The non-reference arms without data.

    Raises
    ------
    AnalysisError
        When the reference arm has no data.

    Examples
    --------
    >>> arms_without_data(["dry_needling", "sham"], "sham", {"sham"}, what="value")
    ['dry_needling']
    """
    have = {str(a) for a in arms_with_data}
    if reference not in have:
        raise AnalysisError(
            f"the reference arm {reference!r} has patients but no {what}, so nothing can be "
            f"compared with it (arms with data: {', '.join(a for a in arms if a in have) or 'none'}"
            "); check that arm's data or leave its patients out of the cohort")
    return [a for a in arms if a not in have]


#: The time scales of the linear-time models, and the ``day`` divisor of each.
TIME_UNITS = {"week": 7.0, "day": 1.0}


def baseline_by_visit_for(model: str, adjust, baseline_by_visit: bool | None) -> bool:
    """Whether a model has the baseline-by-visit interaction: ``None`` (the default) means
    yes for the visit-factor models (``session_means``, ``mmrm``) with the baseline as a
    covariate, as Mallinckrodt et al. (Drug Inf J 2008;42:303-319) and most statistical
    analysis plans specify it, and no for the linear-time models (no visit factor).

    Examples
    --------
    >>> baseline_by_visit_for("mmrm", ("baseline",), None)
    True
    >>> baseline_by_visit_for("random_slope", ("baseline",), None)
    False
    """
    with_baseline = "baseline" in tuple(adjust or ())
    if baseline_by_visit is None:
        return model in FACTOR_MODELS and with_baseline
    if baseline_by_visit and model not in FACTOR_MODELS:
        raise AnalysisError(f"baseline_by_visit=True needs a visit factor (session_means or "
                            f"mmrm); model={model!r} has a linear time trend")
    return bool(baseline_by_visit)


def model_frame(cohort: Cohort, outcome: str, *, adjust, time: str = "week",
                time_transform=None, reference_arm: str | None = None,
                visits=None, baseline_by_visit: bool = False,
                missing_baseline: str = "exclude") -> ModelFrame:
    """Rows of ``cohort`` for a trajectory model of ``outcome``; see the module docstring.

    ``baseline_by_visit`` adds the baseline-by-visit interaction to the visit-factor
    models (:func:`design_matrix`); it needs ``"baseline"`` in ``adjust``.

    ``missing_baseline`` (with ``"baseline"`` in ``adjust``): ``"exclude"`` leaves a
    patient without a visit-0 value out (listed in ``excluded``); ``"mean"`` keeps them
    with the mean of the observed baselines of every patient of the cohort, both arms
    pooled (White & Thompson 2005, Stat Med 24:993-1007: in a randomised trial the
    baseline is independent of the arm, so mean imputation of a baseline covariate
    gives an unbiased treatment effect with correct type I error; imputing per arm
    would not). The patients imputed are in ``imputed_baseline``.

    ``time`` is the time column of the linear-time models: ``"week"`` (days since
    baseline / 7, the default), ``"day"``, or ``"visit"`` (the visit index). A real time
    scale needs each assessment's ``day`` (derived from the visit dates): when no row
    to be modelled has one, this raises an :class:`AnalysisError` saying how to give the
    dates or to choose ``time="visit"``; rows without a day among rows with one are left
    out and listed in ``excluded`` (so the fit warns). The factor models (``mmrm``,
    ``session_means``) are built with ``time="visit"``: they do not use time.
    """
    get_instrument(outcome)
    if outcome not in cohort.assessments:
        raise AnalysisError(f"outcome {outcome!r} is not in the cohort's assessments; "
                            f"available: {', '.join(cohort.instruments) or 'none'}")
    if time not in ("visit", *TIME_UNITS):
        raise AnalysisError(f"time must be 'visit', 'day' or 'week', got {time!r}")
    adjust = tuple(adjust or ())
    adjust_baseline = "baseline" in adjust
    if baseline_by_visit and not adjust_baseline:
        raise AnalysisError("baseline_by_visit=True needs the baseline as a covariate: add "
                            "\"baseline\" to adjust, or pass baseline_by_visit=False")
    covariates = [c for c in adjust if c != "baseline"]
    if len(set(covariates)) < len(covariates):
        raise AnalysisError(f"adjust names a covariate twice: {list(adjust)}")
    for cov in covariates:
        if cov not in cohort.patients:
            raise AnalysisError(f"covariate {cov!r} is not a column of cohort.patients; "
                                f"columns: {', '.join(map(str, cohort.patients.columns))}")
    arms_present = [str(a) for a in cohort.patients["arm"].cat.categories
                    if (cohort.patients["arm"] == a).any()]
    if len(arms_present) < 2:
        raise AnalysisError("a trajectory model compares arms; this cohort has "
                            f"{len(arms_present)} arm(s) with patients: {arms_present}")
    reference = choose_reference(arms_present, reference_arm)
    arms = [reference] + [a for a in arms_present if a != reference]

    a = cohort.visit_ratings().assessments   # one rating per visit (declared timing rule)
    cols = ["patient_id", "visit", "day", outcome]
    rows = a[cols].rename(columns={outcome: "y"})
    pats = cohort.patients[["patient_id", "arm"] + covariates].copy()
    pats["arm"] = pats["arm"].astype(str)
    rows = rows.merge(pats, on="patient_id", how="left", validate="many_to_one")
    excluded = []

    if missing_baseline not in ("exclude", "mean"):
        raise AnalysisError(f"missing_baseline must be 'exclude' or 'mean', got "
                            f"{missing_baseline!r}")
    imputed: list = []
    baseline_mean = None
    if adjust_baseline:
        base = rows.loc[rows["visit"] == 0, ["patient_id", "y"]].rename(columns={"y": "baseline"})
        rows = rows.merge(base, on="patient_id", how="left")
        no_base = rows["baseline"].isna()
        if missing_baseline == "mean" and no_base.any():
            # the mean over patients (one visit-0 value each) with an observed baseline
            observed = base["baseline"].dropna()  # drops the visit-0 rows without a value
            # only patients with a post-baseline value to model (one without any
            # contributes nothing to the likelihood: still listed as excluded)
            has_y = rows["y"].notna() & (rows["visit"] >= 1)
            fill = no_base & rows["patient_id"].isin(set(rows.loc[has_y, "patient_id"]))
            if len(observed) and fill.any():
                baseline_mean = float(observed.mean())
                imputed = sorted(pd.unique(rows.loc[fill, "patient_id"]).tolist())
                rows.loc[fill, "baseline"] = baseline_mean
                no_base = rows["baseline"].isna()
        if no_base.any():
            lost = rows.loc[no_base].groupby("patient_id").size()
            excluded.append(pd.DataFrame({"patient_id": lost.index, "rows": lost.to_numpy(),
                                          "reason": "no baseline value (visit 0)"}))
        rows = rows.loc[~no_base & (rows["visit"] >= 1)]
    missing_y = rows["y"].isna()
    n_missing = int(missing_y.sum())
    rows = rows.loc[~missing_y]
    if visits is not None:
        keep = rows["visit"].isin(list(visits))
        if (~keep).any():
            lost = rows.loc[~keep].groupby("patient_id").size()
            excluded.append(pd.DataFrame({"patient_id": lost.index, "rows": lost.to_numpy(),
                                          "reason": "visit not among the visits asked for"}))
        rows = rows.loc[keep]
    for cov in covariates:
        miss = rows[cov].isna()
        if miss.any():
            lost = rows.loc[miss].groupby("patient_id").size()
            excluded.append(pd.DataFrame({"patient_id": lost.index, "rows": lost.to_numpy(),
                                          "reason": f"covariate {cov!r} is missing"}))
            rows = rows.loc[~miss]
    if time == "visit":
        rows["time"] = rows["visit"].astype(float)
    else:
        missing_day = rows["day"].isna()
        if missing_day.all() and len(rows):
            raise AnalysisError(
                f"time={time!r} measures time since baseline from each assessment's day, "
                f"but no assessment of {outcome} to be modelled has one (the visit dates "
                "were not given, so no day could be derived). Map the visit date column "
                "(mapping: date = \"...\") or a day column, or pass time='visit' to use the "
                "visit index as the time scale (the methods then say so)")
        if missing_day.any():
            lost = rows.loc[missing_day].groupby("patient_id").size()
            excluded.append(pd.DataFrame({"patient_id": lost.index, "rows": lost.to_numpy(),
                                          "reason": "no day (no dated baseline)"}))
            rows = rows.loc[~missing_day]
        rows["time"] = rows["day"] / TIME_UNITS[time]
    rows = rows.sort_values(["patient_id", "visit"], kind="stable").reset_index(drop=True)
    if rows.empty:
        raise AnalysisError(f"no rows left to model {outcome!r}; see the exclusions")
    what = (f"value of {outcome} at a visit >= 1 with a baseline value" if adjust_baseline
            else f"value of {outcome}")
    empty = arms_without_data(arms, reference, pd.unique(rows["arm"]), what=what)
    if empty:
        raise AnalysisError(
            f"arm(s) {', '.join(map(repr, empty))} have patients but no {what}: a trajectory "
            "model cannot estimate them; check those arms' data or leave their patients out "
            "of the cohort")
    factor_levels = {}
    for cov in covariates:
        if not pd.api.types.is_numeric_dtype(rows[cov]) or pd.api.types.is_bool_dtype(rows[cov]):
            present = set(rows[cov].astype(str))
            if isinstance(rows[cov].dtype, pd.CategoricalDtype):  # the categories' order
                levels = [str(c) for c in rows[cov].cat.categories if str(c) in present]
            else:
                levels = sorted(present)
            rows[cov] = rows[cov].astype(str)
            factor_levels[cov] = levels
    excluded_frame = (pd.concat(excluded, ignore_index=True) if excluded
                      else pd.DataFrame({"patient_id": pd.Series(dtype=object),
                                         "rows": pd.Series(dtype="int64"),
                                         "reason": pd.Series(dtype=object)}))
    modelled = sorted(int(v) for v in pd.unique(rows["visit"]))
    return ModelFrame(
        data=rows, excluded=excluded_frame, outcome=outcome, arms=arms,
        visits=modelled,
        adjust_baseline=adjust_baseline, covariates=covariates, factor_levels=factor_levels,
        time=time, time_transform=time_transform, n_missing_outcome=n_missing,
        visit_days=visit_days(a, [0, *modelled]), session_visits=_sessions(cohort),
        baseline_by_visit=bool(baseline_by_visit),
        imputed_baseline=imputed, baseline_mean=baseline_mean,
    )


def visit_days(assessments: pd.DataFrame, visits) -> dict[int, float]:
    """The mean day since baseline of each of ``visits`` that has dated assessments.

    Where a figure places a visit on a time axis (a visit without any dated assessment
    is left out of the mapping).

    Examples
    --------
    >>> a = pd.DataFrame({"visit": [0, 1, 1, 2], "day": [0.0, 6.0, 8.0, None]})
    >>> visit_days(a, [0, 1, 2])
    {0: 0.0, 1: 7.0}
    """
    rows = assessments.loc[assessments["visit"].isin(list(visits)), ["visit", "day"]]
    means = rows.groupby("visit")["day"].mean()   # over the dated rows of each visit
    return {int(v): float(d) for v, d in means.items() if np.isfinite(d)}


def _sessions(cohort: Cohort) -> list[int] | None:
    """The cohort's treatment sessions (:meth:`Cohort.session_visits`), None when the
    assessments do not record needling (a figure then marks no follow-up)."""
    try:
        return cohort.session_visits()
    except AnalysisError:
        return None


def check_model_estimable(frame: ModelFrame, model: str) -> None:
    """Refuse, in words, a model the modelled rows cannot identify.

    A linear time trend needs two or more visits (the spread of days around one visit
    is not a time course); a random patient effect
    needs some patient with two or more modelled values. (A cohort with baseline and
    a single post-baseline visit, modelled with baseline as a covariate, has
    neither: ``mmrm`` then is ANCOVA at that visit.)

    Raises
    ------
    AnalysisError
        Naming the model, the outcome and the visits modelled.
    """
    d = frame.data
    visits = ", ".join(map(str, frame.visits))
    if model in LINEAR_MODELS and len(frame.visits) < 2:   # not days within one visit
        raise AnalysisError(
            f"model={model!r} fits a linear trend over time, but every modelled value of "
            f"{frame.outcome} is at one time (visit(s) modelled: {visits}); a trend needs two "
            "or more visits. Use model='mmrm' (ANCOVA at a single visit)")
    if model != "mmrm" and not d["patient_id"].duplicated().any():
        raise AnalysisError(
            f"model={model!r} has a random effect per patient, but every patient has a single "
            f"modelled value of {frame.outcome} (visit(s) modelled: {visits}), so the patient "
            "effect cannot be told apart from the residual. Use model='mmrm' (ANCOVA at a "
            "single visit)")


def time_terms(t: np.ndarray, transform) -> tuple[np.ndarray, list[str]]:
    """The columns that carry time in a linear-time model.

    ``None``: ``time``; ``"log"``: ``log(1 + time)`` (relief that flattens out after a
    few sessions); ``("piecewise", knot)``: ``time`` and ``max(time - knot, 0)``.
    """
    t = np.asarray(t, dtype=float)
    if transform is None:
        return t[:, None], ["time"]
    if transform == "log":
        return np.log1p(t)[:, None], ["log1p(time)"]
    if isinstance(transform, (tuple, list)) and len(transform) == 2 \
            and transform[0] == "piecewise":
        knot = float(transform[1])
        return np.column_stack([t, np.maximum(t - knot, 0.0)]), ["time", f"time_after_{knot:g}"]
    raise AnalysisError(f"time_transform must be None, 'log' or ('piecewise', knot), got "
                        f"{transform!r}")


def design_matrix(frame: ModelFrame, rows: pd.DataFrame, model: str,
                  covariate_means: dict | None = None) -> tuple[np.ndarray, list[str]]:
    """Fixed-effects design for ``rows`` (model rows, or a reference grid).

    Columns: intercept, baseline, covariates, arm, time, arm x time, then baseline x
    visit for a visit-factor model with ``frame.baseline_by_visit`` (R's order for
    ``y ~ baseline + covariates + arm * time + baseline:time``). On a reference grid, a
    factor covariate given as ``None`` is averaged with equal weights over its levels (as
    emmeans does), and numeric covariates take ``covariate_means``.
    """
    n = len(rows)
    cols = [np.ones(n)]
    names = ["(Intercept)"]
    if frame.adjust_baseline:
        cols.append(rows["baseline"].to_numpy(dtype=float))
        names.append("baseline")
    for cov in frame.covariates:
        if cov in frame.factor_levels:
            levels = frame.factor_levels[cov]
            values = rows[cov]
            for level in levels[1:]:
                if values.isna().all():  # reference grid: equal weights over levels
                    cols.append(np.full(n, 1.0 / len(levels)))
                else:
                    cols.append((values.astype(str) == level).to_numpy(dtype=float))
                names.append(f"{cov}[{level}]")
        else:
            cols.append(rows[cov].to_numpy(dtype=float))
            names.append(cov)
    arm_cols = []
    for arm in frame.arms[1:]:
        arm_cols.append((rows["arm"].astype(str) == arm).to_numpy(dtype=float))
        cols.append(arm_cols[-1])
        names.append(f"arm[{arm}]")
    if model in LINEAR_MODELS:
        tcols, tnames = time_terms(rows["time"].to_numpy(dtype=float), frame.time_transform)
    elif model in FACTOR_MODELS:
        levels = frame.visits
        visit = rows["visit"].to_numpy()
        tcols = np.column_stack([(visit == v).astype(float) for v in levels[1:]]) \
            if len(levels) > 1 else np.empty((n, 0))
        tnames = [f"visit[{v}]" for v in levels[1:]]
    else:
        raise AnalysisError(f"unknown model {model!r}")
    for j, tname in enumerate(tnames):
        cols.append(tcols[:, j])
        names.append(tname)
    for arm, acol in zip(frame.arms[1:], arm_cols):
        for j, tname in enumerate(tnames):
            cols.append(tcols[:, j] * acol)
            names.append(f"{tname}:arm[{arm}]")
    if frame.baseline_by_visit and model in FACTOR_MODELS:
        base = rows["baseline"].to_numpy(dtype=float)
        for j, tname in enumerate(tnames):
            cols.append(tcols[:, j] * base)
            names.append(f"baseline:{tname}")
    return np.column_stack(cols), names


def random_design(frame: ModelFrame, rows: pd.DataFrame,
                  model: str) -> tuple[np.ndarray, list[str]]:
    """Random-effects design of ``rows``: an intercept, plus the (first) time term for
    random slopes (``(1 | patient)`` or ``(1 + time | patient)``)."""
    if model == "random_slope":
        tcols, _ = time_terms(rows["time"].to_numpy(dtype=float), frame.time_transform)
        return np.column_stack([np.ones(len(rows)), tcols[:, 0]]), ["(Intercept)", "time"]
    return np.ones((len(rows), 1)), ["(Intercept)"]


def reference_grid(frame: ModelFrame, visits=None) -> pd.DataFrame:
    """Every arm x visit with baseline and numeric covariates at their means over the
    modelled rows, and factor covariates averaged with equal weights (emmeans' rule)."""
    visits = frame.visits if visits is None else list(visits)
    grid = pd.MultiIndex.from_product([frame.arms, visits], names=["arm", "visit"])
    out = grid.to_frame(index=False)
    d = frame.data
    if frame.time == "visit":
        out["time"] = out["visit"].astype(float)
    else:
        mean_time = d.groupby("visit")["time"].mean()
        out["time"] = out["visit"].map(mean_time).astype(float)
    if frame.adjust_baseline:
        out["baseline"] = d["baseline"].mean()
    for cov in frame.covariates:
        out[cov] = None if cov in frame.factor_levels else d[cov].astype(float).mean()
    return out
