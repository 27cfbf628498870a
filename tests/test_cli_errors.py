"""The command line's problems in one line, loud alerts, failed analyses, quick start.

- configuration files that cannot be read (not UTF-8, nested too deeply, a folder,
  missing): one line, exit 2, for ``run`` and ``validate``;
- an analysis that cannot run: the others are written, the failure is listed
  (console, warnings.txt, report), exit 1; errors outside the documented set are not
  swallowed;
- ``implausible_scale``: printed (even with ``--quiet``), first in warnings.txt, a
  banner at the top of report.html, ``validate`` exits 1 and lists flags row by row;
- ``--help``/``--version``/``validate`` import no analysis module; progress has no
  carriage returns in a log.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from cli_helpers import run_cli as _run

import dryneedle_outcomes as dno

DATA = '[data]\nassessments = "assessments.csv"\npatients = "patients.csv"\n'



def _study(folder: Path, *, scale_mm_values: bool = True) -> Path:
    """12 patients, 3 visits; values 2-9 declared (by default) in mm: implausible."""
    folder.mkdir(exist_ok=True)
    pts = ["patient_id,arm"] + [f"P{i},{'dry_needling' if i % 2 else 'sham'}"
                                for i in range(12)]
    (folder / "patients.csv").write_text("\n".join(pts) + "\n")
    values = (lambda i, v: 2 + (3 * i + 5 * v) % 8) if scale_mm_values else \
        (lambda i, v: 70 - 9 * v - 4 * (i % 2) * v + (7 * i + 3 * v * v + i * v) % 5)
    rows = ["patient_id,visit,first_step_pain"] + [
        f"P{i},{v},{values(i, v)}" for i in range(12) for v in range(3)]
    (folder / "assessments.csv").write_text("\n".join(rows) + "\n")
    return folder


# ------------------------------------------------------------ configuration files
@pytest.mark.parametrize(
    ("content", "needle"),
    [
        (b'[data]\nassessments = "caf\xe9.csv"\n',
         "is not UTF-8 text: byte 0xe9 at line 2, column 19; save it as UTF-8"),
        (b"x = " + b"[" * 5000 + b"]" * 5000 + b"\n",
         "nests arrays or tables too deeply to read"),
        (b"x = " + b"{a = " * 3000 + b"1" + b"}" * 3000 + b"\n",
         "nests arrays or tables too deeply to read"),
        (b"x = " + b"[" * 40 + b"]" * 40 + b"\n",
         "nests arrays or tables 40 levels deep; at most 32 are allowed"),
        (b"\xff\xfe[\x00d\x00a\x00t\x00a\x00]\x00", "is not UTF-8 text: byte 0xff at line 1"),
    ],
    ids=["cp1252", "deep-arrays", "deep-tables", "40-levels", "utf-16"],
)
def test_unreadable_config_gives_one_line_and_exit_2(tmp_path, content, needle):
    config = tmp_path / "analysis.toml"
    config.write_bytes(content)
    for argv in (["run", config, "--out", tmp_path / "out"], ["validate", config]):
        code, stdout, err = _run(argv)
        assert code == 2 and stdout == ""
        assert err.strip() == err.strip().splitlines()[0]
        assert err.startswith(f"error: {config}") and needle in err, err
    assert not (tmp_path / "out").exists()


def test_config_that_is_a_folder_or_missing(tmp_path):
    for path, needle in ((tmp_path, "is a folder, not a file; give the analysis.toml inside"),
                         (tmp_path / "nope.toml", "does not exist")):
        for argv in (["run", path, "--out", tmp_path / "out"], ["validate", path]):
            code, _, err = _run(argv)
            assert code == 2 and len(err.strip().splitlines()) == 1
            assert err.startswith("error: configuration") and needle in err, err


def test_reading_a_config_imports_neither_scipy_nor_statsmodels():
    """The engines' option lists live in light ``options`` modules the config imports."""
    probe = ("import sys, dryneedle_outcomes.config\n"
             "print(' '.join(m for m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         check=True).stdout.split()
    assert {"dryneedle_outcomes.stats.survival.options",
            "dryneedle_outcomes.stats.mixed.options"} <= set(out)
    assert not [m for m in out if m.split(".")[0] in ("scipy", "statsmodels", "pandas")]


def test_engine_option_lists_have_one_home():
    from dryneedle_outcomes import config
    from dryneedle_outcomes.models import trajectory
    from dryneedle_outcomes.stats.mixed import options as mixed
    from dryneedle_outcomes.stats.survival import aft, kaplan_meier
    from dryneedle_outcomes.stats.survival import options as survival
    from dryneedle_outcomes.survival import time_to_relief

    assert config.CONF_TYPES is survival.CONF_TYPES is kaplan_meier.CONF_TYPES \
        is time_to_relief.CONF_TYPES
    assert config.DISTRIBUTIONS is survival.DISTRIBUTIONS is aft.DISTRIBUTIONS \
        is time_to_relief.DISTRIBUTIONS
    assert config.COVARIANCES is mixed.COVARIANCES is trajectory.COVARIANCES
    assert config.DF_METHODS is mixed.DF_METHODS is trajectory.DF_METHODS


def test_config_choices_equal_the_analyses_own():
    from dryneedle_outcomes import config
    from dryneedle_outcomes.harms.rates import PER
    from dryneedle_outcomes.models.trajectory import COVARIANCES, MODELS
    from dryneedle_outcomes.responders import MISSING_RULES
    from dryneedle_outcomes.survival.events import TIMESCALES

    assert (config.MODELS, config.COVARIANCES, config.PER, config.MISSING_RULES,
            config.TIMESCALES) == (MODELS, COVARIANCES, PER, MISSING_RULES, TIMESCALES)


# ------------------------------------------------------------ a failed analysis
@pytest.fixture
def study(tmp_path) -> Path:
    folder = _study(tmp_path / "study", scale_mm_values=False)
    (folder / "analysis.toml").write_text(
        DATA + "[analysis]\nprimary_visit = 2\n[analysis.baseline_table]\n"
        "[analysis.responders]\n"
        '[figures]\nformats = ["png"]\ndpi = 72\n')
    return folder


def test_an_analysis_that_fails_keeps_the_others(study, tmp_path, monkeypatch):
    def singular(*args, **kwargs):
        raise np.linalg.LinAlgError("Singular matrix")

    monkeypatch.setattr("dryneedle_outcomes.report.analyses._responders", singular)
    out = tmp_path / "out"
    code, stdout, err = _run(["run", study / "analysis.toml", "--out", out])
    assert code == 1
    line = ("[analysis.responders] could not run: LinAlgError: Singular matrix (a numerical "
            "failure on these data)")
    assert f"error: {line}" in err.splitlines()
    assert "Traceback" not in err
    assert f"! {line}" in stdout
    assert (out / "tables" / "baseline_table.csv").exists()
    assert not list((out / "tables").glob("responders*"))
    assert (out / "warnings.txt").read_text().splitlines()[0] == f"[ALERT] {line}"
    report = (out / "report.html").read_text(encoding="utf-8")
    assert f"{line}. Everything else in this report is complete." in report


def test_one_failed_model_keeps_the_other_models(study, tmp_path, monkeypatch):
    from dryneedle_outcomes.report import trajectory

    fit = trajectory.fit_trajectory

    def mmrm_fails(cohort, outcome, *, model, **kwargs):
        if model == "mmrm":
            raise np.linalg.LinAlgError("Singular matrix")
        return fit(cohort, outcome, model=model, **kwargs)

    monkeypatch.setattr(trajectory, "fit_trajectory", mmrm_fails)
    (study / "analysis.toml").write_text(
        DATA + '[analysis]\nprimary_visit = 2\n[analysis.trajectory]\n'
        'models = ["mmrm", "random_intercept"]\ntime = "visit"\n'
        '[figures]\nformats = ["png"]\ndpi = 72\n')
    out = tmp_path / "out"
    code, stdout, err = _run(["run", study / "analysis.toml", "--out", out])
    assert code == 1
    assert ("error: [analysis.trajectory] the mmrm model could not run: LinAlgError: "
            "Singular matrix (a numerical failure on these data)") in err.splitlines()
    assert (out / "tables" / "trajectory_random_intercept_arm_difference.csv").exists()
    assert not list((out / "tables").glob("trajectory_mmrm*"))
    assert ("at visit 2 (the pre-specified primary visit), random-intercept model, "
            "Satterthwaite df: dry needling minus sham") in stdout


def test_an_unexpected_error_is_not_swallowed(study, tmp_path, monkeypatch):
    def bug(*args, **kwargs):
        raise TypeError("a bug, not a data problem")

    monkeypatch.setattr("dryneedle_outcomes.report.analyses._responders", bug)
    with pytest.raises(TypeError, match="a bug"):
        _run(["run", study / "analysis.toml", "--out", tmp_path / "out"])
    assert not (tmp_path / "out").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["study"]


def test_data_error_in_a_config_run_names_the_toml_key(tmp_path):
    folder = _study(tmp_path / "study", scale_mm_values=False)
    text = (folder / "assessments.csv").read_text().replace("P3,1,", "P3,1,1", 1)
    (folder / "assessments.csv").write_text(text)            # 1xx mm: out of range
    config = folder / "analysis.toml"
    config.write_text(DATA)
    code, stdout, err = _run(["run", config, "--out", tmp_path / "out"])
    assert code == 1 and stdout == ""
    assert "row 12, column 'first_step_pain': [out_of_range]" in err
    assert f'set errors = "quarantine" under [data] in {config} to keep going' in err
    assert "errors='quarantine'" not in err and "quality/rejected.csv" in err
    assert [p.name for p in tmp_path.iterdir()] == ["study"]  # no output, no leftovers


# ------------------------------------------------------------ implausible scale
def test_implausible_scale_is_loud_in_validate(tmp_path):
    folder = _study(tmp_path / "study")
    (folder / "analysis.toml").write_text(DATA)
    code, stdout, err = _run(["validate", folder / "analysis.toml", "--quiet"])
    assert code == 1                                          # nothing was rejected
    assert "Rejected rows" not in stdout
    alert = (f"ALERT: implausible scale ({folder / 'assessments.csv'} row 2, column "
             "first_step_pain): 100% of the 36 values of first_step_pain declared on scale "
             "'mm' (0-100) lie within 0-10")
    assert err.startswith(alert)                              # printed even with --quiet
    listing = stdout[stdout.index("Flagged records (1; kept, worth a look):"):]
    row = listing.splitlines()[2]                             # the flag, row by row
    assert row.split()[:6] == ["assessments", str(folder / "assessments.csv"), "2",
                               "first_step_pain", "2", "implausible_scale"]
    assert "1 declared scale(s) contradicted by the data (implausible_scale)" in stdout


def test_implausible_scale_stops_a_strict_run(tmp_path):
    """errors = "raise" (the default): a contradicted scale is a data error, exit 1."""
    folder = _study(tmp_path / "study")
    (folder / "analysis.toml").write_text(DATA)
    out = tmp_path / "out"
    code, stdout, err = _run(["run", folder / "analysis.toml", "--out", out, "--quiet"])
    assert code == 1 and stdout == "" and not out.exists()
    assert "[implausible_scale]" in err and "column 'first_step_pain'" in err
    assert 'set errors = "quarantine" under [data] in' in err


def test_implausible_scale_is_loud_in_run(tmp_path):
    """errors = "quarantine": the run goes on, and the alert is everywhere a reader looks."""
    folder = _study(tmp_path / "study")
    (folder / "analysis.toml").write_text(DATA + 'errors = "quarantine"\n')
    out = tmp_path / "out"
    code, stdout, err = _run(["run", folder / "analysis.toml", "--out", out, "--quiet"])
    assert code == 0 and stdout == ""
    assert err.startswith("ALERT: implausible scale (")
    warned = (out / "warnings.txt").read_text().splitlines()
    assert warned[0].startswith("[ALERT] implausible scale (")
    report = (out / "report.html").read_text(encoding="utf-8")
    banner = report.index('<div class="alert" id="alerts">')
    assert banner < report.index("<nav>") < report.index('id="summary"')
    assert "implausible scale (" in report[banner:report.index("<nav>")]
    assert "Flagged records (1): kept, worth a look" in report
    assert (out / "summary.txt").read_text().startswith("ALERT: implausible scale (")


# ------------------------------------------------------------ start-up and progress
def _imported(code: str) -> set[str]:
    heavy = ("pandas", "scipy", "statsmodels", "matplotlib", "tqdm", "dryneedle_outcomes.models",
             "dryneedle_outcomes.survival", "dryneedle_outcomes.harms")
    probe = code + "\nimport sys\nprint(' '.join(m for m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         check=True).stdout.split()
    return {h for h in heavy if h in out}


def test_help_and_version_import_nothing_heavy():
    assert _imported("import dryneedle_outcomes.cli as c\n"
                     "c.build_parser().format_help()") == set()
    assert _imported("import dryneedle_outcomes as dno\ndno.__version__") == set()


def test_validate_imports_no_analysis():
    assert _imported("import dryneedle_outcomes.cli, dryneedle_outcomes.config, "
                     "dryneedle_outcomes.load, dryneedle_outcomes.report.alerts") == {"pandas"}


def test_public_names_are_listed_and_resolve_lazily():
    names = set(dir(dno))
    for name in dno.__all__:
        assert name in names and getattr(dno, name) is not None, name
    with pytest.raises(AttributeError, match="no attribute 'fit_trajectori'"):
        dno.fit_trajectori  # noqa: B018
    import dryneedle_outcomes.baseline_table  # noqa: F401  (a module of the same name)
    import dryneedle_outcomes.responders  # noqa: F401

    assert callable(dno.responders) and callable(dno.baseline_table)
    assert dno.responders.__module__ == "dryneedle_outcomes.responders"


def test_progress_in_a_log_has_plain_labelled_lines(tmp_path):
    folder = _study(tmp_path / "study", scale_mm_values=False)
    (folder / "analysis.toml").write_text(
        DATA + "[analysis]\nprimary_visit = 2\n[analysis.trajectory]\n"
        "models = [\"random_intercept\"]\ntime = \"visit\"\n"
        "[figures]\nformats = [\"png\"]\ndpi = 72\n")
    code, _, err = _run(["run", folder / "analysis.toml", "--out", tmp_path / "out"])
    assert code == 0, err
    assert "\r" not in err
    steps = [line for line in err.splitlines() if line.startswith("[")]
    assert [s.split("]")[0] for s in steps] == ["[1/4", "[2/4", "[3/4", "[4/4"]
    assert steps[1].endswith("trajectory: fitting the random_intercept model")


def test_sessions_to_mcid_in_a_config_is_deprecated_and_not_run(tmp_path):
    """An old configuration still runs; the deprecated keys warn why and add nothing."""
    folder = _study(tmp_path / "study", scale_mm_values=False)
    (folder / "analysis.toml").write_text(
        DATA + "[analysis]\nprimary_visit = 2\n[analysis.trajectory]\n"
        "models = [\"random_intercept\"]\ntime = \"visit\"\nsessions_to_mcid = true\n"
        "n_boot = 3\n[figures]\nformats = [\"png\"]\ndpi = 72\n")
    out = tmp_path / "out"
    with pytest.warns(FutureWarning, match=r"sessions_to_mcid, n_boot are deprecated and "
                                           r"ignored.*IMMPACT"):
        code, _, err = _run(["run", folder / "analysis.toml", "--out", out])
    assert code == 0, err
    assert not list((out / "tables").glob("*sessions_to_mcid*"))
    assert "sessions needed to reach the MCID" not in err


def test_a_dateless_study_needs_time_visit_for_the_linear_models(tmp_path):
    """No visit dates: the default time scale (weeks) is a failure naming the fix."""
    folder = _study(tmp_path / "study", scale_mm_values=False)
    (folder / "analysis.toml").write_text(
        DATA + "[analysis]\nprimary_visit = 2\n[analysis.trajectory]\n"
        "models = [\"mmrm\", \"random_slope\"]\n[figures]\nformats = [\"png\"]\ndpi = 72\n")
    code, stdout, err = _run(["run", folder / "analysis.toml", "--out", tmp_path / "out"])
    assert code == 1
    assert ("error: [analysis.trajectory] the random_slope model could not run: time='week' "
            "measures time since baseline") in err
    assert "pass time='visit'" in err
    assert "MMRM (unstructured covariance), Kenward-Roger df" in stdout


# ------------------------------------------------------------ reading limits from the config
def test_config_reading_limits_apply_and_name_the_key(tmp_path):
    """[data.limits] reaches the readers; the error names the TOML key to raise it."""
    import gzip

    folder = _study(tmp_path / "study", scale_mm_values=False)
    raw = (folder / "assessments.csv").read_bytes()
    (folder / "assessments.csv.gz").write_bytes(gzip.compress(raw))
    config = folder / "analysis.toml"
    config.write_text('[data]\nassessments = "assessments.csv.gz"\npatients = "patients.csv"\n'
                      f"[data.limits]\nmax_bytes = {len(raw) // 2}\n")
    code, stdout, err = _run(["validate", config, "--quiet"])
    assert code == 2 and stdout == ""
    assert "ReadLimits.max_bytes" in err and "[data.limits] max_bytes" in err
    config.write_text('[data]\nassessments = "assessments.csv.gz"\npatients = "patients.csv"\n'
                      f"[data.limits]\nmax_bytes = {len(raw) * 2}\n")
    code, _, err = _run(["validate", config, "--quiet"])
    assert code == 0, err


@pytest.mark.parametrize("limits, message", [
    ("max_rows = 0", "[data.limits]: max_rows"),
    ("max_cels = 10", "unknown key 'max_cels'"),
    ('max_bytes = "1GB"', "[data.limits]: max_bytes"),
])
def test_config_reading_limits_are_checked(tmp_path, limits, message):
    folder = _study(tmp_path / "study", scale_mm_values=False)
    config = folder / "analysis.toml"
    config.write_text(DATA + f"[data.limits]\n{limits}\n")
    code, _, err = _run(["validate", config, "--quiet"])
    assert code == 2 and message in err, err
