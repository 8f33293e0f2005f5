"""Ingest throughput and peak memory on N synthetic relief payments, from Parquet and from CSV.

Not a test: ``python benchmarks/ingest_bench.py [--rows 10000000] [--formats parquet csv]``.
Two modes per format: ``ingest`` (read, repair, validate, write the store: ``audit ingest``)
and ``validate`` (the same checks without a store: ``audit validate``). Each run is in a
fresh child process, as a command would be, so its peak RSS
(``VmHWM``; ``ru_maxrss`` would carry the parent's peak over the fork) is its own; it is
compared with the size of the loaded table as one pandas
frame (``memory_usage(deep=True)``, summed over slices of the store so the bench itself
stays small). The one-time import of pandera is timed apart from the ingest. Rows per second
are given on wall time and, since the machine may be shared, on CPU time too; with
``--repeat`` the fastest run counts. ``--profile DIR`` writes a pyinstrument profile of each
run (pip install -e .[bench]). The synthetic files are written in slices, so 17 M rows fit:
``--rows 17000000 --formats parquet --data /tmp/bench17m`` keeps them for the next run.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from queue import Empty

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pcsv
import pyarrow.parquet as pq

_WEIGHTS = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2])
COUNTIES = ("540102", "540103", "540104", "540121", "540122", "540123", "540124", "540127")
MODES = ("ingest", "validate")
"""``audit ingest`` (with a store) and ``audit validate`` (the same checks, no store)."""
SLICE_ROWS = 1_000_000
"""Rows generated and written at a time."""


def _people(n: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """N people: resident IDs (check digits computed), county index and 19-digit bank account."""
    rng = np.random.default_rng(seed)
    county = rng.integers(0, len(COUNTIES), n)
    digits = np.zeros((n, 17), dtype=np.int64)
    area = np.array([[int(c) for c in code] for code in COUNTIES])
    digits[:, :6] = area[county]
    birth = np.datetime64("1950-01-01") + rng.integers(0, 20000, n).astype("timedelta64[D]")
    ymd = np.char.replace(np.datetime_as_string(birth, unit="D"), "-", "")
    digits[:, 6:14] = (np.frombuffer(ymd.astype("S8").tobytes(), dtype=np.uint8) - 48).reshape(n, 8)
    digits[:, 14:17] = rng.integers(0, 10, (n, 3))
    check = np.frombuffer(b"10X98765432", dtype=np.uint8)[(digits * _WEIGHTS).sum(axis=1) % 11]
    text = np.concatenate([(digits + 48).astype(np.uint8), check[:, None]], axis=1)
    ids = text.copy().view("S18").ravel().astype("U18")
    return ids, county, _accounts(n)


def _accounts(n: int) -> np.ndarray:
    """N distinct 19-digit bank accounts with a Luhn check digit."""
    body = np.char.add("622848012", np.char.zfill(np.arange(n).astype(str), 9))  # 18 digits
    digits = (np.frombuffer(body.astype("S18").tobytes(), dtype=np.uint8) - 48).reshape(n, 18).astype(int)
    doubled = digits[:, ::-1].copy()
    doubled[:, 0::2] *= 2
    doubled[doubled > 9] -= 9
    check = (10 - doubled.sum(axis=1) % 10) % 10
    return np.char.add(body, check.astype(str))


def payment_slices(n: int, seed: int = 0, size: int = SLICE_ROWS) -> Iterator[pd.DataFrame]:
    """N relief payments in slices of ``size`` rows: valid IDs and accounts, counties interleaved."""
    people = max(n // 12, 1)
    ids, county, accounts = _people(people, seed)
    for start in range(0, n, size):
        rows = min(size, n - start)
        rng = np.random.default_rng([seed, start])
        who = rng.integers(0, people, rows)
        period = rng.integers(1, 13, rows)
        paid = np.datetime64("2020-01-10") + ((period - 1) * 30).astype("timedelta64[D]")
        yield pd.DataFrame(
            {
                "payment_id": np.char.add("P", np.arange(start, start + rows).astype(str)),
                "person_id": ids[who],
                "household_id": np.char.add("H", who.astype(str)),
                "programme": np.array(["城市低保", "农村低保", "特困分散供养"])[who % 3],
                "period": np.char.add("2020-", np.char.zfill(period.astype(str), 2)),
                "amount_yuan": np.round(rng.uniform(100, 2000, rows), 2),
                "paid_on": np.datetime_as_string(paid, unit="D"),
                "bank_account": accounts[who],
                "county_code": np.array(COUNTIES)[county[who]],
            }
        )


def payments(n: int, seed: int = 0) -> pd.DataFrame:
    """N relief payments as one frame (small N)."""
    return pd.concat(payment_slices(n, seed), ignore_index=True)


def write_inputs(folder: Path, rows: int, formats: list[str]) -> None:
    """``folder/<format>/relief_payments.<format>``, written slice by slice (kept when already there)."""
    marker = folder / "inputs.json"
    done = json.loads(marker.read_text()) if marker.exists() else {}
    for kind in formats:
        if done.get(kind) == rows:
            continue
        shutil.rmtree(folder / kind, ignore_errors=True)
        (folder / kind).mkdir(parents=True)
        path = folder / kind / f"relief_payments.{kind}"
        writer = None
        for frame in payment_slices(rows):
            table = pa.Table.from_pandas(frame, preserve_index=False).replace_schema_metadata(None)
            if writer is None:
                opener = pq.ParquetWriter if kind == "parquet" else pcsv.CSVWriter
                writer = opener(path, table.schema)
            writer.write_table(table)
        writer.close()
        done[kind] = rows
        marker.write_text(json.dumps(done))


def _status(field: str) -> int:
    """A figure of /proc/self/status in kB (VmHWM: peak RSS of this process since it started)."""
    with open("/proc/self/status") as fh:
        return next(int(line.split()[1]) for line in fh if line.startswith(field + ":"))


def _child(
    kind: str, mode: str, folder: str, chunk_rows: int | None, profile: str | None, queue: mp.Queue
) -> None:
    start = time.perf_counter()
    import audit.schemas  # noqa: F401  (pandera's import is a one-time cost, not throughput)
    from audit.ingest import ingest

    imported = time.perf_counter() - start
    store = Path(folder) / f"store-{kind}" if mode == "ingest" else None
    if store is not None:
        shutil.rmtree(store, ignore_errors=True)
    options = {"chunk_rows": chunk_rows} if chunk_rows else {}
    profiler = None
    if profile:
        from pyinstrument import Profiler

        profiler = Profiler()
        profiler.start()
    wall, cpu = time.perf_counter(), time.process_time()
    result = ingest(Path(folder) / kind, store, **options)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    if profiler is not None:
        profiler.stop()
        Path(profile, f"{mode}-{kind}.txt").write_text(profiler.output_text(unicode=True, show_all=False))
    queue.put(
        {
            "seconds": round(wall, 2),
            "cpu_seconds": round(cpu, 2),
            "import_seconds": round(imported, 2),
            "rows": sum(s.rows_read for s in result.sheets),
            "quarantined": result.rows_quarantined,
            "peak_mb": round(_status("VmHWM") / 1024),
        }
    )


def _frame_mb(store: Path) -> float:
    """Size of the stored table as one pandas frame, summed over slices (the index left out)."""
    from audit.store import table_schema, to_frame

    total = 0
    for path in sorted((store / "tables" / "relief_payments").glob("*/*.parquet")):
        schema = table_schema("relief_payments")
        for batch in pq.ParquetFile(path).iter_batches(batch_size=SLICE_ROWS):
            frame = to_frame(pa.Table.from_batches([batch]).select(schema.names), schema)
            total += frame.memory_usage(deep=True, index=False).sum()
    return total / 2**20


def _validate_rows_per_s(store: Path, rows: int) -> int:
    """Throughput of ``audit.schemas.validate`` alone on the first ``rows`` stored payments."""
    from audit import schemas
    from audit.store import table_schema, to_frame

    batches: list[pa.RecordBatch] = []
    for path in sorted((store / "tables" / "relief_payments").glob("*/*.parquet")):
        batches += pq.ParquetFile(path).iter_batches(batch_size=rows)
        if sum(b.num_rows for b in batches) >= rows:
            break
    schema = table_schema("relief_payments")
    frame = to_frame(pa.Table.from_batches(batches).select(schema.names).slice(0, rows), schema)
    start = time.perf_counter()
    schemas.validate("relief_payments", frame)
    return round(len(frame) / (time.perf_counter() - start))


def _key(kind: str, mode: str) -> str:
    """Where a format's figures are in the report: ``parquet`` for an ingest, ``parquet-validate``."""
    return kind if mode == "ingest" else f"{kind}-{mode}"


def _result(child: mp.Process, queue: mp.Queue) -> dict:
    while True:
        try:
            return queue.get(timeout=5)
        except Empty:
            if not child.is_alive():
                raise RuntimeError(f"the ingest failed (exit code {child.exitcode})") from None


def main(argv: list[str] | None = None) -> int:
    """Generate (or reuse), ingest each format in a child process, print the figures as JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000, help="a large table (default 10 M)")
    parser.add_argument("--formats", nargs="+", choices=("parquet", "csv"), default=["parquet", "csv"])
    parser.add_argument("--modes", nargs="+", choices=MODES, default=list(MODES))
    parser.add_argument(
        "--data", type=Path, help="folder for the inputs and stores, kept (default: temporary)"
    )
    parser.add_argument("--chunk-rows", type=int, help="ingest's block size (default: its own)")
    parser.add_argument("--repeat", type=int, default=1, help="runs per format; the fastest counts")
    parser.add_argument("--profile", type=Path, help="write a pyinstrument profile of each run here")
    args = parser.parse_args(argv)
    folder = args.data or Path(tempfile.mkdtemp(prefix="ingest-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    if args.profile:
        args.profile.mkdir(parents=True, exist_ok=True)
    try:
        write_inputs(folder, args.rows, args.formats)
        report: dict = {"rows": args.rows, "cores": os.cpu_count(), "load_average": os.getloadavg()[0]}
        ctx = mp.get_context("spawn")
        # The store is what the frame is measured on: ingest at least once.
        modes = args.modes if "ingest" in args.modes else ["ingest", *args.modes]
        for kind in args.formats:
            for mode in modes:
                runs = []
                for _ in range(args.repeat if mode in args.modes else 1):
                    queue = ctx.Queue()
                    profile = str(args.profile) if args.profile else None
                    child = ctx.Process(
                        target=_child, args=(kind, mode, str(folder), args.chunk_rows, profile, queue)
                    )
                    child.start()
                    runs.append(_result(child, queue))
                    child.join()
                if mode not in args.modes:
                    continue
                best = min(runs, key=lambda run: run["seconds"])
                best["rows_per_s"] = round(best["rows"] / best["seconds"])
                best["rows_per_cpu_s"] = round(best["rows"] / best["cpu_seconds"])
                best["peak_mb"] = max(run["peak_mb"] for run in runs)
                report[_key(kind, mode)] = best
        store = folder / f"store-{args.formats[0]}"
        report["frame_mb"] = round(_frame_mb(store))
        report["validate_rows_per_s"] = _validate_rows_per_s(store, min(args.rows, SLICE_ROWS))
        for kind in args.formats:
            for mode in args.modes:
                figures = report[_key(kind, mode)]
                figures["peak_over_frame"] = round(figures["peak_mb"] / report["frame_mb"], 2)
        json.dump(report, sys.stdout, indent=2)
        print()
    finally:
        if args.data is None:
            shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
