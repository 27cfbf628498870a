"""Reading raw input files (CSV/TSV/XLSX/Parquet/SPSS/Stata) into :class:`RawTable`."""

from dryneedle_outcomes.io.raw_table import RawTable
from dryneedle_outcomes.io.readers import read_table

__all__ = ["RawTable", "read_table"]
