"""Rules C1-C9: the purchased-service contracts and how they are funded and paid.

Interpretations (they fix what the demo's answer key expects):

- C2: the term is counted in days, first and last day included (2020-01-01 to 2020-12-31 is
  366 days); "outside the audit year" is any service day before 1 January or after
  31 December of it.
- C3: expected amount = positions x unit cost x months of service / 12, the months being the
  calendar months the service touches (the whole of 2020 is 12); rows with end before start
  are left to C2.
- C4: a county's share is one position per township office in the division register, at the
  unit cost; the city bureau (540100) has no county share: the city-wide part compares the
  total of every contract with the approved budget.
- C6: the special fund's share of a county's purchase is its 社会救助专项资金 / 购买服务
  allocation; the county budget must cover the rest with 县级财政 / 购买服务 allocations.
- C7: over the months of the audit year, a position-month is filled when a staff member
  under the contract is in post on any day of it (partial months are the contractor's
  benefit of the doubt, unlike S1); the position-months paid are the month's 购买服务
  payments / (unit cost / 12), rounded.
- C8: paid more than the contract amount by more than the contract amount tolerance, so
  monthly payments rounded to the fen do not fire.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

import numpy as np
import pandas as pd

from audit.datacontract import TOWNSHIP_KINDS
from audit.identifiers import uscc_valid
from audit.params import Params
from audit.rules.evidence import finding_rows, grouped_sources, no_findings, records, sources, text, yuan
from audit.rules.measures import fen, fen_of, month_bounds, months_between, year_bounds
from audit.rules.registry import NotRun, Outcome, rule
from audit.rules.tables import Tables
from audit.vocabulary import COUNTY_BUDGET, PURCHASE, SPECIAL_FUND

# The documents are quoted from the parameters file's ``sources`` (Rule.texts fills them in).
_ORDER_102 = _ORDER_102_EN = "{purchase_rules}"
_PLAN = "{plan}"
_PLAN_EN = "{plan}, approved {plan_approved_on}"


def _share_fen(amount_fen: int, share: float) -> int:
    """``share`` of an amount in fen, exactly (decimal), rounded half up to the fen."""
    value = Decimal(amount_fen) * Decimal(str(share))
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _joined(flags: list[np.ndarray], labels: list[str], sep: str) -> list[str]:
    """Per row, the labels whose flag is set, joined (rows are findings: few)."""
    return [
        sep.join(lab for lab, on in zip(labels, row, strict=True) if on) for row in zip(*flags, strict=True)
    ]


@rule(
    "C1",
    title_zh="承接主体不符合条件",
    title_en="Contractor not eligible",
    severity="high",
    entity_type="contract",
    requires=("contracts",),
    basis_zh=f"{_PLAN}（承接主体为{{eligible_contractors}}）；{_ORDER_102}；GB 32100-2015",
    basis_en=f"{_PLAN_EN} (contractors: {{eligible_contractors}}); {_ORDER_102_EN}; GB 32100-2015",
    recommendation_zh="核实承接主体资质和登记情况；不符合条件的，依法解除合同并重新选定承接主体。",
    recommendation_en="Verify the contractor's type and registration; if ineligible, end the contract "
    "and choose an eligible contractor.",
)
def contractor_not_eligible(t: Tables, p: Params) -> pd.DataFrame:
    """Contractor of a type outside the eligible ones, with an invalid credit code, or registered late."""
    c = t["contracts"]
    bad_type = (~c["contractor_type"].isin(list(p.purchase.eligible_contractor_types))).to_numpy()
    bad_code = (~uscc_valid(c["contractor_uscc"])).to_numpy()
    late = (c["contractor_registered_on"] > c["signed_on"]).to_numpy(dtype=bool, na_value=False)
    hit = bad_type | bad_code | late
    if not hit.any():
        return no_findings()
    f = c.loc[hit].reset_index(drop=True)
    flags = [bad_type[hit], bad_code[hit], late[hit]]
    why_zh = _joined(flags, ["承接主体类型不符", "统一社会信用代码无效", "登记日期晚于签订日期"], "；")
    why_en = _joined(
        flags, ["ineligible contractor type", "invalid credit code", "registered after signing"], "; "
    )
    keys = _joined(flags, ["type", "credit_code", "registered_after_signing"], ",")
    evidence = [
        {**r, "problems": k.split(","), "source": s}
        for r, k, s in zip(
            records(
                f,
                [
                    "contract_id",
                    "contractor_name",
                    "contractor_type",
                    "contractor_uscc",
                    "contractor_registered_on",
                    "signed_on",
                ],
            ),
            keys,
            sources(f, "contracts"),
            strict=True,
        )
    ]
    return finding_rows(
        county_code=f["county_code"],
        entity_id=f["contract_id"],
        amount_yuan=f["amount_yuan"],
        description_zh="合同 "
        + text(f["contract_id"])
        + "（承接主体 "
        + text(f["contractor_name"])
        + "）："
        + pd.Series(why_zh),
        description_en="contract "
        + text(f["contract_id"])
        + ": contractor "
        + text(f["contractor_name"])
        + ": "
        + pd.Series(why_en),
        evidence=evidence,
    )


@rule(
    "C2",
    title_zh="合同日期不合规",
    title_en="Contract dates wrong",
    severity="medium",
    entity_type="contract",
    requires=("contracts",),
    basis_zh=f"{_ORDER_102}第十四条、第二十三条（先签合同后履约）、第二十四条（合同履行期限一般不超过1年）",
    basis_en=f"{_ORDER_102_EN} Art. 14 and 23 (no work before a written contract), Art. 24 (at most 1 year)",
    recommendation_zh="规范合同签订和履行期限，先签订合同再开展服务，期限不超过1年且与预算年度一致。",
    recommendation_en="Sign before service starts; keep the term within one year and within the budget year.",
)
def contract_dates_wrong(t: Tables, p: Params) -> pd.DataFrame:
    """Signed after service start, end before start, term over the maximum, or service outside the year."""
    c = t["contracts"]
    start, end = c["service_start"], c["service_end"]
    first, last = year_bounds(p.audit_year)
    term = ((end - start).dt.days + 1).to_numpy(dtype="float64", na_value=np.nan)
    signed_late = (c["signed_on"] > start).to_numpy(dtype=bool, na_value=False)
    reversed_ = (end < start).to_numpy(dtype=bool, na_value=False)
    too_long = np.nan_to_num(term, nan=0) > p.purchase.max_contract_term_days
    outside = ((start < first) | (end > last)).to_numpy(dtype=bool, na_value=False)
    hit = signed_late | reversed_ | too_long | outside
    if not hit.any():
        return no_findings()
    f = c.loc[hit].reset_index(drop=True)
    flags = [signed_late[hit], reversed_[hit], too_long[hit], outside[hit]]
    year = p.audit_year
    why_zh = _joined(
        flags,
        ["签订日期晚于服务开始", "服务结束早于开始", "服务期限超过1年", f"服务期超出{year}年度"],
        "；",
    )
    why_en = _joined(
        flags,
        [
            "signed after service start",
            "ends before it starts",
            "term over one year",
            f"service outside {year}",
        ],
        "; ",
    )
    keys = _joined(flags, ["signed_after_start", "end_before_start", "term_too_long", "outside_year"], ",")
    evidence = [
        {**r, "term_days": None if np.isnan(d) else int(d), "problems": k.split(","), "source": s}
        for r, d, k, s in zip(
            records(f, ["contract_id", "signed_on", "service_start", "service_end"]),
            term[hit],
            keys,
            sources(f, "contracts"),
            strict=True,
        )
    ]
    return finding_rows(
        county_code=f["county_code"],
        entity_id=f["contract_id"],
        description_zh="合同 " + text(f["contract_id"]) + "：" + pd.Series(why_zh),
        description_en="contract " + text(f["contract_id"]) + ": " + pd.Series(why_en),
        evidence=evidence,
    )


@rule(
    "C3",
    title_zh="合同金额与岗位数×单价不符",
    title_en="Contract amount differs from positions x unit cost",
    severity="medium",
    entity_type="contract",
    requires=("contracts",),
    basis_zh=f"{_PLAN}（每岗位每年{{unit_cost}}元，共{{budget_wan}}万元）",
    basis_en=f"{_PLAN_EN} ({{unit_cost}} yuan a position-year, {{budget}} yuan in all)",
    recommendation_zh="按方案核定的岗位数和单价核实合同金额，多列金额予以调减。",
    recommendation_en="Recompute the amount from the plan's positions and unit cost; reduce any excess.",
)
def contract_amount_off(t: Tables, p: Params) -> pd.DataFrame:
    """Contract amount off positions x unit cost x service months / 12 by more than the tolerance."""
    c = t["contracts"]
    months = months_between(c["service_start"], c["service_end"])
    positions = c["positions"].to_numpy(dtype="int64")
    unit = fen_of(p.purchase.unit_cost_yuan)
    expected = (positions * unit * months * 2 + 12) // 24  # x months/12, rounded half up
    diff = fen(c["amount_yuan"]) - expected
    hit = (months > 0) & (np.abs(diff) > fen_of(p.purchase.contract_amount_tolerance_yuan))
    if not hit.any():
        return no_findings()
    f = c.loc[hit].reset_index(drop=True)
    exp_yuan = expected[hit] / 100
    evidence = [
        {
            **r,
            "service_months": int(m),
            "unit_cost_yuan": float(p.purchase.unit_cost_yuan),
            "expected_yuan": e,
            "source": s,
        }
        for r, m, e, s in zip(
            records(f, ["contract_id", "positions", "amount_yuan", "service_start", "service_end"]),
            months[hit],
            exp_yuan,
            sources(f, "contracts"),
            strict=True,
        )
    ]
    return finding_rows(
        county_code=f["county_code"],
        entity_id=f["contract_id"],
        amount_yuan=np.abs(diff[hit]) / 100,
        description_zh="合同 "
        + text(f["contract_id"])
        + " 金额 "
        + yuan(f["amount_yuan"])
        + " 元，按岗位数×单价应为 "
        + yuan(exp_yuan)
        + " 元",
        description_en="contract "
        + text(f["contract_id"])
        + ": amount "
        + yuan(f["amount_yuan"])
        + " yuan, positions x unit cost gives "
        + yuan(exp_yuan)
        + " yuan",
        evidence=evidence,
    )


_C4_META = dict(
    title_zh="合同总额超过批准预算或县（区）份额",
    title_en="Contracted total above the approved budget or the county's share",
    severity="high",
    entity_type="county",
    basis_zh=f"{_ORDER_102}（先有预算、后购买服务）；{_PLAN}（批准预算{{budget_wan}}万元）",
    basis_en=f"{_ORDER_102_EN} (a purchase needs a budget first); {_PLAN_EN} (budget {{budget}} yuan)",
    recommendation_zh="超出预算或份额的部分暂停支付，按程序调整预算或核减合同。",
    recommendation_en="Stop paying beyond the budget or share; amend the budget through due process or "
    "reduce the contracts.",
)


@rule("C4", requires=("contracts", "divisions"), **_C4_META)
def contracted_above_share(t: Tables, p: Params) -> pd.DataFrame:
    """County part: the county's contracted total above one position per township office at unit cost."""
    county = t.county
    if county == p.city_code:
        raise NotRun(
            "未运行：市民政局没有县（区）份额，由全市合计检查覆盖",
            "not run: the city bureau has no county share; the city-wide total covers it",
        )
    c, d = t["contracts"], t["divisions"]
    offices = int(((d["level"] == "township") & d["kind"].isin(TOWNSHIP_KINDS)).sum())
    share = offices * fen_of(p.purchase.unit_cost_yuan)
    total = int(fen(c["amount_yuan"]).sum())
    if total <= share:
        return no_findings()
    evidence = {
        "county_code": county,
        "contracted_yuan": total / 100,
        "township_offices": offices,
        "unit_cost_yuan": float(p.purchase.unit_cost_yuan),
        "share_yuan": share / 100,
        "contracts": sorted(c["contract_id"].tolist()),
    }
    return finding_rows(
        county_code=[county],
        entity_id=[county],
        amount_yuan=[(total - share) / 100],
        description_zh=[
            f"县（区）{county} 合同总额 {total / 100:,.2f} 元，超过其份额 {share / 100:,.2f} 元"
            f"（{offices} 个乡镇×单价）"
        ],
        description_en=[
            f"county {county}: contracts total {total / 100:,.2f} yuan, above its share "
            f"{share / 100:,.2f} yuan ({offices} township offices x unit cost)"
        ],
        evidence=[evidence],
    )


@contracted_above_share.part("city")
def contracted_above_budget(t: Tables, p: Params) -> pd.DataFrame:
    """City part: every contract of the city together above the approved budget."""
    c = t["contracts"]
    by_county = pd.Series(fen(c["amount_yuan"]), index=c.index).groupby(c["county_code"]).sum()
    total = int(by_county.sum())
    budget = fen_of(p.purchase.approved_budget_yuan)
    if total <= budget:
        return no_findings()
    city = p.city_code
    evidence = {
        "contracted_yuan": total / 100,
        "approved_budget_yuan": budget / 100,
        "by_county_yuan": {k: v / 100 for k, v in by_county.items()},
    }
    return finding_rows(
        county_code=[city],
        entity_id=[city],
        amount_yuan=[(total - budget) / 100],
        description_zh=[f"全市合同总额 {total / 100:,.2f} 元，超过批准预算 {budget / 100:,.2f} 元"],
        description_en=[
            f"city: contracts total {total / 100:,.2f} yuan, above the approved budget "
            f"{budget / 100:,.2f} yuan"
        ],
        evidence=[evidence],
    )


@rule(
    "C5",
    title_zh="专项资金列支购买服务超过比例上限",
    title_en="Special-fund spending on purchased services above the cap share",
    severity="high",
    entity_type="city",
    requires=("fund_payments", "fund_allocations"),
    scope="city",
    basis_zh=f"{_PLAN}（从社会救助专项资金中列支，不超过下达总额的{{cap_share}}）；{{funding_documents}}",
    basis_en=f"{_PLAN_EN} (at most {{cap_share}} of the special fund allocated); {{funding_documents}}",
    recommendation_zh="超出比例部分调整由县级财政预算承担，归还社会救助专项资金。",
    recommendation_en="Move the excess to the county budgets and refund it to the special fund.",
)
def special_fund_above_cap(t: Tables, p: Params) -> pd.DataFrame:
    """City-wide 购买服务 payments from the special fund above the cap share of all its allocations."""
    pay, alloc = t["fund_payments"], t["fund_allocations"]
    charged = pay.loc[(pay["fund"] == SPECIAL_FUND) & (pay["purpose"] == PURCHASE)]
    special = alloc.loc[alloc["fund"] == SPECIAL_FUND]
    paid_by = (
        pd.Series(fen(charged["amount_yuan"]), index=charged.index).groupby(charged["county_code"]).sum()
    )
    alloc_by = (
        pd.Series(fen(special["amount_yuan"]), index=special.index).groupby(special["county_code"]).sum()
    )
    paid, allocated = int(paid_by.sum()), int(alloc_by.sum())
    cap = _share_fen(allocated, p.purchase.special_fund_cap_share)
    if paid <= cap:
        return no_findings()
    city = p.city_code
    evidence = {
        "special_fund_purchase_paid_yuan": paid / 100,
        "special_fund_allocated_yuan": allocated / 100,
        "cap_share": str(p.purchase.special_fund_cap_share),
        "cap_yuan": cap / 100,
        "paid_by_county_yuan": {k: v / 100 for k, v in paid_by.items()},
        "allocated_by_county_yuan": {k: v / 100 for k, v in alloc_by.items()},
    }
    share = f"{p.purchase.special_fund_cap_share:.2%}"
    return finding_rows(
        county_code=[city],
        entity_id=[city],
        amount_yuan=[(paid - cap) / 100],
        description_zh=[
            f"全市专项资金列支购买服务 {paid / 100:,.2f} 元，超过上限 {cap / 100:,.2f} 元"
            f"（专项资金 {allocated / 100:,.2f} 元的 {share}）"
        ],
        description_en=[
            f"city: special fund paid {paid / 100:,.2f} yuan for purchased services, above the "
            f"cap {cap / 100:,.2f} yuan ({share} of {allocated / 100:,.2f} yuan)"
        ],
        evidence=[evidence],
    )


@rule(
    "C6",
    title_zh="购买服务资金缺口未由县级预算安排",
    title_en="Rest of the purchase cost not covered by a county budget allocation",
    severity="medium",
    entity_type="county",
    requires=("contracts", "fund_allocations"),
    basis_zh=f"{_PLAN}（不足部分由各县（区）财政承担，列入同级预算）",
    basis_en=f"{_PLAN_EN} (any shortfall is borne by the county budgets, written into them)",
    recommendation_zh="将资金缺口列入县级财政预算，确保购买服务资金足额保障。",
    recommendation_en="Write the shortfall into the county budget so the purchase is fully funded.",
)
def county_share_uncovered(t: Tables, p: Params) -> pd.DataFrame:
    """Contracted total minus the special fund's purchase allocation, not covered by county-budget ones."""
    county = t.county
    if county == p.city_code:
        raise NotRun(
            "未运行：市民政局岗位由专项资金保障，不涉及县级预算",
            "not run: the city bureau's positions are paid from the special fund, not a county budget",
        )
    c, a = t["contracts"], t["fund_allocations"]
    purchase = a.loc[a["purpose"] == PURCHASE]
    contracted = int(fen(c["amount_yuan"]).sum())
    special = int(fen(purchase.loc[purchase["fund"] == SPECIAL_FUND, "amount_yuan"]).sum())
    budget = int(fen(purchase.loc[purchase["fund"] == COUNTY_BUDGET, "amount_yuan"]).sum())
    shortfall = contracted - special - budget
    if shortfall <= 0:
        return no_findings()
    evidence = {
        "county_code": county,
        "contracted_yuan": contracted / 100,
        "special_fund_allocated_yuan": special / 100,
        "county_budget_allocated_yuan": budget / 100,
        "shortfall_yuan": shortfall / 100,
        "allocations": sorted(purchase["allocation_id"].tolist()),
    }
    return finding_rows(
        county_code=[county],
        entity_id=[county],
        amount_yuan=[shortfall / 100],
        description_zh=[
            f"县（区）{county} 合同 {contracted / 100:,.2f} 元，扣除专项资金 {special / 100:,.2f} 元后，"
            f"县级预算仅安排 {budget / 100:,.2f} 元，缺口 {shortfall / 100:,.2f} 元"
        ],
        description_en=[
            f"county {county}: contracts {contracted / 100:,.2f} yuan less special fund "
            f"{special / 100:,.2f} yuan; county budget allocated {budget / 100:,.2f} yuan, "
            f"short by {shortfall / 100:,.2f} yuan"
        ],
        evidence=[evidence],
    )


def _purchase_payments(t: Tables) -> pd.DataFrame:
    pay = t["fund_payments"]
    return pay.loc[(pay["purpose"] == PURCHASE) & pay["contract_id"].notna()]


@rule(
    "C7",
    title_zh="为无人在岗的岗位月支付服务费",
    title_en="Contractor paid for position-months nobody filled",
    severity="high",
    entity_type="contract",
    requires=("contracts", "staff", "fund_payments"),
    basis_zh=f"{_ORDER_102}（按合同履约情况支付）；{_PLAN}",
    basis_en=f"{_ORDER_102_EN} (pay for performance under the contract); {_PLAN_EN}",
    recommendation_zh="核减空岗月份的服务费，追回多付资金。",
    recommendation_en="Deduct the vacant position-months and recover the overpayment.",
)
def paid_for_unfilled(t: Tables, p: Params) -> pd.DataFrame:
    """Payments covering more position-months than staff under the contract were in post."""
    pay = _purchase_payments(t)
    pay = pay.loc[pay["covers_month"].str.startswith(f"{p.audit_year}-").fillna(False).to_numpy(dtype=bool)]
    if pay.empty:
        return no_findings()
    unit = fen_of(p.purchase.unit_cost_yuan)
    paid = (
        pd.DataFrame(
            {"contract_id": pay["contract_id"], "month": pay["covers_month"], "fen": fen(pay["amount_yuan"])}
        )
        .groupby(["contract_id", "month"], as_index=False, sort=True)["fen"]
        .sum()
    )
    paid["paid_positions"] = np.rint(paid["fen"].to_numpy() * 12 / unit).astype("int64")
    paid["first"], paid["last"] = month_bounds(paid["month"])
    s = t.with_joined("staff")[
        ["contract_id", "staff_id", "hired_on", "left_on"]
    ]  # posts of other counties too
    pairs = paid[["contract_id", "month", "first", "last"]].merge(s, on="contract_id", how="inner")
    in_post = (pairs["hired_on"] <= pairs["last"]) & (
        pairs["left_on"].isna() | (pairs["left_on"] >= pairs["first"])
    )
    filled = pairs.loc[in_post].groupby(["contract_id", "month"]).size().rename("filled_positions")
    paid = paid.merge(filled, left_on=["contract_id", "month"], right_index=True, how="left")
    paid["filled_positions"] = paid["filled_positions"].fillna(0).astype("int64")
    paid["unfilled"] = (paid["paid_positions"] - paid["filled_positions"]).clip(lower=0)
    short = paid.loc[paid["unfilled"] > 0]
    if short.empty:
        return no_findings()
    per = short.groupby("contract_id", sort=True)["unfilled"].sum()
    months = short.groupby("contract_id", sort=True).apply(
        lambda g: [
            {"month": m, "paid_positions": int(a), "filled_positions": int(b), "paid_yuan": f / 100}
            for m, a, b, f in zip(
                g["month"], g["paid_positions"], g["filled_positions"], g["fen"], strict=True
            )
        ],
        include_groups=False,
    )
    county = pay.drop_duplicates("contract_id").set_index("contract_id")["county_code"]
    ids = per.index.to_series()
    amount = (per.to_numpy() * unit * 2 + 12) // 24 / 100  # unit cost / 12 per position-month, half up
    cited = grouped_sources(pay.loc[pay["contract_id"].isin(ids)], "fund_payments", "contract_id")
    positions = t["contracts"].drop_duplicates("contract_id").set_index("contract_id")["positions"]
    evidence = [
        {
            "contract_id": c,
            "contract_positions": None if pd.isna(positions.get(c)) else int(positions.get(c)),
            "unfilled_position_months": int(n),
            "months": months[c],
            "source": cited[c],
        }
        for c, n in per.items()
    ]
    return finding_rows(
        county_code=county.reindex(ids).to_numpy(),
        entity_id=ids.to_numpy(),
        amount_yuan=amount,
        description_zh="合同 " + text(ids) + " 有 " + text(per) + " 个岗位月无人在岗仍支付服务费",
        description_en="contract " + text(ids) + ": paid for " + text(per) + " position-months nobody filled",
        evidence=evidence,
    )


@rule(
    "C8",
    title_zh="支付金额超过合同金额",
    title_en="Contractor paid more than the contract amount",
    severity="high",
    entity_type="contract",
    requires=("contracts", "fund_payments"),
    basis_zh=f"{_ORDER_102}（按合同约定支付）",
    basis_en=f"{_ORDER_102_EN} (pay as the contract provides)",
    recommendation_zh="追回超合同金额支付的资金，并查明原因。",
    recommendation_en="Recover what was paid beyond the contract amount and find out why.",
)
def paid_above_contract(t: Tables, p: Params) -> Outcome:
    """购买服务 payments to a contract above its amount by more than the tolerance."""
    pay = _purchase_payments(t)
    c = t["contracts"]
    # Payments naming no known contract cannot be compared: say so rather than pass them.
    stray = pay.loc[~pay["contract_id"].isin(c["contract_id"]), "contract_id"].nunique()
    notes = (
        (
            (f"{stray} 个合同编号不在合同表中，其支付未比较",),
            (f"{stray} paid contract id(s) not in the contracts table, not compared",),
        )
        if stray
        else ((), ())
    )
    paid = (
        pd.Series(fen(pay["amount_yuan"]), index=pay.index).groupby(pay["contract_id"]).sum().rename("paid")
    )
    f = c.merge(paid, left_on="contract_id", right_index=True, how="inner")
    over = f["paid"].to_numpy() - fen(f["amount_yuan"])
    hit = over > fen_of(p.purchase.contract_amount_tolerance_yuan)
    if not hit.any():
        return Outcome(no_findings(), *notes)
    f = f.loc[hit].reset_index(drop=True)
    over = over[hit]
    cited = grouped_sources(
        pay.loc[pay["contract_id"].isin(f["contract_id"])], "fund_payments", "contract_id"
    )
    evidence = [
        {**r, "paid_yuan": paid_fen / 100, "contract_source": s, "source": cited[r["contract_id"]]}
        for r, paid_fen, s in zip(
            records(f, ["contract_id", "amount_yuan"]), f["paid"], sources(f, "contracts"), strict=True
        )
    ]
    paid_yuan = f["paid"].to_numpy() / 100
    findings = finding_rows(
        county_code=f["county_code"],
        entity_id=f["contract_id"],
        amount_yuan=over / 100,
        description_zh="合同 "
        + text(f["contract_id"])
        + " 已支付 "
        + yuan(paid_yuan)
        + " 元，超过合同金额 "
        + yuan(f["amount_yuan"])
        + " 元",
        description_en="contract "
        + text(f["contract_id"])
        + ": paid "
        + yuan(paid_yuan)
        + " yuan, above the contract amount "
        + yuan(f["amount_yuan"])
        + " yuan",
        evidence=evidence,
    )
    return Outcome(findings, *notes)


@rule(
    "C9",
    title_zh="按岗位购买服务（提示）",
    title_en="Purchase made by position (for the inspector's judgement)",
    severity="info",
    entity_type="contract",
    requires=("contracts",),
    basis_zh=f"{_ORDER_102}第十条第（五）项（不得以政府购买服务名义变相用工）",
    basis_en=f"{_ORDER_102_EN} Art. 10(5) (no disguised hiring through purchases)",
    recommendation_zh="由检查人员判断是否属于变相用工；宜按服务事项和绩效购买。",
    recommendation_en="Judge whether this is disguised hiring; prefer buying services paid on results.",
)
def bought_by_position(t: Tables, p: Params) -> pd.DataFrame:
    """Every contract that buys positions (岗位购买), noted for the inspector."""
    c = t["contracts"]
    f = c.loc[c["positions"] >= 1].reset_index(drop=True)
    if f.empty:
        return no_findings()
    evidence = [
        {**r, "source": s}
        for r, s in zip(
            records(f, ["contract_id", "contractor_name", "positions", "amount_yuan"]),
            sources(f, "contracts"),
            strict=True,
        )
    ]
    return finding_rows(
        county_code=f["county_code"],
        entity_id=f["contract_id"],
        description_zh="合同 "
        + text(f["contract_id"])
        + " 按岗位购买 "
        + text(f["positions"].astype("str"))
        + " 个岗位",
        description_en="contract "
        + text(f["contract_id"])
        + " buys "
        + text(f["positions"].astype("str"))
        + " positions",
        evidence=evidence,
    )


@rule(
    "C10",
    title_zh="合同签订早于购买方案批准",
    title_en="Contract signed before the purchase plan was approved",
    severity="medium",
    entity_type="contract",
    requires=("contracts",),
    basis_zh=f"{_ORDER_102}（先有预算和实施方案，后组织购买）；{_PLAN}",
    basis_en=f"{_ORDER_102_EN} (budget and plan first, then purchase); {_PLAN_EN}",
    recommendation_zh="说明方案批准前签约的原因，完善先批后签的程序。",
    recommendation_en="Explain why the contract was signed before approval; sign only after the plan is "
    "approved.",
)
def signed_before_plan(t: Tables, p: Params) -> pd.DataFrame:
    """Contracts whose signing day is before the day the purchase plan was approved (that day passes)."""
    approved = p.purchase.plan_approved_on
    if approved is None:
        raise NotRun(
            "未运行：参数文件中无购买方案批准日期（purchase.plan_approved_on）",
            "not run: no plan approval date in the parameters file (purchase.plan_approved_on)",
        )
    c = t["contracts"]
    day = pd.Timestamp(approved)
    f = c.loc[(c["signed_on"] < day).to_numpy(dtype=bool, na_value=False)].reset_index(drop=True)
    if f.empty:
        return no_findings()
    early = (day - f["signed_on"]).dt.days
    return finding_rows(
        county_code=f["county_code"],
        entity_id=f["contract_id"],
        amount_yuan=f["amount_yuan"],
        description_zh="合同 "
        + text(f["contract_id"])
        + " 于 "
        + text(f["signed_on"])
        + " 签订，早于方案批准日 "
        + approved.isoformat(),
        description_en="contract "
        + text(f["contract_id"])
        + " signed on "
        + text(f["signed_on"])
        + ", before the plan was approved on "
        + approved.isoformat(),
        evidence=[
            {**r, "plan_approved_on": approved, "days_before": int(d), "source": s}
            for r, d, s in zip(
                records(f, ["contract_id", "signed_on", "amount_yuan"]),
                early,
                sources(f, "contracts"),
                strict=True,
            )
        ],
    )
