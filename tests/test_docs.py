"""The documentation site in docs/: it builds with warnings as errors, and what it shows
stays complete.

The tests marked ``docs`` share one run of ``sphinx-build -W --keep-going -n`` (the
``site`` fixture): a broken cross-reference, a public name without a docstring (numpydoc
GL08) or without a page, a reference folder without a validation row, or a notebook cell
that raises fails it. The build executes every notebook in ``notebooks/`` (myst-nb,
``nb_execution_mode = "force"``), so the default pytest run no longer collects them for
nbmake. The unmarked tests are quick checks of the sources.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import dryneedle_outcomes as dno

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    """The site built once for the tests below; the build's output when it fails."""
    tmp = tmp_path_factory.mktemp("docs")
    out = tmp / "html"
    command = [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-n", "-b", "html",
               "-d", str(tmp / "doctrees"), str(DOCS), str(out)]
    proc = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=1800,
                          env={**os.environ, "MPLBACKEND": "Agg"})
    assert proc.returncode == 0, (
        f"{' '.join(command)} failed:\n{proc.stdout[-4000:]}\n{proc.stderr[-20000:]}")
    return out


@pytest.mark.docs
def test_site_builds_without_warnings(site):
    assert (site / "index.html").exists()


@pytest.mark.docs
def test_every_public_name_has_a_page(site):
    # the build itself warns too (docs/_ext/dno_api.py); this checks the pages written
    missing = [name for name in dno.__all__ if name != "__version__"
               and not (site / "api" / "generated" / f"dryneedle_outcomes.{name}.html").exists()]
    assert missing == []


@pytest.mark.docs
@pytest.mark.parametrize("notebook", [nb.stem for nb in NOTEBOOKS])
def test_notebook_is_executed_on_its_page(site, notebook):
    page = (site / "notebooks" / f"{notebook}.html").read_text(encoding="utf-8")
    assert "cell_output" in page


@pytest.mark.docs
@pytest.mark.parametrize("notebook", ["00_quickstart", "07_plan_the_next_trial"])
def test_executed_notebooks_show_their_figures(site, notebook):
    # both draw figures (plt / .plot()); a kernel left on the Agg backend would draw
    # them off screen and the page would have none
    page = (site / "notebooks" / f"{notebook}.html").read_text(encoding="utf-8")
    assert "<img" in page and ".png" in page


@pytest.mark.docs
def test_validation_page_shows_the_achieved_agreement(site):
    page = (site / "validation.html").read_text(encoding="utf-8")
    assert page.count("largest relative difference") >= 6      # the engines


@pytest.mark.docs
@pytest.mark.parametrize("which", ["config", "mapping"])
def test_reference_pages_list_every_key_of_the_schema(site, which):
    from importlib import import_module

    page = (site / "guide" / f"{which}.html").read_text(encoding="utf-8")
    rows = import_module(f"dryneedle_outcomes.{which}").reference_rows()
    assert rows
    missing = [(r["table"], r["key"]) for r in rows
               if f"[{r['table']}]" not in page or f">{r['key']}<" not in page]
    assert missing == []


def test_notebooks_are_stored_without_outputs():
    assert NOTEBOOKS
    for notebook in NOTEBOOKS:
        cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
        code = [c for c in cells if c["cell_type"] == "code"]
        assert all(c.get("outputs") == [] and c.get("execution_count") is None
                   for c in code), f"{notebook.name} has outputs: clear them before commit"


def test_every_notebook_is_in_the_tutorials():
    text = (DOCS / "tutorials.md").read_text(encoding="utf-8")
    assert [nb.stem for nb in NOTEBOOKS if f"notebooks/{nb.stem}" not in text] == []


def test_gallery_shows_every_figure():
    gallery = (DOCS / "gallery.rst").read_text(encoding="utf-8")
    functions = [name for name in dno.plots.__all__ if name.startswith("plot_")]
    assert [f for f in functions if f not in gallery] == []
    # the results that draw a figure: those overriding the base's plot(), which raises
    from dryneedle_outcomes.results import AnalysisResult

    results = [name for name in dno.__all__
               if isinstance(getattr(dno, name), type)
               and getattr(getattr(dno, name), "plot", AnalysisResult.plot)
               is not AnalysisResult.plot]
    assert results, "no result class draws a figure"
    assert [r for r in results if f"{r}.plot" not in gallery] == []
