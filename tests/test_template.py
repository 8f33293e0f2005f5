"""``audit template``: blank workbooks from the contract; filled as Excel stores typing, they ingest clean."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import pytest
from python_calamine import CalamineWorkbook

from audit import cli, template
from audit.datacontract import TABLES, Kind
from audit.ingest import ingest
from fixtures import store_builder

SUBMITTED = [name for name, table in TABLES.items() if not table.reference]


@pytest.fixture(scope="module")
def blank(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("template")
    assert cli.main(["template", "--out", str(out)]) == 0
    return out


def _drop_downs(path: Path) -> dict[int, tuple[str, ...]]:
    """The drop-down lists of a template, by column position, read from the workbook itself."""
    xml = zipfile.ZipFile(path).read("xl/worksheets/sheet1.xml").decode("utf-8")
    found = {}
    for rule in re.finditer(
        r'<dataValidation type="list"[^>]*sqref="([A-Z]+)2:[^"]*">\s*<formula1>"([^<]*)"', xml
    ):
        found[ord(rule.group(1)) - ord("A")] = tuple(rule.group(2).split(","))
    return found


def test_the_templates_have_chinese_headers_rules_drop_downs_and_text_ids(blank):
    assert sorted(p.name for p in blank.iterdir()) == sorted(
        [f"{t}.xlsx" for t in SUBMITTED] + ["README.txt"]
    )
    assert "身份证号" in (blank / "README.txt").read_text(encoding="utf-8-sig")
    path = blank / "relief_payments.xlsx"
    (header,) = CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).to_python()
    assert header == [c.zh for c in TABLES["relief_payments"].columns]
    archive = zipfile.ZipFile(path)
    comments = archive.read("xl/comments1.xml").decode("utf-8")
    assert "18位公民身份号码" in comments and "从下拉列表中选择" in comments
    assert _drop_downs(path) == {3: ("城市低保", "农村低保", "特困集中供养", "特困分散供养", "孤儿")}
    styles = archive.read("xl/styles.xml").decode("utf-8")
    assert 'numFmtId="49"' in styles  # text, for IDs and accounts
    assert 'formatCode="yyyy-mm-dd"' in styles
    assert _drop_downs(blank / "offices.xlsx") == {1: ("是", "否"), 3: ("是", "否")}


def test_a_template_filled_as_excel_stores_typing_ingests_with_no_repair_and_nothing_quarantined(
    blank, tmp_path
):
    filled = tmp_path / "submission"
    filled.mkdir()
    for name, frame in store_builder.tables().items():
        if name not in SUBMITTED:
            continue
        lists = _drop_downs(blank / f"{name}.xlsx")
        for position, column in enumerate(TABLES[name].columns):
            if column.kind is Kind.CHOICE:  # what was typed came from the drop-down
                assert set(frame[column.name].dropna()) <= set(lists[position]), column.name
        rows = frame[[c.name for c in TABLES[name].columns if c.name in frame]].to_dict("records")
        template.write_template(name, filled / f"{name}.xlsx", rows)
    result = ingest(filled, None)
    assert result.errors == ()
    assert result.rows_quarantined == 0
    actions = set(result.quality["action"])
    assert "repaired" not in actions and "quarantined" not in actions, result.quality.to_string()
    loaded = {t: result.table_counts(t)["rows_loaded"] for t in SUBMITTED}
    assert loaded == {t: len(store_builder.tables()[t]) for t in SUBMITTED}


def test_unknown_tables_are_refused(tmp_path, capsys):
    assert cli.main(["template", "--out", str(tmp_path), "--table", "salaries"]) == 2
    assert "unknown table(s) salaries" in capsys.readouterr().err
