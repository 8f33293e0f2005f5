"""Text columns as Arrow arrays, read byte by byte: keys, hashes and lookup sets of their values.

The toolkit behind ingest's checks of repeats and known values, and behind
:mod:`audit.identifiers`' checks: one conversion of a pandas text column to an Arrow
``large_string`` array (:func:`large_text`), views of its bytes in place
(:func:`string_bytes`, :func:`words`), a 64-bit key of each value that depends on the value
alone (exact for values of digits, :func:`decimal_keys`; a hash for the others,
:func:`text_hashes`; both :func:`value_keys`), repeats found on those keys
(:func:`repeated_keys`, :func:`duplicated`) and :class:`TextSet`, a set of texts built once
to look many columns up in. Nothing loops over rows in Python.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

_ZERO = ord("0")
_U64 = np.dtype("<u8")
_LOW_NIBBLES = np.uint64(0x0F0F_0F0F_0F0F_0F0F)
_BYTE_MASKS = np.array([(1 << 8 * n) - 1 for n in range(8)] + [2**64 - 1], dtype=np.uint64)
"""The low n bytes of a uint64, for n from 0 to 8."""


def large_text(values: pd.Series) -> pa.LargeStringArray:
    """A pandas text column as one Arrow ``large_string`` array; anything that is not a ``str`` becomes null.

    A pandas ``str`` column in one chunk converts without a copy. Other dtypes (object
    columns, numbers) are off the hot path: ingest hands over ``str`` columns.
    """
    if isinstance(values.dtype, pd.StringDtype):
        arr = pa.array(values.array)
    else:
        objects = values.to_numpy(dtype=object)
        try:
            arr = pa.array(objects, type=pa.large_string(), from_pandas=True)
        except (pa.ArrowTypeError, pa.ArrowInvalid):
            # Mixed values: keep the strings, make everything else null.
            is_text = np.fromiter((isinstance(v, str) for v in objects), dtype=bool, count=len(objects))
            arr = pa.array(np.where(is_text, objects, None), type=pa.large_string())
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    return arr if arr.type == pa.large_string() else arr.cast(pa.large_string())


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


def words(raw: np.ndarray, width: int, at: int, dtype: np.dtype = _U64) -> np.ndarray:
    """Bytes ``at`` onwards of each ``width``-byte value in ``raw``, read in place as integers.

    ``at`` plus the integer's size must not pass ``width``, and ``raw`` must hold a value.
    """
    return np.ndarray((len(raw) // width,), dtype=dtype, buffer=raw, offset=at, strides=(width,))


def digits_then_x(raw: np.ndarray, width: int) -> bool:
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


def duplicated(s: pd.Series) -> np.ndarray:
    """Where a present value of a text column occurs more than once in it: ``duplicated(keep=False)``."""
    arr = large_text(s)
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
        return words(raw, 8, 0).byteswap(), True
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
    if digits_then_x(raw, width):
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
    np.bitwise_and(words(raw, width, 0), _LOW_NIBBLES, out=out)
    _number(out, scratch)
    for at in range(8, digits - 7, 8):
        np.bitwise_and(words(raw, width, at), _LOW_NIBBLES, out=word)
        out *= np.uint64(10**8)
        out += _number(word, scratch)
    tail = words(raw, width, width - 8)  # the last character in the top byte, the last digits under it
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
