"""Resume: only jobs with the same fingerprint and whole outputs are skipped."""

from __future__ import annotations

from pathlib import Path

import pytest

from audit import batch
from audit.batch import jobs as batch_jobs
from audit.exceptions import BatchError
from audit.manifest import FileRecord, write_json
from fixtures.batch_builder import (
    options,
)
from fixtures.batch_builder import plan_jobs as _plan


def _record(run_dir: Path, job: batch.Job, text: str = "{}") -> None:
    path = run_dir / job.unit / f"{job.area}.ipynb"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    result = batch.JobResult(
        job.key, "ok", outputs=(FileRecord.of(path, run_dir),), fingerprint=job.fingerprint
    )
    write_json(batch_jobs.record_path(run_dir, job.key), result.to_json())


def test_resume_skips_only_jobs_with_the_same_fingerprint_and_whole_outputs(tmp_path):
    jobs = _plan(tmp_path)
    run_dir = jobs[0].run_dir
    contracts, staffing, relief = jobs[:3]
    _record(run_dir, contracts)
    _record(run_dir, staffing)
    (run_dir / "540102" / "staffing.ipynb").write_text("{ }", encoding="utf-8")  # changed after
    _record(run_dir, relief)
    stale = batch.JobResult(jobs[4].key, "ok", fingerprint="older")
    write_json(batch_jobs.record_path(run_dir, jobs[4].key), stale.to_json())
    done = batch.resumable(jobs, run_dir)
    assert sorted(done) == ["540102/contracts", "540102/relief"]
    assert all(r.resumed for r in done.values())


def test_a_report_reruns_when_a_notebook_it_needs_reruns(tmp_path):
    jobs = _plan(tmp_path)
    run_dir = jobs[0].run_dir
    for job in jobs[:4]:
        _record(run_dir, job)
    (run_dir / "540102" / "relief.ipynb").unlink()
    assert sorted(batch.resumable(jobs, run_dir)) == ["540102/contracts", "540102/staffing"]


def test_an_existing_run_needs_resume_and_resume_needs_a_run(tmp_path):
    opts = options(tmp_path)
    (tmp_path / "out" / "test").mkdir(parents=True)
    (tmp_path / "out" / "test" / "manifest.json").write_text("{}", encoding="utf-8")
    with pytest.raises(BatchError, match="pass --resume"):
        batch.run_batch(opts, counties=["540102"])
    with pytest.raises(BatchError, match="no run folder to resume"):
        batch.run_batch(options(tmp_path, run_id="other", resume=True), counties=["540102"])
    with pytest.raises(BatchError, match="no unfinished run to resume"):
        batch.run_batch(options(tmp_path, run_id=None, resume=True), counties=["540102"])


def test_resume_without_a_run_id_finds_the_one_unfinished_run(tmp_path):
    out = tmp_path / "out"
    with pytest.raises(BatchError, match="no unfinished run to resume"):
        batch.run_to_resume(out)
    (out / "finished" / batch.STATE / "jobs").mkdir(parents=True)
    (out / "finished" / "manifest.json").write_text("{}", encoding="utf-8")
    (out / "notes").mkdir()  # not a run folder
    with pytest.raises(BatchError, match="no unfinished run to resume"):
        batch.run_to_resume(out)
    (out / "killed" / batch.STATE / "jobs").mkdir(parents=True)
    assert batch.unfinished_runs(out) == ["killed"]
    assert batch.run_to_resume(out) == "killed"
    (out / "20200507T080000Z-1a2b3c4d" / batch.STATE).mkdir(parents=True)
    with pytest.raises(
        BatchError, match="2 unfinished runs: 20200507T080000Z-1a2b3c4d, killed; add --run-id"
    ) as e:
        batch.run_to_resume(out)
    assert e.value.exit_code == 2
