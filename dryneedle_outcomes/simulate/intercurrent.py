"""Intercurrent events of the generative model: why patients left, and what else they took.

:func:`draw_intercurrent_events` makes the canonical ``intercurrent_events`` table
(``patient_id``, ``visit`` = first visit affected, ``day``, ``event``, ``reason``; ICH
E9(R1) 2019, A.3.1) consistent with what :func:`~dryneedle_outcomes.simulate.simulate_tables`
already drew:

* **Leaving the trial.** Every patient who drops out (monotone dropout,
  :mod:`.dropout`) has one event at the first visit missed for good:
  ``withdrew_from_study`` or, for ``dropout_discontinued`` of them (40%, assumed),
  ``discontinued_treatment`` (stopped coming to the sessions and was not seen again),
  with a reason as a clinic writes it ("moved away", "no improvement, declined further
  sessions").
* **Adverse-event withdrawal.** A patient whose adverse event led to withdrawal
  (``adverse_events.withdrawal``; 30% of severe events, :mod:`.after_needling`) stops
  at the next visit: the event is ``adverse_event_withdrawal`` at the visit after the
  appointment of the AE (the first visit it affects), dated on that appointment, and
  :func:`~dryneedle_outcomes.simulate.simulate_tables` ends the patient's attendance
  there (their later assessments and adverse events are not in the tables; so it is
  the patient's dropout visit, and no other leaving event is recorded).
* **Concomitant treatments**, started between two visits and reported at the next
  attended one (its first visit affected), each at most once per patient: rescue
  analgesics or NSAIDs (``rescue_medication``, ``ice_rescue_medication`` = 15% of
  patients over the trial), off-the-shelf insoles or heel cups (``orthoses``, 8%), a
  night splint (``night_splint``, 4%) and a corticosteroid injection
  (``steroid_injection``, 2%). **Assumed** rates, not taken from a trial: Cotchett et
  al. (2014) asked participants not to start other treatments during the trial and
  report no per-arm co-intervention table we could cite; the rates are modest, with
  the injection rare because it breaks that request. Each attended post-baseline visit
  carries the same hazard ``1 - (1 - P) ** (1 / K)`` over the ``K`` post-baseline
  visits, so a patient who attends every visit starts the treatment with probability
  ``P``; a patient who leaves early has fewer chances.

**The concomitant treatments do not change the simulated outcomes**, and they are
drawn independently of arm and pain: the pain scores are the same whether or not a
patient took one. So in the simulator a treatment-policy estimand and a hypothetical
estimand for these events target the same truth (``truth["arm_difference"]``); they
differ only through what each does with the values after the event (a hypothetical
strategy sets them aside and imputes them). Leaving the trial does change what is
observed (the dropout of :mod:`.dropout`), not the pain that would have been.

The events are drawn from their own random stream (a child of the seed,
:func:`ice_stream`), so that adding them left every other table of a given seed
unchanged.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..normalize.intercurrent_events import empty_intercurrent_events
from ..normalize.vocabulary.ice_events import ICE_EVENTS
from .parameters import SimulationParameters

#: Concomitant treatments the simulator draws, with the parameter of their rate.
CONCOMITANT: tuple[tuple[str, str], ...] = (
    ("rescue_medication", "ice_rescue_medication"),
    ("orthoses", "ice_orthoses"),
    ("night_splint", "ice_night_splint"),
    ("steroid_injection", "ice_steroid_injection"),
)

#: Free-text reasons by event, the way clinic staff write them.
ICE_REASONS: dict[str, tuple[str, ...]] = {
    "withdrew_from_study": (
        "moved away", "no longer contactable", "withdrew consent, no reason given",
        "work commitments", "did not attend, phone calls not returned",
        "family reasons", "déménagement"),
    "discontinued_treatment": (
        "no improvement, declined further sessions", "heel pain better, stopped coming",
        "too far to travel", "did not like the needling", "time constraints",
        "keine Besserung, Behandlung abgebrochen"),
    "adverse_event_withdrawal": (
        "stopped after adverse event at previous session",
        "withdrawn by physio after adverse event"),
    "rescue_medication": (
        "ibuprofen 400 mg prn for heel pain", "paracetamol for flare-up",
        "naproxen from GP", "diclofenac tablets 1 week", "anti-inflammatoires 5 jours",
        "took painkillers most mornings"),
    "orthoses": (
        "bought off-the-shelf insoles", "heel cups from pharmacy",
        "prefabricated orthoses from podiatrist", "Einlagen vom Orthopäden"),
    "night_splint": ("night splint advised by GP", "bought night splint online",
                     "attelle de nuit"),
    "steroid_injection": ("GP injected heel, pain unbearable",
                          "corticosteroid injection by orthopaedic surgeon"),
}

#: How clinic staff write each event in the raw export (all read back by the loader's
#: vocabulary, :mod:`~dryneedle_outcomes.normalize.vocabulary.ice_events`, or by a
#: synonym the sample's ``mapping.toml`` declares: :data:`ICE_SYNONYMS`).
ICE_WORDINGS: dict[str, tuple[str, ...]] = {
    "withdrew_from_study": ("Withdrew", "Lost to follow-up", "withdrew consent", "LTFU"),
    "discontinued_treatment": ("Stopped treatment", "discontinued", "stopped needling"),
    "adverse_event_withdrawal": ("AE withdrawal", "withdrew due to adverse event"),
    "rescue_medication": ("NSAIDs", "painkillers", "Analgesics", "analgesia"),
    "orthoses": ("insoles", "Orthotics", "heel cups", "Einlagen"),
    "night_splint": ("night splint", "Night splint", "attelle de nuit"),
    "steroid_injection": ("cortisone injection", "Steroid injection"),
}

#: Wordings of :data:`ICE_WORDINGS` outside the loader's vocabulary: the written
#: mapping's ``[intercurrent_events.synonyms]``.
ICE_SYNONYMS: dict[str, str] = {"Einlagen": "orthoses", "attelle de nuit": "night_splint"}


def ice_stream(seed) -> np.random.Generator:
    """The intercurrent events' own random stream: a child of ``seed``.

    ``numpy.random.SeedSequence(seed, spawn_key=(1,))`` is the first child
    ``SeedSequence(seed).spawn(1)`` would give: independent of the main stream of
    :func:`~dryneedle_outcomes.simulate.simulate_tables` (``default_rng(seed)``), so
    drawing the events leaves every other table unchanged.

    Examples
    --------
    >>> a = ice_stream(2014).random(3)
    >>> bool((a == ice_stream(2014).random(3)).all())
    True
    >>> bool((a == np.random.default_rng(2014).random(3)).any())
    False
    """
    entropy = seed.entropy if isinstance(seed, np.random.SeedSequence) else seed
    return np.random.default_rng(np.random.SeedSequence(entropy, spawn_key=(1,)))


def ae_withdrawal_stop(adverse_events: pd.DataFrame, ids: np.ndarray,
                       n_visits: int) -> np.ndarray:
    """Per patient, the visit after their first adverse event that led to withdrawal.

    ``n_visits`` (beyond the schedule) for patients without one, or when the event was
    at the last visit.

    Examples
    --------
    >>> ae = pd.DataFrame({"patient_id": ["P2", "P2", "P3"], "visit": [4, 2, 6],
    ...                    "withdrawal": [True, True, True]})
    >>> ae_withdrawal_stop(ae, np.array(["P1", "P2", "P3"], dtype=object), 7).tolist()
    [7, 3, 7]
    """
    stop = np.full(len(ids), n_visits, dtype=np.int64)
    if not len(adverse_events):
        return stop
    w = adverse_events.loc[adverse_events["withdrawal"].to_numpy(dtype=bool)]
    first = w.groupby("patient_id")["visit"].min() + 1
    at = pd.Series(np.arange(len(ids)), index=pd.Index(ids))
    pos = at.reindex(first.index).to_numpy()
    stop[pos] = np.minimum(first.to_numpy(dtype=np.int64), n_visits)
    return stop


def draw_intercurrent_events(rng: np.random.Generator, p: SimulationParameters, ids,
                             drop_at: np.ndarray, ae_stop: np.ndarray,
                             attended: np.ndarray, days: np.ndarray) -> pd.DataFrame:
    """The canonical intercurrent-events table (see the module docstring).

    Parameters
    ----------
    rng : numpy.random.Generator
        The events' own stream (:func:`ice_stream`).
    p : SimulationParameters
    ids : ndarray of str (n,)
    drop_at : ndarray of int (n,)
        First visit missed for good, -1 for completers (after any AE withdrawal).
    ae_stop : ndarray of int (n,)
        :func:`ae_withdrawal_stop` (``n_visits`` when none).
    attended : ndarray of bool (n, T)
        Visits attended (after the dropout).
    days : ndarray of int (n, T)
        Days since baseline of every scheduled visit (attended or not).

    Returns
    -------
    pandas.DataFrame
        ``patient_id``, ``visit``, ``day``, ``event`` (categorical over the
        vocabulary), ``reason``; sorted by patient, visit and event.

    Examples
    --------
    >>> from dryneedle_outcomes.simulate.parameters import SimulationParameters
    >>> att = np.array([[True, True, False, False], [True, True, True, True]])
    >>> days = np.array([[0, 7, 14, 21], [0, 7, 14, 21]])
    >>> ev = draw_intercurrent_events(ice_stream(1), SimulationParameters(),
    ...                               np.array(["P1", "P2"], dtype=object),
    ...                               np.array([2, -1]), np.array([4, 4]), att, days)
    >>> first = ev.loc[ev["patient_id"] == "P1"].iloc[0]   # P1 left: missed visit 2
    >>> int(first["visit"]), float(first["day"])
    (2, 14.0)
    """
    n, t = attended.shape
    k = max(t - 1, 1)
    u_kind = rng.random(n)
    u_reason = rng.random(n)
    u_conc = rng.random((n, t, len(CONCOMITANT)))
    u_day = rng.random((n, t, len(CONCOMITANT)))
    u_conc_reason = rng.random((n, len(CONCOMITANT)))
    frames = []

    # ---- leaving: dropout or adverse-event withdrawal --------------------------------
    left = np.flatnonzero(drop_at >= 1)
    by_ae = ae_stop[left] == drop_at[left]
    kind = np.where(by_ae, "adverse_event_withdrawal",
                    np.where(u_kind[left] < p.dropout_discontinued, "discontinued_treatment",
                             "withdrew_from_study")).astype(object)
    # dated on the appointment of the AE, or on the day of the first visit missed
    day = np.where(by_ae, days[left, np.maximum(drop_at[left] - 1, 0)],
                   days[left, np.minimum(drop_at[left], t - 1)])
    frames.append(pd.DataFrame({"patient_id": ids[left], "visit": drop_at[left],
                                "day": day.astype(float), "event": kind,
                                "reason": _pick(ICE_REASONS, kind, u_reason[left])}))

    # ---- concomitant treatments: first attended post-baseline visit with a start -------
    later = attended.copy()
    later[:, 0] = False
    for c, (event, param) in enumerate(CONCOMITANT):  # four treatments, not patients
        rate = float(getattr(p, param))
        hazard = 1.0 - (1.0 - rate) ** (1.0 / k)
        start = later & (u_conc[:, :, c] < hazard)
        who = np.flatnonzero(start.any(axis=1))
        visit = start[who].argmax(axis=1)
        # started on a day after the previous scheduled visit, up to this visit's day
        lo = days[who, visit - 1] + 1
        hi = days[who, visit]
        day = lo + np.floor(u_day[who, visit, c] * (hi - lo + 1))
        kind = np.full(len(who), event, dtype=object)
        frames.append(pd.DataFrame({"patient_id": ids[who], "visit": visit,
                                    "day": np.minimum(day, hi).astype(float), "event": kind,
                                    "reason": _pick(ICE_REASONS, kind,
                                                    u_conc_reason[who, c])}))
    out = pd.concat(frames, ignore_index=True)
    if not len(out):
        return empty_intercurrent_events()
    order = {e: i for i, e in enumerate(ICE_EVENTS)}
    out = (out.assign(_o=out["event"].map(order))
           .sort_values(["patient_id", "visit", "_o"], kind="stable")
           .drop(columns="_o").reset_index(drop=True))
    out["visit"] = out["visit"].astype(np.int64)
    out["event"] = pd.Categorical(out["event"], categories=list(ICE_EVENTS))
    return out


def _pick(table: dict[str, tuple[str, ...]], kinds: np.ndarray, u: np.ndarray) -> np.ndarray:
    """One text of ``table[kind]`` per row, chosen by the uniform ``u``."""
    out = np.empty(len(kinds), dtype=object)
    for event in pd.unique(kinds):  # a few events, not rows
        mask = kinds == event
        texts = np.asarray(table[event], dtype=object)
        out[mask] = texts[np.minimum((u[mask] * len(texts)).astype(int), len(texts) - 1)]
    return out
