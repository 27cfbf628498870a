"""Multiplicity-adjusted p-values (issue 14 item 7).

Holm, Hochberg and Bonferroni against R's p.adjust, the fixed sequence against its
definition (the running maximum in the testing order, Dmitrienko & D'Agostino 2013; as
Mediana's FixedSeqAdj): tests/reference/multiplicity/ (README there). Pure arithmetic,
so 1e-12 relative (R writes 15 significant digits).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import dryneedle_outcomes as dno
from dryneedle_outcomes.stats.multiplicity import PROCEDURES, adjust_p, rejected

REF = pd.read_csv(Path(__file__).parent / "reference" / "multiplicity" / "p_adjust.csv")


@pytest.mark.parametrize("procedure", PROCEDURES)
def test_adjusted_p_values_match_r(procedure):
    cases = 0
    for _, part in REF.groupby("case", sort=False):
        got = adjust_p(part["p"].to_numpy(), procedure)
        np.testing.assert_allclose(got, part[procedure].to_numpy(), rtol=1e-12, atol=0)
        cases += 1
    assert cases == 8


def test_the_fixed_sequence_stops_at_the_first_hypothesis_not_rejected():
    p = [0.01, 0.20, 0.001]      # the third is tiny but comes after a failure
    assert rejected(p, "fixed_sequence").tolist() == [True, False, False]
    # another pre-specified order changes the decisions: order is part of the protocol
    assert rejected(p, "fixed_sequence", order=[2, 0, 1]).tolist() == [True, False, True]
    np.testing.assert_array_equal(adjust_p(p, "fixed_sequence", order=[2, 0, 1]),
                                  [0.01, 0.20, 0.001])


def test_hochberg_rejects_both_where_holm_rejects_one():
    """The R reference's case two_one: p = (0.030, 0.049)."""
    p = [0.030, 0.049]
    assert rejected(p, "hochberg").tolist() == [True, True]
    assert rejected(p, "holm").tolist() == [False, False]


def test_adjust_p_values_result_and_its_table():
    res = dno.adjust_p_values({"first_step_pain": 0.03, "fhsq_pain": 0.01},
                              method="fixed_sequence", order=["fhsq_pain", "first_step_pain"])
    t = res.table
    assert t["hypothesis"].tolist() == ["first_step_pain", "fhsq_pain"]
    assert t["order"].tolist() == [2, 1]
    assert t["p_adjusted"].tolist() == [0.03, 0.01]
    assert t["reject"].tolist() == [True, True]
    text = res.summary()
    assert "fixed-sequence" in text and "0.030" in text
    assert "fixed-sequence" in res.methods_text()
    assert "<table" in res._repr_html_()
    assert len(res.plot().lines) == 3   # raw, adjusted, alpha line


@pytest.mark.parametrize("bad, match", [
    ({"p": [0.1, float("nan")]}, "must be a number"),
    ({"p": [0.1, 1.2]}, "between 0 and 1"),
    ({"p": [0.1, 0.2], "method": "hommel"}, "method must be one of"),
    ({"p": [0.1, 0.2], "method": "holm", "order": [1, 0]}, "order= is the testing order"),
    ({"p": [0.1, 0.2], "method": "fixed_sequence", "order": ["x", 0]}, "not hypotheses"),
    ({"p": [0.1, 0.2], "alpha": 1.5}, "alpha must be"),
])
def test_bad_input_is_a_clear_error(bad, match):
    with pytest.raises(dno.AnalysisError, match=match):
        dno.adjust_p_values(**bad)


def test_multiple_endpoints_analyses_each_endpoint_with_the_primary_analysis():
    """Two endpoints the simulator carries (first-step pain and average pain VAS)."""
    cohort = dno.simulate_cohort(n_patients=60, seed=4)
    res = dno.multiple_endpoints(cohort, [("first_step_pain", 6), {"outcome": "vas_pain",
                                                                   "visit": 6}],
                                 procedure="holm", df="satterthwaite")
    for outcome in ("first_step_pain", "vas_pain"):
        fit = dno.fit_trajectory(cohort, outcome, df="satterthwaite", primary_visit=6)
        row = res.table[res.table["outcome"] == outcome].iloc[0]
        # the same fit: identical arithmetic
        assert row["p_value"] == fit.primary()["p_value"].iloc[0]
        assert row["estimate"] == fit.primary()["estimate"].iloc[0]
    np.testing.assert_allclose(res.table["p_adjusted"],
                               adjust_p(res.table["p_value"], "holm"), rtol=0)
    assert list(res.comparison.columns[:7]) == ["arm", "reference", "measure", "estimate",
                                               "ci_lower", "ci_upper", "p_value"]
    assert any("not adjusted for multiplicity" in n for n in res.notes)
    with pytest.raises(dno.AnalysisError, match="named twice"):
        dno.multiple_endpoints(cohort, [("vas_pain", 6), ("vas_pain", 7)])
