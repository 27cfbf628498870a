"""The records of one table on their way from raw to canonical, with their ledger.

:class:`Records` holds the canonical columns built so far, where each record came
from (file, row, source column) and everything the loaders noticed: rejections,
corrections and flags. All checks are vectorised: a rule is a boolean mask over
records, never a loop over rows.

Row or cell
-----------
A broken rule in an *identity* column (``row_columns``: the patient, the visit,
its date, the arm...) sets the whole record aside: ``scope = "row"``, counted in
``rejected``. A broken rule in any other column (an outcome, soreness, a
demographic) sets aside only that value: the caller leaves the cell missing, the
ledger lists the problem with ``scope = "cell"``, and the record is kept (counted
in ``kept``), so that one unreadable secondary value never throws away the
record's other outcomes.

Set aside before validation
---------------------------
Source rows that never become records (blank rows, ragged lines, repeated header
lines) are in ``set_aside``: counted in ``read`` and ``rejected`` and listed with
their rule, so that rows in the file = rows read = kept + rejected.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..quality import CORRECTION_COLUMNS, PROBLEM_COLUMNS, REJECTED_COLUMNS, concat_frames

#: Rules whose records ``errors="raise"`` does not raise for: nothing is lost by them.
NON_FATAL_RULES = frozenset({"exact_duplicate", "blank_record", "no_visit_values"})


def _as_text(values: pd.Series) -> pd.Series:
    """Values as text for messages: missing -> '<missing>'."""
    out = values.astype(object).where(values.notna(), "<missing>")
    return out.astype(str)


@dataclass
class Records:
    """Working state of one table during loading.

    Parameters
    ----------
    table : str
        Canonical table name.
    source : str
        File path or ``<DataFrame:...>``.
    raw : pandas.DataFrame
        The raw frame as read (used to report rejected rows as they were).
    raw_pos : numpy.ndarray
        Position in ``raw`` of each record (several records share one raw row in
        wide layouts).
    row_numbers : numpy.ndarray
        Row number in the source file of each record.
    data : pandas.DataFrame
        Canonical columns built so far, one row per record (RangeIndex).
    source_columns : dict
        Canonical column -> source column name, either a str or a Series per record
        (wide layouts, where the source column differs by visit).
    row_columns : frozenset or None
        Identity columns: a problem there rejects the record; elsewhere only the
        cell. None (the default) treats every column as identity.
    set_aside : pandas.DataFrame or None
        Source rows that are not records (``REJECTED_COLUMNS`` without ``scope``).
    """

    table: str
    source: str
    raw: pd.DataFrame
    raw_pos: np.ndarray
    row_numbers: np.ndarray
    data: pd.DataFrame
    source_columns: dict[str, str | pd.Series] = field(default_factory=dict)
    source_rows: int = 0
    extras: pd.DataFrame | None = None
    row_columns: frozenset[str] | None = None
    set_aside: pd.DataFrame | None = None
    column_ledger: pd.DataFrame | None = None
    _problems: list[pd.DataFrame] = field(default_factory=list)
    _flags: list[pd.DataFrame] = field(default_factory=list)
    _corrections: list[pd.DataFrame] = field(default_factory=list)
    rejected_mask: np.ndarray | None = None

    def __post_init__(self) -> None:
        if self.rejected_mask is None:
            self.rejected_mask = np.zeros(len(self.data), dtype=bool)

    def __len__(self) -> int:
        return len(self.data)

    # ------------------------------------------------------------------ helpers
    def source_column(self, canonical: str, idx: np.ndarray) -> pd.Series | str:
        col = self.source_columns.get(canonical, canonical)
        if isinstance(col, pd.Series):
            return col.to_numpy()[idx]
        return col

    def _entries(self, mask, column: str, rule: str, message: str, values,
                 scope: str = "row") -> pd.DataFrame:
        mask = np.asarray(mask, dtype=bool)
        idx = np.flatnonzero(mask)
        if values is None:
            values = self.data[column] if column in self.data else pd.Series([None] * len(self))
        vals = pd.Series(np.asarray(values, dtype=object)[idx] if len(idx) else [], dtype=object)
        text = _as_text(vals).to_numpy(dtype=object)
        if not isinstance(message, str):
            msgs = np.asarray(message, dtype=object)[idx]
        elif "{value}" in message:
            head, _, tail = message.partition("{value}")
            msgs = (head + pd.Series(text, dtype=object) + tail).to_numpy(dtype=object)
        else:
            msgs = np.full(len(idx), message, dtype=object)
        return pd.DataFrame(
            {
                "table": self.table,
                "source": self.source,
                "row": self.row_numbers[idx],
                "column": self.source_column(column, idx),
                "value": text,
                "rule": rule,
                "message": msgs,
                "scope": scope,
                "_pos": idx,
            }
        )

    # ------------------------------------------------------------------ ledger
    def scope_of(self, column: str) -> str:
        """``"row"`` when a problem in ``column`` rejects the record, else ``"cell"``."""
        if self.row_columns is None or column in self.row_columns:
            return "row"
        return "cell"

    def reject(self, mask, column: str, rule: str, message, values=None,
               scope: str | None = None) -> None:
        """Set aside the records (or only their ``column`` value) where ``mask`` is true.

        ``message`` is a str in which ``{value}`` is replaced by each record's value,
        or an array of one message per record. ``scope`` is ``"row"`` or ``"cell"``;
        by default :meth:`scope_of` the column. For a cell the caller leaves the value
        missing; the record stays kept.
        """
        mask = np.asarray(mask, dtype=bool)
        if not mask.any():
            return
        scope = scope or self.scope_of(column)
        self._problems.append(self._entries(mask, column, rule, message, values, scope))
        if scope == "row":
            self.rejected_mask |= mask

    def flag(self, mask, column: str, rule: str, message: str, values=None) -> None:
        """Keep the records where ``mask`` is true but list them as worth a look."""
        mask = np.asarray(mask, dtype=bool)
        if not mask.any():
            return
        self._flags.append(self._entries(mask, column, rule, message, values))

    def correct_rows(self, mask, column: str, old, new, action: str) -> None:
        """Record a per-row correction for the records where ``mask`` is true."""
        mask = np.asarray(mask, dtype=bool)
        idx = np.flatnonzero(mask)
        if not len(idx):
            return
        self._corrections.append(
            pd.DataFrame(
                {
                    "table": self.table,
                    "source": self.source,
                    "row": self.row_numbers[idx],
                    "column": self.source_column(column, idx),
                    "old": np.asarray(old, dtype=object)[idx],
                    "new": np.asarray(new, dtype=object)[idx],
                    "action": action,
                    "n_rows": 1,
                }
            )
        )

    def correct_column(self, column: str, old, new, action: str, n_rows: int) -> None:
        """Record one correction applied to ``n_rows`` rows of a whole column."""
        if n_rows <= 0:
            return
        src = self.source_columns.get(column, column)
        if isinstance(src, pd.Series):
            src = column
        self._corrections.append(
            pd.DataFrame(
                [{
                    "table": self.table, "source": self.source, "row": pd.NA, "column": src,
                    "old": old, "new": new, "action": action, "n_rows": int(n_rows),
                }]
            )
        )

    def add_corrections(self, frame: pd.DataFrame) -> None:
        """Add corrections made elsewhere (e.g. by the reader)."""
        if len(frame):
            frame = frame.copy()
            if "n_rows" not in frame:
                frame["n_rows"] = 1
            self._corrections.append(frame)

    # ------------------------------------------------------------------ results
    @property
    def kept_mask(self) -> np.ndarray:
        return ~self.rejected_mask

    def problems(self) -> pd.DataFrame:
        """Every rejection so far, with ``scope`` and ``_pos`` (record position)."""
        return concat_frames(self._problems, PROBLEM_COLUMNS + ("scope", "_pos"))

    def fatal_problems(self) -> pd.DataFrame:
        """Rejections that make ``errors='raise'`` raise (all but :data:`NON_FATAL_RULES`)."""
        probs = concat_frames([self.problems(), self._set_aside()],
                              PROBLEM_COLUMNS + ("scope", "_pos"))
        return probs[~probs["rule"].isin(NON_FATAL_RULES)]

    def _set_aside(self) -> pd.DataFrame:
        if self.set_aside is None or not len(self.set_aside):
            return pd.DataFrame(columns=list(REJECTED_COLUMNS))
        return self.set_aside.assign(table=self.table, source=self.source, scope="row")

    def flags(self) -> pd.DataFrame:
        return concat_frames(self._flags, PROBLEM_COLUMNS).drop(columns=[], errors="ignore")

    def corrections(self) -> pd.DataFrame:
        return concat_frames(self._corrections, CORRECTION_COLUMNS)

    def rejected_with_raw(self) -> pd.DataFrame:
        """Rejections with the raw record attached as a dict of text."""
        probs = self.problems()
        if len(probs):
            pos = probs["_pos"].to_numpy(dtype=np.int64)
            raw_rows = self.raw.iloc[self.raw_pos[pos]]
            raw_text = raw_rows.astype(object).where(raw_rows.notna(), None)
            probs["raw"] = raw_text.to_dict("records")
        probs = probs.drop(columns=["_pos"])
        return concat_frames([self._set_aside(), probs], REJECTED_COLUMNS)

    def kept(self, columns: list[str] | None = None,
             order: np.ndarray | None = None) -> pd.DataFrame:
        """Kept records, optionally only ``columns`` and in ``order`` (kept positions).

        One copy of the data, whatever is asked.
        """
        return pd.DataFrame(self.kept_arrays(columns, order), copy=False)

    def kept_arrays(self, columns: list[str] | None = None,
                    order: np.ndarray | None = None) -> dict:
        """The columns of :meth:`kept` as a dict of arrays, to convert before framing.

        A frame built once from whole arrays skips the block copies of a frame
        sliced and then changed column by column.
        """
        positions = np.flatnonzero(self.kept_mask) if order is None else order
        cols = list(self.data.columns) if columns is None else columns
        return {c: self.data[c].array.take(positions) for c in cols}

    def counts(self) -> dict:
        n_aside = 0 if self.set_aside is None else len(self.set_aside)
        return {
            "table": self.table,
            "source": self.source,
            "source_rows": int(self.source_rows),
            "read": int(len(self)) + n_aside,
            "kept": int(self.kept_mask.sum()),
            "rejected": int(self.rejected_mask.sum()) + n_aside,
        }
