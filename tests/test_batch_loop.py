"""The batch loop: scheduling order, fault isolation, retries, and a country's worth of jobs."""

from __future__ import annotations

import io
from pathlib import Path

from audit import batch
from audit.progress import LogProgress
from fixtures.batch_builder import (
    InlineExecutor,
)
from fixtures.batch_builder import Sink as _Sink
from fixtures.batch_builder import ok as _ok
from fixtures.batch_builder import plan_jobs as _plan


def test_a_failure_blocks_only_its_countys_report(tmp_path):
    jobs = _plan(tmp_path)

    def fail_relief(job):
        if job.key == "540103/relief":
            return batch.JobResult(job.key, "failed", "relief.ipynb: cell 2 raised KeyError")
        return _ok(job)

    stream = io.StringIO()
    results = batch.execute_jobs(
        jobs, {}, ["540102", "540103"], InlineExecutor(), LogProgress(stream), fail_relief
    )
    statuses = {k: r.status for k, r in results.items()}
    assert statuses == {j.key: "ok" for j in jobs} | {"540103/relief": "failed", "540103/report": "blocked"}
    assert results["540103/report"].reason == "540103/relief failed"
    assert "counties 1 done, 1 failed, 0 remaining" in stream.getvalue().splitlines()[-1]


def test_a_ready_report_goes_before_more_area_notebooks(tmp_path):
    jobs = _plan(tmp_path)
    executor = InlineExecutor()
    batch.execute_jobs(jobs, {}, ["540102", "540103"], executor, LogProgress(_Sink()), _ok)
    assert executor.submitted.index("540102/report") < executor.submitted.index("540103/relief")


def test_a_job_whose_worker_dies_is_tried_again(tmp_path):
    jobs = _plan(tmp_path)
    executor = InlineExecutor(lost={"540102/staffing": 2, "540103/staffing": 3})
    results = batch.execute_jobs(jobs, {}, ["540102", "540103"], executor, LogProgress(_Sink()), _ok)
    assert results["540102/staffing"].status == "ok"  # third attempt
    assert results["540103/staffing"].status == "failed"
    assert "worker process died" in results["540103/staffing"].reason
    assert executor.submitted.count("540103/staffing") == batch.MAX_ATTEMPTS


def test_a_broken_job_function_fails_its_job_not_the_batch(tmp_path):
    jobs = _plan(tmp_path)

    def disk_full(job):
        if job.key == "540102/contracts":
            raise OSError(28, "No space left on device")
        return _ok(job)

    results = batch.execute_jobs(
        jobs, {}, ["540102", "540103"], InlineExecutor(), LogProgress(_Sink()), disk_full
    )
    assert results["540102/contracts"].status == "failed"
    assert "No space left on device" in results["540102/contracts"].reason
    assert results["540103/report"].status == "ok"


def test_the_scheduler_takes_a_countrys_worth_of_jobs():
    # 2,850 county-level units: 14,251 jobs, scheduled in well under a second (no quadratic scans)
    counties = [f"{i:06d}" for i in range(2850)]
    jobs = []
    for county in counties:
        areas = [batch.Job(f"{county}/{a}", "notebook", county, a, Path("/x"), "f") for a in ("c", "s", "f")]
        needs = tuple(j.key for j in areas)
        jobs += [
            *areas,
            batch.Job(f"{county}/report", "report", county, "report", Path("/x"), "f", needs=needs),
        ]
    rule_runs = tuple(f"{county}/rules" for county in counties)
    jobs += [batch.Job(key, "rules", key[:6], "rules", Path("/x"), "f") for key in rule_runs]
    jobs += [batch.Job("city/city", "notebook", "city", "city", Path("/x"), "f", after=rule_runs)]
    stream = io.StringIO()
    results = batch.execute_jobs(jobs, {}, counties, InlineExecutor(), LogProgress(stream), _ok)
    assert len(results) == 14251 and all(r.status == "ok" for r in results.values())
    finished = list(results)
    assert finished.index("city/city") > max(finished.index(k) for k in rule_runs)  # it waited for them
    assert stream.getvalue().splitlines()[-1].endswith("counties 2850 done, 0 failed, 0 remaining")
