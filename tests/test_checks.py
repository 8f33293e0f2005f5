"""Tests of the check functions the schemas are made of, and of their bilingual messages."""

from __future__ import annotations

import inspect
import string

import numpy as np
import pandas as pd
import pytest

from audit import checks, textkeys


def _s(values: list[object], dtype: str = "str") -> pd.Series:
    return pd.Series(values, dtype=dtype)


def test_resident_id_passes_missing_values() -> None:
    out = checks.resident_id(_s(["540102198507150017", "540102198507150018", None]))
    assert out.tolist() == [True, False, True]


def test_uscc() -> None:
    assert checks.uscc(_s(["91110000600037341L", "91110000600037341M", None])).tolist() == [True, False, True]


def test_luhn_and_digits() -> None:
    s = _s(["79927398713", "79927398710", "7992739871a", None])
    assert checks.luhn(s).tolist() == [True, False, True, True]  # not digits: the digits check reports it
    assert checks.digits(s).tolist() == [True, True, False, True]


def test_division_code() -> None:
    assert checks.division_code(_s(["540102", "540102001", "54010", None])).tolist() == [
        True,
        True,
        False,
        True,
    ]


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("2020-01", True),
        ("2020-12", True),
        ("2020-13", False),
        ("2020-00", False),
        ("2020-1", False),
        ("2020/01", False),
        ("202001", False),
        ("2020-01-01", False),
        ("２０２０-01", False),
        (" 2020-01", False),
    ],
)
def test_month(value: str, ok: bool) -> None:
    assert checks.month(_s([value])).tolist() == [ok]


def test_month_passes_missing_values() -> None:
    assert checks.month(_s([None, "2020-05"])).tolist() == [True, True]


def test_cents() -> None:
    s = _s([1234.5, 0.1 + 0.2, 1e9 + 0.01, 1234.567, 0.001, np.inf, np.nan, -12.34], dtype="float64")
    assert checks.cents(s).tolist() == [True, True, True, False, False, False, True, True]


def test_cents_when_every_value_is_whole_fen() -> None:
    s = _s([1234.5, 0.1 + 0.2, 1e9 + 0.01, -12.34, 0.0], dtype="float64")
    assert checks.cents(s).tolist() == [True] * 5
    assert checks.cents(_s([], dtype="float64")).tolist() == []
    assert checks.cents(_s([1.0, None], dtype="Float64")).tolist() == [True, True]


def test_finite() -> None:
    s = _s([0.0, 12.5, np.inf, -np.inf, np.nan], dtype="float64")
    assert checks.finite(s).tolist() == [True, True, False, False, True]


def test_one_of_and_at_least() -> None:
    assert checks.one_of(_s(["本科", "大学", None]), allowed=("本科", "大专")).tolist() == [True, False, True]
    for dtype in ("string", object):
        out = checks.one_of(_s(["本科", "大学", None], dtype=dtype), allowed=("本科", "大专"))
        assert out.tolist() == [True, False, True]
    assert checks.at_least(_s([0.0, -0.01, np.nan], dtype="float64"), minimum=0).tolist() == [
        True,
        False,
        True,
    ]
    assert checks.at_least(_s([1, 0], dtype="int64"), minimum=1).tolist() == [True, False]


def test_dates_ordered() -> None:
    df = pd.DataFrame(
        {
            "hired_on": pd.to_datetime(["2020-01-01", "2020-03-01", "2020-03-01", None]).astype(
                "datetime64[us]"
            ),
            "left_on": pd.to_datetime(["2020-06-30", "2020-02-29", None, "2020-01-01"]).astype(
                "datetime64[us]"
            ),
        }
    )
    assert checks.dates_ordered(df, columns=("hired_on", "left_on")).tolist() == [True, False, True, True]


def test_division_parent_and_level() -> None:
    df = pd.DataFrame(
        {
            "division_code": _s(["540102", "540102001", "540102001", "540221", "540102", None]),
            "parent_code": _s(["540100", "540102", "540103", "540200", "540102", "540100"]),
            "level": _s(["county", "township", "township", "county", "township", "county"]),
        }
    )
    cols = ("division_code", "parent_code")
    # 540221 is a county of another prefecture: its GB/T 2260 parent is right, but not Lhasa.
    lhasa = checks.division_parent(df, columns=cols, city_code="540100")
    assert lhasa.tolist() == [True, True, False, False, False, True]
    # The city is a parameter: for 日喀则 (540200) it is Lhasa's counties that are wrong; with no
    # city given, any city-level parent (dddd00) is taken.
    shigatse = checks.division_parent(df, columns=cols, city_code="540200")
    assert shigatse.tolist() == [False, True, False, True, False, True]
    assert checks.division_parent(df, columns=cols).tolist() == [True, True, False, True, False, True]
    levels = checks.division_level(df, columns=("division_code", "level")).tolist()
    assert levels == [True, True, True, True, False, True]


def test_reference_checks() -> None:
    known = _s(["C1", "C2", None])
    assert checks.contract_known(_s(["C1", "C3", None]), known=known).tolist() == [True, False, True]


def test_every_check_has_both_messages_from_its_docstring() -> None:
    named = {**checks.COLUMN_CHECKS, **checks.FRAME_CHECKS, **checks.REFERENCE_CHECKS}
    for name, fn in named.items():
        en, zh = checks.MESSAGES[name]
        assert en == inspect.getdoc(fn).splitlines()[0], name
        assert zh and zh != en, name
    assert {"column_missing", "dtype", "not_null", "unique"} <= set(checks.MESSAGES)


def test_messages_name_the_same_fields_in_both_languages() -> None:
    def fields(text: str) -> set[str]:
        return {name for _, name, _, _ in string.Formatter().parse(text) if name}

    for name, (en, zh) in checks.MESSAGES.items():
        assert fields(en) - {"first", "last"} == fields(zh) - {"first_zh", "last_zh"}, name


def test_message_fills_fields() -> None:
    en, zh = checks.message(
        "dates_ordered", first="hired_on", last="left_on", first_zh="到岗日期", last_zh="离岗日期"
    )
    assert en == "left_on is before hired_on."
    assert zh == "离岗日期早于到岗日期。"
    assert checks.message("at_least", minimum="1") == ("Less than 1.", "小于 1。")


def test_a_list_of_known_values_is_hashed_once_for_every_slice_checked_against_it(monkeypatch):
    built = []
    real = textkeys.TextSet.__init__

    def counting(self, values):
        built.append(len(values))
        real(self, values)

    monkeypatch.setattr(textkeys.TextSet, "__init__", counting)
    roll = pd.DataFrame({"person_id": pd.Series([f"P{i}" for i in range(50)], dtype="str")})
    payments = pd.Series([f"P{i}" for i in range(45, 55)] + [None], dtype="str")
    for part in (payments[:5], payments[5:]):
        known = roll["person_id"]  # a new Series object each time, on the same buffers
        expected = part.isin(roll["person_id"]) | part.isna()
        assert checks.on_roll(part, known=known).tolist() == expected.tolist()
    assert built == [50]


def test_kept_lookup_sets_can_be_dropped():
    known = pd.Series(["P1", "P2"], dtype="str")
    checks.on_roll(pd.Series(["P1"], dtype="str"), known=known)
    assert checks._TEXT_SETS
    checks.forget_known()
    assert not checks._TEXT_SETS


def test_reference_checks_of_resident_ids_chunked_and_sliced():
    # Series made of two chunks, the first read at an offset, as slices of a parquet table are.
    roll = pd.concat(
        [_s(["pad", "540102198802087815", "5.40121E+17", None]).iloc[1:], _s(["54010219880208781X"])]
    )
    payments = pd.concat(
        [_s(["pad", "540102198802087815", None]), _s(["54010219880208781X", "540102198802087816"])]
    )
    payments = pd.concat([payments, _s(["5.40121E+17", "54010219880208781x"])]).iloc[1:]
    expected = [True, True, True, False, True, False]
    assert (payments.isin(roll.dropna()) | payments.isna()).tolist() == expected
    assert checks.on_roll(payments, known=roll).tolist() == expected
    assert checks.on_roll(payments.iloc[2:4], known=roll).tolist() == expected[2:4]
    checks.forget_known()


def test_posts_known_by_codes_of_two_widths():
    known = _s(["540102001", "540102002", "540100"])
    posts = _s(["540102001", "540100", "540102003", "540101", "0540100", None, "54010200１"])
    assert checks.post_known(posts, known=known).tolist() == [True, True, False, False, False, True, False]
    checks.forget_known()
