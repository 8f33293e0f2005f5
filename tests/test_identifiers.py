"""Tests of the vectorised identifier checks, by hand and against python-stdnum as the oracle."""

from __future__ import annotations

import datetime as dt
import re
import string
from itertools import product

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from stdnum import luhn
from stdnum.cn import ric, uscc

from audit import identifiers

TODAY = dt.date(2020, 12, 31)
PROPERTY = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _ids(values: list[object]) -> pd.Series:
    return pd.Series(values, dtype="str")


# --- resident ID, by hand -------------------------------------------------------------------------

VALID_IDS = [
    "11010519491231002X",  # the example of GB 11643 itself
    "440524188001010014",  # the standard's other example
    "540102198507150017",
    "540125197203010031",  # 堆龙德庆县, retired in 2015: still valid in IDs issued before
    "540102200002290014",  # 29 February of a leap year divisible by 400
]


def test_valid_resident_ids_pass() -> None:
    assert identifiers.resident_id_valid(_ids(VALID_IDS), today=TODAY).tolist() == [True] * 5


@pytest.mark.parametrize(
    "value",
    [
        "110105194912310021",  # check digit wrong (should be X)
        "11010519491231002x",  # lowercase x: ingest uppercases, the check does not
        "540102190002290018",  # 29 February 1900: not a leap year, although the check digit is right
        "540102198513150013",  # month 13 (check digit right)
        "540102198504310011",  # 31 April (check digit right)
        "54010219850715001",  # 17 characters
        "5401021985071500170",  # 19 characters
        "5401021985071500X7",  # X before the last place
        "５４０１０２１９８５０７１５００１７",  # full-width digits
        " 540102198507150017",  # leading space
        "",
    ],
)
def test_invalid_resident_ids_fail(value: str) -> None:
    assert identifiers.resident_id_valid(_ids([value]), today=TODAY).tolist() == [False]


def test_birth_date_after_today_fails() -> None:
    s = _ids(["540102202101010013", "540102202012310014"])  # born 2021-01-01 and 2020-12-31
    assert identifiers.resident_id_valid(s, today=TODAY).tolist() == [False, True]
    assert identifiers.resident_id_valid(s, today=dt.date(2021, 1, 1)).tolist() == [True, True]


def test_missing_and_non_text_values_give_false() -> None:
    s = pd.Series(["540102198507150017", None, np.nan, 540102198507150017, 5.40102e17], dtype=object)
    assert identifiers.resident_id_valid(s, today=TODAY).tolist() == [True, False, False, False, False]
    assert identifiers.resident_id_valid(_ids([None, "540102198507150017"]), today=TODAY).tolist() == [
        False,
        True,
    ]
    # An ID read as a number has lost its text form (and often digits): never valid.
    assert identifiers.resident_id_valid(pd.Series([540102198507150017], dtype="uint64")).tolist() == [False]
    assert identifiers.uscc_valid(pd.Series([1.5, np.nan])).tolist() == [False, False]


@pytest.mark.parametrize("dtype", ["str", "string", pd.StringDtype("python"), "category", object])
def test_every_text_dtype_gives_the_same_answer(dtype: object) -> None:
    s = pd.Series(["540102198507150017", None, "540102198507150018"], dtype=dtype)
    assert identifiers.resident_id_valid(s, today=TODAY).tolist() == [True, False, False]


def test_result_keeps_the_index() -> None:
    s = pd.Series(["540102198507150017", "bad"], index=[10, 7], dtype="str")
    out = identifiers.resident_id_valid(s, today=TODAY)
    assert out.index.tolist() == [10, 7]
    assert out.dtype == bool
    assert out.tolist() == [True, False]


def test_birth_date() -> None:
    s = _ids(["11010519491231002X", "540102198507150018", "540102198513150019", None, "abc"])
    out = identifiers.resident_id_birth_date(s)
    assert out.dtype == "datetime64[us]"
    # The check digit is not required: the second number's is wrong but its date is read.
    assert out.tolist()[:2] == [pd.Timestamp("1949-12-31"), pd.Timestamp("1985-07-15")]
    assert out.isna().tolist() == [False, False, True, True, True]


# --- credit code, luhn, division codes, by hand --------------------------------------------------


def test_uscc() -> None:
    s = _ids(
        [
            "91110000600037341L",  # stdnum's example
            "52540102MJY123456C",  # a private non-enterprise unit registered in 城关区
            "Y1540102MA6T123458",  # registering authority Y ("other"): stdnum rejects it, GB 32100 allows it
            "91110000600037341M",  # check character wrong
            "91110000600037341l",  # lowercase
            "9111000060003734IL",  # I is not in the alphabet
            "911A0000600037341R",  # check character right, but a letter in the authority's division code
            "91110000600037341",  # 17 characters
            None,
        ]
    )
    assert identifiers.uscc_valid(s).tolist() == [True, True, True, False, False, False, False, False, False]


def test_luhn() -> None:
    s = _ids(["79927398713", "4111111111111111", "0", "79927398710", "7992 7398 713", "", None, "６"])
    assert identifiers.luhn_valid(s).tolist() == [True, True, True, False, False, False, False, False]


def test_digits_only() -> None:
    s = _ids(["6222020200012345678", "0", "", "62220a", "６２", None, " 1"])
    assert identifiers.digits_only(s).tolist() == [True, True, False, False, False, False, False]


def test_division_code_valid() -> None:
    s = _ids(["540102", "540102001", "54010", "5401020010", "54010a", "5401020", None])
    assert identifiers.division_code_valid(s).tolist() == [True, True, False, False, False, False, False]


def test_parent_consistent() -> None:
    code = _ids(["540102", "540102001", "540102001", "540102", "5401", None, "540102001"])
    parent = _ids(["540100", "540102", "540103", "540000", "5400", "540100", None])
    assert identifiers.parent_consistent(code, parent).tolist() == [
        True,
        True,
        False,
        False,
        False,
        False,
        False,
    ]


def test_long_and_mixed_values_do_not_break_the_byte_path() -> None:
    # Values of many lengths, nulls and multi-byte characters force the gathering path.
    s = _ids(["540102198507150017", "x" * 1000, "拉萨540102198507150017", None, "540102198507150017"])
    assert identifiers.resident_id_valid(s, today=TODAY).tolist() == [True, False, False, False, True]
    assert identifiers.luhn_valid(_ids(["1" * 999 + "7", "79927398713"])).tolist() == [False, True]


def test_luhn_failing_leaves_out_what_is_not_digits() -> None:
    s = _ids(["79927398713", "79927398710", "7992739871a", "", None])
    assert identifiers.luhn_failing(s).tolist() == [False, True, False, False, False]


def test_a_few_stray_bytes_fail_only_their_rows() -> None:
    # Past the whole-buffer test: the rows holding a non-digit byte are found by their offsets.
    values = ["6222020200012345670"] * 300 + ["62220 2020", "", "٣", "12a"] + ["0"] * 5
    s = _ids(["x", *values]).iloc[1:]
    expected = [bool(re.fullmatch(r"[0-9]+", v)) for v in values]
    assert identifiers.digits_only(s).tolist() == expected
    assert identifiers.luhn_valid(s).tolist() == [luhn.is_valid(v) if v.isascii() else False for v in values]


def test_sliced_series_are_read_at_their_offset() -> None:
    s = _ids(["bad", "540102198507150017", "540102198507150018"])
    assert identifiers.resident_id_valid(s.iloc[1:], today=TODAY).tolist() == [True, False]


# --- property tests against stdnum ---------------------------------------------------------------

ID_ALPHABET = "0123456789X"
# Area codes stdnum's birthplace table knows without a year range, so its full check applies.
STDNUM_AREAS = ("110105", "540121", "540122", "540127")


def _ric_oracle(value: str, today: dt.date = TODAY) -> bool:
    """Valid per stdnum's check digit and date parsing, plus the shape and the not-in-the-future rule."""
    if len(value) != 18 or not all(c in "0123456789" for c in value[:17]) or value[17] not in ID_ALPHABET:
        return False
    if value[17] != ric.calc_check_digit(value):
        return False
    try:
        born = ric.get_birth_date(value)
    except Exception:
        return False
    return born <= today


@st.composite
def valid_ids(draw: st.DrawFn, areas: tuple[str, ...] | None = None) -> str:
    area = draw(st.sampled_from(areas)) if areas else draw(st.from_regex(r"[0-9]{6}", fullmatch=True))
    born = draw(st.dates(min_value=dt.date(1900, 1, 1), max_value=TODAY))
    body = area + born.strftime("%Y%m%d") + draw(st.from_regex(r"[0-9]{3}", fullmatch=True))
    return body + ric.calc_check_digit(body + "0")


@PROPERTY
@given(st.lists(valid_ids(), min_size=1, max_size=30))
def test_random_valid_ids_pass_and_give_their_birth_date(values: list[str]) -> None:
    s = _ids(values)
    assert identifiers.resident_id_valid(s, today=TODAY).all()
    expected = [pd.Timestamp(ric.get_birth_date(v)) for v in values]
    assert identifiers.resident_id_birth_date(s).tolist() == expected


@PROPERTY
@given(st.lists(valid_ids(STDNUM_AREAS), min_size=1, max_size=30))
def test_agrees_with_stdnum_is_valid_on_areas_it_knows(values: list[str]) -> None:
    ours = identifiers.resident_id_valid(_ids(values), today=TODAY).tolist()
    assert ours == [ric.is_valid(v) for v in values]


@PROPERTY
@given(st.lists(st.text(alphabet=ID_ALPHABET + "x -٣", min_size=16, max_size=19), max_size=30))
def test_agrees_with_the_oracle_on_random_strings(values: list[str]) -> None:
    assert identifiers.resident_id_valid(_ids(values), today=TODAY).tolist() == [
        _ric_oracle(v) for v in values
    ]


@PROPERTY
@given(valid_ids(), st.integers(0, 17), st.sampled_from(list(ID_ALPHABET + "x ")))
def test_agrees_with_the_oracle_on_single_character_mutations(value: str, at: int, char: str) -> None:
    mutated = value[:at] + char + value[at + 1 :]
    ours = identifiers.resident_id_valid(_ids([mutated, value]), today=TODAY).tolist()
    assert ours == [_ric_oracle(mutated), True]


USCC_ALPHABET = identifiers.USCC_ALPHABET


def _uscc_oracle(value: str) -> bool:
    """stdnum's check character and alphabet, with GB 32100's letters allowed in places 1-2."""
    ok = (
        len(value) == 18
        and all(c in USCC_ALPHABET for c in value)
        and all(c in "0123456789" for c in value[2:8])
        and value[17] == uscc.calc_check_digit(value[:17])
    )
    if ok == uscc.is_valid(value) or not all(c in "0123456789" for c in value[:2]):
        return ok
    raise AssertionError(f"oracle and stdnum disagree on {value!r}")


@st.composite
def valid_usccs(draw: st.DrawFn) -> str:
    head = draw(st.text(alphabet=USCC_ALPHABET, min_size=2, max_size=2))
    area = draw(st.from_regex(r"[0-9]{6}", fullmatch=True))
    body = head + area + draw(st.text(alphabet=USCC_ALPHABET, min_size=9, max_size=9))
    return body + uscc.calc_check_digit(body)


@PROPERTY
@given(st.lists(valid_usccs(), min_size=1, max_size=30))
def test_random_valid_usccs_pass(values: list[str]) -> None:
    assert identifiers.uscc_valid(_ids(values)).all()
    assert [uscc.is_valid(v) for v in values if v[:2].isdigit()] == [True] * sum(
        v[:2].isdigit() for v in values
    )


@st.composite
def checked_strings(draw: st.DrawFn) -> str:
    """17 characters from the alphabet anywhere, then the check character stdnum computes for them."""
    body = draw(st.text(alphabet=USCC_ALPHABET, min_size=17, max_size=17))
    return body + uscc.calc_check_digit(body)


@PROPERTY
@given(st.lists(checked_strings(), min_size=1, max_size=30))
def test_uscc_agrees_with_the_oracle_on_strings_with_a_right_check_character(values: list[str]) -> None:
    assert identifiers.uscc_valid(_ids(values)).tolist() == [_uscc_oracle(v) for v in values]


@PROPERTY
@given(st.lists(st.text(alphabet=USCC_ALPHABET + "IOSVZa", min_size=17, max_size=19), max_size=30))
def test_uscc_agrees_with_the_oracle_on_random_strings(values: list[str]) -> None:
    assert identifiers.uscc_valid(_ids(values)).tolist() == [_uscc_oracle(v) for v in values]


@PROPERTY
@given(valid_usccs(), st.integers(0, 17), st.sampled_from(list(USCC_ALPHABET + "IOa")))
def test_uscc_agrees_with_the_oracle_on_single_character_mutations(value: str, at: int, char: str) -> None:
    mutated = value[:at] + char + value[at + 1 :]
    assert identifiers.uscc_valid(_ids([mutated])).tolist() == [_uscc_oracle(mutated)]


@PROPERTY
@given(st.lists(st.text(alphabet="0123456789a ", max_size=22), max_size=30))
def test_luhn_agrees_with_stdnum(values: list[str]) -> None:
    assert identifiers.luhn_valid(_ids(values)).tolist() == [luhn.is_valid(v) for v in values]


@PROPERTY
@given(st.lists(st.from_regex(r"[0-9]{12,20}", fullmatch=True), min_size=1, max_size=30))
def test_luhn_agrees_with_stdnum_on_numbers_with_a_check_digit(values: list[str]) -> None:
    values = [v + luhn.calc_check_digit(v) for v in values]
    assert identifiers.luhn_valid(_ids(values)).tolist() == [True] * len(values)


def test_luhn_of_very_long_numbers() -> None:
    # Past 255 digits the sums no longer fit in 16 bits.
    values = ["0" * 4000, "1" * 999 + "7", "1" * 999 + "8", "79927398713"]
    assert identifiers.luhn_valid(_ids(values)).tolist() == [luhn.is_valid(v) for v in values]


@PROPERTY
@given(
    st.lists(
        st.text(alphabet="0123456789-/ 年月٣", max_size=9)
        | st.from_regex(r"[0-9]{4}-[0-9]{2}", fullmatch=True)
    )
)
def test_month_agrees_with_the_regex(values: list[str]) -> None:
    expected = [re.fullmatch(r"[0-9]{4}-(0[1-9]|1[0-2])", v) is not None for v in values]
    assert identifiers.month_valid(_ids(values)).tolist() == expected


def test_value_keys_depend_on_the_value_alone_and_are_exact_for_digits() -> None:
    values = ["", "7", "007", "540102199001011234", "54010219900101123X", "1234567890123456789",
              "12345678901234567890", "P12", "中文"]  # fmt: skip
    alone = [identifiers.value_keys(pa.array([v], pa.large_string()))[0] for v in values]
    mixed = pa.array(values * 3, pa.large_string())
    assert identifiers.value_keys(mixed).tolist() == alone * 3
    assert identifiers.value_keys(mixed.slice(2, 10)).tolist() == (alone * 3)[2:12]
    assert len(set(alone)) == len(values)
    assert not identifiers._value_keys(mixed)[1]  # 20 digits, letters: hashed, so not exact
    digits = pa.array(["540102199001011234", "7", "0000000000000000001"], pa.large_string())
    keys, exact = identifiers._value_keys(digits)
    assert exact and keys.tolist() == [identifiers.decimal_keys(digits)[1][i] for i in range(3)]
    numbered = pa.array([f"5401022020{i:09d}" for i in range(1, 6)], pa.large_string())
    assert (np.diff(identifiers.value_keys(numbered).astype(np.int64)) > 0).all()  # in order: ascending


def test_repeated_keys_sorts_in_place_only_when_it_must() -> None:
    ascending = np.array([1, 5, 9], dtype=np.uint64)
    assert not len(identifiers.repeated_keys(ascending)) and ascending.tolist() == [1, 5, 9]
    shuffled = np.array([9, 1, 5, 1, 9, 9], dtype=np.uint64)
    assert identifiers.repeated_keys(shuffled).tolist() == [1, 9]
    assert shuffled.tolist() == [1, 1, 5, 9, 9, 9]


@PROPERTY
@given(st.lists(st.from_regex(r"[0-9]{9,18}[0-9X]", fullmatch=True), max_size=40), st.booleans())
def test_duplicated_agrees_with_pandas_on_keys_of_digits(values: list[str], repeat: bool) -> None:
    values = values + values[:2] if repeat else values  # exact keys: no value is compared itself
    s = pd.Series(values, dtype="str")
    assert identifiers.duplicated(s).tolist() == s.duplicated(keep=False).tolist()


def test_text_hashes_depend_on_the_value_alone() -> None:
    values = ["", "a", "abcdefgh", "abcdefghi", "P1", "P12345678901234567", "中文", "P2"]
    alone = [identifiers.text_hashes(pa.array([v], pa.large_string()))[0] for v in values]
    mixed = pa.array(values * 3, pa.large_string())
    assert identifiers.text_hashes(mixed).tolist() == alone * 3
    assert identifiers.text_hashes(mixed.slice(2, 10)).tolist() == (alone * 3)[2:12]
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
    assert identifiers.duplicated(s).tolist() == expected
    assert identifiers.all_distinct(s) == (not any(expected))


def test_duplicated_compares_values_whose_hashes_meet(monkeypatch: pytest.MonkeyPatch) -> None:
    weak = identifiers.text_hashes
    monkeypatch.setattr(identifiers, "text_hashes", lambda text: weak(text) % np.uint64(3))
    s = _ids(["abcdefghij", "bcdefghijk", None, "cdefghijkl", "abcdefghij", "defghijklm", None])
    assert identifiers.duplicated(s).tolist() == [True, False, False, False, True, False, False]


@PROPERTY
@given(
    st.lists(
        st.none()
        | st.text(alphabet="0123456789X x٣", max_size=20)
        | st.from_regex(r"[0-9]{17}[0-9X]", fullmatch=True)
    ),
    st.sampled_from([pa.string(), pa.large_string()]),
)
def test_whole_buffer_tests_agree_with_the_regex(values: list[str | None], kind: pa.DataType) -> None:
    arr = pa.array(["pad", *values], kind).slice(1)  # an offset into the buffer, as a block has
    shaped = identifiers.resident_id_shaped(arr)
    if shaped is not None:  # None: a byte neither digit nor X, left to Arrow
        assert shaped.tolist() == [
            v is not None and bool(re.fullmatch(r"[0-9]{17}[0-9X]", v)) for v in values
        ]
    digits = identifiers.digit_strings(arr)
    if digits is not None:
        assert digits.tolist() == [v is not None and bool(re.fullmatch(r"[0-9]+", v)) for v in values]
    if all(v is None or re.fullmatch(r"[0-9]*", v) for v in values):
        assert digits is not None


def _texts(values):
    return pa.array(values, type=pa.large_string())


def test_a_text_set_finds_exactly_its_values():
    known = identifiers.TextSet(_texts(["540102", "P12", None, "张三", "540102"]))
    probe = _texts(["540102", "540103", None, "张三", "", "P1", "P12"])
    assert known.contains(probe).tolist() == [True, False, False, True, False, False, True]
    assert not identifiers.TextSet(_texts([])).contains(probe).any()


def test_a_text_set_confirms_every_hit_on_the_text(monkeypatch):
    # Every text shares one hash: the answers must still be exact.
    monkeypatch.setattr(identifiers, "text_hashes", lambda text: np.zeros(len(text), dtype=np.uint64))
    known = identifiers.TextSet(_texts(["b", "d", "a"]))
    assert known.contains(_texts(["a", "c", "d", None, "e"])).tolist() == [True, False, True, False, False]


@given(st.lists(st.text(max_size=6), max_size=40), st.lists(st.text(max_size=6), max_size=40))
def test_a_text_set_agrees_with_a_python_set(known, probe):
    found = identifiers.TextSet(_texts(known)).contains(_texts(probe))
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
    fits, keys = identifiers.decimal_keys(_texts(values))
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
    fits, keys = identifiers.decimal_keys(_texts(values))
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
    fits, keys = identifiers.decimal_keys(_padded(values))
    assert not fits.any()
    assert not keys.any()
    fits, keys = identifiers.decimal_keys(_texts([]))
    assert len(fits) == len(keys) == 0


@PROPERTY
@given(st.lists(st.none() | DIGIT_VALUES | st.text(alphabet="09X /:", max_size=21), max_size=40), TEXT_KINDS)
def test_decimal_keys_agree_with_their_definition(values: list[str | None], kind: pa.DataType) -> None:
    fits, keys = identifiers.decimal_keys(_padded(values, kind))
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
    fits, keys = identifiers.decimal_keys(_padded(values, kind))
    shaped = [re.fullmatch(r"[0-9]*[0-9X]", v) is not None for v in values]
    assert fits.tolist() == shaped
    assert keys.tolist() == [_key_oracle(v) if ok else 0 for v, ok in zip(values, shaped, strict=True)]


def test_decimal_keys_of_many_blocks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(identifiers, "_BLOCK", 4)
    values = [
        f"{i:0{width - 1}d}{'0123456789X'[i % 11]}" for width in (18, 18, 9, 5) for i in range(width + 5)
    ]
    for column in (values[:23], values):  # one width read in place, then several
        fits, keys = identifiers.decimal_keys(_texts(column))
        assert fits.all()
        assert keys.tolist() == [_key_oracle(v) for v in column]


# Keys whose products with the golden ratio are 1, 2, 3, ...: all of them have the first home slot.
_CROWDED = [i * pow(identifiers._GOLDEN, -1, 2**64) % 2**64 for i in range(1, 200)]
# Products near 2**64: home slots at the end of the table, runs past it.
_CROWDED_HIGH = [(2**64 - i) * pow(identifiers._GOLDEN, -1, 2**64) % 2**64 for i in range(1, 200)]


@pytest.mark.parametrize("keys", [_CROWDED, _CROWDED_HIGH])
def test_a_key_set_searches_past_a_crowded_slot(keys: list[int]) -> None:
    kept = identifiers._KeySet(np.array(keys[1::2] + keys[1:20:2], dtype=np.uint64))
    assert len(kept) == len(keys[1::2])
    found = kept.contains(np.array(keys, dtype=np.uint64))
    assert found.tolist() == [i % 2 == 1 for i in range(len(keys))]


@PROPERTY
@given(st.lists(st.integers(1, 2**64 - 1), max_size=60), st.lists(st.integers(1, 2**64 - 1), max_size=30))
def test_a_key_set_agrees_with_a_python_set(known: list[int], probe: list[int]) -> None:
    probe = probe + known[::3]
    found = identifiers._KeySet(np.array(known, dtype=np.uint64)).contains(np.array(probe, dtype=np.uint64))
    assert found.tolist() == [value in set(known) for value in probe]


def test_a_text_set_looks_digits_up_as_numbers() -> None:
    known = identifiers.TextSet(
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
    assert not identifiers.TextSet(_texts([None])).contains(_texts(probe)).any()


def test_a_column_of_digits_is_never_hashed(monkeypatch: pytest.MonkeyPatch) -> None:
    hashed = []
    real = identifiers.text_hashes
    monkeypatch.setattr(
        identifiers, "text_hashes", lambda text: hashed.append(text.to_pylist()) or real(text)
    )
    known = identifiers.TextSet(_texts(["540102198802087815", "P1", "11010519491231002X"]))
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
    monkeypatch.setattr(identifiers, "text_hashes", lambda text: np.zeros(len(text), dtype=np.uint64))
    known = identifiers.TextSet(_texts(["b", "12", "a", "1X"]))
    found = known.contains(_texts(["a", "12", "c", "1X", "13", None, "b", "X1"]))
    assert found.tolist() == [True, True, False, True, False, False, True, False]


MIXED_VALUES = st.none() | DIGIT_VALUES | st.text(alphabet="09X.:a中", max_size=20)


@PROPERTY
@given(st.lists(MIXED_VALUES, max_size=40), st.lists(MIXED_VALUES, max_size=40), TEXT_KINDS, TEXT_KINDS)
def test_a_text_set_of_mixed_values_agrees_with_a_python_set(
    known: list[str | None], probe: list[str | None], known_kind: pa.DataType, probe_kind: pa.DataType
) -> None:
    probe = probe + known[::2]
    found = identifiers.TextSet(_padded(known, known_kind)).contains(_padded(probe, probe_kind))
    assert found.tolist() == [value is not None and value in set(known) for value in probe]


@PROPERTY
@given(st.lists(DIGIT_VALUES, min_size=1, max_size=40), st.lists(MIXED_VALUES, max_size=40))
def test_a_text_set_of_digits_only_agrees_with_a_python_set(
    known: list[str], probe: list[str | None]
) -> None:
    probe = probe + known[::2]
    found = identifiers.TextSet(_texts(known)).contains(_padded(probe))
    assert found.tolist() == [value is not None and value in set(known) for value in probe]


def test_the_hashes_of_a_column_hashed_again_are_the_ones_kept():
    import pyarrow as pa

    from audit import identifiers

    text = pa.array(["P-000001", "P-000002", "a longer key 3"], type=pa.large_string())
    first = identifiers.text_hashes(text)
    assert identifiers.text_hashes(text) is first  # the same buffers: not hashed again
    assert identifiers.text_hashes(text.slice(1)) is not first  # another range of them is another column
    assert identifiers.text_hashes(text.slice(1)).tolist() == first[1:].tolist()
    copy = pa.array(text.to_pylist(), type=pa.large_string())
    assert (
        identifiers.text_hashes(copy) is not first
        and identifiers.text_hashes(copy).tolist() == first.tolist()
    )
    assert not first.flags.writeable  # shared by the callers: none may change it
    for i in range(identifiers._HASHED_KEPT + 1):
        identifiers.text_hashes(pa.array([f"other {i}"], type=pa.large_string()))
    assert len(identifiers._HASHED) == identifiers._HASHED_KEPT
