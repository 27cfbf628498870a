"""Run the batches of simulated trials on a Dask cluster (``client=``).

One job: submit one task per batch of trials to a ``dask.distributed.Client`` and gather
the results in batch order. The caller decides what a batch computes; because every
trial draws from its own child of one ``numpy.random.SeedSequence`` and the results are
put back in batch order, the numbers are identical to a run on this machine with the
same seed, whatever the number of workers.

Dask is imported by the client the user made, never here: the package does not need
``dask`` unless ``client=`` is given (``pip install "dryneedle_outcomes[cluster]"``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from ..errors import AnalysisError

#: What a client must provide (``dask.distributed.Client`` does).
CLIENT_METHODS = ("submit", "gather", "map")


def check_client(client: Any) -> None:
    """Raise unless ``client`` looks like a ``dask.distributed.Client``.

    Parameters
    ----------
    client : object
        The ``client=`` argument of :func:`~dryneedle_outcomes.simulate_power`.

    Raises
    ------
    AnalysisError
        When ``client`` lacks one of ``submit``, ``gather`` and ``map``.

    Examples
    --------
    >>> check_client("tcp://scheduler:8786")
    Traceback (most recent call last):
    ...
    dryneedle_outcomes.errors.AnalysisError: client= must be a dask.distributed.Client ...
    """
    missing = [m for m in CLIENT_METHODS if not callable(getattr(client, m, None))]
    if missing:
        raise AnalysisError(
            "client= must be a dask.distributed.Client (e.g. Client('tcp://scheduler:8786') "
            f"or Client(LocalCluster())); got {type(client).__name__}, which has no "
            f"{', '.join(missing)}. Install with pip install 'dryneedle_outcomes[cluster]'")


def map_batches(client: Any, func: Callable, chunks: Sequence, *args: Any,
                on_done: Callable[[int], None] | None = None) -> list:
    """``[func(chunk, *args) ...]`` computed on the cluster, in the order of ``chunks``.

    Each chunk is one task (``client.submit``, ``pure=False`` so that tasks are never
    merged by key); the results come back with ``client.gather`` in the order submitted.
    A task that raises re-raises here, with its traceback from the worker. With
    ``on_done``, ``on_done(i)`` is called here (in the caller's thread) as task ``i``
    finishes, in the order they finish (``distributed.as_completed``): a progress bar.
    The results are still gathered in chunk order.

    Parameters
    ----------
    client : dask.distributed.Client
        Connected client; checked with ``check_client``.
    func : callable
        Called as ``func(first, chunk, *rest)`` where ``first, *rest = args``: the batch
        function takes the design first and the chunk second. ``func`` and its arguments
        must be picklable (module-level function, plain data).
    chunks : sequence
        One task per item.
    *args
        At least one positional argument (the design).
    on_done : callable, optional
        Called with the index of each chunk whose task has finished.

    Returns
    -------
    list
        One result per chunk, in chunk order.

    Examples
    --------
    >>> class Inline:  # a stand-in for a Client, running tasks here
    ...     def submit(self, f, *a, pure=True):
    ...         return f(*a)
    ...     def gather(self, futures):
    ...         return list(futures)
    ...     def map(self, f, *a):
    ...         return list(map(f, *a))
    >>> map_batches(Inline(), lambda d, c, k: d + sum(c) * k, [[1, 2], [4]], 10, 2)
    [16, 18]
    """
    check_client(client)
    first, *rest = args
    futures = [client.submit(func, first, chunk, *rest, pure=False) for chunk in chunks]
    if on_done is not None:
        from distributed import as_completed  # a Client is given: distributed is there

        index = {f.key: i for i, f in enumerate(futures)}
        for future in as_completed(futures):
            on_done(index[future.key])
    return list(client.gather(futures))


__all__ = ["CLIENT_METHODS", "check_client", "map_batches"]
