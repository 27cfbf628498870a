"""``subgroup_analysis``: the primary contrast by pre-specified subgroups, with interaction tests.

The evidence that a treatment effect differs between subgroups is the test of the
treatment-by-subgroup interaction, not a p-value within each subgroup (Wang, Lagakos,
Ware, Hunter & Drazen 2007, "Statistics in medicine -- reporting of subgroup analyses
in clinical trials", N Engl J Med 357:2189-94; CONSORT 2025 item 26 on additional
analyses: subgroup analyses are reported with the interaction test and said to be
pre-specified or not; EMA Guideline on the investigation of subgroups in confirmatory
clinical trials, EMA/CHMP/539146/2013, 2019: consistency is judged from the
interaction and the forest plot, and the subgroups and their cut-points are set before
unblinding). So for each pre-specified subgroup variable this fits **one** model, the
primary analysis' MMRM with the three-way interaction

    y ~ baseline + baseline:visit + arm * visit * subgroup

(unstructured covariance over visits, REML, Kenward-Roger df by default; the same
covariance parameters across subgroups), and reports at the pre-specified visit

- the arm difference within each level of the subgroup (``estimates``; the CIs are
  descriptive, each level has less information than the trial), and
- the F test of the arm x subgroup interaction at that visit (``interaction``: are the
  level-specific differences equal? ``K - 1`` numerator df for ``K`` levels).

One model per variable (not one fit per level) keeps the covariance estimated from
every patient, so that the levels' estimates are comparable and the interaction test is
a proper test of their difference. A continuous variable (``symptom_months``, the
baseline score) is split at a pre-specified cut (``cuts=``) or, by default, at the
median of the patients modelled -- a data-derived cut that the notes and a warning
state (EMA 2019 asks for cut-points fixed in advance) -- and its interaction is also
tested on the continuous scale (the arm difference changing linearly with it; 1 df),
which does not depend on a cut and keeps its power (Royston, Altman & Sauerbrei 2006,
Stat Med 25:127-41, on dichotomising).

Per-level differences are also pooled by a fixed-effect meta-analysis
(``heterogeneity``: Cochran's Q and I-squared, Higgins & Thompson 2002), a descriptive
summary of how much they vary (for ``site``: site-by-arm heterogeneity); the
interaction F test is the formal test.

Validated against ``nlme::gls`` (``corSymm`` + ``varIdent``, REML) with ``emmeans``
contrasts by subgroup and their joint test, and ``metafor::rma(method = "FE")``:
``tests/reference/subgroups/``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from ..alerts import one_channel
from ..cohort import Cohort
from ..errors import AnalysisError
from ..stats.checks import check_conf_level
from .clustering import CLUSTERING_COLUMNS, therapist_clustering
from .covariance_order import covariance_order
from .subgroup_fit import SUB, fit_subgroup
from .subgroup_result import SubgroupResult, heterogeneity_rows

#: The subgroups the issue pre-specifies, used when the cohort carries them.
DEFAULT_SUBGROUPS = ("site", "sex", "symptom_months", "baseline")
#: The df methods of the subgroup tests.
SUBGROUP_DF = ("kenward_roger", "satterthwaite")


def _per_patient(frame, cohort: Cohort, var: str) -> pd.Series:
    """The subgroup variable per modelled patient (index ``patient_id``)."""
    if var == "baseline":
        if not frame.adjust_baseline:
            raise AnalysisError("the 'baseline' subgroup is the baseline score, a covariate "
                                "of the model: keep \"baseline\" in adjust")
        return frame.data.drop_duplicates("patient_id").set_index("patient_id")["baseline"]
    if var not in cohort.patients:
        raise AnalysisError(f"subgroup {var!r} is not a column of cohort.patients (nor "
                            "'baseline'); columns: "
                            f"{', '.join(map(str, cohort.patients.columns))}")
    return cohort.patients.set_index("patient_id")[var]


def _is_continuous(values: pd.Series) -> bool:
    return (pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)
            and values.nunique(dropna=True) > 2)


def _levels(values: pd.Series) -> list[str]:
    present = set(values.dropna().astype(str))   # levels of the patients with a value
    if isinstance(values.dtype, pd.CategoricalDtype):
        return [str(c) for c in values.cat.categories if str(c) in present]
    return sorted(present)


def _split(values: pd.Series, cut: float) -> pd.Series:
    """``< cut`` / ``>= cut`` labels (missing stays missing)."""
    out = pd.Series(np.where(values.to_numpy(dtype=float) < cut, f"< {cut:g}",
                             f">= {cut:g}"), index=values.index, dtype=object)
    return out.where(values.notna())


def _with_subgroup(frame, sub: pd.Series):
    """``frame`` restricted to patients with a subgroup value, ``SUB`` added."""
    d = frame.data.copy()
    d[SUB] = d["patient_id"].map(sub)
    d = d.loc[d[SUB].notna()].reset_index(drop=True)   # patients without a value: noted
    return dataclasses.replace(frame, data=d)


def _counts(frame, level_col: str, arms: list[str]) -> pd.DataFrame:
    """Patients modelled per level and arm (columns: the arms)."""
    pats = frame.data.drop_duplicates("patient_id")
    return pd.crosstab(pats[level_col].astype(str), pats["arm"]).reindex(columns=arms,
                                                                         fill_value=0)


@one_channel
def subgroup_analysis(cohort: Cohort, outcome: str | None = None, *,
                      subgroups: Sequence[str] | None = None, visit: int | None = None,
                      model: str = "mmrm", adjust: Sequence[str] = ("baseline",),
                      cuts: Mapping[str, float] | None = None,
                      covariance: str | Sequence[str] = "unstructured",
                      df: str = "kenward_roger", reference_arm: str | None = None,
                      conf_level: float = 0.95, missing_baseline: str = "mean",
                      continuous_interaction: bool = True,
                      cluster: str | None = None) -> SubgroupResult:
    """The arm difference at the pre-specified visit by subgroup, with interaction tests.

    Parameters
    ----------
    cohort : Cohort
    outcome : str, optional
        Default ``"first_step_pain"``.
    subgroups : sequence of str, optional
        Patient columns (``site``, ``sex``, ``symptom_months``, a ``clinician`` column
        ...) and/or ``"baseline"`` (the outcome's baseline score). Default
        ``("site", "sex", "symptom_months", "baseline")``, those of them the cohort
        carries (the others are named in the notes). A text, boolean or two-valued
        column is a factor; a numeric column with more values is split at
        ``cuts[name]`` or the median.
    visit : int
        The pre-specified visit of the primary contrast (required; never inferred).
    model : {"mmrm"}
        The primary analysis' model (the only one with subgroups for now).
    adjust : sequence of str
        Covariates of the primary analysis (``"baseline"`` and patient columns).
    cuts : mapping, optional
        Pre-specified cut-points of continuous subgroups (``{"symptom_months": 12}``):
        levels ``< cut`` and ``>= cut``. Without one the median of the modelled patients
        is used, with a warning that the cut is data-derived.
    covariance : str or sequence of str
        The residual covariance (``fit_trajectory``'s ``covariance``; a list is a
        pre-specified fallback order).
    df : {"kenward_roger", "satterthwaite"}
        Degrees of freedom of every t and F test (Kenward-Roger as the primary MMRM).
    reference_arm : str, optional
    conf_level : float
    missing_baseline : {"mean", "exclude"}
        As in :func:`~dryneedle_outcomes.fit_trajectory`.
    continuous_interaction : bool
        Also test the interaction of a continuous subgroup on its continuous scale.
    cluster : str, optional
        A patients column naming each patient's therapist (clinician): adds
        ``clustering``, the therapist variance component and ICC at ``visit``
        (:mod:`.clustering`). A therapist column can also be a subgroup (its
        interaction test: does the effect differ between therapists?).

    Returns
    -------
    SubgroupResult

    Examples
    --------
    >>> import dryneedle_outcomes as dno
    >>> cohort = dno.simulate_cohort(n_patients=40, seed=4)
    >>> res = dno.subgroup_analysis(cohort, subgroups=["sex"], visit=6, covariance="cs",
    ...                             df="satterthwaite")
    >>> res.estimates[["subgroup", "level"]].values.tolist()
    [['overall', 'all patients'], ['sex', 'female'], ['sex', 'male']]
    >>> res.interaction[["subgroup", "num_df"]].values.tolist()
    [['sex', 1]]
    """
    from .trajectory import fit_trajectory

    outcome = outcome or "first_step_pain"
    if visit is None:
        raise AnalysisError("visit= is required: the pre-specified visit of the primary "
                            "contrast (the analysis plan's primary time point; never "
                            "inferred from the data)")
    if model != "mmrm":
        raise AnalysisError(f"subgroup analyses use the primary MMRM (model='mmrm'); got "
                            f"model={model!r}")
    if df not in SUBGROUP_DF:
        raise AnalysisError(f"df must be one of {', '.join(SUBGROUP_DF)}, got {df!r}")
    conf_level = check_conf_level(conf_level)
    cuts = dict(cuts or {})
    notes: list[str] = []
    if subgroups is None:
        present = set(cohort.patients.columns) | {"baseline"}
        subgroups = [s for s in DEFAULT_SUBGROUPS if s in present]
        absent = [s for s in DEFAULT_SUBGROUPS if s not in present]
        if absent:
            notes.append(f"Subgroup(s) {', '.join(absent)} not analysed: not in the "
                         "cohort's patients table.")
    subgroups = list(subgroups)
    if not subgroups or len(set(subgroups)) < len(subgroups):
        raise AnalysisError(f"subgroups must name one or more distinct variables, got "
                            f"{subgroups}")
    unknown_cuts = sorted(set(cuts) - set(subgroups))
    if unknown_cuts:
        raise AnalysisError(f"cuts name {unknown_cuts}, which are not among the subgroups "
                            f"{subgroups}")
    order = covariance_order(covariance)
    primary = fit_trajectory(cohort, outcome, model="mmrm", adjust=adjust,
                             covariance=list(order) if len(order) > 1 else order[0], df=df,
                             reference_arm=reference_arm, conf_level=conf_level,
                             primary_visit=visit, missing_baseline=missing_baseline)
    frame = primary.frame
    arms = list(frame.arms)
    messages = [f"primary analysis: {w}" for w in primary.warnings]
    n_all = _counts(dataclasses.replace(frame, data=frame.data.assign(_all="all patients")),
                    "_all", arms)
    rows = [_overall_rows(primary, n_all, arms)]
    tests, cut_rows, fits = [], [], {}
    for var in subgroups:
        values = _per_patient(frame, cohort, var)
        modelled = values.reindex(pd.unique(frame.data["patient_id"]))
        n_missing = int(modelled.isna().sum())
        if n_missing:
            notes.append(f"{var}: {n_missing} modelled patient(s) without a value are not "
                         "in its subgroup model.")
        continuous = _is_continuous(modelled)
        if continuous:
            if var in cuts:
                cut, rule = float(cuts[var]), "pre-specified"
            else:
                cut, rule = float(modelled.median()), "median"
                messages.append(f"{var} is split at its median ({cut:g}), a data-derived "
                                "cut-point; pre-specify one (cuts=) as the analysis plan "
                                "should (EMA 2019 guideline on subgroups)")
            cut_rows.append({"subgroup": var, "cut": cut, "rule": rule})
            labels = _split(modelled, cut)
            levels = [f"< {cut:g}", f">= {cut:g}"]
            levels = [lv for lv in levels if (labels == lv).any()]
        else:
            if var in cuts:
                raise AnalysisError(f"cuts gives a cut-point for {var!r}, which is not a "
                                    "continuous variable")
            labels = modelled.astype(object).map(str, na_action="ignore")
            levels = _levels(modelled)
        sub_frame = _with_subgroup(frame, labels)
        counts = _counts(sub_frame, SUB, arms)
        empty = [(lv, a) for lv in levels for a in arms if counts.loc[lv, a] == 0] \
            if len(levels) >= 2 else []
        if len(levels) < 2 or empty:
            why = ("it has fewer than two levels among the modelled patients"
                   if len(levels) < 2 else
                   "level(s) " + ", ".join(f"{lv!r} ({a})" for lv, a in empty)
                   + " have no patient in an arm, so the arm difference there is not "
                   "estimable; merge levels or leave it out")
            messages.append(f"subgroup {var} not analysed: {why}")
            continue
        sg = fit_subgroup(sub_frame, tuple(levels), order, df)
        fits[var] = sg
        messages += [f"subgroup {var}: {m}" for m in sg.fit.messages]
        rows.append(_level_rows(sg, var, levels, counts, visit, conf_level))
        tests.append({"subgroup": var, "scale": "levels", "levels": len(levels),
                      **sg.test(sg.interaction_L(visit))})
        if continuous and continuous_interaction:
            cont = fit_subgroup(_with_subgroup(frame, modelled.astype(float)), (), order, df,
                                baseline=var == "baseline")
            fits[f"{var} (continuous)"] = cont
            messages += [f"subgroup {var} (continuous): {m}" for m in cont.fit.messages]
            tests.append({"subgroup": var, "scale": "continuous", "levels": np.nan,
                          **cont.test(cont.interaction_L(visit))})
    clustering = pd.DataFrame(columns=CLUSTERING_COLUMNS)
    if cluster is not None:
        clustering, c_notes, c_msgs = therapist_clustering(frame, cohort, cluster, visit,
                                                           conf_level)
        notes += c_notes
        messages += c_msgs
    estimates = pd.concat(rows, ignore_index=True)
    interaction = pd.DataFrame(tests, columns=["subgroup", "scale", "levels", "num_df",
                                               "den_df", "statistic", "p_value"])
    interaction.insert(2, "visit", visit)
    interaction["num_df"] = interaction["num_df"].astype(int)
    interaction["levels"] = interaction["levels"].astype("Int64")   # none: continuous
    interaction["df_method"] = df
    notes += _notes(primary, visit, df, order)
    return SubgroupResult(
        outcome=outcome, visit=int(visit), conf_level=conf_level,
        reference_arm=arms[0], df_method=df, covariance=primary.covariance,
        estimates=estimates, interaction=interaction,
        heterogeneity=heterogeneity_rows(estimates, conf_level),
        cuts=pd.DataFrame(cut_rows, columns=["subgroup", "cut", "rule"]),
        notes=tuple(dict.fromkeys(notes)), warnings=tuple(dict.fromkeys(messages)),
        converged=bool(primary.converged and all(f.fit.converged for f in fits.values())),
        primary=primary, fits=fits, clustering=clustering)


def _overall_rows(primary, n_all: pd.DataFrame, arms: list[str]) -> pd.DataFrame:
    diff = primary.primary()
    out = diff[["arm", "reference", "estimate", "std_error", "df", "ci_lower", "ci_upper",
                "p_value"]].copy()
    out.insert(0, "subgroup", "overall")
    out.insert(1, "level", "all patients")
    out.insert(4, "n_arm", [int(n_all.loc["all patients", a]) for a in out["arm"]])
    out.insert(5, "n_reference", int(n_all.loc["all patients", arms[0]]))
    return out


def _level_rows(sg, var: str, levels: list[str], counts: pd.DataFrame, visit: int,
                conf_level: float) -> pd.DataFrame:
    arms = list(sg.frame.arms)
    parts = []
    for lv in levels:
        res = sg.contrast(sg.differences(visit, lv), conf_level)
        parts.append(pd.DataFrame({
            "subgroup": var, "level": lv, "arm": arms[1:], "reference": arms[0],
            "n_arm": [int(counts.loc[lv, a]) for a in arms[1:]],
            "n_reference": int(counts.loc[lv, arms[0]]),
            "estimate": res["estimate"], "std_error": res["std_error"], "df": res["df"],
            "ci_lower": res["ci_lower"], "ci_upper": res["ci_upper"],
            "p_value": res["p_value"]}))
    return pd.concat(parts, ignore_index=True)


def _notes(primary, visit: int, df: str, order) -> list[str]:
    dfname = "Kenward-Roger" if df == "kenward_roger" else "Satterthwaite"
    return [
        f"Arm minus {primary.reference_arm} at visit {visit} (the pre-specified visit), "
        f"overall from the primary MMRM ({primary.covariance} covariance, REML) and by "
        "subgroup from one MMRM per subgroup variable with the arm x visit x subgroup "
        f"interaction; {dfname} df. n_arm, n_reference: patients modelled.",
        "Interaction: F test that the arm differences at the visit are equal across the "
        "subgroup's levels (or, on the continuous scale, do not change with it); the "
        "interaction test, not a p-value within a subgroup, is the evidence of a "
        "different effect (Wang et al. 2007, N Engl J Med 357:2189-94; EMA 2019).",
        "Heterogeneity: fixed-effect (inverse-variance) pooling of the levels' "
        "differences with Cochran's Q and I-squared (Higgins & Thompson 2002), "
        "descriptive.",
    ]


__all__ = ["DEFAULT_SUBGROUPS", "SubgroupResult", "subgroup_analysis"]
