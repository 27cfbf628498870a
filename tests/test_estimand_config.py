"""``[estimand]`` and ``[data] intercurrent_events`` in analysis.toml, and the run.

The estimand section comes first in the run; the outcome analyses use the estimand's
data (values set aside under hypothetical strategies are missing for them), the other
analyses every value.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from cli_helpers import run_cli

import dryneedle_outcomes as dno
from dryneedle_outcomes import config_schema
from dryneedle_outcomes.config import AnalysisConfig
from dryneedle_outcomes.errors import ConfigError
from dryneedle_outcomes.estimands import POPULATIONS, STRATEGIES
from dryneedle_outcomes.normalize.vocabulary import ICE_EVENTS
from dryneedle_outcomes.report import run_analyses


def test_the_schema_copies_equal_the_vocabularies():
    assert config_schema.ICE_EVENTS == ICE_EVENTS
    assert config_schema.STRATEGIES == tuple(STRATEGIES)
    assert config_schema.POPULATIONS == tuple(POPULATIONS)


@pytest.fixture()
def folder(tmp_path):
    pts = pd.DataFrame({"patient_id": [f"P{i}" for i in range(8)],
                        "arm": ["dry_needling", "sham"] * 4})
    rng = np.random.default_rng(5)
    visits = pd.DataFrame({"patient_id": np.repeat(pts["patient_id"], 4),
                           "visit": np.tile([0, 1, 2, 3], 8),
                           "first_step_pain": rng.uniform(20, 80, 32).round(1),
                           "needled": np.tile([False, True, True, True], 8)})
    visits.loc[visits["patient_id"].isin(["P1", "P3", "P5", "P7"]), "needled"] = False
    ice = pd.DataFrame({"patient_id": ["P0", "P2"], "visit": [2, 3],
                        "event": ["NSAIDs", "orthotics"], "reason": ["flare", ""]})
    pts.to_csv(tmp_path / "patients.csv", index=False)
    visits.to_csv(tmp_path / "assessments.csv", index=False)
    ice.to_csv(tmp_path / "ice.csv", index=False)
    return tmp_path


def _toml(folder, estimand: str, analysis: str = "") -> AnalysisConfig:
    path = folder / "analysis.toml"
    path.write_text('[data]\nassessments = "assessments.csv"\npatients = "patients.csv"\n'
                    'intercurrent_events = "ice.csv"\n' + analysis + estimand, encoding="utf-8")
    return path


def test_the_estimand_table_is_checked_and_takes_the_analysis_defaults(folder):
    path = _toml(folder, '[estimand]\nintercurrent = { rescue_medication = "hypothetical", '
                 'orthoses = "treatment_policy" }\nper_protocol = { min_sessions = 2 }\n',
                 "[analysis]\nprimary_visit = 3\n")
    cfg = AnalysisConfig.from_file(path)
    assert cfg.intercurrent_events == folder / "ice.csv"
    assert cfg.inputs["intercurrent_events"] == folder / "ice.csv"
    assert cfg.estimand == {"population": "randomised", "variable": "first_step_pain",
                            "visit": 3, "intercurrent": {"rescue_medication": "hypothetical",
                                                         "orthoses": "treatment_policy"},
                            "per_protocol": {"min_sessions": 2}}
    assert cfg.resolved["estimand"] == cfg.estimand
    est = dno.Estimand.from_dict(cfg.estimand)
    assert est.summary_measure == "difference in means between arms at visit 3"


@pytest.mark.parametrize(("table", "match"), [
    ('intercurrent = { rescue = "hypothetical" }', "intercurrent has event 'rescue'"),
    ('intercurrent = { orthoses = "ignore" }', "intercurrent.orthoses = 'ignore' is not "
     "allowed"),
    ('population = "itt"', "population = 'itt' is not allowed"),
    ('population = "per_protocol"', "needs its rule"),
    ('per_protocol = { min_session = 4 }', "must be a table"),
    ('per_protocol = { min_sessions = 4, visits = [1] }', "has 'visits'"),
    ('per_protocol = { min_sessions = 0 }', "min_sessions must be a whole number from 1"),
    ('strategy = "x"', "unknown key 'strategy'"),
])
def test_bad_estimand_tables_name_the_key(folder, table, match):
    with pytest.raises(ConfigError, match=match):
        AnalysisConfig.from_file(_toml(folder, f"[estimand]\n{table}\n"))


def test_a_missing_intercurrent_file_is_a_config_error(folder):
    (folder / "ice.csv").unlink()
    with pytest.raises(ConfigError, match="intercurrent_events file 'ice.csv' does not exist"):
        AnalysisConfig.from_file(_toml(folder, ""))


def test_the_run_puts_the_estimand_first_and_outcome_analyses_use_its_data(folder):
    cfg = AnalysisConfig.from_file(_toml(
        folder, '[estimand]\nintercurrent = { rescue_medication = "hypothetical", '
        'orthoses = "treatment_policy" }\nper_protocol = { min_sessions = 3 }\n',
        "[analysis]\nprimary_visit = 3\n[analysis.trajectory]\nmodels = [\"session_means\"]\n"
        "[analysis.baseline_table]\n"))
    cohort = dno.load_cohort(cfg.assessments, cfg.patients,
                             intercurrent_events=cfg.intercurrent_events)
    sections = run_analyses(cohort, cfg.analysis, estimand=cfg.estimand)
    assert [s.key for s in sections] == ["estimand", "consort", "baseline_table",
                                         "observed_data", "trajectory"]
    est = sections[0]
    assert [t.name for t in est.tables] == ["estimand", "populations", "estimand_data"]
    pops = est.tables[1].table.table
    # sham patients attend every session; needling-arm P1, P3, ... are odd: all sham
    assert pops[["arm", "randomised", "per_protocol"]].values.tolist() == [
        ["dry_needling", 4, 4], ["sham", 4, 4]]
    data = est.tables[2].table.table.set_index("arm")
    assert data.loc["dry_needling", "rows_set_aside"] == 2  # P0 visits 2 and 3
    traj = sections[4]
    n_obs = [d for d in traj.diagnostics]
    assert n_obs  # the model ran
    # the trajectory used 8 patients x 3 post-baseline visits minus the 2 set aside
    fit = dno.fit_trajectory(dno.apply_estimand(cohort, dno.Estimand.from_dict(
        cfg.estimand)).analysis_cohort(cohort), model="session_means")
    assert fit.n_observations == 8 * 3 - 2


def test_an_event_without_a_strategy_fails_the_estimand_section_only(folder):
    cfg = AnalysisConfig.from_file(_toml(
        folder, '[estimand]\nintercurrent = { rescue_medication = "hypothetical" }\n',
        "[analysis]\n[analysis.baseline_table]\n"))
    cohort = dno.load_cohort(cfg.assessments, cfg.patients,
                             intercurrent_events=cfg.intercurrent_events)
    sections = run_analyses(cohort, cfg.analysis, estimand=cfg.estimand)
    assert sections[0].key == "estimand" and not sections[0].items
    assert "orthoses" in sections[0].failures[0]
    by_key = {s.key: s for s in sections}      # the participant flow comes next
    assert [s.key for s in sections[1:3]] == ["consort", "baseline_table"]
    assert by_key["baseline_table"].items


def test_the_command_line_writes_the_table_and_prints_it_first(folder, tmp_path):
    path = _toml(folder, '[estimand]\nintercurrent = { rescue_medication = "hypothetical", '
                 'orthoses = "treatment_policy" }\n',
                 "[analysis]\n[analysis.baseline_table]\n")
    out = tmp_path / "out"
    code, _, err = run_cli(["run", path, "--out", out, "--quiet"])
    assert code == 0, err
    assert (out / "data" / "intercurrent_events.csv").is_file()
    table = pd.read_csv(out / "tables" / "estimand.csv")
    assert table["strategy"].dropna().tolist() == ["hypothetical", "treatment_policy"]
    report = (out / "report.html").read_text(encoding="utf-8")
    # the estimand section, with its table, comes before the first result
    assert report.index('<h2 id="estimand">') < report.index("Estimand (ICH E9(R1))") \
        < report.index('<h2 id="baseline_table">')
