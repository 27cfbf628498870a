"""The command line: run, validate, simulate, and its exit codes."""

from __future__ import annotations

import json
import shutil

import pandas as pd
import pytest

import dryneedle_outcomes as dno
from dryneedle_outcomes.cli import main
from dryneedle_outcomes.manifest import sha256


def test_run_on_the_sample_writes_tables_ledger_and_manifest(sample_dir, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["run", str(sample_dir / "analysis.toml"), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "84 patients" in printed
    counts = pd.read_csv(out / "quality" / "counts.csv")
    assert (counts["read"] == counts["kept"] + counts["rejected"]).all()
    rejected = pd.read_csv(out / "quality" / "rejected.csv")
    assert len(rejected) == 7
    assessments = pd.read_csv(out / "tables" / "assessments.csv")
    with pytest.warns(dno.DataQualityWarning, match="pregnant"):
        cohort = dno.load_cohort(sample_dir / "assessments.csv",
                                 sample_dir / "patients.xlsx",
                                 sample_dir / "adverse_events.csv",
                                 mapping=sample_dir / "mapping.toml", errors="quarantine")
    assert len(assessments) == cohort.n_assessments
    pd.testing.assert_series_equal(assessments["first_step_pain"],
                                   cohort.assessments["first_step_pain"])
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["inputs"]["assessments"]["sha256"] == sha256(
        sample_dir / "assessments.csv")
    assert manifest["software"]["pandas"] == pd.__version__
    assert manifest["config"]["data"]["errors"] == "quarantine"


def test_rerun_replaces_the_output_folder(sample_dir, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "stale.txt").write_text("from an old run")
    assert main(["run", str(sample_dir / "analysis.toml"), "--out", str(out), "--quiet"]) == 0
    assert not (out / "stale.txt").exists()
    assert (out / "manifest.json").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["out"]  # no temporary folders left


def test_validate_exit_codes(sample_dir, tmp_path, capsys):
    assert main(["validate", str(sample_dir / "analysis.toml"), "--quiet"]) == 1
    assert "out_of_range" in capsys.readouterr().out
    clean = tmp_path / "clean"
    shutil.copytree(sample_dir, clean)
    from dryneedle_outcomes.simulate import simulate_tables, write_raw_exports

    write_raw_exports(simulate_tables(n_patients=10, seed=1), clean, inject_problems=False)
    assert main(["validate", str(clean / "analysis.toml"), "--quiet"]) == 0


@pytest.mark.parametrize(
    ("config", "needle"),
    [
        ('[data]\nassesments = "a.csv"\n', "did you mean 'assessments'"),
        ('[data]\nassessments = "missing.csv"\n', "does not exist"),
        ('[data]\nassessments = 3\n', "must be a path"),
        ('[dta]\nassessments = "a.csv"\n', "unknown key 'dta'"),
    ],
)
def test_bad_config_gives_one_line_and_exit_2(tmp_path, capsys, config, needle):
    path = tmp_path / "analysis.toml"
    path.write_text(config)
    assert main(["validate", str(path)]) == 2
    err = capsys.readouterr().err.strip()
    assert needle in err
    assert len(err.splitlines()) == 1


def test_simulate_writes_a_loadable_sample(tmp_path):
    out = tmp_path / "sim"
    assert main(["simulate", "--patients", "30", "--seed", "5", "--out", str(out),
                 "--quiet"]) == 0
    assert main(["run", str(out / "analysis.toml"), "--out", str(tmp_path / "res"),
                 "--quiet"]) == 0
    counts = pd.read_csv(tmp_path / "res" / "quality" / "counts.csv")
    assert counts.set_index("table").loc["patients", "read"] == 30


def test_version(capsys):
    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0
    assert dno.__version__ in capsys.readouterr().out
