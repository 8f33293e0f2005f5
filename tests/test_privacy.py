"""Masking of ID numbers, names, accounts, evidence and free text."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from audit import privacy

ID = "540102199001011234"
ACCOUNT = "6217000012345678"


def test_id_numbers_keep_first_six_and_last_four():
    assert privacy.mask_id_number(ID) == "540102********1234"
    assert privacy.mask_id_number("54010219900101123X") == "540102********123X"
    assert privacy.mask_id_number("540102900101123") == "540102*****1123"  # old 15-digit IDs
    assert privacy.mask_id_number("12345") == "*2345"


def test_accounts_keep_the_last_four_digits():
    assert privacy.mask_account(ACCOUNT) == "************5678"
    assert privacy.mask_account("1234") == "****"


def test_names_keep_the_first_character_only():
    assert privacy.mask_name("张三") == "张*"
    assert privacy.mask_name("欧阳娜娜") == "欧***"
    assert privacy.mask_name("扎西次仁") == "扎***"  # Tibetan: no family name, one syllable kept
    assert privacy.mask_name("卓玛") == "卓*"
    assert privacy.mask_name("<script>alert(1)</script>") == "<***"  # at most 3 stars: length hidden
    assert privacy.mask_name("王") == "*"


def test_free_text_has_id_numbers_and_known_values_masked_but_not_other_keys():
    payment, household = "5401022020010000001", "540102001000001"  # as long as accounts: not personal
    text = f"身份证{ID}，账号{ACCOUNT}，流水号{payment}，户{household}，流水号P{ID}，金额 79504.00"
    assert privacy.mask_text(text) == (
        f"身份证540102********1234，账号{ACCOUNT}，流水号{payment}，户{household}，流水号P{ID}，金额 79504.00"
    )
    assert privacy.mask_text(text, {ACCOUNT: "************5678"}).startswith(
        "身份证540102********1234，账号************5678，流水号5401022020010000001，"
    )
    assert privacy.mask_text("540102202001000001") == "540102202001000001"  # no real birth date in it


def test_evidence_is_masked_by_key_and_stays_sorted_json():
    evidence = json.dumps(
        {
            "name": "扎西次仁",
            "person_id": ID,
            "bank_account": ACCOUNT,
            "amount": "847.00",
            "members": [{"name": "卓玛", "id_number": ID}],
            "note": f"same as {ID}",
        },
        ensure_ascii=False,
        sort_keys=True,
    )
    masked = json.loads(privacy.mask_evidence(evidence))
    assert masked == {
        "amount": "847.00",
        "bank_account": "************5678",
        "members": [{"id_number": "540102********1234", "name": "卓*"}],
        "name": "扎***",
        "note": "same as 540102********1234",
        "person_id": "540102********1234",
    }
    assert privacy.mask_evidence(f"not json {ID}") == "not json 540102********1234"


def test_evidence_keyed_by_id_numbers_has_its_keys_masked_and_kept_apart():
    other = "540102199001019234"  # masks as ID does but for its last four: 540102********9234
    twin = "540102199001021234"  # masks exactly as ID does
    evidence = json.dumps(
        {"person_ids": [ID, other], "persons": {ID: [{"name": "扎西次仁"}], other: [], twin: [{"x": 1}]}},
        ensure_ascii=False,
    )
    masked = json.loads(privacy.mask_evidence(evidence))
    assert masked["persons"] == {
        "540102********1234": [{"name": "扎***"}],
        "540102********9234": [],
        "540102********1234'": [{"x": 1}],
    }
    assert ID not in privacy.mask_evidence(evidence) and twin not in privacy.mask_evidence(evidence)


def _findings() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "rule_id": ["F2", "F7", "F3"],
            "entity_type": ["person", "account", "payment"],
            "entity_id": [ID, ACCOUNT, "5401022020010000001"],
            "description_zh": ["扎西次仁死亡后仍领取救助金", f"账户 {ACCOUNT} 收取多户救助金", "重复发放"],
            "description_en": ["扎西次仁 paid after death", "one account, several households", "paid twice"],
            "evidence": [
                json.dumps({"name": "扎西次仁", "person_id": ID}, ensure_ascii=False),
                json.dumps({"household_ids": ["540102001000001", "540102001000002"]}),
                json.dumps({"payment_id": "5401022020010000001", "note": f"same account {ACCOUNT}"}),
            ],
            "amount_yuan": [847.0, float("nan"), 1600.0],
        }
    )


def test_findings_have_entities_evidence_and_known_values_in_any_text_masked():
    masked = privacy.mask_findings(_findings())
    assert masked["entity_id"].tolist() == ["540102********1234", "************5678", "5401022020010000001"]
    assert masked["description_zh"].tolist() == [
        "扎***死亡后仍领取救助金",
        "账户 ************5678 收取多户救助金",
        "重复发放",
    ]
    assert masked["description_en"].iloc[0] == "扎*** paid after death"
    assert json.loads(masked["evidence"].iloc[0]) == {"name": "扎***", "person_id": "540102********1234"}
    assert json.loads(masked["evidence"].iloc[1]) == {"household_ids": ["540102001000001", "540102001000002"]}
    assert json.loads(masked["evidence"].iloc[2]) == {
        "note": "same account ************5678",  # known from the F7 row's entity
        "payment_id": "5401022020010000001",
    }
    assert list(masked.columns) == list(_findings().columns)
    assert masked["amount_yuan"].iloc[0] == 847.0


def test_full_mode_changes_nothing():
    findings = _findings()
    pd.testing.assert_frame_equal(privacy.mask_findings(findings, "full"), findings)


def test_frames_are_masked_by_column_name_and_those_values_elsewhere():
    roll = pd.DataFrame(
        {
            "name": ["张三", None],
            "person_id": [ID, ID],
            "bank_account": [ACCOUNT, None],
            "programme": ["城市低保"] * 2,
            "note": [f"paid into {ACCOUNT}", None],
        },
    ).astype("str")
    roll.loc[1, ["name", "bank_account", "note"]] = pd.NA
    masked = privacy.mask_frame(roll)
    assert masked["name"].iloc[0] == "张*" and pd.isna(masked["name"].iloc[1])
    assert masked["person_id"].tolist() == ["540102********1234"] * 2
    assert masked["bank_account"].iloc[0] == "************5678"
    assert masked["programme"].tolist() == ["城市低保"] * 2
    assert masked["note"].iloc[0] == "paid into ************5678"


def test_quality_values_are_masked_as_their_column_and_place_names_are_kept():
    issues = pd.DataFrame(
        {
            "table": ["beneficiaries", "divisions", "relief_payments"],
            "column": ["name", "name", "person_id"],
            "value": ["扎西次仁", "八廓街道", "5.40102E+17"],
        }
    )
    assert privacy.mask_quality(issues)["value"].tolist() == ["扎***", "八廓街道", "5.4010*E+17"]
    assert privacy.mask_quality(issues, "full")["value"].tolist() == issues["value"].tolist()


def test_an_unknown_mode_is_refused():
    with pytest.raises(ValueError, match="masked, full"):
        privacy.mask_frame(pd.DataFrame({"a": ["x"]}), "partial")


def test_known_values_are_masked_literally_and_the_longest_wins_where_they_overlap():
    known = {"王小明": "王**", "王小明华": "王***", "a.b(c": "a****"}
    assert privacy.mask_text("王小明华与王小明 a.b(c axb(c", known) == "王***与王** a**** axb(c"


def test_error_texts_have_id_numbers_and_long_digit_runs_masked():
    text = "ValueError: bad row 540102199001011234, account 6217000000001234, row 12"
    assert privacy.mask_diagnostic(text) == (
        "ValueError: bad row 540102********1234, account ************1234, row 12"
    )


def test_error_texts_have_the_names_they_are_given_masked_wherever_they_stand():
    names = privacy.Names(["扎西次仁", "卓玛", "Tashi", "王", " 张三丰 ", None, 7])
    assert len(names) == 4  # a one-character name, a missing one and a number are not names
    text = "KeyError: '扎西次仁卓玛' row 540102199001011234; Tashi, Tashiro, 王五 and 张三丰."
    assert privacy.mask_diagnostic(text, names) == (
        "KeyError: '扎***卓*' row 540102********1234; T***, Tashiro, 王五 and 张**."
    )
    assert privacy.mask_diagnostic("卓玛", None) == "卓玛"  # no names known: none masked
    assert privacy.Names([]).mask("卓玛") == "卓玛"


def test_the_longest_name_wins_where_names_overlap():
    names = privacy.Names(["次仁", "扎西次仁", "次仁卓玛"])
    assert names.mask("扎西次仁卓玛") == "扎***卓玛"  # 扎西次仁 starts first; 卓玛 alone is no name here
    assert names.mask("次仁卓玛 次仁") == "次*** 次*"
