"""Resume: which run to finish, which jobs an earlier attempt of it finished, and forgetting the others."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

from audit.batch.jobs import STATE, Job, JobResult, record_path
from audit.exceptions import BatchError


def unfinished_runs(out: Path) -> list[str]:
    """Run folders in ``out`` that a batch started and did not finish (job state, no manifest), by name."""
    if not out.is_dir():
        return []
    return sorted(
        p.name
        for p in out.iterdir()
        if p.is_dir() and (p / STATE).is_dir() and not (p / "manifest.json").exists()
    )


def run_to_resume(out: Path) -> str:
    """The one unfinished run in ``out``; BatchError naming the candidates when there are several, or none."""
    found = unfinished_runs(out)
    if len(found) == 1:
        return found[0]
    if not found:
        raise BatchError(
            f"{out}: no unfinished run to resume (a run folder with job records and no manifest); "
            "start a new batch without --resume, or name a run with --run-id to run it again"
        )
    raise BatchError(
        f"{out}: {len(found)} unfinished runs: {', '.join(found)}; add --run-id naming the one to finish"
    )


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
