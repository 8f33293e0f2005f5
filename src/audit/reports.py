"""Inspection reports: the unit's executed notebooks assembled into one report.

A county report is assembled from its area notebooks (contracts, staffing, relief): every
output the inspection facade made carries its section in its metadata, and the report takes
each non-area section (title, summary, data quality, sample, provenance) once, from the
first notebook that has it, and every area section, in the order title, summary, C, S, F,
city roll-up sections, data quality, sample, provenance. Anything else a cell wrote (stdout,
stderr, warnings, stray values) is left out, so a reviewer reads only what the facade built
and escaped. The renderers (:mod:`audit.renderers`) turn the assembled report into files:
``report.html``, ``report.pdf``, and any other registered format.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from pathlib import Path

import nbformat
from nbformat import NotebookNode

from audit.exceptions import RenderError
from audit.presentation import METADATA_KEY, SECTIONS
from audit.vocabulary import AREA_RANK


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
                area_rank = AREA_RANK.get(area, len(AREA_RANK))
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
