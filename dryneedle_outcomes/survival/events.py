"""From assessments to time-to-relief events: one interval (lower, upper] per patient.

Relief is observed only at assessments, so for a patient whose first assessment
meeting the definition is at time ``u`` and whose previous assessment (or the
baseline, time 0) is at ``l``, relief happened in ``(l, u]``. A patient who never
meets the definition is right-censored at the last time known to be without relief:
the last assessment, or for ``sustained`` relief the last assessment that did not
meet the definition.

Confirmed (``sustained``) relief and the last assessment
    With ``Relief(sustained=True)`` the definition must be met at an assessment and
    again at the patient's next usable assessment (missing scores are skipped). A
    crossing at the patient's last assessment cannot be confirmed: the patient is
    **right-censored** at the last assessment that did not meet the definition (the
    last time known to be without relief), with ``censor_reason`` "relief at the last
    assessment not confirmed"; :func:`~dryneedle_outcomes.time_to_relief` reports how
    many such patients there are. The same holds for an isolated crossing followed
    only by assessments that do not meet it: it is not relief.

Timescales
----------
``days``
    Days since the patient's baseline (visit 0) assessment: ``day - day at visit 0``.
``sessions``
    Needling sessions received before the score, under the cohort's declared rule
    (``cohort.assessed``, ``dryneedle_outcomes.timing``):

    - ``"before_session"`` (the default; the score is taken on arrival, before that
      visit's needling): the number of session visits (``session_visits``) the patient
      attended *before* the assessment's visit. A relief first seen at the pre-session
      score of the patient's ``k``-th session happened after ``k - 1`` sessions. The
      first follow-up after the course reflects every session attended; a later
      assessment with no session since the previous one adds no time and is not used.
      Scores with no session yet (the first session's pre-needling score) are at time
      0: a patient already meeting the definition there is excluded (relief before any
      needling), as one meeting it at baseline.
    - ``"after_session"``: the number of session visits attended up to and including
      the assessment's visit (the score reflects that day's needling); assessments at
      other visits (follow-ups) have no place on this timescale and are not used.

Nothing is dropped silently: patients who cannot be placed on the timescale are in
``excluded`` with the reason (no baseline assessment, baseline value missing, baseline
date missing, relief already met at baseline), and assessments not used are in
``unused`` with the reason (outcome missing, day missing, dated on the baseline day,
not a session visit).

Examples
--------
>>> import dryneedle_outcomes as dno
>>> from dryneedle_outcomes.survival.events import derive_relief_events
>>> cohort = dno.simulate_cohort(n_patients=30, seed=11)
>>> ev = derive_relief_events(cohort, "first_step_pain", dno.Relief(mcid=True))
>>> list(ev.events.columns)[:7]
['patient_id', 'arm', 'lower', 'upper', 'time', 'event', 'censor_reason']
>>> bool((ev.events["lower"] < ev.events["upper"]).all())
True
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..cohort import Cohort
from ..errors import AnalysisError
from .relief import Relief

TIMESCALES = ("days", "sessions")

EVENT_COLUMNS = ("patient_id", "arm", "lower", "upper", "time", "event", "censor_reason",
                 "visit_lower", "visit_upper", "baseline")

REASON_END = "no relief by the last scheduled assessment"
REASON_DROPOUT = "dropped out before relief"
REASON_UNCONFIRMED = "relief at the last assessment not confirmed"
REASON_NO_FOLLOW_UP = "no assessment after baseline"


@dataclass(frozen=True)
class ReliefEvents:
    """Events derived from a cohort (see the module docstring).

    Attributes
    ----------
    events : DataFrame
        One row per patient analysed: ``patient_id``, ``arm``, ``lower``, ``upper``
        (``inf`` when right-censored), ``time`` (``upper`` for an event, ``lower`` when
        censored: the right-censored view), ``event`` (1/0), ``censor_reason`` (empty
        for events), ``visit_lower``/``visit_upper`` (the visits bounding the interval;
        0 is the baseline; nullable ``Int64``, ``visit_upper`` is missing (``<NA>``)
        for a right-censored patient, whose interval has no upper visit),
        ``baseline`` (the visit-0 value).
    excluded : DataFrame
        ``patient_id``, ``arm``, ``reason``: patients not placed on the timescale.
    unused : DataFrame
        ``patient_id``, ``visit``, ``reason``: post-baseline assessments not used.
    timescale : str
    definition : str
        The relief definition in words.
    """

    events: pd.DataFrame
    excluded: pd.DataFrame
    unused: pd.DataFrame
    timescale: str
    definition: str


def _sessions_time(cohort: Cohort, rows: pd.DataFrame, session_visits,
                   unused_parts: list) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """Rows on the sessions timescale, their time (sessions received) and a no-time mask.

    See the module docstring for the two rules; vectorised with grouped cumulative sums.
    """
    sessions = cohort.session_visits(session_visits)
    is_session = rows["visit"].isin(sessions).to_numpy()
    if cohort.assessed == "after_session":
        unused_parts.append(rows.loc[~is_session, ["patient_id", "visit"]].assign(
            reason="not a session visit (sessions timescale)"))
        rows = rows.loc[is_session]
        is_session = is_session[is_session]
    # attended session visits so far (rows are sorted by patient, visit in a Cohort)
    order = np.lexsort((rows["visit"].to_numpy(), rows["patient_id"].to_numpy()))
    rows = rows.iloc[order]
    is_session = is_session[order]
    received = pd.Series(is_session.astype(float)).groupby(
        rows["patient_id"].to_numpy(), sort=False).cumsum().to_numpy()
    if cohort.assessed == "before_session":
        received = received - is_session      # sessions attended before this visit
    return rows, received, np.zeros(len(rows), dtype=bool)


def derive_relief_events(cohort: Cohort, outcome: str, relief: Relief, *,
                         timescale: str = "days",
                         session_visits: Sequence[int] | None = None) -> ReliefEvents:
    """Derive one relief interval per patient; see the module docstring for the rules.

    Parameters
    ----------
    cohort : Cohort
    outcome : str
        An instrument column of ``cohort.assessments``.
    relief : Relief
        The definition of relief.
    timescale : {"days", "sessions"}
    session_visits : sequence of int, optional
        Visits that are needling sessions (``sessions`` timescale); by default every
        visit >= 1 at which at least one patient was needled.

    Returns
    -------
    ReliefEvents

    Examples
    --------
    >>> import dryneedle_outcomes as dno
    >>> cohort = dno.simulate_cohort(n_patients=30, seed=11)
    >>> ev = derive_relief_events(cohort, "first_step_pain", dno.Relief(percent_reduction=50),
    ...                           timescale="sessions")
    >>> set(ev.events["upper"]) <= {1.0, 2.0, 3.0, 4.0, 5.0, 6.0, float("inf")}
    True
    """
    if not isinstance(relief, Relief):
        raise AnalysisError(f"relief must be a dno.Relief(...), got {type(relief).__name__}")
    if timescale not in TIMESCALES:
        raise AnalysisError(f"timescale must be one of {', '.join(TIMESCALES)}, got "
                            f"{timescale!r}")
    definition = relief.resolve(outcome)
    cfb = cohort.change_from_baseline(outcome)          # checks the outcome exists
    patients = cohort.patients[["patient_id", "arm"]]

    # ---- patients that cannot be placed on the timescale
    baseline_rows = cfb[cfb["visit"] == 0].set_index("patient_id")
    has_baseline = patients["patient_id"].isin(baseline_rows.index).to_numpy()
    base_value = patients["patient_id"].map(baseline_rows["aval"]).to_numpy(dtype=float)
    base_day = patients["patient_id"].map(baseline_rows["day"]).to_numpy(dtype=float)
    reason = np.full(len(patients), "", dtype=object)
    reason[np.isnan(base_value)] = f"baseline {outcome} missing"
    if timescale == "days":
        reason[(reason == "") & np.isnan(base_day)] = "baseline date missing (days timescale)"
    reason[~has_baseline] = "no baseline assessment"
    if definition.kind == "threshold":
        at_base = pd.DataFrame({"aval": base_value, "base": base_value,
                                "improvement": np.zeros(len(patients))})
        met_base = definition.met(at_base) & ~np.isnan(base_value)
        reason[(reason == "") & met_base] = "relief definition already met at baseline"
    excluded_mask = reason != ""
    excluded = patients.loc[excluded_mask].assign(reason=reason[excluded_mask])
    kept = patients.loc[~excluded_mask, ["patient_id", "arm"]].reset_index(drop=True)
    kept["baseline"] = base_value[~excluded_mask]

    # ---- the post-baseline assessments of kept patients, with their time
    rows = cfb[(cfb["visit"] > 0) & cfb["patient_id"].isin(kept["patient_id"])]
    unused_parts = []
    if timescale == "days":
        day0 = rows["patient_id"].map(baseline_rows["day"]).to_numpy(dtype=float)
        t = rows["day"].to_numpy(dtype=float) - day0
        no_time = np.isnan(t)
        unused_parts.append(rows.loc[no_time, ["patient_id", "visit"]].assign(
            reason="day missing (no assessment date)"))
        # time 0 is the baseline itself: a later visit dated that day has no time of its own
        same_day = t == 0
        unused_parts.append(rows.loc[same_day, ["patient_id", "visit"]].assign(
            reason="dated on the baseline day (time 0)"))
        no_time = no_time | same_day
    else:
        rows, t, no_time = _sessions_time(cohort, rows, session_visits, unused_parts)
    no_value = np.isnan(rows["aval"].to_numpy(dtype=float)) & ~no_time
    unused_parts.append(rows.loc[no_value, ["patient_id", "visit"]].assign(
        reason=f"{outcome} missing"))
    usable = ~(no_time | no_value)
    if timescale == "sessions" and cohort.assessed == "before_session":
        # a later assessment with no session since the previous usable one adds no time
        same = pd.Series(t).where(usable).to_frame("t").assign(
            p=rows["patient_id"].to_numpy()).duplicated(keep="first").to_numpy() & usable
        unused_parts.append(rows.loc[same, ["patient_id", "visit"]].assign(
            reason="no session received since the previous assessment (sessions timescale)"))
        usable &= ~same
    obs = rows.loc[usable, ["patient_id", "visit", "aval", "base", "improvement"]].copy()
    obs["t"] = t[usable]
    obs = obs.sort_values(["patient_id", "t", "visit"], kind="stable").reset_index(drop=True)
    if (obs["t"] < 0).any():
        bad = obs.loc[obs["t"] < 0].iloc[0]
        raise AnalysisError(f"patient {bad['patient_id']} has an assessment at visit "
                            f"{int(bad['visit'])} dated {-bad['t']:g} days before the baseline; "
                            "fix the dates or use timescale='sessions'")

    # ---- relief flags, vectorised over all rows
    pid = obs["patient_id"].to_numpy()
    same_next = np.r_[pid[1:] == pid[:-1], False]
    same_prev = np.r_[False, pid[1:] == pid[:-1]]
    met = definition.met(obs)
    if relief.sustained:
        met_next = np.r_[met[1:], False] & same_next
        hit = met & met_next
    else:
        hit = met
    t_obs = obs["t"].to_numpy(dtype=float)
    v_obs = obs["visit"].to_numpy()
    prev_t = np.where(same_prev, np.r_[0.0, t_obs[:-1]], 0.0)
    prev_v = np.where(same_prev, np.r_[0, v_obs[:-1]], 0)

    codes = pd.Index(kept["patient_id"]).get_indexer(pid)
    n = len(kept)
    first_hit = np.full(n, -1)
    hit_idx = np.flatnonzero(hit)
    first_codes, first_pos = np.unique(codes[hit_idx], return_index=True)
    first_hit[first_codes] = hit_idx[first_pos]
    # right-censoring: the last time known to be without relief
    n_rows = np.bincount(codes, minlength=n)
    last_idx = np.full(n, -1)
    last_idx[codes] = np.arange(len(codes))           # later rows overwrite: the last one
    not_met_idx = np.flatnonzero(~met)
    last_not_met = np.full(n, -1)
    last_not_met[codes[not_met_idx]] = not_met_idx
    censor_idx = last_not_met if relief.sustained else last_idx

    event = first_hit >= 0
    lower = np.zeros(n)
    upper = np.full(n, np.inf)
    visit_lower = np.zeros(n, dtype=int)
    visit_upper = np.zeros(n, dtype=int)     # set for events; missing when censored
    e = first_hit[event]
    lower[event] = prev_t[e]
    upper[event] = t_obs[e]
    visit_lower[event] = prev_v[e]
    visit_upper[event] = v_obs[e]
    cens = ~event & (censor_idx >= 0)
    lower[cens] = t_obs[censor_idx[cens]]
    visit_lower[cens] = v_obs[censor_idx[cens]]

    last_visit_scheduled = int(obs["visit"].max()) if len(obs) else 0
    last_visit = np.zeros(n, dtype=int)
    has_rows = last_idx >= 0
    last_visit[has_rows] = v_obs[last_idx[has_rows]]
    censor_reason = np.full(n, "", dtype=object)
    censor_reason[~event] = np.where(last_visit[~event] >= last_visit_scheduled,
                                     REASON_END, REASON_DROPOUT)
    if relief.sustained:
        last_met = np.zeros(n, dtype=bool)
        last_met[has_rows] = met[last_idx[has_rows]]
        censor_reason[~event & last_met] = REASON_UNCONFIRMED
    censor_reason[n_rows == 0] = REASON_NO_FOLLOW_UP

    if timescale == "sessions":   # relief already met before any needling (time 0)
        before_needling = event & (upper <= 0)
        if before_needling.any():
            excluded = pd.concat([excluded, kept.loc[before_needling, ["patient_id", "arm"]].assign(
                reason="relief definition already met before the first needling (0 "
                       "sessions received)")], ignore_index=True)
            keep = ~before_needling
            kept = kept.loc[keep].reset_index(drop=True)
            lower, upper, event = lower[keep], upper[keep], event[keep]
            visit_lower, visit_upper = visit_lower[keep], visit_upper[keep]
            censor_reason = censor_reason[keep]
    events = kept[["patient_id", "arm"]].copy()
    events["lower"] = lower
    events["upper"] = upper
    events["time"] = np.where(event, upper, lower)
    events["event"] = event.astype(int)
    events["censor_reason"] = censor_reason
    events["visit_lower"] = pd.array(visit_lower, dtype="Int64")
    # missing, not a sentinel: a right-censored interval has no upper visit
    events["visit_upper"] = pd.array(visit_upper, dtype="Int64")
    events.loc[~event, "visit_upper"] = pd.NA
    events["baseline"] = kept["baseline"].to_numpy()
    unused = pd.concat(unused_parts, ignore_index=True)
    unused = unused.sort_values(["patient_id", "visit"], kind="stable").reset_index(drop=True)
    return ReliefEvents(events=events.reset_index(drop=True),
                        excluded=excluded.reset_index(drop=True), unused=unused,
                        timescale=timescale,
                        definition=relief.describe(outcome))
