"""The rectification list (整改清单): written for inspectors to fill in, and read back.

One sheet per area (C, S, F), one row per finding. The first columns describe the finding;
then come the columns an inspector fills (status, corrective action, responsible unit,
deadline, note, evidence file, who), and last the long texts (basis, recommendation,
evidence JSON), which the print area leaves out so the list prints as a working list: A4
landscape, fitted to the page width, the header row repeated on every page.

Excel and WPS enforce what can be typed: the status is a drop-down of the follow-up
statuses, the deadline a date. IDs are written as text and the fill-in columns are text
cells, so an 18-digit ID never becomes a number. Given the follow-up state of each finding
(from the journal), the list comes pre-filled with it, so a row the inspector leaves alone
reads back as unchanged.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

from audit.exceptions import FollowUpError
from audit.exports import write_xlsx
from audit.findings import sort_register, typed_register
from audit.i18n import FOLLOW_UP_LABELS
from audit.rules.registry import RULES
from audit.vocabulary import IMPORTABLE_STATUSES

if TYPE_CHECKING:
    from audit.params import Params

Lang = Literal["zh", "en"]


@dataclass(frozen=True)
class Column:
    """One column of the list: its key, its headers and its width in characters."""

    key: str
    zh: str
    en: str
    width: float


COLUMNS = (
    Column("no", "序号", "No.", 5),
    Column("finding_id", "发现编号", "Finding ID", 17),
    Column("rule_id", "规则", "Rule", 5),
    Column("title", "问题类型", "Problem", 20),
    Column("severity", "严重程度", "Severity", 6),
    Column("county_code", "县（区）代码", "County code", 8),
    Column("township_code", "乡镇（街道）代码", "Township code", 10),
    Column("entity_type", "对象类型", "Entity type", 8),
    Column("entity_id", "对象编号", "Entity ID", 20),
    Column("amount_yuan", "涉及金额（元）", "Amount at stake (yuan)", 12),
    Column("description", "问题描述", "Description", 36),
    Column("status", "核实状态", "Status", 9),
    Column("action", "整改措施", "Corrective action", 20),
    Column("unit", "责任单位", "Responsible unit", 12),
    Column("deadline", "整改时限", "Deadline", 11),
    Column("note", "整改情况（说明）", "Note", 20),
    Column("evidence_file", "证据文件", "Evidence file", 12),
    Column("who", "经办人", "Handled by", 8),
    Column("basis", "依据", "Basis", 30),
    Column("advice", "整改建议", "Recommendation", 40),
    Column("evidence", "证据", "Evidence", 60),
)
"""The list's columns, in order; everything up to ``who`` is printed."""

FILL_IN = ("status", "action", "unit", "deadline", "note", "evidence_file", "who")
"""The columns an inspector fills; every other column is read-only information."""

_PRINTED = [c.key for c in COLUMNS].index("who") + 1
_SEVERITY = {
    "zh": {"high": "高", "medium": "中", "low": "低", "info": "提示"},
    "en": {"high": "high", "medium": "medium", "low": "low", "info": "info"},
}
_ENTITY = {
    "zh": {
        "contract": "合同",
        "county": "县（区）",
        "city": "全市",
        "office": "乡镇（街道）民政所",
        "staff": "购买服务人员",
        "person": "个人",
        "payment": "发放记录",
        "household": "户（所属期）",
        "account": "银行账户",
        "programme": "救助类别",
    },
}
SHEETS = {
    "zh": {"C": "C 购买服务合同与资金", "S": "S 乡镇人员配备", "F": "F 救助资金使用"},
    "en": {"C": "C contracts and funding", "S": "S staff coverage", "F": "F relief funds"},
}
_FIRST_DAY, _LAST_DAY = dt.date(2000, 1, 1), dt.date(2099, 12, 31)


@dataclass(frozen=True)
class Prefill:
    """What the journal already holds for a finding, written into its fill-in columns."""

    status: str = ""
    action: str = ""
    unit: str = ""
    deadline: dt.date | None = None
    note: str = ""


def column_letter(index: int) -> str:
    """The spreadsheet letter of a 0-based column index (0 → A, 26 → AA)."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


def _headers(lang: Lang) -> list[str]:
    return [getattr(c, lang) for c in COLUMNS]


def _layout(lang: Lang, sheets: Mapping[str, pd.DataFrame], deadlines: Mapping[str, list[Any]]):
    """The sheet setup: validation, formats and print layout, for :func:`audit.exports.write_xlsx`."""
    keys = [c.key for c in COLUMNS]
    status_col, deadline_col = keys.index("status"), keys.index("deadline")
    choices = [FOLLOW_UP_LABELS[lang][s] for s in IMPORTABLE_STATUSES]

    def setup(workbook: Any, sheet: Any, name: str) -> None:
        rows = len(sheets[name])
        last = rows + 500  # room below the findings for an inspector who sorts or copies rows
        text = workbook.add_format({"num_format": "@", "valign": "top", "text_wrap": True})
        day = workbook.add_format({"num_format": "yyyy-mm-dd", "valign": "top"})
        for key in FILL_IN:
            col = keys.index(key)
            sheet.set_column(col, col, COLUMNS[col].width, day if key == "deadline" else text)
        sheet.data_validation(
            1,
            status_col,
            last,
            status_col,
            {
                "validate": "list",
                "source": choices,
                "error_title": "核实状态" if lang == "zh" else "Status",
                "error_message": "请从下拉列表中选择状态"
                if lang == "zh"
                else "Choose a status from the list",
            },
        )
        sheet.data_validation(
            1,
            deadline_col,
            last,
            deadline_col,
            {
                "validate": "date",
                "criteria": "between",
                "minimum": dt.datetime.combine(_FIRST_DAY, dt.time()),
                "maximum": dt.datetime.combine(_LAST_DAY, dt.time()),
                "error_message": "请填写日期，如 2021-06-30"
                if lang == "zh"
                else "Type a date, e.g. 2021-06-30",
            },
        )
        for row, value in enumerate(deadlines[name], start=1):
            if isinstance(value, dt.date):
                sheet.write_datetime(row, deadline_col, dt.datetime.combine(value, dt.time()), day)
        sheet.set_paper(9)  # A4
        sheet.set_landscape()
        sheet.set_margins(left=0.4, right=0.4, top=0.5, bottom=0.6)
        sheet.fit_to_pages(1, 0)  # one page wide, as many pages long as it takes
        sheet.repeat_rows(0)
        sheet.print_area(0, 0, max(rows, 1), _PRINTED - 1)
        sheet.set_footer("&C&P / &N")

    return setup


def write_rectification_list(
    findings: pd.DataFrame,
    path: str | Path,
    params: Params,
    lang: Lang = "zh",
    prefill: Mapping[str, Prefill] | None = None,
) -> Path:
    """Write the 整改清单: one sheet per area, validated fill-in columns, printable as a working list.

    ``prefill`` maps finding ids to what the follow-up journal holds for them. Each rule's
    basis and recommendation quote ``params`` (the plan, the unit cost, the cap share).
    """
    if lang not in SHEETS:
        raise ValueError(f"lang must be zh or en, not {lang!r}")
    frame = sort_register(typed_register(findings))
    texts = {r.id: r.texts(params, lang) for r in RULES}
    title = {k: v.title for k, v in texts.items()}
    basis = {k: v.basis for k, v in texts.items()}
    advice = {k: v.recommendation for k, v in texts.items()}
    entity = _ENTITY.get(lang, {})
    prefill = prefill or {}
    filled = [prefill.get(f, Prefill()) for f in frame["finding_id"]]

    def fill(attr: str) -> pd.Series:
        values = [getattr(p, attr) or pd.NA for p in filled]
        if attr == "status":
            values = [FOLLOW_UP_LABELS[lang].get(v, v) if isinstance(v, str) else v for v in values]
        return pd.Series(values, dtype="str", index=frame.index)

    blank = pd.Series([pd.NA] * len(frame), dtype="str", index=frame.index)
    sheet_frame = pd.DataFrame(
        {
            "no": np.arange(1, len(frame) + 1, dtype="int64"),
            "finding_id": frame["finding_id"],
            "rule_id": frame["rule_id"],
            "title": frame["rule_id"].map(title).astype("str"),
            "severity": frame["severity"].map(_SEVERITY[lang]).astype("str"),
            "county_code": frame["county_code"],
            "township_code": frame["township_code"],
            "entity_type": frame["entity_type"].map(lambda t: entity.get(t, t)).astype("str"),
            "entity_id": frame["entity_id"],
            "amount_yuan": frame["amount_yuan"],
            "description": frame["description_zh" if lang == "zh" else "description_en"],
            "status": fill("status"),
            "action": fill("action"),
            "unit": fill("unit"),
            "deadline": blank,  # written as date cells by the sheet setup
            "note": fill("note"),
            "evidence_file": blank,
            "who": blank,
            "basis": frame["rule_id"].map(basis).astype("str"),
            "advice": frame["rule_id"].map(advice).astype("str"),
            "evidence": frame["evidence"],
        }
    )
    sheet_frame.columns = _headers(lang)
    sheets = {}
    for area, name in SHEETS[lang].items():
        inside = frame["area"] == area
        part = sheet_frame.loc[inside].copy()
        part[COLUMNS[0].zh if lang == "zh" else COLUMNS[0].en] = np.arange(1, len(part) + 1, dtype="int64")
        sheets[name] = part.reset_index(drop=True)
    widths = {getattr(c, lang): c.width for c in COLUMNS}
    number = _headers(lang)[0]
    by_sheet = {
        name: [p.deadline for p, inside in zip(filled, frame["area"] == area, strict=True) if inside]
        for area, name in SHEETS[lang].items()
    }
    return write_xlsx(
        sheets,
        path,
        widths=widths,
        number_formats={number: "0"},
        sheet_setup=_layout(lang, sheets, by_sheet),
    )


# --- reading a filled list back ----------------------------------------------------------------


@dataclass(frozen=True)
class FilledRow:
    """One row of a filled list, as typed, with where it is (1-based row as Excel shows it)."""

    file: str
    sheet: str
    row: int
    finding_id: str
    status: str
    action: str
    unit: str
    deadline: dt.date | None
    note: str
    evidence_file: str
    who: str
    columns: Mapping[str, str]  # fill-in key → column letter, for messages

    def where(self, key: str) -> dict[str, Any]:
        """The location of one of this row's cells, as :class:`InputError` keywords."""
        return {"file": self.file, "sheet": self.sheet, "row": self.row, "column": self.columns.get(key)}


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip()
    return text[1:] if text.startswith("'") and len(text) > 1 and text[1] in "=+-@" else text


def _day(value: Any, where: dict[str, Any]) -> dt.date | None:
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        # A date typed into a cell without date format arrives as Excel's serial day number.
        return dt.date(1899, 12, 30) + dt.timedelta(days=int(value))
    text = str(value).strip()
    for form in ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y年%m月%d日"):
        try:
            return dt.datetime.strptime(text, form).date()
        except ValueError:
            continue
    raise FollowUpError(f"{text!r} is not a date; type it as 2021-06-30", **where)


def read_rectification_list(path: str | Path) -> list[FilledRow]:
    """Every finding row of a filled list, in sheet and row order; unknown layouts are refused."""
    # start-up time: the reader loads only when a filled list is read back
    from python_calamine import CalamineWorkbook

    path = Path(path)
    try:
        book = CalamineWorkbook.from_path(str(path))
    except Exception as exc:  # calamine raises its own types for a file that is not a workbook
        raise FollowUpError(
            f"cannot be read as a workbook ({exc}); give the 整改清单 .xlsx", file=str(path)
        ) from None
    by_header = {c.zh: c.key for c in COLUMNS} | {c.en: c.key for c in COLUMNS}
    rows: list[FilledRow] = []
    for name in book.sheet_names:
        cells = book.get_sheet_by_name(name).to_python(skip_empty_area=False)
        if not cells:
            continue
        header = [_text(h) for h in cells[0]]
        keys = {by_header[h]: i for i, h in enumerate(header) if h in by_header}
        missing = [k for k in ("finding_id", *FILL_IN) if k not in keys]
        if missing:
            names = "、".join(next(c.zh for c in COLUMNS if c.key == k) for k in missing)
            raise FollowUpError(
                f"not a 整改清单 sheet: no column {names} in the header row; "
                "fill the list audit batch wrote, without renaming its columns",
                file=str(path),
                sheet=name,
                row=1,
            )
        letters = {k: column_letter(i) for k, i in keys.items()}
        for number, line in enumerate(cells[1:], start=2):

            def cell(key: str, line: list[Any] = line, keys: dict[str, int] = keys) -> Any:
                i = keys[key]
                return line[i] if i < len(line) else None

            fid = _text(cell("finding_id"))
            if not fid:
                if any(_text(cell(k)) for k in FILL_IN):
                    raise FollowUpError(
                        "this row has no 发现编号 (finding ID): copy the row with its ID",
                        file=str(path),
                        sheet=name,
                        row=number,
                        column=letters["finding_id"],
                    )
                continue
            where = {"file": str(path), "sheet": name, "row": number, "column": letters["deadline"]}
            rows.append(
                FilledRow(
                    file=str(path),
                    sheet=name,
                    row=number,
                    finding_id=fid,
                    status=_text(cell("status")),
                    action=_text(cell("action")),
                    unit=_text(cell("unit")),
                    deadline=_day(cell("deadline"), where),
                    note=_text(cell("note")),
                    evidence_file=_text(cell("evidence_file")),
                    who=_text(cell("who")),
                    columns=letters,
                )
            )
    return rows
