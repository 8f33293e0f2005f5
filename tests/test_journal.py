"""The follow-up journal: chained records, damage reported, one writer at a time, crash-safe."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from audit import journal
from audit.exceptions import JournalError


def _append(folder, *notes, who="张三"):
    with journal.appending(folder) as log:
        return log.commit(
            [{"kind": "note", "who": who, "when": "2021-01-01T00:00:00Z", "note": n} for n in notes]
        )


def _lines(folder):
    return (folder / journal.JOURNAL).read_text(encoding="utf-8").splitlines()


def _write_lines(folder, lines):
    (folder / journal.JOURNAL).write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_records_are_numbered_and_chained(tmp_path):
    first = _append(tmp_path, "a", "b")
    second = _append(tmp_path, "c")
    records = journal.read(tmp_path)
    assert [r["seq"] for r in records] == [1, 2, 3]
    assert records[0]["prev"] == "0" * 64
    assert records[1]["prev"] == records[0]["hash"] == first[0]["hash"]
    assert records[2]["prev"] == records[1]["hash"]
    assert records[2] == second[0]
    assert all(journal.record_hash(r) == r["hash"] for r in records)
    assert journal.check(tmp_path) == []
    assert journal.head(records) == {"records": 3, "last_hash": records[2]["hash"]}


def test_an_empty_folder_is_an_empty_journal(tmp_path):
    assert journal.read(tmp_path) == [] and journal.check(tmp_path) == []


def test_an_edited_record_is_reported(tmp_path):
    _append(tmp_path, "a", "b", "c")
    lines = _lines(tmp_path)
    lines[1] = lines[1].replace('"note":"b"', '"note":"B"')
    _write_lines(tmp_path, lines)
    assert journal.check(tmp_path) == ["line 2: edited after it was written (its hash does not match)"]


def test_an_edited_and_rehashed_record_breaks_the_link_after_it(tmp_path):
    _append(tmp_path, "a", "b", "c")
    records = [json.loads(line) for line in _lines(tmp_path)]
    records[1]["note"] = "B"
    records[1]["hash"] = journal.record_hash(records[1])
    _write_lines(tmp_path, [journal.canonical(r) for r in records])
    assert journal.check(tmp_path) == [
        "line 3: does not follow the record before it: a record was removed, reordered or edited before it"
    ]


def test_a_removed_record_is_reported(tmp_path):
    _append(tmp_path, "a", "b", "c")
    lines = _lines(tmp_path)
    _write_lines(tmp_path, [lines[0], lines[2]])
    problems = journal.check(tmp_path)
    assert problems[0] == "line 2: holds record 3: records were removed or reordered"
    assert "line 2: does not follow the record before it" in problems[1]


def test_reordered_records_are_reported(tmp_path):
    _append(tmp_path, "a", "b", "c")
    lines = _lines(tmp_path)
    _write_lines(tmp_path, [lines[0], lines[2], lines[1]])
    problems = journal.check(tmp_path)
    assert any(p.startswith("line 2: holds record 3") for p in problems)
    assert any(p.startswith("line 3: holds record 2") for p in problems)


def test_a_damaged_journal_is_refused_and_left_as_it_is(tmp_path):
    _append(tmp_path, "a", "b")
    raw = (tmp_path / journal.JOURNAL).read_bytes()
    (tmp_path / journal.JOURNAL).write_bytes(raw[:-20])  # cut short mid-record
    assert journal.check(tmp_path) == ["line 2: not a journal record (damaged or cut short)"]
    with pytest.raises(JournalError, match="is damaged; nothing was read or changed"):
        _append(tmp_path, "c")
    assert (tmp_path / journal.JOURNAL).read_bytes() == raw[:-20]


def test_a_changed_evidence_file_is_reported(tmp_path):
    photo = tmp_path / "photo.jpg"
    photo.write_bytes(b"before")
    folder = tmp_path / "track"
    with journal.appending(folder) as log:
        ref = log.attach(photo)
        log.commit([{"kind": "note", "evidence": ref}])
    assert ref["name"] == "photo.jpg" and ref["file"] == f"evidence/{ref['sha256']}.jpg"
    assert journal.check(folder) == []
    (folder / ref["file"]).write_bytes(b"after")
    assert journal.check(folder) == [f"line 1: evidence {ref['file']} changed since it was recorded"]


def test_two_writers_at_once_never_interleave(tmp_path, monkeypatch):
    real = journal.write_durably
    inside = threading.Event()

    def slow(path, data):
        inside.set()
        time.sleep(0.3)  # long enough that the other writer tries while this one holds the lock
        real(path, data)

    monkeypatch.setattr(journal, "write_durably", slow)
    threads = [
        threading.Thread(
            target=_append, args=(tmp_path, f"{who}1", f"{who}2", f"{who}3"), kwargs={"who": who}
        )
        for who in ("甲", "乙")
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    records = journal.read(tmp_path)
    assert journal.check(tmp_path) == []
    who = [r["who"] for r in records]
    assert who in (["甲"] * 3 + ["乙"] * 3, ["乙"] * 3 + ["甲"] * 3)


def test_a_writer_waits_for_the_lock_then_gives_up(tmp_path):
    blocked = pytest.raises(JournalError, match="another import, close or batch")
    with journal.appending(tmp_path), blocked, journal.appending(tmp_path, wait=0.2):
        pass


_KILLED = """
import os, signal, sys
from pathlib import Path
from audit import journal

real = os.replace
def die(src, dst):
    if str(dst).endswith("journal.jsonl"):
        os.kill(os.getpid(), signal.SIGKILL)  # the new journal is written and fsynced, not yet in place
    real(src, dst)
os.replace = die
with journal.appending(Path(sys.argv[1])) as log:
    log.commit([{"kind": "note", "note": "lost"}])
"""


def test_a_writer_killed_midway_leaves_the_journal_as_it_was(tmp_path):
    _append(tmp_path, "a", "b")
    before = (tmp_path / journal.JOURNAL).read_bytes()
    env = {**os.environ, "PYTHONPATH": str(Path(journal.__file__).parents[1])}
    done = subprocess.run([sys.executable, "-c", _KILLED, str(tmp_path)], env=env, timeout=120)
    assert done.returncode == -signal.SIGKILL
    assert (tmp_path / journal.JOURNAL).read_bytes() == before
    assert list(tmp_path.glob(".journal.jsonl.tmp-*"))  # its half-finished file is left over
    assert journal.check(tmp_path) == []
    _append(tmp_path, "c")  # the next writer takes the lock the dead one held and clears its file
    assert [r["note"] for r in journal.read(tmp_path)] == ["a", "b", "c"]
    assert not list(tmp_path.glob(".journal.jsonl.tmp-*"))
