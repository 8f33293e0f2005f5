"""The findings register: one row per offending entity, with stable ids, as Parquet and CSV.

A finding's id is the first 16 hex digits of SHA-256 of ``rule_id|entity_type|entity_id``,
so the same problem keeps its id from run to run and a follow-up audit can tell new
findings from persisting ones. Two kinds of rows add the county to what is hashed
(``rule_id|entity_type|entity_id|county_code``), which keeps the city's combined register
unique on ``finding_id``:

- attribution rows of a cross-county check (F4, S5, F7 in the roll-up): one row per county
  involved, each naming all of them in the evidence's ``counties``;
- rows that :func:`combine_registers` finds raised for the same entity by two county runs
  (one bank account paid in two counties, say).

Evidence is JSON with sorted keys, dates as ISO days and amounts as 2-decimal strings, so
the files written here are byte-identical run to run. They carry full personal data: they
are the restricted inspector export; masking for reviewers happens elsewhere. The xlsx
export, the rectification list, is :mod:`audit.rectification`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
from collections.abc import Iterable, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from audit.exceptions import RuleError
from audit.exports import write_csv
from audit.vocabulary import AREA_RANK

REGISTER_COLUMNS = (
    "finding_id",
    "rule_id",
    "area",
    "severity",
    "county_code",
    "township_code",
    "entity_type",
    "entity_id",
    "amount_yuan",
    "description_zh",
    "description_en",
    "evidence",
)
"""The register's columns, in order (docs/architecture.md)."""

_TEXT_COLUMNS = tuple(c for c in REGISTER_COLUMNS if c != "amount_yuan")


def finding_id(rule_id: str, entity_type: str, entity_id: str, county_code: str | None = None) -> str:
    """First 16 hex of SHA-256 of ``rule|type|id`` (``|county`` appended for attribution rows)."""
    key = f"{rule_id}|{entity_type}|{entity_id}"
    if county_code is not None:
        key += f"|{county_code}"
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:16]


def _jsonable(value: Any) -> Any:
    """``value`` in the evidence convention: ISO days, 2-decimal amounts, plain JSON types."""
    if isinstance(value, str):  # the commonest case first: this runs for every value of every finding
        return value
    if isinstance(value, dict | Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | np.ndarray | pd.Series):
        return [_jsonable(v) for v in value]
    if value is None or value is pd.NaT or value is pd.NA:
        return None
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating | Decimal):
        # A float in evidence is an amount in yuan; other reals are passed as formatted text.
        return None if math.isnan(value) else f"{float(value):.2f}"
    if isinstance(value, np.datetime64):
        value = pd.Timestamp(value)
    if isinstance(value, dt.datetime):  # pd.Timestamp included
        return value.date().isoformat() if value.time() == dt.time(0) else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def evidence_json(evidence: Mapping[str, Any]) -> str:
    """One finding's evidence as canonical JSON text (sorted keys, no spaces, Chinese kept)."""
    return json.dumps(_jsonable(evidence), sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def empty_register() -> pd.DataFrame:
    """A register with no findings, with the register's columns and dtypes."""
    frame = pd.DataFrame({c: pd.Series([], dtype="str") for c in _TEXT_COLUMNS})
    frame["amount_yuan"] = pd.Series([], dtype="float64")
    return frame[list(REGISTER_COLUMNS)]


def to_register(
    raw: pd.DataFrame, *, rule_id: str, area: str, severity: str, entity_type: str
) -> pd.DataFrame:
    """Turn a rule's finding rows into register rows (ids, metadata, canonical evidence)."""
    if raw.empty:
        return empty_register()
    n = len(raw)
    out = pd.DataFrame(index=range(n))
    types = raw["entity_type"] if "entity_type" in raw else pd.Series([entity_type] * n)
    cross = raw["cross_county"] if "cross_county" in raw else pd.Series([False] * n)
    out["rule_id"] = rule_id
    out["area"] = area
    # a rule whose severity is a parameter (F18) gives it per row
    out["severity"] = raw["severity"].to_numpy() if "severity" in raw else severity
    out["county_code"] = raw["county_code"].to_numpy()
    township = raw["township_code"] if "township_code" in raw else pd.Series([None] * n)
    out["township_code"] = township.to_numpy()
    out["entity_type"] = types.to_numpy()
    out["entity_id"] = raw["entity_id"].astype("str").to_numpy()
    amount = raw["amount_yuan"] if "amount_yuan" in raw else pd.Series([np.nan] * n)
    out["amount_yuan"] = np.round(amount.to_numpy(dtype="float64", na_value=np.nan), 2)
    out["description_zh"] = raw["description_zh"].to_numpy()
    out["description_en"] = raw["description_en"].to_numpy()
    out["evidence"] = [evidence_json(e) for e in raw["evidence"]]
    out["finding_id"] = [
        finding_id(rule_id, t, e, c if x else None)
        for t, e, c, x in zip(out["entity_type"], out["entity_id"], out["county_code"], cross, strict=True)
    ]
    return typed_register(out)


def typed_register(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame``'s register columns in order, with the register's dtypes."""
    frame = frame[list(REGISTER_COLUMNS)].copy()
    for name in _TEXT_COLUMNS:
        frame[name] = frame[name].astype("str")
    frame["amount_yuan"] = frame["amount_yuan"].astype("float64")
    return frame


def sort_register(findings: pd.DataFrame) -> pd.DataFrame:
    """Findings in catalogue order (C, S, F by number), then county, entity and id."""
    if findings.empty:
        return findings.reset_index(drop=True)
    keys = pd.DataFrame(
        {
            "_area": findings["area"].map(AREA_RANK).fillna(9).astype("int64"),
            "_number": findings["rule_id"].str.slice(1).astype("int64"),
        },
        index=findings.index,
    )
    ordered = pd.concat([findings, keys], axis=1).sort_values(
        ["_area", "_number", "county_code", "entity_id", "finding_id"], kind="mergesort"
    )
    return ordered.drop(columns=["_area", "_number"]).reset_index(drop=True)


def combine_registers(registers: Iterable[pd.DataFrame]) -> pd.DataFrame:
    """One register from several runs (counties and the city); ``finding_id`` stays unique.

    An entity raised by the same rule in two county runs (an account paid in two counties)
    gives two rows with one id; those rows get the county appended to what is hashed.
    """
    frames = [r for r in registers if not r.empty]
    if not frames:
        return empty_register()
    combined = pd.concat([typed_register(f) for f in frames], ignore_index=True)
    clash = combined["finding_id"].duplicated(keep=False)
    if clash.any():
        part = combined.loc[clash]
        combined.loc[clash, "finding_id"] = [
            finding_id(r, t, e, c)
            for r, t, e, c in zip(
                part["rule_id"], part["entity_type"], part["entity_id"], part["county_code"], strict=True
            )
        ]
    again = combined["finding_id"].duplicated(keep=False)
    if again.any():
        ids = sorted(combined.loc[again, "finding_id"].unique())
        raise RuleError(f"findings {ids} appear twice for the same county: was a run combined twice?")
    return sort_register(typed_register(combined))


def write_register(
    findings: pd.DataFrame, folder: str | Path, stem: str = "findings", *, csv: bool = True
) -> dict[str, Path]:
    """Write the register as ``stem.parquet`` and, unless ``csv`` is False, ``stem.csv`` (UTF-8 with BOM)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    frame = typed_register(findings)
    schema = pa.schema(
        [(c, pa.float64()) if c == "amount_yuan" else (c, pa.string()) for c in REGISTER_COLUMNS]
    )
    table = pa.Table.from_pandas(frame, schema=schema, preserve_index=False)
    # No pandas metadata: the bytes then depend on the data, not on the pandas version.
    table = table.replace_schema_metadata(None)
    parquet = folder / f"{stem}.parquet"
    pq.write_table(table, parquet, compression="zstd", write_statistics=False)
    if not csv:
        return {"parquet": parquet}
    return {"parquet": parquet, "csv": write_csv(frame, folder / f"{stem}.csv")}


def read_register(path: str | Path) -> pd.DataFrame:
    """Read a register written by :func:`write_register` back with the register's dtypes."""
    return typed_register(pq.read_table(path).to_pandas())
