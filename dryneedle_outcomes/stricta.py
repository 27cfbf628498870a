"""The intervention as delivered, per arm: a STRICTA table built from the session data.

STRICTA (STandards for Reporting Interventions in Clinical Trials of Acupuncture,
revised: MacPherson H, Altman DG, Hammerschlag R, et al. PLoS Med 2010;7(6):e1000261),
the extension of CONSORT for needling, asks for the needling details (item 2: needle
insertions per session, the points or muscles needled, uni- or bilateral, the
response sought, the stimulation, the retention time), the treatment regimen (item
3: number, frequency and duration of sessions) and the control (item 6). The CONSORT
2025 statement (Hopewell et al. 2025, item 12) and its extension for
non-pharmacological treatments (Boutron et al. 2017) ask for the intervention *as
delivered*, not only as planned. :func:`stricta_table` computes every item the data
carry, per arm, and says "not recorded" for every item they do not carry, instead of
leaving it out.

Definitions
    *Sessions received*: the rule of the CONSORT flow and the per-protocol population
    (``estimands.populations.received_session_rows``: a session
    visit attended and, in a needling arm, needled; none after treatment stopped).
    *Needled sessions*: sessions received at which needles were inserted
    (:meth:`~dryneedle_outcomes.Cohort.needled`); the counts of needles, twitch
    responses, muscles, side and technique describe those. *Interval*: days between
    consecutive sessions received by a patient (needs ``day``). Medians and quartiles
    are Hyndman & Fan (1996) type 7 (R's ``quantile()`` default, NumPy's
    ``percentile``), over patients (sessions per patient) or over sessions (the
    others). *Soreness*: a session with soreness reported after it (upper bound above
    0 h) among the sessions with soreness recorded; its duration is interval-valued,
    so the median duration is given as bounds: the median of the lower and of the
    upper bounds, which enclose the median of the true durations (each order statistic
    of the true durations lies between those of the bounds). The Turnbull estimate is
    :func:`~dryneedle_outcomes.soreness_duration`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .cohort import Cohort, needled_rows
from .errors import AnalysisError
from .estimands.populations import received_session_rows, sessions_received
from .normalize.vocabulary import MUSCLE_GROUPS, MUSCLES
from .results import AnalysisResult, NoComparison, nothing_fitted
from .tables import TableResult

#: The muscles always listed (rows with 0 when not needled), in vocabulary order.
LISTED_MUSCLES = ("gastrocnemius", "soleus", "abductor_hallucis", "flexor_digitorum_brevis",
                  "quadratus_plantae", "plantar_fascia")
#: STRICTA items no canonical column carries: the table says "not recorded" for each.
NOT_IN_DATA = (
    ("1a-c", "Rationale: style of needling, reasoning for the treatment, extent of variation"),
    ("2c", "Depth of insertion"),
    ("2g", "Needle type (diameter, length, manufacturer, material)"),
    ("3b", "Duration of each session"),
    ("4a", "Other interventions given with the needling (exercise, advice, ...)"),
    ("4b", "Setting and context (instructions to practitioners, information to patients)"),
    ("5", "Practitioner background (training, years of experience)"),
    ("6a-b", "Rationale for the control and its precise description"),
)
_NOT_RECORDED = "not recorded"
_PRACTITIONER = ("clinician", "therapist", "practitioner", "physiotherapist")


def _num(x: float, digits: int) -> str:
    if pd.isna(x):
        return "NA"
    if np.isinf(x):
        return "inf"
    return f"{x:.0f}" if float(x).is_integer() else f"{x:.{digits}f}"


def _pct(n: int, d: int) -> str:
    return f"{n}/{d} ({100.0 * n / d:.0f}%)" if d else "0/0"


def _describe(values: pd.Series, groups: pd.Series, arms: list[str]) -> pd.DataFrame:
    """Per arm: n, median, q1, q3 (type 7), min, max of ``values`` (missing left out)."""
    frame = pd.DataFrame({"arm": pd.Categorical(groups, categories=arms),
                          "value": pd.to_numeric(values, errors="coerce").astype(float)})
    frame = frame[frame["value"].notna()]
    g = frame.groupby("arm", observed=False)["value"]
    out = pd.DataFrame({"n": g.size(), "median": g.median(), "q1": g.quantile(0.25),
                        "q3": g.quantile(0.75), "min": g.min(), "max": g.max()})
    out.index = out.index.astype(str)
    return out.reindex(arms).rename_axis("arm").reset_index()


@dataclass(frozen=True)
class StrictaTable(NoComparison, AnalysisResult):
    """The intervention as delivered, per arm (STRICTA 2010; see the module docstring).

    Attributes
    ----------
    table : pandas.DataFrame
        The display: ``item`` (STRICTA item), ``characteristic`` and one text column
        per arm; every item the data do not carry says "not recorded".
    dose : pandas.DataFrame
        ``arm``, ``quantity`` (``sessions_per_patient``, ``interval_days``,
        ``needles_per_session``, ``twitch_responses_per_session``,
        ``retention_min``, ``soreness_lower_h``, ``soreness_upper_h``), ``n``,
        ``median``, ``q1``, ``q3``, ``min``, ``max`` (unrounded).
    muscles : pandas.DataFrame
        ``arm``, ``muscle``, ``muscle_group``, ``patients``, ``patients_denominator``,
        ``sessions``, ``sessions_denominator``: patients and needled sessions in
        which each muscle was needled.
    categories : pandas.DataFrame
        ``arm``, ``variable`` (``laterality``, ``technique``, ``soreness``),
        ``value``, ``sessions``, ``denominator``.
    planned_sessions : int or None
    not_recorded : tuple of str
        The STRICTA items the data do not carry, one line each.
    notes, warnings : tuple of str
    """

    table: pd.DataFrame
    dose: pd.DataFrame
    muscles: pd.DataFrame
    categories: pd.DataFrame
    planned_sessions: int | None = None
    not_recorded: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    converged: bool = nothing_fitted()

    def tables(self) -> dict[str, TableResult]:
        """The display table (the numbers are :attr:`dose`, :attr:`muscles`,
        :attr:`categories`)."""
        return {"stricta": TableResult(
            self.table, title="Intervention as delivered (STRICTA 2010), per arm",
            notes=self.notes)}

    def _repr_headline(self) -> str:
        arms = ", ".join(f"{a} ({n})" for a, n in zip(self.table.columns[2:],
                                                     self.table.iloc[0, 2:]))
        planned = (f"{self.planned_sessions} sessions planned" if self.planned_sessions
                   else "sessions planned: not given")
        return (f"Intervention as delivered (STRICTA 2010): {arms}; {planned}; "
                f"{len(self.not_recorded)} item(s) not recorded")

    def plot(self, ax=None, **kwargs):
        """Muscles needled: % of each arm's needled sessions, one bar per arm and muscle.

        Arms without a needled session (a non-penetrating sham) have no bars and are
        named in the title. Returns the Axes.
        """
        import matplotlib.pyplot as plt

        from .plots.style import arm_colours, arm_label, literal, paper_style

        m = self.muscles[self.muscles["sessions_denominator"] > 0]
        arms = [a for a in self.table.columns[2:] if a in set(m["arm"])]
        muscles = [x for x in dict.fromkeys(self.muscles["muscle"])]
        colours = arm_colours(list(self.table.columns[2:]))
        with paper_style():
            if ax is None:
                _, ax = plt.subplots()
            y = np.arange(len(muscles))
            height = 0.8 / max(len(arms), 1)
            for i, arm in enumerate(arms):
                s = m[m["arm"] == arm].set_index("muscle").reindex(muscles)
                pct = 100.0 * s["sessions"] / s["sessions_denominator"]
                ax.barh(y + (i - (len(arms) - 1) / 2) * height, pct.fillna(0.0), height=height,
                        color=colours[arm], label=arm, **kwargs)
            ax.set_yticks(y, [literal(x.replace("_", " ")) for x in muscles])
            ax.invert_yaxis()
            ax.set_xlim(0, 100)
            ax.set_xlabel("needled sessions (%)")
            none = [arm_label(a) for a in self.table.columns[2:] if a not in arms]
            if none:
                ax.set_title("no needles inserted: " + ", ".join(none), fontsize=7)
            if arms:
                handles, labels = ax.get_legend_handles_labels()
                ax.legend(handles, [arm_label(x) for x in labels], fontsize=6)
        return ax


def stricta_table(cohort: Cohort, *, planned_sessions: int | None = None,
                  session_visits=None, digits: int = 1) -> StrictaTable:
    """The intervention as delivered per arm, item by item of STRICTA 2010.

    Parameters
    ----------
    cohort : Cohort
    planned_sessions : int, optional
        Sessions per patient the protocol planned (STRICTA 3a); when None the table
        says the plan is not given (it is not inferred from the data).
    session_visits : sequence of int, optional
        The protocol's session visits (default: the visits >= 1 at which anyone was
        needled, :meth:`~dryneedle_outcomes.Cohort.session_visits`).
    digits : int, default 1
        Decimals of non-integer numbers in the display.

    Returns
    -------
    StrictaTable

    Raises
    ------
    AnalysisError
        When the sessions cannot be told (no needling recorded and no
        ``session_visits``), or ``planned_sessions`` is not a whole number >= 1.

    Examples
    --------
    >>> import dryneedle_outcomes as dno
    >>> st = dno.stricta_table(dno.simulate_cohort(n_patients=40, seed=3),
    ...                        planned_sessions=6)
    >>> st.table.columns.tolist()
    ['item', 'characteristic', 'dry_needling', 'sham']
    >>> st.table.iloc[1, 1:].tolist()
    ['Sessions planned per patient', '6', '6']
    """
    if planned_sessions is not None and (isinstance(planned_sessions, bool) or not
                                         isinstance(planned_sessions, int | np.integer)
                                         or planned_sessions < 1):
        raise AnalysisError(f"planned_sessions must be a whole number >= 1, got "
                            f"{planned_sessions!r}")
    a = cohort.visit_ratings().assessments.reset_index(drop=True)
    arms = [str(x) for x in cohort.arms]
    arm_of = cohort.patients.set_index("patient_id")["arm"].astype(str)
    arm = a["patient_id"].map(arm_of)
    received = received_session_rows(cohort, session_visits)
    needled = received & needled_rows(a)
    per_patient = sessions_received(cohort, session_visits)
    patient_arm = pd.Series(per_patient.index).map(arm_of)
    allocated = patient_arm.value_counts().reindex(arms, fill_value=0)

    dose = [_describe(pd.Series(per_patient.to_numpy()), patient_arm,
                      arms).assign(quantity="sessions_per_patient")]
    s = a.loc[received].assign(arm=arm[received])
    if "day" in s and s["day"].notna().any():
        s = s.sort_values(["patient_id", "day"], kind="stable")
        gap = s.groupby("patient_id", sort=False)["day"].diff()
        dose.append(_describe(gap, s["arm"], arms).assign(quantity="interval_days"))
    nd = a.loc[needled].assign(arm=arm[needled])
    for column, quantity in (("needles", "needles_per_session"),
                             ("twitch_responses", "twitch_responses_per_session"),
                             ("retention_min", "retention_min")):
        if column in nd and nd[column].notna().any():
            dose.append(_describe(nd[column], nd["arm"], arms).assign(quantity=quantity))
    sore_rows = pd.DataFrame()
    if "soreness_upper_h" in s and s["soreness_upper_h"].notna().any():
        rec = s[s["soreness_upper_h"].notna() & s["soreness_lower_h"].notna()]
        sore = rec[rec["soreness_upper_h"] > 0]
        for column in ("soreness_lower_h", "soreness_upper_h"):
            dose.append(_describe(sore[column], sore["arm"], arms).assign(quantity=column))
        sore_rows = _categories(rec.assign(soreness=np.where(
            rec["soreness_upper_h"] > 0, "sore", "none")), "soreness", arms)
    dose_frame = pd.concat(dose, ignore_index=True)[
        ["arm", "quantity", "n", "median", "q1", "q3", "min", "max"]]
    dose_frame["n"] = dose_frame["n"].fillna(0).astype(np.int64)

    muscles = _muscles(nd, arms)
    cats = [c for c in (_categories(nd, "laterality", arms), _categories(nd, "technique", arms),
                        sore_rows) if len(c)]
    categories = (pd.concat(cats, ignore_index=True) if cats else pd.DataFrame(
        columns=["arm", "variable", "value", "sessions", "denominator"]))
    practitioners = _practitioners(a.loc[received], arm[received], arms)
    table, missing = _display(arms, allocated, planned_sessions, dose_frame, muscles,
                              categories, nd, practitioners, digits)
    notes = (
        "STRICTA 2010 (MacPherson et al., PLoS Med 7:e1000261) items; CONSORT 2025 and "
        "its non-pharmacological extension (Boutron et al. 2017) ask for the intervention "
        "as delivered. Sessions received: session visits attended (and needled, in a "
        "needling arm) before any stop of treatment. Per-session items count the needled "
        "sessions; muscles: patients (of those with a needled session recording the "
        "muscles) and sessions (of the needled sessions recording them) in which each "
        "muscle was needled. Median [IQR] (range); quartiles of type 7 (R's default). "
        "Soreness duration: medians of the lower and upper bounds of the reported "
        "intervals (they enclose the median duration). 'not recorded': the data carry "
        "no such column; report it from the protocol.",
    )
    return StrictaTable(table, dose_frame, muscles, categories, planned_sessions,
                        tuple(missing), notes)


def _categories(rows: pd.DataFrame, variable: str, arms: list[str]) -> pd.DataFrame:
    """Sessions per arm and value of ``variable``; denominator: sessions recording it."""
    if variable not in rows or rows[variable].notna().sum() == 0:
        return pd.DataFrame()
    known = rows[rows[variable].notna()]
    counts = pd.crosstab(pd.Categorical(known["arm"], categories=arms),
                         known[variable].astype(str), dropna=False)
    long = counts.stack().rename("sessions").reset_index()
    long.columns = ["arm", "value", "sessions"]
    long["arm"] = long["arm"].astype(str)
    long["denominator"] = long["arm"].map(counts.sum(axis=1).set_axis(arms)).astype(np.int64)
    long.insert(1, "variable", variable)
    return long


def _muscles(nd: pd.DataFrame, arms: list[str]) -> pd.DataFrame:
    """Patients and sessions in which each muscle was needled, per arm."""
    rec = nd[nd["muscles"].notna()] if "muscles" in nd else nd.iloc[:0]
    long = rec[["patient_id", "arm"]].assign(
        muscle=rec["muscles"].astype(str).str.split(";") if len(rec) else []
    ).explode("muscle") if len(rec) else pd.DataFrame(columns=["patient_id", "arm", "muscle"])
    present = set(long["muscle"])
    listed = [m for m in MUSCLES if m in LISTED_MUSCLES or m in present]
    grid = pd.MultiIndex.from_product([arms, listed], names=["arm", "muscle"])
    sessions = long.groupby(["arm", "muscle"]).size().reindex(grid, fill_value=0)
    patients = long.drop_duplicates(["patient_id", "muscle"]).groupby(
        ["arm", "muscle"]).size().reindex(grid, fill_value=0)
    out = pd.DataFrame({"patients": patients, "sessions": sessions}).reset_index()
    out["muscle_group"] = out["muscle"].map(MUSCLE_GROUPS)
    out["patients_denominator"] = out["arm"].map(
        rec.groupby("arm")["patient_id"].nunique()).fillna(0).astype(np.int64)
    out["sessions_denominator"] = out["arm"].map(rec.groupby("arm").size()).fillna(0).astype(
        np.int64)
    return out[["arm", "muscle", "muscle_group", "patients", "patients_denominator",
                "sessions", "sessions_denominator"]].astype(
        {"patients": np.int64, "sessions": np.int64})


def _practitioners(rows: pd.DataFrame, arm: pd.Series, arms: list[str]) -> pd.Series | None:
    """Distinct practitioners per arm when a carried column names them, else None."""
    found = [c for c in rows.columns if any(w in str(c).lower() for w in _PRACTITIONER)]
    if not found:
        return None
    return rows[found[0]].groupby(arm.to_numpy()).nunique().reindex(arms, fill_value=0)


def _display(arms, allocated, planned, dose, muscles, categories, nd, practitioners,
             digits) -> tuple[pd.DataFrame, list[str]]:
    """The display rows (item, characteristic, one text per arm) and the items missing."""
    rows: list[tuple] = []
    missing: list[str] = []
    needled_arms = set(nd["arm"])
    # an arm without a needled session (a non-penetrating sham) has nothing to describe
    empty = {a: ("no needled session" if a not in needled_arms else _NOT_RECORDED)
             for a in arms}

    def add(item: str, what: str, texts) -> None:
        rows.append((item, what, *texts))

    def stats(quantity: str, what: str, item: str, *, none: str | None = None) -> None:
        d = dose[dose["quantity"] == quantity].set_index("arm").reindex(arms)
        if d["n"].fillna(0).sum() == 0:
            add(item, what, [_NOT_RECORDED] * len(arms))
            missing.append(f"{item} {what}")
            return
        add(item, what, [(none or empty[r.Index]) if not r.n else
                         f"{_num(r.median, digits)} [{_num(r.q1, digits)}, "
                         f"{_num(r.q3, digits)}] ({_num(r.min, digits)}-{_num(r.max, digits)})"
                         for r in d.itertuples()])   # one row per arm

    def cats(variable: str, item: str, label: str, only: str | None = None) -> None:
        c = categories[categories["variable"] == variable] if len(categories) else categories
        if not len(c):
            add(item, label, [_NOT_RECORDED] * len(arms))
            missing.append(f"{item} {label}")
            return
        for value in [only] if only else pd.unique(c["value"]):
            v = c[c["value"] == value].set_index("arm").reindex(arms)
            v = v.fillna({"sessions": 0, "denominator": 0})
            add(item, label if only else f"{label}: {value}",
                [_pct(int(r.sessions), int(r.denominator)) if r.denominator else
                 (empty[r.Index] if variable != "soreness" else _NOT_RECORDED)
                 for r in v.itertuples()])   # one row per arm

    add("", "Patients allocated", [str(int(allocated[a])) for a in arms])
    add("3a", "Sessions planned per patient",
        [str(planned) if planned is not None else "not given (pass planned_sessions)"] *
        len(arms))
    stats("sessions_per_patient", "Sessions received per patient, median [IQR] (range)",
          "3a", none=_NOT_RECORDED)
    stats("interval_days", "Days between sessions, median [IQR] (range)", "3b",
          none=_NOT_RECORDED)
    stats("needles_per_session", "Needles inserted per session, median [IQR] (range)", "2a",
          none="no needle inserted")
    m = muscles
    for muscle in pd.unique(m["muscle"]):
        v = m[m["muscle"] == muscle].set_index("arm").reindex(arms)
        group = str(v["muscle_group"].iloc[0]).replace("_", " ")
        add("2b", f"Muscle needled: {muscle.replace('_', ' ')} ({group}), patients; sessions",
            [f"{_pct(int(r.patients), int(r.patients_denominator))}; "
             f"{_pct(int(r.sessions), int(r.sessions_denominator))}"
             if r.sessions_denominator else empty[r.Index] for r in v.itertuples()])
    if not len(m) or m["sessions_denominator"].sum() == 0:
        missing.append("2b muscles needled")
    cats("laterality", "2b", "Side needled (sessions)")
    stats("twitch_responses_per_session",
          "Local twitch responses per session, median [IQR] (range)", "2d")
    if "twitch_responses" in nd and nd["twitch_responses"].notna().any():
        t = nd[nd["twitch_responses"].notna()]
        hit = (t["twitch_responses"] > 0).groupby(t["arm"]).agg(
            hits="sum", total="size").reindex(arms).fillna(0)
        add("2d", "Sessions with at least one local twitch response",
            [_pct(int(r.hits), int(r.total)) if r.total else empty[r.Index]
             for r in hit.itertuples()])
    cats("technique", "2e", "Technique (sessions)")
    stats("retention_min", "Needle retention time (min), median [IQR] (range)", "2f")
    cats("soreness", "", "Sessions followed by soreness", only="sore")
    lo = dose[dose["quantity"] == "soreness_lower_h"].set_index("arm").reindex(arms)
    hi = dose[dose["quantity"] == "soreness_upper_h"].set_index("arm").reindex(arms)
    if len(lo.dropna(how="all")):
        add("", "Soreness duration (h), median between",
            [f"{_num(x, digits)} and {_num(y, digits)}" if n else "no soreness"
             for x, y, n in zip(lo["median"], hi["median"], lo["n"].fillna(0))])
    if practitioners is not None:
        add("5", "Practitioners (distinct, from the data)", [str(int(n)) for n in practitioners])
    for item, what in NOT_IN_DATA:
        add(item, what, [_NOT_RECORDED] * len(arms))
        missing.append(f"{item} {what}")
    table = pd.DataFrame(rows, columns=["item", "characteristic", *arms])
    return table, missing


__all__ = ["LISTED_MUSCLES", "NOT_IN_DATA", "StrictaTable", "stricta_table"]
