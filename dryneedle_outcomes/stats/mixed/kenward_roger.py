"""Kenward-Roger small-sample inference for MMRM fits: adjusted covariance, F test and df.

One job: from a REML fit of :func:`.mmrm.fit_mmrm` and a contrast matrix ``L``, compute
the Kenward-Roger (1997) adjusted covariance of the fixed effects, the scaled F (or t)
statistic and its denominator df. It needs the fit's covariance parameters, the
structure's derivatives (:mod:`.covariance`) and the design's per-pattern statistics
(:mod:`.mmrm_data`); it does not refit.

Matches R's ``pbkrtest`` (``vcovAdj``, ``KRmodcomp``; expected information, as for
``lmer`` fits) and, for the non-linear structures, SAS PROC MIXED's ``DDFM=KR``
second-order terms (``DDFM=KR(FIRSTORDER)`` with ``second_order=False``). Golden
values: ``tests/reference/mmrm_engine/`` (``reference.json``, pbkrtest on an equivalent
lme4 random-intercept fit, made by ``make_reference.R``); checked in
``tests/test_mmrm_engine.py`` (``test_kenward_roger_*``).
"""

from __future__ import annotations

import numpy as np
from scipy import stats

from ...errors import AnalysisError
from .covariance import make_structure
from .engine import EngineFit
from .mmrm_data import prepare


def kenward_roger(fit: EngineFit, L, X, groups, visits, *, second_order: bool = True) -> dict:
    """Kenward-Roger adjusted covariance, F (or t) test and denominator df for ``L beta``.

    The small-sample adjustment of Kenward & Roger (1997, Biometrics 53:983), computed as
    pbkrtest's ``vcovAdj`` and ``KRmodcomp`` (Halekoh & Hojsgaard 2014, J Stat Softw
    59(9)): the expected REML information ``W^-1`` of the covariance parameters, the
    adjusted covariance ``Phi_A = Phi + 2 Phi Lambda Phi`` with
    ``Lambda = sum_ij W_ij (Q_ij - P_i Phi P_j - R_ij / 4)``, and the scaled F statistic with
    its denominator df. Derivatives are taken in the natural parametrisation of
    ``fit.varpar``, which is SAS PROC MIXED's parametrisation of the same structures
    (UN: the entries ``Sigma[i, j]``; CS: common covariance and residual variance; AR(1):
    ``sigma2`` and ``rho``; CSH/ARH(1): the visit variances and ``rho``). It is linear for
    ``"unstructured"`` and ``"cs"``, so ``R_ij = 0`` there, exactly as in pbkrtest. For the
    non-linear structures the ``R_ij`` terms (second derivatives of ``Sigma``) are included
    as in SAS's DDFM=KR; ``second_order=False`` drops them (SAS's KR(FIRSTORDER)). With a
    non-linear parametrisation the adjusted covariance (not the df) depends on the
    parametrisation -- a known property of the 1997 method.

    Parameters
    ----------
    fit : EngineFit
        A REML fit from :func:`fit_mmrm`.
    L : array_like, shape (q, p) or (p,)
        Contrast matrix; the hypothesis is ``L beta = 0``.
    X, groups, visits : ndarray
        The design matrix, patient codes and visit codes the fit used.
    second_order : bool
        Include the ``R_ij`` (second-derivative) terms for non-linear structures.

    Returns
    -------
    dict
        ``estimate`` (``L beta``), ``vcov_adjusted`` (``L Phi_A L'``), ``vcov`` (``L Phi L'``),
        ``std_error`` (adjusted, per row), ``ndf`` (rank of L), ``df`` (KR denominator df),
        ``F`` (scaled KR F statistic), ``F_unscaled``, ``F_scaling``, ``p_value``; for a single
        row also ``statistic`` (t with the adjusted SE), ``ci_lower``, ``ci_upper`` (95%).
        ``fit.extra["vcov_kr"]`` is set to the adjusted covariance of ``beta``.

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
    >>> kr = kenward_roger(fit, [0, 1], X, groups, visits)
    >>> # the adjusted SE is never smaller (here equal up to rounding: a balanced design)
    >>> se = np.sqrt(fit.vcov[1, 1])
    >>> bool(20 < kr["df"] < 40), bool(kr["std_error"][0] >= se * (1 - 1e-12))
    (True, True)
    """
    if not fit.reml:
        raise AnalysisError("the Kenward-Roger adjustment needs a REML fit (reml=True)")
    structure = fit.extra.get("structure")
    Sigma_fit = np.asarray(fit.extra["Sigma"], dtype=float)
    T = Sigma_fit.shape[0]
    st = make_structure(structure, T)
    X = np.asarray(X, dtype=float)
    data = prepare(np.zeros(X.shape[0]), X, groups, visits, T, None, need_y=False)
    p = data.p
    L = np.atleast_2d(np.asarray(L, dtype=float))
    if L.shape[1] != p:
        raise AnalysisError(f"L must have {p} columns (one per fixed effect); got {L.shape}")
    phi = np.asarray(fit.varpar, dtype=float)
    Sigma, dS = st.sigma_phi(phi)
    k = len(phi)
    d2S = st.d2sigma_phi(phi) if second_order else None
    q = p + 1
    xi = (np.arange(p)[:, None] * q + np.arange(p)[None, :]).ravel()

    XWX = np.zeros(p * p)
    P = np.zeros((k, p * p))
    Q = np.zeros((k * k, p * p))
    R = np.zeros((k * k, p * p))
    Ktr = np.zeros((k, k))
    for pat in data.patterns:
        idx = pat.visits
        m = len(idx)
        S4x = pat.S4[:, xi]
        W = np.linalg.inv(Sigma[np.ix_(idx, idx)])
        dSs = dS[:, idx][:, :, idx]
        WdS = W @ dSs  # (k, m, m): W dSigma_k
        U = WdS @ W  # W dSigma_k W
        XWX += W.ravel() @ S4x
        P -= U.reshape(k, m * m) @ S4x
        M = np.einsum("kab,lbc->klac", WdS, U).reshape(k * k, m * m)
        Q += M @ S4x
        Ktr += pat.n * np.einsum("kab,lba->kl", WdS, WdS)
        if second_order and not st.linear:
            d2 = d2S[:, :, idx][:, :, :, idx]
            R += (W @ d2 @ W).reshape(k * k, m * m) @ S4x
    XWX = XWX.reshape(p, p)
    Phi = np.linalg.inv(0.5 * (XWX + XWX.T))
    P = P.reshape(k, p, p)
    P = 0.5 * (P + P.transpose(0, 2, 1))
    Q = Q.reshape(k, k, p, p)
    R = R.reshape(k, k, p, p)

    PhiP = np.einsum("ij,kjl->kil", Phi, P)  # Phi P_k
    IE2 = (Ktr - 2.0 * np.einsum("ij,klij->kl", Phi, Q)
           + np.einsum("kij,lji->kl", PhiP, PhiP))
    IE2 = 0.5 * (IE2 + IE2.T)
    ev = np.linalg.eigvalsh(IE2)
    Wm = 2.0 * (np.linalg.inv(IE2) if np.min(np.abs(ev)) > 1e-10 else np.linalg.pinv(IE2))
    Wm = 0.5 * (Wm + Wm.T)
    PPhiP = np.einsum("kij,jm,lmn->klin", P, Phi, P)
    Lam = np.einsum("kl,klij->ij", Wm, Q - PPhiP - 0.25 * R)
    Lam = 0.5 * (Lam + Lam.T)
    PhiA = Phi + 2.0 * Phi @ Lam @ Phi
    PhiA = 0.5 * (PhiA + PhiA.T)
    fit.extra["vcov_kr"] = PhiA

    beta = np.asarray(fit.beta, dtype=float)
    est = L @ beta
    nq = int(np.linalg.matrix_rank(L))
    LPL = L @ Phi @ L.T
    Theta = L.T @ np.linalg.solve(LPL, L)
    u = np.einsum("ij,jm,kmn,no->kio", Theta, Phi, P, Phi)  # Theta Phi P_k Phi
    tr = np.trace(u, axis1=1, axis2=2)
    A1 = float(tr @ Wm @ tr)
    A2 = float(np.einsum("kl,kij,lji->", Wm, u, u))
    B = (A1 + 6.0 * A2) / (2.0 * nq)
    g = ((nq + 1) * A1 - (nq + 4) * A2) / ((nq + 2) * A2)
    den = 3.0 * nq + 2.0 * (1.0 - g)
    c1, c2, c3 = g / den, (nq - g) / den, (nq + 2 - g) / den
    V0 = 1.0 + c1 * B
    V1 = 1.0 - c2 * B
    V2 = 1.0 - c3 * B
    V0 = 0.0 if abs(V0) < 1e-10 else V0
    ratio = 1.0 if (abs(1 - A2 / nq) < 1e-14 and abs(V1) < 1e-14) else (1 - A2 / nq) / V1
    rho = ratio**2 * V0 / V2 / nq
    df2 = 4.0 + (nq + 2.0) / (nq * rho - 1.0)
    scaling = 1.0 if abs(df2 - 2.0) < 1e-2 else df2 * (1.0 - A2 / nq) / (df2 - 2.0)
    LPAL = L @ PhiA @ L.T
    wald = float(est @ np.linalg.solve(LPAL, est))
    F_u = wald / nq
    F = scaling * F_u
    out = {
        "estimate": est,
        "vcov_adjusted": LPAL,
        "vcov": LPL,
        "std_error": np.sqrt(np.diag(LPAL)),
        "ndf": nq,
        "df": float(df2),
        "F": float(F),
        "F_unscaled": float(F_u),
        "F_scaling": float(scaling),
        "p_value": float(stats.f.sf(F, nq, df2)),
    }
    if L.shape[0] == 1:
        se = float(np.sqrt(LPAL[0, 0]))
        tq = stats.t.ppf(0.975, df2)
        out.update({"statistic": float(est[0] / se), "ci_lower": float(est[0] - tq * se),
                    "ci_upper": float(est[0] + tq * se)})
    return out


__all__ = ["kenward_roger"]
