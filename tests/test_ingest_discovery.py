"""Discovery: only regular files inside the submission; required tables; near names; names escaped."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from audit import cli
from audit.exceptions import TableError
from audit.ingest import ingest
from audit.ingest.discovery import SUBMITTED_TABLES, likely_file, survey, table_of

PAYMENTS = "流水号,身份证号,户编号,救助类别,所属期,发放金额,发放日期,银行账号\n"


def test_a_table_file_may_be_named_by_its_title_with_any_case_or_invisible_characters():
    assert table_of(Path("relief_payments.csv")) == "relief_payments"
    assert table_of(Path("Relief_Payments.CSV")) == "relief_payments"
    assert table_of(Path("救助金发放明细表.csv")) == "relief_payments"
    assert table_of(Path("\u200f救助金发放明细.xlsx")) == "relief_payments"  # a right-to-left mark
    assert table_of(Path("relief\u200bpayments.csv")) is None  # a zero-width space does not join words
    assert table_of(Path("payments 2020.csv")) is None


def test_links_devices_and_names_leading_outside_are_refused_unopened(tmp_path):
    sub = tmp_path / "sub"
    sub.mkdir()
    secret = tmp_path / "secret.csv"
    secret.write_text("person_id,died_on\n", encoding="utf-8")
    (sub / "deaths.csv").symlink_to(secret)
    (sub / "notes.txt").symlink_to("/etc/passwd")
    os.mkfifo(sub / "staff.csv")  # opening a pipe would wait for ever
    found = survey(sub)
    assert [str(e) for e in found.refused] == [
        "deaths.csv: a symbolic link: only regular files inside the submission folder are read; it was not "
        "opened; copy the file itself in its place",
        "staff.csv: not a regular file (a device, pipe or socket): only regular files inside the submission "
        "folder are read; it was not opened; copy the file itself in its place",
    ]
    assert [(i.path, i.reason.split(":")[0]) for i in found.ignored] == [("notes.txt", "a symbolic link")]
    assert found.found == {}
    result = ingest(sub, None, keep_going=True)
    assert [e.file for e in result.errors] == ["deaths.csv", "staff.csv"]


def test_a_missing_required_table_is_an_error_naming_the_file_likely_meant(tmp_path):
    sub = tmp_path / "sub"
    (sub / "2020").mkdir(parents=True)
    (sub / "2020" / "救助金发放明细.csv").write_text(PAYMENTS, encoding="utf-8")
    (sub / "beneficiary.csv").write_text("x\n", encoding="utf-8")
    result = ingest(sub, None, keep_going=True, required=SUBMITTED_TABLES, leave_out=["divisions"])
    messages = {str(e).split(" (")[0].rsplit(" ", 1)[-1]: str(e) for e in result.errors}
    assert "divisions" not in messages  # left out on purpose
    assert "the file meant is likely 2020/救助金发放明细.csv" in messages["relief_payments"]
    assert "the file meant is likely beneficiary.csv" in messages["beneficiaries"]
    assert "--leave-out offices (a partial audit)" in messages["offices"]
    assert len(result.errors) == len(SUBMITTED_TABLES) - 1
    assert likely_file("staff", ["budget.xlsx", "readme.txt"]) is None


def test_a_partial_audit_names_what_it_leaves_out_and_reads_none_of_it(tmp_path, capsys):
    sub = tmp_path / "sub"
    sub.mkdir()
    (sub / "relief_payments.csv").write_text(PAYMENTS, encoding="utf-8")
    leave = [arg for t in SUBMITTED_TABLES for arg in ("--leave-out", t)]
    assert cli.main(["validate", str(sub), *leave]) == 0
    out = capsys.readouterr().out
    assert "ignored: relief_payments.csv: table relief_payments left out on purpose (--leave-out)" in out
    assert "partial audit: left out on purpose: divisions, offices, contracts" in out
    assert cli.main(["validate", str(sub), "--leave-out", "deaths"]) == 2
    assert "--leave-out deaths: not a table a county submits" in capsys.readouterr().err


def test_names_with_control_and_bidi_characters_are_escaped_everywhere(tmp_path, capsys):
    sub = tmp_path / "sub"
    sub.mkdir()
    evil = "\x1b[31mred\nline\u202e.csv"
    (sub / evil).write_text("x\n", encoding="utf-8")
    (sub / "relief_payments.csv").write_text("流水号,\x1b[2J姓名\u200f\n", encoding="utf-8")
    result = ingest(sub, None, keep_going=True)
    (ignored,) = result.ignored
    assert ignored.path == "\\x1b[31mred\\nline\\u202e.csv"
    with pytest.raises(TableError) as caught:
        ingest(sub, None)
    assert "\x1b" not in str(caught.value)
    assert cli.main(["validate", str(sub)]) == 2
    captured = capsys.readouterr()
    for text in (captured.out, captured.err):
        assert "\x1b" not in text and "\u202e" not in text and "\u200f" not in text
    assert "\\x1b[31mred\\nline\\u202e.csv" in captured.out


# ------------------------------------------------- how a file is read, in the log (issue 18)

ALLOCATIONS = ["指标文号", "县区代码", "资金来源", "用途", "金额（万元）", "下达日期"]


def _allocations(folder: Path, lines: list[list[str]], encoding: str = "utf-8", sep: str = ",") -> Path:
    folder.mkdir(exist_ok=True)
    text = "\r\n".join(sep.join(line) for line in lines) + "\r\n"
    (folder / "fund_allocations.csv").write_bytes(text.encode(encoding))
    return folder


def _log(result, check: str) -> list[tuple]:
    log = result.quality
    hits = log[log["check"] == check]
    return list(zip(hits["file"], hits["row"], hits["column"], hits["action"], strict=True))


def test_ten_thousand_yuan_utf16_tabs_and_agreeing_twins_are_read_with_notes(tmp_path):
    lines = [
        [*ALLOCATIONS, "县(区)代码"],
        ["A1", "540102", "县级财政", "救助金", "1.2345", "2020-01-05", "540102"],
    ]
    result = ingest(_allocations(tmp_path / "sub", lines, "utf-16", "\t"), None)
    assert result.errors == () and result.rows_quarantined == 0
    where = ("fund_allocations.csv", 1)
    assert _log(result, "amount in 万元") == [("fund_allocations.csv", 2, "金额（万元）", "repaired")]
    assert _log(result, "utf-16 text") == [(*where, "", "repaired")]
    assert _log(result, "tab-separated") == [(*where, "", "repaired")]
    assert _log(result, "same column twice") == [(*where, "县(区)代码", "repaired")]
    assert result.table_counts("fund_allocations")["rows_loaded"] == 1


def test_twin_columns_that_differ_reject_the_file_naming_both(tmp_path):
    lines = [
        [*ALLOCATIONS, "县(区)代码"],
        ["A1", "540102", "县级财政", "救助金", "1", "2020-01-05", "540103"],
    ]
    with pytest.raises(
        TableError, match=r"columns 县区代码 and 县\(区\)代码 both give county_code and differ"
    ) as e:
        ingest(_allocations(tmp_path / "sub", lines), None)
    assert (e.value.file, e.value.row, e.value.column) == ("fund_allocations.csv", 2, "县(区)代码")


def test_excel_serial_60_is_quarantined_as_a_day_that_never_existed_with_its_location(tmp_path):
    import xlsxwriter

    (tmp_path / "sub").mkdir()
    book = xlsxwriter.Workbook(tmp_path / "sub" / "fund_allocations.xlsx")
    sheet = book.add_worksheet("540102")
    sheet.write_row(0, 0, [*ALLOCATIONS[:4], "金额", "下达日期"])
    day = book.add_format({"num_format": "yyyy-mm-dd"})
    for r, serial in ((1, 60), (2, 43835)):
        sheet.write_row(r, 0, [f"A{r}", "540102", "县级财政", "救助金", 100])
        sheet.write_number(r, 5, serial, day)
    book.close()
    result = ingest(tmp_path / "sub", None)
    assert result.rows_quarantined == 1
    assert _log(result, "date that never existed") == [
        ("fund_allocations.xlsx", 2, "下达日期", "quarantined")
    ]
