"""The result of :func:`~dryneedle_outcomes.subgroup_analysis` and its heterogeneity table."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from ..instruments import get_instrument
from ..results import AnalysisResult, comparison_frame
from ..stats.meta import fixed_effect
from ..tables import TableResult, format_p

HETEROGENEITY_COLUMNS = ["subgroup", "arm", "k", "estimate", "std_error", "ci_lower",
                         "ci_upper", "Q", "Q_df", "Q_p_value", "I2"]


def heterogeneity_rows(estimates: pd.DataFrame, conf_level: float) -> pd.DataFrame:
    """A fixed-effect meta-analysis of each subgroup variable's level estimates (per arm):
    the pooled difference, Cochran's Q and I-squared (:func:`..stats.meta.fixed_effect`).

    Examples
    --------
    >>> est = pd.DataFrame({"subgroup": ["site", "site"], "level": ["A", "B"],
    ...                     "arm": ["dn", "dn"], "estimate": [1.0, 3.0],
    ...                     "std_error": [1.0, 1.0]})
    >>> heterogeneity_rows(est, 0.95)[["subgroup", "Q", "I2"]].values.tolist()
    [['site', 2.0, 0.5]]
    """
    rows = []
    levels = estimates[estimates["subgroup"] != "overall"]
    for (var, arm), part in levels.groupby(["subgroup", "arm"], sort=False):
        ok = part["std_error"].notna() & (part["std_error"] > 0)
        if ok.sum() < 2:
            continue
        res = fixed_effect(part.loc[ok, "estimate"], part.loc[ok, "std_error"] ** 2,
                           conf_level)
        rows.append({"subgroup": var, "arm": arm, **res})
    return pd.DataFrame(rows, columns=HETEROGENEITY_COLUMNS)


@dataclass(frozen=True)
class SubgroupResult(AnalysisResult):
    """The primary contrast by subgroup (:func:`~dryneedle_outcomes.subgroup_analysis`).

    Attributes
    ----------
    estimates : DataFrame
        ``subgroup`` (``"overall"`` first, then each variable), ``level``, ``arm``,
        ``reference``, ``n_arm``, ``n_reference`` (patients modelled), ``estimate`` (arm
        minus reference at ``visit``), ``std_error``, ``df``, ``ci_lower``, ``ci_upper``,
        ``p_value`` (within the level: descriptive).
    interaction : DataFrame
        ``subgroup``, ``scale`` (``"levels"``; ``"continuous"`` for the linear test of a
        continuous variable), ``visit``, ``levels``, ``num_df``, ``den_df``, ``statistic``
        (F), ``p_value``, ``df_method``.
    heterogeneity : DataFrame
        Per variable and arm: the fixed-effect pooled difference over its levels, ``Q``,
        ``Q_df``, ``Q_p_value``, ``I2`` (0-1).
    cuts : DataFrame
        ``subgroup``, ``cut``, ``rule`` (``"pre-specified"`` or ``"median"``) of each
        continuous variable split in two.
    clustering : DataFrame
        With ``cluster=``: the therapist variance component, ICC and the arm difference
        adjusted for it at ``visit`` (:mod:`.clustering`); else empty.
    primary : TrajectoryResult
        The primary analysis (the overall row).
    fits : dict
        The subgroup models (``SubgroupFit`` of
        ``dryneedle_outcomes.models.subgroup_fit``), by variable.
    """

    outcome: str
    visit: int
    conf_level: float
    reference_arm: str
    df_method: str
    covariance: str | None
    estimates: pd.DataFrame
    interaction: pd.DataFrame
    heterogeneity: pd.DataFrame
    cuts: pd.DataFrame
    notes: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    converged: bool = True
    primary: object = field(default=None, repr=False)
    fits: dict = field(default_factory=dict, repr=False)
    clustering: pd.DataFrame = field(default_factory=pd.DataFrame)

    @property
    def comparison(self) -> pd.DataFrame:
        """``estimates`` in the comparison schema (``subgroup``, ``level`` after it)."""
        return comparison_frame(self.estimates.assign(visit=self.visit),
                                measure="mean_difference")

    def interaction_p(self, subgroup: str, scale: str = "levels") -> float:
        """The interaction p-value of ``subgroup`` (NaN when it was not tested)."""
        row = self.interaction[(self.interaction["subgroup"] == subgroup)
                               & (self.interaction["scale"] == scale)]
        return float(row["p_value"].iloc[0]) if len(row) else float("nan")

    def methods_text(self) -> str:
        """One paragraph for the methods section."""
        subs = ", ".join(dict.fromkeys(self.interaction["subgroup"]))
        cuts = "; ".join(f"{r.subgroup} split at {r.cut:g} ({r.rule})"
                         for r in self.cuts.itertuples())
        dfname = ("Kenward-Roger" if self.df_method == "kenward_roger" else "Satterthwaite")
        text = (f"Pre-specified subgroup analyses ({subs}) of the difference at visit "
                f"{self.visit} refitted the primary MMRM with the arm x visit x subgroup "
                f"interaction, one model per subgroup variable; the interaction at visit "
                f"{self.visit} was tested with an F test ({dfname} df)")
        if cuts:
            text += f"; continuous variables were {cuts}"
            if (self.interaction["scale"] == "continuous").any():
                text += " and also tested on the continuous scale"
        return text + ". Subgroup results are presented as a forest plot with interaction " \
                      "p-values, not p-values within subgroups (Wang et al. 2007)."

    def tables(self) -> dict[str, TableResult]:
        """The estimates by level, the interaction tests and the heterogeneity summary."""
        level = f"{self.conf_level:.0%}"
        out = {"subgroups": TableResult(
            self.estimates, title=f"{self.outcome}: difference between arms at visit "
                                  f"{self.visit} by subgroup (arm minus {self.reference_arm},"
                                  f" {level} CI)",
            notes=self.notes, conf_level=self.conf_level, digits=2),
            "interaction": TableResult(
                self.interaction, title=f"{self.outcome}: arm x subgroup interaction at "
                                        f"visit {self.visit} (F tests)",
                notes=(self.methods_text(),), conf_level=self.conf_level, digits=3)}
        if len(self.heterogeneity):
            out["heterogeneity"] = TableResult(
                self.heterogeneity, title=f"{self.outcome}: heterogeneity of the difference "
                                          "across subgroup levels (fixed-effect)",
                notes=("I2 as a proportion (0-1); Q on k - 1 df; descriptive: the "
                       "interaction F test is the formal test.",),
                conf_level=self.conf_level, digits=3)
        if len(self.clustering):
            out["clustering"] = TableResult(
                self.clustering, title=f"{self.outcome}: therapist clustering at visit "
                                       f"{self.visit} (variance components, ICC)",
                notes=tuple(n for n in self.notes if n.startswith("Therapist clustering")),
                conf_level=self.conf_level, digits=3)
        return out

    def plot(self, ax=None, **kwargs):
        """Forest plot: overall, then each subgroup's levels, with CIs, patients per arm
        and the interaction p-value of each variable; returns the Axes
        (``dryneedle_outcomes.plots.subgroups.plot_subgroups``)."""
        from ..plots.subgroups import plot_subgroups

        return plot_subgroups(self, ax=ax, **kwargs)

    def sentence(self) -> str:
        """The interaction p-values in one sentence (for a report's results)."""
        parts = []
        for r in self.interaction.itertuples():
            scale = " (continuous)" if r.scale == "continuous" else ""
            p = format_p(r.p_value)
            p = f"p {p}" if p.startswith("<") else f"p = {p}" if p else "not estimable"
            parts.append(f"{r.subgroup}{scale} F({r.num_df}, {r.den_df:.1f}) = "
                         f"{r.statistic:.2f}, {p}")
        units = get_instrument(self.outcome).units
        o = self.estimates.iloc[0]
        return (f"Subgroups at visit {self.visit}: overall difference {o['estimate']:.1f} "
                f"{units} ({self.conf_level:.0%} CI {o['ci_lower']:.1f} to "
                f"{o['ci_upper']:.1f}); interaction tests: " + "; ".join(parts) + ".")


__all__ = ["HETEROGENEITY_COLUMNS", "SubgroupResult", "heterogeneity_rows"]
