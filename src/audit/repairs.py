"""Repairs of the everyday damage of government spreadsheets, before validation.

Headers are matched to the contract in any of their accepted spellings; blank and totals
rows are told apart from data; and every value is turned from the text it was read as
into the dtype of its contract kind (``docs/architecture.md``), or marked as a failure
that quarantines its row. Everything is vectorised over whole columns with Arrow compute:
no Python loop runs per row. Low-cardinality kinds (choices, dates, months, yes/no,
codes) are repaired once per distinct value and expanded, which is what makes tens of
millions of payment rows cheap.

A repair that changes a value is reported as a mask per :class:`Issue`, so ingest can log
it aggregated (count and one example) instead of once per cell.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cache

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from audit import identifiers, textkeys
from audit.datacontract import TABLES, Column, Kind, header_map
from audit.names import shown

TOTALS_WORDS = ("合计", "总计", "小计")
"""A row whose first non-empty cell is one of these (or a key cell holds one) is a totals row."""

EXCEL_EPOCH = np.datetime64("1899-12-30", "D")
"""Day zero of Excel serial dates (1900 system, with Lotus's leap-year bug folded in)."""

FIRST_DATE = np.datetime64("1900-01-01", "D")
LAST_DATE = np.datetime64("2100-12-31", "D")
"""Dates outside these bounds cannot belong to this programme: they are typing errors."""

SERIAL_FLOOR = 3654
"""Smallest number read as an Excel serial date (1910-01-01): smaller ones are typing errors."""

HEADER_SCAN_ROWS = 50
"""How many rows from the top are searched for the header."""


@dataclass(frozen=True)
class Issue:
    """One kind of repair or failure: a short check name and a message in English and Chinese."""

    check: str
    message_en: str
    message_zh: str


# Repairs: the value was changed and kept.
FULL_WIDTH = Issue("full-width characters", "full-width characters converted to ASCII", "全角字符已转为半角")
TRIMMED = Issue("spaces", "spaces around the value removed", "已去除首尾空格")
APOSTROPHE = Issue("leading apostrophe", "leading apostrophe removed", "已去除开头的单引号")
INNER_SPACES = Issue(
    "spaces inside", "spaces or hyphens inside the value removed", "已去除值中的空格或连字符"
)
LOWER_X = Issue("lowercase check character", "lowercase letters made uppercase", "小写字母已改为大写")
NUMBER_FORMAT = Issue(
    "number format", "trailing '.0' of a number-formatted cell removed", "已去除数字格式带来的“.0”"
)
AMOUNT_TEXT = Issue(
    "amount written as text",
    "currency sign, 元 or thousands separators removed",
    "已去除货币符号、“元”或千位分隔符",
)
ROUNDED = Issue("rounded", "rounded to the fen (2 decimals)", "已四舍五入到分")
UNIT_REMOVED = Issue("unit", "unit after the number removed", "已去除数字后的单位")
TEN_THOUSAND_YUAN = Issue(
    "amount in 万元",
    "amount headed in 万元 converted to yuan (× 10,000)",
    "以万元为单位的金额已换算为元（×10000）",
)
TWIN_COLUMN = Issue(
    "same column twice",
    "two columns name this field and agree on every row: one was kept",
    "两列对应同一字段且各行取值一致：已保留其一",
)
DATE_TEXT = Issue(
    "date format", "date written in another format converted to YYYY-MM-DD", "日期格式已转为YYYY-MM-DD"
)
DATE_SERIAL = Issue("excel serial date", "Excel serial number converted to a date", "Excel日期序号已转为日期")
TIME_DROPPED = Issue("time of day", "time of day dropped from a date", "已去除日期中的时间")
MONTH_TEXT = Issue("month format", "month converted to YYYY-MM", "月份已转为YYYY-MM格式")
CHOICE_SPELLING = Issue(
    "choice spelling", "spaces or letter case of an allowed value corrected", "已更正可选值的空格或大小写"
)
MERGED_FILLED = Issue(
    "merged cell", "value of a merged cell copied to every row it spans", "合并单元格的值已填入其所跨各行"
)
TOTALS_ROW = Issue("totals row", "totals row skipped (not data)", "合计行已跳过（非数据行）")
BLANK_ROWS = Issue("blank row", "blank rows skipped", "空白行已跳过")

# Failures: the value cannot be used and its row is quarantined.
DIGITS_LOST = Issue(
    "digits lost",
    "the number was stored as a number and its last digits were lost (e.g. 5.40102E+17): "
    "re-export the column formatted as text",
    "该号码以数值格式保存，末几位已丢失（如5.40102E+17）：请将该列设为文本格式后重新导出",
)
NOT_AMOUNT = Issue("not an amount", "not an amount in yuan", "不是以元为单位的金额")
TOO_MANY_DECIMALS = Issue(
    "more than 2 decimals", "amount has more than 2 decimals (below the fen)", "金额小数超过2位（不足1分）"
)
NOT_NUMBER = Issue("not a number", "not a number", "不是数字")
NOT_WHOLE = Issue("not a whole number", "not a whole number", "不是整数")
NOT_DATE = Issue(
    "not a date",
    "not a date (accepted: 2020-05-07, 2020/5/7, 2020.05.07, 2020年5月7日, 20200507, Excel dates)",
    "不是日期（可用格式：2020-05-07、2020/5/7、2020.05.07、2020年5月7日、20200507、Excel日期）",
)
PHANTOM_DATE = Issue(
    "date that never existed",
    "1900-02-29 (Excel's serial 60) never existed: Excel counts a leap day 1900 did not have; "
    "type the real date",
    "1900-02-29（Excel日期序号60）并不存在：Excel误将1900年算作闰年；请填写真实日期",
)
DATE_RANGE = Issue("date out of range", "date before 1900 or after 2100", "日期早于1900年或晚于2100年")
NOT_MONTH = Issue(
    "not a month",
    "not a month (accepted: 2020-05, 2020/5, 2020年5月, 202005)",
    "不是月份（可用格式：2020-05、2020/5、2020年5月、202005）",
)
NOT_FLAG = Issue(
    "not yes/no",
    "not yes/no (accepted: 是/否, 有/无, Y/N, yes/no, 1/0, TRUE/FALSE)",
    "不是“是/否”（可用：是/否、有/无、Y/N、yes/no、1/0、TRUE/FALSE）",
)
MISSING = Issue("missing", "value missing", "值缺失")

_NUMBER = r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)"
_LOST_EXPONENT = r"^\d(?:\.\d*)?[eE]\+\d+$"  # how Excel and Python print a big number
_LONG_FLOAT = r"^\d{16,}\.\d*$"  # 16+ digits cannot survive a float (15 significant digits)
_SHORT_FLOAT = r"^\d{1,15}\.0+$"
_APOSTROPHES = r"^['‘’`]+"
_YES = ("是", "有", "y", "yes", "1", "true", "t", "√", "✓", "对")
_NO = ("否", "无", "没有", "n", "no", "0", "false", "f", "×", "✗", "错")
_DICTIONARY_KINDS = frozenset({Kind.CHOICE, Kind.DATE, Kind.MONTH, Kind.FLAG, Kind.CODE, Kind.COUNT})


# ---------------------------------------------------------------------------------- headers


def normalise_header(text: object) -> str:
    """A header reduced for matching: NFKC, no whitespace, ``_`` or ``*``, lowercase, no ``(元)``."""
    if text is None or (isinstance(text, float) and math.isnan(text)):
        return ""
    out = unicodedata.normalize("NFKC", str(text))
    out = re.sub(r"[\s_*\-]+", "", out).lower()
    return out.removesuffix("(元)")


@cache
def _lookup(table: str) -> dict[str, str]:
    return {normalise_header(h): name for h, name in header_map(table).items()}


def accepted_headers(table: str, column: str) -> tuple[str, ...]:
    """Every header accepted for ``column`` of ``table``: canonical, Chinese and aliases."""
    col = TABLES[table].column(column)
    return (col.name, col.zh, *col.aliases)


def header_threshold(table: str) -> int:
    """How many contract columns a row must name to be taken for the header."""
    required = sum(c.required for c in TABLES[table].columns)
    return max(2, math.ceil(required / 2))


TEN_THOUSAND = "(万元)"
"""A header's suffix saying its amounts are in units of 10,000 yuan (after NFKC: ASCII brackets)."""


def column_of(table: str, label: object) -> tuple[str | None, float]:
    """The contract column a header names, and the factor its values are multiplied by into
    the contract's unit: 10,000 for an amount headed ``金额(万元)``, else 1."""
    lookup = _lookup(table)
    key = normalise_header(label)
    name = lookup.get(key)
    if name is None and key.endswith(TEN_THOUSAND):
        name = lookup.get(key.removesuffix(TEN_THOUSAND))
        if name is not None and TABLES[table].column(name).kind is Kind.AMOUNT:
            return name, 10_000.0
        return None, 1.0
    return name, 1.0


def _score(table: str, labels: Sequence[str]) -> int:
    return len({name for name, _ in (column_of(table, label) for label in labels) if name is not None})


@dataclass(frozen=True)
class HeaderSpec:
    """Where the header is in a sheet and what it says, one label per column position."""

    first: int  # 0-based index of the first header row
    count: int  # header rows: 1, or 2 for a group label row above the real headers
    labels: tuple[str, ...]

    @property
    def data_start(self) -> int:
        """0-based index of the first row below the header."""
        return self.first + self.count


def locate_header(table: str, rows: Sequence[Sequence[str]]) -> HeaderSpec | None:
    """Find the header among the first rows, or None when no row names enough contract columns.

    The header is the first row naming at least :func:`header_threshold` columns, alone or
    read together with the row below it (a two-row header under merged group labels: for
    each position the cell that names a contract column wins, the lower one first; the
    pair is taken only when it names more columns than the row alone). Title rows and
    blank rows above it are skipped.
    """
    rows = [list(map(_cell_text, r)) for r in rows[:HEADER_SCAN_ROWS]]
    needed = header_threshold(table)
    scores = [_score(table, r) for r in rows]
    for i, row in enumerate(rows):
        if i + 1 < len(rows):
            pair = _combine(table, row, rows[i + 1])
            score = _score(table, pair)
            # The pair only when both rows add to it; a blank or title row above a header does not.
            if score >= needed and score > max(scores[i], scores[i + 1]):
                return HeaderSpec(i, 2, pair)
        if scores[i] >= needed:
            return HeaderSpec(i, 1, tuple(row))
    return None


def _cell_text(value: object) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return str(value).strip()


def _combine(table: str, upper: Sequence[str], lower: Sequence[str]) -> tuple[str, ...]:
    width = max(len(upper), len(lower))
    upper = list(upper) + [""] * (width - len(upper))
    lower = list(lower) + [""] * (width - len(lower))
    out = []
    for top, bottom in zip(upper, lower, strict=True):
        if column_of(table, bottom)[0] is not None:
            out.append(bottom)
        elif column_of(table, top)[0] is not None:
            out.append(top)
        else:
            out.append(bottom or top)
    return tuple(out)


@dataclass(frozen=True)
class HeaderMapping:
    """Which column position holds which contract column, and what was left out."""

    positions: dict[str, int]  # canonical name -> position in the sheet
    labels: dict[str, str]  # canonical name -> header as found
    ignored: tuple[str, ...]  # headers not in the contract
    missing: tuple[str, ...]  # required contract columns with no header
    # canonical name -> (position, header) of each further column naming it (二 身份证号 columns)
    twins: dict[str, tuple[tuple[int, str], ...]] = field(default_factory=dict)
    scales: dict[str, float] = field(default_factory=dict)  # canonical name -> factor into yuan (万元)

    def label(self, column: str) -> str:
        """The header of ``column`` as found in the file (the canonical name when derived)."""
        return self.labels.get(column, column)


def map_headers(table: str, labels: Sequence[str]) -> HeaderMapping:
    """Map the header labels of a sheet to contract columns; unknown headers are ignored.

    A further column naming a column already mapped (身份证号 and 身份证号码) is its twin: ingest
    keeps one when their values agree and rejects the file when they differ. An amount headed
    in 万元 gets its factor into yuan.
    """
    positions: dict[str, int] = {}
    found: dict[str, str] = {}
    ignored: list[str] = []
    twins: dict[str, list[tuple[int, str]]] = {}
    scales: dict[str, float] = {}
    for pos, label in enumerate(labels):
        name, scale = column_of(table, label)
        text = shown(str(label).strip())  # as every message and log entry cites it
        if name is None:
            if text:
                ignored.append(text)
            continue
        if name in positions:
            twins.setdefault(name, []).append((pos, text))
            continue
        positions[name], found[name] = pos, text
        if scale != 1.0:
            scales[name] = scale
    missing = tuple(c.name for c in TABLES[table].columns if c.required and c.name not in positions)
    return HeaderMapping(
        positions, found, tuple(ignored), missing, {k: tuple(v) for k, v in twins.items()}, scales
    )


# ------------------------------------------------------------------------ blank and totals rows


def blank_rows(frame: pd.DataFrame) -> np.ndarray:
    """Rows whose every cell is empty or only spaces."""
    blank = np.ones(len(frame), dtype=bool)
    for name in frame.columns:
        if not blank.any():
            break
        blank &= _empty(frame[name])
    return blank


def totals_rows(frame: pd.DataFrame, key_columns: Sequence[object] = ()) -> np.ndarray:
    """Rows whose first non-empty cell is a totals word (合计/总计/小计), or a key cell holds one."""
    n = len(frame)
    totals = np.zeros(n, dtype=bool)
    decided = np.zeros(n, dtype=bool)  # the first non-empty cell has been seen
    pattern = "^[\\s\u3000]*(?:" + "|".join(w[0] + "[\\s\u3000]*" + w[1] for w in TOTALS_WORDS) + ")"
    for name in frame.columns:
        if decided.all():
            break
        present = ~_empty(frame[name])
        fresh = present & ~decided
        if fresh.any() and _text_like(frame[name]):  # a number or a date is no totals word
            totals |= fresh & _wide_match(_arrow(_as_text(frame[name])), pattern)
        decided |= present
    for name in key_columns:
        if _text_like(frame[name]):
            totals |= _wide_match(_arrow(_as_text(frame[name])), "|".join(TOTALS_WORDS))
    return totals


def _text_like(s: pd.Series) -> bool:
    """Whether a column holds text (as read), not numbers, dates or yes/no typed in Parquet."""
    kind = s.dtype
    return not (
        pd.api.types.is_numeric_dtype(kind)
        or pd.api.types.is_bool_dtype(kind)
        or pd.api.types.is_datetime64_any_dtype(kind)
    )


def _wide_match(text: pa.Array, pattern: str) -> np.ndarray:
    """Where ``text`` matches ``pattern``, which needs a character beyond ASCII (the totals words).

    Only the values that are not pure ASCII are searched: a fast test spares the regex on
    millions of codes and amounts.
    """
    if int(textkeys.string_bytes(text)[1].max(initial=0)) < 0x80:
        return np.zeros(len(text), dtype=bool)  # no byte beyond ASCII: one reduction, not a test per value
    wide = _mask(pc.invert(pc.string_is_ascii(text)))
    if not wide.any():
        return wide
    out = np.zeros(len(text), dtype=bool)
    out[wide] = _mask(pc.match_substring_regex(pc.filter(text, pa.array(wide)), pattern))
    return out


def _as_text(s: pd.Series) -> pd.Series:
    if isinstance(s.dtype, pd.StringDtype):
        return s
    return s.astype("str")


def blank_values(s: pd.Series) -> np.ndarray:
    """Where a value is missing, empty or only spaces."""
    return _empty(s)


def _empty(s: pd.Series) -> np.ndarray:
    if isinstance(s.dtype, pd.StringDtype):
        arr = textkeys.large_text(s)
        offsets, raw = textkeys.string_bytes(arr)
        if not len(raw) or (int(raw.min()) > 0x20 and int(raw.max()) < 0x80):
            # No space, control or non-ASCII byte anywhere (the usual ID or code column): only the
            # missing and empty values are blank, and one pass over the bytes said so.
            blank = np.diff(offsets) == 0
            if arr.null_count:
                blank |= ~arr.is_valid().to_numpy(zero_copy_only=False)
            return blank
        arr = _arrow(s)
        blank = pc.or_(pc.equal(arr, ""), pc.utf8_is_space(arr))
        return np.asarray(pc.fill_null(blank, True).to_numpy(zero_copy_only=False), dtype=bool)
    return s.isna().to_numpy()


# ------------------------------------------------------------------------------ value repairs


@dataclass
class Repaired:
    """A column repaired into its contract dtype, with what was changed and what failed."""

    values: pd.Series
    repairs: dict[Issue, np.ndarray] = field(default_factory=dict)  # masks of changed values
    failures: dict[Issue, np.ndarray] = field(default_factory=dict)  # masks of unusable values

    def failed(self) -> np.ndarray:
        """Rows where any value failed."""
        out = np.zeros(len(self.values), dtype=bool)
        for mask in self.failures.values():
            out |= mask
        return out


@dataclass
class _Result:
    values: object  # pa.Array or np.ndarray, one entry per input value
    repairs: dict[Issue, np.ndarray] = field(default_factory=dict)
    failures: dict[Issue, np.ndarray] = field(default_factory=dict)

    def add(self, into: dict[Issue, np.ndarray], issue: Issue, mask: np.ndarray) -> None:
        if mask.any():
            into[issue] = into[issue] | mask if issue in into else mask


def repair_scaled(column: Column, values: pd.Series, scale: float) -> Repaired:
    """An amount column headed in another unit (万元): read as numbers, multiplied into yuan,
    rounded to the fen; a value that then has more than 2 decimals fails as such."""
    plain = repair(Column(column.name, column.zh, Kind.NUMBER, column.description), values)
    v = plain.values.to_numpy(dtype="float64") * scale
    cents = v * 100
    fine = np.isfinite(v) & (np.abs(cents - np.round(cents)) > 1e-6 + 1e-12 * np.abs(cents))
    out = Repaired(pd.Series(np.round(v, 2)), dict(plain.repairs), {})
    for issue, mask in plain.failures.items():
        out.failures[NOT_AMOUNT if issue is NOT_NUMBER else issue] = mask
    if fine.any():
        out.failures[TOO_MANY_DECIMALS] = fine
    present = np.isfinite(v)
    if present.any():
        out.repairs[TEN_THOUSAND_YUAN] = present
    return out


def twin_conflicts(column: Column, kept: Repaired, twin: pd.Series) -> tuple[Repaired, np.ndarray]:
    """The twin column repaired like the one kept, and where it gives a value the kept one does not."""
    other = repair(column, twin)
    a, b = kept.values.reset_index(drop=True), other.values.reset_index(drop=True)
    both = ~(a.isna().to_numpy() | b.isna().to_numpy())
    differ = np.zeros(len(a), dtype=bool)
    differ[both] = a[both].to_numpy() != b[both].to_numpy()
    return other, differ


def repeating_columns(table: str, labels: Sequence[str]) -> list[int]:
    """Positions of the columns repaired once per distinct value (worth reading dictionary-encoded)."""
    mapping = map_headers(table, labels)
    kinds = {c.name: c.kind for c in TABLES[table].columns}
    return sorted(p for c, p in mapping.positions.items() if kinds[c] in _DICTIONARY_KINDS)


def repair(column: Column, values: pd.Series, encoded: pa.DictionaryArray | None = None) -> Repaired:
    """Turn the values of one column, as read, into the dtype of its kind (see the architecture).

    ``encoded``, the same values dictionary-encoded, spares finding the distinct values again.
    """
    kind = column.kind
    if pd.api.types.is_bool_dtype(values.dtype) and kind is Kind.FLAG:
        return Repaired(values.astype(bool).reset_index(drop=True))
    if pd.api.types.is_datetime64_any_dtype(values.dtype) and kind is Kind.DATE:
        return _typed_dates(values)
    if pd.api.types.is_numeric_dtype(values.dtype) and not pd.api.types.is_bool_dtype(values.dtype):
        if kind in (Kind.AMOUNT, Kind.NUMBER, Kind.COUNT):
            return _typed_numbers(column, values)
        values = _number_text(values)
    text = _arrow(_as_text(values))
    fn = _TEXT_REPAIRS[kind]
    if encoded is not None and (kind not in _DICTIONARY_KINDS or len(encoded) != len(text)):
        encoded = None
    if encoded is not None:
        # Every value clean when every value of the dictionary is (some may be unused: no matter).
        dictionary = _arrow_plain(encoded.dictionary)
        if _unchanged(column, dictionary):
            result = _Result(text)
        else:
            result = _by_distinct(text, lambda a: fn(column, a), encoded)
    elif kind in _DICTIONARY_KINDS and _unchanged(column, text):
        result = _Result(text)
    elif kind in _DICTIONARY_KINDS:
        result = _by_distinct(text, lambda a: fn(column, a))
    elif kind in _CLEAN:
        result = _dirty_only(text, kind, lambda a: fn(column, a))
    else:
        result = fn(column, text)
    if result.values is text and values.dtype == _STR:
        # Nothing changed: the column as read, not converted back from Arrow.
        return Repaired(pd.Series(values.array), result.repairs, result.failures)
    return Repaired(_to_series(result.values, kind), result.repairs, result.failures)


_STR = pd.Series([], dtype="str").dtype  # the dtype of text after repair


def _arrow(s: pd.Series) -> pa.Array:
    arr = pa.array(s.array) if isinstance(s.dtype, pd.StringDtype) else pa.array(s, type=pa.string())
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    if arr.type != pa.string():
        arr = arr.cast(pa.string())
    return arr


def _arrow_plain(arr: pa.Array) -> pa.Array:
    """A dictionary's values as the ``string`` arrays the repairs work on."""
    return arr if arr.type == pa.string() else arr.cast(pa.string())


def _to_series(values: object, kind: Kind) -> pd.Series:
    if kind is Kind.DATE:
        return pd.Series(np.asarray(values, dtype="datetime64[us]"))
    if kind in (Kind.AMOUNT, Kind.NUMBER):
        return pd.Series(np.asarray(values, dtype="float64"))
    if kind is Kind.COUNT:
        return pd.Series(np.asarray(values, dtype="int64"))
    if kind is Kind.FLAG:
        return pd.Series(np.asarray(values, dtype=bool))
    return pd.Series(values.to_pandas() if len(values) else pd.array([], dtype="str"), dtype="str")


# Values already in their final form: one regex pass spares the repairs (millions of clean IDs).
_CLEAN = {
    Kind.ID_NUMBER: r"^\d{17}[\dX]$",
    Kind.ACCOUNT: r"^\d+$",
    Kind.USCC: r"^[0-9A-Z]{18}$",
    Kind.KEY: r"^[A-Za-z0-9_/-]+$",
    Kind.AMOUNT: r"^\d{1,12}(?:\.\d{1,2})?$",
}


def _surely_ids(arr: pa.Array) -> np.ndarray:
    ok = identifiers.resident_id_shaped(arr)  # the whole buffer at once settles the usual column
    if ok is None:
        ok = _mask(pc.and_(pc.equal(pc.binary_length(arr), 18), pc.ascii_is_decimal(arr)))
    return ok


def _surely_digits(arr: pa.Array) -> np.ndarray:
    ok = textkeys.digit_strings(arr)
    return _mask(pc.ascii_is_decimal(arr)) if ok is None else ok


def _surely_amounts(arr: pa.Array) -> np.ndarray:
    """Where a value is 1-12 digits, then maybe a point and 1-2 digits (read off the bytes, no regex)."""
    offsets, raw = textkeys.string_bytes(arr)
    other = (raw - np.uint8(ord("0"))) > 9  # uint8 wraps: every byte but a digit
    lengths = np.diff(offsets)
    ok = _plain_amounts(offsets[1:], lengths, raw, int(np.count_nonzero(other)))
    if ok is not None:
        if arr.null_count:
            ok &= arr.is_valid().to_numpy(zero_copy_only=False)
        return ok
    points = np.flatnonzero(other)
    ok = np.zeros(len(arr), dtype=bool)
    if len(points) and (raw[points] != ord(".")).any():
        return ok  # a sign, a space, a 元: the regex decides
    value = np.searchsorted(offsets, points, side="right") - 1
    count = np.bincount(value, minlength=len(arr))
    ok = (count == 0) & (lengths >= 1) & (lengths <= 12)
    before, after = points - offsets[value], offsets[value + 1] - points - 1
    good = (before >= 1) & (before <= 12) & (after >= 1) & (after <= 2)
    ok[value[good]] = True
    ok[value[~good]] = False
    ok &= count <= 1
    if arr.null_count:
        ok &= arr.is_valid().to_numpy(zero_copy_only=False)
    return ok


def _plain_amounts(ends: np.ndarray, lengths: np.ndarray, raw: np.ndarray, others: int) -> np.ndarray | None:
    """The usual column settled without locating each byte: None unless every byte that is not a
    digit is the point of a value, one or two places before its end, after a digit.

    A point so placed is one byte of one value; when such points are all the non-digit bytes
    there are, every value is digits but for its own point, if it has one.
    """
    if not others:
        return (lengths >= 1) & (lengths <= 12)
    if not len(raw):
        return None
    point = np.uint8(ord("."))
    one = (lengths >= 3) & (raw[np.maximum(ends - 2, 0)] == point)  # 1 digit after the point
    two = (lengths >= 4) & (raw[np.maximum(ends - 3, 0)] == point)  # 2 digits after it
    if int(np.count_nonzero(one)) + int(np.count_nonzero(two)) != others:
        return None
    before = lengths - np.where(two, 3, np.where(one, 2, 0))
    return ~(one & two) & (before >= 1) & (before <= 12)


# Tests that only clean values pass, about ten times faster than the regex: the regex then runs
# only on the values they leave (keys with a hyphen, the dirty ones).
_SURELY_CLEAN: dict[Kind, Callable[[pa.Array], np.ndarray]] = {
    Kind.ID_NUMBER: _surely_ids,
    Kind.ACCOUNT: _surely_digits,
    Kind.AMOUNT: _surely_amounts,
    Kind.KEY: lambda a: _mask(pc.ascii_is_alnum(a)),
}


def _clean_values(arr: pa.Array, kind: Kind) -> np.ndarray:
    """Where ``arr`` matches the regex of ``kind`` in :data:`_CLEAN`."""
    quick = _SURELY_CLEAN.get(kind)
    if quick is None:
        return _mask(pc.match_substring_regex(arr, _CLEAN[kind]))
    ok = quick(arr)
    rest = ~ok & arr.is_valid().to_numpy(zero_copy_only=False)
    if rest.any():
        ok[rest] = _mask(pc.match_substring_regex(pc.filter(arr, pa.array(rest)), _CLEAN[kind]))
    return ok


def _dirty_only(arr: pa.Array, kind: Kind, fn: Callable[[pa.Array], _Result]) -> _Result:
    """Run ``fn`` only on the values not already clean (:data:`_CLEAN`); the others pass unchanged."""
    ok = _clean_values(arr, kind)
    if not (~ok).any():
        values = pc.cast(arr, pa.float64()).to_numpy(zero_copy_only=False) if kind is Kind.AMOUNT else arr
        return _Result(values)
    dirty = np.flatnonzero(~ok)
    result = fn(pc.take(arr, pa.array(dirty)))
    if isinstance(result.values, np.ndarray):
        values = np.full(len(arr), np.nan)
        values[ok] = pc.cast(pc.filter(arr, pa.array(ok)), pa.float64()).to_numpy(zero_copy_only=False)
        values[dirty] = result.values
    else:
        values = pc.replace_with_mask(arr, pa.array(~ok), result.values)
    out = _Result(values)
    for into, found in ((out.repairs, result.repairs), (out.failures, result.failures)):
        for issue, mask in found.items():
            full = np.zeros(len(arr), dtype=bool)
            full[dirty] = mask
            into[issue] = full
    return out


def _unchanged(column: Column, arr: pa.Array) -> bool:
    """Whether the repairs would leave every value as it is: codes of digits, exact choices.

    Testing every value costs less than finding the distinct values, repairing them and
    spreading the result back (:func:`_by_distinct`); most submitted codes and choices need
    no repair.
    """
    if column.kind is Kind.CODE:
        ok = pc.ascii_is_decimal(arr)
    elif column.kind is Kind.CHOICE:
        ok = pc.is_in(arr, value_set=_fixed_choices(column))
    else:
        return False
    return bool(pc.all(pc.or_kleene(ok, pc.is_null(arr))).as_py())


@cache
def _fixed_choices(column: Column) -> pa.Array:
    """The allowed values of a choice column that its repair keeps as they are, without a note."""
    allowed = pa.array(list(column.choices), type=pa.string())
    result = _choice(column, allowed)
    same = _mask(pc.equal(allowed, result.values))
    for mask in (*result.repairs.values(), *result.failures.values()):
        same &= ~mask
    return allowed.filter(pa.array(same))


def _by_distinct(
    arr: pa.Array, fn: Callable[[pa.Array], _Result], encoded: pa.DictionaryArray | None = None
) -> _Result:
    """Run ``fn`` once per distinct value (those of ``encoded`` if given) and spread it to every row."""
    if encoded is None:
        encoded = pc.dictionary_encode(arr)
    distinct = pa.concat_arrays([_arrow_plain(encoded.dictionary), pa.nulls(1, pa.string())])
    index = pc.fill_null(encoded.indices, len(distinct) - 1).to_numpy(zero_copy_only=False)
    result = fn(distinct)
    if _same_text(distinct, result) and not result.repairs and not result.failures:
        return _Result(arr)  # already clean (a county code, a programme): no copy spread back
    if isinstance(result.values, np.ndarray):
        values = result.values[index]
    else:
        values = pc.take(result.values, pa.array(index))
    out = _Result(values)
    # A dictionary read with the file may hold values no row uses: their issues are no row's.
    for into, found in ((out.repairs, result.repairs), (out.failures, result.failures)):
        for issue, mask in found.items():
            out.add(into, issue, mask[index])
    return out


def _same_text(before: pa.Array, result: _Result) -> bool:
    """Whether a repair gave back exactly the texts it was given (nulls in the same places)."""
    after = result.values
    if not isinstance(after, pa.Array) or len(after) != len(before):
        return False
    if not pc.equal(before.is_null(), after.is_null()).to_numpy(zero_copy_only=False).all():
        return False
    return bool(pc.all(pc.fill_null(pc.equal(before, after), True)).as_py())


def _mask(arr: pa.Array | pa.ChunkedArray) -> np.ndarray:
    return np.asarray(pc.fill_null(arr, False).to_numpy(zero_copy_only=False), dtype=bool)


def _changed(before: pa.Array, after: pa.Array) -> np.ndarray:
    return _mask(pc.not_equal(before, after))


def _null_if_empty(arr: pa.Array) -> pa.Array:
    return pc.if_else(pc.equal(arr, ""), pa.scalar(None, pa.string()), arr)


def _clean(arr: pa.Array, res: _Result) -> pa.Array:
    """NFKC (full-width to ASCII) where a value is not ASCII, strip, empty -> missing."""
    wide = ~_mask(pc.string_is_ascii(arr)) & ~_mask(pc.is_null(arr))
    if wide.any():
        subset = pc.filter(arr, pa.array(wide))
        fixed = pc.replace_substring_regex(
            pc.utf8_normalize(subset, "NFKC"), "[\u200b\u200c\u200d\ufeff]", ""
        )
        new = pc.replace_with_mask(arr, pa.array(wide), fixed)
        res.add(res.repairs, FULL_WIDTH, _changed(arr, new))
        arr = new
    trimmed = pc.utf8_trim_whitespace(arr)
    res.add(res.repairs, TRIMMED, _changed(arr, trimmed) & _mask(pc.not_equal(trimmed, "")))
    return _null_if_empty(trimmed)


def _replace(arr: pa.Array, pattern: str, by: str, res: _Result, issue: Issue) -> pa.Array:
    new = pc.replace_substring_regex(arr, pattern, by)
    res.add(res.repairs, issue, _changed(arr, new))
    return new


def _identifier(
    column: Column, arr: pa.Array, *, inner: str | None = None, upper: str | None = None
) -> _Result:
    """Codes, keys, IDs, accounts: strip apostrophes, reject numbers that lost digits."""
    res = _Result(None)
    arr = _clean(arr, res)
    arr = _null_if_empty(_replace(arr, _APOSTROPHES, "", res, APOSTROPHE))
    if inner:
        arr = _null_if_empty(_replace(arr, inner, "", res, INNER_SPACES))
    lost = _mask(pc.match_substring_regex(arr, _LOST_EXPONENT)) | _mask(
        pc.match_substring_regex(arr, _LONG_FLOAT)
    )
    res.add(res.failures, DIGITS_LOST, lost)
    arr = _replace(arr, r"^(\d{1,15})\.0+$", r"\1", res, NUMBER_FORMAT)
    if upper:
        new = pc.if_else(pc.match_substring_regex(arr, upper), pc.utf8_upper(arr), arr)
        res.add(res.repairs, LOWER_X, _changed(arr, new))
        arr = new
    res.values = arr
    return res


def _id_number(column: Column, arr: pa.Array) -> _Result:
    return _identifier(column, arr, inner=r"[\s-]+", upper=r"^\d{17}x$")


def _account(column: Column, arr: pa.Array) -> _Result:
    return _identifier(column, arr, inner=r"[\s-]+")


def _uscc(column: Column, arr: pa.Array) -> _Result:
    return _identifier(column, arr, inner=r"\s+", upper=r"[a-z]")


def _code(column: Column, arr: pa.Array) -> _Result:
    return _identifier(column, arr, inner=r"\s+")


def _key(column: Column, arr: pa.Array) -> _Result:
    return _identifier(column, arr)


def _text(column: Column, arr: pa.Array) -> _Result:
    res = _Result(None)
    res.values = _clean(arr, res)
    return res


def _choice(column: Column, arr: pa.Array) -> _Result:
    res = _Result(None)
    arr = _clean(arr, res)
    squeezed = pc.utf8_lower(pc.replace_substring_regex(arr, r"\s+", ""))
    allowed = pa.array(list(column.choices), type=pa.string())
    fix = _mask(pc.is_in(squeezed, value_set=allowed)) & ~_mask(pc.is_in(arr, value_set=allowed))
    res.add(res.repairs, CHOICE_SPELLING, fix)
    res.values = pc.if_else(pa.array(fix), squeezed, arr)
    return res


def _parse_number(arr: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """Float value and a mask of values that are plain numbers (missing stays NaN)."""
    ok = _mask(pc.match_substring_regex(arr, f"^{_NUMBER}$"))
    clean = pc.if_else(pa.array(ok), arr, pa.scalar(None, pa.string()))
    return pc.cast(clean, pa.float64()).to_numpy(zero_copy_only=False), ok


def _amount(column: Column, arr: pa.Array) -> _Result:
    res = _Result(None)
    arr = _clean(arr, res)
    before = arr
    arr = pc.replace_substring_regex(arr, r"^(?:(?:人民币|RMB|CNY)\s*[¥￥]?|[¥￥])\s*|\s*(?:元|圆)$", "")
    grouped = pc.match_substring_regex(arr, r"^[+-]?\d{1,3}(?:,\d{3})+(?:\.\d*)?$")
    arr = pc.if_else(pc.fill_null(grouped, False), pc.replace_substring(arr, ",", ""), arr)
    res.add(res.repairs, AMOUNT_TEXT, _changed(before, arr))
    value, ok = _parse_number(arr)
    present = ~_mask(pc.is_null(arr))
    res.add(res.failures, NOT_AMOUNT, present & ~ok)
    fine = _mask(pc.match_substring_regex(arr, r"\.\d\d\d*[1-9]"))
    res.add(res.failures, TOO_MANY_DECIMALS, ok & fine)
    res.values = np.round(value, 2)
    return res


def _number(column: Column, arr: pa.Array) -> _Result:
    res = _Result(None)
    arr = _clean(arr, res)
    before = arr
    arr = pc.replace_substring_regex(arr, r"\s*(?:m2|平方米|平米|米2)$", "")
    arr = pc.if_else(
        pc.fill_null(pc.match_substring_regex(arr, r"^[+-]?\d{1,3}(?:,\d{3})+(?:\.\d*)?$"), False),
        pc.replace_substring(arr, ",", ""),
        arr,
    )
    res.add(res.repairs, UNIT_REMOVED, _changed(before, arr))
    value, ok = _parse_number(arr)
    res.add(res.failures, NOT_NUMBER, ~_mask(pc.is_null(arr)) & ~ok)
    res.values = value
    return res


def _count(column: Column, arr: pa.Array) -> _Result:
    res = _Result(None)
    arr = _clean(arr, res)
    arr = _replace(arr, r"\s*[人户个名位]$", "", res, UNIT_REMOVED)
    whole = _mask(pc.match_substring_regex(arr, r"^[+-]?\d{1,15}(?:\.0*)?$"))
    missing = _mask(pc.is_null(arr))
    res.add(res.failures, MISSING, missing)
    res.add(res.failures, NOT_WHOLE, ~missing & ~whole)
    value, _ = _parse_number(pc.if_else(pa.array(whole), arr, pa.scalar(None, pa.string())))
    res.values = np.nan_to_num(value, nan=0.0).astype("int64")
    return res


def _flag(column: Column, arr: pa.Array) -> _Result:
    res = _Result(None)
    arr = pc.utf8_lower(_clean(arr, res))
    arr = pc.replace_substring_regex(arr, r"^([01])\.0*$", r"\1")
    yes = _mask(pc.is_in(arr, value_set=pa.array(_YES)))
    no = _mask(pc.is_in(arr, value_set=pa.array(_NO)))
    missing = _mask(pc.is_null(arr))
    res.add(res.failures, MISSING, missing)
    res.add(res.failures, NOT_FLAG, ~missing & ~yes & ~no)
    res.values = yes
    return res


_DATE = (
    r"^(?P<y>\d{4})\s*[-/.年]\s*(?P<m>\d{1,2})\s*[-/.月]\s*(?P<d>\d{1,2})\s*日?"
    r"(?:[ T]+(?P<H>\d{1,2}):(?P<M>\d{2})(?::(?P<S>\d{2})(?:\.\d+)?)?)?$"
)
_COMPACT_DATE = r"^(?P<y>\d{4})(?P<m>\d{2})(?P<d>\d{2})$"
_SERIAL = r"^(?P<n>\d{1,5})(?:\.(?P<f>\d+))?$"
_ISO_DATE = r"^\d{4}-\d{2}-\d{2}(?: 00:00:00)?$"


def _groups(arr: pa.Array, pattern: str) -> dict[str, np.ndarray]:
    """Integer values of the named groups of ``pattern`` (-1 where it does not match)."""
    found = pc.extract_regex(arr, pattern)
    out = {}
    for i in range(found.type.num_fields):
        name = found.type.field(i).name
        part = pc.struct_field(found, [i])
        part = pc.if_else(pc.equal(part, ""), pa.scalar(None, pa.string()), part)
        out[name] = pc.fill_null(pc.cast(part, pa.int64()), -1).to_numpy(zero_copy_only=False)
    return out


def _ymd(y: np.ndarray, m: np.ndarray, d: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Days as datetime64[D] and a mask of real calendar days."""
    ok = (y >= 1) & (m >= 1) & (m <= 12) & (d >= 1)
    months = np.where(ok, (y - 1970) * 12 + (m - 1), 0).astype("datetime64[M]")
    first = months.astype("datetime64[D]")
    length = ((months + 1).astype("datetime64[D]") - first).astype(np.int64)
    ok &= d <= length
    return np.where(
        ok, first + np.where(ok, d - 1, 0).astype("timedelta64[D]"), np.datetime64("NaT", "D")
    ), ok


def _date(column: Column, arr: pa.Array) -> _Result:
    res = _Result(None)
    arr = _clean(arr, res)
    n = len(arr)
    days = np.full(n, np.datetime64("NaT", "D"))
    parsed = np.zeros(n, dtype=bool)
    timed = np.zeros(n, dtype=bool)
    phantom = np.zeros(n, dtype=bool)
    for pattern in (_DATE, _COMPACT_DATE):
        g = _groups(arr, pattern)
        phantom |= (g["y"] == 1900) & (g["m"] == 2) & (g["d"] == 29)
        day, ok = _ymd(g["y"], g["m"], g["d"])
        if "H" in g:
            clock = (g["H"] <= 23) & (g["M"] <= 59) & (g["S"] <= 59)
            ok &= clock | (g["H"] < 0)
            timed |= ok & ((g["H"] > 0) | (g["M"] > 0) | (g["S"] > 0))
        take = ok & ~parsed
        days[take], parsed = day[take], parsed | ok
    serial = _groups(arr, _SERIAL)
    phantom |= (serial["n"] == 60) & (serial["f"] <= 0) & ~parsed
    is_serial = (serial["n"] >= SERIAL_FLOOR) & ~parsed
    days[is_serial] = EXCEL_EPOCH + serial["n"][is_serial].astype("timedelta64[D]")
    timed |= is_serial & (serial["f"] > 0)
    parsed |= is_serial
    missing = _mask(pc.is_null(arr))
    in_range = (days >= FIRST_DATE) & (days <= LAST_DATE)
    res.add(res.failures, PHANTOM_DATE, phantom & ~parsed)
    res.add(res.failures, NOT_DATE, ~missing & ~parsed & ~phantom)
    res.add(res.failures, DATE_RANGE, parsed & ~in_range)
    iso = _mask(pc.match_substring_regex(arr, _ISO_DATE))
    res.add(res.repairs, DATE_SERIAL, is_serial & in_range)
    res.add(res.repairs, DATE_TEXT, parsed & ~is_serial & ~iso & in_range)
    res.add(res.repairs, TIME_DROPPED, timed & in_range)
    days[~(parsed & in_range)] = np.datetime64("NaT", "D")
    res.values = days.astype("datetime64[us]")
    return res


_MONTH = r"^(?P<y>\d{4})\s*[-/.年]\s*(?P<m>\d{1,2})\s*月?$"
_COMPACT_MONTH = r"^(?P<y>\d{4})(?P<m>\d{2})$"
_MONTH_AS_DAY = r"^(?P<y>\d{4})[-/.年](?P<m>\d{1,2})[-/.月]0?1日?(?: 00:00:00)?$"


def _month(column: Column, arr: pa.Array) -> _Result:
    res = _Result(None)
    arr = _clean(arr, res)
    n = len(arr)
    year, month = np.full(n, -1), np.full(n, -1)
    for pattern in (_MONTH, _COMPACT_MONTH, _MONTH_AS_DAY):
        g = _groups(arr, pattern)
        take = (g["y"] >= 0) & (year < 0)
        year[take], month[take] = g["y"][take], g["m"][take]
    serial = _groups(arr, r"^(?P<n>\d{5})$")
    day = EXCEL_EPOCH + np.where(serial["n"] > 0, serial["n"], 0).astype("timedelta64[D]")
    first_of_month = (
        (serial["n"] > 0) & (day.astype("datetime64[M]").astype("datetime64[D]") == day) & (year < 0)
    )
    stamp = day.astype("datetime64[M]").astype(np.int64)
    year[first_of_month] = stamp[first_of_month] // 12 + 1970
    month[first_of_month] = stamp[first_of_month] % 12 + 1
    ok = (year >= 1900) & (year <= 2100) & (month >= 1) & (month <= 12)
    text = np.char.add(
        np.char.zfill(year.astype(str), 4), np.char.add("-", np.char.zfill(month.astype(str), 2))
    )
    values = pa.array(np.where(ok, text, None).tolist(), type=pa.string())
    missing = _mask(pc.is_null(arr))
    res.add(res.failures, NOT_MONTH, ~missing & ~ok)
    res.add(res.repairs, MONTH_TEXT, ok & _changed(arr, values))
    res.values = values
    return res


_TEXT_REPAIRS: dict[Kind, Callable[[Column, pa.Array], _Result]] = {
    Kind.CODE: _code,
    Kind.ID_NUMBER: _id_number,
    Kind.USCC: _uscc,
    Kind.TEXT: _text,
    Kind.KEY: _key,
    Kind.CHOICE: _choice,
    Kind.DATE: _date,
    Kind.MONTH: _month,
    Kind.AMOUNT: _amount,
    Kind.COUNT: _count,
    Kind.NUMBER: _number,
    Kind.FLAG: _flag,
    Kind.ACCOUNT: _account,
}


def _number_text(values: pd.Series) -> pd.Series:
    """Numbers (from a typed Parquet column) as text the way Excel shows them: 15 significant digits.

    Integral values below 10^15 print as plain digits; anything bigger prints with an
    exponent (5.40102199001011e+17), which the identifier repairs reject as lost digits.
    """
    if pd.api.types.is_integer_dtype(values.dtype):
        arr = pa.array(values.astype("Int64").array)
        return pd.Series(pc.cast(arr, pa.string()).to_pandas(), dtype="str")
    v = values.to_numpy(dtype="float64", na_value=np.nan)
    plain = np.isfinite(v) & (np.abs(v) < 1e15) & (v == np.round(v))
    text = pc.cast(pa.array(np.where(plain, v, 0).astype(np.int64)), pa.string())
    other = pa.array([format(x, ".15g") for x in v[~plain & np.isfinite(v)]], type=pa.string())
    out = pa.nulls(len(v), pa.string())
    out = pc.if_else(pa.array(plain), text, out)
    out = pc.replace_with_mask(out, pa.array(~plain & np.isfinite(v)), other)
    return pd.Series(out.to_pandas(), dtype="str")


def _typed_numbers(column: Column, values: pd.Series) -> Repaired:
    v = values.to_numpy(dtype="float64", na_value=np.nan)
    missing = np.isnan(v)
    out = Repaired(pd.Series(v))
    if column.kind is Kind.COUNT:
        whole = ~missing & (v == np.round(v))
        if missing.any():
            out.failures[MISSING] = missing
        if (~missing & ~whole).any():
            out.failures[NOT_WHOLE] = ~missing & ~whole
        out.values = pd.Series(np.where(whole, v, 0).astype("int64"))
        return out
    if column.kind is Kind.AMOUNT:
        cents = v * 100
        off = np.abs(cents - np.round(cents))
        noise = off <= 1e-6 + 1e-12 * np.abs(cents)  # binary noise of a value typed with 2 decimals
        rounded = np.round(v, 2)
        if (~missing & ~noise).any():
            out.failures[TOO_MANY_DECIMALS] = ~missing & ~noise
        out.values = pd.Series(rounded)
    return out


def _typed_dates(values: pd.Series) -> Repaired:
    if getattr(values.dt, "tz", None) is not None:
        values = values.dt.tz_localize(None)
    stamp = values.to_numpy().astype("datetime64[us]")
    day = stamp.astype("datetime64[D]")
    out = Repaired(pd.Series(day.astype("datetime64[us]")))
    timed = ~np.isnat(stamp) & (stamp != day.astype("datetime64[us]"))
    if timed.any():
        out.repairs[TIME_DROPPED] = timed
    bad = ~np.isnat(day) & ((day < FIRST_DATE) | (day > LAST_DATE))
    if bad.any():
        out.failures[DATE_RANGE] = bad
        out.values = out.values.mask(pd.Series(bad))
    return out


def example_text(value: object) -> str:
    """A value as a short text for the data-quality log."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NaT:
        return ""
    if isinstance(value, pd.Timestamp | np.datetime64):
        stamp = pd.Timestamp(value)
        return stamp.strftime("%Y-%m-%d") if stamp == stamp.normalize() else str(stamp)
    return str(value)
