"""The "Notes:" and "Warnings:" blocks that end the survival results' ``summary()``.

(Their notebook display is :class:`~dryneedle_outcomes.results.AnalysisResult`'s, built
from ``tables()``.)

Examples
--------
>>> from dryneedle_outcomes.survival.render import trailer_lines
>>> trailer_lines(["a note"], [])
['', 'Notes:', '  - a note']
"""

from __future__ import annotations


def trailer_lines(notes, warnings) -> list[str]:
    """The "Notes:" and "Warnings:" blocks that end a plain-text summary."""
    lines: list[str] = []
    if notes:
        lines += ["", "Notes:"] + [f"  - {n}" for n in notes]
    if warnings:
        lines += ["", "Warnings:"] + [f"  - {w}" for w in warnings]
    return lines
