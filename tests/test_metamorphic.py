"""Metamorphic tests of ingest and the rules on the demo: the same findings however it is sent.

One demo submission (three of its county-level units and the city bureau, to stay small) is
rewritten in ways that must not change what an audit finds: rows shuffled; every table as
CSV, xlsx or Parquet; Chinese instead of English headers; a table split into one sheet per
county (the county taken from the sheet's name). Each is ingested and audited county by
county and city-wide; the findings (ids, rules, counties, entities, amounts, descriptions)
must be those of the plain Parquet submission. Evidence may differ: it cites files and rows.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from audit import demo
from audit.datacontract import TABLES
from audit.findings import combine_registers
from audit.ingest import ingest
from audit.params import load_params
from audit.rules import run_rules
from audit.store import Store

ROOT = Path(__file__).resolve().parents[1]
PARAMS = load_params(ROOT / "params" / "lhasa-2020.yaml")
TODAY = dt.date(2021, 3, 1)
# 当雄县 (C1 C6 F2 F5 F7 F11 S4 S7), 曲水县 (C2 C6 F1 F4 F11 S4 S8), 经济技术开发区 (C7 C8 F6),
# and the city bureau's own contract and staff (C5 S9 in the roll-up).
KEPT = ("540100", "540122", "540124", "540172")
COMPARED = [
    "finding_id",
    "rule_id",
    "county_code",
    "entity_type",
    "entity_id",
    "amount_yuan",
    "description_en",
]

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("metamorphic")]


def _small_demo(folder: Path) -> dict[str, pd.DataFrame]:
    """The demo's tables (Parquet), only the rows of the kept units; reference lists whole."""
    demo.generate(folder, PARAMS, fmt="parquet")
    tables = {}
    for name in TABLES:
        frame = pd.read_parquet(folder / f"{name}.parquet")
        if "county_code" in frame and not TABLES[name].reference:
            frame = frame.loc[frame["county_code"].isin(KEPT)]
        tables[name] = frame.reset_index(drop=True)
    return tables


def _audit(store_dir: Path) -> pd.DataFrame:
    store = Store.open(store_dir)
    runs = []
    for county in store.counties():
        tables = {n: store.read(n, counties=None if TABLES[n].reference else [county]) for n in TABLES}
        runs.append(run_rules(tables, PARAMS, scope="county", county=county).findings)
    runs.append(run_rules({n: store.read(n) for n in TABLES}, PARAMS, scope="city").findings)
    found = combine_registers(runs)[COMPARED]
    return found.sort_values(COMPARED[:1]).reset_index(drop=True)


def _written(
    tables: dict[str, pd.DataFrame], folder: Path, write: Callable[[str, pd.DataFrame, Path], None]
) -> Path:
    folder.mkdir(parents=True)
    for name, frame in tables.items():
        write(name, frame, folder)
    return folder


def _parquet(name: str, frame: pd.DataFrame, folder: Path) -> None:
    frame.to_parquet(folder / f"{name}.parquet", index=False)


def _csv(name: str, frame: pd.DataFrame, folder: Path) -> None:
    frame.to_csv(folder / f"{name}.csv", index=False, encoding="utf-8")


def _xlsx(name: str, frame: pd.DataFrame, folder: Path) -> None:
    frame.to_excel(folder / f"{name}.xlsx", index=False)


def _chinese(name: str, frame: pd.DataFrame, folder: Path) -> None:
    zh = {c.name: c.zh for c in TABLES[name].columns}
    zh["county_code"] = "县区代码"
    frame.rename(columns=zh).to_csv(folder / f"{TABLES[name].zh}.csv", index=False, encoding="utf-8-sig")


def _shuffled(name: str, frame: pd.DataFrame, folder: Path) -> None:
    order = np.random.default_rng(len(frame)).permutation(len(frame))
    _parquet(name, frame.iloc[order], folder)


def _sheet_per_county(name: str, frame: pd.DataFrame, folder: Path) -> None:
    if TABLES[name].reference or name == "divisions":  # the register's county rows name themselves
        _parquet(name, frame, folder)
        return
    with pd.ExcelWriter(folder / f"{name}.xlsx") as book:
        for county, part in frame.groupby("county_code", sort=True):
            part.drop(columns="county_code").to_excel(book, sheet_name=str(county), index=False)


VARIANTS = {
    "shuffled": _shuffled,
    "csv": _csv,
    "xlsx": _xlsx,
    "chinese_headers": _chinese,
    "sheet_per_county": _sheet_per_county,
}


@pytest.fixture(scope="module")
def baseline(tmp_path_factory) -> tuple[dict[str, pd.DataFrame], pd.DataFrame]:
    folder = tmp_path_factory.mktemp("metamorphic")
    tables = _small_demo(folder / "demo")
    source = _written(tables, folder / "parquet", _parquet)
    ingest(source, folder / "store", today=TODAY)
    return tables, _audit(folder / "store")


def test_the_small_demo_still_has_findings_of_every_area(baseline):
    _, found = baseline
    assert {"C1", "C5", "C7", "S4", "S9", "F1", "F2", "F5", "F6"} <= set(found["rule_id"])
    assert set(found["county_code"]) == set(KEPT)


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_the_same_findings_however_the_submission_is_sent(baseline, variant, tmp_path):
    tables, expected = baseline
    source = _written(tables, tmp_path / variant, VARIANTS[variant])
    ingest(source, tmp_path / "store", today=TODAY)
    found = _audit(tmp_path / "store")
    pd.testing.assert_frame_equal(found, expected)
