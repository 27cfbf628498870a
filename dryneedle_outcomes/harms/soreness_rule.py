"""When post-needling soreness counts as an adverse event: a rule stated, not assumed.

Nearly every needled appointment is followed by some soreness (it "typically lasts
24-48 h", DESIGN.md); whether a clinician records it as an adverse event varies. CONSORT
Harms 2022 (Junqueira et al., BMJ 2023;381:e073725, item 3b/11) asks that the
definition of each harm be stated. :class:`SorenessRule` is that definition: a recorded
``post_needling_soreness`` event counts when it lasted at least ``min_hours`` or was
graded ``min_severity`` or worse (either criterion, when both are given). With no rule
every recorded soreness event counts, and the notes say so.

Duration of a recorded event: the event's own ``duration_h`` when given, else the
soreness interval of the same patient and visit in the assessments (the record of a
session describes the soreness after it); soreness counts as lasting ``min_hours``
only when it certainly did (``soreness_lower_h >= min_hours``). An event whose duration
is unknown does not meet a duration criterion and is counted in the notes.

Soreness recorded only in the session form (opt-in, ``from_sessions=True``)
    Some trials record soreness only as the session form's duration
    (``soreness_lower_h``, ``soreness_upper_h`` of the assessments) and never as an
    adverse event. With ``from_sessions=True`` (it needs ``min_hours``: a session record
    has a duration, not a grade) every treatment appointment (visits 1..k, as the harms
    denominators define them, sham appointments included: the same rule in both arms)
    without a recorded ``post_needling_soreness`` event for that patient and visit gets
    one **derived** event when its soreness certainly lasted ``min_hours``
    (``soreness_lower_h >= min_hours``). An appointment whose interval only possibly
    reaches it (``soreness_lower_h < min_hours <= soreness_upper_h``, e.g. "ongoing"
    when asked at 24 h) or that has no soreness record is not counted; both are counted
    in the notes, as are the derived events. A recorded event is never duplicated: where
    one exists it alone is judged by the rule, even when it fails it. Derived events
    carry ``derived = True`` (recorded ones ``False``), no severity, not serious. This
    is the duration criterion CONSORT Harms 2022 asks to be stated, applied to the
    record that exists, so that a trial recording soreness only in the session form still
    reports a harms count under the stated rule.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import ConfigError
from ..normalize.vocabulary import SEVERITIES

SORENESS = "post_needling_soreness"


@dataclass(frozen=True)
class SorenessRule:
    """When a recorded post-needling soreness event counts as an adverse event.

    Parameters
    ----------
    min_hours : float, optional
        Soreness lasting at least this many hours counts (e.g. 48: beyond the usual
        24-48 h).
    min_severity : {"mild", "moderate", "severe"}, optional
        Soreness graded this severe or worse counts.
    from_sessions : bool, default False
        Also derive soreness events from the session soreness records where no soreness
        event was recorded for that patient and visit (see the module docstring); needs
        ``min_hours``.

    Examples
    --------
    >>> SorenessRule(min_hours=48).describe()
    'post-needling soreness counts as an adverse event when it lasted at least 48 h'
    >>> SorenessRule(min_hours=48, min_severity="moderate").describe().split("when ")[1]
    'it lasted at least 48 h or was graded moderate or worse'
    >>> SorenessRule(min_hours=48, from_sessions=True).describe().split("; ")[1][:44]
    'also derived from the session soreness recor'
    """

    min_hours: float | None = None
    min_severity: str | None = None
    from_sessions: bool = False

    def __post_init__(self) -> None:
        if self.min_hours is None and self.min_severity is None:
            raise ConfigError("a soreness rule needs min_hours, min_severity or both")
        if not isinstance(self.from_sessions, bool):
            raise ConfigError(f"soreness_as_ae from_sessions must be true or false, got "
                              f"{self.from_sessions!r}")
        if self.from_sessions and self.min_hours is None:
            raise ConfigError("soreness_as_ae from_sessions needs min_hours: a session's "
                              "soreness record has a duration, not a grade")
        if self.min_hours is not None and not (
                isinstance(self.min_hours, (int, float)) and not isinstance(self.min_hours, bool)
                and np.isfinite(self.min_hours) and self.min_hours >= 0):
            raise ConfigError(f"soreness_as_ae min_hours must be a number of hours >= 0, got "
                              f"{self.min_hours!r}")
        if self.min_severity is not None and self.min_severity not in SEVERITIES:
            raise ConfigError(f"soreness_as_ae min_severity must be one of "
                              f"{', '.join(SEVERITIES)}, got {self.min_severity!r}")

    @classmethod
    def from_any(cls, value) -> SorenessRule | None:
        """None, a rule, or a mapping ``{"min_hours": 48, "min_severity": "moderate",
        "from_sessions": True}``."""
        if value is None or isinstance(value, cls):
            return value
        if isinstance(value, dict):
            unknown = set(value) - {"min_hours", "min_severity", "from_sessions"}
            if unknown:
                raise ConfigError(f"soreness_as_ae takes min_hours, min_severity and "
                                  f"from_sessions, got {', '.join(sorted(unknown))}")
            return cls(**value)
        raise ConfigError(f"soreness_as_ae must be a table such as {{ min_hours = 48 }}, got "
                          f"{value!r}")

    def describe(self) -> str:
        """The rule in words, for the report."""
        parts = []
        if self.min_hours is not None:
            parts.append(f"lasted at least {self.min_hours:g} h")
        if self.min_severity is not None:
            parts.append(f"was graded {self.min_severity} or worse")
        text = "post-needling soreness counts as an adverse event when it " + " or ".join(parts)
        if self.from_sessions:
            text += ("; also derived from the session soreness records (soreness certainly "
                     f"lasting at least {self.min_hours:g} h) at treatment appointments of "
                     "either arm with no soreness event recorded")
        return text


def soreness_hours(events: pd.DataFrame, assessments: pd.DataFrame) -> np.ndarray:
    """Lower bound of each event's soreness duration in hours (NaN when unknown)."""
    own = (events["duration_h"].to_numpy(dtype=float, na_value=np.nan)
           if "duration_h" in events else np.full(len(events), np.nan))
    if "soreness_lower_h" in assessments:
        a = assessments[["patient_id", "visit", "soreness_lower_h"]]
        a = a.assign(patient_id=a["patient_id"].astype(str))
        a = a.groupby(["patient_id", "visit"], sort=False)["soreness_lower_h"].max()
        key = pd.MultiIndex.from_arrays([events["patient_id"].astype(str),
                                         events["visit"].astype(int)])
        recorded = a.reindex(key).to_numpy(dtype=float)
    else:
        recorded = np.full(len(events), np.nan)
    return np.where(np.isnan(own), recorded, own)


def apply_rule(events: pd.DataFrame, assessments: pd.DataFrame,
               rule: SorenessRule | None) -> tuple[pd.DataFrame, dict]:
    """Drop the recorded soreness events that do not meet ``rule``; say how many.

    Examples
    --------
    >>> import pandas as pd
    >>> ev = pd.DataFrame({"patient_id": ["A", "A", "B"], "visit": [1, 2, 1],
    ...                    "term": ["post_needling_soreness", "post_needling_soreness",
    ...                             "bruising"], "severity": ["mild", "moderate", "mild"]})
    >>> a = pd.DataFrame({"patient_id": ["A", "A", "B"], "visit": [1, 2, 1],
    ...                   "soreness_lower_h": [72.0, 24.0, 0.0]})
    >>> kept, info = apply_rule(ev, a, SorenessRule(min_hours=48))
    >>> kept["visit"].tolist(), info["n_soreness_not_meeting_rule"]
    ([1, 1], 1)
    """
    sore = (events["term"].astype(object) == SORENESS).to_numpy()
    info = {"soreness_rule": rule.describe() if rule else None,
            "n_soreness_recorded": int(sore.sum()), "n_soreness_not_meeting_rule": 0,
            "n_soreness_duration_unknown": 0}
    if rule is None or not sore.any():
        return events, info
    meets = np.zeros(len(events), dtype=bool)
    if rule.min_hours is not None:
        hours = soreness_hours(events, assessments)
        meets |= hours >= rule.min_hours
        info["n_soreness_duration_unknown"] = int((sore & np.isnan(hours)).sum())
    if rule.min_severity is not None and "severity" in events:
        rank = {s: i for i, s in enumerate(SEVERITIES)}
        sev = events["severity"].astype(object).map(rank).to_numpy(dtype=float,
                                                                     na_value=np.nan)
        meets |= sev >= rank[rule.min_severity]
    drop = sore & ~meets
    info["n_soreness_not_meeting_rule"] = int(drop.sum())
    return events.loc[~drop].reset_index(drop=True), info


def _session_soreness(assessments: pd.DataFrame, key: pd.MultiIndex) -> tuple[np.ndarray,
                                                                            np.ndarray]:
    """The soreness interval ``(lower, upper)`` in hours at each ``(patient, visit)`` of
    ``key`` (NaN when not recorded); with pre/post-session rows the recorded one."""
    cols = [c for c in ("soreness_lower_h", "soreness_upper_h") if c in assessments]
    out = []
    if cols:
        a = assessments[["patient_id", "visit", *cols]]
        # max skips NaN: a visit's rows (pre/post session) share one soreness record
        per_visit = a.assign(patient_id=a["patient_id"].astype(str)).groupby(
            ["patient_id", "visit"], sort=False)[cols].max()
    for c in ("soreness_lower_h", "soreness_upper_h"):
        out.append(per_visit[c].reindex(key).to_numpy(dtype=float, na_value=np.nan)
                   if c in cols else np.full(len(key), np.nan))
    return out[0], out[1]


def derive_from_sessions(recorded: pd.DataFrame, appointments: pd.DataFrame,
                         assessments: pd.DataFrame,
                         rule: SorenessRule) -> tuple[pd.DataFrame, dict]:
    """Soreness events derived from the session records (``rule.from_sessions``).

    Parameters
    ----------
    recorded : DataFrame
        The treatment-emergent events before the rule (``patient_id``, ``visit``,
        ``term``): an appointment with a recorded soreness event gets no derived one.
    appointments : DataFrame
        Treatment appointments (``patient_id``, ``arm``, ``visit``), both arms.
    assessments : DataFrame
        With ``soreness_lower_h`` / ``soreness_upper_h`` (hours; upper inf = still sore).
    rule : SorenessRule
        With ``min_hours``.

    Returns
    -------
    events : DataFrame
        One row per derived event: ``patient_id``, ``arm``, ``visit``, ``term``
        (post_needling_soreness), ``severity`` (missing), ``serious`` and ``withdrawal``
        (False), ``duration_h`` (the certain lower bound), ``derived`` (True).
    info : dict
        ``n_soreness_derived``, ``n_soreness_possibly`` (interval straddles
        ``min_hours``: not counted), ``n_soreness_unrecorded`` (no session record: not
        counted), ``n_soreness_already_recorded`` (appointments with a recorded event).

    Examples
    --------
    >>> import pandas as pd
    >>> ap = pd.DataFrame({"patient_id": ["A", "A", "B", "B"], "arm": "x",
    ...                    "visit": [1, 2, 1, 2]})
    >>> a = ap.assign(soreness_lower_h=[72.0, 24.0, None, 48.0],
    ...               soreness_upper_h=[96.0, float("inf"), None, 72.0])
    >>> rec = pd.DataFrame({"patient_id": ["B"], "visit": [2],
    ...                     "term": ["post_needling_soreness"]})
    >>> ev, info = derive_from_sessions(rec, ap, a, SorenessRule(48, from_sessions=True))
    >>> ev[["patient_id", "visit", "derived"]].values.tolist()
    [['A', 1, True]]
    >>> [info[k] for k in ("n_soreness_possibly", "n_soreness_unrecorded",
    ...                    "n_soreness_already_recorded")]
    [1, 1, 1]
    """
    pid = appointments["patient_id"].astype(str).to_numpy()
    visit = appointments["visit"].to_numpy(dtype=int)
    key = pd.MultiIndex.from_arrays([pid, visit])
    sore = (recorded["term"].astype(object) == SORENESS).to_numpy()
    with_event = pd.MultiIndex.from_arrays([
        recorded.loc[sore, "patient_id"].astype(str).to_numpy(),
        recorded.loc[sore, "visit"].to_numpy(dtype=int)])
    has = key.isin(with_event)
    lo, hi = _session_soreness(assessments, key)
    m = float(rule.min_hours)
    certain = ~has & (lo >= m)
    possibly = ~has & ~certain & (hi >= m)
    unknown = ~has & np.isnan(lo) & np.isnan(hi)
    events = pd.DataFrame({
        "patient_id": pid[certain], "arm": appointments["arm"].to_numpy()[certain],
        "visit": visit[certain], "term": SORENESS, "severity": np.nan, "serious": False,
        "withdrawal": False, "duration_h": lo[certain], "derived": True})
    info = {"n_soreness_derived": int(certain.sum()),
            "n_soreness_possibly": int(possibly.sum()),
            "n_soreness_unrecorded": int(unknown.sum()),
            "n_soreness_already_recorded": int(has.sum())}
    return events, info


def derived_note(info: dict) -> str | None:
    """The notes' sentence on the soreness events derived from the session records."""
    if "n_soreness_derived" not in info:
        return None
    return (f"Soreness from the session records: {info['n_soreness_derived']} event(s) "
            "derived (soreness certainly lasting the rule's duration at a treatment "
            "appointment with no soreness event recorded; column derived; no severity "
            "grade, so in no severity row); not counted: "
            f"{info['n_soreness_possibly']} appointment(s) whose soreness interval only "
            f"possibly reaches it and {info['n_soreness_unrecorded']} without a soreness "
            f"record; {info['n_soreness_already_recorded']} appointment(s) had a recorded "
            "soreness event, judged as recorded and not duplicated.")
