"""Coverage and bias of the MMRM's primary contrast under MAR and MCAR dropout (simulation).

    python benchmarks/coverage_trajectory.py                       # 1,000 trials per cell
    python benchmarks/coverage_trajectory.py --trials 50 --n-jobs 2  # a quick check
    python benchmarks/coverage_trajectory.py --dropout-mechanism mcar mar mnar --n 42

Each trial is a two-arm trial of ``n`` patients per arm (``--n``, default 30 and 200)
with a baseline and six post-baseline visits, drawn from a multivariate normal model
whose truth is known exactly:

    y_it = mu_arm(t) + gamma (b_i - 70) + e_it,   b_i ~ N(70, 15^2),   e_i ~ N(0, Sigma_e)

``mu_sham(t) = 68 - 12 (1 - 0.6^t)``, ``mu_dn(t) = mu_sham(t) - 14.4 (1 - 0.6^t) /
(1 - 0.6^6)``, ``gamma = 0.5`` (the same slope on baseline at every visit, so the model
with and without a baseline-by-visit interaction is correctly specified), and
``Sigma_e`` = SDs 14..18 rising over the visits times the correlation
``0.3 + 0.6 * 0.7^|s - t|`` (neither CS, AR(1) nor Toeplitz: only the unstructured
model is right). **Truth: the difference dry needling minus sham at visit 6 is -14.4
mm** (Cotchett et al. 2014's estimate at six weeks), conditional on baseline and
marginally.

Dropout is monotone (once missing, missing at every later visit):

* ``MAR``: at visit t >= 1 a patient still in drops out with probability
  ``expit(-3.0 + 0.06 (y_{t-1} - 60))``, ``y_{t-1}`` the last observed value (baseline
  at visit 1): higher pain, more dropout, so the sham arm loses more patients
  (about 35% against 25% by visit 6). The observed last-visit means are biased (the
  completers are the better-off); an MMRM that uses every observed value is unbiased
  under MAR (Mallinckrodt et al., Drug Inf J 2008;42:303-319).
* ``MCAR``: a constant 4.5% per visit (about 24% in each arm by visit 6), for contrast.

With ``--dropout-mechanism mcar mar mnar`` the trials are drawn instead by the package's
own simulator, ``dno.simulate_cohort(2 n, dropout=--dropout-fraction,
dropout_mechanism=..., record_scales="mm")`` (its calibrated variance components, a
per-visit logistic dropout hazard on the last observed pain (MAR) or on the current,
unrecorded pain (MNAR), 0.04 per mm, intercept calibrated to the expected fraction;
``dryneedle_outcomes/simulate/dropout.py``); the truth is the simulator's
``truth["arm_difference"]`` at visit 6 (-14.4 mm, intention to treat). Such a cell is
labelled ``sim-mcar``, ``sim-mar`` or ``sim-mnar``. Under MNAR the MMRM is expected to
be biased (the dropouts had more pain than the model predicts from their observed
values): that cell shows by how much. The simulator clips scores at 0 mm, which moves
the visit-6 difference towards 0 by about 0.5 mm in expectation (a floor effect of the
real-needling arm), so expect a small positive bias in every ``sim-`` cell.

Each trial is fitted once by ``dno.fit_trajectory(cohort, model="mmrm",
covariance="unstructured", df="kenward_roger")`` (``y ~ baseline + arm * factor(visit)``,
REML); the 95% CI of the visit-6 difference is read with Kenward-Roger df (the fit's
``comparison``) and, from the same fit, with Satterthwaite df and the model-based SE.
The values are mapped into 1..99 by one affine map per trial (the outcome's 0-100 mm
range is checked on load; REML, KR and Satterthwaite are affine-equivariant, so the
coverage is exactly that of the untransformed data), and estimates are mapped back.

Printed per dropout x n x df: coverage (with its Monte Carlo SE
``sqrt(c (1 - c) / trials)``), bias (mean estimate minus truth, with MC SE), the mean
SE against the empirical SD of the estimates, the mean df, and the fits that did not
converge (their intervals count as misses). Issue 11's target: coverage within
93.5-96.5% for both n under MAR with KR df. The trials of a cell are seeded from
``SeedSequence([seed, dropout, n])``, so a cell's numbers do not depend on ``--n-jobs``
or on which other cells run (``--n 200 --dropout MAR`` reproduces that cell of a full
run).
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
from dryneedle_outcomes.models.design import design_matrix, reference_grid

VISITS = np.arange(1, 7)
EFFECT = -14.4
GAMMA = 0.5
BASE_MEAN, BASE_SD = 70.0, 15.0
ARMS = ("dry_needling", "sham")
#: dropout cells: the MVN model's two, then the simulator's three (append only: the index
#: seeds a cell)
CELLS = ("MAR", "MCAR", "sim-mcar", "sim-mar", "sim-mnar")


def _sigma_e() -> np.ndarray:
    sd = np.linspace(14.0, 18.0, len(VISITS))
    lag = np.abs(np.subtract.outer(VISITS, VISITS))
    return np.outer(sd, sd) * (0.3 + 0.6 * 0.7**lag)


def _means() -> tuple[np.ndarray, np.ndarray]:
    shape = 1.0 - 0.6**VISITS
    sham = 68.0 - 12.0 * shape
    return sham + EFFECT * shape / shape[-1], sham


def simulate_trial(rng: np.random.Generator, n_per_arm: int, dropout: str):
    """One trial: (assessments, patients, scale) with values mapped into 1..99.

    ``scale`` is the factor of the affine map (an estimate in mapped units divided by it
    is in mm).
    """
    n = 2 * n_per_arm
    arm = np.repeat(np.array(ARMS), n_per_arm)
    mu_dn, mu_sham = _means()
    mu = np.where((arm == ARMS[0])[:, None], mu_dn, mu_sham)
    b = rng.normal(BASE_MEAN, BASE_SD, n)
    e = rng.multivariate_normal(np.zeros(len(VISITS)), _sigma_e(), size=n)
    y = np.column_stack([b, mu + GAMMA * (b - BASE_MEAN)[:, None] + e])  # (n, 7)
    u = rng.random((n, len(VISITS)))
    if dropout == "MAR":
        p = 1.0 / (1.0 + np.exp(-(-3.0 + 0.06 * (y[:, :-1] - 60.0))))
    else:
        p = np.full((n, len(VISITS)), 0.045)
    drop = u < p
    # first visit missing (7 = never): monotone, so the dropout hazard at visit t only
    # ever sees the value at t - 1 of a patient who is still in
    first = np.where(drop.any(axis=1), np.argmax(drop, axis=1) + 1, len(VISITS) + 1)
    keep = np.arange(len(VISITS) + 1)[None, :] < first[:, None]
    lo, hi = y[keep].min(), y[keep].max()
    scale = 98.0 / (hi - lo)
    ids = np.array([f"P{i:04d}" for i in range(n)])
    visit = np.tile(np.arange(len(VISITS) + 1), n)
    a = pd.DataFrame({"patient_id": np.repeat(ids, len(VISITS) + 1), "visit": visit,
                      "first_step_pain": 1.0 + scale * (y.ravel() - lo)})[keep.ravel()]
    return a, pd.DataFrame({"patient_id": ids, "arm": arm}), scale


def one_trial(args: tuple) -> list[dict]:
    """Fit one trial; a row per df method."""
    seed, n_per_arm, dropout, fraction = args
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        if dropout.startswith("sim-"):
            cohort = dno.simulate_cohort(2 * n_per_arm, seed=seed, dropout=fraction,
                                         dropout_mechanism=dropout[4:], record_scales="mm")
            scale = 1.0
        else:
            rng = np.random.default_rng(seed)
            a, p, scale = simulate_trial(rng, n_per_arm, dropout)
            cohort = dno.load_cohort(a, p)
        fit = dno.fit_trajectory(cohort, model="mmrm", covariance="unstructured",
                                 df="kenward_roger", adjust=("baseline",),
                                 reference_arm="sham")
    last = fit.comparison.set_index("visit").loc[VISITS[-1]]
    grid = reference_grid(fit.frame, [int(VISITS[-1])])
    L = design_matrix(fit.frame, grid, fit.model)[0]
    sat = fit.fit.contrast(L[1] - L[0], conf_level=0.95)
    rows = []
    for method, est, se, lo, hi, dof in (
            ("kenward_roger", last["estimate"], last["std_error"], last["ci_lower"],
             last["ci_upper"], last["df"]),
            ("satterthwaite", sat["estimate"][0], sat["std_error"][0], sat["ci_lower"][0],
             sat["ci_upper"][0], sat["df"][0])):
        rows.append({"dropout": dropout, "n_per_arm": n_per_arm, "df_method": method,
                     "estimate": est / scale, "std_error": se / scale,
                     "covered": bool(lo / scale <= EFFECT <= hi / scale), "df": dof,
                     "converged": bool(fit.converged), "n_warnings": len(caught)})
    return rows


def summarise(res: pd.DataFrame) -> pd.DataFrame:
    def cell(g: pd.DataFrame) -> pd.Series:
        k = len(g)
        c = g["covered"].mean()
        err = g["estimate"] - EFFECT
        return pd.Series({
            "trials": k, "coverage_pct": 100 * c,
            "mc_se_pct": 100 * np.sqrt(c * (1 - c) / k),
            "bias": err.mean(), "bias_mc_se": err.std(ddof=1) / np.sqrt(k),
            "mean_se": g["std_error"].mean(), "sd_estimate": g["estimate"].std(ddof=1),
            "mean_df": g["df"].mean(), "not_converged": int((~g["converged"]).sum()),
        })

    keys = ["dropout", "n_per_arm", "df_method"]
    out = res.groupby(keys, sort=False)[list(res.columns.drop(keys))].apply(cell)
    return out.reset_index().astype({"trials": int, "not_converged": int})


def run_cell(dropout: str, n: int, trials: int, seed: int, n_jobs: int,
             out: str | None = None, fraction: float = 0.25) -> pd.DataFrame:
    """All trials of one dropout x n cell; seeded by (seed, dropout, n) alone, so a cell
    gives the same numbers whichever other cells run and whatever ``n_jobs``. With
    ``out``, each trial's rows are appended to that CSV as soon as they are known (a run
    stopped early leaves the trials it finished)."""
    ss = np.random.SeedSequence([seed, CELLS.index(dropout), n])
    tasks = [(int(s.generate_state(1)[0]), n, dropout, fraction) for s in ss.spawn(trials)]
    t0 = time.perf_counter()
    rows: list[dict] = []

    def progress(i: int) -> None:
        if out:
            new = pd.DataFrame(rows[-2:])
            header = not os.path.exists(out) or os.path.getsize(out) == 0
            new.to_csv(out, mode="a", header=header, index=False)
        if (i + 1) % 100 == 0:
            print(f"{dropout} n={n}: {i + 1}/{trials} trials, "
                  f"{time.perf_counter() - t0:.0f} s", flush=True)

    if n_jobs > 1:
        with ProcessPoolExecutor(n_jobs) as ex:
            for i, r in enumerate(ex.map(one_trial, tasks, chunksize=4)):
                rows += r
                progress(i)
    else:
        for i, task in enumerate(tasks):
            rows += one_trial(task)
            progress(i)
    return pd.DataFrame(rows)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trials", type=int, default=1000)
    ap.add_argument("--n", type=int, nargs="+", default=[30, 200],
                    help="patients per arm")
    ap.add_argument("--dropout", nargs="+", default=["MAR", "MCAR"],
                    choices=["MAR", "MCAR"])
    ap.add_argument("--dropout-mechanism", nargs="+", choices=["mcar", "mar", "mnar"],
                    help="draw the trials with dno.simulate_cohort and this dropout "
                         "mechanism instead of the MVN model (replaces --dropout)")
    ap.add_argument("--dropout-fraction", type=float, default=0.25,
                    help="expected fraction of dropouts for --dropout-mechanism")
    ap.add_argument("--n-jobs", type=int, default=1)
    ap.add_argument("--seed", type=int, default=2014)
    ap.add_argument("--out", help="also append the per-trial results to this CSV, trial by "
                                  "trial (summarise a partial run with --summarise CSV)")
    ap.add_argument("--summarise", metavar="CSV", help="only print the table of a CSV "
                                                       "written by --out")
    args = ap.parse_args()
    if args.summarise:
        print(summarise(pd.read_csv(args.summarise)).to_string(
            index=False, float_format=lambda x: f"{x:.3f}"))
        return
    t0 = time.perf_counter()
    cells = []
    dropouts = ([f"sim-{m}" for m in args.dropout_mechanism] if args.dropout_mechanism
                else args.dropout)
    for dropout in dropouts:
        for n in args.n:
            res = run_cell(dropout, n, args.trials, args.seed, args.n_jobs, args.out,
                           args.dropout_fraction)
            cells.append(res)
            print(summarise(res).to_string(index=False,
                                           float_format=lambda x: f"{x:.3f}"), flush=True)
    table = summarise(pd.concat(cells, ignore_index=True))
    print()
    print(table.to_string(index=False, float_format=lambda x: f"{x:.3f}"))
    print(f"\ntruth: difference at visit {VISITS[-1]} = {EFFECT} mm; "
          f"{len(cells)} cell(s) in {time.perf_counter() - t0:.0f} s")
    print("target (issue 11): coverage within 93.5-96.5% for both n, MAR, Kenward-Roger")


if __name__ == "__main__":
    main()
