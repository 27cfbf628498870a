"""Covariate-adjusted responder comparison: marginal risk difference and ratio by standardisation.

At each visit a logistic regression of responder status on arm and the baseline
covariates named in ``adjust`` (``"baseline"``: the outcome's baseline value; any other
name: a column of ``cohort.patients``, e.g. the stratification factor ``site``) is fitted
to the patients with a baseline value, and the marginal risks of responders per arm are
obtained by standardisation over the whole sample (g-computation); the arms are
compared by the risk difference and the risk ratio with delta-method intervals
(:mod:`dryneedle_outcomes.stats.standardisation`). This is the covariate adjustment the
FDA guidance (2023) describes for binary outcomes (Ge et al. 2011; R packages beeca,
RobinCar): the estimand is the same unconditional difference in proportions as the
unadjusted analysis, estimated more precisely when the covariates are prognostic.

Which patients enter follows ``missing``: with ``"non_responder"`` (composite
strategy) every patient with a baseline, a missing visit counting as non-response; with
``"observed"`` the patients with a value at the visit.

Examples
--------
>>> import dryneedle_outcomes as dno
>>> res = dno.responders(dno.simulate_cohort(n_patients=84, seed=2014), adjust=["baseline"],
...                      visits=[6])
>>> res.adjusted[["visit", "measure", "adjusted_for"]].values.tolist()
[[6, 'risk_difference', 'baseline'], [6, 'risk_ratio', 'baseline']]
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from .errors import AnalysisError
from .results import comparison_frame, empty_comparison
from .stats.standardisation import VARIANCES, standardised_risks

ADJUSTED_EXTRA = ("visit", "std_error", "risk_arm", "risk_reference", "n", "adjusted_for",
                  "variance", "converged")


def covariate_matrix(patients: pd.DataFrame, base: pd.Series, adjust) -> tuple[np.ndarray,
                                                                              list[str]]:
    """The numeric covariate columns for ``adjust`` (one row per patient of ``patients``).

    ``"baseline"`` is ``base`` (aligned with ``patients``); a numeric or boolean patient
    column enters as it is; any other column (``site``, ``sex``) as dummy columns, its
    first level (sorted) the reference. A missing covariate value is an error naming
    the patients, never a silent drop.
    """
    cols, names = [], []
    for name in adjust:
        if name == "baseline":
            values = pd.Series(np.asarray(base, dtype=float), index=patients.index)
        elif name in patients:
            values = patients[name]
        else:
            raise AnalysisError(f"adjust: {name!r} is neither 'baseline' nor a column of "
                                f"cohort.patients ({', '.join(map(str, patients.columns))})")
        missing = values.isna().to_numpy()
        if missing.any():
            ids = patients.loc[missing, "patient_id"].astype(str).tolist()
            raise AnalysisError(f"adjust: {name!r} is missing for {len(ids)} patient(s) "
                                f"({', '.join(ids[:5])}{', ...' if len(ids) > 5 else ''}); "
                                "complete it or leave it out of adjust=")
        if pd.api.types.is_bool_dtype(values) or pd.api.types.is_numeric_dtype(values):
            cols.append(values.to_numpy(dtype=float)[:, None])
            names.append(name)
        else:
            levels = sorted(pd.unique(values.astype(str)))
            codes = values.astype(str).to_numpy()
            if len(levels) > 1:
                cols.append((codes[:, None] == np.asarray(levels[1:])[None, :]).astype(float))
                names += [f"{name}[{lev}]" for lev in levels[1:]]
    if not cols:
        return np.empty((len(patients), 0)), names
    return np.column_stack(cols), names


def adjusted_comparison(patients: pd.DataFrame, post: pd.DataFrame, *, visits, arms,
                        reference: str, adjust, missing: str, conf_level: float,
                        variance: str = "robust") -> tuple[pd.DataFrame, list[str]]:
    """Adjusted risk difference and ratio per visit and arm against ``reference``.

    Parameters
    ----------
    patients : DataFrame
        One row per patient with a baseline value: ``patient_id``, ``arm`` (str),
        ``base`` and the patient columns named in ``adjust``.
    post : DataFrame
        Post-baseline rows: ``patient_id``, ``visit``, ``responder``.
    visits, arms, reference, adjust, missing, conf_level, variance
        As :func:`~dryneedle_outcomes.responders.responders`.

    Returns
    -------
    (DataFrame, list of str)
        The comparison rows (``measure`` risk_difference and risk_ratio) and warnings.
    """
    if variance not in VARIANCES:
        raise AnalysisError(f"variance must be one of {', '.join(VARIANCES)}, got "
                            f"{variance!r}")
    adjust = list(adjust)
    others = [a for a in arms if a != reference]
    if not others:
        return empty_comparison(ADJUSTED_EXTRA), []
    order = [reference, *others]                 # model codes: the reference is 0
    code = {a: i for i, a in enumerate(order)}
    z_all, _ = covariate_matrix(patients, patients["base"], adjust)
    arm_code = patients["arm"].map(code).to_numpy()
    wide = post.pivot_table(index="patient_id", columns="visit", values="responder",
                            aggfunc="max")
    q = stats.norm.ppf(0.5 + conf_level / 2)
    label = " + ".join(adjust)
    rows, messages = [], []
    for visit in visits:                         # one model per visit
        status = (wide[visit].reindex(patients["patient_id"]).to_numpy(dtype=float)
                  if visit in wide else np.full(len(patients), np.nan))
        keep = ~np.isnan(status) if missing == "observed" else np.ones(len(status), bool)
        y = np.nan_to_num(status[keep], nan=0.0)  # non-responder imputation: missing = 0
        present = sorted(set(arm_code[keep]))
        if len(present) < len(order) or y.min() == y.max():
            messages.append(f"visit {visit}: adjusted comparison not estimable (an arm "
                            "without patients, or every patient the same response)")
            continue
        fit = standardised_risks(y, arm_code[keep], z_all[keep], n_arms=len(order),
                                 variance=variance)
        messages += [f"visit {visit}: {m}" for m in fit.warnings]
        base = {"visit": int(visit), "reference": reference, "n": int(keep.sum()),
                "adjusted_for": label, "variance": variance, "converged": fit.converged,
                "risk_reference": float(fit.risks[0])}
        for arm in others:
            rd, se = fit.difference(code[arm], 0)
            lr, lse = fit.log_ratio(code[arm], 0)
            common = {**base, "arm": arm, "risk_arm": float(fit.risks[code[arm]])}
            rows.append({**common, "measure": "risk_difference", "estimate": rd,
                         "std_error": se, "ci_lower": rd - q * se, "ci_upper": rd + q * se,
                         "p_value": float(2 * stats.norm.sf(abs(rd / se)))})
            rows.append({**common, "measure": "risk_ratio", "estimate": float(np.exp(lr)),
                         "std_error": lse, "ci_lower": float(np.exp(lr - q * lse)),
                         "ci_upper": float(np.exp(lr + q * lse)),
                         "p_value": float(2 * stats.norm.sf(abs(lr / lse)))})
    if not rows:
        return empty_comparison(ADJUSTED_EXTRA), messages
    frame = comparison_frame(pd.DataFrame(rows))
    return frame[[*frame.columns[:7], *ADJUSTED_EXTRA]], messages


__all__ = ["ADJUSTED_EXTRA", "adjusted_comparison", "covariate_matrix"]
