"""The block pipeline of an ingest: reading and repairing ahead on threads (:mod:`audit.ingest.pipeline`)."""

from __future__ import annotations

from contextlib import closing

import pytest

from audit.ingest import pipeline


def _source(n: int, closed: list[str], fail_at: int | None = None):
    """Items 0..n-1, noting in ``closed`` when the generator is closed; ValueError at ``fail_at``."""
    try:
        for i in range(n):
            if i == fail_at:
                raise ValueError(f"unreadable at {i}")
            yield i
    finally:
        closed.append("source")


def _stage_threads() -> list[str]:
    import threading

    return [t.name for t in threading.enumerate() if t.name in ("audit-read", "audit-repair")]


def test_reading_and_repairing_ahead_keeps_every_block_in_order(monkeypatch):
    monkeypatch.setattr(pipeline, "_prepare", lambda table, mapping, block: block * 10)
    closed: list[str] = []
    assert list(pipeline.repaired_blocks(None, None, _source(50, closed))) == [i * 10 for i in range(50)]
    assert closed == ["source"]
    assert not _stage_threads()


def test_a_block_that_cannot_be_read_fails_the_sheet_and_stops_every_thread(monkeypatch):
    monkeypatch.setattr(pipeline, "_prepare", lambda table, mapping, block: block)
    closed: list[str] = []
    with pytest.raises(ValueError, match="unreadable at 7"):
        list(pipeline.repaired_blocks(None, None, _source(50, closed, fail_at=7)))
    assert closed == ["source"]
    assert not _stage_threads()


def test_a_sheet_given_up_halfway_stops_reading_at_once(monkeypatch):
    monkeypatch.setattr(pipeline, "_prepare", lambda table, mapping, block: block)
    closed: list[str] = []
    taken = []
    with closing(pipeline.repaired_blocks(None, None, _source(10_000, closed))) as blocks:
        for block in blocks:
            taken.append(block)
            if block == 3:
                break
    assert taken == [0, 1, 2, 3]
    assert closed == ["source"]  # closed, not left to the garbage collector
    assert not _stage_threads()
