"""``audit track status``: findings by status, county and rule; overdue, reopened and closable ones."""

from __future__ import annotations

import argparse
import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from audit.commands.track import add_folder_argument
from audit.exceptions import EXIT_OK
from audit.tracking import ledger, status_text

NAME = "status"
HELP = "Show the journal's findings by status, county and rule, with overdue, reopened and closable ones."


@dataclass(frozen=True)
class Options:
    """Arguments of ``audit track status``."""

    track: Path
    today: dt.date


def configure(parser: argparse.ArgumentParser) -> None:
    """Declare the arguments of ``audit track status``."""
    add_folder_argument(parser)
    parser.add_argument(
        "--today",
        type=dt.date.fromisoformat,
        metavar="YYYY-MM-DD",
        help="the day deadlines are compared with",
    )


def options(ns: argparse.Namespace) -> Options:
    """The journal's folder and the day overdue is measured on."""
    return Options(track=ns.track, today=ns.today or dt.datetime.now(dt.UTC).date())


def run(opts: Options) -> int:
    """Print the counts and the lists."""
    print(status_text(ledger(opts.track), opts.today), end="")
    return EXIT_OK
