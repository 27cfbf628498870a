"""The report's methods text on the instruments: ranges, directions, MCIDs and sources,
and what was pooled (the mapping's ``pool_as``) or left out (an unpooled NRS)."""

from __future__ import annotations

from ..cohort import Cohort
from ..instruments import INSTRUMENTS
from ..pooling import pooled, pooled_covariate, pooling_sentence, unpooled_message


def _number(x: float) -> str:
    return f"{x:g}"


def instrument_sentences(cohort: Cohort, outcome: str | None) -> list[str]:
    """Sentences for the methods: one per instrument with data, then pooling.

    Examples
    --------
    >>> import dryneedle_outcomes as dno
    >>> lines = instrument_sentences(dno.simulate_cohort(n_patients=10, seed=1),
    ...                              "first_step_pain")
    >>> lines[0].startswith("First-step pain (VAS, mm): 0-100 mm, higher is worse; MCID 19 mm")
    True
    """
    out = []
    for name in cohort.instruments:
        inst = INSTRUMENTS[name]
        way = "higher is better" if inst.higher_is_better else "higher is worse"
        source = inst.mcid_source.rstrip(".")
        mcid = (f"MCID {_number(inst.mcid)} {inst.units} ({source})"
                if inst.mcid is not None else f"no MCID registered ({source})")
        out.append(f"{inst.label}: {_number(inst.lower)}-{_number(inst.upper)} {inst.units}, "
                   f"{way}; {mcid}.")
    if outcome is None or outcome not in INSTRUMENTS:
        return out
    text = pooling_sentence(cohort, outcome)
    if text:
        column = pooled(cohort, outcome)["covariate"]
        inst = INSTRUMENTS[outcome]
        adjusted = (f"Each patient's instrument ({column}) is a covariate of the trajectory "
                    "models and of the time-to-relief regressions (Cox, AFT, discrete-time) "
                    "by default" if pooled_covariate(cohort, outcome) else
                    f"All analysed patients are on one instrument, so {column} is not a "
                    "covariate")
        mcid = (f"; responder and relief definitions use the {inst.label} MCID "
                f"({_number(inst.mcid)} {inst.units}) for the pooled values too"
                if inst.mcid is not None else "")
        out.append(f"{text} The ledger lists each pooled row group (quality/corrections.csv, "
                   f"action 'pooled as {outcome}'). {adjusted}{mcid}.")
    left = unpooled_message(cohort, outcome)
    if left:
        out.append(left + ".")
    return out
