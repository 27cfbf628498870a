"""MMRM: a linear model with a structured residual covariance over visits, fitted by REML.

The model of a mixed model for repeated measures (MMRM) is

    y_i ~ N(X_i beta, Sigma[v_i, v_i]),

one vector ``y_i`` per patient, ``v_i`` the visits that patient attended and ``Sigma``
(T x T) the covariance of the outcome over the T scheduled visits. Patients who missed
visits contribute the sub-block of ``Sigma`` for the visits they attended: all available
data are used, which is valid when the data are missing at random. This is the model
that ``nlme::gls`` (``corSymm`` + ``varIdent``), SAS ``PROC MIXED`` (``REPEATED /
TYPE=UN``) and R's ``mmrm`` package fit.

How it is made fast
-------------------
Patients are grouped by missingness pattern (:mod:`.mmrm_data`: the set of visits they
attended; a trial has few). Within a pattern every patient has the same ``Sigma_S``, so
the data enter the likelihood only through one small matrix per pattern,
``sum_i vec(Z_i) vec(Z_i)'`` with ``Z_i = [X_i, y_i]``, computed once (one matrix product).
Each evaluation of the REML criterion and of its analytic gradient then costs a few small
dense operations, batched over the patterns with the same number of visits, whatever the
number of patients; there is no loop over patients anywhere. The outcome is divided by the
OLS residual SD internally so the optimiser and the finite differences work on unit scale.

After the optimiser (L-BFGS-B first; see :func:`fit_mmrm`) Newton steps with a numerical
Hessian of the analytic gradient refine the optimum; that Hessian also gives
``cov_varpar`` (observed information, as nlme's ``apVar`` that emmeans uses for gls), and
``jac_vcov`` is analytic: ``d vcov / d phi_k = vcov X' W dSigma_k W X vcov``.

REML deviance (``-2`` times the restricted log-likelihood, as ``nlme::gls`` reports it)::

    sum_i log|Sigma_i| + log|X' W X| + r' W r + (n - p) log(2 pi),

with ``W = Sigma^-1`` block-diagonal and ``r = y - X beta_hat`` (beta profiled out by GLS).
ML drops ``log|X' W X|`` and uses ``n``. Its gradient with respect to ``Sigma`` is
``sum_i [W_i - W_i (r_i r_i' + X_i (X'WX)^-1 X_i') W_i]`` (the second term only for REML),
which the chain rule carries to any parametrisation.

Covariance structures
---------------------
``"unstructured"``, ``"cs"``, ``"ar1"``, ``"cs_hetero"`` and ``"ar1_hetero"``, defined with
their parametrisations in :mod:`.covariance`; ``"toeplitz"``, ``"toeplitz_hetero"`` and
``"ante1_hetero"`` (SAS TOEP, TOEPH, ANTE(1)) in :mod:`.covariance_banded`.

For ``reml=False`` the engine reports ``vcov = (X' W X)^-1`` at the ML estimates (as lme4,
SAS and the mmrm package); ``nlme::gls(method = "ML")`` reports ``N / (N - p)`` times that.

Kenward-Roger inference for these fits is in :mod:`.kenward_roger`.

Matches R's ``nlme::gls`` and ``emmeans``. Golden values:
``tests/reference/mmrm_engine/`` (``reference.json``, made by the ``make_reference.R``
there from the data beside it); checked in ``tests/test_mmrm_engine.py``.
"""

from __future__ import annotations

import warnings

import numpy as np
from scipy import linalg, optimize

from ...errors import AnalysisError
from .covariance import STRUCTURES, Structure, nearest_pd
from .covariance_layout import make_layout
from .engine import EngineFit, numerical_jacobian
from .mmrm_data import MMRMData, as_codes, prepare

_LOG2PI = float(np.log(2.0 * np.pi))
_RHO_EDGE = 1e-6  # correlation-matrix eigenvalue below which a fit is on the boundary


# ---------------------------------------------------------------------------------------
# the REML/ML criterion, its gradient, and derived quantities
# ---------------------------------------------------------------------------------------


class _Criterion:
    def __init__(self, data: MMRMData, structure: Structure, reml: bool) -> None:
        self.d = data
        self.st = structure
        self.reml = reml
        self.n_eval = 0

    def core(self, Sigma: np.ndarray, grad: bool = True):
        """Deviance (scaled units), its gradient w.r.t. Sigma (T x T), beta, (X'WX)^-1.

        Batched over the patterns of each size; raises LinAlgError if a block of Sigma or
        X'WX is not positive definite.
        """
        d = self.d
        p, q = d.p, d.p + 1
        M = np.zeros(q * q)
        logdet = 0.0
        Ws = []
        for blk in d.blocks:
            m = blk.m
            c = np.linalg.cholesky(blk.sub(Sigma))  # (P, m, m), lower
            logdet += 2.0 * float(blk.n @ np.log(np.diagonal(c, axis1=1, axis2=2)).sum(1))
            ci = np.linalg.inv(c)
            W = np.swapaxes(ci, 1, 2) @ ci
            Ws.append(W)
            M += np.einsum("pa,pab->b", W.reshape(-1, m * m), blk.S4)
        M = M.reshape(q, q)
        XWX = 0.5 * (M[:p, :p] + M[:p, :p].T)
        cx = linalg.cholesky(XWX, lower=True, check_finite=False)
        beta = linalg.cho_solve((cx, True), M[:p, p], check_finite=False)
        rWr = M[p, p] - M[:p, p] @ beta
        if self.reml:
            dev = logdet + 2.0 * np.sum(np.log(np.diag(cx))) + rWr + (d.n - p) * _LOG2PI
        else:
            dev = logdet + rWr + d.n * _LOG2PI
        A = linalg.cho_solve((cx, True), np.eye(p), check_finite=False)
        if not grad:
            return dev, None, beta, A
        c = np.append(-beta, 1.0)
        C = np.outer(c, c)
        if self.reml:
            C[:p, :p] += A
        Cv = C.ravel()
        Gs = np.zeros(d.T * d.T)
        for blk, W in zip(d.blocks, Ws):
            m = blk.m
            Q = (blk.S4 @ Cv).reshape(-1, m, m)
            Gp = blk.n[:, None, None] * W - W @ Q @ W
            Gs += np.bincount(blk.flat, weights=Gp.ravel(), minlength=d.T * d.T)
        return dev, Gs.reshape(d.T, d.T), beta, A

    def fg(self, theta):
        """Deviance and gradient in theta (scaled units), inf when Sigma is not PD."""
        self.n_eval += 1
        S, D = self.st.sigma_theta(theta)
        try:
            dev, Gs, _, _ = self.core(S)
        except (np.linalg.LinAlgError, ValueError):
            return np.inf, np.zeros(len(theta))
        if not np.isfinite(dev):
            return np.inf, np.zeros(len(theta))
        return dev, D.reshape(len(theta), -1) @ Gs.ravel()

    def f(self, theta):
        return self.fg(theta)[0]

    def g(self, theta):
        return self.fg(theta)[1]

    def hessian(self, theta):
        H = numerical_jacobian(self.g, theta, step=1e-4)
        return 0.5 * (H + H.T)

    def offset(self) -> float:
        """What to add to the scaled deviance to get it in the data's units."""
        m = self.d.n - self.d.p if self.reml else self.d.n
        return m * 2.0 * np.log(self.d.scale)


def _xwx_derivs(data: MMRMData, Sigma: np.ndarray, dSigma: np.ndarray):
    """Phi = (X'WX)^-1 and P_k = -X'W dSigma_k W X (original units, X-only statistics).

    Batched over the patterns of each size (a spatial structure on each patient's own
    days can have as many patterns as patients)."""
    p, q = data.p, data.p + 1
    k = dSigma.shape[0]
    xi = (np.arange(p)[:, None] * q + np.arange(p)[None, :]).ravel()
    XWX = np.zeros(p * p)
    P = np.zeros((k, p * p))
    for blk in data.blocks:
        m, n_pat = blk.m, len(blk.n)
        S4x = blk.S4[:, :, xi]  # (P, m*m, p*p)
        W = np.linalg.inv(blk.sub(Sigma))  # (P, m, m)
        dS = dSigma[:, blk.idx[:, :, None], blk.idx[:, None, :]]  # (k, P, m, m)
        U = W[None] @ dS @ W[None]
        XWX += np.einsum("pa,pab->b", W.reshape(n_pat, m * m), S4x)
        P -= np.einsum("kpa,pab->kb", U.reshape(k, n_pat, m * m), S4x)
    XWX = XWX.reshape(p, p)
    Phi = np.linalg.inv(0.5 * (XWX + XWX.T))
    P = P.reshape(k, p, p)
    return Phi, 0.5 * (P + P.transpose(0, 2, 1))


# ---------------------------------------------------------------------------------------
# fitting
# ---------------------------------------------------------------------------------------


def _boundary_problem(Sigma: np.ndarray, st: Structure) -> str | None:
    d = np.diag(Sigma)
    if not np.all(np.isfinite(Sigma)) or np.any(d <= 0):
        return "the estimated covariance matrix has non-positive or non-finite variances"
    sd = np.sqrt(d)
    C = Sigma / np.outer(sd, sd)
    ev = st.smallest_correlation_eigenvalue(C)
    if ev < _RHO_EDGE:
        return ("the estimated covariance matrix is singular (smallest eigenvalue of the "
                f"correlation matrix {ev:.2g}): the fit is on the boundary of the "
                "parameter space")
    return None


def _polish(crit: _Criterion, theta: np.ndarray, f0: float, max_steps: int = 6):
    """Newton steps with the analytic gradient and a numerical Hessian of it.

    Returns theta, deviance, Hessian at theta (or None), number of Newton steps taken.
    """
    steps = 0
    H = None
    for _ in range(max_steps):
        g = crit.g(theta)
        H = crit.hessian(theta)
        try:
            cH = linalg.cho_factor(H)
        except linalg.LinAlgError:
            return theta, f0, H, steps
        step = linalg.cho_solve(cH, g)
        if g @ step < 1e-14 * max(1.0, abs(f0)) or not np.all(np.isfinite(step)):
            return theta, f0, H, steps
        t = 1.0
        moved = False
        while t >= 1.0 / 64:
            cand = theta - t * step
            fc = crit.f(cand)
            if np.isfinite(fc) and fc <= f0 + 1e-12 * abs(f0):
                theta, f0, moved = cand, fc, True
                break
            t /= 2.0
        if not moved:
            return theta, f0, H, steps
        steps += 1
    H = crit.hessian(theta)
    return theta, f0, H, steps


def _check(crit: _Criterion, theta: np.ndarray, H: np.ndarray | None) -> list[str]:
    """Reasons the optimum at theta is not acceptable (empty when it is)."""
    problems = []
    S, _ = crit.st.sigma_theta(theta)
    b = _boundary_problem(S, crit.st)
    if b:
        problems.append(b)
    g = crit.g(theta)
    if H is None or not np.all(np.isfinite(H)):
        problems.append("the Hessian of the deviance could not be computed")
        return problems
    try:
        cH = linalg.cho_factor(H)
    except linalg.LinAlgError:
        ev = np.linalg.eigvalsh(H)
        problems.append(f"the Hessian of the deviance is not positive definite (smallest "
                        f"eigenvalue {ev[0]:.3g}): not a proper minimum")
        return problems
    dec = float(g @ linalg.cho_solve(cH, g))
    if not dec < 1e-6:
        problems.append(f"the gradient is not zero at the optimum (Newton decrement "
                        f"{dec:.2g} in deviance units)")
    return problems


def _run_optimizer(name, crit, theta0, max_iter):
    if name == "L-BFGS-B":
        res = optimize.minimize(
            crit.fg, theta0, jac=True, method="L-BFGS-B",
            options={"maxiter": max_iter, "maxfun": 4 * max_iter, "ftol": 1e-14,
                     "gtol": 1e-8, "maxcor": 20},
        )
    elif name == "BFGS":
        res = optimize.minimize(crit.fg, theta0, jac=True, method="BFGS",
                                options={"maxiter": max_iter, "gtol": 1e-7})
    else:
        k = len(theta0)
        res = optimize.minimize(
            crit.f, theta0, method="Nelder-Mead",
            options={"maxiter": max(1000, 200 * k), "maxfev": max(2000, 200 * k),
                     "xatol": 1e-8, "fatol": 1e-10, "adaptive": k > 5},
        )
    return res


def fit_mmrm(y: np.ndarray, X: np.ndarray, groups: np.ndarray, visits: np.ndarray, *,
             structure: str = "unstructured", reml: bool = True,
             x_names: list[str] | None = None, n_visits: int | None = None,
             start: np.ndarray | None = None, max_iter: int = 500,
             coordinates: np.ndarray | None = None, cov_groups: np.ndarray | None = None,
             cov_group_names: list[str] | None = None,
             check_rank: bool = True) -> EngineFit:
    """Fit an MMRM: fixed effects with a structured covariance over visits, by REML or ML.

    Parameters
    ----------
    y : ndarray, shape (n,)
        Outcome, one entry per patient and attended visit (no missing values: a missed
        visit is simply absent).
    X : ndarray, shape (n, p)
        Fixed-effects design matrix, full column rank.
    groups : ndarray of int, shape (n,)
        Patient codes.
    visits : ndarray of int, shape (n,)
        Visit index 0..T-1 of each row; at most one row per patient and visit.
    structure : str
        Covariance of the outcome over visits, one of :data:`STRUCTURES`:
        ``"unstructured"``, ``"cs"``, ``"ar1"``, ``"cs_hetero"``, ``"ar1_hetero"``,
        ``"toeplitz"``, ``"toeplitz_hetero"``, ``"ante1_hetero"``, ``"ante1"``,
        ``"spatial_exp"`` (see the module docstring).
    reml : bool
        REML (default, as nlme, SAS and the ``mmrm`` package) or ML.
    x_names : list of str, optional
        Names of the columns of ``X`` (used in messages and kept in ``extra``).
    n_visits : int, optional
        Number of scheduled visits T (default: ``visits.max() + 1``).
    start : ndarray, optional
        Starting values: a previous fit's ``varpar`` (same structure) or a T x T
        covariance matrix. Default: the covariance of OLS residuals.
    max_iter : int
        Iteration limit of each optimiser.
    coordinates : ndarray, shape (n,) or (n, d), optional
        Each row's own coordinate (e.g. days since baseline), required by
        ``"spatial_exp"`` (SAS ``TYPE=SP(EXP)(c)``: distances are Euclidean between the
        rows of one patient, so patients seen on different days get different
        correlations); refused by the other structures.
    cov_groups : ndarray, shape (n,), optional
        A separate covariance, with its own parameters, per group (SAS ``REPEATED /
        GROUP=``, R mmrm ``us(visit | group / patient)``); constant within patient.
        ``varpar_names`` are then prefixed ``"<group>: "`` and ``extra["Sigma"]`` is the
        block-diagonal matrix over (group, visit) slots (``extra["Sigma_by_group"]``
        holds each group's matrix).
    cov_group_names : list of str, optional
        Names of the groups, in the order of their sorted codes.
    check_rank : bool
        Check that ``X`` has full column rank (a pivoted QR over all rows; an
        :class:`AnalysisError` names the aliased columns). ``False`` only for a caller
        that has just checked the same ``X`` (:func:`.aliasing.find_aliased`).

    Returns
    -------
    EngineFit
        ``beta``, ``vcov = (X' W X)^-1``, ``loglik`` as ``logLik(nlme::gls)`` reports it,
        ``varpar`` (natural covariance parameters, see the module docstring),
        ``cov_varpar`` (twice the inverse observed Hessian of the deviance) and
        ``jac_vcov`` for Satterthwaite df, ``converged``, ``messages``, ``attempts``, and
        ``extra`` with ``Sigma`` (T x T over visits; over slots for spatial or grouped
        fits, see :mod:`.covariance_layout`), ``Sigma_by_group``, ``correlation``,
        ``structure``, ``layout`` (the :class:`~.covariance_layout.Layout`), ``x_names``.

    Raises
    ------
    AnalysisError
        If ``X`` is rank deficient, a patient has two rows for one visit, or the inputs are
        malformed.

    Notes
    -----
    The optimisers are tried in a fixed order -- L-BFGS-B with the analytic gradient,
    BFGS, Nelder-Mead -- each from the same start and each followed by Newton steps with a
    numerical Hessian of the analytic gradient; the first whose optimum passes the checks
    (gradient zero, Hessian positive definite, covariance matrix not singular) is kept.
    Each try is recorded in ``attempts``. If none passes, the best is returned with
    ``converged=False`` and the reasons in ``messages``.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(1)
    >>> n_pat, n_vis = 60, 4
    >>> groups = np.repeat(np.arange(n_pat), n_vis)
    >>> visits = np.tile(np.arange(n_vis), n_pat)
    >>> X = np.column_stack([np.ones(n_pat * n_vis), visits])
    >>> Sigma = 4.0 * 0.6 ** np.abs(np.subtract.outer(np.arange(4), np.arange(4)))
    >>> e = rng.multivariate_normal(np.zeros(n_vis), Sigma, size=n_pat).ravel()
    >>> y = 10.0 - 1.5 * visits + e
    >>> fit = fit_mmrm(y, X, groups, visits, structure="ar1", x_names=["(Intercept)", "visit"])
    >>> fit.converged, fit.varpar_names
    (True, ['sigma2', 'rho'])
    >>> bool(abs(fit.beta[1] + 1.5) < 0.3)
    True
    """
    if structure not in STRUCTURES:
        raise AnalysisError(
            f"unknown covariance structure {structure!r}; choose one of {', '.join(STRUCTURES)}"
        )
    layout = make_layout(structure, as_codes(visits, "visits", len(np.ravel(y))),
                         groups=groups, n_visits=n_visits,
                         coordinates=coordinates, cov_groups=cov_groups,
                         cov_group_names=cov_group_names)
    data = prepare(y, X, groups, layout.slots, layout.n_slots, x_names,
                   check_rank=check_rank)
    st = layout.structure
    crit = _Criterion(data, st, reml)
    s2 = data.scale**2
    theta0 = _start_values(data, st, start)

    attempts: list[dict] = []
    messages: list[str] = []
    best = None
    accepted = None
    for name in ("L-BFGS-B", "BFGS", "Nelder-Mead"):
        n0 = crit.n_eval
        try:
            res = _run_optimizer(name, crit, theta0.copy(), max_iter)
            theta, fval = np.asarray(res.x, float), float(res.fun)
            if not np.isfinite(fval):
                raise FloatingPointError("the deviance is not finite at the optimum")
            theta, fval, H, nsteps = _polish(crit, theta, fval)
            problems = _check(crit, theta, H)
            rec = {
                "name": name, "success": bool(res.success),
                "deviance": float(fval + crit.offset()), "n_iter": int(getattr(res, "nit", 0)),
                "n_eval": crit.n_eval - n0, "newton_steps": nsteps,
                "message": str(res.message), "accepted": not problems,
                "problems": problems,
            }
        except (np.linalg.LinAlgError, ValueError, FloatingPointError, OverflowError) as exc:
            attempts.append({"name": name, "success": False, "deviance": np.inf,
                             "n_iter": 0, "n_eval": crit.n_eval - n0, "newton_steps": 0,
                             "message": f"failed: {exc}", "accepted": False,
                             "problems": [str(exc)]})
            continue
        attempts.append(rec)
        if best is None or fval < best[1]:
            best = (theta, fval, H, name, problems)
        if not problems:
            accepted = (theta, fval, H, name, problems)
            break
    if best is None:
        raise AnalysisError(
            f"the {structure} MMRM could not be fitted: every optimiser failed "
            f"({'; '.join(a['message'] for a in attempts)})"
        )
    converged = accepted is not None
    theta, fval, H, used, problems = accepted if converged else best
    if converged and len(attempts) > 1:
        a = attempts[-1]
        messages.append(
            f"{used} was needed to fit the {structure} covariance ({a['n_iter']} iterations); "
            "earlier optimiser(s) failed: "
            + "; ".join(f"{r['name']}: {', '.join(r['problems']) or r['message']}"
                        for r in attempts[:-1])
        )
    elif not converged:
        hint = ("; try structure='cs' or 'ar1' for a cohort this small" if st.k > 2 else "")
        messages.append(f"the {structure} covariance did not converge: "
                        f"{'; '.join(problems)}{hint}")
        messages.append(
            "optimisers tried: "
            + "; ".join(f"{r['name']} ({r['message']})" for r in attempts)
        )

    # results in the data's units
    S_scaled, _ = st.sigma_theta(theta)
    dev, _, beta_s, A_s = crit.core(S_scaled, grad=False)
    Sigma = s2 * S_scaled
    Sigma = 0.5 * (Sigma + Sigma.T)
    beta = beta_s * data.scale
    vcov = A_s * s2
    vcov = 0.5 * (vcov + vcov.T)
    loglik = -0.5 * (dev + crit.offset())
    phi = st.phi_from_sigma(Sigma)
    _, dS_phi = st.sigma_phi(phi)
    _, P = _xwx_derivs(data, Sigma, dS_phi)
    jac_vcov = -np.einsum("ij,kjl,lm->kim", vcov, P, vcov)

    cov_varpar = np.full((st.k, st.k), np.nan)
    if H is not None and np.all(np.isfinite(H)) \
            and np.all(np.linalg.eigvalsh(0.5 * (H + H.T)) > 0):
        try:
            with warnings.catch_warnings():
                # an ill-conditioned Hessian has no usable inverse: treated as singular
                # (cov_varpar stays missing and the fit says so below)
                warnings.simplefilter("error", linalg.LinAlgWarning)
                cov_theta = 2.0 * linalg.inv(H)
            J = numerical_jacobian(
                lambda t: st.phi_from_sigma(s2 * st.sigma_theta(t)[0]), theta, step=1e-4)
            cov_varpar = J.T @ cov_theta @ J
            cov_varpar = 0.5 * (cov_varpar + cov_varpar.T)
        except (linalg.LinAlgError, linalg.LinAlgWarning, ValueError):
            cov_varpar = np.full((st.k, st.k), np.nan)
    if not np.all(np.isfinite(cov_varpar)):
        messages.append("the covariance of the variance parameters is unavailable (Hessian "
                        "not positive definite): Satterthwaite df cannot be computed")

    sd = np.sqrt(np.diag(Sigma))
    extra = {
        "Sigma": Sigma,
        "correlation": Sigma / np.outer(sd, sd),
        "structure": structure,
        "layout": layout,
        "Sigma_by_group": layout.group_blocks(Sigma),
        "x_names": data.x_names,
        "n_visits": data.T,
        "n_patterns": len(data.patterns),
        "optimizer": used,
        "n_evaluations": crit.n_eval,
    }
    return EngineFit(
        beta=beta, vcov=vcov, varpar=phi, varpar_names=list(st.phi_names),
        cov_varpar=cov_varpar, jac_vcov=jac_vcov, loglik=float(loglik), n_obs=data.n,
        n_groups=data.G, n_cov_params=st.n_cov_params, reml=reml, converged=converged,
        messages=messages, attempts=attempts, extra=extra,
    )


def _start_values(data: MMRMData, st: Structure, start) -> np.ndarray:
    """Starting theta (scaled units): from ``start`` or the covariance of OLS residuals."""
    s2 = data.scale**2
    T = data.T
    if start is not None:
        start = np.asarray(start, dtype=float)
        if start.shape == (T, T):
            S0 = start
        elif start.shape == (st.k,):
            S0 = st.sigma_phi(start)[0]
        else:
            raise AnalysisError(
                f"start must be a varpar vector of length {st.k} or a {T} x {T} covariance "
                f"matrix; got shape {start.shape}"
            )
        if np.all(np.isfinite(S0)):
            try:
                np.linalg.cholesky(S0)
                return st.theta_from_sigma(S0 / s2)
            except np.linalg.LinAlgError:
                pass
    S0 = data.resid_cov
    if not getattr(st, "pd_start", True):  # spatial: fitted from pairs, no PD matrix needed
        return st.theta_from_sigma(S0)
    return st.theta_from_sigma(nearest_pd(S0, floor=1e-2))


#: The REML/ML criterion of a prepared :class:`~.mmrm_data.MMRMData` (deviance, analytic
#: gradient, GLS beta), for engines that refit many reweighted copies of one data set
#: (:mod:`.mmrm_refit`).
MMRMCriterion = _Criterion

__all__ = ["fit_mmrm", "STRUCTURES", "MMRMCriterion"]
