"""Restricted mean time without relief, and the notes that explain degenerate medians.

RMST (:func:`relief_rmst`)
    The area under the curve of the probability of no relief yet on ``[0, tau]``:
    with ``interval_censored=True`` under the Turnbull NPMLE of each arm
    (:func:`~dryneedle_outcomes.stats.survival.turnbull_summaries.turnbull_rmst`:
    survfit's midpoint convention as the estimate on the days timescale; on the
    sessions timescale the area under the whole-session step curve, each drop at the
    session where relief was seen, i.e. the restricted mean number of sessions without
    relief; with the bounds of the NPMLE's non-uniqueness), with a bootstrap
    percentile CI (patients resampled within arm; the difference of the arms'
    replicates for the difference); with
    ``interval_censored=False`` under Kaplan-Meier with R's ``print(fit, rmean = tau)``
    variance and Wald limits. ``tau`` must be **pre-specified** (Royston & Parmar 2013;
    the choice of ``tau`` changes the estimand, and a ``tau`` chosen after seeing the
    curves invites choosing the one that looks best; ICH E9(R1) asks estimands to be
    fixed in advance): there is no data-driven default.

Median notes (:func:`median_notes`)
    A zero-width CI ("2 to 2") or a "not reached to not reached" interval is correct
    but reads like a bug; each gets a sentence saying why.

Examples
--------
>>> median_notes(2.0, 2.0, 2.0, n_not_reached=0, n_boot=200, unit="sessions")[:76]
'zero-width CI: at least the central 95% of the 200 bootstrap medians equal 2'
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import stats

from ..errors import AnalysisError
from ..stats.survival.kaplan_meier import rmst_difference
from ..stats.survival.turnbull_summaries import bootstrap_statistics, rmst_estimate, turnbull_rmst

RMST_COLUMNS = ["arm", "tau", "estimate", "std_error", "ci_lower", "ci_upper", "p_value",
                "bound_lower", "bound_upper", "method", "note"]

TAU_REQUIRED = ("the RMST restriction time tau must be pre-specified (in the protocol/SAP, "
                "config key rmst_tau), not chosen from the data: pass rmst(tau=...); "
                "default_tau() gives an exploratory value only")


def median_notes(estimate: float, ci_lower: float, ci_upper: float, *, n_not_reached: int,
                 n_boot: int | None, unit: str, conf_level: float = 0.95) -> str:
    """Why a median's interval is degenerate ("" when it is not).

    Parameters
    ----------
    estimate, ci_lower, ci_upper : float
        NaN or inf: not reached.
    n_not_reached : int
        Bootstrap replicates whose median was not reached.
    n_boot : int or None
        Bootstrap replicates; None for a Kaplan-Meier (Brookmeyer-Crowley) interval.
    unit : str
    conf_level : float

    Returns
    -------
    str
    """
    def reached(x: float) -> bool:
        return x is not None and math.isfinite(x)

    notes = []
    if not reached(estimate):
        notes.append("median not reached: more than half of the arm had no relief by the "
                     "end of follow-up")
    if n_boot == 0:
        notes.append("no CI: n_boot = 0 (no bootstrap)")
    elif not reached(ci_lower) and not reached(ci_upper):
        notes.append("CI 'not reached to not reached': "
                     + (f"{n_not_reached} of {n_boot} bootstrap medians were not reached "
                        "within follow-up" if n_boot else
                        "even the lower confidence limit of the curve stays above 0.5 to "
                        "the end of follow-up"))
    elif reached(ci_lower) and not reached(ci_upper):
        notes.append("upper limit not reached: "
                     + (f"{n_not_reached} of {n_boot} bootstrap medians were beyond follow-up"
                        if n_boot else "the upper confidence limit of the curve stays above "
                        "0.5 to the end of follow-up"))
    elif reached(ci_lower) and ci_lower == ci_upper:
        what = (f"at least the central {conf_level:.0%} of the {n_boot} bootstrap medians "
                f"equal {ci_lower:g} {unit}" if n_boot else
                f"both confidence limit curves cross 0.5 at {ci_lower:g} {unit}")
        notes.append(f"zero-width CI: {what} (relief is seen only at whole sessions/visits, "
                     "so the median takes few values); it does not mean there is no "
                     "uncertainty")
    return "; ".join(notes)


def relief_rmst(res, tau: float | None) -> pd.DataFrame:
    """The RMST table of a :class:`~dryneedle_outcomes.survival.relief_result.ReliefResult`.

    Parameters
    ----------
    res : ReliefResult
    tau : float
        Pre-specified restriction time (in the result's time units).

    Returns
    -------
    DataFrame
        :data:`RMST_COLUMNS`: one row per arm, then each arm minus the reference.

    Raises
    ------
    AnalysisError
        When ``tau`` is missing or not a positive finite number.
    """
    if tau is None:
        raise AnalysisError(TAU_REQUIRED)
    tau = float(tau)
    if not (np.isfinite(tau) and tau > 0):
        raise AnalysisError(f"tau must be a finite number > 0, got {tau!r}")
    z = stats.norm.ppf(0.5 + res.conf_level / 2)
    ev = res.events
    last = ev.assign(end=np.where(np.isfinite(ev["upper"]), ev["upper"], ev["lower"])
                     ).groupby("arm", observed=True)["end"].max()
    unit = res.timescale

    def beyond(a: str) -> str:
        end = float(last.get(a, 0.0))
        return (f"tau beyond the arm's follow-up (last time {end:g} {unit}): the curve is "
                "carried flat to tau" if tau > end else "")

    rows = []
    if not res.interval_censored:
        for a in res.arms:
            r = res.km[a].rmst(tau)
            est, se = float(r["estimate"]), float(r["std_error"])
            rows.append({"arm": a, "tau": tau, "estimate": est, "std_error": se,
                         "ci_lower": est - z * se, "ci_upper": est + z * se,
                         "p_value": np.nan, "method": "kaplan-meier", "note": beyond(a)})
        for a in res.arms[1:]:
            d = rmst_difference(res.km[a], res.km[res.reference_arm], tau,
                                conf_level=res.conf_level)
            rows.append({"arm": f"{a} - {res.reference_arm}", "tau": tau,
                         **{k: float(d[k]) for k in ("estimate", "std_error", "ci_lower",
                                                     "ci_upper", "p_value")},
                         "method": "kaplan-meier", "note": ""})
        return pd.DataFrame(rows).reindex(columns=RMST_COLUMNS)

    alpha = (1.0 - res.conf_level) / 2.0
    convention = "right" if res.timescale == "sessions" else "midpoint"
    reps = {}
    arm_of = ev["arm"].astype(str).to_numpy()
    for i, a in enumerate(res.arms):
        r = turnbull_rmst(res.turnbull_fits[a], tau, convention=convention)
        row = {"arm": a, "tau": tau, "estimate": float(r["estimate"]),
               "std_error": np.nan, "ci_lower": np.nan, "ci_upper": np.nan,
               "p_value": np.nan, "bound_lower": float(r["bound_lower"]),
               "bound_upper": float(r["bound_upper"]),
               "method": "turnbull" + (" (whole sessions)" if convention == "right" else ""),
               "note": beyond(a)}
        if res.n_boot >= 2:
            m = arm_of == a
            reps[a], _ = bootstrap_statistics(
                ev["lower"].to_numpy(dtype=float)[m], ev["upper"].to_numpy(dtype=float)[m],
                lambda f: [rmst_estimate(f, tau, convention)],
                n_boot=res.n_boot,
                seed=None if res.seed is None else int(res.seed) + i)
            reps[a] = reps[a][:, 0]
            lo, hi = np.quantile(reps[a], [alpha, 1.0 - alpha])
            row.update(std_error=float(np.std(reps[a], ddof=1)), ci_lower=float(lo),
                       ci_upper=float(hi))
        rows.append(row)
    ref = rows[0]
    for row_a, a in zip(rows[1:], res.arms[1:]):
        d = {"arm": f"{a} - {res.reference_arm}", "tau": tau,
             "estimate": row_a["estimate"] - ref["estimate"], "std_error": np.nan,
             "ci_lower": np.nan, "ci_upper": np.nan, "p_value": np.nan,
             "bound_lower": row_a["bound_lower"] - ref["bound_upper"],
             "bound_upper": row_a["bound_upper"] - ref["bound_lower"],
             "method": rows[0]["method"], "note": ""}
        if reps:
            diff = reps[a] - reps[res.reference_arm]   # arms resampled independently
            lo, hi = np.quantile(diff, [alpha, 1.0 - alpha])
            d.update(std_error=float(np.std(diff, ddof=1)), ci_lower=float(lo),
                     ci_upper=float(hi))
        else:
            d["note"] = "no CI: n_boot < 2 (no bootstrap)"
        rows.append(d)
    if not reps:
        for r in rows[:len(res.arms)]:
            r["note"] = "; ".join(x for x in (r["note"], "no CI: n_boot < 2 (no bootstrap)")
                                  if x)
    return pd.DataFrame(rows).reindex(columns=RMST_COLUMNS)
