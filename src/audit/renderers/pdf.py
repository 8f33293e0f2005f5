"""The ``pdf`` renderer: Debian's Chromium printing the HTML report headless.

Chromium embeds the fonts it uses and draws a character no installed font has as an empty box,
silently; so the page's characters are checked first (:mod:`audit.fonts`) and the render fails
naming any that has no glyph.
"""

from __future__ import annotations

import html
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from audit.exceptions import RenderError
from audit.fonts import describe, missing_glyphs
from audit.renderers.registry import Request, register

CHROMIUM_CANDIDATES: tuple[str, ...] = ("chromium", "chromium-browser", "google-chrome")
PRINT_TIMEOUT = 120.0
"""Seconds Chromium may take to print one report."""


def find_chromium() -> str | None:
    """Path of the Chromium that prints reports, or None when none is installed."""
    for name in CHROMIUM_CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    return None


def chromium_executable() -> str:
    """Path of the Chromium that prints reports; RenderError when none is installed."""
    found = find_chromium()
    if found is None:
        raise RenderError(f"{Pdf.lacking}: run scripts/install-system-deps.sh, or leave pdf out of --formats")
    return found


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


def page_text(page: str) -> str:
    """The text a reader sees on an HTML page: no style sheet, title, tags or attribute values."""
    return html.unescape(re.sub(r"<style.*?</style>|<title>.*?</title>|<[^>]+>", " ", page, flags=re.S))


def check_glyphs(page: str, where: str) -> None:
    """Raise RenderError naming the characters of ``page`` that no installed font can draw."""
    missing = missing_glyphs([page_text(page)])
    if missing:
        raise RenderError(
            f"{where}: no installed font has a glyph for {describe(missing)}; the PDF would show empty "
            "boxes. Install a font that has them (e.g. Debian's fonts-noto-cjk-extra or fonts-hanazono "
            "for rare Han characters, fonts-tibetan-machine for Tibetan) and render again"
        )


def render_pdf(html_path: str | Path, pdf_path: str | Path, *, timeout: float = PRINT_TIMEOUT) -> Path:
    """Print ``html_path`` to ``pdf_path`` with headless Chromium, once every character has a glyph."""
    html_path, pdf_path = Path(html_path).resolve(), Path(pdf_path)
    if not html_path.is_file():
        raise RenderError(f"{html_path}: no such report to print")
    check_glyphs(html_path.read_text(encoding="utf-8"), html_path.name)
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


@register("pdf")
class Pdf:
    """The fixed copy: the HTML report printed to A4 by headless Chromium."""

    name = "pdf"
    suffix = ".pdf"
    needs: tuple[str, ...] = ("html",)
    lacking = "Chromium is not installed (Debian package chromium)"

    def missing(self) -> str | None:
        """Chromium, when no Chromium is on the PATH."""
        return None if find_chromium() else self.lacking

    def render(self, request: Request) -> Path:
        """Print the ``html`` report of this request to ``report.pdf``."""
        return render_pdf(request.rendered["html"], request.path(self.suffix))
