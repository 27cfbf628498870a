"""Posterior draws of the imputation model (rbmi's ``method_bayes``) by Gibbs sampling.

The model is rbmi's (``R/mcmc.R``, ``inst/stan/MMRM.stan`` and
``inst/stan/covariance_priors/us_default.stan`` of openpharma/rbmi; its stat_specs
vignette, section 3.5): the MMRM of :mod:`.strategies` written as a multivariate
regression, ``Y = Z B + E`` with the rows of ``E`` independent ``N(0, Sigma)``, where
``Y`` is the N x T matrix of outcomes (patient x visit), ``Z = [arm one-hot (A columns),
covariates (c columns)]`` and ``B`` the (A + c) x T coefficients, so that
``B.ravel()`` is the engine's ``beta`` (the arm x visit means, then each covariate by
visit). Only the values the MMRM is fitted to enter the likelihood (post-event values of
reference-based strategies are set aside, as rbmi's ``draws`` does). The priors are
rbmi's: flat on ``B``, and ``Sigma ~ inverse-Wishart(nu = T + 2, S)`` with ``S`` the
REML estimate, in Stan's parametrisation (density proportional to
``|Sigma|^{-(nu + T + 1)/2} exp(-tr(S Sigma^{-1}) / 2)``, prior mean
``S / (nu - T - 1) = S``). rbmi samples the posterior ``p(B, Sigma | y_obs)`` with Stan's
HMC; Stan is not a dependency here, and the same posterior is sampled exactly by the
data-augmentation Gibbs sampler of Tanner & Wong (1987, JASA 82:528-40) as Schafer (1997,
*Analysis of Incomplete Multivariate Data*, ch. 5.4) gives it for the multivariate
normal and SAS PROC MI's MCMC method implements it. Each iteration:

1. **I-step.** Each patient's values not in the fit are drawn from their conditional
   normal distribution given the patient's values in the fit, under the current
   ``(B, Sigma)`` with the patient's own arm mean (the model's MAR, whatever the
   patient's imputation strategy: the strategy only concerns the imputation of the
   analysis data, below). Vectorised per pattern of values not in the fit
   (:func:`.strategies.impute`).
2. **P-step.** ``(B, Sigma)`` from their posterior given the completed ``Y``, drawn
   jointly in two parts. With ``B_hat = (Z'Z)^{-1} Z'Y`` and ``E = Y - Z B_hat``, the
   likelihood is ``|Sigma|^{-N/2} exp(-tr(Sigma^{-1} [E'E + (B - B_hat)' Z'Z
   (B - B_hat)]) / 2)``. Integrating ``B`` over its flat prior gives
   ``(2 pi)^{pT/2} |Sigma|^{p/2} |Z'Z|^{-T/2}`` (p = A + c), so

   * ``Sigma | Y ~ inverse-Wishart(nu + N - p, S + E'E)``, and
   * ``B | Sigma, Y ~ matrix normal(B_hat, (Z'Z)^{-1}, Sigma)``, i.e.
     ``vec(B) ~ N(vec(B_hat), Sigma (x) (Z'Z)^{-1})`` (column-stacked ``vec``).

   (Box & Tiao 1973, *Bayesian Inference in Statistical Analysis*, section 8.2; Gelman
   et al. 2013, *Bayesian Data Analysis*, 3rd ed., section 14.7.) The inverse-Wishart
   is drawn by Bartlett's decomposition of the Wishart of ``Sigma^{-1}``.

Both steps draw from full conditionals of ``p(Y_mis, B, Sigma | y_obs)``, whose margin
is the posterior rbmi's Stan model targets. N here counts the patients with at least
one value in the fit (rbmi's ``remove_if_all_missing``). The chain starts at the REML
estimates (rbmi's ``init = "mmrm"``), discards ``warmup`` iterations and keeps every
``thin``-th of the next ``thin * n_samples`` (rbmi's ``control_bayes(warmup = 200,
thin = 50)``: ``iter = warmup + thin * n_samples``). One chain, one
:class:`numpy.random.Generator`: a seed gives the same draws. Convergence is checked by
the effective sample size of the kept draws (``mcmc_diagnostics``), as rbmi's
``check_mcmc``.

Only the unstructured covariance (rbmi's ``covariance = "us"`` with its default prior)
is sampled: the conjugacy above needs it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import linalg
from tqdm.auto import tqdm

from ...errors import AnalysisError
from .strategies import impute, missing_patterns


@dataclass
class GibbsDraws:
    """Kept draws of the imputation model's parameters and their diagnostics.

    ``beta`` (M, (A + c) T) in the engine's order; ``Sigma`` (M, T, T); ``ess`` the
    effective sample size of the M kept draws of each monitored quantity named in
    ``names`` (each ``beta``, then the log of each variance and each covariance of
    ``Sigma``'s lower triangle), estimated from every iteration after the warm-up
    (``mcmc_diagnostics.ess`` with ``thin``).
    """

    beta: np.ndarray
    Sigma: np.ndarray
    warmup: int
    thin: int
    prior_df: float
    prior_scale: np.ndarray
    ess: np.ndarray
    names: list[str]
    n_patients: int


def invwishart_draw(df: float, scale: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One draw of ``Sigma ~ inverse-Wishart(df, scale)`` (Stan's and scipy's
    parametrisation: mean ``scale / (df - T - 1)``).

    ``Sigma^{-1} ~ Wishart(df, scale^{-1})``; with ``scale = L L'`` and Bartlett's
    ``A`` (lower triangular, ``A_ii^2 ~ chi^2(df - i)``, ``A_ij ~ N(0, 1)`` below the
    diagonal; Bartlett 1933, Proc R Soc Edinb 53:260-83), ``Sigma^{-1} = L^{-T} A A'
    L^{-1}`` and ``Sigma = G G'`` with ``G = L A^{-T}``.

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> S = np.array([[2.0, 0.5], [0.5, 1.0]])
    >>> draws = np.array([invwishart_draw(8.0, S, rng) for _ in range(2000)])
    >>> np.round(draws.mean(axis=0) * (8.0 - 2 - 1), 1)   # mean scale / (df - T - 1)
    array([[2. , 0.5],
           [0.5, 1. ]])
    """
    T = scale.shape[0]
    L = np.linalg.cholesky(scale)
    A = np.tril(rng.standard_normal((T, T)), -1)   # (the upper draws are not used)
    A.flat[::T + 1] = np.sqrt(rng.chisquare(df - np.arange(T)))
    G = L @ np.linalg.inv(A).T   # A^{-T} (numpy's inverse: scipy's overhead is 40x)
    return G @ G.T


def mmrm_gibbs(y: np.ndarray, arm: np.ndarray, x: np.ndarray, n_arms: int, *,
               beta0: np.ndarray, Sigma0: np.ndarray, prior_scale: np.ndarray,
               prior_df: float | None = None, n_samples: int, warmup: int = 200,
               thin: int = 50, rng: np.random.Generator,
               progress: bool = False) -> GibbsDraws:
    """Posterior draws of ``(beta, Sigma)`` by data augmentation (module docstring).

    Parameters
    ----------
    y : ndarray (N, T)
        The values in the fit, NaN elsewhere (missing, or set aside); every patient
        needs at least one value.
    arm : ndarray of int (N,)
        Arm codes 0..A-1.
    x : ndarray (N, c)
        Covariates.
    n_arms : int
    beta0, Sigma0 : ndarray
        Starting values (the REML estimates).
    prior_scale : ndarray (T, T)
        ``S`` of the inverse-Wishart prior (rbmi: the REML estimate of ``Sigma``).
    prior_df : float, optional
        ``nu`` of the prior (default ``T + 2``, rbmi's).
    n_samples, warmup, thin : int
        Draws kept, iterations discarded first, iterations per kept draw.
    rng : numpy.random.Generator
    progress : bool
        A ``tqdm`` bar over the iterations.

    Returns
    -------
    GibbsDraws

    Examples
    --------
    >>> rng = np.random.default_rng(5)
    >>> N, T = 200, 2
    >>> arm = np.repeat([0, 1], N // 2); x = rng.normal(size=(N, 1))
    >>> y = np.array([1.0, 2.0]) * arm[:, None] + x + rng.normal(size=(N, T))
    >>> y[:40, 1] = np.nan
    >>> d = mmrm_gibbs(y, arm, x, 2, beta0=np.zeros(6), Sigma0=np.eye(2),
    ...                prior_scale=np.eye(2), n_samples=50, warmup=20, thin=2,
    ...                rng=np.random.default_rng(1))
    >>> d.beta.shape, d.Sigma.shape, len(d.ess) == len(d.names) == 6 + 3
    ((50, 6), (50, 2, 2), True)
    """
    y = np.asarray(y, dtype=float)
    N, T = y.shape
    arm = np.asarray(arm).astype(int)
    x = np.asarray(x, dtype=float).reshape(N, -1)
    n_samples, warmup, thin = int(n_samples), int(warmup), int(thin)
    if n_samples < 1 or warmup < 0 or thin < 1:
        raise AnalysisError("the MCMC needs n_samples >= 1, warmup >= 0 and thin >= 1, got "
                            f"{n_samples}, {warmup}, {thin}")
    if np.any(np.isnan(y).all(axis=1)):
        raise AnalysisError("every patient given to the sampler needs a value in the fit")
    nu = float(T + 2 if prior_df is None else prior_df)
    Z = np.column_stack([(arm[:, None] == np.arange(n_arms)[None, :]).astype(float), x])
    p = Z.shape[1]
    if N - p + nu <= T - 1:
        raise AnalysisError(f"too few patients ({N}) for the posterior of a {T} x {T} "
                            f"covariance with {p} coefficients per visit")
    try:
        cZ = np.linalg.cholesky(Z.T @ Z)
    except np.linalg.LinAlgError:
        raise AnalysisError("the imputation model's design is singular (an arm without "
                            "patients in the fit, or collinear covariates)") from None
    # B_hat = (Z'Z)^{-1} Z'Y = H Y; U U' = (Z'Z)^{-1} with U = cZ^{-T}
    H = linalg.cho_solve((cZ, True), Z.T)
    U = linalg.solve_triangular(cZ, np.eye(p), lower=True).T
    S = np.asarray(prior_scale, dtype=float)
    df_post = nu + N - p
    patterns = missing_patterns(y)
    B = np.asarray(beta0, dtype=float).reshape(p, T)
    Sigma = np.asarray(Sigma0, dtype=float)
    n_iter = warmup + thin * n_samples
    keep_B = np.empty((n_samples, p, T))
    keep_S = np.empty((n_samples, T, T))
    low = np.tril_indices(T)
    # every iteration after the warm-up, for the ESS of the kept draws (mcmc_diagnostics)
    trace = np.empty((thin * n_samples, p * T + len(low[0])))
    k = 0
    for it in tqdm(range(1, n_iter + 1), disable=not progress, leave=False,
                   desc="MCMC (Gibbs sampler)"):
        Yc = impute(y, Z @ B, Sigma, rng=rng, patterns=patterns)       # I-step
        Bhat = H @ Yc                                                 # P-step
        E = Yc - Z @ Bhat
        Sigma = invwishart_draw(df_post, S + E.T @ E, rng)
        Sigma = 0.5 * (Sigma + Sigma.T)
        B = Bhat + U @ rng.standard_normal((p, T)) @ np.linalg.cholesky(Sigma).T
        if it > warmup:
            trace[it - warmup - 1, :p * T] = B.ravel()
            trace[it - warmup - 1, p * T:] = Sigma[low]
            if (it - warmup) % thin == 0:
                keep_B[k], keep_S[k] = B, Sigma
                k += 1
    from .mcmc_diagnostics import ess as _ess

    diag = np.flatnonzero(low[0] == low[1]) + p * T
    trace[:, diag] = np.log(trace[:, diag])
    names = [f"beta[{j}]" for j in range(p * T)] + \
        [(f"log Sigma[{i},{i}]" if i == j else f"Sigma[{i},{j}]")
         for i, j in zip(*low)]
    return GibbsDraws(keep_B.reshape(n_samples, -1), keep_S, warmup, thin, nu, S,
                      _ess(trace, thin=thin), names, N)


__all__ = ["GibbsDraws", "invwishart_draw", "mmrm_gibbs"]
