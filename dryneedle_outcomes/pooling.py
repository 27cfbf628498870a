"""Pooling an NRS with a VAS: only when the mapping says so, stated, and adjusted for.

A 0-10 numerical rating scale (NRS) and a 0-100 mm visual analogue scale (VAS) are
different instruments with different minimal clinically important differences
(first-step pain VAS 19 mm, Landorf et al. 2010; pain NRS about 2 points or 30%,
Farrar et al. 2001). NRS and VAS scores correspond overall but some studies find
systematically higher VAS scores (Hjermstad et al. 2011, J Pain Symptom Manage
41:1073-1093), so a site that used the NRS contributes a level shift the arms'
comparison should not absorb. The rules:

- **Not pooled by default.** A site whose first-step pain was declared ``nrs10``
  gives ``first_step_pain_nrs`` values (its own outcome, MCID 2 points); an analysis
  of ``first_step_pain`` leaves those rows out and says so
  (:class:`~dryneedle_outcomes.UnpooledInstrumentWarning`, naming the rows, patients
  and sites), and refuses when no ``first_step_pain`` value is left.
- **Pooled when the mapping says** ``[assessments.pool_as] first_step_pain_nrs =
  "first_step_pain"``: the NRS x10 joins the VAS column, each pooled row group is a
  correction in the ledger, the report's methods state it, and the patient's
  instrument (``first_step_pain_instrument``, a patients column; reference level the
  VAS) is a covariate of :func:`~dryneedle_outcomes.fit_trajectory` and
  :func:`~dryneedle_outcomes.time_to_relief` by default: ICH E9 (1998, section 5.7)
  and the EMA guideline on adjustment for baseline covariates (EMA/CHMP/295050/2013)
  ask that factors expected to influence the outcome be adjusted for, and the
  instrument is one by construction. ``adjust_instrument=False`` turns it off.

The loader side is :mod:`dryneedle_outcomes.normalize.pooling`.

Examples
--------
>>> import dryneedle_outcomes as dno
>>> cohort = dno.simulate_cohort(n_patients=10, seed=1)
>>> pooled_covariate(cohort, "first_step_pain") is None
True
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from .errors import AnalysisError, UnpooledInstrumentWarning
from .instruments import INSTRUMENTS


def pooled(cohort: Any, outcome: str) -> dict | None:
    """What was pooled into ``outcome`` at loading (provenance), or None."""
    return (getattr(cohort, "provenance", None) or {}).get("pooled", {}).get(outcome)


def pooled_covariate(cohort: Any, outcome: str) -> str | None:
    """The patients column naming each patient's instrument when ``outcome`` was pooled.

    None when nothing was pooled into ``outcome`` or every patient is on one
    instrument (a covariate with one level would be aliased with the intercept).
    """
    entry = pooled(cohort, outcome)
    if not entry:
        return None
    column = entry["covariate"]
    pats = cohort.patients
    if column not in pats or pats[column].nunique(dropna=True) < 2:
        return None
    return column


def with_pooled_covariate(cohort: Any, outcome: str, adjust, enabled: bool = True
                          ) -> tuple[tuple[str, ...], str | None]:
    """``adjust`` with the pooled instrument added (when pooled and ``enabled``), and a note.

    Returns
    -------
    tuple
        The covariates, and a sentence for the result's notes (None when nothing
        was pooled into ``outcome``).

    Examples
    --------
    >>> import dryneedle_outcomes as dno
    >>> with_pooled_covariate(dno.simulate_cohort(n_patients=10, seed=1),
    ...                       "first_step_pain", ("baseline",))
    (('baseline',), None)
    """
    adjust = tuple(adjust or ())
    column = pooled_covariate(cohort, outcome)
    if column is None:
        return adjust, None
    text = pooling_sentence(cohort, outcome)
    if not enabled:
        return adjust, (f"{text} The instrument is NOT a covariate of this model "
                        "(adjust_instrument=False)")
    if column in adjust:
        return adjust, f"{text} The instrument ({column}) is a covariate"
    return adjust + (column,), (f"{text} The instrument ({column}) is added as a covariate "
                                "by default (adjust_instrument=False turns it off)")


def pooling_sentence(cohort: Any, outcome: str) -> str | None:
    """One sentence for methods and notes: which instrument was pooled into ``outcome``.

    Examples
    --------
    >>> import dryneedle_outcomes as dno
    >>> pooling_sentence(dno.simulate_cohort(n_patients=10, seed=1), "first_step_pain") is None
    True
    """
    entry = pooled(cohort, outcome)
    if not entry:
        return None
    target = INSTRUMENTS[outcome].label if outcome in INSTRUMENTS else outcome
    a = cohort.assessments
    column = entry["covariate"]
    kept = (a[column].value_counts() if column in a else {})   # kept rows per instrument
    parts = [f"{s['label']} x{s['factor']:g} ({int(kept.get(name, 0))} assessment(s) kept)"
             for name, s in entry["sources"].items()]
    return (f"{target} pools {' and '.join(parts)} as the mapping declares (pool_as); the "
            "NRS and the VAS are different instruments, so the pooled scale assumes the NRS "
            "x10 measures the same pain on the VAS scale.")


def unpooled_message(cohort: Any, outcome: str) -> str | None:
    """A message naming the rows scored on an alternative of ``outcome`` and not pooled.

    An NRS declared for a VAS column (``first_step_pain_nrs`` for ``first_step_pain``)
    that the mapping does not pool is left out of an analysis of the VAS; the message
    gives the rows, patients and sites (and the sites with no VAS value at all), and
    how to analyse the NRS or pool it.
    """
    a = cohort.assessments
    if outcome not in a:
        return None
    missing = a[outcome].isna().to_numpy()
    lines = []
    for name, inst in INSTRUMENTS.items():
        if outcome not in inst.alternative_to or name not in a:
            continue
        rows = a[name].notna().to_numpy() & missing
        if not rows.any():
            continue
        ids = list(dict.fromkeys(a.loc[rows, "patient_id"].astype(str)))
        shown = ", ".join(ids[:5]) + (f" and {len(ids) - 5} more" if len(ids) > 5 else "")
        where = only_text = ""
        if "site" in a:
            counts = a.loc[rows, "site"].fillna("(no site)").value_counts().sort_index()
            has = a.loc[~missing, "site"].dropna().unique()  # sites with a value of outcome
            only = [s for s in counts.index if s not in has]
            where = " at " + ", ".join(f"site {s!r} ({n})" for s, n in counts.items())
            if only:
                only_text = (f" Site(s) {', '.join(map(repr, only))} scored {name} only, with "
                             f"no {outcome} value.")
        lines.append(
            f"{int(rows.sum())} assessment(s) of {len(ids)} patient(s) ({shown}){where} have "
            f"{inst.label} ({name}) but no {outcome}: the NRS is its own instrument and these "
            f"rows are not part of this analysis of {outcome}.{only_text} Analyse "
            f"outcome={name!r} separately, or pool it by declaring [assessments.pool_as] "
            f"{name} = \"{outcome}\" in the mapping (then stated in the methods, with the "
            "instrument as a covariate)")
    return "; ".join(lines) or None


def check_unpooled(cohort: Any, outcome: str, *, stacklevel: int = 3) -> str | None:
    """Warn (:class:`UnpooledInstrumentWarning`) about unpooled alternative rows; refuse
    (:class:`AnalysisError`) when ``outcome`` has no value at all but an alternative has.

    Returns the message (None when there is nothing to say).
    """
    message = unpooled_message(cohort, outcome)
    if message is None:
        return None
    if not np.any(cohort.assessments[outcome].notna().to_numpy()):
        raise AnalysisError(f"no value of {outcome} to analyse. {message}")
    warnings.warn(message, UnpooledInstrumentWarning, stacklevel=stacklevel)
    return message
