"""Arm names: which arms are controls (sham, placebo, usual care, wait list).

One rule shared by the loader (a sham-arm patient recorded as needled is a crossover,
:mod:`dryneedle_outcomes.normalize.links`), the analyses (the default reference arm,
:func:`dryneedle_outcomes.models.design.choose_reference`) and the simulator. It lives
here, outside the model layer, so that loaders need not import models.
"""

from __future__ import annotations

import re

#: Words that make an arm name a control arm ("sham", "Sham needling", "placebo_group")
#: and phrases ("usual care", "standard-care", "wait list"); see :func:`is_control_arm`.
CONTROL_WORDS = ("sham", "control", "placebo", "waitlist")
CONTROL_PHRASES = ("usual_care", "standard_care", "wait_list", "waiting_list")


def is_control_arm(name: str) -> bool:
    """Whether an arm's name says it is a control: sham, placebo, usual care, wait list.

    The one rule used to choose the default reference arm
    (:func:`dryneedle_outcomes.models.design.choose_reference`), to flag crossover
    (a control-arm patient recorded as needled) and by the simulator to tell needling
    arms from control arms.

    Examples
    --------
    >>> [is_control_arm(a) for a in ("sham", "Sham needling", "usual-care", "dry_needling")]
    [True, True, True, False]
    """
    text = re.sub(r"[^a-z0-9]+", "_", str(name).lower()).strip("_")
    return (any(word in CONTROL_WORDS for word in text.split("_"))
            or any(phrase in text for phrase in CONTROL_PHRASES))


def arm_text(arm) -> str:
    """How an arm is named in tables and figures: underscores as spaces, first letter
    capitalised (the figures draw this text literally, ``plots.style.arm_label``).

    Examples
    --------
    >>> arm_text("dry_needling"), arm_text("sham"), arm_text("group B")
    ('Dry needling', 'Sham', 'Group B')
    """
    text = str(arm).replace("_", " ")
    return text[:1].upper() + text[1:]
