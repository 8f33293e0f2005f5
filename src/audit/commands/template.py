"""``audit template``: blank workbooks for county bureaus, one per table, from the data contract."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

from audit.exceptions import EXIT_OK

NAME = "template"
HELP = (
    "Write one blank workbook per table for county bureaus to fill: Chinese headers, each "
    "column's rule, drop-down lists, text-formatted ID columns, and a README in Chinese."
)


@dataclass(frozen=True)
class TemplateOptions:
    """Where the templates go and which tables they are for."""

    out: Path
    tables: tuple[str, ...] | None


def configure(parser: argparse.ArgumentParser) -> None:
    """Declare the arguments of ``audit template``."""
    parser.add_argument("--out", required=True, type=Path, help="folder to write the workbooks into")
    parser.add_argument(
        "--table", action="append", default=None, metavar="TABLE", help="only this table; repeat for several"
    )


def options(ns: argparse.Namespace) -> TemplateOptions:
    """The arguments as options (tables are checked when the templates are written)."""
    return TemplateOptions(ns.out, tuple(ns.table) if ns.table else None)


def run(opts: TemplateOptions) -> int:
    """Write the templates and list them."""
    # start-up time: `audit --help` imports every command module
    from audit.template import write_templates

    for path in write_templates(opts.out, opts.tables):
        print(path)
    return EXIT_OK
