"""Responder analysis: the proportion of patients whose improvement is clinically important.

A patient is a *responder* at a visit when the improvement from baseline of the
outcome meets one definition, chosen once per analysis:

- ``mcid`` (the default): improvement >= the minimal clinically important
  difference, the instrument's registered MCID unless a number is given
  (first-step pain 19 mm, Landorf 2010);
- ``percent_reduction``: improvement >= that percentage of the room to improve at
  baseline (IMMPACT, Dworkin 2008: >= 30% moderate, >= 50% substantial): the baseline
  value of a higher-is-worse scale such as first-step pain, ``upper - baseline`` of a
  higher-is-better one such as the FHSQ pain domain (0 = worst), never the FHSQ
  baseline score itself (:func:`~dryneedle_outcomes.definitions.room_to_improve`);
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
from .definitions import ResponderDefinition, resolve_definition, room_to_improve
from .errors import AnalysisError
from .instruments import Instrument, get_instrument
from .models.design import arms_without_data, choose_reference, visit_days
from .nnt import number_needed_to_treat
from .results import AnalysisResult, as_table, comparison_frame, deprecated_name, nothing_fitted
from .stats.checks import check_conf_level
from .stats.intervals import newcombe_difference, wilson
from .tables import TableResult

MISSING_RULES = ("non_responder", "observed")
#: How each rule is named in titles, headlines and the report.
MISSING_LABELS = {"non_responder": "non-responder imputation (composite: missing = "
                                   "non-response)",
                  "observed": "observed cases (assumes missing completely at random)"}
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
    adjusted : pandas.DataFrame
        With ``adjust=``: per visit and non-reference arm, the covariate-adjusted
        marginal ``risk_difference`` and ``risk_ratio`` (standardisation after a
        logistic regression; :mod:`dryneedle_outcomes.responders_adjusted`) in the
        comparison schema, then ``visit``, ``std_error`` (of the difference; of the log
        ratio), ``risk_arm``, ``risk_reference`` (standardised proportions), ``n``,
        ``adjusted_for``, ``variance``, ``converged``. Empty without ``adjust=``.
    effect_sizes : pandas.DataFrame
        Per visit and non-reference arm: the mean difference in improvement from
        baseline and Hedges' g (:mod:`dryneedle_outcomes.effect_sizes`).
    outcome, definition, missing, reference_arm, test : str
    """

    comparison: pd.DataFrame = field(default_factory=pd.DataFrame)
    excluded: pd.DataFrame = field(default_factory=pd.DataFrame)
    adjusted: pd.DataFrame = field(default_factory=pd.DataFrame)
    effect_sizes: pd.DataFrame = field(default_factory=pd.DataFrame)
    outcome: str = ""
    definition: str = ""
    missing: str = "non_responder"
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

    def adjusted_table(self, measure: str = "risk_difference") -> TableResult:
        """The covariate-adjusted risk differences (``measure="risk_difference"``: in
        percentage points, as the unadjusted ones) or risk ratios (``"risk_ratio"``) as
        a :class:`TableResult`; the modelled risks as percentages."""
        cols = ("arm", "reference", "measure", "visit", "risk_arm", "risk_reference",
                "estimate", "ci_lower", "ci_upper", "p_value", "adjusted_for")
        level = f"{self.conf_level:.0%}"
        var = (self.adjusted["variance"].iloc[0] if len(self.adjusted) else "robust")
        note = (f"Adjusted: logistic regression of responder status on arm + "
                f"{self.adjusted['adjusted_for'].iloc[0] if len(self.adjusted) else ''} "
                "at each visit; marginal risks by standardisation over all analysed "
                "patients (g-computation; FDA covariate-adjustment guidance 2023, Ge et "
                f"al. 2011); {level} CIs by the delta method with the "
                + ("robust (HC0 sandwich)" if var == "robust" else "model-based")
                + " covariance of the coefficients; the risk ratio's CI on the log scale.")
        rows = self.adjusted[self.adjusted["measure"] == measure].reset_index(drop=True)
        difference = measure == "risk_difference"
        what = "risk difference" if difference else "risk ratio"
        return TableResult(table=rows, columns=cols,
                           title=f"Covariate-adjusted responders vs {self.reference_arm}: "
                                 f"{what} ({level} CI)",
                           notes=(note,), conf_level=self.conf_level,
                           digits=self.digits if difference else 2, percent=difference)

    def effect_size_table(self) -> TableResult:
        """Mean difference in improvement and Hedges' g per visit, as a TableResult."""
        from .effect_sizes import effect_size_table

        return effect_size_table(self.effect_sizes, self.reference_arm, self.conf_level)

    def tables(self) -> dict[str, TableResult]:
        """The proportions (with the notes) and, with two arms or more, the comparisons
        (unadjusted; adjusted when asked; mean differences with Hedges' g)."""
        out = {"responders": as_table(self)}
        if not self.comparison.empty:
            out["comparison"] = self.comparison_table()
        if not self.adjusted.empty:
            out["adjusted"] = self.adjusted_table()
            if (self.adjusted["measure"] == "risk_ratio").any():
                out["adjusted_ratio"] = self.adjusted_table("risk_ratio")
        if not self.effect_sizes.empty:
            out["effect_sizes"] = self.effect_size_table()
        return out

    def summary(self) -> str:
        """Plain text: proportions per visit and arm, then differences, then the notes."""
        parts = [self.title, self.formatted().to_string(index=False), ""]
        for name, tab in self.tables().items():
            if name != "responders":
                parts += [tab.title, tab.formatted().to_string(index=False), ""]
        parts += list(self.notes)
        if self.warnings:
            parts += ["", "Warnings:", *(f"  - {w}" for w in self.warnings)]
        return "\n".join(parts)

    def _others(self) -> list[TableResult]:
        """The tables after the proportions; the result's notes under the first."""
        others = [t for name, t in self.tables().items() if name != "responders"]
        if others:
            others[0] = replace(others[0], notes=(*self.notes, *others[0].notes))
        return others

    def to_markdown(self) -> str:
        """Markdown: the proportions table, then the comparisons, then the notes."""
        main = TableResult(self.table, self.title, (), self.conf_level, self.digits, True)
        rest = [t.to_markdown() for t in self._others()]
        return "\n\n".join([main.to_markdown(), *rest] if rest
                            else [main.to_markdown(), "\n".join(self.notes)])

    def to_latex(self) -> str:
        """LaTeX ``table`` environments (proportions, comparisons), notes under the second."""
        main = TableResult(self.table, self.title, (), self.conf_level, self.digits, True)
        rest = self._others()
        if not rest:
            return replace(main, notes=self.notes).to_latex()
        return "\n\n".join([main.to_latex(), *(t.to_latex() for t in rest)])

    def to_html(self) -> str:
        """An HTML fragment: every table, the notes under the second (as :meth:`to_latex`)."""
        main = TableResult(self.table, self.title, (), self.conf_level, self.digits, True)
        rest = self._others()
        if not rest:
            return replace(main, notes=self.notes).to_html()
        return main.to_html() + "".join(t.to_html() for t in rest)

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
    missing: str = "non_responder",
    conf_level: float = 0.95,
    reference_arm: str | None = None,
    visits=None,
    test: str = "fisher",
    adjust=(),
    variance: str = "robust",
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
        Responder = improvement >= ``percent_reduction`` % of the room to improve at
        baseline (IMMPACT: 30 moderate, 50 substantial): the baseline value for a
        higher-is-worse 0-based scale (first-step pain), ``upper - baseline`` for a
        higher-is-better one (FHSQ pain: ``100 - baseline``; a percentage of the FHSQ
        baseline score, whose 0 is the worst state, would be meaningless). A patient
        with no room (baseline at the best end) cannot improve by a percentage and is
        a non-responder.
    definition : Relief, optional
        The same definition object :func:`~dryneedle_outcomes.time_to_relief` takes
        (``dno.Relief(percent_reduction=50)``), instead of ``mcid``/``threshold``/
        ``percent_reduction``, so that responders and time to relief are defined once.
        ``sustained=True`` is a property of a time course, not of one visit, and is
        refused here.
    missing : {"non_responder", "observed"}
        How a missing visit enters the estimand (ICH E9(R1)), not a technicality:

        - ``"non_responder"`` (the default; non-responder imputation): the
          denominator is every patient of the arm with a baseline and a missing visit
          counts as not responding. This is a **composite strategy** (ICH E9(R1)
          A.3.2): dropping out or missing the visit is part of the outcome (response =
          attended and improved), a different estimand, not a "sensitivity analysis"
          of the observed-cases one.
        - ``"observed"`` (observed cases): the denominator at a visit is the patients
          of the arm with a baseline and a value at that visit. Unbiased only if
          visits are missing completely at random (MCAR), an assumption trials rarely
          support; not for a headline result.

        Either way, patients without a baseline value are never responders, are in
        no denominator, and are listed in ``result.excluded`` and counted in the notes.
        (Multiple-imputation responders, under missing at random, are a separate
        estimand and not built here.)
    conf_level : float
    reference_arm : str, optional
        The comparator; default a sham/control-like arm name, else the last arm.
    visits : sequence of int, optional
        Visits to report (default every visit >= 1 with a value).
    test : {"fisher", "chisq"}
        Two-sided Fisher's exact test (default) or Pearson's chi-square without
        continuity correction, per visit, arm vs reference.
    adjust : sequence of str
        Baseline covariates for a covariate-adjusted comparison (``result.adjusted``):
        ``"baseline"`` (the outcome at visit 0) and/or columns of ``cohort.patients``
        such as the stratification factor ``"site"``. Per visit, a logistic regression
        of responder status on arm and these, then the marginal risk difference and
        risk ratio by standardisation (g-computation) with delta-method CIs, as the FDA
        guidance on covariate adjustment (2023) recommends; the unadjusted comparison
        stays in ``result.comparison``. Default: none.
    variance : {"robust", "model"}
        Covariance of the logistic coefficients in the delta method: the HC0 sandwich
        (default; robust to a misspecified working model, as the FDA guidance prefers)
        or the model-based inverse information (Ge et al. 2011).

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
    adjusted, adjust_warnings = pd.DataFrame(), []
    if adjust and len(arms) > 1:
        from .responders_adjusted import adjusted_comparison

        extra_cols = [c for c in adjust if c != "baseline" and c in cohort.patients]
        pats = cohort.patients.loc[has_base, ["patient_id", "arm", *extra_cols]].copy()
        pats["arm"] = pats["arm"].astype(str)
        pats["base"] = pats["patient_id"].map(
            cfb.loc[cfb["visit"] == 0].drop_duplicates("patient_id")
            .set_index("patient_id")["aval"])
        adjusted, adjust_warnings = adjusted_comparison(
            pats, post, visits=visits, arms=arms, reference=reference, adjust=adjust,
            missing=missing, conf_level=conf_level, variance=variance)
    from .effect_sizes import standardised_differences

    effect_sizes = (standardised_differences(post, visits=visits, arms=arms,
                                             reference=reference, conf_level=conf_level)
                    if len(arms) > 1 else pd.DataFrame())
    notes = _notes(definition, inst, missing, excluded, arms, reference, conf_level, test,
                   post, len(arms) > 1)
    timing_note = cohort.visit_ratings().note
    if timing_note:
        notes.append(timing_note + ".")
    if empty_arms:
        notes.insert(0, f"Arm(s) {', '.join(map(repr, empty_arms))} have patients but no "
                        f"post-baseline value of {outcome} with a baseline value: their "
                        "proportions and risk differences are missing.")
    word = MISSING_LABELS[missing]
    title = f"Responders on {inst.label}: {definition.label}; {word}"
    return RespondersResult(
        table=table, title=title, notes=tuple(notes), conf_level=float(conf_level),
        digits=1, percent=True, comparison=difference, excluded=excluded, outcome=outcome,
        definition=definition.label, missing=missing, reference_arm=reference, test=test,
        adjusted=adjusted, effect_sizes=effect_sizes, warnings=tuple(adjust_warnings),
        extra={"criterion": definition.kind, "cutoff": definition.value,
               "arms": tuple(arms),
               # where a figure puts each visit in time, and the treatment sessions
               "visit_days": visit_days(cohort.visit_ratings().assessments, visits),
               "session_visits": _sessions(cohort)},
    )


def _sessions(cohort: Cohort) -> tuple[int, ...] | None:
    """The cohort's treatment sessions; None when the data do not record needling."""
    try:
        return tuple(cohort.session_visits())
    except AnalysisError:
        return None


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
                     "(n_missing lists those without a value). This estimates the "
                     "proportion of responders only if visits are missing completely at "
                     "random (MCAR); it is not a headline estimand (ICH E9(R1)).")
    else:
        notes.append("Missing visits: non-responder imputation, a composite strategy (ICH "
                     "E9(R1) A.3.2): a missed visit or dropout counts as non-response, so "
                     "the estimand is the proportion of patients with a baseline who "
                     "attend the visit and respond; the denominator is every patient of "
                     "the arm with a baseline (n_missing of them without a value).")
    if len(excluded):
        by_arm = excluded.groupby("arm")["patient_id"].size()
        detail = ", ".join(f"{arm}: {int(by_arm.get(arm, 0))}" for arm in arms)
        notes.append(f"{len(excluded)} patient(s) without a baseline value of {inst.column} "
                     f"({detail}) are never responders and are in no denominator "
                     "(result.excluded).")
    else:
        notes.append(f"Every patient has a baseline value of {inst.column}.")
    if definition.kind == "percent_reduction":
        no_room = room_to_improve(inst, post["base"]) <= 0
        zero = int(no_room.groupby(post["patient_id"]).any().sum())
        best = inst.upper if inst.higher_is_better else inst.lower
        if zero:
            notes.append(f"{zero} patient(s) with a baseline at the best end of the scale "
                         f"({best:g}) have no room to improve and count as non-responders.")
        notes.append("Percent improvement is measured against the room to improve at "
                     "baseline: " + ("100 x improvement / (baseline - "
                                     f"{inst.lower:g})." if not inst.higher_is_better else
                                     f"100 x improvement / ({inst.upper:g} - baseline), "
                                     "as the scale's best value is its upper end."))
    notes.append(f"{level} CI of proportions: Wilson score (R prop.test, correct = FALSE).")
    if compare:
        tname = ("Fisher's exact test, two-sided" if test == "fisher"
                 else "Pearson's chi-square test without continuity correction")
        notes.append(
            f"Risk difference: arm minus {reference}, {level} CI by Newcombe's hybrid score "
            f"method (Newcombe 1998, method 10); p-value: {tname}. NNT = 1/RD (NNTB: to "
            "benefit, NNTH: to harm); its CI is the reciprocal of the RD CI and, when that "
            "includes 0, runs through infinity (Altman 1998, BMJ 317:1309); printed NNTs are "
            "whole numbers rounded up (Cochrane Handbook 15.4.4), the decimals are in the "
            "CSV (nnt, nnt_ci_lower, nnt_ci_upper).")
    return notes


__all__ = ["RespondersResult", "ResponderDefinition", "number_needed_to_treat", "responders"]
