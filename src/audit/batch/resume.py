"""Resume: which jobs an earlier attempt of the run finished, and forgetting the others."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

from audit.batch.jobs import Job, JobResult, record_path


def read_record(run_dir: Path, key: str) -> JobResult | None:
    """The job's record from an earlier run, if there is a readable one."""
    try:
        return JobResult.from_json(json.loads(record_path(run_dir, key).read_text(encoding="utf-8")))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def resumable(jobs: list[Job], run_dir: Path) -> dict[str, JobResult]:
    """Jobs an earlier run finished with the same fingerprint and whole outputs, and their records."""
    done: dict[str, JobResult] = {}
    for job in jobs:  # plan order puts every job after the jobs it needs
        record = read_record(run_dir, job.key)
        if (
            record is not None
            and record.status == "ok"
            and record.fingerprint == job.fingerprint
            and all(dep in done for dep in (*job.needs, *job.after))
            and all(output.matches(run_dir) for output in record.outputs)
        ):
            done[job.key] = replace(record, resumed=True)
    return done


def forget(run_dir: Path, key: str) -> None:
    """Delete an earlier attempt's record and outputs, so nothing stale looks finished."""
    record = read_record(run_dir, key)
    if record is not None:
        for output in record.outputs:
            (run_dir / output.path).unlink(missing_ok=True)
    record_path(run_dir, key).unlink(missing_ok=True)
