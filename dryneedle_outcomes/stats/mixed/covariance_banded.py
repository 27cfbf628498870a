"""Toeplitz and first-order ante-dependence covariance structures of the MMRM.

One job: the :class:`~.covariance.Structure` subclasses whose correlation depends on the
lag or on each pair of adjacent visits, in SAS PROC MIXED's parametrisation (``phi``,
reported as ``EngineFit.varpar``; Kenward-Roger's second-order terms are taken in it):

``"toeplitz"`` (SAS ``TYPE=TOEP``)
    ``Sigma[i, j] = c_|i-j|``: the lag-l covariances ``c_1 .. c_{T-1}`` (SAS ``TOEP(l+1)``)
    and the variance ``c_0`` (SAS ``Residual``); linear in ``phi``.
``"toeplitz_hetero"`` (SAS ``TYPE=TOEPH``)
    ``Sigma[i, j] = sqrt(v_i v_j) rho_|i-j|``: the visit variances (SAS ``Var(i)``) and the
    lag correlations ``rho_1 .. rho_{T-1}`` (SAS ``TOEPH(l)``).
``"ante1_hetero"`` (SAS ``TYPE=ANTE(1)``)
    ``Sigma[i, j] = sqrt(v_i v_j) rho_i rho_{i+1} ... rho_{j-1}`` (i < j): the visit
    variances (``Var(i)``) and the correlations of adjacent visits (``Rho(i)``).
``"ante1"`` (R mmrm's ``ad``; SAS has only the heterogeneous ANTE(1))
    ``Sigma[i, j] = sigma2 rho_i rho_{i+1} ... rho_{j-1}``: one variance ``sigma2`` and
    the correlations of adjacent visits (the second-order Kenward-Roger terms are taken in
    these natural parameters, as for ANTE(1)). Validated against R's mmrm
    (``tests/reference/mmrm_covstruct/``).

The optimisers see unconstrained ``theta``: log standard deviations, and for Toeplitz the
partial autocorrelations through ``tanh`` (the Durbin-Levinson recursion maps any values
in (-1, 1) to a positive-definite Toeplitz correlation matrix), for ante-dependence the
adjacent correlations through ``tanh``. Derivatives in ``theta`` are by the chain rule
with a numerical Jacobian of ``phi(theta)``. Tested through the fits against SAS PROC MIXED
(``tests/reference/mmrm_sas/``, ``tests/test_kenward_roger_sas.py``).
"""

from __future__ import annotations

from abc import abstractmethod

import numpy as np

from ...errors import AnalysisError
from .covariance import Structure, nearest_pd
from .engine import numerical_jacobian

_EDGE = 0.999999  # bound on a partial or adjacent correlation used for starting values


def acf_from_pacf(pacf: np.ndarray) -> np.ndarray:
    """Autocorrelations ``rho_1 .. rho_p`` from partial autocorrelations (Durbin-Levinson)."""
    p = len(pacf)
    rho = np.ones(p + 1)
    a = np.zeros(0)
    for k in range(1, p + 1):
        a = np.append(a - pacf[k - 1] * a[::-1], pacf[k - 1])
        rho[k] = a @ rho[k - 1::-1][:k]
    return rho[1:]


def pacf_from_acf(rho: np.ndarray) -> np.ndarray:
    """Partial autocorrelations from autocorrelations (inverse of :func:`acf_from_pacf`),
    each clipped into (-1, 1) so that any input gives a valid starting value."""
    p = len(rho)
    r = np.concatenate([[1.0], rho])
    a = np.zeros(0)
    v = 1.0
    out = np.empty(p)
    for k in range(1, p + 1):
        pk = (r[k] - a @ r[k - 1:0:-1]) / v if k > 1 else r[1]
        pk = float(np.clip(pk, -_EDGE, _EDGE))
        a = np.append(a - pk * a[::-1], pk)
        v *= 1.0 - pk * pk
        out[k - 1] = pk
    return out


def ante_correlation(rho: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """First-order ante-dependence correlation matrix from the T - 1 adjacent correlations,
    and its derivatives in them, shape (T - 1, T, T): ``R[i, j] = rho_i ... rho_{j-1}``."""
    rho = np.asarray(rho, float)
    T = len(rho) + 1
    R = np.eye(T)
    dR = np.zeros((T - 1, T, T))
    for i in range(T):
        for j in range(i + 1, T):
            R[i, j] = R[j, i] = np.prod(rho[i:j])
            for m in range(i, j):
                dR[m, i, j] = dR[m, j, i] = np.prod(np.delete(rho[i:j], m - i))
    return R, dR


class _Banded(Structure):
    """Shared machinery: ``theta -> phi`` numerically differentiated, ``Sigma(phi)``."""

    hetero = True

    def __init__(self, n_visits: int, kind: str) -> None:
        super().__init__(n_visits)
        if n_visits < 2:
            raise AnalysisError(f"structure '{kind}' needs at least 2 visits; the data have "
                                f"{n_visits}")
        T = n_visits
        self.name = kind
        self.lag = np.abs(np.subtract.outer(np.arange(T), np.arange(T)))
        self.k = T if kind in ("toeplitz", "ante1") else 2 * T - 1
        self.n_cov_params = self.k

    @abstractmethod
    def _phi_from_theta(self, theta) -> np.ndarray:
        """``phi`` from the unconstrained ``theta`` (each structure)."""

    def sigma_theta(self, theta):
        theta = np.asarray(theta, float)
        phi = self._phi_from_theta(theta)
        S, dS = self.sigma_phi(phi)
        J = numerical_jacobian(self._phi_from_theta, theta, step=1e-5)  # (k_theta, k_phi)
        return S, np.einsum("ta,aij->tij", J, dS)


class _Toeplitz(_Banded):
    linear = True
    hetero = False

    def __init__(self, n_visits: int) -> None:
        super().__init__(n_visits, "toeplitz")
        self.phi_names = [f"cov[lag {lag}]" for lag in range(1, self.T)] + ["variance"]

    def _phi_from_theta(self, theta):
        s2 = np.exp(np.clip(theta[-1], -300.0, 300.0))
        return np.append(s2 * acf_from_pacf(np.tanh(theta[:-1])), s2)

    def theta_from_sigma(self, S):
        phi = self.phi_from_sigma(nearest_pd(np.asarray(S, float)))
        s2 = phi[-1]
        return np.append(np.arctanh(pacf_from_acf(phi[:-1] / s2)), np.log(s2))

    def sigma_phi(self, phi):
        phi = np.asarray(phi, float)
        band = np.concatenate([[phi[-1]], phi[:-1]])
        D = np.empty((self.k, self.T, self.T))
        for lag in range(1, self.T):
            D[lag - 1] = self.lag == lag
        D[-1] = self.lag == 0
        return band[self.lag], D

    def phi_from_sigma(self, S):
        S = np.asarray(S, float)
        band = [float(np.mean(np.diag(S, lag))) for lag in range(self.T)]
        return np.array(band[1:] + band[:1])


class _HeteroCorrelated(_Banded):
    """Visit variances times a correlation matrix with T - 1 parameters."""

    def __init__(self, n_visits: int, kind: str, label: str) -> None:
        super().__init__(n_visits, kind)
        self.phi_names = ([f"var[{t}]" for t in range(self.T)]
                          + [f"{label}[{j}]" for j in range(1, self.T)])

    @abstractmethod
    def _corr(self, rho):
        """Correlation matrix and its derivatives in the T - 1 correlation parameters."""

    @abstractmethod
    def _rho_from_t(self, t):
        """The correlation parameters from their unconstrained values."""

    @abstractmethod
    def _t_from_rho(self, rho):
        """Inverse of :meth:`_rho_from_t` (clipped into the open interval)."""

    def sigma_phi(self, phi):
        phi = np.asarray(phi, float)
        T = self.T
        v, rho = phi[:T], phi[T:]
        R, dR = self._corr(rho)
        sd = np.sqrt(v)
        S = R * np.outer(sd, sd)
        D = np.empty((self.k, T, T))
        eye = np.eye(T)
        D[:T] = S[None] * (eye[:, :, None] + eye[:, None, :]) / (2.0 * v[:, None, None])
        D[T:] = dR * np.outer(sd, sd)[None]
        return S, D

    def _phi_from_theta(self, theta):
        T = self.T
        return np.concatenate([np.exp(2.0 * np.clip(theta[:T], -150.0, 150.0)),
                               self._rho_from_t(theta[T:])])

    def theta_from_sigma(self, S):
        S = nearest_pd(np.asarray(S, float))
        phi = self.phi_from_sigma(S)
        T = self.T
        return np.concatenate([0.5 * np.log(phi[:T]), self._t_from_rho(phi[T:])])


class _ToeplitzHetero(_HeteroCorrelated):
    def __init__(self, n_visits: int) -> None:
        super().__init__(n_visits, "toeplitz_hetero", "rho_lag")

    def _corr(self, rho):
        r = np.concatenate([[1.0], rho])
        dR = np.stack([(self.lag == lag).astype(float) for lag in range(1, self.T)])
        return r[self.lag], dR

    def _rho_from_t(self, t):
        return acf_from_pacf(np.tanh(t))

    def _t_from_rho(self, rho):
        return np.arctanh(pacf_from_acf(rho))

    def phi_from_sigma(self, S):
        S = np.asarray(S, float)
        sd = np.sqrt(np.diag(S))
        C = S / np.outer(sd, sd)
        return np.concatenate([np.diag(S), [np.mean(np.diag(C, lag)) for lag in range(1, self.T)]])


class _Ante1(_HeteroCorrelated):
    def __init__(self, n_visits: int) -> None:
        super().__init__(n_visits, "ante1_hetero", "rho_adjacent")

    def _corr(self, rho):
        return ante_correlation(rho)

    def _rho_from_t(self, t):
        return np.tanh(np.clip(t, -40.0, 40.0))

    def _t_from_rho(self, rho):
        return np.arctanh(np.clip(rho, -_EDGE, _EDGE))

    def phi_from_sigma(self, S):
        S = np.asarray(S, float)
        sd = np.sqrt(np.diag(S))
        C = S / np.outer(sd, sd)
        return np.concatenate([np.diag(S), np.diag(C, 1)])


class _Ante1Homogeneous(_Banded):
    """``sigma2 * R(rho)``: one variance, T - 1 adjacent correlations (mmrm's ``ad``)."""

    hetero = False

    def __init__(self, n_visits: int) -> None:
        super().__init__(n_visits, "ante1")
        self.phi_names = ["sigma2"] + [f"rho_adjacent[{j}]" for j in range(1, self.T)]

    def _phi_from_theta(self, theta):
        return np.concatenate([[np.exp(np.clip(theta[0], -300.0, 300.0))],
                               np.tanh(np.clip(theta[1:], -40.0, 40.0))])

    def theta_from_sigma(self, S):
        phi = self.phi_from_sigma(nearest_pd(np.asarray(S, float)))
        return np.concatenate([[np.log(phi[0])],
                               np.arctanh(np.clip(phi[1:], -_EDGE, _EDGE))])

    def sigma_phi(self, phi):
        phi = np.asarray(phi, float)
        R, dR = ante_correlation(phi[1:])
        D = np.empty((self.k, self.T, self.T))
        D[0] = R
        D[1:] = phi[0] * dR
        return phi[0] * R, D

    def phi_from_sigma(self, S):
        S = np.asarray(S, float)
        sd = np.sqrt(np.diag(S))
        C = S / np.outer(sd, sd)
        return np.concatenate([[float(np.mean(np.diag(S)))], np.diag(C, 1)])


def make_banded(structure: str, n_visits: int) -> Structure:
    """The Toeplitz or ante-dependence structure named ``structure``."""
    if structure == "toeplitz":
        return _Toeplitz(n_visits)
    if structure == "toeplitz_hetero":
        return _ToeplitzHetero(n_visits)
    if structure == "ante1":
        return _Ante1Homogeneous(n_visits)
    return _Ante1(n_visits)


#: The structures this module defines.
BANDED = ("toeplitz", "toeplitz_hetero", "ante1_hetero", "ante1")

__all__ = ["BANDED", "acf_from_pacf", "ante_correlation", "make_banded", "pacf_from_acf"]
