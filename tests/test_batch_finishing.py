"""Finishing a batch: the combined register, the manifest and the index."""

from __future__ import annotations

import json

import pandas as pd

from audit import batch
from audit.manifest import FileRecord
from audit.progress import LogProgress
from audit.runfolder import RESTRICTED
from fixtures.batch_builder import Sink as _Sink
from fixtures.batch_builder import (
    options,
)


def _same_finding_everywhere(job: batch.Job) -> batch.JobResult:
    """A job that writes the same finding (rule, entity, county) whatever unit it is for."""

    from audit.findings import REGISTER_COLUMNS, write_register

    folder = job.run_dir / job.unit
    if job.kind == "report":
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "report.html").write_text("<h1>report</h1>", encoding="utf-8")
        written = [folder / "report.html"]
    else:
        row = {c: "x" for c in REGISTER_COLUMNS} | {
            "rule_id": "C9",
            "county_code": "540102",
            "amount_yuan": 1.0,
        }
        registers = job.run_dir / RESTRICTED / job.unit  # where the worker commits a unit's register
        written = list(write_register(pd.DataFrame([row]), registers, f"findings-{job.area}").values())
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
    assert manifest["findings_masked"] == []
    assert not (summary.run_dir / "restricted" / "findings.parquet").exists()
    assert not (summary.run_dir / "findings-masked.csv").exists()
