"""Relief definitions and event derivation on hand-built cohorts with known intervals.

Every patient below is written with the interval (lower, upper] that the rules in
dryneedle_outcomes/survival/events.py must give, worked out by hand: missing visits,
missing values, dropout before relief, relief at the first session, sustained relief
(confirmed and unconfirmed), no baseline, threshold met at baseline, both timescales
and a higher-is-better instrument.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

import dryneedle_outcomes as dno
from dryneedle_outcomes.errors import AnalysisError
from dryneedle_outcomes.survival.events import (
    REASON_DROPOUT,
    REASON_END,
    REASON_NO_FOLLOW_UP,
    REASON_UNCONFIRMED,
    derive_relief_events,
)
from dryneedle_outcomes.survival.relief import Relief

INF = math.inf
DAYS = [0, 7, 14, 21, 28]


def cohort(spec: dict[str, tuple[str, list]], outcome: str = "first_step_pain",
           days=DAYS, needled_visits=(1, 2, 3), assessed=None) -> dno.Cohort:
    """{patient: (arm, [value per visit 0..4])}; None = no record, NaN = record without value."""
    patients = pd.DataFrame({"patient_id": list(spec), "arm": [a for a, _ in spec.values()]})
    rows = []
    for pid, (arm, values) in spec.items():
        for visit, value in enumerate(values):
            if value is None:
                continue
            rows.append({"patient_id": pid, "visit": visit, "day": float(days[visit]),
                         outcome: float(value),
                         "needled": arm == "dry_needling" and visit in needled_visits})
    a = pd.DataFrame(rows)
    for col in ("first_step_pain", "vas_pain"):
        if col not in a:
            a[col] = 50.0
    mapping = None if assessed is None else {"assessments": {"assessed": assessed}}
    return dno.load_cohort(a, patients, mapping=mapping)


def intervals(ev) -> dict[str, tuple]:
    e = ev.events.set_index("patient_id")
    return {pid: (r["lower"], r["upper"], int(r["event"])) for pid, r in e.iterrows()}


NAN = float("nan")
SPEC = {
    "first_session": ("dry_needling", [80, 55, 50, 45, 40]),      # 25 mm at day 7
    "missed_visit": ("dry_needling", [80, 75, None, 50, 50]),     # visit 2 not attended
    "missing_value": ("sham", [80, 75, NAN, 55, 50]),             # visit 2 attended, no value
    "dropout": ("sham", [80, 75, 70, None, None]),
    "never": ("sham", [80, 75, 70, 70, 65]),
    "boundary": ("sham", [80, 70, 61, 70, 70]),                   # exactly 19 at day 14
    "relapse": ("dry_needling", [80, 55, 70, 55, 50]),
    "unconfirmed": ("dry_needling", [80, 70, 70, 70, 55]),
    "no_baseline": ("sham", [None, 60, 50, 40, 30]),
    "baseline_missing": ("sham", [NAN, 60, 50, 40, 30]),
    "only_baseline": ("dry_needling", [70, None, None, None, None]),
}


@pytest.fixture(scope="module")
def c():
    return cohort(SPEC)


def test_mcid_intervals_on_days(c):
    ev = derive_relief_events(c, "first_step_pain", Relief(mcid=True))
    got = intervals(ev)
    assert got == {
        "first_session": (0.0, 7.0, 1),
        "missed_visit": (7.0, 21.0, 1),
        "missing_value": (7.0, 21.0, 1),
        "dropout": (14.0, INF, 0),
        "never": (28.0, INF, 0),
        "boundary": (7.0, 14.0, 1),
        "relapse": (0.0, 7.0, 1),
        "unconfirmed": (21.0, 28.0, 1),
        "only_baseline": (0.0, INF, 0),
    }
    reasons = ev.events.set_index("patient_id")["censor_reason"]
    assert reasons["dropout"] == REASON_DROPOUT
    assert reasons["never"] == REASON_END
    assert reasons["only_baseline"] == REASON_NO_FOLLOW_UP
    assert reasons["first_session"] == ""
    excluded = ev.excluded.set_index("patient_id")["reason"].to_dict()
    assert excluded == {"no_baseline": "no baseline assessment",
                        "baseline_missing": "baseline first_step_pain missing"}
    unused = ev.unused
    assert unused[["patient_id", "visit"]].values.tolist() == [["missing_value", 2]]
    assert unused["reason"].iloc[0] == "first_step_pain missing"
    # the right-censored view: event at the upper bound, censoring at the lower bound
    e = ev.events
    assert (e["time"] == np.where(e["event"] == 1, e["upper"], e["lower"])).all()
    # every patient is either analysed or excluded, exactly once
    assert sorted(e["patient_id"].tolist() + ev.excluded["patient_id"].tolist()) == sorted(SPEC)


def test_sustained_needs_two_consecutive_assessments(c):
    ev = derive_relief_events(c, "first_step_pain", Relief(mcid=True, sustained=True))
    got = intervals(ev)
    assert got["first_session"] == (0.0, 7.0, 1)      # met at 7 and 14
    assert got["relapse"] == (14.0, 21.0, 1)           # 7 met, 14 not, 21 and 28 met
    assert got["boundary"] == (28.0, INF, 0)           # met at 14 only: never sustained
    reasons = ev.events.set_index("patient_id")["censor_reason"]
    assert got["unconfirmed"] == (21.0, INF, 0)        # met at the last assessment only
    assert reasons["unconfirmed"] == REASON_UNCONFIRMED
    assert got["missed_visit"] == (7.0, 21.0, 1)       # 21 and 28 met (consecutive assessments)


def test_threshold_and_percent(c):
    ev = derive_relief_events(c, "first_step_pain", Relief(threshold=50))
    got = intervals(ev)
    assert got["first_session"] == (7.0, 14.0, 1)      # 50 <= 50 at day 14
    assert got["missed_visit"] == (7.0, 21.0, 1)
    assert got["never"] == (28.0, INF, 0)
    ev = derive_relief_events(c, "first_step_pain", Relief(percent_reduction=50))
    got = intervals(ev)
    assert got["first_session"] == (21.0, 28.0, 1)     # 40 <= 50% of 80 only at day 28
    assert got["relapse"] == (28.0, INF, 0)            # 50 mm is not <= 40 mm


def test_threshold_met_at_baseline_is_excluded():
    c = cohort({"low": ("sham", [15, 10, 10, 10, 10]), "high": ("sham", [70, 60, 15, 10, 10])})
    ev = derive_relief_events(c, "first_step_pain", Relief(threshold=20))
    assert ev.excluded["reason"].tolist() == ["relief definition already met at baseline"]
    assert intervals(ev) == {"high": (7.0, 14.0, 1)}


SESSION_SPEC = {"missed": ("dry_needling", [80, 75, None, 55, 50]),   # sessions 1 and 3
                "late": ("dry_needling", [80, 75, 70, 70, 50]),       # relief at follow-up
                "quick": ("sham", [80, 60, 60, 60, 60])}              # relief at session 1


def test_sessions_timescale_counts_attended_sessions():
    """Scores taken after that session's needling: session k's score reflects k sessions."""
    c = cohort(SESSION_SPEC, assessed="after_session")
    ev = derive_relief_events(c, "first_step_pain", Relief(mcid=True), timescale="sessions")
    got = intervals(ev)
    assert got == {"missed": (1.0, 2.0, 1), "late": (3.0, INF, 0), "quick": (0.0, 1.0, 1)}
    # visit 4 is not a needling session: listed, not used
    assert set(ev.unused["visit"]) == {4}
    assert set(ev.unused["reason"]) == {"not a session visit (sessions timescale)"}
    ev2 = derive_relief_events(c, "first_step_pain", Relief(mcid=True), timescale="sessions",
                               session_visits=[1, 2, 3, 4])
    assert intervals(ev2)["late"] == (3.0, 4.0, 1)


def test_sessions_timescale_before_session_counts_sessions_received_before_the_score():
    """The default rule: a score at the patient's k-th session reflects k - 1 sessions, the
    follow-up after the course reflects every session attended, and relief already met
    before any needling (the first session's pre-needling score) is excluded."""
    c = cohort(SESSION_SPEC)
    assert c.assessed == "before_session"
    ev = derive_relief_events(c, "first_step_pain", Relief(mcid=True), timescale="sessions")
    # missed: visit 1 -> 0 sessions (75), visit 3 -> 1 session (55: relief): (0, 1]
    # late: visits 1, 2, 3 -> 0, 1, 2 sessions; the follow-up after 3 sessions: (2, 3]
    assert intervals(ev) == {"missed": (0.0, 1.0, 1), "late": (2.0, 3.0, 1)}
    assert ev.excluded.set_index("patient_id").loc["quick", "reason"].startswith(
        "relief definition already met before the first needling")
    assert ev.unused.empty          # the follow-up is used under this rule
    # the rule changes only the clock, not which scores meet the definition
    after = derive_relief_events(cohort(SESSION_SPEC, assessed="after_session"),
                                 "first_step_pain", Relief(mcid=True), timescale="sessions")
    assert after.events.set_index("patient_id").loc["missed", "visit_upper"] == \
        ev.events.set_index("patient_id").loc["missed", "visit_upper"] == 3
    # the days timescale does not depend on the rule
    days = [intervals(derive_relief_events(cohort(SESSION_SPEC, assessed=r),
                                           "first_step_pain", Relief(mcid=True)))
            for r in ("before_session", "after_session")]
    assert days[0] == days[1]


def test_higher_is_better_instrument():
    spec = {"p1": ("sham", [30, 40, 45, 60, 70]), "p2": ("sham", [30, 35, 35, 35, 35])}
    c = cohort(spec, outcome="fhsq_pain")
    ev = derive_relief_events(c, "fhsq_pain", Relief(mcid=True))   # MCID 13, higher better
    assert intervals(ev) == {"p1": (7.0, 14.0, 1), "p2": (28.0, INF, 0)}
    ev = derive_relief_events(c, "fhsq_pain", Relief(threshold=60))
    assert intervals(ev)["p1"] == (14.0, 21.0, 1)


def test_a_visit_dated_on_the_baseline_day_is_listed_not_used():
    c = cohort({"p": ("sham", [80, 55, 55, 50, 50])}, days=[0, 0, 14, 21, 28])
    ev = derive_relief_events(c, "first_step_pain", Relief(mcid=True))
    assert intervals(ev) == {"p": (0.0, 14.0, 1)}
    assert ev.unused[["visit", "reason"]].values.tolist() == [
        [1, "dated on the baseline day (time 0)"]]


def test_days_are_counted_from_each_patients_baseline():
    c = cohort({"p": ("sham", [80, 75, 55, 50, 50])}, days=[3, 10, 17, 24, 31])
    ev = derive_relief_events(c, "first_step_pain", Relief(mcid=True))
    assert intervals(ev) == {"p": (7.0, 14.0, 1)}


def test_relief_validation():
    with pytest.raises(AnalysisError, match="one definition"):
        Relief()
    with pytest.raises(AnalysisError, match="takes one definition"):
        Relief(mcid=True, threshold=20)
    with pytest.raises(AnalysisError, match=r"\(0, 100\]"):
        Relief(percent_reduction=150)
    with pytest.raises(AnalysisError, match="positive"):
        Relief(mcid=-3)
    with pytest.raises(AnalysisError, match="must be a number"):
        Relief(threshold="low")
    with pytest.raises(AnalysisError, match="outside the range"):
        Relief(threshold=150).resolve("first_step_pain")
    with pytest.raises(AnalysisError, match="True or False"):
        Relief(mcid=True, sustained="yes")
    assert Relief(mcid=True) == Relief(mcid=True)


def test_bad_arguments(c):
    with pytest.raises(AnalysisError, match="timescale"):
        derive_relief_events(c, "first_step_pain", Relief(mcid=True), timescale="weeks")
    with pytest.raises(AnalysisError, match="dno.Relief"):
        derive_relief_events(c, "first_step_pain", {"mcid": True})
    with pytest.raises(AnalysisError, match="not in this cohort"):
        derive_relief_events(c, "ffi_pain", Relief(mcid=True))
    with pytest.raises(AnalysisError, match="session_visits"):
        derive_relief_events(cohort({"p": ("sham", [80, 60, 60, 60, 60])}), "first_step_pain",
                             Relief(mcid=True), timescale="sessions")


def test_vectorised_derivation_matches_a_per_patient_reference():
    """On a simulated cohort with dropout and missed visits, the vectorised rules equal a
    slow per-patient transcription of the same rules (written independently here)."""
    sim = dno.simulate_tables(n_patients=200, seed=5, dropout=0.3)
    a = sim.assessments
    rng = np.random.default_rng(5)
    a = a.loc[~((a["visit"] > 0) & (rng.random(len(a)) < 0.1))].reset_index(drop=True)
    c = dno.load_cohort(a, sim.patients)
    for relief in (Relief(mcid=True), Relief(percent_reduction=50, sustained=True)):
        ev = derive_relief_events(c, "first_step_pain", relief).events.set_index("patient_id")
        cfb = c.change_from_baseline("first_step_pain")
        for pid, g in cfb.groupby("patient_id", observed=True):
            g = g[(g["visit"] > 0) & g["aval"].notna()].sort_values("day")
            t = g["day"].to_numpy()
            met = g["improvement"].to_numpy() >= 19 - 1e-9 if relief.kind == "mcid" else \
                g["improvement"].to_numpy() >= 0.5 * g["base"].to_numpy() - 1e-9
            expect = None
            for i in range(len(t)):
                ok = met[i] and (not relief.sustained or (i + 1 < len(t) and met[i + 1]))
                if ok:
                    expect = (t[i - 1] if i else 0.0, t[i], 1)
                    break
            if expect is None:
                if relief.sustained:
                    nm = t[~met]
                    expect = (nm.max() if len(nm) else 0.0, INF, 0)
                else:
                    expect = (t.max() if len(t) else 0.0, INF, 0)
            r = ev.loc[pid]
            assert (r["lower"], r["upper"], r["event"]) == expect, pid
