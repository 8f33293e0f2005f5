"""Provenance of a run folder: ``manifest.json``, its verification, and reviewers' sign-offs.

The batch writes ``manifest.json`` last. It records every output's SHA-256 and size, the
inputs' hashes (store files, notebooks, parameters file, the store's own source list),
parameter values, package versions, the code revision, and timing per job. Timing lives
here and nowhere else, so findings files stay byte-identical from run to run.

``signoffs.json`` is an append-only list: who signed which county's report, at which level
(经办 preparer, 复核 reviewer, 审定 approver), when, and the report's SHA-256 at that moment.
A level holds while the report keeps that hash: any change to the report breaks every level.
``index.html`` and ``signoffs.json`` are not in the manifest: signing rewrites the one and
appends to the other after the batch.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import hashlib
import json
import os
import platform
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any, Literal

from audit.exceptions import BatchError, ManifestError, ParameterError
from audit.vocabulary import SIGNOFF_LEVELS

MANIFEST = "manifest.json"
BUNDLE = "reviewer-bundle"
"""The ``kind`` of a reviewer bundle's manifest (``audit publish``); a run's manifest has none."""
SIGNOFFS = "signoffs.json"
FORMAT = 1
VERSIONED = (
    "audit",
    "pandas",
    "pandera",
    "papermill",
    "nbconvert",
    "nbclient",
    "nbformat",
    "ipykernel",
    "pyarrow",
    "jinja2",
    "dask",
    "distributed",
)
_CHUNK = 1 << 20
LEVEL_NAMES = {"preparer": "经办", "reviewer": "复核", "approver": "审定"}
"""The English names accepted for each level."""
DEFAULT_LEVEL = "复核"  # a sign-off recorded before levels existed was a reviewer's


def sha256_file(path: str | Path) -> str:
    """SHA-256 of a file's bytes, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


@dataclass(frozen=True)
class FileRecord:
    """A file as recorded: path (relative to a root, ``/`` separated), SHA-256 and size."""

    path: str
    sha256: str
    size: int

    @classmethod
    def of(cls, path: Path, root: Path) -> FileRecord:
        """Hash ``path`` and name it relative to ``root``."""
        return cls(path.relative_to(root).as_posix(), sha256_file(path), path.stat().st_size)

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> FileRecord:
        """The record from its JSON form."""
        return cls(str(raw["path"]), str(raw["sha256"]), int(raw["size"]))

    def to_json(self) -> dict[str, Any]:
        """The JSON form written to manifests and sign-offs."""
        return {"path": self.path, "sha256": self.sha256, "size": self.size}

    def matches(self, root: Path) -> bool:
        """Whether the file under ``root`` still has this size and hash."""
        path = root / self.path
        return path.is_file() and path.stat().st_size == self.size and sha256_file(path) == self.sha256


def utc_now() -> dt.datetime:
    """Now, in UTC, to the second."""
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


def utc_text(moment: dt.datetime) -> str:
    """``2020-05-07T08:00:00Z``."""
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def write_atomically(path: Path, data: bytes | str) -> None:
    """Write ``path`` under a temporary name and rename it, so it is never seen half-written."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    tmp.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    os.replace(tmp, path)


def write_json(path: Path, value: Any) -> None:
    """Write ``value`` as indented UTF-8 JSON with sorted keys, atomically."""
    write_atomically(path, json.dumps(value, ensure_ascii=False, indent=2, sort_keys=True) + "\n")


@contextlib.contextmanager
def run_lock(run_dir: Path) -> Iterator[None]:
    """Hold the run folder's lock: one batch or sign at a time; the kernel drops it if we die."""
    fd = os.open(run_dir, os.O_RDONLY)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise BatchError(
                f"{run_dir}: another audit batch or sign is working on this run folder"
            ) from None
        yield
    finally:
        os.close(fd)


def package_versions() -> dict[str, str]:
    """Versions of Python and of the packages a report depends on."""
    versions = {"python": platform.python_version()}
    for name in VERSIONED:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def code_revision(where: Path | None = None) -> dict[str, Any]:
    """The git commit of the code and whether the tree has changes; ``unknown`` outside git."""
    where = where or Path(__file__).resolve().parent

    def git(*args: str) -> str:
        done = subprocess.run(
            ["git", "-C", str(where), *args], capture_output=True, text=True, timeout=30, check=True
        )
        return done.stdout.strip()

    try:
        return {"revision": git("rev-parse", "HEAD"), "dirty": bool(git("status", "--porcelain"))}
    except (OSError, subprocess.SubprocessError):
        return {"revision": "unknown", "dirty": None}


def code_digest(package_dir: Path | None = None) -> str:
    """SHA-256 over the audit package's own files, so a resumed run notices edited code."""
    package_dir = package_dir or Path(__file__).resolve().parent
    digest = hashlib.sha256()
    for path in sorted(package_dir.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
            digest.update(path.relative_to(package_dir).as_posix().encode() + b"\0")
            digest.update(sha256_file(path).encode())
    return digest.hexdigest()


def read_manifest(run_dir: Path) -> dict[str, Any]:
    """The run folder's manifest; ManifestError when it is missing or unreadable."""
    path = run_dir / MANIFEST
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ManifestError(
            f"{path}: no manifest; the batch did not finish (resume it with audit batch --resume)"
        ) from None
    except (OSError, ValueError) as exc:
        raise ManifestError(f"{path}: unreadable manifest: {exc}") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise ManifestError(f"{path}: not an audit run manifest of format {FORMAT}")
    if manifest.get("kind") == BUNDLE:  # its own manifest: audit verify reads it (audit.publishing)
        source = manifest.get("source", {}).get("run_id", "?")
        raise ManifestError(
            f"{run_dir}: a reviewer bundle (audit publish), not a run folder; "
            f"give the run folder of run {source} it was published from"
        )
    return manifest


def write_manifest(run_dir: Path, manifest: dict[str, Any]) -> Path:
    """Write ``manifest.json`` (atomically) and return its path."""
    path = run_dir / MANIFEST
    write_json(path, {"format": FORMAT, **manifest})
    return path


# --- sign-off ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Signoff:
    """A reviewer's signature on one county's report, as it was when signed."""

    county: str
    reviewer: str
    signed_utc: str
    reports: tuple[FileRecord, ...]
    note: str = ""
    level: str = DEFAULT_LEVEL

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> Signoff:
        """The sign-off from its JSON form."""
        return cls(
            county=str(raw["county"]),
            reviewer=str(raw["reviewer"]),
            signed_utc=str(raw["signed_utc"]),
            reports=tuple(FileRecord.from_json(r) for r in raw["reports"]),
            note=str(raw.get("note", "")),
            level=str(raw.get("level", DEFAULT_LEVEL)),
        )

    def to_json(self) -> dict[str, Any]:
        """The JSON form kept in ``signoffs.json``."""
        return {
            "county": self.county,
            "reviewer": self.reviewer,
            "signed_utc": self.signed_utc,
            "reports": [r.to_json() for r in self.reports],
            "note": self.note,
            "level": self.level,
        }

    def changed_reports(self, run_dir: Path) -> list[str]:
        """Reports that no longer match what was signed (empty when the sign-off holds)."""
        return [r.path for r in self.reports if not r.matches(run_dir)]


def read_signoffs(run_dir: Path) -> list[Signoff]:
    """Every sign-off of the run, oldest first (none when nobody signed yet)."""
    path = run_dir / SIGNOFFS
    if not path.exists():
        return []
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        return [Signoff.from_json(item) for item in raw]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ManifestError(f"{path}: unreadable sign-offs: {exc}") from None


def unit_entry(manifest: dict[str, Any], code: str) -> dict[str, Any]:
    """The manifest's entry for a county (or the roll-up); ParameterError naming the known ones."""
    units = manifest.get("units", [])
    for unit in units:
        if unit["code"] == code:
            return unit
    known = ", ".join(u["code"] for u in units)
    raise ParameterError(f"county {code!r} is not in this run; it has {known}")


def signoff_level(name: str) -> str:
    """The level a name stands for (经办, 复核, 审定 or preparer, reviewer, approver)."""
    level = LEVEL_NAMES.get(name.strip().lower(), name.strip())
    if level not in SIGNOFF_LEVELS:
        known = ", ".join(f"{zh} ({en})" for en, zh in LEVEL_NAMES.items())
        raise ParameterError(f"--level {name!r} is not a sign-off level; choose {known}")
    return level


def held_levels(run_dir: Path, signoffs: list[Signoff] | None = None) -> dict[str, dict[str, Signoff | None]]:
    """Per county, each level's latest sign-off that still holds (None: not signed, or broken)."""
    signoffs = read_signoffs(run_dir) if signoffs is None else signoffs
    held: dict[str, dict[str, Signoff | None]] = {}
    for signoff in signoffs:
        levels = held.setdefault(signoff.county, dict.fromkeys(SIGNOFF_LEVELS))
        if not signoff.changed_reports(run_dir):
            levels[signoff.level] = signoff
    return held


def sign(
    run_dir: Path,
    county: str,
    reviewer: str,
    note: str = "",
    *,
    level: str = DEFAULT_LEVEL,
    now: dt.datetime | None = None,
) -> Signoff:
    """Append a sign-off of ``county``'s report at ``level`` to ``signoffs.json`` and return it."""
    reviewer, note, level = reviewer.strip(), note.strip(), signoff_level(level)
    if not reviewer:
        raise ParameterError("--reviewer must name the person signing")
    with run_lock(run_dir):
        manifest = read_manifest(run_dir)
        unit = unit_entry(manifest, county)
        if unit["status"] != "ok" or not unit["reports"]:
            raise ManifestError(f"{county} has no finished report in this run ({unit['reason'] or 'failed'})")
        recorded = {o["path"]: FileRecord.from_json(o) for o in manifest["outputs"]}
        reports = []
        for rel in unit["reports"]:
            current = FileRecord.of(run_dir / rel, run_dir) if (run_dir / rel).is_file() else None
            if current is None or current != recorded.get(rel):
                raise ManifestError(
                    f"{rel} changed since the batch wrote it; run audit verify before signing"
                )
            reports.append(current)
        signoff = Signoff(county, reviewer, utc_text(now or utc_now()), tuple(reports), note, level)
        signoffs = read_signoffs(run_dir)
        write_json(run_dir / SIGNOFFS, [s.to_json() for s in [*signoffs, signoff]])
    return signoff


# --- verification -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Discrepancy:
    """One thing that no longer matches the manifest or a sign-off."""

    subject: Literal["output", "input", "sign-off", "file"]
    path: str
    problem: Literal["changed", "missing", "broken", "unexpected"]
    detail: str = ""

    def __str__(self) -> str:
        detail = f": {self.detail}" if self.detail else ""
        return f"{self.problem} {self.subject} {self.path}{detail}"


@dataclass(frozen=True)
class Verification:
    """What ``audit verify`` found."""

    outputs: int
    inputs: int
    signoffs: int
    problems: tuple[Discrepancy, ...]
    unavailable: tuple[str, ...]  # inputs not found here (another machine), so not checked

    @property
    def ok(self) -> bool:
        """No output, input or sign-off changed."""
        return not self.problems


def check_file(
    record: FileRecord, root: Path, subject: Literal["output", "input", "file"]
) -> Discrepancy | None:
    """What no longer matches ``record`` under ``root`` (missing, or changed); None when it matches."""
    path = root / record.path
    if not path.is_file():
        return Discrepancy(subject, record.path, "missing")
    size, sha = path.stat().st_size, sha256_file(path)
    if sha == record.sha256:
        return None
    return Discrepancy(
        subject,
        record.path,
        "changed",
        f"sha256 {record.sha256[:12]}… recorded, {sha[:12]}… now, {size} bytes",
    )


def broken_signoffs(signoffs: list[Signoff], folder: Path) -> list[Discrepancy]:
    """A discrepancy for each sign-off whose reports changed since it was given."""
    problems = []
    for signoff in signoffs:
        changed = signoff.changed_reports(folder)
        if changed:
            problems.append(
                Discrepancy(
                    "sign-off",
                    signoff.county,
                    "broken",
                    f"signed by {signoff.reviewer} at {signoff.signed_utc} as {signoff.level}; "
                    f"changed since: {', '.join(changed)}",
                )
            )
    return problems


def verify(run_dir: Path) -> Verification:
    """Recompute every hash the manifest and the sign-offs recorded; list what changed."""
    manifest = read_manifest(run_dir)
    problems: list[Discrepancy] = []
    for raw in manifest["outputs"]:
        found = check_file(FileRecord.from_json(raw), run_dir, "output")
        if found:
            problems.append(found)
    unavailable: list[str] = []
    roots = {name: Path(path) for name, path in manifest["roots"].items()}
    for raw in manifest["inputs"]:
        root = roots[raw["root"]]
        record = FileRecord.from_json(raw)
        if not root.is_dir():
            unavailable.append(f"{raw['root']}:{record.path}")
            continue
        found = check_file(record, root, "input")
        if found:
            problems.append(Discrepancy("input", f"{root / record.path}", found.problem, found.detail))
    signoffs = read_signoffs(run_dir)
    problems += broken_signoffs(signoffs, run_dir)
    return Verification(
        outputs=len(manifest["outputs"]),
        inputs=len(manifest["inputs"]),
        signoffs=len(signoffs),
        problems=tuple(problems),
        unavailable=tuple(unavailable),
    )
