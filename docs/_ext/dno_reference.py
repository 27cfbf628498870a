"""Sphinx extension: the configuration and mapping reference, generated from the schema.

``.. dno-reference:: config`` (or ``mapping``) calls
``dryneedle_outcomes.<config|mapping>.reference_rows()``, the schema's own description
of every key (dicts with ``table``, ``key``, ``type``, ``default``, ``allowed``,
``required``, ``description``), and renders one section per TOML table with one row per
key. The page is therefore what the validator enforces; it cannot drift from it.
"""

from __future__ import annotations

import importlib
import inspect
import re

from docutils import nodes
from docutils.statemachine import StringList
from sphinx.util.docutils import SphinxDirective
from sphinx.util.nodes import nested_parse_with_titles

KEYS = ("table", "key", "type", "default", "allowed", "required", "description")
SOURCES = {"config": "dryneedle_outcomes.config", "mapping": "dryneedle_outcomes.mapping"}


def _escape(text) -> str:
    """Plain text for reStructuredText (no markup is read from the schema's words)."""
    text = " ".join(str(text).split())
    return re.sub(r"([\\`*_|\[\]<>])", r"\\\1", text) if text else "—"


def _toml(value) -> str:
    """A default as TOML spells it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k} = {_toml(v)}" for k, v in value.items()) + "}"
    return str(value)


def _default(value) -> str:
    """The default in inline code, or an em dash when the key has none."""
    if value is None:
        return "—"
    text = _toml(value)
    return f"``{text}``" if "`" not in text else _escape(text)


def rows_of(which: str) -> list[dict]:
    """The schema's rows, checked for the documented keys."""
    module = importlib.import_module(SOURCES[which])
    rows = module.reference_rows()
    for row in rows:
        missing = set(KEYS) - set(row)
        if missing:
            raise ValueError(f"{SOURCES[which]}.reference_rows(): a row without "
                             f"{sorted(missing)}: {row}")
    return rows


def rst_of(which: str) -> list[str]:
    """reStructuredText: one section per table, one list-table row per key."""
    lines: list[str] = []
    tables: dict[str, list[dict]] = {}
    for row in rows_of(which):
        tables.setdefault(row["table"] or "(top level)", []).append(row)
    for table, rows in tables.items():
        title = f"[{table}]" if not table.startswith("(") else table
        lines += [title, "~" * (len(title) + 4), "",
                  ".. list-table::", "   :header-rows: 1", "   :widths: 16 12 12 20 8 32",
                  "   :class: dno-reference", "",
                  "   * - key", "     - type", "     - default", "     - allowed",
                  "     - required", "     - description"]
        for row in rows:
            lines += [f"   * - ``{row['key']}``",
                      f"     - {_escape(row['type'] or '')}",
                      f"     - {_default(row['default'])}",
                      f"     - {_escape(row['allowed'] or '')}",
                      f"     - {'yes' if row['required'] else 'no'}",
                      f"     - {_escape(row['description'] or '')}"]
        lines.append("")
    return lines


class Reference(SphinxDirective):
    """``.. dno-reference:: config`` or ``.. dno-reference:: mapping``."""

    required_arguments = 1

    def run(self):
        which = self.arguments[0]
        if which not in SOURCES:
            raise self.error(f"dno-reference: expected one of {sorted(SOURCES)}, got {which!r}")
        module = importlib.import_module(SOURCES[which])
        self.env.note_dependency(inspect.getfile(module))
        container = nodes.section()
        container.document = self.state.document
        nested_parse_with_titles(self.state, StringList(rst_of(which), source=SOURCES[which]),
                                 container)
        return container.children


def setup(app):
    """Register the directive."""
    app.add_directive("dno-reference", Reference)
    return {"parallel_read_safe": True, "parallel_write_safe": True, "version": "1"}
