"""Shared fixtures: the sample cohort and the small CLI run (each made once per session),
paths to the tiny rule fixtures, a headless matplotlib."""

from __future__ import annotations

from pathlib import Path

import matplotlib
import pandas as pd
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
def _instrument_registry():
    """Every test's instrument registrations are undone after it (the registry is global)."""
    import dryneedle_outcomes as dno

    with dno.instrument_scope():
        yield


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    import matplotlib.pyplot as plt

    plt.close("all")


def _fingerprint(cohort) -> tuple:
    return tuple(int(pd.util.hash_pandas_object(t, index=True).sum())
                 for t in (cohort.patients, cohort.assessments, cohort.adverse_events))


@pytest.fixture(scope="session")
def sample_cohort():
    """``data/sample`` loaded once, as the R reference exports load it (quarantine).

    Shared by every test module: tests must not change it (copy a table first); the
    teardown fails the session if one did.
    """
    import dryneedle_outcomes as dno

    with pytest.warns(dno.DataQualityWarning, match="pregnant"):  # the planted deviation
        cohort = dno.load_cohort("assessments.csv", "patients.xlsx", "adverse_events.csv",
                                 mapping="mapping.toml", errors="quarantine",
                                 base_dir=SAMPLE)
    before = _fingerprint(cohort)
    yield cohort
    assert _fingerprint(cohort) == before, "a test changed the shared sample cohort"


@pytest.fixture(scope="session")
def sample_cohort_r(sample_cohort):
    """The sample as the R references made before issue 12 model it.

    The sample's mapping pools Site B's NRS x10 into first-step pain (``pool_as``), and
    the analyses then add the instrument as a covariate by default. The references in
    tests/reference/{trajectory,model_terms,relief,trajectory_type3,...} fit the same
    rows without that covariate, so they are compared with this cohort: the same
    tables, with ``pooled`` emptied so that no instrument covariate is added (as
    ``adjust_instrument=False``). The default, with the covariate, is checked against R
    in tests/test_instruments.py (tests/reference/instruments).
    """
    import dataclasses

    return dataclasses.replace(sample_cohort, provenance={**sample_cohort.provenance,
                                                          "pooled": {}})


@pytest.fixture(scope="session")
def small_run(tmp_path_factory):
    """``dryneedle-outcomes simulate`` (30 patients, seed 5) then ``run`` on its sample:
    the whole command-line pipeline once, for the tests that read its outputs."""
    from dryneedle_outcomes.cli import main

    root = tmp_path_factory.mktemp("small")
    assert main(["simulate", "--patients", "30", "--seed", "5", "--out", str(root / "data"),
                 "--quiet"]) == 0
    # 100 bootstrap replicates instead of the pre-specified 2,000 / 1,000: the tests reading
    # this run check which outputs exist and how the report is built, not CI widths, and
    # the full replicates would add ~15 s to every CI pass (the sample's run keeps them)
    config = root / "data" / "analysis.toml"
    text = config.read_text(encoding="utf-8")
    assert "n_boot = 2000" in text and "hr_n_boot = 1000" in text
    config.write_text(text.replace("n_boot = 2000", "n_boot = 100")
                      .replace("hr_n_boot = 1000", "hr_n_boot = 100"), encoding="utf-8")
    assert main(["run", str(config), "--out", str(root / "out"), "--quiet"]) == 0
    return root / "out"
