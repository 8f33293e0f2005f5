"""The columnar store: Parquet partitioned by county, its manifest and the data-quality log.

Layout (``docs/architecture.md``)::

    STORE/
      manifest.json
      tables/<table>/county_code=<code>/part-0.parquet
      tables/<reference table>/part-0.parquet
      quality/issues.parquet
      quarantine/<table>.parquet

A store is complete only when ``manifest.json`` exists; its ``files`` hold the SHA-256 of
every other file, so a damaged file is found (:meth:`Store.damaged`) before anything reads
it. :class:`StoreWriter` builds the store in a hidden sibling folder and renames it into
place as its last step, so an ingest killed half way never leaves a folder that looks like a
store. Files are written deterministically: the same inputs give byte-identical Parquet and
manifest (rows in source order, full row groups of :data:`ROW_GROUP_ROWS` whatever blocks
the rows came in, fixed compression, no pandas or time metadata).

Reading a county opens only that county's partition files, so the memory of a county run
does not grow with the number of counties.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import tempfile
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from audit.datacontract import TABLES, Kind
from audit.exceptions import StoreError

MANIFEST = "manifest.json"
PART = "part-0.parquet"
ROW_GROUP_ROWS = 1 << 15
"""Rows per row group. Every row group of a file but its last is full, so a file's bytes depend on
its rows alone, not on the blocks ingest cut them into; and a buffer per county stays small."""
ENCODERS = min(2, os.cpu_count() or 1)
"""Threads encoding the county files of one block at once (Arrow releases the GIL)."""
PENDING_WRITES = 1
"""Blocks handed to the writer thread and not yet written; beyond this, appending waits."""
LOCATION = ("src_file", "src_sheet", "src_row")
QUALITY_COLUMNS = (
    "table",
    "county_code",
    "file",
    "sheet",
    "row",
    "column",
    "value",
    "check",
    "message_zh",
    "message_en",
    "action",
)
"""Columns of the data-quality log, in order; ``action`` is quarantined, repaired or flagged."""

_ARROW = {
    Kind.DATE: pa.timestamp("us"),
    Kind.AMOUNT: pa.float64(),
    Kind.NUMBER: pa.float64(),
    Kind.COUNT: pa.int64(),
    Kind.FLAG: pa.bool_(),
}
_WRITE = {"compression": "snappy", "use_dictionary": True, "write_statistics": True}
# Kinds whose values repeat: dictionary encoding pays for them; on IDs, keys and numbers it costs
# time and saves nothing.
_DICTIONARY_KINDS = frozenset({Kind.CODE, Kind.CHOICE, Kind.MONTH, Kind.DATE, Kind.FLAG})
# Kinds whose min and max per page can spare a reader data (dates, amounts, counts). Text is left
# out: min and max of strings cost an eighth of the encoding, and no reader filters on them (a
# county's file is found by its folder).
_STATISTICS_KINDS = frozenset({Kind.DATE, Kind.FLAG, Kind.AMOUNT, Kind.NUMBER, Kind.COUNT})


def table_schema(table: str) -> pa.Schema:
    """The Arrow schema of a stored table: contract columns, then where each row came from."""
    fields = [pa.field(c.name, _ARROW.get(c.kind, pa.string())) for c in TABLES[table].columns]
    fields += [pa.field("src_file", pa.string()), pa.field("src_sheet", pa.string())]
    fields.append(pa.field("src_row", pa.int64()))
    return pa.schema(fields)


def quarantine_schema(table: str) -> pa.Schema:
    """The Arrow schema of quarantined rows: location, county, failed checks, then every column as text."""
    fields = [pa.field(n, pa.string()) for n in ("src_file", "src_sheet")]
    fields.append(pa.field("src_row", pa.int64()))
    fields += [pa.field("county_code", pa.string()), pa.field("checks", pa.string())]
    fields += [pa.field(c.name, pa.string()) for c in TABLES[table].columns if c.name != "county_code"]
    return pa.schema(fields)


def quality_schema() -> pa.Schema:
    """The Arrow schema of the data-quality log."""
    return pa.schema([pa.field(n, pa.int64() if n == "row" else pa.string()) for n in QUALITY_COLUMNS])


def partitioned(table: str) -> bool:
    """Whether a table is stored by county (every table except the reference lists)."""
    return not TABLES[table].reference


def frame_dtypes(schema: pa.Schema) -> dict[str, str]:
    """The pandas dtypes of the architecture for an Arrow schema of the store."""
    out = {}
    for f in schema:
        if pa.types.is_string(f.type):
            out[f.name] = "str"
        elif pa.types.is_timestamp(f.type):
            out[f.name] = "datetime64[us]"
        elif pa.types.is_boolean(f.type):
            out[f.name] = "bool"
        elif pa.types.is_floating(f.type):
            out[f.name] = "float64"
        elif f.name == "row":  # the quality log's row is missing for entries about a whole column
            out[f.name] = "Int64"
        else:
            out[f.name] = "int64"
    return out


def to_frame(data: pa.Table, schema: pa.Schema) -> pd.DataFrame:
    """An Arrow table of the store as pandas with the dtypes of the architecture."""
    dtypes = frame_dtypes(schema)
    cols = {}
    for name in data.column_names:
        col = data.column(name)
        if dtypes[name] == "str":
            cols[name] = pd.Series(col.to_pandas(), dtype="str") if len(col) else pd.Series([], dtype="str")
        elif dtypes[name] == "Int64":
            cols[name] = pd.Series(col.to_pandas(types_mapper=lambda _: pd.Int64Dtype()), dtype="Int64")
        else:
            cols[name] = pd.Series(col.to_numpy(zero_copy_only=False)).astype(dtypes[name])
    return pd.DataFrame(cols, columns=data.column_names)


def from_frame(frame: pd.DataFrame, schema: pa.Schema) -> pa.Table:
    """A pandas frame as an Arrow table of exactly ``schema`` (no pandas metadata)."""
    arrays = []
    for f in schema:
        if f.name in frame.columns:
            values = frame[f.name]
            if pa.types.is_string(f.type):
                # A str column as it is: astype would return the same array, at a cost per call.
                text = values.array if values.dtype == "str" else values.astype("str").array
                arrays.append(pa.array(text, type=pa.string(), from_pandas=True))
            elif pa.types.is_timestamp(f.type):
                arrays.append(
                    pa.array(values.to_numpy(dtype="datetime64[us]"), type=f.type, from_pandas=True)
                )
            elif f.name == "row":
                arrays.append(pa.array(values.astype("Int64").array, type=f.type))
            else:
                arrays.append(pa.array(values.to_numpy(), type=f.type, from_pandas=True))
        else:
            arrays.append(pa.nulls(len(frame), f.type))
    return pa.Table.from_arrays(arrays, schema=schema)


class Store:
    """A complete store, opened for reading."""

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path)
        if not self.path.is_dir():
            raise StoreError(f"{self.path}: no store here (run `audit ingest SOURCE --store {self.path}`)")
        try:
            self.manifest: dict = json.loads((self.path / MANIFEST).read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise StoreError(
                f"{self.path}: not a complete store (no {MANIFEST}): its ingest did not finish; ingest again"
            ) from None
        except (OSError, ValueError) as exc:
            raise StoreError(f"{self.path}: unreadable {MANIFEST} ({exc})") from None

    @classmethod
    def open(cls, path: str | os.PathLike) -> Store:
        """Open the store at ``path``; StoreError when it is missing or incomplete."""
        return cls(path)

    @classmethod
    def create(cls, path: str | os.PathLike) -> StoreWriter:
        """Start writing a new store at ``path``; it appears there only on :meth:`StoreWriter.commit`."""
        return StoreWriter(Path(path))

    def damaged(self, hashes: Mapping[str, str] | None = None) -> list[str]:
        """Files the manifest lists whose bytes differ or are gone (paths relative to the store).

        ``hashes`` are the files' SHA-256 when the caller has them already (a batch hashes every
        input); otherwise they are computed here. A store written before the manifest listed its
        files is taken as whole.
        """
        listed: Mapping[str, str] = self.manifest.get("files", {})
        actual = file_hashes(self.path) if hashes is None else hashes
        return sorted(path for path, sha in listed.items() if actual.get(path) != sha)

    def tables(self) -> tuple[str, ...]:
        """Tables the store holds, in contract order."""
        return tuple(t for t in TABLES if t in self.manifest.get("tables", {}))

    def has(self, table: str) -> bool:
        """Whether the store holds ``table``."""
        return table in self.manifest.get("tables", {})

    def counties(self) -> tuple[str, ...]:
        """County codes that have rows in any table, sorted."""
        found = set()
        for entry in self.manifest.get("tables", {}).values():
            found.update(entry.get("counties", {}))
        return tuple(sorted(found))

    def read(
        self, table: str, counties: Iterable[str] | None = None, columns: Sequence[str] | None = None
    ) -> pd.DataFrame | None:
        """Rows of ``table`` (None when the store lacks it), reading only the requested counties' files."""
        if table not in TABLES:
            raise StoreError(f"unknown table {table!r}; tables: {', '.join(TABLES)}")
        if not self.has(table):
            return None
        schema = table_schema(table)
        if columns is not None:
            unknown = [c for c in columns if c not in schema.names]
            if unknown:
                raise StoreError(f"table {table} has no column {', '.join(map(repr, unknown))}")
            schema = pa.schema([schema.field(c) for c in columns])
        folder = self.path / "tables" / table
        if partitioned(table):
            held = self.manifest["tables"][table].get("counties", {})
            wanted = sorted(held) if counties is None else sorted({str(c) for c in counties} & set(held))
            files = [folder / f"county_code={c}" / PART for c in wanted]
        else:
            files = [folder / PART]
        parts = [pq.read_table(f, columns=list(schema.names)) for f in files if f.exists()]
        data = pa.concat_tables(parts) if parts else schema.empty_table()
        return to_frame(data.select(schema.names), schema)

    def quality(self, counties: Iterable[str] | None = None) -> pd.DataFrame:
        """The data-quality log; with ``counties``, only the entries about rows of those counties."""
        data = pq.read_table(self.path / "quality" / "issues.parquet")
        if counties is not None:
            keep = pa.array(sorted({str(c) for c in counties}), type=pa.string())
            data = data.filter(pc.fill_null(pc.is_in(data.column("county_code"), value_set=keep), False))
        return to_frame(data, quality_schema())

    def quarantine(self, table: str) -> pd.DataFrame:
        """The quarantined rows of ``table`` as found, all text, with their location."""
        path = self.path / "quarantine" / f"{table}.parquet"
        schema = quarantine_schema(table)
        data = pq.read_table(path) if path.exists() else schema.empty_table()
        return to_frame(data, schema)

    def unaudited(self, counties: Iterable[str] | None = None) -> pd.DataFrame:
        """Money no rule saw: the quarantined rows and their yuan, per table and county.

        One row per table and county that has quarantined rows (``county_code`` empty when
        it could not be told), with ``rows`` and ``yuan``: the sum of the amounts as found
        that can be read as a number (an amount that cannot be read counts as a row, not as
        yuan). With ``counties``, only those counties' rows.
        """
        parts = []
        wanted = None if counties is None else {str(c) for c in counties}
        for table in self.tables():
            held = self.quarantine(table)
            if held.empty:
                continue
            county = held["county_code"].fillna("").astype("str")
            if wanted is not None:
                held, county = held[county.isin(wanted).to_numpy()], county[county.isin(wanted).to_numpy()]
                if held.empty:
                    continue
            amount = held["amount_yuan"] if "amount_yuan" in held else pd.Series(np.nan, index=held.index)
            yuan = pd.to_numeric(amount.astype("str").str.replace(",", "", regex=False), errors="coerce")
            frame = pd.DataFrame({"county_code": county.to_numpy(), "yuan": yuan.fillna(0.0).to_numpy()})
            grouped = frame.groupby("county_code", sort=True)["yuan"].agg(["size", "sum"]).reset_index()
            parts.append(
                pd.DataFrame(
                    {
                        "table": table,
                        "county_code": grouped["county_code"].astype("str"),
                        "rows": grouped["size"].astype("int64"),
                        "yuan": grouped["sum"].astype("float64"),
                    }
                )
            )
        if not parts:
            return pd.DataFrame(
                {
                    "table": pd.Series([], dtype="str"),
                    "county_code": pd.Series([], dtype="str"),
                    "rows": pd.Series([], dtype="int64"),
                    "yuan": pd.Series([], dtype="float64"),
                }
            )
        return pd.concat(parts, ignore_index=True)


class StoreWriter:
    """Builds a store in a hidden sibling folder and renames it into place on commit.

    Appended rows are split by county, held per file until a row group of
    :data:`ROW_GROUP_ROWS` is full, encoded and written in the background (one block at a
    time, its county files on :data:`ENCODERS` threads), each file in the order its rows
    came: the next block's repairs and checks go on meanwhile, and the bytes do not depend
    on timing. :attr:`counts` and the reading methods wait for it.
    """

    def __init__(self, final: Path | None, staged: Mapping[str, Sequence[str]] | None = None) -> None:
        """A store to be committed at ``final``; or, ``final`` None, a staging area thrown away after.

        ``staged`` names, by table, the only columns to keep (where each row came from and
        its county are always kept; a table not named keeps nothing but its counts), for a
        run that reads back only what its checks across tables need. Such files are not
        compressed: they live for one run.
        """
        self.final = final
        self.staged = {t: tuple(c) for t, c in staged.items()} if staged is not None else None
        if final is not None:
            _check_target(final)
            final.parent.mkdir(parents=True, exist_ok=True)
            self.root = Path(tempfile.mkdtemp(prefix=f".{final.name}.partial-", dir=final.parent))
        else:
            self.root = Path(tempfile.mkdtemp(prefix="audit-validate-"))
        self._jobs = _Jobs()
        # Touched on the writer thread only (through jobs):
        self._files: dict[tuple[str, str | None], _File] = {}
        self._quarantine: dict[str, _File] = {}
        self._counts: dict[str, dict[str, int]] = {}
        self._encoders: ThreadPoolExecutor | None = None
        self._blocks = 0  # blocks handed to files so far, numbered from 1

    @property
    def counts(self) -> dict[str, dict[str, int]]:
        """Rows staged by table, then county ('' for a table not stored by county)."""
        self._jobs.wait()
        return self._counts

    # -------------------------------------------------------------------------------- tables

    def _path(self, table: str, county: str | None) -> Path:
        folder = self.root / "tables" / table
        if county is not None:
            folder = folder / f"county_code={county}"
        return folder / PART

    def append(self, table: str, frame: pd.DataFrame) -> None:
        """Add loaded rows of ``table``, in source order, to their county partitions."""
        if frame.empty:
            return
        self._jobs.submit(self._append, table, from_frame(frame, self._schema(table)))

    def _schema(self, table: str) -> pa.Schema:
        """The columns of ``table`` this writer keeps (see ``staged``)."""
        schema = table_schema(table)
        if self.staged is None:
            return schema
        keep = {*self.staged.get(table, ()), *LOCATION, "county_code"}
        return pa.schema([f for f in schema if f.name in keep])

    def _write_options(self, table: str) -> dict:
        """Write options of a table's files: the store's, or uncompressed ones for a staging area."""
        options = _options(table)
        if self.staged is None:
            return options
        names = set(self._schema(table).names)
        return {
            **options,
            "compression": "none",
            "use_dictionary": [c for c in options["use_dictionary"] if c in names],
            "write_statistics": [c for c in options["write_statistics"] if c in names],
        }

    def _kept(self, table: str) -> pa.Schema:
        """The schema of a table's staged files, or a StoreError for a table whose rows are only counted."""
        if self.staged is not None and table not in self.staged:
            raise StoreError(f"table {table} was counted, not staged: name it in `staged` to read it back")
        return self._schema(table)

    def _append(self, table: str, data: pa.Table) -> None:
        counts = self._counts.setdefault(table, {})
        block = self._next_block()
        files = []
        if self.staged is not None:
            # A staging area counts rows by county but keeps each table in one file: nothing reads
            # it by county, and laying the rows out by county would cost a copy of every block.
            for county, n in _county_counts(data) if partitioned(table) else [("", data.num_rows)]:
                counts[county] = counts.get(county, 0) + n
            if table not in self.staged:
                return
            parts = [(None, data)]
        else:
            parts = _by_county(data) if partitioned(table) else [(None, data)]
        for county, rows in parts:
            if self.staged is None:
                name = "" if county is None else county
                counts[name] = counts.get(name, 0) + rows.num_rows
            key = (table, county)
            if key not in self._files:
                path = self._path(table, county)
                self._files[key] = _File(path, self._schema(table), self._write_options(table))
            files.append((self._files[key], rows))

        # Each file is added to by one thread, in block order, so its bytes do not depend on timing.
        if len(files) > 1 and ENCODERS > 1:
            if self._encoders is None:
                self._encoders = ThreadPoolExecutor(ENCODERS, thread_name_prefix="audit-encode")
            list(self._encoders.map(lambda pair: pair[0].add(pair[1], block), files))
        else:
            for file, rows in files:
                file.add(rows, block)
        self._settle()

    def _next_block(self) -> int:
        self._blocks += 1
        return self._blocks

    def _settle(self) -> None:
        # Files hold slices of the blocks their rows came in. Rows still held a block later are copied:
        # at most two blocks stay alive, and most rows reach a row group before they need a copy.
        for file in [*self._files.values(), *self._quarantine.values()]:
            file.settle(self._blocks - 1)

    def close_table(self, table: str) -> None:
        """Finish the files of ``table`` so they can be read back."""
        self._jobs.submit(self._close_files, table, False)
        self._jobs.wait()

    def _close_files(self, table: str, discard: bool) -> None:
        for key in [k for k in self._files if k[0] == table]:
            self._files.pop(key).finish(write=not discard)

    def drop_table(self, table: str) -> None:
        """Forget every row of ``table``, loaded or quarantined (it could not be loaded)."""
        self._jobs.submit(self._close_files, table, True)
        self._jobs.submit(self._close_quarantine, table, True)
        self._jobs.wait()
        shutil.rmtree(self.root / "tables" / table, ignore_errors=True)
        self._counts.pop(table, None)
        (self.root / "quarantine" / f"{table}.parquet").unlink(missing_ok=True)

    def _by_county(self, table: str) -> bool:
        """Whether ``table`` is kept in a file per county (a staging area keeps one file a table)."""
        return partitioned(table) and self.staged is None

    def _files_of(self, table: str) -> list[Path]:
        if not self._by_county(table):
            return [self._path(table, None)]
        return [self._path(table, c) for c in sorted(self.counts.get(table, {}))]

    def read(self, table: str, columns: Sequence[str] | None = None) -> pd.DataFrame:
        """Every staged row of ``table`` (or only ``columns``), partitions in county order."""
        self.close_table(table)
        schema = _select(self._kept(table), columns)
        parts = [pq.read_table(f, columns=schema.names) for f in self._files_of(table) if f.exists()]
        return to_frame(pa.concat_tables(parts) if parts else schema.empty_table(), schema)

    def scan(self, table: str, columns: Sequence[str], rows: int) -> Iterator[pd.DataFrame]:
        """The staged rows of ``table`` in frames of at most ``rows`` rows, partitions in county order."""
        self.close_table(table)
        schema = _select(self._kept(table), columns)
        for path in self._files_of(table):
            if path.exists():
                for batch in _stream(path).iter_batches(batch_size=rows, columns=schema.names):
                    yield to_frame(pa.Table.from_batches([batch]), schema)

    def read_rows(self, table: str, rows: pd.DataFrame) -> pd.DataFrame:
        """The staged rows of ``table`` at the locations (and counties) given in ``rows``."""
        self.close_table(table)
        schema = self._kept(table)
        groups = rows.groupby("county_code", sort=True) if self._by_county(table) else [(None, rows)]
        parts = []
        for county, at in groups:
            for batch in _stream(self._path(table, county)).iter_batches(ROW_GROUP_ROWS):
                data = pa.Table.from_batches([batch])
                parts.append(data.filter(pa.array(_at(data, at))))
        return to_frame(pa.concat_tables(parts) if parts else schema.empty_table(), schema)

    def remove(self, table: str, rows: pd.DataFrame) -> None:
        """Take rows (by ``src_file``, ``src_sheet``, ``src_row`` and county) out of the staged ``table``."""
        if rows.empty:
            return
        self.close_table(table)
        schema = self._kept(table)
        counts = self._counts[table]
        groups = rows.groupby("county_code", sort=True) if self._by_county(table) else [(None, rows)]
        for county, drop in groups:
            path = self._path(table, county)
            # Rewritten row group by row group into the same full row groups: the file is byte for
            # byte the one a direct write of the kept rows gives, and memory stays one row group.
            fresh = _File(path.with_name(f".{PART}"), schema, self._write_options(table))
            kept = 0
            for batch in _stream(path).iter_batches(ROW_GROUP_ROWS):
                data = pa.Table.from_batches([batch])
                part = data.filter(pa.array(~_at(data, drop)))
                fresh.add(part)
                kept += part.num_rows
            fresh.finish()
            if kept:
                os.replace(fresh.path, path)
            else:
                path.unlink()
                if county is not None:
                    path.parent.rmdir()
            if county is not None or not partitioned(table):
                counts[county or ""] = kept
            else:  # a staging area's one file: the rows taken out, by their county
                for name, n in drop.groupby("county_code").size().items():
                    counts[name] -= int(n)
            for name in [name for name, n in counts.items() if not n]:
                del counts[name]

    # ---------------------------------------------------------------------------- quarantine

    def quarantine(self, table: str, frame: pd.DataFrame) -> None:
        """Add quarantined rows of ``table`` (text as found, with location and failed checks)."""
        if frame.empty or self.staged is not None:  # a staging area keeps no quarantine: nothing reads it
            return
        self._jobs.submit(self._add_quarantine, table, from_frame(frame, quarantine_schema(table)))

    def _add_quarantine(self, table: str, data: pa.Table) -> None:
        if table not in self._quarantine:
            path = self.root / "quarantine" / f"{table}.parquet"
            self._quarantine[table] = _File(path, quarantine_schema(table), _WRITE)
        self._quarantine[table].add(data, self._next_block())
        self._settle()

    def _close_quarantine(self, table: str, discard: bool) -> None:
        if table in self._quarantine:
            self._quarantine.pop(table).finish(write=not discard)

    # -------------------------------------------------------------------------------- finish

    def _close_all(self, discard: bool) -> None:
        for table in {k[0] for k in self._files}:
            self._close_files(table, discard)
        for table in list(self._quarantine):
            self._close_quarantine(table, discard)

    def commit(self, manifest: dict, quality: pd.DataFrame) -> Path:
        """Write the log and the manifest, then move the store into place; returns its path."""
        if self.final is None:
            raise StoreError("a validation run has no store to commit")
        self._jobs.submit(self._close_all, False)
        self._jobs.shutdown()
        self._stop_encoders()
        path = self.root / "quality" / "issues.parquet"
        path.parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(from_frame(quality, quality_schema()), path, row_group_size=ROW_GROUP_ROWS, **_WRITE)
        manifest = {**manifest, "files": file_hashes(self.root)}
        text = json.dumps(manifest, ensure_ascii=False, indent=2, sort_keys=True) + "\n"
        (self.root / MANIFEST).write_text(text, encoding="utf-8")
        old = None
        if self.final.exists():
            _check_target(self.final)
            old = self.final.with_name(f".{self.final.name}.old-{os.getpid()}")
            self.final.rename(old)
        self.root.rename(self.final)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
        return self.final

    def _stop_encoders(self) -> None:
        if self._encoders is not None:
            self._encoders.shutdown(wait=True)
            self._encoders = None

    def abort(self) -> None:
        """Throw the partial store away."""
        self._jobs.shutdown(quiet=True)
        self._stop_encoders()
        self._close_all(discard=True)
        shutil.rmtree(self.root, ignore_errors=True)


class _Jobs:
    """Work run in order on one background thread (Arrow splits and encodes without the GIL)."""

    def __init__(self) -> None:
        self._pool: ThreadPoolExecutor | None = None
        self._pending: deque[Future] = deque()

    def submit(self, fn: Callable[..., None], *args: object) -> None:
        """Queue ``fn(*args)``; waits while more than :data:`PENDING_WRITES` jobs are queued."""
        if self._pool is None:
            self._pool = ThreadPoolExecutor(1, thread_name_prefix="audit-store")
        self._pending.append(self._pool.submit(fn, *args))
        # Bounded, since each job holds rows; and a failed write surfaces at the next call.
        while self._pending and (len(self._pending) > PENDING_WRITES or self._pending[0].done()):
            self._pending.popleft().result()

    def wait(self) -> None:
        """Block until every job queued so far is done; re-raise the first that failed."""
        while self._pending:
            self._pending.popleft().result()

    def shutdown(self, quiet: bool = False) -> None:
        """Finish (or, ``quiet``, cancel and ignore) what is queued and stop the thread."""
        try:
            if quiet:
                for job in self._pending:
                    job.cancel()
                for job in self._pending:
                    with contextlib.suppress(BaseException):
                        job.result()
                self._pending.clear()
            else:
                self.wait()
        finally:
            if self._pool is not None:
                self._pool.shutdown(wait=True)
                self._pool = None


class _File:
    """One Parquet file written in full row groups (the last may be short)."""

    def __init__(self, path: Path, schema: pa.Schema, options: dict) -> None:
        self.path, self.schema, self.options = path, schema, options
        self.held: list[pa.Table] = []
        self.blocks: list[int | None] = []  # of each table held, the block it is part of (None: a copy)
        self.rows = 0
        self.writer: pq.ParquetWriter | None = None

    def add(self, data: pa.Table, block: int | None = None) -> None:
        """Add rows, part of ``block`` (None: a table of its own); every full row group is written at once."""
        if not data.num_rows:
            return
        self.held.append(data)
        self.blocks.append(block)
        self.rows += data.num_rows
        while self.rows >= ROW_GROUP_ROWS:
            self._write(ROW_GROUP_ROWS)

    def settle(self, block: int) -> None:
        """Copy the rows held that are part of a block before ``block``, so they no longer keep it alive."""
        for i, part in enumerate(self.blocks):
            if part is not None and part < block:
                self.held[i], self.blocks[i] = _copied(self.held[i]), None

    def _write(self, n: int) -> None:
        data = pa.concat_tables(self.held) if len(self.held) > 1 else self.held[0]
        rest = data.slice(n)
        # The rest is of the last table added (fewer rows than a row group were held before it).
        self.held, self.blocks = ([rest], self.blocks[-1:]) if rest.num_rows else ([], [])
        self.rows -= n
        if self.writer is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.writer = pq.ParquetWriter(self.path, self.schema, **self.options)
        # One contiguous chunk per column: the pages then do not depend on how the rows arrived.
        self.writer.write_table(data.slice(0, n).combine_chunks(), row_group_size=ROW_GROUP_ROWS)

    def finish(self, write: bool = True) -> None:
        """Write what is held (or, not ``write``, drop it) and close the file."""
        if self.rows and write:
            self._write(self.rows)
        self.held, self.blocks, self.rows = [], [], 0
        if self.writer is not None:
            self.writer.close()
            self.writer = None


def file_hashes(root: Path) -> dict[str, str]:
    """SHA-256 of every file in a store folder but its manifest and hidden files, by relative path."""
    hashes = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        if path.is_file() and rel.as_posix() != MANIFEST and not any(p.startswith(".") for p in rel.parts):
            digest = hashlib.sha256()
            with path.open("rb") as handle:
                for chunk in iter(lambda: handle.read(1 << 20), b""):
                    digest.update(chunk)
            hashes[rel.as_posix()] = digest.hexdigest()
    return hashes


def _county_counts(data: pa.Table) -> list[tuple[str, int]]:
    """Rows of each county in ``data`` (rows without one are not counted, as they are not stored)."""
    counted = pc.value_counts(data.column("county_code").combine_chunks())
    names, sizes = counted.field("values").to_pylist(), counted.field("counts").to_pylist()
    return [(name, n) for name, n in zip(names, sizes, strict=True) if name is not None]


def _options(table: str) -> dict:
    """Write options of a table's files: dictionaries where values repeat, statistics where they range."""
    repeat = [c.name for c in TABLES[table].columns if c.kind in _DICTIONARY_KINDS]
    ranged = [c.name for c in TABLES[table].columns if c.kind in _STATISTICS_KINDS]
    return {
        **_WRITE,
        "use_dictionary": [*repeat, "src_file", "src_sheet"],
        "write_statistics": [*ranged, "src_row"],
    }


def _stream(path: Path) -> pq.ParquetFile:
    """A staged file read row group by row group (pre-buffering would keep what was read in memory)."""
    return pq.ParquetFile(path, pre_buffer=False, buffer_size=1 << 20)


def _copied(data: pa.Table) -> pa.Table:
    """``data`` in buffers of its own, one chunk per column (a memory copy: cheaper than a take)."""
    return pa.Table.from_arrays([pa.concat_arrays(c.chunks) for c in data.columns], schema=data.schema)


def _select(schema: pa.Schema, columns: Sequence[str] | None) -> pa.Schema:
    return schema if columns is None else pa.schema([schema.field(c) for c in columns])


def _by_county(data: pa.Table) -> list[tuple[str, pa.Table]]:
    """The rows of each county, in source order, counties in code order (rows without one are left out)."""
    codes = pc.dictionary_encode(data.column("county_code")).combine_chunks()
    names = codes.dictionary.to_pylist()
    if len(names) == 1 and codes.null_count == 0:
        return [(names[0], data)]  # a block of one county (the usual case for sorted files) is not copied
    # One stable sort by county and one take lay each county's rows out in a run, a slice of the copy:
    # a mask per county would cost every county a pass over the whole block. Rows without one go last.
    index = pc.fill_null(codes.indices, len(names)).to_numpy(zero_copy_only=False)
    index = index.astype(np.min_scalar_type(len(names)))  # small ints: numpy sorts them by radix
    data = data.take(np.argsort(index, kind="stable"))
    sizes = np.bincount(index, minlength=len(names))
    starts = np.cumsum(sizes) - sizes
    runs = [(name, data.slice(starts[i], sizes[i])) for i, name in enumerate(names)]
    return sorted(runs, key=lambda run: run[0])


def _check_target(path: Path) -> None:
    """Refuse to replace a folder that is neither empty nor a store."""
    if not path.exists():
        return
    if not path.is_dir():
        raise StoreError(f"{path}: exists and is not a folder; choose another --store")
    names = {p.name for p in path.iterdir()}
    if names and not names <= {MANIFEST, "tables", "quality", "quarantine"}:
        raise StoreError(f"{path}: exists and is not a store (it holds other files); choose another --store")


def _at(data: pa.Table, rows: pd.DataFrame) -> np.ndarray:
    """Mask of the rows of ``data`` whose (src_file, src_sheet, src_row) is in ``rows``."""
    mask = np.zeros(data.num_rows, dtype=bool)
    for (file, sheet), at in rows.groupby(["src_file", "src_sheet"], sort=True):
        hit = pc.and_(pc.equal(data.column("src_file"), file), pc.equal(data.column("src_sheet"), sheet))
        hit = pc.and_(hit, pc.is_in(data.column("src_row"), value_set=pa.array(at["src_row"], pa.int64())))
        mask |= np.asarray(pc.fill_null(hit, False).to_numpy(zero_copy_only=False), dtype=bool)
    return mask
