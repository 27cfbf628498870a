"""How much a standard error or a Kenward-Roger df moves per SE of the covariance parameters.

Justifies the tolerances of ``tests/test_kenward_roger_sas.py``: SAS stops within ``r``
SEs of the REML optimum (CONVH=1E-8), so a quantity ``q`` of the fit differs from the
optimum's by at most about ``r * s * |q|``, with ``s`` the norm of the gradient of
``log q`` in the metric of the covariance parameters' covariance. This script measures
``s`` at the engine's optimum on fev_data by central differences along the eigenvectors
of that covariance (step 0.05 SE), recomputing the observed information at every point,
for the KR and KR(LINEAR) SEs and df of the coefficients and LS-means and the model-based
SEs. Run from the repository root: ``python tests/reference/mmrm_sas/sensitivity.py``.
Output (2026-12-02, numpy 2.4), maxima over the eight structures: KR SE 0.059, KR df
0.142, model-based SE 0.057.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd

from dryneedle_outcomes.stats.mixed import mmrm
from dryneedle_outcomes.stats.mixed.covariance import make_structure
from dryneedle_outcomes.stats.mixed.engine import numerical_jacobian
from dryneedle_outcomes.stats.mixed.kenward_roger import kenward_roger_adjustment
from dryneedle_outcomes.stats.mixed.mmrm_data import prepare

FEV_DATA = Path(__file__).resolve().parents[4] / "shared" / "external" / "mmrm" / "fev_data.csv"
L = np.array([[0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])


def quantities(fit, crit, st, scale2, theta, X, groups, visits) -> np.ndarray:
    """KR and KR(LINEAR) SEs and df of the rows of L, and the model-based SEs, at theta."""
    cov_theta = 2.0 * np.linalg.inv(crit.hessian(theta))
    J = numerical_jacobian(lambda t: st.phi_from_sigma(scale2 * st.sigma_theta(t)[0]), theta)
    Sigma = scale2 * st.sigma_theta(theta)[0]
    moved = dataclasses.replace(fit, varpar=st.phi_from_sigma(Sigma),
                                cov_varpar=J.T @ cov_theta @ J,
                                extra={**fit.extra, "Sigma": Sigma})
    out = []
    for linear in (False, True):
        kr = kenward_roger_adjustment(moved, X, groups, visits, linear=linear)
        res = kr.contrast(L)
        out += [*res["std_error"], *res["df"]]
    out += list(np.sqrt(np.diag(L @ kr.vcov @ L.T)))
    return np.array(out)


def main() -> None:
    d = pd.read_csv(FEV_DATA)
    d = d[d["FEV1"].notna()]
    y = d["FEV1"].to_numpy(dtype=float)
    groups = pd.factorize(d["USUBJID"], sort=True)[0]
    visits = d["AVISIT"].str.removeprefix("VIS").astype(int).to_numpy() - 1
    X = np.column_stack([np.ones(len(d)), (d["ARMCD"] == "TRT").to_numpy(dtype=float)])
    se_rows, df_rows = [0, 1, 2, 6, 7, 8], [3, 4, 5, 9, 10, 11]
    for structure in ("unstructured", "cs", "cs_hetero", "ar1", "ar1_hetero", "toeplitz",
                      "toeplitz_hetero", "ante1_hetero"):
        fit = mmrm.fit_mmrm(y, X, groups, visits, structure=structure)
        data = prepare(y, X, groups, visits, None, None)
        st = make_structure(structure, data.T)
        crit = mmrm._Criterion(data, st, True)
        scale2 = data.scale**2
        theta0 = st.theta_from_sigma(fit.extra["Sigma"] / scale2)
        q0 = quantities(fit, crit, st, scale2, theta0, X, groups, visits)
        lam, U = np.linalg.eigh(2.0 * np.linalg.inv(crit.hessian(theta0)))
        eps = 0.05
        D = np.array([
            (quantities(fit, crit, st, scale2, theta0 + eps * np.sqrt(lv) * u, X, groups, visits)
             - quantities(fit, crit, st, scale2, theta0 - eps * np.sqrt(lv) * u, X, groups,
                          visits)) / (2.0 * eps)
            for lv, u in zip(lam, U.T)])
        s = np.sqrt((D**2).sum(axis=0)) / np.abs(q0)
        print(f"{structure:13s} relative change per SE: KR SE {s[se_rows].max():.3f}, "
              f"KR df {s[df_rows].max():.3f}, model-based SE {s[12:].max():.3f}")


if __name__ == "__main__":
    main()
