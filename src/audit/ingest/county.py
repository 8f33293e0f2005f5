"""County attribution: which county's partition each row of a partitioned table is filed in.

A row's county is its own ``county_code``, else the county the sheet is named after, else
what its table's rules derive (:data:`RULES`): the first six digits of a code column (a
division's, an office's, a roll entry's township); a staff row takes its post's county
when the post is in the register, else its contract's (a post outside the register is
S2's finding, and the contract's county must still count the worker for C3/C7/C8). A relief payment without
a county takes, in this order, the county of its household on the roll, of its person when
that person is on one county's roll only, of its bank account on the roll, the county its
folder is named after, the submission's single county; otherwise it is *unattributed* and
filed under the city's own code, the partition the city roll-up audits (with the city
bureau's rows). When several folders are read, a row no rule places takes the unit its
folder is named after (:mod:`audit.ingest.submissions`). A payment to
someone on no roll is so never quarantined: F1 judges it where it is filed.

Every rule that is about one table, and what ingest learns from a table for later ones
(county names from the divisions, the roll from the beneficiaries), is written here, in
one registry keyed by table name; the block loop of :mod:`audit.ingest.run` knows no
table by name.
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

from audit.datacontract import TABLES
from audit.ingest.blocks import arrow_text
from audit.repairs import Issue
from audit.store import partitioned
from audit.textkeys import text_hashes

_CODE = r"\d{6}(?:\d{3})?"


@dataclass(frozen=True)
class TableRules:
    """How the rows of one table find their county, and what ingest learns from them.

    ``exact_copies``: a row that repeats an earlier row of the table exactly is quarantined
    as a copy and the first kept (a reference list, where a repeated key would otherwise
    quarantine every copy and lose the fact to the rules).
    ``code_column``: the code whose first six digits give a row's county when it has none.
    ``source``: the column whose own failure explains an unknown county (default the code
    column). ``unknown``: why a county is unknown, English and Chinese (default: the code
    column is missing or not a code). ``derive``: the counties of the rows still without
    one. ``stored``, ``closed``, ``dropped``: called when a block of the table is stored,
    when the whole table is, and when the table failed and is forgotten. ``submitter``: the
    unit that may submit each row besides its county of record (a worker's paying contract's
    county; the city, whose register the divisions are), for the folders named after a unit
    (:mod:`audit.ingest.submissions`).
    """

    code_column: str | None = None
    source: str | None = None
    unknown: tuple[str, str] | None = None
    derive: Callable[[Counties, dict[str, pd.Series], np.ndarray], np.ndarray] | None = None
    stored: Callable[[Counties, pd.DataFrame], None] | None = None
    closed: Callable[[Counties], None] | None = None
    dropped: Callable[[Counties], None] | None = None
    exact_copies: bool = False
    submitter: Callable[[Counties, pd.DataFrame], np.ndarray] | None = None


class Counties:
    """What an ingest knows about counties: their names, and who is on which county's roll."""

    def __init__(self, city_code: str | None = None, city_from: str = "") -> None:
        self.city_code = city_code  # None until the parameters or the divisions register tell
        self.city_from = city_from if city_code is not None else ""
        self.names: dict[str, str] = {}  # county-level division names -> code
        self.roll_parts: list[pd.DataFrame] = []
        self.roll: Roll | None = None
        self.seen: set[str] = set()  # counties of the rows stored so far (the city's code aside)
        self.rows: dict[str, set[int]] = {}  # table -> hashes of its rows so far, where copies are found
        self.townships: set[str] = set()  # township codes of the divisions register
        self.contracts: dict[str, str] = {}  # contract number -> the contract's county
        self.folder: str | None = None  # the unit the folder being read is named after, if any

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
        """County of each row: its own column, else the sheet name, its table's rules, its folder's."""
        if not partitioned(table):
            return None
        county = typed.get("county_code")
        if county is None:
            county = pd.Series(pa.nulls(n, pa.string()).to_pandas(), dtype="str")
        if sheet_county:
            county = county.fillna(sheet_county)
        rules = RULES.get(table, TableRules())
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
        if self.folder is not None and county.isna().any():  # the county its folder is named after
            county = county.fillna(self.folder)
        return county.astype("str")

    def submitter(self, table: str, store: pd.DataFrame) -> np.ndarray | None:
        """The unit that may submit each row of a block besides its county of record (None: none)."""
        rule = RULES.get(table, TableRules()).submitter
        return rule(self, store) if rule is not None else None

    def source(self, table: str) -> str | None:
        """The column whose failure already explains a row's unknown county."""
        rules = RULES.get(table, TableRules())
        return rules.source or rules.code_column

    def unknown(self, table: str) -> Issue:
        """The log's reason for a row whose county cannot be told."""
        rules = RULES.get(table, TableRules())
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
        if table != "relief_payments" and "county_code" in store:
            self.seen.update(str(c) for c in store["county_code"].dropna().unique() if c != self.city_code)
        hook = RULES.get(table, TableRules()).stored
        if hook is not None:
            hook(self, store)

    def closed(self, table: str) -> None:
        """Every block of ``table`` was stored."""
        hook = RULES.get(table, TableRules()).closed
        if hook is not None:
            hook(self)

    def copies(self, table: str, store: pd.DataFrame) -> np.ndarray | None:
        """Where a row repeats an earlier row of ``table`` exactly (None: the table keeps copies)."""
        if not RULES.get(table, TableRules()).exact_copies:
            return None
        columns = [c.name for c in TABLES[table].columns if c.name in store]
        hashes = pd.util.hash_pandas_object(store[columns], index=False).to_numpy()
        seen = self.rows.setdefault(table, set())
        out = np.zeros(len(hashes), dtype=bool)
        for i, h in enumerate(hashes.tolist()):  # reference lists are short
            out[i] = h in seen
            seen.add(h)
        return out

    def dropped(self, table: str) -> None:
        """``table`` failed, or is read again: forget what was learnt from it."""
        self.rows.pop(table, None)
        hook = RULES.get(table, TableRules()).dropped
        if hook is not None:
            hook(self)


def _learn_names(counties: Counties, store: pd.DataFrame) -> None:
    """County-level division names, for sheets named after a county."""
    rows = store[(store["level"] == "county") & store["division_code"].str.fullmatch(r"\d{6}").fillna(False)]
    for name, code in zip(rows["name"], rows["division_code"], strict=True):
        if isinstance(name, str):
            counties.names[re.sub(r"\s+", "", name)] = code


def _learn_townships(counties: Counties, store: pd.DataFrame) -> None:
    if counties.city_code is None:  # the register's root: the parent of its counties
        parents = store.loc[store["level"] == "county", "parent_code"].dropna()
        if len(parents):
            counties.city_code = str(parents.value_counts().sort_index().idxmax())
            counties.city_from = "the root of the divisions register"
    _learn_names(counties, store)
    rows = store[(store["level"] == "township") & store["division_code"].notna()]
    counties.townships.update(str(c) for c in rows["division_code"])


def _learn_contracts(counties: Counties, store: pd.DataFrame) -> None:
    rows = store[store["contract_id"].notna() & store["county_code"].notna()]
    for contract, county in zip(rows["contract_id"], rows["county_code"], strict=True):
        counties.contracts.setdefault(str(contract), str(county))


def _staff_county(counties: Counties, typed: dict[str, pd.Series], need: np.ndarray) -> np.ndarray | None:
    """A staff row's county: its post's when the post is in the register, else its contract's.

    A post outside the register (a code no township has) says nothing of where the worker
    is paid from: the contract's county keeps them, so its C3/C7/C8 see them, and S2 there
    reports the post. Without a register every post's first six digits are taken.
    """
    if "post_code" not in typed:
        return None
    post = typed["post_code"][need]
    valid = post.str.fullmatch(_CODE).fillna(False).to_numpy(dtype=bool)
    code = post.str.slice(0, 6).to_numpy(dtype=object, na_value=None)
    out = np.where(valid, code, None).astype(object)
    if not counties.townships:
        return out
    posts = post.to_numpy(dtype=object, na_value=None)
    known = np.array([p in counties.townships or p == counties.city_code for p in posts], dtype=bool)
    if "contract_id" in typed:
        contract = typed["contract_id"][need].to_numpy(dtype=object, na_value=None)
        paying = np.array(
            [counties.contracts.get(c) if c is not None else None for c in contract], dtype=object
        )
        use = ~known & pd.notna(paying)
        out[use] = paying[use]
    return out


def _paying_county(counties: Counties, store: pd.DataFrame) -> np.ndarray:
    """The county of each worker's contract: it submits the worker wherever the post is."""
    if "contract_id" not in store:
        return np.full(len(store), None, dtype=object)
    contracts = store["contract_id"].to_numpy(dtype=object, na_value=None)
    return np.array([counties.contracts.get(c) if c is not None else None for c in contracts], dtype=object)


def _register_owner(counties: Counties, store: pd.DataFrame) -> np.ndarray:
    """The city, whose register the divisions are: its code, or the parent of the block's counties."""
    city = counties.city_code
    if city is None:
        parents = store.loc[store["level"] == "county", "parent_code"].dropna()
        city = str(parents.value_counts().sort_index().idxmax()) if len(parents) else None
    return np.full(len(store), city, dtype=object)


def _add_to_roll(counties: Counties, store: pd.DataFrame) -> None:
    kept = store[list(Roll.COLUMNS)]
    counties.roll_parts.append(kept.dropna(subset=["person_id", "county_code"]))


def _build_roll(counties: Counties) -> None:
    """Who is on which county's roll, for payments without a county column."""
    if not counties.roll_parts:
        return
    counties.roll = Roll(pd.concat(counties.roll_parts, ignore_index=True))
    counties.roll_parts.clear()


def _forget_roll(counties: Counties) -> None:
    counties.roll_parts.clear()
    counties.roll = None


def _payment_county(counties: Counties, typed: dict[str, pd.Series], need: np.ndarray) -> np.ndarray:
    """The county of payments without one: household, person, account on the roll, then the submission's."""
    n = int(need.sum())
    found = np.full(n, None, dtype=object)
    if counties.roll is not None:
        asked = {c: typed[c][need] for c in Roll.KEYS if c in typed}
        found = counties.roll.county(asked, n)
    single = counties.seen.copy() if len(counties.seen) == 1 else None
    fallback = counties.folder or (single.pop() if single else counties.city_code)
    if fallback is not None:
        found[pd.isna(found)] = fallback
    return found


RULES: dict[str, TableRules] = {
    "divisions": TableRules(code_column="division_code", stored=_learn_townships, submitter=_register_owner),
    "offices": TableRules(code_column="division_code"),
    "beneficiaries": TableRules(
        code_column="division_code", stored=_add_to_roll, closed=_build_roll, dropped=_forget_roll
    ),
    "contracts": TableRules(stored=_learn_contracts),
    "staff": TableRules(
        source="post_code",
        unknown=(
            "岗位所在地代码 is missing or not a 6- or 9-digit code",
            "岗位所在地代码缺失或不是6位或9位代码",
        ),
        derive=_staff_county,
        submitter=_paying_county,
    ),
    "deaths": TableRules(exact_copies=True),
    "public_employees": TableRules(exact_copies=True),
    "relief_payments": TableRules(
        source="person_id",
        unknown=(
            "no county's roll (救助对象名册) has its household, person or account, and the city is not known",
            "户编号、身份证号、银行账号均不在唯一一个县区的救助对象名册中，且未知所属市",
        ),
        derive=_payment_county,
    ),
}
"""The county rules of each table that has any; other tables take their county from their column or sheet."""


class Roll:
    """The county whose roll (救助对象名册) a payment's household, person or account is on.

    Each is looked up where exactly one county's roll has it (a household number, a person
    on one county's roll only, an account), in that order. Looked up by hash and confirmed
    on the text, so a block costs its own size, not the roll's.
    """

    KEYS = ("household_id", "person_id", "bank_account")
    COLUMNS = (*KEYS, "county_code")

    def __init__(self, roll: pd.DataFrame) -> None:
        self.roll = roll[list(self.COLUMNS)]
        # Built when a payment first needs them (most payment files have their counties).
        self.lookups: dict[str, Lookup] | None = None

    def county(self, asked: dict[str, pd.Series], n: int) -> np.ndarray:
        """The county of each of ``n`` payments by its keys ``asked`` (None where no roll tells)."""
        if self.lookups is None:
            self.lookups = {}
            for key in self.KEYS:
                pairs = self.roll[[key, "county_code"]].dropna().drop_duplicates()
                one = pairs[pairs.groupby(key)["county_code"].transform("size") == 1]
                self.lookups[key] = Lookup(arrow_text(one[key]), one["county_code"])
        found = np.full(n, None, dtype=object)
        for key in self.KEYS:
            missing = np.flatnonzero(pd.isna(found))
            if not len(missing) or key not in asked:
                continue
            found[missing] = self.lookups[key].get(arrow_text(asked[key].iloc[missing]))
        return found


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
