"""Imputation distributions under MAR and reference-based assumptions, and imputation.

The imputation model is an MMRM with a mean per arm and visit and each baseline covariate
by visit (rbmi's ``outcome ~ group * visit + covariate * visit``) and one covariance
``Sigma`` over visits shared by the arms (rbmi's default ``same_cov = TRUE``). For patient
``i`` of arm ``a`` with covariates ``x_i``, ``mu_own = alpha[a] + x_i B`` (T visits) and
``mu_ref = alpha[ref(a)] + x_i B``. After the patient's intercurrent event (first affected
visit ``t_i``), the marginal mean of the patient's outcomes is (Carpenter, Roger & Kenward
2013, J Biopharm Stat 23:1352-71, section 4; rbmi's ``strategy_*`` functions and its
stat_specs vignette, section 3.4):

* ``MAR``: ``mu_own`` at every visit;
* ``JR`` (jump to reference): ``mu_own`` before ``t_i``, ``mu_ref`` from ``t_i`` on;
* ``CR`` (copy reference): ``mu_ref`` at every visit;
* ``CIR`` (copy increments from reference): ``mu_own`` before ``t_i``; from ``t_i`` on,
  ``mu_own[t_i - 1] + mu_ref[v] - mu_ref[t_i - 1]`` (``mu_ref`` when ``t_i`` is the
  first visit).

With a shared ``Sigma`` the covariance is ``Sigma`` under every strategy (rbmi's
``compute_sigma`` returns ``sigma_ref`` when the group and reference covariances are
identical). Missing values are imputed from the conditional distribution given the
patient's observed values (all of them, post-event ones included, as rbmi does): the
conditional mean ``m_M + S_MO S_OO^-1 (y_O - m_O)`` (conditional mean imputation; Wolbers
et al. 2022, Pharm Stat 21:1246-57) or a draw from it with covariance
``S_MM - S_MO S_OO^-1 S_OM`` (random imputation). Patients are handled by missingness
pattern, vectorised; there is no loop over patients.
"""

from __future__ import annotations

import numpy as np

from ...errors import AnalysisError

#: Strategy codes of the engine.
STRATEGIES = ("MAR", "JR", "CR", "CIR")


def strategy_codes(names) -> np.ndarray:
    """Codes 0..3 of strategy names (``MAR``, ``JR``, ``CR``, ``CIR``).

    Examples
    --------
    >>> strategy_codes(["MAR", "JR", "CIR"]).tolist()
    [0, 1, 3]
    """
    names = np.asarray(names, dtype=object)
    out = np.full(len(names), -1)
    for k, s in enumerate(STRATEGIES):
        out[names == s] = k
    if np.any(out < 0):
        bad = sorted({str(s) for s in names[out < 0]})
        raise AnalysisError(f"unknown imputation strategy {bad}; use one of {STRATEGIES}")
    return out


def patient_means(alpha: np.ndarray, B: np.ndarray, arm: np.ndarray, x: np.ndarray,
                  reference: np.ndarray, ice_visit: np.ndarray,
                  strategy: np.ndarray) -> np.ndarray:
    """Each patient's marginal mean over visits under their strategy (module docstring).

    Parameters
    ----------
    alpha : ndarray (A, T)
        Mean of each arm at each visit at covariates 0.
    B : ndarray (c, T)
        Effect of each covariate at each visit.
    arm : ndarray of int (N,)
        Arm code of each patient.
    x : ndarray (N, c)
        Covariates.
    reference : ndarray of int (A,)
        Reference arm code of each arm (an arm that is its own reference is imputed
        under MAR whatever its strategy).
    ice_visit : ndarray of int (N,)
        First visit index affected by the intercurrent event (T: none).
    strategy : ndarray of int (N,)
        Strategy codes (:func:`strategy_codes`).

    Examples
    --------
    >>> alpha = np.array([[0.0, -1.0, -2.0], [0.0, -3.0, -5.0]])   # control, active
    >>> B = np.zeros((0, 3)); x = np.zeros((4, 0))
    >>> arm = np.array([1, 1, 1, 1]); ref = np.array([0, 0])
    >>> ice = np.array([3, 1, 1, 1]); st = np.array([0, 1, 2, 3])
    >>> patient_means(alpha, B, arm, x, ref, ice, st).tolist()
    [[0.0, -3.0, -5.0], [0.0, -1.0, -2.0], [0.0, -1.0, -2.0], [0.0, -1.0, -2.0]]
    """
    T = alpha.shape[1]
    base = x @ B if x.shape[1] else np.zeros((len(arm), T))
    own = alpha[arm] + base
    ref = alpha[reference[arm]] + base
    post = np.arange(T)[None, :] >= ice_visit[:, None]
    jr = np.where(post, ref, own)
    last = np.clip(ice_visit - 1, 0, T - 1)
    rows = np.arange(len(arm))
    cir = own[rows, last][:, None] + ref - ref[rows, last][:, None]
    cir = np.where(post, np.where(ice_visit[:, None] == 0, ref, cir), own)
    out = own.copy()
    for code, m in ((1, jr), (2, ref), (3, cir)):
        sel = strategy == code
        out[sel] = m[sel]
    return out


def missing_patterns(y: np.ndarray) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """``(patients, missing visits, observed visits)`` of each missingness pattern of
    ``y`` (N, T) that has a missing value (computed once, reused by every imputation).

    Examples
    --------
    >>> pats = missing_patterns(np.array([[1.0, np.nan], [2.0, 3.0]]))
    >>> [tuple(a.tolist() for a in p) for p in pats]
    [([0], [1], [0])]
    """
    miss = ~np.isfinite(np.asarray(y, dtype=float))
    rows_missing = np.flatnonzero(miss.any(axis=1))
    if len(rows_missing) == 0:
        return []
    pats, inv = np.unique(miss[rows_missing], axis=0, return_inverse=True)
    inv = inv.ravel()
    order = np.argsort(inv, kind="stable")
    bounds = np.searchsorted(inv[order], np.arange(len(pats) + 1))
    return [(rows_missing[order[bounds[k]:bounds[k + 1]]], np.flatnonzero(pat),
             np.flatnonzero(~pat)) for k, pat in enumerate(pats)]


def impute(y: np.ndarray, mean: np.ndarray, Sigma: np.ndarray, *,
           rng: np.random.Generator | None = None, patterns=None) -> np.ndarray:
    """``y`` with every missing value replaced by its conditional mean given the observed
    values (``rng=None``) or by a draw from its conditional distribution.

    ``patterns`` (from :func:`missing_patterns`) saves recomputing them.

    Examples
    --------
    >>> S = np.array([[1.0, 0.5], [0.5, 1.0]])
    >>> impute(np.array([[2.0, np.nan], [np.nan, np.nan]]), np.zeros((2, 2)), S).tolist()
    [[2.0, 1.0], [0.0, 0.0]]
    """
    out = np.array(y, dtype=float)
    if patterns is None:
        patterns = missing_patterns(out)
    for idx, mi, ob in patterns:
        rows = idx[:, None]   # broadcast indices (np.ix_'s, without its overhead: the
        mu_m = mean[rows, mi]  # Gibbs sampler of .bayes calls this thousands of times)
        S_m = Sigma[mi]
        if len(ob):
            S_om = Sigma[ob][:, mi]
            K = np.linalg.solve(Sigma[ob][:, ob], S_om)          # (o, m)
            val = mu_m + (out[rows, ob] - mean[rows, ob]) @ K
            C = S_m[:, mi] - S_om.T @ K
        else:
            val = mu_m
            C = S_m[:, mi]
        if rng is not None:
            L = np.linalg.cholesky(0.5 * (C + C.T))
            val = val + rng.standard_normal((len(idx), len(mi))) @ L.T
        out[rows, mi] = val
    return out


__all__ = ["STRATEGIES", "strategy_codes", "patient_means", "missing_patterns", "impute"]
