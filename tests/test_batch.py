"""The batch: plan, scheduling, fault isolation, resume, provenance, and whole runs end to end."""

from __future__ import annotations

import datetime as dt
import fcntl
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from concurrent.futures import Future
from dataclasses import dataclass, replace
from pathlib import Path

import pandas as pd
import pytest

from audit import batch, cli
from audit.exceptions import BatchError, ParameterError, WorkerLost
from audit.manifest import FileRecord, code_digest, sha256_file, verify
from audit.progress import LogProgress

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures" / "notebooks" / "areas"  # stand-ins that read fixture.json
PARAMS = ROOT / "params" / "lhasa-2020.yaml"


# --- helpers ----------------------------------------------------------------------------------


def _finding(county: str, entity: str) -> dict:
    return {
        "county_code": county,
        "entity_id": entity,
        "description_zh": f"问题 {entity}",
        "description_en": f"finding {entity}",
        "evidence": {"entity": entity},
        "amount_yuan": 100.0,
    }


FIXTURE_DATA = {
    "540102": {
        "contracts": [_finding("540102", "HT-1")],
        "staffing": [],
        "relief": [_finding("540102", "P-1")],
    },
    "540103": {"contracts": [], "staffing": [_finding("540103", "S-7")], "relief": []},
    "540104": {"contracts": [_finding("540104", "HT-9")], "staffing": [], "relief": []},
    "540100": {"city": [_finding("540100", "540100")]},
}


def fixture_store(tmp_path: Path, data: dict | None = None) -> Path:
    """A store the fixture notebooks read (fixture.json), with a partition per county to hash."""
    store = tmp_path / "store"
    for county in ("540102", "540103", "540104"):
        part = store / "tables" / "contracts" / f"county_code={county}"
        part.mkdir(parents=True)
        (part / "part-0.parquet").write_bytes(county.encode())
    (store / "tables" / "deaths").mkdir(parents=True)
    (store / "tables" / "deaths" / "part-0.parquet").write_bytes(b"shared")
    # what Store.counties() reads; 540100 is the city bureau's own rows, as in a real store
    counties = {county: 1 for county in ("540100", "540102", "540103", "540104")}
    (store / "manifest.json").write_text(json.dumps({"tables": {"contracts": {"counties": counties}}}))
    (store / "fixture.json").write_text(
        json.dumps(data or FIXTURE_DATA, ensure_ascii=False), encoding="utf-8"
    )
    return store


def fixture_notebooks(tmp_path: Path, **swap: str) -> Path:
    """The fixture area notebooks; ``relief="broken"`` puts broken.ipynb in relief's place."""
    folder = tmp_path / "notebooks"
    folder.mkdir()
    for name in ("contracts", "staffing", "relief", "city"):
        shutil.copy(FIXTURES / f"{swap.get(name, name)}.ipynb", folder / f"{name}.ipynb")
    return folder


def options(tmp_path: Path, **kw) -> batch.BatchOptions:
    values = {
        "store": fixture_store(tmp_path) if not (tmp_path / "store").exists() else tmp_path / "store",
        "params": PARAMS,
        "out": tmp_path / "out",
        "notebooks": FIXTURES,
        "run_id": "test",
        "jobs": 2,
        "formats": ("html",),
        "timeout": 60.0,
    }
    return batch.BatchOptions(**{**values, **kw})


class InlineExecutor:
    """Runs each job at once in this process; ``lost`` makes a job's worker 'die' that many times."""

    name = "inline"
    workers = 2

    def __init__(self, lost: dict[str, int] | None = None) -> None:
        self.lost = dict(lost or {})
        self.submitted: list[str] = []

    def submit(self, fn, *args, key):
        self.submitted.append(key)
        future: Future = Future()
        if self.lost.get(key, 0) > 0:
            self.lost[key] -= 1
            future.set_exception(WorkerLost("worker process died: killed"))
        else:
            try:
                future.set_result(fn(*args))
            except Exception as exc:  # as a process pool would hand it back
                future.set_exception(exc)
        return future

    def wait_any(self, futures):
        return set(futures)

    def result(self, future):
        return future.result()


def _ok(job: batch.Job) -> batch.JobResult:
    return batch.JobResult(job.key, "ok", fingerprint=job.fingerprint, seconds=1.0)


def _plan(tmp_path: Path, counties=("540102", "540103"), **kw) -> list[batch.Job]:
    opts = options(tmp_path, **kw)
    inputs = batch.gather_inputs(opts)
    return batch.plan(opts, inputs, list(counties), tmp_path / "out" / "test", "code", "540100")


# --- the plan ---------------------------------------------------------------------------------


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
    assert batch._Board(jobs, ["540102", "540103"], {}).record(results["540103/rules"]) == []


def test_bad_parameters_fail_before_any_kernel(tmp_path):
    with pytest.raises(ParameterError):
        _plan(tmp_path, counties=("54010X",))


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


def test_every_county_of_the_store_but_the_city_bureau(tmp_path):
    opts = options(tmp_path)
    assert batch._counties(opts, "540100") == ["540102", "540103", "540104"]
    assert batch._counties(replace(opts, counties=("540104", "540102", "540104")), "540100") == [
        "540104",
        "540102",
    ]
    with pytest.raises(ParameterError, match="540100 is the city bureau, audited in the city roll-up"):
        batch._counties(replace(opts, counties=("540100",)), "540100")
    with pytest.raises(ParameterError, match="540199 not in the store; it has 540102, 540103, 540104"):
        batch._counties(replace(opts, counties=("540199",)), "540100")


def test_default_run_id_is_utc_time_and_input_hash(tmp_path):
    inputs = batch.gather_inputs(options(tmp_path))
    when = dt.datetime(2021, 2, 18, 12, 30, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    run_id = batch.default_run_id(inputs, when)
    assert run_id == f"20210218T043000Z-{inputs.digest()[:8]}"


# --- scheduling and fault isolation -----------------------------------------------------------


def test_a_failure_blocks_only_its_countys_report(tmp_path):
    jobs = _plan(tmp_path)

    def fail_relief(job):
        if job.key == "540103/relief":
            return batch.JobResult(job.key, "failed", "relief.ipynb: cell 2 raised KeyError")
        return _ok(job)

    stream = io.StringIO()
    results = batch.execute_jobs(
        jobs, {}, ["540102", "540103"], InlineExecutor(), LogProgress(stream), fail_relief
    )
    statuses = {k: r.status for k, r in results.items()}
    assert statuses == {j.key: "ok" for j in jobs} | {"540103/relief": "failed", "540103/report": "blocked"}
    assert results["540103/report"].reason == "540103/relief failed"
    assert "counties 1 done, 1 failed, 0 remaining" in stream.getvalue().splitlines()[-1]


def test_a_ready_report_goes_before_more_area_notebooks(tmp_path):
    jobs = _plan(tmp_path)
    executor = InlineExecutor()
    batch.execute_jobs(jobs, {}, ["540102", "540103"], executor, LogProgress(_Sink()), _ok)
    assert executor.submitted.index("540102/report") < executor.submitted.index("540103/relief")


def test_a_job_whose_worker_dies_is_tried_again(tmp_path):
    jobs = _plan(tmp_path)
    executor = InlineExecutor(lost={"540102/staffing": 2, "540103/staffing": 3})
    results = batch.execute_jobs(jobs, {}, ["540102", "540103"], executor, LogProgress(_Sink()), _ok)
    assert results["540102/staffing"].status == "ok"  # third attempt
    assert results["540103/staffing"].status == "failed"
    assert "worker process died" in results["540103/staffing"].reason
    assert executor.submitted.count("540103/staffing") == batch.MAX_ATTEMPTS


def test_a_broken_job_function_fails_its_job_not_the_batch(tmp_path):
    jobs = _plan(tmp_path)

    def disk_full(job):
        if job.key == "540102/contracts":
            raise OSError(28, "No space left on device")
        return _ok(job)

    results = batch.execute_jobs(
        jobs, {}, ["540102", "540103"], InlineExecutor(), LogProgress(_Sink()), disk_full
    )
    assert results["540102/contracts"].status == "failed"
    assert "No space left on device" in results["540102/contracts"].reason
    assert results["540103/report"].status == "ok"


def test_the_scheduler_takes_a_countrys_worth_of_jobs():
    # 2,850 county-level units: 14,251 jobs, scheduled in well under a second (no quadratic scans)
    counties = [f"{i:06d}" for i in range(2850)]
    jobs = []
    for county in counties:
        areas = [batch.Job(f"{county}/{a}", "notebook", county, a, Path("/x"), "f") for a in ("c", "s", "f")]
        needs = tuple(j.key for j in areas)
        jobs += [
            *areas,
            batch.Job(f"{county}/report", "report", county, "report", Path("/x"), "f", needs=needs),
        ]
    rule_runs = tuple(f"{county}/rules" for county in counties)
    jobs += [batch.Job(key, "rules", key[:6], "rules", Path("/x"), "f") for key in rule_runs]
    jobs += [batch.Job("city/city", "notebook", "city", "city", Path("/x"), "f", after=rule_runs)]
    stream = io.StringIO()
    results = batch.execute_jobs(jobs, {}, counties, InlineExecutor(), LogProgress(stream), _ok)
    assert len(results) == 14251 and all(r.status == "ok" for r in results.values())
    finished = list(results)
    assert finished.index("city/city") > max(finished.index(k) for k in rule_runs)  # it waited for them
    assert stream.getvalue().splitlines()[-1].endswith("counties 2850 done, 0 failed, 0 remaining")


class _Sink:
    def write(self, text: str) -> int:
        return len(text)

    def flush(self) -> None:
        pass


# --- one job in this process: working folder, commit, record ----------------------------------


def _fake_runner(job: batch.Job, out: Path, cwd: Path) -> None:
    (out / f"{job.area}.ipynb").write_text("{}", encoding="utf-8")
    (out / ".report.pdf.partial").write_bytes(b"half")  # a partial write: never committed
    (cwd / "scratch.txt").write_text("not an output", encoding="utf-8")


def test_run_job_commits_whole_files_and_writes_its_record_last(tmp_path, monkeypatch):
    monkeypatch.setitem(batch.RUNNERS, "notebook", _fake_runner)
    job = _plan(tmp_path)[0]
    result = batch.run_job(job)
    run_dir = job.run_dir
    assert result.status == "ok"
    assert [o.path for o in result.outputs] == ["540102/contracts.ipynb"]
    assert sorted(p.name for p in (run_dir / "540102").iterdir()) == ["contracts.ipynb"]
    record = batch.read_record(run_dir, job.key)
    assert record.fingerprint == job.fingerprint and record.outputs == result.outputs
    assert not (run_dir / batch.STATE / "work" / job.slug).exists()


def test_run_job_turns_an_exception_into_a_failed_result(tmp_path, monkeypatch):
    def explode(job, out, cwd):
        (out / f"{job.area}.failed.ipynb").write_text("{}", encoding="utf-8")
        raise RuntimeError(f"kept at {out / 'contracts.failed.ipynb'}")

    monkeypatch.setitem(batch.RUNNERS, "notebook", explode)
    job = _plan(tmp_path)[0]
    result = batch.run_job(job)
    assert result.status == "failed"
    # the reason points to where the failed notebook now is in the run folder, not the working folder
    assert result.reason == "RuntimeError: kept at 540102/contracts.failed.ipynb"
    assert (job.run_dir / "540102" / "contracts.failed.ipynb").is_file()


# --- resume -----------------------------------------------------------------------------------


def _record(run_dir: Path, job: batch.Job, text: str = "{}") -> None:
    path = run_dir / job.unit / f"{job.area}.ipynb"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    result = batch.JobResult(
        job.key, "ok", outputs=(FileRecord.of(path, run_dir),), fingerprint=job.fingerprint
    )
    batch.write_json(batch._record_path(run_dir, job.key), result.to_json())


def test_resume_skips_only_jobs_with_the_same_fingerprint_and_whole_outputs(tmp_path):
    jobs = _plan(tmp_path)
    run_dir = jobs[0].run_dir
    contracts, staffing, relief = jobs[:3]
    _record(run_dir, contracts)
    _record(run_dir, staffing)
    (run_dir / "540102" / "staffing.ipynb").write_text("{ }", encoding="utf-8")  # changed after
    _record(run_dir, relief)
    stale = batch.JobResult(jobs[4].key, "ok", fingerprint="older")
    batch.write_json(batch._record_path(run_dir, jobs[4].key), stale.to_json())
    done = batch.resumable(jobs, run_dir)
    assert sorted(done) == ["540102/contracts", "540102/relief"]
    assert all(r.resumed for r in done.values())


def test_a_report_reruns_when_a_notebook_it_needs_reruns(tmp_path):
    jobs = _plan(tmp_path)
    run_dir = jobs[0].run_dir
    for job in jobs[:4]:
        _record(run_dir, job)
    (run_dir / "540102" / "relief.ipynb").unlink()
    assert sorted(batch.resumable(jobs, run_dir)) == ["540102/contracts", "540102/staffing"]


def test_an_existing_run_needs_resume_and_resume_needs_a_run(tmp_path):
    opts = options(tmp_path)
    (tmp_path / "out" / "test").mkdir(parents=True)
    (tmp_path / "out" / "test" / "manifest.json").write_text("{}", encoding="utf-8")
    with pytest.raises(BatchError, match="pass --resume"):
        batch.run_batch(opts, counties=["540102"])
    with pytest.raises(BatchError, match="no run folder to resume"):
        batch.run_batch(options(tmp_path, run_id="other", resume=True), counties=["540102"])
    with pytest.raises(ParameterError, match="--run-id"):
        batch.run_batch(options(tmp_path, run_id=None, resume=True), counties=["540102"])


# --- a whole batch with a stand-in job function (no kernels) ----------------------------------


def _same_finding_everywhere(job: batch.Job) -> batch.JobResult:
    """A job that writes the same finding (rule, entity, county) whatever unit it is for."""
    import pandas as pd

    from audit.findings import REGISTER_COLUMNS, write_register

    folder = job.run_dir / job.unit
    if job.kind == "report":
        (folder / "report.html").write_text("<h1>report</h1>", encoding="utf-8")
        written = [folder / "report.html"]
    else:
        row = {c: "x" for c in REGISTER_COLUMNS} | {
            "rule_id": "C9",
            "county_code": "540102",
            "amount_yuan": 1.0,
        }
        written = list(write_register(pd.DataFrame([row]), folder, f"findings-{job.area}").values())
    outputs = tuple(FileRecord.of(p, job.run_dir) for p in written)
    return batch.JobResult(job.key, "ok", outputs=outputs, fingerprint=job.fingerprint, seconds=0.1)


def test_findings_that_cannot_be_combined_still_leave_an_index(tmp_path, capsys):
    summary = batch.run_batch(
        options(tmp_path, jobs=1),
        counties=["540102"],
        job_fn=_same_finding_everywhere,
        progress=LogProgress(_Sink()),
    )
    assert not summary.ok and not summary.failed
    assert "appear twice" in summary.findings_error
    manifest = json.loads((summary.run_dir / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["status"] == "failed" and manifest["findings"] == []
    assert "Combined findings register not written" in (summary.run_dir / "index.html").read_text(
        encoding="utf-8"
    )
    assert not (summary.run_dir / "findings.parquet").exists()


# --- whole batches of the fixture notebooks (kernels: slow) -----------------------------------

COUNTIES = ("540102", "540103")  # of the fixture store's three: --counties picks two


def _cli(command: str, *args: object) -> list[str]:
    return [sys.executable, "-m", "audit", command, *map(str, args)]


def _wait_for(condition, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def _findings_bytes(run_dir: Path) -> dict[str, bytes]:
    """Every findings file of a run (combined and per unit), by path in the run folder."""
    files = [*run_dir.glob("findings.*"), *run_dir.glob("*/findings-*")]
    return {p.relative_to(run_dir).as_posix(): p.read_bytes() for p in sorted(files)}


@dataclass(frozen=True)
class Reference:
    """An uninterrupted CLI batch over the fixture store, which other runs are compared with."""

    run_dir: Path
    args: tuple[object, ...]  # the batch arguments, without --run-id
    env: dict[str, str]
    stdout: str
    stderr: str


@pytest.fixture(scope="session")
def reference(tmp_path_factory, worker_id) -> Reference:
    # built once for every xdist worker (the pattern pytest-xdist documents): should the "batch" group
    # land on two workers, the second waits for the first's run instead of building its own
    root = tmp_path_factory.getbasetemp()
    tmp = (root if worker_id == "master" else root.parent) / "batch-reference"
    tmp.mkdir(exist_ok=True)
    store, out = tmp / "store", tmp / "out"
    env = {k: v for k, v in os.environ.items() if k != "AUDIT_ALLOWED_ROOTS"}  # the batch allows its own
    args = ("--store", store, "--params", PARAMS, "--out", out, "--notebooks", FIXTURES)
    args += ("--jobs", 2, "--formats", "html", "--counties", *COUNTIES)
    with open(tmp / "lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (tmp / "done.json").exists():
            fixture_store(tmp)
            done = subprocess.run(
                _cli("batch", *args, "--run-id", "reference"), env=env, capture_output=True, text=True
            )
            assert done.returncode == 0, done.stderr
            (tmp / "done.json").write_text(json.dumps([done.stdout, done.stderr]), encoding="utf-8")
    stdout, stderr = json.loads((tmp / "done.json").read_text(encoding="utf-8"))
    return Reference(out / "reference", args, env, stdout, stderr)


@pytest.mark.slow
@pytest.mark.xdist_group("batch")
def test_a_batch_audits_every_county_into_one_run_folder(reference):
    run_dir = reference.run_dir
    assert reference.stdout.splitlines()[0].endswith("2 counties, 2 ok, 0 failed; roll-up ok; 4 findings")
    for county in COUNTIES:
        assert (run_dir / county / "report.html").is_file()
        assert not (run_dir / county / "report.pdf").exists()  # --formats html
    assert (run_dir / "city" / "report.html").is_file()
    index = (run_dir / "index.html").read_text(encoding="utf-8")
    for county in COUNTIES:
        assert f'id="unit-{county}"' in index and f'href="{county}/report.html"' in index
    assert 'id="unit-city"' in index and "全市汇总" in index
    # the combined register is every county's findings plus the roll-up's cross-county ones
    parts = [pd.read_parquet(p) for p in sorted(run_dir.glob("*/findings-*.parquet"))]
    union = pd.concat(parts, ignore_index=True)
    combined = pd.read_parquet(run_dir / "findings.parquet")
    key = ["rule_id", "entity_type", "entity_id", "county_code"]
    assert len(combined) == len(union) == 4
    assert sorted(map(tuple, combined[key].to_numpy())) == sorted(map(tuple, union[key].to_numpy()))
    assert (run_dir / "findings.csv").is_file() and (run_dir / "findings.xlsx").is_file()
    # progress off a terminal is plain lines
    lines = reference.stderr.splitlines()
    assert lines[0] == "audit batch: 10 jobs for 2 counties"
    assert lines[-1].startswith("audit batch: finished in ") and lines[-1].endswith(
        "counties 2 done, 0 failed, 0 remaining"
    )
    assert "\r" not in reference.stderr


@pytest.mark.slow
@pytest.mark.xdist_group("batch")
def test_the_manifest_records_provenance(reference):
    run_dir = reference.run_dir
    manifest = json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))
    outputs = {o["path"]: o for o in manifest["outputs"]}
    assert outputs["540102/report.html"]["sha256"] == sha256_file(run_dir / "540102" / "report.html")
    assert {"findings.parquet", "findings.csv", "findings.xlsx", "city/findings-city.parquet"} <= set(outputs)
    assert "index.html" not in outputs and "manifest.json" not in outputs
    inputs = {(i["root"], i["path"]) for i in manifest["inputs"]}
    assert {("params", "lhasa-2020.yaml"), ("notebooks", "relief.ipynb"), ("store", "fixture.json")} <= inputs
    assert ("notebooks", "broken.ipynb") not in inputs  # only the notebooks the batch ran
    assert manifest["parameters"]["run"]["counties"] == list(COUNTIES)
    assert manifest["parameters"]["run"]["formats"] == ["html"]
    units = {u["code"]: u for u in manifest["units"]}
    assert units["540102"]["reports"] == ["540102/report.html"]  # what the report job rendered: signed off
    assert manifest["parameters"]["params"]["city_code"] == "540100"
    assert set(manifest["versions"]) >= {"audit", "pandas", "pandera", "papermill", "nbconvert", "python"}
    assert len(manifest["code"]["revision"]) == 40 or manifest["code"]["revision"] == "unknown"
    assert manifest["executor"] == {"name": "local", "workers": 2, "start_method": "fork"}
    assert not (run_dir / "540104").exists()
    assert len(manifest["jobs"]) == 10 and all(j["seconds"] > 0 for j in manifest["jobs"])
    # times live in the manifest only: the findings say nothing of when or where they were made
    for path in run_dir.glob("findings.*"):
        text = path.read_bytes().decode("utf-8", "replace")
        assert "reference" not in text and manifest["started_utc"][:10] not in text


@pytest.mark.slow
@pytest.mark.xdist_group("batch")
def test_verify_and_sign_off_on_the_command_line(reference, tmp_path):
    run_dir = tmp_path / "copy"
    shutil.copytree(reference.run_dir, run_dir)  # a run folder moves whole: paths inside are relative
    env = reference.env

    def audit(*args):
        return subprocess.run(_cli(*args), env=env, capture_output=True, text=True)

    checked = audit("verify", run_dir)
    assert checked.returncode == 0 and checked.stdout.startswith("verified: ")
    signed = audit("sign", run_dir, "--county", "540102", "--reviewer", "王芳", "--note", "<b>ok</b>")
    assert signed.returncode == 0, signed.stderr
    assert signed.stdout.startswith("signed 540102/report.html sha256 ")
    index = (run_dir / "index.html").read_text(encoding="utf-8")
    assert "王芳" in index and "&lt;b&gt;ok&lt;/b&gt;" in index and "broken" not in index.split("<tbody>")[1]
    report = run_dir / "540102" / "report.html"
    data = bytearray(report.read_bytes())
    data[len(data) // 2] ^= 0x01  # one byte
    report.write_bytes(bytes(data))
    checked = audit("verify", run_dir)
    assert checked.returncode == 1
    assert "changed output 540102/report.html: sha256 " in checked.stdout
    assert "broken sign-off 540102: signed by 王芳 at " in checked.stdout
    refused = audit("sign", run_dir, "--county", "540102", "--reviewer", "李强")
    assert refused.returncode == 2 and "changed since the batch wrote it" in refused.stderr
    assert audit("sign", run_dir, "--county", "540103", "--reviewer", "李强").returncode == 0
    index = (run_dir / "index.html").read_text(encoding="utf-8")  # rewritten by the second sign-off
    assert "签核后已更改 changed after signing" in index
    saved = json.loads((run_dir / "signoffs.json").read_text(encoding="utf-8"))
    assert [(s["county"], s["reviewer"]) for s in saved] == [("540102", "王芳"), ("540103", "李强")]


@pytest.mark.slow
@pytest.mark.xdist_group("batch")
def test_failures_stay_in_their_county_and_show_in_the_index(tmp_path):
    data = json.loads(json.dumps(FIXTURE_DATA))
    # broken data: the notebook raises, quoting an ID number and an account that must not show
    data["540103"]["relief"] = "not a list: 540102199001011234 6217000000001234"
    data["540104"]["staffing"] = "hang"  # the notebook hangs until the cell time limit
    fixture_store(tmp_path, data)
    notebooks = fixture_notebooks(tmp_path, city="broken")
    stream = io.StringIO()
    summary = batch.run_batch(
        options(tmp_path, notebooks=notebooks, timeout=4.0),
        counties=["540102", "540103", "540104"],
        progress=LogProgress(stream),
    )
    run_dir = summary.run_dir
    status = {u["code"]: u["status"] for u in summary.units}
    assert status == {"540102": "ok", "540103": "failed", "540104": "failed", "city": "failed"}
    reasons = {u["code"]: u["reason"] for u in summary.units}
    assert "relief.ipynb: cell 3 raised ValueError: fixture data of 540103 is not a list" in reasons["540103"]
    assert "did not finish within 4 s" in reasons["540104"]
    assert "RuntimeError: fixture notebook broken on purpose for 540100" in reasons["city"]
    assert (run_dir / "540102" / "report.html").is_file()
    failed = (
        ("540103", "relief", "ValueError"),
        ("540104", "staffing", "KeyboardInterrupt"),
        ("city", "city", "RuntimeError"),
    )
    for county, area, error in failed:
        assert (run_dir / county / f"{area}.failed.ipynb").is_file()
        assert error in (run_dir / county / f"{area}.failed.html").read_text(encoding="utf-8")
        assert not (run_dir / county / "report.html").exists()
    index = (run_dir / "index.html").read_text(encoding="utf-8")
    for county in ("540102", "540103", "540104"):
        assert f'id="unit-{county}"' in index
    assert "fixture data of 540103 is not a list of findings" in index
    assert 'href="540103/relief.failed.html"' in index
    kept = [index, *(p.read_text(encoding="utf-8") for p in (run_dir / "540103").glob("relief.failed.*"))]
    assert all("540102199001011234" not in t and "6217000000001234" not in t for t in kept)
    assert all("540102********1234" in t and "************1234" in t for t in kept)
    # the findings of the notebooks that did run are kept
    register = pd.read_parquet(run_dir / "findings.parquet")
    assert sorted(register["entity_id"]) == ["HT-1", "HT-9", "P-1", "S-7"]
    assert "counties 1 done, 2 failed, 0 remaining" in stream.getvalue()
    assert verify(run_dir).ok


@pytest.mark.slow
@pytest.mark.xdist_group("batch")
def test_a_killed_batch_resumes_to_byte_identical_findings(reference):
    out, env, args = reference.run_dir.parent, reference.env, reference.args
    code = code_digest()
    batch_process = subprocess.Popen(
        _cli("batch", *args, "--run-id", "killed"),
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    records = out / "killed" / batch.STATE / "jobs"
    _wait_for(lambda: len(list(records.glob("*.json"))) >= 3, 120, "the first jobs")
    batch_process.send_signal(signal.SIGKILL)
    batch_process.wait()
    finished_before = {p.name for p in records.glob("*.json")}
    time.sleep(2.5)  # a worker that outlived its batch would finish its job and write a record by now
    assert {p.name for p in records.glob("*.json")} == finished_before
    assert not (out / "killed" / "manifest.json").exists() and not (out / "killed" / "index.html").exists()
    assert len(finished_before) < 10

    resumed = subprocess.run(
        _cli("batch", *args, "--run-id", "killed", "--resume"), env=env, capture_output=True, text=True
    )
    assert resumed.returncode == 0, resumed.stderr
    if code_digest() != code:  # edited code must rerun every job, so nothing here would be skipped
        pytest.skip("the audit package was edited while this test ran")
    assert f"{len(finished_before)} already done" in resumed.stderr
    manifest = json.loads((out / "killed" / "manifest.json").read_text(encoding="utf-8"))
    skipped = {j["key"].replace("/", "--") + ".json" for j in manifest["jobs"] if j["resumed"]}
    assert skipped == finished_before
    assert _findings_bytes(out / "killed") == _findings_bytes(reference.run_dir)
    # the combined register's three files, one per county area, the roll-up's
    assert len(_findings_bytes(reference.run_dir)) == 3 + 2 * 3 + 1
    assert verify(out / "killed").ok


@pytest.mark.slow
@pytest.mark.xdist_group("batch")
def test_dask_gives_the_same_findings_as_local_processes(reference, tmp_path):
    out, env, args = reference.run_dir.parent, reference.env, reference.args
    done = subprocess.run(
        _cli("batch", *args, "--run-id", "dask", "--executor", "dask"),
        env=env,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    manifest = json.loads((out / "dask" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["executor"] == {"name": "dask", "workers": 2, "scheduler": "LocalCluster"}
    assert _findings_bytes(out / "dask") == _findings_bytes(reference.run_dir)
    # and a follow-up between the two finds nothing new and nothing resolved
    page = tmp_path / "diff.html"
    diff = subprocess.run(
        _cli("diff", reference.run_dir, out / "dask", "--out", page), env=env, capture_output=True, text=True
    )
    assert diff.returncode == 0, diff.stderr
    assert "total     0         0           4" in diff.stdout
    assert page.is_file()


# --- the real notebooks over the demo store ---------------------------------------------------


@pytest.mark.slow
@pytest.mark.xdist_group("batch")
def test_the_demo_audited_by_the_real_notebooks(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "AUDIT_ALLOWED_ROOTS"}  # the batch allows its own

    def audit(*args):
        done = subprocess.run(_cli(*args), env=env, cwd=ROOT, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        return done

    audit("demo", "--out", tmp_path / "submission")
    audit("ingest", tmp_path / "submission", "--store", tmp_path / "store")
    counties = ("540102", "540121")
    args = ("--store", tmp_path / "store", "--params", PARAMS, "--out", tmp_path / "runs", "--run-id", "demo")
    audit("batch", *args, "--counties", *counties, "--jobs", 2, "--formats", "html")
    run_dir = tmp_path / "runs" / "demo"
    index = (run_dir / "index.html").read_text(encoding="utf-8")
    for unit in (*counties, "city"):
        assert (run_dir / unit / "report.html").is_file()
        assert f'id="unit-{unit}"' in index
    county_parts = [
        pd.read_parquet(p) for c in counties for p in sorted((run_dir / c).glob("findings-*.parquet"))
    ]
    cross_county = pd.read_parquet(run_dir / "city" / "findings-city.parquet")
    assert len(cross_county) > 0  # the demo plants city-wide and cross-county anomalies
    union = pd.concat([*county_parts, cross_county], ignore_index=True)
    combined = pd.read_parquet(run_dir / "findings.parquet")
    key = ["rule_id", "entity_type", "entity_id", "county_code"]
    assert len(combined) == len(union)
    assert sorted(map(tuple, combined[key].to_numpy())) == sorted(map(tuple, union[key].to_numpy()))
    assert verify(run_dir).ok


# --- the command's arguments ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--run-id", "../escape"], "--run-id '../escape': use letters, digits"),
        (["--resume"], "--resume needs --run-id"),
        (["--jobs", "0"], "--jobs must be at least 1"),
        (["--timeout", "0"], "--timeout must be a positive number"),
        (["--scheduler", "tcp://10.0.0.1:8786"], "--scheduler needs --executor dask"),
    ],
)
def test_bad_batch_arguments_exit_2_before_anything_runs(tmp_path, capsys, args, message):
    base = ["batch", "--store", str(tmp_path), "--params", str(PARAMS), "--out", str(tmp_path / "out")]
    assert cli.main([*base, *args]) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_a_failed_notebook_has_the_names_of_its_countys_people_masked(tmp_path):
    import nbformat

    from fixtures import store_builder as fx

    store = fx.build_store(tmp_path / "store")
    out = tmp_path / "out"
    out.mkdir()
    book = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("fail()")
    cell.outputs = [
        nbformat.v4.new_output("stream", name="stdout", text="checking 卓玛\n"),
        nbformat.v4.new_output(
            "error", ename="KeyError", evalue="'张三丰'", traceback=["KeyError: '张三丰' (row of 卓玛)"]
        ),
    ]
    book.cells = [cell]
    nbformat.write(book, out / "relief.failed.ipynb")
    job = batch.Job(
        key="540102/relief",
        kind="notebook",
        unit="540102",
        area="relief",
        run_dir=tmp_path,
        fingerprint="f",
        parameters=(("store", str(store)),),
    )
    batch._show_failure(job, out)
    kept = (out / "relief.failed.ipynb").read_text(encoding="utf-8")
    shown = (out / "relief.failed.html").read_text(encoding="utf-8")
    for text in (kept, shown):
        assert "卓玛" not in text and "张三丰" not in text
        assert "卓*" in text and "张**" in text
    # in full, as a restricted run asks, nothing is masked
    nbformat.write(book, out / "relief.failed.ipynb")
    batch._show_failure(replace(job, pii="full"), out)
    assert "张三丰" in (out / "relief.failed.html").read_text(encoding="utf-8")
