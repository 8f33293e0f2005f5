"""The rectification list: sheets per area, validated fill-in columns, print layout, read back."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import zipfile

import pandas as pd
import pytest
from python_calamine import CalamineWorkbook

from audit.exceptions import FollowUpError
from audit.exports import write_xlsx
from audit.rectification import (
    Prefill,
    column_letter,
    read_rectification_list,
    write_rectification_list,
)
from fixtures.rule_tables import params, small_register

P = params()


@pytest.fixture(scope="module")
def register():
    return small_register(P)


def _sheet_xml(path, number):
    with zipfile.ZipFile(path) as z:
        return z.read(f"xl/worksheets/sheet{number}.xml").decode("utf-8")


def test_same_inputs_give_byte_identical_lists(tmp_path):
    one = write_rectification_list(small_register(P), tmp_path / "one.xlsx", P)
    two = write_rectification_list(small_register(P), tmp_path / "two.xlsx", P)
    assert hashlib.sha256(one.read_bytes()).digest() == hashlib.sha256(two.read_bytes()).digest()


def test_one_sheet_per_area_with_text_ids_and_whole_numbers(tmp_path, register):
    path = write_rectification_list(register, tmp_path / "list.xlsx", P)
    book = CalamineWorkbook.from_path(str(path))
    assert book.sheet_names == ["C 购买服务合同与资金", "S 乡镇人员配备", "F 救助资金使用"]
    c = book.get_sheet_by_name("C 购买服务合同与资金").to_python()
    assert c[0][:4] == ["序号", "发现编号", "规则", "问题类型"]
    assert c[0][11:18] == [
        "核实状态",
        "整改措施",
        "责任单位",
        "整改时限",
        "整改情况（说明）",
        "证据文件",
        "经办人",
    ]
    ids = sorted((row[2], row[8]) for row in c[1:])
    assert ids == [  # text, never 12; no formula
        ("C1", "0012"),
        ("C10", "'=1+1"),  # signed before the plan's approval (the default contract's date)
        ("C10", "0012"),
        ("C9", "'=1+1"),
        ("C9", "0012"),
    ]
    assert all(isinstance(row[1], str) for row in c[1:])
    f = book.get_sheet_by_name("F 救助资金使用").to_python()
    assert [row[2] for row in f[1:]] == ["F3"]
    assert f[1][4] == "高"
    # 序号 is a whole number shown as 1, not 1.00
    styles = zipfile.ZipFile(path).read("xl/styles.xml").decode()
    number_style = int(re.search(r'<c r="A2" s="(\d+)"', _sheet_xml(path, 1)).group(1))
    xfs = re.search(r"<cellXfs[^>]*>(.*?)</cellXfs>", styles, re.S).group(1)
    xf = re.findall(r"<xf [^>]*>", xfs)[number_style]
    assert 'numFmtId="1"' in xf


def test_fill_in_columns_have_a_status_drop_down_and_a_date_rule(tmp_path, register):
    path = write_rectification_list(register, tmp_path / "list.xlsx", P)
    xml = _sheet_xml(path, 1)
    drop = re.search(
        r'<dataValidation type="list"[^>]*sqref="L2:L\d+"[^>]*>.*?<formula1>(.*?)</formula1>', xml
    )
    assert drop and drop.group(1) == '"待核实,属实,排除,整改中,已整改"'
    assert re.search(r'<dataValidation type="date"[^>]*sqref="O2:O\d+"', xml)


def test_it_prints_on_a4_landscape_one_page_wide_with_the_header_on_every_page(tmp_path, register):
    path = write_rectification_list(register, tmp_path / "list.xlsx", P)
    xml = _sheet_xml(path, 1)
    setup = re.search(r"<pageSetup [^>]*/>", xml).group(0)
    assert 'paperSize="9"' in setup and 'orientation="landscape"' in setup and 'fitToHeight="0"' in setup
    assert '<pageSetUpPr fitToPage="1"/>' in xml
    workbook = zipfile.ZipFile(path).read("xl/workbook.xml").decode()
    assert "_xlnm.Print_Titles" in workbook and "$1:$1" in workbook
    assert re.search(
        r"_xlnm.Print_Area[^>]*>[^<]*\$A\$1:\$R\$\d+", workbook
    )  # up to 经办人, not the evidence


def test_in_english_the_drop_down_uses_english_labels(tmp_path, register):
    path = write_rectification_list(register, tmp_path / "list.xlsx", P, lang="en")
    book = CalamineWorkbook.from_path(str(path))
    assert book.sheet_names[0] == "C contracts and funding"
    assert book.get_sheet_by_name("S staff coverage").to_python()[0][1] == "Finding ID"
    assert '"to verify,confirmed,excluded,rectifying,rectified"' in _sheet_xml(path, 1)


def test_a_prefilled_list_reads_back_as_written(tmp_path, register):
    first = register["finding_id"].iloc[0]
    prefill = {
        first: Prefill(status="整改中", unit="城关区民政局", deadline=dt.date(2021, 6, 30), action="追回")
    }
    path = write_rectification_list(register, tmp_path / "list.xlsx", P, prefill=prefill)
    rows = {r.finding_id: r for r in read_rectification_list(path)}
    assert set(rows) == set(register["finding_id"])
    row = rows[first]
    assert (row.status, row.unit, row.deadline, row.action) == (
        "整改中",
        "城关区民政局",
        dt.date(2021, 6, 30),
        "追回",
    )
    assert row.sheet == "C 购买服务合同与资金" and row.row == 2
    assert row.columns["deadline"] == "O"
    others = [r for f, r in rows.items() if f != first]
    assert all(r.status == "" and r.deadline is None for r in others)


def test_a_list_that_is_not_a_rectification_list_is_refused_with_its_location(tmp_path):
    path = write_xlsx({"Sheet1": pd.DataFrame({"a": ["1"]})}, tmp_path / "other.xlsx")
    with pytest.raises(FollowUpError, match=r"other.xlsx, sheet Sheet1, row 1: not a 整改清单 sheet"):
        read_rectification_list(path)


def test_column_letters():
    assert [column_letter(i) for i in (0, 11, 25, 26, 27, 701, 702)] == [
        "A",
        "L",
        "Z",
        "AA",
        "AB",
        "ZZ",
        "AAA",
    ]


def test_an_id_of_digits_only_stays_text_with_its_leading_zero(tmp_path, register):
    digits = register.assign(finding_id=[f"{i:016d}" for i in range(len(register))])
    path = write_rectification_list(digits, tmp_path / "list.xlsx", P)
    back = sorted(r.finding_id for r in read_rectification_list(path))
    assert back == sorted(digits["finding_id"]) and back[0] == "0000000000000000"


def test_the_basis_quotes_the_plan_and_figures_of_the_parameters(tmp_path, register):
    path = write_rectification_list(register, tmp_path / "list.xlsx", P)
    c = CalamineWorkbook.from_path(str(path)).get_sheet_by_name("C 购买服务合同与资金").to_python()
    basis = {row[2]: row[c[0].index("依据")] for row in c[1:]}
    assert basis["C1"] == (
        "拉萨市2020年政府购买基层社会救助服务方案（承接主体为社会组织、劳务公司）；"
        "财政部令第102号《政府购买服务管理办法》；GB 32100-2015"
    )
