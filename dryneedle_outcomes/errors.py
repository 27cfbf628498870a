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


class DataValidationError(DryNeedleError, ValueError):
    """The input data break one or more validation rules.

    Attributes
    ----------
    problems : pandas.DataFrame
        One row per problem with columns ``table``, ``source``, ``row``, ``column``,
        ``value``, ``rule`` and ``message``. ``row`` is the row number as a person
        finds it in the source (spreadsheet-style: the header is row 1).
    """

    def __init__(self, problems: pd.DataFrame, *, max_listed: int = 20) -> None:
        import pandas as pd

        self.problems = problems.reset_index(drop=True)
        n = len(self.problems)
        lines = [f"{n} problem{'s' if n != 1 else ''} found in the input data:"]
        for rec in self.problems.head(max_listed).to_dict("records"):
            row = rec.get("row")
            where = f"{rec.get('source')}, row {row}" if pd.notna(row) else f"{rec.get('source')}"
            column = rec.get("column")
            col = f", column {column!r}" if isinstance(column, str) and column else ""
            lines.append(f"  - {where}{col}: [{rec.get('rule')}] {rec.get('message')}")
        if n > max_listed:
            lines.append(f"  ... and {n - max_listed} more (see .problems).")
        lines.append(
            "Fix the data or the mapping, or pass errors='quarantine' to keep going "
            "with these rows set aside in cohort.quality.rejected."
        )
        super().__init__("\n".join(lines))


class AnalysisError(DryNeedleError, ValueError):
    """An analysis cannot be run on the cohort given (e.g. no baseline, one arm)."""


class OutputFolderError(DryNeedleError, OSError):
    """An output folder cannot be written safely (it holds files we did not write, ...)."""


class DryNeedleWarning(UserWarning):
    """Base class of every warning issued by dryneedle_outcomes."""


class DataQualityWarning(DryNeedleWarning):
    """The data were loaded but something deserves a look (protocol deviations, ...)."""


class ConvergenceWarning(DryNeedleWarning):
    """A model fit did not converge cleanly."""
