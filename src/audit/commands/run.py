"""``audit run``: audit one county (or the city roll-up) and render its inspection report."""

from __future__ import annotations

import argparse
import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from audit.commands._formats import add_format_arguments, chosen_formats
from audit.exceptions import EXIT_FINDINGS, EXIT_OK, ParameterError
from audit.params import load_params
from audit.runspec import DEFAULTS, RunSpec, validate_spec
from audit.vocabulary import AREA_NOTEBOOKS, SEVERITIES

NAME = "run"
HELP = "Audit one county (or the city roll-up with the city's code) and render its report."


@dataclass(frozen=True)
class RunOptions:
    """What ``audit run`` does, validated before any kernel starts."""

    spec: RunSpec
    areas: tuple[str, ...]
    city: bool
    timeout: float
    formats: tuple[str, ...]  # report formats, each after those it needs
    fail_on: str | None


def configure(parser: argparse.ArgumentParser) -> None:
    """Declare the arguments of ``audit run``."""
    parser.add_argument(
        "--county", required=True, help="6-digit county code, or the city's code for the roll-up"
    )
    parser.add_argument(
        "--area",
        action="append",
        default=None,
        metavar="AREA",
        help=f"area notebook to run ({', '.join(AREA_NOTEBOOKS)}); repeat for several; default all",
    )
    parser.add_argument("--store", required=True, help="store folder written by `audit ingest`")
    parser.add_argument("--params", required=True, help="parameters YAML file (params/lhasa-2020.yaml)")
    parser.add_argument("--out", required=True, help="run folder; the report goes to OUT/<county>/")
    parser.add_argument("--lang", default=DEFAULTS["lang"], help="report language: zh (default) or en")
    parser.add_argument(
        "--pii",
        default=DEFAULTS["pii"],
        help="masked (default) or full: full shows ID numbers, names and accounts, with a warning banner",
    )
    parser.add_argument("--seed", type=int, default=None, help="seed of the field-verification sample")
    parser.add_argument("--run-id", default=None, help="run id printed in the report (default: a timestamp)")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds a notebook cell may run (600)")
    add_format_arguments(parser)
    parser.add_argument(
        "--fail-on",
        default=None,
        metavar="SEVERITY",
        help=f"exit 1 when a finding of this severity or worse was raised ({', '.join(SEVERITIES)})",
    )
    parser.add_argument(
        "--allow-root",
        action="append",
        default=[],
        metavar="DIR",
        help="another folder the notebooks may read from (the paths typed here are allowed already)",
    )


def options(ns: argparse.Namespace) -> RunOptions:
    """Validate the arguments into RunOptions; raise ParameterError (exit 2) on any bad one."""
    areas = tuple(ns.area or AREA_NOTEBOOKS)
    unknown = [a for a in areas if a not in AREA_NOTEBOOKS]
    if unknown:
        raise ParameterError(f"--area {', '.join(unknown)}: unknown; allowed: {', '.join(AREA_NOTEBOOKS)}")
    if not ns.timeout > 0:
        raise ParameterError(f"--timeout {ns.timeout:g}: must be more than 0 seconds")
    if ns.fail_on is not None and ns.fail_on not in SEVERITIES:
        raise ParameterError(f"--fail-on {ns.fail_on}: unknown; allowed: {', '.join(SEVERITIES)}")
    run_id = ns.run_id or dt.datetime.now(dt.UTC).strftime("run-%Y%m%dT%H%M%SZ")
    values = {
        "county": ns.county,
        "store": ns.store,
        "params": ns.params,
        "out": str(Path(ns.out) / ns.county),
        "lang": ns.lang,
        "pii": ns.pii,
        "seed": ns.seed,
        "run_id": run_id,
    }
    # The paths typed here are the user's own: accepted wherever they point.
    spec = validate_spec(
        values, extra_roots=ns.allow_root, typed=("store", "params", "out"), origin="the command line"
    )
    city = spec.county == load_params(spec.params).city_code
    if city and ns.area:
        raise ParameterError("--area: the city roll-up has no areas; leave --area out")
    return RunOptions(spec, areas, city, ns.timeout, chosen_formats(ns, "run"), ns.fail_on)


def run(opts: RunOptions) -> int:
    """Run the notebooks, render the report, and say where it is."""
    from audit.notebook_runs import run_city, run_county  # start-up time: papermill only when a run starts

    if opts.city:
        result = run_city(opts.spec, timeout=opts.timeout, formats=opts.formats)
    else:
        result = run_county(opts.spec, opts.areas, timeout=opts.timeout, formats=opts.formats)
    for path in result.reports.values():
        print(f"report: {path}")
    for path in result.findings:
        print(f"findings (restricted, full personal data): {path}")
    if opts.fail_on is None:
        return EXIT_OK
    worst = _worst(result.findings)
    if worst is not None and SEVERITIES.index(worst) <= SEVERITIES.index(opts.fail_on):
        print(f"findings of severity {worst} raised (--fail-on {opts.fail_on})")
        return EXIT_FINDINGS
    return EXIT_OK


def _worst(paths: tuple[Path, ...]) -> str | None:
    from audit.findings import read_register  # start-up time: `audit --help` needs no Parquet

    seen = {str(s) for p in paths for s in read_register(p)["severity"].dropna()}
    return next((s for s in SEVERITIES if s in seen), None)
