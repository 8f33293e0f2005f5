"""Planted anomalies and the answer key.

What is planted, by rule (county codes; every pick inside a county is seeded):

- C1 540104 contractor is a 事业单位; 540122 credit code with a wrong check character;
  540127 contractor registered after the contract was signed.
- C2 540123 and 540124 signed after service start; 城关 contract 02 runs to 2021-01-31.
- C3 540121 priced half a position-year above positions x unit cost, 540103 as much below
  (the city total stays 6,280,816.00); 城关 contract 02, running 13 months, too.
- C4 the four counties holding the release's five extra township posts (540102, 540103,
  540104, 540121) contract more than one position per office of the register.
- C5 540127 charges its whole county share to the special fund (city-wide, once; at scale
  above 1 the cap grows with the relief allocations and C5 no longer fires).
- C6 540122 has no county-budget allocation for the purchase, 540124 is 100,000 short.
- C7 540121 and 城关 contract 01 are paid for months a post stood empty; 540172's November
  vouchers are entered twice (C7 and C8).
- C8 540103 is paid at unit cost, above its contract; 540172 (above).
- C9 every contract (all are bought by position).
- S1/S10 a 林周 post left empty from October (S1 Oct-Dec, S10), a 尼木 post empty June-August
  before its successor came (S1, S10), a 城关 post first filled in February (S1 only).
- S2/S3/S9 the release's 71 township posts for 66 offices: two offices with two staff, two
  posts at codes not in the register (S2: 堆龙's at a code of its own, 城关's at 540173001, a
  code of another county, written without a county code, so ingest must file it under the
  contract's county and C7 there must not count its months unfilled), one post lent to the
  city bureau (S3: 9 posts), and S9 city-wide.
- S4 540122, 540124, 540127; S5 invalid IDs in 540102, 540123, one person in posts in 540104
  and 540127; S6 540103, 540121; S7 540102, 540122; S8 540103, 540123, 540124.
- F1 payments to two people not on the roll (540102, 540124) and one for a month before
  enrolment (540121); a ghost payee (issue 14): someone on no roll paid 900 yuan in March,
  April and May into a 540103 household's account, under a household number no roll has,
  written without a county code (F1 three times in 540103, and F7 for the account); F2 two
  deaths (540122 twice, 540127), and a near miss in 540123 (died in December, paid for
  December: not a finding); F3 540102, 540103, 540121.
- F4 a person in 城市低保 (540102) and 农村低保 (540121), one in 农村低保 (540104) and 特困
  (540124), one in 农村低保 and 特困 in two townships of 540123; and (issue 14) one in 城市低保
  (540172) and 特困分散供养 (540127), paid in both, every payment written without a county code:
  ingest files each by its household and the rules audit them there (one is paid late: F8).
- F5 540103, 540122, 540127, and whatever an F3 duplicate pushes over; F6 540102, 540104,
  540172; F7 540121 (three households), 540122 (two); F8 540102, 540123, 540127.
- F10 540104 overspent, 540123 20% unspent; F11 540124 in round hundreds, 540122 flat near
  the ceiling.
- F9 is not planted: the roll must match the published figures exactly, so at scale 1 F9
  is clean; at any other scale it fires for every programme (the roll is then K times the
  release). The F4 duplicates sit in two different programmes, so they leave every count
  by programme exact whether a rule counts rows or distinct people.
- Data-quality defects (rule ``DQ``): a beneficiary row repeated with its ID stored as a
  number (digits lost) and one with a wrong check digit; payments with a wrong check digit,
  an amount with three decimals and (not in Parquet) an impossible date.

The key is not a copy of this list. Every rule's findings are computed from the generated
tables by the plain code below, so side effects are in the key too and nothing outside it is
a finding. Where RULES.md leaves room, the code follows the interpretations written at the
top of ``audit.rules.contracts``, ``staffing`` and ``relief`` (C3 prorates by months of
service; C4's county share is one position per office of the register; C7 counts a month
filled when someone is in post on any day of it and paid positions as payments over the
monthly unit cost, rounded; S10 counts vacancies after a post ends; F3 lists the later
payments of a duplicate; F4 and S5 across counties give one row per county; F7 is per
county). Cross-county findings carry each county's code; city-wide ones the city's (the
parameters file's ``city_code``).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

import numpy as np
import pandas as pd

from audit.datacontract import EDUCATION_LEVELS, PROGRAMMES
from audit.demo.people import (
    USCC_ALPHABET,
    USCC_WEIGHTS,
    bank_accounts,
    break_check,
    break_uscc,
    names,
    resident_ids,
)
from audit.demo.people import uscc as make_uscc
from audit.demo.register import OFFICES
from audit.demo.relief import DAY, Chunk, Extra, Patches, Roll
from audit.params import Params
from audit.vocabulary import COUNTY_BUDGET, PURCHASE, RELIEF, SPECIAL_FUND

KEY_COLUMNS = ("rule_id", "county_code", "entity_type", "entity_id", "amount_yuan", "note")
LUHN_FREE_NOTE = "19-digit rural passbook accounts fail the Luhn check by design (soft flag, no rule)"

CG, DL, DZ, LZ, DX, NM, QS, MZ, JK = (
    "540102",
    "540103",
    "540104",
    "540121",
    "540122",
    "540123",
    "540124",
    "540127",
    "540172",
)
ROUND_COUNTIES = frozenset({QS})  # F11: paid in whole hundreds
FLAT_COUNTIES = frozenset({DX})  # F11: paid 70-100% of the ceiling, first digits far from Benford
# S2: posts at codes the register lacks. 城关's is at a code of another county (园区 540173
# has no township), written without a county code: ingest must file it under the contract's
# county, whose C7 then counts the worker (issue 14).
UNREGISTERED_POSTS = {CG: "540173001", DL: "540103005"}
GHOST = (DL, "城市低保", (3, 4, 5), 90_000)  # issue 14: county, programme, months, fen a month
TWO_ROLLS = ((JK, "城市低保"), (MZ, "特困分散供养"), 7)  # issue 14: the two rolls, and the month paid late
SPECIAL_ONLY = frozenset({MZ})  # C5
RELIEF_MARGIN = {DZ: -0.03, NM: 0.25}  # F10: allocation 3% below payments; 20% left unspent
COUNTY_BUDGET_CUT = {DX: None, QS: 100_000}  # C4 + C6: allocation missing, or short by this


def streams(seed: int) -> dict[str, np.random.Generator]:
    """One independent random stream per part of the demo, so parts do not shift each other."""
    # appended parts leave the earlier ones' streams as they were (SeedSequence.spawn is by position)
    parts = (
        "offices",
        "roll",
        "amounts",
        "plant",
        "staff",
        "contracts",
        "payments",
        "refs",
        "funds",
        "lists",
        "attribution",
    )
    children = np.random.SeedSequence(seed).spawn(len(parts))
    return {p: np.random.default_rng(s) for p, s in zip(parts, children, strict=True)}


# ----------------------------------------------------------------------------- planting


@dataclass
class Planted:
    """What planting adds besides changed tables: reference lists, payment patches, picks."""

    deaths: list[dict[str, object]] = field(default_factory=list)
    public_employees: list[dict[str, object]] = field(default_factory=list)
    patches: Patches = field(default_factory=Patches)
    roll_damage: list[tuple[int, str]] = field(default_factory=list)  # (roll entry, "number" | "check")
    late_enrolment: int = -1  # roll entry enrolled in March and paid for January (F1)
    paid_vacancies: list[tuple[str, int]] = field(default_factory=list)  # (contract_id, month) paid +1
    used_households: set[int] = field(default_factory=set)


class Picker:
    """Seeded picks of households and people that no other plant has used."""

    def __init__(self, rng: np.random.Generator, roll: Roll, planted: Planted) -> None:
        self.rng, self.roll, self.used = rng, roll, planted.used_households
        self.hh_county = roll.county_code[roll.hh_office].astype("U6")
        self.first_entry = np.r_[0, np.cumsum(roll.hh_size)[:-1]]

    def household(
        self,
        county: str,
        programme: str | None,
        *,
        size: int | None = None,
        min_size: int = 1,
        office: int | None = None,
        not_office: int | None = None,
        head_born: tuple[str, str] | None = None,
        member_born: tuple[str, str] | None = None,
        whole_year: bool = False,
    ) -> int:
        """A random unused household of ``county`` matching every condition given."""
        roll = self.roll
        ok = self.hh_county == county
        if programme is not None:  # None: any programme
            ok &= roll.hh_programme == PROGRAMMES.index(programme)
        ok &= roll.hh_size >= min_size
        if size is not None:
            ok &= roll.hh_size == size
        if office is not None:
            ok &= roll.hh_office == office
        if not_office is not None:
            ok &= roll.hh_office != not_office
        if head_born is not None:
            birth = roll.birth[self.first_entry]
            ok &= (birth >= np.datetime64(head_born[0])) & (birth <= np.datetime64(head_born[1]))
        if member_born is not None:
            fits = (roll.birth >= np.datetime64(member_born[0])) & (
                roll.birth <= np.datetime64(member_born[1])
            )
            ok &= np.logical_or.reduceat(fits, self.first_entry)
        if whole_year:  # enrolled before the audit year, so paid in every month of it
            ok &= roll.enrolled_on[self.first_entry] < np.datetime64("2020-01-01")
        ok[list(self.used)] = False
        candidates = np.flatnonzero(ok)
        if not len(candidates):
            raise RuntimeError(f"demo: no {programme} household to plant in {county}")
        hh = int(candidates[self.rng.integers(0, len(candidates))])
        self.used.add(hh)
        return hh

    def member(self, hh: int, born: tuple[str, str] | None = None, head: bool = True) -> int:
        """A random member of ``hh`` (born in the range when one is), the head allowed or not."""
        start = int(self.first_entry[hh])
        entries = np.arange(start, start + int(self.roll.hh_size[hh]))
        if not head and len(entries) > 1:
            entries = entries[1:]
        if born is not None:
            b = self.roll.birth[entries]
            fit = entries[(b >= np.datetime64(born[0])) & (b <= np.datetime64(born[1]))]
            entries = fit if len(fit) else entries
        return int(entries[self.rng.integers(0, len(entries))])


def plant_offices(rng: np.random.Generator, offices: pd.DataFrame) -> None:
    """S8: one office without a dedicated officer, one without equipment, one with no room."""
    for county, column, value in (
        (DL, "dedicated_officer", False),
        (NM, "has_equipment", False),
        (QS, "office_area_m2", 0.0),
    ):
        rows = offices.index[offices["county_code"] == county]
        offices.loc[rows[rng.integers(0, len(rows))], column] = value


def extra_posts(roll: Roll, city_code: str) -> dict[str, list[str]]:
    """Where the five township posts beyond the 66 offices sit (S2 twice as doubles, S2, S3).

    The largest office of 城关 and of 林周 gets a second post; two posts sit at codes the
    register lacks; one 达孜 post is lent to the city bureau.
    """
    persons = np.bincount(roll.office, minlength=len(OFFICES))
    out = {CG: [], LZ: [], DL: [UNREGISTERED_POSTS[DL]], DZ: [city_code]}
    for county in (CG, LZ):
        mine = [i for i, o in enumerate(OFFICES) if o.county == county]
        out[county].append(OFFICES[max(mine, key=lambda i: persons[i])].code)
    out[CG].append(UNREGISTERED_POSTS[CG])
    return out


def plant_roll(rng: np.random.Generator, roll: Roll, params: Params, planted: Planted) -> None:
    """F1 (late enrolment), F2, F4, F6, F7 and the beneficiary data-quality rows."""
    pick = Picker(rng, roll, planted)

    def copy_identity(src: int, dst: int) -> None:
        for name in ("person_id", "name", "birth", "male"):
            getattr(roll, name)[dst] = getattr(roll, name)[src]

    # F4: one person on two rolls, in a different programme each time (so F9 stays exact).
    a = pick.household(CG, "城市低保", min_size=2)
    b = pick.household(LZ, "农村低保", min_size=3)
    copy_identity(pick.member(a, born=("1960-01-01", "1990-12-31")), pick.member(b, head=False))
    for src_county, dst_county, dst_programme in ((DZ, QS, "特困分散供养"), (NM, NM, "特困集中供养")):
        a = pick.household(src_county, "农村低保", min_size=2)
        b = pick.household(dst_county, dst_programme, not_office=int(roll.hh_office[a]))
        copy_identity(pick.member(a, born=("1925-01-01", "1962-12-31")), pick.member(b))

    # F6: public employees alone in a 低保 household of their own.
    employers = {CG: "拉萨市城关区八廓街道办事处", DZ: "达孜区人民医院", JK: "拉萨经济技术开发区管理委员会"}
    for county, programme in ((CG, "城市低保"), (DZ, "农村低保"), (JK, "城市低保")):
        hh = pick.household(county, programme, size=1, head_born=("1965-01-01", "1990-12-31"))
        person = pick.member(hh)
        planted.public_employees.append(
            {
                "person_id": roll.person_id[person].decode(),
                "employer": employers[county],
                "since": np.datetime64("2012-09-01") + int(rng.integers(0, 2000)) * DAY,
            }
        )

    # F7: households in one office paid into one account.
    for county, k in ((LZ, 3), (DX, 2)):
        first = pick.household(county, "农村低保")
        for _ in range(k - 1):
            other = pick.household(county, "农村低保", office=int(roll.hh_office[first]))
            roll.hh_account[other] = roll.hh_account[first]

    # F2: 特困 recipients who died and stayed on the roll; the 尼木 one died after the
    # first day of the last month paid, so no payment follows the death.
    for county, programme, died in (
        (DX, "特困分散供养", "2020-10-15"),
        (MZ, "特困集中供养", "2020-11-03"),
        (NM, "特困分散供养", "2020-12-10"),
    ):
        person = pick.member(pick.household(county, programme))
        planted.deaths.append({"person_id": roll.person_id[person].decode(), "died_on": np.datetime64(died)})

    # F1: a 林周 household enrolled in March, later paid for January.
    planted.late_enrolment = pick.member(pick.household(LZ, "农村低保", size=1))
    roll.enrolled_on[planted.late_enrolment] = np.datetime64("2020-03-10")

    # DQ: beneficiary rows repeated with a damaged ID (the originals stay and are valid).
    planted.roll_damage.append((pick.member(pick.household(LZ, "农村低保")), "number"))
    planted.roll_damage.append((pick.member(pick.household(NM, "农村低保")), "check"))


def plant_payments(
    rng: np.random.Generator,
    roll: Roll,
    params: Params,
    planted: Planted,
    dates: dict[tuple[str, int], np.datetime64],
    parquet: bool,
) -> None:
    """F1, F3, F5, F8 and the payment data-quality rows, as patches to the baseline payments."""
    pick = Picker(rng, roll, planted)
    patches = planted.patches

    def entry_in(county: str, programme: str | None = None, size: int | None = None) -> int:
        return pick.member(pick.household(county, programme, size=size, whole_year=True))

    # F1: the late enrollee paid for January with everyone else.
    late = planted.late_enrolment
    patches.add(LZ, 1, _extra(roll, late, dates[LZ, 1]))
    # F1: two people on no roll, each paid once under a household number no roll has.
    avoid = roll.person_id
    for county, month, programme in ((CG, 5, "城市低保"), (QS, 8, "农村低保")):
        office = next(o for o in OFFICES if o.county == county and o.urban == (programme == "城市低保"))
        birth = np.array([np.datetime64("1968-04-12") + int(rng.integers(0, 5000)) * DAY])
        pid = resident_ids(rng, np.array([county]), birth, np.array([True]), avoid=avoid)[0]
        account = bank_accounts(rng, 1, np.array([False]), roll.hh_account)[0]
        std = params.relief.standards[programme].urban.monthly_yuan
        patches.add(
            county,
            month,
            Extra(
                pid.encode(),
                f"{office.code}990001".encode(),
                PROGRAMMES.index(programme),
                int(std * 60),
                dates[county, month],
                account.encode(),
                -1,
            ),
        )
    # F3: one payment entered twice, the copy three days later.
    for county in (CG, DL, LZ):
        entry, month = entry_in(county), int(rng.integers(2, 12))
        patches.add(county, month, _extra(roll, entry, dates[county, month] + 3 * DAY))
    # F5: a one-off payment 200 yuan above the standard to a one-person household.
    for county, programme, month in ((DL, "城市低保", 6), (DX, "农村低保", 9), (MZ, "特困分散供养", 4)):
        entry = entry_in(county, programme, size=1)
        urban = OFFICES[int(roll.office[entry])].urban
        std = params.relief.standards[programme]
        fen = int((std.urban if urban else std.rural).monthly_yuan * 100) + 20_000
        patches.change(county, month, entry, "amount_fen", fen)
    # F8: paid on the 25th instead of by the deadline.
    for county, month in ((NM, 3), (CG, 6), (MZ, 9)):
        patches.change(county, month, entry_in(county), "paid_on", np.datetime64(f"2020-{month + 1:02d}-25"))
    # DQ: a wrong check digit, three decimals, an impossible date (Parquet has typed dates).
    entry = entry_in(DL)
    patches.damage_row(
        DL,
        7,
        entry,
        "身份证号校验位错误 / ID check digit wrong",
        {"person_id": break_check(roll.person_id[entry].decode())},
    )
    entry = entry_in(MZ)
    amount = roll.hh_amount[roll.household[entry]]
    patches.damage_row(
        MZ,
        2,
        entry,
        "金额有三位小数 / amount with three decimals",
        {"amount_yuan": f"{amount // 100}.{amount % 100:02d}5"},
    )
    if not parquet:
        patches.damage_row(LZ, 10, entry_in(LZ), "日期不存在 / impossible date", {"paid_on": "2020-11-31"})


def _extra(roll: Roll, entry: int, paid_on: np.datetime64) -> Extra:
    """A copy of ``entry``'s payment, paid on ``paid_on``."""
    hh = int(roll.household[entry])
    return Extra(
        bytes(roll.person_id[entry]),
        bytes(roll.hh_id[hh]),
        int(roll.hh_programme[hh]),
        int(roll.hh_amount[hh]),
        paid_on,
        bytes(roll.hh_account[hh]),
        entry,
    )


def plant_staff(rng: np.random.Generator, staff: pd.DataFrame, roll: Roll, planted: Planted) -> pd.DataFrame:
    """S1/S10 vacancies (and C7's paid ones), S4, S5, S6, S7."""
    pick = Picker(rng, roll, planted)
    used: set[int] = set()
    registered = {o.code for o in OFFICES}
    posts = staff["post_code"]
    single = posts.map(posts.value_counts()) == 1  # not the doubled offices

    def one(county: str, contract: str | None = None, urban: bool | None = None) -> int:
        ok = (staff["county_code"] == county) & posts.isin(registered) & single
        if contract:
            ok &= staff["contract_id"] == contract
        if urban is not None:
            ok &= (
                posts.map(lambda c: c in registered and next(o for o in OFFICES if o.code == c).urban)
                == urban
            )
        rows = [i for i in staff.index[ok] if i not in used]
        row = rows[int(rng.integers(0, len(rows)))]
        used.add(row)
        return row

    # S1 + S10 (and C7: the contract is still paid for the empty months).
    row = one(LZ)
    staff.loc[row, "left_on"] = np.datetime64("2020-09-30")  # nobody followed: 92 days
    planted.paid_vacancies += [(staff.loc[row, "contract_id"], m) for m in (10, 11, 12)]
    row = one(CG, contract=f"GM2020-{CG}-01")
    staff.loc[row, "hired_on"] = np.datetime64("2020-02-01")  # S1 only: the first hire's wait
    planted.paid_vacancies.append((staff.loc[row, "contract_id"], 1))
    row = one(NM)
    staff.loc[row, "left_on"] = np.datetime64("2020-05-31")
    successor = staff.loc[row].copy()
    birth = np.array([np.datetime64("1995-03-01") + int(rng.integers(0, 1500)) * DAY])
    successor["id_number"] = resident_ids(
        rng,
        np.array([NM]),
        birth,
        np.array([False]),
        avoid=np.r_[roll.person_id, staff["id_number"].to_numpy(dtype="S18")],
    )[0]
    successor["name"] = names(rng, np.array([False]), np.array([False]))[0]
    successor["hired_on"], successor["left_on"] = np.datetime64("2020-09-01"), np.datetime64("NaT")
    successor["staff_id"] = f"SW{NM}{len(staff) + 1:03d}"

    for county, level in ((DX, "大专"), (MZ, "中专"), (QS, "大专")):  # S4
        staff.loc[one(county), "education"] = level
    for county in (CG, NM):  # S5: an ID with a wrong check digit
        row = one(county)
        staff.loc[row, "id_number"] = break_check(staff.loc[row, "id_number"])
    first, second = one(DZ), one(MZ)  # S5: one person holding two posts
    staff.loc[second, ["name", "id_number"]] = staff.loc[first, ["name", "id_number"]].to_numpy()
    for county, employer in ((DL, "堆龙德庆区乃琼街道办事处"), (LZ, "林周县教育局")):  # S6
        row = one(county)
        planted.public_employees.append(
            {
                "person_id": staff.loc[row, "id_number"],
                "employer": employer,
                "since": np.datetime64("2016-07-01"),
            }
        )
    for county, programme, urban in ((CG, "城市低保", True), (DX, "农村低保", False)):  # S7
        row = one(county, urban=urban)
        office = next(i for i, o in enumerate(OFFICES) if o.code == staff.loc[row, "post_code"])
        # A member of working age (the staff member) in a household of two or more.
        working = ("1985-01-01", "1998-12-31")
        hh = pick.household(county, programme, min_size=2, office=office, member_born=working)
        person = pick.member(hh, born=working)
        staff.loc[row, "id_number"] = roll.person_id[person].decode()
        staff.loc[row, "name"] = roll.name[person]
    return pd.concat([staff, successor.to_frame().T], ignore_index=True).astype(staff.dtypes.to_dict())


def plant_attribution(
    rng: np.random.Generator,
    roll: Roll,
    planted: Planted,
    dates: dict[tuple[str, int], np.datetime64],
) -> None:
    """Issue 14: payments ingest must attribute by the roll, written without a county code.

    A ghost payee: someone on no roll, under a household number no roll has, paid 900 yuan
    in three months into the account of a 堆龙 household (F1 there for each payment, and F7
    for the account). A person on two counties' rolls (经开 城市低保 and 墨竹 特困), paid in
    both: F4 in each county from the roll; their payments go to each household's county and
    are audited there (one 墨竹 payment is late: F8).
    """
    pick = Picker(rng, roll, planted)
    patches = planted.patches
    county, programme, months, fen = GHOST
    host = pick.household(county, programme, whole_year=True)
    office = OFFICES[int(roll.hh_office[host])]
    birth = np.array([np.datetime64("1975-02-01") + int(rng.integers(0, 4000)) * DAY])
    pid = resident_ids(rng, np.array([county]), birth, np.array([False]), avoid=roll.person_id)[0]
    for month in months:
        patches.add(
            county,
            month,
            Extra(
                pid.encode(),
                f"{office.code}990001".encode(),
                PROGRAMMES.index(programme),
                fen,
                dates[county, month],
                bytes(roll.hh_account[host]),
                -1,
                no_county=True,
            ),
        )
    (first, first_programme), (second, second_programme), late = TWO_ROLLS
    a = pick.household(first, first_programme, min_size=2, whole_year=True)
    b = pick.household(second, second_programme, whole_year=True)
    src, dst = pick.member(a, born=("1925-01-01", "1962-12-31")), pick.member(b)
    for name in ("person_id", "name", "birth", "male"):
        getattr(roll, name)[dst] = getattr(roll, name)[src]
    patches.no_county.update((src, dst))
    patches.change(second, late, dst, "paid_on", np.datetime64(f"2020-{late + 1:02d}-25"))


def written_staff(staff: pd.DataFrame) -> pd.DataFrame:
    """The staff as written: a post at another county's code carries no county (ingest derives it)."""
    out = staff.copy()
    elsewhere = staff["post_code"].str[:6] != staff["county_code"]
    elsewhere &= staff["post_code"].isin(UNREGISTERED_POSTS.values())
    out.loc[elsewhere, "county_code"] = None
    return out


def plant_contracts(rng: np.random.Generator, contracts: pd.DataFrame, unit_cost: Decimal) -> None:
    """C1, C2 and C3."""

    def row(county: str, n: int = 1) -> int:
        return int(contracts.index[contracts["contract_id"] == f"GM2020-{county}-{n:02d}"][0])

    r = row(DZ)  # C1: an institution (事业单位), registered by the staffing office (12...)
    contracts.loc[r, ["contractor_name", "contractor_type"]] = ["达孜区社会救助服务中心", "事业单位"]
    contracts.loc[r, "contractor_uscc"] = make_uscc("12", DZ, rng)
    r = row(DX)
    contracts.loc[r, "contractor_uscc"] = break_uscc(contracts.loc[r, "contractor_uscc"])
    contracts.loc[row(MZ), "contractor_registered_on"] = np.datetime64("2020-03-02")
    contracts.loc[row(NM), "signed_on"] = np.datetime64("2020-01-20")  # C2
    contracts.loc[row(QS), "signed_on"] = np.datetime64("2020-02-03")
    contracts.loc[row(CG, 2), "service_end"] = np.datetime64("2021-01-31")
    contracts.loc[row(JK), "signed_on"] = np.datetime64("2020-01-06")  # C10: before the plan's approval
    contracts.loc[row(DL), "signed_on"] = np.datetime64("2020-01-09")  # C10 near miss: the day itself
    half = float(unit_cost / 2)  # C3: +half a position-year here, -half there
    contracts.loc[row(LZ), "amount_yuan"] += half
    contracts.loc[row(DL), "amount_yuan"] -= half


def cut_county_budgets(allocations: pd.DataFrame) -> pd.DataFrame:
    """C4 + C6: drop one county's budget allocation for the purchase and shorten another."""
    own = (allocations["fund"] == COUNTY_BUDGET) & (allocations["purpose"] == PURCHASE)
    for county, cut in COUNTY_BUDGET_CUT.items():
        mine = own & (allocations["county_code"] == county)
        if cut is None:
            allocations = allocations[~mine]
        else:
            allocations.loc[mine, "amount_yuan"] -= cut
    return allocations.reset_index(drop=True)


def skip_voucher_number(vouchers: pd.DataFrame) -> pd.DataFrame:
    """C11: 曲水's vouchers numbered with 0006 skipped (a voucher taken out of the books)."""
    mine = vouchers["county_code"] == QS
    seq = vouchers.loc[mine, "voucher_no"].str.slice(-4).astype(int)
    seq = seq.where(seq < 6, seq + 1)
    vouchers.loc[mine, "voucher_no"] = [f"记-{QS}-2020-{n:04d}" for n in seq]
    return vouchers


def duplicate_voucher(vouchers: pd.DataFrame) -> pd.DataFrame:
    """C7 + C8: 540172's November vouchers entered twice, three days apart."""
    mine = vouchers[(vouchers["county_code"] == JK) & (vouchers["covers_month"] == "2020-11")]
    copy = mine.copy()
    copy["paid_on"] = copy["paid_on"] + 3 * DAY
    return pd.concat([vouchers, copy], ignore_index=True)


# ----------------------------------------------------------------------------- the key


def uscc_ok(code: str) -> bool:
    """GB 32100: 18 characters of the alphabet, characters 3-8 digits, check character right."""
    if not isinstance(code, str) or len(code) != 18 or any(c not in USCC_ALPHABET for c in code):
        return False
    if not code[2:8].isdigit():
        return False
    total = sum(USCC_ALPHABET.index(c) * w for c, w in zip(code[:17], USCC_WEIGHTS, strict=True))
    return USCC_ALPHABET[(31 - total % 31) % 31] == code[17]


def id_ok(person_id: str) -> bool:
    """GB 11643: 17 digits, a real birth date, and the MOD 11-2 check character."""
    if not isinstance(person_id, str) or len(person_id) != 18 or not person_id[:17].isdigit():
        return False
    try:
        pd.Timestamp(f"{person_id[6:10]}-{person_id[10:12]}-{person_id[12:14]}")
    except ValueError:
        return False
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    total = sum(int(c) * w for c, w in zip(person_id[:17], weights, strict=True))
    return "10X98765432"[total % 11] == person_id[17]


class PaymentLedger:
    """Findings and totals over the payment chunks, fed one chunk at a time (bounded memory).

    Only rows without a data-quality defect count: ingest quarantines the others, so the
    rules never see them. Rules are per county, as the rules engine runs them.
    """

    def __init__(
        self,
        roll: Roll,
        params: Params,
        deaths: pd.DataFrame,
        watch: set[str],
        shared: set[bytes],
        follow: set[str] | None = None,
    ) -> None:
        self.roll, self.params = roll, params
        self.totals: dict[str, int] = defaultdict(int)
        self.count: dict[str, int] = defaultdict(int)
        self.digits: dict[str, np.ndarray] = defaultdict(lambda: np.zeros(10, dtype=np.int64))
        self.round: dict[str, int] = defaultdict(int)
        self.rows: list[dict[str, object]] = []
        # Only accounts that can be shared are followed: the roll's repeated ones and those
        # of added rows; every other account belongs to one household by construction.
        self.shared = np.array(sorted(shared), dtype="S19")
        self.accounts: list[tuple[str, bytes, bytes, int]] = []  # (county, account, household, fen)
        self.first_period = roll.first_period
        self.round_fen = to_fen(params.relief.round_amount_unit_yuan)
        urban = np.array([o.urban for o in OFFICES])[roll.hh_office].astype(np.int64)
        std = np.full((len(PROGRAMMES), 2), -1, dtype=np.int64)  # -1: no standard, F5 does not run
        exact = np.full((len(PROGRAMMES), 2), -1.0)  # the yearly standard / 12, unrounded
        for p, prog in enumerate(PROGRAMMES):
            s = params.relief.standards.get(prog)
            if s is not None:
                std[p] = (to_fen(s.rural.monthly_yuan), to_fen(s.urban.monthly_yuan))
                exact[p] = [float(a.yuan * 100 / (12 if a.per == "year" else 1)) for a in (s.rural, s.urban)]
        per_person = std[roll.hh_programme, urban]
        self.ceiling = np.where(per_person < 0, -1, per_person * roll.hh_size)
        self.exact = exact[roll.hh_programme, urban] * roll.hh_size
        died = dict(zip(deaths["person_id"], deaths["died_on"], strict=True))
        ids = roll.person_id.astype("U18")
        self.dead = np.flatnonzero(np.isin(ids, list(died)))
        self.died_on = np.array([np.datetime64(died[ids[e]], "D") for e in self.dead], dtype="datetime64[D]")
        self.watch = np.flatnonzero(np.isin(ids, list(watch)))
        self.watched: dict[str, int] = defaultdict(int)
        self.follow = np.flatnonzero(np.isin(ids, list(follow or ())))
        self.followed: list[tuple[str, str, str, str, int]] = []  # (county, person, household, period, fen)
        self.followed_programme: list[str] = []

    def feed(self, chunk: Chunk) -> None:
        """Add one chunk's clean rows."""
        keep = chunk.clean()
        county, month = chunk.county, chunk.period
        amount, entry, pay_id = chunk.amount_fen[keep], chunk.entry[keep], chunk.payment_id[keep]
        self.totals[county] += int(amount.sum())
        self.count[county] += int((amount > 0).sum())
        positive = amount[amount > 0]
        lead = positive // 10 ** np.floor(np.log10(positive)).astype(np.int64)
        self.digits[county] += np.bincount(lead, minlength=10)[:10]
        self.round[county] += int((positive % self.round_fen == 0).sum())
        for e in np.intersect1d(entry, self.watch):
            self.watched[self.roll.person_id[e].decode()] += int(amount[entry == e].sum())
        period = f"{self.params.audit_year}-{month:02d}"
        for i in np.flatnonzero(np.isin(entry, self.follow)):  # people on another department's list
            self.followed.append(
                (county, self.roll.person_id[entry[i]].decode(), chunk.household_id[keep][i].decode(), period,
                 int(amount[i]))
            )  # fmt: skip
            self.followed_programme.append(PROGRAMMES[int(chunk.programme[keep][i])])
        # F19: a chunk is one county's month, one series of payment numbers; quarantined rows leave gaps
        numbers = np.sort(pay_id.astype(np.int64) % 10**7)
        numbering = self.params.numbering
        if (
            numbering is not None
            and len(numbers) >= numbering.min_series_length
            and (np.diff(numbers) > 1).any()
        ):
            prefix = pay_id[0].decode()[:-7]
            self.rows.append(
                key_row("F19", county, "series", f"relief_payments:{prefix}#######", None, "缺号 / gap")
            )

        def finding(rule: str, rows: np.ndarray, note: str) -> None:
            for i in rows:
                self.rows.append(key_row(rule, county, "payment", pay_id[i].decode(), amount[i] / 100, note))

        period = f"{self.params.audit_year}-{month:02d}"
        on_roll = entry >= 0
        safe = np.where(on_roll, entry, 0)
        finding("F1", np.flatnonzero(~on_roll), f"不在本县名册 / not on the roll ({period})")
        finding(
            "F1",
            np.flatnonzero(on_roll & (self.first_period[safe] > month)),
            f"{period} 早于纳入日期 / before enrolment",
        )
        where = np.searchsorted(self.dead, safe)
        hit = on_roll & (where < len(self.dead))
        hit[hit] &= self.dead[where[hit]] == safe[hit]
        hit[hit] &= self.died_on[where[hit]] < np.datetime64(f"{period}-01")
        finding("F2", np.flatnonzero(hit), f"死亡后发放 / {period} paid after death")
        # Rows are in payment order and a copy always comes later: the first of each is the original.
        _, first = np.unique(np.where(on_roll, entry, -1 - np.arange(len(entry))), return_index=True)
        finding("F3", np.setdiff1d(np.arange(len(entry)), first), f"{period} 重复发放（后一笔）/ paid twice")
        deadline = (
            np.datetime64(f"{self.params.audit_year + month // 12}-{month % 12 + 1:02d}-01")
            + (self.params.relief.payment_deadline_day - 1) * DAY
        )
        finding("F8", np.flatnonzero(chunk.paid_on[keep] > deadline), f"晚于 {deadline} 发放 / paid late")

        hh = self.roll.household[entry[on_roll]]
        if len(hh):
            uniq, inv = np.unique(hh, return_inverse=True)
            total = np.bincount(inv, weights=amount[on_roll]).astype(np.int64)
            ceiling = self.ceiling[uniq]
            if ((ceiling >= 0) & ((total > ceiling) != (total > self.exact[uniq]))).any():
                # Above the standard rounded to the fen but not above the exact one, or the
                # reverse: the key would depend on how a rule rounds the yearly standard.
                raise RuntimeError("demo: a household's payments fall between the rounded and exact ceilings")
            over = (ceiling >= 0) & (total > ceiling)
            for h, t, c in zip(uniq[over], total[over], ceiling[over], strict=True):
                self.rows.append(
                    key_row(
                        "F5",
                        county,
                        "household",
                        f"{self.roll.hh_id[h].decode()}/{period}",
                        (t - c) / 100,
                        f"户月发放 {t / 100:.2f} 超过标准×人口 {c / 100:.2f} / above standard x size",
                    )
                )
        followed = np.isin(chunk.bank_account[keep], self.shared)
        for acc, hid, fen in zip(
            chunk.bank_account[keep][followed],
            chunk.household_id[keep][followed],
            amount[followed],
            strict=True,
        ):
            self.accounts.append((county, acc, hid, int(fen)))

    def paid_to_followed(self) -> pd.DataFrame:
        """The clean payments to followed people: county, person_id, household_id, programme, period, fen."""
        frame = pd.DataFrame(self.followed, columns=["county", "person_id", "household_id", "period", "fen"])
        return frame.assign(programme=self.followed_programme)

    def finish(self, allocations: pd.DataFrame) -> list[dict[str, object]]:
        """The per-chunk findings plus F7, F10 and F11."""
        rows = list(self.rows)
        followed = pd.DataFrame(self.accounts, columns=["county", "account", "household", "fen"])
        for (county, acc), group in followed.groupby(["county", "account"]):  # per county, as the rule runs
            if group["household"].nunique() > 1:
                rows.append(
                    key_row(
                        "F7",
                        county,
                        "account",
                        acc.decode(),
                        group["fen"].sum() / 100,
                        f"一个账户收取 {group['household'].nunique()} 户救助金 / one account, households",
                    )
                )
        relief = allocations[(allocations["fund"] == SPECIAL_FUND) & (allocations["purpose"] == RELIEF)]
        allotted = relief.groupby("county_code")["amount_yuan"].apply(lambda s: sum(map(to_fen, s)))
        share = Decimal(str(self.params.relief.unspent_allocation_tolerance_share))
        for county in sorted(set(allotted.index) | set(self.totals)):
            paid, alloc = self.totals.get(county, 0), int(allotted.get(county, 0))
            allowed = int((Decimal(alloc) * share).quantize(Decimal(1), ROUND_HALF_UP))
            if paid > alloc:
                rows.append(
                    key_row(
                        "F10",
                        county,
                        "county",
                        county,
                        (paid - alloc) / 100,
                        f"发放 {paid / 100:.2f} 超过救助金下达 {alloc / 100:.2f} / paid above allocation",
                    )
                )
            elif alloc - paid > allowed:
                rows.append(
                    key_row(
                        "F10",
                        county,
                        "county",
                        county,
                        (alloc - paid) / 100,
                        f"下达 {alloc / 100:.2f} 仅支出 {paid / 100:.2f} / allocation left unspent",
                    )
                )
        benford = np.log10(1 + 1 / np.arange(1, 10))
        p = self.params.relief
        for county, n in sorted(self.count.items()):
            if n < p.benford_min_payments:
                continue
            mad = float(np.abs(self.digits[county][1:] / n - benford).mean())
            round_share = self.round[county] / n
            if mad > p.benford_mad_threshold or round_share > p.round_amount_share_threshold:
                rows.append(
                    key_row(
                        "F11",
                        county,
                        "county",
                        county,
                        None,
                        f"首位数字 MAD {mad:.4f}，整百占比 {round_share:.1%} / first-digit MAD, round share",
                    )
                )
            elif max(mad / p.benford_mad_threshold, round_share / p.round_amount_share_threshold) > 0.6:
                raise RuntimeError(f"demo: county {county} sits too close to the F11 thresholds")
        return rows


def key_row(
    rule: str, county: str, etype: str, eid: str, amount: float | None, note: str
) -> dict[str, object]:
    """One row of the answer key (amounts to the fen)."""
    return {
        "rule_id": rule,
        "county_code": county,
        "entity_type": etype,
        "entity_id": eid,
        "amount_yuan": None if amount is None else round(float(amount), 2),
        "note": note,
    }


def to_fen(value: float) -> int:
    """Yuan to whole fen."""
    return round(float(value) * 100)


def _months_touched(start: pd.Timestamp, end: pd.Timestamp) -> int:
    """Calendar months a service period touches (2020-01-01 to 2021-01-31 is 13)."""
    return (end.year - start.year) * 12 + end.month - start.month + 1


def _in_post(staff: pd.DataFrame, first: pd.Timestamp, last: pd.Timestamp) -> pd.Series:
    """Staff in post on at least one day of [first, last]."""
    return (staff["hired_on"] <= last) & (staff["left_on"].isna() | (staff["left_on"] >= first))


def contract_findings(t: dict[str, pd.DataFrame], params: Params) -> list[dict[str, object]]:
    """C1-C9 from contracts, the register, staff, allocations and vouchers."""
    pp, city = params.purchase, params.city_code
    unit, tol = to_fen(pp.unit_cost_yuan), to_fen(pp.contract_amount_tolerance_yuan)
    c, staff, alloc, pay, div = (
        t[n] for n in ("contracts", "staff", "fund_allocations", "fund_payments", "divisions")
    )
    year_first, year_last = pd.Timestamp(params.audit_year, 1, 1), pd.Timestamp(params.audit_year, 12, 31)
    rows = []
    for k in c.itertuples(index=False):
        cid, county, amount = k.contract_id, k.county_code, to_fen(k.amount_yuan)
        why = []
        if k.contractor_type not in pp.eligible_contractor_types:
            why.append(f"承接主体类型 {k.contractor_type}")
        if not uscc_ok(k.contractor_uscc):
            why.append("统一社会信用代码无效 / invalid credit code")
        if k.contractor_registered_on > k.signed_on:
            why.append("签订后才登记 / registered after signing")
        if why:
            rows.append(key_row("C1", county, "contract", cid, amount / 100, "；".join(why)))
        why = []
        start, end = k.service_start, k.service_end
        if k.signed_on > start:
            why.append("服务开始后签订 / signed after service start")
        if end < start:
            why.append("结束早于开始 / ends before it starts")
        if (end - start).days + 1 > pp.max_contract_term_days:
            why.append("期限超过一年 / term over a year")
        if start < year_first or end > year_last:
            why.append("服务期超出审计年度 / outside the audit year")
        if why:
            rows.append(key_row("C2", county, "contract", cid, None, "；".join(why)))
        months = _months_touched(start, end) if end >= start else 0
        expected = (k.positions * unit * months * 2 + 12) // 24
        if months and abs(amount - expected) > tol:
            rows.append(
                key_row(
                    "C3",
                    county,
                    "contract",
                    cid,
                    abs(amount - expected) / 100,
                    f"合同金额 {amount / 100:.2f}，岗位数×单价×{months}/12 为 {expected / 100:.2f}",
                )
            )
        rows.append(key_row("C9", county, "contract", cid, None, "按岗位购买 / bought by position"))
        approved = pp.plan_approved_on
        if approved is not None and k.signed_on < pd.Timestamp(approved):
            rows.append(
                key_row("C10", county, "contract", cid, amount / 100, "方案批准前签订 / before approval")
            )

    contracted = c.groupby("county_code")["amount_yuan"].apply(lambda s: sum(map(to_fen, s)))
    total = int(contracted.sum())
    budget = to_fen(pp.approved_budget_yuan)
    if total > budget:
        rows.append(key_row("C4", city, "county", city, (total - budget) / 100, "合同总额超过批复预算"))
    towns = div[div["level"] == "township"]
    purchase = alloc[alloc["purpose"] == PURCHASE]
    for county, amount in contracted.items():
        if county == city:
            continue  # the city bureau has no county share and no county budget
        share = int((towns["parent_code"] == county).sum()) * unit
        if amount > share:
            rows.append(
                key_row(
                    "C4",
                    county,
                    "county",
                    county,
                    (amount - share) / 100,
                    f"合同额 {amount / 100:.2f} 超过乡镇数×单价 {share / 100:.2f} / above the county's share",
                )
            )
        mine = purchase[purchase["county_code"] == county]
        special = sum(map(to_fen, mine.loc[mine["fund"] == SPECIAL_FUND, "amount_yuan"]))
        own = sum(map(to_fen, mine.loc[mine["fund"] == COUNTY_BUDGET, "amount_yuan"]))
        if amount - special - own > 0:
            rows.append(
                key_row(
                    "C6",
                    county,
                    "county",
                    county,
                    (amount - special - own) / 100,
                    f"扣除专项资金后县级预算仅安排 {own / 100:.2f} / rest not covered by the county budget",
                )
            )

    allocated = sum(map(to_fen, alloc.loc[alloc["fund"] == SPECIAL_FUND, "amount_yuan"]))
    spent = sum(
        map(to_fen, pay.loc[(pay["fund"] == SPECIAL_FUND) & (pay["purpose"] == PURCHASE), "amount_yuan"])
    )
    cap = int(
        (Decimal(allocated) * Decimal(str(pp.special_fund_cap_share))).quantize(Decimal(1), ROUND_HALF_UP)
    )
    if spent > cap:
        rows.append(
            key_row(
                "C5",
                city,
                "city",
                city,
                (spent - cap) / 100,
                f"专项资金列支购买服务 {spent / 100:.2f} 超过上限 {cap / 100:.2f}",
            )
        )

    paid = (
        pay[pay["purpose"] == PURCHASE]
        .groupby(["contract_id", "covers_month"])["amount_yuan"]
        .apply(lambda s: sum(map(to_fen, s)))
    )
    for k in c.itertuples(index=False):
        unfilled = 0
        mine = staff[staff["contract_id"] == k.contract_id]
        for month in range(1, 13):
            fen = int(paid.get((k.contract_id, f"{params.audit_year}-{month:02d}"), 0))
            first = pd.Timestamp(params.audit_year, month, 1)
            filled = int(_in_post(mine, first, first + pd.offsets.MonthEnd(0)).sum())
            unfilled += max(0, round(fen * 12 / unit) - filled)
        if unfilled:
            rows.append(
                key_row(
                    "C7",
                    k.county_code,
                    "contract",
                    k.contract_id,
                    (unfilled * unit * 2 + 12) // 24 / 100,
                    f"{unfilled} 个岗位月无人在岗仍付费 / position-months paid but unfilled",
                )
            )
        total_paid = sum(int(v) for (cid, _), v in paid.items() if cid == k.contract_id)
        if total_paid > to_fen(k.amount_yuan) + tol:
            rows.append(
                key_row(
                    "C8",
                    k.county_code,
                    "contract",
                    k.contract_id,
                    (total_paid - to_fen(k.amount_yuan)) / 100,
                    f"已付 {total_paid / 100:.2f} 超过合同金额 / paid above the contract amount",
                )
            )
    return rows


def staff_findings(
    t: dict[str, pd.DataFrame], roll_frame: pd.DataFrame, params: Params
) -> list[dict[str, object]]:
    """S1-S10 from the register, offices, staff, the roll and the public-employee list."""
    pp, city = params.purchase, params.city_code
    div, offices, staff, employees = t["divisions"], t["offices"], t["staff"], t["public_employees"]
    towns = set(div.loc[div["level"] == "township", "division_code"])
    first, last = pd.Timestamp(params.audit_year, 1, 1), pd.Timestamp(params.audit_year, 12, 31)
    days = pd.date_range(first, last)
    rows = []
    in_post = {}  # post code -> staff in post per day
    for code, group in staff.groupby("post_code"):
        ends = group["left_on"].fillna(last)
        in_post[code] = sum(
            ((days >= h) & (days <= e)).astype(int) for h, e in zip(group["hired_on"], ends, strict=True)
        )
    for code in sorted(towns):
        count = in_post.get(code, np.zeros(len(days), dtype=int))
        empty = [m for m in range(1, 13) if (count[days.month == m] == 0).any()]
        if empty:
            rows.append(
                key_row(
                    "S1",
                    code[:6],
                    "office",
                    code,
                    None,
                    "无人在岗月份 / uncovered: " + ", ".join(f"{params.audit_year}-{m:02d}" for m in empty),
                )
            )
    for code, count in sorted(in_post.items()):
        if code == city:
            continue
        if code not in towns:
            # filed under the contract's county (a code outside the register says nothing of where)
            county = staff.loc[staff["post_code"] == code, "county_code"].iloc[0]
            rows.append(
                key_row(
                    "S2", county, "office", code, None, "岗位所在地不在区划名册 / post not in the register"
                )
            )
        elif count.max() > 1:
            rows.append(
                key_row(
                    "S2", code[:6], "office", code, None, f"同时在岗 {count.max()} 人 / more than one staff"
                )
            )
    most = int(in_post.get(city, np.zeros(1, dtype=int)).max())
    if most != pp.planned_positions.city:
        rows.append(
            key_row(
                "S3",
                city,
                "city",
                city,
                None,
                f"市局同时在岗 {most} 人，计划 {pp.planned_positions.city}",
            )
        )
    for code, group in staff[staff["post_code"] != city].groupby("post_code"):
        # A vacancy runs from the day after the latest end so far to the day before the next hire.
        group = group.sort_values(["hired_on", "staff_id"])
        latest, longest = None, 0
        for hired, left in zip(group["hired_on"], group["left_on"], strict=True):
            if latest is not None:
                gap = (
                    min(hired - pd.Timedelta(days=1), last) - max(latest + pd.Timedelta(days=1), first)
                ).days + 1
                longest = max(longest, gap)
            if pd.isna(left):
                latest = pd.Timestamp.max
                break
            latest = left if latest is None else max(latest, left)
        if latest is not None and latest < last:
            longest = max(longest, (last - max(latest + pd.Timedelta(days=1), first)).days + 1)
        if longest > pp.allowed_vacancy_days:
            rows.append(
                key_row("S10", group["county_code"].iloc[0], "office", code, None, f"岗位空缺 {longest} 天")
            )
    floor = EDUCATION_LEVELS.index(pp.min_education)
    valid = staff["id_number"].map(lambda x: id_ok(x) and x[6:14] <= f"{params.audit_year}1231")
    for s in staff.itertuples(index=False):
        if EDUCATION_LEVELS.index(s.education) > floor:
            rows.append(
                key_row(
                    "S4",
                    s.county_code,
                    "staff",
                    s.staff_id,
                    None,
                    f"学历 {s.education} 低于 {pp.min_education}",
                )
            )
    for s in staff[~valid].itertuples(index=False):
        rows.append(
            key_row("S5", s.county_code, "staff", s.staff_id, None, "身份证号无效 / invalid ID number")
        )
    for pid, group in staff[valid].groupby("id_number"):
        if group["post_code"].nunique() > 1:
            for county in sorted(set(group["county_code"])):  # one row per county involved
                rows.append(
                    key_row(
                        "S5",
                        county,
                        "person",
                        pid,
                        None,
                        "同一人同时占岗 / one person in posts " + ", ".join(sorted(group["post_code"])),
                    )
                )
    public = set(employees["person_id"])
    mine = roll_frame[roll_frame["person_id"].isin(set(staff["id_number"]))]
    where = mine.groupby("person_id")["division_code"].agg(set)
    for s in staff.itertuples(index=False):
        if s.id_number in public:
            rows.append(
                key_row(
                    "S6",
                    s.county_code,
                    "staff",
                    s.staff_id,
                    None,
                    "在财政供养人员名单 / on the public payroll",
                )
            )
        if s.post_code in where.get(s.id_number, set()):
            rows.append(
                key_row(
                    "S7",
                    s.county_code,
                    "staff",
                    s.staff_id,
                    None,
                    "本人在本乡镇救助名册 / on the roll of own township",
                )
            )
    for o in offices.itertuples(index=False):
        lacking = [
            name
            for name, ok in (
                ("民政专干", bool(o.dedicated_officer)),
                ("办公场所", o.office_area_m2 > 0),
                ("办公设备", bool(o.has_equipment)),
                ("工作经费", o.budgeted_funds_yuan > 0),
            )
            if not ok
        ]
        if lacking:
            rows.append(
                key_row(
                    "S8", o.division_code[:6], "office", o.division_code, None, "缺 " + "、".join(lacking)
                )
            )
    if pp.planned_positions.township != len(towns):
        rows.append(
            key_row(
                "S9",
                city,
                "city",
                city,
                None,
                f"计划乡镇岗位 {pp.planned_positions.township} 个，名册乡镇 {len(towns)} 个",
            )
        )
    return rows


def roll_findings(
    roll_frame: pd.DataFrame, employees: pd.DataFrame, watched: dict[str, int], params: Params
) -> list[dict[str, object]]:
    """F4, F6 and F9 from the roll and the public-employee list (nobody on the roll has exited)."""
    rows = []
    dibao, tekun = {"城市低保", "农村低保"}, {"特困集中供养", "特困分散供养"}
    twice = roll_frame[roll_frame.duplicated("person_id", keep=False)]
    for pid, group in twice.groupby("person_id"):
        where = " 与 ".join(f"{r.programme}@{r.division_code}" for r in group.itertuples())
        for county, mine in group.groupby("county_code"):
            progs = set(mine["programme"])
            if len(mine) > 1 and (
                (progs & dibao and progs & tekun) or dibao <= progs or mine["division_code"].nunique() > 1
            ):
                rows.append(key_row("F4", county, "person", pid, None, "县内重复享受 / " + where))
        if group["county_code"].nunique() > 1:
            for county in sorted(set(group["county_code"])):  # one row per county involved
                rows.append(key_row("F4", county, "person", pid, None, "跨县重复享受 / " + where))
    public = set(employees["person_id"])
    households = set(roll_frame.loc[roll_frame["person_id"].isin(public), "household_id"])
    for r in roll_frame[roll_frame["household_id"].isin(households)].itertuples():
        rows.append(
            key_row(
                "F6",
                r.county_code,
                "person",
                r.person_id,
                watched.get(r.person_id, 0) / 100,
                "财政供养人员（或其家庭成员）领取救助 / public employee's household on relief",
            )
        )
    for prog, pub in params.relief.published_statistics.items():
        mine = roll_frame[roll_frame["programme"] == prog]
        got = {"households": mine["household_id"].nunique(), "persons": mine["person_id"].nunique()}
        diff = [
            f"{k} {got[k]} vs {getattr(pub, k)}"
            for k in got
            if getattr(pub, k) is not None and got[k] != getattr(pub, k)
        ]
        if diff:
            rows.append(
                key_row(
                    "F9", params.city_code, "programme", prog, None, "名册与公布数不符 / " + "; ".join(diff)
                )
            )
    return rows


def answer_key(rows: list[dict[str, object]]) -> pd.DataFrame:
    """The key as a table in rule order, one row per finding (and per county for cross-county ones)."""
    rules = [
        *(f"C{i}" for i in range(1, 12)),
        *(f"S{i}" for i in range(1, 11)),
        *(f"F{i}" for i in range(1, 20)),
        "DQ",
    ]
    frame = pd.DataFrame(rows, columns=list(KEY_COLUMNS))
    frame["_o"] = frame["rule_id"].map({r: i for i, r in enumerate(rules)})
    frame = frame.sort_values(["_o", "county_code", "entity_id"], kind="stable").drop(columns="_o")
    return frame.reset_index(drop=True)
