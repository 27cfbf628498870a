"""Write the sample data folder: raw exports, ``analysis.toml``, README and manifest.

:func:`write_sample` makes ``data/sample/`` (simulated tables, their raw exports, the
default analysis configuration and a README describing the sample and its planted
problems); :func:`write_sample_folder` adds the manifest the CLI's ``simulate`` command
needs; :func:`main` is ``python -m dryneedle_outcomes.simulate DIR``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from ..errors import OutputFolderError
from .exports import ExportPaths, write_raw_exports
from .parameters import SimulatedTables
from .truth import simulate_tables

_ANALYSIS_TOML = """\
# Default analysis of the synthetic sample (dryneedle-outcomes run analysis.toml --out DIR).
# Every key is documented in dryneedle_outcomes/config.py; omit an [analysis.*] table to
# skip that analysis.
[data]
assessments = "assessments.csv"
patients = "patients.xlsx"
adverse_events = "adverse_events.csv"
intercurrent_events = "intercurrent_events.csv"
mapping = "mapping.toml"
errors = "quarantine"

[simulation]
seed = {seed}
n_patients = {n_patients}

[analysis]
outcome = "first_step_pain"
conf_level = 0.95
primary_visit = {n_sessions}

[analysis.trajectory]
models = ["mmrm", "random_slope"]
covariance = "unstructured"
adjust = ["baseline"]
df = "kenward_roger"
time = "week"
cumulative_after = [{n_sessions}]

# Sensitivity of the primary result (the MMRM above, valid under MAR) to the missing
# values (ICH E9(R1) A.5.2): the values missing after leaving the trial or stopping
# treatment imputed as the reference arm's (jump to reference, Carpenter, Roger &
# Kenward 2013; other missing values under MAR), by conditional mean imputation with
# jackknife standard errors (Wolbers et al. 2022, as R's rbmi); the tipping point adds
# delta to the imputed values of the needling arm (Cro et al. 2020). Add "mar" before
# "jump_to_reference" to see multiple imputation under MAR beside it (and the tipping
# point from MAR); each method adds a jackknife of 84 refits to the run.
[analysis.reference_based]
methods = ["jump_to_reference"]
approach = "conditional_mean"
variance = "jackknife"
adjust = ["baseline"]
# pre-specified tipping-point grid (mm added to the imputed values): 0 to 100 by 5
tipping_deltas = [{deltas}]

[analysis.harms]
per = ["patient", "session", "100_needles"]
dose_response = true
# post-needling soreness is an adverse event only beyond the usual 24-48 h
soreness_as_ae = {{ min_hours = 48 }}

[analysis.responders]
mcid = true
# headline: non-responder imputation (composite strategy, ICH E9(R1)); observed cases
# (assumes MCAR) as a supplementary table
missing = ["non_responder", "observed"]
# covariate-adjusted risk difference and ratio (logistic regression + standardisation,
# FDA covariate-adjustment guidance 2023), robust (HC0) delta-method CIs
adjust = ["baseline"]
variance = "robust"

[analysis.baseline_table]
p_values = false

# blinding assessed by the patients' end-of-trial guess of their arm (CONSORT 2025)
[analysis.blinding]

# the intervention as delivered (STRICTA 2010): sessions, needles, muscles, side,
# technique, twitch responses and soreness per arm, against the {k} sessions planned
[analysis.stricta]
planned_sessions = {n_sessions}

[analysis.time_to_relief]
mcid = true
# confirmed relief: the MCID met at two consecutive assessments (one crossing can be noise)
sustained = true
timescale = ["days", "sessions"]
# baseline adjustment in every primary analysis (IC PH, Cox and AFT models)
adjust = ["baseline"]
interval_censored = true
interval_scores = "logrank2"
interval_method = "pclt"
distributions = ["weibull", "loglogistic"]
# pre-specified RMST restriction times (end of the {k}-week course; its {k} sessions)
rmst_tau = {rmst_days}
rmst_tau_sessions = {n_sessions}
n_boot = 2000
hr_n_boot = 1000
seed = 2014

[analysis.soreness_duration]
n_boot = 2000
seed = 2014

# The estimand of the primary analysis (ICH E9(R1) A.3.2), printed before the results.
# Treatment policy for every intercurrent event: the effect of being assigned a course
# of dry needling, whatever else the patient did (stopping the sessions, leaving the
# trial, rescue analgesics, insoles, a night splint, a steroid injection). The MMRM
# estimates it under MAR for the values missing after leaving; [analysis.reference_based]
# gives its sensitivity analyses (jump to reference and the tipping point).
[estimand]
population = "randomised"
variable = "first_step_pain"
treatment = "{k} weekly sessions of trigger-point dry needling vs sham (non-penetrating) needling"
summary = "difference in means at visit {n_sessions}"
visit = {n_sessions}

[estimand.intercurrent]   # event = strategy, for every event intercurrent_events.csv has
discontinued_treatment = "treatment_policy"
withdrew_from_study = "treatment_policy"
adverse_event_withdrawal = "treatment_policy"
rescue_medication = "treatment_policy"
orthoses = "treatment_policy"
night_splint = "treatment_policy"
steroid_injection = "treatment_policy"

[figures]
formats = ["pdf", "png"]
width = "single"
dpi = 300
"""


def _readme(sim: SimulatedTables, paths: ExportPaths) -> str:
    t = sim.truth
    a = sim.assessments
    n_fu = len(t["follow_up_weeks"])
    probs = paths.problems
    prob_lines = "\n".join(
        f"| {i + 1} | `{r.problem}` | {r.file} | {'' if pd.isna(r.row) else int(r.row)} | "
        f"{r.patient_id} | {r.column} | {f'`{r.value}`' if r.value else ''} | {r.expected} |"
        for i, r in enumerate(probs.itertuples())
    )
    scales = ", ".join(f"{s}: {sc}" for s, sc in t["record_scales"].items())
    at_end = t["arm_difference"].loc[t["arm_difference"]["visit"] == t["n_sessions"]]
    ice = sim.intercurrent_events
    ice_counts = ice["event"].astype(str).value_counts()
    ice_text = ", ".join(f"{k} {v}" for k, v in ice_counts.items()) or "none"
    par = t["parameters"]
    n_words = ("no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
               "ten")
    n_probs = n_words[len(probs)] if len(probs) < len(n_words) else str(len(probs))
    difference = "; ".join(f"{r.arm} minus {r.reference}: {r.estimate:.1f} mm"
                           for r in at_end.itertuples())
    return f"""# Sample data: a synthetic dry-needling trial

**Synthetic data - not real patients.** Made by
`dryneedle_outcomes.simulate.write_sample` (the generator behind `dno.simulate_cohort`)
with seed {t["seed"]} and {t["n_patients"]} participants, to resemble Cotchett, Munteanu &
Landorf (2014, Phys Ther 94:1083): real vs sham (non-penetrating) trigger-point dry needling
for plantar heel pain, {t["n_sessions"]} sessions ({t["sessions_per_week"]:g} a week), follow-up
at week {", ".join(f"{w:g}" for w in t["follow_up_weeks"])}. The true first-step pain
difference after session {t["n_sessions"]} is ({difference}); the sham arm
improves by about 17 mm by week 6. Between-patient variability is calibrated to Cotchett's
confidence interval (SE about 4.6 mm with 42 per arm: first-step pain SD about 21 mm at
week 6 given baseline). Dropout: {t["dropout"]:.0%} expected, {t["dropout_mechanism"].upper()}.
Adverse events: per treatment as Brady et al. (2014, J Man Manip Ther 22:134-40: bruising
7.55%, bleeding 4.65%, pain during treatment 3.01%, aggravation of symptoms 0.88%, ...);
post-needling soreness is recorded as an adverse event when it lasted 48 h or more (an
assumption of the simulated clinic, the same rule as `analysis.toml`'s `soreness_as_ae`).
Cotchett 2014 recorded AEs at 32% of real-needling appointments.
The module docstring of `dryneedle_outcomes/simulate/parameters.py` lists every parameter and
source.

{len(sim.patients)} participants, {len(a)} assessment records (before the planted problems),
{len(sim.adverse_events)} adverse events; {1 + t["n_sessions"] + n_fu} scheduled visits each.

## Files

- `assessments.csv` - one row per patient visit. `;`-delimited, decimal comma,
  **cp1252** (clinician names such as "Müller", comments such as "Réévaluation 12 sem."),
  Windows line ends. Visit labels "Baseline", "Session 1".."Session {t["n_sessions"]}",
  "{t["visit_labels"][max(t["visit_labels"])]}". **"Visit date" is dd/mm/yyyy and there
  is no day column** (the loader derives days from the dates). First-step pain is on a
  **per-site scale** ({scales}; cm with one decimal such as "6,8", NRS 0-10 as integers)
  while usual pain is in mm everywhere. The NRS is its own instrument
  (`first_step_pain_nrs`); `mapping.toml` pools it x10 with the VAS on purpose
  (`[assessments.pool_as]`), so the ledger lists the pooled rows and the models adjust
  for the instrument. Needled Y/N; number of needles (inserted) and LTRs are 0
  when not needled, including sham sessions (the non-penetrating sham inserts none).
  Muscles as clinicians write them ("Gastroc + soleus", "FDB; plantar
  fascia" - quoted because of the `;`; "tibialis posterior" stands for the code `other`),
  each intrinsic foot muscle by name (abductor hallucis, FDB, QP, ADM) and, in most
  rows, the side ("L gastroc", "soleus (right)", "B/L ..."), which the loader reads
  into `laterality`. "Technique" ("fast-in fast-out", "pistoning", "FIFO", "static",
  "no manipulation") and "Retention (min)" (static needles only) describe the needling
  (STRICTA 2010 item 2).
  Soreness as text ("36h", "24-48h", "24–48 hrs", "1-2 days", "2 days", ">48h", "ongoing",
  "none"). **Soreness is recorded after sham sessions too** (the non-penetrating sham is
  a procedure: blunt needles pressed on the skin), shorter and more often none; blank
  after baseline and follow-up visits, or never reported because the patient did not
  come back. So soreness duration compares real with sham needling, while harms per 100
  needles and dose-response use the needles inserted (real needling only).
- `patients.xlsx` - the participant register. Sheet "Participants" with two title rows
  above the header (header on row 3); Allocation coded 1 = dry needling, 2 = sham; Sex
  F/M; Y/N flags (Pregnant, Immunocompromised, Needle phobia); "Guess of allocation (end of
  treatment)" ("Real needling", "sham", "unsure", ...: the blinding question, read into
  `allocation_guess`); a second sheet "Notes".
- `adverse_events.csv` - one row per adverse event. UTF-8 with BOM, comma-delimited; no
  coded term, only the verbatim text ("Haematoma L gastroc", "dizzy, pale", "DOMS 2
  days"; sometimes one text for two events, "bruising and bleeding", which the loader
  codes as two events); severity written "mild", "Moderate" or "Grade 1"; Serious Y/N;
  the CONSORT Harms details: related to needling ("probable", "possible"), onset after
  the session and duration ("0", "6 h", "15 min", "3 days"), action taken, led to
  withdrawal Y/N, how reported ("questionnaire" or "spontaneous").
- `intercurrent_events.csv` - one row per intercurrent event (ICH E9(R1)), `;`-delimited
  UTF-8: "Study ID", "Visit" (the first visit the event affects), "Study day" (days since
  baseline), "Event" as the clinic writes it ("Lost to follow-up", "Stopped treatment",
  "NSAIDs", "insoles", "Einlagen", "attelle de nuit"; the last two are synonyms
  `mapping.toml` declares) and "Details" (free text: "moved away", "ibuprofen 400 mg prn
  for heel pain").
  {len(ice)} events: {ice_text}.
  Every participant who dropped out has one at the first visit missed for good
  (`withdrew_from_study`, or `discontinued_treatment` for about
  {par["dropout_discontinued"]:.0%} of them; an adverse event that led to withdrawal gives
  `adverse_event_withdrawal` at the next visit, where the participant's attendance ends).
  Concomitant treatments started during the trial, at **assumed** rates (not sourced)
  over the trial: rescue analgesics/NSAIDs {par["ice_rescue_medication"]:.0%} of
  participants, orthoses {par["ice_orthoses"]:.0%}, night splint
  {par["ice_night_splint"]:.0%}, steroid injection {par["ice_steroid_injection"]:.0%}.
  **The concomitant treatments do not change the simulated pain**
  (`dryneedle_outcomes/simulate/intercurrent.py`): a treatment-policy and a hypothetical
  estimand target the same true difference here, apart from what each does with the
  values after the event.
- `mapping.toml` - how to read the four files: columns, per-site scales, visit, arm,
  sex and severity codes, and synonyms for the muscles, AE texts and intercurrent events
  this clinic writes outside the fixed vocabularies (schema: `dryneedle_outcomes/mapping.py`).
- `analysis.toml` - the default analysis configuration (`errors = "quarantine"`, so the
  planted problems are set aside and listed). Its `[estimand]` table states the estimand
  of the primary analysis (ICH E9(R1): the randomised population, first-step pain, the
  difference in means at visit {t["n_sessions"]}, treatment policy for every intercurrent
  event) and `[analysis.reference_based]` its sensitivity analyses: multiple imputation
  under jump to reference for the values missing after leaving, and a tipping point.
- `planted_problems.csv` - the problems below, machine-readable; rows are
  spreadsheet-style (the CSV header is row 1; the Excel header is row 3).

## Planted problems

{n_probs.capitalize()} realistic problems touching {n_probs} rows; the loader should reject,
correct or flag each one and account for it in `cohort.quality`, never drop it silently.

| # | problem | file | row | patient | column | value | expected |
| --- | --- | --- | --- | --- | --- | --- | --- |
{prob_lines}

## Make your own sample

```bash
dryneedle-outcomes simulate --out my_sample --seed {t["seed"]} --patients {t["n_patients"]}
```

(or `python -m dryneedle_outcomes.simulate my_sample`) writes this sample again into the
new folder `my_sample`, byte-for-byte for a given seed and library version; another seed
or size gives another trial. `simulate` writes only into a new or empty folder, or over
a sample folder it wrote itself when given `--force`; it never writes over other files.
The sample bundled with the package (`data/sample/`) is checked against this generator
by the test suite: leave it as it is. To load a sample:

```python
import dryneedle_outcomes as dno
cohort = dno.load_cohort("my_sample/assessments.csv", "my_sample/patients.xlsx",
                         "my_sample/adverse_events.csv",
                         intercurrent_events="my_sample/intercurrent_events.csv",
                         mapping="my_sample/mapping.toml", errors="quarantine")
```

or run its analysis: `dryneedle-outcomes run my_sample/analysis.toml --out my_results`.
"""


#: The files :func:`write_sample` writes (besides ``planted_problems.csv`` when asked).
SAMPLE_FILES = ("assessments.csv", "patients.xlsx", "adverse_events.csv",
                "intercurrent_events.csv", "mapping.toml", "planted_problems.csv",
                "analysis.toml", "README.md")


def write_sample(
    directory: str | Path = "data/sample", *, n_patients: int = 84, seed: int = 2014,
    inject_problems: bool = True, overwrite: bool = False, **kwargs: Any,
) -> ExportPaths:
    """(Re)generate the sample data folder: raw exports, mapping, analysis.toml, README.

    Parameters
    ----------
    directory : path
        Output folder (created if needed).
    overwrite : bool, default False
        Write over files of the same names already in ``directory``; without it such
        files are an :class:`~dryneedle_outcomes.errors.OutputFolderError` naming them,
        and nothing is written.
    n_patients : int
        Number of participants.
    seed : int
        Seed of the simulation (and of the export quirks).
    inject_problems : bool
        Plant the realistic problems (see :func:`write_raw_exports`).
    **kwargs
        Passed to :func:`simulate_tables`.

    Returns
    -------
    ExportPaths
        As :func:`write_raw_exports`, plus ``"analysis"`` and ``"readme"``.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     paths = write_sample(tmp, n_patients=20, seed=7)
    ...     paths["readme"].read_text(encoding="utf-8").startswith("# Sample data")
    True
    """
    directory = Path(directory)
    existing = [name for name in SAMPLE_FILES if os.path.lexists(directory / name)]
    if existing and not overwrite:
        raise OutputFolderError(
            f"{directory} already holds {', '.join(existing)}; nothing was written: choose a "
            "new folder, or pass overwrite=True (--force) to write over them")
    sim = simulate_tables(n_patients, seed=seed, **kwargs)
    paths = write_raw_exports(sim, directory, inject_problems=inject_problems)
    paths["analysis"] = directory / "analysis.toml"
    paths["analysis"].write_text(
        _ANALYSIS_TOML.format(seed=seed, n_patients=n_patients,
                              n_sessions=sim.truth["n_sessions"],
                              k=sim.truth["n_sessions"],
                              rmst_days=7 * sim.truth["n_sessions"],
                              deltas=", ".join(str(d) for d in range(0, 101, 5))),
        encoding="utf-8")
    paths["readme"] = directory / "README.md"
    paths["readme"].write_text(_readme(sim, paths), encoding="utf-8")
    return paths


def write_sample_folder(directory: str | Path, *, n_patients: int = 84,
                        seed: int = 2014) -> ExportPaths:
    """:func:`write_sample` into a new, empty ``directory`` plus its ``manifest.json``.

    The manifest (``"kind": "sample"``, the seed, the size and every file's SHA-256)
    is what lets ``dryneedle-outcomes simulate --force`` later recognise the folder as
    one it wrote (:mod:`dryneedle_outcomes.outdir`).

    Examples
    --------
    >>> import json, tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     paths = write_sample_folder(tmp, n_patients=20, seed=7)
    ...     json.loads((Path(tmp) / "manifest.json").read_text())["kind"]
    'sample'
    """
    from datetime import UTC, datetime

    from ..manifest import build_manifest, output_hashes

    directory = Path(directory)
    started = datetime.now(UTC).isoformat(timespec="seconds")
    paths = write_sample(directory, n_patients=n_patients, seed=seed)
    names = [Path(p).name for p in paths.values()]
    manifest = build_manifest(
        inputs={}, config={"simulation": {"seed": seed, "n_patients": n_patients}},
        started=started, finished=datetime.now(UTC).isoformat(timespec="seconds"),
        outputs=output_hashes(directory, names) | {"manifest.json": None}, kind="sample")
    (directory / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n",
                                             encoding="utf-8", newline="\n")
    return paths


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m dryneedle_outcomes.simulate",
        description="Write a synthetic dry-needling trial as raw exports (the sample data).",
    )
    parser.add_argument("directory", nargs="?", default="data/sample", help="output folder")
    parser.add_argument("--n-patients", type=int, default=84)
    parser.add_argument("--seed", type=int, default=2014)
    parser.add_argument("--no-problems", action="store_true",
                        help="do not plant data problems")
    parser.add_argument("--force", action="store_true",
                        help="write over the sample files already in the folder")
    args = parser.parse_args(argv)
    try:
        paths = write_sample(args.directory, n_patients=args.n_patients, seed=args.seed,
                             inject_problems=not args.no_problems, overwrite=args.force)
    except OutputFolderError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for role, path in paths.items():
        print(f"{role:15s} {path}")
    return 0
