"""The words the audit stores and compares: severities, areas, entity types, rule statuses, funds, purposes.

Each word is written once, here, and every module that needs one imports it: the data
contract (allowed funds and purposes), the rule registry and the rules, the findings
register, the inspection facade, the reports, the batch and the commands. Words a reader
sees are labelled in :mod:`audit.i18n` (``severity.high``, ``area.C``, ``status.fired``, ...);
a test keeps both in step. A new word a feature needs (a follow-up status, a new fund) is
added here, not where it is first used.

Nothing here imports from the package, so any module may import this one.
"""

from __future__ import annotations

# --- findings -----------------------------------------------------------------------------------

SEVERITIES: tuple[str, ...] = ("high", "medium", "low", "info")
"""A finding's severity, most serious first."""

SEVERITY_RANK: dict[str, int] = {severity: rank for rank, severity in enumerate(SEVERITIES)}
"""A severity's place in :data:`SEVERITIES`, for sorting (0 is the most serious)."""

AREAS: tuple[str, ...] = ("C", "S", "F")
"""The three audit areas, in reading order: C purchased-service contracts and their funding,
S staff coverage of township offices, F relief-fund use. A rule's id starts with its area."""

AREA_RANK: dict[str, int] = {area: rank for rank, area in enumerate(AREAS)}
"""An area's place in :data:`AREAS`, for sorting."""

AREA_NOTEBOOKS: dict[str, str] = {"contracts": "C", "staffing": "S", "relief": "F"}
"""The area notebooks (by file stem), in reading order, and the area each shows."""

ENTITY_TYPES: tuple[str, ...] = (
    "contract",
    "county",
    "city",
    "office",
    "staff",
    "person",
    "payment",
    "household",
    "account",
    "programme",
    "series",  # a run of document numbers (C11, F19)
)
"""What a finding is about (docs/architecture.md, entity conventions)."""

RULE_STATUSES: tuple[str, ...] = ("fired", "clean", "not_run")
"""How a rule's run on a unit ended: findings, none, or not run (with its reason)."""

# --- money (the data contract's allowed values of fund_allocations and purchase_payments) --------

SPECIAL_FUND = "社会救助专项资金"
"""The social-assistance special fund: relief money, and at most a share of it for purchased services."""
COUNTY_BUDGET = "县级财政"
"""The county's own budget."""
FUNDS: tuple[str, ...] = (SPECIAL_FUND, COUNTY_BUDGET)
"""Where money comes from (``fund``)."""

RELIEF = "救助金"
"""Relief payments to households and persons."""
PURCHASE = "购买服务"
"""Purchased services (the contracts of area C)."""
OTHER_PURPOSE = "其他"
PURPOSES: tuple[str, ...] = (RELIEF, PURCHASE, OTHER_PURPOSE)
"""What money is for (``purpose``)."""

# --- follow-up of findings (audit track; audit.tracking has the transitions) ------------------------

PENDING = "待核实"
"""A new suspect, to verify in the field (what a finding no record names is)."""
CONFIRMED = "属实"
EXCLUDED = "排除"
RECTIFYING = "整改中"
RECTIFIED = "已整改"
CLOSED = "已销号"
FOLLOW_UP_STATUSES: tuple[str, ...] = (PENDING, CONFIRMED, EXCLUDED, RECTIFYING, RECTIFIED, CLOSED)
"""Every follow-up status, in the order of the cycle."""

IMPORTABLE_STATUSES: tuple[str, ...] = (PENDING, CONFIRMED, EXCLUDED, RECTIFYING, RECTIFIED)
"""The statuses an inspector may type into the rectification list (已销号 only by ``audit track close``)."""

REOPENED = "整改未到位"
"""Shown for a finding marked 已整改 that a later run still finds."""
CLOSABLE = "可销号"
"""Shown for an open finding the latest run no longer finds: ``audit track close`` closes it."""

SIGNOFF_LEVELS: tuple[str, ...] = ("经办", "复核", "审定")
"""The levels of sign-off of a report, lowest first: preparer, reviewer, approver."""
