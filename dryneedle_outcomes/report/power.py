"""``dryneedle-outcomes power``: simulate as ``[power]`` says and write the folder.

Layout::

    power.csv                 simulated power per n_per_arm (dno.simulate_power's table,
                              unrounded); with n_per_arm
    trials.csv                one row per n_per_arm and simulated trial (its estimate,
                              std_error, df, p_value, rejected, converged)
    sample_size.csv           every n evaluated by the search for target_power
    sample_size_trials.csv    (dno.sample_size's table and trials); with target_power
    power_curve.<fmt>         the power curve (PowerResult.plot), [figures] formats
    sample_size.<fmt>         the search's curve with the target, when both are asked
    assumptions.md            the design, the analysis and the answer in sentences
    report.html               title, assumptions, tables, figures, the answer with its
                              Monte Carlo uncertainty, warnings, software versions
    manifest.json             the marker ("kind": "power"), software, inputs' SHA-256,
                              the resolved configuration, the seed, outputs

The effect is an assumption of the planners. When the design comes from an earlier
cohort's fit (``from_fit``) the report says that power from that cohort's observed
effect is post-hoc power (Hoenig & Heisey 2001, Am Stat 55:19-24), loudly when the
assumed effect is the observed one (within :data:`POST_HOC_TOLERANCE`). The sample size
is reported with its assumptions, as CONSORT 2025 (item on sample size) and SAMPL ask.
"""

from __future__ import annotations

import base64
import html
import json
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .. import __version__
from ..config_power import PowerConfig
from ..errors import AnalysisError, ConfigError
from ..manifest import build_manifest, output_hashes, package_versions, sha256
from ..power import PowerResult, sample_size, simulate_power
from ..quality import neutralise_formulas
from ..tables import table_html
from .alerts import scale_alerts
from .figures import render, width_mm
from .html import CSS
from .outputs import now
from .sections import NamedFigure

#: Relative difference under which an assumed effect counts as the effect observed in
#: the cohort the design came from (post-hoc power).
POST_HOC_TOLERANCE = 0.01


@dataclass(frozen=True)
class PowerRun:
    """What ``dryneedle-outcomes power`` computed: the power curve (``n_per_arm``) and/or
    the sample size search (``target_power``), the design, and the observed effect of
    the fit the design came from (``from_fit``: ``(estimate, visit)``)."""

    design: object
    curve: PowerResult | None = None
    search: PowerResult | None = None
    observed: tuple[float, float] | None = None
    fit_warnings: tuple[str, ...] = ()
    alerts: tuple[str, ...] = ()

    def all_alerts(self) -> list[str]:
        """Implausible scales in the data of the fit, and power that is post-hoc."""
        post_hoc = self.post_hoc()
        return list(self.alerts) + ([post_hoc.removeprefix("ALERT: ")]
                                    if post_hoc and post_hoc.startswith("ALERT: ") else [])

    @property
    def results(self) -> list[PowerResult]:
        """The results computed, the curve first."""
        return [r for r in (self.curve, self.search) if r is not None]

    def answer(self) -> list[str]:
        """The answer in lines: power per n, the sample size with its uncertainty."""
        lines = []
        if self.curve is not None:
            for row in self.curve.table.itertuples(index=False):
                lines.append(f"n = {row.n_per_arm} per arm (treated {row.n_treated}): power "
                             f"{row.power:.3f} (95% Monte Carlo CI {row.ci_lower:.3f} to "
                             f"{row.ci_upper:.3f}; {row.n_trials} trials)")
        s = self.search
        if s is not None:
            n = s.n_required
            plausible = ", ".join(map(str, s.n_plausible)) or "none"
            lines.append(
                f"n per arm for {100 * s.target_power:g}% power: "
                + (f"{n}" if n is not None else "not reached in n_range")
                + f" (n evaluated whose 95% Monte Carlo CI covers the target: {plausible})")
        return lines

    def post_hoc(self) -> str | None:
        """The post-hoc-power warning, when the design comes from a fit."""
        if self.observed is None:
            return None
        estimate, visit = self.observed
        assumed = float(self.design.effect[-1])
        same = abs(abs(assumed) - abs(estimate)) <= POST_HOC_TOLERANCE * abs(estimate)
        text = (f"The variability and dropout come from the earlier cohort's MMRM fit; "
                f"the effect at the last visit ({assumed:g}) is an assumption. The cohort's "
                f"observed difference at visit {visit:g} was {estimate:.3g}: power computed "
                "from an observed effect is post-hoc power, a restatement of the p-value "
                "already seen, and misleading (Hoenig & Heisey 2001); plan on a target "
                "difference between the arms' means that is important and realistic "
                "(DELTA2: Cook et al. 2018).")
        if same:
            return ("ALERT: the assumed effect is the effect observed in the cohort "
                    f"(within {100 * POST_HOC_TOLERANCE:g}%): this is post-hoc power. "
                    + text)
        return text


def _primary_visit(cfg: PowerConfig, design) -> float | None:
    """``[power] visit``; with ``from_fit``, ``[analysis] primary_visit`` by default."""
    if cfg.power.visit is not None:
        return cfg.power.visit
    if cfg.power.design.from_fit and cfg.analysis.analysis.primary_visit is not None:
        return float(cfg.analysis.analysis.primary_visit)
    return None


def _fit(cfg: PowerConfig, step: Callable[[str], None]):
    """Load the configured cohort and fit the MMRM the design comes from."""
    from ..load import load_cohort
    from ..models.trajectory import fit_trajectory

    a = cfg.analysis
    step(f"loading {', '.join(p.name for k, p in a.inputs.items() if k != 'config')}")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        cohort = load_cohort(a.assessments, a.patients, a.adverse_events, mapping=a.mapping,
                             errors=a.errors, config_file=a.source, limits=a.limits,
                             deviations=a.deviations,
                             intercurrent_events=a.intercurrent_events)
    loaded = tuple(f"[load] {w.message}" for w in caught)
    alerts = tuple(scale_alerts(cohort.quality.flags))
    options = a.analysis
    t = options.trajectory
    step(f"fitting the MMRM of {options.outcome} (the design's variability and dropout)")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fit = fit_trajectory(cohort, options.outcome, model="mmrm", adjust=("baseline",),
                             covariance=t.covariance if t is not None else "unstructured",
                             missing_baseline=(t.missing_baseline if t is not None
                                               else "mean"),
                             reference_arm=options.reference_arm,
                             conf_level=options.conf_level,
                             primary_visit=options.primary_visit)
    return fit, alerts, loaded + tuple(fit.warnings) + tuple(str(w.message) for w in caught)


def run_power(cfg: PowerConfig, *, progress: bool = False,
              step: Callable[[str], None] = lambda message: None) -> PowerRun:
    """Run what ``[power]`` asks: ``dno.simulate_power`` at ``n_per_arm`` and/or
    ``dno.sample_size`` for ``target_power`` over ``n_range``, on the design of
    ``[power.design]`` (or of the configured data's MMRM fit with ``from_fit``)."""
    p = cfg.power
    observed, fit_warnings, alerts = None, (), ()
    if p.design.from_fit:
        outcome = cfg.analysis.analysis.outcome
        try:
            fit, alerts, fit_warnings = _fit(cfg, step)
            design = p.design.design(fit)
        except AnalysisError as exc:  # the data cannot give the design (a ConfigError passes)
            raise AnalysisError(f"{cfg.source}: [power.design] from_fit: the MMRM of "
                                f"{outcome} cannot give the design: {exc}") from None
    else:
        design = p.design.design()
    try:
        p.check_visit(design)
    except ConfigError as exc:
        raise ConfigError(f"{cfg.source}: {exc}") from None
    visit = _primary_visit(cfg, design)
    if p.design.from_fit:
        diff = fit.comparison
        at = visit if visit is not None else float(design.visits[-1])
        row = diff[diff["visit"] == at]
        if len(row):
            observed = (float(row["estimate"].iloc[0]), at)
    common = dict(p.keywords(), design=design, visit=visit, progress=progress)
    curve = search = None
    if p.n_per_arm is not None:
        step(f"simulating {p.n_trials} trials ({p.analysis}) at n = "
             f"{', '.join(map(str, p.n_per_arm))} per arm")
        curve = simulate_power(n_per_arm=list(p.n_per_arm), **common)
    if p.target_power is not None:
        step(f"searching n in {p.n_range[0]}..{p.n_range[1]} for "
             f"{100 * p.target_power:g}% power ({p.n_trials} trials per n)")
        search = sample_size(p.target_power, n_range=p.n_range, **common)
    return PowerRun(design=design, curve=curve, search=search, observed=observed,
                    fit_warnings=fit_warnings, alerts=alerts)


def _figures(run: PowerRun) -> list[NamedFigure]:
    first = run.curve if run.curve is not None else run.search
    out = [NamedFigure("power_curve", "Simulated power against patients per arm (control) "
                       "with 95% Monte Carlo CIs"
                       + ("; dashed: the target power, dotted: the n required."
                          if first is run.search else "."),
                       lambda ax, r=first: r.plot(ax=ax), 60.0, main=True)]
    if run.curve is not None and run.search is not None:
        out.append(NamedFigure("sample_size", "The sample size search: power at every n "
                               "evaluated with 95% Monte Carlo CIs; dashed: the target "
                               "power, dotted: the n required.",
                               lambda ax, r=run.search: r.plot(ax=ax), 60.0))
    return out


def assumptions_text(run: PowerRun, cfg: PowerConfig) -> str:
    """``assumptions.md``: the design and analysis in sentences, then the answer."""
    first = run.results[0]
    lines = [f"# Power and sample size ({cfg.source.name})", "",
             "## Assumptions and analysis", ""]
    lines += [f"- {n}" for n in first.notes if not n.startswith("Smallest n per arm")]
    post_hoc = run.post_hoc()
    if post_hoc:
        lines += ["", post_hoc]
    lines += ["", "## Answer", ""] + [f"- {a}" for a in run.answer()]
    warned = [w for r in run.results for w in r.warnings] + list(run.fit_warnings)
    if warned:
        lines += ["", "## Warnings", ""] + [f"- {w}" for w in warned]
    return "\n".join(lines) + "\n"


def _e(text) -> str:
    return html.escape(str(text))


def render_power_report(run: PowerRun, cfg: PowerConfig, pngs: dict[str, bytes],
                        files: dict[str, list[str]], started: str, max_px: int) -> str:
    """``report.html``: one self-contained page (the figures as PNG data URIs)."""
    first = run.results[0]
    post_hoc = run.post_hoc()
    shown = run.all_alerts()
    alert = ('<div class="alert" id="alerts"><strong>Check before using these results '
             f"({len(shown)}):</strong><ul>"
             + "".join(f"<li>{_e(a)}</li>" for a in shown) + "</ul></div>" if shown else "")
    notes = "".join(f"<li>{_e(n)}</li>" for n in first.notes
                    if not n.startswith("Smallest n per arm"))
    parts = ['<h2 id="answer">Answer</h2><ul class="headline">'
             + "".join(f"<li>{_e(a)}</li>" for a in run.answer()) + "</ul>",
             f'<h2 id="assumptions">Assumptions and analysis</h2><ul>{notes}</ul>'
             + (f"<p>{_e(post_hoc)}</p>" if post_hoc and not post_hoc.startswith("ALERT")
                else "")]
    number = 0
    for name, result in (("power", run.curve), ("sample_size", run.search)):
        if result is None:
            continue
        number += 1
        table = result.tables()["power"]
        parts.append(table_html(table, caption=f"Table {number}. {table.title}",
                                element_id=f"tab-{name}",
                                footer=f'<p class="files">Files: {name}.csv, '
                                       + ("trials.csv" if name == "power"
                                          else "sample_size_trials.csv") + "</p>",
                                notes=()))
    for i, fig in enumerate(_figures(run), start=1):
        data = base64.b64encode(pngs[fig.name]).decode("ascii")
        parts.append(f'<figure class="figure" id="fig-{fig.name}" '
                     f'style="max-width: {max_px}px"><img src="data:image/png;base64,{data}" '
                     f'alt="{_e(fig.caption)}"><figcaption>Figure {i}. {_e(fig.caption)}'
                     f'</figcaption><p class="files">Files: {_e(", ".join(files[fig.name]))}'
                     "</p></figure>")
    warned = [w for r in run.results for w in r.warnings] + list(run.fit_warnings)
    if warned:
        parts.append('<h2 id="warnings">Warnings</h2><ul>'
                     + "".join(f"<li>{_e(w)}</li>" for w in warned) + "</ul>")
    versions = package_versions()
    inputs = "".join(f"<li>{_e(k)}: {_e(p)} (SHA-256 {sha256(p)[:12]})</li>"
                     for k, p in cfg.inputs.items())
    parts.append('<h2 id="software">Software and inputs</h2><ul>'
                 + "".join(f"<li>{_e(k)} {_e(v)}</li>" for k, v in versions.items())
                 + f"</ul><ul>{inputs}</ul>")
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>Power and sample size ({_e(cfg.source.name)})</title>"
            f"<style>{CSS}</style></head><body>"
            f"<h1>Power and sample size by simulation</h1>"
            f'<p class="meta">Configuration {_e(cfg.source)}; dryneedle_outcomes '
            f"{_e(__version__)}; started {_e(started)}</p>"
            + alert + "".join(parts) + "</body></html>\n")


def write_power(out: Path, run: PowerRun, cfg: PowerConfig, *, started: str) -> list[str]:
    """Write every output of ``run`` into ``out``; return their names."""
    out = Path(out)
    written: list[str] = []

    def text(name: str, content: str) -> None:
        (out / name).write_text(content, encoding="utf-8", newline="\n")
        written.append(name)

    for name, trials_name, result in (("power", "trials", run.curve),
                                      ("sample_size", "sample_size_trials", run.search)):
        if result is None:
            continue
        result.tables()["power"].to_csv(out / f"{name}.csv")
        neutralise_formulas(result.trials).to_csv(out / f"{trials_name}.csv", index=False)
        written += [f"{name}.csv", f"{trials_name}.csv"]
    f = cfg.figures
    formats = tuple(f.formats)
    pngs: dict[str, bytes] = {}
    files: dict[str, list[str]] = {}
    for fig in _figures(run):
        rendered = render(fig, tuple(dict.fromkeys((*formats, "png"))), width=f.width,
                          dpi=f.dpi)
        pngs[fig.name] = rendered["png"]
        files[fig.name] = []
        for fmt in formats:
            (out / f"{fig.name}.{fmt}").write_bytes(rendered[fmt])
            written.append(f"{fig.name}.{fmt}")
            files[fig.name].append(f"{fig.name}.{fmt}")
    text("assumptions.md", assumptions_text(run, cfg))
    max_px = min(round(640 * width_mm(f.width) / 85.0), 1000)
    text("report.html", render_power_report(run, cfg, pngs, files, started, max_px))
    p = cfg.power
    manifest = build_manifest(inputs=cfg.inputs, config=cfg.resolved, started=started,
                              finished=now(),
                              outputs=output_hashes(out, written) | {"manifest.json": None},
                              seeds={"power": {"seed": p.seed, "n_trials": p.n_trials}},
                              kind="power")
    manifest["warnings"] = [w for r in run.results for w in r.warnings] \
        + list(run.fit_warnings)
    manifest["alerts"] = run.all_alerts()
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2, default=str) + "\n",
                                       encoding="utf-8", newline="\n")
    return sorted([*written, "manifest.json"])


__all__ = ["POST_HOC_TOLERANCE", "PowerRun", "assumptions_text", "render_power_report",
           "run_power", "write_power"]
