"""Power and sample size by simulation: ``simulate_power`` and ``sample_size``.

One job: split the simulated trials into batches, run them (here, or on ``n_jobs``
processes with joblib), and gather the per-trial outcomes into a
:class:`~.result.PowerResult`. The numbers do not depend on ``n_jobs`` or the batch
size: every trial draws from its own child of ``numpy.random.SeedSequence(seed)``
(:mod:`.simulate`) and results are put back in trial order.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from ..errors import AnalysisError
from ..results import DEFAULT_SEED
from .analyses import ANALYSES, FIELDS, analyse
from .cluster import check_client, map_batches
from .design import TrialDesign
from .endpoints import Endpoint, describe, resolve_endpoint
from .progress import NoBar, trial_bar
from .result import PowerResult, power_table
from .simulate import draw_trials

#: Trials per task, by analysis: large enough to vectorise the ANCOVA and the responders
#: and amortise process start-up, small enough to spread an MMRM run (about 0.1 s a
#: trial) or a time-to-relief run (about 6 ms a trial) evenly over the workers.
BATCH = {"ancova": 500, "mmrm": 10, "responders": 500, "time_to_relief": 50}


def _batch(design: TrialDesign, seeds, ns: Sequence[int], visit: int, analysis: str,
           adjust_baseline: bool, endpoint: Endpoint | None = None) -> np.ndarray:
    """Outcomes (len(ns), 5, len(seeds)) of one batch, each n a prefix of the largest."""
    # each MMRM fit works on matrices of a few dozen rows: a multi-threaded BLAS only adds
    # thread start-up and contention (4-5x slower per fit on 2 cores), so one thread
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1):
        return _batch_single_thread(design, seeds, ns, visit, analysis, adjust_baseline,
                                    endpoint)


def _batch_single_thread(design, seeds, ns, visit, analysis, adjust_baseline,
                         endpoint=None):
    n_max = max(ns)
    batch = draw_trials(design, seeds, n_max, int(design.n_treated(n_max)))
    out = []
    for n in ns:
        y, obs, arm = batch.subset(n, int(design.n_treated(n)))
        out.append(analyse(y, obs, arm, visit, analysis, adjust_baseline=adjust_baseline,
                           endpoint=endpoint))
    return np.stack(out)


def _run(design: TrialDesign, ns: list[int], n_trials: int, seed, visit: int,
         analysis: str, alpha: float, n_jobs: int, adjust_baseline: bool,
         client=None, endpoint: Endpoint | None = None, bar=None) -> pd.DataFrame:
    seeds = np.random.SeedSequence(seed).spawn(n_trials)
    size = BATCH[analysis]
    chunks = [seeds[i:i + size] for i in range(0, n_trials, size)]
    bar = NoBar() if bar is None else bar  # counts finished trials; never changes them
    if client is not None:
        # the same chunks, gathered in chunk order: identical to n_jobs=1
        parts = map_batches(client, _batch, chunks, design, ns, visit, analysis,
                            adjust_baseline, endpoint,
                            on_done=None if isinstance(bar, NoBar)
                            else lambda i: bar.update(len(chunks[i])))
    elif n_jobs == 1 or len(chunks) == 1:
        parts = []
        for c in chunks:
            parts.append(_batch(design, c, ns, visit, analysis, adjust_baseline,
                                endpoint))
            bar.update(len(c))
    else:
        from joblib import Parallel, delayed

        # a generator yields the batches in submission order as they finish (joblib 1.3)
        parts = []
        for c, part in zip(chunks, Parallel(n_jobs=n_jobs, return_as="generator")(
                delayed(_batch)(design, c, ns, visit, analysis, adjust_baseline, endpoint)
                for c in chunks), strict=True):
            parts.append(part)
            bar.update(len(c))
    res = np.concatenate(parts, axis=2)  # (len(ns), 5, n_trials), trial order
    frames = []
    for i, n in enumerate(ns):
        f = pd.DataFrame(dict(zip(FIELDS, res[i])))
        f.insert(0, "trial", np.arange(n_trials))
        f.insert(0, "n_per_arm", n)
        frames.append(f)
    trials = pd.concat(frames, ignore_index=True)
    trials["converged"] = trials["converged"] == 1.0
    # a failed fit has no p-value: counted as not rejecting (conservative), not dropped
    trials["rejected"] = trials["converged"] & (trials["p_value"] < alpha)
    return trials


def _design(design, visits, effect, kwargs) -> TrialDesign:
    if design is not None:
        if not isinstance(design, TrialDesign):
            raise AnalysisError(f"design must be a TrialDesign; got {type(design).__name__}")
        if visits is not None or kwargs:
            raise AnalysisError("give the design either as design= or as assumptions "
                                f"(visits=, effect=, ...), not both; got design= and "
                                f"{', '.join(['visits'] * (visits is not None) + list(kwargs))}")
        if effect is not None:
            from dataclasses import replace

            return replace(design, effect=effect)
        return design
    if visits is None or effect is None:
        raise AnalysisError("the design needs visits= and effect= (the assumed difference "
                            "in mean change, treated minus control), or design=")
    return TrialDesign(visits=visits, effect=effect, **kwargs)


def _check(n_trials, alpha, n_jobs, client, analysis):
    if client is not None:
        check_client(client)
        if n_jobs != 1:
            raise AnalysisError(f"give n_jobs= (processes on this machine) or client= (a "
                                f"Dask cluster), not both; got n_jobs={n_jobs!r}")
    if analysis not in ANALYSES:
        raise AnalysisError(f"analysis must be one of {', '.join(ANALYSES)}; got {analysis!r}")
    if not isinstance(n_trials, (int, np.integer)) or n_trials < 1:
        raise AnalysisError(f"n_trials must be a positive integer; got {n_trials!r}")
    if not 0 < alpha < 1:
        raise AnalysisError(f"alpha must be between 0 and 1; got {alpha!r}")
    if not isinstance(n_jobs, (int, np.integer)) or n_jobs == 0 or n_jobs < -1:
        raise AnalysisError(f"n_jobs must be a positive integer or -1 (all cores); got "
                            f"{n_jobs!r}")


def _visit_index(design: TrialDesign, visit) -> int:
    if visit is None:
        return design.n_visits - 1
    hits = np.flatnonzero(np.isclose(design.visits, float(visit)))
    if len(hits) == 0:
        raise AnalysisError(f"visit={visit!r} is not a visit of the design; visits: "
                            f"{design.visits.tolist()}")
    return int(hits[0])


def _ns(n_per_arm) -> list[int]:
    arr = np.atleast_1d(np.asarray(n_per_arm, dtype=float))
    if arr.ndim != 1 or len(arr) == 0 or not np.all(arr == np.round(arr)):
        raise AnalysisError(f"n_per_arm must be whole numbers; got {n_per_arm!r}")
    ns = sorted({int(n) for n in arr})
    if ns[0] < 3:
        raise AnalysisError(f"n_per_arm must be at least 3; got {ns[0]}")
    return ns


def _notes(design, analysis, alpha, visit_index, n_trials, seed, adjust_baseline,
           endpoint=None):
    if endpoint is not None:
        return (*design.describe(visit_index),
                f"Analysis of each simulated trial: {describe(endpoint, alpha)}.",
                f"{n_trials} simulated trials per sample size (seed {seed!r}); 95% Monte "
                "Carlo CI of power by Wilson's score interval. The same trials (common "
                "random numbers) at every sample size.",
                "Trials whose test could not be computed are counted as not rejecting "
                "(column failures), never dropped.")
    how = {"ancova": ("ANCOVA: least squares of the primary visit on arm and baseline "
                      "among patients observed there, t test"
                      if adjust_baseline else
                      "two-sample t test of the primary visit among patients observed "
                      "there (no baseline adjustment)"),
           "mmrm": ("MMRM as fit_trajectory(model='mmrm'): unstructured covariance, "
                    "baseline, arm x visit and baseline x visit, REML, Kenward-Roger df; "
                    "the arm difference at the primary visit")}[analysis]
    return (*design.describe(visit_index),
            f"Analysis of each simulated trial: {how}; two-sided alpha {alpha:g}.",
            f"{n_trials} simulated trials per sample size (seed {seed!r}); 95% Monte Carlo "
            "CI of power by Wilson's score interval. The same trials (common random "
            "numbers) at every sample size.",
            "Fits that failed are counted as not rejecting (column failures), never "
            "dropped.")


def simulate_power(*, n_per_arm, n_trials: int = 1000, seed=DEFAULT_SEED,
                   analysis: str = "mmrm", alpha: float = 0.05, n_jobs: int = 1,
                   client=None, design: TrialDesign | None = None, visits=None,
                   effect=None, visit=None, adjust_baseline: bool = True,
                   definition=None, test: str = "fisher", progress: bool = False,
                   **assumptions) -> PowerResult:
    """Power of a two-arm trial by simulation, at one or several sample sizes.

    Each simulated trial draws baseline and post-baseline outcomes from the design
    (:class:`~dryneedle_outcomes.TrialDesign`), applies the dropout, and is analysed as
    the package analyses a real trial; the power is the proportion of trials whose
    two-sided test at the primary visit rejects at ``alpha``.

    The effect is an assumption made before the trial (the smallest effect worth
    detecting), not the effect observed in an earlier cohort: power computed from an
    observed effect ("post-hoc power") is a restatement of the p-value already seen and
    is misleading (Hoenig & Heisey 2001, Am Stat 55:19-24). Report the assumptions with
    the sample size (CONSORT 2025 item on sample size; SAMPL).

    Parameters
    ----------
    n_per_arm : int or sequence of int
        Control-arm patients (the treated arm has ``ceil(allocation * n)``). Several
        values give a power curve; every value is analysed on the same simulated trials
        (the first ``n`` patients of each arm: common random numbers).
    n_trials : int
        Simulated trials per sample size. The Monte Carlo SE of a power ``p`` is
        ``sqrt(p (1 - p) / n_trials)``: 0.0095 for p = 0.9 and 1,000 trials.
    seed : int or SeedSequence entropy
        One ``numpy.random.SeedSequence(seed)``; trial ``k`` uses its ``k``-th child.
    analysis : {"mmrm", "ancova", "responders", "time_to_relief"}
        See the modules ``dryneedle_outcomes.power.analyses`` and
        ``dryneedle_outcomes.power.endpoints``: ANCOVA by least squares (vectorised over
        trials), the package's MMRM with Kenward-Roger df, the responders at the primary
        visit as :func:`~dryneedle_outcomes.responders` counts them (missing = non-
        responder, Fisher's exact test by default; estimate: the risk difference), or
        the relief intervals as :func:`~dryneedle_outcomes.time_to_relief` derives them
        with its interval-censored log-rank test (confirmed relief by default).
    alpha : float
        Two-sided significance level.
    n_jobs : int
        Processes (joblib); -1 for all cores. The numbers are the same for any value.
    client : dask.distributed.Client, optional
        Run the batches of trials as tasks on a Dask cluster instead of this machine
        (``pip install "dryneedle_outcomes[cluster]"``); then leave ``n_jobs=1``. The
        numbers are identical to a local run with the same seed: the same child seeds,
        gathered in trial order.
    design : TrialDesign, optional
        The assumptions as one object; else give them as keywords.
    visits, effect : see :class:`~dryneedle_outcomes.TrialDesign`
        ``effect=`` together with ``design=`` replaces the design's effect.
    visit : float, optional
        The pre-specified primary visit (a visit time); default the last visit.
    adjust_baseline : bool
        ``analysis="ancova"`` only: False gives the two-sample t test.
    definition : Relief, optional
        ``analysis="responders"`` or ``"time_to_relief"``: what counts as response or
        relief, as :class:`~dryneedle_outcomes.Relief` says it (improvement >= an MCID,
        a threshold, a percent reduction). Default: the instrument's MCID,
        ``Relief(mcid=True)`` for responders and ``Relief(mcid=True, sustained=True)``
        (confirmed at the next visit) for time to relief, as those functions default;
        ``mcid=True`` needs the design's ``instrument`` (else give a number,
        ``Relief(mcid=12)``). The direction is the instrument's; without one the
        outcome is higher-is-worse (a negative ``effect`` is a benefit).
    test : {"fisher", "chisq"}
        ``analysis="responders"``: two-sided Fisher's exact test or Pearson's
        chi-square without continuity correction (``responders``' ``test=``).
    progress : bool
        A ``tqdm`` bar on stderr counting the simulated trials as their batches finish
        (locally, on joblib's processes or on the Dask cluster). It never changes the
        numbers.
    **assumptions
        The other :class:`~dryneedle_outcomes.TrialDesign` fields: ``sd``,
        ``correlation``, ``rho``, ``baseline_mean``, ``dropout``, ``mechanism``
        (``"mcar"``, ``"mar"`` or ``"mnar"``), ``dropout_slope``, ``allocation``,
        ``shape``.

    Returns
    -------
    PowerResult

    Raises
    ------
    AnalysisError
        Bad assumptions or arguments, or a ``client`` that is not a Dask client.

    Examples
    --------
    >>> import dryneedle_outcomes as dno
    >>> res = dno.simulate_power(n_per_arm=[20, 40], n_trials=200, seed=1,
    ...                          analysis="ancova", visits=[6], effect=0.8, sd=1.0,
    ...                          rho=0.5)
    >>> res.table[["n_per_arm", "n_trials"]].to_numpy().tolist()
    [[20, 200], [40, 200]]
    >>> bool(res.table["power"].iloc[1] > res.table["power"].iloc[0])
    True

    Responders (improvement of at least 12 points, missing = non-responder, Fisher's
    exact test), and confirmed relief by the interval-censored log-rank test:

    >>> res = dno.simulate_power(n_per_arm=40, n_trials=100, seed=2,
    ...                          analysis="responders", definition=dno.Relief(mcid=12),
    ...                          visits=[2, 4, 6], effect=-10.0, sd=20.0, rho=0.5,
    ...                          baseline_mean=60.0, dropout=0.1)
    >>> 0 < res.power < 1, res.analysis
    (True, 'responders')
    >>> res = dno.simulate_power(n_per_arm=40, n_trials=50, seed=2,
    ...                          analysis="time_to_relief",
    ...                          definition=dno.Relief(mcid=12, sustained=True),
    ...                          visits=[2, 4, 6], effect=-10.0, sd=20.0, rho=0.5,
    ...                          baseline_mean=60.0)
    >>> int(res.table["n_trials"].iloc[0])
    50
    """
    _check(n_trials, alpha, n_jobs, client, analysis)
    d = _design(design, visits, effect, assumptions)
    ep = resolve_endpoint(d, analysis, definition, test)
    vi = _visit_index(d, visit)
    ns = _ns(n_per_arm)
    with trial_bar(progress, int(n_trials), f"power, n = {', '.join(map(str, ns))}") as bar:
        trials = _run(d, ns, int(n_trials), seed, vi, analysis, alpha, n_jobs,
                      adjust_baseline, client, endpoint=ep, bar=bar)
    table = power_table(trials, {n: int(d.n_treated(n)) for n in ns})
    fails = int(table["failures"].sum())
    warnings = (_failed(fails, ep),) if fails else ()
    return PowerResult(table=table, trials=trials, analysis=analysis, alpha=alpha,
                       notes=_notes(d, analysis, alpha, vi, n_trials, seed,
                                    adjust_baseline, ep),
                       warnings=warnings)


def _failed(fails: int, endpoint) -> str:
    what = ("simulated fit(s) did not converge" if endpoint is None else
            "simulated trial(s) had no test (see the notes)")
    return f"{fails} {what}; counted as not rejecting (see the failures column)"


def sample_size(target_power: float = 0.9, *, n_range: tuple[int, int], n_trials: int = 1000,
                seed=DEFAULT_SEED, analysis: str = "mmrm", alpha: float = 0.05,
                n_jobs: int = 1, client=None, design: TrialDesign | None = None,
                visits=None, effect=None, visit=None, adjust_baseline: bool = True,
                definition=None, test: str = "fisher", progress: bool = False,
                **assumptions) -> PowerResult:
    """The smallest control-arm ``n`` whose simulated power reaches ``target_power``.

    Bisection over whole ``n`` in ``n_range`` on the same simulated trials at every
    ``n`` (common random numbers: the power estimates are then nearly monotone in ``n``
    and differ by the sample size, not by Monte Carlo noise). Every ``n`` evaluated is a
    row of the result's table; ``n_plausible`` lists those whose 95% Monte Carlo CI
    covers the target -- the Monte Carlo uncertainty of the answer (more ``n_trials``
    narrow it). Arguments as :func:`~dryneedle_outcomes.simulate_power`; with
    ``progress=True`` one bar per ``n`` evaluated.

    Returns
    -------
    PowerResult
        With ``target_power``, ``n_required`` (None, with a warning, when even the upper
        end of ``n_range`` falls short) and ``n_plausible``.

    Examples
    --------
    >>> import dryneedle_outcomes as dno
    >>> res = dno.sample_size(0.8, n_range=(5, 80), n_trials=200, seed=3,
    ...                       analysis="ancova", visits=[6], effect=0.8, sd=1.0, rho=0.0)
    >>> 15 <= res.n_required <= 35
    True

    For the responders at the last visit (improvement >= 12 points; Fisher's test):

    >>> res = dno.sample_size(0.8, n_range=(20, 200), n_trials=200, seed=3,
    ...                       analysis="responders", definition=dno.Relief(mcid=12),
    ...                       visits=[6], effect=-15.0, sd=20.0, rho=0.5)
    >>> 30 <= res.n_required <= 120
    True
    """
    _check(n_trials, alpha, n_jobs, client, analysis)
    if not 0 < target_power < 1:
        raise AnalysisError(f"target_power must be between 0 and 1; got {target_power!r}")
    lo, hi = (int(v) for v in n_range)
    if not 3 <= lo < hi:
        raise AnalysisError(f"n_range must be (low, high) with 3 <= low < high; got {n_range!r}")
    d = _design(design, visits, effect, assumptions)
    ep = resolve_endpoint(d, analysis, definition, test)
    vi = _visit_index(d, visit)
    frames = {}

    def power_at(n: int) -> float:
        if n not in frames:
            with trial_bar(progress, int(n_trials), f"sample size, n = {n}") as bar:
                frames[n] = _run(d, [n], int(n_trials), seed, vi, analysis, alpha, n_jobs,
                                 adjust_baseline, client, endpoint=ep, bar=bar)
        return float(frames[n]["rejected"].mean())

    warnings: list[str] = []
    if power_at(hi) < target_power:
        n_req = None
        warnings.append(f"the power at n = {hi} per arm ({power_at(hi):.3f}) is below the "
                        f"target {target_power:g}: widen n_range")
    elif power_at(lo) >= target_power:
        n_req = lo
        warnings.append(f"the power already reaches the target at the lower end n = {lo}")
    else:
        a, b = lo, hi  # power(a) < target <= power(b)
        while b - a > 1:
            m = (a + b) // 2
            if power_at(m) >= target_power:
                b = m
            else:
                a = m
        n_req = b
    trials = pd.concat([frames[n] for n in sorted(frames)], ignore_index=True)
    table = power_table(trials, {n: int(d.n_treated(n)) for n in frames})
    plausible = tuple(int(n) for n, lo_, hi_ in
                      table[["n_per_arm", "ci_lower", "ci_upper"]].itertuples(index=False)
                      if lo_ <= target_power <= hi_)
    fails = int(table["failures"].sum())
    if fails:
        warnings.append(_failed(fails, ep))
    notes = (*_notes(d, analysis, alpha, vi, n_trials, seed, adjust_baseline, ep),
             f"Smallest n per arm reaching {100 * target_power:g}% power: "
             f"{n_req if n_req is not None else 'not reached'} (bisection over "
             f"{lo}..{hi}); n evaluated whose 95% Monte Carlo CI covers the target: "
             f"{', '.join(map(str, plausible)) or 'none'}.")
    return PowerResult(table=table, trials=trials, analysis=analysis, alpha=alpha,
                       target_power=target_power, n_required=n_req, n_plausible=plausible,
                       notes=notes, warnings=tuple(warnings))


__all__ = ["BATCH", "sample_size", "simulate_power"]
