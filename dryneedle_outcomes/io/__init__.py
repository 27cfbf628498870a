"""Reading raw input files (CSV/TSV/XLSX/Parquet/SPSS/Stata) into :class:`RawTable`."""

from dryneedle_outcomes.io.readers import RawTable, read_table

__all__ = ["RawTable", "read_table"]
