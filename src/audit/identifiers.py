"""Vectorised checks of identifiers by their national standards: resident IDs (GB 11643), unified
social credit codes (GB 32100), division codes (GB/T 2260), bank accounts (Luhn), months.

Every function takes a whole pandas Series and returns a boolean Series on the same index;
none loops over rows in Python. The work is done with numpy on the bytes of the Arrow
string buffer, read in place (:mod:`audit.textkeys` converts the column and gives the byte
views). The resident-ID and Luhn checks read 8 bytes of each value at a time as one uint64
and work on its bytes all at once (a digit test, a weighted sum, a date field per word
instead of per character; its speed is in benchmarks/RESULTS.md, notes); the others work one
character position at a time.

Conventions shared by every function:

- a missing value (NA, None, NaN) gives ``False``: an absent identifier is not a valid one;
- a value that is not a ``str`` (a number, a date) gives ``False``: an 18-digit ID read as a
  number has lost digits, so it is never turned back into text here;
- only ASCII counts: full-width digits, spaces and lowercase letters fail (ingest repairs
  them before validation, and notes the repair).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from audit.textkeys import digits_then_x, large_text, string_bytes, words

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


class _Strings:
    """The values of a Series as an Arrow string array, with numpy views of lengths and validity."""

    def __init__(self, s: pd.Series) -> None:
        self.index, self.name = s.index, s.name
        self.arr = large_text(s)
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


def _id_shape(raw: np.ndarray) -> np.ndarray:
    """Where each 18-byte value in ``raw`` is 17 ASCII digits then a digit or ``X``."""
    last = raw[17::18]
    if digits_then_x(raw, 18):
        return np.ones(len(last), dtype=bool)
    shape = _all_digits(words(raw, 18, 0)) & _all_digits(words(raw, 18, 8))
    places_10_to_16 = words(raw, 18, 10) & np.uint64(0x00FF_FFFF_FFFF_FFFF)
    shape &= _all_digits(places_10_to_16 | np.uint64(_ZERO << 56))  # the check character read as a 0
    return shape & ((last - np.uint8(_ZERO) <= 9) | (last == ord("X")))


def _id_check_ok(raw: np.ndarray) -> np.ndarray:
    """Where the check character of each 18-byte value is right (anything where the shape is wrong)."""
    # Lane i of the word holds the bytes of places i and i + 10 (i < 7), lane 7 those of place 7 and
    # the check character: at most 0x39 + 0x58, so no lane carries. Two multiplications sum the
    # lanes times their weights, as four 16-bit lanes each.
    lanes = words(raw, 18, 0) + words(raw, 18, 10)
    odd = lanes >> np.uint64(8)
    odd &= _EVEN_BYTES
    odd *= _ID_ODD
    lanes &= _EVEN_BYTES
    lanes *= _ID_EVEN
    lanes += odd
    lanes >>= np.uint64(48)
    total = lanes.astype(np.uint16)
    tail = words(raw, 18, 8, _U16) & np.uint16(0x0F0F)
    tail *= _ID_TAIL  # the high byte becomes digit 8 times its weight plus digit 9 times its weight
    tail >>= np.uint16(8)
    total += tail
    total += (raw[17::18] == ord("X")).view(np.uint8) * _X_CORRECTION
    return total - total // np.uint16(11) * np.uint16(11) == _ID_REMAINDER


def _birth_fields(raw: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Year, month and day in places 7-14 of each 18-byte value, as uint16 (anything if not digits)."""
    digits = words(raw, 18, 6) & _LOW_NIBBLES
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
            np.bitwise_and(words(raw, step, at), digit_mask, out=digits)
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
