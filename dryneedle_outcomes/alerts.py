"""How an analysis tells the user something went wrong: one channel, each message once.

The rule, for every analysis (``fit_trajectory``, ``time_to_relief``,
``soreness_duration``, ``dose_response``, ...):

1. Each problem is stored, once, in the result's ``warnings`` (a tuple of sentences), so
   that ``summary()``, the report and a saved result all carry it.
2. When the analysis returns, each stored message is issued once as a Python warning
   (:class:`~dryneedle_outcomes.errors.ConvergenceWarning` when a fit did not converge
   cleanly, else :class:`~dryneedle_outcomes.errors.DryNeedleWarning`), so that a
   notebook shows it and ``warnings.simplefilter("error")`` can stop a pipeline.
3. Warnings that the engines it calls issue themselves (a Cox model's "coefficient may
   be infinite") are caught and folded into the stored list, never dropped and never
   shown twice. Warnings of other libraries (pandas, statsmodels) pass through as they
   were issued.

An analysis gets all three by the decorator :func:`one_channel`.

Before, some analyses did both 1 and 2, the mixed models only 1 (a non-converged
trajectory fit was silent in a notebook), and the report showed Cox warnings twice.

Examples
--------
>>> import warnings
>>> stored = []
>>> with engine_warnings(stored, prefix="Cox model: "):
...     warnings.warn("coefficient may be infinite")
>>> stored
['Cox model: coefficient may be infinite']
"""

from __future__ import annotations

import dataclasses
import functools
import warnings
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from .errors import ConvergenceWarning, DryNeedleWarning

__all__ = ["engine_warnings", "issue", "one_channel"]

F = TypeVar("F", bound=Callable)


def _known(message: str, stored: list[str]) -> bool:
    """Whether ``stored`` has ``message`` already, bare or after a source prefix."""
    return any(s == message or s.endswith(": " + message) for s in stored)


@contextmanager
def engine_warnings(stored: list[str], prefix: str = "") -> Iterator[list[str]]:
    """Fold the warnings issued inside the block into ``stored`` (once each, in order).

    A message already in ``stored`` (with or without ``prefix``: engines often store
    the same sentence in their result's ``warnings``, which the analysis copies) is not
    added again. Nothing is dropped: every distinct message ends up in ``stored``.

    Parameters
    ----------
    stored : list of str
        The analysis's list of messages; appended to in place.
    prefix : str, default ""
        Put before each caught message ("Cox model: "), to say where it came from.

    Yields
    ------
    list of str
        ``stored`` itself.
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield stored
    for w in caught:
        message = str(w.message)
        if not _known(message, stored):
            stored.append(prefix + message)


def issue(messages: Iterable[str], *, converged: bool = True, stacklevel: int = 3) -> None:
    """Issue each distinct message once as a Python warning (step 2 of the rule).

    Parameters
    ----------
    messages : iterable of str
        The result's stored warnings.
    converged : bool, default True
        False makes the category :class:`ConvergenceWarning`.
    stacklevel : int, default 3
        Points the warning at the user's call of the analysis (the analysis calls this).

    Examples
    --------
    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as seen:
    ...     warnings.simplefilter("always")
    ...     issue(["a", "a", "b"], converged=False)
    >>> [(w.category.__name__, str(w.message)) for w in seen]
    [('ConvergenceWarning', 'a'), ('ConvergenceWarning', 'b')]
    """
    category = DryNeedleWarning if converged else ConvergenceWarning
    for message in dict.fromkeys(messages):
        warnings.warn(message, category, stacklevel=stacklevel)


def one_channel(analysis: F) -> F:
    """Decorate an analysis whose result has ``warnings`` (and maybe ``converged``).

    The analysis runs with warnings recorded; those of this package (subclasses of
    :class:`DryNeedleWarning`, issued by the engines) not already in
    ``result.warnings`` are appended to it; others are issued again unchanged. Then
    every stored message is issued once (:func:`issue`).

    Examples
    --------
    >>> import warnings
    >>> from dataclasses import dataclass
    >>> @dataclass(frozen=True)
    ... class Fit:
    ...     warnings: tuple
    ...     converged: bool = False
    >>> @one_channel
    ... def analysis():
    ...     warnings.warn("step-halving failed", ConvergenceWarning)
    ...     return Fit(warnings=("model: step-halving failed", "few events"))
    >>> with warnings.catch_warnings(record=True) as seen:
    ...     warnings.simplefilter("always")
    ...     fit = analysis()
    >>> fit.warnings
    ('model: step-halving failed', 'few events')
    >>> [str(w.message) for w in seen]
    ['model: step-halving failed', 'few events']
    """

    @functools.wraps(analysis)
    def run(*args, **kwargs):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            result = analysis(*args, **kwargs)
        stored = list(result.warnings)
        for w in caught:
            if issubclass(w.category, DryNeedleWarning):
                if not _known(str(w.message), stored):
                    stored.append(str(w.message))
            else:
                warnings.warn_explicit(w.message, w.category, w.filename, w.lineno,
                                       source=w.source)
        if len(stored) != len(result.warnings):
            result = dataclasses.replace(result, warnings=type(result.warnings)(stored))
        issue(stored, converged=bool(getattr(result, "converged", True)))
        return result

    return run  # type: ignore[return-value]
