"""baseline_table(): tiny cohorts with known answers, and the sample cohort against R.

Golden values: tests/reference/responders/baseline_table.json, made by
baseline_table.R from the patients tables that export_tables.py writes (the sample
cohort and a "gappy" copy with missing values); each number is stored under the R
expression that produced it (mean, sd, median, quantile(type = 7), table(), ...).

Tolerances: counts exact; means, SDs, quantiles, skewness 1e-9 relative; p-values of
t/Kruskal-Wallis/chi-square/Fisher 1e-9 relative; Shapiro-Wilk p 1e-6 relative (scipy
and R both run Royston's AS R94 algorithm, scipy partly in single precision).
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import dryneedle_outcomes as dno
from dryneedle_outcomes.baseline_table import BaselineTable, baseline_table
from dryneedle_outcomes.errors import AnalysisError

REF_DIR = Path(__file__).parent / "reference" / "responders"
REF = json.loads((REF_DIR / "baseline_table.json").read_text())
_spec = importlib.util.spec_from_file_location("export_tables", REF_DIR / "export_tables.py")
export_tables = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(export_tables)

# Means, SDs, quantiles and the t / chi-square / Fisher / Kruskal-Wallis p-values are
# closed form or special functions: rounding only (tests/tolerances.py: ARITHMETIC_RTOL).
# Shapiro-Wilk's p uses Royston's approximation, which scipy >= 1.12 evaluates in double
# precision as R does (scipy 1.11's single-precision Fortran was 1e-4 off).
RTOL = 1e-12
SHAPIRO_RTOL = 1e-6


def tiny() -> dno.Cohort:
    patients = pd.DataFrame({
        "patient_id": ["a1", "a2", "a3", "b1", "b2"],
        "arm": ["dry_needling"] * 3 + ["sham"] * 2,
        "age": [20.0, 30.0, 40.0, 50.0, np.nan],
        "sex": ["female", "male", "female", None, "female"],
        "needle_fear": pd.array([True, False, None, True, True], dtype="boolean"),
        "shoe_size": [38.0, 42.0, 40.0, 44.0, 39.0],
    })
    a = pd.DataFrame({"patient_id": ["a1", "a2", "a3", "b1"], "visit": [0, 0, 0, 0],
                      "first_step_pain": [60.0, 70.0, 80.0, 50.0],
                      "vas_pain": [50.0, 50.0, 50.0, 50.0]})
    return dno.load_cohort(a, patients)


def cells(t: BaselineTable, variable: str, level: str = "") -> dict:
    tab = t.table
    return tab[(tab["variable"] == variable) & (tab["level"] == level)].iloc[0].to_dict()


def test_known_answers():
    t = baseline_table(tiny())
    assert isinstance(t, BaselineTable)
    assert cells(t, "n")["dry_needling"] == "3" and cells(t, "n")["overall"] == "5"
    age = cells(t, "age")
    assert age["statistic"] == "mean (SD)"
    assert age["dry_needling"] == "30.0 (10.0)"
    assert age["sham"] == "50.0 (NA)"                 # one value: no SD
    assert age["overall"] == "35.0 (12.9)"            # 20, 30, 40, 50
    assert age["missing"] == 1
    assert cells(t, "sex", "female")["dry_needling"] == "2 (66.7)"
    assert cells(t, "sex", "female")["sham"] == "1 (100.0)"    # b1's sex unknown
    assert cells(t, "sex", "male")["overall"] == "1 (25.0)"
    assert cells(t, "sex", "female")["missing"] == 1
    fear = cells(t, "needle_fear")
    assert fear["dry_needling"] == "1 (50.0)" and fear["sham"] == "2 (100.0)"
    assert fear["missing"] == 1
    # the baseline of each instrument; b2 has no baseline record
    fsp = cells(t, "first_step_pain")
    assert fsp["dry_needling"] == "70.0 (10.0)" and fsp["missing"] == 1
    assert "shoe_size" not in set(t.table["variable"])     # extra columns only on request
    assert "p_value" not in t.table


def test_variables_nonnormal_categorical_and_errors():
    c = tiny()
    t = baseline_table(c, variables=["shoe_size", "age"], nonnormal=["age"])
    assert t.table["variable"].tolist() == ["n", "shoe_size", "age"]
    age = cells(t, "age")
    assert age["statistic"] == "median [Q1, Q3]"
    assert age["dry_needling"] == "30.0 [25.0, 35.0]"      # quantile(type = 7)
    assert cells(t, "shoe_size")["statistic"] == "mean (SD)"
    t = baseline_table(c, variables=["shoe_size"], categorical=["shoe_size"], digits=2)
    assert cells(t, "shoe_size", "38.0")["overall"] == "1 (20.0)"
    with pytest.raises(AnalysisError, match="neither patient columns"):
        baseline_table(c, variables=["height"])
    with pytest.raises(AnalysisError, match="not continuous"):
        baseline_table(c, nonnormal=["sex"])


def test_skewed_variable_gets_median_by_the_rule():
    rng = np.random.default_rng(1)
    n = 60
    patients = pd.DataFrame({"patient_id": [f"p{i}" for i in range(n)],
                             "arm": ["dry_needling", "sham"] * (n // 2),
                             "symptom_months": rng.lognormal(2.3, 1.0, n),
                             "age": rng.normal(50, 10, n)})
    a = pd.DataFrame({"patient_id": patients["patient_id"], "visit": 0,
                      "first_step_pain": 60.0, "vas_pain": 50.0})
    t = baseline_table(dno.load_cohort(a, patients), variables=["symptom_months", "age"])
    norm = t.normality.set_index("variable")
    assert norm.loc["symptom_months", "summary"] == "median"
    assert norm.loc["age", "summary"] == "mean"
    assert cells(t, "symptom_months")["statistic"] == "median [Q1, Q3]"


@pytest.fixture(scope="module")
def cohorts(sample_cohort):
    return {"sample": sample_cohort, "gappy": export_tables.gappy_cohort()}


@pytest.mark.parametrize("data", ["sample", "gappy"])
def test_against_r(cohorts, data):
    ref = REF[data]
    t = baseline_table(cohorts[data], p_values=True)
    st = t.statistics
    assert [int(cells(t, "n")[a]) for a in REF["arms"]] == ref["n"]
    groups = ["dry_needling", "sham", "overall"]
    for var, r in ref["continuous"].items():
        s = st[st["variable"] == var].set_index("group").loc[groups]
        assert s["n"].tolist() == r["length(x)"]
        assert s["missing"].tolist() == r["sum(is.na(x))"]
        for ours, theirs in (("mean", "mean(x)"), ("sd", "sd(x)"), ("median", "median(x)"),
                             ("q1", "quantile(x, 0.25, type = 7)"),
                             ("q3", "quantile(x, 0.75, type = 7)")):
            np.testing.assert_allclose(s[ours], r[theirs], rtol=RTOL, err_msg=f"{var} {ours}")
        norm = t.normality.set_index("variable").loc[var]
        np.testing.assert_allclose(norm["skewness"], r["skewness_g1(x_pooled)"], rtol=RTOL,
                                   atol=1e-15)
        np.testing.assert_allclose(norm["shapiro_p"], r["shapiro.test(x_pooled)$p.value"],
                                   rtol=SHAPIRO_RTOL)
        row = cells(t, var)
        theirs = (r["t.test(x ~ arm, var.equal = TRUE)$p.value"] if norm["summary"] == "mean"
                  else r["kruskal.test(x ~ arm)$p.value"])
        np.testing.assert_allclose(row["p_value"], theirs, rtol=RTOL, err_msg=var)
        assert row["missing"] == r["sum(is.na(x))"][2]
        # the displayed cell is built from the R numbers with the stated rounding
        k = groups.index("overall")
        want = (f"{r['mean(x)'][k]:.1f} ({r['sd(x)'][k]:.1f})" if norm["summary"] == "mean"
                else f"{r['median(x)'][k]:.1f} [{r['quantile(x, 0.25, type = 7)'][k]:.1f}, "
                     f"{r['quantile(x, 0.75, type = 7)'][k]:.1f}]")
        assert row["overall"] == want
    for var, r in ref["categorical"].items():
        s = st[st["variable"] == var]
        boolean = r["levels"] == ["FALSE", "TRUE"]
        levels = [""] if boolean else r["levels"]
        positions = [1] if boolean else range(len(levels))
        for level, j in zip(levels, positions):
            sub = s[s["level"] == level].set_index("group")
            for arm in REF["arms"]:
                count = r["table(arm, x)"][arm][j]
                assert sub.loc[arm, "count"] == count, (var, level, arm)
                known = sum(r["table(arm, x)"][arm])
                assert sub.loc[arm, "percent"] == pytest.approx(100 * count / known, rel=RTOL)
            assert sub.loc["overall", "count"] == r["table(x)"][j]
        assert sub.loc[REF["arms"], "missing"].tolist() == r["tapply(is.na(x), arm, sum)"]
        row = cells(t, var, levels[0])
        assert row["missing"] == r["sum(is.na(x))"]
        small = r["min(chisq.test(table(arm, x))$expected)"] < 5
        theirs = (r["fisher.test(table(arm, x))$p.value"] if small
                  else r["chisq.test(table(arm, x), correct = FALSE)$p.value"])
        assert row["test"] == ("fisher_exact" if small else "chisq")
        np.testing.assert_allclose(row["p_value"], theirs, rtol=RTOL, err_msg=var)


def test_sample_summaries_chosen_by_the_rule(cohorts):
    t = baseline_table(cohorts["sample"])
    chosen = t.normality.set_index("variable")["summary"].to_dict()
    # first_step_pain_nrs: Site B's NRS (issue 12), its own instrument, in Table 1 too
    assert chosen == {"age": "mean", "bmi": "mean", "symptom_months": "median",
                      "first_step_pain": "mean", "vas_pain": "mean",
                      "first_step_pain_nrs": "mean"}
    assert t.table["variable"].tolist() == [
        "n", "age", "sex", "sex", "bmi", "symptom_months", "pregnant", "immunocompromised",
        "needle_fear", "site", "site", "first_step_pain", "vas_pain", "first_step_pain_nrs"]


def test_renderings_contain_the_numbers(cohorts):
    t = baseline_table(cohorts["sample"], p_values=True)
    md, tex, htm, txt = t.to_markdown(), t.to_latex(), t.to_html(), t.summary()
    for text in (md, htm, txt):
        assert "49.1 (11.6)" in text                     # age, dry needling
        assert "11.2 [6.3, 18.4]" in text                # symptom months, dry needling
        assert "Shapiro-Wilk" in text and "CONSORT" in text
    assert "Sex, n (%)" in md and "| female |" in md
    assert r"Sex, n (\%)" in tex and r"kg/m$^{2}$" in tex and "49.1 (11.6)" in tex
    f = t.formatted()
    assert f["Characteristic"].tolist()[3] == ""         # the second level of sex
    assert f.loc[1, "p"] == "0.666"
    assert list(f.columns[2:4]) == ["Dry needling (n = 42)", "Sham (n = 42)"]
    assert (r"\begin{tabular}[b]{@{}r@{}}Dry needling\\(n = 42)\end{tabular} & "
            r"\begin{tabular}[b]{@{}r@{}}Sham\\(n = 42)\end{tabular}") in tex
    assert "<table" in t._repr_html_()
