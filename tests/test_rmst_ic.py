"""RMST from the Turnbull NPMLE and from Kaplan-Meier against R's survival 3.5-3.

Golden values: tests/reference/rmst_ic/ (README there: what R computed, the data, the
tolerances and why). The area under the Turnbull curve is R's
``print(survfit(Surv(l, r, type = "interval2") ~ 1), rmean = tau)``; Kaplan-Meier's is
``print(survfit(Surv(time, status) ~ 1), rmean = tau)``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from tolerances import ARITHMETIC_RTOL

from dryneedle_outcomes.errors import AnalysisError
from dryneedle_outcomes.stats.survival.kaplan_meier import kaplan_meier
from dryneedle_outcomes.stats.survival.turnbull import turnbull
from dryneedle_outcomes.stats.survival.turnbull_summaries import (
    bootstrap_statistics,
    turnbull_rmst,
)
from dryneedle_outcomes.survival.whole_sessions import turnbull_sessions

REF_DIR = Path(__file__).parent / "reference" / "rmst_ic"
TB_DIR = Path(__file__).parent / "reference" / "survival_turnbull"
BCOS = Path("/work/shared/external/survival/bcos.csv")
#: survfit's EM stopped at 1e-12, our Newton at a KKT gap of 1e-10 (observed <= 1e-11)
RTOL_TIGHT = 1e-8
#: survfit as shipped stops up to ~1e-3 from the NPMLE (observed <= 7.6e-4)
RTOL_STOCK = 2e-3
RTOL = {"turnbull_tight": RTOL_TIGHT, "turnbull_stock": RTOL_STOCK,
        "turnbull_tight_right": RTOL_TIGHT}


def _data() -> dict[str, pd.DataFrame]:
    return {"hand": pd.read_csv(REF_DIR / "hand.csv").assign(group="all"),
            "relief": pd.read_csv(TB_DIR / "relief.csv"),
            "lung_binned": pd.read_csv(TB_DIR / "lung_binned.csv").assign(group="all"),
            "sessions": pd.read_csv(REF_DIR / "sessions.csv")}


def _intervals(d: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    return d["lower"].to_numpy(float), d["upper"].fillna(np.inf).to_numpy(float)


REF = pd.read_csv(REF_DIR / "reference.csv")


@pytest.mark.parametrize("row", list(REF.itertuples(index=False)),
                         ids=lambda r: f"{r.set}-{r.group}-{r.method}-{r.tau:g}")
def test_rmst_against_survfit(row):
    d = _data()[row.set]
    lower, upper = _intervals(d[d["group"] == row.group])
    if row.method == "kaplan_meier":
        event = np.isfinite(upper)
        r = kaplan_meier(np.where(event, upper, lower), event.astype(int)).rmst(row.tau)
        assert float(r["estimate"]) == pytest.approx(row.rmean, rel=ARITHMETIC_RTOL)
        assert float(r["std_error"]) == pytest.approx(row.se_rmean, rel=ARITHMETIC_RTOL)
    else:
        right = row.method.endswith("_right")       # whole sessions: drops at k
        r = turnbull_rmst(turnbull(lower, upper), row.tau,
                          convention="right" if right else "midpoint")
        assert r["estimate"] == pytest.approx(row.rmean, rel=RTOL[row.method])
        if right:
            assert r["bound_upper"] == r["estimate"]
        assert r["bound_lower"] <= r["estimate"] <= r["bound_upper"]


def test_whole_session_curve_against_survfit():
    """S(k) at whole sessions (the proportion relieved by session k is 1 - S(k))."""
    ref = pd.read_csv(REF_DIR / "sessions_curve.csv")
    d = _data()["sessions"]
    for g, r in ref.groupby("group"):
        lower, upper = _intervals(d[d["group"] == g])
        sc = turnbull_sessions(lower, upper, turnbull(lower, upper), n_boot=0, seed=1,
                               grid=r["session"].to_numpy(float))
        np.testing.assert_allclose(sc.curve["estimate"], r["surv"], rtol=RTOL_TIGHT)
        # whole-session median: the first k with S(k) <= 0.5 read off R's curve
        first = r["session"][r["surv"] <= 0.5]
        expected = float(first.iloc[0]) if len(first) else np.inf
        assert sc.median["estimate"] == expected


def test_rmst_against_survfit_on_the_breast_cosmesis_data():
    if not BCOS.exists():
        pytest.skip(f"external data set absent: {BCOS} (breast cosmesis, R package interval)")
    ref = pd.read_csv(REF_DIR / "bcos_reference.csv")
    b = pd.read_csv(BCOS)
    for row in ref.itertuples(index=False):
        g = b[b["treatment"] == row.group]
        fit = turnbull(g["left"].to_numpy(float), g["right"].to_numpy(float))
        got = turnbull_rmst(fit, row.tau)["estimate"]
        assert got == pytest.approx(row.rmean, rel=RTOL[row.method]), row


def test_bounds_by_hand():
    # thirds of the mass on (0, 2], (2, 4], (4, 6]; to tau = 6 the midpoint convention
    # gives (1 + 3 + 5) / 3 = 3, the left ends (0 + 2 + 4) / 3 = 2, the right ends
    # (2 + 4 + 6) / 3 = 4; to tau = 3: (1 + 3 + 3) / 3, (0 + 2 + 3) / 3, (2 + 3 + 3) / 3
    fit = turnbull([0, 2, 4], [2, 4, 6])
    r = turnbull_rmst(fit, 6)
    assert (r["estimate"], r["bound_lower"], r["bound_upper"]) == pytest.approx(
        (3.0, 2.0, 4.0), rel=ARITHMETIC_RTOL)
    r = turnbull_rmst(fit, 3)
    assert (r["estimate"], r["bound_lower"], r["bound_upper"]) == pytest.approx(
        (7 / 3, 5 / 3, 8 / 3), rel=ARITHMETIC_RTOL)
    # a right-censored tail (4, inf) is carried flat to tau: it adds its mass times tau
    r = turnbull_rmst(turnbull([0, 4], [2, np.inf]), 10)
    assert (r["estimate"], r["bound_lower"], r["bound_upper"]) == pytest.approx(
        (0.5 * 1 + 0.5 * 10, 0.5 * 0 + 0.5 * 4, 0.5 * 2 + 0.5 * 10), rel=ARITHMETIC_RTOL)
    with pytest.raises(AnalysisError, match="tau must be"):
        turnbull_rmst(fit, 0)


def test_bootstrap_is_reproducible_and_brackets_the_estimate():
    d = _data()["relief"]
    lower, upper = _intervals(d[d["group"] == "A"])
    est = turnbull_rmst(turnbull(lower, upper), 30)["estimate"]

    def stat(f):
        return [turnbull_rmst(f, 30)["estimate"]]

    a, failed = bootstrap_statistics(lower, upper, stat, n_boot=30, seed=5)
    b, _ = bootstrap_statistics(lower, upper, stat, n_boot=30, seed=5)
    assert failed == 0
    np.testing.assert_array_equal(a, b)
    lo, hi = np.quantile(a[:, 0], [0.025, 0.975])
    assert lo < est < hi
