"""Time-to-event analyses: time to relief and post-needling soreness duration.

The engines they run (Kaplan-Meier, log-rank, Cox, Turnbull, parametric
interval-censored models) live in ``dryneedle_outcomes.stats.survival`` and work on
arrays; :func:`~dryneedle_outcomes.time_to_relief` and
:func:`~dryneedle_outcomes.soreness_duration` build the events from a
:class:`~dryneedle_outcomes.Cohort` and run them.
"""
