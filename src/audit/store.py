"""The columnar store: Parquet partitioned by county, its manifest and the data-quality log.

Layout (``docs/architecture.md``)::

    STORE/
      manifest.json
      tables/<table>/county_code=<code>/part-0.parquet
      tables/<reference table>/part-0.parquet
      quality/issues.parquet
      quarantine/<table>.parquet

A store is complete only when ``manifest.json`` exists. :class:`StoreWriter` builds it in a
hidden sibling folder and renames it into place as its last step, so an ingest killed half
way never leaves a folder that looks like a store. Files are written deterministically:
the same inputs give byte-identical Parquet and manifest (rows in source order, fixed
row groups and compression, no pandas or time metadata).

Reading a county opens only that county's partition files, so the memory of a county run
does not grow with the number of counties.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from audit.contract import TABLES, Kind
from audit.exceptions import StoreError

MANIFEST = "manifest.json"
PART = "part-0.parquet"
ROW_GROUP_ROWS = 1 << 20
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
                arrays.append(pa.array(values.astype("str").array, type=pa.string(), from_pandas=True))
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


class StoreWriter:
    """Builds a store in a hidden sibling folder and renames it into place on commit."""

    def __init__(self, final: Path | None) -> None:
        self.final = final
        if final is not None:
            _check_target(final)
            final.parent.mkdir(parents=True, exist_ok=True)
            self.root = Path(tempfile.mkdtemp(prefix=f".{final.name}.partial-", dir=final.parent))
        else:
            self.root = Path(tempfile.mkdtemp(prefix="audit-validate-"))
        self._writers: dict[tuple[str, str | None], pq.ParquetWriter] = {}
        self._quarantine: dict[str, pq.ParquetWriter] = {}
        self.counts: dict[str, dict[str, int]] = {}  # table -> county ('' unpartitioned) -> rows

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
        schema = table_schema(table)
        counts = self.counts.setdefault(table, {})
        if not partitioned(table):
            self._write(table, None, from_frame(frame, schema))
            counts[""] = counts.get("", 0) + len(frame)
            return
        data = from_frame(frame, schema)
        codes = pc.dictionary_encode(data.column("county_code")).combine_chunks()
        for i, county in sorted(enumerate(codes.dictionary.to_pylist()), key=lambda pair: pair[1]):
            part = data.filter(pc.equal(codes.indices, i))  # keeps source order within the county
            self._write(table, county, part)
            counts[county] = counts.get(county, 0) + part.num_rows

    def _write(self, table: str, county: str | None, data: pa.Table) -> None:
        key = (table, county)
        if key not in self._writers:
            path = self._path(table, county)
            path.parent.mkdir(parents=True, exist_ok=True)
            self._writers[key] = pq.ParquetWriter(path, data.schema, **_WRITE)
        self._writers[key].write_table(data, row_group_size=ROW_GROUP_ROWS)

    def close_table(self, table: str) -> None:
        """Finish the files of ``table`` so they can be read back."""
        for key in [k for k in self._writers if k[0] == table]:
            self._writers.pop(key).close()

    def drop_table(self, table: str) -> None:
        """Forget every row of ``table``, loaded or quarantined (it could not be loaded)."""
        self.close_table(table)
        shutil.rmtree(self.root / "tables" / table, ignore_errors=True)
        self.counts.pop(table, None)
        if table in self._quarantine:
            self._quarantine.pop(table).close()
        (self.root / "quarantine" / f"{table}.parquet").unlink(missing_ok=True)

    def read(self, table: str) -> pd.DataFrame:
        """Every staged row of ``table``, partitions in county order (for checks across rows)."""
        self.close_table(table)
        schema = table_schema(table)
        files = [self._path(table, None)] if not partitioned(table) else []
        if partitioned(table):
            files = [self._path(table, c) for c in sorted(self.counts.get(table, {}))]
        parts = [pq.read_table(f) for f in files if f.exists()]
        return to_frame(pa.concat_tables(parts) if parts else schema.empty_table(), schema)

    def read_rows(self, table: str, rows: pd.DataFrame) -> pd.DataFrame:
        """The staged rows of ``table`` at the locations (and counties) given in ``rows``."""
        self.close_table(table)
        schema = table_schema(table)
        groups = rows.groupby("county_code", sort=True) if partitioned(table) else [(None, rows)]
        parts = []
        for county, at in groups:
            data = pq.read_table(self._path(table, county))
            parts.append(data.filter(pa.array(_at(data, at))))
        return to_frame(pa.concat_tables(parts) if parts else schema.empty_table(), schema)

    def remove(self, table: str, rows: pd.DataFrame) -> None:
        """Take rows (by ``src_file``, ``src_sheet``, ``src_row`` and county) out of the staged ``table``."""
        if rows.empty:
            return
        self.close_table(table)
        schema = table_schema(table)
        counts = self.counts[table]
        groups = rows.groupby("county_code", sort=True) if partitioned(table) else [(None, rows)]
        for county, drop in groups:
            path = self._path(table, county)
            data = pq.read_table(path)
            kept = data.filter(pa.array(~_at(data, drop)))
            name = "" if county is None else county
            if kept.num_rows:
                with pq.ParquetWriter(path, schema, **_WRITE) as out:
                    out.write_table(kept, row_group_size=ROW_GROUP_ROWS)
                counts[name] = kept.num_rows
            else:
                path.unlink()
                if county is not None:
                    path.parent.rmdir()
                counts.pop(name, None)

    # ---------------------------------------------------------------------------- quarantine

    def quarantine(self, table: str, frame: pd.DataFrame) -> None:
        """Add quarantined rows of ``table`` (text as found, with location and failed checks)."""
        if frame.empty:
            return
        schema = quarantine_schema(table)
        data = from_frame(frame, schema)
        if table not in self._quarantine:
            path = self.root / "quarantine" / f"{table}.parquet"
            path.parent.mkdir(parents=True, exist_ok=True)
            self._quarantine[table] = pq.ParquetWriter(path, schema, **_WRITE)
        self._quarantine[table].write_table(data, row_group_size=ROW_GROUP_ROWS)

    # -------------------------------------------------------------------------------- finish

    def _close(self) -> None:
        for writer in [*self._writers.values(), *self._quarantine.values()]:
            writer.close()
        self._writers.clear()
        self._quarantine.clear()

    def commit(self, manifest: dict, quality: pd.DataFrame) -> Path:
        """Write the log and the manifest, then move the store into place; returns its path."""
        if self.final is None:
            raise StoreError("a validation run has no store to commit")
        self._close()
        path = self.root / "quality" / "issues.parquet"
        path.parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(from_frame(quality, quality_schema()), path, row_group_size=ROW_GROUP_ROWS, **_WRITE)
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

    def abort(self) -> None:
        """Throw the partial store away."""
        self._close()
        shutil.rmtree(self.root, ignore_errors=True)


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
