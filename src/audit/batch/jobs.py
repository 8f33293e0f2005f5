"""A batch's units of work: the options, a job, a job's result and where its record is kept."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from audit.exceptions import AuditError
from audit.manifest import FileRecord
from audit.runspec import project_root

ROLLUP = "city"  # folder and unit name of the city roll-up (kept_runs.CITY: the same name)
REPORT = "report"  # the job that renders a unit's report
RULES = "rules"  # the job that runs a unit's rules once for all its notebooks
STATE = ".batch"  # job records and working folders, inside the run folder
FINDINGS = "findings"  # the combined register: restricted/findings.parquet, .csv, .xlsx (audit.runfolder)

JobStatus = Literal["ok", "failed", "blocked"]


def default_notebooks() -> Path:
    """The committed notebooks: ``notebooks/`` in the project root."""
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
    track: Path | None = None  # the follow-up journal's folder (audit.tracking)


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


def record_path(run_dir: Path, key: str) -> Path:
    """Where the job's record is kept in the run folder."""
    return run_dir / STATE / "jobs" / f"{key.replace('/', '--')}.json"


def failure_reason(exc: BaseException) -> str:
    """One line saying why a job failed, without the traceback."""
    text = " ".join(str(exc).split())[:600]
    return text if isinstance(exc, AuditError) else f"{type(exc).__name__}: {text}".rstrip(": ")
