"""The resampling loops of :mod:`.engine` over worker processes, with a progress bar.

Each task (a jackknife left-out patient, or the :class:`numpy.random.SeedSequence` of
one bootstrap sample or imputation) carries everything random about it, so its result
does not depend on which process runs it or when: the numbers are identical for any
``n_jobs``. Tasks go to a ``concurrent.futures`` process pool in chunks, a bounded
number in flight, and the results come back in task order (as
``stats.survival.ic_ph_boot`` does). Workers are forked, inheriting the fitted
imputation model without pickling it; where the platform cannot fork the loop runs in
this process (same numbers, one core).

Examples
--------
>>> from dryneedle_outcomes.stats.imputation.parallel import run_tasks
>>> run_tasks(lambda t: t * t, [1, 2, 3], n_jobs=1)
[1, 4, 9]
"""

from __future__ import annotations

import multiprocessing as mp
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor

from tqdm.auto import tqdm

#: Largest number of tasks sent to a worker at once.
CHUNK = 10

_WORKER_FN: Callable | None = None


def _init_worker(fn: Callable) -> None:
    global _WORKER_FN
    _WORKER_FN = fn


def _run_chunk(tasks: list) -> list:
    return [_WORKER_FN(t) for t in tasks]


def n_workers(n_jobs: int | None) -> int:
    """``n_jobs`` as a number of processes: ``None`` or 1 is one, ``-1`` (or any value
    below 1) every core."""
    if n_jobs is None:
        return 1
    n = int(n_jobs)
    return max(1, os.cpu_count() or 1) if n < 1 else n


def run_tasks(fn: Callable, tasks: Sequence, *, n_jobs: int | None = 1,
              progress: bool = False, label: str | None = None) -> list:
    """``[fn(t) for t in tasks]``, over ``n_jobs`` forked processes when > 1.

    ``fn`` may be a closure (workers are forked, so it is not pickled); the tasks and
    results are pickled. A ``tqdm`` bar over the tasks when ``progress``.
    """
    tasks = list(tasks)
    jobs = min(n_workers(n_jobs), max(len(tasks), 1))
    out: list = []
    with tqdm(total=len(tasks), disable=not progress, desc=label, leave=False) as bar:
        if jobs <= 1 or "fork" not in mp.get_all_start_methods():
            for t in tasks:
                out.append(fn(t))
                bar.update(1)
            return out
        size = max(1, min(CHUNK, -(-len(tasks) // (4 * jobs))))
        with ProcessPoolExecutor(jobs, mp_context=mp.get_context("fork"),
                                 initializer=_init_worker, initargs=(fn,)) as ex:
            pending = []
            for s in range(0, len(tasks), size):
                chunk = tasks[s:s + size]
                pending.append((len(chunk), ex.submit(_run_chunk, chunk)))
                while len(pending) > 2 * jobs:   # bounded work in flight
                    k, fut = pending.pop(0)
                    out.extend(fut.result())
                    bar.update(k)
            for k, fut in pending:
                out.extend(fut.result())
                bar.update(k)
    return out


__all__ = ["run_tasks", "n_workers", "CHUNK"]
