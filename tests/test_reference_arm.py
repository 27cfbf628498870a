"""One rule for which arm is a control (``models.design.is_control_arm``).

The analyses chose the default reference by exact names ("sham", "usual_care") and the
simulator told needling arms from control arms by substrings ("usual", "wait"), so an
arm called "Sham needling" was the reference for neither or only one of them.
"""

from __future__ import annotations

import pytest

from dryneedle_outcomes.models.design import choose_reference, is_control_arm
from dryneedle_outcomes.simulate.parameters import default_needling_arms


@pytest.mark.parametrize("name", ["sham", "Sham needling", "sham_dry_needling", "placebo",
                                  "Usual care", "usual-care", "standard_care", "Control",
                                  "wait list", "waitlist"])
def test_control_names(name):
    assert is_control_arm(name)


@pytest.mark.parametrize("name", ["dry_needling", "Dry needling + stretching", "shockwave",
                                  "stretching", "usual", "controlled_needling"])
def test_treatment_names(name):
    assert not is_control_arm(name)


def test_analyses_and_simulator_agree_on_the_control_arm():
    arms = ("dry_needling", "Sham needling")
    assert choose_reference(list(arms), None) == "Sham needling"
    assert default_needling_arms(arms) == ("dry_needling",)
