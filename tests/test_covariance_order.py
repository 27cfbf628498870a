"""Every covariance structure through fit_trajectory, and a pre-specified fallback order.

- each structure the engine fits (and SAS validates, tests/test_kenward_roger_sas.py)
  gives through ``fit_trajectory`` the numbers of ``fit_mmrm`` on the same data;
- ``covariance=[...]`` uses the first structure that converges with a positive-definite
  estimate: the first on a normal cohort; on a cohort too small for an unstructured
  covariance the next, and the result, the methods notes and the report say why;
- the same order from ``analysis.toml`` (a TOML array) through the command line.
"""

from __future__ import annotations

import html
import warnings

import numpy as np
import pandas as pd
import pytest
from cli_helpers import run_cli

import dryneedle_outcomes as dno
from dryneedle_outcomes.models.covariance_order import (
    ATTEMPT_COLUMNS,
    fit_in_order,
    order_sentence,
)
from dryneedle_outcomes.models.design import design_matrix
from dryneedle_outcomes.stats.mixed.mmrm import fit_mmrm
from dryneedle_outcomes.stats.mixed.options import (
    COVARIANCES,
    MMRM_NAMES,
    NLME_EQUIVALENTS,
    SAS_TYPES,
    STRUCTURES,
)

ORDER = ["unstructured", "toeplitz_hetero", "ar1_hetero", "cs_hetero"]


@pytest.fixture(scope="module")
def tiny_tables():
    """8 patients, 6 modelled visits, arm x visit means and baseline (without the
    baseline-by-visit interaction, ``TINY``: with it, 6 more fixed effects leave too few
    residual dimensions for heterogeneous Toeplitz too): the patients'
    residual vectors span fewer than 6 dimensions, so the unstructured REML likelihood
    has no maximum inside the positive-definite matrices (the fit runs to a singular one);
    heterogeneous Toeplitz, with 11 parameters instead of 21, converges."""
    sim = dno.simulate_tables(8, seed=2)
    return (sim.assessments[["patient_id", "visit", "first_step_pain"]],
            sim.patients[["patient_id", "arm"]])


#: the model of the tiny cohort (see tiny_tables)
TINY = {"model": "mmrm", "baseline_by_visit": False}


@pytest.fixture(scope="module")
def tiny(tiny_tables):
    return dno.load_cohort(*tiny_tables)


def test_every_engine_structure_is_offered_and_named():
    assert COVARIANCES == STRUCTURES
    assert set(SAS_TYPES) == set(NLME_EQUIVALENTS) == set(COVARIANCES)
    doc = dno.fit_trajectory.__doc__
    for name, sas in SAS_TYPES.items():
        assert f'``"{name}"``' in doc and f"TYPE={sas}" in doc, name
        assert f"``{MMRM_NAMES[name]}``" in doc, name


@pytest.mark.parametrize("structure", COVARIANCES)
def test_each_structure_through_fit_trajectory_is_the_engine_fit(sample_cohort, structure):
    # Satterthwaite: the engine's model-based SEs and df (the default KR adjusts them)
    fit = dno.fit_trajectory(sample_cohort, model="mmrm", covariance=structure,
                             df="satterthwaite")
    assert fit.converged and fit.covariance == structure
    assert fit.covariance_attempts.to_dict("records") == [
        {"structure": structure, "tried": True, "converged": True, "used": True,
         "reason": ""}]
    d = fit.frame.data
    X, _ = design_matrix(fit.frame, d, "mmrm")
    coords = d["day"].to_numpy(float) if structure == "spatial_exp" else None
    direct = fit_mmrm(d["y"].to_numpy(float), X, pd.factorize(d["patient_id"], sort=True)[0],
                      np.searchsorted(fit.frame.visits, d["visit"].to_numpy()),
                      structure=structure, n_visits=len(fit.frame.visits), coordinates=coords)
    # the same deterministic optimisation of the same arrays in one process: only the
    # order of floating-point operations may differ, so 1e-12 (arithmetic, not stopping rule)
    np.testing.assert_allclose(fit.fixed_effects["estimate"], direct.beta, rtol=1e-12)
    np.testing.assert_allclose(fit.fixed_effects["std_error"],
                               np.sqrt(np.diag(direct.vcov)), rtol=1e-12)
    np.testing.assert_allclose(fit.fixed_effects["df"],
                               direct.contrast(np.eye(len(direct.beta)))["df"], rtol=1e-12)
    assert fit.loglik == direct.loglik
    first = direct.varpar[0] if structure == "spatial_exp" else direct.extra["Sigma"][0, 0]
    assert fit.variance_components["estimate"].iloc[0] == first
    sas = SAS_TYPES[structure]
    named = (f"SAS TYPE={sas}(day)" if structure == "spatial_exp" else f"SAS TYPE={sas}"
             if sas else f"R mmrm {MMRM_NAMES[structure]}; SAS has no homogeneous version")
    assert f"{structure} residual covariance ({named})" in fit.methods()[0]


def test_normal_cohort_uses_the_first_of_the_order(sample_cohort):
    fit = dno.fit_trajectory(sample_cohort, model="mmrm", covariance=ORDER)
    single = dno.fit_trajectory(sample_cohort, model="mmrm", covariance="unstructured")
    assert fit.converged and fit.covariance == "unstructured"
    pd.testing.assert_frame_equal(fit.comparison, single.comparison)
    att = fit.covariance_attempts
    assert list(att.columns) == ATTEMPT_COLUMNS
    assert list(att["structure"]) == ORDER
    assert list(att["tried"]) == list(att["used"]) == [True, False, False, False]
    assert set(att["reason"][1:]) == {"not tried: unstructured converged first"}
    order_note = fit.methods()[1]
    assert order_note.startswith("Covariance pre-specified as the first of unstructured, "
                                 "toeplitz_hetero, ar1_hetero, cs_hetero that converges")
    assert order_note.endswith(": unstructured used, as pre-specified.")
    assert order_note not in single.methods()


def test_tiny_cohort_falls_back_and_says_why(tiny):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fit = dno.fit_trajectory(tiny, **TINY, covariance=ORDER)
    assert fit.converged and fit.covariance == "toeplitz_hetero"
    att = fit.covariance_attempts.set_index("structure")
    assert not att.loc["unstructured", "converged"] and not att.loc["unstructured", "used"]
    assert att.loc["toeplitz_hetero", "used"] and att.loc["toeplitz_hetero", "converged"]
    assert not att.loc[["ar1_hetero", "cs_hetero"], "tried"].any()
    reason = att.loc["unstructured", "reason"]
    assert "singular" in reason
    note = (f"unstructured did not converge ({reason}); toeplitz_hetero used, as "
            "pre-specified.")
    assert fit.methods()[1].endswith(note)
    assert note in fit.summary() and note in fit.tables()["comparison"].summary()
    # the planned fallback is not a problem: the unstructured fit's warnings are not issued
    assert not fit.warnings and not [w for w in caught
                                     if issubclass(w.category, dno.ConvergenceWarning)]
    # the fit used is the toeplitz_hetero fit
    alone = dno.fit_trajectory(tiny, **TINY, covariance="toeplitz_hetero")
    pd.testing.assert_frame_equal(fit.comparison, alone.comparison)
    # a single structure that fails keeps its behaviour: not converged, with warnings
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        un = dno.fit_trajectory(tiny, **TINY, covariance="unstructured")
    assert not un.converged and un.covariance == "unstructured"
    issued = [str(w.message) for w in caught if issubclass(w.category, dno.ConvergenceWarning)]
    assert issued == list(un.warnings)
    assert issued[0].startswith("the unstructured covariance did not converge")
    assert un.covariance_attempts[["converged", "used"]].values.tolist() == [[False, True]]
    assert not any(m.startswith("Covariance pre-specified") for m in un.methods())


def _engine_case(n_visits=None):
    rng = np.random.default_rng(0)
    G, T = 4, 6  # 4 patients, 6 visits: unstructured and toeplitz_hetero cannot converge
    g, v = np.repeat(np.arange(G), T), np.tile(np.arange(T), G)
    X = np.column_stack([np.ones(G * T)] + [(v == j).astype(float) for j in range(1, T)])
    y = rng.normal(size=G * T) + v
    return lambda st: fit_mmrm(y, X, g, v, structure=st, n_visits=n_visits)


def test_when_none_converges_the_last_is_reported_not_converged():
    fit, used, att = fit_in_order(_engine_case(), ("unstructured", "toeplitz_hetero"))
    assert used == "toeplitz_hetero" and not fit.converged
    assert list(att["used"]) == [False, True] and not att["converged"].any()
    assert fit.messages[0].startswith("none of the pre-specified covariance structures "
                                      "(unstructured, toeplitz_hetero) converged")
    assert "; toeplitz_hetero used, although it did not converge either (" \
        in order_sentence(att)


def test_a_structure_the_engine_refuses_is_a_failed_attempt():
    # a scheduled visit without observations: no variance of its own can be estimated
    fit_one = _engine_case(n_visits=7)
    fit, used, att = fit_in_order(fit_one, ("unstructured", "cs"))
    assert used == "cs" and fit.converged
    assert att["reason"][0].startswith("could not be fitted: visit(s) [6] have no "
                                       "observations")
    assert order_sentence(att).endswith(": unstructured could not be fitted (visit(s) [6] "
                                        "have no observations, so their variance cannot be "
                                        "estimated with structure='unstructured'; recode the "
                                        "visits or set n_visits); cs used, as pre-specified.")
    with pytest.raises(dno.AnalysisError, match="none of the pre-specified covariance "
                                                "structures could be fitted: unstructured: "):
        fit_in_order(fit_one, ("unstructured", "ar1_hetero"))


@pytest.mark.parametrize(("covariance", "needle"), [
    ("toeplitz_het", "did you mean"), (["unstructured", "unstructured"], "twice"),
    ([], "empty list"), (["unstructured", "banded"], "got 'banded'")])
def test_bad_covariance_is_an_analysis_error(sample_cohort, covariance, needle):
    with pytest.raises(dno.AnalysisError, match=needle):
        dno.fit_trajectory(sample_cohort, model="mmrm", covariance=covariance)


def test_config_order_runs_through_the_command_line(tiny_tables, tmp_path):
    assessments, patients = tiny_tables
    assessments.to_csv(tmp_path / "assessments.csv", index=False)
    patients.to_csv(tmp_path / "patients.csv", index=False)
    config = tmp_path / "analysis.toml"
    config.write_text(
        '[data]\nassessments = "assessments.csv"\npatients = "patients.csv"\n'
        '[analysis]\nprimary_visit = 6\n[analysis.trajectory]\nmodels = ["mmrm"]\n'
        'baseline_by_visit = false\n'  # as TINY
        'covariance = ["unstructured", "toeplitz_hetero", "ar1_hetero", "cs_hetero"]\n',
        encoding="utf-8")
    code, _, err = run_cli(["validate", config, "--quiet"])
    assert code == 0, err
    out = tmp_path / "out"
    code, _, err = run_cli(["run", config, "--out", out, "--quiet"])
    assert code == 0, err
    report = (out / "report.html").read_text(encoding="utf-8")
    assert html.escape("toeplitz_hetero used, as pre-specified.") in report
    assert html.escape("unstructured did not converge (the estimated covariance matrix "
                       "is singular") in report
    tex = (out / "tables" / "trajectory_mmrm_arm_difference.tex").read_text(encoding="utf-8")
    assert "toeplitz\\_hetero used, as pre-specified" in tex


def test_a_single_structure_that_fails_points_to_a_prespecified_order(tiny):
    """One structure that does not converge is reported as such (today's behaviour), and
    the warning says how a SAP handles it: a fallback order fixed in advance."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fit = dno.fit_trajectory(tiny, **TINY, covariance="unstructured")
    messages = [str(w.message) for w in caught if issubclass(w.category,
                                                             dno.ConvergenceWarning)]
    assert any("pre-specifies what replaces" in m for m in messages)
    assert set(messages) <= set(fit.warnings)  # every warning is kept in the result
    assert not fit.converged
    assert any("covariance=[" in w for w in fit.warnings)
