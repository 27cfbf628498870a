"""Shared fixtures: paths to the tiny rule fixtures, a headless matplotlib, seeds."""

from __future__ import annotations

from pathlib import Path

import matplotlib
import pytest

matplotlib.use("Agg")

DATA = Path(__file__).parent / "data"
RULES = DATA / "rules"
SAMPLE = Path(__file__).parents[1] / "data" / "sample"


@pytest.fixture
def rules_dir() -> Path:
    return RULES


@pytest.fixture
def sample_dir() -> Path:
    return SAMPLE


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    import matplotlib.pyplot as plt

    plt.close("all")
