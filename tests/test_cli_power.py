"""``dryneedle-outcomes power CONFIG --out DIR``: the [power] configuration, the outputs,
the folder rules and the progress.

The reference for the numbers is the library called directly with the configuration's
arguments: the command line is only wiring, so its tables must equal
``dno.simulate_power`` / ``dno.sample_size`` exactly (the same seed gives the same
trials whatever ``n_jobs``; the CSV holds each float's shortest round-trip repr, read back
with ``float_precision="round_trip"``).
"""

from __future__ import annotations

import hashlib
import json
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from cli_helpers import run_cli

import dryneedle_outcomes as dno

SAMPLE = Path(__file__).parents[1] / "data" / "sample" / "power.toml"

SMALL = """
[power]
analysis = "ancova"
n_trials = 60
seed = 3
n_per_arm = [10, 20]

[power.design]
visits = [1, 2]
effect = 0.8
rho = 0.5

[figures]
formats = ["png"]
dpi = 72
"""


def _small(tmp_path: Path, text: str = SMALL, name: str = "power.toml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


@pytest.fixture(scope="module")
def sample_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("power") / "out"
    code, stdout, stderr = run_cli(["power", SAMPLE, "--out", out])
    return code, stdout, stderr, out


def _design_keywords(table: dict) -> dict:
    return {k: v for k, v in table["design"].items() if k != "from_fit"}


def test_the_sample_runs_and_its_tables_are_the_librarys(sample_run):
    code, stdout, stderr, out = sample_run
    assert code == 0, stderr
    written = {p.name for p in out.iterdir()}
    assert {"power.csv", "trials.csv", "sample_size.csv", "sample_size_trials.csv",
            "power_curve.pdf", "power_curve.png", "sample_size.png", "assumptions.md",
            "report.html", "manifest.json"} <= written
    p = tomllib.loads(SAMPLE.read_text())["power"]
    common = dict(n_trials=p["n_trials"], seed=p["seed"], analysis=p["analysis"],
                  alpha=p["alpha"], n_jobs=1, **_design_keywords(p))
    curve = dno.simulate_power(n_per_arm=p["n_per_arm"], **common)
    got = pd.read_csv(out / "power.csv", float_precision="round_trip")
    pd.testing.assert_frame_equal(got, curve.table, check_dtype=False, check_exact=True)
    trials = pd.read_csv(out / "trials.csv", float_precision="round_trip")
    pd.testing.assert_frame_equal(trials, curve.trials, check_dtype=False, check_exact=True)
    search = dno.sample_size(p["target_power"], n_range=tuple(p["n_range"]), **common)
    got = pd.read_csv(out / "sample_size.csv", float_precision="round_trip")
    pd.testing.assert_frame_equal(got, search.table, check_dtype=False, check_exact=True)
    # the answer on stdout is the library's, with its Monte Carlo uncertainty
    assert (f"n per arm for 90% power: {search.n_required} (n evaluated whose 95% Monte "
            f"Carlo CI covers the target: {', '.join(map(str, search.n_plausible))})"
            in stdout)
    assert f"n = 40 per arm (treated 40): power {curve.table['power'].iloc[2]:.3f}" in stdout


def test_the_sample_report_manifest_and_assumptions(sample_run):
    code, _, _, out = sample_run
    assert code == 0
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["generator"] == "dryneedle_outcomes" and manifest["kind"] == "power"
    assert manifest["seeds"] == {"power": {"seed": 2026, "n_trials": 1000}}
    assert manifest["config"]["power"]["design"]["allocation"] == 1.0  # a default filled
    assert set(manifest["outputs"]) == {p.name for p in out.iterdir()}
    digest = hashlib.sha256((out / "power.csv").read_bytes()).hexdigest()
    assert manifest["outputs"]["power.csv"] == digest
    assert manifest["inputs"]["config"]["path"] == str(SAMPLE)
    text = (out / "assumptions.md").read_text()
    assert "-2, -4, -6, -8, -10, -12" in text and "primary visit 6" in text
    assert "MCAR" in text and "ANCOVA" in text
    report = (out / "report.html").read_text()
    for needle in ("<h1>Power and sample size by simulation</h1>", "n per arm for 90% power",
                   "Monte Carlo CI covers the target", "data:image/png;base64,",
                   "Hoenig &amp; Heisey 2001", "numpy", 'id="tab-sample_size"'):
        assert needle in report, needle


def test_progress_goes_to_stderr_as_plain_lines_off_a_terminal(sample_run):
    code, stdout, stderr, _ = sample_run
    assert code == 0
    steps = [line for line in stderr.splitlines() if line.startswith("[")]
    assert [s.split("]")[0] for s in steps] == ["[1/3", "[2/3", "[3/3"]
    assert steps[0].startswith("[1/3] simulating 1000 trials (ancova) at n = 20, 30")
    assert "\r" not in stderr and "trial/s" not in stderr  # no bar: not a terminal
    assert "[1/" not in stdout


def test_quiet_prints_nothing(tmp_path):
    code, stdout, stderr = run_cli(["power", _small(tmp_path), "--out", tmp_path / "o",
                                    "--quiet"])
    assert code == 0 and stdout == "" and stderr == ""
    assert (tmp_path / "o" / "power.csv").exists()


def test_a_terminal_gets_a_bar_and_quiet_none(tmp_path, monkeypatch):
    import io
    import sys

    from dryneedle_outcomes.cli import main

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    for quiet in (False, True):
        err = Terminal()
        monkeypatch.setattr(sys, "stderr", err)
        args = ["power", str(_small(tmp_path)), "--out", str(tmp_path / f"t{quiet}")]
        assert main(args + ["--quiet"] * quiet) == 0
        assert ("trial/s" in err.getvalue()) is not quiet, err.getvalue()


def test_progress_never_changes_the_numbers_and_writes_to_stderr(capsys):
    kw = dict(n_per_arm=[10, 20], n_trials=1200, seed=11, analysis="ancova",
              visits=[2, 4], effect=0.6, rho=0.5, dropout=0.2)
    plain = dno.simulate_power(**kw)
    assert capsys.readouterr().err == ""
    shown = dno.simulate_power(n_jobs=2, progress=True, **kw)  # joblib's generator
    err = capsys.readouterr()
    assert "1200/1200" in err.err and err.out == ""
    assert plain.trials.equals(shown.trials)
    search = dno.sample_size(0.8, n_range=(5, 60), n_trials=300, seed=3, analysis="ancova",
                             visits=[6], effect=0.8, rho=0.3, progress=True)
    err = capsys.readouterr().err
    assert err.count("300/300") == len(search.table)  # one bar per n evaluated
    assert search.table.equals(dno.sample_size(0.8, n_range=(5, 60), n_trials=300, seed=3,
                                               analysis="ancova", visits=[6], effect=0.8,
                                               rho=0.3).table)


# ------------------------------------------------------------ the output folder
def _bytes(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_a_folder_with_the_users_files_is_refused_untouched(tmp_path):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("my notes\n")
    (out / "power.csv").write_text("n,power\n1,0.5\n")
    before = _bytes(out)
    code, stdout, stderr = run_cli(["power", _small(tmp_path), "--out", out, "--force"])
    assert code == 2 and stdout == ""
    assert len(stderr.strip().splitlines()) == 1 and "was not written by" in stderr
    assert _bytes(out) == before


def test_its_own_folder_is_replaced_and_a_run_folder_refused(tmp_path):
    config = _small(tmp_path)
    out = tmp_path / "power"
    assert run_cli(["power", config, "--out", out])[0] == 0
    first = (out / "power.csv").read_bytes()
    assert run_cli(["power", config, "--out", out])[0] == 0
    assert (out / "power.csv").read_bytes() == first   # same seed, same bytes
    (out / "extra.txt").write_text("mine")
    code, _, stderr = run_cli(["power", config, "--out", out])
    assert code == 2 and "extra.txt" in stderr and (out / "extra.txt").read_text() == "mine"
    run_folder = tmp_path / "run"
    run_folder.mkdir()
    manifest = {"generator": "dryneedle_outcomes", "kind": "run",
                "outputs": {"manifest.json": None}}
    (run_folder / "manifest.json").write_text(json.dumps(manifest))
    code, _, stderr = run_cli(["power", config, "--out", run_folder])
    assert code == 2 and "a run's outputs" in stderr


# ------------------------------------------------------------ configuration errors
BAD = [
    ('analysis = "mmmr"', "[power]: analysis = 'mmmr' is not allowed (did you mean 'mmrm'?)"),
    ("n_jobs = 0", "[power]: n_jobs must be -1 (all cores) or a whole number from 1"),
    ("n_trials = 0", "[power]: n_trials must be a whole number from 1"),
    ("target_power = 0.9", "[power]: target_power needs n_range"),
    ("n_range = [50, 20]\ntarget_power = 0.9", "[power]: n_range must be an array [low, "
     "high]"),
    ("n_per_arm = [2, 10]", "[power]: n_per_arm must be an array of one or more whole"),
    ("adjust_baseline = false\nanalysis = \"mmrm\"", "[power]: adjust_baseline = false is "
     "for analysis = \"ancova\""),
    ("n_trial = 100", "[power]: unknown key 'n_trial' (did you mean 'n_trials'?)"),
    ("visit = 3", "[power]: visit = 3 is not a visit of the design; its visits: 1, 2"),
]


@pytest.mark.parametrize(("line", "message"), BAD, ids=[b[0].split()[0] for b in BAD])
def test_power_key_errors_name_the_file_and_key(tmp_path, line, message):
    keys = {part.split(" = ")[0] for part in line.splitlines()}
    kept = [ln for ln in SMALL.splitlines() if ln.split(" = ")[0] not in keys
            or ln.startswith(("visits", "effect", "rho", "formats", "dpi"))]
    text = "\n".join(kept).replace("[power]\n", f"[power]\n{line}\n") + "\n"
    config = _small(tmp_path, text)
    code, stdout, stderr = run_cli(["power", config, "--out", tmp_path / "o"])
    assert code == 2 and stdout == ""
    assert stderr.startswith(f"error: {config}: ") and message in stderr, stderr
    assert len(stderr.strip().splitlines()) == 1
    assert not (tmp_path / "o").exists()


DESIGN_BAD = [
    ("effect = 0.8", "", "[power.design]: effect is required"),
    ("visits = [1, 2]", "", "[power.design]: visits is required"),
    ("rho = 0.5", "rho = 1.5", "[power.design]: rho must be a number > -1 and < 1"),
    ("rho = 0.5", "rho = 0.5\ndropout = 1.2", "[power.design]: dropout proportions must be "
     "in [0, 1)"),
    ("rho = 0.5", "rho = 0.5\nmechanism = \"mnr\"", "[power.design]: mechanism = 'mnr' is "
     "not allowed"),
    ("rho = 0.5", "rho = 0.5\ncorrelation = [[1, 0.5], [0.5, 1]]", "[power.design]: the "
     "correlation matrix must be 3 x 3"),
    ("rho = 0.5", "rho = 0.5\neffect_size = 1", "[power.design]: unknown key 'effect_size'"),
    ("rho = 0.5", "rho = 0.5\nfrom_fit = true", "[power.design]: visits and rho come from "
     "the fit with from_fit = true"),
]


@pytest.mark.parametrize(("old", "new", "message"), DESIGN_BAD,
                         ids=[b[2].split(": ")[1][:20] for b in DESIGN_BAD])
def test_design_errors_name_the_file_and_key(tmp_path, old, new, message):
    config = _small(tmp_path, SMALL.replace(old, new))
    code, _, stderr = run_cli(["power", config, "--out", tmp_path / "o"])
    assert code == 2 and stderr.startswith(f"error: {config}: ") and message in stderr, \
        stderr
    assert len(stderr.strip().splitlines()) == 1


def test_a_config_without_power_or_with_from_fit_but_no_data(tmp_path):
    config = _small(tmp_path, "[figures]\ndpi = 72\n")
    code, _, stderr = run_cli(["power", config, "--out", tmp_path / "o"])
    assert code == 2 and f"{config}: has no [power] table" in stderr
    text = SMALL.replace("visits = [1, 2]\n", "from_fit = true\n").replace("rho = 0.5\n", "")
    config = _small(tmp_path, text)
    code, _, stderr = run_cli(["power", config, "--out", tmp_path / "o"])
    assert code == 2 and "[power.design]: from_fit = true needs [data]" in stderr
    config = _small(tmp_path, SMALL + "[analysis]\nprimary_visit = 2\n")
    code, _, stderr = run_cli(["power", config, "--out", tmp_path / "o"])
    assert code == 2 and "[analysis] needs [data]" in stderr


def test_schema_lists_are_the_simulations():
    from dryneedle_outcomes.config_power import power_analyses
    from dryneedle_outcomes.config_schema import POWER_MECHANISMS, POWER_SHAPES
    from dryneedle_outcomes.power import analyses, design

    assert (POWER_SHAPES, POWER_MECHANISMS) == (design.SHAPES, design.MECHANISMS)
    assert power_analyses() == tuple(analyses.ANALYSES)
    # every TrialDesign field but visits/effect has a schema default equal to its own
    from dataclasses import MISSING, fields

    from dryneedle_outcomes.config_schema import FIELDS

    schema = {f.key: f.default for f in FIELDS if f.table == "power.design"}
    for f in fields(design.TrialDesign):
        if f.default is not MISSING:
            assert schema[f.name] == f.default, f.name


# ------------------------------------------------------------ the design from a fit
def test_from_fit_takes_the_cohorts_variability_and_warns_of_post_hoc_power(tmp_path):
    cohort = dno.simulate_cohort(n_patients=40, seed=2)
    cohort.assessments.drop(columns=["muscles"]).to_csv(tmp_path / "visits.csv",
                                                        index=False)
    cohort.patients.to_csv(tmp_path / "patients.csv", index=False)
    fit = dno.fit_trajectory(cohort, "first_step_pain", model="mmrm", primary_visit=6)
    observed = float(fit.comparison.set_index("visit").loc[6, "estimate"])
    text = ('[data]\nassessments = "visits.csv"\npatients = "patients.csv"\n'
            '[analysis]\nprimary_visit = 6\n'
            '[power]\nanalysis = "ancova"\nn_trials = 50\nseed = 4\nn_per_arm = [30]\n'
            f'[power.design]\nfrom_fit = true\neffect = {observed!r}\ndropout = 0.1\n'
            '[figures]\nformats = ["png"]\ndpi = 72\n')
    config = _small(tmp_path, text)
    code, stdout, stderr = run_cli(["power", config, "--out", tmp_path / "o"])
    assert code == 0, stderr
    assert "ALERT: the assumed effect is the effect observed in the cohort" in stderr
    design = fit.design(effect=observed)
    from dataclasses import replace

    direct = dno.simulate_power(n_per_arm=[30], n_trials=50, seed=4, analysis="ancova",
                                visit=6, design=replace(design, dropout=0.1))
    got = pd.read_csv(tmp_path / "o" / "power.csv", float_precision="round_trip")
    pd.testing.assert_frame_equal(got, direct.table, check_dtype=False, check_exact=True)
    notes = (tmp_path / "o" / "assumptions.md").read_text()
    sd = ", ".join(f"{s:g}" for s in design.sd)
    assert f"SD at baseline and each visit: {sd}" in notes  # the fit's, not a default
    assert "post-hoc power" in notes
    manifest = json.loads((tmp_path / "o" / "manifest.json").read_text())
    assert set(manifest["inputs"]) == {"assessments", "patients", "config"}
    assert manifest["alerts"] and np.isclose(
        manifest["config"]["power"]["design"]["effect"], observed)


def test_data_that_cannot_give_the_design_exit_1_and_write_nothing(tmp_path, monkeypatch):
    from dryneedle_outcomes.errors import AnalysisError
    from dryneedle_outcomes.models.trajectory import TrajectoryResult

    def refuse(self, **kwargs):
        raise AnalysisError("design() needs one covariance for both arms")

    monkeypatch.setattr(TrajectoryResult, "design", refuse)
    cohort = dno.simulate_cohort(n_patients=30, seed=5)
    cohort.assessments.drop(columns=["muscles"]).to_csv(tmp_path / "v.csv", index=False)
    cohort.patients.to_csv(tmp_path / "p.csv", index=False)
    config = _small(tmp_path, '[data]\nassessments = "v.csv"\npatients = "p.csv"\n'
                    '[analysis]\nprimary_visit = 6\n[power]\nanalysis = "ancova"\n'
                    'n_per_arm = [30]\n[power.design]\nfrom_fit = true\neffect = -10\n')
    code, stdout, stderr = run_cli(["power", config, "--out", tmp_path / "o"])
    assert code == 1 and stdout == "" and not (tmp_path / "o").exists()
    assert (f"error: {config}: [power.design] from_fit: the MMRM of first_step_pain cannot "
            "give the design: design() needs one covariance") in stderr
