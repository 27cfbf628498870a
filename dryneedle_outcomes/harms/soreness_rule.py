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

    Examples
    --------
    >>> SorenessRule(min_hours=48).describe()
    'post-needling soreness counts as an adverse event when it lasted at least 48 h'
    >>> SorenessRule(min_hours=48, min_severity="moderate").describe().split("when ")[1]
    'it lasted at least 48 h or was graded moderate or worse'
    """

    min_hours: float | None = None
    min_severity: str | None = None

    def __post_init__(self) -> None:
        if self.min_hours is None and self.min_severity is None:
            raise ConfigError("a soreness rule needs min_hours, min_severity or both")
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
        """None, a rule, or a mapping ``{"min_hours": 48, "min_severity": "moderate"}``."""
        if value is None or isinstance(value, cls):
            return value
        if isinstance(value, dict):
            unknown = set(value) - {"min_hours", "min_severity"}
            if unknown:
                raise ConfigError(f"soreness_as_ae takes min_hours and min_severity, got "
                                  f"{', '.join(sorted(unknown))}")
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
        return ("post-needling soreness counts as an adverse event when it "
                + " or ".join(parts))


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
