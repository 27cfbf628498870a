"""Who each analysis analysed, read from its result (the "Analysis" stage of CONSORT 2025).

CONSORT 2025 item 26 (numbers analysed) asks, for each group, the number of
participants included in each analysis and whether the analysis was by the groups
originally assigned. :func:`analysed_patients` reads that from a result object, never
recomputes it: the patients a trajectory model fitted (rows of ``result.frame.data``),
those a multiple imputation used (``result.patients``), the responder denominators at
the primary visit (``result.table``; the result keeps no patient list, so these are
counts), the patients of a time-to-relief analysis (``result.events``), or a DataFrame
of the ``patient_id`` analysed. Each randomised patient the analysis did not use is
"excluded from analysis" with the reason the result gives (``result.excluded``), or,
when the result lists none, the reason that follows from the analysis (e.g. no
post-baseline value to model). Patients are counted in the arm they were allocated to
(the register's arm): a result that analysed someone not in the register is an error.

Examples
--------
>>> import pandas as pd
>>> pats = pd.DataFrame({"patient_id": ["A", "B", "C"], "arm": ["x", "x", "y"]})
>>> used, excl, _, _ = analysed_patients(pd.DataFrame({"patient_id": ["A", "C"]}), pats)
>>> used["patient_id"].tolist(), excl[["patient_id", "reason"]].values.tolist()
(['A', 'C'], [['B', 'not in the analysed data']])
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .errors import AnalysisError


def _set_based(ids, pats: pd.DataFrame, reasons: pd.DataFrame | None,
               fallback: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Analysed = the register's patients among ``ids``; the others excluded, each with
    the first reason ``reasons`` (patient_id, reason) gives, else ``fallback``."""
    ids = pd.unique(pd.Series(ids, dtype=object))
    unknown = sorted(set(ids) - set(pats["patient_id"]))
    if unknown:
        raise AnalysisError(f"the analysis used {len(unknown)} patient(s) not in this "
                            f"cohort's register (e.g. {unknown[:3]}): was it computed on "
                            "another cohort?")
    used_mask = pats["patient_id"].isin(ids).to_numpy()
    used = pats.loc[used_mask, ["patient_id", "arm"]].reset_index(drop=True)
    excl = pats.loc[~used_mask, ["patient_id", "arm"]].reset_index(drop=True)
    reason = pd.Series(fallback, index=excl.index, dtype=object)
    if reasons is not None and len(reasons):
        first = reasons.drop_duplicates("patient_id").set_index("patient_id")["reason"]
        listed = excl["patient_id"].map(first)
        reason = listed.where(listed.notna(), reason).astype(str)
    excl["reason"] = reason.to_numpy()
    return used, excl


def _responders(result, pats: pd.DataFrame, primary_visit):
    t = result.table
    visit = primary_visit if primary_visit is not None and (t["visit"] == primary_visit).any() \
        else int(t["visit"].max())
    rows = t[t["visit"] == visit].set_index("arm")
    arms = [str(a) for a in pd.unique(pats["arm"])]
    n_arm = pats.groupby("arm").size()
    no_base = result.excluded.groupby("arm").size() if len(result.excluded) \
        else pd.Series(dtype="int64")
    used_parts, excl_parts = [], []
    # observed cases: a patient without a value at the visit is not in the denominator;
    # non-responder imputation counts them, so only patients outside the analysed
    # population (an estimand's per-protocol set) remain
    why = (f"no value of {result.outcome} at visit {visit} (observed cases)"
           if result.missing == "observed" else "not in the analysed population")
    for arm in arms:   # a loop over the (few) arms, not the patients
        den = int(rows.loc[arm, "denominator"]) if arm in rows.index else 0
        nb = int(no_base.get(arm, 0))
        other = int(n_arm.get(arm, 0)) - den - nb
        used_parts.append(pd.DataFrame({"patient_id": np.nan, "arm": [arm] * den}))
        excl_parts.append(pd.DataFrame({
            "patient_id": np.nan, "arm": [arm] * (nb + max(other, 0)),
            "reason": [f"no baseline (visit 0) value of {result.outcome}"] * nb
            + [why] * max(other, 0)}))
    used = pd.concat(used_parts, ignore_index=True)
    excl = pd.concat(excl_parts, ignore_index=True)
    return (used, excl,
            f"responders(...).table: denominator at visit {visit} ({result.missing})",
            "responders(...).excluded (no baseline) and n_missing at the visit")


def analysed_patients(result, pats: pd.DataFrame, *, primary_visit: int | None = None):
    """The patients ``result`` analysed and the randomised ones it excluded, with reasons.

    Parameters
    ----------
    result : analysis result or DataFrame
        See the module docstring for the kinds read.
    pats : pandas.DataFrame
        The register: ``patient_id``, ``arm`` (as text).
    primary_visit : int, optional
        The visit whose responder denominator counts as analysed (default the last).

    Returns
    -------
    used : DataFrame
        ``patient_id``, ``arm`` (allocated), one row per analysed patient.
    excluded : DataFrame
        ``patient_id``, ``arm``, ``reason``, one row per randomised patient not analysed.
    source_used, source_excluded : str
        Where the two counts come from.
    """
    if isinstance(result, pd.DataFrame):
        if "patient_id" not in result:
            raise AnalysisError("an analysed population given as a DataFrame needs a "
                                "patient_id column")
        used, excl = _set_based(result["patient_id"], pats, None, "not in the analysed data")
        return used, excl, "the analysed patients given", "randomised, not in the given data"
    kind = type(result).__name__
    if hasattr(result, "frame") and hasattr(result.frame, "data"):   # trajectory
        frame = result.frame
        what = (f"no value of {result.outcome} after baseline with a baseline value"
                if frame.adjust_baseline else f"no value of {result.outcome}")
        used, excl = _set_based(frame.data["patient_id"], pats, result.excluded, what)
        return (used, excl, f"fit_trajectory(model={result.model!r}).frame.data "
                            "(patients modelled)",
                f"fit_trajectory(model={result.model!r}).excluded, else no value modelled")
    if kind == "RespondersResult" or ("denominator" in getattr(result, "table", ())):
        return _responders(result, pats, primary_visit)
    if isinstance(getattr(result, "patients", None), pd.DataFrame):   # reference_based
        used, excl = _set_based(result.patients["patient_id"], pats, result.excluded,
                                "not in an analysed arm")
        method = getattr(result, "method", "")
        return (used, excl, f"reference_based(method={method!r}).patients",
                f"reference_based(method={method!r}).excluded")
    if isinstance(getattr(result, "events", None), pd.DataFrame):     # time to relief
        ex = result.excluded
        used, excl = _set_based(result.events["patient_id"], pats, ex,
                                "not in the analysed events")
        ts = getattr(result, "timescale", "")
        return (used, excl, f"time_to_relief(timescale={ts!r}).events",
                f"time_to_relief(timescale={ts!r}).excluded")
    raise AnalysisError(f"consort_flow cannot read who a {kind} analysed; pass a "
                        "TrajectoryResult, ReferenceBasedResult, RespondersResult, "
                        "ReliefResult, or a DataFrame with the patient_id analysed")


__all__ = ["analysed_patients"]
