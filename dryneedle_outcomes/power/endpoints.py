"""The responder and time-to-relief analyses applied to each simulated trial.

One job: from simulated outcomes, the per-trial estimate and two-sided p-value of the
package's own responder analysis (:func:`~dryneedle_outcomes.responders`) and
time-to-relief test (:func:`~dryneedle_outcomes.time_to_relief`), with the definition of
response or relief resolved once, for the design, as those functions resolve it.

- ``"responders"``: a patient responds at the primary visit when the definition
  (``Relief``: improvement from baseline >= the MCID, a value on the good side of a
  threshold, or a percent reduction of the room to improve) is met there
  (:class:`~dryneedle_outcomes.definitions.ResponderDefinition`'s rule, values equal to
  the cut-off up to 1e-9 included). Missing visits are non-responders (``responders``'
  default ``missing="non_responder"``, a composite strategy, ICH E9(R1) A.3.2): the
  denominator is every randomised patient (all have a baseline in the simulation). The
  estimate is the risk difference treated minus control, with the unpooled Wald SE;
  the test is two-sided Fisher's exact test (``test="fisher"``, R's ``fisher.test``:
  the tables no more probable than the one observed, as ``scipy.stats.fisher_exact``
  sums them) or Pearson's chi-square without continuity correction
  (``test="chisq"``; no test, a failure, when nobody or everybody responds). Computed
  for all trials of a batch at once.
- ``"time_to_relief"``: each patient's relief interval ``(lower, upper]`` on the
  design's visit-time scale, derived by the rules of
  ``dryneedle_outcomes.survival.events.derive_relief_events`` (the default
  ``Relief(mcid=True, sustained=True)``: met at a visit and confirmed at the patient's
  next observed visit; the event is the first visit of the first such pair, the
  interval opening at the previous observed visit or the baseline, time 0; a patient
  without relief is right-censored at the last observed visit that did not meet the
  definition, so a crossing at the last observed visit, or before dropout, is not
  relief; without ``sustained`` the first visit meeting it is the event and censoring
  is at the last observed visit; a patient without any post-baseline visit is
  ``(0, inf)``; with a threshold definition a patient already meeting it at baseline is
  excluded). Then the interval-censored test ``time_to_relief`` reports first,
  :func:`~dryneedle_outcomes.interval_test` with Finkelstein's log-rank scores and the
  permutation central limit theorem (Fay & Shaw 2010), one call per trial (about 6 ms
  for 2 x 100 patients and 6 visits). As in ``time_to_relief``, no test is done (a
  failure, counted as not rejecting) when an arm has no patient followed up after
  baseline or when the data hold no timing information (no relief at all, or every
  relief at the same visit with nobody still waiting). The estimate is descriptive:
  the difference (treated minus control) in the proportion of analysed patients with
  relief seen by the primary visit (dropouts before it count as without relief).

The simulated outcome is not clipped to the instrument's range (as for the MMRM): the
definitions act on the normal values as drawn.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from ..definitions import ResponderDefinition, resolve_definition
from ..errors import AnalysisError
from ..instruments import INSTRUMENTS, Instrument
from ..stats.survival.interval_test import interval_test
from ..survival.estimability import no_timing_information
from ..survival.relief import Relief
from .design import TrialDesign

#: The analyses of this module.
ENDPOINTS = ("responders", "time_to_relief")
#: Tests of the responder analysis (``responders``' ``test=``).
RESPONDER_TESTS = ("fisher", "chisq")
#: Relative tolerance for tables as probable as the one observed (``scipy.stats.
#: fisher_exact``'s, which ``responders`` calls).
FISHER_TIES = 1e-14


@dataclass(frozen=True)
class Endpoint:
    """A responder or relief definition resolved for a design: plain data, so that it
    travels to worker processes and Dask workers (where a user's instrument registry is
    not available).

    Attributes
    ----------
    analysis : {"responders", "time_to_relief"}
    kind : {"mcid", "threshold", "percent_reduction"}
    value : float
    sustained : bool
        Relief confirmed at the next observed visit (``time_to_relief`` only).
    test : {"fisher", "chisq"}
        The responder test.
    higher_is_better : bool
    lower, upper : float
        The instrument's range (``-inf``, ``inf`` without an instrument).
    instrument : str
        The instrument's name, or ``"outcome"`` without one.
    label : str
        The definition in words.
    times : tuple of float
        The design's visit times.
    """

    analysis: str
    kind: str
    value: float
    sustained: bool
    test: str
    higher_is_better: bool
    lower: float
    upper: float
    instrument: str
    label: str
    times: tuple[float, ...]

    def definition(self) -> ResponderDefinition:
        """The package's :class:`~dryneedle_outcomes.definitions.ResponderDefinition`."""
        inst = Instrument(column=self.instrument, label=self.instrument, lower=self.lower,
                          upper=self.upper, units="", higher_is_better=self.higher_is_better,
                          mcid=None, mcid_source="")
        return ResponderDefinition(self.kind, self.value, inst)

    def met(self, base: np.ndarray, value: np.ndarray) -> np.ndarray:
        """Whether ``value`` (any shape, broadcast with ``base``) meets the definition,
        by ``ResponderDefinition.met`` on the flattened values."""
        base, value = np.broadcast_arrays(np.asarray(base, float), np.asarray(value, float))
        sign = 1.0 if self.higher_is_better else -1.0
        rows = pd.DataFrame({"aval": value.ravel(), "base": base.ravel(),
                             "improvement": sign * (value - base).ravel()})
        return self.definition().met(rows).reshape(value.shape)


def resolve_endpoint(design: TrialDesign, analysis: str, definition, test: str
                     ) -> Endpoint | None:
    """The :class:`Endpoint` of ``analysis`` for ``design`` (None for the MMRM/ANCOVA).

    Parameters
    ----------
    design : TrialDesign
    analysis : str
    definition : Relief or None
        Default ``Relief(mcid=True)`` for ``"responders"`` (``responders``' default) and
        ``Relief(mcid=True, sustained=True)`` for ``"time_to_relief"`` (its default).
    test : {"fisher", "chisq"}

    Raises
    ------
    AnalysisError
        A definition or ``test`` for another analysis, a definition that is not a
        ``Relief``, ``sustained=True`` for responders, ``mcid=True`` or a percent
        reduction without an instrument on the design, or an invalid definition.

    Examples
    --------
    >>> import dryneedle_outcomes as dno
    >>> d = TrialDesign(visits=[3, 6], effect=-10.0, sd=20.0, rho=0.5, baseline_mean=60.0)
    >>> resolve_endpoint(d, "responders", dno.Relief(mcid=12), "fisher").label
    'improvement from baseline >= 12 (MCID)'
    >>> resolve_endpoint(d, "time_to_relief", None, "fisher")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    dryneedle_outcomes.errors.AnalysisError: Relief(mcid=True) is the instrument's MCID, ...
    """
    if test not in RESPONDER_TESTS:
        raise AnalysisError(f"test must be 'fisher' or 'chisq'; got {test!r}")
    if analysis not in ENDPOINTS:
        if definition is not None:
            raise AnalysisError(f"definition= is for analysis='responders' or "
                                f"'time_to_relief'; got analysis={analysis!r}")
        if test != "fisher":
            raise AnalysisError(f"test= is for analysis='responders'; got "
                                f"analysis={analysis!r}")
        return None
    if test != "fisher" and analysis != "responders":
        raise AnalysisError("test= is for analysis='responders'; time_to_relief uses the "
                            "interval-censored log-rank test")
    if definition is None:
        definition = Relief(mcid=True, sustained=analysis == "time_to_relief")
    if not isinstance(definition, Relief):
        raise AnalysisError(f"definition must be a dno.Relief (e.g. dno.Relief(mcid=12)); "
                            f"got {definition!r}")
    if analysis == "responders" and definition.sustained:
        raise AnalysisError("responders count response at the primary visit; "
                            "Relief(sustained=True) describes a time course, use it with "
                            "analysis='time_to_relief' or pass sustained=False")
    if design.instrument is not None:
        inst = INSTRUMENTS[design.instrument]
    else:
        if definition.mcid is True:
            raise AnalysisError(
                "Relief(mcid=True) is the instrument's MCID, but the design names no "
                "instrument: give TrialDesign(instrument='first_step_pain', ...) (a design "
                "from fit.design() has one) or the MCID as a number, e.g. "
                "dno.Relief(mcid=12)")
        if definition.kind == "percent_reduction":
            raise AnalysisError(
                "a percent reduction is measured against the room to improve, which needs "
                "the instrument's range: give TrialDesign(instrument=...)")
        inst = Instrument(column="outcome", label="outcome", lower=-np.inf, upper=np.inf,
                          units="", higher_is_better=False, mcid=None, mcid_source="")
    rd = resolve_definition(inst, mcid=definition.mcid, threshold=definition.threshold,
                            percent_reduction=definition.percent_reduction)
    label = rd.label + (", sustained at two consecutive assessments"
                        if definition.sustained else "")
    return Endpoint(analysis=analysis, kind=rd.kind, value=rd.value,
                    sustained=definition.sustained, test=test,
                    higher_is_better=inst.higher_is_better, lower=float(inst.lower),
                    upper=float(inst.upper), instrument=inst.column, label=label,
                    times=tuple(float(t) for t in design.visits))


# ---------------------------------------------------------------------- responders
def fisher_p(x1, n1: int, x2, n2: int) -> np.ndarray:
    """Two-sided Fisher exact p-values of the 2 x 2 tables ``[[x1, n1 - x1], [x2, n2 -
    x2]]``, one per element of ``x1``, ``x2`` (fixed row totals ``n1``, ``n2``).

    The sum of the hypergeometric probabilities of the tables with the same margins no
    more probable than the observed one (relative tolerance :data:`FISHER_TIES`, as
    ``scipy.stats.fisher_exact``), over the whole support at once.

    Examples
    --------
    >>> from scipy import stats
    >>> p = fisher_p([7, 2], 10, [2, 2], 12)
    >>> ref = [stats.fisher_exact([[7, 3], [2, 10]])[1], stats.fisher_exact([[2, 8], [2, 10]])[1]]
    >>> bool(np.allclose(p, ref, rtol=1e-12))
    True
    """
    x1 = np.asarray(x1, dtype=np.int64)
    k = x1 + np.asarray(x2, dtype=np.int64)              # responders in both arms
    grid = np.arange(n1 + 1)
    pmf = stats.hypergeom.pmf(grid[None, :], n1 + n2, n1, k[..., None])
    obs = stats.hypergeom.pmf(x1, n1 + n2, n1, k)
    p = np.where(pmf <= obs[..., None] * (1 + FISHER_TIES), pmf, 0.0).sum(axis=-1)
    return np.minimum(p, 1.0)


def chisq_p(x1, n1: int, x2, n2: int) -> np.ndarray:
    """Pearson chi-square p-values without continuity correction (``scipy.stats.
    chi2_contingency(correction=False)``); NaN when nobody or everybody responded.

    Examples
    --------
    >>> from scipy import stats
    >>> p = chisq_p([7], 10, [2], 12)
    >>> ref = stats.chi2_contingency([[7, 3], [2, 10]], correction=False)[1]
    >>> bool(np.isclose(p[0], ref, rtol=1e-12))
    True
    """
    x1 = np.asarray(x1, dtype=float)
    x2 = np.asarray(x2, dtype=float)
    n = n1 + n2
    k = x1 + x2
    den = n1 * n2 * k * (n - k)
    with np.errstate(divide="ignore", invalid="ignore"):
        stat = np.where(den > 0, n * (x1 * (n2 - x2) - x2 * (n1 - x1)) ** 2 / den, np.nan)
    return stats.chi2.sf(stat, 1)


def responders(y: np.ndarray, observed: np.ndarray, arm: np.ndarray, visit: int,
               endpoint: Endpoint) -> np.ndarray:
    """Risk difference and test of responders at visit ``visit`` per trial (rows as
    ``FIELDS``: estimate, Wald SE, df (NaN), p-value, converged).

    Examples
    --------
    >>> import numpy as np
    >>> import dryneedle_outcomes as dno
    >>> d = TrialDesign(visits=[6], effect=-10.0, rho=0.5)
    >>> ep = resolve_endpoint(d, "responders", dno.Relief(mcid=5), "fisher")
    >>> y = np.array([[[50, 40], [50, 48], [50, 44], [50, 52]]], dtype=float)
    >>> observed = np.array([[[True], [True], [True], [False]]])
    >>> out = responders(y, observed, np.array([0, 0, 1, 1.0]), 0, ep)
    >>> float(out[0, 0])  # 1/2 treated (the missing one a non-responder) - 1/2 control
    0.0
    """
    met = endpoint.met(y[:, :, 0], y[:, :, visit + 1]) & observed[:, :, visit]
    treated = arm == 1
    n1, n0 = int(treated.sum()), int((~treated).sum())
    x1 = met[:, treated].sum(axis=1)
    x0 = met[:, ~treated].sum(axis=1)
    p1, p0 = x1 / n1, x0 / n0
    se = np.sqrt(p1 * (1 - p1) / n1 + p0 * (1 - p0) / n0)
    pval = (fisher_p(x1, n1, x0, n0) if endpoint.test == "fisher"
            else chisq_p(x1, n1, x0, n0))
    return np.vstack([p1 - p0, se, np.full(len(x1), np.nan), pval,
                      np.isfinite(pval).astype(float)])


# ---------------------------------------------------------------------- time to relief
def relief_intervals(y: np.ndarray, observed: np.ndarray, endpoint: Endpoint
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each patient's relief interval, for all trials at once (module docstring rules).

    Parameters
    ----------
    y : ndarray, shape (B, N, T + 1)
    observed : ndarray of bool, shape (B, N, T)
    endpoint : Endpoint

    Returns
    -------
    lower, upper : ndarray, shape (B, N)
        On the visit-time scale (``upper = inf``: right-censored).
    analysed : ndarray of bool, shape (B, N)
        False for a patient excluded because a threshold definition is already met at
        baseline (``derive_relief_events``' rule).

    Examples
    --------
    >>> import numpy as np
    >>> import dryneedle_outcomes as dno
    >>> d = TrialDesign(visits=[1, 2, 3], effect=-10.0, rho=0.5)
    >>> ep = resolve_endpoint(d, "time_to_relief", dno.Relief(mcid=10, sustained=True),
    ...                       "fisher")
    >>> y = np.array([[[50, 45, 38, 35], [50, 38, 45, 38], [50, 45, 38, 60]]], dtype=float)
    >>> lo, up, _ = relief_intervals(y, np.ones((1, 3, 3), bool), ep)
    >>> lo.tolist(), up.tolist()  # relief in (1, 2]; crossing at 3 unconfirmed; censored
    ([[1.0, 2.0, 3.0]], [[2.0, inf, inf]])
    """
    times = np.asarray(endpoint.times, dtype=float)
    T = len(times)
    idx = np.arange(T)
    met = endpoint.met(y[..., :1], y[..., 1:]) & observed
    # the next observed visit after t (T: none) and the previous one before t (-1: none)
    at_or_after = np.minimum.accumulate(np.where(observed, idx, T)[..., ::-1], axis=-1)[..., ::-1]
    nxt = np.concatenate([at_or_after[..., 1:], np.full(at_or_after[..., :1].shape, T)], -1)
    at_or_before = np.maximum.accumulate(np.where(observed, idx, -1), axis=-1)
    prv = np.concatenate([np.full(at_or_before[..., :1].shape, -1), at_or_before[..., :-1]],
                         -1)
    if endpoint.sustained:
        met_pad = np.concatenate([met, np.zeros(met[..., :1].shape, bool)], -1)
        hit = met & np.take_along_axis(met_pad, nxt, axis=-1)
        censor_at = np.where(observed & ~met, idx, -1).max(axis=-1)
    else:
        hit = met
        censor_at = np.where(observed, idx, -1).max(axis=-1)
    event = hit.any(axis=-1)
    first = hit.argmax(axis=-1)
    t0 = np.r_[0.0, times]                              # index + 1; 0 is the baseline
    before = np.take_along_axis(prv, first[..., None], axis=-1)[..., 0]
    lower = np.where(event, t0[before + 1], t0[censor_at + 1])
    upper = np.where(event, times[first], np.inf)
    analysed = np.ones(event.shape, bool)
    if endpoint.kind == "threshold":
        analysed = ~endpoint.met(y[..., 0], y[..., 0])
    return lower, upper, analysed


def relief_one(lower: np.ndarray, upper: np.ndarray, arm: np.ndarray, by: float
               ) -> np.ndarray:
    """The interval-censored test of one trial's analysed patients (``FIELDS``).

    ``time_to_relief``'s checks first: each arm needs a patient followed up after
    baseline (an interval other than ``(0, inf)``) and the data timing information
    (``no_timing_information`` on the right-censored view); else a failure.
    """
    out = np.full(5, np.nan)
    event = np.isfinite(upper)
    treated = arm == 1
    relieved = event & (upper <= by)
    if treated.any() and (~treated).any():
        out[0] = relieved[treated].mean() - relieved[~treated].mean()
    informative = (lower > 0) | event
    time = np.where(event, upper, lower)
    if (not (informative & treated).any() or not (informative & ~treated).any()
            or no_timing_information(time, event.astype(int)) is not None):
        out[4] = 0.0
        return out
    res = interval_test(lower, upper, arm, scores="logrank2", method="pclt")
    out[3] = res.p_value
    out[4] = 1.0
    return out


def time_to_relief(y: np.ndarray, observed: np.ndarray, arm: np.ndarray, visit: int,
                   endpoint: Endpoint) -> np.ndarray:
    """The time-to-relief test per trial (``FIELDS`` rows, trials as columns): intervals
    for the batch at once, then :func:`relief_one` per trial."""
    lower, upper, analysed = relief_intervals(y, observed, endpoint)
    by = endpoint.times[visit]
    return np.column_stack([relief_one(lower[k, m], upper[k, m], arm[m], by)
                            for k, m in enumerate(analysed)])


def analyse_endpoint(y: np.ndarray, observed: np.ndarray, arm: np.ndarray, visit: int,
                     endpoint: Endpoint) -> np.ndarray:
    """``FIELDS`` per trial of a batch for ``endpoint.analysis``."""
    if endpoint.analysis == "responders":
        return responders(y, observed, arm, visit, endpoint)
    return time_to_relief(y, observed, arm, visit, endpoint)


def describe(endpoint: Endpoint, alpha: float) -> str:
    """What the analysis of each simulated trial does, in a sentence (the notes)."""
    where = (f" on {endpoint.instrument}" if endpoint.instrument != "outcome" else
             " (no instrument given: the outcome is taken as higher-is-worse, a pain "
             "score)")
    if endpoint.analysis == "responders":
        test = ("two-sided Fisher's exact test" if endpoint.test == "fisher" else
                "Pearson's chi-square test without continuity correction")
        return (f"responders at the primary visit as dno.responders: {endpoint.label}"
                f"{where}; missing visits are non-responders (composite strategy, ICH "
                "E9(R1)), denominator every randomised patient; risk difference treated "
                f"minus control, {test}; two-sided alpha {alpha:g}")
    rule = ("(previous visit, first visit meeting it and confirmed at the next observed "
            "visit], a crossing not so confirmed is not relief; no relief: right-censored "
            "at the last observed visit not meeting it" if endpoint.sustained else
            "(previous visit, first visit meeting it]; no relief: right-censored at the "
            "last observed visit")
    return (f"time to relief as dno.time_to_relief: {endpoint.label}{where}; relief in "
            f"{rule} (dropout included); interval-censored log-rank test "
            "(Finkelstein scores, permutation CLT; Fay & Shaw 2010); estimate: "
            "difference in the proportion with relief seen by the primary visit; "
            f"alpha {alpha:g}")


__all__ = ["ENDPOINTS", "Endpoint", "FISHER_TIES", "RESPONDER_TESTS", "analyse_endpoint",
           "chisq_p", "describe", "fisher_p", "relief_intervals", "relief_one",
           "resolve_endpoint", "responders", "time_to_relief"]
