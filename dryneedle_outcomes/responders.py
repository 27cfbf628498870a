"""Responder analysis: the proportion of patients whose improvement is clinically important.

A patient is a *responder* at a visit when the improvement from baseline of the
outcome meets one definition, chosen once per analysis:

- ``mcid`` (the default): improvement >= the minimal clinically important
  difference, the instrument's registered MCID unless a number is given
  (first-step pain 19 mm, Landorf 2010);
- ``percent_reduction``: improvement >= that percentage of the baseline value
  (IMMPACT, Dworkin 2008: >= 30% moderate, >= 50% substantial);
- ``threshold``: an absolute level reached at the visit, in the instrument's
  direction (``<=`` for higher-is-worse scales such as first-step pain <= 20 mm,
  ``>=`` for higher-is-better ones such as the FHSQ pain domain).

Improvement is ``Cohort.change_from_baseline``'s ``improvement`` column, positive
always meaning better. A definition is met when the value is on the right side of
the cut-off *or equal to it*; comparisons allow 1e-9 for floating-point
representation (a 68.5 -> 49.5 mm change is 19 mm, not 18.999999999999996).

Per visit (>= 1) and arm the proportion of responders has a Wilson score interval
(R's ``prop.test(x, n, correct = FALSE)``); per visit each arm is compared with the
reference arm by the risk difference with Newcombe's hybrid score interval (method
10 of Newcombe 1998), the number needed to treat reported as Altman (1998)
recommends, and Fisher's exact test (two-sided, R's ``fisher.test``; Pearson's
chi-square without continuity correction with ``test="chisq"``).

References
----------
- Altman DG (1998). Confidence intervals for the number needed to treat. BMJ
  317:1309-1312.
- Newcombe RG (1998). Interval estimation for the difference between independent
  proportions: comparison of eleven methods. Stat Med 17:873-890.
- Dworkin RH et al. (2008). Interpreting the clinical importance of treatment
  outcomes in chronic pain clinical trials: IMMPACT recommendations. J Pain 9:105-121.

Examples
--------
>>> import dryneedle_outcomes as dno
>>> from dryneedle_outcomes.responders import responders
>>> cohort = dno.simulate_cohort(n_patients=84, seed=2014)
>>> res = responders(cohort, "first_step_pain")
>>> list(res.table.columns)
['arm', 'visit', 'n_responders', 'n_missing', 'denominator', 'estimate', 'ci_lower', 'ci_upper']
>>> res.reference_arm
'sham'
>>> row = res.comparison.query("visit == 6").iloc[0]
>>> row["nnt_label"].startswith(("NNTB", "NNTH"))
True
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd
from scipy import stats

from .cohort import Cohort
from .definitions import ResponderDefinition, resolve_definition
from .errors import AnalysisError
from .instruments import Instrument, get_instrument
from .models.design import arms_without_data, choose_reference
from .results import AnalysisResult, as_table, comparison_frame, deprecated_name, nothing_fitted
from .stats.checks import check_conf_level
from .stats.intervals import newcombe_difference, wilson
from .tables import TableResult

MISSING_RULES = ("observed", "non_responder")
TESTS = ("fisher", "chisq")

TABLE_COLUMNS = ("arm", "visit", "n_responders", "n_missing", "denominator", "estimate",
                 "ci_lower", "ci_upper")
#: The columns of the deprecated ``difference`` (the layout before ``comparison``).
DIFFERENCE_COLUMNS = ("visit", "arm", "reference", "estimate", "ci_lower", "ci_upper", "nnt",
                      "nnt_ci_lower", "nnt_ci_upper", "nnt_label", "nnt_ci_label", "p_value",
                      "test")
COMPARISON_COLUMNS = ("arm", "reference", "measure", "estimate", "ci_lower", "ci_upper",
                      "p_value", "visit", "nnt", "nnt_ci_lower", "nnt_ci_upper", "nnt_label",
                      "nnt_ci_label", "test")


# ---------------------------------------------------------------------- NNT (Altman 1998)
def _nnt_side(value: float) -> str:
    """'NNTB x' for a positive NNT, 'NNTH x' for a negative one, 'infinity' for 1/0."""
    if not np.isfinite(value):
        return "infinity"
    return f"NNTB {value:.1f}" if value > 0 else f"NNTH {abs(value):.1f}"


def number_needed_to_treat(rd, ci_lower, ci_upper) -> pd.DataFrame:
    """Number needed to treat from a risk difference of *good* outcomes and its CI.

    ``nnt = 1 / rd``: positive is a number needed to treat to benefit (NNTB),
    negative a number needed to treat to harm (NNTH), infinite when ``rd == 0``.
    The confidence set is the reciprocal of the risk-difference interval (Altman
    1998): ``nnt_ci_lower = 1 / ci_upper`` and ``nnt_ci_upper = 1 / ci_lower``.
    When the interval excludes 0 both limits have the sign of ``nnt`` and are
    reported as "NNTB a to b" (or "NNTH a to b"); when it includes 0 the set runs
    through infinity and is reported as "NNTB a to infinity to NNTH b" with
    ``a = nnt_ci_lower`` and ``b = -nnt_ci_upper``. Labels use one decimal.

    Parameters
    ----------
    rd, ci_lower, ci_upper : array_like
        Risk difference (treatment minus reference, in proportions of responders)
        and its confidence limits.

    Returns
    -------
    pandas.DataFrame
        ``nnt``, ``nnt_ci_lower``, ``nnt_ci_upper``, ``nnt_label``, ``nnt_ci_label``.

    Examples
    --------
    >>> t = number_needed_to_treat([0.25], [0.1], [0.4])
    >>> t[["nnt", "nnt_ci_lower", "nnt_ci_upper"]].iloc[0].tolist()
    [4.0, 2.5, 10.0]
    >>> t[["nnt_label", "nnt_ci_label"]].iloc[0].tolist()
    ['NNTB 4.0', 'NNTB 2.5 to 10.0']
    >>> number_needed_to_treat([0.1], [-0.05], [0.25])["nnt_ci_label"].iloc[0]
    'NNTB 4.0 to infinity to NNTH 20.0'
    >>> number_needed_to_treat([-0.2], [-0.3], [-0.1])["nnt_ci_label"].iloc[0]
    'NNTH 3.3 to 10.0'
    """
    rd = np.atleast_1d(np.asarray(rd, dtype=float))
    lo = np.atleast_1d(np.asarray(ci_lower, dtype=float))
    hi = np.atleast_1d(np.asarray(ci_upper, dtype=float))
    with np.errstate(divide="ignore", invalid="ignore"):
        nnt = np.where(rd == 0, np.inf, 1.0 / rd)
        n_lo = np.where(hi == 0, np.inf, 1.0 / hi)
        n_hi = np.where(lo == 0, -np.inf, 1.0 / lo)
    labels, ci_labels = [], []
    for r, a, b, low, high in zip(rd, n_lo, n_hi, lo, hi):
        if not np.isfinite(r):
            labels.append("")
            ci_labels.append("")
            continue
        labels.append("NNT infinity" if r == 0 else _nnt_side(1.0 / r))
        if not (np.isfinite(low) and np.isfinite(high)):
            ci_labels.append("")
        elif low > 0:                      # benefit: NNTB 1/upper to 1/lower
            ci_labels.append(f"NNTB {a:.1f} to {b:.1f}")
        elif high < 0:                     # harm: NNTH 1/|lower| to 1/|upper|
            ci_labels.append(f"NNTH {abs(b):.1f} to {abs(a):.1f}")
        else:                              # the interval contains 0: through infinity
            parts = [_nnt_side(a) if high > 0 else None, "infinity",
                     _nnt_side(b) if low < 0 else None]
            ci_labels.append(" to ".join(p for p in parts if p))
    return pd.DataFrame({"nnt": nnt, "nnt_ci_lower": n_lo, "nnt_ci_upper": n_hi,
                         "nnt_label": labels, "nnt_ci_label": ci_labels})


# ---------------------------------------------------------------------- the result
@dataclass(frozen=True)
class RespondersResult(AnalysisResult, TableResult):
    """Responders per visit and arm (``table``) and the comparison with the reference arm.

    Attributes
    ----------
    table : pandas.DataFrame
        Per visit and arm: ``arm``, ``visit``, ``n_responders``, ``n_missing``
        (patients with a baseline but no value at the visit), ``denominator``,
        ``estimate`` (proportion of responders), ``ci_lower``, ``ci_upper`` (Wilson).
    comparison : pandas.DataFrame
        Per visit and non-reference arm, in the comparison schema
        (:mod:`dryneedle_outcomes.results`): ``arm``, ``reference``, ``measure``
        (``"risk_difference"``), ``estimate`` (arm minus reference, in proportions),
        ``ci_lower``, ``ci_upper`` (Newcombe hybrid score), ``p_value``, then ``visit``,
        ``nnt``, ``nnt_ci_lower``, ``nnt_ci_upper``, ``nnt_label``, ``nnt_ci_label``
        (Altman 1998; see :func:`number_needed_to_treat`) and ``test``. (``difference``,
        its former name and layout, is deprecated.)
    excluded : pandas.DataFrame
        Patients without a baseline value (``patient_id``, ``arm``, ``reason``): never
        responders and in no denominator.
    outcome, definition, missing, reference_arm, test : str
    """

    comparison: pd.DataFrame = field(default_factory=pd.DataFrame)
    excluded: pd.DataFrame = field(default_factory=pd.DataFrame)
    outcome: str = ""
    definition: str = ""
    missing: str = "observed"
    reference_arm: str = ""
    test: str = "fisher"
    warnings: tuple[str, ...] = ()
    converged: bool = nothing_fitted()

    @property
    def difference(self) -> pd.DataFrame:
        """Deprecated: :attr:`comparison` in its former layout (no ``measure`` column)."""
        deprecated_name("difference", "comparison", "RespondersResult")
        return self.comparison[list(DIFFERENCE_COLUMNS)]

    def comparison_table(self) -> TableResult:
        """The risk differences and NNTs as a :class:`TableResult` (for papers): every
        column of ``comparison`` in its exports, the columns below rendered."""
        cols = ("arm", "reference", "measure", "estimate", "ci_lower", "ci_upper", "p_value",
                "visit", "nnt_label", "nnt_ci_label")
        return TableResult(
            table=self.comparison.copy(), columns=cols,
            title=f"Risk difference in responders vs {self.reference_arm} "
                  f"({self.conf_level:.0%} CI)",
            notes=(), conf_level=self.conf_level, digits=self.digits, percent=True)

    def difference_table(self) -> TableResult:
        """Deprecated: use :meth:`comparison_table` (this keeps the former column order)."""
        deprecated_name("difference_table()", "comparison_table()", "RespondersResult")
        cols = ("visit", "arm", "reference", "estimate", "ci_lower", "ci_upper", "nnt_label",
                "nnt_ci_label", "p_value")
        return replace(self.comparison_table(),
                       table=self.comparison[list(DIFFERENCE_COLUMNS)].copy(), columns=cols)

    def tables(self) -> dict[str, TableResult]:
        """The proportions (with the notes) and, with two arms or more, the comparison."""
        out = {"responders": as_table(self)}
        if not self.comparison.empty:
            out["comparison"] = self.comparison_table()
        return out

    def summary(self) -> str:
        """Plain text: proportions per visit and arm, then differences, then the notes."""
        parts = [self.title, self.formatted().to_string(index=False), ""]
        if not self.comparison.empty:
            diff = self.comparison_table()
            parts += [diff.title, diff.formatted().to_string(index=False), ""]
        parts += list(self.notes)
        if self.warnings:
            parts += ["", "Warnings:", *(f"  - {w}" for w in self.warnings)]
        return "\n".join(parts)

    def to_markdown(self) -> str:
        """Markdown: the proportions table, then the differences, then the notes."""
        main = TableResult(self.table, self.title, (), self.conf_level, self.digits, True)
        diff = [] if self.comparison.empty else [self.comparison_table().to_markdown()]
        return "\n\n".join([main.to_markdown(), *diff, "\n".join(self.notes)])

    def to_latex(self) -> str:
        """Two LaTeX ``table`` environments (proportions, differences), notes under the second."""
        if self.comparison.empty:
            return TableResult(self.table, self.title, self.notes, self.conf_level,
                               self.digits, True).to_latex()
        main = TableResult(self.table, self.title, (), self.conf_level, self.digits, True)
        diff = replace(self.comparison_table(), notes=self.notes)
        return main.to_latex() + "\n\n" + diff.to_latex()

    def to_html(self) -> str:
        """An HTML fragment: both tables, the notes under the second (as :meth:`to_latex`)."""
        main = TableResult(self.table, self.title, (), self.conf_level, self.digits, True)
        if self.comparison.empty:
            return replace(main, notes=self.notes).to_html()
        return main.to_html() + replace(self.comparison_table(), notes=self.notes).to_html()

    def plot(self, ax=None, **kwargs):
        """Proportion of responders per visit by arm with Wilson CIs; returns the Axes."""
        from .plots.responders import plot_responders

        return plot_responders(self, ax=ax, **kwargs)


# ---------------------------------------------------------------------- the analysis
def responders(
    cohort: Cohort,
    outcome: str = "first_step_pain",
    *,
    mcid=None,
    threshold=None,
    percent_reduction=None,
    definition=None,
    missing: str = "observed",
    conf_level: float = 0.95,
    reference_arm: str | None = None,
    visits=None,
    test: str = "fisher",
) -> RespondersResult:
    """Proportion of responders per visit and arm, with Wilson CIs, risk differences and NNT.

    Parameters
    ----------
    cohort : Cohort
    outcome : str
        A registered instrument present in ``cohort.assessments``.
    mcid : float or True, optional
        Responder = improvement from baseline >= ``mcid``. The default (and
        ``True``) is the instrument's registered MCID.
    threshold : float, optional
        Responder = value at the visit <= ``threshold`` (>= for higher-is-better
        instruments), e.g. first-step pain <= 20 mm.
    percent_reduction : float, optional
        Responder = improvement >= ``percent_reduction`` % of the baseline value
        (IMMPACT: 30 moderate, 50 substantial). A baseline of 0 cannot be reduced:
        such a patient is a non-responder.
    definition : Relief, optional
        The same definition object :func:`~dryneedle_outcomes.time_to_relief` takes
        (``dno.Relief(percent_reduction=50)``), instead of ``mcid``/``threshold``/
        ``percent_reduction``, so that responders and time to relief are defined once.
        ``sustained=True`` is a property of a time course, not of one visit, and is
        refused here.
    missing : {"observed", "non_responder"}
        ``"observed"`` (observed cases): the denominator at a visit is the patients
        of the arm with a baseline and a value at that visit. ``"non_responder"``
        (non-responder imputation, a sensitivity analysis): the denominator is every
        patient of the arm with a baseline; a missing visit counts as not responding.
        Either way, patients without a baseline value are never responders, are in
        no denominator, and are listed in ``result.excluded`` and counted in the notes.
    conf_level : float
    reference_arm : str, optional
        The comparator; default a sham/control-like arm name, else the last arm.
    visits : sequence of int, optional
        Visits to report (default every visit >= 1 with a value).
    test : {"fisher", "chisq"}
        Two-sided Fisher's exact test (default) or Pearson's chi-square without
        continuity correction, per visit, arm vs reference.

    Returns
    -------
    RespondersResult

    Raises
    ------
    AnalysisError
        For an outcome not in the cohort, more than one definition, an instrument
        without an MCID and no other definition, an unknown ``missing``/``test`` or
        reference arm, or requested visits that are not post-baseline visits.

    Examples
    --------
    >>> import dryneedle_outcomes as dno
    >>> from dryneedle_outcomes.responders import responders
    >>> cohort = dno.simulate_cohort(n_patients=84, seed=2014)
    >>> res = responders(cohort, percent_reduction=50, missing="non_responder")
    >>> sorted(res.table["visit"].unique().tolist())
    [1, 2, 3, 4, 5, 6, 7]
    >>> bool((res.table["denominator"] == 42).all())
    True
    >>> print(res.definition)
    >= 50% reduction from baseline
    """
    inst = get_instrument(outcome)
    if missing not in MISSING_RULES:
        raise AnalysisError(f"missing must be one of {', '.join(MISSING_RULES)}, got "
                            f"{missing!r}")
    if test not in TESTS:
        raise AnalysisError(f"test must be 'fisher' or 'chisq', got {test!r}")
    conf_level = check_conf_level(conf_level)
    if definition is not None:
        definition = _from_relief(definition, mcid, threshold, percent_reduction)
        mcid, threshold, percent_reduction = (definition.mcid, definition.threshold,
                                              definition.percent_reduction)
    definition = resolve_definition(inst, mcid=mcid, threshold=threshold,
                                    percent_reduction=percent_reduction)
    cfb = cohort.change_from_baseline(outcome)

    patients = cohort.patients[["patient_id", "arm"]].copy()
    patients["arm"] = patients["arm"].astype(str)
    arms = [a for a in cohort.arms if (patients["arm"] == a).any()]
    if not arms:
        raise AnalysisError("the cohort has no patients")
    reference = choose_reference(arms, reference_arm) if len(arms) > 1 else arms[0]

    baseline = cfb.loc[(cfb["visit"] == 0) & cfb["aval"].notna(), "patient_id"]
    has_base = patients["patient_id"].isin(set(baseline))
    excluded = patients.loc[~has_base].assign(
        reason=f"no baseline (visit 0) value of {outcome}").reset_index(drop=True)
    n_base = patients.loc[has_base].groupby("arm")["patient_id"].nunique()

    post = cfb.loc[(cfb["visit"] >= 1) & cfb["aval"].notna() & cfb["base"].notna()].copy()
    post["arm"] = post["arm"].astype(str)
    post["responder"] = definition.met(post)
    available = sorted(int(v) for v in cfb.loc[(cfb["visit"] >= 1) & cfb["aval"].notna(),
                                               "visit"].unique())
    if visits is None:
        visits = available
    else:
        visits = sorted({int(v) for v in np.atleast_1d(visits)})
        bad = [v for v in visits if v < 1]
        if bad:
            raise AnalysisError(f"visits must be post-baseline (>= 1), got {bad}")
        absent = [v for v in visits if v not in available]
        if absent:
            raise AnalysisError(f"no value of {outcome} at visit(s) {absent}; visits with "
                                f"values: {available}")
    if not visits:
        raise AnalysisError(f"no post-baseline value of {outcome} in this cohort")
    empty_arms = arms_without_data(
        arms, reference, pd.unique(post["arm"]),
        what=f"post-baseline value of {outcome} with a baseline value") if len(arms) > 1 else []

    counts = post.groupby(["visit", "arm"]).agg(n_responders=("responder", "sum"),
                                               n_observed=("responder", "size"))
    rows = []
    for visit in visits:
        for arm in arms:
            x, n_obs = (counts.loc[(visit, arm)].tolist() if (visit, arm) in counts.index
                        else (0, 0))
            n_arm = int(n_base.get(arm, 0))
            denominator = n_obs if missing == "observed" else n_arm
            rows.append({"arm": arm, "visit": int(visit), "n_responders": int(x),
                         "n_missing": n_arm - int(n_obs), "denominator": int(denominator)})
    table = pd.DataFrame(rows, columns=list(TABLE_COLUMNS[:5]))
    with np.errstate(divide="ignore", invalid="ignore"):
        table["estimate"] = table["n_responders"] / table["denominator"].replace(0, np.nan)
    table["ci_lower"], table["ci_upper"] = wilson(table["n_responders"], table["denominator"],
                                                   conf_level)
    for col in ("n_responders", "n_missing", "denominator"):
        table[col] = table[col].astype(int)

    difference = _differences(table, arms, reference, conf_level, test)
    notes = _notes(definition, inst, missing, excluded, arms, reference, conf_level, test,
                   post, len(arms) > 1)
    timing_note = cohort.visit_ratings().note
    if timing_note:
        notes.append(timing_note + ".")
    if empty_arms:
        notes.insert(0, f"Arm(s) {', '.join(map(repr, empty_arms))} have patients but no "
                        f"post-baseline value of {outcome} with a baseline value: their "
                        "proportions and risk differences are missing.")
    word = {"observed": "observed cases", "non_responder": "non-responder imputation"}[missing]
    title = f"Responders on {inst.label}: {definition.label}; {word}"
    return RespondersResult(
        table=table, title=title, notes=tuple(notes), conf_level=float(conf_level),
        digits=1, percent=True, comparison=difference, excluded=excluded, outcome=outcome,
        definition=definition.label, missing=missing, reference_arm=reference, test=test,
        extra={"criterion": definition.kind, "cutoff": definition.value,
               "arms": tuple(arms)},
    )


def _p_value(x1: int, n1: int, x2: int, n2: int, test: str) -> float:
    if n1 == 0 or n2 == 0:
        return float("nan")
    tab = np.array([[x1, n1 - x1], [x2, n2 - x2]])
    if test == "fisher":
        return float(stats.fisher_exact(tab, alternative="two-sided")[1])
    if (tab.sum(axis=0) == 0).any():   # everyone (or no one) responded: no test
        return float("nan")
    return float(stats.chi2_contingency(tab, correction=False)[1])


def _differences(table: pd.DataFrame, arms, reference: str, conf_level: float,
                 test: str) -> pd.DataFrame:
    others = [a for a in arms if a != reference]
    if not others:
        return pd.DataFrame(columns=list(COMPARISON_COLUMNS))
    t = table.set_index(["visit", "arm"])
    rows = []
    for visit in table["visit"].unique():
        ref = t.loc[(visit, reference)]
        for arm in others:
            cur = t.loc[(visit, arm)]
            x1, n1 = int(cur["n_responders"]), int(cur["denominator"])
            x2, n2 = int(ref["n_responders"]), int(ref["denominator"])
            rows.append({"visit": int(visit), "arm": arm, "reference": reference,
                         "x1": x1, "n1": n1, "x2": x2, "n2": n2,
                         "p_value": _p_value(x1, n1, x2, n2, test)})
    d = pd.DataFrame(rows)
    with np.errstate(divide="ignore", invalid="ignore"):
        n1 = d["n1"].replace(0, np.nan)
        n2 = d["n2"].replace(0, np.nan)
        d["estimate"] = d["x1"] / n1 - d["x2"] / n2
        lo, hi = newcombe_difference(d["x1"], n1, d["x2"], n2, conf_level)
    d["ci_lower"], d["ci_upper"] = np.asarray(lo), np.asarray(hi)
    nnt = number_needed_to_treat(d["estimate"], d["ci_lower"], d["ci_upper"])
    d = pd.concat([d.reset_index(drop=True), nnt], axis=1)
    d["test"] = "fisher_exact" if test == "fisher" else "chisq_uncorrected"
    return comparison_frame(d, measure="risk_difference")[list(COMPARISON_COLUMNS)]


def _from_relief(definition, mcid, threshold, percent_reduction):
    """Check ``definition=`` is a Relief without sustained and the only definition given."""
    from .survival.relief import Relief  # the survival package imports this module's peers

    if not isinstance(definition, Relief):
        raise AnalysisError(f"definition must be a dno.Relief (e.g. dno.Relief(mcid=True)), "
                            f"got {definition!r}")
    others = [n for n, v in (("mcid", mcid), ("threshold", threshold),
                             ("percent_reduction", percent_reduction))
              if v is not None and v is not False]
    if others:
        raise AnalysisError(f"give one responder definition, got definition= and "
                            f"{' and '.join(others)}=; pass only one")
    if definition.sustained:
        raise AnalysisError("responders() counts response at each visit; "
                            "Relief(sustained=True) describes a time course, use it with "
                            "time_to_relief() or pass sustained=False")
    return definition


def _notes(definition: ResponderDefinition, inst: Instrument, missing: str,
           excluded: pd.DataFrame, arms, reference: str, conf_level: float, test: str,
           post: pd.DataFrame, compare: bool) -> list[str]:
    level = f"{conf_level:.0%}"
    notes = [f"Responder: {definition.label}"
             + (f" (MCID source: {inst.mcid_source})"
                if definition.kind == "mcid" and definition.value == inst.mcid else "")
             + "; values equal to the cut-off count as responders."]
    if missing == "observed":
        notes.append("Missing visits: observed cases; the denominator at each visit is the "
                     "patients of the arm with a baseline and a value at that visit "
                     "(n_missing lists those without a value).")
    else:
        notes.append("Missing visits: non-responder imputation (sensitivity analysis); the "
                     "denominator is every patient of the arm with a baseline, and a "
                     "missing visit counts as not responding (n_missing of them).")
    if len(excluded):
        by_arm = excluded.groupby("arm")["patient_id"].size()
        detail = ", ".join(f"{arm}: {int(by_arm.get(arm, 0))}" for arm in arms)
        notes.append(f"{len(excluded)} patient(s) without a baseline value of {inst.column} "
                     f"({detail}) are never responders and are in no denominator "
                     "(result.excluded).")
    else:
        notes.append(f"Every patient has a baseline value of {inst.column}.")
    if definition.kind == "percent_reduction":
        zero = int((post["base"] == 0).groupby(post["patient_id"]).any().sum())
        if zero:
            notes.append(f"{zero} patient(s) with a baseline of 0 cannot improve by a "
                         "percentage of it and count as non-responders.")
    notes.append(f"{level} CI of proportions: Wilson score (R prop.test, correct = FALSE).")
    if compare:
        tname = ("Fisher's exact test, two-sided" if test == "fisher"
                 else "Pearson's chi-square test without continuity correction")
        notes.append(
            f"Risk difference: arm minus {reference}, {level} CI by Newcombe's hybrid score "
            f"method (Newcombe 1998, method 10); p-value: {tname}. NNT = 1/RD (NNTB: to "
            "benefit, NNTH: to harm); its CI is the reciprocal of the RD CI and, when that "
            "includes 0, runs through infinity (Altman 1998, BMJ 317:1309).")
    return notes


__all__ = ["RespondersResult", "ResponderDefinition", "number_needed_to_treat", "responders"]
