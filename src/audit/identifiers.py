"""Vectorised checks of identifiers: resident IDs, credit codes, division codes, bank accounts.

Every function takes a whole pandas Series and returns a boolean Series on the same index;
none loops over rows in Python. The work is done with numpy on the bytes of the Arrow
string buffer, read in place. The resident-ID and Luhn checks read 8 bytes of each value at a
time as one uint64 and work on its bytes all at once (a digit test, a weighted sum, a date
field per word instead of per character: the resident-ID check runs at about 40 M values a
second on one core); the others work one character position at a time.

Conventions shared by every function:

- a missing value (NA, None, NaN) gives ``False``: an absent identifier is not a valid one;
- a value that is not a ``str`` (a number, a date) gives ``False``: an 18-digit ID read as a
  number has lost digits, so it is never turned back into text here;
- only ASCII counts: full-width digits, spaces and lowercase letters fail (ingest repairs
  them before validation, and notes the repair).
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from typing import TypeVar

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

RESIDENT_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
RESIDENT_ID_CHECK = "10X98765432"
"""Check character of a resident ID for a weighted sum mod 11 of 0..10 (GB 11643, ISO 7064 MOD 11-2)."""

USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)

_ZERO = ord("0")
# Day-of-year look-up tables: MMDD -> a day of some year (0229 included); year -> leap year.
_MMDD_OK = np.zeros(10_000, dtype=bool)
for _month, _days in enumerate((31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31), start=1):
    _MMDD_OK[_month * 100 + 1 : _month * 100 + _days + 1] = True
_YEARS = np.arange(10_000)
_LEAP = ((_YEARS % 4 == 0) & (_YEARS % 100 != 0)) | (_YEARS % 400 == 0)

_U64, _U16 = np.dtype("<u8"), np.dtype("<u2")
_LOW_NIBBLES = np.uint64(0x0F0F_0F0F_0F0F_0F0F)
_EVEN_BYTES = np.uint64(0x00FF_00FF_00FF_00FF)
_BYTE_ONES = np.uint64(0x0101_0101_0101_0101)
_BYTE_MASKS = np.array([(1 << 8 * n) - 1 for n in range(8)] + [2**64 - 1], dtype=np.uint64)


def _lanes(weights: tuple[int, ...]) -> np.uint64:
    """A multiplier taking the sum of lane i times ``weights[i]`` of four 16-bit lanes to the top lane."""
    return np.uint64(sum(weight << (48 - 16 * lane) for lane, weight in enumerate(weights)))


# The weights repeat every 10 places (2**10 is 1 mod 11), so places i and i + 10 share a weight,
# and the check character has weight 1 like place 7: one word of byte sums holds 15 places.
_ID_EVEN, _ID_ODD = _lanes(RESIDENT_ID_WEIGHTS[0:8:2]), _lanes(RESIDENT_ID_WEIGHTS[1:8:2])
_ID_TAIL = np.uint16(RESIDENT_ID_WEIGHTS[9] | RESIDENT_ID_WEIGHTS[8] << 8)  # places 8, 9 as one uint16
# A valid ID's weighted sum with its check value is 1 mod 11; summing bytes instead of digits adds
# 48 per weight (places 8 and 9 are summed as digits) and 48 for the check character.
_ID_REMAINDER = np.uint16((1 + _ZERO * (sum(RESIDENT_ID_WEIGHTS) - sum(RESIDENT_ID_WEIGHTS[8:10]) + 1)) % 11)
# X (88) is 30 more than a check value of 10 would be (58); 30 + 3 = 33 is 0 mod 11.
_X_CORRECTION = np.uint8(3)
# Byte -> value in the credit-code alphabet; 255 marks a byte outside it.
_USCC_VALUE = np.full(256, 255, dtype=np.uint8)
_USCC_VALUE[np.frombuffer(USCC_ALPHABET.encode(), dtype=np.uint8)] = np.arange(31, dtype=np.uint8)


def string_bytes(arr: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """The offsets of a string array's values (from its first byte) and its bytes, both in place."""
    large = pa.types.is_large_string(arr.type) or pa.types.is_large_binary(arr.type)
    offsets = np.frombuffer(arr.buffers()[1], dtype=np.int64 if large else np.int32)
    offsets = offsets[arr.offset : arr.offset + len(arr) + 1].astype(np.int64, copy=False)
    first, size = int(offsets[0]), int(offsets[-1] - offsets[0])
    data = arr.buffers()[2]
    raw = np.frombuffer(data, dtype=np.uint8, count=size, offset=first) if size else np.zeros(0, np.uint8)
    return (offsets - first if first else offsets), raw


def digit_strings(arr: pa.Array) -> np.ndarray | None:
    """Where each value is non-empty ASCII digits; None when some byte of the column is not a digit.

    Two reductions over the whole buffer settle the usual column (every account all digits)
    several times quicker than Arrow's test of each value, which is left for the others.
    """
    offsets, raw = string_bytes(arr)
    if len(raw) and (int(raw.min()) < _ZERO or int(raw.max()) > _ZERO + 9):
        return None
    ok = np.diff(offsets) > 0
    if arr.null_count:
        ok &= arr.is_valid().to_numpy(zero_copy_only=False)
    return ok


def resident_id_shaped(arr: pa.Array) -> np.ndarray | None:
    """Where each value is 17 ASCII digits then a digit or ``X``; None when some byte is neither."""
    offsets, raw = string_bytes(arr)
    x = np.flatnonzero(raw == ord("X"))
    if len(raw) and (int(raw.min()) < _ZERO or np.count_nonzero(raw > _ZERO + 9) != len(x)):
        return None  # a byte that is neither a digit nor X
    ok = np.diff(offsets) == 18
    if arr.null_count:
        ok &= arr.is_valid().to_numpy(zero_copy_only=False)
    if len(x):
        value = np.searchsorted(offsets, x, side="right") - 1
        ok[value[x != offsets[value + 1] - 1]] = False  # an X before the last character
    return ok


def large_text(values: pd.Series) -> pa.LargeStringArray:
    """A pandas ``str`` column as one Arrow large_string array (no copy when it is in one chunk)."""
    arr = pa.array(values.array)
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    return arr if arr.type == pa.large_string() else arr.cast(pa.large_string())


def _arrow(s: pd.Series) -> pa.LargeStringArray:
    """The values as one Arrow large_string array; anything that is not a ``str`` becomes null.

    A pandas string column converts without a copy. Other dtypes (object columns, numbers)
    are off the hot path: ingest hands over ``str`` columns.
    """
    if isinstance(s.dtype, pd.StringDtype):
        arr = pa.array(s.array)
    else:
        values = s.to_numpy(dtype=object)
        try:
            arr = pa.array(values, type=pa.large_string(), from_pandas=True)
        except (pa.ArrowTypeError, pa.ArrowInvalid):
            # Mixed values: keep the strings, make everything else null.
            is_text = np.fromiter((isinstance(v, str) for v in values), dtype=bool, count=len(values))
            arr = pa.array(np.where(is_text, values, None), type=pa.large_string())
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    if arr.type != pa.large_string():
        arr = arr.cast(pa.large_string())
    return arr


class _Strings:
    """The values of a Series as an Arrow string array, with numpy views of lengths and validity."""

    def __init__(self, s: pd.Series) -> None:
        self.index, self.name = s.index, s.name
        self.arr = _arrow(s)
        offsets = np.frombuffer(self.arr.buffers()[1], dtype=np.int64)
        self.lengths = np.diff(offsets[self.arr.offset : self.arr.offset + len(self.arr) + 1])
        self.valid = (
            np.ones(len(self.arr), dtype=bool)
            if self.arr.null_count == 0
            else self.arr.is_valid().to_numpy(zero_copy_only=False)
        )

    def fixed_bytes(self, width: int, rows: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """The values of exactly ``width`` bytes, one after another, and which rows they are.

        Only ``rows`` (a mask) are considered when given. When every row is, the bytes are the
        Arrow buffer itself, not a copy.
        """
        ok = self.valid & (self.lengths == width)
        if rows is not None:
            ok &= rows
        # Filtering copies the chosen values next to each other, so the buffer becomes the matrix.
        arr = self.arr if ok.all() else self.arr.filter(pa.array(ok))
        first = int(np.frombuffer(arr.buffers()[1], dtype=np.int64)[arr.offset]) if len(arr) else 0
        data = arr.buffers()[2]
        raw = np.frombuffer(data, dtype=np.uint8) if data is not None else np.zeros(0, dtype=np.uint8)
        return raw[first : first + len(arr) * width], ok

    def fixed(self, width: int, rows: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """The values of exactly ``width`` bytes as a (width, k) uint8 matrix, and which rows they are.

        The matrix is transposed, one contiguous row per character position, for checks that
        work position by position.
        """
        raw, ok = self.fixed_bytes(width, rows)
        return np.ascontiguousarray(raw.reshape(-1, width).T), ok

    def ascii_digits(self) -> np.ndarray:
        """Rows that are non-empty and made of ASCII digits only."""
        ok = self.valid & (self.lengths > 0)
        _, raw = string_bytes(self.arr)
        # Two reductions over the whole buffer settle the usual column (see digit_strings).
        if not len(raw) or (int(raw.min()) >= _ZERO and int(raw.max()) <= _ZERO + 9):
            return ok
        other = raw - np.uint8(_ZERO) > 9
        if np.count_nonzero(other) > len(ok):  # mostly not digits: let Arrow test each value
            return pc.ascii_is_decimal(self.arr).fill_null(False).to_numpy(zero_copy_only=False)
        # A few stray bytes: the rows holding them fail, found by where each row's bytes start.
        starts = np.frombuffer(self.arr.buffers()[1], dtype=np.int64)[self.arr.offset :][: len(ok)]
        at = np.flatnonzero(other) + starts[0]
        ok[np.searchsorted(starts, at, side="right") - 1] = False
        return ok

    def series(self, ok: np.ndarray, good: np.ndarray | None = None) -> pd.Series:
        """A boolean Series on the original index: ``good`` spread over the rows where ``ok``."""
        if good is not None:
            if len(good) == len(ok):
                ok = good
            else:
                out = np.zeros(len(ok), dtype=bool)
                out[ok] = good
                ok = out
        return pd.Series(ok, index=self.index, dtype=bool, name=self.name)


def _words(raw: np.ndarray, width: int, at: int, dtype: np.dtype = _U64) -> np.ndarray:
    """Bytes ``at`` onwards of each ``width``-byte value in ``raw``, read in place as integers.

    ``at`` plus the integer's size must not pass ``width``, and ``raw`` must hold a value.
    """
    return np.ndarray((len(raw) // width,), dtype=dtype, buffer=raw, offset=at, strides=(width,))


def _all_digits(words: np.ndarray) -> np.ndarray:
    """Where every byte of a uint64 is an ASCII digit: high nibble 3, and still 3 after adding 6."""
    high = np.uint64(0xF0F0_F0F0_F0F0_F0F0)
    # A carry out of a byte only comes from a byte of 0xFA or more, which fails on its own nibble.
    plus_six = words + np.uint64(0x0606_0606_0606_0606)
    return ((words & high) | ((plus_six & high) >> np.uint64(4))) == np.uint64(0x3333_3333_3333_3333)


def _date_ok(year: np.ndarray, month: np.ndarray, day: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Where ``rows`` hold a day of the Gregorian calendar (year 1 onwards) as year, month and day.

    In ``rows`` the numbers were read from digits (year below 10000, month and day below 100);
    elsewhere they may be anything. A day up to the 28th of month 1-12 settles nine dates in
    ten; only the others are looked up in the day-of-year table.
    """
    ok = (month >= 1) & (month <= 12) & (day >= 1) & (day <= 28) & (year >= 1)
    rest = np.flatnonzero(rows & ~ok)
    if len(rest):
        y, mmdd = year[rest].astype(np.int64), month[rest].astype(np.int64) * 100 + day[rest]
        ok[rest] = _MMDD_OK[mmdd] & (y >= 1) & ((mmdd != 229) | _LEAP[y])
    return ok & rows


def _digits_then_x(raw: np.ndarray, width: int) -> bool:
    """Whether every ``width``-byte value in ``raw`` (at least one) is ASCII digits, the last possibly ``X``.

    Three reductions over the whole buffer instead of a test of each value: no byte below 0,
    none above 9 but X, and no more of those than values ending in X.
    """
    low, high = int(raw.min()), int(raw.max())
    return low >= _ZERO and (
        high <= _ZERO + 9
        or (
            high == ord("X")
            and np.count_nonzero(raw > _ZERO + 9) == np.count_nonzero(raw[width - 1 :: width] == ord("X"))
        )
    )


def _id_shape(raw: np.ndarray) -> np.ndarray:
    """Where each 18-byte value in ``raw`` is 17 ASCII digits then a digit or ``X``."""
    last = raw[17::18]
    if _digits_then_x(raw, 18):
        return np.ones(len(last), dtype=bool)
    shape = _all_digits(_words(raw, 18, 0)) & _all_digits(_words(raw, 18, 8))
    places_10_to_16 = _words(raw, 18, 10) & np.uint64(0x00FF_FFFF_FFFF_FFFF)
    shape &= _all_digits(places_10_to_16 | np.uint64(_ZERO << 56))  # the check character read as a 0
    return shape & ((last - np.uint8(_ZERO) <= 9) | (last == ord("X")))


def _id_check_ok(raw: np.ndarray) -> np.ndarray:
    """Where the check character of each 18-byte value is right (anything where the shape is wrong)."""
    # Lane i of the word holds the bytes of places i and i + 10 (i < 7), lane 7 those of place 7 and
    # the check character: at most 0x39 + 0x58, so no lane carries. Two multiplications sum the
    # lanes times their weights, as four 16-bit lanes each.
    lanes = _words(raw, 18, 0) + _words(raw, 18, 10)
    odd = lanes >> np.uint64(8)
    odd &= _EVEN_BYTES
    odd *= _ID_ODD
    lanes &= _EVEN_BYTES
    lanes *= _ID_EVEN
    lanes += odd
    lanes >>= np.uint64(48)
    total = lanes.astype(np.uint16)
    tail = _words(raw, 18, 8, _U16) & np.uint16(0x0F0F)
    tail *= _ID_TAIL  # the high byte becomes digit 8 times its weight plus digit 9 times its weight
    tail >>= np.uint16(8)
    total += tail
    total += (raw[17::18] == ord("X")).view(np.uint8) * _X_CORRECTION
    return total - total // np.uint16(11) * np.uint16(11) == _ID_REMAINDER


def _birth_fields(raw: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Year, month and day in places 7-14 of each 18-byte value, as uint16 (anything if not digits)."""
    digits = _words(raw, 18, 6) & _LOW_NIBBLES
    pairs = digits >> np.uint64(8)
    digits *= np.uint64(10)
    pairs += digits
    pairs &= _EVEN_BYTES  # four 16-bit lanes: the first two digits of the year, the last two, month, day
    fields = pairs.astype(_U64, copy=False).view(_U16).reshape(-1, 4)
    year = fields[:, 0] * np.uint16(100)
    year += fields[:, 1]
    return year, fields[:, 2], fields[:, 3]


def resident_id_valid(s: pd.Series, today: dt.date | None = None) -> pd.Series:
    """Where each value is a valid 18-character resident ID number (GB 11643).

    Valid means: 17 ASCII digits then a digit or an uppercase ``X``; the ISO 7064 MOD 11-2
    check character right; the birth date (characters 7-14, YYYYMMDD) a real day not after
    ``today`` (default: the current date). The area code (characters 1-6) is checked for
    shape only, since retired codes stay valid in IDs issued under them.
    """
    today = today or dt.date.today()
    strings = _Strings(s)
    raw, rows = strings.fixed_bytes(18)
    if not len(raw):
        return strings.series(rows)
    return strings.series(rows, _id_valid(raw, today))


def _id_valid(raw: np.ndarray, today: dt.date) -> np.ndarray:
    """Where each 18-byte value in ``raw`` is a valid resident ID born by ``today``."""
    good = _id_shape(raw)
    good &= _id_check_ok(raw)
    year, month, day = _birth_fields(raw)
    good = _date_ok(year, month, day, good)
    good &= year <= today.year
    late = np.flatnonzero(good & (year == today.year))
    if len(late):
        good[late] = month[late] * 100 + day[late].astype(np.int64) <= today.month * 100 + today.day
    return good


def resident_id_birth_date(s: pd.Series) -> pd.Series:
    """The birth date written in each resident ID, as ``datetime64[us]``.

    NaT where the value does not have the shape of an ID (17 digits then a digit or ``X``)
    or its characters 7-14 are not a real day. Neither the check character nor the date's
    being in the past is required: use :func:`resident_id_valid` for that.
    """
    strings = _Strings(s)
    raw, rows = strings.fixed_bytes(18)
    out = np.full(len(rows), np.datetime64("NaT"), dtype="datetime64[us]")
    if len(raw):
        year, month, day = _birth_fields(raw)
        good = _date_ok(year, month, day, _id_shape(raw))
        year, month, day = year.astype(np.int64), month.astype(np.int64), day.astype(np.int64)
        months = np.where(good, (year - 1970) * 12 + month - 1, 0)
        days = months.astype("datetime64[M]").astype("datetime64[D]") + np.where(good, day - 1, 0)
        out[rows] = np.where(good, days.astype("datetime64[us]"), np.datetime64("NaT", "us"))
    return pd.Series(out, index=s.index, name=s.name)


def uscc_valid(s: pd.Series) -> pd.Series:
    """Where each value is a valid unified social credit code (GB 32100).

    Valid means: 18 characters from ``0123456789ABCDEFGHJKLMNPQRTUWXY``, characters 3-8 digits
    (the registering authority's GB/T 2260 code), and the check character right: weights
    1 3 9 … 28, check = 31 - (sum mod 31), with 31 written as 0. Characters 1 and 2 may be
    letters (GB 32100 reserves ``Y`` for other registering authorities).
    """
    strings = _Strings(s)
    mat, rows = strings.fixed(18)
    values = _USCC_VALUE[mat]
    good = np.ones(values.shape[1], dtype=bool)
    total = np.zeros(values.shape[1], dtype=np.int32)
    for position, (row, weight) in enumerate(zip(values[:17], USCC_WEIGHTS, strict=True)):
        good &= row <= (9 if 2 <= position < 8 else 30)
        total += row * np.int32(weight)
    good &= values[17] == (31 - total % 31) % 31
    return strings.series(rows, good)


def _luhn_sums(raw: np.ndarray, width: int) -> np.ndarray:
    """The Luhn sum of each ``width``-digit value in ``raw`` modulo 10, as uint16.

    Every second digit from the right is doubled, less 9 when over 9. That is 2d + 1 modulo 10
    for a digit d of 5 or more, so the sum is the digits, plus the doubled ones again, plus one
    per doubled digit of 5 or more. It is taken 8 digits at a time, each byte of a word a lane.
    """
    if width < 8:  # values shorter than a word are copied into words of their own
        padded = np.zeros((len(raw) // width, 8), dtype=np.uint8)
        padded[:, :width] = raw.reshape(-1, width)
        raw, step, starts = padded.reshape(-1), 8, [0]
    else:  # words in place, the last one overlapping the one before when width is not a multiple of 8
        step, starts = width, [*range(0, width - 7, 8), *([width - 8] if width % 8 else [])]
    # Three buffers reused for every word: fresh memory costs more than the arithmetic here.
    digits, lanes, total = (np.empty(len(raw) // step, dtype=np.uint64) for _ in range(3))
    total.fill(0)
    done = 0
    for group in range(0, len(starts), 13):  # a lane gains at most 19 a word: 13 words fit a byte
        lanes.fill(0)
        for at in starts[group : group + 13]:
            new = [lane for lane in range(8) if done <= at + lane < width]
            doubled = np.uint64(sum(0xFF << 8 * lane for lane in new if (width - 1 - at - lane) % 2))
            done = at + 8
            digit_mask = np.uint64(sum(0x0F << 8 * lane for lane in new))
            np.bitwise_and(_words(raw, step, at), digit_mask, out=digits)
            lanes += digits
            digits &= doubled
            lanes += digits
            digits += np.uint64(0x0303_0303_0303_0303)  # bit 3 set where the digit is 5 or more
            digits >>= np.uint64(3)
            digits &= _BYTE_ONES
            lanes += digits
        # The 8 byte lanes into 4 of 16 bits, then one multiplication adds those in the top one.
        np.right_shift(lanes, np.uint64(8), out=digits)
        digits &= _EVEN_BYTES
        lanes &= _EVEN_BYTES
        lanes += digits
        lanes *= np.uint64(0x0001_0001_0001_0001)
        lanes >>= np.uint64(48)
        total += lanes
        if len(starts) > 13:  # keeps the sum small whatever the width
            total %= np.uint64(10)
    small = total.astype(np.uint16)  # at most 8 x 247 + 9
    return small - small // np.uint16(10) * np.uint16(10)


def luhn_valid(s: pd.Series) -> pd.Series:
    """Where each value is ASCII digits passing the Luhn check.

    For bank accounts this is a soft signal only: many Chinese debit cards and rural
    passbook accounts do not carry a Luhn digit.
    """
    strings = _Strings(s)
    return strings.series(_luhn(strings, strings.ascii_digits()))


def luhn_failing(s: pd.Series) -> pd.Series:
    """Where each value is ASCII digits failing the Luhn check (a missing value, or not digits, does not)."""
    strings = _Strings(s)
    digits_ok = strings.ascii_digits()
    return strings.series(digits_ok & ~_luhn(strings, digits_ok))


def _luhn(strings: _Strings, digits_ok: np.ndarray) -> np.ndarray:
    """Where each value, of the rows ``digits_ok`` (ASCII digits), passes the Luhn check."""
    out = np.zeros(len(digits_ok), dtype=bool)
    # One pass per distinct length (a handful for bank accounts), never one per row.
    lengths = strings.lengths if digits_ok.all() else strings.lengths[digits_ok]
    if not len(lengths):
        return out
    low, high = int(lengths.min()), int(lengths.max())
    if low == high:
        widths = [low]
    else:  # counting lengths is cheaper than sorting them unless some value is absurdly long
        widths = (np.flatnonzero(np.bincount(lengths)) if high < 4096 else np.unique(lengths)).tolist()
    for width in widths:
        raw, rows = strings.fixed_bytes(width, digits_ok)
        out[rows] = _luhn_sums(raw, width) == 0
    return out


def digits_only(s: pd.Series) -> pd.Series:
    """Where each value is non-empty and made of ASCII digits only."""
    strings = _Strings(s)
    return strings.series(strings.ascii_digits())


def division_code_valid(s: pd.Series) -> pd.Series:
    """Where each value is a GB/T 2260 division code: 6 digits (county) or 9 digits (township)."""
    strings = _Strings(s)
    return strings.series(strings.ascii_digits() & ((strings.lengths == 6) | (strings.lengths == 9)))


def month_valid(s: pd.Series) -> pd.Series:
    """Where each value is a month written ``YYYY-MM`` with ASCII digits and the month 01 to 12."""
    strings = _Strings(s)
    mat, rows = strings.fixed(7)
    digits = mat - np.uint8(_ZERO)  # uint8 wraps, so every non-digit byte ends up > 9
    good = (digits[:4].max(axis=0, initial=0) <= 9) & (mat[4] == ord("-"))
    good &= ((digits[5] == 0) & (digits[6] >= 1) & (digits[6] <= 9)) | ((digits[5] == 1) & (digits[6] <= 2))
    return strings.series(rows, good)


def parent_consistent(code: pd.Series, parent: pd.Series) -> pd.Series:
    """Where ``parent`` is the parent of ``code`` in the GB/T 2260 hierarchy.

    A township's (9 digits) parent is the county made of its first 6 digits; a county's
    (6 digits) parent is the prefecture made of its first 4 digits and ``00``. Both must be
    valid codes; NA on either side gives ``False``.
    """
    codes, parents = _Strings(code), _Strings(parent)
    code_ok = codes.ascii_digits() & ((codes.lengths == 6) | (codes.lengths == 9))
    parent_ok = parents.ascii_digits() & (parents.lengths == 6)
    county = pc.utf8_slice_codeunits(codes.arr, 0, 6)
    text = pa.large_string()
    prefecture = pc.binary_join_element_wise(
        pc.utf8_slice_codeunits(codes.arr, 0, 4), pa.scalar("00", text), pa.scalar("", text)
    )
    expected = pc.if_else(pa.array(codes.lengths == 9), county, prefecture)
    same = pc.equal(expected, parents.arr).fill_null(False).to_numpy(zero_copy_only=False)
    return codes.series(code_ok & parent_ok & same)


def all_distinct(s: pd.Series) -> bool:
    """Whether no present value of a text column occurs twice; False may also mean two hashes met.

    Short values are compared as themselves (8 bytes in one uint64), longer ones by a 64-bit
    hash of their bytes; sorting those costs about a third of pandas' hash table of the strings.
    """
    keys, _ = _keys(_arrow(s).drop_null())
    return not len(_repeated(keys))


def duplicated(s: pd.Series) -> np.ndarray:
    """Where a present value of a text column occurs more than once in it: ``duplicated(keep=False)``."""
    arr = _arrow(s)
    text = arr.drop_null()
    keys, exact = _keys(text)
    out = np.zeros(len(arr), dtype=bool)
    repeated = _repeated(keys)
    if not len(repeated):
        return out
    at = np.minimum(np.searchsorted(repeated, keys), len(repeated) - 1)
    again = repeated[at] == keys
    present = np.flatnonzero(arr.is_valid().to_numpy(zero_copy_only=False)) if arr.null_count else None
    if not exact:  # the values whose hashes meet are compared themselves
        candidates = np.flatnonzero(again)
        rows = candidates if present is None else present[candidates]
        again[candidates] = s.iloc[rows].duplicated(keep=False).to_numpy(dtype=bool)
    if present is None:
        return again
    out[present] = again
    return out


def _repeated(keys: np.ndarray) -> np.ndarray:
    """The keys that occur more than once, sorted."""
    return keys[:0] if _ascending(keys) else _repeats_of_sorted(np.sort(keys))


def repeated_keys(keys: np.ndarray) -> np.ndarray:
    """The keys that occur more than once, sorted; ``keys`` is sorted in place unless they ascend."""
    if _ascending(keys):
        return keys[:0]
    keys.sort()
    return _repeats_of_sorted(keys)


def _repeats_of_sorted(keys: np.ndarray) -> np.ndarray:
    return np.unique(keys[1:][keys[1:] == keys[:-1]])


def _ascending(keys: np.ndarray) -> bool:
    """Whether the keys strictly ascend: keys numbered in order often do, and one pass settles it."""
    return bool((keys[1:] > keys[:-1]).all())


def _keys(text: pa.Array) -> tuple[np.ndarray, bool]:
    """A uint64 per value (a large_string array without nulls), and whether equal keys mean equal values.

    Values of at most 7 bytes are their bytes big-endian under their length, ordered like
    (length, text), so references numbered in order ascend; values of 8 bytes are their bytes
    when all have 8. Any other column gets :func:`value_keys`: exact when every value is digits.
    """
    offsets, raw = string_bytes(text)
    lengths = np.diff(offsets)
    shortest, longest = (int(lengths.min()), int(lengths.max())) if len(text) else (0, 9)
    if longest > 8 or (longest == 8 and shortest != 8):
        return _value_keys(text)
    if shortest == 8:  # the bytes are a column of uint64 already
        return _words(raw, 8, 0).byteswap(), True
    padded = np.zeros(len(raw) + 8, dtype=np.uint8)
    padded[: len(raw)] = raw
    every = np.ndarray((len(raw) + 1,), dtype=_U64, buffer=padded, strides=(1,))  # a word at each byte
    keys = every[offsets[:-1]]
    keys &= np.take(_BYTE_MASKS, lengths)
    keys = keys.byteswap()  # the first byte most significant: ordered like the text
    if longest < 8:
        keys >>= np.uint64(8)
        keys |= lengths.astype(np.uint64) << np.uint64(56)
    return keys, True


_GOLDEN = 0x9E3779B97F4A7C15


def _mix(h: np.ndarray, scratch: np.ndarray) -> np.ndarray:
    """The 64-bit finaliser of SplitMix64 (Stafford's mix 13), in place, ``scratch`` a buffer like ``h``."""
    # Shifting into a reused buffer, not a new array per step: fresh pages cost more than the work.
    for shift, factor in ((30, 0xBF58476D1CE4E5B9), (27, 0x94D049BB133111EB), (31, None)):
        np.right_shift(h, np.uint64(shift), out=scratch)
        h ^= scratch
        if factor is not None:
            h *= np.uint64(factor)
    return h


def text_hashes(text: pa.Array) -> np.ndarray:
    """A 64-bit hash of each text (a large_string array without nulls), from its UTF-8 bytes.

    The bytes are read 8 at a time in place (values of one length) or gathered at each
    value's offset (mixed lengths): a few numpy passes over the column instead of a Python
    object per value. The hash depends on the value alone, not on the values next to it.
    The hashes of the last few columns are kept: a block's key column is hashed by its
    uniqueness check, then again to compare it with the blocks before (read-only arrays).
    """
    return _kept(_HASHED, text, _read_only_hashes)


def _read_only_hashes(text: pa.Array) -> np.ndarray:
    hashes = _text_hashes(text)
    hashes.flags.writeable = False
    return hashes


_T = TypeVar("_T")


def _kept(
    cache: dict[tuple[int, ...], tuple[pa.Array, _T]], text: pa.Array, compute: Callable[[pa.Array], _T]
) -> _T:
    """``compute(text)``, kept in ``cache`` for the last few columns, known by their buffers.

    The array is kept with its result: its buffers, so their addresses, stay its own meanwhile.
    """
    key = (text.offset, len(text), *(b.address if b is not None else 0 for b in text.buffers()))
    with _HASHED_LOCK:
        kept = cache.get(key)
    if kept is not None:
        return kept[1]
    value = compute(text)
    with _HASHED_LOCK:
        cache[key] = (text, value)
        while len(cache) > _HASHED_KEPT:
            del cache[next(iter(cache))]
    return value


_HASHED: dict[tuple[int, ...], tuple[pa.Array, np.ndarray]] = {}
_HASHED_KEPT = 4
_HASHED_LOCK = threading.Lock()


def value_keys(text: pa.Array) -> np.ndarray:
    """A 64-bit key of each value (a large_string array without nulls) that depends on the value alone.

    A value of 1 to 19 digits (the last possibly X) has its exact :func:`decimal_keys` key, any
    other its :func:`text_hashes` hash: equal values have equal keys, and different values
    rarely share one (two hashes, or a hash and a key, may meet). Keys numbered in order
    (payments, households) have keys that ascend, which spares sorting them to find repeats.
    The keys of the last few columns are kept, as the hashes are.
    """
    return _value_keys(text)[0]


def _value_keys(text: pa.Array) -> tuple[np.ndarray, bool]:
    """:func:`value_keys`, and whether every value has an exact key (then equal keys are equal values)."""
    return _kept(_KEYED, text, _computed_keys)


def _computed_keys(text: pa.Array) -> tuple[np.ndarray, bool]:
    fits, keys = decimal_keys(text)
    exact = bool(fits.all())
    if not exact:
        rest = np.flatnonzero(~fits)
        keys[rest] = text_hashes(text.take(pa.array(rest))) if len(rest) < len(text) else text_hashes(text)
    keys.flags.writeable = False
    return keys, exact


_KEYED: dict[tuple[int, ...], tuple[pa.Array, tuple[np.ndarray, bool]]] = {}


def _text_hashes(text: pa.Array) -> np.ndarray:
    """The hashes of :func:`text_hashes`, computed."""
    n = len(text)
    if not n:
        return np.zeros(0, dtype=np.uint64)
    offsets = np.frombuffer(text.buffers()[1], dtype=np.int64)[text.offset : text.offset + n + 1]
    lengths = np.diff(offsets)
    first, size = int(offsets[0]), int(offsets[-1] - offsets[0])
    # The values' bytes and 8 zero bytes after them, so that every word read stays inside.
    padded = np.zeros(size + 8, dtype=np.uint8)
    if size:
        padded[:size] = np.frombuffer(text.buffers()[2], dtype=np.uint8, count=size, offset=first)
    shortest, widest = int(lengths.min()), int(lengths.max())
    h = lengths.astype(np.uint64)
    h *= np.uint64(_GOLDEN)
    scratch = np.empty_like(h)
    if shortest == widest:
        for at in range(0, widest, 8):
            word = np.ndarray((n,), dtype=np.uint64, buffer=padded, offset=at, strides=(widest,))
            if widest - at < 8:
                word = np.bitwise_and(word, _BYTE_MASKS[widest - at], out=scratch)
            h ^= word
            _mix(h, scratch)
        return _mix(h, scratch)
    every = np.ndarray((size + 1,), dtype=np.uint64, buffer=padded, strides=(1,))  # a word at each byte
    starts = offsets[:-1] - first
    word = np.empty_like(h)
    for at in range(0, widest, 8):
        # Every value still has bytes here while ``at`` is below the shortest length.
        index = starts + at if at < shortest else np.minimum(starts + at, size)
        np.take(every, index, out=word, mode="clip")
        left = lengths - at
        if at + 8 > shortest:
            word &= np.take(_BYTE_MASKS, np.clip(left, 0, 8))
        if at < shortest:
            h ^= word
            _mix(h, scratch)
        else:
            word ^= h
            np.copyto(h, _mix(word, scratch), where=left > 0)
    return _mix(h, scratch)


_DECIMAL_WIDEST = 19  # the widest value given a key: every key up to that width fits in 64 bits
# Keys of values of width w follow those of narrower ones, 11 * 10**(w - 1) a width (w - 1 digits,
# then a digit or X). They start at 1, so that 0 can mark an empty slot; the last is 1.2e19 < 2**64.
_DECIMAL_START = [
    1 + sum(11 * 10 ** (w - 1) for w in range(1, width)) for width in range(_DECIMAL_WIDEST + 1)
]
# Eight digit values, one a byte, to their number: pairs of bytes first (the second byte added under the
# first times 10), then the four pairs at once, two multiplications gathering them in the top 32 bits.
_PAIRS = np.uint64(0x0000_00FF_0000_00FF)
_PAIRS_TIMES = np.uint64(100 + (1_000_000 << 32)), np.uint64(1 + (10_000 << 32))
_BLOCK = 1 << 15
"""Values encoded at a time: the working arrays of a block stay in the core's cache (twice as quick)."""


def decimal_keys(text: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """Which values are 1 to 19 ASCII digits, the last possibly ``X``, and a uint64 key of each (else 0).

    The key of such a value of width w is the number its first w - 1 digits make, times 11,
    plus its last character (X counting 10), after the keys of every narrower width: distinct
    values have distinct keys, so they can be looked up as numbers, with no text to confirm.
    A null does not fit.
    """
    offsets, raw = string_bytes(text)
    lengths = np.diff(offsets)
    low, high = (int(lengths.min()), int(lengths.max())) if len(text) else (0, 0)
    if 1 <= low == high <= _DECIMAL_WIDEST and not text.null_count:  # the usual column: the buffer in place
        fits, keys = _decimal_shape(raw, low), _decimal_values(raw, low)
        keys[~fits] = 0
        return fits, keys
    fits = (lengths >= 1) & (lengths <= _DECIMAL_WIDEST)
    if text.null_count:
        fits &= text.is_valid().to_numpy(zero_copy_only=False)
    keys = np.zeros(len(text), dtype=np.uint64)
    for width in np.flatnonzero(np.bincount(lengths[fits])).tolist():
        rows = fits & (lengths == width)
        values = string_bytes(text.filter(pa.array(rows)))[1]  # the values of this width, side by side
        shaped, at = _decimal_shape(values, width), np.flatnonzero(rows)
        fits[at[~shaped]] = False
        keys[at[shaped]] = _decimal_values(values, width)[shaped]
    return fits, keys


def _decimal_shape(raw: np.ndarray, width: int) -> np.ndarray:
    """Where each ``width``-byte value in ``raw`` (at least one) is ASCII digits, the last possibly ``X``."""
    last = raw[width - 1 :: width]
    if _digits_then_x(raw, width):
        return np.ones(len(last), dtype=bool)
    digit = raw.reshape(-1, width) - np.uint8(_ZERO) <= 9  # uint8 wraps: every other byte is over 9
    return digit[:, :-1].all(axis=1) & (digit[:, -1] | (last == ord("X")))


def _decimal_values(raw: np.ndarray, width: int) -> np.ndarray:
    """The key of each ``width``-byte value in ``raw`` (see :func:`decimal_keys`; anything if not digits)."""
    n = len(raw) // width
    start = _DECIMAL_START[width]
    if width < 9:  # leading zeros change no number, and give every value a whole word of digits
        padded = np.full((n, 9), _ZERO, dtype=np.uint8)
        padded[:, 9 - width :] = raw.reshape(-1, width)
        raw, width = padded.reshape(-1), 9
    keys = np.empty(n, dtype=np.uint64)
    word, scratch = np.empty(min(n, _BLOCK), dtype=np.uint64), np.empty(min(n, _BLOCK), dtype=np.uint64)
    for first in range(0, n, _BLOCK):
        out = keys[first : first + _BLOCK]
        block = raw[first * width : (first + len(out)) * width]
        _decimal_block(block, width, start, out, word[: len(out)], scratch[: len(out)])
    return keys


def _decimal_block(
    raw: np.ndarray, width: int, start: int, out: np.ndarray, word: np.ndarray, scratch: np.ndarray
) -> None:
    """Into ``out``, ``start`` plus the number of each value's first digits times 11 plus its last character.

    ``width`` is at least 9. The digits are read 8 at a time in place; the last character and
    the digits after the whole words come from the value's last word.
    """
    digits = width - 1
    np.bitwise_and(_words(raw, width, 0), _LOW_NIBBLES, out=out)
    _number(out, scratch)
    for at in range(8, digits - 7, 8):
        np.bitwise_and(_words(raw, width, at), _LOW_NIBBLES, out=word)
        out *= np.uint64(10**8)
        out += _number(word, scratch)
    tail = _words(raw, width, width - 8)  # the last character in the top byte, the last digits under it
    rest = digits % 8
    if rest == 1:
        np.right_shift(tail, np.uint64(48), out=word)
        word &= np.uint64(0x0F)
    elif rest:
        np.left_shift(tail, np.uint64(8), out=word)  # the digits on top, those before them masked to 0
        word &= _LOW_NIBBLES & ~_BYTE_MASKS[8 - rest]
        _number(word, scratch)
    if rest:
        out *= np.uint64(10**rest)
        out += word
    np.right_shift(tail, np.uint64(56), out=word)
    # The last character's value plus start: X (40 past 0) is the only character past 9. No character
    # is below 0, so the sum is never below start, even where start less the code of 0 wraps.
    word += np.uint64((start - _ZERO) % 2**64)
    np.minimum(word, np.uint64(start + 10), out=word)
    out *= np.uint64(11)
    out += word


def _number(word: np.ndarray, scratch: np.ndarray) -> np.ndarray:
    """In place, the number the digit values in the 8 bytes of each uint64 make, the first byte leading."""
    np.right_shift(word, np.uint64(8), out=scratch)
    word *= np.uint64(10)
    word += scratch  # bytes 0, 2, 4 and 6 hold the pairs, 0 to 99
    np.right_shift(word, np.uint64(16), out=scratch)
    scratch &= _PAIRS
    scratch *= _PAIRS_TIMES[1]
    word &= _PAIRS
    word *= _PAIRS_TIMES[0]
    word += scratch
    word >>= np.uint64(32)
    return word


class _KeySet:
    """A set of nonzero uint64 keys in a table of ordered linear probing, built and searched with numpy.

    A key's home slot is the top bits of the key times the golden ratio (a bijection). Taken in
    order of that product, each key has its home slot or the slot after the key before, so the
    table ascends: a key is sought from its home slot until a greater product or an empty slot
    (0). At the load kept (a quarter to a half) that is one probe for nearly every key: a few
    gathers over the column, a third of the cost of pandas' index engine.
    """

    def __init__(self, keys: np.ndarray) -> None:
        mixed = np.sort(keys * np.uint64(_GOLDEN))
        if len(mixed) > 1:
            mixed = mixed[np.concatenate([[True], mixed[1:] != mixed[:-1]])]
        self.size = len(mixed)
        bits = self.size.bit_length() + 1
        self.shift = np.uint64(64 - bits)
        home = (mixed >> self.shift).view(np.int64)
        step = np.arange(self.size)
        slot = np.maximum.accumulate(home - step) + step
        last = int(slot[-1]) if self.size else 0
        # One empty slot past the last key ends every search.
        self.slots = np.zeros(max(1 << bits, last + 1) + 1, dtype=np.uint64)
        self.slots[slot] = mixed

    def __len__(self) -> int:
        return self.size

    def contains(self, keys: np.ndarray) -> np.ndarray:
        """Where each of ``keys`` (nonzero) is in the set."""
        mixed = keys * np.uint64(_GOLDEN)
        slot = (mixed >> self.shift).view(np.int64)
        seen = self.slots[slot]
        found = seen == mixed
        # Searches that met neither their key, a greater one nor an empty slot go on to the next slot.
        rows = np.flatnonzero((seen < mixed) & (seen != 0))
        slot, mixed = slot[rows], mixed[rows]
        while len(rows):
            slot += 1
            seen = self.slots[slot]
            found[rows[seen == mixed]] = True
            more = (seen < mixed) & (seen != 0)
            rows, slot, mixed = rows[more], slot[more], mixed[more]
        return found


class TextSet:
    """A set of texts to look many columns up in: built once, each lookup costs its own column only.

    Arrow's ``is_in`` builds a hash table of the set on every call, which for a roll of a
    city's people costs more than the lookup of a slice of payments itself. Here values of
    digits (resident IDs, codes) are kept as exact keys (:func:`decimal_keys`) in a
    :class:`_KeySet`, looked up with no text to confirm. The other values' 64-bit hashes go into
    a hash table once (pandas' index engine, kept with the index); a lookup hashes the column,
    finds each hash there and confirms every hit on the text itself, so two texts sharing a
    hash cost time, never a wrong answer. A value of digits is only ever equal to a value of
    digits, so each value is sought in one part only.
    """

    def __init__(self, values: pa.Array) -> None:
        """``values``: text, nulls ignored."""
        text = values.drop_null()
        self.size = len(text)
        fits, keys = decimal_keys(text)
        self.decimal = _KeySet(keys[fits])
        text = text.filter(pa.array(~fits)) if fits.any() else text
        text = text if text.type == pa.large_string() else text.cast(pa.large_string())
        hashes = text_hashes(text)
        order = np.argsort(hashes, kind="stable")
        self.hashes = hashes[order]
        self.values = text.take(pa.array(order))
        distinct, self.first = np.unique(self.hashes, return_index=True)  # where each hash's run starts
        self.index = pd.Index(distinct)

    def __len__(self) -> int:
        return self.size

    def contains(self, text: pa.Array) -> np.ndarray:
        """Where each value of ``text`` is in the set (a null never is)."""
        found = np.zeros(len(text), dtype=bool)
        if not len(self) or not len(text):
            return found
        rest = text.is_valid().to_numpy(zero_copy_only=False) if text.null_count else None
        if len(self.decimal):
            fits, keys = decimal_keys(text)
            if fits.all():
                return self.decimal.contains(keys)
            found[fits] = self.decimal.contains(keys[fits])
            rest = ~fits if rest is None else rest & ~fits
        if not len(self.hashes):
            return found
        if rest is None:
            return self._hashed(text)
        found[rest] = self._hashed(text.filter(pa.array(rest)))
        return found

    def _hashed(self, present: pa.Array) -> np.ndarray:
        """Where each value of ``present`` (no nulls) is among the values kept by their hashes."""
        present = present if present.type == pa.large_string() else present.cast(pa.large_string())
        hashes = text_hashes(present)
        slot = self.index.get_indexer(hashes)
        at = np.where(slot >= 0, self.first[slot], len(self.hashes))
        # Each candidate is compared with the set's values of its hash, in turn: one pass per value
        # sharing a hash, so almost always one.
        open_ = np.flatnonzero(at < len(self.hashes))
        hit = np.zeros(len(present), dtype=bool)
        while len(open_):
            where = at[open_]
            match = self.hashes[where] == hashes[open_]
            open_, where = open_[match], where[match]
            if not len(open_):
                break
            same = pc.equal(present.take(pa.array(open_)), self.values.take(pa.array(where)))
            same = same.to_numpy(zero_copy_only=False)
            hit[open_[same]] = True
            open_ = open_[~same]
            at[open_] += 1
            open_ = open_[at[open_] < len(self.hashes)]
        return hit
