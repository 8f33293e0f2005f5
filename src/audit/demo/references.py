"""Other departments' lists in the demo (issue 19) and the answer key of the rules that read them.

What is planted (county codes; every pick inside a county is seeded and uses a household no
other plant has used):

- F12 a 林周 member with a vehicle of 168,000 yuan (registered 2018), a 堆龙 member with one of
  86,000 registered in June 2020; near miss: a 曲水 member's vehicle at exactly 50,000.
- F13 a one-person 城关 household with 45 + 30 m² (the second registered in April 2020); near
  miss: a two-person 堆龙 household with 120 m² (exactly 60 a person).
- F14 a 墨竹 sole trader (个体工商户, capital 30,000); near miss: a 达孜 shareholder with no capital.
- F15 a one-person 城关 城市低保 household with a pension of 1,200 a month; near miss: one with
  847.00 (the standard itself); a two-person 林周 农村低保 household with a housing-fund base of
  3,000 from July 2020.
- F16 a 尼木 household of two that a committee member shares (case_workers.household_id): both
  members; a 当雄 person who is a case worker's child by the relatives list; near miss: a 曲水
  person who is a case worker's sibling, filed (备案).
- F17 a 达孜 特困分散供养 person also paid 事实无人抚养儿童基本生活补贴 for March-May (600 a
  month); near miss: a 城关 城市低保 person paid 残疾人生活补贴, which no group excludes.
- F18 a 林周 person entered again under another ID with the same birth date and a homophone
  name (扎西 / 扎喜) in the same township, and a 城关 one with a name one character apart.
- Every list also holds people on no roll, who can never fire.

The key is computed from the written tables by the plain code below (the rules' documented
interpretations), so side effects (two random people of one township born the same day with
names a character apart, say) are in it too.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from pypinyin import lazy_pinyin
from rapidfuzz.distance import Levenshtein

from audit.demo.anomalies import key_row, to_fen
from audit.demo.people import resident_ids
from audit.demo.register import COUNTIES, OFFICES
from audit.demo.relief import DAY, Roll
from audit.params import Params

CG, DL, DZ, LZ, DX, NM, QS, MZ = (
    "540102",
    "540103",
    "540104",
    "540121",
    "540122",
    "540123",
    "540124",
    "540127",
)
LISTS = (
    "vehicles",
    "real_estate",
    "business_registrations",
    "pensions",
    "housing_fund",
    "case_workers",
    "relatives_filed",
    "relatives",
    "other_programmes",
)
OTHERS = 30
"""People on each list who are on no roll, per unit of scale."""
# One character for another that reads the same (tones aside): how one name gets written twice.
HOMOPHONES = {"西": "喜", "仁": "任", "珍": "真", "玛": "马", "巴": "八", "吉": "集", "旦": "单", "达": "答"}


@dataclass
class ListPlants:
    """The people picked for the lists: rows of each list naming roll entries (filled in later)."""

    rows: dict[str, list[dict[str, object]]] = field(default_factory=lambda: {n: [] for n in LISTS})


def plant_roll(rng: np.random.Generator, roll: Roll, pick) -> ListPlants:
    """Pick the people of the plants above (``pick`` is the demo's picker of unused households)."""
    out = ListPlants()
    pid = lambda e: roll.person_id[e].decode()  # noqa: E731
    hh = lambda h: roll.hh_id[h].decode()  # noqa: E731
    add = lambda table, **row: out.rows[table].append(row)  # noqa: E731

    def who(county: str, programme: str, **conditions: object) -> str:
        return pid(pick.member(pick.household(county, programme, **conditions)))

    day = np.datetime64
    add("vehicles", person_id=who(LZ, "农村低保"), plate="藏A5K168", registered_on=day("2018-05-10"),
        value_yuan=168000.0)  # fmt: skip
    add("vehicles", person_id=who(DL, "城市低保"), plate="藏AD8612", registered_on=day("2020-06-18"),
        value_yuan=86000.0)  # fmt: skip
    add("vehicles", person_id=who(QS, "农村低保"), plate="藏A3Q500", registered_on=day("2019-03-02"),
        value_yuan=50000.0)  # fmt: skip
    one = who(CG, "城市低保", size=1)
    add("real_estate", person_id=one, area_m2=45.0, registered_on=day("2016-09-01"))
    add("real_estate", person_id=one, area_m2=30.0, registered_on=day("2020-04-02"))
    add("real_estate", person_id=who(DL, "城市低保", size=2), area_m2=120.0, registered_on=day("2014-05-20"))
    add("business_registrations", person_id=who(MZ, "农村低保"), role="个体工商户",
        registered_on=day("2019-08-01"), capital_yuan=30000.0)  # fmt: skip
    add("business_registrations", person_id=who(DZ, "农村低保"), role="股东",
        registered_on=day("2017-11-15"), capital_yuan=0.0)  # fmt: skip
    for monthly, since in ((1200.0, "2015-03-01"), (847.0, "2016-03-01")):
        add("pensions", person_id=who(CG, "城市低保", size=1), monthly_yuan=monthly, **{"from": day(since)})
    add("housing_fund", person_id=who(LZ, "农村低保", size=2), monthly_base_yuan=3000.0,
        **{"from": day("2020-07-01")})  # fmt: skip

    shared = pick.household(NM, "农村低保", size=2)
    town = roll.office_code[roll.hh_office[shared]].decode()
    add("case_workers", person_id=None, role="村委会成员", division_code=town, household_id=hh(shared))
    for county, relation, filed in ((DX, "子女", False), (QS, "兄弟姐妹", True)):
        relative = pid(pick.member(pick.household(county, "农村低保")))
        add("case_workers", person_id=None, role="民政经办人员", division_code=county, household_id=None)
        add("relatives", person_id=None, relative_person_id=relative, relation=relation)
        if filed:
            add(
                "relatives_filed",
                person_id=relative,
                worker_person_id=None,
                filed_on=np.datetime64("2019-06-10"),
            )

    tekun = pid(pick.member(pick.household(DZ, "特困分散供养", whole_year=True)))
    for month in (3, 4, 5):
        add("other_programmes", person_id=tekun, programme="事实无人抚养儿童基本生活补贴",
            period=f"2020-{month:02d}", amount_yuan=600.0)  # fmt: skip
    dibao = pid(pick.member(pick.household(CG, "城市低保", whole_year=True)))
    for month in range(1, 13):
        add("other_programmes", person_id=dibao, programme="残疾人生活补贴", period=f"2020-{month:02d}",
            amount_yuan=100.0)  # fmt: skip

    # F18: the same person entered twice, under a second ID with the same birth date.
    for county, homophone in ((LZ, True), (CG, False)):
        a = pick.member(pick.household(county, None, min_size=1))
        b = pick.member(pick.household(county, None, office=int(roll.hh_office[roll.household[a]])))
        roll.birth[b], roll.male[b] = roll.birth[a], roll.male[a]
        roll.person_id[b] = resident_ids(
            rng, np.array([county]), roll.birth[[a]], roll.male[[a]], avoid=roll.person_id
        )[0].encode()
        roll.name[b] = variant(str(roll.name[a]), homophone)
    return out


def variant(name: str, homophone: bool) -> str:
    """``name`` written another way: a character that sounds the same, or one that does not."""
    for i, ch in enumerate(name):
        if ch in HOMOPHONES:
            other = HOMOPHONES[ch] if homophone else ("多" if ch != "多" else "卓")
            if homophone and lazy_pinyin(other) != lazy_pinyin(ch):
                continue
            return name[:i] + other + name[i + 1 :]
    return name[:-1] + ("喜" if homophone else "多")  # no listed character: change the last one


def lists(
    rng: np.random.Generator, plants: ListPlants, scale: int, avoid: np.ndarray
) -> dict[str, pd.DataFrame]:
    """The nine lists: the planted rows among rows of people on no roll, workers filled in."""
    n = OTHERS * scale
    k = 9 * n + len(plants.rows["case_workers"])
    county = np.array([c.code for c in COUNTIES[:8]])[rng.integers(0, 8, k)]
    born = np.datetime64("1950-01-01") + rng.integers(0, 45 * 365, k) * DAY
    others = resident_ids(rng, county, born, rng.random(k) < 0.5, avoid=avoid).tolist()
    take = lambda k: [others.pop() for _ in range(k)]  # noqa: E731
    day = lambda k, start="2005-01-01", span=5000: (  # noqa: E731
        np.datetime64(start) + rng.integers(0, span, k) * DAY
    )
    rows = {name: list(r) for name, r in plants.rows.items()}
    workers = take(len(rows["case_workers"]))
    for w, row in zip(workers, rows["case_workers"], strict=True):
        row["person_id"] = w
    # the relatives and filings name the workers added for them, in order (one per relative)
    listed = [w for w, r in zip(workers, rows["case_workers"], strict=True) if r["household_id"] is None]
    for w, row in zip(listed, rows["relatives"], strict=True):
        row["person_id"] = w
    by_relative = {r["relative_person_id"]: r["person_id"] for r in rows["relatives"]}
    for row in rows["relatives_filed"]:
        row["worker_person_id"] = by_relative[row["person_id"]]
    plates = [f"藏A{x:05d}" for x in rng.integers(0, 99999, n)]
    extra = {
        "vehicles": {
            "person_id": take(n),
            "plate": plates,
            "registered_on": day(n),
            "value_yuan": rng.integers(20, 400, n) * 1000.0,
        },
        "real_estate": {
            "person_id": take(n),
            "area_m2": rng.integers(40, 200, n) * 1.0,
            "registered_on": day(n),
        },
        "business_registrations": {
            "person_id": take(n),
            "role": np.array(["法定代表人", "股东", "个体工商户"])[rng.integers(0, 3, n)],
            "registered_on": day(n),
            "capital_yuan": rng.integers(1, 500, n) * 1000.0,
        },
        "pensions": {"person_id": take(n), "monthly_yuan": rng.integers(1500, 6000, n) * 1.0, "from": day(n)},
        "housing_fund": {
            "person_id": take(n),
            "monthly_base_yuan": rng.integers(3000, 12000, n) * 1.0,
            "from": day(n),
        },
    }
    worker_ids = take(n)
    extra["case_workers"] = {
        "person_id": worker_ids,
        "role": np.array(["民政经办人员", "村委会成员", "居委会成员"])[rng.integers(0, 3, n)],
        "division_code": np.array([o.code for o in OFFICES])[rng.integers(0, len(OFFICES), n)],
        "household_id": [None] * n,
    }
    kin = take(n)
    extra["relatives"] = {
        "person_id": worker_ids,
        "relative_person_id": kin,
        "relation": np.array(["配偶", "父母", "子女", "兄弟姐妹"])[rng.integers(0, 4, n)],
    }
    filed = rng.random(n) < 0.5
    extra["relatives_filed"] = {
        "person_id": np.array(kin)[filed].tolist(),
        "worker_person_id": np.array(worker_ids)[filed].tolist(),
        "filed_on": day(int(filed.sum()), "2015-01-01", 2000),
    }
    extra["other_programmes"] = {
        "person_id": take(n),
        "programme": np.array(
            ["残疾人生活补贴", "重度残疾人护理补贴", "临时救助", "事实无人抚养儿童基本生活补贴"]
        )[rng.integers(0, 4, n)],
        "period": [f"2020-{m:02d}" for m in rng.integers(1, 13, n)],
        "amount_yuan": rng.integers(1, 20, n) * 50.0,
    }
    out = {}
    for name in LISTS:
        frame = pd.concat([pd.DataFrame(rows[name]), pd.DataFrame(extra[name])], ignore_index=True)
        sort = [c for c in frame.columns if c != "household_id"]
        out[name] = frame.sort_values(sort, kind="stable").reset_index(drop=True)
    return out


def persons_followed(tables: dict[str, pd.DataFrame], roll_frame: pd.DataFrame) -> set[str]:
    """Roll people whose payments the key needs: those on a list, their households, workers' households."""
    named = set()
    for name in LISTS:
        for column in ("person_id", "relative_person_id"):
            if column in tables[name]:
                named.update(tables[name][column].dropna())
    households = set(roll_frame.loc[roll_frame["person_id"].isin(named), "household_id"])
    households |= set(tables["case_workers"]["household_id"].dropna())
    return set(roll_frame.loc[roll_frame["household_id"].isin(households), "person_id"])


# ----------------------------------------------------------------------------- the key


def list_findings(
    tables: dict[str, pd.DataFrame], roll: pd.DataFrame, paid: pd.DataFrame, params: Params
) -> list[dict[str, object]]:
    """F12-F18 from the lists, the roll and the followed payments (person, household, programme,
    period, fen)."""
    rows: list[dict[str, object]] = []
    r = params.relief
    hh = roll.groupby("household_id").agg(
        county=("county_code", "first"), size=("household_size", "max"), town=("division_code", "first"),
        programme=("programme", "first"),
    )  # fmt: skip
    member_of = roll[["person_id", "household_id"]].drop_duplicates()

    def paid_since(household: str, since: np.datetime64) -> float:
        mine = paid[paid["household_id"] == household]
        ends = pd.to_datetime(mine["period"] + "-01") + pd.offsets.MonthEnd(0)
        return int(mine.loc[ends >= pd.Timestamp(since), "fen"].sum()) / 100

    def household_rule(rule: str, hits: pd.DataFrame, since: dict[str, np.datetime64], note: str) -> None:
        for h in sorted(since):
            rows.append(key_row(rule, hh.at[h, "county"], "household", h, paid_since(h, since[h]), note))

    def on_roll(table: str, date: str) -> pd.DataFrame:
        m = tables[table].merge(member_of, on="person_id")
        return m[m[date].notna()]  # nobody has exited: every registration counts

    a = r.assets
    v = on_roll("vehicles", "registered_on")
    v = v[v["value_yuan"].map(to_fen) > to_fen(a.vehicle_value_yuan)]
    household_rule(
        "F12", v, v.groupby("household_id")["registered_on"].min().to_dict(), "车辆超标准 / vehicle"
    )

    e = on_roll("real_estate", "registered_on").sort_values(["household_id", "registered_on"])
    since = {}
    for h, g in e.groupby("household_id"):
        total = 0
        for area, day in zip(g["area_m2"], g["registered_on"], strict=True):
            total += round(area * 100)
            if total > round(a.real_estate_m2_per_person * 100) * max(int(hh.at[h, "size"]), 1):
                since[h] = day
                break
    household_rule("F13", e, since, "人均不动产超标准 / real estate")

    b = on_roll("business_registrations", "registered_on")
    b = b[
        b["role"].isin(a.business_roles) & (b["capital_yuan"].map(to_fen) > to_fen(a.business_capital_yuan))
    ]
    household_rule(
        "F14", b, b.groupby("household_id")["registered_on"].min().to_dict(), "工商登记 / business"
    )

    income = pd.concat(
        [
            on_roll("pensions", "from").assign(fen=lambda x: x["monthly_yuan"].map(to_fen)),
            on_roll("housing_fund", "from").assign(
                fen=lambda x: (x["monthly_base_yuan"].map(to_fen) * r.income.housing_fund_base_share).round()
            ),
        ]
    ).sort_values(["household_id", "from"])
    urban = {o.code: o.urban for o in OFFICES}
    since = {}
    for h, g in income.groupby("household_id"):
        std = r.standards.get(hh.at[h, "programme"])
        if std is None:
            continue
        monthly = to_fen((std.urban if urban[hh.at[h, "town"]] else std.rural).monthly_yuan)
        total = 0
        for f, day in zip(g["fen"], g["from"], strict=True):
            total += int(f)
            if total > monthly * int(hh.at[h, "size"]):
                since[h] = day
                break
    household_rule("F15", income, since, "养老金公积金收入超标准 / income")

    workers, rel = tables["case_workers"], tables["relatives"]
    done = tables["relatives_filed"]
    filed = set(zip(done["person_id"], done["worker_person_id"], strict=True))
    links = set()
    ids = set(workers["person_id"])
    for w, h in zip(workers["person_id"], workers["household_id"], strict=True):
        for q in member_of.loc[member_of["household_id"] == h, "person_id"]:
            links.add((q, w))
        for h2 in member_of.loc[member_of["person_id"] == w, "household_id"]:
            for q in member_of.loc[member_of["household_id"] == h2, "person_id"]:
                links.add((q, w))
    for x, y in zip(rel["person_id"], rel["relative_person_id"], strict=True):
        if x in ids:
            links.add((y, x))
        if y in ids:
            links.add((x, y))
    enrolled = set(member_of["person_id"])
    county_of = roll.drop_duplicates("person_id").set_index("person_id")["county_code"]
    for q in sorted({q for q, w in links if q in enrolled and (q, w) not in filed}):
        total = int(paid.loc[paid["person_id"] == q, "fen"].sum()) / 100
        rows.append(
            key_row("F16", county_of[q], "person", q, total, "经办人员近亲属未备案 / relative not filed")
        )

    other = tables["other_programmes"]
    other = other[other["person_id"].isin(enrolled)]
    for q, g in other.groupby("person_id"):
        ours = paid[paid["person_id"] == q]
        clashing = set()  # (programme, period) rows of the other list in a clash
        for group in r.exclusive_programmes or ():
            for period in sorted(set(g["period"])):
                mine = set(ours.loc[ours["period"] == period, "programme"]) & set(group)
                theirs = set(g.loc[g["period"] == period, "programme"]) & set(group)
                if theirs and len(mine | theirs) > 1:
                    clashing |= {(x, period) for x in theirs}
        if clashing:
            at_stake = sum(
                to_fen(g.loc[(g["programme"] == x) & (g["period"] == y), "amount_yuan"].iloc[0])
                for x, y in clashing
            )
            for county in sorted(set(ours["county"])):
                rows.append(
                    key_row("F17", county, "person", q, at_stake / 100, "互斥项目同期发放 / exclusive")
                )

    rows += _near_duplicates(roll, params)
    return rows


def _near_duplicates(roll: pd.DataFrame, params: Params) -> list[dict[str, object]]:
    nd = params.relief.near_duplicates
    people = roll.drop_duplicates("person_id").assign(birth=lambda x: x["person_id"].str[6:14])
    pairs = set()
    for key in ("division_code", "bank_account"):
        for _, g in people.groupby(["birth", key]):
            ids = sorted(g["person_id"])
            pairs.update((x, y) for i, x in enumerate(ids) for y in ids[i + 1 :])
    name = people.set_index("person_id")["name"]
    county = people.set_index("person_id")["county_code"]
    rows = []
    for x, y in sorted(pairs):
        a, b = name[x], name[y]
        if (
            a == b
            or (nd.match_pinyin and lazy_pinyin(a) == lazy_pinyin(b))
            or Levenshtein.distance(a, b) <= nd.max_name_edits
        ):
            rows.append(
                key_row("F18", county[x], "person", f"{x}/{y}", None, "疑似重复登记 / suspected duplicate")
            )
    return rows


def number_gaps(
    values: pd.Series, counties: pd.Series, table: str, min_length: int
) -> list[dict[str, object]]:
    """C11/F19 for numbers with a text prefix and a running number at the end (no long-digit split)."""
    parts = values.str.extract(r"^(.*?)(\d+)$")
    frame = pd.DataFrame({"prefix": parts[0], "digits": parts[1], "county": counties.to_numpy()})
    rows = []
    for (county, prefix), g in frame.dropna().groupby(["county", "prefix"]):
        numbers = sorted(int(d) for d in g["digits"])
        if len(numbers) < min_length:
            continue
        k = int(g["digits"].str.len().max())
        gap = any(b - a > 1 for a, b in itertools.pairwise(numbers))
        dup = len(set(numbers)) < len(numbers)
        if gap or dup:
            rule = "F19" if table == "relief_payments" else "C11"
            rows.append(
                key_row(rule, county, "series", f"{table}:{prefix}{'#' * k}", None, "编号不连续 / gap")
            )
    return rows


__all__ = ["LISTS", "ListPlants", "list_findings", "lists", "number_gaps", "persons_followed", "plant_roll"]
