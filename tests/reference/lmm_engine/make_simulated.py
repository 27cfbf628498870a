"""Write the simulated datasets that ``make_reference.R`` fits with lme4.

Run from the repository root (the CSVs are committed; rerunning reproduces them):

    python tests/reference/lmm_engine/make_simulated.py

``simulated.csv``
    300 patients, two arms (``control``/``needling``), up to 7 visits at weeks
    ``t`` (0..6 plus jitter), correlated random intercept and slope, monotone dropout
    after the second visit with a probability that rises with the last observed pain
    (missing at random): 2 to 7 observations per patient.
``simulated_singular.csv``
    Same design, 80 patients, no slope variance at all; lme4 and ``fit_lmm`` both end
    on the boundary (``isSingular`` TRUE: intercept and slope perfectly correlated).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).parent


def simulate(n_groups: int, seed: int, *, slope_sd: float = 1.5, corr: float = -0.3,
             intercept_sd: float = 9.0, resid_sd: float = 6.0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n_visits = 7
    arm = rng.integers(0, 2, n_groups)
    cov = np.array([[intercept_sd**2, corr * intercept_sd * slope_sd],
                    [corr * intercept_sd * slope_sd, slope_sd**2]])
    u = rng.multivariate_normal(np.zeros(2), cov, size=n_groups, method="eigh")
    rows = []
    for i in range(n_groups):
        for v in range(n_visits):
            t = round(v + rng.uniform(-0.15, 0.15), 3) if v > 0 else 0.0
            mu = 62.0 - 2.5 * t - 2.0 * arm[i] * t + u[i, 0] + u[i, 1] * t
            y = round(mu + rng.normal(0.0, resid_sd), 4)
            rows.append({"g": f"p{i + 1:03d}", "arm": ("control", "needling")[arm[i]],
                         "t": t, "y": y})
            # dropout after at least two visits, more likely when pain is high (MAR)
            if v >= 1:
                p_drop = 1.0 / (1.0 + np.exp(-(-2.0 + 0.05 * (y - 55.0))))
                if rng.uniform() < p_drop:
                    break
    return pd.DataFrame(rows)


def main() -> None:
    sim = simulate(300, seed=20240611)
    sim.to_csv(HERE / "simulated.csv", index=False)
    sing = simulate(80, seed=2, slope_sd=0.0, corr=0.0)
    sing.to_csv(HERE / "simulated_singular.csv", index=False)


if __name__ == "__main__":
    main()
