"""Sphinx extension: the API reference, written from ``dryneedle_outcomes.__all__``.

At ``config-inited`` (before Sphinx looks for source files) it writes ``docs/api/``
(git-ignored): ``index.rst`` with one autosummary table per topic, each public name a
page of its own (a class's page documents its members); the pages of the public
constants (their ``#:`` comment where they are defined) and of the subpackages
(``dno.plots``: their own functions get pages, names shared with the top level are
linked); and a section for the package's types that public signatures use but
``__all__`` does not name, found from the type hints, plus the helpers listed in
:data:`REFERENCED`. Topics come from the module that defines a name; a name from a
module not in ``TOPICS`` lands under "Other" rather than being left out.

At ``env-check-consistency`` it warns (an error under ``-W``) for every name in
``__all__`` without a page and every public constant without a ``#:`` comment, so a
public name cannot go undocumented (numpydoc's GL08 check covers the docstrings of the
functions, classes and their members). At ``missing-reference`` it resolves a Python
reference that names a public object as its own module sees it (``fit_trajectory`` in
``plots/forest.py``) to its page, ``dryneedle_outcomes.fit_trajectory``; anything else
stays a broken reference and fails the build.
"""

from __future__ import annotations

import inspect
import types
from pathlib import Path

PACKAGE = "dryneedle_outcomes"

#: (title, the modules whose public names it shows), in page order. A module matches by
#: prefix: ``harms`` covers ``harms.rates``.
TOPICS = [
    ("Loading a cohort", ("load", "io", "mapping", "instruments", "simulate")),
    ("The cohort and its quality ledger", ("cohort", "quality")),
    ("Subgroups and multiplicity", ("multiplicity", "models.subgroups",
                                    "models.subgroup_result")),
    ("Pain trajectories", ("models",)),
    ("Time to relief and soreness", ("survival",)),
    ("Harms, responders and Table 1", ("harms", "responders", "baseline_table")),
    ("Estimands and populations", ("estimands",)),
    ("Figures", ("plots",)),
    ("Errors and warnings", ("errors",)),
]


def _defining_module(name: str, obj) -> str:
    """The module (relative to the package) that a public name comes from."""
    if isinstance(obj, types.ModuleType):
        return obj.__name__.removeprefix(PACKAGE + ".")
    module = getattr(obj, "__module__", None) if (inspect.isclass(obj)
                                                  or inspect.isroutine(obj)) else None
    if module is None:
        import dryneedle_outcomes as dno

        module = PACKAGE + "." + dno._SOURCES.get(name, "")
    return module.removeprefix(PACKAGE + ".").rstrip(".")


def _topic(module: str) -> str:
    for title, prefixes in TOPICS:
        if any(module == p or module.startswith(p + ".") for p in prefixes):
            return title
    return "Other"


#: Internal objects that public docstrings refer to by name (types that appear in
#: public signatures are found by :func:`supporting_types` itself). Import paths.
REFERENCED = [
    "dryneedle_outcomes.io.limits.DEFAULT_LIMITS",
    "dryneedle_outcomes.io.redcap.default_event_visits",
    "dryneedle_outcomes.responders.number_needed_to_treat",
    "dryneedle_outcomes.export_safety.latex_escape",
    "dryneedle_outcomes.export_safety.neutralise_formulas",
    "dryneedle_outcomes.io.readers.CORRECTION_COLUMNS",
    "dryneedle_outcomes.io.readers.SET_ASIDE_COLUMNS",
    "dryneedle_outcomes.simulate.SimulationParameters",
    "dryneedle_outcomes.simulate.write_raw_exports",
    "dryneedle_outcomes.results.DEFAULT_SEED",
    "dryneedle_outcomes.tables.MEDIAN_COLUMNS",
    "dryneedle_outcomes.timing.VisitRatings",
    "dryneedle_outcomes.timing.visit_ratings",
    "dryneedle_outcomes.timing.visit_after_sessions",
]



def _hinted_classes(obj) -> set[type]:
    """Classes of this package named in ``obj``'s type hints (nested ones included)."""
    import typing

    try:
        hints = typing.get_type_hints(obj)
    except (NameError, TypeError):   # a hint naming what the module does not import
        return set()
    found: set[type] = set()
    stack = list(hints.values())
    while stack:
        hint = stack.pop()
        stack.extend(typing.get_args(hint))
        if inspect.isclass(hint) and hint.__module__.startswith(PACKAGE + "."):
            found.add(hint)
    return found


def supporting_types() -> list[tuple[str, str]]:
    """``(module, qualified name)`` of the package's classes that public signatures use
    but ``__all__`` does not name, found from the type hints (transitively), plus the
    objects in :data:`REFERENCED`."""
    import importlib

    import dryneedle_outcomes as dno

    public = {id(getattr(dno, n)) for n in public_names()}
    todo = [getattr(dno, n) for n in public_names()]
    seen: set[int] = set()
    found: dict[int, object] = {}
    while todo:
        obj = todo.pop()
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        targets = [obj]
        if inspect.isclass(obj):
            for base in obj.__mro__[1:]:      # "Bases:" links to the package's bases
                if base.__module__.startswith(PACKAGE + ".") and id(base) not in public:
                    found[id(base)] = base
                    todo.append(base)
            targets += [m for k, m in vars(obj).items()
                        if not k.startswith("_") and inspect.isfunction(m)]
            targets += [m.fget for k, m in vars(obj).items()
                        if not k.startswith("_") and isinstance(m, property)]
        elif isinstance(obj, types.ModuleType):
            targets = [getattr(obj, m) for m in getattr(obj, "__all__", [])]
            todo.extend(targets)
            continue
        for target in targets:
            if not callable(target) and not inspect.isclass(target):
                continue
            for cls in _hinted_classes(target):
                if id(cls) not in public:
                    found[id(cls)] = cls
                    todo.append(cls)
    rows = {(c.__module__, c.__qualname__) for c in found.values()}
    for path in REFERENCED:
        module, _, name = path.rpartition(".")
        obj = getattr(importlib.import_module(module), name)
        home = obj.__module__ if callable(obj) else _data_home(obj, name, module)
        rows.add((home, name))
    return sorted(rows)


def _data_home(obj, name: str, module: str) -> str:
    """The module whose source assigns constant ``name`` with a ``#:`` comment (a module
    may re-export it from another one, where autodoc would not find the comment)."""
    import importlib
    import pkgutil

    from sphinx.pycode import ModuleAnalyzer

    import dryneedle_outcomes as dno

    candidates = [module] + [m.name for m in pkgutil.walk_packages(dno.__path__, PACKAGE + ".")]
    for candidate in candidates:
        try:
            mod = importlib.import_module(candidate)
        except ImportError:       # an optional dependency's module: not documented here
            continue
        if getattr(mod, name, None) is obj and (
                ("", name) in ModuleAnalyzer.for_module(candidate).find_attr_docs()):
            return candidate
    return module


def public_names() -> list[str]:
    """``dryneedle_outcomes.__all__`` without ``__version__`` (a string, shown in the title)."""
    import dryneedle_outcomes as dno

    return [n for n in dno.__all__ if n != "__version__"]


def page_text() -> str:
    """The reStructuredText of the API page."""
    import dryneedle_outcomes as dno

    groups: dict[str, list[str]] = {}
    data: dict[str, list[str]] = {}
    modules: list[str] = []
    for name in public_names():
        obj = getattr(dno, name)
        if isinstance(obj, types.ModuleType):
            modules.append(name)
        elif _is_data(obj):
            data.setdefault(_topic(_defining_module(name, obj)), []).append(name)
        else:
            groups.setdefault(_topic(_defining_module(name, obj)), []).append(name)
    lines = [
        ".. This file is written by docs/_ext/dno_api.py at every build; do not edit.",
        "",
        "API reference",
        "=============",
        "",
        ".. currentmodule:: dryneedle_outcomes",
        "",
        "Every name in ``dryneedle_outcomes.__all__`` (version "
        f"``{dno.__version__}``), by topic. Import the package as ``import "
        "dryneedle_outcomes as dno``; everything below is ``dno.<name>``.",
        "",
    ]
    order = [t for t, _ in TOPICS] + ["Other"]
    for title in order:
        if title not in groups and title not in data:
            continue
        lines += [title, "-" * len(title), ""]
        if title in groups:
            lines += [".. autosummary::", "   :toctree: generated", "   :nosignatures:", ""]
            lines += [f"   {n}" for n in sorted(groups[title], key=str.lower)]
            lines.append("")
        if title in data:   # pages written by write_pages (data_page_text)
            lines += [f"- :data:`{n}`: {first_sentence(n)}" for n in sorted(data[title])]
            lines += ["", ".. toctree::", "   :hidden:", ""]
            lines += [f"   generated/{PACKAGE}.{n}" for n in sorted(data[title])]
            lines.append("")
    support = supporting_types()
    if support:
        title = "Types and helpers used above"
        lines += [title, "-" * len(title), "",
                  "Not in ``__all__``: the types that the signatures above accept or "
                  "return, and the helpers their docstrings refer to.", ""]
        for module in sorted({m for m, _ in support}):
            lines += [f".. currentmodule:: {module}", "", ".. autosummary::",
                      "   :toctree: generated", "   :nosignatures:", ""]
            lines += [f"   {q}" for m, q in support if m == module]
            lines.append("")
        lines += [".. currentmodule:: dryneedle_outcomes", ""]
    if modules:
        title = "Subpackages"
        lines += [title, "-" * len(title), "",
                  "Reachable as attributes (``dno.plots``, ...).", "",
                  ".. toctree::", "   :maxdepth: 1", ""]
        lines += [f"   generated/{PACKAGE}.{n}" for n in sorted(modules)]
        lines.append("")
    return "\n".join(lines)


def module_page_text(name: str) -> str:
    """A subpackage's page: its docstring, and a page for each public name that is not
    already one of the package's top-level names (those are linked instead)."""
    import dryneedle_outcomes as dno

    module = getattr(dno, name)
    full = f"{PACKAGE}.{name}"
    top = {id(getattr(dno, n)) for n in public_names()}
    members = getattr(module, "__all__", [])
    own = [m for m in members if id(getattr(module, m)) not in top]
    shared = [m for m in members if m not in own]
    lines = [".. This file is written by docs/_ext/dno_api.py at every build; do not edit.",
             "", full, "=" * len(full), "", f".. automodule:: {full}", "   :no-members:", "",
             f".. currentmodule:: {full}", ""]
    if own:
        lines += [".. autosummary::", "   :toctree: .", ""]
        lines += [f"   {m}" for m in own]
        lines.append("")
    if shared:
        refs = ", ".join(f":obj:`dno.{m} <{PACKAGE}.{m}>`" for m in shared)
        lines += [f"Also at the top level: {refs}.", ""]
    return "\n".join(lines)


def _is_data(obj) -> bool:
    return not (isinstance(obj, types.ModuleType) or inspect.isclass(obj) or callable(obj))


def data_page_text(name: str) -> str:
    """The page of a public constant: its ``#:`` comment in the module that defines it
    (autodoc would look in ``dryneedle_outcomes/__init__.py``, where it is only named).
    A constant without one is an undocumented public name: :func:`check_pages` warns."""
    from sphinx.pycode import ModuleAnalyzer

    import dryneedle_outcomes as dno

    module = f"{PACKAGE}.{dno._SOURCES[name]}"
    analyzer = ModuleAnalyzer.for_module(module)
    comment = [line for line in analyzer.find_attr_docs().get(("", name), []) if line]
    if not comment:
        UNDOCUMENTED.append(name)
    annotation = analyzer.annotations.get(("", name))
    lines = [".. This file is written by docs/_ext/dno_api.py at every build; do not edit.",
             "", name, "=" * len(name), "", ".. currentmodule:: dryneedle_outcomes", "",
             f".. py:data:: {name}", ""]
    lines += [f"   {line}".rstrip() for line in comment]
    where = f"   Defined in ``{module}``"
    lines += ["", where + (f" as ``{annotation}``." if annotation else "."), ""]
    return "\n".join(lines)


def first_sentence(name: str) -> str:
    """The first sentence of a public constant's ``#:`` comment (for the summary list)."""
    from sphinx.pycode import ModuleAnalyzer

    import dryneedle_outcomes as dno

    analyzer = ModuleAnalyzer.for_module(f"{PACKAGE}.{dno._SOURCES[name]}")
    text = " ".join(analyzer.find_attr_docs().get(("", name), []))
    return text.split(": ", 1)[0].split(". ", 1)[0].strip()


#: Public constants written without a ``#:`` comment (filled by :func:`write_pages`).
UNDOCUMENTED: list[str] = []


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists() or path.read_text(encoding="utf-8") != text:
        path.write_text(text, encoding="utf-8")


def write_pages(app, config) -> None:
    """Write ``api/index.rst`` and the subpackages' pages into the source folder (only
    files whose text changed, so that an incremental build stays incremental)."""
    import dryneedle_outcomes as dno

    api = Path(app.srcdir) / "api"
    _write(api / "index.rst", page_text())
    for name in public_names():
        obj = getattr(dno, name)
        if isinstance(obj, types.ModuleType):
            _write(api / "generated" / f"{PACKAGE}.{name}.rst", module_page_text(name))
        elif _is_data(obj):
            _write(api / "generated" / f"{PACKAGE}.{name}.rst", data_page_text(name))


def check_pages(app, env) -> None:
    """Warn for every public name without a page of its own."""
    from sphinx.util import logging

    logger = logging.getLogger(__name__)

    for name in public_names():
        docname = f"api/generated/{PACKAGE}.{name}"
        if docname not in env.found_docs:
            logger.warning("public name dno.%s has no API page (%s)", name, docname,
                           type="dno", subtype="api")
        elif name in UNDOCUMENTED:
            logger.warning("public constant dno.%s has no #: comment where it is defined",
                           name, type="dno", subtype="api")


def resolve_public(app, env, node, contnode):
    """Resolve a Python reference to a public object by the name it has in the API.

    Internal modules' docstrings name public objects as their own module sees them
    (``fit_trajectory``, ``Mapping.from_any``, ``dryneedle_outcomes.harms.dose_response``);
    their pages are ``dryneedle_outcomes.<name>``. Try that name, then the one object of
    the package documented under that last name; a ``:mod:`` reference to a module of
    the package that exists stays plain text. Anything else (no such object or module,
    or several objects) stays unresolved and fails the build under ``-n -W``."""
    if node.get("refdomain") != "py":
        return None
    target = node["reftarget"].lstrip(".~")
    if node.get("reftype") == "mod" and target.startswith(PACKAGE + "."):
        # a module of the package (the site documents public names, not modules): the
        # name stays text, checked to be a real module
        import importlib.util

        try:
            found = importlib.util.find_spec(target) is not None
        except ModuleNotFoundError:
            found = False
        return contnode if found else None
    parts = target.split(".")
    candidates = [f"{PACKAGE}.{target}"]
    if parts[0] == PACKAGE:       # dryneedle_outcomes.<modules>.<public name>[.<member>]
        candidates += [f"{PACKAGE}." + ".".join(parts[i:]) for i in range(2, len(parts))]
    domain = env.get_domain("py")
    # or the one object of the package documented under that last name (an internal
    # helper that a docstring names as its own module sees it)
    suffix = [name for name in domain.objects
              if name.startswith(PACKAGE + ".") and name.endswith("." + target)]
    if len(suffix) == 1:
        candidates.append(suffix[0])
    for candidate in candidates:
        if candidate == target:
            continue
        new = node.deepcopy()
        new["reftarget"] = candidate
        found = domain.resolve_any_xref(env, node["refdoc"], app.builder, candidate, new,
                                        contnode)
        if found:
            return found[0][1]
    return None


def setup(app):
    """Register the page writer (before autosummary generates stubs) and the check."""
    app.connect("config-inited", write_pages)
    app.connect("env-check-consistency", check_pages)
    app.connect("missing-reference", resolve_public)
    return {"parallel_read_safe": True, "parallel_write_safe": True, "version": "1"}
