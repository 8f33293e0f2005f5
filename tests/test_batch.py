"""The batch end to end: counties, whole runs of the fixture notebooks, resume, provenance, the command."""

from __future__ import annotations

import fcntl
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path

import pandas as pd
import pytest

from audit import batch, cli
from audit.batch import run as batch_run
from audit.exceptions import ParameterError
from audit.manifest import code_digest, sha256_file, verify
from audit.progress import LogProgress
from fixtures.batch_builder import (
    FIXTURE_DATA,
    FIXTURES,
    PARAMS,
    ROOT,
    fixture_notebooks,
    fixture_store,
    options,
)


def test_every_county_of_the_store_but_the_city_bureau(tmp_path):
    opts = options(tmp_path)
    assert batch_run._counties(opts, "540100") == ["540102", "540103", "540104"]
    assert batch_run._counties(replace(opts, counties=("540104", "540102", "540104")), "540100") == [
        "540104",
        "540102",
    ]
    with pytest.raises(ParameterError, match="540100 is the city bureau, audited in the city roll-up"):
        batch_run._counties(replace(opts, counties=("540100",)), "540100")
    with pytest.raises(ParameterError, match="540199 not in the store; it has 540102, 540103, 540104"):
        batch_run._counties(replace(opts, counties=("540199",)), "540100")


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
    files = [*run_dir.glob("findings-masked.*"), *run_dir.glob("restricted/findings.*")]
    files += run_dir.glob("restricted/*/findings-*")
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
    parts = [pd.read_parquet(p) for p in sorted(run_dir.glob("restricted/*/findings-*.parquet"))]
    union = pd.concat(parts, ignore_index=True)
    combined = pd.read_parquet(run_dir / "restricted" / "findings.parquet")
    key = ["rule_id", "entity_type", "entity_id", "county_code"]
    assert len(combined) == len(union) == 4
    assert sorted(map(tuple, combined[key].to_numpy())) == sorted(map(tuple, union[key].to_numpy()))
    assert (run_dir / "restricted" / "findings.csv").is_file()
    assert (run_dir / "restricted" / "findings.xlsx").is_file()
    assert not list(run_dir.glob("*/findings-*"))  # a unit's register is restricted too
    # the reviewers' list: every finding, masked; the index links it and nothing restricted
    masked = pd.read_csv(run_dir / "findings-masked.csv", dtype=str)
    assert list(masked.columns) == list(combined.columns) and len(masked) == 4
    assert 'href="findings-masked.csv"' in index and 'href="findings-masked.xlsx"' in index
    assert "restricted/" in index and 'href="restricted' not in index
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
    restricted = {"findings.parquet", "findings.csv", "findings.xlsx", "city/findings-city.parquet"}
    assert {f"restricted/{p}" for p in restricted} <= set(outputs)
    assert {"findings-masked.csv", "findings-masked.xlsx"} <= set(outputs)
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
    for path in [*run_dir.glob("restricted/findings.*"), *run_dir.glob("findings-masked.*")]:
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
    # the cell limit must outlast a healthy cell on a loaded machine (4 s did not, under xdist)
    summary = batch.run_batch(
        options(tmp_path, notebooks=notebooks, timeout=12.0),
        counties=["540102", "540103", "540104"],
        progress=LogProgress(stream),
    )
    run_dir = summary.run_dir
    status = {u["code"]: u["status"] for u in summary.units}
    assert status == {"540102": "ok", "540103": "failed", "540104": "failed", "city": "failed"}, summary.units
    reasons = {u["code"]: u["reason"] for u in summary.units}
    assert "relief.ipynb: cell 3 raised ValueError: fixture data of 540103 is not a list" in reasons["540103"]
    assert "did not finish within 12 s" in reasons["540104"]
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
    register = pd.read_parquet(run_dir / "restricted" / "findings.parquet")
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
        _cli("batch", *args, "--resume"),
        env=env,
        capture_output=True,
        text=True,  # the one unfinished run
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
    assert len(_findings_bytes(reference.run_dir)) == 3 + 2 + 2 * 3 + 1  # restricted, masked, each unit's
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
        pd.read_parquet(p)
        for c in counties
        for p in sorted((run_dir / "restricted" / c).glob("findings-*.parquet"))
    ]
    cross_county = pd.read_parquet(run_dir / "restricted" / "city" / "findings-city.parquet")
    for unit in (*counties, "city"):  # each unit's kept rule run holds full values: restricted
        assert (run_dir / "restricted" / unit / "rules" / "stamp.json").is_file()
        assert not (run_dir / unit / "rules").exists()
    assert len(cross_county) > 0  # the demo plants city-wide and cross-county anomalies
    union = pd.concat([*county_parts, cross_county], ignore_index=True)
    combined = pd.read_parquet(run_dir / "restricted" / "findings.parquet")
    key = ["rule_id", "entity_type", "entity_id", "county_code"]
    assert len(combined) == len(union)
    assert sorted(map(tuple, combined[key].to_numpy())) == sorted(map(tuple, union[key].to_numpy()))
    assert verify(run_dir).ok


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--run-id", "../escape"], "--run-id '../escape': use letters, digits"),
        (["--resume"], "no unfinished run to resume"),
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


# --- a damaged store --------------------------------------------------------------------------


def _nothing_to_do(job: batch.Job) -> batch.JobResult:
    """A job that succeeds without writing anything (no kernels)."""
    return batch.JobResult(job.key, "ok", fingerprint=job.fingerprint, seconds=0.1)


def test_a_damaged_store_file_fails_its_county_once_and_the_roll_up_leaves_it_out(tmp_path, capsys):
    from audit.commands.batch import summary_text
    from audit.store import file_hashes

    store = fixture_store(tmp_path)
    manifest = json.loads((store / "manifest.json").read_text(encoding="utf-8"))
    manifest["files"] = file_hashes(store)  # as audit ingest writes it
    (store / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    part = store / "tables" / "contracts" / "county_code=540103" / "part-0.parquet"
    part.write_bytes(b"54")  # truncated
    summary = batch.run_batch(
        options(tmp_path, jobs=1, notebooks=ROOT / "notebooks"),
        counties=["540102", "540103"],
        job_fn=_nothing_to_do,
        progress=LogProgress(io.StringIO()),
    )
    why = f"store damaged: {part.resolve()}: run audit ingest again"
    units = {u["code"]: u for u in summary.units}
    assert units["540103"]["status"] == "failed" and units["540103"]["reason"] == why
    assert units["540102"]["status"] == units["city"]["status"] == "ok"
    text = summary_text(summary)
    assert text.count("store damaged") == 1 and f"failed 540103: {why}" in text
    manifest = json.loads((summary.run_dir / "manifest.json").read_text(encoding="utf-8"))
    jobs = {j["key"]: j for j in manifest["jobs"]}
    assert jobs["540103/rules"]["status"] == "failed" and jobs["540103/rules"]["seconds"] == 0  # never ran
    assert jobs["540103/report"]["status"] == "blocked"
    # the roll-up's notebook and rules were told to leave the county out
    plan = batch.plan(
        options(tmp_path, notebooks=ROOT / "notebooks"),
        batch.gather_inputs(options(tmp_path, notebooks=ROOT / "notebooks")),
        ["540102", "540103"],
        tmp_path / "out" / "plan",
        "code",
        "540100",
        ["540103"],
    )
    by_key = {j.key: j for j in plan}
    assert dict(by_key["city/city"].parameters)["excluded"] == ["540103"]
    assert dict(by_key["city/city"].parameters)["counties"] == ["540102", "540103"]
    assert dict(by_key["city/rules"].parameters)["excluded"] == ("540103",)
    assert "excluded" not in dict(by_key["540102/rules"].parameters)
