"""``python -m benchmarks``: measure every speed and memory target beside its peer and write RESULTS.md.

Each target of :mod:`benchmarks.suite` runs in turn; a target that fails is reported in its
section and makes the exit code 1, the others still run. Missed goals are results, not errors.
Raw figures also go to ``WORK/results.json``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shlex
import sys
import time
from dataclasses import asdict
from pathlib import Path

from benchmarks import suite

from audit.batch.executors import default_workers

DEFAULT_OUT = suite.ROOT / "benchmarks" / "RESULTS.md"
DEFAULT_WORK = suite.ROOT / "benchmarks" / "work" / "suite"
BUSY_LOAD = 0.5  # load average per core above which the figures are flagged as taken on a busy machine


def parse(argv: list[str] | None) -> argparse.Namespace:
    """The command line of the suite."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, default=100, help="demo scale of the ingest target (issue: 100)")
    parser.add_argument("--repeat", type=int, default=3, help="runs of every measurement (median, min, max)")
    parser.add_argument(
        "--only", nargs="+", choices=list(suite.TARGETS), metavar="NAME", help="these targets"
    )
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="the results file to write")
    parser.add_argument("--work", type=Path, default=DEFAULT_WORK, help="folder for data, stores and runs")
    parser.add_argument("--persons", type=int, default=85_000, help="rules target: people (x 12 payments)")
    parser.add_argument(
        "--counties", type=int, help="batch and Dask targets: only the N smallest counties (quick runs)"
    )
    parser.add_argument("--peer-rows", type=int, default=2_000_000, help="rows the validation peers check")
    parser.add_argument(
        "--jobs", type=int, default=default_workers(), help="batch workers (default: audit batch's)"
    )
    parser.add_argument("--no-profile", action="store_true", help="skip pyinstrument on missed targets")
    parser.add_argument(
        "--no-loop",
        action="store_true",
        help="batch target: skip the papermill + nbconvert CLI loop and its goal (quick runs)",
    )
    parser.add_argument("--list", action="store_true", help="print the target names and exit")
    args = parser.parse_args(argv)
    for name in ("scale", "repeat", "persons", "peer_rows", "jobs"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1")
    if args.counties is not None and args.counties < 1:
        parser.error("--counties must be at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    """Run the chosen targets, write the results file, return 1 when a target failed."""
    args = parse(argv)
    if args.list:
        print("\n".join(suite.TARGETS))
        return 0
    work = args.work.resolve()
    work.mkdir(parents=True, exist_ok=True)
    suite.allow(work)  # batch_bench's subprocesses inherit this process's environment
    session = suite.Session(
        work=work,
        scale=args.scale,
        repeat=args.repeat,
        persons=args.persons,
        counties=args.counties,
        peer_rows=args.peer_rows,
        jobs=args.jobs,
        profile=not args.no_profile,
        loop=not args.no_loop,
    )
    started, machine = time.perf_counter(), suite.machine()
    outcomes = []
    for name in args.only or list(suite.TARGETS):
        print(f"[benchmarks] {name} ...", file=sys.stderr, flush=True)
        outcome = suite.run_target(name, session)
        state = (
            "FAILED"
            if outcome.error
            else ", ".join(f"{g.label} {g.value:.2f} {'ok' if g.met else 'missed'}" for g in outcome.goals)
        )
        print(
            f"[benchmarks] {name}: {outcome.seconds:.0f} s; {state or 'measured'}",
            file=sys.stderr,
            flush=True,
        )
        if outcome.error:
            print(outcome.error, file=sys.stderr, flush=True)
        outcomes.append(outcome)
    load = os.getloadavg()
    cores = len(os.sched_getaffinity(0))  # the cores this run could use, as in the figures
    busy = max(float(machine["load"].split()[0]), load[0]) / cores
    context = {
        "command": shlex.join(["python", "-m", "benchmarks", *(sys.argv[1:] if argv is None else argv)]),
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M"),
        "minutes": (time.perf_counter() - started) / 60,
        "revision": suite.revision(),
        "machine": machine,
        "load_end": " ".join(f"{x:.2f}" for x in load),
        "versions": suite.versions(),
        "settings": (
            f"scale {args.scale}, repeat {args.repeat}, persons {args.persons:,}, counties "
            f"{args.counties or 'all'}, peer rows {args.peer_rows:,}, jobs {args.jobs}"
            + (", no CLI loop" if args.no_loop else "")
        ),
        "warning": (
            f"Measured on a busy machine (load {busy:.1f} per core): timings are upper bounds, "
            "not figures to quote."
            if busy > BUSY_LOAD
            else ""
        ),
    }
    out = args.out.resolve()
    text = suite.render(outcomes, context, suite.kept_notes(out))
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    raw = {"context": context, "outcomes": [asdict(o) for o in outcomes]}
    (work / "results.json").write_text(
        json.dumps(raw, ensure_ascii=False, indent=2, default=str), encoding="utf-8"
    )
    print(f"[benchmarks] wrote {out}", file=sys.stderr)
    return 1 if any(o.error for o in outcomes) else 0


if __name__ == "__main__":
    sys.exit(main())
