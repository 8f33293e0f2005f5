"""The store: dtypes survive a round trip, a county read opens only its files, bad stores are refused."""

from __future__ import annotations

import json
import tempfile

import pandas as pd
import pyarrow.parquet as pq
import pytest

from audit import store as store_module
from audit.exceptions import StoreError
from audit.store import Store, StoreWriter


def _payments(county: str, n: int) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "payment_id": pd.Series([f"{county}-{i}" for i in range(n)], dtype="str"),
            "person_id": pd.Series(["540102198001010017"] * n, dtype="str"),
            "household_id": pd.Series(["H1"] * n, dtype="str"),
            "programme": pd.Series(["城市低保"] * n, dtype="str"),
            "period": pd.Series(["2020-05"] * n, dtype="str"),
            "amount_yuan": [100.5] * n,
            "paid_on": pd.Series(pd.to_datetime(["2020-05-07"] * n)).astype("datetime64[us]"),
            "bank_account": pd.Series([None] * n, dtype="str"),
            "county_code": pd.Series([county] * n, dtype="str"),
            "src_file": pd.Series(["relief_payments.csv"] * n, dtype="str"),
            "src_sheet": pd.Series([""] * n, dtype="str"),
            "src_row": pd.Series(range(2, n + 2), dtype="int64"),
        }
    )


def _make(path, manifest_tables=None):
    writer = Store.create(path)
    writer.append("relief_payments", _payments("540102", 3))
    writer.append("relief_payments", _payments("540103", 2))
    manifest = {
        "tables": {"relief_payments": {"rows": 5, "counties": dict(writer.counts["relief_payments"])}}
    }
    quality = pd.DataFrame({c: pd.Series([], dtype="str") for c in store_module.QUALITY_COLUMNS})
    writer.commit(manifest, quality)
    return Store.open(path)


def test_round_trip_keeps_the_dtypes_of_the_architecture(tmp_path):
    st = _make(tmp_path / "store")
    df = st.read("relief_payments")
    assert df.dtypes.astype(str).to_dict() == {
        "payment_id": "str", "person_id": "str", "household_id": "str", "programme": "str", "period": "str",
        "amount_yuan": "float64", "paid_on": "datetime64[us]", "bank_account": "str", "county_code": "str",
        "src_file": "str", "src_sheet": "str", "src_row": "int64",
    }  # fmt: skip
    assert df["payment_id"].tolist() == ["540102-0", "540102-1", "540102-2", "540103-0", "540103-1"]
    assert df["bank_account"].isna().all()
    assert st.counties() == ("540102", "540103")
    assert (tmp_path / "store/tables/relief_payments/county_code=540103/part-0.parquet").is_file()


def test_a_county_read_opens_only_that_countys_file(tmp_path, monkeypatch):
    st = _make(tmp_path / "store")
    opened = []
    real = pq.read_table
    monkeypatch.setattr(store_module.pq, "read_table", lambda p, **kw: opened.append(p) or real(p, **kw))
    df = st.read("relief_payments", counties=["540103"], columns=["payment_id", "amount_yuan"])
    assert df.columns.tolist() == ["payment_id", "amount_yuan"]
    assert df["payment_id"].tolist() == ["540103-0", "540103-1"]
    assert [p.parent.name for p in opened] == ["county_code=540103"]
    assert st.read("relief_payments", counties=["540199"]).empty
    assert st.read("staff") is None


def test_writes_are_deterministic(tmp_path):
    _make(tmp_path / "a")
    _make(tmp_path / "b")
    for rel in (
        "tables/relief_payments/county_code=540102/part-0.parquet",
        "manifest.json",
        "quality/issues.parquet",
    ):
        assert (tmp_path / "a" / rel).read_bytes() == (tmp_path / "b" / rel).read_bytes(), rel


def test_incomplete_or_missing_store_is_refused(tmp_path):
    with pytest.raises(StoreError, match="no store"):
        Store.open(tmp_path / "nowhere")
    (tmp_path / "half" / "tables").mkdir(parents=True)
    with pytest.raises(StoreError, match="not a complete store"):
        Store.open(tmp_path / "half")


def test_an_aborted_write_leaves_nothing_that_looks_like_a_store(tmp_path):
    writer = Store.create(tmp_path / "store")
    writer.append("relief_payments", _payments("540102", 1))
    writer.abort()
    assert list(tmp_path.iterdir()) == []


def test_a_folder_that_is_not_a_store_is_never_replaced(tmp_path):
    (tmp_path / "home").mkdir()
    (tmp_path / "home" / "thesis.docx").write_text("x")
    with pytest.raises(StoreError, match="not a store"):
        Store.create(tmp_path / "home")


def test_commit_replaces_an_older_store(tmp_path):
    _make(tmp_path / "store")
    writer = Store.create(tmp_path / "store")
    writer.append("relief_payments", _payments("540104", 1))
    quality = pd.DataFrame({c: pd.Series([], dtype="str") for c in store_module.QUALITY_COLUMNS})
    writer.commit({"tables": {"relief_payments": {"counties": {"540104": 1}}}}, quality)
    st = Store.open(tmp_path / "store")
    assert st.counties() == ("540104",)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["store"]
    assert json.loads((tmp_path / "store" / "manifest.json").read_text())["tables"]["relief_payments"]


def test_a_files_bytes_depend_on_its_rows_not_on_how_they_were_appended(tmp_path, monkeypatch):
    monkeypatch.setattr(store_module, "ROW_GROUP_ROWS", 3)
    rows = _payments("540102", 7)
    for name, cuts in (("a", [7]), ("b", [1, 4, 2]), ("c", [2, 2, 2, 1])):
        writer = Store.create(tmp_path / name)
        start = 0
        for n in cuts:
            writer.append("relief_payments", rows.iloc[start : start + n])
            start += n
        assert writer.counts["relief_payments"] == {"540102": 7}
        writer.commit({"tables": {"relief_payments": {"counties": {"540102": 7}}}}, rows.iloc[:0, :0])
    part = "tables/relief_payments/county_code=540102/part-0.parquet"
    meta = pq.ParquetFile(tmp_path / "a" / part).metadata
    assert [meta.row_group(i).num_rows for i in range(meta.num_row_groups)] == [3, 3, 1]
    assert Store.open(tmp_path / "c").read("relief_payments")["src_row"].tolist() == list(range(2, 9))
    for name in ("b", "c"):
        assert (tmp_path / name / part).read_bytes() == (tmp_path / "a" / part).read_bytes(), name


def test_interleaved_counties_give_each_county_the_file_of_its_rows_alone(tmp_path, monkeypatch):
    monkeypatch.setattr(store_module, "ROW_GROUP_ROWS", 3)
    rows = pd.concat([_payments("540102", 7), _payments("540103", 5), _payments("540104", 1)])
    rows = rows.sample(frac=1, random_state=1).reset_index(drop=True)
    writer = Store.create(tmp_path / "mixed")
    start = 0
    for n in (4, 1, 6, 2):
        writer.append("relief_payments", rows.iloc[start : start + n])
        start += n
    counts = dict(writer.counts["relief_payments"])
    assert counts == {"540102": 7, "540103": 5, "540104": 1}
    writer.commit({"tables": {"relief_payments": {"counties": counts}}}, rows.iloc[:0, :0])
    for county in counts:
        alone = rows[rows["county_code"] == county]
        writer = Store.create(tmp_path / county)
        writer.append("relief_payments", alone)
        writer.commit({"tables": {"relief_payments": {"counties": {county: len(alone)}}}}, rows.iloc[:0, :0])
        part = f"tables/relief_payments/county_code={county}/part-0.parquet"
        assert (tmp_path / "mixed" / part).read_bytes() == (tmp_path / county / part).read_bytes(), county
    got = Store.open(tmp_path / "mixed").read("relief_payments", counties=["540103"])
    assert got["payment_id"].tolist() == rows.loc[rows["county_code"] == "540103", "payment_id"].tolist()


def test_rows_held_keep_at_most_the_last_two_blocks_alive(tmp_path):
    writer = Store.create(tmp_path / "store")
    for _ in range(4):
        writer.append("relief_payments", pd.concat([_payments("540102", 2), _payments("540103", 2)]))
        assert writer.counts  # waits for the writer thread
        for county in ("540102", "540103"):
            held = writer._files[("relief_payments", county)].blocks
            assert all(block is None or block >= writer._blocks - 1 for block in held), held
    assert writer.counts["relief_payments"] == {"540102": 8, "540103": 8}
    writer.abort()


def test_a_staging_area_keeps_only_the_columns_named_in_one_file(tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    payments = pd.concat([_payments("540103", 2), _payments("540102", 3)], ignore_index=True)
    writer = StoreWriter(None, staged={"relief_payments": ["payment_id"]})
    writer.append("relief_payments", payments)
    writer.quarantine("relief_payments", payments.astype("str"))
    back = writer.read("relief_payments")
    assert list(back.columns) == ["payment_id", "county_code", "src_file", "src_sheet", "src_row"]
    assert back["payment_id"].tolist() == ["540103-0", "540103-1", "540102-0", "540102-1", "540102-2"]
    assert writer.counts["relief_payments"] == {"540103": 2, "540102": 3}
    files = list(tmp_path.rglob("*.parquet"))
    assert len(files) == 1 and not [p for p in files if "quarantine" in p.parts]
    assert {pq.ParquetFile(p).metadata.row_group(0).column(0).compression for p in files} == {"UNCOMPRESSED"}
    writer.abort()
    assert not list(tmp_path.iterdir())


def test_a_table_not_staged_is_only_counted(tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    writer = StoreWriter(None, staged={})
    writer.append("relief_payments", pd.concat([_payments("540103", 2), _payments("540102", 3)]))
    assert writer.counts["relief_payments"] == {"540103": 2, "540102": 3}
    with pytest.raises(StoreError, match="counted, not staged"):
        writer.read("relief_payments")
    assert not list(tmp_path.rglob("*.parquet"))
    writer.abort()


def test_rows_taken_out_of_a_staging_area_leave_its_counts(tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    writer = StoreWriter(None, staged={"relief_payments": ["payment_id"]})
    later = _payments("540102", 3).assign(src_row=[4, 5, 6])  # a row is found by where it was read
    writer.append("relief_payments", pd.concat([_payments("540103", 2), later]))
    gone = writer.read("relief_payments").iloc[[1, 2]]  # 540103's second row, 540102's first
    writer.remove("relief_payments", gone)
    assert writer.read("relief_payments")["payment_id"].tolist() == ["540103-0", "540102-1", "540102-2"]
    assert writer.counts["relief_payments"] == {"540103": 1, "540102": 2}
    writer.abort()


def test_the_manifest_hashes_every_file_and_a_truncated_one_is_named(tmp_path):
    store = _make(tmp_path / "s")
    part = "tables/relief_payments/county_code=540103/part-0.parquet"
    assert sorted(store.manifest["files"]) == [
        "quality/issues.parquet",
        "tables/relief_payments/county_code=540102/part-0.parquet",
        part,
    ]
    assert store.damaged() == []
    data = (tmp_path / "s" / part).read_bytes()
    (tmp_path / "s" / part).write_bytes(data[: len(data) // 2])  # truncated
    assert store.damaged() == [part]
    (tmp_path / "s" / part).unlink()
    assert Store.open(tmp_path / "s").damaged() == [part]  # gone counts as damaged too
    hashes = store_module.file_hashes(tmp_path / "s")
    assert store.damaged({**hashes, part: "0" * 64}) == [part]  # the caller's hashes, when it has them
