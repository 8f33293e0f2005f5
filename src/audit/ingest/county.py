"""County attribution: which county's partition each row of a partitioned table is filed in.

A row's county is its own ``county_code``, else the county the sheet is named after, else
what its table's rules derive (:data:`RULES`): the first six digits of a code column (a
division's, an office's, a roll entry's township, a staff post), or for a relief payment
the county whose roll its person is on. Every rule that is about one table, and what
ingest learns from a table for later ones (county names from the divisions, the roll
from the beneficiaries), is written here, in one registry keyed by table name; the block
loop of :mod:`audit.ingest.run` knows no table by name.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from audit.contract import CITY_CODE, TABLES
from audit.ingest.blocks import arrow_text
from audit.repairs import Issue
from audit.store import partitioned
from audit.textkeys import text_hashes

_CODE = r"\d{6}(?:\d{3})?"


@dataclass(frozen=True)
class CountyRules:
    """How the rows of one table find their county, and what ingest learns from them.

    ``code_column``: the code whose first six digits give a row's county when it has none.
    ``source``: the column whose own failure explains an unknown county (default the code
    column). ``unknown``: why a county is unknown, English and Chinese (default: the code
    column is missing or not a code). ``derive``: the counties of the rows still without
    one. ``stored``, ``closed``, ``dropped``: called when a block of the table is stored,
    when the whole table is, and when the table failed and is forgotten.
    """

    code_column: str | None = None
    source: str | None = None
    unknown: tuple[str, str] | None = None
    derive: Callable[[Counties, dict[str, pd.Series], np.ndarray], np.ndarray] | None = None
    stored: Callable[[Counties, pd.DataFrame], None] | None = None
    closed: Callable[[Counties], None] | None = None
    dropped: Callable[[Counties], None] | None = None


class Counties:
    """What an ingest knows about counties: their names, and who is on which county's roll."""

    def __init__(self, city_code: str = CITY_CODE) -> None:
        self.city_code = city_code
        self.names: dict[str, str] = {}  # county-level division names -> code
        self.roll_parts: list[pd.DataFrame] = []
        self.roll: Roll | None = None

    def sheet_county(self, sheet: str) -> str | None:
        """The county a sheet is named after (a 6-digit code, or a county name in the divisions)."""
        if not sheet:
            return None
        name = re.sub(r"\s+", "", unicodedata.normalize("NFKC", sheet))
        code = re.search(r"(?<!\d)(\d{6})(?!\d)", name)
        if code:
            return code.group(1)
        if "市本级" in name:
            return self.city_code
        hits = {c for n, c in self.names.items() if n and (n in name or name in n)}
        return hits.pop() if len(hits) == 1 else None

    def county(
        self, table: str, typed: dict[str, pd.Series], sheet_county: str | None, n: int
    ) -> pd.Series | None:
        """County of each row: its own column, else the sheet name, else its table's rules."""
        if not partitioned(table):
            return None
        county = typed.get("county_code")
        if county is None:
            county = pd.Series(pa.nulls(n, pa.string()).to_pandas(), dtype="str")
        if sheet_county:
            county = county.fillna(sheet_county)
        rules = RULES.get(table, CountyRules())
        source = rules.code_column
        if source and source in typed and county.isna().any():
            code = typed[source]
            county = county.fillna(code.str.slice(0, 6).where(code.str.fullmatch(_CODE).fillna(False)))
        if rules.derive is not None and county.isna().any():
            need = county.isna().to_numpy()
            found = rules.derive(self, typed, need)
            if found is not None:
                county = county.copy()
                county[need] = found
        return county.astype("str")

    def source(self, table: str) -> str | None:
        """The column whose failure already explains a row's unknown county."""
        rules = RULES.get(table, CountyRules())
        return rules.source or rules.code_column

    def unknown(self, table: str) -> Issue:
        """The log's reason for a row whose county cannot be told."""
        rules = RULES.get(table, CountyRules())
        source = rules.unknown
        if source is None and rules.code_column is not None:
            column = TABLES[table].column(rules.code_column)
            source = (
                f"{column.zh} is missing or not a 6- or 9-digit code",
                f"{column.zh}缺失或不是6位或9位代码",
            )
        en, zh = source or ("the sheet is not named after a county", "工作表名称不是县区名称")
        return Issue(
            "county unknown",
            f"cannot tell which county the row belongs to ({en}): add a 县区代码 column",
            f"无法确定该行所属县区（{zh}）：请增加“县区代码”列",
        )

    def stored(self, table: str, store: pd.DataFrame) -> None:
        """A block of ``table`` was stored (``store``: all its rows, quarantined ones too)."""
        hook = RULES.get(table, CountyRules()).stored
        if hook is not None:
            hook(self, store)

    def closed(self, table: str) -> None:
        """Every block of ``table`` was stored."""
        hook = RULES.get(table, CountyRules()).closed
        if hook is not None:
            hook(self)

    def dropped(self, table: str) -> None:
        """``table`` failed: forget what was learnt from it."""
        hook = RULES.get(table, CountyRules()).dropped
        if hook is not None:
            hook(self)


def _learn_names(counties: Counties, store: pd.DataFrame) -> None:
    """County-level division names, for sheets named after a county."""
    rows = store[(store["level"] == "county") & store["division_code"].str.fullmatch(r"\d{6}").fillna(False)]
    for name, code in zip(rows["name"], rows["division_code"], strict=True):
        if isinstance(name, str):
            counties.names[re.sub(r"\s+", "", name)] = code


def _add_to_roll(counties: Counties, store: pd.DataFrame) -> None:
    counties.roll_parts.append(store[["person_id", "programme", "county_code"]].dropna())


def _build_roll(counties: Counties) -> None:
    """Who is on which county's roll, for payments without a county column."""
    if not counties.roll_parts:
        return
    counties.roll = Roll(pd.concat(counties.roll_parts, ignore_index=True))
    counties.roll_parts.clear()


def _forget_roll(counties: Counties) -> None:
    counties.roll_parts.clear()


def _from_roll(counties: Counties, typed: dict[str, pd.Series], need: np.ndarray) -> np.ndarray | None:
    if counties.roll is None:
        return None
    return counties.roll.county(typed["person_id"][need], typed["programme"][need])


RULES: dict[str, CountyRules] = {
    "divisions": CountyRules(code_column="division_code", stored=_learn_names),
    "offices": CountyRules(code_column="division_code"),
    "beneficiaries": CountyRules(
        code_column="division_code", stored=_add_to_roll, closed=_build_roll, dropped=_forget_roll
    ),
    "staff": CountyRules(code_column="post_code"),
    "relief_payments": CountyRules(
        source="person_id",
        unknown=(
            "the person and programme are not on exactly one county's roll (救助对象名册)",
            "该人员及救助类别未在唯一一个县区的救助对象名册中",
        ),
        derive=_from_roll,
    ),
}
"""The county rules of each table that has any; other tables take their county from their column or sheet."""


class Roll:
    """The county whose roll (救助对象名册) a person is on, for payments without a county column.

    The county of the (person, programme) pair when exactly one county's roll has the pair,
    else of the person when exactly one county's has them. Looked up by hash and confirmed
    on the text, so a block costs its own size, not the roll's.
    """

    def __init__(self, roll: pd.DataFrame) -> None:
        self.roll = roll[["person_id", "programme", "county_code"]]
        # Built when a payment first needs them (most payment files have their counties).
        self.pairs: Lookup | None = None
        self.persons: Lookup | None = None

    def county(self, person: pd.Series, programme: pd.Series) -> np.ndarray:
        """The county of each payment's person (None where no single county's roll has them)."""
        if self.pairs is None:
            roll = self.roll.drop_duplicates()
            pairs = roll[roll.groupby(["person_id", "programme"])["county_code"].transform("size") == 1]
            persons = roll[["person_id", "county_code"]].drop_duplicates()
            persons = persons[persons.groupby("person_id")["county_code"].transform("size") == 1]
            self.pairs = Lookup(_pair_keys(pairs["person_id"], pairs["programme"]), pairs["county_code"])
            self.persons = Lookup(arrow_text(persons["person_id"]), persons["county_code"])
        found = self.pairs.get(_pair_keys(person, programme))
        missing = np.flatnonzero(pd.isna(found))
        if len(missing):
            found[missing] = self.persons.get(arrow_text(person.iloc[missing]))
        return found


def _pair_keys(person: pd.Series, programme: pd.Series) -> pa.Array:
    """Person and programme as one text (missing when either is)."""
    separator = pa.scalar("\x1f", pa.large_string())
    return pc.binary_join_element_wise(arrow_text(person), arrow_text(programme), separator)


class Lookup:
    """Values by distinct text keys, found through a sorted array of the keys' 64-bit hashes."""

    def __init__(self, keys: pa.Array, values: pd.Series) -> None:
        hashes = text_hashes(keys)
        order = np.argsort(hashes, kind="stable")
        self.hashes = hashes[order]
        self.keys = keys.take(pa.array(order))
        self.values = pd.Categorical(values.to_numpy()[order])  # a few counties, not a string a row
        # Two keys sharing a hash (about one roll in 10^7) are looked up by pandas instead.
        shared = len(order) > 1 and bool((self.hashes[1:] == self.hashes[:-1]).any())
        self.index = pd.Index(self.keys.to_pandas(), dtype="str") if shared else None

    def get(self, query: pa.Array) -> np.ndarray:
        """The value of each key of ``query`` (None where unknown or missing)."""
        out = np.full(len(query), None, dtype=object)
        valid = np.flatnonzero(query.is_valid().to_numpy(zero_copy_only=False))
        if not len(valid) or not len(self.hashes):
            return out
        asked = query.drop_null()
        if self.index is not None:
            at = self.index.get_indexer(asked.to_pandas())
            known = at >= 0
            out[valid[known]] = np.asarray(self.values[at[known]], dtype=object)
            return out
        wanted = text_hashes(asked)
        at = np.minimum(np.searchsorted(self.hashes, wanted), len(self.hashes) - 1)
        known = (self.hashes[at] == wanted) & pc.equal(self.keys.take(pa.array(at)), asked).to_numpy(
            zero_copy_only=False
        )
        out[valid[known]] = np.asarray(self.values[at[known]], dtype=object)
        return out
