"""Write the simulated input CSVs for the Turnbull golden values (seeded, deterministic).

Run from the repository root: ``python tests/reference/survival_turnbull/make_turnbull_data.py``;
then ``Rscript tests/reference/survival_turnbull/make_reference.R``.
Right-censored observations are written with an empty ``upper`` (NA in R), as
``Surv(lower, upper, type = "interval2")`` expects.

- ``relief.csv``: time to relief in days for 300 subjects in two groups. Weibull event
  times (group B relieved sooner), visits on days 7, 14, ..., 84 each jittered by
  -1, 0 or +1 day, 8% chance of dropping out after each visit. ``lower`` is the day of
  the last visit without relief (0 when relief is seen at the first visit), ``upper``
  the day of the first visit with relief, empty when relief was never seen.
- ``soreness.csv``: post-needling soreness in hours, 90 patients with 1-5 sessions.
  No soreness at all gives an exact 0; some patients report the hour soreness ended
  (exact values such as 6 or 12); otherwise calls at 12, 24 and 48 hours give intervals
  (0, 12], (12, 24], (24, 48] or ongoing soreness (48, NA).
- ``hand.csv``: 12 hand-written observations with every kind and tied endpoints.
- ``km_only.csv``: exact and right-censored times only (the Kaplan-Meier case).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).parent


def relief(rng: np.random.Generator) -> pd.DataFrame:
    n = 300
    group = np.repeat(["A", "B"], n // 2)
    scale = np.where(group == "A", 40.0, 28.0)
    t = scale * rng.weibull(1.6, n)
    visits = np.arange(7, 85, 7)[None, :] + rng.integers(-1, 2, (n, visits_n := 12))
    stay = np.cumprod(rng.random((n, visits_n)) > 0.08, axis=1)
    stay[:, 0] = 1  # everyone attends the first visit
    attended = stay.astype(bool)
    relieved = attended & (visits >= t[:, None])
    any_relief = relieved.any(axis=1)
    first = np.argmax(relieved, axis=1)
    last_attended = attended.sum(axis=1) - 1
    lower = np.where(
        any_relief,
        np.where(first > 0, visits[np.arange(n), np.maximum(first - 1, 0)], 0),
        visits[np.arange(n), last_attended],
    )
    upper = np.where(any_relief, visits[np.arange(n), first], np.nan)
    return pd.DataFrame({"id": np.arange(1, n + 1), "group": group,
                         "lower": lower.astype(float), "upper": upper})


def soreness(rng: np.random.Generator) -> pd.DataFrame:
    n_patients = 90
    sessions = rng.integers(1, 6, n_patients)
    patient = np.repeat(np.arange(1, n_patients + 1), sessions)
    frailty = rng.gamma(2.0, 0.5, n_patients)[patient - 1]
    n = patient.size
    hours = rng.exponential(20.0 * frailty)
    none = rng.random(n) < 0.12
    reports_hour = rng.random(n) < 0.3
    calls = np.array([0.0, 12.0, 24.0, 48.0, np.inf])
    k = np.searchsorted(calls, hours, side="left")  # calls[k-1] < hours <= calls[k]
    lower = calls[k - 1]
    upper = calls[k]
    exact = reports_hour & (hours <= 48)
    rounded = np.maximum(np.round(hours[exact]), 1.0)
    lower[exact] = rounded
    upper[exact] = rounded
    lower[none] = 0.0
    upper[none] = 0.0
    upper[np.isinf(upper)] = np.nan
    session = np.concatenate([np.arange(1, s + 1) for s in sessions])
    return pd.DataFrame({"patient": patient, "session": session,
                         "lower": lower, "upper": upper})


def km_only(rng: np.random.Generator) -> pd.DataFrame:
    n = 60
    t = np.round(rng.exponential(30.0, n))
    c = np.round(rng.uniform(5, 60, n))
    event = t <= c
    time = np.where(event, t, c)
    return pd.DataFrame({"lower": time, "upper": np.where(event, time, np.nan)})


def hand() -> pd.DataFrame:
    lower = [0, 0, 0, 7, 7, 3, 5, 10, 14, 21, 0, 7]
    upper = [0, 7, 7, 7, 14, 10, 5, 21, np.nan, np.nan, 21, 14]
    return pd.DataFrame({"lower": np.asarray(lower, dtype=float), "upper": upper})


def main() -> None:
    hand().to_csv(HERE / "hand.csv", index=False)
    rng = np.random.default_rng(20240611)
    relief(rng).to_csv(HERE / "relief.csv", index=False)
    soreness(rng).to_csv(HERE / "soreness.csv", index=False)
    km_only(rng).to_csv(HERE / "km_only.csv", index=False)


if __name__ == "__main__":
    main()
