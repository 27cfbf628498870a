"""Text and HTML pieces shared by the survival results' ``summary()`` and notebook display.

Examples
--------
>>> import pandas as pd
>>> from dryneedle_outcomes.survival.render import html_table, trailer_lines
>>> html_table(pd.DataFrame({"estimate": [1.23456]})).count("1.23")
1
>>> trailer_lines(["a note"], [])
['', 'Notes:', '  - a note']
"""

from __future__ import annotations

import html

import pandas as pd


def html_table(frame: pd.DataFrame) -> str:
    """A result table as borderless HTML with three significant digits."""
    return frame.to_html(index=False, float_format=lambda v: f"{v:.3g}", border=0)


def trailer_lines(notes, warnings) -> list[str]:
    """The "Notes:" and "Warnings:" blocks that end a plain-text summary."""
    lines: list[str] = []
    if notes:
        lines += ["", "Notes:"] + [f"  - {n}" for n in notes]
    if warnings:
        lines += ["", "Warnings:"] + [f"  - {w}" for w in warnings]
    return lines


def html_warnings(warnings) -> str:
    """Warnings as an HTML list ("" when there are none)."""
    if not warnings:
        return ""
    return ("<p><b>Warnings</b></p><ul>"
            + "".join(f"<li>{html.escape(w)}</li>" for w in warnings) + "</ul>")
