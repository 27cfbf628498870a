"""Covariate matrices for the time-to-event models: arm dummies plus named covariates.

Terms are named as in the trajectory models: ``arm[dry_needling]`` for a non-reference
arm, a numeric covariate by its name, a categorical covariate ``sex[male]`` per
non-reference level (levels sorted, the first is the reference). ``"baseline"`` is
the outcome's visit-0 value. Patients with a missing covariate cannot enter the
regression models; they are returned in ``missing`` (never dropped silently) and
stay in the nonparametric analyses.

Examples
--------
>>> import pandas as pd
>>> from dryneedle_outcomes.survival.design import covariate_matrix
>>> ev = pd.DataFrame({"patient_id": ["a", "b", "c"], "arm": ["t", "c", "t"],
...                    "baseline": [70.0, 60.0, 80.0]})
>>> pts = pd.DataFrame({"patient_id": ["a", "b", "c"], "sex": ["f", "m", None]})
>>> d = covariate_matrix(ev, pts, ["c", "t"], ["baseline", "sex"])
>>> list(d.X.columns), d.missing["patient_id"].tolist()
(['arm[t]', 'baseline', 'sex[m]'], ['c'])
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import AnalysisError


@dataclass(frozen=True)
class Design:
    """``X`` (rows of complete patients, aligned with ``rows``) and the ``missing`` list."""

    X: pd.DataFrame
    rows: np.ndarray            # positions in the events table used by the models
    missing: pd.DataFrame       # patient_id, reason


def covariate_matrix(events: pd.DataFrame, patients: pd.DataFrame, arms: list[str],
                     covariates: Sequence[str] = ()) -> Design:
    """Arm dummies (reference = ``arms[0]``) and covariates for each row of ``events``."""
    arm = events["arm"].astype(str).to_numpy()
    cols: dict[str, np.ndarray] = {f"arm[{a}]": (arm == a).astype(float) for a in arms[1:]}
    incomplete = np.zeros(len(events), dtype=bool)
    why = np.full(len(events), "", dtype=object)
    by_patient = patients.set_index("patient_id")
    for name in covariates:
        if name == "baseline":
            values = events["baseline"]
        elif name in by_patient.columns and name != "arm":
            values = events["patient_id"].map(by_patient[name])
        else:
            raise AnalysisError(f"covariate {name!r} is neither 'baseline' nor a column of "
                                f"cohort.patients; columns: "
                                f"{', '.join(map(str, by_patient.columns))}")
        miss = values.isna().to_numpy()
        why[miss & ~incomplete] = f"covariate {name} missing (regression models only)"
        incomplete |= miss
        if pd.api.types.is_bool_dtype(values) or not pd.api.types.is_numeric_dtype(values):
            text = values.astype("string")
            levels = sorted(text.dropna().unique())   # missing values are in `missing`
            if len(levels) < 2:
                raise AnalysisError(f"covariate {name!r} has fewer than two levels; it cannot "
                                    "be estimated")
            for level in levels[1:]:
                cols[f"{name}[{level}]"] = (text == level).fillna(False).to_numpy(dtype=float)
        else:
            cols[name] = values.to_numpy(dtype=float)
    X = pd.DataFrame(cols, index=pd.RangeIndex(len(events)))
    rows = np.flatnonzero(~incomplete)
    missing = pd.DataFrame({"patient_id": events["patient_id"].to_numpy()[incomplete],
                            "reason": why[incomplete]})
    return Design(X=X.iloc[rows].reset_index(drop=True), rows=rows, missing=missing)
