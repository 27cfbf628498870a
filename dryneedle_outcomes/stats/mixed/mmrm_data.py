"""Data preparation for the MMRM: validated inputs reduced to per-pattern sufficient statistics.

One job: check ``y``, ``X``, the patient and visit codes (shapes, missing values, one row
per patient and visit, full column rank) and reduce the data to what the likelihood
needs. Patients are grouped by missingness pattern (the set of visits they attended);
within a pattern the data enter the likelihood only through
``sum_i vec(Z_i) vec(Z_i)'`` with ``Z_i = [X_i, y_i]`` (:class:`_Pattern`), computed once,
and patterns with the same number of visits are stacked (:class:`_Block`) for the batched
algebra of :mod:`.mmrm` and :mod:`.kenward_roger`. The outcome is divided by the OLS
residual SD (``MMRMData.scale``), and the pairwise covariance of the OLS residuals is kept
as a starting value.

Used by the MMRM engine, which matches R's ``nlme::gls``; golden values in
``tests/reference/mmrm_engine/``, checks (input errors, row-order invariance) in
``tests/test_mmrm_engine.py``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import linalg

from ...errors import AnalysisError


@dataclass
class _Pattern:
    visits: np.ndarray  # indices of the observed visits, length m
    n: int  # patients with this pattern
    S4: np.ndarray  # sum_i vec(Z_i) vec(Z_i)', laid out (m*m, (p+1)^2)


@dataclass
class _Block:
    """All patterns with the same number m of observed visits, stacked for batched algebra."""

    m: int
    idx: np.ndarray  # (P, m) observed visits of each pattern
    n: np.ndarray  # (P,) patients per pattern
    S4: np.ndarray  # (P, m*m, (p+1)^2)
    flat: np.ndarray  # (P*m*m,) positions in the flattened T x T matrix

    @classmethod
    def stack(cls, pats: list[_Pattern], T: int) -> _Block:
        idx = np.stack([pt.visits for pt in pats])
        flat = (idx[:, :, None] * T + idx[:, None, :]).ravel()
        return cls(idx.shape[1], idx, np.array([pt.n for pt in pats], dtype=float),
                   np.stack([pt.S4 for pt in pats]), flat)

    def sub(self, Sigma: np.ndarray) -> np.ndarray:
        return Sigma[self.idx[:, :, None], self.idx[:, None, :]]


@dataclass
class MMRMData:
    """The validated data of one MMRM fit: sizes, patterns, blocks, scale and start."""

    n: int
    p: int
    T: int
    G: int
    patterns: list[_Pattern]
    blocks: list[_Block]
    scale: float
    x_names: list[str]
    visit_counts: np.ndarray
    resid_cov: np.ndarray  # pairwise covariance of scaled OLS residuals (a starting value)
    # with prepare(..., keep_patients=True): each pattern's rows vec(Z_i), one per patient,
    # shape (n_k, m*q), and the patients' codes 0..G-1 (for :func:`reweight`)
    patient_z: list | None = None
    patient_codes: list | None = None


def as_codes(a, what: str, n: int) -> np.ndarray:
    """``a`` as int64 codes, checked: 1-d, one per row, integers (no missing values)."""
    a = np.asarray(a)
    if a.ndim != 1 or len(a) != n:
        raise AnalysisError(f"{what} must be a 1-d array with one entry per row of y ({n})")
    if a.dtype.kind == "f":
        if not np.all(np.isfinite(a)) or np.any(a != np.round(a)):
            raise AnalysisError(f"{what} must hold integer codes; found missing or "
                                "non-integer values")
        a = a.astype(np.int64)
    elif a.dtype.kind not in "iub":
        raise AnalysisError(f"{what} must hold integer codes, got dtype {a.dtype}")
    return a.astype(np.int64)


def prepare(y, X, groups, visits, n_visits, x_names, *, need_y: bool = True,
            check_rank: bool = True, keep_patients: bool = False) -> MMRMData:
    """Check the inputs and reduce them to per-pattern statistics (``need_y=False``: X only).

    ``check_rank=False`` skips the pivoted-QR rank check of ``X`` (a pass over all rows)
    for a caller that has already established full column rank of the same ``X``.
    ``keep_patients=True`` also keeps each patient's rows so that :func:`reweight` can
    give the statistics of the same data with patient weights (jackknife, bootstrap)."""
    y = np.asarray(y, dtype=float).ravel()
    n = len(y)
    X = np.asarray(X, dtype=float)
    if X.ndim == 1:
        X = X[:, None]
    if X.ndim != 2 or X.shape[0] != n:
        raise AnalysisError(f"X must have shape (n, p) with n = len(y) = {n}; got {X.shape}")
    p = X.shape[1]
    if x_names is None:
        x_names = [f"x{j}" for j in range(p)]
    x_names = [str(s) for s in x_names]
    if len(x_names) != p:
        raise AnalysisError(f"x_names has {len(x_names)} names for {p} columns of X")
    if need_y and not np.all(np.isfinite(y)):
        bad = np.flatnonzero(~np.isfinite(y))
        raise AnalysisError(
            f"y has {len(bad)} missing or non-finite value(s) (first at row {bad[0]}); "
            "drop those rows before fitting (the MMRM uses the visits each patient attended)"
        )
    if not np.all(np.isfinite(X)):
        cols = [x_names[j] for j in np.flatnonzero(~np.all(np.isfinite(X), axis=0))]
        raise AnalysisError(f"X has missing or non-finite values in column(s) {cols}")
    groups = as_codes(groups, "groups", n)
    visits = as_codes(visits, "visits", n)
    if n == 0:
        raise AnalysisError("no observations to fit")
    if visits.min() < 0:
        raise AnalysisError("visits must be non-negative integer codes 0..T-1")
    T = int(visits.max()) + 1 if n_visits is None else int(n_visits)
    if visits.max() >= T:
        raise AnalysisError(f"visit code {visits.max()} is out of range for n_visits = {T}")
    _, g = np.unique(groups, return_inverse=True)
    g = g.ravel()
    G = int(g.max()) + 1
    key = g * T + visits
    uniq, counts = np.unique(key, return_counts=True)
    if np.any(counts > 1):
        dup = uniq[counts > 1]
        gcodes = np.unique(groups)[dup // T]
        listed = ", ".join(f"group {a} at visit {b}" for a, b in
                           zip(gcodes[:5], dup[:5] % T))
        raise AnalysisError(
            f"{len(dup)} duplicate group x visit combination(s) ({listed}"
            f"{', ...' if len(dup) > 5 else ''}); the MMRM allows at most one observation "
            "per patient and visit"
        )
    if n <= p:
        raise AnalysisError(f"{n} observations are too few for {p} fixed effects")
    if check_rank:
        _check_rank(X, x_names)
    visit_counts = np.bincount(visits, minlength=T)

    # sort rows by (pattern, group, visit): each pattern is then one contiguous block
    obs = np.zeros((G, T), dtype=bool)
    obs[g, visits] = True
    pat_masks, pat_of_group = np.unique(obs, axis=0, return_inverse=True)
    pat_of_group = pat_of_group.ravel()
    order = np.lexsort((visits, g, pat_of_group[g]))
    Z = np.column_stack([X, y])[order]
    scale = 1.0
    resid_cov = np.eye(T)
    if need_y:
        # OLS on the sorted rows (so the result does not depend on the input row order)
        beta_ols = np.linalg.lstsq(Z[:, :p], Z[:, p], rcond=None)[0]
        resid = Z[:, p] - Z[:, :p] @ beta_ols
        scale = float(np.sqrt(resid @ resid / (n - p)))
        if not scale > 0:
            raise AnalysisError("the fixed effects fit y exactly (zero residual variance); "
                                "there is no covariance to estimate")
        Z[:, p] /= scale
        resid_cov = _pairwise_cov(resid / scale, g[order], visits[order], G, T)
    n_per = np.bincount(pat_of_group, minlength=len(pat_masks))
    m_per = pat_masks.sum(axis=1)
    patterns = []
    start = 0
    q = p + 1
    kept_z, kept_codes = [], []
    for k, (mask, npat, m) in enumerate(zip(pat_masks, n_per, m_per)):
        rows = int(npat * m)
        block = Z[start:start + rows].reshape(int(npat), int(m) * q)
        start += rows
        patterns.append(_Pattern(np.flatnonzero(mask), int(npat), _s4(block, int(m), q)))
        if keep_patients:
            kept_z.append(block)
            kept_codes.append(np.flatnonzero(pat_of_group == k))  # sorted, as the rows
    return MMRMData(n=n, p=p, T=T, G=G, patterns=patterns, blocks=_blocks(patterns, T),
                    scale=scale, x_names=x_names, visit_counts=visit_counts,
                    resid_cov=resid_cov, patient_z=kept_z if keep_patients else None,
                    patient_codes=kept_codes if keep_patients else None)


def _s4(block: np.ndarray, m: int, q: int, w: np.ndarray | None = None) -> np.ndarray:
    """``sum_i w_i vec(Z_i) vec(Z_i)'`` laid out (m*m, q*q) from rows vec(Z_i) (n, m*q)."""
    S = block.T @ (block if w is None else w[:, None] * block)  # index a*q + i
    return np.ascontiguousarray(S.reshape(m, q, m, q).transpose(0, 2, 1, 3).reshape(m * m, q * q))


def _blocks(patterns: list[_Pattern], T: int) -> list[_Block]:
    sizes = sorted({len(pt.visits) for pt in patterns})
    return [_Block.stack([pt for pt in patterns if len(pt.visits) == m], T) for m in sizes]


def reweight(data: MMRMData, weights: np.ndarray) -> MMRMData:
    """The statistics of the same data with a weight per patient (as if each patient's
    rows appeared ``weights[g]`` times): 0 leaves a patient out (jackknife), bootstrap
    counts resample patients. ``weights`` is indexed by the patient codes 0..G-1 of
    ``data`` (the sorted unique ``groups``). The scale and start of ``data`` are kept.

    Needs ``prepare(..., keep_patients=True)``. A pattern where few weights differ from 1
    is updated by those patients' terms only, so a leave-one-out refit costs
    ``O((m q)^2)``, not a pass over the data.

    Examples
    --------
    >>> import numpy as np
    >>> g = np.repeat(np.arange(4), 2); v = np.tile([0, 1], 4)
    >>> y = np.array([1.0, 2.0, 2.0, 2.5, 0.5, 1.0, 3.0, 4.5]); X = np.ones((8, 1))
    >>> d = prepare(y, X, g, v, 2, ["(Intercept)"], keep_patients=True)
    >>> d3 = reweight(d, np.array([1.0, 1.0, 1.0, 0.0]))
    >>> e = prepare(y[:6], X[:6], g[:6], v[:6], 2, ["(Intercept)"])
    >>> d3.n, d3.G, bool(np.allclose(d3.patterns[0].S4[:, 0], e.patterns[0].S4[:, 0]))
    (6, 3, True)
    """
    if data.patient_z is None:
        raise AnalysisError("reweight needs the data prepared with keep_patients=True")
    w = np.asarray(weights, dtype=float)
    if w.shape != (data.G,) or np.any(~np.isfinite(w)) or np.any(w < 0):
        raise AnalysisError(f"weights must be {data.G} finite non-negative numbers, one per "
                            "patient")
    q = data.p + 1
    patterns, z_kept, codes_kept = [], [], []
    n = 0.0
    for pt, Zb, codes in zip(data.patterns, data.patient_z, data.patient_codes):
        wk = w[codes]
        tot = float(wk.sum())
        if tot <= 0:
            continue
        m = len(pt.visits)
        changed = np.flatnonzero(wk != 1.0)
        if len(changed) == 0:
            S4 = pt.S4
        elif 4 * len(changed) < len(wk):
            S4 = pt.S4 + _s4(Zb[changed], m, q, wk[changed] - 1.0)
        else:
            S4 = _s4(Zb, m, q, wk)
        patterns.append(_Pattern(pt.visits, tot, S4))
        z_kept.append(Zb)
        codes_kept.append(codes)
        n += tot * m
    if not patterns:
        raise AnalysisError("every patient has weight 0: nothing to fit")
    n_int = int(round(n)) if abs(n - round(n)) < 1e-9 else n
    if n_int <= data.p:
        raise AnalysisError(f"{n_int} weighted observations are too few for {data.p} "
                            "fixed effects")
    return MMRMData(n=n_int, p=data.p, T=data.T, G=int(np.sum(w > 0)), patterns=patterns,
                    blocks=_blocks(patterns, data.T), scale=data.scale, x_names=data.x_names,
                    visit_counts=data.visit_counts, resid_cov=data.resid_cov,
                    patient_z=z_kept, patient_codes=codes_kept)


def _pairwise_cov(r: np.ndarray, g: np.ndarray, v: np.ndarray, G: int, T: int) -> np.ndarray:
    """Covariance of residuals over visits from the pairs of visits each patient attended."""
    E = np.zeros((G, T))
    obs = np.zeros((G, T))
    E[g, v] = r
    obs[g, v] = 1.0
    cnt = obs.T @ obs
    S0 = np.where(cnt > 0, (E.T @ E) / np.maximum(cnt, 1.0), 0.0)
    dg = np.diag(S0).copy()
    dg[~(dg > 0)] = 1.0
    np.fill_diagonal(S0, dg)
    return S0


def _check_rank(X: np.ndarray, names: list[str]) -> None:
    n, p = X.shape
    norms = np.sqrt(np.sum(X**2, axis=0))
    zero = np.flatnonzero(norms == 0)
    if len(zero):
        raise AnalysisError(
            f"X is not of full column rank: column(s) {[names[j] for j in zero]} are all zero"
        )
    Xs = X / norms
    R, piv = linalg.qr(Xs, mode="r", pivoting=True)
    d = np.abs(np.diag(R))
    tol = d[0] * max(n, p) * np.finfo(float).eps * 10
    rank = int(np.sum(d > tol))
    if rank < p:
        aliased = [names[j] for j in piv[rank:]]
        raise AnalysisError(
            f"X is not of full column rank (rank {rank} of {p} columns): column(s) "
            f"{aliased} are linear combinations of the others; drop them or merge levels "
            "(e.g. an arm x visit cell with no observations)"
        )


__all__ = ["MMRMData", "as_codes", "prepare", "reweight"]
