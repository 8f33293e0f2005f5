"""The ``html`` renderer: the assembled report as one standalone HTML page, with nbconvert.

HTML comes from nbconvert's HTMLExporter in-process (a ``jupyter nbconvert`` process costs
about 2.35 s) with the template in ``templates/report`` (no CDN scripts, scripts forbidden).
"""

from __future__ import annotations

import functools
import os
from collections.abc import Sequence
from pathlib import Path

from nbformat import NotebookNode

from audit.exceptions import RenderError
from audit.renderers.registry import Request, register

TEMPLATES = Path(__file__).parent.parent / "templates"
TEMPLATE = "report"
LANGUAGES = ("zh", "en")


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
    if lang not in LANGUAGES:
        raise RenderError(f"unknown report language {lang!r}; allowed: {', '.join(LANGUAGES)}")
    body, _ = _exporter(lang).from_notebook_node(report, resources={"metadata": {"name": "report"}})
    return body


def render_html(notebooks: Sequence[str | Path | NotebookNode], html_path: str | Path, *, lang: str) -> Path:
    """Assemble executed notebooks into one report and write it to ``html_path``."""
    from audit.reports import assemble, read_notebook

    nbs = [nb if isinstance(nb, NotebookNode) else read_notebook(nb) for nb in notebooks]
    page = to_html(assemble(nbs), lang)
    return write_whole(Path(html_path), page.encode("utf-8"))


def write_whole(path: Path, data: bytes) -> Path:
    """Write ``data`` under a partial name and rename it: a reader never sees half a report."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")
    partial.write_bytes(data)
    os.replace(partial, path)
    return path


@register("html")
class Html:
    """The report page a reviewer opens in a browser."""

    name = "html"
    suffix = ".html"
    needs: tuple[str, ...] = ()

    def missing(self) -> str | None:
        """Nothing: nbconvert is a Python dependency of the package."""
        return None

    def render(self, request: Request) -> Path:
        """Write ``report.html`` from the assembled report."""
        page = to_html(request.assembled, request.lang)
        return write_whole(request.path(self.suffix), page.encode("utf-8"))
