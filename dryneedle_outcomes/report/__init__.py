"""The run behind ``dryneedle-outcomes run``: analyses into sections, sections into files.

Modules: ``sections`` (what one analysis contributes: named tables, figures,
diagnostics, headline), ``analyses`` and ``trajectory`` (run what the configuration
names), ``figures`` (byte-reproducible PDF/PNG/SVG), ``html`` (the self-contained
``report.html``) and ``outputs`` (the output folder and ``manifest.json``).
"""

from .analyses import n_steps, run_analyses
from .outputs import write_run

__all__ = ["n_steps", "run_analyses", "write_run"]
