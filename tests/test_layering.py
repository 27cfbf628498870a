"""The package's layers point one way (issue 16): engines never reach into the domain.

``dryneedle_outcomes.stats`` holds the numerical engines (arrays in, results out,
checked against R). They may import only each other and ``dryneedle_outcomes.errors``;
the analyses build on them, never the other way round. No analysis imports the command
line or the report writer, and no loader fits a model. Inside the loaders, io/'s format
families never import the dispatcher (io/readers.py) and each vocabulary imports only
the shared matcher. The imports are read from the source with :mod:`ast` (relative
ones resolved), so a violation anywhere in a module, also inside a function, fails here.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "dryneedle_outcomes"


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    """Every ``dryneedle_outcomes`` module ``path`` imports, relative imports resolved."""
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            found.add(module)
            # ``from . import x`` / ``from .pkg import mod`` may name modules
            found.update(f"{module}.{a.name}" for a in node.names)
    return {m for m in found if m == "dryneedle_outcomes" or m.startswith("dryneedle_outcomes.")}


def _modules(folder: str) -> list[Path]:
    return sorted((PACKAGE / folder).rglob("*.py")) if (PACKAGE / folder).is_dir() \
        else [PACKAGE / f"{folder}.py"]


def _is_under(module: str, prefixes: tuple[str, ...]) -> bool:
    return any(module == p or module.startswith(p + ".") for p in prefixes)


def _existing(module: str) -> bool:
    """Whether ``module`` is a module or package of ours (not a name imported from one)."""
    rel = Path(*module.split(".")[1:]) if "." in module else Path()
    return (PACKAGE / rel).with_suffix(".py").is_file() or (PACKAGE / rel).is_dir()


ENGINES = _modules("stats")


def test_there_are_engines_to_check():
    names = {_module_name(p) for p in ENGINES}
    assert {"dryneedle_outcomes.stats.survival.cox", "dryneedle_outcomes.stats.mixed.mmrm",
            "dryneedle_outcomes.stats.intervals"} <= names


@pytest.mark.parametrize("path", ENGINES, ids=lambda p: _module_name(p))
def test_engines_import_only_engines_and_errors(path):
    allowed = ("dryneedle_outcomes.stats", "dryneedle_outcomes.errors")
    bad = sorted(m for m in _imports(path)
                 if _existing(m) and not _is_under(m, allowed) and m != "dryneedle_outcomes")
    assert not bad, f"{_module_name(path)} imports {bad}: engines may import only stats/ and errors"


ANALYSES = [p for folder in ("models", "survival", "harms", "responders", "baseline_table",
                             "cohort", "load", "normalize", "io", "plots", "tables",
                             "estimands")
            for p in _modules(folder)]


@pytest.mark.parametrize("path", ANALYSES, ids=lambda p: _module_name(p))
def test_analyses_and_loaders_never_import_the_cli_or_the_report(path):
    forbidden = ("dryneedle_outcomes.cli", "dryneedle_outcomes.report",
                 "dryneedle_outcomes.outdir")
    bad = sorted(m for m in _imports(path) if _is_under(m, forbidden))
    assert not bad, f"{_module_name(path)} imports {bad}"


LOADERS = [p for folder in ("io", "normalize", "load") for p in _modules(folder)]


@pytest.mark.parametrize("path", LOADERS, ids=lambda p: _module_name(p))
def test_loaders_never_fit_models(path):
    forbidden = ("dryneedle_outcomes.stats", "dryneedle_outcomes.models",
                 "dryneedle_outcomes.survival", "dryneedle_outcomes.harms",
                 "dryneedle_outcomes.responders", "dryneedle_outcomes.baseline_table")
    bad = sorted(m for m in _imports(path) if _is_under(m, forbidden))
    assert not bad, f"{_module_name(path)} imports {bad}: loaders never fit models"


def test_the_import_reader_sees_relative_imports():
    """The rule above can fail: the reader resolves ``from ...errors import`` correctly."""
    cox = PACKAGE / "stats" / "survival" / "cox.py"
    assert "dryneedle_outcomes.errors" in _imports(cox)
    trajectory = PACKAGE / "models" / "trajectory.py"
    assert "dryneedle_outcomes.stats.mixed.mmrm" in _imports(trajectory)


# io/ is one module per format family under one dispatcher (io/readers.py): the family
# readers and what they share never import the dispatcher, so it stays the only place
# that knows every format. io/redcap.py is a layer above: it reads through read_table.
IO_FAMILIES = [p for p in _modules("io") if p.name not in ("readers.py", "__init__.py",
                                                           "redcap.py")]


def test_there_are_io_families_to_check():
    names = {p.stem for p in IO_FAMILIES}
    assert {"raw_table", "delimited", "xlsx", "columnar"} <= names


@pytest.mark.parametrize("path", IO_FAMILIES, ids=lambda p: _module_name(p))
def test_io_format_families_never_import_the_dispatcher(path):
    bad = sorted(m for m in _imports(path) if _is_under(m, ("dryneedle_outcomes.io.readers",)))
    assert not bad, f"{_module_name(path)} imports {bad}: only read_table dispatches formats"


# normalize/vocabulary/ is one vocabulary per module over one shared matcher: a
# vocabulary imports only the matcher and errors, never another vocabulary or the rest
# of the loader.
VOCABULARIES = [p for p in _modules("normalize/vocabulary") if p.name != "__init__.py"]


@pytest.mark.parametrize("path", VOCABULARIES, ids=lambda p: _module_name(p))
def test_vocabularies_import_only_the_matcher_and_errors(path):
    allowed = ("dryneedle_outcomes.errors", "dryneedle_outcomes.normalize.vocabulary.matcher")
    bad = sorted(m for m in _imports(path) if _existing(m) and not _is_under(m, allowed))
    assert not bad, f"{_module_name(path)} imports {bad}: vocabularies share only the matcher"


def test_the_vocabulary_rule_can_fail():
    """The vocabularies seen are the expected ones and their matcher import is read."""
    assert {p.stem for p in VOCABULARIES} >= {"matcher", "ae_terms", "severity", "yes_no",
                                             "muscles"}
    muscles = PACKAGE / "normalize" / "vocabulary" / "muscles.py"
    assert "dryneedle_outcomes.normalize.vocabulary.matcher" in _imports(muscles)


ALL_MODULES = sorted(PACKAGE.rglob("*.py"))


def _private_imports(path: Path) -> list[str]:
    """``from <our module> import _name`` in ``path`` (a private name of another module)."""
    bad = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and (node.level or (node.module or "").startswith(
                "dryneedle_outcomes")):
            bad += [f"{'.' * node.level}{node.module or ''}.{a.name}" for a in node.names
                    if a.name.startswith("_") and not a.name.startswith("__")]
    return bad


@pytest.mark.parametrize("path", ALL_MODULES, ids=lambda p: _module_name(p))
def test_no_module_imports_a_private_name_of_another(path):
    """A name another module needs is part of its module's interface: no underscore."""
    bad = _private_imports(path)
    assert not bad, f"{_module_name(path)} imports private names {bad}"
