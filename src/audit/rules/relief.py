"""Rules F1-F11: relief paid to individuals (低保, 特困, 孤儿) and the funds behind it.

Interpretations (they fix what the demo's answer key expects):

- F1: "on the roll" means enrolled in the programme paid, in this county's roll; a period
  (``YYYY-MM``) is outside enrolment when its last day is before enrolled_on or its first day
  after exited_on.
- F2: a period that begins after the day of death (died on 15 March: April fires, March not);
  each finding's evidence also counts the person's months paid after death and sums them.
- F3: of the payments of one person, programme and period, the earliest (paid_on, then
  payment_id) is the original; every other one is a finding, its amount at stake.
- F4: enrolments overlap when their enrolled_on..exited_on spans share a day. In a county:
  a 低保 and a 特困 programme, 城市低保 and 农村低保, or two townships. In the city: two
  counties, one row per county involved.
- F5: per household, programme and period, paid against the monthly standard (urban in a
  street office 街道, rural in a township or town 乡/镇) x the roll's household_size,
  compared in units of amount_tolerance_yuan (the fen); one finding per household and
  period, its excess summed over programmes. A household this county paid that is on
  another county's roll is judged by that roll and that county's register.
- F6: every person on the roll in a household that has a public employee on the roll.
- F7: one account paid for two or more households; the amount is all that account received. In
  the city: an account paid for households of two or more counties, one row per county, its
  amount what the account received in that county.
- F8: deadline = the deadline day of the month after the period; paid on it passes.
- F9: distinct households and persons per programme, of the whole roll (or of those enrolled
  on published_statistics_as_of when set), against the published figures given.
- F10: relief paid for periods of the audit year against the county's 社会救助专项资金 / 救助金
  allocations: above them, or unspent by more than the tolerance share of them.
- F11: first digits of the payments above zero (Nigrini's MAD) and the share of amounts that
  are whole multiples of round_amount_unit_yuan.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

import numpy as np
import pandas as pd

from audit.datacontract import PROGRAMMES
from audit.params import Params
from audit.rules.evidence import finding_rows, grouped_sources, no_findings, records, sources, text, yuan
from audit.rules.measures import deadlines, fen, fen_of, group_keys, in_units, month_bounds
from audit.rules.registry import NotRun, Outcome, rule
from audit.rules.tables import Tables
from audit.vocabulary import RELIEF, SPECIAL_FUND

DIBAO = ("城市低保", "农村低保")
TEKUN = ("特困集中供养", "特困分散供养")
URBAN_KINDS = ("街道",)
RURAL_KINDS = ("乡", "镇")

# The documents are quoted from the parameters file's ``sources`` (Rule.texts fills them in).
_INTERIM = _INTERIM_EN = "{relief_rules}"
_DIBAO_RULES = _DIBAO_RULES_EN = "{dibao_rules}"
_PAYMENT_COLUMNS = [
    "payment_id",
    "person_id",
    "household_id",
    "programme",
    "period",
    "amount_yuan",
    "paid_on",
]


def _payment_findings(
    f: pd.DataFrame, extra: list[dict], zh: pd.Series, en: pd.Series, township: pd.Series | None = None
) -> pd.DataFrame:
    """Findings on payments (entity payment_id), the payment row and its citation in evidence."""
    evidence = [
        {**r, **x, "source": s}
        for r, x, s in zip(records(f, _PAYMENT_COLUMNS), extra, sources(f, "relief_payments"), strict=True)
    ]
    return finding_rows(
        county_code=f["county_code"],
        township_code=township,
        entity_id=f["payment_id"],
        amount_yuan=f["amount_yuan"],
        description_zh=zh,
        description_en=en,
        evidence=evidence,
    )


@rule(
    "F1",
    title_zh="向名册外人员或在保障期外发放救助金",
    title_en="Payment to a person not on the roll, or outside enrolment",
    severity="high",
    entity_type="payment",
    requires=("relief_payments", "beneficiaries"),
    basis_zh=f"{_INTERIM}；{_DIBAO_RULES}",
    basis_en=f"{_INTERIM_EN}; {_DIBAO_RULES_EN}",
    recommendation_zh="停止向名册外人员发放，核实保障期，追回多发资金。",
    recommendation_en="Stop paying people off the roll; check enrolment dates; recover what was overpaid.",
)
def paid_off_roll(t: Tables, p: Params) -> pd.DataFrame:
    """Payments to someone not enrolled in the programme, or for a period outside the enrolment."""
    pay, roll = t["relief_payments"], t["beneficiaries"]
    r = roll[["person_id", "programme", "division_code", "enrolled_on", "exited_on"]].drop_duplicates(
        ["person_id", "programme"]
    )
    m = pay[["person_id", "programme", "period"]].merge(
        r, on=["person_id", "programme"], how="left", sort=False
    )
    start, end = month_bounds(pay["period"])
    enrolled = m["enrolled_on"].to_numpy()
    exited = m["exited_on"].to_numpy()
    off = np.isnat(enrolled)
    before = ~off & (end.to_numpy() < enrolled)
    after = ~off & ~np.isnat(exited) & (start.to_numpy() > exited)
    hit = off | before | after
    if not hit.any():
        return no_findings()
    f = pay.loc[hit].reset_index(drop=True)
    mm = m.loc[hit].reset_index(drop=True)
    kind = np.select([off[hit], before[hit]], ["not_on_roll", "before_enrolment"], "after_exit")
    zh_why = pd.Series(kind).map(
        {
            "not_on_roll": "不在该类别救助名册",
            "before_enrolment": "所属期早于纳入日期",
            "after_exit": "所属期晚于退出日期",
        }
    )
    en_why = pd.Series(kind).map(
        {
            "not_on_roll": "not on the roll for the programme",
            "before_enrolment": "period before enrolment",
            "after_exit": "period after exit",
        }
    )
    extra = [
        {"problem": k, "enrolled_on": a, "exited_on": b}
        for k, a, b in zip(kind, mm["enrolled_on"], mm["exited_on"], strict=True)
    ]
    return _payment_findings(
        f,
        extra,
        "发放 "
        + text(f["payment_id"])
        + "（"
        + text(f["period"])
        + "，"
        + yuan(f["amount_yuan"])
        + " 元）："
        + zh_why,
        "payment "
        + text(f["payment_id"])
        + " ("
        + text(f["period"])
        + ", "
        + yuan(f["amount_yuan"])
        + " yuan): "
        + en_why,
        township=mm["division_code"],
    )


@rule(
    "F2",
    title_zh="死亡后仍发放救助金",
    title_en="Payment for a period beginning after the recipient's death",
    severity="high",
    entity_type="payment",
    requires=("relief_payments", "deaths"),
    basis_zh=f"{_INTERIM}（救助对象死亡的应停发）；{_DIBAO_RULES}",
    basis_en=f"{_INTERIM_EN} (relief stops at death); {_DIBAO_RULES_EN}",
    recommendation_zh="立即停发，追回死亡后发放的资金，完善与公安、殡葬数据的定期比对。",
    recommendation_en="Stop payment, recover what was paid after death, compare with police and funeral "
    "records regularly.",
)
def paid_after_death(t: Tables, p: Params) -> pd.DataFrame:
    """Payments for a period whose first day is after the date of death."""
    pay, deaths = t["relief_payments"], t["deaths"]
    died = deaths.drop_duplicates("person_id").set_index("person_id")["died_on"]
    cand = pay.loc[pay["person_id"].isin(died.index)]
    if cand.empty:
        return no_findings()
    start, _ = month_bounds(cand["period"])
    died_on = died.reindex(cand["person_id"]).to_numpy()
    hit = start.to_numpy() > died_on
    if not hit.any():
        return no_findings()
    f = cand.loc[hit].reset_index(drop=True)
    d = pd.Series(died_on[hit])
    # per person: the months paid after death and what they came to (issue 19)
    person = f["person_id"]
    months = f.groupby("person_id")["period"].nunique()
    total = pd.Series(fen(f["amount_yuan"]), index=f.index).groupby(person).sum()
    return _payment_findings(
        f,
        [
            {
                "died_on": x,
                "person_months_after_death": int(months[q]),
                "person_paid_after_death_yuan": total[q] / 100,
            }
            for x, q in zip(d, person, strict=True)
        ],
        "发放 " + text(f["payment_id"]) + "（所属期 " + text(f["period"]) + "）晚于死亡日期 " + text(d),
        "payment " + text(f["payment_id"]) + " for " + text(f["period"]) + ", after death on " + text(d),
    )


@rule(
    "F3",
    title_zh="重复发放救助金",
    title_en="Duplicate payment: same person, programme and period paid twice",
    severity="high",
    entity_type="payment",
    requires=("relief_payments",),
    basis_zh=_INTERIM,
    basis_en=_INTERIM_EN,
    recommendation_zh="追回重复发放的资金，检查发放系统的重复校验。",
    recommendation_en="Recover the duplicate and check the payment system's duplicate control.",
)
def paid_twice(t: Tables, p: Params) -> pd.DataFrame:
    """Every payment after the first for the same person, programme and period."""
    pay = t["relief_payments"]
    keys = ["person_id", "programme", "period"]
    dup = pay.loc[pd.Series(group_keys(pay, keys)).duplicated(keep=False).to_numpy()]
    if dup.empty:
        return no_findings()
    dup = dup.sort_values([*keys, "paid_on", "payment_id"], kind="mergesort")
    rank = dup.groupby(keys, sort=False).cumcount()
    first = dup.groupby(keys, sort=False)["payment_id"].transform("first")
    f = dup.loc[rank.to_numpy() > 0].reset_index(drop=True)
    original = first.loc[rank.to_numpy() > 0].reset_index(drop=True)
    return _payment_findings(
        f,
        [{"duplicate_of": o} for o in original],
        "发放 " + text(f["payment_id"]) + " 与 " + text(original) + " 重复（" + text(f["period"]) + "）",
        "payment " + text(f["payment_id"]) + " duplicates " + text(original) + " (" + text(f["period"]) + ")",
    )


_F4_META = dict(
    title_zh="重复或不相容享受救助",
    title_en="Incompatible enrolment",
    severity="high",
    entity_type="person",
    requires=("beneficiaries",),
    basis_zh=f"{_INTERIM}（特困人员不再同时享受最低生活保障）；{_DIBAO_RULES}",
    basis_en=f"{_INTERIM_EN} (特困 support replaces the 低保 allowance); {_DIBAO_RULES_EN}",
    recommendation_zh="核实户籍和居住地，只保留一种救助类别和一个保障地，追回重复发放资金。",
    recommendation_en="Check residence; keep one programme in one place; recover double payments.",
)


def _overlapping(roll: pd.DataFrame) -> pd.DataFrame:
    """Pairs of one person's enrolments whose spans share a day (a_ before b_ in row order)."""
    cols = [
        "person_id",
        "name",
        "programme",
        "division_code",
        "household_id",
        "enrolled_on",
        "exited_on",
        "county_code",
    ]
    dup = roll.loc[roll["person_id"].duplicated(keep=False), cols].reset_index(names="row")
    dup["end"] = dup["exited_on"].fillna(pd.Timestamp("9999-12-31"))
    pairs = dup.merge(dup, on="person_id", suffixes=("_a", "_b"))
    pairs = pairs.loc[pairs["row_a"] < pairs["row_b"]]
    overlap = (pairs["enrolled_on_a"] <= pairs["end_b"]) & (pairs["enrolled_on_b"] <= pairs["end_a"])
    return pairs.loc[overlap]


def _enrolments(roll: pd.DataFrame, persons: pd.Index) -> pd.Series:
    rows = roll.loc[roll["person_id"].isin(persons)].sort_values(["person_id", "enrolled_on", "programme"])
    cols = ["programme", "division_code", "household_id", "county_code", "enrolled_on", "exited_on"]
    cited = pd.Series(sources(rows, "beneficiaries"), index=rows.index, dtype=object)
    return (
        pd.Series(
            [{**r, "source": s} for r, s in zip(records(rows, cols), cited, strict=True)],
            index=rows["person_id"].to_numpy(),
        )
        .groupby(level=0)
        .agg(list)
    )


@rule("F4", **_F4_META)
def incompatible_enrolment(t: Tables, p: Params) -> pd.DataFrame:
    """County part: 低保 with 特困, urban with rural 低保, or two townships, at once."""
    roll = t["beneficiaries"]
    pairs = _overlapping(roll)
    a, b = pairs["programme_a"], pairs["programme_b"]
    checks = {
        "dibao_and_tekun": (a.isin(DIBAO) & b.isin(TEKUN)) | (a.isin(TEKUN) & b.isin(DIBAO)),
        "urban_and_rural_dibao": (a.isin(DIBAO) & b.isin(DIBAO) & (a != b)),
        "two_townships": pairs["division_code_a"] != pairs["division_code_b"],
    }
    flagged = pd.DataFrame({k: v.to_numpy() for k, v in checks.items()}, index=pairs["person_id"].to_numpy())
    per = flagged.groupby(level=0, sort=True).any()
    per = per.loc[per.any(axis=1)]
    if per.empty:
        return no_findings()
    persons = per.index
    rows = _enrolments(roll, persons)
    problems = [[k for k in checks if per.at[q, k]] for q in persons]
    names = roll.drop_duplicates("person_id").set_index("person_id")["name"].reindex(persons)
    labels_zh = {
        "dibao_and_tekun": "同时享受低保和特困供养",
        "urban_and_rural_dibao": "同时享受城市和农村低保",
        "two_townships": "同时在两个乡镇享受救助",
    }
    labels_en = {
        "dibao_and_tekun": "低保 and 特困 at once",
        "urban_and_rural_dibao": "urban and rural 低保 at once",
        "two_townships": "enrolled in two townships at once",
    }
    ids = pd.Series(persons, dtype="str")
    return finding_rows(
        county_code=t.county,
        entity_id=ids,
        description_zh="救助对象 "
        + ids
        + "："
        + pd.Series(["、".join(labels_zh[k] for k in x) for x in problems]),
        description_en="person "
        + ids
        + ": "
        + pd.Series(["; ".join(labels_en[k] for k in x) for x in problems]),
        evidence=[
            {
                "person_id": q,
                "name": n,
                "problems": x,
                "enrolments": rows[q],
                "household_ids": sorted({e["household_id"] for e in rows[q]}),
            }
            for q, n, x in zip(persons, names, problems, strict=True)
        ],
    )


@incompatible_enrolment.part("city")
def enrolled_in_two_counties(t: Tables, p: Params) -> pd.DataFrame:
    """City part: one person enrolled in two counties at once; a row for each county involved."""
    roll = t["beneficiaries"]
    pairs = _overlapping(roll)
    pairs = pairs.loc[pairs["county_code_a"] != pairs["county_code_b"]]
    if pairs.empty:
        return no_findings()
    counties = (
        pd.concat(
            [pairs.set_index("person_id")["county_code_a"], pairs.set_index("person_id")["county_code_b"]]
        )
        .groupby(level=0, sort=True)
        .agg(lambda s: sorted(set(s)))
    )
    rows = _enrolments(roll, counties.index)
    names = roll.drop_duplicates("person_id").set_index("person_id")["name"]
    long = counties.explode()
    ids = pd.Series(long.index, dtype="str")
    listed = counties.reindex(long.index).map("、".join).to_numpy()
    return finding_rows(
        county_code=long.to_numpy(),
        entity_id=ids,
        cross_county=True,
        description_zh="救助对象 " + ids + " 同时在 " + pd.Series(listed) + " 享受救助",
        description_en="person "
        + ids
        + " enrolled at once in counties "
        + pd.Series(counties.reindex(long.index).map(", ".join).to_numpy()),
        evidence=[
            {
                "person_id": q,
                "name": names.get(q),
                "problems": ["two_counties"],
                "counties": counties[q],
                "enrolments": rows[q],
                "household_ids": sorted({e["household_id"] for e in rows[q]}),
            }
            for q in long.index
        ],
    )


def _standards_fen(p: Params) -> tuple[dict[tuple[str, str], int], list[str]]:
    """Monthly standard in fen per (programme, urban|rural), and the programmes without one."""
    out = {}
    for programme, s in p.relief.standards.items():
        out[(programme, "urban")] = fen_of(s.urban.monthly_yuan)
        out[(programme, "rural")] = fen_of(s.rural.monthly_yuan)
    return out, [x for x in PROGRAMMES if x not in p.relief.standards]


@rule(
    "F5",
    title_zh="发放金额超过保障标准",
    title_en="Amount above the programme's standard for the household size",
    severity="medium",
    entity_type="household",
    requires=("relief_payments", "beneficiaries", "divisions"),
    basis_zh=f"{_INTERIM}（按差额发放，不得高于保障标准）；{{standards}}",
    basis_en=f"{_INTERIM_EN} (top-up to the standard, never above it); {{standards}}",
    recommendation_zh="按保障标准和家庭人口核定发放金额，追回超标准发放部分。",
    recommendation_en="Recompute the amount from the standard and household size; recover the excess.",
)
def paid_above_standard(t: Tables, p: Params) -> Outcome:
    """Per household and period, payments above the monthly standard x household size."""
    pay = t["relief_payments"]
    # a household this county paid may be on another county's roll, its township in that register
    roll, d = t.with_joined("beneficiaries", new="household_id"), t.with_joined("divisions")
    standards, lacking = _standards_fen(p)
    notes_zh = [f"未对{x}运行：参数中无保障标准" for x in lacking]
    notes_en = [f"not run for {x}: no standard in the parameters" for x in lacking]
    # Everything up to the hits is integer arrays: a million payments, half a million sums.
    hh_code, hh_ids = pd.factorize(pay["household_id"], use_na_sentinel=False)
    prog_code, progs = pd.factorize(pay["programme"], use_na_sentinel=False)
    key = group_keys(pay, ["household_id", "programme", "period"])
    _, first_row = np.unique(key, return_index=True)
    paid = np.bincount(key, weights=fen(pay["amount_yuan"])).astype("int64")
    count = np.bincount(key)
    hh, prog = hh_code[first_row], prog_code[first_row]
    info = roll.groupby("household_id").agg(size=("household_size", "max"), town=("division_code", "first"))
    info = info.reindex(pd.Index(hh_ids, dtype="str"))
    kind = info["town"].map(d.drop_duplicates("division_code").set_index("division_code")["kind"])
    area_of_hh = np.select([kind.isin(URBAN_KINDS), kind.isin(RURAL_KINDS)], [0, 1], -1)
    size_of_hh = info["size"].fillna(0).to_numpy(dtype="int64")
    standard = np.full((len(progs), 2), -1, dtype="int64")  # fen a person a month; -1: none
    for i, name in enumerate(progs):
        for j, area in enumerate(("urban", "rural")):
            standard[i, j] = standards.get((name, area), -1)
    has_standard = standard[prog, 0] >= 0
    area = area_of_hh[hh]
    skipped = int((has_standard & (area < 0)).sum())
    if skipped:
        notes_zh.append(f"{skipped} 个户·所属期未比较：户不在名册或所属乡镇类型不明")
        notes_en.append(
            f"{skipped} household-periods not compared: household off the roll or township kind unknown"
        )
    monthly = standard[prog, np.maximum(area, 0)]
    ceiling = monthly * size_of_hh[hh]
    unit = fen_of(p.relief.amount_tolerance_yuan)
    over = has_standard & (area >= 0) & (in_units(paid, unit) > in_units(ceiling, unit))
    if not over.any():
        return Outcome(no_findings(), tuple(notes_zh), tuple(notes_en))
    rows = first_row[over]
    hit = pd.DataFrame(
        {
            "household_id": pay["household_id"].take(rows).to_numpy(),  # take first: a few rows to text
            "programme": pay["programme"].take(rows).to_numpy(),
            "period": pay["period"].take(rows).to_numpy(),
            "fen": paid[over],
            "payments": count[over],
            "standard_fen": monthly[over],
            "household_size": size_of_hh[hh[over]],
            "area": np.array(["urban", "rural"])[area[over]],
            "ceiling_fen": ceiling[over],
            "division_code": info["town"].to_numpy()[hh[over]],
        }
    )
    hit = hit.assign(excess_fen=hit["fen"] - hit["ceiling_fen"]).sort_values(
        ["household_id", "period", "programme"]
    )
    per = hit.groupby(["household_id", "period"], sort=True)
    excess = per["excess_fen"].sum()
    first = per.first()
    detail: dict[tuple[str, str], list[dict]] = {}
    for r in hit.to_dict("records"):  # hits only: a few per thousand household-months
        detail.setdefault((r["household_id"], r["period"]), []).append(
            {
                "programme": r["programme"],
                "paid_yuan": r["fen"] / 100,
                "payments": int(r["payments"]),
                "monthly_standard_yuan": r["standard_fen"] / 100,
                "household_size": int(r["household_size"]),
                "area": r["area"],
                "ceiling_yuan": r["ceiling_fen"] / 100,
            }
        )
    households = excess.index.get_level_values(0).to_series(index=excess.index)
    periods = excess.index.get_level_values(1).to_series(index=excess.index)
    entity = households + "/" + periods
    county = t.county if t.county is not None else p.city_code
    cols = [c for c in ("household_id", "period", "src_file", "src_sheet", "src_row") if c in pay]
    paid_rows = pay.loc[pay["household_id"].isin(households).to_numpy(), cols]
    paid_rows = paid_rows.loc[(paid_rows["household_id"] + "/" + paid_rows["period"]).isin(entity)]
    cited = grouped_sources(paid_rows, "relief_payments", ["household_id", "period"])
    evidence = [
        {
            "household_id": h,
            "period": q,
            "division_code": town,
            "by_programme": detail[(h, q)],
            "source": cited.get((h, q), []),
        }
        for (h, q), town in zip(excess.index, first["division_code"], strict=True)
    ]
    findings = finding_rows(
        county_code=county,
        township_code=first["division_code"].to_numpy(),
        entity_id=entity.to_numpy(),
        amount_yuan=excess.to_numpy() / 100,
        description_zh="户 "
        + text(households)
        + " "
        + text(periods)
        + " 发放超过保障标准 "
        + yuan(excess.to_numpy() / 100)
        + " 元",
        description_en="household "
        + text(households)
        + " "
        + text(periods)
        + ": paid "
        + yuan(excess.to_numpy() / 100)
        + " yuan above the standard",
        evidence=evidence,
    )
    return Outcome(findings, tuple(notes_zh), tuple(notes_en))


@rule(
    "F6",
    title_zh="财政供养人员或其家庭成员享受救助",
    title_en="Public employee, or a member of their household, receiving relief",
    severity="high",
    entity_type="person",
    requires=("beneficiaries", "public_employees"),
    optional=("relief_payments",),
    basis_zh=f"{_DIBAO_RULES}（家庭收入核查）；{_INTERIM}",
    basis_en=f"{_DIBAO_RULES_EN} (household income checks); {_INTERIM_EN}",
    recommendation_zh="重新核定家庭收入和救助资格，不符合条件的停发并追回资金。",
    recommendation_en="Re-assess household income and eligibility; stop and recover payments if ineligible.",
)
def public_employee_household(t: Tables, p: Params) -> pd.DataFrame:
    """Everyone on the roll in a household with a public employee on the roll."""
    roll, emp = t["beneficiaries"], t["public_employees"]
    on_roll = roll.loc[roll["person_id"].isin(emp["person_id"])]
    if on_roll.empty:
        return no_findings()
    jobs = emp.loc[emp["person_id"].isin(on_roll["person_id"])].sort_values(["person_id", "employer"])
    employees = jobs.groupby("person_id").apply(
        lambda g: [
            {"person_id": g.name, "employer": e, "since": s}
            for e, s in zip(g["employer"], g["since"], strict=True)
        ],
        include_groups=False,
    )
    emp_by_hh = (
        on_roll[["household_id", "person_id"]]
        .drop_duplicates()
        .groupby("household_id")["person_id"]
        .agg(lambda s: sorted(s))
    )
    members = roll.loc[roll["household_id"].isin(emp_by_hh.index)].sort_values(["person_id", "programme"])
    per = members.groupby("person_id", sort=True).agg(
        name=("name", "first"),
        household_id=("household_id", "first"),
        division_code=("division_code", "first"),
        county_code=("county_code", "first"),
        programmes=("programme", lambda s: sorted(set(s))),
    )
    pay = t.get("relief_payments")
    amount = np.full(len(per), np.nan)
    if pay is not None:
        pay = pay.loc[pay["person_id"].isin(per.index)]
        paid = pd.Series(fen(pay["amount_yuan"]), index=pay.index).groupby(pay["person_id"]).sum()
        amount = paid.reindex(per.index).fillna(0).to_numpy() / 100
    ids = per.index.to_series()
    self_ = ids.isin(emp["person_id"])
    evidence = [
        {
            "person_id": q,
            "name": r.name,
            "household_id": r.household_id,
            "programmes": r.programmes,
            "is_public_employee": bool(s),
            "public_employees": [j for e in emp_by_hh[r.household_id] for j in employees[e]],
        }
        for q, r, s in zip(ids, per.itertuples(), self_, strict=True)
    ]
    zh = np.where(self_, "本人为财政供养人员", "家庭成员为财政供养人员")
    en = np.where(self_, "is a public employee", "lives with a public employee")
    return finding_rows(
        county_code=per["county_code"].to_numpy(),
        township_code=per["division_code"].to_numpy(),
        entity_id=ids.to_numpy(),
        amount_yuan=amount,
        description_zh="救助对象 " + text(ids) + "（户 " + text(per["household_id"]) + "）" + pd.Series(zh),
        description_en="person "
        + text(ids)
        + " (household "
        + text(per["household_id"])
        + ") "
        + pd.Series(en),
        evidence=evidence,
    )


@rule(
    "F7",
    title_zh="一个银行账户接收多户救助金",
    title_en="One bank account receiving payments for several households",
    severity="medium",
    entity_type="account",
    requires=("relief_payments",),
    basis_zh=f"{_INTERIM}（救助金直接发放到救助对象账户）",
    basis_en=f"{_INTERIM_EN} (relief is paid into the recipient's own account)",
    recommendation_zh="核实账户实际持有人，改为发放至救助对象本人账户，查明资金去向。",
    recommendation_en="Find the account's holder; pay into each recipient's own account; trace the money.",
)
def shared_account(t: Tables, p: Params) -> pd.DataFrame:
    """Accounts that received payments for two or more households."""
    pay = t["relief_payments"]
    account = group_keys(pay, ["bank_account"])
    pair = group_keys(pay, ["bank_account", "household_id"])
    _, first = np.unique(pair, return_index=True)  # one row per distinct (account, household)
    shared = np.bincount(account[first], minlength=account.max(initial=-1) + 1) > 1
    if not shared.any():
        return no_findings()
    f = pay.loc[shared[account]]
    per = f.groupby("bank_account", sort=True)
    total = pd.Series(fen(f["amount_yuan"]), index=f.index).groupby(f["bank_account"], sort=True).sum()
    households = per["household_id"].agg(lambda s: sorted(set(s)))
    county = per["county_code"].first()
    cited = grouped_sources(
        f.sort_values(["bank_account", "paid_on", "payment_id"]), "relief_payments", "bank_account"
    )
    accounts = total.index.to_series()
    evidence = [
        {
            "bank_account": a,
            "household_ids": households[a],
            "payments": int(n),
            "paid_yuan": v / 100,
            "source": cited[a],
        }
        for a, n, v in zip(accounts, per.size(), total, strict=True)
    ]
    n_hh = households.map(len)
    return finding_rows(
        county_code=county.to_numpy(),
        entity_id=accounts.to_numpy(),
        amount_yuan=total.to_numpy() / 100,
        description_zh="银行账户 "
        + text(accounts)
        + " 接收 "
        + text(n_hh)
        + " 户救助金，共 "
        + yuan(total.to_numpy() / 100)
        + " 元",
        description_en="account "
        + text(accounts)
        + " received relief for "
        + text(n_hh)
        + " households, "
        + yuan(total.to_numpy() / 100)
        + " yuan",
        evidence=evidence,
    )


@shared_account.part("city")
def shared_account_across_counties(t: Tables, p: Params) -> pd.DataFrame:
    """City part: accounts paid for households of two or more counties; a row for each county involved."""
    pay = t["relief_payments"]
    pair = group_keys(pay, ["bank_account", "county_code"])
    _, first = np.unique(pair, return_index=True)  # one row per distinct (account, county)
    account = group_keys(pay, ["bank_account"])
    spread = np.bincount(account[first], minlength=account.max(initial=-1) + 1) > 1
    if not spread.any():
        return no_findings()
    f = pay.loc[spread[account]]
    households = f.groupby("bank_account", sort=True)["household_id"].agg(lambda s: sorted(set(s)))
    f = f.loc[f["bank_account"].map(households.map(len)).to_numpy() > 1]  # one household: not shared
    if f.empty:
        return no_findings()
    households = households.reindex(sorted(set(f["bank_account"])))
    counties = f.groupby("bank_account", sort=True)["county_code"].agg(lambda s: sorted(set(s)))
    keys = [f["bank_account"], f["county_code"]]
    total = pd.Series(fen(f["amount_yuan"]), index=f.index).groupby(keys, sort=True).sum()
    size = f.groupby(keys, sort=True).size()
    cited = grouped_sources(
        f.sort_values(["bank_account", "paid_on", "payment_id"]), "relief_payments", "bank_account"
    )
    accounts = total.index.get_level_values(0)
    where = total.index.get_level_values(1)
    listed_zh = ["、".join(counties[a]) for a in accounts]
    listed_en = [", ".join(counties[a]) for a in accounts]
    n_hh = [len(households[a]) for a in accounts]
    return finding_rows(
        county_code=where.to_numpy(),
        entity_id=accounts.to_numpy(),
        amount_yuan=total.to_numpy() / 100,
        cross_county=True,
        description_zh="银行账户 "
        + text(pd.Series(accounts))
        + " 接收 "
        + text(pd.Series(listed_zh))
        + " 共 "
        + text(pd.Series(n_hh))
        + " 户救助金，本县（区）"
        + yuan(total.to_numpy() / 100)
        + " 元",
        description_en="account "
        + text(pd.Series(accounts))
        + " received relief for "
        + text(pd.Series(n_hh))
        + " households in counties "
        + text(pd.Series(listed_en))
        + "; "
        + yuan(total.to_numpy() / 100)
        + " yuan in this county",
        evidence=[
            {
                "bank_account": a,
                "household_ids": households[a],
                "counties": counties[a],
                "payments": int(n),
                "paid_yuan": v / 100,
                "source": cited[a],
            }
            for a, n, v in zip(accounts, size, total, strict=True)
        ],
    )


@rule(
    "F8",
    title_zh="救助金未按时发放",
    title_en="Payment made after the deadline",
    severity="low",
    entity_type="payment",
    requires=("relief_payments",),
    basis_zh=f"{_INTERIM}（按月足额发放）",
    basis_en=f"{_INTERIM_EN} (paid in full every month)",
    recommendation_zh="规范发放流程，确保救助金在次月规定日期前发放到位。",
    recommendation_en="Fix the payment schedule so relief is paid by the deadline of the following month.",
)
def paid_late(t: Tables, p: Params) -> pd.DataFrame:
    """Payments made after the deadline day of the month following their period."""
    pay = t["relief_payments"]
    deadline = deadlines(pay["period"], p.relief.payment_deadline_day)
    hit = (pay["paid_on"] > deadline).to_numpy(dtype=bool, na_value=False)
    if not hit.any():
        return no_findings()
    f = pay.loc[hit].reset_index(drop=True)
    due = deadline.loc[hit].reset_index(drop=True)
    late = (f["paid_on"] - due).dt.days
    return _payment_findings(
        f,
        [{"deadline": a, "days_late": int(b)} for a, b in zip(due, late, strict=True)],
        "发放 "
        + text(f["payment_id"])
        + "（所属期 "
        + text(f["period"])
        + "）于 "
        + text(f["paid_on"])
        + " 发放，晚于 "
        + text(due),
        "payment "
        + text(f["payment_id"])
        + " for "
        + text(f["period"])
        + " paid on "
        + text(f["paid_on"])
        + ", after the deadline "
        + text(due),
    )


@rule(
    "F9",
    title_zh="名册人数与公布数据不符",
    title_en="Roll totals differ from the published statistics",
    severity="medium",
    entity_type="programme",
    requires=("beneficiaries",),
    scope="city",
    basis_zh="{statistics}；{relief_rules}（信息公开）",
    basis_en="{statistics}; {relief_rules} (publication)",
    recommendation_zh="核对名册与统计报表，查明差异原因并更正名册或公布数据。",
    recommendation_en="Reconcile the roll with the statistics; correct whichever is wrong.",
)
def roll_vs_published(t: Tables, p: Params) -> pd.DataFrame:
    """Per programme, distinct households and persons on the roll against the published figures."""
    roll = t["beneficiaries"]
    as_of = p.relief.published_statistics_as_of
    if as_of is not None:
        day = pd.Timestamp(as_of)
        roll = roll.loc[
            (roll["enrolled_on"] <= day) & (roll["exited_on"].isna() | (roll["exited_on"] >= day))
        ]
    per = roll.groupby("programme").agg(
        households=("household_id", "nunique"), persons=("person_id", "nunique")
    )
    by_county = roll.groupby(["programme", "county_code"])["person_id"].nunique()
    rows = []
    for programme, published in p.relief.published_statistics.items():
        counted = {
            "households": int(per["households"].get(programme, 0)),
            "persons": int(per["persons"].get(programme, 0)),
        }
        differ = {
            k: (counted[k], getattr(published, k))
            for k in ("households", "persons")
            if getattr(published, k) is not None and counted[k] != getattr(published, k)
        }
        if differ:
            rows.append((programme, counted, published, differ))
    if not rows:
        return no_findings()
    rows.sort(key=lambda r: PROGRAMMES.index(r[0]))
    zh_k = {"households": "户数", "persons": "人数"}
    en_k = {"households": "households", "persons": "persons"}
    return finding_rows(
        county_code=p.city_code,
        entity_id=[r[0] for r in rows],
        description_zh=[
            f"{r[0]}：名册" + "，".join(f"{zh_k[k]} {a}（公布 {b}）" for k, (a, b) in r[3].items())
            for r in rows
        ],
        description_en=[
            f"{r[0]}: roll has " + ", ".join(f"{a} {en_k[k]} ({b} published)" for k, (a, b) in r[3].items())
            for r in rows
        ],
        evidence=[
            {
                "programme": r[0],
                "roll": r[1],
                "published": r[2].model_dump(exclude_none=True),
                "as_of": as_of,
                "persons_by_county": {c: int(n) for c, n in by_county.get(r[0], pd.Series()).items()},
            }
            for r in rows
        ],
    )


@rule(
    "F10",
    title_zh="救助金发放与专项资金下达不匹配",
    title_en="Relief payments above the special-fund allocation, or the allocation left unspent",
    severity="medium",
    entity_type="county",
    requires=("relief_payments", "fund_allocations"),
    basis_zh="社会救助专项资金下达文件；" + _INTERIM,
    basis_en="The special-fund allocation documents; " + _INTERIM_EN,
    recommendation_zh="超支部分查明资金来源；结余资金按规定及时发放或上缴，不得滞留。",
    recommendation_en="Find the source of any overspend; pay out or return unspent funds, never hold them.",
)
def relief_vs_allocation(t: Tables, p: Params) -> pd.DataFrame:
    """The county's relief paid for the audit year against its special-fund relief allocation."""
    pay, alloc = t["relief_payments"], t["fund_allocations"]
    county = t.county if t.county is not None else p.city_code
    year = pay["period"].str.slice(0, 4) == str(p.audit_year)
    paid = int(fen(pay.loc[year.to_numpy(dtype=bool, na_value=False), "amount_yuan"]).sum())
    relief = alloc.loc[(alloc["fund"] == SPECIAL_FUND) & (alloc["purpose"] == RELIEF)]
    allocated = int(fen(relief["amount_yuan"]).sum())
    share = p.relief.unspent_allocation_tolerance_share
    allowed = int((Decimal(allocated) * Decimal(str(share))).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    evidence = {
        "county_code": county,
        "paid_yuan": paid / 100,
        "allocated_yuan": allocated / 100,
        "tolerance_share": str(share),
        "allocations": sorted(relief["allocation_id"].tolist()),
    }
    if paid > allocated:
        over = paid - allocated
        zh = f"县（区）{county} 发放救助金 {paid / 100:,.2f} 元，超过专项资金下达 {allocated / 100:,.2f} 元"
        en = f"county {county}: relief paid {paid / 100:,.2f} yuan, above {allocated / 100:,.2f} allocated"
        evidence["problem"] = "paid_above_allocation"
    elif allocated - paid > allowed:
        over = allocated - paid
        zh = f"县（区）{county} 专项资金救助金结余 {over / 100:,.2f} 元，超过下达额的 {share:.0%}"
        en = f"county {county}: {over / 100:,.2f} yuan of the relief allocation unspent, over {share:.0%}"
        evidence["problem"] = "allocation_unspent"
    else:
        return no_findings()
    return finding_rows(
        county_code=[county],
        entity_id=[county],
        amount_yuan=[over / 100],
        description_zh=[zh],
        description_en=[en],
        evidence=[evidence],
    )


_BENFORD = np.log10(1 + 1 / np.arange(1, 10))


def first_digits(amount_fen: np.ndarray) -> np.ndarray:
    """Leading digit (1-9) of positive whole amounts, with integer arithmetic (no log rounding slips)."""
    x = amount_fen[amount_fen > 0]
    power = (10 ** np.floor(np.log10(x)).astype("int64")).astype("int64")
    power = np.where(power > x, power // 10, power)
    power = np.where(power * 10 <= x, power * 10, power)
    return x // power


@rule(
    "F11",
    title_zh="发放金额偏离本福特定律或集中于整数",
    title_en="Payment amounts departing from Benford's law or clustering on round numbers",
    severity="info",
    entity_type="county",
    requires=("relief_payments",),
    basis_zh="审计分析性复核（本福特定律首位数字检验，Nigrini MAD）",
    basis_en="Analytical review (Benford first-digit test, Nigrini's MAD)",
    recommendation_zh="抽查金额分布异常的发放记录，核实金额计算依据。",
    recommendation_en="Sample the payments behind the unusual pattern and check how the amounts were set.",
)
def amounts_unusual(t: Tables, p: Params) -> pd.DataFrame:
    """First-digit MAD above its threshold, or too many round amounts (with enough payments)."""
    pay = t["relief_payments"]
    county = t.county if t.county is not None else p.city_code
    amounts = fen(pay["amount_yuan"])
    amounts = amounts[amounts > 0]
    n, need = len(amounts), p.relief.benford_min_payments
    if n < need:
        raise NotRun(
            f"未运行：发放记录 {n} 条，少于所需的 {need} 条",
            f"not run: {n} payments, fewer than the {need} needed",
        )
    observed = np.bincount(first_digits(amounts), minlength=10)[1:] / n
    mad = float(np.abs(observed - _BENFORD).mean())
    round_share = float((amounts % fen_of(p.relief.round_amount_unit_yuan) == 0).mean())
    mad_hit = mad > p.relief.benford_mad_threshold
    round_hit = round_share > p.relief.round_amount_share_threshold
    if not (mad_hit or round_hit):
        return no_findings()
    problems = [k for k, v in (("benford_mad", mad_hit), ("round_amounts", round_hit)) if v]
    evidence = {
        "county_code": county,
        "payments": n,
        "mad": f"{mad:.6f}",
        "mad_threshold": str(p.relief.benford_mad_threshold),
        "round_share": f"{round_share:.6f}",
        "round_share_threshold": str(p.relief.round_amount_share_threshold),
        "first_digit_shares": {str(d): f"{s:.6f}" for d, s in enumerate(observed, start=1)},
        "problems": problems,
    }
    zh = "；".join(
        ([f"首位数字偏离本福特定律（MAD {mad:.4f}）"] if mad_hit else [])
        + ([f"整数金额占 {round_share:.1%}"] if round_hit else [])
    )
    en = "; ".join(
        ([f"first digits depart from Benford (MAD {mad:.4f})"] if mad_hit else [])
        + ([f"{round_share:.1%} of amounts are round"] if round_hit else [])
    )
    return finding_rows(
        county_code=[county],
        entity_id=[county],
        description_zh=[f"县（区）{county}：{zh}"],
        description_en=[f"county {county}: {en}"],
        evidence=[evidence],
    )
