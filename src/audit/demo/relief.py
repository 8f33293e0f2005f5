"""The relief roll (救助对象名册) and its monthly payments (救助金发放明细).

The roll is drawn to match the release exactly (households and persons by programme,
特困 by urban and rural) times ``scale``, and the payments follow from it: one per enrolled
person per month of the audit year, never above the monthly standard. Everything is held in
numpy arrays; payments are produced one (county, month) chunk at a time so memory stays
bounded at any scale.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import ROUND_FLOOR, Decimal

import numpy as np
import pandas as pd
import pyarrow as pa

from audit.datacontract import PROGRAMMES
from audit.demo.people import OLD_DUILONG, bank_accounts, names, resident_ids
from audit.demo.register import OFFICES, OLD_DUILONG_COUNTY
from audit.params import Params

# How the release's 特困 and 孤儿 persons split between street offices (urban) and towns and
# townships (rural). FACTS gives 特困 243 urban / 1,052 rural; the split of the 243 between
# centralised and dispersed, and the orphans' split, are the demo's choice.
URBAN_PERSONS = {"特困集中供养": 150, "特困分散供养": 93, "孤儿": 150}
# Household sizes (values, probabilities) before they are nudged to the exact person count.
HOUSEHOLD_SIZES = {
    "城市低保": ((1, 2, 3, 4, 5), (0.70, 0.17, 0.08, 0.035, 0.015)),
    "农村低保": ((1, 2, 3, 4, 5, 6, 7, 8), (0.13, 0.19, 0.25, 0.21, 0.12, 0.06, 0.03, 0.01)),
    "孤儿": ((1, 2, 3), (0.80, 0.15, 0.05)),
}
ORPHAN_CEILING_YUAN = Decimal("1300.00")
"""Orphans have no standard in the parameters; the demo pays them at most this a month."""
HAN_SHARE = {"540102": 0.15, "540103": 0.06, "540172": 0.20}
"""Share of Han households by county (others 2%): Lhasa's centre has more."""
PASSBOOK_SHARE = 0.10
"""Share of rural households paid into a credit-union passbook (no Luhn digit)."""

DAY = np.timedelta64(1, "D")
LAST_BIRTH = np.datetime64("2019-10-31")  # everyone is born in time to be enrolled before 2020-05


@dataclass
class Roll:
    """The roll, one entry per (person, programme), sorted by county, office and household.

    ASCII identifiers are byte strings (``S``) so payments can be built and written without
    per-row Python; names are ``str``.
    """

    person_id: np.ndarray  # S18
    name: np.ndarray  # U
    household: np.ndarray  # int64, index into the household arrays
    member: np.ndarray  # int16, 0 = head
    birth: np.ndarray  # datetime64[D]
    male: np.ndarray  # bool
    enrolled_on: np.ndarray  # datetime64[D]
    # Per household:
    hh_id: np.ndarray  # S15
    hh_office: np.ndarray  # int16, index into OFFICES
    hh_programme: np.ndarray  # int8, index into PROGRAMMES
    hh_size: np.ndarray  # int16
    hh_account: np.ndarray  # S19
    hh_amount: np.ndarray  # int64 fen per person per month
    office_code: np.ndarray = field(init=False)  # S9 per office index
    county_code: np.ndarray = field(init=False)  # S6 per office index

    def __post_init__(self) -> None:
        self.office_code = np.array([o.code for o in OFFICES], dtype="S9")
        self.county_code = np.array([o.county for o in OFFICES], dtype="S6")

    def __len__(self) -> int:
        return len(self.person_id)

    @property
    def office(self) -> np.ndarray:
        """Office index of each entry."""
        return self.hh_office[self.household]

    @property
    def county(self) -> np.ndarray:
        """County code (S6) of each entry."""
        return self.county_code[self.office]

    @property
    def programme(self) -> np.ndarray:
        """Programme index of each entry."""
        return self.hh_programme[self.household]

    @property
    def first_period(self) -> np.ndarray:
        """First month of the audit year paid: the enrolment month for 2020 enrolments, else 1."""
        year = self.enrolled_on.astype("datetime64[Y]").astype(np.int64) + 1970
        month = self.enrolled_on.astype("datetime64[M]").astype(np.int64) % 12 + 1
        return np.where(year < 2020, 1, month).astype(np.int8)

    def columns(self) -> dict[str, object]:
        """The contract's beneficiary columns (exited_on is empty for everyone).

        Text columns are Arrow-backed ``str`` Series built from the byte strings, so a roll of
        a million and a half people costs no Python object per value.
        """
        hh = self.household
        return {
            "person_id": _text(self.person_id),
            "name": pa.array(self.name).to_pandas(),
            "household_id": _text(self.hh_id[hh]),
            "division_code": _text(self.office_code[self.hh_office[hh]]),
            "programme": pa.array(PROGRAMMES).take(pa.array(self.hh_programme[hh])).to_pandas(),
            "household_size": self.hh_size[hh].astype(np.int64),
            "enrolled_on": self.enrolled_on,
            "exited_on": np.full(len(hh), np.datetime64("NaT"), dtype="datetime64[D]"),
            "bank_account": _text(self.hh_account[hh]),
            "county_code": _text(self.county),
        }


def _text(values: np.ndarray) -> pd.Series:
    return pa.array(values, type=pa.binary()).cast(pa.string()).to_pandas()


def ceilings_fen(params: Params) -> np.ndarray:
    """Highest payment per person per month, in fen, by (programme index, urban 0/1).

    The lower of the standard rounded to the fen and the exact monthly share rounded down,
    so a rule comparing against either never sees a baseline payment above the standard.
    """
    out = np.zeros((len(PROGRAMMES), 2), dtype=np.int64)
    for p, prog in enumerate(PROGRAMMES):
        for urban in (0, 1):
            std = params.relief.standards.get(prog)
            if std is None:
                out[p, urban] = int(ORPHAN_CEILING_YUAN * 100)
                continue
            s = std.urban if urban else std.rural
            exact = s.yuan if s.per == "month" else s.yuan / 12
            floor = exact.quantize(Decimal("0.01"), rounding=ROUND_FLOOR)
            out[p, urban] = int(min(s.monthly_yuan, floor) * 100)
    return out


def _apportion(total: int, weights: np.ndarray) -> np.ndarray:
    """Split ``total`` into integers proportional to ``weights`` (largest remainder)."""
    share = weights / weights.sum() * total
    out = np.floor(share).astype(np.int64)
    rest = np.argsort(-(share - out), kind="stable")[: total - out.sum()]
    out[rest] += 1
    return out


def _fit_sizes(rng: np.random.Generator, sizes: np.ndarray, persons: int, top: int) -> np.ndarray:
    """Nudge household sizes up or down by one until they add up to ``persons`` exactly."""
    sizes = sizes.copy()
    while (diff := persons - int(sizes.sum())) != 0:
        step = 1 if diff > 0 else -1
        room = np.flatnonzero(sizes < top) if step > 0 else np.flatnonzero(sizes > 1)
        pick = rng.choice(room, size=min(abs(diff), len(room)), replace=False)
        sizes[pick] += step
    return sizes


def _strata(params: Params, scale: int) -> list[tuple[int, bool, int | None, int]]:
    """(programme index, urban, households or None, persons) to draw, times ``scale``."""
    out: list[tuple[int, bool, int | None, int]] = []
    for p, prog in enumerate(PROGRAMMES):
        pub = params.relief.published_statistics[prog]
        persons = pub.persons * scale
        if prog in ("城市低保", "农村低保"):
            out.append((p, prog == "城市低保", pub.households * scale, persons))
            continue
        urban = URBAN_PERSONS[prog] * scale
        single = prog != "孤儿"  # 特困 persons are supported alone; orphans may be siblings
        out.append((p, True, urban if single else None, urban))
        out.append((p, False, persons - urban if single else None, persons - urban))
    return out


def _draw_households(
    rng: np.random.Generator, strata: list[tuple[int, bool, int | None, int]]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Office index, programme index and size of every household."""
    urban = np.array([o.urban for o in OFFICES])
    # One size factor per office, shared by every programme, so big offices are big throughout.
    weight = np.array([o.weight for o in OFFICES]) * rng.lognormal(0.0, 0.35, len(OFFICES))
    offices, programmes, sizes = [], [], []
    for prog, is_urban, households, persons in strata:
        if persons == 0:
            continue
        name = PROGRAMMES[prog]
        if name in HOUSEHOLD_SIZES:
            values, probs = HOUSEHOLD_SIZES[name]
            if households is None:
                mean = float(np.dot(values, probs))
                drawn = rng.choice(values, size=int(persons / mean * 1.2) + 10, p=probs)
                households = int(np.searchsorted(np.cumsum(drawn), persons)) + 1
                size = drawn[:households]
            else:
                size = rng.choice(values, size=households, p=probs)
            size = _fit_sizes(rng, size, persons, max(values))
        else:
            size = np.ones(households or persons, dtype=np.int64)
        eligible = np.flatnonzero(urban == is_urban)
        per_office = _apportion(len(size), weight[eligible])
        offices.append(np.repeat(eligible, per_office))
        programmes.append(np.full(len(size), prog))
        sizes.append(size)
    office = np.concatenate(offices)
    programme = np.concatenate(programmes)
    size = np.concatenate(sizes)
    order = np.lexsort((rng.random(len(office)), programme, office))
    return office[order].astype(np.int16), programme[order].astype(np.int8), size[order].astype(np.int16)


def _dates(rng: np.random.Generator, start: str, end: str, n: int, skew: float = 1.0) -> np.ndarray:
    """Days between ``start`` and ``end`` (inclusive); skew < 1 favours later days."""
    lo, hi = np.datetime64(start), np.datetime64(end)
    span = (hi - lo).astype(np.int64)
    return lo + (rng.random(n) ** skew * span).astype(np.int64) * DAY


def _births(rng: np.random.Generator, programme: np.ndarray, member: np.ndarray, head_birth: np.ndarray):
    """Birth dates by role: heads of 低保 households, spouses, children, 特困 elders, orphans."""
    n = len(programme)
    name = np.array(PROGRAMMES)[programme]
    birth = _dates(rng, "1940-01-01", "1995-12-31", n)
    spouse = (member == 1) & np.isin(name, ("城市低保", "农村低保"))
    birth = np.where(spouse, head_birth + rng.integers(-2000, 2000, n) * DAY, birth)
    child = (member >= 2) & (rng.random(n) < 0.7)
    # Children come 18-45 years after the head, but before LAST_BIRTH: clipping to it instead
    # would pile thousands onto one day and exhaust that day's ID numbers at large scales.
    room = np.clip((LAST_BIRTH - head_birth).astype(np.int64) - 18 * 365, 1, 27 * 365)
    birth = np.where(child, head_birth + (18 * 365 + (rng.random(n) * room).astype(np.int64)) * DAY, birth)
    elder = (member >= 2) & ~child
    birth = np.where(elder, _dates(rng, "1930-01-01", "1956-12-31", n), birth)
    tekun = np.isin(name, ("特困集中供养", "特困分散供养"))
    young = rng.random(n) < 0.2  # adults supported for a disability
    birth = np.where(
        tekun,
        np.where(
            young, _dates(rng, "1965-01-01", "2000-12-31", n), _dates(rng, "1928-01-01", "1962-12-31", n)
        ),
        birth,
    )
    birth = np.where(name == "孤儿", _dates(rng, "2003-01-01", "2019-06-30", n), birth)
    return np.minimum(birth, LAST_BIRTH)


def draw_roll(rng: np.random.Generator, params: Params, scale: int) -> Roll:
    """A clean roll matching the published figures times ``scale``, with people and accounts."""
    hh_office, hh_programme, hh_size = _draw_households(rng, _strata(params, scale))
    n_hh = len(hh_office)
    office_codes = np.array([o.code for o in OFFICES], dtype=np.int64)
    # Household numbers run per office: office code and a 6-digit sequence.
    first = np.r_[0, np.flatnonzero(np.diff(hh_office)) + 1]
    seq = np.arange(n_hh) - np.repeat(first, np.diff(np.r_[first, n_hh])) + 1
    hh_id = (office_codes[hh_office] * 1_000_000 + seq).astype("S15")

    household = np.repeat(np.arange(n_hh), hh_size)
    starts = np.r_[0, np.cumsum(hh_size)[:-1]]
    member = (np.arange(len(household)) - starts[household]).astype(np.int16)
    programme = hh_programme[household]
    head_birth = _dates(rng, "1940-01-01", "1995-12-31", n_hh)[household]
    birth = _births(rng, programme, member, head_birth)
    male = rng.random(len(household)) < 0.5
    male = np.where(member == 1, ~np.roll(male, 1), male)  # the spouse is of the other sex

    county = np.array([o.county for o in OFFICES])[hh_office][household]
    han_share = np.vectorize(lambda c: HAN_SHARE.get(c, 0.02))(np.array([o.county for o in OFFICES]))
    han = (rng.random(n_hh) < han_share[hh_office])[household]
    area = np.where(
        (county == OLD_DUILONG_COUNTY)
        & (birth < np.datetime64("2015-01-01"))
        & (rng.random(len(county)) < 0.7),
        OLD_DUILONG,
        county,
    )
    person_id = resident_ids(rng, area, birth, male).astype("S18")
    person_name = names(rng, male, han)

    # Enrolment: most before 2020 (more of them recent), 3% of households in 2020 before the
    # release (2020-05-07), so the roll counts the same on every date a rule might choose.
    hh_enrolled = np.where(
        rng.random(n_hh) < 0.03,
        _dates(rng, "2020-01-02", "2020-04-30", n_hh),
        _dates(rng, "2008-01-01", "2019-12-31", n_hh, skew=0.6),
    )
    enrolled = np.maximum(hh_enrolled[household], birth + 30 * DAY)

    rural = ~np.array([o.urban for o in OFFICES])[hh_office]
    passbook = rural & (rng.random(n_hh) < PASSBOOK_SHARE)
    accounts = bank_accounts(rng, n_hh, passbook).astype("S19")
    return Roll(
        person_id=person_id,
        name=person_name,
        household=household,
        member=member,
        birth=birth,
        male=male,
        enrolled_on=enrolled,
        hh_id=hh_id,
        hh_office=hh_office,
        hh_programme=hh_programme,
        hh_size=hh_size,
        hh_account=accounts,
        hh_amount=np.zeros(n_hh, dtype=np.int64),
    )


def assign_amounts(
    rng: np.random.Generator,
    roll: Roll,
    ceilings: np.ndarray,
    round_counties: frozenset[str] = frozenset(),
    flat_counties: frozenset[str] = frozenset(),
) -> None:
    """Set each household's monthly amount per person (fen), at most the ceiling.

    Amounts are the top-up to the standard (差额), spread log-uniformly over the decade
    below the ceiling, which is Benford's first-digit law, so honest counties pass F11. The
    mantissas are stratified over each county's payments (a household weighs as many
    payments as it receives), so even a small county follows the law closely whatever its
    mix of programmes. ``round_counties`` pay most households in whole hundreds and
    ``flat_counties`` pay 70-100% of the ceiling: the two patterns F11 is meant to catch.
    """
    n_hh = len(roll.hh_size)
    urban = np.array([o.urban for o in OFFICES])[roll.hh_office]
    cap = ceilings[roll.hh_programme, urban.astype(np.int64)]
    first = np.full(n_hh, 13, dtype=np.int64)
    np.minimum.at(first, roll.household, roll.first_period.astype(np.int64))
    weight = roll.hh_size.astype(np.float64) * (13 - first)
    county = roll.county_code[roll.hh_office]
    group = np.unique(county, return_inverse=True)[1]
    order = np.lexsort((rng.random(n_hh), group))
    cum = np.cumsum(weight[order])
    starts = np.r_[0, np.flatnonzero(np.diff(group[order])) + 1]
    before = np.r_[0.0, cum][starts]
    totals = np.add.reduceat(weight[order], starts)
    idx = np.repeat(np.arange(len(starts)), np.diff(np.r_[starts, n_hh]))
    mantissa = np.empty(n_hh)
    mantissa[order] = (cum - weight[order] / 2 - before[idx]) / totals[idx]
    # cap * 10**(u - 1) has the mantissa wanted when u = mantissa - log10(cap), mod 1.
    u = np.mod(mantissa - np.log10(cap), 1.0)
    amount = np.floor(cap * 10.0 ** (u - 1.0)).astype(np.int64)
    county_str = county.astype("U6")
    rounded = np.isin(county_str, sorted(round_counties)) & (rng.random(n_hh) < 0.85)
    amount = np.where(rounded, np.maximum(amount // 10_000 * 10_000, 10_000), amount)
    flat = np.isin(county_str, sorted(flat_counties))
    amount = np.where(flat, np.floor(cap * rng.uniform(0.70, 1.0, n_hh)).astype(np.int64), amount)
    roll.hh_amount = np.minimum(amount, cap)


@dataclass
class Chunk:
    """The payments of one county for one month, as numpy columns.

    ``entry`` is the roll entry paid (-1 for a payment to someone not on the roll),
    ``damage`` the data-quality defect written into a row (column -> the text written; a
    note says what it is) and ``no_county`` the rows written without a county code (ingest
    attributes them by the roll; ``county`` is where it must file them).
    """

    county: str
    period: int
    payment_id: np.ndarray  # S19
    person_id: np.ndarray  # S18
    household_id: np.ndarray  # S15
    programme: np.ndarray  # int8
    amount_fen: np.ndarray  # int64
    paid_on: np.ndarray  # datetime64[D]
    bank_account: np.ndarray  # S19
    entry: np.ndarray  # int64
    damage: dict[int, dict[str, object]] = field(default_factory=dict)
    no_county: np.ndarray | None = None  # bool per row; None: every row has its county

    def __len__(self) -> int:
        return len(self.payment_id)

    def clean(self) -> np.ndarray:
        """Rows without a data-quality defect: what ingest keeps and the rules see."""
        keep = np.ones(len(self), dtype=bool)
        keep[list(self.damage)] = False
        return keep


@dataclass
class Extra:
    """A payment row added to a chunk (a duplicate, a payment to someone not on the roll)."""

    person_id: bytes
    household_id: bytes
    programme: int
    amount_fen: int
    paid_on: np.datetime64
    bank_account: bytes
    entry: int
    no_county: bool = False  # written without a county code


@dataclass
class Patches:
    """Changes to the baseline payments, by (county, month)."""

    # (county, month) -> [(roll entry, column, value)]
    changes: dict[tuple[str, int], list[tuple[int, str, object]]] = field(default_factory=dict)
    extras: dict[tuple[str, int], list[Extra]] = field(default_factory=dict)
    # (county, month) -> [(roll entry, note, {column: written text or value})]
    damage: dict[tuple[str, int], list[tuple[int, str, dict[str, object]]]] = field(default_factory=dict)
    # roll entries whose payments are written without a county code, every month
    no_county: set[int] = field(default_factory=set)

    def change(self, county: str, month: int, entry: int, column: str, value: object) -> None:
        """Change one baseline payment."""
        self.changes.setdefault((county, month), []).append((entry, column, value))

    def add(self, county: str, month: int, extra: Extra) -> None:
        """Add a payment row."""
        self.extras.setdefault((county, month), []).append(extra)

    def damage_row(self, county: str, month: int, entry: int, note: str, written: dict[str, object]) -> None:
        """Write a data-quality defect into one baseline payment."""
        self.damage.setdefault((county, month), []).append((entry, note, written))


def batch_dates(
    rng: np.random.Generator, counties: list[str], deadline_day: int
) -> dict[tuple[str, int], np.datetime64]:
    """The day each county pays each month: early in the next month, December before year end."""
    out = {}
    for county in counties:
        for month in range(1, 13):
            if month == 12:
                out[county, month] = np.datetime64("2020-12-20") + int(rng.integers(0, 9)) * DAY
            else:
                day = int(rng.integers(3, deadline_day - 2))
                out[county, month] = np.datetime64(f"2020-{month + 1:02d}-{day:02d}")
    return out


def payment_chunks(
    roll: Roll, dates: dict[tuple[str, int], np.datetime64], patches: Patches
) -> Iterator[Chunk]:
    """Every payment, one chunk per (county, month), counties in code order."""
    county = roll.county.astype("U6")
    first_period = roll.first_period
    household = roll.household
    for code in sorted(set(county.tolist())):
        mine = np.flatnonzero(county == code)
        for month in range(1, 13):
            entries = mine[first_period[mine] <= month]
            hh = household[entries]
            key = (code, month)
            paid = np.full(len(entries), dates[key])
            cols = {
                "person_id": roll.person_id[entries],
                "household_id": roll.hh_id[hh],
                "programme": roll.hh_programme[hh],
                "amount_fen": roll.hh_amount[hh].copy(),
                "paid_on": paid,
                "bank_account": roll.hh_account[hh],
                "entry": entries.astype(np.int64),
            }
            for entry, column, value in patches.changes.get(key, []):
                cols[column][_row_of(entries, entry)] = value
            extras = patches.extras.get(key, [])
            if extras:
                for name in cols:
                    values = [getattr(e, name) for e in extras]
                    cols[name] = np.concatenate([cols[name], np.array(values, dtype=cols[name].dtype)])
            damage = {}
            for entry, note, written in patches.damage.get(key, []):
                row = _row_of(entries, entry)
                damage[row] = {"note": note, **written}
            n = len(cols["entry"])
            stem = int(code) * 10**13 + (202000 + month) * 10**7
            payment_id = (stem + np.arange(1, n + 1, dtype=np.int64)).astype("S19")
            no_county = None
            if patches.no_county or any(e.no_county for e in extras):
                no_county = np.r_[
                    np.isin(entries, sorted(patches.no_county)),
                    np.array([e.no_county for e in extras], dtype=bool),
                ]
            yield Chunk(code, month, payment_id, damage=damage, no_county=no_county, **cols)


def _row_of(entries: np.ndarray, entry: int) -> int:
    """The chunk row paying roll ``entry``; a patch to someone not paid that month is a bug."""
    row = int(np.searchsorted(entries, entry))
    if row >= len(entries) or entries[row] != entry:
        raise RuntimeError(f"demo: roll entry {entry} is not paid in the month patched")
    return row
