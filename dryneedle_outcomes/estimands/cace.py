"""Complier average causal effect (CACE) of adherence, with randomisation as the instrument.

ICH E9(R1) A.3.4 (principal stratum strategy): the effect in the patients who would
adhere if offered needling. Randomisation (needling arm = 1, sham/control = 0) is the
instrument; the treatment received is the needling received (at least ``min_sessions``
sessions, or the number of sessions), which is 0 in the sham arm by design (sham
patients cannot receive needling). Assumptions (Angrist, Imbens & Rubin 1996, JASA
91:444-55; Dunn et al. 2005, Stat Methods Med Res 14:369-95): the exclusion restriction
(allocation affects the outcome only through needling received), monotonicity / no
defiers (guaranteed here: no sham patient can be needled), SUTVA (one patient's
allocation does not affect another's outcome) and a non-zero effect of allocation on
adherence (the first-stage F checks it).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..arms import is_control_arm
from ..cohort import Cohort
from ..errors import AnalysisError
from ..results import AnalysisResult, NoComparison, nothing_fitted
from ..stats.iv import t_interval, tsls
from ..tables import TableResult
from .populations import sessions_received

ASSUMPTIONS = (
    "CACE assumptions (Angrist, Imbens & Rubin 1996; Dunn et al. 2005): exclusion "
    "restriction (allocation acts on the outcome only through needling received); "
    "monotonicity / no defiers (sham patients cannot receive needling, so needling "
    "received is 0 in the control arm); SUTVA; allocation changes adherence (first-stage "
    "F; F < 10 flags a weak instrument).",
)


@dataclass(frozen=True)
class CACEResult(NoComparison, AnalysisResult):
    """ITT effect, compliance difference (first stage) and CACE at one visit.

    Attributes
    ----------
    estimates : pandas.DataFrame
        Rows ``itt``, ``compliance_difference``, ``cace``: ``estimate``, ``std_error``,
        ``ci_lower``, ``ci_upper``, ``p_value``.
    first_stage_f : float
    data : pandas.DataFrame
        The analysis rows (``patient_id``, ``arm``, ``z``, ``received``, ``y`` and
        covariates).
    excluded : pandas.DataFrame
        Randomised patients not in the analysis rows (``patient_id``, ``reason``: no
        value of the outcome at the visit, or a missing covariate).
    notes, warnings : tuple of str
    """

    estimates: pd.DataFrame
    first_stage_f: float
    data: pd.DataFrame
    conf_level: float = 0.95
    notes: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    converged: bool = nothing_fitted()
    excluded: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(
        {"patient_id": [], "reason": []}))

    def tables(self) -> dict[str, TableResult]:
        """The ITT, compliance difference and CACE table."""
        return {"cace": TableResult(self.estimates, title="Complier average causal effect",
                                    notes=self.notes, conf_level=self.conf_level)}

    def plot(self, ax=None, **kwargs):
        """ITT effect and CACE with their CIs (a forest plot); returns the Axes."""
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots()
        t = self.estimates.loc[self.estimates["quantity"].isin(["itt", "cace"])]
        y = np.arange(len(t))
        ax.errorbar(t["estimate"], y, xerr=[t["estimate"] - t["ci_lower"],
                                            t["ci_upper"] - t["estimate"]],
                    fmt="o", capsize=3, **kwargs)
        ax.axvline(0, color="grey", lw=0.8)
        ax.set_yticks(y, t["quantity"].tolist())
        from ..plots.legend import ci_label

        ax.set_xlabel(f"Effect on the outcome ({ci_label(self.conf_level)})")
        return ax


def complier_average_effect(cohort: Cohort, outcome: str = "first_step_pain", *,
                            visit: int, adherence: dict | str = None,
                            adjust: tuple[str, ...] = ("baseline",),
                            change: bool = True, conf_level: float = 0.95) -> CACEResult:
    """Complier average causal effect of needling received, by two-stage least squares.

    Parameters
    ----------
    cohort : Cohort
        Two arms, one a sham/control arm (``dryneedle_outcomes.arms.is_control_arm``).
    outcome : str
    visit : int
    adherence : dict or str
        ``{"min_sessions": k}`` (received at least k sessions, counted by
        ``dryneedle_outcomes.estimands.sessions_received``), ``"sessions"`` (the
        number received) or the name of a numeric column of ``cohort.patients``.
        Needling received is set to 0 in the control arm (no defiers).
    adjust : tuple of str
        ``"baseline"`` and/or numeric columns of ``cohort.patients``.
    change : bool
        Outcome as change from baseline (default) or the value at ``visit``.
    conf_level : float

    Returns
    -------
    CACEResult

    Notes
    -----
    Without covariates the 2SLS estimate equals the Wald estimator ITT / compliance
    difference (Angrist, Imbens & Rubin 1996). SEs are the 2SLS ones (structural
    residuals), as ``AER::ivreg``; patients without the outcome at ``visit`` or a
    covariate are left out (complete cases, stated in the notes).

    Examples
    --------
    >>> import dryneedle_outcomes as dno
    >>> r = dno.complier_average_effect(dno.simulate_cohort(n_patients=80, seed=4),
    ...                                 visit=6, adherence={"min_sessions": 4})
    >>> r.estimates["quantity"].tolist()
    ['itt', 'compliance_difference', 'cace']
    """
    arms = list(cohort.arms)
    control = [a for a in arms if is_control_arm(a)]
    if len(arms) != 2 or len(control) != 1:
        raise AnalysisError("complier_average_effect needs two arms, one of them a "
                            f"sham/control arm; this cohort has {arms}")
    p = cohort.patients.set_index("patient_id")
    z = (p["arm"].astype(str) != control[0]).astype(float)
    if adherence is None:
        raise AnalysisError("give adherence={'min_sessions': k}, 'sessions' or a column")
    if isinstance(adherence, dict):
        got = sessions_received(cohort, adherence.get("session_visits"))
        received = (got >= int(adherence["min_sessions"])).astype(float)
        what = f"at least {int(adherence['min_sessions'])} sessions received"
    elif adherence == "sessions":
        received, what = sessions_received(cohort).astype(float), "sessions received"
    elif adherence in p:
        received, what = p[adherence].astype(float), f"column {adherence!r}"
    else:
        raise AnalysisError(f"adherence {adherence!r} is neither a rule, 'sessions' nor a "
                            "column of the patients table")
    received = received.reindex(p.index) * z          # no needling in the control arm
    cfb = cohort.change_from_baseline(outcome)
    at = cfb.loc[cfb["visit"] == visit].set_index("patient_id")
    data = pd.DataFrame({"arm": p["arm"].astype(str), "z": z, "received": received,
                         "y": at[("chg" if change else "aval")].reindex(p.index)})
    covs = []
    for name in adjust:
        col = "baseline" if name == "baseline" else name
        data[col] = at["base"].reindex(p.index) if name == "baseline" else p[name]
        covs.append(col)
    n_all = len(data)
    # complete cases: patients missing the outcome at `visit` or a covariate, listed in
    # result.excluded with the reason and counted in the notes
    no_y = data["y"].isna()
    reason = pd.Series(np.where(no_y, f"no {outcome} at visit {visit}", ""), index=data.index)
    for col in covs:
        reason = reason.where(reason != "", np.where(data[col].isna(),
                                                      f"covariate {col!r} is missing", ""))
    reason = reason.where(reason != "", np.where(data.isna().any(axis=1),
                                                  "treatment received not known", ""))
    gone = reason != ""
    excluded = pd.DataFrame({"patient_id": data.index[gone].astype(str),
                             "reason": reason[gone].to_numpy()})
    data = data.loc[~gone].reset_index()
    if len(data) < len(covs) + 4 or data["z"].nunique() < 2:
        raise AnalysisError(f"too few patients with {outcome} at visit {visit} for a CACE")
    fit = tsls(data["y"], data["received"], data["z"],
               data[covs].to_numpy() if covs else None)
    itt_fit_cov = np.column_stack([np.ones(len(data)), data["z"], data[covs]])
    beta, *_ = np.linalg.lstsq(itt_fit_cov, data["y"].to_numpy(), rcond=None)
    res = data["y"].to_numpy() - itt_fit_cov @ beta
    itt_se = float(np.sqrt(res @ res / fit.df_resid
                           * np.linalg.inv(itt_fit_cov.T @ itt_fit_cov)[1, 1]))
    rows = []
    for q, est, se in (("itt", float(beta[1]), itt_se),
                       ("compliance_difference", fit.first_stage_coef, fit.first_stage_se),
                       ("cace", float(fit.coef[1]), float(np.sqrt(fit.vcov[1, 1])))):
        rows.append((q, est, se, *t_interval(est, se, fit.df_resid, conf_level)))
    est = pd.DataFrame(rows, columns=["quantity", "estimate", "std_error", "ci_lower",
                                      "ci_upper", "p_value"])
    notes = (f"Treatment received: {what} (0 in the control arm); instrument: allocation "
             f"to {[a for a in arms if a != control[0]][0]}; {len(data)} of {n_all} patients "
             f"with {outcome} at visit {visit}"
             + (f", adjusted for {', '.join(covs)}" if covs else "") + ". "
             f"First-stage F = {fit.first_stage_f:.1f}.", *ASSUMPTIONS)
    warns = (("weak instrument: first-stage F < 10",) if fit.first_stage_f < 10 else ())
    return CACEResult(estimates=est, first_stage_f=fit.first_stage_f, data=data,
                      conf_level=conf_level, notes=notes, warnings=warns, excluded=excluded)


__all__ = ["ASSUMPTIONS", "CACEResult", "complier_average_effect"]
