"""``audit sign``: a preparer, reviewer or approver signs one county's report of a run."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

from audit.batch import write_index
from audit.exceptions import EXIT_OK
from audit.manifest import LEVEL_NAMES, SIGNOFF_LEVELS, sign, signoff_level

NAME = "sign"
HELP = (
    "Record a sign-off of a county's report at a level (经办 preparer, 复核 reviewer, 审定 approver): "
    "who, UTC time, the report's SHA-256."
)


@dataclass(frozen=True)
class Options:
    """Arguments of ``audit sign``."""

    run_dir: Path
    county: str
    reviewer: str
    note: str
    level: str


def configure(parser: argparse.ArgumentParser) -> None:
    """Declare the arguments of ``audit sign``."""
    parser.add_argument("run_dir", type=Path, metavar="RUN_DIR", help="a run folder written by audit batch")
    parser.add_argument(
        "--county", required=True, metavar="CODE", help="county code, or 'city' for the roll-up"
    )
    parser.add_argument("--reviewer", required=True, metavar="NAME", help="who signs")
    parser.add_argument("--note", default="", help="a remark kept with the sign-off")
    parser.add_argument(
        "--level",
        default="复核",
        metavar="LEVEL",
        help=f"{', '.join(SIGNOFF_LEVELS)} or {', '.join(LEVEL_NAMES)} (default 复核, the reviewer)",
    )


def options(ns: argparse.Namespace) -> Options:
    """The run folder, county, reviewer, note and level."""
    return Options(
        run_dir=ns.run_dir,
        county=ns.county.strip(),
        reviewer=ns.reviewer,
        note=ns.note,
        level=signoff_level(ns.level),
    )


def run(opts: Options) -> int:
    """Append the sign-off, rewrite index.html, and say what was signed."""
    signoff = sign(opts.run_dir, opts.county, opts.reviewer, opts.note, level=opts.level)
    write_index(opts.run_dir)
    for report in signoff.reports:
        print(
            f"signed {report.path} sha256 {report.sha256} by {signoff.reviewer} ({signoff.level}) "
            f"at {signoff.signed_utc}"
        )
    return EXIT_OK
