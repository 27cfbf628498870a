"""The assessments table: one row per patient per visit with canonical scores."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..instruments import CORE_INSTRUMENTS, INSTRUMENTS
from ..mapping import TableMapping
from ..timing import normalize_timing
from .cells import (
    apply_codes,
    record_recodes,
    text_form,
    to_boolean,
    to_instrument,
    to_integer,
    to_number,
)
from .dates import parse_dates_arrays
from .ids import normalize_ids
from .pooling import apply_pool_as, merge_routed
from .records import Records
from .soreness import parse_soreness_arrays
from .source_rows import add_carried
from .vocabulary import map_laterality, map_technique, muscle_arrays

#: Longest plausible soreness bound in hours (one year): beyond it a bound is out of range.
SORENESS_MAX_H = 8760.0


def normalize_visits(rec: Records, values: pd.Series, codes) -> pd.Series:
    """Visit labels or numbers to non-negative integers (0 = baseline)."""
    before = rec.rejected_mask.copy()
    coded = apply_codes(rec, "visit", values, codes)
    visits = to_integer(rec, "visit", coded, minimum=0, maximum=10_000)
    just_rejected = rec.rejected_mask & ~before
    missing = visits.isna().to_numpy() & ~just_rejected
    rec.reject(missing, "visit", "missing_visit", "the visit is missing")
    return visits


def normalize_assessments(rec: Records, tm: TableMapping) -> dict:
    """Turn the raw assessment records of ``rec`` into canonical columns in place.

    Returns what was pooled (``apply_pool_as``'s dict; empty without ``pool_as``).
    """
    raw = rec.data
    out = pd.DataFrame(index=raw.index)
    out["patient_id"] = normalize_ids(rec, apply_codes(rec, "patient_id", raw["patient_id"],
                                                      tm.codes.get("patient_id")))
    out["visit"] = normalize_visits(rec, raw["visit"], tm.codes.get("visit"))
    if "arm" in raw:
        out["arm"] = text_form(apply_codes(rec, "arm", raw["arm"], tm.codes.get("arm")))
    if "timing" in raw:
        out["timing"] = _timing(rec, apply_codes(rec, "timing", raw["timing"],
                                                 tm.codes.get("timing")))
    site = None
    if "site" in raw:
        site = text_form(apply_codes(rec, "site", raw["site"], tm.codes.get("site")))
        out["site"] = site
    if "date" in raw:
        dates, invalid, serial = parse_dates_arrays(raw["date"], convention=tm.date_convention)
        rec.reject(invalid, "date", "invalid_date",
                   f"'{{value}}' is not a valid date (date convention: {tm.date_convention})",
                   values=raw["date"])
        if serial.any():
            new = np.full(len(serial), None, dtype=object)
            new[serial] = pd.Series(dates[serial]).dt.strftime("%Y-%m-%d").to_numpy()
            rec.correct_rows(serial, "date", raw["date"].to_numpy(dtype=object), new,
                             "Excel serial number converted to a date")
        out["date"] = dates
        out["day"] = np.nan
    elif "day" in raw:
        day = to_number(rec, "day", raw["day"])
        neg = (day < 0).to_numpy()
        rec.reject(neg, "day", "negative", "day {value} is before the baseline", values=day)
        out["day"] = day.where(~neg)
    else:
        out["day"] = np.nan
    routed: dict[str, pd.Series] = {}
    origins: dict[str, str] = {}
    for column in tuple(INSTRUMENTS):
        if column in raw:
            before = set(routed)
            out[column] = to_instrument(
                rec, INSTRUMENTS[column], apply_codes(rec, column, raw[column],
                                                      tm.codes.get(column)),
                scale=tm.scales.get(column), site_scales=tm.site_scales, site=site,
                routed=routed,
            )
            origins.update({name: column for name in set(routed) - before})
        elif column in CORE_INSTRUMENTS:
            out[column] = np.nan
    merge_routed(rec, out, routed, origins)
    pooled = apply_pool_as(rec, out, tm.pool_as, site)
    if "needled" in raw:
        out["needled"] = to_boolean(rec, "needled", raw["needled"], tm.codes.get("needled"))
    for column in ("needles", "twitch_responses"):
        if column in raw:
            out[column] = to_integer(rec, column, apply_codes(rec, column, raw[column],
                                                              tm.codes.get(column)),
                                     maximum=1_000)
    if "needled" not in out and "needles" in out:
        out["needled"] = (out["needles"] > 0).astype("boolean")
        rec.correct_column("needled", "absent", "needles > 0", "needled derived from needles",
                           int(out["needles"].notna().sum()))
    if "needled" in out and "needles" in out:
        odd = (out["needled"].eq(False) & out["needles"].gt(0)).fillna(False).to_numpy()
        rec.flag(odd, "needles", "needles_without_needling",
                 "{value} needles recorded at a visit marked as not needled",
                 values=out["needles"])
    side_from_text = None
    if "muscles" in raw:
        parsed = muscle_arrays(raw["muscles"], tm.muscle_synonyms or None)
        record_recodes(rec, "muscles", raw["muscles"], parsed.muscles,
                       "muscles mapped to the vocabulary", factorized=parsed.factorized)
        out["muscles"] = parsed.muscles
        rec.flag(parsed.has_unmatched, "muscles", "unmatched_muscle",
                 "'{value}' is not in the muscle vocabulary; recorded as 'other' (add it to "
                 "muscle_synonyms in the mapping)", values=parsed.unmatched)
        side_from_text = parsed.laterality
    _needling_details(rec, raw, out, side_from_text)
    _soreness(rec, raw, out)
    _soreness_range(rec, out)
    if "concomitant" in raw:  # other treatments, as text (normalize/concomitant.py)
        conc = text_form(raw["concomitant"])
        out["concomitant"] = conc.where(conc != "")
    add_carried(out, rec.extras)
    rec.data = out
    check_duplicate_visits(rec)
    return pooled


def _needling_details(rec: Records, raw: pd.DataFrame, out: pd.DataFrame,
                      side_from_text: np.ndarray | None) -> None:
    """``laterality``, ``technique`` and ``retention_min`` (STRICTA 2010 item 2).

    The side comes from its own column when mapped, else from side words in the
    muscle text ("L soleus"; listed in the corrections as read from the muscles);
    without either the column is absent (not recorded). Unrecognised text is
    flagged: an unknown side is left missing, an unknown technique is ``other``.
    """
    if "laterality" in raw:
        side = map_laterality(raw["laterality"])
        values = side["laterality"].to_numpy(dtype=object)
        record_recodes(rec, "laterality", raw["laterality"], values,
                       "side mapped to left/right/bilateral")
        rec.flag(~side["matched"].to_numpy(), "laterality", "unmatched_laterality",
                 "side '{value}' is not left, right or bilateral; recorded as missing",
                 values=raw["laterality"])
        out["laterality"] = values
    elif side_from_text is not None and pd.notna(side_from_text).any():
        record_recodes(rec, "laterality", raw["muscles"], side_from_text,
                       "side read from the muscle text", changed_only=False)
        out["laterality"] = side_from_text
    if "technique" in raw:
        tech = map_technique(raw["technique"])
        values = tech["technique"].to_numpy(dtype=object)
        record_recodes(rec, "technique", raw["technique"], values,
                       "needling technique mapped to the vocabulary")
        rec.flag(~tech["matched"].to_numpy(), "technique", "unmatched_technique",
                 "technique '{value}' is not pistoning, static or rotation; recorded as "
                 "'other'", values=raw["technique"])
        out["technique"] = values
    if "retention_min" in raw:
        minutes = to_number(rec, "retention_min", raw["retention_min"])
        negative = (minutes < 0).to_numpy()
        rec.reject(negative, "retention_min", "negative",
                   "needle retention time {value} min is negative", values=minutes)
        out["retention_min"] = minutes.where(~negative)


def _timing(rec: Records, values: pd.Series) -> pd.Series:
    """The ``timing`` column: ``pre_session`` / ``post_session`` (``dryneedle_outcomes.timing``).

    Common spellings ("pre", "before", "post-needling", "after") are read and each
    recoding is listed in the corrections; other text rejects the record (rule
    ``invalid_timing``), since its row cannot be placed within the visit. A blank
    timing is a single rating at that visit (a baseline or follow-up visit).
    """
    text = text_form(values)
    canon = normalize_timing(text)
    bad = (text.notna() & canon.isna()).to_numpy()
    rec.reject(bad, "timing", "invalid_timing",
               "timing '{value}' is not pre_session or post_session (before or after the "
               "visit's needling; 'pre', 'before', 'post', 'after' are read too)", values=text)
    record_recodes(rec, "timing", text, canon.to_numpy(dtype=object),
                   "timing label read as pre_session/post_session")
    return canon


def _soreness(rec: Records, raw: pd.DataFrame, out: pd.DataFrame) -> None:
    if "soreness" in raw:
        lower, upper, ok, bad, coded = parse_soreness_arrays(raw["soreness"])

        def interval(positions: np.ndarray) -> list:
            return [f"[{lower[i]:g}, {upper[i]:g}] h" if ok[i] else None for i in positions]

        record_recodes(rec, "soreness", raw["soreness"], interval,
                       "soreness text read as an interval in hours", factorized=coded)
        rec.reject(bad, "soreness", "invalid_soreness",
                   "soreness duration '{value}' cannot be read as hours, a range such as "
                   "'24-48h', '>48h' or 'ongoing', or is reversed or negative",
                   values=raw["soreness"])
        out["soreness_lower_h"] = np.where(bad, np.nan, lower)
        out["soreness_upper_h"] = np.where(bad, np.nan, upper)
        return
    if "soreness_lower_h" in raw or "soreness_upper_h" in raw:
        lower = to_number(rec, "soreness_lower_h", raw.get("soreness_lower_h",
                                                             raw.get("soreness_upper_h")))
        upper = to_number(rec, "soreness_upper_h", raw.get("soreness_upper_h",
                                                             raw.get("soreness_lower_h")))
        negative = (lower < 0).to_numpy()
        reversed_ = (upper < lower).to_numpy()
        one_missing = (lower.isna() != upper.isna()).to_numpy()
        rec.reject(negative, "soreness_lower_h", "invalid_soreness",
                   "soreness lower bound {value} h is negative", values=lower)
        rec.reject(reversed_ & ~negative, "soreness_upper_h", "invalid_soreness",
                   "soreness interval is reversed: upper bound {value} h is below the lower "
                   "bound", values=upper)
        rec.reject(one_missing, "soreness_upper_h", "invalid_soreness",
                   "soreness interval has only one bound; give both (upper = inf when still "
                   "sore)", values=upper)
        ok = ~(negative | reversed_ | one_missing)
        out["soreness_lower_h"] = lower.where(ok)
        out["soreness_upper_h"] = upper.where(ok)
    else:
        out["soreness_lower_h"] = np.nan
        out["soreness_upper_h"] = np.nan


def _soreness_range(rec: Records, out: pd.DataFrame) -> None:
    """Finite soreness bounds beyond :data:`SORENESS_MAX_H` (a year) are out of range."""
    lower, upper = out["soreness_lower_h"], out["soreness_upper_h"]
    too_long = ((lower > SORENESS_MAX_H) | (np.isfinite(upper) & (upper > SORENESS_MAX_H)))
    too_long = too_long.fillna(False).to_numpy(dtype=bool)
    if not too_long.any():
        return
    column = "soreness" if "soreness" in rec.source_columns else "soreness_upper_h"
    shown = lower.where(lower > SORENESS_MAX_H, upper)
    rec.reject(too_long, column, "out_of_range",
               f"soreness duration {{value}} h is longer than a year ({SORENESS_MAX_H:g} h), "
               "the longest plausible; check the value or its unit", values=shown)
    out.loc[too_long, ["soreness_lower_h", "soreness_upper_h"]] = np.nan


def _duplicated_keys(data: pd.DataFrame) -> np.ndarray:
    """Records whose (patient, visit[, timing]) is complete and occurs more than once.

    On the categorical IDs and integer visits the loader builds, one int64 key per
    record (ID code x visit x timing) is hashed instead of a frame of columns. With a
    ``timing`` column the key includes it (a missing timing is its own value): a visit
    rated before and after needling has two records, a repeated pre-session rating is a
    duplicate.
    """
    ids, visits = data["patient_id"], data["visit"]
    timing = (pd.factorize(data["timing"], use_na_sentinel=False)[0].astype(np.int64)
              if "timing" in data else np.zeros(len(data), dtype=np.int64))
    if isinstance(ids.dtype, pd.CategoricalDtype) and pd.api.types.is_integer_dtype(visits.dtype):
        code = ids.cat.codes.to_numpy(dtype=np.int64)
        visit = visits.to_numpy(dtype=np.int64, na_value=-1)
        complete = (code >= 0) & (visit >= 0)
        span = int(visit.max()) + 1 if len(visit) else 1
        if complete.all() and 3 * span * (len(ids.cat.categories) + 1) < 2**62:
            return pd.Series((code * span + visit) * 3 + timing).duplicated(
                keep=False).to_numpy()
    keys = data[_key_columns(data)]
    return (keys.duplicated(keep=False).to_numpy()
            & data[["patient_id", "visit"]].notna().all(axis=1).to_numpy())


def _key_columns(data: pd.DataFrame) -> list[str]:
    return ["patient_id", "visit"] + (["timing"] if "timing" in data else [])


def check_duplicate_visits(rec: Records) -> None:
    """Several records for one patient and visit (and timing, when the data have one):
    collapse exact copies, reject conflicts."""
    data = rec.data
    alive = ~rec.rejected_mask
    dup_any = _duplicated_keys(data) & alive
    if not dup_any.any():
        return
    keys = _key_columns(data)
    sub = data.loc[dup_any].astype(str)
    exact_later = sub.duplicated(keep="first").to_numpy()
    n_versions = sub.drop_duplicates().groupby(keys).size()
    key_index = pd.MultiIndex.from_frame(sub[keys])
    conflicting = n_versions.reindex(key_index).to_numpy() > 1
    idx = np.flatnonzero(dup_any)
    first_row = pd.Series(rec.row_numbers[idx]).groupby(
        [sub[k].to_numpy() for k in keys]).transform("min").to_numpy()
    conflict_mask = np.zeros(len(data), dtype=bool)
    conflict_mask[idx[conflicting]] = True
    exact_mask = np.zeros(len(data), dtype=bool)
    exact_mask[idx[exact_later & ~conflicting]] = True
    when = (sub["timing"].map(lambda t: "" if t == "nan" else f" ({t})").to_numpy()
            if "timing" in data else np.full(len(sub), ""))
    messages = np.empty(len(data), dtype=object)
    messages[idx] = [
        f"patient {p} has more than one record for visit {v}{w} with different values "
        f"(first at row {r}); keep one"
        for p, v, w, r in zip(sub["patient_id"], sub["visit"], when, first_row)
    ]
    rec.reject(conflict_mask, "visit", "duplicate_visit", messages, values=data["visit"])
    messages[idx] = [
        f"exact copy of the record for patient {p}, visit {v}{w} at row {r}; collapsed into it"
        for p, v, w, r in zip(sub["patient_id"], sub["visit"], when, first_row)
    ]
    rec.reject(exact_mask, "visit", "exact_duplicate", messages, values=data["visit"])
