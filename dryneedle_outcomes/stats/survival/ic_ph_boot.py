"""The patient bootstrap of the interval-censored PH model (:mod:`.ic_ph`): resampling,
refits, and their distribution over worker processes.

Resampling
----------
Observations are resampled with replacement within the resampling groups
(``boot_strata``, e.g. the arm), keeping the groups' sizes: a replicate is a vector of
counts over the distinct (interval, covariates, group) rows, one multinomial draw per
group from one ``numpy.random.Generator``. The counts of all replicates are drawn in
the parent process, in replicate order, before any refit, in chunks of
``CHUNK`` replicates; so the replicates, hence the percentile intervals, are the same
for any ``n_jobs`` (and the same as the one-process loop of earlier versions).

Refits
------
Each replicate is refitted by :func:`.ic_ph_engine.fit_model`, warm-started from the
full-data fit (its cumulative hazard mapped onto the replicate's Turnbull intervals,
its ``beta``), with a looser stop than the full fit (``tol * 1e4``: ``beta`` within
about ``sqrt(2e4 tol / information)`` of the replicate's maximiser, far below the
bootstrap spread). A replicate whose maximum-likelihood log hazard ratio is infinite
(``|beta_j| > big``, e.g. a resample with no event in one arm: the likelihood keeps
rising as the coefficient runs off) records ``+-inf`` for that coefficient; a refit
that fails otherwise records NaN (left out of the percentiles, with a warning).

Parallel refits
---------------
With ``n_jobs > 1`` the chunks are refitted by a ``concurrent.futures`` process pool
(the ``fork`` start method where the platform has it, so workers inherit the design
without pickling it per chunk; otherwise ``spawn``), a bounded number of chunks in
flight; results are put back in replicate order.

Examples
--------
>>> import numpy as np
>>> from dryneedle_outcomes.stats.survival.ic_ph_boot import draw_counts
>>> rng = np.random.default_rng(1)
>>> W = draw_counts(rng, np.array([1., 1, 1, 2]), np.array([0, 0, 1, 1]), 3)
>>> W.shape, W[:, :2].sum(axis=1).tolist(), W[:, 2:].sum(axis=1).tolist()
((3, 4), [2.0, 2.0, 2.0], [3.0, 3.0, 3.0])
"""

from __future__ import annotations

import multiprocessing as mp
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

import numpy as np

from ...errors import AnalysisError
from .ic_ph_engine import Design, build_design, fit_model, warm_start

#: Replicates per chunk (drawn together, refitted by one worker).
CHUNK = 25


@dataclass(frozen=True)
class BootContext:
    """What every refit needs: the compressed rows and the full-data fit."""

    cl: np.ndarray
    cu: np.ndarray
    cX: np.ndarray
    cs: np.ndarray | None
    D: Design
    d: np.ndarray
    beta: np.ndarray
    tol: float
    max_iter: int
    big: float


def draw_counts(rng: np.random.Generator, cw: np.ndarray, gcodes: np.ndarray,
                count: int) -> np.ndarray:
    """``count`` replicates' counts over the rows (``count x rows``), resampled within
    groups: per replicate, one multinomial draw per group, in that order."""
    n_g = np.bincount(gcodes, weights=cw)
    prob = cw / n_g[gcodes]
    members = [np.flatnonzero(gcodes == g) for g in range(n_g.size)]
    W = np.zeros((count, cw.size))
    for r in range(count):
        for g, idx in enumerate(members):     # a loop over resampling groups (arms)
            W[r, idx] = rng.multinomial(int(round(n_g[g])), prob[idx])
    return W


def refit(ctx: BootContext, W: np.ndarray) -> np.ndarray:
    """``beta`` of each replicate (rows of ``W``); ``+-inf`` where its MLE is infinite,
    NaN where the refit failed."""
    p = ctx.beta.size
    out = np.full((len(W), p), np.nan)
    for r, wb in enumerate(W):      # a loop over replicates, not over patients
        sel = wb > 0
        Db = build_design(ctx.cl[sel], ctx.cu[sel], ctx.cX[sel], wb[sel],
                          None if ctx.cs is None else ctx.cs[sel])
        try:
            _, bb, _, _, ok = fit_model(Db, warm_start(ctx.D, ctx.d, Db), ctx.beta,
                                        tol=ctx.tol * 1e4, max_iter=ctx.max_iter)
        except AnalysisError:
            continue
        # an infinite MLE, whether Newton stopped on a flat likelihood or on overflow
        off = np.isfinite(bb) & (np.abs(bb) > ctx.big)
        if off.any():
            out[r] = np.where(off, np.copysign(np.inf, bb), bb)
        elif ok:
            out[r] = bb
    return out


_WORKER_CTX: BootContext | None = None


def _init_worker(ctx: BootContext) -> None:
    global _WORKER_CTX
    _WORKER_CTX = ctx


def _refit_in_worker(W: np.ndarray) -> np.ndarray:
    return refit(_WORKER_CTX, W)


def run(ctx: BootContext, rng: np.random.Generator, cw: np.ndarray, gcodes: np.ndarray,
        n_boot: int, n_jobs: int = 1,
        tick: Callable[[int], object] | None = None) -> np.ndarray:
    """All ``n_boot`` replicates (``n_boot x p``); ``tick(k)`` after each chunk of ``k``."""
    sizes = [min(CHUNK, n_boot - s) for s in range(0, n_boot, CHUNK)]
    out = []
    if n_jobs <= 1:
        for k in sizes:
            out.append(refit(ctx, draw_counts(rng, cw, gcodes, k)))
            if tick:
                tick(k)
        return np.vstack(out)
    method = "fork" if "fork" in mp.get_all_start_methods() else "spawn"
    with ProcessPoolExecutor(n_jobs, mp_context=mp.get_context(method),
                             initializer=_init_worker, initargs=(ctx,)) as ex:
        pending = []
        for k in sizes:
            # draws stay in the parent, in order; at most 2 chunks per worker queued
            pending.append((k, ex.submit(_refit_in_worker, draw_counts(rng, cw, gcodes, k))))
            while len(pending) > 2 * n_jobs:
                kk, fut = pending.pop(0)
                out.append(fut.result())
                if tick:
                    tick(kk)
        for kk, fut in pending:
            out.append(fut.result())
            if tick:
                tick(kk)
    return np.vstack(out)
