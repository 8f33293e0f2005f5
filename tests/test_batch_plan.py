"""The batch plan: jobs in order, what each waits for, parameters checked before any kernel."""

from __future__ import annotations

import pytest

from audit import batch
from audit.batch import loop as batch_loop
from audit.exceptions import ParameterError
from audit.progress import LogProgress
from fixtures.batch_builder import (
    ROOT,
    InlineExecutor,
)
from fixtures.batch_builder import Sink as _Sink
from fixtures.batch_builder import ok as _ok
from fixtures.batch_builder import plan_jobs as _plan


def test_plan_has_areas_then_report_per_county_then_the_rollup(tmp_path):
    jobs = _plan(tmp_path)
    assert [j.key for j in jobs] == [
        "540102/contracts",
        "540102/staffing",
        "540102/relief",
        "540102/report",
        "540103/contracts",
        "540103/staffing",
        "540103/relief",
        "540103/report",
        "city/city",
        "city/report",
    ]
    report = jobs[3]
    assert report.needs == ("540102/contracts", "540102/staffing", "540102/relief")
    assert report.sources == ("540102/contracts.ipynb", "540102/staffing.ipynb", "540102/relief.ipynb")
    params = dict(jobs[4].parameters)
    assert params["county"] == "540103" and params["run_id"] == "test" and params["lang"] == "zh"
    assert dict(jobs[8].parameters)["county"] == "540100"  # the roll-up runs on the city's code
    assert "out" not in params  # each job's own working folder, given when it runs


def test_notebooks_that_take_rules_from_wait_for_their_units_rule_run(tmp_path):
    jobs = _plan(tmp_path, notebooks=ROOT / "notebooks")
    keys = [j.key for j in jobs]
    assert keys[:5] == [
        "540102/rules",
        "540102/contracts",
        "540102/staffing",
        "540102/relief",
        "540102/report",
    ]
    assert keys[-3:] == ["city/rules", "city/city", "city/report"]
    by_key = {j.key: j for j in jobs}
    run_dir = tmp_path / "out" / "test"
    assert by_key["540102/rules"].kind == "rules" and not by_key["540102/rules"].after
    assert by_key["540103/relief"].after == ("540103/rules",) and not by_key["540103/relief"].needs
    assert dict(by_key["540103/relief"].parameters)["rules_from"] == str(run_dir)
    assert dict(by_key["540103/relief"].parameters)["counties"] is None  # only the roll-up's is a list
    assert by_key["city/city"].after == ("540102/rules", "540103/rules", "city/rules")
    assert dict(by_key["city/city"].parameters)["counties"] == ["540102", "540103"]
    # a county's rule run is part of what its notebooks' fingerprints say they read
    first = {j.key: j.fingerprint for j in jobs}
    (tmp_path / "store" / "tables" / "contracts" / "county_code=540103" / "part-0.parquet").write_bytes(b"x")
    second = {j.key: j.fingerprint for j in _plan(tmp_path, notebooks=ROOT / "notebooks")}
    assert sorted(k for k in first if first[k] != second[k]) == [
        "540103/contracts",
        "540103/relief",
        "540103/report",
        "540103/rules",
        "540103/staffing",
        "city/city",
        "city/report",
        "city/rules",
    ]


def test_notebooks_wait_for_a_rule_run_but_run_when_it_failed(tmp_path):
    jobs = _plan(tmp_path, notebooks=ROOT / "notebooks")

    def fail_rules(job):
        if job.key == "540103/rules":
            return batch.JobResult(job.key, "failed", "ValueError: broken rows", fingerprint=job.fingerprint)
        return _ok(job)

    executor = InlineExecutor()
    results = batch.execute_jobs(jobs, {}, ["540102", "540103"], executor, LogProgress(_Sink()), fail_rules)
    order = executor.submitted
    assert order.index("540103/rules") < order.index("540103/contracts")
    assert max(order.index(f"{u}/rules") for u in ("540102", "540103", "city")) < order.index("city/city")
    # the notebooks run the rules themselves (and show the error there, if the data are broken)
    assert results["540103/contracts"].status == results["city/city"].status == "ok"
    assert results["540103/rules"].status == "failed"
    assert batch_loop._Board(jobs, ["540102", "540103"], {}).record(results["540103/rules"]) == []


def test_bad_parameters_fail_before_any_kernel(tmp_path):
    with pytest.raises(ParameterError):
        _plan(tmp_path, counties=("54010X",))
