"""Issue 12 rules of time_to_relief on hand-built cohorts whose answers are worked out by hand.

- whole sessions: on timescale="sessions" no fractional median, limits or curve times,
  and the plot draws steps (survfit's curve would give a median of 1.5 here);
- confirmed relief by default: a single noise crossing is not relief; a crossing at the
  last assessment is censored at the last assessment without relief, and counted;
- RMST: tau must be pre-specified (no data-driven default); the report shows the RMST
  only with a configured tau and says why otherwise;
- no sentinel values: visit_upper is missing (not -1) for censored patients;
- notes on zero-width and "not reached to not reached" median intervals.
The RMST numbers themselves are checked against R in tests/test_rmst_ic.py.
"""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

import dryneedle_outcomes as dno
from dryneedle_outcomes.config import AnalysisOptions, TimeToReliefOptions
from dryneedle_outcomes.errors import AnalysisError
from dryneedle_outcomes.report.relief import relief_section
from dryneedle_outcomes.survival.events import (
    REASON_END,
    REASON_UNCONFIRMED,
    derive_relief_events,
)

INF = math.inf
DAYS = [0, 7, 14, 21, 28]
# visits 1-3 are needling sessions; scores are taken before the session's needling
# (the default rule), so visit v reflects v - 1 sessions and visit 4 (follow-up) 3.
S1 = [80, 75, 55, 55, 55]        # relief seen after 1 session (visit 2), confirmed
S2 = [80, 75, 70, 55, 55]        # after 2 sessions (visit 3), confirmed
NEVER = [80, 75, 75, 75, 75]


def cohort(spec: dict[str, tuple[str, list]]) -> dno.Cohort:
    """{patient: (arm, [first-step pain at visits 0..4])}."""
    patients = pd.DataFrame({"patient_id": list(spec), "arm": [a for a, _ in spec.values()]})
    rows = [{"patient_id": pid, "visit": v, "day": float(DAYS[v]), "first_step_pain": float(x),
             "vas_pain": 50.0, "needled": arm == "dry_needling" and v in (1, 2, 3)}
            for pid, (arm, values) in spec.items() for v, x in enumerate(values)]
    return dno.load_cohort(pd.DataFrame(rows), patients)


def arms(sham: list[list], needling: list[list]) -> dict:
    spec = {f"s{i}": ("sham", v) for i, v in enumerate(sham)}
    spec.update({f"d{i}": ("dry_needling", v) for i, v in enumerate(needling)})
    return spec


# ---------------------------------------------------------------- whole sessions
# sham: 1 of 5 relieved by session 1, 4 of 5 by session 2 -> S(1) = 0.8, S(2) = 0.2;
# survfit's curve drops at 0.5 and 1.5 (midpoints), so its median would be 1.5.
SESSIONS = arms([S1, S2, S2, S2, NEVER], [S1, S1, S1, S1, NEVER])


@pytest.fixture(scope="module")
def sessions_ic():
    return dno.time_to_relief(cohort(SESSIONS), timescale="sessions", n_boot=40, seed=3,
                              progress=False, distributions=())


def test_no_fractional_median_on_sessions(sessions_ic):
    res = sessions_ic
    # survfit's (midpoint) median would be 1.5 for sham: the Turnbull drops are there
    assert res.turnbull_fits["sham"].median() == 1.5
    med = res.median.set_index("arm")
    assert med.loc["sham", "estimate"] == 2.0          # smallest k with S(k) <= 0.5
    assert med.loc["dry_needling", "estimate"] == 1.0
    limits = med[["ci_lower", "ci_upper"]].to_numpy()
    finite = limits[np.isfinite(limits)]
    assert finite.size and np.all(finite == np.round(finite))     # whole sessions
    assert np.all(res.curve["time"] == np.round(res.curve["time"]))
    sham = res.curve[res.curve["arm"] == "sham"]
    assert sham["time"].tolist() == [1.0, 2.0]
    np.testing.assert_allclose(sham["estimate"], [0.8, 0.2], rtol=0, atol=1e-9)


def test_proportion_relieved_by_session_and_per_session_hazard(sessions_ic):
    rb = sessions_ic.relieved_by_session
    sham = rb[rb["arm"] == "sham"].set_index("session")["estimate"]
    # 1 of 5 by session 1, 4 of 5 by session 2 and 3 (the NPMLE here is the empirical one)
    np.testing.assert_allclose(sham.loc[[1, 2, 3]], [0.2, 0.8, 0.8], rtol=0, atol=1e-9)
    assert (rb["ci_lower"] <= rb["estimate"] + 1e-12).all()
    assert (rb["estimate"] <= rb["ci_upper"] + 1e-12).all()
    hz = sessions_ic.per_session_hazard
    assert {"session", "arm", "n_at_risk", "n_relief", "estimate"} <= set(hz.columns)
    # observed per-session hazard of sham: 1/5 at session 1, 3/4 at session 2
    obs = hz[hz["arm"] == "sham"].set_index("session")
    assert (obs.loc[1, "n_relief"], obs.loc[1, "n_at_risk"]) == (1, 5)
    assert (obs.loc[2, "n_relief"], obs.loc[2, "n_at_risk"]) == (3, 4)
    assert "relieved_by_session" in sessions_ic.tables()


def test_kaplan_meier_on_sessions_has_whole_medians_too():
    # sham S(1) = 0.5 exactly: R's rule averages to 1.5 (1 + 2) / 2; on whole sessions
    # the median is 1, the first session where S(k) <= 0.5
    spec = arms([S1, S1, NEVER, NEVER], [S1, S1, S1, NEVER])
    res = dno.time_to_relief(cohort(spec), timescale="sessions", interval_censored=False,
                             distributions=())
    assert float(res.km["sham"].median()["estimate"]) != 1.0   # R's rule is not whole here
    med = res.median.set_index("arm")
    assert med.loc["sham", "estimate"] == 1.0
    vals = med[["estimate", "ci_lower", "ci_upper"]].to_numpy()
    assert np.all(vals[np.isfinite(vals)] == np.round(vals[np.isfinite(vals)]))


def test_sessions_plot_draws_steps_not_slopes(sessions_ic):
    fig, ax = plt.subplots()
    sessions_ic.plot(ax=ax, at_risk=False)
    lines = [ln for ln in ax.get_lines() if ln.get_label() in ("Sham", "Dry needling")]
    assert lines
    for ln in lines:
        x = np.asarray(ln.get_xdata(), dtype=float)
        y = np.asarray(ln.get_ydata(), dtype=float)
        if ln.get_drawstyle() == "steps-post":      # steps: drops only at whole sessions
            assert np.all(x == np.round(x))
        else:                                       # explicit vertices: no sloped segment
            sloped = (np.diff(x) != 0) & (np.diff(y) != 0)
            assert not sloped.any()
    plt.close(fig)


# ---------------------------------------------------------------- confirmed relief
NOISE = [80, 55, 75, 75, 75]         # crosses the MCID once at day 7, then back
CONFIRMED = [80, 55, 55, 75, 75]     # met at days 7 and 14
LAST = [80, 75, 75, 75, 55]          # met only at the last assessment (day 28)


def test_confirmed_relief_is_the_default_and_a_noise_crossing_is_not_relief():
    c = cohort(arms([NOISE, LAST, NEVER], [CONFIRMED, CONFIRMED, NOISE]))
    res = dno.time_to_relief(c, n_boot=0, distributions=())
    assert res.relief == dno.Relief(mcid=True, sustained=True)
    ev = res.events.set_index("patient_id")
    # the noise crossing (day 7, back at day 14) is censored at the last assessment
    assert (ev.loc["s0", "lower"], ev.loc["s0", "upper"], ev.loc["s0", "event"]) == \
        (28.0, INF, 0)
    assert ev.loc["s0", "censor_reason"] == REASON_END
    assert (ev.loc["d0", "lower"], ev.loc["d0", "upper"], ev.loc["d0", "event"]) == \
        (0.0, 7.0, 1)
    # the single-crossing definition is still available and counts the noise as relief
    single = dno.time_to_relief(c, relief=dno.Relief(mcid=True), n_boot=0, distributions=())
    sv = single.events.set_index("patient_id")
    assert (sv.loc["s0", "lower"], sv.loc["s0", "upper"], sv.loc["s0", "event"]) == \
        (0.0, 7.0, 1)
    assert single.n_events == res.n_events + 3       # s0, d2 (noise) and s1 (last crossing)


def test_a_crossing_at_the_last_assessment_is_censored_and_counted():
    c = cohort(arms([NOISE, LAST, NEVER], [CONFIRMED, CONFIRMED, LAST]))
    ev = derive_relief_events(c, "first_step_pain", dno.Relief(mcid=True, sustained=True))
    e = ev.events.set_index("patient_id")
    # censored at day 21, the last assessment known to be without relief
    assert (e.loc["s1", "lower"], e.loc["s1", "upper"], e.loc["s1", "event"]) == (21.0, INF, 0)
    assert e.loc["s1", "censor_reason"] == REASON_UNCONFIRMED
    res = dno.time_to_relief(c, n_boot=0, distributions=())
    note = [n for n in res.notes if "confirmed at the next assessment" in n]
    assert len(note) == 1 and note[0].split(": ", 1)[1].startswith("2 patient(s)")


# ---------------------------------------------------------------- RMST and tau
def test_rmst_needs_a_pre_specified_tau(sessions_ic):
    with pytest.raises(AnalysisError, match="must be pre-specified"):
        sessions_ic.rmst()
    assert "rmst" not in sessions_ic.tables()
    assert "not shown, no restriction time tau was pre-specified" in sessions_ic.summary()
    rm = sessions_ic.rmst(3)
    assert rm["method"].eq("turnbull (whole sessions)").all()
    # sham on whole sessions: S = 1 on [0, 1), 0.8 on [1, 2), 0.2 on [2, 3): area to 3
    # = 1 + 0.8 + 0.2 = 2.0, the upper bound (drops at the right ends); the lower bound
    # (drops at 0 and 1) is 0.8 + 0.2 * 2 = 1.2 (pure arithmetic, exact to rounding)
    sham = rm.set_index("arm").loc["sham"]
    assert sham["estimate"] == pytest.approx(2.0, abs=1e-9)
    assert (sham["bound_lower"], sham["bound_upper"]) == pytest.approx((1.2, 2.0), abs=1e-9)
    assert sham["ci_lower"] <= sham["estimate"] <= sham["ci_upper"]
    diff = rm.iloc[2]
    assert diff["arm"] == "dry_needling - sham"
    assert np.isnan(diff["p_value"]) and diff["ci_lower"] <= diff["estimate"] <= diff["ci_upper"]
    # the same seed gives the same bootstrap CI
    again = dno.time_to_relief(cohort(SESSIONS), timescale="sessions", n_boot=40, seed=3,
                               progress=False, distributions=()).rmst(3)
    pd.testing.assert_frame_equal(rm, again)
    with_tau = dno.time_to_relief(cohort(SESSIONS), timescale="sessions", n_boot=0,
                                  distributions=(), rmst_tau=3)
    assert "pre-specified tau" in with_tau.summary() and "rmst" in with_tau.tables()
    with pytest.raises(AnalysisError, match="rmst_tau must be"):
        dno.time_to_relief(cohort(SESSIONS), rmst_tau=0)


def _section(rmst_tau, rmst_tau_sessions=None):
    options = AnalysisOptions(primary_visit=4, time_to_relief=TimeToReliefOptions(
        value=19.0, timescale=("days", "sessions"), distributions=(), n_boot=0,
        rmst_tau=rmst_tau, rmst_tau_sessions=rmst_tau_sessions))
    return relief_section(cohort(SESSIONS), options, step=lambda _: None, progress=False)


def test_report_shows_the_rmst_only_with_a_configured_tau():
    without = _section(None)
    names = [t.name for t in without.tables]
    assert not any(n.endswith("_rmst") for n in names)
    assert "restricted mean" not in without.headline[0]
    why = [n for n in without.tables[0].table.notes if "not chosen from the data" in n]
    assert why
    with_tau = _section(21.0, 3.0)
    names = [t.name for t in with_tau.tables]
    assert "time_to_relief_days_rmst" in names and "time_to_relief_sessions_rmst" in names
    assert "restricted mean time without relief to 21 days (pre-specified)" in \
        with_tau.headline[0]
    assert "time_to_relief_sessions_relieved_by_session" in names


# ---------------------------------------------------------------- sentinels
def test_no_sentinel_for_a_missing_upper_visit():
    c = cohort(arms([NEVER, S1], [S2, NOISE]))
    res = dno.time_to_relief(c, relief=dno.Relief(mcid=True), n_boot=0, distributions=())
    ev = res.events.set_index("patient_id")
    assert str(ev["visit_upper"].dtype) == "Int64"
    assert pd.isna(ev.loc["s0", "visit_upper"])             # censored: no upper visit
    assert ev.loc["s1", "visit_upper"] == 2
    numeric = res.events.select_dtypes("number")
    assert not (numeric == -1).any().any()


# ---------------------------------------------------------------- notes
def test_zero_width_and_not_reached_intervals_get_a_note():
    # every needling patient relieved at session 1: every bootstrap median is 1;
    # 1 of 10 sham patients relieved: median and both limits not reached
    spec = arms([S1] + [NEVER] * 9, [S1] * 6)
    res = dno.time_to_relief(cohort(spec), timescale="sessions", n_boot=50, seed=1,
                             progress=False, distributions=())
    med = res.median.set_index("arm")
    dn, sham = med.loc["dry_needling"], med.loc["sham"]
    assert (dn["estimate"], dn["ci_lower"], dn["ci_upper"]) == (1.0, 1.0, 1.0)
    assert dn["note"].startswith("zero-width CI")
    assert np.isnan(sham["estimate"]) and np.isinf(sham["ci_lower"])
    assert "median not reached" in sham["note"]
    assert "CI 'not reached to not reached'" in sham["note"]
    assert "zero-width CI" in res.summary()
    spec2 = arms([S1, S2, NEVER], [S1, S2, S2])
    plain = dno.time_to_relief(cohort(spec2), n_boot=0, distributions=())
    assert plain.median["note"].str.contains("no CI: n_boot = 0").all()
