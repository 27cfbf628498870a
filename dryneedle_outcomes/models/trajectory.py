"""``fit_trajectory``: pain across a course of needling sessions, by arm.

Four models, all fitted by REML on every available observation (missing at random):

``mmrm`` (the default)
    ``y ~ baseline + arm * factor(visit)`` with an unstructured residual covariance over
    visits, another structure (``covariance="toeplitz_hetero"``, ...), or the first of a
    pre-specified list that converges (:mod:`.covariance_order`)
``session_means``
    ``y ~ baseline + arm * factor(visit) + (1 | patient)``
``random_intercept``
    ``y ~ baseline + arm * time + (1 | patient)``
``random_slope``
    ``y ~ baseline + arm * time + (1 + time | patient)`` (correlated)
``session_means``
    ``y ~ baseline + arm * factor(visit) + baseline:factor(visit) + (1 | patient)``
``mmrm``
    ``y ~ baseline + arm * factor(visit) + baseline:factor(visit)`` with an unstructured
    residual covariance over visits, another structure
    (``covariance="toeplitz_hetero"``, ...), or the first of a pre-specified list that
    converges (:mod:`.covariance_order`)

The baseline-by-visit interaction of the visit-factor models is on by default
(``baseline_by_visit=False`` leaves it out). Marginal means are least-squares means per
arm and visit with baseline and numeric covariates at their means over the modelled
rows and factor covariates weighted equally, as ``emmeans`` computes them; tests use
Satterthwaite degrees of freedom, or
Kenward-Roger for ``mmrm`` (``df=``; computed once per fit, :mod:`..stats.mixed.kenward_roger`).

``time`` is weeks since baseline by default (from each assessment's ``day``), not the
visit index, so a week-12 follow-up sits six weeks after a week-6 session.

Marginal means are least-squares means per arm and visit with baseline and numeric
covariates at their means over the modelled rows and factor covariates weighted
equally, as ``emmeans`` computes them. Tests use Kenward-Roger degrees of freedom for
``mmrm`` by default (computed once per fit, :mod:`..stats.mixed.kenward_roger`) and
Satterthwaite's for the random-effects models.
"""

from __future__ import annotations

import dataclasses
import html
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..alerts import one_channel
from ..cohort import Cohort
from ..errors import AnalysisError
from ..instruments import get_instrument
from ..pooling import check_unpooled, with_pooled_covariate
from ..results import DEFAULT_SEED, AnalysisResult, comparison_frame, deprecated_name
from ..stats.checks import check_conf_level
from ..stats.mixed.aliasing import find_aliased
from ..stats.mixed.engine import EngineFit, missing_unless_estimable
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
    baseline_by_visit_for,
    check_model_estimable,
    design_matrix,
    model_frame,
    random_design,
    reference_grid,
)
from .diagnostics import TrajectoryDiagnostics, not_estimable_notes, trajectory_diagnostics
from .mcid import SESSIONS_TO_MCID_DEPRECATED, first_sessions
from .mmrm_covariance import CovarianceOptions, engine_inputs, variance_components
from .sessions import known_sessions
from .type3 import Inference, check_vcov, robust_inference, type3_table

MODELS = LINEAR_MODELS + FACTOR_MODELS


def _engine_fit(frame: ModelFrame, model: str, covariance: str, y: np.ndarray | None = None,
                start=None, options: CovarianceOptions | None = None,
                ) -> tuple[EngineFit, np.ndarray, list[str], np.ndarray | None]:
    d = frame.data
    X, names = design_matrix(frame, d, model)
    # aliased columns are dropped before fitting and the fit expanded back (as R's lm)
    aliasing = find_aliased(X, names)
    Xk, kept = X[:, aliasing.keep], [names[j] for j in aliasing.keep]
    groups = pd.factorize(d["patient_id"], sort=True)[0]
    yv = d["y"].to_numpy(dtype=float) if y is None else y
    if model == "mmrm":
        from ..stats.mixed.mmrm import fit_mmrm

        visit_codes = np.searchsorted(np.asarray(frame.visits), d["visit"].to_numpy())
        fit = fit_mmrm(yv, Xk, groups, visit_codes, structure=covariance, x_names=kept,
                       n_visits=len(frame.visits), start=start, check_rank=False,
                       **engine_inputs(frame, covariance, options or CovarianceOptions()))
        return aliasing.expand(fit), X, names, None
    from ..stats.mixed.lmm import fit_lmm

    Z, z_names = _random_design(frame, model)
    fit = fit_lmm(yv, Xk, Z, groups, x_names=kept, z_names=z_names, start=start)
    return aliasing.expand(fit), X, names, Z


def _kenward_roger(frame: ModelFrame, fit: EngineFit, df: str) -> KenwardRoger | None:
    """The Kenward-Roger adjustment of an MMRM fit (once per fit), when ``df`` asks for it."""
    if df not in KR_METHODS:
        return None
    d = frame.data
    aliasing = fit.aliasing
    X = design_matrix(frame, d, "mmrm")[0][:, aliasing.keep]
    groups = pd.factorize(d["patient_id"], sort=True)[0]
    visits = np.searchsorted(np.asarray(frame.visits), d["visit"].to_numpy())
    return aliasing.expand_kenward_roger(kenward_roger_adjustment(
        aliasing.reduce(fit), X, groups, visits, linear=df == "kenward_roger_linear"))


def _random_design(frame: ModelFrame, model: str) -> tuple[np.ndarray, list[str]]:
    """Random-effects design of the modelled rows (:func:`.design.random_design`)."""
    return random_design(frame, frame.data, model)


def _table(fit: EngineFit, L: np.ndarray, conf_level: float,
           kr: Inference | None = None) -> pd.DataFrame:
    """t tests of each row of ``L``: Satterthwaite, or with ``kr`` (Kenward-Roger, or a
    between-within inference with a model-based or empirical covariance)."""
    res = (fit.contrast(L, conf_level=conf_level) if kr is None
           else missing_unless_estimable(kr.contrast(L, conf_level=conf_level),
                                         fit.aliasing, L))
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
    primary_visit : int or None
        The pre-specified primary visit (``fit_trajectory(primary_visit=)``); None when
        none was declared (then no visit is singled out: :meth:`primary` needs ``visit=``).
    vcov_method : str
        The covariance of the fixed effects behind every SE and test: ``"model"``,
        ``"empirical"`` or ``"empirical_jackknife"``; ``robust`` holds the inference
        with it (:mod:`~dryneedle_outcomes.stats.mixed.robust`) for between-within df or
        an empirical covariance, else None.
    type3 : DataFrame
        Type III F test of every term (:mod:`.type3`).
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
    primary_visit: int | None = None
    vcov_method: str = "model"
    robust: Inference | None = field(default=None, repr=False)

    @property
    def _inference(self) -> Inference | None:
        return self.kenward_roger if self.kenward_roger is not None else self.robust

    @property
    def type3(self) -> pd.DataFrame:
        """Type III F test of every term with the fit's df method and covariance
        (``models.type3.type3_table``: SAS's hypotheses; ``arm`` compares the arms averaged
        over visits, ``visit:arm`` whether their difference changes over visits).

        Examples
        --------
        >>> import dryneedle_outcomes as dno
        >>> fit = dno.fit_trajectory(dno.simulate_cohort(n_patients=60, seed=4), model="mmrm")
        >>> fit.type3["term"].tolist()
        ['baseline', 'arm', 'visit', 'visit:arm', 'baseline:visit']
        >>> fit.type3["num_df"].tolist()
        [1, 1, 6, 6, 6]
        """
        X, names = design_matrix(self.frame, self.frame.data, self.model)
        return type3_table(self.fit, X, names, df_method=self.df_method,
                           kenward_roger=self.kenward_roger, robust=self.robust)
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
        tab = _table(self.fit, L, self.conf_level, self._inference)
        for col in ("estimate", "ci_lower", "ci_upper"):
            tab[col] = tab[col] - offset
        tab.insert(0, "arm", grid["arm"].to_numpy())
        ref = L[0]
        diffs = L[1:] - ref
        dtab = _table(self.fit, diffs, self.conf_level, self._inference)
        dtab.insert(0, "arm", [f"{a} - {self.reference_arm}" for a in grid["arm"][1:]])
        out = pd.concat([tab, dtab], ignore_index=True)
        out.insert(1, "after", after)
        out.insert(2, "visit", visit)
        out["improvement"] = out["estimate"] * inst.direction + 0.0
        return out.drop(columns=["statistic"])

    def primary(self, visit: int | None = None) -> pd.DataFrame:
        """The arm differences at one visit: ``visit``, else the pre-specified
        :attr:`primary_visit`; never a visit inferred from the data.

        Parameters
        ----------
        visit : int, optional
            A modelled visit; default :attr:`primary_visit`.

        Returns
        -------
        DataFrame
            The rows of :attr:`comparison` at that visit (one per non-reference arm).

        Raises
        ------
        AnalysisError
            When no visit is given and none was pre-specified, or the visit was not
            modelled.

        Examples
        --------
        >>> import dryneedle_outcomes as dno
        >>> fit = dno.fit_trajectory(dno.simulate_cohort(n_patients=40, seed=2),
        ...                          primary_visit=6)
        >>> fit.primary()[["arm", "visit"]].to_numpy().tolist()
        [['dry_needling', 6]]
        """
        visit = self.primary_visit if visit is None else visit
        if visit is None:
            raise AnalysisError("no primary visit was pre-specified: pass visit=, or "
                                "fit_trajectory(..., primary_visit=) as the analysis plan "
                                "declares it (the primary time point is never inferred "
                                "from the data)")
        if visit not in self.frame.visits:
            raise AnalysisError(f"visit {visit!r} was not modelled; visits: "
                                f"{self.frame.visits}")
        return self.comparison[self.comparison["visit"] == visit].reset_index(drop=True)

    def design(self, *, effect, shape: str = "linear", allocation: float = 1.0,
               dropout=None, mechanism: str = "mcar", dropout_slope: float = 1.0):
        """The design of the next trial from this fit, with an assumed ``effect``.

        SDs and correlations over baseline and visits and the baseline mean come from
        this fit (given its covariates, when it is adjusted for more than the baseline:
        the planned trial is then analysed with the same adjustment); the effect
        (difference in mean change to detect, at the last visit or per visit) must be
        given: the observed effect is not a default, since power from it is post-hoc
        power and misleading (Hoenig & Heisey 2001). The dropout is the one observed in
        this fit (the proportion missing by each visit, made monotone) unless the planned
        trial's is given. For :func:`dno.simulate_power
        <dryneedle_outcomes.simulate_power>` (``design=``).

        Parameters
        ----------
        effect : float or sequence of float
            The assumed difference in mean change (treated minus control) at the last
            visit, spread over the visits by ``shape``, or one per visit.
        shape : {"linear", "constant"}
            How a single ``effect`` reaches the last visit.
        allocation : float
            Treated patients per control patient.
        dropout : float or sequence of float, optional
            The planned trial's dropout: the cumulative proportion missing by the last
            visit (reached linearly in the visit index) or by each visit. Default: the
            dropout observed in this fit. It replaces the dropout only; the SDs and
            correlations stay the fit's.
        mechanism : {"mcar", "mar", "mnar"}
            The dropout mechanism, as in :class:`~dryneedle_outcomes.TrialDesign`.
        dropout_slope : float
            Log-odds of dropping out per SD of the value the mechanism looks at (the
            last observed value under ``"mar"``, the current one under ``"mnar"``).

        Returns
        -------
        TrialDesign

        Raises
        ------
        AnalysisError
            Without ``effect``, for a fit that is not a baseline-adjusted MMRM with
            one covariance for both arms, or for a
            dropout or mechanism :class:`~dryneedle_outcomes.TrialDesign` refuses.

        Examples
        --------
        >>> import dryneedle_outcomes as dno
        >>> fit = dno.fit_trajectory(dno.simulate_cohort(n_patients=40, seed=2))
        >>> d = fit.design(effect=-10.0)
        >>> d.n_visits == len(fit.frame.visits), bool(d.effect[-1] == -10.0)
        (True, True)

        The planned trial's dropout, 20% by the last visit, instead of the observed one:

        >>> float(fit.design(effect=-10.0, dropout=0.2).dropout[-1])
        0.2
        """
        from ..power.from_fit import design_from_fit

        return design_from_fit(self, effect=effect, shape=shape, allocation=allocation,
                               dropout=dropout, mechanism=mechanism,
                               dropout_slope=dropout_slope)

    def sessions_to_mcid(self, mcid: float | None = None, *, n_boot: int = 1000,
                         seed: int = DEFAULT_SEED, progress: bool = True) -> pd.DataFrame:
        """Deprecated (``FutureWarning``): the first visit at which an arm's mean
        improvement reaches the MCID, with a parametric-bootstrap percentile interval.

        Kept callable (DESIGN.md lists it), no longer in the report: it judges each arm's
        mean, sham included, against an individual-level MCID, which IMMPACT cautions
        against (Dworkin et al., Pain 2009;146:238-244). Use
        ``time_to_relief(..., timescale="sessions", relief=dno.Relief(mcid=True))`` and
        ``responders()`` per visit. The method is described in
        ``dryneedle_outcomes.models.mcid`` (``n_boot`` refits, ``seed`` default 2014;
        ``estimate`` missing, with no interval, when the MCID is not reached by the last
        visit). ``n_boot`` defaults to 1,000, the number percentile intervals need
        (Efron & Tibshirani 1993, ch. 19; Davison & Hinkley 1997, ch. 5); each is a
        model refit, some 10 ms for the sample's MMRM, so about 10 s with a progress bar.
        """
        warnings.warn(SESSIONS_TO_MCID_DEPRECATED, FutureWarning, stacklevel=2)

        def refit(y_star: np.ndarray) -> np.ndarray:
            return _engine_fit(self.frame, self.model, self.covariance or "unstructured",
                               y=y_star, start=self.fit.varpar,
                               options=self.covariance_options)[0].beta

        return first_sessions(self, mcid, n_boot=n_boot, seed=seed, progress=progress,
                              refit=refit, simulate=self._simulate)

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

    def predict(self, newdata: pd.DataFrame | None = None, *, conditional: bool = True,
                interval: str | None = "prediction",
                conf_level: float | None = None) -> pd.DataFrame:
        """Predicted outcome per patient and visit, with prediction or confidence intervals.

        ``conditional=True`` (``mmrm`` only): each missing visit predicted from the
        patient's observed visits (SAS ``OUTP=``, mmrm's ``conditional = TRUE``); an
        observed visit is returned as observed, SE 0. ``False``: ``x beta`` (``OUTPM=``).
        ``newdata`` (default: every modelled patient at every modelled visit) needs
        ``patient_id`` (when conditional), ``arm``, ``visit``, ``baseline`` and covariates
        as modelled, and the outcome where observed. ``interval``: ``"prediction"``,
        ``"confidence"`` or None; ``conf_level`` defaults to the fit's. Returns
        ``patient_id``, ``arm``, ``visit``, ``estimate``, ``std_error``, ``pi_lower`` /
        ``pi_upper`` (or ``df``, ``ci_lower``, ``ci_upper``) and ``observed``; methods in
        :mod:`dryneedle_outcomes.models.prediction`.

        Examples
        --------
        >>> import dryneedle_outcomes as dno
        >>> fit = dno.fit_trajectory(dno.simulate_cohort(n_patients=80, seed=4), model="mmrm")
        >>> pred = fit.predict()
        >>> list(pred.columns)
        ['patient_id', 'arm', 'visit', 'estimate', 'std_error', 'pi_lower', 'pi_upper', 'observed']
        >>> bool((pred.loc[pred["observed"], "std_error"] == 0).all())
        True
        """
        from .prediction import predict_trajectory

        return predict_trajectory(self, newdata, conditional=conditional, interval=interval,
                                  conf_level=conf_level)

    def diagnostics(self) -> TrajectoryDiagnostics:
        """Scaled residuals, QQ per visit, fitted vs observed covariance (:mod:`.diagnostics`)."""
        return trajectory_diagnostics(self)

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
            ("Primary visit (pre-specified): " + str(self.primary_visit)
             if self.primary_visit is not None else "No primary visit pre-specified"),
            "", f"Fixed effects ({self.df_method.replace('_', '-').title()} df):",
            self.fixed_effects.to_string(index=False, **fmt),
            "", "Variance components:", self.variance_components.to_string(index=False, **fmt),
            "", "Type III tests of fixed effects:",
            self.type3.drop(columns=["df_method", "vcov"]).to_string(index=False, **fmt),
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

    def _repr_headline(self) -> str:
        cov = f" ({self.covariance})" if self.covariance else ""
        primary = ("" if self.primary_visit is None
                   else f"; primary visit {self.primary_visit} (pre-specified)")
        return (f"{self.model}{cov} of {self.outcome}, {self.n_patients} patients, "
                f"{self.n_observations} observations; converged: {self.converged}{primary}")

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

        unit = get_instrument(self.outcome).units
        scale_digits = get_instrument(self.outcome).digits   # 1 on a 0-100 mm scale

        def table(frame, title, notes=(), digits=scale_digits, unit=""):
            return TableResult(frame.reset_index(drop=True), title=f"{what}: {title}",
                               notes=tuple(notes), conf_level=self.conf_level, digits=digits,
                               unit=unit)

        return {
            "comparison": table(self.comparison, f"difference between arms per visit "
                                f"(arm minus {self.reference_arm}, {level})",
                                self.methods(), unit=unit),
            "marginal_means": table(self.marginal_means,
                                    f"marginal (least-squares) means ({level})", unit=unit),
            "fixed_effects": table(self.fixed_effects, "fixed effects", digits=3),
            "type3": table(self.type3, "Type III tests of fixed effects", digits=3),
            "variance_components": table(self.variance_components, "variance components",
                                         digits=3),
        }

    def plot(self, ax=None, *, observed: bool = True, mcid: bool | None = None,
             individuals: bool | None = None, observed_error: str | None = "ci"):
        """Model-based means with CIs per arm, visits at their times, follow-up marked.

        See :func:`~dryneedle_outcomes.plots.plot_trajectory` (``mcid`` is deprecated
        and ignored; individual trajectories are drawn by default up to 100 patients
        per arm). Returns the matplotlib Axes.
        """
        from ..plots.trajectory import plot_trajectory

        return plot_trajectory(self, ax=ax, observed=observed, mcid=mcid,
                               individuals=individuals, observed_error=observed_error)


@one_channel
def fit_trajectory(
    cohort: Cohort,
    outcome: str = "first_step_pain",
    *,
    model: str = "mmrm",
    adjust=("baseline",),
    time: str = "week",
    time_transform=None,
    covariance: str | Sequence[str] = "unstructured",
    reference_arm: str | None = None,
    conf_level: float = 0.95,
    visits=None,
    df: str | None = None,
    primary_visit: int | None = None,
    vcov: str = "model",
    covariance_by_arm: bool = False,
    spatial_coordinate: str | Mapping[int, float] = "day",
    baseline_by_visit: bool | None = None,
    adjust_instrument: bool = True,
    missing_baseline: str = "mean",
) -> TrajectoryResult:
    """Fit a model of ``outcome`` across sessions and compare the arms at every visit.

    Parameters
    ----------
    cohort : Cohort
    outcome : str
        A registered instrument column (``first_step_pain``, ``vas_pain``, ...).
    model : {"mmrm", "session_means", "random_intercept", "random_slope"}
        Default ``"mmrm"``: the model of most trial analysis plans (Mallinckrodt et al.,
        Drug Inf J 2008;42:303-319): no shape imposed on the mean over visits and no
        structure on the covariance beyond ``covariance``.
    adjust : tuple of str
        ``"baseline"`` makes the visit-0 value a covariate and models visits >= 1
        (the default, as trials analyse); other names are patient covariates
        (``"age"``; numeric ones enter linearly) or stratification factors (``"site"``,
        ``"sex"``: text, categorical or boolean columns enter as factors, and marginal
        means weight their levels equally, as emmeans does). ``()`` models every visit
        including baseline. When the outcome pools two instruments (the mapping's
        ``pool_as``: a site's 0-10 NRS x10 with the 0-100 mm VAS), the patient's
        instrument (``first_step_pain_instrument``) is added to ``adjust`` **by
        default** (see ``adjust_instrument``), so that a level shift between the
        instruments is not attributed to the arms; ``notes`` say so.
    time : {"week", "day", "visit"}
        The time scale of the linear-time models (``random_intercept``,
        ``random_slope``; the factor models do not use it). Default ``"week"``: weeks
        since baseline, the assessment's ``day`` / 7, so visits sit at their real times
        (weekly sessions, then a week-12 follow-up six weeks after week 6, where the visit
        index would put it one unit after). Weeks rather than days: the fit is the same
        on either scale (rescaling time rescales the time coefficients and the slope
        variance; likelihood, marginal means and arm differences are unchanged), and
        weeks are the protocol's unit and keep the slope variance of the order of the
        intercept variance. Needs each assessment's ``day`` (from the visit dates): with
        none, an :class:`~dryneedle_outcomes.AnalysisError` says to map the dates or
        pass ``time="visit"`` (the visit index, said in the methods); rows without a day
        among dated ones are not modelled, with a warning and a row in ``excluded``.
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
    df : {None, "satterthwaite", "kenward_roger", "kenward_roger_linear", "between_within"}
        Degrees of freedom of the t tests. Default (None): ``"kenward_roger"`` for
        ``mmrm`` (the regulatory practice for an MMRM, validated against SAS PROC MIXED
        DDFM=KR: ``tests/test_kenward_roger_sas.py``), ``"between_within"`` for ``mmrm``
        with a sandwich ``vcov`` (SAS's pairing with EMPIRICAL), and ``"satterthwaite"``
        for the random-effects models, for which the engine has no Kenward-Roger
        adjustment. ``"satterthwaite"`` uses the model-based
        standard errors and the inverse observed information of the covariance
        parameters (as lmerTest and SAS's DDFM=SATTERTHWAITE). ``"kenward_roger"``
        (``mmrm`` only; Kenward & Roger 1997) adjusts the standard errors for the
        estimated covariance and uses the same observed information, as SAS's
        DDFM=KR and R's mmrm; the adjusted SE is usually, not always, larger (AR(1) can
        give a smaller one). ``"kenward_roger_linear"`` is SAS's DDFM=KR(LINEAR) (no
        second-derivative term; the same as ``"kenward_roger"`` for ``unstructured``
        and ``cs``). The df of both Kenward-Roger methods are the same.
        ``"between_within"`` (``mmrm``): SAS's DDFM=BETWITHIN, its df with EMPIRICAL.
    vcov : {"model", "empirical", "empirical_jackknife"}
        Covariance of the fixed effects behind every SE, CI and test (sandwiches for
        ``mmrm`` only; ``stats.mixed.robust``): SAS's EMPIRICAL and R mmrm's
        ``"Empirical"`` (Liang & Zeger 1986), or mmrm's leave-one-patient-out
        ``"Empirical-Jackknife"``. With ``df="between_within"`` (as SAS) or
        ``"satterthwaite"`` (mmrm's df for the sandwich); not Kenward-Roger.
    primary_visit : int, optional
        The primary time point as the analysis plan declares it (ICH E9(R1): the
        estimand's variable includes its time point); a modelled visit. It is never
        inferred from the data: :meth:`~dryneedle_outcomes.TrajectoryResult.primary`,
        the methods notes and the report's headline use it; without it no visit is
        singled out.

    covariance_by_arm : bool
        ``mmrm`` only: a separate covariance, with its own parameters, per arm (SAS
        ``REPEATED / GROUP=arm``, R mmrm ``us(visit | arm / patient)``); see
        ``dryneedle_outcomes.models.mmrm_covariance``.
    spatial_coordinate : "day" or dict
        For ``"spatial_exp"``: each row's own ``day`` (default, as SAS; a row without one
        is an error), or ``{visit: day}``, one declared day per visit.
    baseline_by_visit : bool, optional
        Whether ``session_means`` and ``mmrm`` have the baseline-by-visit interaction
        (``baseline:factor(visit)``), so that the baseline's effect may differ by visit.
        Default (None): yes for those two models when ``adjust`` has ``"baseline"``, as
        Mallinckrodt et al. (Drug Inf J 2008;42:303-319) recommend and most statistical
        analysis plans pre-specify; ``False`` leaves it out. The linear-time models have
        no visit factor (``True`` there is an error). Marginal means evaluate baseline at
        its mean over the modelled rows, as SAS's LSMEANS and emmeans do.

    adjust_instrument : bool, default True
        With a pooled outcome (:mod:`dryneedle_outcomes.pooling`), add the instrument
        as a covariate (ICH E9 section 5.7: adjust for factors expected to influence
        the outcome). ``False`` leaves it out, said in ``notes``. No effect when
        nothing was pooled into ``outcome``. Rows scored on an NRS that the mapping
        does not pool are not in an analysis of the VAS: a
        :class:`~dryneedle_outcomes.UnpooledInstrumentWarning` names them (and
        ``warnings`` repeats it).
    missing_baseline : {"mean", "exclude"}
        With the baseline as a covariate, a randomised patient without a baseline
        value is kept with the mean of the observed baselines, both arms pooled
        (``"mean"``, the default: White & Thompson 2005, Stat Med 24:993-1007, show that
        mean imputation of a baseline covariate is valid in a randomised trial; the
        notes say how many and the value, ``frame.imputed_baseline`` lists them), which
        keeps the analysis in the randomised population (ICH E9(R1) A.3.2); or left
        out (``"exclude"``: listed in ``excluded``, with a warning; what R's lme4 and
        mmrm do with a missing covariate).

    Returns
    -------
    TrajectoryResult

    Examples
    --------
    >>> import dryneedle_outcomes as dno
    >>> cohort = dno.simulate_cohort(n_patients=120, seed=4)
    >>> fit = dno.fit_trajectory(cohort, primary_visit=6)
    >>> fit.model, fit.covariance, fit.df_method
    ('mmrm', 'unstructured', 'kenward_roger')
    >>> fit.comparison[["visit", "estimate"]].shape
    (7, 2)
    >>> bool(fit.converged)
    True
    >>> slope = dno.fit_trajectory(cohort, model="random_slope")
    >>> slope.frame.time, slope.df_method
    ('week', 'satterthwaite')
    """
    if model not in MODELS:
        raise AnalysisError(f"model must be one of {', '.join(MODELS)}, got {model!r}")
    order = covariance_order(covariance)
    if df is None:
        df = ("satterthwaite" if model != "mmrm" else
              "kenward_roger" if vcov == "model" else "between_within")
    if df not in DF_METHODS:
        raise AnalysisError(f"df must be one of {', '.join(DF_METHODS)}, got {df!r}")
    if df in KR_METHODS and model != "mmrm":
        raise AnalysisError(f"df={df!r} is available for model='mmrm'; the "
                            "random-effects models use Satterthwaite df (as lmerTest)")
    check_vcov(model, df, vcov)
    conf_level = check_conf_level(conf_level)
    get_instrument(outcome)
    unpooled = check_unpooled(cohort, outcome)
    adjust, pool_note = with_pooled_covariate(cohort, outcome, adjust, adjust_instrument)
    frame = model_frame(cohort, outcome, adjust=adjust,
                        time=time if model in LINEAR_MODELS else "visit",
                        time_transform=time_transform, reference_arm=reference_arm,
                        visits=visits,
                        baseline_by_visit=baseline_by_visit_for(model, adjust,
                                                                baseline_by_visit),
                        missing_baseline=missing_baseline)
    check_model_estimable(frame, model)
    if primary_visit is not None and primary_visit not in frame.visits:
        raise AnalysisError(f"primary_visit={primary_visit!r} is not a modelled visit of "
                            f"{outcome}; visits modelled: {frame.visits}")
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

    messages = list(fit.messages) + ([unpooled] if unpooled else [])
    robust = robust_inference(frame, fit, vcov, df, used) if model == "mmrm" else None
    try:
        kr = _kenward_roger(frame, fit, df) or robust
    except AnalysisError as exc:
        if fit.converged:
            raise
        # a fit that did not converge is returned, with warnings, not refused; its
        # tests fall back to Satterthwaite df, said in the warnings and the methods
        messages.append(f"{exc}; the tests use Satterthwaite df instead of {df!r}")
        kr, df = None, "satterthwaite"
    # coefficients as R's lm reports them: the kept columns' estimates, aliased ones missing
    fe = _table(dataclasses.replace(fit, aliasing=None), np.eye(len(names)), conf_level, kr)
    fe.loc[fit.aliasing.aliased] = np.nan
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

    notes = []
    if fit.aliasing.any:
        messages.append(fit.aliasing.message())
        notes += not_estimable_notes(mm, diff)
    if len(frame.excluded):
        messages.append(
            f"{int(frame.excluded['rows'].sum())} row(s) of "
            f"{frame.excluded['patient_id'].nunique()} patient(s) were not modelled "
            f"({'; '.join(sorted(set(frame.excluded['reason'])))}); see .excluded")
    notes.append(describe_rule(cohort.assessed))
    if pool_note:
        notes.append(pool_note)
    timing_note = cohort.visit_ratings().note
    if timing_note:
        notes.append(timing_note)
    if frame.imputed_baseline:
        notes.append(f"{len(frame.imputed_baseline)} randomised patient(s) without a "
                     f"baseline value of {outcome} are kept with the mean of the observed "
                     f"baselines, {frame.baseline_mean:.4g} (White & Thompson 2005, Stat Med "
                     "24:993-1007); see .frame.imputed_baseline")
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
        kenward_roger=kr if robust is None else None, covariance_attempts=attempts,
        covariance_options=options, vcov_method=vcov, robust=robust,
        primary_visit=None if primary_visit is None else int(primary_visit),
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
