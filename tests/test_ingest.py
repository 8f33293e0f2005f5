"""Ingest of the damaged submission (tests/fixtures/make_damaged.py): repairs, rejections, accounting, CLI."""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pcsv
import pyarrow.parquet as pq
import pytest
import xlsxwriter

from audit import cli, readers
from audit.exceptions import TableError, TableErrors
from audit.ingest import blocks as ingest_blocks
from audit.ingest import ingest
from audit.ingest import references as ingest_references
from audit.store import Store, StoreWriter
from fixtures import make_damaged as damaged
from fixtures import stand_in_schemas

TODAY = dt.date(2025, 1, 1)


@pytest.fixture
def stand_in():
    """The stand-in schemas to validate with, so that these tests exercise ingest and nothing else."""
    return stand_in_schemas


@pytest.fixture(scope="module")
def submission(tmp_path_factory) -> Path:
    return damaged.build(tmp_path_factory.mktemp("damaged") / "submission")


@pytest.fixture
def result(stand_in, submission, tmp_path):
    return ingest(submission, tmp_path / "store", today=TODAY, schemas=stand_in)


def _counts(result, table, sheet):
    (account,) = [a for a in result.sheets if a.table == table and a.sheet == sheet]
    return account.counts()


def test_every_row_is_accounted_for(result):
    expected = {  # table, sheet: read, loaded, quarantined, blank, totals
        ("divisions", ""): (5, 5, 0, 0, 0),
        ("offices", ""): (4, 3, 0, 1, 0),
        ("contracts", "合同"): (4, 2, 1, 0, 1),
        ("staff", "Sheet1"): (4, 4, 0, 0, 0),
        ("fund_allocations", ""): (2, 2, 0, 0, 0),
        ("beneficiaries", "城关区"): (4, 3, 1, 0, 0),
        ("beneficiaries", "540103"): (2, 2, 0, 0, 0),
        ("relief_payments", ""): (8, 3, 3, 1, 1),
    }
    got = {}
    for (table, sheet), _ in expected.items():
        c = _counts(result, table, sheet)
        got[(table, sheet)] = (
            c["rows_read"],
            c["rows_loaded"],
            c["rows_quarantined"],
            c["rows_blank"],
            c["rows_totals"],
        )
    assert got == expected
    for source in result.manifest["sources"]:
        assert (
            source["rows_read"] == source["rows_loaded"] + source["rows_quarantined"] + source["rows_skipped"]
        )
    assert "rows_skipped = rows_blank + rows_totals" in result.manifest["accounting"]


def test_damage_is_repaired_in_the_store(result):
    st = Store.open(result.store)
    staff = st.read("staff").set_index("staff_id")
    assert staff.loc["S001", "id_number"] == damaged.P2  # leading apostrophe
    assert staff.loc["S002", "id_number"].endswith("X")  # lowercase x
    assert staff.loc["S003", "id_number"] == damaged.P1  # full-width digits and spaces
    assert staff.loc["S004", "county_code"] == "540100"  # a city post
    contracts = st.read("contracts").set_index("contract_id")
    assert contracts.loc["HT-2020-001", "signed_on"] == pd.Timestamp("2020-01-05")  # 2020/1/5
    assert contracts.loc["HT-2020-001", "service_start"] == pd.Timestamp("2020-01-10")  # 2020.01.10
    assert contracts.loc["HT-2020-001", "service_end"] == pd.Timestamp("2020-12-31")  # 2020年12月31日
    assert contracts.loc["HT-2020-002", "contractor_registered_on"] == pd.Timestamp("2018-01-01")  # 43101
    assert contracts.loc["HT-2020-002", "signed_on"] == pd.Timestamp("2020-01-06")  # 20200106
    assert contracts["amount_yuan"].tolist() == [1234.5, 2000.0]
    assert contracts.loc["HT-2020-002", "positions"] == 3  # full-width ３
    assert contracts.loc["HT-2020-002", "contractor_uscc"].isupper()
    offices = st.read("offices")
    assert offices["dedicated_officer"].tolist() == [True, False, True]  # 是, 否, Y
    assert offices["has_equipment"].tolist() == [True, False, False]  # 有, 无, N
    assert offices["budgeted_funds_yuan"].tolist() == [1234.5, 1234.5, 1234.5]
    assert offices["office_area_m2"].tolist() == [120.0, 80.0, 60.0]
    roll = st.read("beneficiaries")
    assert roll["household_id"].tolist() == ["H001", "H001", "H002", "H101", "H102"]  # merged cell filled
    assert roll["county_code"].tolist() == ["540102"] * 3 + ["540103"] * 2  # from the sheet names
    pay = st.read("relief_payments")
    assert pay["payment_id"].tolist() == ["F001", "F002", "F004"]
    assert pay["county_code"].tolist() == ["540102", "540102", "540103"]  # from the roll
    assert pay["period"].tolist() == ["2020-05"] * 3
    assert pay["amount_yuan"].tolist() == [1234.5, 1234.5, 1000.0]
    assert pay["paid_on"].tolist() == [pd.Timestamp("2020-05-07")] * 3
    assert pay["src_row"].tolist() == [2, 3, 6]
    fund = st.read("fund_allocations")
    assert fund["amount_yuan"].tolist() == [1000000.0, 2000.5]
    assert str(fund["allocated_on"].dtype) == "datetime64[us]"


def test_rejections_name_file_sheet_row_and_column(result):
    log = result.quality
    quarantined = log[log["action"] == "quarantined"]
    found = set(
        zip(
            quarantined["file"],
            quarantined["sheet"],
            quarantined["row"],
            quarantined["column"],
            quarantined["check"],
            strict=True,
        )
    )
    assert found == {
        ("contracts.xlsx", "合同", 7, "合同金额", "more than 2 decimals"),
        ("contracts.xlsx", "合同", 7, "服务结束", "not a date"),
        ("beneficiaries.xlsx", "城关区", 5, "身份证号", "digits lost"),
        ("relief_payments.csv", "", 4, "身份证号", "digits lost"),
        ("relief_payments.csv", "", 7, "", "wrong number of fields"),
        ("relief_payments.csv", "", 8, "发放金额", "not an amount"),
    }
    lost = quarantined[quarantined["file"] == "relief_payments.csv"].set_index("row")
    assert lost.loc[4, "value"] == "5.40102E+17"
    assert "re-export the column formatted as text" in lost.loc[4, "message_en"]
    held = Store.open(result.store).quarantine("relief_payments").set_index("src_row")
    assert held.loc[4, "person_id"] == "5.40102E+17"
    assert held.loc[8, "amount_yuan"] == "abc"
    assert held.loc[8, "county_code"] == "540102"


def test_money_not_audited_is_counted_by_table_and_county(result):
    unaudited = Store.open(result.store).unaudited()
    assert unaudited.values.tolist() == [
        ["contracts", "540103", 1, 500.125],  # 3 decimals, as found
        ["beneficiaries", "540102", 1, 0.0],  # no amount
        ["relief_payments", "", 1, 800.0],  # a field missing: no county could be told
        ["relief_payments", "540102", 2, 500.0],  # lost digits (500) and "abc" (a row, no yuan)
    ]
    assert Store.open(result.store).unaudited(["540103"]).values.tolist() == [
        ["contracts", "540103", 1, 500.125]
    ]


def test_repairs_and_skipped_rows_are_logged_once_per_kind(result):
    log = result.quality
    repaired = log[log["action"] == "repaired"]
    totals = repaired[repaired["check"] == "totals row"]
    found = set(zip(totals["file"], totals["row"], strict=True))
    assert found == {("contracts.xlsx", 8), ("relief_payments.csv", 9)}
    serial = repaired[(repaired["file"] == "contracts.xlsx") & (repaired["check"] == "excel serial date")]
    assert serial[["row", "column", "value"]].values.tolist() == [[6, "登记日期", "43101"]]
    apostrophe = repaired[repaired["check"] == "leading apostrophe"]
    assert apostrophe[["file", "row", "column"]].values.tolist() == [["staff.xlsx", 2, "身份证号"]]
    assert not (log["action"] == "flagged").any()


def test_files_and_sheets_not_read_are_listed(result):
    assert {(i["path"]) for i in result.manifest["ignored"]} == {
        "说明.txt",
        "beneficiaries.xlsx (sheet 填表说明)",
    }


def test_ingest_is_deterministic(stand_in, submission, tmp_path):
    a = ingest(submission, tmp_path / "a", today=TODAY, schemas=stand_in).store
    b = ingest(submission, tmp_path / "b", today=TODAY, schemas=stand_in).store
    files = sorted(p.relative_to(a) for p in a.rglob("*") if p.is_file())
    assert len(files) == 20  # manifest, log, 3 quarantine files, 15 county partitions
    for rel in files:
        assert (a / rel).read_bytes() == (b / rel).read_bytes(), rel


def test_blocks_and_repeats_across_blocks(stand_in, tmp_path):
    folder = tmp_path / "sub"
    folder.mkdir()
    p, acct = damaged.P1, damaged.ACCOUNTS[damaged.P1]
    rows = [f"F{i},{p},H1,城市低保,2020-0{i},10,2020-05-07,{acct},540102" for i in range(1, 6)]
    rows[4] = rows[4].replace("F5", "F1")  # the same payment id in the first and the last block
    header = "流水号,身份证号,户编号,救助类别,所属期,发放金额,发放日期,银行账号,县区代码"
    (folder / "relief_payments.csv").write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    result = ingest(folder, tmp_path / "store", today=TODAY, chunk_rows=2, schemas=stand_in)
    assert _counts(result, "relief_payments", "")["rows_loaded"] == 3
    assert _counts(result, "relief_payments", "")["rows_quarantined"] == 2
    pay = Store.open(result.store).read("relief_payments")
    assert pay["payment_id"].tolist() == ["F2", "F3", "F4"]
    log = result.quality
    assert log.loc[log["check"] == "unique", "row"].tolist() == [2, 6]
    assert result.manifest["tables"]["relief_payments"]["rows"] == 3


def _table_errors(folder: Path) -> Path:
    folder.mkdir()
    book = xlsxwriter.Workbook(folder / "staff.xlsx")
    book.add_worksheet().write_row(
        0, 0, ["人员编号", "姓名", "学历", "合同编号", "岗位所在地代码", "到岗日期", "离岗日期"]
    )
    book.close()
    ids = pa.array([5.401021980010100e17, 5.40102198502020e17])
    roll = {"身份证号": ids, "姓名": ["a", "b"], "户编号": ["H1", "H2"], "所属乡镇": ["540102001"] * 2,
            "救助类别": ["城市低保"] * 2, "家庭人口": [1, 1], "纳入日期": ["2019-01-01"] * 2,
            "退出日期": [None, None], "银行账号": ["1", "2"]}  # fmt: skip
    pq.write_table(pa.table(roll), folder / "beneficiaries.parquet")
    return folder


def test_table_errors_are_collected_and_name_their_location(stand_in, tmp_path):
    folder = _table_errors(tmp_path / "sub")
    with pytest.raises(TableErrors) as caught:
        ingest(folder, tmp_path / "store", schemas=stand_in)
    first, second = caught.value.errors
    assert (first.file, first.sheet, first.row, first.column) == ("staff.xlsx", "Sheet1", 1, "身份证号")
    assert "accepted headers: id_number, 身份证号" in str(first)
    assert (second.file, second.sheet, second.row, second.column) == (
        "beneficiaries.parquet",
        None,
        2,
        "身份证号",
    )
    assert not (tmp_path / "store").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["sub"]  # no partial store left behind


def test_cli_exit_codes(submission, tmp_path, capsys):
    partial = ["--leave-out", "fund_payments"]  # the damaged submission has no fund payments
    store = ["--store", str(tmp_path / "s")]
    assert cli.main(["ingest", str(submission), *store, "--today", "2025-01-01", *partial]) == 0
    out = capsys.readouterr().out
    assert "relief_payments" in out and "(1 blank, 1 totals)" in out
    assert "partial audit: left out on purpose: fund_payments (--leave-out)" in out
    assert cli.main(["ingest", str(submission), *store, "--strict", *partial]) == 1
    assert cli.main(["validate", str(submission), *partial]) == 0
    out = capsys.readouterr().out
    assert "quarantined: digits lost (1)" in out
    assert cli.main(["validate", str(submission), "--strict", *partial]) == 1
    assert cli.main(["validate", str(submission)]) == 2  # a full audit needs every table
    assert "no file for table fund_payments (资金支付), which a full audit needs" in capsys.readouterr().err
    bad = _table_errors(tmp_path / "bad")
    assert cli.main(["ingest", str(bad), "--store", str(tmp_path / "t")]) == 2
    err = capsys.readouterr().err
    assert "staff.xlsx, sheet Sheet1, row 1, column 身份证号: required column missing" in err
    assert "Traceback" not in err
    assert cli.main(["validate", str(bad)]) == 2
    assert "beneficiaries.parquet, row 2, column 身份证号" in capsys.readouterr().err
    assert not (tmp_path / "t").exists()


def test_unreadable_file_is_a_table_error(stand_in, tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "contracts.xlsx").write_bytes(b"not a workbook")
    with pytest.raises(
        TableError, match=r"the file is text, not the workbook its name \(.xlsx\) says"
    ) as caught:
        ingest(tmp_path / "sub", schemas=stand_in)
    assert caught.value.file == "contracts.xlsx"


def test_the_real_schemas_accept_the_repaired_submission(submission, tmp_path):
    pytest.importorskip("audit.schemas")
    result = ingest(submission, tmp_path / "store", today=TODAY)
    assert result.rows_quarantined == 5
    log = result.quality
    assert set(log.loc[log["action"] == "quarantined", "check"]) == {
        "more than 2 decimals", "not a date", "digits lost", "wrong number of fields", "not an amount",
    }  # fmt: skip


def _typed_payments(folder: Path) -> Path:
    """Typed Parquet roll and payments, counties interleaved, damage early, in the middle and late."""
    folder.mkdir()
    people = [damaged.P1, damaged.P2, damaged.P3, damaged.P4, damaged.P5]
    roll = {"身份证号": people[:4], "姓名": list("abcd"), "户编号": ["H1", "H2", "H3", "H4"],
            "所属乡镇": ["540102001"] * 3 + ["540103001"], "救助类别": ["城市低保"] * 4, "家庭人口": [1] * 4,
            "纳入日期": [dt.date(2019, 1, 1)] * 4, "退出日期": pa.nulls(4, pa.date32()),
            "银行账号": [damaged.ACCOUNTS[p] for p in people[:4]]}  # fmt: skip
    pq.write_table(pa.table(roll), folder / "beneficiaries.parquet")
    n = 40
    who = [people[i % 5] for i in range(n)]  # P5 is not on the roll: flagged
    pay = {
        "流水号": [f"F{i:03d}" for i in range(n)],
        "身份证号": who,
        "户编号": [f"H{people.index(p) + 1}" for p in who],
        "救助类别": ["城市低保"] * n,
        "所属期": [f"2020-{i % 12 + 1:02d}" for i in range(n)],
        "发放金额": [100.0 + i for i in range(n)],
        "发放日期": [dt.date(2020, i % 12 + 1, 7) for i in range(n)],
        "银行账号": [damaged.ACCOUNTS[p] for p in who],
        "县区代码": [p[:6] for p in who],
    }
    pay["发放金额"][3] = 12.345  # more than 2 decimals: quarantined
    pay["流水号"][10] = "F025"  # repeats row 27 of the file, in another block: both quarantined
    pay["发放日期"][12] = dt.date(2030, 1, 7)  # after the day of ingest: flagged
    pay["身份证号"][17] = damaged.LOST  # digits lost: quarantined
    pay["流水号"][20] = " F020 "  # spaces removed
    pay["流水号"][29] = "F028"  # repeats the row above it, in the same block of 7
    for column in pay:  # a totals row and a blank row
        pay[column][33] = "合计" if column == "流水号" else None
        pay[column][36] = None
    types = {"发放金额": pa.float64(), "发放日期": pa.date32()}
    table = pa.table({k: pa.array(v, type=types.get(k, pa.string())) for k, v in pay.items()})
    pq.write_table(table, folder / "relief_payments.parquet")
    return folder


@pytest.mark.parametrize("chunk_rows", [1, 7, 16])
def test_blocks_do_not_change_the_store(tmp_path, chunk_rows):
    pytest.importorskip("audit.schemas")
    folder = _typed_payments(tmp_path / "sub")
    whole = ingest(folder, tmp_path / "whole", today=TODAY)
    cut = ingest(folder, tmp_path / "cut", today=TODAY, chunk_rows=chunk_rows)
    held = Store.open(whole.store).quarantine("relief_payments").set_index("src_row")
    assert held["checks"].to_dict() == {
        5: "more than 2 decimals", 12: "unique", 19: "digits lost", 27: "unique", 30: "unique", 31: "unique",
    }  # fmt: skip
    log = whole.quality
    assert set(log.loc[log["action"] == "flagged", "check"]) == {"on_roll", "date after today"}
    assert _counts(whole, "relief_payments", "") == _counts(cut, "relief_payments", "")
    a, b = whole.store, cut.store
    files = sorted(p.relative_to(a) for p in a.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(b) for p in b.rglob("*") if p.is_file())
    assert len(files) == 7  # manifest, log, quarantine, 2 roll and 2 payment partitions
    for rel in files:
        assert (a / rel).read_bytes() == (b / rel).read_bytes(), rel


def test_each_file_is_read_in_its_formats_blocks_unless_told(tmp_path, monkeypatch):
    pytest.importorskip("audit.schemas")
    folder = _typed_payments(tmp_path / "sub")
    roll = folder / "beneficiaries.parquet"
    pcsv.write_csv(pq.read_table(roll), folder / "beneficiaries.csv")  # a CSV roll, Parquet payments
    roll.unlink()
    asked: dict[str, list[int]] = {}
    for suffix, reader in list(readers.READERS.items()):

        def spy(path, name, table, chunk_rows, reader=reader):
            asked.setdefault(path.suffix, []).append(chunk_rows)
            return reader(path, name, table, chunk_rows)

        monkeypatch.setitem(readers.READERS, suffix, spy)
    monkeypatch.setitem(readers.BLOCK_ROWS, ".parquet", 5)
    monkeypatch.setitem(readers.BLOCK_ROWS, ".csv", 3)
    ingest(folder, None, today=TODAY)
    assert {suffix: set(rows) for suffix, rows in asked.items()} == {".csv": {3}, ".parquet": {5}}
    asked.clear()
    ingest(folder, None, today=TODAY, chunk_rows=2)
    assert {suffix: set(rows) for suffix, rows in asked.items()} == {".csv": {2}, ".parquet": {2}}


def test_hash_collisions_cost_time_not_results(stand_in, submission, tmp_path, monkeypatch):
    folder = _typed_payments(tmp_path / "sub")
    expected = [
        ingest(f, tmp_path / f"{i}-whole", today=TODAY, schemas=stand_in)
        for i, f in enumerate((folder, submission))
    ]
    # Every key then "repeats" across blocks, and every roll entry shares one hash.
    monkeypatch.setattr(ingest_blocks, "_hashes", lambda text: np.zeros(len(text), dtype=np.uint64))
    for i, f in enumerate((folder, submission)):
        result = ingest(f, tmp_path / f"{i}-cut", today=TODAY, chunk_rows=2, schemas=stand_in)
        pd.testing.assert_frame_equal(result.quality, expected[i].quality)
        assert result.manifest == expected[i].manifest
        pay = Store.open(result.store).read("relief_payments")
        pd.testing.assert_frame_equal(pay, Store.open(expected[i].store).read("relief_payments"))


def test_checks_across_tables_read_only_the_columns_they_compare(tmp_path, monkeypatch):
    pytest.importorskip("audit.schemas")
    folder = _typed_payments(tmp_path / "sub")
    asked = []
    for method in ("read", "scan"):
        real = getattr(StoreWriter, method)

        def record(self, table, *args, _real=real, _method=method, **kwargs):
            asked.append((_method, table, tuple(args[0]) if args else None))
            return _real(self, table, *args, **kwargs)

        monkeypatch.setattr(StoreWriter, method, record)
    monkeypatch.setattr(ingest_references, "REFERENCE_ROWS", 5)  # payments checked 5 rows at a time
    result = ingest(folder, tmp_path / "store", today=TODAY, chunk_rows=7)
    # The roll comes before the payments: they are checked against it as read, not read back.
    assert asked == [("read", "beneficiaries", ("person_id",))]
    log = result.quality
    # P5 (not on the roll) is paid in rows 6, 11, ... 41; row 31 is quarantined (F028 twice)
    assert sorted(log.loc[log["check"] == "on_roll", "row"]) == [6, 11, 16, 21, 26, 36, 41]


@pytest.mark.parametrize("fixture", ["typed", "damaged"])
def test_validation_without_a_store_reports_what_an_ingest_does(submission, tmp_path, fixture, monkeypatch):
    pytest.importorskip("audit.schemas")
    (tmp_path / "tmp").mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    folder = _typed_payments(tmp_path / "sub") if fixture == "typed" else submission
    stored = ingest(folder, tmp_path / "store", today=TODAY, chunk_rows=7)
    checked = ingest(folder, None, today=TODAY, chunk_rows=7)
    assert checked.store is None
    pd.testing.assert_frame_equal(checked.quality, stored.quality)
    assert all("sha256" in source for source in stored.manifest["sources"])
    for source in stored.manifest["sources"]:  # nothing is kept for a digest to vouch for
        del source["sha256"]
    assert checked.manifest == stored.manifest
    assert [a.counts() for a in checked.sheets] == [a.counts() for a in stored.sheets]
    assert not list((tmp_path / "tmp").iterdir())  # the staging area is gone


@pytest.mark.parametrize("fixture", ["typed", "damaged"])
def test_checking_rows_as_read_or_after_storing_gives_one_result(submission, tmp_path, fixture, monkeypatch):
    pytest.importorskip("audit.schemas")
    folder = _typed_payments(tmp_path / "sub") if fixture == "typed" else submission
    as_read = ingest(folder, tmp_path / "early", today=TODAY, chunk_rows=7)
    if fixture == "typed":  # P5 is paid without being on the roll
        assert (as_read.quality["check"] == "on_roll").sum() == 7
    monkeypatch.setattr(ingest_references, "early_tables", lambda references: frozenset())
    read_back = ingest(folder, tmp_path / "late", today=TODAY, chunk_rows=7)
    pd.testing.assert_frame_equal(read_back.quality, as_read.quality)
    assert read_back.manifest == as_read.manifest
    for table in Store.open(as_read.store).tables():
        pd.testing.assert_frame_equal(
            Store.open(read_back.store).read(table), Store.open(as_read.store).read(table)
        )
