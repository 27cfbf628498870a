"""What follows a needling appointment in the generative model: soreness and adverse events.

:func:`report_soreness` turns true post-needling soreness durations into the intervals
clinicians record at the next contact; :func:`draw_adverse_events` draws the adverse events
of each appointment with their verbatim text (:data:`AE_VERBATIMS`) and severity.
Both are called by :func:`~dryneedle_outcomes.simulate.simulate_tables`.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from .draws import norm_cdf, round_half_up
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
    "other": (
        "itchy skin at needle site",
        "cramp in calf",
        "shaky after treatment",
        "claustrophobic on plinth",
    ),
}
"""Verbatim AE texts the simulator writes, by term (the way clinicians write them).

Each codes to exactly the term it is listed under (one event per verbatim), so that
the loaded cohort's terms equal the simulated truth; "other" holds rare events of
Brady et al. (2014) that have no term of their own (itching, shaking, claustrophobia).
"""

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


def draw_adverse_events(rng, p: SimulationParameters, ids, session_attended, needled, needles,
                    dur, fear, visit) -> pd.DataFrame:
    """Adverse events per appointment (vectorised Bernoulli draws per term)."""
    terms = SIMULATED_TERMS
    t_index = {t: i for i, t in enumerate(terms)}
    # real needling appointments
    ni, nj = np.nonzero(needled)
    nd = needles[ni, nj].astype(float)
    mult = nd / nd.mean() if len(nd) else nd
    # P(true soreness >= 24 h) at each visit, so that soreness AEs (only reported
    # after soreness of a day or more) occur in about ae_soreness of appointments.
    med = p.soreness_median_h * p.soreness_shrink ** np.maximum(visit - 1, 0)
    p_long = np.array([(1.0 - p.soreness_none)
                       * (1.0 - norm_cdf(math.log(24.0 / m) / p.soreness_sigma)) for m in med])
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
