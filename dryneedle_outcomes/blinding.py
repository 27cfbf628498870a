"""Did blinding hold? Bang's and James' blinding indices from the patients' guesses.

A sham-controlled needling trial asks patients (at the end of treatment, sometimes also
earlier) which treatment they think they received: real, sham, or don't know
(``allocation_guess``; CONSORT 2025 asks how blinding was assessed and what was found;
Bang et al. 2004). The guesses are cross-tabulated against the allocation per arm and
visit and summarised by

- **Bang's index** per arm (Bang, Ni & Davis 2004, Control Clin Trials 25:143-156):
  ``(correct - incorrect) / n``, from -1 (everyone guesses the other arm) through 0
  (random guessing or all don't know) to 1 (complete unblinding); |BI| <= 0.2 is the
  usual reading of successful blinding; a positive index in the real arm with a CI
  above 0 suggests unblinding (or that the effect was felt), a negative one in the sham
  arm that sham patients believe they were needled ("wishful" guessing);
- **James' index** over both arms (James et al. 1996, Stat Med 15:1421-1434): from 0
  (complete unblinding) through 0.5 (random guessing) to 1 (complete blinding);
  blinding is in doubt when the upper confidence limit is below 0.5.

Both with the variance of their papers and Wald intervals
(:mod:`dryneedle_outcomes.stats.blinding`, checked against the R package ``BI`` on the
worked examples of Bang et al. 2004 Table 7 and Houweling et al. 2014 Table 2).

Where the guesses come from: ``cohort.patients["allocation_guess"]`` (one answer per
patient), or ``guesses=`` a table with ``patient_id``, ``allocation_guess`` and
optionally ``visit`` when the question was asked at more than one visit (one index per
visit). Answers are mapped through the loader's vocabulary
(:func:`~dryneedle_outcomes.normalize.vocabulary.map_allocation_guess`: "Real",
"placebo", "Don't know", "DK" ...). Patients without an answer are counted, not
guessed for.

Examples
--------
>>> import pandas as pd
>>> import dryneedle_outcomes as dno
>>> patients = pd.DataFrame({"patient_id": [f"p{i}" for i in range(8)],
...     "arm": ["dry_needling"] * 4 + ["sham"] * 4,
...     "allocation_guess": ["real", "real", "sham", "don't know",
...                          "sham", "real", "don't know", "don't know"]})
>>> a = pd.DataFrame({"patient_id": patients["patient_id"], "visit": 0,
...                   "first_step_pain": 60.0})
>>> bi = dno.blinding_index(dno.load_cohort(a, patients))
>>> bi.table[["index", "arm", "estimate"]].round(3).values.tolist()
[['bang', 'dry_needling', 0.25], ['bang', 'sham', 0.0], ['james', 'both', 0.635]]
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .cohort import Cohort
from .errors import AnalysisError
from .models.design import choose_reference
from .normalize.vocabulary.allocation_guess import map_allocation_guess
from .results import AnalysisResult, NoComparison, as_table, nothing_fitted
from .stats.blinding import ALTERNATIVES, bang_index, james_index
from .stats.checks import check_conf_level
from .tables import TableResult

BLINDING_COLUMNS = ("visit", "index", "arm", "estimate", "std_error", "ci_lower", "ci_upper",
                    "n", "n_guess_real", "n_guess_sham", "n_dont_know", "n_no_answer")


@dataclass(frozen=True)
class BlindingResult(NoComparison, AnalysisResult, TableResult):
    """Blinding indices per visit (``table``) and the counts behind them (``counts``).

    Attributes
    ----------
    table : pandas.DataFrame
        ``BLINDING_COLUMNS``: per visit (NaN when one time point), Bang's index per
        arm (``index="bang"``) and James' index over both arms (``index="james"``,
        ``arm="both"``), with ``std_error``, ``ci_lower``, ``ci_upper``, ``n``
        (respondents) and the counts of each answer and of patients without one.
    counts : pandas.DataFrame
        The 3 x 2 tables: ``visit``, ``guess``, then one column per arm.
    active_arm, sham_arm : str
    alternative : str
    """

    counts: pd.DataFrame = field(default_factory=pd.DataFrame)
    active_arm: str = ""
    sham_arm: str = ""
    alternative: str = "two-sided"
    warnings: tuple[str, ...] = ()
    converged: bool = nothing_fitted()

    def tables(self) -> dict[str, TableResult]:
        """The indices, with the notes."""
        return {"blinding": as_table(self)}

    def sentence(self) -> str:
        """One sentence for the report's results (the last visit asked)."""
        t = self.table
        last = t[t["visit"].isna()] if t["visit"].isna().all() else \
            t[t["visit"] == t["visit"].max()]
        when = "" if last["visit"].isna().all() else f" at visit {int(last['visit'].iloc[0])}"
        level = f"{self.conf_level:.0%}"
        parts = []
        for r in last.itertuples():
            name = "James' index" if r.index == "james" else f"Bang's index ({r.arm})"
            parts.append(f"{name} {r.estimate:.2f} ({level} CI {r.ci_lower:.2f} to "
                         f"{r.ci_upper:.2f})")
        return (f"Blinding{when}: " + "; ".join(parts) + ". Bang's index near 0 (within "
                "+/-0.2) and James' index with an upper limit above 0.5 are consistent "
                "with blinding that held (Bang et al. 2004; James et al. 1996).")

    def plot(self, ax=None, **kwargs):
        """Bang's index per arm (and visit) with CIs and the +/-0.2 band; returns the Axes."""
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(3.35, 2.4))
        bang = self.table[self.table["index"] == "bang"].reset_index(drop=True)
        y = np.arange(len(bang))
        ax.axvspan(-0.2, 0.2, color="0.92")
        ax.axvline(0, color="0.4", lw=0.8)
        ax.errorbar(bang["estimate"], y, xerr=np.vstack([bang["estimate"] - bang["ci_lower"],
                                                         bang["ci_upper"] - bang["estimate"]]),
                    fmt="o", color="0.2", capsize=2)
        labels = [a if np.isnan(v) else f"{a}, visit {int(v)}"
                  for a, v in zip(bang["arm"], bang["visit"])]
        ax.set_yticks(y)
        ax.set_yticklabels(labels)
        ax.set_xlim(-1, 1)
        from .plots.legend import ci_label

        ax.set_xlabel(f"Bang's blinding index ({ci_label(self.conf_level)})")
        return ax


def _guesses(cohort: Cohort, guesses) -> pd.DataFrame:
    if guesses is None:
        if "allocation_guess" not in cohort.patients:
            raise AnalysisError("the cohort has no allocation_guess column in its patients "
                                "table; load one (real / sham / don't know) or pass guesses=")
        g = cohort.patients[["patient_id", "allocation_guess"]].copy()
    else:
        if not isinstance(guesses, pd.DataFrame) or not {"patient_id", "allocation_guess"} \
                <= set(guesses.columns):
            raise AnalysisError("guesses must be a DataFrame with patient_id and "
                                "allocation_guess (and visit when asked at several visits)")
        g = guesses[[c for c in ("patient_id", "visit", "allocation_guess")
                     if c in guesses]].copy()
        unknown = sorted(set(g["patient_id"].astype(str)) - set(cohort.patients["patient_id"]))
        if unknown:
            raise AnalysisError(f"guesses name patient(s) not in the cohort: {unknown[:5]}")
    mapped = map_allocation_guess(g["allocation_guess"])
    bad = mapped["status"] == "invalid"
    if bad.any():
        seen = sorted(set(g.loc[bad, "allocation_guess"].astype(str)))
        raise AnalysisError(f"allocation_guess value(s) {seen} are not real, sham or "
                            "don't know")
    g["allocation_guess"] = mapped["allocation_guess"]
    if "visit" not in g:
        g["visit"] = np.nan
    if g.duplicated(["patient_id", "visit"]).any():
        raise AnalysisError("more than one allocation guess per patient and visit; give a "
                            "visit column when the question was asked more than once")
    return g


def blinding_index(cohort: Cohort, *, guesses: pd.DataFrame | None = None,
                   active_arm: str | None = None, sham_arm: str | None = None,
                   conf_level: float = 0.95, alternative: str = "two-sided") -> BlindingResult:
    """Bang's (per arm) and James' (overall) blinding indices from allocation guesses.

    Parameters
    ----------
    cohort : Cohort
        Two arms: the sham (placebo) arm and the active (real needling) arm.
    guesses : DataFrame, optional
        ``patient_id``, ``allocation_guess`` and optionally ``visit``; default
        ``cohort.patients["allocation_guess"]`` (one answer per patient).
    active_arm, sham_arm : str, optional
        Default: the sham-like arm name is the sham arm, the other the active arm.
    conf_level : float
    alternative : {"two-sided", "greater", "less"}
        Two-sided intervals (default), or one-sided as Bang et al. (2004) prefer for
        testing unblinding (the other limit is then 1 or -1; 1 or 0 for James').

    Returns
    -------
    BlindingResult

    Raises
    ------
    AnalysisError
        Without guesses, with more or fewer than two arms, unknown arms, or answers
        outside real / sham / don't know.
    """
    conf_level = check_conf_level(conf_level)
    if alternative not in ALTERNATIVES:
        raise AnalysisError(f"alternative must be one of {', '.join(ALTERNATIVES)}, got "
                            f"{alternative!r}")
    arms = [str(a) for a in cohort.arms]
    if len(arms) != 2:
        raise AnalysisError(f"blinding indices compare two arms (active and sham); the "
                            f"cohort has {len(arms)}: {arms}")
    sham = sham_arm or choose_reference(arms, None)
    if sham not in arms:
        raise AnalysisError(f"sham_arm {sham!r} is not an arm of the cohort ({arms})")
    active = active_arm or next(a for a in arms if a != sham)
    if active not in arms or active == sham:
        raise AnalysisError(f"active_arm {active!r} must be the other arm of {arms}")
    g = _guesses(cohort, guesses)
    arm_of = cohort.patients.set_index("patient_id")["arm"].astype(str)
    g["arm"] = g["patient_id"].map(arm_of)
    n_arm = arm_of.value_counts()
    rows, counts = [], []
    visits = sorted(g["visit"].dropna().unique()) or [np.nan]   # NaN: one time point
    for visit in visits:                      # a few visits, never per patient
        sub = g if np.isnan(visit) else g[g["visit"] == visit]
        tab = pd.crosstab(sub["allocation_guess"], sub["arm"]).reindex(
            index=["real", "sham", "dont_know"], columns=[active, sham], fill_value=0)
        x = tab.to_numpy(dtype=float)
        counts.append(tab.rename_axis(index="guess", columns=None).reset_index()
                      .assign(visit=visit))
        b = bang_index(x, conf_level=conf_level, alternative=alternative)
        j = james_index(x, conf_level=conf_level, alternative=alternative)
        for k, arm in enumerate((active, sham)):
            answered = int(x[:, k].sum())
            rows.append({"visit": visit, "index": "bang", "arm": arm,
                         **{c: float(b[c][k]) for c in ("estimate", "std_error", "ci_lower",
                                                        "ci_upper")},
                         "n": answered, "n_guess_real": int(x[0, k]),
                         "n_guess_sham": int(x[1, k]), "n_dont_know": int(x[2, k]),
                         "n_no_answer": int(n_arm.get(arm, 0)) - answered})
        rows.append({"visit": visit, "index": "james", "arm": "both",
                     **{c: j[c] for c in ("estimate", "std_error", "ci_lower", "ci_upper")},
                     "n": int(x.sum()), "n_guess_real": int(x[0].sum()),
                     "n_guess_sham": int(x[1].sum()), "n_dont_know": int(x[2].sum()),
                     "n_no_answer": int(n_arm.sum()) - int(x.sum())})
    table = pd.DataFrame(rows, columns=list(BLINDING_COLUMNS))
    level = f"{conf_level:.0%}"
    sided = "two-sided" if alternative == "two-sided" else f"one-sided ({alternative})"
    notes = (
        f"Bang's index per arm: (correct - incorrect guesses) / respondents, {level} "
        f"{sided} Wald CI with the multinomial variance of Bang, Ni & Davis (2004); -1 to "
        "1, 0 = random guessing; |BI| <= 0.2 is read as blinding maintained.",
        f"James' index over both arms (James et al. 1996; correct 0, incorrect 0.5, don't "
        f"know 1): 0 = complete unblinding, 0.5 = random guessing, 1 = complete blinding; "
        f"{level} {sided} CI from the paper's variance; an upper limit below 0.5 suggests "
        "unblinding.",
        f"Guessing 'real' is correct in the {active} arm, 'sham' in the {sham} arm. "
        "n_no_answer: patients of the arm without an answer (not in the indices).",
    )
    return BlindingResult(table=table, title="Blinding indices (allocation guesses)",
                          notes=notes, conf_level=conf_level, digits=2,
                          counts=pd.concat(counts, ignore_index=True), active_arm=active,
                          sham_arm=sham, alternative=alternative)


__all__ = ["BLINDING_COLUMNS", "BlindingResult", "blinding_index"]
