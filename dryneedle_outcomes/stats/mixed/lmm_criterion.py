"""The profiled (RE)ML deviance of lme4-type mixed models, its gradient and Hessian.

One job: for ``y_i = X_i beta + Z_i u_i + e_i`` with ``u_i ~ N(0, sigma^2 Lambda
Lambda')``, hold the per-patient sufficient statistics and evaluate lme4's profiled
(REML) deviance as a function of ``theta`` (the lower triangle of ``Lambda``,
column-major), with its analytic gradient, the Hessian used for convergence checks and
Satterthwaite df, the non-profiled deviance in lmerTest's ``(theta, sigma)`` and the
conditional modes (lme4's ``ranef``). The optimisation and the checks are in
:mod:`.lmm`.

Because the random effects are independent between patients and ``q`` is small, every
quantity is a sum over patients of ``q x q`` algebra. The engine accumulates the
per-patient sufficient statistics ``Z_i'Z_i``, ``Z_i'X_i``, ``Z_i'y_i`` (and the totals
``X'X``, ``X'y``, ``y'y``) once; each evaluation of the deviance then costs a handful
of vectorised operations over patients (a batched Cholesky factor of
``M_i = I + Lambda' Z_i'Z_i Lambda`` and the Woodbury identity), and its gradient is
analytic. There are no loops over patients in Python.

Matches the deviance of R's ``lme4::lmer`` (``REMLcrit``/``deviance``). Golden values:
``tests/reference/lmm_engine/``; checked in ``tests/test_lmm_engine.py``, which also
checks the analytic gradient and Hessian against finite differences.
"""

from __future__ import annotations

import numpy as np
from scipy import linalg

from .engine import numerical_jacobian


def theta_index(q: int) -> list[tuple[int, int]]:
    """(row, column) of each element of ``theta`` in ``Lambda``: lme4's column-major order."""
    return [(i, j) for j in range(q) for i in range(j, q)]


def lambda_from_theta(theta: np.ndarray, q: int) -> np.ndarray:
    """The lower-triangular relative covariance factor ``Lambda`` from ``theta``."""
    lam = np.zeros((q, q))
    idx = theta_index(q)  # lme4's column-major order (np.tril_indices is row-major)
    lam[[r for r, _ in idx], [c for _, c in idx]] = theta
    return lam


def _bmm(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Per-group matrix product of arrays laid out as (rows, cols, groups)."""
    return np.einsum("ikg,kjg->ijg", a, b)


def _batched_cholesky(m: np.ndarray) -> np.ndarray:
    """Lower Cholesky factors of the symmetric p.d. matrices ``m[:, :, g]``."""
    q = m.shape[0]
    chol = np.zeros_like(m)
    for j in range(q):
        s = m[j, j].copy()
        for k in range(j):
            s -= chol[j, k] * chol[j, k]
        chol[j, j] = np.sqrt(s)
        for i in range(j + 1, q):
            t = m[i, j].copy()
            for k in range(j):
                t -= chol[i, k] * chol[j, k]
            chol[i, j] = t / chol[j, j]
    return chol


def _batched_forward(chol: np.ndarray, rhs: np.ndarray) -> np.ndarray:
    """Solve ``chol[:, :, g] @ x = rhs[:, :, g]`` for lower-triangular ``chol``."""
    q = chol.shape[0]
    out = np.empty_like(rhs)
    for i in range(q):
        t = rhs[i].copy()
        for k in range(i):
            t -= chol[i, k] * out[k]
        out[i] = t / chol[i, i]
    return out


class Profile:
    """Sufficient statistics and the profiled (RE)ML deviance as a function of ``theta``."""

    def __init__(self, y, X, Z, groups, n_codes: int, reml: bool):
        n, p = X.shape
        q = Z.shape[1]
        self.n, self.p, self.q, self.reml = n, p, q, reml
        W = np.column_stack([X, y])
        self.WW = W.T @ W
        # per-group sums of products, laid out (row, col, group) so that every q x q
        # operation below is a few vectorised operations over contiguous group vectors
        zz = np.empty((q, q, n_codes))
        for a in range(q):
            for b in range(a + 1):
                zz[a, b] = zz[b, a] = np.bincount(groups, Z[:, a] * Z[:, b], n_codes)
        zw = np.empty((q, p + 1, n_codes))
        for a in range(q):
            za = Z[:, a]
            for b in range(p + 1):
                zw[a, b] = np.bincount(groups, za * W[:, b], n_codes)
        self.ZZ, self.ZW = zz, zw
        self.index = theta_index(q)
        self.lower = np.array([0.0 if i == j else -np.inf for i, j in self.index])
        self.n_eval = 0

    # core: everything at one theta -------------------------------------------------
    def parts(self, theta: np.ndarray) -> dict:
        q, p = self.q, self.p
        lam = lambda_from_theta(theta, q)
        # B_g = Lambda' ZZ_g ; M_g = I + B_g Lambda
        B = np.einsum("ca,cbg->abg", lam, self.ZZ)
        M = np.einsum("abg,bd->adg", B, lam)
        M[np.arange(q), np.arange(q)] += 1.0
        chol = _batched_cholesky(M)
        logdet_m = 2.0 * np.log(chol[np.arange(q), np.arange(q)]).sum()
        R = np.einsum("ca,cmg->amg", lam, self.ZW)  # Lambda' Z_g'W_g
        C = _batched_forward(chol, R)
        S = self.WW.copy()
        for k in range(q):
            S -= C[k] @ C[k].T
        A, c, yy = S[:p, :p], S[:p, p], S[p, p]
        try:
            cA = linalg.cho_factor(A, lower=True)
        except linalg.LinAlgError:
            return {"ok": False}
        beta = linalg.cho_solve(cA, c)
        r2 = yy - c @ beta
        logdet_a = 2.0 * np.log(np.diag(cA[0])).sum()
        if not (r2 > 0 and np.isfinite(logdet_m)):
            return {"ok": False}
        return {"ok": True, "lam": lam, "B": B, "chol": chol, "logdet_m": logdet_m,
                "A": A, "cA": cA, "beta": beta, "r2": r2, "logdet_a": logdet_a}

    def deviance_from(self, pt: dict) -> float:
        if not pt["ok"]:
            return np.inf
        n, p = self.n, self.p
        if self.reml:
            nu = n - p
            return float(pt["logdet_m"] + pt["logdet_a"]
                         + nu * (1.0 + np.log(2.0 * np.pi * pt["r2"] / nu)))
        return float(pt["logdet_m"] + n * (1.0 + np.log(2.0 * np.pi * pt["r2"] / n)))

    def deviance(self, theta: np.ndarray) -> float:
        self.n_eval += 1
        return self.deviance_from(self.parts(np.asarray(theta, dtype=float)))

    def _gradient_terms(self, pt: dict, T: np.ndarray, logdet: bool) -> np.ndarray:
        """``sum_g [tr(M_g^-1 dM_g) if logdet] - tr(dP_g T_g)`` for each element of theta.

        ``P_g = Lambda M_g^-1 Lambda'``; the derivative of ``log|M_g|`` is
        ``2 (M^-1 Lambda' ZZ)_{ba}`` and that of ``-tr(P T)`` is
        ``2 (-K T + K T K' Lambda' ZZ)_{ba}`` with ``K = M^-1 Lambda'``, for the element
        ``(a, b)`` of Lambda.
        """
        lam, B = pt["lam"], pt["B"]
        minv = pt.get("minv")
        if minv is None:
            q = self.q
            eye = np.zeros_like(pt["chol"])
            eye[np.arange(q), np.arange(q)] = 1.0
            linv = _batched_forward(pt["chol"], eye)
            minv = pt["minv"] = np.einsum("kag,kbg->abg", linv, linv)
        K = np.einsum("acg,bc->abg", minv, lam)  # M^-1 Lambda'
        KT = _bmm(K, T)
        D = _bmm(KT, np.einsum("cag,cbg->abg", K, B)) - KT  # K' B = P ZZ
        if logdet:
            D += _bmm(minv, B)
        Dsum = D.sum(axis=2)
        return np.array([2.0 * Dsum[j, i] for i, j in self.index])

    def psi_gradient_from(self, pt: dict) -> np.ndarray:
        """Derivative ``F`` of the profiled deviance with respect to ``Psi = Lambda Lambda'``.

        ``d dev = tr(F dPsi)`` with ``F = sum_g [ZZ_g W_g - W_g' T_g W_g]``,
        ``W_g = I - P_g ZZ_g``, ``P_g = Lambda M_g^-1 Lambda'``. Unlike the gradient in
        theta (``2 F Lambda``) it is informative when Lambda is singular: at a boundary
        fit, ``Psi`` is a minimum over the positive semi-definite matrices only if ``F``
        is positive semi-definite; a negative eigenvalue is a direction that lowers the
        deviance.
        """
        q = self.q
        rr, Q = self._residual_terms(pt)
        nu = self.n - self.p if self.reml else self.n
        T = (nu / pt["r2"]) * rr if Q is None else Q + (nu / pt["r2"]) * rr
        self._gradient_terms(pt, T, logdet=True)  # caches M^-1
        K = np.einsum("acg,bc->abg", pt["minv"], pt["lam"])
        P = np.einsum("ac,cbg->abg", pt["lam"], K)
        W = -_bmm(P, self.ZZ)
        W[np.arange(q), np.arange(q)] += 1.0
        F = _bmm(self.ZZ, W) - _bmm(np.swapaxes(W, 0, 1), _bmm(T, W))
        F = F.sum(axis=2)
        return 0.5 * (F + F.T)

    def _residual_terms(self, pt: dict) -> tuple[np.ndarray, np.ndarray]:
        """``r_g = Z_g'(y_g - X_g beta)`` and, for REML, ``Q_g = Z_g'X_g A^-1 X_g'Z_g``."""
        p = self.p
        if "rr" not in pt:
            zx = self.ZW[:, :p]
            r = self.ZW[:, p] - np.einsum("ajg,j->ag", zx, pt["beta"])
            pt["rr"] = np.einsum("ag,bg->abg", r, r)
            if self.reml:
                ainv = linalg.cho_solve(pt["cA"], np.eye(p))
                tmp = np.einsum("jk,bkg->jbg", ainv, zx)
                pt["Q"] = np.einsum("ajg,jbg->abg", zx, tmp)
        return pt["rr"], pt.get("Q")

    def gradient_from(self, pt: dict, sigma2: float | None = None) -> np.ndarray:
        """Analytic gradient in theta of the profiled deviance (``sigma2=None``) or of the
        deviance at fixed ``sigma2`` (:meth:`deviance_vp`)."""
        rr, Q = self._residual_terms(pt)
        nu = self.n - self.p if self.reml else self.n
        w = nu / pt["r2"] if sigma2 is None else 1.0 / sigma2
        T = w * rr if Q is None else Q + w * rr
        return self._gradient_terms(pt, T, logdet=True)

    def r2_gradient_from(self, pt: dict) -> np.ndarray:
        """Gradient in theta of the penalised residual sum of squares ``r2``."""
        rr, _ = self._residual_terms(pt)
        return self._gradient_terms(pt, rr, logdet=False)

    def deviance_and_gradient(self, theta: np.ndarray) -> tuple[float, np.ndarray]:
        self.n_eval += 1
        pt = self.parts(np.asarray(theta, dtype=float))
        if not pt["ok"]:
            return np.inf, np.zeros(len(theta))
        return self.deviance_from(pt), self.gradient_from(pt)

    def gradient(self, theta: np.ndarray, sigma2: float | None = None) -> np.ndarray:
        self.n_eval += 1
        pt = self.parts(np.asarray(theta, dtype=float))
        if not pt["ok"]:
            return np.full(len(theta), np.nan)
        return self.gradient_from(pt, sigma2)

    def hessian_vp(self, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Hessian of :meth:`deviance_vp` at ``(theta, sigma_hat(theta))`` and, by the
        Schur complement, the Hessian of the profiled deviance at ``theta``.

        The theta block is the numerical Jacobian (Richardson-extrapolated central
        differences) of the analytic gradient at fixed sigma; the sigma row is exact:
        ``d2/dsigma2 = 6 r2 / sigma^4 - 2 nu / sigma^2`` and
        ``d2/dtheta dsigma = -2 / sigma^3 d r2 / d theta``.
        """
        pt = self.parts(theta)
        nu = self.n - self.p if self.reml else self.n
        r2 = pt["r2"]
        s2 = r2 / nu
        sigma = np.sqrt(s2)
        k = len(theta)
        H = np.empty((k + 1, k + 1))
        htt = numerical_jacobian(lambda th: self.gradient(th, s2), theta, step=1e-4)
        H[:k, :k] = 0.5 * (htt + htt.T)
        H[:k, k] = H[k, :k] = -2.0 / sigma**3 * self.r2_gradient_from(pt)
        H[k, k] = 6.0 * r2 / s2**2 - 2.0 * nu / s2
        h_prof = H[:k, :k] - np.outer(H[:k, k], H[:k, k]) / H[k, k]
        return H, h_prof

    # non-profiled criterion in lmerTest's parametrisation (theta, sigma) -------------
    def deviance_vp(self, varpar: np.ndarray) -> float:
        theta, sigma = varpar[:-1], varpar[-1]
        pt = self.parts(theta)
        if not pt["ok"]:
            return np.inf
        s2 = sigma * sigma
        dev = pt["logdet_m"] + pt["r2"] / s2 + self.n * np.log(2.0 * np.pi * s2)
        if self.reml:
            dev += pt["logdet_a"] - self.p * np.log(2.0 * np.pi * s2)
        return float(dev)

    def vcov_vp(self, varpar: np.ndarray) -> np.ndarray:
        pt = self.parts(varpar[:-1])
        return varpar[-1] ** 2 * linalg.cho_solve(pt["cA"], np.eye(self.p))

    def conditional_modes(self, pt: dict) -> np.ndarray:
        """lme4's ``ranef``: ``Lambda M^-1 Lambda' Z_g'(y_g - X_g beta)``, shape (groups, q)."""
        p = self.p
        r = self.ZW[:, p] - np.einsum("ajg,j->ag", self.ZW[:, :p], pt["beta"])
        lam, chol = pt["lam"], pt["chol"]
        v = _batched_forward(chol, np.einsum("ca,cg->ag", lam, r)[:, None, :])[:, 0, :]
        # back-solve chol' w = v
        q = self.q
        w = np.empty_like(v)
        for i in reversed(range(q)):
            t = v[i] - np.einsum("kg,kg->g", chol[i + 1:, i], w[i + 1:])
            w[i] = t / chol[i, i]
        return (lam @ w).T


__all__ = ["Profile", "lambda_from_theta", "theta_index"]
