"""The assumptions of a planned trial: visits, effect, variability, correlation, dropout.

One job: turn what a protocol team assumes into the numbers a simulator needs (mean
vector per arm over baseline and visits, covariance matrix, cumulative dropout per visit),
checking each assumption and refusing a bad one with a specific
:class:`~dryneedle_outcomes.errors.AnalysisError`.

The effect is an *assumption*: the target difference between the arms' mean changes,
one important to patients or clinicians and realistic (DELTA2 guidance: Cook et al.
2018, BMJ 363:k3750). It is not an instrument's individual-level MCID (19 mm for
first-step pain), which is a threshold for one patient's change: a difference in *group
means* that small or smaller can still matter, and one that large may be unrealistic
(IMMPACT on group differences: Dworkin et al. 2009, Pain 146:238-244). It is never the
effect observed in an earlier cohort: power computed from an observed effect
("post-hoc" or "observed" power) is a function of the p-value already seen and says
nothing new (Hoenig & Heisey 2001, Am Stat 55:19-24).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..errors import AnalysisError

#: Correlation structures by name: ``"exchangeable"`` (every pair ``rho``), ``"ar1"``
#: (``rho ** lag``, the lag counted in visits with the baseline as visit 0) and
#: ``"unstructured"`` (a matrix given in ``correlation_params``).
CORRELATIONS = ("exchangeable", "ar1", "unstructured")
#: Missing-data mechanisms the simulator supports.
MECHANISMS = ("mcar", "mar", "mnar")
#: Control-arm patients simulated (fixed seed) to calibrate MAR and MNAR dropout to the
#: stated proportions: the calibrated cumulative proportions are within about 0.004 (1 MC SE)
#: of them.
MAR_CALIBRATION_N = 20000
#: Shapes of an effect given at the last visit only.
SHAPES = ("linear", "constant")


def _as_vector(value, length: int, name: str) -> np.ndarray:
    arr = np.atleast_1d(np.asarray(value, dtype=float))
    if arr.ndim != 1 or len(arr) not in (1, length):
        raise AnalysisError(f"{name} must be one number or one per visit ({length}); got "
                            f"{len(arr)} values")
    if not np.all(np.isfinite(arr)):
        raise AnalysisError(f"{name} must be finite numbers; got {arr.tolist()}")
    return np.broadcast_to(arr, (length,)).astype(float)


def correlation_matrix(structure, size: int, rho: float | None = None) -> np.ndarray:
    """A ``size`` x ``size`` correlation matrix from a structure name or a matrix.

    Parameters
    ----------
    structure : str or array_like
        ``"exchangeable"`` or ``"ar1"`` (with ``rho``), or a matrix (``"unstructured"``).
    size : int
        Baseline plus post-baseline visits.
    rho : float, optional
        The correlation parameter of a named structure.

    Returns
    -------
    ndarray, shape (size, size)

    Raises
    ------
    AnalysisError
        Unknown structure, ``rho`` missing or outside (-1, 1), a matrix of the wrong
        shape, not symmetric, without a unit diagonal or not positive definite.

    Examples
    --------
    >>> correlation_matrix("ar1", 3, rho=0.5).round(2).tolist()
    [[1.0, 0.5, 0.25], [0.5, 1.0, 0.5], [0.25, 0.5, 1.0]]
    >>> correlation_matrix("exchangeable", 2, rho=0.3).tolist()
    [[1.0, 0.3], [0.3, 1.0]]
    """
    if isinstance(structure, str):
        if structure not in ("exchangeable", "ar1"):
            raise AnalysisError(f"correlation must be a matrix or one of 'exchangeable', "
                                f"'ar1' (with rho=); got {structure!r}")
        if rho is None or not np.isfinite(rho) or not -1.0 < float(rho) < 1.0:
            raise AnalysisError(f"correlation={structure!r} needs rho strictly between -1 "
                                f"and 1; got rho={rho!r}")
        lag = np.abs(np.subtract.outer(np.arange(size), np.arange(size)))
        R = (np.where(lag == 0, 1.0, float(rho)) if structure == "exchangeable"
             else float(rho) ** lag)
    else:
        R = np.asarray(structure, dtype=float)
        if R.shape != (size, size):
            raise AnalysisError(f"the correlation matrix must be {size} x {size} (baseline "
                                f"plus {size - 1} visit(s)); got shape {R.shape}")
        if not np.allclose(R, R.T) or not np.allclose(np.diag(R), 1.0):
            raise AnalysisError("the correlation matrix must be symmetric with ones on the "
                                "diagonal")
    if np.linalg.eigvalsh(R)[0] <= 1e-10:
        raise AnalysisError("the correlation matrix is not positive definite (an "
                            "exchangeable rho must exceed -1/(visits))")
    return R.astype(float)


@dataclass(frozen=True, eq=False)  # array fields: no element-wise ==
class TrialDesign:
    """The assumptions of a two-arm trial with a baseline and post-baseline visits.

    The outcome of patient ``i`` at baseline and visits ``1..T`` is multivariate normal
    with mean ``baseline_mean`` in the control arm at every visit (no change) and
    ``baseline_mean + effect[t]`` in the treated arm at visit ``t`` (so ``effect`` is the
    difference in mean change from baseline, treated minus control), SDs ``sd`` and the
    correlation ``correlation`` over (baseline, visit 1, ..., visit T). The baseline has the
    same mean in both arms (randomisation).

    Parameters
    ----------
    visits : sequence of float
        Times of the post-baseline visits (e.g. weeks), increasing; labels only.
    effect : float or sequence of float
        Difference in mean change per visit; one number is the effect at the last visit,
        spread over the visits by ``shape``. An *assumed* effect (see the module
        docstring): never the effect observed in the data being planned from.
    shape : {"linear", "constant"}
        How a single ``effect`` reaches the last visit: proportional to the visit time
        (``"linear"``) or the same at every visit.
    sd : float or sequence of float
        SD at baseline and each visit (``T + 1`` values) or one for all.
    correlation : {"exchangeable", "ar1"} or array_like
        Correlation over baseline and visits, ``(T + 1) x (T + 1)`` when a matrix
        (unstructured).
    rho : float, optional
        Parameter of a named ``correlation``.
    baseline_mean : float
    dropout : float or sequence of float
        Cumulative proportion missing by each visit (non-decreasing, ``T`` values; monotone
        dropout: a patient missing at a visit misses every later one), or one number, the
        proportion missing by the last visit, reached linearly in the visit index.
    mechanism : {"mcar", "mar", "mnar"}
        ``"mcar"``: missing completely at random. ``"mar"``: missing at random on the last
        observed value: a patient still in at visit ``t - 1`` drops out at ``t`` with
        log-odds ``a_t + dropout_slope * z``, ``z`` their value at ``t - 1`` (the
        baseline for the first visit) standardised by the control arm's mean and SD
        there. ``"mnar"``: missing not at random: the same model with ``z`` their value
        at visit ``t`` itself, which is never recorded because they left (patients leave
        because of the pain they would have reported); an MMRM is then biased, which is
        the point of simulating it (ICH E9(R1) A.5: sensitivity to departures from MAR;
        Little & Rubin 2019, ch. 1 and 15). Either way ``a_t`` is calibrated so that the
        control arm's cumulative dropout is ``dropout`` (``MAR_CALIBRATION_N`` = 20,000
        simulated patients, fixed seed). The treated arm's dropout then follows from its
        own values. The cohort simulator (``dno.simulate_cohort``) uses the same three
        mechanisms and the same name for the slope.
    dropout_slope : float
        Log-odds of dropping out per SD of the value the mechanism looks at (the last
        observed value under ``"mar"``, the current one under ``"mnar"``; unused under
        ``"mcar"``); positive: patients with higher values (more pain) drop out more.
    allocation : float
        Treated patients per control patient: with ``n_per_arm`` control patients the
        treated arm has ``ceil(allocation * n_per_arm)``.
    instrument : str, optional
        The registered instrument the outcome is measured on (e.g.
        ``"first_step_pain"``; ``design_from_fit`` sets the fit's outcome). It gives the
        direction, range and MCID the responder and time-to-relief analyses need
        (``Relief(mcid=True)`` is its MCID). Without it those analyses take the outcome
        as higher-is-worse (a pain score: a negative ``effect`` is a benefit) and need a
        number for the MCID.

    Attributes
    ----------
    effect, sd, dropout : ndarray
        Per visit (``sd``: baseline and visits), after expanding single numbers.
    correlation : ndarray
        The correlation matrix.

    Raises
    ------
    AnalysisError
        For any assumption that cannot hold (named in the message).

    Examples
    --------
    >>> d = TrialDesign(visits=[2, 4, 6], effect=6.0, sd=[20, 18, 18, 18],
    ...                 correlation="ar1", rho=0.6, dropout=0.15)
    >>> d.effect.tolist(), d.dropout.round(2).tolist()
    ([2.0, 4.0, 6.0], [0.05, 0.1, 0.15])
    >>> d.covariance.shape
    (4, 4)
    """

    visits: Sequence[float]
    effect: float | Sequence[float]
    sd: float | Sequence[float] = 1.0
    correlation: str | Sequence[Sequence[float]] = "exchangeable"
    rho: float | None = None
    baseline_mean: float = 0.0
    dropout: float | Sequence[float] = 0.0
    mechanism: str = "mcar"
    dropout_slope: float = 1.0
    allocation: float = 1.0
    shape: str = "linear"
    instrument: str | None = None

    def __post_init__(self) -> None:
        visits = np.atleast_1d(np.asarray(self.visits, dtype=float))
        if visits.ndim != 1 or len(visits) == 0 or not np.all(np.isfinite(visits)):
            raise AnalysisError("visits must be one or more finite visit times")
        if np.any(np.diff(visits) <= 0) or visits[0] <= 0:
            raise AnalysisError(f"visits must be increasing times after baseline (> 0); got "
                                f"{visits.tolist()}")
        T = len(visits)
        if self.shape not in SHAPES:
            raise AnalysisError(f"shape must be one of {', '.join(SHAPES)}; got {self.shape!r}")
        eff = np.atleast_1d(np.asarray(self.effect, dtype=float))
        if len(eff) == 1 and T > 1:
            eff = (eff[0] * visits / visits[-1] if self.shape == "linear"
                   else np.full(T, eff[0]))
        effect = _as_vector(eff, T, "effect")
        sd = _as_vector(self.sd, T + 1, "sd (baseline and each visit)")
        if np.any(sd <= 0):
            raise AnalysisError(f"sd must be positive; got {sd.tolist()}")
        R = correlation_matrix(self.correlation if isinstance(self.correlation, str)
                               else np.asarray(self.correlation, dtype=float), T + 1, self.rho)
        drop = np.atleast_1d(np.asarray(self.dropout, dtype=float))
        if len(drop) == 1 and T > 1:
            drop = drop[0] * np.arange(1, T + 1) / T
        drop = _as_vector(drop, T, "dropout")
        if np.any(drop < 0) or np.any(drop >= 1):
            raise AnalysisError(f"dropout proportions must be in [0, 1); got {drop.tolist()}")
        if np.any(np.diff(drop) < 0):
            raise AnalysisError(f"dropout is cumulative (the proportion missing by each "
                                f"visit) and must not decrease; got {drop.tolist()}")
        if self.mechanism not in MECHANISMS:
            raise AnalysisError(f"dropout mechanism {self.mechanism!r} is not built; "
                                f"available: {', '.join(MECHANISMS)}")
        if not np.isfinite(self.dropout_slope):
            raise AnalysisError("dropout_slope must be a finite number")
        if not np.isfinite(self.allocation) or self.allocation <= 0:
            raise AnalysisError(f"allocation (treated per control patient) must be positive; "
                                f"got {self.allocation!r}")
        if not np.isfinite(self.baseline_mean):
            raise AnalysisError("baseline_mean must be a finite number")
        if self.instrument is not None:
            from ..instruments import INSTRUMENTS

            if self.instrument not in INSTRUMENTS:
                raise AnalysisError(f"instrument={self.instrument!r} is not a registered "
                                    f"instrument; registered: {', '.join(INSTRUMENTS)}")
        set_ = object.__setattr__
        set_(self, "visits", visits)
        set_(self, "effect", effect)
        set_(self, "sd", sd)
        set_(self, "correlation", R)
        set_(self, "dropout", drop)
        set_(self, "allocation", float(self.allocation))
        set_(self, "baseline_mean", float(self.baseline_mean))
        set_(self, "dropout_slope", float(self.dropout_slope))
        set_(self, "_dropout_intercepts", None if self.mechanism == "mcar"
             else self._calibrate_dropout())

    def _calibrate_dropout(self) -> np.ndarray:
        """Intercepts ``a_t`` of the MAR or MNAR dropout model giving the control arm's
        stated cumulative dropout (sequentially, visit by visit, by root finding)."""
        from scipy import optimize, special

        rng = np.random.default_rng(np.random.SeedSequence(20150))
        y = self.means(False) + rng.standard_normal((MAR_CALIBRATION_N, self.n_visits + 1)) \
            @ np.linalg.cholesky(self.covariance).T
        z = (y - self.means(False)) / self.sd
        inside = np.ones(MAR_CALIBRATION_N, bool)
        out = np.empty(self.n_visits)
        prev = 0.0
        for t in range(self.n_visits):
            target = self.dropout[t]
            if target <= prev + 1e-12 or not inside.any():
                out[t] = -np.inf
                continue
            zt = z[inside, t + self._lag]

            def gap(a, zt=zt, target=target, prev=prev):
                leave = special.expit(a + self.dropout_slope * zt).sum()
                return prev + leave / MAR_CALIBRATION_N - target

            out[t] = optimize.brentq(gap, -50.0, 50.0, xtol=1e-10)
            # the expected dropout is matched; then the calibration sample loses its
            # leavers (drawn with a fixed seed), so the next visit starts from the
            # realised proportion and errors do not accumulate
            p_leave = special.expit(out[t] + self.dropout_slope * z[:, t + self._lag])
            u = np.random.default_rng(np.random.SeedSequence([20150, t])).random(len(p_leave))
            inside &= u >= p_leave
            prev = 1.0 - inside.mean()
        return out

    @property
    def _lag(self) -> int:
        """Column of ``(baseline, visit 1, ...)`` that decides dropout at visit index
        ``t`` is ``t + _lag``: the previous value (MAR) or the current one (MNAR)."""
        return 1 if self.mechanism == "mnar" else 0

    def selective_dropout(self, y: np.ndarray, u: np.ndarray) -> np.ndarray:
        """Observed mask (..., N, T) under MAR or MNAR from outcomes (..., N, T + 1) and
        uniforms (..., N, T): dropout at each visit by the calibrated logistic model."""
        from scipy import special

        z = (y - self.means(False)) / self.sd
        observed = np.empty(u.shape, bool)
        inside = np.ones(u.shape[:-1], bool)
        for t in range(self.n_visits):  # a loop over visits, vectorised over patients
            p = special.expit(self._dropout_intercepts[t]
                              + self.dropout_slope * z[..., t + self._lag])
            inside = inside & (u[..., t] >= p)
            observed[..., t] = inside
        return observed

    @property
    def n_visits(self) -> int:
        """Post-baseline visits T."""
        return len(self.visits)

    @property
    def covariance(self) -> np.ndarray:
        """Covariance over (baseline, visit 1, ..., visit T)."""
        return self.correlation * np.outer(self.sd, self.sd)

    def means(self, treated: bool) -> np.ndarray:
        """Mean over (baseline, visits) in one arm."""
        mu = np.full(self.n_visits + 1, self.baseline_mean)
        if treated:
            mu[1:] += self.effect
        return mu

    def n_treated(self, n_per_arm) -> np.ndarray:
        """Treated patients for ``n_per_arm`` control patients (``allocation``)."""
        return np.ceil(self.allocation * np.asarray(n_per_arm) - 1e-9).astype(int)

    def describe(self, visit_index: int) -> tuple[str, ...]:
        """The assumptions in sentences (the notes of a power result)."""
        v = self.visits
        eff = ", ".join(f"{e:g}" for e in self.effect)
        sd = ", ".join(f"{s:g}" for s in self.sd)
        drop = ", ".join(f"{100 * d:.0f}%" for d in self.dropout)
        return (
            f"Assumed design: baseline and {self.n_visits} visit(s) at "
            f"{', '.join(f'{t:g}' for t in v)}; primary visit {v[visit_index]:g}.",
            f"Assumed difference in mean change (treated minus control) per visit: {eff}; "
            "the control arm's mean does not change. The effect is an assumption, not the "
            "effect observed in earlier data (power from an observed effect is post-hoc "
            "power and misleading: Hoenig & Heisey 2001).",
            f"SD at baseline and each visit: {sd}; correlation over baseline and visits "
            f"as given (smallest {self.correlation.min():.2f}, largest off-diagonal "
            f"{(self.correlation - np.eye(len(self.sd))).max():.2f}).",
            f"Monotone dropout, {self.mechanism.upper()}"
            + ({"mar": f" (log-odds of leaving {self.dropout_slope:g} per SD of the last "
                       "observed value)",
                "mnar": f" (log-odds of leaving {self.dropout_slope:g} per SD of the "
                        "value at the visit missed, which is never recorded)"}
               .get(self.mechanism, ""))
            + f": cumulative proportion missing by each visit {drop}"
            + (" in the control arm" if self.mechanism != "mcar" else "")
            + "; baseline always observed.",
            f"Allocation {self.allocation:g} treated per control patient.",
        ) + ((f"Outcome instrument: {self.instrument}.",) if self.instrument else ())


__all__ = ["CORRELATIONS", "MAR_CALIBRATION_N", "MECHANISMS", "SHAPES", "TrialDesign",
           "correlation_matrix"]
