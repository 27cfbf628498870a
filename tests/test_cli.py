"""The command line: run, validate, simulate, their outputs and exit codes.

The sample job runs once per module (``sample_run``) and the tests read its outputs;
the determinism test runs it a second time (the Turnbull and soreness bootstraps are
seeded, so the two runs must be byte-identical).
"""

from __future__ import annotations

import html
import json
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from cli_helpers import run_cli as _run

import dryneedle_outcomes as dno
from dryneedle_outcomes.cli import main
from dryneedle_outcomes.manifest import sha256

MODELS = ("mmrm", "random_slope")
PER = ("patient", "session", "100_needles")
MISSING = ("non_responder", "observed")
TABLES = (
    ["baseline_table", "protocol_deviations", "ae_dose_response", "harms_table",
     "harms_table_long", "blinding"]
    + [f"trajectory_{m}_{t}" for m in MODELS
       for t in ("arm_difference", "marginal_means", "fixed_effects", "type3",
                 "variance_components", "cumulative_effect")]
    + [f"ae_rates_{p}{s}" for p in PER for s in ("", "_comparison")]
    + [f"responders_{m}{s}" for m in MISSING
       for s in ("", "_difference", "_adjusted", "_adjusted_ratio")]
    + ["responders_effect_sizes"]
    + [f"time_to_relief_{ts}_{t}" for ts in ("days", "sessions")
       for t in ("median", "ic_hazard_ratios", "hazard_ratios", "time_ratios", "model_fit",
                 "logrank", "rmst", "at_risk", "ph_test", "events")]
    + ["time_to_relief_sessions_per_session", "time_to_relief_sessions_relieved_by_session"]
    + [f"soreness_{t}" for t in ("median", "by_session", "by_needles", "any", "time_ratios")]
    # the [estimand] table and its sensitivity analyses ([analysis.reference_based])
    + ["estimand", "estimand_data", "reference_based", "reference_based_missing",
       "tipping_point", "tipping_point_table"]
    # the participant flow (CONSORT 2025) and the observed data
    + ["consort_flow", "consort_by_visit", "observed_data"]
    # the intervention as delivered (STRICTA 2010), right after the flow
    + ["stricta"]
)
SAMPLE = Path(__file__).parents[1] / "data" / "sample"
FIGURES = ([f"trajectory_{m}" for m in MODELS] + [f"arm_differences_{m}" for m in MODELS]
           + [f"ae_incidence_{p}" for p in PER] + ["harms_participants"]
           + [f"responders_{m}" for m in MISSING]
           + ["time_to_relief_days_curve", "time_to_relief_sessions_curve", "soreness_curve"]
           + ["consort_flow"]
           + ["diagnostics_mmrm"]  # the appendix's model checks of the primary model
           + ["tipping_point"])



@pytest.fixture(scope="module")
def sample_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("run") / "out"
    code, stdout, stderr = _run(["run", str(SAMPLE / "analysis.toml"), "--out", str(out)])
    assert code == 0, stderr
    return out, stdout, stderr


@pytest.fixture(scope="module")
def cohort(sample_cohort):
    return sample_cohort


@pytest.fixture(scope="module")
def ice_cohort():
    """The sample as its analysis.toml loads it: with its intercurrent events."""
    with pytest.warns(dno.DataQualityWarning, match="pregnant"):  # the planted deviation
        return dno.load_cohort("assessments.csv", "patients.xlsx", "adverse_events.csv",
                               intercurrent_events="intercurrent_events.csv",
                               mapping="mapping.toml", errors="quarantine", base_dir=SAMPLE)


def test_run_writes_every_expected_file(sample_run):
    out, _, _ = sample_run
    for name in TABLES:
        frame = pd.read_csv(out / "tables" / f"{name}.csv")
        assert len(frame) > 0, name
        tex = (out / "tables" / f"{name}.tex").read_text(encoding="utf-8")
        assert tex.startswith(r"\begin{table}") and r"\caption{" in tex, name
    assert sorted(p.stem for p in (out / "tables").glob("*.csv")) == sorted(TABLES)
    assert sorted(p.stem for p in (out / "tables").glob("*.xlsx")) == sorted(TABLES)
    for name in FIGURES:
        assert (out / "figures" / f"{name}.pdf").read_bytes()[:4] == b"%PDF", name
        assert (out / "figures" / f"{name}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", name
    assert len(list((out / "figures").iterdir())) == 2 * len(FIGURES)
    # report/: the supplement's files, named by the items' identifiers in report.html
    assert sorted(p.name for p in (out / "report").iterdir()) == sorted(
        [f"tab-{t}.csv" for t in TABLES] + [f"fig-{f}.{e}" for f in FIGURES
                                           for e in ("pdf", "png")] + ["index.csv"])
    for name in FIGURES:
        for ext in ("pdf", "png"):
            assert (out / "report" / f"fig-{name}.{ext}").read_bytes() == (
                out / "figures" / f"{name}.{ext}").read_bytes(), name
    assert (out / "report.docx").read_bytes()[:2] == b"PK"
    for name in ("patients", "assessments", "adverse_events", "intercurrent_events"):
        assert len(pd.read_csv(out / "data" / f"{name}.csv")) > 0
    counts = pd.read_csv(out / "quality" / "counts.csv")
    assert (counts["read"] == counts["kept"] + counts["rejected"]).all()
    # the seven planted problems of the three files and the intercurrent event at baseline
    rejected = pd.read_csv(out / "quality" / "rejected.csv")
    assert len(rejected) == 8
    assert rejected.loc[rejected["table"] == "intercurrent_events", "rule"].tolist() == [
        "ice_at_baseline"]
    assert "pregnant" in (out / "warnings.txt").read_text(encoding="utf-8")
    # the Methods and Results text and its bibliography (tests/test_methods_text.py)
    methods = (out / "methods.md").read_text(encoding="utf-8")
    assert methods.startswith("# Methods\n") and "\n# Results\n" in methods
    assert (out / "references.bib").read_text(encoding="utf-8").startswith("@")


def test_manifest_hashes_inputs_config_and_outputs(sample_run, sample_dir):
    out, _, _ = sample_run
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["inputs"]["assessments"]["sha256"] == sha256(sample_dir / "assessments.csv")
    assert manifest["inputs"]["config"]["sha256"] == sha256(sample_dir / "analysis.toml")
    assert manifest["software"]["pandas"] == pd.__version__
    assert manifest["software"]["python"].count(".") == 2
    config = manifest["config"]
    assert config["data"]["errors"] == "quarantine"
    assert config["analysis"]["trajectory"]["models"] == list(MODELS)
    assert config["analysis"]["trajectory"]["n_boot"] == 200      # a default, resolved
    assert config["analysis"]["responders"] == {"criterion": "mcid", "value": 19.0,
                                                "missing": list(MISSING),
                                                "adjust": ["baseline"], "variance": "robust"}
    assert config["figures"] == {"formats": ["pdf", "png"], "width": "single", "dpi": 300}
    assert manifest["seeds"]["simulation"] == {"seed": 2014, "n_patients": 84}
    assert manifest["seeds"]["time_to_relief_bootstrap"] == {"seed": 2014, "n_boot": 2000}
    assert manifest["seeds"]["soreness_duration_bootstrap"] == {"seed": 2014, "n_boot": 2000}
    assert manifest["started"] <= manifest["finished"]
    on_disk = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    assert sorted(manifest["outputs"]) == on_disk
    for name, digest in manifest["outputs"].items():
        if name in ("report.html", "manifest.json"):
            assert digest is None
        else:
            assert digest == sha256(out / name), name


def test_report_embeds_every_table_and_figure(sample_run, cohort):
    out, _, _ = sample_run
    report = (out / "report.html").read_text(encoding="utf-8")
    assert report.count("<figcaption>Table ") == len(TABLES)
    for name in TABLES:
        assert f"tables/{name}.csv" in report
    captions = [dno.baseline_table(cohort).title, dno.dose_response(cohort).title,
                dno.protocol_deviations(cohort).title]
    for per in PER:
        rates = dno.adverse_event_rates(cohort, per=per)
        captions += [rates.title, rates.comparison_table().title]
    captions += [dno.responders(cohort, mcid=19.0, missing=m).title for m in MISSING]
    for caption in captions:
        assert html.escape(caption) in report, caption
    assert report.count('<img src="data:image/png;base64,') == len(FIGURES)
    import base64

    for name in FIGURES:
        png = base64.b64encode((out / "figures" / f"{name}.png").read_bytes()).decode()
        assert f'src="data:image/png;base64,{png}"' in report, name
    assert "Quality ledger" in report or "quality ledger" in report
    assert "Model diagnostics and warnings" in report
    assert "trajectory mmrm" in report and "dose-response GEE" in report


def test_tables_equal_the_python_api(sample_run, cohort):
    out, _, _ = sample_run
    tables = out / "tables"
    # mmrm arm difference at visit 6
    fit = dno.fit_trajectory(cohort, "first_step_pain", model="mmrm")
    api = fit.comparison.set_index("visit").loc[6]
    csv = pd.read_csv(tables / "trajectory_mmrm_arm_difference.csv").set_index("visit").loc[6]
    for col in ("estimate", "std_error", "df", "ci_lower", "ci_upper", "p_value"):
        np.testing.assert_allclose(csv[col], api[col], rtol=1e-12, err_msg=col)
    cumulative = pd.read_csv(tables / "trajectory_mmrm_cumulative_effect.csv")
    np.testing.assert_allclose(cumulative["estimate"], fit.cumulative_effect(6)["estimate"],
                               rtol=1e-12)
    # per-session rate of any adverse event, with the sample config's soreness rule
    rates = dno.adverse_event_rates(cohort, per="session",
                                    soreness_as_ae={"min_hours": 48}).table
    api = rates[rates["term"] == "any"].set_index("arm")
    csv = pd.read_csv(tables / "ae_rates_session.csv")
    csv = csv[csv["term"] == "any"].set_index("arm")
    for col in ("count", "denominator", "estimate", "ci_lower", "ci_upper"):
        np.testing.assert_allclose(csv.loc[api.index, col], api[col], rtol=1e-12,
                                   err_msg=col)
    # responders at visit 6, both missing-data rules
    for missing in MISSING:
        res = dno.responders(cohort, "first_step_pain", missing=missing, adjust=["baseline"])
        api = res.table[res.table["visit"] == 6].set_index("arm")
        for suffix, measure in (("", "risk_difference"), ("_ratio", "risk_ratio")):
            adj = pd.read_csv(tables / f"responders_{missing}_adjusted{suffix}.csv")
            api_adj = res.adjusted[res.adjusted["measure"] == measure]
            assert (adj["measure"] == measure).all() and len(adj) == len(api_adj)
            np.testing.assert_allclose(adj[["estimate", "ci_lower", "ci_upper"]],
                                       api_adj[["estimate", "ci_lower", "ci_upper"]],
                                       rtol=1e-12)
        csv = pd.read_csv(tables / f"responders_{missing}.csv")
        csv = csv[csv["visit"] == 6].set_index("arm")
        for col in ("n_responders", "denominator", "estimate", "ci_lower", "ci_upper"):
            np.testing.assert_allclose(csv.loc[api.index, col], api[col], rtol=1e-12)
        diff = pd.read_csv(tables / f"responders_{missing}_difference.csv")
        np.testing.assert_allclose(diff.loc[diff["visit"] == 6, "estimate"],
                                   res.comparison.loc[res.comparison["visit"] == 6,
                                                      "estimate"], rtol=1e-12)
    # time to relief (days) and soreness, with the configuration's seeds, its default
    # (confirmed) relief, its baseline adjustment and its pre-specified RMST tau (42 days)
    res = dno.time_to_relief(cohort, seed=2014, progress=False, adjust=["baseline"])
    for name, frame in (("median", res.median), ("hazard_ratios", res.hazard_ratios),
                        ("time_ratios", res.time_ratios), ("rmst", res.rmst(42))):
        csv = pd.read_csv(tables / f"time_to_relief_days_{name}.csv")
        for col in ("estimate", "ci_lower", "ci_upper"):
            np.testing.assert_allclose(csv[col], frame[col], rtol=1e-12, err_msg=name)
    # the participant flow: randomised = the ledger's kept register rows; the analysed
    # counts are those of the fits the run made (here the mmrm of visit 6 above)
    flow = pd.read_csv(tables / "consort_flow.csv")
    kept = cohort.quality.counts.set_index("table").loc["patients", "kept"]
    assert flow.loc[flow["box"] == "randomised", "all"].item() == kept == 84
    analysed = flow[(flow["analysis"] == "trajectory_mmrm") & (flow["box"] == "analysed")]
    assert analysed[["dry_needling", "sham"]].to_numpy().sum() == fit.n_patients
    for name in ("responders_non_responder", "responders_observed"):
        res = dno.responders(cohort, "first_step_pain", missing=name.split("_", 1)[1])
        den = res.table[res.table["visit"] == 6].set_index("arm")["denominator"]
        got = flow[(flow["analysis"] == name) & (flow["box"] == "analysed")].iloc[0]
        assert got[["dry_needling", "sham"]].tolist() == den[["dry_needling", "sham"]].tolist()
    sore = dno.soreness_duration(cohort, seed=2014, progress=False)
    csv = pd.read_csv(tables / "soreness_by_session.csv")
    np.testing.assert_allclose(csv[["estimate", "ci_lower", "ci_upper"]],
                               sore.by_session[["estimate", "ci_lower", "ci_upper"]], rtol=1e-12)


def _api_frames(cohort) -> dict[str, pd.DataFrame]:
    """Every table of the sample run, computed by the Python API (as analysis.toml asks;
    small bootstraps: the columns do not depend on the number of replicates)."""
    frames = {"baseline_table": dno.baseline_table(cohort).table,
              "protocol_deviations": dno.protocol_deviations(cohort).table,
              "ae_dose_response": dno.dose_response(cohort).table,
              "blinding": dno.blinding_index(cohort).table}
    harms = dno.harms_table(cohort, soreness_as_ae={"min_hours": 48})
    frames["harms_table"], frames["harms_table_long"] = harms.table, harms.long
    for model in MODELS:
        fit = dno.fit_trajectory(cohort, "first_step_pain", model=model, adjust=["baseline"])
        frames[f"trajectory_{model}_arm_difference"] = fit.comparison
        for name in ("marginal_means", "fixed_effects", "type3", "variance_components"):
            frames[f"trajectory_{model}_{name}"] = getattr(fit, name)
        frames[f"trajectory_{model}_cumulative_effect"] = fit.cumulative_effect(6)
    for per in PER:
        rates = dno.adverse_event_rates(cohort, per=per, soreness_as_ae={"min_hours": 48})
        frames[f"ae_rates_{per}"] = rates.table
        frames[f"ae_rates_{per}_comparison"] = rates.comparison
    for missing in MISSING:
        res = dno.responders(cohort, "first_step_pain", missing=missing, adjust=["baseline"])
        frames[f"responders_{missing}"] = res.table
        frames[f"responders_{missing}_difference"] = res.comparison
        rd = res.adjusted["measure"] == "risk_difference"
        frames[f"responders_{missing}_adjusted"] = res.adjusted[rd]
        frames[f"responders_{missing}_adjusted_ratio"] = res.adjusted[~rd]
        frames["responders_effect_sizes"] = res.effect_sizes
    for timescale in ("days", "sessions"):
        res = dno.time_to_relief(cohort, timescale=timescale, interval_censored=True,
                                 n_boot=5, seed=2014, progress=False, adjust=["baseline"])
        stem = f"time_to_relief_{timescale}"
        for name in ("median", "ic_hazard_ratios", "hazard_ratios", "time_ratios",
                     "model_fit", "ph_test", "events"):
            frames[f"{stem}_{name}"] = getattr(res, name)
        frames[f"{stem}_rmst"] = res.rmst(42 if timescale == "days" else 6)  # the config's
        if timescale == "sessions":
            frames[f"{stem}_relieved_by_session"] = res.relieved_by_session
        frames[f"{stem}_at_risk"] = res.at_risk(res.default_times())
        frames[f"{stem}_logrank"] = res.tests   # primary (interval-censored) first
        if res.discrete_hazard is not None:
            frames[f"{stem}_per_session"] = res.discrete_hazard.hazard
    sore = dno.soreness_duration(cohort, n_boot=5, seed=2014, progress=False)
    for name in ("median", "by_session", "by_needles", "time_ratios"):
        frames[f"soreness_{name}"] = getattr(sore, name)
    frames["soreness_any"] = sore.any_soreness
    flow = dno.consort_flow(cohort, primary_visit=6, outcome="first_step_pain")
    frames["consort_flow"], frames["consort_by_visit"] = flow.table(), flow.by_visit
    frames["observed_data"] = dno.observed_summary(cohort).display()
    return frames


def test_the_stricta_table_follows_the_flow_and_equals_the_api(sample_run, ice_cohort):
    """[analysis.stricta] (issue 14 item 2): the run's table is dno.stricta_table's, and
    the report places it right after the participant flow."""
    out, _, _ = sample_run
    csv = pd.read_csv(out / "tables" / "stricta.csv", dtype=str, keep_default_na=False)
    api = dno.stricta_table(ice_cohort, planned_sessions=6).table
    assert csv.columns.tolist() == api.columns.tolist()
    assert csv.to_numpy().tolist() == api.astype(str).to_numpy().tolist()
    html = (out / "report.html").read_text(encoding="utf-8")
    assert html.index('id="consort"') < html.index('id="stricta"') < html.index(
        'id="baseline_table"')
    # each named intrinsic muscle has its own row; the coarse bin is only their group
    named = csv.loc[csv["item"] == "2b", "characteristic"]
    for muscle in ("abductor hallucis", "flexor digitorum brevis", "quadratus plantae"):
        assert named.str.startswith(f"Muscle needled: {muscle} (intrinsic foot)").any()


def test_the_participant_flow_counts_the_sample_events(sample_run, ice_cohort):
    """The run's CONSORT numbers equal independent counts of the sample's intercurrent
    events and assessments (issue 14 item 1)."""
    out, _, _ = sample_run
    flow = pd.read_csv(out / "tables" / "consort_flow.csv")
    ev = ice_cohort.intercurrent_events.merge(ice_cohort.patients[["patient_id", "arm"]])
    ev["arm"] = ev["arm"].astype(str)
    stopped = ev[ev["event"].astype(str).isin(["discontinued_treatment",
                                              "adverse_event_withdrawal"])]
    n_stopped = stopped.groupby("arm")["patient_id"].nunique()
    row = flow[flow["box"] == "discontinued intervention"].iloc[0]
    for arm in ("dry_needling", "sham"):
        assert row[arm] == n_stopped.get(arm, 0), arm
    left = ev[ev["event"].astype(str) == "withdrew_from_study"].groupby("arm")[
        "patient_id"].nunique()
    lost = flow[flow["box"] == "lost to follow-up"].iloc[0]
    withdrew = flow[flow["box"].str.strip().str.startswith("withdrew: ", na=False)]
    for arm in ("dry_needling", "sham"):     # every withdrawal is a loss, with its reason
        assert withdrew[arm].sum() == left.get(arm, 0) <= lost[arm], arm
    by_visit = pd.read_csv(out / "tables" / "consort_by_visit.csv")
    a = ice_cohort.assessments.merge(ice_cohort.patients[["patient_id", "arm"]])
    hand = a.groupby([a["arm"].astype(str), "visit"])["patient_id"].nunique()
    assert by_visit.set_index(["arm", "visit"])["attended"].to_dict() == hand.to_dict()


def _estimand_frames(ice_cohort) -> dict[str, pd.DataFrame]:
    """The estimand's tables and its jump-to-reference imputation with the tipping point
    ([analysis.reference_based])."""
    from dryneedle_outcomes.config import AnalysisConfig

    cfg = AnalysisConfig.from_file(SAMPLE / "analysis.toml")
    est = dno.Estimand.from_dict(cfg.estimand)
    rb = cfg.analysis.reference_based
    frames = {"estimand": est.tables()["estimand"].table,
              "estimand_data": dno.apply_estimand(ice_cohort, est,
                                                  outcome="first_step_pain").counts()}
    assert rb.methods == ("jump_to_reference",)
    res = dno.reference_based(ice_cohort, "first_step_pain", method="jump_to_reference",
                              reference_arm="sham", estimand=est, progress=False,
                              **rb.keywords())
    frames["reference_based"] = res.arm_difference.assign(method="jump_to_reference")[
        ["method"] + list(res.arm_difference.columns)]
    frames["reference_based_missing"] = res.tables()["missing"].table
    tip = res.tipping_point(list(rb.tipping_deltas)).tables()
    frames["tipping_point"] = tip["tipping"].table
    frames["tipping_point_table"] = tip["table"].table
    frames["stricta"] = dno.stricta_table(
        ice_cohort, planned_sessions=cfg.analysis.stricta.planned_sessions).table
    return frames


def test_every_table_file_has_every_column_of_the_python_api(sample_run, cohort, ice_cohort):
    out, _, _ = sample_run
    frames = _api_frames(cohort) | _estimand_frames(ice_cohort)
    assert sorted(frames) == sorted(TABLES)
    for name, frame in frames.items():
        csv = pd.read_csv(out / "tables" / f"{name}.csv")
        assert list(csv.columns) == [str(c) for c in frame.columns], name
        xlsx = pd.read_excel(out / "tables" / f"{name}.xlsx", sheet_name="table")
        assert list(xlsx.columns) == list(csv.columns), name
        assert len(xlsx) == len(csv), name
    diff = pd.read_csv(out / "tables" / "responders_observed_difference.csv")
    assert {"estimate", "ci_lower", "ci_upper", "nnt", "nnt_ci_lower", "test"} <= set(diff)
    # the multiple-imputation and tipping-point tables are the API's numbers (same data,
    # same estimand, deterministic jackknife and delta adjustment)
    for name in ("reference_based", "tipping_point_table"):
        csv = pd.read_csv(out / "tables" / f"{name}.csv")
        api = frames[name].reset_index(drop=True)
        for col in ("estimate", "std_error", "ci_lower", "ci_upper", "p_value"):
            np.testing.assert_allclose(csv[col], api[col], rtol=1e-12, err_msg=(name, col))


class _Cells(HTMLParser):
    """The text of every header and data cell, in document order."""

    def __init__(self):
        super().__init__()
        self.cells: list[str] = []
        self._cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        if tag in ("th", "td"):
            self._cell = []

    def handle_endtag(self, tag):
        if tag in ("th", "td") and self._cell is not None:
            self.cells.append("".join(self._cell).strip())
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def _cells(fragment: str) -> list[str]:
    parser = _Cells()
    parser.feed(fragment)
    return parser.cells


def test_report_and_notebook_show_the_same_table_1(sample_run, cohort):
    out, _, _ = sample_run
    report = (out / "report.html").read_text(encoding="utf-8")
    start = report.index('<figure class="table" id="tab-baseline_table">')
    in_report = _cells(report[start:report.index("</figure>", start)])
    t1 = dno.baseline_table(cohort)
    assert _cells(t1._repr_html_()) == in_report == _cells(t1.to_html())
    shown = t1.formatted()
    assert in_report[:shown.shape[1]] == list(shown.columns)
    assert "Characteristic" in in_report and "Age, years, mean (SD)" in in_report
    assert "Dry needling (n = 42)" in in_report and "dry_needling" not in in_report
    body = in_report[shown.shape[1]:]
    assert body == [str(v) for v in shown.to_numpy().ravel()]


def test_run_prints_progress_headline_and_report_path(sample_run):
    out, stdout, stderr = sample_run
    assert "84 patients" in stdout
    assert ("at visit 6 (the pre-specified primary visit), MMRM (unstructured covariance), "
            "Kenward-Roger df") in stdout
    # -18.1 since the sample was regenerated with the calibrated simulator (issue 12; it
    # was -13.7); Site B's NRS is pooled explicitly with the instrument as a covariate;
    # the model is checked against R in tests/test_instruments.py and test_trajectory.py
    assert "dry needling minus sham -18.1 mm (95% CI" in stdout
    assert "Treatment appointments with at least one adverse event: dry needling" in stdout
    assert "Responders at visit 6 (the pre-specified primary visit" in stdout
    assert "Median time to relief" in stdout and "hazard ratio of relief" in stdout
    assert "Median post-needling soreness" in stdout
    assert f"Report: {out / 'report.html'}" in stdout
    steps = [line for line in stderr.splitlines() if line.startswith("[")]
    # 14: loading, Table 1, two trajectory models, the jump-to-reference imputation
    # ([analysis.reference_based]), two timescales of time to relief, responders, blinding,
    # harms, soreness, the intervention as delivered ([analysis.stricta]), two output steps
    assert steps[0].startswith("[1/14] loading") and steps[-1].startswith("[14/14]")
    assert len(steps) == 14


def test_two_runs_give_identical_tables_figures_and_hashes(sample_run, sample_dir, tmp_path):
    first, _, _ = sample_run
    second = tmp_path / "again"
    assert main(["run", str(sample_dir / "analysis.toml"), "--out", str(second),
                 "--quiet"]) == 0
    for pattern in ("tables/*.csv", "tables/*.xlsx", "tables/*.tex", "figures/*.png",
                    "figures/*.pdf", "report/*", "report.docx"):
        paths = sorted(first.glob(pattern))
        assert paths, pattern
        for path in paths:
            assert path.read_bytes() == (second / path.relative_to(first)).read_bytes(), path
    hashes = [json.loads((d / "manifest.json").read_text())["outputs"] for d in (first, second)]
    assert hashes[0] == hashes[1]


def _sample_config(sample_dir: Path, tmp_path: Path, *, analyses: bool = True,
                   replace: dict[str, str] | None = None) -> str:
    """The sample's analysis.toml with absolute data paths, in ``tmp_path``; without its
    [analysis] tables when ``analyses`` is False (the folder rules do not depend on
    them, and the full pipeline then runs only where its outputs are checked)."""
    text = (sample_dir / "analysis.toml").read_text(encoding="utf-8")
    for name in ("assessments.csv", "patients.xlsx", "adverse_events.csv",
                 "intercurrent_events.csv", "mapping.toml"):
        text = text.replace(f'"{name}"', f'"{(sample_dir / name).as_posix()}"')
    if not analyses:
        text = text[:text.index("[analysis]")] + text[text.index("[figures]"):]
    for old, new in (replace or {}).items():
        assert old in text, old
        text = text.replace(old, new)
    tmp_path.mkdir(parents=True, exist_ok=True)
    config = tmp_path / "analysis.toml"
    config.write_text(text, encoding="utf-8")
    return str(config)


def test_rerun_replaces_our_folder_and_refuses_one_with_other_files(sample_dir, tmp_path,
                                                                    capsys):
    out = tmp_path / "out"
    config = _sample_config(sample_dir, tmp_path / "config", analyses=False)
    assert main(["run", config, "--out", str(out), "--quiet"]) == 0
    (out / "quality" / "counts.csv").unlink()               # a file of ours, gone
    first = json.loads((out / "manifest.json").read_text())["started"]
    assert main(["run", config, "--out", str(out), "--quiet"]) == 0
    assert capsys.readouterr() == ("", "")                  # --quiet: nothing printed
    assert (out / "quality" / "counts.csv").exists()
    assert json.loads((out / "manifest.json").read_text())["started"] >= first
    assert sorted(p.name for p in tmp_path.iterdir()) == ["config", "out"]  # no temporary
    # folders, no lock
    (out / "stale.txt").write_text("not ours")
    assert main(["run", config, "--out", str(out), "--quiet", "--force"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {out} holds 1 file(s) dryneedle_outcomes did not write "
                          "(stale.txt); nothing was changed")
    assert (out / "stale.txt").read_text() == "not ours"


def test_validate_exit_codes(sample_dir, tmp_path, capsys):
    assert main(["validate", str(sample_dir / "analysis.toml"), "--quiet"]) == 1
    assert "out_of_range" in capsys.readouterr().out
    clean = tmp_path / "clean"
    shutil.copytree(sample_dir, clean)
    from dryneedle_outcomes.simulate import simulate_tables, write_raw_exports

    write_raw_exports(simulate_tables(n_patients=10, seed=1), clean, inject_problems=False)
    assert main(["validate", str(clean / "analysis.toml"), "--quiet"]) == 0


DATA = '[data]\nassessments = "{a}"\n'


@pytest.mark.parametrize(
    ("config", "needle"),
    [
        ('[data]\nassesments = "a.csv"\n', "did you mean 'assessments'"),
        ('[data]\nassessments = "missing.csv"\n', "does not exist"),
        ('[data]\nassessments = 3\n', "must be a path"),
        ('[dta]\nassessments = "a.csv"\n', "unknown key 'dta'"),
        (DATA + '[analysis.trajectory]\nmodel = ["mmrm"]\n',
         "[analysis.trajectory]: unknown key 'model' (did you mean 'models'?)"),
        (DATA + '[analysis.trajectory]\nmodels = ["mmrm", "randon_slope"]\n',
         "models has 'randon_slope' (did you mean 'random_slope'?); allowed: "
         "random_intercept, random_slope, session_means, mmrm"),
        (DATA + '[analysis.trajectory]\nmodels = "mmrm"\n',
         "models must be an array of one or more of"),
        (DATA + '[figures]\ndpi = "300"\n',
         "[figures]: dpi must be a whole number from 72 to 1200, got '300' (text)"),
        (DATA + '[analysis]\nconf_level = 95\n', "conf_level must be a number > 0 and < 1"),
        (DATA + '[analysis.harms]\nper = ["visit"]\n', "per has 'visit'"),
        (DATA + '[analysis.responders]\npercent_reduction = 30\nthreshold = 20\n',
         "give one definition of a responder"),
        (DATA + '[analysis]\noutcome = "first_step"\n',
         "outcome = 'first_step' is not allowed (did you mean 'first_step_pain'?)"),
        (DATA + '[analysis.time_to_relief]\nmcid = true\nthreshold = 20\n',
         "[analysis.time_to_relief]: give one definition of relief"),
        (DATA + '[analysis.time_to_relief]\ntimescale = ["weeks"]\n',
         "timescale has 'weeks'"),
        (DATA + '[analysis.time_to_relief]\nconf_type = "loglog"\n',
         "conf_type = 'loglog' is not allowed (did you mean 'log-log'?)"),
        (DATA + '[analysis.soreness_duration]\nn_boot = -1\n',
         "n_boot must be a whole number from 0 to 100000"),
        (DATA + '[analysis.survival]\n', "did you mean [analysis.time_to_relief]"),
        ('[data\nassessments = "a.csv"\n', "is not valid TOML"),
    ],
)
def test_bad_config_gives_one_line_and_exit_2(sample_dir, tmp_path, capsys, config, needle):
    path = tmp_path / "analysis.toml"
    path.write_text(config.replace("{a}", (sample_dir / "assessments.csv").as_posix()))
    out = tmp_path / "out"
    assert main(["run", str(path), "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert needle in err
    assert err.startswith(f"error: {path}")
    assert len(err.splitlines()) == 1
    assert not out.exists()
    assert main(["validate", str(path)]) == 2


def test_failed_analysis_keeps_the_others_and_exits_1(sample_dir, tmp_path, capsys):
    # no bootstrap: the outputs checked here do not depend on it
    config = _sample_config(sample_dir, tmp_path, replace={
        "cumulative_after = [6]": "cumulative_after = [9]", "n_boot = 2000": "n_boot = 0"})
    out = tmp_path / "out"
    assert main(["run", str(config), "--out", str(out), "--quiet"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    # cumulative_after counts sessions received; the sample's course has six
    reason = ("after=9 sessions: the course has 6 session(s) (visits [1, 2, 3, 4, 5, 6]); "
              "give 1..6")
    lines = [f"[analysis.trajectory] the {m} model could not run: {reason}" for m in MODELS]
    assert err == [f"error: {line}" for line in lines]
    # everything else was written; the failures are listed where the user looks
    assert not list((out / "tables").glob("trajectory_*"))
    for name in ("baseline_table", "responders_observed", "ae_rates_session",
                 "time_to_relief_days_median", "soreness_median"):
        assert (out / "tables" / f"{name}.csv").exists(), name
    warned = (out / "warnings.txt").read_text(encoding="utf-8").splitlines()
    assert warned[:2] == [f"[ALERT] {line}" for line in lines]
    report = (out / "report.html").read_text(encoding="utf-8")
    assert html.escape(lines[0]) + ". Everything else in this report is complete." in report
    assert report.index('class="alert"') < report.index('id="summary"')


def test_config_without_analyses_loads_and_reports_only(sample_dir, tmp_path):
    config = tmp_path / "analysis.toml"
    files = {k: (sample_dir / f).as_posix() for k, f in [
        ("assessments", "assessments.csv"), ("patients", "patients.xlsx"),
        ("adverse_events", "adverse_events.csv"), ("mapping", "mapping.toml")]}
    config.write_text("[data]\n" + "".join(f'{k} = "{v}"\n' for k, v in files.items())
                      + 'errors = "quarantine"\n', encoding="utf-8")
    out = tmp_path / "out"
    code, stdout, stderr = _run(["run", str(config), "--out", str(out)])
    assert code == 0, stderr
    assert not list((out / "tables").glob("*.csv"))
    assert "No analyses were configured" in (out / "report.html").read_text(encoding="utf-8")
    assert "Headline" not in stdout and "Report:" in stdout


def test_simulate_writes_a_loadable_sample(small_run):
    """``simulate`` then ``run`` on what it wrote (conftest's small_run does both)."""
    counts = pd.read_csv(small_run / "quality" / "counts.csv")
    assert counts.set_index("table").loc["patients", "read"] == 30
    assert (small_run / "tables" / "trajectory_mmrm_arm_difference.csv").exists()


def test_version(capsys):
    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0
    assert dno.__version__ in capsys.readouterr().out


#: The preamble a journal's template gives at least: booktabs and UTF-8 text.
LATEX_PREAMBLE = (r"\documentclass{article}" "\n" r"\usepackage[T1]{fontenc}" "\n"
                  r"\usepackage[utf8]{inputenc}" "\n" r"\usepackage{booktabs}" "\n"
                  r"\begin{document}" "\n")


@pytest.mark.skipif(shutil.which("pdflatex") is None,
                    reason="pdflatex is not on PATH (apt: texlive-latex-base and "
                           "texlive-latex-recommended)")
def test_every_sample_latex_table_compiles(sample_run, tmp_path):
    import subprocess

    out, _, _ = sample_run
    names = sorted(p.name for p in (out / "tables").glob("*.tex"))
    assert len(names) == len(TABLES)
    body = "".join(rf"\input{{{(out / 'tables' / n).as_posix()}}}" "\n\\clearpage\n"
                   for n in names)
    (tmp_path / "all.tex").write_text(LATEX_PREAMBLE + body + r"\end{document}" "\n",
                                      encoding="utf-8")
    done = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error",
                           "all.tex"], cwd=tmp_path, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stdout[-3000:]
    log = (tmp_path / "all.log").read_text(encoding="utf-8", errors="replace")
    assert "Undefined control sequence" not in log and "Missing $ inserted" not in log
    assert (tmp_path / "all.pdf").read_bytes()[:4] == b"%PDF"
    pages = re.search(r"Output written on all\.pdf \((\d+) pages?", log)
    assert pages and int(pages.group(1)) >= len(names)   # a page per table at least
