"""The simulator's inputs and output: its parameters, their checks and the visit labels.

:class:`SimulationParameters` holds every tunable number of the generative model
(:mod:`.truth`) with its realism target as default; :class:`SimulatedTables` is what
:func:`~dryneedle_outcomes.simulate.simulate_tables` returns. The private helpers
check the arguments of ``simulate_tables`` and resolve its defaults.

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
* Within a session (``within_session=True`` only): the score after needling is
  ``immediate_mm`` = -10 mm below the score before it in the real-needling arm and
  ``sham_immediate_mm`` = -4 mm with sham, SD 6 mm between patients. Assumed: no
  trial of plantar heel pain has published pre/post first-step pain within a
  session; immediate reductions of pain and pressure-pain sensitivity after
  trigger-point dry needling of this order are reported for other regions
  (Kietrys et al., J Orthop Sports Phys Ther 2013;43:620-634, meta-analysis: a large
  immediate effect on pain against sham). The lasting part is the step of the
  cumulative curve (``effect_mm`` above); the rest of the immediate change fades by
  the next session.
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
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any

import pandas as pd

from ..errors import ConfigError
from ..normalize.vocabulary import MUSCLES


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
    immediate_mm: float = -10.0
    sham_immediate_mm: float = -4.0
    within_session_sd: float = 6.0
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


def check_fraction(name: str, value: float) -> None:
    if not (0.0 <= float(value) <= 1.0):
        raise ConfigError(f"{name} must be a probability between 0 and 1, got {value!r}")


def build_parameters(kwargs: Mapping[str, Any]) -> SimulationParameters:
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
        check_fraction(name, getattr(params, name))
    if len(params.muscle_probabilities) != len(MUSCLES):
        raise ConfigError(f"muscle_probabilities needs {len(MUSCLES)} values (one per muscle)")
    if not 1 <= params.needles_min <= params.needles_max:
        raise ConfigError("needles_min must be at least 1 and at most needles_max")
    return params


def default_needling_arms(arms: Sequence[str]) -> tuple[str, ...]:
    from ..models.design import is_control_arm  # the analyses' rule (choose_reference)

    return tuple(a for a in arms if not is_control_arm(a))


def resolve_record_scales(record_scales, sites: Sequence[str]) -> dict[str, str]:
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
