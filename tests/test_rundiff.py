"""Follow-up of two runs: new, resolved and persisting findings per county."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from audit import cli, rundiff
from audit.findings import REGISTER_COLUMNS, write_register
from audit.manifest import write_manifest


def _finding(fid: str, county: str, rule: str = "C1", severity: str = "high", amount: float = 100.0) -> dict:
    return {
        "finding_id": fid,
        "rule_id": rule,
        "area": rule[0],
        "severity": severity,
        "county_code": county,
        "township_code": None,
        "entity_type": "contract",
        "entity_id": f"HT-{fid}",
        "amount_yuan": amount,
        "description_zh": f"问题 {fid}",
        "description_en": f"finding {fid}",
        "evidence": "{}",
    }


def _run(tmp_path: Path, name: str, units: dict[str, tuple[str, list[dict]]]) -> Path:
    """A run folder with one register per unit: ``units`` maps code to (status, findings)."""
    run_dir = tmp_path / name
    entries = []
    for code, (status, rows) in units.items():
        frame = pd.DataFrame(rows, columns=list(REGISTER_COLUMNS))
        write_register(frame, run_dir / code, "findings-contracts")
        entries.append({"code": code, "status": status, "registers": [f"{code}/findings-contracts.parquet"]})
    write_manifest(run_dir, {"run_id": name, "units": entries})
    return run_dir


def _two_runs(tmp_path: Path) -> tuple[Path, Path]:
    old = _run(
        tmp_path,
        "2020-q1",
        {
            "540102": ("ok", [_finding("a1", "540102"), _finding("a2", "540102"), _finding("a3", "540102")]),
            "540103": ("ok", [_finding("b1", "540103")]),
            "540104": ("ok", [_finding("c1", "540104")]),
            "540121": ("ok", []),
        },
    )
    new = _run(
        tmp_path,
        "2020-q3",
        {
            "540102": (
                "ok",
                [
                    _finding("a2", "540102"),
                    _finding("a4", "540102"),
                    _finding("a5", "540102", severity="low"),
                ],
            ),
            "540103": ("failed", []),  # failed: its finding is not "resolved"
            "540104": ("ok", [_finding("c1", "540104")]),
            "540122": ("ok", [_finding("d1", "540122")]),  # new county: not compared
        },
    )
    return old, new


def test_counts_per_county(tmp_path):
    result = rundiff.compare(*_two_runs(tmp_path))
    assert (result.old_run, result.new_run) == ("2020-q1", "2020-q3")
    assert result.units == (
        rundiff.UnitChange("540102", "compared", new=2, resolved=2, persisting=1),
        rundiff.UnitChange("540103", "failed in new run"),
        rundiff.UnitChange("540104", "compared", new=0, resolved=0, persisting=1),
        rundiff.UnitChange("540122", "only in new run"),
        rundiff.UnitChange("540121", "only in old run"),
    )
    assert result.totals() == {"new": 2, "resolved": 2, "persisting": 2}


def test_findings_listed_by_county_and_change(tmp_path):
    result = rundiff.compare(*_two_runs(tmp_path))
    rows = list(
        zip(result.findings["unit"], result.findings["change"], result.findings["finding_id"], strict=True)
    )
    assert rows == [
        ("540102", "new", "a4"),
        ("540102", "new", "a5"),  # low after high
        ("540102", "resolved", "a1"),
        ("540102", "resolved", "a3"),
        ("540102", "persisting", "a2"),
        ("540104", "persisting", "c1"),
    ]


def test_text_table(tmp_path):
    text = rundiff.text_table(rundiff.compare(*_two_runs(tmp_path)))
    assert text == (
        "findings 2020-q1 → 2020-q3\n"
        "county  new  resolved  persisting\n"
        "540102    2         2           1\n"
        "540103    -         -           -  not compared: failed in new run\n"
        "540104    0         0           1\n"
        "540122    -         -           -  not compared: only in new run\n"
        "540121    -         -           -  not compared: only in old run\n"
        "total     2         2           2\n"
    )


def test_html_escapes_what_the_data_says(tmp_path):
    old = _run(tmp_path, "old", {"540102": ("ok", [])})
    evil = _finding("e1", "540102") | {"description_zh": "<script>alert(1)</script>", "amount_yuan": 1234.5}
    new = _run(tmp_path, "new", {"540102": ("ok", [evil])})
    page = rundiff.write_html(rundiff.compare(old, new), tmp_path / "diff.html").read_text(encoding="utf-8")
    assert "<script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "1,234.50" in page


def test_the_html_page_masks_personal_data(tmp_path):
    old = _run(tmp_path, "old", {"540102": ("ok", [])})
    person = _finding("p1", "540102", rule="F4") | {
        "entity_type": "person",
        "entity_id": "540102199001011234",
        "description_zh": "扎西次仁（540102199001011234）在两个县（区）领取救助金",
        "evidence": '{"name": "扎西次仁", "person_id": "540102199001011234"}',
    }
    new = _run(tmp_path, "new", {"540102": ("ok", [person])})
    page = rundiff.write_html(rundiff.compare(old, new), tmp_path / "diff.html").read_text(encoding="utf-8")
    assert "540102199001011234" not in page and "扎西次仁" not in page
    assert "person 540102********1234" in page and "扎***（540102********1234）" in page


def test_identical_runs_have_only_persisting_findings(tmp_path):
    rows = [_finding("a1", "540102"), _finding("a2", "540102", amount=float("nan"))]
    old = _run(tmp_path, "old", {"540102": ("ok", rows)})
    new = _run(tmp_path, "new", {"540102": ("ok", rows)})
    result = rundiff.compare(old, new)
    assert result.totals() == {"new": 0, "resolved": 0, "persisting": 2}
    rundiff.write_html(result, tmp_path / "same.html")  # a missing amount renders as blank


def test_diff_on_the_command_line(tmp_path, capsys):
    old, new = _two_runs(tmp_path)
    page = tmp_path / "follow-up.html"
    assert cli.main(["diff", str(old), str(new), "--out", str(page)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("findings 2020-q1 → 2020-q3\ncounty  new  resolved  persisting\n")
    assert out.endswith(f"written: {page}\n")
    assert "540102" in page.read_text(encoding="utf-8")
