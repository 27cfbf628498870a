"""Therapist (clinician) clustering at the primary visit: a variance component and its ICC.

In a trial where several therapists deliver the needling, patients treated by the same
therapist may have correlated outcomes (Roberts & Roberts 2005, Clin Trials 2:152-62;
Walters 2010, BMC Med Res Methodol 10:4, on therapist effects in trials of physical
therapies; CONSORT extension for non-pharmacologic treatments, Boutron et al. 2017,
item on care providers). This module estimates, at the pre-specified visit,

    y_visit ~ baseline + arm + (1 | therapist)

by REML (the package's LMM engine, as ``lme4::lmer``), and reports the therapist
variance, the residual variance, the intraclass correlation
``ICC = var(therapist) / (var(therapist) + var(residual))`` and the arm difference
adjusted for the clustering (Satterthwaite df). What it does not do: model therapist
effects in the repeated-measures MMRM (a therapist random effect beside an
unstructured residual covariance), allow therapist-by-arm variance (therapists nested
in arms), or handle a therapist who changes between visits (the patients table's
column, one therapist per patient, is used). Validated against ``lme4::lmer``:
``tests/reference/subgroups/`` (``make_clustering.R``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..cohort import Cohort
from ..errors import AnalysisError
from ..stats.mixed.lmm import fit_lmm
from .design import ModelFrame

CLUSTERING_COLUMNS = ["cluster", "visit", "n_clusters", "n_patients", "variance_cluster",
                      "variance_residual", "icc", "arm", "reference", "estimate",
                      "std_error", "df", "ci_lower", "ci_upper", "p_value", "converged"]


def therapist_clustering(frame: ModelFrame, cohort: Cohort, cluster: str, visit: int,
                         conf_level: float) -> tuple[pd.DataFrame, list[str], list[str]]:
    """The therapist variance component and ICC at ``visit`` (module docstring).

    Returns
    -------
    table, notes, warnings
        ``table``: one row per non-reference arm (:data:`CLUSTERING_COLUMNS`).
    """
    if cluster not in cohort.patients:
        raise AnalysisError(f"cluster {cluster!r} is not a column of cohort.patients; "
                            f"columns: {', '.join(map(str, cohort.patients.columns))}")
    d = frame.data.loc[frame.data["visit"] == visit].copy()
    d["_cluster"] = d["patient_id"].map(cohort.patients.set_index("patient_id")[cluster])
    notes, messages = [], []
    missing = d["_cluster"].isna()
    if missing.any():
        notes.append(f"{int(missing.sum())} patient(s) without a {cluster} are not in the "
                     "therapist clustering model.")
        d = d.loc[~missing]   # patients without a therapist: counted in the note above
    groups, names = pd.factorize(d["_cluster"].astype(str), sort=True)
    if len(names) < 2:
        raise AnalysisError(f"therapist clustering needs two or more values of {cluster} at "
                            f"visit {visit}; found {len(names)}")
    cols, x_names = [np.ones(len(d))], ["(Intercept)"]
    if frame.adjust_baseline:
        cols.append(d["baseline"].to_numpy(dtype=float))
        x_names.append("baseline")
    for arm in frame.arms[1:]:
        cols.append((d["arm"].astype(str) == arm).to_numpy(dtype=float))
        x_names.append(f"arm[{arm}]")
    X = np.column_stack(cols)
    fit = fit_lmm(d["y"].to_numpy(dtype=float), X, np.ones((len(d), 1)), groups,
                  x_names=x_names, z_names=["(Intercept)"])
    messages += [f"therapist clustering: {m}" for m in fit.messages]
    v_c = float(fit.extra["G"][0, 0])
    v_e = float(fit.extra["sigma2"])
    k = len(frame.arms) - 1
    L = np.zeros((k, X.shape[1]))
    L[np.arange(k), X.shape[1] - k + np.arange(k)] = 1.0
    res = fit.contrast(L, conf_level=conf_level)
    table = pd.DataFrame({
        "cluster": cluster, "visit": visit, "n_clusters": len(names),
        "n_patients": len(d), "variance_cluster": v_c, "variance_residual": v_e,
        "icc": v_c / (v_c + v_e) if v_c + v_e > 0 else np.nan,
        "arm": frame.arms[1:], "reference": frame.arms[0],
        "estimate": res["estimate"], "std_error": res["std_error"], "df": res["df"],
        "ci_lower": res["ci_lower"], "ci_upper": res["ci_upper"],
        "p_value": res["p_value"], "converged": bool(fit.converged)})
    notes.append(f"Therapist clustering: {cluster} as a random intercept in a linear mixed "
                 f"model of the visit-{visit} value (REML), with the baseline and arm; ICC = "
                 "therapist variance / (therapist + residual variance). Not modelled: "
                 "therapist effects across visits in the MMRM, or therapists nested in "
                 "arms.")
    return table[CLUSTERING_COLUMNS], notes, messages


__all__ = ["CLUSTERING_COLUMNS", "therapist_clustering"]
