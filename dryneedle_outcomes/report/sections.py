"""What one analysis contributes to a run: named tables, figures, diagnostics, headline."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np

from ..errors import DryNeedleError
from ..tables import TableResult, format_p


def plain_table(result: TableResult, *, title: str | None = None,
                notes: tuple[str, ...] | None = None) -> TableResult:
    """``result`` as one table of the run (one caption, its notes), ``title`` and
    ``notes`` replaced when given.

    The class is kept, so the report renders a table exactly as the notebook does
    (:class:`~dryneedle_outcomes.baseline_table.BaselineTable` keeps its layout). The
    report and the exports render through :mod:`dryneedle_outcomes.tables`, one table
    at a time: the proportions of a
    :class:`~dryneedle_outcomes.responders.RespondersResult` here, its differences as
    a table of their own.
    """
    changes = {k: v for k, v in (("title", title), ("notes", notes)) if v is not None}
    return replace(result, **changes) if changes else result


@dataclass(frozen=True)
class NamedTable:
    """A table and the stem of its files (``tables/<name>.csv``, ``.tex``); ``main``
    puts it in the report's main results (:mod:`.main_results`), else the appendix."""

    name: str
    table: TableResult
    main: bool = False


#: Width (mm) at which a :class:`NamedFigure`'s ``height_mm`` is given: one journal column.
SINGLE_MM = 85.0

#: A wider figure's plotting area grows with its width up to this fraction of the width
#: (a double-column figure at its single-column aspect would fill half a page).
MAX_HEIGHT_FRACTION = 0.5


@dataclass(frozen=True)
class NamedFigure:
    """A figure: ``draw(ax)`` draws it on the Axes given, ``height_mm`` tall at one
    journal column (85 mm); :meth:`height_for` says how tall at another width;
    ``main`` puts it in the report's main results (:mod:`.main_results`).

    ``fixed_mm`` of the height is text that does not grow with the width (rows of a
    forest or dot plot, a numbers-at-risk table); the rest is plotting area.
    """

    name: str
    caption: str
    draw: Callable
    height_mm: float = 60.0
    fixed_mm: float = 0.0
    main: bool = False

    def height_for(self, width_mm: float) -> float:
        """Height (mm) of the figure drawn ``width_mm`` wide.

        The text part (``fixed_mm``) keeps its height. The plotting area keeps the
        aspect it has at one column, so a double-column (174 mm) figure is about twice
        as tall, but grows to no more than ``MAX_HEIGHT_FRACTION`` of the width
        (a plot of 60 mm at 85 mm is 87 mm at 174 mm), and never shrinks below its
        single-column height (a tall figure such as the CONSORT flow keeps its height).

        Examples
        --------
        >>> fig = NamedFigure("t", "", print, 60.0)
        >>> fig.height_for(85.0), fig.height_for(174.0)
        (60.0, 87.0)
        >>> NamedFigure("ae", "", print, 145.0, fixed_mm=120.0).height_for(174.0)
        171.176...
        >>> NamedFigure("flow", "", print, 150.0).height_for(174.0)   # already tall
        150.0
        """
        plot = max(self.height_mm - self.fixed_mm, 0.0)
        grown = min(plot * width_mm / SINGLE_MM, MAX_HEIGHT_FRACTION * width_mm)
        return self.fixed_mm + max(plot, grown)


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

    ``failures`` lists, one line each, what could not run ("[analysis.trajectory] the
    mmrm model could not run: ..."); a section whose analysis could not run at all has
    no items. The run writes everything else and lists the failures. ``appendix``
    holds figures printed in the report's appendix (model checks), after the
    diagnostics; ``results`` the result objects, by name.
    """

    key: str
    title: str
    items: list[NamedTable | NamedFigure] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    headline: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    appendix: list[NamedFigure] = field(default_factory=list)
    #: The analysis results behind the section, by name (the CONSORT flow of the run
    #: counts who each one analysed: :mod:`.consort`).
    results: dict = field(default_factory=dict)

    @property
    def tables(self) -> list[NamedTable]:
        """The tables, in order."""
        return [i for i in self.items if isinstance(i, NamedTable)]

    @property
    def figures(self) -> list[NamedFigure]:
        """The figures, in order (the appendix's last)."""
        return [i for i in self.items if isinstance(i, NamedFigure)] + list(self.appendix)

    @property
    def warnings(self) -> list[str]:
        """Every warning of the section, prefixed with the analysis it came from."""
        return [f"[{d.analysis}] {w}" for d in self.diagnostics for w in d.warnings]

    def fail(self, exc: BaseException, what: str = "") -> None:
        """Record that ``what`` (e.g. "the mmrm model"; default: the analysis) failed."""
        subject = f" {what}" if what else ""
        self.failures.append(f"[analysis.{self.key}]{subject} could not run: "
                             f"{failure_reason(exc)}")


#: The errors that make one analysis (or one model of it) fail without stopping the run:
#: ours (:class:`~dryneedle_outcomes.errors.DryNeedleError`) and the numerical errors an
#: engine raises on data that cannot support it (``numpy.linalg.LinAlgError`` such as a
#: singular matrix, ``ValueError``, ``FloatingPointError``). Anything else propagates.
FAILURES = (DryNeedleError, np.linalg.LinAlgError, ValueError, FloatingPointError)


def failure_reason(exc: BaseException) -> str:
    """One line saying why an analysis failed: our message, or "Type: message".

    Examples
    --------
    >>> failure_reason(np.linalg.LinAlgError("Singular matrix"))
    'LinAlgError: Singular matrix (a numerical failure on these data)'
    """
    text = " ".join(str(exc).split()) or type(exc).__name__
    if isinstance(exc, DryNeedleError):
        return text
    return f"{type(exc).__name__}: {text} (a numerical failure on these data)"


def unique(messages) -> tuple[str, ...]:
    """Messages without repeats, first occurrence order."""
    return tuple(dict.fromkeys(str(m) for m in messages))


def p_text(p: float) -> str:
    """'p = 0.012' or 'p < 0.001' (empty when p is missing)."""
    s = format_p(p)
    if not s:
        return ""
    return f"p < {s[1:]}" if s.startswith("<") else f"p = {s}"


def arm_prose(text: str, arms) -> str:
    """``text`` with each arm's identifier written as in a sentence: underscores as
    spaces ("dry_needling minus sham" reads "dry needling minus sham"), whole words only.

    Examples
    --------
    >>> arm_prose("dry_needling minus sham; dry_needling_2 kept", ["dry_needling", "sham"])
    'dry needling minus sham; dry_needling_2 kept'
    """
    for arm in sorted(map(str, arms), key=len, reverse=True):
        if "_" in arm:
            text = re.sub(rf"(?<![\w]){re.escape(arm)}(?![\w])", arm.replace("_", " "), text)
    return text
