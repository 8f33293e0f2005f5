"""The follow-up journal: append-only records of what happened to findings, chained by hash.

A tracking folder (``--track DIR``, by default ``outputs/tracking/``) holds::

    journal.jsonl          one JSON record a line, numbered from 1; each names the hash of the
                           record before it (the first names 64 zeros) and carries its own hash
    journal.lock           locked while an import, a close or a batch appends
    evidence/<sha256>.<ext>  files attached to records, named by their SHA-256
    runs/<run_id>.json     the findings a run found, recorded by ``audit batch --track``

A record's hash is the SHA-256 of its canonical JSON (keys sorted, no spaces) without the
``hash`` key. :func:`check` recomputes every hash and link, so an edited, removed or
reordered record is reported with its line (the chain alone cannot tell that records were
cut off the end; every run's manifest records the journal's length and last hash for that).

Appending takes the lock (a second writer waits), rereads and checks the journal, writes the
whole new journal to a temporary file, fsyncs it and renames it over the old one: a crash at
any point leaves either the old journal or the new one, never a mix. A damaged journal is
refused and reported, never repaired.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from audit.exceptions import JournalError
from audit.manifest import sha256_file

JOURNAL = "journal.jsonl"
LOCK = "journal.lock"
EVIDENCE = "evidence"
RUNS = "runs"
GENESIS = "0" * 64
LOCK_WAIT_SECONDS = 120.0


def canonical(value: Any) -> str:
    """``value`` as canonical JSON text: sorted keys, no spaces, Chinese kept."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def record_hash(record: Mapping[str, Any]) -> str:
    """SHA-256 of a record's canonical JSON without its ``hash`` key."""
    body = {k: v for k, v in record.items() if k != "hash"}
    return hashlib.sha256(canonical(body).encode("utf-8")).hexdigest()


def _lines(folder: Path) -> list[str]:
    path = folder / JOURNAL
    if not path.exists():
        return []
    try:
        return path.read_bytes().decode("utf-8").splitlines()
    except UnicodeDecodeError as exc:
        raise JournalError(f"{path}: damaged, not UTF-8 text ({exc}); restore it from a copy") from None


def _attachment_problem(folder: Path, line: int, what: str, ref: Mapping[str, Any]) -> str | None:
    path = folder / str(ref.get("file", ""))
    if not path.is_file():
        return f"line {line}: {what} {ref.get('file')} is missing"
    if sha256_file(path) != ref.get("sha256"):
        return f"line {line}: {what} {ref.get('file')} changed since it was recorded"
    return None


def check(folder: Path) -> list[str]:
    """Every problem of the journal in ``folder``, one sentence each (empty when it is intact)."""
    problems: list[str] = []
    previous = GENESIS
    for number, text in enumerate(_lines(folder), start=1):
        try:
            record = json.loads(text)
            if not isinstance(record, dict):
                raise ValueError("not an object")
        except ValueError:
            problems.append(f"line {number}: not a journal record (damaged or cut short)")
            previous = ""
            continue
        if record.get("seq") != number:
            problems.append(
                f"line {number}: holds record {record.get('seq')}: records were removed or reordered"
            )
        if record.get("prev") != previous and previous:
            problems.append(
                f"line {number}: does not follow the record before it: "
                "a record was removed, reordered or edited before it"
            )
        if record_hash(record) != record.get("hash"):
            problems.append(f"line {number}: edited after it was written (its hash does not match)")
        for what in ("evidence", "run"):
            ref = record.get(what)
            if isinstance(ref, dict):
                found = _attachment_problem(folder, number, what, ref)
                if found:
                    problems.append(found)
        previous = str(record.get("hash", ""))
    return problems


def read(folder: Path) -> list[dict[str, Any]]:
    """The journal's records, oldest first; JournalError when it is damaged (never repaired)."""
    problems = check(folder)
    if problems:
        listed = "\n".join(f"  - {p}" for p in problems)
        raise JournalError(
            f"{folder / JOURNAL} is damaged; nothing was read or changed. Run audit verify {folder} "
            f"and restore the journal from a copy:\n{listed}"
        )
    return [json.loads(text) for text in _lines(folder)]


def head(records: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """How long the journal is and its last record's hash (what a run's manifest records)."""
    return {"records": len(records), "last_hash": str(records[-1]["hash"]) if records else GENESIS}


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_durably(path: Path, data: bytes) -> None:
    """Write ``path`` under a temporary name, fsync it, rename it into place and fsync the folder."""
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    with open(tmp, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)
    _fsync_dir(path.parent)


@dataclass
class Appender:
    """The journal as read under its lock; :meth:`commit` appends records to it."""

    folder: Path
    records: list[dict[str, Any]]
    _added: list[dict[str, Any]] = field(default_factory=list)

    def attach(self, source: Path) -> dict[str, str]:
        """Copy an evidence file into the folder (named by its hash); its reference for a record."""
        digest = sha256_file(source)
        name = f"{digest}{source.suffix.lower()}"
        target = self.folder / EVIDENCE / name
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            write_durably(target, source.read_bytes())
        return {"name": source.name, "file": f"{EVIDENCE}/{name}", "sha256": digest}

    def keep(self, name: str, value: Any) -> dict[str, str]:
        """Write a JSON attachment under ``runs/`` (for a run's findings); its reference."""
        data = (canonical(value) + "\n").encode("utf-8")
        target = self.folder / RUNS / f"{name}.json"
        target.parent.mkdir(parents=True, exist_ok=True)
        write_durably(target, data)
        return {"file": f"{RUNS}/{name}.json", "sha256": hashlib.sha256(data).hexdigest()}

    def commit(self, bodies: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
        """Append ``bodies`` as chained records in one atomic write; the records written."""
        if not bodies:
            return []
        previous = str(self.records[-1]["hash"]) if self.records else GENESIS
        added = []
        for offset, body in enumerate(bodies, start=len(self.records) + 1):
            record = {**{k: v for k, v in body.items() if k not in ("seq", "prev", "hash")}}
            record["seq"], record["prev"] = offset, previous
            record["hash"] = previous = record_hash(record)
            added.append(record)
        lines = [canonical(r) for r in [*self.records, *added]]
        write_durably(self.folder / JOURNAL, ("\n".join(lines) + "\n").encode("utf-8"))
        self.records.extend(added)
        return added


@contextlib.contextmanager
def appending(folder: Path, *, wait: float = LOCK_WAIT_SECONDS) -> Iterator[Appender]:
    """Hold the journal's lock, read and check it, and give an :class:`Appender`.

    A second writer waits up to ``wait`` seconds; the kernel drops the lock if the holder dies.
    """
    folder.mkdir(parents=True, exist_ok=True)
    fd = os.open(folder / LOCK, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise JournalError(
                        f"{folder}: another import, close or batch has held the journal for "
                        f"{wait:.0f} s; try again when it ends"
                    ) from None
                time.sleep(0.05)
        for stale in folder.glob(f".{JOURNAL}.tmp-*"):  # left by a writer that died before its rename
            stale.unlink(missing_ok=True)
        yield Appender(folder, read(folder))
    finally:
        os.close(fd)


def holds(folder: Path, records: int, last_hash: str) -> str | None:
    """Why the journal no longer holds the first ``records`` records a run read (None if it does).

    The chain cannot show that records were cut off its end; a run's manifest can.
    """
    if records == 0:
        return None
    lines = _lines(folder)
    if len(lines) < records:
        return f"a run read {records} records; it now has {len(lines)}: records were removed from its end"
    try:
        found = json.loads(lines[records - 1]).get("hash")
    except ValueError:
        found = None
    if found != last_hash:
        return f"record {records} is not the one a run read (hash {last_hash[:12]}…)"
    return None
