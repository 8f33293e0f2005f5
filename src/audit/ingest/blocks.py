"""Checks across blocks: keys of unique columns that repeat in different blocks of a table.

A table is validated a block at a time; what one validation of the whole table would find
about keys repeating across blocks is found here. A first reading keeps a 64-bit hash of
every key (8 bytes a row, not the rows); when keys repeat, the table is read again with
them known, and each block reports them as one validation of the whole table would.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from audit.textkeys import large_text
from audit.textkeys import repeated_keys as _repeats
from audit.textkeys import value_keys as _hashes


def arrow_text(values: pd.Series) -> pa.Array:
    """A text column as one Arrow large_string array (no copy for a pandas ``str`` column in one chunk)."""
    return large_text(values if isinstance(values.dtype, pd.StringDtype) else values.astype("str"))


def failures(checked: object) -> pd.DataFrame:
    """The failures of a validation as a frame with a NA-able integer ``index``."""
    found = getattr(checked, "failures", checked)
    found = pd.DataFrame(found).reset_index(drop=True)
    for column in ("index", "column", "check", "value", "message_en", "message_zh", "action"):
        if column not in found:
            found[column] = pd.Series([None] * len(found), dtype=object)
    if found["index"].dtype != "Int64":  # as `validate` gives it for an integer index: nothing to convert
        found["index"] = pd.to_numeric(found["index"], errors="coerce").astype("Int64")
    return found


@dataclass(frozen=True)
class Repeats:
    """Keys of a unique column known to repeat across blocks: by 64-bit hash, or exactly."""

    hashes: np.ndarray | None = None  # sorted
    values: pa.Array | None = None

    def find(self, keys: pd.Series) -> np.ndarray:
        """Where ``keys`` holds one of these keys."""
        text = arrow_text(keys)
        if self.values is not None:
            hit = pc.fill_null(pc.is_in(text, value_set=self.values), False)
            return hit.to_numpy(zero_copy_only=False)
        found = np.zeros(len(text), dtype=bool)
        present = np.flatnonzero(text.is_valid().to_numpy(zero_copy_only=False))
        found[present] = np.isin(_hashes(text.drop_null()), self.hashes, assume_unique=False)
        return found


class BlockKeys:
    """The keys of one reading of a table: hashes seen per block, and the repeats known."""

    def __init__(self) -> None:
        self.batches = 0  # blocks of the current table
        self.hashes: dict[str, list[np.ndarray]] = {}  # unique column -> distinct key hashes per block
        self.repeats: dict[str, Repeats] = {}  # unique column -> keys known to repeat across blocks
        self.marked: dict[str, list[pa.Array]] = {}  # unique column -> values of rows marked as repeats

    def start(self, unique: list[str], repeats: dict[str, Repeats]) -> None:
        """Begin a reading of a table whose unique columns are ``unique``, ``repeats`` known."""
        self.batches, self.repeats = 0, repeats
        self.hashes = {c: [] for c in unique} if not repeats else {}
        self.marked = {c: [] for c in repeats}

    def unique_across_blocks(
        self,
        validate: Callable[[str, pd.DataFrame], object],
        table: str,
        candidates: pd.DataFrame,
        found: pd.DataFrame,
    ) -> pd.DataFrame:
        """Note the keys of a block's rows, and add the failures of keys known to repeat in other blocks.

        A first reading keeps a 64-bit hash of every key of the rows validated (8 bytes a row,
        not the rows). When keys repeat across blocks the table is read again with them
        known: each row holding one is validated once more next to a copy of itself, so the
        schema's own uniqueness check reports it exactly as in one validation of the whole
        table, whatever the blocks (the copy's own failures are dropped).
        """
        repeated = set(found.loc[found["check"] == "unique", "column"].astype("str"))
        for column, parts in self.hashes.items():
            if column in candidates:
                hashes = _hashes(arrow_text(candidates[column]).drop_null())
                # Keys the block's own check found distinct need no de-duplication (a hash two
                # of them share is sorted out by the exact second reading, see `repeated_keys`).
                parts.append(pd.unique(hashes) if column in repeated else hashes)
        marks = {}
        for column, repeat in self.repeats.items():
            if column in candidates:
                mark = repeat.find(candidates[column])
                if mark.any():
                    marks[column] = mark
                    self.marked[column].append(arrow_text(candidates[column][mark]))
        if not marks:
            return found
        either = np.logical_or.reduce(list(marks.values()))
        unique = list(self.repeats)
        copies = []
        for column, mark in marks.items():
            copy = candidates[mark].copy()
            for other in unique:
                if other != column and other in copy:
                    copy[other] = pd.Series(pd.NA, index=copy.index, dtype=copy[other].dtype)
            copies.append(copy)
        copy = pd.concat(copies)
        copy.index = pd.RangeIndex(-len(copy), 0)  # labels no row of the block has
        again = failures(validate(table, pd.concat([candidates[either], copy])))
        again = again[again["index"].notna() & (again["index"] >= 0)]
        seen = set(zip(found["index"], found["column"], found["check"], strict=True))
        fresh = [k not in seen for k in zip(again["index"], again["column"], again["check"], strict=True)]
        return pd.concat([found, again[np.array(fresh, dtype=bool)]], ignore_index=True)

    def repeated_keys(self, repeats: dict[str, Repeats]) -> dict[str, Repeats]:
        """Keys of unique columns that repeat across blocks and are not yet handled; empty when none.

        After a first reading: the hashes seen in more than one block. After a reading with
        hashes known: nothing, unless two different keys shared a hash, in which case the
        keys that really repeat (every copy of them was marked, so they are all known).
        """
        if repeats:
            exact = {}
            for column, repeat in repeats.items():
                values = pa.chunked_array(self.marked.get(column, []), type=pa.large_string())
                counts = pc.value_counts(values)
                if repeat.values is None and pc.any(pc.equal(counts.field("counts"), 1)).as_py():
                    twice = pc.filter(counts.field("values"), pc.greater(counts.field("counts"), 1))
                    exact[column] = Repeats(values=twice)
            return exact
        found = {}
        for column, parts in self.hashes.items():
            if self.batches > 1 and parts:
                seen = np.empty(sum(len(p) for p in parts), dtype=np.uint64)
                at = 0
                while parts:  # moved, not copied: 8 bytes a row once, not twice
                    part = parts.pop(0)
                    seen[at : at + len(part)] = part
                    at += len(part)
                again = _repeats(seen)  # no sort when the keys ascend (numbered in file order)
                if len(again):
                    found[column] = Repeats(hashes=again)
        self.hashes = {}
        return found
