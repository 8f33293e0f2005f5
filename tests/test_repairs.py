"""Repairs of spreadsheet damage: headers, totals rows, and values by contract kind."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from audit import repairs, textkeys
from audit.datacontract import TABLES


def _repair(table: str, column: str, values: list) -> repairs.Repaired:
    return repairs.repair(TABLES[table].column(column), pd.Series(values, dtype="str"))


def _rows(mask: np.ndarray) -> list[int]:
    return np.flatnonzero(mask).tolist()


def test_ids_are_cleaned_and_numbers_that_lost_digits_rejected():
    out = _repair(
        "beneficiaries",
        "person_id",
        ["'540102198001010017", "54010219880808018x", "５４０１０２１９８００１０１００１７", "5.40102E+17",
         "540102198001010017.0", " 540102198001010017 "],
    )  # fmt: skip
    assert out.values.tolist()[:3] == ["540102198001010017", "54010219880808018X", "540102198001010017"]
    assert out.values.tolist()[5] == "540102198001010017"
    assert str(out.values.dtype) == "str"
    assert _rows(out.failures[repairs.DIGITS_LOST]) == [3, 4]
    assert _rows(out.repairs[repairs.APOSTROPHE]) == [0]
    assert _rows(out.repairs[repairs.LOWER_X]) == [1]
    assert _rows(out.repairs[repairs.FULL_WIDTH]) == [2]
    assert _rows(out.repairs[repairs.TRIMMED]) == [5]


def test_amounts_written_as_text():
    out = _repair(
        "relief_payments",
        "amount_yuan",
        ["1,234.50", "￥1234.5", "1234.5元", "１２３４．５", "12.340", "12.345", "abc", None],
    )
    assert out.values.tolist()[:5] == [1234.5, 1234.5, 1234.5, 1234.5, 12.34]
    assert np.isnan(out.values[7])
    assert _rows(out.failures[repairs.TOO_MANY_DECIMALS]) == [5]
    assert _rows(out.failures[repairs.NOT_AMOUNT]) == [6]
    assert _rows(out.repairs[repairs.AMOUNT_TEXT]) == [0, 1, 2]


def test_dates_in_every_format():
    out = _repair(
        "relief_payments",
        "paid_on",
        ["2020-05-07", "2020/5/7", "2020.05.07", "2020年5月7日", "43958", "20200507", "2020-05-07 00:00:00",
         "2020-05-07 14:30:00", "2020-02-30", "7", None],
    )  # fmt: skip
    assert str(out.values.dtype) == "datetime64[us]"
    assert out.values[:8].tolist() == [pd.Timestamp("2020-05-07")] * 8
    assert out.values[8:].isna().all()
    assert _rows(out.failures[repairs.NOT_DATE]) == [8, 9]
    assert _rows(out.repairs[repairs.DATE_SERIAL]) == [4]
    assert _rows(out.repairs[repairs.DATE_TEXT]) == [1, 2, 3, 5, 7]
    assert _rows(out.repairs[repairs.TIME_DROPPED]) == [7]


def test_excel_serial_60_is_a_day_that_never_existed():
    out = _repair("relief_payments", "paid_on", ["1900-02-29", "60", "1900年2月29日", "1900-02-28", "59"])
    assert _rows(out.failures[repairs.PHANTOM_DATE]) == [0, 1, 2]
    assert _rows(out.failures[repairs.NOT_DATE]) == [4]  # a small number is a typing error, as before
    assert out.values[3] == pd.Timestamp("1900-02-28")
    assert out.values[:3].isna().all()


def test_typed_dates_keep_the_day():
    out = repairs.repair(
        TABLES["contracts"].column("signed_on"), pd.Series(pd.to_datetime(["2020-01-05 08:00", None]))
    )
    assert out.values.tolist()[0] == pd.Timestamp("2020-01-05")
    assert str(out.values.dtype) == "datetime64[us]"
    assert _rows(out.repairs[repairs.TIME_DROPPED]) == [0]


def test_months():
    out = _repair(
        "relief_payments",
        "period",
        ["2020-05", "2020/5", "2020年5月", "202005", "2020-05-01", "43952", "2020-13", "2020-05-07"],
    )
    assert out.values.tolist()[:6] == ["2020-05"] * 6
    assert _rows(out.failures[repairs.NOT_MONTH]) == [6, 7]


def test_yes_no_variants():
    out = _repair(
        "offices",
        "dedicated_officer",
        ["是", "否", "有", "无", "Y", "N", "yes", "NO", "1", "0", "TRUE", "false", "maybe", None],
    )
    assert out.values.tolist()[:12] == [True, False] * 6
    assert str(out.values.dtype) == "bool"
    assert _rows(out.failures[repairs.NOT_FLAG]) == [12]
    assert _rows(out.failures[repairs.MISSING]) == [13]


def test_counts_and_choices():
    sizes = _repair("beneficiaries", "household_size", ["3", "3.0", "3人", "３", "2.5"])
    assert sizes.values.tolist()[:4] == [3, 3, 3, 3]
    assert str(sizes.values.dtype) == "int64"
    assert _rows(sizes.failures[repairs.NOT_WHOLE]) == [4]
    levels = _repair("divisions", "level", ["County", " town ship", "city"])
    assert levels.values.tolist() == ["county", "township", "city"]  # city stays: the schema rejects it


def test_totals_and_blank_rows():
    frame = pd.DataFrame(
        {0: ["1", "", "合 计", "", ""], 1: ["F1", "", "", "本页合计", " "], 2: ["5", " ", "9", "", ""]},
        dtype="str",
    )
    assert _rows(repairs.blank_rows(frame)) == [1, 4]
    assert _rows(repairs.totals_rows(frame, key_columns=[1])) == [2, 3]


def test_header_below_title_rows_and_under_group_labels():
    rows = [
        ["2020年救助金发放明细表", "", "", ""],
        ["", "", "", ""],
        ["流水号", "救助对象", "", "发放"],
        ["", "身份证号", "户编号", "发放金额"],
        ["F1", "540102198001010017", "H1", "100"],
    ]
    found = repairs.locate_header("relief_payments", rows)  # neither row alone names half the columns
    assert (found.first, found.count) == (2, 2)
    assert found.labels == ("流水号", "身份证号", "户编号", "发放金额")
    assert repairs.locate_header("relief_payments", rows[:3]) is None
    rows[2] = ["流水号", "救助对象", "", "", "", "", "发放", ""]
    rows[3] = ["", "身份证号", "户编号", "救助类别", "所属期", "银行账号", "发放金额", "发放日期"]
    found = repairs.locate_header("relief_payments", rows)
    assert (found.first, found.count, found.data_start) == (2, 2, 4)
    assert found.labels == (
        "流水号",
        "身份证号",
        "户编号",
        "救助类别",
        "所属期",
        "银行账号",
        "发放金额",
        "发放日期",
    )


def test_header_mapping_accepts_every_spelling_and_reports_the_rest():
    mapping = repairs.map_headers(
        "relief_payments",
        [
            "序号",
            "Payment ID",
            "身份\n证号",
            "户编号*",
            "救助类别",
            "所属期",
            "发放金额(元)",
            "发放日期",
            "备注",
        ],
    )
    assert mapping.positions == {
        "payment_id": 1, "person_id": 2, "household_id": 3, "programme": 4, "period": 5, "amount_yuan": 6,
        "paid_on": 7,
    }  # fmt: skip
    assert mapping.ignored == ("序号", "备注")
    assert mapping.missing == ("bank_account",)
    assert repairs.map_headers("staff", ["县（区）代码"]).positions == {"county_code": 0}


def _same(a: repairs.Repaired, b: repairs.Repaired) -> None:
    pd.testing.assert_series_equal(a.values, b.values)
    assert {k: _rows(m) for k, m in a.repairs.items()} == {k: _rows(m) for k, m in b.repairs.items()}
    assert {k: _rows(m) for k, m in a.failures.items()} == {k: _rows(m) for k, m in b.failures.items()}


def test_a_dictionary_as_read_gives_the_same_repairs():
    import pyarrow as pa

    cases = {
        ("relief_payments", "programme"): ["城市低保", " 农村低保", None, "城市低保", "低保"],
        ("relief_payments", "period"): ["2020-01", "2020/2", None, "2020年3月", "13月", "2020-01"],
        ("relief_payments", "paid_on"): ["2020-01-10", "2020/1/10", "", None, "43831", "x"],
        ("relief_payments", "county_code"): ["540102", "540102 ", None, "540103"],
    }
    for (table, name), values in cases.items():
        column = TABLES[table].column(name)
        series = pd.Series(values, dtype="str")
        # The dictionary holds a value no row uses, dirty or not: it must change nothing.
        for extra in ("540104", " unused "):
            encoded = pa.array([*values, extra], type=pa.string()).dictionary_encode().slice(0, len(values))
            _same(repairs.repair(column, series, encoded), repairs.repair(column, series))


def test_quick_tests_agree_with_the_full_ones():
    import pyarrow as pa
    import pyarrow.compute as pc

    values = ["12.5", "1234567890123", "1.", ".5", "12.345", "007", "", None, "1..2", "3.14", "¥12", " 1"]
    arr = pa.array(values, type=pa.string())
    regex = pc.fill_null(pc.match_substring_regex(arr, r"^\d{1,12}(?:\.\d{1,2})?$"), False)
    assert repairs._clean_values(arr, repairs.Kind.AMOUNT).tolist() == regex.to_pylist()
    text = ["a", " ", "\u3000", "", None, "合计", "x y"]
    assert repairs.blank_values(pd.Series(text, dtype="str")).tolist() == [0, 1, 1, 1, 1, 0, 0]
    assert repairs.blank_values(pd.Series(["a", "", None], dtype="str")).tolist() == [0, 1, 1]


@settings(max_examples=300, deadline=None)
@given(
    values=st.lists(st.one_of(st.none(), st.text(alphabet="0123456789.", max_size=16)), max_size=40),
    start=st.integers(0, 3),
)
def test_amounts_of_digits_and_points_are_told_clean_as_the_regex_tells(values, start):
    import pyarrow as pa
    import pyarrow.compute as pc

    arr = pa.array(["1", "2.5", "..", None][:start] + values, type=pa.large_string()).slice(start)
    regex = pc.fill_null(pc.match_substring_regex(arr, r"^\d{1,12}(?:\.\d{1,2})?$"), False)
    assert repairs._surely_amounts(arr).tolist() == regex.to_pylist()
    assert repairs._clean_values(arr, repairs.Kind.AMOUNT).tolist() == regex.to_pylist()


def test_amounts_with_points_only_where_they_belong_are_read_without_locating_each_byte():
    import pyarrow as pa

    arr = pa.array(["12.5", "7", "1234567890123.4", None, "0.05", "1.2"])
    offsets, raw = textkeys.string_bytes(arr)
    others = int(np.count_nonzero((raw - np.uint8(48)) > 9))
    assert repairs._plain_amounts(offsets[1:], np.diff(offsets), raw, others).tolist() == [
        True, True, False, False, True, True
    ]  # fmt: skip
    misplaced = pa.array(["12.5", "1.234"])
    offsets, raw = textkeys.string_bytes(misplaced)
    assert repairs._plain_amounts(offsets[1:], np.diff(offsets), raw, 2) is None


def test_header_synonyms_map_through_the_alias_table():
    labels = ["流水号", "身份证号码", "户号", "救助类别", "发放月份", "发放金额", "发放时间", "银行卡号"]
    mapping = repairs.map_headers("relief_payments", labels)
    assert mapping.positions == {
        "payment_id": 0, "person_id": 1, "household_id": 2, "programme": 3, "period": 4,
        "amount_yuan": 5, "paid_on": 6, "bank_account": 7,
    }  # fmt: skip
    assert mapping.missing == () and mapping.ignored == () and mapping.scales == {}


def test_an_amount_in_ten_thousand_yuan_gets_its_factor_and_twins_are_recorded():
    labels = ["指标文号", "县区代码", "资金来源", "用途", "金额（万元）", "下达日期", "县(区)代码"]
    mapping = repairs.map_headers("fund_allocations", labels)
    assert mapping.positions["amount_yuan"] == 4
    assert mapping.scales == {"amount_yuan": 10_000.0}
    assert mapping.twins == {"county_code": ((6, "县(区)代码"),)}
    assert repairs.column_of("fund_allocations", "用途（万元）") == (None, 1.0)  # not an amount
    assert repairs.locate_header("fund_allocations", [labels]).labels == tuple(labels)
