"""``audit track close``: close (已销号) the findings the latest run no longer finds (可销号)."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

from audit.commands.track import add_folder_argument
from audit.exceptions import EXIT_OK, ParameterError
from audit.manifest import utc_now, utc_text
from audit.tracking import close

NAME = "close"
HELP = "Close (已销号) every finding the latest recorded run no longer finds (可销号)."


@dataclass(frozen=True)
class Options:
    """Arguments of ``audit track close``."""

    track: Path
    by: str


def configure(parser: argparse.ArgumentParser) -> None:
    """Declare the arguments of ``audit track close``."""
    add_folder_argument(parser)
    parser.add_argument("--by", required=True, metavar="NAME", help="who closes them")


def options(ns: argparse.Namespace) -> Options:
    """The journal's folder and who closes."""
    if not ns.by.strip():
        raise ParameterError("--by must name the person closing the findings")
    return Options(track=ns.track, by=ns.by.strip())


def run(opts: Options) -> int:
    """Close them and list each."""
    closed = close(opts.track, by=opts.by, when=utc_text(utc_now()))
    for state in closed:
        print(f"closed {state.finding_id} {state.rule_id} {state.county_code}")
    print(f"closed {len(closed)} findings")
    return EXIT_OK
