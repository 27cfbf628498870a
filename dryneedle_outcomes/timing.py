"""Session timing: when in a visit a score was taken, and what a session-k score reflects.

Two declared facts, never assumed from the data (DESIGN.md, assessments table):

``timing`` (an optional column of the assessments)
    ``pre_session`` (rated on arrival, before that visit's needling) or
    ``post_session`` (rated after it). With the column, the assessments hold one row
    per patient x visit x timing; trials that measure pain before and after needling
    separate the immediate within-session change from the change that lasts.
``assessed`` (the rule, a key of the mapping's ``[assessments]`` section)
    ``"before_session"`` (the default): a score recorded at session ``k`` was taken
    before that day's needling, so it reflects ``k - 1`` sessions received; first-step
    pain, the primary outcome of plantar heel pain trials (Cotchett et al., Phys Ther
    2014;94:1083), is the pain of the first steps of the day, rated on arrival.
    ``"after_session"``: the score reflects ``k`` sessions.

Analyses that expect one row per patient x visit (trajectory, responders, time to
relief, the baseline table) take the rating the rule names (:func:`visit_ratings`):
``pre_session`` under ``before_session``, ``post_session`` under ``after_session``;
rows without a timing (a baseline or follow-up visit without needling) are single
ratings and kept. Rows of the other timing are set aside for that analysis and
listed, never dropped silently.

Examples
--------
>>> import pandas as pd
>>> normalize_timing(pd.Series(["Pre", "after", "post-needling", None, "later"])).tolist()
['pre_session', 'post_session', 'post_session', nan, nan]
>>> sessions_received([1, 2, 3], "before_session"), sessions_received([1, 2, 3], "after_session")
([0, 1, 2], [1, 2, 3])
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .errors import AnalysisError

#: The declared rules for what a session-k score reflects (the first is the default).
ASSESSED_RULES = ("before_session", "after_session")
DEFAULT_ASSESSED = ASSESSED_RULES[0]
#: The vocabulary of the ``timing`` column.
TIMINGS = ("pre_session", "post_session")

_SYNONYMS = {
    "pre_session": ("pre", "pre_session", "presession", "before", "before_session",
                    "pre_needling", "before_needling", "pre_treatment", "before_treatment",
                    "arrival", "on_arrival"),
    "post_session": ("post", "post_session", "postsession", "after", "after_session",
                     "post_needling", "after_needling", "post_treatment", "after_treatment"),
}
_LOOKUP = {word: canon for canon, words in _SYNONYMS.items() for word in words}


def timing_key(text: str) -> str:
    """The comparison key of a timing label: lower case, runs of other characters as ``_``.

    Examples
    --------
    >>> timing_key(" Pre-Session ")
    'pre_session'
    """
    return re.sub(r"[^a-z0-9]+", "_", str(text).lower()).strip("_")


def normalize_timing(values: pd.Series) -> pd.Series:
    """Timing labels to ``pre_session`` / ``post_session``; unknown or missing text gives NaN.

    The spellings accepted are those of :data:`_SYNONYMS` ("pre", "before",
    "pre-needling", "post", "after", ...), compared case- and punctuation-blind. The
    distinct values are looked up once (vectorised over the rows).
    """
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    table = np.array([_LOOKUP.get(timing_key(u), np.nan) for u in uniques] + [np.nan],
                     dtype=object)
    return pd.Series(table[codes], index=values.index, dtype=object)


def check_assessed(assessed: str, where: str = "assessed") -> str:
    """``assessed`` if it is a declared rule, else an error naming the allowed ones."""
    if assessed not in ASSESSED_RULES:
        raise AnalysisError(f"{where} must be one of {', '.join(map(repr, ASSESSED_RULES))}, "
                            f"got {assessed!r}")
    return assessed


def rule_timing(assessed: str) -> str:
    """The timing whose rating the rule ``assessed`` names: ``pre_session`` or ``post_session``.

    Examples
    --------
    >>> rule_timing("before_session")
    'pre_session'
    """
    return TIMINGS[ASSESSED_RULES.index(check_assessed(assessed))]


def sessions_received(session_number, assessed: str) -> list[int]:
    """Sessions received when a score is taken at the ``k``-th session: ``k - 1`` or ``k``."""
    shift = 1 if check_assessed(assessed) == "before_session" else 0
    return [int(k) - shift for k in session_number]


def describe_rule(assessed: str) -> str:
    """The rule in one sentence, for reports and methods text.

    Examples
    --------
    >>> describe_rule("before_session")[:49]
    'Scores at session k were taken before that sessio'
    """
    if check_assessed(assessed) == "before_session":
        return ("Scores at session k were taken before that session’s needling, so they "
                "reflect k - 1 sessions received (declared: assessed = \"before_session\")")
    return ("Scores at session k were taken after that session’s needling, so they reflect "
            "k sessions received (declared: assessed = \"after_session\")")


def visit_after_sessions(after: int, session_visits: Sequence[int], visits: Sequence[int],
                         assessed: str) -> int:
    """The visit whose score reflects ``after`` sessions received, under the rule ``assessed``.

    ``after_session``: the visit of the ``after``-th session. ``before_session``: the
    first visit after it (the next session's pre-needling score, or the follow-up
    after the last session), among ``visits`` (the visits with data).

    Raises
    ------
    AnalysisError
        When ``after`` is not between 1 and the number of sessions, or no visit with
        data reflects that many sessions.

    Examples
    --------
    >>> visit_after_sessions(6, [1, 2, 3, 4, 5, 6], [1, 2, 3, 4, 5, 6, 7], "before_session")
    7
    >>> visit_after_sessions(6, [1, 2, 3, 4, 5, 6], [1, 2, 3, 4, 5, 6, 7], "after_session")
    6
    """
    sessions = sorted(int(v) for v in session_visits)
    if not 1 <= int(after) <= len(sessions):
        raise AnalysisError(f"after={after!r} sessions: the course has {len(sessions)} "
                            f"session(s) (visits {sessions}); give 1..{len(sessions)}")
    session_visit = sessions[int(after) - 1]
    if check_assessed(assessed) == "after_session":
        target = session_visit if session_visit in set(visits) else None
    else:
        later = [int(v) for v in sorted(visits) if int(v) > session_visit]
        target = later[0] if later else None
    if target is None:
        raise AnalysisError(
            f"no modelled visit reflects {after} session(s) under {describe_rule(assessed)}; "
            f"session {after} is visit {session_visit}, modelled visits: {list(visits)}")
    return int(target)


@dataclass(frozen=True)
class VisitRatings:
    """One row per patient x visit for an analysis, and what was set aside to get it.

    Attributes
    ----------
    assessments : DataFrame
        The cohort's assessments with, at a visit rated before and after needling, only
        the rating the rule names; the needling columns of the kept row describe the
        visit (``needled`` is true when either row says so, counts are the larger,
        muscles and soreness are the first recorded).
    set_aside : DataFrame
        ``patient_id``, ``visit``, ``timing``, ``reason``: rows not used.
    note : str or None
        A sentence for the analysis's notes when rows were set aside.
    """

    assessments: pd.DataFrame
    set_aside: pd.DataFrame
    note: str | None


def visit_ratings(assessments: pd.DataFrame, assessed: str) -> VisitRatings:
    """Select the rating the rule ``assessed`` names at each patient x visit.

    Without a ``timing`` column the assessments are returned unchanged (one row per
    patient x visit already). With it, rows whose timing is the rule's
    (``rule_timing``) or missing are kept, and rows of the other timing are set
    aside with the reason.

    Examples
    --------
    >>> a = pd.DataFrame({"patient_id": ["P1"] * 3, "visit": [0, 1, 1],
    ...                   "timing": [None, "pre_session", "post_session"],
    ...                   "needled": [False, False, True], "first_step_pain": [70., 60., 45.]})
    >>> r = visit_ratings(a, "before_session")
    >>> r.assessments[["visit", "first_step_pain", "needled"]].to_numpy().tolist()
    [[0, 70.0, False], [1, 60.0, True]]
    >>> r.set_aside[["visit", "timing"]].to_numpy().tolist()
    [[1, 'post_session']]
    """
    own = rule_timing(assessed)
    empty = pd.DataFrame({"patient_id": pd.Series(dtype=object),
                          "visit": pd.Series(dtype="int64"),
                          "timing": pd.Series(dtype=object), "reason": pd.Series(dtype=object)})
    if "timing" not in assessments:
        return VisitRatings(assessments, empty, None)
    timing = assessments["timing"]
    keep = (timing.isna() | (timing == own)).to_numpy()
    if keep.all():
        return VisitRatings(assessments, empty, None)
    other = TIMINGS[1 - TIMINGS.index(own)]
    out = assessments.loc[keep].copy()
    keys = [assessments["patient_id"], assessments["visit"]]
    for column, how in (("needled", "max"), ("needles", "max"), ("twitch_responses", "max"),
                        ("muscles", "first"), ("laterality", "first"),
                        ("technique", "first"), ("retention_min", "max"),
                        ("soreness_lower_h", "first"),
                        ("soreness_upper_h", "first")):
        if column in assessments:
            values = assessments[column]
            if column == "needled":
                values = values.astype("boolean").fillna(False).astype(bool)
            combined = values.groupby(keys, sort=False).transform(how)
            out[column] = combined.loc[keep].to_numpy()
    set_aside = assessments.loc[~keep, ["patient_id", "visit", "timing"]].assign(
        reason=f"{other} rating; the declared rule assessed = {assessed!r} uses the "
               f"{own} rating").reset_index(drop=True)
    alternative = ASSESSED_RULES[1 - ASSESSED_RULES.index(assessed)]
    note = (f"{len(set_aside)} {other} rating(s) set aside: the declared rule "
            f"(assessed = {assessed!r}) analyses the {own} rating of each visit "
            f"(declare assessed = {alternative!r} to analyse the {other} ones; "
            "dno.immediate_cumulative models both)")
    return VisitRatings(out.reset_index(drop=True), set_aside, note)


__all__ = ["ASSESSED_RULES", "DEFAULT_ASSESSED", "TIMINGS", "VisitRatings", "check_assessed",
           "describe_rule", "normalize_timing", "rule_timing", "sessions_received",
           "visit_after_sessions", "visit_ratings"]
