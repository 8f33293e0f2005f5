"""Rules S1-S10: purchased staff coverage of the township offices.

Interpretations (they fix what the demo's answer key expects):

- Offices are the division register's townships (level ``township``); the city bureau's
  posts (post code 540100) are not an office: S3 counts them, S1/S2/S10 leave them out.
- A day is covered when some purchased staff member is in post on it (hired_on to left_on,
  both included); S1's month is covered when every day of it is (a handover on the 15th/16th
  keeps the month covered).
- S2 and S5 call two posts concurrent when they share at least one day in post in the audit
  year; S5 matches valid ID numbers only (an invalid one identifies nobody).
- S3 compares the most city-bureau staff in post on any one day of the audit year with the
  planned number.
- S5 flags an invalid ID (entity staff) and an ID number held in two concurrent posts (entity
  person = the ID number); the city part does the same across counties, one row per county.
- S6 and S7 match the staff member's ID number: S6 against the public-employee list (any
  entry), S7 against the roll in the township of the post (the staff member is on the roll,
  so their household is), read across partitions when the post is another county's. Both
  are found in the staff member's county of record.
- S8 also flags a township of the register (when supplied) with no row in the offices table.
- S1, S2 and S10 judge a post where it is: a worker filed in another county's partition but
  posted at a township of this county's register is judged here, and one filed here but
  posted at another county's township is judged there (its township is in the register).
- S10 measures a vacancy from the day after a post ends (the latest end so far at the office)
  to the day before the next hire, or to the audit year's end when nobody followed; the wait
  for an office's first hire is S1's, not S10's.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from audit.datacontract import EDUCATION_LEVELS
from audit.identifiers import resident_id_valid
from audit.params import Params
from audit.rules.evidence import finding_rows, grouped_sources, no_findings, records, sources, text
from audit.rules.measures import year_bounds, year_months
from audit.rules.registry import rule
from audit.rules.tables import Tables

# The plan and the documents are quoted from the parameters file (Rule.texts fills them in).
_PLAN = _PLAN_EN = "{plan}"
_FAR = np.datetime64("9999-12-31", "us")  # "still in post": an open end that sorts last


def _townships(d: pd.DataFrame) -> pd.DataFrame:
    return d.loc[d["level"] == "township"]


def _posted_here(t: Tables) -> pd.DataFrame:
    """The staff the post rules (S1/S2/S10) judge in this run: those posted here, wherever filed.

    This partition's rows less those posted at another county's township (judged there), and
    the rows of other partitions posted at this county's townships (joined: ``JOINS``).
    """
    staff = t["staff"]
    divisions = t.get("divisions")
    if divisions is None:
        return staff
    own = set(_townships(divisions)["division_code"].tolist())
    elsewhere = set(_townships(t.with_joined("divisions"))["division_code"].tolist()) - own
    mine = staff.loc[~staff["post_code"].isin(elsewhere).to_numpy(dtype=bool)]
    extra = t.joined.get("staff")
    if extra is not None:
        theirs = extra.loc[extra["post_code"].isin(own).to_numpy(dtype=bool)]
        if len(theirs):
            mine = pd.concat([mine, theirs], ignore_index=True)
    return mine


def _ends(s: pd.DataFrame) -> pd.Series:
    return s["left_on"].fillna(pd.Timestamp(_FAR))


def days_in_post(staff: pd.DataFrame, year: int) -> pd.DataFrame:
    """One row per staff member and day of ``year`` in post: ``post_code, staff_id, day``."""
    first, last = year_bounds(year)
    start = staff["hired_on"].clip(lower=first).to_numpy(dtype="datetime64[D]")
    end = _ends(staff).clip(upper=last).to_numpy(dtype="datetime64[D]")
    n = np.maximum((end - start).astype("int64") + 1, 0)
    n[pd.isna(staff["hired_on"]).to_numpy()] = 0
    row = np.repeat(np.arange(len(staff)), n)
    offset = np.arange(int(n.sum())) - np.repeat(np.cumsum(n) - n, n)
    day = (start[row] + offset.astype("timedelta64[D]")).astype("datetime64[us]")
    return pd.DataFrame(
        {
            "post_code": staff["post_code"].to_numpy()[row],
            "staff_id": staff["staff_id"].to_numpy()[row],
            "day": day,
        }
    )


def _concurrent_pairs(staff: pd.DataFrame, key: str, year: int) -> pd.DataFrame:
    """Pairs of staff rows with the same ``key`` in post on a common day of ``year`` (a_ < b_)."""
    first, last = year_bounds(year)
    dup = staff.loc[staff[key].duplicated(keep=False) & staff[key].notna()]
    cols = list(dict.fromkeys([key, "staff_id", "hired_on", "left_on", "post_code", "county_code"]))
    a = dup[cols].assign(start=dup["hired_on"].clip(lower=first), end=_ends(dup).clip(upper=last))
    pairs = a.merge(a, on=key, suffixes=("_a", "_b"))
    pairs = pairs.loc[pairs["staff_id_a"] < pairs["staff_id_b"]]
    overlap = (pairs["start_a"] <= pairs["end_b"]) & (pairs["start_b"] <= pairs["end_a"])
    overlap &= (pairs["start_a"] <= pairs["end_a"]) & (pairs["start_b"] <= pairs["end_b"])
    return pairs.loc[overlap]


@rule(
    "S1",
    title_zh="乡镇（街道）民政所无购买服务人员在岗",
    title_en="Township office with no purchased staff in post",
    severity="high",
    entity_type="office",
    requires=("divisions", "staff"),
    basis_zh=f"{_PLAN}（乡镇、街道办事处各配备1名）",
    basis_en=f"{_PLAN_EN} (one position per township or street office)",
    recommendation_zh="及时补齐空缺岗位，确保每个乡镇（街道）民政所全年有购买服务人员在岗。",
    recommendation_en="Fill the post so every township office has purchased staff in post all year.",
)
def office_uncovered(t: Tables, p: Params) -> pd.DataFrame:
    """Per office, the months of the audit year not covered on every day by purchased staff."""
    offices = _townships(t["divisions"])[["division_code", "county_code"]].drop_duplicates("division_code")
    if offices.empty:
        return no_findings()
    staff = _posted_here(t)
    days = days_in_post(staff.loc[staff["post_code"].isin(offices["division_code"])], p.audit_year)
    days = days.drop_duplicates(["post_code", "day"])
    days["month"] = days["day"].dt.strftime("%Y-%m")
    covered = days.groupby(["post_code", "month"]).size()
    months = year_months(p.audit_year)
    length = pd.Series(pd.to_datetime([m + "-01" for m in months]).days_in_month, index=months)
    grid = pd.MultiIndex.from_product(
        [offices["division_code"].tolist(), months], names=["post_code", "month"]
    )
    full = (
        covered.reindex(grid, fill_value=0).to_numpy() == length.reindex(grid.get_level_values(1)).to_numpy()
    )
    gaps = pd.Series(~full, index=grid)
    gaps = gaps[gaps]
    if gaps.empty:
        return no_findings()
    missing = gaps.reset_index().groupby("post_code", sort=True)["month"].agg(list)
    f = offices.set_index("division_code").loc[missing.index]
    at_office = staff.loc[staff["post_code"].isin(missing.index)]
    who = at_office.groupby("post_code")["staff_id"].agg(lambda s: sorted(s.tolist()))
    codes = missing.index.to_series()
    register = _townships(t["divisions"]).drop_duplicates("division_code")
    cited = dict(zip(register["division_code"], sources(register, "divisions"), strict=True))
    evidence = [
        {"office": o, "uncovered_months": m, "staff": who.get(o, []), "source": cited[o]}
        for o, m in missing.items()
    ]
    n = missing.map(len)
    return finding_rows(
        county_code=f["county_code"].to_numpy(),
        township_code=codes.to_numpy(),
        entity_id=codes.to_numpy(),
        description_zh="民政所 "
        + text(codes)
        + " 有 "
        + text(n)
        + " 个月无购买服务人员全月在岗："
        + text(missing.map("、".join)),
        description_en="office " + text(codes) + ": " + text(n) + " months without purchased staff in post "
        "every day: " + text(missing.map(", ".join)),
        evidence=evidence,
    )


@rule(
    "S2",
    title_zh="民政所购买服务人员超过1名或岗位地点不在区划名录",
    title_en="Office with more than one purchased staff, or a post code not in the register",
    severity="medium",
    entity_type="office",
    requires=("divisions", "staff"),
    basis_zh=f"{_PLAN}（每个乡镇、街道办事处配备1名）",
    basis_en=f"{_PLAN_EN} (one per township or street office)",
    recommendation_zh="核实岗位设置，多配人员调整到空缺乡镇，岗位地点与区划名录不符的予以纠正。",
    recommendation_en="Check the posts: move extra staff to offices without one; correct post codes that "
    "are not in the register.",
)
def office_overstaffed(t: Tables, p: Params) -> pd.DataFrame:
    """Two staff concurrently at one office, or a post at a code the register does not have."""
    staff, city = _posted_here(t), p.city_code
    # a post at another county's township is in the register (that county judges it)
    known = set(_townships(t.with_joined("divisions"))["division_code"].tolist()) | {city}
    township_staff = staff.loc[staff["post_code"] != city]
    pairs = _concurrent_pairs(township_staff, "post_code", p.audit_year)
    unknown = staff.loc[~staff["post_code"].isin(known)]
    offices = sorted(set(pairs["post_code"].tolist()) | set(unknown["post_code"].dropna().tolist()))
    if not offices:
        return no_findings()
    pair_list = {
        o: sorted([a, b] for a, b in zip(g["staff_id_a"], g["staff_id_b"], strict=True))
        for o, g in pairs.groupby("post_code")
    }
    at = staff.loc[staff["post_code"].isin(offices)]
    who = at.groupby("post_code")["staff_id"].agg(lambda s: sorted(s.tolist()))
    county = at.drop_duplicates("post_code").set_index("post_code")["county_code"]
    if t.county is not None:  # the office is this county's, whoever's partition its staff are in
        county = pd.Series(t.county, index=county.index)
    cited = grouped_sources(at, "staff", "post_code")
    unknown_set = set(unknown["post_code"].tolist())
    evidence, zh, en = [], [], []
    for o in offices:
        problems = (["concurrent_staff"] if o in pair_list else []) + (
            ["post_not_in_register"] if o in unknown_set else []
        )
        evidence.append(
            {
                "office": o,
                "problems": problems,
                "staff": who[o],
                "concurrent_pairs": pair_list.get(o, []),
                "source": cited[o],
            }
        )
        zh.append(
            "；".join(
                (["同时在岗购买服务人员超过1名"] if "concurrent_staff" in problems else [])
                + (["岗位地点代码不在区划名录"] if "post_not_in_register" in problems else [])
            )
        )
        en.append(
            "; ".join(
                (["more than one purchased staff in post at once"] if "concurrent_staff" in problems else [])
                + (["post code not in the division register"] if "post_not_in_register" in problems else [])
            )
        )
    codes = pd.Series(offices)
    return finding_rows(
        county_code=county.reindex(offices).to_numpy(),
        township_code=codes.to_numpy(),
        entity_id=codes.to_numpy(),
        description_zh="民政所 " + codes + "：" + pd.Series(zh),
        description_en="office " + codes + ": " + pd.Series(en),
        evidence=evidence,
    )


@rule(
    "S3",
    title_zh="市民政局购买服务岗位数与计划不符",
    title_en="City-bureau posts differ from the planned number",
    severity="low",
    entity_type="city",
    requires=("staff",),
    scope="city",
    basis_zh=f"{_PLAN}（其余{{city_positions}}名安排在市民政局从事社会救助工作）",
    basis_en=f"{_PLAN_EN} ({{city_positions}} positions at the city civil-affairs bureau)",
    recommendation_zh="按方案核定的岗位数配备市级人员，多出或不足的说明理由并调整。",
    recommendation_en="Staff the city bureau to the plan's number; explain and correct any difference.",
)
def city_posts_off_plan(t: Tables, p: Params) -> pd.DataFrame:
    """The most city-bureau staff in post on one day of the year differs from the plan."""
    staff, city = t["staff"], p.city_code
    at_city = staff.loc[staff["post_code"] == city]
    days = days_in_post(at_city, p.audit_year)
    most = int(days.groupby("day").size().max()) if len(days) else 0
    planned = p.purchase.planned_positions.city
    if most == planned:
        return no_findings()
    evidence = {
        "most_in_post": most,
        "planned": planned,
        "staff": sorted(at_city["staff_id"].tolist()),
        "source": sources(at_city.sort_values("staff_id"), "staff")[:20],
    }
    return finding_rows(
        county_code=[city],
        entity_id=[city],
        description_zh=[f"市民政局同时在岗购买服务人员最多 {most} 名，计划 {planned} 名"],
        description_en=[f"city bureau: at most {most} purchased staff in post at once, {planned} planned"],
        evidence=[evidence],
    )


@rule(
    "S4",
    title_zh="购买服务人员学历低于要求",
    title_en="Staff below the required education",
    severity="medium",
    entity_type="staff",
    requires=("staff",),
    basis_zh=f"{_PLAN}（{{min_education}}及以上学历）",
    basis_en=f"{_PLAN_EN} (education {{min_education}} or above)",
    recommendation_zh="要求承接主体按方案条件调整人员，或说明理由报批。",
    recommendation_en="Have the contractor replace the staff member, or justify the exception for approval.",
)
def staff_under_educated(t: Tables, p: Params) -> pd.DataFrame:
    """Staff whose education ranks below the minimum."""
    s = t["staff"]
    rank = s["education"].map({e: i for i, e in enumerate(EDUCATION_LEVELS)})
    f = s.loc[(rank > EDUCATION_LEVELS.index(p.purchase.min_education)).to_numpy(dtype=bool, na_value=False)]
    if f.empty:
        return no_findings()
    f = f.reset_index(drop=True)
    evidence = [
        {**r, "required": p.purchase.min_education, "source": src}
        for r, src in zip(
            records(f, ["staff_id", "name", "education", "post_code"]), sources(f, "staff"), strict=True
        )
    ]
    return finding_rows(
        county_code=f["county_code"],
        township_code=f["post_code"].where(f["post_code"] != p.city_code),
        entity_id=f["staff_id"],
        description_zh="人员 "
        + text(f["staff_id"])
        + " 学历为"
        + text(f["education"])
        + "，低于要求的"
        + p.purchase.min_education,
        description_en="staff "
        + text(f["staff_id"])
        + ": education "
        + text(f["education"])
        + ", below "
        + p.purchase.min_education,
        evidence=evidence,
    )


_S5_META = dict(
    title_zh="购买服务人员身份证号无效或一人占多岗",
    title_en="Staff with an invalid ID number, or the same person in two posts",
    severity="high",
    entity_type="staff",
    requires=("staff",),
    basis_zh="GB 11643-1999《公民身份号码》；" + _PLAN + "（每岗1人）",
    basis_en="GB 11643-1999 (resident ID numbers); " + _PLAN_EN + " (one person a post)",
    recommendation_zh="核对人员身份信息；一人占多岗的，核减重复岗位并追回多付服务费。",
    recommendation_en="Check the staff member's identity; where one person holds two posts, cut one and "
    "recover its pay.",
)


def _double_posts(pairs: pd.DataFrame) -> pd.DataFrame:
    """Per ID number of concurrent pairs: its staff ids, posts and counties (sorted lists)."""
    long = pd.concat(
        [
            pairs[["id_number", f"staff_id_{x}", f"post_code_{x}", f"county_code_{x}"]].set_axis(
                ["id_number", "staff_id", "post_code", "county_code"], axis=1
            )
            for x in ("a", "b")
        ]
    ).drop_duplicates()
    return long.groupby("id_number", sort=True).agg(
        staff=("staff_id", lambda s: sorted(set(s))),
        posts=("post_code", lambda s: sorted(set(s))),
        counties=("county_code", lambda s: sorted(set(s))),
    )


@rule("S5", **_S5_META)
def staff_id_problems(t: Tables, p: Params) -> pd.DataFrame:
    """County part: invalid ID numbers, and ID numbers in two concurrent posts within the county."""
    s = t["staff"]
    valid = resident_id_valid(s["id_number"], today=dt.date(p.audit_year, 12, 31)).to_numpy()
    bad = s.loc[~valid].reset_index(drop=True)
    parts = []
    if len(bad):
        parts.append(
            finding_rows(
                county_code=bad["county_code"],
                township_code=bad["post_code"].where(bad["post_code"] != p.city_code),
                entity_type="staff",
                entity_id=bad["staff_id"],
                description_zh="人员 " + text(bad["staff_id"]) + " 身份证号无效：" + text(bad["id_number"]),
                description_en="staff "
                + text(bad["staff_id"])
                + ": invalid ID number "
                + text(bad["id_number"]),
                evidence=[
                    {**r, "source": src}
                    for r, src in zip(
                        records(bad, ["staff_id", "name", "id_number"]), sources(bad, "staff"), strict=True
                    )
                ],
            )
        )
    # an invalid number identifies nobody: only valid ones are matched across posts
    double = _double_posts(_concurrent_pairs(s.loc[valid], "id_number", p.audit_year))
    if len(double):
        ids = double.index.to_series()
        parts.append(
            finding_rows(
                county_code=double["counties"].str[0].to_numpy(),
                entity_type="person",
                entity_id=ids.to_numpy(),
                description_zh="身份证号 "
                + text(ids)
                + " 同时在 "
                + text(double["posts"].map("、".join))
                + " 岗位",
                description_en="ID number "
                + text(ids)
                + " in posts "
                + text(double["posts"].map(", ".join))
                + " at once",
                evidence=[
                    {"id_number": i, "staff": r.staff, "posts": r.posts}
                    for i, r in zip(ids, double.itertuples(), strict=True)
                ],
            )
        )
    return pd.concat(parts, ignore_index=True) if parts else no_findings()


@staff_id_problems.part("city")
def staff_in_two_counties(t: Tables, p: Params) -> pd.DataFrame:
    """City part: one ID number in concurrent posts of two counties; a row for each county."""
    s = t["staff"]
    valid = resident_id_valid(s["id_number"], today=dt.date(p.audit_year, 12, 31)).to_numpy()
    pairs = _concurrent_pairs(s.loc[valid], "id_number", p.audit_year)
    pairs = pairs.loc[pairs["county_code_a"] != pairs["county_code_b"]]
    if pairs.empty:
        return no_findings()
    double = _double_posts(pairs).explode("counties").rename(columns={"counties": "county"})
    full = _double_posts(pairs)["counties"]
    ids = double.index.to_series()
    counties = full.reindex(ids)
    return finding_rows(
        county_code=double["county"].to_numpy(),
        entity_type="person",
        entity_id=ids.to_numpy(),
        cross_county=True,
        description_zh="身份证号 "
        + text(ids)
        + " 同时在 "
        + text(counties.map("、".join))
        + " 多个县（区）岗位",
        description_en="ID number "
        + text(ids)
        + " in posts of counties "
        + text(counties.map(", ".join))
        + " at once",
        evidence=[
            {"id_number": i, "staff": r.staff, "posts": r.posts, "counties": c}
            for i, r, c in zip(ids, double.itertuples(), counties, strict=True)
        ],
    )


@rule(
    "S6",
    title_zh="购买服务人员为财政供养人员",
    title_en="Staff on the public-employee list",
    severity="high",
    entity_type="staff",
    requires=("staff", "public_employees"),
    basis_zh=f"{_PLAN}；{{purchase_rules}}第十条（不得变相用工）",
    basis_en=f"{_PLAN_EN}; {{purchase_rules}} Art. 10 (no disguised hiring)",
    recommendation_zh="核实是否在编在岗或重复领取报酬，清退并追回重复支付的服务费。",
    recommendation_en="Check for double employment or double pay; remove the person and recover double pay.",
)
def staff_public_employee(t: Tables, p: Params) -> pd.DataFrame:
    """Staff whose ID number is on the public payroll."""
    s, e = t["staff"], t["public_employees"]
    m = s.merge(e[["person_id", "employer", "since"]], left_on="id_number", right_on="person_id", how="inner")
    if m.empty:
        return no_findings()
    jobs = m.groupby("staff_id", sort=True).apply(
        lambda g: [{"employer": a, "since": b} for a, b in zip(g["employer"], g["since"], strict=True)],
        include_groups=False,
    )
    f = s.loc[s["staff_id"].isin(jobs.index)].sort_values("staff_id").reset_index(drop=True)
    evidence = [
        {**r, "public_employment": jobs[r["staff_id"]], "source": src}
        for r, src in zip(
            records(f, ["staff_id", "name", "id_number", "post_code"]), sources(f, "staff"), strict=True
        )
    ]
    employers = f["staff_id"].map(lambda i: "、".join(sorted({j["employer"] for j in jobs[i]})))
    return finding_rows(
        county_code=f["county_code"],
        township_code=f["post_code"].where(f["post_code"] != p.city_code),
        entity_id=f["staff_id"],
        description_zh="人员 " + text(f["staff_id"]) + " 在财政供养人员名单中（" + text(employers) + "）",
        description_en="staff "
        + text(f["staff_id"])
        + " is on the public-employee list ("
        + text(employers)
        + ")",
        evidence=evidence,
    )


@rule(
    "S7",
    title_zh="购买服务人员本人或家庭成员为本乡镇救助对象",
    title_en="Staff who are, or share a household with, a beneficiary in their own township",
    severity="medium",
    entity_type="staff",
    requires=("staff", "beneficiaries"),
    basis_zh="{dibao_rules}（经办人员近亲属申请救助应备案）；{relief_rules}",
    basis_en="{dibao_rules} (relatives of case workers are filed); {relief_rules}",
    recommendation_zh="核查该户救助资格和近亲属备案情况，实行回避。",
    recommendation_en="Re-examine the household's eligibility and the filing of relatives; apply recusal.",
)
def staff_on_own_roll(t: Tables, p: Params) -> pd.DataFrame:
    """Staff whose ID number is on the roll of the township where they work."""
    # the post's township may be another county's: its roll rows (and their households) are joined
    s, b = t["staff"], t.with_joined("beneficiaries")
    m = s.merge(
        b[["person_id", "household_id", "division_code", "programme"]],
        left_on=["id_number", "post_code"],
        right_on=["person_id", "division_code"],
        how="inner",
    )
    if m.empty:
        return no_findings()
    hh = m.groupby("staff_id", sort=True).agg(
        household_id=("household_id", "first"), programmes=("programme", lambda x: sorted(set(x)))
    )
    members = b.loc[b["household_id"].isin(hh["household_id"])].groupby("household_id")["person_id"].nunique()
    f = s.loc[s["staff_id"].isin(hh.index)].sort_values("staff_id").reset_index(drop=True)
    evidence = [
        {
            **r,
            "household_id": hh.at[r["staff_id"], "household_id"],
            "programmes": hh.at[r["staff_id"], "programmes"],
            "household_members_on_roll": int(members[hh.at[r["staff_id"], "household_id"]]),
            "source": src,
        }
        for r, src in zip(
            records(f, ["staff_id", "name", "id_number", "post_code"]), sources(f, "staff"), strict=True
        )
    ]
    return finding_rows(
        county_code=f["county_code"],
        township_code=f["post_code"],
        entity_id=f["staff_id"],
        description_zh="人员 "
        + text(f["staff_id"])
        + " 本人所在户 "
        + text(hh["household_id"])
        + " 为本乡镇救助对象",
        description_en="staff "
        + text(f["staff_id"])
        + ": their household "
        + text(hh["household_id"])
        + " is on the roll of their own township",
        evidence=evidence,
    )


@rule(
    "S8",
    title_zh="乡镇民政所“四有”不全",
    title_en="Office missing one of the four haves",
    severity="medium",
    entity_type="office",
    requires=("offices",),
    optional=("divisions",),
    basis_zh=f"{_PLAN}（有工作人员、有经费保障、有办公场所、有办公设施）",
    basis_en=f"{_PLAN_EN} (staff, guaranteed funding, an office, office equipment)",
    recommendation_zh="补齐民政专干、办公场所、办公设备和工作经费。",
    recommendation_en="Provide the dedicated officer, office space, equipment and working funds.",
)
def office_lacks_four_haves(t: Tables, p: Params) -> pd.DataFrame:
    """Office with no dedicated officer, no floor area, no equipment or no budget (or no record)."""
    o = t["offices"]
    checks = {
        "no_dedicated_officer": ~o["dedicated_officer"].to_numpy(dtype=bool),
        "no_office_area": o["office_area_m2"].to_numpy(dtype="float64", na_value=0.0) <= 0,
        "no_equipment": ~o["has_equipment"].to_numpy(dtype=bool),
        "no_budget": o["budgeted_funds_yuan"].to_numpy(dtype="float64", na_value=0.0) <= 0,
    }
    hit = np.logical_or.reduce(list(checks.values()))
    f = o.loc[hit].reset_index(drop=True)
    keys = [[k for k, v in checks.items() if v[i]] for i in np.flatnonzero(hit)]
    rows = [
        {**r, "problems": k, "source": src}
        for r, k, src in zip(
            records(
                f,
                [
                    "division_code",
                    "dedicated_officer",
                    "office_area_m2",
                    "has_equipment",
                    "budgeted_funds_yuan",
                ],
            ),
            keys,
            sources(f, "offices"),
            strict=True,
        )
    ]
    county = f["county_code"].tolist()
    codes = f["division_code"].tolist()
    d = t.get("divisions")
    if d is not None:
        absent = _townships(d).loc[lambda x: ~x["division_code"].isin(o["division_code"])]
        absent = absent.drop_duplicates("division_code")
        keys += [["no_office_record"]] * len(absent)
        rows += [{"division_code": c, "problems": ["no_office_record"]} for c in absent["division_code"]]
        county += absent["county_code"].tolist()
        codes += absent["division_code"].tolist()
    if not codes:
        return no_findings()
    labels_zh = {
        "no_dedicated_officer": "无民政专干",
        "no_office_area": "无办公场所",
        "no_equipment": "无办公设备",
        "no_budget": "无工作经费",
        "no_office_record": "民政所情况表中无记录",
    }
    labels_en = {
        "no_dedicated_officer": "no dedicated officer",
        "no_office_area": "no office space",
        "no_equipment": "no equipment",
        "no_budget": "no working funds",
        "no_office_record": "no row in the offices table",
    }
    codes_s = pd.Series(codes, dtype="str")
    return finding_rows(
        county_code=county,
        township_code=codes,
        entity_id=codes,
        description_zh="民政所 "
        + codes_s
        + "："
        + pd.Series(["、".join(labels_zh[x] for x in k) for k in keys]),
        description_en="office "
        + codes_s
        + ": "
        + pd.Series(["; ".join(labels_en[x] for x in k) for k in keys]),
        evidence=rows,
    )


@rule(
    "S9",
    title_zh="计划乡镇岗位数与区划名录乡镇数不符",
    title_en="Planned township positions differ from the township offices in the register",
    severity="info",
    entity_type="city",
    requires=("divisions",),
    scope="city",
    basis_zh=f"{_PLAN}（乡镇、街道办事处各配备1名，共{{township_positions}}名）",
    basis_en=f"{_PLAN_EN} (one per township office, {{township_positions}} in all)",
    recommendation_zh="核对方案岗位数与乡镇（街道）数，说明多出岗位的安排。",
    recommendation_en="Reconcile the plan's positions with the offices; account for the extra positions.",
)
def plan_vs_register(t: Tables, p: Params) -> pd.DataFrame:
    """The planned township positions against the number of townships in the register."""
    towns = _townships(t["divisions"]).drop_duplicates("division_code")
    n = len(towns)
    planned = p.purchase.planned_positions.township
    if n == planned:
        return no_findings()
    city = p.city_code
    by_county = towns.groupby("county_code").size()
    evidence = {
        "planned_township_positions": planned,
        "township_offices_in_register": n,
        "by_county": {k: int(v) for k, v in by_county.items()},
    }
    return finding_rows(
        county_code=[city],
        entity_id=[city],
        description_zh=[f"计划乡镇岗位 {planned} 个，区划名录乡镇（街道） {n} 个"],
        description_en=[f"{planned} township positions planned, {n} township offices in the register"],
        evidence=[evidence],
    )


@rule(
    "S10",
    title_zh="岗位空缺时间超过规定天数",
    title_en="Post vacant longer than the allowed days",
    severity="medium",
    entity_type="office",
    requires=("staff",),
    basis_zh=f"{_PLAN}（人员长期扎根基层、专职从事社会救助）",
    basis_en=f"{_PLAN_EN} (staff work long-term at the grassroots, dedicated to social assistance)",
    recommendation_zh="督促承接主体在规定期限内补充人员，空缺期间核减服务费。",
    recommendation_en="Have the contractor fill posts within the allowed days; deduct pay for the vacancy.",
)
def post_vacant_too_long(t: Tables, p: Params) -> pd.DataFrame:
    """Per office, vacancies (after a post ends, until the next hire or year end) over the allowed days."""
    s = _posted_here(t)
    s = s.loc[(s["post_code"] != p.city_code) & s["hired_on"].notna()]
    if s.empty:
        return no_findings()
    first, last = year_bounds(p.audit_year)
    s = s.sort_values(["post_code", "hired_on", "staff_id"]).reset_index(drop=True)
    end = _ends(s)
    g = end.groupby(s["post_code"])
    run_end = g.cummax()
    next_hire = s.groupby("post_code")["hired_on"].shift(-1)
    # whose end is the latest so far: the staff member the vacancy follows
    holder = s["staff_id"].where(end == run_end).groupby(s["post_code"]).ffill()
    # Only days of the audit year count: a vacancy running on past its end is cut there.
    gap_start = (run_end + pd.Timedelta(days=1)).clip(lower=first)
    gap_end = (next_hire - pd.Timedelta(days=1)).fillna(last).clip(upper=last)
    days = (gap_end - gap_start).dt.days + 1
    hit = (days > p.purchase.allowed_vacancy_days) & (run_end < pd.Timestamp(_FAR))
    if not hit.any():
        return no_findings()
    v = pd.DataFrame(
        {
            "office": s["post_code"],
            "county_code": s["county_code"],
            "after_staff_id": holder,
            "vacant_from": gap_start,
            "vacant_to": gap_end,
            "next_staff_id": s.groupby("post_code")["staff_id"].shift(-1),
            "vacant_days": days,
        }
    ).loc[hit]
    per = v.groupby("office", sort=True)
    longest = per["vacant_days"].max()
    gaps = per.apply(
        lambda g: [
            {k: r[k] for k in ("after_staff_id", "vacant_from", "vacant_to", "next_staff_id")}
            | {"vacant_days": int(r["vacant_days"])}
            for r in g.to_dict("records")
        ],
        include_groups=False,
    )
    county = per["county_code"].first()
    if t.county is not None:  # the office is this county's, whoever's partition its staff are in
        county = pd.Series(t.county, index=county.index)
    codes = longest.index.to_series()
    allowed = p.purchase.allowed_vacancy_days
    return finding_rows(
        county_code=county.to_numpy(),
        township_code=codes.to_numpy(),
        entity_id=codes.to_numpy(),
        description_zh="民政所 "
        + text(codes)
        + " 岗位空缺最长 "
        + text(longest)
        + f" 天，超过规定的 {allowed} 天",
        description_en="office "
        + text(codes)
        + ": post vacant up to "
        + text(longest)
        + f" days, over the allowed {allowed}",
        evidence=[{"office": o, "allowed_days": allowed, "vacancies": gaps[o]} for o in codes],
    )
