"""Immediate versus cumulative effect of needling, from pain rated before and after each session.

Clinicians report that some patients feel better straight after a session while the
durable benefit builds over the course; trials that rate pain before and after the
needling of each session (``timing`` = ``pre_session`` / ``post_session``,
``dryneedle_outcomes.timing``) can separate the two. :func:`immediate_cumulative`
fits one MMRM to every post-baseline rating,

    ``y ~ baseline + arm * occasion``,  occasion = visit x timing,

with an unstructured covariance over the occasions within patient (or a pre-specified
structure or fallback order, as :func:`~dryneedle_outcomes.fit_trajectory`), REML on
every available rating (missing at random; Mallinckrodt et al., Drug Inf J
2008;42:303-319), and estimates per arm, from its least-squares means ``m(occasion)``
(baseline at its mean over the modelled ratings, as emmeans and ``fit_trajectory``):

``immediate`` (session ``k``)
    ``m(k, post) - m(k, pre)``: the within-session change;
``carry_over`` (session ``k``)
    ``m(next, pre) - m(k, pre)``: the change from session ``k``'s pre-needling score to
    the next pre-needling score (the next session's, or the follow-up after the last
    session): what session ``k`` left that lasted until the next visit;
``cumulative`` (every pre-needling and follow-up score)
    ``m(occasion) - mean baseline``: the change from baseline after the sessions received
    before that score (ANCOVA-style, as ``cumulative_effect``);

and the difference of each between every arm and the reference arm (``comparison``).
Tests use Kenward-Roger df by default (Kenward & Roger 1997, the observed-information
form of SAS DDFM=KR, :mod:`..stats.mixed.kenward_roger`), or Satterthwaite.

Examples
--------
>>> import dryneedle_outcomes as dno
>>> cohort = dno.simulate_cohort(n_patients=60, seed=5, n_sessions=3, within_session=True)
>>> fit = dno.immediate_cumulative(cohort)
>>> sorted(set(fit.effects["effect"]))
['carry_over', 'cumulative', 'immediate']
>>> fit.comparison.columns[:3].tolist()
['arm', 'reference', 'measure']
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..alerts import one_channel
from ..cohort import Cohort
from ..errors import AnalysisError
from ..instruments import get_instrument
from ..results import AnalysisResult, comparison_frame, titled_tables
from ..stats.checks import check_conf_level
from ..stats.mixed.engine import EngineFit
from ..stats.mixed.kenward_roger import KenwardRoger, kenward_roger_adjustment
from ..stats.mixed.mmrm import fit_mmrm
from ..stats.mixed.options import DF_METHODS, KR_METHODS
from ..tables import TableResult
from ..timing import TIMINGS, describe_rule
from .covariance_order import attempts_frame, covariance_order, fit_in_order, order_sentence
from .design import arms_without_data, choose_reference
from .sessions import known_sessions

EFFECTS = ("immediate", "carry_over", "cumulative")
#: Occasion labels within a visit: a single (untimed) rating, then before/after needling.
_RANK = {"single": 0, "pre_session": 1, "post_session": 2}
_STAT_COLUMNS = ["estimate", "std_error", "df", "statistic", "p_value", "ci_lower", "ci_upper"]


@dataclass(frozen=True)
class ImmediateCumulativeResult(AnalysisResult):
    """The fit of :func:`immediate_cumulative`.

    Attributes
    ----------
    occasions : DataFrame
        ``occasion`` (0-based code), ``visit``, ``timing`` (``pre_session``,
        ``post_session`` or ``single``) and ``sessions_received`` before the rating.
    marginal_means : DataFrame
        ``arm``, ``visit``, ``timing``, ``sessions_received``, ``estimate``,
        ``std_error``, ``df``, ``ci_lower``, ``ci_upper``.
    effects : DataFrame
        Per arm: ``effect`` (``immediate``, ``carry_over``, ``cumulative``; see the
        module docstring), ``arm``, ``session`` (the session ``k`` of an immediate or
        carry-over effect; for ``cumulative`` the sessions received), ``visit`` and
        ``timing`` of the end point, then ``estimate``, ``std_error``, ``df``,
        ``statistic``, ``p_value``, ``ci_lower``, ``ci_upper`` (outcome units; negative
        is a fall).
    comparison : DataFrame
        The same effects, arm minus reference, in the comparison schema
        (``measure`` = ``"mean_difference"``), with ``effect``, ``session``, ``visit``,
        ``timing``, ``std_error``, ``df``.
    fixed_effects : DataFrame
        ``term`` and the test columns.
    covariance : str
        The residual covariance structure used (with a list, the first acceptable).
    covariance_attempts : DataFrame
        As ``TrajectoryResult.covariance_attempts``.
    excluded : DataFrame
        ``patient_id``, ``rows``, ``reason``: ratings not modelled.
    """

    outcome: str
    reference_arm: str
    arms: tuple[str, ...]
    conf_level: float
    df_method: str
    covariance: str
    assessed: str
    occasions: pd.DataFrame
    marginal_means: pd.DataFrame
    effects: pd.DataFrame
    comparison: pd.DataFrame
    fixed_effects: pd.DataFrame
    excluded: pd.DataFrame
    converged: bool
    n_patients: int
    n_observations: int
    loglik: float
    warnings: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    covariance_attempts: pd.DataFrame = field(default_factory=lambda: attempts_frame([]),
                                              repr=False)
    fit: EngineFit | None = field(default=None, repr=False)
    kenward_roger: KenwardRoger | None = field(default=None, repr=False)

    def headline(self, session: int | None = None) -> str:
        """One sentence: the arm difference in the immediate change at ``session`` (default
        the first) and in the cumulative change at the last pre-needling or follow-up score.

        Examples
        --------
        >>> import dryneedle_outcomes as dno
        >>> c = dno.simulate_cohort(n_patients=60, seed=5, n_sessions=3, within_session=True)
        >>> dno.immediate_cumulative(c).headline()[:40]
        'Immediate effect of session 1 (post- min'
        """
        comp = self.comparison
        imm = comp[comp["effect"] == "immediate"]
        cum = comp[comp["effect"] == "cumulative"]
        if imm.empty or cum.empty:
            return ""
        k = int(imm["session"].min()) if session is None else int(session)
        row_i = imm[imm["session"] == k].iloc[0]
        row_c = cum.iloc[-1]
        pct = f"{self.conf_level:.0%}"
        return (f"Immediate effect of session {k} (post- minus pre-needling {self.outcome}), "
                f"{row_i['arm']} minus {self.reference_arm}: {row_i['estimate']:.1f} "
                f"({pct} CI {row_i['ci_lower']:.1f} to {row_i['ci_upper']:.1f}); cumulative "
                f"change from baseline after {int(row_c['session'])} session(s) (visit "
                f"{int(row_c['visit'])}): {row_c['estimate']:.1f} ({pct} CI "
                f"{row_c['ci_lower']:.1f} to {row_c['ci_upper']:.1f}).")

    def tables(self) -> dict[str, TableResult]:
        """The arm differences of each effect (with the notes), the per-arm effects, the
        least-squares means per occasion and the fixed effects."""
        what = f"{self.outcome}, immediate and cumulative effects"
        frames = {
            "comparison": (self.comparison, f"{what}: {', '.join(self.arms[1:])} minus "
                           f"{self.reference_arm} ({self.conf_level:.0%} CI)", 2),
            "effects": (self.effects, f"{what}: per arm", 2),
            "marginal_means": (self.marginal_means,
                               f"{what}: least-squares means per visit and timing", 2),
            "fixed_effects": (self.fixed_effects, f"{what}: fixed effects", 3),
        }
        return titled_tables(frames, self.notes, self.conf_level)

    def plot(self, ax=None, **kwargs):
        """The saw-tooth of pre- and post-session means per arm
        (:func:`dryneedle_outcomes.plots.plot_saw_tooth`); returns the Axes."""
        from ..plots.within_session import plot_saw_tooth

        return plot_saw_tooth(self, ax=ax, **kwargs)


def _occasions(rows: pd.DataFrame, sessions: Sequence[int]) -> pd.DataFrame:
    """Distinct (visit, timing) of the modelled rows, in time order, with sessions received."""
    occ = (rows[["visit", "timing"]].drop_duplicates()
           .assign(rank=lambda d: d["timing"].map(_RANK))
           .sort_values(["visit", "rank"]).reset_index(drop=True))
    sessions = np.asarray(sorted(sessions), dtype=float)
    before = np.searchsorted(sessions, occ["visit"].to_numpy(dtype=float), side="left")
    upto = np.searchsorted(sessions, occ["visit"].to_numpy(dtype=float), side="right")
    occ["sessions_received"] = np.where(occ["timing"] == "post_session", upto,
                                        np.where(occ["timing"] == "pre_session", before, upto))
    occ.insert(0, "occasion", np.arange(len(occ)))
    return occ.drop(columns="rank")


def _design(base: np.ndarray, arm: np.ndarray, occ: np.ndarray, n_arms: int,
            n_occ: int) -> np.ndarray:
    """Intercept, baseline, arm, occasion and arm x occasion columns (R's order)."""
    arm_cols = (arm[:, None] == np.arange(1, n_arms)[None, :]).astype(float)
    occ_cols = (occ[:, None] == np.arange(1, n_occ)[None, :]).astype(float)
    inter = (arm_cols[:, :, None] * occ_cols[:, None, :]).reshape(len(arm), -1)
    return np.column_stack([np.ones(len(arm)), base, arm_cols, occ_cols, inter])


def _names(arms: Sequence[str], occ: pd.DataFrame) -> list[str]:
    labels = [f"occasion[{v}:{t}]" for v, t in zip(occ["visit"], occ["timing"])][1:]
    arm_names = [f"arm[{a}]" for a in arms[1:]]
    return (["(Intercept)", "baseline"] + arm_names + labels
            + [f"{o}:{a}" for a in arm_names for o in labels])


def _tests(fit: EngineFit, kr: KenwardRoger | None, L: np.ndarray,
           conf_level: float) -> pd.DataFrame:
    res = fit.contrast(L, conf_level=conf_level) if kr is None else kr.contrast(
        L, conf_level=conf_level)
    return pd.DataFrame({c: np.asarray(res[c], dtype=float) for c in _STAT_COLUMNS})


def _effect_rows(occ: pd.DataFrame) -> list[tuple[str, int, int, int | None]]:
    """(effect, session or sessions received, end occasion, start occasion or None)."""
    out = []
    timing = occ["timing"].to_numpy()
    visit = occ["visit"].to_numpy()
    pre = np.flatnonzero(timing == "pre_session")
    for i in pre:
        post = np.flatnonzero((visit == visit[i]) & (timing == "post_session"))
        k = int(occ["sessions_received"].iloc[i]) + 1
        if len(post):
            out.append(("immediate", k, int(post[0]), int(i)))
        later = np.flatnonzero((visit > visit[i]) & (timing != "post_session"))
        if len(later):
            out.append(("carry_over", k, int(later[0]), int(i)))
    for i in np.flatnonzero(timing != "post_session"):
        out.append(("cumulative", int(occ["sessions_received"].iloc[i]), int(i), None))
    order = {e: j for j, e in enumerate(EFFECTS)}
    return sorted(out, key=lambda r: (order[r[0]], r[2]))


@one_channel
def immediate_cumulative(
    cohort: Cohort,
    outcome: str = "first_step_pain",
    *,
    covariance: str | Sequence[str] = "unstructured",
    df: str = "kenward_roger",
    reference_arm: str | None = None,
    conf_level: float = 0.95,
) -> ImmediateCumulativeResult:
    """Immediate (within-session), carry-over and cumulative effects per arm, and between arms.

    Parameters
    ----------
    cohort : Cohort
        With a ``timing`` column holding pre- and post-session ratings.
    outcome : str
        A registered instrument column.
    covariance : str or list of str
        Residual covariance over the occasions (visit x timing), as in
        :func:`~dryneedle_outcomes.fit_trajectory`; default unstructured (SAS
        ``REPEATED occasion / TYPE=UN``). A list is a pre-specified fallback order.
    df : {"kenward_roger", "kenward_roger_linear", "satterthwaite"}
        Denominator degrees of freedom of the t tests.
    reference_arm : str, optional
        The control arm (default: a sham/control-like arm name, else the last arm).
    conf_level : float

    Returns
    -------
    ImmediateCumulativeResult

    Raises
    ------
    AnalysisError
        Without pre- and post-session ratings, without two arms, or when an arm has no
        rating at some occasion (the model could not estimate its mean there).
    """
    get_instrument(outcome)
    conf_level = check_conf_level(conf_level)
    if df not in DF_METHODS:
        raise AnalysisError(f"df must be one of {', '.join(DF_METHODS)}, got {df!r}")
    order = covariance_order(covariance)
    a = cohort.assessments
    if outcome not in a:
        raise AnalysisError(f"outcome {outcome!r} is not in the cohort's assessments")
    if "timing" not in a or not set(TIMINGS) <= set(a["timing"].dropna().astype(str)):
        raise AnalysisError(
            "immediate and cumulative effects need pain rated before and after the needling "
            "of a session: a 'timing' column with pre_session and post_session rows (map it "
            "in the mapping's [assessments.columns]); this cohort has none")
    arms_present = [str(x) for x in cohort.patients["arm"].cat.categories
                    if (cohort.patients["arm"] == x).any()]
    if len(arms_present) < 2:
        raise AnalysisError(f"the effects are compared between arms; arms: {arms_present}")
    reference = choose_reference(arms_present, reference_arm)
    arms = [reference] + [x for x in arms_present if x != reference]

    rows = a[["patient_id", "visit", "timing", outcome]].rename(columns={outcome: "y"})
    rows = rows.assign(timing=rows["timing"].astype(object).where(rows["timing"].notna(),
                                                                  "single"))
    arm_of = cohort.patients.set_index("patient_id")["arm"].astype(str)
    rows["arm"] = rows["patient_id"].map(arm_of)
    base_rows = rows[(rows["visit"] == 0) & (rows["timing"] != "post_session")]
    base = base_rows.sort_values("timing").drop_duplicates("patient_id").set_index(
        "patient_id")["y"]
    rows["baseline"] = rows["patient_id"].map(base)
    excluded = []
    post0 = (rows["visit"] == 0) & (rows["timing"] == "post_session")
    no_base = rows["baseline"].isna() & (rows["visit"] >= 1)
    missing = rows["y"].isna() & (rows["visit"] >= 1) & ~no_base
    for mask, reason in ((no_base, "no baseline value (visit 0)"),
                         (post0, "a post-session rating at baseline (no needling at visit 0)"),
                         (missing, f"{outcome} missing (missing at random)")):
        if mask.any():
            lost = rows.loc[mask].groupby("patient_id").size()
            excluded.append(pd.DataFrame({"patient_id": lost.index, "rows": lost.to_numpy(),
                                          "reason": reason}))
    rows = rows.loc[(rows["visit"] >= 1) & ~no_base & ~missing].reset_index(drop=True)
    sessions = known_sessions(cohort) or tuple(sorted(
        rows.loc[rows["timing"] == "pre_session", "visit"].unique()))
    occ = _occasions(rows, sessions)
    arms_without_data(arms, reference, pd.unique(rows["arm"]),
                      what=f"post-baseline value of {outcome} with a baseline value")
    rows = rows.merge(occ[["visit", "timing", "occasion"]], on=["visit", "timing"])
    rows = rows.sort_values(["patient_id", "occasion"], kind="stable").reset_index(drop=True)
    cells = rows.groupby(["arm", "occasion"]).size()
    gaps = [(x, o) for x in arms for o in occ["occasion"] if (x, o) not in cells.index]
    if gaps:
        x, o = gaps[0]
        raise AnalysisError(
            f"arm {x!r} has no rating at visit {occ['visit'][o]} ({occ['timing'][o]}), so the "
            f"arm x occasion model cannot estimate it ({len(gaps)} empty cell(s))")

    arm_code = pd.Categorical(rows["arm"], categories=arms).codes
    X = _design(rows["baseline"].to_numpy(float), arm_code, rows["occasion"].to_numpy(),
                   len(arms), len(occ))
    names = _names(arms, occ)
    groups = pd.factorize(rows["patient_id"], sort=True)[0]
    occ_code = rows["occasion"].to_numpy()
    y = rows["y"].to_numpy(float)
    fit, used, attempts = fit_in_order(
        lambda st: fit_mmrm(y, X, groups, occ_code, structure=st, x_names=names,
                            n_visits=len(occ)), order)
    kr = (kenward_roger_adjustment(fit, X, groups, occ_code,
                                   linear=df == "kenward_roger_linear")
          if df in KR_METHODS else None)

    mean_base = float(rows["baseline"].mean())      # over the modelled rows, as emmeans
    grid_arm = np.repeat(np.arange(len(arms)), len(occ))
    grid_occ = np.tile(occ["occasion"].to_numpy(), len(arms))
    G = _design(np.full(len(grid_arm), mean_base), grid_arm, grid_occ, len(arms), len(occ))
    mm = _tests(fit, kr, G, conf_level)
    means = pd.DataFrame({"arm": np.asarray(arms)[grid_arm]}).join(
        occ.iloc[grid_occ][["visit", "timing", "sessions_received"]].reset_index(drop=True))
    means = means.join(mm.drop(columns=["statistic", "p_value"]))

    spec = _effect_rows(occ)
    n_occ = len(occ)
    Ls, diffs, meta = [], [], []
    for effect, k, end, start in spec:
        for j, arm in enumerate(arms):
            row = G[j * n_occ + end] - (G[j * n_occ + start] if start is not None else 0.0)
            Ls.append(row)
            meta.append((effect, arm, k, end))
            if j:
                ref = G[end] - (G[start] if start is not None else 0.0)
                diffs.append((row - ref, (effect, arm, k, end)))
    eff = _tests(fit, kr, np.array(Ls), conf_level)
    offset = np.array([mean_base if m[0] == "cumulative" else 0.0 for m in meta])
    for col in ("estimate", "ci_lower", "ci_upper"):
        eff[col] = eff[col] - offset
    head = pd.DataFrame(meta, columns=["effect", "arm", "session", "occasion"])
    head["visit"] = occ["visit"].to_numpy()[head["occasion"]]
    head["timing"] = occ["timing"].to_numpy()[head["occasion"]]
    effects = pd.concat([head.drop(columns="occasion"), eff], axis=1)
    dtab = _tests(fit, kr, np.array([d for d, _ in diffs]), conf_level)
    dhead = pd.DataFrame([m for _, m in diffs], columns=["effect", "arm", "session", "occasion"])
    dtab.insert(0, "arm", dhead["arm"])
    dtab.insert(1, "reference", reference)
    for col in ("effect", "session"):
        dtab[col] = dhead[col]
    dtab["visit"] = occ["visit"].to_numpy()[dhead["occasion"]]
    dtab["timing"] = occ["timing"].to_numpy()[dhead["occasion"]]
    comparison = comparison_frame(dtab.drop(columns=["statistic"]), measure="mean_difference")
    comparison = comparison[[*comparison.columns[:7], "effect", "session", "visit", "timing",
                             "std_error", "df"]]
    fe = _tests(fit, kr, np.eye(X.shape[1]), conf_level)
    fe.insert(0, "term", names)

    notes = [f"Model: y ~ baseline + arm * occasion (occasion = visit x timing: "
             f"{len(occ)} occasions), {used} residual covariance over occasions within "
             f"patient; REML on every available rating (missing at random); "
             f"{'Kenward-Roger' if kr is not None else 'Satterthwaite'} df; reference arm "
             f"{reference}.",
             "Immediate: post- minus pre-needling mean at session k. Carry-over: the next "
             "pre-needling (or follow-up) mean minus session k's pre-needling mean. "
             "Cumulative: the mean of a pre-needling or follow-up rating minus the mean "
             "baseline (baseline held at its mean, as ANCOVA).",
             describe_rule(cohort.assessed) + "."]
    sentence = order_sentence(attempts)
    if sentence:
        notes.insert(1, sentence)
    excluded_frame = (pd.concat(excluded, ignore_index=True) if excluded else
                      pd.DataFrame({"patient_id": pd.Series(dtype=object),
                                    "rows": pd.Series(dtype="int64"),
                                    "reason": pd.Series(dtype=object)}))
    if len(excluded_frame):
        notes.append(f"{int(excluded_frame['rows'].sum())} rating(s) not modelled (see "
                     f".excluded): {'; '.join(sorted(set(excluded_frame['reason'])))}.")
    return ImmediateCumulativeResult(
        outcome=outcome, reference_arm=reference, arms=tuple(arms), conf_level=conf_level,
        df_method=df, covariance=str(used), assessed=cohort.assessed, occasions=occ,
        marginal_means=means, effects=effects, comparison=comparison.reset_index(drop=True),
        fixed_effects=fe, excluded=excluded_frame, converged=bool(fit.converged),
        n_patients=int(rows["patient_id"].nunique()), n_observations=int(len(rows)),
        loglik=float(fit.loglik), warnings=tuple(fit.messages), notes=tuple(notes),
        covariance_attempts=attempts, fit=fit, kenward_roger=kr)


__all__ = ["EFFECTS", "ImmediateCumulativeResult", "immediate_cumulative"]
