"""The scripts kept beside the outside references (tests/reference/<topic>/*.py).

pytest imports every one of them to collect its doctests, under its file name as the
module name (the folders are not packages): two scripts with the same file name make
the whole collection fail ("import file mismatch"), and a script that writes its files
at import time would rewrite a committed reference during a test run.
"""

from __future__ import annotations

import ast
from collections import Counter
from pathlib import Path

REFERENCE = Path(__file__).parent / "reference"
SCRIPTS = sorted(REFERENCE.rglob("*.py"))


def test_there_are_reference_scripts():
    assert len(SCRIPTS) > 10


def test_reference_scripts_have_unique_file_names():
    counts = Counter(p.name for p in SCRIPTS)
    assert [name for name, n in counts.items() if n > 1] == []


def _writes(node: ast.AST) -> bool:
    """A call of a method that writes a file (DataFrame.to_csv, Path.write_text, ...)."""
    return any(isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute)
               and n.func.attr in {"to_csv", "write_text", "write_bytes", "to_excel",
                                   "to_json", "to_parquet", "savefig"}
               for n in ast.walk(node))


def test_reference_scripts_write_only_when_run_as_scripts():
    """No file write at module level: writes live in functions or under __main__."""
    offenders = []
    for path in SCRIPTS:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for stmt in tree.body:
            if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                continue
            if isinstance(stmt, ast.If) and "__main__" in ast.unparse(stmt.test):
                continue
            if _writes(stmt):
                offenders.append(f"{path.relative_to(REFERENCE)}:{stmt.lineno}")
    assert offenders == []
