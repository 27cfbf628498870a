"""Tables for papers: the one place a table becomes text, Markdown, LaTeX or HTML.

Every table-shaped result of the package (adverse-event rates, responders, the
baseline table, the survival and trajectory tables of a run) is a
:class:`TableResult` or subclasses it, and every rendering of it goes through this
module: the notebook display (``_repr_html_``), ``summary()``, ``to_markdown``,
``to_latex``, ``report.html`` and the run's ``tables/*.tex``. The number-formatting
rule is one for all of them (:meth:`TableResult.formatted`):

- estimates and intervals to ``digits`` decimals; proportions as percentages with
  one decimal when ``percent=True``;
- p-values as ``<0.001`` below 0.001 and with 3 decimals otherwise (:func:`format_p`);
- counts (integer columns, and float columns named ``n``, ``n_*``, ``count``,
  ``denominator`` ... holding whole numbers) as integers;
- medians and their limits in the ``not_reached`` columns as ``not reached`` when
  missing (:func:`format_median`); any other missing value as an empty cell.

The DataFrame itself is never rounded: CSV and XLSX exports write it whole, every
column included (``columns`` only chooses what is rendered).
"""

from __future__ import annotations

import html
import math
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .export_safety import latex_escape, neutralise_formulas, write_excel

#: Columns holding p-values (raw, multiplicity-adjusted, of an interaction test).
P_COLUMNS = ("p_value", "p_adjusted", "p_interaction")
INTERVAL_COLUMNS = ("estimate", "ci_lower", "ci_upper", "std_error")
#: Float columns shown as integers when they hold whole numbers (also any ``n_*``).
COUNT_COLUMNS = ("n", "count", "denominator", "events", "patients", "sessions", "rows")
#: The text of a median (or a limit of its interval) that the data never reach.
NOT_REACHED = "not reached"
#: The columns of a median table (:attr:`TableResult.not_reached`).
MEDIAN_COLUMNS = ("estimate", "ci_lower", "ci_upper")


def format_p(p: float) -> str:
    """p-values as journals print them.

    Examples
    --------
    >>> format_p(0.0004), format_p(0.0312), format_p(float("nan"))
    ('<0.001', '0.031', '')
    """
    if p is None or not np.isfinite(p):
        return ""
    return "<0.001" if p < 0.001 else f"{p:.3f}"


def format_median(x: float | None, digits: int = 1, unit: str = "") -> str:
    """A median or a limit of its interval: ``not reached`` when missing or infinite.

    The one "not reached" rule of the package (tables, summaries, the report).

    Examples
    --------
    >>> format_median(3.25), format_median(float("nan")), format_median(12.0, 1, " h")
    ('3.2', 'not reached', '12.0 h')
    """
    if x is None or not math.isfinite(x):
        return NOT_REACHED
    return f"{x:.{digits}f}{unit}"


def _missing(v) -> bool:
    return v is None or v is pd.NA or v is pd.NaT or (isinstance(v, float) and v != v)


def _is_count(name, values: pd.Series) -> bool:
    """Whether a float column holds counts (by name) and only whole numbers."""
    name = str(name)
    if name not in COUNT_COLUMNS and not name.startswith("n_"):
        return False
    finite = values.to_numpy(dtype=float)
    finite = finite[np.isfinite(finite)]
    return bool(np.all(finite == np.round(finite)))


def format_column(name, values: pd.Series, *, digits: int = 2, percent: bool = False,
                  not_reached: bool = False) -> list[str]:
    """One column as text, by the module's rule (see the module docstring).

    Examples
    --------
    >>> format_column("n_events", pd.Series([3.0, float("nan")]))
    ['3', '']
    >>> format_column("estimate", pd.Series([0.1234]), percent=True)
    ['12.3%']
    """
    if name in P_COLUMNS:
        return [format_p(v) for v in values]
    if not_reached:
        return [format_median(v, digits) for v in values]
    if pd.api.types.is_bool_dtype(values):
        return ["" if _missing(v) else str(v) for v in values]
    if pd.api.types.is_integer_dtype(values):
        return ["" if _missing(v) else str(int(v)) for v in values]
    if pd.api.types.is_float_dtype(values):
        if percent and name in INTERVAL_COLUMNS:
            return [f"{100 * v:.1f}%" if np.isfinite(v) else "" for v in values]
        fmt = "{:.0f}" if _is_count(name, values) else f"{{:.{digits}f}}"
        return [fmt.format(v) if np.isfinite(v) else "" for v in values]
    return ["" if _missing(v) else str(v) for v in values]


# ---------------------------------------------------------------------- HTML
_NUMBER = re.compile(r"^\s*(?:[<>]=?\s*)?[-+]?(?:\d[\d,]*\.?\d*|\.\d+)(?:e[-+]?\d+)?%?"
                     r"(?:\s*h)?\s*$", re.IGNORECASE)


def _e(text) -> str:
    return html.escape(str(text))


def _numeric(values: pd.Series) -> bool:
    """Right-align a column when every non-empty cell reads as a number."""
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        return True
    cells = [str(v) for v in values if not (_missing(v) or v == "")]
    return bool(cells) and all(_NUMBER.match(c) or c == NOT_REACHED for c in cells)


def alignments(frame: pd.DataFrame) -> list[str]:
    """Per column, ``"num"`` (right-aligned: every non-empty cell reads as a number) or
    ``"txt"``; the one alignment rule of the HTML and Word tables.

    Examples
    --------
    >>> alignments(pd.DataFrame({"arm": ["sham"], "ci": ["-1.2"], "p": ["<0.001"]}))
    ['txt', 'num', 'num']
    """
    return ["num" if _numeric(frame.iloc[:, i]) else "txt" for i in range(frame.shape[1])]


def frame_html(frame: pd.DataFrame) -> str:
    """A DataFrame as an HTML table: numbers right-aligned (class ``num``), text left.

    Cells are written as they are (missing ones empty), so pass
    :meth:`TableResult.formatted` to apply the number rule.

    Examples
    --------
    >>> frame_html(pd.DataFrame({"arm": ["a"], "n": ["3"]})).count('class="num"')
    2
    """
    align = alignments(frame)
    head = "".join(f'<th class="{a}">{_e(c)}</th>' for c, a in zip(frame.columns, align))
    rows = "".join("<tr>" + "".join(f'<td class="{a}">{"" if _missing(v) else _e(v)}</td>'
                                    for v, a in zip(row, align)) + "</tr>"
                   for row in frame.itertuples(index=False, name=None))
    return (f'<div class="scroll"><table><thead><tr>{head}</tr></thead>'
            f"<tbody>{rows}</tbody></table></div>")


def table_html(table: TableResult, *, caption: str | None = None,
               element_id: str | None = None, footer: str = "") -> str:
    """A :class:`TableResult` as an HTML ``<figure>``: caption, table, notes.

    The notebook display and ``report.html`` both use it (the report numbers the
    caption, gives an ``id`` and lists the files in ``footer``, raw HTML).
    """
    caption = table.title if caption is None else caption
    ident = f' id="{_e(element_id)}"' if element_id else ""
    notes = "".join(f"<p>{_e(n)}</p>" for n in table.notes)
    return (f'<figure class="table"{ident}>'
            + (f"<figcaption>{_e(caption)}</figcaption>" if caption else "")
            + frame_html(table.formatted())
            + (f'<div class="notes">{notes}</div>' if notes else "")
            + footer + "</figure>")


def trailer_lines(notes, warnings) -> list[str]:
    """The "Notes:" and "Warnings:" blocks that end a plain-text summary.

    Examples
    --------
    >>> trailer_lines(["a note"], [])
    ['', 'Notes:', '  - a note']
    """
    lines: list[str] = []
    if notes:
        lines += ["", "Notes:"] + [f"  - {n}" for n in notes]
    if warnings:
        lines += ["", "Warnings:"] + [f"  - {w}" for w in warnings]
    return lines


# ---------------------------------------------------------------------- text, LaTeX
def table_markdown(table: TableResult) -> str:
    """GitHub-flavoured Markdown of one table, title and notes included."""
    f = table.formatted()
    head = "| " + " | ".join(map(str, f.columns)) + " |"
    rule = "| " + " | ".join("---" for _ in f.columns) + " |"
    body = ["| " + " | ".join(row) + " |" for row in f.astype(str).to_numpy().tolist()]
    parts = ([f"**{table.title}**", ""] if table.title else []) + [head, rule, *body]
    if table.notes:
        parts += [""] + [f"{note}" for note in table.notes]
    return "\n".join(parts)


def table_latex(table: TableResult) -> str:
    r"""One table as a LaTeX ``table`` with booktabs rules (see :meth:`TableResult.to_latex`)."""
    f = table.formatted().astype(str)
    esc = latex_escape
    cols = "l" * len(f.columns)
    lines = [r"\begin{table}[ht]", r"\centering"]
    if table.title:
        lines.append(rf"\caption{{{esc(table.title)}}}")
    lines += [rf"\begin{{tabular}}{{{cols}}}", r"\toprule",
              " & ".join(esc(str(c)) for c in f.columns) + r" \\", r"\midrule"]
    lines += [" & ".join(esc(v) for v in row) + r" \\" for row in f.to_numpy().tolist()]
    lines += [r"\bottomrule", r"\end{tabular}"]
    for note in table.notes:
        lines.append(rf"\par\footnotesize {esc(note)}")
    lines.append(r"\end{table}")
    return "\n".join(lines)


def table_text(table: TableResult) -> str:
    """Plain text of one table: title, the formatted table and the notes."""
    parts = [table.title] if table.title else []
    parts.append(table.formatted().to_string(index=False))
    parts += list(table.notes)
    return "\n".join(parts)


#: Rows of the first table a result shows in a plain interpreter (``results.short_repr``).
REPR_ROWS = 8
#: Characters per line of that display.
REPR_WIDTH = 100


def compact_frame(frame: pd.DataFrame, *, rows: int = REPR_ROWS,
                  width: int = REPR_WIDTH) -> list[str]:
    """``frame`` (already formatted as text) in at most ``rows`` rows and ``width``
    characters per line: the columns that fit, then "(k more columns, m more rows)".

    Examples
    --------
    >>> f = pd.DataFrame({"arm": ["a", "b", "c"], "n": ["1", "2", "3"]})
    >>> print("\\n".join(compact_frame(f, rows=2)))
    arm n
      a 1
      b 2
    (1 more row)
    """
    shown = frame.head(rows)
    keep: list = []
    for col in shown.columns:
        text = shown[[*keep, col]].to_string(index=False)
        if keep and max(map(len, text.splitlines())) > width:
            break
        keep.append(col)
    lines = shown[keep].to_string(index=False).splitlines() if keep else []
    lines = [line[:width] for line in lines]
    extra = []
    if len(keep) < frame.shape[1]:
        k = frame.shape[1] - len(keep)
        extra.append(f"{k} more column{'s' * (k != 1)}")
    if len(frame) > rows:
        m = len(frame) - rows
        extra.append(f"{m} more row{'s' * (m != 1)}")
    return lines + ([f"({', '.join(extra)})"] if extra else [])



# ---------------------------------------------------------------------- the table
@dataclass(frozen=True)
class TableResult:
    """A result table with its rendering rules.

    Attributes
    ----------
    table : pandas.DataFrame
        The numbers, unrounded, with identifier column names (``estimate``,
        ``ci_lower``, ``ci_upper``, ``p_value`` ...).
    title : str
    notes : tuple of str
        Footnotes: definitions, methods, choices made (printed under every rendering).
    conf_level : float
    digits : int
        Decimals for estimates and intervals in renderings.
    percent : bool
        Render ``estimate``/``ci_*`` as percentages (proportions).
    columns : tuple of str
        The columns rendered, in order (all when empty). Exports (:meth:`to_csv`,
        :meth:`to_excel`) always write every column of ``table``.
    not_reached : tuple of str
        Columns holding medians (or their limits): a missing value there reads
        ``not reached`` (e.g. :data:`MEDIAN_COLUMNS`).
    """

    table: pd.DataFrame
    title: str = ""
    notes: tuple[str, ...] = ()
    conf_level: float = 0.95
    digits: int = 2
    percent: bool = False
    extra: dict = field(default_factory=dict, repr=False)
    columns: tuple[str, ...] = ()
    not_reached: tuple[str, ...] = ()

    def formatted(self) -> pd.DataFrame:
        """The rendered columns with the rounding rule applied, as text."""
        shown = self.table[list(self.columns)] if self.columns else self.table
        out = shown.copy()
        for i, col in enumerate(shown.columns):
            out.isetitem(i, format_column(col, shown.iloc[:, i], digits=self.digits,
                                          percent=self.percent,
                                          not_reached=col in self.not_reached))
        return out

    def to_markdown(self) -> str:
        """GitHub-flavoured Markdown, title and notes included."""
        return table_markdown(self)

    def to_latex(self) -> str:
        r"""A LaTeX ``table`` with booktabs rules (needs ``\usepackage{booktabs}``).

        Text is escaped by :func:`~dryneedle_outcomes.export_safety.latex_escape`:
        special characters (backslash included) are escaped, ``≥ ≤ ± ×`` and similar
        symbols become kernel math commands, and other non-ASCII text stays UTF-8:
        accented letters compile with pdflatex (add ``\usepackage[T1]{fontenc}``;
        ``\usepackage[utf8]{inputenc}`` before TeX Live 2018); Chinese, Japanese or
        Korean text needs xelatex/lualatex with ``xeCJK`` (see that module).

        Examples
        --------
        >>> t = TableResult(pd.DataFrame({"arm": ["sham_1"], "estimate": [0.5]}),
        ...                 title="p ≥ 0.05")
        >>> print(t.to_latex())   # doctest: +NORMALIZE_WHITESPACE
        \begin{table}[ht]
        \centering
        \caption{p $\geq$ 0.05}
        \begin{tabular}{ll}
        \toprule
        arm & estimate \\
        \midrule
        sham\_1 & 0.50 \\
        \bottomrule
        \end{tabular}
        \end{table}
        """
        return table_latex(self)

    def to_html(self) -> str:
        """An HTML fragment (caption, table, notes), as ``report.html`` shows it."""
        return table_html(self)

    def _repr_html_(self) -> str:
        return self.to_html()

    def summary(self) -> str:
        """Plain text: title, the formatted table and the notes."""
        return table_text(self)

    def __str__(self) -> str:
        return self.summary()

    def __repr__(self) -> str:
        """A short display for a plain Python session: the title and the first rows
        (``summary()`` prints the whole table, ``.table`` holds the numbers)."""
        return "\n".join([f"<{type(self).__name__}: {self.title}>" if self.title
                          else f"<{type(self).__name__}>", *compact_frame(self.formatted()),
                          ".summary() prints the whole table; .table holds the numbers"])

    def to_csv(self, path: str | Path) -> Path:
        """Write the unrounded table (every column) as CSV, text neutralised against
        formulas (cells, categorical columns and headers; see
        :func:`~dryneedle_outcomes.export_safety.neutralise_formulas`)."""
        path = Path(path)
        neutralise_formulas(self.table).to_csv(path, index=False)
        return path

    def to_excel(self, path: str | Path, sheet_name: str = "table") -> Path:
        """Write the unrounded table (every column) as XLSX: text neutralised as in
        :meth:`to_csv` (headers and categorical columns included) and no cell stored as
        a formula."""
        return write_excel(self.table, path, sheet_name=sheet_name)
