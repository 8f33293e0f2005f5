"""``audit track import``: read a filled rectification list (整改清单) into the journal."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

from audit.commands.track import add_folder_argument
from audit.exceptions import EXIT_OK, ParameterError
from audit.manifest import utc_now, utc_text
from audit.tracking import import_list, record_run

NAME = "import"
HELP = (
    "Record the statuses typed into a filled 整改清单 (all rows or none); report unknown and unchanged rows."
)


@dataclass(frozen=True)
class Options:
    """Arguments of ``audit track import``."""

    file: Path
    track: Path
    by: str
    run_dir: Path | None


def configure(parser: argparse.ArgumentParser) -> None:
    """Declare the arguments of ``audit track import``."""
    parser.add_argument(
        "file", type=Path, metavar="FILE.xlsx", help="a filled restricted/findings.xlsx of a run"
    )
    add_folder_argument(parser)
    parser.add_argument("--by", default="", metavar="NAME", help="who records it (for rows without 经办人)")
    parser.add_argument(
        "--run",
        dest="run_dir",
        type=Path,
        metavar="RUN_DIR",
        help="record this run's findings first (when the batch ran without --track)",
    )


def options(ns: argparse.Namespace) -> Options:
    """The list, the journal's folder, who records it and the optional run."""
    if not ns.file.is_file():
        raise ParameterError(
            f"{ns.file}: no such file; give the filled 整改清单 (restricted/findings.xlsx of a run)"
        )
    return Options(file=ns.file, track=ns.track, by=ns.by.strip(), run_dir=ns.run_dir)


def run(opts: Options) -> int:
    """Apply the list; print what was recorded and the rows left alone."""
    when = utc_text(utc_now())
    if opts.run_dir is not None:
        record_run(opts.track, opts.run_dir, opts.by or "audit", when)
    plan = import_list(opts.track, opts.file, by=opts.by, when=when)
    for row in plan.unknown:
        print(
            f"unknown finding {row.finding_id}: {row.file}, sheet {row.sheet}, row {row.row} (not recorded)"
        )
    for row in plan.unchanged:
        print(f"unchanged: {row.finding_id} ({row.sheet}, row {row.row})")
    print(
        f"recorded {len(plan.bodies)} records for {len(plan.changed)} findings in {opts.track}; "
        f"{len(plan.unchanged)} rows unchanged, {len(plan.unknown)} unknown"
    )
    return EXIT_OK
