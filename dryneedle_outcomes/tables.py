"""Tables for papers: one DataFrame, rendered the same way as text, Markdown, LaTeX, HTML.

Every table-shaped result of the package (adverse-event rates, responders, the
baseline table) is a :class:`TableResult` or subclasses it. Rounding is one rule for
all renderings: estimates and intervals to ``digits`` decimals, proportions as
percentages with one decimal when ``percent=True``, p-values as ``<0.001`` below
0.001 and with 3 decimals otherwise. The DataFrame itself is never rounded.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .export_safety import latex_escape, neutralise_formulas, write_excel

P_COLUMNS = ("p_value",)
INTERVAL_COLUMNS = ("estimate", "ci_lower", "ci_upper", "std_error")


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
    """

    table: pd.DataFrame
    title: str = ""
    notes: tuple[str, ...] = ()
    conf_level: float = 0.95
    digits: int = 2
    percent: bool = False
    extra: dict = field(default_factory=dict, repr=False)

    def formatted(self) -> pd.DataFrame:
        """The table with the rounding rule applied, as text."""
        out = self.table.copy()
        for col in out.columns:
            values = out[col]
            if col in P_COLUMNS:
                out[col] = [format_p(v) for v in values]
            elif pd.api.types.is_float_dtype(values):
                if self.percent and col in INTERVAL_COLUMNS:
                    out[col] = [f"{100 * v:.1f}%" if np.isfinite(v) else "" for v in values]
                else:
                    out[col] = [f"{v:.{self.digits}f}" if np.isfinite(v) else "" for v in values]
        return out

    def to_markdown(self) -> str:
        """GitHub-flavoured Markdown, title and notes included."""
        f = self.formatted().astype(str)
        head = "| " + " | ".join(map(str, f.columns)) + " |"
        rule = "| " + " | ".join("---" for _ in f.columns) + " |"
        body = ["| " + " | ".join(row) + " |" for row in f.to_numpy().tolist()]
        parts = ([f"**{self.title}**", ""] if self.title else []) + [head, rule, *body]
        if self.notes:
            parts += [""] + [f"{note}" for note in self.notes]
        return "\n".join(parts)

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
        f = self.formatted().astype(str)
        esc = latex_escape
        cols = "l" * len(f.columns)
        lines = [r"\begin{table}[ht]", r"\centering"]
        if self.title:
            lines.append(rf"\caption{{{esc(self.title)}}}")
        lines += [rf"\begin{{tabular}}{{{cols}}}", r"\toprule",
                  " & ".join(esc(str(c)) for c in f.columns) + r" \\", r"\midrule"]
        lines += [" & ".join(esc(v) for v in row) + r" \\" for row in f.to_numpy().tolist()]
        lines += [r"\bottomrule", r"\end{tabular}"]
        for note in self.notes:
            lines.append(rf"\par\footnotesize {esc(note)}")
        lines.append(r"\end{table}")
        return "\n".join(lines)

    def to_html(self) -> str:
        """An HTML fragment (title, table, notes)."""
        title = f"<p><strong>{html.escape(self.title)}</strong></p>" if self.title else ""
        notes = "".join(f"<p><small>{html.escape(n)}</small></p>" for n in self.notes)
        return f"<div>{title}{self.formatted().to_html(index=False)}{notes}</div>"

    def _repr_html_(self) -> str:
        return self.to_html()

    def summary(self) -> str:
        """Plain text: title, the formatted table and the notes."""
        parts = [self.title] if self.title else []
        parts.append(self.formatted().to_string(index=False))
        parts += list(self.notes)
        return "\n".join(parts)

    def __str__(self) -> str:
        return self.summary()

    def to_csv(self, path: str | Path) -> Path:
        """Write the unrounded table as CSV, text neutralised against formulas (cells,
        categorical columns and headers; see
        :func:`~dryneedle_outcomes.export_safety.neutralise_formulas`)."""
        path = Path(path)
        neutralise_formulas(self.table).to_csv(path, index=False)
        return path

    def to_excel(self, path: str | Path, sheet_name: str = "table") -> Path:
        """Write the unrounded table as XLSX: text neutralised as in :meth:`to_csv`
        (headers and categorical columns included) and no cell stored as a formula."""
        return write_excel(self.table, path, sheet_name=sheet_name)
