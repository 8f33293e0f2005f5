"""The bounds on what reading one submitted file may cost, in one place.

A workbook is a zip archive: a few megabytes can inflate to gigabytes (a decompression
bomb), and a sheet whose cells sit far apart is loaded by the reader as one dense grid of
every cell between them. So before a workbook is opened its archive is checked against
these limits (:func:`audit.readers.check_workbook`) and reading stops at them: the file is
rejected with a message naming it and the limit, and nothing else in the submission is
affected. The generated data-contract documentation lists them (:data:`LIMITS`).
"""

from __future__ import annotations

MAX_SHEET_ROWS = 1_048_576
"""Rows of a worksheet: Excel's own limit, so no workbook Excel saved goes beyond it."""

MAX_SHEET_COLUMNS = 16_384
"""Columns of a worksheet (A to XFD): Excel's own limit."""

MAX_SHEET_CELLS = 1_048_576 * 32
"""Cells of the grid a worksheet is loaded as (its rows × its columns, from the first used
cell to the last): about a gigabyte in the reader. Every sheet Excel can fill with 32 columns
fits, and no sheet of a contract table needs more."""

MAX_ARCHIVE_ENTRIES = 1_000
"""Files inside one workbook archive (a workbook of a sheet per county holds a few dozen)."""

MAX_INFLATED_BYTES = 768 << 20
"""Bytes a workbook's archive may unpack to, all entries together, declared and actual
(a full sheet of 1,048,576 rows of a contract table takes about 500 MB)."""

MAX_RATIO = 100
"""How many times bigger than its packed size an entry may unpack to; spreadsheet XML packs
about 5 to 20 times, a bomb hundreds or thousands of times."""

RATIO_FLOOR = 1 << 20
"""Entries that unpack to less than this are not held to :data:`MAX_RATIO` (tiny files pack
oddly and cannot hurt)."""

LIMITS: tuple[tuple[str, int, str], ...] = (
    ("MAX_SHEET_ROWS", MAX_SHEET_ROWS, "rows of a worksheet"),
    ("MAX_SHEET_COLUMNS", MAX_SHEET_COLUMNS, "columns of a worksheet"),
    ("MAX_SHEET_CELLS", MAX_SHEET_CELLS, "cells of a worksheet, rows × columns from first to last"),
    ("MAX_ARCHIVE_ENTRIES", MAX_ARCHIVE_ENTRIES, "files inside one workbook archive"),
    ("MAX_INFLATED_BYTES", MAX_INFLATED_BYTES, "bytes a workbook unpacks to, declared and actual"),
    ("MAX_RATIO", MAX_RATIO, "unpacked size ÷ packed size of an entry bigger than RATIO_FLOOR"),
    ("RATIO_FLOOR", RATIO_FLOOR, "bytes below which an entry is not held to MAX_RATIO"),
)
"""Every limit: name, value and what it bounds (rendered into ``docs/data-contract.md``)."""
