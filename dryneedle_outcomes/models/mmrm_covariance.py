"""The MMRM's covariance options in trial terms: time coordinates, a covariance per arm.

One job: turn :func:`~dryneedle_outcomes.fit_trajectory`'s ``covariance_by_arm`` and
``spatial_coordinate`` into the engine's inputs (:func:`engine_inputs`), and report the
fitted covariance back per arm and visit (:func:`variance_components`) and in words
(:func:`covariance_phrase`).

**Spatial exponential on days** (``covariance="spatial_exp"``; SAS
``REPEATED visit / TYPE=SP(EXP)(day) SUBJECT=patient``; ``nlme::gls(correlation =
corExp(form = ~ day | patient))``; R mmrm ``sp_exp(day | patient)``). The coordinate of an
observation is, by default (``spatial_coordinate="day"``), the cohort's ``day`` of that
row: days since baseline, which differ between patients at the same visit when sessions
moved. This is what SAS does (each observation's own coordinate), so a patient whose
follow-up came late gets a lower correlation with the last session. A row without a
``day`` is an error that names the rows: the time is never filled in silently. Pass a
mapping ``{visit: day}`` (the protocol's schedule) to use one declared time per visit
instead, e.g. for data without dates.

**A covariance per arm** (``covariance_by_arm=True``; SAS ``REPEATED / GROUP=arm``, R mmrm
``us(visit | arm / patient)``): each arm has its own parameters of the chosen structure
(twice as many for two arms); the fixed effects, least-squares means and tests are as
before, with Satterthwaite or Kenward-Roger df from the joint observed information. Worth
pre-specifying when the arms may differ in variability (an active treatment that helps
some patients much more than others); it costs parameters, so small trials may not
support it with an unstructured covariance (Mallinckrodt et al., Drug Inf J
2008;42:303-319). Validated against SAS ``GROUP=`` listings
(``tests/reference/mmrm_covstruct/``).

Examples
--------
>>> import dryneedle_outcomes as dno
>>> cohort = dno.simulate_cohort(n_patients=60, seed=3)
>>> fit = dno.fit_trajectory(cohort, model="mmrm", covariance="spatial_exp")
>>> fit.variance_components["component"].tolist()
['range (days)', 'variance']
>>> covariance_phrase(fit)[:61]
'spatial_exp residual covariance (SAS TYPE=SP(EXP)(day)) over '
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ..errors import AnalysisError
from ..stats.mixed.engine import EngineFit
from ..stats.mixed.options import MMRM_NAMES, SAS_TYPES
from .design import ModelFrame

if TYPE_CHECKING:  # the result's module imports this one
    from .trajectory import TrajectoryResult

SPATIAL_NAMES = {"range": "range (days)", "sigma2": "variance"}


@dataclass(frozen=True)
class CovarianceOptions:
    """How the MMRM's covariance is laid out (see the module docstring).

    Attributes
    ----------
    by_arm : bool
        A separate covariance, with its own parameters, per arm (SAS ``GROUP=``).
    spatial_coordinate : "day" or mapping of visit to day
        The time of each observation for ``"spatial_exp"``: each row's own ``day``, or
        one declared day per visit.
    """

    by_arm: bool = False
    spatial_coordinate: str | Mapping[int, float] = field(default="day")

    def __post_init__(self) -> None:
        c = self.spatial_coordinate
        if isinstance(c, str):
            if c != "day":
                raise AnalysisError("spatial_coordinate must be 'day' (each observation's "
                                    f"own day) or a mapping {{visit: day}}, got {c!r}")
        elif not isinstance(c, Mapping):
            raise AnalysisError("spatial_coordinate must be 'day' or a mapping {visit: day}, "
                                f"got {type(c).__name__}")
        if not isinstance(self.by_arm, (bool, np.bool_)):
            raise AnalysisError(f"covariance_by_arm must be True or False, got "
                                f"{self.by_arm!r}")


def _coordinates(frame: ModelFrame, option) -> np.ndarray:
    d = frame.data
    if isinstance(option, Mapping):
        days = {int(k): float(v) for k, v in option.items()}
        missing = [v for v in frame.visits if v not in days or not np.isfinite(days[v])]
        if missing:
            raise AnalysisError(f"spatial_coordinate gives no (finite) day for visit(s) "
                                f"{missing}; give one for every modelled visit "
                                f"{list(frame.visits)}")
        return d["visit"].map(days).to_numpy(dtype=float)
    day = d["day"].to_numpy(dtype=float)
    bad = ~np.isfinite(day)
    if bad.any():
        where = d.loc[bad, ["patient_id", "visit"]].head(5)
        listed = ", ".join(f"{p} visit {v}" for p, v in where.itertuples(index=False))
        raise AnalysisError(
            f"covariance='spatial_exp' uses each observation's day, and {int(bad.sum())} "
            f"modelled row(s) have none ({listed}{', ...' if bad.sum() > 5 else ''}); give "
            "dates, or declare the schedule with spatial_coordinate={visit: day}")
    return day


def engine_inputs(frame: ModelFrame, structure: str, options: CovarianceOptions) -> dict:
    """Keyword arguments of :func:`~..stats.mixed.mmrm.fit_mmrm` for ``structure``."""
    out: dict = {}
    if structure == "spatial_exp":
        out["coordinates"] = _coordinates(frame, options.spatial_coordinate)
    if options.by_arm:
        out["cov_groups"] = pd.Categorical(frame.data["arm"], categories=frame.arms).codes
        out["cov_group_names"] = list(frame.arms)
    return out


def variance_components(fit: EngineFit, frame: ModelFrame) -> pd.DataFrame:
    """``component``, ``estimate`` (and ``arm`` for a covariance per arm): the covariance
    matrix entries over visits, or the range and variance of a spatial structure."""
    layout = fit.extra["layout"]
    spatial = fit.extra["structure"] == "spatial_exp"
    rows = []
    if spatial:
        for name, value in zip(fit.varpar_names, fit.varpar):
            arm, _, par = name.rpartition(": ")
            rows.append({"arm": arm, "component": SPATIAL_NAMES[par], "estimate": value})
    else:
        for arm, sigma in layout.group_blocks(fit.extra["Sigma"]).items():
            for i, vi in enumerate(frame.visits):
                for j, vj in enumerate(frame.visits[: i + 1]):
                    name = (f"var(visit {vi})" if i == j else f"cov(visit {vj}, visit {vi})")
                    rows.append({"arm": arm, "component": name, "estimate": sigma[i, j]})
    out = pd.DataFrame(rows)
    return out if layout.group_names else out.drop(columns="arm")


def covariance_phrase(fit: TrajectoryResult) -> str:
    """The residual covariance in words, with SAS's and R mmrm's names."""
    name = fit.covariance
    sas = SAS_TYPES[name]
    options = fit.covariance_options
    if name == "spatial_exp":
        coord = "day" if not isinstance(options.spatial_coordinate, Mapping) else "visit_day"
        sas = f"SP(EXP)({coord})"
        where = ("over each patient's own days since baseline"
                 if coord == "day" else "over the declared day of each visit")
    else:
        where = "over visits within patient"
    named = (f"SAS TYPE={sas}" if sas else
             f"R mmrm {MMRM_NAMES[name]}; SAS has no homogeneous version")
    text = f"{name} residual covariance ({named}) {where}"
    if options.by_arm:
        text += ", estimated separately per arm (SAS GROUP=arm)"
    return text


__all__ = ["CovarianceOptions", "covariance_phrase", "engine_inputs", "variance_components"]
