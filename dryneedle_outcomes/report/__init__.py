"""The run behind ``dryneedle-outcomes run``: analyses into sections, sections into files.

Modules: ``sections`` (what one analysis contributes: named tables, figures,
diagnostics, headline), ``analyses`` and ``trajectory`` (run what the configuration
names), ``figures`` (byte-reproducible PDF/PNG/SVG), ``html`` (the self-contained
``report.html``), ``word`` (``report.docx``), ``assets`` (``report/``: the items as a
journal's supplementary files, by identifier), ``outputs`` (the output folder and
``manifest.json``) and ``alerts``
(what the user must see first). The names below are imported on first use, so that
``validate`` can use :mod:`.alerts` without importing the analyses.
"""

from importlib import import_module

_SOURCES = {"n_steps": "analyses", "run_analyses": "analyses", "write_run": "outputs"}

__all__ = ["n_steps", "run_analyses", "write_run"]


def __getattr__(name: str):
    if name not in _SOURCES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f".{_SOURCES[name]}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
