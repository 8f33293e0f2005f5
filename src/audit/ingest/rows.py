"""A block's rows as the store holds them, and as the quarantine holds those that cannot be used."""

from __future__ import annotations

import re
from functools import lru_cache

import numpy as np
import pandas as pd
import pyarrow as pa

from audit import readers, repairs
from audit.datacontract import Kind, Table
from audit.ingest.quality import QualityLog, entry
from audit.ingest.result import SheetAccount
from audit.repairs import Issue
from audit.store import StoreWriter, table_schema

BAD_ROW = Issue(
    "wrong number of fields",
    "the row has a different number of fields than the header (a comma inside a value without quotes?)",
    "该行字段数与表头不一致（值中含未加引号的逗号？）",
)


def store_frame(
    table: Table,
    typed: dict[str, pd.Series],
    county: pd.Series | None,
    data: readers.SheetData,
    rows: np.ndarray,
) -> pd.DataFrame:
    """The repaired rows in the columns and dtypes of the store."""
    n = len(rows)
    cols: dict[str, pd.Series] = {}
    for f in table_schema(table.name):
        if f.name == "county_code" and county is not None:
            cols[f.name] = county
        elif f.name in typed:
            cols[f.name] = typed[f.name]
        elif f.name == "src_file":
            cols[f.name] = _constant(data.file, n)
        elif f.name == "src_sheet":
            cols[f.name] = _constant(data.sheet, n)
        elif f.name == "src_row":
            cols[f.name] = pd.Series(rows, dtype="int64")
        else:  # a column the file lacks and nothing derives (only possible for optional columns)
            cols[f.name] = _empty_column(table.column(f.name).kind, n)
    return pd.DataFrame(cols, copy=False)  # pandas copies on write: no column is copied here


def quarantine_frame(
    table: Table,
    raw: pd.DataFrame,
    store: pd.DataFrame,
    quarantined: np.ndarray,
    failed_cells: list[tuple[str, Issue, np.ndarray]],
    found: pd.DataFrame,
) -> pd.DataFrame:
    """Quarantined rows as found (text), with location, county and the checks they failed."""
    at = np.flatnonzero(quarantined)
    checks = pd.DataFrame(
        {
            "pos": np.concatenate(
                [np.flatnonzero(m) for _c, _i, m in failed_cells]
                + [found.loc[found["action"] == "quarantine", "index"].to_numpy(dtype=np.int64)]
            ),
            "check": [i.check for _c, i, m in failed_cells for _ in range(int(m.sum()))]
            + found.loc[found["action"] == "quarantine", "check"].astype("str").tolist(),
        }
    )
    joined = checks.drop_duplicates().sort_values(["pos", "check"]).groupby("pos")["check"].agg("; ".join)
    out = raw.iloc[at].reset_index(drop=True).astype("str")
    out["src_file"] = store["src_file"].iloc[at].to_numpy()
    out["src_sheet"] = store["src_sheet"].iloc[at].to_numpy()
    out["src_row"] = store["src_row"].iloc[at].to_numpy()
    if "county_code" in store:
        out["county_code"] = store["county_code"].iloc[at].to_numpy()
    out["checks"] = joined.reindex(at).to_numpy()
    return out


def bad_row(
    log: QualityLog,
    writer: StoreWriter,
    table: Table,
    data: readers.SheetData,
    mapping: repairs.HeaderMapping,
    sheet_county: str | None,
    bad: readers.BadRow,
    account: SheetAccount,
) -> None:
    """A CSV row with the wrong number of fields: blank, totals, or quarantined as found."""
    account.rows_read += 1
    cells = [f.strip() for f in bad.fields]
    first = next((c for c in cells if c), "")
    if not first:
        account.rows_blank += 1
        return
    if re.sub(r"\s+", "", first).startswith(repairs.TOTALS_WORDS):
        account.rows_totals += 1
        totals = entry(table.name, None, data, bad.row, "", first, repairs.TOTALS_ROW, "repaired")
        log.add(pd.DataFrame([totals]))
        return
    account.rows_quarantined += 1
    found = {c: (bad.fields[p] if p < len(bad.fields) else "") for c, p in mapping.positions.items()}
    issue = Issue(
        BAD_ROW.check,
        f"{BAD_ROW.message_en}: {len(bad.fields)} fields, header {len(data.header.labels)}",
        f"{BAD_ROW.message_zh}：{len(bad.fields)}个字段，表头{len(data.header.labels)}个",
    )
    logged = entry(table.name, sheet_county, data, bad.row, "", ",".join(bad.fields), issue, "quarantined")
    log.add(pd.DataFrame([logged]))
    row = {**found, "src_file": data.file, "src_sheet": data.sheet, "src_row": bad.row}
    row.update({"county_code": sheet_county, "checks": BAD_ROW.check})
    writer.quarantine(table.name, pd.DataFrame([row]))


def _constant(value: str, n: int) -> pd.Series:
    """``n`` copies of one text: a slice of a longer run kept for the next blocks (see `_copies`)."""
    return _copies(value, 1 << max(n - 1, 0).bit_length()).iloc[:n]


@lru_cache(maxsize=4)
def _copies(value: str, n: int) -> pd.Series:
    """``n`` copies of one text, built straight into Arrow buffers (no Python object per row).

    Blocks of a CSV differ in length, so the run is made for a power of two and sliced
    (pandas copies on write, so a frame built from a slice cannot change it).
    """
    data = value.encode()
    offsets = np.arange(n + 1, dtype=np.int64) * len(data)
    arr = pa.LargeStringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(data * n))
    return pd.Series(arr.to_pandas(), dtype="str")


def _empty_column(kind: Kind, n: int) -> pd.Series:
    if kind is Kind.DATE:
        return pd.Series(np.full(n, np.datetime64("NaT", "us")))
    if kind in (Kind.AMOUNT, Kind.NUMBER):
        return pd.Series(np.full(n, np.nan))
    return pd.Series([None] * n, dtype="str")
