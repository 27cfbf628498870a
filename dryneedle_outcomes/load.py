"""``load_cohort``: raw files or DataFrames in, a validated :class:`Cohort` out."""

from __future__ import annotations

import os
import warnings
from collections.abc import Sequence
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .cohort import Cohort
from .errors import (
    ConfigError,
    DataQualityWarning,
    DataValidationError,
    ImplausibleScaleWarning,
    MostlyRejectedWarning,
    config_quarantine_hint,
)
from .instruments import CORE_INSTRUMENTS, INSTRUMENTS, ensure_registered
from .io.limits import ReadLimits
from .io.raw_table import RawTable
from .io.readers import read_table
from .mapping import Mapping, TableMapping
from .normalize.adverse_events import normalize_adverse_events, split_terms
from .normalize.alerts import implausible_scale_flags, mostly_rejected, scale_warning_text
from .normalize.assessments import normalize_assessments
from .normalize.concomitant import drop_repeats_of_file, ice_from_concomitant
from .normalize.intercurrent_events import (
    ICE_COLUMNS,
    check_consistency,
    check_schedule,
    empty_intercurrent_events,
    normalize_intercurrent_events,
)
from .normalize.layout import build_records
from .normalize.links import (
    check_deviation_reasons,
    check_patient_links,
    derive_days,
    flag_protocol_deviations,
    flag_unassessed_events,
    patient_visit_order,
)
from .normalize.patients import normalize_patients
from .normalize.pooling import instrument_column, patient_instruments
from .normalize.records import Records
from .normalize.source_rows import COLUMN_LEDGER_COLUMNS
from .normalize.vocabulary import AE_TERMS, ICE_EVENTS, SEVERITIES
from .quality import (
    CORRECTION_COLUMNS,
    COUNT_COLUMNS,
    PROBLEM_COLUMNS,
    REJECTED_COLUMNS,
    QualityLedger,
    concat_frames,
)
from .timing import TIMINGS

Source = str | os.PathLike | pd.DataFrame | RawTable

def assessment_order() -> tuple[str, ...]:
    """The canonical column order of the assessments (the instruments registered now)."""
    return ("patient_id", "visit", "timing", "day", "date", "site", *INSTRUMENTS,
            *(instrument_column(c) for c in INSTRUMENTS), "needled", "needles",
            "twitch_responses", "muscles", "laterality", "technique", "retention_min",
            "soreness_lower_h", "soreness_upper_h")


#: The canonical column order with the built-in instruments (see :func:`assessment_order`).
ASSESSMENT_ORDER = assessment_order()


def _read(source: Source, name: str, tm: TableMapping, base_dir: Path | None,
          errors: str, limits: ReadLimits | None) -> RawTable:
    if isinstance(source, RawTable):
        return source
    if isinstance(source, (str, os.PathLike)) and base_dir is not None:
        path = Path(source)
        source = path if path.is_absolute() else base_dir / path
    return read_table(source, table=name, string_columns=[tm.source_of("patient_id")],
                      bad_lines="set_aside" if errors == "quarantine" else "error",
                      allow_empty=name in ("adverse_events", "intercurrent_events"),
                      limits=limits, **tm.read_options())


def load_cohort(
    assessments: Source,
    patients: Source | None = None,
    adverse_events: Source | None = None,
    *,
    mapping: Mapping | dict[str, Any] | str | os.PathLike | None = None,
    errors: str = "raise",
    base_dir: str | os.PathLike | None = None,
    limits: ReadLimits | None = None,
    config_file: str | os.PathLike | None = None,
    deviations: Sequence[str] | None = None,
    intercurrent_events: Source | None = None,
) -> Cohort:
    """Load, normalise and validate a cohort into canonical tables with a quality ledger.

    Parameters
    ----------
    assessments : path or DataFrame
        Session-level scores: one row per patient x visit (long), or one row per
        patient with a column per visit (wide; declared in the mapping).
    patients : path or DataFrame, optional
        One row per patient with at least the ID and the arm. When omitted, the
        patients are taken from the assessments (with their ``arm`` column if it
        has one, else a single arm ``"all"``).
    adverse_events : path or DataFrame, optional
        One row per event. A file with a header and no rows (a trial without
        events) is valid: zero events.
    intercurrent_events : path or DataFrame, optional
        One row per intercurrent event (ICH E9(R1)): ``patient_id``, ``visit`` (the
        first visit the event affects, 1 or later), optional ``day``, ``event`` (a
        name of the vocabulary or a wording it knows: "lost to follow-up",
        "NSAIDs"; see :mod:`dryneedle_outcomes.normalize.vocabulary.ice_events`) and
        ``reason``. Rules: :mod:`dryneedle_outcomes.normalize.intercurrent_events`
        (unknown event wording, unknown patient, a visit outside the schedule,
        duplicates, events after leaving the study). A file with a header and no
        rows is valid: no events.
    mapping : dict, TOML path or Mapping, optional
        Source columns, scales, value codes and layout; see
        :class:`~dryneedle_outcomes.Mapping`. ``None`` means the inputs already use
        the canonical column names.
    errors : {"raise", "quarantine"}
        ``"raise"``: any broken rule raises one :class:`DataValidationError` listing
        every problem (file, row, column, value, rule), an ``implausible_scale``
        included. ``"quarantine"``: keep going; each rejected raw row (or, for a
        problem outside the identity columns, each rejected value) and its reason is
        in ``cohort.quality.rejected`` (see :class:`~dryneedle_outcomes.QualityLedger`); a
        ragged or comment line in a text file is set aside as one record instead of
        failing the file; an implausible scale is flagged and warned about.
    base_dir : path, optional
        Folder that relative file paths are resolved against.
    limits : ReadLimits, optional
        Bounds on decompressed size and workbook rows/cells
        (:class:`dryneedle_outcomes.ReadLimits`); the session default when omitted.
    config_file : path, optional
        The analysis configuration the call comes from (the command line passes it):
        error hints then name its TOML keys (``errors = "quarantine"`` under
        ``[data]``) instead of Python arguments.
    deviations : sequence of str, optional
        Which needled visits are protocol deviations (flagged in the ledger, rule
        ``protocol_deviation``, and counted by
        :func:`~dryneedle_outcomes.protocol_deviations`): patient flags among
        pregnant, immunocompromised, anticoagulants, bleeding_disorder,
        diabetic_neuropathy, peripheral_vascular_disease, lymphoedema, local_infection,
        needle_fear, and ``crossover`` (a sham/control-arm patient recorded as needled).
        Default: all but needle_fear (see
        ``dryneedle_outcomes.normalize.links.DEFAULT_DEVIATION_REASONS``).

    Warns
    -----
    ImplausibleScaleWarning
        With ``errors="quarantine"``, for a declared scale the data contradict.
    MostlyRejectedWarning
        When one rule rejected most of a column's rows (a wrong scale, decimal mark
        or date convention), before any analysis runs.
    DataQualityWarning
        For needled visits that are protocol deviations (see ``deviations``).

    Returns
    -------
    Cohort

    Raises
    ------
    DataValidationError
        With ``errors="raise"`` when any rule is broken; always when a required
        column is missing.
    ReadError
        When a file cannot be read (missing, empty, binary, unknown format, an
        unterminated quote, beyond ``limits``).
    MappingError
        When the mapping is malformed.

    Examples
    --------
    >>> import pandas as pd
    >>> import dryneedle_outcomes as dno
    >>> patients = pd.DataFrame({"patient_id": ["P1", "P2"], "arm": ["dry_needling", "sham"]})
    >>> visits = pd.DataFrame({"patient_id": ["P1", "P1", "P2", "P2"], "visit": [0, 1, 0, 1],
    ...                        "first_step_pain": [72.0, 55.0, 64.0, 60.0]})
    >>> cohort = dno.load_cohort(visits, patients)
    >>> cohort.assessments[["patient_id", "visit", "first_step_pain"]]
      patient_id  visit  first_step_pain
    0         P1      0             72.0
    1         P1      1             55.0
    2         P2      0             64.0
    3         P2      1             60.0
    >>> bad = visits.assign(first_step_pain=[72.0, 150.0, 64.0, 60.0])
    >>> dno.load_cohort(bad, patients)
    Traceback (most recent call last):
    ...
    dryneedle_outcomes.errors.DataValidationError: 1 problem found in the input data:
      - <DataFrame:assessments>, row 3, column 'first_step_pain': [out_of_range] ...
    ...
    """
    if errors not in ("raise", "quarantine"):
        raise ConfigError(f"errors must be 'raise' or 'quarantine', got {errors!r}")
    reasons = check_deviation_reasons(deviations)
    base = Path(base_dir) if base_dir is not None else None
    if isinstance(mapping, (str, os.PathLike)) and base is not None \
            and not Path(mapping).is_absolute():
        mapping = base / mapping
    m = Mapping.from_any(mapping)
    ensure_registered(m.instruments, m.origin)
    read = partial(_read, base_dir=base, errors=errors, limits=limits)

    assess_tm = m.table("assessments")
    assess = build_records(read(assessments, "assessments", assess_tm), assess_tm,
                           "assessments")
    pooled = normalize_assessments(assess, assess_tm)

    if patients is not None:
        pat_tm = m.table("patients")
        pats = build_records(read(patients, "patients", pat_tm), pat_tm, "patients")
        normalize_patients(pats, pat_tm)
    else:
        pats = _patients_from_assessments(assess)
    check_patient_links(assess, pats)
    derive_days(assess)

    events = None
    if adverse_events is not None:
        ev_tm = m.table("adverse_events")
        events = build_records(read(adverse_events, "adverse_events", ev_tm), ev_tm,
                               "adverse_events")
        normalize_adverse_events(events, ev_tm)
        check_patient_links(events, pats)

    ice = None
    if intercurrent_events is not None:
        ice_tm = m.table("intercurrent_events")
        ice = build_records(read(intercurrent_events, "intercurrent_events", ice_tm), ice_tm,
                            "intercurrent_events")
        normalize_intercurrent_events(ice, ice_tm)
        check_patient_links(ice, pats)
    derived = ice_from_concomitant(assess, m.table("intercurrent_events").synonyms or None)

    patients_table = _finish_patients(pats, m.table("patients"))
    assessments_table = _finish_assessments(assess)
    if ice is not None:
        check_schedule(ice, assessments_table)
        check_consistency(ice, assessments_table)
    if derived is not None:
        drop_repeats_of_file(derived, ice)
    patients_table = patient_instruments(assessments_table, patients_table, pooled)
    flag_protocol_deviations(assess, patients_table, reasons)
    if events is not None:
        flag_unassessed_events(events, assessments_table)
    all_records = [r for r in (pats, assess, events, ice, derived) if r is not None]

    flags = concat_frames([r.flags() for r in all_records], PROBLEM_COLUMNS)
    notes = mostly_rejected(all_records)
    for line in notes:
        warnings.warn(line, MostlyRejectedWarning, stacklevel=2)
    scale = implausible_scale_flags(flags)
    fatal = concat_frames([r.fatal_problems() for r in all_records] + [scale], PROBLEM_COLUMNS)
    if errors == "raise" and len(fatal):
        hint = config_quarantine_hint(str(config_file)) if config_file is not None else None
        raise DataValidationError(fatal.drop(columns=["_pos"], errors="ignore"), notes=notes,
                                  quarantine_hint=hint)
    for flag in scale.to_dict("records"):
        warnings.warn(scale_warning_text(flag), ImplausibleScaleWarning, stacklevel=2)

    ledger = QualityLedger(
        counts=pd.DataFrame([r.counts() for r in all_records], columns=list(COUNT_COLUMNS)),
        rejected=concat_frames([r.rejected_with_raw() for r in all_records], REJECTED_COLUMNS),
        corrections=concat_frames([r.corrections() for r in all_records], CORRECTION_COLUMNS),
        flags=flags,
        columns=concat_frames([r.column_ledger for r in all_records
                               if r.column_ledger is not None], COLUMN_LEDGER_COLUMNS),
    )
    dev = ledger.flags.loc[ledger.flags["rule"] == "protocol_deviation", "message"]
    if len(dev):
        parts = dev.str.extract(r"marked (\w+) \(|\((crossover)\)")
        found = parts[0].where(parts[0].notna(), parts[1])
        warnings.warn(
            f"{len(dev)} needled visit(s) that are protocol deviations "
            f"({', '.join(sorted(found.dropna().unique()))}); they are kept and listed in "
            "cohort.protocol_deviations",
            DataQualityWarning, stacklevel=2,
        )
    events_table = _finish_events(events)
    provenance = _provenance(m, pats, assess, events, ice)
    provenance["pooled"] = pooled
    provenance["deviation_reasons"] = list(reasons)
    return Cohort(
        patients=patients_table,
        assessments=assessments_table,
        adverse_events=events_table,
        intercurrent_events=_finish_ice(ice, derived),
        quality=ledger,
        provenance=provenance,
        mapping=m,
        assessed=assess_tm.assessed,
    )


def _patients_from_assessments(assess: Records) -> Records:
    """Patients derived from the assessments when no patients table is given."""
    data = assess.data.loc[~assess.rejected_mask].copy()
    data["patient_id"] = data["patient_id"].astype(object)
    ids = data["patient_id"]
    first = ~ids.duplicated().to_numpy() & ids.notna().to_numpy()
    frame = pd.DataFrame({"patient_id": ids[first].to_numpy()})
    has_arm = "arm" in data
    if has_arm:
        arms = data.groupby("patient_id")["arm"]
        frame["arm"] = frame["patient_id"].map(arms.first()).to_numpy()
        n_arms = frame["patient_id"].map(arms.nunique()).to_numpy()
    else:
        frame["arm"] = "all"
    if "site" in data:
        frame["site"] = frame["patient_id"].map(data.groupby("patient_id")["site"].first())
    rec = Records(
        table="patients", source=f"(derived from {assess.source})", raw=frame,
        raw_pos=np.arange(len(frame)), row_numbers=assess.row_numbers[
            np.flatnonzero(~assess.rejected_mask)[first]],
        data=frame.copy(), source_rows=len(frame),
    )
    if has_arm:
        rec.reject(n_arms > 1, "arm", "conflicting_arm",
                   "patient '{value}' has more than one arm in the assessments",
                   values=frame["patient_id"])
        rec.reject(frame["arm"].isna().to_numpy() & ~rec.rejected_mask, "arm", "missing_arm",
                   "patient '{value}' has no arm in the assessments", values=frame["patient_id"])
    else:
        rec.correct_column("arm", "absent", "all",
                           "no patients table and no arm column: one arm 'all'", len(frame))
    return rec


def _finish_patients(pats: Records, tm: TableMapping) -> pd.DataFrame:
    ids = pats.data["patient_id"]
    kept = np.flatnonzero(pats.kept_mask)
    by_code = isinstance(ids.dtype, pd.CategoricalDtype) \
        and ids.cat.categories.is_monotonic_increasing
    if by_code:
        id_codes = ids.cat.codes.to_numpy()[kept]
        by_code = not (id_codes < 0).any()
    if by_code:  # sorted categories: sorting the codes sorts the IDs
        out = pats.kept(order=kept[np.argsort(id_codes, kind="stable")])
    else:
        out = pats.kept()
    out["patient_id"] = out["patient_id"].astype(object)
    codes = tm.codes.get("arm")
    order = list(dict.fromkeys(str(v) for v in codes.values())) if codes else []
    present = [a for a in pd.unique(out["arm"]) if a not in order]
    categories = [a for a in order] + sorted(present)
    out["arm"] = pd.Categorical(out["arm"], categories=categories)
    if by_code:
        return out
    return out.sort_values("patient_id", kind="stable").reset_index(drop=True)


def _finish_assessments(assess: Records) -> pd.DataFrame:
    data = assess.data
    cols = [c for c in assessment_order() if c in data]
    cols += [c for c in data.columns if c not in cols and c != "arm"]
    # IDs are categorical with sorted categories: sort the kept records on their codes
    kept = np.flatnonzero(assess.kept_mask)
    visit = data["visit"].to_numpy(dtype=float, na_value=-1)[kept]
    if "timing" in data:  # within a visit: untimed, then pre-, then post-session
        rank = data["timing"].map({"pre_session": 1, "post_session": 2}).fillna(0)
        visit = visit + 0.25 * rank.to_numpy(dtype=float)[kept]
    order = kept[patient_visit_order(data["patient_id"].cat.codes.to_numpy()[kept], visit)]
    arrays = assess.kept_arrays(cols, order)
    arrays["visit"] = arrays["visit"].astype("int64")
    arrays["patient_id"] = np.asarray(arrays["patient_id"], dtype=object)
    if "timing" in arrays:
        arrays["timing"] = pd.Categorical(arrays["timing"], categories=list(TIMINGS))
    for col in CORE_INSTRUMENTS:
        arrays[col] = np.asarray(arrays[col], dtype=float)
    return pd.DataFrame(arrays, copy=False)


def _finish_events(events: Records | None) -> pd.DataFrame:
    if events is None:
        out = pd.DataFrame({
            "patient_id": pd.Series(dtype=object), "visit": pd.Series(dtype="int64"),
            "term": pd.Series(dtype=object), "verbatim": pd.Series(dtype=object),
            "severity": pd.Series(dtype=object), "serious": pd.Series(dtype="boolean"),
            "verbatim_id": pd.Series(dtype="int64"),
        })
    else:
        out = split_terms(events.kept())
        out["visit"] = out["visit"].astype("int64")
        out["patient_id"] = out["patient_id"].astype(object)
    out["term"] = pd.Categorical(out["term"], categories=list(AE_TERMS))
    out["severity"] = pd.Categorical(out["severity"], categories=list(SEVERITIES), ordered=True)
    return out.sort_values(["patient_id", "visit"], kind="stable").reset_index(drop=True)


def _finish_ice(ice: Records | None, derived: Records | None = None) -> pd.DataFrame:
    parts = [r.kept().assign(patient_id=lambda f: f["patient_id"].astype(object))
             for r in (ice, derived) if r is not None]
    if not parts:
        return empty_intercurrent_events()
    out = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]
    out["visit"] = out["visit"].astype("int64")
    out["patient_id"] = out["patient_id"].astype(object)
    out["day"] = out["day"].astype(float)
    out["event"] = pd.Categorical(out["event"], categories=list(ICE_EVENTS))
    cols = list(ICE_COLUMNS) + [c for c in out.columns if c not in ICE_COLUMNS]
    return out[cols].sort_values(["patient_id", "visit"], kind="stable").reset_index(drop=True)


def _provenance(m: Mapping, *records: Records | None) -> dict:
    prov: dict[str, Any] = {"tables": {}, "instruments": {}}
    for rec in records:
        if rec is None:
            continue
        prov["tables"][rec.table] = {
            "source": rec.source,
            "columns": {c: (s if isinstance(s, str) else "(wide pattern)")
                        for c, s in rec.source_columns.items()},
        }
    tm = m.table("assessments")
    for col in INSTRUMENTS:
        if col in tm.columns or col in tm.wide or col in tm.scales:
            prov["instruments"][col] = {
                "source_column": tm.wide.get(col, tm.source_of(col)),
                "scale": tm.scales.get(col),
                "site_scales": {s: sc[col] for s, sc in tm.site_scales.items() if col in sc},
            }
            for site, name in prov["instruments"][col]["site_scales"].items():
                other = INSTRUMENTS[col].scale(name).instrument
                if other is not None:  # a site that scored another instrument (an NRS)
                    entry = prov["instruments"].setdefault(other, {
                        "source_column": prov["instruments"][col]["source_column"],
                        "scale": None, "site_scales": {}, "declared_for": col})
                    entry["site_scales"][site] = name
    prov["definitions"] = {col: INSTRUMENTS[col].definition() | {"builtin": INSTRUMENTS[
        col].builtin} for col in prov["instruments"] if col in INSTRUMENTS}
    if tm.pool_as:
        prov["pool_as"] = dict(tm.pool_as)
    return prov
