"""Ingest a county submission: read → repair → validate → quarantine → store, with row accounting.

Files are taken one at a time in contract order (divisions before the tables whose county
comes from them, the roll before the payments), and big files in blocks of rows (as many as
their format's :data:`~audit.readers.BLOCK_ROWS`), so memory stays bounded by a block, not by
the submission (what grows with a table is 8 bytes a row, the hash of its unique key). The
next block is read and repaired, and the last one written, on other threads while a block is
checked (against the tables read before it, too: see :mod:`audit.ingest.references`); the
result does not depend on the blocks: keys repeating across blocks are quarantined as in one
validation of the whole table (see :mod:`audit.ingest.blocks`), and the store's files
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
import importlib
import os
from collections.abc import Callable, Collection, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import closing
from pathlib import Path
from types import ModuleType

import numpy as np
import pandas as pd

from audit import allocator, checks, readers, repairs
from audit.datacontract import TABLES, Kind, Table
from audit.exceptions import InputError, SubmissionError, TableError, TableErrors
from audit.ingest import result as results
from audit.ingest import submissions
from audit.ingest.blocks import BlockKeys, Repeats, failures
from audit.ingest.county import Counties
from audit.ingest.discovery import Discovery, missing_tables, sha256, survey
from audit.ingest.pipeline import Prepared, repaired_blocks
from audit.ingest.quality import QualityLog, entry
from audit.ingest.references import CrossTables, staged_columns
from audit.ingest.result import Ignored, IngestResult, SheetAccount
from audit.ingest.rows import bad_row, quarantine_frame, store_frame
from audit.names import shown
from audit.repairs import Issue
from audit.store import StoreWriter

FUTURE_DATE = Issue(
    "date after today",
    "date is later than the day of ingest",
    "日期晚于导入当日",
)

EXACT_COPY = Issue(
    "exact copy",
    "the row repeats an earlier row exactly: the earlier copy is kept",
    "该行与前面某行完全相同：保留前一行",
)


def ingest(
    source_dir: str | os.PathLike | Sequence[str | os.PathLike],
    store_dir: str | os.PathLike | None = None,
    *,
    today: dt.date | None = None,
    keep_going: bool = False,
    chunk_rows: int | None = None,
    progress: Callable[[str], None] | None = None,
    schemas: ModuleType | None = None,
    required: Collection[str] | None = None,
    leave_out: Collection[str] = (),
    city_code: str | None = None,
    city_from: str = "the parameters file",
    resubmit: bool = False,
) -> IngestResult:
    """Ingest the submission in ``source_dir`` into a store at ``store_dir`` (None: validate only).

    Table-level errors are collected over every file; then, unless ``keep_going``, the run
    stops with them (:class:`~audit.exceptions.TableErrors` when there are several) and no
    store is written. With ``keep_going`` the tables that failed are left out and listed
    in the manifest. ``today`` (default: the real day) flags dates later than it. Files are
    read in blocks of ``chunk_rows`` rows (default: their format's own,
    :data:`audit.readers.BLOCK_ROWS`). Without a store the manifest is what the store's would
    be, less the files' SHA-256: nothing is kept for it to vouch for, and hashing a large file
    costs as much as parsing it. ``schemas`` is the module whose ``validate`` and
    ``referential_failures`` check the rows (default :mod:`audit.schemas`; tests give a
    stand-in). ``required`` are the tables the submission must hold (the command line asks
    for :data:`~audit.ingest.discovery.SUBMITTED_TABLES`, a full audit; None: whatever it
    holds): one with no file is an error naming the file likely meant. ``leave_out`` are
    tables left out on purpose (a partial audit): their files, if any, are not read.
    ``city_code`` is the city's code (``city_from`` says where it was read); without
    it the root of the divisions register (the parent of its counties) is taken, and the result
    says which was used.

    ``source_dir`` may be several folders, as a city receives them (one per county bureau,
    say): their files are read as one submission, a table's rows from every folder that has
    it, each file named ``folder/file`` in the log, the manifest and every message, and the
    manifest lists the folders under ``submissions``. A folder named after a unit (its name
    starts with the county's or the city's 6-digit code) holds that unit's rows only. With
    ``resubmit`` the folders are corrected resubmissions: each replaces the earlier folder
    of its unit in the store at ``store_dir``, which is ingested again from every folder it
    was made from (see :mod:`audit.ingest.submissions`); the replaced folders stay in the
    manifest under ``replaced``, with their hashes.
    """
    sources = submissions.folders(source_dir)
    plan = None
    if resubmit:
        if store_dir is None:
            raise InputError("a resubmission replaces a county's folder in a store: give the store")
        plan = submissions.plan(sources, Path(store_dir))
        sources = plan.sources
    allocator.tune()
    schemas = schemas if schemas is not None else default_schemas()
    # A run that keeps no store stages only what its checks across tables read back.
    staged = None if store_dir is not None else staged_columns(schemas)
    writer = StoreWriter(Path(store_dir) if store_dir is not None else None, staged)
    run = None
    try:
        run = _Run(
            sources,
            writer,
            schemas,
            today or dt.date.today(),
            chunk_rows,
            progress or (lambda _line: None),
            hash_inputs=store_dir is not None,
            required=frozenset(required or ()) - frozenset(leave_out),
            leave_out=frozenset(leave_out),
            city=(city_code, city_from),
            plan=plan,
        )
        run.all()
        if run.errors and not keep_going:
            raise run.errors[0] if len(run.errors) == 1 else TableErrors(run.errors)
        quality = run.log.frame()
        manifest = run.manifest(keep_going)
        if len(sources) > 1 or plan is not None:
            manifest["submissions"] = run.submissions()
            manifest["replaced"] = list(plan.replaced) if plan is not None else []
        where = writer.commit(manifest, quality) if store_dir is not None else None
    except BaseException:
        writer.abort()
        raise
    finally:
        if run is not None:  # the manifest waited for every digest it needs; any other is not
            run.hashing.shutdown(wait=False, cancel_futures=True)
            run.cross.referring.shutdown(wait=True, cancel_futures=True)
        checks.forget_known()  # the roll's lookup set is tens of megabytes for a big city
    if store_dir is None:
        writer.abort()
    return IngestResult(
        where,
        tuple(run.accounts),
        tuple(run.ignored),
        quality,
        manifest,
        tuple(run.errors),
        city_code=run.counties.city_code,
        city_from=run.counties.city_from,
    )


def default_schemas() -> ModuleType:
    """:mod:`audit.schemas`, imported when needed: pandera takes most of a second to import."""
    return importlib.import_module("audit.schemas")


class _Run:
    """The state of one ingest: accounting, the log, and what later tables need of earlier ones."""

    def __init__(
        self,
        sources: list[Path],
        writer: StoreWriter,
        schemas: ModuleType,
        today: dt.date,
        chunk_rows: int | None,
        progress: Callable[[str], None],
        *,
        hash_inputs: bool = True,
        required: frozenset[str] = frozenset(),
        leave_out: frozenset[str] = frozenset(),
        city: tuple[str | None, str] = (None, ""),
        plan: submissions.Plan | None = None,
    ) -> None:
        self.required, self.leave_out = required, leave_out
        self.sources, self.writer, self.today = sources, writer, np.datetime64(today, "us")
        # Several folders: each file named folder/file, and a folder named after a unit holds its rows only.
        self.several = len(sources) > 1 or plan is not None
        self.replacing = plan.units if plan is not None else frozenset()
        self.folder: Path | None = None  # the folder of the file being read
        self.hash_inputs = hash_inputs  # a run that keeps no store writes no manifest to prove it
        self.chunk_rows, self.progress = chunk_rows, progress
        self.schemas = schemas
        self.accounts: list[SheetAccount] = []
        self.ignored: list[Ignored] = []
        self.errors: list[TableError] = []
        self.files: dict[str, list[Path]] = {}
        self.log = QualityLog()
        self.counties = Counties(*city)
        self.keys = BlockKeys()
        self.loaded: list[str] = []  # tables that made it into the store
        self.labels: dict[tuple[str, str, str], repairs.HeaderMapping] = {}  # (table, file, sheet) -> headers
        self.cross = CrossTables(schemas, writer, self.log, self.labels, self.accounts, self.loaded)
        # Each file is hashed for the manifest while it is read: hashlib runs without the GIL.
        self.hashing = ThreadPoolExecutor(1, thread_name_prefix="audit-sha256")
        self.digests: dict[Path, Future[str]] = {}

    # ------------------------------------------------------------------------------- tables

    def label(self, path: Path) -> str:
        """A file's name in messages, the log and the manifest: ``folder/file`` when several folders."""
        return shown(f"{path.parent.name}/{path.name}" if self.several else path.name)

    def survey(self) -> Discovery:
        """What every folder holds, its files named as :meth:`label` names them."""
        if not self.several:
            return survey(self.sources[0])
        out = Discovery()
        for source in self.sources:
            found = survey(source)
            for table, paths in found.found.items():
                out.found.setdefault(table, []).extend(paths)
            out.ignored += [Ignored(f"{shown(source.name)}/{i.path}", i.reason) for i in found.ignored]
            for error in found.refused:
                error.file = f"{shown(source.name)}/{error.file}"
                error.args = (str(error),)
            out.refused += found.refused
            out.elsewhere += [f"{source.name}/{name}" for name in found.elsewhere]
        return out

    def all(self) -> None:
        found = self.survey()
        self.ignored.extend(found.ignored)
        self.errors.extend(found.refused)
        self.errors.extend(missing_tables(found, self.required))
        self.files = {t: paths for t, paths in found.found.items() if t not in self.leave_out}
        for table in sorted(self.leave_out & set(found.found), key=list(TABLES).index):
            for path in found.found[table]:
                self.ignored.append(
                    Ignored(self.label(path), f"table {table} left out on purpose (--leave-out)")
                )
        for table in TABLES:
            paths = self.files.get(table, [])
            if not paths:
                continue
            try:
                if len(paths) > len({p.parent for p in paths}):
                    names = ", ".join(self.label(p) for p in paths)
                    raise TableError(
                        f"several files for table {table} ({names}): keep one"
                        + (" in each folder" if self.several else ""),
                        file=self.label(paths[0]),
                    )
                self.table(table, paths)
                self.loaded.append(table)
            except TableError as exc:
                self.errors.append(exc)
                self.drop(table)
        if self.loaded:
            self.cross.referential()
        for account in self.accounts:
            account.check()

    def drop(self, table: str) -> None:
        """Forget a table that failed: its rows, its accounting and its log entries."""
        self.writer.drop_table(table)
        files = {a.file for a in self.accounts if a.table == table}
        self.accounts[:] = [a for a in self.accounts if a.table != table]  # shared with `cross`
        self.log.drop(table, files)
        self.counties.dropped(table)

    def table(self, name: str, paths: list[Path]) -> None:
        if self.hash_inputs:
            for path in paths:
                self.digests.setdefault(path, self.hashing.submit(sha256, path))
        # Every table the checks of an early table point to is loaded: its rows are checked as read.
        self.cross.begin(name)
        ignored = len(self.ignored)
        repeats: dict[str, Repeats] = {}
        while True:
            self.read_files(name, paths, repeats)
            repeats = self.keys.repeated_keys(repeats)
            if not repeats:
                break
            # Keys repeat across blocks: read the table again with them known, so that each block
            # reports them as one validation of the whole table would (see `BlockKeys.repeated_keys`).
            self.drop(name)
            del self.ignored[ignored:]
        self.writer.close_table(name)
        self.cross.end(name)
        self.counties.closed(name)
        loaded = sum(self.writer.counts.get(name, {}).values())
        self.progress(f"{', '.join(self.label(p) for p in paths)}: {loaded} rows loaded")

    def read_files(self, name: str, paths: list[Path], repeats: dict[str, Repeats]) -> None:
        """Read, repair, validate and stage every sheet of a table's files (one a folder)."""
        self.keys.start([c.name for c in TABLES[name].columns if c.unique], repeats)
        self.cross.restart()
        try:
            for path in paths:
                self.folder = path.parent
                self.counties.folder = submissions.unit_of(path.parent) if self.several else None
                self.read_file(name, path)
        finally:
            self.folder, self.counties.folder = None, None

    def read_file(self, name: str, path: Path) -> None:
        """Read, repair, validate and stage every sheet of one file."""
        reader = readers.reader_for(path)
        used, unmatched = 0, []
        # The name every message, log entry and stored row cites, escaped (audit.names).
        for data in reader(path, self.label(path), name, self.chunk_rows or readers.block_rows_for(path)):
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
            raise TableError(_no_header(name), file=self.label(path), sheet=only)
        for data in unmatched:
            self.ignored.append(Ignored(_where(data), f"no header of table {name} found: sheet not read"))

    def sheet(self, name: str, data: readers.SheetData) -> None:
        table = TABLES[name]
        mapping = repairs.map_headers(name, data.header.labels)
        sheet_county = self.counties.sheet_county(data.sheet)
        # A county's folder gives its rows' county as a sheet named after the county does.
        named = sheet_county or self.counties.folder
        missing = [c for c in mapping.missing if not (c == "county_code" and named)]
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
        header_row = data.header_rows[-1] if data.header_rows else 1
        for issue in data.notes:  # how the file itself was read (UTF-16, tabs)
            self.log.note(name, None, data, "", issue, 1, header_row, "", "")
        with closing(repaired_blocks(table, mapping, data.blocks)) as blocks:
            for block in blocks:
                for (column, twin), differ in block.twins.items():
                    if differ.any():
                        raise TableError(
                            f"columns {mapping.label(column)} and {twin} both give {column} and differ "
                            f"(row {int(block.rows[np.argmax(differ)])}): keep one of them",
                            file=data.file,
                            sheet=data.sheet or None,
                            row=int(block.rows[np.argmax(differ)]),
                            column=twin,
                        )
                first = self.block(table, data, mapping, sheet_county, block, account, lost)
                blank_first = blank_first or first
        for column, others in mapping.twins.items():
            for _position, twin in others:
                self.log.note(
                    name, None, data, twin, repairs.TWIN_COLUMN, 1, header_row, twin, mapping.label(column)
                )
        for bad in data.bad_rows:
            bad_row(self.log, self.writer, table, data, mapping, sheet_county, bad, account)
        if account.rows_blank:
            self.log.note(name, None, data, "", repairs.BLANK_ROWS, account.rows_blank, blank_first, "", "")
        for pos, (count, row) in sorted(data.merged_fills.items()):
            column = next((c for c, p in mapping.positions.items() if p == pos), None)
            if column is not None:
                label = mapping.label(column)
                self.log.note(name, None, data, label, repairs.MERGED_FILLED, count, row, "", "")
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
        block: Prepared,
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
            found = entry(
                table.name, None, data, int(block.all_rows[i]), "", text, repairs.TOTALS_ROW, "repaired"
            )
            self.log.add(pd.DataFrame([found]))
        first_blank = int(block.all_rows[blank][0]) if blank.any() else 0
        raw, rows = block.raw, block.rows
        if raw.empty:
            return first_blank
        self.keys.batches += 1

        typed: dict[str, pd.Series] = {}
        failed_cells: list[tuple[str, Issue, np.ndarray]] = []
        fixes: list[tuple[str, Issue, np.ndarray]] = []
        for column in raw.columns:
            spec = table.column(column)
            result = block.repaired[column]
            typed[column] = result.values
            failed_cells += [(column, issue, mask) for issue, mask in result.failures.items()]
            fixes += [(column, issue, mask) for issue, mask in result.repairs.items()]
            if spec.kind in (Kind.ID_NUMBER, Kind.ACCOUNT):
                present = block.present[column]
                gone = result.failures.get(repairs.DIGITS_LOST, np.zeros(len(raw), dtype=bool))
                seen = lost.setdefault(column, [0, 0, 0])
                seen[0] += int(present.sum())
                seen[1] += int(gone.sum())
                if gone.any() and not seen[2]:
                    seen[2] = int(rows[np.argmax(gone)])
        county = self.counties.county(table.name, typed, sheet_county, len(raw))
        store = store_frame(table, typed, county, data, rows)
        if county is not None:
            unknown = county.isna().to_numpy(copy=True)
            # A county lost because its source value failed is that value's failure, not a second one.
            source = self.counties.source(table.name)
            for column, _issue, mask in failed_cells:
                if column == source:
                    unknown &= ~mask
            if unknown.any():
                failed_cells.append(("county_code", self.counties.unknown(table.name), unknown))
        if county is not None and self.several:
            self.check_submitter(table, data, mapping, raw, store, county)
        copies = self.counties.copies(table.name, store)
        if copies is not None and copies.any():
            first = next(c.name for c in table.columns if c.name in raw)
            failed_cells.append((first, EXACT_COPY, copies))
        self.counties.stored(table.name, store)

        failed = np.zeros(len(raw), dtype=bool)
        for _column, _issue, mask in failed_cells:
            failed |= mask
        candidates = store[~failed] if failed.any() else store
        referring = self.cross.submit(table.name, candidates)
        found = failures(self.validate(table.name, candidates))
        found = self.keys.unique_across_blocks(self.validate, table.name, candidates, found)
        row_level = found[found["index"].notna()]
        self.table_level(table.name, data, mapping, found[found["index"].isna()])
        positions = row_level["index"].to_numpy(dtype=np.int64)
        quarantined = failed.copy()
        quarantined[positions[(row_level["action"] == "quarantine").to_numpy()]] = True
        loaded = ~quarantined

        # Log: one entry per failing cell of a quarantined row, one per flag.
        for column, issue, mask in failed_cells:
            label = mapping.label(column)
            values = raw[column] if column in raw else store[column]
            self.log.cells(table.name, data, rows, county, mask, label, values, issue, "quarantined")
        if len(row_level):
            self.log.schema_cells(table.name, data, mapping, raw, store, row_level)
        self.future_dates(table, data, mapping, raw, store, loaded)
        for column, issue, mask in fixes:
            self.log.repairs_done(
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

        self.cross.collect(table.name, referring, loaded[~failed])
        self.writer.append(table.name, store[loaded] if quarantined.any() else store)
        if quarantined.any():
            self.writer.quarantine(
                table.name, quarantine_frame(table, raw, store, quarantined, failed_cells, row_level)
            )
        account.rows_loaded += int(loaded.sum())
        account.rows_quarantined += int(quarantined.sum())
        return first_blank

    def check_submitter(
        self,
        table: Table,
        data: readers.SheetData,
        mapping: repairs.HeaderMapping,
        raw: pd.DataFrame,
        store: pd.DataFrame,
        county: pd.Series,
    ) -> None:
        """Refuse a row a folder named after a unit may not hold (see :mod:`audit.ingest.submissions`).

        A folder named after a unit holds the rows that unit submits: those of its county of
        record, or that its table's rules say it submits (a worker paid by its contract, the
        city's register). During a resubmission a folder named after no unit may not hold
        rows of a county being replaced: they would stay beside the corrected ones.
        """
        unit = self.counties.folder
        if unit is None and not self.replacing:
            return
        of = county.to_numpy(dtype=object, na_value=None)
        by = self.counties.submitter(table.name, store)
        known = pd.notna(of)
        if unit is not None:
            bad = known & (of != unit)
            if by is not None:
                bad &= by != unit
        else:
            bad = known & np.isin(of, list(self.replacing))
            if by is not None:
                bad &= ~np.isin(by, list(self.replacing))
        if not bad.any():
            return
        at = int(np.argmax(bad))
        source = "county_code" if "county_code" in raw else self.counties.source(table.name)
        column = mapping.label(source) if source and source in raw else None
        rows = int(bad.sum())
        folder = shown(self.folder.name if self.folder is not None else "")
        raise SubmissionError(
            submissions.foreign_rows(table.name, str(of[at]), rows, unit, folder, self.replacing),
            file=data.file,
            sheet=data.sheet or None,
            row=int(block_row(store, at)),
            column=column,
        )

    def table_level(
        self, table: str, data: readers.SheetData, mapping: repairs.HeaderMapping, found: pd.DataFrame
    ) -> None:
        """Failures about a whole column: a quarantine one stops the table, a flag one is logged."""
        for failure in found.itertuples(index=False):
            label = mapping.label(failure.column) if isinstance(failure.column, str) else ""
            if failure.action == "quarantine":
                raise TableError(
                    str(failure.message_en), file=data.file, sheet=data.sheet or None, column=label
                )
            issue = Issue(str(failure.check), str(failure.message_en), str(failure.message_zh))
            self.log.add(pd.DataFrame([entry(table, None, data, None, label, "", issue, "flagged")]))

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
                self.log.cells(
                    table.name, data, rows, county, late, label, raw[column.name], issue, "flagged"
                )

    def validate(self, table: str, rows: pd.DataFrame) -> object:
        """The schemas' validation of ``rows``, the city's code given (divisions' parents)."""
        return self.schemas.validate(table, rows, city_code=self.counties.city_code)

    # ---------------------------------------------------------------------------- outputs

    def digest(self, path: Path) -> dict[str, str]:
        """``{"sha256": ...}`` of a source file, or nothing when the run does not hash its inputs."""
        if not self.hash_inputs:
            return {}
        return {"sha256": self.digests[path].result() if path in self.digests else sha256(path)}

    def submissions(self) -> list[dict]:
        """Each folder read, with its unit and the files read from it (named and hashed as in ``sources``)."""
        read = [p for table in TABLES for p in self.files.get(table, [])]
        return [
            {
                "folder": str(folder.resolve()),
                "unit": submissions.unit_of(folder),
                "files": [{"path": self.label(p), **self.digest(p)} for p in read if p.parent == folder],
            }
            for folder in self.sources
        ]

    def manifest(self, keep_going: bool) -> dict:
        """What the store holds and where every row came from (see :func:`audit.ingest.result.manifest`)."""
        return results.manifest(
            self.files,
            self.accounts,
            self.ignored,
            self.loaded,
            self.writer.counts,
            self.errors if keep_going else None,
            self.digest,
            self.label,
        )


def block_row(store: pd.DataFrame, at: int) -> int:
    """The row number a person sees of the ``at``-th row of a block."""
    return int(store["src_row"].iloc[at])


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
