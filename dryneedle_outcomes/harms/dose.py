"""Dose-response of harms: event probability per appointment against needles and twitches.

A logistic GEE per term, with patients as clusters (appointments of one patient are
correlated), an exchangeable working correlation and robust (sandwich) standard
errors: ``logit P(event at appointment) = b0 + b1 needles + b2 twitch_responses``.
exp(b1) is the odds ratio per additional needle inserted, exp(b2) per additional
local twitch response, each adjusted for the other.

These are **associations, not effects**. The number of needles and the twitch
responses elicited are chosen by (or happen under the hands of) the clinician after
randomisation, in response to the patient (a sorer, more reactive patient may receive
more needles and also report more events), so randomisation does not protect the
comparison: an odds ratio per needle describes how events go with dose among the
appointments observed, and is not the causal effect of inserting one more needle
(ICH E9(R1) section A.3: only randomised comparisons estimate treatment effects
without further assumptions; CONSORT Harms 2022 asks that exploratory analyses of
harms be labelled as such). Tables, notes and the report say so.

The fit is statsmodels' GEE with ``ddof_scale=0``: the exchangeable correlation is
then estimated by the same moment estimator as R's ``geepack::geeglm(...,
family = binomial, corstr = "exchangeable")`` (no degrees-of-freedom correction), so
estimates, robust standard errors and the correlation agree with geepack to the
convergence tolerance (tests/reference/harms).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from ..alerts import one_channel
from ..cohort import Cohort
from ..errors import AnalysisError
from ..results import AnalysisResult, NoComparison, as_table
from ..stats.checks import check_conf_level
from ..tables import TableResult
from .events import appointments, emergent_events

DOSE_COLUMNS = ("term", "covariate", "estimate", "ci_lower", "ci_upper", "p_value",
                "coefficient", "std_error", "n_appointments", "n_patients", "n_events",
                "correlation", "converged")


@dataclass(frozen=True)
class DoseResponse(NoComparison, AnalysisResult, TableResult):
    """Associations (odds ratios) of an adverse event with needles and twitch responses.

    Not effects: the dose is chosen after randomisation (see :func:`dose_response`).

    Attributes
    ----------
    table : pandas.DataFrame
        One row per term and covariate: ``estimate`` (odds ratio per unit),
        ``ci_lower``, ``ci_upper``, ``p_value`` (robust Wald), ``coefficient`` (log odds
        ratio) and its robust ``std_error``, ``n_appointments``, ``n_patients``,
        ``n_events`` (appointments with the event), ``correlation`` (exchangeable
        working correlation) and ``converged``.
    coefficients : pandas.DataFrame
        Every coefficient (intercept included) per term: ``term``, ``name``,
        ``coefficient``, ``std_error``, ``z``, ``p_value``.
    data : pandas.DataFrame
        The appointments analysed, one 0/1 column per term.
    converged : bool
        True when every fit converged.
    warnings : tuple of str
    comparison : pandas.DataFrame
        Empty (the schema's columns): the odds ratios are per unit of dose, not
        between arms.
    """

    coefficients: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)
    data: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)
    converged: bool = True
    warnings: tuple[str, ...] = ()

    def tables(self) -> dict[str, TableResult]:
        """The odds ratios per unit of dose, with the notes."""
        return {"odds_ratios": as_table(self)}

    def plot(self, ax=None, **kwargs):
        """Odds ratios per unit of dose with CIs on a log axis; returns the Axes."""
        from ..plots.harms import plot_dose_response

        return plot_dose_response(self, ax=ax, **kwargs)


def _outcomes(cohort: Cohort, appts: pd.DataFrame, terms) -> pd.DataFrame:
    ev = emergent_events(cohort).events
    out = appts.copy()
    key = pd.MultiIndex.from_frame(appts[["patient_id", "visit"]])
    for term in terms:
        sub = ev if term == "any" else ev.loc[ev["term"] == term]
        hit = key.isin(pd.MultiIndex.from_frame(sub[["patient_id", "visit"]]))
        out[term] = hit.astype(int)
    return out


def fit_gee(data: pd.DataFrame, outcome: str, covariates):
    """Fit one logistic GEE (exchangeable, robust SE); returns (coefficients, alpha, ok, msgs)."""
    import statsmodels.api as sm

    X = sm.add_constant(data[list(covariates)].to_numpy(dtype=float), has_constant="add")
    model = sm.GEE(data[outcome].to_numpy(dtype=float), X,
                   groups=pd.factorize(data["patient_id"])[0],
                   family=sm.families.Binomial(), cov_struct=sm.cov_struct.Exchangeable())
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = model.fit(ddof_scale=0, maxiter=200, ctol=1e-10)
    reported = sorted({f"{w.category.__name__}: {w.message}" for w in caught})
    msgs = ([f"{outcome}: the GEE fit reported {'; '.join(reported)} (usually too few patients "
             "or events, or a dose that separates events from non-events): the odds ratios "
             "may not be reliable"] if reported else [])
    ok = bool(getattr(res, "converged", True)) and bool(np.all(np.isfinite(res.bse)))
    if not ok and not msgs:
        msgs.append(f"{outcome}: the GEE did not converge")
    b, se = np.asarray(res.params), np.asarray(res.bse)
    z = b / se
    coefs = pd.DataFrame({"term": outcome, "name": ["(Intercept)", *covariates],
                          "coefficient": b, "std_error": se, "z": z,
                          "p_value": 2 * stats.norm.sf(np.abs(z))})
    return coefs, float(np.ravel(model.cov_struct.dep_params)[0]), ok, msgs


def _choose_terms(terms):
    from ..normalize.vocabulary import AE_TERMS

    if terms is not None:
        terms = [terms] if isinstance(terms, str) else list(terms)
        bad = [t for t in terms if t != "any" and t not in AE_TERMS]
        if bad:
            raise AnalysisError(f"unknown term(s) {', '.join(map(repr, bad))}; use 'any' or "
                                f"one of {', '.join(AE_TERMS)}")
        return terms, False
    return ["any", *AE_TERMS], True


@one_channel
def dose_response(cohort: Cohort, *, terms=None,
                  covariates: tuple[str, ...] = ("needles", "twitch_responses"),
                  needled_only: bool = True, min_events: int = 10,
                  conf_level: float = 0.95, last_session: int | None = None) -> DoseResponse:
    """Association of an adverse event with needles and twitch responses (logistic GEE).

    The odds ratios are **associations, not effects**: the dose (needles inserted,
    twitch responses elicited) is chosen by the clinician after randomisation and may
    follow the patient's condition, so the comparison is observational (see the module
    docstring; ICH E9(R1) A.3).

    Parameters
    ----------
    cohort : Cohort
    terms : str or list of str, optional
        "any" and/or vocabulary terms. Default: "any" plus every term with at least
        ``min_events`` appointments with the event (fewer cannot support the slopes).
    covariates : tuple of str
        Appointment-level columns of the assessments; default needles and twitches.
    needled_only : bool
        Analyse needled appointments only (default): the dose-response among the
        needled. With False, sham appointments (0 needles) are included and the
        slopes mix dose with the real-vs-sham contrast.
    min_events : int
        Threshold for the default choice of terms.
    conf_level : float
    last_session : int, optional
        Last treatment-session visit (default: the last visit anyone was needled).

    Returns
    -------
    DoseResponse

    Examples
    --------
    >>> import dryneedle_outcomes as dno
    >>> from dryneedle_outcomes.harms import dose_response
    >>> dr = dose_response(dno.simulate_cohort(n_patients=84, seed=2014), terms="any")
    >>> dr.table[["term", "covariate"]].values.tolist()
    [['any', 'needles'], ['any', 'twitch_responses']]
    >>> dr.converged
    True
    """
    conf_level = check_conf_level(conf_level)
    covariates = tuple(covariates)
    missing = [c for c in covariates if c not in cohort.assessments]
    if missing:
        raise AnalysisError(f"covariate(s) {', '.join(missing)} not in the assessments; "
                            f"pass covariates= with columns that are")
    appts = appointments(cohort, last_session)
    if needled_only:
        appts = appts.loc[appts["needled"]]
    complete = appts[list(covariates)].notna().all(axis=1)
    n_incomplete = int((~complete).sum())
    appts = appts.loc[complete].reset_index(drop=True)
    chosen, default = _choose_terms(terms)
    data = _outcomes(cohort, appts, chosen)
    if default:
        dropped = [t for t in chosen if t != "any" and data[t].sum() < min_events]
        chosen = [t for t in chosen if t not in dropped]
        data = data.drop(columns=dropped)
    z = stats.norm.ppf(0.5 + conf_level / 2)
    rows, coefs, msgs, all_ok = [], [], [], True
    for term in chosen:
        n_ev = int(data[term].sum())
        base = {"term": term, "n_appointments": len(data),
                "n_patients": int(data["patient_id"].nunique()), "n_events": n_ev}
        if n_ev == 0 or n_ev == len(data):
            msgs.append(f"{term}: {n_ev} of {len(data)} appointments have the event, so the "
                        "odds ratios are not estimable")
            all_ok = False
            rows += [{**base, "covariate": c, "converged": False} for c in covariates]
            continue
        cf, alpha, ok, m = fit_gee(data, term, covariates)
        all_ok = all_ok and ok
        msgs += m
        coefs.append(cf)
        for rec in cf.iloc[1:].itertuples(index=False):
            rows.append({**base, "covariate": rec.name, "coefficient": rec.coefficient,
                         "std_error": rec.std_error, "p_value": rec.p_value,
                         "estimate": np.exp(rec.coefficient),
                         "ci_lower": np.exp(rec.coefficient - z * rec.std_error),
                         "ci_upper": np.exp(rec.coefficient + z * rec.std_error),
                         "correlation": alpha, "converged": ok})
    table = pd.DataFrame(rows, columns=list(DOSE_COLUMNS))
    notes = _notes(conf_level, needled_only, n_incomplete, default, min_events, covariates)
    return DoseResponse(
        table=table, title="Adverse events per appointment: association with dose (odds ratio per "
              "unit; not a randomised effect)",
        notes=notes, conf_level=conf_level, digits=3,
        coefficients=(pd.concat(coefs, ignore_index=True) if coefs else pd.DataFrame()),
        data=data, converged=all_ok, warnings=tuple(msgs))


def _notes(conf_level, needled_only, n_incomplete, default, min_events, covariates):
    ci = f"{100 * conf_level:g}%"
    notes = [
        "Associations, not effects: the dose (needles, twitch responses) is chosen by the "
        "clinician after randomisation and may follow the patient's condition, so these "
        "odds ratios are not protected by randomisation and are not causal effects of the "
        "dose (ICH E9(R1) A.3); they describe how events go with dose.",
        "Logistic GEE per term: event at the appointment (>= 1 event of the term) on "
        f"{' + '.join(covariates)}; patients are the clusters; exchangeable working "
        "correlation (moment estimator as geepack's); robust (sandwich) standard errors.",
        f"estimate: odds ratio per unit (each covariate adjusted for the others); {ci} CI "
        "and p from the robust Wald statistic.",
        ("Appointments: needled treatment-session appointments only."
         if needled_only else "Appointments: all treatment-session appointments, sham "
         "(0 needles) included."),
    ]
    if default:
        notes.append(f"Terms: any event, and each term with >= {min_events} appointments "
                     "with the event.")
    if n_incomplete:
        notes.append(f"{n_incomplete} appointment(s) without {' or '.join(covariates)} are "
                     "left out.")
    return tuple(notes)
