"""The audit rules: the 30 rules of the catalogue, pure functions over the validated tables.

``run_rules(tables, params, scope="county", county="540102")`` audits one county;
``run_rules(tables, params, scope="city")`` runs the city-wide rules in the roll-up. Each
rule lives in the module of its area (:mod:`~audit.rules.contracts` C1-C9,
:mod:`~audit.rules.staffing` S1-S10, :mod:`~audit.rules.relief` F1-F11) and is registered
in :data:`RULES` by the :func:`rule` decorator.
"""

from __future__ import annotations

from audit.rules import contracts, relief, staffing  # noqa: F401  (importing registers the rules)
from audit.rules.registry import RULES, NotRun, Outcome, Rule, RuleRegistry, rule
from audit.rules.runner import RESULT_COLUMNS, RuleRun, run_rule, run_rules
from audit.rules.tables import Tables

__all__ = [
    "RESULT_COLUMNS",
    "RULES",
    "NotRun",
    "Outcome",
    "Rule",
    "RuleRegistry",
    "RuleRun",
    "Tables",
    "rule",
    "run_rule",
    "run_rules",
]
