"""A listing of adverse events, one row per event, with the verbatim text as reported."""

from __future__ import annotations

import pandas as pd

from ..cohort import Cohort
from ..tables import TableResult

LISTING_COLUMNS = ("patient_id", "arm", "visit", "term", "verbatim", "severity", "serious")
#: Columns listed after :data:`LISTING_COLUMNS` when the adverse-events table has them.
OPTIONAL_COLUMNS = ("verbatim_id", "relatedness", "onset_h", "duration_h", "action_taken",
                    "withdrawal", "ascertainment")


def event_listing(cohort: Cohort, *, serious_or_severe_only: bool = False) -> TableResult:
    """Every recorded adverse event with its arm and verbatim text (CONSORT Harms listing).

    Exports through :meth:`~.TableResult.to_csv` / ``to_excel`` neutralise verbatim text
    that a spreadsheet would read as a formula (``=``, ``+``, ``-``, ``@``).

    Parameters
    ----------
    cohort : Cohort
    serious_or_severe_only : bool
        List only serious or severe events (for the paper's listing of important harms).

    Returns
    -------
    TableResult

    Examples
    --------
    >>> import dryneedle_outcomes as dno
    >>> from dryneedle_outcomes.harms import event_listing
    >>> listing = event_listing(dno.simulate_cohort(n_patients=20, seed=1))
    >>> list(listing.table.columns)[:8]
    ['patient_id', 'arm', 'visit', 'term', 'verbatim', 'severity', 'serious', 'verbatim_id']
    >>> list(listing.table.columns)[8:]  # the CONSORT Harms columns, when recorded
    ['relatedness', 'onset_h', 'duration_h', 'action_taken', 'withdrawal', 'ascertainment']
    """
    ev = cohort.adverse_events
    arm = ev["patient_id"].astype(str).map(
        cohort.patients.set_index("patient_id")["arm"].astype(str))
    out = pd.DataFrame({c: (ev[c].astype(object) if c in ev else pd.NA)
                        for c in LISTING_COLUMNS if c != "arm"})
    out.insert(1, "arm", arm)
    for c in OPTIONAL_COLUMNS:
        if c in ev:
            out[c] = ev[c].to_numpy()
    if serious_or_severe_only:
        serious = out["serious"].astype("boolean").fillna(False).astype(bool)
        out = out.loc[serious | (out["severity"] == "severe")]
    out = out.sort_values(["arm", "patient_id", "visit"], kind="stable").reset_index(drop=True)
    title = ("Serious or severe adverse events" if serious_or_severe_only
             else "Adverse events: listing")
    notes = ("Every recorded event, treatment-emergent or not; verbatim text as reported, "
             "term as coded; a verbatim naming several events is listed once per term "
             "(same verbatim_id).",)
    return TableResult(out, title=title, notes=notes)
