"""What one analysis contributes to a run: named tables, figures, diagnostics, headline."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from ..tables import TableResult, format_p


def plain_table(result: TableResult, *, title: str | None = None,
                notes: tuple[str, ...] | None = None) -> TableResult:
    """``result`` as a plain :class:`TableResult` (one table, one caption, its notes).

    Results such as :class:`~dryneedle_outcomes.responders.RespondersResult` render two
    tables at once; the run writes each table to its own files.
    """
    return TableResult(result.table, title=result.title if title is None else title,
                       notes=result.notes if notes is None else notes,
                       conf_level=result.conf_level, digits=result.digits,
                       percent=result.percent)


@dataclass(frozen=True)
class NamedTable:
    """A table and the stem of its files (``tables/<name>.csv``, ``.tex``)."""

    name: str
    table: TableResult


@dataclass(frozen=True)
class NamedFigure:
    """A figure: ``draw(ax)`` draws it on the Axes given; ``height_mm`` at any width."""

    name: str
    caption: str
    draw: Callable
    height_mm: float = 60.0


@dataclass(frozen=True)
class Diagnostic:
    """How one fit went: ``converged`` (None when not a fit), details and every warning."""

    analysis: str
    converged: bool | None
    details: str
    warnings: tuple[str, ...] = ()


@dataclass
class Section:
    """The outputs of one analysis; ``items`` (tables and figures) in report order.

    ``failure`` is the reason when the analysis could not run (then it has no items):
    the run writes everything else and lists the failure.
    """

    key: str
    title: str
    items: list[NamedTable | NamedFigure] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    headline: list[str] = field(default_factory=list)
    failure: str = ""

    @property
    def tables(self) -> list[NamedTable]:
        """The tables, in order."""
        return [i for i in self.items if isinstance(i, NamedTable)]

    @property
    def figures(self) -> list[NamedFigure]:
        """The figures, in order."""
        return [i for i in self.items if isinstance(i, NamedFigure)]

    @property
    def warnings(self) -> list[str]:
        """Every warning of the section, prefixed with the analysis it came from."""
        return [f"[{d.analysis}] {w}" for d in self.diagnostics for w in d.warnings]

    @property
    def failed(self) -> str:
        """"[analysis.KEY] could not run: REASON" when it failed, else ""."""
        return f"[analysis.{self.key}] could not run: {self.failure}" if self.failure else ""


def unique(messages) -> tuple[str, ...]:
    """Messages without repeats, first occurrence order."""
    return tuple(dict.fromkeys(str(m) for m in messages))


def p_text(p: float) -> str:
    """'p = 0.012' or 'p < 0.001' (empty when p is missing)."""
    s = format_p(p)
    if not s:
        return ""
    return f"p < {s[1:]}" if s.startswith("<") else f"p = {s}"


def last_session(cohort, visits) -> int:
    """The last treatment session among ``visits`` (else the last of ``visits``)."""
    from ..errors import AnalysisError
    from ..harms.events import last_treatment_session

    visits = sorted(int(v) for v in visits)
    try:
        k = last_treatment_session(cohort)
    except AnalysisError:
        return visits[-1]
    return k if k in visits else visits[-1]
