"""What every model engine returns, and the inference that only needs that.

The engines (:mod:`.lmm` for random-effects models, :mod:`.mmrm` for models with a
structured residual covariance) fit by (RE)ML and hand back an :class:`EngineFit`.
Everything a trial statistician asks of a fit afterwards -- the covariance of the
fixed effects, t tests of any contrast with Satterthwaite degrees of freedom --
is computed here from the same few arrays, so both engines answer the same way.

Matches ``lmerTest``'s and ``emmeans``' Satterthwaite df. Golden values:
``tests/reference/lmm_engine/`` and ``tests/reference/mmrm_engine/``
(``reference.json``, made by the ``make_reference.R`` there from the data beside it);
checked in ``tests/test_lmm_engine.py`` and ``tests/test_mmrm_engine.py``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import stats

from .aliasing import Aliasing


@dataclass
class EngineFit:
    """A fitted linear (mixed) model, engine-independent.

    Attributes
    ----------
    beta : ndarray, shape (p,)
        Fixed-effect estimates.
    vcov : ndarray, shape (p, p)
        Their covariance, ``(X' V^-1 X)^-1`` at the (RE)ML estimates of the variance
        parameters (as lme4, nlme and emmeans report it).
    varpar : ndarray, shape (k,)
        Variance parameters at the optimum, in the parametrisation used for
        ``cov_varpar`` and ``jac_vcov`` (Satterthwaite df do not depend on it).
    varpar_names : list of str
    cov_varpar : ndarray, shape (k, k)
        Asymptotic covariance of ``varpar``: ``2 * inv(H)``, H the Hessian of the
        deviance (-2 log-likelihood) at the optimum.
    jac_vcov : ndarray, shape (k, p, p)
        Derivative of ``vcov`` with respect to each variance parameter.
    loglik : float
        The (REML when ``reml``) log-likelihood, on the scale R reports.
    n_obs, n_groups : int
    n_cov_params : int
        Number of variance-covariance parameters (for AIC/BIC, as R counts them).
    reml : bool
    converged : bool
    messages : list of str
        What happened during fitting (optimiser attempts, boundary, singular fit),
        in plain words.
    attempts : list of dict
        One record per optimiser tried: name, success, deviance, iterations, message.
    extra : dict
        Engine-specific results (variance components, BLUPs, covariance matrix ...).
    aliasing : Aliasing or None
        Set when the fit was made on the non-aliased columns of a rank-deficient design
        and expanded to all of them (:meth:`.aliasing.Aliasing.expand`): aliased
        coefficients are 0 in ``beta``, and :meth:`contrast` reports contrasts that are
        not estimable as missing.
    """

    beta: np.ndarray
    vcov: np.ndarray
    varpar: np.ndarray
    varpar_names: list[str]
    cov_varpar: np.ndarray
    jac_vcov: np.ndarray
    loglik: float
    n_obs: int
    n_groups: int
    n_cov_params: int
    reml: bool = True
    converged: bool = True
    messages: list[str] = field(default_factory=list)
    attempts: list[dict] = field(default_factory=list)
    extra: dict = field(default_factory=dict)
    aliasing: Aliasing | None = None

    @property
    def n_params(self) -> int:
        """Parameters counted by R's AIC: fixed effects plus covariance parameters."""
        return len(self.beta) + self.n_cov_params

    @property
    def aic(self) -> float:
        """Akaike's information criterion, ``-2 loglik + 2 n_params`` (as R's ``AIC``)."""
        return -2.0 * self.loglik + 2.0 * self.n_params

    @property
    def bic(self) -> float:
        """Bayesian information criterion, ``-2 loglik + log(n_obs) n_params``."""
        # R's BIC for REML fits uses n - p observations (nlme) or n (lme4); lme4's choice
        # is the one emmeans users see most: log(n) * number of parameters
        return -2.0 * self.loglik + np.log(self.n_obs) * self.n_params

    def contrast(self, L, *, conf_level: float = 0.95, df: str = "satterthwaite"):
        """Estimate, SE, df, t, p and CI for each row of ``L`` (shape (m, p) or (p,)).

        The SE is model-based (``vcov``). ``df="satterthwaite"`` uses ``cov_varpar``, the
        inverse observed information of the variance parameters (``satterthwaite_df``);
        ``"asymptotic"`` gives z tests. Kenward-Roger is
        ``stats.mixed.kenward_roger.kenward_roger_adjustment`` (MMRM fits). Rows that are
        not estimable (a fit with ``aliasing``) are missing throughout.

        Returns a dict of arrays: ``estimate``, ``std_error``, ``df``, ``statistic``,
        ``p_value``, ``ci_lower``, ``ci_upper``.
        """
        L = np.atleast_2d(np.asarray(L, dtype=float))
        est = L @ self.beta
        var = np.einsum("ij,jk,ik->i", L, self.vcov, L)
        # a negative variance (non-converged fit, indefinite vcov) has no standard error
        se = np.sqrt(np.where(var >= 0, var, np.nan))
        if df == "satterthwaite":
            dof = satterthwaite_df(L, var, self.jac_vcov, self.cov_varpar)
        elif df == "asymptotic":
            dof = np.full(len(est), np.inf)
        else:
            raise ValueError(f"df must be 'satterthwaite' or 'asymptotic', got {df!r}")
        return missing_unless_estimable(t_table(est, se, dof, conf_level), self.aliasing, L)


def t_table(est: np.ndarray, se: np.ndarray, dof: np.ndarray, conf_level: float) -> dict:
    """t tests and CIs of estimates with standard errors ``se`` and ``dof`` df: the dict of
    arrays every ``contrast`` method returns (``estimate``, ``std_error``, ``df``,
    ``statistic``, ``p_value``, ``ci_lower``, ``ci_upper``). Where there is no standard
    error (zero or missing) there is no test: NaN, not 0/0.

    Examples
    --------
    >>> out = t_table(np.array([2.0]), np.array([1.0]), np.array([np.inf]), 0.95)
    >>> round(float(out["p_value"][0]), 4), round(float(out["ci_upper"][0]), 4)
    (0.0455, 3.96)
    """
    tstat = np.divide(est, se, out=np.full(len(est), np.nan), where=se > 0)
    q = stats.t.ppf(0.5 + conf_level / 2.0, dof)
    return {"estimate": est, "std_error": se, "df": dof, "statistic": tstat,
            "p_value": 2.0 * stats.t.sf(np.abs(tstat), dof),
            "ci_lower": est - q * se, "ci_upper": est + q * se}


def missing_unless_estimable(result: dict, aliasing: Aliasing | None, L) -> dict:
    """``result`` (a dict of arrays, one entry per row of ``L``) with every entry of the
    rows of ``L`` that are not estimable under ``aliasing`` set to NaN."""
    if aliasing is None or not aliasing.any:
        return result
    bad = ~aliasing.estimable(L)
    return {k: np.where(bad, np.nan, np.asarray(v, dtype=float)) for k, v in result.items()}


def satterthwaite_df(L: np.ndarray, var: np.ndarray, jac_vcov: np.ndarray,
                     cov_varpar: np.ndarray) -> np.ndarray:
    """Satterthwaite degrees of freedom of the contrasts ``L @ beta``.

    ``df = 2 var^2 / (g' A g)`` with ``g_j = L (d vcov / d varpar_j) L'`` and ``A`` the
    asymptotic covariance of the variance parameters, which the engines give as the
    inverse *observed* information (``EngineFit.cov_varpar``) -- the formula of lmerTest
    (Kuznetsova, Brockhoff & Christensen 2017, J Stat Softw 82(13)) and of SAS's
    DDFM=SATTERTHWAITE. It does not depend on how the variance parameters are
    parametrised. With no variance parameters the df are infinite.
    """
    L = np.atleast_2d(L)
    if jac_vcov.size == 0:
        return np.full(L.shape[0], np.inf)
    if not (np.all(np.isfinite(cov_varpar)) and np.all(np.isfinite(jac_vcov))):
        # a fit that did not converge has no usable information matrix: no df, not inf
        return np.full(L.shape[0], np.nan)
    g = np.einsum("ip,kpq,iq->ik", L, jac_vcov, L)
    denom = np.einsum("ik,kl,il->i", g, cov_varpar, g)
    with np.errstate(divide="ignore", invalid="ignore"):
        dof = 2.0 * var**2 / denom
    # a contrast whose variance does not depend on the variance parameters: z test
    return np.where(denom > 0, dof, np.inf)


def numerical_hessian(f, x: np.ndarray, step: float = 1e-4) -> np.ndarray:
    """Hessian of a scalar function by central differences with Richardson extrapolation.

    Two step sizes (``h`` and ``h/2``) are combined as ``(4 H(h/2) - H(h)) / 3``,
    which removes the leading error term (as numDeriv does, with fewer steps). The
    step is relative to ``max(|x|, 1)``; for deviances in the thousands a step of
    1e-4 leaves about 1e-3 relative error from rounding, so pass ``step=1e-3`` there.
    """
    x = np.asarray(x, dtype=float)

    def hess(h: float) -> np.ndarray:
        k = len(x)
        out = np.empty((k, k))
        f0 = f(x)
        hs = h * np.maximum(np.abs(x), 1.0)
        for i in range(k):
            ei = np.zeros(k)
            ei[i] = hs[i]
            out[i, i] = (f(x + ei) - 2.0 * f0 + f(x - ei)) / hs[i] ** 2
            for j in range(i):
                ej = np.zeros(k)
                ej[j] = hs[j]
                out[i, j] = out[j, i] = (
                    f(x + ei + ej) - f(x + ei - ej) - f(x - ei + ej) + f(x - ei - ej)
                ) / (4.0 * hs[i] * hs[j])
        return out

    return (4.0 * hess(step / 2.0) - hess(step)) / 3.0


def numerical_jacobian(F, x: np.ndarray, step: float = 1e-4) -> np.ndarray:
    """Derivatives of an array-valued function, stacked on a new first axis.

    Central differences with Richardson extrapolation, as :func:`numerical_hessian`.
    """
    x = np.asarray(x, dtype=float)

    def jac(h: float) -> np.ndarray:
        out = []
        hs = h * np.maximum(np.abs(x), 1.0)
        for i in range(len(x)):
            e = np.zeros(len(x))
            e[i] = hs[i]
            out.append((np.asarray(F(x + e)) - np.asarray(F(x - e))) / (2.0 * hs[i]))
        return np.stack(out) if out else np.empty((0,))

    return (4.0 * jac(step / 2.0) - jac(step)) / 3.0
