"""One rule for which visits are needling sessions (``Cohort.session_visits``/``needled``).

Before, the sessions timescale of time to relief looked only at ``needled``, the harms
denominators at ``needled`` or ``needles > 0``, and soreness at ``needled`` alone, so a
file that records only the needle count had sessions for harms and none for relief.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

import dryneedle_outcomes as dno
from dryneedle_outcomes.errors import AnalysisError
from dryneedle_outcomes.harms.events import last_treatment_session


@pytest.fixture(scope="module")
def cohort():
    return dno.simulate_cohort(n_patients=30, seed=11)


def _with(cohort, **columns):
    a = cohort.assessments.copy()
    for name, value in columns.items():
        if value is None:
            a = a.drop(columns=name)
        else:
            a[name] = value
    return dataclasses.replace(cohort, assessments=a)


def test_needle_count_alone_identifies_the_sessions_for_every_analysis(cohort):
    only_count = _with(cohort, needled=None)
    assert only_count.session_visits() == cohort.session_visits()
    assert last_treatment_session(only_count) == cohort.session_visits()[-1]
    counted = (pd.to_numeric(only_count.assessments["needles"]).fillna(0) > 0).to_numpy(bool)
    assert counted.any()
    np.testing.assert_array_equal(only_count.needled()[counted], True)
    res = dno.time_to_relief(only_count, timescale="sessions", interval_censored=False,
                             n_boot=0, progress=False, distributions=())
    assert not res.median.empty


def test_given_sessions_are_checked(cohort):
    assert cohort.session_visits([3, 1, 2, 2]) == [1, 2, 3]
    with pytest.raises(AnalysisError, match=r"session_visits must be visits >= 1"):
        cohort.session_visits([0, 1])


def test_no_needling_record_names_the_argument_to_pass(cohort):
    bare = _with(cohort, needled=None, needles=None)
    with pytest.raises(AnalysisError, match=r"neither 'needled' nor 'needles'.*last_session"):
        last_treatment_session(bare)
    with pytest.raises(AnalysisError, match=r"pass session_visits="):
        bare.session_visits()
    nothing = _with(cohort, needled=False, needles=0)
    with pytest.raises(AnalysisError, match=r"no assessment at visit 1 or later records"):
        nothing.session_visits()
