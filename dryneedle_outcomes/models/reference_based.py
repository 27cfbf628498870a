"""``reference_based``: multiple imputation under MAR and reference-based assumptions.

The primary analysis of a trial with missing data after treatment discontinuation
assumes missing at random (MAR); ICH E9(R1) (section A.5.2) asks for sensitivity
analyses under other plausible assumptions. The reference-based assumptions of
Carpenter, Roger & Kenward (2013, J Biopharm Stat 23:1352-71) say what patients of the
active arm would have done after their intercurrent event, in terms of the reference
(control) arm: ``jump_to_reference`` (J2R: from the event on, the reference arm's mean,
so the benefit is lost at once), ``copy_reference`` (CR: the reference arm's mean over
the whole course), ``copy_increments_from_reference`` (CIR: the changes of the reference
arm from the patient's last pre-event mean, so the benefit gained is kept but grows no
further), and ``mar``.

The imputation model is an MMRM of the outcome with a mean per arm and visit, each
baseline covariate by visit, and a covariance over visits shared by the arms
(``covariance="unstructured"`` by default), fitted by REML (post-event values of patients
with a reference-based strategy set aside, as R's rbmi does); the analysis model is an
ANCOVA at each visit (arm, baseline and the covariates of ``adjust``). Approaches as R's
rbmi implements them (Wolbers et al. 2022, Pharm Stat 21:1246-57):

* ``approach="conditional_mean"`` (default): each missing value is replaced by its
  conditional mean given the patient's observed values; inference by the jackknife
  (``variance="jackknife"``, deterministic) or the bootstrap (``"bootstrap"``,
  percentile or normal). This targets the frequentist variance of the reference-based
  estimator (Bartlett 2023, Stat Biopharm Res 15:178-86).
* ``approach="approximate_bayes"``: ``n_samples`` bootstrapped MMRM fits, one random
  imputation from each, Rubin's rules with Barnard-Rubin df (``variance="rubin"``); the
  "information-anchored" variance (Cro, Carpenter & Kenward 2019, JRSS A 182:623-45).
* ``approach="bayes"``: ``n_samples`` draws of the MMRM's parameters from their
  posterior (rbmi's ``method_bayes``: flat prior on the coefficients, inverse-Wishart
  prior on the unstructured covariance centred on its REML estimate), one random
  imputation from each, Rubin's rules with Barnard-Rubin df. rbmi samples with Stan's
  HMC; here an exact data-augmentation Gibbs sampler of the same posterior (Schafer
  1997, ch. 5; :mod:`~dryneedle_outcomes.stats.imputation.bayes`), one chain from the
  REML estimates, ``warmup`` iterations discarded and every ``thin``-th kept (rbmi's
  ``control_bayes(warmup = 200, thin = 50)``), with rbmi's warning when the effective
  sample size of a parameter is below 40 % of the draws.

Intercurrent events come from ``intercurrent=``: a table with ``patient_id``, ``visit``
(the first visit affected) and optionally ``strategy`` (``MAR``, ``JR``, ``CR``,
``CIR`` or the long names); ``method`` is the strategy of the rows without one. Without
the table, a patient's first visit of a run of missing values up to the last visit is
taken as a discontinuation (imputed under ``method``) and other (intermittent) missing
values are imputed under MAR, as rbmi's vignettes do. Validated against rbmi's
printed results in ``tests/reference/rbmi/``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..alerts import one_channel
from ..cohort import Cohort
from ..errors import AnalysisError
from ..instruments import get_instrument
from ..pooling import with_pooled_covariate
from ..results import DEFAULT_SEED, AnalysisResult, comparison_frame
from ..stats.checks import check_conf_level
from ..stats.imputation.engine import MIResult, reference_based_mi
from ..tables import TableResult
from .design import model_frame
from .reference_based_tipping import APPROACH_TEXT, TippingPointResult, pooled_frames, tipping_point

#: ``method`` names and the strategy each gives (rbmi's codes).
METHODS = {"mar": "MAR", "jump_to_reference": "JR", "copy_reference": "CR",
           "copy_increments_from_reference": "CIR"}
_STRATEGY_NAMES = {**METHODS, **{v.lower(): v for v in METHODS.values()},
                   "j2r": "JR"}
_CODES = {"MAR": 0, "JR": 1, "CR": 2, "CIR": 3}
_DEFAULT_SAMPLES = {"bootstrap": 500, "rubin": 100}
ARM_DIFFERENCE_COLUMNS = ["arm", "reference", "visit", "estimate", "std_error", "ci_lower",
                          "ci_upper", "p_value"]


def _strategy(value, where: str) -> str:
    key = str(value).strip().lower()
    if key not in _STRATEGY_NAMES:
        raise AnalysisError(f"{where}: unknown strategy {value!r}; use one of "
                            f"{sorted(set(METHODS) | set(METHODS.values()))}")
    return _STRATEGY_NAMES[key]


@dataclass(frozen=True)
class ReferenceBasedResult(AnalysisResult):
    """Multiple imputation under MAR or a reference-based assumption
    (:func:`~dryneedle_outcomes.reference_based`).

    Attributes
    ----------
    arm_difference : DataFrame
        Per non-reference arm and visit: ``arm``, ``reference``, ``visit``,
        ``estimate`` (arm minus reference, outcome units), ``std_error``, ``ci_lower``,
        ``ci_upper``, ``p_value``, and ``df`` with Rubin's rules. (``std_error`` is
        missing for the percentile bootstrap, which gives no SE.)
    means : DataFrame
        Least-squares means per arm and visit (``arm``, ``visit``, ``estimate``,
        ``std_error``, ``ci_lower``, ``ci_upper``, ``p_value`` [, ``df``]).
    intercurrent : DataFrame
        The events used: ``patient_id``, ``arm``, ``visit`` (first affected),
        ``strategy``, ``n_imputed`` (missing values from that visit on).
    missing : DataFrame
        Per arm and visit: ``n``, ``n_missing``, ``percent_missing``.
    excluded : DataFrame
        Patients left out (``patient_id``, ``reason``).
    """

    outcome: str
    method: str
    approach: str
    variance: str
    reference_arm: str
    arms: tuple[str, ...]
    visits: tuple[int, ...]
    conf_level: float
    n_samples: int
    seed: object
    arm_difference: pd.DataFrame
    means: pd.DataFrame
    intercurrent: pd.DataFrame
    missing: pd.DataFrame
    excluded: pd.DataFrame
    notes: tuple[str, ...]
    warnings: tuple[str, ...] = ()
    converged: bool = True
    n_patients: int = 0
    engine: MIResult | None = field(default=None, repr=False, compare=False)
    patients: pd.DataFrame | None = field(default=None, repr=False, compare=False)
    #: Mean day since baseline of each visit, and the treatment sessions (None when the
    #: data do not record needling): where :meth:`plot` puts the visits in time.
    visit_days: dict = field(default_factory=dict, repr=False, compare=False)
    session_visits: tuple | None = field(default=None, repr=False, compare=False)

    @property
    def comparison(self) -> pd.DataFrame:
        """:attr:`arm_difference` in the comparison schema (``measure`` =
        ``"mean_difference"``)."""
        return comparison_frame(self.arm_difference, measure="mean_difference")

    @property
    def imputed(self) -> pd.DataFrame:
        """The completed data, long: ``imputation`` (0 for the conditional mean
        imputation of the full data; 1..M for random imputations), ``patient_id``,
        ``arm``, ``visit``, ``value``, ``imputed`` (True where the value was missing).
        Built when asked for."""
        r = self.engine
        data = r.imputed if r.imputed.ndim == 3 else r.imputed[None]
        M, N, T = data.shape
        first = 0 if r.imputed.ndim == 2 else 1
        return pd.DataFrame({
            "imputation": np.repeat(np.arange(first, first + M), N * T),
            "patient_id": np.tile(np.repeat(self.patients["patient_id"].to_numpy(), T), M),
            "arm": np.tile(np.repeat(self.patients["arm"].to_numpy(), T), M),
            "visit": np.tile(np.array(self.visits), M * N),
            "value": data.ravel(),
            "imputed": np.tile(r.missing.ravel(), M),
        })

    def tipping_point(self, deltas: Sequence[float] | None = None, *,
                      arm: str | Sequence[str] | None = None, cumulative: bool = False,
                      alpha: float | None = None) -> TippingPointResult:
        """Delta adjustment: ``delta`` added to every imputed value of ``arm``.

        Parameters
        ----------
        deltas : sequence of float, optional
            The grid (outcome units). Default: 21 values from 0 to twice the largest
            absolute difference at the last visit divided by the fraction of values
            imputed there (at least 5 %), capped at the width of the instrument's scale
            (e.g. 100 mm for a VAS: a larger shift of an imputed value is impossible),
            signed so that the deltas move the difference towards 0.
        arm : str or sequence of str, optional
            Whose imputed values move (default: every non-reference arm).
        cumulative : bool
            ``True``: the j-th imputed visit of a patient gets ``j * delta`` (a penalty
            growing after the event, rbmi's ``delta_template`` with a cumulative lag).
        alpha : float, optional
            Significance level (default ``1 - conf_level``).

        The estimate is linear in delta for conditional mean imputation (the analysis
        is linear in the outcome), so no refit is needed; with Rubin's rules each
        imputed data set is re-analysed. Tipping-point analysis as Cro et al. (2020,
        Stat Med 39:2815-42) describe.
        """
        return tipping_point(self, deltas, arm=arm, cumulative=cumulative, alpha=alpha)

    def responders(self, mcid: float | None = None):
        """Responders from the imputations: each completed data set dichotomised at
        ``mcid`` (improvement from baseline; default the instrument's MCID), the risk
        difference pooled by Rubin's rules. Approximate Bayes or Bayes only:
        conditional means are not draws, and a dichotomy of them is biased (refused,
        with the reason).
        Returns an :class:`~dryneedle_outcomes.ImputedRespondersResult`.

        Examples
        --------
        >>> import dryneedle_outcomes as dno
        >>> cohort = dno.simulate_cohort(n_patients=24, seed=3, n_sessions=3)
        >>> res = dno.reference_based(cohort, method="mar", reference_arm="sham",
        ...                           approach="approximate_bayes", n_samples=4, seed=1,
        ...                           progress=False)
        >>> res.responders().risk_difference.columns.tolist()[:4]
        ['arm', 'reference', 'visit', 'estimate']
        """
        from .reference_based_responders import imputed_responders

        return imputed_responders(self, mcid)

    def tables(self) -> dict[str, TableResult]:
        """The arm differences (with the notes), least-squares means and missing values
        per arm and visit, each a :class:`~dryneedle_outcomes.tables.TableResult`."""
        level = f"{self.conf_level:.0%} CI"
        what = f"{self.outcome}, {self.method.replace('_', ' ')}"
        digits = get_instrument(self.outcome).digits   # 1 on a 0-100 mm scale
        out = {
            "arm_difference": TableResult(
                self.arm_difference.reset_index(drop=True),
                title=f"{what}: difference between arms per visit (arm minus "
                      f"{self.reference_arm}, {level})", notes=self.notes,
                conf_level=self.conf_level, digits=digits),
            "means": TableResult(self.means.reset_index(drop=True),
                                 title=f"{what}: least-squares means ({level})",
                                 conf_level=self.conf_level, digits=digits),
            "missing": TableResult(self.missing.reset_index(drop=True),
                                   title=f"{what}: missing values imputed",
                                   conf_level=self.conf_level, digits=1),
        }
        return out

    def plot(self, ax=None):
        """Least-squares means per arm and visit with CIs, after imputation, each visit at
        its time (weeks since baseline), follow-up visits shaded, as
        ``plot_visit_means`` draws them.
        Returns the Axes."""
        from ..plots.trajectory import plot_visit_means

        ax = plot_visit_means(self.means, ax, outcome=self.outcome,
                              conf_level=self.conf_level, visits=self.visits,
                              visit_days=self.visit_days, session_visits=self.session_visits,
                              reference=self.reference_arm, what="Least-squares mean")
        ax.set_title(f"{self.method.replace('_', ' ').capitalize()} "
                     f"({self.approach.replace('_', ' ')})", loc="left")
        return ax


def _intercurrent(intercurrent, pats: pd.DataFrame, y: np.ndarray, visits: list[int],
                  method: str):
    """ICE visit index and strategy per patient (see the module docstring)."""
    N, T = y.shape
    miss = np.isnan(y)
    default = METHODS[method]
    if intercurrent is None:
        # a run of missing values up to the last visit: discontinuation at its start
        tail = np.flip(np.cumprod(np.flip(miss, axis=1), axis=1), axis=1).astype(bool)
        has = tail[:, -1]
        ice = np.where(has, tail.argmax(axis=1), T)
        strategy = np.where(has, default, "MAR").astype(object)
        return ice, strategy
    ic = pd.DataFrame(intercurrent)
    need = {"patient_id", "visit"}
    if not need <= set(ic.columns):
        raise AnalysisError(f"intercurrent needs columns patient_id and visit (first visit "
                            f"affected); got {list(ic.columns)}")
    ic = ic.copy()
    ic["patient_id"] = ic["patient_id"].astype(str)
    if ic["visit"].isna().any():
        raise AnalysisError("intercurrent: every event needs the first visit it affects "
                            "(column visit has missing values)")
    strat = ic["strategy"] if "strategy" in ic else pd.Series(default, index=ic.index)
    ic["strategy"] = [default if pd.isna(s) else _strategy(s, "intercurrent")
                      for s in strat]
    # at most one event handled by a non-MAR strategy per patient (as rbmi): the earliest
    ic = ic.sort_values(["patient_id", "visit"], kind="stable")
    dup = ic["patient_id"].duplicated()
    if dup.any():
        raise AnalysisError(f"intercurrent: {int(dup.sum())} patient(s) have more than one "
                            f"event (e.g. {ic.loc[dup, 'patient_id'].iloc[0]!r}); give the "
                            "first event that changes the imputation for each patient")
    ids = pats["patient_id"].astype(str)
    unknown = sorted(set(ic["patient_id"]) - set(ids))
    if unknown:
        raise AnalysisError(f"intercurrent names {len(unknown)} patient(s) not analysed "
                            f"here: {unknown[:5]}")
    m = ids.to_frame().merge(ic, on="patient_id", how="left")
    vis = np.asarray(visits, float)
    iv = m["visit"].to_numpy(float)
    ice = np.where(np.isnan(iv), T, np.searchsorted(vis, np.nan_to_num(iv, nan=np.inf),
                                                    side="left"))
    strategy = m["strategy"].fillna("MAR").to_numpy(object)
    strategy = np.where(ice < T, strategy, "MAR")
    return ice.astype(int), strategy


@one_channel
def reference_based(cohort: Cohort, outcome: str = "first_step_pain", *,
                    method: str = "jump_to_reference", reference_arm: str | None = None,
                    approach: str = "conditional_mean", variance: str | None = None,
                    n_samples: int | None = None, seed=DEFAULT_SEED,
                    adjust: Sequence[str] = ("baseline",),
                    covariance: str = "unstructured", visits=None, estimand=None,
                    intercurrent: pd.DataFrame | None = None,
                    bootstrap_type: str = "percentile",
                    conf_level: float = 0.95, n_jobs: int | None = 1,
                    progress: bool = True, missing_baseline: str = "mean",
                    adjust_instrument: bool = True, warmup: int | None = None,
                    thin: int | None = None) -> ReferenceBasedResult:
    """Multiple imputation under MAR or a reference-based assumption; see the module
    docstring for the methods and their sources.

    Parameters
    ----------
    cohort : Cohort
    outcome : str
        An instrument of the cohort's assessments.
    method : str
        ``"mar"``, ``"jump_to_reference"``, ``"copy_reference"`` or
        ``"copy_increments_from_reference"``: the strategy after an intercurrent event
        (rows of ``intercurrent`` may name their own).
    reference_arm : str, optional
        The reference (control) arm: the imputation reference and the comparator.
        Default: the control arm (as :func:`~dryneedle_outcomes.fit_trajectory`).
    approach : str
        ``"conditional_mean"``, ``"approximate_bayes"`` or ``"bayes"`` (MCMC).
    variance : str, optional
        ``"jackknife"`` (default for conditional mean) or ``"bootstrap"``; ``"rubin"``
        for ``approximate_bayes`` and ``bayes``.
    n_samples : int, optional
        Bootstrap samples (default 500) or imputations (default 100; for ``bayes`` the
        MCMC draws kept).
    seed : int, optional
        For the bootstrap, the random imputations and the MCMC.
    adjust : sequence of str
        ``"baseline"`` and patient covariates (stratification factors), in the
        imputation model (by visit) and the analysis model.
    covariance : str
        Covariance of the imputation model (a visit-indexed structure of the MMRM).
    visits : sequence of int, optional
        The post-baseline visits analysed (default: all with data).
    estimand : Estimand, optional
        A ``dno.Estimand``: the intercurrent events come from
        ``cohort.intercurrent_events`` (:func:`~dryneedle_outcomes.ice_table`); values at
        and after an event handled as ``hypothetical`` are set aside and imputed under
        ``method``; ``treatment_policy`` events keep their values, and the values missing
        after stopping treatment or leaving the trial (``discontinued_treatment``,
        ``withdrew_from_study``, ``adverse_event_withdrawal`` under treatment policy:
        ``estimands.apply.treatment_policy_stops``) are imputed
        under ``method`` (other missing values under MAR); ``while_on_treatment`` is
        refused (nothing to impute). Not with ``intercurrent``.
    intercurrent : DataFrame, optional
        ``patient_id``, ``visit`` (first visit affected) and optionally ``strategy``.
    bootstrap_type : str
        ``"percentile"`` (default, rbmi's) or ``"normal"`` bootstrap inference.
    conf_level : float
    n_jobs : int, optional
        Worker processes for the jackknife refits, bootstrap samples or imputations
        (``-1``: every core). The numbers are identical for any value: each sample has
        its own seed spawned from one :class:`numpy.random.SeedSequence`, and the
        jackknife is deterministic.
    progress : bool, default True
        Show a ``tqdm`` progress bar over the resampling loop (and the MCMC).
    missing_baseline : {"mean", "exclude"}
        With ``"baseline"`` in ``adjust``, a randomised patient without a baseline
        value is kept with the mean of the observed baselines, both arms pooled
        (``"mean"``, the default: White & Thompson 2005, Stat Med 24:993-1007; the
        analysis stays in the randomised population, ICH E9(R1) A.3.2; said in the
        notes) or left out (``"exclude"``: listed in ``excluded``). As
        :func:`~dryneedle_outcomes.fit_trajectory`.
    adjust_instrument : bool, default True
        With a pooled outcome (:mod:`dryneedle_outcomes.pooling`), the instrument is a
        covariate of the imputation and analysis models, as in
        :func:`~dryneedle_outcomes.fit_trajectory`.
    warmup, thin : int, optional
        ``approach="bayes"`` only: MCMC iterations discarded before the first kept draw
        (default 200) and iterations per kept draw (default 50), rbmi's
        ``control_bayes(warmup, thin)`` (``burn_in``/``burn_between`` in rbmi < 1.4).
        The chain is serial, so ``n_jobs`` parallelises only the imputations and
        analyses after it (same numbers for any ``n_jobs``).

    Returns
    -------
    ReferenceBasedResult

    Examples
    --------
    >>> import dryneedle_outcomes as dno
    >>> cohort = dno.simulate_cohort(n_patients=24, seed=3, n_sessions=3)
    >>> res = dno.reference_based(cohort, "first_step_pain", method="jump_to_reference",
    ...                           reference_arm="sham", variance="bootstrap",
    ...                           n_samples=5, seed=1, progress=False)   # real: 500+
    >>> res.arm_difference.columns.tolist()[:4]
    ['arm', 'reference', 'visit', 'estimate']
    """
    check_conf_level(conf_level)
    if method not in METHODS:
        raise AnalysisError(f"method must be one of {list(METHODS)}, got {method!r}")
    set_aside_ice = False
    composite = None
    if estimand is not None:
        if intercurrent is not None:
            raise AnalysisError("give estimand= or intercurrent=, not both")
        if not hasattr(estimand, "intercurrent"):
            raise AnalysisError("estimand must be a dno.Estimand (the intercurrent events "
                                "then come from cohort.intercurrent_events)")
        from ..estimands.apply import composite_visits, ice_table, treatment_policy_stops

        tab = ice_table(cohort, estimand)
        composite = composite_visits(cohort, estimand)
        if (tab["strategy"] == "while_on_treatment").any():
            raise AnalysisError(
                "the estimand handles an intercurrent event by the while-on-treatment "
                "strategy: the outcome after the event is not part of the variable, so "
                "there is nothing to impute; analyse it with fit_trajectory on "
                "dno.apply_estimand's data, or choose hypothetical")
        # hypothetical: the values from the event on are set aside and imputed under
        # `method` (rbmi: such data are removed by the user before imputation)
        aside_from = tab[["patient_id", "visit"]].assign(strategy=METHODS[method])
        # treatment policy for stopping treatment or leaving: observed values are kept,
        # the missing ones from the event on are imputed under `method` (rbmi's data_ice
        # of a treatment-policy estimand); one event per patient: the earliest
        stops = treatment_policy_stops(cohort, estimand)[["patient_id", "visit"]]
        intercurrent = (pd.concat([aside_from[["patient_id", "visit"]], stops],
                                  ignore_index=True)
                        .sort_values(["patient_id", "visit"], kind="stable")
                        .drop_duplicates("patient_id").assign(strategy=METHODS[method]))
        set_aside_ice = True
    if (warmup is not None or thin is not None) and approach != "bayes":
        raise AnalysisError("warmup and thin are settings of the MCMC: give them with "
                            f"approach='bayes', not approach={approach!r}")
    mcmc = {"warmup": 200 if warmup is None else warmup,
            "thin": 50 if thin is None else thin}
    if variance is None:
        variance = "jackknife" if approach == "conditional_mean" else "rubin"
    if n_samples is None and variance in _DEFAULT_SAMPLES:
        n_samples = _DEFAULT_SAMPLES[variance]
    adjust, pool_note = with_pooled_covariate(cohort, outcome, adjust, adjust_instrument)
    frame = model_frame(cohort, outcome, adjust=adjust, time="visit",
                        reference_arm=reference_arm, visits=visits,
                        missing_baseline=missing_baseline)
    arms = list(frame.arms)
    reference = arms[0]
    vis = list(frame.visits)
    T = len(vis)
    covs = frame.covariates
    # patients: everyone randomised to an analysed arm with baseline and covariates
    pats = cohort.patients[["patient_id", "arm"] + covs].copy()
    pats["arm"] = pats["arm"].astype(str)
    pats = pats[pats["arm"].isin(arms)]
    excluded = []
    imputed_baseline, baseline_mean = [], None
    if frame.adjust_baseline:
        a = cohort.visit_ratings().assessments
        base = a.loc[a["visit"] == 0, ["patient_id", outcome]].rename(
            columns={outcome: "baseline"})
        base = base.dropna(subset=["baseline"])  # rows without a baseline value: such
        # patients are listed as excluded just below (not imputed: no baseline covariate)
        pats = pats.merge(base, on="patient_id", how="left")
        nob = pats["baseline"].isna()
        if missing_baseline == "mean" and nob.any() and len(base):
            # the mean over every patient with a visit-0 value, both arms pooled (as
            # model_frame), also for a randomised patient with no assessment at all
            baseline_mean = float(base["baseline"].mean())
            imputed_baseline = pats.loc[nob, "patient_id"].tolist()
            pats.loc[nob, "baseline"] = baseline_mean
            nob = pats["baseline"].isna()
        excluded.append(pd.DataFrame({"patient_id": pats.loc[nob, "patient_id"],
                                      "reason": "no baseline value (visit 0)"}))
        pats = pats[~nob]
    for c in covs:
        miss = pats[c].isna()
        excluded.append(pd.DataFrame({"patient_id": pats.loc[miss, "patient_id"],
                                      "reason": f"covariate {c!r} is missing"}))
        pats = pats[~miss]
    pats = pats.sort_values("patient_id", kind="stable").reset_index(drop=True)
    if pats.empty:
        raise AnalysisError("no patient has what the imputation model needs")
    wide = (frame.data.pivot_table(index="patient_id", columns="visit", values="y",
                                   aggfunc="first")
            .reindex(index=pats["patient_id"], columns=vis))
    y = wide.to_numpy(float)
    xcols, xnames = [], []
    if frame.adjust_baseline:
        xcols.append(pats["baseline"].to_numpy(float))
        xnames.append("baseline")
    for c in covs:
        if c in frame.factor_levels:
            for lev in frame.factor_levels[c][1:]:
                xcols.append((pats[c].astype(str) == lev).to_numpy(float))
                xnames.append(f"{c}[{lev}]")
        else:
            xcols.append(pats[c].to_numpy(float))
            xnames.append(c)
    x = np.column_stack(xcols) if xcols else np.zeros((len(pats), 0))
    arm_code = pats["arm"].map({a: k for k, a in enumerate(arms)}).to_numpy()
    if set_aside_ice:  # events of patients not analysed (listed in excluded) play no part
        analysed = pats["patient_id"].astype(str)
        intercurrent = intercurrent[intercurrent["patient_id"].astype(str).isin(analysed)]
        aside_from = aside_from[aside_from["patient_id"].astype(str).isin(analysed)]
        stops = stops[stops["patient_id"].astype(str).isin(analysed)]
    ice, strat = _intercurrent(intercurrent, pats, y, vis, method)
    n_set_aside = 0
    if set_aside_ice:
        aside_at, _ = _intercurrent(aside_from, pats, y, vis, method)
        aside = (np.arange(T)[None, :] >= aside_at[:, None]) & ~np.isnan(y)
        n_set_aside = int(aside.sum())
        y[aside] = np.nan   # not used for this estimand (they stay in the cohort)
    if method == "mar" and intercurrent is None:
        strat = np.full(len(pats), "MAR", dtype=object)
    codes = np.array([_CODES[s] for s in strat])
    res = reference_based_mi(y, arm_code, x, reference=np.zeros(len(arms), int),
                             ice_visit=ice, strategy=codes, comparator=0,
                             approach=approach, variance=variance, n_samples=n_samples,
                             seed=seed, bootstrap_type=bootstrap_type,
                             structure=covariance, conf_level=conf_level,
                             arm_names=arms, x_names=xnames, n_jobs=n_jobs,
                             progress=progress, **mcmc)
    for j in range(len(xnames)):
        pats[f"x_{j}"] = x[:, j]
    pats["arm_code"] = arm_code
    if composite is not None:   # first visit of a composite-strategy event (responders)
        pats["composite_visit"] = pats["patient_id"].map(
            composite.set_index("patient_id")["visit"]).astype(float)
    miss = np.isnan(y)
    n_imp = (miss & (np.arange(T)[None, :] >= ice[:, None])).sum(axis=1)
    has = ice < T
    ice_table = pd.DataFrame({"patient_id": pats["patient_id"][has].to_numpy(),
                              "arm": pats["arm"][has].to_numpy(),
                              "visit": np.asarray(vis)[ice[has]],
                              "strategy": strat[has], "n_imputed": n_imp[has]})
    mtab = pd.DataFrame({"arm": np.repeat(pats["arm"].to_numpy(), T),
                         "visit": np.tile(vis, len(pats)), "missing": miss.ravel()})
    mtab = (mtab.groupby(["arm", "visit"], sort=False)["missing"]
            .agg(n="size", n_missing="sum").reset_index())
    mtab["percent_missing"] = 100.0 * mtab["n_missing"] / mtab["n"]
    excl = (pd.concat(excluded, ignore_index=True) if excluded
            else pd.DataFrame({"patient_id": [], "reason": []}))
    post_obs = int((~miss & (np.arange(T)[None, :] >= ice[:, None])
                    & (codes != 0)[:, None]).sum())
    inference = {"jackknife": "jackknife standard errors and normal-approximation CIs",
                 "bootstrap": f"{bootstrap_type} bootstrap ({n_samples} samples within arm)",
                 "rubin": f"Rubin's rules over {n_samples} imputations (Barnard-Rubin df)"}
    if approach == "bayes":
        inference["rubin"] = (
            f"MCMC draws of the MMRM's parameters (Gibbs sampler, flat prior on the "
            f"coefficients, inverse-Wishart prior on the covariance centred on its REML "
            f"estimate; one chain from the REML estimates, {mcmc['warmup']} warm-up "
            f"iterations, every {mcmc['thin']}th kept), " + inference["rubin"])
    notes = [
        f"Missing values of {outcome} imputed under {method.replace('_', ' ')} "
        f"(reference arm {reference}) by {APPROACH_TEXT[approach]} imputation from an "
        f"MMRM ({covariance} covariance shared by the arms; arm x visit"
        + (", " + ", ".join(f"{n} x visit" for n in xnames) if xnames else "")
        + "), then ANCOVA at each visit; " + inference[variance]
        + " (Carpenter, Roger & Kenward 2013; Wolbers et al. 2022, as R's rbmi).",
        f"{int(has.sum())} patient(s) with an intercurrent event imputed under their "
        f"strategy from the event on; {int(miss.sum())} missing value(s) imputed"
        + (" (other missing values under MAR)." if miss.sum() > n_imp.sum() else "."),
    ]
    if imputed_baseline:
        notes.append(f"{len(imputed_baseline)} randomised patient(s) without a baseline "
                     f"value kept with the mean of the observed baselines, "
                     f"{baseline_mean:.4g} (both arms pooled; White & Thompson 2005).")
    if pool_note:
        notes.append(pool_note + ".")
    if set_aside_ice:
        m_text = method.replace("_", " ")
        hyp = (f"under the hypothetical strategy the {n_set_aside} value(s) observed "
               f"at and after an event were set aside (not used; they stay in the "
               f"cohort, see dno.apply_estimand(...).ledger) and imputed under "
               f"{m_text}; " if len(aside_from) else "")
        notes.append(f"Estimand: intercurrent events from cohort.intercurrent_events; "
                     f"{hyp}events under treatment policy keep their values, the values "
                     f"missing after stopping treatment or leaving the trial under "
                     f"treatment policy ({len(stops)} patient(s)) are imputed under "
                     f"{m_text}, and other missing values under MAR.")
    if composite is not None and len(composite):
        notes.append(f"{len(composite)} patient(s) with an event handled by the composite "
                     "strategy: their values are used as observed in this analysis of "
                     f"{outcome} (the composite strategy defines a responder variable: in "
                     "result.responders() they do not respond from the event on).")
    if intercurrent is None and method != "mar":
        notes.append("Without an intercurrent-events table, a run of missing values up "
                     "to the last visit is taken as discontinuation at its first visit; "
                     "intermittent missing values are imputed under MAR.")
    if post_obs:
        notes.append(f"{post_obs} value(s) observed after an event with a reference-based "
                     "strategy were set aside when fitting the imputation model and kept "
                     "in the analysis (as rbmi does).")
    if res.mcmc is not None:
        e = res.mcmc.ess
        k = int(np.nanargmin(e)) if np.isfinite(e).any() else 0
        notes.append(f"MCMC: one chain of {mcmc['warmup'] + mcmc['thin'] * res.n_samples} "
                     f"iterations; smallest effective sample size of the "
                     f"{res.n_samples} kept draws {e[k]:.0f} ({res.mcmc.names[k]}; "
                     "Geyer's initial monotone sequence over every iteration after the "
                     "warm-up; rbmi warns below 40 %).")
    warns = list(res.messages)
    if len(excl):
        warns.append(f"{excl['patient_id'].nunique()} patient(s) not analysed: see "
                     "result.excluded")
    out = ReferenceBasedResult(
        outcome=outcome, method=method, approach=approach, variance=variance,
        reference_arm=reference, arms=tuple(arms), visits=tuple(vis),
        conf_level=conf_level, n_samples=res.n_samples, seed=seed,
        arm_difference=pd.DataFrame(), means=pd.DataFrame(), intercurrent=ice_table,
        missing=mtab, excluded=excl, notes=tuple(notes), warnings=tuple(warns),
        converged=bool(res.fit.converged), n_patients=len(pats), engine=res, patients=pats,
        visit_days=dict(frame.visit_days),
        session_visits=(tuple(frame.session_visits) if frame.session_visits is not None
                        else None))
    diff, means = pooled_frames(res.pooled, res, out)
    out = dataclasses.replace(out, arm_difference=diff, means=means)
    return out


__all__ = ["reference_based", "ReferenceBasedResult", "TippingPointResult", "METHODS"]
