"""``audit verify``: recompute every hash of a run folder, reviewer bundle or follow-up journal."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

from audit import journal
from audit.exceptions import EXIT_FINDINGS, EXIT_OK
from audit.manifest import MANIFEST, read_manifest, verify
from audit.publishing import is_bundle, read_bundle_manifest, verify_bundle

NAME = "verify"
HELP = (
    "Check a run folder or a reviewer bundle against its manifest and sign-offs, "
    "or a follow-up journal's chain of records; "
    "exit 1 if anything changed."
)


@dataclass(frozen=True)
class Options:
    """Arguments of ``audit verify``."""

    run_dir: Path
    track: Path | None


def configure(parser: argparse.ArgumentParser) -> None:
    """Declare the arguments of ``audit verify``."""
    parser.add_argument(
        "run_dir",
        type=Path,
        metavar="RUN_DIR",
        help="a run folder written by audit batch, a reviewer bundle (audit publish), "
        "or a follow-up journal's folder (audit track)",
    )
    parser.add_argument("--track", type=Path, metavar="DIR", help="also check this follow-up journal")


def options(ns: argparse.Namespace) -> Options:
    """The run folder to check."""
    return Options(run_dir=ns.run_dir, track=ns.track)


def _journal(folder: Path) -> int:
    """Print each edited, removed or reordered record of a journal; the number of problems."""
    problems = journal.check(folder)
    for problem in problems:
        print(f"journal {folder / journal.JOURNAL} {problem}")
    if not problems:
        records = len((folder / journal.JOURNAL).read_text(encoding="utf-8").splitlines())
        print(f"verified: journal {folder / journal.JOURNAL}, {records} records")
    return len(problems)


def _bundle(folder: Path) -> int:
    """Check a reviewer bundle (audit publish): print each problem, or ``verified``."""
    found = verify_bundle(folder)
    for problem in found.problems:
        print(problem)
    run_id = read_bundle_manifest(folder)["source"]["run_id"]
    counts = f"reviewer bundle of run {run_id}, {found.outputs} files, {found.signoffs} sign-offs"
    if found.ok:
        print(f"verified: {counts}")
        return EXIT_OK
    print(f"{len(found.problems)} problems in {counts}")
    return EXIT_FINDINGS


def run(opts: Options) -> int:
    """Print each changed output, input, broken sign-off or journal record, or ``verified``."""
    tracks = [opts.track] if opts.track is not None else []
    if not (opts.run_dir / MANIFEST).exists() and (opts.run_dir / journal.JOURNAL).exists():
        return EXIT_FINDINGS if _journal(opts.run_dir) else EXIT_OK
    if is_bundle(opts.run_dir):
        return _bundle(opts.run_dir)
    found = verify(opts.run_dir)
    head = read_manifest(opts.run_dir).get("tracking") or {}
    if head.get("journal") and opts.track is None and Path(head["journal"]).is_dir():
        tracks.append(Path(head["journal"]))  # the journal the run read, where it was
    damaged = sum(_journal(folder) for folder in tracks)
    for folder in tracks:
        gone = (
            journal.holds(folder, int(head.get("records", 0)), str(head.get("last_hash", "")))
            if head
            else None
        )
        if gone:
            print(f"journal {folder / journal.JOURNAL}: {gone}")
            damaged += 1
    for problem in found.problems:
        print(problem)
    for where in found.unavailable:
        print(f"not checked input {where}: its folder is not on this machine")
    counts = f"{found.outputs} outputs, {found.inputs} inputs, {found.signoffs} sign-offs"
    if found.ok and not damaged:
        print(f"verified: {counts}")
        return EXIT_OK
    if found.ok:
        return EXIT_FINDINGS
    print(f"{len(found.problems)} problems in {counts}")
    return EXIT_FINDINGS
