"""Analyses and figures on degenerate cohorts: one clear error or a result with warnings.

Each case of issue 10, section 4 has a fixture (a small simulated trial, modified):
baseline plus a single post-baseline visit, 100% relief at session 1, an arm without
outcomes, and arm names that look like LaTeX. Every test also checks that no numpy,
scipy or statsmodels warning reaches the user (only the package's own warnings may).
"""

from __future__ import annotations

import contextlib
import io
import warnings

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib import cbook

import dryneedle_outcomes as dno
from dryneedle_outcomes.models.mcid import first_session_intervals
from dryneedle_outcomes.stats.survival.cox import fit_cox
from dryneedle_outcomes.survival.estimability import no_timing_information

SESSIONS = list(range(1, 8))


@contextlib.contextmanager
def no_foreign_warnings():
    """Fail if a warning other than the package's own (DryNeedleWarning) is issued."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield caught
    foreign = [f"{w.category.__name__}: {w.message} ({w.filename}:{w.lineno})"
               for w in caught if not issubclass(w.category, dno.DryNeedleWarning)]
    assert not foreign, "warnings leaked to the user:\n" + "\n".join(foreign)


@pytest.fixture(scope="module")
def trial():
    return dno.simulate_tables(40, seed=3)


def _load(assessments, patients, adverse_events=None):
    # the tables were generated with scores that reflect that day's session
    # (simulate_tables' single-rating default): declared, as simulate_cohort does
    return dno.load_cohort(assessments.reset_index(drop=True), patients.reset_index(drop=True),
                           None if adverse_events is None
                           else adverse_events.reset_index(drop=True),
                           mapping={"assessments": {"assessed": "after_session"}})


@pytest.fixture(scope="module")
def single_visit(trial):
    """Baseline plus one post-baseline visit (visit 1) for everyone."""
    a = trial.assessments
    return _load(a[a["visit"] <= 1], trial.patients, trial.adverse_events)


@pytest.fixture(scope="module")
def all_relief(trial):
    """Everyone reaches 0 mm at every visit after baseline (100% relief at session 1),
    with the visits on a fixed 7-day grid, so that all relief falls on one time."""
    a = trial.assessments.copy()
    a.loc[a["visit"] >= 1, "first_step_pain"] = 0.0
    a["day"] = a["visit"] * 7.0
    return _load(a, trial.patients)


@pytest.fixture(scope="module")
def sham_without_outcomes(trial):
    """Every first-step pain value of the sham (reference) arm is missing."""
    a = trial.assessments.copy()
    sham = trial.patients.loc[trial.patients["arm"] == "sham", "patient_id"]
    a.loc[a["patient_id"].isin(sham), "first_step_pain"] = np.nan
    return _load(a, trial.patients)


@pytest.fixture(scope="module")
def third_arm_without_follow_up(trial):
    """A third arm ('laser', 8 patients) with baseline values only."""
    p = trial.patients.copy()
    p["arm"] = p["arm"].astype(str)
    laser = p.loc[p["arm"] == "dry_needling", "patient_id"].iloc[:8]
    p.loc[p["patient_id"].isin(laser), "arm"] = "laser"
    a = trial.assessments.copy()
    a.loc[a["patient_id"].isin(laser) & (a["visit"] > 0), "first_step_pain"] = np.nan
    return _load(a, p), set(laser)


# ---------------------------------------------------------------- baseline + one visit
@pytest.mark.parametrize("model", ["random_intercept", "random_slope"])
def test_single_visit_linear_trend_is_refused_in_words(single_visit, model):
    with no_foreign_warnings(), pytest.raises(dno.AnalysisError) as err:
        dno.fit_trajectory(single_visit, model=model)
    msg = str(err.value)
    assert f"model={model!r} fits a linear trend" in msg
    assert "visit(s) modelled: 1" in msg and "model='mmrm'" in msg


def test_single_visit_random_effect_is_refused_in_words(single_visit):
    with no_foreign_warnings(), pytest.raises(dno.AnalysisError,
                                              match="single modelled value of first_step_pain"):
        dno.fit_trajectory(single_visit, model="session_means")


def test_single_visit_mmrm_is_ancova_and_sessions_to_mcid_has_no_orphan_ci(single_visit):
    with no_foreign_warnings() as caught:
        fit = dno.fit_trajectory(single_visit, model="mmrm")
    with pytest.warns(FutureWarning, match="sessions_to_mcid is deprecated"):
        boot = fit.sessions_to_mcid(n_boot=30, seed=1, progress=False)
    assert not caught
    assert fit.comparison["visit"].tolist() == [1]
    missing = boot["estimate"].isna()
    assert missing.any()          # one visit: the MCID is not reached in this trial
    assert boot.loc[missing, ["ci_lower", "ci_upper"]].isna().all().all()
    assert boot.loc[missing, "note"].str.contains("not reached by the last visit").all()


def test_single_visit_responders_and_time_to_relief_run(single_visit):
    with no_foreign_warnings():
        res = dno.responders(single_visit)
        relief = dno.time_to_relief(single_visit, n_boot=10, progress=False)
    assert res.table["visit"].unique().tolist() == [1]
    assert set(relief.arms) == {"sham", "dry_needling"}


def test_single_session_soreness_model_leaves_out_the_session_term(single_visit):
    with no_foreign_warnings():
        res = dno.soreness_duration(single_visit, n_boot=5, progress=False)
    assert "session" not in res.time_ratios["term"].tolist()
    assert any("every analysed session has session = 1" in n for n in res.notes)


# ---------------------------------------------------------------- 100% relief at session 1
@pytest.mark.parametrize("interval_censored", [True, False])
def test_all_relief_at_session_one_reports_what_can_be_estimated(all_relief,
                                                                  interval_censored):
    with no_foreign_warnings():
        res = dno.time_to_relief(all_relief, timescale="sessions", session_visits=SESSIONS,
                                 interval_censored=interval_censored, n_boot=10,
                                 progress=False)
        rmst = res.rmst(3)
        res.summary()
        res.plot()
    text = " | ".join(res.warnings)
    assert "hazard ratio not estimable" in text and "same time (1)" in text
    assert "log-rank test not done" in text and "time ratios not estimable" in text
    assert res.hazard_ratios.empty and res.time_ratios.empty
    assert np.isnan(res.logrank["p_value"])
    # what can be estimated still is: medians and restricted means per arm
    assert res.median["estimate"].notna().all()
    per_arm = rmst[rmst["arm"].isin(res.arms)]
    # relief in (0, 1] session for every patient: seen at session 1 (whole sessions),
    # within the bounds 0 and 1 of the Turnbull NPMLE's non-uniqueness
    assert np.allclose(per_arm["estimate"], 1.0)
    if interval_censored:
        assert np.allclose(per_arm["bound_lower"], 0.0)
        assert np.allclose(per_arm["bound_upper"], 1.0)
    assert res.discrete_hazard is not None
    assert "perfect separation" in text


@pytest.fixture(scope="module")
def one_relief_time(trial):
    """Every relief on day 7, confirmed at day 14, and one patient who never improves (still
    at risk after day 7, so a Cox model is fitted): patients seen at visits 1 and 2 only,
    so the fixture does not depend on the simulator's dropout and missed-visit draws."""
    a = trial.assessments.copy()
    seen = a[a["visit"].isin([1, 2])].groupby("patient_id")["visit"].nunique()
    keep = seen.index[seen == 2]
    a = a[a["patient_id"].isin(keep)].copy()
    a.loc[a["visit"] >= 1, "first_step_pain"] = 0.0
    never = a["patient_id"] == keep[0]
    a.loc[never, "first_step_pain"] = a.loc[never & (a["visit"] == 0), "first_step_pain"].iloc[0]
    a["day"] = a["visit"] * 7.0
    return _load(a, trial.patients[trial.patients["patient_id"].isin(keep)])


def test_all_relief_on_one_day_skips_the_ph_test_instead_of_singular_matrix(one_relief_time):
    with no_foreign_warnings():
        res = dno.time_to_relief(one_relief_time, n_boot=10, progress=False)
    assert any(w.startswith("proportional hazards not tested") for w in res.warnings)
    assert res.ph_test is None


def test_ph_test_with_one_event_time_names_the_problem():
    X = pd.DataFrame({"arm": [0.0, 0.0, 1.0, 1.0, 0.0, 1.0]})
    fit = fit_cox([1, 1, 1, 1, 2, 3], [1, 1, 1, 1, 0, 0], X)
    with no_foreign_warnings(), pytest.raises(dno.AnalysisError,
                                              match="two or more distinct times"):
        fit.proportional_hazards_test()


def test_no_timing_information_rule():
    assert no_timing_information(np.array([1.0, 1.0, 0.0]), np.array([1, 1, 0])) == (
        "every analysed patient with relief (2) had it at the same time (1) "
        "(1 censored before it)")
    # someone still without relief at the event time: the comparison is informative
    assert no_timing_information(np.array([1.0, 1.0, 3.0]), np.array([1, 1, 0])) is None


@pytest.mark.parametrize("model", ["random_intercept", "session_means"])
def test_all_relief_trajectory_without_variance_is_refused_in_words(all_relief, model):
    with no_foreign_warnings(), pytest.raises(dno.AnalysisError,
                                              match="fit y exactly .zero residual variance"):
        dno.fit_trajectory(all_relief, model=model)


def test_all_relief_unadjusted_mmrm_warns_without_leaking(all_relief):
    with no_foreign_warnings() as caught:
        fit = dno.fit_trajectory(all_relief, model="mmrm", adjust=())
    assert not fit.converged and fit.warnings
    # the default Kenward-Roger df need the information of a converged fit: the result
    # says it fell back to Satterthwaite, in the warnings and the methods
    assert fit.df_method == "satterthwaite" and fit.kenward_roger is None
    assert any("Satterthwaite df instead of 'kenward_roger'" in w for w in fit.warnings)
    # one channel (dryneedle_outcomes.alerts): a fit that did not converge is not silent
    # in a notebook; each stored message is issued once, as a ConvergenceWarning
    issued = [str(w.message) for w in caught if issubclass(w.category, dno.ConvergenceWarning)]
    assert issued == list(fit.warnings)


def test_engine_warnings_reach_the_user_once(trial):
    """A Cox model with an arm without relief warns inside the engine and in the result:
    the user sees it once, stored with its source ("Cox model: ...")."""
    a = trial.assessments.copy()
    sham = trial.patients.loc[trial.patients["arm"] == "sham", "patient_id"]
    a.loc[a["patient_id"].isin(sham) & (a["visit"] >= 1), "first_step_pain"] = 100.0
    with no_foreign_warnings() as caught:
        res = dno.time_to_relief(_load(a, trial.patients), interval_censored=False,
                                 n_boot=0, progress=False, distributions=())
    cox = [w for w in res.warnings if w.startswith("Cox model: ")]
    assert cox, res.warnings
    issued = [str(w.message) for w in caught]
    assert len(issued) == len(set(issued)) == len(res.warnings)
    assert set(issued) == set(res.warnings)


def test_no_relief_at_all_on_sessions_still_gives_curves(trial):
    a = trial.assessments.copy()
    a.loc[a["visit"] >= 1, "first_step_pain"] = 100.0
    with no_foreign_warnings():
        res = dno.time_to_relief(_load(a, trial.patients), timescale="sessions",
                                 session_visits=SESSIONS, n_boot=0, progress=False)
    assert res.discrete_hazard is None
    assert "discrete-time model not fitted: no relief event on the sessions timescale" in \
        res.warnings
    assert any("no analysed patient had relief" in w for w in res.warnings)
    assert res.median["estimate"].isna().all()     # not reached, and said so above


def test_dose_response_on_two_patients_explains_the_gee_warnings(trial):
    ids = [trial.patients.loc[trial.patients["arm"] == arm, "patient_id"].iloc[0]
           for arm in ("sham", "dry_needling")]
    pick = lambda t: t[t["patient_id"].isin(ids)]   # noqa: E731
    c = _load(pick(trial.assessments), pick(trial.patients), pick(trial.adverse_events))
    with no_foreign_warnings():
        res = dno.dose_response(c, terms="any")
    assert res.warnings, "a fit on two patients must say it is not reliable"
    assert all("odds ratios" in w for w in res.warnings)


# ---------------------------------------------------------------- an arm without outcomes
def test_reference_arm_without_outcomes_is_an_error_naming_it(sham_without_outcomes):
    c = sham_without_outcomes
    calls = {
        "mmrm": lambda: dno.fit_trajectory(c, model="mmrm"),
        "random_slope": lambda: dno.fit_trajectory(c),
        "responders": lambda: dno.responders(c),
        "time_to_relief": lambda: dno.time_to_relief(c, n_boot=0, progress=False),
        "explicit reference": lambda: dno.responders(c, reference_arm="sham"),
    }
    for name, call in calls.items():
        with no_foreign_warnings(), pytest.raises(dno.AnalysisError) as err:
            call()
        msg = str(err.value)
        assert "the reference arm 'sham' has patients but no" in msg, name
        assert "arms with data: dry_needling" in msg, name


def test_other_arm_without_follow_up_is_named_and_left_out(third_arm_without_follow_up):
    c, laser = third_arm_without_follow_up
    with no_foreign_warnings():
        relief = dno.time_to_relief(c, n_boot=0, progress=False)
        res = dno.responders(c)
    assert relief.reference_arm == "sham" and relief.arms == ["sham", "dry_needling"]
    assert any("'laser'" in w and "left out of every comparison" in w
               for w in relief.warnings)
    assert laser <= set(relief.excluded["patient_id"])
    assert res.reference_arm == "sham"
    assert any("'laser'" in n and "proportions and risk differences are missing" in n
               for n in res.notes)
    with pytest.raises(dno.AnalysisError, match="arm.s. 'laser' have patients but no value"):
        dno.fit_trajectory(c, model="mmrm")


# ---------------------------------------------------------------- sessions_to_mcid intervals
def test_first_session_interval_only_next_to_an_estimate():
    draws = np.array([[2.0, 3.0, np.nan], [3.0, np.nan, np.nan], [3.0, 4.0, np.nan]])
    with no_foreign_warnings():   # the third arm's draws are all missing: no All-NaN slice
        out = first_session_intervals(np.array([3.0, np.nan, 5.0]), draws, 0.95,
                                      last_visit=7)
    assert out.loc[0, ["ci_lower", "ci_upper"]].notna().all()
    assert out.loc[1, ["ci_lower", "ci_upper"]].isna().all()   # draws exist, estimate not
    assert out.loc[1, "note"].startswith("MCID not reached by the last visit (7)")
    assert out.loc[2, "note"] == "no bootstrap fit reached the MCID: no interval"
    assert out["share_never"].tolist() == [0.0, pytest.approx(1 / 3), 1.0]


def test_sessions_to_mcid_without_bootstrap_leaks_nothing(trial):
    fit = dno.fit_trajectory(_load(trial.assessments, trial.patients), model="mmrm")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = fit.sessions_to_mcid(n_boot=0, progress=False)
    # its own deprecation only (the reason it is deprecated), no numpy/scipy warning
    assert [w.category for w in caught] == [FutureWarning], [str(w.message) for w in caught]
    assert out[["ci_lower", "ci_upper"]].isna().all().all()
    assert out["note"].str.len().gt(0).all()


# ---------------------------------------------------------------- figures: literal labels
MATHY = {"dry_needling": r"$\frac{1}{$ needling C:\temp", "sham": "sham $x$ \\ control"}


@pytest.fixture(scope="module")
def mathy_cohort(trial):
    p = trial.patients.copy()
    p["arm"] = p["arm"].map(MATHY)
    return _load(trial.assessments, p, trial.adverse_events)


def _drawn(ax):
    fig = ax.figure
    for fmt in ("png", "pdf", "svg"):
        fig.savefig(io.BytesIO(), format=fmt)
    texts = [t.get_text() for t in ax.findobj(plt.Text) if t.get_text()]
    assert not [t for t in texts if cbook.is_math_text(t)]
    return [t.replace(r"\$", "$") for t in texts]


@pytest.mark.parametrize("figure", ["trajectory", "forest", "responders", "relief",
                                    "adverse_events", "soreness"])
def test_arm_names_with_dollars_and_backslashes_are_drawn_literally(mathy_cohort, figure):
    c, ref = mathy_cohort, MATHY["sham"]
    make = {
        "trajectory": lambda: dno.fit_trajectory(c, model="mmrm", reference_arm=ref).plot(),
        "forest": lambda: dno.plots.plot_arm_differences(
            dno.fit_trajectory(c, model="mmrm", reference_arm=ref)),
        "responders": lambda: dno.responders(c, reference_arm=ref).plot(),
        "relief": lambda: dno.time_to_relief(c, n_boot=0, progress=False,
                                             reference_arm=ref).plot(),
        "adverse_events": lambda: dno.adverse_event_rates(c).plot(),
        "soreness": lambda: dno.soreness_duration(c, n_boot=0, progress=False).plot(),
    }[figure]
    with no_foreign_warnings():
        texts = _drawn(make())
    shown = " ".join(texts)
    assert "needling C:\\temp" in shown            # the backslash survives as typed
    if figure == "forest":
        assert "favours $\\frac{1}{$ needling C:\\temp" in shown
    elif figure != "soreness":
        assert "Sham $x$ \\ control" in shown


def test_literal_keeps_mathtext_out():
    from dryneedle_outcomes.plots import literal

    assert literal("$a$ \\b") == "\\$a\\$ \\b"
    assert not cbook.is_math_text(literal("$x$")) and cbook.is_math_text("$x$")
