"""Spatial exponential, homogeneous ante-dependence and a covariance per group, against
SAS PROC MIXED, R's mmrm and nlme::gls.

Reference values: ``tests/reference/mmrm_covstruct/`` (README there):

* ``sas_mmrm_reml.csv``: SAS 9.4 PROC MIXED listings shipped in openpharma/mmrm's
  ``design/`` folder -- ``TYPE=SP(EXP)(VISITN)`` and ``SP(EXP)(VISITN VISITN2)``
  (intercept only, Satterthwaite), ``SP(EXP)(VISITN VISITN2)`` with ``MODEL FEV1 =
  ARMCD`` and ``DDFM=KR`` / ``KR(LINEAR)``, ``GROUP=ARMCD`` with CS, CSH, AR(1), ARH(1),
  TOEPH, ANTE(1) (intercept only) and UN (``MODEL FEV1 = ARMCD``); and R mmrm's own
  output for its homogeneous ante-dependence ``ad`` (SAS has none).
* ``nlme_spatial.csv``: ``nlme::gls`` with ``corExp`` (``make_nlme.R``) on fev_data and
  on the sample cohort's frame with each row's own day (``sample_spatial.csv``).

Data: ``fev_data`` of R's mmrm package at ``../shared/external/mmrm/fev_data.csv``
relative to the repository (the tests that need it skip without it).

Tolerances, and why
-------------------
As ``tests/test_kenward_roger_sas.py`` (whose module docstring gives the argument): SAS
stops at ``CONVH=1E-8``, so its estimates and covariance parameters are within
``r = sqrt(1e-8 |-2RLL| / 2)`` SEs of the REML optimum, the engine's own distance
(:func:`tolerances.mmrm_se`) added; ``TWO_FITS * r`` SEs for estimates and covariance
parameters, ``TWO_FITS * r * s`` relative for standard errors and df with the
sensitivity bounds ``s`` measured in ``tests/reference/mmrm_sas/sensitivity.py`` (0.1 for
SEs, 0.2 for df); plus half a unit in the last digit printed. R mmrm stops its L-BFGS-B
when one iteration reduces the deviance by less than ``factr * eps = 2.2e-9`` relative
(its listing: "rel_reduction_of_f <= factr*epsmch"); that is no bound on the distance to
the optimum, so the SAS bound ``1e-8 |f|`` (4.5 times looser) is used for it too (the
engine's covariance matrix is 4e-4 of an SE from mmrm's). nlme's ``gls`` was run with
``tolerance = 1e-10`` and ``msTol = 1e-12``: the same bound is used for it.

The -2 REML log-likelihood: the engine's may be below SAS's by at most SAS's
``1e-8 |f| / 2`` (SAS stopped short) and above it only by the rounding of the printed
value.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from tolerances import TWO_FITS, mmrm_se, sas_mixed_se

import dryneedle_outcomes as dno
from dryneedle_outcomes.errors import AnalysisError, DataQualityWarning
from dryneedle_outcomes.models.design import design_matrix
from dryneedle_outcomes.stats.mixed.kenward_roger import kenward_roger_adjustment
from dryneedle_outcomes.stats.mixed.mmrm import fit_mmrm

REPO = Path(__file__).resolve().parents[1]
FEV_DATA = REPO.parent / "shared" / "external" / "mmrm" / "fev_data.csv"
REF_DIR = REPO / "tests" / "reference" / "mmrm_covstruct"
needs_fev = pytest.mark.skipif(
    not FEV_DATA.exists(),
    reason=f"mmrm's fev_data is not at {FEV_DATA} (outside the repository; see "
           "tests/reference/mmrm_covstruct/README.md)")
SENSITIVITY = {"se": 0.1, "t": 0.1, "df": 0.2}
DIFF = "ARMCD TRT - PBO"
#: SAS TYPE= (GROUP=ARMCD listings) -> the engine's structure.
GROUPED = {"CS": "cs", "CSH": "cs_hetero", "AR(1)": "ar1", "ARH(1)": "ar1_hetero",
           "TOEPH": "toeplitz_hetero", "ANTE(1)": "ante1_hetero"}
SPATIAL = {"SP(EXP)(VISITN)": ["VISITN"], "SP(EXP)(VISITN VISITN2)": ["VISITN", "VISITN2"]}


def _read(name: str, key_cols: list[str]) -> dict:
    out = {}
    with (REF_DIR / name).open(newline="") as f:
        for r in csv.DictReader(f):
            out[tuple(r[c] for c in key_cols)] = r
    return out


SAS = {}
for _k, _r in _read("sas_mmrm_reml.csv", ["structure", "group", "model", "ddfm", "quantity",
                                          "term"]).items():
    _text = _r["value"]
    _dec = len(_text.split(".")[1]) if "." in _text else 0
    SAS[_k] = (float(_text), 0.0 if int(_r["digits_printed"]) >= 15 else 0.5 * 10.0**-_dec)
NLME = {k: float(r["value"]) for k, r in _read("nlme_spatial.csv",
                                               ["fit", "quantity", "term"]).items()}


def _r(deviance: float) -> float:
    return sas_mixed_se(deviance) + mmrm_se(deviance)


def _close(ours, key, r, what, scale=None, sensitivity=1.0):
    value, half = SAS[key]
    allowed = TWO_FITS * r * (sensitivity * abs(value) if scale is None else scale) + half
    allowed += 1e-12 * abs(value)
    assert abs(ours - value) <= allowed, f"{what}: {ours!r} vs {value!r} ({allowed:.3g})"


def _check_deviance(fit, key):
    dev = -2.0 * fit.loglik
    ref, half = SAS[key]
    assert dev <= ref + half + 1e-14 * abs(ref), (key, dev, ref)
    assert dev >= ref - sas_mixed_se(ref) ** 2 - half, (key, dev, ref)
    return _r(dev)


def _varpar_name(structure: str, term: str) -> str:
    """The engine's ``varpar`` name of SAS's covariance parameter ``term``."""
    label, _, group = term.partition(" ARMCD ")
    prefix = f"{group}: " if group else ""
    if label.startswith("Var("):
        name = f"var[{int(label[4:-1]) - 1}]"
    elif label.startswith("UN("):
        i, j = sorted((int(x) - 1 for x in label[3:-1].split(",")), reverse=True)
        name = f"var[{i}]" if i == j else f"cov[{j},{i}]"
    elif label.startswith("TOEPH("):
        name = f"rho_lag[{label[6:-1]}]"
    elif label.startswith("Rho("):
        name = f"rho_adjacent[{label[4:-1]}]"
    elif label == "SP(EXP)":
        name = "range"
    elif label == "Residual":
        name = "sigma2"
    elif label == "Variance":
        name = "within_variance" if structure == "CS" else "sigma2"
    elif structure == "CS":  # the CS parameter: the common covariance
        name = "covariance"
    else:  # CSH, AR(1), ARH(1): the correlation
        name = "rho"
    return prefix + name


def _check_covparms(fit, head, r):
    se = np.sqrt(np.diag(fit.cov_varpar))
    terms = [k[5] for k in SAS if k[:5] == (*head, "covparm")]
    assert len(terms) == len(fit.varpar)
    for term in terms:
        i = fit.varpar_names.index(_varpar_name(head[0], term))
        _close(fit.varpar[i], (*head, "covparm", term), r, f"{head} {term}", se[i])


@pytest.fixture(scope="module")
def fev():
    if not FEV_DATA.exists():
        pytest.skip(f"mmrm's fev_data is not at {FEV_DATA}")
    d = pd.read_csv(FEV_DATA)
    d = d[d["FEV1"].notna()]  # a missed visit is an absent row, as SAS drops it
    assert len(d) == 537
    return d, {
        "y": d["FEV1"].to_numpy(dtype=float),
        "groups": pd.factorize(d["USUBJID"], sort=True)[0],
        "visits": d["AVISIT"].str.removeprefix("VIS").astype(int).to_numpy() - 1,
        "X": np.column_stack([np.ones(len(d)), (d["ARMCD"] == "TRT").to_numpy(dtype=float)]),
        "arm": (d["ARMCD"] == "TRT").to_numpy(dtype=int),  # 0 PBO, 1 TRT (SAS's order)
    }


def _fit(a, p, **kw):
    return fit_mmrm(a["y"], a["X"][:, :p], a["groups"], a["visits"], **kw)


def _check_intercept_model(fit, head) -> None:
    """An intercept-only SAS fit (``MODEL FEV1 = / ddfm=satterthwaite``): -2 REML
    log-likelihood, covariance parameters, intercept, its SE and df."""
    assert fit.converged, fit.messages
    r = _check_deviance(fit, (*head, "m2loglik_iter", ""))
    _check_covparms(fit, head, r)
    res = fit.contrast([1.0])
    _close(res["estimate"][0], (*head, "estimate", "Intercept"), r, "intercept",
           res["std_error"][0])
    _close(res["std_error"][0], (*head, "se", "Intercept"), r, "SE",
           sensitivity=SENSITIVITY["se"])
    _close(res["df"][0], (*head, "df", "Intercept"), r, "df", sensitivity=SENSITIVITY["df"])


# ---------------------------------------------------------------- spatial exponential
@needs_fev
@pytest.mark.parametrize("sas_type", list(SPATIAL))
def test_spatial_exponential_matches_sas_satterthwaite(fev, sas_type):
    d, a = fev
    fit = _fit(a, 1, structure="spatial_exp", coordinates=d[SPATIAL[sas_type]].to_numpy(float))
    _check_intercept_model(fit, (sas_type, "", "M_INT", "satterthwaite"))


@needs_fev
@pytest.mark.parametrize("ddfm", ["KR", "KR(LINEAR)"])
def test_spatial_exponential_kenward_roger_matches_sas(fev, ddfm):
    """``DDFM=KR`` / ``KR(LINEAR)`` with ``TYPE=SP(EXP)(VISITN VISITN2)``: the second-order
    terms in SAS's (range, sigma2) parametrisation."""
    d, a = fev
    fit = _fit(a, 2, structure="spatial_exp",
               coordinates=d[["VISITN", "VISITN2"]].to_numpy(float))
    head = ("SP(EXP)(VISITN VISITN2)", "", "M_ARM_KR", ddfm)
    r = _check_deviance(fit, (*head, "m2loglik_iter", ""))
    _check_covparms(fit, head, r)
    kr = kenward_roger_adjustment(fit, a["X"], a["groups"], a["visits"],
                                  linear=ddfm == "KR(LINEAR)")
    model_se = np.sqrt(np.diag(fit.vcov))
    diff = kr.contrast([0.0, 1.0])
    _close(diff["estimate"][0], (*head, "lsmean_diff_estimate", DIFF), r, "difference",
           model_se[1])
    for q, col in (("se", "std_error"), ("df", "df"), ("t", "statistic")):
        _close(diff[col][0], (*head, f"lsmean_diff_{q}", DIFF), r, f"{ddfm} diff {q}",
               sensitivity=SENSITIVITY[q])
    coef = kr.contrast(np.eye(2))
    L = np.array([[1.0, 0.0], [1.0, 1.0]])
    lsm = kr.contrast(L)
    for i, (term, arm) in enumerate([("Intercept", "ARMCD PBO"), ("ARMCD TRT", "ARMCD TRT")]):
        _close(coef["estimate"][i], (*head, "estimate", term), r, term, model_se[i])
        _close(coef["std_error"][i], (*head, "se", term), r, f"SE {term}",
               sensitivity=SENSITIVITY["se"])
        _close(coef["df"][i], (*head, "df", term), r, f"df {term}",
               sensitivity=SENSITIVITY["df"])
        _close(lsm["std_error"][i], (*head, "lsmean_se", arm), r, f"LS-mean SE {arm}",
               sensitivity=SENSITIVITY["se"])
        _close(lsm["df"][i], (*head, "lsmean_df", arm), r, f"LS-mean df {arm}",
               sensitivity=SENSITIVITY["df"])
    test = kr.test([0.0, 1.0])
    _close(test["df"], (*head, "type3_dendf", "ARMCD"), r, "Type 3 df",
           sensitivity=SENSITIVITY["df"])
    _close(test["F_unscaled"], (*head, "type3_F", "ARMCD"), r, "F",
           sensitivity=2 * SENSITIVITY["t"])


@needs_fev
@pytest.mark.parametrize("name,columns", [("fev_1d", ["VISITN"]),
                                          ("fev_2d", ["VISITN", "VISITN2"])])
def test_spatial_exponential_matches_nlme_corexp(fev, name, columns):
    d, a = fev
    fit = _fit(a, 2, structure="spatial_exp", coordinates=d[columns].to_numpy(float))
    dev = -2.0 * fit.loglik
    r = _r(dev)
    assert abs(fit.loglik - NLME[(name, "logLik(m)", "")]) <= sas_mixed_se(dev) ** 2
    se = np.sqrt(np.diag(fit.vcov))
    for i, term in enumerate(["(Intercept)", "ARMCDTRT"]):
        assert abs(fit.beta[i] - NLME[(name, "coef(m)", term)]) <= TWO_FITS * r * se[i]
        ref_se = NLME[(name, "sqrt(diag(vcov(m)))", term)]
        assert abs(se[i] - ref_se) <= TWO_FITS * r * SENSITIVITY["se"] * ref_se
    vse = np.sqrt(np.diag(fit.cov_varpar))
    for i, q in enumerate(["range", "sigma(m)^2"]):
        assert abs(fit.varpar[i] - NLME[(name, q, "")]) <= TWO_FITS * r * vse[i], q


# ---------------------------------------------------------------- homogeneous ante-dependence
@needs_fev
def test_homogeneous_ante_dependence_matches_r_mmrm(fev):
    """``FEV1 ~ ad(AVISIT | USUBJID)`` by R mmrm (design/R/mmrm_ad_reml.txt)."""
    _, a = fev
    fit = _fit(a, 1, structure="ante1")
    assert fit.converged and fit.varpar_names[:2] == ["sigma2", "rho_adjacent[1]"]
    head = ("ad", "", "M_INT", "satterthwaite")
    dev = -2.0 * fit.loglik
    ref, half = SAS[(*head, "deviance", "")]
    assert ref - sas_mixed_se(ref) ** 2 - half <= dev <= ref + half
    r = _r(dev)
    res = fit.contrast([1.0])
    _close(res["estimate"][0], (*head, "estimate", "Intercept"), r, "ad intercept",
           res["std_error"][0])
    _close(res["std_error"][0], (*head, "se", "Intercept"), r, "ad SE",
           sensitivity=SENSITIVITY["se"])
    _close(res["df"][0], (*head, "df", "Intercept"), r, "ad df", sensitivity=SENSITIVITY["df"])
    # the covariance matrix entries: within TWO_FITS * r SEs of sigma2 times their scale
    Sigma = fit.extra["Sigma"]
    J = np.array([fit.extra["layout"].structure.sigma_phi(fit.varpar)[1][:, i, j]
                  for i in range(4) for j in range(i + 1)])
    se_entries = np.sqrt(np.einsum("ek,kl,el->e", J, fit.cov_varpar, J))
    e = 0
    for i in range(4):
        for j in range(i + 1):
            _close(Sigma[i, j], (*head, "covariance", f"VIS{i + 1},VIS{j + 1}"), r,
                   f"ad Sigma[{i},{j}]", se_entries[e])
            e += 1


# ---------------------------------------------------------------- GROUP=
@needs_fev
@pytest.mark.parametrize("sas_type", list(GROUPED))
def test_covariance_per_group_matches_sas(fev, sas_type):
    """``REPEATED AVISIT / TYPE=t GROUP=ARMCD``, intercept only, Satterthwaite df."""
    _, a = fev
    fit = _fit(a, 1, structure=GROUPED[sas_type], cov_groups=a["arm"],
               cov_group_names=["PBO", "TRT"])
    _check_intercept_model(fit, (sas_type, "ARMCD", "M_INT", "satterthwaite"))


@needs_fev
def test_unstructured_per_group_matches_sas(fev):
    """``MODEL FEV1 = ARMCD``, ``TYPE=UN GROUP=ARMCD`` (design/SAS/sas_resid_un_grp.txt):
    the 20 covariance parameters, -2 REML log-likelihood, and the predicted arm means
    with their model-based SEs (the listing's Pred and StdErr Pred)."""
    _, a = fev
    fit = _fit(a, 2, structure="unstructured", cov_groups=a["arm"],
               cov_group_names=["PBO", "TRT"])
    head = ("UN", "ARMCD", "M_ARM", "between-within")
    r = _check_deviance(fit, (*head, "m2loglik_iter", ""))
    _check_covparms(fit, head, r)
    L = np.array([[1.0, 1.0], [1.0, 0.0]])
    se = np.sqrt(np.diag(L @ fit.vcov @ L.T))
    for i, arm in enumerate(["ARMCD TRT", "ARMCD PBO"]):
        _close((L @ fit.beta)[i], (*head, "pred_estimate", arm), r, f"mean {arm}", se[i])
        _close(se[i], (*head, "pred_se", arm), r, f"SE {arm}", sensitivity=SENSITIVITY["se"])


@needs_fev
@pytest.mark.parametrize("structure", ["unstructured", "ar1_hetero", "spatial_exp"])
def test_group_fit_with_separate_means_is_two_separate_fits(fev, structure):
    """With one mean per arm and a covariance per arm the REML likelihood factorises, so
    the grouped fit (Satterthwaite and Kenward-Roger, each checked against SAS for one
    group above and in test_kenward_roger_sas.py) equals the two one-arm fits."""
    d, a = fev
    X = np.column_stack([1 - a["arm"], a["arm"]]).astype(float)
    coords = d["VISITN"].to_numpy(float) if structure == "spatial_exp" else None
    fit = fit_mmrm(a["y"], X, a["groups"], a["visits"], structure=structure,
                   cov_groups=a["arm"], cov_group_names=["PBO", "TRT"], coordinates=coords)
    kr = kenward_roger_adjustment(fit, X, a["groups"], a["visits"]).contrast(np.eye(2))
    sat = fit.contrast(np.eye(2))
    dev = 0.0
    for j in (0, 1):
        rows = a["arm"] == j
        one = fit_mmrm(a["y"][rows], np.ones((rows.sum(), 1)), a["groups"][rows],
                       a["visits"][rows], structure=structure, n_visits=4,
                       coordinates=None if coords is None else coords[rows])
        dev += -2.0 * one.loglik
        r = TWO_FITS * 2 * mmrm_se(-2.0 * one.loglik)
        se = np.sqrt(one.vcov[0, 0])
        assert abs(fit.beta[j] - one.beta[0]) <= r * se
        one_kr = kenward_roger_adjustment(one, np.ones((rows.sum(), 1)), a["groups"][rows],
                                          a["visits"][rows]).contrast([1.0])
        for ours, theirs, s in ((sat["std_error"][j], se, "se"),
                                (sat["df"][j], one.contrast([1.0])["df"][0], "df"),
                                (kr["std_error"][j], one_kr["std_error"][0], "se"),
                                (kr["df"][j], one_kr["df"][0], "df")):
            assert ours == pytest.approx(theirs, rel=r * SENSITIVITY[s] + 1e-9), s
    # REML: -2 log|X'WX| is additive over the blocks, so the deviances add up
    assert -2.0 * fit.loglik == pytest.approx(dev, abs=1e-6)


# ---------------------------------------------------------------- through fit_trajectory
@pytest.fixture(scope="module")
def sample_spatial():
    import importlib.util

    spec = importlib.util.spec_from_file_location("export_frame", REF_DIR / "export_frame.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    cohort, _ = mod.sample_frame()
    return cohort


def test_fit_trajectory_spatial_on_each_rows_day_matches_nlme(sample_spatial):
    """``gls(y ~ baseline + arm * factor(visit), correlation = corExp(form = ~ day |
    patient_id))`` on the sample cohort, whose days differ between patients at a visit."""
    # R's formula has no baseline-by-visit interaction (fit_trajectory's default has it)
    # Satterthwaite: nlme's and emmeans' model-based SEs (the default KR adjusts them)
    # and no instrument covariate (the reference predates the pooled NRS's covariate)
    fit = dno.fit_trajectory(sample_spatial, model="mmrm", covariance="spatial_exp",
                             df="satterthwaite", baseline_by_visit=False,
                             adjust_instrument=False)
    assert fit.converged
    dev = -2.0 * fit.loglik
    r = _r(dev)
    assert abs(fit.loglik - NLME[("sample", "logLik(m)", "")]) <= sas_mixed_se(dev) ** 2
    fe = fit.fixed_effects.set_index("term")
    ref = {k[2]: v for k, v in NLME.items() if k[:2] == ("sample", "coef(m)")}
    ref_se = {k[2]: v for k, v in NLME.items() if k[:2] == ("sample", "sqrt(diag(vcov(m)))")}
    assert len(ref) == len(fe)
    for (term, row), (rterm, value) in zip(fe.iterrows(), ref.items()):
        assert abs(row["estimate"] - value) <= TWO_FITS * r * row["std_error"], (term, rterm)
        assert abs(row["std_error"] - ref_se[rterm]) <= \
            TWO_FITS * r * SENSITIVITY["se"] * ref_se[rterm], term
    comp = fit.comparison.set_index("visit")
    for v in comp.index:
        est = NLME[("sample", "emmeans difference estimate", f"visit {v}")]
        se = NLME[("sample", "emmeans difference SE", f"visit {v}")]
        assert abs(comp.loc[v, "estimate"] - est) <= TWO_FITS * r * se
        assert abs(comp.loc[v, "std_error"] - se) <= TWO_FITS * r * SENSITIVITY["se"] * se
    vc = fit.variance_components.set_index("component")["estimate"]
    vse = np.sqrt(np.diag(fit.fit.cov_varpar))
    assert abs(vc["range (days)"] - NLME[("sample", "range", "")]) <= TWO_FITS * r * vse[0]
    assert abs(vc["variance"] - NLME[("sample", "sigma(m)^2", "")]) <= TWO_FITS * r * vse[1]
    assert "SP(EXP)(day)" in fit.methods()[0]


def test_spatial_uses_declared_schedule_and_refuses_missing_days(sample_spatial):
    schedule = {v: 7.0 * v if v <= 6 else 84.0 for v in range(1, 8)}
    fit = dno.fit_trajectory(sample_spatial, model="mmrm", covariance="spatial_exp",
                             spatial_coordinate=schedule)
    d = fit.frame.data
    own = fit_mmrm(d["y"].to_numpy(float), design_matrix(fit.frame, d, "mmrm")[0],
                   pd.factorize(d["patient_id"], sort=True)[0],
                   np.searchsorted(fit.frame.visits, d["visit"].to_numpy()),
                   structure="spatial_exp", coordinates=d["visit"].map(schedule).to_numpy())
    assert fit.loglik == own.loglik
    assert fit.fit.extra["layout"].n_slots == 7  # one coordinate per visit
    assert "declared day of each visit" in fit.methods()[0]
    a = sample_spatial.assessments.copy()
    row = a.index[(a["visit"] == 3) & a["first_step_pain"].notna()][0]
    a.loc[row, "day"] = np.nan
    a.loc[row, "date"] = pd.NaT  # (load_cohort derives day from date)
    with pytest.warns(DataQualityWarning, match="needled visit"):  # the sample's planted
        broken = dno.load_cohort(a, sample_spatial.patients)      # protocol deviations
    with pytest.raises(AnalysisError, match=r"have none .*spatial_coordinate"):
        dno.fit_trajectory(broken, model="mmrm", covariance="spatial_exp")
    with pytest.raises(AnalysisError, match="no \\(finite\\) day for visit"):
        dno.fit_trajectory(sample_spatial, model="mmrm", covariance="spatial_exp",
                           spatial_coordinate={1: 7.0})


def test_fit_trajectory_covariance_by_arm(sample_spatial):
    fit = dno.fit_trajectory(sample_spatial, model="mmrm", covariance="cs",
                             covariance_by_arm=True, df="kenward_roger")
    assert fit.converged
    vc = fit.variance_components
    assert list(vc.columns) == ["arm", "component", "estimate"]
    assert set(vc["arm"]) == set(fit.frame.arms)
    assert fit.fit.varpar_names[0] == f"{fit.frame.arms[0]}: covariance"
    assert np.all(np.isfinite(fit.comparison["df"]))
    assert "separately per arm (SAS GROUP=arm)" in fit.methods()[0]
    with pytest.raises(AnalysisError, match="covariance_by_arm"):
        dno.fit_trajectory(sample_spatial, model="random_slope", covariance_by_arm=True)


def test_engine_input_errors():
    y = np.arange(8.0)
    X = np.ones((8, 1))
    g = np.repeat(np.arange(4), 2)
    v = np.tile([0, 1], 4)
    with pytest.raises(AnalysisError, match="needs the coordinate"):
        fit_mmrm(y, X, g, v, structure="spatial_exp")
    with pytest.raises(AnalysisError, match="coordinates= is used by"):
        fit_mmrm(y, X, g, v, structure="ar1", coordinates=v.astype(float))
    with pytest.raises(AnalysisError, match="same coordinate"):
        fit_mmrm(y, X, g, v, structure="spatial_exp", coordinates=np.zeros(8))
    with pytest.raises(AnalysisError, match="missing or non-finite coordinate"):
        fit_mmrm(y, X, g, v, structure="spatial_exp",
                 coordinates=np.where(v == 0, np.nan, 7.0))
    with pytest.raises(AnalysisError, match="two covariance groups"):
        fit_mmrm(y, X, g, v, structure="cs", cov_groups=v)
    with pytest.raises(AnalysisError, match="group B: visit"):
        fit_mmrm(y[:5], X[:5], g[:5], v[:5], structure="cs_hetero",
                 cov_groups=np.array([0, 0, 0, 0, 1]), cov_group_names=["A", "B"])
