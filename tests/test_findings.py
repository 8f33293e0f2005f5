"""The findings register: stable ids, canonical evidence, unique combination, byte-identical files."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest

from audit.exceptions import RuleError
from audit.findings import (
    REGISTER_COLUMNS,
    combine_registers,
    empty_register,
    evidence_json,
    finding_id,
    read_register,
    sort_register,
    to_register,
    write_register,
)
from audit.rules.evidence import finding_rows
from fixtures.rule_tables import COUNTY, OTHER, params, small_register

P = params()


def test_finding_id_is_the_first_16_hex_of_sha256():
    assert finding_id("C1", "contract", "HT-1") == hashlib.sha256(b"C1|contract|HT-1").hexdigest()[:16]
    assert finding_id("C1", "contract", "HT-1") == "09a4208497b3f496"
    assert finding_id("F4", "person", "X", "540102") == hashlib.sha256(b"F4|person|X|540102").hexdigest()[:16]


def test_evidence_json_is_canonical():
    text = evidence_json(
        {
            "b": 1234.5,
            "a": pd.Timestamp("2020-05-07"),
            "c": [np.int64(3), None, np.nan, pd.NaT],
            "d": {"z": Decimal("1.005"), "y": dt.date(2020, 1, 31), "x": True, "w": "拉萨"},
            "e": pd.Timestamp("2020-05-07 08:30"),
        }
    )
    assert text == (
        '{"a":"2020-05-07","b":"1234.50","c":[3,null,null,null],'
        '"d":{"w":"拉萨","x":true,"y":"2020-01-31","z":"1.00"},"e":"2020-05-07T08:30:00"}'
    )


def _raw(**changes):
    base = dict(
        county_code=["540102", "540102"],
        entity_id=["B", "A"],
        description_zh=["乙", "甲"],
        description_en=["b", "a"],
        evidence=[{"k": 2}, {"k": 1}],
        amount_yuan=[1.005, np.nan],
    )
    return finding_rows(**{**base, **changes})


def test_to_register_and_sort():
    reg = sort_register(to_register(_raw(), rule_id="C8", area="C", severity="high", entity_type="contract"))
    assert tuple(reg.columns) == REGISTER_COLUMNS
    assert reg["entity_id"].tolist() == ["A", "B"]
    assert reg["finding_id"].tolist() == [
        finding_id("C8", "contract", "A"),
        finding_id("C8", "contract", "B"),
    ]
    assert reg["evidence"].tolist() == ['{"k":1}', '{"k":2}']
    assert reg["township_code"].isna().all()
    assert reg["amount_yuan"].iloc[1] == 1.0  # rounded to the fen (1.005 is 1.00499... in binary)


def test_sort_follows_the_catalogue_not_the_alphabet():
    regs = [
        to_register(_raw(), rule_id=r, area=r[0], severity="low", entity_type="contract")
        for r in ("F10", "S2", "F2", "C9", "S10")
    ]
    assert sort_register(pd.concat(regs))["rule_id"].unique().tolist() == ["C9", "S2", "S10", "F2", "F10"]


def test_cross_county_rows_hash_the_county():
    raw = _raw(entity_id=["X", "X"], county_code=[COUNTY, OTHER], cross_county=True)
    reg = to_register(raw, rule_id="F4", area="F", severity="high", entity_type="person")
    assert reg["finding_id"].tolist() == [
        finding_id("F4", "person", "X", COUNTY),
        finding_id("F4", "person", "X", OTHER),
    ]


def test_combining_two_counties_that_raised_the_same_entity_keeps_ids_unique():
    a = to_register(_raw(entity_id=["ACC"], county_code=[COUNTY], description_zh=["x"], description_en=["x"],
                         evidence=[{}], amount_yuan=[1.0]), rule_id="F7", area="F", severity="medium",
                    entity_type="account")  # fmt: skip
    b = a.assign(county_code=OTHER)
    other = to_register(_raw(), rule_id="C8", area="C", severity="high", entity_type="contract")
    combined = combine_registers([a, b, other, empty_register()])
    assert combined["finding_id"].is_unique
    f7 = combined.loc[combined["rule_id"] == "F7"]
    assert f7["finding_id"].tolist() == [
        finding_id("F7", "account", "ACC", COUNTY),
        finding_id("F7", "account", "ACC", OTHER),
    ]
    # rows that did not clash keep the plain id
    assert finding_id("C8", "contract", "A") in set(combined["finding_id"])
    with pytest.raises(RuleError, match="combined twice"):
        combine_registers([a, a])


@pytest.fixture(scope="module")
def register():
    return small_register(P)


def _digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_same_inputs_give_byte_identical_files(tmp_path):
    first = write_register(small_register(P), tmp_path / "one")
    second = write_register(small_register(P), tmp_path / "two")
    for kind in ("parquet", "csv"):
        assert _digest(first[kind]) == _digest(second[kind]), kind


def test_parquet_reads_back_as_the_register(tmp_path, register):
    reg = register
    back = read_register(write_register(reg, tmp_path)["parquet"])
    pd.testing.assert_frame_equal(back, reg)


def test_csv_has_a_bom_neutralised_text_and_ids_as_text(tmp_path, register):
    path = write_register(register, tmp_path, stem="reg")["csv"]
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    back = pd.read_csv(path, encoding="utf-8-sig", dtype=str, keep_default_na=False)
    assert back.columns.tolist() == list(REGISTER_COLUMNS)
    c1 = back.loc[back["rule_id"] == "C1"].iloc[0]
    assert c1["entity_id"] == "0012"  # a leading zero kept
    assert c1["amount_yuan"] == "79504.00"
    assert json.loads(c1["evidence"])["contractor_name"] == '=HYPERLINK("x")'  # inside JSON: starts with {
    assert set(back.loc[back["rule_id"] == "C9", "entity_id"]) == {"0012", "'=1+1"}


def test_the_register_itself_keeps_values_as_found(register):
    assert "=1+1" in set(register["entity_id"])
