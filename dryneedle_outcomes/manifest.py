"""``manifest.json``: what was run, on which inputs, with which software, giving what.

The manifest starts with the marker ``"generator": "dryneedle_outcomes"`` and the
``"kind"`` of folder (``"run"``, ``"sample"`` or ``"power"``): the output-folder rules
(:mod:`dryneedle_outcomes.outdir`) replace a folder only when it carries them. It
records the versions of this package, Python and the dependencies, the
SHA-256 of every input file (the configuration included), the resolved
configuration (every default filled in), the seeds, the start and end times, and the
SHA-256 of every output. Two runs on the same inputs give the same output hashes;
the files that hold the run's timestamps (``report.html`` and the manifest itself)
are listed with ``null`` instead of a hash.
"""

from __future__ import annotations

import hashlib
import platform
import sys
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

#: The value of ``"generator"`` in every manifest this package writes.
GENERATOR = "dryneedle_outcomes"
DEPENDENCIES = ("numpy", "pandas", "scipy", "statsmodels", "matplotlib", "openpyxl",
                "pyarrow", "tqdm")
#: Outputs that contain the time of the run, so their hash differs between runs.
TIMESTAMPED = ("manifest.json", "report.html")


def sha256(path: str | Path, chunk: int = 1 << 20) -> str:
    """SHA-256 hex digest of a file, read in chunks."""
    h = hashlib.sha256()
    with Path(path).open("rb") as fh:
        for block in iter(lambda: fh.read(chunk), b""):
            h.update(block)
    return h.hexdigest()


def package_versions() -> dict[str, str]:
    """Versions of this package, Python and the runtime dependencies."""
    out = {"python": platform.python_version(), "platform": sys.platform}
    for name in ("dryneedle_outcomes",) + DEPENDENCIES:
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = "not installed"
    return out


def output_hashes(directory: str | Path, names, *,
                  timestamped=TIMESTAMPED) -> dict[str, str | None]:
    """SHA-256 of each output (paths relative to ``directory``); None for timestamped ones."""
    directory = Path(directory)
    return {name: None if name in timestamped else sha256(directory / name)
            for name in sorted(names)}


def build_manifest(*, inputs: dict[str, Path], config: dict, started: str, finished: str,
                   outputs: dict[str, str | None] | list[str],
                   seeds: dict | None = None, kind: str = "run",
                   folders=()) -> dict:
    """The manifest as a dict (written as JSON by the command line).

    ``outputs`` maps each output path to its SHA-256 (None for the files holding
    timestamps); a plain list records the names only. ``kind`` ("run", "sample" or "power") and
    ``folders`` (every folder written, relative paths) let a later run recognise the
    folder as ours (:mod:`dryneedle_outcomes.outdir`).

    Examples
    --------
    >>> m = build_manifest(inputs={}, config={}, started="t0", finished="t1",
    ...                    outputs=["summary.txt"], kind="sample")
    >>> m["generator"], m["kind"], m["outputs"]
    ('dryneedle_outcomes', 'sample', {'summary.txt': None})
    """
    if not isinstance(outputs, dict):
        outputs = {name: None for name in sorted(outputs)}
    return {
        "generator": GENERATOR,
        "kind": kind,
        "software": package_versions(),
        "inputs": {name: {"path": str(p), "sha256": sha256(p)} for name, p in inputs.items()},
        "config": config,
        "seeds": config.get("simulation", {}) if seeds is None else seeds,
        "started": started,
        "finished": finished,
        "outputs": outputs,
        "folders": sorted(folders),
        "outputs_note": "sha256 null: the file holds the run's timestamps ("
                        + ", ".join(TIMESTAMPED) + ")",
    }
