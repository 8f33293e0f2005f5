"""Provenance: hashes, the manifest, verification, sign-off and the run folder's lock."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
from pathlib import Path

import pytest

from audit import cli
from audit import manifest as m
from audit.exceptions import BatchError, ManifestError, ParameterError

ABC_SHA256 = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
NOON = dt.datetime(2021, 2, 18, 4, 30, 0, tzinfo=dt.UTC)


def _record(run_dir: Path, rel: str) -> dict:
    return m.FileRecord.of(run_dir / rel, run_dir).to_json()


def _run_folder(tmp_path: Path) -> Path:
    """A run folder by hand: two counties (one failed), a store input, a notebook input."""
    run_dir, store, notebooks = tmp_path / "run", tmp_path / "store", tmp_path / "notebooks"
    for folder in (run_dir / "540102", run_dir / "540103", store, notebooks):
        folder.mkdir(parents=True)
    (run_dir / "540102" / "report.html").write_text("<h1>城关区</h1>", encoding="utf-8")
    (run_dir / "540102" / "report.pdf").write_bytes(b"%PDF-1.4 fake")
    (run_dir / "540103" / "relief.failed.ipynb").write_text("{}", encoding="utf-8")
    (store / "manifest.json").write_text('{"sources": []}', encoding="utf-8")
    (notebooks / "relief.ipynb").write_text("{}", encoding="utf-8")
    outputs = ["540102/report.html", "540102/report.pdf", "540103/relief.failed.ipynb"]
    m.write_manifest(
        run_dir,
        {
            "run_id": "run",
            "roots": {"store": str(store), "notebooks": str(notebooks), "params": str(tmp_path / "gone")},
            "inputs": [
                {"root": "store", **_record(store, "manifest.json")},
                {"root": "notebooks", **_record(notebooks, "relief.ipynb")},
                {"root": "params", "path": "lhasa-2020.yaml", "sha256": ABC_SHA256, "size": 3},
            ],
            "outputs": [_record(run_dir, rel) for rel in outputs],
            "units": [
                {
                    "code": "540102",
                    "status": "ok",
                    "reason": "",
                    "reports": ["540102/report.html", "540102/report.pdf"],
                },
                {"code": "540103", "status": "failed", "reason": "relief failed", "reports": []},
            ],
        },
    )
    return run_dir


def test_sha256_of_a_file(tmp_path):
    path = tmp_path / "abc"
    path.write_bytes(b"abc")
    assert m.sha256_file(path) == ABC_SHA256
    assert m.FileRecord.of(path, tmp_path) == m.FileRecord("abc", ABC_SHA256, 3)


def test_file_record_matches_only_the_same_bytes(tmp_path):
    path = tmp_path / "abc"
    path.write_bytes(b"abc")
    record = m.FileRecord.of(path, tmp_path)
    assert record.matches(tmp_path)
    path.write_bytes(b"abd")  # same size, one byte changed
    assert not record.matches(tmp_path)
    path.unlink()
    assert not record.matches(tmp_path)


def test_atomic_write_leaves_no_temporary_file(tmp_path):
    m.write_json(tmp_path / "sub" / "x.json", {"b": 1, "a": "甲"})
    assert [p.name for p in (tmp_path / "sub").iterdir()] == ["x.json"]
    assert (tmp_path / "sub" / "x.json").read_text(encoding="utf-8") == '{\n  "a": "甲",\n  "b": 1\n}\n'


def test_code_revision_outside_git_is_unknown(tmp_path):
    assert m.code_revision(tmp_path) == {"revision": "unknown", "dirty": None}


def test_code_revision_in_git(tmp_path):
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    (tmp_path / "a.py").write_text("x = 1\n")
    subprocess.run(["git", "-C", str(tmp_path), "add", "a.py"], check=True)
    subprocess.run(
        ["git", "-C", str(tmp_path), "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "a"],
        check=True,
    )
    head = subprocess.run(
        ["git", "-C", str(tmp_path), "rev-parse", "HEAD"], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert m.code_revision(tmp_path) == {"revision": head, "dirty": False}
    (tmp_path / "a.py").write_text("x = 2\n")
    assert m.code_revision(tmp_path) == {"revision": head, "dirty": True}


def test_code_digest_follows_the_source_and_ignores_bytecode(tmp_path):
    (tmp_path / "a.py").write_text("x = 1\n")
    before = m.code_digest(tmp_path)
    (tmp_path / "__pycache__").mkdir()
    (tmp_path / "__pycache__" / "a.cpython-311.pyc").write_bytes(b"\0")
    assert m.code_digest(tmp_path) == before
    (tmp_path / "a.py").write_text("x = 2\n")
    assert m.code_digest(tmp_path) != before


def test_package_versions_name_the_stack():
    versions = m.package_versions()
    for name in ("python", "audit", "pandas", "pandera", "papermill", "nbconvert", "nbclient", "pyarrow"):
        assert versions[name] not in ("", "not installed"), name


def test_missing_manifest_says_the_run_did_not_finish(tmp_path):
    with pytest.raises(ManifestError, match="did not finish"):
        m.read_manifest(tmp_path)


def test_foreign_manifest_is_refused(tmp_path):
    (tmp_path / "manifest.json").write_text('{"format": 99}', encoding="utf-8")
    with pytest.raises(ManifestError, match="format 1"):
        m.read_manifest(tmp_path)


def test_untouched_run_verifies(tmp_path):
    run_dir = _run_folder(tmp_path)
    found = m.verify(run_dir)
    assert found.ok
    assert (found.outputs, found.inputs, found.signoffs) == (3, 3, 0)
    assert found.unavailable == ("params:lhasa-2020.yaml",)  # its folder is not on this machine


def test_verify_finds_a_one_byte_change_and_a_missing_output(tmp_path):
    run_dir = _run_folder(tmp_path)
    report = run_dir / "540102" / "report.html"
    data = bytearray(report.read_bytes())
    data[5] ^= 1
    report.write_bytes(bytes(data))
    (run_dir / "540103" / "relief.failed.ipynb").unlink()
    found = m.verify(run_dir)
    assert not found.ok
    assert [(p.subject, p.path, p.problem) for p in found.problems] == [
        ("output", "540102/report.html", "changed"),
        ("output", "540103/relief.failed.ipynb", "missing"),
    ]


def test_verify_finds_a_changed_input(tmp_path):
    run_dir = _run_folder(tmp_path)
    (tmp_path / "notebooks" / "relief.ipynb").write_text("{ }", encoding="utf-8")
    (problem,) = m.verify(run_dir).problems
    assert (problem.subject, problem.problem) == ("input", "changed")
    assert problem.path == str(tmp_path / "notebooks" / "relief.ipynb")


def test_sign_records_reviewer_time_and_hashes(tmp_path):
    run_dir = _run_folder(tmp_path)
    signoff = m.sign(run_dir, "540102", " 王芳 ", "reviewed on site", now=NOON)
    assert signoff.reviewer == "王芳"
    assert signoff.signed_utc == "2021-02-18T04:30:00Z"
    assert [r.path for r in signoff.reports] == ["540102/report.html", "540102/report.pdf"]
    assert signoff.reports[0].sha256 == m.sha256_file(run_dir / "540102" / "report.html")
    m.sign(run_dir, "540102", "李强", now=NOON + dt.timedelta(hours=1))
    saved = json.loads((run_dir / "signoffs.json").read_text(encoding="utf-8"))
    assert [(s["reviewer"], s["signed_utc"]) for s in saved] == [
        ("王芳", "2021-02-18T04:30:00Z"),
        ("李强", "2021-02-18T05:30:00Z"),
    ]
    assert m.verify(run_dir).ok


def test_a_signoff_breaks_when_its_report_changes(tmp_path):
    run_dir = _run_folder(tmp_path)
    m.sign(run_dir, "540102", "王芳", now=NOON)
    (run_dir / "540102" / "report.pdf").write_bytes(b"%PDF-1.4 edited")
    problems = m.verify(run_dir).problems
    assert [(p.subject, p.path, p.problem) for p in problems] == [
        ("output", "540102/report.pdf", "changed"),
        ("sign-off", "540102", "broken"),
    ]
    assert "王芳" in problems[1].detail and "540102/report.pdf" in problems[1].detail


def test_a_changed_report_cannot_be_signed(tmp_path):
    run_dir = _run_folder(tmp_path)
    (run_dir / "540102" / "report.html").write_text("<h1>edited</h1>", encoding="utf-8")
    with pytest.raises(ManifestError, match="changed since the batch wrote it"):
        m.sign(run_dir, "540102", "王芳")
    assert not (run_dir / "signoffs.json").exists()


def test_a_failed_county_cannot_be_signed(tmp_path):
    run_dir = _run_folder(tmp_path)
    with pytest.raises(ManifestError, match="no finished report"):
        m.sign(run_dir, "540103", "王芳")


def test_signing_needs_a_known_county_and_a_reviewer(tmp_path):
    run_dir = _run_folder(tmp_path)
    with pytest.raises(ParameterError, match="it has 540102, 540103"):
        m.sign(run_dir, "540199", "王芳")
    with pytest.raises(ParameterError, match="--reviewer"):
        m.sign(run_dir, "540102", "  ")


def test_one_batch_or_sign_at_a_time(tmp_path):
    # the second lock, taken while the first is held, is the one that must fail
    busy = pytest.raises(BatchError, match="another audit batch or sign")
    with m.run_lock(tmp_path), busy, m.run_lock(tmp_path):
        pass
    with m.run_lock(tmp_path):  # released when the holder is done
        pass


def test_verify_on_the_command_line(tmp_path, capsys):
    run_dir = _run_folder(tmp_path)
    assert cli.main(["verify", str(run_dir)]) == 0
    assert capsys.readouterr().out == (
        "not checked input params:lhasa-2020.yaml: its folder is not on this machine\n"
        "verified: 3 outputs, 3 inputs, 0 sign-offs\n"
    )
    (run_dir / "540102" / "report.pdf").write_bytes(b"%PDF-1.4 fakf")
    assert cli.main(["verify", str(run_dir)]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("changed output 540102/report.pdf: sha256 ")
    assert out[-1] == "1 problems in 3 outputs, 3 inputs, 0 sign-offs"


def test_verify_without_a_manifest_is_an_error(tmp_path, capsys):
    assert cli.main(["verify", str(tmp_path)]) == 2
    assert "no manifest; the batch did not finish" in capsys.readouterr().err


def test_signoff_levels_each_bind_the_report_and_all_break_when_it_changes(tmp_path):
    run_dir = _run_folder(tmp_path)
    m.sign(run_dir, "540102", "王芳", level="preparer", now=NOON)
    m.sign(run_dir, "540102", "李强", level="复核", now=NOON)
    held = m.held_levels(run_dir)["540102"]
    assert {level: s.reviewer if s else None for level, s in held.items()} == {
        "经办": "王芳",
        "复核": "李强",
        "审定": None,
    }
    m.sign(run_dir, "540102", "次仁", level="审定", now=NOON)
    assert all(m.held_levels(run_dir)["540102"].values())
    saved = json.loads((run_dir / "signoffs.json").read_text(encoding="utf-8"))
    assert [s["level"] for s in saved] == ["经办", "复核", "审定"]
    (run_dir / "540102" / "report.html").write_text("<h1>edited</h1>", encoding="utf-8")
    assert m.held_levels(run_dir)["540102"] == {"经办": None, "复核": None, "审定": None}
    broken = [p for p in m.verify(run_dir).problems if p.subject == "sign-off"]
    assert [p.detail.split(";")[0] for p in broken] == [
        "signed by 王芳 at 2021-02-18T04:30:00Z as 经办",
        "signed by 李强 at 2021-02-18T04:30:00Z as 复核",
        "signed by 次仁 at 2021-02-18T04:30:00Z as 审定",
    ]


def test_an_old_signoff_without_a_level_is_a_reviewers_and_an_unknown_level_is_refused(tmp_path):
    run_dir = _run_folder(tmp_path)
    m.sign(run_dir, "540102", "王芳", now=NOON)
    raw = json.loads((run_dir / "signoffs.json").read_text(encoding="utf-8"))
    del raw[0]["level"]
    (run_dir / "signoffs.json").write_text(json.dumps(raw), encoding="utf-8")
    assert m.read_signoffs(run_dir)[0].level == "复核"
    with pytest.raises(ParameterError, match="'boss' is not a sign-off level; choose 经办 \\(preparer\\)"):
        m.sign(run_dir, "540102", "王芳", level="boss")
