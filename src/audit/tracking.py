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

PENDING = "待核实"
CONFIRMED = "属实"
EXCLUDED = "排除"
RECTIFYING = "整改中"
RECTIFIED = "已整改"
CLOSED = "已销号"
STATUSES = (PENDING, CONFIRMED, EXCLUDED, RECTIFYING, RECTIFIED, CLOSED)
"""Every follow-up status, in the order of the cycle."""

IMPORTABLE = (PENDING, CONFIRMED, EXCLUDED, RECTIFYING, RECTIFIED)
"""The statuses an inspector may type into the rectification list (not 已销号)."""

REOPENED = "整改未到位"
"""Shown for a finding marked 已整改 that a later run still finds."""

CLOSABLE = "可销号"
"""Shown for an open finding the latest run no longer finds: ``audit track close`` closes it."""

STATUS_LABELS = {
    "zh": {s: s for s in STATUSES},
    "en": {
        PENDING: "to verify",
        CONFIRMED: "confirmed",
        EXCLUDED: "excluded",
        RECTIFYING: "rectifying",
        RECTIFIED: "rectified",
        CLOSED: "closed",
    },
}
"""How each status is written in a list of each language; both are read back."""
