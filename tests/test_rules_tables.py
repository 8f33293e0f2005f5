"""The input bundle: missing tables, partitions by county, reference lists whole."""

from __future__ import annotations

import pytest

from audit.exceptions import InputError
from audit.rules.tables import Tables, missing_reason
from fixtures.rule_tables import CITY, COUNTY, OTHER, frame


def test_tables_not_given_are_missing():
    t = Tables({"contracts": frame("contracts", {"contract_id": "A"})})
    assert t.missing(("contracts", "deaths", "staff")) == ("deaths", "staff")
    assert t.get("deaths") is None
    with pytest.raises(InputError, match="deaths was not supplied"):
        t["deaths"]


def test_unknown_table_is_refused():
    with pytest.raises(InputError, match="unknown tables \\['death'\\]"):
        Tables({"death": None})


def test_a_table_without_a_required_column_is_refused_naming_it():
    with pytest.raises(InputError, match="contracts lacks columns \\['amount_yuan'\\]"):
        Tables({"contracts": frame("contracts", {"contract_id": "A"}).drop(columns="amount_yuan")})
    with pytest.raises(InputError, match="county_code"):
        Tables({"staff": frame("staff", {"staff_id": "A"}).drop(columns="county_code")})


def test_partition_keeps_the_county_and_every_reference_row():
    t = Tables(
        {
            "contracts": frame(
                "contracts",
                {"contract_id": "A"},
                {"contract_id": "B", "county_code": OTHER},
                {"contract_id": "C", "county_code": CITY},
            ),
            "deaths": frame("deaths", {"person_id": "1"}, {"person_id": "2"}),
        }
    )
    assert t.counties() == (CITY, COUNTY, OTHER)
    part = t.partition(OTHER)
    assert part.county == OTHER
    assert part["contracts"]["contract_id"].tolist() == ["B"]
    assert len(part["deaths"]) == 2
    assert part.get("staff") is None


def test_missing_reason_names_every_table_in_both_languages():
    assert missing_reason(("deaths",)) == (
        "未运行：未提供死亡人员名单",
        "not run: no death register supplied",
    )
    assert missing_reason(("beneficiaries", "public_employees")) == (
        "未运行：未提供救助对象名册、财政供养人员名单",
        "not run: no beneficiary roll, public-employee list supplied",
    )
