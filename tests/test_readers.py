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
    path.write_bytes(HEADER.encode("utf-16"))
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
    with pytest.raises(TableError, match="cannot open the workbook") as caught:
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
