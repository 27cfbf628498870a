"""The option lists of the survival engines, in one light module (no numpy, no scipy).

The engines (:mod:`.kaplan_meier`, :mod:`.aft`), the analyses built on them and the
configuration (:mod:`dryneedle_outcomes.config`, which must not import scipy) all read
the allowed values from here.

Examples
--------
>>> from dryneedle_outcomes.stats.survival.options import CONF_TYPES
>>> CONF_TYPES[0]
'log-log'
"""

from __future__ import annotations

#: Confidence-interval transforms of the Kaplan-Meier curve (R's ``survfit(conf.type=)``).
CONF_TYPES = ("log-log", "log", "plain")
#: Parametric AFT distributions (R's ``survreg(dist=)``).
DISTRIBUTIONS = ("weibull", "loglogistic", "lognormal", "exponential")
#: Rank scores of the interval-censored log-rank tests (R's ``interval::ictest(scores=)``).
IC_SCORES = ("logrank2", "logrank1", "wmw")
#: Their inference methods (``ictest(method=)``): permutation CLT or score test.
IC_METHODS = ("pclt", "scoretest")
