"""Sphinx extension: the validation table, generated from ``tests/reference/`` at build time.

``.. dno-validation::`` renders one row per folder of golden values (an engine, or an
analysis checked end to end): what it is checked against (the first line of the module's
docstring, which names the R function, and the R and package versions recorded in
``reference.json``), how many reference numbers that file holds, the tolerances the
tests declare (module-level ``*TOL*`` constants of the test file, read with ``ast``, and
the stopping-rule bounds of ``tests/tolerances.py`` the test imports) and, for the
engines, the agreement achieved now: the fits are made again with the tests' own inputs
(the test modules are imported) and compared with R's numbers. Nothing is typed in by
hand, so the page cannot drift from the tests. ``:only:`` restricts the rows to some
folders (for the user's guide). ``.. dno-tolerance-rules::`` renders the module
docstring of ``tests/tolerances.py``, and ``.. dno-references:: MODULE ...`` the
"References" sections of the engines' module docstrings (the literature each follows),
and ``.. dno-method:: MODULE`` an analysis module's docstring up to its first section.
"""

from __future__ import annotations

import ast
import csv
import importlib
import inspect
import json
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from docutils import nodes
from docutils.parsers.rst import directives
from docutils.statemachine import StringList
from sphinx.util.docutils import SphinxDirective

ROOT = Path(__file__).resolve().parents[2]
TESTS = ROOT / "tests"
REFERENCE = TESTS / "reference"


def _rel(ours, ref) -> float:
    """Largest relative difference over the entries whose reference is not 0 or NaN."""
    ours = np.asarray(ours, dtype=float).ravel()
    ref = np.asarray(ref, dtype=float).ravel()
    keep = np.isfinite(ref) & (ref != 0)
    if not keep.any():
        return 0.0
    return float(np.max(np.abs(ours[keep] - ref[keep]) / np.abs(ref[keep])))


def _test_module(name: str):
    if str(TESTS) not in sys.path:
        sys.path.insert(0, str(TESTS))    # the tests import tests/tolerances.py by name
    return importlib.import_module(name)


# ---------------------------------------------------------------- achieved agreement
# Each returns {quantity: largest relative difference from R} over every reference fit
# the test module defines, refitted with the test module's own inputs.

def _km() -> dict[str, float]:
    t = _test_module("test_survival_km")
    est = se = stat = 0.0
    for name, conf_type in t.KM_CASES:
        ref = t.REF["km"][name][conf_type]["table"]
        table = t.fit_for(name, conf_type).table
        est = max(est, _rel(table["estimate"], t.num(ref["estimate"])),
                  _rel(table["ci_lower"], t.num(ref["ci_lower"])),
                  _rel(table["ci_upper"], t.num(ref["ci_upper"])))
        se = max(se, _rel(table["std_error"], t.num(ref["std_error"])))
    for name, make in t.LR_INPUTS.items():
        d, time, event, group, strata, rho = make()
        res = t.logrank(d[time], d[event], d[group],
                        strata=None if strata is None else d[strata], rho=rho)
        stat = max(stat, _rel(res["statistic"], t.REF["logrank"][name]["statistic"]))
    return {"survival and CI limits": est, "Greenwood SE": se, "log-rank chi-square": stat,
            "fits": len(t.KM_CASES) + len(t.LR_INPUTS)}


def _cox() -> dict[str, float]:
    t = _test_module("test_survival_cox")
    coef = se = 0.0
    for name in t.FITS:
        ref, table = t.REF["fits"][name], t._fit(name).table
        coef = max(coef, _rel(table["coef"], ref["coef"]))
        se = max(se, _rel(table["std_error"], ref["std_error"]))
    return {"coefficients": coef, "standard errors": se, "fits": len(t.FITS)}


def _turnbull() -> dict[str, float]:
    t = _test_module("test_survival_turnbull")
    surv = 0.0
    for name in t.GOLDEN:
        ref = t.REF[name]["tight"]
        surv = max(surv, float(np.max(np.abs(
            t.fit_of(name).survival_at(ref["time"]) - np.asarray(ref["surv"], float)))))
    return {"survival (absolute)": surv, "fits": len(t.GOLDEN)}


def _rmst_ic() -> dict[str, float]:
    t = _test_module("test_rmst_ic")
    data = t._data()
    turnbull_rel = km_rel = 0.0
    rows = t.REF[t.REF["method"] != "turnbull_stock"]
    for row in rows.itertuples(index=False):
        d = data[row.set]
        lower, upper = t._intervals(d[d["group"] == row.group])
        if row.method == "kaplan_meier":
            event = np.isfinite(upper)
            r = t.kaplan_meier(np.where(event, upper, lower), event.astype(int)).rmst(row.tau)
            km_rel = max(km_rel, _rel(r["estimate"], row.rmean),
                         _rel(r["std_error"], row.se_rmean))
        else:
            convention = "right" if row.method.endswith("_right") else "midpoint"
            r = t.turnbull_rmst(t.turnbull(lower, upper), row.tau, convention=convention)
            turnbull_rel = max(turnbull_rel, _rel(r["estimate"], row.rmean))
    return {"Turnbull RMST": turnbull_rel, "Kaplan-Meier RMST and SE": km_rel,
            "fits": len(rows)}


def _aft() -> dict[str, float]:
    t = _test_module("test_survival_aft")
    coef = se = 0.0
    n = 0
    for dataset in ("lung_binned", "relief", "ovarian"):
        data, lower, upper = t._read(dataset)
        for distribution in t.DISTRIBUTIONS:
            ref = t.REF[dataset][distribution]
            fit = t.fit_aft(lower, upper, data[t.COVARIATES[dataset]],
                            distribution=distribution)
            k = len(fit.terms)
            coef = max(coef, _rel(fit.table["coef"], t._vec(ref["coef"])))
            se = max(se, _rel(fit.table["std_error"], t._vec(ref["se"])[:k]))
            n += 1
    return {"coefficients": coef, "standard errors": se, "fits": n}


def _ic_ph() -> dict[str, float]:
    t = _test_module("test_ic_ph")
    d, X = t._grouped()
    cases = [(d["lower"], d["upper"], X, None, "grouped_glm.csv"),
             (d["lower"], d["upper"], X[["arm", "baseline"]], d["site"],
              "grouped_glm_strata.csv")]
    if t.LUNG.exists():
        lung = t.pd.read_csv(t.LUNG)
        cases.append((lung["time"], np.where(lung["status"] == 2, lung["time"], np.inf),
                      lung[["age", "sex"]].astype(float), None, "lung_glm.csv"))
    coef = se = ll = 0.0
    for lower, upper, x, strata, name in cases:
        ref = t.pd.read_csv(t.REF / name)
        fit = t.dno.fit_ic_ph(lower, upper, x, strata=strata, n_boot=0)
        coef = max(coef, _rel(fit.coef, ref["estimate"]))
        se = max(se, _rel(np.sqrt(np.diag(fit.cov_observed)), ref["std_error_observed"]))
        ll = max(ll, _rel(fit.loglik, ref["loglik"].iloc[0]))
    return {"coefficients": coef, "standard errors": se, "log-likelihood": ll,
            "fits": len(cases)}


def _lmm() -> dict[str, float]:
    t = _test_module("test_lmm_engine")
    beta = se = 0.0
    for name in t.NAMES:
        fit, ref, _ = t._fit(name)
        beta = max(beta, _rel(fit.beta, ref["fixef"]["value"]))
        se = max(se, _rel(np.sqrt(np.diag(fit.vcov)), ref["se"]["value"]))
    return {"fixed effects": beta, "standard errors": se, "fits": len(t.NAMES)}


def _mmrm() -> dict[str, float]:
    t = _test_module("test_mmrm_engine")
    beta = se = 0.0
    for dataset, structure in t.CASES:
        ref, fit = t.REF[dataset]["fits"][structure], t._fit(dataset, structure)
        beta = max(beta, _rel(fit.beta, ref["coef"]["value"]))
        se = max(se, _rel(np.sqrt(np.diag(fit.vcov)), ref["se"]["value"]))
    return {"coefficients": beta, "standard errors": se, "fits": len(t.CASES)}


@dataclass(frozen=True)
class Row:
    """One folder of golden values and what it validates."""

    folder: str
    modules: tuple[str, ...]          # what is checked (the first names the reference)
    tests: tuple[str, ...]            # test files comparing with the folder's numbers
    agreement: Callable[[], dict] | None = None
    #: for numbers copied from published output (not made by a script here): where from
    source: str = ""
    #: what is checked when no package module is named (``modules`` empty): reference
    #: formulas the tests of a package module compare with
    checks: str = ""


def _power() -> dict[str, float]:
    t = _test_module("test_power_reference")
    worst = 0.0
    for function, example in t.EXAMPLES:
        ours = t.OURS[function](example)
        for (f, e, quantity), (value, _digits, _src) in t.PRINTED.items():
            if (f, e) == (function, example):
                worst = max(worst, _rel(ours[quantity], value))
    return {"printed longpower numbers (7 significant digits)": worst,
            "fits": len(t.EXAMPLES)}


ROWS = [
    Row("survival_km", ("stats.survival.kaplan_meier", "stats.survival.logrank"),
        ("test_survival_km",), _km),
    Row("survival_cox", ("stats.survival.cox",), ("test_survival_cox",), _cox),
    Row("survival_turnbull", ("stats.survival.turnbull",), ("test_survival_turnbull",),
        _turnbull),
    Row("survival_aft", ("stats.survival.aft",), ("test_survival_aft",), _aft),
    Row("rmst_ic", ("stats.survival.turnbull_summaries", "survival.whole_sessions",
                    "survival.relief_summaries"), ("test_rmst_ic",), _rmst_ic),
    Row("ic_ph", ("stats.survival.ic_ph",), ("test_ic_ph",), _ic_ph),
    Row("lmm_engine", ("stats.mixed.lmm",), ("test_lmm_engine",), _lmm),
    Row("mmrm_engine", ("stats.mixed.mmrm",), ("test_mmrm_engine",), _mmrm),
    Row("mmrm_sas", ("stats.mixed.kenward_roger", "stats.mixed.mmrm"),
        ("test_kenward_roger_sas",),
        source="printed by SAS 9.4 PROC MIXED (DDFM=KR, KR(LINEAR), SATTERTHWAITE) on R "
               "mmrm's fev_data, copied with their source from the listings in "
               "openpharma/mmrm's design/ folder (see the folder's README)"),
    Row("mmrm_predict_sas", ("stats.mixed.prediction",), ("test_predict_sas",),
        source="saved by SAS PROC MIXED (OUTP= and OUTPM=, DDFM=SATTERTHWAITE and KR) on R "
               "mmrm's fev_data, copied with their source from openpharma/mmrm's "
               "design/predict_interval/ (see the folder's README and extract.py)"),
    Row("mmrm_covstruct", ("stats.mixed.covariance_spatial", "stats.mixed.covariance_layout",
                           "stats.mixed.covariance_banded", "models.mmrm_covariance"),
        ("test_covariance_structures",),
        source="printed by SAS 9.4 PROC MIXED (TYPE=SP(EXP), GROUP=ARMCD; DDFM=KR, "
               "KR(LINEAR), SATTERTHWAITE) and by R mmrm (ad) on mmrm's fev_data, copied "
               "with their source from openpharma/mmrm's design/ folder; nlme::gls corExp "
               "fits by the folder's make_nlme.R (see the folder's README)"),
    Row("mmrm_sas_type3_empirical", ("stats.mixed.robust", "stats.mixed.ftest", "models.type3"),
        ("test_type3_sas",),
        source="printed by SAS 9.4 PROC MIXED (EMPIRICAL with DDFM=BETWITHIN; Type 3 tests "
               "with DDFM=SATTERTHWAITE) on R mmrm's fev_data, copied with their source from "
               "openpharma/mmrm's design/Robust and design/anova folders (see the folder's "
               "README)"),
    Row("trajectory", ("models.trajectory",), ("test_trajectory",)),
    Row("trajectory_type3", ("models.type3", "stats.mixed.robust"),
        ("test_trajectory_type3",)),
    Row("model_terms", ("models.trajectory", "stats.mixed.aliasing", "models.diagnostics",
                        "stats.mixed.residuals"),
        ("test_model_terms", "test_diagnostics")),
    Row("immediate_cumulative", ("models.immediate_cumulative",),
        ("test_immediate_cumulative",)),
    Row("interval_test", ("stats.survival.interval_test", "stats.survival.interval_score_test"),
        ("test_interval_test",),
        source="Fay & Shaw (2010), J Stat Softw 36(2), sections 4.2-4.5, 5.2 and 6.2 (the "
               "printed ictest / perm output; the R script here makes the by-theory "
               "references: survdiff, kruskal.test, glm's Rao test)"),
    Row("relief", ("survival.time_to_relief", "survival.soreness"),
        ("test_time_to_relief", "test_soreness")),
    Row("responders", ("responders", "baseline_table"),
        ("test_responders", "test_baseline_table")),
    Row("harms", ("harms.rates", "harms.dose", "stats.intervals", "harms.table",
                  "harms.soreness_rule"), ("test_harms", "test_harms_table")),
    Row("responders_adjusted", ("stats.standardisation", "responders_adjusted"),
        ("test_responders_estimands",)),
    Row("effect_sizes", ("effect_sizes",), ("test_responders_estimands",)),
    Row("blinding", ("stats.blinding", "blinding"), ("test_responders_estimands",),
        source="R package BI 1.2.0 (commit 324e836) on the worked examples of its "
               "documentation (Bang et al. 2004 Table 7 counts; Houweling et al. 2014 "
               "Table 2), and the values BlindingIndex.jl's README prints (see the "
               "folder's README)"),
    Row("instruments", ("pooling", "normalize.pooling"), ("test_instruments",)),
    Row("simulator_calibration", ("simulate.parameters", "simulate.dropout"),
        ("test_simulate_calibration",),
        source="Cotchett et al. 2014 (Phys Ther 94:1083-94): the 6-week difference -14.4 mm, "
               "95% CI -23.5 to -5.2 with 84 participants, i.e. an SE of 4.60 mm (see the "
               "folder's README)"),
    Row("rbmi", ("stats.imputation.engine", "stats.imputation.strategies",
                 "stats.imputation.ancova", "stats.imputation.bayes",
                 "stats.imputation.mcmc_diagnostics", "stats.mixed.mmrm_refit",
                 "models.reference_based"),
        ("test_reference_based_engine", "test_reference_based_bayes",
         "test_reference_based"),
        source="printed by R rbmi (openpharma/rbmi at 5961fa07) in its CondMean_Inference "
               "and quickstart vignettes on the antidepressant trial (conditional mean "
               "imputation with the jackknife under J2R and MAR + delta; Bayesian MI by "
               "method_bayes, against our approximate Bayesian and Bayesian MI), and "
               "by SAS PROC MIXED and the five macros (Bayesian MI under MAR, J2R, CR, "
               "CIR) in rbmi's misc/antidepressant_analysis/results_SAS.pdf, extracted "
               "with their source line or page (see the folder's README); the Gibbs "
               "sampler also against posterior means known in closed form"),
    Row("baseline_imputation", ("models.design", "models.trajectory"),
        ("test_baseline_imputation",)),
    Row("cace", ("stats.iv", "estimands.cace"), ("test_cace",)),
    Row("observed", ("observed",), ("test_consort",)),
    Row("subgroups", ("models.subgroups", "models.subgroup_fit", "stats.meta",
                      "models.clustering"), ("test_subgroups",)),
    Row("multiplicity", ("stats.multiplicity",), ("test_multiplicity",)),
    Row("power", ("power.run", "power.analyses", "power.endpoints", "power.design"),
        ("test_power_reference", "test_power", "test_power_endpoints"), _power,
        source="printed by R longpower 1.0.27 (mcdonohue/longpower, pkgdown pages at "
               "gh-pages 2187836) in the examples of power.mmrm and power.mmrm.ar1: Lu, "
               "Luo & Chen (2008) Tables 1 and 2 and worked examples, each number with "
               "its page line in longpower_printed.csv (see the folder's README)",
        checks="Reference power formulas for simulation-based power (issue 15): Lu, Luo "
               "& Chen (2008) MMRM power with dropout, exact ANCOVA and two-sample t-test "
               "power (noncentral t; the latter against statsmodels TTestIndPower), exact "
               "Fisher / chi-square / one-visit interval-censored log-rank power by "
               "enumeration, in tests/reference/power/power_reference_values.py"),
]


def check_rows() -> list[str]:
    """Folders of ``tests/reference/`` without a row (each must have one)."""
    listed = {row.folder for row in ROWS}
    return sorted(p.name for p in REFERENCE.iterdir() if p.is_dir() and p.name not in listed)


# ---------------------------------------------------------------- what the files say

def _first_line(module: str) -> str:
    doc = inspect.getdoc(importlib.import_module(f"dryneedle_outcomes.{module}")) or ""
    return doc.split("\n\n", 1)[0].replace("\n", " ")


def _versions(folder: str) -> str:
    """The R and package versions recorded in a folder's reference.json files."""
    found: dict[str, str] = {}

    def walk(obj, depth=0):
        if not isinstance(obj, dict) or depth > 2:
            return
        for key, value in obj.items():
            if isinstance(value, str) and re.fullmatch(
                    r"(R|R_version|r_version|[A-Za-z.]+_version|[a-z][A-Za-z0-9.]*)", key) and (
                    value.startswith("R version") or re.fullmatch(r"[0-9][0-9.\-]*", value)):
                label = "R" if value.startswith("R version") else key.removesuffix("_version")
                found.setdefault(label, value.removeprefix("R version ").split(" ")[0])
            walk(value, depth + 1)

    for path in sorted((REFERENCE / folder).glob("*.json")):
        walk(json.loads(path.read_text(encoding="utf-8")))
    return ", ".join(f"{k} {v}" for k, v in found.items())


def _count_numbers(folder: str) -> int:
    def count(obj) -> int:
        if isinstance(obj, bool):
            return 0
        if isinstance(obj, (int, float)):
            return 1
        if isinstance(obj, dict):
            return sum(count(v) for v in obj.values())
        if isinstance(obj, list):
            return sum(count(v) for v in obj)
        return 0

    total = sum(count(json.loads(p.read_text(encoding="utf-8")))
                for p in (REFERENCE / folder).glob("*.json"))
    for path in (REFERENCE / folder).glob("*.csv"):   # long-form published values
        with path.open(encoding="utf-8", newline="") as fh:
            reader = csv.DictReader(fh)
            if {"source", "value"} <= set(reader.fieldnames or ()):
                total += sum(1 for r in reader if _is_float(r["value"]))
    return total


def _is_float(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _tolerances(test: str) -> tuple[list[str], list[str]]:
    """A test file's module-level tolerance constants, the literal tolerances passed to
    comparisons (``rtol=``, ``atol=``, ``abs_tol=``, ``rel_tol=``) and the
    ``tests/tolerances.py`` names it imports."""
    tree = ast.parse((TESTS / f"{test}.py").read_text(encoding="utf-8"))
    constants, imported = [], []
    inline: dict[str, set[float]] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            for kw in node.keywords:
                if kw.arg in ("rtol", "atol", "abs_tol", "rel_tol"):
                    try:
                        value = ast.literal_eval(kw.value)
                    except ValueError:     # a name or an expression: shown as constants
                        continue
                    if isinstance(value, (int, float)) and value > 0:
                        inline.setdefault(kw.arg, set()).add(float(value))
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(
                node.targets[0], ast.Name):
            name = node.targets[0].id
            if re.fullmatch(r"[A-Z_]*(TOL|RTOL|ATOL|ABS)[A-Z_]*", name):
                constants.append(f"{name} = {ast.unparse(node.value)}")
        elif isinstance(node, ast.ImportFrom) and node.module == "tolerances":
            imported += [a.name for a in node.names]
    for arg in sorted(inline):
        constants.append(f"{arg}=" + " / ".join(f"{v:g}" for v in sorted(inline[arg])))
    return constants, imported


def _scripts(folder: str) -> list[str]:
    return sorted(p.name for p in (REFERENCE / folder).iterdir()
                  if p.suffix in (".R", ".py"))


# ---------------------------------------------------------------- rendering

def _cell(text: str, directive: SphinxDirective) -> nodes.entry:
    entry = nodes.entry()
    container = nodes.container()
    directive.state.nested_parse(StringList(text.splitlines(), source="dno-validation"),
                                 directive.content_offset, container)
    entry += container.children
    return entry


def _agreement_text(row: Row) -> str:
    if row.agreement is None:
        return ("checked end to end by the tests (analysis results against R; no single "
                "summary number)")
    result = row.agreement()
    fits = result.pop("fits")
    lines = [f"- {what}: {value:.1e}" for what, value in result.items()]
    return f"over {fits} fits, largest relative difference:\n\n" + "\n".join(lines)


class ValidationTable(SphinxDirective):
    """``.. dno-validation::`` with optional ``:only: folder, folder``."""

    option_spec = {"only": directives.unchanged}

    def run(self):
        only = [s.strip() for s in self.options.get("only", "").split(",") if s.strip()]
        unknown = set(only) - {row.folder for row in ROWS}
        if unknown:
            raise self.error(f"dno-validation: unknown folders {sorted(unknown)}")
        rows = [r for r in ROWS if not only or r.folder in only]
        header = ["Engine, reference and golden values", "Tolerances in the tests",
                  "Achieved when this page was built"]
        table = nodes.table(classes=["dno-validation"])
        group = nodes.tgroup(cols=len(header))
        table += group
        for width in (40, 34, 26):
            group += nodes.colspec(colwidth=width)
        head = nodes.thead()
        group += head
        head_row = nodes.row()
        head += head_row
        for title in header:
            head_row += nodes.entry("", nodes.paragraph(text=title))
        body = nodes.tbody()
        group += body
        for row in rows:
            for path in (REFERENCE / row.folder).iterdir():
                self.env.note_dependency(str(path))
            checked = (", ".join(f"``dryneedle_outcomes.{m}``" for m in row.modules)
                       or row.checks)
            against = _first_line(row.modules[0]) if row.modules else ""
            versions = _versions(row.folder)
            made = row.source or ("made by " + ", ".join(f"``{s}``"
                                                         for s in _scripts(row.folder)))
            golden = (f"``tests/reference/{row.folder}/``: {_count_numbers(row.folder):,} "
                      f"reference numbers, {made}" + (f" ({versions})" if versions else ""))
            tolerance_lines = []
            for test in row.tests:
                self.env.note_dependency(str(TESTS / f"{test}.py"))
                constants, imported = _tolerances(test)
                parts = [f"``{c}``" for c in constants]
                if imported:
                    parts.append("from ``tests/tolerances.py``: " +
                                 ", ".join(f"``{n}``" for n in imported))
                tolerance_lines.append(f"``tests/{test}.py``: " +
                                       ("; ".join(parts) if parts else "exact or per test"))
            tr = nodes.row()
            for text in (f"**{checked}**\n\n{against}\n\n{golden}",
                         "\n\n".join(tolerance_lines), _agreement_text(row)):
                tr += _cell(text, self)
            body += tr
        return [table]


class ToleranceRules(SphinxDirective):
    """``.. dno-tolerance-rules::``: the docstring of ``tests/tolerances.py``."""

    def run(self):
        path = TESTS / "tolerances.py"
        self.env.note_dependency(str(path))
        doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""
        doc = re.sub(r":func:`([^`]+)`", r"``\1``", doc)   # helpers of the tests, not API
        container = nodes.container()
        self.state.nested_parse(StringList(doc.splitlines(), source=str(path)),
                                self.content_offset, container)
        return container.children


def docstring_sections(module: str) -> dict[str, list[str]]:
    """A module docstring cut at its numpydoc section headers (a line underlined with
    dashes); the text before the first header is under ``""``."""
    mod = importlib.import_module(f"dryneedle_outcomes.{module}")
    lines = (inspect.getdoc(mod) or "").splitlines()
    sections: dict[str, list[str]] = {"": []}
    current = ""
    i = 0
    while i < len(lines):
        if (i + 1 < len(lines) and lines[i].strip() and
                re.fullmatch(r"-{3,}", lines[i + 1].strip())
                and len(lines[i + 1].strip()) >= len(lines[i].strip())):
            current = lines[i].strip()
            sections[current] = []
            i += 2
            continue
        sections[current].append(lines[i])
        i += 1
    return sections


class _ModuleText(SphinxDirective):
    required_arguments = 1
    final_argument_whitespace = True

    def _parse(self, lines: list[str]):
        container = nodes.container()
        self.state.nested_parse(StringList(lines, source=self.name), self.content_offset,
                                container)
        return container.children


class Method(_ModuleText):
    """``.. dno-method:: models.trajectory``: a module docstring up to its first
    section (the method in words; its examples and references are left out)."""

    def run(self):
        lines = []
        for module in self.arguments[0].split():
            mod = importlib.import_module(f"dryneedle_outcomes.{module}")
            self.env.note_dependency(inspect.getfile(mod))
            lines += docstring_sections(module)[""] + [""]
        return self._parse(lines)


class EngineReferences(_ModuleText):
    """``.. dno-references:: stats.mixed.lmm ...``: each module's "References" section."""

    def run(self):
        lines: list[str] = []
        for module in self.arguments[0].split():
            mod = importlib.import_module(f"dryneedle_outcomes.{module}")
            self.env.note_dependency(inspect.getfile(mod))
            refs = docstring_sections(module).get("References")
            if not refs:
                raise self.error(f"dno-references: {module} has no References section")
            lines += [f"``dryneedle_outcomes.{module}``", ""]
            lines += [f"   {line}" if line.strip() else "" for line in refs] + [""]
        return self._parse(lines)


def _check(app, env) -> None:
    from sphinx.util import logging

    for folder in check_rows():
        logging.getLogger(__name__).warning(
            "tests/reference/%s has no row in docs/_ext/dno_validation.py ROWS", folder,
            type="dno", subtype="validation")


def setup(app):
    """Register the directives and the check that every reference folder has a row."""
    app.add_directive("dno-validation", ValidationTable)
    app.add_directive("dno-tolerance-rules", ToleranceRules)
    app.add_directive("dno-references", EngineReferences)
    app.add_directive("dno-method", Method)
    app.connect("env-check-consistency", _check)
    return {"parallel_read_safe": True, "parallel_write_safe": True, "version": "1"}
