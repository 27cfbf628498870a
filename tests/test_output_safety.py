"""``run --out`` and ``simulate --out`` never lose, move or overwrite what the user owns.

Every test takes a listing with the SHA-256 of every file under the parent folder
before and after, and asserts that nothing outside the package's own output folder
changed (for a refusal: nothing at all). The runs use a tiny cohort and a configuration
without analyses, in-process through ``main``; the kill/interrupt/lock cases run a
small child process that writes through :func:`~dryneedle_outcomes.outdir.replace_folder`
and waits, so that it can be killed mid-write.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import signal
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from cli_helpers import run_cli as _run

from dryneedle_outcomes import outdir
from dryneedle_outcomes.errors import OutputFolderError
from dryneedle_outcomes.simulate import write_sample

CONFIG = '[data]\nassessments = "assessments.csv"\npatients = "patients.csv"\n'



def snapshot(root: Path, skip: str | None = None) -> dict[str, tuple]:
    """Every path under ``root`` (links not followed): kind, SHA-256 or target, mode."""
    out = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if skip and (rel == skip or rel.startswith(skip + "/")):
            continue
        st = path.lstat()
        if stat.S_ISLNK(st.st_mode):
            out[rel] = ("link", os.readlink(path))
        elif stat.S_ISDIR(st.st_mode):
            out[rel] = ("dir", stat.S_IMODE(st.st_mode))
        else:
            out[rel] = ("file", hashlib.sha256(path.read_bytes()).hexdigest(),
                        stat.S_IMODE(st.st_mode))
    return out


@pytest.fixture
def data(tmp_path) -> Path:
    """A user's data folder: raw exports, a mapping-free config, notes."""
    folder = tmp_path / "study"
    folder.mkdir()
    pts = ["patient_id,arm"] + [f"P{i},{'dry_needling' if i % 2 else 'sham'}"
                                for i in range(6)]
    (folder / "patients.csv").write_text("\n".join(pts) + "\n")
    rows = ["patient_id,visit,first_step_pain"] + [
        f"P{i},{v},{70 - 8 * v - 3 * (i % 2) * v}" for i in range(6) for v in range(3)]
    (folder / "assessments.csv").write_text("\n".join(rows) + "\n")
    (folder / "analysis.toml").write_text(CONFIG)
    (folder / "notes.txt").write_text("my notes\n")
    return folder


def _refused(argv, root: Path, needle: str) -> str:
    before = snapshot(root)
    code, stdout, err = _run(argv)
    assert code == 2, err
    assert stdout == ""
    line = err.strip()
    assert len(line.splitlines()) == 1 and line.startswith("error: "), line
    assert needle in line
    assert snapshot(root) == before
    return line


def test_out_holding_the_raw_exports_is_refused(data, tmp_path):
    line = _refused(["run", data / "analysis.toml", "--out", data], tmp_path, "holds the input")
    assert "nothing was changed" in line
    other = tmp_path / "exports"
    other.mkdir()
    (other / "visits.xlsx").write_bytes(b"PK\x03\x04 not ours")
    for extra in ([], ["--force"]):
        _refused(["run", data / "analysis.toml", "--out", other, *extra], tmp_path,
                 "is not empty and was not written by dryneedle_outcomes")


@pytest.mark.parametrize("out", [".", "..", "", "PWD", "./", "sub/..", "/", "HOME"])
def test_out_dot_dotdot_empty_or_cwd_is_refused(data, tmp_path, monkeypatch, out):
    monkeypatch.chdir(data)
    home = tmp_path / "home"                                # a home folder with files
    home.mkdir()
    (home / ".bashrc").write_text("alias ll='ls -l'\n")
    target = {"PWD": str(data), "HOME": str(home)}.get(out, out)
    _refused(["run", "analysis.toml", "--out", target], tmp_path, "--out")


def test_rerun_keeps_a_users_dot_old_and_every_other_sibling(data, tmp_path):
    out = tmp_path / "results"
    assert _run(["run", data / "analysis.toml", "--out", out])[0] == 0
    old = tmp_path / ".results.old"
    old.mkdir()
    (old / "precious.csv").write_text("the user's own backup\n")
    (tmp_path / ".results.dryneedle-tmp-lookalike").mkdir()   # no marker: not ours
    (tmp_path / "results.zip").write_bytes(b"zip")
    before = snapshot(tmp_path, skip="results")
    assert _run(["run", data / "analysis.toml", "--out", out, "--quiet"]) == (0, "", "")
    assert snapshot(tmp_path, skip="results") == before
    assert (out / "manifest.json").exists()


def test_out_that_is_a_symlink_or_a_file_is_refused(data, tmp_path):
    out = tmp_path / "results"
    assert _run(["run", data / "analysis.toml", "--out", out])[0] == 0
    link = tmp_path / "latest"
    link.symlink_to(out, target_is_directory=True)
    _refused(["run", data / "analysis.toml", "--out", link], tmp_path, "is a symbolic link")
    user_link = tmp_path / "to_study"
    user_link.symlink_to(data, target_is_directory=True)
    _refused(["run", data / "analysis.toml", "--out", user_link], tmp_path,
             "is a symbolic link")
    _refused(["run", data / "analysis.toml", "--out", data / "notes.txt"], tmp_path,
             "is a file, not a folder")


def test_read_only_parent_or_folder_is_refused_and_reruns_work(data, tmp_path):
    parent = tmp_path / "locked"
    parent.mkdir()
    out = parent / "results"
    assert _run(["run", data / "analysis.toml", "--out", out])[0] == 0
    try:
        parent.chmod(0o555)
        _refused(["run", data / "analysis.toml", "--out", out], tmp_path,
                 f"cannot write in {parent} (read-only")
        _refused(["run", data / "analysis.toml", "--out", parent / "new" / "deeper"],
                 tmp_path, "read-only")
        parent.chmod(0o755)
        out.chmod(0o555)
        _refused(["run", data / "analysis.toml", "--out", out], tmp_path, "is read-only")
    finally:
        parent.chmod(0o755)
        out.chmod(0o755)
    assert _run(["run", data / "analysis.toml", "--out", out])[0] == 0


def test_edited_folder_needs_force_and_unknown_files_are_never_replaced(data, tmp_path):
    out = tmp_path / "results"
    assert _run(["run", data / "analysis.toml", "--out", out])[0] == 0
    (out / "summary.txt").write_text("my edits\n")
    _refused(["run", data / "analysis.toml", "--out", out], tmp_path,
             "was written by dryneedle_outcomes but 1 file(s) changed since (summary.txt); "
             "pass --force")
    assert _run(["run", data / "analysis.toml", "--out", out, "--force"])[0] == 0
    assert (out / "summary.txt").read_text() != "my edits\n"
    (out / "mine").mkdir()                                    # even an empty folder
    _refused(["run", data / "analysis.toml", "--out", out, "--force"], tmp_path,
             "holds 1 file(s) dryneedle_outcomes did not write (mine)")


def test_folder_of_an_older_version_needs_force(data, tmp_path):
    out = tmp_path / "results"
    assert _run(["run", data / "analysis.toml", "--out", out])[0] == 0
    manifest = json.loads((out / "manifest.json").read_text())
    del manifest["generator"], manifest["kind"], manifest["folders"]
    (out / "manifest.json").write_text(json.dumps(manifest))
    _refused(["run", data / "analysis.toml", "--out", out], tmp_path,
             "written by an older dryneedle_outcomes")
    assert _run(["run", data / "analysis.toml", "--out", out, "--force"])[0] == 0


def test_empty_folder_is_used_and_permissions_follow_the_umask(data, tmp_path):
    out = tmp_path / "results"
    out.mkdir()
    previous = os.umask(0o027)
    try:
        assert _run(["run", data / "analysis.toml", "--out", out])[0] == 0
        modes = {p.relative_to(out).as_posix(): stat.S_IMODE(p.stat().st_mode)
                 for p in [out, *out.rglob("*")]}
        assert set(modes.values()) == {0o750, 0o640}
        os.umask(0o022)
        assert _run(["run", data / "analysis.toml", "--out", out])[0] == 0
    finally:
        os.umask(previous)
    assert stat.S_IMODE(out.stat().st_mode) == 0o755
    for path in out.rglob("*"):
        assert stat.S_IMODE(path.stat().st_mode) == (0o755 if path.is_dir() else 0o644)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["results", "study"]


def test_interrupted_run_leaves_the_folder_and_no_temporary_files(data, tmp_path,
                                                                  monkeypatch):
    out = tmp_path / "results"
    assert _run(["run", data / "analysis.toml", "--out", out])[0] == 0
    before = snapshot(tmp_path)

    def interrupted(folder, *args, **kwargs):
        (folder / "half.csv").write_text("half written")
        raise KeyboardInterrupt

    monkeypatch.setattr("dryneedle_outcomes.report.write_run", interrupted)
    code, _, err = _run(["run", data / "analysis.toml", "--out", out])
    assert code == 130 and err.strip().endswith(f"interrupted; {out} was left as it was")
    assert snapshot(tmp_path) == before


def test_sigterm_unwinds_and_removes_the_temporary_folder(data, tmp_path, monkeypatch):
    out = tmp_path / "results"
    assert _run(["run", data / "analysis.toml", "--out", out])[0] == 0
    before = snapshot(tmp_path)

    def terminated(folder, *args, **kwargs):
        (folder / "half.csv").write_text("half written")
        os.kill(os.getpid(), signal.SIGTERM)

    monkeypatch.setattr("dryneedle_outcomes.report.write_run", terminated)
    with pytest.raises(SystemExit) as info:
        _run(["run", data / "analysis.toml", "--out", out])
    assert info.value.code == 128 + signal.SIGTERM
    assert snapshot(tmp_path) == before
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL


def test_fallback_without_renameat2_replaces_cleanly(data, tmp_path, monkeypatch):
    out = tmp_path / "results"
    assert _run(["run", data / "analysis.toml", "--out", out])[0] == 0
    monkeypatch.setattr(outdir, "_exchange", lambda a, b: False)
    assert _run(["run", data / "analysis.toml", "--out", out])[0] == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["results", "study"]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="renameat2 is Linux's")
def test_exchange_swaps_two_folders_in_one_step(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    (a / "x").write_text("a")
    (b / "x").write_text("b")
    assert outdir._exchange(a, b)
    assert (a / "x").read_text() == "b" and (b / "x").read_text() == "a"


# ------------------------------------------------- a writer in another process
CHILD = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from dryneedle_outcomes.outdir import replace_folder

    def write(folder):
        (folder / "part.csv").write_text("partial")
        print("writing", folder, flush=True)
        time.sleep(60)

    replace_folder(Path(sys.argv[1]), write, kind="run")
""")


@contextlib.contextmanager
def writer(out: Path):
    """A child process inside replace_folder's write step (holding the lock)."""
    # SIGINT back to its default in the child: a background CI job (bash `cmd &`) starts
    # its children with SIGINT ignored, and Python then never raises KeyboardInterrupt;
    # the child stands for a run started from a terminal, where Ctrl-C is delivered
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(out)],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        line = child.stdout.readline()
        assert line.startswith("writing"), child.stderr.read()
        yield child, Path(line.split(maxsplit=1)[1].strip())
    finally:
        if child.poll() is None:
            child.kill()
        child.communicate(timeout=30)


def test_sigkill_leftovers_are_removed_by_the_next_run(data, tmp_path):
    out = tmp_path / "results"
    assert _run(["run", data / "analysis.toml", "--out", out])[0] == 0
    with writer(out) as (child, tmp):
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
    assert tmp.exists() and (tmp / outdir.PARTIAL).exists()     # what a kill leaves
    assert (out / "manifest.json").exists()                      # DIR untouched
    lookalike = tmp_path / ".results.dryneedle-tmp-0000"          # no marker: not ours
    lookalike.mkdir()
    (lookalike / "user.txt").write_text("keep")
    assert _run(["run", data / "analysis.toml", "--out", out])[0] == 0
    assert not tmp.exists() and (lookalike / "user.txt").read_text() == "keep"
    assert not (tmp_path / ".results.dryneedle-lock").exists()


def test_sigint_in_another_process_cleans_its_temporary_folder(tmp_path):
    out = tmp_path / "results"
    with writer(out) as (child, tmp):
        assert tmp.exists()
        child.send_signal(signal.SIGINT)
        child.wait(timeout=30)
    assert child.returncode != 0
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_concurrent_run_into_the_same_folder_is_refused(data, tmp_path):
    out = tmp_path / "results"
    with writer(out) as (_, tmp):
        before = snapshot(tmp_path)
        code, _, err = _run(["run", data / "analysis.toml", "--out", out])
        assert code == 2
        assert err.strip() == (f"error: another run is writing {out} (lock "
                               f"{tmp_path / '.results.dryneedle-lock'}); wait for it to "
                               "finish or choose another --out folder")
        assert snapshot(tmp_path) == before
    assert _run(["run", data / "analysis.toml", "--out", out])[0] == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["results", "study"]


# ------------------------------------------------------------------ simulate
def test_simulate_never_overwrites_without_force(data, tmp_path):
    _refused(["simulate", "--patients", "6", "--out", data, "--quiet"], tmp_path,
             "is not empty and was not written by dryneedle_outcomes")
    sim = tmp_path / "sim"
    assert _run(["simulate", "--patients", "6", "--seed", "3", "--out", sim, "--quiet"]) \
        == (0, "", "")
    manifest = json.loads((sim / "manifest.json").read_text())
    assert manifest["kind"] == "sample" and "assessments.csv" in manifest["outputs"]
    _refused(["simulate", "--patients", "6", "--out", sim], tmp_path, "pass --force")
    _refused(["run", sim / "analysis.toml", "--out", sim], tmp_path, "holds the input")
    results = tmp_path / "results"
    assert _run(["run", data / "analysis.toml", "--out", results])[0] == 0
    _refused(["simulate", "--patients", "6", "--out", results, "--force"], tmp_path,
             "holds a run's outputs")
    before = snapshot(tmp_path, skip="sim")
    assert _run(["simulate", "--patients", "6", "--seed", "4", "--out", sim, "--force",
                 "--quiet"])[0] == 0
    assert snapshot(tmp_path, skip="sim") == before


def test_simulate_refuses_the_bundled_sample_even_with_force(sample_dir, tmp_path):
    import shutil

    copy = tmp_path / "sample"
    shutil.copytree(sample_dir, copy)
    _refused(["simulate", "--out", copy, "--force"], tmp_path,
             "was not written by dryneedle_outcomes")
    readme = (sample_dir / "README.md").read_text(encoding="utf-8")
    assert "simulate data/sample" not in readme and 'write_sample("data/sample")' not in readme
    assert "dryneedle-outcomes simulate --out my_sample" in readme


def test_write_sample_names_existing_files_and_writes_nothing(tmp_path):
    (tmp_path / "assessments.csv").write_text("the user's export\n")
    before = snapshot(tmp_path)
    with pytest.raises(OutputFolderError, match=r"already holds assessments\.csv; nothing "
                                                r"was written"):
        write_sample(tmp_path, n_patients=6, seed=1)
    assert snapshot(tmp_path) == before


def test_a_manifest_naming_paths_outside_the_folder_is_not_ours(data, tmp_path):
    out = tmp_path / "results"
    assert _run(["run", data / "analysis.toml", "--out", out])[0] == 0
    manifest = json.loads((out / "manifest.json").read_text())
    manifest["outputs"]["../study/notes.txt"] = None
    (out / "manifest.json").write_text(json.dumps(manifest))
    _refused(["run", data / "analysis.toml", "--out", out, "--force"], tmp_path,
             "was not written by dryneedle_outcomes")


def test_a_writer_that_leaves_unlisted_files_changes_nothing(tmp_path):
    def sloppy(folder):
        (folder / "manifest.json").write_text(json.dumps(
            {**outdir.marker("run"), "outputs": {"manifest.json": None}}))
        (folder / "unlisted.csv").write_text("1\n")

    with pytest.raises(OutputFolderError, match=r"not all listed in their manifest\.json "
                                                r"\(unlisted\.csv\); nothing was changed"):
        outdir.replace_folder(tmp_path / "results", sloppy, kind="run")
    assert list(tmp_path.iterdir()) == []
