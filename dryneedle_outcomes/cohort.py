"""The Cohort: canonical tidy tables plus the quality ledger that accounts for them."""

from __future__ import annotations

import html
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .definitions import room_to_improve
from .errors import AnalysisError
from .instruments import INSTRUMENTS, get_instrument
from .mapping import Mapping
from .normalize.intercurrent_events import empty_intercurrent_events
from .pooling import check_unpooled
from .quality import QualityLedger
from .tables import frame_html
from .timing import DEFAULT_ASSESSED, VisitRatings, visit_ratings

#: Said by the ledger's summary, the report and the deviations table when the loader was
#: told to check no protocol-deviation rule (``deviations=[]``).
NO_DEVIATION_RULES = ("Protocol deviations: no deviation rule was checked (deviations = []), "
                      "so needling a contraindicated patient or a sham-arm patient is not "
                      "flagged.")


def needled_rows(a: pd.DataFrame) -> np.ndarray:
    """Per row of an assessments table: ``needled`` is True or ``needles`` above 0.

    Examples
    --------
    >>> needled_rows(pd.DataFrame({"needles": [0, 3, None]})).tolist()
    [False, True, False]
    """
    out = np.zeros(len(a), dtype=bool)
    if "needled" in a:
        out |= a["needled"].astype("boolean").fillna(False).to_numpy(dtype=bool)
    if "needles" in a:
        out |= pd.to_numeric(a["needles"], errors="coerce").fillna(0).to_numpy(
            dtype=float) > 0
    return out


@dataclass(frozen=True)
class Cohort:
    """A loaded cohort: ``patients``, ``assessments``, ``adverse_events`` and ``quality``.

    Build it with :func:`dryneedle_outcomes.load_cohort` or
    :func:`dryneedle_outcomes.read_redcap`; every analysis takes one.

    Attributes
    ----------
    patients : pandas.DataFrame
        One row per patient (``patient_id``, ``arm`` as a category, optional
        demographics and contraindication flags, extra columns kept).
    assessments : pandas.DataFrame
        One row per patient per visit, scores on canonical scales; source columns the
        mapping does not name (a clinician, notes, a site code) follow the canonical
        ones under their own names.
    adverse_events : pandas.DataFrame
        One row per event (``term`` in the controlled vocabulary, ``verbatim`` kept;
        a verbatim naming several events gives one row per term, sharing
        ``verbatim_id``; optional harms columns ``relatedness``, ``onset_h``,
        ``duration_h``, ``action_taken``, ``withdrawal``, ``ascertainment``; unmapped
        source columns carried too).
    intercurrent_events : pandas.DataFrame
        One row per intercurrent event (ICH E9(R1)): ``patient_id``, ``visit`` (the
        first visit affected), ``day``, ``event`` (a category of the vocabulary
        ``discontinued_treatment``, ``withdrew_from_study``, ``rescue_medication``,
        ``steroid_injection``, ``orthoses``, ``night_splint``, ``shockwave``,
        ``other_treatment``, ``adverse_event_withdrawal``) and ``reason``; empty when
        none were loaded. An :class:`~dryneedle_outcomes.Estimand` says how each is
        handled.
    quality : QualityLedger
        Rows read, kept and rejected per table, rejections (of rows or single cells),
        corrections, flags and what became of every source column.
    provenance : dict
        For each table its source and reader details; for each instrument the
        source column and declared scale(s).
    assessed : {"before_session", "after_session"}
        The declared rule for what a score recorded at session ``k`` reflects
        (``dryneedle_outcomes.timing``): taken before that session's needling, so
        ``k - 1`` sessions received (the default), or after it (``k`` sessions). Declared
        in the mapping (``[assessments] assessed = ...``), never inferred.

    Examples
    --------
    >>> import dryneedle_outcomes as dno
    >>> cohort = dno.simulate_cohort(n_patients=20, seed=1)
    >>> cohort.n_patients
    20
    >>> sorted(cohort.arms)
    ['dry_needling', 'sham']
    """

    patients: pd.DataFrame
    assessments: pd.DataFrame
    adverse_events: pd.DataFrame
    quality: QualityLedger
    provenance: dict = field(default_factory=dict)
    mapping: Mapping = field(default_factory=lambda: Mapping(tables={}))
    assessed: str = DEFAULT_ASSESSED
    intercurrent_events: pd.DataFrame = field(default_factory=empty_intercurrent_events)

    # ---------------------------------------------------------------- basics
    @property
    def n_patients(self) -> int:
        """Number of patients kept."""
        return int(len(self.patients))

    @property
    def n_assessments(self) -> int:
        """Number of assessment records kept."""
        return int(len(self.assessments))

    @property
    def arms(self) -> list[str]:
        """Arm labels, in the order of the categories."""
        return [str(a) for a in self.patients["arm"].cat.categories]

    @property
    def instruments(self) -> tuple[str, ...]:
        """Registered instruments with at least one value in the assessments."""
        return tuple(c for c in INSTRUMENTS if c in self.assessments
                     and self.assessments[c].notna().any())

    @property
    def pooled(self) -> dict:
        """What the mapping's ``pool_as`` pooled, by target outcome (empty when nothing).

        ``{"first_step_pain": {"covariate": "first_step_pain_instrument", "sources":
        {"first_step_pain_nrs": {"rows": n, "factor": 10.0, ...}}}}``; see
        :mod:`dryneedle_outcomes.pooling`.
        """
        return dict(self.provenance.get("pooled", {}))

    @property
    def protocol_deviations(self) -> pd.DataFrame:
        """Kept records flagged as protocol deviations (needling a contraindicated patient)."""
        flags = self.quality.flags
        return flags[flags["rule"] == "protocol_deviation"].reset_index(drop=True)

    # ---------------------------------------------------------------- derived
    @property
    def has_timing(self) -> bool:
        """Whether some visit has both a pre- and a post-session rating (``timing``)."""
        a = self.assessments
        if "timing" not in a:
            return False
        return bool(a["timing"].notna().any()
                    and a["timing"].nunique(dropna=True) == 2)

    def visit_ratings(self) -> VisitRatings:
        """One row per patient x visit: the rating the declared rule names.

        With a ``timing`` column, the pre-session rating under ``assessed =
        "before_session"`` and the post-session one under ``"after_session"``; the
        other rows are in ``set_aside`` with the reason and ``note`` says so
        (:func:`dryneedle_outcomes.timing.visit_ratings`). Without one, the assessments.

        Examples
        --------
        >>> import dryneedle_outcomes as dno
        >>> cohort = dno.simulate_cohort(n_patients=10, seed=3, within_session=True)
        >>> r = cohort.visit_ratings()
        >>> set(r.set_aside["timing"]), bool(r.assessments["timing"].eq("post_session").any())
        ({'post_session'}, False)
        """
        return visit_ratings(self.assessments, self.assessed)

    def change_from_baseline(self, outcome: str = "first_step_pain") -> pd.DataFrame:
        """Change from baseline of ``outcome`` per patient and visit (CDISC ADaM BDS style).

        Returns
        -------
        pandas.DataFrame
            ``patient_id``, ``arm``, ``visit``, ``day``, ``aval`` (the value), ``base``
            (the visit-0 value), ``chg`` = aval - base and ``pchg`` = 100 * chg / base,
            as ADaM defines them, ``improvement``: the same change signed so that
            **positive always means better**, whatever the instrument's direction, and
            ``pct_improvement`` = 100 * improvement / the room to improve at baseline
            (``baseline - lower`` for a higher-is-worse scale, ``upper - baseline`` for a
            higher-is-better one such as the FHSQ: 0 is its worst state, so a percentage
            of the baseline score would mean nothing there; missing when there is no
            room; ``dryneedle_outcomes.definitions.room_to_improve``). Visits of
            patients without a baseline value have missing ``base`` and changes (they
            are kept, not dropped). With pre- and post-session ratings, one row per
            visit: the rating the declared rule names (:meth:`visit_ratings`).

        Warns
        -----
        UnpooledInstrumentWarning
            When rows scored on an alternative instrument of ``outcome`` (a site's NRS
            for the VAS) are not pooled and so have no ``outcome`` value; the message
            names them (:mod:`dryneedle_outcomes.pooling`). With no ``outcome`` value at
            all, an :class:`AnalysisError` instead.

        Examples
        --------
        >>> import dryneedle_outcomes as dno
        >>> cohort = dno.simulate_cohort(n_patients=10, seed=3)
        >>> cfb = cohort.change_from_baseline("first_step_pain")
        >>> bool((cfb.loc[cfb.visit == 0, "chg"].dropna() == 0).all())
        True
        """
        instrument = get_instrument(outcome)
        if outcome not in self.assessments:
            raise AnalysisError(
                f"outcome {outcome!r} is not in this cohort's assessments; available: "
                f"{', '.join(self.instruments) or 'none'}"
            )
        check_unpooled(self, outcome, stacklevel=3)
        a = self.visit_ratings().assessments
        out = a[["patient_id", "visit", "day"]].copy()
        out.insert(1, "arm", a["patient_id"].map(self.patients.set_index("patient_id")["arm"]))
        out["aval"] = a[outcome].to_numpy()
        base = a.loc[a["visit"] == 0].set_index("patient_id")[outcome]
        out["base"] = a["patient_id"].map(base).to_numpy()
        out["chg"] = out["aval"] - out["base"]
        with np.errstate(divide="ignore", invalid="ignore"):
            out["pchg"] = np.where(out["base"] != 0, 100.0 * out["chg"] / out["base"], np.nan)
        # "+ 0.0" turns the -0.0 of a no-change record into 0.0
        out["improvement"] = out["chg"] * instrument.direction + 0.0
        room = room_to_improve(instrument, out["base"])
        with np.errstate(divide="ignore", invalid="ignore"):
            out["pct_improvement"] = np.where(room > 0, 100.0 * out["improvement"] / room,
                                              np.nan) + 0.0
        out["arm"] = out["arm"].astype(self.patients["arm"].dtype)
        return out

    def needled(self) -> np.ndarray:
        """Per assessment row: was the patient needled at that visit?

        True where ``needled`` is True or ``needles`` is above 0 (either column may be
        absent or missing). The one rule for "a needled appointment" used by every
        analysis (soreness after needling, treatment sessions, harms).

        Returns
        -------
        numpy.ndarray of bool, one value per row of ``assessments``

        Examples
        --------
        >>> import dryneedle_outcomes as dno
        >>> cohort = dno.simulate_cohort(n_patients=20, seed=1)
        >>> bool(cohort.needled()[cohort.assessments["visit"].to_numpy() == 0].any())
        False
        """
        return needled_rows(self.assessments)

    def session_visits(self, given=None, *, argument: str = "session_visits") -> list[int]:
        """The visits that are treatment (needling) sessions, in order.

        DESIGN.md: visit 0 is the baseline before the first needling, visits 1..k are
        treatment sessions and later visits are follow-up. The sessions are ``given``
        when the protocol says so; otherwise the visits >= 1 at which any patient of the
        cohort was needled (:meth:`needled`). One rule, used by the sessions timescale of
        :func:`~dryneedle_outcomes.time_to_relief` and by the harms denominators.

        Parameters
        ----------
        given : sequence of int, optional
            The protocol's session visits; checked to be visits >= 1.
        argument : str, default "session_visits"
            The caller's argument name, for the message when sessions cannot be told.

        Returns
        -------
        list of int

        Raises
        ------
        AnalysisError
            When ``given`` holds a visit < 1, or nothing records needling after
            baseline (the message says to pass ``argument``).

        Examples
        --------
        >>> import dryneedle_outcomes as dno
        >>> dno.simulate_cohort(n_patients=20, seed=1).session_visits()
        [1, 2, 3, 4, 5, 6]
        """
        if given is not None:
            visits = sorted({int(v) for v in given})
            if not visits or visits[0] < 1:
                raise AnalysisError(f"{argument} must be visits >= 1, got {given!r}")
            return visits
        a = self.assessments
        if "needled" not in a and "needles" not in a:
            raise AnalysisError(
                "the assessments have neither 'needled' nor 'needles', so the treatment "
                f"sessions cannot be told from follow-up visits; pass {argument}=...")
        visit = a["visit"].to_numpy()
        hit = self.needled() & (visit >= 1)
        if not hit.any():
            raise AnalysisError("no assessment at visit 1 or later records needling, so the "
                                f"treatment sessions are unknown; pass {argument}=...")
        return [int(v) for v in np.unique(visit[hit])]

    # ---------------------------------------------------------------- display
    def describe(self) -> pd.DataFrame:
        """Patients, visits and mean scores by arm, as a DataFrame."""
        a = self.assessments.merge(self.patients[["patient_id", "arm"]], on="patient_id")
        rows = []
        for arm, group in a.groupby("arm", observed=False):
            row = {
                "arm": arm,
                "patients": int((self.patients["arm"] == arm).sum()),
                "assessments": int(len(group)),
                "max_visit": int(group["visit"].max()) if len(group) else np.nan,
            }
            for col in self.instruments:
                row[f"{col}_baseline_mean"] = group.loc[group["visit"] == 0, col].mean()
            rows.append(row)
        return pd.DataFrame(rows)

    def summary(self) -> str:
        """A plain-text summary of the cohort and its quality ledger."""
        ev = len(self.adverse_events)
        lines = [
            f"Cohort: {self.n_patients} patients in {len(self.arms)} arm(s) "
            f"({', '.join(self.arms)}), {self.n_assessments} assessments, {ev} adverse events",
            f"Instruments: {', '.join(self.instruments) or 'none'}",
            "",
            self.describe().to_string(index=False, float_format=lambda x: f"{x:.1f}"),
            "",
            self.quality.summary(),
        ]
        n_dev = len(self.protocol_deviations)
        if n_dev:
            lines.append(f"\nProtocol deviations flagged: {n_dev} (cohort.protocol_deviations)")
        if self.deviation_rules_checked == ():
            lines.append("\n" + NO_DEVIATION_RULES)
        return "\n".join(lines)

    @property
    def deviation_rules_checked(self) -> tuple[str, ...] | None:
        """The protocol-deviation reasons the loader checked (``load_cohort(deviations=)``;
        ``()`` when none was, e.g. ``[data] deviations = []``; None when not recorded)."""
        prov = self.provenance if isinstance(self.provenance, dict) else {}
        reasons = prov.get("deviation_reasons")
        return None if reasons is None else tuple(reasons)

    def __repr__(self) -> str:
        """A short display for a plain Python session: the counts, the arms, the
        ledger's balance and where the rest is (``summary()`` prints it all)."""
        q = self.quality
        counts = q.counts
        read = int(counts["read"].sum()) if "read" in counts else 0
        rejected = int(counts["rejected"].sum()) if "rejected" in counts else 0
        per_arm = self.describe()[["arm", "patients", "assessments"]].to_string(index=False)
        lines = [f"<Cohort: {self.n_patients} patients, {self.n_assessments} assessments, "
                 f"{len(self.adverse_events)} adverse events; arms: {', '.join(self.arms)}>",
                 f"Instruments: {', '.join(self.instruments) or 'none'}",
                 *per_arm.splitlines(),
                 f"Quality ledger: {read} rows read, {rejected} rejected "
                 f"({len(q.corrections)} corrections, {len(q.flags)} flags); read = kept + "
                 f"rejected: {'yes' if q.balanced else 'NO'}"]
        n_dev = len(self.protocol_deviations)
        if n_dev:
            lines.append(f"Protocol deviations flagged: {n_dev} (.protocol_deviations)")
        lines.append(".summary() prints everything; .quality holds the ledger")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        return (
            f"<div><p><strong>Cohort</strong>: {self.n_patients} patients, "
            f"{self.n_assessments} assessments, {len(self.adverse_events)} adverse events; "
            f"arms: {html.escape(', '.join(self.arms))}</p>"
            + frame_html(self.describe().round(1))
            + self.quality._repr_html_() + "</div>"
        )
