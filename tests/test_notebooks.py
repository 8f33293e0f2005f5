"""The committed notebooks: thin, without outputs, parameterised alike, and runnable under nbval.

nbval runs copies of the notebooks whose parameters point at the hand-made fixture store
(papermill's own parameter injection, so the committed files stay as they are); the kernel
is told the fixture's folder is allowed through AUDIT_ALLOWED_ROOTS. The committed defaults
point at ``outputs/demo-store``, which ``make demo`` builds for people.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys

import nbformat
import pytest

from audit.runspec import DEFAULTS
from audit.vocabulary import AREA_NOTEBOOKS
from fixtures import ROOT, store_builder

NOTEBOOKS = ROOT / "notebooks"
NAMES = ("contracts", "staffing", "relief", "city")

# nodes a thin notebook never needs: definitions, loops, comprehensions over data, context managers
FORBIDDEN = (
    ast.FunctionDef,
    ast.AsyncFunctionDef,
    ast.ClassDef,
    ast.Lambda,
    ast.For,
    ast.AsyncFor,
    ast.While,
    ast.ListComp,
    ast.SetComp,
    ast.DictComp,
    ast.GeneratorExp,
    ast.With,
    ast.AsyncWith,
    ast.Try,
    ast.Global,
)
FORBIDDEN_CALLS = {"open", "exec", "eval", "compile", "__import__", "print"}
FORBIDDEN_METHODS = {
    "write_text",
    "write_bytes",
    "to_csv",
    "to_parquet",
    "to_excel",
    "to_json",
    "mkdir",
    "unlink",
    "rmdir",
    "rename",
    "replace",
    "touch",
    "savefig",
    "read_parquet",
    "read_csv",
    "read_excel",
}


def _code_cells(name: str) -> list[nbformat.NotebookNode]:
    nb = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
    return [c for c in nb.cells if c.cell_type == "code"]


def _problems(source: str) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, FORBIDDEN):
            found.append(type(node).__name__)
        elif isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Name) and func.id in FORBIDDEN_CALLS:
                found.append(f"{func.id}()")
            elif isinstance(func, ast.Attribute) and func.attr in FORBIDDEN_METHODS:
                found.append(f".{func.attr}()")
        elif isinstance(node, ast.Import | ast.ImportFrom):
            modules = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
            found += [f"import {m}" for m in modules if m != "audit" and not m.startswith("audit.")]
    return found


def test_the_thinness_check_catches_what_it_forbids():
    bad = (
        "def f(x):\n    return x\n"
        "for r in rows:\n    pass\n"
        "totals = [r for r in rows]\n"
        "open('x.csv', 'w')\n"
        "frame.to_csv('x.csv')\n"
        "import pandas\n"
    )
    assert sorted(_problems(bad)) == sorted(
        ["FunctionDef", "For", "ListComp", "open()", ".to_csv()", "import pandas"]
    )
    assert _problems("import audit.inspection\ninsp.problems()\n") == []


@pytest.mark.parametrize("name", NAMES)
def test_notebooks_are_thin(name):
    for cell in _code_cells(name)[1:]:
        assert not _problems(cell.source), (name, cell.source, _problems(cell.source))


@pytest.mark.parametrize("name", NAMES)
def test_each_notebook_opens_with_a_chinese_guide_and_names_its_steps(name):
    nb = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
    guide = nb.cells[0]
    assert guide.cell_type == "markdown" and guide.source.startswith("# ")
    assert "运行全部" in guide.source and "`county`" in guide.source
    kinds = [c.cell_type for c in nb.cells]
    assert kinds.index("code") == 1 and nb.cells[1].metadata.get("tags") == ["parameters"]
    headings = [c.source for c in nb.cells[2:] if c.cell_type == "markdown"]
    assert len(headings) == 6 and all(h.startswith("## ") for h in headings), headings
    assert kinds[-1] == "code"  # a heading introduces steps; none is left dangling at the end


@pytest.mark.parametrize("name", NAMES)
def test_notebooks_are_committed_without_outputs(name):
    nb = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
    nbformat.validate(nb)
    for cell in _code_cells(name):
        assert cell.outputs == [] and cell.execution_count is None, (name, cell.source)
    assert "widgets" not in nb.metadata and "papermill" not in nb.metadata


@pytest.mark.parametrize("name", NAMES)
def test_the_first_code_cell_holds_the_parameters_as_literals(name):
    first = _code_cells(name)[0]
    assert first.metadata.get("tags") == ["parameters"]
    values = {}
    for stmt in ast.parse(first.source).body:
        assert isinstance(stmt, ast.Assign) and len(stmt.targets) == 1, ast.dump(stmt)
        values[stmt.targets[0].id] = ast.literal_eval(stmt.value)
    expected = {**DEFAULTS, "county": "540100"} if name == "city" else DEFAULTS
    assert values == expected


@pytest.mark.parametrize(("name", "letter"), [(n, a) for n, a in AREA_NOTEBOOKS.items()])
def test_each_area_notebook_shows_the_report_in_order_and_saves_its_own_area(name, letter):
    source = "\n".join(c.source for c in _code_cells(name))
    assert f'insp.save_findings("{letter}")' in source
    for other in set(AREA_NOTEBOOKS.values()) - {letter}:
        assert f'"{other}"' not in source
    order = [
        "title_block",
        "basic_facts",
        "chart",
        "basis_and_method",
        "problems",
        "recommendations",
        "findings_list",
        "quality_section",
        "sample_section",
        "provenance",
    ]
    assert [source.index(f"insp.{m}(") for m in order] == sorted(source.index(f"insp.{m}(") for m in order)


@pytest.mark.slow
@pytest.mark.xdist_group("notebooks")
def test_every_notebook_runs_under_nbval_lax(tmp_path):
    import papermill

    store = store_builder.build_store(tmp_path / "store")
    copies = tmp_path / "notebooks"
    copies.mkdir()
    for name in NAMES:
        county = "540100" if name == "city" else store_builder.COUNTY
        papermill.execute_notebook(  # prepare_only: inject the parameters, run nothing
            str(NOTEBOOKS / f"{name}.ipynb"),
            str(copies / f"{name}.ipynb"),
            parameters={"county": county, "store": str(store), "out": str(tmp_path / "out" / county)},
            prepare_only=True,
            progress_bar=False,
        )
    env = {**os.environ, "AUDIT_ALLOWED_ROOTS": str(tmp_path), "PYTHONWARNINGS": "ignore"}
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "--nbval-lax",
            "-q",
            "-p",
            "no:cacheprovider",
            "--rootdir",
            str(copies),
            str(copies),
        ],
        cwd=copies,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert f"{sum(len(_code_cells(n)) for n in NAMES) + len(NAMES)} passed" in done.stdout  # + injected cells
    assert (tmp_path / "out" / "540102" / "findings-C.parquet").is_file()
    assert (tmp_path / "out" / "540100" / "findings-city.parquet").is_file()
