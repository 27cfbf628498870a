"""One family of exceptions and one family of warnings for the whole package.

Every error the package raises on purpose subclasses :class:`DryNeedleError`, so
``except dno.DryNeedleError`` catches all of them; every warning subclasses
:class:`DryNeedleWarning`, so one ``warnings.filterwarnings`` line controls them.

Examples
--------
>>> import dryneedle_outcomes as dno
>>> issubclass(dno.DataValidationError, dno.DryNeedleError)
True
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pandas is imported when a DataValidationError is made, not at start
    import pandas as pd

PROBLEM_COLUMNS = ("table", "source", "row", "column", "value", "rule", "message")


class DryNeedleError(Exception):
    """Base class of every error raised by dryneedle_outcomes."""


class MappingError(DryNeedleError, ValueError):
    """A mapping (dict or TOML file) is malformed: unknown key, wrong type, missing column."""


class ConfigError(DryNeedleError, ValueError):
    """An analysis configuration is malformed."""


class ReadError(DryNeedleError, OSError):
    """A file cannot be read: missing, empty, binary, unknown format or encoding.

    Parameters
    ----------
    message : str
        What went wrong and what to do about it.
    source : str, optional
        The file the error is about.
    """

    def __init__(self, message: str, *, source: str | None = None) -> None:
        super().__init__(message)
        self.source = source


class InputLimitError(ReadError):
    """A file is larger than a configured reading limit (see ``dno.ReadLimits``).

    Raised before the whole content is held in memory, e.g. for a gzip or XLSX
    "bomb" that would expand to gigabytes.
    """


#: Rules that ``errors="quarantine"`` cannot help with: the hint does not suggest it.
STRUCTURAL_RULES = frozenset({"missing_required_column"})

#: How the final line of a DataValidationError tells a Python user to keep going.
PYTHON_QUARANTINE_HINT = (
    "pass errors='quarantine' to keep going with these rows set aside in "
    "cohort.quality.rejected"
)


def config_quarantine_hint(config_file: str | None = None) -> str:
    """The quarantine hint for a user running from an analysis configuration file.

    Examples
    --------
    >>> print(config_quarantine_hint("analysis.toml"))  # doctest: +NORMALIZE_WHITESPACE
    set errors = "quarantine" under [data] in analysis.toml to keep going with these
    rows set aside in quality/rejected.csv
    """
    where = f" in {config_file}" if config_file else " of the configuration file"
    return (f'set errors = "quarantine" under [data]{where} to keep going with these rows '
            "set aside in quality/rejected.csv")


class DataValidationError(DryNeedleError, ValueError):
    """The input data break one or more validation rules.

    Parameters
    ----------
    problems : pandas.DataFrame
        One row per problem (columns below).
    max_listed : int, default 20
        How many problems the message lists.
    notes : list of str, optional
        Lines printed above the list (e.g. "most of a column was rejected").
    quarantine_hint : str, optional
        How the user switches to quarantine where they are (a Python argument by
        default; the TOML key for a configuration run). Never shown when every
        problem is structural (a missing column), since quarantine cannot help.

    Attributes
    ----------
    problems : pandas.DataFrame
        One row per problem with columns ``table``, ``source``, ``row``, ``column``,
        ``value``, ``rule`` and ``message``. ``row`` is the row number as a person
        finds it in the source (spreadsheet-style: the header is row 1).
    """

    def __init__(self, problems: pd.DataFrame, *, max_listed: int = 20,
                 notes: list[str] | None = None, quarantine_hint: str | None = None) -> None:
        import pandas as pd

        self.problems = problems.reset_index(drop=True)
        n = len(self.problems)
        lines = list(notes or [])
        lines.append(f"{n} problem{'s' if n != 1 else ''} found in the input data:")
        for rec in self.problems.head(max_listed).to_dict("records"):
            row = rec.get("row")
            where = f"{rec.get('source')}, row {row}" if pd.notna(row) else f"{rec.get('source')}"
            column = rec.get("column")
            col = f", column {column!r}" if isinstance(column, str) and column else ""
            lines.append(f"  - {where}{col}: [{rec.get('rule')}] {rec.get('message')}")
        if n > max_listed:
            lines.append(f"  ... and {n - max_listed} more (see .problems).")
        rules = set(self.problems["rule"]) if "rule" in self.problems else set()
        if rules and rules <= STRUCTURAL_RULES:
            lines.append("Fix the mapping or the file: loading cannot go on without the "
                         "column (setting rows aside would not help).")
        else:
            hint = quarantine_hint or PYTHON_QUARANTINE_HINT
            lines.append(f"Fix the data or the mapping, or {hint}.")
        super().__init__("\n".join(lines))


class AnalysisError(DryNeedleError, ValueError):
    """An analysis cannot be run on the cohort given (e.g. no baseline, one arm)."""


class OutputFolderError(DryNeedleError, OSError):
    """An output folder cannot be written safely (it holds files we did not write, ...)."""


class DryNeedleWarning(UserWarning):
    """Base class of every warning issued by dryneedle_outcomes."""


class DataQualityWarning(DryNeedleWarning):
    """The data were loaded but something deserves a look (protocol deviations, ...)."""


class ImplausibleScaleWarning(DataQualityWarning):
    """A declared scale that the data contradict (e.g. ``mm`` declared, values all 0-10)."""


class MostlyRejectedWarning(DataQualityWarning):
    """Most values of a column were rejected by one rule (a wrong scale, decimal mark...)."""


class ConvergenceWarning(DryNeedleWarning):
    """A model fit did not converge cleanly."""


class UnpooledInstrumentWarning(DataQualityWarning):
    """An analysis of a VAS leaves out rows scored on its NRS alternative (not pooled).

    The NRS is its own instrument; it joins the VAS only when the mapping says
    ``pool_as`` (:mod:`dryneedle_outcomes.pooling`). The message names the rows, patients
    and sites left out.
    """
