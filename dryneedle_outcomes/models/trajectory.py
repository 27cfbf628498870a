"""``fit_trajectory``: pain across a course of needling sessions, by arm.

Four models, all fitted by REML on every available observation (missing at random):

``random_intercept``
    ``y ~ baseline + arm * time + (1 | patient)``
``random_slope``
    ``y ~ baseline + arm * time + (1 + time | patient)`` (correlated)
``session_means``
    ``y ~ baseline + arm * factor(visit) + (1 | patient)``
``mmrm``
    ``y ~ baseline + arm * factor(visit)`` with an unstructured residual covariance over
    visits, another structure (``covariance="toeplitz_hetero"``, ...), or the first of a
    pre-specified list that converges (:mod:`.covariance_order`)

Marginal means are least-squares means per arm and visit with baseline and numeric
covariates at their means over the modelled rows and factor covariates weighted
equally, as ``emmeans`` computes them; tests use Satterthwaite degrees of freedom, or
Kenward-Roger for ``mmrm`` (``df=``; computed once per fit, :mod:`..stats.mixed.kenward_roger`).
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..alerts import one_channel
from ..cohort import Cohort
from ..errors import AnalysisError
from ..instruments import get_instrument
from ..results import DEFAULT_SEED, AnalysisResult, comparison_frame, deprecated_name
from ..stats.checks import check_conf_level
from ..stats.mixed.engine import EngineFit
from ..stats.mixed.kenward_roger import KenwardRoger, kenward_roger_adjustment
from ..stats.mixed.options import COVARIANCES as COVARIANCES
from ..stats.mixed.options import DF_METHODS, KR_METHODS
from ..tables import TableResult
from ..timing import DEFAULT_ASSESSED, describe_rule, visit_after_sessions
from .covariance_order import attempts_frame, covariance_order, fit_in_order
from .design import (
    FACTOR_MODELS,
    LINEAR_MODELS,
    ModelFrame,
    check_model_estimable,
    design_matrix,
    model_frame,
    reference_grid,
    time_terms,
)
from .mcid import first_session_intervals
from .mmrm_covariance import CovarianceOptions, engine_inputs, variance_components
from .sessions import known_sessions

MODELS = LINEAR_MODELS + FACTOR_MODELS


def _engine_fit(frame: ModelFrame, model: str, covariance: str, y: np.ndarray | None = None,
                start=None, options: CovarianceOptions | None = None,
                ) -> tuple[EngineFit, np.ndarray, list[str], np.ndarray | None]:
    d = frame.data
    X, names = design_matrix(frame, d, model)
    groups = pd.factorize(d["patient_id"], sort=True)[0]
    yv = d["y"].to_numpy(dtype=float) if y is None else y
    if model == "mmrm":
        from ..stats.mixed.mmrm import fit_mmrm

        visit_codes = np.searchsorted(np.asarray(frame.visits), d["visit"].to_numpy())
        fit = fit_mmrm(yv, X, groups, visit_codes, structure=covariance, x_names=names,
                       n_visits=len(frame.visits), start=start,
                       **engine_inputs(frame, covariance, options or CovarianceOptions()))
        return fit, X, names, None
    from ..stats.mixed.lmm import fit_lmm

    Z, z_names = _random_design(frame, model)
    fit = fit_lmm(yv, X, Z, groups, x_names=names, z_names=z_names, start=start)
    return fit, X, names, Z


def _kenward_roger(frame: ModelFrame, fit: EngineFit, df: str) -> KenwardRoger | None:
    """The Kenward-Roger adjustment of an MMRM fit (once per fit), when ``df`` asks for it."""
    if df not in KR_METHODS:
        return None
    d = frame.data
    X, _ = design_matrix(frame, d, "mmrm")
    groups = pd.factorize(d["patient_id"], sort=True)[0]
    visits = np.searchsorted(np.asarray(frame.visits), d["visit"].to_numpy())
    return kenward_roger_adjustment(fit, X, groups, visits,
                                    linear=df == "kenward_roger_linear")


def _random_design(frame: ModelFrame, model: str) -> tuple[np.ndarray, list[str]]:
    """Random-effects design: intercept, plus the (first) time term for random slopes."""
    d = frame.data
    if model == "random_slope":
        tcols, _ = time_terms(d["time"].to_numpy(dtype=float), frame.time_transform)
        return np.column_stack([np.ones(len(d)), tcols[:, 0]]), ["(Intercept)", "time"]
    return np.ones((len(d), 1)), ["(Intercept)"]


def _table(fit: EngineFit, L: np.ndarray, conf_level: float,
           kr: KenwardRoger | None = None) -> pd.DataFrame:
    """t tests of each row of ``L``: Satterthwaite, or Kenward-Roger when ``kr`` is given."""
    res = (fit.contrast(L, conf_level=conf_level) if kr is None
           else kr.contrast(L, conf_level=conf_level))
    return pd.DataFrame({
        "estimate": res["estimate"], "std_error": res["std_error"], "df": res["df"],
        "statistic": res["statistic"], "p_value": res["p_value"],
        "ci_lower": res["ci_lower"], "ci_upper": res["ci_upper"],
    })


#: The columns of the deprecated ``arm_difference`` (the layout before ``comparison``).
ARM_DIFFERENCE_COLUMNS = ["arm", "reference", "visit", "estimate", "std_error", "df",
                          "ci_lower", "ci_upper", "p_value"]


@dataclass(frozen=True)
class TrajectoryResult(AnalysisResult):
    """The fit of :func:`fit_trajectory`; DataFrames plus ``summary()`` and ``plot()``.

    Attributes
    ----------
    fixed_effects : DataFrame
        ``term``, ``estimate``, ``std_error``, ``df`` (of ``df_method``), ``statistic``,
        ``p_value``, ``ci_lower``, ``ci_upper``.
    variance_components : DataFrame
        ``component``, ``estimate`` (variances, covariances, or the residual
        covariance matrix entries for ``mmrm``).
    marginal_means : DataFrame
        ``arm``, ``visit``, ``estimate``, ``std_error``, ``df``, ``ci_lower``, ``ci_upper``.
    comparison : DataFrame
        Per visit and non-reference arm, in the comparison schema
        (:mod:`dryneedle_outcomes.results`): ``arm``, ``reference``, ``measure``
        (``"mean_difference"``), ``estimate`` (arm minus reference, in the outcome's
        units), ``ci_lower``, ``ci_upper``, ``p_value``, ``visit``, ``std_error``, ``df``.
        (``arm_difference``, its former name and layout, is deprecated.)
    excluded : DataFrame
        Patients/rows not modelled, with the reason.
    warnings : tuple of str
        Problems (non-convergence, rows not modelled); each is also issued once as a
        Python warning when the fit returns (:mod:`dryneedle_outcomes.alerts`).
    notes : tuple of str
        What a reader of the table needs to know (missing visits under MAR).
    df_method : str
        The df method of every test (one of ``DF_METHODS``).
    kenward_roger : KenwardRoger or None
        The Kenward-Roger adjusted covariance of the fixed effects, computed once when
        ``df_method`` is a Kenward-Roger method (every table of the result uses it).
    covariance : str or None
        The residual covariance structure of the ``mmrm`` fit (with a pre-specified
        list, the one used); None for the other models.
    covariance_attempts : DataFrame
        One row per structure of the ``covariance`` given (``mmrm`` only; empty for the
        other models): ``structure``, ``tried``, ``converged`` (with a positive-definite
        estimate), ``used`` and ``reason`` (why it was not acceptable, or not tried).
    """

    model: str
    outcome: str
    covariance: str | None
    conf_level: float
    reference_arm: str
    fixed_effects: pd.DataFrame
    variance_components: pd.DataFrame
    marginal_means: pd.DataFrame
    comparison: pd.DataFrame
    excluded: pd.DataFrame
    converged: bool
    warnings: tuple[str, ...]
    n_patients: int
    n_observations: int
    loglik: float
    aic: float
    bic: float
    frame: ModelFrame = field(repr=False)
    fit: EngineFit = field(repr=False)
    df_method: str = "satterthwaite"
    notes: tuple[str, ...] = ()
    kenward_roger: KenwardRoger | None = field(default=None, repr=False)
    covariance_attempts: pd.DataFrame = field(default_factory=lambda: attempts_frame([]),
                                              repr=False)
    covariance_options: CovarianceOptions = field(default_factory=CovarianceOptions,
                                                  repr=False)
    assessed: str = DEFAULT_ASSESSED
    session_visits: tuple[int, ...] = ()

    @property
    def arm_difference(self) -> pd.DataFrame:
        """Deprecated: :attr:`comparison` in its former layout (no ``measure`` column)."""
        deprecated_name("arm_difference", "comparison", "TrajectoryResult")
        return self.comparison[ARM_DIFFERENCE_COLUMNS]

    # ------------------------------------------------------------------ derived
    def _grid_L(self, grid: pd.DataFrame) -> np.ndarray:
        X, _ = design_matrix(self.frame, grid, self.model)
        return X

    def cumulative_effect(self, after: int) -> pd.DataFrame:
        """Change from baseline after ``after`` sessions received, per arm, and the difference.

        The visit whose score reflects ``after`` sessions follows the cohort's declared
        timing rule (``assessed``, :func:`dryneedle_outcomes.timing.visit_after_sessions`):
        under ``"before_session"`` (the default) the score of the next visit after the
        ``after``-th session (its pre-needling score, or the follow-up after the last
        session); under ``"after_session"`` the ``after``-th session's own score. The
        ``visit`` column says which. With baseline as a covariate the change is the
        marginal mean at that visit minus the mean baseline of the modelled patients
        (the baseline is held fixed, as in ANCOVA); with ``adjust=()`` it is the
        difference of the marginal means at that visit and visit 0. ``improvement`` is
        the change signed so that positive is better for this instrument.
        """
        sessions = self.session_visits or tuple(v for v in self.frame.visits if v >= 1)
        visit = visit_after_sessions(after, sessions, self.frame.visits, self.assessed)
        inst = get_instrument(self.outcome)
        grid = reference_grid(self.frame, [visit])
        L = self._grid_L(grid)
        if self.frame.adjust_baseline:
            base_mean = float(self.frame.data["baseline"].mean())
            offset = np.full(len(L), base_mean)
        else:
            if 0 not in self.frame.visits:
                raise AnalysisError("visit 0 was not modelled, so change from it is unknown")
            L = L - self._grid_L(reference_grid(self.frame, [0]))
            offset = np.zeros(len(L))
        tab = _table(self.fit, L, self.conf_level, self.kenward_roger)
        for col in ("estimate", "ci_lower", "ci_upper"):
            tab[col] = tab[col] - offset
        tab.insert(0, "arm", grid["arm"].to_numpy())
        ref = L[0]
        diffs = L[1:] - ref
        dtab = _table(self.fit, diffs, self.conf_level, self.kenward_roger)
        dtab.insert(0, "arm", [f"{a} - {self.reference_arm}" for a in grid["arm"][1:]])
        out = pd.concat([tab, dtab], ignore_index=True)
        out.insert(1, "after", after)
        out.insert(2, "visit", visit)
        out["improvement"] = out["estimate"] * inst.direction + 0.0
        return out.drop(columns=["statistic"])

    def sessions_to_mcid(self, mcid: float | None = None, *, n_boot: int = 200,
                         seed: int = DEFAULT_SEED, progress: bool = True) -> pd.DataFrame:
        """First session at which the modelled improvement reaches the MCID, per arm.

        Improvement is measured from the mean baseline (or from visit 0 when
        baseline is not a covariate). The uncertainty interval is the percentile
        interval of a parametric bootstrap: ``n_boot`` outcome vectors are drawn from
        the fitted model and the model refitted to each (progress shown), with the
        package's default seed (:data:`~dryneedle_outcomes.results.DEFAULT_SEED`, 2014)
        unless ``seed`` is given.
        ``estimate`` is missing when the MCID is not reached by the last visit, and
        then so is the interval; the share of bootstrap fits that never reach it is
        given too, and ``note`` says why a value is missing (empty otherwise).
        """
        inst = get_instrument(self.outcome)
        mcid = inst.mcid if mcid is None else float(mcid)
        if mcid is None:
            raise AnalysisError(f"{self.outcome} has no default MCID; pass mcid=")
        visits = [v for v in self.frame.visits if v >= 1] or self.frame.visits
        grid = reference_grid(self.frame, visits)
        L = self._grid_L(grid)
        if self.frame.adjust_baseline:
            start = np.full(len(L), float(self.frame.data["baseline"].mean()))
            L0 = None
        else:
            L0 = self._grid_L(reference_grid(self.frame, [0]))
            start = None

        def first_reached(beta: np.ndarray) -> np.ndarray:
            means = (L @ beta).reshape(len(self.frame.arms), len(visits))
            base = (start.reshape(len(self.frame.arms), len(visits)) if start is not None
                    else (L0 @ beta)[:, None])
            improvement = (means - base) * inst.direction
            reached = improvement >= mcid
            first = np.where(reached.any(axis=1), np.argmax(reached, axis=1), -1)
            return np.array([visits[i] if i >= 0 else np.nan for i in first])

        point = first_reached(self.fit.beta)
        rng = np.random.default_rng(seed)
        draws = np.empty((n_boot, len(self.frame.arms)))
        iterator = range(n_boot)
        if progress:
            from tqdm.auto import tqdm

            iterator = tqdm(iterator, leave=False,
                            desc="parametric bootstrap: CI of the sessions to reach the MCID")
        for b in iterator:
            y_star = self._simulate(rng)
            refit, *_ = _engine_fit(self.frame, self.model, self.covariance or "unstructured",
                                    y=y_star, start=self.fit.varpar,
                                    options=self.covariance_options)
            draws[b] = first_reached(refit.beta)
        ci = first_session_intervals(point, draws, self.conf_level, last_visit=visits[-1])
        return pd.DataFrame({
            "arm": self.frame.arms, "mcid": mcid, "estimate": point,
            "ci_lower": ci["ci_lower"].to_numpy(), "ci_upper": ci["ci_upper"].to_numpy(),
            "share_never": ci["share_never"].to_numpy(), "n_boot": n_boot,
            "note": ci["note"].to_numpy(),
        })

    def _simulate(self, rng: np.random.Generator) -> np.ndarray:
        """A new outcome vector drawn from the fitted model (for parametric bootstrap)."""
        d = self.frame.data
        X, _ = design_matrix(self.frame, d, self.model)
        mean = X @ self.fit.beta
        groups = pd.factorize(d["patient_id"], sort=True)[0]
        n_groups = groups.max() + 1
        if self.model == "mmrm":
            sigma = self.fit.extra["Sigma"]
            chol = np.linalg.cholesky(sigma)
            full = rng.standard_normal((n_groups, len(sigma))) @ chol.T
            return mean + full[groups, self.fit.extra["layout"].slots]  # visit or day slots
        from ..stats.mixed.lmm import simulate_lmm

        Z, _ = _random_design(self.frame, self.model)
        return simulate_lmm(self.fit, X, Z, groups, rng)  # exact for a singular G too

    @property
    def random_effects(self) -> pd.DataFrame:
        """Predicted random effects (BLUPs) per patient; empty for ``mmrm``."""
        if "blups" not in self.fit.extra:
            return pd.DataFrame({"patient_id": pd.Series(dtype=object)})
        ids = np.sort(pd.unique(self.frame.data["patient_id"]))
        blups = np.asarray(self.fit.extra["blups"])
        default = [f"b{j}" for j in range(blups.shape[1])]
        out = pd.DataFrame(blups, columns=self.fit.extra.get("z_names", default))
        out.insert(0, "patient_id", ids)
        return out

    def predict(self, new_data: pd.DataFrame) -> pd.Series:
        """Population-level predictions (fixed effects only) for ``new_data``.

        ``new_data`` needs ``arm`` and ``visit`` (and ``baseline`` and covariates when
        the model adjusts for them; ``time`` defaults to ``visit``).
        """
        rows = new_data.copy()
        if "time" not in rows:
            rows["time"] = rows["visit"].astype(float)
        needed = ["arm", "visit"] + (["baseline"] if self.frame.adjust_baseline else []) \
            + list(self.frame.covariates)
        missing = [c for c in needed if c not in rows]
        if missing:
            raise AnalysisError(f"new_data lacks column(s) {missing}; it needs {needed}")
        unknown = set(rows["arm"].astype(str)) - set(self.frame.arms)
        if unknown:
            raise AnalysisError(f"unknown arm(s) {sorted(unknown)}; arms: {self.frame.arms}")
        if self.model in FACTOR_MODELS:
            bad = set(rows["visit"]) - set(self.frame.visits)
            if bad:
                raise AnalysisError(f"visit(s) {sorted(bad)} were not modelled; a "
                                    f"{self.model} model predicts only {self.frame.visits}")
        X, _ = design_matrix(self.frame, rows, self.model)
        return pd.Series(X @ self.fit.beta, index=new_data.index, name="prediction")

    # ------------------------------------------------------------------ display
    def summary(self) -> str:
        """A plain-text report of the fit."""
        fmt = {"float_format": lambda x: f"{x:.4g}"}
        cov = f", covariance {self.covariance}" if self.covariance else ""
        lines = [
            f"Trajectory of {self.outcome}: {self.model}{cov} (REML)",
            f"{self.n_patients} patients, {self.n_observations} observations; "
            f"reference arm: {self.reference_arm}; converged: {self.converged}",
            f"REML log-likelihood {self.loglik:.4f}, AIC {self.aic:.2f}, BIC {self.bic:.2f}",
            "", f"Fixed effects ({self.df_method.replace('_', '-').title()} df):",
            self.fixed_effects.to_string(index=False, **fmt),
            "", "Variance components:", self.variance_components.to_string(index=False, **fmt),
            "", f"Arm difference per visit ({self.conf_level:.0%} CI):",
            self.comparison.to_string(index=False, **fmt),
        ]
        if len(self.excluded):
            lines += ["", f"Not modelled: {int(self.excluded['rows'].sum())} row(s) of "
                          f"{self.excluded['patient_id'].nunique()} patient(s) "
                          "(see .excluded)"]
        lines += ["", "Methods:"] + [f"  - {n}" for n in self.methods()]
        if self.warnings:
            lines += ["", "Warnings:"] + [f"  - {w}" for w in self.warnings]
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()

    def _heading_html(self) -> str:
        return (f"<p><strong>Trajectory of {html.escape(self.outcome)}</strong>: "
                f"{html.escape(self.model)}; {self.n_patients} patients, "
                f"{self.n_observations} observations; converged: {self.converged}; REML "
                f"logLik {self.loglik:.3f}</p>")

    def methods(self) -> tuple[str, ...]:
        """What was fitted, in sentences (model, REML under MAR, df, reference arm), then
        :attr:`notes`: printed under the tables, by :meth:`summary` and in the report."""
        from .methods_text import methods_notes

        return methods_notes(self)

    def tables(self) -> dict[str, TableResult]:
        """The arm differences (with the notes), marginal means, fixed effects and
        variance components, each a :class:`~dryneedle_outcomes.tables.TableResult`."""
        what = f"{self.outcome}, {self.model}"
        level = f"{self.conf_level:.0%} CI"

        def table(frame, title, notes=(), digits=2):
            return TableResult(frame.reset_index(drop=True), title=f"{what}: {title}",
                               notes=tuple(notes), conf_level=self.conf_level, digits=digits)

        return {
            "comparison": table(self.comparison, f"difference between arms per visit "
                                f"(arm minus {self.reference_arm}, {level})",
                                self.methods()),
            "marginal_means": table(self.marginal_means,
                                    f"marginal (least-squares) means ({level})"),
            "fixed_effects": table(self.fixed_effects, "fixed effects", digits=3),
            "variance_components": table(self.variance_components, "variance components",
                                         digits=3),
        }

    def plot(self, ax=None, *, observed: bool = True, mcid: bool = True):
        """Model-based means with CIs per arm over visits, observed means, MCID marked.

        Returns the matplotlib Axes.
        """
        from ..plots.trajectory import plot_trajectory

        return plot_trajectory(self, ax=ax, observed=observed, mcid=mcid)


@one_channel
def fit_trajectory(
    cohort: Cohort,
    outcome: str = "first_step_pain",
    *,
    model: str = "random_slope",
    adjust=("baseline",),
    time: str = "visit",
    time_transform=None,
    covariance: str | Sequence[str] = "unstructured",
    reference_arm: str | None = None,
    conf_level: float = 0.95,
    visits=None,
    df: str = "satterthwaite",
    covariance_by_arm: bool = False,
    spatial_coordinate: str | Mapping[int, float] = "day",
) -> TrajectoryResult:
    """Fit a model of ``outcome`` across sessions and compare the arms at every visit.

    Parameters
    ----------
    cohort : Cohort
    outcome : str
        A registered instrument column (``first_step_pain``, ``vas_pain``, ...).
    model : {"random_slope", "random_intercept", "session_means", "mmrm"}
    adjust : tuple of str
        ``"baseline"`` makes the visit-0 value a covariate and models visits >= 1
        (the default, as trials analyse); other names are patient covariates
        (``"age"``, ``"sex"``). ``()`` models every visit including baseline.
    time : {"visit", "day", "week"}
        The time scale of the linear-time models.
    time_transform : None, "log" or ("piecewise", knot)
        Shape of time in the linear-time models.
    covariance : str or list of str
        Residual covariance over visits of the ``mmrm`` model (REML; SAS PROC MIXED
        ``REPEATED / TYPE=``, the ``nlme::gls`` equivalent and R's mmrm name; every one
        validated against SAS):

        - ``"unstructured"``: TYPE=UN; ``corSymm`` + ``varIdent`` (mmrm ``us``);
        - ``"cs"``: compound symmetry, TYPE=CS; ``corCompSymm`` (``cs``);
        - ``"cs_hetero"``: heterogeneous CS, TYPE=CSH; ``corCompSymm`` + ``varIdent``
          (``csh``);
        - ``"ar1"``: first-order autoregressive, TYPE=AR(1); ``corAR1`` (``ar1``);
        - ``"ar1_hetero"``: TYPE=ARH(1); ``corAR1`` + ``varIdent`` (``ar1h``);
        - ``"toeplitz"``: TYPE=TOEP; ``corARMA(p = T - 1)`` (``toep``);
        - ``"toeplitz_hetero"``: TYPE=TOEPH; ``corARMA(p = T - 1)`` + ``varIdent``
          (``toeph``);
        - ``"ante1_hetero"``: first-order ante-dependence, TYPE=ANTE(1); no nlme
          equivalent (``adh``);
        - ``"ante1"``: homogeneous first-order ante-dependence (one variance, a
          correlation per pair of adjacent visits); SAS has only the heterogeneous
          TYPE=ANTE(1), TYPE=None here; R mmrm ``ad`` (validated against it);
        - ``"spatial_exp"``: spatial exponential on days, TYPE=SP(EXP)(day),
          ``sigma2 * exp(-|day_i - day_j| / range)``; ``corExp(form = ~ day | patient)``
          (``sp_exp``): for visits not equally spaced (weekly sessions, then a week-12
          follow-up). See ``spatial_coordinate``.

        A list (``["unstructured", "toeplitz_hetero", "ar1_hetero", "cs_hetero"]``) is a
        pre-specified fallback order, as statistical analysis plans write it
        (Mallinckrodt et al., Drug Inf J 2008;42:303-319; the FDA/EMA practice, after
        ICH E9, of fixing the primary analysis, its fallback included, before
        unblinding): each structure is fitted in turn and the
        first that converges with a positive-definite estimate (and an invertible
        information of its covariance parameters) is used. ``covariance`` of the result
        is the structure used, ``covariance_attempts`` says why each earlier one failed,
        and the methods notes say it. When none converges, the last that could be fitted
        is reported, not converged, with warnings. A single structure that does not
        converge gives a non-converged result with warnings.
    reference_arm : str, optional
        The control arm; default a sham/control-like arm name, else the last arm.
    conf_level : float
    visits : list of int, optional
        Restrict the model to these visits.
    df : {"satterthwaite", "kenward_roger", "kenward_roger_linear"}
        Degrees of freedom of the t tests. ``"satterthwaite"`` uses the model-based
        standard errors and the inverse observed information of the covariance
        parameters (as lmerTest and SAS's DDFM=SATTERTHWAITE). ``"kenward_roger"``
        (``mmrm`` only; Kenward & Roger 1997) adjusts the standard errors for the
        estimated covariance and uses the same observed information, as SAS's
        DDFM=KR and R's mmrm; the adjusted SE is usually, not always, larger (AR(1) can
        give a smaller one). ``"kenward_roger_linear"`` is SAS's DDFM=KR(LINEAR) (no
        second-derivative term; the same as ``"kenward_roger"`` for ``unstructured``
        and ``cs``). The df of both Kenward-Roger methods are the same.

    covariance_by_arm : bool
        ``mmrm`` only: a separate covariance, with its own parameters, per arm (SAS
        ``REPEATED / GROUP=arm``, R mmrm ``us(visit | arm / patient)``); see
        ``dryneedle_outcomes.models.mmrm_covariance``.
    spatial_coordinate : "day" or dict
        For ``"spatial_exp"``: each row's own ``day`` (default, as SAS; a row without one
        is an error), or ``{visit: day}``, one declared day per visit.

    Returns
    -------
    TrajectoryResult

    Examples
    --------
    >>> import dryneedle_outcomes as dno
    >>> cohort = dno.simulate_cohort(n_patients=120, seed=4)
    >>> fit = dno.fit_trajectory(cohort, model="mmrm")
    >>> fit.comparison[["visit", "estimate"]].shape
    (7, 2)
    >>> bool(fit.converged)
    True
    """
    if model not in MODELS:
        raise AnalysisError(f"model must be one of {', '.join(MODELS)}, got {model!r}")
    order = covariance_order(covariance)
    if df not in DF_METHODS:
        raise AnalysisError(f"df must be one of {', '.join(DF_METHODS)}, got {df!r}")
    if df in KR_METHODS and model != "mmrm":
        raise AnalysisError(f"df={df!r} is available for model='mmrm'; the "
                            "random-effects models use Satterthwaite df (as lmerTest)")
    conf_level = check_conf_level(conf_level)
    frame = model_frame(cohort, outcome, adjust=adjust, time=time,
                        time_transform=time_transform, reference_arm=reference_arm,
                        visits=visits)
    check_model_estimable(frame, model)
    options = CovarianceOptions(covariance_by_arm, spatial_coordinate)
    if covariance_by_arm and model != "mmrm":
        raise AnalysisError("covariance_by_arm=True is available for model='mmrm'")
    if model == "mmrm":
        fit, used, attempts = fit_in_order(
            lambda st: _engine_fit(frame, model, st, options=options)[0], order)
    else:
        used, attempts = None, attempts_frame([])
        fit = _engine_fit(frame, model, order[0])[0]
    names = design_matrix(frame, frame.data, model)[1]

    kr = _kenward_roger(frame, fit, df)
    fe = _table(fit, np.eye(len(names)), conf_level, kr)
    fe.insert(0, "term", names)

    grid = reference_grid(frame)
    L = design_matrix(frame, grid, model)[0]
    mm = _table(fit, L, conf_level, kr).drop(columns=["statistic", "p_value"])
    mm.insert(0, "arm", grid["arm"].to_numpy())
    mm.insert(1, "visit", grid["visit"].to_numpy())

    n_v = len(frame.visits)
    diffs = []
    for k, arm in enumerate(frame.arms[1:], start=1):
        D = L[k * n_v:(k + 1) * n_v] - L[:n_v]
        tab = _table(fit, D, conf_level, kr).drop(columns=["statistic"])
        tab.insert(0, "arm", arm)
        tab.insert(1, "reference", frame.arms[0])
        tab.insert(2, "visit", frame.visits)
        diffs.append(tab)
    diff = comparison_frame(pd.concat(diffs, ignore_index=True), measure="mean_difference")
    diff = diff[[*diff.columns[:7], "visit", "std_error", "df"]]

    messages = list(fit.messages)
    if len(frame.excluded):
        messages.append(
            f"{int(frame.excluded['rows'].sum())} row(s) of "
            f"{frame.excluded['patient_id'].nunique()} patient(s) were not modelled "
            f"({'; '.join(sorted(set(frame.excluded['reason'])))}); see .excluded")
    notes = [describe_rule(cohort.assessed)]
    timing_note = cohort.visit_ratings().note
    if timing_note:
        notes.append(timing_note)
    if frame.n_missing_outcome:
        notes.append(f"{frame.n_missing_outcome} visit(s) without a value of {outcome} "
                     "are missing data (all available data are used, under MAR)")
    return TrajectoryResult(
        model=model, outcome=outcome, covariance=used,
        conf_level=conf_level, reference_arm=frame.arms[0], fixed_effects=fe,
        variance_components=_variance_components(fit, model, frame), marginal_means=mm,
        comparison=diff, excluded=frame.excluded, converged=bool(fit.converged),
        warnings=tuple(messages), n_patients=int(frame.data["patient_id"].nunique()),
        n_observations=int(len(frame.data)), loglik=float(fit.loglik), aic=float(fit.aic),
        bic=float(fit.bic), frame=frame, fit=fit, df_method=df, notes=tuple(notes),
        kenward_roger=kr, covariance_attempts=attempts, covariance_options=options,
        assessed=cohort.assessed, session_visits=known_sessions(cohort),
    )


def _variance_components(fit: EngineFit, model: str, frame: ModelFrame) -> pd.DataFrame:
    if model == "mmrm":
        return variance_components(fit, frame)
    rows = []
    G = fit.extra["G"]
    znames = fit.extra.get("z_names", [f"b{j}" for j in range(G.shape[0])])
    for i in range(G.shape[0]):
        rows.append({"component": f"var({znames[i]} | patient)", "estimate": G[i, i]})
    for i in range(G.shape[0]):
        for j in range(i):
            corr = G[i, j] / np.sqrt(G[i, i] * G[j, j]) if G[i, i] * G[j, j] > 0 else np.nan
            rows.append({"component": f"corr({znames[j]}, {znames[i]} | patient)",
                         "estimate": corr})
    rows.append({"component": "residual variance", "estimate": fit.extra["sigma2"]})
    return pd.DataFrame(rows)


__all__ = ["fit_trajectory", "TrajectoryResult"]
