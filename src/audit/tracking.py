"""Follow-up of findings: the statuses, the transitions between them, and each finding's state.

The cycle (集中分析、发现疑点、分散核实, then 拉条挂账、对账销号):

    待核实 ──▶ 属实 ──▶ 整改中 ──▶ 已整改 ──▶ 已销号
       └────▶ 排除

A finding no record names is 待核实. 排除 needs a reason (the note), 整改中 a responsible
unit and a deadline, 已整改 a note or an evidence file. 已销号 is never typed: ``audit
track close`` sets it when the latest run recorded in the journal no longer finds the
finding (可销号). A finding marked 已整改 that a later run still finds is 整改未到位
(reopened); it goes back to 整改中 when an inspector says so.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow.parquet as pq

from audit import journal
from audit.exceptions import FollowUpError, FollowUpErrors
from audit.findings import read_register
from audit.i18n import FOLLOW_UP_LABELS
from audit.manifest import read_manifest, sha256_file
from audit.rectification import FilledRow, Prefill, read_rectification_list
from audit.runfolder import combined_register
from audit.vocabulary import (
    CLOSABLE,
    CLOSED,
    CONFIRMED,
    EXCLUDED,
    FOLLOW_UP_STATUSES,
    IMPORTABLE_STATUSES,
    PENDING,
    RECTIFIED,
    RECTIFYING,
    REOPENED,
)

STATUSES = FOLLOW_UP_STATUSES
IMPORTABLE = IMPORTABLE_STATUSES
STATUS_LABELS = {lang: {s: words[s] for s in STATUSES} for lang, words in FOLLOW_UP_LABELS.items()}
"""How each status is written in a list of each language; both are read back."""
SHOWN_LABELS = FOLLOW_UP_LABELS
"""How a report names each status, and the two states a run adds (reopened, closable)."""


# --- each finding's state, folded from the journal ----------------------------------------------


@dataclass(frozen=True)
class State:
    """What the journal says of one finding."""

    finding_id: str
    status: str = PENDING
    unit: str = ""
    deadline: dt.date | None = None
    action: str = ""
    note: str = ""
    who: str = ""
    evidence: str = ""  # SHA-256 of the latest evidence file attached
    since: int = 0  # the record that set the status (0: none, the finding is new)
    rule_id: str = ""
    county_code: str = ""
    reopened: bool = False
    closable: bool = False

    def overdue(self, today: dt.date) -> bool:
        """Still being rectified after its deadline."""
        return self.status == RECTIFYING and self.deadline is not None and self.deadline < today

    def prefill(self) -> Prefill:
        """The fill-in columns of the rectification list for this finding."""
        return Prefill(self.status, self.action, self.unit, self.deadline, self.note)


@dataclass(frozen=True)
class Ledger:
    """Every finding the journal knows, and the latest run it recorded."""

    states: Mapping[str, State]
    latest_run: str | None
    records: int

    def closable(self) -> list[State]:
        """The findings ``audit track close`` closes, in id order."""
        return [s for _, s in sorted(self.states.items()) if s.closable]


def _day(text: str | None) -> dt.date | None:
    return dt.date.fromisoformat(text) if text else None


def _run_findings(folder: Path, record: Mapping[str, Any]) -> dict[str, list[str]]:
    raw = json.loads((folder / record["run"]["file"]).read_text(encoding="utf-8"))
    return {str(k): list(v) for k, v in raw["findings"].items()}


def _unit_ok(county: str, units: Mapping[str, str]) -> bool:
    """Whether the run audited the finding's county to the end (the city's own codes end in 00)."""
    if county in units:
        return units[county] == "ok"
    return county.endswith("00") and units.get("city") == "ok"


def ledger(folder: Path, records: Sequence[Mapping[str, Any]] | None = None) -> Ledger:
    """Fold the journal into each finding's state (reading it, checked, unless given)."""
    records = journal.read(folder) if records is None else records
    states: dict[str, State] = {}
    last_run: tuple[int, str, dict[str, str], set[str]] | None = None
    for rec in records:
        if rec["kind"] == "run":
            found = _run_findings(folder, rec)
            for fid, (rule_id, county) in found.items():
                old = states.get(fid, State(fid))
                states[fid] = replace(old, rule_id=rule_id, county_code=county)
            last_run = (int(rec["seq"]), str(rec["run_id"]), dict(rec["units"]), set(found))
        elif rec["kind"] == "status":
            fid = str(rec["finding_id"])
            old = states.get(fid, State(fid))
            states[fid] = replace(
                old,
                status=str(rec["status"]),
                unit=str(rec.get("unit", "")),
                deadline=_day(rec.get("deadline")),
                action=str(rec.get("action", "")),
                note=str(rec.get("note", "")),
                who=str(rec.get("who", "")),
                evidence=str((rec.get("evidence") or {}).get("sha256", old.evidence)),
                since=int(rec["seq"]),
            )
    if last_run is not None:
        seq, _, units, found = last_run
        for fid, state in states.items():
            if fid in found:
                reopened = state.status == RECTIFIED and state.since < seq
                states[fid] = replace(state, reopened=reopened)
            elif state.status not in (EXCLUDED, CLOSED) and state.rule_id:
                states[fid] = replace(state, closable=_unit_ok(state.county_code, units))
    return Ledger(states, last_run[1] if last_run else None, len(records))


# --- recording a run ------------------------------------------------------------------------------


def record_run(folder: Path, run_dir: Path, who: str, when: str) -> bool:
    """Record the findings of a finished run in the journal; False when it was recorded already."""

    manifest = read_manifest(run_dir)
    run_id = str(manifest["run_id"])
    register = read_register(combined_register(run_dir))
    findings = {
        f: [r, c]
        for f, r, c in zip(register["finding_id"], register["rule_id"], register["county_code"], strict=True)
    }
    units = {str(u["code"]): str(u["status"]) for u in manifest["units"]}
    with journal.appending(folder) as log:
        if any(r["kind"] == "run" and r["run_id"] == run_id for r in log.records):
            return False
        ref = log.keep(run_id, {"run_id": run_id, "findings": dict(sorted(findings.items()))})
        log.commit([{"kind": "run", "run_id": run_id, "units": units, "run": ref, "who": who, "when": when}])
    return True


# --- importing a filled rectification list -------------------------------------------------------

_CHAIN = (PENDING, CONFIRMED, RECTIFYING, RECTIFIED)
_BY_LABEL = {label: status for lang in STATUS_LABELS.values() for status, label in lang.items()}


def next_statuses(status: str) -> tuple[str, ...]:
    """The statuses a row may give a finding that has ``status`` (steps along the cycle may be skipped)."""
    if status == PENDING:
        return (CONFIRMED, EXCLUDED, RECTIFYING, RECTIFIED)
    if status in (CONFIRMED, RECTIFYING):
        return _CHAIN[_CHAIN.index(status) + 1 :]
    if status == RECTIFIED:
        return (RECTIFYING,)  # not done after all: back to rectifying
    return ()


def _steps(current: str, target: str) -> list[str]:
    if target == EXCLUDED or (current == RECTIFIED and target == RECTIFYING):
        return [target]
    return list(_CHAIN[_CHAIN.index(current) + 1 : _CHAIN.index(target) + 1])


@dataclass(frozen=True)
class ImportPlan:
    """What an import records, and the rows it leaves alone."""

    bodies: tuple[dict[str, Any], ...]
    changed: tuple[FilledRow, ...]
    unknown: tuple[FilledRow, ...]
    unchanged: tuple[FilledRow, ...]


def plan_import(
    rows: Sequence[FilledRow], book: Ledger, *, base: Path, by: str, when: str, attach
) -> ImportPlan:
    """The records a filled list adds; FollowUpErrors listing every row that cannot be applied.

    ``attach(path)`` stores an evidence file and returns its reference; it is called only
    when every row is valid, so a rejected import leaves nothing behind.
    """
    errors: list[FollowUpError] = []
    pending: list[tuple[FilledRow, list[str], Path | None]] = []
    unknown: list[FilledRow] = []
    unchanged: list[FilledRow] = []
    seen: dict[str, FilledRow] = {}
    for row in rows:
        state = book.states.get(row.finding_id)
        if state is None:
            unknown.append(row)
            continue
        if row.finding_id in seen:
            first = seen[row.finding_id]
            errors.append(
                FollowUpError(
                    f"finding {row.finding_id} is also on sheet {first.sheet} row {first.row}; keep one row",
                    **row.where("finding_id"),
                )
            )
            continue
        seen[row.finding_id] = row
        values = {
            "action": row.action or state.action,
            "unit": row.unit or state.unit,
            "deadline": row.deadline or state.deadline,
            "note": row.note or state.note,
        }
        if not row.status:
            changed = [
                k
                for k in ("action", "unit", "deadline", "note")
                if getattr(row, k) not in ("", None, getattr(state, k))
            ]
            if changed or row.evidence_file:
                errors.append(
                    FollowUpError(
                        f"no status: choose one of {'、'.join(next_statuses(state.status)) or state.status}",
                        **row.where("status"),
                    )
                )
            else:
                unchanged.append(row)
            continue
        target = _BY_LABEL.get(row.status)
        if target is None:
            errors.append(
                FollowUpError(
                    f"{row.status!r} is not a status; choose one of {'、'.join(IMPORTABLE)}",
                    **row.where("status"),
                )
            )
            continue
        if target == CLOSED:
            errors.append(
                FollowUpError(
                    "已销号 is not typed: audit track close sets it once a later run no longer finds it",
                    **row.where("status"),
                )
            )
            continue
        evidence = None
        if row.evidence_file:
            evidence = Path(row.evidence_file)
            evidence = evidence if evidence.is_absolute() else base / evidence
            if not evidence.is_file():
                errors.append(
                    FollowUpError(
                        f"evidence file {row.evidence_file} not found (a path relative to the list's folder)",
                        **row.where("evidence_file"),
                    )
                )
                continue
            if sha256_file(evidence) == state.evidence:
                evidence = None  # attached already
        same_fields = all(values[k] == getattr(state, k) for k in values)
        if target == state.status:
            if same_fields and evidence is None:
                unchanged.append(row)
                continue
            steps = [target]
        elif target in next_statuses(state.status):
            steps = _steps(state.status, target)
        else:
            allowed = "、".join(next_statuses(state.status))
            errors.append(
                FollowUpError(
                    f"finding {row.finding_id} is {state.status}; it cannot become {target}"
                    + (f" (it may become {allowed})" if allowed else " (it is final)"),
                    **row.where("status"),
                )
            )
            continue
        who = row.who or by
        missing: list[tuple[str, str]] = []
        for step in steps:
            if step == EXCLUDED and not values["note"]:
                missing.append(("note", "排除 needs the reason in 整改情况（说明）"))
            if step == RECTIFYING:
                if not values["unit"]:
                    missing.append(("unit", "整改中 needs the responsible unit (责任单位)"))
                if values["deadline"] is None:
                    missing.append(
                        ("deadline", "整改中 needs a deadline (整改时限), a date such as 2021-06-30")
                    )
            if step == RECTIFIED and not (row.note or row.evidence_file):
                missing.append(
                    ("note", "已整改 needs a note on what was done (整改情况) or an evidence file (证据文件)")
                )
        if not who:
            missing.append(("who", "say who handled it (经办人), or give --by"))
        if missing:
            errors.extend(
                FollowUpError(text, **row.where(key)) for key, text in dict(missing).items() for _ in [0]
            )
            continue
        pending.append((row, steps, evidence))
    if errors:
        raise errors[0] if len(errors) == 1 else FollowUpErrors(errors)
    bodies: list[dict[str, Any]] = []
    for row, steps, evidence in pending:
        state = book.states[row.finding_id]
        ref = attach(evidence) if evidence is not None else None
        for step in steps:
            bodies.append(
                {
                    "kind": "status",
                    "finding_id": row.finding_id,
                    "status": step,
                    "who": row.who or by,
                    "recorded_by": by,
                    "when": when,
                    "action": row.action or state.action,
                    "unit": row.unit or state.unit,
                    "deadline": (row.deadline or state.deadline).isoformat()
                    if (row.deadline or state.deadline)
                    else "",
                    "note": row.note or state.note,
                    "evidence": ref if step == steps[-1] else None,
                    "source": {"file": Path(row.file).name, "sheet": row.sheet, "row": row.row},
                }
            )
    return ImportPlan(tuple(bodies), tuple(r for r, _, _ in pending), tuple(unknown), tuple(unchanged))


def import_list(folder: Path, path: Path, *, by: str, when: str) -> ImportPlan:
    """Apply a filled rectification list to the journal, all of it or nothing."""

    rows = read_rectification_list(path)
    with journal.appending(folder) as log:
        book = ledger(folder, log.records)
        plan = plan_import(rows, book, base=path.parent, by=by, when=when, attach=log.attach)
        log.commit(plan.bodies)
    return plan


def close(folder: Path, *, by: str, when: str) -> list[State]:
    """Close (已销号) every finding the latest recorded run no longer finds; the ones closed."""
    with journal.appending(folder) as log:
        book = ledger(folder, log.records)
        closing = book.closable()
        log.commit(
            [
                {
                    "kind": "status",
                    "finding_id": s.finding_id,
                    "status": CLOSED,
                    "who": by,
                    "recorded_by": by,
                    "when": when,
                    "action": s.action,
                    "unit": s.unit,
                    "deadline": s.deadline.isoformat() if s.deadline else "",
                    "note": f"run {book.latest_run} no longer finds it",
                    "evidence": None,
                    "source": None,
                }
                for s in closing
            ]
        )
    return closing


# --- what reports and the index show -------------------------------------------------------------

SNAPSHOT = "followup.json"
"""The journal's state as a batch read it, kept in the run folder for its notebooks and index."""

FOLLOW_UP_COLUMNS = ("finding_id", "status", "unit", "deadline", "reopened", "closable")


def snapshot(folder: Path) -> dict[str, Any]:
    """The journal's findings and where it stood (records, last hash), as JSON-ready data."""
    records = journal.read(folder)
    book = ledger(folder, records)
    states = {
        fid: {
            "status": s.status,
            "unit": s.unit,
            "deadline": s.deadline.isoformat() if s.deadline else "",
            "rule_id": s.rule_id,
            "county_code": s.county_code,
            "since": s.since,
        }
        for fid, s in sorted(book.states.items())
    }
    return {"journal": str(folder), **journal.head(records), "latest_run": book.latest_run, "states": states}


def write_snapshot(folder: Path, run_dir: Path) -> Path:
    """Write the journal's snapshot into ``run_dir`` (before the notebooks run); its path."""
    path = run_dir / SNAPSHOT
    journal.write_durably(path, (journal.canonical(snapshot(folder)) + "\n").encode("utf-8"))
    return path


def read_snapshot(run_dir: Path) -> dict[str, State] | None:
    """The states a run's snapshot holds; None when the run was made without ``--track``."""
    path = Path(run_dir) / SNAPSHOT
    if not path.is_file():
        return None
    raw = json.loads(path.read_text(encoding="utf-8"))["states"]
    return {
        fid: State(
            fid,
            status=v["status"],
            unit=v["unit"],
            deadline=_day(v["deadline"]),
            rule_id=v["rule_id"],
            county_code=v["county_code"],
            since=int(v["since"]),
        )
        for fid, v in raw.items()
    }


def follow_up(
    states: Mapping[str, State] | Path | None, finding_ids: Sequence[str], county: str | None = None
) -> pd.DataFrame:
    """Each finding's follow-up for a report: status, owner, deadline, reopened, closable.

    ``states`` come from a run's snapshot (:func:`read_snapshot`) or a journal's folder.
    ``finding_ids`` are the findings this run shows: none of them is closable, and one marked
    已整改 is reopened (整改未到位). Findings the journal knows in ``county`` (every county
    when None) that this run no longer shows are added as closable (可销号); excluded and
    closed ones are left out. An empty frame when there is no journal.
    """
    columns = {
        "finding_id": "str",
        "status": "str",
        "unit": "str",
        "deadline": "str",
        "reopened": "bool",
        "closable": "bool",
    }
    if isinstance(states, Path):
        states = ledger(states).states if (states / "journal.jsonl").exists() else None
    if states is None:
        return pd.DataFrame({c: pd.Series([], dtype=t) for c, t in columns.items()})
    shown = list(dict.fromkeys(finding_ids))
    rows = []
    for fid in shown:
        state = states.get(fid, State(fid))
        rows.append((fid, state.status, state.unit, state.deadline, state.status == RECTIFIED, False))
    visible = set(shown)
    for fid, state in sorted(states.items()):
        if (
            fid not in visible
            and state.rule_id
            and state.status not in (EXCLUDED, CLOSED)
            and (county is None or state.county_code == county)
        ):
            rows.append((fid, state.status, state.unit, state.deadline, False, True))
    frame = pd.DataFrame(rows, columns=list(columns))
    frame["deadline"] = [d.isoformat() if d else "" for d in frame["deadline"]]
    return frame.astype(columns)


def unit_counts(run_dir: Path, units: Mapping[str, Sequence[str]]) -> dict[str, dict[str, int]]:
    """For the index: per unit, its findings by follow-up status, plus 整改未到位 and 可销号.

    ``units`` maps each unit's code to the finding ids it showed. Empty without a snapshot.
    """
    states = read_snapshot(run_dir)
    if states is None:
        return {}
    counts: dict[str, dict[str, int]] = {}
    for code, ids in units.items():
        view = follow_up(states, ids, None if code == "city" else code)
        tally = {
            s: int(((view["status"] == s) & ~view["closable"] & ~view["reopened"]).sum()) for s in STATUSES
        }
        tally[REOPENED] = int(view["reopened"].sum())
        tally[CLOSABLE] = int(view["closable"].sum())
        counts[code] = {k: v for k, v in tally.items() if v}
    return counts


# --- audit track status ---------------------------------------------------------------------------


def _table(
    title: str, keys: Sequence[str], rows: Mapping[str, Mapping[str, int]], columns: Sequence[str]
) -> list[str]:
    header = [title, *columns, "合计"]
    body = [[k, *(str(rows[k].get(c, 0)) for c in columns), str(sum(rows[k].values()))] for k in keys]
    widths = [max(_width(r[i]) for r in [header, *body]) for i in range(len(header))]
    out = []
    for r in [header, *body]:
        cells = [
            _pad(r[0], widths[0], left=True),
            *(_pad(v, w) for v, w in zip(r[1:], widths[1:], strict=True)),
        ]
        out.append("  ".join(cells).rstrip())
    return out


def _width(text: str) -> int:
    return sum(2 if ord(ch) > 0x2E7F else 1 for ch in text)  # a CJK character takes two columns


def _pad(text: str, width: int, *, left: bool = False) -> str:
    gap = " " * (width - _width(text))
    return text + gap if left else gap + text


def _shown_status(state: State) -> str:
    if state.reopened:
        return REOPENED
    if state.closable:
        return CLOSABLE
    return state.status


def status_text(book: Ledger, today: dt.date) -> str:
    """Counts by status, county and rule, then the overdue, reopened and closable findings."""
    states = sorted(book.states.values(), key=lambda s: (s.county_code, s.rule_id, s.finding_id))
    columns = [*STATUSES, REOPENED, CLOSABLE]
    shown = {s.finding_id: _shown_status(s) for s in states}
    used = [c for c in columns if c in set(shown.values())]
    lines = [
        f"follow-up journal: {book.records} records, {len(states)} findings; "
        f"latest run {book.latest_run or '-'}"
    ]
    if not states:
        return "\n".join(lines) + "\n"
    by_county: dict[str, dict[str, int]] = {}
    by_rule: dict[str, dict[str, int]] = {}
    total: dict[str, dict[str, int]] = {"合计": {}}
    for s in states:
        for table, key in ((by_county, s.county_code or "-"), (by_rule, s.rule_id or "-"), (total, "合计")):
            counts = table.setdefault(key, {})
            counts[shown[s.finding_id]] = counts.get(shown[s.finding_id], 0) + 1
    rules = sorted(by_rule, key=lambda r: ("CSF".find(r[:1]), int(r[1:]) if r[1:].isdigit() else 0, r))
    lines += ["", *_table("状态", ["合计"], total, used)]
    lines += ["", *_table("县（区）", sorted(by_county), by_county, used)]
    lines += ["", *_table("规则", rules, by_rule, used)]
    overdue = [s for s in states if s.overdue(today)]
    lines += ["", f"逾期 overdue on {today.isoformat()}: {len(overdue)}"]
    lines += [
        f"  {s.finding_id} {s.rule_id} {s.county_code} {s.unit} 整改时限 {s.deadline.isoformat()} "
        f"({(today - s.deadline).days} days)"
        for s in overdue
        if s.deadline
    ]
    for word, part in (
        (REOPENED, [s for s in states if s.reopened]),
        (CLOSABLE, [s for s in states if s.closable]),
    ):
        lines += [
            f"{word}: {len(part)}",
            *(f"  {s.finding_id} {s.rule_id} {s.county_code} {s.status}" for s in part),
        ]
    return "\n".join(lines) + "\n"


# --- what a batch given --track does --------------------------------------------------------------


def prefills(run_dir: Path) -> dict[str, Prefill]:
    """The rectification list's pre-filled columns from the run's snapshot ({} without one)."""
    states = read_snapshot(run_dir)
    return {} if states is None else {fid: s.prefill() for fid, s in states.items() if s.since}


def index_counts(run_dir: Path, manifest: Mapping[str, Any]) -> dict[str, dict[str, int]]:
    """Per unit of the run, its findings by follow-up status (for the index; {} without a snapshot)."""
    if read_snapshot(run_dir) is None:
        return {}
    shown: dict[str, list[str]] = {}
    for unit in manifest.get("units", []):
        ids: list[str] = []
        for rel in unit.get("registers", []):
            ids += pq.read_table(run_dir / rel, columns=["finding_id"]).column(0).to_pylist()
        shown[str(unit["code"])] = ids
    return unit_counts(run_dir, shown)


def journal_head(run_dir: Path) -> dict[str, Any] | None:
    """Where the journal stood when the run read it (folder, records, last hash); None untracked."""
    path = Path(run_dir) / SNAPSHOT
    if not path.is_file():
        return None
    raw = json.loads(path.read_text(encoding="utf-8"))
    return {k: raw[k] for k in ("journal", "records", "last_hash") if k in raw}
