"""Tiny vectorised checks the schemas are made of.

A column check takes a whole Series (and its keyword arguments) and returns a boolean
Series on the same index, ``True`` where the value passes; a frame check takes the
DataFrame and the ``columns`` it compares. Missing values pass every check here: whether a
value may be missing is the schema's ``nullable``, reported as ``not_null``.

The first line of each docstring is the English failure message, pandera style;
:data:`MESSAGES` pairs it with the Chinese one for the bilingual data-quality log. A message
may hold ``str.format`` fields filled from the check's arguments (see :func:`message`).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from audit import identifiers, textkeys

CheckFn = Callable[..., pd.Series]


def _na_passes(ok: pd.Series, s: pd.Series) -> pd.Series:
    return ok | s.isna()


def resident_id(s: pd.Series) -> pd.Series:
    """Invalid resident ID number (GB 11643): wrong length, characters, check digit or birth date."""
    return _na_passes(identifiers.resident_id_valid(s), s)


def uscc(s: pd.Series) -> pd.Series:
    """Invalid unified social credit code (GB 32100): wrong length, characters or check character."""
    return _na_passes(identifiers.uscc_valid(s), s)


def luhn(s: pd.Series) -> pd.Series:
    """Account number fails the Luhn check (common for passbook accounts, so only noted)."""
    # A value that is not all digits fails ``digits`` already; one report of it is enough. A
    # missing value is not digits either, so it passes.
    return ~identifiers.luhn_failing(s)


def digits(s: pd.Series) -> pd.Series:
    """Not made of digits only."""
    return _na_passes(identifiers.digits_only(s), s)


def division_code(s: pd.Series) -> pd.Series:
    """Not a division code of 6 or 9 digits (GB/T 2260)."""
    return _na_passes(identifiers.division_code_valid(s), s)


def month(s: pd.Series) -> pd.Series:
    """Not a month written YYYY-MM with the month 01-12."""
    return _na_passes(identifiers.month_valid(s), s)


def cents(s: pd.Series) -> pd.Series:
    """Not an amount in yuan with at most 2 decimals."""
    values = s.to_numpy(dtype=np.float64, na_value=np.nan)
    fen = values * 100
    off = np.rint(fen)
    with np.errstate(invalid="ignore"):  # infinite values give NaN, as NaN does
        np.subtract(fen, off, out=off)
    np.abs(off, out=off)
    # Tolerate float noise: 0.0001 fen, plus a relative margin for very large sums. When no value
    # is off by more than the least margin (the usual block), the max settles every one.
    if off.max(initial=0.0) <= 1e-4:
        return pd.Series(np.ones(len(values), dtype=bool), index=s.index)
    ok = off <= 1e-4 + np.abs(fen) * 1e-13
    return pd.Series(ok | np.isnan(values), index=s.index, dtype=bool)


def finite(s: pd.Series) -> pd.Series:
    """Not a finite number."""
    values = s.to_numpy(dtype=np.float64, na_value=np.nan)
    return pd.Series(np.isfinite(values) | np.isnan(values), index=s.index, dtype=bool)


def one_of(s: pd.Series, allowed: Sequence[str]) -> pd.Series:
    """Not one of the allowed values: {allowed}."""
    if isinstance(s.dtype, pd.StringDtype) and s.dtype.storage == "pyarrow":
        # Arrow's look-up in the string buffer, without pandas' wrapping around the same call.
        arr = pa.array(s.array)
        found = pc.is_in(arr, value_set=pa.array(list(allowed), arr.type))
        return pd.Series(np.asarray(found, dtype=bool), index=s.index, name=s.name) | s.isna()
    return s.isin(list(allowed)) | s.isna()


def at_least(s: pd.Series, minimum: float) -> pd.Series:
    """Less than {minimum}."""
    return (s >= minimum) | s.isna()


def dates_ordered(df: pd.DataFrame, columns: Sequence[str]) -> pd.Series:
    """{last} is before {first}."""
    first, last = columns
    return ~(df[last] < df[first]).fillna(False).astype(bool)


def division_parent(df: pd.DataFrame, columns: Sequence[str], city_code: str | None = None) -> pd.Series:
    """Wrong parent code: the city's code for a county, the first 6 digits of the code for a township.

    The city is ``city_code`` when known (the parameters file's, or the register's root);
    otherwise a county's parent is any city-level code (6 digits ending in 00).
    """
    code, parent = columns
    consistent = identifiers.parent_consistent(df[code], df[parent])
    township = (df[code].str.len() == 9).fillna(False).astype(bool)
    if city_code is not None:
        of_city = (df[parent] == city_code).fillna(False).astype(bool)
    else:
        of_city = df[parent].str.fullmatch(r"\d{4}00").fillna(False).astype(bool)
    return (consistent & (township | of_city)) | df[code].isna() | df[parent].isna()


def division_level(df: pd.DataFrame, columns: Sequence[str]) -> pd.Series:
    """Level does not match the code: county for 6 digits, township for 9."""
    code, level = columns
    length = df[code].str.len().fillna(0).to_numpy(dtype=np.int64)
    expected = np.where(length == 9, "township", np.where(length == 6, "county", ""))
    # A code of another length already fails its own check; no level can match it.
    matches = (df[level] == expected).fillna(False).to_numpy(dtype=bool)
    return pd.Series(matches | (expected == ""), index=df.index) | df[level].isna()


def _known(s: pd.Series, known: pd.Series) -> pd.Series:
    if isinstance(s.dtype, pd.StringDtype) and isinstance(known.dtype, pd.StringDtype):
        # pandas' isin makes a Python object of every known value (seconds for a roll of a million
        # people), and Arrow's is_in hashes them all again on every call: ingest checks a table
        # slice by slice against the same list, which is hashed once here.
        found = _text_set(known).contains(textkeys.large_text(s))
        return pd.Series(found, index=s.index) | s.isna()
    return s.isin(known.dropna().unique()) | s.isna()


_TEXT_SETS: dict[tuple, tuple[pa.Array | pa.ChunkedArray, textkeys.TextSet]] = {}
_KEPT_SETS = 4
"""Lists whose lookup sets are kept (a table's slices are checked against one or two lists)."""


def _text_set(known: pd.Series) -> textkeys.TextSet:
    """The lookup set of a list of known values, kept for the next check against the same values.

    The values are recognised by the memory they are in (each frame of a list is a new
    Series on the same buffers); the entry holds them, so no other list can be given that
    memory while it is kept.
    """
    values = pa.array(known.array)
    chunks = values.chunks if isinstance(values, pa.ChunkedArray) else [values]
    key = tuple(
        (str(c.type), c.offset, len(c), *(b.address if b else 0 for b in c.buffers())) for c in chunks
    )
    if key not in _TEXT_SETS:
        while len(_TEXT_SETS) >= _KEPT_SETS:
            del _TEXT_SETS[next(iter(_TEXT_SETS))]
        _TEXT_SETS[key] = (values, textkeys.TextSet(textkeys.large_text(known)))
    return _TEXT_SETS[key][1]


def forget_known() -> None:
    """Drop the lookup sets kept for lists of known values (a long-lived process, once it is done)."""
    _TEXT_SETS.clear()


def post_known(s: pd.Series, known: pd.Series) -> pd.Series:
    """Neither a township in the division register nor the city bureau (the city's own code)."""
    return _known(s, known)


def township_known(s: pd.Series, known: pd.Series) -> pd.Series:
    """Not a township in the division register."""
    return _known(s, known)


def contract_known(s: pd.Series, known: pd.Series) -> pd.Series:
    """No contract with this number in the contracts table."""
    return _known(s, known)


def on_roll(s: pd.Series, known: pd.Series) -> pd.Series:
    """Person not on the roll of beneficiaries."""
    return _known(s, known)


COLUMN_CHECKS: dict[str, CheckFn] = {
    fn.__name__: fn
    for fn in (resident_id, uscc, luhn, digits, division_code, month, cents, finite, one_of, at_least)
}
"""Checks of one column, by name."""

FRAME_CHECKS: dict[str, CheckFn] = {
    fn.__name__: fn for fn in (dates_ordered, division_parent, division_level)
}
"""Checks across the columns of a row, by name."""

REFERENCE_CHECKS: dict[str, CheckFn] = {
    fn.__name__: fn for fn in (post_known, township_known, contract_known, on_roll)
}
"""Checks that a value is ``known`` in another table, by name."""

_TABLE_LEVEL_EN = {
    "column_missing": "Required column {column} is missing.",
    "dtype": "Column has type {actual}; the contract wants {expected}.",
    "not_null": "Value missing.",
    "unique": "Value is not unique in the table.",
}

_ZH = {
    "resident_id": "身份证号无效（GB 11643）：位数、字符、校验码或出生日期不符。",
    "uscc": "统一社会信用代码无效（GB 32100）：位数、字符或校验码不符。",
    "luhn": "银行账号未通过 Luhn 校验（存折账户常见，仅作提示）。",
    "digits": "不是纯数字。",
    "division_code": "不是6位或9位的区划代码（GB/T 2260）。",
    "month": "不是 YYYY-MM 格式的月份（月份为 01-12）。",
    "cents": "不是最多两位小数的金额（元）。",
    "finite": "不是有限数值。",
    "one_of": "不是允许的取值之一：{allowed}。",
    "at_least": "小于 {minimum}。",
    "dates_ordered": "{last_zh}早于{first_zh}。",
    "division_parent": "上级代码错误：县级单位应为所在市的代码，乡镇应为本代码前6位。",
    "division_level": "级别与代码不符：6位代码应为 county，9位代码应为 township。",
    "post_known": "既不是行政区划表中的乡镇，也不是市本级（本市代码）。",
    "township_known": "不是行政区划表中的乡镇。",
    "contract_known": "合同表中没有此编号的合同。",
    "on_roll": "此人不在救助对象名册中。",
    "column_missing": "缺少必需列 {column}。",
    "dtype": "列类型为 {actual}，数据规范要求 {expected}。",
    "not_null": "值缺失。",
    "unique": "值在表中重复。",
}


def _first_line(fn: CheckFn) -> str:
    return (inspect.getdoc(fn) or "").splitlines()[0]


MESSAGES: dict[str, tuple[str, str]] = {
    **{
        name: (_first_line(fn), _ZH[name])
        for name, fn in {**COLUMN_CHECKS, **FRAME_CHECKS, **REFERENCE_CHECKS}.items()
    },
    **{name: (en, _ZH[name]) for name, en in _TABLE_LEVEL_EN.items()},
}
"""Every check name -> (English message, Chinese message), both possibly with format fields."""


def message(name: str, **fields: object) -> tuple[str, str]:
    """The English and Chinese failure messages of check ``name`` with its fields filled in."""
    en, zh = MESSAGES[name]
    return en.format(**fields), zh.format(**fields)
