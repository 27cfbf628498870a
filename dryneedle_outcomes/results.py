"""The one contract every analysis result keeps, and the one long comparison schema.

Every analysis (``fit_trajectory``, ``time_to_relief``, ``soreness_duration``,
``responders``, ``adverse_event_rates``, ``dose_response``, ``protocol_deviations``,
``baseline_table``) returns a frozen dataclass that inherits :class:`AnalysisResult`
and so has:

- ``notes`` and ``warnings``: tuples of sentences (``warnings`` is a dataclass field, so
  that :func:`~dryneedle_outcomes.alerts.one_channel` can fold engine warnings into it);
- ``converged``: True when every fitted model converged, and True when nothing is fitted;
- ``summary()``: plain text;
- ``tables()``: every table a user would publish, by name, each a
  :class:`~dryneedle_outcomes.tables.TableResult` (title and notes included);
- ``plot(ax=None, **kwargs)``: a figure on ``ax`` (a new one when None); returns the Axes;
- ``_repr_html_()``: the notebook display, built from ``tables()`` (each rendered by
  :meth:`TableResult.to_html`), the notes not already under a table, and the warnings,
  so that the notebook and the report show the same tables;
- ``comparison``: each arm against the reference arm, in one long format whose first
  columns are :data:`COMPARISON_COLUMNS` (``arm``, ``reference``, ``measure``,
  ``estimate``, ``ci_lower``, ``ci_upper``, ``p_value``) and whose further columns are
  the analysis's own (``visit``, ``std_error``, ``df``, ``nnt`` ...). ``measure`` says
  what ``estimate`` is, from one vocabulary (:data:`MEASURES`). A result without a
  between-arm comparison (Table 1, dose-response) has an empty frame with these columns.

Examples
--------
>>> import pandas as pd
>>> frame = pd.DataFrame({"visit": [1], "arm": ["dry_needling"], "reference": ["sham"],
...                       "estimate": [-9.1], "ci_lower": [-14.0], "ci_upper": [-4.2],
...                       "p_value": [0.001]})
>>> comparison_frame(frame, measure="mean_difference").columns.tolist()
['arm', 'reference', 'measure', 'estimate', 'ci_lower', 'ci_upper', 'p_value', 'visit']
>>> arm_of_term("arm[dry_needling]"), arm_of_term("baseline")
('dry_needling', None)
"""

from __future__ import annotations

import html
import textwrap
import warnings
from abc import ABC, abstractmethod
from collections.abc import Iterable
from dataclasses import field

import pandas as pd

from .tables import MEDIAN_COLUMNS, REPR_WIDTH, TableResult, compact_frame

#: The columns every ``comparison`` frame starts with, in this order.
COMPARISON_COLUMNS = ("arm", "reference", "measure", "estimate", "ci_lower", "ci_upper",
                      "p_value")

#: What ``comparison["measure"]`` may say (``estimate`` is arm versus reference).
MEASURES = {
    "mean_difference": "difference in (adjusted) means, arm minus reference, in the "
                       "outcome's units",
    "risk_difference": "difference in proportions, arm minus reference",
    "risk_ratio": "ratio of proportions, arm over reference",
    "rate_ratio": "ratio of rates, arm over reference",
    "hazard_ratio": "ratio of hazards of the event, arm over reference",
    "time_ratio": "ratio of event times (accelerated failure time), arm over reference",
    "score_z": "standardised score statistic of a (generalised) log-rank test, arm versus "
               "reference, like (O - E) / SD: > 0 means the event comes sooner in the arm; "
               "a test statistic, so no confidence interval",
}

#: The measures that are test statistics, not effect estimates: no confidence interval
#: (``ci_lower`` and ``ci_upper`` are missing by design).
TEST_MEASURES = frozenset({"score_z"})

#: The seed every public function with a random step uses by default.
DEFAULT_SEED = 2014


def nothing_fitted() -> bool:
    """The ``converged`` field of a result that fits no model: always True, not an
    argument (``converged: bool = nothing_fitted()``)."""
    return field(default=True, init=False, repr=False)


def arm_of_term(term: str) -> str | None:
    """The arm of a model term named ``arm[<arm>]`` (None for any other term).

    Examples
    --------
    >>> arm_of_term("arm[sham]"), arm_of_term("visit:arm[sham]")
    ('sham', None)
    """
    term = str(term)
    if term.startswith("arm[") and term.endswith("]"):
        return term[4:-1]
    return None


def comparison_frame(frame: pd.DataFrame, *, measure: str | None = None) -> pd.DataFrame:
    """``frame`` in the comparison schema: :data:`COMPARISON_COLUMNS` first, then the rest.

    Parameters
    ----------
    frame : DataFrame
        Has ``arm``, ``reference``, ``estimate``, ``ci_lower``, ``ci_upper`` and
        ``measure`` unless ``measure=`` gives it; ``p_value`` is NaN when absent.
    measure : str, optional
        One of :data:`MEASURES`, for every row.

    Returns
    -------
    DataFrame
        A new frame (the input is not changed), index 0..n-1.
    """
    out = frame.reset_index(drop=True).copy()
    if measure is not None:
        out["measure"] = measure
    if "p_value" not in out:
        out["p_value"] = float("nan")
    missing = [c for c in COMPARISON_COLUMNS if c not in out]
    if missing:
        raise ValueError(f"a comparison needs column(s) {missing}")
    unknown = sorted(set(out["measure"]) - set(MEASURES))
    if unknown:
        raise ValueError(f"unknown measure(s) {unknown}; use one of {sorted(MEASURES)}")
    rest = [c for c in out.columns if c not in COMPARISON_COLUMNS]
    return out[[*COMPARISON_COLUMNS, *rest]]


def empty_comparison(extra: Iterable[str] = ()) -> pd.DataFrame:
    """A comparison frame without rows (no arm to compare).

    Examples
    --------
    >>> empty_comparison(["visit"]).columns.tolist()[-2:]
    ['p_value', 'visit']
    """
    cols = [*COMPARISON_COLUMNS, *extra]
    return pd.DataFrame({c: pd.Series(dtype=object if c in ("arm", "reference", "measure")
                                      else float) for c in cols})


def arm_terms(table: pd.DataFrame, reference: str, measure: str, model: str,
              extra: Iterable[str] = ("model", "coef", "std_error")) -> pd.DataFrame:
    """The ``arm[<arm>]`` rows of a model's ``term`` table in the comparison schema.

    Parameters
    ----------
    table : DataFrame
        ``term``, ``estimate``, ``ci_lower``, ``ci_upper``, ``p_value`` and the
        ``extra`` columns other than ``model``.
    reference : str
        The model's reference arm.
    measure : str
        One of :data:`MEASURES`.
    model : str
        Which model the rows come from (the ``model`` column).
    extra : iterable of str
        Columns kept after the schema's.

    Examples
    --------
    >>> t = pd.DataFrame({"term": ["arm[dn]", "age"], "estimate": [1.5, 1.0],
    ...                   "ci_lower": [1.1, 0.9], "ci_upper": [2.0, 1.1],
    ...                   "p_value": [0.01, 0.9], "coef": [0.4, 0.0], "std_error": [0.1, 0.1]})
    >>> arm_terms(t, "sham", "hazard_ratio", "cox")[["arm", "reference", "model"]].values.tolist()
    [['dn', 'sham', 'cox']]
    """
    extra = list(extra)
    arms = table["term"].map(arm_of_term)
    keep = arms.notna().to_numpy()
    if not keep.any():
        return empty_comparison(extra)
    rows = table.loc[keep].assign(arm=arms[keep].to_numpy(), reference=reference,
                                  model=model)
    return comparison_frame(rows, measure=measure)[[*COMPARISON_COLUMNS, *extra]]


def titled_tables(frames: dict[str, tuple[pd.DataFrame, str, int]], notes: Iterable[str],
                  conf_level: float, *, medians: Iterable[str] = ()) -> dict[str, TableResult]:
    """``{name: (frame, title, digits)}`` as TableResults, empty frames left out; the
    first table carries ``notes``. The tables named in ``medians`` hold medians: a
    missing estimate or limit reads "not reached" (:data:`~.tables.MEDIAN_COLUMNS`)."""
    medians = set(medians)
    out: dict[str, TableResult] = {}
    for name, (frame, title, digits) in frames.items():
        if len(frame):
            out[name] = TableResult(frame.reset_index(drop=True), title=title,
                                    notes=() if out else tuple(notes),
                                    conf_level=conf_level, digits=digits,
                                    not_reached=MEDIAN_COLUMNS if name in medians else ())
    return out


def as_table(result: TableResult) -> TableResult:
    """The table of a :class:`TableResult` subclass as a plain TableResult (same table,
    title, notes and rendering rules, without the subclass's extra tables)."""
    return TableResult(result.table, result.title, tuple(result.notes), result.conf_level,
                       result.digits, result.percent, columns=result.columns,
                       not_reached=result.not_reached, unit=result.unit,
                       labels=dict(result.labels), arm_n=dict(result.arm_n))


def deprecated_name(old: str, new: str, owner: str, *, stacklevel: int = 3) -> None:
    """Warn (``DeprecationWarning``) that ``owner.old`` is now ``owner.new``."""
    warnings.warn(f"{owner}.{old} is deprecated; use {owner}.{new}", DeprecationWarning,
                  stacklevel=stacklevel)


class AnalysisResult(ABC):
    """The contract of every analysis result (mixed into the frozen result dataclasses).

    Subclasses are dataclasses that declare the fields ``notes`` and ``warnings``
    (tuples of str) and ``converged`` (a field or property; a result that fits
    nothing declares ``converged: bool = nothing_fitted()``), and implement
    :meth:`tables`, :meth:`plot` and a ``comparison`` (field or property).
    :meth:`summary` and ``_repr_html_`` have defaults built from :meth:`tables`.

    (No attribute here has a value: a dataclass would take an inherited class
    attribute for the default of its own field of that name.)
    """

    notes: tuple[str, ...]
    warnings: tuple[str, ...]
    converged: bool

    @abstractmethod
    def tables(self) -> dict[str, TableResult]:
        """Every table a user would publish, by name, with its title and notes."""

    @abstractmethod
    def plot(self, ax=None, **kwargs):
        """The result's figure on ``ax`` (a new one when None); returns the Axes."""

    def __init_subclass__(cls, **kwargs):
        # The short plain-interpreter display (:func:`short_repr`) for every result: set
        # on each subclass before ``@dataclass`` runs, which keeps a ``__repr__`` the class
        # already has instead of writing its field-by-field one (a 4 kB dump of frames).
        super().__init_subclass__(**kwargs)
        if "__repr__" not in cls.__dict__:
            cls.__repr__ = short_repr

    def _heading_html(self) -> str:
        """A line above the tables in the notebook display ("" for none)."""
        return ""

    def _repr_headline(self) -> str:
        """What the result is, in one line, for :func:`short_repr` (default: the title of
        its first table)."""
        tables = self.tables()
        return next(iter(tables.values())).title if tables else ""

    def _loose_notes(self, tables: dict[str, TableResult]) -> list[str]:
        """``notes`` that no table of ``tables`` prints under it."""
        shown = {n for t in tables.values() for n in t.notes}
        return [n for n in self.notes if n not in shown]

    def summary(self) -> str:
        """Plain text: every table (title, table, notes), other notes, then warnings."""
        tables = self.tables()
        parts = [t.summary() for t in tables.values()]
        loose = self._loose_notes(tables)
        if loose:
            parts.append("\n".join(loose))
        if self.warnings:
            parts.append("\n".join(["Warnings:", *(f"  - {w}" for w in self.warnings)]))
        return "\n\n".join(parts)

    def _repr_html_(self) -> str:
        tables = self.tables()
        parts = [self._heading_html()]
        parts += [t.to_html() for t in tables.values()]
        parts += [f"<p><small>{html.escape(n)}</small></p>" for n in self._loose_notes(tables)]
        if self.warnings:
            parts.append("<p><strong>Warnings</strong></p><ul>"
                         + "".join(f"<li>{html.escape(w)}</li>" for w in self.warnings)
                         + "</ul>")
        return "<div>" + "".join(parts) + "</div>"


def short_repr(result: AnalysisResult) -> str:
    """The display of a result in a plain Python session: what it is, its first table
    in a few rows, the names of its other tables, how many warnings, and where the rest
    is (``summary()``, ``tables()``, ``plot()``). About 20 lines whatever the cohort's
    size; the notebook shows every table (``_repr_html_``).

    Examples
    --------
    >>> import dryneedle_outcomes as dno
    >>> res = dno.observed_summary(dno.simulate_cohort(n_patients=20, seed=1))
    >>> text = repr(res)
    >>> text.splitlines()[0]
    '<ObservedSummary: Observed data per arm and visit: n, mean (SD), median [IQR], range>'
    >>> len(text.splitlines()) <= 20
    True
    """
    name = type(result).__name__
    headline = " ".join(str(result._repr_headline()).split())
    lines = [f"<{name}: {headline}>" if headline else f"<{name}>"]
    tables = result.tables()
    if tables:
        first_key, first = next(iter(tables.items()))
        lines += ["", *textwrap.wrap(first.title or first_key, REPR_WIDTH),
                  *compact_frame(first.formatted())]
        others = [k for k in tables if k != first_key]
        if others:
            lines += ["", *textwrap.wrap("Other tables: " + ", ".join(others), REPR_WIDTH)]
    if result.warnings:
        k = len(result.warnings)
        lines.append(f"{k} warning{'s' * (k != 1)} (.warnings)")
    lines.append(".summary() prints everything; .tables() gives the tables; .plot() draws it")
    return "\n".join(lines)


class NoComparison:
    """Mixin of the results that compare no arms (Table 1, dose-response, deviations)."""

    @property
    def comparison(self) -> pd.DataFrame:
        """No between-arm comparison: an empty frame with the schema's columns."""
        return empty_comparison()


__all__ = ["AnalysisResult", "COMPARISON_COLUMNS", "DEFAULT_SEED", "MEASURES", "NoComparison",
           "TEST_MEASURES", "short_repr",
           "arm_of_term", "arm_terms", "as_table", "comparison_frame", "deprecated_name",
           "empty_comparison", "nothing_fitted", "titled_tables"]
