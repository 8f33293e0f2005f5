"""Readers: encodings, header rows, row numbers, merged cells, typed Parquet, unreadable files."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import xlsxwriter

from audit import readers
from audit.exceptions import TableError

HEADER = "流水号,身份证号,户编号,救助类别,所属期,发放金额,发放日期,银行账号"


def _one(
    path: Path, table: str = "relief_payments", chunk_rows: int = 1000
) -> tuple[readers.SheetData, list]:
    (data,) = readers.reader_for(path)(path, path.name, table, chunk_rows)
    return data, list(data.blocks)


@pytest.mark.parametrize(("encoding", "bom"), [("gb18030", b""), ("utf-8", b"\xef\xbb\xbf"), ("utf-8", b"")])
def test_csv_encodings(tmp_path, encoding, bom):
    path = tmp_path / "relief_payments.csv"
    path.write_bytes(
        bom + f"{HEADER}\nF1,540102198001010017,H1,城市低保,2020-05,10,2020-05-07,6\n".encode(encoding)
    )
    data, blocks = _one(path)
    assert data.header.labels == tuple(HEADER.split(","))
    assert blocks[0].frame.iloc[0, 3] == "城市低保"
    assert blocks[0].rows.tolist() == [2]


def test_a_utf8_csv_longer_than_the_sample_is_read_when_the_sample_ends_inside_a_character(tmp_path):
    # The encoding is told from the sample cut at a line end, not from bytes ending mid-character.
    line = "F1,540102198001010017,H1,城市低保,2020-05,10,2020-05-07,6\n".encode()
    rows = readers.SAMPLE_BYTES // len(line) + 2
    title = next(
        t
        for t in ("2020年发放明细" + "x" * k + "\n" for k in range(len(line)))
        if _cuts_a_character((t + HEADER + "\n").encode() + line * rows)
    )
    path = tmp_path / "relief_payments.csv"
    path.write_bytes((title + HEADER + "\n").encode() + line * rows)
    _, blocks = _one(path, chunk_rows=1 << 20)
    assert sum(len(b.frame) for b in blocks) == rows
    assert blocks[0].frame.iloc[0, 3] == "城市低保"


def _cuts_a_character(content: bytes) -> bool:
    try:
        content[: readers.SAMPLE_BYTES + 1].decode()
    except UnicodeDecodeError:
        return True
    return False


def test_csv_line_numbers_count_title_blank_and_multiline_rows(tmp_path):
    path = tmp_path / "relief_payments.csv"
    lines = [
        "2020年发放明细,,,,,,,",  # 1
        "",  # 2
        HEADER,  # 3
        'F1,1,H1,城市低保,2020-05,10,2020-05-07,"6\n2"',  # 4-5: a quoted line break
        "",  # 6
        "F2,2,H2",  # 7: too few fields
        "F3,3,H3,城市低保,2020-05,10,2020-05-07,6",  # 8
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    data, blocks = _one(path, chunk_rows=1)
    assert data.header_rows == (3,)
    rows = [r for b in blocks for r in b.rows.tolist()]
    assert rows == [4, 6, 8]
    assert data.bad_rows == [readers.BadRow(7, ("F2", "2", "H2"))]


def test_undecodable_csv_is_a_table_error(tmp_path):
    path = tmp_path / "relief_payments.csv"
    path.write_bytes(bytes(range(128, 256)) * 10)
    with pytest.raises(TableError, match="encoding") as caught:
        _one(path)
    assert caught.value.file == "relief_payments.csv"


def test_workbook_cells_become_text_the_way_excel_shows_them(tmp_path):
    path = tmp_path / "staff.xlsx"
    book = xlsxwriter.Workbook(path)
    sheet = book.add_worksheet("540102")
    sheet.merge_range(0, 0, 0, 3, "购买服务人员花名册")
    sheet.write_row(2, 0, ["人员编号", "姓名", "身份证号", "到岗日期"])
    sheet.write_row(3, 0, ["S1", "扎西"])
    sheet.write_number(3, 2, 540102198001010017)
    sheet.write_datetime(3, 3, dt.datetime(2020, 1, 6), book.add_format({"num_format": "yyyy-mm-dd"}))
    sheet.write_row(4, 0, [7, "卓玛", "540102198502020029", 43836])
    book.close()
    data, blocks = _one(path, table="staff")
    assert (data.sheet, data.header_rows) == ("540102", (3,))
    frame = blocks[0].frame
    assert frame.iloc[0].tolist() == ["S1", "扎西", "5.4010219800101e+17", "2020-01-06"]
    assert frame.iloc[1].tolist() == ["7", "卓玛", "540102198502020029", "43836"]
    assert blocks[0].rows.tolist() == [4, 5]


def test_merged_cells_are_filled_and_counted(tmp_path):
    path = tmp_path / "beneficiaries.xlsx"
    book = xlsxwriter.Workbook(path)
    sheet = book.add_worksheet()
    sheet.write_row(0, 0, ["身份证号", "姓名", "户编号", "所属乡镇", "救助类别"])
    sheet.write_row(1, 0, ["A", "a", "", "540102001", "城市低保"])
    sheet.write_row(2, 0, ["B", "b", "", "540102001", "城市低保"])
    sheet.merge_range(1, 2, 2, 2, "H1")
    book.close()
    data, blocks = _one(path, table="beneficiaries")
    assert blocks[0].frame[2].tolist() == ["H1", "H1"]
    assert data.merged_fills == {2: (1, 3)}


def test_corrupt_workbook_is_a_table_error(tmp_path):
    path = tmp_path / "staff.xlsx"
    path.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(TableError, match="archive is damaged") as caught:
        _one(path, table="staff")
    assert caught.value.file == "staff.xlsx"


def test_parquet_keeps_types_and_numbers_rows_after_a_header(tmp_path):
    path = tmp_path / "deaths.parquet"
    pq.write_table(
        pa.table({"身份证号": pa.array([540102198001010017, None]), "死亡日期": [dt.date(2020, 3, 1), None]}),
        path,
    )
    data, blocks = _one(path, table="deaths")
    frame = blocks[0].frame
    assert data.header.labels == ("身份证号", "死亡日期")
    assert str(frame[0].dtype) == "Int64" and frame[0].iloc[0] == 540102198001010017
    assert str(frame[1].dtype) == "datetime64[us]"
    assert blocks[0].rows.tolist() == [2, 3]


@pytest.mark.parametrize(
    ("group_rows", "chunk_rows", "sizes"),
    [
        (3, 7, [6, 4]),  # groups of 3, 3, 3, 1: two joined, a third would pass 7; then the rest
        (10, 4, [4, 4, 2]),  # one group bigger than a block: cut
        (3, 100, [10]),  # every group in one block
    ],
)
def test_parquet_blocks_join_small_row_groups_and_cut_big_ones(tmp_path, group_rows, chunk_rows, sizes):
    path = tmp_path / "relief_payments.parquet"
    programmes = ["城市低保", "农村低保", "孤儿"]
    source = pa.table(
        {
            "流水号": [f"F{i}" for i in range(10)],
            "救助类别": [programmes[i * 7 % 3] for i in range(10)],  # read as a dictionary
            "发放金额": [float(i) for i in range(10)],
        }
    )
    pq.write_table(source, path, row_group_size=group_rows)
    _, blocks = _one(path, chunk_rows=chunk_rows)
    assert [len(b.frame) for b in blocks] == sizes
    assert [r for b in blocks for r in b.rows.tolist()] == list(range(2, 12))
    assert [v for b in blocks for v in b.frame[0]] == source["流水号"].to_pylist()
    assert [v for b in blocks for v in b.frame[1]] == source["救助类别"].to_pylist()
    for block in blocks:  # each block's dictionary column is one array over one dictionary
        assert block.encoded[1].to_pylist() == block.frame[1].tolist()


def test_a_parquet_file_of_a_few_blocks_is_read_in_smaller_ones(tmp_path, monkeypatch):
    # The reader's smallest block is text's; a file of 10 rows then comes in PIPELINE_BLOCKS parts.
    monkeypatch.setattr(readers, "TEXT_BLOCK_ROWS", 1)
    path = tmp_path / "relief_payments.parquet"
    pq.write_table(pa.table({"流水号": [f"F{i}" for i in range(10)]}), path, row_group_size=10)
    _, blocks = _one(path, chunk_rows=100)
    assert [len(b.frame) for b in blocks] == [2, 2, 2, 2, 2]  # ceil(10 / 8) = 2 rows a block
    monkeypatch.setattr(readers, "TEXT_BLOCK_ROWS", 4)
    _, blocks = _one(path, chunk_rows=100)
    assert [len(b.frame) for b in blocks] == [4, 4, 2]  # never below text's


def test_registry_knows_the_contract_formats():
    assert {".xlsx", ".csv", ".parquet"} <= set(readers.READERS)
    assert readers.reader_for(Path("x.txt")) is None


def test_each_format_has_its_own_block_size():
    # Parquet decodes into its columns alone, so its blocks are bigger than text's (see BLOCK_ROWS).
    assert readers.block_rows_for(Path("x.parquet")) == readers.COLUMNAR_BLOCK_ROWS == 524_288
    for name in ("x.csv", "x.CSV", "x.xlsx", "x.xls"):
        assert readers.block_rows_for(Path(name)) == readers.TEXT_BLOCK_ROWS == 131_072
    assert readers.block_rows_for(Path("x.ods")) == readers.TEXT_BLOCK_ROWS


# ------------------------------------------------------------------ hostile files (issue 18)

_OOXML = "http://schemas.openxmlformats.org"
_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml"
_RELS = f"{_OOXML}/officeDocument/2006/relationships"
_PARTS = {
    "[Content_Types].xml": f'<?xml version="1.0"?><Types xmlns="{_OOXML}/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    f'<Override PartName="/xl/workbook.xml" ContentType="{_TYPE}.sheet.main+xml"/>'
    f'<Override PartName="/xl/worksheets/sheet1.xml" ContentType="{_TYPE}.worksheet+xml"/></Types>',
    "_rels/.rels": f'<?xml version="1.0"?><Relationships xmlns="{_OOXML}/package/2006/relationships">'
    f'<Relationship Id="rId1" Type="{_RELS}/officeDocument" Target="xl/workbook.xml"/></Relationships>',
    "xl/workbook.xml": f'<?xml version="1.0"?><workbook xmlns="{_OOXML}/spreadsheetml/2006/main" '
    f'xmlns:r="{_RELS}"><sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>',
    "xl/_rels/workbook.xml.rels": f'<?xml version="1.0"?><Relationships xmlns="{_OOXML}/package/2006/'
    f'relationships"><Relationship Id="rId1" Type="{_RELS}/worksheet" Target="worksheets/sheet1.xml"/>'
    "</Relationships>",
}
_SHEET_OPEN = b'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
_SHEET_CLOSE = b"</sheetData></worksheet>"


def _cell(ref: str, text: str) -> bytes:
    return f'<c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c>'.encode()


def _raw_workbook(path: Path, rows: bytes, *, repeat: bytes = b"", times: int = 0, extra: int = 0) -> Path:
    """A workbook written by hand: ``rows``, then ``repeat`` ``times`` over (streamed, never in memory)."""
    import zipfile

    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for part, text in _PARTS.items():
            archive.writestr(part, text)
        with archive.open("xl/worksheets/sheet1.xml", "w") as fh:
            fh.write(_SHEET_OPEN + rows)
            for _ in range(times):
                fh.write(repeat)
            fh.write(_SHEET_CLOSE)
        for i in range(extra):
            archive.writestr(f"xl/media/image{i}.png", b"")
    return path


_LABELS = ("人员编号", "姓名", "身份证号", "学历")
_HEADER_ROW = (
    b'<row r="1">' + b"".join(_cell(f"{c}1", h) for c, h in zip("ABCD", _LABELS, strict=True)) + b"</row>"
)


def _rejected(path: Path, says: str) -> TableError:
    with pytest.raises(TableError, match=says) as caught:
        _one(path, table="staff")
    assert caught.value.file == path.name
    return caught.value


def test_a_decompression_bomb_is_refused_in_bounded_time_and_memory(tmp_path):
    import resource
    import time

    junk = b'<row><c t="inlineStr"><is><t>' + b"x" * 1_000_000 + b"</t></is></c></row>"
    path = _raw_workbook(tmp_path / "staff.xlsx", _HEADER_ROW, repeat=junk, times=40)  # 40 MB inside
    assert path.stat().st_size < 100_000
    before, started = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, time.monotonic()
    error = _rejected(path, r"xl/worksheets/sheet1.xml unpacks to more than 100 times .*\(MAX_RATIO\)")
    assert time.monotonic() - started < 5
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 100_000  # KiB: under 100 MB more
    assert str(error).startswith("staff.xlsx: ")


def test_a_workbook_unpacking_past_the_total_limit_is_refused(tmp_path, monkeypatch):
    row = b'<row r="2">' + _cell("A2", "S1") + b"</row>"
    path = _raw_workbook(tmp_path / "staff.xlsx", _HEADER_ROW + row * 5000)
    monkeypatch.setattr(readers.limits, "MAX_INFLATED_BYTES", 100_000)
    _rejected(path, r"says it unpacks to .* more than the limit of .*\(MAX_INFLATED_BYTES\)")


def test_a_workbook_whose_entries_lie_about_their_size_is_refused(tmp_path):
    path = _raw_workbook(tmp_path / "staff.xlsx", _HEADER_ROW * 2000)
    raw = bytearray(path.read_bytes())
    at = raw.find(b"PK\x01\x02", raw.find(b"PK\x01\x02") + 1)  # entries in order: the 2nd is .rels
    while raw[at + 46 : at + 46 + 24] != b"xl/worksheets/sheet1.xml":
        at = raw.find(b"PK\x01\x02", at + 1)
    raw[at + 24 : at + 28] = (1000).to_bytes(4, "little")  # the central directory's unpacked size
    path.write_bytes(bytes(raw))
    _rejected(path, r"says it unpacks to 1,000 bytes but unpacks to [\d,]+: the archive is damaged or forged")


def test_too_many_entries_and_a_far_cell_are_refused_before_the_reader_opens_them(tmp_path, monkeypatch):
    monkeypatch.setattr(readers.limits, "MAX_ARCHIVE_ENTRIES", 10)
    _rejected(
        _raw_workbook(tmp_path / "staff.xlsx", _HEADER_ROW, extra=10), r"holds 15 files.*MAX_ARCHIVE_ENTRIES"
    )
    monkeypatch.undo()
    # Two cells far apart: the reader would allocate every cell between them (half a terabyte) and abort.
    far = b'<row r="1048576">' + _cell("XFD1048576", "x") + b"</row>"
    error = _rejected(_raw_workbook(tmp_path / "far.xlsx", _HEADER_ROW + far), r"MAX_SHEET_CELLS")
    assert "spans 1,048,576 rows × 16,384 columns" in str(error)
    past = b'<row r="2000000">' + _cell("A2000000", "x") + b"</row>"
    _rejected(
        _raw_workbook(tmp_path / "past.xlsx", _HEADER_ROW + past), r"row 2,000,000, past Excel's last row"
    )


def test_a_wide_sheet_within_the_limit_is_read(tmp_path):
    row = b'<row r="2">' + _cell("A2", "S1") + _cell("B2", "扎西") + _cell("AB2", "注") + b"</row>"
    _, blocks = _one(_raw_workbook(tmp_path / "staff.xlsx", _HEADER_ROW + row), table="staff")
    assert blocks[0].frame.iloc[0, :2].tolist() == ["S1", "扎西"]


def test_a_panic_of_the_workbook_reader_becomes_a_table_error(tmp_path, monkeypatch):
    class PanicException(BaseException):  # what pyo3 raises: not an Exception
        pass

    class Panicking:
        @staticmethod
        def from_path(path: str) -> None:
            raise PanicException("called `Result::unwrap()` on an `Err` value: capacity overflow")

    monkeypatch.setattr(readers, "CalamineWorkbook", Panicking)
    path = tmp_path / "staff.xlsx"
    book = xlsxwriter.Workbook(path)
    book.add_worksheet().write_row(0, 0, ["人员编号", "姓名"])
    book.close()
    _rejected(path, "cannot open the workbook .*the workbook reader failed: called `Result::unwrap")


def test_utf16_tab_separated_text_is_read_with_notes(tmp_path):
    path = tmp_path / "relief_payments.csv"
    lines = [HEADER.replace(",", "\t"), "F1\t540102198001010017\tH1\t城市低保\t2020-05\t10\t2020-05-07\t6"]
    path.write_bytes("\r\n".join(lines).encode("utf-16"))  # Excel's "Unicode text": BOM, UTF-16LE, tabs
    data, blocks = _one(path)
    assert data.header.labels == tuple(HEADER.split(","))
    assert blocks[0].frame.iloc[0].tolist()[:4] == ["F1", "540102198001010017", "H1", "城市低保"]
    assert data.notes == [readers.UTF16_TEXT, readers.TAB_SEPARATED]


@pytest.mark.parametrize(
    ("name", "content", "says"),
    [
        (
            "relief_payments.csv",
            b"PK\x03\x04rest",
            r"is a workbook \(.xlsx\) .*not the CSV text .*rename it to .xlsx",
        ),
        ("relief_payments.csv", b"PAR1rest", "is a Parquet file, not the CSV text"),
        (
            "staff.xlsx",
            "人员编号,姓名\n".encode(),
            r"is text, not the workbook its name \(.xlsx\) says: rename it to .csv",
        ),
        ("staff.xls", b"<html><table>", "is a web page .*save it as .xlsx"),
        (
            "staff.parquet",
            "人员编号,姓名\n".encode(),
            "is text, not the Parquet its name says: rename it to .csv",
        ),
    ],
)
def test_a_file_of_another_format_than_its_name_says_is_named_as_such(tmp_path, name, content, says):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(TableError, match=says) as caught:
        _one(path, table=name.split(".")[0])
    assert caught.value.file == name


@pytest.mark.parametrize("system_1904", [False, True])
def test_excel_serial_60_is_marked_as_the_day_that_never_was_and_1904_dates_still_work(tmp_path, system_1904):
    path = tmp_path / "staff.xlsx"
    book = xlsxwriter.Workbook(path, {"date_1904": system_1904})
    sheet = book.add_worksheet()
    day = book.add_format({"num_format": "yyyy-mm-dd"})
    sheet.write_row(0, 0, [*_LABELS, "到岗日期"])
    for r, serial in enumerate([60, 59, 43958 - (1462 if system_1904 else 0)], start=1):
        sheet.write_row(r, 0, [f"S{r}", "扎西", "540102198001010017", "本科"])
        sheet.write_number(r, 4, serial, day)
    book.close()
    _, blocks = _one(path, table="staff")
    shown = blocks[0].frame[4].tolist()
    if system_1904:  # serial 60 is a real day there
        assert shown == ["1904-03-01", "1904-02-29", "2020-05-07"]
    else:
        assert shown == ["1900-02-29", "1900-02-28", "2020-05-07"]
