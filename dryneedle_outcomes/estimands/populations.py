"""The per-protocol population, beside (never instead of) the randomised one.

ICH E9 (1998) section 5.2.2 defines the per-protocol set as the subset of patients
who complied sufficiently with the protocol (e.g. exposure to treatment); ICH E9(R1)
(2019) A.3.2 notes that such a population is a principal stratum defined by
post-randomisation behaviour, so a comparison within it is not protected by
randomisation. CONSORT 2025 item 26 asks for the number analysed in each population,
per arm. Here the rule is declared (``[estimand] per_protocol = { min_sessions = 4 }``),
counted from the session data, and reported next to the randomised population.

Counting sessions received
    A session visit (:meth:`~dryneedle_outcomes.Cohort.session_visits`, or the rule's
    ``session_visits``) counts as received when the patient has an assessment record
    there and, in a needling arm, was needled at it (``needled`` true or ``needles`` >
    0); in a sham/control arm (:func:`~dryneedle_outcomes.arms.is_control_arm`) the
    attended visit counts (the sham procedure is not recorded as needling). Sessions at
    or after a ``discontinued_treatment`` or ``adverse_event_withdrawal`` event's first
    affected visit do not count (treatment had stopped), whatever was recorded.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..arms import is_control_arm
from ..cohort import Cohort, needled_rows
from ..results import AnalysisResult, NoComparison, nothing_fitted
from ..tables import TableResult
from .estimand import PerProtocolRule

#: Events after which no session counts as received.
STOPS_TREATMENT = ("discontinued_treatment", "adverse_event_withdrawal")


@dataclass(frozen=True)
class Populations(NoComparison, AnalysisResult):
    """The randomised and per-protocol populations, per arm.

    Attributes
    ----------
    patients : pandas.DataFrame
        One row per randomised patient: ``patient_id``, ``arm``, ``sessions`` (received)
        and ``per_protocol`` (bool).
    counts : pandas.DataFrame
        Per arm: ``arm``, ``randomised``, ``per_protocol``, ``excluded`` (randomised but
        not per protocol) and ``session_visits`` (how many sessions the protocol has).
    rule : PerProtocolRule
    notes, warnings : tuple of str
    """

    patients: pd.DataFrame
    counts: pd.DataFrame
    rule: PerProtocolRule
    notes: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    converged: bool = nothing_fitted()

    @property
    def per_protocol_ids(self) -> list[str]:
        """The patients of the per-protocol population."""
        return self.patients.loc[self.patients["per_protocol"], "patient_id"].tolist()

    def tables(self) -> dict[str, TableResult]:
        """The counts per arm, with the rule in the notes."""
        return {"populations": TableResult(self.counts, title="Analysis populations",
                                           notes=self.notes)}

    def plot(self, ax=None, **kwargs):
        """Randomised and per-protocol patients per arm as grouped bars; returns the Axes."""
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots()
        x = np.arange(len(self.counts))
        ax.bar(x - 0.2, self.counts["randomised"], width=0.4, label="randomised", **kwargs)
        ax.bar(x + 0.2, self.counts["per_protocol"], width=0.4, label="per protocol",
               **kwargs)
        ax.set_xticks(x, self.counts["arm"].astype(str))
        ax.set_ylabel("patients")
        ax.legend()
        return ax


def received_session_rows(cohort: Cohort, session_visits=None) -> np.ndarray:
    """Per row of the visit ratings (one per patient x visit): a session received?

    The module docstring's rule; the rows are those of
    ``cohort.visit_ratings().assessments`` (``cohort.assessments`` without a ``timing``
    column). :func:`sessions_received` counts them per patient.

    Examples
    --------
    >>> import dryneedle_outcomes as dno
    >>> cohort = dno.simulate_cohort(n_patients=10, seed=2)
    >>> rows = received_session_rows(cohort)
    >>> int(rows.sum()) == int(sessions_received(cohort).sum())
    True
    """
    visits = cohort.session_visits(session_visits)
    a = cohort.assessments
    if "timing" in a:  # one record per visit
        a = cohort.visit_ratings().assessments
    arm = a["patient_id"].map(cohort.patients.set_index("patient_id")["arm"])
    control = arm.astype(str).map({x: is_control_arm(x) for x in cohort.arms}).to_numpy(
        dtype=bool)
    at_session = a["visit"].isin(visits).to_numpy()
    has_dose = "needled" in a or "needles" in a
    dosed = (control | needled_rows(a)) if has_dose else np.ones(len(a), dtype=bool)
    received = at_session & dosed
    ev = cohort.intercurrent_events
    stop = ev.loc[ev["event"].isin(STOPS_TREATMENT)].groupby("patient_id")["visit"].min()
    stopped_at = a["patient_id"].map(stop).to_numpy(dtype=float)
    received &= ~(a["visit"].to_numpy() >= stopped_at)  # NaN (never stopped) compares False
    return received


def sessions_received(cohort: Cohort, session_visits=None) -> pd.Series:
    """Sessions received per patient (the module docstring's rule), 0 when none.

    Examples
    --------
    >>> import dryneedle_outcomes as dno
    >>> cohort = dno.simulate_cohort(n_patients=10, seed=2)
    >>> int(sessions_received(cohort).max())
    6
    """
    received = received_session_rows(cohort, session_visits)
    a = cohort.assessments
    if "timing" in a:
        a = cohort.visit_ratings().assessments
    counts = pd.Series(received.astype(np.int64)).groupby(a["patient_id"].to_numpy()).sum()
    return counts.reindex(cohort.patients["patient_id"].to_numpy(), fill_value=0)


def per_protocol_population(cohort: Cohort, rule: PerProtocolRule | dict | None = None, *,
                            min_sessions: int | None = None) -> Populations:
    """The per-protocol population by a declared rule, beside the randomised population.

    Parameters
    ----------
    cohort : Cohort
    rule : PerProtocolRule or dict, optional
        ``{"min_sessions": 4}`` (and optionally ``session_visits``).
    min_sessions : int, optional
        The same as ``rule={"min_sessions": ...}``.

    Returns
    -------
    Populations
        ``counts`` per arm (randomised, per protocol, excluded) and, per patient,
        sessions received and membership. The randomised population is every patient
        of the cohort, always reported.

    Raises
    ------
    ConfigError
        For a malformed rule (no rule at all included).
    AnalysisError
        When the treatment sessions cannot be told (no needling recorded: pass
        ``session_visits`` in the rule).

    Examples
    --------
    >>> import dryneedle_outcomes as dno
    >>> pop = dno.per_protocol_population(dno.simulate_cohort(n_patients=40, seed=7),
    ...                                   min_sessions=4)
    >>> pop.counts.columns.tolist()
    ['arm', 'randomised', 'per_protocol', 'excluded', 'session_visits']
    >>> int(pop.counts["randomised"].sum())
    40
    """
    from ..errors import ConfigError

    if rule is None and min_sessions is not None:
        rule = {"min_sessions": min_sessions}
    elif rule is not None and min_sessions is not None:
        raise ConfigError("give the per-protocol rule either as rule= or as min_sessions=, "
                          "not both")
    rule = PerProtocolRule.from_any(rule)
    if rule is None:
        raise ConfigError("a per-protocol population needs a rule, e.g. min_sessions=4")
    n_visits = len(cohort.session_visits(rule.session_visits))
    got = sessions_received(cohort, rule.session_visits)
    patients = cohort.patients[["patient_id", "arm"]].reset_index(drop=True)
    patients["sessions"] = got.to_numpy()
    patients["per_protocol"] = patients["sessions"] >= rule.min_sessions
    counts = patients.groupby("arm", observed=False).agg(
        randomised=("patient_id", "size"), per_protocol=("per_protocol", "sum")).reset_index()
    counts["per_protocol"] = counts["per_protocol"].astype(np.int64)
    counts["excluded"] = counts["randomised"] - counts["per_protocol"]
    counts["session_visits"] = n_visits
    counts["arm"] = counts["arm"].astype(str)
    notes = (
        f"Per-protocol rule: {rule.describe()} ({n_visits} session visits). A session "
        "counts when attended and, in a needling arm, needled; none after treatment was "
        "discontinued.",
        "The randomised population (every patient, in the arm allocated) is the primary "
        "one; the per-protocol population is reported beside it, not instead of it (ICH E9 "
        "5.2; ICH E9(R1) A.3.2).",
    )
    return Populations(patients=patients, counts=counts, rule=rule, notes=notes)


__all__ = ["Populations", "per_protocol_population", "received_session_rows", "sessions_received",
           "STOPS_TREATMENT"]
