"""Several submission folders in one store, and a county's resubmission (audit.ingest.submissions).

The second city's rows (tests/fixtures/second_city.py), split as its bureaus would send them:
the city bureau's folder 540200 (the divisions register, the reference lists, its own contract,
staff and funds) and one folder per county bureau with its rows, as CSV with English headers.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pandas as pd
import pytest

from audit import cli
from audit.exceptions import EXIT_INPUT, SubmissionError
from audit.ingest import ingest, resubmit
from audit.ingest.submissions import unit_of
from audit.store import Store
from fixtures import second_city as city

TODAY = dt.date(2022, 3, 1)
CITY_TABLES = ("divisions", "deaths", "public_employees")  # the city's own, in its folder


def _submitter(table: str, row: dict, contracts: dict[str, str]) -> str:
    """The unit whose bureau sends a row: its county, a worker's contract's, a roll entry's township's."""
    if table == "staff":
        return contracts[row["contract_id"]]
    if table in ("offices", "beneficiaries"):
        return row["division_code"][:6]
    return row["county_code"]


def _folders(root: Path, change=None) -> dict[str, Path]:
    """One folder per unit (named after its code); ``change(table, frame, unit)`` edits a file."""
    data = city.rows()
    contracts = {c["contract_id"]: c["county_code"] for c in data["contracts"]}
    out: dict[str, Path] = {}
    for unit in [city.CITY] + [code for code, *_ in city.COUNTIES]:
        folder = root / unit
        folder.mkdir(parents=True)
        for table, rows in data.items():
            if table in CITY_TABLES:
                mine = rows if unit == city.CITY else []
            else:
                mine = [r for r in rows if _submitter(table, r, contracts) == unit]
            if mine:
                frame = pd.DataFrame(mine)
                if change is not None:
                    frame = change(table, frame, unit)
                frame.to_csv(folder / f"{table}.csv", index=False, encoding="utf-8")
        out[unit] = folder
    return out


def _payments_of(store_dir: Path, county: str) -> pd.DataFrame:
    return Store.open(store_dir).read("relief_payments", counties=[county])


def test_a_folder_is_a_units_when_its_name_starts_with_the_code():
    assert unit_of(Path("x/540222")) == "540222"
    assert unit_of(Path("540222-更正")) == "540222"
    assert unit_of(Path("5402221")) is None
    assert unit_of(Path("city-wide")) is None


def test_several_folders_go_into_one_store_each_file_named_after_its_folder(tmp_path):
    folders = _folders(tmp_path / "received")
    result = ingest(list(folders.values()), tmp_path / "store", today=TODAY)

    store = Store.open(tmp_path / "store")
    assert set(store.counties()) >= {"540200", "540202", "540221", "540222", "540271"}
    paths = {s["path"] for s in result.manifest["sources"]}
    assert {"540200/divisions.csv", "540222/relief_payments.csv", "540271/staff.csv"} <= paths
    # the S2 worker posted outside the register is the paying county's, sent by its bureau
    assert set(store.read("staff", counties=["540271"])["src_file"]) == {"540271/staff.csv"}
    submissions = result.manifest["submissions"]
    assert [s["unit"] for s in submissions] == list(folders)
    assert [s["folder"] for s in submissions] == [str(f.resolve()) for f in folders.values()]
    city_files = {f["path"] for f in submissions[0]["files"]}
    assert city_files == {
        f"540200/{t}.csv"
        for t in (
            "divisions",
            "contracts",
            "staff",
            "fund_allocations",
            "fund_payments",
            "deaths",
            "public_employees",
        )
    }
    assert all(len(f["sha256"]) == 64 for s in submissions for f in s["files"])
    assert result.manifest["replaced"] == []


def test_a_bad_row_is_reported_with_its_folder_file_row_and_column(tmp_path):
    def unreadable_amount(table, frame, unit):
        if table == "relief_payments" and unit == "540222":
            frame["amount_yuan"] = frame["amount_yuan"].astype(object)
            frame.loc[2, "amount_yuan"] = "九百"
        return frame

    folders = _folders(tmp_path / "received", unreadable_amount)
    result = ingest(list(folders.values()), tmp_path / "store", today=TODAY)

    log = result.quality[result.quality["action"] == "quarantined"]
    assert log[["file", "row", "column", "value"]].to_dict("records") == [
        {"file": "540222/relief_payments.csv", "row": 4, "column": "amount_yuan", "value": "九百"}
    ]


def test_a_folder_named_after_a_county_holding_another_countys_row_is_refused(tmp_path):
    def stray_payment(table, frame, unit):
        if table == "relief_payments" and unit == "540222":
            frame.loc[5, "county_code"] = "540223"
        return frame

    folders = _folders(tmp_path / "received", stray_payment)
    with pytest.raises(SubmissionError) as raised:
        ingest(list(folders.values()), tmp_path / "store", today=TODAY)

    error = raised.value
    assert (error.file, error.row, error.column) == ("540222/relief_payments.csv", 7, "county_code")
    assert "county 540223's" in str(error) and "move the rows of 540223" in str(error)
    assert error.exit_code == EXIT_INPUT
    assert not (tmp_path / "store").exists()


def _corrected(folders: dict[str, Path], unit: str, root: Path, edit) -> Path:
    """A copy of ``unit``'s folder, named ``<unit>-更正``, its relief payments edited by ``edit``."""
    folder = root / f"{unit}-更正"
    folder.mkdir(parents=True)
    for path in folders[unit].iterdir():
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
        if path.stem == "relief_payments":
            frame = edit(frame)
        frame.to_csv(folder / path.name, index=False, encoding="utf-8")
    return folder


def test_a_resubmission_replaces_its_countys_rows_and_the_manifest_keeps_both_hashes(tmp_path):
    folders = _folders(tmp_path / "received")
    first = ingest(list(folders.values()), tmp_path / "store", today=TODAY)
    before = {c: _payments_of(tmp_path / "store", c) for c in ("540202", "540222")}
    corrected = _corrected(folders, "540202", tmp_path / "later", lambda f: f.iloc[1:])

    result = resubmit([corrected], tmp_path / "store", today=TODAY)

    after = _payments_of(tmp_path / "store", "540202")
    assert len(after) == len(before["540202"]) - 1
    assert set(after["src_file"]) == {"540202-更正/relief_payments.csv"}
    pd.testing.assert_frame_equal(_payments_of(tmp_path / "store", "540222"), before["540222"])
    assert [s["unit"] for s in result.manifest["submissions"]] == [u for u in folders if u != "540202"] + [
        "540202"
    ]
    assert result.manifest["replaced"] == [first.manifest["submissions"][1]]
    old, new = first.manifest["submissions"][1], result.manifest["submissions"][-1]
    old_hash = {f["path"].split("/")[1]: f["sha256"] for f in old["files"]}
    new_hash = {f["path"].split("/")[1]: f["sha256"] for f in new["files"]}
    assert old_hash["relief_payments.csv"] != new_hash["relief_payments.csv"]


def test_a_resubmission_holding_another_countys_row_is_refused_and_the_store_kept(tmp_path):
    folders = _folders(tmp_path / "received")
    ingest(list(folders.values()), tmp_path / "store", today=TODAY)
    manifest = (tmp_path / "store" / "manifest.json").read_bytes()

    def stray(frame):
        frame.loc[3, "county_code"] = "540221"
        return frame

    corrected = _corrected(folders, "540202", tmp_path / "later", stray)
    with pytest.raises(SubmissionError) as raised:
        resubmit([corrected], tmp_path / "store", today=TODAY)

    error = raised.value
    assert (error.file, error.row, error.column) == ("540202-更正/relief_payments.csv", 5, "county_code")
    assert "540221" in str(error) and "nothing was written" in str(error)
    assert (tmp_path / "store" / "manifest.json").read_bytes() == manifest


def test_a_resubmission_is_refused_when_a_folder_named_after_no_unit_holds_the_countys_rows(tmp_path):
    folders = _folders(tmp_path / "received")
    unnamed = folders["540222"].rename(tmp_path / "received" / "江孜县")
    ingest([*(f for u, f in folders.items() if u != "540222"), unnamed], tmp_path / "store", today=TODAY)
    corrected = tmp_path / "later" / "540222-更正"
    corrected.parent.mkdir()
    unnamed.rename(corrected)
    (tmp_path / "received" / "江孜县").mkdir()
    for path in corrected.iterdir():
        (tmp_path / "received" / "江孜县" / path.name).write_bytes(path.read_bytes())

    with pytest.raises(SubmissionError) as raised:
        resubmit([corrected], tmp_path / "store", today=TODAY)

    assert raised.value.file == "江孜县/offices.csv"
    assert "named after no unit" in str(raised.value) and "county 540222" in str(raised.value)


def test_a_resubmission_is_refused_when_it_cannot_replace_a_countys_folder(tmp_path):
    folders = _folders(tmp_path / "received")
    single = city.write_submission(tmp_path / "city-wide")
    ingest(single, tmp_path / "one", today=TODAY)
    with pytest.raises(SubmissionError, match="made from one folder"):
        resubmit([folders["540202"]], tmp_path / "one", today=TODAY)

    ingest(list(folders.values()), tmp_path / "store", today=TODAY)
    with pytest.raises(SubmissionError, match="named after its county"):
        resubmit([single], tmp_path / "store", today=TODAY)
    (folders["540222"] / "deaths.csv").write_text("person_id,died_on\n", encoding="utf-8")
    with pytest.raises(SubmissionError, match="added to an earlier submission") as raised:
        resubmit([folders["540202"]], tmp_path / "store", today=TODAY)
    assert raised.value.file == "540222/deaths.csv"
    (folders["540222"] / "deaths.csv").unlink()
    with (folders["540221"] / "relief_payments.csv").open("a", encoding="utf-8") as fh:
        fh.write("\n")
    with pytest.raises(SubmissionError, match="changed since it was ingested"):
        resubmit([folders["540202"]], tmp_path / "store", today=TODAY)


def test_the_command_line_takes_several_folders_and_a_resubmission(tmp_path, capsys):
    folders = _folders(tmp_path / "received")
    store = str(tmp_path / "store")
    assert cli.main(["ingest", *map(str, folders.values()), "--store", store, "--today", "2022-03-01"]) == 0
    corrected = _corrected(folders, "540202", tmp_path / "later", lambda f: f)
    argv = ["ingest", str(corrected), "--store", store, "--resubmit", "--today", "2022-03-01"]
    assert cli.main(argv) == 0
    manifest = json.loads((tmp_path / "store" / "manifest.json").read_text(encoding="utf-8"))
    assert [s["unit"] for s in manifest["replaced"]] == ["540202"]
    out = capsys.readouterr().out
    files = len(list(corrected.iterdir()))
    assert f"folder: {corrected.resolve()} (unit 540202, {files} files)" in out
    assert f"replaced: {folders['540202'].resolve()} (unit 540202): its files' hashes kept" in out

    assert cli.main(["ingest", str(folders["540222"]), "--store", store, "--resubmit", "--today", "x"]) == 2
    capsys.readouterr()
    assert cli.main(["ingest", str(tmp_path / "later"), "--store", store, "--resubmit"]) == EXIT_INPUT
    assert "named after its county" in capsys.readouterr().err
