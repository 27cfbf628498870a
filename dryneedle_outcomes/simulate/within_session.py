"""Pain rated before and after the needling of each session (``within_session=True``).

The pre-session score of session ``k`` is the single-rating model's score with
``k - 1`` sessions received (:mod:`.truth`, ``assessed="before_session"``). The
post-session score adds an immediate within-session change: ``immediate_mm`` in a
needling arm (scaled, as the cumulative effect, so that the intention-to-treat mean is
exactly ``immediate_mm`` when contraindicated patients are not needled), and
``sham_immediate_mm`` in the other arms (a sham procedure and the visit itself), with
patient-level noise ``within_session_sd``. What carries over to the next session's
pre-session score is the step of the cumulative curve, ``effect * (ramp(k) -
ramp(k - 1))``: part of the immediate change lasts, the rest fades within the week.
``truth["within_session"]`` lists, per arm and session, the true immediate change, the
carry-over and the cumulative change of the arm relative to the shared time trend.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .draws import round_half_up
from .parameters import SimulationParameters


def post_session_rows(rng: np.random.Generator, p: SimulationParameters,
                      assessments: pd.DataFrame, *, latent: np.ndarray, step: np.ndarray,
                      attended: np.ndarray, is_session: np.ndarray, arm_idx: np.ndarray,
                      arms: tuple[str, ...], needling_arms: tuple[str, ...],
                      withheld: np.ndarray, pp_scale: np.ndarray, ramp: np.ndarray,
                      arm_effects: dict[str, float], ids: np.ndarray
                      ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The assessments with a ``timing`` column and a post-session row per attended session.

    Returns the new assessments (sorted by patient, visit, timing) and the per-arm
    truth table: per arm and session ``k``, ``immediate`` (true mean post minus pre at
    session ``k``), ``carry_over`` (the arm's part of the change from the pre-session
    score of session ``k`` to the next score: the next session's pre-session score, or
    the first follow-up after the last session) and ``cumulative`` (the arm's change
    after ``k`` sessions, relative to the time trend shared by the arms).
    """
    n, n_visits = latent.shape
    needling = np.isin(np.asarray(arms), needling_arms)
    arm_immediate = np.where(needling, p.immediate_mm, p.sham_immediate_mm)
    patient_immediate = np.where(withheld, 0.0,
                                 (arm_immediate * np.where(needling, pp_scale, 1.0))[arm_idx])
    noise = rng.normal(0.0, p.within_session_sd, (n, n_visits))
    post = latent + patient_immediate[:, None] + noise
    fsp = np.clip(round_half_up(post / step[:, None]) * step[:, None], 0.0, 100.0)
    fsp = np.round(fsp, 1)
    vas = p.vas_intercept + p.vas_slope * post + rng.normal(0.0, p.vas_residual_sd, post.shape)
    vas = np.clip(np.round(vas, 1), 0.0, 100.0)

    pi, vj = np.nonzero(attended & is_session[None, :])
    post_rows = pd.DataFrame({
        "patient_id": ids[pi], "visit": vj.astype(np.int64), "timing": "post_session",
        "vas_pain": vas[pi, vj], "first_step_pain": fsp[pi, vj],
    })
    day = assessments.set_index(["patient_id", "visit"])["day"]
    post_rows.insert(2, "day", day.reindex(pd.MultiIndex.from_arrays(
        [post_rows["patient_id"], post_rows["visit"]])).to_numpy())
    pre = assessments.copy()
    pre.insert(2, "timing", np.where(is_session[pre["visit"].to_numpy()], "pre_session",
                                     None))
    out = pd.concat([pre, post_rows], ignore_index=True)
    rank = out["timing"].map({"pre_session": 1, "post_session": 2}).fillna(0)
    out = (out.assign(_rank=rank).sort_values(["patient_id", "visit", "_rank"], kind="stable")
           .drop(columns="_rank").reset_index(drop=True))

    sessions = np.flatnonzero(is_session)
    n_sessions = len(sessions)
    k = np.arange(0, n_sessions + 1)
    after_k = (1.0 - np.exp(-k / p.effect_tau_sessions)) / (
        1.0 - np.exp(-n_sessions / p.effect_tau_sessions))   # effect share after k sessions
    has_follow_up = n_visits > n_sessions + 1
    lasting = np.r_[np.diff(after_k)[:-1],
                    (p.effect_persistence - after_k[-2]) if has_follow_up else np.nan]
    truth = pd.DataFrame([
        {"arm": a, "session": int(sessions[j]), "immediate": float(arm_immediate[i]),
         "carry_over": float(arm_effects[a] * lasting[j]) + 0.0,
         "cumulative": float(arm_effects[a] * after_k[j + 1]) + 0.0}
        for i, a in enumerate(arms) for j in range(n_sessions)])
    return out, truth
