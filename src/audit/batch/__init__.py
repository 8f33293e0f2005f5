"""Every county × area notebook, the city roll-up and every report, in parallel and resumable.

The unit of work is a :class:`Job`: one unit's rule run (a county's, or the roll-up's own),
one area notebook of one county, the roll-up notebook, or rendering one report. A unit's rules
run once, in the worker process, and its notebooks read them (``rules_from``) instead of
running them again in every kernel; the roll-up reads every county's. :func:`run_job` runs
one job inside a worker process (a local process or a Dask worker); the loop in
:func:`run_batch` hands jobs to an executor as their inputs become ready. A job writes into
its own working folder and moves each file into the run folder when whole, then writes its job
record last; ``--resume`` skips a job whose record holds the same fingerprint (notebook,
parameters, input hashes, code) and whose outputs are all still there.

Run folder::

    <run-id>/
      index.html            every county: status, findings by severity, reports, sign-offs; links
                            only what a reviewer may read (never restricted/)
      manifest.json         provenance (written last: no manifest, no finished run)
      signoffs.json         after ``audit sign``
      findings-masked.csv|xlsx   every finding, personal data masked: the reviewers' list
      <county>/             contracts.ipynb staffing.ipynb relief.ipynb, results-*.parquet,
                            report.<format> (html, pdf, docx); when a notebook failed,
                            <area>.failed.ipynb and <area>.failed.html (with its code) instead
      city/                 the roll-up: city.ipynb, results-city.parquet, report.<format>
      restricted/           full personal data, for inspectors (never linked, never published):
        findings.parquet|csv|xlsx   the combined register (xlsx: the rectification list)
        <unit>/findings-*.parquet|csv, <unit>/rules/   the unit's register and kept rule run
      .batch/jobs/          one record per job (fingerprint, outputs, timing)
      .batch/logs/          each job's stderr and its kernel's, for diagnosis

``audit publish`` copies what a reviewer may read into a bundle of its own (:mod:`audit.publishing`).

With a Dask scheduler on other machines, the run folder, store, notebooks and parameters
file must be on a file system every worker sees under the same paths.

Modules: ``jobs`` (options, a job, its result and record), ``worker`` (one job in a worker
process), ``inputs`` (hashing what the batch reads), ``plan`` (the jobs and their
fingerprints), ``resume`` (what an earlier attempt finished), ``loop`` (scheduling),
``finishing`` (combined findings, manifest, index), ``run`` (:func:`run_batch`) and
``executors`` (where jobs run: a registry of local processes and Dask).
"""

from audit.batch.executors import EXECUTORS, Executor, default_workers, executor_for
from audit.batch.finishing import BatchSummary, combine_findings, write_index
from audit.batch.inputs import Inputs, default_run_id, gather_inputs
from audit.batch.jobs import (
    FINDINGS,
    REPORT,
    ROLLUP,
    RULES,
    STATE,
    BatchOptions,
    Job,
    JobResult,
    JobStatus,
    default_notebooks,
)
from audit.batch.loop import MAX_ATTEMPTS, execute_jobs
from audit.batch.plan import plan
from audit.batch.resume import read_record, resumable, run_to_resume, unfinished_runs
from audit.batch.run import run_batch
from audit.batch.worker import RUNNERS, run_job

__all__ = [
    "EXECUTORS",
    "FINDINGS",
    "MAX_ATTEMPTS",
    "REPORT",
    "ROLLUP",
    "RULES",
    "RUNNERS",
    "STATE",
    "BatchOptions",
    "BatchSummary",
    "Executor",
    "Inputs",
    "Job",
    "JobResult",
    "JobStatus",
    "combine_findings",
    "default_notebooks",
    "default_run_id",
    "default_workers",
    "execute_jobs",
    "executor_for",
    "gather_inputs",
    "plan",
    "read_record",
    "resumable",
    "run_batch",
    "run_job",
    "run_to_resume",
    "unfinished_runs",
    "write_index",
]
