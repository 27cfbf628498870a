"""Outside reference numbers and closed-form power for the power engine's tests (issue 15).

Published numbers (as data, each with its source and line) printed by R longpower 1.0.27
``power.mmrm`` / ``power.mmrm.ar1`` (Lu, Luo & Chen 2008), and small independent
implementations of the formulas, written from the paper's formula (3) as documented in
``README.md`` (no longpower code is copied). Used ONLY by tests; not part of the package.

Functions the power engine's tests should call
-----------------------------------------------
``analytic_ancova_power(n_per_arm, effect, sd, rho, alpha=0.05)``
    Exact power of the baseline-adjusted ANCOVA t-test, one post-baseline visit, no
    dropout, equal arms: noncentral t, ``ncp = effect / (sd sqrt(1 - rho^2) sqrt(2/n))``,
    ``df = 2n - 3``, both rejection tails. Compare simulated MMRM/ANCOVA power with it
    within 3 Monte Carlo SE.
``ttest_power(n_per_arm, effect, sd, alpha=0.05)``
    Two-sample t-test power (``df = 2n - 2``); equals statsmodels ``TTestIndPower``.
``lu_luo_chen_power(n_total, corr, retention, sigma, delta, ...)``
    Normal-approximation MMRM power at the last visit with monotone dropout (Lu, Luo &
    Chen 2008; longpower ``power.mmrm`` solved for power). ``corr`` is the J x J
    correlation of the post-baseline outcomes (conditional on baseline when baseline is
    a covariate), ``retention`` the proportion still observed at each visit
    (``retention[0]`` is usually 1), ``sigma`` the SD at the last visit.
``lu_luo_chen_phi(corr, retention)`` / ``ar1_phi(rho, retention, times)``
    The variance inflation factor phi of one arm.
``responder_probabilities(effect, sd, rho, dropout, mcid)``
    Each arm's exact probability of being a responder at the visit (normal change,
    MCAR dropout, missing = non-responder).
``exact_two_binomial_power(n, p1, p0, test, alpha)``
    Exact power of Fisher's or the uncorrected chi-square test by enumerating both
    binomial counts (scipy's tests per table).
``exact_relief_power_one_visit(n, p1, p0, alpha)``
    Exact power of the interval-censored log-rank test (permutation CLT) with one visit:
    ``(N - 1) / N`` times Pearson's chi-square, enumerated.
``condition_on_baseline(cov)``
    ``(corr, sigma)`` of the visits given baseline, from the covariance of (baseline,
    visits): the inputs of ``lu_luo_chen_power`` for a baseline-adjusted MMRM.

Examples
--------
>>> import numpy as np
>>> R = np.full((4, 4), 0.25) + 0.75 * np.eye(4)
>>> round(lu_luo_chen_total_n(R, [1, 0.9, 0.8, 0.7], sigma=1, delta=0.5, power=0.8) / 2, 5)
86.99175
>>> round(ttest_power(64, effect=0.5), 3)
0.801
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from scipy import optimize, stats

# ---------------------------------------------------------------------- where from
LONGPOWER = {
    "repository": "github.com/mcdonohue/longpower",
    "package_version": "1.0.27",
    "source_commit": "189c4b023aa3cc8029ecf9401323cfdbe567b0ae",   # master, 2024-09-04
    "source_file": "R/power_mmrm.R",
    "tests_file": "tests/testthat/tests.R",
    "pages_commit": "2187836367070f1841aefc9f9c771b4a6937109a",    # gh-pages, pkgdown 2.1.0
    "pages": ("reference/power.mmrm.html", "reference/power.mmrm.ar1.html"),
}
PAPER = ("Lu K, Luo X, Chen P-Y. Sample size estimation for repeated measures analysis in "
         "randomized clinical trials with missing data. Int J Biostat 2008;4(1):Article 4. "
         "doi:10.2202/1557-4679.1098")

# ---------------------------------------------------------------------- published numbers
#: The numbers R printed, one a row of ``longpower_printed.csv`` (function, example,
#: quantity, value as printed, digits printed, source page and line). Checked against
#: the pages' text when the file was written (see README.md). Below: the inputs of
#: each example, as in longpower's R/power_mmrm.R examples (lines 36-62 and 230-264).
PRINTED_CSV = Path(__file__).with_name("longpower_printed.csv")


def printed_values() -> dict[tuple[str, str, str], tuple[float, str, str]]:
    """``{(function, example, quantity): (value, digits, source)}`` from the CSV."""
    with PRINTED_CSV.open(encoding="utf-8", newline="") as fh:
        return {(r["function"], r["example"], r["quantity"]):
                (float(r["value"]), r["digits"], r["source"]) for r in csv.DictReader(fh)}


def half_unit(value: float, digits: str) -> float:
    """Half a unit in the last printed digit: ``digits`` is "7 significant" (R's
    print.power.htest, getOption("digits") = 7) or "6 decimals" (a printed matrix)."""
    count, kind = digits.split()
    if kind == "decimals":
        return 0.5 * 10.0 ** -int(count)
    exponent = int(np.floor(np.log10(abs(value)))) if value != 0 else 0
    return 0.5 * 10.0 ** (exponent - int(count) + 1)


#: Lu, Luo & Chen (2008) Table 1 as longpower reproduces it: total N (both arms) for
#: delta/sigma = 0.5, two-sided alpha 0.05, power 0.90, from given phi_a, phi_b and
#: allocation lambda = N_a / N_b; printed "ztest" the normal formula, "ttest1" one t
#: step with df = N_z - 2 (example of power.mmrm; also tests/testthat/tests.R 35-57).
TABLE1 = {  # example: (phi_a, phi_b, lambda)
    "row1": (1, 1, 1.0), "row2": (1, 1, 2.0), "row3": (1, 2, np.sqrt(0.5)),
    "row4": (1, 2, 0.5), "row5": (1, 2, 1.0), "row6": (1, 2, 2.0),
    "row7": (2, 2, 1.0), "row8": (2, 2, 2.0),
}

#: Lu, Luo & Chen (2008) Table 2: phi for AR(1) correlation, linear retention from 1 to
#: r_J = 1 - a_J over J visits at times 1..J; printed columns rho^(J-1) = 0, .1, .3, .5,
#: .7, .9 (example of power.mmrm.ar1; also tests/testthat/tests.R 60-80).
TABLE2 = {f"J{J}_a{a}": (J, a) for J in (2, 4) for a in (0.1, 0.2, 0.3, 0.4)}
TABLE2_RHO_J1 = (0.0, 0.1, 0.3, 0.5, 0.7, 0.9)

#: power.mmrm examples: compound symmetry 0.25 over 4 visits, retention 1, .9, .8, .7
#: in both arms, sigma 1; "solve" names the unknown (the printed quantities are in the
#: CSV under the same example id).
CS4 = {"rho": 0.25, "J": 4, "retention": (1.0, 0.9, 0.8, 0.7), "sigma": 1.0}
POWER_MMRM_EXAMPLES = {
    "ex1": {"solve": "n", "delta": 0.5, "power": 0.80, "lambda": 1.0},
    "ex2": {"solve": "power", "N": 174, "delta": 0.5, "lambda": 1.0},
    "ex3": {"solve": "delta", "N": 174, "power": 0.80, "lambda": 1.0},
    "ex4": {"solve": "n", "delta": 0.5, "power": 0.80, "lambda": 2.0},
    "ex5": {"solve": "power", "N": 174, "delta": 0.5, "lambda": 2.0},
    "ex6": {"solve": "delta", "N": 174, "power": 0.80, "lambda": 2.0},
}

#: power.mmrm.ar1 examples ("approximate simulation results from Table 5" of the paper):
#: AR(1), times 1..4, sigma 1, retention differing by arm.
AR1_RA = (1.00, 0.76, 0.63, 0.52)
AR1_RB = (1.00, 0.87, 0.81, 0.78)
AR1_EXAMPLES = {
    "ex1": {"solve": "n", "rho": 0.6, "lambda": np.sqrt(1.25 / 1.75), "power": 0.904,
            "delta": 0.9},
    "ex2": {"solve": "n", "rho": 0.6, "lambda": 1.25 / 1.75, "power": 0.910, "delta": 0.9},
    "ex3": {"solve": "n", "rho": 0.6, "lambda": 1.0, "power": 0.903, "delta": 0.9},
    "ex4": {"solve": "n", "rho": 0.6, "lambda": 2.0, "power": 0.904, "delta": 0.9},
    "ex5": {"solve": "rho", "N": 81, "lambda": np.sqrt(1.25 / 1.75), "power": 0.904,
            "delta": 0.9},
    "ex6": {"solve": "delta", "N": 87, "rho": 0.6, "lambda": 1.25 / 1.75, "power": 0.910},
    "ex7": {"solve": "power", "N": 80, "rho": 0.6, "lambda": 1.0, "delta": 0.9},
    "ex8": {"solve": "sig_level", "N": 84, "rho": 0.6, "lambda": 2.0, "power": 0.904,
            "delta": 0.9},
}


# ---------------------------------------------------------------------- formulas
def exchangeable(rho: float, J: int) -> np.ndarray:
    """J x J compound-symmetry correlation matrix."""
    return np.full((J, J), float(rho)) + (1.0 - float(rho)) * np.eye(J)


def ar1(rho: float, times: Sequence[float]) -> np.ndarray:
    """AR(1) correlation ``rho ** |t_i - t_j|``."""
    t = np.asarray(times, dtype=float)
    return float(rho) ** np.abs(t[:, None] - t[None, :])


def lu_luo_chen_phi(corr, retention) -> float:
    """phi = [I^{-1}]_{JJ}, I = sum_j (r_j - r_{j+1}) [R_(1:j)^{-1}, zero padded], r_{J+1}=0.

    The variance of the last-visit mean of one arm with n randomised is sigma^2 phi / n
    under monotone MAR/MCAR dropout with retention ``r`` (Lu, Luo & Chen 2008, eq. 3).
    """
    R = np.asarray(corr, dtype=float)
    r = np.append(np.asarray(retention, dtype=float), 0.0)
    J = R.shape[0]
    if R.shape != (J, J) or r.size != J + 1:
        raise ValueError("corr must be J x J and retention of length J")
    info = np.zeros((J, J))
    for j in range(1, J + 1):                 # J <= a dozen visits: loop over visits only
        info[:j, :j] += (r[j - 1] - r[j]) * np.linalg.inv(R[:j, :j])
    return float(np.linalg.inv(info)[J - 1, J - 1])


def ar1_phi(rho: float, retention, times=None) -> float:
    """Closed form of phi for AR(1): 1/r_J - sum_{j<J} rho^(2(t_J - t_j)) (1/r_{j+1} - 1/r_j)."""
    r = np.asarray(retention, dtype=float)
    t = np.arange(1.0, r.size + 1) if times is None else np.asarray(times, dtype=float)
    weights = float(rho) ** (2.0 * (t[-1] - t[:-1]))
    return float(1.0 / r[-1] - np.sum(weights * (1.0 / r[1:] - 1.0 / r[:-1])))


def _z_alpha(alpha: float, two_sided: bool) -> float:
    return float(stats.norm.isf(alpha / 2 if two_sided else alpha))


def llc_total_n_from_phi(phi_a: float, phi_b: float, *, sigma: float, delta: float,
                         power: float, alpha: float = 0.05, lam: float = 1.0,
                         two_sided: bool = True, df: float | None = None) -> float:
    """Total N = N_a + N_b, N_a = (phi_a + lam phi_b)(z_{alpha} + z_{beta})^2 sigma^2 / delta^2,
    N_b = N_a / lam; with ``df`` the t quantiles replace the normal ones."""
    a = alpha / 2 if two_sided else alpha
    if df is None:
        q = stats.norm.isf(a) + stats.norm.ppf(power)
    else:
        q = stats.t.isf(a, df) + stats.t.ppf(power, df)
    n_a = (phi_a + lam * phi_b) * q ** 2 * sigma ** 2 / delta ** 2
    return float(n_a + n_a / lam)


def lu_luo_chen_total_n(corr, retention, *, sigma: float, delta: float, power: float,
                        alpha: float = 0.05, lam: float = 1.0, corr_b=None,
                        retention_b=None, two_sided: bool = True) -> float:
    """Total sample size (both arms) for the last-visit MMRM contrast (normal formula)."""
    phi_a = lu_luo_chen_phi(corr, retention)
    phi_b = lu_luo_chen_phi(corr if corr_b is None else corr_b,
                            retention if retention_b is None else retention_b)
    return llc_total_n_from_phi(phi_a, phi_b, sigma=sigma, delta=delta, power=power,
                                alpha=alpha, lam=lam, two_sided=two_sided)


def llc_power_from_phi(n_total: float, phi_a: float, phi_b: float, *, sigma: float,
                       delta: float, alpha: float = 0.05, lam: float = 1.0,
                       two_sided: bool = True) -> float:
    """Power = Phi(|delta| / SE - z), SE^2 = sigma^2 (phi_a / N_a + phi_b / N_b),
    N_a = N lam / (1 + lam), N_b = N / (1 + lam) (the root of the N formula in power)."""
    n_a = n_total * lam / (1.0 + lam)
    n_b = n_total / (1.0 + lam)
    se = sigma * np.sqrt(phi_a / n_a + phi_b / n_b)
    return float(stats.norm.cdf(abs(delta) / se - _z_alpha(alpha, two_sided)))


def lu_luo_chen_power(n_total: float, corr, retention, *, sigma: float, delta: float,
                      alpha: float = 0.05, lam: float = 1.0, corr_b=None, retention_b=None,
                      two_sided: bool = True) -> float:
    """MMRM power at the last visit by Lu, Luo & Chen (2008), normal approximation.

    ``n_total`` randomised in both arms, ``lam = n_a / n_b``; ``corr``/``retention`` of
    arm a (arm b the same unless given); ``sigma`` the SD at the last visit; ``delta`` the
    true difference at the last visit. Power of the two-sided test counts one tail only,
    as longpower does (the other is below Phi(-2 z_{0.975}) = 4.4e-5 whenever power >
    0.5 at alpha 0.05).
    """
    phi_a = lu_luo_chen_phi(corr, retention)
    phi_b = lu_luo_chen_phi(corr if corr_b is None else corr_b,
                            retention if retention_b is None else retention_b)
    return llc_power_from_phi(n_total, phi_a, phi_b, sigma=sigma, delta=delta,
                              alpha=alpha, lam=lam, two_sided=two_sided)


def llc_solve(target: float, f, lo: float, hi: float) -> float:
    """Root of ``f(x) = target`` on ``[lo, hi]`` (brentq, xtol 1e-14)."""
    return float(optimize.brentq(lambda x: f(x) - target, lo, hi, xtol=1e-14, rtol=1e-14))


def analytic_ancova_power(n_per_arm: int, effect: float, sd: float, rho: float,
                          alpha: float = 0.05, n_covariates: int = 1) -> float:
    """Exact power of the two-sided ANCOVA t-test with equal arms, one post-baseline visit.

    ``sd`` the SD of the outcome, ``rho`` its correlation with the baseline covariate;
    residual SD ``sd sqrt(1 - rho^2)``, ``ncp = effect / (sd sqrt(1 - rho^2) sqrt(2/n))``,
    ``df = 2n - 2 - n_covariates`` (2n - 3 with baseline). Both tails counted. Conditional
    on covariate balance (the baseline means equal in the two arms), which is the
    large-sample and the usual planning approximation.
    """
    n = np.asarray(n_per_arm, dtype=float)
    df = 2.0 * n - 2.0 - n_covariates
    ncp = effect / (sd * np.sqrt(1.0 - rho ** 2) * np.sqrt(2.0 / n))
    crit = stats.t.isf(alpha / 2, df)
    # lower tail P(T < -crit | ncp) written as P(T > crit | -ncp): scipy 1.17's
    # nct.cdf returns NaN far in the lower tail at large ncp (e.g. df 598, ncp 12.2),
    # its sf does not
    power = stats.nct.sf(crit, df, ncp) + stats.nct.sf(crit, df, -ncp)
    return float(power) if np.ndim(power) == 0 else power


def ttest_power(n_per_arm: int, effect: float, sd: float = 1.0, alpha: float = 0.05) -> float:
    """Two-sample t-test power, equal arms (``analytic_ancova_power`` with rho 0, no covariate)."""
    return analytic_ancova_power(n_per_arm, effect, sd, 0.0, alpha, n_covariates=0)


def condition_on_baseline(cov) -> tuple[np.ndarray, float]:
    """Correlation and last-visit SD of the post-baseline outcomes given baseline.

    ``cov`` is the (J + 1) x (J + 1) covariance of (baseline, visit 1, ..., visit J).
    For an MMRM adjusting for baseline, Lu-Luo-Chen's ``corr`` and ``sigma`` are those of
    the conditional covariance ``S_yy - S_yb S_bb^{-1} S_by`` (Schur complement).

    Examples
    --------
    >>> corr, sigma = condition_on_baseline([[4.0, 2.4], [2.4, 4.0]])   # sd 2, rho 0.6
    >>> round(sigma, 12)                                                # 2 sqrt(1 - 0.36)
    1.6
    """
    S = np.asarray(cov, dtype=float)
    cond = S[1:, 1:] - np.outer(S[1:, 0], S[0, 1:]) / S[0, 0]
    sd = np.sqrt(np.diag(cond))
    return cond / np.outer(sd, sd), float(sd[-1])


# ---- responders and time to relief (issue 15, endpoints): exact power by enumeration
def responder_probabilities(effect=-10.0, sd=20.0, rho=0.5, dropout=0.2, mcid=12.0):
    """P(responder) per arm at the last visit: normal change, MCAR, missing = no."""
    sd_change = np.sqrt(2 * sd**2 - 2 * rho * sd**2)
    keep = 1.0 - dropout
    return (stats.norm.cdf((-mcid - effect) / sd_change) * keep,   # treated
            stats.norm.cdf(-mcid / sd_change) * keep)              # control


def exact_two_binomial_power(n, p1, p0, test="fisher", alpha=0.05):
    """Power by full enumeration of the two binomial counts (scipy's tests per table)."""
    x = np.arange(n + 1)
    reject = np.zeros((n + 1, n + 1), bool)
    for a in x:
        for b in x:
            tab = [[a, n - a], [b, n - b]]
            if test == "fisher":
                p = stats.fisher_exact(tab)[1]
            elif 0 < a + b < 2 * n:
                p = stats.chi2_contingency(tab, correction=False)[1]
            else:
                p = np.nan          # no test when nobody or everybody responds
            reject[a, b] = p < alpha
    weight = stats.binom.pmf(x, n, p1)[:, None] * stats.binom.pmf(x, n, p0)[None, :]
    return float((weight * reject).sum())


def exact_relief_power_one_visit(n, p1, p0, alpha=0.05):
    """One post-baseline visit, no dropout, relief not confirmed: each patient's interval
    is (0, t1] or (t1, inf), two rank scores, and the permutation-CLT statistic of any
    two-valued scores is that of the relief indicator, z^2 = (N - 1) / N x Pearson's
    chi-square (N patients). Its power by full enumeration of the two binomials."""
    N = 2 * n
    x = np.arange(n + 1)
    a, b = np.meshgrid(x, x, indexing="ij")
    k = a + b
    with np.errstate(divide="ignore", invalid="ignore"):  # k = 0 or N: no test (NaN)
        pearson = N * (a * (n - b) - b * (n - a)) ** 2 / (n * n * k * (N - k))
        reject = stats.chi2.sf((N - 1) / N * pearson, 1) < alpha   # NaN: no test
    weight = stats.binom.pmf(x, n, p1)[:, None] * stats.binom.pmf(x, n, p0)[None, :]
    return float((weight * reject).sum())
