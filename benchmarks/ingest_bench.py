"""Ingest throughput and peak memory on N synthetic relief payments, from Parquet and from CSV.

Not a test: ``python benchmarks/ingest_bench.py [--rows 2000000]``. Each ingest runs in a child
process so its peak RSS (``ru_maxrss``) is its own; the figure is compared with the size of
the loaded frame in memory. Validation uses the real ``audit.schemas``; its share of the time
is measured separately on the same frame.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pcsv
import pyarrow.parquet as pq

_WEIGHTS = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2])
COUNTIES = ("540102", "540103", "540104", "540121", "540122", "540123", "540124", "540127")


def payments(n: int, seed: int = 0) -> pd.DataFrame:
    """N relief payments with valid resident IDs (check digits computed) and one county each."""
    rng = np.random.default_rng(seed)
    people = max(n // 12, 1)
    county = rng.integers(0, len(COUNTIES), people)
    digits = np.zeros((people, 17), dtype=np.int64)
    area = np.array([[int(c) for c in COUNTIES[i]] for i in range(len(COUNTIES))])[county]
    digits[:, :6] = area
    birth = pd.to_datetime("1950-01-01") + pd.to_timedelta(rng.integers(0, 20000, people), unit="D")
    ymd = birth.strftime("%Y%m%d").to_numpy().astype("U8")
    digits[:, 6:14] = np.array([list(map(int, s)) for s in ymd])
    digits[:, 14:17] = rng.integers(0, 10, (people, 3))
    check = np.array(list("10X98765432"))[(digits * _WEIGHTS).sum(axis=1) % 11]
    ids = np.char.add(np.apply_along_axis(lambda r: "".join(map(str, r)), 1, digits), check)
    who = rng.integers(0, people, n)
    period = rng.integers(1, 13, n)
    return pd.DataFrame(
        {
            "payment_id": np.char.add("P", np.arange(n).astype(str)),
            "person_id": ids[who],
            "household_id": np.char.add("H", who.astype(str)),
            "programme": np.array(["城市低保", "农村低保", "特困分散供养"])[who % 3],
            "period": np.char.add("2020-", np.char.zfill(period.astype(str), 2)),
            "amount_yuan": np.round(rng.uniform(100, 2000, n), 2),
            "paid_on": (pd.Timestamp("2020-01-10") + pd.to_timedelta((period - 1) * 30, unit="D")).strftime(
                "%Y-%m-%d"
            ),
            "bank_account": _accounts(people)[who],
            "county_code": np.array(COUNTIES)[county[who]],
        }
    )


def _accounts(n: int) -> np.ndarray:
    """N distinct 19-digit bank accounts with a Luhn check digit."""
    body = np.char.add("622848012", np.char.zfill(np.arange(n).astype(str), 9))  # 18 digits
    digits = np.array([list(map(int, b)) for b in body.tolist()]) if n < 1000 else None
    if digits is None:
        digits = (
            (np.frombuffer("".join(body.tolist()).encode(), dtype=np.uint8) - 48).reshape(n, 18).astype(int)
        )
    doubled = digits[:, ::-1].copy()
    doubled[:, 0::2] *= 2
    doubled[doubled > 9] -= 9
    check = (10 - doubled.sum(axis=1) % 10) % 10
    return np.char.add(body, check.astype(str))


def _child(kind: str, folder: str, queue: mp.Queue) -> None:
    from audit.ingest import ingest

    start = time.perf_counter()
    result = ingest(Path(folder) / kind, Path(folder) / f"store-{kind}")
    seconds = time.perf_counter() - start
    queue.put(
        {
            "seconds": seconds,
            "rows": sum(s.rows_loaded for s in result.sheets),
            "quarantined": result.rows_quarantined,
            "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        }
    )


def _validation_share(folder: Path) -> dict:
    from audit import schemas
    from audit.store import Store

    frame = Store.open(folder / "store-parquet").read("relief_payments")
    start = time.perf_counter()
    schemas.validate("relief_payments", frame)
    return {
        "validate_seconds": time.perf_counter() - start,
        "frame_mb": frame.memory_usage(deep=True).sum() / 2**20,
    }


def main(argv: list[str] | None = None) -> int:
    """Generate, ingest from Parquet and from CSV, and print rows/s and peak memory."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2_000_000)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="ingest-bench-") as tmp:
        folder = Path(tmp)
        data = payments(args.rows)
        for kind in ("parquet", "csv"):
            (folder / kind).mkdir()
        table = pa.Table.from_pandas(data, preserve_index=False)
        pq.write_table(table, folder / "parquet" / "relief_payments.parquet")
        pcsv.write_csv(table, folder / "csv" / "relief_payments.csv")
        del data, table
        report = {"rows": args.rows}
        ctx = mp.get_context("spawn")
        for kind in ("parquet", "csv"):
            queue = ctx.Queue()
            child = ctx.Process(target=_child, args=(kind, str(folder), queue))
            child.start()
            figures = queue.get()
            child.join()
            figures["rows_per_s"] = round(figures["rows"] / figures["seconds"])
            report[kind] = figures
        report.update(_validation_share(folder))
        report["validate_rows_per_s"] = round(args.rows / report["validate_seconds"])
        for kind in ("parquet", "csv"):
            report[kind]["peak_over_frame"] = round(report[kind]["peak_mb"] / report["frame_mb"], 2)
        json.dump(report, sys.stdout, indent=2)
        print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
