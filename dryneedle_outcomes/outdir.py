"""Output folders that never lose what the user owns.

``dryneedle-outcomes run --out DIR`` and ``simulate --out DIR`` write through
:func:`replace_folder`, which follows the rules of ``DESIGN.md`` ("What the CLI may
touch"):

- DIR is replaced only when it does not exist, is empty, or was written by this
  package: it holds our ``manifest.json`` (``"generator": "dryneedle_outcomes"`` and the
  ``"kind"`` of folder) and nothing that manifest does not list. A folder with any
  other file is refused, ``--force`` or not. A folder we wrote whose files were edited
  since (their SHA-256 differs from the manifest's) is replaced only with ``force``;
  so is one written by a version without the marker.
- DIR that is a symbolic link, a file, a mount point, ``.``/``..``/``""``, the current
  folder (or one holding it), a folder holding the run's inputs, a read-only folder or
  a folder in a read-only parent is refused. Every refusal is an
  :class:`~dryneedle_outcomes.errors.OutputFolderError` with a one-line message saying
  why and what to do; nothing is created, moved or renamed.
- The new outputs are written into a temporary sibling ``.DIR.dryneedle-tmp-<hex>``
  (created with the umask's permissions, 0755 under umask 022, not mkdtemp's 0700),
  which holds the marker file ``.dryneedle-partial`` while it is ours and unfinished.
  On Linux the two folders are then swapped by one ``renameat2(RENAME_EXCHANGE)``
  call, so that DIR never stops existing; elsewhere (or on a file system without it)
  DIR is renamed to ``.DIR.dryneedle-old-<hex>`` and the new folder renamed into place,
  with a moment where DIR is missing. The previous outputs are then deleted file by
  file, only the ones its manifest lists.
- An interrupted run (Ctrl-C, an error) removes its temporary folder. A killed one
  (SIGKILL, power loss) leaves it behind; the next run into the same DIR finds the
  siblings ``.DIR.dryneedle-tmp-*`` / ``.DIR.dryneedle-old-*`` holding the marker file
  and removes them. Nothing else beside DIR is touched (a user's ``.DIR.old`` stays).
- Two runs into one DIR: the second finds the lock ``.DIR.dryneedle-lock``
  (``fcntl.flock``, released when the process ends, even when killed) held and stops
  with "another run is writing DIR". The lock file is removed at the end.

Examples
--------
>>> import json, tempfile
>>> from pathlib import Path
>>> def write(folder):
...     (folder / "result.txt").write_text("42\\n")
...     manifest = {**marker("run"), "outputs": {"result.txt": None, "manifest.json": None}}
...     (folder / "manifest.json").write_text(json.dumps(manifest))
>>> with tempfile.TemporaryDirectory() as tmp:
...     out = Path(tmp) / "results"
...     replace_folder(out, write, kind="run")          # a new folder
...     replace_folder(out, write, kind="run")          # ours: replaced
...     _ = (out / "notes.txt").write_text("mine")
...     try:
...         replace_folder(out, write, kind="run")
...     except OutputFolderError as exc:
...         print(str(exc).split(";")[0])
...     sorted(p.name for p in Path(tmp).iterdir())
/.../results holds 1 file(s) dryneedle_outcomes did not write (notes.txt)
['results']
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import json
import os
import secrets
import shutil
import stat
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from .errors import OutputFolderError
from .manifest import GENERATOR, sha256

#: The file that marks a folder as ours.
MANIFEST = "manifest.json"
#: Marker file inside our temporary and discarded folders (and briefly in DIR).
PARTIAL = ".dryneedle-partial"
_TMP, _OLD, _LOCK = ".dryneedle-tmp-", ".dryneedle-old-", ".dryneedle-lock"
_KINDS = {"run": "a run's outputs (dryneedle-outcomes run)",
          "sample": "a simulated sample (dryneedle-outcomes simulate)",
          "power": "a power analysis (dryneedle-outcomes power)"}
_MAX_MANIFEST = 50 << 20
_LEGACY_FOLDERS = ("data", "quality", "tables", "figures")


def marker(kind: str) -> dict[str, str]:
    """The fields that mark a manifest as ours: ``generator`` and ``kind``.

    Examples
    --------
    >>> marker("run")
    {'generator': 'dryneedle_outcomes', 'kind': 'run'}
    """
    if kind not in _KINDS:
        raise ValueError(f"kind must be one of {', '.join(_KINDS)}, got {kind!r}")
    return {"generator": GENERATOR, "kind": kind}


@dataclass(frozen=True)
class Inspection:
    """What an existing folder holds, as far as replacing it is concerned.

    ``state`` is ``"missing"``, ``"empty"``, ``"ours"`` (our manifest with the marker),
    ``"legacy"`` (a manifest of ours from before the marker) or ``"foreign"``.
    ``unknown``: paths the manifest does not list; ``edited``: listed files whose
    SHA-256 differs from the manifest's; ``outputs`` and ``folders``: what it lists.
    """

    state: str
    kind: str | None = None
    unknown: tuple[str, ...] = ()
    edited: tuple[str, ...] = ()
    outputs: tuple[str, ...] = ()
    folders: tuple[str, ...] = ()


def _listing(top: Path) -> tuple[list[str], list[str], list[str]]:
    """Files, folders and anything else (links, sockets) under ``top``; links not followed."""
    files: list[str] = []
    dirs: list[str] = []
    other: list[str] = []
    stack = [""]
    while stack:
        rel = stack.pop()
        with os.scandir(top / rel if rel else top) as entries:
            for entry in entries:
                name = f"{rel}/{entry.name}" if rel else entry.name
                if entry.is_symlink():
                    other.append(name)
                elif entry.is_dir(follow_symlinks=False):
                    dirs.append(name)
                    stack.append(name)
                elif entry.is_file(follow_symlinks=False):
                    files.append(name)
                else:
                    other.append(name)
    return files, dirs, other


def _read_manifest(top: Path) -> dict | None:
    path = top / MANIFEST
    try:
        st = path.lstat()
    except FileNotFoundError:
        return None
    if not stat.S_ISREG(st.st_mode) or st.st_size > _MAX_MANIFEST:
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None
    return data if isinstance(data, dict) else None


def inspect_folder(path: str | Path) -> Inspection:
    """Inspect ``path`` (a folder, or missing) before replacing it.

    A folder without our manifest is reported ``"foreign"`` at once, without walking
    it (a home folder is not read through).

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     print(inspect_folder(Path(tmp) / "new").state, inspect_folder(tmp).state)
    missing empty
    """
    top = Path(path)
    if not top.exists():
        return Inspection("missing")
    with os.scandir(top) as entries:
        if next(entries, None) is None:
            return Inspection("empty")
    manifest = _read_manifest(top)
    if manifest is None:
        return Inspection("foreign")
    outputs = manifest.get("outputs")
    if isinstance(outputs, list):
        outputs = dict.fromkeys(outputs)
    listed_folders = manifest.get("folders", [])
    if not isinstance(outputs, dict) or not isinstance(listed_folders, list) \
            or not all(_inside_name(k) for k in [*outputs, *listed_folders]):
        return Inspection("foreign")  # a manifest naming paths outside the folder: not ours
    if manifest.get("generator") == GENERATOR:
        state, kind = "ours", manifest.get("kind", "run")
    elif GENERATOR in (manifest.get("software") or {}) and "outputs_note" in manifest:
        state, kind = "legacy", "run"
    else:
        return Inspection("foreign")
    folders = set(listed_folders)
    if state == "legacy":  # older runs made these even when they stayed empty
        folders.update(_LEGACY_FOLDERS)
    for name in outputs:
        parts = name.split("/")
        folders.update("/".join(parts[:i]) for i in range(1, len(parts)))
    files, dirs, other = _listing(top)
    unknown = sorted([f for f in files if f not in outputs and f != PARTIAL]
                     + other + [d for d in dirs if d not in folders])
    present = set(files)
    edited = sorted(name for name, digest in outputs.items()
                    if isinstance(digest, str) and name in present
                    and sha256(top / name) != digest)
    return Inspection(state, kind, tuple(unknown), tuple(edited),
                      tuple(sorted(present.intersection(outputs))), tuple(sorted(folders)))


def _inside_name(name) -> bool:
    """A relative path in posix form that stays inside the folder (no ``..``, no root)."""
    if not isinstance(name, str) or not name or "\\" in name or name.startswith("/"):
        return False
    return all(part not in ("", ".", "..") for part in name.split("/")) and ":" not in name


def _few(names, n: int = 3) -> str:
    names = list(names)
    return ", ".join(names[:n]) + (f" and {len(names) - n} more" if len(names) > n else "")


def _writable(path: Path) -> bool:
    """Writable by us and not marked read-only (no write bit: refused even for root)."""
    try:
        mode = path.stat().st_mode
    except OSError:
        return False
    return os.access(path, os.W_OK | os.X_OK) and bool(stat.S_IMODE(mode) & 0o222)


def _inside(inner: Path, outer: Path) -> bool:
    return inner == outer or outer in inner.parents


def checked_path(out: str | os.PathLike, *, protect: Iterable[str | os.PathLike] = ()) -> Path:
    """``out`` as an absolute path, or an :class:`OutputFolderError` saying why not.

    Refused: ``""``, ``.``, ``..``, a symbolic link, a file, a mount point, the current
    folder or one holding it, a folder holding any path of ``protect`` (the inputs),
    and a path whose parent (or nearest existing ancestor) or which itself is read-only.
    Nothing is created.

    Examples
    --------
    >>> checked_path(".")
    Traceback (most recent call last):
    ...
    dryneedle_outcomes.errors.OutputFolderError: --out '.' is the current folder; ...folder...
    """
    text = os.fspath(out)
    if not text.strip():
        raise OutputFolderError("--out is empty; give the name of a new folder, e.g. "
                                "--out results")
    path = Path(text)
    if path.name in ("", ".", ".."):
        what = ("the root folder" if path.anchor and path == Path(path.anchor) else
                "the current folder" if path.name in ("", ".") else "a parent folder")
        raise OutputFolderError(f"--out {text!r} is {what}; give the name of a new folder, "
                                "e.g. --out results (nothing was changed)")
    path = Path(os.path.abspath(path))
    if path.is_symlink():
        raise OutputFolderError(f"--out {path} is a symbolic link; give the folder itself "
                                "or a new folder name (nothing was changed)")
    if path.exists() and not path.is_dir():
        raise OutputFolderError(f"--out {path} is a file, not a folder; give a folder name "
                                "(nothing was changed)")
    real = path.resolve()
    cwd = Path.cwd().resolve()
    if _inside(cwd, real):
        raise OutputFolderError(f"--out {path} is the current folder or holds it; give the "
                                "name of a new folder, e.g. --out results (nothing was "
                                "changed)")
    for item in protect:
        if _inside(Path(item).resolve(), real):
            raise OutputFolderError(f"--out {path} holds the input {item}; write the outputs "
                                    "to a folder outside the data (nothing was changed)")
    if path.exists() and os.path.ismount(path):
        raise OutputFolderError(f"--out {path} is a mount point; give a folder inside it")
    ancestor = path.parent
    while not ancestor.exists():
        ancestor = ancestor.parent
    if not ancestor.is_dir() or not _writable(ancestor):
        raise OutputFolderError(f"cannot write in {ancestor} (read-only or not a folder); "
                                "choose another --out folder (nothing was changed)")
    if path.exists() and not _writable(path):
        raise OutputFolderError(f"--out {path} is read-only; make it writable or choose "
                                "another --out folder (nothing was changed)")
    return path


def _refusal(path: Path, found: Inspection, kind: str, force: bool,
             require_force: bool) -> str | None:
    """Why ``path`` may not be replaced (None when it may)."""
    if found.state in ("missing", "empty"):
        return None
    if found.state == "foreign":
        return (f"{path} is not empty and was not written by dryneedle_outcomes (no "
                f"{MANIFEST} of ours in it); nothing was changed: choose a new or empty "
                "folder for --out")
    if found.kind != kind:
        held = _KINDS.get(str(found.kind), f"a folder of kind {found.kind!r}")
        return (f"{path} holds {held}, not {_KINDS[kind]}; nothing was changed: choose "
                "another --out folder")
    if found.unknown:
        return (f"{path} holds {len(found.unknown)} file(s) dryneedle_outcomes did not write "
                f"({_few(found.unknown)}); nothing was changed: move them out or choose "
                "another --out folder (--force does not override this)")
    if force:
        return None
    if found.state == "legacy":
        return (f"{path} was written by an older dryneedle_outcomes (its {MANIFEST} has no "
                "marker); pass --force to replace it, or choose another --out folder")
    if found.edited:
        return (f"{path} was written by dryneedle_outcomes but {len(found.edited)} file(s) "
                f"changed since ({_few(found.edited)}); pass --force to replace it, or "
                "choose another --out folder")
    if require_force:
        return (f"{path} already holds {_KINDS[kind]}; pass --force to replace it, or "
                "choose another --out folder")
    return None


def _sibling(path: Path, tag: str) -> Path:
    """A new, empty sibling folder ``.NAME<tag><hex>`` with the umask's permissions."""
    for _ in range(100):
        candidate = path.with_name(f".{path.name}{tag}{secrets.token_hex(4)}")
        try:
            os.mkdir(candidate, 0o777)
        except FileExistsError:
            continue
        (candidate / PARTIAL).write_text("dryneedle_outcomes: unfinished or discarded "
                                         "output folder; safe to delete\n", encoding="utf-8")
        return candidate
    raise OutputFolderError(f"cannot create a temporary folder beside {path}")


def _ours(path: Path) -> bool:
    try:
        return (path.is_dir() and not path.is_symlink()
                and stat.S_ISREG((path / PARTIAL).lstat().st_mode))
    except FileNotFoundError:
        return False


def remove_leftovers(path: str | Path) -> list[Path]:
    """Remove what killed runs into ``path`` left beside it; return what was removed.

    Only siblings named ``.NAME.dryneedle-tmp-*`` or ``.NAME.dryneedle-old-*`` that are
    real folders holding the marker file ``.dryneedle-partial`` are removed.
    """
    path = Path(path)
    if not path.parent.is_dir():
        return []
    removed = []
    prefixes = (f".{path.name}{_TMP}", f".{path.name}{_OLD}")
    with os.scandir(path.parent) as entries:
        candidates = [Path(e.path) for e in entries if e.name.startswith(prefixes)]
    for candidate in candidates:
        if _ours(candidate):
            shutil.rmtree(candidate)
            removed.append(candidate)
    return removed


def _try_lock(fd: int) -> bool:
    if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
        import msvcrt

        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True
    import fcntl

    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


@contextlib.contextmanager
def locked(path: str | Path) -> Iterator[Path]:
    """Hold the lock ``.NAME.dryneedle-lock`` beside ``path``; remove it afterwards.

    Raises :class:`OutputFolderError` ("another run is writing ...") when another
    process holds it. The operating system releases the lock when a process dies, so a
    lock file left by a killed run does not block the next one.
    """
    path = Path(path)
    lock = path.with_name(f".{path.name}{_LOCK}")
    flags = os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0)
    while True:
        try:
            fd = os.open(lock, flags, 0o666)
        except OSError as exc:
            raise OutputFolderError(f"cannot create the lock file {lock}: "
                                    f"{exc.strerror}") from None
        if not _try_lock(fd):
            os.close(fd)
            raise OutputFolderError(f"another run is writing {path} (lock {lock}); wait for "
                                    "it to finish or choose another --out folder")
        try:  # a finishing run unlinks the file it locked: lock the one at the path
            same = os.path.samestat(os.fstat(fd), os.stat(lock))
        except FileNotFoundError:
            same = False
        if same:
            break
        os.close(fd)
    try:
        yield lock
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(lock)
        os.close(fd)


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths in one step (Linux ``renameat2(RENAME_EXCHANGE)``).

    Returns False when the platform or file system cannot, so the caller falls back.
    """
    if not sys.platform.startswith("linux"):
        return False
    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):
        return False
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p,
                          ctypes.c_uint]
    at_fdcwd, rename_exchange = -100, 2
    if renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):
        return False
    raise OSError(code, os.strerror(code), str(b))


def _discard(old: Path, found: Inspection) -> Path | None:
    """Delete the previous outputs the manifest lists, file by file, then the folder.

    Returns ``old`` when something else appeared in it meanwhile (kept, unmarked).
    """
    for name in (*found.outputs, PARTIAL):
        with contextlib.suppress(FileNotFoundError):
            (old / name).unlink()
    for name in sorted(found.folders, key=lambda f: f.count("/"), reverse=True):
        # a folder still holding something is kept (reported through ``old`` below)
        with contextlib.suppress(OSError):
            (old / name).rmdir()
    try:
        old.rmdir()
    except OSError:
        return old
    return None


def replace_folder(out: str | os.PathLike, write: Callable[[Path], object], *, kind: str,
                   force: bool = False, require_force: bool = False,
                   protect: Iterable[str | os.PathLike] = ()) -> Path | None:
    """Write a folder with ``write(tmp)`` and put it in place of ``out``, safely.

    Parameters
    ----------
    out : path
        The output folder (created, or replaced when the rules in the module docstring
        allow it).
    write : callable
        Called with a new empty temporary folder beside ``out``; writes everything,
        including a manifest carrying :func:`marker` (``kind``) and listing the outputs.
    kind : {"run", "sample", "power"}
        What the folder holds; a folder of another kind is never replaced.
    force : bool
        Replace a folder of ours whose files were edited (never one with unknown files).
    require_force : bool
        Ask for ``force`` before replacing any non-empty folder (``simulate``).
    protect : paths
        Inputs that ``out`` must not hold.

    Returns
    -------
    Path or None
        A discarded previous folder that could not be removed because files appeared in
        it during the run (kept for the user), else None.

    Raises
    ------
    OutputFolderError
        When ``out`` may not be written or replaced; nothing was changed.
    """
    marker(kind)
    path = checked_path(out, protect=protect)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputFolderError(f"cannot create {path.parent}: {exc.strerror}") from None
    with locked(path):
        remove_leftovers(path)
        try:
            found = inspect_folder(path)
        except OSError as exc:
            raise OutputFolderError(f"cannot read {path}: {exc.strerror}; nothing was "
                                    "changed") from None
        reason = _refusal(path, found, kind, force, require_force)
        if reason:
            raise OutputFolderError(reason)
        tmp = _sibling(path, _TMP)
        try:
            write(tmp)
            written = inspect_folder(tmp)
            if written.state != "ours" or written.kind != kind or written.unknown:
                raise OutputFolderError(  # a writer bug: never leave a folder we disown
                    f"the outputs written for {path} are not all listed in their "
                    f"{MANIFEST} ({_few(written.unknown) or written.state}); nothing was "
                    "changed")
            return _swap(tmp, path, found)
        finally:
            if tmp.exists() and _ours(tmp):
                shutil.rmtree(tmp)


def _swap(new: Path, path: Path, found: Inspection) -> Path | None:
    """Put ``new`` at ``path``; discard the previous folder (if any)."""
    if found.state == "missing":
        try:
            os.rename(new, path)
        except OSError as exc:
            raise OutputFolderError(f"{path} appeared while the run was writing it "
                                    f"({exc.strerror}); nothing was changed") from None
        (path / PARTIAL).unlink()
        return None
    (path / PARTIAL).write_text("dryneedle_outcomes: being replaced\n", encoding="utf-8")
    if _exchange(new, path):
        old = new
    else:
        old = path.with_name(f".{path.name}{_OLD}{secrets.token_hex(4)}")
        os.rename(path, old)
        try:
            os.rename(new, path)
        except OSError:
            os.rename(old, path)
            raise
    (path / PARTIAL).unlink()
    kept = _discard(old, found)
    if kept is not None:
        (kept / PARTIAL).unlink(missing_ok=True)
    return kept
