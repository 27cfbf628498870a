"""Linear mixed models with per-patient random effects, fitted the way lme4 fits them.

The model is ``y_i = X_i beta + Z_i u_i + e_i`` for each patient ``i``, with
``u_i ~ N(0, G)`` (``G`` unstructured, ``q x q``) and ``e_i ~ N(0, sigma^2 I)``.
As in lme4 (Bates, Maechler, Bolker & Walker 2015, J Stat Softw 67(1)), ``G`` is
written ``sigma^2 Lambda Lambda'`` with ``Lambda`` lower triangular; its lower-triangle
elements ``theta`` (column-major, lme4's order) are the only parameters the optimiser
sees: ``beta`` and ``sigma^2`` are profiled out, and the criterion is lme4's profiled
(REML) deviance.

The deviance, its analytic gradient and the per-patient sufficient statistics behind
them are in :mod:`.lmm_criterion`; this module optimises it, checks the answer as lme4
does and assembles the fit.

Inference follows lme4 and lmerTest: ``vcov = sigma^2 (X'V^-1X)^-1`` at the estimates;
Satterthwaite degrees of freedom from the Hessian of the deviance as a function of
``(theta, sigma)`` (lmerTest's parametrisation) and the derivative of ``vcov`` with
respect to those parameters (see :class:`.engine.EngineFit`).

Matches R's ``lme4::lmer`` and ``lmerTest``. Golden values:
``tests/reference/lmm_engine/`` (``reference.json``, made by the ``make_reference.R``
there from the data beside it); checked in ``tests/test_lmm_engine.py``.

References
----------
- Bates D, Maechler M, Bolker B, Walker S (2015). Fitting linear mixed-effects models
  using lme4. J Stat Softw 67(1):1-48.
- Kuznetsova A, Brockhoff PB, Christensen RHB (2017). lmerTest package: tests in linear
  mixed effects models. J Stat Softw 82(13):1-26 (Satterthwaite degrees of freedom).
"""

from __future__ import annotations

import numpy as np
from scipy import linalg, optimize

from ...errors import AnalysisError
from .engine import EngineFit, numerical_jacobian
from .lmm_criterion import Profile, lambda_from_theta, theta_index

#: lme4's ``isSingular`` tolerance on the diagonal of ``Lambda``.
SINGULAR_TOL = 1e-4
#: lme4's ``check.conv.grad`` tolerance on the scaled gradient.
GRADIENT_TOL = 2e-3
#: lme4's ``check.conv.hess`` tolerance on the smallest Hessian eigenvalue.
HESSIAN_TOL = 1e-6
#: Tolerance of lme4's rank check of the fixed-effects design (``qr(X)$rank``).
RANK_TOL = 1e-7

_OPTIMIZERS = ("L-BFGS-B", "L-BFGS-B (bounded)", "Nelder-Mead", "Powell")


# --------------------------------------------------------------------------- input checks
def _as_float_array(a, name: str, ndim: int) -> np.ndarray:
    try:
        arr = np.asarray(a, dtype=float)
    except (TypeError, ValueError) as exc:
        raise AnalysisError(f"{name} must be numeric: {exc}") from None
    if ndim == 2 and arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != ndim:
        raise AnalysisError(f"{name} must be {ndim}-dimensional, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        bad = np.argwhere(~np.isfinite(arr))[0]
        raise AnalysisError(
            f"{name} has missing or non-finite values (first at index {tuple(bad.tolist())}); "
            "drop or impute those rows before fitting"
        )
    return arr


def _rank_problem(A: np.ndarray, names: list[str]) -> str | None:
    """Describe the columns of ``A`` that are linear combinations of the others, if any."""
    if A.shape[1] == 0:
        return None
    scale = np.sqrt(np.einsum("ij,ij->j", A, A))
    zero = scale == 0
    if zero.any():
        cols = [names[j] for j in np.flatnonzero(zero)]
        return f"column(s) {cols} are identically zero"
    # an unpivoted QR of the tall matrix, then a pivoted (rank-revealing) QR of its p x p
    # factor: the same pivots and diagonal as a pivoted QR of A itself, at less cost
    r0 = np.linalg.qr(A / scale, mode="r")
    r, piv = linalg.qr(r0, mode="r", pivoting=True)
    d = np.abs(np.diag(r))
    rank = int(np.sum(d > RANK_TOL * d[0]))
    if rank < A.shape[1]:
        cols = [names[j] for j in sorted(piv[rank:])]
        return (f"rank {rank} < {A.shape[1]} columns; column(s) {cols} are linear "
                "combinations of the others")
    return None


# --------------------------------------------------------------------------- optimisation
def _canonical(theta: np.ndarray, q: int) -> np.ndarray:
    """Flip columns of Lambda so its diagonal is >= 0 (the deviance depends on LL' only)."""
    lam = lambda_from_theta(theta, q)
    sign = np.where(np.diag(lam) < 0, -1.0, 1.0)
    lam = lam * sign[None, :]
    return np.array([lam[i, j] for i, j in theta_index(q)])


def _assess(prof: Profile, theta: np.ndarray, previous: dict | None = None) -> dict:
    """lme4's first- and second-order checks at ``theta``, and a check of boundary fits.

    A diagonal element of Lambda at its bound 0 is *held* when the gradient pushes it
    down and is then left out of the gradient check, as a bound-constrained optimum.
    Any fit with a (near-)zero diagonal is also checked in terms of ``Psi = Lambda
    Lambda'`` (see :meth:`Profile.psi_gradient_from`): the Cholesky parametrisation
    has spurious stationary points and local minima at singular ``Psi`` (e.g. a zero
    intercept variance with the slope variance carried by the off-diagonal element),
    which lme4's derivative-free optimiser usually steps over but a gradient method
    can stop at. If ``Psi`` can be improved, ``saddle`` is True, ``restart`` holds a
    better starting theta and the fit is not converged.

    The Hessians are recomputed unless ``previous`` holds them for a point within a
    tiny Newton step of ``theta`` (then only the gradient is recomputed).
    """
    pt = prof.parts(theta)
    grad = prof.gradient_from(pt)
    dev = prof.deviance_from(pt)
    if previous is None:
        h_vp, hess = prof.hessian_vp(theta)
    else:
        h_vp, hess = previous["hessian_vp"], previous["hessian"]
    at_bound = np.isfinite(prof.lower) & (theta <= prof.lower + 1e-12)
    held = at_bound & (grad > 1e-7 * (1.0 + abs(dev)))
    free = ~held
    g, H = grad[free], hess[np.ix_(free, free)]
    out = {"theta": theta, "deviance": dev, "gradient": grad, "hessian": hess,
           "hessian_vp": h_vp, "free": free, "at_bound": at_bound, "scaled_gradient": 0.0,
           "min_eigenvalue": np.nan, "grad_ok": True, "hess_ok": True, "saddle": False,
           "newton": None, "restart": None}
    diag = np.array([theta[k] for k, (i, j) in enumerate(prof.index) if i == j])
    if np.any(diag < SINGULAR_TOL):
        restart = _boundary_descent(prof, pt, dev)
        if restart is not None:
            out["saddle"] = True
            out["restart"] = restart
            out["grad_ok"] = False
    if g.size == 0:
        return out
    eig = np.linalg.eigvalsh(H)
    # second-order check (lme4's check.conv.hess) on the parameters inside the bounds
    interior = free & ~at_bound
    if np.any(interior):
        e_int = np.linalg.eigvalsh(hess[np.ix_(interior, interior)])
        out["min_eigenvalue"] = float(e_int[0])
        out["hess_ok"] = bool(e_int[0] > HESSIAN_TOL)
    if eig[0] > HESSIAN_TOL:
        newton = np.linalg.solve(H, g)
        out["newton"] = newton
    else:
        newton = g
    # lme4: max(pmin(abs(scaled gradient), abs(gradient))) < tol
    crit = float(np.max(np.minimum(np.abs(newton), np.abs(g))))
    out["scaled_gradient"] = crit
    out["grad_ok"] = bool(np.isfinite(crit) and crit < GRADIENT_TOL and not out["saddle"])
    return out


def _boundary_descent(prof: Profile, pt: dict, dev: float) -> np.ndarray | None:
    """A theta with a lower deviance than a singular fit, or None if it is a minimum.

    Moves ``Psi`` along ``v v'``, ``v`` the eigenvector of the most negative eigenvalue
    of ``d dev / d Psi``, and returns the best of a few step lengths (as the Cholesky
    factor's lower triangle, lme4's theta).
    """
    F = prof.psi_gradient_from(pt)
    w, V = np.linalg.eigh(F)
    if w[0] >= -1e-8 * (1.0 + abs(dev)):
        return None
    v = V[:, 0]
    lam = pt["lam"]
    psi = lam @ lam.T
    scale = max(1.0, float(np.trace(psi)))
    best, best_dev = None, dev - 1e-10 * (1.0 + abs(dev))
    for t in 10.0 ** -np.arange(0.0, 9.5, 0.5):  # v v' may matter on any scale
        new = psi + t * scale * np.outer(v, v) + 1e-12 * scale * np.eye(prof.q)
        try:
            chol = np.linalg.cholesky(new)
        except np.linalg.LinAlgError:
            continue
        theta = np.array([chol[i, j] for i, j in prof.index])
        d = prof.deviance(theta)
        if d < best_dev:
            best, best_dev = theta, d
    return best


def _polish(prof: Profile, check: dict) -> dict:
    """Newton steps (bounded) from an optimiser's answer, kept while they improve it.

    The optimisers stop at a relative reduction of ~1e-12 in the deviance; Newton steps
    with the analytic gradient and the Hessian that the convergence check needs anyway
    take theta to near machine precision, so the log-likelihood is exact to far better
    than 1e-6 and the estimates do not depend on the order of the rows. A step is kept
    when the deviance drops, or stays within rounding noise while the gradient shrinks.
    """
    for _ in range(4):
        if check["newton"] is None:
            return check
        theta = check["theta"]
        new = theta.copy()
        new[check["free"]] -= check["newton"]
        new = np.maximum(new, prof.lower)
        rel_step = np.max(np.abs(new - theta) / np.maximum(np.abs(theta), 1.0))
        if rel_step == 0.0:
            return check
        new_check = _assess(prof, new, None if rel_step > 1e-5 else check)
        noise = 1e-12 * (1.0 + abs(check["deviance"]))
        old_g = np.linalg.norm(check["gradient"][check["free"]])
        new_g = np.linalg.norm(new_check["gradient"][new_check["free"]])
        better = new_check["deviance"] < check["deviance"] - noise or (
            new_check["deviance"] <= check["deviance"] + noise and new_g < old_g)
        if not better:
            return check
        check = new_check
        if rel_step < 1e-10:
            return check
    return check


def _minimize(prof: Profile, name: str, x0: np.ndarray):
    q = prof.q
    if name.startswith("L-BFGS-B"):
        # L-BFGS-B's first step has length 1 along the gradient; from lme4's start
        # (diag 1) that lands exactly on a zero variance in the one-parameter model, where
        # the gradient vanishes. Working in units of 0.5 makes that step 0.5.
        unit = 0.5
        if name == "L-BFGS-B (bounded)":
            bounds = [(lo / unit if np.isfinite(lo) else None, None) for lo in prof.lower]
            x0 = np.maximum(x0, prof.lower)
        else:
            # the deviance depends on Lambda Lambda' only, so the sign of the diagonal is
            # free: no bounds, hence no projected steps onto diag = 0, where the gradient
            # in that element vanishes and a bounded search can stall on a saddle
            bounds = None

        def fun(z):
            dev, grad = prof.deviance_and_gradient(unit * z)
            return dev, unit * grad

        res = optimize.minimize(
            fun, x0 / unit, jac=True, method="L-BFGS-B", bounds=bounds,
            options={"ftol": 1e-12, "gtol": 1e-10 * (1.0 + abs(prof.deviance(x0))),
                     "maxiter": 2000, "maxls": 50},
        )
        res.x = unit * res.x
    elif name == "Nelder-Mead":
        # the deviance depends on Lambda Lambda' only, so theta is unconstrained here
        res = optimize.minimize(
            prof.deviance, x0, method="Nelder-Mead",
            options={"xatol": 1e-8, "fatol": 1e-10, "maxiter": 20000, "maxfev": 20000,
                     "adaptive": len(x0) > 3},
        )
    else:
        res = optimize.minimize(prof.deviance, x0, method="Powell",
                                options={"xtol": 1e-8, "ftol": 1e-13, "maxiter": 20000})
    theta = _canonical(np.asarray(res.x, dtype=float), q)
    # the derivative-free optimisers approach a zero variance without reaching it: put a
    # diagonal element that is ~0 on the bound when that does not raise the deviance
    dev = prof.deviance(theta)
    for j in np.flatnonzero(np.isfinite(prof.lower) & (theta > 0) & (theta < 1e-6)):
        snapped = theta.copy()
        snapped[j] = 0.0
        dev_s = prof.deviance(snapped)
        if dev_s <= dev + 1e-10 * (1.0 + abs(dev)):
            theta, dev = snapped, dev_s
    return res, theta


def _attempt_outcome(attempt: dict) -> str:
    if attempt.get("gradient_ok"):
        return "converged"
    if attempt.get("saddle"):
        return ("stopped on the boundary at a point that is not a minimum (a zero variance or "
            "perfect correlation that a nearby covariance matrix improves on)")
    return f"did not converge ({attempt['message']})"


def _start_theta(start, n_theta: int, q: int) -> np.ndarray:
    if start is None:
        return np.array([1.0 if i == j else 0.0 for i, j in theta_index(q)])
    if isinstance(start, EngineFit):
        start = start.extra.get("theta", start.varpar[:-1])
    s = np.asarray(start, dtype=float).ravel()
    if s.size == n_theta + 1:  # a varpar vector (theta..., sigma)
        s = s[:-1]
    if s.size != n_theta or not np.all(np.isfinite(s)):
        raise AnalysisError(
            f"start must hold {n_theta} finite theta values (or {n_theta + 1} with sigma "
            f"last), got {np.asarray(start).ravel().tolist()}"
        )
    return _canonical(s, q)


def _boundary_messages(theta, G, z_names, constant) -> list[str]:
    """Plain-words account of a singular fit (lme4's ``isSingular``: a diagonal element of
    Lambda below 1e-4), and what to try."""
    q = G.shape[0]
    lam = lambda_from_theta(theta, q)
    if not np.any(np.diag(lam) < SINGULAR_TOL):
        return []

    def label(j: int) -> str:
        return "random intercept" if constant[j] else f"random slope ({z_names[j]})"

    msgs = []
    # standard deviation of each random effect relative to the residual one
    zero = np.linalg.norm(lam, axis=1) < SINGULAR_TOL
    for j in np.flatnonzero(zero):
        if q == 1:
            advice = ("the patients' outcomes are no more alike than observations of different "
                      "patients, so the fixed effects are those of ordinary least squares")
        elif not constant[j]:
            advice = "consider model='random_intercept'"
        else:
            advice = "consider a simpler random-effects structure"
        msgs.append(f"Boundary (singular) fit: the {label(j)} variance is estimated at zero; "
                    f"{advice}.")
    rest = np.flatnonzero(~zero)
    sub = lam[rest]
    if len(rest) >= 2 and np.linalg.svd(sub, compute_uv=False)[-1] < SINGULAR_TOL:
        sd = np.sqrt(np.diag(G)[rest])
        corr = G[np.ix_(rest, rest)] / np.outer(sd, sd)
        if len(rest) == 2:
            what = (f"the {label(rest[0])} and the {label(rest[1])} are estimated as perfectly "
                    f"correlated (correlation {corr[0, 1]:+.3f})")
        else:
            what = ("the random effects " + ", ".join(z_names[j] for j in rest)
                    + " are estimated as perfectly correlated (a combination of them has zero "
                    "variance)")
        msgs.append(f"Boundary (singular) fit: {what}, so their covariance matrix is singular; "
                    "consider model='random_intercept'.")
    if not msgs:
        msgs.append("Boundary (singular) fit: the random-effects covariance matrix is "
                    "(nearly) singular; consider a simpler random-effects structure.")
    return msgs


# --------------------------------------------------------------------------- public API
def fit_lmm(y: np.ndarray, X: np.ndarray, Z: np.ndarray, groups: np.ndarray, *,
            reml: bool = True, x_names: list[str] | None = None,
            z_names: list[str] | None = None, start=None,
            satterthwaite: bool = True) -> EngineFit:
    """Fit a linear mixed model with independent per-group random effects, as lme4 does.

    Model: ``y_i = X_i beta + Z_i u_i + e_i`` per group ``i``, ``u_i ~ N(0, G)`` with
    ``G`` unstructured ``q x q``, ``e_i ~ N(0, sigma^2 I)``; equivalent to
    ``lmer(y ~ X - 1 + (Z - 1 | group))``. The criterion is lme4's profiled (REML)
    deviance in ``theta``, the lower triangle (column-major) of the relative covariance
    factor ``Lambda`` (``G = sigma^2 Lambda Lambda'``).

    Optimisers are tried in a fixed order until one passes the checks: L-BFGS-B with
    the analytic gradient on ``theta`` free in sign (the deviance depends on
    ``Lambda Lambda'`` only; the answer is reported with lme4's non-negative diagonal),
    L-BFGS-B with lme4's bounds ``diag(Lambda) >= 0``, Nelder-Mead, then Powell. Every
    answer is finished with Newton steps and checked as lme4 checks it (scaled
    gradient < 0.002 on the parameters not held at a bound, Hessian positive
    definite); a singular answer is also checked for a nearby covariance matrix with a
    lower deviance (a saddle of the Cholesky parametrisation), and the optimiser is
    then restarted from there. Each attempt is recorded in ``attempts``; the best
    answer is kept and ``converged`` says whether it passed.

    Parameters
    ----------
    y : ndarray, shape (n,)
        Outcome.
    X : ndarray, shape (n, p)
        Fixed-effects design; must have full column rank.
    Z : ndarray, shape (n, q)
        Random-effects design of each observation (``q = 1``: random intercept,
        ``q = 2``: intercept and slope; any small ``q``).
    groups : ndarray of int, shape (n,)
        Group (patient) codes ``0 .. G-1``; rows need not be sorted.
    reml : bool, default True
        REML (default, as lme4) or maximum likelihood.
    x_names, z_names : list of str, optional
        Column names, used in messages and in ``extra``.
    start : ndarray or EngineFit, optional
        Starting ``theta`` (or a ``varpar`` vector ``(theta..., sigma)``, or a previous
        fit) for fast refits; default lme4's ``diag(Lambda) = 1``, off-diagonals 0.
    satterthwaite : bool, default True
        Compute ``cov_varpar`` and ``jac_vcov`` for Satterthwaite df. With False (for
        bootstrap refits) they are left empty and the df of contrasts are infinite; the
        fit itself and its convergence checks are unchanged.

    Returns
    -------
    EngineFit
        ``beta``, ``vcov`` (lme4's ``vcov``), ``loglik`` (R's ``logLik``), ``varpar`` =
        ``(theta..., sigma)`` with ``cov_varpar`` and ``jac_vcov`` as lmerTest computes
        them, ``messages``, ``attempts`` and ``extra`` with ``G``, ``sigma2``,
        ``theta``, ``blups`` (lme4's ``ranef``, one row per group code; zeros for codes
        without rows), ``x_names``, ``z_names``, ``singular`` (lme4's ``isSingular``),
        ``deviance`` (``REMLcrit`` / ``deviance``), ``gradient`` and ``hessian_theta``
        (of the profiled deviance in theta) and ``hessian_varpar`` (of the deviance in
        ``(theta, sigma)``).

    Raises
    ------
    AnalysisError
        Inputs of the wrong shape, non-finite values, a rank-deficient ``X`` or ``Z``,
        or too few observations for the random effects.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(1)
    >>> g = np.repeat(np.arange(40), 5)
    >>> t = np.tile(np.arange(5.0), 40)
    >>> u = rng.normal(0, [8.0, 1.5], size=(40, 2))
    >>> y = 60 - 4 * t + u[g, 0] + u[g, 1] * t + rng.normal(0, 3, g.size)
    >>> X = np.column_stack([np.ones_like(t), t])
    >>> fit = fit_lmm(y, X, X, g, x_names=["(Intercept)", "time"],
    ...               z_names=["(Intercept)", "time"])
    >>> fit.converged, fit.extra["singular"]
    (True, False)
    >>> np.round(fit.beta, 2)
    array([59.28, -4.11])
    >>> res = fit.contrast([0, 1])  # slope: t test with Satterthwaite df
    >>> round(float(res["df"][0]), 1)
    39.0
    """
    y = _as_float_array(y, "y", 1)
    X = _as_float_array(X, "X", 2)
    Z = _as_float_array(Z, "Z", 2)
    n, p = X.shape
    q = Z.shape[1]
    if len(y) != n or len(Z) != n:
        raise AnalysisError(f"y, X and Z must have the same number of rows; got {len(y)}, "
                            f"{n} and {len(Z)}")
    groups = np.asarray(groups)
    if groups.shape != (n,):
        raise AnalysisError(f"groups must have shape ({n},), got {groups.shape}")
    if not np.issubdtype(groups.dtype, np.integer):
        if groups.dtype.kind == "f" and np.all(np.isfinite(groups)) and np.all(
                groups == np.round(groups)):
            groups = groups.astype(np.int64)
        else:
            raise AnalysisError("groups must be integer codes 0..G-1 (use pandas.factorize)")
    if n == 0:
        raise AnalysisError("no observations to fit")
    if groups.min() < 0:
        raise AnalysisError("groups must be integer codes 0..G-1; found negative codes")
    groups = groups.astype(np.intp, copy=False)
    x_names = list(x_names) if x_names is not None else [f"x{j}" for j in range(p)]
    constant = [bool(np.all(Z[:, j] == Z[0, j])) for j in range(q)]
    if z_names is None:
        z_names = ["(Intercept)" if constant[j] else f"z{j}" for j in range(q)]
    z_names = list(z_names)
    if len(x_names) != p or len(z_names) != q:
        raise AnalysisError(f"x_names/z_names must have {p} and {q} names")
    if q == 0:
        raise AnalysisError("Z has no columns: a mixed model needs at least one random effect")
    problem = _rank_problem(X, x_names)
    if problem:
        raise AnalysisError(f"the fixed-effects design X is rank deficient: {problem}; drop or "
                            "recode those terms")
    problem = _rank_problem(Z, z_names)
    if problem:
        raise AnalysisError(f"the random-effects design Z is rank deficient: {problem}")
    n_codes = int(groups.max()) + 1
    counts = np.bincount(groups, minlength=n_codes)
    n_groups = int(np.count_nonzero(counts))
    if n <= p:
        raise AnalysisError(f"{n} observations cannot estimate {p} fixed effects and a "
                            "residual variance")
    if n_groups >= n:
        raise AnalysisError(
            f"number of groups ({n_groups}) must be < number of observations ({n}): with one "
            "observation per patient the random effects cannot be told apart from the "
            "residual (lme4 stops here too)")
    if q * n_groups >= n:
        raise AnalysisError(
            f"number of observations ({n}) <= number of random effects ({q} x {n_groups} "
            f"groups = {q * n_groups}); the random-effects parameters and the residual "
            "variance are unidentifiable; use fewer random effects (e.g. a random intercept)")

    resid = y - X @ np.linalg.lstsq(X, y, rcond=None)[0]
    if np.sqrt(resid @ resid / n) <= 1e-10 * max(float(np.abs(y).max()), 1.0):
        raise AnalysisError("the fixed effects fit y exactly (zero residual variance, e.g. every "
                            "patient has the same value at every modelled visit); there is no "
                            "variance to estimate and no model to fit")
    prof = Profile(y, X, Z, groups, n_codes, reml)
    n_theta = q * (q + 1) // 2
    x0 = _start_theta(start, n_theta, q)

    attempts: list[dict] = []
    results: list[tuple[float, np.ndarray, dict]] = []
    queue = [(name, name, x0) for name in _OPTIMIZERS]
    n_restarts = 0
    while queue:
        label, name, x_start = queue.pop(0)
        before = prof.n_eval
        try:
            res, theta = _minimize(prof, name, x_start)
        except (ValueError, FloatingPointError, np.linalg.LinAlgError) as exc:
            attempts.append({"name": label, "success": False, "deviance": np.nan,
                             "n_iter": 0, "n_eval": prof.n_eval - before,
                             "message": f"failed: {exc}", "gradient_ok": False})
            continue
        check = _assess(prof, theta)
        if np.isfinite(check["deviance"]):
            check = _polish(prof, check)
        theta, dev = check["theta"], check["deviance"]
        attempts.append({
            "name": label, "success": bool(res.success), "deviance": dev,
            "n_iter": int(getattr(res, "nit", 0) or 0), "n_eval": prof.n_eval - before,
            "message": str(res.message), "gradient_ok": check["grad_ok"],
            "scaled_gradient": check["scaled_gradient"], "saddle": check["saddle"],
        })
        if np.isfinite(dev):
            results.append((dev, theta, check))
        if np.isfinite(dev) and check["grad_ok"]:
            break
        if check["saddle"] and n_restarts < 3:
            n_restarts += 1
            queue.insert(0, (f"{name} (restarted off the boundary)", name, check["restart"]))

    if not results:
        raise AnalysisError(
            "the mixed model could not be fitted: the deviance is not finite at any point the "
            "optimisers tried (" + "; ".join(f"{a['name']}: {a['message']}" for a in attempts)
            + "); check the data for outcomes that are constant or perfectly predicted")
    dev, theta, check = min(results, key=lambda r: r[0])
    best = min(range(len(attempts)), key=lambda i: (
        attempts[i]["deviance"] if np.isfinite(attempts[i]["deviance"]) else np.inf))

    messages: list[str] = []
    converged = bool(check["grad_ok"])
    if len(attempts) > 1:
        steps = "; ".join(f"{a['name']}: {_attempt_outcome(a)}" for a in attempts)
        messages.append(f"Optimisers tried in order -- {steps}. Kept {attempts[best]['name']} "
                        f"({'REML criterion' if reml else 'deviance'} {dev:.6f}).")
    if not converged:
        why = ("stopped on the boundary at a covariance matrix that a nearby one improves on"
               if check["saddle"] else
               "no optimiser reached a point where the gradient of the deviance is ~0 (lme4's "
               f"scaled gradient {check['scaled_gradient']:.3g} > {GRADIENT_TOL})")
        messages.append(
            f"The fit did not converge: {why}. Results are unreliable; try rescaling time "
            "(e.g. weeks instead of days), centring covariates, or a simpler random-effects "
            "structure (model='random_intercept').")

    pt = prof.parts(theta)
    r2 = pt["r2"]
    sigma2 = r2 / (n - p) if reml else r2 / n
    sigma = float(np.sqrt(sigma2))
    lam = pt["lam"]
    G = sigma2 * lam @ lam.T
    beta = pt["beta"]
    ainv = linalg.cho_solve(pt["cA"], np.eye(p))
    vcov = sigma2 * ainv
    vcov = 0.5 * (vcov + vcov.T)
    blups = prof.conditional_modes(pt)
    singular = bool(np.any(np.diag(lam) < SINGULAR_TOL))
    messages.extend(_boundary_messages(theta, G, z_names, constant))
    hess_message = not check["hess_ok"] and np.any(check["free"])
    if hess_message:
        messages.append(
            "The Hessian of the deviance is not positive definite at the optimum (smallest "
            f"eigenvalue {check['min_eigenvalue']:.3g}): the variance parameters are not well "
            "determined by these data; standard errors and df may be unreliable. Consider a "
            "simpler random-effects structure (model='random_intercept').")

    idx = theta_index(q)
    varpar_names = [
        f"theta:{z_names[i]}" if i == j else f"theta:{z_names[i]}.{z_names[j]}" for i, j in idx
    ] + ["sigma"]
    varpar = np.append(theta, sigma)
    k = len(varpar)
    if satterthwaite:
        H = check["hessian_vp"]
        try:
            cov_varpar = 2.0 * np.linalg.inv(H)
        except np.linalg.LinAlgError:
            cov_varpar = 2.0 * np.linalg.pinv(H)
            messages.append(
                "The Hessian of the deviance in (theta, sigma) is singular; Satterthwaite df "
                "use its pseudo-inverse and may be unreliable.")
        if np.any(np.linalg.eigvalsh(H) <= 0) and not (singular or hess_message):
            messages.append(
                "The Hessian of the deviance in (theta, sigma) is not positive definite; "
                "Satterthwaite df may be unreliable.")
        jac = np.empty((k, p, p))
        jac[:-1] = numerical_jacobian(lambda th: prof.vcov_vp(np.append(th, sigma)), theta,
                                      step=1e-4)
        jac[-1] = 2.0 * sigma * ainv  # exact in sigma
    else:
        cov_varpar = np.empty((0, 0))
        jac = np.empty((0, p, p))

    return EngineFit(
        beta=beta, vcov=vcov, varpar=varpar, varpar_names=varpar_names,
        cov_varpar=cov_varpar, jac_vcov=jac, loglik=-0.5 * dev, n_obs=n,
        n_groups=n_groups, n_cov_params=n_theta + 1, reml=reml, converged=converged,
        messages=messages, attempts=attempts,
        extra={"G": G, "sigma2": sigma2, "theta": theta, "blups": blups,
               "x_names": x_names, "z_names": z_names, "singular": singular,
               "deviance": dev, "gradient": check["gradient"],
               "hessian_theta": check["hessian"], "hessian_varpar": check["hessian_vp"]},
    )


def simulate_lmm(fit: EngineFit, X: np.ndarray, Z: np.ndarray, groups: np.ndarray,
                 rng: np.random.Generator | int | None = None) -> np.ndarray:
    """Draw a new outcome vector from a fitted model (for a parametric bootstrap).

    ``y* = X beta + Z_i u_i + e`` with ``u_i = sigma Lambda v_i``, ``v_i ~ N(0, I)``
    (so singular ``G`` is handled exactly) and ``e ~ N(0, sigma^2 I)``.

    Parameters
    ----------
    fit : EngineFit
        A fit from :func:`fit_lmm`.
    X, Z, groups : ndarray
        Designs and group codes of the rows to simulate (usually those fitted).
    rng : numpy.random.Generator or int, optional
        Random generator or seed.

    Returns
    -------
    ndarray, shape (n,)

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> g = np.repeat(np.arange(30), 4)
    >>> X = np.column_stack([np.ones(120), np.tile(np.arange(4.0), 30)])
    >>> y = X @ [50.0, -2.0] + rng.normal(0, 5, 30)[g] + rng.normal(0, 2, 120)
    >>> fit = fit_lmm(y, X, X[:, :1], g)
    >>> y_star = simulate_lmm(fit, X, X[:, :1], g, rng)
    >>> refit = fit_lmm(y_star, X, X[:, :1], g, start=fit, satterthwaite=False)
    >>> y_star.shape, refit.converged
    ((120,), True)
    """
    rng = np.random.default_rng(rng)
    X = np.asarray(X, dtype=float)
    Z = np.asarray(Z, dtype=float)
    if Z.ndim == 1:
        Z = Z[:, None]
    groups = np.asarray(groups, dtype=np.intp)
    q = Z.shape[1]
    theta = np.asarray(fit.extra["theta"], dtype=float)
    sigma = float(np.sqrt(fit.extra["sigma2"]))
    lam = lambda_from_theta(theta, q)
    n_codes = int(groups.max()) + 1 if groups.size else 0
    u = sigma * rng.standard_normal((n_codes, q)) @ lam.T
    mean = X @ fit.beta
    return mean + np.einsum("ij,ij->i", Z, u[groups]) + sigma * rng.standard_normal(len(mean))


__all__ = ["fit_lmm", "simulate_lmm"]
