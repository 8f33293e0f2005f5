"""Readers of submitted files, one per format, chosen by suffix from a small registry.

A reader turns one file into :class:`SheetData`: the header it found and the data below it
in blocks of raw cells, each row with the row number a person sees (``src_row``). Nothing
is coerced here: spreadsheets and CSV are read as text (the repairs decide what a value
is); Parquet keeps its column types, because a float column of IDs is itself the evidence
that digits were lost. Errors of the file itself (not a zip, undecodable bytes) become a
:class:`~audit.exceptions.TableError` naming the file, never a traceback.

Row numbers: in a workbook, the Excel row (1-based, title and header rows counted); in a
CSV, the line number; in Parquet, the row as a spreadsheet would show it with the header
in row 1 (the first data row is 2).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv
import pyarrow.parquet as pq
from charset_normalizer import from_bytes
from python_calamine import CalamineWorkbook, SheetTypeEnum

from audit.exceptions import TableError
from audit.repairs import HEADER_SCAN_ROWS, HeaderSpec, locate_header, repeating_columns

ENCODINGS = ("utf_8", "gb18030")
"""The encodings a CSV may have (GBK is a subset of GB18030); UTF-8 may carry a BOM."""

SAMPLE_BYTES = 1 << 20
"""Bytes of a CSV read to detect its encoding and header."""


@dataclass(frozen=True)
class Block:
    """Consecutive data rows of one sheet: raw cells by column position, and their row numbers."""

    frame: pd.DataFrame  # columns 0..width-1
    rows: np.ndarray  # int64 src_row of each row
    # Text columns also read dictionary-encoded, by position: their repairs run once per distinct value.
    encoded: dict[int, pa.DictionaryArray] = field(default_factory=dict)


@dataclass(frozen=True)
class BadRow:
    """A CSV row whose number of fields differs from the header's; it is accounted for, not lost."""

    row: int
    fields: tuple[str, ...]


@dataclass
class SheetData:
    """One sheet (or the whole of a CSV or Parquet file): its header and its data, lazily."""

    file: str
    sheet: str
    header: HeaderSpec | None
    empty: bool  # nothing at all in it
    blocks: Iterator[Block]
    header_rows: tuple[int, ...] = ()
    merged_fills: dict[int, tuple[int, int]] = field(default_factory=dict)  # position -> (count, 1st row)
    bad_rows: list[BadRow] = field(default_factory=list)  # complete once blocks are exhausted


Reader = Callable[[Path, str, str, int], Iterator[SheetData]]
"""``reader(path, name, table, chunk_rows)``: ``name`` is the file name shown in messages."""

READERS: dict[str, Reader] = {}
BLOCK_ROWS: dict[str, int] = {}
"""Rows a block of each format holds unless the caller asks otherwise (see :func:`register`)."""

TEXT_BLOCK_ROWS = 131_072
"""Rows of a block of text (CSV, workbooks): parsing holds buffers that grow with the block, and
blocks twice as big cost as much time, so the block stays small."""

COLUMNAR_BLOCK_ROWS = 524_288
"""Rows of a block of Parquet: decoding needs no buffer beyond the columns, and each block has a
fixed cost whatever its size (pandas frames and the like), so bigger blocks save time for a
little more memory (benchmarks/RESULTS.md, notes, "Measurements behind the code")."""


PIPELINE_BLOCKS = 8
"""Blocks a Parquet file is at least read in when that leaves them no smaller than text's."""


def register(*suffixes: str, block_rows: int = TEXT_BLOCK_ROWS) -> Callable[[Reader], Reader]:
    """Register a reader for files ending in ``suffixes`` (lowercase, with the dot), read in
    blocks of ``block_rows`` rows by default."""

    def wrap(fn: Reader) -> Reader:
        for suffix in suffixes:
            READERS[suffix] = fn
            BLOCK_ROWS[suffix] = block_rows
        return fn

    return wrap


def reader_for(path: Path) -> Reader | None:
    """The reader for ``path``, or None when its format is not one audit reads."""
    return READERS.get(path.suffix.lower())


def block_rows_for(path: Path) -> int:
    """The rows of a block when ``path`` is read in its format's own blocks."""
    return BLOCK_ROWS.get(path.suffix.lower(), TEXT_BLOCK_ROWS)


# ------------------------------------------------------------------------------------ workbooks


def cell_text(value: object) -> str:
    """A workbook cell as text; numbers the way Excel shows them (15 significant digits).

    An 18-digit ID typed as a number has kept only 15 digits; it prints as
    ``5.40102199001011e+17``, which the repairs recognise and reject.
    """
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        return format(value, ".15g")
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if value is None:
        return ""
    return str(value)


class _Merges:
    """Fills every cell of a merged range with the value of its top-left cell, row by row."""

    def __init__(self, ranges: list[tuple[tuple[int, int], tuple[int, int]]] | None) -> None:
        self.pending = sorted(ranges or [])
        self.active: list[tuple[int, int, int, int, object]] = []
        self.count_from = 1 << 62  # rows from here on are data: their fills are counted
        self.fills: dict[int, tuple[int, int]] = {}  # position -> (cells filled, first row)

    def apply(self, r: int, row: list) -> None:
        while self.pending and self.pending[0][0][0] <= r:
            (r1, c1), (r2, c2) = self.pending.pop(0)
            if r1 == r and c1 < len(row):
                self.active.append((r1, c1, r2, c2, row[c1]))
        self.active = [m for m in self.active if m[2] >= r]
        for r1, c1, _r2, c2, value in self.active:
            for c in range(c1, min(c2 + 1, len(row))):
                if (r, c) != (r1, c1) and row[c] in ("", None) and value not in ("", None):
                    row[c] = value
                    if r >= self.count_from:
                        self.count(c, r)

    def count(self, c: int, r: int) -> None:
        n, first = self.fills.get(c, (0, r + 1))
        self.fills[c] = (n + 1, first)


@register(".xlsx", ".xlsm", ".xls")
def read_workbook(path: Path, name: str, table: str, chunk_rows: int) -> Iterator[SheetData]:
    """Every worksheet of a workbook, read with calamine; merged cells are filled in."""
    try:
        book = CalamineWorkbook.from_path(str(path))
        names = [m.name for m in book.sheets_metadata if m.typ == SheetTypeEnum.WorkSheet]
    except Exception as exc:  # calamine raises its own types and zip errors alike
        raise TableError(f"cannot open the workbook ({exc}); save it again as .xlsx", file=name) from None
    for sheet_name in names:
        try:
            sheet = book.get_sheet_by_name(sheet_name)
            merges = _Merges(sheet.merged_cell_ranges)
            rows = iter(sheet.iter_rows())
            found = [list(r) for r in islice(rows, HEADER_SCAN_ROWS)]
        except Exception as exc:
            raise TableError(f"cannot read the sheet ({exc})", file=name, sheet=sheet_name) from None
        head = [list(r) for r in found]
        for i, row in enumerate(head):
            merges.apply(i, row)
        text = [[cell_text(v) for v in row] for row in head]
        header = locate_header(table, text)
        empty = not any(v.strip() for row in text for v in row)
        data = SheetData(name, sheet_name, header, empty, iter(()))
        if header is not None:
            # Merged cells in data rows (a household number spanning its members) are filled too.
            for r in range(header.data_start, len(head)):
                for c, (before, after) in enumerate(zip(found[r], head[r], strict=True)):
                    if before in ("", None) and after not in ("", None):
                        merges.count(c, r)
            merges.count_from = header.data_start
            data.header_rows = tuple(range(header.first + 1, header.data_start + 1))
            data.merged_fills = merges.fills
            data.blocks = _workbook_blocks(name, sheet_name, head, rows, merges, header, chunk_rows)
        yield data


def _workbook_blocks(
    name: str,
    sheet: str,
    head: list[list],
    rows: Iterator[list],
    merges: _Merges,
    header: HeaderSpec,
    chunk_rows: int,
) -> Iterator[Block]:
    width = len(header.labels)
    start = header.data_start
    pending = head[start:]
    r = len(head)
    while True:
        chunk = pending
        pending = []
        try:
            for row in islice(rows, max(chunk_rows - len(chunk), 0)):
                row = list(row)
                merges.apply(r, row)
                chunk.append(row)
                r += 1
        except Exception as exc:
            raise TableError(f"cannot read the sheet ({exc})", file=name, sheet=sheet, row=r + 1) from None
        if not chunk:
            return
        first = r - len(chunk) + 1
        columns = {}
        for c in range(width):
            columns[c] = pd.array([cell_text(row[c]) if c < len(row) else "" for row in chunk], dtype="str")
        yield Block(pd.DataFrame(columns), np.arange(first, first + len(chunk), dtype=np.int64))
        if len(chunk) < chunk_rows:
            return


# ------------------------------------------------------------------------------------------ CSV


def detect_encoding(sample: bytes, name: str) -> str:
    """``utf-8``, ``utf-8-sig`` or ``gb18030`` for the first bytes of a CSV, or a TableError."""
    if sample.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    if not sample:
        return "utf-8"
    best = from_bytes(sample, cp_isolation=list(ENCODINGS)).best()
    if best is None:
        raise TableError(
            "cannot tell the text encoding (not UTF-8 nor GB18030/GBK): save the file as UTF-8 CSV",
            file=name,
        )
    return "gb18030" if best.encoding == "gb18030" else ("utf-8-sig" if best.bom else "utf-8")


@register(".csv")
def read_csv(path: Path, name: str, table: str, chunk_rows: int) -> Iterator[SheetData]:
    """A CSV in UTF-8 (with or without BOM) or GB18030, streamed in blocks with pyarrow."""
    try:
        with path.open("rb") as fh:
            sample = fh.read(SAMPLE_BYTES + 1)
    except OSError as exc:
        raise TableError(f"cannot read the file ({exc.strerror})", file=name) from None
    if len(sample) > SAMPLE_BYTES:  # cut at a line end so no character is split
        sample = sample[: sample.rfind(b"\n", 0, SAMPLE_BYTES) + 1] or sample[:SAMPLE_BYTES]
    encoding = detect_encoding(sample, name)
    try:
        text = sample.decode(encoding)
    except UnicodeDecodeError:
        raise TableError(f"the text is not valid {encoding}: save the file as UTF-8 CSV", file=name) from None
    reader = csv.reader(io.StringIO(text, newline=""))
    records, lines = [], []
    for record in islice(reader, HEADER_SCAN_ROWS):
        records.append(record)
        lines.append(reader.line_num)
    header = locate_header(table, records)
    empty = not any(v.strip() for r in records for v in r)
    if header is None:
        yield SheetData(name, "", None, empty, iter(()))
        return
    first_line = lines[header.data_start - 1] + 1
    header_line = lines[header.first - 1] + 1 if header.first else 1
    data = SheetData(name, "", header, empty, iter(()), header_rows=tuple(range(header_line, first_line)))
    # Arrow's batches sized to hold a block each (from the sample's line length), not to be joined.
    line_bytes = len(sample) / max(sample.count(b"\n"), 1)
    block_bytes = min(64 << 20, max(1 << 20, int(chunk_rows * line_bytes * 1.1)))
    data.blocks = _csv_blocks(
        path, name, encoding, header, first_line, chunk_rows, block_bytes, data.bad_rows
    )
    yield data


def _csv_blocks(
    path: Path,
    name: str,
    encoding: str,
    header: HeaderSpec,
    first_line: int,
    chunk_rows: int,
    block_bytes: int,
    bad_rows: list[BadRow],
) -> Iterator[Block]:
    width = len(header.labels)
    names = [f"c{i}" for i in range(width)]
    invalid: list[tuple[int, str]] = []

    def on_invalid(row: pcsv.InvalidRow) -> str:
        invalid.append((row.number, row.text))
        return "skip"

    read = pcsv.ReadOptions(
        skip_rows=header.data_start,
        column_names=names,
        encoding="utf8" if encoding.startswith("utf-8") else encoding,
        block_size=block_bytes,
        use_threads=False,  # serial parsing keeps the bad-row numbers in order
    )
    parse = pcsv.ParseOptions(
        newlines_in_values=True, ignore_empty_lines=False, invalid_row_handler=on_invalid
    )
    convert = pcsv.ConvertOptions(
        column_types=dict.fromkeys(names, pa.large_string()),  # what a pandas str column holds
        strings_can_be_null=False,
        quoted_strings_can_be_null=False,
    )
    numbering = _Numbering(record=header.data_start + 1, line=first_line)
    batches: list[pa.RecordBatch] = []
    rows: list[np.ndarray] = []
    held = 0
    try:
        stream = pcsv.open_csv(path, read_options=read, parse_options=parse, convert_options=convert)
        for batch in stream:
            rows.append(numbering.place(batch, invalid, bad_rows))
            batches.append(batch)
            held += batch.num_rows
            if held >= chunk_rows:
                yield _csv_block(batches, rows)
                batches, rows, held = [], [], 0
    except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
        raise TableError(_csv_problem(exc, encoding), file=name) from None
    if held:
        yield _csv_block(batches, rows)
    numbering.finish(invalid, bad_rows)


def _csv_problem(exc: Exception, encoding: str) -> str:
    text = str(exc)
    if isinstance(exc, UnicodeDecodeError) or "UTF8" in text or "utf8" in text.lower():
        return f"the text is not valid {encoding} throughout the file: save it again as UTF-8 CSV"
    return f"the CSV cannot be parsed: {text.splitlines()[0]}"


def _csv_block(batches: list[pa.RecordBatch], rows: list[np.ndarray]) -> Block:
    # One chunk per column: the repairs then work on the Arrow arrays without copying them again.
    table = pa.Table.from_batches(batches).combine_chunks()
    frame = pd.DataFrame({i: table.column(i).to_pandas() for i in range(table.num_columns)})
    return Block(frame, np.concatenate(rows) if rows else np.zeros(0, dtype=np.int64))


class _Numbering:
    """Line numbers of CSV records, with quoted line breaks and skipped bad rows accounted for."""

    def __init__(self, record: int, line: int) -> None:
        self.record = record  # 1-based number of the next record
        self.line = line  # line where the next record starts

    def place(self, batch: pa.RecordBatch, invalid: list[tuple[int, str]], bad: list[BadRow]) -> np.ndarray:
        n = batch.num_rows
        broken = [col for col in batch.columns if _has_newline(col)]
        if not broken and not (invalid and n and invalid[0][0] < self.record + n):
            # The usual batch: one line a record, no bad row among them.
            starts = self.line + np.arange(n, dtype=np.int64)
            self.record, self.line = self.record + n, self.line + n
            return starts
        span = np.ones(n, dtype=np.int64)
        for col in broken:
            span += pc.count_substring(col, "\n").to_numpy(zero_copy_only=False)
        records = self.record + np.arange(n, dtype=np.int64)
        placed: list[tuple[int, str]] = []
        while invalid and n and invalid[0][0] <= records[-1]:
            number, text = invalid.pop(0)
            records[records >= number] += 1
            placed.append((number, text))
        numbers = np.concatenate([records, np.array([p[0] for p in placed], dtype=np.int64)])
        spans = np.concatenate([span, np.array([1 + p[1].count("\n") for p in placed], dtype=np.int64)])
        order = np.argsort(numbers, kind="stable")
        starts = np.empty_like(spans)
        starts[order] = self.line + np.concatenate([[0], np.cumsum(spans[order])[:-1]])
        for i, (_number, text) in enumerate(placed):
            bad.append(BadRow(int(starts[n + i]), _fields(text)))
        if len(numbers):
            self.record = int(numbers.max()) + 1
            self.line = int(starts[order[-1]] + spans[order[-1]])
        return starts[:n]

    def finish(self, invalid: list[tuple[int, str]], bad: list[BadRow]) -> None:
        for _number, text in invalid:
            bad.append(BadRow(self.line, _fields(text)))
            self.line += 1 + text.count("\n")
        invalid.clear()


def _has_newline(col: pa.Array) -> bool:
    """Whether any value of a string column holds a line break (one pass over its bytes)."""
    offsets, data = col.buffers()[1:3]
    if data is None or not len(col):
        return False
    width = np.int64 if pa.types.is_large_string(col.type) else np.int32
    ends = np.frombuffer(offsets, dtype=width)[[col.offset, col.offset + len(col)]]
    raw = np.frombuffer(data, dtype=np.uint8, count=int(ends[1] - ends[0]), offset=int(ends[0]))
    return bool((raw == ord("\n")).any())  # read in place: no copy of the column's bytes


def _fields(text: str) -> tuple[str, ...]:
    return tuple(next(csv.reader(io.StringIO(text, newline="")), []))


# -------------------------------------------------------------------------------------- Parquet


@register(".parquet", block_rows=COLUMNAR_BLOCK_ROWS)
def read_parquet(path: Path, name: str, table: str, chunk_rows: int) -> Iterator[SheetData]:
    """A Parquet file in row batches; column names are its header."""
    try:
        # Read as a stream: pre-buffering keeps every row group read so far in memory.
        source = pq.ParquetFile(path, pre_buffer=False, buffer_size=1 << 20)
        labels = tuple(source.schema_arrow.names)
        # Columns of few values (choices, months, codes) come as dictionaries: decoding them is
        # cheaper so, and their repairs use the dictionary instead of hashing every value again.
        text = {
            f.name
            for f in source.schema_arrow
            if pa.types.is_string(f.type) or pa.types.is_large_string(f.type)
        }
        repeating = [
            labels[i]
            for i in repeating_columns(table, labels)
            if labels[i] in text and labels.count(labels[i]) == 1
        ]
        if repeating:
            source = pq.ParquetFile(path, pre_buffer=False, buffer_size=1 << 20, read_dictionary=repeating)
    except (pa.ArrowException, OSError) as exc:
        raise TableError(f"cannot read the Parquet file ({exc})", file=name) from None
    header = HeaderSpec(0, 1, labels)
    data = SheetData(
        name, "", header, source.metadata.num_rows == 0 and not labels, iter(()), header_rows=(1,)
    )
    data.blocks = _parquet_blocks(source, name, chunk_rows)
    yield data


def _parquet_blocks(source: pq.ParquetFile, name: str, chunk_rows: int) -> Iterator[Block]:
    row = 2
    try:
        for batch in _batches(source, chunk_rows):
            frame = pd.DataFrame({i: _column(batch, i, name) for i in range(batch.num_columns)})
            encoded = {
                i: col
                for i, col in enumerate(batch.columns)
                if pa.types.is_dictionary(col.type)
                and (pa.types.is_string(col.type.value_type) or pa.types.is_large_string(col.type.value_type))
            }
            yield Block(frame, np.arange(row, row + batch.num_rows, dtype=np.int64), encoded)
            row += batch.num_rows
    except (pa.ArrowException, OSError) as exc:
        raise TableError(f"cannot read the Parquet file ({exc})", file=name, row=row) from None


def _batches(source: pq.ParquetFile, rows: int) -> Iterator[pa.RecordBatch]:
    """The file in batches of at most ``rows`` rows: small row groups read together, a big one cut.

    Arrow's own batches stop at every row group when columns are read as dictionaries (each
    group has its own), and writers often make groups far smaller than a block: small groups
    are joined here, their dictionaries unified, so a block is as big as asked. A file of
    fewer than :data:`PIPELINE_BLOCKS` such batches gets smaller ones, down to text's.
    """
    meta = source.metadata
    # A file of a few blocks would keep the pipeline's stages waiting on each other (see ingest).
    rows = min(rows, max(TEXT_BLOCK_ROWS, -(-meta.num_rows // PIPELINE_BLOCKS)))
    group: list[int] = []
    held = 0
    for i in range(meta.num_row_groups):
        n = meta.row_group(i).num_rows
        if group and held + n > rows:
            yield from _joined(source, group)
            group, held = [], 0
        if n >= rows:
            yield from source.iter_batches(batch_size=rows, row_groups=[i])
            continue
        group.append(i)
        held += n
    if group:
        yield from _joined(source, group)


def _joined(source: pq.ParquetFile, groups: list[int]) -> list[pa.RecordBatch]:
    """Row groups read as one batch, each dictionary column over one dictionary."""
    table = source.read_row_groups(groups)
    if len(groups) > 1:
        table = table.unify_dictionaries().combine_chunks()
    return table.to_batches()


def _column(batch: pa.RecordBatch, i: int, name: str) -> pd.Series:
    """One Parquet column as pandas: text as ``str``, numbers and dates kept, the rest as text."""
    col = batch.column(i)
    kind = col.type
    if pa.types.is_dictionary(kind):
        col, kind = col.dictionary_decode(), kind.value_type
    if pa.types.is_integer(kind):
        return pd.Series(col.to_pandas(types_mapper=lambda _: pd.Int64Dtype()), dtype="Int64")
    if pa.types.is_floating(kind) or pa.types.is_decimal(kind):
        return pd.Series(pc.cast(col, pa.float64()).to_numpy(zero_copy_only=False), dtype="float64")
    if pa.types.is_timestamp(kind) or pa.types.is_date(kind):
        unit = pa.timestamp("us", tz=kind.tz) if pa.types.is_timestamp(kind) else pa.timestamp("us")
        return pd.Series(pc.cast(col, unit).to_pandas())
    if pa.types.is_boolean(kind):
        col = pc.if_else(col, "true", "false")
    try:
        text = pc.cast(col, pa.large_string())  # what a pandas str column holds: no second conversion
    except pa.ArrowException:
        raise TableError(
            f"column {batch.schema.field(i).name!r} has type {kind}, which is neither text, number nor date",
            file=name,
            column=batch.schema.field(i).name,
        ) from None
    return pd.Series(text.to_pandas(), dtype="str")
