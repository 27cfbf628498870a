"""Survival engines: arrays in, results out; no cohort, no dry-needling vocabulary.

Kaplan-Meier (:mod:`.kaplan_meier`, R's ``survfit``), log-rank (:mod:`.logrank`,
``survdiff``), Cox (:mod:`.cox`, ``coxph`` and ``cox.zph``), Turnbull NPMLE
(:mod:`.turnbull`, ``survfit`` on ``Surv(type = "interval2")``), interval-censored
parametric AFT models (:mod:`.aft`, ``survreg``), the semi-parametric interval-censored
PH model (:mod:`.ic_ph`, icenReg's ``ic_sp``; checked against ``glm`` with a cloglog link
on grouped data) and the generalised log-rank tests for interval-censored data
(:mod:`.interval_test`, ``interval::ictest``). Their golden values are in
``tests/reference/survival_*/`` with the R scripts that made them. The domain
analyses (:mod:`dryneedle_outcomes.survival`) build on these and never the other way
round.
"""
