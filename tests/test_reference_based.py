"""``dno.reference_based`` on a Cohort: the pinned columns, the imputed data, the
intercurrent-events table, tipping points, and agreement with ``fit_trajectory`` under
MAR. (The engine is checked against rbmi's printed results in
``test_reference_based_engine.py``.)"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pytest

import dryneedle_outcomes as dno
from dryneedle_outcomes.errors import AnalysisError

PINNED = ["visit", "estimate", "std_error", "ci_lower", "ci_upper", "p_value"]


@pytest.fixture(scope="module")
def cohort():
    return dno.simulate_cohort(n_patients=40, seed=3)


@pytest.fixture(scope="module")
def j2r(cohort):
    return dno.reference_based(cohort, "first_step_pain", method="jump_to_reference",
                               reference_arm="sham")


@pytest.fixture(scope="module")
def mar(cohort):
    return dno.reference_based(cohort, "first_step_pain", method="mar", reference_arm="sham")


def test_result_has_the_pinned_columns_and_renders(j2r):
    assert set(PINNED) <= set(j2r.arm_difference.columns)
    assert (j2r.arm_difference["arm"] == "dry_needling").all()
    assert (j2r.arm_difference["reference"] == "sham").all()
    assert list(j2r.means.columns[:2]) == ["arm", "visit"]
    assert j2r.comparison["measure"].eq("mean_difference").all()
    assert j2r.variance == "jackknife" and j2r.n_samples == j2r.n_patients == 40
    text = j2r.summary()
    assert "jump to reference" in text and "jackknife" in text
    assert "<table" in j2r._repr_html_()
    ax = j2r.plot()
    assert len(ax.get_lines()) >= 2


def test_mar_imputation_reproduces_the_mmrm_of_fit_trajectory(cohort, mar):
    """Same model (arm x visit, baseline x visit, unstructured, REML): conditional mean
    imputation under MAR followed by ANCOVA gives the MMRM's differences exactly (the
    GLS estimate is the fixed point of an EM step); both are REML optima of the same
    criterion, so they agree to the optimiser's tolerance (1e-6)."""
    fit = dno.fit_trajectory(cohort, "first_step_pain", model="mmrm", reference_arm="sham")
    ours = mar.arm_difference.set_index("visit")["estimate"]
    theirs = fit.comparison.set_index("visit")["estimate"]
    assert ours.to_numpy() == pytest.approx(theirs.loc[ours.index].to_numpy(), abs=1e-6)


def test_jump_to_reference_is_closer_to_the_null_than_mar(j2r, mar):
    """J2R takes the active arm's dropouts to the reference arm's mean: with a benefit in
    the active arm the difference shrinks (Carpenter, Roger & Kenward 2013, section 6)."""
    last = j2r.visits[-1]
    a = j2r.arm_difference.set_index("visit").loc[last, "estimate"]
    b = mar.arm_difference.set_index("visit").loc[last, "estimate"]
    assert b < 0 and b < a <= 0


def test_imputed_data_keep_the_observed_values(cohort, j2r):
    imp = j2r.imputed
    assert list(imp.columns) == ["imputation", "patient_id", "arm", "visit", "value",
                                 "imputed"]
    assert len(imp) == j2r.n_patients * len(j2r.visits)
    assert imp["value"].notna().all()
    assert int(imp["imputed"].sum()) == int(j2r.missing["n_missing"].sum())
    a = cohort.visit_ratings().assessments[["patient_id", "visit", "first_step_pain"]]
    obs = imp[~imp["imputed"]].merge(a, on=["patient_id", "visit"])
    assert len(obs) == int((~imp["imputed"]).sum())
    assert np.array_equal(obs["value"].to_numpy(), obs["first_step_pain"].to_numpy())


def test_intercurrent_table_sets_each_patients_strategy(cohort, j2r):
    ice = j2r.intercurrent[["patient_id", "visit"]].copy()
    ice["strategy"] = "copy_reference"
    res = dno.reference_based(cohort, "first_step_pain", method="jump_to_reference",
                              reference_arm="sham", intercurrent=ice,
                              variance="bootstrap", n_samples=5, seed=1)
    assert set(res.intercurrent["strategy"]) == {"CR"}
    # an event after the last visit changes nothing; MAR everywhere equals the MAR run
    none = pd.DataFrame({"patient_id": ice["patient_id"], "visit": 99})
    res2 = dno.reference_based(cohort, "first_step_pain", method="jump_to_reference",
                               reference_arm="sham", intercurrent=none)
    assert res2.intercurrent.empty
    with pytest.raises(AnalysisError, match="not analysed"):
        dno.reference_based(cohort, "first_step_pain",
                            intercurrent=pd.DataFrame({"patient_id": ["nobody"],
                                                       "visit": [2]}))
    with pytest.raises(AnalysisError, match="unknown strategy"):
        dno.reference_based(cohort, "first_step_pain",
                            intercurrent=ice.assign(strategy="last_value"))


@pytest.fixture(scope="module")
def j2r_clear():
    """A trial whose J2R result is clearly significant (true effect -30 mm), so that a
    tipping delta exists; the shared 40-patient cohort's J2R p-value depends on the draw."""
    trial = dno.simulate_cohort(n_patients=40, seed=3, effect_mm=-30.0)
    return dno.reference_based(trial, "first_step_pain", method="jump_to_reference",
                               reference_arm="sham")


def test_tipping_point_at_zero_is_the_primary_result(j2r_clear):
    j2r = j2r_clear
    tp = j2r.tipping_point()
    zero = tp.table[tp.table["delta"] == 0.0].reset_index(drop=True)
    for c in PINNED:
        assert zero[c].to_numpy() == pytest.approx(j2r.arm_difference[c].to_numpy(),
                                                   abs=1e-10)
    last = tp.tipping.set_index("visit").loc[j2r.visits[-1]]
    assert last["p_value_at_0"] < 0.05 and np.isfinite(last["delta_interpolated"])
    # at the interpolated tipping delta the p-value is near alpha (linear interpolation
    # of p between grid points: a loose check that the crossing is bracketed)
    g = tp.table[tp.table["visit"] == j2r.visits[-1]]
    assert g["p_value"].iloc[0] < 0.05 <= g["p_value"].max()
    assert tp.plot() is not None
    assert "delta" in tp.summary()


def test_approximate_bayes_gives_rubin_df_and_is_reproducible(cohort):
    kw = dict(method="jump_to_reference", approach="approximate_bayes", n_samples=10,
              seed=11)
    a = dno.reference_based(cohort, "first_step_pain", **kw)
    b = dno.reference_based(cohort, "first_step_pain", **kw)
    assert "df" in a.arm_difference and (a.arm_difference["df"] > 0).all()
    pd.testing.assert_frame_equal(a.arm_difference, b.arm_difference)
    assert a.imputed["imputation"].nunique() == 10


def test_refusals_are_clear(cohort):
    with pytest.raises(AnalysisError, match="unstructured"):
        dno.reference_based(cohort, "first_step_pain", approach="bayes", covariance="ar1")
    with pytest.raises(AnalysisError, match="method must be"):
        dno.reference_based(cohort, "first_step_pain", method="last_value")
    with pytest.raises(AnalysisError, match="estimand"):
        dno.reference_based(cohort, "first_step_pain", estimand=object())
    with pytest.raises(AnalysisError, match="variance"):
        dno.reference_based(cohort, "first_step_pain", variance="rubin")


def test_estimand_hypothetical_values_are_set_aside_and_imputed(cohort):
    """With a dno.Estimand, events come from cohort.intercurrent_events; under the
    hypothetical strategy the values at and after the event are not used (set aside, as
    rbmi asks the user to do) and imputed under the method; while-on-treatment leaves
    nothing to impute and is refused."""
    dn = cohort.patients.loc[cohort.patients["arm"] == "dry_needling", "patient_id"].iloc[:3]
    ice = pd.DataFrame({"patient_id": dn.to_numpy(), "visit": 3, "event": "rescue_medication"})
    c2 = dno.load_cohort(cohort.assessments, cohort.patients, intercurrent_events=ice)
    est = dno.Estimand(intercurrent={"rescue_medication": "hypothetical"})
    res = dno.reference_based(c2, "first_step_pain", estimand=est, reference_arm="sham",
                              variance="bootstrap", n_samples=5, seed=1)
    assert set(res.intercurrent["patient_id"]) == set(dn)
    assert (res.intercurrent["strategy"] == "JR").all()
    imp = res.imputed
    after = imp["patient_id"].isin(dn) & (imp["visit"] >= 3)
    assert imp.loc[after, "imputed"].all()
    a = c2.assessments
    observed_after = int((a["patient_id"].isin(dn) & (a["visit"] >= 3)
                          & a["first_step_pain"].notna()).sum())
    assert f"the {observed_after} value(s) observed at and after" in " ".join(res.notes)
    # the same analysis through intercurrent= on data without those values
    same = dno.reference_based(c2, "first_step_pain", reference_arm="sham",
                               intercurrent=ice[["patient_id", "visit"]],
                               variance="bootstrap", n_samples=5, seed=1)
    assert not np.allclose(same.arm_difference["estimate"], res.arm_difference["estimate"])
    wot = dno.Estimand(intercurrent={"rescue_medication": "while_on_treatment"})
    with pytest.raises(AnalysisError, match="while-on-treatment"):
        dno.reference_based(c2, "first_step_pain", estimand=wot)


def test_a_patient_without_baseline_is_kept_with_the_mean_and_matches_the_mmrm(cohort):
    """Randomised patients without a baseline value stay in the analysis (mean of the
    observed baselines, White & Thompson 2005), as in fit_trajectory: under MAR the two
    give the same differences (same model, same imputed covariate; two REML optima of one
    criterion, 1e-6). With missing_baseline="exclude" they are listed as excluded."""
    a = cohort.assessments
    gone = cohort.patients["patient_id"].iloc[[0, 5]].tolist()
    a2 = a[~(a["patient_id"].isin(gone) & (a["visit"] == 0))]
    c2 = dno.load_cohort(a2, cohort.patients)
    res = dno.reference_based(c2, "first_step_pain", method="mar", reference_arm="sham")
    assert res.n_patients == len(cohort.patients) and res.excluded.empty
    observed = a2.loc[a2["visit"] == 0].dropna(subset=["first_step_pain"])  # baselines
    mean = observed.groupby("patient_id")["first_step_pain"].first().mean()
    kept = res.patients.set_index("patient_id").loc[gone, "baseline"]
    assert kept.tolist() == pytest.approx([mean, mean], rel=1e-12)   # arithmetic
    assert any("2 randomised patient(s) without a baseline" in n for n in res.notes)
    fit = dno.fit_trajectory(c2, "first_step_pain", model="mmrm", reference_arm="sham",
                             missing_baseline="mean")
    theirs = fit.comparison.set_index("visit")["estimate"]
    ours = res.arm_difference.set_index("visit")["estimate"]
    assert ours.to_numpy() == pytest.approx(theirs.loc[ours.index].to_numpy(), abs=1e-6)
    with pytest.warns(dno.DryNeedleWarning, match="2 patient\\(s\\) not analysed"):
        out = dno.reference_based(c2, "first_step_pain", method="mar",
                                  reference_arm="sham", missing_baseline="exclude")
    assert sorted(out.excluded["patient_id"]) == sorted(gone)
    assert out.n_patients == len(cohort.patients) - 2


def test_composite_events_are_non_responders_in_the_imputed_responders(cohort):
    """An event the estimand handles by the composite strategy: the continuous analysis
    uses the values as observed (said in the notes), and the responder analysis counts
    the patient as not responding from the event's visit on in every imputation."""
    dn = cohort.patients.loc[cohort.patients["arm"] == "dry_needling", "patient_id"].iloc[:4]
    ice = pd.DataFrame({"patient_id": dn.to_numpy(), "visit": 2, "event": "rescue_medication"})
    c2 = dno.load_cohort(cohort.assessments, cohort.patients, intercurrent_events=ice)
    est = dno.Estimand(intercurrent={"rescue_medication": "composite"})
    kw = dict(method="mar", reference_arm="sham", approach="approximate_bayes",
              n_samples=4, seed=5, progress=False)
    comp = dno.reference_based(c2, "first_step_pain", estimand=est, **kw)
    plain = dno.reference_based(c2, "first_step_pain", **kw)
    assert any("composite strategy" in n for n in comp.notes)
    # the same imputations (same data, strategies and seed)
    np.testing.assert_array_equal(comp.engine.imputed, plain.engine.imputed)
    r_comp, r_plain = comp.responders(), plain.responders()
    # what the composite strategy removes: responses of those patients at visits >= 2
    imp = plain.imputed
    imp = imp[imp["imputation"] >= 1].merge(plain.patients[["patient_id", "baseline"]])
    imp["responds"] = imp["baseline"] - imp["value"] >= dno.get_instrument(
        "first_step_pain").mcid - 1e-9
    hit = imp[imp["patient_id"].isin(dn) & (imp["visit"] >= 2) & imp["responds"]]
    removed = hit.groupby("visit").size().reindex(comp.visits, fill_value=0) / 4
    pc = r_comp.proportions.set_index(["arm", "visit"])["responders"]
    pp = r_plain.proportions.set_index(["arm", "visit"])["responders"]
    np.testing.assert_allclose((pp - pc).loc["dry_needling"].to_numpy(),
                               removed.to_numpy(), atol=1e-12)   # counts: arithmetic
    assert (pp - pc).loc["sham"].abs().max() == 0
    assert removed.sum() > 0   # the check above compared something
    assert any("composite strategy count as non-responders" in n for n in r_comp.notes)
