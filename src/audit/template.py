"""Blank workbooks for county bureaus to fill, one per table, written from the data contract.

Damage prevented at the source: each workbook has the table's Chinese headers in row 1,
each column's rule as a comment on its header, drop-down lists for choice and yes/no
columns, ID, code and account columns formatted as text (so Excel cannot turn an 18-digit
ID into 5.40102E+17), date columns as dates and amounts as numbers, with data validation
that stops a wrong value as it is typed. A workbook filled in Excel ingests with no repair.
``audit template --out DIR`` writes them with a short README in Chinese.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from pathlib import Path

import pandas as pd
import xlsxwriter

from audit.datacontract import TABLES, Column, Kind
from audit.exceptions import InputError
from audit.limits import MAX_SHEET_ROWS

KIND_RULES: dict[Kind, str] = {
    Kind.CODE: "区划代码：县区6位，乡镇（街道）9位；按文本填写",
    Kind.ID_NUMBER: "18位公民身份号码，末位可为X；按文本填写，不要转成数字（否则末几位会丢失）",
    Kind.USCC: "18位统一社会信用代码；按文本填写",
    Kind.TEXT: "文本",
    Kind.KEY: "编号：字母、数字、-、_、/；按文本填写",
    Kind.CHOICE: "从下拉列表中选择",
    Kind.DATE: "日期，如2020-05-07（单元格已设为日期格式）",
    Kind.MONTH: "月份，按文本填写为YYYY-MM，如2020-05",
    Kind.AMOUNT: "金额，单位元，最多两位小数",
    Kind.COUNT: "整数",
    Kind.NUMBER: "数字",
    Kind.FLAG: "从下拉列表中选择：是 / 否",
    Kind.ACCOUNT: "银行账号，仅数字；按文本填写",
}
"""What a county bureau is told about each kind of column, in its header's comment."""

_TEXT_KINDS = frozenset({Kind.CODE, Kind.ID_NUMBER, Kind.USCC, Kind.TEXT, Kind.KEY, Kind.CHOICE,
                         Kind.MONTH, Kind.FLAG, Kind.ACCOUNT})  # fmt: skip
_YES_NO = ("是", "否")
FIRST_DAY, LAST_DAY = dt.date(1900, 1, 1), dt.date(2100, 12, 31)

README = """数据报送模板说明

本文件夹中的每个工作簿对应数据规范中的一张表，文件名即表名（如 relief_payments.xlsx 为“救助金发放明细”）。
填写时请注意：

1. 第一行为表头，请勿修改、删除或调整顺序；将鼠标移到表头单元格上可看到该列的填写规则。
2. 身份证号、银行账号、区划代码、编号等列已设为文本格式，请直接输入或“选择性粘贴—数值”粘贴，
   不要改为数字格式，否则18位号码的末几位会丢失（显示为5.40102E+17）。
3. 日期列已设为日期格式，请按2020-05-07的形式输入；月份列按文本输入为2020-05。
4. 带下拉箭头的列请从下拉列表中选择，不要自行输入其他写法。
5. 金额单位为元，最多保留两位小数；请勿在表格底部添加“合计”行，也不要合并单元格。
6. 可按县区分多个工作表填写（工作表以县区代码命名，如540102），表头保持一致。
7. 填好后将整个文件夹报送；报送前可运行 audit validate 文件夹 检查。

各表及各列的完整说明见 docs/data-contract.md。
"""


def rule_text(column: Column) -> str:
    """The rule of one column as its header's comment: kind, choices, bounds, required, unique."""
    lines = [f"{column.zh}（{column.name}）", KIND_RULES[column.kind]]
    if column.choices:
        lines.append("可选：" + "、".join(column.choices))
    if column.minimum is not None:
        lines.append(f"不小于{column.minimum:g}")
    if column.unique:
        lines.append("不得重复")
    if column.nullable:
        lines.append("可为空")
    elif column.required:
        lines.append("必填")
    else:
        lines.append("可不填（可由其他列推出）")
    return "\n".join(lines)


def choices(column: Column) -> tuple[str, ...]:
    """The values of a column's drop-down list (none for a column without one)."""
    if column.kind is Kind.FLAG:
        return _YES_NO
    return column.choices


def write_template(
    table: str, path: Path, rows: Sequence[Mapping[str, object]] = (), *, sheet: str | None = None
) -> Path:
    """Write the blank workbook of ``table`` to ``path``; ``rows`` fill it as Excel would store
    what a person types into it (a test's way of filling the template)."""
    spec = TABLES[table]
    book = xlsxwriter.Workbook(path, {"strings_to_numbers": False, "strings_to_formulas": False})
    try:
        header = book.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True})
        formats = {
            "text": book.add_format({"num_format": 49}),  # Excel's own "@" (text)
            "date": book.add_format({"num_format": "yyyy-mm-dd"}),
            "amount": book.add_format({"num_format": "0.00"}),
            "count": book.add_format({"num_format": "0"}),
            "number": book.add_format({"num_format": "General"}),
        }
        ws = book.add_worksheet(sheet or spec.zh)
        ws.freeze_panes(1, 0)
        last = MAX_SHEET_ROWS - 1
        for c, column in enumerate(spec.columns):
            kind = _format_of(column.kind)
            ws.set_column(c, c, _width(column), formats[kind])
            ws.write_string(0, c, column.zh, header)
            ws.write_comment(0, c, rule_text(column), {"x_scale": 2.2, "y_scale": 1.6})
            validation = _validation(column)
            if validation is not None:
                ws.data_validation(1, c, last, c, validation)
        for r, row in enumerate(rows, start=1):
            for c, column in enumerate(spec.columns):
                _write(ws, r, c, column, row.get(column.name), formats)
    finally:
        book.close()
    return path


def write_templates(out: Path, tables: Sequence[str] | None = None) -> list[Path]:
    """Every submitted table's blank workbook and the README into ``out``; the files written."""
    out.mkdir(parents=True, exist_ok=True)
    names = [t for t, spec in TABLES.items() if not spec.reference] if tables is None else list(tables)
    unknown = [t for t in names if t not in TABLES]
    if unknown:
        raise InputError(f"unknown table(s) {', '.join(unknown)}; allowed: {', '.join(TABLES)}")
    written = [write_template(t, out / f"{t}.xlsx") for t in names]
    readme = out / "README.txt"
    readme.write_text(README, encoding="utf-8-sig")  # the BOM: Notepad on an old Windows reads it right
    return [*written, readme]


def _format_of(kind: Kind) -> str:
    if kind is Kind.DATE:
        return "date"
    if kind is Kind.AMOUNT:
        return "amount"
    if kind is Kind.COUNT:
        return "count"
    if kind is Kind.NUMBER:
        return "number"
    return "text"


def _width(column: Column) -> int:
    if column.kind in (Kind.ID_NUMBER, Kind.USCC, Kind.ACCOUNT):
        return 22
    return max(12, 2 * len(column.zh) + 4)


def _validation(column: Column) -> dict | None:
    """Excel's data validation of a column: it refuses a wrong value as it is typed."""
    minimum = 0 if column.minimum is None else column.minimum
    rules: dict[Kind, dict] = {
        Kind.DATE: {"validate": "date", "criteria": "between", "minimum": FIRST_DAY, "maximum": LAST_DAY},
        Kind.AMOUNT: {"validate": "decimal", "criteria": ">=", "value": minimum},
        Kind.NUMBER: {"validate": "decimal", "criteria": ">=", "value": minimum},
        Kind.COUNT: {"validate": "integer", "criteria": ">=", "value": minimum},
        Kind.ID_NUMBER: {"validate": "length", "criteria": "==", "value": 18},
        Kind.USCC: {"validate": "length", "criteria": "==", "value": 18},
        Kind.CODE: {"validate": "length", "criteria": "between", "minimum": 6, "maximum": 9},
        Kind.MONTH: {"validate": "length", "criteria": "==", "value": 7},
    }
    listed = choices(column)
    if listed:
        rule = {"validate": "list", "source": list(listed)}
    elif column.kind in rules:
        rule = rules[column.kind]
    else:
        return None
    return {
        **rule,
        "ignore_blank": True,
        "input_title": column.zh[:32],
        "input_message": KIND_RULES[column.kind][:255],
        "error_title": "填写不符合规则",
        "error_message": rule_text(column)[:255],
    }


def _write(ws: object, r: int, c: int, column: Column, value: object, formats: dict) -> None:
    """One cell as Excel stores what is typed into a template cell of this column."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return
    kind = _format_of(column.kind)
    if kind == "date":
        ws.write_datetime(r, c, _as_datetime(value), formats["date"])
    elif kind in ("amount", "count", "number"):
        ws.write_number(r, c, float(value), formats[kind])
    else:
        if column.kind is Kind.FLAG and isinstance(value, bool):
            value = _YES_NO[0] if value else _YES_NO[1]
        ws.write_string(r, c, str(value), formats["text"])


def _as_datetime(value: object) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=None)
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day)
    return pd.Timestamp(value).to_pydatetime()
