"""Nonparametric bootstrap of the Turnbull NPMLE: percentile bands and a median CI.

:func:`turnbull_bootstrap` resamples observations (or whole clusters, e.g. patients
with several sessions) with replacement, refits the NPMLE of
:func:`~dryneedle_outcomes.stats.survival.turnbull.turnbull` on each replicate and
gives percentile bands at chosen times and a percentile interval for the median.

How many replicates
-------------------
The default is 2,000. Percentile limits are tail quantiles of the bootstrap
distribution, and their Monte Carlo error shrinks slowly: Efron & Tibshirani (1993,
*An Introduction to the Bootstrap*, ch. 13 and 19) recommend about 1,000 replicates
for percentile intervals, where 25-200 suffice for a standard error, and Davison &
Hinkley (1997, *Bootstrap Methods and their Application*, ch. 5) find 1,000 to
2,000 needed for 95% limits; a median's bootstrap distribution is discrete (it takes
the jump times of the curve), so its limits move in whole steps and need the larger
number. Every call also gives the median's interval, hence 2,000.

Time it takes
-------------
The replicates are refitted together (:mod:`.turnbull_engine`) from the same draws as
before (one replicate at a time, so a seed gives the same replicates). CPU time for
2,000 replicates: well under 1 s for a trial arm of 40-500 patients; about 1 s for an
arm of 5,000 patients (some 40-130 distinct intervals, patients or sessions resampled);
the cost grows linearly with the number of patients (the draws) and of distinct
intervals. ``benchmarks/bench_relief.py --bootstrap-targets`` times the analyses built
on it at 1,000, 10,000 and 100,000 patients.

References
----------
Efron B, Tibshirani RJ (1993). An Introduction to the Bootstrap. Chapman & Hall,
ch. 13 (percentile intervals), ch. 19 (number of replicates for them).
Davison AC, Hinkley DV (1997). Bootstrap Methods and their Application. Cambridge
University Press, ch. 5 (confidence intervals).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.sparse import csr_matrix
from tqdm.auto import tqdm

from dryneedle_outcomes.errors import AnalysisError
from dryneedle_outcomes.stats.checks import check_conf_level, check_whole_number, first_position
from dryneedle_outcomes.stats.survival.turnbull import TurnbullFit
from dryneedle_outcomes.stats.survival.turnbull import check_control as _check_control
from dryneedle_outcomes.stats.survival.turnbull import compress_pairs as _compress
from dryneedle_outcomes.stats.survival.turnbull import fit_pairs as _fit_pairs
from dryneedle_outcomes.stats.survival.turnbull import validate_intervals as _validate
from dryneedle_outcomes.stats.survival.turnbull_engine import replicate_curves
from dryneedle_outcomes.stats.survival.validation import float_vector

__all__ = ["DEFAULT_N_BOOT", "TurnbullBands", "turnbull_bootstrap"]

#: Default replicates: the median's percentile interval needs about 2,000 (see above).
DEFAULT_N_BOOT = 2000
# Replicates refitted together; fixed, so results do not depend on anything else.
_CHUNK = 250
# Cluster draws are made this many cells (replicates x clusters) at a time.
_DRAW_CELLS = 2_000_000


@dataclass(frozen=True)
class TurnbullBands:
    """Bootstrap percentile bands for a Turnbull NPMLE.

    Attributes
    ----------
    bands : pandas.DataFrame
        ``time``, ``estimate`` (the NPMLE on the full data), ``ci_lower`` and
        ``ci_upper`` (percentiles of the bootstrap estimates at that time).
    median : pandas.DataFrame
        One row: ``estimate`` (:meth:`TurnbullFit.median`), ``ci_lower``,
        ``ci_upper`` and ``n_not_reached`` (replicates whose median was not reached;
        they count as ``+inf``, see :func:`turnbull_bootstrap`).
    n_boot : int
        Number of bootstrap replicates.
    seed : int
        The seed of the ``numpy.random.Generator`` (drawn when none was given), so
        ``turnbull_bootstrap(..., seed=bands.seed)`` reproduces the result.
    conf_level : float
        The confidence level of the bands.
    fit : TurnbullFit
        The fit on the full data.
    surv_replicates : numpy.ndarray
        The bootstrap estimates, shape ``(n_boot, len(times))``.
    median_replicates : numpy.ndarray
        The bootstrap medians (NaN where not reached).
    warnings : list of str
        Problems met (replicates whose fit did not converge).
    """

    bands: pd.DataFrame
    median: pd.DataFrame
    n_boot: int
    seed: int
    conf_level: float
    fit: TurnbullFit
    surv_replicates: np.ndarray
    median_replicates: np.ndarray
    warnings: list[str] = field(default_factory=list)


def _type7(sorted_values: np.ndarray, q: float) -> float:
    """R's type-7 quantile of sorted values that may end in +inf.

    Interpolating towards an infinite order statistic gives inf; an exact hit on a
    finite order statistic gives that value.
    """
    h = (sorted_values.size - 1) * q
    lo = int(np.floor(h))
    frac = h - lo
    if frac == 0:
        return float(sorted_values[lo])
    hi_value = sorted_values[lo + 1]
    if np.isinf(hi_value):
        return float("inf")
    return float(sorted_values[lo] + frac * (hi_value - sorted_values[lo]))


def turnbull_bootstrap(
    lower: np.ndarray | pd.Series | list[float],
    upper: np.ndarray | pd.Series | list[float],
    *,
    times: np.ndarray | list[float],
    cluster: np.ndarray | pd.Series | list | None = None,
    n_boot: int = DEFAULT_N_BOOT,
    conf_level: float = 0.95,
    seed: int | None = None,
    progress: bool = True,
    label: str = "Turnbull bootstrap",
    tol: float = 1e-10,
    max_iter: int = 10000,
) -> TurnbullBands:
    """Nonparametric bootstrap percentile bands for a Turnbull NPMLE.

    Each replicate resamples observations (or whole clusters, e.g. patients with
    several sessions, when ``cluster`` is given) with replacement. The draw is turned
    into weights on the distinct ``(lower, upper)`` pairs and the NPMLE refitted on
    them, so a replicate costs O(distinct intervals) and copies no data.

    Parameters
    ----------
    lower, upper : array-like of float
        The observations, as in :func:`~dryneedle_outcomes.stats.survival.turnbull.turnbull`.
    times : array-like of float
        Times at which to give bands for the survival probability.
    cluster : array-like, optional
        A cluster label per observation; whole clusters are resampled.
    n_boot : int
        Number of bootstrap replicates.
    conf_level : float
        Confidence level of the percentile intervals.
    seed : int, optional
        Seed of the ``numpy.random.Generator``; when None one is drawn and reported.
    progress : bool
        Show a ``tqdm`` progress bar.
    label : str
        What the progress bar says the replicates estimate (e.g. ``"relief curve CIs,
        sham"``).
    tol, max_iter
        Passed to the fits, as in :func:`~dryneedle_outcomes.stats.survival.turnbull.turnbull`.

    Returns
    -------
    TurnbullBands
        Bands at ``times`` and a confidence interval for the median.

    Notes
    -----
    Limits are R's type-7 (numpy's ``linear``) percentiles of the replicates at
    ``(1 - conf_level) / 2`` and ``(1 + conf_level) / 2``. A replicate whose median is
    not reached (the estimate stays above 0.5) counts as a median of ``+inf``: the
    upper (or even lower) limit is ``inf`` when the percentile falls on or
    interpolates towards such replicates, meaning the limit lies beyond the follow-up.
    The point estimate of the median is NaN when not reached, as in survfit.

    Examples
    --------
    >>> lower = [0, 0, 7, 14, 7, 0, 14, 21]
    >>> upper = [7, 14, 14, np.inf, 21, 7, 21, np.inf]
    >>> res = turnbull_bootstrap(lower, upper, times=[10, 20], n_boot=50, seed=1,
    ...                          progress=False)
    >>> res.bands.columns.tolist()
    ['time', 'estimate', 'ci_lower', 'ci_upper']
    >>> bool((res.bands.ci_lower <= res.bands.estimate).all())
    True
    """
    _check_control(tol, max_iter)
    lo, up, w = _validate(lower, upper, None)
    t = float_vector("times", np.atleast_1d(np.asarray(times, dtype=float)))
    if np.isnan(t).any() or t.size == 0:
        raise AnalysisError("times must be a non-empty array of non-missing times")
    n_boot = check_whole_number(n_boot, "n_boot", minimum=2)
    conf_level = check_conf_level(conf_level)
    pl, pu, pw, pair = _compress(lo, up, w)
    m = pl.size
    if cluster is None:
        prob = pw / pw.sum()
        n_units = lo.size
    else:
        labels = pd.Series(np.asarray(cluster))
        if labels.size != lo.size:
            raise AnalysisError(
                f"cluster must have one label per observation; got {labels.size} for {lo.size}"
            )
        if labels.isna().any():
            raise AnalysisError(
                f"cluster has {int(labels.isna().sum())} missing labels (first at position "
                f"{first_position(labels.isna().to_numpy())}); every observation needs a cluster"
            )
        codes, uniques = pd.factorize(labels)
        n_units = len(uniques)
        # distinct (cluster, pair) combinations with their counts
        combo, combo_n = np.unique(codes * m + pair, return_counts=True)
        combo_cluster, combo_pair = combo // m, combo % m
    if seed is None:
        seed = int(np.random.SeedSequence().entropy % (2**63))
    rng = np.random.default_rng(seed)
    full = _fit_pairs(pl, pu, pw, tol=tol, max_iter=int(max_iter))

    if cluster is None:
        draw = lambda rows: rng.multinomial(n_units, prob, size=rows).astype(float)  # noqa: E731
    else:
        # weights of the pairs = cluster counts x (pair, cluster) counts, a sparse product
        per_pair = csr_matrix((combo_n.astype(float), (combo_pair, combo_cluster)),
                              shape=(m, n_units))

        def draw(rows: int) -> np.ndarray:
            # rows x n_units cluster indices at once: the same stream as one replicate
            # at a time (numpy's Generator.integers), so the same replicates for a seed
            out = np.empty((rows, m))
            step = max(1, _DRAW_CELLS // n_units)
            for s in range(0, rows, step):
                r = min(step, rows - s)
                picks = rng.integers(0, n_units, (r, n_units)) + n_units * np.arange(r)[:, None]
                counts = np.bincount(picks.ravel(), minlength=r * n_units).reshape(r, n_units)
                out[s:s + r] = (per_pair @ counts.T.astype(float)).T
            return out

    surv = np.empty((int(n_boot), t.size))
    medians = np.empty(int(n_boot))
    n_failed = 0
    full_mass = full.intervals["mass"].to_numpy()
    with tqdm(total=int(n_boot), disable=not progress, desc=label, leave=False) as bar:
        for s in range(0, int(n_boot), _CHUNK):
            part = slice(s, min(s + _CHUNK, int(n_boot)))
            surv[part], medians[part], failed, _ = replicate_curves(
                pl, pu, full_mass, draw(part.stop - part.start), t, tol=tol,
                max_iter=int(max_iter))
            n_failed += failed
            bar.update(part.stop - part.start)

    alpha = (1.0 - conf_level) / 2.0
    ci = np.quantile(surv, [alpha, 1.0 - alpha], axis=0)
    bands = pd.DataFrame({
        "time": t, "estimate": full.survival_at(t), "ci_lower": ci[0], "ci_upper": ci[1],
    })
    not_reached = np.isnan(medians)
    med_sorted = np.sort(np.where(not_reached, np.inf, medians))
    median = pd.DataFrame({
        "estimate": [full.median()],
        "ci_lower": [_type7(med_sorted, alpha)],
        "ci_upper": [_type7(med_sorted, 1.0 - alpha)],
        "n_not_reached": [int(not_reached.sum())],
    })
    warn = list(full.warnings)
    if n_failed:
        warn.append(
            f"{n_failed} of {n_boot} bootstrap fits did not converge; raise max_iter or tol"
        )
    return TurnbullBands(
        bands=bands, median=median, n_boot=int(n_boot), seed=int(seed),
        conf_level=float(conf_level), fit=full, surv_replicates=surv,
        median_replicates=medians, warnings=warn,
    )
