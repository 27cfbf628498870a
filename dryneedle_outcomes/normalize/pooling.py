"""Loader side of instruments scored on another instrument: keep them apart, pool if said.

A score declared on a scale that is another instrument (``nrs10`` for the first-step
pain VAS: the first-step pain NRS) lands in that instrument's own column
(:func:`merge_routed`). Only an explicit ``[assessments.pool_as]`` in the mapping puts
it into another instrument's column (:func:`apply_pool_as`): rescaled linearly between
the two ranges (0-10 NRS x10 into 0-100 mm), one ledger correction per pooled row
group (file, source column, site, rule, count), the instrument of each value kept in
``<target>_instrument``. The analysis side is :mod:`dryneedle_outcomes.pooling`.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from ..instruments import INSTRUMENTS, pooling_factor, rescale
from .records import Records


def instrument_column(target: str) -> str:
    """The column naming the instrument of each value of a pooled ``target``.

    Examples
    --------
    >>> instrument_column("first_step_pain")
    'first_step_pain_instrument'
    """
    return f"{target}_instrument"


def merge_routed(rec: Records, out: pd.DataFrame, routed: Mapping[str, pd.Series],
                 origins: Mapping[str, str]) -> None:
    """Put the values scored on another instrument into that instrument's column.

    ``routed`` maps an instrument to its values (from
    :func:`~dryneedle_outcomes.normalize.cells.to_instrument`), ``origins`` to the
    column they were declared in. When the data also map that instrument's own column,
    a row with a value in both keeps the own column's and is flagged
    (``instrument_recorded_twice``).
    """
    for name, values in routed.items():
        origin = origins[name]
        if name not in rec.source_columns and origin in rec.source_columns:
            rec.source_columns[name] = rec.source_columns[origin]
        if name in out:
            both = (out[name].notna() & values.notna()).to_numpy()
            rec.flag(both, name, "instrument_recorded_twice",
                     f"{name} has a value in its own column and one declared on a scale of "
                     f"{origin}; the own column's value {{value}} is kept", values=out[name])
            out[name] = out[name].fillna(values)
        else:
            out[name] = values.astype(float)


def apply_pool_as(rec: Records, out: pd.DataFrame, pool_as: Mapping[str, str],
                  site: pd.Series | None) -> dict:
    """Pool each ``source = target`` of the mapping's ``pool_as`` into ``out[target]``.

    A row with a ``source`` value and no ``target`` value gets the rescaled source
    value; a row with both keeps the target's and is flagged
    (``pooled_both_recorded``). Each pooled group (per site when the data have one) is
    one correction: the file, the source column, ``old`` = the source instrument and
    site, ``new`` = the target, the rule in ``action``, the count in ``n_rows``.

    Returns
    -------
    dict
        ``{target: {"covariate": column, "sources": {source: {"rows": n, "factor":
        f, "label": ...}}}}`` for the provenance (empty when nothing was pooled).
    """
    info: dict = {}
    for source, target in pool_as.items():
        if source not in out:
            continue
        s_inst, t_inst = INSTRUMENTS[source], INSTRUMENTS[target]
        if target not in out:
            out[target] = np.nan
        src, tgt = out[source], out[target]
        both = (src.notna() & tgt.notna()).to_numpy()
        rec.flag(both, source, "pooled_both_recorded",
                 f"this row has both {target} and {source} ({{value}}); {target} is kept and "
                 f"{source} is not pooled into it", values=src)
        fill = (src.notna() & tgt.isna()).to_numpy()
        column = instrument_column(target)
        if column not in out:
            out[column] = pd.Series(np.where(tgt.notna(), target, None), index=out.index,
                                    dtype=object)
        out.loc[fill, column] = source
        out.loc[fill, target] = rescale(src[fill], s_inst, t_inst)
        factor = pooling_factor(s_inst, t_inst)
        groups = (site[fill].fillna("(no site)").value_counts(sort=False).sort_index()
                  if site is not None else pd.Series({None: int(fill.sum())}))
        for where, n in groups.items():
            at = f" at site {where!r}" if where is not None else ""
            rec.correct_column(
                source, f"{source} ({s_inst.lower:g}-{s_inst.upper:g} {s_inst.units}){at}",
                f"{target} ({t_inst.lower:g}-{t_inst.upper:g} {t_inst.units})",
                f"pooled as {target} (pool_as in the mapping): x{factor:g}", int(n))
        entry = info.setdefault(target, {"covariate": column, "sources": {}})
        entry["sources"][source] = {"rows": int(fill.sum()), "factor": factor,
                                    "label": s_inst.label, "target_label": t_inst.label}
    return info


def patient_instruments(assessments: pd.DataFrame, patients: pd.DataFrame,
                        pooled: Mapping[str, dict]) -> pd.DataFrame:
    """``patients`` with a ``<target>_instrument`` column per pooled ``target``.

    A patient with any value pooled from another instrument is on that instrument's
    level (the last such source, in the mapping's order, when several); everyone else on
    the target's. The target is the first category (the reference level of the
    models). Vectorised over patients.
    """
    out = patients
    for target, entry in pooled.items():
        column = entry["covariate"]
        if column not in assessments:
            continue
        levels = [target, *entry["sources"]]
        codes = pd.Categorical(assessments[column], categories=levels).codes
        per_patient = pd.Series(codes, index=assessments["patient_id"].to_numpy()) \
            .groupby(level=0).max()
        got = out["patient_id"].map(per_patient).fillna(0).astype(int).clip(lower=0)
        if out is patients:
            out = patients.copy()
        out[column] = pd.Categorical.from_codes(got.to_numpy(), categories=levels)
    return out
