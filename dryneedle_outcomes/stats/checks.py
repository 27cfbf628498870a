"""Argument checks shared by every engine and analysis: one rule, one wording, one error.

Before this module the same checks were written up to nine times with wordings and
behaviours that had drifted apart (``conf_level="0.95"`` raised the package's error in
some functions and a bare ``TypeError`` in others). Every public function now checks
its common arguments here, so a user sees the same
:class:`~dryneedle_outcomes.errors.AnalysisError` whichever function they called.

The module imports only NumPy and :mod:`dryneedle_outcomes.errors`, so the numerical
engines under :mod:`dryneedle_outcomes.stats` may use it.

Examples
--------
>>> check_conf_level(0.9)
0.9
>>> check_conf_level("0.95")
Traceback (most recent call last):
...
dryneedle_outcomes.errors.AnalysisError: conf_level must be a number ... got '0.95' (text)
>>> import numpy as np
>>> count_first(np.array([False, True, True]), "negative")
'2 negative values (first at position 1)'
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Iterable
from numbers import Real

import numpy as np

from ..errors import AnalysisError

__all__ = ["check_choice", "check_conf_level", "check_whole_number", "count_first",
           "first_position"]


def _describe(value: object) -> str:
    """``'0.95' (text)``: the value and, when it is not a number, what it is."""
    if isinstance(value, str):
        return f"{value!r} (text)"
    if isinstance(value, bool | np.bool_):
        return f"{value!r} (a boolean)"
    return repr(value)


def _is_number(value: object) -> bool:
    return isinstance(value, Real) and not isinstance(value, bool | np.bool_)


def check_conf_level(conf_level: object, name: str = "conf_level") -> float:
    """Return ``conf_level`` as a float after checking it is a number in (0, 1).

    Parameters
    ----------
    conf_level : object
        The confidence level the caller was given (0.95 for 95% intervals).
    name : str, default "conf_level"
        The argument's name in the error message.

    Returns
    -------
    float

    Raises
    ------
    AnalysisError
        If the value is not a real number (text and booleans included), is not finite,
        or is not strictly between 0 and 1.

    Examples
    --------
    >>> round(check_conf_level(np.float32(0.8)), 6)
    0.8
    >>> check_conf_level(95)
    Traceback (most recent call last):
    ...
    dryneedle_outcomes.errors.AnalysisError: conf_level must be ... (e.g. 0.95), got 95
    """
    if not _is_number(conf_level) or not 0.0 < float(conf_level) < 1.0:
        raise AnalysisError(f"{name} must be a number strictly between 0 and 1 (e.g. 0.95), "
                            f"got {_describe(conf_level)}")
    return float(conf_level)


def check_whole_number(value: object, name: str, minimum: int = 0) -> int:
    """Return ``value`` as an int after checking it is a whole number >= ``minimum``.

    Floats with no fractional part (``200.0``, as TOML or a notebook may give) are
    accepted; booleans, text, NaN and fractions are not.

    Parameters
    ----------
    value : object
        The number given (a count of replicates, iterations, ...).
    name : str
        The argument's name in the error message.
    minimum : int, default 0
        The smallest allowed value.

    Returns
    -------
    int

    Raises
    ------
    AnalysisError
        If the value is not a whole number or is below ``minimum``.

    Examples
    --------
    >>> check_whole_number(200.0, "n_boot")
    200
    >>> check_whole_number(1.5, "n_boot", minimum=2)
    Traceback (most recent call last):
    ...
    dryneedle_outcomes.errors.AnalysisError: n_boot must be a whole number >= 2, got 1.5
    """
    whole = _is_number(value) and math.isfinite(float(value)) and float(value).is_integer()
    if not whole or int(value) < minimum:
        raise AnalysisError(f"{name} must be a whole number >= {minimum}, "
                            f"got {_describe(value)}")
    return int(value)


def check_choice(value: object, allowed: Iterable[str], name: str) -> str:
    """Return ``value`` after checking it is one of ``allowed``; suggest the nearest.

    Parameters
    ----------
    value : object
        The option given.
    allowed : iterable of str
        The engine's or analysis's own option list (e.g. ``CONF_TYPES``).
    name : str
        The argument's name in the error message.

    Returns
    -------
    str

    Raises
    ------
    AnalysisError
        If ``value`` is not in ``allowed``; the message lists them and, for text close
        to one of them, says which was probably meant.

    Examples
    --------
    >>> check_choice("log-log", ("log-log", "log", "plain"), "conf_type")
    'log-log'
    >>> check_choice("loglog", ("log-log", "log", "plain"), "conf_type")
    Traceback (most recent call last):
    ...
    dryneedle_outcomes.errors.AnalysisError: conf_type must be one of ... (did you mean 'log-log'?)
    """
    options = tuple(allowed)
    if isinstance(value, str) and value in options:
        return value
    hint = ""
    if isinstance(value, str):
        close = difflib.get_close_matches(value, options, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
    listed = ", ".join(repr(o) for o in options)
    raise AnalysisError(f"{name} must be one of {listed}, got {_describe(value)}{hint}")


def first_position(mask: np.ndarray) -> int:
    """Position (0-based) of the first ``True`` in a boolean mask that has one.

    Examples
    --------
    >>> first_position(np.array([False, False, True]))
    2
    """
    hits = np.flatnonzero(mask)
    if hits.size == 0:
        raise ValueError("first_position needs a mask with at least one True")
    return int(hits[0])


def count_first(mask: np.ndarray, what: str = "", *, noun: str = "value",
                where: str = "position") -> str:
    """``"3 negative values (first at position 17)"``: how many are bad and where first.

    Parameters
    ----------
    mask : numpy.ndarray of bool
        True where a value breaks the rule; at least one must be True.
    what : str, default ""
        The rule broken, as an adjective ("negative", "missing or infinite").
    noun : str, default "value"
        What is counted ("value", "row").
    where : {"position", "row"}, default "position"
        "position" for arrays (0-based index), "row" for a table's rows (0-based).

    Returns
    -------
    str

    Examples
    --------
    >>> count_first(np.array([True, False]), "missing", where="row")
    '1 missing value (first at row 0)'
    >>> count_first(np.array([True, True]), "repeated", noun="row", where="row")
    '2 repeated rows (first at row 0)'
    """
    n = int(np.count_nonzero(mask))
    words = f"{n} {what} {noun}" if what else f"{n} {noun}"
    return f"{words}{'' if n == 1 else 's'} (first at {where} {first_position(mask)})"
