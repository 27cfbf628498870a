"""The Methods text of a run: what ran, in paragraphs, with citations.

Every sentence is built from the run's configuration and its result objects (the
sections of :func:`~dryneedle_outcomes.report.analyses.run_analyses`), never from
boilerplate: a method is named, and cited, only when the run used it. Citations are
Pandoc's (``[@kenward_roger_1997]``); :mod:`.references` holds the BibTeX entry of every
key, and a run writes exactly the entries ``methods.md`` cites.

The SAMPL guidelines (Lang & Altman 2015) ask a Methods section to name each method with
its reference, the software, how missing data were handled and the CI level; CONSORT
2025 items 21a-c (statistical methods, additional analyses, missing data) and CONSORT
Harms 2022 (harms: how collected, counted and compared) say the same for trials.

Each function returns ``(heading, paragraphs)`` or None when the analysis did not run.
"""

from __future__ import annotations

from .. import __version__
from ..cohort import Cohort
from ..harms.rates import AdverseEventRates
from ..instruments import get_instrument
from ..manifest import package_versions
from ..models.methods_text import DF_NAMES, adjusted_for, describe
from ..models.reference_based import METHODS as RB_CODES
from .sections import Section

Paragraphs = tuple[str, list[str]]

#: How each reference-based method is named in the text.
RB_NAMES = {"mar": "missing at random (MAR)", "jump_to_reference": "jump to reference (J2R)",
            "copy_reference": "copy reference (CR)",
            "copy_increments_in_reference": "copy increments in reference (CIR)",
            "last_mean_carried_forward": "last mean carried forward (LMCF)"}
#: The citation of each df method of the mixed models.
DF_CITES = {"kenward_roger": "kenward_roger_1997", "kenward_roger_linear": "kenward_roger_1997",
            "satterthwaite": "satterthwaite_1946"}
#: Multiplicity procedures with a citation.
PROCEDURE_CITES = {"hochberg": ("Hochberg's step-up procedure", "hochberg_1988"),
                   "holm": ("Holm's step-down procedure", "holm_1979")}
#: The dependencies whose versions the software paragraph names.
SOFTWARE = ("numpy", "scipy", "pandas", "statsmodels")


def results_by_name(sections: list[Section]) -> dict:
    """The result objects of every section, by name (``trajectory_mmrm``, ...)."""
    return {k: v for s in sections for k, v in s.results.items()}


def named_table(sections: list[Section], name: str):
    """The :class:`~dryneedle_outcomes.tables.TableResult` written as
    ``tables/<name>.csv``, or None."""
    return next((t.table for s in sections for t in s.tables if t.name == name), None)


def primary_fit(sections: list[Section]):
    """The trajectory fit the results report first: the MMRM, else the first model."""
    fits = {k: v for k, v in results_by_name(sections).items() if k.startswith("trajectory_")}
    return fits.get("trajectory_mmrm") or next(iter(fits.values()), None)


def _join(items: list[str]) -> str:
    items = [str(i) for i in items]
    if len(items) <= 2:
        return " and ".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def lower_first(label: str) -> str:
    """``label`` with its first letter lower-cased unless it starts an acronym
    ("First-step pain" -> "first-step pain", "FHSQ pain" unchanged).

    Examples
    --------
    >>> lower_first("First-step pain (VAS, mm)"), lower_first("FHSQ pain")
    ('first-step pain (VAS, mm)', 'FHSQ pain')
    """
    if len(label) > 1 and label[1].isupper():
        return label
    return label[:1].lower() + label[1:]


def article(noun: str) -> str:
    """"an MMRM", "a random-slope model".

    Examples
    --------
    >>> article("MMRM (unstructured covariance)"), article("random-slope model")
    ('an MMRM (unstructured covariance)', 'a random-slope model')
    """
    return ("an " if noun[:1] in "AEIOUaeiouM" or noun.startswith(("MMRM", "FHSQ"))
            else "a ") + noun


def _arm(arm) -> str:
    """An arm as running text names it (underscores as spaces, as the figures do)."""
    return str(arm).replace("_", " ")


def data_methods(cohort: Cohort, inputs: dict, sections: list[Section]) -> Paragraphs:
    """Loading, the quality ledger's counts and the values set aside."""
    counts = cohort.quality.counts
    parts = [f"{r.table.replace('_', ' ')}: {int(r.read)} rows read, {int(r.kept)} kept, "
             f"{int(r.rejected)} rejected" for r in counts.itertuples()]
    q = cohort.quality
    files = _join([str(k).replace("_", " ") for k in inputs if k not in ("config",
                                                                             "mapping")])
    text = [(f"The {files} files were loaded, checked against the declared ranges and "
             "vocabularies and converted to one tidy table per kind of record; every "
             f"row is accounted for in a quality ledger ({'; '.join(parts)}). "
             f"{len(q.corrections)} correction(s) (unit conversions, recodings, parsed "
             f"soreness intervals) and {len(q.flags)} flagged record(s) were listed, "
             "none applied silently.")]
    arms = cohort.patients["arm"].value_counts(sort=False)
    text.append(f"The cohort held {len(cohort.patients)} patients ("
                + ", ".join(f"{_arm(a)} {int(n)}" for a, n in arms.items()) + "); each "
                "analysis states how many it used.")
    n_dev = len(cohort.protocol_deviations)
    if n_dev:
        text[-1] += (f" {n_dev} needled visit(s) were protocol deviations (a "
                     "contraindication, or needling in the control arm); they were kept.")
    used = named_table(sections, "estimand_data")
    if used is not None:
        t = used.table
        text.append(f"Under the estimand, {int(t['rows_used'].sum())} values of the outcome "
                    f"were used and {int(t['rows_set_aside'].sum())} set aside (kept in the "
                    "data, listed in the estimand table).")
    return "Data handling", [" ".join(text)]


def estimand_methods(estimand: dict | None, sections: list[Section]) -> Paragraphs | None:
    """The estimand's five attributes (ICH E9(R1) A.3.2); None when the run has no
    estimand table (none configured, or it could not be applied)."""
    if estimand is None or named_table(sections, "estimand") is None:
        return None
    from ..estimands import Estimand

    est = Estimand.from_dict(estimand)          # checked: raises on a bad table
    label = get_instrument(est.variable).label
    strategies: dict[str, list[str]] = {}
    for event, strategy in (estimand.get("intercurrent") or {}).items():
        strategies.setdefault(strategy.replace("_", " "), []).append(event.replace("_", " "))
    handled = "; ".join(f"a {s} strategy for {_join(evs)}" for s, evs in strategies.items())
    visit = estimand.get("visit")
    treatment, summary = estimand.get("treatment"), estimand.get("summary")
    text = (f"The estimand was defined by the attributes of the ICH E9(R1) addendum "
            f"[@ich_e9_r1_2019]: population {est.population.replace('_', '-')}; variable "
            f"{lower_first(label)}" + (f" at visit {visit}" if visit is not None else "")
            + (f"; treatment: {treatment}" if treatment else "")
            + (f"; intercurrent events handled with {handled}" if handled else "")
            + (f"; population-level summary: {summary}" if summary else "") + ".")
    return "Estimand", [text]


def primary_methods(sections: list[Section]) -> Paragraphs | None:
    """The primary model (MMRM, covariance, df, covariates, primary visit)."""
    fit = primary_fit(sections)
    if fit is None:
        return None
    inst = get_instrument(fit.outcome)
    cov = adjusted_for(fit)
    df = DF_NAMES.get(fit.df_method, fit.df_method)
    cite = DF_CITES.get(fit.df_method)
    mmrm = fit.model == "mmrm"
    text = (f"{inst.label} was analysed with {article(describe(fit))}"
            + (" [@mallinckrodt_2008]" if mmrm else "")
            + " fitted by restricted maximum likelihood to every available post-baseline "
            "observation (valid when values are missing at random), with arm, visit and "
            "their interaction"
            + (f", adjusted for {_join(cov)}" if cov else "")
            + f"; {fit.n_patients} patients and {fit.n_observations} observations. "
            f"{fit.conf_level:.0%} confidence intervals and tests used {df} degrees of freedom"
            + (f" [@{cite}]" if cite else "") + "; differences are each arm minus "
            f"{_arm(fit.reference_arm)}.")
    if fit.primary_visit is not None:
        text += (f" The primary time point, visit {fit.primary_visit}, was pre-specified "
                 "(not chosen from the data).")
    others = [describe(f) for k, f in results_by_name(sections).items()
              if k.startswith("trajectory_") and f is not fit]
    if others:
        text += f" Supportive models: {_join(others)}."
    return "Primary analysis", [text]


def missing_methods(sections: list[Section], deltas=()) -> Paragraphs | None:
    """Reference-based imputation and the tipping point (sensitivity analyses)."""
    res = {k[len("reference_based_"):]: v for k, v in results_by_name(sections).items()
           if k.startswith("reference_based_")}
    if not res:
        return None
    first = next(iter(res.values()))
    methods = _join([RB_NAMES.get(m, m.replace("_", " ")) for m in res])
    if first.approach == "conditional_mean":
        how = ("conditional mean imputation with "
               + ("jackknife" if first.variance == "jackknife" else first.variance)
               + " standard errors [@wolbers_2022]")
    else:
        how = (f"multiple imputation ({first.n_samples} imputations, "
               + ("Bayesian MCMC draws" if first.approach == "bayes" else
                  "approximate Bayesian draws")
               + " of the imputation model) combined by Rubin's rules [@rubin_1987]")
    reference = any(m != "mar" for m in res)
    text = (f"Sensitivity of the primary result to the missing values was assessed under "
            f"{methods}" + (" [@carpenter_2013]" if reference else "")
            + f", by {how}; the reference arm was {_arm(first.reference_arm)}.")
    if named_table(sections, "tipping_point") is not None:
        grid = (f" over a pre-specified grid of {len(deltas)} values from {min(deltas):g} to "
                f"{max(deltas):g} {get_instrument(first.outcome).units}" if deltas else "")
        text += (" A tipping-point analysis added a shift delta to every imputed value of "
                 f"the non-reference arm{grid} and reports the delta at which the "
                 "difference loses significance [@cro_2020].")
    codes = ", ".join(RB_CODES.get(m, m) for m in res)
    text += f" (Method codes as in R's rbmi: {codes}.)"
    return "Missing data and sensitivity analyses", [text]


def relief_methods(sections: list[Section]) -> Paragraphs | None:
    """Time to relief: Turnbull, the interval-censored log-rank test, IC PH, Cox, RMST."""
    res = [v for k, v in results_by_name(sections).items() if k.startswith("time_to_relief_")]
    if not res:
        return None
    r = res[0]
    scales = _join([x.timescale for x in res])
    mcid = " [@landorf_2010]" if r.relief.mcid else ""
    text = [f"Time to relief ({r.definition}{mcid}) was analysed in {scales}."]
    if r.interval_censored:
        text.append("Relief was only known to have happened between two assessments, so "
                    "each patient's time was the interval (lower, upper] and the curves and "
                    "medians were estimated by Turnbull's nonparametric maximum likelihood "
                    f"estimator [@turnbull_1976] with patient-bootstrap percentile CIs "
                    f"({r.n_boot} replicates, seed {r.seed}).")
        if r.interval_test_result is not None:
            scores = " [@finkelstein_1986]" if "Finkelstein" in r.interval_test_label else ""
            text.append(f"The arms were compared by the {r.interval_test_label}{scores}, "
                        "the score test for interval-censored data [@fay_shaw_2010].")
        if r.ic_ph is not None:
            text.append("Hazard ratios came from a semi-parametric proportional hazards "
                        "model of the intervals [@finkelstein_1986; @anderson_bergman_2017] "
                        f"with bootstrap percentile CIs ({r.ic_ph.n_boot} replicates) and "
                        "profile likelihood-ratio p-values.")
        text.append("As secondary, right-censored analyses, the log-rank test and a Cox "
                    "model with Efron's handling of ties [@efron_1977] used the first "
                    "assessment meeting the definition.")
    else:
        text.append("Curves and medians were estimated by Kaplan-Meier, compared by the "
                    "log-rank test and a Cox model with Efron's handling of ties "
                    "[@efron_1977].")
    if r.ph_test is not None:
        text.append("Proportional hazards were checked with scaled Schoenfeld residuals "
                    "[@schoenfeld_1982; @grambsch_therneau_1994].")
    if r.covariates:
        text.append(f"Regression models were adjusted for {_join(list(r.covariates))}"
                    + (f" and stratified by {r.strata}" if r.strata else "") + ".")
    taus = [f"{x.rmst_tau:g} {x.timescale}" for x in res if x.rmst_tau is not None]
    if taus:
        text.append("The restricted mean time without relief [@royston_parmar_2013] was "
                    f"compared up to pre-specified restriction times ({_join(taus)}).")
    if r.aft:
        text.append("Parametric accelerated failure time models ("
                    + _join(list(r.aft)) + ") gave time ratios.")
    return "Time to relief", [" ".join(text)]


def responder_methods(sections: list[Section]) -> Paragraphs | None:
    """Responders: the definition, missing values, the intervals used, adjustment."""
    res = [v for k, v in results_by_name(sections).items() if k.startswith("responders_")]
    if not res:
        return None
    r = res[0]
    notes = " ".join(n for x in res for n in x.notes)
    mcid = " [@landorf_2010]" if "MCID" in r.definition else ""
    strategies = {"non_responder": "counted as non-responders (non-responder imputation, a "
                                   "composite strategy)",
                  "observed": "left out (observed cases, assuming missing completely at "
                              "random)"}
    missing = _join([strategies.get(x.missing, x.missing.replace("_", " ")) for x in res])
    text = [f"A responder was a patient with {r.definition}{mcid}. Patients without a "
            f"value at a visit were {missing}."]
    ci = []
    if "Wilson" in notes:
        ci.append("proportions with Wilson score intervals [@wilson_1927]")
    if "Clopper" in notes:
        ci.append("proportions with exact Clopper-Pearson intervals [@clopper_pearson_1934]")
    if "Newcombe" in notes:
        ci.append("risk differences with Newcombe's hybrid score intervals [@newcombe_1998]")
    if ci:
        text.append(f"{r.conf_level:.0%} CIs: {_join(ci)}"
                    + ("; p-values by Fisher's exact test" if r.test == "fisher" else "")
                    + ".")
    if "NNT" in notes:
        text.append("Numbers needed to treat are reciprocals of the risk differences, with "
                    "intervals through infinity when the difference's CI includes 0 "
                    "[@altman_1998].")
    adjusted = [x for x in res if len(x.adjusted)]
    if adjusted:
        a = adjusted[0].adjusted
        text.append(f"Covariate-adjusted risk differences (adjusted for "
                    f"{a['adjusted_for'].iloc[0]}) came from logistic regression and "
                    "standardisation over all analysed patients [@ge_2011; "
                    "@fda_covariates_2023], with "
                    + ("robust (HC0) " if a["variance"].iloc[0] == "robust" else "")
                    + "delta-method CIs.")
    return "Responders", [" ".join(text)]


def harms_methods(sections: list[Section]) -> Paragraphs | None:
    """Harms: denominators, the soreness rule, exact intervals, CONSORT Harms 2022."""
    table = named_table(sections, "harms_table")
    if table is None:
        return None
    rule = table.extra.get("soreness_rule")
    pers = [t.per for s in sections for t in (x.table for x in s.tables)
            if isinstance(t, AdverseEventRates)]
    words = {"patient": "per participant", "session": "per treatment appointment",
             "100_needles": "per 100 needle insertions"}
    text = ["Adverse events were coded to a controlled vocabulary and reported following "
            "CONSORT Harms 2022 [@junqueira_2023]: participants with at least one event and "
            "numbers of events, by arm and term"
            + (f", as rates {_join([words.get(p, p) for p in pers])}" if pers else "") + "."]
    if "session" in pers:
        text.append("The per-appointment denominator follows the dry-needling trial of "
                    "Cotchett et al. [@cotchett_2014].")
    text.append("Proportions have exact Clopper-Pearson CIs [@clopper_pearson_1934]"
                + (" and rates exact Poisson CIs [@garwood_1936]" if pers else "") + ".")
    text.append((rule[:1].upper() + rule[1:] + ".") if rule else
                "Every recorded post-needling soreness counted as an adverse event.")
    if named_table(sections, "ae_dose_response") is not None:
        text.append("The relation of adverse events to needles per appointment was "
                    "estimated by generalized estimating equations clustered by patient "
                    "[@liang_zeger_1986].")
    return "Harms", [" ".join(text)]


def other_methods(sections: list[Section], options) -> list[Paragraphs]:
    """Blinding, multiplicity and subgroups, when configured."""
    out = []
    if named_table(sections, "blinding") is not None:
        out.append(("Blinding", ["Blinding was assessed from the patients' guesses of "
                                 "their arm with Bang's and James' indices [@bang_2004]."]))
    mult = getattr(options, "multiplicity", None)
    if mult is not None and named_table(sections, "multiplicity") is not None:
        name, cite = PROCEDURE_CITES.get(mult.procedure, (
            mult.procedure.replace("_", " ") + " procedure", None))
        eps = _join([f"{lower_first(get_instrument(e).label)} at visit {v}"
                     for e, v in mult.endpoints])
        out.append(("Multiplicity", [
            f"The primary endpoints ({eps}) were tested at a family-wise alpha of "
            f"{mult.alpha:g} with {name}" + (f" [@{cite}]" if cite else "") + "."]))
    sub = getattr(options, "subgroups", None)
    if sub is not None and any(s.key == "subgroups" and s.items for s in sections):
        out.append(("Subgroups", [
            "The primary contrast was estimated within pre-specified subgroups ("
            + _join([v.replace("_", " ") for v in sub.variables])
            + ") with tests of the arm-by-subgroup interaction; these analyses are "
            "exploratory."]))
    return out


def reporting_methods(cohort: Cohort) -> Paragraphs:
    """The reporting guidelines followed and the software."""
    v = package_versions()
    soft = ", ".join(f"{n} {v[n]}" for n in SOFTWARE if n in v)
    text = ["The report follows CONSORT 2025 [@hopewell_2025]"
            + (" and describes the needling with the items of STRICTA [@macpherson_2010]"
               if "needled" in cohort.assessments else "") + ".",
            f"Analyses ran in Python {v['python']} with dryneedle_outcomes {__version__} "
            f"({soft})."]
    return "Reporting and software", [" ".join(text)]


def methods_sections(cohort: Cohort, sections: list[Section], *, options=None,
                     estimand: dict | None = None, inputs: dict | None = None
                     ) -> list[Paragraphs]:
    """Every Methods paragraph of a run, as ``(heading, paragraphs)`` in order."""
    deltas = ()
    if options is not None and options.reference_based is not None:
        deltas = tuple(options.reference_based.tipping_deltas)
    parts = [data_methods(cohort, inputs or {}, sections), estimand_methods(estimand, sections),
             primary_methods(sections), missing_methods(sections, deltas),
             relief_methods(sections), responder_methods(sections),
             harms_methods(sections), *other_methods(sections, options),
             reporting_methods(cohort)]
    return [p for p in parts if p is not None]

