"""Rules C11 and F19: gaps and duplicates in numbers that follow a pattern."""

from __future__ import annotations

import json

import pandas as pd

from audit.rules import run_rule
from audit.rules.sequences import series_of, split_numbers
from fixtures.rule_tables import COUNTY, frame, params, resident_id

P = params()
ONE = resident_id(seq="011")


def payments(*ids):
    return frame("relief_payments", *[{"payment_id": i, "person_id": ONE} for i in ids])


def vouchers(*ids):
    return frame("fund_payments", *[{"voucher_no": i} for i in ids])


def contracts(*ids):
    return frame("contracts", *[{"contract_id": i} for i in ids])


def run(rule_id, p=P, **tables):
    return run_rule(rule_id, tables, p, scope="county", county=COUNTY)


def test_numbers_split_into_prefix_and_running_number():
    head, number, width = split_numbers(pd.Series(["记-540102-2020-0007", "P12", "无号"]))
    assert head.tolist() == ["记-540102-2020-", "P", ""]
    assert number.tolist() == [7, 12, 0]
    assert width.tolist() == [4, 2, 0]


def test_long_digit_numbers_find_their_running_part():
    ids = [f"540102202001{n:07d}" for n in range(1, 6)] + [f"540102202002{n:07d}" for n in range(1, 4)]
    _, group, lo, k = series_of(pd.Series(ids), 3)
    assert k == 7
    assert group.tolist() == [0, 0, 0, 0, 0, 1, 1, 1]
    assert lo.tolist() == [1, 2, 3, 4, 5, 1, 2, 3]


def test_f19_a_missing_payment_number_fires_and_a_full_run_does_not():
    full = [f"540102202001{n:07d}" for n in range(1, 8)] + [f"540102202002{n:07d}" for n in range(1, 4)]
    assert run("F19", relief_payments=payments(*full)).results.iloc[0]["status"] == "clean"
    gap = [x for x in full if x not in ("5401022020010000003", "5401022020010000004")]
    f = run("F19", relief_payments=payments(*gap)).findings
    assert f["entity_type"].tolist() == ["series"]
    assert f["entity_id"].tolist() == ["relief_payments:540102202001#######"]
    ev = json.loads(f["evidence"].iloc[0])
    assert ev["missing"] == 2
    assert ev["missing_ranges"] == ["5401022020010000003~5401022020010000004"]
    assert ev["duplicates"] == []


def test_f19_one_number_written_twice_is_a_duplicate():
    f = run("F19", relief_payments=payments("P001", "P002", "P2", "P003")).findings
    ev = json.loads(f["evidence"].iloc[0])
    assert ev["duplicates"] == ["P002", "P2"]
    assert ev["missing"] == 0


def test_f19_series_shorter_than_the_minimum_and_numbers_without_a_pattern_are_not_tested():
    assert run("F19", relief_payments=payments("P1", "P3")).findings.empty  # two numbers: no series
    out = run("F19", relief_payments=payments("甲", "乙", "丙", "P1", "P3", "P5"))
    assert out.findings.empty
    assert "not tested: no numbering pattern" in out.results.iloc[0]["reason_en"]


def test_c11_voucher_gap_and_contract_duplicate():
    v = vouchers("记-540102-2020-0001", "记-540102-2020-0002", "记-540102-2020-0004")
    c = contracts("GM2020-540102-01", "GM2020-540102-02", "GM2020-540102-002")
    f = run("C11", fund_payments=v, contracts=c).findings
    assert f["entity_id"].tolist() == ["contracts:GM2020-540102-###", "fund_payments:记-540102-2020-####"]
    ev = {e["table"]: e for e in map(json.loads, f["evidence"])}
    assert ev["fund_payments"]["missing_ranges"] == ["记-540102-2020-0003"]
    assert ev["contracts"]["duplicates"] == ["GM2020-540102-002", "GM2020-540102-02"]


def test_c11_not_run_without_parameters():
    v = vouchers("记-1", "记-2", "记-4")
    result = run("C11", p=params(numbering=None), fund_payments=v, contracts=contracts("A1")).results
    assert result.iloc[0]["status"] == "not_run"
    assert "numbering" in result.iloc[0]["reason_en"]
