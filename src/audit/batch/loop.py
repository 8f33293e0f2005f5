"""The loop: hand jobs to an executor as their inputs become ready, in a useful order."""

from __future__ import annotations

import heapq
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

from audit.batch import executors
from audit.batch.jobs import ROLLUP, Job, JobResult, failure_reason
from audit.batch.worker import run_job
from audit.exceptions import WorkerLost
from audit.progress import Progress, Tally

MAX_ATTEMPTS = 3  # a job whose worker process died is tried again, at most this often


def _rank(job: Job) -> int:
    if job.kind == "rules":
        return 0  # every notebook of the unit, and the roll-up, waits for it
    return 1 if job.kind == "report" else 2 if job.unit == ROLLUP else 3


class _Board:
    """Job states while the batch runs, kept incrementally (a city of 2,850 counties has 11,400 jobs)."""

    def __init__(self, jobs: list[Job], counties: list[str], done: Mapping[str, JobResult]) -> None:
        self.jobs = {j.key: j for j in jobs}
        # rule runs first (notebooks wait for them), reports next (they finish a county), then the
        # roll-up notebook (the longest job: starting it last would leave the other workers idle at
        # the end), then plan order
        self.order = {j.key: (_rank(j), i) for i, j in enumerate(jobs)}
        self.counties = set(counties)
        self.results: dict[str, JobResult] = {}
        self.unmet = {j.key: len(j.needs) + len(j.after) for j in jobs}
        self.dependents: dict[str, list[str]] = {}  # need -> jobs that cannot run without it
        self.followers: dict[str, list[str]] = {}  # job -> jobs that only wait for it
        for job in jobs:
            for need in job.needs:
                self.dependents.setdefault(need, []).append(job.key)
            for first in job.after:
                self.followers.setdefault(first, []).append(job.key)
        self.left = {}  # unit -> jobs not yet finished
        for job in jobs:
            self.left[job.unit] = self.left.get(job.unit, 0) + 1
        self.failed_units: set[str] = set()
        self.counties_done = 0
        self.skipped = 0
        self._ready = [self.order[j.key] + (j.key,) for j in jobs if not j.needs and not j.after]
        heapq.heapify(self._ready)
        for key in (j.key for j in jobs if j.key in done):  # plan order: needs come first
            self.record(replace(done[key], resumed=True))

    def record(self, result: JobResult) -> list[JobResult]:
        """Store a result; return the jobs it blocks (when it failed), already recorded too."""
        job = self.jobs[result.key]
        self.results[job.key] = result
        self.left[job.unit] -= 1
        self.skipped += result.resumed
        if result.status != "ok":
            self.failed_units.add(job.unit)
        elif self.left[job.unit] == 0 and job.unit in self.counties and job.unit not in self.failed_units:
            self.counties_done += 1
        blocked = []
        for key in self.followers.get(job.key, []):
            self._met(key)
        for key in self.dependents.get(job.key, []):
            if result.status == "ok":
                self._met(key)
            elif key not in self.results:
                bad = JobResult(
                    key, "blocked", f"{job.key} {result.status}", fingerprint=self.jobs[key].fingerprint
                )
                blocked += [bad, *self.record(bad)]
        return blocked

    def _met(self, key: str) -> None:
        self.unmet[key] -= 1
        if self.unmet[key] == 0:
            heapq.heappush(self._ready, self.order[key] + (key,))

    def requeue(self, key: str) -> None:
        """Make a job whose worker died ready again."""
        heapq.heappush(self._ready, self.order[key] + (key,))

    def take(self, running: set[str]) -> Job | None:
        """The next job ready to run, or None."""
        while self._ready:
            key = heapq.heappop(self._ready)[-1]
            if key not in self.results and key not in running:
                return self.jobs[key]
        return None

    def tally(self) -> Tally:
        return Tally(
            counties_total=len(self.counties),
            counties_done=self.counties_done,
            counties_failed=len(self.failed_units & self.counties),
            jobs_total=len(self.jobs),
            jobs_finished=len(self.results),
            jobs_skipped=self.skipped,
        )


def _line(job: Job, result: JobResult) -> str:
    what = f"{job.unit} {job.area}"
    if result.status == "ok":
        return f"{what} ok in {result.seconds:.1f} s"
    return f"{what} {result.status}: {result.reason}"


def execute_jobs(
    jobs: list[Job],
    done: Mapping[str, JobResult],
    counties: list[str],
    executor: executors.Executor,
    progress: Progress,
    job_fn: Callable[[Job], JobResult] = run_job,
    refused: Mapping[str, JobResult] | None = None,
) -> dict[str, JobResult]:
    """Run every job not already done, each as soon as the jobs it needs have succeeded.

    ``refused`` jobs are not run: their (failed) results are recorded first, as if they had run.
    """
    board = _Board(jobs, counties, done)
    progress.start(board.tally())
    running: dict[Any, Job] = {}
    attempts: dict[str, int] = {}

    def finish(job: Job, result: JobResult) -> None:
        blocked = board.record(result)
        progress.advance(_line(job, result), board.tally(), ok=result.status == "ok")
        for other in blocked:
            progress.advance(_line(board.jobs[other.key], other), board.tally(), ok=False)

    for key, result in (refused or {}).items():
        if key not in board.results:
            finish(board.jobs[key], result)
    while True:
        while len(running) < executor.workers:
            job = board.take({j.key for j in running.values()})
            if job is None:
                break
            attempts[job.key] = attempts.get(job.key, 0) + 1
            running[executor.submit(job_fn, job, key=job.key)] = job
        if not running:
            break
        for future in executor.wait_any(running):
            job = running.pop(future)
            try:
                finish(job, executor.result(future))
            except WorkerLost as exc:
                if attempts[job.key] >= MAX_ATTEMPTS:
                    finish(job, JobResult(job.key, "failed", str(exc), fingerprint=job.fingerprint))
                else:  # ready again: submitted on the next turn
                    board.requeue(job.key)
            except Exception as exc:  # the job function itself broke (disk full, say): that job fails
                finish(job, JobResult(job.key, "failed", failure_reason(exc), fingerprint=job.fingerprint))
    progress.close(board.tally())
    return board.results
