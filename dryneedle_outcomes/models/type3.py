"""Type III F tests of every term of a trajectory model, and the inference they use.

One job: turn the fixed-effect columns of a fitted model into the hypothesis matrix ``L``
of each *term* (``arm``, ``visit``, ``visit:arm``, ``baseline``, a covariate) as SAS
builds Type III hypotheses for CLASS effects (:func:`type3_contrasts`), and test each
with the fit's df method (:func:`type3_table`): Satterthwaite (Fai & Cornelius 1996, as
SAS ``DDFM=SATTERTHWAITE``; :func:`..stats.mixed.ftest.satterthwaite_f`), Kenward-Roger
(the scaled F and its df, Kenward & Roger 1997, as SAS ``DDFM=KR`` and pbkrtest's
``KRmodcomp``; :meth:`..stats.mixed.kenward_roger.KenwardRoger.test`) or between-within
(SAS ``DDFM=BETWITHIN``, with the model-based or an empirical covariance;
:mod:`..stats.mixed.robust`).

**Which hypothesis.** SAS's Type III hypothesis of an effect (Goodnight 1980; SAS/STAT
"The Four Types of Estimable Functions") is, for a model that respects marginality, the
test that the effect's coefficients are zero when every CLASS variable is coded with
sum-to-zero contrasts (``contr.sum``) and continuous variables are left as they are. So
in ``y ~ baseline + arm * visit`` the Type III test of ``arm`` compares the arms' means
averaged with equal weights over visits (the LS-means), that of ``visit`` the visits'
means averaged over arms, and ``visit:arm`` is the interaction (whether the arm
difference changes over visits). A CLASS effect crossed with a continuous variable is
tested where that variable is 0, as SAS does (with a baseline-by-visit term, ``visit``
compares visits at baseline 0). Here the sum-to-zero design is built from the model's
own columns, ``X = X_sum M`` is solved for ``M``, and the rows of ``M`` that belong to a
term are its ``L`` in the model's (treatment-coded) parametrisation. A factor inside a
term whose margin is not in the model (a slope nested in arms) keeps indicator coding,
as R's ``model.matrix`` does. Golden values: SAS PROC MIXED's Type 3 tables on mmrm's
``fev_data`` (``tests/reference/mmrm_sas_type3_empirical/``), lmerTest's type III
``anova`` for the random-effects models (``tests/reference/trajectory_type3/``).
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from ..errors import AnalysisError
from ..stats.mixed.ftest import satterthwaite_f
from ..stats.mixed.kenward_roger import KenwardRoger
from ..stats.mixed.options import VCOV_METHODS
from ..stats.mixed.robust import (
    BetweenWithin,
    EmpiricalSatterthwaite,
    between_within,
    empirical_satterthwaite,
)

#: What tests the contrasts of a trajectory fit when it is not model-based Satterthwaite.
Inference = KenwardRoger | BetweenWithin | EmpiricalSatterthwaite

_FACTOR = re.compile(r"^(?P<var>[^\[]+)\[(?P<level>.+)\]$")


def _parts(name: str) -> list[tuple[str, str | None]]:
    """``"visit[2]:arm[dn]"`` -> ``[("visit", "2"), ("arm", "dn")]``; numeric parts get None."""
    out = []
    for part in re.split(r":(?![^\[]*\])", name):  # a ":" inside [level] is the level's
        m = _FACTOR.match(part)
        out.append((m["var"], m["level"]) if m else (part, None))
    return out


def type3_contrasts(X, names: list[str]) -> dict[str, np.ndarray]:
    """The Type III hypothesis matrix of every term, in the columns of ``X``.

    Parameters
    ----------
    X : ndarray, shape (n, p)
        The fixed-effects design of the modelled rows, full column rank.
    names : list of str
        Column names: ``"(Intercept)"``, numeric variables by name, factor indicators as
        ``"var[level]"`` (the reference level has no column), interactions joined by
        ``":"`` (the naming of :func:`.design.design_matrix`).

    Returns
    -------
    dict of str to ndarray
        Term label (the variables joined by ``":"``) -> ``L`` (rows: the term's columns),
        in the order the terms first appear; no entry for the intercept.

    Raises
    ------
    AnalysisError
        When a term's variables cannot be recoded from the columns present (a model that
        breaks marginality in a way this mapping does not cover).

    Examples
    --------
    Two arms and three visits, treatment-coded: the Type III ``arm`` hypothesis is the
    arm difference averaged over visits.

    >>> import numpy as np
    >>> arm = np.repeat([0.0, 1.0], 3)
    >>> v2, v3 = np.tile([0.0, 1.0, 0.0], 2), np.tile([0.0, 0.0, 1.0], 2)
    >>> X = np.column_stack([np.ones(6), arm, v2, v3, v2 * arm, v3 * arm])
    >>> names = ["(Intercept)", "arm[b]", "visit[2]", "visit[3]",
    ...          "visit[2]:arm[b]", "visit[3]:arm[b]"]
    >>> L = type3_contrasts(X, names)
    >>> list(L), np.round(L["arm"] / L["arm"][0, 1], 3).tolist()
    (['arm', 'visit', 'visit:arm'], [[0.0, 1.0, 0.0, 0.0, 0.333, 0.333]])
    """
    X = np.asarray(X, dtype=float)
    parts = [_parts(n) for n in names]
    col = {n: j for j, n in enumerate(names)}
    terms = [frozenset(v for v, _ in ps) for ps in parts]
    present = set(terms) | ({frozenset()} if "(Intercept)" in col else set())
    levels: dict[str, list[str]] = {}
    for ps in parts:
        if len(ps) == 1 and ps[0][1] is not None:
            levels.setdefault(ps[0][0], []).append(ps[0][1])

    def reference(var: str) -> np.ndarray:
        """Indicator of ``var``'s reference level (which has no column of its own)."""
        if var not in levels:
            raise AnalysisError(f"the Type III hypotheses cannot be formed: {var!r} has no "
                                "main-effect columns to recode it from")
        return 1.0 - X[:, [col[f"{var}[{lv}]"] for lv in levels[var]]].sum(axis=1)

    def indicator(var: str, level: str) -> np.ndarray:
        key = f"{var}[{level}]"
        return X[:, col[key]] if key in col else reference(var)

    Xs = np.empty_like(X)
    for j, (name, ps, term) in enumerate(zip(names, parts, terms)):
        if name == "(Intercept)":
            Xs[:, j] = 1.0
            continue
        sum_coded = [lv is not None and (term - {v}) in present for v, lv in ps]
        if not any(sum_coded):
            Xs[:, j] = X[:, j]  # indicator coding throughout: the column as it is
            continue
        value = np.ones(X.shape[0])
        for (var, level), s in zip(ps, sum_coded):
            if level is None:
                if var not in col:
                    raise AnalysisError(f"cannot recode column {name!r}: no column {var!r}")
                value = value * X[:, col[var]]
            elif s:
                # contr.sum with the reference level as the one coded -1
                value = value * (indicator(var, level) - reference(var))
            else:
                value = value * indicator(var, level)
        Xs[:, j] = value
    M, *_ = np.linalg.lstsq(Xs, X, rcond=None)
    gap = np.max(np.abs(Xs @ M - X)) / max(1.0, float(np.max(np.abs(X))))
    if not gap < 1e-8:
        raise AnalysisError("the Type III hypotheses cannot be formed for this model: its "
                            "sum-to-zero recoding spans another column space (a term whose "
                            "margins are missing)")
    out: dict[str, np.ndarray] = {}
    for j, (name, ps) in enumerate(zip(names, parts)):
        if name == "(Intercept)":
            continue
        label = ":".join(v for v, _ in ps)
        out.setdefault(label, [])
        out[label].append(M[j])
    return {k: np.vstack(v) for k, v in out.items()}


def type3_table(fit, X, names: list[str], *, df_method: str, kenward_roger=None,
                robust: BetweenWithin | EmpiricalSatterthwaite | None = None
                ) -> pd.DataFrame:
    """Type III F test of every term (:func:`type3_contrasts`) with the fit's df method.

    Parameters
    ----------
    fit : EngineFit
    X : ndarray
        The design of the modelled rows.
    names : list of str
        Its column names.
    df_method : str
        ``"satterthwaite"`` (model-based covariance, Fai-Cornelius df),
        ``"kenward_roger"`` / ``"kenward_roger_linear"`` (``kenward_roger`` given: the
        scaled F on the KR df), ``"between_within"`` (``robust`` a
        :class:`~dryneedle_outcomes.stats.mixed.robust.BetweenWithin`, with its
        covariance) or ``"satterthwaite"`` with an empirical covariance (``robust`` an
        :class:`~dryneedle_outcomes.stats.mixed.robust.EmpiricalSatterthwaite`).
    kenward_roger : KenwardRoger, optional
    robust : BetweenWithin or EmpiricalSatterthwaite, optional

    Returns
    -------
    DataFrame
        ``term``, ``num_df``, ``den_df``, ``statistic`` (F), ``p_value``, ``df_method``
        (and ``vcov``: the covariance of the fixed effects used).
    """
    rows = []
    for term, L in type3_contrasts(X, names).items():
        if kenward_roger is not None:
            r = kenward_roger.test(L)
            res = {"num_df": r["ndf"], "den_df": r["df"], "statistic": r["F"],
                   "p_value": r["p_value"]}
        elif robust is not None:
            res = robust.test(L)
        else:
            res = satterthwaite_f(fit, L)
        rows.append({"term": term, "num_df": int(res["num_df"]),
                     "den_df": float(res["den_df"]), "statistic": float(res["statistic"]),
                     "p_value": float(res["p_value"])})
    out = pd.DataFrame(rows, columns=["term", "num_df", "den_df", "statistic", "p_value"])
    out["df_method"] = df_method
    out["vcov"] = "model" if robust is None else robust.vcov_method
    return out


def check_vcov(model: str, df: str, vcov: str) -> None:
    """Refuse, in words, a covariance / df combination :func:`.fit_trajectory` does not fit.

    Raises
    ------
    AnalysisError
        For an unknown ``vcov``, a sandwich or between-within df outside the MMRM, or a
        sandwich with Kenward-Roger df (which adjust the model-based covariance; SAS and
        mmrm refuse it too).
    """
    if vcov not in VCOV_METHODS:
        raise AnalysisError(f"vcov must be one of {', '.join(VCOV_METHODS)}, got {vcov!r}")
    if (vcov != "model" or df == "between_within") and model != "mmrm":
        raise AnalysisError(f"vcov={vcov!r} with df={df!r} is available for model='mmrm' "
                            "only")
    if vcov != "model" and df not in ("between_within", "satterthwaite"):
        raise AnalysisError(f"vcov={vcov!r} goes with df='between_within' (SAS pairs "
                            "EMPIRICAL with DDFM=BETWITHIN) or df='satterthwaite' (R mmrm's "
                            f"df for the sandwich), not df={df!r}: Kenward-Roger adjusts the "
                            "model-based covariance")


def robust_inference(frame, fit, vcov: str, df: str, structure: str | None
                     ) -> BetweenWithin | EmpiricalSatterthwaite | None:
    """The inference of an MMRM fit of ``frame`` other than model-based Satterthwaite or
    Kenward-Roger: between-within df (with covariance ``vcov``), or an empirical
    covariance with mmrm's Satterthwaite df; None for the model-based cases."""
    if df != "between_within" and vcov == "model":
        return None
    layout = fit.extra.get("layout")
    if vcov != "model" and (structure == "spatial_exp"
                            or (layout is not None and layout.group_names)):
        raise AnalysisError(f"vcov={vcov!r} is available for covariances over visits shared "
                            "by all patients; not yet with covariance='spatial_exp' or a "
                            "covariance per arm (covariance_by_arm=True)")
    from .design import design_matrix

    d = frame.data
    X, _ = design_matrix(frame, d, "mmrm")
    groups = pd.factorize(d["patient_id"], sort=True)[0]
    visits = np.searchsorted(np.asarray(frame.visits), d["visit"].to_numpy())
    y = d["y"].to_numpy(dtype=float)
    if df == "between_within":
        return between_within(fit, X, y, groups, visits, vcov=vcov,
                              unstructured=structure == "unstructured")
    return empirical_satterthwaite(fit, X, y, groups, visits, vcov=vcov)


__all__ = ["Inference", "check_vcov", "robust_inference", "type3_contrasts", "type3_table"]
