"""Synthetic dry-needling cohorts: canonical tables, messy raw exports and the sample.

:func:`simulate_tables` draws a randomised trial of trigger-point dry needling for
plantar heel pain (plantar fasciitis) straight into the three canonical tables
(``patients``, ``assessments``, ``adverse_events``) plus the ``truth`` it was drawn
from. :func:`simulate_cohort` loads those tables into a :class:`~dryneedle_outcomes.cohort.Cohort`.
:func:`write_raw_exports` writes them the way European clinics and trial offices
really export (semicolons, decimal commas, cp1252, day-first dates, per-site pain
scales, clinicians' free text, an Excel register with title rows) together with a
``mapping.toml`` that tells :func:`dryneedle_outcomes.load_cohort` how to read them,
and plants a handful of realistic data problems. :func:`write_sample` makes
``data/sample/``; ``python -m dryneedle_outcomes.simulate DIR`` does the same.

Everything is vectorised (numpy / pandas): 100,000 patients take a few seconds.
The same ``seed`` always gives identical tables (``numpy.random.default_rng``).

Realism targets (defaults) and their sources
--------------------------------------------
Design: Cotchett MP, Munteanu SE, Landorf KB. Effectiveness of trigger point dry
needling for plantar heel pain: a randomized controlled trial. Phys Ther.
2014;94(8):1083-1094 -- 84 participants, real vs sham (non-penetrating) dry
needling, once a week for 6 weeks; here a follow-up at 12 weeks is added.

* Baseline first-step pain ~ N(68, 15) mm truncated to [25, 100] (eligibility on
  the measured baseline; intercept SD 12 mm and residual SD 10 mm give 15.6 before
  truncation).
* Both arms improve along a plateauing curve ``-A * (1 - exp(-week / tau))`` with
  ``A = 22`` mm and ``tau = 4`` weeks: the sham arm improves by about 17 mm by week 6
  and 21 mm by week 12.
* The true real-minus-sham difference reaches ``effect_mm`` (-14.4 mm, Cotchett
  2014; He & Ma 2017 meta-analysis -15.5 mm) at the last session, gradually
  (``(1 - exp(-k / 3)) / (1 - exp(-n / 3))`` after ``k`` of ``n`` sessions: about
  a third of it after session 1); 85% of it persists at follow-up.
* Random intercept SD 12 mm, random slope SD 1 mm/week (correlation -0.3 with the
  intercept), residual SD 10 mm.
* Usual pain (``vas_pain``) = 0.9 x first-step pain - 4 mm + N(0, 7) noise
  (correlation about 0.9; a bit lower than first-step pain).
* Dropout: a fraction ``dropout`` (10%) of patients stop attending at a random
  visit after baseline (monotone missingness, completely at random), plus 2% of
  other visits missed in isolation.
* Adverse events (AEs): in the real-needling arm about 30% of appointments have at
  least one AE (Cotchett 2014: 70 events in 32% of real-needling appointments vs 1
  with sham). Per treatment: bruising 7.6% and bleeding 4.7% (Brady S et al. The
  short-term effects of dry needling: adverse events... J Man Manip Ther.
  2014;22(3):134-140, 7,629 treatments); post-needling soreness the most common
  (18%); needle-site pain 3%; vasovagal reactions rare (0.15%) except in
  needle-fearful patients (2%); infection essentially never. The probability of
  each local AE is proportional to the number of needles inserted. Sham
  appointments: 0.4% (about one event in the sham arm of an 84-patient trial).
* Post-needling soreness (DESIGN.md: resolves within 24-48 h): the true duration is
  0 h for 10% of sessions, otherwise lognormal with median 24 h x 0.93^(k-1) at
  session ``k`` and sigma 0.54 (so 90% of durations under 48 h at session 1).
* Patients: age ~ N(50, 11) truncated to 18-85 (whole years), 60% female, BMI
  ~ N(30, 5) truncated to 18-55, symptom duration lognormal with median 10 months,
  pregnant in 1% of women aged 45 or less, immunocompromised 2%, needle fear 15%.
  Contraindicated patients (pregnant or immunocompromised) allocated to real
  needling are not needled; the treatment effect among the needled is scaled so
  that the intention-to-treat difference is exactly ``effect_mm``.

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
listed in :data:`AE_VERBATIMS`.

Examples
--------
>>> from dryneedle_outcomes.simulate import simulate_tables
>>> sim = simulate_tables(84, seed=2014)
>>> len(sim.patients), sim.patients["arm"].value_counts().to_dict()
(84, {'dry_needling': 42, 'sham': 42})
>>> float(sim.truth["arm_difference"].set_index("visit").loc[6, "first_step_pain"])
-14.4
"""

from __future__ import annotations

import argparse
import io
import json
import math
import os
import sys
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .errors import ConfigError, OutputFolderError
from .normalize.vocabulary import AE_TERMS, MUSCLES

if TYPE_CHECKING:  # pragma: no cover
    from .cohort import Cohort

__all__ = [
    "AE_TERMS",
    "AE_VERBATIMS",
    "MUSCLES",
    "ExportPaths",
    "SimulatedTables",
    "SimulationParameters",
    "simulate_cohort",
    "simulate_tables",
    "visit_labels",
    "write_raw_exports",
    "write_sample",
]

# the vocabularies are defined once, in normalize.vocabulary


AE_VERBATIMS: dict[str, tuple[str, ...]] = {
    "post_needling_soreness": (
        "DOMS 2 days",
        "sore calf",
        "post-needling soreness",
        "Muscle soreness after tx",
        "achy calf next day",
        "sore heel for a day",
        "stiff calf 24h",
        "post needling soreness gastroc",
    ),
    "bruising": (
        "small bruise medial calf",
        "Haematoma L gastroc",
        "bruise R calf",
        "bruising at needle site",
        "minor bruising soleus",
        "small haematoma medial heel",
        "bruised calf",
    ),
    "bleeding": (
        "pinpoint bleeding",
        "minor bleeding at insertion site",
        "bleeding - pressure applied",
        "spot bleeding calf",
        "small bleed on needle removal",
        "blood spot L calf",
    ),
    "vasovagal": (
        "felt faint after needling",
        "dizzy, pale",
        "vasovagal - lay supine",
        "light-headed, nauseous",
        "nearly fainted",
        "Vasovagal reaction, recovered after 10 min",
    ),
    "infection": (
        "redness and swelling at needle site",
        "local infection - GP referral",
        "skin infection calf",
    ),
    "needle_site_pain": (
        "sharp pain on insertion",
        "pain at needle site",
        "burning at insertion",
        "needle pain heel",
        "insertion pain L soleus",
    ),
    "other": (
        "headache after session",
        "cramp in calf",
        "fatigue after treatment",
        "tingling in foot",
    ),
}
"""Verbatim AE texts the simulator writes, by term (the way clinicians write them)."""

_SEVERITIES = ("mild", "moderate", "severe")
_SEVERITY_TEXT = {
    "mild": ("mild", "Mild", "Grade 1"),
    "moderate": ("Moderate", "moderate", "Grade 2"),
    "severe": ("Severe", "Grade 3"),
}
_CONTROL_WORDS = ("sham", "control", "placebo", "usual", "wait")
_SORENESS_EDGES = (0.0, 24.0, 48.0, 72.0, 168.0)

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


@dataclass(frozen=True)
class SimulationParameters:
    """Tunable parameters of :func:`simulate_tables` (pass any of them as keywords).

    The defaults are the realism targets of the module docstring. Pain in mm, time in
    weeks unless said otherwise, probabilities as fractions.
    """

    baseline_mean: float = 68.0
    baseline_limits: tuple[float, float] = (25.0, 100.0)
    intercept_sd: float = 12.0
    slope_sd: float = 1.0
    slope_intercept_corr: float = -0.3
    residual_sd: float = 10.0
    sham_improvement: float = 22.0
    sham_tau_weeks: float = 4.0
    effect_tau_sessions: float = 3.0
    effect_persistence: float = 0.85
    vas_slope: float = 0.9
    vas_intercept: float = -4.0
    vas_residual_sd: float = 7.0
    missed_visit: float = 0.02
    age_mean: float = 50.0
    age_sd: float = 11.0
    age_limits: tuple[float, float] = (18.0, 85.0)
    female: float = 0.60
    bmi_mean: float = 30.0
    bmi_sd: float = 5.0
    bmi_limits: tuple[float, float] = (18.0, 55.0)
    symptom_median_months: float = 10.0
    symptom_sigma: float = 0.8
    pregnant: float = 0.01
    pregnant_max_age: float = 45.0
    immunocompromised: float = 0.02
    needle_fear: float = 0.15
    needles_min: int = 3
    needles_max: int = 10
    muscle_probabilities: tuple[float, ...] = (0.85, 0.60, 0.45, 0.15, 0.03)
    muscle_stickiness: float = 0.8
    twitch_first: float = 0.60
    twitch_last: float = 0.15
    twitch_decay_sessions: float = 2.5
    soreness_none: float = 0.10
    soreness_median_h: float = 24.0
    soreness_sigma: float = 0.541
    soreness_shrink: float = 0.93
    ae_soreness: float = 0.18
    ae_bruising: float = 0.076
    ae_bleeding: float = 0.047
    ae_needle_site_pain: float = 0.03
    ae_vasovagal: float = 0.0015
    ae_vasovagal_fear: float = 0.02
    ae_infection: float = 0.0005
    ae_other: float = 0.005
    ae_sham: float = 0.004


@dataclass(frozen=True)
class SimulatedTables:
    """The output of :func:`simulate_tables`.

    Attributes
    ----------
    patients, assessments, adverse_events : pandas.DataFrame
        The canonical tables (see DESIGN.md).
    truth : dict
        What the tables were drawn from: ``seed``, ``parameters``, ``arms``,
        ``arm_effects``, ``visits`` (visit, label, kind, nominal day and week),
        ``arm_means`` (true mean of ``first_step_pain`` and ``vas_pain`` per arm and
        visit), ``arm_difference`` (true difference of each arm from the reference
        arm per visit; ``estimate`` is the first-step pain difference),
        ``variance`` (variance components), ``dropout_visit`` (per patient: the first
        visit missed for good, -1 for completers), ``record_scales`` and more.
    """

    patients: pd.DataFrame
    assessments: pd.DataFrame
    adverse_events: pd.DataFrame
    truth: dict


# --------------------------------------------------------------------------- helpers


def _norm_cdf(x: float) -> float:
    return 0.5 * (1.0 + math.erf(x / math.sqrt(2.0)))


def _norm_pdf(x: float) -> float:
    return math.exp(-0.5 * x * x) / math.sqrt(2.0 * math.pi)


def _truncated_normal(rng: np.random.Generator, mean: float, sd: float, limits, size: int):
    """Normal draws restricted to ``limits`` by redrawing (vectorised rejection)."""
    lo, hi = limits
    x = rng.normal(mean, sd, size)
    bad = (x < lo) | (x > hi)
    while bad.any():
        x[bad] = rng.normal(mean, sd, int(bad.sum()))
        bad = (x < lo) | (x > hi)
    return x


def _round_half_up(x):
    return np.floor(np.asarray(x, dtype=float) + 0.5)


def _allocate(rng: np.random.Generator, n: int, allocation: Sequence[float]) -> np.ndarray:
    """Arm index per patient: fixed group sizes (largest remainder), randomly ordered."""
    alloc = np.asarray(allocation, dtype=float)
    raw = alloc / alloc.sum() * n
    counts = np.floor(raw).astype(int)
    short = n - counts.sum()
    if short:
        order = np.argsort(-(raw - counts), kind="stable")
        counts[order[:short]] += 1
    return rng.permutation(np.repeat(np.arange(len(alloc)), counts))


def visit_labels(n_sessions: int = 6, follow_up_weeks: Sequence[int] = (12,)) -> dict[int, str]:
    """Labels used in the raw exports for each visit number.

    Parameters
    ----------
    n_sessions : int
        Number of treatment sessions.
    follow_up_weeks : sequence of int
        Follow-up weeks after baseline.

    Returns
    -------
    dict of int to str

    Examples
    --------
    >>> visit_labels(2, (12,))
    {0: 'Baseline', 1: 'Session 1', 2: 'Session 2', 3: 'Follow-up 12 wk'}
    """
    labels = {0: "Baseline"}
    labels.update({k: f"Session {k}" for k in range(1, n_sessions + 1)})
    for i, w in enumerate(follow_up_weeks):
        labels[n_sessions + 1 + i] = f"Follow-up {w:g} wk"
    return labels


def _check_fraction(name: str, value: float) -> None:
    if not (0.0 <= float(value) <= 1.0):
        raise ConfigError(f"{name} must be a probability between 0 and 1, got {value!r}")


def _parameters(kwargs: Mapping[str, Any]) -> SimulationParameters:
    allowed = {f.name for f in fields(SimulationParameters)}
    unknown = sorted(set(kwargs) - allowed)
    if unknown:
        raise TypeError(
            f"simulate_tables() got unknown parameter(s) {', '.join(map(repr, unknown))}; "
            f"allowed: {', '.join(sorted(allowed))}"
        )
    params = SimulationParameters(**kwargs)
    for name in ("missed_visit", "female", "pregnant", "immunocompromised", "needle_fear",
                 "soreness_none", "muscle_stickiness", "twitch_first", "twitch_last"):
        _check_fraction(name, getattr(params, name))
    if len(params.muscle_probabilities) != len(MUSCLES):
        raise ConfigError(f"muscle_probabilities needs {len(MUSCLES)} values (one per muscle)")
    if not 1 <= params.needles_min <= params.needles_max:
        raise ConfigError("needles_min must be at least 1 and at most needles_max")
    return params


def _default_needling_arms(arms: Sequence[str]) -> tuple[str, ...]:
    real = tuple(a for a in arms if not any(w in str(a).lower() for w in _CONTROL_WORDS))
    return real


def _record_scales(record_scales, sites: Sequence[str]) -> dict[str, str]:
    allowed = ("mm", "cm", "nrs10")
    if record_scales is None:
        defaults = ("cm", "nrs10")
        out = {s: (defaults[i] if i < len(defaults) else "mm") for i, s in enumerate(sites)}
    elif isinstance(record_scales, str):
        out = {s: record_scales for s in sites}
    else:
        out = {s: str(record_scales.get(s, "mm")) for s in sites}
    for site, scale in out.items():
        if scale not in allowed:
            raise ConfigError(
                f"record scale {scale!r} of site {site!r} is not one of {', '.join(allowed)}"
            )
    return out


# --------------------------------------------------------------------------- generator


def simulate_tables(
    n_patients: int = 84,
    *,
    seed: int = 2014,
    arms: Sequence[str] = ("dry_needling", "sham"),
    allocation: Sequence[float] = (0.5, 0.5),
    n_sessions: int = 6,
    sessions_per_week: float = 1,
    follow_up_weeks: Sequence[int] = (12,),
    effect_mm: float = -14.4,
    dropout: float = 0.10,
    sites: Sequence[str] = ("Site A", "Site B"),
    needling_arms: Sequence[str] | None = None,
    arm_effects: Mapping[str, float] | None = None,
    record_scales: Mapping[str, str] | str | None = None,
    **kwargs: Any,
) -> SimulatedTables:
    """Simulate a dry-needling trial straight into the canonical tables.

    Parameters
    ----------
    n_patients : int
        Number of randomised patients.
    seed : int
        Seed of ``numpy.random.default_rng``; the same seed gives identical tables.
    arms : sequence of str
        Arm labels, in the order of the ``arm`` categories.
    allocation : sequence of float
        Allocation ratio per arm; group sizes are fixed (largest remainder) and the
        order is random.
    n_sessions : int
        Treatment sessions (visits ``1..n_sessions``).
    sessions_per_week : float
        Session ``k`` is scheduled on day ``round(7 k / sessions_per_week)`` (jittered
        by -1..+1 day).
    follow_up_weeks : sequence of int
        Follow-up visits, in weeks since baseline (jittered by -3..+3 days).
    effect_mm : float
        True intention-to-treat difference in mean first-step pain, needling minus
        control arm, at the last session (mm; negative is better).
    dropout : float
        Fraction of patients who stop attending at a random visit after baseline.
    sites : sequence of str
        Clinic names; patients are spread evenly at random.
    needling_arms : sequence of str, optional
        Arms that receive real (penetrating) needling. By default every arm whose
        name does not contain sham, control, placebo, usual or wait.
    arm_effects : mapping of str to float, optional
        True effect of each arm at the last session relative to the reference arm.
        By default ``effect_mm`` for needling arms and 0 for the others.
    record_scales : mapping of site to {"mm", "cm", "nrs10"}, or str, optional
        The scale on which each site records first-step pain; values are rounded
        to that scale's resolution (cm to 1 mm, NRS to 10 mm) so that a raw export
        reads back exactly. Default: first site ``"cm"``, second ``"nrs10"``, other
        sites ``"mm"`` (0.1 mm). Pass ``"mm"`` for unquantised values everywhere.
    **kwargs
        Any field of :class:`SimulationParameters`.

    Returns
    -------
    SimulatedTables

    Raises
    ------
    ConfigError
        On inconsistent arguments (allocation length, schedule overlapping the
        follow-up, probabilities out of range, ...).
    TypeError
        On an unknown keyword.

    Examples
    --------
    >>> sim = simulate_tables(40, seed=1)
    >>> sim.assessments.groupby("visit").size().index.tolist()
    [0, 1, 2, 3, 4, 5, 6, 7]
    >>> bool(sim.assessments.loc[sim.assessments["visit"] == 0, "needled"].any())
    False
    >>> sim.truth["seed"], round(sim.truth["variance"]["residual_sd"], 1)
    (1, 10.0)
    """
    params = _parameters(kwargs)
    arms = tuple(str(a) for a in arms)
    sites = tuple(str(s) for s in sites)
    n = int(n_patients)
    if n < 1:
        raise ConfigError(f"n_patients must be at least 1, got {n_patients!r}")
    if len(arms) < 1 or len(set(arms)) != len(arms):
        raise ConfigError(f"arms must be distinct labels, got {arms!r}")
    if len(allocation) != len(arms) or min(allocation) < 0 or sum(allocation) <= 0:
        raise ConfigError("allocation needs one non-negative weight per arm")
    if len(sites) < 1:
        raise ConfigError("at least one site is needed")
    if int(n_sessions) < 1:
        raise ConfigError("n_sessions must be at least 1")
    if sessions_per_week <= 0:
        raise ConfigError("sessions_per_week must be positive")
    _check_fraction("dropout", dropout)
    n_sessions = int(n_sessions)
    follow_up_weeks = tuple(follow_up_weeks)
    last_session_day = _round_half_up(7.0 * n_sessions / sessions_per_week)
    if any(np.diff(follow_up_weeks) <= 0) or (
        follow_up_weeks and 7 * follow_up_weeks[0] - 3 <= last_session_day + 1
    ):
        raise ConfigError(
            "follow_up_weeks must increase and start at least one day after the last "
            f"session (day {int(last_session_day)} +- 1, follow-ups +- 3 days)"
        )
    if needling_arms is None:
        needling_arms = _default_needling_arms(arms)
    needling_arms = tuple(str(a) for a in needling_arms)
    if any(a not in arms for a in needling_arms):
        raise ConfigError(f"needling_arms {needling_arms!r} must be among arms {arms!r}")
    if arm_effects is None:
        if needling_arms and len(needling_arms) < len(arms):
            arm_effects = {a: (effect_mm if a in needling_arms else 0.0) for a in arms}
        else:
            arm_effects = {a: (effect_mm if i == 0 and len(arms) > 1 else 0.0)
                           for i, a in enumerate(arms)}
    arm_effects = {a: float(arm_effects.get(a, 0.0)) for a in arms}
    zero = [a for a in arms if arm_effects[a] == 0.0]
    reference = next((a for a in zero if a not in needling_arms), zero[0] if zero else arms[-1])
    scales = _record_scales(record_scales, sites)
    p = params
    rng = np.random.default_rng(seed)

    # ---- schedule ---------------------------------------------------------------
    n_fu = len(follow_up_weeks)
    n_visits = 1 + n_sessions + n_fu
    visit = np.arange(n_visits)
    session_k = np.arange(1, n_sessions + 1)
    nominal_day = np.concatenate(
        [[0.0], _round_half_up(7.0 * session_k / sessions_per_week),
         7.0 * np.asarray(follow_up_weeks, dtype=float)]
    )
    week = nominal_day / 7.0
    is_session = (visit >= 1) & (visit <= n_sessions)
    kind = np.where(visit == 0, "baseline", np.where(is_session, "session", "follow_up"))

    # ---- patients -------------------------------------------------------------
    arm_idx = _allocate(rng, n, allocation)
    site_idx = rng.integers(0, len(sites), n)
    age = _round_half_up(_truncated_normal(rng, p.age_mean, p.age_sd, p.age_limits, n))
    female = rng.random(n) < p.female
    bmi = np.round(_truncated_normal(rng, p.bmi_mean, p.bmi_sd, p.bmi_limits, n), 1)
    symptom = np.round(
        np.maximum(1.0, rng.lognormal(math.log(p.symptom_median_months), p.symptom_sigma, n)), 1
    )
    pregnant = female & (age <= p.pregnant_max_age) & (rng.random(n) < p.pregnant)
    immuno = rng.random(n) < p.immunocompromised
    fear = rng.random(n) < p.needle_fear
    in_needling_arm = np.isin(np.asarray(arms)[arm_idx], needling_arms)
    withheld = in_needling_arm & (pregnant | immuno)

    # Probability that a patient's needling is withheld (for the per-protocol scaling).
    a_lo, a_hi = p.age_limits
    z = [(x - p.age_mean) / p.age_sd for x in (a_lo - 0.5, p.pregnant_max_age + 0.5, a_hi + 0.5)]
    p_young = (_norm_cdf(z[1]) - _norm_cdf(z[0])) / (_norm_cdf(z[2]) - _norm_cdf(z[0]))
    p_young = min(1.0, max(0.0, p_young))
    p_pregnant = p.female * p_young * p.pregnant
    p_withheld = 1.0 - (1.0 - p_pregnant) * (1.0 - p.immunocompromised)

    # ---- random effects and baseline eligibility --------------------------------
    sb, ss, rho, se = p.intercept_sd, p.slope_sd, p.slope_intercept_corr, p.residual_sd
    lo_b, hi_b = p.baseline_limits

    def draw_re(size: int):
        z1 = rng.standard_normal(size)
        z2 = rng.standard_normal(size)
        b = sb * z1
        s = ss * (rho * z1 + math.sqrt(max(0.0, 1.0 - rho * rho)) * z2)
        e0 = rng.normal(0.0, se, size)
        return b, s, e0

    b, s, e0 = draw_re(n)
    y0 = p.baseline_mean + b + e0
    bad = (y0 < lo_b) | (y0 > hi_b)
    while bad.any():
        bb, sn, en = draw_re(int(bad.sum()))
        b[bad], s[bad], e0[bad] = bb, sn, en
        y0 = p.baseline_mean + b + e0
        bad = (y0 < lo_b) | (y0 > hi_b)

    # ---- mean curves ------------------------------------------------------------
    sham_curve = -p.sham_improvement * (1.0 - np.exp(-week / p.sham_tau_weeks))
    ramp = (1.0 - np.exp(-visit / p.effect_tau_sessions)) / (
        1.0 - math.exp(-n_sessions / p.effect_tau_sessions)
    )
    effect_shape = np.where(visit == 0, 0.0, np.where(is_session, ramp, p.effect_persistence))
    effect_arm = np.array([arm_effects[a] for a in arms])
    pp_scale = np.where(np.isin(arms, needling_arms), 1.0 / (1.0 - p_withheld), 1.0)
    patient_effect = np.where(withheld, 0.0, (effect_arm * pp_scale)[arm_idx])

    # ---- first-step pain and usual pain ------------------------------------------
    eps = rng.normal(0.0, se, (n, n_visits))
    eps[:, 0] = e0
    latent = (p.baseline_mean + b[:, None] + s[:, None] * week[None, :] + sham_curve[None, :]
              + patient_effect[:, None] * effect_shape[None, :] + eps)
    latent[:, 0] = y0
    site_scale = np.asarray([scales[x] for x in sites])[site_idx]
    step = np.select([site_scale == "cm", site_scale == "nrs10"], [1.0, 10.0], 0.1)
    fsp = np.clip(_round_half_up(latent / step[:, None]) * step[:, None], 0.0, 100.0)
    fsp = np.round(fsp, 1)
    vas = p.vas_intercept + p.vas_slope * latent + rng.normal(0.0, p.vas_residual_sd, latent.shape)
    vas = np.clip(np.round(vas, 1), 0.0, 100.0)

    # ---- days -------------------------------------------------------------------
    jitter = np.zeros((n, n_visits), dtype=np.int64)
    jitter[:, 1:n_sessions + 1] = rng.integers(-1, 2, (n, n_sessions))
    jitter[:, n_sessions + 1:] = rng.integers(-3, 4, (n, n_fu))
    days = nominal_day.astype(np.int64)[None, :] + jitter
    for j in range(1, n_visits):  # loop over visits (columns), never over patients
        days[:, j] = np.maximum(days[:, j], days[:, j - 1] + 1)

    # ---- attendance -------------------------------------------------------------
    drops = rng.random(n) < dropout
    drop_at = np.where(drops, rng.integers(1, n_visits, n) if n_visits > 1 else 1, -1)
    attended = np.ones((n, n_visits), dtype=bool)
    attended &= ~(drops[:, None] & (visit[None, :] >= drop_at[:, None]))
    missed = rng.random((n, n_visits)) < p.missed_visit
    missed[:, 0] = False
    attended &= ~missed

    # ---- needling -----------------------------------------------------------------
    needled = attended & is_session[None, :] & (in_needling_arm & ~withheld)[:, None]
    span = p.needles_max - p.needles_min
    propensity = rng.beta(4.5, 5.5, n)
    needles = p.needles_min + rng.binomial(span, np.broadcast_to(propensity[:, None],
                                                                 (n, n_visits)))
    mprob = np.asarray(p.muscle_probabilities)
    usual = rng.random((n, 1, len(MUSCLES))) < mprob
    fresh = rng.random((n, n_visits, len(MUSCLES))) < mprob
    keep = rng.random((n, n_visits, 1)) < p.muscle_stickiness
    chosen = np.where(keep, usual, fresh)
    chosen[..., 0] |= ~chosen.any(axis=2)
    bits = (chosen * (1 << np.arange(len(MUSCLES)))).sum(axis=2)
    needles = np.maximum(needles, chosen.sum(axis=2))
    q = p.twitch_last + (p.twitch_first - p.twitch_last) * np.exp(
        -np.maximum(visit - 1, 0) / p.twitch_decay_sessions)
    twitch = rng.binomial(needles, np.broadcast_to(q[None, :], needles.shape))
    needles = np.where(needled, needles, 0)
    twitch = np.where(needled, twitch, 0)

    # ---- soreness: true duration, then the report at the next contact -----------
    sess_idx = np.maximum(visit - 1, 0)
    med = p.soreness_median_h * p.soreness_shrink ** sess_idx
    dur = rng.lognormal(np.log(med)[None, :], p.soreness_sigma, (n, n_visits))
    dur = np.where(rng.random((n, n_visits)) < p.soreness_none, 0.0, dur)
    next_day = np.full((n, n_visits), np.nan)
    for j in range(n_visits - 2, -1, -1):  # loop over visits (columns)
        next_day[:, j] = np.where(attended[:, j + 1], days[:, j + 1], next_day[:, j + 1])
    gap_h = (next_day - days) * 24.0
    sore_lo, sore_hi = _report_soreness(rng, dur, gap_h)
    reported = needled & ~np.isnan(gap_h)
    sore_lo = np.where(reported, sore_lo, np.nan)
    sore_hi = np.where(reported, sore_hi, np.nan)

    # ---- tables -----------------------------------------------------------------
    width = max(4, len(str(n)))
    ids = np.char.add("DN-", np.char.zfill(np.arange(1, n + 1).astype(str), width)).astype(object)
    patients = pd.DataFrame({
        "patient_id": ids,
        "arm": pd.Categorical.from_codes(arm_idx, categories=list(arms)),
        "site": np.asarray(sites, dtype=object)[site_idx],
        "age": age.astype(float),
        "sex": np.where(female, "female", "male").astype(object),
        "bmi": bmi.astype(float),
        "symptom_months": symptom.astype(float),
        "pregnant": pregnant,
        "immunocompromised": immuno,
        "needle_fear": fear,
    })

    pi, vj = np.nonzero(attended)
    muscle_names = _muscle_strings()
    muscles = np.where(needled[pi, vj], muscle_names[bits[pi, vj]], np.nan).astype(object)
    muscles[~needled[pi, vj]] = np.nan
    assessments = pd.DataFrame({
        "patient_id": ids[pi],
        "visit": vj.astype(np.int64),
        "day": days[pi, vj].astype(np.int64),
        "vas_pain": vas[pi, vj],
        "first_step_pain": fsp[pi, vj],
        "needled": needled[pi, vj],
        "needles": needles[pi, vj].astype(np.int64),
        "twitch_responses": twitch[pi, vj].astype(np.int64),
        "muscles": muscles,
        "soreness_lower_h": sore_lo[pi, vj],
        "soreness_upper_h": sore_hi[pi, vj],
    })

    adverse_events = _adverse_events(
        rng, p, ids, attended & is_session[None, :], needled, needles, dur, fear, visit
    )

    # ---- truth --------------------------------------------------------------------
    sigma0 = math.sqrt(sb * sb + se * se)
    alpha, beta = (lo_b - p.baseline_mean) / sigma0, (hi_b - p.baseline_mean) / sigma0
    shift = sigma0 * (_norm_pdf(alpha) - _norm_pdf(beta)) / (_norm_cdf(beta) - _norm_cdf(alpha))
    k_sel = (sb * sb + rho * sb * ss * week) / (sigma0 * sigma0)
    k_sel[0] = 1.0
    rows = []
    for a in arms:
        mean = p.baseline_mean + sham_curve + arm_effects[a] * effect_shape + k_sel * shift
        for j in range(n_visits):
            rows.append({"arm": a, "visit": j, "week": week[j], "first_step_pain": mean[j],
                         "vas_pain": p.vas_intercept + p.vas_slope * mean[j]})
    arm_means = pd.DataFrame(rows)
    diffs = []
    for a in arms:
        if a == reference:
            continue
        d = (arm_effects[a] - arm_effects[reference]) * effect_shape + 0.0  # no -0.0
        for j in range(n_visits):
            diffs.append({"arm": a, "reference": reference, "visit": j,
                          "estimate": float(d[j]), "first_step_pain": float(d[j]),
                          "vas_pain": float(p.vas_slope * d[j])})
    arm_difference = pd.DataFrame(
        diffs, columns=["arm", "reference", "visit", "estimate", "first_step_pain", "vas_pain"]
    )
    visits = pd.DataFrame({
        "visit": visit, "label": [visit_labels(n_sessions, follow_up_weeks)[j] for j in visit],
        "kind": kind, "nominal_day": nominal_day.astype(int), "week": week,
    })
    truth = {
        "seed": seed,
        "n_patients": n,
        "arms": arms,
        "allocation": tuple(float(x) for x in allocation),
        "needling_arms": needling_arms,
        "reference_arm": reference,
        "arm_effects": arm_effects,
        "effect_mm": float(effect_mm),
        "n_sessions": n_sessions,
        "sessions_per_week": sessions_per_week,
        "follow_up_weeks": follow_up_weeks,
        "sites": sites,
        "record_scales": scales,
        "dropout": float(dropout),
        "visit_labels": visit_labels(n_sessions, follow_up_weeks),
        "visits": visits,
        "arm_means": arm_means,
        "arm_difference": arm_difference,
        "variance": {
            "intercept_sd": sb, "slope_sd": ss, "slope_intercept_corr": rho,
            "residual_sd": se, "vas_residual_sd": p.vas_residual_sd,
            "baseline_sd_untruncated": sigma0,
        },
        "baseline_selection_shift": shift,
        "p_withheld": p_withheld,
        "per_protocol_scale": 1.0 / (1.0 - p_withheld),
        "dropout_visit": pd.Series(drop_at, index=pd.Index(ids, name="patient_id"),
                                   name="dropout_visit"),
        "parameters": asdict(p),
        "notes": (
            "arm_means are the expected latent (unrounded, unclipped) means given the "
            "baseline eligibility window; rounding, recording scales and clipping at 0 "
            "move observed means by well under 0.5 mm. Missingness is completely at random."
        ),
    }
    return SimulatedTables(patients, assessments, adverse_events, truth)


def _muscle_strings() -> np.ndarray:
    """Canonical muscle string for each bit pattern (index 0 is unused)."""
    out = np.empty(1 << len(MUSCLES), dtype=object)
    out[0] = np.nan
    for code in range(1, 1 << len(MUSCLES)):
        out[code] = ";".join(m for i, m in enumerate(MUSCLES) if code >> i & 1)
    return out


def _report_soreness(rng: np.random.Generator, dur: np.ndarray, gap_h: np.ndarray):
    """Turn true soreness durations into intervals the way clinicians record them.

    Still sore at the next contact -> ``[gap, inf)`` (70%) or "ongoing" ``[0, inf)``;
    otherwise no soreness -> ``[0, 0]``; else exact hours (35%, to the hour below
    12 h and to 6 h above), ``[48, inf)`` for 40% of those over 48 h, or the
    bucket of 0-24-48-72-168 h that holds the duration (``[168, inf)`` beyond).
    """
    shape = dur.shape
    u_style = rng.random(shape)
    u_cens = rng.random(shape)
    lo = np.full(shape, np.nan)
    hi = np.full(shape, np.nan)
    with np.errstate(invalid="ignore"):
        still = dur > gap_h
    none = (dur == 0) & ~still
    # exact
    exact_h = np.where(dur < 12, np.maximum(1.0, _round_half_up(dur)), 6 * _round_half_up(dur / 6))
    exact = ~still & ~none & (u_style < 0.35)
    over48 = ~still & ~none & ~exact & (dur > 48) & (u_cens < 0.4)
    bucket = ~still & ~none & ~exact & ~over48
    edges = np.asarray(_SORENESS_EDGES)
    k = np.clip(np.searchsorted(edges, dur, side="left") - 1, 0, len(edges) - 1)
    b_lo = edges[k]
    b_hi = np.where(k + 1 < len(edges), edges[np.minimum(k + 1, len(edges) - 1)], np.inf)
    beyond = dur > edges[-1]
    b_lo = np.where(beyond, edges[-1], b_lo)
    b_hi = np.where(beyond, np.inf, b_hi)
    ongoing = still & (u_cens < 0.3)
    lo = np.select([none, exact, over48, bucket, still & ongoing, still],
                   [0.0, exact_h, 48.0, b_lo, 0.0, gap_h], np.nan)
    hi = np.select([none, exact, over48, bucket, still],
                   [0.0, exact_h, np.inf, b_hi, np.inf], np.nan)
    return lo, hi


def _adverse_events(rng, p: SimulationParameters, ids, session_attended, needled, needles,
                    dur, fear, visit) -> pd.DataFrame:
    """Adverse events per appointment (vectorised Bernoulli draws per term)."""
    terms = AE_TERMS
    t_index = {t: i for i, t in enumerate(terms)}
    # real needling appointments
    ni, nj = np.nonzero(needled)
    nd = needles[ni, nj].astype(float)
    mult = nd / nd.mean() if len(nd) else nd
    # P(true soreness >= 24 h) at each visit, so that soreness AEs (only reported
    # after soreness of a day or more) occur in about ae_soreness of appointments.
    med = p.soreness_median_h * p.soreness_shrink ** np.maximum(visit - 1, 0)
    p_long = np.array([(1.0 - p.soreness_none)
                       * (1.0 - _norm_cdf(math.log(24.0 / m) / p.soreness_sigma)) for m in med])
    p_long = p_long[nj]
    long_sore = dur[ni, nj] >= 24.0
    prob = np.zeros((len(ni), len(terms)))
    prob[:, t_index["post_needling_soreness"]] = np.where(
        long_sore, p.ae_soreness / np.maximum(p_long, 1e-9) * mult, 0.0)
    prob[:, t_index["bruising"]] = p.ae_bruising * mult
    prob[:, t_index["bleeding"]] = p.ae_bleeding * mult
    prob[:, t_index["needle_site_pain"]] = p.ae_needle_site_pain * mult
    prob[:, t_index["vasovagal"]] = np.where(fear[ni], p.ae_vasovagal_fear, p.ae_vasovagal)
    prob[:, t_index["infection"]] = p.ae_infection * mult
    prob[:, t_index["other"]] = p.ae_other
    hit = rng.random(prob.shape) < np.clip(prob, 0.0, 1.0)
    ei, et = np.nonzero(hit)
    ev_pat = ni[ei]
    ev_visit = nj[ei]
    ev_term = et
    # appointments without penetrating needling (sham, or needling withheld)
    si, sj = np.nonzero(session_attended & ~needled)
    sham_hit = rng.random(len(si)) < p.ae_sham
    sham_term = rng.choice(
        np.array([t_index["needle_site_pain"], t_index["vasovagal"], t_index["other"]]),
        size=len(si), p=[0.5, 0.3, 0.2])
    ev_pat = np.concatenate([ev_pat, si[sham_hit]])
    ev_visit = np.concatenate([ev_visit, sj[sham_hit]])
    ev_term = np.concatenate([ev_term, sham_term[sham_hit]])
    order = np.lexsort((ev_term, ev_visit, ev_pat))
    ev_pat, ev_visit, ev_term = ev_pat[order], ev_visit[order], ev_term[order]
    m = len(ev_pat)
    # verbatim text
    flat = np.array([v for t in terms for v in AE_VERBATIMS[t]], dtype=object)
    counts = np.array([len(AE_VERBATIMS[t]) for t in terms])
    offsets = np.concatenate([[0], np.cumsum(counts)[:-1]])
    pick = (rng.random(m) * counts[ev_term]).astype(int)
    verbatim = flat[offsets[ev_term] + pick]
    # severity: nearly all mild; vasovagal and infection more often moderate
    sev_p = np.tile([0.96, 0.035, 0.005], (len(terms), 1))
    sev_p[t_index["vasovagal"]] = [0.80, 0.18, 0.02]
    sev_p[t_index["infection"]] = [0.50, 0.45, 0.05]
    cum = np.cumsum(sev_p, axis=1)[ev_term]
    u = rng.random(m)
    sev_idx = (u[:, None] > cum[:, :2]).sum(axis=1)
    severity = np.asarray(_SEVERITIES, dtype=object)[sev_idx]
    serious = (sev_idx == 2) & (rng.random(m) < 0.25)
    return pd.DataFrame({
        "patient_id": ids[ev_pat] if m else np.array([], dtype=object),
        "visit": ev_visit.astype(np.int64),
        "term": np.asarray(terms, dtype=object)[ev_term] if m else np.array([], dtype=object),
        "verbatim": verbatim,
        "severity": severity,
        "serious": serious.astype(bool),
    })


def simulate_cohort(n_patients: int = 84, *, seed: int = 2014, **kwargs: Any) -> Cohort:
    """Simulate a trial (see :func:`simulate_tables`) and load it as a :class:`Cohort`.

    Parameters
    ----------
    n_patients : int
        Number of randomised patients.
    seed : int
        Seed; the same seed gives the same cohort.
    **kwargs
        Any argument of :func:`simulate_tables`.

    Returns
    -------
    Cohort
        ``load_cohort(sim.assessments, sim.patients, sim.adverse_events)``; the seed,
        the true arm differences and the variance components are kept (JSON-friendly)
        in ``cohort.provenance["simulation"]``.

    Examples
    --------
    >>> from dryneedle_outcomes.simulate import simulate_cohort
    >>> cohort = simulate_cohort(30, seed=3)
    >>> cohort.n_patients
    30
    """
    from .load import load_cohort

    sim = simulate_tables(n_patients, seed=seed, **kwargs)
    cohort = load_cohort(sim.assessments, sim.patients, sim.adverse_events)
    if isinstance(getattr(cohort, "provenance", None), dict):
        # JSON-friendly, so that manifests can record it.
        cohort.provenance["simulation"] = {
            "generator": "dryneedle_outcomes.simulate.simulate_tables",
            "seed": seed,
            "n_patients": int(n_patients),
            "arguments": {k: (list(v) if isinstance(v, tuple) else v)
                          for k, v in kwargs.items()
                          if isinstance(v, (int, float, str, bool, tuple, type(None)))},
            "arm_difference": sim.truth["arm_difference"].to_dict("records"),
            "variance": dict(sim.truth["variance"]),
        }
    return cohort


# --------------------------------------------------------------------------- raw exports


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


_PROBLEM_COLUMNS = ("problem", "file", "row", "patient_id", "visit", "column", "value",
                    "expected")

_CLINICIANS = ("Müller", "Lefèvre", "Ó Briain", "Núñez", "Sørensen", "Aubergé")
_COMMENTS_BASELINE = ("Bilan initial \u2013 talalgie", "Erstbefund: Fersenschmerz morgens",
                      "Initial assessment")
_COMMENTS_SESSION = ("Patient très satisfait", "Schmerz morgens besser", "douleur au réveil ++",
                     "pas d'amélioration", "tolerated well")


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


def _muscle_text(rng: np.random.Generator, muscles: pd.Series) -> np.ndarray:
    """Clinician spellings of canonical muscle lists (``"Gastroc + soleus"``)."""
    # Precompute a few spellings for each of the 31 combinations, then pick per row.
    n_var = 6
    table = {}
    for code in range(1, 1 << len(MUSCLES)):
        canon = ";".join(m for i, m in enumerate(MUSCLES) if code >> i & 1)
        parts_all = [m for i, m in enumerate(MUSCLES) if code >> i & 1]
        variants = []
        for _ in range(n_var):
            sep = _MUSCLE_SEPARATORS[rng.integers(len(_MUSCLE_SEPARATORS))]
            words = [_MUSCLE_TEXT[m][rng.integers(len(_MUSCLE_TEXT[m]))] for m in parts_all]
            if len(words) > 1 and rng.random() < 0.3:
                words = [words[0]] + [w.lower() if w not in ("FDB", "PF") else w
                                      for w in words[1:]]
            variants.append(sep.join(words))
        table[canon] = variants
    keys = list(table)
    grid = np.array([table[k] for k in keys], dtype=object)
    pos = pd.Series(np.arange(len(keys)), index=keys)
    idx = muscles.map(pos)
    has = idx.notna().to_numpy()
    out = np.full(len(muscles), "", dtype=object)
    choice = rng.integers(0, n_var, len(muscles))
    out[has] = grid[idx[has].astype(int).to_numpy(), choice[has]]
    return out


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
        "",
        "[assessments.scales]",
        f"first_step_pain = {_toml_str(main_scale)}",
        'vas_pain = "mm"',
    ]
    for site in sites:
        if scales[site] != main_scale:
            lines += ["", f"[assessments.site_scales.{_toml_str(site)}]",
                      f"first_step_pain = {_toml_str(scales[site])}"]
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
    return "\n".join(lines) + "\n"


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
        Plant seven realistic problems touching seven rows: a first-step pain
        written in mm in a cm (or NRS) column, an impossible date, a duplicate visit
        with a conflicting value, an exact duplicate row, a visit of a patient not in
        the register, an ID typed in lower case with a trailing space, and a
        participant marked pregnant who was needled.

    Returns
    -------
    ExportPaths
        ``{"assessments", "patients", "adverse_events", "mapping"[, "problems"]}``
        -> path, with the planted problems in ``.problems``.

    Examples
    --------
    >>> import tempfile
    >>> sim = simulate_tables(30, seed=5)
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     paths = write_raw_exports(sim, tmp)
    ...     raw = pd.read_csv(paths["assessments"], sep=";", decimal=",", encoding="cp1252")
    ...     sorted(paths), len(paths.problems)
    (['adverse_events', 'assessments', 'mapping', 'patients', 'problems'], 7)
    """
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
        "Muscles needled": _muscle_text(rng, a["muscles"]),
        "Soreness after session": _soreness_text(
            rng, a["soreness_lower_h"].to_numpy(), a["soreness_upper_h"].to_numpy()),
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
    })

    problems: list[dict] = []
    order_key = np.arange(len(raw), dtype=float)
    if inject_problems:
        raw, order_key, reg, problems = _plant_problems(rng, sim, raw, order_key, reg, fsp_scale)
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
    paths["mapping"] = directory / "mapping.toml"
    paths["mapping"].write_text(_mapping_toml(truth), encoding="utf-8")
    paths.problems = pd.DataFrame(problems, columns=list(_PROBLEM_COLUMNS)).astype(
        {"row": "Int64", "visit": "Int64"})
    if inject_problems:
        paths["problems"] = directory / "planted_problems.csv"
        paths.problems.to_csv(paths["problems"], index=False, encoding="utf-8")
    return paths


def _plant_problems(rng, sim: SimulatedTables, raw: pd.DataFrame, order_key: np.ndarray,
                    reg: pd.DataFrame, fsp_scale: np.ndarray):
    """Plant the seven problems; return the new raw tables and a description of each."""
    a = sim.assessments.reset_index(drop=True)
    ids = sim.patients["patient_id"].to_numpy()
    used_rows: set[int] = set()
    used_patients: set[str] = set()
    problems: list[dict] = []
    extra_rows: list[pd.DataFrame] = []
    extra_keys: list[float] = []

    ae_keys = pd.MultiIndex.from_frame(sim.adverse_events[["patient_id", "visit"]])
    has_ae = pd.MultiIndex.from_frame(a[["patient_id", "visit"]]).isin(ae_keys)

    def pick(mask: np.ndarray) -> int | None:
        ok = mask & ~a["patient_id"].isin(used_patients).to_numpy()
        ok[list(used_rows)] = False
        # Prefer visits without adverse events, so that rejecting the planted row
        # does not orphan an event.
        cand = np.flatnonzero(ok & ~has_ae)
        if not len(cand):
            cand = np.flatnonzero(ok)
        if not len(cand):
            return None
        r = int(cand[rng.integers(len(cand))])
        used_rows.add(r)
        used_patients.add(str(a.at[r, "patient_id"]))
        return r

    def add(problem, file, key_or_row, pid, visit, column, value, expected):
        rec = {"problem": problem, "file": file, "row": None, "patient_id": pid,
               "visit": visit, "column": column, "value": value, "expected": expected}
        if file == "assessments.csv":
            rec["_key"] = key_or_row
        else:
            rec["row"] = key_or_row
        problems.append(rec)

    later = (a["visit"] > 0).to_numpy()
    # The ID typo goes to the 12th patient ("dn-0012 "): keep that patient for it.
    target = str(ids[min(11, len(ids) - 1)]) if len(ids) else None
    if target is not None:
        used_patients.add(target)
    # 1. mm typed into the cm/NRS column (x10 after conversion)
    scaled = np.isin(fsp_scale, ["cm", "nrs10"])
    high = (a["first_step_pain"] >= 20).to_numpy()
    r = pick(later & scaled & high)
    if r is not None:
        value = str(int(round(a.at[r, "first_step_pain"])))
        raw.at[r, "First-step pain"] = value
        add("out_of_range", "assessments.csv", order_key[r], a.at[r, "patient_id"],
            int(a.at[r, "visit"]), "First-step pain", value,
            f"{value} on a 0-10 scale ({fsp_scale[r]}) is {int(value) * 10} mm: the value "
            "is rejected as out of range, the rest of the visit kept")
    elif (r := pick(later & high)) is not None:  # every site records in mm
        value = str(int(round(a.at[r, "first_step_pain"] * 10)))
        raw.at[r, "First-step pain"] = value
        add("out_of_range", "assessments.csv", order_key[r], a.at[r, "patient_id"],
            int(a.at[r, "visit"]), "First-step pain", value,
            f"{value} mm is above 100 mm (a misplaced decimal): the "
            "value is rejected as out of range, the rest of the visit kept")
    # 2. a date that is not a date
    r = pick(later & (a["visit"] <= sim.truth["n_sessions"]).to_numpy())
    if r is not None:
        raw.at[r, "Visit date"] = "31/02/2024"
        add("invalid_date", "assessments.csv", order_key[r], a.at[r, "patient_id"],
            int(a.at[r, "visit"]), "Visit date", "31/02/2024", "rejected: not a valid date")
    # 3. duplicate visit with a conflicting value
    r = pick(later & a["first_step_pain"].notna().to_numpy())
    if r is not None:
        dup = raw.iloc[[r]].copy()
        old = a.at[r, "first_step_pain"]
        new_mm = old - 20 if old >= 40 else old + 20
        scale = fsp_scale[r]
        if scale == "cm":
            text = f"{new_mm / 10:.1f}".replace(".", ",")
        elif scale == "nrs10":
            text = str(int(round(new_mm / 10)))
        else:
            text = f"{new_mm:.1f}".replace(".", ",")
        dup["First-step pain"] = text
        extra_rows.append(dup)
        extra_keys.append(order_key[r] + 0.5)
        add("conflicting_duplicate", "assessments.csv", order_key[r] + 0.5,
            a.at[r, "patient_id"], int(a.at[r, "visit"]), "First-step pain", text,
            "second record of the same patient and visit with a different value: both "
            "records flagged or rejected as conflicting duplicates")
    # 4. exact duplicate row
    r = pick(later)
    if r is not None:
        extra_rows.append(raw.iloc[[r]].copy())
        extra_keys.append(order_key[r] + 0.5)
        add("exact_duplicate", "assessments.csv", order_key[r] + 0.5, a.at[r, "patient_id"],
            int(a.at[r, "visit"]), "", "", "identical copy of the previous row: one kept, "
            "the copy removed and recorded")
    # 5. a patient who is not in the register
    width = len(ids[0]) - 3 if len(ids) else 4
    ghost = f"DN-{len(ids) + 8:0{width}d}"
    ghost_row = raw.iloc[[0]].copy()
    ghost_row["Study ID"] = ghost
    ghost_row["Visit"] = sim.truth["visit_labels"][0]
    ghost_row[["Needled", "No. of needles", "LTRs"]] = ["N", "0", "0"]
    ghost_row[["Muscles needled", "Soreness after session", "Comment"]] = ["", "", ""]
    extra_rows.append(ghost_row)
    extra_keys.append(float(len(raw)) + 1.0)
    add("unknown_patient", "assessments.csv", float(len(raw)) + 1.0, ghost, 0, "Study ID",
        ghost, "rejected: patient not in the register")
    # 6. ID typed in lower case with a trailing space
    if target is not None:
        rows = np.flatnonzero((a["patient_id"] == target).to_numpy() & later)
        rows = sorted((x for x in rows if x not in used_rows), key=lambda x: has_ae[x])
        if rows:
            r = int(rows[0])
            used_rows.add(r)
            typo = target.lower() + " "
            raw.at[r, "Study ID"] = typo
            add("id_typo", "assessments.csv", order_key[r], target, int(a.at[r, "visit"]),
                "Study ID", typo, "trailing space trimmed (correction); 'dn-...' differs from "
                "'DN-...' only by case: flagged (not merged) and, not being in the register, "
                "rejected as unknown")
    # 7. a participant marked pregnant who was needled (protocol deviation)
    needled_ids = set(a.loc[a["needled"], "patient_id"])
    p = sim.patients
    cand = np.flatnonzero(
        (p["sex"] == "female").to_numpy() & (p["age"] <= 45).to_numpy()
        & p["patient_id"].isin(needled_ids).to_numpy() & ~p["pregnant"].to_numpy()
        & ~p["patient_id"].isin(used_patients).to_numpy())
    if not len(cand):
        cand = np.flatnonzero(p["patient_id"].isin(needled_ids).to_numpy()
                              & ~p["patient_id"].isin(used_patients).to_numpy())
    if len(cand):
        i = int(cand[rng.integers(len(cand))])
        reg.at[i, "Pregnant"] = "Y"
        pid = str(p.at[i, "patient_id"])
        add("protocol_deviation", "patients.xlsx", i + 4, pid, None, "Pregnant", "Y",
            "kept; every needled visit of this participant flagged as a protocol deviation")
    if extra_rows:
        raw = pd.concat([raw] + extra_rows, ignore_index=True)
        order_key = np.concatenate([order_key, np.asarray(extra_keys)])
    return raw, order_key, reg, problems


# --------------------------------------------------------------------------- sample

_ANALYSIS_TOML = """\
# Default analysis of the synthetic sample (dryneedle-outcomes run analysis.toml --out DIR).
# Every key is documented in dryneedle_outcomes/config.py; omit an [analysis.*] table to
# skip that analysis.
[data]
assessments = "assessments.csv"
patients = "patients.xlsx"
adverse_events = "adverse_events.csv"
mapping = "mapping.toml"
errors = "quarantine"

[simulation]
seed = {seed}
n_patients = {n_patients}

[analysis]
outcome = "first_step_pain"
conf_level = 0.95

[analysis.trajectory]
models = ["mmrm", "random_slope"]
covariance = "unstructured"
adjust = ["baseline"]
df = "satterthwaite"
cumulative_after = [{n_sessions}]
sessions_to_mcid = false

[analysis.harms]
per = ["patient", "session", "100_needles"]
dose_response = true

[analysis.responders]
mcid = true
missing = ["observed", "non_responder"]

[analysis.baseline_table]
p_values = false

[analysis.time_to_relief]
mcid = true
sustained = false
timescale = ["days", "sessions"]
interval_censored = true
distributions = ["weibull", "loglogistic"]
n_boot = 200
seed = 2014

[analysis.soreness_duration]
n_boot = 200
seed = 2014

[figures]
formats = ["pdf", "png"]
width = "single"
dpi = 300
"""


def _readme(sim: SimulatedTables, paths: ExportPaths) -> str:
    t = sim.truth
    a = sim.assessments
    n_fu = len(t["follow_up_weeks"])
    probs = paths.problems
    prob_lines = "\n".join(
        f"| {i + 1} | `{r.problem}` | {r.file} | {'' if pd.isna(r.row) else int(r.row)} | "
        f"{r.patient_id} | {r.column} | {f'`{r.value}`' if r.value else ''} | {r.expected} |"
        for i, r in enumerate(probs.itertuples())
    )
    scales = ", ".join(f"{s}: {sc}" for s, sc in t["record_scales"].items())
    diff6 = float(t["arm_difference"].set_index("visit").loc[t["n_sessions"], "estimate"])
    return f"""# Sample data: a synthetic dry-needling trial

**Synthetic data - not real patients.** Made by
`dryneedle_outcomes.simulate.write_sample` (the generator behind `dno.simulate_cohort`)
with seed {t["seed"]} and {t["n_patients"]} participants, to resemble Cotchett, Munteanu &
Landorf (2014, Phys Ther 94:1083): real vs sham (non-penetrating) trigger-point dry needling
for plantar heel pain, {t["n_sessions"]} sessions ({t["sessions_per_week"]:g} a week), follow-up
at week {", ".join(f"{w:g}" for w in t["follow_up_weeks"])}. The true first-step pain
difference (real minus sham) after session {t["n_sessions"]} is {diff6:.1f} mm; the sham arm
improves by about 17 mm by week 6. Adverse events: about 30% of real-needling appointments have one
(Cotchett 2014: 32%), bruising 7.6% and bleeding 4.7% of treatments (Brady et al. 2014).
The module docstring of `dryneedle_outcomes/simulate.py` lists every parameter and source.

{len(sim.patients)} participants, {len(a)} assessment records (before the planted problems),
{len(sim.adverse_events)} adverse events; {1 + t["n_sessions"] + n_fu} scheduled visits each.

## Files

- `assessments.csv` - one row per patient visit. `;`-delimited, decimal comma,
  **cp1252** (clinician names such as "Müller", comments such as "Réévaluation 12 sem."),
  Windows line ends. Visit labels "Baseline", "Session 1".."Session {t["n_sessions"]}",
  "{t["visit_labels"][max(t["visit_labels"])]}". **"Visit date" is dd/mm/yyyy and there
  is no day column** (the loader derives days from the dates). First-step pain is on a
  **per-site scale** ({scales}; cm with one decimal such as "6,8", NRS 0-10 as integers)
  while usual pain is in mm everywhere. Needled Y/N; number of needles and LTRs are 0
  when not needled. Muscles as clinicians write them ("Gastroc + soleus", "FDB; plantar
  fascia" - quoted because of the `;`; "tibialis posterior" stands for the code `other`).
  Soreness as text ("36h", "24-48h", "24–48 hrs", "1-2 days", "2 days", ">48h", "ongoing",
  "none"; blank when not needled, or never reported because the patient did not come
  back).
- `patients.xlsx` - the participant register. Sheet "Participants" with two title rows
  above the header (header on row 3); Allocation coded 1 = dry needling, 2 = sham; Sex
  F/M; Y/N flags (Pregnant, Immunocompromised, Needle phobia); a second sheet "Notes".
- `adverse_events.csv` - one row per adverse event. UTF-8 with BOM, comma-delimited; no
  coded term, only the verbatim text ("Haematoma L gastroc", "dizzy, pale", "DOMS 2
  days"); severity written "mild", "Moderate" or "Grade 1"; Serious Y/N.
- `mapping.toml` - how to read the three files: columns, per-site scales, visit, arm,
  sex and severity codes, and synonyms for the muscles and AE texts this clinic uses
  outside the fixed vocabularies (schema: `dryneedle_outcomes/mapping.py`).
- `analysis.toml` - the default analysis configuration (`errors = "quarantine"`, so the
  planted problems are set aside and listed).
- `planted_problems.csv` - the problems below, machine-readable; rows are
  spreadsheet-style (the CSV header is row 1; the Excel header is row 3).

## Planted problems

Seven realistic problems touching seven rows; the loader should reject, correct or flag
each one and account for it in `cohort.quality`, never drop it silently.

| # | problem | file | row | patient | column | value | expected |
| --- | --- | --- | --- | --- | --- | --- | --- |
{prob_lines}

## Make your own sample

```bash
dryneedle-outcomes simulate --out my_sample --seed {t["seed"]} --patients {t["n_patients"]}
```

(or `python -m dryneedle_outcomes.simulate my_sample`) writes this sample again into the
new folder `my_sample`, byte-for-byte for a given seed and library version; another seed
or size gives another trial. `simulate` writes only into a new or empty folder, or over
a sample folder it wrote itself when given `--force`; it never writes over other files.
The sample bundled with the package (`data/sample/`) is checked against this generator
by the test suite: leave it as it is. To load a sample:

```python
import dryneedle_outcomes as dno
cohort = dno.load_cohort("my_sample/assessments.csv", "my_sample/patients.xlsx",
                         "my_sample/adverse_events.csv",
                         mapping="my_sample/mapping.toml", errors="quarantine")
```

or run its analysis: `dryneedle-outcomes run my_sample/analysis.toml --out my_results`.
"""


#: The files :func:`write_sample` writes (besides ``planted_problems.csv`` when asked).
SAMPLE_FILES = ("assessments.csv", "patients.xlsx", "adverse_events.csv", "mapping.toml",
                "planted_problems.csv", "analysis.toml", "README.md")


def write_sample(
    directory: str | Path = "data/sample", *, n_patients: int = 84, seed: int = 2014,
    inject_problems: bool = True, overwrite: bool = False, **kwargs: Any,
) -> ExportPaths:
    """(Re)generate the sample data folder: raw exports, mapping, analysis.toml, README.

    Parameters
    ----------
    directory : path
        Output folder (created if needed).
    overwrite : bool, default False
        Write over files of the same names already in ``directory``; without it such
        files are an :class:`~dryneedle_outcomes.errors.OutputFolderError` naming them,
        and nothing is written.
    n_patients : int
        Number of participants.
    seed : int
        Seed of the simulation (and of the export quirks).
    inject_problems : bool
        Plant the realistic problems (see :func:`write_raw_exports`).
    **kwargs
        Passed to :func:`simulate_tables`.

    Returns
    -------
    ExportPaths
        As :func:`write_raw_exports`, plus ``"analysis"`` and ``"readme"``.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     paths = write_sample(tmp, n_patients=20, seed=7)
    ...     paths["readme"].read_text(encoding="utf-8").startswith("# Sample data")
    True
    """
    directory = Path(directory)
    existing = [name for name in SAMPLE_FILES if os.path.lexists(directory / name)]
    if existing and not overwrite:
        raise OutputFolderError(
            f"{directory} already holds {', '.join(existing)}; nothing was written: choose a "
            "new folder, or pass overwrite=True (--force) to write over them")
    sim = simulate_tables(n_patients, seed=seed, **kwargs)
    paths = write_raw_exports(sim, directory, inject_problems=inject_problems)
    paths["analysis"] = directory / "analysis.toml"
    paths["analysis"].write_text(
        _ANALYSIS_TOML.format(seed=seed, n_patients=n_patients,
                              n_sessions=sim.truth["n_sessions"]),
        encoding="utf-8")
    paths["readme"] = directory / "README.md"
    paths["readme"].write_text(_readme(sim, paths), encoding="utf-8")
    return paths


def write_sample_folder(directory: str | Path, *, n_patients: int = 84,
                        seed: int = 2014) -> ExportPaths:
    """:func:`write_sample` into a new, empty ``directory`` plus its ``manifest.json``.

    The manifest (``"kind": "sample"``, the seed, the size and every file's SHA-256)
    is what lets ``dryneedle-outcomes simulate --force`` later recognise the folder as
    one it wrote (:mod:`dryneedle_outcomes.outdir`).

    Examples
    --------
    >>> import json, tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     paths = write_sample_folder(tmp, n_patients=20, seed=7)
    ...     json.loads((Path(tmp) / "manifest.json").read_text())["kind"]
    'sample'
    """
    from datetime import UTC, datetime

    from .manifest import build_manifest, output_hashes

    directory = Path(directory)
    started = datetime.now(UTC).isoformat(timespec="seconds")
    paths = write_sample(directory, n_patients=n_patients, seed=seed)
    names = [Path(p).name for p in paths.values()]
    manifest = build_manifest(
        inputs={}, config={"simulation": {"seed": seed, "n_patients": n_patients}},
        started=started, finished=datetime.now(UTC).isoformat(timespec="seconds"),
        outputs=output_hashes(directory, names) | {"manifest.json": None}, kind="sample")
    (directory / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n",
                                             encoding="utf-8", newline="\n")
    return paths


def _main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m dryneedle_outcomes.simulate",
        description="Write a synthetic dry-needling trial as raw exports (the sample data).",
    )
    parser.add_argument("directory", nargs="?", default="data/sample", help="output folder")
    parser.add_argument("--n-patients", type=int, default=84)
    parser.add_argument("--seed", type=int, default=2014)
    parser.add_argument("--no-problems", action="store_true",
                        help="do not plant data problems")
    parser.add_argument("--force", action="store_true",
                        help="write over the sample files already in the folder")
    args = parser.parse_args(argv)
    try:
        paths = write_sample(args.directory, n_patients=args.n_patients, seed=args.seed,
                             inject_problems=not args.no_problems, overwrite=args.force)
    except OutputFolderError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for role, path in paths.items():
        print(f"{role:15s} {path}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(_main())
