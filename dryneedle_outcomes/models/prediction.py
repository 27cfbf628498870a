"""Predictions from a trajectory fit: a patient's missing visits given the observed ones.

:func:`predict_trajectory` is :meth:`TrajectoryResult.predict
<dryneedle_outcomes.models.trajectory.TrajectoryResult.predict>`. With
``conditional=True`` (MMRM only) each missing visit of a patient is predicted from that
patient's observed visits: the conditional mean of the fitted multivariate normal
(SAS PROC MIXED ``OUTP=`` for a missing response; R mmrm's ``predict(conditional =
TRUE)``), computed by :func:`~dryneedle_outcomes.stats.mixed.prediction.conditional_predict`.
An observed visit is returned as observed, with zero variance (as mmrm; SAS's ``OUTP=``
gives the fitted mean there, which is ``conditional=False``). With ``conditional=False``
every row gets the population mean ``x beta`` (SAS ``OUTPM=``).

Intervals
---------
``interval="prediction"``: for the value itself, with standard error
``sqrt(C + l V l')`` (the conditional variance given the observed visits, plus the
variance from estimating the fixed effects; ``Sigma[t, t] + x V x'`` when marginal) and
normal quantiles, as mmrm's ``predict(interval = "prediction")`` (the estimated
covariance is treated as known: the plug-in prediction variance of SAS's
``DDFM=SATTERTHWAITE`` listing). ``interval="confidence"``: for the (conditional) mean,
with standard error ``sqrt(l V l')`` and t quantiles with the fit's df method
(Satterthwaite or Kenward-Roger df of ``l beta``), as the marginal means. ``V`` is the
Kenward-Roger adjusted covariance of the fixed effects when the fit used
``df="kenward_roger"`` (as SAS's ``OUTPM=`` under ``DDFM=KR``), else the model-based one.
Under ``DDFM=KR`` SAS also adds to the prediction SE of a missing response a term for the
uncertainty of the estimated covariance parameters; that term is not included here
(on mmrm's ``fev_data`` SAS's SEs are larger by 0.3-0.9% on average, at most 1.6%).

Validated against SAS PROC MIXED on mmrm's ``fev_data`` through the engine
(``tests/test_predict_sas.py``); the analysis layer is checked in
``tests/test_trajectory_predict.py``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from scipy import stats

from ..errors import AnalysisError
from ..stats.checks import check_conf_level
from ..stats.mixed.prediction import conditional_predict
from .design import FACTOR_MODELS, design_matrix, time_terms

if TYPE_CHECKING:
    from .trajectory import TrajectoryResult

INTERVALS = ("prediction", "confidence", None)


def _fitted_grid(result: TrajectoryResult) -> pd.DataFrame:
    """Every modelled patient at every modelled visit, with the observed outcome (or NaN)."""
    frame = result.frame
    d = frame.data
    per_patient = ["patient_id", "arm"] + (["baseline"] if frame.adjust_baseline else []) \
        + list(frame.covariates)
    patients = d.drop_duplicates("patient_id")[per_patient]
    grid = patients.merge(pd.DataFrame({"visit": frame.visits}), how="cross")
    grid = grid.merge(d[["patient_id", "visit", "time", "y"]], on=["patient_id", "visit"],
                      how="left", validate="one_to_one")
    mean_time = d.groupby("visit")["time"].mean()
    grid["time"] = grid["time"].fillna(grid["visit"].map(mean_time))
    return grid.sort_values(["patient_id", "visit"], kind="stable").reset_index(drop=True)


def _rows_from(result: TrajectoryResult, newdata: pd.DataFrame, conditional: bool):
    """``newdata`` checked and completed (``time``; ``y`` from the outcome column)."""
    frame = result.frame
    rows = newdata.copy()
    needed = (["patient_id"] if conditional else []) + ["arm", "visit"] \
        + (["baseline"] if frame.adjust_baseline else []) + list(frame.covariates)
    missing = [c for c in needed if c not in rows]
    if missing:
        raise AnalysisError(f"newdata lacks column(s) {missing}; it needs {needed} (and the "
                            f"outcome {frame.outcome!r} where observed)")
    for col in needed:
        bad = rows[col].isna()
        if bad.any():
            raise AnalysisError(f"newdata has {int(bad.sum())} missing value(s) in {col!r} "
                                f"(first at index {rows.index[bad][0]!r})")
    unknown = set(rows["arm"].astype(str)) - set(frame.arms)
    if unknown:
        raise AnalysisError(f"unknown arm(s) {sorted(unknown)}; arms: {frame.arms}")
    if result.model in FACTOR_MODELS:
        bad = set(rows["visit"]) - set(frame.visits)
        if bad:
            raise AnalysisError(f"visit(s) {sorted(bad)} were not modelled; a "
                                f"{result.model} model predicts only {frame.visits}")
    if "time" not in rows:
        # the visit's mean time over the modelled rows, as the marginal means place it
        # (the visit itself with time="visit"); a visit not modelled needs its time given
        if frame.time == "visit":
            rows["time"] = rows["visit"].astype(float)
        else:
            mean_time = frame.data.groupby("visit")["time"].mean()
            rows["time"] = rows["visit"].map(mean_time).astype(float)
            unknown = sorted(set(rows.loc[rows["time"].isna(), "visit"]))
            if unknown:
                raise AnalysisError(
                    f"visit(s) {unknown} were not modelled, so their time is unknown; "
                    f"give newdata a 'time' column ({frame.time}s since baseline)")
    outcome = frame.outcome if frame.outcome in rows else ("y" if "y" in rows else None)
    rows["y"] = rows[outcome].astype(float) if outcome else np.nan
    return rows


def _marginal_variance(result: TrajectoryResult, rows: pd.DataFrame) -> np.ndarray:
    """Variance of one outcome value at each row's visit/time under the fitted model."""
    fit, frame = result.fit, result.frame
    if result.model == "mmrm":
        Sigma = fit.extra["Sigma"]
        codes = np.searchsorted(np.asarray(frame.visits), rows["visit"].to_numpy())
        return np.diag(Sigma)[codes]
    G = np.asarray(fit.extra["G"])
    if G.shape[0] == 1:
        Z = np.ones((len(rows), 1))
    else:
        t = time_terms(rows["time"].to_numpy(dtype=float), frame.time_transform)[0]
        Z = np.column_stack([np.ones(len(rows)), t[:, 0]])
    return np.einsum("ij,jk,ik->i", Z, G, Z) + float(fit.extra["sigma2"])


def predict_trajectory(result: TrajectoryResult, newdata: pd.DataFrame | None = None, *,
                       conditional: bool = True, interval: str | None = "prediction",
                       conf_level: float | None = None) -> pd.DataFrame:
    """Predicted outcome per patient and visit; see :meth:`TrajectoryResult.predict`."""
    if interval not in INTERVALS:
        raise AnalysisError(f"interval must be 'prediction', 'confidence' or None, got "
                            f"{interval!r}")
    level = check_conf_level(result.conf_level if conf_level is None else conf_level)
    if conditional and result.model != "mmrm":
        raise AnalysisError(
            f"conditional predictions need the MMRM's covariance over visits; this is a "
            f"{result.model} fit. Refit with model='mmrm', or pass conditional=False for "
            "population-level predictions")
    frame, fit = result.frame, result.fit
    if result.model == "mmrm" and np.shape(fit.extra["Sigma"])[0] != len(frame.visits) \
            and (conditional or interval == "prediction"):
        raise AnalysisError(
            f"predictions that need the covariance over visits are available for one "
            f"covariance over the scheduled visits; this fit's is per arm or spatial "
            f"({result.covariance}). Use conditional=False with interval='confidence' or "
            "None, or refit without covariance_by_arm / with a non-spatial structure")
    rows = _fitted_grid(result) if newdata is None else _rows_from(result, newdata,
                                                                    conditional)
    X, _ = design_matrix(frame, rows, result.model)
    kr = result.kenward_roger
    V = kr.vcov_adjusted if kr is not None else fit.vcov
    y = rows["y"].to_numpy(dtype=float)
    if result.model == "mmrm":
        groups = (pd.factorize(rows["patient_id"])[0] if "patient_id" in rows
                  else np.arange(len(rows)))
        visits = np.searchsorted(np.asarray(frame.visits), rows["visit"].to_numpy())
        pred = conditional_predict(y, X, groups, visits, fit.extra["Sigma"], fit.beta, V,
                                   conditional=conditional)
        est, L = pred.estimate, pred.L
        var_conf, var_pred = pred.var_confidence, pred.var_prediction
    else:
        est, L = X @ fit.beta, X
        var_conf = np.einsum("ij,jk,ik->i", X, V, X)
        var_pred = var_conf + _marginal_variance(result, rows)
    if fit.aliasing is not None and fit.aliasing.any:
        # a row that needs an aliased (dropped) column of the design is not estimable
        bad = ~fit.aliasing.estimable(X)
        est, var_conf, var_pred = (np.where(bad, np.nan, v) for v in (est, var_conf, var_pred))
    observed = np.isfinite(y)
    out = pd.DataFrame({"patient_id": rows["patient_id"].to_numpy() if "patient_id" in rows
                        else None, "arm": rows["arm"].astype(str).to_numpy(),
                        "visit": rows["visit"].to_numpy(), "estimate": est},
                       index=rows.index if newdata is not None else None)
    if interval == "confidence":
        out["std_error"] = np.sqrt(var_conf)
        res = kr.contrast(L) if kr is not None else fit.contrast(L)
        out["df"] = res["df"]
        q = stats.t.ppf(0.5 + level / 2.0, out["df"].to_numpy())
        q = np.where(out["std_error"].to_numpy() > 0, q, 0.0)  # an observed value: no width
        out["ci_lower"] = est - q * out["std_error"].to_numpy()
        out["ci_upper"] = est + q * out["std_error"].to_numpy()
    else:
        out["std_error"] = np.sqrt(var_pred)
        if interval == "prediction":
            z = stats.norm.ppf(0.5 + level / 2.0)
            out["pi_lower"] = est - z * out["std_error"].to_numpy()
            out["pi_upper"] = est + z * out["std_error"].to_numpy()
    out["observed"] = observed
    return out


__all__ = ["INTERVALS", "predict_trajectory"]
