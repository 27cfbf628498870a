"""simulate_power / sample_size with ``client=`` on a 2-worker Dask LocalCluster.

The reference is the same call with ``n_jobs=1`` on this machine: every trial draws from
its own child of one SeedSequence and the batches are gathered in order, so the tables
must be equal exactly (no tolerance: the same arithmetic on the same numbers; one
thread per fit on both sides, see ``power.run``).
"""

from __future__ import annotations

import pytest

import dryneedle_outcomes as dno
from dryneedle_outcomes.errors import AnalysisError

distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def client():
    # worker processes, as on a real cluster (each task pickled to another interpreter);
    # the context managers close client and cluster cleanly at the end of the module
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster) as c:
        yield c


ANCOVA = dict(n_per_arm=[10, 20], n_trials=1200, seed=11, analysis="ancova",
              visits=[2, 4], effect=0.6, rho=0.5, dropout=0.2)
MMRM = dict(n_per_arm=12, n_trials=20, seed=5, analysis="mmrm", visits=[1, 2, 3],
            effect=0.5, correlation="ar1", rho=0.5, dropout=0.2)

RESPONDERS = dict(n_per_arm=[20, 40], n_trials=1200, seed=4, analysis="responders",
                  definition=dno.Relief(mcid=12), test="chisq", visits=[2, 4, 6],
                  effect=-10.0, sd=20.0, rho=0.5, baseline_mean=60.0, dropout=0.2)
# a user-registered instrument: its definition travels to the workers as plain data
RELIEF = dict(n_per_arm=25, n_trials=120, seed=6, analysis="time_to_relief",
              visits=[1, 2, 3, 4], effect=-10.0, sd=20.0, rho=0.5, baseline_mean=60.0,
              dropout=0.2, instrument="sim_pain")


@pytest.mark.parametrize("kw", [ANCOVA, MMRM, RESPONDERS, RELIEF],
                         ids=["ancova", "mmrm", "responders", "time_to_relief"])
def test_client_equals_local_run(client, kw):
    # ancova: 3 batches of 500/500/200 trials; mmrm: 2 batches of 10 trials;
    # responders 500/500/200; time to relief 50/50/20
    dno.register_instrument("sim_pain", label="simulated pain", lower=-1000, upper=1000,
                            units="points", higher_is_better=False, mcid=12.0,
                            mcid_source="test")
    local = dno.simulate_power(n_jobs=1, **kw)
    remote = dno.simulate_power(client=client, **kw)
    assert local.table.equals(remote.table)
    assert local.trials.equals(remote.trials)


def test_client_equality_can_fail(client):
    # the comparison above is not vacuous: another seed on the cluster differs
    local = dno.simulate_power(n_jobs=1, **ANCOVA)
    other = dno.simulate_power(client=client, **{**ANCOVA, "seed": 12})
    assert not local.trials["estimate"].equals(other.trials["estimate"])


def test_sample_size_with_client_equals_local(client):
    kw = dict(n_range=(5, 60), n_trials=600, seed=3, analysis="ancova", visits=[6],
              effect=0.8, sd=1.0, rho=0.3)
    local = dno.sample_size(0.8, **kw)
    remote = dno.sample_size(0.8, client=client, **kw)
    assert remote.n_required == local.n_required
    assert remote.n_plausible == local.n_plausible
    assert local.table.equals(remote.table)


@pytest.mark.parametrize("bad", ["tcp://scheduler:8786", object()])
def test_not_a_client(bad):
    with pytest.raises(AnalysisError, match="must be a dask.distributed.Client"):
        dno.simulate_power(n_per_arm=10, n_trials=5, seed=1, analysis="ancova",
                           visits=[1], effect=1.0, rho=0.5, client=bad)


def test_client_and_n_jobs_conflict(client):
    with pytest.raises(AnalysisError, match="not both"):
        dno.simulate_power(n_per_arm=10, n_trials=5, seed=1, analysis="ancova",
                           visits=[1], effect=1.0, rho=0.5, client=client, n_jobs=2)


def test_progress_on_the_cluster_counts_trials_and_keeps_the_numbers(client, capsys):
    # the bar counts tasks as they finish (distributed.as_completed), the results are
    # still gathered in trial order
    local = dno.simulate_power(n_jobs=1, **ANCOVA)
    capsys.readouterr()
    remote = dno.simulate_power(client=client, progress=True, **ANCOVA)
    assert "1200/1200" in capsys.readouterr().err
    assert local.trials.equals(remote.trials)
