"""Inspection reports: the unit's executed notebooks assembled into one report document.

Every output the inspection facade made carries a part of the report's content model
(:mod:`audit.document`) under its own MIME type, with its place in the report in the output's
metadata. A county report is assembled from its area notebooks (contracts, staffing, relief):
each part without an area (title, 基本情况, 检查依据和方法, 发现的主要问题, 整改意见汇总, the
attachments) is taken once, from the first notebook that has it, and every area part (a
chart) from each notebook, in the order of :data:`audit.document.PARTS`, area parts after the
part they belong to in the order C, S, F. Anything else a cell wrote (stdout, stderr,
warnings, stray values) is left out, so a reader sees only what the facade built.

The renderers (:mod:`audit.renderers`) turn the document into files: HTML from the model,
PDF printed from that HTML by Debian's Chromium, Word built from the model.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import nbformat
from nbformat import NotebookNode

from audit.document import METADATA_KEY, MIME_TYPE, PARTS, Document, Part, from_json
from audit.exceptions import RenderError
from audit.vocabulary import AREA_RANK


def read_notebook(path: str | Path) -> NotebookNode:
    """Read an executed notebook, or raise RenderError saying which."""
    try:
        return nbformat.read(str(path), as_version=4)
    except (OSError, ValueError) as exc:
        raise RenderError(f"{path}: cannot read the executed notebook: {exc}") from None


def _part_of(output: NotebookNode) -> Part | None:
    if output.get("output_type") not in ("display_data", "execute_result"):
        return None
    meta = output.get("metadata", {}).get(METADATA_KEY)
    data = output.get("data", {}).get(MIME_TYPE)
    if not isinstance(meta, dict) or not isinstance(data, dict) or meta.get("section") not in PARTS:
        return None
    try:
        return from_json(data, meta)
    except (KeyError, TypeError, ValueError) as exc:
        raise RenderError(f"a report part in the executed notebook is damaged: {exc}") from None


def assemble(notebooks: Sequence[NotebookNode]) -> Document:
    """One report document from executed notebooks: the facade's parts in reading order."""
    picked: list[tuple[tuple, Part]] = []
    seen: dict[str, int] = {}  # part without an area -> the notebook it is taken from
    for nb_index, nb in enumerate(notebooks):
        for cell_index, cell in enumerate(nb.cells):
            for out_index, output in enumerate(cell.get("outputs", [])):
                part = _part_of(output)
                if part is None:
                    continue
                if part.area is None and seen.setdefault(part.part, nb_index) != nb_index:
                    continue
                area_rank = 0 if part.area is None else 1 + AREA_RANK.get(part.area, len(AREA_RANK))
                picked.append(((PARTS.index(part.part), area_rank, nb_index, cell_index, out_index), part))
    if "title" not in seen:
        raise RenderError("no report parts in the executed notebooks: did they call audit.inspection?")
    picked.sort(key=lambda item: item[0])
    parts = tuple(p for _, p in picked)
    title = next(p for p in parts if p.part == "title")
    return Document(title.title, title.lang, parts, title.meta.get("page_title", title.title))


def document(notebooks: Sequence[str | Path | NotebookNode]) -> Document:
    """The report document of executed notebooks (paths or read notebooks)."""
    return assemble([nb if isinstance(nb, NotebookNode) else read_notebook(nb) for nb in notebooks])
