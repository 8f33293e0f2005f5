"""Running the notebooks: one notebook with papermill, and one county's inspection report.

Each notebook runs in a fresh kernel with a time limit per cell; its executed copy is
written under a temporary name and renamed when whole, so a folder never holds half a
notebook. A failing or timed-out cell raises :class:`~audit.exceptions.ExecutionError`
with that cell's error and keeps the failed notebook as ``<name>.failed.ipynb`` beside
where the good one would have gone. Kernels start with ``PYTHONWARNINGS=ignore`` so that
warnings never reach a report (the report assembler also drops any stderr that remains).

papermill changes the process's working directory while it runs: run one notebook at a
time per process (the batch runner uses processes).
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from audit.exceptions import ExecutionError, ParameterError
from audit.runfolder import RESTRICTED
from audit.runspec import ALLOWED_ROOTS_ENV, CITY_NOTEBOOK, RunSpec, project_root
from audit.vocabulary import AREA_NOTEBOOKS

# jsonschema, imported by nbformat, compiles an IRI grammar from rfc3987-syntax when that package
# is installed (jupyter-events pulls it in): a second of CPU in every process that runs or reads
# a notebook, for a string format the notebook schema never uses. Marked absent, it is skipped.
sys.modules.setdefault("rfc3987_syntax", None)

DEFAULT_TIMEOUT = 600.0
"""Seconds one cell may run before the kernel is interrupted."""
KERNEL_CONFIG = {"KernelManager": {"transport": "ipc"}}
"""Kernels talk over Unix sockets in their working folder, not TCP ports on localhost: no port
another kernel starting at the same moment can take, and no plain-text traffic on a network."""


@dataclass(frozen=True)
class Result:
    """One executed notebook."""

    notebook: Path
    output: Path
    seconds: float


@dataclass(frozen=True)
class CountyResult:
    """One county's (or the city's) run: its folder, executed notebooks and report files."""

    county: str
    folder: Path
    notebooks: tuple[Path, ...]
    reports: Mapping[str, Path]  # format -> report file, in the order rendered
    findings: tuple[Path, ...]
    seconds: float

    @property
    def html(self) -> Path | None:
        """The HTML report, when ``html`` was among the formats."""
        return self.reports.get("html")


def notebook_path(name: str) -> Path:
    """The committed notebook ``name`` (``contracts``, ``staffing``, ``relief`` or ``city``)."""
    if name not in AREA_NOTEBOOKS and name != CITY_NOTEBOOK:
        allowed = ", ".join([*AREA_NOTEBOOKS, CITY_NOTEBOOK])
        raise ParameterError(f"unknown notebook {name!r}; allowed: {allowed}")
    return project_root() / "notebooks" / f"{name}.ipynb"


@contextlib.contextmanager
def _kernel_environment(extra: Mapping[str, str]) -> Iterator[None]:
    # The kernel inherits this process's environment: the only way papermill offers to set it.
    saved = {k: os.environ.get(k) for k in extra}
    os.environ.update(extra)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def execute_notebook(
    notebook: str | Path,
    output_path: str | Path,
    parameters: Mapping[str, Any],
    *,
    timeout: float,
    cwd: str | Path,
    kernel_name: str = "python3",
    env: Mapping[str, str] | None = None,
) -> Result:
    """Run ``notebook`` with ``parameters`` in a fresh kernel; write the executed copy to ``output_path``."""
    # start-up time: papermill and traitlets load only when a notebook runs
    import papermill
    from papermill.exceptions import PapermillExecutionError
    from traitlets.config import Config

    notebook, output_path = Path(notebook), Path(output_path)
    if not notebook.is_file():
        raise ExecutionError(f"{notebook}: no such notebook")
    output_path.parent.mkdir(parents=True, exist_ok=True)
    partial = output_path.with_name(f".{output_path.stem}.partial.ipynb")
    failed = output_path.with_name(f"{output_path.stem}.failed.ipynb")
    failed.unlink(missing_ok=True)
    started = time.perf_counter()
    try:
        with _kernel_environment({"PYTHONWARNINGS": "ignore", **(env or {})}):
            papermill.execute_notebook(
                str(notebook),
                str(partial),
                parameters=dict(parameters),
                kernel_name=kernel_name,
                cwd=str(cwd),
                execution_timeout=timeout,
                log_output=False,
                progress_bar=False,
                request_save_on_cell_execute=False,
                interrupt_on_timeout=True,  # a hung cell becomes an error papermill saves
                # every output is in the notebook and every file written when the last cell returns:
                # waiting for a graceful exit would only idle
                shutdown_kernel="immediate",
                config=Config(KERNEL_CONFIG),
            )
    except PapermillExecutionError as exc:
        seconds = time.perf_counter() - started
        _keep(partial, failed)
        if exc.ename == "KeyboardInterrupt":
            why = f"did not finish within {timeout:g} s and was interrupted"
        else:
            why = f"raised {exc.ename}: {str(exc.evalue).strip() or '(no message)'}"
        raise ExecutionError(
            f"{notebook.name}: cell {exc.exec_count or exc.cell_index} {why} "
            f"(after {seconds:.1f} s); the failed notebook is kept at {failed}"
        ) from None
    except Exception as exc:  # kernel died, would not start, notebook unreadable
        _keep(partial, failed)
        raise ExecutionError(f"{notebook.name}: {type(exc).__name__}: {exc}") from None
    os.replace(partial, output_path)
    return Result(notebook, output_path, time.perf_counter() - started)


def _keep(partial: Path, failed: Path) -> None:
    if partial.exists():
        os.replace(partial, failed)


def run_county(
    spec: RunSpec,
    areas: Sequence[str] = tuple(AREA_NOTEBOOKS),
    *,
    timeout: float = DEFAULT_TIMEOUT,
    formats: Sequence[str] | None = None,
    kernel_name: str = "python3",
) -> CountyResult:
    """Run a county's area notebooks into ``spec.out`` and render its report there.

    Its findings registers (full personal data) go to ``restricted/<county>/`` beside
    ``spec.out``, as in a batch's run folder (:mod:`audit.runfolder`). ``formats`` are report
    formats (:mod:`audit.renderers`); default: every one this machine can render.
    """
    unknown = [a for a in areas if a not in AREA_NOTEBOOKS]
    if unknown or not areas:
        raise ParameterError(f"unknown area(s) {unknown or '(none)'}; allowed: {', '.join(AREA_NOTEBOOKS)}")
    ordered = [a for a in AREA_NOTEBOOKS if a in areas]  # reading order, whatever order they were asked in
    return _run(spec, ordered, timeout=timeout, formats=formats, kernel_name=kernel_name)


def run_city(
    spec: RunSpec,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    formats: Sequence[str] | None = None,
    kernel_name: str = "python3",
) -> CountyResult:
    """Run the city roll-up notebook into ``spec.out`` and render its report there."""
    return _run(spec, [CITY_NOTEBOOK], timeout=timeout, formats=formats, kernel_name=kernel_name)


def _run(
    spec: RunSpec, names: Sequence[str], *, timeout: float, formats: Sequence[str] | None, kernel_name: str
) -> CountyResult:
    # nbformat and the renderers load only when a report is rendered
    from audit import renderers

    started = time.perf_counter()
    chosen = renderers.choose(formats).formats
    renderers.check(chosen)  # a missing dependency: say so before minutes of notebooks, not after
    folder = spec.out
    folder.mkdir(parents=True, exist_ok=True)
    # the kernel checks its paths again: it must know the roots this run was allowed
    env = {ALLOWED_ROOTS_ENV: os.pathsep.join(str(r) for r in spec.allowed)}
    executed = []
    for name in names:
        result = execute_notebook(
            notebook_path(name),
            folder / f"{name}.ipynb",
            spec.notebook_parameters(),
            timeout=timeout,
            cwd=folder,
            kernel_name=kernel_name,
            env=env,
        )
        executed.append(result.output)
    written = renderers.render(chosen, executed, folder, lang=spec.lang, pii=spec.pii, params=spec.params)
    for name, file_name in renderers.report_files().items():
        if name not in written:  # an old report in another format would not match this run's
            (folder / file_name).unlink(missing_ok=True)
    stems = [f"findings-{AREA_NOTEBOOKS[n]}" if n in AREA_NOTEBOOKS else f"findings-{n}" for n in names]
    # the registers keep full personal data: under restricted/ beside the reports, as in a batch
    restricted = folder.parent / RESTRICTED / folder.name
    for stem in stems:
        for path in sorted(folder.glob(f"{stem}.*")):
            restricted.mkdir(parents=True, exist_ok=True)
            os.replace(path, restricted / path.name)
    findings = tuple(p for p in (restricted / f"{s}.parquet" for s in stems) if p.is_file())
    return CountyResult(
        spec.county, folder, tuple(executed), written, findings, time.perf_counter() - started
    )
