"""Sphinx configuration of the dryneedle_outcomes documentation site.

Built with warnings as errors (``sphinx-build -W --keep-going -n -b html docs OUT``, run
by ``tests/test_docs.py``): a broken cross-reference, a public name without a docstring
or without a page, or a notebook cell that raises fails the build.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import matplotlib

# This process (the gallery, the plot directive) draws to files: Agg. The notebooks'
# kernels, started by myst-nb from this process, must not inherit MPLBACKEND=Agg (the
# tests export it), or ipykernel keeps Agg instead of its inline backend and the
# executed notebooks show no figure.
matplotlib.use("Agg")
os.environ.pop("MPLBACKEND", None)

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "_ext"))

import dryneedle_outcomes  # noqa: E402

project = "dryneedle_outcomes"
author = "dryneedle_outcomes developers"
copyright = "dryneedle_outcomes developers"  # noqa: A001
release = dryneedle_outcomes.__version__
version = release

extensions = [
    "dno_api",                     # docs/_ext: the API page from dryneedle_outcomes.__all__
    "dno_reference",               # docs/_ext: config and mapping tables from the schema
    "dno_validation",              # docs/_ext: the validation table from tests/reference/
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "numpydoc",
    "myst_nb",
    "matplotlib.sphinxext.plot_directive",
]

source_suffix = {".rst": "restructuredtext", ".md": "myst-nb", ".ipynb": "myst-nb"}
exclude_patterns = ["_build", "**.ipynb_checkpoints", "_ext", "_templates/**"]
templates_path = ["_templates"]
root_doc = "index"

# -- cross-references: every one must resolve ------------------------------------------
nitpicky = True
# Third-party types only. The site is built without network access (CI has none), so
# intersphinx cannot resolve numpy's, pandas', matplotlib's or the standard library's
# objects; their names appear in signatures and stay plain text. Nothing of this
# package may be listed here.
nitpick_ignore_regex = [
    ("py:class", r"(numpy|np|pandas|pd|matplotlib|mpl|scipy)(\..+)?"),
    ("py:class", r"(pathlib\.)?Path|os\.PathLike|PathLike"),
    ("py:class", r"(collections\.abc|typing)\..+"),
    ("py:class", r"(datetime|types|enum|dataclasses|abc)\..+"),
]

# -- API reference ---------------------------------------------------------------------
autosummary_generate = True
autosummary_imported_members = True
autosummary_ignore_module_all = False
autodoc_default_options = {"show-inheritance": True}
autodoc_typehints = "signature"
autodoc_preserve_defaults = False
autodoc_member_order = "bysource"

numpydoc_show_class_members = False      # the class template lists them (autosummary)
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False
numpydoc_attributes_as_param_list = True
# Every documented public object must have a docstring (GL08); private names and the
# dunder methods Python supplies are not documented.
numpydoc_validation_checks = {"GL08"}
numpydoc_validation_exclude = {r"\._[^.]*$", r"\.__[a-z_]+__$"}

# -- notebooks -------------------------------------------------------------------------
# The notebooks are stored without outputs; every build runs them top to bottom and
# fails on the first cell that raises (they replace the separate nbmake run).
nb_execution_mode = "force"
nb_execution_raise_on_error = True
nb_execution_timeout = 300
nb_execution_show_tb = True
nb_merge_streams = True
myst_enable_extensions = ["colon_fence", "dollarmath"]
myst_heading_anchors = 3

# -- the figure gallery (matplotlib's plot directive) --------------------------------
plot_include_source = True
plot_html_show_source_link = False
plot_html_show_formats = False
plot_formats = [("png", 150)]
plot_rcparams = {"savefig.bbox": "tight"}   # the figures are a journal column wide
plot_pre_code = "import matplotlib.pyplot as plt\nimport dryneedle_outcomes as dno\n"

# -- HTML ------------------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = "dryneedle_outcomes"
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "footer_start": ["copyright"],
    "footer_end": ["sphinx-version"],
}
html_static_path: list[str] = []
# no left navigation on pages without sub-pages; the wide validation table gets the
# whole width
html_sidebars = {page: [] for page in ("index", "installation", "gallery", "validation",
                                      "changelog", "architecture")}
html_theme_options["secondary_sidebar_items"] = {"validation": [], "**": ["page-toc",
                                                                         "sourcelink"]}
html_last_updated_fmt = None


def _factory_defaults(app, what, name, obj, options, signature, return_annotation):
    """Show a dataclass field's ``default_factory`` default as ``...``: Python prints it
    as ``<factory>``, which is not Python syntax, so Sphinx could not parse the
    signature and would split ``tuple[str, ...]`` at its comma."""
    if signature and "<factory>" in signature:
        signature = signature.replace("<factory>", "...")
    return signature, return_annotation


def setup(app):
    """Connect the signature fix above."""
    app.connect("autodoc-process-signature", _factory_defaults)
