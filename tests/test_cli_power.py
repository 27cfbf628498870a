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
import html
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
    from dryneedle_outcomes.config_schema import POWER_ENDPOINTS, POWER_TESTS
    from dryneedle_outcomes.power import endpoints

    assert (POWER_ENDPOINTS, POWER_TESTS) == (endpoints.ENDPOINTS, endpoints.RESPONDER_TESTS)
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


# ------------------------------------------------------------ responders and time to relief
RESPONDERS = """
[power]
analysis = "responders"
n_trials = 400
seed = 21
n_per_arm = [20, 40]
target_power = 0.5
n_range = [10, 80]
test = "chisq"

[power.design]
visits = [3, 6]
effect = -12.0
sd = 20.0
rho = 0.5
baseline_mean = 60.0
dropout = 0.1
instrument = "first_step_pain"

[figures]
formats = ["png"]
dpi = 72
"""

# a function scale declared in the file itself (higher is better): the registry the
# [power.design] instrument is checked against includes the configuration's [instruments]
RELIEF = """
[instruments.heel_function]
label = "Heel function (0-100)"
lower = 0
upper = 100
units = "points"
higher_is_better = true
mcid = 10

[power]
analysis = "time_to_relief"
n_trials = 60
seed = 8
n_per_arm = [20, 30]

[power.design]
visits = [2, 4, 6]
effect = 10.0
sd = 15.0
rho = 0.6
baseline_mean = 50.0
dropout = 0.1
instrument = "heel_function"

[figures]
formats = ["png"]
dpi = 72
"""

HEEL = dict(label="Heel function (0-100)", lower=0, upper=100, units="points",
            higher_is_better=True, mcid=10)


def _tables_equal(out: Path, result) -> None:
    got = pd.read_csv(out / "power.csv", float_precision="round_trip")
    pd.testing.assert_frame_equal(got, result.table, check_dtype=False, check_exact=True)
    trials = pd.read_csv(out / "trials.csv", float_precision="round_trip")
    pd.testing.assert_frame_equal(trials, result.trials, check_dtype=False, check_exact=True)


def test_a_responders_config_is_the_library_call(tmp_path):
    out = tmp_path / "o"
    code, stdout, stderr = run_cli(["power", _small(tmp_path, RESPONDERS), "--out", out])
    assert code == 0, stderr
    # mcid absent: the instrument's MCID (mcid = true), as [analysis.responders]
    common = dict(n_trials=400, seed=21, analysis="responders",
                  definition=dno.Relief(mcid=True), test="chisq", visits=[3, 6],
                  effect=-12.0, sd=20.0, rho=0.5, baseline_mean=60.0, dropout=0.1,
                  instrument="first_step_pain")
    direct = dno.simulate_power(n_per_arm=[20, 40], **common)
    _tables_equal(out, direct)
    assert direct.table["power"].between(0.05, 0.95).all()  # not a degenerate comparison
    search = dno.sample_size(0.5, n_range=(10, 80), **common)
    got = pd.read_csv(out / "sample_size.csv", float_precision="round_trip")
    pd.testing.assert_frame_equal(got, search.table, check_dtype=False, check_exact=True)
    assert f"n per arm for 50% power: {search.n_required} " in stdout
    resolved = json.loads((out / "manifest.json").read_text())["config"]["power"]
    assert (resolved["mcid"], resolved["test"]) == (19.0, "chisq")  # first-step pain's MCID
    assert "sustained" not in resolved and "percent_reduction" not in resolved
    assert resolved["design"]["instrument"] == "first_step_pain"
    for text in ((out / "assumptions.md").read_text(),
                 html.unescape((out / "report.html").read_text())):
        assert ("improvement from baseline >= 19 mm (MCID) on first_step_pain; missing "
                "visits are non-responders") in text
        assert "Pearson's chi-square test without continuity correction" in text


def test_a_time_to_relief_config_with_its_own_instrument_is_the_library_call(tmp_path):
    from dryneedle_outcomes.instruments import instrument_scope, register_instrument

    out = tmp_path / "o"
    with instrument_scope():
        code, _, stderr = run_cli(["power", _small(tmp_path, RELIEF), "--out", out])
        assert code == 0, stderr
        register_instrument("heel_function", **HEEL)  # the same definition: a no-op
        direct = dno.simulate_power(n_per_arm=[20, 30], n_trials=60, seed=8,
                                    analysis="time_to_relief",
                                    definition=dno.Relief(mcid=True, sustained=True),
                                    visits=[2, 4, 6], effect=10.0, sd=15.0, rho=0.6,
                                    baseline_mean=50.0, dropout=0.1,
                                    instrument="heel_function")
    _tables_equal(out, direct)
    manifest = json.loads((out / "manifest.json").read_text())
    resolved = manifest["config"]["power"]
    assert (resolved["mcid"], resolved["sustained"]) == (10.0, True) and "test" not in resolved
    assert manifest["config"]["instruments"]["heel_function"]["mcid"] == 10
    notes = (out / "assumptions.md").read_text()
    assert ("improvement from baseline >= 10 (MCID), sustained at two consecutive "
            "assessments on heel_function") in notes
    assert "interval-censored log-rank test" in notes


def test_definition_keys_reach_the_simulation(tmp_path):
    """threshold / percent_reduction / sustained = false and the default test."""
    from dryneedle_outcomes.config_power import PowerConfig

    design = dict(visits=[3, 6], effect=-12.0, sd=20.0, rho=0.5, baseline_mean=60.0,
                  dropout=0.1, instrument="first_step_pain")
    cases = [("responders", "threshold = 35.0", dno.Relief(threshold=35.0), "fisher"),
             ("responders", "percent_reduction = 30", dno.Relief(percent_reduction=30.0),
              "fisher"),
             ("time_to_relief", "mcid = 15\nsustained = false", dno.Relief(mcid=15.0),
              None)]
    for analysis, lines, relief, test in cases:
        text = RESPONDERS.replace('analysis = "responders"', f'analysis = "{analysis}"\n'
                                  f"{lines}").replace('test = "chisq"\n', "")
        opts = PowerConfig.from_file(_small(tmp_path, text)).power
        kw = opts.keywords()
        assert kw["definition"] == relief and kw.get("test") == test, lines
    # the numbers: the threshold run equals the library's
    out = tmp_path / "o"
    text = RESPONDERS.replace('test = "chisq"', "threshold = 35.0").replace(
        "target_power = 0.5\nn_range = [10, 80]\n", "")
    assert run_cli(["power", _small(tmp_path, text), "--out", out])[0] == 0
    _tables_equal(out, dno.simulate_power(n_per_arm=[20, 40], n_trials=400, seed=21,
                                          analysis="responders",
                                          definition=dno.Relief(threshold=35.0), **design))


ENDPOINT_BAD = [
    # (analysis, [power] lines, [power.design] instrument line, message)
    ("ancova", "mcid = 12", "", '[power]: mcid is for analysis = "responders" or '
     '"time_to_relief"; analysis = "ancova" would ignore it: remove mcid, or set analysis '
     "(the effect to detect is [power.design] effect, a difference between the arms' mean "
     "changes, not an individual patient's criterion)"),
    ("mmrm", 'test = "chisq"', "", '[power]: test is for analysis = "responders"; analysis '
     '= "mmrm" would ignore it'),
    ("ancova", "sustained = false", "", '[power]: sustained is for analysis = '
     '"time_to_relief"; analysis = "ancova" would ignore it'),
    ("ancova", "threshold = 30", "", "[power]: threshold is for analysis"),
    ("responders", "sustained = true", 'instrument = "first_step_pain"', '[power]: sustained '
     'is for analysis = "time_to_relief"'),
    ("time_to_relief", 'test = "chisq"', 'instrument = "first_step_pain"', "[power]: test is "
     'for analysis = "responders"; time_to_relief uses the interval-censored log-rank test'),
    ("responders", "", "", "[power]: mcid = true (the default) defines a responder by the "
     "instrument's MCID, but [power.design] names no instrument: give [power.design] "
     'instrument = "first_step_pain" (a registered instrument: its MCID, direction and '
     "range), or the MCID as a number, e.g. mcid = 12"),
    ("time_to_relief", "mcid = true", "", "[power]: mcid = true defines relief by the "
     "instrument's MCID, but [power.design] names no instrument"),
    ("responders", "percent_reduction = 30", "", "[power]: percent_reduction is measured "
     "against the room to improve, which needs the instrument's range: give [power.design] "
     'instrument = "first_step_pain"'),
    ("responders", "mcid = 12\nthreshold = 30", "", "[power]: give one definition of a "
     "responder, got mcid and threshold; keep one of mcid, percent_reduction, threshold"),
    ("responders", "", 'instrument = "pain_nrs"', "[power]: mcid = true but pain_nrs has no "
     "registered MCID; give mcid = <number>, or percent_reduction = 30"),
    ("responders", "mcid = 150", 'instrument = "first_step_pain"', "[power]: mcid must be a "
     "number > 0 and <= 100, got 150"),
    ("responders", "mcid = -3", "", "[power]: mcid must be a number > 0, got -3"),
    ("responders", "threshold = 120", 'instrument = "first_step_pain"', "[power]: threshold "
     "must be a number >= 0 and <= 100, got 120"),
    ("responders", "percent_reduction = 0", 'instrument = "first_step_pain"', "[power]: "
     "percent_reduction must be a number > 0 and <= 100, got 0"),
    ("responders", 'test = "fishr"', 'instrument = "first_step_pain"', "[power]: test = "
     "'fishr' is not allowed (did you mean 'fisher'?); allowed: fisher, chisq"),
    ("responders", "", 'instrument = "first_step_pian"', "[power.design]: instrument = "
     "'first_step_pian' is not allowed (did you mean 'first_step_pain'?)"),
]


@pytest.mark.parametrize(("analysis", "lines", "instrument", "message"), ENDPOINT_BAD,
                         ids=[f"{b[0]}-{b[1] or b[2] or 'default'}" for b in ENDPOINT_BAD])
def test_definition_errors_name_the_file_and_key(tmp_path, analysis, lines, instrument,
                                                 message):
    text = RESPONDERS.replace('test = "chisq"\n', "").replace(
        'instrument = "first_step_pain"', instrument)
    text = text.replace('analysis = "responders"', f'analysis = "{analysis}"\n{lines}')
    config = _small(tmp_path, text)
    code, stdout, stderr = run_cli(["power", config, "--out", tmp_path / "o"])
    assert code == 2 and stdout == "" and not (tmp_path / "o").exists()
    assert stderr.startswith(f"error: {config}: ") and message in stderr, stderr
    assert len(stderr.strip().splitlines()) == 1


def test_an_undeclared_instrument_is_refused_and_a_declared_one_accepted(tmp_path):
    from dryneedle_outcomes.config_power import PowerConfig
    from dryneedle_outcomes.errors import ConfigError
    from dryneedle_outcomes.instruments import instrument_scope

    body = RELIEF[RELIEF.index("[power]"):]
    with instrument_scope():
        with pytest.raises(ConfigError, match=r"\[power.design\]: instrument = "
                                              r"'heel_function' is not allowed"):
            PowerConfig.from_file(_small(tmp_path, body))
        opts = PowerConfig.from_file(_small(tmp_path, RELIEF)).power
        assert opts.definition == ("mcid", 10.0)


def test_with_from_fit_the_instrument_is_the_outcome(tmp_path):
    from dryneedle_outcomes.config_power import parse_power
    from dryneedle_outcomes.errors import ConfigError

    table = {"analysis": "responders", "n_per_arm": [30],
             "design": {"from_fit": True, "effect": -10.0}}
    assert parse_power(table, outcome="first_step_pain").definition == ("mcid", 19.0)
    assert parse_power(table, outcome="fhsq_pain").definition == ("mcid", 13.0)
    with pytest.raises(ConfigError, match="mcid = true but pain_nrs has no registered MCID"):
        parse_power(table, outcome="pain_nrs")
    with pytest.raises(ConfigError, match=r"\[power.design\]: instrument comes from the fit "
                       r"with from_fit = true \(the instrument is \[analysis\] outcome\); "
                       "remove it"):
        parse_power({**table, "design": {**table["design"], "instrument": "fhsq_pain"}},
                    outcome="fhsq_pain")
    # in a file: the same error names the file
    text = RESPONDERS.replace("visits = [3, 6]\n", "from_fit = true\n")
    config = _small(tmp_path, text.replace("rho = 0.5\n", "").replace("sd = 20.0\n", "")
                    .replace("baseline_mean = 60.0\n", ""))
    code, _, stderr = run_cli(["power", config, "--out", tmp_path / "o"])
    assert code == 2 and stderr.startswith(f"error: {config}: [power.design]: instrument "
                                           "comes from the fit"), stderr
