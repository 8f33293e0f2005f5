"""``audit validate SOURCE_DIR``: the checks of ingest, without writing a store."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from dataclasses import dataclass
from pathlib import Path

from audit.commands.ingest import add_common, city_of, parse_leave_out, parse_today, partial_note
from audit.exceptions import EXIT_FINDINGS, EXIT_INPUT, EXIT_OK

NAME = "validate"
HELP = "Check a submission folder as ingest would, print what would be loaded, and write nothing."


@dataclass(frozen=True)
class Options:
    """What ``audit validate`` was asked to do."""

    source: tuple[Path, ...]
    strict: bool = False
    today: dt.date | None = None
    leave_out: tuple[str, ...] = ()
    params: Path | None = None


def configure(parser: argparse.ArgumentParser) -> None:
    """Declare the arguments of ``audit validate``."""
    parser.add_argument(
        "source",
        metavar="SOURCE_DIR",
        nargs="+",
        help="the submission folder (one file per table), or several read as one (one per county bureau)",
    )
    add_common(parser)


def options(ns: argparse.Namespace) -> Options:
    """Turn parsed arguments into :class:`Options`."""
    params = Path(ns.params) if ns.params else None
    sources = tuple(Path(s) for s in ns.source)
    return Options(sources, ns.strict, parse_today(ns.today), parse_leave_out(ns.leave_out), params)


def run(options: Options) -> int:
    """Validate; 2 when a table cannot be loaded, 1 with ``--strict`` when rows would be quarantined."""
    from audit.ingest import ingest, summary  # start-up time: pandera only when a table is read

    # start-up time: the table list comes with pandas
    from audit.ingest.discovery import SUBMITTED_TABLES

    # Every table is checked even when one fails, so the county sees all its problems at once.
    result = ingest(
        options.source[0] if len(options.source) == 1 else list(options.source),
        None,
        today=options.today,
        keep_going=True,
        required=SUBMITTED_TABLES,
        leave_out=options.leave_out,
        **city_of(options.params),
    )
    print(summary(result))
    if partial_note(options.leave_out):
        print(partial_note(options.leave_out))
    for error in result.errors:
        print(f"audit validate: error: {error}", file=sys.stderr)
    if result.errors:
        return EXIT_INPUT
    return EXIT_FINDINGS if options.strict and result.rows_quarantined else EXIT_OK
