"""A unit's rule run kept on disk: written once, read back whole, refused when made from other inputs."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from audit import inspection, kept_runs
from audit.exceptions import ParameterError
from audit.params import load_params
from audit.rules import run_rule
from audit.store import QUALITY_COLUMNS, Store
from fixtures import PARAMS_FILE
from fixtures import store_builder as fx
from fixtures.rule_tables import COUNTY, OTHER, TOWN, frame, one_township, resident_id


def test_a_kept_county_run_reads_back_as_it_was_computed(store_place, tmp_path):
    store = Store.open(store_place / "store")
    params = load_params(PARAMS_FILE)
    computed = kept_runs.run_county(kept_runs.county_tables(store, fx.COUNTY), params, fx.COUNTY)
    where = kept_runs.folder(tmp_path, fx.COUNTY)
    written = kept_runs.build(store_place / "store", PARAMS_FILE, fx.COUNTY, where)
    assert [p.name for p in written] == ["findings.parquet", "results.parquet", "stamp.json"]
    kept = kept_runs.load(where, kept_runs.stamp(store, PARAMS_FILE, fx.COUNTY))
    pd.testing.assert_frame_equal(kept.findings, computed.findings)
    pd.testing.assert_frame_equal(kept.results, computed.results)
    assert kept.findings["rule_id"].value_counts().to_dict() == fx.EXPECTED_FINDINGS
    assert (kept.scope, kept.county) == ("county", fx.COUNTY)


def test_keeping_a_run_twice_gives_the_same_bytes(store_place, tmp_path):
    first = kept_runs.build(store_place / "store", PARAMS_FILE, kept_runs.CITY, tmp_path / "a")
    second = kept_runs.build(store_place / "store", PARAMS_FILE, kept_runs.CITY, tmp_path / "b")
    assert [p.read_bytes() for p in first] == [p.read_bytes() for p in second]


def test_the_city_run_holds_the_city_wide_rules_and_the_bureau(store_place, tmp_path):
    store = Store.open(store_place / "store")
    where = tmp_path / "city"
    kept_runs.build(store_place / "store", PARAMS_FILE, kept_runs.CITY, where)
    kept = kept_runs.load(where, kept_runs.stamp(store, PARAMS_FILE, kept_runs.CITY))
    assert kept.findings["rule_id"].value_counts().to_dict() == fx.EXPECTED_CITY
    assert set(kept.results["scope"]) == {"city", "county"}  # the bureau's rows run like a county's
    assert kept.scope == "city"


def test_no_kept_run_is_none_and_one_from_other_inputs_is_refused(store_place, tmp_path):
    store = Store.open(store_place / "store")
    expected = kept_runs.stamp(store, PARAMS_FILE, fx.COUNTY)
    assert kept_runs.load(tmp_path / "nothing", expected) is None
    where = tmp_path / "kept"
    kept_runs.build(store_place / "store", PARAMS_FILE, fx.COUNTY, where)
    other = {**expected, "params_sha256": "0" * 64}
    with pytest.raises(
        ParameterError, match=r"made from other inputs \(params_sha256 differ\).*rules_from = None"
    ):
        kept_runs.load(where, other)
    (where / "stamp.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(ParameterError, match=r"stamp\.json: unreadable"):
        kept_runs.load(where, expected)


def _planted(store_place: Path, run: Path, unit: str) -> None:
    """Keep a run for ``unit`` whose one finding no rule could make: reading it shows it came from disk."""
    store = Store.open(store_place / "store")
    params = load_params(PARAMS_FILE)
    real = (
        kept_runs.run_county(kept_runs.county_tables(store, unit), params, unit)
        if unit != kept_runs.CITY
        else kept_runs.run_city(kept_runs.city_tables(store), params)
    )
    one = real.findings.iloc[:1].assign(description_en="planted on disk", description_zh="磁盘上的")
    kept = type(real)(findings=one, results=real.results, scope=real.scope, county=real.county)
    kept_runs.save(kept, kept_runs.folder(run, unit), kept_runs.stamp(store, PARAMS_FILE, unit))


def test_a_notebook_given_rules_from_reads_the_kept_run(store_place):
    tmp_path = store_place / "notebook"  # inside the allowed folder
    run = tmp_path / "run"
    _planted(store_place, run, fx.COUNTY)
    county = inspection.open_county(
        fx.COUNTY, store=str(store_place / "store"), out=str(tmp_path / "out"), lang="en", rules_from=str(run)
    )
    assert county.findings()["description_en"].tolist() == ["planted on disk"]
    # a county with no kept run in that folder runs its rules itself
    other = inspection.open_county(
        fx.OTHER_COUNTY, store=str(store_place / "store"), out=str(tmp_path / "out"), rules_from=str(run)
    )
    assert len(other.findings()) == sum(fx.EXPECTED_OTHER_COUNTY.values())


def test_the_roll_up_reads_every_kept_run_and_covers_the_listed_counties(store_place):
    tmp_path = store_place / "roll-up"  # inside the allowed folder
    run = tmp_path / "run"
    _planted(store_place, run, fx.COUNTY)
    _planted(store_place, run, kept_runs.CITY)
    city = inspection.open_city(
        store=str(store_place / "store"),
        out=str(tmp_path / "out"),
        lang="en",
        rules_from=str(run),
        counties=[fx.COUNTY],
    )
    assert city.counties == [fx.COUNTY]
    assert city.county_findings["description_en"].tolist() == ["planted on disk"]
    assert city.register["description_en"].tolist() == ["planted on disk"]
    links = city.county_reports().html
    assert f"../{fx.COUNTY}/report.html" in links and f"../{fx.OTHER_COUNTY}/" not in links


def test_the_stamp_names_the_unit_and_hashes_of_store_and_parameters(store_place):
    stamp = kept_runs.stamp(Store.open(store_place / "store"), PARAMS_FILE, fx.COUNTY)
    assert stamp["unit"] == fx.COUNTY
    assert len(stamp["store_manifest_sha256"]) == len(stamp["params_sha256"]) == 64
    assert json.loads(json.dumps(stamp)) == stamp


def _damaged_copy(base: Path, name: str) -> tuple[Path, str]:
    """A copy of the fixture store with the other county's first partition file truncated."""
    import shutil

    store = base / name
    shutil.copytree(base / "store", store)
    part = sorted(store.glob(f"tables/*/county_code={fx.OTHER_COUNTY}/*.parquet"))[0]
    part.write_bytes(part.read_bytes()[:100])
    return store, part.relative_to(store).as_posix()


def test_the_roll_up_leaves_out_and_marks_a_county_whose_store_files_are_damaged(store_place):
    store, part = _damaged_copy(store_place, "damaged-store")
    assert Store.open(store).damaged() == [part]
    where = store_place / "damaged-run"
    with pytest.raises(Exception):  # noqa: B017 - whatever pyarrow raises: the file is not Parquet
        kept_runs.build(store, PARAMS_FILE, kept_runs.CITY, kept_runs.folder(where, "a"))
    kept_runs.build(
        store, PARAMS_FILE, kept_runs.CITY, kept_runs.folder(where, kept_runs.CITY), [fx.OTHER_COUNTY]
    )
    stamp = json.loads((kept_runs.folder(where, kept_runs.CITY) / "stamp.json").read_text(encoding="utf-8"))
    assert stamp["excluded"] == fx.OTHER_COUNTY
    city = inspection.open_city(
        store=str(store),
        out=str(store_place / "damaged-out"),
        rules_from=str(where),
        excluded=[fx.OTHER_COUNTY],
    )
    assert city.counties == [fx.COUNTY]
    summary = city.overview().html
    assert "以下县（区）的数据存储已损坏，未纳入本汇总" in summary and fx.OTHER_COUNTY in summary
    assert city._kept(kept_runs.CITY) is not None  # the kept run's stamp names the county left out


def _two_county_store(path: Path) -> Store:
    """A store of two counties whose rows join across partitions: a payment of COUNTY to a household
    on OTHER's roll, and a worker filed in COUNTY posted in OTHER's township, on the roll there."""
    other_town, worker = "540103001", resident_id(seq="777")
    frames = {
        "divisions": frame("divisions", one_township(TOWN), one_township(other_town, "街道", OTHER)),
        "beneficiaries": frame(
            "beneficiaries",
            {"person_id": resident_id(), "household_id": "H1"},
            {
                "person_id": resident_id(seq="456"),
                "household_id": "H9",
                "division_code": other_town,
                "county_code": OTHER,
            },
            {"person_id": worker, "household_id": "H8", "division_code": other_town, "county_code": OTHER},
        ),
        "relief_payments": frame(
            "relief_payments",
            {"payment_id": "P1", "person_id": resident_id(), "household_id": "H1"},
            {
                "payment_id": "P2",
                "person_id": resident_id(seq="456"),
                "household_id": "H9",
                "amount_yuan": 900.0,
            },
        ),
        "staff": frame("staff", {"staff_id": "A", "id_number": worker, "post_code": other_town}),
    }
    writer = Store.create(path)
    tables = {}
    for name, data in frames.items():
        writer.append(name, data)
        writer.close_table(name)
        tables[name] = {"rows": len(data), "counties": dict(sorted(writer.counts[name].items()))}
    writer.commit({"sources": [], "tables": tables}, pd.DataFrame(columns=list(QUALITY_COLUMNS)))
    return Store.open(path)


def test_a_county_run_from_the_store_reads_the_rows_its_joins_need_and_a_report_counts_its_own(tmp_path):
    store = _two_county_store(tmp_path / "store")
    params = load_params(PARAMS_FILE)
    tables = kept_runs.county_tables(store, COUNTY)
    f5 = run_rule("F5", tables, params, county=COUNTY).findings
    assert f5[["county_code", "entity_id", "amount_yuan"]].values.tolist() == [[COUNTY, "H9/2020-01", 53.0]]
    s7 = run_rule("S7", tables, params, county=COUNTY).findings
    assert s7[["county_code", "entity_id", "township_code"]].values.tolist() == [[COUNTY, "A", "540103001"]]
    own = kept_runs.county_tables(store, COUNTY, joins=False)
    assert set(own["beneficiaries"]["county_code"]) == {COUNTY}
    assert own["divisions"]["division_code"].tolist() == ["540102001"]
    assert kept_runs.county_tables(store, OTHER)["beneficiaries"]["household_id"].tolist() == ["H9", "H8"]
