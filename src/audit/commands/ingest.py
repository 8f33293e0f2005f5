"""``audit ingest SOURCE_DIR... --store STORE_DIR [--resubmit]``: repair, validate and store a submission.

Several folders (one per county bureau, as a city receives them) go into one store; with
``--resubmit`` each folder given replaces its county's earlier folder in the store (see
:mod:`audit.ingest.submissions`).
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from dataclasses import dataclass
from pathlib import Path

from audit.exceptions import EXIT_FINDINGS, EXIT_OK, ParameterError

NAME = "ingest"
HELP = "Read a submission folder (xlsx, csv, parquet), repair and validate it, and write the store."


@dataclass(frozen=True)
class Options:
    """What ``audit ingest`` was asked to do."""

    source: tuple[Path, ...]
    store: Path
    strict: bool = False
    keep_going: bool = False
    today: dt.date | None = None
    leave_out: tuple[str, ...] = ()
    params: Path | None = None
    resubmit: bool = False


def configure(parser: argparse.ArgumentParser) -> None:
    """Declare the arguments of ``audit ingest``."""
    parser.add_argument(
        "source",
        metavar="SOURCE_DIR",
        nargs="+",
        help="the submission folder (one file per table), or several read as one: one per county "
        "bureau, say, each named after its unit's code (540124, 540124-更正) and holding its rows only",
    )
    parser.add_argument("--store", required=True, metavar="STORE_DIR", help="where to write the store")
    add_common(parser)
    parser.add_argument(
        "--keep-going",
        action="store_true",
        help="store the tables that load and list the others in the manifest, instead of stopping",
    )
    parser.add_argument(
        "--resubmit",
        action="store_true",
        help="each SOURCE_DIR is a county's corrected folder (named 540124-...) replacing its earlier one "
        "in STORE_DIR: the store is ingested again from its folders, the manifest keeps both folders' hashes",
    )


def add_common(parser: argparse.ArgumentParser) -> None:
    """Arguments ``ingest`` and ``validate`` share."""
    parser.add_argument("--strict", action="store_true", help="exit 1 when any row was quarantined")
    parser.add_argument(
        "--today", metavar="YYYY-MM-DD", help="the day later dates are flagged against (default: today)"
    )
    parser.add_argument(
        "--leave-out",
        action="append",
        default=[],
        metavar="TABLE",
        help="a partial audit: a table the submission need not hold (repeat for several); "
        "by default every table of a full audit is required",
    )
    parser.add_argument(
        "--params",
        metavar="FILE",
        help="parameters file whose city_code is the city's (default: the root of the divisions register)",
    )


def city_of(params: Path | None) -> dict[str, str]:
    """The ``city_code`` and ``city_from`` arguments of ingest for ``--params`` (none without it)."""
    if params is None:
        return {}
    # start-up time: `audit --help` imports every command module
    from audit.params import load_params

    return {"city_code": load_params(params).city_code, "city_from": f"the parameters file {params}"}


def parse_leave_out(names: list[str]) -> tuple[str, ...]:
    """The ``--leave-out`` tables, checked against the tables a full audit needs."""
    from audit.ingest.discovery import SUBMITTED_TABLES  # start-up time: the ingest package

    unknown = [n for n in names if n not in SUBMITTED_TABLES]
    if unknown:
        raise ParameterError(
            f"--leave-out {', '.join(unknown)}: not a table a county submits; "
            f"allowed: {', '.join(SUBMITTED_TABLES)}"
        )
    return tuple(dict.fromkeys(names))


def partial_note(leave_out: tuple[str, ...]) -> str | None:
    """The line saying what a partial audit leaves out (None for a full audit)."""
    if not leave_out:
        return None
    return f"partial audit: left out on purpose: {', '.join(leave_out)} (--leave-out)"


def parse_today(text: str | None) -> dt.date | None:
    """The ``--today`` argument as a date."""
    if text is None:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise ParameterError(f"--today: {text!r} is not a date in the form YYYY-MM-DD") from None


def options(ns: argparse.Namespace) -> Options:
    """Turn parsed arguments into :class:`Options`."""
    params = Path(ns.params) if ns.params else None
    return Options(
        tuple(Path(s) for s in ns.source),
        Path(ns.store),
        ns.strict,
        ns.keep_going,
        parse_today(ns.today),
        parse_leave_out(ns.leave_out),
        params,
        ns.resubmit,
    )


def run(options: Options) -> int:
    """Ingest; 1 with ``--strict`` when rows were quarantined, 2 (raised) on table-level errors."""
    from audit.ingest import ingest, summary  # start-up time: pandera only when a table is read

    # start-up time: the table list comes with pandas
    from audit.ingest.discovery import SUBMITTED_TABLES

    result = ingest(
        options.source[0] if len(options.source) == 1 and not options.resubmit else list(options.source),
        options.store,
        today=options.today,
        keep_going=options.keep_going,
        progress=lambda line: print(line, file=sys.stderr),
        required=SUBMITTED_TABLES,
        leave_out=options.leave_out,
        resubmit=options.resubmit,
        **city_of(options.params),
    )
    print(summary(result))
    if partial_note(options.leave_out):
        print(partial_note(options.leave_out))
    print(f"store: {result.store}")
    return EXIT_FINDINGS if options.strict and result.rows_quarantined else EXIT_OK
