"""The run's building blocks: configuration schema, reproducible figures, the HTML report."""

from __future__ import annotations

import base64
import re
import shutil
import subprocess
from html.parser import HTMLParser

import pandas as pd
import pytest

import dryneedle_outcomes as dno
from dryneedle_outcomes import config as config_module
from dryneedle_outcomes.config import AnalysisOptions, TrajectoryOptions
from dryneedle_outcomes.manifest import output_hashes, sha256
from dryneedle_outcomes.report import run_analyses
from dryneedle_outcomes.report.figures import render
from dryneedle_outcomes.report.html import RunInfo, render_report
from dryneedle_outcomes.report.sections import Diagnostic, NamedFigure, NamedTable, Section
from dryneedle_outcomes.tables import TableResult

PNG = b"\x89PNG\r\n\x1a\n"


class _Tags(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def test_every_config_key_is_documented_in_the_module_docstring():
    doc = config_module.__doc__
    for section, keys in config_module.SCHEMA.items():
        assert f"[{section}]" in doc, section
        for key in keys or ():
            as_key = re.search(rf"^\s*#?\s*{key} = ", doc, re.MULTILINE)
            assert as_key or f"[{section}.{key}]" in doc, f"{section}.{key}"


def test_figures_are_byte_identical_and_carry_no_timestamps():
    fig = NamedFigure("f", "A line.", lambda ax: ax.plot([0, 1, 2], [2, 0, 1], label="a"), 50.0)
    first = render(fig, ("pdf", "png", "svg"), width="double", dpi=100)
    second = render(fig, ("pdf", "png", "svg"), width="double", dpi=100)
    assert first == second
    assert first["pdf"].startswith(b"%PDF") and b"CreationDate" not in first["pdf"]
    assert first["png"].startswith(PNG) and b"Software" not in first["png"]
    assert first["svg"].lstrip().startswith(b"<?xml") and b"<dc:date>" not in first["svg"]


def test_report_is_self_contained(small_run):
    text = (small_run / "report.html").read_text(encoding="utf-8")
    parser = _Tags()
    parser.feed(text)
    names = {tag for tag, _ in parser.tags}
    assert not names & {"script", "link", "iframe", "object", "embed", "base"}
    ids = {attrs["id"] for _, attrs in parser.tags if "id" in attrs}
    images = [attrs for tag, attrs in parser.tags if tag == "img"]
    assert len(images) == len(list((small_run / "figures").glob("*.png"))) > 0
    for attrs in images:
        prefix = "data:image/png;base64,"
        assert attrs["src"].startswith(prefix)
        assert base64.b64decode(attrs["src"][len(prefix):]).startswith(PNG)
        assert attrs["alt"]
    for tag, attrs in parser.tags:
        if "href" in attrs:
            assert attrs["href"].startswith("#") and attrs["href"][1:] in ids, attrs
        assert "src" not in attrs or tag == "img"
    style = re.search(r"<style>(.*?)</style>", text, re.DOTALL).group(1)
    assert "url(" not in style and "@import" not in style


def test_report_lists_convergence_and_every_warning(sample_dir):
    table = TableResult(pd.DataFrame({"arm": ["a", "b"], "estimate": [1.0, 2.5]}),
                        title="A table <with> markup", notes=("A note.",))
    section = Section("demo", "Demo", items=[
        NamedTable("demo_table", table),
        NamedFigure("demo_figure", "A figure.", lambda ax: ax.plot([0, 1])),
    ], diagnostics=[Diagnostic("model x", False, "3 patients", ("singular fit", "bad start")),
                    Diagnostic("model y", True, "ok")], headline=["Headline number 4.2"])
    cohort = dno.simulate_cohort(n_patients=12, seed=1)
    png = render(section.figures[0], ("png",), width="single", dpi=72)["png"]
    info = RunInfo(config="demo.toml", version="0", started="2024-01-01T00:00:00+00:00",
                   inputs={}, load_warnings=("a load warning",))
    text = render_report(cohort, [section], {"demo_figure": png}, {}, info)
    assert "Table 1. A table &lt;with&gt; markup" in text
    assert "Figure 1. A figure." in text and "Headline number 4.2" in text
    for warning in ("singular fit", "bad start", "a load warning"):
        assert f"<li>{warning}</li>" in text
    rows = re.findall(r"<tr><td class=\"txt\">(model [xy])</td><td class=\"txt\">(\w+)</td>",
                      text)
    assert rows == [("model x", "NO"), ("model y", "yes")]
    assert '<td class="num">2.50</td>' in text            # numbers right-aligned, rounded


def test_sessions_to_mcid_is_not_in_the_report():
    """Even an option set to true adds no table: a group mean is not judged against an
    individual MCID (IMMPACT); the report's headline is at the pre-specified visit."""
    cohort = dno.simulate_cohort(n_patients=40, seed=3)
    options = AnalysisOptions(primary_visit=4, trajectory=TrajectoryOptions(
        models=("random_intercept",), sessions_to_mcid=True, n_boot=3, seed=11))
    section = {s.key: s for s in run_analyses(cohort, options, progress=False)}["trajectory"]
    assert not [t for t in section.tables if "mcid" in t.name]
    assert not [f for f in section.figures if "MCID" in f.caption]
    assert section.headline[0].startswith(
        "First-step pain (VAS, mm) at visit 4 (the pre-specified primary visit), "
        "random-intercept model, Satterthwaite df: dry needling minus sham")


def test_manifest_skips_hashes_of_timestamped_files(tmp_path):
    for name in ("report.html", "a.csv"):
        (tmp_path / name).write_text(name)
    hashes = output_hashes(tmp_path, ["report.html", "a.csv"])
    assert hashes["report.html"] is None
    assert hashes["a.csv"] == sha256(tmp_path / "a.csv")


@pytest.mark.skipif(shutil.which("chromium") is None, reason="Chromium not installed")
def test_report_renders_in_headless_chromium_with_every_image(small_run, tmp_path):
    text = (small_run / "report.html").read_text(encoding="utf-8")
    n_images = text.count('<img src="data:image/png;base64,')
    probe = (
        "<script>window.addEventListener('load', () => {"
        "const imgs = Array.from(document.images);"
        "document.body.dataset.images = imgs.length;"
        "document.body.dataset.broken = imgs.filter("
        "i => !(i.complete && i.naturalWidth > 0)).length; });</script>")
    page = tmp_path / "report.html"            # a probed copy; the report has no script
    page.write_text(text.replace("</body>", probe + "</body>"), encoding="utf-8")
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
             "--disable-component-update", "--no-first-run",
             f"--user-data-dir={tmp_path / 'profile'}"]
    dom = subprocess.run(["chromium", *flags, "--virtual-time-budget=10000", "--dump-dom",
                          page.as_uri()], capture_output=True, text=True, timeout=180).stdout
    body = re.search(r"<body[^>]*>", dom).group(0)
    assert f'data-images="{n_images}"' in body and n_images > 0
    assert 'data-broken="0"' in body
    shot = tmp_path / "report.png"
    subprocess.run(["chromium", *flags, "--window-size=1200,1600", f"--screenshot={shot}",
                    (small_run / "report.html").as_uri()], capture_output=True, timeout=180,
                   cwd=tmp_path)
    assert shot.read_bytes().startswith(PNG)


def _demo_table(title, notes, **kwargs) -> TableResult:
    frame = pd.DataFrame({"arm": ["dry_needling"], "reference": ["sham"], "visit": [6],
                          "estimate": [-18.06], "std_error": [4.36], "ci_lower": [-26.75],
                          "ci_upper": [-9.38], "p_value": [0.0001]})
    return TableResult(frame, title=title, notes=notes, conf_level=0.9, digits=1, **kwargs)


def _demo_sections() -> list[Section]:
    shared = "Reference arm sham; differences are arm minus sham."
    primary = Section("trajectory", "Trajectory", items=[
        NamedTable("primary", _demo_table("Primary contrast",
                                          (shared, "Own note of primary."), unit="mm"),
                   main=True),
        NamedTable("other_model", _demo_table("Other model", (shared,))),
        NamedTable("means", _demo_table("Means", (shared, "Own note of means."))),
        NamedTable("fixed", _demo_table("Fixed effects", (shared,))),
        NamedFigure("curve", "A curve.", lambda ax: ax.plot([0, 1]), main=True),
    ])
    harms = Section("harms", "Harms", items=[NamedTable("rates", _demo_table("Rates", ()))])
    return [primary, harms]


def test_report_opens_with_the_main_results_and_ends_with_the_appendix():
    sections = _demo_sections()
    cohort = dno.simulate_cohort(n_patients=12, seed=1)
    png = render(sections[0].figures[0], ("png",), width="single", dpi=72)["png"]
    info = RunInfo(config="demo.toml", version="0", started="2024-01-01T00:00:00+00:00",
                   inputs={})
    text = render_report(cohort, sections, {"curve": png}, {}, info)
    order = [text.index(s) for s in (
        'id="main-results"', 'id="summary"', 'id="trajectory"', "Table 1. Primary contrast",
        "Figure 1. A curve.", 'id="appendix"', 'id="appendix-trajectory"',
        "Table 2. Other model", "Table 4. Fixed effects", 'id="appendix-harms"',
        "Table 5. Rates", 'id="data"', 'id="diagnostics"')]
    assert order == sorted(order)
    assert 'id="harms"' not in text                       # no main item: appendix only
    # human rendering: headers, the CI level of the table, arm labels
    assert "<th class=\"num\">Estimate (mm)</th>" in text and ">90% CI</th>" in text
    assert '<td class="num">-26.8 to -9.4</td>' in text and ">Dry needling</td>" in text
    tables = text[text.index('id="main-results"'):text.index('id="data"')]
    assert "ci_lower" not in tables and "std_error" not in tables
    assert "dry_needling" not in tables
    # every note once: under its table, or once for the section's tables in a part; the
    # appendix part points to the notes its main results print
    shared = "Reference arm sham; differences are arm minus sham."
    assert text.count(shared) == 1
    assert text.count("Own note of primary.") == text.count("Own note of means.") == 1
    main = text[text.index('id="trajectory"'):text.index('id="appendix"')]
    assert main.index("Table 1. Primary contrast") < main.index(shared) \
        < main.index("Own note of primary.") < main.index("Figure 1. A curve.")
    appendix = text[text.index('id="appendix-trajectory"'):text.index('id="appendix-harms"')]
    assert appendix.index("Own note of means.") < appendix.index("Table 4. Fixed effects")
    pointer = 'notes printed with this section\'s <a href="#trajectory">main results</a>'
    assert appendix.index(pointer) > appendix.index("Table 4. Fixed effects")
    shared_only = Section("x", "X", items=[NamedTable(n, _demo_table(n, (shared,)))
                                           for n in ("a", "b", "c")])
    text = render_report(cohort, [shared_only], {}, {}, info)
    assert text.count(shared) == 1                        # once for three tables
    block = text.index("Notes to the tables of this section")
    assert text.index("Table 3. c") < block < text.index(shared)


def test_sample_run_flags_the_main_results(small_run):
    text = (small_run / "report.html").read_text(encoding="utf-8")
    main = text[text.index('id="main-results"'):text.index('<h1 class="part" id="appendix"')]
    for name in ("tab-baseline_table", "tab-trajectory_mmrm_arm_difference",
                 "fig-trajectory_mmrm", "tab-harms_table", "fig-consort_flow"):
        assert f'id="{name}"' in main, name
    appendix = text[text.index('<h1 class="part" id="appendix"'):]
    for name in ("tab-trajectory_mmrm_fixed_effects", "fig-arm_differences_mmrm",
                 "tab-harms_table_long"):
        assert f'id="{name}"' in appendix, name
    numbers = [int(n) for n in re.findall(r"<figcaption>Table (\d+)\.", text)]
    assert numbers == list(range(1, len(numbers) + 1))    # numbered as they appear
