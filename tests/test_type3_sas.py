"""Type III F tests and the empirical (sandwich) covariance against SAS PROC MIXED.

Reference values: ``tests/reference/mmrm_sas_type3_empirical/sas_values.csv`` (SAS 9.4
output shipped in openpharma/mmrm's ``design/`` folder; its README gives the SAS
statements), and for the Kenward-Roger Type 3 rows ``tests/reference/mmrm_sas/``. Data:
mmrm's ``fev_data`` from ``../shared/external/mmrm/fev_data.csv`` relative to the
repository (the tests skip without it).

Models (REML, ``REPEATED AVISIT / SUBJECT=USUBJID``):

* ``M_ARM_EMPIRICAL``: ``PROC MIXED EMPIRICAL; MODEL FEV1 = ARMCD``, eight structures:
  SAS's empirical covariance (ODS, 15 digits), coefficient, LS-mean and difference SEs and
  between-within df, the Type 3 F of ARMCD.
* ``M_ANOVA_1``: ``MODEL FEV1 = ARMCD FEV1_BL FEV1_BL*ARMCD / DDFM=SATTERTHWAITE``,
  ``M_ANOVA_2``: ``MODEL FEV1 = ARMCD SEX SEX*ARMCD FEV1_BL*ARMCD`` (a 2-df term), both
  TYPE=AR(1): Type 3 F and Satterthwaite (Fai-Cornelius) df, full precision.

Tolerances, and why
-------------------
As ``tests/test_kenward_roger_sas.py``: SAS stops within ``r = sqrt(1e-8 |-2RLL| / 2)``
SEs of the REML optimum (``CONVH=1E-8``; 4.3e-3 here) and the engine within
:func:`tolerances.mmrm_se`; estimates agree to ``TWO_FITS * r`` of their SE; a smooth
function ``q`` of the covariance parameters to ``TWO_FITS * r * s`` relative, ``s`` its
relative change per SE of the covariance parameters: measured 0.021 at most for the
empirical SEs (``mmrm_sas_type3_empirical/sensitivity_empirical.py``; the test uses 0.05, twice
that for the variances in the covariance matrix and for F), and the bounds of the KR
module (0.1 for SEs and t, 0.2 for df) for the Satterthwaite Type 3 df and F (2 x 0.1).
Listing values add half a unit in the last digit printed. The between-within df are
integers and must be equal. Each test also checks that a wrong method misses SAS at that
tolerance: the model-based SE, the jackknife, the Satterthwaite df instead of the
between-within df, the treatment-coded coefficient test instead of the Type III
hypothesis, the smallest component df instead of Fai-Cornelius.
Observed maxima (this machine): empirical covariance 6.3e-5 relative (CSH), Type 3 df
7e-7 relative.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from tolerances import TWO_FITS, mmrm_se, sas_mixed_se

from dryneedle_outcomes.models.type3 import type3_contrasts, type3_table
from dryneedle_outcomes.stats.mixed.ftest import satterthwaite_f, wald_f
from dryneedle_outcomes.stats.mixed.kenward_roger import kenward_roger_adjustment
from dryneedle_outcomes.stats.mixed.mmrm import fit_mmrm
from dryneedle_outcomes.stats.mixed.robust import between_within

REPO = Path(__file__).resolve().parents[1]
FEV_DATA = REPO.parent / "shared" / "external" / "mmrm" / "fev_data.csv"
REF_DIR = REPO / "tests" / "reference"

pytestmark = pytest.mark.skipif(
    not FEV_DATA.exists(),
    reason=f"mmrm's fev_data is not at {FEV_DATA} (outside the repository; see "
           "tests/reference/mmrm_sas_type3_empirical/README.md)")

STRUCTURES = {"UN": "unstructured", "CS": "cs", "CSH": "cs_hetero", "AR(1)": "ar1",
              "ARH(1)": "ar1_hetero", "TOEP": "toeplitz", "TOEPH": "toeplitz_hetero",
              "ANTE(1)": "ante1_hetero"}
#: Relative change per SE of the covariance parameters (module docstring).
S_EMPIRICAL_SE = 0.05
S_SE, S_DF = 0.1, 0.2
NAMES = ["(Intercept)", "ARMCD[TRT]"]


def _read(path: Path) -> dict:
    """(structure, model, quantity, term) -> (value, half a unit in its last digit)."""
    out = {}
    with path.open(newline="") as f:
        for r in csv.DictReader(f):
            text = r["value"]
            decimals = len(text.split(".")[1]) if "." in text else 0
            half = 0.0 if int(r["digits_printed"]) >= 15 else 0.5 * 10.0 ** -decimals
            key = (r["structure"], r["model"], *((r["ddfm"],) if "ddfm" in r else ()),
                   r["quantity"], r["term"])
            out[key] = (float(text), half)
    return out


REF = _read(REF_DIR / "mmrm_sas_type3_empirical" / "sas_values.csv")


@pytest.fixture(scope="module")
def fev():
    d = pd.read_csv(FEV_DATA)
    d = d[d["FEV1"].notna()]
    assert len(d) == 537
    groups = pd.factorize(d["USUBJID"], sort=True)[0]
    visits = d["AVISIT"].str.removeprefix("VIS").astype(int).to_numpy() - 1
    return d, d["FEV1"].to_numpy(dtype=float), groups, visits


@pytest.fixture(scope="module")
def arm_X(fev):
    d = fev[0]
    return np.column_stack([np.ones(len(d)), (d["ARMCD"] == "TRT").to_numpy(dtype=float)])


def _allowed(key, r, *, scale=None, sensitivity=1.0) -> float:
    value, half = REF[key] if len(key) == 4 else KR_REF[key]
    size = sensitivity * abs(value) if scale is None else scale
    return TWO_FITS * r * size + half + 1e-12 * abs(value)


def _close(ours, key, r, what, **kw) -> None:
    value = (REF[key] if len(key) == 4 else KR_REF[key])[0]
    allowed = _allowed(key, r, **kw)
    assert abs(ours - value) <= allowed, f"{what}: {ours!r} vs SAS {value!r} ({allowed:.3g})"


def _r(fit) -> float:
    dev = -2.0 * fit.loglik
    return sas_mixed_se(dev) + mmrm_se(dev)


@pytest.mark.parametrize("structure", list(STRUCTURES))
def test_empirical_covariance_and_between_within_df_match_sas(fev, arm_X, structure):
    d, y, g, v = fev
    X = arm_X
    fit = fit_mmrm(y, X, g, v, structure=STRUCTURES[structure])
    assert fit.converged, fit.messages
    sas_dev, half = REF[(structure, "M_ARM_EMPIRICAL", "m2loglik_iter", "")]
    assert abs(-2.0 * fit.loglik - sas_dev) <= sas_mixed_se(sas_dev) ** 2 + half
    r = _r(fit)
    bw = between_within(fit, X, y, g, v, vcov="empirical",
                        unstructured=structure == "UN")

    def key(quantity, term):
        return (structure, "M_ARM_EMPIRICAL", quantity, term)

    # the empirical covariance matrix (ODS, full precision): a variance moves twice as much
    # (relative) as its SE; off-diagonal entries on the scale of sqrt(C_ii C_jj)
    terms = ["Intercept", "ARMCD TRT"]
    for i, a in enumerate(terms):
        for j, b in enumerate(terms):
            scale = 2 * S_EMPIRICAL_SE * np.sqrt(bw.vcov[i, i] * bw.vcov[j, j])
            _close(bw.vcov[i, j], key("covb", f"{a} x {b}"), r, f"{structure} covb {a}, {b}",
                   scale=scale)
    # coefficients, LS-means and their difference
    model_se = np.sqrt(np.diag(fit.vcov))
    coef = bw.contrast(np.eye(2))
    L_lsm = np.array([[1.0, 1.0], [1.0, 0.0]])
    lsm = bw.contrast(L_lsm)
    diff = bw.contrast([0.0, 1.0])
    for res, q, term, se in ((coef, "", "Intercept", model_se[0]),
                             (coef, "", "ARMCD TRT", model_se[1]),
                             (lsm, "lsmean_", "ARMCD TRT", None),
                             (lsm, "lsmean_", "ARMCD PBO", None),
                             (diff, "lsmean_diff_", "ARMCD TRT - PBO", model_se[1])):
        i = {"Intercept": 0, "ARMCD TRT": 1 if res is coef else 0, "ARMCD PBO": 1,
             "ARMCD TRT - PBO": 0}[term]
        scale = se if se is not None else np.sqrt(L_lsm[i] @ fit.vcov @ L_lsm[i])
        _close(res["estimate"][i], key(f"{q}estimate", term), r, f"{structure} {q}{term}",
               scale=scale)
        _close(res["std_error"][i], key(f"{q}se", term), r, f"{structure} {q}SE {term}",
               sensitivity=S_EMPIRICAL_SE)
        assert res["df"][i] == REF[key(f"{q}df", term)][0], (structure, q, term)
    _close(diff["statistic"][0], key("lsmean_diff_t", "ARMCD TRT - PBO"), r,
           f"{structure} t", sensitivity=S_EMPIRICAL_SE)
    # Type 3 of ARMCD through the Type III table, with the empirical covariance
    tab = type3_table(fit, X, NAMES, df_method="between_within", robust=bw).iloc[0]
    assert (tab["term"], tab["num_df"]) == ("ARMCD", REF[key("type3_numdf", "ARMCD")][0])
    assert tab["den_df"] == REF[key("type3_dendf", "ARMCD")][0]
    _close(tab["statistic"], key("type3_F", "ARMCD"), r, f"{structure} F",
           sensitivity=2 * S_EMPIRICAL_SE)

    # a wrong method misses SAS: the model-based SE, the jackknife, Satterthwaite df
    se_key = key("lsmean_diff_se", "ARMCD TRT - PBO")
    jack = between_within(fit, X, y, g, v, vcov="empirical_jackknife",
                          unstructured=structure == "UN")
    for wrong in (model_se[1], np.sqrt(jack.vcov[1, 1])):
        assert abs(wrong - REF[se_key][0]) > _allowed(se_key, r, sensitivity=S_EMPIRICAL_SE)
    assert abs(fit.contrast([0.0, 1.0])["df"][0] - 195) > 1


def _anova_design(d: pd.DataFrame, model: str) -> tuple[np.ndarray, list[str]]:
    trt = (d["ARMCD"] == "TRT").to_numpy(dtype=float)
    bl = d["FEV1_BL"].to_numpy(dtype=float)
    one = np.ones(len(d))
    if model == "M_ANOVA_1":
        return (np.column_stack([one, trt, bl, bl * trt]),
                ["(Intercept)", "ARMCD[TRT]", "FEV1_BL", "FEV1_BL:ARMCD[TRT]"])
    fem = (d["SEX"] == "Female").to_numpy(dtype=float)
    return (np.column_stack([one, trt, fem, fem * trt, bl * (1 - trt), bl * trt]),
            ["(Intercept)", "ARMCD[TRT]", "SEX[Female]", "SEX[Female]:ARMCD[TRT]",
             "ARMCD[PBO]:FEV1_BL", "ARMCD[TRT]:FEV1_BL"])


#: SAS's effect names -> the Type III table's terms.
SAS_TERMS = {"ARMCD": "ARMCD", "FEV1_BL": "FEV1_BL", "FEV1_BL*ARMCD": ("FEV1_BL:ARMCD",
             "ARMCD:FEV1_BL"), "SEX": "SEX", "SEX*ARMCD": "SEX:ARMCD"}


@pytest.mark.parametrize("model", ["M_ANOVA_1", "M_ANOVA_2"])
def test_type3_satterthwaite_matches_sas(fev, model):
    """SAS's Type III hypotheses (a CLASS effect crossed with FEV1_BL is tested at
    FEV1_BL = 0, averaged over SEX) and Fai-Cornelius df for the 2-df term."""
    d, y, g, v = fev
    X, names = _anova_design(d, model)
    fit = fit_mmrm(y, X, g, v, structure="ar1")
    assert fit.converged, fit.messages
    r = _r(fit)
    tab = type3_table(fit, X, names, df_method="satterthwaite").set_index("term")
    sas_terms = sorted({k[3] for k in REF if k[1] == model})
    assert len(tab) == len(sas_terms)
    for sas in sas_terms:
        term = SAS_TERMS[sas]
        row = tab.loc[[t for t in np.atleast_1d(term) if t in tab.index][0]]
        assert row["num_df"] == REF[("AR(1)", model, "type3_numdf", sas)][0]
        _close(row["den_df"], ("AR(1)", model, "type3_dendf", sas), r, f"{model} {sas} df",
               sensitivity=S_DF)
        _close(row["statistic"], ("AR(1)", model, "type3_F", sas), r, f"{model} {sas} F",
               sensitivity=2 * S_SE)
    L = type3_contrasts(X, names)
    if model == "M_ANOVA_2":
        # Fai-Cornelius, not the smallest (or largest) component df, for the 2-df term
        key = ("AR(1)", model, "type3_dendf", "FEV1_BL*ARMCD")
        nu = satterthwaite_f(fit, L["ARMCD:FEV1_BL"])["df_components"]
        for wrong in (nu.min(), nu.max()):
            assert abs(wrong - REF[key][0]) > _allowed(key, r, sensitivity=S_DF)
        # the treatment-coded coefficient of ARMCD (at SEX = Male) is not SAS's hypothesis
        key = ("AR(1)", model, "type3_F", "ARMCD")
        wrong = satterthwaite_f(fit, [0, 1, 0, 0, 0, 0])["statistic"]
        assert abs(wrong - REF[key][0]) > _allowed(key, r, sensitivity=2 * S_SE)
    # the F of a 1-df term is t^2 of its 1-df contrast, and wald_f agrees given the df
    res = satterthwaite_f(fit, L["ARMCD"])
    t = fit.contrast(L["ARMCD"])
    assert res["statistic"] == pytest.approx(t["statistic"][0] ** 2, rel=1e-10)
    assert wald_f(L["ARMCD"], fit.beta, fit.vcov, res["den_df"])["p_value"] == \
        pytest.approx(res["p_value"], rel=1e-10)


KR_REF = _read(REF_DIR / "mmrm_sas" / "sas_fev_reml.csv")


@pytest.mark.parametrize("structure", list(STRUCTURES))
@pytest.mark.parametrize("ddfm", ["KR", "KR(LINEAR)"])
def test_type3_kenward_roger_matches_sas(fev, arm_X, structure, ddfm):
    """The Type III table with Kenward-Roger: ``design/ddfm_covtype/kr_*.txt`` (1-df F)."""
    d, y, g, v = fev
    fit = fit_mmrm(y, arm_X, g, v, structure=STRUCTURES[structure])
    kr = kenward_roger_adjustment(fit, arm_X, g, v, linear=ddfm == "KR(LINEAR)")
    row = type3_table(fit, arm_X, NAMES, df_method="kenward_roger",
                      kenward_roger=kr).iloc[0]
    key = (structure, "M_ARM_KR", ddfm)
    assert row["num_df"] == KR_REF[(*key, "type3_numdf", "ARMCD")][0]
    _close(row["den_df"], (*key, "type3_dendf", "ARMCD"), _r(fit), f"{structure} KR df",
           sensitivity=S_DF)
    _close(row["statistic"], (*key, "type3_F", "ARMCD"), _r(fit), f"{structure} KR F",
           sensitivity=2 * S_SE)
