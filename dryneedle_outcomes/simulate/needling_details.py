"""The STRICTA details of each simulated needling session, on their own random stream.

:func:`draw_needling_details` names the intrinsic foot muscles needled (the main
stream only decides *whether* the intrinsic foot muscles were needled, as before),
the side (``laterality``), the technique and the needle retention time. They are
drawn from :func:`details_stream`, a child of the seed independent of the main
stream of :func:`~dryneedle_outcomes.simulate.simulate_tables`, so pain, dropout and
adverse events are the same as without them.

Assumptions of the simulated clinic (parameters in
:class:`~dryneedle_outcomes.simulate.SimulationParameters`): each patient has a usual
set of intrinsic muscles (abductor hallucis, flexor digitorum brevis, quadratus
plantae, abductor digiti minimi, with ``intrinsic_probabilities``; at least one; kept
from session to session with ``muscle_stickiness``), the symptomatic side is needled
(left or right at random, both sides with probability ``bilateral``, plantar heel
pain being bilateral in about a third of patients but usually treated on the worse
side), and the technique is the therapist's: the pistoning (fast-in fast-out)
technique of Cotchett et al. (2014) to elicit local twitch responses, or static
needles left 5, 10 or 15 minutes with probability ``static_technique`` (retention is
recorded for static needles only).
"""

from __future__ import annotations

import numpy as np

from .parameters import MUSCLE_SITES, SimulationParameters

#: The intrinsic foot muscles the simulated clinic names (vocabulary codes).
NAMED_INTRINSICS: tuple[str, ...] = ("abductor_hallucis", "flexor_digitorum_brevis",
                                     "quadratus_plantae", "abductor_digiti_minimi")
_RETENTION_MIN = np.array([5.0, 10.0, 15.0])


def details_stream(seed) -> np.random.Generator:
    """The needling details' own stream: ``SeedSequence(seed, spawn_key=(2,))``.

    Examples
    --------
    >>> bool((details_stream(2014).random(3) == details_stream(2014).random(3)).all())
    True
    """
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(2,)))


def draw_needling_details(rng: np.random.Generator, p: SimulationParameters,
                          chosen: np.ndarray, needled: np.ndarray) -> dict[str, np.ndarray]:
    """Muscle lists, side, technique and retention per patient x visit.

    Parameters
    ----------
    rng : numpy.random.Generator
        :func:`details_stream`.
    chosen : ndarray of bool, shape (n, visits, len(MUSCLE_SITES))
        The sites needled (main stream).
    needled : ndarray of bool, shape (n, visits)

    Returns
    -------
    dict
        ``muscles`` (canonical codes joined by ``";"``), ``laterality``,
        ``technique`` (str arrays, NaN when not needled) and ``retention_min``
        (float, NaN when not needled or not static), each of shape (n, visits).
    """
    n, n_visits, _ = chosen.shape
    prob = np.asarray(p.intrinsic_probabilities)
    usual = rng.random((n, 1, len(prob))) < prob
    fresh = rng.random((n, n_visits, len(prob))) < prob
    keep = rng.random((n, n_visits, 1)) < p.muscle_stickiness
    named = np.where(keep, usual, fresh)
    named[..., 0] |= ~named.any(axis=2)
    intrinsic = MUSCLE_SITES.index("intrinsic_foot")
    named &= chosen[..., intrinsic:intrinsic + 1]
    # the vocabulary order: calf muscles, the named intrinsics, plantar fascia, other
    parts = np.concatenate([chosen[..., :intrinsic], named, chosen[..., intrinsic + 1:]],
                           axis=2)
    names = np.array([*MUSCLE_SITES[:intrinsic], *NAMED_INTRINSICS,
                      *MUSCLE_SITES[intrinsic + 1:]], dtype=object)
    patterns, inverse = np.unique(parts.reshape(-1, parts.shape[2]), axis=0,
                                  return_inverse=True)
    text = np.array([";".join(names[row]) if row.any() else np.nan for row in patterns],
                    dtype=object)
    muscles = text[inverse.reshape(n, n_visits)]

    u_side = rng.random(n)
    side = np.where(u_side < p.bilateral, "bilateral",
                    np.where(rng.random(n) < 0.5, "left", "right")).astype(object)
    static = rng.random(n) < p.static_technique
    technique = np.where(static, "static", "pistoning").astype(object)
    minutes = _RETENTION_MIN[rng.integers(0, len(_RETENTION_MIN), (n, n_visits))]

    def per_visit(values: np.ndarray) -> np.ndarray:
        out = np.broadcast_to(values[:, None], (n, n_visits)).astype(object)
        return np.where(needled, out, np.nan)

    return {
        "muscles": np.where(needled, muscles, np.nan),
        "laterality": per_visit(side),
        "technique": per_visit(technique),
        "retention_min": np.where(needled & static[:, None], minutes, np.nan),
    }


__all__ = ["NAMED_INTRINSICS", "details_stream", "draw_needling_details"]
