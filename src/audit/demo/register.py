"""The division register of the demo: Lhasa's ten county-level units and 66 township offices.

Names and kinds are the public ones of ``shared/FACTS.md`` (65 offices); the release counts
66, so one synthetic street office is added under 540172 and says so in its name. Codes are
the county's six digits plus three: streets 0xx, towns 1xx, townships 2xx, in list order.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

OLD_DUILONG_COUNTY = "540103"
"""堆龙德庆区, until 2015 堆龙德庆县 (540125): older residents' IDs still carry the old code."""
SYNTHETIC_MARK = "（示例）"
"""Marks the one office that is not in the public list (the release's 66th)."""


@dataclass(frozen=True)
class County:
    """A county-level unit."""

    code: str
    name: str
    kind: str  # 区 | 县 | 开发区 | 园区
    short: str  # as document numbers abbreviate it (城关财预〔2020〕1号)


@dataclass(frozen=True)
class Office:
    """A township, town or street office."""

    code: str
    name: str
    kind: str  # 街道 | 镇 | 乡
    county: str
    weight: float  # relative size of its relief roll

    @property
    def urban(self) -> bool:
        """Street offices are urban (城市低保, urban standards); towns and townships are rural."""
        return self.kind == "街道"

    @property
    def synthetic(self) -> bool:
        """Whether the office was added to reach the release's count of 66."""
        return SYNTHETIC_MARK in self.name


COUNTIES: tuple[County, ...] = (
    County("540102", "城关区", "区", "城关"),
    County("540103", "堆龙德庆区", "区", "堆龙"),
    County("540104", "达孜区", "区", "达孜"),
    County("540121", "林周县", "县", "林周"),
    County("540122", "当雄县", "县", "当雄"),
    County("540123", "尼木县", "县", "尼木"),
    County("540124", "曲水县", "县", "曲水"),
    County("540127", "墨竹工卡县", "县", "墨竹"),
    County("540172", "拉萨经济技术开发区", "开发区", "经开"),
    County("540173", "西藏文化旅游创意园区", "园区", "文创"),
)

# county -> (streets, towns, townships) as FACTS.md lists them; weights give big central
# streets more people than outlying townships.
_OFFICES: dict[str, tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]] = {
    "540102": (
        ("八廓", "吉日", "吉崩岗", "扎细", "公德林", "嘎玛贡桑", "两岛", "金珠西路"),
        (),
        ("蔡公堂", "夺底", "娘热", "纳金"),
    ),
    "540103": (("东嘎", "乃琼", "羊达", "柳梧"), (), ("古荣", "马", "德庆")),
    "540104": ((), ("德庆",), ("塔杰", "章多", "唐嘎", "雪", "帮堆")),
    "540121": (
        (),
        ("甘丹曲果",),
        ("春堆", "松盘", "强嘎", "卡孜", "边交林", "江热夏", "阿朗", "唐古", "旁多"),
    ),
    "540122": ((), ("当曲卡", "羊八井"), ("格达", "宁中", "公塘", "龙仁", "乌玛塘", "纳木湖")),
    "540123": ((), ("塔荣", "吞巴"), ("麻江", "普松", "卡如", "尼木", "续迈", "帕古")),
    "540124": ((), ("曲水", "达嘎"), ("才纳", "南木", "聂当", "茶巴拉")),
    "540127": ((), ("工卡",), ("扎雪", "门巴", "扎西岗", "日多", "尼玛江热", "甲玛", "唐加")),
    "540172": (("经开区" + SYNTHETIC_MARK,), (), ()),
    "540173": ((), (), ()),
}
_SUFFIX = {"街道": "街道", "镇": "镇", "乡": "乡"}
_FIRST = {"街道": 1, "镇": 101, "乡": 201}
_WEIGHT = {("540102", "街道"): 2.0, ("540103", "街道"): 1.2, ("540172", "街道"): 0.8}


def _offices() -> tuple[Office, ...]:
    out = []
    for county, groups in _OFFICES.items():
        for kind, names in zip(("街道", "镇", "乡"), groups, strict=True):
            for i, base in enumerate(names):
                name = base.replace(SYNTHETIC_MARK, "") + _SUFFIX[kind]
                if SYNTHETIC_MARK in base:
                    name += SYNTHETIC_MARK
                code = f"{county}{_FIRST[kind] + i:03d}"
                out.append(Office(code, name, kind, county, _WEIGHT.get((county, kind), 1.0)))
    return tuple(out)


OFFICES: tuple[Office, ...] = _offices()
COUNTY_BY_CODE = {c.code: c for c in COUNTIES}
OFFICE_BY_CODE = {o.code: o for o in OFFICES}


def divisions_table(city_code: str) -> pd.DataFrame:
    """The ``divisions`` table: counties first (their parent ``city_code``), then offices, in code order."""
    rows = [
        {"division_code": c.code, "name": c.name, "level": "county", "kind": c.kind, "parent_code": city_code}
        for c in COUNTIES
    ]
    rows += [
        {
            "division_code": o.code,
            "name": o.name,
            "level": "township",
            "kind": o.kind,
            "parent_code": o.county,
        }
        for o in OFFICES
    ]
    frame = pd.DataFrame(rows)
    frame["county_code"] = frame["division_code"].str[:6]
    return frame


def offices_table(rng: np.random.Generator) -> pd.DataFrame:
    """The ``offices`` table with all four haves in place (anomalies remove some)."""
    n = len(OFFICES)
    return pd.DataFrame(
        {
            "division_code": [o.code for o in OFFICES],
            "dedicated_officer": np.ones(n, dtype=bool),
            "office_area_m2": rng.integers(18, 65, n).astype(float),
            "has_equipment": np.ones(n, dtype=bool),
            # Working funds in whole thousands, as budgets are written.
            "budgeted_funds_yuan": rng.integers(20, 80, n).astype(float) * 1000,
            "county_code": [o.county for o in OFFICES],
        }
    )
