"""Rule F18: suspected duplicate people, on Chinese and Tibetan names."""

from __future__ import annotations

import json

import pandas as pd

from audit.rules import run_rule
from audit.rules.duplicates import birth_dates, name_match, pinyin
from fixtures.rule_tables import COUNTY, TOWN, TOWN2, frame, params, resident_id

P = params()


def found(p=P, **tables):
    return run_rule("F18", tables, p, scope="county", county=COUNTY).findings


def person(name, birth="19700305", seq="011", **row):
    return {"person_id": resident_id(birth=birth, seq=seq), "name": name, **row}


def test_names_match_on_characters_on_pinyin_and_within_one_edit():
    assert pinyin("扎西") == pinyin("扎喜") == "zha xi"
    assert name_match("次仁", "次仁", max_edits=1, match_pinyin=True) == "same"
    assert name_match("扎西", "扎喜", max_edits=1, match_pinyin=True) == "homophone"
    assert name_match("扎西", "扎喜", max_edits=1, match_pinyin=False) == "edit"
    assert name_match("扎西次仁", "扎西次旦", max_edits=1, match_pinyin=True) == "edit"
    assert name_match("扎西次仁", "扎西多吉", max_edits=1, match_pinyin=True) is None  # two apart
    assert name_match("扎西", "扎喜", max_edits=0, match_pinyin=False) is None
    assert name_match("扎西", None, max_edits=1, match_pinyin=True) is None


def test_birth_dates_come_from_the_id_number():
    assert birth_dates(pd.Series([resident_id(birth="19700305")])).tolist() == ["19700305"]


def test_homophone_with_one_birth_date_in_one_township_is_a_suspected_duplicate():
    roll = frame(
        "beneficiaries",
        person("扎西", seq="011", household_id="H1", bank_account="6217000000000001"),
        person("扎喜", seq="022", household_id="H2", bank_account="6217000000000002"),
    )
    f = found(beneficiaries=roll)
    assert len(f) == 1
    a, b = sorted([resident_id(birth="19700305", seq="011"), resident_id(birth="19700305", seq="022")])
    assert f["entity_type"].iloc[0] == "person"
    assert f["entity_id"].iloc[0] == f"{a}/{b}"
    assert f["severity"].iloc[0] == "low"
    ev = json.loads(f["evidence"].iloc[0])
    assert ev["name_match"] == "homophone"
    assert ev["links"] == ["same_township"]
    assert ev["status"] == "suspected"
    assert ev["household_ids"] == ["H1", "H2"]
    assert "待核实" in f["description_zh"].iloc[0]


def test_same_name_in_another_township_linked_by_the_bank_account():
    roll = frame(
        "beneficiaries",
        person("次仁", seq="011", division_code=TOWN, bank_account="6217000000000001"),
        person("次仁", seq="022", division_code=TOWN2, bank_account="6217000000000001"),
    )
    f = found(beneficiaries=roll)
    assert json.loads(f["evidence"].iloc[0])["links"] == ["same_account"]
    assert json.loads(f["evidence"].iloc[0])["name_match"] == "same"


def test_no_flag_for_a_common_name_without_one_birth_date_or_without_a_shared_place():
    roll = frame(
        "beneficiaries",
        person("扎西", birth="19700305", seq="011"),
        person("扎西", birth="19700306", seq="022"),  # one day apart: different people
        person("扎西", birth="19810101", seq="033", division_code=TOWN, bank_account="6217000000000003"),
        person("扎西", birth="19810101", seq="044", division_code=TOWN2, bank_account="6217000000000004"),
        person("卓玛", birth="19900101", seq="055"),
        person("次仁", birth="19900101", seq="066"),  # same day, same township, names far apart
    )
    assert found(beneficiaries=roll).empty


def test_one_person_on_two_rolls_is_not_a_near_duplicate_of_themselves():
    roll = frame(
        "beneficiaries",
        person("扎西", seq="011", programme="城市低保"),
        person("扎西", seq="011", programme="特困分散供养"),
    )
    assert found(beneficiaries=roll).empty


def test_severity_is_a_parameter():
    roll = frame("beneficiaries", person("扎西", seq="011"), person("扎喜", seq="022"))
    p = params(relief={"near_duplicates": {"severity": "info", "max_name_edits": 1, "match_pinyin": True}})
    assert found(p=p, beneficiaries=roll)["severity"].tolist() == ["info"]


def test_not_run_without_parameters():
    roll = frame("beneficiaries", person("扎西", seq="011"))
    result = run_rule("F18", {"beneficiaries": roll}, params(relief={"near_duplicates": None}), county=COUNTY)
    assert result.results.iloc[0]["status"] == "not_run"
    assert "relief.near_duplicates" in result.results.iloc[0]["reason_en"]
