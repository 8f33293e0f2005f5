"""Tests of the generated data-contract documentation."""

from __future__ import annotations

import pytest

from audit import datacontract_doc
from audit.datacontract import TABLES
from fixtures import ROOT

COMMITTED = ROOT / "docs" / "data-contract.md"


def test_committed_documentation_is_up_to_date() -> None:
    assert COMMITTED.read_text(encoding="utf-8") == datacontract_doc.render(), (
        "docs/data-contract.md is out of date; regenerate it with "
        "`python -m audit.datacontract_doc > docs/data-contract.md` and commit the result"
    )


def test_every_table_and_column_is_documented() -> None:
    text = datacontract_doc.render()
    for table in TABLES.values():
        assert f"## `{table.name}` ({table.zh})" in text
        for col in table.columns:
            assert f"| `{col.name}` | {col.zh} | {col.kind.value} |" in text


def test_what_each_check_does_is_documented() -> None:
    text = datacontract_doc.render()
    assert "| id_number | resident_id |" in text
    assert "left to rule S5 (row kept, flagged) |" in text
    assert "| service_start vs service_end | dates_ordered |" in text
    assert "left to rule C2 (row kept, flagged) |" in text
    assert "| bank_account | luhn | Account number fails the Luhn check" in text
    assert "| `relief_payments.person_id` | beneficiaries.person_id | on_roll |" in text


def test_pipes_in_messages_do_not_break_tables() -> None:
    line = next(ln for ln in datacontract_doc.render().splitlines() if "| programme | one_of |" in ln)
    assert "城市低保 \\| 农村低保" in line


def test_main_writes_utf8(capsysbinary: pytest.CaptureFixture[bytes]) -> None:
    assert datacontract_doc.main() == 0
    assert capsysbinary.readouterr().out.decode("utf-8") == datacontract_doc.render()
