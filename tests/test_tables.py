"""The one table renderer (dryneedle_outcomes.tables): one number rule for every rendering."""

from __future__ import annotations

import html

import numpy as np
import pandas as pd
import pytest

from dryneedle_outcomes.export_safety import latex_escape
from dryneedle_outcomes.tables import (
    MEDIAN_COLUMNS,
    NOT_REACHED,
    TableResult,
    format_median,
    frame_html,
    table_html,
)


def _table(**kwargs) -> TableResult:
    frame = pd.DataFrame({"arm": ["a", "b"], "n_events": [3.0, 12.0], "count": [4, 5],
                          "estimate": [0.1234, np.nan], "ci_lower": [0.05, np.nan],
                          "ci_upper": [0.3, np.inf], "p_value": [0.0004, 0.0312],
                          "note": ["x", None]})
    return TableResult(frame, title="T", notes=("n1",), **kwargs)


def test_one_rule_for_counts_p_values_and_missing_cells():
    f = _table().cells()
    assert f["n_events"].tolist() == ["3", "12"]          # whole-number counts as integers
    assert f["count"].tolist() == ["4", "5"]
    assert f["estimate"].tolist() == ["0.12", ""]         # missing: empty, never "nan"
    assert f["p_value"].tolist() == ["<0.001", "0.031"]
    assert f["note"].tolist() == ["x", ""]
    assert _table(percent=True).cells()["estimate"].tolist() == ["12.3%", ""]


def test_counts_with_fractions_keep_their_decimals():
    f = TableResult(pd.DataFrame({"n_at_risk": [2.5, 3.0]})).cells()
    assert f["n_at_risk"].tolist() == ["2.50", "3.00"]


def test_not_reached_in_median_columns_only():
    f = _table(not_reached=MEDIAN_COLUMNS, digits=1).cells()
    assert f["estimate"].tolist() == ["0.1", NOT_REACHED]
    assert f["ci_upper"].tolist() == ["0.3", NOT_REACHED]
    assert format_median(np.nan, 1, " h") == NOT_REACHED == format_median(None)
    assert format_median(12.25, 1, " h") == "12.2 h"


@pytest.mark.parametrize("render", ["to_html", "to_markdown", "to_latex", "summary"])
def test_every_rendering_shows_the_same_cells(render):
    t = _table(not_reached=MEDIAN_COLUMNS)
    text = getattr(t, render)()
    escape = {"to_html": html.escape, "to_latex": latex_escape}.get(render, str)
    for cell in ("<0.001", "0.031", NOT_REACHED, "12"):
        assert escape(cell) in text, (render, cell)
    assert "nan" not in text.lower().replace("nnt", "")
    assert "n1" in text and "T" in text


def test_columns_choose_what_is_rendered_and_exports_keep_every_column(tmp_path):
    t = _table(columns=("arm", "estimate"))
    assert list(t.formatted().columns) == ["Arm", "Estimate"]
    assert "p_value" not in t.to_html() and "p\\_value" not in t.to_latex()
    assert list(pd.read_csv(t.to_csv(tmp_path / "t.csv")).columns) == list(t.table.columns)
    assert list(pd.read_excel(t.to_excel(tmp_path / "t.xlsx")).columns) == list(t.table.columns)


def test_html_aligns_numbers_right_and_escapes_text():
    out = frame_html(pd.DataFrame({"arm": ["<b>"], "median": [NOT_REACHED], "p": ["<0.001"]}))
    assert '<td class="txt">&lt;b&gt;</td>' in out
    assert out.count('<td class="num">') == 2
    fragment = table_html(_table(), caption="Table 3. T", element_id="tab-t",
                          footer='<p class="files">f</p>')
    assert fragment.startswith('<figure class="table" id="tab-t"><figcaption>Table 3. T')
    assert fragment.endswith('<p class="files">f</p></figure>')
    assert _table()._repr_html_() == _table().to_html() == table_html(_table())


def test_cohort_and_ledger_display_use_the_report_writer():
    import dryneedle_outcomes as dno

    cohort = dno.simulate_cohort(n_patients=12, seed=3)
    shown = cohort._repr_html_()
    assert frame_html(cohort.describe().round(1)) in shown      # as report.html shows it
    assert frame_html(cohort.quality.counts) in shown


def test_result_median_tables_print_not_reached_as_the_report_does():
    from dryneedle_outcomes.results import as_table, titled_tables

    median = pd.DataFrame({"arm": ["a"], "estimate": [np.nan], "ci_lower": [2.0],
                           "ci_upper": [np.nan]})
    tables = titled_tables({"median": (median, "M", 1), "other": (median, "O", 1)}, (),
                           0.95, medians=("median",))
    assert tables["median"].formatted().iloc[0].tolist() == ["A", NOT_REACHED,
                                                             f"2.0 to {NOT_REACHED}"]
    assert tables["other"].formatted().iloc[0].tolist() == ["A", "", "2.0 to NA"]
    kept = as_table(TableResult(median, columns=("arm", "estimate"), not_reached=("estimate",)))
    assert kept.formatted().columns.tolist() == ["Arm", "Estimate"]
    assert kept.formatted()["Estimate"].tolist() == [NOT_REACHED]


def _trial_table(**kwargs) -> TableResult:
    frame = pd.DataFrame({"arm": ["dry_needling", "dry_needling", "sham"],
                          "reference": ["sham", "sham", "sham"], "visit": [1, 2, 1],
                          "estimate": [-26.71, -14.4, 0.5], "std_error": [4.4, 4.7, 1.0],
                          "ci_lower": [-35.3, -23.5, -1.5], "ci_upper": [-18.1, -5.2, 2.5],
                          "p_value": [0.0001, 0.002, 0.6], "n_patients": [42.0, 40.0, 42.0]})
    return TableResult(frame, title="Difference", digits=1, **kwargs)


def test_human_headers_one_ci_column_and_arm_labels():
    f = _trial_table(unit="mm").formatted()
    assert list(f.columns) == ["Arm", "Reference", "Visit", "Estimate (mm)", "SE", "95% CI",
                               "p", "Patients"]
    assert f["95% CI"].tolist() == ["-35.3 to -18.1", "-23.5 to -5.2", "-1.5 to 2.5"]
    assert f["Arm"].tolist() == ["Dry needling", "Dry needling", "Sham"]
    assert f["Patients"].tolist() == ["42", "40", "42"]        # counts as integers
    assert f["Reference"].tolist() == ["Sham"] * 3


def test_ci_header_takes_its_level_from_conf_level():
    assert "90% CI" in _trial_table(conf_level=0.9).formatted().columns
    for render in ("to_html", "to_markdown", "to_latex", "summary"):
        text = getattr(_trial_table(conf_level=0.9), render)()
        assert "90" in text and "ci_lower" not in text and "ci\\_lower" not in text, render
        assert "std_error" not in text and "dry_needling" not in text, render


def test_labels_override_a_header_and_whole_numbers_print_as_integers():
    t = _trial_table(labels={"estimate": "Hedges' g", "ci": "{level} CI of g"})
    assert list(t.formatted().columns)[3:6] == ["Hedges' g", "SE", "95% CI of g"]
    f = TableResult(pd.DataFrame({"tau": [42.0], "time": [14.0], "estimate": [18.0]})).cells()
    assert f.iloc[0].tolist() == ["42", "14", "18.00"]   # an estimate keeps its decimals


def test_latex_is_booktabs_with_right_aligned_numbers_spanners_and_grouping():
    tex = _trial_table(unit="mm").to_latex()
    assert r"\begin{tabular}{llrrrrrr}" in tex and r"\toprule" in tex
    assert r"Dry needling & Sham & 1 & $-$26.7" in tex
    assert "\n &  & 2 & $-$14.4" in tex                   # the repeated labels blanked
    wide = TableResult(pd.DataFrame({"term": ["Any"], "dry_needling: participants": ["3 (7)"],
                                     "dry_needling: events": ["4"], "sham: participants":
                                     ["1 (2)"], "sham: events": ["1"]}),
                       arm_n={"dry_needling": 42, "sham": 41})
    tex = wide.to_latex()
    assert r"\multicolumn{2}{c}{Dry needling (n = 42)}" in tex
    assert r"\multicolumn{2}{c}{Sham (n = 41)}" in tex and r"\cmidrule(lr){2-3}" in tex
    assert "Term & Participants & Events & Participants & Events" in tex
    assert 'colspan="2">Dry needling (n = 42)</th>' in wide.to_html()
