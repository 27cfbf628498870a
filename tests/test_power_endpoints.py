"""Power of the responder and time-to-relief analyses (dryneedle_outcomes.power.endpoints).

Outside references, computed here independently of the package:

* Responders. Under the design's multivariate normal the change from baseline at the
  primary visit is normal with mean ``effect`` (0 in control) and variance
  ``var_0 + var_v - 2 cov_0v``; with MCAR dropout and missing = non-responder, a patient
  is a responder with probability ``P(change <= -mcid) * (1 - dropout_v)`` exactly.
  With those ``p1``, ``p0`` and ``n`` per arm the exact power of the two-sided Fisher
  test (or the uncorrected chi-square test) is the sum, over every pair of responder
  counts ``(x1, x0)``, of ``Binom(x1; n, p1) Binom(x0; n, p0)`` for the tables that
  ``scipy.stats.fisher_exact`` (``chi2_contingency(correction=False)``) rejects: full
  enumeration, ``(n + 1)^2`` tables. The simulated power must lie within 3 Monte Carlo
  SEs of it, SE = ``sqrt(p (1 - p) / n_trials)`` with ``p`` the exact power (a false
  failure about once in 370 checks; the seeds are fixed and were not chosen).
* Time to relief. With one post-baseline visit, no dropout and relief not confirmed,
  the interval-censored log-rank test (permutation CLT) of the two possible intervals
  is (N - 1) / N times Pearson's chi-square of relief by arm (see
  ``exact_relief_power_one_visit`` in ``tests/reference/power/
  power_reference_values.py``), whose exact power is again a full enumeration of two
  binomials: the simulated power must be within 3 MC SE of it. For several visits
  no closed form or published table of the power of the interval-censored log-rank
  test exists for this data-generating model (normal outcomes, relief confirmed at the
  next visit); the checks there are: the per-trial p-value equals
  the one ``dno.time_to_relief`` reports on a cohort built from that simulated trial
  (the package's analysis, 1e-10: the same arithmetic on days instead of visit times,
  the test being rank-invariant); the per-patient intervals equal
  ``derive_relief_events``' (exact); the type I error at effect 0 is within 3 MC SE of
  alpha; power grows with n and with the effect.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import dryneedle_outcomes as dno
from dryneedle_outcomes.errors import AnalysisError
from dryneedle_outcomes.power.design import TrialDesign
from dryneedle_outcomes.power.endpoints import (
    chisq_p,
    fisher_p,
    relief_intervals,
    resolve_endpoint,
)
from dryneedle_outcomes.power.simulate import draw_trials
from dryneedle_outcomes.survival.events import derive_relief_events

# the exact power functions (independent of the package) live with the other reference
# formulas, so that benchmarks/power_agreement.py uses the same ones
_REF = Path(__file__).parent / "reference" / "power" / "power_reference_values.py"
_spec = importlib.util.spec_from_file_location("power_reference_values", _REF)
exact_ref = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(exact_ref)

#: One design for the responder checks: first-step-pain-like values, a 10-point
#: benefit at the last visit, 20% MCAR dropout by then.
DESIGN = dict(visits=[2, 4, 6], effect=-10.0, sd=20.0, rho=0.5, baseline_mean=60.0,
              dropout=0.2)
MCID = 12.0
SEED = 20261203






def within_mc(sim, exact, n_trials):
    se = np.sqrt(exact * (1 - exact) / n_trials)
    return abs(sim - exact) <= 3 * se, (sim - exact) / se


# ---------------------------------------------------------------------- the tests themselves
def test_batched_fisher_and_chisq_equal_scipy_table_by_table():
    rng = np.random.default_rng(1)
    for n1, n2 in ((10, 10), (25, 25), (13, 21), (60, 60)):
        x1 = np.r_[rng.integers(0, n1 + 1, 200), 0, n1, 0, n1 // 2]
        x2 = np.r_[rng.integers(0, n2 + 1, 200), 0, n2, n2, n2 // 2]
        ref = [stats.fisher_exact([[a, n1 - a], [b, n2 - b]])[1] for a, b in zip(x1, x2)]
        # scipy sums tails with cdf/sf, we sum pmfs over the support: rounding only
        np.testing.assert_allclose(fisher_p(x1, n1, x2, n2), ref, rtol=1e-9, atol=1e-300)
        got = chisq_p(x1, n1, x2, n2)
        for a, b, p in zip(x1, x2, got):
            if 0 < a + b < n1 + n2:
                ref = stats.chi2_contingency([[a, n1 - a], [b, n2 - b]],
                                             correction=False)[1]
                assert p == pytest.approx(ref, rel=1e-9)
            else:
                assert np.isnan(p)


@pytest.mark.parametrize("test, ns", [("fisher", (20, 40, 60)), ("chisq", (25, 50))])
def test_responder_power_equals_exact_power_by_enumeration(test, ns):
    n_trials = 4000
    res = dno.simulate_power(n_per_arm=list(ns), n_trials=n_trials, seed=SEED,
                             analysis="responders", definition=dno.Relief(mcid=MCID),
                             test=test, **DESIGN)
    p1, p0 = exact_ref.responder_probabilities()
    table = res.table.set_index("n_per_arm")
    for n in ns:
        exact = exact_ref.exact_two_binomial_power(n, p1, p0, test)
        ok, z = within_mc(table.loc[n, "power"], exact, n_trials)
        assert ok, (n, table.loc[n, "power"], exact, z)
        # the estimate is the risk difference: its mean is p1 - p0 (3 MC SE of a mean)
        sd = table.loc[n, "empirical_sd"]
        assert abs(table.loc[n, "mean_estimate"] - (p1 - p0)) <= 3 * sd / np.sqrt(n_trials)
    assert table["failures"].sum() == 0   # P(nobody or everybody responds) < 1e-6 here


def test_responder_type_one_error_is_the_exact_size_and_at_most_alpha():
    n_trials, n = 6000, 30
    res = dno.simulate_power(n_per_arm=n, n_trials=n_trials, seed=SEED + 1,
                             analysis="responders", definition=dno.Relief(mcid=MCID),
                             **{**DESIGN, "effect": 0.0})
    p1, p0 = exact_ref.responder_probabilities(effect=0.0)
    assert p1 == p0
    size = exact_ref.exact_two_binomial_power(n, p1, p0)
    assert size < 0.05                      # Fisher's test is conservative
    ok, z = within_mc(res.power, size, n_trials)
    assert ok, (res.power, size, z)
    assert res.power <= 0.05 + 3 * np.sqrt(0.05 * 0.95 / n_trials)


def test_a_higher_is_better_instrument_counts_a_rise_and_its_registered_mcid():
    # FHSQ pain: higher is better, MCID 13 (Landorf 2010); effect +10 is a benefit
    d = TrialDesign(visits=[6], effect=10.0, sd=20.0, rho=0.5, baseline_mean=50.0,
                    instrument="fhsq_pain")
    n_trials = 3000
    res = dno.simulate_power(n_per_arm=50, n_trials=n_trials, seed=SEED + 2,
                             analysis="responders", design=d)
    assert any("improvement from baseline >= 13 (MCID)" in s and "fhsq_pain" in s
               for s in res.notes)
    sd_change = 20.0
    p1 = stats.norm.sf((13.0 - 10.0) / sd_change)
    p0 = stats.norm.sf(13.0 / sd_change)
    t = res.table.iloc[0]
    assert abs(t["mean_estimate"] - (p1 - p0)) <= 3 * t["empirical_sd"] / np.sqrt(n_trials)
    ok, z = within_mc(res.power, exact_ref.exact_two_binomial_power(50, p1, p0), n_trials)
    assert ok, z


def test_definitions_are_refused_where_they_cannot_hold():
    d = TrialDesign(**DESIGN)
    with pytest.raises(AnalysisError, match=r"mcid=True\) is the instrument's MCID"):
        dno.simulate_power(n_per_arm=10, n_trials=5, analysis="responders", design=d)
    with pytest.raises(AnalysisError, match="room to improve"):
        resolve_endpoint(d, "responders", dno.Relief(percent_reduction=50), "fisher")
    with pytest.raises(AnalysisError, match="time course"):
        resolve_endpoint(d, "responders", dno.Relief(mcid=5, sustained=True), "fisher")
    with pytest.raises(AnalysisError, match="definition= is for"):
        resolve_endpoint(d, "mmrm", dno.Relief(mcid=5), "fisher")
    with pytest.raises(AnalysisError, match="test= is for"):
        resolve_endpoint(d, "time_to_relief", dno.Relief(mcid=5), "chisq")
    with pytest.raises(AnalysisError, match="must be a dno.Relief"):
        resolve_endpoint(d, "responders", 12, "fisher")
    with pytest.raises(AnalysisError, match="not a registered instrument"):
        TrialDesign(**DESIGN, instrument="no_such_scale")
    with pytest.raises(AnalysisError, match="adjust_baseline=False"):
        dno.simulate_power(n_per_arm=10, n_trials=5, analysis="responders",
                           definition=dno.Relief(mcid=5), adjust_baseline=False, **DESIGN)


def test_design_from_a_fit_carries_its_instrument_and_mcid():
    fit = dno.fit_trajectory(dno.simulate_cohort(n_patients=40, seed=2))
    d = fit.design(effect=-15.0)
    assert d.instrument == "first_step_pain"
    ep = resolve_endpoint(d, "time_to_relief", None, "fisher")
    assert (ep.kind, ep.value, ep.sustained) == ("mcid", 19.0, True)   # Landorf 2010


# ---------------------------------------------------------------------- time to relief
def cohort_of(y, observed, arm, times, outcome):
    """The canonical tables the loaders produce, for one simulated trial (observed
    visits only; day = 7 x the visit time)."""
    n, T1 = y.shape
    ids = np.array([f"p{i:03d}" for i in range(n)])
    keep = np.c_[np.ones(n, bool), observed]
    pid, vis = np.nonzero(keep)
    days = np.r_[0.0, 7.0 * np.asarray(times)]
    assessments = pd.DataFrame({"patient_id": ids[pid], "visit": vis,
                                "day": days[vis], outcome: y[pid, vis]})
    patients = pd.DataFrame({"patient_id": ids,
                             "arm": np.where(arm == 1, "dry_needling", "control")})
    return dno.load_cohort(assessments, patients)


def test_each_trial_p_value_is_what_time_to_relief_reports_on_that_trial():
    # a registered instrument with a wide range (the normal values are not clipped) and
    # an MCID, so the default definition Relief(mcid=True, sustained=True) applies
    dno.register_instrument("sim_pain", label="simulated pain", lower=-1000, upper=1000,
                            units="points", higher_is_better=False, mcid=12.0,
                            mcid_source="test")
    d = TrialDesign(visits=[1, 2, 3, 4, 5, 6], effect=-10.0, sd=20.0, rho=0.6,
                    baseline_mean=60.0, dropout=0.3, instrument="sim_pain")
    n, n_trials, seed = 30, 4, 7
    res = dno.simulate_power(n_per_arm=n, n_trials=n_trials, seed=seed,
                             analysis="time_to_relief", design=d)
    batch = draw_trials(d, np.random.SeedSequence(seed).spawn(n_trials), n, n)
    y, observed, arm = batch.subset(n, n)
    assert not observed.all()                 # dropout is exercised
    for k in range(n_trials):
        cohort = cohort_of(y[k], observed[k], arm, d.visits, "sim_pain")
        ref = dno.time_to_relief(cohort, "sim_pain", n_boot=0, distributions=(),
                                 progress=False)
        assert ref.relief == dno.Relief(mcid=True, sustained=True)
        assert res.trials["p_value"].iloc[k] == pytest.approx(
            ref.interval_test.p_value, rel=1e-10)
    assert res.trials["converged"].all()


@pytest.mark.parametrize("relief", [dno.Relief(mcid=12, sustained=True),
                                    dno.Relief(mcid=12),
                                    dno.Relief(threshold=45, sustained=True)])
def test_relief_intervals_equal_the_packages_events_with_gaps_and_dropout(relief):
    dno.register_instrument("sim_pain", label="simulated pain", lower=-1000, upper=1000,
                            units="points", higher_is_better=False, mcid=12.0,
                            mcid_source="test")
    d = TrialDesign(visits=[1, 2, 3, 4, 5], effect=-12.0, sd=15.0, rho=0.5,
                    baseline_mean=55.0, instrument="sim_pain")
    ep = resolve_endpoint(d, "time_to_relief", relief, "fisher")
    batch = draw_trials(d, np.random.SeedSequence(3).spawn(1), 60, 60)
    y, _, arm = batch.subset(60, 60)
    # missed visits anywhere (not only monotone dropout): the general rule of the package
    observed = np.random.default_rng(4).random((1, 120, 5)) > 0.25
    lower, upper, analysed = relief_intervals(y, observed, ep)
    cohort = cohort_of(y[0], observed[0], arm, np.asarray(d.visits), "sim_pain")
    ev = derive_relief_events(cohort, "sim_pain", relief).events.set_index("patient_id")
    ids = np.array([f"p{i:03d}" for i in range(120)])
    assert sorted(ev.index) == sorted(ids[analysed[0]])
    if relief.threshold is not None:
        assert not analysed.all()             # baseline already at the threshold: excluded
    np.testing.assert_array_equal(lower[0][analysed[0]] * 7, ev.loc[ids[analysed[0]], "lower"])
    np.testing.assert_array_equal(upper[0][analysed[0]] * 7, ev.loc[ids[analysed[0]], "upper"])




def test_time_to_relief_power_with_one_visit_equals_exact_power():
    n_trials, ns = 1000, (25, 50)
    res = dno.simulate_power(n_per_arm=list(ns), n_trials=n_trials, seed=SEED + 5,
                             analysis="time_to_relief", definition=dno.Relief(mcid=MCID),
                             visits=[6], effect=-10.0, sd=20.0, rho=0.5,
                             baseline_mean=60.0)
    p1, p0 = exact_ref.responder_probabilities(dropout=0.0)
    table = res.table.set_index("n_per_arm")
    for n in ns:
        exact = exact_ref.exact_relief_power_one_visit(n, p1, p0)
        ok, z = within_mc(table.loc[n, "power"], exact, n_trials)
        assert ok, (n, table.loc[n, "power"], exact, z)
    # the reference is not the responders' chi-square power under another name: the
    # (N - 1) / N factor lowers it where a table crosses the boundary (0.0063 at n = 60)
    gap = (exact_ref.exact_two_binomial_power(60, p1, p0, "chisq")
           - exact_ref.exact_relief_power_one_visit(60, p1, p0))
    assert 0.005 < gap < 0.008


def test_time_to_relief_type_one_error_is_alpha():
    n_trials = 2000
    res = dno.simulate_power(n_per_arm=40, n_trials=n_trials, seed=SEED + 3,
                             analysis="time_to_relief",
                             definition=dno.Relief(mcid=12, sustained=True),
                             visits=[1, 2, 3, 4, 5, 6], effect=0.0, sd=20.0, rho=0.6,
                             baseline_mean=60.0, dropout=0.2)
    ok, z = within_mc(res.power, 0.05, n_trials)
    assert ok, (res.power, z)
    assert res.table["failures"].iloc[0] == 0


def test_time_to_relief_power_grows_with_n_and_effect():
    kw = dict(n_trials=200, seed=SEED + 4, analysis="time_to_relief",
              definition=dno.Relief(mcid=12, sustained=True), visits=[2, 4, 6], sd=20.0,
              rho=0.6, baseline_mean=60.0, dropout=0.1)
    small = dno.simulate_power(n_per_arm=[20, 80], effect=-6.0, **kw).table["power"]
    large = dno.simulate_power(n_per_arm=[20, 80], effect=-15.0, **kw).table["power"]
    assert small.iloc[1] > small.iloc[0] + 0.1 and large.iloc[1] > large.iloc[0] + 0.1
    assert (large.to_numpy() > small.to_numpy() + 0.1).all()


def test_a_trial_without_relief_has_no_test_and_counts_as_not_rejecting():
    res = dno.simulate_power(n_per_arm=10, n_trials=20, seed=1, analysis="time_to_relief",
                             definition=dno.Relief(mcid=500), visits=[1, 2], effect=-5.0,
                             rho=0.5, sd=10.0)
    assert res.table["failures"].iloc[0] == 20 and res.power == 0.0
    assert res.trials["p_value"].isna().all()
    assert "had no test" in res.warnings[0]
    assert res.tables()["power"].title.startswith("Simulated power (time to relief")
    assert any("right-censored at the last observed visit (dropout" in n for n in res.notes)
