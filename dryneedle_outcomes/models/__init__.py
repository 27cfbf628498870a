"""The trajectory analysis: Cohort in, :class:`TrajectoryResult` out.

Its design (:mod:`.design`) and :func:`~.trajectory.fit_trajectory` build on the
mixed-model engines in :mod:`dryneedle_outcomes.stats.mixed`.
"""
