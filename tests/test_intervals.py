"""Ends of the Wilson interval, fixed once in ``stats.intervals`` for every caller.

R's ``prop.test(x, n, correct = FALSE)$conf.int`` gives exactly 0 as the lower limit
at ``x = 0`` and exactly 1 as the upper limit at ``x = n``; the closed form leaves a
rounding residue of about 6e-17 there (``wilson(0, 3)`` gave 5.6e-17). Away from the
ends the limits are pure arithmetic and are compared at 1e-12 with R 4.2.2
(``prop.test(0, 3, correct = FALSE)$conf.int``: 0, 0.56149703175504539;
``prop.test(2, 7, correct = FALSE)$conf.int``: 0.082218924004056768,
0.64106554816738059; printed with ``sprintf("%.17g")``).
"""

from __future__ import annotations

import numpy as np
import pytest

from dryneedle_outcomes.stats.intervals import newcombe_difference, wilson


@pytest.mark.parametrize("n", [1, 3, 7, 40, 1000])
def test_wilson_ends_are_exact(n):
    lo0, hi0 = wilson(0, n)
    lon, hin = wilson(n, n)
    assert float(lo0) == 0.0 and float(hin) == 1.0
    assert 0.0 < float(hi0) < 1.0 and 0.0 < float(lon) < 1.0
    assert float(hi0) == pytest.approx(1.0 - float(lon), rel=1e-12)   # symmetry


def test_wilson_against_prop_test():
    lo, hi = wilson(np.array([0, 2]), np.array([3, 7]))
    np.testing.assert_allclose(lo, [0.0, 0.082218924004056768], rtol=1e-12, atol=0)
    np.testing.assert_allclose(hi, [0.56149703175504539, 0.64106554816738059], rtol=1e-12)


def test_wilson_without_denominator_is_missing():
    lo, hi = wilson(0, 0)
    assert np.isnan(lo) and np.isnan(hi)


def test_newcombe_with_an_empty_arm_is_finite_and_contains_the_difference():
    lo, hi = newcombe_difference(0, 10, 3, 10)
    assert np.isfinite([lo, hi]).all()
    assert float(lo) < -0.3 < float(hi)
