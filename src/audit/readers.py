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
import re
import struct
import zipfile
import zlib
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

from audit import limits
from audit.exceptions import TableError
from audit.names import shown as _escaped
from audit.repairs import HEADER_SCAN_ROWS, HeaderSpec, Issue, locate_header, repeating_columns

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
    notes: list[Issue] = field(default_factory=list)  # repairs of the whole file, for the log


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


# ------------------------------------------------------------------------------- what a file is

UTF16_TEXT = Issue(
    "utf-16 text",
    "the text was read as UTF-16 (Excel's 'Unicode text'); UTF-8 CSV is what the contract asks for",
    "文本按UTF-16读取（Excel“Unicode文本”）；数据规范要求UTF-8编码的CSV",
)
TAB_SEPARATED = Issue(
    "tab-separated",
    "the values are separated by tabs, not commas (a 'Text (Tab delimited)' export named .csv); read as such",
    "各值以制表符而非逗号分隔（“文本文件(制表符分隔)”另存为.csv）；已按制表符读取",
)

_FORMATS: tuple[tuple[bytes, str, str], ...] = (
    (b"PK\x03\x04", "a workbook (.xlsx) or another zip archive", ".xlsx"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an old Excel workbook (.xls)", ".xls"),
    (b"PAR1", "a Parquet file", ".parquet"),
    (b"%PDF", "a PDF document", ""),
    (b"\xff\xfe", "UTF-16 text", ".csv"),
    (b"\xfe\xff", "UTF-16 text", ".csv"),
)


def content_format(head: bytes) -> tuple[str, str]:
    """What the first bytes of a file say it is, and the suffix such a file takes.

    Web pages are told apart too: Excel's "Web page" export is often named ``.xls``.
    """
    for magic, kind, suffix in _FORMATS:
        if head.startswith(magic):
            return kind, suffix
    start = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if start.startswith((b"<!doctype html", b"<html", b"<?xml", b"<table")):
        return "a web page or XML document (Excel's 'Web page' or 'XML spreadsheet' export)", ""
    return "text", ".csv"


def _not_a_workbook(path: Path, head: bytes) -> str:
    kind, suffix = content_format(head)
    fix = f"rename it to {suffix}" if suffix else "open it in Excel and save it as .xlsx"
    return f"the file is {kind}, not the workbook its name ({path.suffix}) says: {fix}"


def _not_text(path: Path, head: bytes) -> str | None:
    kind, suffix = content_format(head)
    if kind in ("text", "UTF-16 text"):
        return None
    fix = f"rename it to {suffix}" if suffix else "open it in Excel and save it as .xlsx or UTF-8 CSV"
    return f"the file is {kind}, not the CSV text its name ({path.suffix}) says: {fix}"


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


_PASSED_ON = (KeyboardInterrupt, SystemExit, GeneratorExit)


def _reader_failure(exc: BaseException) -> bool:
    """Whether ``exc`` is the reader's failure to turn into a rejection.

    The Rust extension's panics (``pyo3_runtime.PanicException``) derive from BaseException,
    not Exception: they are caught too, but never an interrupt or an exit.
    """
    return not isinstance(exc, _PASSED_ON)


def _problem(exc: BaseException) -> str:
    """The reader's error as one short line (a panic's message can run to pages)."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    if type(exc).__name__ == "PanicException":
        text = f"the workbook reader failed: {text}"
    return text[:300]


@register(".xlsx", ".xlsm", ".xls")
def read_workbook(path: Path, name: str, table: str, chunk_rows: int) -> Iterator[SheetData]:
    """Every worksheet of a workbook, read with calamine; merged cells are filled in.

    The archive is checked against :mod:`audit.limits` before calamine opens it.
    """
    phantoms = check_workbook(path, name)
    try:
        book = CalamineWorkbook.from_path(str(path))
        names = [m.name for m in book.sheets_metadata if m.typ == SheetTypeEnum.WorkSheet]
    except BaseException as exc:  # calamine raises its own types, zip errors and panics alike
        if not _reader_failure(exc):
            raise
        raise TableError(
            f"cannot open the workbook ({_problem(exc)}); save it again as .xlsx", file=name
        ) from None
    for sheet_name in names:
        try:
            sheet = book.get_sheet_by_name(sheet_name)
            start_column = (sheet.start or (0, 0))[1]
            merges = _Merges(sheet.merged_cell_ranges)
            rows = iter(sheet.iter_rows())
            found = [list(r) for r in islice(rows, HEADER_SCAN_ROWS)]
        except BaseException as exc:
            if not _reader_failure(exc):
                raise
            raise TableError(
                f"cannot read the sheet ({_problem(exc)})", file=name, sheet=sheet_name
            ) from None
        head = [list(r) for r in found]
        _mark_phantoms(head, 0, start_column, phantoms)
        for i, row in enumerate(head):
            merges.apply(i, row)
        text = [[cell_text(v) for v in row] for row in head]
        header = locate_header(table, text)
        empty = not any(v.strip() for row in text for v in row)
        data = SheetData(name, _escaped(sheet_name), header, empty, iter(()))
        if header is not None:
            # Merged cells in data rows (a household number spanning its members) are filled too.
            for r in range(header.data_start, len(head)):
                for c, (before, after) in enumerate(zip(found[r], head[r], strict=True)):
                    if before in ("", None) and after not in ("", None):
                        merges.count(c, r)
            merges.count_from = header.data_start
            data.header_rows = tuple(range(header.first + 1, header.data_start + 1))
            data.merged_fills = merges.fills
            data.blocks = _workbook_blocks(
                name, sheet_name, head, rows, merges, header, chunk_rows, (start_column, phantoms)
            )
        yield data


# ------------------------------------------------------------------------- a workbook's archive

_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # an old .xls (a compound document)
_LOCAL_HEADER = struct.Struct("<4s22xHH")  # signature, ..., name length, extra length
_INFLATE_STEP = 1 << 20
_CELL_REF = re.compile(rb'<c r="([A-Z]+)([0-9]+)"')
_ROW_REF = re.compile(rb'<row r="([0-9]+)"')
_NEAR_ROWS, _NEAR_COLUMNS = 999_999, 26


def _mib(n: int) -> str:
    return f"{n / (1 << 20):,.0f} MiB"


def check_workbook(path: Path, name: str) -> frozenset[tuple[int, int]]:
    """Check a workbook's archive against :mod:`audit.limits` before anything reads it.

    Entry count, each entry's declared and actual unpacked size, the total unpacked size,
    each entry's packing ratio, and each worksheet's grid (rows × columns from its first
    cell to its last). Every entry is unpacked here, in steps of a megabyte, and unpacking
    stops at the first limit passed: a bomb costs a bounded time and no memory to reject.
    An old ``.xls`` (not an archive) is held to the unpacked size as a whole.

    Returns the cells (0-based row and column, any sheet) holding Excel's serial 60, which
    the reader shows as 1900-02-28 though Excel shows the day that never was, 1900-02-29.
    """
    try:
        size = path.stat().st_size
        with path.open("rb") as fh:
            magic = fh.read(8)
    except OSError as exc:
        raise TableError(f"cannot read the file ({exc.strerror})", file=name) from None
    if magic.startswith(_OLE):
        if size > limits.MAX_INFLATED_BYTES:
            raise TableError(
                f"the workbook is {_mib(size)}, more than the limit of {_mib(limits.MAX_INFLATED_BYTES)} "
                "(MAX_INFLATED_BYTES); split it, or send the table as CSV or Parquet",
                file=name,
            )
        return
    if not magic.startswith(b"PK"):
        raise TableError(_not_a_workbook(path, magic), file=name)
    try:
        with zipfile.ZipFile(path) as archive, path.open("rb") as raw:
            entries = archive.infolist()
            if len(entries) > limits.MAX_ARCHIVE_ENTRIES:
                raise TableError(
                    f"the workbook's archive holds {len(entries):,} files, more than the limit of "
                    f"{limits.MAX_ARCHIVE_ENTRIES:,} (MAX_ARCHIVE_ENTRIES); save it again from Excel",
                    file=name,
                )
            declared = sum(e.file_size for e in entries)
            if declared > limits.MAX_INFLATED_BYTES:
                raise TableError(_too_big(declared, "says it unpacks to"), file=name)
            total = 0
            phantoms: set[bytes] = set()
            for entry in entries:
                total += _inflate(raw, entry, name, size, limits.MAX_INFLATED_BYTES - total, phantoms)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, zlib.error) as exc:
        raise TableError(
            f"the workbook's archive is damaged ({_problem(exc)}); save it again as .xlsx", file=name
        ) from None
    return frozenset(_cell_position(ref) for ref in phantoms)


def _cell_position(ref: bytes) -> tuple[int, int]:
    letters = ref.rstrip(b"0123456789")
    return int(ref[len(letters) :]) - 1, _column_number(letters) - 1


_SERIAL_60 = re.compile(rb'<c r="([A-Z]+[0-9]+)"[^>]*><v>60</v>')
PHANTOM_DAY = dt.date(1900, 2, 28)
"""What the reader gives for Excel's serial 60 (as for 59): the day before the one Excel shows."""


def _mark_phantoms(
    rows: list[list], first: int, start_column: int, phantoms: frozenset[tuple[int, int]]
) -> None:
    """Write 1900-02-29 (Excel's serial 60, a day that never existed) where the reader gave 1900-02-28.

    The date repairs quarantine it as such, naming the cell; a true 1900-02-28 (serial 59)
    is left alone.
    """
    for r, c in phantoms:
        i, j = r - first, c - start_column
        if 0 <= i < len(rows) and 0 <= j < len(rows[i]) and rows[i][j] == PHANTOM_DAY:
            rows[i][j] = "1900-02-29"


def _too_big(n: int, verb: str) -> str:
    return (
        f"the workbook {verb} {_mib(n)} or more, more than the limit of {_mib(limits.MAX_INFLATED_BYTES)} "
        "(MAX_INFLATED_BYTES): it may be a decompression bomb; if it is a real export, split it or "
        "send the table as CSV or Parquet"
    )


def _inflate(
    raw: io.BufferedReader, entry: zipfile.ZipInfo, name: str, size: int, room: int, phantoms: set[bytes]
) -> int:
    """Unpack one entry without keeping it; its actual size, or a TableError at the first limit."""
    where = f"entry {_escaped(entry.filename)}"
    if entry.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        raise TableError(
            f"{where} is packed with method {entry.compress_type}, which no Excel workbook uses; "
            "save it again from Excel",
            file=name,
        )
    raw.seek(entry.header_offset)
    signature, name_length, extra_length = _LOCAL_HEADER.unpack(raw.read(_LOCAL_HEADER.size))
    if signature != b"PK\x03\x04":
        raise zipfile.BadZipFile(f"{where}: no local header")
    raw.seek(entry.header_offset + _LOCAL_HEADER.size + name_length + extra_length)
    left = min(entry.compress_size, size)
    packed = max(entry.compress_size, 1)
    grid = _Grid(name, entry.filename) if entry.filename.startswith("xl/worksheets/") else None
    inflater = zlib.decompressobj(-zlib.MAX_WBITS) if entry.compress_type == zipfile.ZIP_DEFLATED else None
    out = 0
    pending = b""
    while True:
        if inflater is not None and inflater.unconsumed_tail:
            piece = inflater.decompress(inflater.unconsumed_tail, _INFLATE_STEP)
        elif left > 0:
            data = raw.read(min(left, _INFLATE_STEP))
            if not data:
                break
            left -= len(data)
            piece = inflater.decompress(data, _INFLATE_STEP) if inflater is not None else data
        else:
            break
        out += len(piece)
        if out > room:
            raise TableError(_too_big(limits.MAX_INFLATED_BYTES, f"unpacks ({where}) to"), file=name)
        if out > limits.RATIO_FLOOR and out > limits.MAX_RATIO * packed:
            raise TableError(
                f"{where} unpacks to more than {limits.MAX_RATIO} times its packed size "
                f"({packed:,} bytes), the limit (MAX_RATIO): it is a decompression bomb or not a "
                "workbook Excel wrote; save it again from Excel",
                file=name,
            )
        if grid is not None:
            chunk = pending + piece
            pending = grid.scan(chunk)
            if b"<v>60</v>" in chunk:
                phantoms.update(_SERIAL_60.findall(chunk))
        if inflater is not None and inflater.eof:
            break
    if grid is not None:
        grid.finish(raw, entry, size)
    if out != entry.file_size:
        raise TableError(
            f"{where} says it unpacks to {entry.file_size:,} bytes but unpacks to {out:,}: the archive "
            "is damaged or forged; save it again from Excel",
            file=name,
        )
    return out


class _Grid:
    """The extent of a worksheet's cells, found in its XML as it is unpacked (no parsing).

    Most sheets use columns A to Z and rows below 1,000,000: a chunk with no reference
    beyond those (:func:`_far_reference`) needs nothing more. A chunk with one is
    read for every reference; when the sheet's bound is then too big for the limit, the
    sheet is read again for its exact extent before it is refused.
    """

    def __init__(self, name: str, entry: str) -> None:
        self.name, self.entry = name, entry
        self.near = False  # some chunk was passed over (its references within the near bounds)
        self.rows = (1 << 62, 0)  # first and last row seen exactly
        self.columns = (1 << 62, 0)

    def scan(self, chunk: bytes) -> bytes:
        """Look at one chunk (with the tail of the one before); return the tail to keep."""
        if not _far_reference(chunk):
            self.near = True
        else:
            self.exact(chunk)
        return chunk[-64:]

    def exact(self, chunk: bytes) -> None:
        rows, columns = [], []
        for letters, digits in set(_CELL_REF.findall(chunk)):
            columns.append(_column_number(letters))
            rows.append(int(digits))
        rows += [int(d) for d in set(_ROW_REF.findall(chunk))]
        if rows:
            self.rows = (min(self.rows[0], min(rows)), max(self.rows[1], max(rows)))
        if columns:
            self.columns = (min(self.columns[0], min(columns)), max(self.columns[1], max(columns)))
        self.within_excel()

    def within_excel(self) -> None:
        sheet = _escaped(self.entry)
        if self.rows[1] > limits.MAX_SHEET_ROWS:
            raise TableError(
                f"entry {sheet} has a cell in row {self.rows[1]:,}, past Excel's last row "
                f"{limits.MAX_SHEET_ROWS:,} (MAX_SHEET_ROWS); save it again from Excel",
                file=self.name,
            )
        if self.columns[1] > limits.MAX_SHEET_COLUMNS:
            raise TableError(
                f"entry {sheet} has a cell in column {self.columns[1]:,}, past Excel's last column "
                f"{limits.MAX_SHEET_COLUMNS:,} (MAX_SHEET_COLUMNS); save it again from Excel",
                file=self.name,
            )

    def bound(self) -> int:
        first_row, last_row = self.rows
        first_column, last_column = self.columns
        if self.near:
            first_row, last_row = 1, max(last_row, _NEAR_ROWS)
            first_column, last_column = 1, max(last_column, _NEAR_COLUMNS)
        return max(last_row - first_row + 1, 0) * max(last_column - first_column + 1, 0)

    def finish(self, raw: io.BufferedReader, entry: zipfile.ZipInfo, size: int) -> None:
        """Refuse the sheet when its grid is more cells than the limit, after reading it exactly."""
        if self.bound() <= limits.MAX_SHEET_CELLS:
            return
        if self.near:  # the passed-over chunks may be smaller than assumed: read them exactly
            self.near = False
            with zipfile.ZipFile(raw) as archive, archive.open(entry) as fh:
                tail = b""
                while chunk := fh.read(_INFLATE_STEP):
                    self.exact(tail + chunk)
                    tail = chunk[-64:]
        cells = self.bound()
        if cells > limits.MAX_SHEET_CELLS:
            rows = self.rows[1] - self.rows[0] + 1
            columns = self.columns[1] - self.columns[0] + 1
            raise TableError(
                f"entry {_escaped(self.entry)} spans {rows:,} rows × {columns:,} columns, "
                f"{cells:,} cells, more than the limit of {limits.MAX_SHEET_CELLS:,} (MAX_SHEET_CELLS): "
                "delete the empty rows and columns between its cells, or split the sheet",
                file=self.name,
            )


def _far_reference(chunk: bytes) -> bool:
    """Whether a reference (``r="..."``) in ``chunk`` may stretch the grid: a column of two letters
    or more, or seven digits in a row. Most sheets use columns A to Z and rows below 1,000,000:
    their chunks are passed over after a few array operations (a regex costs five times more)."""
    a = np.frombuffer(chunk, dtype=np.uint8)
    if len(a) < 16:
        return bool(len(a))
    quote = np.flatnonzero(a[2 : len(a) - 8] == 0x22) + 2  # one pass over the bytes, then the quotes only
    at = quote[(a[quote - 1] == 0x3D) & (a[quote - 2] == 0x72)] + 1  # after r="
    value = a[at[:, None] + np.arange(8)]
    upper = (value >= 0x41) & (value <= 0x5A)
    digit = (value >= 0x30) & (value <= 0x39)
    far = (upper[:, 0] & upper[:, 1]) | digit[:, 1:8].all(axis=1) | digit[:, 0:7].all(axis=1)
    return bool(far.any())


def _column_number(letters: bytes) -> int:
    n = 0
    for b in letters:
        n = n * 26 + (b - 64)
    return n


def _workbook_blocks(
    name: str,
    sheet: str,
    head: list[list],
    rows: Iterator[list],
    merges: _Merges,
    header: HeaderSpec,
    chunk_rows: int,
    phantoms: tuple[int, frozenset[tuple[int, int]]] = (0, frozenset()),
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
                if (
                    r > limits.MAX_SHEET_ROWS
                ):  # the archive check makes this unreachable; reading stops anyway
                    raise TableError(
                        f"the sheet goes past Excel's last row {limits.MAX_SHEET_ROWS:,} (MAX_SHEET_ROWS)",
                        file=name,
                        sheet=sheet,
                    )
        except TableError:
            raise
        except BaseException as exc:
            if not _reader_failure(exc):
                raise
            raise TableError(
                f"cannot read the sheet ({_problem(exc)})", file=name, sheet=sheet, row=r + 1
            ) from None
        if not chunk:
            return
        first = r - len(chunk) + 1
        if phantoms[1]:
            _mark_phantoms(chunk, first - 1, *phantoms)
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
    if sample.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"  # the codec reads the byte-order mark and drops it
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
    """A CSV in UTF-8 (with or without BOM), GB18030 or UTF-16 (with its BOM), streamed in blocks
    with pyarrow; comma- or tab-separated (the tab with a note). A file whose bytes are another
    format (a workbook named ``.csv``) is refused, naming the format it is."""
    try:
        with path.open("rb") as fh:
            sample = fh.read(SAMPLE_BYTES + 1)
    except OSError as exc:
        raise TableError(f"cannot read the file ({exc.strerror})", file=name) from None
    other = _not_text(path, sample[:16])
    if other is not None:
        raise TableError(other, file=name)
    utf16 = sample.startswith((b"\xff\xfe", b"\xfe\xff"))
    if len(sample) > SAMPLE_BYTES:  # cut at a line end so no character is split (before detection)
        end = sample.rfind(b"\n", 0, SAMPLE_BYTES) + 1
        if utf16:
            end -= end % 2  # the sample is only looked at: a cut line at its end does not matter
        sample = sample[:end] or sample[:SAMPLE_BYTES]
    encoding = detect_encoding(sample, name)
    try:
        text = sample.decode(encoding, errors="replace" if encoding == "utf-16" else "strict")
    except UnicodeDecodeError:
        raise TableError(f"the text is not valid {encoding}: save the file as UTF-8 CSV", file=name) from None
    notes = [UTF16_TEXT] if encoding == "utf-16" else []
    delimiter = ","
    records, lines = _records(text, delimiter)
    header = locate_header(table, records)
    if header is None and "\t" in text:
        tabbed = _records(text, "\t")
        header = locate_header(table, tabbed[0])
        if header is not None:
            delimiter, (records, lines) = "\t", tabbed
            notes.append(TAB_SEPARATED)
    empty = not any(v.strip() for r in records for v in r)
    if header is None:
        yield SheetData(name, "", None, empty, iter(()), notes=notes)
        return
    first_line = lines[header.data_start - 1] + 1
    header_line = lines[header.first - 1] + 1 if header.first else 1
    data = SheetData(
        name, "", header, empty, iter(()), header_rows=tuple(range(header_line, first_line)), notes=notes
    )
    # Arrow's batches sized to hold a block each (from the sample's line length), not to be joined.
    line_bytes = len(sample) / max(sample.count(b"\n"), 1)
    block_bytes = min(64 << 20, max(1 << 20, int(chunk_rows * line_bytes * 1.1)))
    data.blocks = _csv_blocks(
        path, name, encoding, header, first_line, chunk_rows, block_bytes, data.bad_rows, delimiter
    )
    yield data


def _records(text: str, delimiter: str) -> tuple[list[list[str]], list[int]]:
    """The first records of a CSV sample and the line each ends on."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    records, lines = [], []
    for record in islice(reader, HEADER_SCAN_ROWS):
        records.append(record)
        lines.append(reader.line_num)
    return records, lines


def _csv_blocks(
    path: Path,
    name: str,
    encoding: str,
    header: HeaderSpec,
    first_line: int,
    chunk_rows: int,
    block_bytes: int,
    bad_rows: list[BadRow],
    delimiter: str = ",",
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
        encoding="utf8" if encoding.startswith("utf-8") else encoding,  # others are transcoded
        block_size=block_bytes,
        use_threads=False,  # serial parsing keeps the bad-row numbers in order
    )
    parse = pcsv.ParseOptions(
        delimiter=delimiter, newlines_in_values=True, ignore_empty_lines=False, invalid_row_handler=on_invalid
    )
    convert = pcsv.ConvertOptions(
        column_types=dict.fromkeys(names, pa.large_string()),  # what a pandas str column holds
        strings_can_be_null=False,
        quoted_strings_can_be_null=False,
    )
    numbering = _Numbering(record=header.data_start + 1, line=first_line, delimiter=delimiter)
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

    def __init__(self, record: int, line: int, delimiter: str = ",") -> None:
        self.record = record  # 1-based number of the next record
        self.line = line  # line where the next record starts
        self.delimiter = delimiter

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
            bad.append(BadRow(int(starts[n + i]), _fields(text, self.delimiter)))
        if len(numbers):
            self.record = int(numbers.max()) + 1
            self.line = int(starts[order[-1]] + spans[order[-1]])
        return starts[:n]

    def finish(self, invalid: list[tuple[int, str]], bad: list[BadRow]) -> None:
        for _number, text in invalid:
            bad.append(BadRow(self.line, _fields(text, self.delimiter)))
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


def _fields(text: str, delimiter: str = ",") -> tuple[str, ...]:
    return tuple(next(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter), []))


# -------------------------------------------------------------------------------------- Parquet


@register(".parquet", block_rows=COLUMNAR_BLOCK_ROWS)
def read_parquet(path: Path, name: str, table: str, chunk_rows: int) -> Iterator[SheetData]:
    """A Parquet file in row batches; column names are its header."""
    try:
        with path.open("rb") as fh:
            head = fh.read(16)
    except OSError as exc:
        raise TableError(f"cannot read the file ({exc.strerror})", file=name) from None
    if not head.startswith(b"PAR1"):
        kind, suffix = content_format(head)
        fix = f"rename it to {suffix}" if suffix else "export the table again as Parquet, .xlsx or CSV"
        raise TableError(f"the file is {kind}, not the Parquet its name says: {fix}", file=name)
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
