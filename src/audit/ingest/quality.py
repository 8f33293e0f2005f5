"""The data-quality log of an ingest: one entry per repair kind, quarantined cell and flag.

Entries are kept as Arrow, the texts that repeat dictionary-encoded, until the end of the
run, when :meth:`QualityLog.frame` sorts them (by table in contract order, file, sheet,
row, column, action, check: stable, so entries that tie keep the order they were made in).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from audit import readers, repairs
from audit.datacontract import TABLES
from audit.ingest.blocks import arrow_text
from audit.ingest.pipeline import key_columns
from audit.repairs import Issue
from audit.store import QUALITY_COLUMNS, quality_schema, to_frame

ACTIONS = {"quarantine": "quarantined", "flag": "flagged"}
"""A check's action as the log says what was done."""


class QualityLog:
    """The log being built: entries by table, aggregated repairs, and flags on key columns."""

    def __init__(self) -> None:
        self.parts: list[tuple[str, pa.Table]] = []  # (table, entries): see `add`
        self.repaired: dict[
            tuple, list
        ] = {}  # (table, county, file, sheet, column, issue) -> [n, row, was, now]
        self.flagged: set[tuple] = set()  # (file, sheet, row, column, check) of flags on key columns

    def drop(self, table: str, files: set[str]) -> None:
        """Forget the entries of a table that failed (``files``: the files it was read from)."""
        self.parts = [(name, part) for name, part in self.parts if name != table]
        self.repaired = {k: v for k, v in self.repaired.items() if k[0] != table}
        self.flagged = {k for k in self.flagged if k[0] not in files}

    def add(self, part: pd.DataFrame | pa.Table) -> None:
        """Add entries (of one table) to the log, kept compact until the end.

        A big table can have hundreds of thousands of entries (a Luhn flag on one account in
        twenty): as Arrow, with the texts that repeat dictionary-encoded, they take a tenth
        of the memory of the Python strings they are made of. ``part`` is a frame, or Arrow
        already in that layout (see `log_part`).
        """
        if not len(part):
            return
        if isinstance(part, pa.Table):
            self.parts.append((str(part.column("table")[0].as_py()), part))
        else:
            self.parts.append((str(part["table"].iloc[0]), compact_log(part)))

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
        county_code = None if county is None else pc.dictionary_encode(arrow_text(county).take(at))
        self.add(
            log_part(
                rows[at],
                log_values(values, at),
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
        actions = [ACTIONS.get(a) for a in action_words]
        pieces, order = [], []
        for code in np.unique(column):
            at = np.flatnonzero(column == code)
            name = names[code] if code >= 0 else None
            source = raw[name] if name in raw else store.get(name, None)
            if source is None:  # a column the block lacks: the value the check reported
                pieces.append(log_values(found["value"], at))
            else:
                pieces.append(log_values(source, positions[at]))
            order.append(at)
        value = pa.concat_arrays(pieces)
        if len(pieces) > 1:  # back from column order to the order of the entries
            value = value.take(pa.array(np.argsort(np.concatenate(order), kind="stable")))
        rows = store["src_row"].to_numpy()[positions]
        county = store.get("county_code", None)
        labels = [mapping.label(c) if c != "nan" else "" for c in names] + [""]
        part = log_part(
            rows,
            value,
            table=table,
            county_code=pc.dictionary_encode(log_values(county, positions)) if county is not None else None,
            file=data.file,
            sheet=data.sheet,
            column=words(labels, np.where(column < 0, len(names), column)),
            check=words(check_words, check),
            message_zh=words(zh_words, zh),
            message_en=words(en_words, en),
            action=words(actions, action),
        )
        self.add(part)
        keys = set(key_columns(TABLES[table]))
        flagged = np.array([a == "flagged" for a in actions] + [False])[action]
        keyed = np.array([c in keys for c in names] + [False])[column]
        for i in np.flatnonzero(flagged & keyed):  # few: flags on keys are rare
            name, what = names[column[i]], check_words[check[i]] if check[i] >= 0 else None
            self.flagged.add((data.file, data.sheet, int(rows[i]), name, what))

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
                self.repaired[key] = [int(n), int(rows[at]), text(was.iloc[at]), text(now.iloc[at])]
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

    def frame(self) -> pd.DataFrame:
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
        parts = [part for _name, part in self.parts]
        if notes:
            parts.append(compact_log(pd.DataFrame(notes)))
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


def compact_log(part: pd.DataFrame) -> pa.Table:
    """Log entries as Arrow: ``row`` as integers, the other columns as text, repeating ones encoded."""
    arrays = {}
    for name in QUALITY_COLUMNS:
        if name == "row":
            arrays[name] = pa.array(part[name].astype("Int64").array, type=pa.int64())
            continue
        values = arrow_text(part[name].astype("str"))
        arrays[name] = values if name == "value" else values.dictionary_encode()
    return pa.table(arrays)


def log_part(rows: np.ndarray, value: pa.Array, **texts: pa.DictionaryArray | str | None) -> pa.Table:
    """Log entries as `compact_log` makes them, from Arrow: each text per entry or one for all.

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
            arrays[name] = words([texts[name]], np.zeros(len(rows), dtype=np.int32))
    return pa.table(arrays)


def words(chosen_from: Sequence[str | None], at: np.ndarray) -> pa.DictionaryArray:
    """``chosen_from[at]`` as a dictionary array, missing for None and for ``at`` -1.

    Each word is in the dictionary once, as `pc.dictionary_encode` would have it: the log
    is sorted by the ranks of the dictionaries' words (see `_ranks`).
    """
    place: dict[str, int] = {}
    code = [-1 if w is None else place.setdefault(w, len(place)) for w in chosen_from]
    chosen = np.array([*code, -1], dtype=np.int32)[at]
    missing = chosen < 0
    indices = pa.array(chosen, mask=missing) if missing.any() else pa.array(chosen)
    return pa.DictionaryArray.from_arrays(indices, pa.array(list(place), type=pa.large_string()))


def _coded(values: pd.Series) -> tuple[np.ndarray, list[str]]:
    """A text column as its distinct words and a code per value into them (-1 where missing)."""
    encoded = pc.dictionary_encode(arrow_text(values))
    return pc.fill_null(encoded.indices, -1).to_numpy(), encoded.dictionary.to_pylist()


def _ranks(column: pa.ChunkedArray, order: Sequence[str] | None = None) -> np.ndarray:
    """Sort ranks of a column of text (by ``order`` when given, else by the text); -1 where missing."""
    if pa.types.is_dictionary(column.type):
        column = column.unify_dictionaries().combine_chunks()
        dictionary, at = column.dictionary, column.indices
    else:
        encoded = pc.dictionary_encode(column.combine_chunks())
        dictionary, at = encoded.dictionary, encoded.indices
    if order is None:
        rank = np.empty(len(dictionary), dtype=np.int64)
        rank[pc.sort_indices(dictionary).to_numpy()] = np.arange(len(dictionary))
    else:
        place = {w: i for i, w in enumerate(order)}
        rank = np.array([place.get(w, -1) for w in dictionary.to_pylist()], dtype=np.int64)
    return np.where(at.is_valid().to_numpy(zero_copy_only=False), rank[pc.fill_null(at, 0).to_numpy()], -1)


def _plain(kind: pa.DataType) -> pa.DataType:
    return kind.value_type if pa.types.is_dictionary(kind) else kind


def entry(
    table: str,
    county: str | None,
    data: readers.SheetData,
    row: int | None,
    column: str,
    value: str,
    issue: Issue,
    action: str,
) -> dict:
    """One log entry as a dict (for the few made one at a time)."""
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


def text(value: object) -> str:
    """One value as log text."""
    return repairs.example_text(value)


def texts(values: pd.Series) -> np.ndarray:
    """Values as log text, vectorised (dates as YYYY-MM-DD, missing as empty)."""
    return log_values(pd.Series(values)).to_numpy(zero_copy_only=False)


def log_values(values: pd.Series, at: np.ndarray | None = None) -> pa.Array:
    """The values at positions ``at`` (all by default) as log text, an Arrow ``large_string`` array.

    Text is taken from the Arrow array pandas holds and dates are formatted by pandas;
    only other dtypes (numbers read from Parquet, rare in the log) go value by value.
    """
    if isinstance(values.dtype, pd.StringDtype):
        array = arrow_text(values)
        return pc.fill_null(array if at is None else array.take(at), "")
    values = values if at is None else values.iloc[at]
    if pd.api.types.is_datetime64_any_dtype(values.dtype):
        stamp = values.dt.strftime("%Y-%m-%d %H:%M:%S").str.removesuffix(" 00:00:00")
        return pc.fill_null(arrow_text(stamp), "")
    return pa.array([text(v) for v in values], type=pa.large_string())
