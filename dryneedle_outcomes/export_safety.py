"""Exports that a spreadsheet or LaTeX cannot misread.

Spreadsheets run a cell that starts with ``=``, ``+``, ``-`` or ``@`` (and, in some,
a tab or carriage return) as a formula, so a patient note or an arm named
``=HYPERLINK(...)`` in a CSV becomes live code when the file is opened (CSV
injection, OWASP). :func:`neutralise_formulas` prefixes every such *text* value
with an apostrophe, wherever text can be: object and string columns, categorical
columns (arm names), column headers and index labels. A cell that reads as a plain
number (``-14.4``, ``+3``, ``-1e-5``) is not a formula and is left as it is.

:func:`write_excel` writes a DataFrame to XLSX with the same neutralisation and
with every text cell stored as text, so no cell of the workbook is a formula.

:func:`latex_escape` makes any text safe inside a LaTeX table: the ten special
characters are escaped in one pass (so the braces of ``\\textbackslash{}`` are not
escaped again), common symbols are mapped to commands that need no package
(``≥`` to ``$\\geq$``, ``±`` to ``$\\pm$``, ``−`` to ``-``, ``–`` to ``--``),
and other non-ASCII text is kept as UTF-8. Accented letters (é, ü, ñ) then compile
with pdflatex as it is installed since 2018 (UTF-8 input is the default; on older
systems add ``\\usepackage[utf8]{inputenc}``), best with ``\\usepackage[T1]{fontenc}``;
``°``, ``µ`` and similar text symbols need ``\\usepackage{textcomp}`` on LaTeX
releases before 2020. Chinese, Japanese or Korean text does not compile with
pdflatex: use xelatex or lualatex with ``\\usepackage{xeCJK}`` (or
``luatexja``), or ``\\usepackage{CJKutf8}`` around the table with pdflatex.

Examples
--------
>>> import pandas as pd
>>> frame = pd.DataFrame({"arm": pd.Categorical(["=1+1", "sham"]),
...                       "@note": ["-14.4", "-x"]})
>>> out = neutralise_formulas(frame)
>>> list(out.columns), out["arm"].tolist(), out["'@note"].tolist()
(['arm', "'@note"], ["'=1+1", 'sham'], ['-14.4', "'-x"])
>>> latex_escape(r"p ≥ 0.05 & 50% of C:\\temp_{x}")
'p $\\\\geq$ 0.05 \\\\& 50\\\\% of C:\\\\textbackslash{}temp\\\\_\\\\{x\\\\}'
"""

from __future__ import annotations

import re
import zipfile
from datetime import datetime
from pathlib import Path

import pandas as pd

#: First characters that make a spreadsheet cell a formula (OWASP CSV injection).
FORMULA_START = re.compile(r"^[=+\-@\t\r]")
#: A plain decimal number or percentage ("-28.3%"), which no spreadsheet runs as a formula.
PLAIN_NUMBER = re.compile(r"^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?%?$")

#: LaTeX's special characters and what to write instead.
LATEX_SPECIAL = {
    "\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#",
    "_": r"\_", "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\^{}",
    "<": r"\textless{}", ">": r"\textgreater{}",
}
#: Non-ASCII symbols mapped to commands of the LaTeX kernel (no package needed).
LATEX_SYMBOLS = {
    "≥": r"$\geq$", "≤": r"$\leq$", "±": r"$\pm$", "×": r"$\times$", "÷": r"$\div$",
    "−": "-", "–": "--", "—": "---", "≠": r"$\neq$", "≈": r"$\approx$",
    "→": r"$\rightarrow$", "←": r"$\leftarrow$", "↑": r"$\uparrow$", "↓": r"$\downarrow$",
    "∞": r"$\infty$", "α": r"$\alpha$", "β": r"$\beta$", "χ": r"$\chi$", "κ": r"$\kappa$",
    "µ": r"$\mu$", "μ": r"$\mu$", "σ": r"$\sigma$", "°": r"$^{\circ}$", "·": r"$\cdot$",
    "…": r"\ldots{}", "‘": "`", "’": "'", "“": "``", "”": "''", "\u00a0": "~",
    "²": r"$^{2}$", "³": r"$^{3}$", "½": r"$\frac{1}{2}$",
}
_LATEX_PATTERN = re.compile(
    "|".join(re.escape(k) for k in sorted({**LATEX_SPECIAL, **LATEX_SYMBOLS}, key=len,
                                          reverse=True)))


#: A unit's power written with a caret ("kg/m^2", "cm^3"): set as a superscript.
_UNIT_POWER = re.compile(r"(?<=[A-Za-z])\^([23])(?![0-9])")


def is_formula_text(value) -> bool:
    """True for a text value a spreadsheet would run as a formula.

    Examples
    --------
    >>> is_formula_text("=SUM(A1)"), is_formula_text("-14.4"), is_formula_text(-3.0)
    (True, False, False)
    """
    return (isinstance(value, str) and FORMULA_START.match(value) is not None
            and PLAIN_NUMBER.match(value) is None)


def _label(value):
    return "'" + value if is_formula_text(value) else value


def _neutralise_index(index: pd.Index) -> pd.Index:
    if isinstance(index, pd.MultiIndex):
        levels = [_neutralise_index(level) for level in index.levels]
        return index.set_levels(levels).set_names([_label(n) for n in index.names])
    if index.dtype == object or isinstance(index.dtype, (pd.StringDtype, pd.CategoricalDtype)):
        return pd.Index([_label(v) for v in index], name=_label(index.name),
                        dtype=object)
    return index.rename(_label(index.name))


def _neutralise_values(values: pd.Series) -> pd.Series:
    if isinstance(values.dtype, pd.CategoricalDtype):
        cats = values.cat.categories
        new = [_label(c) for c in cats]
        if new == list(cats):
            return values
        if len(set(new)) == len(new):
            return values.cat.rename_categories(new)
        values = values.astype(object)
    if values.dtype != object and not isinstance(values.dtype, pd.StringDtype):
        return values
    values = values.astype(object)
    kind = pd.api.types.infer_dtype(values, skipna=True)
    if kind == "string":            # every value present is text: no per-cell type check
        is_text = values.notna()
    elif kind in ("mixed", "mixed-integer", "unknown-array"):
        is_text = values.map(lambda v: isinstance(v, str)).astype(bool)
    else:                           # numbers, dates, booleans, bytes, empty: no text
        return values
    text = values.where(is_text, "").astype(str)
    candidate = text.str.slice(0, 1).isin(list("=+-@\t\r"))
    if not candidate.any():
        return values
    risky = candidate & ~text.str.match(PLAIN_NUMBER.pattern)
    if not risky.any():
        return values
    return values.mask(risky, "'" + text)


def neutralise_formulas(frame: pd.DataFrame) -> pd.DataFrame:
    """Prefix text a spreadsheet would run as a formula with an apostrophe.

    Every text value is checked: cells of object, string and categorical columns,
    column headers and index labels (names included). Text that starts with ``=``,
    ``+``, ``-``, ``@``, a tab or a carriage return is prefixed with ``'``, unless it
    reads as a plain number (``-14.4`` stays ``-14.4``). Numbers, dates and missing
    values are untouched, and the input is not modified.

    Parameters
    ----------
    frame : pandas.DataFrame

    Returns
    -------
    pandas.DataFrame
        A copy, safe to write as CSV or XLSX.

    Examples
    --------
    >>> neutralise_formulas(pd.DataFrame({"a": ["=1+1", "ok", None]}))["a"].tolist()
    ["'=1+1", 'ok', None]
    >>> neutralise_formulas(pd.DataFrame({"delta": ["-14.4", "+2", "-2+3", "-28.3%"]}))[
    ...     "delta"].tolist()
    ['-14.4', '+2', "'-2+3", '-28.3%']
    """
    out = frame.copy()
    out.columns = _neutralise_index(out.columns)
    out.index = _neutralise_index(out.index)
    for i in range(out.shape[1]):
        column = out.iloc[:, i]
        new = _neutralise_values(column)
        if new is not column:
            out.isetitem(i, new)
    return out


def write_excel(frame: pd.DataFrame, path: str | Path, *, sheet_name: str = "table",
                index: bool = False, timestamp: datetime | None = None) -> Path:
    """Write ``frame`` as an XLSX workbook in which no cell is a formula.

    Text is neutralised as :func:`neutralise_formulas` does (the same file reads the
    same as the CSV export), and every cell is then stored as a value, never as a
    formula.

    Parameters
    ----------
    frame : pandas.DataFrame
    path : str or Path
    sheet_name : str
    index : bool
        Write the index too.
    timestamp : datetime, optional
        The creation and modification time written into the workbook (its document
        properties and every member of the zip archive) instead of the current time:
        the same data then give the same bytes (a run's outputs are hashed).

    Returns
    -------
    Path

    Examples
    --------
    >>> import tempfile, openpyxl
    >>> path = Path(tempfile.mkdtemp()) / "t.xlsx"
    >>> _ = write_excel(pd.DataFrame({"=x": ["=1+1"]}), path)
    >>> [c.data_type for c in openpyxl.load_workbook(path).active[1]]
    ['s']
    """
    path = Path(path)
    safe = neutralise_formulas(frame)
    with pd.ExcelWriter(path, engine="openpyxl") as writer:
        safe.to_excel(writer, sheet_name=sheet_name, index=index)
        for row in writer.sheets[sheet_name].iter_rows():
            for cell in row:
                if cell.data_type == "f":   # text openpyxl would store as a formula
                    cell.data_type = "s"
    if timestamp is not None:
        stamp_xlsx(path, timestamp)
    return path


_CORE_TIMES = re.compile(r"(<dcterms:(created|modified)\b[^>]*>)[^<]*(</dcterms:\2>)")


def stamp_xlsx(path: str | Path, timestamp: datetime) -> Path:
    """Rewrite the workbook at ``path`` with ``timestamp`` as its only time.

    Its creation and modification times (``docProps/core.xml``) and the time of every
    member of its zip archive are set to ``timestamp``, so the same data give the same
    bytes.

    Examples
    --------
    >>> import tempfile, zipfile
    >>> path = Path(tempfile.mkdtemp()) / "t.xlsx"
    >>> _ = write_excel(pd.DataFrame({"a": [1]}), path, timestamp=datetime(2000, 1, 1))
    >>> {i.date_time for i in zipfile.ZipFile(path).infolist()}
    {(2000, 1, 1, 0, 0, 0)}
    """
    path = Path(path)
    when = timestamp.strftime("%Y-%m-%dT%H:%M:%SZ")
    with zipfile.ZipFile(path) as archive:
        members = [(info, archive.read(info)) for info in archive.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for info, data in members:
            if info.filename == "docProps/core.xml":
                data = _CORE_TIMES.sub(lambda m: m.group(1) + when + m.group(3),
                                       data.decode("utf-8")).encode("utf-8")
            stamped = zipfile.ZipInfo(info.filename, date_time=timestamp.timetuple()[:6])
            stamped.compress_type = info.compress_type
            stamped.external_attr = info.external_attr
            archive.writestr(stamped, data)
    return path


def latex_escape(text) -> str:
    r"""``text`` made safe inside a LaTeX document (see the module docstring).

    Examples
    --------
    >>> print(latex_escape(r"a\b {c} 100% ± 2 ≤ 3"))
    a\textbackslash{}b \{c\} 100\% $\pm$ 2 $\leq$ 3
    >>> print(latex_escape("Réponse 患者"))   # kept as UTF-8
    Réponse 患者
    >>> print(latex_escape("BMI, kg/m^2"), latex_escape("kg/m²"))   # unit powers
    BMI, kg/m$^{2}$ kg/m$^{2}$
    """
    text = _UNIT_POWER.sub(lambda m: "²" if m.group(1) == "2" else "³", str(text))
    return _LATEX_PATTERN.sub(lambda m: LATEX_SPECIAL.get(m.group(0))
                              or LATEX_SYMBOLS[m.group(0)], text)
