"""Problems the user must see at load time, not only as a count in the ledger.

* ``implausible_scale`` (a declared scale the data contradict, e.g. ``mm`` declared
  and every value within 0-10): an error with ``errors="raise"``; with
  ``errors="quarantine"`` a flag *and* an
  :class:`~dryneedle_outcomes.errors.ImplausibleScaleWarning`.
* a column most of whose values one rule rejected (the scale declared ``cm`` for
  values in mm, a wrong decimal mark or date convention): one
  :class:`~dryneedle_outcomes.errors.MostlyRejectedWarning` line per column and
  rule, naming the column, how many of how many rows, the rule and the probable
  cause, issued before any analysis runs (and listed on top of the error with
  ``errors="raise"``).
"""

from __future__ import annotations

import pandas as pd

from .records import Records

#: Share of a table's records above which a column's rejections are "most".
MOSTLY = 0.5
#: Fewer rejections than this never make a "most of the column" warning.
MIN_REJECTED = 5

_CAUSES = {
    "out_of_range": "the declared scale does not fit the values (e.g. 'cm' declared for "
                    "values in mm): check the scale of this column in the mapping",
    "not_a_number": "the column holds text, or numbers with another decimal mark: check "
                    "the column named in the mapping and its decimal setting",
    "invalid_date": "the date convention does not fit the dates: check date_convention in "
                    "the mapping",
    "unknown_code": "the codes declared in the mapping do not match the values",
    "unknown_patient": "the IDs are written differently in the two files, or the patients "
                       "file is not the right one",
    "not_a_boolean": "the yes/no codes declared in the mapping do not match the values",
    "invalid_soreness": "the soreness column holds something other than durations",
}


def implausible_scale_flags(flags: pd.DataFrame) -> pd.DataFrame:
    """The ``implausible_scale`` entries of a flags table."""
    return flags[flags["rule"] == "implausible_scale"]


def scale_warning_text(flag: dict) -> str:
    """One line for the console: file, row, column, rule and the message."""
    return (f"{flag['source']}, column {flag['column']!r}: [implausible_scale] "
            f"{flag['message']}")


def mostly_rejected(records: list[Records]) -> list[str]:
    """One line per (table, column, rule) that rejected most of a table's records."""
    lines = []
    for rec in records:
        n_total = len(rec)
        probs = rec.problems()
        if not n_total or not len(probs):
            continue
        probs = probs.assign(column=probs["column"].astype(str))
        per = probs.drop_duplicates(["column", "rule", "_pos"]).groupby(
            ["column", "rule", "scope"], sort=False).agg(
                n=("_pos", "size"),
                examples=("value", lambda v: ", ".join(map(repr, pd.unique(v)[:3]))))
        for (column, rule, scope), row in per.iterrows():
            if row["n"] < MIN_REJECTED or row["n"] <= MOSTLY * n_total:
                continue
            cause = _CAUSES.get(rule, "check the mapping for this column")
            what = "rows rejected" if scope == "row" else "values rejected (left missing)"
            lines.append(
                f"{rec.source}, column {column!r}: {row['n']} of {n_total} {what} "
                f"by rule {rule} (values such as {row['examples']}); "
                f"probable cause: {cause}."
            )
    return lines
