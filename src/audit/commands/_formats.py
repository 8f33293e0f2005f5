"""``--formats``, shared by ``audit run`` and ``audit batch``: the report formats to render."""

from __future__ import annotations

import argparse
import sys

from audit.exceptions import ParameterError


def add_format_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare ``--formats`` (and the deprecated ``--no-pdf``)."""
    # start-up time: the registry loads nbformat, only when this parser is built
    from audit.renderers import RENDERERS

    parser.add_argument(
        "--formats",
        default=None,
        metavar="LIST",
        help=f"report formats, comma-separated ({','.join(RENDERERS)}); "
        "default: every one whose system dependencies are installed",
    )
    parser.add_argument("--no-pdf", action="store_true", help="deprecated: use --formats html")


def chosen_formats(ns: argparse.Namespace, command: str) -> tuple[str, ...]:
    """The formats to render, each after those it needs; a note on stderr for each one left out.

    An unknown format, or one asked for whose system dependency is missing, is a ParameterError.
    """
    # start-up time: the registry loads nbformat, only when this command runs
    from audit import renderers

    requested = renderers.parse(ns.formats)
    if ns.no_pdf:
        if requested is not None:
            raise ParameterError("--no-pdf and --formats: give --formats alone")
        print(f"audit {command}: --no-pdf is deprecated; use --formats html", file=sys.stderr)
        requested = tuple(n for n in renderers.choose().formats if n != "pdf")
    choice = renderers.choose(requested)
    for note in choice.notes():
        print(f"audit {command}: {note}", file=sys.stderr)
    return choice.formats
