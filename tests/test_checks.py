"""One argument check, one error: every public function rejects a bad ``conf_level`` alike.

Before ``stats/checks.py`` the check was written nine times; five copies raised a bare
``TypeError`` for ``conf_level="0.95"`` (comparing text with a number) instead of the
package's :class:`AnalysisError`. These tests call every public function that takes
``conf_level`` with bad values and require the same error and wording.
"""

from __future__ import annotations

import numpy as np
import pytest

import dryneedle_outcomes as dno
from dryneedle_outcomes.errors import AnalysisError
from dryneedle_outcomes.stats.checks import (
    check_choice,
    check_conf_level,
    check_whole_number,
    count_first,
)
from dryneedle_outcomes.stats.survival.aft import fit_aft
from dryneedle_outcomes.stats.survival.cox import fit_cox
from dryneedle_outcomes.stats.survival.kaplan_meier import kaplan_meier
from dryneedle_outcomes.stats.survival.turnbull import turnbull_bootstrap

BAD_LEVELS = ["0.95", 95, 0, 1, -0.1, float("nan"), True, None]


@pytest.fixture(scope="module")
def cohort():
    return dno.simulate_cohort(n_patients=24, seed=3)


def _time_event():
    return np.array([1.0, 2.0, 3.0, 4.0, 5.0, 6.0]), np.array([1, 0, 1, 1, 0, 1])


CALLS = {
    "fit_trajectory": lambda c, lvl: dno.fit_trajectory(c, model="session_means",
                                                        conf_level=lvl),
    "responders": lambda c, lvl: dno.responders(c, conf_level=lvl),
    "adverse_event_rates": lambda c, lvl: dno.adverse_event_rates(c, conf_level=lvl),
    "dose_response": lambda c, lvl: dno.dose_response(c, conf_level=lvl),
    "time_to_relief": lambda c, lvl: dno.time_to_relief(c, conf_level=lvl, n_boot=0),
    "soreness_duration": lambda c, lvl: dno.soreness_duration(c, conf_level=lvl, n_boot=0),
    "kaplan_meier": lambda c, lvl: kaplan_meier(*_time_event(), conf_level=lvl),
    "fit_cox": lambda c, lvl: fit_cox(*_time_event(), X=np.array([0, 1, 0, 1, 0, 1.0]),
                                      conf_level=lvl),
    "fit_aft": lambda c, lvl: fit_aft(np.arange(1.0, 7.0), np.arange(2.0, 8.0),
                                      conf_level=lvl),
    "turnbull_bootstrap": lambda c, lvl: turnbull_bootstrap(
        np.arange(0.0, 6.0), np.arange(1.0, 7.0), times=[2.0], n_boot=2, conf_level=lvl),
}


@pytest.mark.parametrize("level", BAD_LEVELS, ids=repr)
@pytest.mark.parametrize("name", sorted(CALLS))
def test_every_public_function_rejects_a_bad_conf_level_with_one_message(cohort, name,
                                                                         level):
    with pytest.raises(AnalysisError,
                       match=r"conf_level must be a number strictly between 0 and 1"):
        CALLS[name](cohort, level)


def test_check_conf_level_accepts_numpy_numbers_and_returns_a_float():
    out = check_conf_level(np.float64(0.9))
    assert type(out) is float and out == 0.9


def test_text_is_named_as_text():
    with pytest.raises(AnalysisError, match=r"got '0\.95' \(text\)"):
        check_conf_level("0.95")


@pytest.mark.parametrize("value", [1.5, "3", True, float("inf"), -1])
def test_check_whole_number_rejects_what_is_not_a_count(value):
    with pytest.raises(AnalysisError, match="n_boot must be a whole number >= 0"):
        check_whole_number(value, "n_boot")


def test_check_whole_number_accepts_a_float_without_fraction():
    assert check_whole_number(np.float64(1000.0), "n_boot", minimum=2) == 1000


def test_check_choice_suggests_the_nearest_option():
    with pytest.raises(AnalysisError, match=r"did you mean 'weibull'\?"):
        check_choice("weibul", ("weibull", "lognormal"), "distribution")
    with pytest.raises(AnalysisError, match=r"got 3$"):
        check_choice(3, ("a", "b"), "x")


def test_count_first_counts_and_points_at_the_first():
    mask = np.array([False, False, True, False, True])
    assert count_first(mask, "negative") == "2 negative values (first at position 2)"
    assert count_first(mask[:3], where="row") == "1 value (first at row 2)"
