"""Discrete-time hazard of relief per session: a complementary log-log GLM.

On the ``sessions`` timescale time is discrete: relief can first be observed at
session 1, 2, ... Each patient contributes one person-session row per session at
risk (sessions ``1..time``), with ``relief = 1`` on the row of the session at which
relief was first observed (the right-censored view: for a patient who missed
assessments the event is placed at the session where it was observed). The model

    cloglog P(relief at session s | no relief before s) = alpha_s + beta' x

has a free baseline hazard per session (``alpha_s``) and proportional effects
(Prentice & Gloeckler 1978): ``exp(beta)`` is the hazard ratio of the grouped-time
proportional-hazards model. It is fitted with statsmodels' binomial GLM, the same
model as R's ``glm(relief ~ factor(session) + arm + ..., family =
binomial("cloglog"))``. Without covariates the person-session rows are first
aggregated to (session, arm) counts: the binomial likelihood, estimates and
standard errors are identical and 100,000 patients cost nothing.

References
----------
Prentice RL, Gloeckler LA (1978). Regression analysis of grouped survival data with
application to breast cancer data. Biometrics 34:57-67.

Examples
--------
>>> import numpy as np, pandas as pd
>>> from dryneedle_outcomes.survival.discrete import person_sessions
>>> ev = pd.DataFrame({"patient_id": ["a", "b"], "arm": ["x", "y"], "time": [2.0, 1.0],
...                    "event": [1, 0]})
>>> person_sessions(ev)[["patient_id", "session", "relief"]].to_numpy().tolist()
[['a', 1, 0], ['a', 2, 1], ['b', 1, 0]]
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy import stats

from ..errors import AnalysisError
from ..results import AnalysisResult, arm_terms, titled_tables
from ..stats.survival.aft import safe_exp
from ..tables import TableResult

#: exp(709) is the largest finite double: beyond it the cloglog hazard is 1 anyway.
_ETA_MAX = 700.0


def person_sessions(events: pd.DataFrame, covariates: pd.DataFrame | None = None
                    ) -> pd.DataFrame:
    """Expand per-patient events to person-session rows (vectorised with ``np.repeat``).

    Parameters
    ----------
    events : DataFrame
        ``patient_id``, ``arm``, ``time`` (whole sessions) and ``event`` (1/0).
    covariates : DataFrame, optional
        Rows aligned with ``events``; repeated onto each person-session row.

    Returns
    -------
    DataFrame
        ``patient_id``, ``arm``, ``session`` (1..time) and ``relief`` (1 on the event
        row), plus the covariate columns.
    """
    time = events["time"].to_numpy(dtype=float)
    if np.any(time != np.round(time)) or np.any(time < 0):
        raise AnalysisError("a discrete-time hazard model needs whole sessions; the event "
                            "times are not whole numbers >= 0 (use timescale='sessions')")
    k = time.astype(np.int64)
    idx = np.repeat(np.arange(len(events)), k)
    start = np.repeat(np.cumsum(k) - k, k)
    session = np.arange(len(idx)) - start + 1
    last = session == k[idx]
    out = pd.DataFrame({"patient_id": events["patient_id"].to_numpy()[idx],
                        "arm": events["arm"].to_numpy()[idx],
                        "session": session,
                        "relief": (last & (events["event"].to_numpy()[idx] == 1)).astype(int)})
    if covariates is not None:
        for col in covariates.columns:
            out[col] = covariates[col].to_numpy()[idx]
    return out


@dataclass(frozen=True)
class DiscreteHazard(AnalysisResult):
    """Fit of the discrete-time (cloglog) hazard model.

    Attributes
    ----------
    coefficients : DataFrame
        ``term``, ``coef``, ``std_error``, ``estimate`` (hazard ratio exp(coef) for the
        arm and covariate terms; the session terms are baseline log-log hazards),
        ``ci_lower``, ``ci_upper``, ``z``, ``p_value``.
    hazard : DataFrame
        Per session and arm (covariates at their mean): ``session``, ``arm``,
        ``n_at_risk``, ``n_relief`` (observed), ``observed`` (n_relief / n_at_risk),
        ``estimate`` (the model's probability of relief at that session for a patient
        without relief before it), ``ci_lower``, ``ci_upper`` (delta method on the
        linear predictor, back-transformed).
    n_rows : int
        Person-session rows.
    converged : bool
    warnings, notes : tuple of str
    reference_arm : str
    conf_level : float
    comparison : DataFrame
        The arm hazard ratios in the comparison schema
        (:mod:`dryneedle_outcomes.results`), then ``model``, ``coef``, ``std_error``.
    """

    coefficients: pd.DataFrame
    hazard: pd.DataFrame
    n_rows: int
    converged: bool
    warnings: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    reference_arm: str = ""
    conf_level: float = 0.95

    @property
    def comparison(self) -> pd.DataFrame:
        """Hazard ratio of relief per session, each arm against the reference."""
        return arm_terms(self.coefficients, self.reference_arm, "hazard_ratio",
                         "discrete-time cloglog")

    def tables(self) -> dict[str, TableResult]:
        """The per-session probabilities of relief, the comparison and the coefficients."""
        level = f"{self.conf_level:.0%} CI"
        return titled_tables({
            "hazard": (self.hazard, "Probability of relief at each session among patients "
                       f"without relief before it (discrete-time cloglog model, {level})", 3),
            "comparison": (self.comparison, "Discrete-time hazard ratio of relief, arms "
                           f"versus {self.reference_arm} ({level})", 2),
            "coefficients": (self.coefficients, "Discrete-time cloglog model: coefficients",
                             3),
        }, self.notes, self.conf_level)

    def plot(self, ax=None, **kwargs):
        """Probability of relief at each session per arm, with CIs; returns the Axes."""
        from ..plots.survival import plot_session_hazard

        return plot_session_hazard(self, ax=ax, **kwargs)


def fit_discrete_hazard(events: pd.DataFrame, arms: list[str],
                        covariates: pd.DataFrame | None = None, *,
                        conf_level: float = 0.95) -> DiscreteHazard:
    """Fit the complementary log-log discrete-time hazard model.

    Parameters
    ----------
    events : DataFrame
        ``patient_id``, ``arm``, ``time`` (sessions), ``event``.
    arms : list of str
        Arms, the reference first.
    covariates : DataFrame, optional
        Numeric covariate columns aligned with ``events`` (term names as columns).
    conf_level : float

    Returns
    -------
    DiscreteHazard

    Examples
    --------
    >>> import pandas as pd
    >>> ev = pd.DataFrame({"patient_id": list("abcdefgh"), "arm": ["c"] * 4 + ["t"] * 4,
    ...                    "time": [1, 2, 3, 3, 1, 1, 2, 3], "event": [1, 1, 0, 1, 1, 1, 1, 0]})
    >>> fit = fit_discrete_hazard(ev, ["c", "t"])
    >>> fit.coefficients["term"].tolist()
    ['session[1]', 'session[2]', 'session[3]', 'arm[t]']
    """
    rows = person_sessions(events, covariates)
    if rows.empty or rows["relief"].sum() == 0:
        raise AnalysisError("no relief events on the sessions timescale: the discrete-time "
                            "hazard model cannot be fitted")
    sessions = np.sort(rows["session"].unique())
    cov_names = [] if covariates is None else list(covariates.columns)
    z = stats.norm.ppf(0.5 + conf_level / 2)
    warns: list[str] = []
    if cov_names:
        data = rows
        weights = None
        y = data["relief"].to_numpy(dtype=float)
    else:
        data = (rows.groupby(["session", "arm"], observed=True)["relief"]
                .agg(["sum", "count"]).reset_index())
        data = data.rename(columns={"sum": "n_relief", "count": "n_at_risk"})
        weights = data["n_at_risk"].to_numpy(dtype=float)
        y = data["n_relief"].to_numpy(dtype=float) / weights
    X = _design(data, sessions, arms, cov_names)
    model = sm.GLM(y, X, family=sm.families.Binomial(link=sm.families.links.CLogLog()),
                   var_weights=weights)
    boundary = _boundary_sessions(rows)
    if boundary:
        warns.append("the hazard is 0 or 1 for everyone at risk at session(s) "
                     f"{', '.join(map(str, boundary))}: those session terms sit at the edge "
                     "of the model (perfect separation) and their hazards are the observed ones")
    with warnings.catch_warnings(record=True) as caught:
        # statsmodels warns (RuntimeWarning, PerfectSeparationWarning) at separated
        # sessions; what they mean is reported in plain words in ``warns`` instead
        warnings.simplefilter("always")
        res = model.fit(tol=1e-12, maxiter=200)
    glm_messages = sorted({f"{w.category.__name__}: {w.message}" for w in caught})
    if glm_messages and not boundary:
        warns.append("the GLM fit reported: " + "; ".join(glm_messages))
    converged = bool(res.converged)
    if not converged:
        warns.append("the discrete-time hazard GLM did not converge in 200 iterations")
    bse = np.asarray(res.bse)
    if not np.all(np.isfinite(bse)) or np.any(bse > 1e3):
        warns.append("some discrete-time hazard coefficients are not estimable (a session or "
                     "arm with no relief, or relief for all at risk): their standard errors "
                     "are huge")
    coef = np.asarray(res.params)
    term = list(X.columns)
    is_ratio = np.array([not t.startswith("session[") for t in term])
    coefficients = pd.DataFrame({
        "term": term, "coef": coef, "std_error": bse,
        "estimate": safe_exp(np.where(is_ratio, coef, np.nan)),
        "ci_lower": safe_exp(np.where(is_ratio, coef - z * bse, np.nan)),
        "ci_upper": safe_exp(np.where(is_ratio, coef + z * bse, np.nan)),
        "z": coef / bse, "p_value": 2 * stats.norm.sf(np.abs(coef / bse))})

    # model-based hazard per session and arm (covariates at their means)
    grid = pd.MultiIndex.from_product([sessions, arms], names=["session", "arm"]).to_frame(
        index=False)
    for name in cov_names:
        grid[name] = float(rows[name].mean())
    G = _design(grid, sessions, arms, cov_names).to_numpy()
    eta = G @ coef
    se = np.sqrt(np.einsum("ij,jk,ik->i", G, np.asarray(res.cov_params()), G))
    observed = (rows.groupby(["session", "arm"], observed=True)["relief"]
                .agg(["sum", "count"]).rename(columns={"sum": "n_relief", "count": "n_at_risk"}))
    grid = grid.join(observed, on=["session", "arm"])
    grid[["n_relief", "n_at_risk"]] = grid[["n_relief", "n_at_risk"]].fillna(0).astype(int)
    hazard = grid[["session", "arm", "n_at_risk", "n_relief"]].copy()
    with np.errstate(invalid="ignore", divide="ignore"):
        hazard["observed"] = np.where(hazard["n_at_risk"] > 0,
                                      hazard["n_relief"] / hazard["n_at_risk"], np.nan)
    hazard["estimate"] = _inverse_cloglog(eta)
    hazard["ci_lower"] = _inverse_cloglog(eta - z * se)
    hazard["ci_upper"] = _inverse_cloglog(eta + z * se)
    return DiscreteHazard(coefficients=coefficients, hazard=hazard, n_rows=len(rows),
                          converged=converged, warnings=tuple(warns), reference_arm=arms[0],
                          conf_level=conf_level)


def _design(data: pd.DataFrame, sessions, arms: list[str], cov_names: list[str]) -> pd.DataFrame:
    s = data["session"].to_numpy()
    cols = {f"session[{k}]": (s == k).astype(float) for k in sessions}
    a = data["arm"].astype(str).to_numpy()
    cols.update({f"arm[{arm}]": (a == arm).astype(float) for arm in arms[1:]})
    for name in cov_names:
        cols[name] = data[name].to_numpy(dtype=float)
    return pd.DataFrame(cols)


def _boundary_sessions(rows: pd.DataFrame) -> list[int]:
    """Sessions at which all or none of the patients at risk (all arms) had relief."""
    by = rows.groupby("session")["relief"].agg(["sum", "count"])
    edge = (by["sum"] == 0) | (by["sum"] == by["count"])
    return [int(k) for k in by.index[edge.to_numpy()]]


def _inverse_cloglog(eta: np.ndarray) -> np.ndarray:
    """1 - exp(-exp(eta)), accurate for small probabilities (1 past exp's range)."""
    return -np.expm1(-np.exp(np.minimum(eta, _ETA_MAX)))
