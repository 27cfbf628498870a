"""Shared by the command-line tests: run ``main`` in-process and capture its output."""

from __future__ import annotations

import contextlib
import io

from dryneedle_outcomes.cli import main


def run_cli(argv) -> tuple[int, str, str]:
    """``main(argv)`` (paths allowed in ``argv``) -> (exit code, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main([str(a) for a in argv])
    return code, out.getvalue(), err.getvalue()
