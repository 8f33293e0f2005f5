"""What a rule hands back: finding rows with descriptions and evidence citing the source rows.

Rules build their findings with :func:`finding_rows`; evidence values follow the register's
convention (a float is an amount in yuan; other real numbers are passed as text), and
:func:`sources` cites where each row came from (file, sheet, row) so an inspector can open
the very cell.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

MAX_SOURCES = 20
"""Rows cited per finding; beyond that the evidence gives the count (keeps exports readable)."""

_SRC = ("src_file", "src_sheet", "src_row")


def sources(frame: pd.DataFrame, table: str) -> list[dict[str, Any]]:
    """One citation per row of ``frame``: table, file, sheet and row number."""
    n = len(frame)
    files = frame["src_file"].tolist() if "src_file" in frame else [None] * n
    sheets = frame["src_sheet"].tolist() if "src_sheet" in frame else [None] * n
    rows = frame["src_row"].tolist() if "src_row" in frame else [None] * n
    return [
        {"table": table, "file": f, "sheet": s, "row": None if pd.isna(r) else int(r)}
        for f, s, r in zip(files, sheets, rows, strict=True)
    ]


def grouped_sources(frame: pd.DataFrame, table: str, by: str | list[str]) -> dict[Any, list[dict[str, Any]]]:
    """Citations of ``frame``'s rows per value of ``by`` (a tuple for several columns), in row order.

    At most MAX_SOURCES a group. ``frame`` holds only the rows behind findings, so the loop is short.
    """
    keys = [by] if isinstance(by, str) else list(by)
    values = zip(*(frame[k].tolist() for k in keys), strict=True)
    out: dict[Any, list[dict[str, Any]]] = {}
    for key, cite in zip(values, sources(frame, table), strict=True):
        cited = out.setdefault(key[0] if len(keys) == 1 else key, [])
        if len(cited) < MAX_SOURCES:
            cited.append(cite)
    return out


def records(frame: pd.DataFrame, columns: Sequence[str]) -> list[dict[str, Any]]:
    """The chosen columns of each row as a dict (values normalised when the register is built)."""
    return frame[list(columns)].to_dict("records") if len(frame) else []


def yuan(values: pd.Series | np.ndarray) -> pd.Series:
    """Amounts as text for descriptions: ``1,234.50``."""
    series = pd.Series(np.asarray(values, dtype="float64"))
    return series.map(lambda v: f"{v:,.2f}").astype("str")


def text(values: pd.Series | np.ndarray | list) -> pd.Series:
    """Values as plain text for descriptions (dates as ISO days, missing as empty)."""
    series = pd.Series(values)
    if pd.api.types.is_datetime64_any_dtype(series):
        return series.dt.strftime("%Y-%m-%d").fillna("").astype("str").reset_index(drop=True)
    return series.astype("str").fillna("").reset_index(drop=True)


def finding_rows(
    *,
    county_code: Any,
    entity_id: Any,
    description_zh: Any,
    description_en: Any,
    evidence: list[dict[str, Any]],
    township_code: Any = None,
    amount_yuan: Any = np.nan,
    entity_type: Any = None,
    cross_county: Any = False,
) -> pd.DataFrame:
    """Finding rows in the shape the runner turns into register rows (arrays or scalars)."""
    n = len(evidence)
    frame = pd.DataFrame(
        {
            "county_code": _column(county_code, n),
            "township_code": _column(township_code, n),
            "entity_id": _column(entity_id, n),
            "amount_yuan": _column(amount_yuan, n),
            "description_zh": _column(description_zh, n),
            "description_en": _column(description_en, n),
            "evidence": pd.Series(evidence, dtype=object),
            "cross_county": _column(cross_county, n),
        },
        index=range(n),
    )
    if entity_type is not None:
        frame["entity_type"] = _column(entity_type, n)
    return frame


def _column(value: Any, n: int) -> pd.Series:
    if isinstance(value, pd.Series | np.ndarray | list | tuple):
        values = value.to_numpy() if isinstance(value, pd.Series) else np.asarray(value, dtype=object)
        if len(values) != n:
            raise ValueError(f"finding column has {len(values)} values for {n} findings")
        return pd.Series(values, index=range(n))
    return pd.Series([value] * n, index=range(n), dtype=object)


def no_findings() -> pd.DataFrame:
    """The empty result of a clean rule."""
    return finding_rows(county_code=[], entity_id=[], description_zh=[], description_en=[], evidence=[])
