"""The Results sentences of a run, each number read from a table the run writes.

Every number is taken from the DataFrame of a named table (``tables/<name>.csv``) and
formatted by that table's own rule (:func:`~dryneedle_outcomes.tables.format_column`
with the table's ``digits``, ``percent`` and ``not_reached``), so a sentence and the
table it summarises cannot disagree (CONSORT 2025 item 26: for each outcome, the
estimated effect and its precision; SAMPL: the CI with every estimate, exact p-values).

A difference is worded by its sign: "18.06 mm lower with dry needling than with sham
(95% CI 9.38 to 26.75)" for a negative difference, the interval then being that of the
reduction (the table's limits negated and swapped), "higher" for a positive one.

Examples
--------
>>> from dryneedle_outcomes.tables import TableResult
>>> t = TableResult(pd.DataFrame({"estimate": [-18.064]}), digits=2)
>>> difference_phrase(t, -18.064, -26.746, -9.381, units="mm", arm="dry_needling",
...                   reference="sham", conf_level=0.95)
'18.06 mm lower with dry needling than with sham (95% CI 9.38 to 26.75'
>>> difference_phrase(t, 4.2, -1.0, 9.4, units="mm", arm="b", reference="a",
...                   conf_level=0.9)
'4.20 mm higher with b than with a (90% CI -1.00 to 9.40'
"""

from __future__ import annotations

import math

import pandas as pd

from ..instruments import get_instrument
from ..tables import TableResult, format_column
from .methods import lower_first, named_table, primary_fit, results_by_name
from .sections import Section, p_text

Paragraphs = tuple[str, list[str]]

#: How the missing values of a responder analysis are named.
MISSING = {"non_responder": "missing values counted as non-response",
           "observed": "observed cases"}
#: The words of a difference by its sign, per kind of quantity.
WORDS = {"level": ("lower", "higher"), "time": ("shorter", "longer"),
         "count": ("fewer", "more")}


def cell(table: TableResult, column: str, value) -> str:
    """``value`` as ``table`` renders it in ``column`` (the table's formatting rule)."""
    return format_column(column, pd.Series([value], dtype=float), digits=table.digits,
                         percent=table.percent,
                         not_reached=column in table.not_reached)[0]


def p_phrase(table: TableResult, column: str, value) -> str:
    """"p = 0.031" or "p < 0.001", the value as ``table`` renders ``column``."""
    text = cell(table, column, value)
    return f"p < {text[1:]}" if text.startswith("<") else f"p = {text}"


def _arm(arm) -> str:
    return str(arm).replace("_", " ")


def _zero(text: str) -> bool:
    """Whether a formatted number reads as zero ("0.00", "-0.0%")."""
    digits = [c for c in text if c.isdigit()]
    return bool(digits) and set(digits) == {"0"}


def difference_phrase(table: TableResult, estimate: float, ci_lower: float,
                      ci_upper: float, *, units: str, arm, reference, conf_level: float,
                      kind: str = "level", column: str = "estimate",
                      points: bool = False) -> str:
    """"<|estimate|> <units> lower|higher with <arm> than with <reference> (<level> CI a to
    b" (the caller closes the parenthesis, after a p-value if any).

    Negative estimates read as a reduction with the interval of the reduction
    (``-ci_upper`` to ``-ci_lower``); a difference that rounds to zero reads "no
    different" with the signed interval. ``points``: a difference of proportions in a
    percent table, worded in percentage points ("23.8 percentage points higher").
    """
    def cell_(col: str, value: float) -> str:
        text = cell(table, col, value)
        return text[:-1] if points and text.endswith("%") else text

    low, high = WORDS[kind]
    unit = f" {units}" if units else ""
    level = f"{conf_level:.0%} CI"
    size = cell_(column, abs(estimate))
    if _zero(size):
        return (f"no different with {_arm(arm)} than with {_arm(reference)} "
                f"({cell_(column, estimate)}{unit}; {level} "
                f"{cell_('ci_lower', ci_lower)} to {cell_('ci_upper', ci_upper)}")
    if estimate < 0:
        a, b, word = -ci_upper, -ci_lower, low
    else:
        a, b, word = ci_lower, ci_upper, high
    return (f"{size}{unit} {word} with {_arm(arm)} than with {_arm(reference)} ({level} "
            f"{cell_('ci_lower', a)} to {cell_('ci_upper', b)}")


def _p(p) -> str:
    text = p_text(p)
    return f"; {text})" if text else ")"


def primary_results(sections: list[Section]) -> Paragraphs | None:
    """The arm difference at the pre-specified primary visit (the model's table)."""
    fit = primary_fit(sections)
    if fit is None:
        return None
    table = named_table(sections, f"trajectory_{fit.model}_arm_difference")
    if table is None or table.table.empty:
        return None
    visit = fit.primary_visit if fit.primary_visit is not None else \
        int(table.table["visit"].max())
    rows = table.table[table.table["visit"] == visit]
    if rows.empty:
        return None
    inst = get_instrument(fit.outcome)
    when = ("the pre-specified primary visit" if visit == fit.primary_visit
            else "the last visit (no primary visit was pre-specified)")
    out = [f"At visit {visit} ({when}), {lower_first(inst.label)} was "
           + difference_phrase(table, r.estimate, r.ci_lower, r.ci_upper, units=inst.units,
                               arm=r.arm, reference=r.reference,
                               conf_level=table.conf_level) + _p(r.p_value)[:-1]
           + f"; {describe_short(fit)})." for r in rows.itertuples()]
    return "Primary outcome", out


def describe_short(fit) -> str:
    """"MMRM, Kenward-Roger df" for the sentence's parenthesis."""
    from ..models.methods_text import DF_NAMES, describe

    return f"{describe(fit)}, {DF_NAMES.get(fit.df_method, fit.df_method)} df"


def sensitivity_results(sections: list[Section], visit: int | None) -> Paragraphs | None:
    """Each reference-based method at the primary visit, then the tipping point."""
    table = named_table(sections, "reference_based")
    if table is None:
        return None
    res = {k[len("reference_based_"):]: v for k, v in results_by_name(sections).items()
           if k.startswith("reference_based_")}
    first = next(iter(res.values()))
    visit = visit if visit in first.visits else first.visits[-1]
    units = get_instrument(first.outcome).units
    frame = table.table[table.table["visit"] == visit]
    out: list[str] = []
    for r in frame.itertuples():
        name = r.method.replace("_", " ")
        out.append(f"Under {name} imputation, the difference at visit {visit} was "
                   + difference_phrase(table, r.estimate, r.ci_lower, r.ci_upper,
                                       units=units, arm=r.arm, reference=r.reference,
                                       conf_level=table.conf_level) + _p(r.p_value) + ".")
    tip = named_table(sections, "tipping_point")
    if tip is not None:
        alpha = 1.0 - table.conf_level
        for r in tip.table[tip.table["visit"] == visit].itertuples():
            d = r.delta_interpolated
            if d == d and math.isfinite(d):
                out.append(f"The difference at visit {visit} lost significance when "
                           f"{cell(tip, 'delta_interpolated', d)} {units} was added to "
                           f"every imputed value of {_arm(r.arm)} (tipping point).")
            elif r.p_value_at_0 < alpha:
                out.append(f"The difference at visit {visit} stayed significant over every "
                           f"shift of the imputed values of {_arm(r.arm)} tried "
                           "(no tipping point).")
    return "Sensitivity analyses", out


def relief_results(sections: list[Section]) -> Paragraphs | None:
    """Medians, the primary hazard ratio and test, and the RMST, of the first timescale."""
    res = [v for k, v in results_by_name(sections).items() if k.startswith("time_to_relief_")]
    if not res:
        return None
    r = res[0]
    stem = f"time_to_relief_{r.timescale}"
    unit = r.timescale
    med = named_table(sections, f"{stem}_median")
    if med is None:
        return None
    level = f"{med.conf_level:.0%} CI"
    parts = [f"{cell(med, 'estimate', x.estimate)}"
             + (f" {unit}" if math.isfinite(x.estimate) else "")
             + f" ({level} {cell(med, 'ci_lower', x.ci_lower)} to "
             f"{cell(med, 'ci_upper', x.ci_upper)}) with {_arm(x.arm)}"
             for x in med.table.itertuples()]
    out = [f"The median time to relief ({r.definition}) was " + " and ".join(parts) + "."]
    ic = named_table(sections, f"{stem}_ic_hazard_ratios")
    hr, model = ((ic, "interval-censored proportional hazards model")
                 if ic is not None and len(ic.table) else
                 (named_table(sections, f"{stem}_hazard_ratios"), "Cox model"))
    arms = (hr.table[hr.table["term"].astype(str).str.startswith("arm[")]
            if hr is not None else pd.DataFrame())
    for x in arms.itertuples():
        arm = str(x.term)[4:-1]
        out.append(f"The hazard ratio of relief, {_arm(arm)} vs {_arm(r.reference_arm)}, "
                   f"was {cell(hr, 'estimate', x.estimate)} ({hr.conf_level:.0%} CI "
                   f"{cell(hr, 'ci_lower', x.ci_lower)} to {cell(hr, 'ci_upper', x.ci_upper)}"
                   f"{_p(x.p_value)[:-1]}; {model}).")
    tests = named_table(sections, f"{stem}_logrank")
    if tests is not None and len(tests.table):
        t = tests.table.iloc[0]
        out.append(f"Primary test: {t['test']}, {p_text(t['p_value'])}.")
    rm = named_table(sections, f"{stem}_rmst")
    if rm is not None:
        for x in rm.table[rm.table["arm"].astype(str).str.contains(" - ")].itertuples():
            arm, ref = str(x.arm).split(" - ", 1)
            out.append(f"Up to {x.tau:g} {unit}, the restricted mean time without relief was "
                       + difference_phrase(rm, x.estimate, x.ci_lower, x.ci_upper,
                                           units=unit, arm=arm, reference=ref,
                                           conf_level=rm.conf_level, kind="time") + ").")
    return "Time to relief", out


def responder_results(sections: list[Section], visit: int | None) -> Paragraphs | None:
    """Responders n/N per arm at the primary visit and the risk differences."""
    res = {k[len("responders_"):]: v for k, v in results_by_name(sections).items()
           if k.startswith("responders_")}
    if not res:
        return None
    missing, r = next(iter(res.items()))
    table = named_table(sections, f"responders_{missing}")
    if table is None:
        return None
    if visit is None or visit not in set(table.table["visit"]):
        visit = int(table.table["visit"].max())
    rows = table.table[table.table["visit"] == visit]
    if rows.empty:
        return None
    counts = [f"{cell(table, 'n_responders', x.n_responders)}/"
              f"{cell(table, 'denominator', x.denominator)} "
              f"({cell(table, 'estimate', x.estimate)}) with {_arm(x.arm)}"
              for x in rows.itertuples()]
    out = [f"At visit {visit}, " + " and ".join(counts) + f" were responders "
           f"({r.definition}; {MISSING.get(missing, missing.replace('_', ' '))})."]
    diff = named_table(sections, f"responders_{missing}_difference")
    if diff is not None:
        for x in diff.table[diff.table["visit"] == visit].itertuples():
            out.append("The proportion of responders was "
                       + difference_phrase(diff, x.estimate, x.ci_lower, x.ci_upper,
                                           units="percentage points" if diff.percent else "",
                                           arm=x.arm,
                                           reference=x.reference, conf_level=diff.conf_level,
                                           points=diff.percent)
                       + _p(x.p_value)[:-1] + "; risk difference).")
    adj = named_table(sections, f"responders_{missing}_adjusted")
    if adj is not None:
        t = adj.table
        for x in t[(t["visit"] == visit) & (t["measure"] == "risk_difference")].itertuples():
            out.append(f"Adjusted for {x.adjusted_for}, the proportion of responders was "
                       + difference_phrase(adj, x.estimate, x.ci_lower, x.ci_upper,
                                           units="percentage points" if adj.percent else "",
                                           arm=x.arm, reference=x.reference,
                                           conf_level=adj.conf_level, points=adj.percent)
                       + _p(x.p_value)[:-1] + "; standardised risk difference).")
    return "Responders", out


def harms_results(sections: list[Section]) -> Paragraphs | None:
    """Participants with at least one adverse event, events, and withdrawals, per arm."""
    long = named_table(sections, "harms_table_long")
    if long is None:
        return None
    t = long.table
    anyr = t[t["group"] == "any"]
    parts = [f"{cell(long, 'n_participants_with_event', x.n_participants_with_event)}/"
             f"{cell(long, 'n_participants', x.n_participants)} participants "
             f"({cell(long, 'estimate', x.estimate)}) with {_arm(x.arm)}"
             for x in anyr.itertuples()]
    events = [f"{cell(long, 'n_events', x.n_events)} with {_arm(x.arm)}"
              for x in anyr.itertuples()]
    out = ["At least one adverse event was reported by " + " and ".join(parts)
           + "; events: " + " and ".join(events) + "."]
    if "n_appointments" in t:
        out.append("Events per 100 treatment appointments: " + " and ".join(
            f"{cell(long, 'events_per_100_appointments', x.events_per_100_appointments)} "
            f"with {_arm(x.arm)}" for x in anyr.itertuples()) + ".")
    w = t[t["group"] == "withdrawal"]
    if len(w):
        out.append("Withdrawals due to adverse events: " + " and ".join(
            f"{cell(long, 'n_participants_with_event', x.n_participants_with_event)}/"
            f"{cell(long, 'n_participants', x.n_participants)} with {_arm(x.arm)}"
            for x in w.itertuples()) + ".")
    return "Harms", out


def multiplicity_results(sections: list[Section]) -> Paragraphs | None:
    """The multiplicity-adjusted p-value of each primary endpoint and the decision."""
    table = named_table(sections, "multiplicity")
    if table is None or table.table.empty:
        return None
    parts = [f"{lower_first(get_instrument(r.outcome).label)} at visit {r.visit}, adjusted "
             f"{p_phrase(table, 'p_adjusted', r.p_adjusted)} (unadjusted "
             f"{p_phrase(table, 'p_value', r.p_value)}; "
             + ("rejected" if r.reject else "not rejected") + ")"
             for r in table.table.itertuples()]
    return "Primary endpoints (multiplicity)", [
        "With the declared multiplicity procedure: " + "; ".join(parts) + "."]


def subgroup_results(sections: list[Section]) -> Paragraphs | None:
    """The arm-by-subgroup interaction test of each pre-specified subgroup."""
    table = named_table(sections, "subgroups_interaction")
    if table is None or table.table.empty:
        return None
    parts = [f"{str(r.subgroup).replace('_', ' ')}"
             + (" (continuous)" if getattr(r, "scale", "levels") == "continuous" else "")
             + f" {p_phrase(table, 'p_value', r.p_value)}"
             for r in table.table.itertuples()]
    return "Subgroups", ["Tests of the arm-by-subgroup interaction at the primary visit: "
                         + "; ".join(parts) + " (exploratory)."]


def results_sections(sections: list[Section], *, primary_visit: int | None = None
                     ) -> list[Paragraphs]:
    """Every Results paragraph of a run, as ``(heading, sentences)`` in order."""
    fit = primary_fit(sections)
    if primary_visit is None and fit is not None:
        primary_visit = fit.primary_visit
    parts = [primary_results(sections), multiplicity_results(sections),
             sensitivity_results(sections, primary_visit), subgroup_results(sections),
             relief_results(sections), responder_results(sections, primary_visit),
             harms_results(sections)]
    return [(heading, [" ".join(sentences)]) for heading, sentences in
            (p for p in parts if p is not None) if sentences]
