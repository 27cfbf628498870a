"""Coverage and bias of reference-based multiple imputation under MCAR, MAR and MNAR dropout.

    python benchmarks/coverage_reference_based.py                          # 200 trials per cell
    python benchmarks/coverage_reference_based.py --trials 4 --n 42 --dropout-mechanism mar
    python benchmarks/coverage_reference_based.py --trials 150 --n 42 --n-jobs 2 \\
        --dropout-mechanism mar mnar --out rb.csv          # the run in benchmarks/README.md

Each trial is drawn by the package's simulator, ``dno.simulate_cohort(2 n, seed=...,
dropout=--dropout-fraction, dropout_mechanism=..., record_scales="mm")`` (``n`` patients
per arm, ``--n``, default 42 as in Cotchett et al. 2014, and 100; baseline, six weekly
sessions and a week-12 follow-up, visits 0..7; monotone dropout with a per-visit
logistic hazard on the last observed first-step pain (MAR), on the current, unrecorded
one (MNAR) or constant (MCAR), ``dryneedle_outcomes/simulate/dropout.py``). Nothing is
mapped or rescaled: the simulator's values are already on the 0-100 mm scale (the
affine map of ``coverage_trajectory.py`` is only needed for its MVN cells).

Each trial is analysed by ``dno.reference_based(cohort, "first_step_pain", method=m,
reference_arm="sham", approach="conditional_mean", variance="jackknife")`` for ``m`` in
``mar``, ``jump_to_reference`` (J2R), ``copy_reference`` (CR) and
``copy_increments_from_reference`` (CIR), and (unless ``--bayes-samples 0``) by
``approach="approximate_bayes", variance="rubin"`` with ``--bayes-samples`` imputations
for ``mar`` and J2R. No intercurrent-events table is given, so the function's default
rule applies: a run of missing values up to the last visit is a discontinuation from
its first visit; isolated missed visits (2% per visit in the simulator) are imputed
under MAR. The visit-6 difference (dry needling minus sham, the last session) is read.

Two truths per cell:

* ``itt``: the simulator's ``truth["arm_difference"]`` at visit 6, **-14.4 mm**: the
  intention-to-treat (treatment-policy) difference. In the simulator a dropout's pain
  goes on following the patient's own arm (dropping out changes what is recorded, not
  the pain), so this is also the hypothetical "had they stayed" estimand, the target of
  MAR imputation. It is the latent (unclipped) difference: the simulator clips scores at
  0 mm, which moves the recorded visit-6 difference towards 0 by about 0.5 mm (the
  ``own`` truth of ``mar`` below measures it), so expect a small positive bias in every
  cell.
* ``own``: the truth of each method's own estimand on the recorded scale. The
  simulator's truth function has no reference-based estimand, so it is computed here by
  a large Monte Carlo run of the same generative model (``--truth-patients``, default
  400,000): the same seed drawn twice, with ``dropout=0`` (every value, as recorded:
  the simulator draws pain before dropout, so both runs have identical pain) and with
  the cell's dropout (who drops out, when); values withheld by an adverse-event
  withdrawal in the ``dropout=0`` run, which is not a random draw of pain, are missing
  there (left out of the complete cases, below). The imputation model's population
  parameters (mean per arm and visit, baseline slope per visit, covariance over visits
  1..7) are the least-squares values on the complete data; each patient's missing
  values (as the trial would miss them) are replaced by their conditional mean under
  the method's assumption (Carpenter, Roger & Kenward 2013, J Biopharm Stat 23:1352-71:
  J2R, the reference arm's mean from the discontinuation on; CR, the reference mean at
  every visit; CIR, the reference arm's increments from the last on-treatment mean),
  given the observed values and those population parameters, with discontinuation
  defined by the function's rule above; the truth is the ANCOVA difference at visit 6 on
  that completed population. For ``mar`` the own truth is the full-data ANCOVA
  difference (the recorded-scale ITT, the hypothetical estimand MAR imputation targets);
  the MAR-completed population (``mar_completed`` in the truth table) is a check of this
  machinery: under MCAR and MAR dropout it must reproduce the full-data value (up to
  the non-normality of clipped scores), under MNAR it shows the bias of MAR imputation
  that no sample size removes. This is the "de jure" estimand each reference-based analysis
  estimates; it depends on the dropout mechanism (who drops out, with which history).
  Its Monte Carlo SE (the OLS SE of the completed-population ANCOVA) is printed; it is
  about 0.04 mm at 400,000 patients, negligible against a trial's SE of 4-5 mm.

Printed per mechanism x n x analysis: coverage of the 95% CI of each truth (with its
Monte Carlo SE ``sqrt(c (1 - c) / trials)``), bias against each truth (mean estimate
minus truth, MC SE ``SD / sqrt(trials)``), the mean SE against the empirical SD of the
estimates, and the analyses that raised a warning or did not converge.

What the literature predicts (checked in benchmarks/README.md against the numbers):
conditional mean imputation with the jackknife targets the repeated-sampling variance of
the reference-based estimator, so it covers close to 95% for its own ("de jure")
estimand (Wolbers et al. 2022, Pharm Stat 21:1246-57; Bartlett 2023, Stat Biopharm Res
15:178-86); Rubin's rules after J2R give the "information-anchored" variance, larger
than the estimator's repeated-sampling variance, so J2R's Rubin CI over-covers its own
estimand (Cro, Carpenter & Kenward 2019, JRSS A 182:623-45); MAR imputation covers
about 95% of the ITT truth under MAR; under MNAR with worse pain after dropout the MAR
analysis is biased, and J2R / CR / CIR move the estimate towards 0.

The trials of a cell are seeded from ``SeedSequence([seed, mechanism, n])`` (mechanism
index in ``MECHANISMS``), so a cell's numbers do not depend on ``--n-jobs`` or on which
other cells run; the truths from ``SeedSequence([seed, 99, mechanism])``.
"""

from __future__ import annotations

import argparse
import os
import time
import warnings
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import pandas as pd

import dryneedle_outcomes as dno
from dryneedle_outcomes.simulate import simulate_tables

#: append only: the index seeds a cell
MECHANISMS = ("mcar", "mar", "mnar")
METHODS = ("mar", "jump_to_reference", "copy_reference", "copy_increments_from_reference")
SHORT = {"mar": "MAR", "jump_to_reference": "J2R", "copy_reference": "CR",
         "copy_increments_from_reference": "CIR"}
BAYES_METHODS = ("mar", "jump_to_reference")
VISIT = 6
ARMS = ("dry_needling", "sham")


# ---- the truths ----------------------------------------------------------------------

def _wide(tables, ids: np.ndarray) -> np.ndarray:
    """First-step pain, patients x visits 0..7 (NaN where not recorded)."""
    return (tables.assessments.pivot(index="patient_id", columns="visit",
                                     values="first_step_pain")
            .reindex(index=ids, columns=range(8)).to_numpy(float))


def _ancova(y: np.ndarray, dn: np.ndarray, base: np.ndarray) -> tuple[float, float]:
    """Arm coefficient and its OLS SE of ``y ~ 1 + arm + baseline``."""
    X = np.column_stack([np.ones_like(base), dn, base])
    coef, *_ = np.linalg.lstsq(X, y, rcond=None)
    resid = y - X @ coef
    s2 = resid @ resid / (len(y) - 3)
    return float(coef[1]), float(np.sqrt(s2 * np.linalg.inv(X.T @ X)[1, 1]))


def strategy_means(method: str, mu_own: np.ndarray, mu_ref: np.ndarray, ice: np.ndarray,
                   switch: np.ndarray) -> np.ndarray:
    """Marginal means (patients x visits) under ``method`` for the patients in
    ``switch`` (discontinued, non-reference arm), ``mu_own`` for the others."""
    T = mu_own.shape[1]
    after = np.arange(T)[None, :] >= ice[:, None]
    if method == "jump_to_reference":
        mu = np.where(after, mu_ref, mu_own)
    elif method == "copy_reference":
        mu = mu_ref
    elif method == "copy_increments_from_reference":
        k = np.clip(ice - 1, 0, T - 1)[:, None]
        carried = (np.take_along_axis(mu_own, k, 1) - np.take_along_axis(mu_ref, k, 1))
        mu = np.where(after, mu_ref + np.where(ice[:, None] > 0, carried, 0.0), mu_own)
    else:
        mu = mu_own
    return np.where(switch[:, None], mu, mu_own)


def estimand_truths(mechanism: str, fraction: float, n_patients: int,
                    seed: int) -> pd.DataFrame:
    """Visit-6 truth (and its MC SE) of each method's own estimand (module docstring)."""
    s = int(np.random.SeedSequence([seed, 99, MECHANISMS.index(mechanism)])
            .generate_state(1)[0])
    full = simulate_tables(n_patients, seed=s, dropout=0.0, record_scales="mm")
    drop = simulate_tables(n_patients, seed=s, dropout=fraction,
                           dropout_mechanism=mechanism, record_scales="mm")
    ids = full.patients["patient_id"].to_numpy()
    dn = (full.patients["arm"].astype(str) == ARMS[0]).to_numpy(float)
    Y, Yd = _wide(full, ids), _wide(drop, ids)
    # identical where both are recorded; an adverse-event withdrawal (which ends
    # attendance) can fall differently in the two runs, so fill from the dropout run
    Y = np.where(np.isnan(Y), Yd, Y)
    base, yf = Y[:, 0], Y[:, 1:]
    seen = ~np.isnan(Yd[:, 1:])
    T = yf.shape[1]
    # population parameters of the imputation model: complete cases of the full data
    # (rows with an isolated missed visit, missing completely at random, left out)
    cc = ~np.isnan(yf).any(axis=1)
    X = np.column_stack([dn, 1.0 - dn, base])
    coef, *_ = np.linalg.lstsq(X[cc], yf[cc], rcond=None)
    resid = yf[cc] - X[cc] @ coef
    Sigma = resid.T @ resid / (cc.sum() - X.shape[1])
    mu_own = X @ coef
    mu_ref = np.column_stack([np.zeros_like(dn), np.ones_like(dn), base]) @ coef
    # discontinuation: the first visit of a run of missing values up to the last visit
    last_seen = np.where(seen.any(axis=1), T - 1 - np.argmax(seen[:, ::-1], axis=1), -1)
    ice = last_seen + 1
    switch = (dn == 1.0) & (ice < T)
    patterns, which = np.unique(~seen, axis=0, return_inverse=True)
    which = which.ravel()
    rows = []
    for method in METHODS:
        mu = strategy_means(method, mu_own, mu_ref, ice, switch)
        yc = np.where(seen, yf, np.nan)
        for p, miss in enumerate(patterns):   # missingness patterns, not patients
            if not miss.any():
                continue
            i = which == p
            o, m = ~miss, miss
            fill = mu[np.ix_(i, m)]
            if o.any():
                K = np.linalg.solve(Sigma[np.ix_(o, o)], Sigma[np.ix_(o, m)])
                fill = fill + (yc[np.ix_(i, o)] - mu[np.ix_(i, o)]) @ K
            yc[np.ix_(i, m)] = fill
        est, se = _ancova(yc[:, VISIT - 1], dn, base)
        rows.append({"mechanism": mechanism,
                     "method": "mar_completed" if method == "mar" else method,
                     "own_truth": est, "own_truth_mc_se": se})
    v6 = ~np.isnan(yf[:, VISIT - 1])   # isolated misses at visit 6 (MCAR) left out
    est, se = _ancova(yf[v6, VISIT - 1], dn[v6], base[v6])
    rows.append({"mechanism": mechanism, "method": "mar", "own_truth": est,
                 "own_truth_mc_se": se})
    return pd.DataFrame(rows)


# ---- the trials ----------------------------------------------------------------------

def one_trial(args: tuple) -> list[dict]:
    """Analyse one simulated trial; a row per analysis."""
    seed, n_per_arm, mechanism, fraction, bayes_samples, own = args
    cohort = dno.simulate_cohort(2 * n_per_arm, seed=seed, dropout=fraction,
                                 dropout_mechanism=mechanism, record_scales="mm")
    truth = pd.DataFrame(cohort.provenance["simulation"]["arm_difference"])
    itt = float(truth.loc[truth["visit"] == VISIT, "estimate"].iloc[0])
    analyses = [(m, "conditional_mean", "jackknife", None) for m in METHODS]
    if bayes_samples:
        analyses += [(m, "approximate_bayes", "rubin", bayes_samples) for m in BAYES_METHODS]
    rows = []
    for method, approach, variance, n_samples in analyses:
        t0 = time.perf_counter()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            res = dno.reference_based(cohort, "first_step_pain", method=method,
                                      reference_arm="sham", approach=approach,
                                      variance=variance, n_samples=n_samples, seed=seed,
                                      n_jobs=1, progress=False)
        d = res.arm_difference.set_index("visit").loc[VISIT]
        rows.append({
            "mechanism": mechanism, "n_per_arm": n_per_arm, "method": method,
            "approach": approach, "estimate": d["estimate"], "std_error": d["std_error"],
            "ci_lower": d["ci_lower"], "ci_upper": d["ci_upper"], "itt_truth": itt,
            "own_truth": own[method], "converged": bool(res.converged),
            "n_warnings": len(caught) + len(res.warnings),
            "dropouts": int(len(res.intercurrent)), "seconds": time.perf_counter() - t0,
        })
    return rows


def summarise(res: pd.DataFrame) -> pd.DataFrame:
    """One row per mechanism x n x analysis (module docstring)."""
    def cell(g: pd.DataFrame) -> pd.Series:
        k = len(g)
        out = {"trials": k}
        for name in ("itt", "own"):
            truth = g[f"{name}_truth"]
            c = ((g["ci_lower"] <= truth) & (truth <= g["ci_upper"])).mean()
            err = g["estimate"] - truth
            out |= {f"cov_{name}": 100 * c, f"mcse_{name}": 100 * np.sqrt(c * (1 - c) / k),
                    f"bias_{name}": err.mean(), f"bmcse_{name}": err.std(ddof=1) / np.sqrt(k)}
        out |= {"own_truth": g["own_truth"].iloc[0], "mean_se": g["std_error"].mean(),
                "sd_est": g["estimate"].std(ddof=1),
                "warned": int((g["n_warnings"] > 0).sum()),
                "not_conv": int((~g["converged"].astype(bool)).sum()),
                "sec": g["seconds"].mean()}
        return pd.Series(out)

    keys = ["mechanism", "n_per_arm", "approach", "method"]
    out = res.groupby(keys, sort=False)[list(res.columns.drop(keys))].apply(cell)
    out = out.reset_index().astype({"trials": int, "warned": int, "not_conv": int})
    out["approach"] = out["approach"].map({"conditional_mean": "CM-jack",
                                           "approximate_bayes": "AB-Rubin"})
    out["method"] = out["method"].map(SHORT)
    return out


def run_cell(mechanism: str, n: int, trials: int, seed: int, n_jobs: int, own: dict,
             fraction: float, bayes_samples: int, out: str | None = None) -> pd.DataFrame:
    """All trials of one mechanism x n cell, seeded by (seed, mechanism, n) alone; with
    ``out``, each trial's rows are appended to that CSV as soon as they are known."""
    ss = np.random.SeedSequence([seed, MECHANISMS.index(mechanism), n])
    tasks = [(int(s.generate_state(1)[0]), n, mechanism, fraction, bayes_samples, own)
             for s in ss.spawn(trials)]
    t0 = time.perf_counter()
    rows: list[dict] = []

    def done(i: int, new: list[dict]) -> None:
        rows.extend(new)
        if out:
            header = not os.path.exists(out) or os.path.getsize(out) == 0
            pd.DataFrame(new).to_csv(out, mode="a", header=header, index=False)
        if (i + 1) % 25 == 0:
            print(f"{mechanism} n={n}: {i + 1}/{trials} trials, "
                  f"{time.perf_counter() - t0:.0f} s", flush=True)

    if n_jobs > 1:
        with ProcessPoolExecutor(n_jobs) as ex:
            for i, r in enumerate(ex.map(one_trial, tasks)):
                done(i, r)
    else:
        for i, task in enumerate(tasks):
            done(i, one_trial(task))
    return pd.DataFrame(rows)


def _print(table: pd.DataFrame) -> None:
    print(table.to_string(index=False, float_format=lambda x: f"{x:.2f}"), flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trials", type=int, default=200)
    ap.add_argument("--n", type=int, nargs="+", default=[42, 100], help="patients per arm")
    ap.add_argument("--dropout-mechanism", nargs="+", choices=MECHANISMS,
                    default=list(MECHANISMS))
    ap.add_argument("--dropout-fraction", type=float, default=0.25,
                    help="expected fraction of patients who drop out")
    ap.add_argument("--bayes-samples", type=int, default=20,
                    help="imputations of the approximate Bayes analyses (0: skip them)")
    ap.add_argument("--truth-patients", type=int, default=400_000)
    ap.add_argument("--n-jobs", type=int, default=1)
    ap.add_argument("--seed", type=int, default=2014)
    ap.add_argument("--out", help="also append the per-trial results to this CSV")
    ap.add_argument("--summarise", metavar="CSV", help="only print the table of a CSV "
                                                       "written by --out")
    args = ap.parse_args()
    if args.summarise:
        _print(summarise(pd.read_csv(args.summarise)))
        return
    t0 = time.perf_counter()
    truths = pd.concat([estimand_truths(m, args.dropout_fraction, args.truth_patients,
                                        args.seed) for m in args.dropout_mechanism])
    print(f"own-estimand truths at visit {VISIT} ({args.truth_patients:,} simulated "
          f"patients, {time.perf_counter() - t0:.0f} s):")
    _print(truths)
    cells = []
    for mechanism in args.dropout_mechanism:
        own = truths[truths["mechanism"] == mechanism].set_index("method")["own_truth"]
        for n in args.n:
            res = run_cell(mechanism, n, args.trials, args.seed, args.n_jobs,
                           own.to_dict(), args.dropout_fraction, args.bayes_samples,
                           args.out)
            cells.append(res)
            _print(summarise(res))
    print()
    _print(summarise(pd.concat(cells, ignore_index=True)))
    print(f"\n{len(cells)} cell(s) in {time.perf_counter() - t0:.0f} s; ITT truth "
          f"(simulator, latent) at visit {VISIT}: {cells[0]['itt_truth'].iloc[0]} mm")


if __name__ == "__main__":
    main()
