"""Ingest a county submission: read → repair → validate → quarantine → store, with row accounting.

Files are taken one at a time in contract order (divisions before the tables whose county
comes from them, the roll before the payments), and big files in blocks of rows (as many as
their format's :data:`~audit.readers.BLOCK_ROWS`), so memory stays bounded by a block, not by
the submission (what grows with a table is 8 bytes a row, the hash of its unique key). The
next block is read and repaired, and the last one written, on other threads while a block is
checked (against the tables read before it, too: see ``_Run.referential``); the result
does not depend on the blocks: keys repeating across blocks are quarantined as in one
validation of the whole table (see ``_Run.unique_across_blocks``), and the store's files
are byte for byte the same. For every
file and sheet, ``rows_read = rows_loaded + rows_quarantined + rows_skipped`` where the
skipped rows are blank rows and totals rows, which are not data; the manifest records
each count. A row that cannot be used is quarantined with its location and the reason;
a table that cannot be used at all (unreadable file, missing column, a whole column of IDs
stored as numbers) is a :class:`~audit.exceptions.TableError`, and every such error is
collected before the run stops.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import importlib
import os
import queue
import re
import threading
import unicodedata
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import closing
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path
from types import ModuleType
from typing import TypeVar

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from audit import __version__, allocator, checks, readers, repairs
from audit.contract import CITY_CODE, TABLES, Kind, Table
from audit.exceptions import InputError, TableError, TableErrors
from audit.identifiers import large_text, text_hashes
from audit.identifiers import repeated_keys as _repeats
from audit.identifiers import value_keys as _hashes
from audit.repairs import Issue
from audit.store import (
    LOCATION,
    QUALITY_COLUMNS,
    StoreWriter,
    partitioned,
    quality_schema,
    table_schema,
    to_frame,
)

REFERENCE_ROWS = 1_048_576
"""Rows of a stored table checked against other tables at a time (only the columns compared)."""

ACCOUNTING = (
    "rows_read = rows_loaded + rows_quarantined + rows_skipped; rows_skipped = rows_blank + rows_totals "
    "(blank rows and totals rows such as 合计 are not data). Rows of the header block (title rows, "
    "blank rows above the header, the header) are not counted as rows read."
)

# Where a row's county comes from when the file has no county column: table -> code column.
_COUNTY_FROM = {
    "divisions": "division_code",
    "offices": "division_code",
    "beneficiaries": "division_code",
    "staff": "post_code",
}
_CODE = r"\d{6}(?:\d{3})?"
_T = TypeVar("_T")
_ACTIONS = {"quarantine": "quarantined", "flag": "flagged"}

FUTURE_DATE = Issue(
    "date after today",
    "date is later than the day of ingest",
    "日期晚于导入当日",
)
BAD_ROW = Issue(
    "wrong number of fields",
    "the row has a different number of fields than the header (a comma inside a value without quotes?)",
    "该行字段数与表头不一致（值中含未加引号的逗号？）",
)


@dataclass
class SheetAccount:
    """Where the rows of one sheet (or one CSV or Parquet file) went."""

    table: str
    file: str
    sheet: str
    header_rows: tuple[int, ...] = ()
    rows_read: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    rows_blank: int = 0
    rows_totals: int = 0
    ignored_columns: tuple[str, ...] = ()

    @property
    def rows_skipped(self) -> int:
        """Blank and totals rows: read, but not data."""
        return self.rows_blank + self.rows_totals

    def check(self) -> None:
        """Fail loudly when a row is unaccounted for (a bug, never bad data)."""
        accounted = self.rows_loaded + self.rows_quarantined + self.rows_skipped
        if self.rows_read != accounted:
            raise AssertionError(
                f"{self.file} {self.sheet}: {self.rows_read} rows read but {accounted} accounted for"
            )

    def counts(self) -> dict[str, int]:
        """The row counts, as in the manifest."""
        return {
            "rows_read": self.rows_read,
            "rows_loaded": self.rows_loaded,
            "rows_quarantined": self.rows_quarantined,
            "rows_skipped": self.rows_skipped,
            "rows_blank": self.rows_blank,
            "rows_totals": self.rows_totals,
        }


@dataclass(frozen=True)
class Ignored:
    """A file (or sheet) of the submission that was not read, and why."""

    path: str
    reason: str


@dataclass(frozen=True)
class IngestResult:
    """What an ingest did: per-sheet accounting, the data-quality log, the manifest."""

    store: Path | None
    sheets: tuple[SheetAccount, ...]
    ignored: tuple[Ignored, ...]
    quality: pd.DataFrame
    manifest: dict
    errors: tuple[TableError, ...] = ()

    @property
    def rows_quarantined(self) -> int:
        """Rows quarantined over every table."""
        return sum(s.rows_quarantined for s in self.sheets)

    def table_counts(self, table: str) -> dict[str, int]:
        """Row counts of ``table`` summed over its sheets."""
        out = dict.fromkeys(SheetAccount("", "", "").counts(), 0)
        for sheet in self.sheets:
            if sheet.table == table:
                for key, value in sheet.counts().items():
                    out[key] += value
        return out

    def tables(self) -> tuple[str, ...]:
        """Tables that had a file, in contract order."""
        seen = {s.table for s in self.sheets}
        return tuple(t for t in TABLES if t in seen)


# ------------------------------------------------------------------------------------ discovery


def table_of(path: Path) -> str | None:
    """The contract table a file is for, from its name (English or Chinese), or None."""
    stem = unicodedata.normalize("NFKC", path.stem).strip().lower()
    for name, table in TABLES.items():
        if stem in (name, table.zh):
            return name
    return None


def discover(source: Path) -> tuple[dict[str, list[Path]], list[Ignored]]:
    """Files of a submission folder by table, and everything else with the reason it is ignored."""
    found: dict[str, list[Path]] = {}
    ignored: list[Ignored] = []
    for entry in sorted(source.iterdir(), key=lambda p: p.name):
        if entry.name.startswith((".", "~$")):
            ignored.append(Ignored(entry.name, "hidden file or Excel lock file"))
        elif entry.is_dir():
            ignored.append(
                Ignored(entry.name, "folder (only files directly in the submission folder are read)")
            )
        elif readers.reader_for(entry) is None:
            ignored.append(
                Ignored(entry.name, f"not a format audit reads ({', '.join(sorted(readers.READERS))})")
            )
        elif (table := table_of(entry)) is None:
            ignored.append(
                Ignored(entry.name, "name is not a table of the contract (" + ", ".join(TABLES) + ")")
            )
        else:
            found.setdefault(table, []).append(entry)
    return found, ignored


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


# ----------------------------------------------------------------------------------------- run


def ingest(
    source_dir: str | os.PathLike,
    store_dir: str | os.PathLike | None = None,
    *,
    today: dt.date | None = None,
    keep_going: bool = False,
    chunk_rows: int | None = None,
    progress: Callable[[str], None] | None = None,
) -> IngestResult:
    """Ingest the submission in ``source_dir`` into a store at ``store_dir`` (None: validate only).

    Table-level errors are collected over every file; then, unless ``keep_going``, the run
    stops with them (:class:`~audit.exceptions.TableErrors` when there are several) and no
    store is written. With ``keep_going`` the tables that failed are left out and listed
    in the manifest. ``today`` (default: the real day) flags dates later than it. Files are
    read in blocks of ``chunk_rows`` rows (default: their format's own,
    :data:`audit.readers.BLOCK_ROWS`). Without a store the manifest is what the store's would
    be, less the files' SHA-256: nothing is kept for it to vouch for, and hashing a large file
    costs as much as parsing it.
    """
    source = Path(source_dir)
    if not source.is_dir():
        raise InputError(f"{source}: no such folder (the submission folder holds one file per table)")
    allocator.tune()
    # A run that keeps no store stages only what its checks across tables read back.
    staged = None if store_dir is not None else _staged_columns(_schemas())
    writer = StoreWriter(Path(store_dir) if store_dir is not None else None, staged)
    run = None
    try:
        run = _Run(
            source,
            writer,
            today or dt.date.today(),
            chunk_rows,
            progress or (lambda _line: None),
            hash_inputs=store_dir is not None,
        )
        run.all()
        if run.errors and not keep_going:
            raise run.errors[0] if len(run.errors) == 1 else TableErrors(run.errors)
        quality = run.quality()
        manifest = run.manifest(keep_going)
        where = writer.commit(manifest, quality) if store_dir is not None else None
    except BaseException:
        writer.abort()
        raise
    finally:
        if run is not None:  # the manifest waited for every digest it needs; any other is not
            run.hashing.shutdown(wait=False, cancel_futures=True)
            run.referring.shutdown(wait=True, cancel_futures=True)
        checks.forget_known()  # the roll's lookup set is tens of megabytes for a big city
    if store_dir is None:
        writer.abort()
    return IngestResult(where, tuple(run.accounts), tuple(run.ignored), quality, manifest, tuple(run.errors))


def _schemas() -> ModuleType:
    # Imported when needed: pandera takes most of a second to import, and `audit --help` needs none of it.
    return importlib.import_module("audit.schemas")


class _Run:
    """The state of one ingest: accounting, the log, and what later tables need of earlier ones."""

    def __init__(
        self,
        source: Path,
        writer: StoreWriter,
        today: dt.date,
        chunk_rows: int | None,
        progress: Callable[[str], None],
        *,
        hash_inputs: bool = True,
    ) -> None:
        self.source, self.writer, self.today = source, writer, np.datetime64(today, "us")
        self.hash_inputs = hash_inputs  # a run that keeps no store writes no manifest to prove it
        self.chunk_rows, self.progress = chunk_rows, progress
        self.schemas = _schemas()
        self.accounts: list[SheetAccount] = []
        self.ignored: list[Ignored] = []
        self.errors: list[TableError] = []
        self.files: dict[str, list[Path]] = {}
        self.log: list[tuple[str, pa.Table]] = []  # (table, entries): see `add_log`
        self.repaired: dict[
            tuple, list
        ] = {}  # (table, county, file, sheet, column, issue) -> [n, row, was, now]
        self.county_names: dict[str, str] = {}  # county-level division names -> code
        self.roll_parts: list[pd.DataFrame] = []
        self.roll: _Roll | None = None
        self.batches = 0  # blocks of the current table
        self.hashes: dict[str, list[np.ndarray]] = {}  # unique column -> distinct key hashes per block
        self.repeats: dict[str, _Repeats] = {}  # unique column -> keys known to repeat across blocks
        self.marked: dict[str, list[pa.Array]] = {}  # unique column -> values of rows marked as repeats
        self.flagged: set[tuple] = set()  # (file, sheet, row, column, check) of flags on key columns
        self.loaded: list[str] = []  # tables that made it into the store
        self.labels: dict[tuple[str, str, str], repairs.HeaderMapping] = {}  # (table, file, sheet) -> headers
        self.references = _references(self.schemas)
        self.early = _early_tables(self.references)  # checked against other tables block by block
        self.now: tuple[dict[str, pd.DataFrame], list[str]] | None = None  # what the current table needs
        self.late: list[pd.DataFrame] = []  # its rows found to quarantine, taken out when it is stored
        # Each file is hashed for the manifest while it is read: hashlib runs without the GIL.
        self.hashing = ThreadPoolExecutor(1, thread_name_prefix="audit-sha256")
        self.referring = ThreadPoolExecutor(1, thread_name_prefix="audit-refer")
        self.digests: dict[Path, Future[str]] = {}

    # ------------------------------------------------------------------------------- tables

    def all(self) -> None:
        self.files, ignored = discover(self.source)
        self.ignored.extend(ignored)
        for table in TABLES:
            paths = self.files.get(table, [])
            if not paths:
                continue
            try:
                if len(paths) > 1:
                    raise TableError(
                        f"several files for table {table} ({', '.join(p.name for p in paths)}): keep one",
                        file=paths[0].name,
                    )
                self.table(table, paths[0])
                self.loaded.append(table)
            except TableError as exc:
                self.errors.append(exc)
                self.drop(table)
        if self.loaded:
            self.referential()
        for account in self.accounts:
            account.check()

    def drop(self, table: str) -> None:
        """Forget a table that failed: its rows, its accounting and its log entries."""
        self.writer.drop_table(table)
        files = {a.file for a in self.accounts if a.table == table}
        self.accounts = [a for a in self.accounts if a.table != table]
        self.log = [(name, part) for name, part in self.log if name != table]
        self.repaired = {k: v for k, v in self.repaired.items() if k[0] != table}
        self.flagged = {k for k in self.flagged if k[0] not in files}
        if table == "beneficiaries":
            self.roll_parts.clear()

    def table(self, name: str, path: Path) -> None:
        if self.hash_inputs:
            self.digests.setdefault(path, self.hashing.submit(_sha256, path))
        # Every table the checks of an early table point to is loaded: its rows are checked as read.
        self.now = self.references_of(name) if name in self.early else None
        ignored = len(self.ignored)
        repeats: dict[str, _Repeats] = {}
        while True:
            self.read_file(name, path, repeats)
            repeats = self.repeated_keys(name, repeats)
            if not repeats:
                break
            # Keys repeat across blocks: read the table again with them known, so that each block
            # reports them as one validation of the whole table would (see `repeated_keys`).
            self.drop(name)
            del self.ignored[ignored:]
        self.writer.close_table(name)
        late, self.now, self.late = self.late, None, []
        self.take_out(name, pd.concat(late, ignore_index=True) if late else None)
        if name == "beneficiaries":
            self.build_roll()
        loaded = sum(self.writer.counts.get(name, {}).values())
        self.progress(f"{path.name}: {loaded} rows loaded")

    def read_file(self, name: str, path: Path, repeats: dict[str, _Repeats]) -> None:
        """Read, repair, validate and stage every sheet of one file."""
        self.batches, self.repeats, self.late = 0, repeats, []
        unique = [c.name for c in TABLES[name].columns if c.unique]
        self.hashes = {c: [] for c in unique} if not repeats else {}
        self.marked = {c: [] for c in repeats}
        reader = readers.reader_for(path)
        used, unmatched = 0, []
        for data in reader(path, path.name, name, self.chunk_rows or readers.block_rows_for(path)):
            if data.header is None:
                if data.empty:
                    self.ignored.append(Ignored(_where(data), "empty sheet"))
                else:
                    unmatched.append(data)
                continue
            used += 1
            self.sheet(name, data)
        if not used:
            only = unmatched[0].sheet if len(unmatched) == 1 and unmatched[0].sheet else None
            raise TableError(_no_header(name), file=path.name, sheet=only)
        for data in unmatched:
            self.ignored.append(Ignored(_where(data), f"no header of table {name} found: sheet not read"))

    def sheet(self, name: str, data: readers.SheetData) -> None:
        table = TABLES[name]
        mapping = repairs.map_headers(name, data.header.labels)
        sheet_county = self.sheet_county(data.sheet)
        missing = [c for c in mapping.missing if not (c == "county_code" and sheet_county)]
        if missing:
            raise TableError(
                _missing(name, missing),
                file=data.file,
                sheet=data.sheet or None,
                row=data.header_rows[-1] if data.header_rows else None,
                column=table.column(missing[0]).zh,
            )
        account = SheetAccount(name, data.file, data.sheet, data.header_rows, ignored_columns=mapping.ignored)
        self.accounts.append(account)
        self.labels[(name, data.file, data.sheet)] = mapping
        lost: dict[str, list[int]] = {}  # column -> [values present, values with lost digits, first row]
        blank_first = 0
        with closing(_repaired(table, mapping, data.blocks)) as blocks:
            for block in blocks:
                first = self.block(table, data, mapping, sheet_county, block, account, lost)
                blank_first = blank_first or first
        for bad in data.bad_rows:
            self.bad_row(table, data, mapping, sheet_county, bad, account)
        if account.rows_blank:
            self.note(name, None, data, "", repairs.BLANK_ROWS, account.rows_blank, blank_first, "", "")
        for pos, (count, row) in sorted(data.merged_fills.items()):
            column = next((c for c, p in mapping.positions.items() if p == pos), None)
            if column is not None:
                label = mapping.label(column)
                self.note(name, None, data, label, repairs.MERGED_FILLED, count, row, "", "")
        for column, (present, gone, row) in lost.items():
            if present and gone == present:
                raise TableError(
                    "every value of the column was stored as a number and lost its last digits "
                    "(e.g. 5.40102E+17): format the column as text in the source system and export again",
                    file=data.file,
                    sheet=data.sheet or None,
                    row=row,
                    column=mapping.label(column),
                )
        account.check()

    # -------------------------------------------------------------------------------- blocks

    def block(
        self,
        table: Table,
        data: readers.SheetData,
        mapping: repairs.HeaderMapping,
        sheet_county: str | None,
        block: _Prepared,
        account: SheetAccount,
        lost: dict[str, list[int]],
    ) -> int:
        """Validate and store one repaired block; returns the first blank row (0 when none)."""
        frame, blank, totals = block.frame, block.blank, block.totals
        account.rows_read += len(frame)
        account.rows_blank += int(blank.sum())
        account.rows_totals += int(totals.sum())
        for i in np.flatnonzero(totals):
            text = next((str(v) for v in frame.iloc[i] if isinstance(v, str) and v.strip()), "")
            entry = _entry(
                table.name, None, data, int(block.all_rows[i]), "", text, repairs.TOTALS_ROW, "repaired"
            )
            self.add_log(pd.DataFrame([entry]))
        first_blank = int(block.all_rows[blank][0]) if blank.any() else 0
        raw, rows = block.raw, block.rows
        if raw.empty:
            return first_blank
        self.batches += 1

        typed: dict[str, pd.Series] = {}
        failures: list[tuple[str, Issue, np.ndarray]] = []
        fixes: list[tuple[str, Issue, np.ndarray]] = []
        for column in raw.columns:
            spec = table.column(column)
            result = block.repaired[column]
            typed[column] = result.values
            failures += [(column, issue, mask) for issue, mask in result.failures.items()]
            fixes += [(column, issue, mask) for issue, mask in result.repairs.items()]
            if spec.kind in (Kind.ID_NUMBER, Kind.ACCOUNT):
                present = block.present[column]
                gone = result.failures.get(repairs.DIGITS_LOST, np.zeros(len(raw), dtype=bool))
                seen = lost.setdefault(column, [0, 0, 0])
                seen[0] += int(present.sum())
                seen[1] += int(gone.sum())
                if gone.any() and not seen[2]:
                    seen[2] = int(rows[np.argmax(gone)])
        county = self.county(table, typed, sheet_county, len(raw))
        store = self.store_frame(table, typed, county, data, rows)
        if county is not None:
            unknown = county.isna().to_numpy(copy=True)
            # A county lost because its source value failed is that value's failure, not a second one.
            source = "person_id" if table.name == "relief_payments" else _COUNTY_FROM.get(table.name)
            for column, _issue, mask in failures:
                if column == source:
                    unknown &= ~mask
            if unknown.any():
                failures.append(("county_code", _county_unknown(table.name), unknown))
        if table.name == "beneficiaries":
            self.roll_parts.append(store[["person_id", "programme", "county_code"]].dropna())
        if table.name == "divisions":
            self.learn_county_names(store)

        failed = np.zeros(len(raw), dtype=bool)
        for _column, _issue, mask in failures:
            failed |= mask
        candidates = store[~failed] if failed.any() else store
        referring = None
        if self.now is not None and len(candidates):
            # Checks against earlier tables need the rows alone: they run on a thread meanwhile, and
            # what they find in rows the schema then quarantines is left out (see `refer`).
            known, wanted = self.now
            part = candidates[wanted].reset_index(drop=True)
            referring = self.referring.submit(self.schemas.referential_failures, {**known, table.name: part})
        found = _failures(self.schemas.validate(table.name, candidates))
        found = self.unique_across_blocks(table.name, candidates, found)
        row_level = found[found["index"].notna()]
        self.table_level(table.name, data, mapping, found[found["index"].isna()])
        positions = row_level["index"].to_numpy(dtype=np.int64)
        quarantined = failed.copy()
        quarantined[positions[(row_level["action"] == "quarantine").to_numpy()]] = True
        loaded = ~quarantined

        # Log: one entry per failing cell of a quarantined row, one per flag.
        for column, issue, mask in failures:
            label = mapping.label(column)
            values = raw[column] if column in raw else store[column]
            self.cells(table.name, data, rows, county, mask, label, values, issue, "quarantined")
        if len(row_level):
            self.schema_cells(table.name, data, mapping, raw, store, row_level)
        self.future_dates(table, data, mapping, raw, store, loaded)
        for column, issue, mask in fixes:
            self.repairs_done(
                table.name,
                data,
                rows,
                county,
                mapping.label(column),
                raw[column],
                typed[column],
                issue,
                mask & loaded,
            )

        if referring is not None:
            taken = self.refer(table.name, referring.result(), part, loaded[~failed])
            if taken is not None:
                self.late.append(taken)
        self.writer.append(table.name, store[loaded] if quarantined.any() else store)
        if quarantined.any():
            self.writer.quarantine(
                table.name, self.quarantine_frame(table, raw, store, quarantined, failures, row_level)
            )
        account.rows_loaded += int(loaded.sum())
        account.rows_quarantined += int(quarantined.sum())
        return first_blank

    def unique_across_blocks(self, table: str, candidates: pd.DataFrame, found: pd.DataFrame) -> pd.DataFrame:
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
                hashes = _hashes(_arrow_text(candidates[column]).drop_null())
                # Keys the block's own check found distinct need no de-duplication (a hash two
                # of them share is sorted out by the exact second reading, see `repeated_keys`).
                parts.append(pd.unique(hashes) if column in repeated else hashes)
        marks = {}
        for column, repeat in self.repeats.items():
            if column in candidates:
                mark = repeat.find(candidates[column])
                if mark.any():
                    marks[column] = mark
                    self.marked[column].append(_arrow_text(candidates[column][mark]))
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
        again = _failures(self.schemas.validate(table, pd.concat([candidates[either], copy])))
        again = again[again["index"].notna() & (again["index"] >= 0)]
        seen = set(zip(found["index"], found["column"], found["check"], strict=True))
        fresh = [k not in seen for k in zip(again["index"], again["column"], again["check"], strict=True)]
        return pd.concat([found, again[np.array(fresh, dtype=bool)]], ignore_index=True)

    def store_frame(
        self,
        table: Table,
        typed: dict[str, pd.Series],
        county: pd.Series | None,
        data: readers.SheetData,
        rows: np.ndarray,
    ) -> pd.DataFrame:
        """The repaired rows in the columns and dtypes of the store."""
        n = len(rows)
        cols: dict[str, pd.Series] = {}
        for f in table_schema(table.name):
            if f.name == "county_code" and county is not None:
                cols[f.name] = county
            elif f.name in typed:
                cols[f.name] = typed[f.name]
            elif f.name == "src_file":
                cols[f.name] = _constant(data.file, n)
            elif f.name == "src_sheet":
                cols[f.name] = _constant(data.sheet, n)
            elif f.name == "src_row":
                cols[f.name] = pd.Series(rows, dtype="int64")
            else:  # a column the file lacks and nothing derives (only possible for optional columns)
                cols[f.name] = _empty_column(table.column(f.name).kind, n)
        return pd.DataFrame(cols, copy=False)  # pandas copies on write: no column is copied here

    def table_level(
        self, table: str, data: readers.SheetData, mapping: repairs.HeaderMapping, found: pd.DataFrame
    ) -> None:
        """Failures about a whole column: a quarantine one stops the table, a flag one is logged."""
        for entry in found.itertuples(index=False):
            label = mapping.label(entry.column) if isinstance(entry.column, str) else ""
            if entry.action == "quarantine":
                raise TableError(
                    str(entry.message_en), file=data.file, sheet=data.sheet or None, column=label
                )
            issue = Issue(str(entry.check), str(entry.message_en), str(entry.message_zh))
            self.add_log(pd.DataFrame([_entry(table, None, data, None, label, "", issue, "flagged")]))

    def cells(
        self,
        table: str,
        data: readers.SheetData,
        rows: np.ndarray,
        county: pd.Series | None,
        mask: np.ndarray,
        label: str,
        values: pd.Series,
        issue: Issue,
        action: str,
    ) -> None:
        """One log entry per cell in ``mask``."""
        if not mask.any():
            return
        at = np.flatnonzero(mask)
        county_code = None if county is None else pc.dictionary_encode(_arrow_text(county).take(at))
        self.add_log(
            _log_part(
                rows[at],
                _log_values(values, at),
                table=table,
                county_code=county_code,
                file=data.file,
                sheet=data.sheet,
                column=label,
                check=issue.check,
                message_zh=issue.message_zh,
                message_en=issue.message_en,
                action=action,
            )
        )

    def schema_cells(
        self,
        table: str,
        data: readers.SheetData,
        mapping: repairs.HeaderMapping,
        raw: pd.DataFrame,
        store: pd.DataFrame,
        found: pd.DataFrame,
    ) -> None:
        """Log the row failures of the schema: values as found for quarantines, as loaded for flags.

        A block can have a hundred thousand Luhn flags: the log is built per distinct column,
        check and message, the values taken by position, with no Python object per entry.
        """
        positions = found["index"].to_numpy(dtype=np.int64)
        column, names = _coded(found["column"])
        check, check_words = _coded(found["check"])
        zh, zh_words = _coded(found["message_zh"])
        en, en_words = _coded(found["message_en"])
        action, action_words = _coded(found["action"])
        actions = [_ACTIONS.get(a) for a in action_words]
        pieces, order = [], []
        for code in np.unique(column):
            at = np.flatnonzero(column == code)
            name = names[code] if code >= 0 else None
            source = raw[name] if name in raw else store.get(name, None)
            if source is None:  # a column the block lacks: the value the check reported
                pieces.append(_log_values(found["value"], at))
            else:
                pieces.append(_log_values(source, positions[at]))
            order.append(at)
        value = pa.concat_arrays(pieces)
        if len(pieces) > 1:  # back from column order to the order of the entries
            value = value.take(pa.array(np.argsort(np.concatenate(order), kind="stable")))
        rows = store["src_row"].to_numpy()[positions]
        county = store.get("county_code", None)
        labels = [mapping.label(c) if c != "nan" else "" for c in names] + [""]
        part = _log_part(
            rows,
            value,
            table=table,
            county_code=pc.dictionary_encode(_log_values(county, positions)) if county is not None else None,
            file=data.file,
            sheet=data.sheet,
            column=_words(labels, np.where(column < 0, len(names), column)),
            check=_words(check_words, check),
            message_zh=_words(zh_words, zh),
            message_en=_words(en_words, en),
            action=_words(actions, action),
        )
        self.add_log(part)
        keys = set(_key_columns(TABLES[table]))
        flagged = np.array([a == "flagged" for a in actions] + [False])[action]
        keyed = np.array([c in keys for c in names] + [False])[column]
        for i in np.flatnonzero(flagged & keyed):  # few: flags on keys are rare
            name, what = names[column[i]], check_words[check[i]] if check[i] >= 0 else None
            self.flagged.add((data.file, data.sheet, int(rows[i]), name, what))

    def future_dates(
        self,
        table: Table,
        data: readers.SheetData,
        mapping: repairs.HeaderMapping,
        raw: pd.DataFrame,
        store: pd.DataFrame,
        loaded: np.ndarray,
    ) -> None:
        """Flag dates later than today: kept, since the rest of the row is sound, but surely mistyped."""
        county = store.get("county_code", None)
        rows = store["src_row"].to_numpy()
        day = str(self.today)[:10]
        en, zh = f"{FUTURE_DATE.message_en} ({day})", f"{FUTURE_DATE.message_zh}（{day}）"
        issue = Issue(FUTURE_DATE.check, en, zh)
        for column in table.columns:
            if column.kind is Kind.DATE and column.name in raw:
                late = loaded & (store[column.name].to_numpy() > self.today)
                label = mapping.label(column.name)
                self.cells(table.name, data, rows, county, late, label, raw[column.name], issue, "flagged")

    def repairs_done(
        self,
        table: str,
        data: readers.SheetData,
        rows: np.ndarray,
        county: pd.Series | None,
        label: str,
        was: pd.Series,
        now: pd.Series,
        issue: Issue,
        mask: np.ndarray,
    ) -> None:
        """Count repaired values per county, keeping the first as the example."""
        if not mask.any():
            return
        codes = (
            county.to_numpy(dtype=object, na_value="")[mask]
            if county is not None
            else np.full(mask.sum(), "")
        )
        where = np.flatnonzero(mask)
        uniq, first, counts = np.unique(codes.astype(str), return_index=True, return_counts=True)
        for code, i, n in zip(uniq, first, counts, strict=True):
            at = where[i]
            key = (table, code or None, data.file, data.sheet, label, issue)
            seen = self.repaired.get(key)
            if seen is None:
                self.repaired[key] = [int(n), int(rows[at]), _text(was.iloc[at]), _text(now.iloc[at])]
            else:
                seen[0] += int(n)

    def note(
        self,
        table: str,
        county: str | None,
        data: readers.SheetData,
        label: str,
        issue: Issue,
        n: int,
        row: int,
        was: str,
        now: str,
    ) -> None:
        """An aggregated repair entry known at the end of a sheet (blank rows, merged cells)."""
        key = (table, county, data.file, data.sheet, label, issue)
        self.repaired[key] = [n, row, was, now]

    def quarantine_frame(
        self,
        table: Table,
        raw: pd.DataFrame,
        store: pd.DataFrame,
        quarantined: np.ndarray,
        failures: list[tuple[str, Issue, np.ndarray]],
        found: pd.DataFrame,
    ) -> pd.DataFrame:
        """Quarantined rows as found (text), with location, county and the checks they failed."""
        at = np.flatnonzero(quarantined)
        checks = pd.DataFrame(
            {
                "pos": np.concatenate(
                    [np.flatnonzero(m) for _c, _i, m in failures]
                    + [found.loc[found["action"] == "quarantine", "index"].to_numpy(dtype=np.int64)]
                ),
                "check": [i.check for _c, i, m in failures for _ in range(int(m.sum()))]
                + found.loc[found["action"] == "quarantine", "check"].astype("str").tolist(),
            }
        )
        joined = checks.drop_duplicates().sort_values(["pos", "check"]).groupby("pos")["check"].agg("; ".join)
        out = raw.iloc[at].reset_index(drop=True).astype("str")
        out["src_file"] = store["src_file"].iloc[at].to_numpy()
        out["src_sheet"] = store["src_sheet"].iloc[at].to_numpy()
        out["src_row"] = store["src_row"].iloc[at].to_numpy()
        if "county_code" in store:
            out["county_code"] = store["county_code"].iloc[at].to_numpy()
        out["checks"] = joined.reindex(at).to_numpy()
        return out

    def bad_row(
        self,
        table: Table,
        data: readers.SheetData,
        mapping: repairs.HeaderMapping,
        sheet_county: str | None,
        bad: readers.BadRow,
        account: SheetAccount,
    ) -> None:
        """A CSV row with the wrong number of fields: blank, totals, or quarantined as found."""
        account.rows_read += 1
        cells = [f.strip() for f in bad.fields]
        first = next((c for c in cells if c), "")
        if not first:
            account.rows_blank += 1
            return
        if re.sub(r"\s+", "", first).startswith(repairs.TOTALS_WORDS):
            account.rows_totals += 1
            entry = _entry(table.name, None, data, bad.row, "", first, repairs.TOTALS_ROW, "repaired")
            self.add_log(pd.DataFrame([entry]))
            return
        account.rows_quarantined += 1
        found = {c: (bad.fields[p] if p < len(bad.fields) else "") for c, p in mapping.positions.items()}
        issue = Issue(
            BAD_ROW.check,
            f"{BAD_ROW.message_en}: {len(bad.fields)} fields, header {len(data.header.labels)}",
            f"{BAD_ROW.message_zh}：{len(bad.fields)}个字段，表头{len(data.header.labels)}个",
        )
        entry = _entry(
            table.name, sheet_county, data, bad.row, "", ",".join(bad.fields), issue, "quarantined"
        )
        self.add_log(pd.DataFrame([entry]))
        row = {**found, "src_file": data.file, "src_sheet": data.sheet, "src_row": bad.row}
        row.update({"county_code": sheet_county, "checks": BAD_ROW.check})
        self.writer.quarantine(table.name, pd.DataFrame([row]))

    # -------------------------------------------------------------------------------- county

    def sheet_county(self, sheet: str) -> str | None:
        """The county a sheet is named after (a 6-digit code, or a county name in the divisions)."""
        if not sheet:
            return None
        name = re.sub(r"\s+", "", unicodedata.normalize("NFKC", sheet))
        code = re.search(r"(?<!\d)(\d{6})(?!\d)", name)
        if code:
            return code.group(1)
        if "市本级" in name:
            return CITY_CODE
        hits = {c for n, c in self.county_names.items() if n and (n in name or name in n)}
        return hits.pop() if len(hits) == 1 else None

    def learn_county_names(self, store: pd.DataFrame) -> None:
        counties = store[
            (store["level"] == "county") & store["division_code"].str.fullmatch(r"\d{6}").fillna(False)
        ]
        for name, code in zip(counties["name"], counties["division_code"], strict=True):
            if isinstance(name, str):
                self.county_names[re.sub(r"\s+", "", name)] = code

    def county(
        self, table: Table, typed: dict[str, pd.Series], sheet_county: str | None, n: int
    ) -> pd.Series | None:
        """County of each row: its own column, else the sheet name, else its code or the roll."""
        if not partitioned(table.name):
            return None
        county = typed.get("county_code")
        if county is None:
            county = pd.Series(pa.nulls(n, pa.string()).to_pandas(), dtype="str")
        if sheet_county:
            county = county.fillna(sheet_county)
        source = _COUNTY_FROM.get(table.name)
        if source and source in typed and county.isna().any():
            code = typed[source]
            county = county.fillna(code.str.slice(0, 6).where(code.str.fullmatch(_CODE).fillna(False)))
        if table.name == "relief_payments" and county.isna().any() and self.roll is not None:
            need = county.isna().to_numpy()
            county = county.copy()
            county[need] = self.roll.county(typed["person_id"][need], typed["programme"][need])
        return county.astype("str")

    def build_roll(self) -> None:
        """Who is on which county's roll, for payments without a county column."""
        if not self.roll_parts:
            return
        self.roll = _Roll(pd.concat(self.roll_parts, ignore_index=True))
        self.roll_parts.clear()

    # ------------------------------------------------------------------ checks across blocks

    def repeated_keys(self, name: str, repeats: dict[str, _Repeats]) -> dict[str, _Repeats]:
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
                    exact[column] = _Repeats(values=twice)
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
                    found[column] = _Repeats(hashes=again)
        self.hashes = {}
        return found

    # ------------------------------------------------------------------ checks across tables

    def referential(self) -> None:
        """Checks between tables (codes that must exist elsewhere), on the staged tables.

        Tables whose references all point to tables read before them (every table of the
        contract) were checked block by block as they were read (:func:`_early_tables`);
        the others are checked here, in slices of :data:`REFERENCE_ROWS` rows, reading only the
        columns its checks read, against only the columns of the tables they point to: the
        memory does not grow with the table (a schemas module that does not list its
        references in ``REFERENCES`` is given every table whole).
        """
        check = getattr(self.schemas, "referential_failures", None)
        if check is None:
            return
        references = getattr(self.schemas, "REFERENCES", None)
        if references is None:
            staged = _Staged(self.writer, self.loaded)
            found = check(staged)
            if found is None or not len(found):
                return
            for name, part in found.groupby("table", sort=False):
                if name in staged.cache:
                    self.take_out(str(name), self.apply_late(str(name), staged.cache[name], _failures(part)))
            return
        for name in self.loaded:
            if name in self.early:
                continue  # checked block by block as it was read
            needs = self.references_of(name)
            if needs is None:
                continue
            known, wanted = needs
            out = [
                self.check_part(name, known, part) for part in self.writer.scan(name, wanted, REFERENCE_ROWS)
            ]
            out = [taken for taken in out if taken is not None]
            self.take_out(name, pd.concat(out, ignore_index=True) if out else None)

    def references_of(self, name: str) -> tuple[dict[str, pd.DataFrame], list[str]] | None:
        """What checking ``name`` against the tables loaded so far needs: their columns, and its own.

        None when none of its references applies (a table it points to is missing).
        """
        targets: dict[str, set[str]] = {}
        columns: set[str] = set()
        for ref in self.references or ():
            needs = _target_columns(ref, self.loaded) if ref.table == name else None
            if needs is None or name in needs:
                continue
            for target, cols in needs.items():
                targets.setdefault(target, set()).update(cols)
            columns |= {ref.column, *(ref.only_where[:1] if ref.only_where else ())}
        if not columns:
            return None
        known = {}
        for target, cols in targets.items():
            frame = self.writer.read(target, [c for c in table_schema(target).names if c in cols])
            # Repeats are left in: the lookup sets of text keep each value once, and finding them
            # in a roll of a million people would cost more than it saves.
            known[target] = frame
        columns |= {*LOCATION, "county_code"} & set(table_schema(name).names)
        return known, [c for c in table_schema(name).names if c in columns]

    def check_part(
        self, name: str, known: dict[str, pd.DataFrame], part: pd.DataFrame
    ) -> pd.DataFrame | None:
        """Check rows of ``name`` against ``known``: failures logged, rows to quarantine returned."""
        found = self.schemas.referential_failures({**known, name: part})
        if found is None or not len(found):
            return None
        return self.apply_late(name, part, _failures(found[found["table"] == name]))

    def refer(
        self, name: str, found: pd.DataFrame, part: pd.DataFrame, kept: np.ndarray
    ) -> pd.DataFrame | None:
        """Log what the checks against earlier tables found in the rows of ``part`` that are ``kept``.

        The failures are renumbered to those rows, as if only they had been checked: a row the
        schema quarantines is checked no further. Returns the rows to quarantine, as `check_part`.
        """
        found = found[found["table"] == name]
        if not len(found):
            return None
        if not kept.all():
            at = pd.to_numeric(found["index"], errors="coerce").to_numpy(dtype=float)
            row = np.nan_to_num(at, nan=0).astype(np.int64)
            still = ~np.isnan(at) & kept[row]
            found = found[still].assign(index=(np.cumsum(kept) - 1)[row[still]])
            part = part[kept].reset_index(drop=True)
        return self.apply_late(name, part, _failures(found))

    def apply_late(self, name: str, rows: pd.DataFrame, found: pd.DataFrame) -> pd.DataFrame | None:
        """Log failures found after a table was stored; returns the rows to quarantine (with ``checks``)."""
        if found.empty:
            return None
        found = found[found["index"].notna()]
        positions = found["index"].to_numpy(dtype=np.int64)
        hit = rows.iloc[positions]
        columns = found["column"].astype("str").to_numpy(dtype=object)
        key = zip(
            hit["src_file"],
            hit["src_sheet"],
            hit["src_row"].astype(int),
            columns,
            found["check"],
            strict=True,
        )
        fresh = np.array([k not in self.flagged for k in key], dtype=bool)
        found, hit, positions, columns = found[fresh], hit[fresh], positions[fresh], columns[fresh]
        if found.empty:
            return None
        values = [
            _text(rows[c].iloc[p]) if c in rows else _text(v)
            for c, p, v in zip(columns, positions, found["value"], strict=True)
        ]
        labels = [
            self.labels[(name, f, s)].label(c) if (name, f, s) in self.labels else c
            for f, s, c in zip(hit["src_file"], hit["src_sheet"], columns, strict=True)
        ]
        self.add_log(
            pd.DataFrame(
                {
                    "table": name,
                    "county_code": _texts(hit["county_code"]) if "county_code" in hit else None,
                    "file": hit["src_file"].to_numpy(dtype=object),
                    "sheet": hit["src_sheet"].to_numpy(dtype=object),
                    "row": hit["src_row"].to_numpy(),
                    "column": labels,
                    "value": values,
                    "check": found["check"].astype("str").to_numpy(dtype=object),
                    "message_zh": found["message_zh"].astype("str").to_numpy(dtype=object),
                    "message_en": found["message_en"].astype("str").to_numpy(dtype=object),
                    "action": found["action"].map(_ACTIONS).to_numpy(dtype=object),
                }
            )
        )
        out = found["action"].to_numpy() == "quarantine"
        if not out.any():
            return None
        checks = pd.Series(found["check"].to_numpy()[out], index=positions[out]).astype("str")
        at = np.unique(positions[out])
        taken = rows.iloc[at][[c for c in (*LOCATION, "county_code") if c in rows]].reset_index(drop=True)
        taken["checks"] = ["; ".join(sorted(set(checks[checks.index == p]))) for p in at]
        return taken

    def take_out(self, name: str, taken: pd.DataFrame | None) -> None:
        """Move rows found failing after the table was stored from the store to the quarantine."""
        if taken is None or taken.empty:
            return
        rows = self.writer.read_rows(name, taken)
        self.writer.remove(name, taken)
        text = rows.drop(columns=["county_code"], errors="ignore").astype("str")
        text["src_row"] = rows["src_row"].to_numpy()
        if "county_code" in rows:
            text["county_code"] = rows["county_code"].to_numpy()
        checks = rows[list(LOCATION)].merge(taken[[*LOCATION, "checks"]], on=list(LOCATION), how="left")
        text["checks"] = checks["checks"].to_numpy()
        self.writer.quarantine(name, text)
        for (file, sheet), n in rows.groupby(["src_file", "src_sheet"], sort=False).size().items():
            for account in self.accounts:
                if (account.table, account.file, account.sheet) == (name, file, sheet):
                    account.rows_loaded -= int(n)
                    account.rows_quarantined += int(n)

    # ---------------------------------------------------------------------------- outputs

    def add_log(self, part: pd.DataFrame | pa.Table) -> None:
        """Add entries (of one table) to the data-quality log, kept compact until the end.

        A big table can have hundreds of thousands of entries (a Luhn flag on one account in
        twenty): as Arrow, with the texts that repeat dictionary-encoded, they take a tenth
        of the memory of the Python strings they are made of. ``part`` is a frame, or Arrow
        already in that layout (see `_log_part`).
        """
        if not len(part):
            return
        if isinstance(part, pa.Table):
            self.log.append((str(part.column("table")[0].as_py()), part))
        else:
            self.log.append((str(part["table"].iloc[0]), _compact_log(part)))

    def quality(self) -> pd.DataFrame:
        """The data-quality log, sorted by table (contract order), file, sheet, row, column, check."""
        notes = [
            {
                "table": t,
                "county_code": county,
                "file": file,
                "sheet": sheet,
                "row": row,
                "column": label,
                "value": was,
                "check": issue.check,
                "message_zh": f"{issue.message_zh}（共{n}个；如第{row}行：{was}→{now}）"
                if was or now
                else f"{issue.message_zh}（共{n}个；首个在第{row}行）",
                "message_en": f"{issue.message_en} ({n}; e.g. row {row}: {was!r} -> {now!r})"
                if was or now
                else f"{issue.message_en} ({n}; first at row {row})",
                "action": "repaired",
            }
            for (t, county, file, sheet, label, issue), (n, row, was, now) in self.repaired.items()
        ]
        parts = [part for _name, part in self.log]
        if notes:
            parts.append(_compact_log(pd.DataFrame(notes)))
        schema = quality_schema()
        if not parts:
            return to_frame(schema.empty_table(), schema)
        log = pa.concat_tables(parts)
        # Stable, missing first: by table in contract order, then file, sheet, row, column, action, check.
        keys = [_ranks(log.column(c)) for c in ("check", "action", "column")]
        keys.append(pc.fill_null(log.column("row"), -1).to_numpy())
        keys += [_ranks(log.column(c)) for c in ("sheet", "file")]
        keys.append(_ranks(log.column("table"), order=list(TABLES)))
        log = log.take(pa.array(np.lexsort(keys)))
        return to_frame(log.cast(pa.schema([f.with_type(_plain(f.type)) for f in log.schema])), schema)

    def digest(self, path: Path) -> dict[str, str]:
        """``{"sha256": ...}`` of a source file, or nothing when the run does not hash its inputs."""
        if not self.hash_inputs:
            return {}
        return {"sha256": self.digests[path].result() if path in self.digests else _sha256(path)}

    def manifest(self, keep_going: bool) -> dict:
        """What the store holds and where every row came from (no time stamp: see the module doc)."""
        sources = []
        for table in TABLES:
            for path in self.files.get(table, []):
                sheets = [a for a in self.accounts if a.file == path.name and a.table == table]
                if not sheets:
                    continue
                total = {k: sum(s.counts()[k] for s in sheets) for k in sheets[0].counts()}
                sources.append(
                    {
                        "path": path.name,
                        **self.digest(path),
                        "table": table,
                        "sheets": [
                            {
                                "sheet": s.sheet,
                                "header_rows": list(s.header_rows),
                                "ignored_columns": list(s.ignored_columns),
                                **s.counts(),
                            }
                            for s in sheets
                        ],
                        **total,
                    }
                )
        tables = {}
        for table in self.loaded:
            counts = self.writer.counts.get(table, {})
            tables[table] = {
                "rows": sum(counts.values()),
                "rows_quarantined": sum(a.rows_quarantined for a in self.accounts if a.table == table),
                "counties": {c: n for c, n in sorted(counts.items()) if c} if partitioned(table) else {},
            }
        out = {
            "audit_version": __version__,
            "accounting": ACCOUNTING,
            "sources": sources,
            "ignored": [{"path": i.path, "reason": i.reason} for i in self.ignored],
            "tables": tables,
        }
        if keep_going:
            out["errors"] = [str(e) for e in self.errors]
        return out


class _Staged(Mapping[str, pd.DataFrame]):
    """The stored tables, each read from the staging folder only when a check asks for it."""

    def __init__(self, writer: StoreWriter, tables: list[str]) -> None:
        self.writer, self.names, self.cache = writer, list(tables), {}

    def __getitem__(self, name: str) -> pd.DataFrame:
        if name not in self.names:
            raise KeyError(name)
        if name not in self.cache:
            self.cache[name] = self.writer.read(name)
        return self.cache[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self.names)

    def __len__(self) -> int:
        return len(self.names)


# ------------------------------------------------------------------------------------ helpers


@dataclass(frozen=True)
class _Repeats:
    """Keys of a unique column known to repeat across blocks: by 64-bit hash, or exactly."""

    hashes: np.ndarray | None = None  # sorted
    values: pa.Array | None = None

    def find(self, keys: pd.Series) -> np.ndarray:
        """Where ``keys`` holds one of these keys."""
        text = _arrow_text(keys)
        if self.values is not None:
            hit = pc.fill_null(pc.is_in(text, value_set=self.values), False)
            return hit.to_numpy(zero_copy_only=False)
        found = np.zeros(len(text), dtype=bool)
        present = np.flatnonzero(text.is_valid().to_numpy(zero_copy_only=False))
        found[present] = np.isin(_hashes(text.drop_null()), self.hashes, assume_unique=False)
        return found


def _arrow_text(values: pd.Series) -> pa.Array:
    """A text column as one Arrow large_string array (no copy for a pandas ``str`` column in one chunk)."""
    return large_text(values if isinstance(values.dtype, pd.StringDtype) else values.astype("str"))


class _Roll:
    """The county whose roll (救助对象名册) a person is on, for payments without a county column.

    The county of the (person, programme) pair when exactly one county's roll has the pair,
    else of the person when exactly one county's has them. Looked up by hash and confirmed
    on the text, so a block costs its own size, not the roll's.
    """

    def __init__(self, roll: pd.DataFrame) -> None:
        self.roll = roll[["person_id", "programme", "county_code"]]
        # Built when a payment first needs them (most payment files have their counties).
        self.pairs: _Lookup | None = None
        self.persons: _Lookup | None = None

    def county(self, person: pd.Series, programme: pd.Series) -> np.ndarray:
        """The county of each payment's person (None where no single county's roll has them)."""
        if self.pairs is None:
            roll = self.roll.drop_duplicates()
            pairs = roll[roll.groupby(["person_id", "programme"])["county_code"].transform("size") == 1]
            persons = roll[["person_id", "county_code"]].drop_duplicates()
            persons = persons[persons.groupby("person_id")["county_code"].transform("size") == 1]
            self.pairs = _Lookup(_pair_keys(pairs["person_id"], pairs["programme"]), pairs["county_code"])
            self.persons = _Lookup(_arrow_text(persons["person_id"]), persons["county_code"])
        found = self.pairs.get(_pair_keys(person, programme))
        missing = np.flatnonzero(pd.isna(found))
        if len(missing):
            found[missing] = self.persons.get(_arrow_text(person.iloc[missing]))
        return found


def _pair_keys(person: pd.Series, programme: pd.Series) -> pa.Array:
    """Person and programme as one text (missing when either is)."""
    separator = pa.scalar("\x1f", pa.large_string())
    return pc.binary_join_element_wise(_arrow_text(person), _arrow_text(programme), separator)


class _Lookup:
    """Values by distinct text keys, found through a sorted array of the keys' 64-bit hashes."""

    def __init__(self, keys: pa.Array, values: pd.Series) -> None:
        hashes = text_hashes(keys)
        order = np.argsort(hashes, kind="stable")
        self.hashes = hashes[order]
        self.keys = keys.take(pa.array(order))
        self.values = pd.Categorical(values.to_numpy()[order])  # a few counties, not a string a row
        # Two keys sharing a hash (about one roll in 10^7) are looked up by pandas instead.
        shared = len(order) > 1 and bool((self.hashes[1:] == self.hashes[:-1]).any())
        self.index = pd.Index(self.keys.to_pandas(), dtype="str") if shared else None

    def get(self, query: pa.Array) -> np.ndarray:
        """The value of each key of ``query`` (None where unknown or missing)."""
        out = np.full(len(query), None, dtype=object)
        valid = np.flatnonzero(query.is_valid().to_numpy(zero_copy_only=False))
        if not len(valid) or not len(self.hashes):
            return out
        asked = query.drop_null()
        if self.index is not None:
            at = self.index.get_indexer(asked.to_pandas())
            known = at >= 0
            out[valid[known]] = np.asarray(self.values[at[known]], dtype=object)
            return out
        wanted = text_hashes(asked)
        at = np.minimum(np.searchsorted(self.hashes, wanted), len(self.hashes) - 1)
        known = (self.hashes[at] == wanted) & pc.equal(self.keys.take(pa.array(at)), asked).to_numpy(
            zero_copy_only=False
        )
        out[valid[known]] = np.asarray(self.values[at[known]], dtype=object)
        return out


class _Asked(Mapping[str, pd.DataFrame]):
    """Tables by name, noting which ones were asked for."""

    def __init__(self, tables: Mapping[str, pd.DataFrame]) -> None:
        self.tables, self.asked = tables, set()

    def __getitem__(self, name: str) -> pd.DataFrame:
        self.asked.add(name)
        return self.tables[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self.tables)

    def __len__(self) -> int:
        return len(self.tables)


def _staged_columns(schemas: ModuleType) -> dict[str, list[str]] | None:
    """By table, the columns the checks across tables read (None: every column of every table).

    Asked of every table of the contract, a superset of what :meth:`_Run.referential` reads
    of the tables a submission has. A schemas module that does not list its references
    (``REFERENCES``) is given whole tables, so everything is staged for it.
    """
    if getattr(schemas, "referential_failures", None) is None:
        return {}
    references = _references(schemas)
    if references is None:
        return None
    early = _early_tables(references)
    needed: dict[str, set[str]] = {}
    for ref in references:
        if ref.table not in early:  # an early table's rows are checked as read, never read back
            own = {ref.column, *(ref.only_where[:1] if ref.only_where else ())}
            needed.setdefault(ref.table, set()).update(own)
        for target, cols in (_target_columns(ref, list(TABLES)) or {}).items():
            needed.setdefault(target, set()).update(cols)
    return {t: [c for c in table_schema(t).names if c in cols] for t, cols in needed.items()}


def _references(schemas: ModuleType) -> tuple | None:
    """The checks across tables a schemas module lists (None: it checks whole tables, unlisted)."""
    if getattr(schemas, "referential_failures", None) is None:
        return ()
    return getattr(schemas, "REFERENCES", None)


def _early_tables(references: Sequence | None) -> frozenset[str]:
    """Tables checked against others as their blocks are read: every table they point to comes first.

    Tables are read in contract order, so those tables are complete by then; the checks
    give what they would give on the whole table, a second reading of it spared.
    """
    order = list(TABLES)
    early = set()
    for table in {ref.table for ref in references or ()}:
        needs = [_target_columns(ref, order) for ref in references if ref.table == table]
        pointed = {t for need in needs if need is not None for t in need}
        if all(order.index(t) < order.index(table) for t in pointed):
            early.add(table)
    return frozenset(early)


@cache
def _empty_table(table: str) -> pd.DataFrame:
    """A table of the store with no rows (made once: the targets only look at its columns)."""
    return to_frame(table_schema(table).empty_table(), table_schema(table))


def _target_columns(ref: object, tables: Sequence[str]) -> dict[str, list[str]] | None:
    """The staged columns the target of a reference reads, by table; None when it points to nothing.

    Found by offering it empty tables: a target gives None when a table or a column it needs
    is missing (``audit.schemas.Reference``). One column that is enough is all it reads;
    otherwise it gets every column of the tables it asked for.
    """
    empty = {t: _empty_table(t) for t in tables}
    asked = _Asked(empty)
    if ref.target(asked) is None:
        return None
    used = sorted(asked.asked & set(empty))
    if len(used) == 1:
        (table,) = used
        for column in empty[table].columns:
            try:
                if ref.target({table: empty[table][[column]]}) is not None:
                    return {table: [column]}
            except KeyError:  # a target that indexes a missing column instead of checking for it
                continue
    return {t: list(empty[t].columns) for t in used}


@dataclass(frozen=True)
class _Prepared:
    """A block with its blank and totals rows found and the other rows repaired."""

    frame: pd.DataFrame  # the block as read
    all_rows: np.ndarray  # src_row of every row read
    blank: np.ndarray
    totals: np.ndarray
    raw: pd.DataFrame  # the data rows by contract column, as read
    rows: np.ndarray  # their src_row
    repaired: dict[str, repairs.Repaired]
    present: dict[str, np.ndarray]  # IDs and accounts: where a value was given


def _prepare(table: Table, mapping: repairs.HeaderMapping, block: readers.Block) -> _Prepared:
    """Find the blank and totals rows of a block and repair the others (the block alone decides)."""
    frame, rows = block.frame, block.rows
    raw = pd.DataFrame({c: frame[p] for c, p in mapping.positions.items()}, index=frame.index)
    blank = repairs.blank_rows(raw)
    keys = [mapping.positions[c] for c in _key_columns(table) if c in mapping.positions]
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
    repaired = (
        {} if raw.empty else {c: repairs.repair(table.column(c), raw[c], encoded.get(c)) for c in raw.columns}
    )
    ids = [c for c in raw.columns if table.column(c).kind in (Kind.ID_NUMBER, Kind.ACCOUNT)]
    present = {c: ~repairs.blank_values(raw[c]) for c in ids}
    return _Prepared(frame, block.rows, blank, totals, raw, rows, repaired, present)


def _repaired(
    table: Table, mapping: repairs.HeaderMapping, blocks: Iterator[readers.Block]
) -> Iterator[_Prepared]:
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


def _compact_log(part: pd.DataFrame) -> pa.Table:
    """Log entries as Arrow: ``row`` as integers, the other columns as text, repeating ones encoded."""
    arrays = {}
    for name in QUALITY_COLUMNS:
        if name == "row":
            arrays[name] = pa.array(part[name].astype("Int64").array, type=pa.int64())
            continue
        text = _arrow_text(part[name].astype("str"))
        arrays[name] = text if name == "value" else text.dictionary_encode()
    return pa.table(arrays)


def _log_part(rows: np.ndarray, value: pa.Array, **texts: pa.DictionaryArray | str | None) -> pa.Table:
    """Log entries as `_compact_log` makes them, from Arrow: each text per entry or one for all.

    A text shared by every entry is a dictionary of one word: nothing is made per entry.
    """
    arrays = {}
    for name in QUALITY_COLUMNS:
        if name == "row":
            arrays[name] = pa.array(rows, type=pa.int64())
        elif name == "value":
            arrays[name] = value
        elif isinstance(texts[name], pa.Array):
            arrays[name] = texts[name]
        else:
            arrays[name] = _words([texts[name]], np.zeros(len(rows), dtype=np.int32))
    return pa.table(arrays)


def _words(words: Sequence[str | None], at: np.ndarray) -> pa.DictionaryArray:
    """``words[at]`` as a dictionary array, missing for None and for ``at`` -1.

    Each word is in the dictionary once, as `pc.dictionary_encode` would have it: the log
    is sorted by the ranks of the dictionaries' words (see `_ranks`).
    """
    place: dict[str, int] = {}
    code = [-1 if w is None else place.setdefault(w, len(place)) for w in words]
    chosen = np.array([*code, -1], dtype=np.int32)[at]
    missing = chosen < 0
    indices = pa.array(chosen, mask=missing) if missing.any() else pa.array(chosen)
    return pa.DictionaryArray.from_arrays(indices, pa.array(list(place), type=pa.large_string()))


def _coded(values: pd.Series) -> tuple[np.ndarray, list[str]]:
    """A text column as its distinct words and a code per value into them (-1 where missing)."""
    encoded = pc.dictionary_encode(_arrow_text(values))
    return pc.fill_null(encoded.indices, -1).to_numpy(), encoded.dictionary.to_pylist()


def _ranks(column: pa.ChunkedArray, order: Sequence[str] | None = None) -> np.ndarray:
    """Sort ranks of a column of text (by ``order`` when given, else by the text); -1 where missing."""
    if pa.types.is_dictionary(column.type):
        column = column.unify_dictionaries().combine_chunks()
        words, at = column.dictionary, column.indices
    else:
        encoded = pc.dictionary_encode(column.combine_chunks())
        words, at = encoded.dictionary, encoded.indices
    if order is None:
        rank = np.empty(len(words), dtype=np.int64)
        rank[pc.sort_indices(words).to_numpy()] = np.arange(len(words))
    else:
        place = {w: i for i, w in enumerate(order)}
        rank = np.array([place.get(w, -1) for w in words.to_pylist()], dtype=np.int64)
    return np.where(at.is_valid().to_numpy(zero_copy_only=False), rank[pc.fill_null(at, 0).to_numpy()], -1)


def _plain(kind: pa.DataType) -> pa.DataType:
    return kind.value_type if pa.types.is_dictionary(kind) else kind


def _key_columns(table: Table) -> list[str]:
    """Columns whose values must be unique, and the key; a totals word in them marks a totals row."""
    out = [c.name for c in table.columns if c.unique]
    return out + [c for c in table.key if c not in out]


def _failures(checked: object) -> pd.DataFrame:
    """The failures of a validation as a frame with a NA-able integer ``index``."""
    found = getattr(checked, "failures", checked)
    found = pd.DataFrame(found).reset_index(drop=True)
    for column in ("index", "column", "check", "value", "message_en", "message_zh", "action"):
        if column not in found:
            found[column] = pd.Series([None] * len(found), dtype=object)
    if found["index"].dtype != "Int64":  # as `validate` gives it for an integer index: nothing to convert
        found["index"] = pd.to_numeric(found["index"], errors="coerce").astype("Int64")
    return found


def _where(data: readers.SheetData) -> str:
    return f"{data.file} (sheet {data.sheet})" if data.sheet else data.file


def _no_header(table: str) -> str:
    headers = "; ".join(f"{c.zh} / {c.name}" for c in TABLES[table].columns if c.required)
    return (
        f"no header row found in the first {repairs.HEADER_SCAN_ROWS} rows: a row naming at least "
        f"{repairs.header_threshold(table)} of the columns of {table} ({headers}) is expected"
    )


def _missing(table: str, columns: list[str]) -> str:
    parts = [f"{c} (accepted headers: {', '.join(repairs.accepted_headers(table, c))})" for c in columns]
    hint = ""
    if "county_code" in columns:
        hint = "; or split the table into one sheet per county, named after the county"
    return f"required column missing: {'; '.join(parts)}{hint}"


def _county_unknown(table: str) -> Issue:
    source = {
        "relief_payments": (
            "the person and programme are not on exactly one county's roll (救助对象名册)",
            "该人员及救助类别未在唯一一个县区的救助对象名册中",
        ),
    }.get(table)
    if source is None and table in _COUNTY_FROM:
        column = TABLES[table].column(_COUNTY_FROM[table])
        source = (f"{column.zh} is missing or not a 6- or 9-digit code", f"{column.zh}缺失或不是6位或9位代码")
    en, zh = source or ("the sheet is not named after a county", "工作表名称不是县区名称")
    return Issue(
        "county unknown",
        f"cannot tell which county the row belongs to ({en}): add a 县区代码 column",
        f"无法确定该行所属县区（{zh}）：请增加“县区代码”列",
    )


def _entry(
    table: str,
    county: str | None,
    data: readers.SheetData,
    row: int | None,
    column: str,
    value: str,
    issue: Issue,
    action: str,
) -> dict:
    return {
        "table": table,
        "county_code": county,
        "file": data.file,
        "sheet": data.sheet,
        "row": row,
        "column": column,
        "value": value,
        "check": issue.check,
        "message_zh": issue.message_zh,
        "message_en": issue.message_en,
        "action": action,
    }


def _text(value: object) -> str:
    return repairs.example_text(value)


def _texts(values: pd.Series) -> np.ndarray:
    """Values as log text, vectorised (dates as YYYY-MM-DD, missing as empty)."""
    return _log_values(pd.Series(values)).to_numpy(zero_copy_only=False)


def _log_values(values: pd.Series, at: np.ndarray | None = None) -> pa.Array:
    """The values at positions ``at`` (all by default) as log text, an Arrow ``large_string`` array.

    Text is taken from the Arrow array pandas holds and dates are formatted by pandas;
    only other dtypes (numbers read from Parquet, rare in the log) go value by value.
    """
    if isinstance(values.dtype, pd.StringDtype):
        text = _arrow_text(values)
        return pc.fill_null(text if at is None else text.take(at), "")
    values = values if at is None else values.iloc[at]
    if pd.api.types.is_datetime64_any_dtype(values.dtype):
        stamp = values.dt.strftime("%Y-%m-%d %H:%M:%S").str.removesuffix(" 00:00:00")
        return pc.fill_null(_arrow_text(stamp), "")
    return pa.array([_text(v) for v in values], type=pa.large_string())


def _constant(value: str, n: int) -> pd.Series:
    """``n`` copies of one text: a slice of a longer run kept for the next blocks (see `_copies`)."""
    return _copies(value, 1 << max(n - 1, 0).bit_length()).iloc[:n]


@lru_cache(maxsize=4)
def _copies(value: str, n: int) -> pd.Series:
    """``n`` copies of one text, built straight into Arrow buffers (no Python object per row).

    Blocks of a CSV differ in length, so the run is made for a power of two and sliced
    (pandas copies on write, so a frame built from a slice cannot change it).
    """
    data = value.encode()
    offsets = np.arange(n + 1, dtype=np.int64) * len(data)
    arr = pa.LargeStringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(data * n))
    return pd.Series(arr.to_pandas(), dtype="str")


def _empty_column(kind: Kind, n: int) -> pd.Series:
    if kind is Kind.DATE:
        return pd.Series(np.full(n, np.datetime64("NaT", "us")))
    if kind in (Kind.AMOUNT, Kind.NUMBER):
        return pd.Series(np.full(n, np.nan))
    return pd.Series([None] * n, dtype="str")


def summary(result: IngestResult, *, top: int = 3) -> str:
    """A readable account per table: rows read, loaded, quarantined, skipped, and the top failing checks."""
    head = f"{'table':<18}{'read':>10}{'loaded':>10}{'quarantined':>13}{'skipped':>9}"
    lines = [head, "-" * len(head)]
    log = result.quality
    for table in result.tables():
        n = result.table_counts(table)
        line = f"{table:<18}{n['rows_read']:>10}{n['rows_loaded']:>10}"
        line += f"{n['rows_quarantined']:>13}{n['rows_skipped']:>9}"
        if n["rows_skipped"]:
            line += f"  ({n['rows_blank']} blank, {n['rows_totals']} totals)"
        lines.append(line)
        for action in ("quarantined", "flagged"):
            hits = log[(log["table"] == table) & (log["action"] == action)]["check"].value_counts()
            if len(hits):
                shown = ", ".join(f"{check} ({count})" for check, count in hits.head(top).items())
                lines.append(f"    {action}: {shown}")
    for item in result.ignored:
        lines.append(f"ignored: {item.path}: {item.reason}")
    for error in result.errors:
        lines.append(f"not loaded: {error}")
    return "\n".join(lines)
