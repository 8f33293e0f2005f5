"""Reviewer bundles (``audit publish``) and the restricted exports kept apart in the run folder."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from html import unescape
from pathlib import Path

import pandas as pd
import pytest

from audit import cli
from audit.batch import run_batch
from audit.batch.worker import _commit
from audit.findings import finding_id, write_register
from audit.manifest import write_json
from audit.progress import LogProgress
from fixtures.batch_builder import PARAMS, ROOT, InlineExecutor, Sink, options

FULL_ID, ACCOUNT, NAME = "540102199001011234", "6217000000001234", "扎西次仁"
GB11643 = re.compile(  # an ID number of GB 11643: area, a real birth date, sequence, check character
    r"(?<![0-9A-Za-z])\d{6}(?:19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[\dXx](?![0-9A-Za-z])"
)


SEQUENCE = {"contracts": 123, "staffing": 124, "relief": 125, "city": 126}


class _Inline(InlineExecutor):
    """Jobs run at once in this process: a stand-in run needs no worker processes."""

    def describe(self):
        return {"name": "inline", "workers": 1}

    def close(self):
        pass


def _stand_in_job(job):
    """A job writing what the real one writes, committed by the worker's own placement of files."""
    from audit.batch import JobResult

    out = job.run_dir / ".batch" / "work" / job.slug
    out.mkdir(parents=True)
    if job.kind == "report":
        (out / "report.html").write_text(f"<h1>{job.unit} 扎***</h1>", encoding="utf-8")
        (out / "report.docx").write_bytes(b"PK stand-in")
    elif job.kind == "rules":
        (out / "rules").mkdir()
        (out / "rules" / "stamp.json").write_text("{}", encoding="utf-8")
    else:
        code = job.unit if job.unit != "city" else "540100"
        entity = f"{code}19900101{SEQUENCE[job.area]}4"  # 540102199001011234 for 540102's contracts
        row = {
            "finding_id": finding_id("F2", "person", entity),
            "rule_id": "F2",
            "area": "F",
            "severity": "high",
            "county_code": code,
            "township_code": "",
            "entity_type": "person",
            "entity_id": entity,
            "amount_yuan": 203.0,
            "description_zh": f"{NAME}（{entity}）死亡后仍领取救助金",
            "description_en": f"{NAME} paid after death",
            "evidence": json.dumps(
                {"bank_account": ACCOUNT, "name": NAME, "person_id": entity}, sort_keys=True
            ),
        }
        write_register(pd.DataFrame([row]), out, f"findings-{job.area}")
        (out / f"{job.area}.ipynb").write_text("{}", encoding="utf-8")
    return JobResult(job.key, "ok", outputs=_commit(job, out), fingerprint=job.fingerprint, seconds=0.1)


@pytest.fixture
def run_dir(tmp_path, monkeypatch):
    """A finished stand-in run of two counties and the roll-up, with full personal data in its registers."""
    monkeypatch.setattr("audit.batch.executors.executor_for", lambda *a, **k: _Inline())
    opts = options(tmp_path, jobs=1, formats=("html", "docx"))
    summary = run_batch(
        opts, counties=["540102", "540103"], job_fn=_stand_in_job, progress=LogProgress(Sink())
    )
    assert summary.ok, summary.findings_error or summary.failed
    return summary.run_dir


def _audit(*args: object) -> int:
    return cli.main([str(a) for a in args])


def test_restricted_exports_are_kept_apart_and_the_index_never_links_them(run_dir):
    restricted = sorted(p.relative_to(run_dir).as_posix() for p in (run_dir / "restricted").rglob("*"))
    assert [p for p in restricted if "." in p.rsplit("/", 1)[-1]] == [
        "restricted/540102/findings-contracts.csv",
        "restricted/540102/findings-contracts.parquet",
        "restricted/540102/findings-relief.csv",
        "restricted/540102/findings-relief.parquet",
        "restricted/540102/findings-staffing.csv",
        "restricted/540102/findings-staffing.parquet",
        "restricted/540103/findings-contracts.csv",
        "restricted/540103/findings-contracts.parquet",
        "restricted/540103/findings-relief.csv",
        "restricted/540103/findings-relief.parquet",
        "restricted/540103/findings-staffing.csv",
        "restricted/540103/findings-staffing.parquet",
        "restricted/city/findings-city.csv",
        "restricted/city/findings-city.parquet",
        "restricted/findings.csv",
        "restricted/findings.parquet",
        "restricted/findings.xlsx",
    ]
    assert FULL_ID in (run_dir / "restricted" / "findings.csv").read_text(encoding="utf-8-sig")
    assert sorted(p.name for p in (run_dir / "540102").iterdir()) == [
        "contracts.ipynb",
        "relief.ipynb",
        "report.docx",
        "report.html",
        "staffing.ipynb",
    ]
    index = (run_dir / "index.html").read_text(encoding="utf-8")
    links = re.findall(r'href="([^"]+)"', index)
    assert (
        "findings-masked.csv" in links and "findings-masked.xlsx" in links and "540102/report.docx" in links
    )
    assert not [link for link in links if "restricted" in link or link.startswith("findings.")]
    assert "restricted/" in index  # said, not linked
    assert _audit("verify", run_dir) == 0


def test_the_masked_findings_list_has_the_registers_columns_and_no_full_personal_data(run_dir):
    full = pd.read_csv(run_dir / "restricted" / "findings.csv", dtype=str, encoding="utf-8-sig")
    masked = pd.read_csv(run_dir / "findings-masked.csv", dtype=str, encoding="utf-8-sig")
    assert list(masked.columns) == list(full.columns) and len(masked) == len(full) == 7
    assert list(masked["finding_id"]) == list(full["finding_id"])
    text = (run_dir / "findings-masked.csv").read_text(encoding="utf-8-sig")
    assert not GB11643.search(text) and ACCOUNT not in text and NAME not in text
    assert "540102********1234" in text and "************1234" in text and "扎***" in text
    from python_calamine import CalamineWorkbook

    cells = [
        c
        for row in CalamineWorkbook.from_path(str(run_dir / "findings-masked.xlsx"))
        .get_sheet_by_index(0)
        .to_python()
        for c in row
    ]
    assert "540102********1234" in cells and not any(FULL_ID in str(c) or NAME in str(c) for c in cells)


def test_a_bundle_holds_only_what_a_reviewer_may_read_and_verifies(run_dir, tmp_path, capsys):
    bundle = tmp_path / "bundle"
    assert _audit("publish", run_dir, "--out", bundle) == 0
    assert f"published: {bundle} (run test): 9 files" in capsys.readouterr().out
    files = sorted(p.relative_to(bundle).as_posix() for p in bundle.rglob("*") if p.is_file())
    assert files == [
        "540102/report.docx",
        "540102/report.html",
        "540103/report.docx",
        "540103/report.html",
        "city/report.docx",
        "city/report.html",
        "findings-masked.csv",
        "findings-masked.xlsx",
        "index.html",
        "manifest.json",
    ]
    manifest = json.loads((bundle / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["kind"] == "reviewer-bundle" and manifest["source"]["run_id"] == "test"
    from audit.manifest import sha256_file

    assert manifest["source"]["manifest_sha256"] == sha256_file(run_dir / "manifest.json")
    assert sorted(f["path"] for f in manifest["files"]) == [f for f in files if f != "manifest.json"]
    why = {item["path"]: item["reason"] for item in manifest["left_out"]}
    assert why["restricted/findings.xlsx"].startswith("restricted export: full ID numbers")
    assert why["540102/relief.ipynb"].startswith("executed notebook")
    assert "manifest.json" in why
    for path in files:
        data = (bundle / path).read_bytes().decode("utf-8", "replace")
        assert FULL_ID not in data and ACCOUNT not in data and NAME not in data, path
    links = re.findall(r'href="([^"]+)"', (bundle / "index.html").read_text(encoding="utf-8"))
    assert sorted(set(links)) == sorted(f for f in files if f not in ("index.html",))
    assert _audit("verify", bundle) == 0
    assert capsys.readouterr().out == "verified: reviewer bundle of run test, 9 files, 0 sign-offs\n"


def test_verify_names_a_changed_file_and_one_the_bundle_never_held(run_dir, tmp_path, capsys):
    bundle = tmp_path / "bundle"
    assert _audit("publish", run_dir, "--out", bundle) == 0
    with open(bundle / "540102" / "report.html", "a", encoding="utf-8") as page:
        page.write("<p>edited</p>")
    shutil.copy(run_dir / "restricted" / "findings.csv", bundle / "findings.csv")
    capsys.readouterr()
    assert _audit("verify", bundle) == 1
    printed = capsys.readouterr().out.splitlines()
    assert printed[0].startswith("changed file 540102/report.html: sha256 ")
    assert printed[1] == (
        "unexpected file findings.csv: not in the bundle's manifest; a bundle holds only what was published"
    )
    assert printed[2] == "2 problems in reviewer bundle of run test, 9 files, 0 sign-offs"


def test_sign_offs_travel_with_the_bundle_and_still_hold(run_dir, tmp_path, capsys):
    assert _audit("sign", run_dir, "--county", "540102", "--reviewer", "王芳") == 0
    bundle = tmp_path / "bundle"
    assert _audit("publish", run_dir, "--out", bundle, "--zip") == 0
    assert (bundle / "signoffs.json").is_file()
    assert "复核 ✓ 王芳" in (bundle / "index.html").read_text(encoding="utf-8")
    capsys.readouterr()
    assert _audit("verify", bundle) == 0
    assert capsys.readouterr().out.endswith("10 files, 1 sign-offs\n")
    with zipfile.ZipFile(tmp_path / "bundle.zip") as archive:
        names = archive.namelist()
    assert "bundle/signoffs.json" in names and "bundle/manifest.json" in names
    assert not [n for n in names if "restricted" in n or n.endswith(".ipynb")]
    # a bundle is not a run folder: commands that act on a run say so
    assert _audit("sign", bundle, "--county", "540102", "--reviewer", "王芳") == 2
    assert "a reviewer bundle (audit publish), not a run folder" in capsys.readouterr().err


def test_publish_refuses_what_it_cannot_vouch_for(run_dir, tmp_path, capsys):
    def refused(*args: object) -> str:
        assert _audit("publish", *args) == 2
        return capsys.readouterr().err

    bundle = tmp_path / "bundle"
    (bundle / "notes").mkdir(parents=True)
    assert "holds files that are not a reviewer bundle" in refused(run_dir, "--out", bundle, "--force")
    shutil.rmtree(bundle)
    assert "inside the run folder" in refused(run_dir, "--out", run_dir / "bundle")
    assert _audit("publish", run_dir, "--out", bundle) == 0
    assert "holds a reviewer bundle already; pass --force" in refused(run_dir, "--out", bundle)
    assert _audit("publish", run_dir, "--out", bundle, "--force") == 0
    assert "a reviewer bundle (audit publish), not a run folder" in refused(bundle, "--out", tmp_path / "b2")
    # a run changed since the batch
    report = run_dir / "540103" / "report.html"
    kept = report.read_bytes()
    report.write_bytes(kept + b"<p>x</p>")
    err = refused(run_dir, "--out", tmp_path / "b3")
    assert "failed verification (1 problems: changed output 540103/report.html" in err
    assert f"audit verify {run_dir}" in err and not (tmp_path / "b3").exists()
    report.write_bytes(kept)
    # a run showing personal data in full, an incomplete one, an unfinished one
    manifest_path = run_dir / "manifest.json"
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    write_json(manifest_path, {**manifest, "parameters": {"run": {"pii": "full"}}})
    assert "--pii full" in refused(run_dir, "--out", tmp_path / "b4")
    failed = [
        {**u, "status": "failed", "reason": "notebook failed"} if u["code"] == "540103" else u
        for u in manifest["units"]
    ]
    write_json(manifest_path, {**manifest, "status": "failed", "units": failed})
    assert "the run is incomplete (540103: notebook failed); finish it" in refused(
        run_dir, "--out", tmp_path / "b5"
    )
    manifest_path.unlink()
    assert "the batch did not finish" in refused(run_dir, "--out", tmp_path / "b6")


# --- the demo, audited by the real notebooks, published --------------------------------------------

DEMO_COUNTIES = ("540102", "540121")
BATCH_OPTIONS = ("--jobs", "2", "--formats", "html,docx")


def _texts(path: Path) -> list[str]:
    """What a reader of ``path`` sees, as text (markup kept as well, for IDs in attributes)."""
    data = path.read_bytes()
    if path.suffix == ".docx":
        with zipfile.ZipFile(path) as archive:
            xml = [archive.read(n).decode("utf-8") for n in archive.namelist() if n.endswith(".xml")]
        import docx

        word = docx.Document(str(path))
        shown = [p.text for p in word.paragraphs] + [
            c.text for t in word.tables for r in t.rows for c in r.cells
        ]
        return [*xml, "\n".join(shown)]
    if path.suffix == ".xlsx":
        from python_calamine import CalamineWorkbook

        book = CalamineWorkbook.from_path(str(path))
        return [
            "\n".join(
                str(c)
                for name in book.sheet_names
                for row in book.get_sheet_by_name(name).to_python()
                for c in row
            )
        ]
    if path.suffix == ".pdf":
        if shutil.which("pdftotext") is None:
            return []
        done = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True)
        return [done.stdout]
    text = data.decode("utf-8-sig")
    return [text, unescape(re.sub(r"<[^>]+>", "", text))] if path.suffix == ".html" else [text]


def _names_in(text: str, names: set[str], widths: set[int]) -> set[str]:
    """The names of ``names`` found in ``text``: every window of a name's width in its Han runs."""
    found: set[str] = set()
    for run in re.findall(r"[\u3400-\u9fff·]+", text):
        found |= {run[i : i + w] for w in widths for i in range(len(run) - w + 1)} & names
    return found


@pytest.mark.slow
@pytest.mark.xdist_group("publish")
def test_a_published_bundle_of_the_demo_holds_no_full_personal_data_and_verifies(tmp_path, capsys):
    from audit.store import Store

    env = {k: v for k, v in os.environ.items() if k != "AUDIT_ALLOWED_ROOTS"}
    demo = subprocess.run(
        [sys.executable, "-m", "audit", "demo", "--out", str(tmp_path / "submission"), "--format", "parquet"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert demo.returncode == 0, demo.stderr
    assert _audit("ingest", tmp_path / "submission", "--store", tmp_path / "store", "--params", PARAMS) == 0
    runs = tmp_path / "runs"
    args = ("--store", tmp_path / "store", "--params", PARAMS, "--out", runs, "--run-id", "demo")
    batch = subprocess.run(
        [
            sys.executable,
            "-m",
            "audit",
            "batch",
            *map(str, args),
            "--counties",
            *DEMO_COUNTIES,
            *BATCH_OPTIONS,
        ],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert batch.returncode == 0, batch.stderr
    run_dir, bundle = runs / "demo", tmp_path / "bundle"
    assert _audit("publish", run_dir, "--out", bundle) == 0
    assert _audit("verify", bundle) == 0 and _audit("verify", run_dir) == 0

    store = Store.open(tmp_path / "store")
    people = [store.read(t) for t in ("beneficiaries", "staff")]
    ids = {str(v) for f in people for c in ("person_id", "id_number") if c in f for v in f[c].dropna()}
    names = {str(n) for f in people for n in f["name"].dropna() if len(str(n)) >= 3}
    names |= {n[1:] for n in names if len(n) >= 4}  # the given name of a four-character name
    payments = store.read("relief_payments")
    accounts = {
        str(a)
        for f in [people[0], payments]
        for a in f.get("bank_account", pd.Series()).dropna()
        if len(str(a)) >= 12
    }
    assert len(ids) > 100 and len(names) > 100 and len(accounts) > 100
    widths = {len(n) for n in names}
    full_ids = (run_dir / "restricted" / "findings.csv").read_text(encoding="utf-8-sig")
    assert GB11643.search(full_ids) and _names_in(full_ids, names, widths)  # the test can fail

    files = sorted(p for p in bundle.rglob("*") if p.is_file())
    assert {p.suffix for p in files} == {".html", ".docx", ".csv", ".xlsx", ".json"}
    for path in files:
        for text in _texts(path):
            where = path.relative_to(bundle).as_posix()
            assert not GB11643.findall(text), (where, GB11643.findall(text)[:3])
            assert not set(re.findall(r"\d{17}[\dXx]", text)) & ids, where
            assert not set(re.findall(r"\d{12,}", text)) & accounts, where
            assert not _names_in(text, names, widths), (where, sorted(_names_in(text, names, widths))[:3])
    links = re.findall(r'href="([^"]+)"', (bundle / "index.html").read_text(encoding="utf-8"))
    assert links and all((bundle / link).is_file() for link in links)
    links = re.findall(r'href="([^"]+)"', (run_dir / "index.html").read_text(encoding="utf-8"))
    assert not [link for link in links if link.startswith("restricted") or link.startswith("findings.")]
    for link in links:  # the run's index links the executed notebooks too: masked as the reports
        text = (run_dir / link).read_bytes().decode("utf-8", "replace")
        assert not GB11643.findall(text) and not _names_in(text, names, widths), link
