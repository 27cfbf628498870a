"""Apply an estimand's strategies to a cohort's assessments of one outcome.

ICH E9(R1) (2019) A.3.2: under the **hypothetical** and **while-on-treatment**
strategies the values observed at and after an intercurrent event do not measure the
variable of interest; under **treatment policy** they do; under the **composite**
strategy the event itself becomes part of the variable. :func:`apply_estimand` turns
that into data: it returns the rows an analysis uses, the rows set aside (never deleted
from the cohort: they stay in ``cohort.assessments``), one ledger line per set-aside row
(rule ``not_used_for_estimand``), and the per-patient table of first affected visits an
imputation analysis consumes (``EstimandData.ice``: ``patient_id``, ``visit``,
``strategy``; one row per patient, as rbmi's ``data_ice``, Gower-Gibson et al. 2022).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..cohort import Cohort
from ..errors import AnalysisError
from ..results import AnalysisResult, NoComparison, nothing_fitted
from ..tables import TableResult
from .estimand import STRATEGIES, Estimand

#: Strategies whose values at and after the event are set aside, in the order that
#: breaks a tie (two such events at one patient's same first visit): while on treatment
#: first (the variable is not defined after the event, so nothing is imputed there).
SET_ASIDE = ("while_on_treatment", "hypothetical")

#: The columns of ``EstimandData.ice`` (the imputation analysis's input).
ICE_TABLE_COLUMNS = ("patient_id", "visit", "strategy")

#: The columns of ``EstimandData.ledger``.
LEDGER_COLUMNS = ("table", "patient_id", "visit", "column", "value", "rule", "message")


@dataclass(frozen=True)
class EstimandData(NoComparison, AnalysisResult):
    """The analysis data of one outcome under an estimand.

    Attributes
    ----------
    estimand : Estimand
    outcome : str
    data : pandas.DataFrame
        The assessment rows of the estimand's population that an analysis uses:
        ``patient_id``, ``arm``, ``visit``, ``day``, the outcome, and ``composite_event``
        (True at and after the first visit of an event handled by the composite
        strategy: a responder analysis counts such a visit as non-response).
    set_aside : pandas.DataFrame
        The rows not used for this estimand, with ``event``, ``strategy`` and
        ``ice_visit`` (the event's first affected visit). They remain in the cohort.
    ledger : pandas.DataFrame
        One line per set-aside row (``LEDGER_COLUMNS``, rule
        ``not_used_for_estimand``).
    events : pandas.DataFrame
        The cohort's intercurrent events of the population with their ``strategy``.
    ice : pandas.DataFrame
        Per patient with a set-aside strategy: ``patient_id``, ``visit`` (first visit
        affected) and ``strategy`` (``hypothetical`` or ``while_on_treatment``): the
        input of an imputation analysis (impute from ``visit`` on under hypothetical).
    population : pandas.DataFrame
        ``patient_id``, ``arm`` of the estimand's population.
    """

    estimand: Estimand
    outcome: str
    data: pd.DataFrame
    set_aside: pd.DataFrame
    ledger: pd.DataFrame
    events: pd.DataFrame
    ice: pd.DataFrame
    population: pd.DataFrame
    notes: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    converged: bool = nothing_fitted()

    def counts(self) -> pd.DataFrame:
        """Per arm: patients, rows used, rows set aside, rows flagged composite."""
        used = self.data.groupby("arm", observed=False).agg(
            rows_used=("visit", "size"), composite_rows=("composite_event", "sum"))
        aside = self.set_aside.groupby("arm", observed=False).size().rename("rows_set_aside")
        pts = self.population.groupby("arm", observed=False).size().rename("patients")
        out = pd.concat([pts, used, aside], axis=1).fillna(0).astype(np.int64)
        out.index = out.index.astype(str)
        return out.rename_axis("arm").reset_index()

    def analysis_cohort(self, cohort: Cohort, *, composite: bool = False) -> Cohort:
        """``cohort`` with the set-aside values of the outcome made missing, for analyses.

        A copy: ``cohort`` itself is not changed. The outcome is left missing at every
        set-aside patient x visit (and, with ``composite=True``, at the visits flagged
        ``composite_event``, so that a responder analysis counting a missing visit as
        non-response, ``missing="non_responder"``, counts them as non-response); only
        the estimand's population is kept. A likelihood analysis of the result (the
        MMRM of :func:`~dryneedle_outcomes.fit_trajectory`) estimates the hypothetical
        strategy under missing at random (ICH E9(R1) A.5.2.1 notes that the
        assumptions about the missing values must be stated).

        Examples
        --------
        >>> import pandas as pd
        >>> import dryneedle_outcomes as dno
        >>> pts = pd.DataFrame({"patient_id": ["P1", "P2"], "arm": ["dry_needling", "sham"]})
        >>> visits = pd.DataFrame({"patient_id": ["P1"] * 3 + ["P2"] * 3,
        ...                        "visit": [0, 1, 2] * 2,
        ...                        "first_step_pain": [70.0, 60, 50, 68, 66, 64]})
        >>> ice = pd.DataFrame({"patient_id": ["P1"], "visit": [2], "event": ["NSAIDs"]})
        >>> cohort = dno.load_cohort(visits, pts, intercurrent_events=ice)
        >>> res = dno.apply_estimand(cohort, dno.Estimand(
        ...     intercurrent={"rescue_medication": "hypothetical"}))
        >>> res.analysis_cohort(cohort).assessments["first_step_pain"].tolist()
        [70.0, 60.0, nan, 68.0, 66.0, 64.0]
        """
        a = cohort.assessments
        keep = a["patient_id"].isin(self.population["patient_id"]).to_numpy()
        hidden = self.set_aside[["patient_id", "visit"]]
        if composite:
            flagged = self.data.loc[self.data["composite_event"], ["patient_id", "visit"]]
            hidden = pd.concat([hidden, flagged], ignore_index=True)
        keys = pd.MultiIndex.from_frame(a[["patient_id", "visit"]].astype(object))
        hide = keys.isin(pd.MultiIndex.from_frame(hidden.astype(object))) if len(hidden) \
            else np.zeros(len(a), dtype=bool)
        out = a.copy()
        out[self.outcome] = out[self.outcome].mask(pd.Series(hide, index=out.index))
        out = out.loc[keep].reset_index(drop=True)
        pats = cohort.patients.loc[cohort.patients["patient_id"].isin(
            self.population["patient_id"])].reset_index(drop=True)
        return dataclasses.replace(cohort, assessments=out, patients=pats)

    def tables(self) -> dict[str, TableResult]:
        """The estimand table and the rows used and set aside per arm."""
        return {**self.estimand.tables(),
                "estimand_data": TableResult(self.counts(), title=f"Data of {self.outcome} "
                                             "under the estimand", notes=self.notes)}

    def plot(self, ax=None, **kwargs):
        """Rows set aside per visit and strategy (stacked bars); returns the Axes."""
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots()
        per = (self.set_aside.groupby(["visit", "strategy"]).size().unstack(fill_value=0)
               if len(self.set_aside) else pd.DataFrame())
        bottom = np.zeros(len(per))
        for strategy in per.columns:
            ax.bar(per.index.to_numpy(), per[strategy].to_numpy(), bottom=bottom,
                   label=str(strategy), **kwargs)
            bottom += per[strategy].to_numpy()
        ax.set_xlabel("visit")
        ax.set_ylabel("values set aside")
        if len(per.columns):
            ax.legend()
        return ax


def _population(cohort: Cohort, estimand: Estimand) -> pd.DataFrame:
    pats = cohort.patients[["patient_id", "arm"]].reset_index(drop=True)
    if estimand.population == "per_protocol":
        from .populations import per_protocol_population

        pop = per_protocol_population(cohort, estimand.per_protocol)
        pats = pats.loc[pop.patients["per_protocol"].to_numpy()].reset_index(drop=True)
    return pats


def _events(cohort: Cohort, estimand: Estimand, ids: pd.Series) -> pd.DataFrame:
    ev = cohort.intercurrent_events
    ev = ev.loc[ev["patient_id"].isin(ids)].reset_index(drop=True)
    present = pd.unique(ev["event"].astype(str))
    undeclared = [e for e in present if e not in estimand.intercurrent]
    if undeclared:
        raise AnalysisError(
            f"the cohort has intercurrent events without a strategy in the estimand: "
            f"{', '.join(sorted(undeclared))}; ICH E9(R1) asks for the handling of every "
            f"intercurrent event: add them to intercurrent={{event: strategy}} with a "
            f"strategy among {', '.join(STRATEGIES)}")
    ev = ev.copy()
    ev["strategy"] = ev["event"].astype(str).map(estimand.intercurrent)
    return ev


def _first_visits(ev: pd.DataFrame, strategies: tuple[str, ...]) -> pd.DataFrame:
    """Per patient, the earliest event with one of ``strategies`` (ties by their order)."""
    sub = ev.loc[ev["strategy"].isin(strategies)].copy()
    sub["_rank"] = sub["strategy"].map({s: i for i, s in enumerate(strategies)})
    sub = sub.sort_values(["patient_id", "visit", "_rank"], kind="stable")
    return sub.drop_duplicates("patient_id")[["patient_id", "visit", "event", "strategy"]] \
        .reset_index(drop=True)


def ice_table(cohort: Cohort, estimand: Estimand) -> pd.DataFrame:
    """Per patient, the first visit whose value the estimand sets aside, and why.

    The table an imputation analysis consumes (as rbmi's ``data_ice``): values of a
    patient from ``visit`` on are not used; under ``hypothetical`` they are imputed,
    under ``while_on_treatment`` not.

    Returns
    -------
    pandas.DataFrame
        ``patient_id``, ``visit``, ``strategy`` (``ICE_TABLE_COLUMNS``).

    Examples
    --------
    >>> import pandas as pd
    >>> import dryneedle_outcomes as dno
    >>> pts = pd.DataFrame({"patient_id": ["P1", "P2"], "arm": ["dry_needling", "sham"]})
    >>> visits = pd.DataFrame({"patient_id": ["P1"] * 3 + ["P2"] * 3, "visit": [0, 1, 2] * 2,
    ...                        "first_step_pain": [70.0, 60, 50, 68, 66, 64]})
    >>> ice = pd.DataFrame({"patient_id": ["P1", "P2"], "visit": [2, 1],
    ...                     "event": ["rescue_medication", "orthoses"]})
    >>> cohort = dno.load_cohort(visits, pts, intercurrent_events=ice)
    >>> est = dno.Estimand(intercurrent={"rescue_medication": "hypothetical",
    ...                                  "orthoses": "treatment_policy"})
    >>> dno.ice_table(cohort, est)
      patient_id  visit      strategy
    0         P1      2  hypothetical
    """
    ids = _population(cohort, estimand)["patient_id"]
    return _first_visits(_events(cohort, estimand, ids), SET_ASIDE)[list(ICE_TABLE_COLUMNS)]


def treatment_policy_stops(cohort: Cohort, estimand: Estimand) -> pd.DataFrame:
    """Per patient, the first visit after stopping treatment or leaving the trial, when the
    estimand keeps that event's values (treatment policy).

    The events of ``ONCE_ONLY`` (``discontinued_treatment``, ``withdrew_from_study``,
    ``adverse_event_withdrawal``) handled by ``treatment_policy``: the values observed
    after them are used, and an imputation analysis imputes the missing ones under its
    assumption about patients off treatment (jump to reference, copy reference, ...;
    Carpenter, Roger & Kenward 2013; rbmi's ``data_ice`` for a treatment-policy
    estimand, Wolbers et al. 2022). Concomitant treatments are not listed (the patient
    is still on the assigned treatment).

    Returns
    -------
    pandas.DataFrame
        ``patient_id``, ``visit``, ``strategy`` (``ICE_TABLE_COLUMNS``).

    Examples
    --------
    >>> import pandas as pd
    >>> import dryneedle_outcomes as dno
    >>> pts = pd.DataFrame({"patient_id": ["P1", "P2"], "arm": ["dry_needling", "sham"]})
    >>> visits = pd.DataFrame({"patient_id": ["P1"] * 3 + ["P2"] * 3, "visit": [0, 1, 2] * 2,
    ...                        "first_step_pain": [70.0, 60, None, 68, 66, 64]})
    >>> ice = pd.DataFrame({"patient_id": ["P1", "P2"], "visit": [2, 1],
    ...                     "event": ["withdrew_from_study", "rescue_medication"]})
    >>> cohort = dno.load_cohort(visits, pts, intercurrent_events=ice)
    >>> est = dno.Estimand(intercurrent={"withdrew_from_study": "treatment_policy",
    ...                                  "rescue_medication": "treatment_policy"})
    >>> treatment_policy_stops(cohort, est)
      patient_id  visit          strategy
    0         P1      2  treatment_policy
    """
    from ..normalize.intercurrent_events import ONCE_ONLY

    ev = _events(cohort, estimand, _population(cohort, estimand)["patient_id"])
    ev = ev.loc[ev["event"].astype(str).isin(ONCE_ONLY)]
    return _first_visits(ev, ("treatment_policy",))[list(ICE_TABLE_COLUMNS)]


def composite_visits(cohort: Cohort, estimand: Estimand) -> pd.DataFrame:
    """Per patient, the first visit of an event the estimand handles by the composite
    strategy (from that visit on the event is part of the variable: for a responder
    variable, not responding; ICH E9(R1) A.3.2).

    Returns
    -------
    pandas.DataFrame
        ``patient_id``, ``visit``, ``event``.

    Examples
    --------
    >>> import pandas as pd
    >>> import dryneedle_outcomes as dno
    >>> rows = [(p, v, 70.0 - 5 * v) for p in ("A1", "B1") for v in range(3)]
    >>> visits = pd.DataFrame(rows, columns=["patient_id", "visit", "first_step_pain"])
    >>> arms = pd.DataFrame({"patient_id": ["A1", "B1"], "arm": ["dry_needling", "sham"]})
    >>> events = pd.DataFrame({"patient_id": ["B1"], "visit": [1], "event": ["shockwave"]})
    >>> cohort = dno.load_cohort(visits, arms, intercurrent_events=events)
    >>> composite_visits(cohort, dno.Estimand(intercurrent={"shockwave": "composite"}))
      patient_id  visit      event
    0         B1      1  shockwave
    """
    ids = _population(cohort, estimand)["patient_id"]
    return _first_visits(_events(cohort, estimand, ids), ("composite",))[
        ["patient_id", "visit", "event"]]


def apply_estimand(cohort: Cohort, estimand: Estimand, *,
                   outcome: str | None = None) -> EstimandData:
    """The analysis data of ``outcome`` under ``estimand``'s intercurrent-event strategies.

    Parameters
    ----------
    cohort : Cohort
        With ``cohort.intercurrent_events`` (loaded with ``intercurrent_events=``).
    estimand : Estimand
    outcome : str, optional
        The outcome column; default the estimand's ``variable``.

    Returns
    -------
    EstimandData
        ``data`` (rows used, with ``composite_event``), ``set_aside`` and ``ledger``
        (values at and after a hypothetical or while-on-treatment event, not used for
        this estimand and never deleted from the cohort), ``events`` and ``ice``
        (:func:`ice_table`).

    Raises
    ------
    AnalysisError
        When the cohort has an intercurrent event the estimand gives no strategy for
        (ICH E9(R1) asks for every one), or ``outcome`` is not in the assessments.

    Notes
    -----
    The strategies follow ICH E9(R1) (2019) A.3.2 (see ``STRATEGIES``). Baseline
    values (visit 0) are never set aside: an intercurrent event happens after treatment
    starts, so its first affected visit is 1 or later. Under ``treatment_policy`` the
    values are used as observed; under ``composite`` they are kept and flagged.

    Examples
    --------
    >>> import pandas as pd
    >>> import dryneedle_outcomes as dno
    >>> pts = pd.DataFrame({"patient_id": ["P1", "P2"], "arm": ["dry_needling", "sham"]})
    >>> visits = pd.DataFrame({"patient_id": ["P1"] * 3 + ["P2"] * 3, "visit": [0, 1, 2] * 2,
    ...                        "first_step_pain": [70.0, 60, 50, 68, 66, 64]})
    >>> ice = pd.DataFrame({"patient_id": ["P1"], "visit": [2], "event": ["NSAIDs"]})
    >>> cohort = dno.load_cohort(visits, pts, intercurrent_events=ice)
    >>> est = dno.Estimand(intercurrent={"rescue_medication": "hypothetical"})
    >>> res = dno.apply_estimand(cohort, est)
    >>> res.set_aside[["patient_id", "visit", "strategy"]]
      patient_id  visit      strategy
    0         P1      2  hypothetical
    >>> len(res.data), len(cohort.assessments)
    (5, 6)
    """
    outcome = outcome or estimand.variable
    if outcome not in cohort.assessments:
        raise AnalysisError(f"outcome {outcome!r} is not in this cohort's assessments; "
                            f"available: {', '.join(cohort.instruments) or 'none'}")
    pop = _population(cohort, estimand)
    ev = _events(cohort, estimand, pop["patient_id"])
    a = cohort.visit_ratings().assessments if cohort.has_timing else cohort.assessments
    a = a.loc[a["patient_id"].isin(pop["patient_id"])]
    cols = [c for c in ("patient_id", "visit", "day") if c in a] + [outcome]
    rows = a[cols].reset_index(drop=True)
    rows.insert(1, "arm", rows["patient_id"].map(pop.set_index("patient_id")["arm"]).astype(
        cohort.patients["arm"].dtype))
    first = _first_visits(ev, SET_ASIDE).set_index("patient_id")
    ice_visit = rows["patient_id"].map(first["visit"]).to_numpy(dtype=float)
    aside = rows["visit"].to_numpy() >= ice_visit  # NaN: no such event, compares False
    comp = _first_visits(ev, ("composite",)).set_index("patient_id")["visit"]
    rows["composite_event"] = rows["visit"].to_numpy() >= rows["patient_id"].map(comp) \
        .to_numpy(dtype=float)
    data = rows.loc[~aside].reset_index(drop=True)
    set_aside = rows.loc[aside].drop(columns="composite_event").reset_index(drop=True)
    pid = set_aside["patient_id"]
    set_aside["event"] = pid.map(first["event"]).astype(str).to_numpy()
    set_aside["strategy"] = pid.map(first["strategy"]).to_numpy()
    set_aside["ice_visit"] = pid.map(first["visit"]).astype("int64").to_numpy()
    message = ("not used for this estimand: at or after the patient's "
               + set_aside["event"] + " (first affected visit "
               + set_aside["ice_visit"].astype(str) + "), handled by the "
               + set_aside["strategy"] + " strategy; kept in cohort.assessments")
    ledger = pd.DataFrame({"table": "assessments", "patient_id": pid,
                           "visit": set_aside["visit"], "column": outcome,
                           "value": set_aside[outcome], "rule": "not_used_for_estimand",
                           "message": message}, columns=list(LEDGER_COLUMNS))
    notes = [f"{len(set_aside)} value(s) of {len(first)} patient(s) not used for this "
             "estimand (hypothetical / while-on-treatment strategies; listed in .ledger, "
             "kept in the cohort)."]
    n_comp = int(data["composite_event"].sum())
    if n_comp:
        notes.append(f"{n_comp} visit(s) at or after a composite-strategy event: counted as "
                     "non-response by a responder analysis.")
    return EstimandData(estimand=estimand, outcome=outcome, data=data, set_aside=set_aside,
                        ledger=ledger, events=ev, ice=first.reset_index()[
                            list(ICE_TABLE_COLUMNS)],
                        population=pop, notes=tuple(notes))
