"""File, sheet and column names as they may be shown to a person: every character that could
act on a terminal or a page instead of showing (control characters, escape sequences, line
breaks, bidirectional and other invisible format marks) written out as an escape.

A submission's names are data like any other: a file named with an ANSI escape sequence, a
newline or a right-to-left mark must not recolour the terminal, forge a line of output or
show its letters in another order. :func:`shown` is applied wherever such a name enters a
message, a log or a report.
"""

from __future__ import annotations

import unicodedata
from functools import cache

_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
_HIDDEN = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})
"""Unicode categories that do not show as themselves: controls, format marks (bidi, zero-width,
BOM), surrogates, private use, unassigned, line and paragraph separators."""


@cache
def _escape(char: str) -> str:
    if char in _NAMED:
        return _NAMED[char]
    if unicodedata.category(char) not in _HIDDEN:
        return char
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else (f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}")


def shown(name: object) -> str:
    """``name`` with every character that would not show as itself escaped (``\\x1b``, ``\\u200f``)."""
    text = str(name)
    if text.isprintable() and text.isascii():
        return text  # the usual name: nothing to look at
    return "".join(map(_escape, text))


def hidden(name: object) -> bool:
    """Whether ``name`` holds a character :func:`shown` escapes."""
    return shown(name) != str(name)
