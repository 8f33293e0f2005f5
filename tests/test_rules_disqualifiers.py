"""Rules F12-F17 on hand-made rolls and other departments' lists: each fires, each near miss does not."""

from __future__ import annotations

import json

import pytest

from audit.rules import run_rule
from fixtures.rule_tables import COUNTY, TOWN, TOWN2, frame, one_township, params, resident_id

P = params()
ONE = resident_id(seq="011")
TWO = resident_id(seq="022")
THREE = resident_id(seq="033")
WORKER = resident_id(area="540102", birth="19800101", seq="044")


def run(rule_id, p=P, **tables):
    return run_rule(rule_id, tables, p, scope="county", county=COUNTY)


def found(rule_id, p=P, **tables):
    return run(rule_id, p=p, **tables).findings


def evidence(findings, i=0):
    return json.loads(findings["evidence"].iloc[i])


def roll(*rows):
    return frame("beneficiaries", *rows)


def pay(*rows):
    return frame(
        "relief_payments",
        *[{"payment_id": f"P{i}", "person_id": ONE, **r} for i, r in enumerate(rows, 1)],
    )


# F12 vehicles ----------------------------------------------------------------------------------


def test_f12_fires_above_the_value_and_not_at_it():
    r = roll(
        {"person_id": ONE, "household_id": "H1"},
        {"person_id": TWO, "household_id": "H2"},
    )
    cars = frame(
        "vehicles",
        {"person_id": ONE, "value_yuan": 50000.01},  # one fen above 50,000: fires
        {"person_id": TWO, "value_yuan": 50000.00},  # at the threshold: passes
        {"person_id": THREE, "value_yuan": 900000.0},  # not on the roll
    )
    f = found("F12", beneficiaries=r, vehicles=cars)
    assert f["entity_type"].tolist() == ["household"]
    assert f["entity_id"].tolist() == ["H1"]
    assert f["amount_yuan"].isna().all()  # no payments supplied: no amount at stake
    assert evidence(f)["items"][0]["plate"] == "藏A00001"


def test_f12_counts_what_was_paid_from_the_month_of_registration():
    r = roll({"person_id": ONE, "household_id": "H1"})
    cars = frame("vehicles", {"person_id": ONE, "value_yuan": 60000.0, "registered_on": "2020-03-15"})
    payments = pay({"period": "2020-02"}, {"period": "2020-03"}, {"period": "2020-04"})
    f = found("F12", beneficiaries=r, vehicles=cars, relief_payments=payments)
    assert f["amount_yuan"].tolist() == [847.0 * 2]  # March (ends after the 15th) and April
    assert evidence(f)["over_since"] == "2020-03-15"


def test_f12_a_vehicle_registered_after_exit_does_not_count():
    r = roll({"person_id": ONE, "exited_on": "2020-05-31"})
    cars = frame("vehicles", {"person_id": ONE, "value_yuan": 60000.0, "registered_on": "2020-06-01"})
    assert found("F12", beneficiaries=r, vehicles=cars).empty
    cars = frame("vehicles", {"person_id": ONE, "value_yuan": 60000.0, "registered_on": "2020-05-31"})
    assert len(found("F12", beneficiaries=r, vehicles=cars)) == 1


def test_f12_not_run_without_the_vehicle_register_or_thresholds():
    result = run("F12", beneficiaries=roll({"person_id": ONE})).results.iloc[0]
    assert result["status"] == "not_run"
    assert result["reason_en"] == "not run: no vehicle register supplied"
    assert result["reason_zh"] == "未运行：未提供车辆登记信息"
    p = params(relief={"assets": None})
    result = run("F12", p=p, beneficiaries=roll({"person_id": ONE}), vehicles=frame("vehicles")).results
    assert result.iloc[0]["status"] == "not_run"
    assert "relief.assets" in result.iloc[0]["reason_en"]


# F13 real estate -------------------------------------------------------------------------------


def test_f13_area_per_person_above_the_threshold_fires_at_the_registration_that_crosses_it():
    r = roll(
        {"person_id": ONE, "household_id": "H1", "household_size": 2},
        {"person_id": TWO, "household_id": "H1", "household_size": 2},
        {"person_id": THREE, "household_id": "H3", "household_size": 2},
    )
    homes = frame(
        "real_estate",
        {"person_id": ONE, "area_m2": 70.0, "registered_on": "2018-01-01"},
        {"person_id": TWO, "area_m2": 50.01, "registered_on": "2020-02-01"},  # 120.01 for two: over 60 each
        {"person_id": THREE, "area_m2": 120.0},  # exactly 60 a person: passes
    )
    f = found("F13", beneficiaries=r, real_estate=homes)
    assert f["entity_id"].tolist() == ["H1"]
    ev = evidence(f)
    assert ev["over_since"] == "2020-02-01"
    assert ev["area_m2"] == "120.01"
    assert len(ev["items"]) == 2


def test_f13_not_run_without_the_real_estate_register():
    result = run("F13", beneficiaries=roll({"person_id": ONE})).results.iloc[0]
    assert result["reason_en"] == "not run: no real-estate register supplied"


# F14 business ------------------------------------------------------------------------------------


def test_f14_fires_for_the_roles_in_the_parameters_with_capital_above_the_threshold():
    r = roll(
        {"person_id": ONE, "household_id": "H1"},
        {"person_id": TWO, "household_id": "H2"},
        {"person_id": THREE, "household_id": "H3"},
    )
    firms = frame(
        "business_registrations",
        {"person_id": ONE, "role": "股东", "capital_yuan": 0.01},
        {"person_id": TWO, "role": "法定代表人", "capital_yuan": 0.0},  # at the threshold (0): passes
        {"person_id": THREE, "role": "个体工商户", "capital_yuan": 5000.0},
    )
    f = found("F14", beneficiaries=r, business_registrations=firms)
    assert f["entity_id"].tolist() == ["H1", "H3"]
    only_traders = params(
        relief={"assets": {**P.relief.assets.model_dump(), "business_roles": ["个体工商户"]}}
    )
    f = found("F14", p=only_traders, beneficiaries=r, business_registrations=firms)
    assert f["entity_id"].tolist() == ["H3"]


def test_f14_not_run_without_the_business_register():
    result = run("F14", beneficiaries=roll({"person_id": ONE})).results.iloc[0]
    assert result["reason_en"] == "not run: no business register supplied"


# F15 income ----------------------------------------------------------------------------------------


def _divisions():
    return frame("divisions", one_township(TOWN, "街道"), one_township(TOWN2, "乡"))


def test_f15_pension_and_housing_fund_per_person_above_the_standard_fire():
    # 城市低保 urban standard: 847.00 a person a month
    r = roll(
        {"person_id": ONE, "household_id": "H1", "household_size": 2},
        {"person_id": TWO, "household_id": "H1", "household_size": 2},
        {"person_id": THREE, "household_id": "H3", "household_size": 1},
    )
    pensions = frame(
        "pensions",
        {"person_id": ONE, "monthly_yuan": 1000.0, "from": "2015-01-01"},
        {"person_id": THREE, "monthly_yuan": 847.0},  # exactly the standard: passes
    )
    fund = frame("housing_fund", {"person_id": TWO, "monthly_base_yuan": 694.02, "from": "2020-04-01"})
    # H1: 1,000 + 694.02 = 1,694.02 for two = 847.01 a person: one fen over, from April
    f = found("F15", beneficiaries=r, divisions=_divisions(), pensions=pensions, housing_fund=fund)
    assert f["entity_id"].tolist() == ["H1"]
    ev = evidence(f)
    assert ev["over_since"] == "2020-04-01"
    assert ev["per_person_yuan"] == "847.01"
    assert {i["source"]["table"] for i in ev["items"]} == {"pensions", "housing_fund"}
    fund = frame("housing_fund", {"person_id": TWO, "monthly_base_yuan": 694.0, "from": "2020-04-01"})
    assert found("F15", beneficiaries=r, divisions=_divisions(), pensions=pensions, housing_fund=fund).empty


def test_f15_runs_with_one_list_and_notes_the_other():
    r = roll({"person_id": ONE, "household_size": 1})
    pensions = frame("pensions", {"person_id": ONE, "monthly_yuan": 900.0})
    out = run("F15", beneficiaries=r, divisions=_divisions(), pensions=pensions)
    assert out.findings["entity_id"].tolist() == ["H1"]
    assert "no housing-fund list supplied" in out.results.iloc[0]["reason_en"]


def test_f15_not_run_without_either_list():
    result = run("F15", beneficiaries=roll({"person_id": ONE}), divisions=_divisions()).results.iloc[0]
    assert result["status"] == "not_run"
    assert result["reason_en"] == "not run: no pension list, housing-fund list supplied"


def test_f15_orphans_have_no_standard_and_are_not_compared():
    r = roll({"person_id": ONE, "programme": "孤儿", "household_size": 1})
    pensions = frame("pensions", {"person_id": ONE, "monthly_yuan": 5000.0})
    assert found("F15", beneficiaries=r, divisions=_divisions(), pensions=pensions).empty


# F16 relatives of case workers --------------------------------------------------------------------


def test_f16_household_member_and_listed_relative_fire_unless_filed():
    r = roll(
        {"person_id": WORKER, "household_id": "HW"},  # the worker on the roll: self
        {"person_id": ONE, "household_id": "HW"},  # same household as the worker
        {"person_id": TWO, "household_id": "H2"},  # a relative by the relatives list
        {"person_id": THREE, "household_id": "H3"},  # unrelated
    )
    workers = frame("case_workers", {"person_id": WORKER})
    relatives = frame("relatives", {"person_id": TWO, "relative_person_id": WORKER, "relation": "兄弟姐妹"})
    none_filed = frame("relatives_filed")
    f = found("F16", beneficiaries=r, case_workers=workers, relatives_filed=none_filed, relatives=relatives)
    assert sorted(f["entity_id"]) == sorted([WORKER, ONE, TWO])
    by_person = {q: evidence(f, i)["workers"][0]["relation"] for i, q in enumerate(f["entity_id"])}
    assert by_person == {WORKER: "本人", ONE: "同户", TWO: "兄弟姐妹"}
    filed = frame("relatives_filed", {"person_id": TWO, "worker_person_id": WORKER})
    f = found("F16", beneficiaries=r, case_workers=workers, relatives_filed=filed, relatives=relatives)
    assert sorted(f["entity_id"]) == sorted([WORKER, ONE])


def test_f16_without_the_relatives_list_only_households_count_and_the_workers_own_household_id():
    r = roll({"person_id": ONE, "household_id": "H7"}, {"person_id": TWO, "household_id": "H2"})
    workers = frame("case_workers", {"person_id": WORKER, "household_id": "H7"})  # not on the roll
    f = found("F16", beneficiaries=r, case_workers=workers, relatives_filed=frame("relatives_filed"))
    assert f["entity_id"].tolist() == [ONE]


def test_f16_not_run_without_the_filing_register():
    r = roll({"person_id": ONE})
    result = run("F16", beneficiaries=r, case_workers=frame("case_workers", {"person_id": WORKER}))
    assert result.results.iloc[0]["reason_en"] == "not run: no relatives' filing (备案) register supplied"


# F17 exclusive programmes -------------------------------------------------------------------------


def test_f17_the_same_month_under_two_exclusive_programmes_fires():
    payments = frame(
        "relief_payments",
        {"payment_id": "P1", "person_id": ONE, "programme": "特困分散供养", "period": "2020-01"},
        {"payment_id": "P2", "person_id": ONE, "programme": "特困分散供养", "period": "2020-02"},
        {"payment_id": "P3", "person_id": TWO, "programme": "城市低保", "period": "2020-01"},
    )
    other = frame(
        "other_programmes",
        {"person_id": ONE, "period": "2020-02", "amount_yuan": 500.0},  # same month: fires
        {"person_id": ONE, "period": "2020-03", "amount_yuan": 500.0},  # another month: passes
        {"person_id": TWO, "period": "2020-01"},  # 城市低保 is not in that group: passes
        {"person_id": TWO, "period": "2020-01", "programme": "残疾人生活补贴"},  # in no group
    )
    f = found("F17", relief_payments=payments, other_programmes=other)
    assert f["entity_id"].tolist() == [ONE]
    assert f["amount_yuan"].tolist() == [500.0]
    assert [x["period"] for x in evidence(f)["payments"]] == ["2020-02", "2020-02"]


def test_f17_not_run_without_other_programmes_or_groups():
    payments = frame("relief_payments", {"payment_id": "P1", "person_id": ONE})
    result = run("F17", relief_payments=payments).results.iloc[0]
    assert result["reason_en"] == "not run: no other programmes' payments supplied"
    p = params(relief={"exclusive_programmes": None})
    result = run("F17", p=p, relief_payments=payments, other_programmes=frame("other_programmes")).results
    assert "relief.exclusive_programmes" in result.iloc[0]["reason_en"]


@pytest.mark.parametrize("rule_id", ["F12", "F13", "F14", "F15", "F16", "F17"])
def test_empty_lists_are_clean(rule_id):
    tables = {
        "beneficiaries": roll({"person_id": ONE}),
        "divisions": _divisions(),
        "relief_payments": pay({}),
    }
    for name in (
        "vehicles",
        "real_estate",
        "business_registrations",
        "pensions",
        "housing_fund",
        "case_workers",
        "relatives_filed",
        "relatives",
        "other_programmes",
    ):
        tables[name] = frame(name)
    assert run(rule_id, **tables).results.iloc[0]["status"] == "clean"
