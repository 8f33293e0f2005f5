"""Inspection reports: executed notebooks to one HTML page, and that page to PDF.

A county report is assembled from its area notebooks (contracts, staffing, relief): every
output the inspection facade made carries its section in its metadata, and the report takes
each non-area section (title, summary, data quality, sample, provenance) once, from the
first notebook that has it, and every area section, in the order title, summary, C, S, F,
city roll-up sections, data quality, sample, provenance. Anything else a cell wrote (stdout,
stderr, warnings, stray values) is left out, so a reviewer reads only what the facade built
and escaped.

HTML comes from nbconvert's HTMLExporter in-process (a ``jupyter nbconvert`` process costs
about 2.35 s) with the template in ``templates/report`` (no CDN scripts, scripts forbidden);
PDF from Debian's Chromium printing that page headless.
"""

from __future__ import annotations

import copy
import functools
import os
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path

import nbformat
from nbformat import NotebookNode

from audit.exceptions import RenderError
from audit.presentation import METADATA_KEY, SECTIONS

TEMPLATES = Path(__file__).with_name("templates")
TEMPLATE = "report"
AREA_ORDER: tuple[str, ...] = ("C", "S", "F")
CHROMIUM_CANDIDATES: tuple[str, ...] = ("chromium", "chromium-browser", "google-chrome")


def read_notebook(path: str | Path) -> NotebookNode:
    """Read an executed notebook, or raise RenderError saying which."""
    try:
        return nbformat.read(str(path), as_version=4)
    except (OSError, ValueError) as exc:
        raise RenderError(f"{path}: cannot read the executed notebook: {exc}") from None


def _section_of(output: NotebookNode) -> dict | None:
    if output.get("output_type") not in ("display_data", "execute_result"):
        return None
    meta = output.get("metadata", {}).get(METADATA_KEY)
    if not isinstance(meta, dict) or meta.get("section") not in SECTIONS:
        return None
    return meta


def assemble(notebooks: Sequence[NotebookNode]) -> NotebookNode:
    """One report notebook from executed notebooks: the facade's sections in reading order."""
    picked: list[tuple[tuple, NotebookNode]] = []
    seen: dict[str, int] = {}  # non-area section -> the notebook it is taken from
    for nb_index, nb in enumerate(notebooks):
        for cell_index, cell in enumerate(nb.cells):
            for out_index, output in enumerate(cell.get("outputs", [])):
                meta = _section_of(output)
                if meta is None:
                    continue
                section, area = meta["section"], meta.get("area")
                if section != "area" and seen.setdefault(section, nb_index) != nb_index:
                    continue
                area_rank = AREA_ORDER.index(area) if area in AREA_ORDER else len(AREA_ORDER)
                key = (SECTIONS.index(section), area_rank, nb_index, cell_index, out_index)
                picked.append((key, output))
    if "title" not in seen:
        raise RenderError("no report sections in the executed notebooks: did they call audit.inspection?")
    picked.sort(key=lambda item: item[0])
    report = nbformat.v4.new_notebook()
    if notebooks:
        for key in ("kernelspec", "language_info"):
            if key in notebooks[0].metadata:
                report.metadata[key] = copy.deepcopy(notebooks[0].metadata[key])
    for _, output in picked:
        report.cells.append(nbformat.v4.new_code_cell(source="", outputs=[copy.deepcopy(output)]))
        meta = output["metadata"][METADATA_KEY]
        if meta["section"] == "title" and meta.get("title"):
            report.metadata["title"] = meta["title"]
    return report


@functools.cache
def _exporter(lang: str):
    from nbconvert import HTMLExporter  # imported here: it costs half a second

    exporter = HTMLExporter(
        template_name=TEMPLATE,
        extra_template_basedirs=[str(TEMPLATES)],
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
        exclude_anchor_links=True,
    )
    exporter.language_code = lang  # "zh", never "zh-CN": nbconvert resets that to "en"
    if exporter.language_code != lang:
        raise RenderError(f"nbconvert does not accept language code {lang!r}")
    return exporter


def to_html(report: NotebookNode, lang: str) -> str:
    """The report notebook as a standalone HTML page, inputs and prompts hidden."""
    if lang not in ("zh", "en"):
        raise RenderError(f"unknown report language {lang!r}; allowed: zh, en")
    body, _ = _exporter(lang).from_notebook_node(report, resources={"metadata": {"name": "report"}})
    return body


def render_html(notebooks: Sequence[str | Path | NotebookNode], html_path: str | Path, *, lang: str) -> Path:
    """Assemble executed notebooks into one report and write it to ``html_path``."""
    nbs = [nb if isinstance(nb, NotebookNode) else read_notebook(nb) for nb in notebooks]
    page = to_html(assemble(nbs), lang)
    return _write_whole(Path(html_path), page.encode("utf-8"))


def _write_whole(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")
    partial.write_bytes(data)
    os.replace(partial, path)  # a reader never sees half a report
    return path


def chromium_executable() -> str:
    """Path of the Chromium that prints reports; RenderError when none is installed."""
    for name in CHROMIUM_CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    raise RenderError("Chromium is not installed: run scripts/install-system-deps.sh, or use --no-pdf")


def chromium_command(profile: str | Path, *args: str) -> list[str]:
    """Headless Chromium with a throw-away profile, no network chatter, then ``args``."""
    return [
        chromium_executable(),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-pdf-header-footer",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        f"--user-data-dir={profile}",
        *args,
    ]


def render_pdf(html_path: str | Path, pdf_path: str | Path, *, timeout: float = 120.0) -> Path:
    """Print ``html_path`` to ``pdf_path`` with headless Chromium."""
    html_path, pdf_path = Path(html_path).resolve(), Path(pdf_path)
    if not html_path.is_file():
        raise RenderError(f"{html_path}: no such report to print")
    pdf_path.parent.mkdir(parents=True, exist_ok=True)
    partial = pdf_path.with_name(f".{pdf_path.name}.partial")
    partial.unlink(missing_ok=True)
    with tempfile.TemporaryDirectory(prefix="audit-chromium-") as profile:
        cmd = chromium_command(profile, f"--print-to-pdf={partial.resolve()}", html_path.as_uri())
        try:
            done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
        except subprocess.TimeoutExpired:
            partial.unlink(missing_ok=True)
            raise RenderError(f"{html_path.name}: Chromium did not print within {timeout:g} s") from None
    if not partial.is_file() or partial.stat().st_size == 0:
        tail = "\n".join(done.stderr.strip().splitlines()[-5:])
        raise RenderError(f"{html_path.name}: Chromium wrote no PDF (exit {done.returncode}): {tail}")
    os.replace(partial, pdf_path)
    return pdf_path
