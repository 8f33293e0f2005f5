"""County attribution at ingest (:mod:`audit.ingest.county`), and what the rules then find.

Quarantine is for values that cannot be read or trusted: a payment to someone on no roll, or
to someone on two rolls, is loaded in a county (or, when nothing tells which, in the city's
own partition, audited in the roll-up) and the relief rules judge it.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from audit import cli
from audit.ingest import ingest, summary
from audit.ingest.discovery import SUBMITTED_TABLES
from audit.kept_runs import city_tables, county_tables, run_city, run_county
from audit.params import load_params
from audit.rules import run_rule
from audit.store import Store
from fixtures import make_damaged as damaged

ROOT = Path(__file__).resolve().parents[1]
PARAMS = load_params(ROOT / "params" / "lhasa-2020.yaml")
TODAY = dt.date(2025, 1, 1)


P1, P2, P3 = (damaged.resident_id(f"5401021980010{i}00{i}") for i in (1, 2, 3))
GHOST = damaged.resident_id("54010219900303009")  # on no roll
STRANGER = damaged.resident_id("54010319900404008")  # on no roll, paid into P3's account
A1, A2, A3, A9 = (damaged.account(f"62284801234567{i}00") for i in (1, 2, 3, 9))

DIVISIONS = """区划代码,名称,级别,类型,上级代码
540102,城关区,county,区,540100
540102001,八廓街道,township,街道,540102
540103,堆龙德庆区,county,区,540100
540103001,东嘎镇,township,镇,540103
"""


def _write(folder: Path, roll: list[str], payments: list[str], divisions: str = DIVISIONS) -> Path:
    folder.mkdir()
    (folder / "divisions.csv").write_text(divisions, encoding="utf-8")
    header = "身份证号,姓名,户编号,所属乡镇,救助类别,家庭人口,纳入日期,退出日期,银行账号"
    (folder / "beneficiaries.csv").write_text("\n".join([header, *roll]) + "\n", encoding="utf-8")
    header = "流水号,身份证号,户编号,救助类别,所属期,发放金额,发放日期,银行账号"  # no county column
    (folder / "relief_payments.csv").write_text("\n".join([header, *payments]) + "\n", encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def two_counties(tmp_path_factory) -> Path:
    roll = [
        f"{P1},甲,H1,540102001,城市低保,1,2019-01-01,,{A1}",
        f"{P2},乙,H2,540102001,城市低保,1,2019-01-01,,{A2}",  # P2 is on two counties' rolls
        f"{P2},乙,H9,540103001,农村低保,1,2019-01-01,,{A2}",
        f"{P3},丙,H3,540103001,农村低保,1,2019-01-01,,{A3}",
    ]
    payments = [
        f"F1,{P1},H1,城市低保,2020-05,500,2020-05-07,{A1}",
        f"F2,{P2},H2,城市低保,2020-05,500,2020-05-07,{A2}",  # by household: 540102
        f"F3,{P2},H9,农村低保,2020-05,400,2020-05-07,{A2}",  # by household: 540103
        f"F4,{P2},H9,农村低保,2020-05,400,2020-05-20,{A2}",  # paid twice: F3 in 540103
        f"F5,{GHOST},H77,城市低保,2020-05,900,2020-05-07,{A9}",  # nothing tells: the roll-up
        f"F6,{STRANGER},H66,农村低保,2020-05,300,2020-05-07,{A3}",  # by account: 540103
    ]
    store = tmp_path_factory.mktemp("county") / "store"
    ingest(_write(store.parent / "sub", roll, payments), store, today=TODAY)
    return store


def _payments(store: Path) -> dict[str, str]:
    pay = Store.open(store).read("relief_payments")
    return dict(zip(pay["payment_id"], pay["county_code"], strict=True))


def test_every_payment_is_loaded_in_the_county_its_chain_gives(two_counties):
    assert _payments(two_counties) == {
        "F1": "540102",
        "F2": "540102",
        "F3": "540103",
        "F4": "540103",
        "F5": "540100",  # unattributed: the city's own partition, audited in the roll-up
        "F6": "540103",
    }
    assert Store.open(two_counties).quarantine("relief_payments").empty


def test_a_payment_to_someone_on_no_roll_is_f1_with_its_amount(two_counties):
    run = run_county(county_tables(Store.open(two_counties), "540103"), PARAMS, "540103")
    f1 = run.findings[run.findings["rule_id"] == "F1"]
    assert f1[["entity_id", "amount_yuan"]].values.tolist() == [["F6", 300.0]]


def test_payments_of_a_person_on_two_rolls_are_audited_in_their_households_counties(two_counties):
    store = Store.open(two_counties)
    run = run_county(county_tables(store, "540103"), PARAMS, "540103")
    f3 = run.findings[run.findings["rule_id"] == "F3"]
    assert f3[["entity_id", "amount_yuan"]].values.tolist() == [["F4", 400.0]]
    assert run.findings.loc[run.findings["rule_id"] == "F1", "entity_id"].tolist() == ["F6"]  # P2 is enrolled
    other = run_county(county_tables(store, "540102"), PARAMS, "540102")
    assert not len(other.findings[other.findings["rule_id"].isin(["F1", "F3"])])


def test_an_unattributable_payment_is_audited_in_the_roll_up(two_counties):
    run = run_city(city_tables(Store.open(two_counties)), PARAMS)
    f1 = run.findings[run.findings["rule_id"] == "F1"]
    assert f1[["county_code", "entity_id", "amount_yuan"]].values.tolist() == [["540100", "F5", 900.0]]


def test_a_submission_of_one_county_takes_the_payments_no_roll_explains(tmp_path):
    divisions = "\n".join(DIVISIONS.splitlines()[:3]) + "\n"
    roll = [f"{P1},甲,H1,540102001,城市低保,1,2019-01-01,,{A1}"]
    payments = [
        f"F1,{P1},H1,城市低保,2020-05,500,2020-05-07,{A1}",
        f"F9,{GHOST},H99,城市低保,2020-05,900,2020-05-07,{A9}",
    ]
    ingest(_write(tmp_path / "sub", roll, payments, divisions), tmp_path / "store", today=TODAY)
    assert _payments(tmp_path / "store") == {"F1": "540102", "F9": "540102"}
    tables = county_tables(Store.open(tmp_path / "store"), "540102")
    f1 = run_rule("F1", tables, PARAMS, county="540102").findings
    assert f1[["entity_id", "amount_yuan"]].values.tolist() == [["F9", 900.0]]


def test_a_death_register_with_a_row_twice_keeps_one_copy_and_f2_still_fires(tmp_path):
    roll = [f"{P1},甲,H1,540102001,城市低保,1,2019-01-01,,{A1}"]
    payments = [f"F1,{P1},H1,城市低保,2020-05,500,2020-05-07,{A1}"]
    folder = _write(tmp_path / "sub", roll, payments)
    (folder / "deaths.csv").write_text(
        f"身份证号,死亡日期\n{P1},2020-03-15\n{P1},2020-03-15\n", encoding="utf-8"
    )
    result = ingest(folder, tmp_path / "store", today=TODAY)
    store = Store.open(tmp_path / "store")
    assert store.read("deaths")["src_row"].tolist() == [2]
    assert store.quarantine("deaths")["src_row"].tolist() == [3]
    log = result.quality
    assert log.loc[log["table"] == "deaths", ["row", "check", "action"]].values.tolist() == [
        [3, "exact copy", "quarantined"]
    ]
    f2 = run_rule("F2", county_tables(store, "540102"), PARAMS, county="540102").findings
    assert f2[["entity_id", "amount_yuan"]].values.tolist() == [["F1", 500.0]]


def _contract_submission(folder: Path, post: str) -> Path:
    """One contract of 540102, paid for one position all year, and its one worker posted at ``post``."""
    folder = _write(folder, [f"{P1},甲,H1,540102001,城市低保,1,2019-01-01,,{A1}"], [])
    uscc = damaged.credit_code("52540102MJ0000011")
    (folder / "contracts.csv").write_text(
        "合同编号,县区代码,承接主体,统一社会信用代码,承接主体类型,登记日期,签订日期,服务开始,服务结束,岗位数,合同金额\n"
        f"HT1,540102,服务中心,{uscc},社会组织,2015-01-01,2019-12-20,2020-01-01,2020-12-31,1,79504\n",
        encoding="utf-8",
    )
    (folder / "staff.csv").write_text(
        "人员编号,姓名,身份证号,学历,合同编号,岗位所在地代码,到岗日期,离岗日期\n"
        f"S1,丁,{P2},本科,HT1,{post},2019-01-01,\n",
        encoding="utf-8",
    )
    months = [
        f"V{m:02d},540102,社会救助专项资金,购买服务,HT1,6625.33,2020-{m:02d}-20,2020-{m:02d}"
        for m in range(1, 13)
    ]
    (folder / "fund_payments.csv").write_text(
        "凭证号,县区代码,资金来源,用途,合同编号,金额,支付日期,所属期\n" + "\n".join(months) + "\n",
        encoding="utf-8",
    )
    return folder


def test_a_worker_posted_outside_the_register_stays_in_the_contracts_county(tmp_path):
    folder = _contract_submission(tmp_path / "sub", "540173001")  # 540173: no county of the register
    ingest(folder, tmp_path / "store", today=TODAY)
    store = Store.open(tmp_path / "store")
    assert store.read("staff")[["staff_id", "county_code"]].values.tolist() == [["S1", "540102"]]
    tables = county_tables(store, "540102")
    assert run_rule("C7", tables, PARAMS, county="540102").findings.empty  # the worker filled the post
    s2 = run_rule("S2", tables, PARAMS, county="540102").findings
    assert len(s2) == 1 and "540173001" in s2["description_en"].iloc[0]


SHIGATSE = """区划代码,名称,级别,类型,上级代码
540202,桑珠孜区,county,区,540200
540202001,城南街道,township,街道,540202
540221,南木林县,county,县,540200
540221100,南木林镇,township,镇,540221
"""


def test_the_city_is_the_parameters_files_or_the_root_of_the_divisions_register(tmp_path, capsys):
    folder = tmp_path / "sub"
    folder.mkdir()
    (folder / "divisions.csv").write_text(SHIGATSE, encoding="utf-8")
    read = ingest(folder, None, today=TODAY)
    assert (read.city_code, read.city_from) == ("540200", "the root of the divisions register")
    assert read.rows_quarantined == 0  # another city's counties are not "division_parent"
    given = ingest(folder, None, today=TODAY, city_code="540200", city_from="the parameters file s.yaml")
    assert given.rows_quarantined == 0
    assert "city code: 540200 (from the parameters file s.yaml)" in summary(given)
    lhasa = ingest(folder, None, today=TODAY, city_code="540100")
    log = lhasa.quality
    assert log.loc[log["action"] == "quarantined", ["row", "check"]].values.tolist() == [
        [2, "division_parent"],
        [4, "division_parent"],
    ]
    params = ROOT / "params" / "lhasa-2020.yaml"
    others = [a for t in SUBMITTED_TABLES if t != "divisions" for a in ("--leave-out", t)]
    assert cli.main(["validate", str(folder), "--params", str(params), *others]) == 0
    assert f"city code: 540100 (from the parameters file {params})" in capsys.readouterr().out


def test_a_worker_filed_under_another_countys_post_is_counted_by_the_paying_contract(tmp_path):
    folder = _contract_submission(tmp_path / "sub", "540103001")  # a township of 540103's register
    ingest(folder, tmp_path / "store", today=TODAY)
    store = Store.open(tmp_path / "store")
    assert store.read("staff")[["staff_id", "county_code"]].values.tolist() == [["S1", "540103"]]
    paying = county_tables(store, "540102")
    assert run_rule("C7", paying, PARAMS, county="540102").findings.empty  # the row of 540103 is read
    posted = county_tables(store, "540103")
    assert run_rule("S2", posted, PARAMS, county="540103").findings.empty
    assert run_rule("S2", paying, PARAMS, county="540102").findings.empty  # judged where it is posted
