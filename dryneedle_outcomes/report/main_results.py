"""Which outputs open ``report.html`` (its main results) and which go to the appendix.

A reader of a trial report looks for the estimand, the participant flow, the baseline
table, the primary analysis at the pre-specified visit and the key secondary analyses
first (CONSORT 2025 items on participant flow, outcomes and estimation, and harms;
ICH E9(R1) for the estimand and its sensitivity analysis). The main results are:

- **Estimand**: its ICH E9(R1) table (``estimand``).
- **Participant flow**: the CONSORT 2025 diagram and its table (``consort_flow``).
- **Intervention as delivered**: the STRICTA 2010 table (``stricta``), when configured.
- **Baseline characteristics**: Table 1 (``baseline_table``).
- **Primary analysis**: the primary trajectory model (the MMRM when it was fitted,
  else the first configured model): the difference between arms per visit, the
  pre-specified primary visit among them (``trajectory_<model>_arm_difference``), and
  its figure of the means by arm and visit (``trajectory_<model>``).
- **Sensitivity to missing data**: the reference-based multiple imputation table
  (``reference_based``).
- **Co-primary endpoints** with multiplicity-adjusted p-values (``multiplicity``) and
  the subgroup forest plot (``subgroups``), when configured.
- **Time to relief** on the first configured timescale: the median by arm, the curve
  and the primary hazard ratio (interval-censored when fitted, else Cox).
- **Responders** under the first configured missing-data rule: the risk difference and
  number needed to treat, and the figure of the proportions.
- **Harms**: the adverse-event table by arm (participants and events per 100
  appointments, ``harms_table``).

Everything else (other models, secondary tables, the observed data, numbers at risk,
per-patient listings, soreness, blinding, the quality ledger, the diagnostics, the
model checks) is in the report's appendix, each in its section's order. An item built
with ``main=True`` (a section added elsewhere) stays in the main results.
"""

from __future__ import annotations

from dataclasses import replace

from .sections import NamedFigure, NamedTable, Section

#: Tables and figures in the main results whatever the configuration, by name.
FIXED = frozenset({("table", "estimand"), ("figure", "consort_flow"),
                   ("table", "consort_flow"), ("table", "stricta"), ("table", "baseline_table"),
                   ("table", "reference_based"), ("table", "multiplicity"),
                   ("figure", "subgroups"), ("table", "harms_table")})


def _first(section: Section, prefix: str, preferred: str | None = None) -> str | None:
    """The key of the section's primary result (``preferred`` when it ran)."""
    keys = [k for k in section.results if k.startswith(prefix)]
    if preferred in keys:
        return preferred
    return keys[0] if keys else None


def main_items(sections: list[Section]) -> set[tuple[str, str]]:
    """``("table" | "figure", name)`` of each item of the main results (see the module
    docstring).

    Examples
    --------
    >>> s = Section("trajectory", "T", results={"trajectory_random_slope": 1,
    ...                                         "trajectory_mmrm": 2})
    >>> sorted(i for i in main_items([s]) if i[1].startswith("trajectory"))
    [('figure', 'trajectory_mmrm'), ('table', 'trajectory_mmrm_arm_difference')]
    """
    items = set(FIXED)
    for s in sections:
        if s.key == "trajectory":
            key = _first(s, "trajectory_", "trajectory_mmrm")
            if key:
                items |= {("figure", key), ("table", f"{key}_arm_difference")}
        elif s.key == "time_to_relief":
            key = _first(s, "time_to_relief_")
            if key:
                hr = (f"{key}_ic_hazard_ratios"
                      if any(t.name == f"{key}_ic_hazard_ratios" for t in s.tables)
                      else f"{key}_hazard_ratios")
                items |= {("table", f"{key}_median"), ("figure", f"{key}_curve"),
                          ("table", hr)}
        elif s.key == "responders":
            key = _first(s, "responders_")
            if key:
                items |= {("figure", key), ("table", f"{key}_difference")}
    return items


def mark_main(sections: list[Section]) -> None:
    """Flag the items of the main results (``main=True``) in place."""
    chosen = main_items(sections)
    for s in sections:
        s.items = [replace(item, main=True)
                   if (_kind(item), item.name) in chosen and not item.main else item
                   for item in s.items]


def _kind(item: NamedTable | NamedFigure) -> str:
    return "table" if isinstance(item, NamedTable) else "figure"


def report_parts(sections: list[Section]) -> list[tuple[bool, Section, list]]:
    """``(main, section, items)`` in the order ``report.html`` prints them: each
    section's main items, then each section's other items (the appendix); sections
    without items in a part are left out of it. ``report/index.csv`` and
    ``report.docx`` follow the same order.

    Examples
    --------
    >>> a = NamedTable("a", None, main=True)
    >>> b = NamedTable("b", None)
    >>> [(m, s.key, [i.name for i in items])
    ...  for m, s, items in report_parts([Section("x", "X", items=[b, a])])]
    [(True, 'x', ['a']), (False, 'x', ['b'])]
    """
    parts = [(True, s, [i for i in s.items if i.main]) for s in sections]
    parts += [(False, s, [i for i in s.items if not i.main]) for s in sections]
    return [(main, s, items) for main, s, items in parts if items]
