"""Which change in an outcome counts as a response or as relief: one definition, checked once.

A responder (:func:`dryneedle_outcomes.responders`) and relief
(:class:`dryneedle_outcomes.Relief`, used by :func:`dryneedle_outcomes.time_to_relief`)
are the same idea seen per visit and over time, and they share this module: the
arguments are checked by :func:`check_definition` and, once the instrument is known,
resolved by :func:`resolve_definition` into a :class:`ResponderDefinition` that says in
words what it means and which rows meet it. Before, the checks were written three
times and their wordings had drifted apart.

The three definitions:

- ``mcid=True`` (the instrument's registered minimal clinically important difference,
  e.g. 19 mm for first-step pain, Landorf 2010) or ``mcid=<number>``: improvement from
  baseline of at least that much;
- ``percent_reduction=p``: improvement of at least ``p`` % of the *room to improve*
  at baseline (IMMPACT, Dworkin et al. 2008: 30 moderate, 50 substantial). For a
  higher-is-worse scale whose best value is 0 (pain VAS, NRS) the room to improve is
  the baseline value itself, the usual "percent reduction"; for a higher-is-better
  scale (FHSQ pain domain, 0 = worst, 100 = best) it is ``upper - baseline``: a patient
  at 40 who reaches 70 has gained 30 of the 60 points available, a 50% improvement.
  Measuring that gain against the baseline score (30/40 = 75%) would make the same
  gain count more the worse the patient started, and a baseline of 0 (the worst
  state) impossible to improve. In general the room is ``baseline - lower`` for a
  higher-is-worse scale and ``upper - baseline`` for a higher-is-better one; a patient
  with no room (at the best end of the scale at baseline) cannot improve by a
  percentage and is not a responder;
- ``threshold=t``: the value at the visit on the good side of ``t`` (``<=`` for a
  higher-is-worse scale).

An MCID is an individual patient's threshold: it defines who responded, never
whether a difference between group means matters (see the trajectory notes).

Examples
--------
>>> from dryneedle_outcomes.instruments import get_instrument
>>> resolve_definition(get_instrument("first_step_pain"), mcid=None, threshold=None,
...                    percent_reduction=30).label
'>= 30% reduction from baseline'
>>> check_definition(mcid=10, threshold=20, percent_reduction=None)
Traceback (most recent call last):
...
dryneedle_outcomes.errors.AnalysisError: give one responder definition, got threshold and mcid; ...
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .errors import AnalysisError
from .instruments import Instrument

__all__ = ["TOLERANCE", "ResponderDefinition", "check_definition", "resolve_definition",
           "room_to_improve"]

#: Tolerance of the comparisons with a cut-off (scores are on 0-100 or 0-10 scales): a
#: value equal to the cut-off up to floating-point representation meets it.
TOLERANCE = 1e-9
#: The definitions, in the order their arguments are listed in messages.
KINDS = ("percent_reduction", "threshold", "mcid")


@dataclass(frozen=True)
class ResponderDefinition:
    """A definition resolved for one instrument: ``kind`` and its ``value``.

    Attributes
    ----------
    kind : {"mcid", "percent_reduction", "threshold"}
    value : float
        The MCID (in the instrument's units), the percentage, or the cut-off.
    instrument : Instrument
    """

    kind: str
    value: float
    instrument: Instrument

    @property
    def label(self) -> str:
        """The definition in words, for tables and figure notes."""
        inst = self.instrument
        units = f" {inst.units}" if inst.units == "mm" else ""
        if self.kind == "mcid":
            return f"improvement from baseline >= {self.value:g}{units} (MCID)"
        if self.kind == "percent_reduction":
            if inst.higher_is_better:
                return (f">= {self.value:g}% of the possible improvement from baseline "
                        f"({inst.upper:g} - baseline)")
            if inst.lower != 0:
                return (f">= {self.value:g}% of the possible reduction from baseline "
                        f"(baseline - {inst.lower:g})")
            return f">= {self.value:g}% reduction from baseline"
        op = ">=" if inst.higher_is_better else "<="
        return f"{inst.column} {op} {self.value:g}{units} at the visit"

    def met(self, rows: pd.DataFrame) -> np.ndarray:
        """Boolean array: does each change-from-baseline row meet the definition?

        ``rows`` has the columns of :meth:`Cohort.change_from_baseline
        <dryneedle_outcomes.Cohort.change_from_baseline>` (``aval``, ``base``,
        ``improvement``). A percent-reduction definition is measured against the room
        to improve at baseline (:func:`room_to_improve`); a row without room (a baseline
        at the best end of the scale) does not meet it.
        """
        if self.kind == "mcid":
            return (rows["improvement"] >= self.value - TOLERANCE).to_numpy(dtype=bool)
        if self.kind == "percent_reduction":
            room = room_to_improve(self.instrument, rows["base"])
            ok = (room > 0) & (rows["improvement"] >= self.value / 100.0 * room - TOLERANCE)
            return ok.to_numpy(dtype=bool)
        if self.instrument.higher_is_better:
            return (rows["aval"] >= self.value - TOLERANCE).to_numpy(dtype=bool)
        return (rows["aval"] <= self.value + TOLERANCE).to_numpy(dtype=bool)


def room_to_improve(inst: Instrument, baseline):
    """How far a patient can improve from ``baseline``: the distance to the best end.

    ``baseline - lower`` for a higher-is-worse instrument (the baseline itself for a
    0-100 mm pain VAS), ``upper - baseline`` for a higher-is-better one (FHSQ pain:
    ``100 - baseline``). Percent improvement is the improvement divided by this, so that
    100% means reaching the best possible score whatever the direction.

    Examples
    --------
    >>> from dryneedle_outcomes.instruments import get_instrument
    >>> room_to_improve(get_instrument("fhsq_pain"), pd.Series([40.0, 100.0])).tolist()
    [60.0, 0.0]
    >>> room_to_improve(get_instrument("first_step_pain"), pd.Series([70.0])).tolist()
    [70.0]
    """
    if inst.higher_is_better:
        return inst.upper - baseline
    return baseline - inst.lower


def _number(name: str, value) -> float:
    if isinstance(value, bool):
        raise AnalysisError(f"{name} must be a number, got {value!r}")
    try:
        out = float(value)
    except (TypeError, ValueError):
        raise AnalysisError(f"{name} must be a number, got {value!r}") from None
    if not math.isfinite(out):
        raise AnalysisError(f"{name} must be finite, got {value!r}")
    return out


def check_definition(*, mcid, threshold, percent_reduction, owner: str | None = None,
                     required: bool = False) -> tuple[str | None, float | bool | None]:
    """Check the three definition arguments without the instrument; return the one given.

    Parameters
    ----------
    mcid : True, float or None
    threshold : float or None
    percent_reduction : float or None
        At most one may be given (``None`` and ``False`` mean not given).
    owner : str, optional
        The object named in messages (``"Relief"`` gives ``Relief(mcid=...) must ...``);
        default: the bare argument names, as a function's keyword arguments.
    required : bool, default False
        Whether giving none is an error (``Relief``) or means the MCID (``responders``).

    Returns
    -------
    (kind, value)
        ``kind`` is None when none was given; ``value`` is the checked number, or
        ``True`` for the instrument's MCID.

    Raises
    ------
    AnalysisError
        For more than one definition (or none when ``required``), a value that is not a
        finite number, a percentage outside (0, 100] or an MCID that is not positive.

    Examples
    --------
    >>> check_definition(mcid=True, threshold=None, percent_reduction=None)
    ('mcid', True)
    >>> check_definition(mcid=None, threshold=None, percent_reduction=120, owner="Relief")
    Traceback (most recent call last):
    ...
    dryneedle_outcomes.errors.AnalysisError: Relief(percent_reduction=...) must be in (0, 100]...
    """
    values = {"percent_reduction": percent_reduction, "threshold": threshold, "mcid": mcid}
    given = [k for k in KINDS if values[k] is not None and values[k] is not False]
    if len(given) > 1:
        if owner:
            raise AnalysisError(f"{owner} takes one definition, got {' and '.join(given)}")
        raise AnalysisError(f"give one responder definition, got {' and '.join(given)}; "
                            "pass only one of mcid=, threshold=, percent_reduction=")
    if not given:
        if required:
            raise AnalysisError(f"{owner or 'the definition'} needs one definition: "
                                "percent_reduction=, threshold= or mcid= (mcid=True for the "
                                "instrument's MCID)")
        return None, None
    kind = given[0]

    def name(key: str) -> str:
        return f"{owner}({key}=...)" if owner else key

    if kind == "mcid" and mcid is True:
        return kind, True
    value = _number(name(kind), values[kind])
    if kind == "percent_reduction" and not 0 < value <= 100:
        raise AnalysisError(f"{name(kind)} must be in (0, 100], got {value:g} "
                            "(IMMPACT: 30 moderate, 50 substantial)")
    if kind == "mcid" and value <= 0:
        raise AnalysisError(f"{name(kind)} must be a positive improvement, got {value:g}")
    return kind, value


def resolve_definition(inst: Instrument, *, mcid, threshold, percent_reduction,
                       owner: str | None = None) -> ResponderDefinition:
    """The definition for ``inst``: arguments checked, MCID looked up, threshold in range.

    Giving none means the instrument's registered MCID.

    Parameters
    ----------
    inst : Instrument
    mcid, threshold, percent_reduction
        As :func:`check_definition`.
    owner : str, optional
        As :func:`check_definition`.

    Returns
    -------
    ResponderDefinition

    Raises
    ------
    AnalysisError
        As :func:`check_definition`; also for a threshold outside the instrument's
        range, or the MCID of an instrument that has none registered.

    Examples
    --------
    >>> from dryneedle_outcomes.instruments import get_instrument
    >>> d = resolve_definition(get_instrument("first_step_pain"), mcid=True, threshold=None,
    ...                        percent_reduction=None)
    >>> d.kind, d.value
    ('mcid', 19.0)
    """
    kind, value = check_definition(mcid=mcid, threshold=threshold,
                                   percent_reduction=percent_reduction, owner=owner)
    if kind == "threshold" and not inst.lower <= value <= inst.upper:
        raise AnalysisError(f"threshold {value!r} is outside the range of {inst.column} "
                            f"({inst.lower:g} to {inst.upper:g} {inst.units})")
    if kind in ("threshold", "percent_reduction"):
        return ResponderDefinition(kind, float(value), inst)
    if value is None or value is True:
        if inst.mcid is None:
            raise AnalysisError(
                f"instrument {inst.column!r} has no registered MCID; pass mcid=<number>, or "
                "percent_reduction=30 (IMMPACT moderate) or 50 (substantial)")
        return ResponderDefinition("mcid", float(inst.mcid), inst)
    return ResponderDefinition("mcid", float(value), inst)
