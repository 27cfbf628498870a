"""``[analysis.reference_based]`` in analysis.toml and the run: the table is checked, the
section comes right after the trajectory, its tables and tipping point are those of
``dno.reference_based`` with the same options, and an ``[estimand]`` is passed on."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import dryneedle_outcomes as dno
from dryneedle_outcomes import config_schema
from dryneedle_outcomes.config import (
    AnalysisConfig,
    AnalysisOptions,
    ReferenceBasedOptions,
    TrajectoryOptions,
)
from dryneedle_outcomes.errors import ConfigError
from dryneedle_outcomes.models.reference_based import METHODS
from dryneedle_outcomes.report import run_analyses
from dryneedle_outcomes.stats.imputation.engine import APPROACHES


def test_the_schema_copies_equal_the_method_lists():
    assert config_schema.RB_METHODS == tuple(METHODS)
    assert set(config_schema.RB_APPROACHES) <= set(APPROACHES)


def _write(tmp_path, table: str):
    pts = pd.DataFrame({"patient_id": ["P0", "P1"], "arm": ["dry_needling", "sham"]})
    a = pd.DataFrame({"patient_id": ["P0", "P0", "P1", "P1"], "visit": [0, 1, 0, 1],
                      "first_step_pain": [50.0, 40.0, 55.0, 50.0]})
    pts.to_csv(tmp_path / "patients.csv", index=False)
    a.to_csv(tmp_path / "assessments.csv", index=False)
    path = tmp_path / "analysis.toml"
    path.write_text('[data]\nassessments = "assessments.csv"\npatients = "patients.csv"\n'
                    "[analysis]\n[analysis.reference_based]\n" + table, encoding="utf-8")
    return path


def test_the_table_is_read_with_its_defaults_and_checked(tmp_path):
    cfg = AnalysisConfig.from_file(_write(
        tmp_path, 'methods = ["jump_to_reference", "copy_reference"]\n'
                  'approach = "approximate_bayes"\nn_samples = 20\n'
                  "tipping_deltas = [0, 2.5, 5]\nn_jobs = 2\n"))
    rb = cfg.analysis.reference_based
    assert rb.methods == ("jump_to_reference", "copy_reference")
    assert rb.tipping_deltas == (0.0, 2.5, 5.0)
    assert rb.keywords() == {"approach": "approximate_bayes", "variance": None,
                             "n_samples": 20, "seed": 2014, "adjust": ("baseline",),
                             "n_jobs": 2}
    assert ReferenceBasedOptions().keywords()["n_samples"] is None   # 0: the default


def test_bayes_takes_the_mcmc_settings(tmp_path):
    cfg = AnalysisConfig.from_file(_write(
        tmp_path, 'approach = "bayes"\nwarmup = 100\nthin = 5\nn_samples = 30\n'))
    rb = cfg.analysis.reference_based
    assert rb.keywords() == {"approach": "bayes", "variance": None, "n_samples": 30,
                             "seed": 2014, "adjust": ("baseline",), "n_jobs": 1,
                             "warmup": 100, "thin": 5}
    assert ReferenceBasedOptions(approach="bayes").keywords()["thin"] == 50   # rbmi's
    with pytest.raises(ConfigError, match="thin"):
        AnalysisConfig.from_file(_write(tmp_path, 'approach = "bayes"\nthin = 0\n'))
    with pytest.raises(ConfigError, match="takes variance auto or rubin"):
        AnalysisConfig.from_file(_write(tmp_path, 'approach = "bayes"\n'
                                                  'variance = "bootstrap"\n'))


@pytest.mark.parametrize(("table", "match"), [
    ('methods = ["j2r"]', "methods"),
    ('approach = "approximate_bayes"\nvariance = "jackknife"', "takes variance auto or rubin"),
    ('variance = "rubin"', "takes variance auto or jackknife or bootstrap"),
    ('tipping_deltas = ["a"]', "tipping_deltas"),
    ("n_jobs = 0", "n_jobs"),
    ("n_samples = 1.5", "n_samples"),
])
def test_bad_values_name_the_key(tmp_path, table, match):
    with pytest.raises(ConfigError, match=match):
        AnalysisConfig.from_file(_write(tmp_path, table + "\n"))


@pytest.fixture(scope="module")
def cohort():
    return dno.simulate_cohort(n_patients=40, seed=3)


def test_the_section_follows_the_trajectory_with_the_tipping_point(cohort):
    rb = ReferenceBasedOptions(methods=("mar", "jump_to_reference"),
                               tipping_deltas=(0.0, 10.0, 20.0))
    options = AnalysisOptions(primary_visit=6, reference_arm="sham",
                              trajectory=TrajectoryOptions(models=("mmrm",)),
                              reference_based=rb)
    sections = run_analyses(cohort, options, progress=False)
    assert [s.key for s in sections] == ["consort", "observed_data", "trajectory",
                                         "reference_based"]
    sec = sections[3]
    assert not sec.failures
    names = [t.name for t in sec.tables]
    assert names == ["reference_based", "reference_based_missing", "tipping_point",
                     "tipping_point_table"]
    assert any(getattr(i, "name", "") == "tipping_point" and hasattr(i, "draw")
               for i in sec.items)
    # the same numbers as the function with the same options
    table = sec.tables[0].table.table
    for method in rb.methods:
        direct = dno.reference_based(cohort, "first_step_pain", method=method,
                                     reference_arm="sham", progress=False)
        got = table[table["method"] == method].drop(columns="method").reset_index(drop=True)
        pd.testing.assert_frame_equal(got, direct.arm_difference, check_exact=True)
    tip = sec.tables[3].table.table
    assert sorted(tip["delta"].unique()) == [0.0, 10.0, 20.0]
    assert "under jump to reference" in sec.headline[0] and "visit 6" in sec.headline[0]


def test_an_estimand_is_passed_on(tmp_path):
    rng = np.random.default_rng(5)
    n = 16
    ids = [f"P{i:02d}" for i in range(n)]
    pts = pd.DataFrame({"patient_id": ids, "arm": ["dry_needling", "sham"] * (n // 2)})
    a = pd.DataFrame({"patient_id": np.repeat(ids, 4), "visit": np.tile([0, 1, 2, 3], n),
                      "first_step_pain": rng.uniform(20, 80, 4 * n).round(1)})
    ice = pd.DataFrame({"patient_id": ["P00", "P02"], "visit": [2, 3],
                        "event": ["NSAIDs", "NSAIDs"], "reason": ["flare", ""]})
    pts.to_csv(tmp_path / "patients.csv", index=False)
    a.to_csv(tmp_path / "assessments.csv", index=False)
    ice.to_csv(tmp_path / "ice.csv", index=False)
    path = tmp_path / "analysis.toml"
    path.write_text('[data]\nassessments = "assessments.csv"\npatients = "patients.csv"\n'
                    'intercurrent_events = "ice.csv"\n[analysis]\nprimary_visit = 3\n'
                    '[analysis.reference_based]\nmethods = ["jump_to_reference"]\n'
                    '[estimand]\nintercurrent = { rescue_medication = "hypothetical" }\n',
                    encoding="utf-8")
    cfg = AnalysisConfig.from_file(path)
    cohort = dno.load_cohort(cfg.assessments, cfg.patients,
                             intercurrent_events=cfg.intercurrent_events)
    sections = run_analyses(cohort, cfg.analysis, estimand=cfg.estimand, progress=False)
    sec = {s.key: s for s in sections}["reference_based"]
    assert not sec.failures
    table = sec.tables[0]
    assert any("3 value(s) observed at and after an event were set aside" in note
               for note in table.table.notes)
    direct = dno.reference_based(cohort, method="jump_to_reference", progress=False,
                                 estimand=dno.Estimand.from_dict(cfg.estimand))
    pd.testing.assert_frame_equal(table.table.table.drop(columns="method"),
                                  direct.arm_difference, check_exact=True)
