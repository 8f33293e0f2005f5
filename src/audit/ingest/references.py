"""Checks across tables: codes that must exist in another table, and rows moved out when they fail.

Tables are read in contract order, so a table whose references all point to tables read
before it is checked block by block as it is read (:func:`early_tables`), on a thread of
its own; the others are checked once stored, in slices of :data:`REFERENCE_ROWS` rows,
reading only the columns the checks compare. Either way the result is that of one check of
the whole table.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from functools import cache
from types import ModuleType

import numpy as np
import pandas as pd

from audit.datacontract import TABLES
from audit.ingest.blocks import failures
from audit.ingest.quality import ACTIONS, QualityLog, text, texts
from audit.ingest.result import SheetAccount
from audit.repairs import HeaderMapping
from audit.store import LOCATION, StoreWriter, table_schema, to_frame

REFERENCE_ROWS = 1_048_576
"""Rows of a stored table checked against other tables at a time (only the columns compared)."""


class CrossTables:
    """The checks across tables of one ingest, and the rows they take out of the store.

    It shares the run's writer, log, header labels (by table, file and sheet), accounts and
    list of the tables loaded so far: what it takes out of the store it accounts for.
    """

    def __init__(
        self,
        schemas: ModuleType,
        writer: StoreWriter,
        log: QualityLog,
        labels: dict[tuple[str, str, str], HeaderMapping],
        accounts: list[SheetAccount],
        loaded: list[str],
    ) -> None:
        self.schemas, self.writer, self.log = schemas, writer, log
        self.labels, self.accounts, self.loaded = labels, accounts, loaded
        self.references = references(schemas)
        self.early = early_tables(self.references)  # checked against other tables block by block
        self.now: tuple[dict[str, pd.DataFrame], list[str]] | None = None  # what the current table needs
        self.late: list[pd.DataFrame] = []  # its rows found to quarantine, taken out when it is stored
        self.referring = ThreadPoolExecutor(1, thread_name_prefix="audit-refer")

    def begin(self, name: str) -> None:
        """A table is about to be read: every table its checks point to is loaded if it is early."""
        self.now = self.references_of(name) if name in self.early else None

    def restart(self) -> None:
        """The table is read (again) from its start."""
        self.late = []

    def end(self, name: str) -> None:
        """The table is stored: the rows its checks failed move to the quarantine."""
        late, self.now, self.late = self.late, None, []
        self.take_out(name, pd.concat(late, ignore_index=True) if late else None)

    def submit(self, name: str, candidates: pd.DataFrame) -> tuple[Future, pd.DataFrame] | None:
        """Check a block's rows against the earlier tables on a thread meanwhile (None: nothing to check).

        Checks against earlier tables need the rows alone; what they find in rows the schema
        then quarantines is left out (see `collect`).
        """
        if self.now is None or not len(candidates):
            return None
        known, wanted = self.now
        part = candidates[wanted].reset_index(drop=True)
        return self.referring.submit(self.schemas.referential_failures, {**known, name: part}), part

    def collect(self, name: str, pending: tuple[Future, pd.DataFrame] | None, kept: np.ndarray) -> None:
        """Log what a block's check found in its rows that are ``kept``; note the rows to take out."""
        if pending is None:
            return
        future, part = pending
        taken = self.refer(name, future.result(), part, kept)
        if taken is not None:
            self.late.append(taken)

    def referential(self) -> None:
        """Checks between tables (codes that must exist elsewhere), on the staged tables.

        Tables whose references all point to tables read before them (every table of the
        contract) were checked block by block as they were read (:func:`early_tables`);
        the others are checked here, in slices of :data:`REFERENCE_ROWS` rows, reading only the
        columns its checks read, against only the columns of the tables they point to: the
        memory does not grow with the table (a schemas module that does not list its
        references in ``REFERENCES`` is given every table whole).
        """
        check = getattr(self.schemas, "referential_failures", None)
        if check is None:
            return
        if getattr(self.schemas, "REFERENCES", None) is None:
            staged = Staged(self.writer, self.loaded)
            found = check(staged)
            if found is None or not len(found):
                return
            for name, part in found.groupby("table", sort=False):
                if name in staged.cache:
                    self.take_out(str(name), self.apply_late(str(name), staged.cache[name], failures(part)))
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
            needs = target_columns(ref, self.loaded) if ref.table == name else None
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
        return self.apply_late(name, part, failures(found[found["table"] == name]))

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
        return self.apply_late(name, part, failures(found))

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
        fresh = np.array([k not in self.log.flagged for k in key], dtype=bool)
        found, hit, positions, columns = found[fresh], hit[fresh], positions[fresh], columns[fresh]
        if found.empty:
            return None
        values = [
            text(rows[c].iloc[p]) if c in rows else text(v)
            for c, p, v in zip(columns, positions, found["value"], strict=True)
        ]
        labels = [
            self.labels[(name, f, s)].label(c) if (name, f, s) in self.labels else c
            for f, s, c in zip(hit["src_file"], hit["src_sheet"], columns, strict=True)
        ]
        self.log.add(
            pd.DataFrame(
                {
                    "table": name,
                    "county_code": texts(hit["county_code"]) if "county_code" in hit else None,
                    "file": hit["src_file"].to_numpy(dtype=object),
                    "sheet": hit["src_sheet"].to_numpy(dtype=object),
                    "row": hit["src_row"].to_numpy(),
                    "column": labels,
                    "value": values,
                    "check": found["check"].astype("str").to_numpy(dtype=object),
                    "message_zh": found["message_zh"].astype("str").to_numpy(dtype=object),
                    "message_en": found["message_en"].astype("str").to_numpy(dtype=object),
                    "action": found["action"].map(ACTIONS).to_numpy(dtype=object),
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
        out = rows.drop(columns=["county_code"], errors="ignore").astype("str")
        out["src_row"] = rows["src_row"].to_numpy()
        if "county_code" in rows:
            out["county_code"] = rows["county_code"].to_numpy()
        checks = rows[list(LOCATION)].merge(taken[[*LOCATION, "checks"]], on=list(LOCATION), how="left")
        out["checks"] = checks["checks"].to_numpy()
        self.writer.quarantine(name, out)
        for (file, sheet), n in rows.groupby(["src_file", "src_sheet"], sort=False).size().items():
            for account in self.accounts:
                if (account.table, account.file, account.sheet) == (name, file, sheet):
                    account.rows_loaded -= int(n)
                    account.rows_quarantined += int(n)


class Staged(Mapping[str, pd.DataFrame]):
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


def staged_columns(schemas: ModuleType) -> dict[str, list[str]] | None:
    """By table, the columns the checks across tables read (None: every column of every table).

    Asked of every table of the contract, a superset of what :meth:`CrossTables.referential`
    reads of the tables a submission has. A schemas module that does not list its references
    (``REFERENCES``) is given whole tables, so everything is staged for it.
    """
    if getattr(schemas, "referential_failures", None) is None:
        return {}
    listed = references(schemas)
    if listed is None:
        return None
    early = early_tables(listed)
    needed: dict[str, set[str]] = {}
    for ref in listed:
        if ref.table not in early:  # an early table's rows are checked as read, never read back
            own = {ref.column, *(ref.only_where[:1] if ref.only_where else ())}
            needed.setdefault(ref.table, set()).update(own)
        for target, cols in (target_columns(ref, list(TABLES)) or {}).items():
            needed.setdefault(target, set()).update(cols)
    return {t: [c for c in table_schema(t).names if c in cols] for t, cols in needed.items()}


def references(schemas: ModuleType) -> tuple | None:
    """The checks across tables a schemas module lists (None: it checks whole tables, unlisted)."""
    if getattr(schemas, "referential_failures", None) is None:
        return ()
    return getattr(schemas, "REFERENCES", None)


def early_tables(listed: Sequence | None) -> frozenset[str]:
    """Tables checked against others as their blocks are read: every table they point to comes first.

    Tables are read in contract order, so those tables are complete by then; the checks
    give what they would give on the whole table, a second reading of it spared.
    """
    order = list(TABLES)
    early = set()
    for table in {ref.table for ref in listed or ()}:
        needs = [target_columns(ref, order) for ref in listed if ref.table == table]
        pointed = {t for need in needs if need is not None for t in need}
        if all(order.index(t) < order.index(table) for t in pointed):
            early.add(table)
    return frozenset(early)


@cache
def _empty_table(table: str) -> pd.DataFrame:
    """A table of the store with no rows (made once: the targets only look at its columns)."""
    return to_frame(table_schema(table).empty_table(), table_schema(table))


def target_columns(ref: object, tables: Sequence[str]) -> dict[str, list[str]] | None:
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
