"""The batch's inputs: fingerprints follow the files each job reads; the default run id."""

from __future__ import annotations

import datetime as dt

from audit import batch
from fixtures.batch_builder import (
    options,
)
from fixtures.batch_builder import plan_jobs as _plan


def test_fingerprints_follow_a_countys_own_data(tmp_path):
    before = {j.key: j.fingerprint for j in _plan(tmp_path)}
    (tmp_path / "store" / "tables" / "contracts" / "county_code=540103" / "part-0.parquet").write_bytes(b"x")
    after = {j.key: j.fingerprint for j in _plan(tmp_path)}
    changed = sorted(k for k in before if before[k] != after[k])
    assert changed == [
        "540103/contracts",
        "540103/relief",
        "540103/report",
        "540103/staffing",
        "city/city",
        "city/report",
    ]


def test_a_shared_file_or_a_language_changes_every_job(tmp_path):
    before = {j.key: j.fingerprint for j in _plan(tmp_path)}
    (tmp_path / "store" / "tables" / "deaths" / "part-0.parquet").write_bytes(b"changed")
    assert all(before[j.key] != j.fingerprint for j in _plan(tmp_path))
    english = {j.key: j.fingerprint for j in _plan(tmp_path, lang="en")}
    assert all(english[k] != v for k, v in before.items())


def test_default_run_id_is_utc_time_and_input_hash(tmp_path):
    inputs = batch.gather_inputs(options(tmp_path))
    when = dt.datetime(2021, 2, 18, 12, 30, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    run_id = batch.default_run_id(inputs, when)
    assert run_id == f"20210218T043000Z-{inputs.digest()[:8]}"
