"""The input bundle rules read: table name -> DataFrame, or None when the table was not supplied.

A county run gets the county's partition of every submitted table and the whole of each
reference list (deaths, public employees, vehicles, ...), and, apart (:attr:`Tables.joined`),
the rows of other counties' partitions its joins need (:data:`JOINS`: a worker filed under
the county of their post, paid under this county's contract; the roll row and township of a
household this county paid; the roll of a worker's post); the city run gets everything.
An empty table is supplied (the rules run and may be clean); a table that is None is missing
(the rules that need it say "not run").
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import NamedTuple

import numpy as np
import pandas as pd

from audit.datacontract import TABLES
from audit.exceptions import InputError


class Join(NamedTuple):
    """Rows of a table in other partitions whose ``column`` holds a value of ``other``'s ``other_column``.

    ``other``'s rows are this county's, with those it joined itself when it comes earlier in
    :data:`JOINS` (or the rows found so far, when ``other`` is the table itself).
    """

    other: str
    column: str
    other_column: str = ""  # default: ``column``

    @property
    def key(self) -> str:
        """The column of ``other`` matched."""
        return self.other_column or self.column


JOINS: dict[str, tuple[Join, ...]] = {
    "staff": (Join("contracts", "contract_id"), Join("divisions", "post_code", "division_code")),
    "beneficiaries": (
        Join("relief_payments", "household_id"),
        Join("staff", "person_id", "id_number"),
        Join("beneficiaries", "household_id"),
    ),
    "divisions": (Join("beneficiaries", "division_code"), Join("staff", "division_code", "post_code")),
}
"""Rows a county's run reads from other partitions (:attr:`Tables.joined`), table by table, in order.

Staff are filed under the county of their post, but the county whose contract pays them
counts them for C3/C7/C8; a worker filed elsewhere (by their own county code or sheet) but
posted at this county's township is judged here by the post rules (S1/S2/S10), and the
township of a post of this county's staff in another county's register is known. A household
this county paid may be on another county's roll (F5 judges the payment by that roll's
household size and that register's township); a worker filed here may be on the roll of a
post in another county (S7); the rest
of such a household comes with it. Rules that judge this county's own rows (F1: "on this
county's roll") read ``t[name]``; those that need the joined rows read :meth:`Tables.with_joined`.
"""

# Nouns for "not run: no ... supplied" / "未运行：未提供……".
_NOUN_ZH = {
    "divisions": "行政区划名录",
    "offices": "乡镇民政所情况表",
    "contracts": "购买服务合同表",
    "staff": "购买服务人员表",
    "fund_allocations": "资金下达表",
    "fund_payments": "资金支付表",
    "beneficiaries": "救助对象名册",
    "relief_payments": "救助金发放明细",
    "deaths": "死亡人员名单",
    "public_employees": "财政供养人员名单",
    "vehicles": "车辆登记信息",
    "real_estate": "不动产登记信息",
    "business_registrations": "工商登记信息",
    "pensions": "养老金领取信息",
    "housing_fund": "公积金缴存信息",
    "case_workers": "经办人员和村居委会成员名单",
    "relatives_filed": "近亲属备案记录",
    "relatives": "近亲属关系信息",
    "other_programmes": "其他救助项目发放信息",
}
_NOUN_EN = {
    "divisions": "division register",
    "offices": "office (four haves) table",
    "contracts": "contracts table",
    "staff": "staff table",
    "fund_allocations": "fund allocations table",
    "fund_payments": "fund payments table",
    "beneficiaries": "beneficiary roll",
    "relief_payments": "relief payments table",
    "deaths": "death register",
    "public_employees": "public-employee list",
    "vehicles": "vehicle register",
    "real_estate": "real-estate register",
    "business_registrations": "business register",
    "pensions": "pension list",
    "housing_fund": "housing-fund list",
    "case_workers": "case-worker list",
    "relatives_filed": "relatives' filing (备案) register",
    "relatives": "relatives list",
    "other_programmes": "other programmes' payments",
}


def missing_reason(tables: tuple[str, ...]) -> tuple[str, str]:
    """The not-run reason, in Chinese and English, for the missing ``tables``."""
    zh = "、".join(_NOUN_ZH[t] for t in tables)
    en = ", ".join(_NOUN_EN[t] for t in tables)
    return f"未运行：未提供{zh}", f"not run: no {en} supplied"


def _one_chunk(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with its Arrow-backed columns in one chunk each (a shallow copy when any is not).

    Parquet read by row groups gives columns in many chunks, and pyarrow's take on a
    chunked column first joins the chunks: every row selection of a rule would pay for that;
    joining them once here costs about as much as one selection.
    """
    joined = {}
    for name in frame.columns:
        array = frame[name].array
        if hasattr(array, "__arrow_array__"):
            arrow = array.__arrow_array__()
            if getattr(arrow, "num_chunks", 1) > 1:
                joined[name] = pd.Series(
                    pd.array(arrow.combine_chunks(), dtype=frame[name].dtype), index=frame.index, name=name
                )
    if not joined:
        return frame
    out = frame.copy(deep=False)
    for name, column in joined.items():
        out[name] = column
    return out


class Tables(Mapping[str, pd.DataFrame | None]):
    """Every table of the contract, by name; missing ones are None."""

    def __init__(
        self,
        frames: Mapping[str, pd.DataFrame | None],
        *,
        county: str | None = None,
        joined: Mapping[str, pd.DataFrame] | None = None,
    ) -> None:
        unknown = sorted(set(frames) - set(TABLES))
        if unknown:
            raise InputError(f"unknown tables {unknown}; the contract's tables are {', '.join(TABLES)}")
        self._frames: dict[str, pd.DataFrame | None] = {
            name: None if frames.get(name) is None else _one_chunk(frames[name]) for name in TABLES
        }
        self.county = county  # the partition these tables are, None for the whole city
        self.joined = dict(joined or {})  # rows of other partitions this county's joins need (JOINS)
        for name, frame in self._frames.items():
            if frame is None:
                continue
            wanted = [c.name for c in TABLES[name].columns if c.required]
            if not TABLES[name].reference:
                wanted.append("county_code")  # ingest derives it for every non-reference table
            lacking = [c for c in dict.fromkeys(wanted) if c not in frame.columns]
            if lacking:
                raise InputError(f"table {name} lacks columns {lacking}", file=name)

    def __getitem__(self, name: str) -> pd.DataFrame:
        frame = self._frames[name]
        if frame is None:
            raise InputError(f"table {name} was not supplied", file=name)
        return frame

    def get(self, name: str, default: pd.DataFrame | None = None) -> pd.DataFrame | None:  # type: ignore[override]
        """The table ``name``, or ``default`` when it was not supplied."""
        frame = self._frames.get(name)
        return default if frame is None else frame

    def __iter__(self) -> Iterator[str]:
        return iter(self._frames)

    def __len__(self) -> int:
        return len(self._frames)

    def with_joined(self, name: str, new: str | None = None) -> pd.DataFrame:
        """Table ``name`` with the rows of other partitions joined to this county's (see :data:`JOINS`).

        ``new``: only joined rows whose value of that column no row of this county has (a
        household number another county's roll reuses does not change this county's household).
        """
        frame = self[name]
        extra = self.joined.get(name)
        if extra is not None and new is not None:
            extra = extra.loc[~extra[new].isin(frame[new]).to_numpy(dtype=bool)]
        return frame if extra is None or extra.empty else pd.concat([frame, extra], ignore_index=True)

    def missing(self, names: tuple[str, ...]) -> tuple[str, ...]:
        """Those of ``names`` that were not supplied."""
        return tuple(n for n in names if self._frames[n] is None)

    def counties(self) -> tuple[str, ...]:
        """County codes (and 540100 for the city bureau) present in any submitted table, sorted."""
        codes: set[str] = set()
        for name, frame in self._frames.items():
            if frame is not None and not TABLES[name].reference:
                codes.update(frame["county_code"].dropna().unique().tolist())
        return tuple(sorted(codes))

    def partition(self, county: str) -> Tables:
        """The tables of one county: its rows of every submitted table, reference lists whole."""
        parts: dict[str, pd.DataFrame | None] = {}
        for name, frame in self._frames.items():
            if frame is None or TABLES[name].reference:
                parts[name] = frame
            else:
                mine = (frame["county_code"] == county).to_numpy(dtype=bool, na_value=False)
                # a store's county partition is all one county: no copy of a million rows then
                parts[name] = frame if mine.all() else frame.loc[mine].reset_index(drop=True)
        joined: dict[str, pd.DataFrame] = {}
        for name, joins in JOINS.items():
            frame = self._frames.get(name)
            if frame is None:
                continue
            foreign = ~(frame["county_code"] == county).to_numpy(dtype=bool, na_value=False)
            wanted = joined_rows(frame, foreign, joins, parts, joined, name)
            if wanted.any():
                joined[name] = frame.loc[wanted].reset_index(drop=True)
        return Tables(parts, county=county, joined=joined)


def joined_rows(
    frame: pd.DataFrame,
    foreign: np.ndarray,
    joins: tuple[Join, ...],
    parts: Mapping[str, pd.DataFrame | None],
    joined: Mapping[str, pd.DataFrame],
    name: str,
) -> np.ndarray:
    """Which ``foreign`` rows of table ``name`` (``frame``) its ``joins`` need, given this county's ``parts``.

    ``joined``: the rows other tables joined so far (they join on too). Shared by the in-memory
    partition and the store's reader (:mod:`audit.kept_runs`), so both join the same rows.
    """
    wanted = np.zeros(len(frame), dtype=bool)
    for join in joins:
        if join.other == name:  # the table on itself: this county's rows and those found so far
            keys = frame.loc[~foreign | wanted, join.key]
        else:
            mine = parts.get(join.other)
            if mine is None:
                continue
            keys = mine[join.key]
            if join.other in joined:
                keys = pd.concat([keys, joined[join.other][join.key]], ignore_index=True)
        wanted |= frame[join.column].isin(keys.dropna().unique()).to_numpy(dtype=bool, na_value=False)
    return wanted & foreign
