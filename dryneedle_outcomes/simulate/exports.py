"""Write a simulated trial as messy raw clinic and trial-office exports plus their mapping.

:func:`write_raw_exports` writes the canonical tables the way European clinics and trial
offices really export (semicolons, decimal commas, cp1252, day-first dates, per-site pain
scales, clinicians' free text, an Excel register with title rows) together with a
``mapping.toml`` that tells :func:`dryneedle_outcomes.load_cohort` how to read them, and
plants the problems of :mod:`.problems`.

Clinician text written by :func:`write_raw_exports`
---------------------------------------------------
Soreness intervals ``[lower, upper]`` (hours) are written so that they read back
exactly: ``[0, 0]`` -> ``"none"``; ``[h, h]`` -> ``"36"`` or ``"36h"`` (``"1 day"``,
``"2 days"`` when ``h`` is a whole number of days); ``[a, b]`` -> ``"24-48h"``,
``"24\u201348 hrs"`` or, in whole days, ``"1-2 days"``; ``[x, inf)`` -> ``">48h"``;
``[0, inf)`` -> ``"ongoing"``. Muscles are written with the synonyms of
:func:`dryneedle_outcomes.normalize.vocabulary.map_muscles` (``"Gastroc + soleus"``,
``"medial gastrocnemius, soleus"``, ``"FDB; plantar fascia"``); the code ``other``
is written as a muscle outside the vocabulary (``"tibialis posterior"``), which
the loader records as ``other`` and lists as unmatched. AE verbatim texts are
listed in :data:`~dryneedle_outcomes.simulate.AE_VERBATIMS`.
"""

from __future__ import annotations

import io
import json
import math
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import ConfigError
from .after_needling import AE_VERBATIMS, COMBINED_VERBATIMS
from .intercurrent import ICE_SYNONYMS, ICE_WORDINGS
from .parameters import MUSCLE_SITES, SimulatedTables
from .problems import PROBLEM_COLUMNS, plant_ice_problem, plant_problems


class ExportPaths(dict):
    """``dict`` of file role -> :class:`~pathlib.Path`, with the planted problems.

    Attributes
    ----------
    problems : pandas.DataFrame
        One row per planted problem: ``file``, ``row`` (spreadsheet-style: the
        header is row 1, or row 3 in the Excel register), ``column``, ``value``,
        ``problem`` and ``expected`` (what the loader should do). Empty when no
        problems were injected.
    """

    problems: pd.DataFrame


_CLINICIANS = ("Müller", "Lefèvre", "Ó Briain", "Núñez", "Sørensen", "Aubergé")
_COMMENTS_BASELINE = ("Bilan initial \u2013 talalgie", "Erstbefund: Fersenschmerz morgens",
                      "Initial assessment")
_COMMENTS_SESSION = ("Patient très satisfait", "Schmerz morgens besser", "douleur au réveil ++",
                     "pas d'amélioration", "tolerated well")
_SEVERITY_TEXT = {
    "mild": ("mild", "Mild", "Grade 1"),
    "moderate": ("Moderate", "moderate", "Grade 2"),
    "severe": ("Severe", "Grade 3"),
}

# Clinician-style spellings of each canonical muscle (all read back by map_muscles).
_MUSCLE_TEXT: dict[str, tuple[str, ...]] = {
    "gastrocnemius": ("Gastroc", "gastrocnemius", "medial gastrocnemius", "lateral gastrocnemius",
                      "gastroc"),
    "soleus": ("soleus", "Soleus"),
    "intrinsic_foot": ("FDB", "abductor hallucis", "quadratus plantae", "flexor digitorum brevis",
                       "abductor digiti minimi"),
    "plantar_fascia": ("plantar fascia", "PF"),
    "other": ("tibialis posterior", "peroneus longus"),
}
_MUSCLE_SEPARATORS = (" + ", ", ", "; ", " / ")


def _fmt_decimal(values: pd.Series, decimals: int, strip_zero: bool) -> pd.Series:
    """Numbers as text with a decimal comma (``"55,8"``); ``"56"`` when ``strip_zero``."""
    text = values.map(f"{{:.{decimals}f}}".format).str.replace(".", ",", regex=False)
    if strip_zero:
        whole = np.isclose(values, np.round(values))
        text = text.where(~whole, values.round().astype(int).astype(str))
    return text.where(values.notna(), "")


def _soreness_text(rng: np.random.Generator, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Clinician text for soreness intervals; each form reads back to the same interval."""
    n = len(lo)
    out = np.full(n, "", dtype=object)
    u = rng.random(n)
    has = ~np.isnan(lo)
    lo_i = np.where(has & np.isfinite(lo), lo, 0).astype(int)
    hi_f = np.where(has, hi, 0.0)
    hi_i = np.where(np.isfinite(hi_f), hi_f, 0).astype(int)
    lo_s = pd.Series(lo_i).astype(str).to_numpy(dtype=object)
    hi_s = pd.Series(hi_i).astype(str).to_numpy(dtype=object)
    lo_d = pd.Series(lo_i // 24).astype(str).to_numpy(dtype=object)
    hi_d = pd.Series(hi_i // 24).astype(str).to_numpy(dtype=object)
    none = has & (hi_f == 0)
    exact = has & (lo == hi_f) & ~none
    rng_ = has & np.isfinite(hi_f) & (lo < hi_f)
    open_ = has & np.isinf(hi_f)
    whole_days = (lo_i % 24 == 0) & (hi_i % 24 == 0)
    # exact hours
    day_word = np.where(lo_i == 24, " day", " days").astype(object)
    ex_text = np.where(u < 0.5, lo_s, lo_s + "h")
    ex_text = np.where(exact & (lo_i % 24 == 0) & (u > 0.7), lo_d + day_word, ex_text)
    # ranges
    r_text = np.where(u < 0.45, lo_s + "-" + hi_s + "h", lo_s + "\u2013" + hi_s + " hrs")
    r_text = np.where(rng_ & whole_days & (lo_i > 0) & (u > 0.7),
                      lo_d + "-" + hi_d + " days", r_text)
    o_text = np.where(lo_i > 0, ">" + lo_s + "h", "ongoing")
    out = np.select([none, exact, rng_, open_], ["none", ex_text, r_text, o_text], "")
    return out.astype(object)


_INTRINSIC_TEXT: dict[str, tuple[str, ...]] = {
    "abductor_hallucis": ("abductor hallucis", "abd hallucis", "AbdH"),
    "flexor_digitorum_brevis": ("FDB", "flexor digitorum brevis"),
    "quadratus_plantae": ("quadratus plantae", "QP"),
    "abductor_digiti_minimi": ("abductor digiti minimi", "ADM"),
}
_SIDE_PREFIX = {"left": ("L ", "Lt ", "left "), "right": ("R ", "Rt ", "right "),
                "bilateral": ("B/L ", "bilateral ", "both ")}
_SIDE_SUFFIX = {"left": (" (left)", " (L)"), "right": (" (right)", " (R)"),
                "bilateral": (" (bilateral)", " (both sides)")}
_TECHNIQUE_TEXT = {"pistoning": ("fast-in fast-out", "pistoning", "FIFO", "Pistoning"),
                   "static": ("static", "no manipulation", "Static (retained)")}
_PLACEHOLDER = "\x00"


def _variants(rng: np.random.Generator, texts: dict[str, tuple[str, ...]], keys,
              n_var: int) -> np.ndarray:
    """``n_var`` spellings per key (rows of the array), each part from ``texts``."""
    grid = np.empty((len(keys), n_var), dtype=object)
    for i, key in enumerate(keys):   # distinct muscle lists, not rows
        parts = str(key).split(";")
        for j in range(n_var):
            grid[i, j] = ", ".join(texts[m][rng.integers(len(texts[m]))] for m in parts)
    return grid


def _pick(rng: np.random.Generator, keys: pd.Series, grid_keys, grid: np.ndarray) -> np.ndarray:
    """One spelling of ``grid`` per row of ``keys`` (empty text where the key is missing)."""
    pos = pd.Series(np.arange(len(grid_keys)), index=list(grid_keys))
    idx = keys.map(pos)
    has = idx.notna().to_numpy()
    out = np.full(len(keys), "", dtype=object)
    choice = rng.integers(0, grid.shape[1], len(keys))
    out[has] = grid[idx[has].astype(int).to_numpy(), choice[has]]
    return out


def _muscle_text(rng: np.random.Generator, muscles: pd.Series, own: np.random.Generator,
                 laterality: pd.Series | None = None) -> np.ndarray:
    """Clinician spellings of canonical muscle lists (``"L gastroc + soleus"``).

    ``rng`` (the exports' stream) picks the separators and the spellings of each site
    exactly as before the intrinsic muscles were named; ``own`` (the needling details'
    stream) spells the named intrinsic muscles and the side, so the other columns of the
    exports keep their random numbers.
    """
    # Precompute a few spellings for each of the 31 combinations of sites, then pick per row.
    n_var = 6
    table = {}
    for code in range(1, 1 << len(MUSCLE_SITES)):
        canon = ";".join(m for i, m in enumerate(MUSCLE_SITES) if code >> i & 1)
        parts_all = [m for i, m in enumerate(MUSCLE_SITES) if code >> i & 1]
        variants = []
        for _ in range(n_var):
            sep = _MUSCLE_SEPARATORS[rng.integers(len(_MUSCLE_SEPARATORS))]
            words = [_MUSCLE_TEXT[m][rng.integers(len(_MUSCLE_TEXT[m]))] for m in parts_all]
            words = [_PLACEHOLDER if m == "intrinsic_foot" else w
                     for m, w in zip(parts_all, words)]
            if len(words) > 1 and rng.random() < 0.3:
                words = [words[0]] + [w.lower() if w not in ("FDB", "PF") else w
                                      for w in words[1:]]
            variants.append(sep.join(words))
        table[canon] = variants
    keys = list(table)
    grid = np.array([table[k] for k in keys], dtype=object)
    # per distinct muscle list (not per row): its sites and its named intrinsic muscles
    codes, uniques = pd.factorize(muscles.reset_index(drop=True), use_na_sentinel=True)
    parts_u = [str(u).split(";") for u in uniques]
    sites_u = np.array([";".join(dict.fromkeys("intrinsic_foot" if m in _INTRINSIC_TEXT else m
                                               for m in ms)) for ms in parts_u] + [np.nan],
                       dtype=object)
    named_u = np.array([";".join(m for m in ms if m in _INTRINSIC_TEXT) for ms in parts_u]
                       + [np.nan], dtype=object)
    sites = pd.Series(sites_u[codes], dtype=object)   # code -1 takes the trailing NaN
    named = pd.Series(named_u[codes], dtype=object)
    out = pd.Series(_pick(rng, sites, keys, grid))
    named_keys = sorted(set(named.dropna()) - {""})   # distinct lists, not rows
    intrinsic = _pick(own, named, named_keys,
                      _variants(own, _INTRINSIC_TEXT, named_keys, 3)
                      if named_keys else np.empty((0, 1), dtype=object))
    out = out.str.replace(_PLACEHOLDER, "{}", regex=False)
    has = out.str.contains("{}", regex=False).to_numpy()
    left = out.str.partition("{}")
    out = out.where(~has, left[0] + pd.Series(intrinsic) + left[2])
    if laterality is not None:
        side = laterality.reset_index(drop=True).to_numpy(dtype=object)
        u = own.random(len(out))
        k = own.integers(0, 3, len(out))
        pre_text = np.full(len(out), "", dtype=object)
        post_text = np.full(len(out), "", dtype=object)
        for value in _SIDE_PREFIX:   # three sides, not rows
            pre = np.asarray(_SIDE_PREFIX[value], dtype=object)
            post = np.asarray(_SIDE_SUFFIX[value], dtype=object)
            pre_text = np.where(side == value, pre[k % len(pre)], pre_text)
            post_text = np.where(side == value, post[k % len(post)], post_text)
        given = pd.notna(side) & (out != "").to_numpy()
        pre = given & (u < 0.55)
        post = given & (u >= 0.55) & (u < 0.85)   # the rest: no side written
        out = out.where(~pre, pre_text + out).where(~post, out + post_text)
    return out.to_numpy(dtype=object)


def _technique_text(own: np.random.Generator, technique: pd.Series) -> np.ndarray:
    """Clinician wording of the technique (blank when not needled)."""
    keys = list(_TECHNIQUE_TEXT)
    grid = np.array([[t[i % len(t)] for i in range(4)] for t in _TECHNIQUE_TEXT.values()],
                    dtype=object)
    return _pick(own, technique.reset_index(drop=True), keys, grid)


_RELATED_TEXT = {"related": "probable", "possibly_related": "possible",
                 "unlikely_related": "unlikely", "not_related": "not related"}
_ACTION_TEXT = {"none": "none", "first_aid": "pressure applied", "medication": "medication",
                "treatment_modified": "treatment modified",
                "treatment_interrupted": "session stopped",
                "treatment_stopped": "needling stopped", "referred": "referred to GP",
                "other": "other"}


def _hours_text(rng: np.random.Generator, hours: np.ndarray) -> np.ndarray:
    """Clinician text for a number of hours (``"0"``, ``"6 h"``, ``"2 days"``, ``"15 min"``)
    that reads back to the hours to the precision written."""
    n = len(hours)
    u = rng.random(n)
    h = np.nan_to_num(hours)
    mins = np.round(h * 60).astype(int)
    whole_h = np.round(h).astype(int)
    days = np.round(h / 24).astype(int)
    text = np.where(u < 0.5, pd.Series(whole_h).astype(str) + " h",
                    pd.Series(whole_h).astype(str)).astype(object)
    text = np.where(h < 1, pd.Series(mins).astype(str) + " min", text)
    day_ok = (h >= 48) & np.isclose(h, 24 * days)
    text = np.where(day_ok, pd.Series(days).astype(str) + " days", text)
    return np.where(np.isnan(hours), "", text).astype(object)


def _toml_str(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)


def _mapping_toml(truth: dict) -> str:
    labels = truth["visit_labels"]
    scales = truth["record_scales"]
    sites = truth["sites"]
    main_scale = scales[sites[0]]
    visit_codes = "\n".join(f"{_toml_str(lab)} = {v}" for v, lab in labels.items())
    lines = [
        "# How to read the raw exports of the synthetic DN-PF trial with dno.load_cohort.",
        "# Written by dryneedle_outcomes.simulate.write_raw_exports.",
        "",
        "[assessments]",
        'layout = "long"',
        'delimiter = ";"',
        'decimal = ","',
        'encoding = "cp1252"',
        'date_convention = "dayfirst"',
        f'assessed = "{truth.get("assessed", "after_session")}"   # what a session-k score '
        'reflects (see dryneedle_outcomes.timing)',
        "",
        "[assessments.columns]",
        'patient_id = "Study ID"',
        'site = "Clinic"',
        'visit = "Visit"',
        'date = "Visit date"',
        'first_step_pain = "First-step pain"',
        'vas_pain = "Usual pain"',
        'needled = "Needled"',
        'needles = "No. of needles"',
        'twitch_responses = "LTRs"',
        'muscles = "Muscles needled"',
        'soreness = "Soreness after session"',
        'technique = "Technique"',
        'retention_min = "Retention (min)"',
        "",
        "[assessments.scales]",
        f"first_step_pain = {_toml_str(main_scale)}",
        'vas_pain = "mm"',
    ]
    for site in sites:
        if scales[site] != main_scale:
            lines += ["", f"[assessments.site_scales.{_toml_str(site)}]",
                      f"first_step_pain = {_toml_str(scales[site])}"
                      + ("   # a 0-10 NRS: its own instrument, first_step_pain_nrs"
                         if scales[site] == "nrs10" else "")]
    if "nrs10" in (scales[site] for site in sites):
        lines += ["", "# The NRS is pooled with the VAS (x10) on purpose; the ledger lists the",
                  "# pooled rows, the report's methods say so, and the models adjust for the",
                  "# instrument. Remove this table to analyse the NRS as its own outcome.",
                  "[assessments.pool_as]",
                  'first_step_pain_nrs = "first_step_pain"']
    lines += [
        "",
        "[assessments.codes.visit]",
        visit_codes,
        "",
        "[assessments.codes.needled]",
        '"Y" = true',
        '"N" = false',
        "",
        "# Muscles outside the fixed vocabulary that this clinic needles.",
        "[assessments.muscle_synonyms]",
        *[f'{_toml_str(v)} = "other"' for v in _MUSCLE_TEXT["other"]],
        "",
        "[patients]",
        'sheet = "Participants"',
        "header_row = 3",
        "",
        "[patients.columns]",
        'patient_id = "Participant"',
        'arm = "Allocation"',
        'site = "Site"',
        'age = "Age (y)"',
        'sex = "Sex"',
        'bmi = "BMI"',
        'symptom_months = "Duration of symptoms (months)"',
        'pregnant = "Pregnant"',
        'immunocompromised = "Immunocompromised"',
        'needle_fear = "Needle phobia"',
        'allocation_guess = "Guess of allocation (end of treatment)"',
        "",
        "[patients.codes.arm]",
    ]
    lines += [f'"{i + 1}" = {_toml_str(a)}' for i, a in enumerate(truth["arms"])]
    lines += [
        "",
        "[patients.codes.sex]",
        '"F" = "female"',
        '"M" = "male"',
        "",
        "[adverse_events]",
        "",
        "[adverse_events.columns]",
        'patient_id = "Study ID"',
        'visit = "Visit"',
        'verbatim = "Event (verbatim)"',
        'severity = "Severity"',
        'serious = "Serious"',
        'relatedness = "Related to needling"',
        'onset_h = "Onset after session"',
        'duration_h = "Duration"',
        'action_taken = "Action taken"',
        'withdrawal = "Led to withdrawal"',
        'ascertainment = "How reported"',
        "",
        "[adverse_events.codes.visit]",
        visit_codes,
        "",
        "[adverse_events.codes.severity]",
        '"Grade 1" = "mild"',
        '"Grade 2" = "moderate"',
        '"Grade 3" = "severe"',
        "",
        "# Verbatim texts this trial office uses for events outside the fixed terms.",
        "[adverse_events.synonyms]",
    ]
    lines += [f'{_toml_str(v)} = "other"' for v in AE_VERBATIMS["other"]]
    lines += [
        "",
        "[intercurrent_events]",
        'delimiter = ";"',
        'encoding = "utf-8"',
        "",
        "[intercurrent_events.columns]",
        'patient_id = "Study ID"',
        'visit = "Visit"',
        'day = "Study day"',
        'event = "Event"',
        'reason = "Details"',
        "",
        "[intercurrent_events.codes.visit]",
        visit_codes,
        "",
        "# Wordings this clinic uses outside the intercurrent-event vocabulary.",
        "[intercurrent_events.synonyms]",
        *[f"{_toml_str(k)} = {_toml_str(v)}" for k, v in ICE_SYNONYMS.items()],
    ]
    return "\n".join(lines) + "\n"


def _ice_export(sim: SimulatedTables) -> pd.DataFrame:
    """The intercurrent events as the clinic writes them (wordings, visit labels, reasons).

    The wordings are drawn from their own stream (a child of the seed's export stream),
    so that the other exports keep theirs.
    """
    ice = sim.intercurrent_events.reset_index(drop=True)
    rng = np.random.default_rng([int(sim.truth["seed"]) % (2**63), 20240917, 1])
    event = ice["event"].astype(str).to_numpy(dtype=object)
    u = rng.random(len(ice))
    words = np.empty(len(ice), dtype=object)
    for name in pd.unique(event):  # a few events, not rows
        mask = event == name
        texts = np.asarray(ICE_WORDINGS[name], dtype=object)
        words[mask] = texts[np.minimum((u[mask] * len(texts)).astype(int), len(texts) - 1)]
    day = ice["day"].to_numpy(dtype=float)
    return pd.DataFrame({
        "Study ID": ice["patient_id"].to_numpy(dtype=object),
        "Visit": ice["visit"].map(sim.truth["visit_labels"]).to_numpy(dtype=object),
        "Study day": np.where(np.isnan(day), "",
                              pd.Series(np.nan_to_num(day)).astype(int).astype(str)),
        "Event": words,
        "Details": ice["reason"].fillna("").to_numpy(dtype=object),
    })


def _normalise_xlsx(path: Path) -> None:
    """Rewrite an .xlsx with fixed timestamps so the same data give the same bytes."""
    fixed = "2014-08-01T00:00:00Z"
    with zipfile.ZipFile(path) as zin:
        entries = [(info.filename, zin.read(info.filename)) for info in zin.infolist()]
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zout:
        for name, data in entries:
            if name == "docProps/core.xml":
                text = data.decode("utf-8")
                for tag in ("dcterms:created", "dcterms:modified"):
                    start = text.find(f"<{tag}")
                    if start >= 0:
                        open_end = text.find(">", start) + 1
                        close = text.find(f"</{tag}>", open_end)
                        text = text[:open_end] + fixed + text[close:]
                data = text.encode("utf-8")
            info = zipfile.ZipInfo(name, date_time=(2014, 8, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            zout.writestr(info, data)
    path.write_bytes(buf.getvalue())


def _write_patients_xlsx(path: Path, frame: pd.DataFrame, truth: dict) -> None:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "Participants"
    ws.append(["DN-PF trial \u2014 participant register"])
    ws.append([])
    ws.append(list(frame.columns))
    for row in frame.itertuples(index=False):  # writing cells; openpyxl has no bulk API
        ws.append([None if (isinstance(v, float) and math.isnan(v)) else
                   (v.item() if hasattr(v, "item") else v) for v in row])
    notes = wb.create_sheet("Notes")
    arms = truth["arms"]
    notes.append(["Notes on the participant register"])
    notes.append(["Allocation codes: " + ", ".join(f"{i + 1} = {a.replace('_', ' ')}"
                                                    for i, a in enumerate(arms))])
    notes.append(["Sham = non-penetrating needle (Cotchett et al. 2014 style)."])
    notes.append(["Duration of symptoms in months at screening; BMI in kg/m\u00b2."])
    notes.append(["Pregnancy and immunocompromise are contraindications to needling."])
    notes.append([f"SYNTHETIC DATA generated by dryneedle_outcomes.simulate "
                  f"(seed {truth['seed']}): not real patients."])
    wb.save(path)
    _normalise_xlsx(path)


def write_raw_exports(
    sim: SimulatedTables, directory: str | Path, *, inject_problems: bool = True
) -> ExportPaths:
    """Write a simulated trial as messy clinic exports plus the mapping that reads them.

    Files written in ``directory`` (created if needed):

    ``assessments.csv``
        Semicolon-delimited, decimal comma, cp1252, Windows line ends, one row per
        patient visit: "Study ID", "Clinic", "Visit" (``"Baseline"``,
        ``"Session 1"``.., ``"Follow-up 12 wk"``), "Visit date" (dd/mm/yyyy, no day
        column), "First-step pain" (per-site scale: cm with one decimal or NRS 0-10),
        "Usual pain" (mm), "Needled" (Y/N), "No. of needles", "LTRs", "Muscles
        needled" (clinician spellings), "Soreness after session" (text),
        "Clinician" and "Comment" (accented text).
    ``patients.xlsx``
        Sheet "Participants" with two title rows above the header (header on row
        3), allocation coded 1, 2, ..., Y/N flags; a second sheet "Notes".
    ``adverse_events.csv``
        UTF-8 with BOM, comma-delimited: "Study ID", "Visit", "Event (verbatim)",
        "Severity" (mild/Moderate/Grade 1 ...), "Serious" (Y/N).
    ``intercurrent_events.csv``
        Semicolon-delimited UTF-8, one row per intercurrent event: "Study ID",
        "Visit" (the first visit affected), "Study day", "Event" (the clinic's wording:
        "Lost to follow-up", "NSAIDs", "insoles", "Einlagen"; the last is a synonym the
        mapping declares) and "Details" (free text).
    ``mapping.toml``
        The mapping for :func:`dryneedle_outcomes.load_cohort`.
    ``planted_problems.csv``
        Only with ``inject_problems``: the planted problems (also in ``.problems``).

    Parameters
    ----------
    sim : SimulatedTables
        Output of :func:`simulate_tables`.
    directory : path
        Output folder.
    inject_problems : bool
        Plant eight realistic problems touching eight rows: a first-step pain
        written in mm in a cm (or NRS) column, an impossible date, a duplicate visit
        with a conflicting value, an exact duplicate row, a visit of a patient not in
        the register, an ID typed in lower case with a trailing space, a
        participant marked pregnant who was needled, and an intercurrent event
        recorded at the baseline visit.

    Returns
    -------
    ExportPaths
        ``{"assessments", "patients", "adverse_events", "intercurrent_events",
        "mapping"[, "problems"]}``
        -> path, with the planted problems in ``.problems``.

    Examples
    --------
    >>> import tempfile
    >>> from dryneedle_outcomes.simulate import simulate_tables
    >>> sim = simulate_tables(30, seed=5)
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     paths = write_raw_exports(sim, tmp)
    ...     raw = pd.read_csv(paths["assessments"], sep=";", decimal=",", encoding="cp1252")
    ...     sorted(paths), len(paths.problems)   # doctest: +NORMALIZE_WHITESPACE
    (['adverse_events', 'assessments', 'intercurrent_events', 'mapping', 'patients',
      'problems'], 8)
    """
    if sim.truth.get("within_session") is not None:
        raise ConfigError("write_raw_exports writes one rating per visit; a trial simulated "
                          "with within_session=True (pre- and post-session ratings) is "
                          "available as tables (simulate_tables) or a cohort "
                          "(simulate_cohort), not as raw clinic exports")
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    truth = sim.truth
    seed = truth["seed"]
    rng = np.random.default_rng([int(seed) % (2**63), 20240917])
    labels = truth["visit_labels"]
    scales = truth["record_scales"]
    a = sim.assessments.reset_index(drop=True)
    pats = sim.patients.set_index("patient_id")
    site = a["patient_id"].map(pats["site"])

    # ---- dates --------------------------------------------------------------------
    n_pat = len(sim.patients)
    start = pd.Timestamp("2023-02-06")
    base_dates = pd.Series(start + pd.to_timedelta(rng.integers(0, 420, n_pat), unit="D"),
                           index=sim.patients["patient_id"].to_numpy())
    dates = a["patient_id"].map(base_dates) + pd.to_timedelta(a["day"], unit="D")

    # ---- first-step pain on the site's scale ----------------------------------------
    fsp_scale = site.map(scales).to_numpy()
    fsp = a["first_step_pain"]
    fsp_text = np.select(
        [fsp_scale == "cm", fsp_scale == "nrs10"],
        [_fmt_decimal(fsp / 10.0, 1, False).to_numpy(dtype=object),
         _fmt_decimal((fsp / 10.0).round(), 0, False).to_numpy(dtype=object)],
        _fmt_decimal(fsp, 1, True).to_numpy(dtype=object),
    )
    fsp_text = np.where(fsp.isna(), "", fsp_text).astype(object)

    # ---- clinicians and comments -----------------------------------------------------
    site_codes = pd.Categorical(site, categories=list(truth["sites"])).codes
    clin_pref = a["patient_id"].map(
        pd.Series(rng.integers(0, 2, n_pat), index=sim.patients["patient_id"].to_numpy()))
    swap = rng.random(len(a)) < 0.15
    clin_idx = (2 * site_codes + (clin_pref.to_numpy() ^ swap)) % len(_CLINICIANS)
    clinician = np.asarray(_CLINICIANS, dtype=object)[clin_idx]
    kinds = truth["visits"].set_index("visit")["kind"]
    kind = a["visit"].map(kinds).to_numpy()
    u = rng.random(len(a))
    comment = np.full(len(a), "", dtype=object)
    pick_b = rng.integers(0, len(_COMMENTS_BASELINE), len(a))
    pick_s = rng.integers(0, len(_COMMENTS_SESSION), len(a))
    comment = np.where((kind == "baseline") & (u < 0.25),
                       np.asarray(_COMMENTS_BASELINE, dtype=object)[pick_b], comment)
    comment = np.where((kind == "session") & (u < 0.05),
                       np.asarray(_COMMENTS_SESSION, dtype=object)[pick_s], comment)
    fu_text = a["visit"].map(
        {v: f"Réévaluation {lab.split()[1]} sem." for v, lab in labels.items()
         if lab.startswith("Follow-up")}).to_numpy(dtype=object)
    comment = np.where((kind == "follow_up") & (u < 0.4), fu_text, comment)

    # ---- needling details: spelled on their own stream (the exports' draws unchanged) --
    own = np.random.default_rng([int(seed) % (2**63), 20240917, 3])
    muscle_text = _muscle_text(rng, a["muscles"], own, a.get("laterality"))
    blank = pd.Series(np.nan, index=a.index, dtype=object)
    technique_text = _technique_text(own, a.get("technique", blank))
    retention = a.get("retention_min", blank).astype(float)
    retention_text = (retention.map("{:g}".format).str.replace(".", ",", regex=False)
                      .where(retention.notna(), "").to_numpy(dtype=object))

    raw = pd.DataFrame({
        "Study ID": a["patient_id"].to_numpy(dtype=object),
        "Clinic": site.to_numpy(dtype=object),
        "Visit": a["visit"].map(labels).to_numpy(dtype=object),
        "Visit date": dates.dt.strftime("%d/%m/%Y").to_numpy(dtype=object),
        "First-step pain": fsp_text,
        "Usual pain": _fmt_decimal(a["vas_pain"], 1, True).to_numpy(dtype=object),
        "Needled": np.where(a["needled"], "Y", "N").astype(object),
        "No. of needles": a["needles"].astype(str).to_numpy(dtype=object),
        "LTRs": a["twitch_responses"].astype(str).to_numpy(dtype=object),
        "Muscles needled": muscle_text,
        "Soreness after session": _soreness_text(
            rng, a["soreness_lower_h"].to_numpy(), a["soreness_upper_h"].to_numpy()),
        "Technique": technique_text,
        "Retention (min)": retention_text,
        "Clinician": clinician,
        "Comment": comment,
    })

    # ---- patients register ----------------------------------------------------------
    arm_code = {arm: i + 1 for i, arm in enumerate(truth["arms"])}
    yn = {True: "Y", False: "N"}
    p = sim.patients
    reg = pd.DataFrame({
        "Participant": p["patient_id"].to_numpy(dtype=object),
        "Allocation": p["arm"].astype(str).map(arm_code).astype(int).to_numpy(),
        "Site": p["site"].to_numpy(dtype=object),
        "Age (y)": p["age"].round().astype(int).to_numpy(),
        "Sex": p["sex"].map({"female": "F", "male": "M"}).to_numpy(dtype=object),
        "BMI": p["bmi"].to_numpy(),
        "Duration of symptoms (months)": p["symptom_months"].to_numpy(),
        "Pregnant": p["pregnant"].map(yn).to_numpy(dtype=object),
        "Immunocompromised": p["immunocompromised"].map(yn).to_numpy(dtype=object),
        "Needle phobia": p["needle_fear"].map(yn).to_numpy(dtype=object),
        "Guess of allocation (end of treatment)": p["allocation_guess"].to_numpy(dtype=object),
    })

    # ---- adverse events -----------------------------------------------------------------
    ae = sim.adverse_events.reset_index(drop=True)
    sev_choice = rng.random(len(ae))
    sev_text = np.empty(len(ae), dtype=object)
    for sev, texts in _SEVERITY_TEXT.items():  # three severities, not rows
        mask = (ae["severity"] == sev).to_numpy()
        sev_text[mask] = np.asarray(texts, dtype=object)[
            (sev_choice[mask] * len(texts)).astype(int)]
    ae_raw = pd.DataFrame({
        "Study ID": ae["patient_id"].to_numpy(dtype=object),
        "Visit": ae["visit"].map(labels).to_numpy(dtype=object),
        "Event (verbatim)": ae["verbatim"].to_numpy(dtype=object),
        "Severity": sev_text,
        "Serious": np.where(ae["serious"].to_numpy(dtype=bool), "Y", "N").astype(object),
        "Related to needling": ae["relatedness"].map(_RELATED_TEXT).to_numpy(dtype=object),
        "Onset after session": _hours_text(rng, ae["onset_h"].to_numpy(dtype=float)),
        "Duration": _hours_text(rng, ae["duration_h"].to_numpy(dtype=float)),
        "Action taken": ae["action_taken"].map(_ACTION_TEXT).to_numpy(dtype=object),
        "Led to withdrawal": np.where(ae["withdrawal"].to_numpy(dtype=bool), "Y",
                                      "N").astype(object),
        "How reported": ae["ascertainment"].map(
            {"systematic": "questionnaire", "spontaneous": "spontaneous"}).to_numpy(dtype=object),
    })
    # one verbatim naming several events ("bruising and bleeding") is one record
    combined = ae["verbatim"].isin(COMBINED_VERBATIMS).to_numpy()
    dup = combined & ae.duplicated(["patient_id", "visit", "verbatim"]).to_numpy()
    ae_raw = ae_raw[~dup].reset_index(drop=True)

    problems: list[dict] = []
    order_key = np.arange(len(raw), dtype=float)
    if inject_problems:
        raw, order_key, reg, problems = plant_problems(rng, sim, raw, order_key, reg, fsp_scale)
    ice_raw = _ice_export(sim)
    if inject_problems:
        ice_raw, ice_problem = plant_ice_problem(
            np.random.default_rng([int(seed) % (2**63), 20240917, 2]), ice_raw,
            labels[0], sim.patients["patient_id"].to_numpy(),
            {str(p["patient_id"]) for p in problems})
        if ice_problem is not None:
            problems.append(ice_problem)
    raw = raw.iloc[np.argsort(order_key, kind="stable")].reset_index(drop=True)
    row_of = {k: i + 2 for i, k in enumerate(np.sort(order_key))}
    for prob in problems:
        if prob["file"] == "assessments.csv":
            prob["row"] = row_of[prob.pop("_key")]

    paths = ExportPaths()
    paths["assessments"] = directory / "assessments.csv"
    raw.to_csv(paths["assessments"], sep=";", index=False, encoding="cp1252",
               lineterminator="\r\n")
    paths["patients"] = directory / "patients.xlsx"
    _write_patients_xlsx(paths["patients"], reg, truth)
    paths["adverse_events"] = directory / "adverse_events.csv"
    ae_raw.to_csv(paths["adverse_events"], index=False, encoding="utf-8-sig")
    paths["intercurrent_events"] = directory / "intercurrent_events.csv"
    ice_raw.to_csv(paths["intercurrent_events"], sep=";", index=False, encoding="utf-8")
    paths["mapping"] = directory / "mapping.toml"
    paths["mapping"].write_text(_mapping_toml(truth), encoding="utf-8")
    paths.problems = pd.DataFrame(problems, columns=list(PROBLEM_COLUMNS)).astype(
        {"row": "Int64", "visit": "Int64"})
    if inject_problems:
        paths["problems"] = directory / "planted_problems.csv"
        paths.problems.to_csv(paths["problems"], index=False, encoding="utf-8")
    return paths
