"""The primary analysis applied to each simulated trial: ANCOVA (vectorised) or MMRM;
responders and time to relief (:mod:`.endpoints`) are dispatched from :func:`analyse`.

One job: from simulated outcomes, the estimate, standard error, df and two-sided p-value
of the treated-minus-control difference at the primary visit, per trial, and whether the
fit converged.

- ``"ancova"``: ordinary least squares of the primary visit's value on arm and baseline
  (or on arm only, ``adjust_baseline=False``: the two-sample t test) among the patients
  observed at that visit, t test with ``n - p`` df. Closed form, computed for all trials
  of a batch at once (batched 3 x 3 normal equations).
- ``"mmrm"``: the package's own MMRM (:func:`~dryneedle_outcomes.stats.mixed.mmrm.fit_mmrm`,
  unstructured covariance over visits, REML) with the design ``fit_trajectory`` uses for
  ``model="mmrm"``: intercept, baseline, arm, visit, arm x visit and baseline x visit
  (Mallinckrodt et al. 2008), all available visits of every patient (valid under MAR);
  the arm contrast at the primary visit tested with Kenward-Roger df and covariance
  (``fit_trajectory``'s default, :mod:`~dryneedle_outcomes.stats.mixed.kenward_roger`).
  One fit per trial. A fit that does not converge, or whose Kenward-Roger adjustment is
  unavailable, is counted as a failure and as *not* rejecting (conservative), never
  dropped.
"""

from __future__ import annotations

import numpy as np
from scipy import stats

from ..errors import AnalysisError
from ..stats.mixed.kenward_roger import kenward_roger_adjustment
from ..stats.mixed.mmrm import fit_mmrm
from .endpoints import ENDPOINTS, analyse_endpoint

#: The analyses :func:`analyse` applies.
ANALYSES = ("mmrm", "ancova", "responders", "time_to_relief")
#: Names of the per-trial outputs, in the order of :func:`analyse`'s rows.
FIELDS = ("estimate", "std_error", "df", "p_value", "converged")


def ancova(y: np.ndarray, observed: np.ndarray, arm: np.ndarray, visit: int, *,
           adjust_baseline: bool = True) -> np.ndarray:
    """OLS of visit ``visit`` on arm (+ baseline) per trial, for all trials at once.

    Parameters
    ----------
    y : ndarray, shape (B, N, T + 1)
    observed : ndarray of bool, shape (B, N, T)
    arm : ndarray, shape (N,)
    visit : int
        Index of the primary visit among the post-baseline visits (0-based).
    adjust_baseline : bool
        Baseline as a covariate (ANCOVA) or not (two-sample t test).

    Returns
    -------
    ndarray, shape (5, B)
        :data:`FIELDS` per trial (``converged`` 1.0 unless the design is singular).

    Examples
    --------
    Without the baseline it is the two-sample t test (pooled variance):

    >>> import numpy as np
    >>> from scipy import stats
    >>> y = np.array([[[0.0, 1.0], [1.0, 2.0], [0.0, 3.0], [2.0, 6.0], [1.0, 4.5]]])
    >>> arm = np.array([0.0, 0.0, 0.0, 1.0, 1.0])
    >>> out = ancova(y, np.ones((1, 5, 1), bool), arm, 0, adjust_baseline=False)
    >>> ref = stats.ttest_ind([4.5, 6.0], [1.0, 2.0, 3.0])
    >>> bool(np.isclose(out[3, 0], ref.pvalue)), float(out[0, 0])
    (True, 3.25)
    """
    B, N, _ = y.shape
    w = observed[:, :, visit].astype(float)
    cols = [np.ones((B, N)), np.broadcast_to(arm, (B, N))]
    if adjust_baseline:
        cols.append(y[:, :, 0])
    X = np.stack(cols, axis=-1)  # (B, N, p)
    out = y[:, :, visit + 1]
    p = X.shape[-1]
    XtX = np.einsum("bn,bni,bnj->bij", w, X, X)
    Xty = np.einsum("bn,bni,bn->bi", w, X, out)
    n_obs = w.sum(axis=1)
    # singular design (an arm with nobody observed, a constant baseline): the determinant
    # of X'X scaled to unit diagonal, which does not depend on the units or the level of
    # the baseline (a raw determinant against max|X'X|^p called well-posed designs with a
    # baseline mean of 60 and SD 15 singular)
    d = np.sqrt(np.einsum("bii->bi", XtX))
    with np.errstate(divide="ignore", invalid="ignore"):  # d == 0: an empty column, not ok
        scaled = XtX / (d[:, :, None] * d[:, None, :])
    ok = (d.min(axis=1) > 0) & (n_obs > p)
    ok &= np.linalg.det(np.where(ok[:, None, None], scaled, np.eye(p))) > 1e-10
    XtX = np.where(ok[:, None, None], XtX, np.eye(p))
    inv = np.linalg.inv(XtX)
    beta = np.einsum("bij,bj->bi", inv, Xty)
    resid = out - np.einsum("bni,bi->bn", X, beta)
    dof = np.where(ok, n_obs - p, np.nan)
    s2 = (w * resid**2).sum(axis=1) / dof
    se = np.sqrt(s2 * inv[:, 1, 1])
    t = np.divide(beta[:, 1], se, out=np.full(B, np.nan), where=se > 0)
    pval = 2.0 * stats.t.sf(np.abs(t), dof)
    est = np.where(ok, beta[:, 1], np.nan)
    return np.vstack([est, np.where(ok, se, np.nan), dof, pval, ok.astype(float)])


def mmrm_design(y: np.ndarray, observed: np.ndarray, arm: np.ndarray):
    """Long-format rows of one trial for :func:`fit_mmrm`: outcome, design matrix, patient
    and visit codes (only observed visits), and the column of the arm effect at visit 0
    and of each arm x visit term.

    Columns: intercept, baseline, arm, visits 2..T, arm x visits 2..T, baseline x visits
    2..T (``fit_trajectory``'s order for ``y ~ baseline + arm * visit + baseline:visit``).
    """
    N, T1 = y.shape
    T = T1 - 1
    pat, vis = np.nonzero(observed)  # row-major: by patient, then visit
    base, a = y[pat, 0], arm[pat]
    V = (vis[:, None] == np.arange(1, T)[None, :]).astype(float)
    X = np.column_stack([np.ones(len(pat)), base, a, V, V * a[:, None], V * base[:, None]])
    groups = np.unique(pat, return_inverse=True)[1]  # patients with no visit have no rows
    return y[pat, vis + 1], X, groups, vis


def mmrm_one(y: np.ndarray, observed: np.ndarray, arm: np.ndarray, visit: int) -> np.ndarray:
    """The MMRM arm contrast at visit ``visit`` for one trial (:data:`FIELDS`).

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(4)
    >>> y = rng.standard_normal((40, 3)) + np.r_[np.zeros(20), np.ones(20)][:, None]
    >>> out = mmrm_one(y, np.ones((40, 2), bool), np.r_[np.zeros(20), np.ones(20)], 1)
    >>> bool(out[4] == 1.0), bool(out[2] > 30)
    (True, True)
    """
    T = y.shape[1] - 1
    yv, X, pat, vis = mmrm_design(y, observed, arm)
    L = np.zeros(X.shape[1])
    L[2] = 1.0
    if visit > 0:
        L[3 + (T - 1) + visit - 1] = 1.0
    nan = np.full(5, np.nan)
    try:
        fit = fit_mmrm(yv, X, pat, vis, structure="unstructured", n_visits=T,
                       check_rank=True)
    except AnalysisError:
        nan[4] = 0.0
        return nan
    if not fit.converged:
        nan[4] = 0.0
        nan[0] = float(L @ fit.beta)
        return nan
    try:
        res = kenward_roger_adjustment(fit, X, pat, vis).contrast(L)
    except AnalysisError:
        nan[4] = 0.0
        nan[0] = float(L @ fit.beta)
        return nan
    return np.array([res["estimate"][0], res["std_error"][0], res["df"][0],
                     res["p_value"][0], 1.0])


def analyse(y: np.ndarray, observed: np.ndarray, arm: np.ndarray, visit: int,
            analysis: str, *, adjust_baseline: bool = True, endpoint=None) -> np.ndarray:
    """:data:`FIELDS` (rows) per trial (columns) of a batch, by ``analysis``
    (``endpoint``: the resolved definition of ``"responders"`` and ``"time_to_relief"``,
    ``endpoints.resolve_endpoint``)."""
    if analysis in ENDPOINTS:
        if not adjust_baseline:
            raise AnalysisError("adjust_baseline=False is for analysis='ancova'")
        if endpoint is None or endpoint.analysis != analysis:
            raise AnalysisError(f"analysis={analysis!r} needs its resolved definition "
                                "(endpoints.resolve_endpoint)")
        return analyse_endpoint(y, observed, arm, visit, endpoint)
    if analysis == "ancova":
        return ancova(y, observed, arm, visit, adjust_baseline=adjust_baseline)
    if analysis == "mmrm":
        if not adjust_baseline:
            raise AnalysisError("the MMRM is baseline-adjusted (as fit_trajectory's); "
                                "adjust_baseline=False is for analysis='ancova'")
        return np.column_stack([mmrm_one(y[k], observed[k], arm, visit)
                                for k in range(y.shape[0])])
    raise AnalysisError(f"analysis must be one of {', '.join(ANALYSES)}; got {analysis!r}")


__all__ = ["ANALYSES", "FIELDS", "analyse", "ancova", "mmrm_design", "mmrm_one"]
