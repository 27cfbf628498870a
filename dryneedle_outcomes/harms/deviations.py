"""Protocol deviations of harms interest: needling a contraindicated patient, crossover.

A needled appointment is a protocol deviation when the patient is flagged in
``cohort.patients`` with a contraindication or precaution to dry needling
(pregnant, immunocompromised, anticoagulants, bleeding_disorder, diabetic_neuropathy,
peripheral_vascular_disease, lymphoedema, local_infection over the site, needle_fear;
DESIGN.md, Cotchett et al. 2014's exclusion criteria) or belongs to a sham/control
arm (``crossover``: a sham patient recorded as needled). Which reasons count is
configurable (``load_cohort(deviations=...)``, ``[data] deviations`` in the analysis
configuration; needle fear is off by default); the loader flags the same records in
the quality ledger (``cohort.protocol_deviations``, one flag per record and reason).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..arms import is_control_arm
from ..cohort import NO_DEVIATION_RULES, Cohort
from ..normalize.links import (
    CONTRAINDICATIONS,
    CROSSOVER,
    DEFAULT_DEVIATION_REASONS,
    check_deviation_reasons,
)
from ..results import AnalysisResult, NoComparison, as_table, nothing_fitted
from ..tables import TableResult
from .events import arms_of

#: The reasons counted by default (the loader's default, see ``normalize.links``).
REASONS = DEFAULT_DEVIATION_REASONS
DEVIATION_COLUMNS = ("arm", "reason", "n_patients", "patients_flagged", "patients_needled",
                     "needled_sessions", "needles")


@dataclass(frozen=True)
class ProtocolDeviations(NoComparison, AnalysisResult, TableResult):
    """Needled sessions in contraindicated patients, counted per arm and reason.

    Attributes
    ----------
    table : pandas.DataFrame
        Per arm and ``reason`` (each reason asked for, then "any"):
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
    if reason == CROSSOVER:
        arms = patients["arm"].astype(str)
        return arms.map({a: is_control_arm(a) for a in arms.unique()}).astype(bool)
    if reason not in patients:
        return pd.Series(False, index=patients.index)
    return patients[reason].astype("boolean").fillna(False).astype(bool)


def protocol_deviations(cohort: Cohort, *, reasons=None) -> ProtocolDeviations:
    """Needled sessions of contraindicated patients and of sham-arm patients, per arm.

    Parameters
    ----------
    cohort : Cohort
    reasons : sequence of str, optional
        Reasons to count (see the module docstring); default the reasons the loader
        flagged (``cohort.provenance["deviation_reasons"]``), else
        ``REASONS``. ``"crossover"`` counts the needled appointments of patients
        in a sham/control arm (by its name: sham, control, placebo, usual care).

    Returns
    -------
    ProtocolDeviations

    Examples
    --------
    >>> import dryneedle_outcomes as dno
    >>> from dryneedle_outcomes.harms import protocol_deviations
    >>> dev = protocol_deviations(dno.simulate_cohort(n_patients=40, seed=7),
    ...                           reasons=["pregnant", "immunocompromised", "crossover"])
    >>> sorted(dev.table["reason"].unique())
    ['any', 'crossover', 'immunocompromised', 'pregnant']
    """
    if reasons is None:
        reasons = cohort.provenance.get("deviation_reasons") if isinstance(
            cohort.provenance, dict) else None
    chosen = check_deviation_reasons(reasons)
    p = cohort.patients
    flags = pd.DataFrame({r: _flag(p, r).to_numpy() for r in chosen},
                         index=p["patient_id"].astype(str))
    a = cohort.visit_ratings().assessments  # one row per visit
    needled = (a["needled"].astype("boolean").fillna(False).astype(bool) if "needled" in a
               else pd.Series(False, index=a.index))
    rows_ = a.loc[needled.to_numpy()]
    s = pd.DataFrame({"patient_id": rows_["patient_id"].astype(str).to_numpy(),
                      "visit": rows_["visit"].to_numpy(dtype=int)})
    s.insert(1, "arm", s["patient_id"].map(p.set_index("patient_id")["arm"].astype(str)))
    for r in chosen:
        s[r] = s["patient_id"].map(flags[r]).fillna(False).to_numpy(dtype=bool)
    s["needles"] = (rows_["needles"].astype("Float64").to_numpy(dtype=float, na_value=np.nan)
                    if "needles" in rows_ else np.nan)
    s = s.loc[s[list(chosen)].any(axis=1)].sort_values(["patient_id", "visit"])
    s = s.reset_index(drop=True)
    arm_of = p["arm"].astype(str).to_numpy()
    rows = []
    for arm in arms_of(cohort):
        in_arm = arm_of == arm
        for reason in (*chosen, "any"):
            flagged = (flags.any(axis=1) if reason == "any" else flags[reason]).to_numpy()
            sub = s.loc[(s["arm"] == arm) & (s[list(chosen)].any(axis=1) if reason == "any"
                                             else s[reason])]
            rows.append({"arm": arm, "reason": reason, "n_patients": int(in_arm.sum()),
                         "patients_flagged": int((flagged & in_arm).sum()),
                         "patients_needled": int(sub["patient_id"].nunique()),
                         "needled_sessions": int(len(sub)),
                         "needles": int(np.nansum(sub["needles"].to_numpy(dtype=float)))})
    table = pd.DataFrame(rows, columns=list(DEVIATION_COLUMNS))
    n_ledger = len(cohort.protocol_deviations)
    n_mine = int(s[list(chosen)].to_numpy().sum())
    what = [f"{r} ({CONTRAINDICATIONS[r]})" if r in CONTRAINDICATIONS
            else "crossover (a sham/control-arm patient recorded as needled)"
            for r in chosen]
    notes = [
        ("Protocol deviation: a needled appointment (any visit) of a patient flagged "
         f"{'; '.join(what)}; 'any' counts each appointment once.") if chosen
        else NO_DEVIATION_RULES,
        f"The quality ledger lists {n_ledger} protocol-deviation flag(s) "
        f"(cohort.protocol_deviations, one per record and reason); this table finds "
        f"{n_mine}.",
    ]
    missing = [r for r in chosen if r not in p and r != CROSSOVER]
    if missing:
        notes.append(f"cohort.patients has no {' or '.join(missing)} column: treated as "
                     "not flagged.")
    return ProtocolDeviations(table=table, title="Needling of contraindicated or sham-arm "
                              "patients (protocol deviations)", notes=tuple(notes), sessions=s)
