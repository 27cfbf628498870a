"""Responders from multiple imputations (:meth:`ReferenceBasedResult.responders
<dryneedle_outcomes.ReferenceBasedResult.responders>`).

Each completed data set is dichotomised (a responder improves from baseline by at
least the MCID, as :func:`~dryneedle_outcomes.responders` defines it), the risk
difference and its Wald variance are computed in each, and the results are pooled by
Rubin's rules (Rubin 1987; Carpenter & Kenward 2013, *Multiple Imputation and its
Application*, ch. 2), so the responder analysis has an MAR and a reference-based
version of the same estimand (ICH E9(R1) A.5.2). The complete-data analysis is a
large-sample Wald comparison (complete-data df infinite), for which the Barnard-Rubin
df reduce to Rubin's ``(M - 1) / lambda^2``.

Only imputations that are *draws* qualify. Conditional mean imputation replaces a
missing value by its expected value: the dichotomy of an expectation is not the
expected dichotomy (P(Y >= c) is not 1{E[Y] >= c}), so responders counted on
conditional means are biased, and no resampling of them fixes it; such results are
refused.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from ..definitions import TOLERANCE
from ..errors import AnalysisError
from ..instruments import get_instrument
from ..results import AnalysisResult, comparison_frame
from ..tables import TableResult


@dataclass(frozen=True)
class ImputedRespondersResult(AnalysisResult):
    """Responders pooled over multiple imputations.

    Attributes
    ----------
    proportions : DataFrame
        Per arm and visit: ``n`` (patients), ``responders`` (mean count over the
        imputations) and ``proportion``.
    risk_difference : DataFrame
        Per non-reference arm and visit: ``arm``, ``reference``, ``visit``,
        ``estimate`` (proportion difference), ``std_error``, ``ci_lower``,
        ``ci_upper``, ``p_value``, ``df`` (Rubin's rules).
    """

    outcome: str
    method: str
    mcid: float
    n_imputations: int
    conf_level: float
    proportions: pd.DataFrame
    risk_difference: pd.DataFrame
    notes: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    converged: bool = True

    @property
    def comparison(self) -> pd.DataFrame:
        """:attr:`risk_difference` in the comparison schema."""
        return comparison_frame(self.risk_difference, measure="risk_difference")

    def tables(self) -> dict[str, TableResult]:
        """The proportions and the pooled risk differences (with the notes)."""
        what = f"{self.outcome} responders (MCID {self.mcid:g}), {self.method}"
        return {
            "proportions": TableResult(self.proportions.reset_index(drop=True),
                                       title=f"{what}: proportion per arm and visit",
                                       conf_level=self.conf_level, digits=3),
            "risk_difference": TableResult(
                self.risk_difference.reset_index(drop=True),
                title=f"{what}: risk difference ({self.conf_level:.0%} CI, Rubin's rules)",
                notes=self.notes, conf_level=self.conf_level, digits=3),
        }

    def plot(self, ax=None):
        """Proportion of responders per arm and visit. Returns the Axes."""
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(3.5, 2.8))
        for arm, d in self.proportions.groupby("arm", sort=False):
            ax.plot(d["visit"], d["proportion"], marker="o", ms=3, label=str(arm))
        ax.set_xlabel("visit")
        ax.set_ylabel("proportion of responders")
        ax.set_ylim(0, 1)
        ax.legend(frameon=False, fontsize="small")
        return ax


def imputed_responders(res, mcid: float | None = None) -> ImputedRespondersResult:
    """Responders of each imputation of ``res`` (a ReferenceBasedResult), pooled by
    Rubin's rules; see the module docstring."""
    if res.approach == "conditional_mean":
        raise AnalysisError(
            "responders need imputations that are random draws: conditional mean "
            "imputation fills each missing value with its expected value, and whether an "
            "expected value crosses the MCID is not the probability that the patient's "
            "value does (a responder proportion counted on conditional means is biased, "
            "and the jackknife or bootstrap of it does not fix that); use "
            "approach='approximate_bayes' or approach='bayes' for the responder analysis")
    inst = get_instrument(res.outcome)
    if mcid is None:
        if inst.mcid is None:
            raise AnalysisError(f"{res.outcome} has no registered MCID; give mcid=")
        mcid = float(inst.mcid)
    mcid = float(mcid)
    if not np.isfinite(mcid) or mcid <= 0:
        raise AnalysisError(f"mcid must be a positive number, got {mcid!r}")
    if "baseline" not in res.patients:
        raise AnalysisError("responders need the baseline value: fit with "
                            "adjust including 'baseline'")
    r = res.engine
    Y = r.imputed                                   # (M, N, T)
    M = Y.shape[0]
    base = res.patients["baseline"].to_numpy(float)
    # as Cohort.change_from_baseline and ResponderDefinition.met (same tolerance)
    improvement = (Y - base[None, :, None]) * inst.direction + 0.0
    resp = improvement >= mcid - TOLERANCE         # (M, N, T)
    n_composite = 0
    if "composite_visit" in res.patients:
        # the estimand's composite strategy: from the event on, not a responder whatever
        # the value (ICH E9(R1) A.3.2)
        after = np.asarray(res.visits, float)[None, :] >= \
            res.patients["composite_visit"].to_numpy(float)[:, None]   # NaN: False
        resp = resp & ~after[None, :, :]
        n_composite = int(after.any(axis=1).sum())
    code = res.patients["arm_code"].to_numpy()
    A, T = len(res.arms), len(res.visits)
    n = np.bincount(code, minlength=A).astype(float)
    onehot = (code[:, None] == np.arange(A)[None, :]).astype(float)   # (N, A)
    counts = np.einsum("mnt,na->mat", resp.astype(float), onehot)     # (M, A, T)
    p = counts / n[None, :, None]
    z = stats.norm.ppf(0.5 + res.conf_level / 2.0)
    rows = []
    for a in range(1, A):   # a loop over arms (arm 0 is the reference)
        # Rubin's point estimate: the mean over imputations; from the mean counts, so that
        # with nothing imputed it is the observed difference to the last digit
        est = counts[:, a].mean(axis=0) / n[a] - counts[:, 0].mean(axis=0) / n[0]
        rd = p[:, a] - p[:, 0]
        w = np.mean(p[:, a] * (1 - p[:, a]) / n[a] + p[:, 0] * (1 - p[:, 0]) / n[0], axis=0)
        # between-imputation variance; exactly 0 where every imputation gives the same
        # counts (the variance of equal floats can come out at rounding level)
        same = (counts[:, a] == counts[:1, a]).all(axis=0) & \
            (counts[:, 0] == counts[:1, 0]).all(axis=0)
        b = np.where(same, 0.0, rd.var(axis=0, ddof=1)) if M > 1 else np.zeros(T)
        total = w + (1 + 1 / M) * b
        lam = np.divide((1 + 1 / M) * b, total, out=np.zeros(T), where=total > 0)
        with np.errstate(divide="ignore"):
            df = np.where(lam > 0, (M - 1) / lam**2, np.inf)
        q = np.where(np.isfinite(df), stats.t.ppf(0.5 + res.conf_level / 2.0,
                                                  np.where(np.isfinite(df), df, 1.0)), z)
        se = np.sqrt(total)
        with np.errstate(divide="ignore", invalid="ignore"):
            tstat = est / se
        pv = np.where(np.isfinite(df), 2 * stats.t.sf(np.abs(tstat),
                                                      np.where(np.isfinite(df), df, 1.0)),
                      2 * stats.norm.sf(np.abs(tstat)))
        rows.append(pd.DataFrame({"arm": res.arms[a], "reference": res.arms[0],
                                  "visit": list(res.visits), "estimate": est,
                                  "std_error": se, "ci_lower": est - q * se,
                                  "ci_upper": est + q * se, "p_value": pv, "df": df}))
    props = pd.DataFrame({"arm": np.repeat(res.arms, T), "visit": np.tile(res.visits, A),
                          "n": np.repeat(n.astype(int), T),
                          "responders": counts.mean(axis=0).ravel(),
                          "proportion": p.mean(axis=0).ravel()})
    notes = (f"Responder: improvement from baseline >= {mcid:g} {inst.units} in each of "
             f"{M} imputed data sets ({res.method.replace('_', ' ')}, "
             f"{'Bayesian (MCMC)' if res.approach == 'bayes' else 'approximate Bayesian'} "
             "imputation), "
             "risk difference with its Wald variance in each, pooled by Rubin's rules "
             "(complete-data df infinite: Rubin's df; infinite where nothing was imputed, "
             "a normal interval).",)
    if n_composite:
        notes += (f"{n_composite} patient(s) with an event the estimand handles by the "
                  "composite strategy count as non-responders from the event's visit on "
                  "(ICH E9(R1) A.3.2), in every imputation.",)
    return ImputedRespondersResult(res.outcome, res.method, mcid, M, res.conf_level, props,
                                   pd.concat(rows, ignore_index=True), notes=notes)


__all__ = ["ImputedRespondersResult", "imputed_responders"]
