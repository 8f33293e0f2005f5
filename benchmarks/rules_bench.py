"""Seconds per rule over one synthetic county of about a million relief payments.

Run: ``.venv/bin/python benchmarks/rules_bench.py [--persons 85000] [--seed 1]``. The county
is generated with numpy (valid-looking resident IDs with their check digit, twelve months
of payments per person, a sprinkling of anomalies so the rules have something to find);
then every county-scope rule is timed on its own, and the whole county run once.
"""

from __future__ import annotations

import argparse
import platform
import time
from pathlib import Path

import numpy as np
import pandas as pd

from audit.params import load_params
from audit.rules import RULES, Tables, run_rule, run_rules

ROOT = Path(__file__).resolve().parents[1]
COUNTY = "540102"
WEIGHTS = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2])
CHECK = np.array(list("10X98765432"))


def _text(values) -> pd.Series:
    return pd.Series(values).astype("str")


def _ids(rng: np.random.Generator, n: int) -> pd.Series:
    """``n`` distinct resident IDs of the county with a correct check character."""
    code = rng.choice(27_000 * 1000, size=n, replace=False)  # (birth day, sequence) pairs, distinct
    birth = np.datetime64("1940-01-01") + (code // 1000).astype("timedelta64[D]")
    ymd = pd.Series(birth.astype("datetime64[D]")).dt.strftime("%Y%m%d").to_numpy().astype("U8")
    seq = np.char.zfill((code % 1000).astype("U3"), 3)
    body = np.char.add(np.char.add(COUNTY, ymd), seq)
    digits = np.frombuffer(body.astype("S17").tobytes(), dtype=np.uint8).reshape(n, 17) - ord("0")
    check = CHECK[(digits.astype(np.int64) @ WEIGHTS) % 11]
    return _text(np.char.add(body, check))


def _names(rng: np.random.Generator, n: int) -> pd.Series:
    """Tibetan names of two common parts (a few hundred distinct), drawn on a stream of their own."""
    first = np.array(["扎西", "次仁", "格桑", "达瓦", "尼玛", "边巴", "平措", "索朗", "洛桑", "旦增"])
    second = np.array(["卓玛", "央金", "拉姆", "多吉", "顿珠", "曲珍", "次旦", "白玛", "普布", "措姆"])
    return _text(np.char.add(first[rng.integers(0, 10, n)], second[rng.integers(0, 10, n)]))


def _dates(values) -> pd.Series:
    return pd.Series(pd.to_datetime(values)).astype("datetime64[us]")


def _src(frame: pd.DataFrame, name: str) -> pd.DataFrame:
    frame["src_file"] = _text(np.full(len(frame), f"{name}.xlsx"))
    frame["src_sheet"] = _text(np.full(len(frame), "Sheet1"))
    frame["src_row"] = np.arange(2, len(frame) + 2, dtype="int64")
    return frame


def make_county(persons: int, seed: int) -> dict[str, pd.DataFrame]:
    """One county's tables with about ``persons`` x 12 relief payments."""
    rng = np.random.default_rng(seed)
    towns = [f"{COUNTY}{i:03d}" for i in range(1, 13)]
    kinds = ["街道"] * 8 + ["乡"] * 4
    divisions = pd.DataFrame(
        {
            "division_code": _text(towns),
            "name": _text([f"乡镇{i}" for i in range(12)]),
            "level": _text(["township"] * 12),
            "kind": _text(kinds),
            "parent_code": _text([COUNTY] * 12),
            "county_code": _text([COUNTY] * 12),
        }
    )
    offices = pd.DataFrame(
        {
            "division_code": _text(towns),
            "dedicated_officer": np.ones(12, dtype=bool),
            "office_area_m2": np.full(12, 40.0),
            "has_equipment": np.arange(12) != 3,
            "budgeted_funds_yuan": np.full(12, 20000.0),
            "county_code": _text([COUNTY] * 12),
        }
    )
    # the roll: households of 1-4, one programme and township each
    sizes = rng.choice([1, 2, 3, 4], size=persons, p=[0.4, 0.3, 0.2, 0.1])
    sizes = sizes[np.cumsum(sizes) <= persons]
    households = len(sizes)
    n = int(sizes.sum())
    hh_of = np.repeat(np.arange(households), sizes)
    programme_of_hh = rng.choice(
        ["城市低保", "农村低保", "特困分散供养", "孤儿"], size=households, p=[0.6, 0.3, 0.07, 0.03]
    )
    town_of_hh = rng.integers(0, 12, households)
    pid = _ids(rng, n)
    hh = _text(np.char.add("H", np.char.zfill(np.arange(households).astype("U7"), 7)))
    account = _text(np.char.add("62170", np.char.zfill(np.arange(households).astype("U11"), 11)))
    roll = pd.DataFrame(
        {
            "person_id": pid,
            "name": _names(np.random.default_rng(seed + 100), n),
            "household_id": hh.to_numpy()[hh_of],
            "division_code": _text(np.array(towns)[town_of_hh][hh_of]),
            "programme": _text(programme_of_hh[hh_of]),
            "household_size": sizes[hh_of].astype("int64"),
            "enrolled_on": _dates(np.full(n, "2019-01-01")),
            "exited_on": _dates(np.where(rng.random(n) < 0.01, "2020-09-30", None)),
            "bank_account": account.to_numpy()[hh_of],
            "county_code": _text(np.full(n, COUNTY)),
        }
    )
    roll = _src(roll, "beneficiaries")
    # twelve payments per person, at the standard per person
    per_month = {"城市低保": 847.0, "农村低保": 392.75, "特困分散供养": 589.17, "孤儿": 1000.0}
    months = np.tile(np.arange(1, 13), n)
    who = np.repeat(np.arange(n), 12)
    m = len(who)
    amount = pd.Series(roll["programme"].to_numpy()[who]).map(per_month).to_numpy()
    amount = np.where(rng.random(m) < 0.001, amount + 100.0, amount)  # a few above the standard
    period = _text(np.char.add("2020-", np.char.zfill(months.astype("U2"), 2)))
    due = pd.to_datetime(period + "-01") + pd.offsets.MonthBegin(1)
    paid_on = due + pd.to_timedelta(rng.integers(0, 15, m) + (rng.random(m) < 0.002) * 20, unit="D")
    pay = pd.DataFrame(
        {
            "payment_id": _text(np.char.add("P", np.char.zfill(np.arange(m).astype("U8"), 8))),
            "person_id": roll["person_id"].to_numpy()[who],
            "household_id": roll["household_id"].to_numpy()[who],
            "programme": roll["programme"].to_numpy()[who],
            "period": period,
            "amount_yuan": amount,
            "paid_on": pd.Series(paid_on).astype("datetime64[us]"),
            "bank_account": roll["bank_account"].to_numpy()[who],
            "county_code": _text(np.full(m, COUNTY)),
        }
    )
    dup = pay.sample(frac=0.0005, random_state=seed).assign(
        payment_id=lambda d: "D" + d["payment_id"].str.slice(1)
    )  # paid twice
    pay = _src(pd.concat([pay, dup], ignore_index=True), "relief_payments")
    dead = roll.sample(frac=0.005, random_state=seed)
    deaths = pd.DataFrame(
        {"person_id": dead["person_id"].to_numpy(), "died_on": _dates(np.full(len(dead), "2020-06-15"))}
    )
    public = roll.sample(frac=0.002, random_state=seed + 1)
    employees = pd.DataFrame(
        {
            "person_id": public["person_id"].to_numpy(),
            "employer": _text(np.full(len(public), "某县财政局")),
            "since": _dates(np.full(len(public), "2015-07-01")),
        }
    )
    lists = other_departments(rng, roll, pay, seed)
    staff_ids = _ids(rng, 12)
    staff = _src(
        pd.DataFrame(
            {
                "staff_id": _text([f"S{i:02d}" for i in range(12)]),
                "name": _text(["扎西"] * 12),
                "id_number": staff_ids,
                "education": _text(["本科"] * 11 + ["大专"]),
                "contract_id": _text(["HT-1"] * 12),
                "post_code": _text(towns),
                "hired_on": _dates(["2020-01-01"] * 12),
                "left_on": _dates([None] * 11 + ["2020-06-30"]),
                "county_code": _text([COUNTY] * 12),
            }
        ),
        "staff",
    )
    contracts = _src(
        pd.DataFrame(
            {
                "contract_id": _text(["HT-1"]),
                "county_code": _text([COUNTY]),
                "contractor_name": _text(["某社会工作服务中心"]),
                "contractor_uscc": _text(["52540102MJ0000010D"]),
                "contractor_type": _text(["社会组织"]),
                "contractor_registered_on": _dates(["2018-03-01"]),
                "signed_on": _dates(["2019-12-20"]),
                "service_start": _dates(["2020-01-01"]),
                "service_end": _dates(["2020-12-31"]),
                "positions": np.array([12], dtype="int64"),
                "amount_yuan": np.array([12 * 79504.0]),
            }
        ),
        "contracts",
    )
    fund_payments = _src(
        pd.DataFrame(
            {
                "voucher_no": _text([f"V{i:02d}" for i in range(1, 13)]),
                "county_code": _text([COUNTY] * 12),
                "fund": _text(["县级财政"] * 12),
                "purpose": _text(["购买服务"] * 12),
                "contract_id": _text(["HT-1"] * 12),
                "amount_yuan": np.full(12, 79504.0),
                "paid_on": _dates([f"2020-{i:02d}-05" for i in range(2, 13)] + ["2021-01-05"]),
                "covers_month": _text([f"2020-{i:02d}" for i in range(1, 13)]),
            }
        ),
        "fund_payments",
    )
    allocations = _src(
        pd.DataFrame(
            {
                "allocation_id": _text(["A1", "A2"]),
                "county_code": _text([COUNTY] * 2),
                "fund": _text(["社会救助专项资金", "县级财政"]),
                "purpose": _text(["救助金", "购买服务"]),
                "amount_yuan": np.array([round(float(pay["amount_yuan"].sum()) * 0.97, 2), 12 * 79504.0]),
                "allocated_on": _dates(["2020-01-15"] * 2),
            }
        ),
        "fund_allocations",
    )
    return {
        "divisions": divisions,
        "offices": offices,
        "contracts": contracts,
        "staff": staff,
        "fund_allocations": allocations,
        "fund_payments": fund_payments,
        "beneficiaries": roll,
        "relief_payments": pay,
        "deaths": deaths,
        "public_employees": employees,
        **lists,
    }


def other_departments(
    rng: np.random.Generator, roll: pd.DataFrame, pay: pd.DataFrame, seed: int
) -> dict[str, pd.DataFrame]:
    """The lists of issue 19's rules: each names 1 % of the roll (and as many people on no roll)."""
    n = max(len(roll) // 100, 1)
    people = pd.concat([roll["person_id"].sample(n, random_state=seed), _ids(rng, n)], ignore_index=True)
    k = len(people)
    day = _dates(np.datetime64("2010-01-01") + rng.integers(0, 4000, k).astype("timedelta64[D]"))
    out = {
        "vehicles": pd.DataFrame(
            {
                "person_id": people,
                "plate": _text([f"藏A{i:05d}" for i in range(k)]),
                "registered_on": day,
                "value_yuan": rng.integers(10, 200, k) * 1000.0,
            }
        ),
        "real_estate": pd.DataFrame(
            {"person_id": people, "area_m2": rng.integers(30, 200, k) * 1.0, "registered_on": day}
        ),
        "business_registrations": pd.DataFrame(
            {
                "person_id": people,
                "role": _text(np.array(["法定代表人", "股东", "个体工商户"])[rng.integers(0, 3, k)]),
                "registered_on": day,
                "capital_yuan": rng.integers(0, 100, k) * 1000.0,
            }
        ),
        "pensions": pd.DataFrame(
            {"person_id": people, "monthly_yuan": rng.integers(300, 3000, k) * 1.0, "from": day}
        ),
        "housing_fund": pd.DataFrame(
            {"person_id": people, "monthly_base_yuan": rng.integers(1000, 8000, k) * 1.0, "from": day}
        ),
        "case_workers": pd.DataFrame(
            {
                "person_id": _ids(rng, n),
                "role": _text(["村委会成员"] * n),
                "division_code": _text([f"{COUNTY}001"] * n),
                "household_id": roll["household_id"].sample(n, random_state=seed + 2).to_numpy(),
            }
        ),
        "relatives_filed": pd.DataFrame(
            {"person_id": people[:n], "worker_person_id": people[n:].to_numpy(), "filed_on": day[:n]}
        ),
        "relatives": pd.DataFrame(
            {
                "person_id": people[n:].to_numpy(),
                "relative_person_id": people[:n].to_numpy(),
                "relation": _text(["子女"] * n),
            }
        ),
        "other_programmes": pd.DataFrame(
            {
                "person_id": pay["person_id"].sample(k, random_state=seed).to_numpy(),
                "programme": _text(
                    np.array(["事实无人抚养儿童基本生活补贴", "残疾人生活补贴"])[rng.integers(0, 2, k)]
                ),
                "period": pay["period"].sample(k, random_state=seed + 1).to_numpy(),
                "amount_yuan": np.full(k, 300.0),
            }
        ),
    }
    return {name: _src(frame, name) for name, frame in out.items()}


def main() -> None:
    """Generate the county, time each county-scope rule and the whole run, print a table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=85_000, help="people on the roll (x 12 payments)")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    params = load_params(ROOT / "params" / "lhasa-2020.yaml")
    started = time.perf_counter()
    frames = make_county(args.persons, args.seed)
    print(f"generated in {time.perf_counter() - started:.1f} s: {len(frames['relief_payments']):,} payments, "
          f"{len(frames['beneficiaries']):,} on the roll")  # fmt: skip
    started = time.perf_counter()
    tables = Tables(frames)
    print(f"input bundle built (columns checked, chunks joined) in {time.perf_counter() - started:.3f} s")
    print(f"python {platform.python_version()}, pandas {pd.__version__}, numpy {np.__version__}")
    print(f"{'rule':<5} {'seconds':>8} {'findings':>9}  status")
    total = 0.0
    for rule in RULES.select(scope="county"):
        t0 = time.perf_counter()
        run = run_rule(rule.id, tables, params, scope="county", county=COUNTY)
        took = time.perf_counter() - t0
        total += took
        result = run.results.iloc[0]
        print(f"{rule.id:<5} {took:8.3f} {result['n_findings']:9d}  {result['status']}")
    print(f"{'sum':<5} {total:8.3f}")
    t0 = time.perf_counter()
    run = run_rules(tables, params, scope="county", county=COUNTY)
    print(f"run_rules(scope='county') in {time.perf_counter() - t0:.3f} s: {len(run.findings):,} findings")


if __name__ == "__main__":
    main()
