"""The MMRM of one subgroup variable: arm x visit x subgroup, its contrasts and F tests.

One job: given the model frame of the primary analysis (:func:`.design.model_frame`) and
one subgroup variable per patient, fit

    y ~ baseline + baseline:visit + arm * visit * subgroup

with the primary analysis' residual covariance over visits (REML), then give the arm
difference at a visit within each level of the subgroup, and the F test that these
differences are equal (the arm x subgroup interaction at that visit: ``K - 1`` numerator
df for ``K`` levels and two arms). A continuous variable enters linearly instead (one
column), and its test is the 1-df slope of the arm difference on it at the visit.

The design is the primary analysis' (:func:`.design.design_matrix`, R's column order)
followed by the subgroup's columns: its main effect, ``visit:subgroup``,
``arm:subgroup`` and ``visit:arm:subgroup`` (treatment coding against the first level,
as R's ``contr.treatment``). The contrasts are differences of design rows, so they do
not depend on the coding; ``tests/reference/subgroups/`` checks them against
``nlme::gls`` + ``emmeans``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import AnalysisError
from ..stats.mixed.aliasing import find_aliased
from ..stats.mixed.engine import EngineFit, missing_unless_estimable
from ..stats.mixed.ftest import satterthwaite_f
from ..stats.mixed.kenward_roger import KenwardRoger, kenward_roger_adjustment
from .covariance_order import fit_in_order
from .design import ModelFrame, design_matrix, reference_grid
from .mmrm_covariance import CovarianceOptions, engine_inputs

#: The column of the model frame that holds the subgroup (level text, or a number).
SUB = "_subgroup"


@dataclass(frozen=True, eq=False)
class SubgroupFit:
    """An MMRM with the arm x visit x subgroup interaction, and its inference."""

    frame: ModelFrame            # data has the SUB column
    levels: tuple[str, ...]      # () for a continuous subgroup
    fit: EngineFit
    structure: str
    kr: KenwardRoger | None
    names: tuple[str, ...]
    baseline: bool = False       # the continuous subgroup is the baseline covariate

    @property
    def continuous(self) -> bool:
        return not self.levels

    def design(self, rows: pd.DataFrame) -> np.ndarray:
        """The design of ``rows`` (model rows or a grid with ``SUB`` set)."""
        return subgroup_design(self.frame, rows, self.levels, baseline=self.baseline)[0]

    def differences(self, visit: int, level=None) -> np.ndarray:
        """Rows of ``L``: each non-reference arm minus the reference at ``visit``, within
        ``level`` (a level name; for a continuous subgroup, a value of it)."""
        grid = reference_grid(self.frame, [visit])
        grid[SUB] = level
        X = self.design(grid)
        return X[1:] - X[0]

    def contrast(self, L, conf_level: float) -> dict:
        """t tests of each row of ``L`` (Kenward-Roger when fitted with it)."""
        if self.kr is not None:
            return missing_unless_estimable(self.kr.contrast(L, conf_level=conf_level),
                                            self.fit.aliasing, L)
        return self.fit.contrast(L, conf_level=conf_level)

    def test(self, L) -> dict:
        """Joint F test of ``L beta = 0``: ``num_df``, ``den_df``, ``statistic``, ``p_value``."""
        estimable = self.fit.aliasing is None or self.fit.aliasing.estimable(L).all()
        if not estimable:
            return {"num_df": L.shape[0], "den_df": np.nan, "statistic": np.nan,
                    "p_value": np.nan}
        if self.kr is not None:
            r = self.kr.test(L)
            return {"num_df": r["ndf"], "den_df": r["df"], "statistic": r["F"],
                    "p_value": r["p_value"]}
        r = satterthwaite_f(self.fit, L)
        return {k: r[k] for k in ("num_df", "den_df", "statistic", "p_value")}

    def interaction_L(self, visit: int) -> np.ndarray:
        """The rows of the interaction test at ``visit``: for a factor, each level's arm
        differences minus the first level's; for a continuous subgroup, the change in the
        arm differences per unit of it."""
        if self.continuous:
            return self.differences(visit, 1.0) - self.differences(visit, 0.0)
        first = self.differences(visit, self.levels[0])
        return np.vstack([self.differences(visit, lv) - first for lv in self.levels[1:]])


def subgroup_design(frame: ModelFrame, rows: pd.DataFrame, levels: tuple[str, ...], *,
                    baseline: bool = False) -> tuple[np.ndarray, list[str]]:
    """The primary design of ``rows`` and the subgroup's columns after it (module
    docstring); ``levels`` empty means a continuous subgroup (``rows[SUB]`` numbers).
    ``baseline``: the continuous subgroup is the baseline covariate itself, whose main
    effect (and baseline-by-visit term) the design has already: only its interactions
    with the arm are added."""
    X0, names = design_matrix(frame, rows, "mmrm")
    n = len(rows)
    if levels:
        value = rows[SUB].astype(str).to_numpy()
        S = np.column_stack([(value == lv).astype(float) for lv in levels[1:]])
        s_names = [f"subgroup[{lv}]" for lv in levels[1:]]
    else:
        S = rows[SUB].to_numpy(dtype=float)[:, None]
        s_names = ["subgroup"]
    visit = rows["visit"].to_numpy()
    V = np.column_stack([(visit == v).astype(float) for v in frame.visits[1:]]) \
        if len(frame.visits) > 1 else np.empty((n, 0))
    v_names = [f"visit[{v}]" for v in frame.visits[1:]]
    arm = rows["arm"].astype(str).to_numpy()
    A = np.column_stack([(arm == a).astype(float) for a in frame.arms[1:]])
    a_names = [f"arm[{a}]" for a in frame.arms[1:]]
    cols, out_names = [S], list(s_names)

    def cross(M1, n1, M2, n2):
        prod = (M1[:, :, None] * M2[:, None, :]).reshape(n, -1)
        return prod, [f"{x}:{y}" for x in n1 for y in n2]

    if baseline and not levels:
        cols, out_names = [], []
        blocks = ([] if frame.baseline_by_visit else [cross(V, v_names, S, s_names)])
    else:
        blocks = [cross(V, v_names, S, s_names)]
    for block in (*blocks, cross(A, a_names, S, s_names)):
        cols.append(block[0])
        out_names += block[1]
    VA, va_names = cross(V, v_names, A, a_names)
    block = cross(VA, va_names, S, s_names)
    cols.append(block[0])
    out_names += block[1]
    return np.column_stack([X0, *cols]), names + out_names


def fit_subgroup(frame: ModelFrame, levels: tuple[str, ...], order: tuple[str, ...],
                 df: str, *, baseline: bool = False) -> SubgroupFit:
    """Fit the subgroup MMRM of ``frame`` (whose data carry ``SUB``) with the first
    covariance structure of ``order`` that converges, and its Kenward-Roger adjustment
    when ``df`` is ``"kenward_roger"``."""
    from ..stats.mixed.mmrm import fit_mmrm

    d = frame.data
    X, names = subgroup_design(frame, d, levels, baseline=baseline)
    aliasing = find_aliased(X, names)
    Xk = X[:, aliasing.keep]
    kept = [names[j] for j in aliasing.keep]
    groups = pd.factorize(d["patient_id"], sort=True)[0]
    visits = np.searchsorted(np.asarray(frame.visits), d["visit"].to_numpy())
    y = d["y"].to_numpy(dtype=float)

    def one(structure: str) -> EngineFit:
        fit = fit_mmrm(y, Xk, groups, visits, structure=structure, x_names=kept,
                       n_visits=len(frame.visits), check_rank=False,
                       **engine_inputs(frame, structure, CovarianceOptions()))
        return aliasing.expand(fit)

    fit, used, _ = fit_in_order(one, order)
    kr = None
    if df == "kenward_roger":
        try:
            kr = aliasing.expand_kenward_roger(
                kenward_roger_adjustment(aliasing.reduce(fit), Xk, groups, visits))
        except AnalysisError as exc:
            if fit.converged:
                raise
            fit.messages.append(f"{exc}; the tests use Satterthwaite df instead")
    return SubgroupFit(frame=frame, levels=tuple(levels), fit=fit, structure=used, kr=kr,
                       names=tuple(names), baseline=baseline)


__all__ = ["SUB", "SubgroupFit", "fit_subgroup", "subgroup_design"]
