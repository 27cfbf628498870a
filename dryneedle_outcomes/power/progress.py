"""A progress bar over simulated trials (``progress=True`` of ``simulate_power``).

One job: a ``tqdm`` bar on stderr counting the trials whose batch has finished, or a
stand-in that does nothing. The bar only reports: the batches and their results are the
same with or without it.
"""

from __future__ import annotations

import sys
from typing import Any


class NoBar:
    """The bar of ``progress=False``: every call does nothing.

    Examples
    --------
    >>> with NoBar() as bar:
    ...     bar.update(10)
    """

    def update(self, n: int = 1) -> None:
        """Do nothing."""

    def __enter__(self) -> NoBar:
        return self

    def __exit__(self, *exc: Any) -> None:
        return None


def trial_bar(progress: bool, total: int, desc: str) -> Any:
    """A ``tqdm`` bar of ``total`` trials on stderr, or a :class:`NoBar`.

    Parameters
    ----------
    progress : bool
        Show the bar.
    total : int
        Trials to run.
    desc : str
        The label in front of the bar (e.g. ``"power, n = 40"``).

    Returns
    -------
    tqdm.tqdm or NoBar
        A context manager with ``update(n)``.

    Examples
    --------
    >>> with trial_bar(False, 100, "power") as bar:
    ...     bar.update(50)
    >>> type(trial_bar(False, 100, "power")).__name__
    'NoBar'
    """
    if not progress:
        return NoBar()
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, unit="trial", file=sys.stderr, leave=True,
                dynamic_ncols=True)


__all__ = ["NoBar", "trial_bar"]
