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
  truncation; Cotchett 2014 Table 1: baseline first-step pain about 68 mm, SD about
  15 in each arm).
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
* Between-patient variability, calibrated to Cotchett 2014: their difference at
  6 weeks, -14.4 mm (95% CI -23.5 to -5.2) with 84 randomised (42 per arm), implies a
  standard error of (23.5 - 5.2) / (2 x 1.99) = 4.60 mm (t with about 80 df), so a
  first-step pain SD at week 6 *conditional on baseline* of 4.60 x sqrt(42 / 2) =
  21.1 mm. Model: random intercept SD 12 mm, residual SD 10 mm (both fixed by the
  baseline SD) and a random slope that is an initial rate (SD ``slope_sd`` = 6.11
  mm/week, correlation -0.3 with the intercept: an assumption) plateauing like the
  mean curve: the patient's deviation at week ``w`` is ``b + s * T (1 - exp(-w / T))``
  with ``T = slope_tau_weeks`` = 4 (assumed; a slope linear in weeks would make the
  12-week spread implausibly wide). The SD conditional on baseline is
  :func:`conditional_sd` (pure arithmetic: 21.08 mm at week 6, 24.5 mm at week 12;
  selection on the baseline does not change it); the marginal SD is about 21 mm at
  week 6, against 15.6 at baseline: patients' courses diverge after baseline, as in
  Cotchett 2014's follow-up SDs. The previous defaults (slope SD 1 mm/week, linear)
  gave a conditional SD of 14 mm and an SE of 3.0 mm, so power computed from them
  was far too optimistic. ``benchmarks/simulator_calibration.py`` checks the SE of
  the primary MMRM by simulation (README in ``tests/reference/simulator_calibration``).
* Usual pain (``vas_pain``) = 0.9 x first-step pain - 4 mm + N(0, 7) noise
  (correlation about 0.9; a bit lower than first-step pain).
* Dropout: an expected fraction ``dropout`` (10%, assumed; Cotchett 2014 lost few
  participants by week 6) of patients stop attending for good after baseline
  (monotone), with a per-visit hazard that depends on nothing (``"mcar"``,
  default), on the last observed pain (``"mar"``) or on the current unobserved pain
  (``"mnar"``): ``dryneedle_outcomes.simulate.dropout`` (slope ``dropout_slope`` 0.04
  per mm, assumed), plus 2% of other visits missed in isolation (assumed).
* Adverse events (AEs): Cotchett 2014 recorded AEs at 70 of about 219 real-needling
  appointments (32%) and 1 with sham. Per treatment, Brady S, McEvoy J, Dommerholt J,
  Doody C. Adverse events following trigger point dry needling: a prospective survey
  of chartered physiotherapists. J Man Manip Ther. 2014;22(3):134-140 (7,629
  treatments, abstract): bruising 7.55%, bleeding 4.65%, pain during treatment 3.01%
  (``needle_site_pain``), pain after treatment 2.19%, aggravation of symptoms 0.88%,
  drowsiness 0.26% plus fatigue 0.04% (``drowsiness``), headache 0.14%, nausea
  0.13%, numbness 0.01% (``paraesthesia``), shaking, itching and claustrophobia
  0.01% each (``other``, 0.03% together). The probability of each local AE
  (bruising, bleeding, needle-site pain, infection) is proportional to the number of
  needles inserted (assumed) with Brady's rate at the mean number. Not from Brady
  (assumed): vasovagal reactions 0.15% (2% in needle-fearful patients), infection
  0.05%. Sham appointments: 0.4% (assumed, matching Cotchett's single sham event in
  about 230 appointments).
* Post-needling soreness recorded as an AE follows from the simulated soreness, not
  from a separate rate: the simulated clinic records a ``post_needling_soreness``
  event when the soreness (after real or sham needling) lasted at least
  ``soreness_ae_hours`` = 48 h (assumed: the
  usual course is 24-48 h, DESIGN.md; the sample's analysis declares the same rule,
  ``soreness_as_ae = { min_hours = 48 }``), with its true duration in
  ``duration_h``. That is about 6% of needled appointments, more than Brady's "pain
  after treatment" (2.19%), whose physiotherapists stated no duration rule.
* Post-needling soreness (DESIGN.md: resolves within 24-48 h): the true duration is
  0 h for 10% of sessions, otherwise lognormal with median 24 h x 0.93^(k-1) at
  session ``k`` and sigma 0.54 (so 90% of durations under 48 h at session 1;
  assumed, fitted to the 24-48 h statement).
* Sham sessions: the non-penetrating sham is a procedure too (blunt needles pressed
  on the skin, Cotchett 2014), so soreness is recorded after sham sessions as after
  real ones (assumed: none after ``sham_soreness_none`` = 50% of them, otherwise half
  as long as after real needling, ``sham_soreness_scale`` = 0.5). ``needled`` is
  False and ``needles`` 0 at sham sessions: ``needles`` counts needles *inserted*
  (the denominator of harms per 100 needles and the exposure of dose-response), and
  the loader flags needles at a visit not needled.
* Needling details (STRICTA 2010 item 2; their own random stream,
  ``simulate.needling_details``, so the other tables do not change): the intrinsic
  foot muscles named (``intrinsic_probabilities`` = 0.70, 0.55, 0.40, 0.15 for
  abductor hallucis, flexor digitorum brevis, quadratus plantae, abductor digiti
  minimi: assumed, the order of the trigger points Cotchett 2014 lists), the side
  (``bilateral`` = 15% of patients, else left or right: assumed), the technique
  (pistoning, or static needles retained 5-15 min for ``static_technique`` = 15% of
  patients: assumed; Cotchett 2014 used pistoning).
* Blinding (``patients.allocation_guess``, the answer to "which treatment do you think
  you received?" at the end of treatment): needled patients guess real 55%, sham
  10%, don't know 35%; the others (sham, or needling withheld) real 45%, sham 20%,
  don't know 35%. Assumed: Cotchett 2014 reports that blinding was assessed without
  a per-arm table we could cite; penetrating needling is hard to mask, and most sham
  patients of non-penetrating needle trials believe they had real needling or do not
  know.
* Intercurrent events (ICH E9(R1); :mod:`dryneedle_outcomes.simulate.intercurrent`):
  every dropout has one at its first missed visit (``withdrew_from_study``, or
  ``discontinued_treatment`` for ``dropout_discontinued`` = 40% of them, assumed); an
  adverse event that led to withdrawal ends the patient's attendance at the next visit
  (``adverse_event_withdrawal``); concomitant treatments over the trial (assumed, not
  sourced): rescue analgesics/NSAIDs 15% of patients, orthoses 8%, night splint 4%,
  steroid injection 2%. They do not change the simulated pain.
* Harms details (CONSORT Harms 2022; assumed): ``relatedness`` related for local
  events, possibly related for systemic ones (drowsiness, headache, nausea,
  aggravation, vasovagal, other); ``onset_h`` 0 for events during the session,
  otherwise hours after it; ``duration_h`` (soreness: its true duration); action
  taken (first aid for bleeding and vasovagal reactions, medication or referral for
  infection, none otherwise); withdrawal for 30% of severe events; ascertainment
  ``systematic`` (the clinic's post-session questionnaire) for 85%, ``spontaneous``
  otherwise. A bruise and a bleed at the same appointment are written as one
  verbatim ("bruising and bleeding") half of the time.
* Patients: age ~ N(50, 11) truncated to 18-85 (whole years), 60% female, BMI
  ~ N(30, 5) truncated to 18-55, symptom duration lognormal with median 10 months,
  pregnant in 1% of women aged 45 or less, immunocompromised 2%, needle fear 15%.
  Contraindicated patients (pregnant or immunocompromised) allocated to real
  needling are not needled; the treatment effect among the needled is scaled so
  that the intention-to-treat difference is exactly ``effect_mm``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np
import pandas as pd

from ..errors import ConfigError

#: The sites the main stream draws (``muscle_probabilities``, one each); which intrinsic
#: foot muscles are named is drawn on their own stream (``simulate.needling_details``).
MUSCLE_SITES: tuple[str, ...] = ("gastrocnemius", "soleus", "intrinsic_foot",
                                 "plantar_fascia", "other")


@dataclass(frozen=True)
class SimulationParameters:
    """Tunable parameters of :func:`simulate_tables` (pass any of them as keywords).

    The defaults are the realism targets of the module docstring. Pain in mm, time in
    weeks unless said otherwise, probabilities as fractions.
    """

    baseline_mean: float = 68.0
    baseline_limits: tuple[float, float] = (25.0, 100.0)
    intercept_sd: float = 12.0
    slope_sd: float = 6.11
    slope_tau_weeks: float = 4.0
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
    dropout_slope: float = 0.04
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
    intrinsic_probabilities: tuple[float, ...] = (0.70, 0.55, 0.40, 0.15)
    bilateral: float = 0.15
    static_technique: float = 0.15
    twitch_first: float = 0.60
    twitch_last: float = 0.15
    twitch_decay_sessions: float = 2.5
    soreness_none: float = 0.10
    soreness_median_h: float = 24.0
    soreness_sigma: float = 0.541
    soreness_shrink: float = 0.93
    soreness_ae_hours: float = 48.0
    sham_soreness_none: float = 0.5
    sham_soreness_scale: float = 0.5
    ae_bruising: float = 0.0755
    ae_bleeding: float = 0.0465
    ae_needle_site_pain: float = 0.0301
    ae_aggravation: float = 0.0088
    ae_drowsiness: float = 0.0030
    ae_headache: float = 0.0014
    ae_nausea: float = 0.0013
    ae_paraesthesia: float = 0.0001
    ae_vasovagal: float = 0.0015
    ae_vasovagal_fear: float = 0.02
    ae_infection: float = 0.0005
    ae_other: float = 0.0003
    ae_sham: float = 0.004
    guess_needled: tuple[float, float, float] = (0.55, 0.10, 0.35)
    guess_not_needled: tuple[float, float, float] = (0.45, 0.20, 0.35)
    ae_withdrawal_severe: float = 0.3
    ae_systematic: float = 0.85
    ae_combined_verbatim: float = 0.5
    dropout_discontinued: float = 0.4
    ice_rescue_medication: float = 0.15
    ice_orthoses: float = 0.08
    ice_night_splint: float = 0.04
    ice_steroid_injection: float = 0.02


def _empty_ice() -> pd.DataFrame:
    from ..normalize.intercurrent_events import empty_intercurrent_events

    return empty_intercurrent_events()


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
    intercurrent_events : pandas.DataFrame
        The canonical intercurrent-events table (DESIGN.md; ICH E9(R1)): every
        dropout's event at its first missed visit and the concomitant treatments
        (:mod:`dryneedle_outcomes.simulate.intercurrent`).
    """

    patients: pd.DataFrame
    assessments: pd.DataFrame
    adverse_events: pd.DataFrame
    truth: dict
    intercurrent_events: pd.DataFrame = field(default_factory=_empty_ice)


def slope_time_function(week, tau_weeks: float):
    """Time function of the random slope: ``T (1 - exp(-week / T))`` (``week`` if ``T`` is inf).

    Its derivative at week 0 is 1, so the slope keeps its unit (mm/week) as an initial rate.

    Examples
    --------
    >>> round(float(slope_time_function(6.0, 4.0)), 4)
    3.1075
    """
    week = np.asarray(week, dtype=float)
    if math.isinf(tau_weeks):
        return week
    return tau_weeks * -np.expm1(-week / tau_weeks)


def conditional_sd(params: SimulationParameters, week: float) -> float:
    """SD of latent first-step pain at ``week`` given the baseline score (pure arithmetic).

    With ``y0 = b + e0`` and ``y_w = b + s f(w) + e_w`` (``f`` = :func:`slope_time_function`),
    ``var(y_w | y0) = var(y_w) - cov(y_w, y0)^2 / var(y0)``; truncating ``y0`` (the
    eligibility window) does not change it (a linear Gaussian regression). This is the
    outcome SD an ANCOVA or baseline-adjusted MMRM sees; its standard error of an arm
    difference with ``m`` complete patients per arm is about ``sd * sqrt(2 / m)``.

    Examples
    --------
    >>> round(conditional_sd(SimulationParameters(), 6.0), 2)
    21.08
    """
    p = params
    x = p.slope_sd * float(slope_time_function(week, p.slope_tau_weeks))
    sb, se, rho = p.intercept_sd, p.residual_sd, p.slope_intercept_corr
    v0 = sb * sb + se * se
    vw = sb * sb + x * x + 2.0 * rho * sb * x + se * se
    cov = sb * sb + rho * sb * x
    return math.sqrt(vw - cov * cov / v0)


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
                 "soreness_none", "muscle_stickiness", "twitch_first", "twitch_last",
                 "bilateral", "static_technique",
                 "sham_soreness_none", "ae_withdrawal_severe", "ae_systematic",
                 "ae_combined_verbatim", "dropout_discontinued", "ice_rescue_medication",
                 "ice_orthoses", "ice_night_splint", "ice_steroid_injection"):
        check_fraction(name, getattr(params, name))
    for name in ("guess_needled", "guess_not_needled"):
        probs = getattr(params, name)
        if len(probs) != 3 or min(probs) < 0 or not math.isclose(sum(probs), 1.0):
            raise ConfigError(f"{name} needs three probabilities (real, sham, don't know) "
                              f"summing to 1, got {probs!r}")
    if len(params.muscle_probabilities) != len(MUSCLE_SITES):
        raise ConfigError(f"muscle_probabilities needs {len(MUSCLE_SITES)} values (one per "
                          f"site: {', '.join(MUSCLE_SITES)})")
    if len(params.intrinsic_probabilities) != 4:
        raise ConfigError("intrinsic_probabilities needs 4 values (abductor hallucis, flexor "
                          "digitorum brevis, quadratus plantae, abductor digiti minimi)")
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
