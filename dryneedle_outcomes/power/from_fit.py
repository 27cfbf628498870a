"""A :class:`~.design.TrialDesign` from a fitted MMRM: variability and dropout from data,
the effect from the planners.

One job: read, from a ``fit_trajectory(model="mmrm")`` result, what an earlier cohort can
tell a planner -- the SDs and correlations of the outcome over baseline and visits, the
baseline mean, the proportion missing by each visit -- and combine them with an *assumed*
effect. The effect is required: the effect observed in the cohort is not a default,
because power computed from it is post-hoc power, a function of the p-value already seen
(Hoenig & Heisey 2001, Am Stat 55:19-24), and planning on it carries the cohort's
estimation error (and its winner's curse) into the next trial's sample size.
"""

from __future__ import annotations

import numpy as np

from ..errors import AnalysisError
from .design import TrialDesign


def joint_covariance(Sigma: np.ndarray, slopes: np.ndarray, var_baseline: float) -> np.ndarray:
    """Covariance over (baseline, visits) implied by an MMRM conditional on baseline.

    With ``Y_t = a_t + b_t B + e_t``, ``Var(B) = v`` and ``Cov(e) = Sigma``:
    ``Cov(B, Y_t) = b_t v`` and ``Cov(Y_s, Y_t) = b_s b_t v + Sigma[s, t]``
    (positive definite whenever ``Sigma`` is and ``v > 0``).

    Examples
    --------
    >>> import numpy as np
    >>> joint_covariance(np.array([[0.75]]), np.array([0.5]), 1.0).tolist()
    [[1.0, 0.5], [0.5, 1.0]]
    """
    T = len(slopes)
    C = np.empty((T + 1, T + 1))
    C[0, 0] = var_baseline
    C[0, 1:] = C[1:, 0] = slopes * var_baseline
    C[1:, 1:] = np.outer(slopes, slopes) * var_baseline + Sigma
    return C


def observed_dropout(result) -> np.ndarray:
    """Cumulative proportion of a fit's patients without a modelled value by each visit.

    The proportion missing at each visit, made monotone by a running maximum (a patient
    who misses a visit and returns is simulated as a dropout: conservative), capped at
    0.99 (:class:`~.design.TrialDesign` needs proportions below 1).

    Examples
    --------
    >>> import dryneedle_outcomes as dno
    >>> fit = dno.fit_trajectory(dno.simulate_cohort(n_patients=40, seed=2))
    >>> drop = observed_dropout(fit)
    >>> len(drop) == len(fit.frame.visits), bool((drop[1:] >= drop[:-1]).all())
    (True, True)
    """
    d = result.frame.data
    visits = list(result.frame.visits)
    n = d["patient_id"].nunique()
    seen = d.groupby("visit")["patient_id"].nunique().reindex(visits, fill_value=0)
    return np.minimum(np.maximum.accumulate(1.0 - seen.to_numpy() / n), 0.99)


def baseline_variance(frame) -> float:
    """Variance of the baseline over a model frame's patients, given its covariates.

    Without covariates, the sample variance (``ddof=1``); with patient covariates (a
    factor by indicators of its levels after the first, a number as it is), the residual
    mean square of the baseline's least-squares regression on them with an intercept:
    the baseline's variance within a covariate pattern, as the MMRM's other terms are.
    """
    data = frame.data.drop_duplicates("patient_id")
    base = data["baseline"].to_numpy(dtype=float)
    cols = [np.ones(len(data))]
    for cov in frame.covariates:
        if cov in frame.factor_levels:
            values = data[cov].astype(str)
            cols += [(values == lev).to_numpy(dtype=float)
                     for lev in frame.factor_levels[cov][1:]]
        else:
            cols.append(data[cov].to_numpy(dtype=float))
    X = np.column_stack(cols)
    coef, *_ = np.linalg.lstsq(X, base, rcond=None)
    rank = np.linalg.matrix_rank(X)
    if len(base) - rank < 2:
        raise AnalysisError("design() needs more patients than covariate columns to "
                            "estimate the baseline's variance")
    resid = base - X @ coef
    return float(resid @ resid / (len(base) - rank))


def design_from_fit(result, *, effect, shape: str = "linear", allocation: float = 1.0,
                    dropout=None, mechanism: str = "mcar",
                    dropout_slope: float = 1.0) -> TrialDesign:
    """The :class:`~.design.TrialDesign` of a baseline-adjusted MMRM fit, with an assumed
    effect (see the module docstring; ``TrajectoryResult.design`` calls this).

    Visits are the fit's visit numbers; ``sd`` and ``correlation`` over baseline and
    visits combine the fitted residual covariance, the fitted baseline slopes per visit
    and the sample variance of the baseline (:func:`joint_covariance`). ``dropout`` is,
    by default, the dropout observed in the fit (:func:`observed_dropout`), or the
    planned trial's: one number (the proportion missing by the last visit, reached
    linearly in the visit index) or one cumulative proportion per visit, as
    :class:`~.design.TrialDesign` takes it; ``mechanism`` and ``dropout_slope`` as there
    (MCAR by default). The planned dropout changes neither the SDs nor the correlations.
    ``instrument`` is the fit's outcome (its direction and MCID for the responder and
    time-to-relief analyses).

    A fit adjusted for patient covariates besides the baseline (e.g. the instrument of a
    pooled outcome) gives the SDs and correlations *given* those covariates: the fitted
    residual covariance is already conditional on them, and the baseline's variance is
    its residual variance on them (:func:`baseline_variance`). The design then describes
    a trial analysed with the same adjustment (as ICH E9 asks of the covariates adjusted
    for, pre-specified); the simulated analysis adjusts for the baseline only, which
    ignores the one residual degree of freedom each covariate takes.
    """
    if effect is None:
        raise AnalysisError(
            "effect= is required: the target difference in mean change between the arms, "
            "important and realistic (DELTA2, Cook et al. 2018), not an instrument's "
            "individual-level MCID. The effect observed in this cohort is not used by "
            "default: power from an observed effect is post-hoc power and misleading "
            "(Hoenig & Heisey 2001)")
    frame = result.frame
    if result.model != "mmrm" or not frame.adjust_baseline:
        raise AnalysisError("design() needs a fit_trajectory(model='mmrm') fit adjusted for "
                            "the baseline")
    if result.covariance_options.by_arm:
        raise AnalysisError("design() needs one covariance for both arms "
                            "(covariance_by_arm=False)")
    fe = result.fixed_effects.set_index("term")["estimate"]
    visits = list(frame.visits)
    slopes = np.array([fe["baseline"] + (fe.get(f"baseline:visit[{v}]", 0.0) if i else 0.0)
                       for i, v in enumerate(visits)])
    Sigma = np.asarray(result.fit.extra["Sigma"], dtype=float)
    if Sigma.shape != (len(visits), len(visits)):
        raise AnalysisError("design() needs the covariance over visits (not over spatial "
                            "coordinates)")
    d = frame.data
    base = d.groupby("patient_id", sort=False)["baseline"].first()
    C = joint_covariance(Sigma, slopes, baseline_variance(frame))
    sd = np.sqrt(np.diag(C))
    return TrialDesign(visits=visits, effect=effect, shape=shape, sd=sd,
                       correlation=C / np.outer(sd, sd), baseline_mean=float(base.mean()),
                       dropout=observed_dropout(result) if dropout is None else dropout,
                       mechanism=mechanism, dropout_slope=dropout_slope,
                       allocation=allocation, instrument=result.outcome)


__all__ = ["baseline_variance", "design_from_fit", "joint_covariance", "observed_dropout"]
