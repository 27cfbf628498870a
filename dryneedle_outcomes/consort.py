"""The CONSORT 2025 participant flow, counted from the cohort, its ledger and the analyses.

CONSORT 2025 (Hopewell et al. 2025, BMJ 388:e081123) items 22a and 22b ask, for each
group, the numbers randomly assigned, who received the intended intervention and who
were analysed for the primary outcome, and the losses and exclusions after randomisation
with reasons; its flow diagram has four stages: **enrolment** (assessed for
eligibility, excluded with reasons, randomised), **allocation** (allocated to each arm;
received the allocated intervention; did not receive it, with reasons), **follow-up**
(lost to follow-up with reasons; discontinued the intervention with reasons) and
**analysis** (analysed; excluded from the analysis with reasons).

Every number here is counted from a named source (the ``source`` column of
:attr:`ConsortFlow.counts`):

- randomised and allocated: the patients register (``cohort.patients``), the rows the
  quality ledger rejected from it stated beside it with their rule (not counted as
  randomised: their identity or arm could not be read);
- assessed for eligibility and excluded before randomisation: only when given
  (``assessed=``, ``excluded_before_randomisation=``; ``[consort]`` in analysis.toml),
  otherwise "not recorded" (the data hold randomised patients only);
- received the allocated intervention: at least one session received
  (:func:`~dryneedle_outcomes.estimands.populations.sessions_received`), with the median
  and range of sessions per arm;
- lost to follow-up: a ``withdrew_from_study`` intercurrent event (its visit and
  reason), or, without one, no assessment from some scheduled visit on (the first such
  visit; reason not recorded);
- discontinued the intervention: a ``discontinued_treatment`` or
  ``adverse_event_withdrawal`` event (its first visit and reason);
- analysed: the patients each analysis result actually used (the rows of a trajectory
  model, the patients of a multiple imputation, the responder denominators, the
  time-to-relief events), and every other randomised patient as excluded from that
  analysis with the result's own reason.

:meth:`ConsortFlow.check` verifies the identities: allocated = analysed + excluded for
every analysis and arm, randomised = the register's kept rows (= read - rejected in the
ledger), and, when given, assessed = excluded before randomisation + randomised.

Examples
--------
>>> import dryneedle_outcomes as dno
>>> cohort = dno.simulate_cohort(n_patients=40, seed=7)
>>> flow = dno.consort_flow(cohort)
>>> flow.allocated
{'dry_needling': 20, 'sham': 20}
>>> bool(flow.check()["holds"].all())
True
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .cohort import Cohort
from .consort_analyses import analysed_patients
from .errors import AnalysisError, DataQualityWarning
from .results import AnalysisResult, NoComparison, nothing_fitted
from .tables import TableResult

#: The four stages of the CONSORT 2025 flow diagram, in order.
STAGES = ("enrolment", "allocation", "follow_up", "analysis")
#: The columns of :attr:`ConsortFlow.counts`.
COUNT_COLUMNS = ("stage", "arm", "box", "visit", "analysis", "count", "reason", "source")
#: Intercurrent events that end the intervention (not follow-up).
DISCONTINUED = ("discontinued_treatment", "adverse_event_withdrawal")
#: The intercurrent event that ends follow-up.
WITHDREW = "withdrew_from_study"
NOT_RECORDED = "reason not recorded"
#: ``arm`` of the rows that concern every arm (enrolment, the ledger).
ALL_ARMS = "all"


#: The keys of a row of ``ConsortFlow.counts`` (before its final column order).
ROW_KEYS = ["stage", "arm", "box", "visit", "analysis", "count", "reason", "source"]


def _rows(stage: str, arm, box: str, count, *, reason=np.nan, source: str, visit=np.nan,
          analysis=np.nan) -> dict:
    return {"stage": stage, "arm": arm, "box": box, "visit": visit, "analysis": analysis,
            "count": count, "reason": reason, "source": source}


def _by_reason(frame: pd.DataFrame, stage: str, box: str, source: str,
               arms: list[str], analysis=np.nan) -> list[dict]:
    """Per arm: the total of ``frame`` (one row per patient: arm, reason) and per reason."""
    out = []
    total = frame.groupby("arm", observed=False).size().reindex(arms, fill_value=0)
    per = (frame.groupby(["arm", "reason"], observed=True).size() if len(frame)
           else pd.Series(dtype="int64"))
    per = per.rename("count").reset_index() if len(per) else \
        pd.DataFrame({"arm": [], "reason": [], "count": []})
    per = per.assign(stage=stage, box=box, visit=np.nan, analysis=analysis, source=source,
                     reason=per["reason"].astype(str), count=per["count"].astype(int))
    for arm in arms:   # a loop over arms; the reasons of an arm in one conversion
        out.append(_rows(stage, arm, box, int(total[arm]), source=source, analysis=analysis))
        out.extend(per.loc[per["arm"] == arm, ROW_KEYS].to_dict("records"))
    return out


@dataclass(frozen=True)
class ConsortFlow(NoComparison, AnalysisResult):
    """The CONSORT 2025 participant flow of a cohort (see the module docstring).

    Attributes
    ----------
    counts : pandas.DataFrame
        Long format, one row per number of the diagram: ``stage`` (one of ``STAGES``:
        enrolment, allocation, follow_up, analysis), ``arm`` (``"all"`` for enrolment),
        ``box`` (what is counted),
        ``visit`` (the visit of a loss or discontinuation; NaN otherwise), ``analysis``
        (the analysis of an analysed/excluded count), ``count``, ``reason`` (NaN for a
        box's total) and ``source`` (where the number comes from).
    by_visit : pandas.DataFrame
        Per arm and visit: ``allocated``, ``attended`` (an assessment record),
        ``assessed`` (the outcome recorded), ``lost`` (lost to follow-up from this visit
        on), ``lost_so_far``, ``discontinued`` (intervention stopped from this visit on)
        and ``discontinued_so_far``.
    patients : pandas.DataFrame
        One row per randomised patient: ``patient_id``, ``arm``, ``sessions``,
        ``lost_visit``, ``lost_reason``, ``discontinued_visit``, ``discontinued_reason``.
    analyses : pandas.DataFrame
        Per analysis and arm: ``analysis``, ``arm``, ``allocated``, ``analysed``,
        ``excluded``, ``source``.
    arms : tuple of str
    outcome : str or None
    primary_visit : int or None
    notes, warnings : tuple of str
    """

    counts: pd.DataFrame
    by_visit: pd.DataFrame
    patients: pd.DataFrame
    analyses: pd.DataFrame
    arms: tuple[str, ...]
    outcome: str | None = None
    primary_visit: int | None = None
    register: dict | None = None
    notes: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    converged: bool = nothing_fitted()

    # ------------------------------------------------------------------ lookups
    def total(self, stage: str, box: str, arm: str = ALL_ARMS, analysis=None) -> int | None:
        """The total of one box (the row without a reason); None when not recorded."""
        c = self.counts
        rows = c[(c["stage"] == stage) & (c["box"] == box) & (c["arm"] == arm)
                 & c["reason"].isna()]
        if analysis is not None:
            rows = rows[rows["analysis"] == analysis]
        if rows.empty or pd.isna(rows["count"].iloc[0]):
            return None
        return int(rows["count"].iloc[0])

    @property
    def randomised(self) -> int:
        """Patients randomised (the register's kept rows)."""
        return int(self.total("enrolment", "randomised"))

    @property
    def allocated(self) -> dict[str, int]:
        """Patients allocated, per arm."""
        return {a: int(self.total("allocation", "allocated", a)) for a in self.arms}

    # ------------------------------------------------------------------ checks
    def check(self) -> pd.DataFrame:
        """The arithmetic identities of the flow, one row each.

        Returns
        -------
        pandas.DataFrame
            ``identity``, ``arm``, ``analysis``, ``left``, ``right`` and ``holds``:
            randomised = sum of allocated; randomised = the register's rows kept by the
            ledger (read - rejected); allocated = analysed + excluded for each analysis
            and arm (analysed counted from the result, excluded from the randomised
            patients it did not use); each reason list adds up to its box; and, when
            given, assessed = excluded before randomisation + randomised.
        """
        rows = []
        alloc = self.allocated
        rows.append(("randomised = sum of allocated", ALL_ARMS, np.nan, self.randomised,
                     sum(alloc.values())))
        reg = self.register or {}
        if reg.get("read") is not None:
            rows.append(("randomised = register rows read - rejected (ledger)", ALL_ARMS,
                         np.nan, self.randomised, reg["read"] - reg["rejected"]))
        for r in self.analyses.itertuples(index=False):
            rows.append(("allocated = analysed + excluded", r.arm, r.analysis, r.allocated,
                         r.analysed + r.excluded))
        c = self.counts
        boxes = c.loc[c["reason"].notna()].groupby(
            ["stage", "box", "arm", "analysis"], dropna=False)["count"].sum()
        totals = c.loc[c["reason"].isna()].set_index(
            ["stage", "box", "arm", "analysis"])["count"]
        for key, n in boxes.items():
            if key in totals.index:
                rows.append((f"reasons add up to '{key[1]}'", key[2], key[3],
                             float(totals.loc[key]), float(n)))
        assessed = self.total("enrolment", "assessed for eligibility")
        excluded = self.total("enrolment", "excluded before randomisation")
        if assessed is not None and excluded is not None:
            rows.append(("assessed = excluded before randomisation + randomised", ALL_ARMS,
                         np.nan, assessed, excluded + self.randomised))
        out = pd.DataFrame(rows, columns=["identity", "arm", "analysis", "left", "right"])
        out["holds"] = out["left"].to_numpy(float) == out["right"].to_numpy(float)
        return out

    # ------------------------------------------------------------------ display
    def table(self) -> pd.DataFrame:
        """The diagram as a table: per stage and box, one column per arm (totals only;
        reasons in the rows below their box, indented)."""
        c = self.counts[self.counts["box"] != "sessions received"].copy()
        c["line"] = np.where(c["reason"].isna(), c["box"], "  " + c["reason"].astype(str))
        c["key"] = c["analysis"].fillna("")
        keep = c.drop_duplicates(["stage", "key", "box", "line"])[
            ["stage", "key", "box", "line"]]
        keep["order"] = np.arange(len(keep))
        agg = c.groupby(["stage", "key", "box", "line", "arm"], sort=False)["count"].sum(
            min_count=1).unstack("arm")
        cols = [a for a in (ALL_ARMS, *self.arms) if a in agg.columns]
        out = keep.merge(agg[cols].reset_index(), on=["stage", "key", "box", "line"],
                         how="left").sort_values("order")
        out = out.rename(columns={"key": "analysis"}).drop(columns=["box", "order"])
        return out.rename(columns={"line": "box"}).reset_index(drop=True)

    def sessions(self) -> pd.DataFrame:
        """Sessions received per arm: ``arm``, ``median``, ``min``, ``max``."""
        p = self.patients
        out = p.groupby("arm", observed=False)["sessions"].agg(["median", "min", "max"])
        return out.reindex(list(self.arms)).rename_axis("arm").reset_index()

    def tables(self) -> dict[str, TableResult]:
        """The flow (one column per arm) and the per-visit follow-up."""
        notes = self.notes
        return {"consort_flow": TableResult(self.table(), title="Participant flow (CONSORT "
                                            "2025)", notes=notes, digits=0),
                "consort_by_visit": TableResult(self.by_visit, title="Follow-up per arm "
                                                "and visit", digits=0)}

    def plot(self, ax=None, *, analyses=None, **kwargs):
        """The CONSORT flow diagram (:func:`~dryneedle_outcomes.plots.plot_consort_flow`)."""
        from .plots.consort import plot_consort_flow

        return plot_consort_flow(self, ax=ax, analyses=analyses, **kwargs)


# ---------------------------------------------------------------------- the counts
def _register(cohort: Cohort) -> tuple[dict, list[dict]]:
    """The register's ledger line and its rejected rows per rule."""
    q = cohort.quality
    counts = q.counts[q.counts["table"] == "patients"]
    reg: dict = {"read": None, "rejected": 0}
    rows: list[dict] = []
    if len(counts):
        reg = {"read": int(counts["read"].sum()), "rejected": int(counts["rejected"].sum())}
    rej = q.rejected
    if len(rej):
        rej = rej[(rej["table"] == "patients")
                  & (rej["scope"] == "row" if "scope" in rej else True)]
    if reg["read"] is not None:
        rows.append(_rows("enrolment", ALL_ARMS, "register rows rejected", reg["rejected"],
                          source="ledger: cohort.quality.counts (patients)"))
        if len(rej):
            per = rej.drop_duplicates(["source", "row", "rule"]).groupby("rule").size()
            for rule, n in per.items():
                rows.append(_rows("enrolment", ALL_ARMS, "register rows rejected", int(n),
                                  reason=str(rule),
                                  source="ledger: rejected rows of patients file "
                                         "(cohort.quality.rejected)"))
    return reg, rows


def _first_event(ev: pd.DataFrame, events) -> pd.DataFrame:
    """Per patient, the earliest event among ``events``: visit and reason."""
    sub = ev.loc[ev["event"].astype(str).isin(list(events))]
    sub = sub.sort_values(["patient_id", "visit"], kind="stable").drop_duplicates("patient_id")
    reason = sub["reason"].astype(object).where(sub["reason"].notna(), NOT_RECORDED) \
        if "reason" in sub else pd.Series(NOT_RECORDED, index=sub.index)
    reason = reason.astype(str).str.strip().replace("", NOT_RECORDED)
    aew = sub["event"].astype(str).eq("adverse_event_withdrawal").to_numpy()
    reason = np.where(aew, "adverse event: " + reason, reason)
    return pd.DataFrame({"visit": sub["visit"].to_numpy(dtype=float), "reason": reason,
                         "event": sub["event"].astype(str).to_numpy()},
                        index=sub["patient_id"].to_numpy())


def _loss_visit(last: np.ndarray, schedule: list[int], withdrew: pd.DataFrame,
                ids: np.ndarray) -> np.ndarray:
    """Per patient, the visit from which they are lost to follow-up (NaN: not lost): the
    visit of a ``withdrew_from_study`` event within the schedule, else the first
    scheduled visit after the last one attended (the first visit for a patient never
    assessed); NaN when the last scheduled visit was attended."""
    idx = np.searchsorted(np.asarray(schedule), np.nan_to_num(last, nan=-np.inf),
                          side="right")
    derived = np.where(idx < len(schedule), np.asarray([*schedule, -1])[idx], np.nan)
    derived = np.where(np.isnan(last), schedule[0], derived)
    ev_visit = pd.Series(withdrew["visit"]).reindex(ids).to_numpy(dtype=float)
    return np.where(ev_visit <= schedule[-1], ev_visit, derived)


def _sessions(cohort: Cohort, ids: np.ndarray) -> tuple[np.ndarray, str | None]:
    from .estimands.populations import sessions_received

    try:
        got = sessions_received(cohort)
    except AnalysisError as exc:   # no needling recorded: sessions unknown, said so
        return np.full(len(ids), np.nan), str(exc)
    return got.reindex(ids).to_numpy(dtype=float), None


def consort_flow(cohort: Cohort, *, analyses: Mapping | None = None,
                 assessed: int | None = None,
                 excluded_before_randomisation: Mapping[str, int] | None = None,
                 primary_visit: int | None = None, outcome: str | None = None,
                 visits=None) -> ConsortFlow:
    """The CONSORT 2025 participant flow of ``cohort``, every number with its source.

    Parameters
    ----------
    cohort : Cohort
    analyses : mapping of str to result, optional
        ``{name: result}``: a :class:`~dryneedle_outcomes.TrajectoryResult`,
        :class:`~dryneedle_outcomes.ReferenceBasedResult`,
        :class:`~dryneedle_outcomes.RespondersResult` (its denominators at
        ``primary_visit``), :class:`~dryneedle_outcomes.ReliefResult`, or a DataFrame
        with the ``patient_id`` analysed. Each gives an "analysed" box per arm, with the
        randomised patients it did not use as "excluded from analysis" with reasons.
    assessed : int, optional
        Patients assessed for eligibility (not in the data; "not recorded" when absent).
    excluded_before_randomisation : mapping of str to int, optional
        ``{reason: n}``: patients assessed but not randomised.
    primary_visit : int, optional
        The pre-specified primary visit: the follow-up stage says how many had the
        outcome recorded there, and responder denominators are read there.
    outcome : str, optional
        The outcome of "assessed" per visit; default ``first_step_pain`` when recorded,
        else the cohort's first instrument.
    visits : sequence of int, optional
        The scheduled visits (default: every visit with an assessment). A patient
        without an assessment from one of them on, to the last, is lost to follow-up.

    Returns
    -------
    ConsortFlow

    Raises
    ------
    AnalysisError
        For an ``analyses`` value of a kind not known, an outcome not in the cohort, or
        negative enrolment counts.

    Notes
    -----
    Counts are per patient, vectorised (no loop over patients). A patient can be both
    discontinued and lost to follow-up (CONSORT lists both); the analysis identity
    (allocated = analysed + excluded) holds per analysis.

    Examples
    --------
    >>> import dryneedle_outcomes as dno
    >>> cohort = dno.simulate_cohort(n_patients=40, seed=7)
    >>> fit = dno.fit_trajectory(cohort, model="random_intercept")
    >>> flow = dno.consort_flow(cohort, analyses={"trajectory": fit}, assessed=55,
    ...                         excluded_before_randomisation={"declined": 15})
    >>> flow.total("enrolment", "assessed for eligibility"), flow.randomised
    (55, 40)
    >>> a = flow.analyses
    >>> bool((a["allocated"] == a["analysed"] + a["excluded"]).all())
    True
    """
    arms = list(cohort.arms)
    pats = cohort.patients[["patient_id", "arm"]].reset_index(drop=True)
    pats["arm"] = pats["arm"].astype(str)
    ids = pats["patient_id"].to_numpy()
    if outcome is None:
        inst = cohort.instruments
        outcome = "first_step_pain" if "first_step_pain" in inst else (inst[0] if inst
                                                                       else None)
    elif outcome not in cohort.assessments:
        raise AnalysisError(f"outcome {outcome!r} is not in this cohort's assessments; "
                            f"available: {', '.join(cohort.instruments) or 'none'}")
    a = cohort.visit_ratings().assessments if cohort.has_timing else cohort.assessments
    a = a.loc[a["patient_id"].isin(ids)]
    schedule = sorted({int(v) for v in (visits if visits is not None
                                        else pd.unique(a["visit"]))})
    if not schedule:
        raise AnalysisError("no visit to follow up: the cohort has no assessment")
    a = a.loc[a["visit"].isin(schedule)]
    rows: list[dict] = []
    warns: list[str] = []
    notes: list[str] = []

    # -- enrolment
    reg, register_rows = _register(cohort)
    given = "given (consort_flow(assessed=...); [consort] assessed)"
    if assessed is not None and (int(assessed) != assessed or assessed < 0):
        raise AnalysisError(f"assessed must be a whole number >= 0, got {assessed!r}")
    rows.append(_rows("enrolment", ALL_ARMS, "assessed for eligibility",
                      np.nan if assessed is None else int(assessed),
                      source=given if assessed is not None else "not recorded"))
    if excluded_before_randomisation:
        bad = {k: v for k, v in excluded_before_randomisation.items()
               if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 0}
        if bad:
            raise AnalysisError("excluded_before_randomisation must map reasons to whole "
                                f"numbers >= 0, got {bad!r}")
        src = "given (excluded_before_randomisation; [consort])"
        rows.append(_rows("enrolment", ALL_ARMS, "excluded before randomisation",
                          int(sum(excluded_before_randomisation.values())), source=src))
        rows += [_rows("enrolment", ALL_ARMS, "excluded before randomisation", int(n),
                       reason=str(k), source=src)
                 for k, n in excluded_before_randomisation.items()]
    else:
        rows.append(_rows("enrolment", ALL_ARMS, "excluded before randomisation", np.nan,
                          source="not recorded"))
    rows.append(_rows("enrolment", ALL_ARMS, "randomised", len(pats),
                      source="cohort.patients (register rows kept by the ledger)"))
    rows += register_rows

    # -- allocation
    n_arm = pats.groupby("arm").size().reindex(arms, fill_value=0)
    rows += [_rows("allocation", arm, "allocated", int(n_arm[arm]),
                   source="cohort.patients['arm']") for arm in arms]
    sessions, why_not = _sessions(cohort, ids)
    disc = _first_event(cohort.intercurrent_events, DISCONTINUED)
    withdrew = _first_event(cohort.intercurrent_events, (WITHDREW,))
    last = a.groupby("patient_id")["visit"].max().reindex(ids).to_numpy(dtype=float)
    if why_not is None:
        src = "sessions_received(cohort) (assessments: session visits attended, needled)"
        got = sessions > 0
        dv = pd.Series(disc["visit"]).reindex(ids).to_numpy(dtype=float)
        first_session = min(cohort.session_visits())
        lv = _loss_visit(last, schedule, withdrew, ids)
        reason = np.select(
            [dv <= first_session, np.isnan(last), lv <= first_session],
            ["discontinued before the first session: " + pd.Series(disc["reason"]).reindex(
                ids).fillna(NOT_RECORDED).to_numpy(dtype=object),
             "no assessment recorded", "lost to follow-up before the first session"],
            "no session recorded")
        rows += [_rows("allocation", arm, "received allocated intervention",
                       int((got & (pats["arm"] == arm)).sum()), source=src) for arm in arms]
        not_got = pd.DataFrame({"arm": pats["arm"], "reason": reason})[~got]
        rows += _by_reason(not_got, "allocation", "did not receive allocated intervention",
                           src, arms)
        per = pd.DataFrame({"arm": pats["arm"], "s": sessions}).groupby("arm")["s"].agg(
            ["median", "min", "max"]).reindex(arms)
        for arm in arms:
            for stat in ("median", "min", "max"):
                rows.append(_rows("allocation", arm, "sessions received", float(
                    per.loc[arm, stat]), reason=stat, source=src))
    else:
        notes.append(f"Sessions received are not counted: {why_not}.")

    # -- follow-up: losses (a withdrawal event, else no assessment to the last visit)
    ev_visit = pd.Series(withdrew["visit"]).reindex(ids).to_numpy(dtype=float)
    has_ev = ev_visit <= schedule[-1]
    lost_visit = _loss_visit(last, schedule, withdrew, ids)
    lost_reason = np.where(
        has_ev, "withdrew: " + pd.Series(withdrew["reason"]).reindex(ids).fillna("")
        .to_numpy(dtype=object),
        np.where(np.isnan(last), f"no assessment recorded ({NOT_RECORDED})",
                 f"no further assessment ({NOT_RECORDED})"))
    lost_reason = np.where(np.isnan(lost_visit), None, lost_reason)
    lost_source = np.where(has_ev, "cohort.intercurrent_events (withdrew_from_study)",
                           "assessments: no assessment from this visit to the last")
    disc_visit = pd.Series(disc["visit"]).reindex(ids).to_numpy(dtype=float)
    disc_reason = pd.Series(disc["reason"]).reindex(ids).to_numpy(dtype=object)
    people = pd.DataFrame({"patient_id": ids, "arm": pats["arm"].to_numpy(),
                           "sessions": sessions, "lost_visit": lost_visit,
                           "lost_reason": lost_reason, "lost_source": lost_source,
                           "discontinued_visit": disc_visit,
                           "discontinued_reason": disc_reason})
    lost = people[people["lost_visit"].notna()]
    rows += _follow_rows(lost, "lost to follow-up", "lost_visit", "lost_reason", arms,
                         lost["lost_source"])
    dpeople = people[people["discontinued_visit"].notna()]
    rows += _follow_rows(dpeople, "discontinued intervention", "discontinued_visit",
                         "discontinued_reason", arms,
                         pd.Series("cohort.intercurrent_events (discontinued_treatment, "
                                   "adverse_event_withdrawal)", index=dpeople.index))
    if primary_visit is not None and outcome is not None:
        at = a.loc[(a["visit"] == primary_visit) & a[outcome].notna()]
        n_at = at.drop_duplicates("patient_id").merge(pats, on="patient_id").groupby(
            "arm").size().reindex(arms, fill_value=0)
        rows += [_rows("follow_up", arm, f"{outcome} assessed at visit {primary_visit}",
                       int(n_at[arm]), visit=primary_visit,
                       source=f"assessments at visit {primary_visit} ({outcome} recorded)")
                 for arm in arms]
    by_visit = _by_visit(a, pats, people, schedule, arms, outcome)

    # -- analysis
    ana_rows = []
    for name, result in (analyses or {}).items():
        used, excluded, src_used, src_excl = analysed_patients(
            result, pats, primary_visit=primary_visit)
        ana_rows += _analysis_rows(str(name), used, excluded, src_used, src_excl, arms, rows)
    analyses_frame = pd.DataFrame(ana_rows, columns=["analysis", "arm", "allocated",
                                                     "analysed", "excluded", "source"])
    counts = pd.DataFrame(rows, columns=list(COUNT_COLUMNS))
    counts["count"] = counts["count"].astype(float)
    if assessed is None:
        notes.append("Enrolment: the number assessed for eligibility and the exclusions "
                     "before randomisation are not in the data (not recorded); give them "
                     "with assessed= and excluded_before_randomisation= ([consort] in "
                     "analysis.toml).")
    if reg["rejected"]:
        notes.append(f"{reg['rejected']} row(s) of the patients register were rejected by "
                     "the quality ledger (rules in the table) and are not counted as "
                     "randomised.")
    notes.append("Lost to follow-up: a withdrew_from_study intercurrent event, else no "
                 f"assessment from that visit to the last scheduled visit ({schedule[-1]}); "
                 "discontinued: a discontinued_treatment or adverse_event_withdrawal event. "
                 "A patient may be both. Counts per patient (CONSORT 2025 items 22a, 22b).")
    flow = ConsortFlow(counts=counts, by_visit=by_visit,
                       patients=people.drop(columns="lost_source"), analyses=analyses_frame,
                       arms=tuple(arms), outcome=outcome, primary_visit=primary_visit,
                       register=reg, notes=tuple(notes))
    failed = flow.check()
    failed = failed[~failed["holds"]]
    for r in failed.itertuples(index=False):
        warns.append(f"CONSORT identity does not hold: {r.identity} (arm {r.arm}"
                     + (f", analysis {r.analysis}" if isinstance(r.analysis, str) else "")
                     + f"): {r.left:g} vs {r.right:g}")
    for w in warns:
        warnings.warn(w, DataQualityWarning, stacklevel=2)
    if warns:
        from dataclasses import replace

        flow = replace(flow, warnings=tuple(warns))
    return flow


def _follow_rows(people: pd.DataFrame, box: str, visit_col: str, reason_col: str,
                 arms: list[str], source: pd.Series) -> list[dict]:
    """Totals per arm; per arm, visit and reason (with its source)."""
    out = []
    total = people.groupby("arm").size().reindex(arms, fill_value=0)
    frame = pd.DataFrame({"arm": people["arm"], "visit": people[visit_col],
                          "reason": people[reason_col].fillna(NOT_RECORDED).astype(str),
                          "source": source.to_numpy()})
    per = frame.groupby(["arm", "visit", "reason", "source"]).size().rename("n").reset_index()
    srcs = "; ".join(sorted(pd.unique(frame["source"]))) or "cohort.intercurrent_events"
    per = per.assign(stage="follow_up", box=box, analysis=np.nan,
                     count=per["n"].astype(int), visit=per["visit"].astype(int))
    for arm in arms:   # a loop over arms; the rows of an arm in one conversion
        out.append(_rows("follow_up", arm, box, int(total[arm]), source=srcs))
        out.extend(per.loc[per["arm"] == arm, ROW_KEYS].to_dict("records"))
    return out


def _by_visit(a: pd.DataFrame, pats: pd.DataFrame, people: pd.DataFrame, schedule,
              arms: list[str], outcome: str | None) -> pd.DataFrame:
    grid = pd.MultiIndex.from_product([arms, schedule], names=["arm", "visit"])
    arm_of = pats.set_index("patient_id")["arm"]
    rec = a.drop_duplicates(["patient_id", "visit"])
    rec_arm = rec["patient_id"].map(arm_of)
    attended = rec.groupby([rec_arm, rec["visit"]]).size().reindex(grid, fill_value=0)
    if outcome is not None:
        ok = rec[outcome].notna()
        assessed = rec.loc[ok].groupby([rec_arm[ok], rec.loc[ok, "visit"]]).size() \
            .reindex(grid, fill_value=0)
    else:
        assessed = pd.Series(np.nan, index=grid)
    out = pd.DataFrame({"allocated": pats.groupby("arm").size().reindex(
        grid.get_level_values(0), fill_value=0).to_numpy(),
        "attended": attended.to_numpy(), "assessed": assessed.to_numpy()}, index=grid)
    for col, name in (("lost_visit", "lost"), ("discontinued_visit", "discontinued")):
        sub = people[people[col].notna()]
        n = sub.groupby(["arm", sub[col].astype(int)]).size()
        n.index = n.index.set_names(["arm", "visit"])
        out[name] = n.reindex(grid, fill_value=0).to_numpy()
        out[f"{name}_so_far"] = out.groupby(level="arm")[name].cumsum()
    return out.reset_index()


def _analysis_rows(name: str, used: pd.DataFrame, excluded: pd.DataFrame, src_used: str,
                   src_excl: str, arms: list[str], rows: list[dict]) -> list[dict]:
    """Append the analysed and excluded boxes of one analysis to ``rows``; return the
    per-arm summary."""
    n_used = used.groupby("arm").size().reindex(arms, fill_value=0)
    out = []
    for arm in arms:
        rows.append(_rows("analysis", arm, "analysed", int(n_used[arm]), source=src_used,
                          analysis=name))
    rows += _by_reason(excluded[["arm", "reason"]], "analysis", "excluded from analysis",
                       src_excl, arms, analysis=name)
    n_excl = excluded.groupby("arm").size().reindex(arms, fill_value=0)
    allocated = {r["arm"]: r["count"] for r in rows
                 if r["stage"] == "allocation" and r["box"] == "allocated"}
    for arm in arms:
        out.append({"analysis": name, "arm": arm, "allocated": int(allocated[arm]),
                    "analysed": int(n_used[arm]), "excluded": int(n_excl[arm]),
                    "source": src_used})
    return out


__all__ = ["ALL_ARMS", "COUNT_COLUMNS", "ConsortFlow", "STAGES", "consort_flow"]
