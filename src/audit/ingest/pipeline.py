"""The block pipeline: a sheet's blocks read, and repaired, each a block ahead on a thread of its own.

Reading (parsing a CSV, decoding a workbook) and repairs depend on the block alone and run
mostly in Arrow without the GIL, so they overlap the validation of the block before;
the order of the blocks, and so every result, does not depend on the threads.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TypeVar

import numpy as np
import pandas as pd
import pyarrow as pa

from audit import readers, repairs
from audit.datacontract import Kind, Table

_T = TypeVar("_T")


@dataclass(frozen=True)
class Prepared:
    """A block with its blank and totals rows found and the other rows repaired."""

    frame: pd.DataFrame  # the block as read
    all_rows: np.ndarray  # src_row of every row read
    blank: np.ndarray
    totals: np.ndarray
    raw: pd.DataFrame  # the data rows by contract column, as read
    rows: np.ndarray  # their src_row
    repaired: dict[str, repairs.Repaired]
    present: dict[str, np.ndarray]  # IDs and accounts: where a value was given
    # (column, twin's header) -> where the twin differs from the column kept (see map_headers)
    twins: dict[tuple[str, str], np.ndarray] = field(default_factory=dict)


def key_columns(table: Table) -> list[str]:
    """Columns whose values must be unique, and the key; a totals word in them marks a totals row."""
    out = [c.name for c in table.columns if c.unique]
    return out + [c for c in table.key if c not in out]


def _prepare(table: Table, mapping: repairs.HeaderMapping, block: readers.Block) -> Prepared:
    """Find the blank and totals rows of a block and repair the others (the block alone decides)."""
    frame, rows = block.frame, block.rows
    raw = pd.DataFrame({c: frame[p] for c, p in mapping.positions.items()}, index=frame.index)
    blank = repairs.blank_rows(raw)
    keys = [mapping.positions[c] for c in key_columns(table) if c in mapping.positions]
    totals = ~blank & repairs.totals_rows(frame, keys)
    keep = ~blank & ~totals
    if not keep.all():  # a frame is copied only when there are rows to leave out
        raw = raw[keep].reset_index(drop=True)
        rows = rows[keep]
    else:
        raw = raw.reset_index(drop=True)
    encoded = {c: block.encoded[p] for c, p in mapping.positions.items() if p in block.encoded}
    if encoded and not keep.all():
        encoded = {c: values.filter(pa.array(keep)) for c, values in encoded.items()}
    repaired = {}
    twins = {}
    if not raw.empty:
        for c in raw.columns:
            if c in mapping.scales:  # an amount in 万元
                repaired[c] = repairs.repair_scaled(table.column(c), raw[c], mapping.scales[c])
            else:
                repaired[c] = repairs.repair(table.column(c), raw[c], encoded.get(c))
        for c, others in mapping.twins.items():
            for position, label in others:
                twin = frame[position][keep].reset_index(drop=True) if not keep.all() else frame[position]
                _, differ = repairs.twin_conflicts(table.column(c), repaired[c], twin.reset_index(drop=True))
                twins[(c, label)] = differ
    ids = [c for c in raw.columns if table.column(c).kind in (Kind.ID_NUMBER, Kind.ACCOUNT)]
    present = {c: ~repairs.blank_values(raw[c]) for c in ids}
    return Prepared(frame, block.rows, blank, totals, raw, rows, repaired, present, twins)


def repaired_blocks(
    table: Table, mapping: repairs.HeaderMapping, blocks: Iterator[readers.Block]
) -> Iterator[Prepared]:
    """The blocks of a sheet repaired, each stage a block ahead of the next on a thread of its own.

    Repairs depend on the block alone: the next block is repaired while this one is checked,
    and the one after it read meanwhile (parsing a CSV takes as long as repairing it).
    """
    read = _ahead(blocks, "audit-read")
    try:
        yield from _ahead((_prepare(table, mapping, b) for b in read), "audit-repair")
    finally:
        read.close()  # after the repairing thread has stopped, so that nothing runs it any more


def _ahead(blocks: Iterator[_T], name: str) -> Iterator[_T]:
    """The items of ``blocks``, the next one made on a thread while this one is processed.

    Decoding and repairs run mostly in Arrow without the GIL, so they overlap validation;
    the thread waits for each item to be taken before making another, so at most two are
    in memory per stage. Closing the generator stops the thread (and, through it, any
    stage before).
    """
    handover: queue.Queue = queue.Queue(maxsize=1)
    stop = threading.Event()
    end = object()

    def read() -> None:
        try:
            for block in blocks:
                handover.put(block)
                handover.join()  # wait until it is taken: one block read ahead, not more
                if stop.is_set():
                    return
            handover.put(end)
        except BaseException as exc:  # handed to the consumer, which raises it
            handover.put(exc)
        finally:
            close = getattr(blocks, "close", None)
            if close is not None:
                close()  # a stage before this one stops now, not whenever it is collected

    thread = threading.Thread(target=read, name=name, daemon=True)
    thread.start()
    try:
        while True:
            item = handover.get()
            handover.task_done()
            if item is end:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        while thread.is_alive():  # let a reader blocked on the hand-over finish
            try:
                handover.get(timeout=0.05)
                handover.task_done()
            except queue.Empty:
                pass
        thread.join()
