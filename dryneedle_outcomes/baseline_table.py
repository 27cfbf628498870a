"""Table 1: baseline characteristics of the patients by arm and overall.

Rules (stated in the notes of every table):

- **Continuous variables** are summarised by mean (SD), or by median [Q1, Q3] when
  the pooled (all arms) non-missing values are skewed: ``|skewness| > 1`` (the
  moment coefficient g1 = m3 / m2^1.5) or Shapiro-Wilk ``p < 0.001``. ``nonnormal=``
  replaces the rule by an explicit list. SD uses n - 1; quartiles are R's default
  ``quantile(type = 7)`` (linear interpolation).
- **Categorical variables** (text, categories) show one row per level and
  **boolean** flags one row (the ``True`` count), as n (%), the percentage of the
  patients of that column with a known value.
- **Missing values** are counted per variable (all arms) in the ``missing`` column,
  never silently left out.
- **Rounding**: means, SDs, medians and quartiles to ``digits`` decimals (default 1),
  percentages to one decimal, as C's printf rounds (half to even on the binary value).
- **p-values** are not shown by default: in a randomised trial baseline differences
  are due to chance (CONSORT 2010, item 15). With ``p_values=True``: one-way ANOVA
  for mean (SD) variables (for two arms, Student's t-test with equal variances),
  Kruskal-Wallis for median [Q1, Q3] ones, Pearson's chi-square without continuity
  correction for categorical ones, and Fisher's exact test for a 2 x 2 table with an
  expected count below 5.

Examples
--------
>>> import dryneedle_outcomes as dno
>>> from dryneedle_outcomes.baseline_table import baseline_table
>>> cohort = dno.simulate_cohort(n_patients=84, seed=2014)
>>> t1 = baseline_table(cohort)
>>> t1.table.loc[0, ["variable", "dry_needling", "sham", "overall"]].tolist()
['n', '42', '42', '84']
>>> t1.table.set_index("variable").loc["age", "statistic"]
'mean (SD)'
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from .cohort import Cohort
from .errors import AnalysisError
from .instruments import INSTRUMENTS
from .results import AnalysisResult, NoComparison, nothing_fitted
from .tables import TableResult, format_p

DEFAULT_VARIABLES = ("age", "sex", "bmi", "symptom_months", "pregnant", "immunocompromised",
                     "needle_fear", "site")
LABELS = {
    "age": "Age, years",
    "sex": "Sex",
    "bmi": "BMI, kg/m²",
    "symptom_months": "Symptom duration, months",
    "pregnant": "Pregnant",
    "immunocompromised": "Immunocompromised",
    "needle_fear": "Needle fear",
    "site": "Site",
}
SKEW_LIMIT = 1.0
SHAPIRO_ALPHA = 0.001
OVERALL = "overall"


@dataclass(frozen=True)
class BaselineTable(NoComparison, AnalysisResult, TableResult):
    """Table 1 (see :func:`baseline_table`): display cells in ``table``, numbers in ``statistics``.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per variable (continuous, boolean) or per level (categorical):
        ``variable``, ``label``, ``statistic`` ("mean (SD)", "median [Q1, Q3]" or
        "n (%)"), ``level``, one text column per arm, ``overall``, ``missing`` (count,
        all arms) and, with ``p_values=True``, ``p_value`` and ``test``. The first row
        (``variable == "n"``) holds the number of patients.
    statistics : pandas.DataFrame
        The unrounded numbers behind every cell: ``variable``, ``level``, ``group``
        (arm or "overall"), ``n`` (known values), ``missing``, ``mean``, ``sd``,
        ``median``, ``q1``, ``q3``, ``count``, ``percent``.
    normality : pandas.DataFrame
        Per continuous variable: ``variable``, ``n``, ``skewness``, ``shapiro_p`` and
        the ``summary`` chosen ("mean" or "median") with the ``reason``.
    arms : tuple of str
    comparison : pandas.DataFrame
        Empty (the schema's columns): baseline differences are not estimated (any
        p-values are tests of the table's rows, in ``table``).
    """

    statistics: pd.DataFrame = field(default_factory=pd.DataFrame)
    normality: pd.DataFrame = field(default_factory=pd.DataFrame)
    arms: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    converged: bool = nothing_fitted()

    def tables(self) -> dict[str, TableResult]:
        """Table 1 itself (rendered by its own :meth:`formatted`), with the notes."""
        return {"table1": self}

    def summary(self) -> str:
        """Plain text: the title, the formatted table and the notes."""
        return TableResult.summary(self)

    def plot(self, ax=None, **kwargs):
        """Table 1 drawn on an Axes as it prints (for slides); returns the Axes."""
        from .plots.table import plot_table

        return plot_table(self, ax=ax, **kwargs)

    def cells(self) -> pd.DataFrame:
        """The table's cells: label and statistic once per variable, p-values formatted
        (headers and arm labels are added by ``formatted``)."""
        t = self.table
        first = ~t["variable"].duplicated()
        out = pd.DataFrame({
            "characteristic": np.where(first, t["label"] + ", " + t["statistic"], ""),
            "level": t["level"],
        })
        for col in [*self.arms, OVERALL]:
            if col in t:
                out[col] = t[col]
        out["missing"] = [str(int(m)) if f and v != "n" else ""
                          for m, f, v in zip(t["missing"], first, t["variable"])]
        if "p_value" in t:
            out["p_value"] = [format_p(p) if f else "" for p, f in zip(t["p_value"], first)]
            out["test"] = np.where(first, t["test"].fillna(""), "")
        return out


# ---------------------------------------------------------------------- helpers
def _is_bool(s: pd.Series) -> bool:
    return pd.api.types.is_bool_dtype(s.dtype)


def _quantiles(x: np.ndarray) -> tuple[float, float, float]:
    if len(x) == 0:
        return (np.nan, np.nan, np.nan)
    q = np.quantile(x, [0.25, 0.5, 0.75])           # numpy "linear" = R type 7
    return float(q[1]), float(q[0]), float(q[2])


def _normality(x: np.ndarray) -> tuple[float, float]:
    """(g1 skewness, Shapiro-Wilk p) of the pooled values; NaN when undefined."""
    if len(x) < 3 or np.ptp(x) == 0:
        return np.nan, np.nan
    skew = float(stats.skew(x, bias=True))
    # Shapiro-Wilk's p is not reliable beyond 5000 values (scipy warns); there the rule
    # rests on the skewness alone, and the normality table says so (p is NaN)
    p = float(stats.shapiro(x).pvalue) if len(x) <= 5000 else np.nan
    return skew, p


def _fmt(v: float, digits: int) -> str:
    return f"{v:.{digits}f}" if np.isfinite(v) else "NA"


def _resolve(cohort: Cohort, variables) -> tuple[pd.DataFrame, list[str], dict[str, str]]:
    """Patients with each instrument's baseline value added; the variables and labels."""
    data = cohort.patients.copy()
    labels = dict(LABELS)
    a = cohort.visit_ratings().assessments
    available_instruments = [c for c in INSTRUMENTS if c in a and c not in data]
    base = a.loc[a["visit"] == 0].drop_duplicates("patient_id").set_index("patient_id")
    for col in available_instruments:
        data[col] = data["patient_id"].map(base[col]) if len(base) else np.nan
        labels[col] = f"{INSTRUMENTS[col].label} at baseline"
    if variables is None:
        variables = [v for v in DEFAULT_VARIABLES if v in data]
        variables += [c for c in cohort.instruments if c in available_instruments]
    else:
        if isinstance(variables, str):
            variables = [variables]
        variables = list(dict.fromkeys(variables))
        allowed = [c for c in data.columns if c not in ("patient_id", "arm")]
        unknown = [v for v in variables if v not in allowed]
        if unknown:
            raise AnalysisError(f"variables {unknown} are neither patient columns nor "
                                f"instruments of this cohort; available: {', '.join(allowed)}")
    if not variables:
        raise AnalysisError("no baseline variables to tabulate; pass variables=[...]")
    return data, variables, labels


def _kind(s: pd.Series, name: str, categorical: set[str]) -> str:
    if name in categorical:
        return "categorical"
    if _is_bool(s):
        return "boolean"
    if pd.api.types.is_numeric_dtype(s.dtype):
        return "continuous"
    return "categorical"


def _levels(s: pd.Series) -> list:
    if isinstance(s.dtype, pd.CategoricalDtype):
        return list(s.cat.categories)
    values = s.dropna().unique().tolist()
    try:
        return sorted(values)
    except TypeError:
        return sorted(values, key=str)


def _test_continuous(groups: list[np.ndarray], summary: str) -> tuple[float, str]:
    groups = [g for g in groups if len(g)]
    if len(groups) < 2:
        return np.nan, ""
    if summary == "median":
        if np.ptp(np.concatenate(groups)) == 0:
            return np.nan, "kruskal_wallis"
        return float(stats.kruskal(*groups).pvalue), "kruskal_wallis"
    if any(len(g) < 2 for g in groups) or all(np.ptp(g) == 0 for g in groups):
        return np.nan, "anova"
    return float(stats.f_oneway(*groups).pvalue), "anova"


def _test_categorical(tab: np.ndarray) -> tuple[float, str]:
    tab = tab[tab.sum(axis=1) > 0][:, tab.sum(axis=0) > 0]
    if tab.shape[0] < 2 or tab.shape[1] < 2:
        return np.nan, ""
    expected = stats.contingency.expected_freq(tab)
    if tab.shape == (2, 2) and (expected < 5).any():
        return float(stats.fisher_exact(tab)[1]), "fisher_exact"
    return float(stats.chi2_contingency(tab, correction=False)[1]), "chisq"


# ---------------------------------------------------------------------- the table
def baseline_table(
    cohort: Cohort,
    *,
    variables=None,
    p_values: bool = False,
    nonnormal=None,
    categorical=None,
    overall: bool = True,
    digits: int = 1,
) -> BaselineTable:
    """Baseline characteristics ("Table 1") by arm and overall.

    Parameters
    ----------
    cohort : Cohort
    variables : sequence of str, optional
        Rows, in order: patient columns and/or instruments (their visit-0 value).
        Default: age, sex, bmi, symptom_months, pregnant, immunocompromised,
        needle_fear, site (those present) and the baseline value of every
        instrument in the cohort.
    p_values : bool
        Add ``p_value`` and ``test`` columns (off by default: CONSORT advises
        against testing baseline differences in a randomised trial).
    nonnormal : sequence of str, optional
        Continuous variables to summarise by median [Q1, Q3]; when given, every
        other continuous variable is summarised by mean (SD). Default: the rule
        ``|skewness| > 1`` or Shapiro-Wilk ``p < 0.001`` on the pooled values.
    categorical : sequence of str, optional
        Numeric columns to treat as categorical (e.g. codes 1/2/3).
    overall : bool
        Add the ``overall`` column (all arms).
    digits : int
        Decimals of continuous summaries (percentages always have one).

    Returns
    -------
    BaselineTable

    Raises
    ------
    AnalysisError
        For a variable that is neither a patient column nor an instrument of the
        cohort, or a ``nonnormal`` name that is not a continuous variable.

    Examples
    --------
    >>> import dryneedle_outcomes as dno
    >>> from dryneedle_outcomes.baseline_table import baseline_table
    >>> cohort = dno.simulate_cohort(n_patients=84, seed=2014)
    >>> t1 = baseline_table(cohort, p_values=True)
    >>> "p_value" in t1.table
    True
    >>> t1.normality.set_index("variable").loc["symptom_months", "summary"]
    'median'
    >>> t1.to_markdown().splitlines()[2].split(" | ")[:5]
    ['| Characteristic', 'Level', 'Dry needling (n = 42)', 'Sham (n = 42)', 'Overall (n = 84)']
    """
    data, variables, labels = _resolve(cohort, variables)
    categorical = set(categorical or ())
    arms = [a for a in cohort.arms if (data["arm"] == a).any()]
    groups = [(arm, data["arm"] == arm) for arm in arms]
    if overall:
        groups.append((OVERALL, pd.Series(True, index=data.index)))
    kinds = {v: _kind(data[v], v, categorical) for v in variables}
    if nonnormal is not None:
        nonnormal = {nonnormal} if isinstance(nonnormal, str) else set(nonnormal)
        bad = sorted(v for v in nonnormal if kinds.get(v) != "continuous")
        if bad:
            raise AnalysisError(f"nonnormal names {bad} that are not continuous variables of "
                                "this table; continuous: "
                                f"{', '.join(v for v in variables if kinds[v] == 'continuous')}")

    rows: list[dict] = [{"variable": "n", "label": "Patients", "statistic": "n", "level": "",
                         **{g: str(int(m.sum())) for g, m in groups}, "missing": 0}]
    stat_rows: list[dict] = []
    norm_rows: list[dict] = []
    for var in variables:
        s = data[var]
        label = labels.get(var, var)
        n_missing = int(s.isna().sum())
        kind = kinds[var]
        row_p, row_test = np.nan, ""
        if kind == "continuous":
            values = pd.to_numeric(s, errors="coerce").astype(float)
            pooled = values.dropna().to_numpy()
            skew, shapiro_p = _normality(pooled)
            if nonnormal is not None:
                summary = "median" if var in nonnormal else "mean"
                reason = "nonnormal= given"
            elif np.isfinite(skew) and (abs(skew) > SKEW_LIMIT or shapiro_p < SHAPIRO_ALPHA):
                summary = "median"
                reason = (f"|skewness| {abs(skew):.2f} > {SKEW_LIMIT:g}"
                          if abs(skew) > SKEW_LIMIT
                          else f"Shapiro-Wilk p {shapiro_p:.2g} < {SHAPIRO_ALPHA:g}")
            else:
                summary = "mean"
                reason = "not skewed by the rule"
            if nonnormal is None and len(pooled) > 5000:
                reason += " (skewness only: Shapiro-Wilk not used beyond 5000 values)"
            norm_rows.append({"variable": var, "n": len(pooled), "skewness": skew,
                              "shapiro_p": shapiro_p, "summary": summary, "reason": reason})
            row = {"variable": var, "label": label,
                   "statistic": "mean (SD)" if summary == "mean" else "median [Q1, Q3]",
                   "level": ""}
            arm_values = []
            for g, mask in groups:
                x = values[mask].dropna().to_numpy()
                if g != OVERALL:
                    arm_values.append(x)
                mean = float(x.mean()) if len(x) else np.nan
                sd = float(x.std(ddof=1)) if len(x) > 1 else np.nan
                med, q1, q3 = _quantiles(x)
                stat_rows.append({"variable": var, "level": "", "group": g, "n": len(x),
                                  "missing": int(values[mask].isna().sum()), "mean": mean,
                                  "sd": sd, "median": med, "q1": q1, "q3": q3,
                                  "count": np.nan, "percent": np.nan})
                if not len(x):
                    row[g] = ""
                elif summary == "mean":
                    row[g] = f"{_fmt(mean, digits)} ({_fmt(sd, digits)})"
                else:
                    row[g] = (f"{_fmt(med, digits)} [{_fmt(q1, digits)}, "
                              f"{_fmt(q3, digits)}]")
            if p_values:
                row_p, row_test = _test_continuous(arm_values, summary)
            rows.append({**row, "missing": n_missing, "p_value": row_p, "test": row_test})
            continue

        levels = [True] if kind == "boolean" else _levels(s)
        tab = []
        var_rows = []
        for level in levels:
            row = {"variable": var, "label": label, "statistic": "n (%)",
                   "level": "" if kind == "boolean" else str(level)}
            counts = []
            for g, mask in groups:
                known = s[mask].dropna()
                count = int((known == level).sum())
                pct = 100.0 * count / len(known) if len(known) else np.nan
                stat_rows.append({"variable": var, "level": row["level"], "group": g,
                                  "n": len(known), "missing": int(s[mask].isna().sum()),
                                  "mean": np.nan, "sd": np.nan, "median": np.nan,
                                  "q1": np.nan, "q3": np.nan, "count": count,
                                  "percent": pct})
                row[g] = f"{count} ({_fmt(pct, 1)})" if len(known) else ""
                if g != OVERALL:
                    counts.append(count)
            tab.append(counts)
            var_rows.append({**row, "missing": n_missing})
        if p_values:
            table = np.array(tab, dtype=float).T           # arms x levels
            if kind == "boolean":
                known = np.array([s[m].dropna().size for g, m in groups if g != OVERALL])
                table = np.column_stack([table[:, 0], known - table[:, 0]])
            row_p, row_test = _test_categorical(table)
        for r in var_rows:
            r["p_value"], r["test"] = row_p, row_test
        rows.extend(var_rows)

    group_cols = [g for g, _ in groups]
    columns = ["variable", "label", "statistic", "level", *group_cols, "missing"]
    if p_values:
        columns += ["p_value", "test"]
    table = pd.DataFrame(rows).reindex(columns=columns)
    table["missing"] = table["missing"].astype(int)
    if p_values:
        table.loc[0, ["p_value", "test"]] = [np.nan, ""]
        table["p_value"] = table["p_value"].astype(float)
    notes = _notes(digits, p_values, nonnormal is not None)
    timing_note = cohort.visit_ratings().note
    if timing_note:
        notes.append(f"Baseline scores: {timing_note}.")
    return BaselineTable(
        table=table, title="Baseline characteristics by arm", notes=tuple(notes),
        digits=digits, statistics=pd.DataFrame(stat_rows),
        normality=pd.DataFrame(norm_rows, columns=["variable", "n", "skewness", "shapiro_p",
                                                   "summary", "reason"]),
        arms=tuple(arms),
        arm_n={str(k): int(v) for k, v in table.loc[0, [*group_cols]].items()},
    )


def _notes(digits: int, p_values: bool, forced: bool) -> list[str]:
    rule = ("median [Q1, Q3] for the variables named in nonnormal=, mean (SD) otherwise"
            if forced else
            f"median [Q1, Q3] when the pooled values have |skewness| > {SKEW_LIMIT:g} or "
            f"Shapiro-Wilk p < {SHAPIRO_ALPHA:g}, mean (SD) otherwise")
    notes = [
        f"Continuous variables: {rule}; SD with n - 1, quartiles as R's quantile(type = 7); "
        f"{digits} decimal(s).",
        "Categorical variables: n (%) of the patients with a known value (percentages to "
        "one decimal); missing: patients without a value (all arms).",
    ]
    if p_values:
        notes.append("p-values: one-way ANOVA (two arms: Student's t-test) for mean (SD), "
                     "Kruskal-Wallis for median [Q1, Q3], Pearson's chi-square without "
                     "continuity correction for n (%), Fisher's exact test for 2 x 2 tables "
                     "with an expected count < 5. In a randomised trial baseline differences "
                     "are due to chance (CONSORT 2010).")
    return notes


__all__ = ["BaselineTable", "baseline_table"]
