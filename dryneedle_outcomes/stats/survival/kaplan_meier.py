"""Kaplan-Meier estimator for right-censored data, matching R's ``survival`` package.

:func:`kaplan_meier` reproduces ``survfit(Surv(time, event) ~ 1, conf.type=...)``
(survival 3.5-3): the product-limit estimate with Greenwood's variance, the three
usual confidence-interval transforms exactly as ``survival:::survfit_confint``
computes them, the median as ``quantile.survfit`` (or ``print.survfit``), the
numbers at risk as ``summary(fit, times=)`` and the restricted mean survival time
as ``print(fit, rmean=tau)`` (``survival:::survmean``).

Times that differ by less than R's ``timefix`` tolerance are merged first, as
``survfit`` does through ``aeqSurv`` (values that are equal "up to rounding", such as
``1`` and ``1 + 1e-12``, become one time).

References
----------
- Kaplan EL, Meier P (1958). J Am Stat Assoc 53:457-481.
- Greenwood M (1926). Reports on Public Health and Medical Subjects 33:1-26.
- Therneau TM (2023). A Package for Survival Analysis in R, version 3.5-3
  (``survfit.formula``, ``survfitKM``, ``survfit_confint``, ``quantile.survfit``,
  ``survmean``, ``aeqSurv``).

Examples
--------
>>> fit = kaplan_meier([1, 2, 2, 3, 4, 4, 5], [0, 1, 0, 1, 1, 0, 1])
>>> fit.table[["time", "n_risk", "n_event", "estimate"]]
   time  n_risk  n_event  estimate
0   1.0     7.0      0.0  1.000000
1   2.0     6.0      1.0  0.833333
2   3.0     4.0      1.0  0.625000
3   4.0     3.0      1.0  0.416667
4   5.0     1.0      1.0  0.000000
>>> float(fit.median()["estimate"])     # R: quantile(fit, 0.5)
4.0

Matches R's ``survfit`` (and ``print(survfit, rmean=)``, ``quantile``). Golden values:
``tests/reference/survival_km/`` (``reference.json``, made by the ``make_reference.R``
there from the data beside it); checked in ``tests/test_survival_km.py``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from ...errors import AnalysisError
from ..checks import check_conf_level, count_first
from .options import CONF_TYPES
from .validation import float_vector

TABLE_COLUMNS = ["time", "n_risk", "n_event", "n_censor", "estimate", "std_error",
                 "ci_lower", "ci_upper"]
# R: sqrt(.Machine$double.eps), the tolerance of aeqSurv, quantile.survfit and survmean
_R_TOL = float(np.sqrt(np.finfo(float).eps))


# ---------------------------------------------------------------------- input checks
def as_time(time, name: str = "time") -> np.ndarray:
    """1-D float array of finite times >= 0."""
    t = float_vector(name, time)
    if t.size == 0:
        raise AnalysisError(f"{name} is empty; at least one subject is needed")
    bad = ~np.isfinite(t)
    if bad.any():
        raise AnalysisError(f"{name} has {count_first(bad, 'missing or infinite')}; every "
                            "subject needs a finite follow-up time (exclude them explicitly)")
    neg = t < 0
    if neg.any():
        raise AnalysisError(f"{name} has {count_first(neg, 'negative')}; times must be >= 0")
    return t


def as_event(event, n: int, name: str = "event") -> np.ndarray:
    """1-D int array of 0/1 (bool accepted) of length n."""
    try:
        e = np.asarray(event, dtype=float)
    except (TypeError, ValueError) as exc:
        raise AnalysisError(f"{name} must be 0/1 or boolean; could not convert it "
                            f"({exc})") from exc
    if e.ndim != 1 or e.size != n:
        raise AnalysisError(f"{name} must be one-dimensional with one value per time "
                            f"({n}), got shape {e.shape}")
    bad = ~np.isin(e, (0.0, 1.0))
    if bad.any():
        raise AnalysisError(f"{name} has {count_first(bad, 'non-0/1')} (first seen: "
                            f"{e[bad][0]!r}); code 1 = event, 0 = censored")
    return e.astype(np.int64)


def _as_weights(weights, n: int) -> np.ndarray | None:
    if weights is None:
        return None
    try:
        w = np.asarray(weights, dtype=float)
    except (TypeError, ValueError) as exc:
        raise AnalysisError(f"weights must be numeric; could not convert them ({exc})") from exc
    if w.ndim != 1 or w.size != n:
        raise AnalysisError(f"weights must be one-dimensional with one value per time ({n}), "
                            f"got shape {w.shape}")
    bad = ~np.isfinite(w) | (w < 0)
    if bad.any():
        raise AnalysisError(f"weights has {count_first(bad, 'missing, infinite or negative')}; "
                            "case weights must be finite and >= 0")
    if not (w > 0).any():
        raise AnalysisError("weights are all 0; at least one subject needs a positive weight")
    return w


def _check_conf(conf_level: float, conf_type: str) -> None:
    check_conf_level(conf_level)
    if conf_type not in CONF_TYPES:
        raise AnalysisError(f"conf_type must be one of {CONF_TYPES}, got {conf_type!r}")


def distinct_times(time: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sorted distinct times after R's ``timefix`` merge, and each subject's index into them.

    Mirrors ``survival::aeqSurv`` (``timefix=TRUE`` in survfit and survdiff): sorted
    distinct values whose gap is <= sqrt(machine eps), absolutely or relative to the
    mean absolute distinct value, are replaced by the first value of their run.

    Examples
    --------
    >>> utime, index = distinct_times(np.array([2.0, 1.0, 1.0 + 1e-12, 2.0]))
    >>> utime.tolist(), index.tolist()
    ([1.0, 2.0], [1, 0, 0, 1])
    """
    y, inv = np.unique(time, return_inverse=True)
    inv = inv.reshape(-1)
    if y.size < 2:
        return y, inv
    dy = np.diff(y)
    tied = (dy <= _R_TOL) | (dy / np.mean(np.abs(y)) <= _R_TOL)
    if not tied.any():
        return y, inv
    starts = np.concatenate(([True], ~tied))
    run = np.cumsum(starts) - 1          # index of each distinct value's run
    return y[starts], run[inv]


# ---------------------------------------------------------------------- confidence limits
def _safe_div(num: np.ndarray, den: np.ndarray, fill: float) -> np.ndarray:
    out = np.full(np.broadcast(num, den).shape, fill, dtype=float)
    np.divide(num, den, out=out, where=den != 0)
    return out


def survfit_confint(surv: np.ndarray, se_log: np.ndarray, z: float,
                    conf_type: str) -> tuple[np.ndarray, np.ndarray]:
    """Pointwise limits as R's ``survival:::survfit_confint`` (``logse=TRUE``).

    ``se_log`` is the standard error of log S (R's ``std.err``). R's special cases
    are kept: "log" is NaN where S = 0 and its upper limit is capped at 1; "log-log"
    is NaN where S = 0 or S = 1; "plain" is clipped to [0, 1] (NaN where S = 0 and
    the Greenwood SE is infinite).

    Examples
    --------
    >>> lo, hi = survfit_confint(np.array([1.0, 0.5]), np.array([0.0, 0.2]), 1.96, "log-log")
    >>> np.round(lo, 4).tolist(), np.round(hi, 4).tolist()
    ([nan, 0.2952], [nan, 0.6745])
    """
    surv = np.asarray(surv, dtype=float)
    se = np.asarray(se_log, dtype=float)
    if conf_type == "plain":
        # R: se2 <- se * p * zval; Inf * 0 (S = 0 with infinite Greenwood SE) is NaN
        finite = np.isfinite(se)
        se2 = np.where(finite, np.where(finite, se, 0.0) * surv * z,
                       np.where(surv > 0, np.inf, np.nan))
        return np.maximum(surv - se2, 0.0), np.minimum(surv + se2, 1.0)
    if conf_type == "log":
        ok = surv > 0
        logp = np.log(np.where(ok, surv, 1.0))
        lower = np.where(ok, np.exp(logp - z * se), np.nan)
        upper = np.where(ok, np.minimum(np.exp(logp + z * se), 1.0), np.nan)
        return lower, upper
    if conf_type == "log-log":
        ok = (surv > 0) & (surv < 1)
        logp = np.log(np.where(ok, surv, 0.5))
        se2 = z * se / logp
        loglog = np.log(-logp)
        lower = np.where(ok, np.exp(-np.exp(loglog - se2)), np.nan)
        upper = np.where(ok, np.exp(-np.exp(loglog + se2)), np.nan)
        return lower, upper
    raise AnalysisError(f"conf_type must be one of {CONF_TYPES}, got {conf_type!r}")


# ---------------------------------------------------------------------- quantile rules
def _findq(x: np.ndarray, y: np.ndarray, p: float, tol: float = _R_TOL) -> float:
    """R's ``survival:::findq`` for one probability: x = c(0, time), y = c(0, 1 - curve)."""
    if np.all(np.isnan(y)) or np.nanmax(y) < p:
        return np.nan
    xmax = x[-1]
    # duplicated(y): keep the first occurrence of every value (NaN counts as one value)
    _, first = np.unique(y, return_index=True, equal_nan=True)
    keep = np.sort(first)
    x, y = x[keep], y[keep]
    valid = np.flatnonzero(~np.isnan(y))

    def smallest_knot_at_or_above(shift: float) -> float:
        # approx(y + shift, 1:n, p, method="constant", f=1): the knot of smallest value
        # >= p (approx sorts by the knot values), NA when none is
        knots = y[valid] + shift
        above = knots >= p
        if not above.any():
            return np.nan
        return float(valid[above][np.argmin(knots[above])])

    i1 = smallest_knot_at_or_above(tol)
    i2 = smallest_knot_at_or_above(-tol)
    xi1 = x[int(i1)] if not np.isnan(i1) else np.nan
    xi2 = x[int(i2)] if not np.isnan(i2) else np.nan
    quant = (xi1 + xi2) / 2
    if p == 0:
        quant = x[0]
    if not np.isnan(y[-1]) and abs(p - y[-1]) < tol:
        quant = (xi1 + xmax) / 2
    return float(quant)


def _minmin(y: np.ndarray, x: np.ndarray, tol: float = _R_TOL) -> float:
    """The median rule inside R's ``survival:::survmean`` (what ``print(survfit)`` shows)."""
    keep = ~np.isnan(y) & (y < 0.5 + tol)
    if not keep.any():
        return np.nan
    x, y = x[keep], y[keep]
    lower = y < y[0]
    if abs(y[0] - 0.5) < tol and lower.any():
        return float((x[0] + x[np.argmax(lower)]) / 2)
    return float(x[0])


# ---------------------------------------------------------------------- the fit
@dataclass(frozen=True, eq=False)
class KaplanMeier:
    """A Kaplan-Meier fit: R's ``survfit(Surv(time, event) ~ 1)``.

    Attributes
    ----------
    table : DataFrame
        One row per distinct time (event and censor-only times, as survfit's rows):
        ``time``, ``n_risk``, ``n_event``, ``n_censor`` (case-weighted counts as R
        reports them), ``estimate`` (S(t), right-continuous), ``std_error`` (R's
        ``std.err``: the standard error of the cumulative hazard -log S(t), i.e.
        Greenwood's sqrt(sum d / (n (n - d))); **not** the SE of S(t), which is
        ``estimate * std_error``), ``ci_lower``, ``ci_upper``.
    conf_level : float
    conf_type : str
        "log-log", "log" or "plain".
    n : int
        Number of records (R's ``fit$n``).
    variance : str
        "greenwood", or "robust" when non-integer case weights made R switch to the
        infinitesimal-jackknife variance (see :func:`kaplan_meier`).
    """

    table: pd.DataFrame
    conf_level: float
    conf_type: str
    n: int
    variance: str = "greenwood"

    # -- helpers
    @property
    def _z(self) -> float:
        return float(stats.norm.ppf(1 - (1 - self.conf_level) / 2))

    def _col(self, name: str) -> np.ndarray:
        return self.table[name].to_numpy(dtype=float)

    # -- public API
    def survival_at(self, times) -> pd.DataFrame:
        """S(t) and its pointwise CI at ``times``, as R's ``summary(fit, times=, extend=TRUE)``.

        The step function is right-continuous: at t it takes the row of the largest
        fitted time <= t; before the first fitted time S = 1 with limits (1, 1) (R's
        time-0 row); after the last it stays at the last value.

        Parameters
        ----------
        times : array-like of float

        Returns
        -------
        DataFrame
            ``time``, ``estimate``, ``ci_lower``, ``ci_upper``.

        Examples
        --------
        >>> fit = kaplan_meier([2, 3, 3, 5], [1, 1, 0, 1], conf_type="log")
        >>> fit.survival_at([0, 2.5, 9])["estimate"].round(3).tolist()
        [1.0, 0.75, 0.0]
        """
        t = np.atleast_1d(np.asarray(times, dtype=float))
        idx = np.searchsorted(self._col("time"), t, side="right") - 1
        before = idx < 0
        j = np.where(before, 0, idx)

        def pick(name: str) -> np.ndarray:
            return np.where(before, 1.0, self._col(name)[j])

        return pd.DataFrame({"time": t, "estimate": pick("estimate"),
                             "ci_lower": pick("ci_lower"), "ci_upper": pick("ci_upper")})

    def median(self, rule: str = "quantile") -> pd.Series:
        """Median survival time and its CI, R's rules.

        The median is the smallest time at which S(t) <= 0.5; where S(t) sits exactly
        at 0.5 (within sqrt(machine eps)) over a flat stretch, the midpoint of that
        stretch's start and the next drop. The CI limits are the same rule applied to
        the lower and upper pointwise limit curves (Brookmeyer-Crowley style). NaN
        where a curve never reaches 0.5.

        Parameters
        ----------
        rule : {"quantile", "print"}
            "quantile" (default) reproduces ``quantile(fit, 0.5)``
            (``survival:::findq``); "print" reproduces the median of
            ``print(fit)`` (``survival:::survmean``). They differ only when the curve
            ends on a flat stretch exactly at 0.5: quantile() then averages the start
            of the stretch with the last follow-up time, print() takes the start.

        Returns
        -------
        Series
            ``estimate``, ``ci_lower``, ``ci_upper``.

        Examples
        --------
        >>> fit = kaplan_meier([1, 2, 3, 4, 5, 6], [1, 1, 1, 0, 1, 1])
        >>> float(fit.median()["estimate"])   # S = 0.5 from t = 3 until the drop at t = 5
        4.0
        """
        time = self._col("time")
        curves = [self._col("estimate"), self._col("ci_lower"), self._col("ci_upper")]
        if rule == "quantile":
            x = np.concatenate(([0.0], time))
            vals = [_findq(x, np.concatenate(([0.0], 1.0 - c)), 0.5) for c in curves]
        elif rule == "print":
            vals = [_minmin(c, time) for c in curves]
        else:
            raise AnalysisError(f"rule must be 'quantile' or 'print', got {rule!r}")
        return pd.Series(vals, index=["estimate", "ci_lower", "ci_upper"], name="median")

    def at_risk(self, times) -> pd.DataFrame:
        """Numbers at risk at ``times`` and cumulative events and censorings.

        Parameters
        ----------
        times : array-like of float

        Returns
        -------
        DataFrame
            ``time``; ``n_at_risk``: (weighted) number with follow-up >= t, as
            ``summary(fit, times=, extend=TRUE)$n.risk``; ``n_events`` and
            ``n_censored``: (weighted) counts at times <= t (the cumulative sums of
            summary's per-interval ``n.event`` and ``n.censor``).

        Examples
        --------
        >>> fit = kaplan_meier([2, 3, 3, 5], [1, 1, 0, 1])
        >>> fit.at_risk([0, 3, 6]).to_numpy().tolist()
        [[0.0, 4.0, 0.0, 0.0], [3.0, 3.0, 2.0, 1.0], [6.0, 0.0, 3.0, 1.0]]
        """
        t = np.atleast_1d(np.asarray(times, dtype=float))
        time = self._col("time")
        n_risk = np.append(self._col("n_risk"), 0.0)
        first_at_or_after = np.searchsorted(time, t, side="left")
        upto = np.searchsorted(time, t, side="right")
        cum_e = np.concatenate(([0.0], np.cumsum(self._col("n_event"))))
        cum_c = np.concatenate(([0.0], np.cumsum(self._col("n_censor"))))
        return pd.DataFrame({"time": t, "n_at_risk": n_risk[first_at_or_after],
                             "n_events": cum_e[upto], "n_censored": cum_c[upto]})

    def rmst(self, tau: float) -> pd.Series:
        """Restricted mean survival time up to ``tau``, as R's ``print(fit, rmean=tau)``.

        The area under S(t) on [0, tau] and its standard error from
        ``survival:::survmean``: with A_j the area from event time t_j to tau,
        var = sum_j A_j^2 d_j / (n_j (n_j - d_j)) over times t_j <= tau (terms with
        n_j = d_j are 0), using the weighted counts.

        Parameters
        ----------
        tau : float
            Restriction time, > 0. (R's print() refuses tau below the first time;
            survmean itself, mirrored here, then returns tau with SE 0.)

        Returns
        -------
        Series
            ``tau``, ``estimate``, ``std_error``, ``ci_lower``, ``ci_upper`` (Wald
            limits estimate +/- z * std_error at the fit's ``conf_level``).

        Examples
        --------
        >>> fit = kaplan_meier([2, 3, 3, 5], [1, 1, 0, 1])
        >>> r = fit.rmst(4)   # R: print(fit, rmean=4) shows rmean 3.25, se(rmean) 0.415
        >>> round(float(r["estimate"]), 4), round(float(r["std_error"]), 3)
        (3.25, 0.415)
        """
        tau = float(tau)
        if not (np.isfinite(tau) and tau > 0):
            raise AnalysisError(f"tau must be a finite number > 0, got {tau!r}")
        time, surv = self._col("time"), self._col("estimate")
        n, d = self._col("n_risk"), self._col("n_event")
        hh = _safe_div(d, n * (n - d), 0.0)  # R: ifelse(n.risk - n.event == 0, 0, ...)
        keep = time <= tau
        if not keep.any():
            est, var = tau, 0.0
        else:
            tt = np.append(time[keep], tau)
            ss = np.append(surv[keep], surv[keep][-1])
            hk = hh[keep]
            rect = np.diff(np.concatenate(([0.0], tt))) * np.concatenate(([1.0], ss[:-1]))
            # area from each kept time to tau: reverse cumulative sum of later rectangles
            after = np.cumsum(rect[1:][::-1])[::-1]
            var = float(np.sum(after ** 2 * hk))
            est = float(np.sum(rect))
        se = float(np.sqrt(var))
        z = self._z
        return pd.Series({"tau": tau, "estimate": est, "std_error": se,
                          "ci_lower": est - z * se, "ci_upper": est + z * se}, name="rmst")

    def summary_table(self) -> pd.Series:
        """Records, events and the median with its CI (R's ``print(fit)``, quantile rule).

        Until 0.1.0 :meth:`summary` returned this Series; it now returns text, as
        every ``summary()`` of the package does.

        Examples
        --------
        >>> float(kaplan_meier([2, 3, 3, 5], [1, 1, 0, 1]).summary_table()["n_events"])
        3.0
        """
        m = self.median()
        return pd.Series({"n": self.n, "n_events": float(self._col("n_event").sum()),
                          "median": m["estimate"], "ci_lower": m["ci_lower"],
                          "ci_upper": m["ci_upper"], "conf_level": self.conf_level},
                         name="kaplan_meier")

    def summary(self) -> str:
        """One line as R's ``print(fit)``: records, events, median and its CI.

        The numbers are those of :meth:`summary_table`; a median that is not reached
        prints as ``NA``, as in R.

        Examples
        --------
        >>> print(kaplan_meier([2, 3, 3, 5], [1, 1, 0, 1]).summary())
        Kaplan-Meier (log-log CI): n = 4, events = 3, median 4 (95% CI 2 to NA)
        """
        s = self.summary_table()

        def fmt(v: float) -> str:
            return f"{v:g}" if np.isfinite(v) else "NA"

        return (f"Kaplan-Meier ({self.conf_type} CI): n = {int(s['n'])}, events = "
                f"{fmt(s['n_events'])}, median {fmt(s['median'])} ({self.conf_level:.0%} CI "
                f"{fmt(s['ci_lower'])} to {fmt(s['ci_upper'])})")


def _km_arrays(time: np.ndarray, event: np.ndarray, w: np.ndarray | None):
    """Per-distinct-time counts: times, weighted risk/event/censor, unweighted events,
    and the row index of every subject."""
    utime, inv = distinct_times(time)
    m = utime.size
    ww = np.ones(time.size) if w is None else w
    n_event = np.bincount(inv, weights=ww * event, minlength=m)
    n_censor = np.bincount(inv, weights=ww * (1 - event), minlength=m)
    d0 = np.bincount(inv, weights=event, minlength=m)
    n_risk = np.cumsum(np.bincount(inv, weights=ww, minlength=m)[::-1])[::-1]
    return utime, n_risk, n_event, n_censor, d0, inv


def kaplan_meier(time, event, *, weights=None, conf_level: float = 0.95,
                 conf_type: str = "log-log") -> KaplanMeier:
    """Kaplan-Meier estimate of S(t), reproducing R's ``survfit(Surv(time, event) ~ 1)``.

    Parameters
    ----------
    time : array-like of float
        Follow-up times, finite and >= 0. Times equal up to rounding are merged as
        survfit's ``timefix=TRUE`` does (:func:`distinct_times`).
    event : array-like of 0/1 or bool
        1 = event observed at ``time``, 0 = right-censored.
    weights : array-like of float, optional
        Case weights (``survfit(..., weights=)``), finite and >= 0. The counts in the
        table are weighted. With integer weights the result equals replicating rows
        (Greenwood variance). With any non-integer weight R switches to the robust
        infinitesimal-jackknife variance (``survfitKM``'s ``robust=TRUE``, one
        cluster per record); that is reproduced here and ``variance`` is "robust".
    conf_level : float, default 0.95
    conf_type : {"log-log", "log", "plain"}, default "log-log"
        Transform for the pointwise CI (``conf.type``). The default is log-log
        (R's ``conf.type="log-log"``), the default of SAS PROC LIFETEST and Stata's
        ``sts``: its limits always stay inside [0, 1] and have good coverage in small
        samples. R's own default is "log" (upper limit capped at 1); "plain" is the
        linear Greenwood interval clipped to [0, 1]. As in R, log-log limits are NaN
        where S = 1 or S = 0, and log limits are NaN where S = 0.

    Returns
    -------
    KaplanMeier
        ``.table`` with one row per distinct time; methods ``survival_at``,
        ``median``, ``at_risk``, ``rmst``, ``summary``.

    Notes
    -----
    ``std_error`` is R's ``std.err``: the Greenwood standard error of the cumulative
    hazard, i.e. of log S(t), sqrt(sum_{t_j <= t} d_j / (n_j (n_j - d_j))); it is
    infinite where the curve drops to 0 (n_j = d_j), as in R. Under the robust
    variance it is R's robust SE of S divided by S (what survfit_confint uses).

    Examples
    --------
    >>> fit = kaplan_meier([6, 6, 6, 7, 10, 13, 16], [1, 1, 1, 0, 1, 1, 1])
    >>> fit.table[["time", "estimate", "ci_lower", "ci_upper"]].round(4)   # as R's survfit
       time  estimate  ci_lower  ci_upper
    0   6.0    0.5714    0.1719    0.8371
    1   7.0    0.5714    0.1719    0.8371
    2  10.0    0.3810    0.0612    0.7164
    3  13.0    0.1905    0.0092    0.5564
    4  16.0    0.0000       NaN       NaN
    """
    _check_conf(conf_level, conf_type)
    t = as_time(time)
    e = as_event(event, t.size)
    w = _as_weights(weights, t.size)
    utime, n_risk, n_event, n_censor, d0, inv = _km_arrays(t, e, w)

    drop = (d0 > 0) & (n_event > 0)
    surv = np.cumprod(np.where(drop, (n_risk - n_event) / np.where(drop, n_risk, 1.0), 1.0))
    # Greenwood increments d / (n (n - d)); infinite where everyone left dies, as in R
    gw_inc = np.where(drop, _safe_div(n_event, n_risk * (n_risk - n_event), np.inf), 0.0)
    greenwood = np.cumsum(gw_inc)

    robust = w is not None and bool(np.any(w != np.floor(w)))
    if robust:
        se_log = _robust_se_log(e, w, inv, n_risk, n_event, drop, greenwood, surv)
    else:
        se_log = np.sqrt(greenwood)

    z = float(stats.norm.ppf(1 - (1 - conf_level) / 2))
    lower, upper = survfit_confint(surv, se_log, z, conf_type)
    table = pd.DataFrame({"time": utime, "n_risk": n_risk, "n_event": n_event,
                          "n_censor": n_censor, "estimate": surv, "std_error": se_log,
                          "ci_lower": lower, "ci_upper": upper})
    return KaplanMeier(table=table, conf_level=float(conf_level), conf_type=conf_type,
                       n=int(t.size), variance="robust" if robust else "greenwood")


def _robust_se_log(e, w, inv, n_risk, n_event, drop, greenwood, surv) -> np.ndarray:
    """Infinitesimal-jackknife SE of log S, the closed form of survfitkm.c's recursion.

    Each record k (time index j_k, weight w_k, status e_k) has influence
    S(t) * u_k(t) on S(t), where u_k(t) = w_k * G(min(t, t_k)) minus, once t >= t_k,
    w_k * e_k / (n_{j_k} - d_{j_k}) at an event time; G is the cumulated Greenwood
    increment. So sum_k u_k(t)^2 = G(t)^2 * (sum of w^2 still at risk after t) +
    the cumulated squares of the finished records. R's SE of S is S * sqrt(that);
    survfit_confint divides it back by S (0 where the SE is 0, i.e. where S = 0).
    """
    m = n_risk.size
    g_own = np.where(np.isfinite(greenwood), greenwood, 0.0)[inv]
    jump = _safe_div(np.ones(m), n_risk - n_event, 0.0)
    own_event = (e == 1) & drop[inv]
    c = w * (g_own - np.where(own_event, jump[inv], 0.0))
    done = np.cumsum(np.bincount(inv, weights=c * c, minlength=m))
    w2_after = np.append(np.cumsum(np.bincount(inv, weights=w * w, minlength=m)[::-1])[::-1],
                         0.0)[1:]
    g = np.where(np.isfinite(greenwood), greenwood, 0.0)
    total = g * g * w2_after + done
    return np.where(surv > 0, np.sqrt(total), 0.0)


def rmst_difference(fit_a: KaplanMeier, fit_b: KaplanMeier, tau: float,
                    conf_level: float = 0.95) -> pd.Series:
    """Difference in restricted mean survival time, arm a minus arm b, up to ``tau``.

    Each arm's RMST and variance are :meth:`KaplanMeier.rmst` (R's ``survmean``); the
    arms are independent, so var = var_a + var_b; Wald CI and two-sided z p-value.

    Parameters
    ----------
    fit_a, fit_b : KaplanMeier
    tau : float
    conf_level : float, default 0.95

    Returns
    -------
    Series
        ``tau``, ``estimate``, ``std_error``, ``ci_lower``, ``ci_upper``,
        ``statistic`` (z), ``p_value``.

    Examples
    --------
    >>> a = kaplan_meier([2, 3, 3, 5], [1, 1, 0, 1])
    >>> b = kaplan_meier([1, 1, 2, 4], [1, 1, 1, 0])
    >>> d = rmst_difference(a, b, 4)    # R: rmean 3.25 (se 0.415) and 2 (se 0.612)
    >>> round(float(d["estimate"]), 4), round(float(d["std_error"]), 3)
    (1.25, 0.74)
    """
    check_conf_level(conf_level)
    ra, rb = fit_a.rmst(tau), fit_b.rmst(tau)
    est = float(ra["estimate"] - rb["estimate"])
    se = float(np.sqrt(ra["std_error"] ** 2 + rb["std_error"] ** 2))
    z = float(stats.norm.ppf(1 - (1 - conf_level) / 2))
    stat = est / se if se > 0 else np.nan
    p = float(2 * stats.norm.sf(abs(stat))) if se > 0 else np.nan
    return pd.Series({"tau": float(tau), "estimate": est, "std_error": se,
                      "ci_lower": est - z * se, "ci_upper": est + z * se,
                      "statistic": stat, "p_value": p}, name="rmst_difference")
