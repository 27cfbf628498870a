"""Time-to-event analyses: time to relief and post-needling soreness duration.

The engines they run (Kaplan-Meier, log-rank, Cox, Turnbull, parametric
interval-censored models) live in :mod:`dryneedle_outcomes.stats.survival` and work on
arrays; :func:`time_to_relief` and :func:`soreness_duration` build the events from a
:class:`~dryneedle_outcomes.Cohort` and run them.
"""
