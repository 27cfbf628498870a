"""The defaults a statistical analysis plan pre-specifies (issue 11, item 6).

- ``fit_trajectory`` fits an MMRM by default, with Kenward-Roger df (validated against
  SAS in tests/test_kenward_roger_sas.py); the random-effects models keep Satterthwaite's.
- The linear-time models use weeks since baseline (validated against lme4/emmeans on the
  same time scale in tests/test_trajectory.py); without visit dates a specific error.
- The primary visit is declared (``primary_visit=``), never inferred from the data.
- ``sessions_to_mcid`` and the MCID reference lines of the figures are deprecated.

These are structural checks (what was fitted, what is said, what was drawn); the
numbers are checked against R and SAS elsewhere.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

import dryneedle_outcomes as dno  # noqa: E402
from dryneedle_outcomes.report.analyses import responders_headline  # noqa: E402
from dryneedle_outcomes.report.trajectory import headline  # noqa: E402


@pytest.fixture(scope="module")
def cohort():
    return dno.simulate_cohort(n_patients=60, seed=5)


@pytest.fixture(scope="module")
def fit(cohort):
    return dno.fit_trajectory(cohort, primary_visit=6)


def test_the_default_model_is_an_mmrm_with_kenward_roger_df(fit):
    assert (fit.model, fit.covariance, fit.df_method) == ("mmrm", "unstructured",
                                                          "kenward_roger")
    assert fit.kenward_roger is not None
    methods = " ".join(fit.methods())
    assert "unstructured residual covariance (SAS TYPE=UN)" in methods
    assert "Kenward-Roger degrees of freedom" in methods
    assert "Primary time point: visit 6, pre-specified" in methods
    assert "Primary visit (pre-specified): 6" in fit.summary()


@pytest.mark.parametrize("model", ["random_intercept", "random_slope", "session_means"])
def test_the_random_effects_models_keep_satterthwaite(cohort, model):
    res = dno.fit_trajectory(cohort, model=model)
    assert res.df_method == "satterthwaite" and res.kenward_roger is None
    with pytest.raises(dno.AnalysisError, match="kenward_roger"):
        dno.fit_trajectory(cohort, model=model, df="kenward_roger")


def test_linear_time_is_weeks_since_baseline(cohort):
    res = dno.fit_trajectory(cohort, model="random_slope")
    assert res.frame.time == "week"
    d = res.frame.data
    assert (d["time"] == d["day"] / 7).all()
    assert "Time: weeks since baseline" in " ".join(res.methods())
    index = dno.fit_trajectory(cohort, model="random_slope", time="visit")
    assert "Time: the visit index" in " ".join(index.methods())


def test_without_visit_dates_a_real_time_scale_is_a_specific_error():
    sim = dno.simulate_tables(n_patients=30, seed=3)
    undated = dno.load_cohort(sim.assessments.drop(columns="day"), sim.patients)
    assert undated.assessments["day"].isna().all()
    with pytest.raises(dno.AnalysisError, match=r"time='week'.*no assessment.*time='visit'"):
        dno.fit_trajectory(undated, model="random_slope")
    res = dno.fit_trajectory(undated, model="random_slope", time="visit")
    assert res.converged and res.frame.time == "visit"
    # the MMRM does not use time: it fits, and its figure says the visits are equally
    # spaced because there are no dates
    mmrm = dno.fit_trajectory(undated)
    ax = mmrm.plot()
    assert ax.get_xlabel() == "Visit (no visit dates: drawn equally spaced)"
    plt.close(ax.figure)


def test_the_primary_visit_is_declared_never_inferred(cohort, fit):
    assert fit.primary()["visit"].tolist() == [6]
    assert fit.primary(visit=3)["visit"].tolist() == [3]
    plain = dno.fit_trajectory(cohort)
    assert plain.primary_visit is None
    assert "No primary time point was pre-specified" in " ".join(plain.methods())
    with pytest.raises(dno.AnalysisError, match="no primary visit was pre-specified"):
        plain.primary()
    with pytest.raises(dno.AnalysisError, match="no primary visit was pre-specified"):
        headline(plain)
    with pytest.raises(dno.AnalysisError, match=r"primary_visit=9 is not a modelled visit"):
        dno.fit_trajectory(cohort, primary_visit=9)


def test_a_needled_follow_up_row_does_not_move_the_headline(cohort):
    """The issue's example: one week-12 row flagged as needled moved the "last session"
    headline to visit 7. The headline is now at the declared visit whatever the flags."""
    a = cohort.assessments.copy()
    row = a.index[(a["visit"] == 7)][0]
    a.loc[row, "needled"] = True
    flagged = dno.load_cohort(a, cohort.patients)
    assert flagged.session_visits()[-1] == 7          # the data now say 7
    res = dno.fit_trajectory(flagged, primary_visit=6)
    text = headline(res)
    assert "at visit 6 (the pre-specified primary visit)" in text
    assert "Kenward-Roger df" in text
    other = headline(res, visit=7)
    assert "at visit 7 (a visit asked for, not the pre-specified primary visit)" in other
    rr = dno.responders(flagged, mcid=True)
    assert "Responders at visit 6 (the pre-specified primary visit" in \
        responders_headline(rr, visit=6)
    with pytest.raises(dno.AnalysisError, match="visit 99 has no responder rows"):
        responders_headline(rr, visit=99)


def test_sessions_to_mcid_warns_why_and_what_instead(fit):
    with pytest.warns(FutureWarning, match=r"Dworkin.*time_to_relief.*timescale='sessions'"):
        out = fit.sessions_to_mcid(n_boot=0, progress=False)
    assert list(out["arm"]) == fit.frame.arms


def test_no_mcid_lines_in_the_figures(fit):
    ax = fit.plot()
    assert not any("MCID" in t.get_text() for t in ax.texts)
    assert not [ln for ln in ax.get_lines() if ln.get_linestyle() == "--"]
    plt.close(ax.figure)
    ax = dno.plots.plot_arm_differences(fit)
    verticals = [ln for ln in ax.get_lines() if ln.get_xdata()[0] == ln.get_xdata()[-1]
                 and len(set(ln.get_ydata())) > 1]
    assert [ln.get_xdata()[0] for ln in verticals] == [0.0]   # no difference only
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert "Visit 6 (primary)" in labels and "Visit 5" in labels
    plt.close(ax.figure)
    for draw in (fit.plot, lambda **kw: dno.plots.plot_arm_differences(fit, **kw)):
        with pytest.warns(FutureWarning, match="deprecated and ignored"):
            ax = draw(mcid=True)
        plt.close(ax.figure)
