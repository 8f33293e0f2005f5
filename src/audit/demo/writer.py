"""Write the submission as county bureaus write it, or as clean Parquet.

``mixed``: xlsx with the contract's Chinese headers for most tables, a title row or blank rows
above some headers, 合计 rows under some, dates in the formats each bureau uses (ISO, 2020/5/7,
2020年5月7日, 2020.05.07, Excel date cells, bare Excel serials), amounts as text in places,
yes/no as 是/否, 有/无, Y/N or 1/0, the roll as one workbook with a sheet per county, and CSVs
in GB18030, GBK and UTF-8 with and without BOM. Every kind of damage is on the contract's
list, so ingest repairs it; the data-quality defects the answer key lists are the only rows
it must quarantine. ``parquet``: every table in Parquet, canonical English names, typed.

Nothing written carries a time stamp: workbooks get a fixed ``created`` property (xlsxwriter
fixes the zip entries' times itself), so the same seed gives the same bytes.
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
import io
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import xlsxwriter

from audit.datacontract import PROGRAMMES, TABLES, Kind
from audit.demo.register import COUNTIES
from audit.demo.relief import Chunk
from audit.exceptions import ParameterError
from audit.vocabulary import COUNTY_BUDGET

CREATED = dt.datetime(2020, 5, 7)
"""The workbooks' document date: the day of the release, never the day they are written."""
EXCEL_EPOCH = np.datetime64("1899-12-30")
EXCEL_MAX_ROWS = 1_048_576

# How each county bureau writes dates in its sheets and CSV lines.
SHEET_DATES = {
    "540102": "iso",
    "540103": "slash",
    "540104": "zh",
    "540121": "excel",
    "540122": "serial",
    "540123": "dot",
    "540124": "zh",
    "540127": "slash",
    "540172": "excel",
}
CSV_DATES = {
    "540102": "iso",
    "540103": "slash",
    "540104": "zh",
    "540121": "dot",
    "540122": "iso",
    "540123": "slash",
    "540124": "zh",
    "540127": "dot",
    "540172": "iso",
}
FLAGS = {"540102": ("是", "否"), "540103": ("有", "无"), "540104": ("Y", "N"), "540121": (1, 0)}
"""How each county writes yes/no in the offices table (others 是/否)."""
COUNTY_NAME = {c.code: c.name for c in COUNTIES}


def date_texts(days: np.ndarray, style: str) -> np.ndarray:
    """Dates (datetime64[D], NaT allowed) as text in one of the bureaus' styles."""
    days = np.asarray(days, dtype="datetime64[D]")
    uniq, inv = np.unique(days, return_inverse=True)  # few distinct days: format each once
    out = []
    for d in uniq:
        if np.isnat(d):
            out.append("")
            continue
        y, m, dd = (int(x) for x in str(d).split("-"))
        out.append(
            {
                "iso": f"{y}-{m:02d}-{dd:02d}",
                "slash": f"{y}/{m}/{dd}",
                "zh": f"{y}年{m}月{dd}日",
                "dot": f"{y}.{m:02d}.{dd:02d}",
            }[style]
        )
    return np.array(out, dtype=object)[inv.reshape(-1)] if len(days) else np.array([], dtype=object)


def amount_texts(fen: np.ndarray) -> np.ndarray:
    """Amounts in fen as "1234.50"."""
    fen = np.asarray(fen, dtype=np.int64)
    return np.char.add(np.char.add((fen // 100).astype(str), "."), np.char.zfill((fen % 100).astype(str), 2))


class _Cells:
    """Cell writing for one workbook: formats made once, values written by their Python type."""

    def __init__(self, book: xlsxwriter.Workbook) -> None:
        self.book = book
        self.date = book.add_format({"num_format": "yyyy-mm-dd"})
        self.head = book.add_format({"bold": True, "align": "center", "border": 1})
        self.title = book.add_format({"bold": True, "align": "center", "font_size": 14})

    def write(self, ws, row: int, col: int, value: object) -> None:
        if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NaT:
            return
        if isinstance(value, str):
            ws.write_string(row, col, value)
        elif isinstance(value, dt.date | pd.Timestamp | np.datetime64):
            ws.write_datetime(row, col, pd.Timestamp(value).to_pydatetime(), self.date)
        elif isinstance(value, bool | np.bool_):
            ws.write_boolean(row, col, bool(value))
        else:
            ws.write_number(row, col, float(value))


def _workbook(path: Path, city_name: str, big: bool = False) -> tuple[xlsxwriter.Workbook, _Cells]:
    book = xlsxwriter.Workbook(str(path), {"constant_memory": big, "strings_to_numbers": False})
    book.set_properties({"created": CREATED, "author": f"{city_name}民政局", "title": path.stem})
    return book, _Cells(book)


def _sheet(
    book: xlsxwriter.Workbook,
    cells: _Cells,
    name: str,
    headers: list[str],
    rows: list[list[object]],
    *,
    title: str | None = None,
    blank_above: int = 0,
    totals: list[object] | None = None,
) -> int:
    """Write one sheet; return the Excel row number of its first data row."""
    ws = book.add_worksheet(name)
    r = 0
    if title:
        ws.merge_range(0, 0, 0, len(headers) - 1, title, cells.title)
        r = 1
    r += blank_above
    for c, h in enumerate(headers):
        ws.write_string(r, c, h, cells.head)
    ws.set_column(0, len(headers) - 1, 14)
    first = r + 2  # 1-based Excel row of the first data row
    for row in rows:
        r += 1
        for c, v in enumerate(row):
            cells.write(ws, r, c, v)
    if totals is not None:
        r += 1
        for c, v in enumerate(totals):
            cells.write(ws, r, c, v)
    return first


def zh_headers(table: str, columns: list[str]) -> list[str]:
    """The contract's Chinese headers of ``columns``."""
    return [TABLES[table].column(c).zh for c in columns]


def _date_cell(value: object, style: str) -> object:
    """One date as the cell a bureau writes: a datetime, a bare serial, or text."""
    if value is None or pd.isna(value):
        return None
    day = np.datetime64(pd.Timestamp(value).date(), "D")
    if style == "excel":
        return pd.Timestamp(day)
    if style == "serial":
        return int((day - EXCEL_EPOCH).astype(np.int64))
    return date_texts(np.array([day]), style)[0]


def _dq(table: str, file: str, sheet: str, row: int, county: str, note: str) -> dict[str, object]:
    return {
        "rule_id": "DQ",
        "county_code": county,
        "entity_type": table,
        "entity_id": f"{file}|{sheet}|{row}",
        "amount_yuan": None,
        "note": note,
    }


class SubmissionWriter:
    """Writes every table of the submission into ``out`` in ``fmt`` (mixed | parquet).

    ``city_name`` (the parameters file's) names the city bureau that wrote the workbooks.
    """

    def __init__(self, out: Path, fmt: str, city_name: str) -> None:
        self.out, self.fmt, self.city_name = out, fmt, city_name
        out.mkdir(parents=True, exist_ok=True)

    # ------------------------------------------------------------------------ small tables

    def small(self, name: str, frame: pd.DataFrame) -> None:
        """Write a table of a few hundred rows at most."""
        frame = frame[[c for c in TABLES[name].names if c in frame.columns]].reset_index(drop=True)
        if self.fmt == "parquet":
            self._parquet(name, frame)
            return
        getattr(self, f"_{name}", functools.partial(self._other_department, name))(frame)

    def _parquet(self, name: str, frame: pd.DataFrame) -> None:
        table = pa.Table.from_pandas(frame, schema=_arrow_schema(name, frame), preserve_index=False)
        pq.write_table(table, self.out / f"{name}.parquet")

    def _divisions(self, f: pd.DataFrame) -> None:
        book, cells = _workbook(self.out / "divisions.xlsx", self.city_name)
        cols = list(f.columns)
        title = f"{self.city_name}县级及乡级行政区划（注：“经开区街道（示例）”为演示用合成单位）"
        _sheet(book, cells, "行政区划", zh_headers("divisions", cols), f.to_numpy().tolist(), title=title)
        book.close()

    def _offices(self, f: pd.DataFrame) -> None:
        book, cells = _workbook(self.out / "offices.xlsx", self.city_name)
        rows = []
        for r in f.itertuples(index=False):
            yes, no = FLAGS.get(r.county_code, ("是", "否"))
            rows.append(
                [
                    r.division_code,
                    yes if r.dedicated_officer else no,
                    r.office_area_m2,
                    yes if r.has_equipment else no,
                    r.budgeted_funds_yuan,
                    r.county_code,
                ]
            )
        _sheet(book, cells, "四有情况", zh_headers("offices", list(f.columns)), rows)
        book.close()

    def _contracts(self, f: pd.DataFrame) -> None:
        book, cells = _workbook(self.out / "contracts.xlsx", self.city_name)
        styles = ("excel", "zh", "slash", "iso")
        dates = ("contractor_registered_on", "signed_on", "service_start", "service_end")
        rows = []
        for i, r in enumerate(f.to_dict("records")):
            for c in dates:  # each contract typed by a different hand
                r[c] = _date_cell(r[c], styles[i % len(styles)])
            if i % 3 == 1:
                r["amount_yuan"] = f"￥{r['amount_yuan']:,.2f}"
            rows.append(list(r.values()))
        totals = [
            "合计",
            *[None] * (len(f.columns) - 3),
            int(f["positions"].sum()),
            float(f["amount_yuan"].sum()),
        ]
        _sheet(
            book,
            cells,
            "合同",
            zh_headers("contracts", list(f.columns)),
            rows,
            title="2020年政府购买基层社会救助服务合同台账",
            totals=totals,
        )
        book.close()

    def _staff(self, f: pd.DataFrame) -> None:
        book, cells = _workbook(self.out / "staff.xlsx", self.city_name)
        rows = []
        for i, r in enumerate(f.to_dict("records")):
            r["hired_on"] = _date_cell(r["hired_on"], "excel")
            r["left_on"] = _date_cell(r["left_on"], "excel")
            if i == 3:  # typed with a leading apostrophe to keep Excel from eating digits
                r["id_number"] = "'" + r["id_number"]
            rows.append(list(r.values()))
        _sheet(
            book,
            cells,
            "人员花名册",
            zh_headers("staff", list(f.columns)),
            rows,
            title="购买服务社会救助协理员花名册",
            blank_above=1,
        )
        book.close()

    def _fund_allocations(self, f: pd.DataFrame) -> None:
        book, cells = _workbook(self.out / "fund_allocations.xlsx", self.city_name)
        rows = []
        for r in f.to_dict("records"):
            r["allocated_on"] = _date_cell(r["allocated_on"], "dot")
            if r["fund"] == COUNTY_BUDGET:  # county finance bureaus write amounts with separators
                r["amount_yuan"] = f"{r['amount_yuan']:,.2f}"
            rows.append(list(r.values()))
        totals = ["合计", None, None, None, float(f["amount_yuan"].sum()), None]
        _sheet(book, cells, "资金下达", zh_headers("fund_allocations", list(f.columns)), rows, totals=totals)
        book.close()

    def _fund_payments(self, f: pd.DataFrame) -> None:
        text = f.copy()
        text["paid_on"] = date_texts(f["paid_on"].to_numpy(dtype="datetime64[D]"), "iso")
        text["amount_yuan"] = [f"{v:.2f}" for v in f["amount_yuan"]]
        headers = zh_headers("fund_payments", list(f.columns))
        headers[headers.index("金额")] = "支付金额"  # the alias the treasury system prints
        total = ["合计", *[""] * (len(f.columns) - 1)]
        total[list(f.columns).index("amount_yuan")] = f"{f['amount_yuan'].sum():.2f}"
        self._csv("fund_payments.csv", headers, [*text.to_numpy().tolist(), total], "utf-8-sig")

    def _deaths(self, f: pd.DataFrame) -> None:
        rows = [
            [p, date_texts(np.array([d], dtype="datetime64[D]"), "zh")[0]]
            for p, d in zip(f["person_id"], f["died_on"], strict=True)
        ]
        self._csv("deaths.csv", zh_headers("deaths", list(f.columns)), rows, "gbk")

    def _public_employees(self, f: pd.DataFrame) -> None:
        rows = [
            [p, e, date_texts(np.array([d], dtype="datetime64[D]"), "iso")[0]]
            for p, e, d in zip(f["person_id"], f["employer"], f["since"], strict=True)
        ]
        self._csv("public_employees.csv", list(f.columns), rows, "utf-8")

    def _other_department(self, name: str, f: pd.DataFrame) -> None:
        """A list from another department (issue 19): CSV with Chinese headers, dates as 2020年5月7日."""
        text = f.astype(object).where(f.notna(), "")
        for col in TABLES[name].columns:
            if col.kind == Kind.DATE and col.name in f:
                days = f[col.name].to_numpy(dtype="datetime64[D]")
                text[col.name] = date_texts(days, "zh") if len(days) else []
        self._csv(f"{name}.csv", zh_headers(name, list(f.columns)), text.to_numpy().tolist(), "utf-8-sig")

    def _csv(self, name: str, headers: list[str], rows: list[list[object]], encoding: str) -> None:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n")
        writer.writerow(headers)
        writer.writerows(rows)
        (self.out / name).write_bytes(buffer.getvalue().encode(encoding))

    # ------------------------------------------------------------------------ the roll

    def beneficiaries(self, frame: pd.DataFrame, damage: dict[int, str]) -> list[dict[str, object]]:
        """Write the roll; ``damage`` maps a row of ``frame`` to a defect written in a copy of it.

        Returns the key's DQ rows, located where ingest will find them.
        """
        cols = [c for c in TABLES["beneficiaries"].names if c in frame.columns]
        if self.fmt == "parquet":
            return self._beneficiaries_parquet(frame[cols], damage)
        per_county = frame.groupby("county_code", sort=True)
        if per_county.size().max() + 4 > EXCEL_MAX_ROWS:
            raise ParameterError(
                "a county's roll would not fit an Excel sheet: use --format parquet at this scale"
            )
        book, cells = _workbook(self.out / "beneficiaries.xlsx", self.city_name, big=len(frame) > 200_000)
        keep = [c for c in cols if c != "county_code"]  # each sheet is one county, named after it
        headers = zh_headers("beneficiaries", keep)
        out = []
        for county, part in per_county:
            sheet = f"{county}{COUNTY_NAME[county]}"
            style = SHEET_DATES[county]
            rows, where = [], {}
            for i, r in zip(part.index, part[keep].itertuples(index=False), strict=True):
                row = list(r)
                row[keep.index("enrolled_on")] = _date_cell(r.enrolled_on, style)
                row[keep.index("exited_on")] = None
                row[keep.index("person_id")] = _id_text(r.person_id, county, len(rows))
                rows.append(row)
                if i in damage:
                    copy = list(row)
                    copy[keep.index("person_id")] = _damaged_id(r.person_id, damage[i], excel=True)
                    rows.append(copy)
                    where[len(rows) - 1] = damage[i]
            title = f"{COUNTY_NAME[county]}2020年城乡低保、特困供养、孤儿救助对象名册"
            totals = None
            if county in ("540102", "540121", "540123"):  # some bureaus sum the sheet
                totals = ["合计", f"{len(part)}人", *[None] * (len(keep) - 2)]
            first = _sheet(book, cells, sheet, headers, rows, title=title, totals=totals)
            for pos, kind in where.items():
                out.append(
                    _dq("beneficiaries", "beneficiaries.xlsx", sheet, first + pos, county, _NOTES[kind])
                )
        book.close()
        return out

    def _beneficiaries_parquet(self, frame: pd.DataFrame, damage: dict[int, str]) -> list[dict[str, object]]:
        out, parts, start = [], [], 0
        for i in sorted(damage):
            pos = frame.index.get_loc(i)
            parts.append(frame.iloc[start : pos + 1])
            copy = frame.iloc[[pos]].copy()
            copy["person_id"] = _damaged_id(copy["person_id"].iloc[0], damage[i], excel=False)
            parts.append(copy)
            start = pos + 1
            row = pos + 1 + len(out) + 2  # data rows after the header, which counts as row 1
            out.append(
                _dq(
                    "beneficiaries",
                    "beneficiaries.parquet",
                    "",
                    row,
                    frame.at[i, "county_code"],
                    _NOTES[damage[i]],
                )
            )
        parts.append(frame.iloc[start:])
        self._parquet("beneficiaries", pd.concat(parts, ignore_index=True))
        return out

    # ------------------------------------------------------------------------ payments

    def payments(self) -> PaymentSink:
        """A sink the payment chunks are written into, one after another."""
        return PaymentSink(self.out, self.fmt)


_NOTES = {
    "number": "身份证号以数值保存，末位丢失（重复录入）/ ID stored as a number, digits lost (repeated row)",
    "check": "身份证号校验位错误（重复录入）/ ID check digit wrong (repeated row)",
}


def _id_text(person_id: str, county: str, i: int) -> str:
    """Repairable damage some bureaus' IDs carry: apostrophes, lowercase x, full-width digits."""
    if county == "540103" and i % 97 == 5:
        return "'" + person_id
    if county == "540122" and person_id.endswith("X"):
        return person_id[:-1] + "x"
    if county == "540172" and i % 131 == 7:
        return person_id.translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    return person_id


def _damaged_id(person_id: str, kind: str, excel: bool) -> object:
    if kind == "check":
        right = person_id[17]
        return person_id[:17] + ("0" if right == "1" else "1")
    value = float(f"{int(person_id[:17]) * 10:.15g}")  # what Excel keeps: 15 significant digits
    return value if excel else f"{value:.5E}"  # the text an Excel round trip leaves: 5.40121E+17


class PaymentSink:
    """Writes relief payments chunk by chunk: GB18030 CSV (mixed) or Parquet row groups."""

    HEADERS = (
        "payment_id",
        "person_id",
        "household_id",
        "programme",
        "period",
        "amount_yuan",
        "paid_on",
        "bank_account",
        "county_code",
    )

    def __init__(self, out: Path, fmt: str) -> None:
        self.fmt = fmt
        self.rows = 0
        self.file = "relief_payments.parquet" if fmt == "parquet" else "relief_payments.csv"
        self.path = out / self.file
        self._writer: pq.ParquetWriter | None = None
        self._fh = None
        if fmt != "parquet":
            self._fh = self.path.open("wb")
            self._fh.write(
                (",".join(zh_headers("relief_payments", list(self.HEADERS))) + "\r\n").encode("gb18030")
            )

    def write(self, chunk: Chunk) -> list[dict[str, object]]:
        """Write one chunk; return the key's DQ rows for the defects it carries."""
        first = self.rows + 2  # file row of this chunk's first payment (the header is row 1)
        if self.fmt == "parquet":
            self._parquet(chunk)
        else:
            self._csv(chunk)
        out = [
            _dq("relief_payments", self.file, "", first + row, chunk.county, str(d["note"]))
            for row, d in sorted(chunk.damage.items())
        ]
        self.rows += len(chunk)
        return out

    def _parquet(self, chunk: Chunk) -> None:
        n = len(chunk)
        person_id = chunk.person_id.copy()
        amount = chunk.amount_fen / 100
        for row, d in chunk.damage.items():
            if "person_id" in d:
                person_id[row] = str(d["person_id"]).encode()
            if "amount_yuan" in d:
                amount[row] = float(str(d["amount_yuan"]))

        def text(values: np.ndarray) -> pa.Array:
            # Byte strings straight into Arrow: no Python object per value.
            return pa.array(values, type=pa.binary()).cast(pa.string())

        columns = {
            "payment_id": text(chunk.payment_id),
            "person_id": text(person_id),
            "household_id": text(chunk.household_id),
            "programme": pa.array(PROGRAMMES).take(pa.array(chunk.programme)),
            "period": text(np.full(n, f"2020-{chunk.period:02d}".encode())),
            "amount_yuan": pa.array(amount, type=pa.float64()),
            "paid_on": pa.array(chunk.paid_on.astype("datetime64[D]"), type=pa.date32()),
            "bank_account": text(chunk.bank_account),
            "county_code": text(np.full(n, chunk.county.encode())),
        }
        if chunk.no_county is not None:
            columns["county_code"] = pa.array(
                np.where(chunk.no_county, None, chunk.county).tolist(), type=pa.string()
            )
        table = pa.table(columns)
        if self._writer is None:
            self._writer = pq.ParquetWriter(self.path, table.schema)
        self._writer.write_table(table)

    def _csv(self, chunk: Chunk) -> None:
        n = len(chunk)
        text = {
            "payment_id": chunk.payment_id.astype("U19").astype(object),
            "person_id": chunk.person_id.astype("U18").astype(object),
            "household_id": chunk.household_id.astype("U15").astype(object),
            "programme": np.array(PROGRAMMES, dtype=object)[chunk.programme],
            "period": np.full(n, f"2020-{chunk.period:02d}", dtype=object),
            "amount_yuan": amount_texts(chunk.amount_fen).astype(object),
            "paid_on": date_texts(chunk.paid_on, CSV_DATES[chunk.county]),
            "bank_account": chunk.bank_account.astype("U19").astype(object),
            "county_code": np.full(n, chunk.county, dtype=object),
        }
        if chunk.no_county is not None:
            text["county_code"][chunk.no_county] = ""
        for row, d in chunk.damage.items():
            for column, value in d.items():
                if column != "note":
                    text[column][row] = value
        frame = pd.DataFrame({k: text[k] for k in self.HEADERS})
        self._fh.write(frame.to_csv(index=False, header=False, lineterminator="\r\n").encode("gb18030"))

    def close(self) -> None:
        """Finish the file."""
        if self._writer is not None:
            self._writer.close()
        if self._fh is not None:
            self._fh.close()


def _arrow_schema(name: str, frame: pd.DataFrame) -> pa.Schema:
    """Parquet types by the contract's kinds: text, float amounts, int counts, dates, booleans."""
    kinds = {c.name: c.kind.value for c in TABLES[name].columns}
    types: dict[str, Callable[[], pa.DataType]] = {
        "date": pa.date32,
        "amount": pa.float64,
        "number": pa.float64,
        "count": pa.int64,
        "flag": pa.bool_,
    }
    return pa.schema([(c, types.get(kinds[c], pa.string)()) for c in frame.columns])
