"""Every covariance structure through fit_trajectory.

Each structure the engine fits (and SAS validates, tests/test_kenward_roger_sas.py)
gives through ``fit_trajectory`` the numbers of ``fit_mmrm`` on the same data.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import dryneedle_outcomes as dno
from dryneedle_outcomes.models.design import design_matrix
from dryneedle_outcomes.stats.mixed.mmrm import fit_mmrm
from dryneedle_outcomes.stats.mixed.options import (
    COVARIANCES,
    NLME_EQUIVALENTS,
    SAS_TYPES,
    STRUCTURES,
)


def test_every_engine_structure_is_offered_and_named():
    assert COVARIANCES == STRUCTURES
    assert set(SAS_TYPES) == set(NLME_EQUIVALENTS) == set(COVARIANCES)
    doc = dno.fit_trajectory.__doc__
    for name, sas in SAS_TYPES.items():
        assert f'``"{name}"``' in doc and f"TYPE={sas}" in doc, name


@pytest.mark.parametrize("structure", COVARIANCES)
def test_each_structure_through_fit_trajectory_is_the_engine_fit(sample_cohort, structure):
    fit = dno.fit_trajectory(sample_cohort, model="mmrm", covariance=structure)
    assert fit.converged and fit.covariance == structure
    d = fit.frame.data
    X, _ = design_matrix(fit.frame, d, "mmrm")
    direct = fit_mmrm(d["y"].to_numpy(float), X, pd.factorize(d["patient_id"], sort=True)[0],
                      np.searchsorted(fit.frame.visits, d["visit"].to_numpy()),
                      structure=structure, n_visits=len(fit.frame.visits))
    np.testing.assert_allclose(fit.fixed_effects["estimate"], direct.beta, rtol=1e-12)
    np.testing.assert_allclose(fit.fixed_effects["std_error"],
                               np.sqrt(np.diag(direct.vcov)), rtol=1e-12)
    np.testing.assert_allclose(fit.fixed_effects["df"],
                               direct.contrast(np.eye(len(direct.beta)))["df"], rtol=1e-12)
    assert fit.loglik == direct.loglik
    assert fit.variance_components["estimate"].iloc[0] == direct.extra["Sigma"][0, 0]
    assert f"{structure} residual covariance (SAS TYPE={SAS_TYPES[structure]})" \
        in fit.methods()[0]
