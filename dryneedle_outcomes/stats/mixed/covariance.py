"""Covariance structures of the MMRM: T x T matrices over visits and their derivatives.

One job: given a structure's parameters, return the covariance matrix ``Sigma`` of the
outcome over the T scheduled visits and its first (and second) derivatives, in two
parametrisations -- ``theta`` (unconstrained, what the optimisers of :mod:`.mmrm` see)
and ``phi`` (natural, reported as ``EngineFit.varpar`` and used by Satterthwaite and
:mod:`.kenward_roger`). Nothing here knows the data.

Covariance structures
---------------------
``"unstructured"`` (T(T+1)/2 parameters; optimised through a Cholesky factor with
log-diagonal), ``"cs"`` (compound symmetry: a common covariance and a within-patient
variance), ``"ar1"`` (``sigma2 * rho^|i - j|`` over the visit index), and their
heterogeneous-variance versions ``"cs_hetero"`` and ``"ar1_hetero"`` (one variance per
visit, as ``varIdent`` adds in nlme). Toeplitz and ante-dependence (``"toeplitz"``,
``"toeplitz_hetero"``, ``"ante1_hetero"``) are in :mod:`.covariance_banded`.

The variance parameters reported in :attr:`EngineFit.varpar` are on their natural scale:
the entries ``Sigma[i, j]`` (i >= j) for ``"unstructured"``; the common covariance and the
within-patient variance for ``"cs"`` (``Sigma = tau J + psi I``: the random-intercept
variance and residual variance of the equivalent random-intercept model); ``sigma2`` and
``rho`` for ``"ar1"``; the visit variances and ``rho`` for the heterogeneous versions (SAS
PROC MIXED's parameters for UN, CS, AR(1), CSH and ARH(1)). The second-order terms of the
Kenward-Roger adjustment (:func:`.kenward_roger.kenward_roger_adjustment`) are taken in this
parametrisation, which is why it reproduces SAS's DDFM=KR; it is linear for
``"unstructured"`` and ``"cs"``, so those terms vanish there.

A new structure is a subclass of :class:`Structure` (``sigma_theta``,
``theta_from_sigma``, ``sigma_phi``, ``phi_from_sigma``; ``d2sigma_phi`` is numerical
unless ``linear``) added to :data:`STRUCTURES` and :func:`make_structure`.

These are the parametrisations of ``nlme::gls`` (``corSymm``/``corCompSymm``/``corAR1``
with ``varIdent``) and SAS PROC MIXED (``TYPE=UN, CS, AR(1), CSH, ARH(1)``). They are
tested through the fits: golden values in ``tests/reference/mmrm_engine/``, checks
(including the analytic derivatives) in ``tests/test_mmrm_engine.py``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

import numpy as np

from ...errors import AnalysisError
from .engine import numerical_jacobian
from .options import STRUCTURES


class Structure(ABC):
    """A family of T x T covariance matrices in two parametrisations.

    ``theta`` (unconstrained, used by the optimisers) and ``phi`` (natural, reported as
    ``varpar`` and used for Satterthwaite and Kenward-Roger). Both give ``Sigma`` and its
    first derivatives, shape (k, T, T).
    """

    name = ""
    linear = False  # Sigma is linear in phi (then the Kenward-Roger R_ij terms vanish)

    def __init__(self, n_visits: int) -> None:
        self.T = n_visits

    # theta side
    @abstractmethod
    def sigma_theta(self, theta):
        """Implemented by each structure."""

    @abstractmethod
    def theta_from_sigma(self, S):
        """Implemented by each structure."""

    # phi side
    @abstractmethod
    def sigma_phi(self, phi):
        """Implemented by each structure."""

    @abstractmethod
    def phi_from_sigma(self, S):
        """Implemented by each structure."""

    def smallest_correlation_eigenvalue(self, C: np.ndarray) -> float:
        """Smallest eigenvalue of the correlation matrix ``C`` (near 0: on the boundary)."""
        return float(np.linalg.eigvalsh(C)[0])

    def d2sigma_phi(self, phi) -> np.ndarray:
        """Second derivatives of Sigma in phi, shape (k, k, T, T) (zero when linear)."""
        k = len(phi)
        if self.linear:
            return np.zeros((k, k, self.T, self.T))
        d2 = numerical_jacobian(lambda x: self.sigma_phi(x)[1], np.asarray(phi, float),
                                step=1e-4)
        return 0.5 * (d2 + d2.transpose(1, 0, 2, 3))


class _Unstructured(Structure):
    name = "unstructured"
    linear = True

    def __init__(self, n_visits: int) -> None:
        super().__init__(n_visits)
        self.I, self.J = np.tril_indices(n_visits)
        self.k = len(self.I)
        self.diag = self.I == self.J
        self.n_cov_params = self.k
        self.phi_names = [
            f"var[{i}]" if i == j else f"cov[{j},{i}]" for i, j in zip(self.I, self.J)
        ]

    def _chol(self, theta):
        L = np.zeros((self.T, self.T))
        vals = np.where(self.diag, np.exp(np.clip(theta, -300.0, 300.0)), theta)
        L[self.I, self.J] = vals
        return L

    def sigma_theta(self, theta):
        L = self._chol(theta)
        S = L @ L.T
        cols = L[:, self.J].T  # column j of L for each parameter (i, j)
        ar = np.arange(self.k)
        D = np.zeros((self.k, self.T, self.T))
        D[ar, self.I, :] += cols
        D[ar, :, self.I] += cols
        D[self.diag] *= L[self.I[self.diag], self.I[self.diag]][:, None, None]
        return S, D

    def theta_from_sigma(self, S):
        S = nearest_pd(S)
        L = np.linalg.cholesky(S)
        theta = L[self.I, self.J].copy()
        theta[self.diag] = np.log(theta[self.diag])
        return theta

    def sigma_phi(self, phi):
        S = np.zeros((self.T, self.T))
        S[self.I, self.J] = phi
        S[self.J, self.I] = phi
        D = np.zeros((self.k, self.T, self.T))
        ar = np.arange(self.k)
        D[ar, self.I, self.J] = 1.0
        D[ar, self.J, self.I] = 1.0
        return S, D

    def phi_from_sigma(self, S):
        return np.asarray(S)[self.I, self.J].copy()


class _Correlated(Structure):
    """Compound symmetry or AR(1) correlation, homogeneous or heterogeneous variances."""

    def __init__(self, n_visits: int, kind: str, hetero: bool) -> None:
        super().__init__(n_visits)
        if n_visits < 2:
            raise AnalysisError(
                f"structure '{kind}{'_hetero' if hetero else ''}' needs at least 2 visits; "
                f"the data have {n_visits}"
            )
        self.kind = kind
        self.hetero = hetero
        self.name = kind + ("_hetero" if hetero else "")
        T = n_visits
        self.lag = np.abs(np.subtract.outer(np.arange(T), np.arange(T)))
        self.k = T + 1 if hetero else 2
        self.n_cov_params = self.k
        self.linear = kind == "cs" and not hetero
        if hetero:
            self.phi_names = [f"var[{t}]" for t in range(T)] + ["rho"]
        elif kind == "cs":
            self.phi_names = ["covariance", "within_variance"]
        else:
            self.phi_names = ["sigma2", "rho"]
        self.rho_min = -1.0 / (T - 1) if kind == "cs" else -1.0

    # correlation as a function of rho, and rho as a function of the unconstrained t
    def _corr(self, rho):
        if self.kind == "cs":
            R = np.full((self.T, self.T), rho)
            np.fill_diagonal(R, 1.0)
            dR = np.ones((self.T, self.T))
            np.fill_diagonal(dR, 0.0)
        else:
            lag = self.lag
            R = rho ** lag
            with np.errstate(divide="ignore", invalid="ignore"):
                dR = np.where(lag > 0, lag * rho ** np.maximum(lag - 1, 0), 0.0)
        return R, dR

    def _rho(self, t):
        t = float(np.clip(t, -40.0, 40.0))
        if self.kind == "ar1":
            rho = np.tanh(t)
            return rho, 1.0 - rho**2
        T = self.T  # rho = (e^t - 1) / (e^t + T - 1) maps R onto (-1/(T-1), 1)
        if t > 0:
            u = np.exp(-t)
            return (1.0 - u) / (1.0 + (T - 1) * u), T * u / (1.0 + (T - 1) * u) ** 2
        e = np.exp(t)
        return (e - 1.0) / (e + T - 1.0), T * e / (e + T - 1.0) ** 2

    def _t(self, rho):
        lo = self.rho_min + 1e-6 * (1.0 - self.rho_min)
        rho = float(np.clip(rho, lo, 1.0 - 1e-6))
        if self.kind == "ar1":
            return float(np.arctanh(rho))
        return float(np.log((1.0 + (self.T - 1) * rho) / (1.0 - rho)))

    def sigma_theta(self, theta):
        theta = np.asarray(theta, float)
        rho, drho = self._rho(theta[-1])
        R, dR = self._corr(rho)
        D = np.empty((self.k, self.T, self.T))
        if self.hetero:
            sd = np.exp(np.clip(theta[:-1], -150.0, 150.0))
            S = R * np.outer(sd, sd)
            eye = np.eye(self.T)
            D[:-1] = S[None] * (eye[:, :, None] + eye[:, None, :])
            D[-1] = dR * np.outer(sd, sd) * drho
        else:
            s2 = np.exp(np.clip(theta[0], -300.0, 300.0))
            S = s2 * R
            D[0] = S
            D[1] = s2 * dR * drho
        return S, D

    def _rho_from_sigma(self, S):
        sd = np.sqrt(np.clip(np.diag(S), 1e-300, None))
        C = S / np.outer(sd, sd)
        if self.kind == "cs":
            return float(C[np.triu_indices(self.T, 1)].mean())
        return float(np.mean(np.diag(C, 1)))

    def theta_from_sigma(self, S):
        S = 0.5 * (np.asarray(S, float) + np.asarray(S, float).T)
        d = np.clip(np.diag(S), 1e-12 * max(np.max(np.diag(S)), 1e-300), None)
        t = self._t(self._rho_from_sigma(S))
        if self.hetero:
            return np.concatenate([0.5 * np.log(d), [t]])
        return np.array([np.log(np.mean(d)), t])

    def sigma_phi(self, phi):
        phi = np.asarray(phi, float)
        T = self.T
        D = np.empty((self.k, T, T))
        if self.hetero:
            v, rho = phi[:-1], phi[-1]
            R, dR = self._corr(rho)
            sd = np.sqrt(v)
            S = R * np.outer(sd, sd)
            eye = np.eye(T)
            D[:-1] = S[None] * (eye[:, :, None] + eye[:, None, :]) / (2.0 * v[:, None, None])
            D[-1] = dR * np.outer(sd, sd)
        elif self.kind == "cs":
            tau, psi = phi
            S = np.full((T, T), tau) + psi * np.eye(T)
            D[0] = 1.0
            D[1] = np.eye(T)
        else:
            s2, rho = phi
            R, dR = self._corr(rho)
            S = s2 * R
            D[0] = R
            D[1] = s2 * dR
        return S, D

    def phi_from_sigma(self, S):
        S = np.asarray(S, float)
        T = self.T
        if self.hetero:
            return np.concatenate([np.diag(S), [self._rho_from_sigma(S)]])
        if self.kind == "cs":
            tau = float(S[np.triu_indices(T, 1)].mean())
            return np.array([tau, float(np.mean(np.diag(S))) - tau])
        s2 = float(np.mean(np.diag(S)))
        return np.array([s2, float(np.mean(np.diag(S, 1))) / s2])


def make_structure(structure: str, n_visits: int) -> Structure:
    """The structure named ``structure`` (one of :data:`STRUCTURES`) over ``n_visits`` visits."""
    if structure == "unstructured":
        return _Unstructured(n_visits)
    if structure in ("cs", "ar1"):
        return _Correlated(n_visits, structure, hetero=False)
    if structure in ("cs_hetero", "ar1_hetero"):
        return _Correlated(n_visits, structure.split("_")[0], hetero=True)
    from .covariance_banded import BANDED, make_banded  # it builds on Structure (this module)

    if structure in BANDED:
        return make_banded(structure, n_visits)
    raise AnalysisError(
        f"unknown covariance structure {structure!r}; choose one of {', '.join(STRUCTURES)}"
    )


def nearest_pd(S: np.ndarray, floor: float = 1e-4) -> np.ndarray:
    """Symmetrise and lift small/negative eigenvalues (a starting value, not an estimate)."""
    S = 0.5 * (S + S.T)
    w, V = np.linalg.eigh(S)
    top = max(float(w.max()), 1e-300)
    w = np.maximum(w, floor * top)
    return (V * w) @ V.T


__all__ = ["STRUCTURES", "Structure", "make_structure", "nearest_pd"]
