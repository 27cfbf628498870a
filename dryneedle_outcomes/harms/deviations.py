"""Protocol deviations of harms interest: needling a patient with a contraindication.

Pregnancy and immunocompromise are contraindications to dry needling (DESIGN.md).
A needled appointment of a patient flagged ``pregnant`` or ``immunocompromised`` in
``cohort.patients`` is a protocol deviation; the loader flags the same records in the
quality ledger (``cohort.protocol_deviations``, one flag per record and reason).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..cohort import Cohort
from ..results import AnalysisResult, NoComparison, as_table, nothing_fitted
from ..tables import TableResult
from .events import arms_of

REASONS = ("pregnant", "immunocompromised")
DEVIATION_COLUMNS = ("arm", "reason", "n_patients", "patients_flagged", "patients_needled",
                     "needled_sessions", "needles")


@dataclass(frozen=True)
class ProtocolDeviations(NoComparison, AnalysisResult, TableResult):
    """Needled sessions in contraindicated patients, counted per arm and reason.

    Attributes
    ----------
    table : pandas.DataFrame
        Per arm and ``reason`` ("pregnant", "immunocompromised", "any"):
        ``n_patients`` (in the arm), ``patients_flagged``, ``patients_needled``
        (flagged and needled at least once), ``needled_sessions`` and ``needles``.
    sessions : pandas.DataFrame
        The deviating appointments: ``patient_id``, ``arm``, ``visit``, one bool column
        per reason, ``needles``.
    comparison : pandas.DataFrame
        Empty (the schema's columns): deviations are counted, not compared.
    """

    sessions: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)
    warnings: tuple[str, ...] = ()
    converged: bool = nothing_fitted()

    def tables(self) -> dict[str, TableResult]:
        """The deviations per arm and reason, with the notes."""
        return {"deviations": as_table(self)}

    def plot(self, ax=None, **kwargs):
        """Needled sessions of flagged patients per reason and arm; returns the Axes."""
        from ..plots.harms import plot_protocol_deviations

        return plot_protocol_deviations(self, ax=ax, **kwargs)


def _flag(patients: pd.DataFrame, reason: str) -> pd.Series:
    if reason not in patients:
        return pd.Series(False, index=patients.index)
    return patients[reason].astype("boolean").fillna(False).astype(bool)


def protocol_deviations(cohort: Cohort) -> ProtocolDeviations:
    """Needled sessions of patients flagged pregnant or immunocompromised, per arm.

    Parameters
    ----------
    cohort : Cohort

    Returns
    -------
    ProtocolDeviations

    Examples
    --------
    >>> import dryneedle_outcomes as dno
    >>> from dryneedle_outcomes.harms import protocol_deviations
    >>> dev = protocol_deviations(dno.simulate_cohort(n_patients=40, seed=7))
    >>> sorted(dev.table["reason"].unique())
    ['any', 'immunocompromised', 'pregnant']
    """
    p = cohort.patients
    flags = pd.DataFrame({r: _flag(p, r).to_numpy() for r in REASONS},
                         index=p["patient_id"].astype(str))
    a = cohort.visit_ratings().assessments  # one row per visit
    needled = (a["needled"].astype("boolean").fillna(False).astype(bool) if "needled" in a
               else pd.Series(False, index=a.index))
    rows_ = a.loc[needled.to_numpy()]
    s = pd.DataFrame({"patient_id": rows_["patient_id"].astype(str).to_numpy(),
                      "visit": rows_["visit"].to_numpy(dtype=int)})
    s.insert(1, "arm", s["patient_id"].map(p.set_index("patient_id")["arm"].astype(str)))
    for r in REASONS:
        s[r] = s["patient_id"].map(flags[r]).fillna(False).to_numpy(dtype=bool)
    s["needles"] = (rows_["needles"].astype("Float64").to_numpy(dtype=float, na_value=np.nan)
                    if "needles" in rows_ else np.nan)
    s = s.loc[s[list(REASONS)].any(axis=1)].sort_values(["patient_id", "visit"])
    s = s.reset_index(drop=True)
    arm_of = p["arm"].astype(str).to_numpy()
    rows = []
    for arm in arms_of(cohort):
        in_arm = arm_of == arm
        for reason in (*REASONS, "any"):
            flagged = (flags.any(axis=1) if reason == "any" else flags[reason]).to_numpy()
            sub = s.loc[(s["arm"] == arm) & (s[list(REASONS)].any(axis=1) if reason == "any"
                                             else s[reason])]
            rows.append({"arm": arm, "reason": reason, "n_patients": int(in_arm.sum()),
                         "patients_flagged": int((flagged & in_arm).sum()),
                         "patients_needled": int(sub["patient_id"].nunique()),
                         "needled_sessions": int(len(sub)),
                         "needles": int(np.nansum(sub["needles"].to_numpy(dtype=float)))})
    table = pd.DataFrame(rows, columns=list(DEVIATION_COLUMNS))
    n_ledger = len(cohort.protocol_deviations)
    n_mine = int(s[list(REASONS)].to_numpy().sum())
    notes = [
        "Protocol deviation: a needled appointment (any visit) of a patient flagged "
        "pregnant or immunocompromised (contraindications to dry needling); 'any' counts "
        "each appointment once.",
        f"The quality ledger lists {n_ledger} protocol-deviation flag(s) "
        f"(cohort.protocol_deviations, one per record and reason); this table finds "
        f"{n_mine}.",
    ]
    missing = [r for r in REASONS if r not in p]
    if missing:
        notes.append(f"cohort.patients has no {' or '.join(missing)} column: treated as "
                     "not flagged.")
    return ProtocolDeviations(table=table, title="Needling of contraindicated patients "
                              "(protocol deviations)", notes=tuple(notes), sessions=s)
