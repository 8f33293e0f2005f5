"""Smoke test of ``python -m benchmarks``: every target runs at a tiny scale and gets its table.

Timings on a shared machine are not pass/fail material, so nothing here reads a figure: the
test checks that the suite runs, that each registered target has a section with its measurements
and no error, that every validation peer found the planted errors, and that hand-written notes
survive a rewrite of the results file.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TINY = ["--scale", "1", "--repeat", "1", "--persons", "500", "--counties", "1", "--peer-rows", "5000"]

pytestmark = [pytest.mark.slow, pytest.mark.browser, pytest.mark.xdist_group("benchmarks")]


def _suite(*args: str, timeout: float = 900) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "benchmarks", *args], cwd=ROOT, capture_output=True, text=True, timeout=timeout
    )


def test_the_suite_measures_every_target_and_keeps_the_notes(tmp_path):
    pytest.importorskip("great_expectations", reason="the bench extra: pip install -e '.[dev,bench]'")
    pytest.importorskip("pyinstrument", reason="the bench extra: pip install -e '.[dev,bench]'")
    listed = _suite("--list", timeout=60)
    assert listed.returncode == 0, listed.stderr
    names = listed.stdout.split()
    assert {"ingest", "rules", "batch", "memory", "dask"} <= set(names)
    out = tmp_path / "RESULTS.md"
    out.write_text(
        "old figures\n\n## Notes (hand-written)\n\nThe quiet run was on a Tuesday.\n", encoding="utf-8"
    )

    done = _suite(*TINY, "--no-profile", "--work", str(tmp_path / "work"), "--out", str(out))

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
