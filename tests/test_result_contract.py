"""Every analysis result keeps one contract (dryneedle_outcomes.results, issue 16 item 3).

Each analysis runs once on a small simulated cohort; every result is checked for tuples
of notes and warnings, a bool ``converged``, a text ``summary()``, ``tables()`` of
non-empty titled TableResults, ``plot(ax=None)`` returning an Axes, a notebook display
built from those tables, and a ``comparison`` in the long schema. The deprecated names
warn and give the same numbers as their replacements.
"""

from __future__ import annotations

import html
import inspect
import warnings

import matplotlib
import numpy as np
import pandas as pd
import pytest

import dryneedle_outcomes as dno
from dryneedle_outcomes.errors import AnalysisError, DryNeedleWarning
from dryneedle_outcomes.harms import adverse_event_rates, dose_response, protocol_deviations
from dryneedle_outcomes.results import (
    COMPARISON_COLUMNS,
    DEFAULT_SEED,
    MEASURES,
    TEST_MEASURES,
    AnalysisResult,
)
from dryneedle_outcomes.tables import TableResult

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


@pytest.fixture(scope="module")
def cohort():
    return dno.simulate_cohort(n_patients=40, seed=11)


@pytest.fixture(scope="module")
def results(cohort):
    """Every analysis once; the package's own warnings are expected on 40 patients."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        relief = dno.time_to_relief(cohort, n_boot=0, progress=False)
        sessions = dno.time_to_relief(cohort, timescale="sessions", interval_censored=False,
                                      n_boot=0, progress=False)
        out = {
            "trajectory": dno.fit_trajectory(cohort, model="random_intercept"),
            "relief": relief,
            "relief_sessions": sessions,
            "discrete_hazard": sessions.discrete_hazard,
            "soreness": dno.soreness_duration(cohort, n_boot=0, progress=False),
            "responders": dno.responders(cohort),
            "responders_adjusted": dno.responders(cohort, adjust=["baseline"]),
            "blinding": dno.blinding_index(cohort, guesses=pd.DataFrame({
                "patient_id": cohort.patients["patient_id"],
                "allocation_guess": np.resize(["real", "sham", "don't know"],
                                              len(cohort.patients))})),
            "rates_patient": adverse_event_rates(cohort, per="patient"),
            "rates_needles": adverse_event_rates(cohort, per="100_needles"),
            "dose": dose_response(cohort, terms="any"),
            "deviations": protocol_deviations(cohort),
            "harms_table": dno.harms_table(cohort),
            "baseline": dno.baseline_table(cohort),
            "observed": dno.observed_summary(cohort),
            "stricta": dno.stricta_table(cohort, planned_sessions=6),
        }
        out["consort"] = dno.consort_flow(cohort, primary_visit=6, analyses={
            "trajectory": out["trajectory"], "responders": out["responders"],
            "relief": relief})
    assert out["discrete_hazard"] is not None
    # the package's warnings on 40 patients are expected: each must be stored in a result
    stored = {w for r in out.values() for w in r.warnings}
    issued = {str(w.message) for w in caught if issubclass(w.category, DryNeedleWarning)}
    assert issued <= stored, issued - stored
    for w in caught:                          # anything else reaches pytest's summary
        if not issubclass(w.category, DryNeedleWarning):
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    return out


NAMES = ["trajectory", "relief", "relief_sessions", "discrete_hazard", "soreness",
         "responders", "responders_adjusted", "blinding", "rates_patient", "rates_needles",
         "dose", "deviations", "harms_table", "baseline", "observed", "consort", "stricta"]
#: results that compare arms on this two-arm cohort: their comparison has rows
COMPARING = ["trajectory", "relief", "relief_sessions", "discrete_hazard", "responders",
             "rates_patient", "rates_needles"]


@pytest.mark.parametrize("name", NAMES)
def test_notes_warnings_converged(results, name):
    res = results[name]
    assert isinstance(res, AnalysisResult)
    for attr in ("notes", "warnings"):
        value = getattr(res, attr)
        assert type(value) is tuple, (name, attr, type(value))
        assert all(isinstance(x, str) for x in value), (name, attr)
    assert type(res.converged) is bool, (name, type(res.converged))


@pytest.mark.parametrize("name", NAMES)
def test_summary_is_text_with_the_warnings(results, name):
    res = results[name]
    text = res.summary()
    assert isinstance(text, str) and text.strip()
    for w in res.warnings:
        assert w in text, (name, w)


@pytest.mark.parametrize("name", NAMES)
def test_tables_are_titled_non_empty_table_results(results, name):
    tables = results[name].tables()
    assert isinstance(tables, dict) and tables
    for key, table in tables.items():
        assert isinstance(key, str)
        assert isinstance(table, TableResult), (name, key)
        assert isinstance(table.table, pd.DataFrame) and len(table.table), (name, key)
        assert table.title, (name, key)


@pytest.mark.parametrize("name", NAMES)
def test_html_is_built_from_the_tables(results, name):
    res = results[name]
    shown = res._repr_html_()
    tables = res.tables()
    for table in tables.values():
        assert html.escape(table.title) in shown, (name, table.title)
        assert table.to_html() in shown, (name, table.title)
    for note in res.notes:
        assert html.escape(note) in shown, (name, note)
    for w in res.warnings:
        assert html.escape(w) in shown, (name, w)


@pytest.mark.parametrize("name", NAMES)
def test_plot_returns_the_axes(results, name):
    res = results[name]
    ax = res.plot()
    assert isinstance(ax, matplotlib.axes.Axes), name
    plt.close(ax.figure)
    fig, given = plt.subplots()
    assert res.plot(ax=given) is given, name
    plt.close(fig)



@pytest.mark.parametrize("name", NAMES)
def test_plain_interpreter_display_is_short(results, name):
    """repr (a plain Python session) says what the result is in its first line, shows
    the first table's title and first rows, and stays about a screenful whatever the
    cohort's size (issue 14 item 10; it was a 4 kB dump of DataFrames)."""
    res = results[name]
    text = repr(res)
    lines = text.splitlines()
    assert lines[0].startswith(f"<{type(res).__name__}"), lines[0]
    assert len(lines) <= 25, (name, len(lines))
    assert all(len(line) <= 200 for line in lines), name    # the headline may be long
    assert all(len(line) <= 100 for line in lines[1:]), name
    first = next(iter(res.tables().values()))
    title = first.title.split()
    # the title (wrapped at 100 characters), then the table's header and first row
    start = next(i for i in range(1, len(lines)) if lines[i].split()[:3] == title[:3])
    n_title = next(k for k in range(1, 10)
                   if " ".join(lines[start:start + k]).split() == title)
    header, row = lines[start + n_title], lines[start + n_title + 1]
    shown = first.formatted()
    kept = [c for c in shown.columns if str(c) in header]
    assert kept and kept == list(shown.columns[:len(kept)]), (name, header)
    cells = [str(v) for v in shown.iloc[0][kept] if str(v)]
    positions = [row.find(v) for v in cells]
    assert -1 not in positions, (name, row, cells)
    if len(kept) < shown.shape[1] or len(shown) > 8:
        assert "more" in text, name
    if res.warnings:
        assert f"{len(res.warnings)} warning" in text, name
    assert ".summary()" in lines[-1], name


def test_cohort_display_is_short(cohort):
    text = repr(cohort)
    lines = text.splitlines()
    assert lines[0].startswith(f"<Cohort: {cohort.n_patients} patients")
    assert len(lines) <= 12 and ".summary()" in lines[-1]
    for arm in cohort.arms:
        n = int((cohort.patients["arm"] == arm).sum())
        assert any(line.split()[:2] == [arm, str(n)] for line in lines), arm
    read = int(cohort.quality.counts["read"].sum())
    assert f"{read} rows read" in text

@pytest.mark.parametrize("name", NAMES)
def test_comparison_schema(results, name):
    comparison = results[name].comparison
    assert isinstance(comparison, pd.DataFrame)
    assert list(comparison.columns[:len(COMPARISON_COLUMNS)]) == list(COMPARISON_COLUMNS)
    assert set(comparison["measure"]) <= set(MEASURES), name
    if name in COMPARING:
        assert len(comparison), name
        assert (comparison["arm"] != comparison["reference"]).all()
        tests = comparison["measure"].isin(TEST_MEASURES)    # test statistics: no CI
        assert comparison.loc[tests, ["ci_lower", "ci_upper"]].isna().all().all()
        ok = comparison["estimate"].notna() & ~tests
        assert (comparison.loc[ok, "ci_lower"] <= comparison.loc[ok, "estimate"]).all()
        assert (comparison.loc[ok, "estimate"] <= comparison.loc[ok, "ci_upper"]).all()


def test_comparison_holds_the_numbers_of_the_analysis_tables(results):
    """The comparison is a view of the analyses' own tables, not new numbers."""
    relief = results["relief"]
    cox = relief.comparison.query("model == 'cox'")
    hr = relief.hazard_ratios
    np.testing.assert_array_equal(cox["estimate"], hr["estimate"])
    assert cox["arm"].tolist() == [t[4:-1] for t in hr["term"]]
    aft = relief.comparison.query("measure == 'time_ratio'")
    tr = relief.time_ratios[relief.time_ratios["term"].str.startswith("arm[")]
    np.testing.assert_array_equal(aft["estimate"], tr["estimate"])
    disc = results["discrete_hazard"]
    coef = disc.coefficients.set_index("term")
    for row in disc.comparison.itertuples():
        assert row.estimate == coef.loc[f"arm[{row.arm}]", "estimate"]
    # the risk ratio only on request (CONSORT Harms 2022, SAMPL)
    assert set(results["rates_patient"].comparison["measure"]) == {"risk_difference"}
    assert set(results["rates_needles"].comparison["measure"]) == {"rate_ratio"}


# ---------------------------------------------------------------------- deprecated names
def test_arm_difference_is_a_deprecated_view_of_comparison(results):
    fit = results["trajectory"]
    with pytest.warns(DeprecationWarning, match="comparison"):
        old = fit.arm_difference
    assert list(old.columns) == ["arm", "reference", "visit", "estimate", "std_error", "df",
                                 "ci_lower", "ci_upper", "p_value"]
    pd.testing.assert_frame_equal(old, fit.comparison[old.columns])
    assert (fit.comparison["measure"] == "mean_difference").all()


def test_difference_is_a_deprecated_view_of_comparison(results):
    res = results["responders"]
    with pytest.warns(DeprecationWarning, match="comparison"):
        old = res.difference
    assert old.columns[0] == "visit" and "measure" not in old
    pd.testing.assert_frame_equal(old, res.comparison[old.columns])
    with pytest.warns(DeprecationWarning, match="comparison_table"):
        old_table = res.difference_table()
    new_table = res.comparison_table()
    pd.testing.assert_frame_equal(old_table.table, new_table.table[old_table.table.columns])
    assert old_table.title == new_table.title


def test_covariates_is_a_deprecated_name_of_adjust(cohort):
    with warnings.catch_warnings():
        warnings.simplefilter("error", DryNeedleWarning)   # none expected on this cohort
        new = dno.time_to_relief(cohort, adjust=("baseline",), n_boot=0, progress=False,
                                 distributions=())
        with pytest.warns(DeprecationWarning, match="adjust="):
            old = dno.time_to_relief(cohort, covariates=("baseline",), n_boot=0,
                                     progress=False, distributions=())
    pd.testing.assert_frame_equal(old.hazard_ratios, new.hazard_ratios)
    pd.testing.assert_frame_equal(old.comparison, new.comparison)
    with pytest.raises(AnalysisError, match="adjust="):
        dno.time_to_relief(cohort, adjust=("baseline",), covariates=("baseline",), n_boot=0)


def test_one_default_seed():
    from dryneedle_outcomes.models.trajectory import TrajectoryResult

    for fn in (dno.time_to_relief, dno.soreness_duration, TrajectoryResult.sessions_to_mcid):
        assert inspect.signature(fn).parameters["seed"].default == DEFAULT_SEED, fn


# ---------------------------------------------------------------------- soreness at risk
def test_soreness_plot_draws_the_numbers_at_risk(results):
    res = results["soreness"]
    table = res.at_risk()
    assert list(table.columns) == ["arm", "time", "n_at_risk", "n_events", "n_censored"]
    first = table[table["time"] == 0].set_index("arm")["n_at_risk"]
    sessions = res.events.groupby("arm")["patient_id"].size()
    assert (first == sessions.loc[first.index]).all()   # everyone is at risk at 0 h
    assert (table.groupby("arm")["n_at_risk"].diff().dropna() <= 0).all()

    plain = res.plot(at_risk=False)
    assert "Sessions still sore" not in [t.get_text() for t in plain.texts]
    plt.close(plain.figure)
    ax = res.plot()                  # drawn by default, as for the time to relief
    texts = [t.get_text() for t in ax.texts]
    assert "Sessions still sore" in texts     # the units at risk are sessions
    for arm, sub in table.groupby("arm"):
        for n in sub["n_at_risk"]:
            assert f"{n:g}" in texts, (arm, n)
    assert list(ax.get_xticks()) == list(res.default_times())
    plt.close(ax.figure)


@pytest.mark.parametrize("name", ["trajectory", "relief", "soreness"])
def test_methods_are_said_once_by_the_analysis(results, name):
    """summary(), tables() and the report print the analysis's own methods notes (the
    report used to write its own, so the notebook said less than report.html)."""
    res = results[name]
    methods = res.methods()
    assert methods and methods[0].startswith(("Model: ", "Relief: ")) or "soreness" in methods[0]
    summary = res.summary()
    assert all(m in summary for m in methods)
    first = next(iter(res.tables().values()))
    assert tuple(first.notes) == tuple(methods)


def test_the_report_prints_the_analysis_methods(small_run):
    """The run's table notes are the result's methods notes, word for word."""
    report = (small_run / "report.html").read_text(encoding="utf-8")
    assert "REML on every available observation (missing at random)" in report
    assert "Log-rank and Cox (Efron ties) use the right-censored view" in report
