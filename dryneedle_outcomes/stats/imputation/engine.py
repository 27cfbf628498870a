"""Reference-based multiple imputation, end to end: arrays in, pooled results out.

The approaches of R's rbmi (Wolbers et al. 2022, Pharm Stat 21:1246-57; rbmi's
stat_specs vignette):

* ``conditional_mean``: the imputation model (MMRM, :mod:`.strategies`) is fitted by
  REML to the observed data (post-event values of patients with a reference-based
  strategy set aside, as rbmi's ``draws`` does), each missing value is replaced by its
  conditional mean under the patient's strategy, and the ANCOVA of each visit is fitted
  to the completed data (:mod:`.ancova`). The variance comes from resampling the whole
  procedure: the jackknife (each patient left out once: deterministic) or the bootstrap
  (patients drawn with replacement within arm).
* ``approximate_bayes``: ``n_samples`` bootstrap fits of the imputation model, one random
  imputation of the original data from each, the ANCOVA of each completed data set, and
  Rubin's rules with Barnard-Rubin df (rbmi's ``method_approxbayes``).
* ``bayes``: the same with ``n_samples`` draws of the imputation model's parameters from
  their posterior in place of the bootstrap fits (rbmi's ``method_bayes``; the model,
  its priors and the Gibbs sampler that replaces rbmi's Stan are in :mod:`.bayes`). The
  chain runs first, in this process; the imputations and analyses of its kept draws
  then run as the approximate Bayes ones do (one function for both).

Refits are warm-started from the full fit (:class:`..mixed.mmrm_refit.MMRMRefitter`).
A delta adjustment (a fixed amount added to imputed values before the analysis; Cro et
al. 2020, Stat Med 39:2815-42) is an (N, T) array. For tipping-point analyses the
analysis of the missing-value indicators of each arm is kept alongside, so that for
conditional mean imputation the estimate of any delta is linear in it (the ANCOVA is
linear in the outcome) and needs no refit.

Bootstrap samples are drawn from one :class:`numpy.random.SeedSequence` spawned per
sample (for ``bayes``: one child for the chain, one per imputation), so a seed gives the
same numbers whatever else changes, including ``n_jobs``
(the resamples run in worker processes by ``parallel.run_tasks``, results put
back in sample order). Validated against the
printed results of rbmi's vignettes (``tests/reference/rbmi/``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ...errors import AnalysisError
from ..mixed.engine import EngineFit
from ..mixed.mmrm_refit import MMRMRefitter
from .ancova import ancova, pool_bootstrap, pool_jackknife, pool_rubin
from .bayes import GibbsDraws, mmrm_gibbs
from .mcmc_diagnostics import low_ess_message
from .parallel import run_tasks
from .strategies import STRATEGIES, impute, missing_patterns, patient_means

APPROACHES = ("conditional_mean", "approximate_bayes", "bayes")
VARIANCES = {"conditional_mean": ("jackknife", "bootstrap"),
             "approximate_bayes": ("rubin",), "bayes": ("rubin",)}


@dataclass
class MIResult:
    """What ``reference_based_mi`` (the engine under ``dno.reference_based``) returns.

    Arrays; K estimates x T visits.

    ``labels``: the K estimates (``"trt:<arm>"`` for each arm minus the comparator, then
    ``"lsm:<arm>"``), arms by code. ``pooled``: ``estimate``, ``std_error``,
    ``ci_lower``, ``ci_upper``, ``p_value`` (and ``df`` for Rubin), each (K, T).
    ``point``: the full-data estimates (conditional mean) or the per-imputation means.
    ``samples``: estimates of each resample or imputation (R, K, T); ``ses`` the
    imputations' within-ANCOVA SEs (Rubin). ``mcmc``: the kept draws of the imputation
    model's parameters and their effective sample sizes (``bayes``). ``imputed``: the
    completed outcome (N, T) for conditional mean, (M, N, T) for random imputation.
    ``sens_point``/``sens_samples``:
    the same analysis of the missing-value indicators of each arm (constant, then
    cumulative), shape (2A, K, T) and (R, 2A, K, T), for tipping points.
    """

    labels: list[str]
    approach: str
    variance: str
    pooled: dict
    point: np.ndarray
    samples: np.ndarray
    imputed: np.ndarray
    missing: np.ndarray
    fit: EngineFit
    beta: np.ndarray
    Sigma: np.ndarray
    sens_point: np.ndarray | None = None
    sens_samples: np.ndarray | None = None
    ses: np.ndarray | None = None
    v_com: float = np.inf
    n_samples: int = 0
    n_fallback: int = 0   # refits redone by fit_mmrm (quasi-Newton did not get there)
    n_unconverged: int = 0
    n_redrawn: int = 0
    messages: list[str] = field(default_factory=list)
    conf_level: float = 0.95
    bootstrap_type: str = "percentile"
    mcmc: GibbsDraws | None = None


def _design(y, arm, x, n_arms, use):
    """Rows (patient, visit) used for the fit and the imputation model's design."""
    N, T = y.shape
    c = x.shape[1]
    pi, vi = np.nonzero(use)
    X = np.zeros((len(pi), n_arms * T + c * T))
    X[np.arange(len(pi)), arm[pi] * T + vi] = 1.0
    for j in range(c):   # one column block per covariate (not per patient)
        X[np.arange(len(pi)), n_arms * T + j * T + vi] = x[pi, j]
    return y[pi, vi], X, pi, vi


def _arm_bootstrap(arm: np.ndarray, n_arms: int, rng: np.random.Generator) -> np.ndarray:
    """Bootstrap counts per patient, drawn within arm (rbmi's stratified resampling)."""
    w = np.zeros(len(arm))
    for a in range(n_arms):   # one draw per arm
        idx = np.flatnonzero(arm == a)
        w[idx] = rng.multinomial(len(idx), np.full(len(idx), 1.0 / len(idx)))
    return w


def reference_based_mi(y, arm, x, *, reference, ice_visit, strategy, comparator: int = 0,
                       approach: str = "conditional_mean", variance: str = "jackknife",
                       n_samples: int | None = None, seed=None,
                       bootstrap_type: str = "percentile",
                       structure: str = "unstructured", delta=None,
                       conf_level: float = 0.95,
                       arm_names: list[str] | None = None,
                       x_names: list[str] | None = None, n_jobs: int = 1,
                       progress: bool = False, warmup: int = 200,
                       thin: int = 50) -> MIResult:
    """Multiple imputation under MAR or reference-based assumptions (module docstring).

    Parameters
    ----------
    y : ndarray (N, T)
        Outcome of each patient at each post-baseline visit, NaN where missing.
    arm : ndarray of int (N,)
        Arm codes 0..A-1.
    x : ndarray (N, c)
        Baseline covariates (numbers; factors dummy-coded by the caller), the same in the
        imputation model (by visit) and the analysis model.
    reference : ndarray of int (A,)
        Reference arm of each arm for the reference-based strategies.
    ice_visit : ndarray of int (N,)
        First visit index affected by the intercurrent event, T when none.
    strategy : ndarray of int (N,)
        Codes of :data:`.strategies.STRATEGIES` (MAR for patients without an event).
    comparator : int
        The arm the differences are taken against.
    approach, variance : str
        ``"conditional_mean"`` with ``"jackknife"`` or ``"bootstrap"``;
        ``"approximate_bayes"`` or ``"bayes"`` with ``"rubin"``.
    n_samples : int, optional
        Bootstrap samples or imputations (required except for the jackknife).
    seed : int or SeedSequence, optional
        Seeds the bootstrap samples and random imputations.
    bootstrap_type : str
        ``"percentile"`` or ``"normal"`` bootstrap inference.
    structure : str
        Covariance of the imputation model (a visit-indexed structure of the MMRM engine).
    delta : ndarray (N, T), optional
        Added to the imputed values before the analysis.
    conf_level : float
    arm_names, x_names : list of str, optional
        For labels and messages.
    n_jobs : int
        Worker processes for the resampling loop (``parallel.run_tasks``); the
        numbers are the same for any value (every sample has its own seed, spawned from
        one :class:`numpy.random.SeedSequence`; the jackknife is deterministic).
    progress : bool
        Show a ``tqdm`` progress bar over the refits or imputations (and the MCMC).
    warmup, thin : int
        ``bayes``: MCMC iterations discarded, and iterations per kept draw (rbmi's
        ``control_bayes`` defaults 200 and 50). Only the unstructured covariance.

    Returns
    -------
    MIResult

    Examples
    --------
    >>> rng = np.random.default_rng(7)
    >>> N, T = 60, 3
    >>> arm = np.repeat([0, 1], N // 2); base = rng.normal(20, 3, N)
    >>> y = (base[:, None] * 0.5 - np.array([1.0, 2.0, 3.0]) * (1 + arm[:, None])
    ...      + rng.normal(0, 2, (N, T)))
    >>> y[:10, 2] = np.nan
    >>> ice = np.where(np.isnan(y[:, 2]), 2, 3); st = np.where(ice < 3, 1, 0)
    >>> r = reference_based_mi(y, arm, base[:, None], reference=np.array([0, 0]),
    ...                        ice_visit=ice, strategy=st)
    >>> r.labels, r.pooled["estimate"].shape
    (['trt:1', 'lsm:0', 'lsm:1'], (3, 3))
    """
    y = np.array(y, dtype=float)
    if y.ndim != 2:
        raise AnalysisError("y must be an (N, T) array of outcomes, NaN where missing")
    N, T = y.shape
    arm = np.asarray(arm).astype(int)
    x = np.asarray(x, dtype=float).reshape(N, -1)
    reference = np.asarray(reference).astype(int)
    ice_visit = np.asarray(ice_visit).astype(int)
    strategy = np.asarray(strategy).astype(int)
    n_arms = len(reference)
    if arm.shape != (N,) or ice_visit.shape != (N,) or strategy.shape != (N,):
        raise AnalysisError("arm, ice_visit and strategy need one entry per row of y")
    if arm.min() < 0 or arm.max() >= n_arms or reference.min() < 0 \
            or reference.max() >= n_arms:
        raise AnalysisError("arm and reference codes must lie in 0..A-1")
    if np.any((ice_visit < 0) | (ice_visit > T)):
        raise AnalysisError(f"ice_visit must lie in 0..{T} ({T}: no event)")
    if np.any((strategy < 0) | (strategy >= len(STRATEGIES))):
        raise AnalysisError(f"strategy codes must lie in 0..{len(STRATEGIES) - 1}")
    if not np.all(np.isfinite(x)):
        raise AnalysisError("covariates must not be missing")
    if approach not in APPROACHES:
        raise AnalysisError(f"approach must be one of {APPROACHES}, got {approach!r}")
    if approach == "bayes" and structure != "unstructured":
        raise AnalysisError(
            "approach='bayes' samples the unstructured covariance (rbmi's method_bayes "
            f"with its default inverse-Wishart prior), got covariance {structure!r}; use "
            "approach='approximate_bayes' for other structures")
    if approach == "bayes" and (int(warmup) < 0 or int(thin) < 1):
        raise AnalysisError(f"the MCMC needs warmup >= 0 and thin >= 1, got warmup="
                            f"{warmup}, thin={thin}")
    if variance not in VARIANCES[approach]:
        raise AnalysisError(f"approach={approach!r} takes variance in "
                            f"{VARIANCES[approach]}, got {variance!r}")
    if variance != "jackknife" and (n_samples is None or int(n_samples) < 2):
        raise AnalysisError(f"variance={variance!r} needs n_samples >= 2")
    arm_names = [str(a) for a in (arm_names or range(n_arms))]
    missing = ~np.isfinite(y)
    if delta is None:
        delta = np.zeros((N, T))
    delta = np.where(missing, np.asarray(delta, dtype=float).reshape(N, T), 0.0)

    # the imputation model: observed values, post-event values of reference-based
    # strategies set aside (rbmi's draws(); they are used again when imputing)
    post = np.arange(T)[None, :] >= ice_visit[:, None]
    use = ~missing & ~(post & (strategy != 0)[:, None])
    yf, X, pi, vi = _design(y, arm, x, n_arms, use)
    names = [f"arm[{a}]:visit[{v}]" for a in arm_names for v in range(T)] + \
            [f"{c}:visit[{v}]" for c in (x_names or [f"x{j}" for j in range(x.shape[1])])
             for v in range(T)]
    refitter = MMRMRefitter(yf, X, pi, vi, structure=structure, n_visits=T, x_names=names)
    fit = refitter.fit
    messages = list(fit.messages)
    if not fit.converged:
        messages.append("the imputation model (MMRM) did not converge")
    fit_pat = refitter.patients   # patients with values in the fit, sorted
    c = x.shape[1]
    patterns = missing_patterns(y)

    def means(beta):
        alpha = beta[:n_arms * T].reshape(n_arms, T)
        B = beta[n_arms * T:].reshape(c, T)
        return patient_means(alpha, B, arm, x, reference, ice_visit, strategy)

    # sensitivity responses: missing indicators of each arm, constant then cumulative
    cum = np.cumsum(missing, axis=1) * missing
    sens = [missing & (arm == a)[:, None] for a in range(n_arms)] + \
           [cum * (arm == a)[:, None] for a in range(n_arms)]
    S_cols = np.concatenate([s.astype(float) for s in sens], axis=1)   # (N, 2A*T)
    labels = [f"trt:{arm_names[a]}" for a in range(n_arms) if a != comparator] + \
             [f"lsm:{arm_names[a]}" for a in range(n_arms)]
    K = len(labels)

    def analyse(Yc, w=None, with_se=False):
        R = np.concatenate([Yc + delta, S_cols], axis=1)
        out = ancova(R, arm, x, n_arms, weights=w, comparator=comparator, with_se=with_se)
        if with_se:
            est, se, df = out
            return (est[:, :T], est[:, T:].reshape(K, 2 * n_arms, T).transpose(1, 0, 2),
                    se[:, :T], df)
        return out[:, :T], out[:, T:].reshape(K, 2 * n_arms, T).transpose(1, 0, 2)

    common = dict(missing=missing, fit=fit, beta=fit.beta, Sigma=fit.extra["Sigma"],
                  conf_level=conf_level, bootstrap_type=bootstrap_type)
    if approach == "conditional_mean":
        Yimp = impute(y, means(fit.beta), fit.extra["Sigma"], patterns=patterns)
        point, sens_point = analyse(Yimp)
        full = np.ones(N)
        if variance == "jackknife":
            draws = (("drop", j) for j in range(N))
            R = N
        else:
            R = int(n_samples)
            children = np.random.SeedSequence(seed).spawn(R)
            draws = (("boot", ch) for ch in children)
        def one_resample(task):   # one refit per resample
            kind, arg = task
            redrawn = 0
            for _attempt in range(100):
                if kind == "drop":
                    w = full.copy()
                    w[arg] = 0.0
                else:
                    w = _arm_bootstrap(arm, n_arms, np.random.default_rng(arg))
                    arg = np.random.SeedSequence(arg.entropy, spawn_key=arg.spawn_key
                                                 + (_attempt + 1,))
                try:
                    ref = refitter.refit(w[fit_pat])
                    break
                except AnalysisError:
                    if kind == "drop":
                        raise
                    redrawn += 1
            else:
                raise AnalysisError("100 bootstrap samples in a row could not be fitted")
            Yr = impute(y, means(ref.beta), ref.Sigma, patterns=patterns)
            est, sens_est = analyse(Yr, w)
            return est, sens_est, int(ref.fallback), int(not ref.converged), redrawn

        label = ("jackknife refits" if variance == "jackknife"
                 else "bootstrap refits")
        outs = run_tasks(one_resample, list(draws), n_jobs=n_jobs, progress=progress,
                         label=label)
        samples = np.array([o[0] for o in outs]).reshape(R, K, T)
        sens_s = np.array([o[1] for o in outs]).reshape(R, 2 * n_arms, K, T)
        n_fallback = sum(o[2] for o in outs)
        n_unconverged = sum(o[3] for o in outs)
        n_redrawn = sum(o[4] for o in outs)
        pooled = (pool_jackknife(point, samples, conf_level) if variance == "jackknife"
                  else pool_bootstrap(point, samples, conf_level, bootstrap_type))
        res = MIResult(labels, approach, variance, pooled, point, samples, Yimp,
                       sens_point=sens_point, sens_samples=sens_s, n_samples=R, **common)
    else:
        M = int(n_samples)
        mcmc = None
        if approach == "approximate_bayes":
            tasks = np.random.SeedSequence(seed).spawn(M)

            def parameters(ch):   # one bootstrap fit of the imputation model
                boot_ss, imp_ss = ch.spawn(2)
                redrawn = 0
                for _attempt in range(100):
                    w = _arm_bootstrap(arm, n_arms, np.random.default_rng(boot_ss))
                    try:
                        ref = refitter.refit(w[fit_pat])
                        break
                    except AnalysisError:
                        redrawn += 1
                        boot_ss = boot_ss.spawn(1)[0]
                else:
                    raise AnalysisError("100 bootstrap samples in a row could not be "
                                        "fitted")
                return (ref.beta, ref.Sigma, imp_ss,
                        (int(ref.fallback), int(not ref.converged), redrawn))
            label = "imputations (bootstrapped MMRM fits)"
        else:   # one chain, serial; then the imputations from the kept draws
            chain_ss, imp_root = np.random.SeedSequence(seed).spawn(2)
            mcmc = mmrm_gibbs(np.where(use, y, np.nan)[fit_pat], arm[fit_pat],
                              x[fit_pat], n_arms, beta0=fit.beta,
                              Sigma0=fit.extra["Sigma"], prior_scale=fit.extra["Sigma"],
                              n_samples=M, warmup=warmup, thin=thin,
                              rng=np.random.default_rng(chain_ss), progress=progress)
            low = low_ess_message(mcmc.ess, M, mcmc.names)
            if low:
                messages.append(low)
            tasks = list(zip(range(M), imp_root.spawn(M)))

            def parameters(task):   # the m-th kept draw
                m, imp_ss = task
                return mcmc.beta[m], mcmc.Sigma[m], imp_ss, (0, 0, 0)
            label = "imputations (MCMC draws)"

        def one_imputation(task):   # one random imputation of the original data
            beta_m, Sigma_m, imp_ss, counts = parameters(task)
            Yi = impute(y, means(beta_m), Sigma_m, rng=np.random.default_rng(imp_ss),
                        patterns=patterns)
            est, _, se, vc = analyse(Yi, with_se=True)
            return (Yi, est, se, vc) + counts

        outs = run_tasks(one_imputation, tasks, n_jobs=n_jobs, progress=progress,
                         label=label)
        imputed = np.array([o[0] for o in outs]).reshape(M, N, T)
        samples = np.array([o[1] for o in outs]).reshape(M, K, T)
        ses = np.array([o[2] for o in outs]).reshape(M, K, T)
        v_com = outs[-1][3] if outs else np.inf
        n_fallback = sum(o[4] for o in outs)
        n_unconverged = sum(o[5] for o in outs)
        n_redrawn = sum(o[6] for o in outs)
        pooled = pool_rubin(samples, ses, v_com, conf_level)
        res = MIResult(labels, approach, variance, pooled, samples.mean(axis=0), samples,
                       imputed, ses=ses, v_com=v_com, n_samples=M,
                       mcmc=mcmc, **common)
    if n_unconverged:
        messages.append(f"{n_unconverged} refit(s) of the imputation model did not "
                        "converge (their estimates are used; see MIResult.n_unconverged)")
    if n_redrawn:
        messages.append(f"{n_redrawn} bootstrap sample(s) could not be fitted (an arm x "
                        "visit without data) and were drawn again, as rbmi does")
    res.n_fallback, res.n_redrawn, res.messages = n_fallback, n_redrawn, messages
    res.n_unconverged = n_unconverged
    return res


def tipping(res: MIResult, deltas, arms, *, cumulative: bool = False,
            arm=None, x=None, comparator: int = 0) -> list[dict]:
    """Pooled results with ``delta`` added to the imputed values of ``arms`` (codes), one
    dict of (K, T) arrays per delta. ``cumulative``: the j-th imputed visit of a patient
    gets ``j * delta`` (rbmi's ``delta_template(dlag = ...)`` with a cumulative lag).

    Conditional mean: linear in delta (no refit). Rubin: each stored imputation is
    re-analysed (needs ``arm`` and ``x``).
    """
    n_arms = res.sens_point.shape[0] // 2 if res.sens_point is not None else None
    out = []
    if res.approach == "conditional_mean":
        sel = [a + (n_arms if cumulative else 0) for a in arms]
        sp = res.sens_point[sel].sum(axis=0)
        ss = res.sens_samples[:, sel].sum(axis=1)
        for d in deltas:
            pt, sm = res.point + d * sp, res.samples + d * ss
            out.append(pool_jackknife(pt, sm, res.conf_level) if res.variance == "jackknife"
                       else pool_bootstrap(pt, sm, res.conf_level, res.bootstrap_type))
        return out
    if arm is None or x is None:
        raise AnalysisError("a tipping point of random imputations needs arm and x")
    arm = np.asarray(arm).astype(int)
    x = np.asarray(x, dtype=float).reshape(len(arm), -1)
    miss = res.missing
    pattern = (np.cumsum(miss, axis=1) * miss if cumulative else miss.astype(float))
    pattern = pattern * np.isin(arm, list(arms))[:, None]
    A = int(arm.max()) + 1
    for d in deltas:
        ests, ses = [], []
        for Yc in res.imputed:   # one re-analysis per stored imputation
            e, s, v = ancova(Yc + d * pattern, arm, x, A, comparator=comparator,
                             with_se=True)
            ests.append(e)
            ses.append(s)
        out.append(pool_rubin(np.array(ests), np.array(ses), v, res.conf_level))
    return out


__all__ = ["APPROACHES", "VARIANCES", "MIResult", "reference_based_mi", "tipping"]
