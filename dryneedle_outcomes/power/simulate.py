"""Simulated trials of a :class:`~.design.TrialDesign`, one random stream per trial.

One job: draw the outcomes (baseline and every visit) and the dropout of all patients of
a batch of trials. Each trial has its own generator, made from its own child of one
``numpy.random.SeedSequence(seed)`` (``spawn(n_trials)``), so a trial's data do not depend
on which batch or worker draws it: the same seed gives the same trials for any
``n_jobs``.

Common random numbers across sample sizes: a trial is drawn once at the largest size
(``n_max`` control and ``n_treated(n_max)`` treated patients) and a smaller trial is its
first ``n`` control and first ``n_treated(n)`` treated patients, so the power estimates
at different ``n`` share their randomness and differ by the sample size, not by noise.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .design import TrialDesign


@dataclass(frozen=True)
class TrialBatch:
    """Outcomes of a batch of simulated trials drawn at the largest sample size.

    Attributes
    ----------
    y : ndarray, shape (B, N, T + 1)
        Baseline (column 0) and the visits, for ``N = n_control + n_treated`` patients,
        control patients first.
    observed : ndarray of bool, shape (B, N, T)
        Whether each post-baseline visit was observed (monotone dropout).
    n_control, n_treated : int
        Patients drawn per arm.
    """

    y: np.ndarray
    observed: np.ndarray
    n_control: int
    n_treated: int

    def subset(self, n_control: int, n_treated: int):
        """The first ``n_control`` control and ``n_treated`` treated patients of every
        trial: outcomes, observed mask and the arm indicator (1 = treated)."""
        idx = np.r_[np.arange(n_control), self.n_control + np.arange(n_treated)]
        arm = np.r_[np.zeros(n_control), np.ones(n_treated)]
        return self.y[:, idx], self.observed[:, idx], arm


def draw_trials(design: TrialDesign, seeds, n_control: int, n_treated: int) -> TrialBatch:
    """Draw the trials whose ``SeedSequence`` children are ``seeds``.

    Per trial and arm: standard normals ``(n, T + 1)`` and one uniform per patient, each
    from its own generator (the trial's ``SeedSequence`` with the arm and the stream
    appended to its spawn key), so the first ``n`` patients of an arm are the same
    whatever the number drawn (common random numbers across calls); then, for all trials
    at once, the outcomes ``mu + Z L'`` (``L`` the Cholesky factor of the design's
    covariance) and the dropout: under MCAR a patient is observed at visit ``t`` when
    their uniform is at least the cumulative dropout by ``t``; under MAR and MNAR each visit has
    its own uniform (a third stream), compared with the patient's probability of leaving
    given their last value (MAR) or their value at the visit (MNAR)
    (``TrialDesign.selective_dropout``). Monotone either way.

    Examples
    --------
    >>> import numpy as np
    >>> from dryneedle_outcomes.power.design import TrialDesign
    >>> d = TrialDesign(visits=[1, 2], effect=1.0, rho=0.5, dropout=0.2)
    >>> b = draw_trials(d, np.random.SeedSequence(1).spawn(3), 5, 5)
    >>> b.y.shape, b.observed.shape
    ((3, 10, 3), (3, 10, 2))
    >>> bool(np.all(b.observed[:, :, 1] <= b.observed[:, :, 0]))  # monotone
    True
    """
    T1 = design.n_visits + 1
    N = n_control + n_treated
    selective = design.mechanism != "mcar"  # MAR or MNAR: a uniform per visit
    Z = np.empty((len(seeds), N, T1))
    U = np.empty((len(seeds), N, T1 - 1) if selective else (len(seeds), N))
    for k, s in enumerate(seeds):  # one generator per trial and arm, not per row
        for j, (rows, n) in enumerate(((slice(0, n_control), n_control),
                                        (slice(n_control, N), n_treated))):
            def stream(i, j=j, s=s):
                return np.random.Generator(np.random.PCG64(
                    np.random.SeedSequence(s.entropy, spawn_key=(*s.spawn_key, j, i))))
            Z[k, rows] = stream(0).standard_normal((n, T1))
            U[k, rows] = stream(2).random((n, T1 - 1)) if selective else stream(1).random(n)
    L = np.linalg.cholesky(design.covariance)
    mu = np.vstack([np.tile(design.means(False), (n_control, 1)),
                    np.tile(design.means(True), (n_treated, 1))])
    y = mu[None] + Z @ L.T
    observed = (design.selective_dropout(y, U) if selective
                else U[:, :, None] >= design.dropout[None, None, :])
    return TrialBatch(y=y, observed=observed, n_control=n_control, n_treated=n_treated)


__all__ = ["TrialBatch", "draw_trials"]
