"""Spatial exponential covariance of the MMRM: correlation decaying with the time between
two measurements, for visits that are not equally spaced.

One job: the :class:`~.covariance.Structure` of SAS PROC MIXED's ``TYPE=SP(EXP)(c)``
(``nlme::gls`` with ``corExp(form = ~ c | patient)``, R mmrm's ``sp_exp``)::

    Sigma[i, j] = sigma2 * exp(-d_ij / range),

``d_ij`` the Euclidean distance between the coordinates of measurements i and j (one
coordinate: ``|c_i - c_j|``, e.g. days since baseline). A weekly course followed by a
week-12 follow-up is then modelled on its real time scale: the follow-up is less
correlated with week 6 than week 6 with week 5, which AR(1) over the visit index cannot
say. The parameters ``phi`` are SAS's, in SAS's order: ``range`` (SAS ``SP(EXP)``, in the
units of the coordinate) and ``sigma2`` (SAS ``Residual``); the optimisers see their logs.
Kenward-Roger's second-order terms are taken in ``phi`` (analytic second derivatives), as
SAS's DDFM=KR.

The structure is defined over the distinct coordinates ("slots") of the data, not over
visit numbers: :mod:`.covariance_layout` maps each observation to its slot, so two
patients seen on different days at the same visit each get the correlation of their own
days (SAS's behaviour). Validated against SAS PROC MIXED and ``nlme::gls``
(``tests/reference/mmrm_covstruct/``, ``tests/test_covariance_structures.py``).

Examples
--------
>>> import numpy as np
>>> st = SpatialExp(np.array([0.0, 7.0, 14.0, 84.0]))
>>> S, _ = st.sigma_phi([14.0, 100.0])
>>> np.round(S[0, :2], 2).tolist(), round(float(S[2, 3]), 4)
([100.0, 60.65], 0.6738)
"""

from __future__ import annotations

import numpy as np

from ...errors import AnalysisError
from .covariance import Structure


class SpatialExp(Structure):
    """``sigma2 * exp(-d / range)`` over measurements at the given coordinates.

    Parameters
    ----------
    coordinates : ndarray, shape (T,) or (T, d)
        The distinct coordinates (slots) the structure is defined over.
    """

    name = "spatial_exp"
    linear = False
    hetero = False
    pd_start = False  # starting values from residual pairs (phi_from_sigma), no PD repair

    def __init__(self, coordinates) -> None:
        c = np.asarray(coordinates, dtype=float)
        c = c.reshape(len(c), -1)
        super().__init__(len(c))
        if self.T < 2:
            raise AnalysisError("structure 'spatial_exp' needs at least 2 distinct "
                                f"coordinates; the data have {self.T}")
        self.coordinates = c
        diff = c[:, None, :] - c[None, :, :]
        self.dist = np.sqrt(np.sum(diff * diff, axis=2))
        self.k = 2
        self.n_cov_params = 2
        self.phi_names = ["range", "sigma2"]

    def sigma_phi(self, phi):
        r, s2 = (float(x) for x in phi)
        C = np.exp(-self.dist / r)
        D = np.empty((2, self.T, self.T))
        D[0] = s2 * C * self.dist / r**2
        D[1] = C
        return s2 * C, D

    def d2sigma_phi(self, phi) -> np.ndarray:
        r, s2 = (float(x) for x in phi)
        d = self.dist
        C = np.exp(-d / r)
        d2 = np.zeros((2, 2, self.T, self.T))
        d2[0, 0] = s2 * C * (d**2 / r**4 - 2.0 * d / r**3)
        d2[0, 1] = d2[1, 0] = C * d / r**2
        return d2

    def smallest_correlation_eigenvalue(self, C: np.ndarray) -> float:
        """``1 - max_ij C_ij`` (i != j): the smallest eigenvalue of the two most correlated
        measurements' 2 x 2 correlation, 0 when ``range`` runs to infinity (the boundary);
        an exponential correlation over distinct coordinates is otherwise positive
        definite (and the whole slot matrix may be too large to decompose)."""
        off = np.where(np.eye(self.T, dtype=bool), -np.inf, C)
        return float(1.0 - off.max())

    def sigma_theta(self, theta):
        t = np.clip(np.asarray(theta, float), -300.0, 300.0)
        phi = np.exp(t)
        S, D = self.sigma_phi(phi)
        return S, D * phi[:, None, None]

    def theta_from_sigma(self, S):
        return np.log(self.phi_from_sigma(S))

    def phi_from_sigma(self, S):
        """``sigma2`` the mean variance; ``range`` the median of ``-d_ij / log(corr_ij)``
        over the pairs with a correlation in (0, 1) (exact for a matrix of this family;
        a starting value otherwise, the median distance when no pair qualifies)."""
        S = np.asarray(S, float)
        dg = np.clip(np.diag(S), 1e-300, None)
        C = S / np.sqrt(np.outer(dg, dg))
        iu = np.triu_indices(self.T, 1)
        c, d = C[iu], self.dist[iu]
        ok = (c > 1e-8) & (c < 1.0 - 1e-10) & (d > 0)
        if ok.any():
            r = float(np.median(-d[ok] / np.log(c[ok])))
        else:
            r = float(np.median(d[d > 0]))
        return np.array([r, float(np.mean(dg))])


__all__ = ["SpatialExp"]
