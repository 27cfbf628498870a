"""The score test form of the interval-censored log-rank and Wilcoxon tests.

:func:`efficient_score` gives the score vector ``U`` and its variance ``V`` (the
efficient information: the observed information for the group effects with the
nuisance parameters of the baseline distribution profiled out) of the grouped
continuous models behind the three score choices of
:func:`~dryneedle_outcomes.stats.survival.interval_test.interval_test`, evaluated at
the pooled Turnbull NPMLE, as R's ``interval:::icScoreTest`` (Fay 1996, 1999; Fay &
Shaw 2010, section 2.5):

``logrank1`` (Sun 1996)
    discrete logistic hazards ``logit h_j(x) = gamma_j + x beta`` (Cox's discrete model):
    ``dS_j/dbeta = -S_j Lambda_j`` with ``Lambda_j`` the cumulative NPMLE hazard;
``logrank2`` (Finkelstein 1986)
    grouped proportional hazards ``S_j(x) = S_j ** exp(x beta)``, ``gamma_j = log(-log S_j)``;
``wmw``
    grouped proportional odds ``logit(1 - S_j(x)) = gamma_j + x beta``.

The nuisance parameters are the ``m = K - 1`` interior survival values of the ``K``
support intervals of the NPMLE (intervals with positive mass; the others are dropped,
as ``icfit`` does). Every derivative of an observation's probability
``P_i = S(u_i) - S(v_i)`` is a difference of two evaluations, so sums over observations
reduce to sums over the ``K + 1`` survival values (bincounts and suffix sums): the cost
is O(pairs + K^2) for the information matrices and O(K^3) for the one solve, whatever
the number of patients. As Fay & Shaw note, the score test's theory assumes the NPMLE
is in the interior of the parameter space; with masses set to zero it is an ad hoc
(but usually close) approximation, which is why the permutation form (``pclt``) is the
default.

References
----------
Fay, M. P. (1996). Rank invariant tests for interval censored data under the grouped
continuous model. Biometrics 52, 811-822.
Fay, M. P. (1999). Comparing several score tests for interval censored data.
Statistics in Medicine 18, 273-285.
Fay, M. P. & Shaw, P. A. (2010). Exact and asymptotic weighted logrank tests for
interval censored data: the interval R package. J Stat Softw 36(2), 1-34.

Examples
--------
>>> S = np.array([1.0, 0.6, 0.25, 0.0])        # S_0 .. S_K, K = 3 support intervals
>>> u, v = np.array([0, 1, 0, 2]), np.array([1, 2, 2, 3])
>>> counts = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0], [0.0, 1.0]])
>>> U, V, _ = efficient_score(S, u, v, counts, "wmw")
>>> U.round(4).tolist()        # sum over each group of (S_u + S_v - 1) * d/dbeta
[0.85, -0.9]
>>> bool(np.allclose(V @ np.ones(2), 0))   # a common shift of both groups is a nuisance
True
"""

from __future__ import annotations

import numpy as np

__all__ = ["MAX_SUPPORT", "efficient_score"]

#: Largest number of NPMLE support intervals the score test takes (its information
#: matrix is K x K and is solved once; beyond this use the permutation form).
MAX_SUPPORT = 2000


def _suffix(x: np.ndarray) -> np.ndarray:
    """Sums over j' >= j along the first axis."""
    return np.cumsum(x[::-1], axis=0)[::-1]


def _back(index: np.ndarray, y: np.ndarray, size: int, sign: float = 1.0,
          out: np.ndarray | None = None) -> np.ndarray:
    """Add ``sign * y`` at ``index`` (rows of a (size,) or (size, k) array)."""
    if out is None:
        out = np.zeros((size,) + y.shape[1:])
    np.add.at(out, index, sign * y)
    return out


def _derivatives(surv: np.ndarray, scores: str) -> tuple[np.ndarray, np.ndarray]:
    """dS_j/dbeta and d2S_j/dbeta2 for j = 0..K (zero at S = 1 and S = 0)."""
    S = surv
    if scores == "logrank1":
        mass = -np.diff(S)
        lam = mass / S[:-1]
        cum = np.concatenate([[0.0], np.cumsum(lam)])
        var = np.concatenate([[0.0], np.cumsum(lam * (1.0 - lam))])
        s1 = -S * cum
        s2 = S * (cum ** 2 - var)
    elif scores == "logrank2":
        log_s = np.log(np.where(S > 0, S, 1.0))
        s1 = S * log_s
        s2 = s1 * (1.0 + log_s)
    else:
        s1 = -S * (1.0 - S)
        s2 = S * (1.0 - S) * (1.0 - 2.0 * S)
    s1[[0, -1]] = 0.0
    s2[[0, -1]] = 0.0
    return s1, s2


def efficient_score(surv: np.ndarray, u: np.ndarray, v: np.ndarray, counts: np.ndarray,
                    scores: str) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Score vector and efficient information of the group effects at beta = 0.

    Parameters
    ----------
    surv : numpy.ndarray
        ``S_0 = 1, S_1, ..., S_K = 0``: the pooled NPMLE after each of its ``K``
        support intervals.
    u, v : numpy.ndarray of int
        For each distinct observation, ``P = surv[u] - surv[v]`` (``u < v``): the
        observation covers support intervals ``u + 1 .. v``.
    counts : numpy.ndarray
        ``(pairs, k)``: how many observations of each group share that pair.
    scores : {"logrank1", "logrank2", "wmw"}

    Returns
    -------
    U : numpy.ndarray
        Per group, the sum of the observations' scores ``d log P / d beta``.
    V : numpy.ndarray
        ``(k, k)`` efficient information ``-(H_bb - H_bg H_gg^-1 H_gb)``.
    warnings : list of str
        A singular nuisance information (solved by least squares).

    Examples
    --------
    Two exact event times and two right-censored observations, one of each per group:

    >>> S = np.array([1.0, 0.75, 0.5, 0.0])
    >>> u, v = np.array([0, 1, 2, 2]), np.array([1, 2, 3, 3])
    >>> counts = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0], [0.0, 1.0]])
    >>> U, V, warns = efficient_score(S, u, v, counts, "logrank2")
    >>> V.shape, warns
    ((2, 2), [])
    """
    S = np.asarray(surv, dtype=float)
    K = S.size - 1
    m = K - 1
    prob = S[u] - S[v]
    s1, s2 = _derivatives(S, scores)
    gb, gbb = s1[u] - s1[v], s2[u] - s2[v]
    U = (gb / prob) @ counts
    Hbb = np.diag(((gbb - gb ** 2 / prob) / prob) @ counts)
    if m < 1:                      # one support interval: every score is 0
        return U, -Hbb, []

    def rt(y: np.ndarray) -> np.ndarray:   # R' y: +y at u, -y at v, over S_0..S_K
        return _back(v, y, K + 1, -1.0, _back(u, y, K + 1))

    y1 = rt(counts / prob[:, None])
    y2 = rt(counts * (gb / prob ** 2)[:, None])
    total = counts.sum(axis=1)
    cvec = rt(total / prob)
    omega = total / prob ** 2
    M = np.zeros((K + 1, K + 1))
    np.add.at(M, (u, u), omega)
    np.add.at(M, (v, v), omega)
    np.add.at(M, (u, v), -omega)
    np.add.at(M, (v, u), -omega)

    inner = slice(1, K)                      # the m nuisance parameters, j = 1..K-1
    if scores == "logrank1":
        lam = (-np.diff(S) / S[:-1])         # lambda_1..lambda_K at index 0..K-1
        cum = np.concatenate([[0.0], np.cumsum(lam)])
        lam_m = lam[:m]                      # lambda_l, l = 1..m
        yS = _suffix(y2 * S[:, None])        # sum_{j >= l} y_j S_j
        gamma_y2 = -lam_m[:, None] * yS[1:K]
        a = _suffix(y1 * (S * cum)[:, None])[1:K]
        b = _suffix(y1 * S[:, None])[1:K]
        beta_gamma_y1 = lam_m[:, None] * (a - (1.0 - lam_m)[:, None] * b)
        T = _suffix(cvec * S)[1:K]           # T(t) = sum_{j >= t} c_j S_j
        idx = np.arange(m)
        tmax = T[np.maximum.outer(idx, idx)]
        curv = np.outer(lam_m, lam_m) * tmax - np.diag(lam_m * (1.0 - lam_m) * T)
        X = S[:, None] * M * S[None, :]
        Q = _suffix(_suffix(X).T).T[1:K, 1:K]
        gMg = np.outer(lam_m, lam_m) * Q
    else:
        d1, d2 = s1[inner], s2[inner]
        gamma_y2 = d1[:, None] * y2[inner]
        beta_gamma_y1 = d2[:, None] * y1[inner]
        curv = np.diag(cvec[inner] * d2)
        gMg = d1[:, None] * M[inner, inner] * d1[None, :]
    Hbg = (beta_gamma_y1 - gamma_y2).T       # (k, m)
    Hgg = curv - gMg
    warns: list[str] = []
    try:
        sol = np.linalg.solve(Hgg, Hbg.T)
    except np.linalg.LinAlgError:
        sol = np.linalg.lstsq(Hgg, Hbg.T, rcond=None)[0]
        warns.append("the information matrix of the NPMLE's nuisance parameters is "
                     "singular; a least-squares solution was used (prefer method='pclt')")
    V = -(Hbb - Hbg @ sol)
    return U, (V + V.T) / 2.0, warns
