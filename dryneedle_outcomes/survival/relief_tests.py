"""The tests of no difference between arms of a :class:`ReliefResult`, and how they read.

With ``interval_censored=True`` the generalised log-rank test for interval-censored data
(:func:`~dryneedle_outcomes.interval_test`, Fay & Shaw 2010) is the primary comparison
and the log-rank test of the right-censored view is labelled secondary; with
``interval_censored=False`` the log-rank test stays primary and the interval-censored
test is reported too. :class:`IntervalTestViews` is mixed into ``ReliefResult``, whose
fields ``interval_test_result`` (the k-sample test), ``interval_pairwise`` (each arm
against the reference), ``logrank_result``, ``interval_censored``, ``strata`` and
``reference_arm`` it reads.

Examples
--------
>>> import dryneedle_outcomes as dno
>>> cohort = dno.simulate_cohort(n_patients=84, seed=2014)
>>> res = dno.time_to_relief(cohort, n_boot=0, distributions=())
>>> res.tests[["test", "role"]].to_numpy().tolist()[0]
["interval-censored log-rank test (Finkelstein's scores, permutation CLT)", 'primary']
>>> res.comparison["measure"].tolist()
['score_z', 'hazard_ratio']
"""

from __future__ import annotations

import numpy as np
import pandas as pd

SCORE_NAMES = {"logrank1": "Sun's scores", "logrank2": "Finkelstein's scores",
               "wmw": "Wilcoxon-Mann-Whitney scores"}
METHOD_NAMES = {"pclt": "permutation CLT", "scoretest": "score test"}


class IntervalTestViews:
    """The interval-censored test's views of a ``ReliefResult`` (see the module)."""

    @property
    def interval_test(self):
        """The interval-censored generalised log-rank test (None with one arm or when not
        done; see ``warnings``)."""
        return self.interval_test_result

    @property
    def interval_test_label(self) -> str:
        """The interval-censored test in words ("" when it was not done)."""
        return "" if self.interval_test_result is None else self._interval_label()

    def _interval_label(self) -> str:
        it = self.interval_test_result
        scores, how = SCORE_NAMES[it.scores], METHOD_NAMES[it.method]
        strat = f", stratified by {self.strata}" if self.strata else ""
        return f"interval-censored log-rank test ({scores}, {how}{strat})"

    def _logrank_label(self) -> str:
        strat = f", stratified by {self.strata}" if self.strata else ""
        return f"log-rank test{strat}" + (", right-censored view (secondary)"
                                           if self._interval_primary() else "")

    def _interval_primary(self) -> bool:
        return self.interval_censored and self.interval_test_result is not None

    @property
    def tests(self) -> pd.DataFrame:
        """Tests of no difference between the arms, the primary first: ``test``, ``role``
        (primary / secondary), ``statistic`` (chi-square), ``df``, ``p_value``."""
        lr = self.logrank
        rows = [{"test": self._logrank_label(), "role": "primary", "statistic":
                 lr["statistic"], "df": lr["df"], "p_value": lr["p_value"]}]
        it = self.interval_test_result
        if it is not None:
            row = {"test": self._interval_label(), "role": "secondary",
                   "statistic": it.statistic, "df": it.df, "p_value": it.p_value}
            if self._interval_primary():
                rows[0]["role"], row["role"] = "secondary", "primary"
                rows.insert(0, row)
            else:
                rows.append(row)
        return pd.DataFrame(rows)

    def _interval_comparison(self) -> pd.DataFrame:
        """Each arm against the reference by the interval-censored test (comparison rows:
        ``measure`` ``score_z``, the standardised score; no CI)."""
        return pd.DataFrame([{
            "arm": a, "reference": self.reference_arm, "measure": "score_z",
            "estimate": t.z, "ci_lower": np.nan, "ci_upper": np.nan, "p_value": t.p_value,
            "model": self._interval_label(), "coef": np.nan, "std_error": np.nan}
            for a, t in self.interval_pairwise.items()])

    def _interval_methods(self) -> tuple[str, ...]:
        """The methods sentence of the interval-censored test (none when not done)."""
        it = self.interval_test_result
        if it is None:
            return ()
        scores = {"logrank1": "Sun's (1996) log-rank scores",
                  "logrank2": "Finkelstein's (1986) log-rank scores",
                  "wmw": "Wilcoxon-Mann-Whitney scores (Peto & Peto 1972; Fay 1996)"}
        how = {"pclt": "the permutation central limit theorem",
               "scoretest": "the asymptotic score test with the NPMLE-based information "
                            "(Fay 1999)"}
        role = "Primary comparison" if self._interval_primary() else "Also reported"
        return (f"{role}: the generalised log-rank test for interval-censored data (Fay & "
                f"Shaw 2010, J Stat Softw 36(2); R's interval::ictest) on each patient's "
                f"interval (lower, upper], with {scores[it.scores]} from the pooled Turnbull "
                f"NPMLE and {how[it.method]}"
                + (f", within strata of {self.strata}" if self.strata else "") + ".",)
