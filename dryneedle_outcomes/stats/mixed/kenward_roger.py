"""Kenward-Roger small-sample inference for MMRM fits: adjusted covariance, t/F tests, df.

One job: from a REML fit of :func:`.mmrm.fit_mmrm`, compute once the Kenward-Roger (1997)
adjusted covariance of the fixed effects (``kenward_roger_adjustment``, a
:class:`KenwardRoger`), then test any contrast ``L beta`` with it
(:meth:`KenwardRoger.contrast` row by row, :meth:`KenwardRoger.test` jointly). It needs the
fit's covariance parameters and their covariance, the structure's derivatives
(:mod:`.covariance`) and the design's per-pattern statistics (:mod:`.mmrm_data`); it does
not refit.

Computed as SAS PROC MIXED (``DDFM=KR`` and ``DDFM=KR(LINEAR)``) and R's ``mmrm`` compute
it: the covariance of the variance parameters is the inverse *observed* REML information
(the same one the Satterthwaite df use, ``EngineFit.cov_varpar``), and the second-order
terms are taken in SAS's parametrisation. Golden values: SAS PROC MIXED on mmrm's
``fev_data`` in ``tests/reference/mmrm_sas/`` (checked in
``tests/test_kenward_roger_sas.py``), and pbkrtest on complete balanced data (where the
observed and expected information coincide) in ``tests/reference/mmrm_engine/``
(``tests/test_mmrm_engine.py``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

from ...errors import AnalysisError
from .covariance import make_structure
from .engine import EngineFit, t_table
from .mmrm_data import prepare


@dataclass(frozen=True, eq=False)
class KenwardRoger:
    """The Kenward-Roger adjusted covariance of a fit's fixed effects, and its tests.

    Made by ``kenward_roger_adjustment``, once per fit; the adjustment does not depend
    on the contrast, so any number of contrasts are tested from it at the cost of a few
    small matrix products each.

    Attributes
    ----------
    beta : ndarray, shape (p,)
        Fixed-effect estimates.
    vcov : ndarray, shape (p, p)
        Their model-based covariance ``Phi = (X' V^-1 X)^-1``.
    vcov_adjusted : ndarray, shape (p, p)
        The Kenward-Roger adjusted covariance ``Phi_A``.
    cov_varpar : ndarray, shape (k, k)
        Covariance ``W`` of the variance parameters used: the inverse observed REML
        information (``EngineFit.cov_varpar``).
    P : ndarray, shape (k, p, p)
        ``P_h = -X' V^-1 (dV / d phi_h) V^-1 X`` (so ``d Phi / d phi_h = -Phi P_h Phi``).
    linear : bool
        True for ``DDFM=KR(LINEAR)``: the second-derivative terms ``R_hj`` left out.
    """

    beta: np.ndarray
    vcov: np.ndarray
    vcov_adjusted: np.ndarray
    cov_varpar: np.ndarray
    P: np.ndarray
    linear: bool

    def _A(self, M: np.ndarray) -> tuple[float, float]:
        """Kenward and Roger's ``A1``, ``A2`` for the projector ``M = L'(L Phi L')^-1 L``."""
        u = (M @ self.vcov) @ self.P @ self.vcov     # M Phi P_h Phi, (k, p, p)
        tr = np.trace(u, axis1=1, axis2=2)
        A1 = float(tr @ self.cov_varpar @ tr)
        k = u.shape[0]
        # tr(u_h u_j) for every pair as one matrix product (a four-index einsum without a
        # contraction order is O(k^2 p^3) loops in numpy)
        tr_uu = u.reshape(k, -1) @ u.transpose(0, 2, 1).reshape(k, -1).T
        A2 = float(np.sum(self.cov_varpar * tr_uu))
        return A1, A2

    def contrast(self, L, *, conf_level: float = 0.95) -> dict:
        """Estimate, adjusted SE, KR df, t, p and CI of each row of ``L``, separately.

        Parameters
        ----------
        L : array_like, shape (m, p) or (p,)
        conf_level : float

        Returns
        -------
        dict of ndarray
            ``estimate``, ``std_error`` (from ``Phi_A``), ``df``, ``statistic``
            (``estimate / std_error``, as SAS prints it), ``p_value``, ``ci_lower``,
            ``ci_upper``: the layout of :meth:`EngineFit.contrast`.
        """
        L = np.atleast_2d(np.asarray(L, dtype=float))
        est = L @ self.beta
        var = np.einsum("ij,jk,ik->i", L, self.vcov, L)
        var_adj = np.einsum("ij,jk,ik->i", L, self.vcov_adjusted, L)
        se = np.sqrt(np.where(var_adj >= 0, var_adj, np.nan))
        # for one row M = l l' / (l' Phi l) has rank 1, so A1 = A2 = (a' W a) with
        # a_h = l' Phi P_h Phi l / (l' Phi l)
        with np.errstate(divide="ignore", invalid="ignore"):
            a = np.einsum("ip,kpq,iq->ik", L @ self.vcov, self.P, L @ self.vcov) / var[:, None]
            A = np.einsum("ik,kl,il->i", a, self.cov_varpar, a)
            dof = np.where(var > 0, _kr_df(A, A, 1), np.inf)
        return t_table(est, se, dof, conf_level)

    def test(self, L) -> dict:
        """The Kenward-Roger F test of ``L beta = 0`` (all rows of ``L`` jointly).

        Parameters
        ----------
        L : array_like, shape (q, p) or (p,)
            Contrast matrix of full row rank.

        Returns
        -------
        dict
            ``estimate`` (``L beta``), ``vcov_adjusted`` (``L Phi_A L'``), ``vcov``
            (``L Phi L'``), ``std_error`` (adjusted, per row), ``ndf`` (rank of ``L``),
            ``df`` (denominator df), ``F`` (scaled: ``lambda`` times ``F_unscaled``),
            ``F_unscaled``, ``F_scaling`` (``lambda``), ``p_value`` (of ``F`` on
            ``(ndf, df)``); for one row also ``statistic`` (t with the adjusted SE, whose
            square is ``F_unscaled``).
        """
        L = np.atleast_2d(np.asarray(L, dtype=float))
        if L.shape[1] != len(self.beta):
            raise AnalysisError(f"L must have {len(self.beta)} columns (one per fixed "
                                f"effect); got {L.shape}")
        nq = int(np.linalg.matrix_rank(L))
        if nq < L.shape[0]:
            raise AnalysisError(f"L must have full row rank; it has {L.shape[0]} rows of "
                                f"rank {nq}")
        est = L @ self.beta
        LPL = L @ self.vcov @ L.T
        A1, A2 = self._A(L.T @ np.linalg.solve(LPL, L))
        df2 = float(_kr_df(np.array(A1), np.array(A2), nq))
        scaling = 1.0 if abs(df2 - 2.0) < 1e-2 else df2 * (1.0 - A2 / nq) / (df2 - 2.0)
        LPAL = L @ self.vcov_adjusted @ L.T
        F_u = float(est @ np.linalg.solve(LPAL, est)) / nq
        F = scaling * F_u
        out = {"estimate": est, "vcov_adjusted": LPAL, "vcov": LPL,
               "std_error": np.sqrt(np.diag(LPAL)), "ndf": nq, "df": df2, "F": F,
               "F_unscaled": F_u, "F_scaling": float(scaling),
               "p_value": float(stats.f.sf(F, nq, df2))}
        if nq == 1:
            out["statistic"] = float(est[0] / np.sqrt(LPAL[0, 0]))
        return out


def _kr_df(A1: np.ndarray, A2: np.ndarray, c: int) -> np.ndarray:
    """Kenward and Roger's (1997) denominator df ``m`` from ``A1``, ``A2`` and rank ``c``."""
    B = (A1 + 6.0 * A2) / (2.0 * c)
    g = ((c + 1) * A1 - (c + 4) * A2) / ((c + 2) * A2)
    den = 3.0 * c + 2.0 * (1.0 - g)
    c1, c2, c3 = g / den, (c - g) / den, (c + 2 - g) / den
    V0 = 1.0 + c1 * B
    V1 = 1.0 - c2 * B
    V2 = 1.0 - c3 * B
    V0 = np.where(np.abs(V0) < 1e-10, 0.0, V0)
    # rho = V* / (2 E*^2) with E* = 1 / (1 - A2 / c), V* = 2 V0 / (c V1^2 V2)
    rho = ((1.0 - A2 / c) / V1) ** 2 * V0 / V2 / c
    return 4.0 + (c + 2.0) / (c * rho - 1.0)


def kenward_roger_adjustment(fit: EngineFit, X, groups, visits, *,
                             linear: bool = False) -> KenwardRoger:
    """The Kenward-Roger adjusted covariance of an MMRM fit's fixed effects.

    ``Phi_A = Phi + 2 Phi [sum_hj W_hj (Q_hj - P_h Phi P_j - R_hj / 4)] Phi``
    (Kenward & Roger 1997, Biometrics 53:983), with ``Phi = (X' V^-1 X)^-1``,
    ``P_h = -X' V^-1 dV_h V^-1 X``, ``Q_hj = X' V^-1 dV_h V^-1 dV_j V^-1 X``,
    ``R_hj = X' V^-1 d2V_hj V^-1 X``.

    **Information.** ``W`` is the inverse *observed* information of the variance
    parameters, i.e. the inverse Hessian of the negative REML log-likelihood at the
    optimum (``fit.cov_varpar``, which the Satterthwaite df use too), as SAS PROC MIXED
    (``DDFM=KR``) and R's ``mmrm`` use. pbkrtest (for ``lmer`` fits) uses the expected
    information; the two coincide for complete balanced data and differ with dropout.

    **Parametrisation.** ``W``, ``P`` and ``Q`` (hence the df) do not depend on it, but
    ``R_hj`` does; it is taken in ``fit.varpar``, which is SAS's parametrisation (UN: the
    entries ``Sigma[i, j]``; CS: common covariance and residual variance; AR(1):
    ``sigma2``, ``rho``; CSH and ARH(1): the visit variances and ``rho``; TOEP: the lag
    covariances and the variance; TOEPH and ANTE(1): the visit variances and the lag or
    adjacent correlations), so the adjusted covariance is SAS's. For UN, CS and TOEP
    ``Sigma`` is linear in these, so ``R = 0``.

    Parameters
    ----------
    fit : EngineFit
        A REML fit from :func:`.mmrm.fit_mmrm` with a finite ``cov_varpar``.
    X, groups, visits : ndarray
        The design matrix, patient codes and visit codes the fit used.
    linear : bool
        Leave out the ``R_hj`` terms: SAS's ``DDFM=KR(LINEAR)`` (the Prasad-Rao-Jeske-
        Kackar-Harville correction). The df are the same either way.

    Returns
    -------
    KenwardRoger

    Raises
    ------
    AnalysisError
        For an ML fit, or when the information matrix is unavailable (a fit that did not
        converge to a proper minimum).

    Notes
    -----
    The adjusted standard error is not always larger than the model-based one: ``-R/4``
    can outweigh the other terms (SAS on mmrm's ``fev_data``, AR(1): 0.95865 against
    0.95987).

    Examples
    --------
    >>> import numpy as np
    >>> from dryneedle_outcomes.stats.mixed.mmrm import fit_mmrm
    >>> rng = np.random.default_rng(3)
    >>> groups = np.repeat(np.arange(30), 3)
    >>> visits = np.tile(np.arange(3), 30)
    >>> arm = np.repeat(rng.integers(0, 2, 30), 3)
    >>> X = np.column_stack([np.ones(90), arm])
    >>> y = 5 + arm + np.repeat(rng.normal(0, 1, 30), 3) + rng.normal(0, 1, 90)
    >>> fit = fit_mmrm(y, X, groups, visits, structure="cs")
    >>> kr = kenward_roger_adjustment(fit, X, groups, visits)
    >>> res = kr.contrast([0, 1])
    >>> bool(20 < res["df"][0] < 40), bool(res["std_error"][0] > 0)
    (True, True)
    """
    if not fit.reml:
        raise AnalysisError("the Kenward-Roger adjustment needs a REML fit (reml=True)")
    W = np.asarray(fit.cov_varpar, dtype=float)
    if not np.all(np.isfinite(W)):
        raise AnalysisError("the Kenward-Roger adjustment needs the information matrix of "
                            "the covariance parameters, which this fit does not have (it "
                            "did not converge to a proper minimum)")
    Sigma_fit = np.asarray(fit.extra["Sigma"], dtype=float)
    layout = fit.extra.get("layout")
    if layout is not None:  # slots: (group, visit) or coordinates (.covariance_layout)
        st, visits = layout.structure, layout.slots
    else:
        st = make_structure(fit.extra["structure"], Sigma_fit.shape[0])
    X = np.asarray(X, dtype=float)
    # X is the design of the fit, whose rank the fit checked
    data = prepare(np.zeros(X.shape[0]), X, groups, visits, st.T, None, need_y=False,
                   check_rank=False)
    p = data.p
    phi = np.asarray(fit.varpar, dtype=float)
    Sigma, dS = st.sigma_phi(phi)
    k = len(phi)
    second = not (linear or st.linear)
    # the sums over h, j weighted by W_hj are taken before the products with X:
    # sum_hj W_hj Q_hj = X' [sum_h V^-1 dV_h V^-1 (sum_j W_hj dV_j) V^-1] X, and
    # sum_hj W_hj R_hj = X' V^-1 (sum_hj W_hj d2V_hj) V^-1 X
    dSW = np.einsum("hj,jab->hab", W, dS)
    d2W = np.einsum("hj,hjab->ab", W, st.d2sigma_phi(phi)) if second else None
    xi = (np.arange(p)[:, None] * (p + 1) + np.arange(p)[None, :]).ravel()

    XWX = np.zeros(p * p)
    P = np.zeros((k, p * p))
    QR = np.zeros(p * p)  # sum_hj W_hj (Q_hj - R_hj / 4)
    for blk in data.blocks:  # patterns of one size, batched (no loop over patterns)
        m, n_pat = blk.m, len(blk.n)
        ii, jj = blk.idx[:, :, None], blk.idx[:, None, :]
        S4x = blk.S4[:, :, xi]  # (P, m*m, p*p)
        Vi = np.linalg.inv(blk.sub(Sigma))  # (P, m, m)
        U = Vi[None] @ dS[:, ii, jj] @ Vi[None]  # V^-1 dV_h V^-1, (k, P, m, m)
        XWX += np.einsum("pa,pab->b", Vi.reshape(n_pat, m * m), S4x)
        P -= np.einsum("hpa,pab->hb", U.reshape(k, n_pat, m * m), S4x)
        block = np.einsum("hpab,hpbc->pac", U, dSW[:, ii, jj]) @ Vi
        if second:
            block = block - 0.25 * Vi @ d2W[ii, jj] @ Vi
        QR += np.einsum("pa,pab->b", block.reshape(n_pat, m * m), S4x)
    XWX = XWX.reshape(p, p)
    Phi = np.linalg.inv(0.5 * (XWX + XWX.T))
    P = P.reshape(k, p, p)
    P = 0.5 * (P + P.transpose(0, 2, 1))
    PW = np.einsum("hj,jab->hab", W, P)
    Lam = QR.reshape(p, p) - (P @ Phi @ PW).sum(axis=0)  # sum_hj W_hj P_h Phi P_j
    Lam = 0.5 * (Lam + Lam.T)
    PhiA = Phi + 2.0 * Phi @ Lam @ Phi
    return KenwardRoger(beta=np.asarray(fit.beta, dtype=float), vcov=Phi,
                        vcov_adjusted=0.5 * (PhiA + PhiA.T), cov_varpar=W, P=P,
                        linear=bool(linear))


def kenward_roger(fit: EngineFit, L, X, groups, visits, *, linear: bool = False) -> dict:
    """Kenward-Roger F test of ``L beta = 0``: ``kenward_roger_adjustment`` then
    :meth:`KenwardRoger.test` (for one test; adjust once when testing many contrasts)."""
    return kenward_roger_adjustment(fit, X, groups, visits, linear=linear).test(L)


__all__ = ["KenwardRoger", "kenward_roger", "kenward_roger_adjustment"]
