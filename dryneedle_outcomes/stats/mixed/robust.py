"""Robust (sandwich) covariance of an MMRM's fixed effects, and between-within df.

One job: from an MMRM fit (:func:`.mmrm.fit_mmrm`) and its data, the empirical covariance
of the fixed effects (``empirical_vcov``), and the between-within denominator df that SAS
pairs with it (``between_within_df``), with t and F tests (:class:`BetweenWithin`).

**Empirical** (SAS PROC MIXED's ``EMPIRICAL`` option; R mmrm's ``vcov = "Empirical"``,
"CR0"; Liang & Zeger 1986, Biometrika 73:13)::

    Phi (sum_i X_i' V_i^-1 e_i e_i' V_i^-1 X_i) Phi,    Phi = (X' V^-1 X)^-1,

``e_i = y_i - X_i b`` the residuals of patient ``i`` at the visits they attended,
``V_i`` the fitted covariance of those visits. No small-sample factor (as SAS).

**Jackknife** (mmrm's ``"Empirical-Jackknife"``, "CR3", the leave-one-patient-out
estimator of McCaffrey, Bell & Botts 2001 without the ``(n - 1) / n`` factor, as mmrm and
clubSandwich's ``vcovCR(type = "CR3")``) replaces ``V_i^-1 e_i`` by
``(V_i - X_i Phi X_i')^-1 e_i``: mmrm writes it ``L_i (I - H_ii)^-1 L_i' e_i`` with
``L_i L_i' = V_i^-1`` and ``H_ii = L_i' X_i Phi X_i' L_i``, which is the same matrix
whatever the square root ``L_i``.

**Between-within df** (SAS's ``DDFM=BETWITHIN``, its default with ``EMPIRICAL``;
Schluchter & Elashoff 1990, J Stat Comput Simul 37:69): columns of ``X`` constant within
every patient (the intercept, baseline, arm) are *between* columns, the others *within*.
Between df = patients with data minus the rank of the between columns; within df =
observations minus patients minus the number of within columns. SAS assigns the between
df to *every* effect when the covariance is unstructured (TYPE=UN), "for better
small-sample approximations"; for the other structures a contrast gets the smaller df of
the columns it involves (R mmrm's rule for contrasts; SAS's further partition of the
within df by subject-by-effect interaction is not reproduced: it matters only for tests
of within-patient effects under a structured covariance). SAS prints no Satterthwaite or
Kenward-Roger df with ``EMPIRICAL`` (both are unavailable there).

**Satterthwaite df for the sandwich** (R mmrm's default with ``vcov = "Empirical"``:
``h_df_1d_sat_empirical``; Bell & McCaffrey 2002, Surv Methodol 28:169, with the working
covariance taken as true, as clubSandwich's ``df_Satt``): :func:`sandwich_satterthwaite_df`,
with Fai and Cornelius' rule for ``rank(L) > 1`` (:class:`EmpiricalSatterthwaite`).

Golden values: SAS PROC MIXED with ``EMPIRICAL`` on mmrm's ``fev_data`` for eight
structures (``tests/reference/mmrm_sas_type3_empirical/``, ``tests/test_type3_sas.py``);
the sandwiches and their Satterthwaite df against clubSandwich's CR0 and CR3 on
``nlme::gls`` fits (``tests/reference/trajectory_type3/``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import stats

from ...errors import AnalysisError
from .engine import EngineFit, t_table
from .ftest import fai_cornelius_df, orthogonal_contrasts, wald_f
from .options import VCOV_METHODS


def _patients(groups: np.ndarray, visits: np.ndarray):
    """Rows ordered by (patient, visit), patient codes 0..G-1, and per-pattern row blocks."""
    groups = np.asarray(groups)
    visits = np.asarray(visits, dtype=np.int64)
    _, g = np.unique(groups, return_inverse=True)
    g = g.ravel()
    order = np.lexsort((visits, g))
    G = int(g.max()) + 1
    T = int(visits.max()) + 1
    obs = np.zeros((G, T), dtype=bool)
    obs[g, visits] = True
    masks, pat = np.unique(obs, axis=0, return_inverse=True)
    pat = pat.ravel()
    counts = obs.sum(axis=1)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    blocks = []
    for k, mask in enumerate(masks):
        who = np.flatnonzero(pat == k)
        m = int(mask.sum())
        rows = order[starts[who][:, None] + np.arange(m)[None, :]]  # (n_k, m)
        blocks.append((np.flatnonzero(mask), rows))
    return g, G, blocks


def _whitened(fit: EngineFit, X, y, groups, visits, jackknife: bool):
    """Per pattern: ``B_i = C_i^-1 X_i`` (``V_i = C_i C_i'``), the whitened residuals, and
    ``A_i`` (identity for CR0, ``(I - B_i Phi B_i')^-1`` for the jackknife), stacked."""
    X = np.asarray(X, dtype=float)
    Sigma = np.asarray(fit.extra["Sigma"], dtype=float)
    Phi = np.asarray(fit.vcov, dtype=float)
    resid = np.asarray(y, dtype=float) - X @ np.asarray(fit.beta, dtype=float)
    _, _, blocks = _patients(groups, visits)
    out = []
    for idx, rows in blocks:
        C = np.linalg.cholesky(Sigma[np.ix_(idx, idx)])
        B = np.linalg.solve(C[None], X[rows])  # (n_k, m, p)
        r = np.linalg.solve(C[None], resid[rows][..., None])[..., 0]  # (n_k, m)
        A = None
        if jackknife:
            eye = np.eye(len(idx))
            try:
                A = np.linalg.inv(eye - np.einsum("nap,pq,nbq->nab", B, Phi, B))
            except np.linalg.LinAlgError as exc:
                raise AnalysisError(
                    "the leave-one-patient-out (jackknife) covariance needs "
                    "V_i - X_i Phi X_i' invertible for every patient; it is singular for a "
                    "patient whose visits alone determine some fixed effects") from exc
        out.append((B, r, A))
    return out


def empirical_vcov(fit: EngineFit, X, y, groups, visits, *,
                   jackknife: bool = False) -> np.ndarray:
    """The sandwich covariance of an MMRM fit's fixed effects (CR0, or CR3 if ``jackknife``).

    Parameters
    ----------
    fit : EngineFit
        From :func:`.mmrm.fit_mmrm` (uses ``beta``, ``vcov`` and ``extra["Sigma"]``).
    X, y, groups, visits : ndarray
        The design, outcome, patient codes and visit codes (0..T-1) the fit used.
    jackknife : bool
        Leave-one-patient-out (mmrm's ``"Empirical-Jackknife"``) instead of CR0.

    Returns
    -------
    ndarray, shape (p, p)

    Examples
    --------
    >>> import numpy as np
    >>> from dryneedle_outcomes.stats.mixed.mmrm import fit_mmrm
    >>> rng = np.random.default_rng(5)
    >>> groups, visits = np.repeat(np.arange(50), 3), np.tile(np.arange(3), 50)
    >>> X = np.column_stack([np.ones(150), np.repeat(rng.integers(0, 2, 50), 3)])
    >>> y = X @ [5.0, 1.0] + np.repeat(rng.normal(0, 1, 50), 3) + rng.normal(0, 1, 150)
    >>> fit = fit_mmrm(y, X, groups, visits, structure="cs")
    >>> V0 = empirical_vcov(fit, X, y, groups, visits)
    >>> V3 = empirical_vcov(fit, X, y, groups, visits, jackknife=True)
    >>> bool(np.all(np.diag(V3) > np.diag(V0)))
    True
    """
    return _sandwich(np.asarray(fit.vcov, dtype=float),
                     _whitened(fit, X, y, groups, visits, jackknife))


def _sandwich(Phi: np.ndarray, pieces) -> np.ndarray:
    scores = []
    for B, r, A in pieces:
        z = r if A is None else np.einsum("nab,nb->na", A, r)
        scores.append(np.einsum("nap,na->np", B, z))  # X_i' V_i^-1 e_i (CR0)
    S = np.concatenate(scores)
    out = Phi @ (S.T @ S) @ Phi
    return 0.5 * (out + out.T)


def sandwich_satterthwaite_df(Phi: np.ndarray, pieces, L: np.ndarray) -> np.ndarray:
    """R mmrm's Satterthwaite df of the rows of ``L`` under an empirical covariance.

    ``tr(G)^2 / ||G||_F^2`` with ``G_ij = u_i' (I - H)_ij u_j``, ``u_i = A_i B_i Phi l``,
    ``H = B Phi B'`` (mmrm's ``h_df_1d_sat_empirical``; clubSandwich's ``df_Satt`` with the
    working covariance taken as true, Bell & McCaffrey 2002). ``G = diag(s) - W Phi W'``
    (``s_i = u_i' u_i``, ``w_i = B_i' u_i``) gives the traces without the n x n matrix.
    """
    L = np.atleast_2d(L)
    U = Phi @ L.T  # (p, r)
    s_parts, w_parts = [], []
    for B, _, A in pieces:
        u = B @ U  # (n_k, m, r)
        if A is not None:
            u = A @ u
        s_parts.append(np.einsum("nar,nar->nr", u, u))
        w_parts.append(np.einsum("nap,nar->npr", B, u))
    s = np.concatenate(s_parts)  # (G, r)
    W = np.concatenate(w_parts)  # (G, p, r)
    q = np.einsum("npr,pq,nqr->nr", W, Phi, W)
    K = np.einsum("npr,nqr->rpq", W, W)
    PK = Phi[None] @ K
    cross = np.einsum("rab,rba->r", PK, PK)
    trace = s.sum(axis=0) - q.sum(axis=0)
    frob = (s**2).sum(axis=0) - 2.0 * (s * q).sum(axis=0) + cross
    return trace**2 / frob


def between_within_df(X, groups, *, unstructured: bool) -> tuple[np.ndarray, bool]:
    """Between-within df of each column of ``X`` (SAS ``DDFM=BETWITHIN``; module docstring).

    Returns
    -------
    df : ndarray, shape (p,)
        The df of each column.
    between : ndarray of bool, shape (p,)
        Whether each column is constant within every patient.

    Examples
    --------
    >>> import numpy as np
    >>> groups = np.repeat(np.arange(4), 2)
    >>> X = np.column_stack([np.ones(8), [0, 0, 1, 1, 0, 0, 1, 1], np.tile([0, 1], 4)])
    >>> df, between = between_within_df(X, groups, unstructured=False)
    >>> df.tolist(), between.tolist()
    ([2.0, 2.0, 3.0], [True, True, False])
    """
    X = np.asarray(X, dtype=float)
    _, g = np.unique(np.asarray(groups), return_inverse=True)
    g = g.ravel()
    G = int(g.max()) + 1
    order = np.argsort(g, kind="stable")
    Xs, gs = X[order], g[order]
    starts = np.flatnonzero(np.r_[True, gs[1:] != gs[:-1]])
    spread = np.maximum.reduceat(Xs, starts, axis=0) - np.minimum.reduceat(Xs, starts, axis=0)
    between = np.all(spread == 0, axis=0)
    rank_b = int(np.linalg.matrix_rank(X[:, between])) if between.any() else 0
    df_between = float(G - rank_b)
    df_within = float(X.shape[0] - G - int((~between).sum()))
    if unstructured:
        return np.full(X.shape[1], df_between), between
    return np.where(between, df_between, df_within), between


@dataclass(frozen=True, eq=False)
class BetweenWithin:
    """t and F tests with a given covariance of the fixed effects and between-within df.

    Attributes
    ----------
    beta : ndarray, shape (p,)
    vcov : ndarray, shape (p, p)
        The covariance used: model-based or empirical (``vcov_method``).
    column_df : ndarray, shape (p,)
        Between-within df of each column (``between_within_df``).
    vcov_method : str
        One of ``VCOV_METHODS``.
    """

    beta: np.ndarray
    vcov: np.ndarray
    column_df: np.ndarray
    vcov_method: str

    def _df(self, L: np.ndarray) -> np.ndarray:
        involved = np.abs(L) > 1e-12 * np.max(np.abs(L), axis=1, keepdims=True)
        return np.where(involved, self.column_df[None, :], np.inf).min(axis=1)

    def contrast(self, L, *, conf_level: float = 0.95) -> dict:
        """Estimate, SE, df, t, p and CI of each row of ``L`` (the layout of
        :meth:`EngineFit.contrast`); df: the smallest of the columns involved."""
        L = np.atleast_2d(np.asarray(L, dtype=float))
        est = L @ self.beta
        var = np.einsum("ij,jk,ik->i", L, self.vcov, L)
        se = np.sqrt(np.where(var >= 0, var, np.nan))
        dof = self._df(L)
        return t_table(est, se, dof, conf_level)

    def test(self, L) -> dict:
        """Wald F test of ``L beta = 0`` (``ftest.wald_f``) with the smallest df of
        the columns ``L`` involves."""
        L = np.atleast_2d(np.asarray(L, dtype=float))
        return wald_f(L, self.beta, self.vcov, float(self._df(L).min()))


@dataclass(frozen=True, eq=False)
class EmpiricalSatterthwaite:
    """t and F tests with an empirical covariance and R mmrm's Satterthwaite df for it.

    The df of a contrast are ``sandwich_satterthwaite_df``; for ``rank(L) > 1`` the
    ``q`` orthogonal contrasts of the spectral decomposition of ``L V L'`` (``V`` the
    empirical covariance) are combined by Fai and Cornelius' rule, as mmrm's
    ``h_df_md_sat`` does (``ftest.fai_cornelius_df``).

    Attributes
    ----------
    beta, vcov : ndarray
        Estimates and their empirical covariance.
    vcov_method : str
        ``"empirical"`` or ``"empirical_jackknife"``.
    """

    beta: np.ndarray
    vcov: np.ndarray
    vcov_method: str
    phi: np.ndarray = field(repr=False)
    pieces: list = field(repr=False)

    def contrast(self, L, *, conf_level: float = 0.95) -> dict:
        """Estimate, SE, df, t, p and CI of each row of ``L`` (as
        ``BetweenWithin.contrast``)."""
        L = np.atleast_2d(np.asarray(L, dtype=float))
        est = L @ self.beta
        var = np.einsum("ij,jk,ik->i", L, self.vcov, L)
        se = np.sqrt(np.where(var >= 0, var, np.nan))
        dof = sandwich_satterthwaite_df(self.phi, self.pieces, L)
        return t_table(est, se, dof, conf_level)

    def test(self, L) -> dict:
        """F test of ``L beta = 0`` with the empirical covariance (multi-df rule above)."""
        Lt, _, F = orthogonal_contrasts(L, self.beta, self.vcov)
        nu = sandwich_satterthwaite_df(self.phi, self.pieces, Lt)
        den = fai_cornelius_df(nu)
        return {"num_df": len(nu), "den_df": den, "statistic": F,
                "p_value": float(stats.f.sf(F, len(nu), den)), "df_components": nu}


def between_within(fit: EngineFit, X, y, groups, visits, *, vcov: str = "empirical",
                   unstructured: bool) -> BetweenWithin:
    """Between-within inference for an MMRM fit with the covariance ``vcov`` asks for.

    Parameters
    ----------
    fit : EngineFit
    X, y, groups, visits : ndarray
        What the fit used.
    vcov : {"model", "empirical", "empirical_jackknife"}
    unstructured : bool
        Whether the residual covariance is unstructured (SAS then gives every effect the
        between df).

    Returns
    -------
    BetweenWithin
    """
    if vcov not in VCOV_METHODS:
        raise AnalysisError(f"vcov must be one of {', '.join(VCOV_METHODS)}, got {vcov!r}")
    V = (np.asarray(fit.vcov, dtype=float) if vcov == "model" else
         empirical_vcov(fit, X, y, groups, visits, jackknife=vcov == "empirical_jackknife"))
    df, _ = between_within_df(X, groups, unstructured=unstructured)
    return BetweenWithin(beta=np.asarray(fit.beta, dtype=float), vcov=V, column_df=df,
                         vcov_method=vcov)


def empirical_satterthwaite(fit: EngineFit, X, y, groups, visits, *,
                            vcov: str = "empirical") -> EmpiricalSatterthwaite:
    """Empirical covariance (``vcov``: ``"empirical"`` or ``"empirical_jackknife"``) with
    R mmrm's Satterthwaite df for it (:class:`EmpiricalSatterthwaite`)."""
    if vcov not in VCOV_METHODS[1:]:
        raise AnalysisError(f"vcov must be 'empirical' or 'empirical_jackknife', got {vcov!r}")
    Phi = np.asarray(fit.vcov, dtype=float)
    pieces = _whitened(fit, X, y, groups, visits, vcov == "empirical_jackknife")
    return EmpiricalSatterthwaite(beta=np.asarray(fit.beta, dtype=float),
                                  vcov=_sandwich(Phi, pieces), vcov_method=vcov, phi=Phi,
                                  pieces=pieces)


__all__ = ["VCOV_METHODS", "BetweenWithin", "EmpiricalSatterthwaite", "between_within",
           "between_within_df", "empirical_satterthwaite", "empirical_vcov",
           "sandwich_satterthwaite_df"]
