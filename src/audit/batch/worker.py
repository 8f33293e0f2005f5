"""One job, run inside a worker process (a local process or a Dask worker).

A job writes into its own working folder and moves each file into the run folder when whole,
then writes its job record last. A failure is a result, not an exception; a failed notebook is
kept and shown with its code, its error texts masked unless the run shows personal data in full.
"""

from __future__ import annotations

import contextlib
import functools
import os
import shutil
import socket
import sys
import time
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from audit.batch import executors
from audit.batch.jobs import ROLLUP, STATE, Job, JobResult, JobStatus, failure_reason, record_path
from audit.manifest import FileRecord, utc_now, utc_text, write_json
from audit.notebook_runs import execute_notebook
from audit.privacy import PEOPLE_TABLES, Names, mask_diagnostic
from audit.runfolder import unit_path
from audit.store import Store


def _execute(job: Job, out: Path, cwd: Path) -> None:
    """Run the job's notebook in a fresh kernel; it writes its executed copy and findings to ``out``."""
    parameters = {**dict(job.parameters), "out": str(out)}
    execute_notebook(
        job.notebook, out / f"{job.area}.ipynb", parameters, timeout=job.timeout, cwd=cwd, env=dict(job.env)
    )


def _render(job: Job, out: Path, cwd: Path) -> None:
    """Render the unit's report from its executed notebooks in each of the job's formats."""
    # nbformat and the renderers load only in a process that renders
    from audit import renderers

    parameters = dict(job.parameters)
    params = Path(parameters["params"]) if "params" in parameters else None
    sources = [job.run_dir / rel for rel in job.sources]
    renderers.render(job.formats, sources, out, lang=job.lang, pii=job.pii, params=params)


@functools.cache
def _code_exporter() -> Any:
    from nbconvert import HTMLExporter  # built once per worker: loading its templates takes a while

    return HTMLExporter(exclude_input_prompt=True)


def _show_failure(job: Job, out: Path) -> None:
    """Render a failed notebook with its code, so a reader sees which cell failed and how.

    Unless the run shows personal data in full, the error texts are masked first (in the kept
    notebook too): a traceback can quote the row it choked on.
    """
    # nbformat loads only in a process that keeps a failed notebook
    import nbformat

    failed = out / f"{job.area}.failed.ipynb"
    if not failed.is_file():
        return
    try:
        book = nbformat.read(failed, as_version=4)
        if job.pii != "full":
            names = _names(job)
            for cell in book.cells:
                for output in cell.get("outputs", []):
                    if output.get("output_type") == "error":
                        output["evalue"] = mask_diagnostic(output.get("evalue", ""), names)
                        output["traceback"] = [
                            mask_diagnostic(line, names) for line in output.get("traceback", [])
                        ]
                    elif output.get("output_type") == "stream":
                        output["text"] = mask_diagnostic(output.get("text", ""), names)
            nbformat.write(book, failed)
        html, _ = _code_exporter().from_notebook_node(book)
        (out / f"{job.area}.failed.html").write_text(html, encoding="utf-8")
    except Exception:  # the notebook is kept either way; its HTML view is a convenience
        traceback.print_exc()


def _unit_names(store: str, unit: str) -> Names | None:
    """The people named in the unit's rows of the store (every county's for the roll-up)."""
    try:
        data = Store.open(Path(store))
        counties = None if unit == ROLLUP else [unit]
        frames = [data.read(t, counties, columns=["name"]) for t in sorted(PEOPLE_TABLES)]
    except Exception:  # a store that cannot be read may be what the job failed on: mask what is known
        traceback.print_exc()
        return None
    return Names(v for f in frames if f is not None for v in f["name"].dropna())


def _names(job: Job) -> Names | None:
    """The names to mask in a failed job's error texts: those of the people its unit's data holds."""
    store = dict(job.parameters).get("store")
    return _unit_names(str(store), job.unit) if store else None


def _rules(job: Job, out: Path, cwd: Path) -> None:
    """Run the unit's rules once, in this process, and keep them for its notebooks (and the roll-up)."""
    # the rule catalogue loads only in the process that runs the rules
    from audit import kept_runs

    parameters = dict(job.parameters)
    excluded = parameters.get("excluded", ())
    kept_runs.build(parameters["store"], parameters["params"], job.unit, out / kept_runs.FOLDER, excluded)


RUNNERS: dict[str, Callable[[Job, Path, Path], None]] = {
    "notebook": _execute,
    "report": _render,
    "rules": _rules,
}


def _commit(job: Job, out: Path) -> tuple[FileRecord, ...]:
    """Move every file the job wrote into the run folder; each appears whole or not at all.

    Reports and notebooks go to the unit's folder; its findings registers and kept rule run
    (full personal data) to ``restricted/<unit>/`` (:func:`audit.runfolder.unit_path`).
    """
    if executors.orphaned():
        os._exit(1)  # the batch that asked for this job is gone: write nothing
    records = []
    # dot-files are partial writes of a notebook or PDF that did not finish: never commit them
    for path in sorted(p for p in out.rglob("*") if p.is_file() and not p.name.startswith(".")):
        record = FileRecord.of(path, out)
        rel = unit_path(job.unit, record.path)
        dest = job.run_dir / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        os.replace(path, dest)
        records.append(FileRecord(rel, record.sha256, record.size))
    return tuple(records)


@contextlib.contextmanager
def _stderr_to(path: Path) -> Iterator[None]:
    """Send this process's stderr, and so its kernels', to ``path`` (kernel chatter stays out of the log)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(path, "ab") as log:
            os.dup2(log.fileno(), 2)
            yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)


def run_job(job: Job) -> JobResult:
    """Run one job in this process and commit its outputs; a failure is a result, not an exception."""
    started, clock = utc_now(), time.perf_counter()
    work = job.run_dir / STATE / "work" / job.slug
    shutil.rmtree(work, ignore_errors=True)
    out, cwd = work / "out", work / "cwd"
    out.mkdir(parents=True)
    cwd.mkdir()
    status: JobStatus = "ok"
    reason = ""
    with _stderr_to(job.run_dir / STATE / "logs" / f"{job.slug}.log"):
        try:
            RUNNERS[job.kind](job, out, cwd)
        except Exception as exc:
            # the message names the working folder; the files are about to move to the unit's folder
            status, reason = "failed", failure_reason(exc).replace(str(out), job.unit)
            if job.pii != "full":
                reason = mask_diagnostic(reason, _names(job))
            _show_failure(job, out)
    outputs = _commit(job, out)
    result = JobResult(
        key=job.key,
        status=status,
        reason=reason,
        outputs=outputs,
        fingerprint=job.fingerprint,
        started_utc=utc_text(started),
        seconds=time.perf_counter() - clock,
        worker=f"{socket.gethostname()}:{os.getpid()}",
    )
    write_json(record_path(job.run_dir, job.key), result.to_json())  # last: the job is done
    shutil.rmtree(work, ignore_errors=True)
    return result
