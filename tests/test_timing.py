"""Session timing: the timing column (pre/post needling) and the declared rule ``assessed``.

What the rule changes: the visit that ``cumulative_effect(after=k)`` reads, the clock of
the sessions timescale of time to relief, the rating analyses take when both timings
exist, and the sessions the simulator generates pain from. What it does not change: the
days timescale, the model fits at a given visit, data without a timing column.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import dryneedle_outcomes as dno
from dryneedle_outcomes.simulate import simulate_tables
from dryneedle_outcomes.timing import visit_after_sessions

PATIENTS = pd.DataFrame({"patient_id": ["P1", "P2"], "arm": ["dry_needling", "sham"]})


def pre_post_rows(timing=("pre", "Post-needling")) -> pd.DataFrame:
    rows = []
    for pid, drop in (("P1", 20.0), ("P2", 5.0)):
        rows.append({"patient_id": pid, "visit": 0, "When": None, "first_step_pain": 70.0,
                     "needled": False})
        for v in (1, 2):
            rows.append({"patient_id": pid, "visit": v, "When": timing[0],
                         "first_step_pain": 70.0 - 5 * v, "needled": pid == "P1"})
            rows.append({"patient_id": pid, "visit": v, "When": timing[1],
                         "first_step_pain": 70.0 - 5 * v - drop, "needled": pid == "P1"})
    return pd.DataFrame(rows)


MAPPING = {"assessments": {"columns": {"timing": "When"}}}


# ------------------------------------------------------------------ loading
def test_timing_is_mapped_read_in_common_spellings_and_ledgered():
    cohort = dno.load_cohort(pre_post_rows(), PATIENTS, mapping=MAPPING)
    a = cohort.assessments
    assert list(a.columns[:3]) == ["patient_id", "visit", "timing"]
    assert a["timing"].astype(object).where(a["timing"].notna(), None).tolist()[:5] == [
        None, "pre_session", "post_session", "pre_session", "post_session"]
    fixes = cohort.quality.corrections
    fixes = fixes[fixes["column"] == "When"]          # the ledger names the source column
    assert set(zip(fixes["old"], fixes["new"])) == {("pre", "pre_session"),
                                                    ("Post-needling", "post_session")}
    assert cohort.assessed == "before_session"       # the default rule
    assert cohort.has_timing


@pytest.mark.parametrize(("word", "canonical"), [("before", "pre_session"),
                                                 ("after", "post_session"),
                                                 ("PRE SESSION", "pre_session"),
                                                 ("post", "post_session")])
def test_common_spellings(word, canonical):
    rows = pre_post_rows(timing=(word, "post" if canonical == "pre_session" else "pre"))
    cohort = dno.load_cohort(rows, PATIENTS, mapping=MAPPING)
    assert canonical in set(cohort.assessments["timing"].dropna())


def test_a_repeated_patient_visit_timing_is_an_error_naming_file_row_column_rule():
    rows = pre_post_rows()
    rows = pd.concat([rows, rows.iloc[[1]].assign(first_step_pain=12.0)], ignore_index=True)
    with pytest.raises(dno.DataValidationError) as info:
        dno.load_cohort(rows, PATIENTS, mapping=MAPPING)
    problems = info.value.problems
    assert set(problems["rule"]) == {"duplicate_visit"}
    assert set(problems["column"]) == {"visit"}
    assert sorted(problems["row"]) == [3, len(rows) + 1]   # header is row 1
    assert "visit 1 (pre_session)" in problems["message"].iloc[0]


def test_an_unknown_timing_rejects_the_row_with_its_rule():
    rows = pre_post_rows()
    rows.loc[2, "When"] = "lunchtime"
    cohort = dno.load_cohort(rows, PATIENTS, mapping=MAPPING, errors="quarantine")
    rej = cohort.quality.rejected
    # the ledger names the source column
    assert rej[["row", "column", "rule"]].values.tolist() == [[4, "When", "invalid_timing"]]
    counts = cohort.quality.counts.set_index("table").loc["assessments"]
    assert (counts["read"], counts["kept"], counts["rejected"]) == (10, 9, 1)


def test_without_a_timing_column_nothing_changes(sample_cohort):
    assert "timing" not in sample_cohort.assessments
    ratings = sample_cohort.visit_ratings()
    assert ratings.assessments is sample_cohort.assessments and ratings.note is None
    assert not sample_cohort.has_timing


def test_the_rule_is_declared_in_the_mapping_and_checked():
    cohort = dno.load_cohort(pre_post_rows(), PATIENTS,
                             mapping={"assessments": {"columns": {"timing": "When"},
                                                      "assessed": "after_session"}})
    assert cohort.assessed == "after_session"
    with pytest.raises(dno.MappingError, match="assessed must be 'before_session'"):
        dno.load_cohort(pre_post_rows(), PATIENTS,
                        mapping={"assessments": {"assessed": "during"}})


def test_the_sample_declares_the_rule_it_was_generated_under(sample_cohort):
    assert sample_cohort.assessed == "after_session"


# ------------------------------------------------------------------ one rating per visit
@pytest.mark.parametrize(("assessed", "kept", "aside"), [("before_session", "pre_session",
                                                          "post_session"),
                                                         ("after_session", "post_session",
                                                          "pre_session")])
def test_visit_ratings_take_the_rule_s_rating_and_list_the_others(assessed, kept, aside):
    cohort = dno.load_cohort(pre_post_rows(), PATIENTS,
                             mapping={"assessments": {"columns": {"timing": "When"},
                                                      "assessed": assessed}})
    r = cohort.visit_ratings()
    assert not r.assessments.duplicated(["patient_id", "visit"]).any()
    assert set(r.assessments["timing"].dropna()) == {kept}
    assert set(r.set_aside["timing"]) == {aside} and len(r.set_aside) == 4
    assert "4 " + aside in r.note
    # needling is a fact of the visit: kept on the rating used
    assert r.assessments.loc[r.assessments["patient_id"] == "P1", "needled"].tolist() == [
        False, True, True]
    cfb = cohort.change_from_baseline()
    drop = {"pre_session": 0.0, "post_session": 20.0}[kept]
    p1 = cfb[(cfb["patient_id"] == "P1") & (cfb["visit"] == 2)]
    assert p1["chg"].item() == -10.0 - drop


def test_analyses_say_which_ratings_were_set_aside():
    cohort = dno.simulate_cohort(n_patients=40, seed=3, n_sessions=3, within_session=True)
    note = cohort.visit_ratings().note
    assert note.startswith(f"{len(cohort.visit_ratings().set_aside)} post_session rating(s)")
    fit = dno.fit_trajectory(cohort, model="mmrm")
    assert note in fit.notes
    assert any(n.startswith("Scores at session k were taken before") for n in fit.methods())
    assert note + "." in dno.responders(cohort).notes
    with warnings.catch_warnings(record=True) as caught:  # e.g. a proportional-hazards check
        warnings.simplefilter("always")
        relief = dno.time_to_relief(cohort, relief=dno.Relief(mcid=True), n_boot=0)
    assert {str(w.message) for w in caught} <= set(relief.warnings)
    assert note + "." in relief.notes
    assert f"Baseline scores: {note}." in dno.baseline_table(cohort).notes
    # the trajectory models only the pre-session (rule) ratings: one per patient x visit
    assert not fit.frame.data.duplicated(["patient_id", "visit"]).any()
    pre = cohort.assessments[(cohort.assessments["timing"] != "post_session")
                             & (cohort.assessments["visit"] >= 1)]
    assert fit.n_observations == int(pre["first_step_pain"].notna().sum())


def test_appointment_counts_do_not_double_with_two_ratings_per_visit():
    kwargs = {"n_patients": 40, "seed": 3, "n_sessions": 3}
    single = dno.simulate_cohort(**kwargs, assessed="before_session")
    both = dno.simulate_cohort(**kwargs, within_session=True)
    rates = [dno.adverse_event_rates(c, per="session").table for c in (single, both)]
    pd.testing.assert_frame_equal(rates[0], rates[1])


# ------------------------------------------------------------------ cumulative effect
def test_visit_after_sessions():
    sessions, visits = [1, 2, 3], [1, 2, 3, 4]
    assert [visit_after_sessions(k, sessions, visits, "before_session")
            for k in (1, 2, 3)] == [2, 3, 4]
    assert [visit_after_sessions(k, sessions, visits, "after_session")
            for k in (1, 2, 3)] == [1, 2, 3]
    with pytest.raises(dno.AnalysisError, match="give 1..3"):
        visit_after_sessions(4, sessions, visits, "after_session")
    with pytest.raises(dno.AnalysisError, match="no modelled visit"):
        visit_after_sessions(3, sessions, [1, 2, 3], "before_session")


def test_cumulative_effect_reads_the_visit_the_rule_names():
    """Same data, two declared rules: after k sessions is visit k + 1 (before_session) or
    visit k (after_session); the model and its estimate at a given visit do not change."""
    tables = simulate_tables(80, seed=4, n_sessions=4, follow_up_weeks=(10,))
    fits = {}
    for assessed in ("before_session", "after_session"):
        cohort = dno.load_cohort(tables.assessments, tables.patients,
                                 mapping={"assessments": {"assessed": assessed}})
        fits[assessed] = dno.fit_trajectory(cohort, model="mmrm")
    before, after = fits["before_session"], fits["after_session"]
    pd.testing.assert_frame_equal(before.comparison, after.comparison)
    for k in (1, 2, 3, 4):
        b, a = before.cumulative_effect(k), after.cumulative_effect(k)
        assert set(b["visit"]) == {k + 1} and set(a["visit"]) == {k}
    # after 3 sessions (before_session) is what after_session calls the 4th session's
    # visit: the same marginal means, hence the same numbers
    b3, a4 = before.cumulative_effect(3), after.cumulative_effect(4)
    # one data set fitted twice by the same deterministic code: only the labels differ, so
    # the numbers agree to rounding (1e-12), not to an optimiser's tolerance
    np.testing.assert_allclose(b3["estimate"], a4["estimate"], rtol=1e-12)


# ------------------------------------------------------------------ simulator
def test_simulator_generates_pain_from_the_sessions_received_before_the_rating():
    kwargs = {"n_patients": 30, "seed": 9, "n_sessions": 4}
    after = simulate_tables(**kwargs)
    before = simulate_tables(**kwargs, assessed="before_session")
    assert after.truth["assessed"] == "after_session"
    diff_a = after.truth["arm_difference"].set_index("visit")["estimate"]
    diff_b = before.truth["arm_difference"].set_index("visit")["estimate"]
    # before_session: no session yet at the first session's score; one session behind
    assert diff_b[1] == 0.0 and diff_a[1] < 0.0
    # the simulator's truth is arithmetic on its parameters: equal to rounding
    np.testing.assert_allclose(diff_b.loc[2:4].to_numpy(), diff_a.loc[1:3].to_numpy(),
                               rtol=1e-12)
    assert diff_b[5] == diff_a[5]                      # the follow-up: every session
    # only the means move: the random draws are the same
    pd.testing.assert_series_equal(after.assessments["day"], before.assessments["day"])


def test_within_session_rows_and_truth():
    sim = simulate_tables(60, seed=2, n_sessions=3, within_session=True)
    a = sim.assessments
    assert sim.truth["assessed"] == "before_session"
    sessions = a[a["visit"].between(1, 3)]
    assert set(sessions["timing"]) == {"pre_session", "post_session"}
    assert a.loc[~a["visit"].between(1, 3), "timing"].isna().all()
    assert not a.duplicated(["patient_id", "visit", "timing"]).any()
    truth = sim.truth["within_session"].set_index(["arm", "session"])
    assert truth.loc[("dry_needling", 1), "immediate"] == -10.0
    assert truth.loc[("sham", 2), "immediate"] == -4.0
    # what lasts from each session adds up to the cumulative change
    dn = truth.loc["dry_needling"]  # (arithmetic on the parameters: equal to rounding)
    np.testing.assert_allclose(dn["carry_over"].iloc[:-1].cumsum(), dn["cumulative"].iloc[:-1],
                               rtol=1e-12)
    # the pre-session rows are the single-rating trial under before_session
    single = simulate_tables(60, seed=2, n_sessions=3, assessed="before_session").assessments
    pre = a[a["timing"].ne("post_session")].drop(columns="timing").reset_index(drop=True)
    pd.testing.assert_frame_equal(pre, single, check_dtype=False)   # post rows: needled NA
    # the observed mean within-session change is near the truth (ITT, both arms)
    wide = a.pivot_table(index=["patient_id", "visit"], columns="timing",
                         values="first_step_pain")
    change = (wide["post_session"] - wide["pre_session"]).mean()
    assert -10.0 < change < -4.0
    with pytest.raises(dno.ConfigError, match="within_session"):
        dno.simulate.write_raw_exports(sim, "never-written")


# ------------------------------------------------------------------ report
def test_report_shows_the_saw_tooth_only_when_both_timings_exist():
    from dryneedle_outcomes.config import AnalysisOptions, TrajectoryOptions
    from dryneedle_outcomes.report import run_analyses

    options = AnalysisOptions(trajectory=TrajectoryOptions(models=("mmrm",)),
                              primary_visit=2)
    both = dno.simulate_cohort(n_patients=50, seed=6, n_sessions=2, within_session=True)
    single = dno.simulate_cohort(n_patients=50, seed=6, n_sessions=2)
    sections = {name: {s.key: s for s in run_analyses(c, options, progress=False)}[
        "trajectory"] for name, c in (("both", both), ("single", single))}
    names = {k: {i.name for i in s.items} for k, s in sections.items()}
    assert {"within_session_comparison", "within_session_saw_tooth",
            "within_session_effects"} <= names["both"]
    assert not any(n.startswith("within_session") for n in names["single"])
    assert any(h.startswith("Immediate effect of session 1") for h in
               sections["both"].headline)
    # the methods notes under the trajectory tables state the declared rule
    notes = next(t.table.notes for t in sections["both"].tables
                 if t.name == "trajectory_mmrm_arm_difference")
    assert any("taken before that session" in n for n in notes)
