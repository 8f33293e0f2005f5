"""Another city, another year, by its parameters file alone (issue 14).

The submission is ``tests/fixtures/second_city.py``: a 日喀则市-like city (540200, six
county-level units, eleven township offices, audit year 2021, its own plan, standards, cap
share 5% and unit cost 66,000 yuan), written independently of ``audit.demo``. The findings
below are worked out by hand from what that module plants; every other rule stays clean.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from python_calamine import CalamineWorkbook

from audit.findings import combine_registers
from audit.params import Params
from audit.rules import RULES, run_rules
from audit.rules.tables import Tables
from fixtures import second_city as city
from fixtures.rule_tables import frame

ROOT = Path(__file__).resolve().parents[1]
TODAY = dt.date(2022, 3, 1)
KEY = ["rule_id", "county_code", "entity_type", "entity_id"]

# (rule, county, entity type, entity, yuan at stake): by hand, from the fixture's docstring.
EXPECTED = {
    # 江孜县's contractor is a 事业单位: the whole contract (2 x 66,000) is at stake.
    ("C1", "540222", "contract", "RKZ2021-540222", 132000.00),
    # 5% of (87,150 relief + 132,000 purchase allocated from the special fund) = 10,957.50;
    # the special fund paid 132,000 for the city bureau's positions: 121,042.50 over.
    ("C5", "540200", "city", "540200", 121042.50),
    # 岗嘎镇's post empty July to December, both positions paid: 6 x 5,500.
    ("C7", "540223", "contract", "RKZ2021-540223", 33000.00),
    # every contract buys positions: noted for the inspector, no amount
    *(("C9", c, "contract", f"RKZ2021-{c}", None) for c in ("540200", "540202", "540221", "540222")),
    *(("C9", c, "contract", f"RKZ2021-{c}", None) for c in ("540223", "540224", "540271")),
    ("S1", "540223", "office", "540223201", None),
    # 开发区's one worker posted at 540272001, a code of no division: its office empty all year
    ("S1", "540271", "office", "540271001", None),
    ("S2", "540271", "office", "540272001", None),
    ("S10", "540223", "office", "540223201", None),
    ("S4", "540224", "staff", "RKZ-S10", None),
    # the ghost payee: three payments of 800 to an ID on no roll, into 萨迦镇 household
    # RKZ-0224-001's account, which then pays two households (5,400 + 2,400)
    *(("F1", "540224", "payment", f"ZF-GHOST-{m:02d}", 800.00) for m in (4, 5, 6)),
    ("F7", "540224", "account", "6217540224101015", 7800.00),
    # the head of 卡麦乡's RKZ-0222-002 heads 协格尔镇's RKZ-0223-001 too: a row per county
    ("F4", "540222", "person", "540222196602121021", None),
    ("F4", "540223", "person", "540222196602121021", None),
    # the 特困 person who died on 2021-08-20, paid 600 for September to December
    *(("F2", "540221", "payment", f"ZF-RKZ-0221-003-{m:02d}", 600.00) for m in (9, 10, 11, 12)),
    # one person, 城市低保 900 a month, paid 950 for March
    ("F5", "540202", "household", "RKZ-0202-001/2021-03", 50.00),
    # 2021-05 paid on 2021-06-21, after the 15th: the payment's 450 at stake
    ("F8", "540222", "payment", "ZF-RKZ-0222-001-05", 450.00),
}
CLEAN = {"C2", "C3", "C4", "C6", "C8", "S3", "S5", "S6", "S7", "S8", "S9", "F3", "F6"}
CLEAN |= {"F9", "F10", "F11"}
COUNTIES = ("540200", "540202", "540221", "540222", "540223", "540224", "540271")


def _params() -> Params:
    return Params.model_validate(city.parameters())


def _typed() -> dict[str, pd.DataFrame]:
    """The fixture's tables as a store hands them to the rules, each row in its county."""
    data = city.rows()
    county_of_contract = {c["contract_id"]: c["county_code"] for c in data["contracts"]}
    for name in ("divisions", "offices", "beneficiaries"):
        for row in data[name]:
            row["county_code"] = row["division_code"][:6]
    for row in data["staff"]:
        row["county_code"] = county_of_contract[row["contract_id"]]
    return {name: frame(name, *rows) for name, rows in data.items()}


def _audit(tables: dict[str, pd.DataFrame], params: Params) -> pd.DataFrame:
    everything = Tables(tables)
    runs = [
        run_rules(everything.partition(county), params, scope="county", county=county).findings
        for county in everything.counties()
    ]
    runs.append(run_rules(tables, params, scope="city").findings)
    return combine_registers(runs)


def _found(findings: pd.DataFrame) -> set[tuple]:
    amounts = [None if pd.isna(v) else round(float(v), 2) for v in findings["amount_yuan"]]
    return set(zip(*(findings[k].astype(str) for k in KEY), amounts, strict=True))


def test_the_fixture_is_a_city_of_its_own():
    params = _params()
    assert (params.city_code, params.audit_year, params.purchase.special_fund_cap_share) == (
        "540200",
        2021,
        0.05,
    )
    data = city.rows()
    counties = [d for d in data["divisions"] if d["level"] == "county"]
    towns = [d for d in data["divisions"] if d["level"] == "township"]
    assert len(counties) == 6 and len(towns) == 11
    assert all(d["parent_code"] == "540200" for d in counties)
    assert all(t["division_code"][:6] == t["parent_code"] for t in towns)


def test_the_rules_find_what_was_planted_and_nothing_else():
    findings = _audit(_typed(), _params())
    assert sorted(_found(findings), key=str) == sorted(EXPECTED, key=str)
    assert not CLEAN & set(findings["rule_id"])


def test_the_texts_cite_this_citys_plan_figures_and_sources():
    params = _params()
    c3 = RULES["C3"].texts(params, "zh").basis
    assert c3 == "日喀则市2021年购买乡镇社会救助服务实施方案（每岗位每年66,000元，共85.8万元）"
    c5 = RULES["C5"].texts(params, "en").basis
    assert c5 == (
        "Shigatse's 2021 township social-assistance purchase plan, approved 2020-12-01 "
        "(at most 5% of the special fund allocated); 日财社〔2020〕88号"
    )
    assert RULES["S3"].texts(params, "zh").basis.endswith("（其余2名安排在市民政局从事社会救助工作）")
    assert RULES["F5"].texts(params, "zh").basis.endswith("；日喀则市2021年城乡低保标准")
    assert RULES["F9"].texts(params, "zh").basis.startswith("日喀则市民政局2021年1月公布的数据；")
    for r in RULES:
        for lang in ("zh", "en"):
            t = r.texts(params, lang)
            text = t.title + t.basis + t.recommendation
            for lhasa in (
                "拉萨",
                "Lhasa",
                "西藏",
                "Tibet",
                "2020年",
                "4%",
                "79,504",
                "628.0816",
                "6,280,816",
            ):
                assert lhasa not in text, (r.id, lang, lhasa, text)


def _cli(*args: object) -> list[str]:
    return [sys.executable, "-m", "audit", *map(str, args)]


@pytest.mark.slow
@pytest.mark.xdist_group("second_city")
def test_ingest_then_batch_give_the_hand_worked_findings(tmp_path):
    city.write_submission(tmp_path / "submission")
    params = city.write_params(tmp_path / "rikaze-2021.yaml")
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    env.pop("AUDIT_ALLOWED_ROOTS", None)

    def audit(*args: object) -> subprocess.CompletedProcess:
        done = subprocess.run(_cli(*args), env=env, cwd=ROOT, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        return done

    audit("ingest", tmp_path / "submission", "--store", tmp_path / "store")
    from audit.store import Store

    store = Store.open(tmp_path / "store")
    assert store.counties() == COUNTIES
    assert len(store.read("divisions")) == 17  # the county rows too: nothing quarantined
    args = ("--store", tmp_path / "store", "--params", params, "--out", tmp_path / "runs", "--run-id", "rkz")
    audit("batch", *args, "--jobs", 2, "--formats", "html")
    run = tmp_path / "runs" / "rkz"
    findings = pd.read_parquet(run / "restricted" / "findings.parquet")
    assert sorted(_found(findings), key=str) == sorted(EXPECTED, key=str)
    book = CalamineWorkbook.from_path(str(run / "restricted" / "findings.xlsx"))
    c = book.get_sheet_by_name("C 购买服务合同与资金").to_python()
    head = c[0]  # columns found by their headers: the list's column order is its own business
    rule, cited = head.index("规则"), head.index("依据")
    basis = {row[rule]: row[cited] for row in c[1:]}
    assert basis["C5"].startswith(
        "日喀则市2021年购买乡镇社会救助服务实施方案（从社会救助专项资金中列支，不超过下达总额的5%）"
    )
