"""Many refits of one MMRM with patient weights: jackknife and bootstrap, warm-started.

Resampling methods for multiple imputation (rbmi's conditional mean imputation with the
jackknife or bootstrap; Wolbers et al. 2022, Pharm Stat 21:1246-57) refit the imputation
model once per left-out patient or bootstrap sample. A leave-one-out or bootstrap data set
is the full data with a weight per patient (0 = left out, k = drawn k times), so its
sufficient statistics come from the full data's by :func:`.mmrm_data.reweight` (for the
jackknife an update by one patient's terms), and its REML optimum lies close to the full
fit's. :class:`MMRMRefitter` fits the full data once with :func:`.mmrm.fit_mmrm` (every
check, every fallback) and then solves each reweighted problem by quasi-Newton steps
from the full optimum starting with the full fit's Hessian (the leave-one-out Hessian
differs from it by ``O(1/n)``, so the steps contract fast; BFGS updates carry a bootstrap
sample's further optimum), with a backtracking line search on the REML deviance, until
the Newton decrement is below ``1e-12``; if that stalls, the same from the Hessian at
the point reached. A refit that does not get there is redone by :func:`.mmrm.fit_mmrm`
(L-BFGS-B, BFGS, Nelder-Mead) from the full optimum, and says so.

The REML criterion is that of :mod:`.mmrm` (checked against ``nlme::gls`` in
``tests/reference/mmrm_engine/``); a refit equals a fresh fit of the reweighted data
within the optimiser's tolerance (``tests/test_reference_based_engine.py``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import linalg

from ...errors import AnalysisError
from .covariance_layout import make_layout
from .engine import EngineFit
from .mmrm import MMRMCriterion, fit_mmrm
from .mmrm_data import prepare, reweight


@dataclass
class Refit:
    """One reweighted fit: fixed effects, covariance over visits, and how it went."""

    beta: np.ndarray
    Sigma: np.ndarray
    converged: bool
    newton_steps: int
    fallback: bool = False


class MMRMRefitter:
    """The full-data MMRM fit and fast refits of the same data with patient weights.

    Parameters
    ----------
    y, X, groups, visits
        As :func:`.mmrm.fit_mmrm` (one row per patient and attended visit).
    structure : str
        A visit-indexed covariance structure (default ``"unstructured"``).
    n_visits : int, optional
        Number of scheduled visits.
    x_names : list of str, optional
        Names of the columns of ``X``.

    Attributes
    ----------
    fit : EngineFit
        The full-data fit.
    patients : ndarray
        The sorted unique ``groups``: :meth:`refit` takes one weight per entry.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(3)
    >>> n, T = 40, 3
    >>> g = np.repeat(np.arange(n), T); v = np.tile(np.arange(T), n)
    >>> X = np.eye(T)[v]
    >>> y = v + rng.multivariate_normal(np.zeros(T), np.eye(T) + 0.5, n).ravel()
    >>> r = MMRMRefitter(y, X, g, v)
    >>> w = np.ones(n); w[0] = 0.0
    >>> fast = r.refit(w)
    >>> slow = fit_mmrm(y[g != 0], X[g != 0], g[g != 0], v[g != 0])
    >>> bool(np.allclose(fast.beta, slow.beta, atol=1e-7)), fast.converged
    (True, True)
    """

    def __init__(self, y, X, groups, visits, *, structure: str = "unstructured",
                 n_visits: int | None = None, x_names: list[str] | None = None) -> None:
        self.structure = structure
        self.fit: EngineFit = fit_mmrm(y, X, groups, visits, structure=structure,
                                       n_visits=n_visits, x_names=x_names)
        layout = make_layout(structure, visits, groups=groups, n_visits=n_visits)
        if layout.n_slots != self.fit.extra["n_visits"]:
            raise AnalysisError(f"structure {structure!r} is not indexed by visit; "
                                "refits need a visit-indexed covariance")
        self.data = prepare(y, X, groups, layout.slots, layout.n_slots, x_names,
                            check_rank=False, keep_patients=True)
        self.st = layout.structure
        self.patients = np.unique(groups)
        s2 = self.data.scale ** 2
        self.theta = self.st.theta_from_sigma(self.fit.extra["Sigma"] / s2)
        H = MMRMCriterion(self.data, self.st, True).hessian(self.theta)
        try:
            self._cH = linalg.cho_factor(0.5 * (H + H.T))
        except linalg.LinAlgError:
            self._cH = None   # no usable Hessian: every refit uses fit_mmrm
        self._args = (np.asarray(y, float), np.asarray(X, float), np.asarray(groups),
                      np.asarray(visits), n_visits, x_names)

    def refit(self, weights: np.ndarray, max_steps: int = 50) -> Refit:
        """The REML fit of the data with ``weights`` (one per entry of ``patients``)."""
        data = reweight(self.data, weights)
        crit = MMRMCriterion(data, self.st, True)
        theta, steps, ok = self.theta.copy(), 0, self._cH is not None
        # quasi-Newton from the full fit's Hessian; if that stalls, from the Hessian at
        # the point reached
        for stage in ("fixed", "fresh"):
            cH = self._cH
            if stage == "fresh":
                try:
                    cH = linalg.cho_factor(crit.hessian(theta))
                except (linalg.LinAlgError, ValueError):
                    break
            theta, n, ok = _newton(crit, theta, cH, max_steps if stage == "fixed" else 20)
            steps += n
            if ok:
                break
        if ok:
            S, _ = self.st.sigma_theta(theta)
            _, _, beta, _ = crit.core(S, grad=False)
            return Refit(beta * data.scale, data.scale ** 2 * S, True, steps)
        return self._slow(weights, steps)

    def _slow(self, weights, steps) -> Refit:
        y, X, groups, visits, n_visits, x_names = self._args
        w = np.asarray(weights, float)
        reps = np.round(w).astype(int)
        if not np.allclose(w, reps):
            raise AnalysisError("a refit with non-integer weights did not converge")
        # replicate each patient's rows reps times under new patient codes
        code = np.searchsorted(self.patients, groups)
        r = reps[code]
        rows = np.repeat(np.arange(len(y)), r)
        copy = np.concatenate([np.arange(k) for k in r]) if len(r) else np.array([], int)
        new_g = code[rows] * (int(reps.max()) + 1) + copy
        fit = fit_mmrm(y[rows], X[rows], new_g, visits[rows], structure=self.structure,
                       n_visits=n_visits or self.fit.extra["n_visits"], x_names=x_names,
                       start=self.fit.extra["Sigma"], check_rank=True)
        return Refit(fit.beta, fit.extra["Sigma"], fit.converged, steps, fallback=True)


def _newton(crit, theta, cH, max_steps):
    """Quasi-Newton steps from the inverse Hessian of ``cH`` (a Cholesky factor), updated
    by BFGS after each step, with backtracking on the deviance, until the decrement
    ``g' H^-1 g`` is below 1e-12; returns theta, steps taken, and whether it got there.
    (With the full fit's Hessian a leave-one-out problem converges in a few steps; the
    updates carry a bootstrap sample's further optimum through.)"""
    if cH is None:
        return theta, 0, False
    f, g = crit.fg(theta)
    if not np.isfinite(f):
        return theta, 0, False
    Hi = linalg.cho_solve(cH, np.eye(len(theta)))
    for steps in range(max_steps):
        step = Hi @ g
        dec = float(g @ step)
        if not dec >= 0:
            return theta, steps, False
        if dec < 1e-12:
            return theta, steps, True
        t = 1.0
        while t >= 1.0 / 1024:
            fc, gc = crit.fg(theta - t * step)
            if np.isfinite(fc) and fc <= f - 1e-4 * t * dec:
                break
            # near the optimum the deviance's decrease is below its rounding error
            # (~1e-13 relative): then a step that does not raise it beyond that and
            # shrinks the decrement is taken
            if np.isfinite(fc) and fc <= f + 1e-12 * abs(f) and \
                    float(gc @ Hi @ gc) < 0.5 * dec:
                break
            t /= 2.0
        else:
            return theta, steps, False
        sv, yv = -t * step, gc - g
        sy = float(sv @ yv)
        if sy > 1e-12 * np.sqrt(float(sv @ sv) * float(yv @ yv)):
            r = 1.0 / sy
            Hy = Hi @ yv
            Hi = Hi - r * (np.outer(sv, Hy) + np.outer(Hy, sv)) \
                + (r * r * float(yv @ Hy) + r) * np.outer(sv, sv)
        theta, f, g = theta + sv, fc, gc
    return theta, max_steps, False


__all__ = ["MMRMRefitter", "Refit"]
