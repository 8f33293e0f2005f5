"""``audit demo --out DIR``: write the synthetic Lhasa 2020 submission and its answer key."""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

from audit.datacontract import TABLES
from audit.demo import DEFAULT_SEED, FORMATS, KEY_FILE, generate
from audit.exceptions import EXIT_OK, InputError, ParameterError
from audit.params import load_params

NAME = "demo"
HELP = "Write a synthetic Lhasa 2020 submission with planted anomalies and its answer key."
DEFAULT_PARAMS = Path("params/lhasa-2020.yaml")


@dataclass(frozen=True)
class Options:
    """What ``audit demo`` was asked to write."""

    out: Path
    seed: int
    scale: int
    fmt: str
    params: Path
    force: bool


def configure(parser: argparse.ArgumentParser) -> None:
    """Declare the arguments of ``audit demo``."""
    parser.add_argument("--out", required=True, metavar="DIR", help="folder to write (created if missing)")
    parser.add_argument(
        "--seed", type=int, default=DEFAULT_SEED, help=f"random seed (default {DEFAULT_SEED})"
    )
    parser.add_argument(
        "--scale",
        type=int,
        default=1,
        help="multiply people and payments by K (default 1: the release's figures)",
    )
    parser.add_argument(
        "--format",
        dest="fmt",
        choices=FORMATS,
        default="mixed",
        help="mixed: xlsx and csv as county bureaus write them; parquet: every table in Parquet",
    )
    parser.add_argument(
        "--params", type=Path, default=DEFAULT_PARAMS, help=f"parameters file (default {DEFAULT_PARAMS})"
    )
    parser.add_argument(
        "--force",
        action="store_true",
        help="write into a folder that holds other files (they are left alone)",
    )


def options(ns: argparse.Namespace) -> Options:
    """Turn parsed arguments into :class:`Options`, refusing values that cannot work."""
    if ns.scale < 1:
        raise ParameterError(f"--scale: {ns.scale} is not a whole number of at least 1")
    if ns.seed < 0:
        raise ParameterError(f"--seed: {ns.seed} is negative; use a whole number of 0 or more")
    return Options(Path(ns.out), ns.seed, ns.scale, ns.fmt, Path(ns.params), ns.force)


def run(options: Options) -> int:
    """Write the submission; print what was written and where the answer key is."""
    params = load_params(options.params)
    out = options.out
    if out.exists() and not out.is_dir():
        raise InputError("exists and is not a folder", file=str(out))
    old = sorted(out.iterdir()) if out.is_dir() else []
    foreign = [p.name for p in old if not _written_by_demo(p)]
    if foreign and not options.force:
        raise InputError(
            f"folder holds files the demo does not write ({', '.join(foreign[:3])}): "
            "choose another folder or pass --force",
            file=str(out),
        )
    for path in old:  # an earlier demo's files would mix into this one (another format, seed)
        if _written_by_demo(path):
            path.unlink()
    result = generate(
        out,
        params,
        seed=options.seed,
        scale=options.scale,
        fmt=options.fmt,
        progress=lambda line: print(line, file=sys.stderr),
    )
    print(f"demo submission: {result.out} (seed {result.seed}, scale {result.scale}, {result.fmt})")
    for name, n in result.rows.items():
        print(f"  {name:<18}{n:>12,} rows")
    per_rule = result.key["rule_id"].value_counts(sort=False)
    print(
        f"answer key: {result.out / KEY_FILE} ({len(result.key)} findings: "
        + ", ".join(f"{r} {n}" for r, n in per_rule.items())
        + ")"
    )
    return EXIT_OK


def _written_by_demo(path: Path) -> bool:
    """Whether ``path`` is a file an earlier ``audit demo`` wrote (a table or the answer key)."""
    stem, suffix = path.stem, path.suffix
    return path.is_file() and (
        path.name == KEY_FILE or (stem in TABLES and suffix in (".xlsx", ".csv", ".parquet"))
    )
