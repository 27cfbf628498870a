"""Write tied.csv: a seeded, heavily tied two-arm time-to-event data set.

Run from the repo root: ``python tests/reference/survival_km/simulate_tied_survival.py``.
~300 subjects, event times in whole days 7..84 (weekly-ish visits make heavy ties),
administrative censoring at day 84 and some drop-out; also a session scale (1..6),
integer case weights and non-integer case weights, and a 3-level site for strata.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

OUT = Path(__file__).with_name("tied.csv")


def main() -> None:
    rng = np.random.default_rng(20240611)
    n = 300
    arm = np.repeat(["control", "needling"], n // 2)
    site = rng.choice(["A", "B", "C"], size=n)
    rate = np.where(arm == "needling", 1 / 35, 1 / 55)
    latent = 7 + np.floor(rng.exponential(1 / rate))
    dropout = 7 + np.floor(rng.uniform(0, 200, size=n))
    time = np.minimum.reduce([latent, dropout, np.full(n, 84.0)])
    event = ((latent <= dropout) & (latent <= 84)).astype(int)
    session = np.clip(np.ceil(time / 14), 1, 6).astype(int)
    wt_int = rng.integers(1, 4, size=n)
    wt_frac = np.round(rng.uniform(0.5, 2.0, size=n), 2)
    lines = ["id,arm,site,time,event,session,wt_int,wt_frac"]
    for i in range(n):
        lines.append(f"{i + 1},{arm[i]},{site[i]},{int(time[i])},{event[i]},{session[i]},"
                     f"{wt_int[i]},{wt_frac[i]:.2f}")
    OUT.write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
