"""One pandera schema per table of the contract, and :func:`validate`, which gives failures as rows.

The schemas are built from :mod:`audit.datacontract`: a column's dtype comes from its kind, its
checks from its kind, choices and minimum, so nothing here restates a column. What the
contract leaves to this module is written down as data: the checks across columns
(:data:`CROSS_COLUMN_CHECKS`), the checks a rule reports instead of ingest (:data:`RULE_OWNED`),
the checks that only flag (:data:`SOFT_CHECKS`) and the checks across tables
(:data:`REFERENCES`).

:func:`validate` runs a schema with its own vectorised loop over the schema's columns and
checks rather than ``schema.validate(lazy=True)``. pandera's dtype checks do not hold the
contract's dtypes (pandera 0.35 accepts object columns for ``str`` and any unit for
datetimes), its failure cases need reshaping into the bilingual log anyway, and the loop can
share checks between the calling thread and a kept helper, at a fifth of pandera's CPU for
the same checks (benchmarks/RESULTS.md, notes, "Measurements behind the code"). The pandera
objects stay the definition: the loop reads their dtype, nullable, unique, required and
checks, and a test runs pandera itself on the same schemas to show both find the same failing
rows.
"""

from __future__ import annotations

import functools
import os
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pandera.pandas as pa
import pyarrow

from audit import checks, textkeys
from audit.datacontract import TABLES, Column, Kind, Table
from audit.vocabulary import PURCHASE

QUARANTINE = "quarantine"
FLAG = "flag"

STR_KINDS = frozenset(
    {Kind.CODE, Kind.KEY, Kind.ID_NUMBER, Kind.USCC, Kind.TEXT, Kind.CHOICE, Kind.MONTH, Kind.ACCOUNT}
)
DTYPES: dict[Kind, str] = {
    **{kind: "str" for kind in STR_KINDS},
    Kind.DATE: "datetime64[us]",
    Kind.AMOUNT: "float64",
    Kind.NUMBER: "float64",
    Kind.COUNT: "int64",
    Kind.FLAG: "bool",
}
"""The dtype every column of a kind has after ingest (docs/architecture.md)."""

KIND_CHECKS: dict[Kind, tuple[str, ...]] = {
    Kind.CODE: ("division_code",),
    Kind.ID_NUMBER: ("resident_id",),
    Kind.USCC: ("uscc",),
    Kind.MONTH: ("month",),
    Kind.AMOUNT: ("cents",),
    Kind.NUMBER: ("finite",),
    Kind.ACCOUNT: ("digits", "luhn"),
}
"""The column checks every column of a kind gets, besides its choices and minimum."""

CROSS_COLUMN_CHECKS: dict[str, tuple[tuple[str, tuple[str, ...]], ...]] = {
    "divisions": (
        ("division_parent", ("division_code", "parent_code")),
        ("division_level", ("division_code", "level")),
    ),
    "contracts": (("dates_ordered", ("service_start", "service_end")),),
    "staff": (("dates_ordered", ("hired_on", "left_on")),),
    "beneficiaries": (("dates_ordered", ("enrolled_on", "exited_on")),),
}
"""Per table, the checks across columns of one row: (check name, the columns it compares).

A failure is reported against the last of the columns.
"""

SOFT_CHECKS = frozenset({"luhn"})
"""Checks that only flag, in every table: a failure says the value may be wrong, not that it is."""

RULE_OWNED: dict[str, dict[tuple[str, str], str]] = {
    "staff": {("id_number", "not_null"): "S5", ("id_number", "resident_id"): "S5"},
    "contracts": {
        ("contractor_uscc", "not_null"): "C1",
        ("contractor_uscc", "uscc"): "C1",
        ("service_end", "dates_ordered"): "C2",
    },
}
"""Per table, (column, check) -> the rule whose finding the failure is.

Such rows stay in the data and are only flagged: quarantining a staff member with an
invalid ID, or a contract with an invalid credit code, would hide the very finding and
distort coverage and payments (RULES.md, Defaults).
"""

KEPT_FOR_RULE = ("Kept in the data: rule {rule} reports it.", "保留在数据中：由规则 {rule} 报告。")


def _number_text(value: float) -> str:
    return f"{value:g}"


def _check(name: str, table: Table, **kwargs: object) -> pa.Check:
    """A pandera check calling ``checks.<name>`` with ``kwargs``; its error is the English message."""
    fn = checks.COLUMN_CHECKS.get(name) or checks.FRAME_CHECKS[name]
    en, _ = checks.message(name, **message_fields(table, name, kwargs))
    return pa.Check(fn, name=name, error=en, element_wise=False, ignore_na=False, **kwargs)


def message_fields(table: Table, name: str, statistics: Mapping[str, object]) -> dict[str, str]:
    """The ``str.format`` fields of a check's messages, from its arguments."""
    fields: dict[str, str] = {}
    if "allowed" in statistics:
        fields["allowed"] = " | ".join(statistics["allowed"])
    if "minimum" in statistics:
        fields["minimum"] = _number_text(float(statistics["minimum"]))
    if "columns" in statistics:
        first, last = statistics["columns"][0], statistics["columns"][-1]
        fields |= {
            "first": first,
            "last": last,
            "first_zh": table.column(first).zh,
            "last_zh": table.column(last).zh,
        }
    return fields


def column_checks(col: Column) -> tuple[tuple[str, dict[str, object]], ...]:
    """The checks of a column as (name, arguments): by kind, then choices, then minimum."""
    out: list[tuple[str, dict[str, object]]] = [(name, {}) for name in KIND_CHECKS.get(col.kind, ())]
    if col.choices:
        out.append(("one_of", {"allowed": col.choices}))
    if col.minimum is not None:
        out.append(("at_least", {"minimum": col.minimum}))
    return tuple(out)


def _schema(table: Table) -> pa.DataFrameSchema:
    columns = {
        col.name: pa.Column(
            DTYPES[col.kind],
            checks=[_check(name, table, **kwargs) for name, kwargs in column_checks(col)],
            nullable=col.nullable,
            unique=col.unique,
            required=col.required,
            name=col.name,
            title=col.zh,
            description=col.description,
            # pandera 0.35 records datetimes as nanoseconds whatever the unit: the contract's dtype is here.
            metadata={"kind": col.kind.value, "dtype": DTYPES[col.kind]},
        )
        for col in table.columns
    }
    frame = [_check(name, table, columns=cols) for name, cols in CROSS_COLUMN_CHECKS.get(table.name, ())]
    # Extra columns (county_code derived at ingest, src_file, src_sheet, src_row) are allowed.
    return pa.DataFrameSchema(
        columns,
        checks=frame,
        strict=False,
        ordered=False,
        coerce=False,
        name=table.name,
        title=table.zh,
        description=table.description,
    )


SCHEMAS: dict[str, pa.DataFrameSchema] = {name: _schema(table) for name, table in TABLES.items()}
"""The pandera schema of every table of the contract, by table name."""


def _action(table: str, column: str, check: str) -> str:
    """What ingest does with a row failing ``check`` on ``column``: quarantine it or flag it."""
    if check in SOFT_CHECKS or (column, check) in RULE_OWNED.get(table, {}):
        return FLAG
    return QUARANTINE


def check_actions(table: str) -> list[tuple[str, str, str, str | None]]:
    """Every row-level check of ``table`` as (column, check, action, rule that reports it or None)."""
    schema = SCHEMAS[table]
    rows: list[tuple[str, str]] = []
    for name, col in schema.columns.items():
        if not col.nullable:
            rows.append((name, "not_null"))
        if col.unique:
            rows.append((name, "unique"))
        rows.extend((name, check.name) for check in col.checks)
    rows.extend((check.statistics["columns"][-1], check.name) for check in schema.checks)
    owned = RULE_OWNED.get(table, {})
    return [
        (column, check, _action(table, column, check), owned.get((column, check))) for column, check in rows
    ]


# --- validation -------------------------------------------------------------------------------

FAILURE_COLUMNS = ("index", "column", "check", "value", "message_en", "message_zh", "action")


@dataclass(frozen=True, eq=False)
class Validation:
    """The failures of one table against its schema, one row per failing value (or per table problem).

    ``failures`` has the columns of :data:`FAILURE_COLUMNS`: ``index`` is the label of the
    failing row in the validated frame, NA for a problem of the whole table (a required
    column missing, a column of the wrong dtype); ``action`` is ``quarantine`` or ``flag``.
    """

    table: str
    failures: pd.DataFrame

    def quarantined(self) -> frozenset:
        """The index labels of the rows to quarantine."""
        rows = self.failures[(self.failures["action"] == QUARANTINE) & self.failures["index"].notna()]
        return frozenset(rows["index"].tolist())

    @property
    def table_failures(self) -> pd.DataFrame:
        """The problems of the whole table (NA index); while there are any, the table cannot be loaded."""
        return self.failures[self.failures["index"].isna()]

    @property
    def usable(self) -> bool:
        """Whether the table can be loaded at all: every required column present, every dtype right."""
        return not self.failures["index"].isna().any()


def dtype_ok(s: pd.Series, kind: Kind) -> bool:
    """Whether a column has the dtype the contract gives its kind (any pandas string dtype for text)."""
    if kind in STR_KINDS:
        return isinstance(s.dtype, pd.StringDtype)
    return s.dtype == np.dtype(DTYPES[kind])


def _text(values: pd.Series) -> np.ndarray:
    """Values as text for the failure log; NA stays NA."""
    return _text_series(values).to_numpy(dtype=object, na_value=pd.NA)


def _text_series(values: pd.Series) -> pd.Series:
    """Values as a text column (dates as YYYY-MM-DD); NA stays NA."""
    if pd.api.types.is_datetime64_any_dtype(values.dtype):
        return values.dt.strftime("%Y-%m-%d")
    if isinstance(values.dtype, pd.StringDtype):
        return values
    return values.astype("str")


def _arrow_text(values: pd.Series) -> pyarrow.Array:
    """Values as text for the failure log, as one Arrow ``large_string`` array (NA as null)."""
    return textkeys.large_text(_text_series(values))


class _Failures:
    """Collects failure rows as column arrays and builds the frame once at the end.

    A block can fail a check on a hundred thousand rows (Luhn flags): the texts of a part are
    kept once and the values as Arrow, so the frame is built without a Python object per row.
    """

    def __init__(self, table: str, df: pd.DataFrame) -> None:
        self.table, self.df = table, df
        # Per part: the index labels (None for a table problem), the column, the check, the
        # values (Arrow text), the messages and the action.
        self.parts: list[tuple[pd.Index | None, str, str, pyarrow.Array, str, str, str]] = []

    def add_table(self, column: str, check: str, value: object, fields: dict[str, str]) -> None:
        en, zh = checks.message(check, **fields)
        text = pd.Series([value], dtype=object).astype("str")
        self.parts.append((None, column, check, _arrow_text(text), en, zh, QUARANTINE))

    def add_rows(
        self,
        column: str,
        check: str,
        bad: np.ndarray,
        values: pd.Series,
        fields: dict[str, str],
        rule: str | None = None,
        action: str | None = None,
    ) -> None:
        if not bad.any():
            return
        en, zh = checks.message(check, **fields)
        rule = rule or RULE_OWNED.get(self.table, {}).get((column, check))
        if rule is not None:
            en, zh = f"{en} {KEPT_FOR_RULE[0].format(rule=rule)}", f"{zh}{KEPT_FOR_RULE[1].format(rule=rule)}"
        rows = np.flatnonzero(bad)
        action = action or _action(self.table, column, check)
        self.parts.append(
            (self.df.index[rows], column, check, _arrow_text(values.iloc[rows]), en, zh, action)
        )

    def frame(self) -> pd.DataFrame:
        integer = pd.api.types.is_integer_dtype(self.df.index.dtype)
        if not self.parts:  # the usual block: a copy of an empty frame made once
            return _no_failures(integer).copy()
        counts = [1 if part[0] is None else len(part[0]) for part in self.parts]
        columns: dict[str, pd.Series] = {"index": self._index(integer)}
        # The texts of a part repeat over its rows: taken from one text per part, in Arrow.
        part_of = pyarrow.array(np.repeat(np.arange(len(self.parts), dtype=np.int32), counts))
        for at, name in enumerate(FAILURE_COLUMNS[1:], start=1):
            if name == "value":
                text = pyarrow.concat_arrays([part[at] for part in self.parts])
            else:
                words = pyarrow.array([part[at] for part in self.parts], type=pyarrow.large_string())
                text = words.take(part_of)
            columns[name] = text.to_pandas()  # pandas' str column on this very Arrow array
        return pd.DataFrame(columns, copy=False)

    def _index(self, integer: bool) -> pd.Series:
        """The index labels of every part, NA for a table problem: ``Int64`` for an integer index."""
        labels = [part[0] for part in self.parts]
        if integer:
            values = np.concatenate(
                [np.zeros(1, np.int64) if at is None else at.to_numpy(np.int64) for at in labels]
            )
            missing = np.concatenate([np.full(1 if at is None else len(at), at is None) for at in labels])
            return pd.Series(pd.arrays.IntegerArray(values, missing))
        objects = [np.array([pd.NA], dtype=object) if at is None else at.to_numpy(object) for at in labels]
        return pd.Series(np.concatenate(objects), dtype=object)


@functools.cache
def _no_failures(integer: bool) -> pd.DataFrame:
    """The failures frame of a table without failures, its index column Int64 for an integer index."""
    columns = {name: pd.Series([], dtype="str") for name in FAILURE_COLUMNS[1:]}
    return pd.DataFrame({"index": pd.Series([], dtype="Int64" if integer else object), **columns})


def _duplicated(s: pd.Series) -> np.ndarray:
    """Where a present value occurs more than once in the column."""
    if isinstance(s.dtype, pd.StringDtype):  # keys: compared by their bytes, not as Python strings
        return textkeys.duplicated(s)
    return s.duplicated(keep=False).to_numpy(dtype=bool) & s.notna().to_numpy()


@dataclass(frozen=True)
class _Job:
    """One row-level check to run: which rows fail, and the values to report for them."""

    column: str
    check: str
    failing: Callable[[], np.ndarray]
    values: Callable[[np.ndarray], pd.Series]
    fields: dict[str, str]


def _column_jobs(table: Table, col: pa.Column, s: pd.Series) -> list[_Job]:
    """The row checks of one column: not null, unique, then its checks in schema order."""

    def own_values(bad: np.ndarray) -> pd.Series:
        return s

    def failing(fn: checks.CheckFn, kwargs: dict) -> Callable[[], np.ndarray]:
        return lambda: ~fn(s, **kwargs).to_numpy(dtype=bool)

    jobs: list[_Job] = []
    if not col.nullable:
        jobs.append(_Job(col.name, "not_null", lambda: s.isna().to_numpy(), own_values, {}))
    if col.unique:
        jobs.append(_Job(col.name, "unique", lambda: _duplicated(s), own_values, {}))
    for check in col.checks:
        fn, kwargs = checks.COLUMN_CHECKS[check.name], check.statistics
        fields = message_fields(table, check.name, kwargs)
        jobs.append(_Job(col.name, check.name, failing(fn, kwargs), own_values, fields))
    return jobs


def _frame_job(table: Table, check: pa.Check, df: pd.DataFrame, city_code: str | None = None) -> _Job:
    """A check across columns, reported against its last column with every compared value."""
    columns = check.statistics["columns"]
    fn = checks.FRAME_CHECKS[check.name]
    kwargs = dict(check.statistics)
    if check.name == "division_parent":
        kwargs["city_code"] = city_code
    return _Job(
        columns[-1],
        check.name,
        lambda: ~fn(df, **kwargs).to_numpy(dtype=bool),
        lambda bad: _joined(df, columns, bad),
        message_fields(table, check.name, check.statistics),
    )


WORKERS = min(4, os.cpu_count() or 1)
"""Threads validate() runs checks on, the calling thread included: numpy and Arrow release the GIL."""
THREADED_ROWS = 100_000
"""Below this many rows, handing checks to other threads costs more than it saves."""

_SLOW_CHECKS = frozenset({"unique", "resident_id", "uscc", "luhn", "one_of"})
"""Checks that read every value's bytes: handed out first, so that no thread is left with one at the end."""

_POOLS: dict[int, ThreadPoolExecutor] = {}
_POOLS_LOCK = threading.Lock()


def _pool(threads: int) -> ThreadPoolExecutor:
    """``threads`` helper threads, started on first use and kept (starting them per block cost a lot)."""
    with _POOLS_LOCK:
        if threads not in _POOLS:
            _POOLS[threads] = ThreadPoolExecutor(threads, thread_name_prefix="audit-validate")
        return _POOLS[threads]


def _forget_pools() -> None:
    """In a forked child: the pools' threads did not come along, so start afresh."""
    global _POOLS_LOCK
    _POOLS.clear()
    _POOLS_LOCK = threading.Lock()


os.register_at_fork(after_in_child=_forget_pools)


def _run(jobs: list[_Job], rows: int) -> list[np.ndarray]:
    """The failing rows of every job, the calling thread taking jobs in turn with WORKERS - 1 helpers."""
    if WORKERS <= 1 or rows < THREADED_ROWS:
        return [job.failing() for job in jobs]
    failing: list[np.ndarray] = [np.zeros(0, dtype=bool)] * len(jobs)
    queue = iter(sorted(range(len(jobs)), key=lambda at: jobs[at].check not in _SLOW_CHECKS))
    lock = threading.Lock()

    def work() -> None:
        while True:
            with lock:
                at = next(queue, None)
            if at is None:
                return
            failing[at] = jobs[at].failing()

    helpers = [_pool(WORKERS - 1).submit(work) for _ in range(WORKERS - 1)]
    try:
        work()
    finally:
        for helper in helpers:
            helper.result()
    return failing


def validate(table: str, df: pd.DataFrame, *, city_code: str | None = None) -> Validation:
    """Check ``df`` against the schema of ``table``; every failure becomes a row, nothing is raised.

    A required column that is missing, or a column of the wrong dtype, is one failure with
    an NA index and its row checks are not run. Extra columns are allowed. ``city_code``:
    the city a county of the divisions must belong to (None: any city).
    """
    if table not in SCHEMAS:
        raise KeyError(f"no table {table!r} in the contract; known: {', '.join(SCHEMAS)}")
    schema, contract = SCHEMAS[table], TABLES[table]
    out = _Failures(table, df)
    jobs: list[_Job] = []
    usable: set[str] = set()
    for name, col in schema.columns.items():
        kind = Kind(col.metadata["kind"])
        if name not in df.columns:
            if col.required:
                out.add_table(name, "column_missing", pd.NA, {"column": name})
            continue
        if not dtype_ok(df[name], kind):
            dtype = str(df[name].dtype)
            out.add_table(name, "dtype", dtype, {"actual": dtype, "expected": DTYPES[kind]})
            continue
        usable.add(name)
        jobs.extend(_column_jobs(contract, col, df[name]))
    jobs.extend(
        _frame_job(contract, check, df, city_code)
        for check in schema.checks
        if usable.issuperset(check.statistics["columns"])
    )
    failing = _run(jobs, len(df))
    for job, bad in zip(jobs, failing, strict=True):
        out.add_rows(job.column, job.check, bad, job.values(bad), job.fields)
    return Validation(table, out.frame())


def _joined(df: pd.DataFrame, columns: tuple[str, ...], bad: np.ndarray) -> pd.Series:
    """The values of several columns as ``a=1; b=2`` text (only computed where ``bad``)."""
    text = pd.Series(pd.NA, index=df.index, dtype=object)
    if bad.any():
        rows = df.loc[bad, list(columns)]
        parts = [name + "=" + pd.Series(_text(rows[name]), index=rows.index).fillna("") for name in columns]
        joined = parts[0]
        for part in parts[1:]:
            joined = joined + "; " + part
        text[bad] = joined.to_numpy(dtype=object)
    return text


# --- checks across tables ---------------------------------------------------------------------


def _townships(tables: Mapping[str, pd.DataFrame]) -> pd.Series | None:
    divisions = tables.get("divisions")
    if divisions is None or not {"division_code", "level"} <= set(divisions.columns):
        return None
    return divisions.loc[divisions["level"] == "township", "division_code"]


def _posts(tables: Mapping[str, pd.DataFrame]) -> pd.Series | None:
    """The townships of the register, and the city's own code (the parent of its counties)."""
    townships = _townships(tables)
    if townships is None or "parent_code" not in tables["divisions"].columns:
        return None
    divisions = tables["divisions"]
    cities = divisions.loc[divisions["level"] == "county", "parent_code"].dropna().drop_duplicates()
    return pd.concat([townships, cities.astype(townships.dtype)], ignore_index=True)


def _column_of(table: str, column: str) -> Callable[[Mapping[str, pd.DataFrame]], pd.Series | None]:
    def values(tables: Mapping[str, pd.DataFrame]) -> pd.Series | None:
        df = tables.get(table)
        return None if df is None or column not in df.columns else df[column]

    return values


@dataclass(frozen=True)
class Reference:
    """A check that the values of ``table.column`` exist in another table.

    Every one flags: the register a value points to may itself be the stale or incomplete
    side (FACTS.md: 71 township positions against 66 offices), and quarantining the row
    would hide people and money from the rules. ``rule`` names the rule whose finding a
    failure is, when there is one; ``why`` says what quarantining would cost.
    """

    table: str
    column: str
    check: str
    target: Callable[[Mapping[str, pd.DataFrame]], pd.Series | None]
    target_text: str
    why: str
    rule: str | None = None
    only_where: tuple[str, str] | None = None  # (column, value): check only the rows where column == value


REFERENCES: tuple[Reference, ...] = (
    Reference(
        "staff",
        "post_code",
        "post_known",
        _posts,
        "a township in divisions, or the city's own code",
        why="S2 reports posts at codes outside the register; without the row S1 would see a vacancy",
        rule="S2",
    ),
    Reference(
        "staff",
        "contract_id",
        "contract_known",
        _column_of("contracts", "contract_id"),
        "contracts.contract_id",
        why="losing the staff member would show a vacant post (S1) that is in fact filled",
    ),
    Reference(
        "offices",
        "division_code",
        "township_known",
        _townships,
        "a township in divisions",
        why="the register may be the stale side; the office's four haves (S8) are still worth reading",
    ),
    Reference(
        "beneficiaries",
        "division_code",
        "township_known",
        _townships,
        "a township in divisions",
        why="losing the person would turn every payment to them into a false F1 finding",
    ),
    Reference(
        "fund_payments",
        "contract_id",
        "contract_known",
        _column_of("contracts", "contract_id"),
        "contracts.contract_id",
        why="losing the payment would understate spending against the cap (C5) and the contract (C8)",
        only_where=("purpose", PURCHASE),
    ),
    Reference(
        "relief_payments",
        "person_id",
        "on_roll",
        _column_of("beneficiaries", "person_id"),
        "beneficiaries.person_id",
        why="a payment to a person not on the roll is F1's finding",
        rule="F1",
    ),
)
"""The checks across tables, each flagging (never quarantining) a row whose value is unknown."""

REFERENCE_COLUMNS = ("table", *FAILURE_COLUMNS)


def referential_failures(tables: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """Rows whose values point to nothing in another table: the columns of failures plus ``table``.

    A check is skipped when its table, one of its columns or the table it points to is
    absent. Every action is ``flag`` (see :class:`Reference` for why).
    """
    parts = []
    for ref in REFERENCES:
        df, known = tables.get(ref.table), ref.target(tables)
        needed = {ref.column} | ({ref.only_where[0]} if ref.only_where else set())
        if df is None or known is None or not needed <= set(df.columns):
            continue
        bad = ~checks.REFERENCE_CHECKS[ref.check](df[ref.column], known=known).to_numpy(dtype=bool)
        if ref.only_where is not None:
            column, value = ref.only_where
            bad &= (df[column] == value).fillna(False).to_numpy(dtype=bool)
        if not bad.any():  # the usual slice: no frame built for it (pandas costs milliseconds a frame)
            continue
        failures = _Failures(ref.table, df)
        failures.add_rows(ref.column, ref.check, bad, df[ref.column], {}, rule=ref.rule, action=FLAG)
        part = failures.frame()
        part.insert(0, "table", ref.table)
        parts.append(part.astype({"index": object}))
    if not parts:  # the usual slice of a big table: a copy of a frame made once
        return _no_references().copy()
    out = pd.concat(parts, ignore_index=True)
    return out.astype({"table": "str", "index": object})[list(REFERENCE_COLUMNS)]


@functools.cache
def _no_references() -> pd.DataFrame:
    """The result of :func:`referential_failures` when no value points to nothing."""
    out = _Failures("", pd.DataFrame()).frame()
    out.insert(0, "table", pd.Series([], dtype="str"))
    return out.astype({"table": "str", "index": object})[list(REFERENCE_COLUMNS)]
