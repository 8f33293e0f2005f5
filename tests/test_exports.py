"""Safe CSV and xlsx: formulas neutralised, IDs kept as text, the same bytes every run."""

from __future__ import annotations

import hashlib
import time

import numpy as np
import pandas as pd
import pytest
from python_calamine import CalamineWorkbook

from audit.exports import neutralise, neutralise_text, write_csv, write_xlsx


@pytest.mark.parametrize(
    ("value", "safe"),
    [
        ("=1+1", "'=1+1"),
        ("+86 891", "'+86 891"),
        ("-2", "'-2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("540102199001011234", "540102199001011234"),
        ("扎西", "扎西"),
        ("a=b", "a=b"),
        ("", ""),
    ],
)
def test_neutralise(value, safe):
    assert neutralise(value) == safe


def test_neutralise_text_keeps_missing_values():
    out = neutralise_text(pd.Series(["=x", None, "ok"], dtype="str"))
    assert out.tolist()[0] == "'=x" and out.isna().tolist() == [False, True, False]


def _frame():
    return pd.DataFrame(
        {
            "id": pd.Series(["540102199001011234", "0012", "=cmd|' /C calc'!A0"], dtype="str"),
            "amount": pd.Series([1.5, np.nan, -3.0], dtype="float64"),
            "count": pd.Series([1, 2, 3], dtype="int64"),
            "flag": pd.Series([True, False, True], dtype="bool"),
            "day": pd.Series(pd.to_datetime(["2020-05-07", None, "2020-01-01"])).astype("datetime64[us]"),
        }
    )


def test_csv_is_utf8_with_bom_crlf_and_neutralised(tmp_path):
    path = write_csv(_frame(), tmp_path / "x.csv")
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    assert raw.decode("utf-8-sig").split("\r\n")[:4] == [
        "id,amount,count,flag,day",
        "540102199001011234,1.50,1,true,2020-05-07",
        "0012,,2,false,",
        "'=cmd|' /C calc'!A0,-3.00,3,true,2020-01-01",
    ]


def test_xlsx_keeps_ids_as_text_numbers_as_numbers(tmp_path):
    path = write_xlsx({"表": _frame()}, tmp_path / "x.xlsx")
    rows = CalamineWorkbook.from_path(str(path)).get_sheet_by_name("表").to_python()
    assert rows[0] == ["id", "amount", "count", "flag", "day"]
    assert rows[1][:3] == ["540102199001011234", 1.5, 1.0]
    assert rows[2][0] == "0012" and rows[2][1] == ""
    assert rows[3][0] == "'=cmd|' /C calc'!A0"
    assert rows[3][1] == -3.0  # a negative number is a number, not a formula


def test_xlsx_bytes_do_not_depend_on_the_clock(tmp_path):
    first = write_xlsx({"a": _frame()}, tmp_path / "1.xlsx")
    time.sleep(1.1)  # zip entries and document properties carry seconds
    second = write_xlsx({"a": _frame()}, tmp_path / "2.xlsx")
    assert hashlib.sha256(first.read_bytes()).digest() == hashlib.sha256(second.read_bytes()).digest()
