"""Rules C1-C9 on hand-made contracts, staff and fund tables: each fires, each near miss does not."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from audit.rules import run_rule
from fixtures.rule_tables import CITY, COUNTY, OTHER, TOWN, TOWN2, credit_code, frame, one_township, params

P = params()


def run(rule_id, scope="county", county=None, p=P, **tables):
    if scope == "county" and county is None:
        county = COUNTY
    return run_rule(rule_id, tables, p, scope=scope, county=county)


def found(rule_id, scope="county", p=P, **tables):
    return run(rule_id, scope=scope, p=p, **tables).findings


def evidence(findings, i=0):
    return json.loads(findings["evidence"].iloc[i])


# C1 ------------------------------------------------------------------------------------------


def test_c1_eligible_contractor_registered_on_signing_day_is_clean():
    contracts = frame(
        "contracts",
        {"contract_id": "A", "contractor_type": "劳务公司", "contractor_registered_on": "2019-12-20"},
        {"contract_id": "B"},
    )
    assert found("C1", contracts=contracts).empty


@pytest.mark.parametrize(
    ("row", "problem"),
    [
        ({"contractor_type": "其他"}, "type"),
        ({"contractor_type": "事业单位"}, "type"),
        ({"contractor_uscc": credit_code("52540102MJ000001")[:17] + "0"}, "credit_code"),
        ({"contractor_registered_on": "2019-12-21"}, "registered_after_signing"),
    ],
)
def test_c1_fires_on_each_ineligibility(row, problem):
    if problem == "credit_code":
        assert row["contractor_uscc"] != credit_code("52540102MJ000001")
    f = found("C1", contracts=frame("contracts", {"contract_id": "HT-9", "amount_yuan": 5000.0, **row}))
    assert f["entity_id"].tolist() == ["HT-9"]
    assert f["entity_type"].tolist() == ["contract"]
    assert f["severity"].tolist() == ["high"]
    assert f["amount_yuan"].tolist() == [5000.0]
    assert evidence(f)["problems"] == [problem]


def test_c1_not_run_without_contracts():
    result = run("C1").results.iloc[0]
    assert result["status"] == "not_run"
    assert result["reason_en"] == "not run: no contracts table supplied"
    assert result["reason_zh"] == "未运行：未提供购买服务合同表"


# C2 ------------------------------------------------------------------------------------------


def test_c2_full_leap_year_signed_before_start_is_clean():
    contracts = frame(
        "contracts",
        {"contract_id": "A", "signed_on": "2020-01-01"},  # signed on the first day: not after it
    )
    assert found("C2", contracts=contracts).empty


@pytest.mark.parametrize(
    ("row", "problems"),
    [
        ({"signed_on": "2020-01-02"}, ["signed_after_start"]),
        ({"service_start": "2020-06-01", "service_end": "2020-05-31"}, ["end_before_start"]),
        ({"service_end": "2021-01-01"}, ["term_too_long", "outside_year"]),  # 367 days
        ({"service_start": "2019-12-31", "service_end": "2020-06-30"}, ["outside_year"]),
        ({"service_start": "2020-07-01", "service_end": "2021-01-31"}, ["outside_year"]),
    ],
)
def test_c2_fires(row, problems):
    f = found("C2", contracts=frame("contracts", {"contract_id": "X", "signed_on": "2019-12-01", **row}))
    assert f["entity_id"].tolist() == ["X"]
    assert evidence(f)["problems"] == problems
    assert f["amount_yuan"].isna().all()


def test_c2_term_boundary_follows_the_parameter():
    p = params(purchase={"max_contract_term_days": 200})
    at = frame("contracts", {"contract_id": "A", "service_start": "2020-01-01", "service_end": "2020-07-18"})
    over = frame(
        "contracts", {"contract_id": "B", "service_start": "2020-01-01", "service_end": "2020-07-19"}
    )
    assert found("C2", p=p, contracts=at).empty  # 31+29+31+30+31+30+18 = 200 days
    f = found("C2", p=p, contracts=over)
    assert evidence(f)["term_days"] == 201


# C3 ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("amount", [79504.00, 79505.00, 79503.00])
def test_c3_within_one_yuan_is_clean(amount):
    assert found("C3", contracts=frame("contracts", {"contract_id": "A", "amount_yuan": amount})).empty


@pytest.mark.parametrize(("amount", "at_stake"), [(79505.01, 1.01), (79502.99, 1.01), (159008.00, 79504.00)])
def test_c3_beyond_tolerance_fires(amount, at_stake):
    f = found("C3", contracts=frame("contracts", {"contract_id": "A", "amount_yuan": amount}))
    assert f["amount_yuan"].tolist() == [at_stake]
    assert evidence(f)["expected_yuan"] == "79504.00"


def test_c3_prorates_by_service_months():
    half = frame(
        "contracts",
        {"contract_id": "H", "positions": 3, "service_end": "2020-06-30", "amount_yuan": 119256.00},
    )
    assert found("C3", contracts=half).empty  # 3 x 79,504 x 6/12
    f = found("C3", contracts=half.assign(amount_yuan=238512.00))  # billed the full year for half a year
    assert f["amount_yuan"].tolist() == [119256.00]
    assert evidence(f)["service_months"] == 6


# C4 ------------------------------------------------------------------------------------------


def _two_towns():
    return frame("divisions", one_township(TOWN), one_township(TOWN2, "乡"))


def test_c4_county_at_its_share_is_clean_one_fen_above_fires():
    at = frame(
        "contracts",
        {"contract_id": "A", "amount_yuan": 100000.0},
        {"contract_id": "B", "amount_yuan": 59008.0},
    )
    assert found("C4", contracts=at, divisions=_two_towns()).empty  # 2 offices x 79,504 = 159,008
    above = at.assign(amount_yuan=[100000.0, 59008.01])
    f = found("C4", contracts=above, divisions=_two_towns())
    assert f[["entity_type", "entity_id", "county_code"]].values.tolist() == [["county", COUNTY, COUNTY]]
    assert f["amount_yuan"].tolist() == [0.01]
    assert evidence(f)["township_offices"] == 2


def test_c4_county_part_does_not_run_for_the_city_bureau():
    contracts = frame("contracts", {"contract_id": "C", "county_code": CITY})
    result = run("C4", county=CITY, contracts=contracts, divisions=_two_towns()).results.iloc[0]
    assert result["status"] == "not_run"
    assert "city bureau" in result["reason_en"]


def test_c4_city_total_against_the_approved_budget():
    budget = frame(
        "contracts",
        {"contract_id": "A", "amount_yuan": 6000000.0},
        {"contract_id": "B", "county_code": OTHER, "amount_yuan": 280816.0},
    )
    assert found("C4", scope="city", contracts=budget, divisions=_two_towns()).empty
    f = found(
        "C4", scope="city", contracts=budget.assign(amount_yuan=[6000000.0, 280816.5]), divisions=_two_towns()
    )
    assert f[["entity_id", "county_code", "amount_yuan"]].values.tolist() == [[CITY, CITY, 0.5]]
    assert evidence(f)["by_county_yuan"] == {COUNTY: "6000000.00", OTHER: "280816.50"}


# C5 ------------------------------------------------------------------------------------------


def _allocations():
    return frame(
        "fund_allocations",
        {"allocation_id": "A1", "amount_yuan": 600000.0},
        {"allocation_id": "A2", "county_code": OTHER, "purpose": "购买服务", "amount_yuan": 400000.0},
        {"allocation_id": "A3", "fund": "县级财政", "purpose": "购买服务", "amount_yuan": 900000.0},
    )


def _special_payments(*amounts, fund="社会救助专项资金"):
    counties = [COUNTY, OTHER]
    return frame(
        "fund_payments",
        *[
            {"voucher_no": f"V{i}", "amount_yuan": a, "county_code": counties[i % 2], "fund": fund}
            for i, a in enumerate(amounts)
        ],
    )


def test_c5_exactly_the_cap_city_wide_is_clean():
    # cap: 4% of the special fund's 1,000,000 (county budget excluded) = 40,000, pooled over counties
    pay = _special_payments(30000.0, 10000.0)
    assert found("C5", scope="city", fund_payments=pay, fund_allocations=_allocations()).empty


def test_c5_one_fen_above_the_cap_fires_for_the_city():
    pay = _special_payments(30000.0, 10000.01)
    f = found("C5", scope="city", fund_payments=pay, fund_allocations=_allocations())
    assert f[["entity_type", "entity_id", "county_code", "amount_yuan"]].values.tolist() == [
        ["city", CITY, CITY, 0.01]
    ]
    assert evidence(f)["cap_yuan"] == "40000.00"


def test_c5_a_county_over_its_own_four_percent_is_fine_when_the_city_is_under():
    pay = frame("fund_payments", {"voucher_no": "V", "amount_yuan": 39000.0})  # 6.5% of 540102's 600,000
    assert found("C5", scope="city", fund_payments=pay, fund_allocations=_allocations()).empty


def test_c5_county_budget_payments_do_not_count():
    pay = _special_payments(30000.0, 500000.0, fund="县级财政")
    assert found("C5", scope="city", fund_payments=pay, fund_allocations=_allocations()).empty


# C6 ------------------------------------------------------------------------------------------


def _c6_allocations(county_budget):
    return frame(
        "fund_allocations",
        {"allocation_id": "SF", "purpose": "购买服务", "amount_yuan": 3000.0},
        {"allocation_id": "CB", "fund": "县级财政", "purpose": "购买服务", "amount_yuan": county_budget},
        {"allocation_id": "RL", "fund": "县级财政", "purpose": "救助金", "amount_yuan": 99999.0},
    )


def test_c6_county_budget_covering_the_rest_is_clean():
    assert found(
        "C6", contracts=frame("contracts", {"contract_id": "A"}), fund_allocations=_c6_allocations(76504.0)
    ).empty


def test_c6_shortfall_of_one_fen_fires():
    f = found(
        "C6", contracts=frame("contracts", {"contract_id": "A"}), fund_allocations=_c6_allocations(76503.99)
    )
    assert f[["entity_type", "entity_id", "amount_yuan"]].values.tolist() == [["county", COUNTY, 0.01]]


def test_c6_does_not_run_for_the_city_bureau():
    contracts = frame("contracts", {"contract_id": "C", "county_code": CITY})
    allocations = _c6_allocations(0.0).assign(county_code=CITY)
    assert run("C6", county=CITY, contracts=contracts, fund_allocations=allocations).results[
        "status"
    ].tolist() == ["not_run"]


# C7 ------------------------------------------------------------------------------------------


def _monthly(amount=6625.33, contract="HT-1"):
    return frame(
        "fund_payments",
        *[
            {
                "voucher_no": f"V{m}",
                "amount_yuan": amount,
                "covers_month": f"2020-{m:02d}",
                "contract_id": contract,
            }
            for m in range(1, 13)
        ],
    )


def test_c7_fires_for_paid_months_nobody_filled():
    staff = frame(
        "staff",
        {"staff_id": "A", "left_on": "2020-03-10"},
        {"staff_id": "B", "hired_on": "2020-06-01"},
    )
    f = found("C7", contracts=frame("contracts", {}), staff=staff, fund_payments=_monthly())
    assert f["entity_id"].tolist() == ["HT-1"]
    assert f["amount_yuan"].tolist() == [13250.67]  # 2 x 79,504 / 12: April and May
    assert [m["month"] for m in evidence(f)["months"]] == ["2020-04", "2020-05"]


def test_c7_one_day_in_post_fills_the_month():
    staff = frame(
        "staff",
        {"staff_id": "A", "left_on": "2020-04-01"},
        {"staff_id": "B", "hired_on": "2020-05-31"},
    )
    assert found("C7", contracts=frame("contracts", {}), staff=staff, fund_payments=_monthly()).empty


def test_c7_a_worker_filed_in_another_countys_partition_fills_this_countys_contract():
    # Posted in a township of OTHER, so filed there; paid under COUNTY's contract HT-1.
    staff = frame("staff", {"staff_id": "A", "county_code": OTHER, "post_code": "540103001"})
    assert found("C7", contracts=frame("contracts", {}), staff=staff, fund_payments=_monthly()).empty
    alone = frame(
        "staff", {"staff_id": "A", "county_code": OTHER, "post_code": "540103001", "contract_id": "HT-9"}
    )
    assert not found("C7", contracts=frame("contracts", {}), staff=alone, fund_payments=_monthly()).empty


def test_c7_staff_of_another_contract_do_not_fill():
    staff = frame("staff", {"staff_id": "A", "contract_id": "HT-2"})
    f = found("C7", contracts=frame("contracts", {}), staff=staff, fund_payments=_monthly())
    assert evidence(f)["unfilled_position_months"] == 12
    assert f["amount_yuan"].tolist() == [79504.00]


def test_c7_two_positions_paid_one_filled():
    staff = frame("staff", {"staff_id": "A"})
    f = found(
        "C7", contracts=frame("contracts", {"positions": 2}), staff=staff, fund_payments=_monthly(13250.67)
    )
    assert evidence(f)["unfilled_position_months"] == 12


# C8 ------------------------------------------------------------------------------------------


def _paid(*amounts, purpose="购买服务"):
    return frame(
        "fund_payments",
        *[{"voucher_no": f"V{i}", "amount_yuan": a, "purpose": purpose} for i, a in enumerate(amounts)],
    )


def test_c8_paid_up_to_amount_plus_tolerance_is_clean():
    assert found("C8", contracts=frame("contracts", {}), fund_payments=_paid(70000.0, 9505.0)).empty


def test_c8_paid_beyond_the_tolerance_fires():
    f = found("C8", contracts=frame("contracts", {}), fund_payments=_paid(70000.0, 9505.01))
    assert f[["entity_id", "amount_yuan"]].values.tolist() == [["HT-1", 1.01]]
    assert evidence(f)["paid_yuan"] == "79505.01"


def test_c8_other_purposes_do_not_count():
    assert found("C8", contracts=frame("contracts", {}), fund_payments=_paid(90000.0, purpose="其他")).empty


# C9 ------------------------------------------------------------------------------------------


def test_c9_notes_every_contract_bought_by_position():
    f = found("C9", contracts=frame("contracts", {"contract_id": "A"}, {"contract_id": "B", "positions": 12}))
    assert f["entity_id"].tolist() == ["A", "B"]
    assert set(f["severity"]) == {"info"}
    assert f["amount_yuan"].isna().all()


def test_c9_no_contracts_is_clean():
    result = run("C9", contracts=frame("contracts")).results.iloc[0]
    assert result["status"] == "clean"
    assert result["reason_en"] == "clean"


def test_county_run_ignores_other_counties_rows():
    contracts = frame("contracts", {"contract_id": "A", "county_code": OTHER, "contractor_type": "其他"})
    assert found_in(COUNTY, contracts).empty
    assert found_in(OTHER, contracts)["entity_id"].tolist() == ["A"]


def found_in(county, contracts):
    return run_rule("C1", {"contracts": contracts}, P, scope="county", county=county).findings


def test_descriptions_are_one_line():
    f = found("C1", contracts=frame("contracts", {"contract_id": "A", "contractor_type": "其他"}))
    for text in (*f["description_zh"], *f["description_en"]):
        assert "\n" not in text and text
    assert pd.notna(f["finding_id"]).all()


def test_c8_says_when_payments_name_a_contract_it_does_not_have():
    pay = _paid(100.0).assign(contract_id="HT-X")
    result = run("C8", contracts=frame("contracts", {}), fund_payments=pay).results.iloc[0]
    assert result["status"] == "clean"
    assert result["reason_en"] == "clean; 1 paid contract id(s) not in the contracts table, not compared"
    assert result["reason_zh"] == "未发现问题；1 个合同编号不在合同表中，其支付未比较"


def test_c7_counts_the_months_of_the_audit_year_only():
    pay = frame("fund_payments", {"voucher_no": "V0", "amount_yuan": 6625.33, "covers_month": "2019-12"})
    staff = frame("staff", {"staff_id": "A"})
    assert found("C7", contracts=frame("contracts", {}), staff=staff, fund_payments=pay).empty
    assert not found(
        "C7", contracts=frame("contracts", {}), staff=staff.iloc[0:0], fund_payments=_monthly()
    ).empty


# C10 ------------------------------------------------------------------------------------------


def test_c10_signed_before_the_plan_was_approved_fires_and_the_day_itself_passes():
    c = frame(
        "contracts",
        {"contract_id": "HT-1", "signed_on": "2020-01-08"},  # the day before approval (2020-01-09)
        {"contract_id": "HT-2", "signed_on": "2020-01-09"},  # the day of approval: passes
        {"contract_id": "HT-3", "signed_on": "2020-01-10"},
    )
    f = found("C10", contracts=c)
    assert f["entity_id"].tolist() == ["HT-1"]
    ev = json.loads(f["evidence"].iloc[0])
    assert ev["plan_approved_on"] == "2020-01-09"
    assert ev["days_before"] == 1
    assert f["amount_yuan"].tolist() == [79504.0]


def test_c10_not_run_without_an_approval_date():
    p = params(purchase={"plan_approved_on": None})
    result = run("C10", p=p, contracts=frame("contracts", {"contract_id": "HT-1"})).results.iloc[0]
    assert result["status"] == "not_run"
    assert "purchase.plan_approved_on" in result["reason_en"]
