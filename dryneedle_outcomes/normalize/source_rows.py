"""Account for every source row and column before the values are validated.

Rows
    Blank rows and ragged lines found by the reader (``RawTable.set_aside``) and
    lines that repeat the header (two exports appended into one file) do not become
    records, nor do rows of a wide file without a value in any visit column. They are
    set aside with their rule (``blank_record``, ``ragged_line``, ``repeated_header``,
    ``no_visit_values``), counted in ``read`` and ``rejected``, and listed in the
    ledger with their row number, so that rows in the file = rows read.
Columns
    Source columns the mapping does not name are *carried*: they travel with their
    rows into the canonical table under their own name, or as ``unmapped_<name>``
    when that name is a canonical column mapped from another source column. The
    ledger's ``columns`` table lists, per table, every source column and what
    happened to it (``mapped`` to a canonical column, or ``carried``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..io.raw_table import RawTable

#: Identity columns per table: a problem in one of them rejects the whole record;
#: a problem in any other column rejects only that value (see ``Records``). In the
#: assessments ``site`` is identity because it selects the declared scale.
ROW_COLUMNS: dict[str, frozenset[str]] = {
    "assessments": frozenset({"patient_id", "visit", "date", "day", "arm", "site", "timing"}),
    "patients": frozenset({"patient_id", "arm"}),
    "adverse_events": frozenset({"patient_id", "visit", "term", "verbatim"}),
    "intercurrent_events": frozenset({"patient_id", "visit", "event"}),
}

#: Prefix of a carried column whose name is a canonical column mapped from elsewhere.
CARRIED_PREFIX = "unmapped_"

COLUMN_LEDGER_COLUMNS = ("table", "source", "source_column", "column", "action")


def repeated_header_mask(frame: pd.DataFrame) -> np.ndarray:
    """Rows whose text cells repeat their column names (at least half the columns, two or more).

    Examples
    --------
    >>> frame = pd.DataFrame({"id": ["P1", "id", "P2"], "pain": ["5", "pain", "6"]})
    >>> repeated_header_mask(frame).tolist()
    [False, True, False]
    """
    n = len(frame)
    need = max(2, (frame.shape[1] + 1) // 2) if frame.shape[1] > 1 else 1
    texts = [name for name in frame.columns
             if isinstance(name, str) and frame[name].dtype == object]
    # A qualifying row has at most need - 1 hits outside any k - need + 1 of the k text
    # columns, so it has a hit among the first k - need + 1: compare those over every
    # row and the rest only on the rows they select. Typed (numeric) columns cannot
    # hold a header, so the usual file is settled without comparing anything.
    if len(texts) < need:
        return np.zeros(n, dtype=bool)
    first = len(texts) - need + 1
    candidate = np.zeros(n, dtype=bool)
    for name in texts[:first]:
        candidate |= (frame[name] == name).to_numpy(dtype=bool, na_value=False)
    if not candidate.any():
        return candidate
    rows = np.flatnonzero(candidate)
    sub = frame.iloc[rows]
    hits = np.zeros(len(rows), dtype=np.int64)
    for name in texts:
        hits += (sub[name] == name).to_numpy(dtype=bool, na_value=False)
    out = np.zeros(n, dtype=bool)
    out[rows] = hits >= need
    return out


_SET_ASIDE = ["row", "column", "rule", "value", "message", "raw"]


def _rows_frame(frame: pd.DataFrame, row_numbers: np.ndarray, mask: np.ndarray, rule: str,
                message: str) -> pd.DataFrame:
    rows = frame.loc[mask]
    return pd.DataFrame({
        "row": np.asarray(row_numbers)[mask],
        "column": str(frame.columns[0]),
        "rule": rule,
        "value": rows.iloc[:, 0].astype(str).to_numpy(),
        "message": message,
        "raw": rows.astype(object).where(rows.notna(), None).to_dict("records"),
    })


def _sorted(parts: list[pd.DataFrame]) -> pd.DataFrame:
    parts = [p for p in parts if len(p)]
    if not parts:
        return pd.DataFrame(columns=_SET_ASIDE)
    out = pd.concat(parts, ignore_index=True).reindex(columns=_SET_ASIDE)
    out["row"] = out["row"].astype("Int64")
    return out.sort_values("row", kind="stable").reset_index(drop=True)


def set_aside_rows(raw: RawTable, mask: np.ndarray) -> pd.DataFrame:
    """The reader's set-aside rows plus the rows of ``raw.frame`` where ``mask`` holds
    (rule ``repeated_header``)."""
    parts = [raw.set_aside.assign(raw=None)]
    if mask.any():
        parts.append(_rows_frame(raw.frame, raw.row_numbers, mask, "repeated_header",
                                 "the row repeats the header line (files appended one after "
                                 "the other?); it is set aside"))
    return _sorted(parts)


def add_rows(set_aside: pd.DataFrame, frame: pd.DataFrame, row_numbers: np.ndarray,
             mask: np.ndarray, rule: str, message: str) -> pd.DataFrame:
    """``set_aside`` plus the rows of ``frame`` where ``mask`` holds, with ``rule``."""
    return _sorted([set_aside, _rows_frame(frame, row_numbers, mask, rule, message)])


def without_rows(raw: RawTable, mask: np.ndarray) -> tuple[pd.DataFrame, np.ndarray]:
    """``raw``'s frame and row numbers without the rows where ``mask`` holds (no copy if none)."""
    if not mask.any():
        return raw.frame, np.asarray(raw.row_numbers, dtype=np.int64)
    keep = ~mask
    return (raw.frame.loc[keep].reset_index(drop=True),
            np.asarray(raw.row_numbers, dtype=np.int64)[keep])


def carried_columns(columns, used: set, canonical: tuple[str, ...]) -> dict[str, str]:
    """Source column -> name in the canonical table, for every column not mapped.

    Examples
    --------
    >>> carried_columns(["Visit no", "visit", "clinician"], {"Visit no"}, ("visit",))
    {'visit': 'unmapped_visit', 'clinician': 'clinician'}
    """
    out: dict[str, str] = {}
    taken = set(canonical) | {str(c) for c in columns}
    for col in columns:
        if col in used:
            continue
        name = str(col)
        if name in canonical:
            name = CARRIED_PREFIX + name
            while name in taken:
                name = CARRIED_PREFIX + name
            taken.add(name)
        out[col] = name
    return out


def column_ledger(table: str, source: str, mapped: dict, carried: dict[str, str]
                  ) -> pd.DataFrame:
    """The ``columns`` ledger rows of one table: mapped and carried source columns."""
    rows = [{"table": table, "source": source,
             "source_column": s if isinstance(s, str) else "(wide pattern)",
             "column": c, "action": "mapped"} for c, s in mapped.items()]
    rows += [{"table": table, "source": source, "source_column": str(s), "column": c,
              "action": "carried" if str(s) == c else f"carried (renamed: {c!r} is canonical)"}
             for s, c in carried.items()]
    return pd.DataFrame(rows, columns=list(COLUMN_LEDGER_COLUMNS))


def add_carried(out: pd.DataFrame, extras: pd.DataFrame | None) -> None:
    """Append the carried columns (already renamed, aligned with ``out``) in place."""
    if extras is None:
        return
    for column in extras.columns:
        if column not in out:
            out[column] = extras[column].to_numpy()
