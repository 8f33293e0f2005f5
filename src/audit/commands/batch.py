"""``audit batch``: every county × area notebook, the roll-up and every report, in parallel."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from audit.batch import BatchOptions, BatchSummary, default_notebooks, run_batch
from audit.batch.executors import EXECUTORS, default_workers
from audit.commands._formats import add_format_arguments, chosen_formats
from audit.exceptions import EXIT_FINDINGS, EXIT_OK, ParameterError

NAME = "batch"
HELP = "Audit every county in parallel into one run folder: reports, findings, index and manifest."
_RUN_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")


def configure(parser: argparse.ArgumentParser) -> None:
    """Declare the arguments of ``audit batch``."""
    parser.add_argument("--store", required=True, type=Path, help="store folder written by audit ingest")
    parser.add_argument("--params", required=True, type=Path, help="parameters file (params/*.yaml)")
    parser.add_argument("--out", type=Path, default=Path("outputs"), help="folder of run folders")
    parser.add_argument("--run-id", help="name of the run folder (default: UTC time and input hash)")
    parser.add_argument("--counties", nargs="+", metavar="CODE", help="only these counties (default: all)")
    parser.add_argument(
        "--jobs",
        type=int,
        default=default_workers(),
        help=f"workers (default: one and a half per core, here {default_workers()})",
    )
    parser.add_argument("--executor", choices=sorted(EXECUTORS), default="local", help="where jobs run")
    parser.add_argument("--scheduler", metavar="ADDRESS", help="Dask scheduler (default: a LocalCluster)")
    parser.add_argument(
        "--resume",
        action="store_true",
        help="finish the run named by --run-id (without it: the one unfinished run in --out)",
    )
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds a notebook cell may take")
    parser.add_argument("--lang", choices=("zh", "en"), default="zh", help="report language")
    parser.add_argument(
        "--pii", choices=("masked", "full"), default="masked", help="personal data in reports"
    )
    add_format_arguments(parser)
    parser.add_argument("--notebooks", type=Path, default=None, help="folder of the area notebooks")
    parser.add_argument(
        "--track",
        type=Path,
        nargs="?",
        const=Path("outputs/tracking"),
        metavar="DIR",
        help="show the follow-up journal's statuses in the reports and record this run's findings in it "
        "(DIR defaults to outputs/tracking)",
    )


def options(ns: argparse.Namespace) -> BatchOptions:
    """Validate the arguments into batch options."""
    if ns.run_id is not None and not _RUN_ID.fullmatch(ns.run_id):
        raise ParameterError(f"--run-id {ns.run_id!r}: use letters, digits, '.', '_' and '-' only")
    if ns.jobs < 1:
        raise ParameterError(f"--jobs must be at least 1, not {ns.jobs}")
    if not ns.timeout > 0:
        raise ParameterError(f"--timeout must be a positive number of seconds, not {ns.timeout}")
    if ns.scheduler and ns.executor != "dask":
        raise ParameterError("--scheduler needs --executor dask")
    return BatchOptions(
        store=ns.store,
        params=ns.params,
        out=ns.out,
        notebooks=ns.notebooks or default_notebooks(),
        run_id=ns.run_id,
        counties=tuple(ns.counties or ()),
        jobs=ns.jobs,
        executor=ns.executor,
        scheduler=ns.scheduler,
        resume=ns.resume,
        timeout=ns.timeout,
        lang=ns.lang,
        pii=ns.pii,
        formats=chosen_formats(ns, "batch"),
        track=ns.track,
    )


def summary_text(summary: BatchSummary) -> str:
    """What the batch prints at the end: counts, failures with reasons, where the index is."""
    counties = [u for u in summary.units if u["kind"] == "county"]
    failed = [u for u in counties if u["status"] != "ok"]
    rollup = "ok" if all(u["status"] == "ok" for u in summary.units if u["kind"] == "rollup") else "failed"
    lines = [
        f"run {summary.run_dir}: {len(counties)} {'county' if len(counties) == 1 else 'counties'}, "
        f"{len(counties) - len(failed)} ok, "
        f"{len(failed)} failed; roll-up {rollup}; {summary.findings} findings"
    ]
    lines += [f"  failed {u['code']}: {u['reason']}" for u in summary.failed]
    if summary.findings_error:
        lines.append(f"  combined findings register not written: {summary.findings_error}")
    lines.append(f"index: {summary.run_dir / 'index.html'}")
    return "\n".join(lines)


def run(opts: BatchOptions) -> int:
    """Run the batch; exit 1 when any county or the roll-up failed, or the findings could not be combined."""
    summary = run_batch(opts)
    print(summary_text(summary))
    return EXIT_OK if summary.ok else EXIT_FINDINGS
