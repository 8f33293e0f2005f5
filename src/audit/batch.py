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
      index.html            every county: status, findings by severity, reports, sign-offs
      manifest.json         provenance (written last: no manifest, no finished run)
      signoffs.json         after ``audit sign``
      findings.parquet|csv|xlsx   the combined register (xlsx: the rectification list)
      <county>/             rules/ (the county's rule run, read by its notebooks and the roll-up),
                            contracts.ipynb staffing.ipynb relief.ipynb, findings-C|S|F.parquet|csv,
                            results-*.parquet, report.<format> (html, pdf, ...); when a notebook failed,
                            <area>.failed.ipynb and <area>.failed.html (with its code) instead
      city/                 the roll-up: rules/, city.ipynb, findings-city.*, report.html, report.pdf
      .batch/jobs/          one record per job (fingerprint, outputs, timing)
      .batch/logs/          each job's stderr and its kernel's, for diagnosis

With a Dask scheduler on other machines, the run folder, store, notebooks and parameters
file must be on a file system every worker sees under the same paths.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import hashlib
import heapq
import json
import os
import shutil
import socket
import sys
import time
import traceback
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from audit import executors as executors_module
from audit.exceptions import AuditError, BatchError, ParameterError, WorkerLost
from audit.manifest import (
    SIGNOFF_LEVELS,
    FileRecord,
    code_digest,
    code_revision,
    held_levels,
    package_versions,
    read_manifest,
    read_signoffs,
    run_lock,
    sha256_file,
    utc_now,
    utc_text,
    write_atomically,
    write_json,
    write_manifest,
)
from audit.params import Params, load_params
from audit.progress import Progress, Tally, progress_for

if TYPE_CHECKING:
    from audit.privacy import Names

ROLLUP = "city"  # folder and unit name of the city roll-up (ruleruns.CITY: the same name)
REPORT = "report"  # the job that renders a unit's report
RULES = "rules"  # the job that runs a unit's rules once for all its notebooks
SEVERITIES = ("high", "medium", "low", "info")
STATE = ".batch"  # job records and working folders, inside the run folder
MAX_ATTEMPTS = 3  # a job whose worker process died is tried again, at most this often
FINDINGS = "findings"  # the combined register: findings.parquet, .csv, .xlsx

JobStatus = Literal["ok", "failed", "blocked"]


def default_notebooks() -> Path:
    """The committed notebooks: ``notebooks/`` in the project root."""
    from audit.runspec import project_root

    return project_root() / "notebooks"


@dataclass(frozen=True)
class BatchOptions:
    """Everything a batch needs; built and validated by ``audit batch``."""

    store: Path
    params: Path
    out: Path
    notebooks: Path
    run_id: str | None = None
    counties: tuple[str, ...] = ()  # empty: every county in the store
    jobs: int = 2
    executor: str = "local"
    scheduler: str | None = None
    resume: bool = False
    timeout: float = 600.0  # seconds per notebook cell
    lang: Literal["zh", "en"] = "zh"
    pii: Literal["masked", "full"] = "masked"
    formats: tuple[str, ...] | None = None  # report formats (audit.renderers); None: all this machine can


@dataclass(frozen=True)
class Job:
    """One unit of work a worker process runs; everything in it pickles."""

    key: str  # "<unit>/<area>", "<unit>/report" or "<unit>/rules"
    kind: Literal["notebook", "report", "rules"]
    unit: str  # county code, or ROLLUP
    area: str  # area name, ROLLUP, REPORT or RULES
    run_dir: Path
    fingerprint: str
    notebook: Path | None = None
    parameters: tuple[tuple[str, Any], ...] = ()
    env: tuple[tuple[str, str], ...] = ()  # for the kernel: the folders its paths may be in
    needs: tuple[str, ...] = ()  # keys of the jobs whose outputs this one reads
    after: tuple[str, ...] = ()  # keys of jobs to wait for, whatever becomes of them: their outputs help
    sources: tuple[str, ...] = ()  # a report's notebooks, relative to the run folder
    timeout: float = 600.0
    lang: str = "zh"
    formats: tuple[str, ...] = ()  # a report job's formats, each after those it needs
    pii: str = "masked"  # masked: failure texts are masked too

    @property
    def slug(self) -> str:
        """The key as a file name."""
        return self.key.replace("/", "--")


@dataclass(frozen=True)
class JobResult:
    """What became of one job."""

    key: str
    status: JobStatus
    reason: str = ""
    outputs: tuple[FileRecord, ...] = ()
    fingerprint: str = ""
    started_utc: str = ""
    seconds: float = 0.0
    worker: str = ""
    resumed: bool = False

    def to_json(self) -> dict[str, Any]:
        """The job record's JSON form."""
        return {
            "key": self.key,
            "status": self.status,
            "reason": self.reason,
            "outputs": [o.to_json() for o in self.outputs],
            "fingerprint": self.fingerprint,
            "started_utc": self.started_utc,
            "seconds": round(self.seconds, 3),
            "worker": self.worker,
        }

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> JobResult:
        """A job record read back."""
        return cls(
            key=raw["key"],
            status=raw["status"],
            reason=raw.get("reason", ""),
            outputs=tuple(FileRecord.from_json(o) for o in raw["outputs"]),
            fingerprint=raw["fingerprint"],
            started_utc=raw.get("started_utc", ""),
            seconds=float(raw.get("seconds", 0.0)),
            worker=raw.get("worker", ""),
        )


# --- one job, in the worker process -----------------------------------------------------------


def _record_path(run_dir: Path, key: str) -> Path:
    return run_dir / STATE / "jobs" / f"{key.replace('/', '--')}.json"


def _reason(exc: BaseException) -> str:
    """One line saying why a job failed, without the traceback."""
    text = " ".join(str(exc).split())[:600]
    return text if isinstance(exc, AuditError) else f"{type(exc).__name__}: {text}".rstrip(": ")


def _execute(job: Job, out: Path, cwd: Path) -> None:
    """Run the job's notebook in a fresh kernel; it writes its executed copy and findings to ``out``."""
    from audit.execution import execute_notebook

    parameters = {**dict(job.parameters), "out": str(out)}
    execute_notebook(
        job.notebook, out / f"{job.area}.ipynb", parameters, timeout=job.timeout, cwd=cwd, env=dict(job.env)
    )


def _render(job: Job, out: Path, cwd: Path) -> None:
    """Render the unit's report from its executed notebooks in each of the job's formats."""
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
    import nbformat

    from audit.privacy import mask_diagnostic

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
    from audit.privacy import PEOPLE_TABLES, Names
    from audit.store import Store

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
    from audit import ruleruns

    parameters = dict(job.parameters)
    ruleruns.build(parameters["store"], parameters["params"], job.unit, out / ruleruns.FOLDER)


RUNNERS: dict[str, Callable[[Job, Path, Path], None]] = {
    "notebook": _execute,
    "report": _render,
    "rules": _rules,
}


def _commit(job: Job, out: Path) -> tuple[FileRecord, ...]:
    """Move every file the job wrote into the unit's folder; each appears whole or not at all."""
    if executors_module.orphaned():
        os._exit(1)  # the batch that asked for this job is gone: write nothing
    target = job.run_dir / job.unit
    records = []
    # dot-files are partial writes of a notebook or PDF that did not finish: never commit them
    for path in sorted(p for p in out.rglob("*") if p.is_file() and not p.name.startswith(".")):
        dest = target / path.relative_to(out)
        dest.parent.mkdir(parents=True, exist_ok=True)
        record = FileRecord.of(path, out)
        os.replace(path, dest)
        records.append(FileRecord(f"{job.unit}/{record.path}", record.sha256, record.size))
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
            status, reason = "failed", _reason(exc).replace(str(out), job.unit)
            if job.pii != "full":
                from audit.privacy import mask_diagnostic

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
    write_json(_record_path(job.run_dir, job.key), result.to_json())  # last: the job is done
    shutil.rmtree(work, ignore_errors=True)
    return result


# --- the plan ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Inputs:
    """The files a batch reads, hashed once: store files, notebooks, the parameters file."""

    store: Path
    notebooks: Path
    params: Path
    store_files: Mapping[str, str]  # path relative to the store → sha256
    notebook_files: Mapping[str, str]
    params_sha256: str

    @functools.cached_property
    def _unit_digests(self) -> dict[str, str]:
        """Per county, a hash of its own partitions and every shared file; computed once per batch."""
        shared: dict[str, str] = {}
        own: dict[str, dict[str, str]] = {}
        for path, sha in self.store_files.items():
            parts = [p for p in path.split("/") if p.startswith("county_code=")]
            if parts:
                own.setdefault(parts[0].removeprefix("county_code="), {})[path] = sha
            else:
                shared[path] = sha
        digests = {county: _digest({**shared, **files}) for county, files in own.items()}
        digests[""] = _digest(shared)  # a county with no rows of its own
        digests[ROLLUP] = _digest(self.store_files)  # the roll-up reads every county
        return digests

    def for_unit(self, unit: str) -> str:
        """Hash of the store files a unit's notebooks read: its own partitions and every shared file."""
        return self._unit_digests.get(unit, self._unit_digests[""])

    def digest(self) -> str:
        """One hash of every input, for the default run id."""
        return _digest(
            {"store": self.store_files, "notebooks": self.notebook_files, "params": self.params_sha256}
        )


def _digest(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()


def _hash_tree(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): sha256_file(p)
        for p in sorted(root.rglob("*"))
        if p.is_file() and not any(part.startswith(".") for part in p.relative_to(root).parts)
    }


def _notebook_names() -> list[str]:
    from audit.runspec import AREAS, CITY_NOTEBOOK

    return [f"{name}.ipynb" for name in [*AREAS, CITY_NOTEBOOK]]


def gather_inputs(options: BatchOptions) -> Inputs:
    """Hash the store, the notebooks and the parameters file."""
    if not options.store.is_dir():
        raise BatchError(f"{options.store}: store folder not found; create it with audit ingest")
    return Inputs(
        store=options.store.resolve(),
        notebooks=options.notebooks.resolve(),
        params=options.params.resolve(),
        store_files=_hash_tree(options.store),
        notebook_files={
            name: sha256_file(options.notebooks / name)
            for name in _notebook_names()
            if (options.notebooks / name).is_file()
        },
        params_sha256=sha256_file(options.params),
    )


def default_run_id(inputs: Inputs, now: dt.datetime) -> str:
    """UTC timestamp and a short hash of the inputs: ``20200507T080000Z-1a2b3c4d``."""
    return f"{now.astimezone(dt.UTC):%Y%m%dT%H%M%SZ}-{inputs.digest()[:8]}"


def plan(
    options: BatchOptions,
    inputs: Inputs,
    counties: list[str],
    run_dir: Path,
    code: str,
    city_code: str,
) -> list[Job]:
    """The jobs of a batch: per county its rule run, area notebooks and report; then the roll-up's.

    A unit gets a rule run when one of its notebooks takes ``rules_from``; the roll-up's
    notebook waits for every county's rule run as well as its own, and reads them. The
    notebook parameters are checked here, once, before any kernel starts.
    """
    from audit.runspec import ALLOWED_ROOTS_ENV, AREAS, CITY_NOTEBOOK, parameter_names, validate_spec

    roots = (inputs.store, inputs.params.parent, run_dir)
    base = {
        "store": str(inputs.store),
        "params": str(inputs.params),
        "out": str(run_dir),  # replaced by the job's working folder (inside the run folder) when it runs
        "lang": options.lang,
        "pii": options.pii,
        "run_id": run_dir.name,
    }
    specs = {}
    if counties:
        specs["county"] = validate_spec(
            {**base, "county": counties[0]}, scope="county", counties=counties, extra_roots=roots
        )
    specs[ROLLUP] = validate_spec(
        {**base, "county": city_code, "counties": counties or None},
        scope="city",
        counties=counties,
        extra_roots=roots,
    )
    # the run folder is made when the batch starts, perhaps after planning: set, not checked
    specs = {unit: spec.model_copy(update={"rules_from": run_dir}) for unit, spec in specs.items()}
    env = ((ALLOWED_ROOTS_ENV, os.pathsep.join(str(r) for r in specs[ROLLUP].allowed)),)
    declared: dict[str, frozenset[str]] = {}
    for name in [f"{a}.ipynb" for a in AREAS] + [f"{CITY_NOTEBOOK}.ipynb"]:
        if name in inputs.notebook_files:
            declared[name] = parameter_names(inputs.notebooks / name)
    jobs: list[Job] = []
    rule_runs: dict[str, Job] = {}  # unit -> its rule-run job
    for unit in [*counties, ROLLUP]:
        if unit == ROLLUP:
            spec, areas = specs[ROLLUP], (CITY_NOTEBOOK,)
        else:
            spec, areas = specs["county"].model_copy(update={"county": unit}), tuple(AREAS)
        everything = spec.notebook_parameters()
        everything.pop("out")
        for area in areas:
            if f"{area}.ipynb" not in inputs.notebook_files:
                raise BatchError(f"{inputs.notebooks / area}.ipynb: notebook not found")
        if any("rules_from" in declared[f"{a}.ipynb"] for a in areas):
            rule_runs[unit] = _rules_job(unit, run_dir, inputs, code, everything, options)
            jobs.append(rule_runs[unit])
        executed = []
        for area in areas:
            name = f"{area}.ipynb"
            # optional parameters go only to a notebook that declares them
            parameters = {k: v for k, v in everything.items() if k not in _OPTIONAL or k in declared[name]}
            waits: list[Job] = []
            if "rules_from" in parameters:
                waits = list(rule_runs.values()) if unit == ROLLUP else [rule_runs[unit]]
            fingerprint = _digest(
                {
                    "job": f"{unit}/{area}",
                    "notebook": inputs.notebook_files[name],
                    "params": inputs.params_sha256,
                    "store": inputs.for_unit(unit),
                    "parameters": parameters,
                    "code": code,
                    "after": [j.fingerprint for j in waits],
                }
            )
            executed.append(
                Job(
                    key=f"{unit}/{area}",
                    kind="notebook",
                    unit=unit,
                    area=area,
                    run_dir=run_dir,
                    fingerprint=fingerprint,
                    notebook=inputs.notebooks / name,
                    parameters=tuple(sorted(parameters.items())),
                    env=env,
                    after=tuple(j.key for j in waits),
                    timeout=options.timeout,
                    lang=options.lang,
                    pii=options.pii,
                )
            )
        report = {
            "job": f"{unit}/{REPORT}",
            "needs": [j.fingerprint for j in executed],
            "lang": options.lang,
            "formats": list(options.formats or ()),
            "code": code,
        }
        jobs += [
            *executed,
            Job(
                key=f"{unit}/{REPORT}",
                kind="report",
                unit=unit,
                area=REPORT,
                run_dir=run_dir,
                fingerprint=_digest(report),
                # the store, for the names a failure's text masks; the parameters file, for a template
                parameters=(("params", str(inputs.params)), ("store", str(inputs.store))),
                needs=tuple(j.key for j in executed),
                sources=tuple(f"{unit}/{j.area}.ipynb" for j in executed),
                timeout=options.timeout,
                lang=options.lang,
                formats=tuple(options.formats or ()),
                pii=options.pii,
            ),
        ]
    return jobs


_OPTIONAL = ("rules_from", "counties")
"""Parameters a notebook gets only when its parameters cell declares them."""


def _rules_job(
    unit: str, run_dir: Path, inputs: Inputs, code: str, parameters: Mapping[str, Any], options: BatchOptions
) -> Job:
    fingerprint = _digest(
        {
            "job": f"{unit}/{RULES}",
            "params": inputs.params_sha256,
            "store": inputs.for_unit(unit),
            "code": code,
        }
    )
    return Job(
        key=f"{unit}/{RULES}",
        kind="rules",
        unit=unit,
        area=RULES,
        run_dir=run_dir,
        fingerprint=fingerprint,
        parameters=(("params", parameters["params"]), ("store", parameters["store"])),
        timeout=options.timeout,
        pii=options.pii,
    )


def read_record(run_dir: Path, key: str) -> JobResult | None:
    """The job's record from an earlier run, if there is a readable one."""
    try:
        return JobResult.from_json(json.loads(_record_path(run_dir, key).read_text(encoding="utf-8")))
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


def _forget(run_dir: Path, key: str) -> None:
    """Delete an earlier attempt's record and outputs, so nothing stale looks finished."""
    record = read_record(run_dir, key)
    if record is not None:
        for output in record.outputs:
            (run_dir / output.path).unlink(missing_ok=True)
    _record_path(run_dir, key).unlink(missing_ok=True)


# --- the loop ---------------------------------------------------------------------------------


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
    executor: executors_module.Executor,
    progress: Progress,
    job_fn: Callable[[Job], JobResult] = run_job,
) -> dict[str, JobResult]:
    """Run every job not already done, each as soon as the jobs it needs have succeeded."""
    board = _Board(jobs, counties, done)
    progress.start(board.tally())
    running: dict[Any, Job] = {}
    attempts: dict[str, int] = {}

    def finish(job: Job, result: JobResult) -> None:
        blocked = board.record(result)
        progress.advance(_line(job, result), board.tally(), ok=result.status == "ok")
        for other in blocked:
            progress.advance(_line(board.jobs[other.key], other), board.tally(), ok=False)

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
                finish(job, JobResult(job.key, "failed", _reason(exc), fingerprint=job.fingerprint))
    progress.close(board.tally())
    return board.results


# --- findings, manifest, index ----------------------------------------------------------------


def combine_findings(run_dir: Path, parts: list[Path], lang: str) -> tuple[list[Path], int]:
    """Write the combined register (every unit's findings) as parquet, csv and xlsx.

    Returns the files written and the number of findings.
    """
    from audit.findings import combine_registers, read_register, write_register
    from audit.rectification import write_rectification_list

    combined = combine_registers(read_register(p) for p in parts)
    staging = run_dir / STATE / "work" / FINDINGS  # written whole here, then renamed into place
    shutil.rmtree(staging, ignore_errors=True)
    written = write_register(combined, staging, FINDINGS)
    files = [written["parquet"], written["csv"]]
    files.append(write_rectification_list(combined, staging / f"{FINDINGS}.xlsx", lang=lang))
    final = []
    for path in files:
        os.replace(path, run_dir / path.name)
        final.append(run_dir / path.name)
    shutil.rmtree(staging, ignore_errors=True)
    return final, len(combined)


def _severities(paths: list[Path]) -> dict[str, int]:
    from audit.findings import read_register

    counts = dict.fromkeys(SEVERITIES, 0)
    for path in paths:
        for severity, n in read_register(path)["severity"].value_counts().items():
            counts[str(severity)] = counts.get(str(severity), 0) + int(n)
    return counts


def _units(
    run_dir: Path,
    jobs: list[Job],
    results: Mapping[str, JobResult],
    counties: list[str],
    names: Mapping[str, str],
) -> list[dict[str, Any]]:
    by_unit: dict[str, list[Job]] = {}
    for job in jobs:
        by_unit.setdefault(job.unit, []).append(job)
    units = []
    for unit in [*counties, ROLLUP]:
        mine = [results[j.key] for j in by_unit[unit]]
        failed = [r for r in mine if r.status != "ok"]
        paths = [o.path for r in mine for o in r.outputs]
        # every file the report job rendered, whatever its format: the sign-off covers them all
        rendered = [o.path for j in by_unit[unit] if j.kind == "report" for o in results[j.key].outputs]
        registers = [p for p in paths if p.startswith(f"{unit}/findings-") and p.endswith(".parquet")]
        units.append(
            {
                "code": unit,
                "kind": "rollup" if unit == ROLLUP else "county",
                "status": "failed" if failed else "ok",
                "name": names.get(unit, ""),
                # a blocked report only repeats that a notebook failed: give the notebooks' reasons
                "reason": "; ".join(r.reason for r in failed if r.status == "failed"),
                "reports": rendered,
                "notebooks": [p for p in paths if p.endswith(".ipynb")],
                "failures": [p for p in paths if p.endswith(".failed.html")],
                "registers": registers,
                "findings": _severities([run_dir / p for p in registers]),
            }
        )
    return units


def write_index(run_dir: Path) -> Path:
    """Write ``index.html`` from the manifest and the sign-offs (again after every sign-off)."""
    from jinja2 import Environment, PackageLoader, select_autoescape

    from audit.i18n import label

    manifest = read_manifest(run_dir)
    signoffs: dict[str, list[dict[str, Any]]] = {}
    every = read_signoffs(run_dir)
    for signoff in every:
        broken = signoff.changed_reports(run_dir)
        signoffs.setdefault(signoff.county, []).append(
            {
                "reviewer": signoff.reviewer,
                "when": signoff.signed_utc,
                "note": signoff.note,
                "level": signoff.level,
                "broken": broken,
            }
        )
    env = Environment(loader=PackageLoader("audit", "templates"), autoescape=select_autoescape(default=True))
    html = env.get_template("index.html").render(
        manifest=manifest,
        signoffs=signoffs,
        levels=held_levels(run_dir, every),
        signoff_levels=SIGNOFF_LEVELS,
        severities=SEVERITIES,
        severity_zh={s: label(f"severity.{s}", "zh") for s in SEVERITIES},
    )
    path = run_dir / "index.html"
    write_atomically(path, html)
    return path


@dataclass(frozen=True)
class BatchSummary:
    """What a finished batch says about itself."""

    run_dir: Path
    units: tuple[dict[str, Any], ...]
    findings: int
    findings_error: str = ""  # why the combined register could not be written, if it could not

    @property
    def failed(self) -> tuple[dict[str, Any], ...]:
        """Units with a failed or blocked job."""
        return tuple(u for u in self.units if u["status"] != "ok")

    @property
    def ok(self) -> bool:
        """Every unit finished and the combined register was written."""
        return not self.failed and not self.findings_error


def _counties(options: BatchOptions, city_code: str) -> list[str]:
    """The counties to audit: the store's (or those asked for), without the city bureau's own code.

    The city bureau's rows (county code = the city's) are audited in the roll-up, which runs them
    like a county's: auditing them as a county as well would list each of its findings twice.
    """
    from audit.store import Store

    known = [c for c in Store.open(options.store).counties() if c != city_code]
    if not options.counties:
        return known
    if city_code in options.counties:
        raise ParameterError(f"--counties: {city_code} is the city bureau, audited in the city roll-up")
    unknown = [c for c in options.counties if c not in known]
    if unknown:
        raise ParameterError(f"--counties: {', '.join(unknown)} not in the store; it has {', '.join(known)}")
    return list(dict.fromkeys(options.counties))


def _county_names(store: Path) -> dict[str, str]:
    """County names from the store's register of divisions, for the index (none if it has none)."""
    from audit.store import Store

    try:
        divisions = Store.open(store).read("divisions", columns=["division_code", "name"])
    except Exception:  # names are a nicety of the index: a damaged register must not cost it
        return {}
    if divisions is None:
        return {}
    return {str(c): str(n) for c, n in zip(divisions["division_code"], divisions["name"], strict=True) if n}


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
    if options.resume and not options.run_id:
        raise ParameterError("--resume needs --run-id naming the run to finish")
    from audit import renderers  # late: it loads every renderer plug-in

    options = replace(options, formats=renderers.choose(options.formats).formats)
    params = load_params(options.params)
    counties = counties if counties is not None else _counties(options, params.city_code)
    if options.run_id:  # refuse a run folder that cannot be used before any worker starts
        _prepare_run_dir(options, options.run_id, create=False)
    started = utc_now()
    # the workers start, and import the notebook stack, while the inputs are hashed and the jobs planned
    executor = executors_module.executor_for(options.executor, jobs=options.jobs, scheduler=options.scheduler)
    try:
        inputs = gather_inputs(options)
        code = code_digest()
        run_dir = _prepare_run_dir(options, options.run_id or default_run_id(inputs, started))
        with run_lock(run_dir):
            for stale in ("manifest.json", "index.html"):  # a killed run must not look finished
                (run_dir / stale).unlink(missing_ok=True)
            shutil.rmtree(run_dir / STATE / "work", ignore_errors=True)
            jobs = plan(options, inputs, counties, run_dir, code, params.city_code)
            done = resumable(jobs, run_dir) if options.resume else {}
            for job in jobs:
                if job.key not in done:
                    _forget(run_dir, job.key)
            results = execute_jobs(jobs, done, counties, executor, progress or progress_for(), job_fn)
            where = executor.describe()
            executor.close()
            return _finish(options, params, inputs, code, run_dir, jobs, results, counties, where, started)
    finally:
        executor.close()


def _finish(
    options: BatchOptions,
    params: Params,
    inputs: Inputs,
    code: str,
    run_dir: Path,
    jobs: list[Job],
    results: Mapping[str, JobResult],
    counties: list[str],
    where: dict[str, Any],
    started: dt.datetime,
) -> BatchSummary:
    """Combine the findings, then write the manifest (last but for the index) and the index."""
    units = _units(run_dir, jobs, results, counties, _county_names(options.store))
    parts = [run_dir / p for u in units for p in u["registers"]]
    try:
        register, n_findings = combine_findings(run_dir, parts, options.lang)
        combine_error = ""
    except AuditError as exc:  # the reports stand; the index says why there is no combined register
        register, n_findings, combine_error = [], 0, str(exc)
    outputs = sorted(
        [o for r in results.values() for o in r.outputs] + [FileRecord.of(p, run_dir) for p in register],
        key=lambda o: o.path,
    )
    finished = utc_now()
    write_manifest(
        run_dir,
        {
            "run_id": run_dir.name,
            "status": "failed" if combine_error or any(u["status"] != "ok" for u in units) else "ok",
            "started_utc": utc_text(started),
            "finished_utc": utc_text(finished),
            "seconds": (finished - started).total_seconds(),
            "city_code": params.city_code,
            "executor": where,
            "code": {**code_revision(), "digest": code},
            "versions": package_versions(),
            "parameters": {
                "run": {
                    "counties": counties,
                    "lang": options.lang,
                    "pii": options.pii,
                    "formats": list(options.formats or ()),
                    "timeout_seconds": options.timeout,
                    "jobs": options.jobs,
                    "resume": options.resume,
                },
                "params": params.model_dump(mode="json"),
            },
            "roots": {
                "store": str(inputs.store),
                "notebooks": str(inputs.notebooks),
                "params": str(inputs.params.parent),
            },
            "inputs": _input_records(inputs),
            "store_sources": _store_sources(inputs.store),
            "outputs": [o.to_json() for o in outputs],
            "findings": [p.name for p in register],
            "findings_error": combine_error,
            "jobs": [
                {
                    **{k: v for k, v in results[j.key].to_json().items() if k != "outputs"},
                    "kind": j.kind,
                    "unit": j.unit,
                    "area": j.area,
                    "resumed": results[j.key].resumed,
                }
                for j in jobs
            ],
            "units": units,
        },
    )
    write_index(run_dir)
    return BatchSummary(run_dir, tuple(units), n_findings, combine_error)


def _input_records(inputs: Inputs) -> list[dict[str, Any]]:
    records = [
        {"root": "store", "path": p, "sha256": s, "size": (inputs.store / p).stat().st_size}
        for p, s in inputs.store_files.items()
    ]
    records += [
        {"root": "notebooks", "path": p, "sha256": s, "size": (inputs.notebooks / p).stat().st_size}
        for p, s in inputs.notebook_files.items()
    ]
    records.append(
        {
            "root": "params",
            "path": inputs.params.name,
            "sha256": inputs.params_sha256,
            "size": inputs.params.stat().st_size,
        }
    )
    return records


def _store_sources(store: Path) -> list[Any]:
    try:
        return list(json.loads((store / "manifest.json").read_text(encoding="utf-8")).get("sources", []))
    except (OSError, ValueError, AttributeError):
        return []
