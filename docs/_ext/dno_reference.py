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

from docutils import nodes
from docutils.statemachine import StringList
from sphinx.util.docutils import SphinxDirective
from sphinx.util.nodes import nested_parse_with_titles

KEYS = ("table", "key", "type", "default", "allowed", "required", "description")
SOURCES = {"config": "dryneedle_outcomes.config", "mapping": "dryneedle_outcomes.mapping"}


def _literal(value) -> str:
    """A value as TOML would spell it, in inline code (an em dash when there is none)."""
    if value is None or value == "" or value == () or value == []:
        return "—"
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, str):
        text = f'"{value}"'
    elif isinstance(value, (list, tuple)):
        return ", ".join(_literal(v) for v in value)
    else:
        text = str(value)
    return f"``{text}``" if "`" not in text else text


def _type(value) -> str:
    if value is None or value == "":
        return "—"
    return f"``{value}``" if isinstance(value, str) and "`" not in value else str(value)


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
            description = " ".join(str(row["description"] or "—").split())
            lines += [f"   * - ``{row['key']}``",
                      f"     - {_type(row['type'])}",
                      f"     - {_literal(row['default'])}",
                      f"     - {_literal(row['allowed'])}",
                      f"     - {'yes' if row['required'] else 'no'}",
                      f"     - {description}"]
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
