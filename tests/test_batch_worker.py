"""One job in a worker process: working folder, commit, record; a failed notebook shown masked."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from audit import batch
from audit.batch import worker as batch_worker
from fixtures.batch_builder import plan_jobs as _plan


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
    batch_worker._show_failure(job, out)
    kept = (out / "relief.failed.ipynb").read_text(encoding="utf-8")
    shown = (out / "relief.failed.html").read_text(encoding="utf-8")
    for text in (kept, shown):
        assert "卓玛" not in text and "张三丰" not in text
        assert "卓*" in text and "张**" in text
    # in full, as a restricted run asks, nothing is masked
    nbformat.write(book, out / "relief.failed.ipynb")
    batch_worker._show_failure(replace(job, pii="full"), out)
    assert "张三丰" in (out / "relief.failed.html").read_text(encoding="utf-8")
