"""REDCap exports: events to visits, repeating instruments, checkboxes, coded choices.

A REDCap "records" export (raw or labels) of a longitudinal project has one row
per record x event, ``redcap_event_name`` naming the event, repeating
instruments (such as an adverse-event form) in rows with
``redcap_repeat_instrument`` / ``redcap_repeat_instance``, checkbox fields as one
column per choice (``muscles___1``, ``muscles___2``) and a ``*_complete`` status
column per form. :func:`read_redcap` turns such an export into the three raw
tables and hands them to :func:`~dryneedle_outcomes.load_cohort`, keeping the row
numbers of the export so every problem points at the export's own row.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping as AbcMapping
from typing import Any

import numpy as np
import pandas as pd

from ..errors import MappingError, ReadError
from ..mapping import Mapping
from .raw_table import RawTable
from .readers import read_table

EVENT_COLUMN = "redcap_event_name"
REPEAT_INSTRUMENT = "redcap_repeat_instrument"
REPEAT_INSTANCE = "redcap_repeat_instance"
_CHECKBOX = re.compile(r"^(?P<field>.+)___(?P<code>[^_].*)$")
_DICT_FIELD = "Variable / Field Name"
_DICT_TYPE = "Field Type"
_DICT_CHOICES = "Choices, Calculations, OR Slider Labels"


def parse_choices(text: str) -> dict[str, str]:
    """Parse a REDCap choices string into ``{code: label}``.

    Examples
    --------
    >>> parse_choices("1, Gastrocnemius | 2, Soleus | 3, Plantar fascia")
    {'1': 'Gastrocnemius', '2': 'Soleus', '3': 'Plantar fascia'}
    """
    out = {}
    for part in str(text).split("|"):
        code, sep, label = part.partition(",")
        if sep:
            out[code.strip()] = label.strip()
    return out


def default_event_visits(events: list[str]) -> dict[str, int]:
    """Visit numbers for event names that say it plainly.

    ``baseline...``/``screening...``/``enrol...`` -> 0; ``session_3...``,
    ``visit_3...``, ``tx_3...``, ``treatment_3...`` -> 3. Other event names (for
    example follow-ups) must be declared through ``events=`` in
    :func:`read_redcap`.

    Examples
    --------
    >>> default_event_visits(["baseline_arm_1", "session_2_arm_1", "followup_arm_1"])
    {'baseline_arm_1': 0, 'session_2_arm_1': 2}
    """
    out = {}
    for name in events:
        low = str(name).lower()
        if re.match(r"^(baseline|screening|enrol|enroll)", low):
            out[name] = 0
            continue
        m = re.match(r"^(?:session|visit|tx|treatment|needling)[ _-]?(\d+)", low)
        if m:
            out[name] = int(m.group(1))
    return out


def _dictionary(data_dictionary) -> dict[str, dict[str, Any]]:
    if data_dictionary is None:
        return {}
    raw = read_table(data_dictionary, table="data_dictionary")
    frame = raw.frame
    for col in (_DICT_FIELD, _DICT_TYPE):
        if col not in frame:
            raise ReadError(
                f"{raw.source}: not a REDCap data dictionary (no {col!r} column); "
                f"columns are {', '.join(map(str, frame.columns))}", source=raw.source)
    no_choices = pd.Series(np.nan, index=frame.index)
    choices = frame[_DICT_CHOICES] if _DICT_CHOICES in frame else no_choices
    out = {}
    for field, ftype, ch in zip(frame[_DICT_FIELD], frame[_DICT_TYPE], choices):
        ftype = str(ftype).strip().lower()
        entry: dict[str, Any] = {"type": ftype}
        if ftype in ("radio", "dropdown", "checkbox") and isinstance(ch, str):
            entry["choices"] = parse_choices(ch)
        elif ftype == "yesno":
            entry["choices"] = {"1": "yes", "0": "no"}
        elif ftype == "truefalse":
            entry["choices"] = {"1": "true", "0": "false"}
        out[str(field).strip()] = entry
    return out


def read_redcap(
    records: str | os.PathLike | pd.DataFrame,
    data_dictionary: str | os.PathLike | pd.DataFrame | None = None,
    *,
    mapping: Mapping | dict | str | os.PathLike | None = None,
    events: AbcMapping[str, int] | None = None,
    adverse_event_instrument: str = "adverse_events",
    id_field: str | None = None,
    errors: str = "raise",
):
    """Load a REDCap records export (and optionally its data dictionary) into a Cohort.

    Parameters
    ----------
    records : path or DataFrame
        The records export (CSV "raw" or "labels"; one row per record x event).
    data_dictionary : path or DataFrame, optional
        The project's data dictionary; when given, coded choices of radio,
        dropdown, yes/no and checkbox fields are decoded to their labels.
    mapping : dict, TOML path or Mapping, optional
        As for :func:`~dryneedle_outcomes.load_cohort`, naming REDCap fields:
        ``[patients.columns]`` (fields collected once per record, e.g. on the
        baseline event), ``[assessments.columns]`` (fields of every visit event) and
        ``[adverse_events.columns]`` (fields of the repeating adverse-event form).
        The visit column is ``redcap_event_name`` unless the mapping names another.
    events : dict, optional
        Event name -> visit number, for events whose visit is not plain from the
        name (see :func:`~.default_event_visits`); overrides the defaults.
    adverse_event_instrument : str
        Name of the repeating instrument that holds adverse events.
    id_field : str, optional
        Record ID field; default: the mapping's patient_id or the first column.
    errors : {"raise", "quarantine"}
        As for :func:`~dryneedle_outcomes.load_cohort`.

    Returns
    -------
    Cohort

    Notes
    -----
    Checkbox fields become one text column per field holding the labels of the
    ticked choices joined by ``;`` (e.g. ``"Gastrocnemius;Soleus"``), which the
    usual vocabularies then read. ``*_complete`` form-status columns are ignored
    and listed in the ledger's corrections. Patient-level fields take, per
    record, their first non-missing value across events; the row reported for a
    patient is the record's first row.
    """
    from ..load import load_cohort

    m = Mapping.from_any(mapping)
    raw = read_table(records, table="assessments",
                     string_columns=[id_field] if id_field else [])
    frame = raw.frame.copy()
    source = raw.source
    if id_field is None:
        id_field = m.table("assessments").columns.get("patient_id", str(frame.columns[0]))
    if id_field not in frame:
        raise MappingError(f"{source}: record ID field {id_field!r} is not a column")
    frame[id_field] = frame[id_field].astype(object).where(frame[id_field].isna(),
                                                            frame[id_field].astype(str))
    dictionary = _dictionary(data_dictionary)
    corrections = [raw.corrections]

    status_cols = [c for c in frame.columns if str(c).endswith("_complete")]
    if status_cols:
        corrections.append(pd.DataFrame([{
            "table": "assessments", "source": source, "row": pd.NA, "column": c, "old": None,
            "new": None, "action": "REDCap form status column ignored", "n_rows": len(frame),
        } for c in status_cols]))
        frame = frame.drop(columns=status_cols)

    frame = _collapse_checkboxes(frame, dictionary)
    for field, entry in dictionary.items():
        if field in frame and "choices" in entry and entry["type"] != "checkbox":
            text = frame[field].astype(object).where(frame[field].isna(),
                                                     frame[field].astype(str).str.strip())
            text = text.str.replace(r"\.0$", "", regex=True)
            decoded = text.map(entry["choices"])
            frame[field] = decoded.where(decoded.notna(), frame[field])

    row_numbers = np.asarray(raw.row_numbers)
    repeat = frame[REPEAT_INSTRUMENT] if REPEAT_INSTRUMENT in frame else pd.Series(
        np.nan, index=frame.index)
    is_ae = (repeat.astype(str) == adverse_event_instrument).to_numpy()
    is_other_repeat = repeat.notna().to_numpy() & ~is_ae

    visit_codes: dict[str, Any] = {}
    if EVENT_COLUMN in frame:
        events_seen = frame[EVENT_COLUMN]
        visit_codes = default_event_visits(list(pd.unique(events_seen[events_seen.notna()])))
        visit_codes.update(dict(events or {}))

    def table_mapping(name: str) -> dict:
        tm = m.to_dict().get(name, {})
        tm.setdefault("columns", {})
        tm["columns"].setdefault("patient_id", id_field)
        if name != "patients" and EVENT_COLUMN in frame:
            tm["columns"].setdefault("visit", EVENT_COLUMN)
            codes = dict(visit_codes)
            codes.update(tm.get("codes", {}).get("visit", {}))
            tm.setdefault("codes", {})["visit"] = codes
        for key in ("delimiter", "decimal", "encoding", "sheet", "header_row", "format"):
            tm.pop(key, None)
        return tm

    visit_rows = ~is_ae & ~is_other_repeat
    assess = frame.loc[visit_rows].drop(columns=[REPEAT_INSTRUMENT, REPEAT_INSTANCE],
                                        errors="ignore").reset_index(drop=True)
    ae = frame.loc[is_ae].reset_index(drop=True)

    pat_map = table_mapping("patients")
    pat_fields = [f for f in pat_map["columns"].values() if f in frame]
    grouped = assess[pat_fields].groupby(assess[id_field], sort=False)
    pats = grouped.first().reset_index(drop=True)
    pats[id_field] = grouped.size().index.to_numpy()
    first_rows = row_numbers[visit_rows][~assess[id_field].duplicated().to_numpy()]

    all_corrections = pd.concat([c for c in corrections if len(c)], ignore_index=True) \
        if any(len(c) for c in corrections) else raw.corrections
    tables = {
        "assessments": RawTable(frame=assess, source=source,
                                row_numbers=row_numbers[visit_rows], corrections=all_corrections,
                                value_labels={}, encoding=raw.encoding),
        "patients": RawTable(frame=pats, source=source, row_numbers=first_rows,
                             corrections=raw.corrections.iloc[0:0], value_labels={},
                             encoding=raw.encoding),
    }
    full_mapping = {"assessments": table_mapping("assessments"),
                    "patients": pat_map}
    if is_ae.any() or "adverse_events" in m.tables:
        tables["adverse_events"] = RawTable(
            frame=ae, source=source, row_numbers=row_numbers[is_ae],
            corrections=raw.corrections.iloc[0:0], value_labels={}, encoding=raw.encoding)
        full_mapping["adverse_events"] = table_mapping("adverse_events")
    # patient-level fields are read from the patients table, not as assessment columns
    assess_cols = full_mapping["assessments"]["columns"]
    for key in ("arm",):
        if key in assess_cols and key in pat_map["columns"]:
            assess_cols.pop(key)
    return load_cohort(
        tables["assessments"], tables["patients"], tables.get("adverse_events"),
        mapping=full_mapping, errors=errors,
    )


def _collapse_checkboxes(frame: pd.DataFrame, dictionary: dict) -> pd.DataFrame:
    """Turn ``field___code`` columns into one ``field`` column of ticked labels."""
    groups: dict[str, list[tuple[str, str]]] = {}
    for col in frame.columns:
        m = _CHECKBOX.match(str(col))
        if m:
            groups.setdefault(m.group("field"), []).append((col, m.group("code")))
    if not groups:
        return frame
    frame = frame.copy()
    for field, cols in groups.items():
        choices = dictionary.get(field, {}).get("choices", {})
        joined = pd.Series("", index=frame.index, dtype=object)
        any_answer = np.zeros(len(frame), dtype=bool)
        for col, code in cols:
            values = frame[col]
            answered = values.notna().to_numpy()
            any_answer |= answered
            ticked = values.astype(str).str.strip().isin(["1", "1.0", "Checked", "checked"])
            label = choices.get(code, choices.get(code.replace("_", "-"), code))
            joined = joined.where(~ticked, joined + ";" + label)
        joined = joined.str.lstrip(";")
        frame = frame.drop(columns=[c for c, _ in cols])
        frame[field] = joined.where(joined != "", None).where(any_answer, None)
    return frame


