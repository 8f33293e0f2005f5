"""Following findings up: statuses and transitions, import, status, close, what reports show.

The commands are called in-process through ``audit.cli.main``; runs are small hand-made run
folders (a manifest and a findings register), so no notebook runs here.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

from audit import journal
from audit.cli import main
from audit.exports import write_xlsx
from audit.findings import empty_register, finding_id, typed_register, write_register
from audit.manifest import write_manifest
from audit.params import load_params
from audit.rectification import COLUMNS
from audit.tracking import (
    CLOSED,
    CONFIRMED,
    EXCLUDED,
    PENDING,
    RECTIFIED,
    RECTIFYING,
    follow_up,
    ledger,
    next_statuses,
    record_run,
)
from fixtures import PARAMS_FILE

WHEN = "2021-03-01T08:00:00Z"


def _finding(key, rule, county):
    return {
        "finding_id": finding_id(rule, "contract", key),
        "rule_id": rule,
        "area": rule[0],
        "severity": "high",
        "county_code": county,
        "township_code": None,
        "entity_type": "contract",
        "entity_id": key,
        "amount_yuan": 1.0,
        "description_zh": "问题",
        "description_en": "problem",
        "evidence": "{}",
    }


FINDINGS = {
    "A": _finding("A", "C1", "540102"),
    "B": _finding("B", "F3", "540102"),
    "C": _finding("C", "S4", "540103"),
    "D": _finding("D", "C8", "540103"),
    "E": _finding("E", "F3", "540102"),
    "F": _finding("F", "S2", "540103"),
}
ID = {k: v["finding_id"] for k, v in FINDINGS.items()}


def _run(tmp_path, name, keys, failed=()):
    run_dir = tmp_path / name
    found = typed_register(pd.DataFrame([FINDINGS[k] for k in keys])) if keys else empty_register()
    write_register(found, run_dir, csv=False)
    units = [{"code": c, "status": "failed" if c in failed else "ok"} for c in ("540102", "540103", "city")]
    write_manifest(run_dir, {"run_id": name, "units": units})
    return run_dir


def _filled(path, rows):
    """A filled list as an inspector leaves it: the list's headers, one row per dict (by column key)."""
    frame = pd.DataFrame([{c.zh: row.get(c.key) for c in COLUMNS} for row in rows], dtype="str")
    return write_xlsx({"C 购买服务合同与资金": frame}, path)


def _row(key, **fill):
    return {"finding_id": ID.get(key, key), "who": "张三", **fill}


@pytest.fixture
def track(tmp_path):
    folder = tmp_path / "tracking"
    record_run(folder, _run(tmp_path, "run1", "ABCDE"), "audit", WHEN)
    return folder


def _import(tmp_path, track, rows, *extra, name="list.xlsx"):
    path = _filled(tmp_path / name, rows)
    return main(["track", "import", str(path), "--track", str(track), *extra])


def _statuses(track):
    return {k: ledger(track).states[ID[k]].status for k in ID if ID[k] in ledger(track).states}


def test_the_cycle_allows_only_forward_steps():
    assert next_statuses(PENDING) == (CONFIRMED, EXCLUDED, RECTIFYING, RECTIFIED)
    assert next_statuses(CONFIRMED) == (RECTIFYING, RECTIFIED)
    assert next_statuses(RECTIFYING) == (RECTIFIED,)
    assert next_statuses(RECTIFIED) == (RECTIFYING,)
    assert next_statuses(EXCLUDED) == next_statuses(CLOSED) == ()


def test_an_import_records_each_step_and_reports_unknown_and_unchanged_rows(tmp_path, track, capsys):
    evidence = tmp_path / "合同.pdf"
    evidence.write_bytes(b"%PDF signed contract")
    rows = [
        _row("A", status="属实"),
        _row("B", status="整改中", unit="城关区民政局", deadline="2021-06-30", action="追回多发资金"),
        _row("C", status="已整改", unit="达孜区民政局", deadline="2021-04-30", evidence_file="合同.pdf"),
        _row("D", status="排除", note="同一合同重复登记"),
        _row("E"),
        _row("0123456789abcdef", status="属实"),
    ]
    assert _import(tmp_path, track, rows) == 0
    out = capsys.readouterr().out
    assert "unknown finding 0123456789abcdef" in out and "row 7" in out
    assert f"unchanged: {ID['E']}" in out
    assert "recorded 7 records for 4 findings" in out
    records = journal.read(track)
    steps = [(r["finding_id"], r["status"]) for r in records if r["kind"] == "status"]
    assert steps == [
        (ID["A"], CONFIRMED),
        (ID["B"], CONFIRMED),
        (ID["B"], RECTIFYING),
        (ID["C"], CONFIRMED),
        (ID["C"], RECTIFYING),
        (ID["C"], RECTIFIED),
        (ID["D"], EXCLUDED),
    ]
    c = records[-2]
    assert (
        c["evidence"]["name"] == "合同.pdf"
        and (track / c["evidence"]["file"]).read_bytes() == evidence.read_bytes()
    )
    assert c["source"] == {"file": "list.xlsx", "sheet": "C 购买服务合同与资金", "row": 4}
    b = ledger(track).states[ID["B"]]
    assert (b.status, b.unit, b.deadline, b.who) == (RECTIFYING, "城关区民政局", dt.date(2021, 6, 30), "张三")
    # the same list again changes nothing
    assert _import(tmp_path, track, rows[:5]) == 0
    out = capsys.readouterr().out
    assert "recorded 0 records for 0 findings in" in out and "; 5 rows unchanged, 0 unknown" in out
    assert len(journal.read(track)) == len(records)


def _reject(tmp_path, track, capsys, row, *extra):
    before = (track / journal.JOURNAL).read_bytes()
    assert _import(tmp_path, track, [row], *extra) == 2
    assert (track / journal.JOURNAL).read_bytes() == before
    return capsys.readouterr().err


@pytest.mark.parametrize(
    ("fill", "column", "message"),
    [
        ({"status": "整改中", "deadline": "2021-06-30"}, "N", "整改中 needs the responsible unit"),
        ({"status": "整改中", "unit": "城关区民政局"}, "O", "整改中 needs a deadline"),
        ({"status": "排除"}, "P", "排除 needs the reason"),
        ({"status": "属实", "note": "x", "action": "y"}, None, None),
        ({"status": "已整改", "unit": "u", "deadline": "2021-06-30"}, "P", "已整改 needs a note"),
        ({"status": "已销号"}, "L", "已销号 is not typed"),
        ({"status": "完成"}, "L", "'完成' is not a status"),
        ({"status": "属实", "evidence_file": "missing.jpg"}, "Q", "evidence file missing.jpg not found"),
        ({"status": "属实", "deadline": "明天"}, "O", "'明天' is not a date"),
        ({"status": "属实", "who": ""}, "R", "say who handled it"),
        ({"action": "追回"}, "L", "no status: choose one of 属实、排除、整改中、已整改"),
    ],
)
def test_a_missing_field_is_rejected_with_its_location(tmp_path, track, capsys, fill, column, message):
    if column is None:  # the valid row of the set: recorded
        assert _import(tmp_path, track, [_row("A", **fill)]) == 0
        return
    err = _reject(tmp_path, track, capsys, _row("A", **fill))
    assert f"list.xlsx, sheet C 购买服务合同与资金, row 2, column {column}: {message}" in err


@pytest.mark.parametrize(
    ("setup", "then", "message"),
    [
        (
            {"status": "排除", "note": "重复"},
            {"status": "属实"},
            "is 排除; it cannot become 属实 (it is final)",
        ),
        (
            {"status": "整改中", "unit": "u", "deadline": "2021-06-30"},
            {"status": "属实"},
            "is 整改中; it cannot become 属实 (it may become 已整改)",
        ),
        (
            {"status": "已整改", "unit": "u", "deadline": "2021-06-30", "note": "done"},
            {"status": "属实"},
            "is 已整改; it cannot become 属实 (it may become 整改中)",
        ),
        ({"status": "属实"}, {"status": "待核实"}, "is 属实; it cannot become 待核实"),
    ],
)
def test_an_invalid_transition_is_rejected_with_its_location(tmp_path, track, capsys, setup, then, message):
    assert _import(tmp_path, track, [_row("A", **setup)], name="first.xlsx") == 0
    err = _reject(tmp_path, track, capsys, _row("A", **then))
    assert "row 2, column L: finding " + ID["A"] + " " + message in err


def test_nothing_is_half_applied(tmp_path, track, capsys):
    rows = [_row("A", status="属实"), _row("B", status="排除"), _row("C", status="整改中")]
    before = (track / journal.JOURNAL).read_bytes()
    assert _import(tmp_path, track, rows) == 2
    err = capsys.readouterr().err
    assert "3 rows cannot be applied; nothing was recorded" in err
    assert "row 3, column P: 排除 needs the reason" in err
    assert "row 4, column N" in err and "row 4, column O" in err
    assert (track / journal.JOURNAL).read_bytes() == before
    assert not (track / "evidence").exists()


def test_a_finding_twice_in_one_list_is_rejected(tmp_path, track, capsys):
    before = (track / journal.JOURNAL).read_bytes()
    assert _import(tmp_path, track, [_row("A", status="属实"), _row("A", status="排除", note="x")]) == 2
    assert "row 3, column B: finding" in capsys.readouterr().err
    assert (track / journal.JOURNAL).read_bytes() == before


def test_a_damaged_journal_is_refused(tmp_path, track, capsys):
    raw = (track / journal.JOURNAL).read_bytes()
    (track / journal.JOURNAL).write_bytes(raw.replace(b'"540102"', b'"540109"', 1))
    assert _import(tmp_path, track, [_row("A", status="属实")]) == 2
    assert "is damaged; nothing was read or changed" in capsys.readouterr().err
    assert main(["track", "status", "--track", str(track)]) == 2


def test_a_later_run_reopens_closes_and_adds(tmp_path, track, capsys):
    rows = [
        _row("A", status="属实"),
        _row("B", status="整改中", unit="城关区民政局", deadline="2021-02-28"),
        _row("C", status="已整改", unit="u", deadline="2021-04-30", note="已补配人员"),
        _row("D", status="排除", note="重复"),
    ]
    assert _import(tmp_path, track, rows) == 0
    # the second submission: B and E fixed, C not after all, F new; D's exclusion stands
    run2 = _run(tmp_path, "run2", "ACF")
    shown = follow_up(track, [ID[k] for k in "ACF"])
    view = shown.set_index("finding_id")
    assert view.loc[ID["C"], "reopened"] and not view.loc[ID["A"], "reopened"]
    assert view.loc[ID["F"], "status"] == PENDING
    assert set(shown.loc[shown["closable"], "finding_id"]) == {ID["B"], ID["E"]}
    assert view.loc[ID["B"], "unit"] == "城关区民政局" and view.loc[ID["B"], "deadline"] == "2021-02-28"
    county = follow_up(track, [ID["A"]], county="540102")
    assert set(county.loc[county["closable"], "finding_id"]) == {ID["B"], ID["E"]}
    record_run(track, run2, "audit", WHEN)
    assert not record_run(track, run2, "audit", WHEN)  # once only
    book = ledger(track)
    assert {s.finding_id for s in book.closable()} == {ID["B"], ID["E"]}
    assert [k for k in ID if book.states[ID[k]].reopened] == ["C"]
    assert main(["track", "status", "--track", str(track), "--today", "2021-03-15"]) == 0
    out = capsys.readouterr().out
    assert "latest run run2" in out
    assert (
        f"逾期 overdue on 2021-03-15: 1\n  {ID['B']} F3 540102 城关区民政局 整改时限 2021-02-28 (15 days)"
        in out
    )
    assert f"整改未到位: 1\n  {ID['C']} S4 540103 已整改" in out
    assert "可销号: 2" in out
    assert main(["track", "close", "--track", str(track), "--by", "李四"]) == 0
    assert "closed 2 findings" in capsys.readouterr().out
    statuses = _statuses(track)
    assert statuses == {
        "A": CONFIRMED,
        "B": CLOSED,
        "C": RECTIFIED,
        "D": EXCLUDED,
        "E": CLOSED,
        "F": PENDING,
    }
    assert ledger(track).closable() == []
    assert main(["track", "close", "--track", str(track), "--by", "李四"]) == 0
    assert "closed 0 findings" in capsys.readouterr().out
    # C goes back to rectifying
    assert (
        _import(tmp_path, track, [_row("C", status="整改中", deadline="2021-09-30")], name="again.xlsx") == 0
    )
    assert not ledger(track).states[ID["C"]].reopened


def test_a_county_that_failed_in_the_later_run_closes_nothing(tmp_path, track):
    record_run(track, _run(tmp_path, "run2", "", failed=("540102",)), "audit", WHEN)
    assert {s.finding_id for s in ledger(track).closable()} == {ID["C"], ID["D"]}


@pytest.mark.parametrize(
    ("damage", "said"),
    [
        (
            lambda lines: [lines[0].replace('"ok"', '"failed"'), *lines[1:]],
            "line 1: edited after it was written",
        ),
        (lambda lines: [lines[0], lines[2]], "line 2: holds record 3: records were removed or reordered"),
        (
            lambda lines: [lines[0], lines[2], lines[1]],
            "line 2: holds record 3: records were removed or reordered",
        ),
    ],
    ids=["edited", "removed", "reordered"],
)
def test_audit_verify_reports_an_edited_removed_or_reordered_record(tmp_path, track, capsys, damage, said):
    assert _import(tmp_path, track, [_row("A", status="属实"), _row("B", status="排除", note="重复")]) == 0
    capsys.readouterr()
    assert main(["verify", str(track)]) == 0
    assert "verified: journal" in capsys.readouterr().out
    path = track / journal.JOURNAL
    lines = path.read_text(encoding="utf-8").splitlines()
    path.write_text("\n".join(damage(lines)) + "\n", encoding="utf-8")
    assert main(["verify", str(track)]) == 1
    assert said in capsys.readouterr().out


# --- the whole cycle over two batches of the real notebooks ---------------------------------------


def _second_submission(frames):
    """The county's next submission: S4 and F3 (with F5) fixed, F2 and the rest left, one F8 added."""
    staff = frames["staff"]
    staff.loc[staff["staff_id"] == "ST-2", "education"] = "本科"
    pay = frames["relief_payments"]
    pay.loc[pay["payment_id"] == "R-05", "period"] = "2020-04"  # no longer a second payment for February
    pay.loc[pay["payment_id"] == "R-07", "paid_on"] = pd.Timestamp("2020-04-20")  # late now: a new F8


@pytest.mark.slow
@pytest.mark.xdist_group("batch")
def test_a_full_cycle_over_two_runs(tmp_path, capsys, monkeypatch):
    from audit.findings import read_register
    from audit.rectification import Prefill, read_rectification_list, write_rectification_list
    from fixtures import store_builder as fx

    monkeypatch.setenv("AUDIT_ALLOWED_ROOTS", str(tmp_path))
    track, runs = tmp_path / "tracking", tmp_path / "runs"
    params = str(Path(__file__).resolve().parents[1] / "params" / "lhasa-2020.yaml")

    def batch(store, run_id):
        args = ["batch", "--store", str(store), "--params", params, "--out", str(runs), "--run-id", run_id]
        args += ["--counties", fx.COUNTY, "--jobs", "2", "--formats", "html", "--track", str(track)]
        assert main(args) == 0
        return runs / run_id

    first = batch(fx.build_store(tmp_path / "store1"), "first")
    one = read_register(first / "restricted" / "findings.parquet")
    fid = {(r, e): f for r, e, f in zip(one["rule_id"], one["entity_id"], one["finding_id"], strict=True)}
    s4, f3, f5 = fid["S4", "ST-2"], fid["F3", "R-05"], fid["F5", "H2/2020-02"]
    f2, f8, c8 = fid["F2", "R-11"], fid["F8", "R-03"], fid["C8", "CG-001"]
    assert ledger(track).latest_run == "first" and all(
        s.status == PENDING for s in ledger(track).states.values()
    )
    # the inspectors' answers, typed into the list the batch wrote
    answers = {
        s4: Prefill(
            RECTIFIED, unit="城关区民政局", deadline=dt.date(2021, 3, 31), note="已更换为本科学历人员"
        ),
        f3: Prefill(
            RECTIFYING, unit="城关区民政局", deadline=dt.date(2021, 6, 30), action="追回重复发放资金"
        ),
        f2: Prefill(RECTIFIED, unit="城关区民政局", deadline=dt.date(2021, 3, 31), note="已停发并追回"),
        f8: Prefill(EXCLUDED, note="系银行系统故障，经核实非经办责任"),
        c8: Prefill(CONFIRMED),
    }
    filled = write_rectification_list(
        one, tmp_path / "filled.xlsx", load_params(PARAMS_FILE), prefill=answers
    )
    assert main(["track", "import", str(filled), "--track", str(track), "--by", "张三"]) == 0
    assert "for 5 findings" in capsys.readouterr().out

    second = batch(fx.build_store(tmp_path / "store2", _second_submission), "second")
    two = read_register(second / "restricted" / "findings.parquet")
    new = set(two["finding_id"]) - set(one["finding_id"])
    assert new == {finding_id("F8", "payment", "R-07")}
    gone = set(one["finding_id"]) - set(two["finding_id"])
    assert gone == {s4, f3, f5}
    report = (second / fx.COUNTY / "report.html").read_text(encoding="utf-8")
    top = report.split("<h2")[0]  # the title block, before the first section
    assert "整改未到位：1 个问题" in top and f2 in top
    assert "可销号：3 个问题" in report and all(f in report for f in gone)
    # the deadline as a reader reads a date in the report's language
    assert "整改中" in report and "城关区民政局" in report and "2021年6月30日" in report
    index = (second / "index.html").read_text(encoding="utf-8")
    assert "整改跟踪 Follow-up" in index and "整改未到位 1" in index and "可销号 3" in index
    # the new list comes pre-filled with what the journal holds
    rows = {r.finding_id: r for r in read_rectification_list(second / "restricted" / "findings.xlsx")}
    assert (rows[c8].status, rows[f8].status, rows[f2].status) == (CONFIRMED, EXCLUDED, RECTIFIED)
    assert rows[finding_id("F8", "payment", "R-07")].status == ""

    assert main(["track", "close", "--track", str(track), "--by", "李四"]) == 0
    assert "closed 3 findings" in capsys.readouterr().out
    states = ledger(track).states
    assert {f for f, s in states.items() if s.status == CLOSED} == gone
    assert states[f2].reopened and states[f8].status == EXCLUDED
    assert main(["verify", str(second)]) == 0  # the journal the run read is checked too
    assert "verified: journal" in capsys.readouterr().out
    # sign-off in levels: the index shows which hold
    assert (
        main(["sign", str(second), "--county", fx.COUNTY, "--reviewer", "王芳", "--level", "preparer"]) == 0
    )
    index = (second / "index.html").read_text(encoding="utf-8")
    assert '<span class="held">经办 ✓ 王芳</span>' in index and '<span class="missing">审定 —</span>' in index
    # records cut off the journal's end: the chain cannot tell, the run's manifest can
    lines = (track / journal.JOURNAL).read_text(encoding="utf-8").splitlines()
    (track / journal.JOURNAL).write_text("\n".join(lines[:2]) + "\n", encoding="utf-8")
    assert main(["verify", str(track)]) == 0
    assert main(["verify", str(second)]) == 1
    assert "records were removed from its end" in capsys.readouterr().out


def test_two_imports_at_once_both_apply_one_after_the_other(tmp_path, track, monkeypatch):
    import threading
    import time

    real = journal.write_durably

    def slow(path, data):
        time.sleep(0.3)  # the other import reaches the lock while this one holds it
        real(path, data)

    monkeypatch.setattr(journal, "write_durably", slow)
    lists = [
        _filled(tmp_path / "one.xlsx", [_row("A", status="属实"), _row("B", status="属实")]),
        _filled(tmp_path / "two.xlsx", [_row("C", status="排除", note="重复"), _row("D", status="属实")]),
    ]
    codes = []
    threads = [
        threading.Thread(
            target=lambda p=p: codes.append(main(["track", "import", str(p), "--track", str(track)]))
        )
        for p in lists
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert codes == [0, 0] and journal.check(track) == []
    sources = [r["source"]["file"] for r in journal.read(track) if r["kind"] == "status"]
    assert sources in (["one.xlsx"] * 2 + ["two.xlsx"] * 2, ["two.xlsx"] * 2 + ["one.xlsx"] * 2)
    assert _statuses(track) == {"A": CONFIRMED, "B": CONFIRMED, "C": EXCLUDED, "D": CONFIRMED, "E": PENDING}


_KILLED_IMPORT = """
import os, signal, sys
from audit.cli import main

real = os.replace
def die(src, dst):
    if str(dst).endswith("journal.jsonl"):
        os.kill(os.getpid(), signal.SIGKILL)  # killed after writing the new journal, before the rename
    real(src, dst)
os.replace = die
main(["track", "import", sys.argv[1], "--track", sys.argv[2]])
"""


def test_an_import_killed_midway_leaves_the_journal_as_it_was(tmp_path, track):
    import os
    import signal
    import subprocess
    import sys

    evidence = tmp_path / "photo.jpg"
    evidence.write_bytes(b"jpeg")
    path = _filled(tmp_path / "list.xlsx", [_row("A", status="属实", evidence_file="photo.jpg")])
    before = (track / journal.JOURNAL).read_bytes()
    env = {**os.environ, "PYTHONPATH": str(Path(journal.__file__).parents[1])}
    done = subprocess.run([sys.executable, "-c", _KILLED_IMPORT, str(path), str(track)], env=env, timeout=300)
    assert done.returncode == -signal.SIGKILL
    assert (track / journal.JOURNAL).read_bytes() == before and journal.check(track) == []
    assert main(["track", "import", str(path), "--track", str(track)]) == 0  # the lock was released
    assert _statuses(track)["A"] == CONFIRMED and journal.check(track) == []
