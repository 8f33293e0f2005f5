"""The purchased-service programme: contracts, staff, fund allocations and fund payments.

79 positions (71 township + 8 city) at 79,504 yuan a position-year, 6,280,816 yuan in all.
The special fund's purchase allocations are exactly its cap share of everything it
allocates; county budgets are allocated the rest. Vouchers pay each contract monthly for
the positions filled that month, at the unit cost per month rounded down to the fen, split
between the funds in the ratio of the county's allocations (each part rounded down), so
honest spending never exceeds an allocation, a contract or the cap.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

import numpy as np
import pandas as pd

from audit.demo.people import names, resident_ids, uscc
from audit.demo.register import COUNTIES, COUNTY_BY_CODE, OFFICES
from audit.vocabulary import COUNTY_BUDGET, PURCHASE, RELIEF, SPECIAL_FUND

AUDIT_MONTHS = tuple(range(1, 13))
YEAR_START, YEAR_END = np.datetime64("2020-01-01"), np.datetime64("2020-12-31")
SIGNING_FROM = np.datetime64("2020-01-09")  # the plan's approval (FACTS.md): contracts are signed from then
SERVICE_START = np.datetime64("2020-01-15")


@dataclass(frozen=True)
class ContractSpec:
    """One contract before it is drawn: who, how many positions, and what it is called."""

    contract_id: str
    county: str
    contractor_name: str
    contractor_type: str
    authority: str  # first two characters of the credit code: 51/52 social organisation, 91 company
    positions: int


def contract_specs(posts: dict[str, list[str]], city_code: str, city_name: str) -> list[ContractSpec]:
    """The contracts for ``posts`` (county -> its post codes): one per county, two in 城关区.

    A social organisation registered by civil affairs (52 民办非企业, 51 社会团体) or a labour
    company registered by market regulation (91) holds each; the city bureau's eight posts
    (under ``city_code``) go to a city-level social-work centre named after ``city_name``.
    """
    holders = {
        city_code: (f"{city_name}社会工作服务中心", "社会组织", "52"),
        "540102": ("拉萨市城关区惠民社会工作服务中心", "社会组织", "52"),
        "540103": ("堆龙德庆区社会工作协会", "社会组织", "51"),
        "540104": ("达孜区益民社会工作服务中心", "社会组织", "52"),
        "540121": ("林周县同心劳务服务有限公司", "劳务公司", "91"),
        "540122": ("当雄县社会工作服务中心", "社会组织", "52"),
        "540123": ("尼木县助民社会工作服务社", "社会组织", "52"),
        "540124": ("曲水县安康劳务有限公司", "劳务公司", "91"),
        "540127": ("墨竹工卡县社会工作服务中心", "社会组织", "52"),
        "540172": ("拉萨经开区社区服务协会", "社会组织", "51"),
    }
    out = []
    for county, codes in posts.items():
        name, kind, authority = holders[county]
        if county == "540102":
            # The big district splits its 14 posts between a social organisation and a company.
            out.append(ContractSpec(f"GM2020-{county}-01", county, name, kind, authority, 8))
            out.append(
                ContractSpec(
                    f"GM2020-{county}-02",
                    county,
                    "西藏雪域安居劳务服务有限公司",
                    "劳务公司",
                    "91",
                    len(codes) - 8,
                )
            )
        else:
            out.append(ContractSpec(f"GM2020-{county}-01", county, name, kind, authority, len(codes)))
    return out


def draw_contracts(rng: np.random.Generator, specs: list[ContractSpec], unit_cost: Decimal) -> pd.DataFrame:
    """The ``contracts`` table: service from 15 January 2020 to the year's end, signed in the days
    after the plan's approval (2020-01-09, C10), priced at unit cost (the service touches 12 months)."""
    rows = []
    for spec in specs:
        registered = np.datetime64("2012-03-01") + int(rng.integers(0, 2600)) * np.timedelta64(1, "D")
        signed = SIGNING_FROM + int(rng.integers(0, 6)) * np.timedelta64(1, "D")
        rows.append(
            {
                "contract_id": spec.contract_id,
                "county_code": spec.county,
                "contractor_name": spec.contractor_name,
                "contractor_uscc": uscc(spec.authority, spec.county, rng),
                "contractor_type": spec.contractor_type,
                "contractor_registered_on": registered,
                "signed_on": signed,
                "service_start": SERVICE_START,
                "service_end": YEAR_END,
                "positions": spec.positions,
                "amount_yuan": float(unit_cost * spec.positions),
            }
        )
    return pd.DataFrame(rows)


def draw_staff(
    rng: np.random.Generator, contracts: pd.DataFrame, posts: dict[str, list[str]], avoid: np.ndarray
) -> pd.DataFrame:
    """The ``staff`` table: one graduate in each post from the first day of the year.

    Posts are given to a county's contracts in order. IDs carry a Lhasa area code and a
    birth in 1988-1998 (graduates of the last decade); most hold a bachelor's degree.
    """
    rows = []
    for county, codes in posts.items():
        mine = contracts[contracts["county_code"] == county]
        slots = np.repeat(mine["contract_id"].to_numpy(), mine["positions"].to_numpy())
        for code, contract_id in zip(codes, slots, strict=True):
            rows.append({"contract_id": contract_id, "post_code": code, "county_code": county})
    staff = pd.DataFrame(rows)
    n = len(staff)
    male = rng.random(n) < 0.5
    births = np.datetime64("1988-01-01") + rng.integers(0, 11 * 365, n) * np.timedelta64(1, "D")
    areas = np.array([c.code for c in COUNTIES[:8]])[rng.integers(0, 8, n)]
    staff.insert(0, "staff_id", [f"SW{c}{i:03d}" for i, c in enumerate(staff["county_code"], start=1)])
    staff.insert(1, "name", names(rng, male, rng.random(n) < 0.1))
    staff.insert(2, "id_number", resident_ids(rng, areas, births, male, avoid=avoid))
    staff.insert(3, "education", np.where(rng.random(n) < 0.12, "硕士研究生", "本科"))
    staff["hired_on"] = YEAR_START
    staff["left_on"] = np.datetime64("NaT", "D")
    cols = ["staff_id", "name", "id_number", "education", "contract_id", "post_code", "hired_on", "left_on"]
    return staff[[*cols, "county_code"]]


def filled_months(staff: pd.DataFrame) -> pd.DataFrame:
    """Positions filled per contract and month: staff in post on every day of the month."""
    rows = []
    for month in AUDIT_MONTHS:
        start = np.datetime64(f"2020-{month:02d}-01")
        end = (start.astype("datetime64[M]") + 1).astype("datetime64[D]") - 1
        in_post = (staff["hired_on"] <= start) & (staff["left_on"].isna() | (staff["left_on"] >= end))
        counts = staff[in_post].groupby("contract_id").size()
        rows += [{"contract_id": c, "month": month, "filled": int(k)} for c, k in counts.items()]
    return pd.DataFrame(rows, columns=["contract_id", "month", "filled"])


def special_purchase_total(relief_total_yuan: int, cap_share: float) -> tuple[int, int]:
    """The special fund's purchase allocation that spends its cap exactly, and the relief total used.

    The purchase allocation P is ``cap / (1 - cap)`` of the relief allocations R, so that P is
    exactly ``cap`` of R + P. R is raised by a few yuan until P is a whole yuan.
    """
    ratio = Fraction(str(cap_share)) / (1 - Fraction(str(cap_share)))
    step = ratio.denominator
    relief = -(-relief_total_yuan // step) * step
    return int(relief * ratio), int(relief)


def purchase_allocations(
    contracts: pd.DataFrame, special_total: int, unit_cost: Decimal, city_code: str
) -> tuple[pd.DataFrame, dict[str, tuple[int, int]]]:
    """Allocations for the purchase, and each county's (special, county budget) split in yuan.

    The city's own positions are paid wholly from the special fund (the programme lets them
    use what the counties leave under the cap); the rest of the special fund is shared among
    counties by positions, and each county budget covers the remainder of its contracts.
    """
    cost = (
        contracts.assign(need=np.maximum(contracts["amount_yuan"], contracts["positions"] * float(unit_cost)))
        .groupby("county_code")[["need", "positions"]]
        .sum()
    )
    city_need = int(cost.loc[city_code, "need"])
    counties = cost.drop(index=city_code)
    shares = _whole_shares(special_total - city_need, counties["positions"].to_numpy())
    split = {city_code: (city_need, 0)}
    for (county, row), share in zip(counties.iterrows(), shares, strict=True):
        split[county] = (int(share), int(row["need"]) - int(share))
    rows = []
    for county, (special, own) in split.items():
        rows.append(_allocation(county, SPECIAL_FUND, PURCHASE, special, "2020-01-15"))
        if own:
            rows.append(_allocation(county, COUNTY_BUDGET, PURCHASE, own, "2020-02-20"))
    return pd.DataFrame(rows), split


def _whole_shares(total: int, weights: np.ndarray) -> np.ndarray:
    share = weights / weights.sum() * total
    out = np.floor(share).astype(np.int64)
    out[np.argsort(-(share - out), kind="stable")[: total - out.sum()]] += 1
    return out


def _allocation(county: str, fund: str, purpose: str, amount: float, on: str) -> dict[str, object]:
    return {
        "allocation_id": "",
        "county_code": county,
        "fund": fund,
        "purpose": purpose,
        "amount_yuan": float(amount),
        "allocated_on": np.datetime64(on),
    }


def relief_allocations(totals_fen: dict[str, int], margins: dict[str, float]) -> list[dict[str, object]]:
    """Special-fund relief allocations: a county's payments times (1 + margin), in two documents."""
    rows = []
    for county, total in sorted(totals_fen.items()):
        amount = int(np.ceil(total / 100 * (1 + margins[county])))
        first = amount * 6 // 10  # the advance at the start of the year, the rest mid-year
        rows.append(_allocation(county, SPECIAL_FUND, RELIEF, first, "2020-01-20"))
        rows.append(_allocation(county, SPECIAL_FUND, RELIEF, amount - first, "2020-06-15"))
    return rows


def number_allocations(frame: pd.DataFrame) -> pd.DataFrame:
    """Give every allocation its document number: regional ones 藏财社, county ones by county."""
    frame = frame.sort_values(["county_code", "fund", "allocated_on", "purpose"], kind="stable")
    frame = frame.reset_index(drop=True)
    ids, seen = [], {"region": 0}
    for _, row in frame.iterrows():
        if row["fund"] == SPECIAL_FUND:
            seen["region"] += 1
            ids.append(f"藏财社指〔2020〕{seen['region']}号")
        else:
            county = row["county_code"]
            seen[county] = seen.get(county, 0) + 1
            ids.append(f"{COUNTY_BY_CODE[county].short}财预〔2020〕{seen[county]}号")
    frame["allocation_id"] = ids
    return frame


def vouchers(
    contracts: pd.DataFrame,
    paid: pd.DataFrame,
    split: dict[str, tuple[int, int]],
    unit_cost: Decimal,
    special_only: frozenset[str] = frozenset(),
) -> pd.DataFrame:
    """The ``fund_payments`` table: per contract and month, one voucher per fund.

    ``paid`` holds the positions paid per (contract_id, month), each at the unit cost a month
    rounded down to the fen. ``special_only`` counties charge the whole month to the special
    fund.
    """
    rows = []
    by_id = contracts.set_index("contract_id")
    for (contract_id, month), positions in paid.set_index(["contract_id", "month"])["paid"].items():
        if positions <= 0:
            continue
        c = by_id.loc[contract_id]
        county = c["county_code"]
        # Paid at the plan's unit cost whatever the contract says (C8 catches a contract below it).
        month_fen = int(unit_cost * 100 // 12) * int(positions)
        special, own = split[county]
        ratio = Fraction(special, special + own)
        parts = [(SPECIAL_FUND, int(month_fen * ratio)), (COUNTY_BUDGET, int(month_fen * (1 - ratio)))]
        if county in special_only:
            parts = [(SPECIAL_FUND, parts[0][1] + parts[1][1])]
        for fund, fen in parts:
            if fen:
                rows.append(
                    {
                        "county_code": county,
                        "fund": fund,
                        "purpose": PURCHASE,
                        "contract_id": contract_id,
                        "amount_yuan": fen / 100,
                        "paid_on": _voucher_day(county, month),
                        "covers_month": f"2020-{month:02d}",
                    }
                )
    return pd.DataFrame(rows)


def _voucher_day(county: str, month: int) -> np.datetime64:
    # Paid after the month is worked, around the 10th; December before the books close.
    if month == 12:
        return np.datetime64("2020-12-25")
    day = 8 + int(county[-2:]) % 5
    return np.datetime64(f"2020-{month + 1:02d}-{day:02d}")


def number_vouchers(frame: pd.DataFrame) -> pd.DataFrame:
    """Voucher numbers per county in date order: 记-<county>-<year>-<seq>."""
    frame = frame.sort_values(["county_code", "paid_on", "contract_id", "fund"], kind="stable")
    frame = frame.reset_index(drop=True)
    seq = frame.groupby("county_code").cumcount() + 1
    frame.insert(
        0, "voucher_no", [f"记-{c}-2020-{s:04d}" for c, s in zip(frame["county_code"], seq, strict=True)]
    )
    return frame


def posts_by_county(extra: dict[str, list[str]], city_posts: int, city_code: str) -> dict[str, list[str]]:
    """Post codes per county: one per office, plus ``extra`` posts; the city bureau's own (``city_code``)."""
    posts: dict[str, list[str]] = {city_code: [city_code] * city_posts}
    for office in OFFICES:
        posts.setdefault(office.county, []).append(office.code)
    for county, codes in extra.items():
        posts[county] = posts[county] + codes
    return posts
