"""Money in fen and calendar months, the two measures rules compare against thresholds.

Amounts are compared as whole fen (int64), never as floats, so "exactly the standard
passes, one fen above fails" holds without rounding surprises. Periods (``YYYY-MM``) are
turned into their first and last day once per distinct value, not once per row.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc


def fen(amounts: pd.Series) -> np.ndarray:
    """Yuan amounts (float64, rounded to the fen at ingest) as int64 fen; missing counts as 0."""
    values = amounts.to_numpy(dtype="float64", na_value=0.0)
    return np.rint(values * 100).astype("int64")


def fen_of(yuan: Decimal | float | int) -> int:
    """One amount in yuan as whole fen, rounded half up."""
    return int((Decimal(str(yuan)) * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def in_units(amount_fen: np.ndarray, unit_fen: int) -> np.ndarray:
    """Amounts in fen rounded to whole multiples of ``unit_fen`` (half up), as a count of units."""
    return (amount_fen * 2 + unit_fen) // (2 * unit_fen)


def year_bounds(year: int) -> tuple[pd.Timestamp, pd.Timestamp]:
    """First and last day of ``year``."""
    return pd.Timestamp(year, 1, 1), pd.Timestamp(year, 12, 31)


def year_months(year: int) -> list[str]:
    """The twelve periods of ``year`` as ``YYYY-MM``."""
    return [f"{year}-{m:02d}" for m in range(1, 13)]


def month_bounds(periods: pd.Series) -> tuple[pd.Series, pd.Series]:
    """First and last day of each ``YYYY-MM`` period (NaT where the text is not a month)."""
    codes, uniques = pd.factorize(periods, use_na_sentinel=True)
    first = pd.to_datetime(pd.Series(uniques, dtype="str") + "-01", format="%Y-%m-%d", errors="coerce")
    first = first.astype("datetime64[us]").to_numpy()
    last = (pd.Series(first) + pd.offsets.MonthEnd(0)).astype("datetime64[us]").to_numpy()
    nat = np.datetime64("NaT", "us")
    start = np.where(codes >= 0, first[np.maximum(codes, 0)] if len(first) else nat, nat)
    end = np.where(codes >= 0, last[np.maximum(codes, 0)] if len(last) else nat, nat)
    return (
        pd.Series(start.astype("datetime64[us]"), index=periods.index),
        pd.Series(end.astype("datetime64[us]"), index=periods.index),
    )


def months_between(start: pd.Series, end: pd.Series) -> np.ndarray:
    """Calendar months touched from ``start`` to ``end`` inclusive (Jan 15 to Mar 1 is 3); 0 if reversed."""
    s = start.to_numpy(dtype="datetime64[M]").astype("int64")
    e = end.to_numpy(dtype="datetime64[M]").astype("int64")
    n = e - s + 1
    bad = pd.isna(start).to_numpy() | pd.isna(end).to_numpy()
    return np.where(bad | (n < 0), 0, n)


def deadlines(periods: pd.Series, day: int) -> pd.Series:
    """For each ``YYYY-MM`` period, day ``day`` of the following month (NaT where not a month)."""
    codes, uniques = pd.factorize(periods, use_na_sentinel=True)
    first = pd.to_datetime(pd.Series(uniques, dtype="str") + "-01", format="%Y-%m-%d", errors="coerce")
    month = first.to_numpy(dtype="datetime64[M]")
    due = ((month + np.timedelta64(1, "M")).astype("datetime64[D]") + np.timedelta64(day - 1, "D")).astype(
        "datetime64[us]"
    )
    nat = np.datetime64("NaT", "us")
    out = np.where(codes >= 0, due[np.maximum(codes, 0)] if len(due) else nat, nat)
    return pd.Series(out.astype("datetime64[us]"), index=periods.index)


def group_keys(frame: pd.DataFrame, columns: list[str]) -> np.ndarray:
    """One int64 code per row, equal exactly when the rows agree on ``columns`` (missing counts as a value).

    Grouping a million rows on three text columns costs about four times as much as on
    these codes, so the relief rules group, count and find duplicates on them.
    """
    key = np.zeros(len(frame), dtype="int64")
    for name in columns:
        codes, uniques = pd.factorize(frame[name], use_na_sentinel=False)
        # re-coding after each column keeps the key dense, so it never overflows
        key, _ = pd.factorize(key * max(len(uniques), 1) + codes.astype("int64"))
        key = key.astype("int64")
    return key


def within(values: pd.Series, known: pd.Series | pd.Index | np.ndarray | list) -> np.ndarray:
    """Whether each of ``values`` is among ``known`` (missing never is), by an Arrow hash lookup.

    pandas' ``isin`` on Arrow-backed text turns ``known`` into a Python list first: a second
    for a hundred thousand values, where this takes milliseconds.
    """
    if len(values) == 0:
        return np.zeros(0, dtype=bool)
    pool = pc.unique(arrow_text(known))
    found = pc.is_in(arrow_text(values), value_set=pool, skip_nulls=True)
    return found.to_numpy(zero_copy_only=False).astype(bool)


def arrow_text(values: pd.Series | pd.Index | np.ndarray | list) -> pa.Array:
    """Text values as one Arrow large_string array (no copy for Arrow-backed text)."""
    array = getattr(values, "array", None)
    if array is not None and hasattr(array, "__arrow_array__"):
        arrow = array.__arrow_array__()
        arrow = arrow.combine_chunks() if isinstance(arrow, pa.ChunkedArray) else arrow
        return arrow.cast(pa.large_string())
    return pa.array(pd.Series(values, dtype="object").astype("str"), type=pa.large_string())
