"""Time-to-event analyses: time to relief and post-needling soreness duration.

Engines (Kaplan-Meier, log-rank, Cox, Turnbull, parametric interval-censored
models) work on arrays; :func:`time_to_relief` and :func:`soreness_duration` build
the events from a :class:`~dryneedle_outcomes.Cohort` and run them.
"""
