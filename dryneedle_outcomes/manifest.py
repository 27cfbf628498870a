"""``manifest.json``: what was run, on which inputs, with which software."""

from __future__ import annotations

import hashlib
import platform
import sys
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

DEPENDENCIES = ("numpy", "pandas", "scipy", "statsmodels", "lifelines", "matplotlib",
                "openpyxl", "pyarrow")


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


def build_manifest(*, inputs: dict[str, Path], config: dict, started: str, finished: str,
                   outputs: list[str]) -> dict:
    """The manifest as a dict (written as JSON by the command line)."""
    return {
        "software": package_versions(),
        "inputs": {name: {"path": str(p), "sha256": sha256(p)} for name, p in inputs.items()},
        "config": config,
        "seeds": config.get("simulation", {}),
        "started": started,
        "finished": finished,
        "outputs": sorted(outputs),
    }
