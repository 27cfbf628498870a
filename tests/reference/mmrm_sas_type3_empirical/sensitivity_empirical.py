"""How much the empirical (sandwich) SEs move per SE of the covariance parameters.

Justifies the tolerance of the empirical SEs in ``tests/test_type3_sas.py`` as
``tests/reference/mmrm_sas/sensitivity.py`` does for the Kenward-Roger ones: SAS stops
within ``r`` SEs of the REML optimum, so an SE moves by at most about ``r * s`` relative,
``s`` the norm of the gradient of ``log SE`` in the metric of the covariance parameters'
covariance. Measured by central differences along its eigenvectors (step 0.05 SE), with
the GLS estimates and ``(X' V^-1 X)^-1`` recomputed at every point, for the sandwich SEs of
the intercept, the ARMCD coefficient and the TRT LS-mean on fev_data. Run from the
repository root: ``python tests/reference/mmrm_sas_type3_empirical/sensitivity_empirical.py``.
Output (2026-12-02, numpy 2.4): at most 0.021 (TOEP) over the eight structures.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd

from dryneedle_outcomes.stats.mixed import mmrm
from dryneedle_outcomes.stats.mixed.covariance import make_structure
from dryneedle_outcomes.stats.mixed.mmrm_data import prepare
from dryneedle_outcomes.stats.mixed.robust import empirical_vcov

FEV_DATA = Path(__file__).resolve().parents[4] / "shared" / "external" / "mmrm" / "fev_data.csv"
L = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])


def main() -> None:
    d = pd.read_csv(FEV_DATA)
    d = d[d["FEV1"].notna()]
    y = d["FEV1"].to_numpy(dtype=float)
    groups = pd.factorize(d["USUBJID"], sort=True)[0]
    visits = d["AVISIT"].str.removeprefix("VIS").astype(int).to_numpy() - 1
    X = np.column_stack([np.ones(len(d)), (d["ARMCD"] == "TRT").to_numpy(dtype=float)])
    for structure in ("unstructured", "cs", "cs_hetero", "ar1", "ar1_hetero", "toeplitz",
                      "toeplitz_hetero", "ante1_hetero"):
        fit = mmrm.fit_mmrm(y, X, groups, visits, structure=structure)
        data = prepare(y, X, groups, visits, None, None)
        st = make_structure(structure, data.T)
        crit = mmrm._Criterion(data, st, True)
        s2 = data.scale**2

        def se(theta, fit=fit, crit=crit, st=st, s2=s2, data=data):
            S = st.sigma_theta(theta)[0]
            _, _, beta_s, A_s = crit.core(S, grad=False)
            moved = dataclasses.replace(fit, beta=beta_s * data.scale, vcov=A_s * s2,
                                        extra={**fit.extra, "Sigma": s2 * S})
            V = empirical_vcov(moved, X, y, groups, visits)
            return np.sqrt(np.diag(L @ V @ L.T))

        theta0 = st.theta_from_sigma(fit.extra["Sigma"] / s2)
        q0 = se(theta0)
        lam, U = np.linalg.eigh(2.0 * np.linalg.inv(crit.hessian(theta0)))
        eps = 0.05
        D = np.array([(se(theta0 + eps * np.sqrt(lv) * u) - se(theta0 - eps * np.sqrt(lv) * u))
                      / (2.0 * eps) for lv, u in zip(lam, U.T)])
        s = np.sqrt((D**2).sum(axis=0)) / np.abs(q0)
        print(f"{structure:15s} relative change of the empirical SEs per SE: {s.max():.3f}")


if __name__ == "__main__":
    main()
