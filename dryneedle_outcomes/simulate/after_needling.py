"""What follows a needling appointment in the generative model: soreness and adverse events.

:func:`report_soreness` turns true post-needling soreness durations into the intervals
clinicians record at the next contact; :func:`draw_adverse_events` draws the adverse events
of each appointment with their verbatim text (:data:`AE_VERBATIMS`) and severity.
Both are called by :func:`~dryneedle_outcomes.simulate.simulate_tables`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .draws import round_half_up
from .parameters import SimulationParameters

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
        "vasovagal episode after needling",
        "VVR, lay supine",
        "vasovagal - lay supine",
        "vaso-vagal response",
        "pale and clammy on plinth",
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
    "aggravation_of_symptoms": (
        "heel pain worse after session",
        "aggravation of symptoms",
        "flare-up of heel pain",
        "symptoms aggravated next day",
    ),
    "drowsiness": (
        "drowsy after treatment",
        "felt tired after session",
        "fatigue evening after tx",
    ),
    "headache": (
        "headache after session",
        "mild headache",
    ),
    "nausea": (
        "nausea after needling",
        "felt nauseous",
    ),
    "paraesthesia": (
        "tingling in foot after needling",
        "numbness lateral foot",
        "pins and needles sole",
    ),
    "other": (
        "itchy skin at needle site",
        "cramp in calf",
        "shaky after treatment",
        "claustrophobic on plinth",
    ),
}
"""Verbatim AE texts the simulator writes, by term (the way clinicians write them).

Each codes to exactly the term it is listed under, so that the loaded cohort's terms
equal the simulated truth; "other" holds rare events of Brady et al. (2014) that have
no term of their own (itching, shaking, claustrophobia). A bruise and a bleed at the
same appointment are sometimes written as one verbatim (:data:`COMBINED_VERBATIMS`,
both events carry it), which the loader codes as two events.
"""

COMBINED_VERBATIMS: tuple[str, ...] = ("bruising and bleeding", "bleeding + bruise calf",
                                       "bruise and bleeding at needle site")
"""Verbatims naming a bleed and a bruise at once (written once in the raw export)."""

_LOCAL = ("post_needling_soreness", "bruising", "bleeding", "infection", "needle_site_pain",
          "paraesthesia")
#: onset in hours after the session: (low, high) of a uniform draw, 0 = during it
_ONSET_H = {"bruising": (0, 12), "post_needling_soreness": (0, 12), "infection": (24, 72),
            "aggravation_of_symptoms": (6, 24), "drowsiness": (1, 6), "headache": (1, 8),
            "nausea": (0, 2), "paraesthesia": (0, 6), "other": (0, 6)}
#: median duration in hours (lognormal, sigma 0.7) of events other than soreness
_DURATION_H = {"bruising": 96, "bleeding": 0.05, "vasovagal": 0.25, "infection": 168,
               "needle_site_pain": 0.1, "aggravation_of_symptoms": 36, "drowsiness": 4,
               "headache": 5, "nausea": 1, "paraesthesia": 12, "other": 2}
#: action taken: term -> ((action, probability), ...)
_ACTION = {"bleeding": (("first_aid", 0.8), ("none", 0.2)),
           "vasovagal": (("first_aid", 0.7), ("treatment_interrupted", 0.3)),
           "infection": (("medication", 0.5), ("referred", 0.5)),
           "aggravation_of_symptoms": (("treatment_modified", 0.3), ("none", 0.7))}
_GUESSES = ("real", "sham", "dont_know")
_GUESS_TEXT = {"real": ("real", "Real needling", "real"), "sham": ("sham", "Sham", "placebo"),
               "dont_know": ("don't know", "Don't know", "unsure")}

#: The terms the simulator draws, in its draw order (fixed: a new vocabulary term must
#: not change the random stream of existing samples).
SIMULATED_TERMS: tuple[str, ...] = tuple(AE_VERBATIMS)

_SEVERITIES = ("mild", "moderate", "severe")
_SORENESS_EDGES = (0.0, 24.0, 48.0, 72.0, 168.0)


def report_soreness(rng: np.random.Generator, dur: np.ndarray, gap_h: np.ndarray):
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
    exact_h = np.where(dur < 12, np.maximum(1.0, round_half_up(dur)), 6 * round_half_up(dur / 6))
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


def draw_allocation_guess(rng: np.random.Generator, p: SimulationParameters,
                          needled_patient: np.ndarray) -> np.ndarray:
    """Each patient's answer to "which treatment do you think you received?".

    Multinomial (real, sham, don't know) with ``guess_needled`` for patients who were
    needled and ``guess_not_needled`` for the others (assumptions, see
    :mod:`.parameters`); written in clinic wording (``"Real needling"``, ``"unsure"``)
    that :func:`~dryneedle_outcomes.normalize.vocabulary.map_allocation_guess` reads.
    """
    n = len(needled_patient)
    cum = np.where(needled_patient[:, None], np.cumsum(p.guess_needled),
                   np.cumsum(p.guess_not_needled))
    k = (rng.random(n)[:, None] > cum[:, :2]).sum(axis=1)
    style = rng.integers(0, 3, n)
    table = np.array([_GUESS_TEXT[g] for g in _GUESSES], dtype=object)
    return table[k, style]


def draw_adverse_events(rng, p: SimulationParameters, ids, session_attended, needled, needles,
                        dur, fear, visit, sham_applied=None) -> pd.DataFrame:
    """Adverse events per appointment (vectorised Bernoulli draws per term).

    Post-needling soreness is recorded when its true duration ``dur`` is at least
    ``soreness_ae_hours`` (no separate rate); every other term is a Bernoulli draw
    with the rate of :mod:`.parameters`. The harms details (relatedness, onset,
    duration, action, withdrawal, ascertainment) are drawn per event.
    """
    terms = SIMULATED_TERMS
    t_index = {t: i for i, t in enumerate(terms)}
    # real needling appointments
    ni, nj = np.nonzero(needled)
    nd = needles[ni, nj].astype(float)
    mult = nd / nd.mean() if len(nd) else nd
    prob = np.zeros((len(ni), len(terms)))
    # recorded with certainty when it lasted the clinic's threshold (stated assumption)
    prob[:, t_index["post_needling_soreness"]] = (dur[ni, nj] >= p.soreness_ae_hours)
    prob[:, t_index["bruising"]] = p.ae_bruising * mult
    prob[:, t_index["bleeding"]] = p.ae_bleeding * mult
    prob[:, t_index["needle_site_pain"]] = p.ae_needle_site_pain * mult
    prob[:, t_index["vasovagal"]] = np.where(fear[ni], p.ae_vasovagal_fear, p.ae_vasovagal)
    prob[:, t_index["infection"]] = p.ae_infection * mult
    prob[:, t_index["aggravation_of_symptoms"]] = p.ae_aggravation
    prob[:, t_index["drowsiness"]] = p.ae_drowsiness
    prob[:, t_index["headache"]] = p.ae_headache
    prob[:, t_index["nausea"]] = p.ae_nausea
    prob[:, t_index["paraesthesia"]] = p.ae_paraesthesia * mult
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
    # soreness after a sham procedure is recorded by the same rule (rarely >= 48 h)
    if sham_applied is not None:
        qi, qj = np.nonzero(sham_applied & (dur >= p.soreness_ae_hours))
        ev_pat = np.concatenate([ev_pat, qi])
        ev_visit = np.concatenate([ev_visit, qj])
        ev_term = np.concatenate([ev_term, np.full(len(qi), t_index["post_needling_soreness"])])
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
    details = _details(rng, p, terms, ev_term, dur[ev_pat, ev_visit], sev_idx, m)
    # a bruise and a bleed at one appointment: one verbatim half of the time
    key = ev_pat.astype(np.int64) * (int(visit.max()) + 1) + ev_visit
    bruise = ev_term == t_index["bruising"]
    bleed = ev_term == t_index["bleeding"]
    both = np.isin(key, key[bruise]) & np.isin(key, key[bleed]) & (bruise | bleed)
    both_keys = np.unique(key[both])
    merge_key = both_keys[rng.random(len(both_keys)) < p.ae_combined_verbatim]
    text = np.asarray(COMBINED_VERBATIMS, dtype=object)[
        rng.integers(0, len(COMBINED_VERBATIMS), len(merge_key))]
    merged = both & np.isin(key, merge_key)
    if merged.any():
        verbatim = verbatim.copy()
        verbatim[merged] = text[np.searchsorted(merge_key, key[merged])]
        # one record: the events share severity and the record's details
        first = pd.Series(np.arange(m)).groupby(key).transform("first").to_numpy()
        severity = np.where(merged, severity[first], severity)
        serious = np.where(merged, serious[first], serious)
        for col in details:  # one record, one set of details
            details[col] = np.where(merged, details[col][first], details[col])
    return pd.DataFrame({
        "patient_id": ids[ev_pat] if m else np.array([], dtype=object),
        "visit": ev_visit.astype(np.int64),
        "term": np.asarray(terms, dtype=object)[ev_term] if m else np.array([], dtype=object),
        "verbatim": verbatim,
        "severity": severity,
        "serious": serious.astype(bool),
        **details,
    })


def _details(rng, p: SimulationParameters, terms, ev_term, sore_dur, sev_idx, m) -> dict:
    """Relatedness, onset, duration, action, withdrawal, ascertainment per event."""
    names = np.asarray(terms, dtype=object)[ev_term] if m else np.array([], dtype=object)
    local = np.isin(names, _LOCAL)
    relatedness = np.where(local, "related", "possibly_related").astype(object)
    lo = np.array([_ONSET_H.get(t, (0, 0))[0] for t in terms], dtype=float)[ev_term]
    hi = np.array([_ONSET_H.get(t, (0, 0))[1] for t in terms], dtype=float)[ev_term]
    onset = np.round(lo + (hi - lo) * rng.random(m))
    med = np.array([_DURATION_H.get(t, 1.0) for t in terms], dtype=float)[ev_term]
    duration = med * np.exp(0.7 * rng.standard_normal(m))
    duration = np.where(names == "post_needling_soreness", sore_dur, duration)
    # as written: whole minutes below an hour, whole hours above (reads back exactly)
    duration = np.where(duration < 1, np.round(duration * 60) / 60, np.round(duration))
    action = np.full(m, "none", dtype=object)
    u = rng.random(m)
    for term, options in _ACTION.items():  # a few terms, not rows
        mask = names == term
        cum = np.cumsum([q for _, q in options])
        pick = (u[mask, None] > cum[None, :-1]).sum(axis=1)
        action[mask] = np.asarray([a for a, _ in options], dtype=object)[pick]
    withdrawal = (sev_idx == 2) & (rng.random(m) < p.ae_withdrawal_severe)
    action = np.where(withdrawal, "treatment_stopped", action)
    ascertainment = np.where(rng.random(m) < p.ae_systematic, "systematic",
                             "spontaneous").astype(object)
    return {"relatedness": relatedness, "onset_h": onset, "duration_h": duration,
            "action_taken": action, "withdrawal": withdrawal.astype(bool),
            "ascertainment": ascertainment}
