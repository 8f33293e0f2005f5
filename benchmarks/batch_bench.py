"""Batch benchmark: the whole demo against its floor and a naive loop, and a kernel's memory by store size.

Measured in one run, on this machine:

- ``batch``: ``audit batch --formats html`` over the demo store, wall time (``pdf``: printing every
  report with Chromium, timed on its own);
- ``floor``: a bare kernel start, ``import pandas, pandera.pandas`` and shutdown, per notebook,
  times the notebooks, divided by the cores (no batch can run notebooks in fresh kernels faster);
- ``loop``: the same notebooks one after the other with the ``papermill`` CLI and
  ``jupyter nbconvert --to html`` CLI, the way a notebook is usually run by hand or in make;
- ``memory``: peak RSS of one county's kernel (its three area notebooks; each kernel reads its
  own ``VmHWM``) with a store of 10 counties and one of 100 (synthetic partitions: copies of the
  demo's counties under new codes).

A batch that does not finish with every unit ok gives no timing: :func:`batch_wall` raises
:class:`BatchFailed` with the reason.

Targets: batch <= 1.25 x floor, loop / batch >= 1.8, memory(100) / memory(10) <= 1.2.
Run: ``python -m benchmarks.batch_bench [--jobs N] [--keep]``; results also go to
``benchmarks/work/batch_bench.json``.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import inspect
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from benchmarks.suite import peak_mb, usable_cores

from audit.batch.executors import default_workers
from audit.vocabulary import AREA_NOTEBOOKS

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / "benchmarks" / "work"
PARAMS = ROOT / "params" / "lhasa-2020.yaml"
BIN = Path(sys.executable).parent
AREAS = tuple(AREA_NOTEBOOKS)
COUNTIES_IN_CHINA = 2850  # county-level divisions, for the paper estimate
CITIES_IN_CHINA = 333  # prefecture-level divisions: one roll-up each


def _run(cmd: list[str], **kw) -> float:
    """Run a command, fail loudly, return its wall time in seconds."""
    started = time.perf_counter()
    subprocess.run(cmd, check=True, cwd=ROOT, **kw)
    return time.perf_counter() - started


def _env() -> dict[str, str]:
    # folders outside the project come in AUDIT_ALLOWED_ROOTS from the caller (the suite sets it)
    return {**os.environ, "PYTHONWARNINGS": "ignore"}


def demo_store(work: Path) -> Path:
    """Generate and ingest the demo submission (once per work folder)."""
    store = work / "demo-store"
    if not store.exists():
        _run([str(BIN / "audit"), "demo", "--out", str(work / "demo-submission")])
        _run([str(BIN / "audit"), "ingest", str(work / "demo-submission"), "--store", str(store)])
    return store


def counties_of(store: Path) -> list[str]:
    """The store's counties as the batch audits them: the city bureau's rows go to the roll-up."""
    from audit.params import load_params
    from audit.store import Store

    city = load_params(PARAMS).city_code
    return [c for c in Store.open(store).counties() if c != city]


# --- floor ------------------------------------------------------------------------------------


def kernel_floor(samples: int = 5) -> float:
    """Median seconds of: start a kernel, import pandas and pandera.pandas, shut it down."""
    from jupyter_client.manager import start_new_kernel

    times = []
    for _ in range(samples):
        started = time.perf_counter()
        manager, client = start_new_kernel(kernel_name="python3")
        try:
            reply = client.execute_interactive("import pandas, pandera.pandas", timeout=120)
            assert reply["content"]["status"] == "ok", reply["content"]
        finally:
            client.stop_channels()
            manager.shutdown_kernel(now=False)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


# --- the batch and the loop -------------------------------------------------------------------


class BatchFailed(RuntimeError):
    """``audit batch`` did not finish with every unit ok, so its wall time is not a timing."""


def batch_wall(store: Path, out: Path, run_id: str, jobs: int, *extra: str) -> tuple[float, dict]:
    """Wall time and manifest of ``audit batch`` into ``out/run_id``; :class:`BatchFailed` unless all ok."""
    shutil.rmtree(out / run_id, ignore_errors=True)
    cmd = [str(BIN / "audit"), "batch", "--store", str(store), "--params", str(PARAMS), "--out", str(out)]
    cmd += ["--run-id", run_id, "--jobs", str(jobs), *extra]
    started = time.perf_counter()
    done = subprocess.run(cmd, cwd=ROOT, env=_env(), capture_output=True, text=True)
    seconds = time.perf_counter() - started
    return seconds, finished(out / run_id, done.returncode, done.stderr)


def finished(run_dir: Path, returncode: int, stderr: str) -> dict:
    """The manifest of a batch that exited 0 with every unit ok; :class:`BatchFailed` saying why if not."""
    # exit 1 means a county, the roll-up or the combined register failed: finished, but not a clean run
    path = run_dir / "manifest.json"
    manifest = json.loads(path.read_text(encoding="utf-8")) if path.exists() else None
    if returncode == 0 and manifest is not None and manifest.get("status") == "ok":
        return manifest
    lines = stderr.strip().splitlines()
    why = [f"audit batch {run_dir.name} exited {returncode} and wrote no manifest", *lines[-1:]]
    if manifest is not None:
        why = [f"audit batch {run_dir.name} exited {returncode} with status {manifest.get('status')!r}"]
        why += [
            f"{u.get('code')} {u.get('status')}: {u.get('reason') or 'no reason given'}"
            for u in manifest.get("units", [])
            if u.get("status") != "ok"
        ]
        if manifest.get("findings_error"):
            why.append(f"findings not combined: {manifest['findings_error']}")
    tail = "\n".join(lines[-30:])
    raise BatchFailed("; ".join(why) + (f"\nstderr:\n{tail}" if tail else ""))


def pdf_wall(run_dir: Path, jobs: int) -> tuple[float, int]:
    """Wall time of printing every report.html of a run with Chromium, ``jobs`` at a time."""
    from audit.renderers.pdf import render_pdf

    pages = sorted(run_dir.glob("*/report.html"))
    started = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(jobs) as pool:
        list(pool.map(lambda p: render_pdf(p, p.with_name("report.bench.pdf")), pages))
    return time.perf_counter() - started, len(pages)


def loop_wall(store: Path, counties: list[str], city_code: str, out: Path) -> float:
    """Wall time of papermill CLI + nbconvert CLI for every notebook, one after the other."""
    shutil.rmtree(out, ignore_errors=True)
    started = time.perf_counter()
    for county, notebook in [(c, a) for c in counties for a in AREAS] + [(city_code, "city")]:
        folder = out / ("city" if notebook == "city" else county)
        folder.mkdir(parents=True, exist_ok=True)
        executed = folder / f"{notebook}.ipynb"
        raw = {"county": county, "store": str(store), "params": str(PARAMS), "out": str(folder)}
        raw |= {"lang": "zh", "pii": "masked", "run_id": "loop"}
        cmd = [str(BIN / "papermill"), str(ROOT / "notebooks" / f"{notebook}.ipynb"), str(executed)]
        cmd += [arg for key, value in raw.items() for arg in ("-r", key, value)]  # -r keeps codes text
        _loop_step([*cmd, "--no-progress-bar"])
        _loop_step([str(BIN / "jupyter"), "nbconvert", "--to", "html", "--no-input", str(executed)])
    return time.perf_counter() - started


def _loop_step(cmd: list[str]) -> None:
    done = subprocess.run(cmd, cwd=ROOT, env=_env(), capture_output=True, text=True)
    if done.returncode != 0:  # a failed notebook ends the loop: its time would be no timing
        raise RuntimeError(f"{Path(cmd[0]).name} failed ({done.returncode}):\n{done.stderr[-2000:]}")


# --- memory by store size ---------------------------------------------------------------------


def synthetic_store(demo: Path, target: Path, n_counties: int) -> list[str]:
    """A copy of the demo store with ``n_counties`` counties: extra ones copy a demo county's rows."""
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(demo, target)
    manifest = json.loads((target / "manifest.json").read_text(encoding="utf-8"))
    real = counties_of(demo)
    extra = n_counties - len(real)
    new_codes = [f"5499{i:02d}" for i in range(extra)] if extra > 0 else []
    for i, code in enumerate(new_codes):
        source = real[i % len(real)]
        for table, entry in manifest["tables"].items():
            held = entry.get("counties", {})
            if source not in held:
                continue
            src = target / "tables" / table / f"county_code={source}" / "part-0.parquet"
            data = pq.read_table(src)
            column = data.schema.get_field_index("county_code")
            data = data.set_column(column, "county_code", pa.array([code] * data.num_rows, pa.string()))
            dest = target / "tables" / table / f"county_code={code}" / "part-0.parquet"
            dest.parent.mkdir(parents=True)
            pq.write_table(data, dest)
            held[code] = held[source]
    quality = target / "quality" / "issues.parquet"
    if quality.exists() and new_codes:  # the log grows with the counties too
        log = pq.read_table(quality)
        copies = [log]
        for i, code in enumerate(new_codes):
            rows = log.filter(pc.equal(log["county_code"], real[i % len(real)]))
            index = rows.schema.get_field_index("county_code")
            copies.append(
                rows.set_column(index, "county_code", pa.array([code] * rows.num_rows, pa.string()))
            )
        pq.write_table(pa.concat_tables(copies), quality)
    (target / "manifest.json").write_text(
        json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8"
    )
    return [*real, *new_codes]


# runs in the kernel, whose own VmHWM it reads: ru_maxrss there would be its launcher's
_PEAK = f"{inspect.getsource(peak_mb)}\nprint('PEAK_MB', peak_mb())"


def kernel_peak_mb(store: Path, county: str, out: Path) -> float:
    """Peak RSS (MB) of the kernels running one county's area notebooks (the largest of the three)."""
    import nbformat

    from audit.notebook_runs import execute_notebook
    from audit.runspec import ALLOWED_ROOTS_ENV

    out.mkdir(parents=True, exist_ok=True)
    # the kernels may read the store and write ``out``, wherever the caller put them
    roots = os.pathsep.join(dict.fromkeys(str(p.resolve()) for p in (store, out)))
    peaks = []
    for area in AREAS:
        book = nbformat.read(ROOT / "notebooks" / f"{area}.ipynb", as_version=4)
        book.cells.append(nbformat.v4.new_code_cell(_PEAK))
        probe = out / f"{area}.probe.ipynb"
        nbformat.write(book, probe)
        parameters = {"county": county, "store": str(store), "params": str(PARAMS), "out": str(out)}
        parameters |= {"lang": "zh", "pii": "masked", "seed": None, "run_id": "memory"}
        result = execute_notebook(
            probe, out / f"{area}.ipynb", parameters, timeout=600, cwd=out, env={ALLOWED_ROOTS_ENV: roots}
        )
        executed = nbformat.read(result.output, as_version=4)
        text = "".join(o.get("text", "") for o in executed.cells[-1].outputs)
        peaks.append(float(text.split("PEAK_MB")[1].split()[0]))
    return max(peaks)


# --- the report -------------------------------------------------------------------------------


def estimate(wall: float, cores: int, pdf_cpu: float, n_counties: int) -> dict:
    """Paper estimate for China's county-level units on N workers, from this run's cost per county.

    A county costs its share of this run's core-seconds (the wall time × the cores it used,
    over its counties): rule runs, notebooks, HTML reports, the roll-up and the batch's own
    overhead, since job times alone would miss the overhead and, with more workers than
    cores, count waiting as work. PDFs are timed apart and added. Lhasa's roll-up covers 10
    counties; a prefecture-level city averages about 8.6 (2,850 / 333), close enough to keep.
    """
    per_county = wall * cores / n_counties + pdf_cpu
    cpu = COUNTIES_IN_CHINA * per_county
    rows = {"cpu_hours": round(cpu / 3600, 2), "core_s_per_county": round(per_county, 2)}
    for workers in (2, 8, 32, 128):
        rows[f"hours_on_{workers}_workers"] = round(cpu / workers / 3600, 2)
    return rows


def main(argv: list[str] | None = None) -> int:
    """Run every measurement and print the figures against their targets."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--jobs", type=int, default=default_workers(), help="batch workers (audit batch's default)"
    )
    parser.add_argument("--keep", action="store_true", help="keep benchmarks/work for inspection")
    parser.add_argument("--skip-loop", action="store_true", help="skip the slow sequential loop")
    parser.add_argument("--skip-memory", action="store_true")
    args = parser.parse_args(argv)
    WORK.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("AUDIT_ALLOWED_ROOTS", str(WORK))
    from audit.params import load_params

    city_code = load_params(PARAMS).city_code
    store = demo_store(WORK)
    counties = counties_of(store)
    n_notebooks = len(counties) * len(AREAS) + 1
    cores = args.jobs
    figures: dict = {"cores": cores, "counties": len(counties), "notebooks": n_notebooks}

    per_kernel = kernel_floor()
    figures["kernel_floor_s"] = round(per_kernel, 3)
    figures["floor_s"] = round(per_kernel * n_notebooks / usable_cores(cores), 2)

    runs = WORK / "runs"
    seconds, manifest = batch_wall(store, runs, "bench-html", cores, "--formats", "html")
    figures["batch_s"] = round(seconds, 2)
    jobs = manifest["jobs"]
    notebook_seconds = [j["seconds"] for j in jobs if j["kind"] == "notebook"]
    report_seconds = [j["seconds"] for j in jobs if j["kind"] == "report"]
    city = next(j["seconds"] for j in jobs if j["key"] == "city/city")
    figures["job_median_s"] = {
        "notebook": round(statistics.median(notebook_seconds), 2),
        "report_html": round(statistics.median(report_seconds), 2),
        "city_notebook": round(city, 2),
    }
    pdf_seconds, pages = pdf_wall(runs / "bench-html", cores)
    figures["pdf_s"] = round(pdf_seconds, 2)
    figures["pdf_pages"] = pages
    figures["batch_over_floor"] = round(figures["batch_s"] / figures["floor_s"], 2)

    if not args.skip_loop:
        figures["loop_s"] = round(loop_wall(store, counties, city_code, WORK / "loop"), 2)
        figures["loop_over_batch"] = round(figures["loop_s"] / figures["batch_s"], 2)

    if not args.skip_memory:
        peaks = {}
        for n in (10, 100):  # the demo has 10 counties (and the city bureau): "10" is the demo as it is
            target = WORK / f"store-{n}"
            codes = synthetic_store(store, target, n)
            peaks[len(codes)] = round(kernel_peak_mb(target, "540102", WORK / f"memory-{n}"), 1)
        small, large = sorted(peaks)
        figures["kernel_peak_mb_by_store_counties"] = peaks
        figures["memory_100_over_10"] = round(peaks[large] / peaks[small], 3)

    pdf_cpu = pdf_seconds * usable_cores(cores) / pages
    figures["estimate_china"] = estimate(figures["batch_s"], usable_cores(cores), pdf_cpu, len(counties))
    (WORK / "batch_bench.json").write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(figures, indent=2))
    print(
        f"batch / floor = {figures['batch_over_floor']} (target <= 1.25); "
        + (f"loop / batch = {figures['loop_over_batch']} (target >= 1.8); " if "loop_s" in figures else "")
        + (
            f"memory 100/10 = {figures['memory_100_over_10']} (target <= 1.2)"
            if "memory_100_over_10" in figures
            else ""
        )
    )
    if not args.keep:
        for name in ("runs", "loop", "memory-10", "memory-100", "store-10", "store-100"):
            shutil.rmtree(WORK / name, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
