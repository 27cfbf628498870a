"""Model checks of a trajectory fit: scaled residuals, QQ per visit, fitted vs observed
covariance (``TrajectoryResult.diagnostics()``).

What the SAMPL guidelines (Lang & Altman 2013: report how the assumptions of a model
were checked) and Mallinckrodt et al. (Drug Inf J 2008;42:303-319, "Recommendations for
the primary analysis of continuous endpoints in longitudinal clinical trials") ask of an
MMRM, and SAS PROC MIXED's ``RESIDUAL`` plots give:

* **Scaled residuals** ``C_i^-1 (y_i - X_i beta)``, with ``C_i`` the Cholesky factor of
  the patient's marginal covariance (:mod:`..stats.mixed.residuals`): uncorrelated with
  unit variance under the model, so a plot against the fitted values shows
  heteroscedasticity or curvature as for an ordinary regression, and a normal QQ plot
  per visit shows skewness or outliers. For a ``gls`` fit these are ``nlme``'s
  ``residuals(fit, type = "normalized")``; for the random-effects models they are
  marginal (population-level) residuals scaled by ``V_i = Z_i G Z_i' + sigma^2 I``.
* **Fitted against observed covariance**: the model's covariance of the outcome over
  visits (``Sigma`` for an MMRM, ``Z G Z' + sigma^2 I`` at each visit's mean time for the
  random-effects models) beside the pairwise-complete covariance and correlation of the
  marginal residuals (patients with both visits; R's ``use = "pairwise.complete.obs"``),
  pooled and per arm. Under dropout that depends on earlier values (MAR) the observed
  matrices are biased and the model's are not, so a difference is a prompt to look, not
  a test.

Golden values: ``tests/reference/model_terms/residuals.csv`` and ``residual_cov.csv``
(nlme and R's ``cov``/``cor``), checked in ``tests/test_diagnostics.py``.

Examples
--------
>>> import dryneedle_outcomes as dno
>>> fit = dno.fit_trajectory(dno.simulate_cohort(n_patients=60, seed=3), model="mmrm")
>>> diag = fit.diagnostics()
>>> sorted(diag.residuals.columns)[:4]
['arm', 'fitted', 'observed', 'patient_id']
>>> bool(0.8 < diag.residuals["scaled_residual"].std() < 1.2)
True
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from scipy import stats

from ..results import AnalysisResult, NoComparison
from ..stats.mixed.residuals import cholesky_residuals, pairwise_covariance
from ..tables import TableResult
from .design import design_matrix, random_design, reference_grid

if TYPE_CHECKING:  # the result's module imports this one
    from .trajectory import TrajectoryResult

#: Scaled residuals beyond this absolute value are listed by :meth:`summary` (a
#: standard normal exceeds 3 with probability 0.0027).
OUTLIER_LIMIT = 3.0
POOLED = "pooled"


@dataclass(frozen=True)
class TrajectoryDiagnostics(NoComparison, AnalysisResult):
    """Residual and covariance checks of a trajectory fit (see the module docstring).

    Attributes
    ----------
    residuals : DataFrame
        One row per modelled observation: ``patient_id``, ``arm``, ``visit``,
        ``observed``, ``fitted`` (``X beta``, population level), ``residual``
        (observed minus fitted) and ``scaled_residual`` (Cholesky-scaled).
    qq : DataFrame
        Normal QQ data of the scaled residuals per visit: ``visit``, ``patient_id``,
        ``theoretical`` (standard normal quantiles at R's ``ppoints``) and
        ``scaled_residual``, sorted within visit.
    covariance : DataFrame
        One row per group (``"pooled"``, then each arm) and pair of visits
        (``visit_1 <= visit_2``): ``n_pairs``, ``fitted_covariance``,
        ``observed_covariance``, ``fitted_correlation``, ``observed_correlation``.
    model, outcome : str
    """

    residuals: pd.DataFrame
    qq: pd.DataFrame
    covariance: pd.DataFrame
    model: str
    outcome: str
    notes: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    converged: bool = True

    def tables(self) -> dict[str, TableResult]:
        """The fitted and observed covariance and correlation per pair of visits."""
        return {"covariance": TableResult(
            self.covariance, title=f"{self.outcome}, {self.model}: fitted and observed "
            "(pairwise-complete) covariance and correlation of the residuals over visits",
            notes=self.notes, digits=3)}

    def summary(self) -> str:
        """Plain text: the scaled residuals' spread, the largest ones, and how far the
        observed correlations are from the fitted ones."""
        s = self.residuals["scaled_residual"]
        far = self.residuals.loc[s.abs() > OUTLIER_LIMIT]
        pooled = self.covariance[self.covariance["group"] == POOLED]
        off = pooled[pooled["visit_1"] != pooled["visit_2"]]
        gap = (off["observed_correlation"] - off["fitted_correlation"]).abs()
        lines = [
            f"Diagnostics of the {self.model} fit of {self.outcome}: "
            f"{len(s)} observations",
            f"Scaled residuals: mean {s.mean():.3f}, SD {s.std():.3f} (1 under the model), "
            f"skewness {stats.skew(s):.3f}; {len(far)} beyond +/-{OUTLIER_LIMIT:g}"
            + ("" if far.empty else ": " + ", ".join(
                f"{p} visit {v} ({r:.2f})" for p, v, r in
                zip(far["patient_id"], far["visit"], far["scaled_residual"]))),
        ]
        if len(gap):
            worst = off.loc[gap.idxmax()]
            lines.append(
                f"Correlation over visits: largest difference between observed "
                f"(pairwise-complete) and fitted {gap.max():.3f}, visits "
                f"{int(worst['visit_1'])} and {int(worst['visit_2'])} ({int(worst['n_pairs'])} "
                "patients with both)")
        lines += self.notes
        return "\n".join(lines)

    def plot(self, ax=None, **kwargs):
        """Residuals against fitted values, normal QQ per visit, and observed against fitted
        correlations, side by side (``dryneedle_outcomes.plots.diagnostics``); ``ax`` is
        split into the three panels. Returns the three Axes."""
        from ..plots.diagnostics import plot_diagnostics

        return plot_diagnostics(self, ax=ax, **kwargs)


def _qq(res: pd.DataFrame) -> pd.DataFrame:
    """Standard normal quantiles at R's ``ppoints(n)`` for the sorted values per visit."""
    out = res[["visit", "patient_id", "scaled_residual"]].sort_values(
        ["visit", "scaled_residual"], kind="stable").reset_index(drop=True)
    n = out.groupby("visit")["visit"].transform("size").to_numpy(dtype=float)
    i = out.groupby("visit").cumcount().to_numpy(dtype=float) + 1.0
    a = np.where(n <= 10, 3.0 / 8.0, 0.5)
    out.insert(2, "theoretical", stats.norm.ppf((i - a) / (n + 1.0 - 2.0 * a)))
    return out


def _visit_covariances(blocks: dict, d: pd.DataFrame, T: int) -> dict:
    """The fitted covariance over visits per group (``None``: every group). With one per
    arm, the pooled one is their mixture weighted by the arms' shares of patients (the
    covariance of a patient drawn at random, the residual means being 0 in every arm). A
    block that is not visits x visits (a spatial structure on each row's own day) has no
    covariance per visit: missing."""
    blocks = {k: (v if v.shape == (T, T) else np.full((T, T), np.nan))
              for k, v in blocks.items()}
    if len(blocks) == 1:
        return {None: next(iter(blocks.values()))}
    share = d.drop_duplicates("patient_id")["arm"].value_counts(normalize=True)
    pooled = sum(share.get(k, 0.0) * v for k, v in blocks.items())
    return {POOLED: pooled, **blocks}


def _covariance(res: pd.DataFrame, visits: list[int], arms: list[str],
                fitted_by_group: dict) -> pd.DataFrame:
    """Fitted beside pairwise-complete observed covariance, pooled and per arm."""
    i, j = np.tril_indices(len(visits))
    parts = []
    for group in [POOLED, *arms]:
        fitted = fitted_by_group.get(group, fitted_by_group.get(None))
        sd = np.sqrt(np.diag(fitted))
        fitted_corr = fitted / np.outer(sd, sd)
        rows = res if group == POOLED else res[res["arm"] == group]
        wide = rows.pivot(index="patient_id", columns="visit", values="residual")
        wide = wide.reindex(columns=visits).to_numpy(dtype=float)
        obs = pairwise_covariance(wide)
        parts.append(pd.DataFrame({
            "group": group, "visit_1": np.asarray(visits)[j], "visit_2": np.asarray(visits)[i],
            "n_pairs": obs["n"][i, j], "fitted_covariance": fitted[i, j],
            "observed_covariance": obs["covariance"][i, j],
            "fitted_correlation": fitted_corr[i, j],
            "observed_correlation": obs["correlation"][i, j]}))
    return pd.concat(parts, ignore_index=True)


def trajectory_diagnostics(result: TrajectoryResult) -> TrajectoryDiagnostics:
    """The checks of ``result`` (what ``result.diagnostics()`` returns)."""
    frame, fit = result.frame, result.fit
    d = frame.data
    X, _ = design_matrix(frame, d, result.model)
    fitted = X @ fit.beta
    y = d["y"].to_numpy(dtype=float)
    groups = pd.factorize(d["patient_id"], sort=True)[0]
    if result.model == "mmrm":
        # each row's slot of Sigma (visit, or arm x visit for a covariance per arm)
        Sigma = np.asarray(fit.extra["Sigma"], dtype=float)
        layout = fit.extra["layout"]
        scaled = cholesky_residuals(y - fitted, groups, visits=layout.slots, Sigma=Sigma)
        model_cov = _visit_covariances(layout.group_blocks(Sigma), d, len(frame.visits))
        how = "Sigma, the MMRM's covariance over visits (per arm when fitted per arm)"
    else:
        G, s2 = np.asarray(fit.extra["G"], dtype=float), float(fit.extra["sigma2"])
        Z = random_design(frame, d, result.model)[0]
        scaled = cholesky_residuals(y - fitted, groups, Z=Z, G=G, sigma2=s2)
        grid = reference_grid(frame)
        Zv = random_design(frame, grid[grid["arm"] == frame.arms[0]], result.model)[0]
        model_cov = {None: Zv @ G @ Zv.T + s2 * np.eye(len(Zv))}
        how = ("Z G Z' + sigma^2 I at each visit's mean time, the random-effects model's "
               "covariance over visits")
    res = pd.DataFrame({"patient_id": d["patient_id"].to_numpy(), "arm": d["arm"].to_numpy(),
                        "visit": d["visit"].to_numpy(), "observed": y, "fitted": fitted,
                        "residual": y - fitted, "scaled_residual": scaled})
    notes = (f"Scaled residuals: each patient's marginal residuals premultiplied by the "
             f"inverse Cholesky factor of the model's covariance of that patient's visits "
             f"(SAS's scaled residuals; nlme's normalized residuals); fitted covariance: "
             f"{how}; observed: pairwise-complete covariance of the residuals, which "
             "under dropout that depends on earlier values (MAR) is biased while the "
             "model's is not.",)
    return TrajectoryDiagnostics(
        residuals=res, qq=_qq(res),
        covariance=_covariance(res, list(frame.visits), list(frame.arms), model_cov),
        model=result.model, outcome=result.outcome, notes=notes,
        warnings=() if result.converged else
        ("the model did not converge: its residuals and covariance are not the optimum's",),
        converged=bool(result.converged))


def not_estimable_notes(mm: pd.DataFrame, diff: pd.DataFrame) -> list[str]:
    """Which marginal means and differences have no estimate (a design with aliased
    columns, :mod:`..stats.mixed.aliasing`), in sentences for the fit's notes."""
    notes = []
    for what, table, by in (("marginal mean(s)", mm, "arm"), ("difference(s)", diff, "arm")):
        gone = table[table["estimate"].isna()]
        if len(gone):
            cells = "; ".join(f"{k}: visit(s) {', '.join(map(str, g['visit']))}"
                              for k, g in gone.groupby(by, sort=False))
            notes.append(f"{what} not estimable, reported as missing ({cells}): the data "
                         "cannot identify them once the aliased columns are dropped")
    return notes


__all__ = ["TrajectoryDiagnostics", "not_estimable_notes", "trajectory_diagnostics"]
