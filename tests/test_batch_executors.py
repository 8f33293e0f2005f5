"""The executor registry and the local process pool."""

from __future__ import annotations

import os
import sys

import pytest

from audit.batch import executors
from audit.exceptions import ParameterError, WorkerLost


def _pid(_: int) -> int:
    return os.getpid()


def _warm() -> bool:
    return "papermill" in sys.modules and "nbconvert" in sys.modules


def _die() -> None:
    os._exit(3)


def test_registry_has_local_and_dask():
    assert set(executors.EXECUTORS) == {"local", "dask"}


def test_registering_a_name_twice_fails():
    with pytest.raises(ValueError, match="registered twice"):
        executors.register("local")(executors.LocalExecutor)


def test_unknown_executor_names_the_known_ones():
    with pytest.raises(ParameterError, match="choose one of local, dask"):
        executors.executor_for("slurm", jobs=2)


def test_jobs_must_be_positive():
    with pytest.raises(ParameterError, match="at least 1"):
        executors.executor_for("local", jobs=0)


def test_scheduler_needs_dask():
    with pytest.raises(ParameterError, match="--executor dask"):
        executors.executor_for("local", jobs=1, scheduler="tcp://10.0.0.1:8786")


def test_local_pool_reuses_warm_worker_processes():
    executor = executors.executor_for("local", jobs=2)
    try:
        futures = [executor.submit(_pid, i, key=str(i)) for i in range(6)]
        pids = set()
        pending = set(futures)
        while pending:
            done = executor.wait_any(pending)
            pending -= done
            pids |= {executor.result(f) for f in done}
        warm = executor.result(executor.submit(_warm, key="warm"))
        assert executor.describe() == {"name": "local", "workers": 2, "start_method": "fork"}
    finally:
        executor.close()
    assert os.getpid() not in pids
    assert 1 <= len(pids) <= 2  # six jobs, at most two processes: imports happen once per worker
    assert warm is True


def test_a_dead_worker_is_reported_and_the_pool_replaced():
    executor = executors.executor_for("local", jobs=1)
    try:
        with pytest.raises(WorkerLost, match="worker process died"):
            executor.result(executor.submit(_die, key="die"))
        assert executor.result(executor.submit(_pid, 0, key="after")) != os.getpid()
    finally:
        executor.close()


def test_the_batch_process_is_not_an_orphan():
    assert executors.orphaned() is False


def test_a_batch_runs_one_and_a_half_workers_per_core(monkeypatch):
    monkeypatch.setattr(executors, "cores", lambda: 2)
    assert executors.default_workers() == 3
    monkeypatch.setattr(executors, "cores", lambda: 1)
    assert executors.default_workers() == 2  # a kernel's start-up leaves room for a second
    monkeypatch.setattr(executors, "cores", lambda: 32)
    assert executors.default_workers() == 48
