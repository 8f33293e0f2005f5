"""``audit publish``: copy what a reviewer may read of a run into a bundle with its own manifest."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

from audit.exceptions import EXIT_OK
from audit.publishing import publish

NAME = "publish"
HELP = (
    "Copy what a reviewer may read of a finished, verified run (reports in every format, the masked "
    "findings list, an index) into a bundle with its own manifest; no restricted export goes in."
)


@dataclass(frozen=True)
class Options:
    """Arguments of ``audit publish``."""

    run_dir: Path
    out: Path
    force: bool
    archive: bool


def configure(parser: argparse.ArgumentParser) -> None:
    """Declare the arguments of ``audit publish``."""
    parser.add_argument("run_dir", type=Path, metavar="RUN_DIR", help="a run folder written by audit batch")
    parser.add_argument(
        "--out", type=Path, required=True, metavar="DIR", help="the bundle's folder: new, or empty"
    )
    parser.add_argument("--force", action="store_true", help="replace an earlier bundle in DIR")
    parser.add_argument(
        "--zip", dest="archive", action="store_true", help="also write DIR.zip, the bundle as one file"
    )


def options(ns: argparse.Namespace) -> Options:
    """The run folder, the bundle's folder and what to do when it holds a bundle already."""
    return Options(run_dir=ns.run_dir, out=ns.out, force=ns.force, archive=ns.archive)


def run(opts: Options) -> int:
    """Publish the bundle and say where it is and what it holds."""
    bundle = publish(opts.run_dir, opts.out, force=opts.force, archive=opts.archive)
    print(
        f"published: {bundle.folder} (run {bundle.run_id}): {len(bundle.files)} files; "
        f"{len(bundle.left_out)} left out (restricted exports, notebooks, working files: "
        "its manifest.json says why)"
    )
    if bundle.archive is not None:
        print(f"zipped: {bundle.archive}")
    print(f"check it with: audit verify {bundle.folder}")
    return EXIT_OK
