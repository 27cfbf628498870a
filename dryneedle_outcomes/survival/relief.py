"""``Relief``: what counts as relief of heel pain, in one small immutable object.

Relief is reached at an assessment when the outcome meets one definition:

- ``percent_reduction=50``: the improvement from baseline is at least 50% of the
  baseline value (IMMPACT, Dworkin 2008: 30% moderate, 50% substantial);
- ``threshold=20``: the value itself is on the good side of 20 (``<= 20`` for a
  higher-is-worse scale such as first-step pain in mm, ``>=`` for a higher-is-better
  one such as the FHSQ pain domain);
- ``mcid=True`` (the instrument's registered MCID, e.g. 19 mm for first-step pain,
  Landorf 2010) or ``mcid=<number>``: the improvement from baseline is at least the
  MCID.

``sustained=True`` asks that relief is met at two consecutive assessments of the
outcome (confirmed at the next assessment); the event is then the first assessment of
the first such run, and a crossing at a patient's last assessment cannot be confirmed
(censored, see :mod:`~dryneedle_outcomes.survival.events`). The constructor's default
is ``sustained=False`` (the pinned signature), but every default of the package is
confirmed relief: :func:`~dryneedle_outcomes.time_to_relief` with ``relief=None`` uses
``Relief(mcid=True, sustained=True)`` and the config's ``sustained`` defaults to
``true``, because a single crossing of the MCID can be measurement noise (FDA 2009 PRO
guidance on responder definitions; Dworkin et al. 2008, IMMPACT). The
direction of the instrument is always respected (improvement is positive when the
patient is better, see :meth:`Cohort.change_from_baseline
<dryneedle_outcomes.Cohort.change_from_baseline>`), and a value equal to the cut-off
meets it (comparisons allow 1e-9 for floating-point representation).

Examples
--------
>>> import dryneedle_outcomes as dno
>>> dno.Relief(percent_reduction=50)
Relief(percent_reduction=50.0)
>>> dno.Relief(mcid=True, sustained=True).describe("first_step_pain")
'improvement from baseline >= 19 mm (MCID), sustained at two consecutive assessments'
>>> dno.Relief(threshold=20).describe("first_step_pain")
'first_step_pain <= 20 mm at the visit'
"""

from __future__ import annotations

from dataclasses import dataclass

from ..definitions import ResponderDefinition, check_definition, resolve_definition
from ..errors import AnalysisError
from ..instruments import get_instrument


@dataclass(frozen=True, init=False)
class Relief:
    """A definition of relief: one of a percent reduction, a threshold or the MCID.

    Parameters
    ----------
    percent_reduction : float, optional
        Improvement from baseline of at least this percentage of the baseline value,
        in (0, 100].
    threshold : float, optional
        The value at the visit on the good side of this cut-off (in the instrument's
        canonical units).
    mcid : True or float, optional
        Improvement from baseline of at least the MCID; ``True`` means the
        instrument's registered MCID.
    sustained : bool, default False
        Require the definition to be met at two consecutive assessments (confirmed
        relief; what ``time_to_relief(relief=None)`` and the config use by default).

    Raises
    ------
    AnalysisError
        When none or more than one definition is given, or a value is not a valid
        number.

    Examples
    --------
    >>> from dryneedle_outcomes import Relief
    >>> Relief(mcid=True)
    Relief(mcid=True)
    >>> Relief(mcid=25, sustained=True)
    Relief(mcid=25.0, sustained=True)
    >>> Relief()  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    dryneedle_outcomes.errors.AnalysisError: Relief needs one definition: ...
    """

    percent_reduction: float | None
    threshold: float | None
    mcid: bool | float | None
    sustained: bool

    def __init__(self, percent_reduction: float | None = None, threshold: float | None = None,
                 mcid: bool | float | None = None, sustained: bool = False) -> None:
        kind, value = check_definition(mcid=mcid, threshold=threshold,
                                       percent_reduction=percent_reduction, owner="Relief",
                                       required=True)
        if not isinstance(sustained, bool):
            raise AnalysisError(f"Relief(sustained=...) must be True or False, got {sustained!r}")
        percent_reduction = value if kind == "percent_reduction" else None
        threshold = value if kind == "threshold" else None
        mcid = value if kind == "mcid" else None
        object.__setattr__(self, "percent_reduction", percent_reduction)
        object.__setattr__(self, "threshold", threshold)
        object.__setattr__(self, "mcid", mcid)
        object.__setattr__(self, "sustained", sustained)

    def __repr__(self) -> str:
        parts = [f"{name}={value!r}" for name, value in (
            ("percent_reduction", self.percent_reduction), ("threshold", self.threshold),
            ("mcid", self.mcid)) if value is not None]
        if self.sustained:
            parts.append("sustained=True")
        return f"Relief({', '.join(parts)})"

    @property
    def kind(self) -> str:
        """``"percent_reduction"``, ``"threshold"`` or ``"mcid"``."""
        if self.percent_reduction is not None:
            return "percent_reduction"
        return "threshold" if self.threshold is not None else "mcid"

    def resolve(self, outcome: str) -> ResponderDefinition:
        """The definition for ``outcome``'s instrument (MCID looked up, range checked)."""
        return resolve_definition(get_instrument(outcome), mcid=self.mcid,
                                  threshold=self.threshold,
                                  percent_reduction=self.percent_reduction)

    def describe(self, outcome: str) -> str:
        """A sentence for tables and figure notes."""
        text = self.resolve(outcome).label
        if self.sustained:
            text += ", sustained at two consecutive assessments"
        return text
