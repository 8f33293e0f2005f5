"""Running notebooks: parameters as given, failures and hangs reported with the notebook kept."""

from __future__ import annotations

import time
from pathlib import Path

import nbformat
import pytest

from audit import notebook_runs
from audit.exceptions import ExecutionError, ParameterError
from audit.findings import read_register
from audit.renderers.html import render_html
from audit.runspec import validate_spec
from fixtures import store_builder

NOTEBOOKS = Path(__file__).parent / "fixtures" / "notebooks"
PARAMS = {"county": "540102", "seed": None, "lang": "zh"}


def _outputs(path: Path) -> str:
    nb = nbformat.read(path, as_version=4)
    return "".join(
        str(o.get("text", "")) + str(o.get("data", {}).get("text/plain", ""))
        for c in nb.cells
        for o in c.get("outputs", [])
    )


@pytest.mark.slow
@pytest.mark.xdist_group("notebooks")
def test_parameters_reach_the_kernel_with_their_types(tmp_path):
    result = notebook_runs.execute_notebook(
        NOTEBOOKS / "shows_parameters.ipynb", tmp_path / "shown.ipynb", PARAMS, timeout=60, cwd=tmp_path
    )
    assert "'county': ('str', '540102')" in _outputs(result.output)
    assert "'seed': ('NoneType', None)" in _outputs(result.output)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["shown.ipynb"]  # no partial file left


@pytest.mark.slow
@pytest.mark.xdist_group("notebooks")
def test_a_failing_cell_names_its_error_and_the_failed_notebook_is_kept(tmp_path):
    with pytest.raises(ExecutionError) as caught:
        notebook_runs.execute_notebook(
            NOTEBOOKS / "raises_in_a_cell.ipynb", tmp_path / "area.ipynb", PARAMS, timeout=60, cwd=tmp_path
        )
    message = str(caught.value)
    assert "raises_in_a_cell.ipynb: cell" in message
    assert "raised ValueError: no such township for 540102" in message
    failed = tmp_path / "area.failed.ipynb"
    assert str(failed) in message
    assert sorted(p.name for p in tmp_path.iterdir()) == ["area.failed.ipynb"]  # never a good-looking copy
    errors = [o.ename for c in nbformat.read(failed, 4).cells for o in c.get("outputs", []) if "ename" in o]
    assert errors == ["ValueError"] and "never reached" not in _outputs(failed)
    assert caught.value.exit_code == 1


@pytest.mark.slow
@pytest.mark.xdist_group("notebooks")
def test_a_hung_cell_is_interrupted_at_the_timeout(tmp_path):
    started = time.perf_counter()
    with pytest.raises(ExecutionError, match="did not finish within 2 s and was interrupted"):
        notebook_runs.execute_notebook(
            NOTEBOOKS / "hangs_in_a_cell.ipynb", tmp_path / "area.ipynb", PARAMS, timeout=2, cwd=tmp_path
        )
    assert time.perf_counter() - started < 30
    assert (tmp_path / "area.failed.ipynb").is_file()


@pytest.mark.slow
@pytest.mark.xdist_group("notebooks")
def test_warnings_are_silenced_in_the_kernel_and_stderr_never_reaches_the_report(tmp_path):
    result = notebook_runs.execute_notebook(
        NOTEBOOKS / "writes_warnings.ipynb", tmp_path / "w.ipynb", PARAMS, timeout=60, cwd=tmp_path
    )
    executed = _outputs(result.output)
    assert "a warning reviewers must not read" not in executed  # PYTHONWARNINGS=ignore in the kernel
    assert "stderr text reviewers must not read" in executed  # written on purpose: only the report drops it
    html = render_html([result.output], tmp_path / "report.html", lang="zh").read_text(encoding="utf-8")
    assert "检查报告" in html and "reviewers must not read" not in html


def test_a_missing_notebook_is_an_execution_error(tmp_path):
    with pytest.raises(ExecutionError, match="no such notebook"):
        notebook_runs.execute_notebook(
            tmp_path / "nope.ipynb", tmp_path / "x.ipynb", PARAMS, timeout=5, cwd=tmp_path
        )


def test_unknown_areas_are_refused_before_any_kernel_starts(tmp_path, monkeypatch):
    def no_kernel(*args, **kwargs):
        raise AssertionError("a kernel was started")

    monkeypatch.setattr(notebook_runs, "execute_notebook", no_kernel)
    (tmp_path / "store").mkdir()
    spec = validate_spec(
        {"store": str(tmp_path / "store"), "out": str(tmp_path / "out")},
        counties=["540102"],
        extra_roots=[tmp_path],
    )
    with pytest.raises(ParameterError, match="unknown area\\(s\\) \\['finance'\\]"):
        notebook_runs.run_county(spec, ["contracts", "finance"])
    with pytest.raises(ParameterError, match="unknown notebook 'finance'"):
        notebook_runs.notebook_path("finance")


@pytest.mark.slow
@pytest.mark.xdist_group("notebooks")
def test_a_county_run_writes_notebooks_report_and_findings(tmp_path_factory):
    result = store_builder.county_run(tmp_path_factory)
    folder = result.folder
    assert result.county == "540102" and folder.name == "540102"
    assert [p.name for p in result.notebooks] == ["contracts.ipynb", "staffing.ipynb", "relief.ipynb"]
    assert result.reports == {"html": folder / "report.html", "pdf": folder / "report.pdf"}
    assert result.html == folder / "report.html"
    assert result.reports["pdf"].stat().st_size > 10_000
    counts = {p.stem.removeprefix("findings-"): len(read_register(p)) for p in result.findings}
    assert counts == store_builder.EXPECTED_BY_AREA
    restricted = folder.parent / "restricted" / "540102"  # full personal data: apart from the reports
    assert result.findings == tuple(restricted / f"findings-{letter}.parquet" for letter in "CSF")
    for letter in "CSF":
        assert (restricted / f"findings-{letter}.csv").is_file() and (
            folder / f"results-{letter}.parquet"
        ).is_file()
        assert not (folder / f"findings-{letter}.csv").exists()
    assert not [p for p in folder.iterdir() if ".partial" in p.name or ".failed" in p.name]


@pytest.mark.slow
@pytest.mark.xdist_group("notebooks")
def test_the_restricted_findings_register_keeps_full_values(tmp_path_factory):
    folder = store_builder.county_run(tmp_path_factory).folder
    relief = read_register(folder.parent / "restricted" / "540102" / "findings-F.parquet")
    assert store_builder.P3_ID in " ".join(relief["evidence"])  # F2: paid after death, full ID for inspectors
