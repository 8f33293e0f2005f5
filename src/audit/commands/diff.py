"""``audit diff``: findings new, resolved and persisting between two runs, per county."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

from audit.exceptions import EXIT_OK
from audit.rundiff import compare, text_table, write_html

NAME = "diff"
HELP = "Compare two runs' findings per county: new, resolved and persisting (by finding_id)."


@dataclass(frozen=True)
class Options:
    """Arguments of ``audit diff``."""

    old_run: Path
    new_run: Path
    out: Path | None


def configure(parser: argparse.ArgumentParser) -> None:
    """Declare the arguments of ``audit diff``."""
    parser.add_argument("old_run", type=Path, metavar="OLD_RUN", help="the earlier run folder")
    parser.add_argument("new_run", type=Path, metavar="NEW_RUN", help="the later run folder")
    parser.add_argument("--out", type=Path, metavar="FILE.html", help="also write the comparison as HTML")


def options(ns: argparse.Namespace) -> Options:
    """The two run folders and the optional HTML file."""
    return Options(old_run=ns.old_run, new_run=ns.new_run, out=ns.out)


def run(opts: Options) -> int:
    """Print the per-county table; write the HTML page when asked."""
    followup = compare(opts.old_run, opts.new_run)
    print(text_table(followup), end="")
    if opts.out is not None:
        print(f"written: {write_html(followup, opts.out)}")
    return EXIT_OK
