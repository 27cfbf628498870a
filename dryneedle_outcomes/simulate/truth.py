"""The generative model: patients, arms, sessions, pain trajectories, soreness and AEs.

:func:`simulate_tables` draws a randomised trial of trigger-point dry needling for
plantar heel pain straight into the three canonical tables plus the ``truth`` it was
drawn from: patients and allocation, the visit schedule, first-step and usual pain,
attendance, needling, and (through :mod:`.after_needling`) soreness reports and adverse
events. The realism targets of its defaults are listed in :mod:`.parameters`;
:func:`simulate_cohort` loads those tables into a :class:`~dryneedle_outcomes.cohort.Cohort`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ..errors import ConfigError
from .after_needling import draw_adverse_events, draw_allocation_guess, report_soreness
from .draws import allocate, norm_cdf, norm_pdf, round_half_up, truncated_normal
from .dropout import DROPOUT_MECHANISMS, draw_dropout
from .intercurrent import ae_withdrawal_stop, draw_intercurrent_events, ice_stream
from .needling_details import details_stream, draw_needling_details
from .parameters import (
    MUSCLE_SITES,
    SimulatedTables,
    build_parameters,
    check_fraction,
    conditional_sd,
    default_needling_arms,
    resolve_record_scales,
    slope_time_function,
    visit_labels,
)
from .within_session import post_session_rows

if TYPE_CHECKING:  # pragma: no cover
    from ..cohort import Cohort


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
    dropout_mechanism: str = "mcar",
    sites: Sequence[str] = ("Site A", "Site B"),
    needling_arms: Sequence[str] | None = None,
    arm_effects: Mapping[str, float] | None = None,
    record_scales: Mapping[str, str] | str | None = None,
    assessed: str | None = None,
    within_session: bool = False,
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
        control arm, after the full course of ``n_sessions`` sessions (mm; negative is
        better): the last session's score under ``assessed="after_session"``.
    dropout : float
        Expected fraction of patients who stop attending (monotone dropout after
        baseline).
    dropout_mechanism : {"mcar", "mar", "mnar"}
        What the per-visit dropout hazard depends on
        (``dryneedle_outcomes.simulate.dropout``): nothing
        (``"mcar"``, the default: the shipped sample's and the simplest assumption),
        the last observed first-step pain (``"mar"``) or the current, unrecorded one
        (``"mnar"``); logistic with slope ``dropout_slope`` per mm, intercept
        calibrated so that the expected fraction is ``dropout``.
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
    assessed : {"after_session", "before_session"}, optional
        What a score recorded at session ``k`` reflects (``dryneedle_outcomes.timing``):
        pain is generated as a function of the sessions received before the rating,
        ``k`` under ``"after_session"`` and ``k - 1`` under ``"before_session"``. The
        default is ``"after_session"`` for a single rating per visit (the convention
        the shipped sample was generated under; its mapping declares it) and
        ``"before_session"`` with ``within_session=True``. The cohort
        (:func:`simulate_cohort`) and the written mapping declare it.
    within_session : bool
        Rate pain before and after the needling of every attended session (a
        ``timing`` column, ``pre_session`` / ``post_session``; baseline and follow-up
        rows have no timing). The pre-session score reflects ``k - 1`` sessions; the
        post-session score adds an immediate within-session change
        (``immediate_mm`` in needling arms, ``sham_immediate_mm`` in the others, SD
        ``within_session_sd``), part of which carries over to the next session's
        pre-session score through the cumulative curve (``truth["within_session"]``
        lists the immediate change, the carry-over and the cumulative change per arm
        and session).
    **kwargs
        Any field of :class:`SimulationParameters`.

    Returns
    -------
    SimulatedTables
        ``patients``, ``assessments``, ``adverse_events``, ``intercurrent_events``
        (every dropout's event at its first missed visit and concomitant treatments,
        drawn from a child random stream and without effect on the simulated pain:
        :mod:`dryneedle_outcomes.simulate.intercurrent`) and ``truth``.

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
    params = build_parameters(kwargs)
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
    check_fraction("dropout", dropout)
    if dropout_mechanism not in DROPOUT_MECHANISMS:
        raise ConfigError(f"dropout_mechanism must be one of {', '.join(DROPOUT_MECHANISMS)}, "
                          f"got {dropout_mechanism!r}")
    if assessed is None:
        assessed = "before_session" if within_session else "after_session"
    if assessed not in ("before_session", "after_session"):
        raise ConfigError(f"assessed must be 'before_session' or 'after_session', got "
                          f"{assessed!r}")
    n_sessions = int(n_sessions)
    follow_up_weeks = tuple(follow_up_weeks)
    last_session_day = round_half_up(7.0 * n_sessions / sessions_per_week)
    if any(np.diff(follow_up_weeks) <= 0) or (
        follow_up_weeks and 7 * follow_up_weeks[0] - 3 <= last_session_day + 1
    ):
        raise ConfigError(
            "follow_up_weeks must increase and start at least one day after the last "
            f"session (day {int(last_session_day)} +- 1, follow-ups +- 3 days)"
        )
    if needling_arms is None:
        needling_arms = default_needling_arms(arms)
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
    scales = resolve_record_scales(record_scales, sites)
    p = params
    rng = np.random.default_rng(seed)

    # ---- schedule ---------------------------------------------------------------
    n_fu = len(follow_up_weeks)
    n_visits = 1 + n_sessions + n_fu
    visit = np.arange(n_visits)
    session_k = np.arange(1, n_sessions + 1)
    nominal_day = np.concatenate(
        [[0.0], round_half_up(7.0 * session_k / sessions_per_week),
         7.0 * np.asarray(follow_up_weeks, dtype=float)]
    )
    week = nominal_day / 7.0
    is_session = (visit >= 1) & (visit <= n_sessions)
    kind = np.where(visit == 0, "baseline", np.where(is_session, "session", "follow_up"))

    # ---- patients -------------------------------------------------------------
    arm_idx = allocate(rng, n, allocation)
    site_idx = rng.integers(0, len(sites), n)
    age = round_half_up(truncated_normal(rng, p.age_mean, p.age_sd, p.age_limits, n))
    female = rng.random(n) < p.female
    bmi = np.round(truncated_normal(rng, p.bmi_mean, p.bmi_sd, p.bmi_limits, n), 1)
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
    p_young = (norm_cdf(z[1]) - norm_cdf(z[0])) / (norm_cdf(z[2]) - norm_cdf(z[0]))
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
    # sessions received before the score at each visit (the declared timing rule)
    lag = 1 if (within_session or assessed == "before_session") else 0
    received = np.where(is_session, visit - lag, np.where(visit == 0, 0, n_sessions))
    ramp = (1.0 - np.exp(-received / p.effect_tau_sessions)) / (
        1.0 - math.exp(-n_sessions / p.effect_tau_sessions)
    )
    effect_shape = np.where(visit == 0, 0.0, np.where(is_session, ramp, p.effect_persistence))
    effect_arm = np.array([arm_effects[a] for a in arms])
    pp_scale = np.where(np.isin(arms, needling_arms), 1.0 / (1.0 - p_withheld), 1.0)
    patient_effect = np.where(withheld, 0.0, (effect_arm * pp_scale)[arm_idx])

    # ---- first-step pain and usual pain ------------------------------------------
    eps = rng.normal(0.0, se, (n, n_visits))
    eps[:, 0] = e0
    # random slope: an initial rate (mm/week) that plateaus like the mean curve
    slope_time = slope_time_function(week, p.slope_tau_weeks)
    latent = (p.baseline_mean + b[:, None] + s[:, None] * slope_time[None, :]
              + sham_curve[None, :]
              + patient_effect[:, None] * effect_shape[None, :] + eps)
    latent[:, 0] = y0
    site_scale = np.asarray([scales[x] for x in sites])[site_idx]
    step = np.select([site_scale == "cm", site_scale == "nrs10"], [1.0, 10.0], 0.1)
    fsp = np.clip(round_half_up(latent / step[:, None]) * step[:, None], 0.0, 100.0)
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

    # ---- attendance: isolated missed visits, then monotone dropout ---------------
    missed = rng.random((n, n_visits)) < p.missed_visit
    missed[:, 0] = False
    drop_at, _, drop_alpha = draw_dropout(rng, dropout_mechanism, dropout, p.dropout_slope,
                                          fsp, ~missed)
    drops = drop_at >= 0
    attended = ~missed & ~(drops[:, None] & (visit[None, :] >= drop_at[:, None]))

    # ---- needling -----------------------------------------------------------------
    needled = attended & is_session[None, :] & (in_needling_arm & ~withheld)[:, None]
    # the sham procedure (non-penetrating needles placed, no skin penetration) is applied
    # at the attended sessions of the other arms: soreness is recorded there too
    sham_applied = attended & is_session[None, :] & ~in_needling_arm[:, None]
    span = p.needles_max - p.needles_min
    propensity = rng.beta(4.5, 5.5, n)
    needles = p.needles_min + rng.binomial(span, np.broadcast_to(propensity[:, None],
                                                                 (n, n_visits)))
    mprob = np.asarray(p.muscle_probabilities)
    usual = rng.random((n, 1, len(MUSCLE_SITES))) < mprob
    fresh = rng.random((n, n_visits, len(MUSCLE_SITES))) < mprob
    keep = rng.random((n, n_visits, 1)) < p.muscle_stickiness
    chosen = np.where(keep, usual, fresh)
    chosen[..., 0] |= ~chosen.any(axis=2)
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
    # after a sham session: shorter (scaled) and more often none (assumed, see parameters)
    sham_none = rng.random((n, n_visits)) < p.sham_soreness_none
    dur = np.where(sham_applied, np.where(sham_none, 0.0, dur * p.sham_soreness_scale), dur)
    next_day = np.full((n, n_visits), np.nan)
    for j in range(n_visits - 2, -1, -1):  # loop over visits (columns)
        next_day[:, j] = np.where(attended[:, j + 1], days[:, j + 1], next_day[:, j + 1])
    gap_h = (next_day - days) * 24.0
    sore_lo, sore_hi = report_soreness(rng, dur, gap_h)
    reported = (needled | sham_applied) & ~np.isnan(gap_h)
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
        "allocation_guess": draw_allocation_guess(rng, p, in_needling_arm & ~withheld),
    })

    pi, vj = np.nonzero(attended)
    # which intrinsic muscles, the side, the technique: their own stream (the main
    # stream drew which sites were needled, `chosen`, as before)
    details = draw_needling_details(details_stream(seed), p, chosen, needled)
    assessments = pd.DataFrame({
        "patient_id": ids[pi],
        "visit": vj.astype(np.int64),
        "day": days[pi, vj].astype(np.int64),
        "vas_pain": vas[pi, vj],
        "first_step_pain": fsp[pi, vj],
        "needled": needled[pi, vj],
        "needles": needles[pi, vj].astype(np.int64),
        "twitch_responses": twitch[pi, vj].astype(np.int64),
        "muscles": details["muscles"][pi, vj],
        "laterality": details["laterality"][pi, vj],
        "technique": details["technique"][pi, vj],
        "retention_min": details["retention_min"][pi, vj].astype(float),
        "soreness_lower_h": sore_lo[pi, vj],
        "soreness_upper_h": sore_hi[pi, vj],
    })

    adverse_events = draw_adverse_events(
        rng, p, ids, attended & is_session[None, :], needled, needles, dur, fear, visit,
        sham_applied
    )
    # ---- an adverse event that led to withdrawal ends attendance at the next visit -----
    # (no random draw: every table of a seed without such an event is unchanged)
    ae_stop = ae_withdrawal_stop(adverse_events, ids, n_visits)
    cut = ae_stop < np.where(drops, drop_at, n_visits)
    if cut.any():
        drop_at = np.where(cut, ae_stop, drop_at)
        drops = drop_at >= 0
        gone = drops[:, None] & (visit[None, :] >= drop_at[:, None])
        attended, needled = attended & ~gone, needled & ~gone
        sham_applied = sham_applied & ~gone
        row_kept = attended[pi, vj]
        # the soreness of the last visit kept was reported at a contact that is now gone
        last_kept = cut[pi] & (vj == drop_at[pi] - 1)
        for col in ("soreness_lower_h", "soreness_upper_h"):
            assessments[col] = assessments[col].mask(last_kept)
        assessments = assessments.loc[row_kept].reset_index(drop=True)
        ae_pos = pd.Series(np.arange(n), index=pd.Index(ids)).reindex(
            adverse_events["patient_id"]).to_numpy()
        ae_kept = adverse_events["visit"].to_numpy() < np.where(drops, drop_at, n_visits)[ae_pos]
        adverse_events = adverse_events.loc[ae_kept].reset_index(drop=True)
    within = None
    if within_session:  # drawn last: the single-rating tables keep their random stream
        assessments, within = post_session_rows(
            rng, p, assessments, latent=latent, step=step, attended=attended,
            is_session=is_session, arm_idx=arm_idx, arms=arms,
            needling_arms=needling_arms, withheld=withheld, pp_scale=pp_scale,
            ramp=ramp, arm_effects=arm_effects, ids=ids)

    # ---- intercurrent events: their own child stream, so the tables above keep theirs --
    intercurrent_events = draw_intercurrent_events(ice_stream(seed), p, ids, drop_at,
                                                   ae_stop, attended, days)

    # ---- truth --------------------------------------------------------------------
    sigma0 = math.sqrt(sb * sb + se * se)
    alpha, beta = (lo_b - p.baseline_mean) / sigma0, (hi_b - p.baseline_mean) / sigma0
    shift = sigma0 * (norm_pdf(alpha) - norm_pdf(beta)) / (norm_cdf(beta) - norm_cdf(alpha))
    k_sel = (sb * sb + rho * sb * ss * slope_time) / (sigma0 * sigma0)
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
        "dropout_mechanism": dropout_mechanism,
        "dropout_intercept": float(drop_alpha),
        "dropout_slope": 0.0 if dropout_mechanism == "mcar" else float(p.dropout_slope),
        "assessed": assessed,
        "within_session": within,
        "visit_labels": visit_labels(n_sessions, follow_up_weeks),
        "visits": visits,
        "arm_means": arm_means,
        "arm_difference": arm_difference,
        "variance": {
            "intercept_sd": sb, "slope_sd": ss, "slope_intercept_corr": rho,
            "residual_sd": se, "vas_residual_sd": p.vas_residual_sd,
            "slope_tau_weeks": p.slope_tau_weeks,
            "baseline_sd_untruncated": sigma0,
            "conditional_sd": {int(j): float(conditional_sd(p, week[j])) for j in visit[1:]},
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
            "move observed means by up to about 0.5 mm (the real-needling arm at week 6). "
            "Missingness: isolated missed visits completely at random; dropout as "
            "dropout_mechanism says, and at the visit after an adverse event that led "
            "to withdrawal. Intercurrent events (intercurrent_events): every dropout at "
            "its first missed visit, and concomitant treatments that do not change the "
            "simulated pain (dryneedle_outcomes.simulate.intercurrent)."
        ),
    }
    return SimulatedTables(patients, assessments, adverse_events, truth, intercurrent_events)


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
        ``load_cohort(sim.assessments, sim.patients, sim.adverse_events,
        intercurrent_events=sim.intercurrent_events)`` with the timing rule the scores
        were generated under declared (``cohort.assessed``); the seed, the true arm
        differences and the variance components are kept (JSON-friendly)
        in ``cohort.provenance["simulation"]``.

    Examples
    --------
    >>> from dryneedle_outcomes.simulate import simulate_cohort
    >>> cohort = simulate_cohort(30, seed=3)
    >>> cohort.n_patients
    30
    """
    from ..load import load_cohort

    sim = simulate_tables(n_patients, seed=seed, **kwargs)
    cohort = load_cohort(sim.assessments, sim.patients, sim.adverse_events,
                         mapping={"assessments": {"assessed": sim.truth["assessed"]}},
                         intercurrent_events=sim.intercurrent_events)
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
