"""Tests of the vectorised identifier checks, by hand and against python-stdnum as the oracle."""

from __future__ import annotations

import datetime as dt
import re

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


@PROPERTY
@given(
    st.lists(
        st.none()
        | st.text(alphabet="0123456789X x٣", max_size=20)
        | st.from_regex(r"[0-9]{17}[0-9X]", fullmatch=True)
    ),
    st.sampled_from([pa.string(), pa.large_string()]),
)
def test_whole_buffer_shape_agrees_with_the_regex(values: list[str | None], kind: pa.DataType) -> None:
    arr = pa.array(["pad", *values], kind).slice(1)  # an offset into the buffer, as a block has
    shaped = identifiers.resident_id_shaped(arr)
    if shaped is not None:  # None: a byte neither digit nor X, left to Arrow
        assert shaped.tolist() == [
            v is not None and bool(re.fullmatch(r"[0-9]{17}[0-9X]", v)) for v in values
        ]
