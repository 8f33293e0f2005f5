"""Seconds to render one county's report in each format, from its content model.

Run: ``.venv/bin/python benchmarks/render_bench.py --store STORE [--counties 540102 ...] [--repeat 3]``
(``AUDIT_ALLOWED_ROOTS`` must name the store's folder when it is outside the project). For each
county the report document is built once, in-process, the way the notebooks build it (the
facade's parts); then each format is timed on its own: ``html`` (the page from the model),
``pdf`` (the glyph check and headless Chromium printing that page) and ``docx`` (python-docx
from the model, charts drawn as PNG). The first Word file of a process also pays for importing
python-docx and cairosvg; it is timed apart.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
FORMATS = ("html", "pdf", "docx")


def county_document(store: Path, county: str, out: Path) -> Any:
    """The county's report document, built from the facade's parts as the notebooks call them."""
    sys.path.insert(0, str(ROOT / "tests"))
    from fixtures.report_documents import county_document as build

    return build(store, out, county=county)


def time_formats(doc: Any, out: Path, repeat: int) -> dict[str, list[float]]:
    """Seconds of each format over ``repeat`` runs (the first Word file's imports timed apart)."""
    from audit.renderers.docx import write_docx
    from audit.renderers.html import document_html
    from audit.renderers.pdf import render_pdf

    out.mkdir(parents=True, exist_ok=True)
    runs: dict[str, list[float]] = {name: [] for name in (*FORMATS, "docx_first", "docx_cpu")}
    started = time.perf_counter()
    write_docx(doc, out / "first.docx")
    runs["docx_first"].append(time.perf_counter() - started)
    for _ in range(repeat):
        started = time.perf_counter()
        html = out / "report.html"
        html.write_text(document_html(doc), encoding="utf-8")
        runs["html"].append(time.perf_counter() - started)
        started = time.perf_counter()
        render_pdf(html, out / "report.pdf")
        runs["pdf"].append(time.perf_counter() - started)
        started, cpu = time.perf_counter(), time.process_time()
        write_docx(doc, out / "report.docx")
        runs["docx"].append(time.perf_counter() - started)
        runs["docx_cpu"].append(time.process_time() - cpu)  # what a shared machine does not inflate
    return runs


def measure(store: Path, counties: list[str], repeat: int) -> dict[str, dict[str, list[float]]]:
    """Per county, the seconds of each format."""
    out: dict[str, dict[str, list[float]]] = {}
    with tempfile.TemporaryDirectory(prefix="render-bench-", dir=store.parent) as work:  # an allowed root
        for county in counties:
            doc = county_document(store, county, Path(work) / "out")
            out[county] = time_formats(doc, Path(work) / county, repeat)
    return out


def main() -> None:
    """Print the median seconds of each format per county."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", type=Path, required=True)
    parser.add_argument("--counties", nargs="+", default=["540102"])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    results = measure(args.store, args.counties, args.repeat)
    print("| county | html s | pdf s | docx s | docx CPU s | first docx s |")
    print("|---|---|---|---|---|---|")
    for county, runs in results.items():
        cells = [f"{statistics.median(runs[name]):.3f}" for name in (*FORMATS, "docx_cpu", "docx_first")]
        print(f"| {county} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
