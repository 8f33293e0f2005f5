"""The speed and memory targets of the issue as a registry: each measures ours and its peer in one run.

A target is a function ``(Session) -> Outcome`` registered with :func:`target`. It measures
every figure ``repeat`` times (median, min, max), measures the tool a user would pick instead
in the same run, and states its goals as ratios against the bound the issue sets. Heavy work
runs in child processes (``python -m benchmarks.suite --child NAME ...``) so that the suite
process never holds a 17 M-row ingest; every peak RSS is read by :func:`peak_mb`. Only the
standard library is imported at the top: a child's memory must not include Great Expectations.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
import traceback
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from audit.batch.executors import default_workers

ROOT = Path(__file__).resolve().parents[1]
PARAMS = ROOT / "params" / "lhasa-2020.yaml"
BIN = Path(sys.executable).parent
MB = 2**20
OUR_CODE = str(ROOT / "src" / "audit")  # where a profile's "our code" lines come from

# The bounds.
INGEST_ROWS_PER_S = 2_000_000
INGEST_PEAK_OVER_FRAME = 2.0
OURS_OVER_GE = 10.0
BATCH_OVER_FLOOR = 1.25
LOOP_OVER_BATCH = 1.8
MEMORY_100_OVER_10 = 1.2
STORE_SIZES = (10, 100)  # counties in the two stores of the memory target
MEMORY_COUNTY = "540102"


# --- what a target returns ----------------------------------------------------------------------


@dataclass
class Figure:
    """One measured quantity over repeated runs; ``peer_of`` names the figure of ours it stands against."""

    label: str
    unit: str
    runs: list[float]
    higher_is_better: bool = False
    peer_of: str | None = None
    note: str = ""

    @property
    def median(self) -> float:
        """The median of the runs."""
        return statistics.median(self.runs)

    @property
    def low(self) -> float:
        """The smallest run."""
        return min(self.runs)

    @property
    def high(self) -> float:
        """The largest run."""
        return max(self.runs)


@dataclass(frozen=True)
class Goal:
    """A bound of the issue: ``value`` must be at least (or at most) ``bound``."""

    label: str
    value: float
    bound: float
    at_least: bool
    unit: str = ""

    @property
    def met(self) -> bool:
        """Whether the measured value is within the bound."""
        return self.value >= self.bound if self.at_least else self.value <= self.bound

    @property
    def sign(self) -> str:
        """The comparison as a symbol."""
        return "≥" if self.at_least else "≤"


@dataclass
class Outcome:
    """What a target measured: the setup used, the figures, the goals and the text read off them."""

    name: str
    title: str
    setup: list[str] = field(default_factory=list)
    figures: list[Figure] = field(default_factory=list)
    goals: list[Goal] = field(default_factory=list)
    analysis: list[str] = field(default_factory=list)
    profile: list[str] = field(default_factory=list)
    tables: list[tuple[str, list[str], list[list[str]]]] = field(default_factory=list)
    seconds: float = 0.0
    error: str | None = None
    reason: str = ""  # the error's first line, for the summary

    def figure(self, label: str) -> Figure:
        """The figure called ``label``."""
        return next(f for f in self.figures if f.label == label)


@dataclass
class Session:
    """The settings of one suite run, and measurements two targets share (the local batch)."""

    work: Path
    scale: int = 100
    repeat: int = 3
    persons: int = 85_000
    counties: int | None = None
    peer_rows: int = 2_000_000
    jobs: int = field(default_factory=default_workers)  # what `audit batch` uses by default
    profile: bool = True
    loop: bool = True
    shared: dict[str, Any] = field(default_factory=dict)

    def once(self, key: str, compute: Callable[[], Any]) -> Any:
        """``compute()`` the first time ``key`` is asked for in this session; its value or error after."""
        # a failed local batch fails the dask target too, without running the batch again
        if key not in self.shared:
            try:
                self.shared[key] = compute()
            except Exception as exc:
                self.shared[key] = exc
                raise
        found = self.shared[key]
        if isinstance(found, Exception):
            raise found
        return found


@dataclass(frozen=True)
class Target:
    """A registered benchmark target."""

    name: str
    title: str
    measure: Callable[[Session], Outcome]


TARGETS: dict[str, Target] = {}


def target(name: str, title: str) -> Callable[[Callable[[Session], Outcome]], Callable[[Session], Outcome]]:
    """Register a target function under ``name``, in the order of definition."""

    def add(fn: Callable[[Session], Outcome]) -> Callable[[Session], Outcome]:
        if name in TARGETS:
            raise ValueError(f"target {name!r} is registered twice")
        TARGETS[name] = Target(name, title, fn)
        return fn

    return add


def run_target(name: str, session: Session) -> Outcome:
    """Measure one target; an exception becomes the outcome's error, not the end of the suite."""
    entry = TARGETS[name]
    started = time.perf_counter()
    try:
        outcome = entry.measure(session)
    except Exception as exc:
        # the innermost frames say where it broke; the message ends the traceback
        reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        outcome = Outcome(name, entry.title, error=traceback.format_exc(limit=-8), reason=reason)
    outcome.seconds = time.perf_counter() - started
    return outcome


# --- helpers ------------------------------------------------------------------------------------


def allow(work: Path) -> None:
    """Let notebooks and ``audit batch`` started from here use ``work``, even outside the project."""
    listed = [p for p in os.environ.get("AUDIT_ALLOWED_ROOTS", "").split(os.pathsep) if p]
    if str(work) not in listed:
        os.environ["AUDIT_ALLOWED_ROOTS"] = os.pathsep.join([*listed, str(work)])


def peak_mb(pid: int | str = "self") -> float:
    """Peak resident memory in MB of a process, this one by default: ``VmHWM`` of ``/proc/PID/status``."""
    # Never ru_maxrss: on Linux a child inherits its parent's over fork and exec, so a small
    # process started by a big one reports the big one's peak. Self-contained: a kernel runs its source.
    with open(f"/proc/{pid}/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmHWM:")) / 1024


def usable_cores(jobs: int) -> int:
    """Workers that can run at once: ``jobs``, but no more than the cores this process may use."""
    return min(jobs, len(os.sched_getaffinity(0)))


def _env(work: Path) -> dict[str, str]:
    allow(work)
    return {
        **os.environ,
        "PYTHONWARNINGS": "ignore",
        "PYTHONPATH": os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p),
    }


def child(work: Path, name: str, *args: object) -> dict[str, Any]:
    """Run ``--child name args`` in a fresh interpreter and return the JSON it prints last."""
    cmd = [sys.executable, "-m", "benchmarks.suite", "--child", name, *map(str, args)]
    done = subprocess.run(cmd, cwd=ROOT, env=_env(work), capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"child {name} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def timed(fn: Callable[[], Any], repeat: int) -> tuple[list[float], Any]:
    """Seconds of ``repeat`` calls of ``fn`` and the last call's value."""
    runs, value = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        value = fn()
        runs.append(time.perf_counter() - started)
    return runs, value


@dataclass
class Profile:
    """What pyinstrument saw: readable lines, and our functions with their share of the time."""

    lines: list[str] = field(default_factory=list)
    parts: list[tuple[str, float]] = field(default_factory=list)


def hot_spots(session: Any, top: int = 8) -> Profile:
    """Where a pyinstrument session spent its time: our functions inclusive, then any by self time."""
    root = session.root_frame()
    total = root.time or 1.0
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()

    def walk(frame: Any, open_keys: frozenset[str]) -> None:
        key = f"{frame.function} ({frame.file_path_short}:{frame.line_no})"
        if not frame.is_synthetic:
            own[key] += frame.total_self_time
            # count a function once per call chain, so recursion does not add up to more than 100 %
            if (frame.file_path or "").startswith(OUR_CODE) and key not in open_keys:
                inclusive[key] += frame.time
            open_keys = open_keys | {key}
        for sub in frame.children:
            walk(sub, open_keys)

    walk(root, frozenset())
    lines = [f"profiled {total:.1f} s of the main thread (threads it waits on show as waiting)"]
    lines += [f"our code, inclusive: {k} {v:.2f} s ({v / total:.0%})" for k, v in inclusive.most_common(top)]
    lines += [f"self time: {k} {v:.2f} s ({v / total:.0%})" for k, v in own.most_common(top)]
    # the entry points hold everything; the parts worth naming are below them
    parts = [(k.split(" (")[0], v / total) for k, v in inclusive.most_common() if v / total < 0.9]
    return Profile(lines, parts)


@contextlib.contextmanager
def profiled() -> Iterator[Profile]:
    """Profile the block with pyinstrument; the :class:`Profile` yielded is filled when it ends."""
    from pyinstrument import Profiler

    found = Profile()
    profiler = Profiler(interval=0.005)
    profiler.start()
    try:
        yield found
    finally:
        profiler.stop()
        spots = hot_spots(profiler.last_session)
        found.lines, found.parts = spots.lines, spots.parts


def _audit(*args: object) -> None:
    done = subprocess.run([str(BIN / "audit"), *map(str, args)], cwd=ROOT, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"audit {args[0]} failed ({done.returncode}):\n{done.stderr[-3000:]}")


def rate(value: float) -> str:
    """Rows per second, readably."""
    return f"{value / 1e6:.2f} M" if value >= 1e5 else f"{value / 1e3:.1f} k"


# --- 1. ingest + validation ---------------------------------------------------------------------

TABLE = "relief_payments"
PLANTED = {"payment_id": 2, "person_id": 1, "programme": 1, "period": 1, "amount_yuan": 1}
"""Failing values planted at the top of the frame, by column: every tool must find them."""


def demo_submission(work: Path, scale: int) -> Path:
    """The Parquet demo submission at ``scale``, generated once per work folder."""
    folder = work / f"ingest-scale{scale}" / "submission"
    done = folder / ".complete"
    if not done.exists():
        shutil.rmtree(folder, ignore_errors=True)
        _audit("demo", "--out", folder, "--scale", scale, "--format", "parquet")
        done.touch()
    return folder


def plant_errors(frame: Any) -> None:
    """Make the first rows fail the checks every tool runs (see :data:`PLANTED`)."""
    if len(frame) < 8:
        raise ValueError("the frame needs at least 8 rows to plant errors in")
    col = frame.columns.get_loc
    frame.iat[1, col("payment_id")] = frame.iat[0, col("payment_id")]
    person = frame.iat[2, col("person_id")]
    frame.iat[2, col("person_id")] = person[:17] + ("0" if person[17] != "0" else "1")
    frame.iat[3, col("programme")] = "其他"
    frame.iat[4, col("period")] = "2020-13"
    frame.iat[5, col("amount_yuan")] = -1.0


def found_planted(counts: dict[str, int]) -> bool:
    """Whether failure counts keyed ``check:column`` (or by column) hold every planted error."""
    by_column: Counter[str] = Counter()
    for key, n in counts.items():
        by_column[key.rsplit(":", 1)[-1]] += n
    return all(by_column[column] >= n for column, n in PLANTED.items())


def our_counts(validation: Any) -> dict[str, int]:
    """Failure counts of ``audit.schemas.validate`` as ``check:column`` (flag-only checks left out)."""
    failures = validation.failures
    hard = failures[failures["action"] == "quarantine"]
    keys = hard["check"].astype(str) + ":" + hard["column"].astype(str)
    return {k: int(v) for k, v in keys.value_counts().items()}


@target("ingest", "Ingest + validation of relief payments, against Great Expectations and pandera")
def ingest_target(s: Session) -> Outcome:
    """Rows/s and peak memory of ``audit.ingest.ingest``; validation alone against its peers."""
    out = Outcome("ingest", TARGETS["ingest"].title)
    source = demo_submission(s.work, s.scale)
    store = s.work / f"ingest-scale{s.scale}" / "store"
    children = []
    for _ in range(s.repeat):
        shutil.rmtree(store, ignore_errors=True)
        children.append(child(s.work, "ingest", source, store))
    # `audit validate`: the same reading, repairs and checks, without writing a store
    checks_only = [child(s.work, "ingest", source, store, "validate") for _ in range(s.repeat)]
    # in a child too: the 17 M-row frame must not stay in this process for the targets after it
    checked = child(s.work, "validation", store, s.peer_rows, s.repeat, int(s.profile))
    rows, frame_mb, n = children[-1]["rows"], checked["frame_mb"], checked["rows"]
    out.setup += [
        f"`audit demo --scale {s.scale} --format parquet` (the issue's figure is scale 100), "
        f"ingested whole: {rows:,} rows loaded over every table, "
        f"{children[-1]['relief_rows']:,} of them relief payments",
        "each ingest in a fresh child process; peak = its `VmHWM`; frame = the relief payments read back "
        f"from the store, `memory_usage(deep=True)` = {frame_mb:,.0f} MB",
        f"validation compared on the first {n:,} relief payments (the same frame for every tool), with "
        f"{sum(PLANTED.values())} failing values planted at the top; peers skip our cents and Luhn checks",
    ]
    ingest_rate = Figure(
        "ingest + validation", "rows/s", [c["rows"] / c["seconds"] for c in children], higher_is_better=True
    )
    validate_rate = Figure(
        "validation without a store (`audit validate`)",
        "rows/s",
        [c["rows"] / c["seconds"] for c in checks_only],
        higher_is_better=True,
    )
    peak = Figure("ingest peak RSS", "MB", [c["peak_mb"] for c in children])
    baseline = statistics.median(c["baseline_mb"] for c in children)
    ours_whole = Figure(
        "ours: `audit.schemas.validate`, whole frame",
        "rows/s",
        [checked["frame_rows"] / t for t in checked["whole_runs"]],
        higher_is_better=True,
    )
    compared: dict[str, Figure] = {}
    for key, tool in checked["tools"].items():
        compared[key] = Figure(
            tool["label"], "rows/s", [n / t for t in tool["runs"]], higher_is_better=True, note=tool["note"]
        )
        if key != "ours":
            compared[key].peer_of = checked["tools"]["ours"]["label"]
    out.figures = [ingest_rate, validate_rate, peak, ours_whole, *compared.values()]
    speed = {key: figure.median for key, figure in compared.items()}
    ours = speed["ours"]
    over_frame = peak.median / frame_mb
    cores = len(os.sched_getaffinity(0))
    out.goals = [
        Goal(f"ingest on {cores} cores", ingest_rate.median, INGEST_ROWS_PER_S, True, "rows/s"),
        Goal(f"validation on {cores} cores", validate_rate.median, INGEST_ROWS_PER_S, True, "rows/s"),
        Goal("ingest peak RSS / frame", over_frame, INGEST_PEAK_OVER_FRAME, False),
        Goal("ours / Great Expectations (validation rows/s)", ours / speed["ge"], OURS_OVER_GE, True),
    ]
    missed = [tool["label"] for tool in checked["tools"].values() if not tool["found"]]
    out.analysis.append(
        "Every tool found the planted errors."
        if not missed
        else f"Did not find every planted error: {', '.join(missed)} (its speed is not comparable)."
    )
    from audit.readers import BLOCK_ROWS

    ingest_s = statistics.median(c["seconds"] for c in children)
    validate_s = statistics.median(checked["whole_runs"])
    out.analysis.append(
        f"Ingest ran at {rate(ingest_rate.median)} rows/s ({ingest_rate.median / INGEST_ROWS_PER_S:.2f} × "
        f"the target), validation without a store at {rate(validate_rate.median)} rows/s "
        f"({validate_rate.median / INGEST_ROWS_PER_S:.2f} ×); `audit.schemas.validate` on the loaded relief "
        f"payments in one piece takes {validate_s:.1f} s against an ingest's {ingest_s:.1f} s (ingest "
        f"validates blocks of {BLOCK_ROWS['.parquet']:,} Parquet rows as they are read)."
    )
    if s.profile and not out.goals[0].met:
        shutil.rmtree(store, ignore_errors=True)
        profile = child(s.work, "ingest", source, store, "profile")
        out.profile += ["ingest (one more run, in a child):", *profile["profile"]]
        parts = ", ".join(f"`{name}` {share:.0%}" for name, share in profile["parts"][:5])
        out.analysis.append(f"Missed. The largest parts of an ingest in our code (profile below): {parts}.")
    out.analysis.append(
        f"Peak RSS {peak.median:,.0f} MB is {over_frame:.2f} × the frame ({frame_mb:,.0f} MB); "
        f"the child held {baseline:,.0f} MB after its imports, before reading a row."
    )
    out.analysis.append(
        f"On the same {n:,} rows ours ran at {rate(ours)} rows/s, {ours / speed['ge']:.1f} × Great "
        f"Expectations; pandera with the element-wise check digit took {ours / speed['pandera']:.1f} × our "
        f"time, and pandera running our vectorised checks {ours / speed['pandera_ours']:.2f} ×. Without the "
        f"check-digit expectation Great Expectations ran at {rate(speed['ge_pattern'])} rows/s."
    )
    if checked["profile"]:
        out.profile += [
            "`audit.schemas.validate` on the compared rows, on one thread so the profile sees it:"
        ]
        out.profile += checked["profile"]
    return out


def _child_validation(store: str, peer_rows: str, repeat: str, profile: str) -> dict[str, Any]:
    from benchmarks import peers

    from audit import schemas
    from audit.store import Store

    frame = Store.open(store).read(TABLE)
    frame_mb = float(frame.memory_usage(deep=True).sum()) / MB
    plant_errors(frame)
    whole_runs, _ = timed(lambda: schemas.validate(TABLE, frame), int(repeat))
    sample = frame.iloc[: int(peer_rows)]
    ge, ge_pattern = peers.GreatExpectations(), peers.GreatExpectations(check_digit=False)
    ew = peers.PanderaElementWise()
    tools: dict[str, tuple[str, Callable[[], dict[str, int]], str]] = {
        "ours": ("ours: `audit.schemas.validate`", lambda: our_counts(schemas.validate(TABLE, sample)), ""),
        "ge": (
            f"Great Expectations {ge.version}",
            lambda: ge.validate(sample),
            f"{ge.checks} expectations, check digit as a custom column map expectation",
        ),
        "pandera": (
            f"pandera {ew.version}, element-wise check digit",
            lambda: ew.validate(sample),
            f"{ew.checks} checks",
        ),
        "ge_pattern": (
            f"Great Expectations {ge.version} without the check digit",
            lambda: ge_pattern.validate(sample) | {"cannot see it:person_id": 1},  # the planted digit
            "what GE checks on its own: the ID's pattern only",
        ),
        "pandera_ours": (
            f"pandera {ew.version} running our schema (vectorised checks)",
            lambda: peers.pandera_failures(schemas.SCHEMAS[TABLE], sample),
            "`schema.validate(lazy=True)`",
        ),
    }
    answer: dict[str, Any] = {}
    for key, (label, run, note) in tools.items():
        runs, counts = timed(run, int(repeat))
        answer[key] = {"label": label, "note": note, "runs": runs, "found": found_planted(counts)}
    found = Profile()
    ratio = statistics.median(answer["ge"]["runs"]) / statistics.median(answer["ours"]["runs"])
    if int(profile) and ratio < OURS_OVER_GE:
        with one_thread(schemas), profiled() as found:
            schemas.validate(TABLE, sample)
    return {
        "frame_mb": frame_mb,
        "frame_rows": len(frame),
        "rows": len(sample),
        "whole_runs": whole_runs,
        "tools": answer,
        "profile": found.lines,
    }


@contextlib.contextmanager
def one_thread(schemas: Any) -> Iterator[None]:
    """Run ``schemas.validate`` on one thread: pyinstrument sees only the thread it started on."""
    saved = schemas.WORKERS
    schemas.WORKERS = 1
    try:
        yield
    finally:
        schemas.WORKERS = saved


def _child_ingest(source: str, store: str, mode: str = "") -> dict[str, Any]:
    """One ingest (``mode`` "validate": without a store, as ``audit validate``), timed."""
    from audit.ingest import ingest

    target = None if mode == "validate" else store
    baseline = peak_mb()
    started = time.perf_counter()
    found = Profile()
    if mode == "profile":
        with profiled() as found:
            result = ingest(source, target)
    else:
        result = ingest(source, target)
    seconds = time.perf_counter() - started
    return {
        "seconds": seconds,
        "rows": sum(sheet.rows_loaded for sheet in result.sheets),
        "relief_rows": result.table_counts("relief_payments")["rows_loaded"],
        "peak_mb": peak_mb(),
        "baseline_mb": baseline,
        "profile": found.lines,
        "parts": found.parts,
    }


# --- 2. rules -----------------------------------------------------------------------------------


@target("rules", "Rules on one county of about a million relief payments, on one core")
def rules_target(s: Session) -> Outcome:
    """Seconds of ``run_rules(scope='county')`` in a child pinned to one CPU, on rules_bench's county."""
    out = Outcome("rules", TARGETS["rules"].title)
    got = child(s.work, "rules", s.persons, s.repeat)
    out.setup += [
        f"`benchmarks.rules_bench.make_county(persons={s.persons:,})`: {got['payments']:,} relief payments, "
        f"{got['roll']:,} people on the roll",
        f"`run_rules(tables, params, scope='county')` in a child process pinned to CPU {got['cpu']} "
        "(`os.sched_setaffinity`, so every thread shares one core)",
    ]
    out.figures = [
        Figure("ours: `run_rules`, every county-scope rule", "s", got["runs"]),
        Figure("input bundle the rules receive (`Tables(frames)`)", "s", got["bundle"]),
    ]
    seconds = out.figures[0].median
    slowest = sorted(got["per_rule"].items(), key=lambda item: -item[1])[:5]
    out.analysis.append(
        f"The issue sets no bound and names no peer for this target: it is measured to be tracked. "
        f"{got['payments']:,} payments took {seconds:.2f} s ({rate(got['payments'] / seconds)} rows/s); "
        f"{len(got['per_rule'])} rules timed one by one sum to {sum(got['per_rule'].values()):.2f} s, the "
        "slowest: " + ", ".join(f"{rule} {t:.2f} s" for rule, t in slowest) + "."
    )
    return out


def _child_rules(persons: str, repeat: str) -> dict[str, Any]:
    cpu = min(os.sched_getaffinity(0))
    os.sched_setaffinity(0, {cpu})  # before numpy and Arrow start their thread pools
    from benchmarks.rules_bench import COUNTY, make_county

    from audit.params import load_params
    from audit.rules import RULES, Tables, run_rule, run_rules

    frames = make_county(int(persons), seed=1)
    params = load_params(PARAMS)
    bundle, tables = timed(lambda: Tables(frames), int(repeat))
    runs, _ = timed(lambda: run_rules(tables, params, scope="county", county=COUNTY), int(repeat))
    per_rule = {}
    for rule in RULES.select(scope="county"):
        started = time.perf_counter()
        run_rule(rule.id, tables, params, scope="county", county=COUNTY)
        per_rule[rule.id] = time.perf_counter() - started
    return {
        "cpu": cpu,
        "payments": len(frames["relief_payments"]),
        "roll": len(frames["beneficiaries"]),
        "runs": runs,
        "bundle": bundle,
        "per_rule": per_rule,
    }


# --- 3. the demo batch --------------------------------------------------------------------------


def batch_inputs(s: Session) -> dict[str, Any]:
    """The demo store (batch_bench's), the counties to audit and the extra ``audit batch`` arguments."""

    def make() -> dict[str, Any]:
        from benchmarks import batch_bench

        from audit.params import load_params

        store = batch_bench.demo_store(s.work)
        counties = list(batch_bench.counties_of(store))
        city = load_params(PARAMS).city_code
        extra: list[str] = []
        if s.counties is not None and s.counties < len(counties):
            # the smallest counties first: a subset is for a quick run; the city's own unit last,
            # since `audit batch --counties 540100` alone stopped on findings shared with the roll-up
            manifest = json.loads((store / "manifest.json").read_text(encoding="utf-8"))
            payments = manifest["tables"]["relief_payments"]["counties"]
            counties = sorted(counties, key=lambda c: (c == city, payments.get(c, 0)))[: s.counties]
            extra = ["--counties", *counties]
        return {
            "store": store,
            "counties": counties,
            "extra": extra,
            "city": city,
            "notebooks": len(counties) * 3 + 1,  # three areas per county and the roll-up
        }

    return s.once("batch-inputs", make)


def local_batch(s: Session) -> dict[str, Any]:
    """Wall times of ``audit batch --formats html`` (local executor), and the last run's wall and jobs."""

    def make() -> dict[str, Any]:
        from benchmarks import batch_bench

        given = batch_inputs(s)
        runs, manifest, run_dir = [], {}, s.work / "runs"
        for i in range(s.repeat):
            run_dir = s.work / "runs" / f"suite-local-{i}"
            extra = ["--formats", "html", *given["extra"]]
            # batch_wall raises unless every unit finished ok: a failed batch gives no timing
            seconds, manifest = batch_bench.batch_wall(
                given["store"], run_dir.parent, run_dir.name, s.jobs, *extra
            )
            runs.append(seconds)
        return {"runs": runs, "run_dir": run_dir, "jobs": manifest["jobs"]}

    return s.once("local-batch", make)


def pdf_runs(s: Session) -> dict[str, Any]:
    """Wall times of printing every report of the last local run with Chromium, and the page count."""

    def make() -> dict[str, Any]:
        from benchmarks import batch_bench

        run_dir = local_batch(s)["run_dir"]
        measured = [batch_bench.pdf_wall(run_dir, s.jobs) for _ in range(s.repeat)]
        return {"runs": [seconds for seconds, _ in measured], "pages": measured[-1][1]}

    return s.once("pdf", make)


@target(
    "batch",
    "The demo batch (every county × 3 areas + roll-up, HTML reports) against its floor and a CLI loop",
)
def batch_target(s: Session) -> Outcome:
    """Wall time of ``audit batch`` against the kernel floor and a sequential papermill + nbconvert loop."""
    from benchmarks import batch_bench

    out = Outcome("batch", TARGETS["batch"].title)
    given = batch_inputs(s)
    n, jobs, parallel = given["notebooks"], s.jobs, usable_cores(s.jobs)
    kernel = [batch_bench.kernel_floor(samples=1) for _ in range(s.repeat)]
    local = local_batch(s)
    loops = []
    for _ in range(s.repeat if s.loop else 0):
        loops.append(batch_bench.loop_wall(given["store"], given["counties"], given["city"], s.work / "loop"))
    pdf = pdf_runs(s)
    out.setup += [
        f"the demo store (`audit demo`, scale 1, ingested), {len(given['counties'])} counties × 3 area "
        f"notebooks + the roll-up = {n} notebooks, {jobs} workers; functions of `benchmarks/batch_bench.py`",
        "floor = one bare kernel start + `import pandas, pandera.pandas` + shutdown, "
        f"× {n} notebooks / {parallel} (workers, at most the cores), sampled in this run",
    ]
    if not s.loop:
        out.setup.append("the papermill + nbconvert loop was not measured (`--no-loop`)")
    batch = Figure("ours: `audit batch --formats html`", "s", local["runs"])
    floor = Figure(
        "floor", "s", [k * n / parallel for k in kernel], note="kernel start + imports × notebooks / cores"
    )
    out.figures = [batch, floor, Figure("one kernel start + imports + shutdown", "s", kernel)]
    out.goals = [Goal("batch / floor", batch.median / floor.median, BATCH_OVER_FLOOR, False)]
    if loops:
        loop = Figure(
            "papermill CLI + `jupyter nbconvert --to html` CLI, one notebook after another",
            "s",
            loops,
            peer_of=batch.label,
        )
        out.figures.append(loop)
        out.goals.append(Goal("loop / batch", loop.median / batch.median, LOOP_OVER_BATCH, True))
    out.figures.append(
        Figure(f"PDF: Chromium prints {pdf['pages']} reports, {jobs} at a time (separate)", "s", pdf["runs"])
    )
    costs, notebooks_s = cell_costs(local["run_dir"])
    share = ", ".join(f"{name} {seconds / notebooks_s:.0%}" for name, seconds in costs[:3])
    out.tables.append(
        (
            f"Where the notebooks' {notebooks_s:.0f} s went in the last local run (papermill's cell timings, "
            "summed over counties)",
            ["cell", "seconds", "share"],
            [[f"`{name}`", f"{seconds:.1f}", f"{seconds / notebooks_s:.0%}"] for name, seconds in costs[:8]],
        )
    )
    records = local["jobs"]
    notebook = [j["seconds"] for j in records if j["kind"] == "notebook"]
    report = [j["seconds"] for j in records if j["kind"] == "report"]
    busy, wall = sum(j["seconds"] for j in records), local["runs"][-1]  # both of the last run
    per_notebook, per_kernel = statistics.median(notebook), statistics.median(kernel)
    out.analysis.append(
        f"A notebook job took {per_notebook:.2f} s (median of {len(notebook)}), of which a bare kernel "
        f"start and the imports are {per_kernel:.2f} s; rendering a report took "
        f"{statistics.median(report):.2f} s (median of {len(report)}), which the floor does not count. "
        f"In the last run the jobs' own times sum to {busy:.1f} s, {busy / jobs:.1f} s over {jobs} "
        f"workers, against its wall of {wall:.1f} s: the pool was busy {busy / jobs / wall:.0%} of the wall."
    )
    if not out.goals[0].met:
        out.analysis.append(
            f"Missed: the batch took {batch.median / floor.median:.2f} × the floor. What bounds it is "
            f"the notebooks' own work above the kernel floor ({per_notebook - per_kernel:.2f} s each) "
            f"plus report rendering ({sum(report):.1f} s in all). The largest shares of the notebooks' "
            f"time (table below): {share}; the profile shows one notebook from the batch process's side."
        )
        if s.profile:
            folder = s.work / "profile-notebook"
            shutil.rmtree(folder, ignore_errors=True)
            county = given["counties"][0]
            got = child(s.work, "notebook", given["store"], county, folder)
            out.profile += [f"`execute_notebook(relief, county {county})` in a child:", *got["profile"]]
    if loops:
        out.analysis.append(
            f"The loop took {loop.median:.1f} s, {loop.median / batch.median:.2f} × the batch: every "
            "notebook pays a papermill process start and an nbconvert process start on top of its kernel."
        )
    return out


OUTSIDE_CELLS = "(outside the cells: kernel start, papermill, shutdown)"


def cell_costs(run_dir: Path) -> tuple[list[tuple[str, float]], float]:
    """Seconds per notebook cell over a run's executed notebooks (by area and first line), and their sum."""
    totals: Counter[str] = Counter()
    whole = 0.0
    for path in sorted(run_dir.glob("*/*.ipynb")):
        book = json.loads(path.read_text(encoding="utf-8"))
        duration = book["metadata"].get("papermill", {}).get("duration") or 0.0
        in_cells = 0.0
        for cell in book["cells"]:
            seconds = cell["metadata"].get("papermill", {}).get("duration") or 0.0
            if cell["cell_type"] != "code" or not seconds:
                continue
            source = "".join(cell["source"]).strip().splitlines() or [""]
            totals[f"{path.stem}: {source[0][:60]}"] += seconds
            in_cells += seconds
        totals[OUTSIDE_CELLS] += max(duration - in_cells, 0.0)
        whole += duration
    return totals.most_common(), whole


def _child_notebook(store: str, county: str, out: str) -> dict[str, Any]:
    from audit.notebook_runs import execute_notebook, notebook_path

    Path(out).mkdir(parents=True, exist_ok=True)
    parameters = {"county": county, "store": store, "params": str(PARAMS), "out": out, "lang": "zh"}
    parameters |= {"pii": "masked", "seed": None, "run_id": "profile"}
    with profiled() as found:
        execute_notebook(
            notebook_path("relief"), Path(out) / "relief.ipynb", parameters, timeout=600, cwd=out
        )
    return {"profile": found.lines}


# --- 4. a kernel's memory by store size ---------------------------------------------------------


@target("memory", "Peak memory of one county's kernel with a store of 10 counties and of 100")
def memory_target(s: Session) -> Outcome:
    """Peak RSS of one county's area kernels, the demo store against one padded to 100 counties."""
    from benchmarks import batch_bench

    out = Outcome("memory", TARGETS["memory"].title)
    store = batch_inputs(s)["store"]
    codes = {size: batch_bench.synthetic_store(store, s.work / f"store-{size}", size) for size in STORE_SIZES}
    runs = [(size, i) for size in STORE_SIZES for i in range(s.repeat)]

    def peak(run: tuple[int, int]) -> float:
        size, i = run
        folder = s.work / f"memory-{size}-{i}"
        shutil.rmtree(folder, ignore_errors=True)
        return child(s.work, "memory", s.work / f"store-{size}", MEMORY_COUNTY, folder)["peak_mb"]

    # each kernel reads its own peak, so kernels running side by side do not change the figures
    with concurrent.futures.ThreadPoolExecutor(s.jobs) as pool:
        peaks = dict(zip(runs, pool.map(peak, runs), strict=True))
    figures = [
        Figure(
            f"county {MEMORY_COUNTY}'s kernel, store of {len(codes[size])} counties",
            "MB",
            [peaks[size, i] for i in range(s.repeat)],
        )
        for size in STORE_SIZES
    ]
    small, large = figures
    large.peer_of = small.label
    out.setup += [
        "the demo store, and a copy padded with synthetic counties (copies of the demo's partitions "
        "under new codes, `batch_bench.synthetic_store`)",
        "peak = the largest `VmHWM` of the county's three area kernels, which each kernel reads from its "
        "own `/proc/self/status` in a cell appended to its notebook (`batch_bench.kernel_peak_mb`); "
        f"{s.jobs} of these runs at a time",
    ]
    out.figures = figures
    ratio = large.median / small.median
    out.goals = [Goal("peak with the large store / with the small", ratio, MEMORY_100_OVER_10, False)]
    grown = large.median - small.median
    out.analysis.append(
        f"The kernel peaked at {small.median:,.0f} MB with the small store and {large.median:,.0f} MB "
        f"with the large ({grown:+,.0f} MB, {ratio:.2f} ×)"
        + (
            "."
            if out.goals[0].met
            else ". Missed: the kernel's memory grows with the number of counties in the store, so "
            "something it loads is not limited to its own county's partitions."
        )
    )
    return out


def _child_memory(store: str, county: str, out: str) -> dict[str, Any]:
    from benchmarks import batch_bench

    return {"peak_mb": batch_bench.kernel_peak_mb(Path(store), county, Path(out))}


# --- 5. the batch on Dask -----------------------------------------------------------------------


@target("dask", "The demo batch on a Dask LocalCluster, and an estimate for China's county-level units")
def dask_target(s: Session) -> Outcome:
    """Wall time of ``audit batch --executor dask`` against the local executor, and the paper estimate."""
    from benchmarks import batch_bench

    out = Outcome("dask", TARGETS["dask"].title)
    given = batch_inputs(s)
    local = local_batch(s)
    runs = []
    for i in range(s.repeat):
        run_id = f"suite-dask-{i}"
        extra = ["--formats", "html", "--executor", "dask", *given["extra"]]
        runs.append(batch_bench.batch_wall(given["store"], s.work / "runs", run_id, s.jobs, *extra)[0])
    ours = Figure("ours: `audit batch --formats html`, local executor", "s", local["runs"])
    dask = Figure(
        f"`audit batch --formats html --executor dask` (LocalCluster, {s.jobs} workers)",
        "s",
        runs,
        peer_of=ours.label,
    )
    out.figures = [ours, dask]
    out.setup.append(
        f"the same {given['notebooks']} notebooks as the batch target; the cluster's start is inside "
        "the wall time"
    )
    ratio = dask.median / ours.median
    out.analysis.append(
        f"On Dask the batch took {dask.median:.1f} s, {ratio:.2f} × the local executor "
        "(the issue sets no bound)."
    )
    pdf = pdf_runs(s)
    pdf_cpu = statistics.median(pdf["runs"]) * usable_cores(s.jobs) / pdf["pages"]
    estimate = batch_bench.estimate(ours.median, usable_cores(s.jobs), pdf_cpu, len(given["counties"]))
    out.analysis.append(
        f"Estimate for China's {batch_bench.COUNTIES_IN_CHINA:,} county-level units in "
        f"{batch_bench.CITIES_IN_CHINA} prefecture-level cities (`batch_bench.estimate`): the local "
        f"batch's median wall × {usable_cores(s.jobs)} cores over {len(given['counties'])} counties is "
        f"{estimate['core_s_per_county'] - pdf_cpu:.2f} core-seconds per county (rule runs, notebooks, "
        f"HTML, the roll-up and the batch's overhead), plus {pdf_cpu:.2f} s per PDF: "
        f"{estimate['cpu_hours']:.1f} CPU hours in all. The Dask column multiplies by the {ratio:.2f} × "
        "measured above."
    )
    workers = sorted(int(k.split("_")[2]) for k in estimate if k.startswith("hours_on_"))
    rows = [
        [
            str(w),
            f"{estimate[f'hours_on_{w}_workers']:.2f}",
            f"{estimate[f'hours_on_{w}_workers'] * ratio:.2f}",
        ]
        for w in workers
    ]
    headers = ["workers", "hours, local executor", "hours, Dask"]
    out.tables.append((f"Estimate for {batch_bench.COUNTIES_IN_CHINA:,} county-level units", headers, rows))
    out.analysis.append(
        "Lhasa's counties are small (the demo holds about 190 k payments in all): a county of a million "
        "payments costs more per notebook (see the rules target), so read these hours as a lower bound."
    )
    return out


# --- the report ---------------------------------------------------------------------------------

NOTES_HEADING = "## Notes (hand-written)"
NOTES_PLACEHOLDER = (
    "_Filled in by hand after a full run; the suite keeps this section when it rewrites the file._"
)


def machine() -> dict[str, str]:
    """Cores, memory, CPU model and load average of this machine, now."""
    info = {"cores": f"{os.cpu_count()} ({len(os.sched_getaffinity(0))} usable)"}
    with contextlib.suppress(OSError):
        meminfo = Path("/proc/meminfo").read_text().split()
        info["memory"] = f"{int(meminfo[meminfo.index('MemTotal:') + 1]) / 2**20:.1f} GiB"
    with contextlib.suppress(OSError, StopIteration):
        cpuinfo = Path("/proc/cpuinfo").read_text().splitlines()
        info["cpu"] = next(line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name"))
    info["load"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
    return info


def versions() -> dict[str, str]:
    """Versions of Python and of every tool the targets measure."""
    import platform
    from importlib.metadata import PackageNotFoundError, version

    found = {"python": platform.python_version()}
    for name in ("audit", "pandas", "numpy", "pyarrow", "pandera", "papermill", "nbconvert", "nbclient",
                 "ipykernel", "great-expectations", "dask", "distributed", "pyinstrument"):  # fmt: skip
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            found[name] = "not installed"
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        chromium = subprocess.run(["chromium", "--version"], capture_output=True, text=True, timeout=30)
        found["chromium"] = chromium.stdout.strip().removeprefix("Chromium ").split()[0]
    return found


def revision() -> str:
    """The git commit of the project, with ``+ uncommitted changes`` when the tree is dirty."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
        )
        dirty = subprocess.run(["git", "status", "--porcelain"], cwd=ROOT, capture_output=True, text=True)
    except OSError:
        return "unknown"
    return head.stdout.strip() + (" + uncommitted changes" if dirty.stdout.strip() else "")


def value_text(value: float, unit: str) -> str:
    """A measured value in its unit, rounded for reading."""
    if unit == "rows/s":
        return f"{rate(value)} rows/s"
    if unit == "MB":
        return f"{value:,.0f} MB"
    return f"{value:.2f} {unit}"


def _row(cells: list[str]) -> str:
    return "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"


def _table(headers: list[str], rows: list[list[str]]) -> list[str]:
    return [_row(headers), _row(["---"] * len(headers)), *(_row(r) for r in rows)]


def goal_cells(goal: Goal) -> list[str]:
    """Measured, target, measured / target and met, as table cells."""
    met = "yes" if goal.met else "**missed**"
    value, bound = (value_text(v, goal.unit) if goal.unit else f"{v:.2f}" for v in (goal.value, goal.bound))
    return [value, f"{goal.sign} {bound}", f"{goal.value / goal.bound:.2f}", met]


def figure_rows(outcome: Outcome) -> list[list[str]]:
    """One table row per figure: median, min, max, runs and how ours compares with it."""
    rows = []
    for f in outcome.figures:
        versus = ""
        if f.peer_of:
            ours = outcome.figure(f.peer_of)
            factor = ours.median / f.median if f.higher_is_better else f.median / ours.median
            versus = f"{factor:.2f} ×"
        cells = [f.label, *(value_text(v, f.unit) for v in (f.median, f.low, f.high)), str(len(f.runs))]
        rows.append([*cells, versus, f.note])
    return rows


def render(outcomes: list[Outcome], context: dict[str, Any], notes: str) -> str:
    """RESULTS.md: machine, versions, a summary of every goal, then one section per target."""
    lines = [
        "# Benchmark results",
        "",
        f"Written by `{context['command']}` on {context['date']} (UTC), {context['minutes']:.0f} min; "
        f"code {context['revision']}. Everything above the hand-written notes is generated: rerun the "
        "command rather than edit it.",
        "",
        "## Machine and versions",
        "",
        *(f"- {k}: {v}" for k, v in context["machine"].items() if k != "load"),
        f"- load average (1, 5, 15 min) at start: {context['machine']['load']}; "
        f"at end: {context['load_end']}",
        f"- settings: {context['settings']}",
        "- versions: " + ", ".join(f"{k} {v}" for k, v in context["versions"].items()),
        "",
    ]
    if context["warning"]:
        lines += [f"**{context['warning']}**", ""]
    lines += ["## Summary", ""]
    summary = []
    for o in outcomes:
        if o.error:
            summary.append([o.name, "—", f"failed: {o.reason or 'see its section'}", "", "", ""])
        for g in o.goals:
            summary.append([o.name, g.label, *goal_cells(g)])
        if not o.goals and not o.error:
            summary.append([o.name, "no bound in the issue", "see below", "", "", ""])
    lines += _table(["target", "goal", "measured", "target", "measured / target", "met"], summary)
    lines += [
        "",
        "`ours vs this` = how many times better ours is than that row (time, memory or rows/s).",
        "",
    ]
    for o in outcomes:
        lines += [f"## {list(TARGETS).index(o.name) + 1}. {o.name}: {o.title}", ""]
        if o.error:
            lines += ["The target failed before it finished:", "", "```", o.error.rstrip(), "```", ""]
            continue
        lines += [*(f"- {line}" for line in o.setup), f"- measured in {o.seconds / 60:.1f} min", ""]
        headers = ["measure", "median", "min", "max", "runs", "ours vs this", "note"]
        lines += [*_table(headers, figure_rows(o)), ""]
        if o.goals:
            rows = [[g.label, *goal_cells(g)] for g in o.goals]
            lines += [*_table(["goal", "measured", "target", "measured / target", "met"], rows), ""]
        lines += [*o.analysis, ""] if len(o.analysis) < 2 else [*(f"- {a}" for a in o.analysis), ""]
        for caption, headers, rows in o.tables:
            lines += [f"{caption}:", "", *_table(headers, rows), ""]
        if o.profile:
            lines += ["Profile (pyinstrument):", "", "```", *o.profile, "```", ""]
    lines += [NOTES_HEADING, "", notes.strip() or NOTES_PLACEHOLDER, ""]
    return "\n".join(lines)


def kept_notes(path: Path) -> str:
    """The hand-written notes of an existing RESULTS.md, to carry into the rewritten file."""
    if not path.exists():
        return ""
    text = path.read_text(encoding="utf-8")
    if NOTES_HEADING not in text:
        return ""
    return text.split(NOTES_HEADING, 1)[1].strip()


# --- 6. report rendering ------------------------------------------------------------------------


@target("render", "One county's report in each format (HTML, PDF, Word) from its content model")
def render_target(s: Session) -> Outcome:
    """Seconds of each format per county, on the demo store, in a child process."""
    out = Outcome("render", TARGETS["render"].title)
    given = batch_inputs(s)
    counties = [c for c in given["counties"] if c != given["city"]][: max(1, min(3, s.counties or 3))]
    got = child(s.work, "render", given["store"], ",".join(counties), s.repeat)
    out.setup += [
        f"the demo store (batch_bench's), counties {', '.join(counties)}; the report document built once "
        "per county from the facade's parts (`benchmarks/render_bench.py`), then each format timed alone",
        "pdf: the glyph check and headless Chromium printing the HTML page; docx: python-docx from the "
        "model with the charts drawn as PNG (cairosvg)",
    ]
    for county, runs in got.items():
        for name in ("html", "pdf", "docx"):
            out.figures.append(Figure(f"{county}: {name}", "s", runs[name]))
        out.figures.append(Figure(f"{county}: docx, CPU seconds", "s", runs["docx_cpu"]))
        out.figures.append(Figure(f"{county}: first docx of the process (imports)", "s", runs["docx_first"]))
    docx = max(statistics.median(r["docx"]) for r in got.values())
    cpu = max(statistics.median(r["docx_cpu"]) for r in got.values())
    out.goals.append(
        Goal("Word file of one county (slowest county, median)", docx, 1.0, at_least=False, unit="s")
    )
    out.analysis.append(
        f"A Word file takes at most {docx:.2f} s a county ({cpu:.2f} s of CPU; the issue: well under a "
        "second), about two thirds of it drawing the three charts as PNG; the PDF is Chromium starting "
        "and printing."
    )
    return out


def _child_render(store: str, counties: str, repeat: str) -> dict[str, Any]:
    from benchmarks.render_bench import measure

    return measure(Path(store), counties.split(","), int(repeat))


# --- the children -------------------------------------------------------------------------------

CHILDREN: dict[str, Callable[..., dict[str, Any]]] = {
    "ingest": _child_ingest,
    "validation": _child_validation,
    "memory": _child_memory,
    "rules": _child_rules,
    "notebook": _child_notebook,
    "render": _child_render,
}


if __name__ == "__main__":
    if sys.argv[1:2] != ["--child"] or len(sys.argv) < 3 or sys.argv[2] not in CHILDREN:
        sys.exit(
            f"usage: python -m benchmarks.suite --child {{{','.join(CHILDREN)}}} ARGS (run by the suite)"
        )
    print(json.dumps(CHILDREN[sys.argv[2]](*sys.argv[3:])))
