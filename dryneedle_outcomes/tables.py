r"""Tables for papers: the one place a table becomes text, Markdown, LaTeX or HTML.

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
column included (``columns`` only chooses what is rendered), with its identifier
column names.

Presentation (:meth:`TableResult.formatted`, every human rendering): the cells above
(:meth:`TableResult.cells`) then the rules of :mod:`dryneedle_outcomes.table_labels`,
one rule set: each CI as one column ``"-26.7 to -9.4"`` headed ``"95% CI"`` (the level
from ``conf_level``), human headers (``"Estimate (mm)"`` when ``unit`` is known,
``"SE"``, ``"p"``, ``"Patients"``), arm labels as the figures show them (``"Dry
needling"``, with ``"(n = 42)"`` in arm headers from ``arm_n``), identifier values as
words. A table overrides any header with its ``labels`` mapping. LaTeX and HTML also
print shared ``"<group>: <column>"`` headers as spanners, right-align numeric columns
and blank a label repeated from the row above in the leading label columns (grouping).

Why hand-written rendering and not great_tables
-----------------------------------------------
The issue asked to render through great_tables (1.1.0, the Python port of R's gt)
where it serves. It was tried on the run's tables (spanners, source notes, footnotes,
number formats) and kept out, because:

- **LaTeX**: ``GT.as_latex()`` raises ``NotImplementedError`` for any footnote
  ("Footnotes are not yet supported in LaTeX output") and warns that styles are not
  supported; its table is a ``tabular*`` at ``\linewidth`` with a vertical rule after
  the stub (``{l|rrrrl}``), a hard-coded ``\fontsize{12.0pt}{14.4pt}`` and an
  unnumbered ``\caption*`` (needs the caption package), so a journal's booktabs
  template cannot restyle it; text such as ``kg/m²`` is passed through unescaped.
- **HTML**: every table carries its own ``<style>`` block of about 8.7 kB (id-scoped
  CSS) - some 580 kB of repeated CSS over the 67 tables of the sample run - where
  ``report.html`` has one 2 kB style sheet for all of them.
- **Weight**: it pulls in Babel, htmltools, faicons, importlib-resources and others
  (60 MB installed, 0.23 s to import) for the notebook display of every result, and
  the plain-text and Markdown renderings (``summary()``) would still be ours.

The hand-written renderers below are about 200 lines, give booktabs output with
numbered captions, spanners, ``r`` columns and notes under the table, and one number
rule for all renderings. Word output (python-docx) is a separate module.
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
from .table_labels import ARM_COLUMNS, VALUE_COLUMNS, header, spanners, value_text

#: Columns holding p-values (raw, multiplicity-adjusted, of an interaction test).
P_COLUMNS = ("p_value", "p_adjusted", "p_interaction")
INTERVAL_COLUMNS = ("estimate", "ci_lower", "ci_upper", "std_error")
#: Columns shown as percentages when a table has ``percent=True`` (proportions, their
#: intervals, and the modelled risks of the covariate-adjusted responder tables).
PERCENT_COLUMNS = (*INTERVAL_COLUMNS, "risk_arm", "risk_reference")
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


#: Float columns that hold measured quantities: shown with ``digits`` decimals even
#: when every value is whole (an estimate of 18.0 h is not a count).
MEASURED = re.compile(r"estimate|ci_|std_error|mean|median|sd$|statistic|chisq|coef|"
                      r"loglik|aic|bic|scale|observed|risk|ratio|difference|rate|percent|"
                      r"proportion|hazard|bound|interpolated|_per_|^g$|^se$|^z$")


def _is_count(name, values: pd.Series) -> bool:
    """Whether a float column is shown as integers: only whole numbers, and a count by
    name (``n``, ``n_*``, :data:`COUNT_COLUMNS`) or any column that is not a measured
    quantity (:data:`MEASURED`: visits, days, tau, delta, baseline scores...)."""
    name = str(name)
    finite = values.to_numpy(dtype=float)
    finite = finite[np.isfinite(finite)]
    whole = bool(np.all(finite == np.round(finite)))
    if name in COUNT_COLUMNS or name.startswith("n_"):
        return whole
    return whole and finite.size > 0 and not MEASURED.search(name)


def _unsigned_zero(text: str) -> str:
    """A number that rounds to zero without a sign ("-0.0" reads "0.0")."""
    if text.startswith("-") and not any(c in "123456789" for c in text):
        return text[1:]
    return text


def format_column(name, values: pd.Series, *, digits: int = 2, percent: bool = False,
                  not_reached: bool = False) -> list[str]:
    """One column as text, by the module's rule (see the module docstring).

    Examples
    --------
    >>> format_column("n_events", pd.Series([3.0, float("nan")]))
    ['3', '']
    >>> format_column("estimate", pd.Series([0.1234]), percent=True)
    ['12.3%']
    >>> format_column("ci_lower", pd.Series([-0.02, -0.0004]), digits=1)
    ['0.0', '0.0']
    >>> format_column("ci_lower", pd.Series([-0.0004]), percent=True)
    ['0.0%']
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
        if percent and name in PERCENT_COLUMNS:
            return [_unsigned_zero(f"{100 * v:.1f}%") if np.isfinite(v) else ""
                    for v in values]
        fmt = "{:.0f}" if _is_count(name, values) else f"{{:.{digits}f}}"
        return [_unsigned_zero(fmt.format(v)) if np.isfinite(v) else "" for v in values]
    return ["" if _missing(v) else str(v) for v in values]


# ---------------------------------------------------------------------- presentation
def _ci_text(lower: str, upper: str) -> str:
    if lower == "" and upper == "":
        return ""
    return f"{lower or 'NA'} to {upper or 'NA'}"


def present(table: TableResult, cells: pd.DataFrame) -> pd.DataFrame:
    """``cells`` (identifier columns, text) with the presentation rules of
    :mod:`dryneedle_outcomes.table_labels` applied: one CI column per interval, human
    headers, arm labels and identifier values as words.

    Examples
    --------
    >>> t = TableResult(pd.DataFrame({"arm": ["dry_needling"], "estimate": [-14.44],
    ...                               "ci_lower": [-23.5], "ci_upper": [-5.2],
    ...                               "n_patients": [42.0]}), conf_level=0.9, unit="mm",
    ...                 digits=1)
    >>> present(t, t.cells()).to_dict("records")
    [{'Arm': 'Dry needling', 'Estimate (mm)': '-14.4', '90% CI': '-23.5 to -5.2', 'Patients': '42'}]
    """
    names = [str(c) for c in cells.columns]
    source = table.table
    headers: list[str] = []
    columns: list[list[str]] = []
    merged: set[str] = set()
    options = {"conf_level": table.conf_level, "unit": table.unit,
               "labels": dict(table.labels), "arm_n": dict(table.arm_n)}
    for i, name in enumerate(names):
        if name in merged:
            continue
        values = [str(v) for v in cells.iloc[:, i]]
        upper = (name[: -len("lower")] + "upper"
                 if name.endswith("ci_lower") or name == "bound_lower" else None)
        if upper is not None and upper in names:
            merged.add(upper)
            uppers = [str(v) for v in cells.iloc[:, names.index(upper)]]
            values = [_ci_text(lo, hi) for lo, hi in zip(values, uppers)]
            name = name[: -len("_lower")]
        elif name in source and pd.api.types.is_bool_dtype(source[name]):
            values = [{"True": "Yes", "False": "No"}.get(v, v) for v in values]
        elif name in ARM_COLUMNS or name in VALUE_COLUMNS:
            values = [value_text(name, v) for v in values]
        text = header(name, **options)
        if text in headers:   # two columns with one header: name the second one
            text = f"{text} ({name.replace('_', ' ')})"
        headers.append(text)
        columns.append(values)
    frame = pd.DataFrame(dict(enumerate(columns)), index=cells.index, dtype=object)
    if not columns:
        frame = pd.DataFrame(index=cells.index)
    frame.columns = headers
    return frame.reset_index(drop=True)


# ---------------------------------------------------------------------- HTML
_NUMBER = re.compile(r"^\s*(?:[<>]=?\s*)?[-+]?(?:\d[\d,]*\.?\d*|\.\d+)(?:e[-+]?\d+)?%?"
                     r"(?:\s*h)?\s*$", re.IGNORECASE)
#: A cell that reads as numbers: an interval "-23.5 to -5.2", "20 (47.6)", "68.5 [60.0,
#: 74.8]", "21.8 (51/234)", "not reached" limits.
_NUMBERS = re.compile(r"^(?=.*\d)(?:[\d\s.,%<>=+\-−()\[\]/]|\bto\b|\bh\b|\bNA\b|"
                      r"not reached)+$")


def _e(text) -> str:
    return html.escape(str(text))


def _numeric(values: pd.Series) -> bool:
    """Right-align a column when every non-empty cell reads as a number (or numbers)."""
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        return True
    cells = [str(v) for v in values if not (_missing(v) or v == "")]
    return bool(cells) and all(_NUMBER.match(c) or _NUMBERS.match(c) or c == NOT_REACHED
                               for c in cells)


def alignments(frame: pd.DataFrame) -> list[str]:
    """Per column, ``"num"`` (right-aligned: every non-empty cell reads as a number) or
    ``"txt"``; the one alignment rule of the HTML and Word tables.

    Examples
    --------
    >>> alignments(pd.DataFrame({"arm": ["sham"], "ci": ["-1.2"], "p": ["<0.001"]}))
    ['txt', 'num', 'num']
    """
    return ["num" if _numeric(frame.iloc[:, i]) else "txt" for i in range(frame.shape[1])]


def grouped(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with a label repeated from the row above blanked in its leading text
    columns (the row groups a journal table prints once).

    A cell is blanked when it and every column before it equal the row above, in the
    text columns before the first numeric one.

    Examples
    --------
    >>> f = pd.DataFrame({"Arm": ["Sham", "Sham", "DN"], "Visit": ["1", "2", "1"]})
    >>> grouped(f)["Arm"].tolist()
    ['Sham', '', 'DN']
    """
    out = frame.copy()
    same = pd.Series(True, index=frame.index)
    for i in range(frame.shape[1] - 1):   # the last column is never a label of others
        col = frame.iloc[:, i].astype(str)
        if _numeric(frame.iloc[:, i]):
            break
        same = same & col.eq(col.shift())
        same.iloc[:1] = False
        out.iloc[:, i] = col.where(~same, "")
    return out


def frame_html(frame: pd.DataFrame, *, group: bool = False) -> str:
    """A DataFrame as an HTML table: numbers right-aligned (class ``num``), text left.

    Cells are written as they are (missing ones empty), so pass
    :meth:`TableResult.formatted` to apply the number and presentation rules. Shared
    ``"<group>: <column>"`` headers become a spanner row; ``group=True`` blanks
    repeated labels (:func:`grouped`).

    Examples
    --------
    >>> frame_html(pd.DataFrame({"arm": ["a"], "n": ["3"]})).count('class="num"')
    2
    >>> "colspan=\\"2\\"" in frame_html(pd.DataFrame(columns=["A: x", "A: y"]))
    True
    """
    align = alignments(frame)
    shown = grouped(frame) if group else frame
    spans = spanners(list(frame.columns))
    top = ""
    if any(g for g, _ in spans):
        cells, i = [], 0
        while i < len(spans):
            g = spans[i][0]
            j = i
            while j + 1 < len(spans) and g and spans[j + 1][0] == g:
                j += 1
            cells.append(f'<th class="span" colspan="{j - i + 1}">{_e(g)}</th>' if g
                         else "<th></th>")
            i = j + 1
        top = "<tr>" + "".join(cells) + "</tr>"
    head = "".join(f'<th class="{a}">{_e(c)}</th>' for (_, c), a in zip(spans, align))
    rows = "".join("<tr>" + "".join(f'<td class="{a}">{"" if _missing(v) else _e(v)}</td>'
                                    for v, a in zip(row, align)) + "</tr>"
                   for row in shown.itertuples(index=False, name=None))
    return (f'<div class="scroll"><table><thead>{top}<tr>{head}</tr></thead>'
            f"<tbody>{rows}</tbody></table></div>")


def notes_html(notes) -> str:
    """Notes as the ``<div class="notes">`` block under a table (empty when none)."""
    notes = list(notes)
    return ('<div class="notes">' + "".join(f"<p>{_e(n)}</p>" for n in notes) + "</div>"
            if notes else "")


def table_html(table: TableResult, *, caption: str | None = None,
               element_id: str | None = None, footer: str = "",
               notes: tuple[str, ...] | None = None) -> str:
    """A :class:`TableResult` as an HTML ``<figure>``: caption, table, notes.

    The notebook display and ``report.html`` both use it (the report numbers the
    caption, gives an ``id``, lists the files in ``footer``, raw HTML, and passes
    ``notes``: the table's own notes, those it shares with other tables of its section
    being printed once for the section).
    """
    caption = table.title if caption is None else caption
    ident = f' id="{_e(element_id)}"' if element_id else ""
    return (f'<figure class="table"{ident}>'
            + (f"<figcaption>{_e(caption)}</figcaption>" if caption else "")
            + frame_html(table.formatted(), group=True)
            + notes_html(table.notes if notes is None else notes)
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
    rule = "| " + " | ".join("---:" if _numeric(f.iloc[:, i]) else "---"
                             for i in range(f.shape[1])) + " |"
    body = ["| " + " | ".join(row) + " |" for row in f.astype(str).to_numpy().tolist()]
    parts = ([f"**{table.title}**", ""] if table.title else []) + [head, rule, *body]
    if table.notes:
        parts += [""] + [f"{note}" for note in table.notes]
    return "\n".join(parts)


_MINUS = re.compile(r"(?<![\w.])-(?=\d|\.\d)")


def _latex_cell(text: str, numeric: bool) -> str:
    r"""A cell escaped for LaTeX; in a numeric column a leading minus is a math minus."""
    out = latex_escape(text)
    return _MINUS.sub("$-$", out) if numeric else out


#: Headers longer than this many characters are set on two lines in LaTeX.
LATEX_HEADER_WIDTH = 14


def latex_header(text: str, align: str = "l") -> str:
    r"""A header cell for LaTeX: escaped, on two lines (a nested ``tabular``, no package
    needed) when longer than :data:`LATEX_HEADER_WIDTH` characters and it has a space;
    an arm's header always has its ``(n = 42)`` on the second line.

    Examples
    --------
    >>> latex_header("SE")
    'SE'
    >>> print(latex_header("Events per 100 appointments", "r"))
    \begin{tabular}[b]{@{}r@{}}Events per 100\\appointments\end{tabular}
    >>> print(latex_header("Sham (n = 42)", "r"))
    \begin{tabular}[b]{@{}r@{}}Sham\\(n = 42)\end{tabular}
    """
    text = str(text)
    words_ = text.split(" ")
    arm = re.fullmatch(r"(.+) (\(n = \d+\))", text)
    if arm:                      # every arm header alike: the label above its n
        first, second = arm.groups()
    elif len(text) <= LATEX_HEADER_WIDTH or len(words_) < 2:
        return latex_escape(text)
    else:
        cuts = [len(" ".join(words_[:i])) for i in range(1, len(words_))]
        at = min(range(len(cuts)), key=lambda i: abs(cuts[i] - len(text) / 2)) + 1
        first, second = " ".join(words_[:at]), " ".join(words_[at:])
    return (rf"\begin{{tabular}}[b]{{@{{}}{align}@{{}}}}{latex_escape(first)}\\"
            rf"{latex_escape(second)}\end{{tabular}}")


def table_latex(table: TableResult, *, label: str | None = None) -> str:
    r"""One table as a LaTeX ``table`` with booktabs rules (see :meth:`TableResult.to_latex`).

    Numeric columns are ``r`` (right-aligned), shared ``"<group>: <column>"`` headers
    become ``\multicolumn`` spanners with a ``\cmidrule``, labels repeated from the row
    above are blanked (:func:`grouped`), headers longer than
    :data:`LATEX_HEADER_WIDTH` characters take two lines (:func:`latex_header`), the
    table is ``\small`` and the notes follow it in ``\footnotesize``, flush left.
    ``label`` adds ``\label{label}`` after the caption.
    """
    f = table.formatted().astype(str)
    numeric = [_numeric(f.iloc[:, i]) for i in range(f.shape[1])]
    f = grouped(f)
    spans = spanners(list(f.columns))
    cols = "".join("r" if n else "l" for n in numeric)
    lines = [r"\begin{table}[ht]", r"\centering", r"\small"]
    if table.title:
        lines.append(rf"\caption{{{latex_escape(table.title)}}}")
    if label:
        lines.append(rf"\label{{{label}}}")
    lines += [rf"\begin{{tabular}}{{{cols}}}", r"\toprule"]
    if any(g for g, _ in spans):
        cells, rules, i = [], [], 0
        while i < len(spans):
            g = spans[i][0]
            j = i
            while j + 1 < len(spans) and g and spans[j + 1][0] == g:
                j += 1
            if g:
                cells.append(rf"\multicolumn{{{j - i + 1}}}{{c}}{{{latex_escape(g)}}}")
                rules.append(rf"\cmidrule(lr){{{i + 1}-{j + 1}}}")
            else:
                cells += [""] * (j - i + 1)
            i = j + 1
        lines += [" & ".join(cells) + r" \\", " ".join(rules)]
    lines += [" & ".join(latex_header(c, "r" if n else "l")
                         for (_, c), n in zip(spans, numeric)) + r" \\", r"\midrule"]
    lines += [" & ".join(_latex_cell(v, n) for v, n in zip(row, numeric)) + r" \\"
              for row in f.to_numpy().tolist()]
    lines += [r"\bottomrule", r"\end{tabular}"]
    if table.notes:
        lines.append(r"\par\smallskip\footnotesize\raggedright")
        lines += [latex_escape(note) + r"\par" for note in table.notes]
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
        The level of the table's CIs (their header: ``"95% CI"``).
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
    unit : str
        The unit of ``estimate`` (and a mean difference), printed in its header:
        ``"Estimate (mm)"``.
    labels : mapping of str to str
        Headers that replace the module's rule for this table, by column name (a
        merged interval is ``ci``, ``md_ci``...); ``{level}`` and ``{unit}`` are filled.
    arm_n : mapping of str to int
        Participants per arm: a header naming an arm reads ``"Dry needling (n = 42)"``.
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
    unit: str = ""
    labels: dict = field(default_factory=dict, repr=False)
    arm_n: dict = field(default_factory=dict, repr=False)

    def cells(self) -> pd.DataFrame:
        """The rendered columns with the number rule applied, as text, identifier names."""
        shown = self.table[list(self.columns)] if self.columns else self.table
        out = shown.copy()
        for i, col in enumerate(shown.columns):
            out.isetitem(i, format_column(col, shown.iloc[:, i], digits=self.digits,
                                          percent=self.percent,
                                          not_reached=col in self.not_reached))
        return out

    def formatted(self) -> pd.DataFrame:
        """The table as every human rendering prints it: :meth:`cells` with the
        presentation rules (``present``): human headers, one CI column, arm labels.

        Examples
        --------
        >>> t = TableResult(pd.DataFrame({"arm": ["sham"], "std_error": [1.0],
        ...                               "p_value": [0.2]}))
        >>> list(t.formatted().columns), t.formatted().iloc[0, 0]
        (['Arm', 'SE', 'p'], 'Sham')
        """
        return present(self, self.cells())

    def to_markdown(self) -> str:
        """GitHub-flavoured Markdown, title and notes included."""
        return table_markdown(self)

    def to_latex(self, *, label: str | None = None) -> str:
        r"""A LaTeX ``table`` with booktabs rules (needs ``\usepackage{booktabs}``).

        Text is escaped by :func:`~dryneedle_outcomes.export_safety.latex_escape`:
        special characters (backslash included) are escaped, ``≥ ≤ ± × ²`` and similar
        symbols become kernel math commands, and other non-ASCII text stays UTF-8:
        accented letters compile with pdflatex (add ``\usepackage[T1]{fontenc}``;
        ``\usepackage[utf8]{inputenc}`` before TeX Live 2018); Chinese, Japanese or
        Korean text needs xelatex/lualatex with ``xeCJK`` (see that module).

        Examples
        --------
        >>> t = TableResult(pd.DataFrame({"arm": ["sham_1"], "estimate": [-0.5]}),
        ...                 title="p ≥ 0.05", unit="mm")
        >>> print(t.to_latex())   # doctest: +NORMALIZE_WHITESPACE
        \begin{table}[ht]
        \centering
        \small
        \caption{p $\geq$ 0.05}
        \begin{tabular}{lr}
        \toprule
        Arm & Estimate (mm) \\
        \midrule
        Sham 1 & $-$0.50 \\
        \bottomrule
        \end{tabular}
        \end{table}
        """
        return table_latex(self, label=label)

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
