"""What a user must see before any number: contradicted scales and failed analyses.

A declared scale that the data contradict (the ledger flag ``implausible_scale``: e.g.
``mm`` declared while the values all lie within 0-10) makes every result on that
outcome wrong by a factor, so it is never only counted: the command line prints it
(even with ``--quiet``), ``warnings.txt`` lists it, ``report.html`` opens with a banner
and ``validate`` exits 1. An analysis that could not run is listed the same way.

Examples
--------
>>> import pandas as pd
>>> from dryneedle_outcomes.quality import PROBLEM_COLUMNS
>>> flags = pd.DataFrame([["assessments", "visits.csv", 2, "first_step_pain", None,
...                        "implausible_scale", "95% of the 40 values ... lie within 0-10"]],
...                      columns=list(PROBLEM_COLUMNS))
>>> scale_alerts(flags)
['implausible scale (visits.csv row 2, column first_step_pain): 95% of the 40 values ...']
"""

from __future__ import annotations

import pandas as pd

#: The ledger rule of a declared scale that the data contradict.
SCALE_RULE = "implausible_scale"


def _where(row) -> str:
    parts = [str(row.source or row.table)]
    if pd.notna(row.row):
        parts.append(f"row {int(row.row)}")
    where = " ".join(parts)
    return f"{where}, column {row.column}" if pd.notna(row.column) and row.column else where


def scale_alerts(flags: pd.DataFrame) -> list[str]:
    """One line per ``implausible_scale`` flag of the ledger's ``flags`` table."""
    rows = flags[flags["rule"] == SCALE_RULE]
    return [f"implausible scale ({_where(r)}): {r.message}" for r in rows.itertuples()]


def failure_alerts(sections) -> list[str]:
    """One line per analysis (or model, timescale) that could not run."""
    return [line for s in sections for line in s.failures]


def flag_listing(flags: pd.DataFrame) -> str:
    """The flags row by row as text (file, row, column, value, rule, message)."""
    if not len(flags):
        return "No flags."
    shown = flags[["table", "source", "row", "column", "value", "rule", "message"]]
    return shown.to_string(index=False)
