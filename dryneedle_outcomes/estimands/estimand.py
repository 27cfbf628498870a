"""The estimand: the five attributes of ICH E9(R1), stated before any number.

ICH E9(R1) (Addendum on estimands and sensitivity analysis in clinical trials to the
guideline on statistical principles for clinical trials, Step 4, 20 November 2019,
section A.3.2) describes an estimand by five attributes: the **treatment** condition of
interest, the **population** of patients targeted, the **variable** (endpoint) obtained
for each patient, how each **intercurrent event** is handled, and the
**population-level summary** of the variable. Its strategies for intercurrent events
(A.3.2) built here:

``treatment_policy``
    the event is part of the treatment regimen; values after it are used as observed.
``hypothetical``
    the value the variable would have taken had the event not occurred; values at and
    after the event's first affected visit are set aside (not used for this estimand,
    never deleted) and, in an imputation analysis, imputed.
``composite``
    the event is part of the variable: from its first affected visit the patient counts
    as a non-responder in responder analyses (the values are kept and flagged).
``while_on_treatment``
    the response up to the event; values at and after it are set aside and not imputed.

The principal-stratum strategy (A.3.2) needs a model of the potential occurrence of the
event in either arm and is not offered.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from ..errors import ConfigError
from ..instruments import INSTRUMENTS
from ..normalize.vocabulary.ice_events import ICE_EVENTS
from ..tables import TableResult, frame_html

#: The strategies for intercurrent events (ICH E9(R1) A.3.2), with what each does here.
STRATEGIES: dict[str, str] = {
    "treatment_policy": "values after the event are used as observed (the event is part "
                        "of the treatment regimen)",
    "hypothetical": "values at and after the event's first affected visit are set aside: "
                    "the outcome had the event not occurred (imputed by an imputation "
                    "analysis, missing at random under a likelihood analysis)",
    "composite": "the event is part of the variable: from its first affected visit the "
                 "patient counts as a non-responder",
    "while_on_treatment": "only values before the event's first affected visit are used "
                          "(the response while on treatment); later values are set aside "
                          "and not imputed",
}

#: The populations an estimand may target.
POPULATIONS: dict[str, str] = {
    "randomised": "every randomised patient, in the arm allocated (intention to treat)",
    "per_protocol": "the randomised patients who met the per-protocol rule, in the arm "
                    "allocated",
}

#: The columns of :meth:`Estimand.table`.
TABLE_COLUMNS = ("attribute", "value", "event", "strategy")

#: The keys of a per-protocol rule (``[estimand] per_protocol = { min_sessions = 4 }``).
PER_PROTOCOL_KEYS = ("min_sessions", "session_visits")


def _choice(value: Any, allowed: Mapping | tuple, what: str) -> str:
    if not isinstance(value, str) or value not in allowed:
        raise ConfigError(f"estimand: {what} {value!r} is not allowed; choose among "
                          f"{', '.join(allowed)}")
    return value


@dataclass(frozen=True)
class PerProtocolRule:
    """Who is in the per-protocol population: at least ``min_sessions`` sessions received.

    Parameters
    ----------
    min_sessions : int
        Sessions received needed (counted by
        :func:`~dryneedle_outcomes.per_protocol_population`).
    session_visits : tuple of int, optional
        The protocol's session visits; by default the visits at which any patient was
        needled (:meth:`Cohort.session_visits`).

    Examples
    --------
    >>> PerProtocolRule.from_any({"min_sessions": 4})
    PerProtocolRule(min_sessions=4, session_visits=None)
    >>> PerProtocolRule.from_any({"min_session": 4})
    Traceback (most recent call last):
    ...
    dryneedle_outcomes.errors.ConfigError: estimand: per_protocol has unknown key(s) ...
    """

    min_sessions: int
    session_visits: tuple[int, ...] | None = None

    def __post_init__(self) -> None:
        n = self.min_sessions
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise ConfigError(f"estimand: per_protocol min_sessions must be a whole number "
                              f">= 1, got {n!r}")
        if self.session_visits is not None:
            visits = tuple(self.session_visits)
            if not visits or any(isinstance(v, bool) or not isinstance(v, int) or v < 1
                                 for v in visits):
                raise ConfigError("estimand: per_protocol session_visits must be visits >= 1,"
                                  f" got {self.session_visits!r}")
            object.__setattr__(self, "session_visits", visits)

    @classmethod
    def from_any(cls, rule: PerProtocolRule | Mapping | None) -> PerProtocolRule | None:
        """A rule from itself, a dict (the config's table) or None."""
        if rule is None or isinstance(rule, PerProtocolRule):
            return rule
        if not isinstance(rule, Mapping):
            raise ConfigError("estimand: per_protocol must be a table such as "
                              f"{{ min_sessions = 4 }}, got {rule!r}")
        bad = [k for k in rule if k not in PER_PROTOCOL_KEYS]
        if bad:
            raise ConfigError(f"estimand: per_protocol has unknown key(s) {', '.join(bad)}; "
                              f"allowed: {', '.join(PER_PROTOCOL_KEYS)}")
        if "min_sessions" not in rule:
            raise ConfigError("estimand: per_protocol needs min_sessions (sessions received)")
        visits = rule.get("session_visits")
        return cls(rule["min_sessions"], tuple(visits) if visits is not None else None)

    def describe(self) -> str:
        """The rule in words."""
        where = ("the session visits " + ", ".join(map(str, self.session_visits))
                 if self.session_visits else "the treatment sessions")
        return f"at least {self.min_sessions} of {where} received"


class Estimand:
    """The estimand of an analysis: ICH E9(R1)'s five attributes, checked.

    Parameters
    ----------
    population : {"randomised", "per_protocol"}
        The patients targeted (``POPULATIONS``). ``"per_protocol"`` needs
        ``per_protocol``; it is reported beside the randomised population, never
        instead of it.
    variable : str
        The endpoint: a registered instrument (``"first_step_pain"``), measured per
        visit.
    treatment : str, optional
        The treatment condition in words ("six weekly sessions of trigger-point dry
        needling versus sham needling").
    intercurrent : mapping, optional
        ``{event: strategy}``: each event of the vocabulary
        (``dryneedle_outcomes.normalize.vocabulary.ICE_EVENTS``) that may
        occur, with a strategy of ``STRATEGIES``.
    summary : str, optional
        The population-level summary ("difference in means at visit 6"). Stored as
        ``summary_measure`` (``summary()`` is the plain-text description).
    per_protocol : PerProtocolRule or dict, optional
        The per-protocol rule (``{"min_sessions": 4}``).
    visit : int, optional
        The visit the summary is taken at (used in the default summary text).

    Raises
    ------
    ConfigError
        For a population, event or strategy outside the allowed ones (the message lists
        them), a variable that is not a registered instrument, or ``"per_protocol"``
        without a rule.

    Notes
    -----
    ICH E9(R1) (2019), A.3.2 (attributes) and A.3.2/A.3.3 (strategies, and that the
    handling of every intercurrent event must be stated). An event present in a cohort
    and absent from ``intercurrent`` is an error when the estimand is applied
    (:func:`~dryneedle_outcomes.apply_estimand`), never silently treated one way.

    Examples
    --------
    >>> import dryneedle_outcomes as dno
    >>> est = dno.Estimand(variable="first_step_pain",
    ...                    treatment="dry needling vs sham, 6 weekly sessions",
    ...                    intercurrent={"rescue_medication": "hypothetical",
    ...                                  "discontinued_treatment": "treatment_policy"},
    ...                    summary="difference in means at visit 6")
    >>> est.table()[["attribute", "event", "strategy"]]
                attribute                   event          strategy
    0           treatment                     NaN               NaN
    1          population                     NaN               NaN
    2            variable                     NaN               NaN
    3  intercurrent_event       rescue_medication      hypothetical
    4  intercurrent_event  discontinued_treatment  treatment_policy
    5             summary                     NaN               NaN
    >>> dno.Estimand(intercurrent={"rescue_medication": "ignore"})
    Traceback (most recent call last):
    ...
    dryneedle_outcomes.errors.ConfigError: estimand: strategy for 'rescue_medication' ...
    """

    def __init__(self, population: str = "randomised", variable: str = "first_step_pain",
                 treatment: str | None = None, intercurrent: Mapping[str, str] | None = None,
                 summary: str | None = None, *,
                 per_protocol: PerProtocolRule | Mapping | None = None,
                 visit: int | None = None) -> None:
        self.population = _choice(population, POPULATIONS, "population")
        if not isinstance(variable, str) or variable not in INSTRUMENTS:
            raise ConfigError(f"estimand: variable {variable!r} is not a registered "
                              f"instrument; choose among {', '.join(INSTRUMENTS)}")
        self.variable = variable
        if treatment is not None and not isinstance(treatment, str):
            raise ConfigError(f"estimand: treatment must be text, got {treatment!r}")
        self.treatment = treatment or "the randomised arms, as allocated"
        if visit is not None and (isinstance(visit, bool) or not isinstance(visit, int)
                                  or visit < 1):
            raise ConfigError(f"estimand: visit must be a visit >= 1, got {visit!r}")
        self.visit = visit
        if summary is not None and not isinstance(summary, str):
            raise ConfigError(f"estimand: summary must be text, got {summary!r}")
        at = f"visit {visit}" if visit is not None else "the primary visit"
        self.summary_measure = summary or f"difference in means between arms at {at}"
        if intercurrent is None:
            intercurrent = {}
        if not isinstance(intercurrent, Mapping):
            raise ConfigError("estimand: intercurrent must be a table {event = strategy}, "
                              f"got {intercurrent!r}")
        for event, strategy in intercurrent.items():
            if event not in ICE_EVENTS:
                raise ConfigError(f"estimand: intercurrent event {event!r} is not allowed; "
                                  f"choose among {', '.join(ICE_EVENTS)}")
            _choice(strategy, STRATEGIES, f"strategy for {event!r}")
        self.intercurrent = dict(intercurrent)
        self.per_protocol = PerProtocolRule.from_any(per_protocol)
        if self.population == "per_protocol" and self.per_protocol is None:
            raise ConfigError("estimand: population 'per_protocol' needs a per-protocol "
                              "rule, e.g. per_protocol = { min_sessions = 4 }")

    # ------------------------------------------------------------------ building
    @classmethod
    def from_dict(cls, table: Mapping[str, Any], *, outcome: str | None = None,
                  visit: int | None = None) -> Estimand:
        """An estimand from the ``[estimand]`` table of ``analysis.toml``.

        ``outcome`` and ``visit`` (``[analysis] outcome`` and ``primary_visit``) are the
        defaults of ``variable`` and ``visit``.

        Examples
        --------
        >>> est = Estimand.from_dict({"intercurrent": {"orthoses": "treatment_policy"}},
        ...                          outcome="first_step_pain", visit=6)
        >>> est.summary_measure
        'difference in means between arms at visit 6'
        """
        allowed = ("population", "variable", "treatment", "intercurrent", "summary",
                   "per_protocol", "visit")
        bad = [k for k in table if k not in allowed]
        if bad:
            raise ConfigError(f"[estimand]: unknown key(s) {', '.join(map(repr, bad))}; "
                              f"allowed: {', '.join(allowed)}")
        return cls(population=table.get("population", "randomised"),
                   variable=table.get("variable", outcome or "first_step_pain"),
                   treatment=table.get("treatment"),
                   intercurrent=table.get("intercurrent"),
                   summary=table.get("summary"),
                   per_protocol=table.get("per_protocol"),
                   visit=table.get("visit", visit))

    def to_dict(self) -> dict[str, Any]:
        """The estimand as plain data (for manifests and :meth:`from_dict`)."""
        out: dict[str, Any] = {"population": self.population, "variable": self.variable,
                               "treatment": self.treatment,
                               "intercurrent": dict(self.intercurrent),
                               "summary": self.summary_measure}
        if self.visit is not None:
            out["visit"] = self.visit
        if self.per_protocol is not None:
            rule: dict[str, Any] = {"min_sessions": self.per_protocol.min_sessions}
            if self.per_protocol.session_visits is not None:
                rule["session_visits"] = list(self.per_protocol.session_visits)
            out["per_protocol"] = rule
        return out

    def strategy_of(self, event: str) -> str:
        """The strategy for ``event`` (an error naming the declared ones when absent)."""
        if event not in self.intercurrent:
            raise ConfigError(f"estimand: no strategy declared for {event!r}; declared: "
                              f"{', '.join(self.intercurrent) or 'none'}")
        return self.intercurrent[event]

    # ------------------------------------------------------------------ display
    def table(self) -> pd.DataFrame:
        """The five attributes, and one row per intercurrent event with its strategy.

        Returns
        -------
        pandas.DataFrame
            Columns ``TABLE_COLUMNS``: ``attribute`` (treatment, population,
            variable, intercurrent_event, summary: ICH E9(R1)'s order), ``value`` (in
            words), ``event`` and ``strategy`` (on the intercurrent-event rows).
        """
        inst = INSTRUMENTS[self.variable]
        pop = POPULATIONS[self.population]
        if self.per_protocol is not None:
            pop += f" (per-protocol rule: {self.per_protocol.describe()})"
        rows: list[dict[str, Any]] = [
            {"attribute": "treatment", "value": self.treatment},
            {"attribute": "population", "value": f"{self.population}: {pop}"},
            {"attribute": "variable", "value": f"{self.variable}: {inst.label} at each visit"},
        ]
        if self.intercurrent:
            rows += [{"attribute": "intercurrent_event", "value": STRATEGIES[s], "event": e,
                      "strategy": s} for e, s in self.intercurrent.items()]
        else:
            rows.append({"attribute": "intercurrent_event",
                         "value": "none declared (every value used as observed)"})
        rows.append({"attribute": "summary", "value": self.summary_measure})
        return pd.DataFrame(rows, columns=list(TABLE_COLUMNS))

    def tables(self) -> dict[str, TableResult]:
        """The estimand table as a titled :class:`~dryneedle_outcomes.tables.TableResult`."""
        return {"estimand": TableResult(
            self.table(), title="Estimand (ICH E9(R1))",
            notes=("ICH E9(R1) Addendum on estimands and sensitivity analysis in clinical "
                   "trials (2019), A.3.2: treatment, population, variable, intercurrent "
                   "events and their strategies, population-level summary.",))}

    def summary(self) -> str:
        """The estimand in plain text, one attribute per line."""
        lines = ["Estimand (ICH E9(R1))"]
        for row in self.table().itertuples(index=False):  # a handful of rows
            if row.attribute == "intercurrent_event" and isinstance(row.event, str):
                lines.append(f"  intercurrent event {row.event}: {row.strategy} - {row.value}")
            else:
                lines.append(f"  {row.attribute}: {row.value}")
        return "\n".join(lines)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Estimand) and self.to_dict() == other.to_dict()

    __hash__ = None  # type: ignore[assignment]  (mutable-looking: compared by value)

    def __repr__(self) -> str:
        ice = ", ".join(f"{e}={s}" for e, s in self.intercurrent.items()) or "none"
        return (f"Estimand(population={self.population!r}, variable={self.variable!r}, "
                f"intercurrent: {ice}; summary={self.summary_measure!r})")

    def _repr_html_(self) -> str:
        return ("<div><p><strong>Estimand (ICH E9(R1))</strong></p>"
                + frame_html(self.table().fillna("")) + "<p>"
                + html.escape("Strategies: " + ", ".join(STRATEGIES)) + "</p></div>")
