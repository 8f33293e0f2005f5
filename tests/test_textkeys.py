"""Tests of the text keys: exact keys of digits, hashes, repeats, lookup sets, byte views of text."""

from __future__ import annotations

import re
import string
from itertools import product

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from audit import textkeys

PROPERTY = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _ids(values: list[object]) -> pd.Series:
    return pd.Series(values, dtype="str")


def test_a_text_column_of_any_dtype_becomes_one_large_string_array() -> None:
    chunked = pd.Series(pd.arrays.ArrowStringArray(pa.chunked_array([["a", None], ["b"]])))
    assert textkeys.large_text(chunked).to_pylist() == ["a", None, "b"]
    assert textkeys.large_text(chunked).type == pa.large_string()
    mixed = pd.Series(["a", 1, None, 2.5, "b"], dtype=object)
    assert textkeys.large_text(mixed).to_pylist() == ["a", None, None, None, "b"]
    python = pd.Series(["x", None], dtype=pd.StringDtype("python"))
    assert textkeys.large_text(python).to_pylist() == ["x", None]
    assert textkeys.large_text(python).type == pa.large_string()


def test_value_keys_depend_on_the_value_alone_and_are_exact_for_digits() -> None:
    values = ["", "7", "007", "540102199001011234", "54010219900101123X", "1234567890123456789",
              "12345678901234567890", "P12", "中文"]  # fmt: skip
    alone = [textkeys.value_keys(pa.array([v], pa.large_string()))[0] for v in values]
    mixed = pa.array(values * 3, pa.large_string())
    assert textkeys.value_keys(mixed).tolist() == alone * 3
    assert textkeys.value_keys(mixed.slice(2, 10)).tolist() == (alone * 3)[2:12]
    assert len(set(alone)) == len(values)
    assert not textkeys._value_keys(mixed)[1]  # 20 digits, letters: hashed, so not exact
    digits = pa.array(["540102199001011234", "7", "0000000000000000001"], pa.large_string())
    keys, exact = textkeys._value_keys(digits)
    assert exact and keys.tolist() == [textkeys.decimal_keys(digits)[1][i] for i in range(3)]
    numbered = pa.array([f"5401022020{i:09d}" for i in range(1, 6)], pa.large_string())
    assert (np.diff(textkeys.value_keys(numbered).astype(np.int64)) > 0).all()  # in order: ascending


def test_repeated_keys_sorts_in_place_only_when_it_must() -> None:
    ascending = np.array([1, 5, 9], dtype=np.uint64)
    assert not len(textkeys.repeated_keys(ascending)) and ascending.tolist() == [1, 5, 9]
    shuffled = np.array([9, 1, 5, 1, 9, 9], dtype=np.uint64)
    assert textkeys.repeated_keys(shuffled).tolist() == [1, 9]
    assert shuffled.tolist() == [1, 1, 5, 9, 9, 9]


@PROPERTY
@given(st.lists(st.from_regex(r"[0-9]{9,18}[0-9X]", fullmatch=True), max_size=40), st.booleans())
def test_duplicated_agrees_with_pandas_on_keys_of_digits(values: list[str], repeat: bool) -> None:
    values = values + values[:2] if repeat else values  # exact keys: no value is compared itself
    s = pd.Series(values, dtype="str")
    assert textkeys.duplicated(s).tolist() == s.duplicated(keep=False).tolist()


def test_text_hashes_depend_on_the_value_alone() -> None:
    values = ["", "a", "abcdefgh", "abcdefghi", "P1", "P12345678901234567", "中文", "P2"]
    alone = [textkeys.text_hashes(pa.array([v], pa.large_string()))[0] for v in values]
    mixed = pa.array(values * 3, pa.large_string())
    assert textkeys.text_hashes(mixed).tolist() == alone * 3
    assert textkeys.text_hashes(mixed.slice(2, 10)).tolist() == (alone * 3)[2:12]
    assert len(set(alone)) == len(values)


@PROPERTY
@given(
    st.lists(
        st.none()
        | st.text(alphabet="ab\x00中", max_size=10)
        | st.from_regex(r"P[0-9]{1,7}", fullmatch=True)
        | st.text(alphabet="ab", min_size=8, max_size=8),
        max_size=40,
    ),
    st.booleans(),
)
def test_duplicated_agrees_with_pandas(values: list[str | None], numbered: bool) -> None:
    if numbered:  # references numbered in order: the keys ascend
        values = [f"P{i}" for i in range(len(values))] + values[:3]
    s = pd.Series(["pad", *values], dtype="str").iloc[1:]
    expected = (s.duplicated(keep=False) & s.notna()).tolist()
    assert textkeys.duplicated(s).tolist() == expected


def test_duplicated_compares_values_whose_hashes_meet(monkeypatch: pytest.MonkeyPatch) -> None:
    weak = textkeys.text_hashes
    monkeypatch.setattr(textkeys, "text_hashes", lambda text: weak(text) % np.uint64(3))
    s = _ids(["abcdefghij", "bcdefghijk", None, "cdefghijkl", "abcdefghij", "defghijklm", None])
    assert textkeys.duplicated(s).tolist() == [True, False, False, False, True, False, False]


@PROPERTY
@given(
    st.lists(
        st.none()
        | st.text(alphabet="0123456789X x٣", max_size=20)
        | st.from_regex(r"[0-9]{17}[0-9X]", fullmatch=True)
    ),
    st.sampled_from([pa.string(), pa.large_string()]),
)
def test_whole_buffer_digits_agree_with_the_regex(values: list[str | None], kind: pa.DataType) -> None:
    arr = pa.array(["pad", *values], kind).slice(1)  # an offset into the buffer, as a block has
    digits = textkeys.digit_strings(arr)
    if digits is not None:
        assert digits.tolist() == [v is not None and bool(re.fullmatch(r"[0-9]+", v)) for v in values]
    if all(v is None or re.fullmatch(r"[0-9]*", v) for v in values):
        assert digits is not None


def _texts(values):
    return pa.array(values, type=pa.large_string())


def test_a_text_set_finds_exactly_its_values():
    known = textkeys.TextSet(_texts(["540102", "P12", None, "张三", "540102"]))
    probe = _texts(["540102", "540103", None, "张三", "", "P1", "P12"])
    assert known.contains(probe).tolist() == [True, False, False, True, False, False, True]
    assert not textkeys.TextSet(_texts([])).contains(probe).any()


def test_a_text_set_confirms_every_hit_on_the_text(monkeypatch):
    # Every text shares one hash: the answers must still be exact.
    monkeypatch.setattr(textkeys, "text_hashes", lambda text: np.zeros(len(text), dtype=np.uint64))
    known = textkeys.TextSet(_texts(["b", "d", "a"]))
    assert known.contains(_texts(["a", "c", "d", None, "e"])).tolist() == [True, False, True, False, False]


@given(st.lists(st.text(max_size=6), max_size=40), st.lists(st.text(max_size=6), max_size=40))
def test_a_text_set_agrees_with_a_python_set(known, probe):
    found = textkeys.TextSet(_texts(known)).contains(_texts(probe))
    assert found.tolist() == [value in set(known) for value in probe]


# --- exact keys of digit values, and the sets kept by them -----------------------------------------

DIGIT_VALUES = st.integers(1, 19).flatmap(lambda w: st.from_regex(rf"[0-9]{{{w - 1}}}[0-9X]", fullmatch=True))
TEXT_KINDS = st.sampled_from([pa.string(), pa.large_string()])


def _key_oracle(value: str) -> int:
    """The key as defined: after narrower widths, the number before the last character times 11, plus it."""
    narrower = sum(11 * 10 ** (w - 1) for w in range(1, len(value)))
    return 1 + narrower + int(value[:-1] or "0") * 11 + "0123456789X".index(value[-1])


def _padded(values: list[str | None], kind: pa.DataType | None = None) -> pa.Array:
    return pa.array(["pad", *values], kind or pa.large_string()).slice(
        1
    )  # an offset into the buffer, as a block has


def test_decimal_keys_by_hand() -> None:
    values = ["0", "9", "X", "00", "1X", "000", "123456789", "540102198802087815", "54010219880208781X"]
    expected = [1, 10, 11, 12, 33, 122, 258_024_689, 716_334_640_904_518_818, 716_334_640_904_518_823]
    values += ["9" * 19, "9" * 18 + "X"]
    expected += [12_222_222_222_222_222_220, 12_222_222_222_222_222_221]  # the last key, below 2**64
    fits, keys = textkeys.decimal_keys(_texts(values))
    assert fits.all()
    assert keys.tolist() == expected


def test_the_keys_of_short_values_count_them_in_order() -> None:
    # Every value of 1 to 3 characters, narrower first, then in order: the keys are 1, 2, 3, ... with no gap.
    values = [
        "".join(head) + last
        for width in (1, 2, 3)
        for head in product(string.digits, repeat=width - 1)
        for last in "0123456789X"
    ]
    fits, keys = textkeys.decimal_keys(_texts(values))
    assert fits.all()
    assert keys.tolist() == list(range(1, len(values) + 1))


def test_values_that_are_not_digits_get_no_key() -> None:
    values = [
        "",
        None,
        "X1",
        "12x",
        "１２",
        "1 2",
        "9" * 20,
        "5.40121E+17",
        "-1",
        "12X3",
        "54010219880208781x",
    ]
    fits, keys = textkeys.decimal_keys(_padded(values))
    assert not fits.any()
    assert not keys.any()
    fits, keys = textkeys.decimal_keys(_texts([]))
    assert len(fits) == len(keys) == 0


@PROPERTY
@given(st.lists(st.none() | DIGIT_VALUES | st.text(alphabet="09X /:", max_size=21), max_size=40), TEXT_KINDS)
def test_decimal_keys_agree_with_their_definition(values: list[str | None], kind: pa.DataType) -> None:
    fits, keys = textkeys.decimal_keys(_padded(values, kind))
    shaped = [v is not None and re.fullmatch(r"[0-9]{0,18}[0-9X]", v) is not None for v in values]
    assert fits.tolist() == shaped
    assert keys.tolist() == [_key_oracle(v) if ok else 0 for v, ok in zip(values, shaped, strict=True)]


@PROPERTY
@given(
    st.integers(1, 19).flatmap(
        lambda w: st.lists(
            st.from_regex(rf"[0-9]{{{w - 1}}}[0-9X]", fullmatch=True)
            | st.text("09X./:", min_size=w, max_size=w),
            min_size=1,
            max_size=40,
        )
    ),
    TEXT_KINDS,
)
def test_decimal_keys_of_one_width_read_in_place(values: list[str], kind: pa.DataType) -> None:
    fits, keys = textkeys.decimal_keys(_padded(values, kind))
    shaped = [re.fullmatch(r"[0-9]*[0-9X]", v) is not None for v in values]
    assert fits.tolist() == shaped
    assert keys.tolist() == [_key_oracle(v) if ok else 0 for v, ok in zip(values, shaped, strict=True)]


def test_decimal_keys_of_many_blocks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(textkeys, "_BLOCK", 4)
    values = [
        f"{i:0{width - 1}d}{'0123456789X'[i % 11]}" for width in (18, 18, 9, 5) for i in range(width + 5)
    ]
    for column in (values[:23], values):  # one width read in place, then several
        fits, keys = textkeys.decimal_keys(_texts(column))
        assert fits.all()
        assert keys.tolist() == [_key_oracle(v) for v in column]


# Keys whose products with the golden ratio are 1, 2, 3, ...: all of them have the first home slot.
_CROWDED = [i * pow(textkeys._GOLDEN, -1, 2**64) % 2**64 for i in range(1, 200)]
# Products near 2**64: home slots at the end of the table, runs past it.
_CROWDED_HIGH = [(2**64 - i) * pow(textkeys._GOLDEN, -1, 2**64) % 2**64 for i in range(1, 200)]


@pytest.mark.parametrize("keys", [_CROWDED, _CROWDED_HIGH])
def test_a_key_set_searches_past_a_crowded_slot(keys: list[int]) -> None:
    kept = textkeys._KeySet(np.array(keys[1::2] + keys[1:20:2], dtype=np.uint64))
    assert len(kept) == len(keys[1::2])
    found = kept.contains(np.array(keys, dtype=np.uint64))
    assert found.tolist() == [i % 2 == 1 for i in range(len(keys))]


@PROPERTY
@given(st.lists(st.integers(1, 2**64 - 1), max_size=60), st.lists(st.integers(1, 2**64 - 1), max_size=30))
def test_a_key_set_agrees_with_a_python_set(known: list[int], probe: list[int]) -> None:
    probe = probe + known[::3]
    found = textkeys._KeySet(np.array(known, dtype=np.uint64)).contains(np.array(probe, dtype=np.uint64))
    assert found.tolist() == [value in set(known) for value in probe]


def test_a_text_set_looks_digits_up_as_numbers() -> None:
    known = textkeys.TextSet(
        _texts(["540102198802087815", "54010219880208781X", "5.40121E+17", None, "0540100", "540100"])
    )
    probe = [
        "540102198802087815",
        "540102198802087816",
        "54010219880208781X",
        "54010219880208781x",
        "5.40121E+17",
    ]
    probe += ["540100", "0540100", "00540100", None, "", "540102198802087815 "]
    expected = [True, False, True, False, True, True, True, False, False, False, False]
    assert known.contains(_padded(probe)).tolist() == expected
    assert known.contains(_padded(probe, pa.string())).tolist() == expected
    assert known.contains(_texts([])).tolist() == []
    assert not textkeys.TextSet(_texts([None])).contains(_texts(probe)).any()


def test_a_column_of_digits_is_never_hashed(monkeypatch: pytest.MonkeyPatch) -> None:
    hashed = []
    real = textkeys.text_hashes
    monkeypatch.setattr(textkeys, "text_hashes", lambda text: hashed.append(text.to_pylist()) or real(text))
    known = textkeys.TextSet(_texts(["540102198802087815", "P1", "11010519491231002X"]))
    probe = _padded(["11010519491231002X", "540102198802087816", "540102198802087815"])
    assert known.contains(probe).tolist() == [True, False, True]
    assert known.contains(_texts(["P1", "540102198802087815", None, "P2"])).tolist() == [
        True,
        True,
        False,
        False,
    ]
    assert hashed == [["P1"], ["P1", "P2"]]  # the set's one other value, then the probe's


def test_hash_collisions_leave_digit_values_exact(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(textkeys, "text_hashes", lambda text: np.zeros(len(text), dtype=np.uint64))
    known = textkeys.TextSet(_texts(["b", "12", "a", "1X"]))
    found = known.contains(_texts(["a", "12", "c", "1X", "13", None, "b", "X1"]))
    assert found.tolist() == [True, True, False, True, False, False, True, False]


MIXED_VALUES = st.none() | DIGIT_VALUES | st.text(alphabet="09X.:a中", max_size=20)


@PROPERTY
@given(st.lists(MIXED_VALUES, max_size=40), st.lists(MIXED_VALUES, max_size=40), TEXT_KINDS, TEXT_KINDS)
def test_a_text_set_of_mixed_values_agrees_with_a_python_set(
    known: list[str | None], probe: list[str | None], known_kind: pa.DataType, probe_kind: pa.DataType
) -> None:
    probe = probe + known[::2]
    found = textkeys.TextSet(_padded(known, known_kind)).contains(_padded(probe, probe_kind))
    assert found.tolist() == [value is not None and value in set(known) for value in probe]


@PROPERTY
@given(st.lists(DIGIT_VALUES, min_size=1, max_size=40), st.lists(MIXED_VALUES, max_size=40))
def test_a_text_set_of_digits_only_agrees_with_a_python_set(
    known: list[str], probe: list[str | None]
) -> None:
    probe = probe + known[::2]
    found = textkeys.TextSet(_texts(known)).contains(_padded(probe))
    assert found.tolist() == [value is not None and value in set(known) for value in probe]


def test_the_hashes_of_a_column_hashed_again_are_the_ones_kept():
    text = pa.array(["P-000001", "P-000002", "a longer key 3"], type=pa.large_string())
    first = textkeys.text_hashes(text)
    assert textkeys.text_hashes(text) is first  # the same buffers: not hashed again
    assert textkeys.text_hashes(text.slice(1)) is not first  # another range of them is another column
    assert textkeys.text_hashes(text.slice(1)).tolist() == first[1:].tolist()
    copy = pa.array(text.to_pylist(), type=pa.large_string())
    assert textkeys.text_hashes(copy) is not first and textkeys.text_hashes(copy).tolist() == first.tolist()
    assert not first.flags.writeable  # shared by the callers: none may change it
    for i in range(textkeys._HASHED_KEPT + 1):
        textkeys.text_hashes(pa.array([f"other {i}"], type=pa.large_string()))
    assert len(textkeys._HASHED) == textkeys._HASHED_KEPT
