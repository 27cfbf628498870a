"""The harms table as trials print it: terms as rows, arms as columns (CONSORT Harms 2022).

CONSORT Harms 2022 (Junqueira et al., BMJ 2023;381:e073725, item 17) asks for each
harm, per arm, the number of participants with the event over the number at risk and
the number of events, with recurrent events counted; and for the participants who
withdrew because of harms. Dry-needling trials give events per appointment as well
(Cotchett et al. 2014; Brady et al. 2014 per treatment). Each row is one term (then
serious events and events leading to withdrawal); each arm has two columns:

``<arm>: participants, n (%)``
    participants with >= 1 event of the term over all randomised participants of the
    arm (exact Clopper-Pearson CI in the long table, R's ``binom.test``);
``<arm>: events per 100 appointments``
    every event of the term at a treatment appointment, per 100 appointments attended
    (exact Poisson CI in the long table, R's ``poisson.test``); recurrent events count
    each time.

:attr:`HarmsTable.long` keeps the same numbers machine-readable, one row per arm and
term. No p-values (see :mod:`.compare`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..cohort import Cohort
from ..errors import AnalysisError
from ..results import AnalysisResult, NoComparison, nothing_fitted
from ..stats.checks import check_conf_level
from ..stats.intervals import clopper_pearson, poisson_exact
from ..tables import TableResult
from .counting import per_patient, per_session
from .events import arms_of, emergent_events
from .soreness_rule import derived_note

LONG_COLUMNS = ("arm", "group", "term", "n_participants_with_event", "n_participants",
                "estimate", "ci_lower", "ci_upper", "n_events", "n_appointments",
                "events_per_100_appointments", "rate_ci_lower", "rate_ci_upper")
_GROUPS = ("any", "term", "serious", "withdrawal")


@dataclass(frozen=True)
class HarmsTable(NoComparison, AnalysisResult, TableResult):
    """Harms by term (rows) and arm (columns), with the long table behind it.

    Attributes
    ----------
    table : pandas.DataFrame
        The printed layout: ``term`` (readable label) then, per arm,
        ``"<arm>: participants, n (%)"`` and ``"<arm>: events per 100 appointments"``
        (text, as a paper prints it).
    long : pandas.DataFrame
        One row per arm and term (``LONG_COLUMNS``): participants with the event,
        participants, ``estimate`` (their proportion) with ``ci_lower``/``ci_upper``
        (Clopper-Pearson), events at appointments, appointments,
        ``events_per_100_appointments`` with ``rate_ci_lower``/``rate_ci_upper`` (exact
        Poisson).
    events : pandas.DataFrame
        The treatment-emergent events counted (after the soreness rule): ``patient_id``,
        ``arm``, ``visit``, ``term``, ``severity``, ``serious``, ``withdrawal``,
        ``duration_h`` and ``derived`` (True for a soreness event derived from the session
        records, ``soreness_as_ae = { ..., from_sessions = true }``).
    """

    long: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)
    events: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)
    warnings: tuple[str, ...] = ()
    converged: bool = nothing_fitted()

    def tables(self) -> dict[str, TableResult]:
        """The printed table and the long machine-readable one, both with the notes."""
        return {"harms": TableResult(self.table, self.title, tuple(self.notes),
                                     self.conf_level, arm_n=dict(self.arm_n)),
                "harms_long": TableResult(self.long, f"{self.title} (long form)",
                                          tuple(self.notes), self.conf_level, digits=2,
                                          percent=True,
                                          columns=tuple(c for c in self.long.columns
                                                        if not c.startswith("rate_ci")))}

    def plot(self, ax=None, **kwargs):
        """Participants with each harm (%) per arm, with exact CIs; returns the Axes."""
        from ..plots.harms import plot_harms_table

        return plot_harms_table(self, ax=ax, **kwargs)


def _label(group: str, term: str) -> str:
    if group == "any":
        return "Any adverse event"
    if group == "serious":
        return "Serious adverse events"
    if group == "withdrawal":
        return "Withdrawals due to adverse events"
    text = term.replace("post_needling", "post-needling").replace("_", " ")
    return text[:1].upper() + text[1:]


def harms_table(cohort: Cohort, *, soreness_as_ae=None, conf_level: float = 0.95,
                last_session: int | None = None, all_terms: bool = True) -> HarmsTable:
    """Harms by term and arm as a paper prints them (see the module docstring).

    Parameters
    ----------
    cohort : Cohort
    soreness_as_ae : SorenessRule or mapping, optional
        When post-needling soreness counts
        (:class:`~dryneedle_outcomes.harms.SorenessRule`); stated in the notes. With
        ``{"min_hours": 48, "from_sessions": True}`` soreness events are also derived
        from the session soreness records where none was recorded (``events["derived"]``,
        counted in the notes).
    conf_level : float
    last_session : int, optional
        Last treatment-session visit (default: the last at which anyone was needled).
    all_terms : bool
        Every term of the vocabulary (default; CONSORT Harms: report zero counts), or
        only terms with at least one event in some arm.

    Returns
    -------
    HarmsTable

    Examples
    --------
    >>> import dryneedle_outcomes as dno
    >>> from dryneedle_outcomes.harms import harms_table
    >>> t = harms_table(dno.simulate_cohort(n_patients=84, seed=2014))
    >>> list(t.table.columns)[:3]
    ['term', 'dry_needling: participants, n (%)', 'dry_needling: events per 100 appointments']
    >>> t.table["term"].iloc[[0, -1]].tolist()
    ['Any adverse event', 'Withdrawals due to adverse events']
    """
    check_conf_level(conf_level)
    arms = arms_of(cohort)
    if not arms:
        raise AnalysisError("the cohort has no patients, so there is no harms table")
    es = emergent_events(cohort, soreness_as_ae, last_session)
    by = ("term", "serious", "withdrawal")
    pp = per_patient(cohort, es, by).table
    ps = per_session(cohort, es, by, last_session)
    key = ["arm", "group", "term"]
    long = pp[key + ["n_with_event", "denominator"]].rename(columns={
        "n_with_event": "n_participants_with_event", "denominator": "n_participants"})
    sess = ps.table[key + ["n_events", "denominator"]].rename(
        columns={"denominator": "n_appointments"})
    long = long.merge(sess, on=key, how="left", validate="one_to_one")
    x = long["n_participants_with_event"].to_numpy(dtype=float)
    n = long["n_participants"].to_numpy(dtype=float)
    lo, hi = clopper_pearson(x, n, conf_level)
    long["estimate"] = np.where(n > 0, x / np.where(n > 0, n, 1), np.nan)
    long["ci_lower"], long["ci_upper"] = lo, hi
    e = long["n_events"].to_numpy(dtype=float)
    t = long["n_appointments"].to_numpy(dtype=float)
    rlo, rhi = poisson_exact(e, t, conf_level)
    ok = t > 0
    long["events_per_100_appointments"] = np.where(ok, 100 * e / np.where(ok, t, 1), np.nan)
    long["rate_ci_lower"] = np.where(ok, 100 * rlo, np.nan)
    long["rate_ci_upper"] = np.where(ok, 100 * rhi, np.nan)
    if not all_terms:
        anywhere = long.groupby(["group", "term"], sort=False)[
            "n_participants_with_event"].transform("sum") > 0
        long = long.loc[anywhere | (long["group"] != "term")]
    long = long[list(LONG_COLUMNS)].reset_index(drop=True)
    rows = long.loc[long["arm"] == arms[0], ["group", "term"]]
    wide = pd.DataFrame({"term": [_label(g, t) for g, t in rows.itertuples(index=False)]})
    for arm in arms:
        sub = long.loc[long["arm"] == arm]
        cnt = sub["n_participants_with_event"].to_numpy()
        pct = 100 * sub["estimate"].to_numpy(dtype=float)
        wide[f"{arm}: participants, n (%)"] = [
            f"{c} ({p:.1f})" if np.isfinite(p) else f"{c}" for c, p in zip(cnt, pct)]
        rate = sub["events_per_100_appointments"].to_numpy(dtype=float)
        wide[f"{arm}: events per 100 appointments"] = [
            f"{r:.1f} ({int(ev)}/{int(ap)})" if np.isfinite(r) else "-"
            for r, ev, ap in zip(rate, sub["n_events"], sub["n_appointments"])]
    n_arm = long.loc[long["group"] == "any"].set_index("arm")
    notes = [
        "Participants: n (%) with >= 1 event of the kind, of all randomised participants ("
        + ", ".join(f"{a} N = {int(n_arm.loc[a, 'n_participants'])}" for a in arms) + ").",
        "Events per 100 appointments: every event at a treatment appointment (recurrent "
        "events each time) per 100 treatment appointments attended ("
        + ", ".join(f"{a} {int(n_arm.loc[a, 'n_appointments'])}" for a in arms)
        + "); shown as rate (events/appointments).",
        f"Long table: {100 * conf_level:g}% CIs, exact Clopper-Pearson for participants (R "
        "binom.test), exact Poisson for events per 100 appointments (R poisson.test).",
        "Treatment-emergent events only (visit >= 1). A verbatim naming several events "
        "counts once per term (adverse_events.verbatim_id links them).",
        "Withdrawals due to adverse events: participants with >= 1 event recorded as "
        "leading to withdrawal (adverse_events.withdrawal"
        + ("" if "withdrawal" in cohort.adverse_events else "; the column is absent, so 0")
        + ").",
        "No p-values per harm (CONSORT Harms 2022, SAMPL).",
    ]
    rule = es.soreness.get("soreness_rule")
    notes.append(f"Soreness rule: {rule}; {es.soreness['n_soreness_not_meeting_rule']} of "
                 f"{es.soreness['n_soreness_recorded']} recorded soreness events do not meet "
                 "it and are not counted." if rule else
                 "Soreness rule: none declared; every recorded post-needling soreness event "
                 "counts.")
    derived = derived_note(es.soreness)
    if derived:
        notes.append(derived)
    a = cohort.assessments
    if "soreness_upper_h" in a and "needled" in a:
        needled = a["needled"].astype("boolean").fillna(False).to_numpy(dtype=bool)
        sore = a["soreness_upper_h"].to_numpy(dtype=float, na_value=np.nan) > 0
        known = needled & a["soreness_upper_h"].notna().to_numpy()
        if known.any():
            notes.append(f"For context: soreness of any duration was recorded after "
                         f"{int((sore & known).sum())} of {int(known.sum())} needled "
                         f"appointments with a soreness report "
                         f"({100 * (sore & known).sum() / known.sum():.0f}%).")
    if "ascertainment" in cohort.adverse_events:
        asc = cohort.adverse_events["ascertainment"].value_counts(dropna=False)
        notes.append("Ascertainment: " + ", ".join(
            f"{'not recorded' if pd.isna(k) else k} {int(v)}" for k, v in asc.items())
            + " events (systematic questionnaire vs spontaneous report).")
    return HarmsTable(table=wide, title="Adverse events by arm", notes=tuple(notes),
                      conf_level=conf_level, long=long,
                      arm_n={str(a): int(n_arm.loc[a, "n_participants"]) for a in arms},
                      extra={**es.soreness, "last_session": ps.info.get("last_session")},
                      events=es.events)
