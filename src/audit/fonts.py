"""Which characters of a report the installed fonts can draw.

Chromium draws a character no installed font has as an empty box and says nothing: a rare
character in a Tibetan or Han name would reach the PDF as a box. :func:`missing_glyphs`
finds such characters before printing: it reads the character map of the main CJK face once
per process (fontTools), and asks fontconfig (``fc-list :charset=``) about the few characters
that face lacks, since any installed font may stand in for it.
"""

from __future__ import annotations

import functools
import shutil
import subprocess
import unicodedata
from collections.abc import Iterable

PRIMARY_FACES: tuple[str, ...] = ("Noto Sans CJK SC", "Noto Serif CJK SC", "sans-serif")
"""Faces whose character map is read first; the rest are asked about one character at a time."""


@functools.cache
def _primary_cmap() -> frozenset[int]:
    if shutil.which("fc-match") is None:
        return frozenset()
    # start-up time: fontTools loads only when a glyph check runs
    from fontTools.ttLib import TTFont

    for face in PRIMARY_FACES:
        done = subprocess.run(
            ["fc-match", "-f", "%{file}\n%{index}", face], capture_output=True, text=True, check=False
        )
        lines = done.stdout.splitlines()
        if done.returncode != 0 or not lines or not lines[0]:
            continue
        index = int(lines[1]) if len(lines) > 1 and lines[1].isdigit() else 0
        try:
            font = TTFont(lines[0], fontNumber=index, lazy=True)
            return frozenset(font.getBestCmap() or {})
        except Exception:
            continue
    return frozenset()


@functools.cache
def _installed(codepoint: int) -> bool:
    done = subprocess.run(
        ["fc-list", f":charset={codepoint:x}", "family"], capture_output=True, text=True, check=False
    )
    return bool(done.stdout.strip())


def _drawn(ch: str) -> bool:
    """Whether ``ch`` needs no glyph (spaces, controls, joiners)."""
    return unicodedata.category(ch) in ("Zs", "Zl", "Zp", "Cc", "Cf")


def missing_glyphs(texts: Iterable[str]) -> list[str]:
    """The characters of ``texts`` that no installed font has, in code point order."""
    chars = {ch for text in texts for ch in text if not _drawn(ch)}
    if not chars or shutil.which("fc-list") is None:
        return []
    primary = _primary_cmap()
    return sorted((ch for ch in chars if ord(ch) not in primary and not _installed(ord(ch))), key=ord)


def describe(chars: Iterable[str]) -> str:
    """Characters as ``'𠀀' (U+20000)``, for an error message."""
    return ", ".join(f"'{ch}' (U+{ord(ch):04X})" for ch in chars)
