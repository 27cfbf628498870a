"""Write ``trial.csv``: the simulated two-arm trial that the MMRM engine is checked on.

400 patients, two arms (200 each), a baseline first-step pain covariate, six
post-baseline visits, an unstructured true covariance whose variance grows over
visits, monotone dropout in about a quarter of patients and a few intermittent
missed visits. Only observed rows are written (one row per patient and visit
attended), so R's ``gls``/``lmer`` and the Python engine see exactly the same data.
Values are rounded (y to 0.01 mm, baseline to 0.1 mm) so the CSV is read to the
same doubles by R and Python.

Run from the repository root: ``python tests/reference/mmrm_engine/make_trial_data.py``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

SEED = 20240611
N_PATIENTS = 400
N_VISITS = 6


def simulate(seed: int = SEED) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n, t = N_PATIENTS, N_VISITS
    arm = np.repeat([0, 1], n // 2)
    rng.shuffle(arm)
    base = np.round(rng.normal(62.0, 12.0, n), 1)
    visit = np.arange(1, t + 1)
    # mean: both arms improve; dry needling improves faster (about -14 mm at visit 6)
    mu = (
        12.0
        + 0.75 * base[:, None]
        - 3.0 * visit[None, :]
        - arm[:, None] * (2.4 * visit[None, :] - 0.2)
    )
    # unstructured covariance: SDs increase, correlations decay irregularly
    sd = np.array([8.0, 9.0, 10.5, 11.5, 13.0, 14.5])
    lag = np.abs(visit[:, None] - visit[None, :])
    corr = 0.35 + 0.55 * 0.8**lag
    corr[1, 2] = corr[2, 1] = 0.62  # break the Toeplitz pattern
    corr[0, 5] = corr[5, 0] = 0.48
    np.fill_diagonal(corr, 1.0)
    sigma = corr * np.outer(sd, sd)
    assert np.all(np.linalg.eigvalsh(sigma) > 0)
    y = mu + rng.multivariate_normal(np.zeros(t), sigma, size=n)
    observed = np.ones((n, t), dtype=bool)
    # monotone dropout: ~25% of patients leave after visit 1..5 (more likely when
    # the last pain score was high: missing at random given the observed data)
    p_drop = 0.045 + 0.002 * np.clip(y - 50.0, 0.0, None)
    for i in range(n):
        for j in range(1, t):
            if rng.random() < p_drop[i, j - 1]:
                observed[i, j:] = False
                break
    # a few intermittent missed visits (visits 2..5 among those still in the study)
    miss = (rng.random((n, t)) < 0.03) & observed
    miss[:, [0, t - 1]] = False
    observed &= ~miss
    rows = []
    for i in range(n):
        for j in range(t):
            if observed[i, j]:
                rows.append(
                    {
                        "id": f"P{i + 1:03d}",
                        "arm": "dry_needling" if arm[i] else "control",
                        "base": base[i],
                        "visit": j + 1,
                        "y": round(float(y[i, j]), 2),
                    }
                )
    return pd.DataFrame(rows)


if __name__ == "__main__":
    df = simulate()
    out = Path(__file__).with_name("trial.csv")
    df.to_csv(out, index=False)
    last = df.groupby("id")["visit"].max()
    print(f"{len(df)} rows, {df['id'].nunique()} patients, "
          f"{(last < N_VISITS).mean():.1%} dropped out, wrote {out}")
