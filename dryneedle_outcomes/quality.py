"""The quality ledger: every row read is either kept or rejected, with a reason.

The ledger is built by the loaders and attached to the cohort as
``Cohort.quality``. It has five tables:

``counts``
    One row per input table: ``table``, ``source``, ``source_rows`` (rows in the
    file; differs from ``read`` only for wide layouts, where one source row holds
    several visits), ``read`` (records entering validation), ``kept`` and
    ``rejected``. ``read == kept + rejected`` always holds, and ``kept`` equals
    the number of rows of the canonical table.
``rejected``
    One row per problem that set a record, or one value of it, aside: ``table``,
    ``source``, ``row`` (as a person finds it in the file: the header is row 1),
    ``column``, ``value``, ``rule``, ``message``, ``scope`` and ``raw`` (the raw
    record as a dict of text). A record with two problems appears twice; it counts
    once. ``scope`` says what was set aside:

    * ``"row"``: the whole record (a problem with its identity: patient, visit,
      date, arm, a duplicate; or a blank row, ragged line or repeated header line,
      which never became a record). Counted in ``rejected``.
    * ``"cell"``: only that value, left missing; the record is kept (counted in
      ``kept``) with its other values, so that e.g. an unreadable soreness report
      does not throw away the visit's pain score.

    ``errors="raise"`` raises for every entry except the rules ``exact_duplicate``
    and ``blank_record`` (nothing is lost by them).
``corrections``
    Every change made to a value on the way in: ``table``, ``source``, ``row``
    (missing for a change applied to a whole column), ``column``, ``old``,
    ``new``, ``action`` and ``n_rows`` (how many rows it touched).
``flags``
    Records kept but worth a look (protocol deviations, IDs that differ only by
    case, unmatched free text, an implausible declared scale): same columns as
    ``rejected`` without ``scope`` and ``raw``.
``columns``
    Every source column and what became of it: ``table``, ``source``,
    ``source_column``, ``column`` (its name in the canonical table) and ``action``:
    ``"mapped"`` to a canonical column, or ``"carried"``: a column the mapping does
    not name travels with its rows under its own name (``unmapped_<name>`` when
    that name is a canonical column mapped from another source column).

Examples
--------
>>> import dryneedle_outcomes as dno
>>> import pandas as pd
>>> pts = pd.DataFrame({"patient_id": ["P1"], "arm": ["sham"]})
>>> visits = pd.DataFrame({"patient_id": ["P1", "P1"], "visit": [0, 1],
...                        "first_step_pain": [70.0, 150.0]})
>>> cohort = dno.load_cohort(visits, pts, errors="quarantine")
>>> cohort.quality.counts[["table", "read", "kept", "rejected"]]
         table  read  kept  rejected
0     patients     1     1         0
1  assessments     2     2         0
>>> cohort.quality.rejected[["table", "row", "column", "rule", "scope"]]
         table  row           column          rule scope
0  assessments    3  first_step_pain  out_of_range  cell
>>> cohort.assessments["first_step_pain"].tolist()
[70.0, nan]
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from .export_safety import neutralise_formulas  # noqa: F401  (kept here for old imports)
from .tables import frame_html

COUNT_COLUMNS = ("table", "source", "source_rows", "read", "kept", "rejected")
PROBLEM_COLUMNS = ("table", "source", "row", "column", "value", "rule", "message")
REJECTED_COLUMNS = PROBLEM_COLUMNS + ("scope", "raw")
COLUMN_LEDGER_COLUMNS = ("table", "source", "source_column", "column", "action")
CORRECTION_COLUMNS = ("table", "source", "row", "column", "old", "new", "action", "n_rows")


def empty_frame(columns: tuple[str, ...]) -> pd.DataFrame:
    """An empty DataFrame with ``columns`` (object dtype)."""
    return pd.DataFrame({c: pd.Series(dtype="object") for c in columns})


def concat_frames(frames: list[pd.DataFrame], columns: tuple[str, ...]) -> pd.DataFrame:
    """Concatenate ledger pieces into one frame with exactly ``columns``."""
    frames = [f for f in frames if len(f)]
    if not frames:
        return empty_frame(columns)
    out = pd.concat([f.reindex(columns=list(columns)).astype(object) for f in frames],
                    ignore_index=True)
    if "row" in out:
        out["row"] = pd.array(pd.to_numeric(out["row"], errors="coerce"), dtype="Int64")
    return out


@dataclass(frozen=True)
class QualityLedger:
    """Accounting of every input row; see the module docstring."""

    counts: pd.DataFrame
    rejected: pd.DataFrame
    corrections: pd.DataFrame
    flags: pd.DataFrame
    columns: pd.DataFrame = field(default_factory=lambda: empty_frame(COLUMN_LEDGER_COLUMNS))

    @property
    def balanced(self) -> bool:
        """True when ``read == kept + rejected`` for every table."""
        c = self.counts
        return bool((c["read"] == c["kept"] + c["rejected"]).all())

    def rules(self) -> pd.DataFrame:
        """Count of rejected records, corrections and flags by table and rule/action."""
        parts = []
        if len(self.rejected):
            rej = self.rejected
            cell = (rej["scope"] == "cell").to_numpy() if "scope" in rej else False
            # rows count once per rule; cells once per column and rule
            rows = rej.loc[~cell].drop_duplicates(["table", "source", "row", "rule"])
            cells = rej.loc[cell].drop_duplicates(["table", "source", "row", "column", "rule"])
            for kind, part in (("rejected", rows), ("rejected_cell", cells)):
                if len(part):
                    parts.append(part.groupby(["table", "rule"]).size().rename("n")
                                 .reset_index().assign(kind=kind))
        if len(self.flags):
            parts.append(self.flags.groupby(["table", "rule"]).size().rename("n").reset_index()
                         .assign(kind="flag"))
        if len(self.corrections):
            parts.append(self.corrections.groupby(["table", "action"])["n_rows"].sum()
                         .rename("n").reset_index().rename(columns={"action": "rule"})
                         .assign(kind="correction"))
        if not parts:
            return empty_frame(("kind", "table", "rule", "n"))
        return pd.concat(parts, ignore_index=True)[["kind", "table", "rule", "n"]]

    def summary(self) -> str:
        """A plain-text account of the ledger."""
        lines = ["Quality ledger"]
        counts = self.counts.copy()
        lines.append(counts.to_string(index=False))
        lines.append(
            "read = kept + rejected for every table: " + ("yes" if self.balanced else "NO")
        )
        rules = self.rules()
        if len(rules):
            lines.append("")
            lines.append(rules.to_string(index=False))
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()

    def _repr_html_(self) -> str:
        rules = self.rules()
        body = [
            "<div><strong>Quality ledger</strong>",
            frame_html(self.counts),
        ]
        if len(rules):
            body.append(frame_html(rules))
        if len(self.rejected):
            shown = self.rejected.drop(columns=["raw"]).head(20)
            body.append(f"<p>Rejected (first {len(shown)} of {len(self.rejected)}):</p>")
            body.append(frame_html(shown))
        body.append(
            "<p>read = kept + rejected for every table: "
            + html.escape("yes" if self.balanced else "NO")
            + "</p></div>"
        )
        return "\n".join(body)

    def write(self, directory: str | Path) -> dict[str, Path]:
        """Write the five tables as CSV into ``directory``; return the paths.

        Text cells that a spreadsheet would run as a formula (starting with ``=``,
        ``+``, ``-`` or ``@``) are written with a leading apostrophe.
        """
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        paths = {}
        for name in ("counts", "rejected", "corrections", "flags", "columns"):
            frame = getattr(self, name)
            path = directory / f"{name}.csv"
            neutralise_formulas(frame).to_csv(path, index=False)
            paths[name] = path
        return paths
