"""Smoke test of ``python -m benchmarks``: every target runs at a tiny scale and gets its table.

Timings on a shared machine are not pass/fail material, so nothing here reads a figure: the
test checks that the suite runs, that each registered target has a section with its measurements
and no error, that every validation peer found the planted errors, and that hand-written notes
survive a rewrite of the results file. The papermill + nbconvert CLI loop is left out (``--no-loop``):
it alone would double the test's time. Quick tests check how peaks are read and failed batches reported.
"""

from __future__ import annotations

import importlib.util
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from fixtures import ROOT

TINY = ["--scale", "1", "--repeat", "1", "--persons", "500", "--counties", "1", "--peer-rows", "5000"]


def _suite(*args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "benchmarks", *args], cwd=ROOT, capture_output=True, text=True, timeout=timeout
    )


@pytest.mark.slow
@pytest.mark.browser
@pytest.mark.xdist_group("benchmarks")
def test_the_suite_measures_every_target_and_keeps_the_notes(tmp_path):
    for module in ("great_expectations", "pyinstrument"):  # found, not imported: GE takes seconds
        if importlib.util.find_spec(module) is None:
            pytest.skip(f"no {module}: the bench extra, pip install -e '.[dev,bench]'")
    listed = _suite("--list", timeout=60)
    assert listed.returncode == 0, listed.stderr
    names = listed.stdout.split()
    assert {"ingest", "rules", "batch", "memory", "dask"} <= set(names)
    out = tmp_path / "RESULTS.md"
    out.write_text(
        "old figures\n\n## Notes (hand-written)\n\nThe quiet run was on a Tuesday.\n", encoding="utf-8"
    )

    done = _suite(*TINY, "--no-profile", "--no-loop", "--work", str(tmp_path / "work"), "--out", str(out))

    assert done.returncode == 0, done.stderr[-4000:]
    text = out.read_text(encoding="utf-8")
    assert "old figures" not in text
    assert text.rstrip().endswith("The quiet run was on a Tuesday.")
    assert "The target failed" not in text
    sections = re.split(r"^## \d+\. ", text, flags=re.M)[1:]
    assert [s.split(":", 1)[0] for s in sections] == names
    for name, section in zip(names, sections, strict=True):
        rows = [line for line in section.splitlines() if re.match(r"\| .+ \| [\d.,]+ (k |M )?\S+ \|", line)]
        assert rows, f"{name}: no measured figure in its table"
    summary = text.split("## Summary")[1].split("\n## ")[0]
    assert all(f"| {name} |" in summary for name in names)
    assert "Every tool found the planted errors." in text
    assert (tmp_path / "work" / "results.json").is_file()


@pytest.fixture
def bench(monkeypatch):
    """``benchmarks.suite`` and ``benchmarks.batch_bench``, from the project root (not installed)."""
    monkeypatch.syspath_prepend(str(ROOT))
    return importlib.import_module("benchmarks.suite"), importlib.import_module("benchmarks.batch_bench")


def test_a_child_reports_its_own_peak_not_its_parents(bench):
    suite, batch_bench = bench
    ballast = b"x" * (256 * 2**20)  # written, so resident: ru_maxrss would pass this on to the child
    assert suite.peak_mb() >= 256
    probe = subprocess.run([sys.executable, "-c", batch_bench._PEAK], capture_output=True, text=True)
    del ballast
    assert probe.returncode == 0, probe.stderr
    assert float(probe.stdout.split("PEAK_MB")[1]) < 128


def _run(folder: Path, *units: dict) -> Path:
    folder.mkdir()
    status = "ok" if all(u["status"] == "ok" for u in units) else "failed"
    manifest = {"status": status, "units": list(units), "findings_error": "", "jobs": []}
    (folder / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    return folder


def test_only_a_clean_batch_counts_as_finished(bench, tmp_path):
    _, batch_bench = bench
    ok = {"code": "540102", "status": "ok", "reason": ""}
    failed = {"code": "540103", "status": "failed", "reason": "relief.ipynb: cell 4 raised KeyError"}
    assert batch_bench.finished(_run(tmp_path / "clean", ok), 0, "")["status"] == "ok"
    with pytest.raises(batch_bench.BatchFailed, match=r"exited 1 .*540103 failed: relief\.ipynb: cell 4"):
        batch_bench.finished(_run(tmp_path / "county-failed", ok, failed), 1, "")
    with pytest.raises(batch_bench.BatchFailed, match="exited 2 and wrote no manifest"):
        batch_bench.finished(tmp_path / "nowhere", 2, "Traceback ...")


def test_a_failed_target_is_reported_with_its_reason(bench, monkeypatch, tmp_path):
    suite, batch_bench = bench
    why = "audit batch suite-local-0 exited 1 with status 'failed'; 540103 failed: a reason"

    def measure(session):
        raise batch_bench.BatchFailed(f"{why}\nstderr:\nmore lines")

    monkeypatch.setitem(suite.TARGETS, "batch", suite.Target("batch", "the batch", measure))
    outcome = suite.run_target("batch", suite.Session(work=tmp_path))
    assert outcome.error and not outcome.figures
    context = {"command": "x", "date": "d", "minutes": 0, "revision": "r", "machine": {"load": "0"}}
    context |= {"load_end": "0", "settings": "s", "versions": {}, "warning": ""}
    text = suite.render([outcome], context, "")
    assert f"| batch | — | failed: {why} |" in text
    assert "The target failed before it finished" in text
