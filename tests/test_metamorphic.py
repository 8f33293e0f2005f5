"""Metamorphic tests of ingest and the rules on the demo: the same findings however it is sent.

One demo submission (three of its county-level units and the city bureau, to stay small) is
rewritten in ways that must not change what an audit finds: rows shuffled; every table as
CSV, xlsx or Parquet; Chinese instead of English headers; a table split into one sheet per
county (the county taken from the sheet's name) or one file per county (the county taken
from its folder's name); one folder per county bureau and the city bureau's, ingested
together; a county's corrected resubmission, which changes that county's findings only.
Each is ingested and audited county by county and city-wide; the findings (ids, rules,
counties, entities, amounts, descriptions) must be those of the plain Parquet submission.
Evidence may differ: it cites files and rows.
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


CITY = KEPT[0]


def _bureau_folders(
    tables: dict[str, pd.DataFrame],
    root: Path,
    write: Callable[[str, pd.DataFrame, Path], None] = _parquet,
    *,
    county_column: bool = True,
) -> list[Path]:
    """One folder per bureau, named after its unit, with its rows of each table; the city
    bureau's also holds the divisions register and the reference lists, which are the city's.
    Without ``county_column`` the files have no county column: the folder's name gives it."""
    folders = []
    for unit in KEPT:
        folder = root / unit
        folder.mkdir(parents=True)
        for name, frame in tables.items():
            if TABLES[name].reference or name == "divisions":
                if unit == CITY:
                    write(name, frame, folder)
                continue
            mine = frame.loc[frame["county_code"] == unit]
            if len(mine):
                write(name, mine if county_column else mine.drop(columns="county_code"), folder)
        folders.append(folder)
    return folders


def test_the_same_findings_from_one_folder_per_county_bureau(baseline, tmp_path):
    tables, expected = baseline
    folders = _bureau_folders(tables, tmp_path / "received")
    result = ingest(folders, tmp_path / "store", today=TODAY)
    pd.testing.assert_frame_equal(_audit(tmp_path / "store"), expected)
    submissions = result.manifest["submissions"]
    assert [(s["folder"], s["unit"]) for s in submissions] == [(str(f.resolve()), f.name) for f in folders]
    assert "540172/relief_payments.parquet" in {f["path"] for f in submissions[3]["files"]}
    assert "540100/divisions.parquet" in {f["path"] for f in submissions[0]["files"]}
    assert all(len(f["sha256"]) == 64 for s in submissions for f in s["files"])
    assert result.manifest["replaced"] == []


def test_the_same_findings_with_a_table_split_into_one_file_per_county(baseline, tmp_path):
    tables, expected = baseline
    folders = _bureau_folders(tables, tmp_path / "received", _csv, county_column=False)
    ingest(folders, tmp_path / "store", today=TODAY)
    pd.testing.assert_frame_equal(_audit(tmp_path / "store"), expected)


def test_a_countys_resubmission_changes_its_findings_only_and_keeps_both_hashes(baseline, tmp_path):
    tables, expected = baseline
    folders = _bureau_folders(tables, tmp_path / "received")
    first = ingest(folders, tmp_path / "store", today=TODAY)
    # 540172 corrects one payment to the public employee F6 names: 100 yuan less (6,316.92 before)
    corrected = tmp_path / "later" / "540172-更正"
    corrected.mkdir(parents=True)
    for path in folders[-1].iterdir():
        frame = pd.read_parquet(path)
        if path.stem == "relief_payments":
            first_payment = frame.index[frame["person_id"] == "540172196510068815"][0]
            frame.loc[first_payment, "amount_yuan"] -= 100
        _parquet(path.stem, frame, corrected)

    result = ingest([corrected], tmp_path / "store", today=TODAY, resubmit=True)

    found = _audit(tmp_path / "store")
    changed = (expected["rule_id"] == "F6") & (expected["county_code"] == "540172")
    assert expected.loc[changed, "amount_yuan"].tolist() == [6316.92]
    wanted = expected.copy()
    wanted.loc[changed, "amount_yuan"] = 6216.92
    pd.testing.assert_frame_equal(found, wanted)
    assert [s["unit"] for s in result.manifest["submissions"]] == list(KEPT)
    assert result.manifest["submissions"][-1]["folder"] == str(corrected.resolve())
    replaced = result.manifest["replaced"]
    assert replaced == [first.manifest["submissions"][-1]]
    hashes = [
        {f["path"].split("/")[1]: f["sha256"] for f in s["files"]}
        for s in (replaced[0], result.manifest["submissions"][-1])
    ]
    assert hashes[0].keys() == hashes[1].keys()
    assert hashes[0]["relief_payments.parquet"] != hashes[1]["relief_payments.parquet"]
