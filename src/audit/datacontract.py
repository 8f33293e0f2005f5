"""The data contract: which tables a county submission holds and what their columns mean.

This module is the one place where the tables of ``shared/DATA-CONTRACT.md`` are written
down as data. The pandera schemas (:mod:`audit.schemas`), the header mapping of ingest,
the demo generator and the generated ``docs/data-contract.md`` all read it, so none of
them can drift from the others. It knows nothing of checks, rules or files.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from audit.vocabulary import FUNDS, PURPOSES


class Kind(StrEnum):
    """What sort of value a column holds; ingest repairs and schemas check by kind."""

    CODE = "code"  # GB/T 2260 division code, 6 or 9 digits, kept as text
    ID_NUMBER = "id_number"  # 18-character resident ID (GB 11643)
    USCC = "uscc"  # 18-character unified social credit code (GB 32100)
    TEXT = "text"  # free text
    KEY = "key"  # an identifier chosen by the submitter (contract id, voucher no)
    CHOICE = "choice"  # one of a fixed list of values
    DATE = "date"  # a calendar day
    MONTH = "month"  # a period, YYYY-MM
    AMOUNT = "amount"  # money in yuan, at most 2 decimals, >= 0
    COUNT = "count"  # whole number
    NUMBER = "number"  # real number >= 0
    FLAG = "flag"  # yes / no
    ACCOUNT = "account"  # bank account, digits only


@dataclass(frozen=True)
class Column:
    """One column of a table: canonical name, Chinese header, kind and meaning."""

    name: str
    zh: str
    kind: Kind
    description: str
    required: bool = True
    nullable: bool = False
    unique: bool = False
    choices: tuple[str, ...] = ()
    minimum: float | None = None
    aliases: tuple[str, ...] = ()  # other headers seen in real submissions


@dataclass(frozen=True)
class Table:
    """One table of the contract."""

    name: str
    zh: str
    description: str
    columns: tuple[Column, ...]
    reference: bool = False  # brought by the auditor, not submitted by a county
    key: tuple[str, ...] = ()
    notes: tuple[str, ...] = field(default=())

    def column(self, name: str) -> Column:
        """Return the column called ``name``."""
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(name)

    @property
    def names(self) -> tuple[str, ...]:
        """Canonical column names in contract order."""
        return tuple(c.name for c in self.columns)


COUNTY_KINDS = ("区", "县", "开发区", "园区")
TOWNSHIP_KINDS = ("乡", "镇", "街道")
CONTRACTOR_TYPES = ("社会组织", "劳务公司", "事业单位", "其他")
EDUCATION_LEVELS = ("博士研究生", "硕士研究生", "本科", "大专", "中专", "高中", "初中及以下")
"""Highest first: a lower index is a higher level."""
PROGRAMMES = ("城市低保", "农村低保", "特困集中供养", "特困分散供养", "孤儿")
BUSINESS_ROLES = ("法定代表人", "股东", "个体工商户")

ID_ALIASES = ("身份证号码", "公民身份号码", "身份证")
ACCOUNT_ALIASES = ("银行卡号", "银行账户", "银行帐号", "卡号")
"""Header synonyms seen in county exports, read as the column they name (like the Chinese header)."""

# The county column every table may carry; tables that lack it get it derived at ingest.
_COUNTY = Column(
    "county_code",
    "县区代码",
    Kind.CODE,
    "6-digit code of the county-level unit the row belongs to (the city's own code for the city bureau)",
    aliases=("县(区)代码", "区县代码"),
)


def _county(required: bool) -> Column:
    return Column(
        _COUNTY.name,
        _COUNTY.zh,
        _COUNTY.kind,
        _COUNTY.description,
        required=required,
        aliases=_COUNTY.aliases,
    )


TABLES: dict[str, Table] = {
    t.name: t
    for t in (
        Table(
            "divisions",
            "行政区划",
            "The register of county-level units and township offices.",
            (
                Column(
                    "division_code",
                    "区划代码",
                    Kind.CODE,
                    "6 digits (county) or 9 digits (township)",
                    unique=True,
                ),
                Column("name", "名称", Kind.TEXT, "official name"),
                Column("level", "级别", Kind.CHOICE, "county or township", choices=("county", "township")),
                Column("kind", "类型", Kind.CHOICE, "kind of unit", choices=COUNTY_KINDS + TOWNSHIP_KINDS),
                Column(
                    "parent_code",
                    "上级代码",
                    Kind.CODE,
                    "the city's code for a county; the county's code (first 6 digits) for a township",
                ),
                _county(False),
            ),
            key=("division_code",),
        ),
        Table(
            "offices",
            "乡镇民政所",
            'The "four haves" of each township civil-affairs office.',
            (
                Column("division_code", "区划代码", Kind.CODE, "a township in divisions", unique=True),
                Column("dedicated_officer", "民政专干", Kind.FLAG, "a dedicated civil-affairs officer"),
                Column("office_area_m2", "办公面积", Kind.NUMBER, "office floor area in m²", minimum=0),
                Column("has_equipment", "办公设备", Kind.FLAG, "office equipment in place"),
                Column(
                    "budgeted_funds_yuan",
                    "年初预算经费",
                    Kind.AMOUNT,
                    "working funds in the year's opening budget",
                    minimum=0,
                ),
                _county(False),
            ),
            key=("division_code",),
        ),
        Table(
            "contracts",
            "购买服务合同",
            "Purchased-service contracts.",
            (
                Column("contract_id", "合同编号", Kind.KEY, "contract number", unique=True),
                _county(True),
                Column("contractor_name", "承接主体", Kind.TEXT, "contractor"),
                Column(
                    "contractor_uscc",
                    "统一社会信用代码",
                    Kind.USCC,
                    "18 characters with the GB 32100 check character; an invalid code stays and fires C1",
                ),
                Column(
                    "contractor_type",
                    "承接主体类型",
                    Kind.CHOICE,
                    "kind of contractor",
                    choices=CONTRACTOR_TYPES,
                ),
                Column("contractor_registered_on", "登记日期", Kind.DATE, "contractor's registration date"),
                Column("signed_on", "签订日期", Kind.DATE, "date signed"),
                Column("service_start", "服务开始", Kind.DATE, "first day of service"),
                Column("service_end", "服务结束", Kind.DATE, "last day of service"),
                Column("positions", "岗位数", Kind.COUNT, "positions bought", minimum=1),
                Column("amount_yuan", "合同金额", Kind.AMOUNT, "contract amount in yuan", minimum=0),
            ),
            key=("contract_id",),
        ),
        Table(
            "staff",
            "购买服务人员",
            "Purchased social-assistance staff.",
            (
                Column("staff_id", "人员编号", Kind.KEY, "staff number", unique=True),
                Column("name", "姓名", Kind.TEXT, "name (personal data)"),
                Column(
                    "id_number",
                    "身份证号",
                    Kind.ID_NUMBER,
                    "resident ID, GB 11643; an invalid number stays and fires S5",
                    aliases=ID_ALIASES,
                ),
                Column("education", "学历", Kind.CHOICE, "highest education", choices=EDUCATION_LEVELS),
                Column("contract_id", "合同编号", Kind.KEY, "the contract the post is bought under"),
                Column(
                    "post_code",
                    "岗位所在地代码",
                    Kind.CODE,
                    "a township code, or the city's own code for the city bureau",
                ),
                Column("hired_on", "到岗日期", Kind.DATE, "first day in post"),
                Column(
                    "left_on", "离岗日期", Kind.DATE, "last day in post; empty while in post", nullable=True
                ),
                _county(False),
            ),
            key=("staff_id",),
        ),
        Table(
            "fund_allocations",
            "资金下达",
            "Funds allocated to a county (or the city) by source and purpose.",
            (
                Column("allocation_id", "指标文号", Kind.KEY, "allocation document number", unique=True),
                _county(True),
                Column("fund", "资金来源", Kind.CHOICE, "source of the money", choices=FUNDS),
                Column("purpose", "用途", Kind.CHOICE, "what it is for", choices=PURPOSES),
                Column("amount_yuan", "金额", Kind.AMOUNT, "amount in yuan", minimum=0),
                Column("allocated_on", "下达日期", Kind.DATE, "date allocated"),
            ),
            key=("allocation_id",),
        ),
        Table(
            "fund_payments",
            "资金支付",
            "Payments out of those funds other than relief to individuals.",
            (
                Column("voucher_no", "凭证号", Kind.KEY, "accounting voucher number", unique=True),
                _county(True),
                Column("fund", "资金来源", Kind.CHOICE, "source of the money", choices=FUNDS),
                Column("purpose", "用途", Kind.CHOICE, "what it paid for", choices=PURPOSES),
                Column(
                    "contract_id",
                    "合同编号",
                    Kind.KEY,
                    "the contract paid (for 购买服务)",
                    nullable=True,
                ),
                Column(
                    "amount_yuan", "金额", Kind.AMOUNT, "amount in yuan", minimum=0, aliases=("支付金额",)
                ),
                Column("paid_on", "支付日期", Kind.DATE, "date paid", aliases=("支付时间",)),
                Column("covers_month", "所属期", Kind.MONTH, "the month the payment is for, YYYY-MM"),
            ),
            key=("voucher_no",),
        ),
        Table(
            "beneficiaries",
            "救助对象名册",
            "The roll of relief recipients.",
            (
                Column("person_id", "身份证号", Kind.ID_NUMBER, "resident ID, GB 11643", aliases=ID_ALIASES),
                Column("name", "姓名", Kind.TEXT, "name (personal data)"),
                Column("household_id", "户编号", Kind.KEY, "household number", aliases=("户号",)),
                Column("division_code", "所属乡镇", Kind.CODE, "the township the person is enrolled in"),
                Column("programme", "救助类别", Kind.CHOICE, "relief programme", choices=PROGRAMMES),
                Column("household_size", "家庭人口", Kind.COUNT, "persons in the household", minimum=1),
                Column("enrolled_on", "纳入日期", Kind.DATE, "date enrolled"),
                Column(
                    "exited_on", "退出日期", Kind.DATE, "date exited; empty while enrolled", nullable=True
                ),
                Column(
                    "bank_account",
                    "银行账号",
                    Kind.ACCOUNT,
                    "account relief is paid into (personal data)",
                    aliases=ACCOUNT_ALIASES,
                ),
                _county(False),
            ),
            key=("person_id", "programme"),
        ),
        Table(
            "relief_payments",
            "救助金发放明细",
            "Relief paid to individuals, one row per payment.",
            (
                Column("payment_id", "流水号", Kind.KEY, "payment reference", unique=True),
                Column("person_id", "身份证号", Kind.ID_NUMBER, "resident ID, GB 11643", aliases=ID_ALIASES),
                Column("household_id", "户编号", Kind.KEY, "household number", aliases=("户号",)),
                Column("programme", "救助类别", Kind.CHOICE, "relief programme", choices=PROGRAMMES),
                Column("period", "所属期", Kind.MONTH, "the month paid for, YYYY-MM", aliases=("发放月份",)),
                Column("amount_yuan", "发放金额", Kind.AMOUNT, "amount paid in yuan", minimum=0),
                Column("paid_on", "发放日期", Kind.DATE, "date paid", aliases=("发放时间",)),
                Column(
                    "bank_account",
                    "银行账号",
                    Kind.ACCOUNT,
                    "account paid into (personal data)",
                    aliases=ACCOUNT_ALIASES,
                ),
                _county(False),
            ),
            key=("payment_id",),
        ),
        Table(
            "deaths",
            "死亡人员",
            "Death register from the police or civil registry (reference list).",
            (
                Column("person_id", "身份证号", Kind.ID_NUMBER, "resident ID, GB 11643", unique=True),
                Column("died_on", "死亡日期", Kind.DATE, "date of death"),
            ),
            reference=True,
            key=("person_id",),
        ),
        Table(
            "public_employees",
            "财政供养人员",
            "Public payroll from the finance bureau (reference list).",
            (
                Column("person_id", "身份证号", Kind.ID_NUMBER, "resident ID, GB 11643"),
                Column("employer", "单位", Kind.TEXT, "employer"),
                Column("since", "入职日期", Kind.DATE, "date employed"),
            ),
            reference=True,
            key=("person_id", "employer"),
        ),
        Table(
            "vehicles",
            "车辆登记",
            "Motor vehicles registered to a person, from the traffic police (reference list).",
            (
                Column("person_id", "身份证号", Kind.ID_NUMBER, "owner's resident ID, GB 11643"),
                Column("plate", "号牌号码", Kind.TEXT, "number plate", aliases=("车牌号", "车牌号码")),
                Column("registered_on", "登记日期", Kind.DATE, "date registered to this owner"),
                Column(
                    "value_yuan",
                    "车辆价值",
                    Kind.AMOUNT,
                    "value in yuan (purchase price or assessed value)",
                    minimum=0,
                    aliases=("购置价格",),
                ),
            ),
            reference=True,
            key=("person_id", "plate"),
        ),
        Table(
            "real_estate",
            "不动产登记",
            "Real estate registered to a person, from the real-estate registry (reference list).",
            (
                Column("person_id", "身份证号", Kind.ID_NUMBER, "owner's resident ID, GB 11643"),
                Column("area_m2", "建筑面积", Kind.NUMBER, "floor area in m²", minimum=0, aliases=("面积",)),
                Column("registered_on", "登记日期", Kind.DATE, "date registered"),
            ),
            reference=True,
        ),
        Table(
            "business_registrations",
            "工商登记",
            "Businesses a person is registered in, from market regulation (reference list).",
            (
                Column("person_id", "身份证号", Kind.ID_NUMBER, "resident ID, GB 11643"),
                Column(
                    "role",
                    "登记身份",
                    Kind.CHOICE,
                    "what the person is in the business",
                    choices=BUSINESS_ROLES,
                    aliases=("身份",),
                ),
                Column("registered_on", "登记日期", Kind.DATE, "date registered"),
                Column(
                    "capital_yuan",
                    "注册资本",
                    Kind.AMOUNT,
                    "registered capital in yuan",
                    minimum=0,
                    aliases=("出资额",),
                ),
            ),
            reference=True,
        ),
        Table(
            "pensions",
            "养老金",
            "Pensions and social-insurance benefits paid to a person (reference list).",
            (
                Column("person_id", "身份证号", Kind.ID_NUMBER, "resident ID, GB 11643"),
                Column(
                    "monthly_yuan",
                    "月领取金额",
                    Kind.AMOUNT,
                    "paid per month in yuan",
                    minimum=0,
                    aliases=("月养老金",),
                ),
                Column("from", "起始日期", Kind.DATE, "first day paid", aliases=("领取起始日期",)),
            ),
            reference=True,
        ),
        Table(
            "housing_fund",
            "公积金",
            "Housing-fund contributions of a person (reference list).",
            (
                Column("person_id", "身份证号", Kind.ID_NUMBER, "resident ID, GB 11643"),
                Column(
                    "monthly_base_yuan",
                    "缴存基数",
                    Kind.AMOUNT,
                    "contribution base per month in yuan (the wage it is paid on)",
                    minimum=0,
                ),
                Column("from", "起缴日期", Kind.DATE, "first month contributed", aliases=("缴存起始日期",)),
            ),
            reference=True,
        ),
        Table(
            "case_workers",
            "经办人员和村居委会成员",
            "Civil-affairs case workers and village or residents' committee members (reference list).",
            (
                Column("person_id", "身份证号", Kind.ID_NUMBER, "resident ID, GB 11643"),
                Column(
                    "role",
                    "职务",
                    Kind.TEXT,
                    "e.g. 民政经办人员, 村委会成员, 居委会成员",
                    aliases=("身份",),
                ),
                Column("division_code", "所在区划", Kind.CODE, "the county or township they work in"),
                Column(
                    "household_id",
                    "户编号",
                    Kind.KEY,
                    "their household number, where known (relatives by shared household)",
                    required=False,
                    nullable=True,
                ),
            ),
            reference=True,
        ),
        Table(
            "relatives_filed",
            "近亲属备案",
            "Filings (备案) of applicants who are close relatives of case workers or committee members "
            "(民发〔2012〕220号) (reference list).",
            (
                Column("person_id", "身份证号", Kind.ID_NUMBER, "the relative enrolled, GB 11643"),
                Column(
                    "worker_person_id",
                    "经办人员身份证号",
                    Kind.ID_NUMBER,
                    "the case worker or committee member they are related to",
                ),
                Column("filed_on", "备案日期", Kind.DATE, "date filed"),
            ),
            reference=True,
            key=("person_id", "worker_person_id"),
        ),
        Table(
            "relatives",
            "近亲属关系",
            "Close relatives (spouse, parents, siblings, children and their spouses, grandparents, "
            "grandchildren) of case workers or committee members, from household registration "
            "(reference list).",
            (
                Column("person_id", "身份证号", Kind.ID_NUMBER, "one person, GB 11643"),
                Column(
                    "relative_person_id", "亲属身份证号", Kind.ID_NUMBER, "their close relative, GB 11643"
                ),
                Column("relation", "关系", Kind.TEXT, "e.g. 配偶, 父母, 子女, 兄弟姐妹"),
            ),
            reference=True,
            key=("person_id", "relative_person_id"),
        ),
        Table(
            "other_programmes",
            "其他救助项目发放",
            "Payments under other programmes (残疾人两项补贴, 临时救助, 事实无人抚养儿童 …) "
            "(reference list).",
            (
                Column("person_id", "身份证号", Kind.ID_NUMBER, "resident ID, GB 11643"),
                Column("programme", "项目名称", Kind.TEXT, "the programme paid", aliases=("救助项目",)),
                Column("period", "所属期", Kind.MONTH, "the month paid for, YYYY-MM"),
                Column("amount_yuan", "发放金额", Kind.AMOUNT, "amount paid in yuan", minimum=0),
            ),
            reference=True,
        ),
    )
}
"""Every table of the contract, by canonical name, in contract order."""


def header_map(table: str) -> dict[str, str]:
    """Map every accepted header of ``table`` (English, Chinese, aliases) to its canonical name."""
    out: dict[str, str] = {}
    for col in TABLES[table].columns:
        for header in (col.name, col.zh, *col.aliases):
            out[header] = col.name
    return out
