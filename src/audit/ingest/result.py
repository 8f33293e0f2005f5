"""What an ingest did: the accounting of every sheet, the files not read, the log and the manifest."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from audit import __version__
from audit.datacontract import TABLES
from audit.exceptions import TableError
from audit.names import shown
from audit.store import partitioned

ACCOUNTING = (
    "rows_read = rows_loaded + rows_quarantined + rows_skipped; rows_skipped = rows_blank + rows_totals "
    "(blank rows and totals rows such as 合计 are not data). Rows of the header block (title rows, "
    "blank rows above the header, the header) are not counted as rows read."
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
    city_code: str | None = None  # the city's code the run used
    city_from: str = ""  # where it was read: the parameters file, or the divisions register's root

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


def manifest(
    files: dict[str, list[Path]],
    accounts: Sequence[SheetAccount],
    ignored: Sequence[Ignored],
    loaded: Sequence[str],
    counts: dict[str, dict[str, int]],
    errors: Sequence[TableError] | None,
    digest: Callable[[Path], dict[str, str]],
    label: Callable[[Path], str] = lambda path: path.name,
) -> dict:
    """What the store holds and where every row came from (no time stamp, so a store is reproducible).

    ``counts``: rows stored by table and county; ``errors``: the tables that failed, listed
    when the run kept going (None when it did not); ``digest``: the SHA-256 of a file, as a
    dict (empty when the run does not hash its inputs); ``label``: a file's name as the
    accounts give it (``folder/file`` when the submission is several folders).
    """
    sources = []
    for table in TABLES:
        for path in files.get(table, []):
            sheets = [a for a in accounts if a.file == label(path) and a.table == table]
            if not sheets:
                continue
            total = {k: sum(s.counts()[k] for s in sheets) for k in sheets[0].counts()}
            sources.append(
                {
                    "path": label(path),
                    **digest(path),
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
    for table in loaded:
        by_county = counts.get(table, {})
        tables[table] = {
            "rows": sum(by_county.values()),
            "rows_quarantined": sum(a.rows_quarantined for a in accounts if a.table == table),
            "counties": {c: n for c, n in sorted(by_county.items()) if c} if partitioned(table) else {},
        }
    out = {
        "audit_version": __version__,
        "accounting": ACCOUNTING,
        "sources": sources,
        "ignored": [{"path": i.path, "reason": i.reason} for i in ignored],
        "tables": tables,
    }
    if errors is not None:
        out["errors"] = [str(e) for e in errors]
    return out


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
                listed = ", ".join(f"{check} ({count})" for check, count in hits.head(top).items())
                lines.append(f"    {action}: {listed}")
    if result.city_code:
        lines.append(f"city code: {result.city_code} (from {result.city_from})")
    else:
        lines.append(
            "city code: unknown (no --params, no divisions register): payments no roll places are quarantined"
        )
    for folder in result.manifest.get("submissions", []):
        unit = f"unit {folder['unit']}" if folder["unit"] else "named after no unit"
        lines.append(f"folder: {shown(folder['folder'])} ({unit}, {len(folder['files'])} files)")
    for folder in result.manifest.get("replaced", []):
        where = f"{shown(folder['folder'])} (unit {folder['unit']})"
        lines.append(f"replaced: {where}: its files' hashes kept in the manifest")
    for item in result.ignored:
        lines.append(f"ignored: {item.path}: {item.reason}")
    for error in result.errors:
        lines.append(f"not loaded: {error}")
    return "\n".join(lines)
