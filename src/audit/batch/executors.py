"""Where batch jobs run: a registry of executors, a local process pool or a Dask cluster.

An executor takes a picklable function and its arguments and hands back futures; the batch
loop waits for the first to finish and asks for its result. Both kinds run one job per
process at a time, because papermill changes the process's working directory.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import multiprocessing
import os
import signal
import sys
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Any, Protocol

from audit.exceptions import ParameterError, WorkerLost

# modules every job needs: imported once per worker process, not once per job
WARM_MODULES = (
    "audit.notebook_runs",
    "nbformat",
    "nbclient",
    "papermill",
    "nbconvert",
    "jupyter_client",
    "jinja2",
    "audit.batch.worker",
)


class Executor(Protocol):
    """What the batch loop needs from a place to run jobs."""

    name: str

    @property
    def workers(self) -> int:
        """How many jobs run at the same time."""

    def submit(self, fn: Callable[..., Any], *args: Any, key: str) -> Any:
        """Start ``fn(*args)`` and return its future."""

    def wait_any(self, futures: Iterable[Any]) -> set[Any]:
        """Block until at least one future is finished; return the finished ones."""

    def result(self, future: Any) -> Any:
        """The value of a finished future; raise WorkerLost when its process died."""

    def describe(self) -> dict[str, Any]:
        """What the manifest records about where the jobs ran."""

    def close(self) -> None:
        """Stop the workers this executor started."""


EXECUTORS: dict[str, Callable[..., Executor]] = {}


def register(name: str) -> Callable[[Callable[..., Executor]], Callable[..., Executor]]:
    """Add an executor factory to the registry under ``name``."""

    def add(factory: Callable[..., Executor]) -> Callable[..., Executor]:
        if name in EXECUTORS:
            raise ValueError(f"executor {name!r} is registered twice")
        EXECUTORS[name] = factory
        return factory

    return add


def cores() -> int:
    """Cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def default_workers() -> int:
    """Workers for a batch on this machine: one and a half per core.

    A notebook job waits part of its time (its kernel starting and answering), so a third
    worker per two cores keeps them busy: measured on 2 cores, 3 workers ran the demo batch
    in a fifth less time than 2.
    """
    return max(2, round(1.5 * cores()))


def executor_for(name: str, *, jobs: int, scheduler: str | None = None) -> Executor:
    """Start the executor called ``name`` with ``jobs`` workers (or connect to ``scheduler``)."""
    try:
        factory = EXECUTORS[name]
    except KeyError:
        raise ParameterError(f"unknown executor {name!r}; choose one of {', '.join(EXECUTORS)}") from None
    if jobs < 1:
        raise ParameterError(f"--jobs must be at least 1, not {jobs}")
    if scheduler and name != "dask":
        raise ParameterError("--scheduler needs --executor dask")
    return factory(jobs=jobs, scheduler=scheduler)


_PARENT: list[int] = []  # the batch process that started this worker, once known


def orphaned() -> bool:
    """Whether the batch process that started this worker has died."""
    return bool(_PARENT) and os.getppid() != _PARENT[0]


def warm_worker(parent_pid: int | None = None) -> None:
    """Prepare a worker process: die with its parent, and import the notebook stack once."""
    if parent_pid is not None:
        _PARENT[:] = [parent_pid]
        _die_with_parent(parent_pid)
    for module in WARM_MODULES:
        __import__(module)


def _die_with_parent(parent_pid: int) -> None:
    # A SIGKILLed batch must not leave workers that go on writing into the run folder.
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            libc = ctypes.CDLL(None, use_errno=True)
            pr_set_pdeathsig = 1
            libc.prctl(pr_set_pdeathsig, signal.SIGKILL)
    if os.getppid() != parent_pid:  # the parent died before prctl took effect
        os._exit(1)


@register("local")
class LocalExecutor:
    """A pool of worker processes on this machine, reused from job to job."""

    name = "local"

    def __init__(self, *, jobs: int, scheduler: str | None = None) -> None:
        self._jobs = jobs
        # fork shares the parent's imports; each worker then imports the notebook stack once
        method = "fork" if sys.platform.startswith("linux") else "spawn"
        self._context = multiprocessing.get_context(method)
        self._closed = False
        self._pool = self._start()

    def _start(self) -> ProcessPoolExecutor:
        pool = ProcessPoolExecutor(
            max_workers=self._jobs,
            mp_context=self._context,
            initializer=warm_worker,
            initargs=(os.getpid(),),
            max_tasks_per_child=None,
        )
        pool.submit(int)  # start the workers now: their imports overlap whatever the batch does next
        return pool

    @property
    def workers(self) -> int:
        """How many jobs run at the same time."""
        return self._jobs

    def submit(self, fn: Callable[..., Any], *args: Any, key: str) -> Future:
        """Start ``fn(*args)`` in a worker process; a pool broken by a dead worker is replaced."""
        try:
            return self._pool.submit(fn, *args)
        except BrokenProcessPool:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = self._start()
            return self._pool.submit(fn, *args)

    def wait_any(self, futures: Iterable[Future]) -> set[Future]:
        """Block until at least one future is finished."""
        done, _ = wait(list(futures), return_when=FIRST_COMPLETED)
        return set(done)

    def result(self, future: Future) -> Any:
        """The value of a finished future; WorkerLost when its worker process died."""
        try:
            return future.result()
        except BrokenProcessPool as exc:
            raise WorkerLost(f"worker process died: {exc}") from exc

    def describe(self) -> dict[str, Any]:
        """Executor name, worker count and start method."""
        return {"name": self.name, "workers": self._jobs, "start_method": self._context.get_start_method()}

    def close(self) -> None:
        """Stop the worker processes (jobs still queued are cancelled); closing twice is harmless."""
        if not self._closed:
            self._closed = True
            self._pool.shutdown(wait=True, cancel_futures=True)


@register("dask")
class DaskExecutor:
    """Workers of a Dask distributed scheduler, or of a LocalCluster started for this batch."""

    name = "dask"

    def __init__(self, *, jobs: int, scheduler: str | None = None) -> None:
        # optional: Dask comes with the dask extra
        from distributed import Client, LocalCluster

        self._scheduler = scheduler
        self._cluster = None
        self._closed = False
        if scheduler:
            self._client = Client(scheduler)
        else:
            # one thread per worker: papermill's working-directory change is process-wide
            self._cluster = LocalCluster(
                n_workers=jobs,
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
                silence_logs=logging.ERROR,
            )
            self._client = Client(self._cluster)
        self._client.run(warm_worker)
        self._workers = max(1, sum(self._client.nthreads().values()))

    @property
    def workers(self) -> int:
        """Threads across the cluster's workers when it was joined (one job each)."""
        return self._workers

    def submit(self, fn: Callable[..., Any], *args: Any, key: str) -> Any:
        """Send ``fn(*args)`` to the scheduler under a unique task key."""
        # pure=False: a resumed job with the same arguments must run again, not hit a cache
        return self._client.submit(fn, *args, key=f"audit-{key}-{os.urandom(4).hex()}", pure=False)

    def wait_any(self, futures: Iterable[Any]) -> set[Any]:
        """Block until at least one future is finished."""
        # optional: Dask comes with the dask extra
        from distributed import wait as dask_wait

        done, _ = dask_wait(list(futures), return_when="FIRST_COMPLETED")
        return set(done)

    def result(self, future: Any) -> Any:
        """The value of a finished future; WorkerLost when the scheduler gave up on its worker."""
        # optional: Dask comes with the dask extra
        from distributed.scheduler import KilledWorker

        try:
            return future.result()
        except KilledWorker as exc:
            raise WorkerLost(f"dask worker died: {exc}") from exc

    def describe(self) -> dict[str, Any]:
        """Executor name, scheduler address and worker count."""
        return {
            "name": self.name,
            "workers": self.workers,
            "scheduler": self._scheduler or "LocalCluster",
        }

    def close(self) -> None:
        """Disconnect; stop the LocalCluster if this executor started it. Closing twice is harmless."""
        if self._closed:
            return
        self._closed = True
        self._client.close()
        if self._cluster is not None:
            self._cluster.close()
