"""Rules F1-F11 on hand-made rolls and payments: each fires, each near miss does not."""

from __future__ import annotations

import json

import numpy as np
import pytest

from audit.rules import run_rule
from fixtures.rule_tables import CITY, COUNTY, OTHER, TOWN, TOWN2, frame, one_township, params, resident_id

P = params()
ONE = resident_id(seq="011")
TWO = resident_id(seq="022")
THREE = resident_id(seq="033")


def run(rule_id, scope="county", county=None, p=P, **tables):
    if scope == "county" and county is None:
        county = COUNTY
    return run_rule(rule_id, tables, p, scope=scope, county=county)


def found(rule_id, scope="county", p=P, **tables):
    return run(rule_id, scope=scope, p=p, **tables).findings


def evidence(findings, i=0):
    return json.loads(findings["evidence"].iloc[i])


def payments(*rows):
    return frame(
        "relief_payments", *[{"payment_id": f"P{i}", "person_id": ONE, **r} for i, r in enumerate(rows, 1)]
    )


# F1 ------------------------------------------------------------------------------------------


def test_f1_payments_within_enrolment_are_clean():
    roll = frame("beneficiaries", {"person_id": ONE, "enrolled_on": "2020-01-31", "exited_on": "2020-03-01"})
    pay = payments({"period": "2020-01"}, {"period": "2020-03"})  # the enrolment touches both months
    assert found("F1", relief_payments=pay, beneficiaries=roll).empty


def test_f1_fires_off_the_roll_and_outside_enrolment():
    roll = frame(
        "beneficiaries",
        {"person_id": ONE, "enrolled_on": "2020-01-01", "exited_on": "2020-03-01"},
    )
    pay = payments(
        {"period": "2019-12"},  # ends before enrolment
        {"period": "2020-04"},  # begins after exit
        {"person_id": TWO},  # nobody on the roll
        {"programme": "农村低保"},  # on the roll, but for another programme
    )
    f = found("F1", relief_payments=pay, beneficiaries=roll)
    assert f["entity_id"].tolist() == ["P1", "P2", "P3", "P4"]
    assert [json.loads(e)["problem"] for e in f["evidence"]] == [
        "before_enrolment",
        "after_exit",
        "not_on_roll",
        "not_on_roll",
    ]
    assert f["amount_yuan"].tolist() == [847.0] * 4
    assert f["township_code"].tolist()[:2] == [TOWN, TOWN]


# F2 ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("died", "period", "fires"),
    [
        ("2020-03-15", "2020-03", False),
        ("2020-03-15", "2020-04", True),
        ("2020-03-31", "2020-04", True),
        ("2020-04-01", "2020-04", False),
    ],
)
def test_f2_period_beginning_after_death(died, period, fires):
    f = found(
        "F2",
        relief_payments=payments({"period": period}),
        deaths=frame("deaths", {"person_id": ONE, "died_on": died}),
    )
    assert (not f.empty) is fires
    if fires:
        assert evidence(f)["died_on"] == died


def test_f2_counts_and_sums_the_months_paid_after_death_per_person():
    pay = payments(
        {"period": "2020-03", "amount_yuan": 847.0},  # the month of death: not a finding
        {"period": "2020-04", "amount_yuan": 847.0},
        {"period": "2020-05", "amount_yuan": 800.5},
        {"person_id": TWO, "period": "2020-06", "amount_yuan": 100.0},
    )
    deaths = frame("deaths", {"person_id": ONE, "died_on": "2020-03-15"}, {"person_id": TWO})
    f = found("F2", relief_payments=pay, deaths=deaths)
    assert f["entity_id"].tolist() == ["P2", "P3", "P4"]
    assert [evidence(f, i)["person_months_after_death"] for i in range(3)] == [2, 2, 1]
    assert [evidence(f, i)["person_paid_after_death_yuan"] for i in range(3)] == [
        "1647.50",
        "1647.50",
        "100.00",
    ]


def test_f2_not_run_without_a_death_register():
    result = run("F2", relief_payments=payments({})).results.iloc[0]
    assert result["status"] == "not_run"
    assert result["reason_en"] == "not run: no death register supplied"
    assert result["reason_zh"] == "未运行：未提供死亡人员名单"


# F3 ------------------------------------------------------------------------------------------


def test_f3_every_payment_after_the_first_is_a_duplicate():
    pay = payments(
        {"paid_on": "2020-02-10", "amount_yuan": 847.0},
        {"paid_on": "2020-02-05", "amount_yuan": 800.0},  # the earliest: the original
        {"paid_on": "2020-02-12", "amount_yuan": 300.0},
        {"period": "2020-02"},
        {"programme": "特困分散供养"},
    )
    f = found("F3", relief_payments=pay)
    assert f[["entity_id", "amount_yuan"]].values.tolist() == [["P1", 847.0], ["P3", 300.0]]
    assert {json.loads(e)["duplicate_of"] for e in f["evidence"]} == {"P2"}


# F4 ------------------------------------------------------------------------------------------


def test_f4_consecutive_enrolments_are_compatible():
    roll = frame(
        "beneficiaries",
        {"person_id": ONE, "exited_on": "2020-03-31"},
        {"person_id": ONE, "programme": "特困分散供养", "enrolled_on": "2020-04-01"},
    )
    assert found("F4", beneficiaries=roll).empty


def test_f4_incompatible_overlapping_enrolments():
    roll = frame(
        "beneficiaries",
        {"person_id": ONE, "exited_on": "2020-04-01"},
        {"person_id": ONE, "programme": "特困分散供养", "enrolled_on": "2020-04-01"},  # one common day
        {"person_id": TWO},
        {"person_id": TWO, "programme": "农村低保"},
        {"person_id": THREE},
        {"person_id": THREE, "programme": "孤儿", "division_code": TOWN2, "household_id": "H9"},
    )
    f = found("F4", beneficiaries=roll)
    problems = {q: json.loads(e)["problems"] for q, e in zip(f["entity_id"], f["evidence"], strict=True)}
    assert problems == {
        ONE: ["dibao_and_tekun"],
        TWO: ["urban_and_rural_dibao"],
        THREE: ["two_townships"],
    }
    assert set(f["entity_type"]) == {"person"}
    assert json.loads(f.loc[f["entity_id"] == THREE, "evidence"].iloc[0])["household_ids"] == ["H1", "H9"]


def test_f4_two_counties_is_found_city_wide_one_row_per_county():
    roll = frame(
        "beneficiaries",
        {"person_id": ONE},
        {"person_id": ONE, "county_code": OTHER, "division_code": "540103001"},
        {"person_id": TWO, "exited_on": "2020-12-31"},
        {"person_id": TWO, "county_code": OTHER, "division_code": "540103001", "enrolled_on": "2021-01-01"},
    )
    assert found("F4", beneficiaries=roll).empty
    f = found("F4", scope="city", beneficiaries=roll)
    assert f[["county_code", "entity_id"]].values.tolist() == [[COUNTY, ONE], [OTHER, ONE]]
    assert f["finding_id"].nunique() == 2
    assert evidence(f)["counties"] == [COUNTY, OTHER]


# F5 ------------------------------------------------------------------------------------------


def _f5(pay_rows, roll_rows, p=P):
    divisions = frame("divisions", one_township(TOWN, "街道"), one_township(TOWN2, "乡"))
    return run(
        "F5",
        p=p,
        relief_payments=payments(*pay_rows),
        beneficiaries=frame("beneficiaries", *roll_rows),
        divisions=divisions,
    )


@pytest.mark.parametrize(
    ("programme", "town", "size", "at", "above"),
    [
        ("城市低保", TOWN, 2, 1694.00, 1694.01),  # 847 x 2
        ("农村低保", TOWN2, 1, 392.75, 392.76),  # 4,713 / 12
        ("特困分散供养", TOWN, 1, 1101.08, 1101.09),  # 13,213 / 12 = 1,101.083
        ("特困分散供养", TOWN2, 1, 589.17, 589.18),  # 7,070 / 12 = 589.167
    ],
)
def test_f5_exactly_the_standard_passes_one_fen_above_fails(programme, town, size, at, above):
    roll = [{"person_id": ONE, "programme": programme, "division_code": town, "household_size": size}]
    assert _f5([{"programme": programme, "amount_yuan": at}], roll).findings.empty
    f = _f5([{"programme": programme, "amount_yuan": above}], roll).findings
    assert f[["entity_type", "entity_id", "township_code"]].values.tolist() == [
        ["household", "H1/2020-01", town]
    ]
    assert f["amount_yuan"].tolist() == [0.01]


def test_f5_sums_the_household_members_payments():
    roll = [{"person_id": ONE, "household_size": 1}, {"person_id": TWO, "household_size": 1}]
    f = _f5([{}, {"person_id": TWO}], roll).findings
    assert f["amount_yuan"].tolist() == [847.0]  # 1,694 paid, a household of one: 847
    assert evidence(f)["by_programme"][0]["payments"] == 2


def test_f5_reports_programmes_without_a_standard_and_runs_the_others():
    roll = [{"person_id": ONE}, {"person_id": TWO, "programme": "孤儿", "household_id": "H2"}]
    run_ = _f5(
        [
            {"amount_yuan": 900.0},
            {"person_id": TWO, "programme": "孤儿", "household_id": "H2", "amount_yuan": 9e4},
        ],
        roll,
    )
    assert run_.findings["entity_id"].tolist() == ["H1/2020-01"]
    result = run_.results.iloc[0]
    assert result["status"] == "fired"
    assert "not run for 孤儿: no standard in the parameters" in result["reason_en"]
    assert "未对孤儿运行：参数中无保障标准" in result["reason_zh"]


def test_f5_a_standard_in_the_parameters_brings_the_programme_in():
    standards = {**P.relief.model_dump()["standards"]}
    standards["孤儿"] = {"urban": {"yuan": 1000, "per": "month"}, "rural": {"yuan": 1000, "per": "month"}}
    p = params(relief={"standards": standards})
    roll = [{"person_id": ONE, "programme": "孤儿"}]
    run_ = _f5([{"programme": "孤儿", "amount_yuan": 1000.01}], roll, p=p)
    assert run_.findings["amount_yuan"].tolist() == [0.01]
    assert run_.results["reason_en"].tolist() == ["1 finding"]


def test_f5_a_household_on_another_countys_roll_is_judged_by_that_roll_and_register():
    # Paid by COUNTY (its own county code), the household on OTHER's roll in a street office of
    # OTHER's register: COUNTY's run reads that roll row and that division across partitions.
    other_town = "540103001"
    tables = {
        "relief_payments": payments({"household_id": "H9", "amount_yuan": 900.0}),
        "beneficiaries": frame(
            "beneficiaries",
            {"person_id": ONE, "household_id": "H9", "division_code": other_town, "county_code": OTHER},
        ),
        "divisions": frame("divisions", one_township(TOWN), one_township(other_town, "街道", OTHER)),
    }
    f = run("F5", county=COUNTY, **tables).findings
    assert f[["county_code", "entity_id", "township_code", "amount_yuan"]].values.tolist() == [
        [COUNTY, "H9/2020-01", other_town, 53.0]  # 900 paid, 847 for a household of one
    ]
    assert run("F5", county=OTHER, **tables).findings.empty  # OTHER paid nothing
    assert run("F1", county=COUNTY, **tables).findings["entity_id"].tolist() == ["P1"]  # not on COUNTY's roll


# F6 ------------------------------------------------------------------------------------------


def test_f6_public_employee_and_their_household():
    roll = frame(
        "beneficiaries",
        {"person_id": ONE, "household_id": "H1"},
        {"person_id": TWO, "household_id": "H1"},
        {"person_id": THREE, "household_id": "H2"},
    )
    payroll = frame("public_employees", {"person_id": ONE})
    f = found("F6", beneficiaries=roll, public_employees=payroll)
    assert f["entity_id"].tolist() == sorted([ONE, TWO])
    assert f["amount_yuan"].isna().all()
    pay = payments({}, {"period": "2020-02"}, {"person_id": TWO, "amount_yuan": 100.0})
    f = found("F6", beneficiaries=roll, public_employees=payroll, relief_payments=pay)
    assert dict(zip(f["entity_id"], f["amount_yuan"], strict=True)) == {ONE: 1694.0, TWO: 100.0}
    assert {json.loads(e)["is_public_employee"] for e in f["evidence"]} == {True, False}


def test_f6_clean_when_no_employee_is_on_the_roll():
    roll = frame("beneficiaries", {"person_id": ONE})
    assert found(
        "F6", beneficiaries=roll, public_employees=frame("public_employees", {"person_id": TWO})
    ).empty


def test_f6_a_public_employee_on_two_counties_rolls_is_found_in_each_with_its_own_payments():
    roll = frame(
        "beneficiaries",
        {"person_id": ONE, "household_id": "H1"},
        {"person_id": ONE, "household_id": "H9", "division_code": "540103001", "county_code": OTHER},
    )
    pay = payments(
        {"household_id": "H1", "amount_yuan": 500.0},
        {"household_id": "H9", "amount_yuan": 400.0, "county_code": OTHER},
    )
    tables = {
        "beneficiaries": roll,
        "relief_payments": pay,
        "public_employees": frame("public_employees", {"person_id": ONE}),
    }
    for county, paid in ((COUNTY, 500.0), (OTHER, 400.0)):
        f = run("F6", county=county, **tables).findings
        assert f[["county_code", "entity_id", "amount_yuan"]].values.tolist() == [[county, ONE, paid]]


# F7 ------------------------------------------------------------------------------------------


def test_f7_one_account_for_two_households():
    pay = payments(
        {"household_id": "H1"},
        {"household_id": "H1", "period": "2020-02"},
        {"person_id": TWO, "household_id": "H2", "amount_yuan": 500.0},
        {"person_id": THREE, "household_id": "H3", "bank_account": "6217000000000003"},
    )
    f = found("F7", relief_payments=pay)
    assert f[["entity_type", "entity_id", "amount_yuan"]].values.tolist() == [
        ["account", "6217000000000001", 2194.0]
    ]
    assert evidence(f)["household_ids"] == ["H1", "H2"]


def test_f7_an_account_paid_for_households_of_two_counties_is_found_city_wide_one_row_per_county():
    pay = payments(
        {"household_id": "H1"},
        {"person_id": TWO, "household_id": "H2", "county_code": OTHER, "amount_yuan": 500.0},
        {"person_id": THREE, "household_id": "H3", "bank_account": "6217000000000003"},
        {"person_id": THREE, "household_id": "H3", "county_code": OTHER, "bank_account": "6217000000000003"},
    )
    assert found("F7", relief_payments=pay).empty  # one household a county: nothing to see in either
    assert run("F7", county=OTHER, relief_payments=pay).findings.empty
    f = found("F7", scope="city", relief_payments=pay)
    # H3's account in two counties is one household: not shared
    assert f[["county_code", "entity_id", "amount_yuan"]].values.tolist() == [
        [COUNTY, "6217000000000001", pay["amount_yuan"].iloc[0]],
        [OTHER, "6217000000000001", 500.0],
    ]
    assert f["finding_id"].nunique() == 2
    assert evidence(f)["household_ids"] == ["H1", "H2"]
    assert evidence(f)["counties"] == [COUNTY, OTHER]


# F8 ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("period", "paid", "fires"),
    [
        ("2020-01", "2020-02-15", False),
        ("2020-01", "2020-02-16", True),
        ("2020-12", "2021-01-15", False),
        ("2020-12", "2021-01-16", True),
    ],
)
def test_f8_deadline_day_passes_the_day_after_fails(period, paid, fires):
    f = found("F8", relief_payments=payments({"period": period, "paid_on": paid}))
    assert (not f.empty) is fires
    if fires:
        assert evidence(f)["days_late"] == 1


# F9 ------------------------------------------------------------------------------------------


def _f9_params(as_of=None):
    return params(
        relief={
            "published_statistics": {"城市低保": {"households": 2, "persons": 3}, "孤儿": {"persons": 0}},
            "published_statistics_as_of": as_of,
        }
    )


def _f9_roll(extra=()):
    return frame(
        "beneficiaries",
        {"person_id": ONE, "household_id": "H1"},
        {"person_id": TWO, "household_id": "H1"},
        {"person_id": THREE, "household_id": "H2", "county_code": OTHER},
        *extra,
    )


def test_f9_roll_matching_the_published_figures_is_clean():
    assert found("F9", scope="city", p=_f9_params(), beneficiaries=_f9_roll()).empty


def test_f9_one_person_more_than_published_fires_for_the_programme():
    roll = _f9_roll([{"person_id": resident_id(seq="044"), "household_id": "H2"}])
    f = found("F9", scope="city", p=_f9_params(), beneficiaries=roll)
    assert f[["entity_type", "entity_id", "county_code"]].values.tolist() == [["programme", "城市低保", CITY]]
    assert evidence(f)["roll"] == {"households": 2, "persons": 4}


def test_f9_counts_on_a_date_when_one_is_set():
    gone = [{"person_id": resident_id(seq="044"), "household_id": "H3", "exited_on": "2020-05-06"}]
    assert not found("F9", scope="city", p=_f9_params(), beneficiaries=_f9_roll(gone)).empty
    assert found("F9", scope="city", p=_f9_params("2020-05-07"), beneficiaries=_f9_roll(gone)).empty


# F10 -----------------------------------------------------------------------------------------


def _f10(*amounts):
    allocations = frame(
        "fund_allocations",
        {"allocation_id": "A1", "amount_yuan": 10000.0},
        {"allocation_id": "A2", "fund": "县级财政", "amount_yuan": 50000.0},
        {"allocation_id": "A3", "purpose": "购买服务", "amount_yuan": 50000.0},
    )
    pay = payments(
        *[{"amount_yuan": a, "period": "2020-06"} for a in amounts],
        {"amount_yuan": 4000.0, "period": "2019-12"},
    )
    return found("F10", relief_payments=pay, fund_allocations=allocations)


def test_f10_unspent_exactly_five_percent_passes():
    assert _f10(9000.0, 500.0).empty


def test_f10_unspent_above_five_percent_fires():
    f = _f10(9000.0, 499.99)
    assert f[["entity_type", "entity_id", "amount_yuan"]].values.tolist() == [["county", COUNTY, 500.01]]
    assert evidence(f)["problem"] == "allocation_unspent"


def test_f10_paid_above_the_allocation_fires():
    f = _f10(10000.01)
    assert f["amount_yuan"].tolist() == [0.01]
    assert evidence(f)["problem"] == "paid_above_allocation"


def test_f10_equal_is_clean():
    assert _f10(10000.0).empty


# F11 -----------------------------------------------------------------------------------------

BENFORD_1000 = [301, 176, 125, 97, 79, 67, 58, 51, 46]  # round(1000 x log10(1 + 1/d))


def _amounts(round_count):
    amounts = []
    for digit, count in enumerate(BENFORD_1000, start=1):
        amounts += [digit * 100 + 12.34] * count
    amounts = np.array(amounts)
    # make the first `round_count` amounts whole hundreds, first digit kept
    amounts[:round_count] = np.floor(amounts[:round_count] / 100) * 100
    return amounts


def _f11(amounts, p=P):
    pay = frame(
        "relief_payments",
        *[{"payment_id": f"P{i}", "person_id": ONE, "amount_yuan": float(a)} for i, a in enumerate(amounts)],
    )
    return run("F11", p=p, relief_payments=pay)


def test_f11_benford_conforming_amounts_with_half_round_are_clean():
    run_ = _f11(_amounts(500))  # exactly 0.5 round: at the threshold
    assert run_.findings.empty
    assert run_.results["status"].tolist() == ["clean"]


def test_f11_more_than_half_round_fires():
    f = _f11(_amounts(501)).findings
    assert evidence(f)["problems"] == ["round_amounts"]
    assert evidence(f)["round_share"] == "0.501000"


def test_f11_amounts_piling_on_one_digit_fire():
    f = _f11(np.full(600, 847.0)).findings
    assert f[["entity_type", "entity_id", "severity"]].values.tolist() == [["county", COUNTY, "info"]]
    assert evidence(f)["problems"] == ["benford_mad"]
    # all on 8: |1 - 0.0512| + the other eight expected shares (0.9488), over 9
    assert evidence(f)["mad"] == "0.210855"


def test_f11_not_run_with_too_few_payments():
    result = _f11(np.full(499, 847.0)).results.iloc[0]
    assert result["status"] == "not_run"
    assert result["reason_en"] == "not run: 499 payments, fewer than the 500 needed"
