"""Multiplicity: adjusted p-values for a family of hypotheses, and multiple primary endpoints.

``adjust_p_values(p, method=...)`` adjusts any family of p-values (Bonferroni, Holm,
Hochberg, or the fixed sequence in a declared order; the engine and its sources are in
:mod:`dryneedle_outcomes.stats.multiplicity`). ``multiple_endpoints(cohort, endpoints)``
analyses each pre-specified primary endpoint (an outcome at a visit, e.g. first-step
pain and FHSQ pain at week 6, as in Cotchett et al. 2014, Phys Ther 94:1083) with the
primary analysis (:func:`~dryneedle_outcomes.fit_trajectory`, the MMRM by default) and
adjusts the p-values of the arm differences with the declared procedure.

Which procedure, and when none is needed (ICH E9 section 2.2.5; EMA Guideline on
multiplicity issues in clinical trials, EMA/CHMP/44762/2017; FDA guidance Multiple
Endpoints in Clinical Trials, 2022): when the trial is a success only if *every*
endpoint is significant ("co-primary" in the regulatory sense), each is tested at the
full alpha and no adjustment is made (the type II error grows instead); when success on
*any* endpoint is claimed, the family-wise error rate must be controlled: Hochberg
(step-up; valid for positively dependent tests such as two pain scales of the same
patients), Holm (step-down; any dependence), Bonferroni, or a fixed sequence
(hierarchical gatekeeping: the order is part of the protocol; each endpoint is tested
at the full alpha only after every earlier one was rejected). The procedure is declared
before unblinding, never chosen from the results.

Examples
--------
>>> import dryneedle_outcomes as dno
>>> res = dno.adjust_p_values([0.012, 0.030], method="hochberg",
...                           names=["first_step_pain", "fhsq_pain"])
>>> res.table[["hypothesis", "p_adjusted", "reject"]].values.tolist()
[['first_step_pain', 0.03, True], ['fhsq_pain', 0.03, True]]
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .alerts import one_channel
from .cohort import Cohort
from .errors import AnalysisError
from .results import AnalysisResult, comparison_frame, empty_comparison
from .stats.multiplicity import PROCEDURES, adjust_p, check_p
from .tables import TableResult

#: How the methods section names each procedure, with its source.
PROCEDURE_TEXT = {
    "hochberg": "Hochberg's step-up procedure (Hochberg 1988, Biometrika 75:800-2)",
    "holm": "Holm's step-down procedure (Holm 1979, Scand J Stat 6:65-70)",
    "bonferroni": "the Bonferroni correction",
    "fixed_sequence": "a fixed-sequence (hierarchical) procedure in the pre-specified order "
                      "(Westfall & Krishen 2001; Dmitrienko & D'Agostino 2013, Stat Med "
                      "32:5172-5218)",
}


@dataclass(frozen=True)
class MultiplicityResult(AnalysisResult):
    """Raw and adjusted p-values of a family of hypotheses, with the decisions.

    Attributes
    ----------
    table : DataFrame
        One row per hypothesis, in the order given: ``hypothesis``, ``order`` (the
        testing position for ``fixed_sequence``, 1 first; else the rank of the raw
        p-value), ``p_value``, ``p_adjusted``, ``reject`` (``p_adjusted <= alpha``);
        from :func:`multiple_endpoints` also ``outcome``, ``visit``, ``arm``,
        ``reference``, ``estimate``, ``std_error``, ``df``, ``ci_lower``, ``ci_upper``
        (unadjusted intervals: the notes say so).
    procedure : str
    alpha : float
        The family-wise error rate controlled.
    fits : dict
        :func:`multiple_endpoints`: ``{outcome: TrajectoryResult}``; else empty.
    """

    table: pd.DataFrame
    procedure: str
    alpha: float
    notes: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    converged: bool = True
    conf_level: float = 0.95
    fits: dict = field(default_factory=dict, repr=False)

    @property
    def comparison(self) -> pd.DataFrame:
        """The arm differences of :func:`multiple_endpoints` in the comparison schema
        (with ``p_adjusted``); empty for plain p-values."""
        if "arm" not in self.table:
            return empty_comparison()
        return comparison_frame(self.table.drop(columns=["hypothesis", "order", "reject"]),
                                measure="mean_difference")

    def methods_text(self) -> str:
        """One sentence for the methods section: the procedure, the family, alpha."""
        what = PROCEDURE_TEXT[self.procedure]
        hyp = "; ".join(self.table["hypothesis"].astype(str))
        text = (f"Multiplicity over {len(self.table)} hypotheses ({hyp}) was controlled with "
                f"{what} at a family-wise two-sided alpha of {self.alpha:g}")
        if self.procedure == "fixed_sequence":
            text += ("; each hypothesis was tested at the full alpha only if every earlier one "
                     "in the declared order was rejected, and the adjusted p-value is the "
                     "largest raw p-value up to it")
        return text + "; adjusted p-values are reported."

    def tables(self) -> dict[str, TableResult]:
        """The raw and adjusted p-values (and estimates, for endpoints)."""
        title = (f"Multiplicity: raw and adjusted p-values ({self.procedure.replace('_', ' ')}"
                 f", family-wise alpha {self.alpha:g})")
        return {"multiplicity": TableResult(self.table, title=title,
                                            notes=(self.methods_text(), *self.notes),
                                            conf_level=self.conf_level, digits=2)}

    def plot(self, ax=None, **kwargs):
        """Raw (open) and adjusted (filled) p-values per hypothesis on a log scale, with a
        line at ``alpha``; returns the Axes.

        Examples
        --------
        >>> import dryneedle_outcomes as dno
        >>> ax = dno.adjust_p_values([0.01, 0.2], method="holm").plot()
        >>> len(ax.get_yticks()), ax.get_xscale()
        (2, 'log')
        """
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(3.35, 0.5 + 0.35 * len(self.table)))
        y = np.arange(len(self.table))[::-1]
        ax.plot(self.table["p_value"].clip(lower=1e-6), y, "o", mfc="none", color="0.2",
                label="raw")
        ax.plot(self.table["p_adjusted"].clip(lower=1e-6), y, "o", color="0.2",
                label="adjusted")
        ax.axvline(self.alpha, color="0.4", lw=0.8, ls="--")
        ax.set_xscale("log")
        ax.set_yticks(y)
        ax.set_yticklabels(self.table["hypothesis"].astype(str))
        ax.set_xlabel(f"p-value ({self.procedure.replace('_', ' ')}; alpha {self.alpha:g})")
        ax.legend(loc="best", fontsize=7, frameon=False)
        return ax


def _check_alpha(alpha: float) -> float:
    if isinstance(alpha, bool) or not isinstance(alpha, int | float) or not 0 < alpha < 1:
        raise AnalysisError(f"alpha must be a number between 0 and 1, got {alpha!r}")
    return float(alpha)


def adjust_p_values(p, method: str = "hochberg", *, order: Sequence | None = None,
                    alpha: float = 0.05, names: Sequence[str] | None = None
                    ) -> MultiplicityResult:
    """Adjusted p-values and reject decisions for a family of hypotheses.

    Parameters
    ----------
    p : array_like or pandas.Series or dict
        Raw p-values (a Series' index or a dict's keys name the hypotheses).
    method : {"hochberg", "holm", "bonferroni", "fixed_sequence"}
        Hochberg's step-up (default), Holm's step-down, Bonferroni, or the fixed sequence
        (:mod:`dryneedle_outcomes.stats.multiplicity` gives each definition and source;
        the first three equal R's ``p.adjust``).
    order : sequence, optional
        ``fixed_sequence``: the testing order, as hypothesis names (or positions); default
        the order given. Each hypothesis is tested at the full ``alpha`` only if every
        earlier one was rejected; its adjusted p-value is the running maximum of the raw
        p-values in that order.
    alpha : float
        The family-wise error rate; ``reject`` is ``p_adjusted <= alpha``.
    names : sequence of str, optional
        Hypothesis names (default: from ``p``, else ``H1``, ``H2``, ...).

    Returns
    -------
    MultiplicityResult

    Examples
    --------
    >>> import dryneedle_outcomes as dno
    >>> res = dno.adjust_p_values({"pain": 0.03, "function": 0.01}, method="fixed_sequence",
    ...                           order=["pain", "function"])
    >>> res.table[["hypothesis", "order", "p_adjusted", "reject"]].values.tolist()
    [['pain', 1, 0.03, True], ['function', 2, 0.03, True]]
    """
    if isinstance(p, dict):
        names = list(p) if names is None else names
        p = list(p.values())
    elif isinstance(p, pd.Series):
        names = [str(i) for i in p.index] if names is None else names
        p = p.to_numpy()
    arr = check_p(p)
    names = [f"H{i + 1}" for i in range(arr.size)] if names is None else \
        [str(n) for n in names]
    if len(names) != arr.size or len(set(names)) != len(names):
        raise AnalysisError(f"names must give {arr.size} distinct hypothesis names; got "
                            f"{names}")
    if method not in PROCEDURES:
        raise AnalysisError(f"method must be one of {', '.join(PROCEDURES)}, got {method!r}")
    alpha = _check_alpha(alpha)
    positions = None
    if order is not None:
        if method != "fixed_sequence":
            raise AnalysisError(f"order= is the testing order of method='fixed_sequence'; "
                                f"{method!r} does not depend on an order")
        lookup = {n: i for i, n in enumerate(names)}
        positions = [lookup[str(o)] if str(o) in lookup else o for o in order]
        if not all(isinstance(x, int | np.integer) for x in positions):
            bad = [o for o, x in zip(order, positions) if not isinstance(x, int | np.integer)]
            raise AnalysisError(f"order names {bad}, which are not hypotheses; hypotheses: "
                                f"{names}")
    adjusted = adjust_p(arr, method, positions)
    if method == "fixed_sequence":
        seq = np.arange(arr.size) if positions is None else np.asarray(positions)
        rank = np.empty(arr.size, dtype=int)
        rank[seq] = np.arange(1, arr.size + 1)
    else:
        rank = np.empty(arr.size, dtype=int)
        rank[np.argsort(arr, kind="stable")] = np.arange(1, arr.size + 1)
    table = pd.DataFrame({"hypothesis": names, "order": rank, "p_value": arr,
                          "p_adjusted": adjusted, "reject": adjusted <= alpha})
    return MultiplicityResult(table=table, procedure=method, alpha=alpha,
                              notes=_procedure_notes(method))


def _procedure_notes(method: str) -> tuple[str, ...]:
    notes = ["reject: adjusted p-value <= the family-wise alpha."]
    if method == "hochberg":
        notes.append("Hochberg's procedure controls the family-wise error rate when the "
                     "tests are independent or positively dependent (Sarkar 1998), as for "
                     "outcomes measured on the same patients; Holm's needs no such "
                     "assumption.")
    if method == "fixed_sequence":
        notes.append("order: the pre-specified testing position (1 first); testing stops "
                     "at the first hypothesis not rejected, and none after it is rejected.")
    else:
        notes.append("order: the rank of the raw p-value.")
    return tuple(notes)


def _endpoint(item, i: int) -> tuple[str, int]:
    if isinstance(item, dict):
        unknown = set(item) - {"outcome", "visit"}
        if unknown or "outcome" not in item or "visit" not in item:
            raise AnalysisError(f"endpoint {i + 1} must give outcome and visit (e.g. "
                                f"{{'outcome': 'first_step_pain', 'visit': 6}}), got {item}")
        outcome, visit = item["outcome"], item["visit"]
    elif isinstance(item, tuple | list) and len(item) == 2:
        outcome, visit = item
    else:
        raise AnalysisError(f"endpoint {i + 1} must be (outcome, visit) or a dict with "
                            f"outcome and visit, got {item!r}")
    if isinstance(visit, bool) or not isinstance(visit, int | np.integer):
        raise AnalysisError(f"endpoint {i + 1}: visit must be a whole number, got {visit!r}")
    return str(outcome), int(visit)


@one_channel
def multiple_endpoints(cohort: Cohort, endpoints: Sequence, *, procedure: str = "hochberg",
                       alpha: float = 0.05, conf_level: float = 0.95,
                       **fit_kwargs) -> MultiplicityResult:
    """The primary analysis of each pre-specified endpoint, with adjusted p-values.

    Each endpoint (an outcome at a visit) is analysed by
    :func:`~dryneedle_outcomes.fit_trajectory` (the MMRM with the baseline as covariate
    and Kenward-Roger df unless ``fit_kwargs`` say otherwise), its arm difference at the
    endpoint's visit taken, and the p-values of the family adjusted by ``procedure``
    (the module docstring says which procedure fits which claim).

    Parameters
    ----------
    cohort : Cohort
    endpoints : sequence
        ``[("first_step_pain", 6), ("fhsq_pain", 6)]`` or dicts with ``outcome`` and
        ``visit``; for ``fixed_sequence`` the order given is the testing order. An
        outcome appears once (one visit each).
    procedure : {"hochberg", "holm", "bonferroni", "fixed_sequence"}
    alpha : float
        The family-wise error rate.
    conf_level : float
        Of the (unadjusted) confidence intervals.
    **fit_kwargs
        Passed to :func:`~dryneedle_outcomes.fit_trajectory` (``model``, ``adjust``,
        ``df``, ``covariance``, ``reference_arm`` ...).

    Returns
    -------
    MultiplicityResult
        ``table`` with the estimates; ``fits`` the models.

    Examples
    --------
    >>> import dryneedle_outcomes as dno
    >>> cohort = dno.simulate_cohort(n_patients=40, seed=4)
    >>> res = dno.multiple_endpoints(cohort, [("first_step_pain", 6), ("vas_pain", 6)],
    ...                              procedure="hochberg", covariance="cs",
    ...                              df="satterthwaite")
    >>> res.table[["hypothesis", "visit"]].values.tolist()
    [['first_step_pain at visit 6', 6], ['vas_pain at visit 6', 6]]
    >>> bool((res.table["p_adjusted"] >= res.table["p_value"]).all())
    True
    """
    from .models.trajectory import fit_trajectory

    if isinstance(endpoints, str | dict) or len(endpoints) < 1:
        raise AnalysisError("endpoints must be a list of (outcome, visit) pairs, e.g. "
                            "[('first_step_pain', 6), ('fhsq_pain', 6)]")
    parsed = [_endpoint(e, i) for i, e in enumerate(endpoints)]
    outcomes = [o for o, _ in parsed]
    if len(set(outcomes)) < len(outcomes):
        raise AnalysisError(f"an outcome is named twice in endpoints: {outcomes}; give each "
                            "primary endpoint once")
    if "primary_visit" in fit_kwargs:
        raise AnalysisError("give each endpoint's visit in endpoints, not primary_visit=")
    rows, fits, messages = [], {}, []
    for outcome, visit in parsed:
        fit = fit_trajectory(cohort, outcome, primary_visit=visit, conf_level=conf_level,
                             **fit_kwargs)
        fits[outcome] = fit
        messages += [f"{outcome}: {w}" for w in fit.warnings]
        rows.append(fit.primary().assign(outcome=outcome))
    est = pd.concat(rows, ignore_index=True)
    many_arms = est["arm"].nunique() > 1
    est["hypothesis"] = [f"{o} at visit {v}" + (f" ({a})" if many_arms else "")
                         for o, v, a in zip(est["outcome"], est["visit"], est["arm"])]
    res = adjust_p_values(est["p_value"].to_numpy(), procedure, alpha=alpha,
                          names=est["hypothesis"].tolist())
    table = res.table.merge(est[["hypothesis", "outcome", "visit", "arm", "reference",
                                 "estimate", "std_error", "df", "ci_lower", "ci_upper"]],
                            on="hypothesis", how="left", validate="one_to_one")
    first = next(iter(fits.values()))
    notes = (*res.notes,
             f"Each endpoint analysed by the primary analysis ({first.model}, "
             f"{first.df_method.replace('_', '-')} df; arm minus {first.reference_arm}); the "
             f"{conf_level:.0%} confidence intervals are not adjusted for multiplicity.")
    return MultiplicityResult(table=table, procedure=procedure, alpha=res.alpha, notes=notes,
                              warnings=tuple(messages),
                              converged=all(f.converged for f in fits.values()),
                              conf_level=conf_level, fits=fits)


__all__ = ["MultiplicityResult", "PROCEDURE_TEXT", "adjust_p_values", "multiple_endpoints"]
