"""``audit verify``: recompute every hash of a run folder and say what changed."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

from audit.exceptions import EXIT_FINDINGS, EXIT_OK
from audit.manifest import verify

NAME = "verify"
HELP = "Check a run folder against its manifest and sign-offs; exit 1 if anything changed."


@dataclass(frozen=True)
class Options:
    """Arguments of ``audit verify``."""

    run_dir: Path


def configure(parser: argparse.ArgumentParser) -> None:
    """Declare the arguments of ``audit verify``."""
    parser.add_argument("run_dir", type=Path, metavar="RUN_DIR", help="a run folder written by audit batch")


def options(ns: argparse.Namespace) -> Options:
    """The run folder to check."""
    return Options(run_dir=ns.run_dir)


def run(opts: Options) -> int:
    """Print each changed output, input or broken sign-off, or ``verified``."""
    found = verify(opts.run_dir)
    for problem in found.problems:
        print(problem)
    for where in found.unavailable:
        print(f"not checked input {where}: its folder is not on this machine")
    counts = f"{found.outputs} outputs, {found.inputs} inputs, {found.signoffs} sign-offs"
    if found.ok:
        print(f"verified: {counts}")
        return EXIT_OK
    print(f"{len(found.problems)} problems in {counts}")
    return EXIT_FINDINGS
