"""Follow-up between two runs: per county, findings new, resolved and persisting by finding_id.

A county that failed in either run, or that only one run has, is listed but not compared:
its findings are missing for a reason other than being fixed, so none counts as resolved.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import pandas as pd
from jinja2 import Environment, PackageLoader, select_autoescape

from audit.manifest import read_manifest, write_atomically
from audit.privacy import mask_findings
from audit.vocabulary import SEVERITY_RANK

CHANGES = ("new", "resolved", "persisting")
State = Literal["compared", "failed in old run", "failed in new run", "only in old run", "only in new run"]


@dataclass(frozen=True)
class UnitChange:
    """How one county's (or the roll-up's) findings moved between the runs."""

    unit: str
    state: State
    new: int = 0
    resolved: int = 0
    persisting: int = 0


@dataclass(frozen=True)
class FollowUp:
    """The comparison of two runs."""

    old_run: str
    new_run: str
    units: tuple[UnitChange, ...]
    findings: pd.DataFrame  # register columns plus ``change`` and ``unit``, compared units only

    def totals(self) -> dict[str, int]:
        """Findings new, resolved and persisting over every compared unit."""
        return {change: sum(getattr(u, change) for u in self.units) for change in CHANGES}


def _unit_findings(run_dir: Path, unit: dict[str, Any]) -> pd.DataFrame:
    frames = [pd.read_parquet(run_dir / path) for path in unit.get("registers", [])]
    frames = [f for f in frames if not f.empty]
    if not frames:
        return pd.DataFrame({"finding_id": pd.Series(dtype="str")})
    return pd.concat(frames, ignore_index=True).drop_duplicates("finding_id")


def compare(old_dir: Path, new_dir: Path) -> FollowUp:
    """Compare the findings of two run folders, unit by unit."""
    old_manifest, new_manifest = read_manifest(old_dir), read_manifest(new_dir)
    old_units = {u["code"]: u for u in old_manifest["units"]}
    new_units = {u["code"]: u for u in new_manifest["units"]}
    order = [*new_units, *(code for code in old_units if code not in new_units)]
    changes: list[UnitChange] = []
    rows: list[pd.DataFrame] = []
    for code in order:
        old, new = old_units.get(code), new_units.get(code)
        if old is None or new is None:
            changes.append(UnitChange(code, "only in new run" if old is None else "only in old run"))
            continue
        if old["status"] != "ok" or new["status"] != "ok":
            changes.append(
                UnitChange(code, "failed in old run" if old["status"] != "ok" else "failed in new run")
            )
            continue
        before, after = _unit_findings(old_dir, old), _unit_findings(new_dir, new)
        was, now = set(before["finding_id"]), set(after["finding_id"])
        parts = {
            "new": after[after["finding_id"].isin(now - was)],
            "resolved": before[before["finding_id"].isin(was - now)],
            "persisting": after[after["finding_id"].isin(now & was)],
        }
        for change, part in parts.items():
            if not part.empty:
                rows.append(part.assign(change=change, unit=code))
        changes.append(UnitChange(code, "compared", *(len(parts[c]) for c in CHANGES)))
    findings = pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(columns=["unit", "change"])
    if not findings.empty:
        rank = {code: i for i, code in enumerate(order)}
        findings = findings.assign(
            _unit=findings["unit"].map(rank),
            _change=findings["change"].map(CHANGES.index),
            _severity=findings["severity"].map(SEVERITY_RANK).fillna(9),
        )
        findings = findings.sort_values(["_unit", "_change", "_severity", "rule_id", "finding_id"])
        findings = findings.drop(columns=["_unit", "_change", "_severity"]).reset_index(drop=True)
    return FollowUp(old_manifest["run_id"], new_manifest["run_id"], tuple(changes), findings)


def text_table(followup: FollowUp) -> str:
    """The per-county counts as a plain-text table, for the terminal."""
    header = ("county", "new", "resolved", "persisting", "")
    lines = [header]
    for unit in followup.units:
        if unit.state == "compared":
            lines.append((unit.unit, str(unit.new), str(unit.resolved), str(unit.persisting), ""))
        else:
            lines.append((unit.unit, "-", "-", "-", f"not compared: {unit.state}"))
    totals = followup.totals()
    lines.append(("total", *(str(totals[c]) for c in CHANGES), ""))
    widths = [max(len(row[i]) for row in lines) for i in range(4)]
    out = [f"findings {followup.old_run} → {followup.new_run}"]
    for row in lines:
        cells = [row[0].ljust(widths[0]), *(row[i].rjust(widths[i]) for i in range(1, 4))]
        out.append(("  ".join(cells) + ("  " + row[4] if row[4] else "")).rstrip())
    return "\n".join(out) + "\n"


def _amount(value: float) -> str:
    return "" if pd.isna(value) else f"{value:,.2f}"


def write_html(followup: FollowUp, path: Path) -> Path:
    """Write the follow-up as an HTML page (every value escaped, personal data masked); its path.

    The page is for reviewers as a report is: the registers it reads keep full values (restricted).
    """
    env = Environment(loader=PackageLoader("audit", "templates"), autoescape=select_autoescape(default=True))
    findings = mask_findings(followup.findings)
    if not findings.empty:
        amounts = pd.to_numeric(findings["amount_yuan"], errors="coerce")
        findings = findings.assign(amount_text=[_amount(a) for a in amounts])
    by_unit = {code: part.to_dict("records") for code, part in findings.groupby("unit", sort=False)}
    html = env.get_template("diff.html").render(
        followup=followup, totals=followup.totals(), by_unit=by_unit, changes=CHANGES
    )
    write_atomically(path, html)
    return path
