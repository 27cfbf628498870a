"""The run's Methods and Results text (report/text.py): methods.md, references.bib and
the report section.

The end-to-end test reads the small command-line run (conftest ``small_run``: simulate
30 patients, then ``run``): every number of a Results sentence must equal the cell of
the table file it summarises (``tables/<name>.csv``, unrounded, rounded here to the
decimals the tables render: 1 for differences on the 0-100 mm scale, medians and
percentages (percentage points for risk differences, adjusted or not), 2 for hazard
ratios and rates), and every citation of
``methods.md`` must have its entry in ``references.bib`` and no other entry be there.
"""

from __future__ import annotations

import re

import pandas as pd
import pytest

from dryneedle_outcomes.report.references import REFERENCES, bibtex, cited_keys, entry
from dryneedle_outcomes.report.results_text import difference_phrase
from dryneedle_outcomes.report.text import RunText, reference_line, short_label
from dryneedle_outcomes.tables import TableResult

NUMBER = r"(-?\d+(?:\.\d+)?)"


def _table(digits: int = 2, percent: bool = False) -> TableResult:
    return TableResult(pd.DataFrame({"estimate": [0.0]}), digits=digits, percent=percent)


# ---------------------------------------------------------------- direction wording
def test_a_negative_difference_reads_lower_with_the_interval_of_the_reduction():
    text = difference_phrase(_table(1), -18.06, -26.75, -9.38, units="mm",
                             arm="dry_needling", reference="sham", conf_level=0.95)
    assert text == "18.1 mm lower with dry needling than with sham (95% CI 9.4 to 26.8"


def test_a_positive_difference_reads_higher_with_the_table_interval():
    text = difference_phrase(_table(2), 3.5, -1.25, 8.25, units="points", arm="b",
                             reference="a", conf_level=0.95)
    assert text == "3.50 points higher with b than with a (95% CI -1.25 to 8.25"


def test_times_read_shorter_or_longer_and_the_ci_level_is_stated():
    shorter = difference_phrase(_table(2), -8.49, -14.83, -2.14, units="days", arm="dn",
                                reference="sham", conf_level=0.90, kind="time")
    longer = difference_phrase(_table(2), 2.0, 1.0, 3.0, units="days", arm="dn",
                               reference="sham", conf_level=0.90, kind="time")
    assert shorter == "8.49 days shorter with dn than with sham (90% CI 2.14 to 14.83"
    assert longer == "2.00 days longer with dn than with sham (90% CI 1.00 to 3.00"


def test_a_difference_that_rounds_to_zero_is_no_different_with_its_signed_interval():
    text = difference_phrase(_table(1), -0.04, -3.0, 2.9, units="mm", arm="b",
                             reference="a", conf_level=0.95)
    assert text == "no different with b than with a (0.0 mm; 95% CI -3.0 to 2.9"


def test_percentage_point_differences_drop_the_percent_sign():
    text = difference_phrase(_table(1, percent=True), 0.238, 0.026, 0.423,
                             units="percentage points", arm="b", reference="a",
                             conf_level=0.95, points=True)
    assert text == "23.8 percentage points higher with b than with a (95% CI 2.6 to 42.3"


# ---------------------------------------------------------------- references
def test_every_reference_renders_and_unknown_keys_raise():
    for key in REFERENCES:
        text = entry(key)
        assert text.startswith("@") and f"{{{key}," in text
        assert text.count("{") == text.count("}"), key
        assert "year = {" in text
    with pytest.raises(KeyError):
        bibtex(["not_a_reference"])


def test_the_required_sources_carry_their_published_details():
    # journal, volume, pages and DOI as the publishers list them
    assert "pages = {983--997}" in entry("kenward_roger_1997")
    assert "doi = {10.1186/1757-1146-3-7}" in entry("landorf_2010")
    assert "doi = {10.18637/jss.v036.i02}" in entry("fay_shaw_2010")
    assert "pages = {1352--1371}" in entry("carpenter_2013")
    assert "doi = {10.1002/pst.2234}" in entry("wolbers_2022")
    assert "pages = {2815--2842}" in entry("cro_2020")
    assert "pages = {e073725}" in entry("junqueira_2023")
    assert "pages = {e081123}" in entry("hopewell_2025")
    assert "doi = {10.2522/ptj.20130255}" in entry("cotchett_2014")
    assert "doi" not in entry("holm_1979") and "doi" not in entry("ich_e9_r1_2019")


def test_citations_read_as_author_year_in_the_report():
    assert short_label("kenward_roger_1997") == "Kenward & Roger 1997"
    assert short_label("wolbers_2022") == "Wolbers et al. 2022"
    assert short_label("hopewell_2025") == "Hopewell et al. 2025"
    assert reference_line("turnbull_1976").startswith("Turnbull, Bruce W. (1976).")
    assert reference_line("fda_covariates_2023").startswith(
        "U.S. Food and Drug Administration (2023). Adjusting for Covariates")
    text = RunText(methods=[("M", ["A [@rubin_1987; @cro_2020] and [@rubin_1987]."])])
    assert text.citations() == ["rubin_1987", "cro_2020"]
    assert "Rubin 1987; Cro et al. 2020" in text.html()
    assert cited_keys("no citations here, e-mail a@b.org") == []


# ---------------------------------------------------------------- end to end
@pytest.fixture(scope="module")
def run_text(small_run):
    md = (small_run / "methods.md").read_text(encoding="utf-8")
    bib = (small_run / "references.bib").read_text(encoding="utf-8")
    methods, results = md.split("# Results\n", 1)
    sections = dict(re.findall(r"## ([^\n]+)\n\n(.+?)\n(?=\n## |\Z)", results + "\n", re.S))
    return methods, sections, bib


def _csv(run, name: str) -> pd.DataFrame:
    return pd.read_csv(run / "tables" / f"{name}.csv")


def _r(x: float, digits: int) -> str:
    text = f"{x:.{digits}f}"
    return text[1:] if text.startswith("-") and float(text) == 0 else text   # no "-0.0"


def test_every_citation_resolves_and_every_entry_is_cited(small_run, run_text):
    methods, _, bib = run_text
    md = (small_run / "methods.md").read_text(encoding="utf-8")
    cited = set(re.findall(r"@([\w-]+)", " ".join(re.findall(r"\[(@[^\]]+)\]", md))))
    entries = set(re.findall(r"^@\w+\{([\w-]+),", bib, re.M))
    assert cited == entries
    for key in ("landorf_2010", "kenward_roger_1997", "turnbull_1976", "fay_shaw_2010",
                "carpenter_2013", "wolbers_2022", "cro_2020", "newcombe_1998",
                "clopper_pearson_1934", "ich_e9_r1_2019", "junqueira_2023", "efron_1977"):
        assert key in cited, key


def test_methods_describe_what_ran(small_run, run_text):
    methods, _, _ = run_text
    counts = pd.read_csv(small_run / "quality" / "counts.csv")
    for r in counts.itertuples():
        assert (f"{r.table.replace('_', ' ')}: {r.read} rows read, {r.kept} kept, "
                f"{r.rejected} rejected") in methods
    assert "Kenward-Roger degrees of freedom [@kenward_roger_1997]" in methods
    assert "The primary time point, visit 6, was pre-specified" in methods
    assert "jump to reference (J2R) [@carpenter_2013]" in methods
    assert "(100 replicates, seed 2014)" in methods   # conftest: n_boot = 100


def test_results_numbers_equal_the_table_cells(small_run, run_text):
    _, res, _ = run_text
    run = small_run

    # primary: "was X mm lower|higher ... (95% CI a to b; p ...)"
    d = _csv(run, "trajectory_mmrm_arm_difference")
    row = d[d["visit"] == 6].iloc[0]
    m = re.search(rf"was {NUMBER} mm (lower|higher) with dry needling than with sham "
                  rf"\(95% CI {NUMBER} to {NUMBER}; p", res["Primary outcome"])
    assert m, res["Primary outcome"]
    sign = -1 if m[2] == "lower" else 1
    assert (row["estimate"] < 0) == (m[2] == "lower")
    lo, hi = sorted([sign * row["ci_lower"], sign * row["ci_upper"]])
    assert [m[1], m[3], m[4]] == [_r(sign * row["estimate"], 1), _r(lo, 1), _r(hi, 1)]

    # jump to reference and the tipping point
    d = _csv(run, "reference_based")
    row = d[(d["visit"] == 6) & (d["method"] == "jump_to_reference")].iloc[0]
    m = re.search(rf"was {NUMBER} mm (lower|higher) with dry needling than with sham "
                  rf"\(95% CI {NUMBER} to {NUMBER}", res["Sensitivity analyses"])
    sign = -1 if m[2] == "lower" else 1
    lo, hi = sorted([sign * row["ci_lower"], sign * row["ci_upper"]])
    assert [m[1], m[3], m[4]] == [_r(sign * row["estimate"], 1), _r(lo, 1), _r(hi, 1)]
    tip = _csv(run, "tipping_point")
    t = tip[tip["visit"] == 6].iloc[0]
    m = re.search(rf"lost significance when {NUMBER} mm", res["Sensitivity analyses"])
    if pd.notna(t["delta_interpolated"]):
        assert m[1] == _r(t["delta_interpolated"], 1)
    else:
        assert m is None

    # time to relief: medians (1 decimal or "not reached"), hazard ratio, RMST
    text = res["Time to relief"]
    med = _csv(run, "time_to_relief_days_median")
    for r in med.itertuples():
        def show(x):
            return "not reached" if not pd.notna(x) or x == float("inf") else _r(x, 1)
        est = show(r.estimate) + (" days" if pd.notna(r.estimate) else "")
        arm = r.arm.replace("_", " ")
        assert f"{est} (95% CI {show(r.ci_lower)} to {show(r.ci_upper)}) with {arm}" in text
    hr = _csv(run, "time_to_relief_days_ic_hazard_ratios")
    h = hr[hr["term"] == "arm[dry_needling]"].iloc[0]
    m = re.search(rf"was {NUMBER} \(95% CI {NUMBER} to {NUMBER}", text)
    assert [m[1], m[2], m[3]] == [_r(h[c], 2) for c in ("estimate", "ci_lower", "ci_upper")]
    rm = _csv(run, "time_to_relief_days_rmst").iloc[-1]
    m = re.search(rf"was {NUMBER} days (shorter|longer) .*?\(95% CI {NUMBER} to {NUMBER}\)",
                  text)
    sign = -1 if m[2] == "shorter" else 1
    lo, hi = sorted([sign * rm["ci_lower"], sign * rm["ci_upper"]])
    assert [m[1], m[3], m[4]] == [_r(sign * rm["estimate"], 2), _r(lo, 2), _r(hi, 2)]

    # responders: n/N (percent) per arm, the risk difference in percentage points
    text = res["Responders"]
    resp = _csv(run, "responders_non_responder")
    for r in resp[resp["visit"] == 6].itertuples():
        assert (f"{r.n_responders}/{r.denominator} ({_r(100 * r.estimate, 1)}%) with "
                f"{r.arm.replace('_', ' ')}") in text
    diff = _csv(run, "responders_non_responder_difference")
    x = diff[diff["visit"] == 6].iloc[0]
    m = re.search(rf"was {NUMBER} percentage points (lower|higher) .*?\(95% CI {NUMBER} to "
                  rf"{NUMBER}", text)
    sign = -1 if m[2] == "lower" else 1
    lo, hi = sorted([sign * x["ci_lower"], sign * x["ci_upper"]])
    assert [m[1], m[3], m[4]] == [_r(100 * sign * x["estimate"], 1), _r(100 * lo, 1),
                                  _r(100 * hi, 1)]
    adj = _csv(run, "responders_non_responder_adjusted")
    a = adj[(adj["visit"] == 6) & (adj["measure"] == "risk_difference")].iloc[0]
    m = re.search(rf"Adjusted for baseline, the proportion of responders was {NUMBER} "
                  rf"percentage points (lower|higher) .*?\(95% CI {NUMBER} to {NUMBER}", text)
    sign = -1 if m[2] == "lower" else 1
    lo, hi = sorted([sign * a["ci_lower"], sign * a["ci_upper"]])
    assert [m[1], m[3], m[4]] == [_r(100 * sign * a["estimate"], 1), _r(100 * lo, 1),
                                  _r(100 * hi, 1)]

    # harms: participants with >= 1 event (n/N, %), events, events per 100 appointments
    text = res["Harms"]
    h = _csv(run, "harms_table_long")
    for r in h[h["group"] == "any"].itertuples():
        arm = r.arm.replace("_", " ")
        assert (f"{r.n_participants_with_event}/{r.n_participants} participants "
                f"({_r(100 * r.estimate, 1)}%) with {arm}") in text
        assert f"{r.n_events} with {arm}" in text
        assert f"{_r(r.events_per_100_appointments, 2)} with {arm}" in text
    for r in h[h["group"] == "withdrawal"].itertuples():
        assert (f"{r.n_participants_with_event}/{r.n_participants} with "
                f"{r.arm.replace('_', ' ')}") in text


def test_every_number_of_the_results_is_checked(run_text):
    """No number in the Results text beyond those the test above compares (visits, the
    CI level, the MCID and RMST tau of the definitions excepted)."""
    _, res, _ = run_text
    allowed = {"6", "95", "19", "42", "100"}   # "per 100 treatment appointments"
    for heading, text in res.items():
        stripped = re.sub(r"\(95% CI [^)]*\)|\d+/\d+ participants|\d+/\d+|"
                          r"p [<=] \d\.\d+|\([\d.]+%\)|was -?[\d.]+|"
                          r"\d+\.\d+ (mm|days|percentage points)|"
                          r"[\d.]+ with [a-z ]+|visit \d+|to \d+ days", "", text)
        left = set(re.findall(r"\d+(?:\.\d+)?", stripped)) - allowed
        assert not left, (heading, left, stripped)


def test_report_has_the_methods_and_results_after_the_summary(small_run):
    report = (small_run / "report.html").read_text(encoding="utf-8")
    assert report.index('id="summary"') < report.index('id="methods"') \
        < report.index('id="results"') < report.index('id="data"')
    assert "(Kenward &amp; Roger 1997)" in report
    assert "[@" not in report


# ---------------------------------------------------------------- configured extras
def _section(key: str, name: str, frame: pd.DataFrame, **kw):
    from dryneedle_outcomes.report.sections import NamedTable, Section

    return Section(key, key, items=[NamedTable(name, TableResult(frame, **kw))])


def test_multiplicity_and_subgroup_sentences_read_their_tables():
    from dryneedle_outcomes.report.results_text import multiplicity_results, subgroup_results

    mult = _section("multiplicity", "multiplicity", pd.DataFrame({
        "outcome": ["first_step_pain", "fhsq_pain"], "visit": [6, 6],
        "p_value": [0.0004, 0.0312], "p_adjusted": [0.0008, 0.0312],
        "reject": [True, True]}))
    sub = _section("subgroups", "subgroups_interaction", pd.DataFrame({
        "subgroup": ["sex", "symptom_months"], "scale": ["levels", "continuous"],
        "p_value": [0.8754, 0.04]}))
    heading, (text,) = multiplicity_results([mult])
    assert heading == "Primary endpoints (multiplicity)"
    assert text.startswith("With the declared multiplicity procedure: first-step pain (VAS, "
                           "mm) at visit 6, adjusted p < 0.001 (unadjusted p < 0.001; rejected); ")
    assert text.endswith("at visit 6, adjusted p = 0.031 (unadjusted p = 0.031; rejected).")
    _, (text,) = subgroup_results([sub])
    assert text == ("Tests of the arm-by-subgroup interaction at the primary visit: sex "
                    "p = 0.875; symptom months (continuous) p = 0.040 (exploratory).")
    assert multiplicity_results([]) is None and subgroup_results([]) is None
