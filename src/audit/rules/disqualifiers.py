"""Rules F12-F17: the roll joined with other departments' data (assets, income, relatives, programmes).

Relief-fund audits find most of their money by joining the roll with the lists an auditor
brings from other departments (optional reference tables of the contract). Each rule here
needs its list; without it the rule says "not run: no … supplied". Thresholds come from the
parameters file (``relief.assets``, ``relief.income``, ``relief.exclusive_programmes``); a
rule whose block is absent says "not run" rather than invent one.

Interpretations (they fix what the demo's answer key expects):

- "While enrolled": an asset, pension or contribution counts when it was registered (or
  began) on or before the last day of the member's enrolment (exited_on; still enrolled:
  any day). The lists give no disposal date, so an asset registered before enrolment is
  still held.
- F12-F15 are per household (entity ``household``, the roll's household_id); the amount at
  stake is the relief paid to the household (relief_payments, when supplied) for periods
  whose last day is on or after the day the household first went over the threshold.
- F12: a vehicle worth more than ``vehicle_value_yuan``.
- F13: the registered floor area of the household's members, per member of household_size,
  above ``real_estate_m2_per_person``; the day it went over is the registration that took
  the running total over.
- F14: a registration in one of ``business_roles`` with capital above ``business_capital_yuan``.
- F15: members' monthly pensions plus ``housing_fund_base_share`` of their housing-fund
  contribution bases, per member of household_size, above the programme's monthly standard
  (urban in a street office 街道, rural in a township or town), compared in units of
  amount_tolerance_yuan; programmes without a standard (孤儿) are not compared.
- F16: a person on the roll who is a case worker or committee member, lives in one's
  household (the roll's household_id, or case_workers.household_id), or is their relative in
  the ``relatives`` list (either direction), with no relatives_filed row for that worker and
  person. Entity ``person``; the amount is everything paid to the person.
- F17: a person paid for the same month under two programmes of one group of
  ``exclusive_programmes``, one of them from other_programmes (two programmes of the roll at
  once are F4's). Entity ``person``; the amount is what other_programmes paid for those months.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from audit.params import Params
from audit.rules.evidence import finding_rows, no_findings, records, sources, text, yuan
from audit.rules.measures import fen, fen_of, group_keys, in_units, month_bounds, within
from audit.rules.registry import NotRun, Outcome, rule
from audit.rules.tables import Tables, missing_reason

# The documents are quoted from the parameters file's ``sources`` (Rule.texts fills them in).
_INTERIM = _INTERIM_EN = "{relief_rules}"
_DIBAO_RULES = _DIBAO_RULES_EN = "{dibao_rules}"
_NEVER = pd.Timestamp("2262-04-11")  # enrolment without an exit: any day counts
URBAN_KINDS = ("街道",)
RURAL_KINDS = ("乡", "镇")


def _assets(p: Params):
    if p.relief.assets is None:
        raise NotRun(
            "未运行：参数文件中无资产认定标准（relief.assets）",
            "not run: no asset thresholds in the parameters file (relief.assets)",
        )
    return p.relief.assets


def _members(roll: pd.DataFrame, persons: pd.Series) -> pd.DataFrame:
    """Roll rows of ``persons`` with the last day of each enrolment (``until``)."""
    cols = ["person_id", "name", "household_id", "division_code", "county_code", "household_size"]
    rows = roll.loc[within(roll["person_id"], persons), [*cols, "exited_on"]]
    until = rows["exited_on"].astype("datetime64[us]").fillna(_NEVER)
    return rows[cols].assign(until=until.to_numpy())


def _paid_since(pay: pd.DataFrame | None, since: pd.Series) -> pd.Series | None:
    """Fen paid per household (index of ``since``) for periods ending on or after its day."""
    if pay is None:
        return None
    mine = pay.loc[within(pay["household_id"], since.index)]
    _, end = month_bounds(mine["period"])
    ok = (end.to_numpy() >= mine["household_id"].map(since).to_numpy()).astype(bool)
    paid = pd.Series(fen(mine["amount_yuan"])[ok]).groupby(mine["household_id"].to_numpy()[ok]).sum()
    return paid.reindex(since.index).fillna(0).astype("int64")


def _household_findings(
    t: Tables,
    hits: pd.DataFrame,
    table: str,
    columns: list[str],
    since: pd.Series,
    zh: Callable[[pd.Series], pd.Series],
    en: Callable[[pd.Series], pd.Series],
    extra: dict[str, dict] | None = None,
) -> pd.DataFrame:
    """One finding per household: ``hits`` are the list's rows (with household_id) behind it."""
    if hits.empty:
        return no_findings()
    hits = hits.sort_values(["household_id", "person_id", *columns], kind="mergesort")
    cited = sources(hits, table)
    items: dict[str, list[dict]] = {}
    for h, r, s in zip(hits["household_id"], records(hits, ["person_id", *columns]), cited, strict=True):
        items.setdefault(h, []).append({**r, "source": s})
    first = hits.groupby("household_id", sort=True).first()
    households = first.index.to_series()
    since = since.reindex(households.index)
    paid = _paid_since(t.get("relief_payments"), since)
    amount = np.full(len(households), np.nan) if paid is None else paid.to_numpy() / 100
    evidence = [
        {
            "household_id": h,
            "household_size": int(first.at[h, "household_size"]),
            "over_since": since[h],
            "items": items[h],
            **({"paid_since_yuan": a} if paid is not None else {}),
            **((extra or {}).get(h, {})),
        }
        for h, a in zip(households, amount, strict=True)
    ]
    return finding_rows(
        county_code=first["county_code"].to_numpy(),
        township_code=first["division_code"].to_numpy(),
        entity_id=households.to_numpy(),
        amount_yuan=amount,
        description_zh="户 " + text(households) + "：" + zh(households),
        description_en="household " + text(households) + ": " + en(households),
        evidence=evidence,
    )


def _counted(t: Tables, table: str, since_col: str) -> pd.DataFrame:
    """The list's rows of people on the roll, registered while they were enrolled, with their household."""
    listed, roll = t[table], t["beneficiaries"]
    members = _members(roll, listed["person_id"])
    m = listed.merge(members, on="person_id", how="inner", sort=False)
    m = m.loc[(m[since_col] <= m["until"]).to_numpy(dtype=bool, na_value=False)]
    # a person enrolled twice (F4's finding) counts once per household
    return m.drop_duplicates([*listed.columns.intersection(m.columns), "household_id"])


_ASSET_BASIS_ZH = f"{_DIBAO_RULES}（家庭财产状况认定）；{_INTERIM}"
_ASSET_BASIS_EN = f"{_DIBAO_RULES_EN} (household assets); {_INTERIM_EN}"
_ASSET_ADVICE_ZH = "核实家庭财产状况，不符合条件的停发并追回资金，对经办审核责任进行追究。"
_ASSET_ADVICE_EN = (
    "Verify the household's assets; stop and recover payments if ineligible; review who approved it."
)


@rule(
    "F12",
    title_zh="救助家庭名下有超标准车辆",
    title_en="Household on the roll holding a vehicle above the threshold",
    severity="high",
    entity_type="household",
    requires=("beneficiaries", "vehicles"),
    optional=("relief_payments",),
    basis_zh=_ASSET_BASIS_ZH,
    basis_en=_ASSET_BASIS_EN,
    recommendation_zh=_ASSET_ADVICE_ZH,
    recommendation_en=_ASSET_ADVICE_EN,
)
def vehicle_held(t: Tables, p: Params) -> pd.DataFrame:
    """Households with a member's vehicle worth more than the threshold, registered while enrolled."""
    limit = fen_of(_assets(p).vehicle_value_yuan)
    m = _counted(t, "vehicles", "registered_on")
    m = m.loc[fen(m["value_yuan"]) > limit]
    since = m.groupby("household_id")["registered_on"].min()
    total = pd.Series(fen(m["value_yuan"]), index=m.index).groupby(m["household_id"]).sum() / 100
    return _household_findings(
        t,
        m,
        "vehicles",
        ["plate", "registered_on", "value_yuan"],
        since,
        lambda h: "名下车辆价值 " + yuan(total.reindex(h).to_numpy()) + " 元，超过认定标准",
        lambda h: "holds vehicles worth " + yuan(total.reindex(h).to_numpy()) + " yuan, above the threshold",
    )


@rule(
    "F13",
    title_zh="救助家庭人均不动产面积超标准",
    title_en="Household on the roll with real estate above the area per person",
    severity="high",
    entity_type="household",
    requires=("beneficiaries", "real_estate"),
    optional=("relief_payments",),
    basis_zh=_ASSET_BASIS_ZH,
    basis_en=_ASSET_BASIS_EN,
    recommendation_zh=_ASSET_ADVICE_ZH,
    recommendation_en=_ASSET_ADVICE_EN,
)
def real_estate_held(t: Tables, p: Params) -> pd.DataFrame:
    """Households whose members' registered floor area per person is above the threshold."""
    per_person = _assets(p).real_estate_m2_per_person
    m = _counted(t, "real_estate", "registered_on").sort_values(
        ["household_id", "registered_on", "person_id", "area_m2"], kind="mergesort"
    )
    size = m.groupby("household_id")["household_size"].transform("max").clip(lower=1)
    # compared in hundredths of a m² so 120.00 m² for two is not "above" 60 by a float's error
    running = np.rint(m["area_m2"].to_numpy() * 100).astype("int64")
    running = pd.Series(running, index=m.index).groupby(m["household_id"]).cumsum()
    over = running.to_numpy() > np.rint(per_person * 100) * size.to_numpy()
    crossed = m.loc[over].groupby("household_id")["registered_on"].min()
    m = m.loc[within(m["household_id"], crossed.index)]
    area = (
        pd.Series(np.rint(m["area_m2"].to_numpy() * 100), index=m.index).groupby(m["household_id"]).sum()
    ) / 100
    size_of = m.groupby("household_id")["household_size"].max()
    extra = {
        h: {"area_m2": f"{area[h]:.2f}", "m2_per_person": f"{area[h] / max(int(size_of[h]), 1):.2f}"}
        for h in crossed.index
    }
    return _household_findings(
        t,
        m,
        "real_estate",
        ["area_m2", "registered_on"],
        crossed,
        lambda h: "名下不动产 " + pd.Series([extra[x]["area_m2"] for x in h]) + " 平方米，人均超过认定标准",
        lambda h: (
            pd.Series([extra[x]["area_m2"] for x in h]) + " m² of real estate, above the area per person"
        ),
        extra,
    )


@rule(
    "F14",
    title_zh="救助家庭成员登记有工商企业",
    title_en="Household on the roll with a member registered in a business",
    severity="high",
    entity_type="household",
    requires=("beneficiaries", "business_registrations"),
    optional=("relief_payments",),
    basis_zh=_ASSET_BASIS_ZH,
    basis_en=_ASSET_BASIS_EN,
    recommendation_zh="核实企业经营和收入情况，不符合条件的停发并追回资金。",
    recommendation_en="Verify the business and its income; stop and recover payments if ineligible.",
)
def business_registered(t: Tables, p: Params) -> pd.DataFrame:
    """Households with a member registered as legal representative, shareholder or sole trader."""
    a = _assets(p)
    m = _counted(t, "business_registrations", "registered_on")
    m = m.loc[m["role"].isin(a.business_roles).to_numpy(dtype=bool, na_value=False)]
    m = m.loc[fen(m["capital_yuan"]) > fen_of(a.business_capital_yuan)]
    since = m.groupby("household_id")["registered_on"].min()
    roles = m.groupby("household_id")["role"].agg(lambda s: "、".join(sorted(set(s))))
    return _household_findings(
        t,
        m,
        "business_registrations",
        ["role", "registered_on", "capital_yuan"],
        since,
        lambda h: "家庭成员登记为" + pd.Series(roles.reindex(h).to_numpy()),
        lambda h: "a member is registered as " + pd.Series(roles.reindex(h).to_numpy()),
    )


@rule(
    "F15",
    title_zh="养老金或公积金收入超过保障标准",
    title_en="Household whose pension or housing-fund income is above the standard",
    severity="high",
    entity_type="household",
    requires=("beneficiaries", "divisions"),
    optional=("pensions", "housing_fund", "relief_payments"),
    basis_zh=f"{_DIBAO_RULES}（家庭收入核算）；{_INTERIM}",
    basis_en=f"{_DIBAO_RULES_EN} (household income); {_INTERIM_EN}",
    recommendation_zh="重新核算家庭收入，收入超过保障标准的停发并追回资金。",
    recommendation_en="Recompute the household's income; stop and recover payments where it is above "
    "the standard.",
)
def income_above_standard(t: Tables, p: Params) -> Outcome:
    """Households whose members' pensions and contribution bases per person exceed the standard."""
    if p.relief.income is None:
        raise NotRun(
            "未运行：参数文件中无收入核算参数（relief.income）",
            "not run: no income parameters in the parameters file (relief.income)",
        )
    lists = {"pensions": "monthly_yuan", "housing_fund": "monthly_base_yuan"}
    missing = t.missing(tuple(lists))
    if len(missing) == len(lists):
        raise NotRun(*missing_reason(missing))
    notes_zh, notes_en = [], []
    parts = []
    share = p.relief.income.housing_fund_base_share
    for table, column in lists.items():
        if table in missing:
            zh, en = missing_reason((table,))
            notes_zh.append(zh)
            notes_en.append(en)
            continue
        m = _counted(t, table, "from")
        monthly = fen(m[column])
        if table == "housing_fund":
            monthly = np.rint(monthly * share).astype("int64")
        parts.append(m.assign(list=table, income_fen=monthly, monthly_yuan=m[column]))
    m = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
    if m.empty:
        return Outcome(no_findings(), tuple(notes_zh), tuple(notes_en))
    roll, d = t["beneficiaries"], t["divisions"]
    prog = roll.drop_duplicates("household_id").set_index("household_id")
    kind = prog["division_code"].map(d.drop_duplicates("division_code").set_index("division_code")["kind"])
    standard = {}
    for name, s in p.relief.standards.items():
        standard[(name, "urban")] = fen_of(s.urban.monthly_yuan)
        standard[(name, "rural")] = fen_of(s.rural.monthly_yuan)
    area = np.select([kind.isin(URBAN_KINDS), kind.isin(RURAL_KINDS)], ["urban", "rural"], "")
    std = pd.Series(
        [standard.get((g, a), -1) for g, a in zip(prog["programme"], area, strict=True)], index=prog.index
    )
    m = m.assign(standard_fen=m["household_id"].map(std).to_numpy())
    m = m.loc[m["standard_fen"] >= 0].sort_values(
        ["household_id", "from", "person_id", "list"], kind="mergesort"
    )
    if m.empty:
        return Outcome(no_findings(), tuple(notes_zh), tuple(notes_en))
    size = m.groupby("household_id")["household_size"].transform("max").clip(lower=1).to_numpy()
    running = (
        pd.Series(m["income_fen"].to_numpy(), index=m.index).groupby(m["household_id"]).cumsum().to_numpy()
    )
    unit = fen_of(p.relief.amount_tolerance_yuan)
    # income per person against the standard: compare running total with standard x size
    over = in_units(running, unit) > in_units(m["standard_fen"].to_numpy() * size, unit)
    crossed = m.loc[over].groupby("household_id")["from"].min()
    m = m.loc[within(m["household_id"], crossed.index)]
    total = m.groupby("household_id")["income_fen"].sum()
    size_of = m.groupby("household_id")["household_size"].max().clip(lower=1)
    stand = m.groupby("household_id")["standard_fen"].first()
    extra = {
        h: {
            "monthly_income_yuan": total[h] / 100,
            "per_person_yuan": round(total[h] / int(size_of[h])) / 100,
            "monthly_standard_yuan": stand[h] / 100,
            "housing_fund_base_share": str(share),
        }
        for h in crossed.index
    }
    findings = _household_findings(
        t,
        m.rename(columns={"list": "source_list"}),
        "pensions",
        ["source_list", "monthly_yuan", "from"],
        crossed,
        lambda h: (
            "养老金、公积金月收入人均 "
            + yuan([extra[x]["per_person_yuan"] for x in h])
            + " 元，超过保障标准 "
            + yuan([extra[x]["monthly_standard_yuan"] for x in h])
            + " 元"
        ),
        lambda h: (
            "pension and housing-fund income of "
            + yuan([extra[x]["per_person_yuan"] for x in h])
            + " yuan a person a month, above the standard of "
            + yuan([extra[x]["monthly_standard_yuan"] for x in h])
        ),
        extra,
    )
    # the citation names the list each row came from, not only the first
    for ev in findings["evidence"]:
        for item in ev["items"]:
            item["source"]["table"] = item["source_list"]
    return Outcome(findings, tuple(notes_zh), tuple(notes_en))


@rule(
    "F16",
    title_zh="经办人员或村（居）委会成员近亲属享受救助未备案",
    title_en="Relative of a case worker or committee member on the roll without a filing (备案)",
    severity="medium",
    entity_type="person",
    requires=("beneficiaries", "case_workers", "relatives_filed"),
    optional=("relatives", "relief_payments"),
    basis_zh=f"{_DIBAO_RULES}（近亲属申请单独登记备案）",
    basis_en=f"{_DIBAO_RULES_EN} (applications by close relatives registered and filed separately)",
    recommendation_zh="补办近亲属备案，重新审核其救助资格，查明是否存在优亲厚友。",
    recommendation_en="File the relationship, review the person's eligibility again, and look for "
    "favouritism.",
)
def relative_unfiled(t: Tables, p: Params) -> pd.DataFrame:
    """People on the roll related to a case worker (household or relatives list) with no 备案 record."""
    roll, workers, filed = t["beneficiaries"], t["case_workers"], t["relatives_filed"]
    people = roll[["person_id", "household_id"]].drop_duplicates()
    links = []
    # the worker on the roll: self, and their household
    w_hh = people.merge(workers[["person_id"]].drop_duplicates(), on="person_id")
    w_hh = w_hh.rename(columns={"person_id": "worker_person_id"})
    if "household_id" in workers.columns:
        own = workers.loc[workers["household_id"].notna(), ["person_id", "household_id"]]
        w_hh = pd.concat([w_hh, own.rename(columns={"person_id": "worker_person_id"})], ignore_index=True)
    same = people.merge(w_hh.drop_duplicates(), on="household_id")
    same["relation"] = np.where(same["person_id"] == same["worker_person_id"], "本人", "同户")
    links.append(same[["person_id", "worker_person_id", "relation"]])
    rel = t.get("relatives")
    if rel is not None:
        ids = workers["person_id"].dropna()
        a = rel.loc[within(rel["person_id"], ids), ["relative_person_id", "person_id", "relation"]]
        a = a.set_axis(["person_id", "worker_person_id", "relation"], axis=1)
        b = rel.loc[within(rel["relative_person_id"], ids), ["person_id", "relative_person_id", "relation"]]
        b = b.set_axis(["person_id", "worker_person_id", "relation"], axis=1)
        links += [a, b]
    link = pd.concat(links, ignore_index=True)
    link = link.loc[within(link["person_id"], people["person_id"])]
    done = filed[["person_id", "worker_person_id"]].drop_duplicates().assign(_filed=True)
    link = link.merge(done, on=["person_id", "worker_person_id"], how="left")
    link = link.loc[link["_filed"].isna()].drop(columns="_filed")
    if link.empty:
        return no_findings()
    role = workers.drop_duplicates("person_id").set_index("person_id")
    link = link.drop_duplicates(["person_id", "worker_person_id", "relation"]).sort_values(
        ["person_id", "worker_person_id", "relation"]
    )
    link = link.assign(
        role=link["worker_person_id"].map(role["role"]).to_numpy(),
        worker_division=link["worker_person_id"].map(role["division_code"]).to_numpy(),
    )
    per = roll.loc[within(roll["person_id"], link["person_id"])].sort_values(["person_id", "programme"])
    per = per.groupby("person_id", sort=True).agg(
        name=("name", "first"),
        household_id=("household_id", "first"),
        division_code=("division_code", "first"),
        county_code=("county_code", "first"),
        programmes=("programme", lambda s: sorted(set(s))),
    )
    workers_of: dict[str, list[dict]] = {}
    for q, r in zip(
        link["person_id"],
        records(link, ["worker_person_id", "role", "worker_division", "relation"]),
        strict=True,
    ):
        workers_of.setdefault(q, []).append(r)
    pay = t.get("relief_payments")
    amount = np.full(len(per), np.nan)
    if pay is not None:
        mine = pay.loc[within(pay["person_id"], per.index)]
        paid = pd.Series(fen(mine["amount_yuan"]), index=mine.index).groupby(mine["person_id"]).sum()
        amount = paid.reindex(per.index).fillna(0).to_numpy() / 100
    ids = per.index.to_series()
    n = ids.map(lambda q: len(workers_of[q]))
    return finding_rows(
        county_code=per["county_code"].to_numpy(),
        township_code=per["division_code"].to_numpy(),
        entity_id=ids.to_numpy(),
        amount_yuan=amount,
        description_zh="救助对象 "
        + text(ids)
        + " 与 "
        + text(n)
        + " 名经办人员或村（居）委会成员有亲属关系，未备案",
        description_en="person "
        + text(ids)
        + " is related to "
        + text(n)
        + " case worker(s) or committee member(s), not filed",
        evidence=[
            {
                "person_id": q,
                "name": r.name,
                "household_id": r.household_id,
                "programmes": r.programmes,
                "workers": workers_of[q],
            }
            for q, r in zip(ids, per.itertuples(), strict=True)
        ],
    )


@rule(
    "F17",
    title_zh="同一人同期享受相互排斥的救助项目",
    title_en="The same person paid for the same month under programmes that exclude each other",
    severity="high",
    entity_type="person",
    requires=("relief_payments", "other_programmes"),
    optional=("beneficiaries",),
    basis_zh=f"{_INTERIM}；参数文件所列互斥救助项目（relief.exclusive_programmes）",
    basis_en=f"{_INTERIM_EN}; the exclusive programmes of the parameters file (relief.exclusive_programmes)",
    recommendation_zh="核实救助项目衔接，停发重复项目并追回重复发放的资金。",
    recommendation_en="Check how the programmes fit together; stop the duplicate programme and recover it.",
)
def exclusive_programmes(t: Tables, p: Params) -> pd.DataFrame:
    """People paid for one month by two programmes of a group, one of them another department's."""
    groups = p.relief.exclusive_programmes
    if not groups:
        raise NotRun(
            "未运行：参数文件未列出互斥救助项目（relief.exclusive_programmes）",
            "not run: no exclusive programmes in the parameters file (relief.exclusive_programmes)",
        )
    pay, other = t["relief_payments"], t["other_programmes"]
    named = sorted({x for g in groups for x in g})
    other = other.loc[within(other["programme"], named) & within(other["person_id"], pay["person_id"])]
    if other.empty:
        return no_findings()
    ours = pay.loc[within(pay["person_id"], other["person_id"]) & within(pay["programme"], named)]
    cols = ["person_id", "programme", "period", "amount_yuan"]
    both = pd.concat(
        [ours[cols].assign(list="relief_payments"), other[cols].assign(list="other_programmes")],
        ignore_index=True,
    )
    both["_key"] = group_keys(both, ["person_id", "period"])
    both["_other"] = (both["list"] == "other_programmes").to_numpy()
    hits = []
    for g, members in enumerate(groups):
        rows = both.loc[within(both["programme"], list(members))]
        per = rows.groupby("_key")
        clash = (per["programme"].transform("nunique") > 1) & per["_other"].transform("max").astype(bool)
        hits.append(rows.loc[clash.to_numpy(dtype=bool)].assign(group=g))
    hit = pd.concat(hits, ignore_index=True).drop(columns=["_key", "_other"])
    if hit.empty:
        return no_findings()
    hit = hit.sort_values(["person_id", "period", "list", "programme"], kind="mergesort")
    county = t.county if t.county is not None else p.city_code
    extra = hit.loc[hit["list"] == "other_programmes"].drop_duplicates(["person_id", "programme", "period"])
    amount = pd.Series(fen(extra["amount_yuan"]), index=extra.index).groupby(extra["person_id"]).sum()
    persons = pd.Index(sorted(hit["person_id"].unique()))
    roll = t.get("beneficiaries")
    info = (
        roll.drop_duplicates("person_id").set_index("person_id").reindex(persons)
        if roll is not None
        else pd.DataFrame(index=persons, columns=["name", "household_id", "division_code"])
    )
    shown = hit.drop_duplicates(["person_id", "programme", "period", "list"])
    paid_by: dict[str, list[dict]] = {}
    for q, r in zip(
        shown["person_id"], records(shown, ["period", "programme", "list", "amount_yuan"]), strict=True
    ):
        paid_by.setdefault(q, []).append(r)
    months = hit.groupby("person_id")["period"].nunique().reindex(persons)
    ids = pd.Series(persons, dtype="str")
    return finding_rows(
        county_code=county,
        township_code=info["division_code"].to_numpy(),
        entity_id=ids,
        amount_yuan=amount.reindex(persons).fillna(0).to_numpy() / 100,
        description_zh="救助对象 "
        + ids
        + " 有 "
        + text(months.to_numpy())
        + " 个月同时享受相互排斥的救助项目",
        description_en="person "
        + ids
        + " paid by programmes that exclude each other for "
        + text(months.to_numpy())
        + " month(s)",
        evidence=[
            {
                "person_id": q,
                "name": info.at[q, "name"],
                "household_id": info.at[q, "household_id"],
                "payments": paid_by[q],
            }
            for q in persons
        ],
    )
