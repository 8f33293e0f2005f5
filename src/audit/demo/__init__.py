"""The demo submission: a synthetic Lhasa 2020 submission with planted anomalies and an answer key.

At scale 1 the roll matches every figure of the city bureau's release (低保 7,194 households
and 13,868 persons, of which 城市低保 5,409 / 7,950 in street offices and 农村低保 1,785 / 5,918
in towns and townships; 特困 1,295 persons, 805 centralised and 490 dispersed, 1,052 rural and
243 urban; 519 orphans), the programme buys 79 positions (71 township + 8 city) for
6,280,816.00 yuan, and the special fund allocates to the purchase exactly its 4% cap of all it
allocates (spending goes over the cap only where C5 is planted).
``scale`` multiplies the people and payments, not the offices, posts or contracts.

The parts: :mod:`.register` (divisions and offices), :mod:`.people` (names, IDs, accounts,
credit codes), :mod:`.relief` (roll and payments), :mod:`.programme` (contracts, staff and
funds), :mod:`.anomalies` (what is planted, and the answer key computed from the tables) and
:mod:`.writer` (file formats and the damage county spreadsheets carry).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from audit.demo import anomalies, programme, references, register, relief
from audit.demo.people import resident_ids
from audit.demo.writer import SubmissionWriter
from audit.exceptions import ParameterError
from audit.params import Params

DEFAULT_SEED = 20200507
"""The release's date: the seed a plain ``audit demo`` uses."""
FORMATS = ("mixed", "parquet")
KEY_FILE = "answer_key.csv"
REFERENCE_OTHERS = {"deaths": 40, "public_employees": 120}
"""People on each reference list who are on no roll and in no post, per unit of scale."""


@dataclass(frozen=True)
class DemoResult:
    """What a demo run wrote."""

    out: Path
    seed: int
    scale: int
    fmt: str
    files: tuple[str, ...]
    key: pd.DataFrame
    rows: dict[str, int]


def generate(
    out: str | Path,
    params: Params,
    *,
    seed: int = DEFAULT_SEED,
    scale: int = 1,
    fmt: str = "mixed",
    progress: Callable[[str], None] | None = None,
) -> DemoResult:
    """Write the demo submission and its answer key into ``out``; the same seed gives the same bytes."""
    if fmt not in FORMATS:
        raise ParameterError(f"format must be one of {', '.join(FORMATS)}")
    if scale < 1:
        raise ParameterError("scale must be a whole number of at least 1")
    say = progress or (lambda _line: None)
    out = Path(out)
    rng = anomalies.streams(seed)
    planted = anomalies.Planted()
    unit = params.purchase.unit_cost_yuan

    divisions = register.divisions_table(params.city_code)
    offices = register.offices_table(rng["offices"])
    anomalies.plant_offices(rng["plant"], offices)

    people = sum(p.persons for p in params.relief.published_statistics.values()) * scale
    say(f"roll: drawing {people:,} people")
    roll = relief.draw_roll(rng["roll"], params, scale)
    anomalies.plant_roll(rng["plant"], roll, params, planted)
    relief.assign_amounts(
        rng["amounts"], roll, relief.ceilings_fen(params), anomalies.ROUND_COUNTIES, anomalies.FLAT_COUNTIES
    )

    city, city_name = params.city_code, params.sources.city.zh
    posts = programme.posts_by_county(
        anomalies.extra_posts(roll, city), params.purchase.planned_positions.city, city
    )
    specs = programme.contract_specs(posts, city, city_name)
    contracts = programme.draw_contracts(rng["contracts"], specs, unit)
    anomalies.plant_contracts(rng["contracts"], contracts, unit)
    staff = programme.draw_staff(rng["staff"], contracts, posts, avoid=roll.person_id)
    staff = anomalies.plant_staff(rng["staff"], staff, roll, planted)

    counties = sorted({o.county for o in register.OFFICES})
    dates = relief.batch_dates(rng["payments"], counties, params.relief.payment_deadline_day)
    anomalies.plant_payments(rng["plant"], roll, params, planted, dates, parquet=fmt == "parquet")
    # after every other plant, so theirs are drawn as before issue 19 added these
    list_plants = references.plant_roll(rng["lists"], roll, anomalies.Picker(rng["lists"], roll, planted))
    # after those too (issue 14): payments written without a county, which ingest attributes
    anomalies.plant_attribution(rng["attribution"], roll, planted, dates)
    deaths, employees = _reference_lists(
        rng["refs"],
        planted,
        scale,
        np.r_[roll.person_id, staff["id_number"].to_numpy(dtype="S18")],
        city_name,
    )
    everyone = np.r_[
        roll.person_id, staff["id_number"].to_numpy(dtype="S18"), deaths["person_id"].to_numpy(dtype="S18"),
        employees["person_id"].to_numpy(dtype="S18"),
    ]  # fmt: skip

    writer = SubmissionWriter(out, fmt, city_name)
    roll_frame = pd.DataFrame(roll.columns())
    say("beneficiaries: writing the roll")
    dq = writer.beneficiaries(roll_frame, dict(planted.roll_damage))
    watch = set(
        roll_frame.loc[
            roll_frame["household_id"].isin(
                roll_frame.loc[roll_frame["person_id"].isin(set(employees["person_id"])), "household_id"]
            ),
            "person_id",
        ]
    )
    other_lists = references.lists(rng["lists"], list_plants, scale, everyone)
    ledger = anomalies.PaymentLedger(
        roll,
        params,
        deaths,
        watch,
        _followed_accounts(roll, planted),
        follow=references.persons_followed(other_lists, roll_frame),
    )
    sink = writer.payments()
    for chunk in relief.payment_chunks(roll, dates, planted.patches):
        dq += sink.write(chunk)
        ledger.feed(chunk)
        if chunk.period == 12:
            say(f"relief_payments: {sink.rows:,} rows (county {chunk.county} done)")
    sink.close()

    allocations, vouchers = _funds(rng["funds"], params, scale, ledger.totals, contracts, staff, planted)
    tables = {
        "divisions": divisions,
        "offices": offices,
        "contracts": contracts,
        "staff": staff,
        "fund_allocations": allocations,
        "fund_payments": vouchers,
        "deaths": deaths,
        "public_employees": employees,
        **other_lists,
    }
    for name, frame in {**tables, "staff": anomalies.written_staff(staff)}.items():
        writer.small(name, frame)

    rows = (
        anomalies.contract_findings(tables, params)
        + anomalies.staff_findings(tables, roll_frame, params)
        + anomalies.roll_findings(roll_frame, employees, ledger.watched, params)
        + ledger.finish(allocations)
        + references.list_findings(other_lists, roll_frame, ledger.paid_to_followed(), params)
        + _number_gaps(params, vouchers, contracts)
        + dq
    )
    key = anomalies.answer_key(rows)
    key.to_csv(out / KEY_FILE, index=False, float_format="%.2f", lineterminator="\n")
    counts = {name: len(frame) for name, frame in tables.items()}
    counts.update(beneficiaries=len(roll_frame), relief_payments=sink.rows)
    files = tuple(sorted(p.name for p in out.iterdir() if p.is_file()))
    return DemoResult(out, seed, scale, fmt, files, key, counts)


def _number_gaps(params: Params, vouchers: pd.DataFrame, contracts: pd.DataFrame) -> list[dict[str, object]]:
    """C11: gaps in voucher and contract numbers (payment numbers are followed chunk by chunk)."""
    if params.numbering is None:
        return []
    n = params.numbering.min_series_length
    return references.number_gaps(
        vouchers["voucher_no"], vouchers["county_code"], "fund_payments", n
    ) + references.number_gaps(contracts["contract_id"], contracts["county_code"], "contracts", n)


def _followed_accounts(roll: relief.Roll, planted: anomalies.Planted) -> set[bytes]:
    """Accounts that could be paid for two households: repeated on the roll, or on added rows."""
    values, counts = np.unique(roll.hh_account, return_counts=True)
    shared = {bytes(v) for v in values[counts > 1]}
    for extras in planted.patches.extras.values():
        shared.update(e.bank_account for e in extras)
    return shared


def _reference_lists(
    rng: np.random.Generator, planted: anomalies.Planted, scale: int, avoid: np.ndarray, city_name: str
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Death register and public payroll: the planted people among others on no roll."""
    lists = []
    for name, columns in (
        ("deaths", ("person_id", "died_on")),
        ("public_employees", ("person_id", "employer", "since")),
    ):
        n = REFERENCE_OTHERS[name] * scale
        county = np.array([c.code for c in register.COUNTIES[:8]])[rng.integers(0, 8, n)]
        born = np.datetime64("1935-01-01") + rng.integers(0, 55 * 365, n) * np.timedelta64(1, "D")
        ids = resident_ids(rng, county, born, rng.random(n) < 0.5, avoid=avoid)
        avoid = np.r_[avoid, ids.astype("S18")]
        if name == "deaths":
            others = {
                "died_on": np.datetime64("2019-01-01") + rng.integers(0, 700, n) * np.timedelta64(1, "D")
            }
        else:
            employer = np.array(
                [
                    f"{city_name}人民医院",
                    "城关区教育局",
                    f"{city_name}公安局",
                    "林周县人民政府",
                    "当雄县卫生健康委员会",
                ]
            )
            others = {
                "employer": employer[rng.integers(0, len(employer), n)],
                "since": np.datetime64("2000-09-01") + rng.integers(0, 7000, n) * np.timedelta64(1, "D"),
            }
        frame = pd.concat(
            [pd.DataFrame(getattr(planted, name)), pd.DataFrame({"person_id": ids, **others})],
            ignore_index=True,
        )[list(columns)]
        lists.append(frame.sort_values("person_id", kind="stable").reset_index(drop=True))
    return lists[0], lists[1]


def _funds(
    rng: np.random.Generator,
    params: Params,
    scale: int,
    totals_fen: dict[str, int],
    contracts: pd.DataFrame,
    staff: pd.DataFrame,
    planted: anomalies.Planted,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Allocations (relief, purchase) and the purchase vouchers."""
    unit = params.purchase.unit_cost_yuan
    margins = {c: float(rng.uniform(0.01, 0.03)) for c in sorted(totals_fen)}
    margins.update(anomalies.RELIEF_MARGIN)
    relief_rows = programme.relief_allocations(totals_fen, margins)
    relief_total = int(sum(r["amount_yuan"] for r in relief_rows))
    if scale == 1:
        # Raise the biggest county's mid-year allocation by a few yuan so that the cap share
        # of all special-fund allocations is a whole yuan the purchase can spend exactly.
        special, raised = programme.special_purchase_total(
            relief_total, params.purchase.special_fund_cap_share
        )
        biggest = max(totals_fen, key=totals_fen.get)
        last = max(i for i, r in enumerate(relief_rows) if r["county_code"] == biggest)
        relief_rows[last]["amount_yuan"] += raised - relief_total
    else:
        # The cap then exceeds the whole purchase; keep the purchase's funding as at scale 1.
        special, _ = programme.special_purchase_total(
            relief_total // scale, params.purchase.special_fund_cap_share
        )
    purchase, split = programme.purchase_allocations(contracts, special, unit, params.city_code)
    allocations = pd.concat([pd.DataFrame(relief_rows), purchase], ignore_index=True)
    allocations = anomalies.cut_county_budgets(allocations)
    allocations = programme.number_allocations(allocations)

    paid = programme.filled_months(staff).rename(columns={"filled": "paid"})
    for contract_id, month in planted.paid_vacancies:
        hit = (paid["contract_id"] == contract_id) & (paid["month"] == month)
        paid.loc[hit, "paid"] += 1
    vouchers = programme.vouchers(contracts, paid, split, unit, anomalies.SPECIAL_ONLY)
    vouchers = anomalies.skip_voucher_number(programme.number_vouchers(anomalies.duplicate_voucher(vouchers)))
    return allocations, vouchers


__all__ = ["DEFAULT_SEED", "FORMATS", "KEY_FILE", "DemoResult", "generate"]
