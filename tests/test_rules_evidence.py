"""Building finding rows and citing source rows."""

from __future__ import annotations

import pandas as pd
import pytest

from audit.rules.evidence import MAX_SOURCES, finding_rows, grouped_sources, sources, text, yuan
from fixtures.rule_tables import frame


def test_sources_cite_table_file_sheet_row():
    f = frame("contracts", {"contract_id": "A"}, {"contract_id": "B"})
    assert sources(f, "contracts") == [
        {"table": "contracts", "file": "contracts.xlsx", "sheet": "Sheet1", "row": 2},
        {"table": "contracts", "file": "contracts.xlsx", "sheet": "Sheet1", "row": 3},
    ]


def test_grouped_sources_are_capped():
    rows = [{"payment_id": f"P{i}", "person_id": "X", "household_id": "H" if i else "G"} for i in range(30)]
    cited = grouped_sources(frame("relief_payments", *rows), "relief_payments", "household_id")
    assert len(cited["H"]) == MAX_SOURCES
    assert [c["row"] for c in cited["G"]] == [2]


def test_finding_rows_broadcast_scalars_and_check_lengths():
    rows = finding_rows(
        county_code="540102",
        entity_id=["A", "B"],
        description_zh=["甲", "乙"],
        description_en=["a", "b"],
        evidence=[{}, {}],
    )
    assert rows["county_code"].tolist() == ["540102", "540102"]
    assert rows["amount_yuan"].isna().all()
    with pytest.raises(ValueError, match="1 values for 2 findings"):
        finding_rows(
            county_code="x", entity_id=["A"], description_zh="", description_en="", evidence=[{}, {}]
        )


def test_text_helpers():
    assert yuan(pd.Series([1234.5, 0.01])).tolist() == ["1,234.50", "0.01"]
    dates = pd.Series(pd.to_datetime(["2020-05-07", None])).astype("datetime64[us]")
    assert text(dates).tolist() == ["2020-05-07", ""]
