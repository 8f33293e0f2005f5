"""``run_batch``: a whole batch, from the counties to audit to the finished run folder."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from audit import tracking
from audit.batch import executors
from audit.batch.finishing import BatchSummary, finish_run
from audit.batch.inputs import default_run_id, gather_inputs, store_damage
from audit.batch.jobs import ROLLUP, STATE, BatchOptions, Job, JobResult
from audit.batch.loop import execute_jobs
from audit.batch.plan import plan
from audit.batch.resume import forget, resumable, run_to_resume
from audit.batch.worker import run_job
from audit.exceptions import BatchError, ParameterError
from audit.manifest import code_digest, run_lock, utc_now
from audit.params import load_params
from audit.progress import Progress, progress_for
from audit.store import Store


def _counties(options: BatchOptions, city_code: str) -> list[str]:
    """The counties to audit: the store's (or those asked for), without the city bureau's own code.

    The city bureau's rows (county code = the city's) are audited in the roll-up, which runs them
    like a county's: auditing them as a county as well would list each of its findings twice.
    """
    known = [c for c in Store.open(options.store).counties() if c != city_code]
    if not options.counties:
        return known
    if city_code in options.counties:
        raise ParameterError(f"--counties: {city_code} is the city bureau, audited in the city roll-up")
    unknown = [c for c in options.counties if c not in known]
    if unknown:
        raise ParameterError(f"--counties: {', '.join(unknown)} not in the store; it has {', '.join(known)}")
    return list(dict.fromkeys(options.counties))


def _prepare_run_dir(options: BatchOptions, run_id: str, *, create: bool = True) -> Path:
    run_dir = (options.out / run_id).resolve()
    if options.resume:
        if not run_dir.is_dir():
            raise BatchError(f"{run_dir}: no run folder to resume")
    elif run_dir.exists() and any(run_dir.iterdir()):
        raise BatchError(
            f"{run_dir}: run folder exists; pass --resume to finish it or choose another --run-id"
        )
    if create:
        run_dir.mkdir(parents=True, exist_ok=True)
    return run_dir


def run_batch(
    options: BatchOptions,
    *,
    progress: Progress | None = None,
    job_fn: Callable[[Job], JobResult] = run_job,
    counties: list[str] | None = None,
) -> BatchSummary:
    """Run a whole batch into ``options.out / run_id`` and write its findings, manifest and index."""
    if options.resume and not options.run_id:  # the one unfinished run in --out
        options = replace(options, run_id=run_to_resume(options.out))
    from audit import renderers  # late: it loads every renderer plug-in

    options = replace(options, formats=renderers.choose(options.formats).formats)
    params = load_params(options.params)
    counties = counties if counties is not None else _counties(options, params.city_code)
    if options.run_id:  # refuse a run folder that cannot be used before any worker starts
        _prepare_run_dir(options, options.run_id, create=False)
    started = utc_now()
    # the workers start, and import the notebook stack, while the inputs are hashed and the jobs planned
    executor = executors.executor_for(options.executor, jobs=options.jobs, scheduler=options.scheduler)
    try:
        inputs = gather_inputs(options)
        code = code_digest()
        run_dir = _prepare_run_dir(options, options.run_id or default_run_id(inputs, started))
        with run_lock(run_dir):
            for stale in ("manifest.json", "index.html"):  # a killed run must not look finished
                (run_dir / stale).unlink(missing_ok=True)
            shutil.rmtree(run_dir / STATE / "work", ignore_errors=True)
            if options.track is not None and not (options.resume and (run_dir / tracking.SNAPSHOT).exists()):
                tracking.write_snapshot(options.track, run_dir)  # what the notebooks show of the journal
            # a damaged store file fails its county before any notebook starts; the roll-up leaves it out
            damage = store_damage(inputs, params.city_code)
            shared = damage.pop("", "")
            excluded = [c for c in counties if c in damage]
            jobs = plan(options, inputs, counties, run_dir, code, params.city_code, excluded)
            why = dict.fromkeys([*counties, ROLLUP], shared) if shared else damage
            refused = {
                j.key: JobResult(j.key, "failed", why[j.unit], fingerprint=j.fingerprint)
                for j in jobs
                if why.get(j.unit) and not j.needs
            }
            done = resumable(jobs, run_dir) if options.resume else {}
            done = {k: r for k, r in done.items() if k not in refused}
            for job in jobs:
                if job.key not in done:
                    forget(run_dir, job.key)
            results = execute_jobs(
                jobs, done, counties, executor, progress or progress_for(), job_fn, refused=refused
            )
            where = executor.describe()
            executor.close()
            return finish_run(options, params, inputs, code, run_dir, jobs, results, counties, where, started)
    finally:
        executor.close()
