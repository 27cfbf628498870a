"""Adverse-event rates by arm and term, with exact intervals (CONSORT Harms 2022)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..cohort import Cohort
from ..errors import AnalysisError
from ..models.design import choose_reference
from ..results import AnalysisResult, as_table, nothing_fitted
from ..stats.checks import check_conf_level
from ..stats.intervals import clopper_pearson, poisson_exact
from ..tables import TableResult
from . import notes as N
from .compare import compare_proportions, compare_rates
from .counting import per_needles, per_patient, per_session
from .events import arms_of, emergent_events, parse_by

PER = ("patient", "session", "100_needles")
RATE_COLUMNS = ("arm", "group", "term", "per", "count", "denominator", "estimate", "ci_lower",
                "ci_upper", "n_events", "n_with_event", "n_patients_with_event", "n_patients")
TITLES = {
    "patient": "Participants with at least one adverse event, by arm",
    "session": "Treatment appointments with at least one adverse event, by arm",
    "100_needles": "Adverse events per 100 needle insertions, by arm",
}


#: The headers of ``estimate`` and ``denominator`` in renderings, by ``per``.
ESTIMATE_HEADERS = {"patient": "Participants (%)", "session": "Appointments (%)",
                    "100_needles": "Per 100 needles"}
DENOMINATORS = {"patient": "Participants", "session": "Appointments",
                "100_needles": "Needles"}


@dataclass(frozen=True)
class AdverseEventRates(AnalysisResult, TableResult):
    """Adverse-event rates by arm and term, and the comparison between arms.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per arm and category: ``arm``, ``group`` ("any", "term", "severity",
        "serious"), ``term`` ("any" for any event; the term, severity or "serious"),
        ``per``, ``count``, ``denominator``, ``estimate``, ``ci_lower``, ``ci_upper``
        (proportions for ``per="patient"``/``"session"``; events per 100 needles for
        ``per="100_needles"``), ``n_events`` (all events), ``n_with_event``
        (participants or appointments with >= 1 event), ``n_patients_with_event``,
        ``n_patients`` (and ``n_appointments`` per needle).
    comparison : pandas.DataFrame
        Each arm against ``reference_arm`` per category, in the comparison schema
        (:mod:`dryneedle_outcomes.results`): ``arm``, ``reference``, ``measure``
        ("risk_difference", "risk_ratio" or "rate_ratio"), ``estimate``, ``ci_lower``,
        ``ci_upper``, ``p_value``, then ``group``, ``term``, ``per``, ``test``, the
        counts and ``corrected`` (zero-cell correction used).
    per : str
    reference_arm : str or None
    by : tuple of str
    """

    per: str = "patient"
    comparison: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)
    reference_arm: str | None = None
    by: tuple[str, ...] = ("term",)
    warnings: tuple[str, ...] = ()
    converged: bool = nothing_fitted()

    def comparison_table(self) -> TableResult:
        """The comparison as a :class:`~dryneedle_outcomes.tables.TableResult` to render."""
        return TableResult(self.comparison, title=f"{self.title}: comparison between arms",
                           notes=self.extra.get("comparison_notes", ()),
                           conf_level=self.conf_level, digits=3)

    def tables(self) -> dict[str, TableResult]:
        """The rates (with their notes) and, with two arms or more, the comparison."""
        out = {"rates": as_table(self)}
        if len(self.comparison):
            out["comparison"] = self.comparison_table()
        return out

    def summary(self) -> str:
        """Plain text: the rates, their notes, then the comparison between arms."""
        parts = [TableResult.summary(self)]
        if len(self.comparison):
            parts += ["", self.comparison_table().summary()]
        if self.warnings:
            parts += ["", "Warnings:", *(f"  - {w}" for w in self.warnings)]
        return "\n".join(parts)

    def plot(self, ax=None, **kwargs):
        """Dot plot of the rates with CI whiskers (see :func:`~.plot_adverse_events`)."""
        from ..plots.harms import plot_adverse_events

        return plot_adverse_events(self, ax=ax, **kwargs)


def _check(per: str, conf_level: float) -> None:
    if per not in PER:
        raise AnalysisError(f"per must be one of {', '.join(map(repr, PER))}, got {per!r}")
    check_conf_level(conf_level)


def adverse_event_rates(cohort: Cohort, per: str = "patient", *, by="all",
                        conf_level: float = 0.95, reference_arm: str | None = None,
                        last_session: int | None = None, soreness_as_ae=None,
                        p_values: bool = False,
                        risk_ratio: bool = False) -> AdverseEventRates:
    """Adverse-event rates by arm, with exact intervals and a between-arm comparison.

    Follows CONSORT Harms 2022: events are counted both ways (participants or
    appointments with an event, and the number of events), denominators are stated,
    and zero counts are reported, not dropped.

    Parameters
    ----------
    cohort : Cohort
    per : {"patient", "session", "100_needles"}
        ``"patient"``: proportion of randomised participants with >= 1 event
        (Clopper-Pearson interval). ``"session"``: proportion of treatment-session
        appointments with >= 1 event (Clopper-Pearson; appointments are clustered
        within patients, see the notes). ``"100_needles"``: events per 100 needle
        insertions (exact Poisson interval); NaN for an arm without needles (sham).
    by : "all" (default), "term", "severity", "serious", "withdrawal" or a list of them
        Categories after "any" (any event): each term of the vocabulary, each
        severity, serious events, events that led to withdrawal (CONSORT Harms 2022).
    conf_level : float
    reference_arm : str, optional
        Arm the others are compared with; default a sham/control-like arm, else the last.
    last_session : int, optional
        Visit number of the last treatment session; default the last visit at which
        anyone was needled.
    soreness_as_ae : SorenessRule or mapping, optional
        When a recorded post-needling soreness event counts as an adverse event, e.g.
        ``{"min_hours": 48}`` or ``{"min_severity": "moderate"}``
        (:class:`~dryneedle_outcomes.harms.soreness_rule.SorenessRule`). Default: every
        recorded soreness event counts; the notes state the rule either way. With
        ``"from_sessions": True`` soreness events are also derived from the session
        soreness records where none was recorded (counted in the notes).
    p_values : bool
        Add a p-value per category (Fisher's exact test; exact Poisson per needle).
        Off by default: CONSORT Harms 2022 and SAMPL discourage testing each harm.
    risk_ratio : bool
        Add the risk ratio (with Haldane's 0.5 correction when one arm has no events,
        stated in the notes) next to the risk difference. Off by default.

    Returns
    -------
    AdverseEventRates

    Examples
    --------
    >>> import dryneedle_outcomes as dno
    >>> from dryneedle_outcomes.harms import adverse_event_rates
    >>> cohort = dno.simulate_cohort(n_patients=84, seed=2014)
    >>> rates = adverse_event_rates(cohort, per="session")
    >>> any_ = rates.table[rates.table.term == "any"].set_index("arm")
    >>> bool(any_.loc["dry_needling", "estimate"] > any_.loc["sham", "estimate"])
    True
    >>> rates.comparison.query("term == 'any'")[["measure", "estimate"]].shape
    (1, 2)
    >>> bool(rates.comparison["p_value"].isna().all())     # no test per harm unless asked
    True
    """
    _check(per, conf_level)
    groups = parse_by(by)
    arms = arms_of(cohort)
    if not arms:
        raise AnalysisError("the cohort has no patients, so there are no rates to compute")
    reference = choose_reference(arms, reference_arm) if len(arms) > 1 else arms[0]
    es = emergent_events(cohort, soreness_as_ae, last_session)
    if per == "patient":
        counts = per_patient(cohort, es, groups)
    elif per == "session":
        counts = per_session(cohort, es, groups, last_session)
    else:
        counts = per_needles(cohort, es, groups, last_session)
    table = counts.table
    table.insert(3, "per", per)
    x = table["count"].to_numpy(dtype=float)
    n = table["denominator"].to_numpy(dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        if per == "100_needles":
            lo, hi = poisson_exact(x, n, conf_level)
            est, lo, hi = 100 * x / n, 100 * lo, 100 * hi
            undefined = n <= 0
            est, lo, hi = (np.where(undefined, np.nan, v) for v in (est, lo, hi))
        else:
            lo, hi = clopper_pearson(x, n, conf_level)
            est = np.where(n > 0, x / n, np.nan)
    table["estimate"], table["ci_lower"], table["ci_upper"] = est, lo, hi
    extra_cols = [c for c in table.columns if c not in RATE_COLUMNS]
    table = table[list(RATE_COLUMNS) + extra_cols]
    if len(arms) > 1:
        compare = compare_rates if per == "100_needles" else compare_proportions
        comparison = compare(table, reference, per, conf_level, p_values=p_values,
                             risk_ratio=risk_ratio)
    else:
        comparison = compare_proportions(table.iloc[:0], reference, per, conf_level)
    notes = N.rate_notes(per, table, es, counts.info, conf_level)
    return AdverseEventRates(
        table=table, title=TITLES[per], notes=notes, conf_level=conf_level,
        digits=2, percent=per != "100_needles", per=per, comparison=comparison,
        labels={"estimate": ESTIMATE_HEADERS[per], "count": "Events" if per == "100_needles"
                else "n", "denominator": DENOMINATORS[per], "n_events": "All events"},
        reference_arm=reference if len(arms) > 1 else None, by=groups,
        extra={"comparison_notes": N.comparison_notes(per, comparison, reference,
                                                      p_values=p_values),
               **counts.info, **es.soreness, "n_events_recorded": es.n_recorded})
